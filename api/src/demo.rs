//! The public part of the demo data: the programme's permanence sites (the
//! two historical ones, Meaux and Melun, then 12 more in Île-de-France and
//! 12 in the regions, at real towns' coordinates) with their permanences,
//! the contacts listed on the programme's page, and a few directory
//! entries.

use adosexo_domain::public::{NATIONAL, search_key};
use adosexo_domain::schedule::ScheduleStatus;
use adosexo_domain::schedule::recurrence::Recurrence;
use adosexo_domain::schedule::series::PartOfDay;
use adosexo_persistence::public::{self, ContactRow, DirectoryRow};
use adosexo_persistence::schedule::{self, PermanenceRow, SiteRow};
use adosexo_persistence::time::to_db;
use adosexo_persistence::{DbConnection, PersistenceError};
use chrono::{DateTime, Utc};

/// `(name, kind, address, postcode, city, département, latitude, longitude, rule, part of day)`.
type DemoSite = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    f64,
    f64,
    &'static str,
    PartOfDay,
);

/// Île-de-France: held by the Paris team's coordinator.
const ILE_DE_FRANCE: [DemoSite; 14] = [
    (
        "Maison des adolescents de Meaux",
        "youth_centre",
        "12 rue Cornillon",
        "77100",
        "Meaux",
        "77",
        48.9601,
        2.8788,
        "FREQ=MONTHLY;BYDAY=2TU",
        PartOfDay::Afternoon,
    ),
    (
        "Centre de santé sexuelle de Melun",
        "health_centre",
        "4 rue Saint-Barthélemy",
        "77000",
        "Melun",
        "77",
        48.5421,
        2.6554,
        "FREQ=MONTHLY;BYDAY=3TH",
        PartOfDay::Full,
    ),
    (
        "Point accueil écoute jeunes Paris 18e",
        "youth_centre",
        "5 rue Ordener",
        "75018",
        "Paris",
        "75",
        48.8925,
        2.3444,
        "FREQ=WEEKLY;BYDAY=WE",
        PartOfDay::Afternoon,
    ),
    (
        "Mission locale Paris 13e",
        "association",
        "22 rue Jeanne d'Arc",
        "75013",
        "Paris",
        "75",
        48.8322,
        2.3561,
        "FREQ=WEEKLY;INTERVAL=2;BYDAY=MO",
        PartOfDay::Morning,
    ),
    (
        "Maison des adolescents de Saint-Denis",
        "youth_centre",
        "8 rue de la République",
        "93200",
        "Saint-Denis",
        "93",
        48.9362,
        2.3574,
        "FREQ=WEEKLY;BYDAY=TU",
        PartOfDay::Full,
    ),
    (
        "PMI de Bobigny",
        "health_centre",
        "1 avenue Karl Marx",
        "93000",
        "Bobigny",
        "93",
        48.9077,
        2.4397,
        "FREQ=MONTHLY;BYDAY=1FR",
        PartOfDay::Morning,
    ),
    (
        "Centre information jeunesse de Montreuil",
        "youth_centre",
        "60 rue Franklin",
        "93100",
        "Montreuil",
        "93",
        48.8638,
        2.4485,
        "FREQ=MONTHLY;BYDAY=-1WE",
        PartOfDay::Afternoon,
    ),
    (
        "Maison des adolescents de Nanterre",
        "youth_centre",
        "3 rue des Anciennes-Mairies",
        "92000",
        "Nanterre",
        "92",
        48.8924,
        2.2071,
        "FREQ=MONTHLY;BYDAY=2TH",
        PartOfDay::Afternoon,
    ),
    (
        "Mission locale de Boulogne-Billancourt",
        "association",
        "20 rue de Paris",
        "92100",
        "Boulogne-Billancourt",
        "92",
        48.8397,
        2.2399,
        "FREQ=MONTHLY;BYDAY=4MO",
        PartOfDay::Morning,
    ),
    (
        "Maison des adolescents de Versailles",
        "youth_centre",
        "14 rue de la Paroisse",
        "78000",
        "Versailles",
        "78",
        48.8049,
        2.1204,
        "FREQ=MONTHLY;BYDAY=1WE",
        PartOfDay::Full,
    ),
    (
        "Centre de santé sexuelle de Créteil",
        "health_centre",
        "40 avenue du Général de Gaulle",
        "94000",
        "Créteil",
        "94",
        48.7904,
        2.4556,
        "FREQ=WEEKLY;INTERVAL=2;BYDAY=TH",
        PartOfDay::Afternoon,
    ),
    (
        "Maison des adolescents d'Évry",
        "youth_centre",
        "2 cours Blaise Pascal",
        "91000",
        "Évry-Courcouronnes",
        "91",
        48.6290,
        2.4410,
        "FREQ=MONTHLY;BYDAY=3MO",
        PartOfDay::Afternoon,
    ),
    (
        "Point accueil écoute jeunes de Cergy",
        "youth_centre",
        "1 place des Arts",
        "95000",
        "Cergy",
        "95",
        49.0364,
        2.0761,
        "FREQ=MONTHLY;BYDAY=2FR",
        PartOfDay::Morning,
    ),
    (
        "Mission locale d'Argenteuil",
        "association",
        "18 boulevard Héloïse",
        "95100",
        "Argenteuil",
        "95",
        48.9472,
        2.2467,
        "FREQ=MONTHLY;BYDAY=4WE",
        PartOfDay::Afternoon,
    ),
];

/// The regions: held by a regional referent under a partnership agreement.
const REGIONS: [DemoSite; 12] = [
    (
        "Maison des adolescents de Marseille",
        "youth_centre",
        "10 rue Sainte-Victoire",
        "13006",
        "Marseille",
        "13",
        43.2965,
        5.3698,
        "FREQ=WEEKLY;BYDAY=WE",
        PartOfDay::Afternoon,
    ),
    (
        "Maison des adolescents de Lyon",
        "youth_centre",
        "25 rue Pierre Corneille",
        "69006",
        "Lyon",
        "69",
        45.7640,
        4.8357,
        "FREQ=MONTHLY;BYDAY=1TU",
        PartOfDay::Full,
    ),
    (
        "Maison des adolescents de Lille",
        "youth_centre",
        "7 rue de Tournai",
        "59000",
        "Lille",
        "59",
        50.6292,
        3.0573,
        "FREQ=MONTHLY;BYDAY=2WE",
        PartOfDay::Afternoon,
    ),
    (
        "Centre de santé sexuelle de Bordeaux",
        "health_centre",
        "3 cours de l'Intendance",
        "33000",
        "Bordeaux",
        "33",
        44.8378,
        -0.5792,
        "FREQ=MONTHLY;BYDAY=3TU",
        PartOfDay::Morning,
    ),
    (
        "Maison des adolescents de Toulouse",
        "youth_centre",
        "16 rue Riquet",
        "31000",
        "Toulouse",
        "31",
        43.6047,
        1.4442,
        "FREQ=MONTHLY;BYDAY=1TH",
        PartOfDay::Afternoon,
    ),
    (
        "Mission locale de Nantes",
        "association",
        "2 rue de Strasbourg",
        "44000",
        "Nantes",
        "44",
        47.2184,
        -1.5536,
        "FREQ=MONTHLY;BYDAY=2MO",
        PartOfDay::Full,
    ),
    (
        "Maison des adolescents de Strasbourg",
        "youth_centre",
        "23 rue de la Porte de l'Hôpital",
        "67000",
        "Strasbourg",
        "67",
        48.5734,
        7.7521,
        "FREQ=MONTHLY;BYDAY=4TH",
        PartOfDay::Afternoon,
    ),
    (
        "Centre information jeunesse de Montpellier",
        "youth_centre",
        "6 rue Maguelone",
        "34000",
        "Montpellier",
        "34",
        43.6119,
        3.8772,
        "FREQ=MONTHLY;BYDAY=-1FR",
        PartOfDay::Morning,
    ),
    (
        "Maison des adolescents de Rennes",
        "youth_centre",
        "10 rue de la Visitation",
        "35000",
        "Rennes",
        "35",
        48.1173,
        -1.6778,
        "FREQ=MONTHLY;BYDAY=3WE",
        PartOfDay::Afternoon,
    ),
    (
        "Maison des adolescents de Nice",
        "youth_centre",
        "4 avenue Jean Médecin",
        "06000",
        "Nice",
        "06",
        43.7102,
        7.2620,
        "FREQ=MONTHLY;BYDAY=2TU",
        PartOfDay::Full,
    ),
    (
        "Centre de santé sexuelle de Rouen",
        "health_centre",
        "15 rue du Gros-Horloge",
        "76000",
        "Rouen",
        "76",
        49.4432,
        1.0999,
        "FREQ=MONTHLY;BYDAY=1MO",
        PartOfDay::Afternoon,
    ),
    (
        "Maison des adolescents de Grenoble",
        "youth_centre",
        "9 boulevard Gambetta",
        "38000",
        "Grenoble",
        "38",
        45.1885,
        5.7245,
        "FREQ=MONTHLY;BYDAY=4TU",
        PartOfDay::Morning,
    ),
];

/// The contacts on the programme's page: `(scope, team, e-mail, phone)`.
pub const CONTACTS: [(&str, &str, &str, &str); 8] = [
    (
        NATIONAL,
        "Ado Sexo (ACPE)",
        "adosexo@acpe-asso.org",
        "06 70 16 89 68",
    ),
    (
        "75",
        "Ado Sexo Paris, Seine-Saint-Denis, Hauts-de-Seine, Yvelines",
        "adosexo75@acpe-asso.org",
        "06 56 67 39 70",
    ),
    (
        "93",
        "Ado Sexo Paris, Seine-Saint-Denis, Hauts-de-Seine, Yvelines",
        "adosexo75@acpe-asso.org",
        "06 56 67 39 70",
    ),
    (
        "92",
        "Ado Sexo Paris, Seine-Saint-Denis, Hauts-de-Seine, Yvelines",
        "adosexo75@acpe-asso.org",
        "06 56 67 39 70",
    ),
    (
        "78",
        "Ado Sexo Paris, Seine-Saint-Denis, Hauts-de-Seine, Yvelines",
        "adosexo75@acpe-asso.org",
        "06 56 67 39 70",
    ),
    (
        "77",
        "Ado Sexo Seine-et-Marne",
        "adosexo77@acpe-asso.org",
        "07 52 08 91 68",
    ),
    (
        "94",
        "Ado Sexo Val-de-Marne",
        "adosexo94@acpe-asso.org",
        "06 56 67 39 70",
    ),
    (
        "95",
        "Ado Sexo Val-d'Oise",
        "adosexo95@acpe-asso.org",
        "07 52 08 31 65",
    ),
];

/// `(name, organisation, category, national or départements, phone, website)`.
type DemoEntry = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    Option<&'static str>,
    Option<&'static str>,
);

const DIRECTORY: [DemoEntry; 6] = [
    (
        "119 Allô Enfance en Danger",
        "Service national d'accueil téléphonique de l'enfance en danger",
        "helpline",
        "",
        Some("119"),
        Some("https://www.allo119.gouv.fr"),
    ),
    (
        "Fil Santé Jeunes",
        "École des parents et des éducateurs",
        "helpline",
        "",
        Some("0 800 235 236"),
        Some("https://www.filsantejeunes.com"),
    ),
    (
        "Maison des adolescents de Seine-Saint-Denis (démo)",
        "Département de la Seine-Saint-Denis",
        "health",
        "93",
        None,
        None,
    ),
    (
        "Point d'accès au droit des jeunes (démo)",
        "Conseil départemental de l'accès au droit",
        "legal_aid",
        "93,75",
        None,
        None,
    ),
    (
        "Avocats pour enfants (démo)",
        "Barreau de Paris",
        "lawyer",
        "75,92,93,94",
        None,
        None,
    ),
    (
        "Consultation de psychotrauma (démo)",
        "Centre hospitalier",
        "psychologist",
        "77",
        None,
        None,
    ),
];

/// Seeds sites, permanences (from `now`'s date), contacts and directory
/// entries. `idf_staff` holds the Île-de-France permanences, `regional_staff`
/// the others.
pub fn seed(
    conn: &mut DbConnection,
    idf_staff: &str,
    regional_staff: &str,
    now: DateTime<Utc>,
) -> Result<(), PersistenceError> {
    let today = now.date_naive();
    for (sites, staff) in [
        (&ILE_DE_FRANCE[..], idf_staff),
        (&REGIONS[..], regional_staff),
    ] {
        for (name, kind, address, postcode, city, departement, latitude, longitude, rule, part) in
            sites.iter().copied()
        {
            let site_id = uuid::Uuid::now_v7().to_string();
            schedule::insert_site(
                conn,
                &SiteRow {
                    id: site_id.clone(),
                    name: name.to_owned(),
                    kind: kind.to_owned(),
                    address: address.to_owned(),
                    postcode: postcode.to_owned(),
                    city: city.to_owned(),
                    departement_code: departement.to_owned(),
                    latitude,
                    longitude,
                    host_organisation_id: None,
                    public: true,
                    accessibility: Some("Accessible en fauteuil roulant".to_owned()),
                    status: ScheduleStatus::Active.as_str().to_owned(),
                    version: 1,
                    created_at: to_db(now),
                    updated_at: to_db(now),
                },
            )?;
            let recurrence = Recurrence::parse(rule, today)
                .map_err(|e| PersistenceError::Task(format!("demo rule {rule}: {e}")))?;
            let span = part
                .default_span()
                .ok_or_else(|| PersistenceError::Task("demo part of day".to_owned()))?;
            schedule::insert_permanence(
                conn,
                &PermanenceRow {
                    id: uuid::Uuid::now_v7().to_string(),
                    site_id,
                    title: format!("Permanence Ado Sexo — {city}"),
                    rrule: recurrence.to_rule_string(),
                    dtstart: today.format("%Y-%m-%d").to_string(),
                    last_date: None,
                    part_of_day: part.as_str().to_owned(),
                    start_time: span.start().format("%H:%M").to_string(),
                    end_time: span.end().format("%H:%M").to_string(),
                    audience: "all".to_owned(),
                    status: ScheduleStatus::Active.as_str().to_owned(),
                    follows_id: None,
                    version: 1,
                    created_at: to_db(now),
                    updated_at: to_db(now),
                },
                &[staff.to_owned()],
            )?;
        }
    }
    for (scope, team, email, phone) in CONTACTS {
        public::put_contact(
            conn,
            &ContactRow {
                scope: scope.to_owned(),
                team: team.to_owned(),
                email: email.to_owned(),
                phone: phone.to_owned(),
                updated_at: to_db(now),
            },
        )?;
    }
    for (name, organisation, category, departements, phone, website) in DIRECTORY {
        public::insert_entry(
            conn,
            &DirectoryRow {
                id: uuid::Uuid::now_v7().to_string(),
                name: name.to_owned(),
                organisation: Some(organisation.to_owned()),
                category: category.to_owned(),
                national: departements.is_empty(),
                departements: departements.to_owned(),
                address: None,
                phone: phone.map(str::to_owned),
                email: None,
                website: website.map(str::to_owned),
                last_verified: Some(today.format("%Y-%m-%d").to_string()),
                search_key: search_key(&format!("{name} {organisation} {departements}")),
                version: 1,
                created_at: to_db(now),
                updated_at: to_db(now),
            },
        )?;
    }
    Ok(())
}
