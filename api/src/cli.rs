//! Administration commands behind `adosexo`: bootstrap the first admin,
//! seed demo data, verify and purge the audit trail.

use adosexo_domain::identity::{
    Email, OrganisationKind, Role, Roles, check_account, parse_territory, territory_list,
};
use adosexo_persistence::audit::{self, NewAuditEntry, Verification};
use adosexo_persistence::identity::{self, NewAccount, NewOrganisation};
use adosexo_persistence::{Backend, Db, DbConnection, PersistenceError};
use chrono::{DateTime, Datelike, Utc};

use crate::auth::password;
use crate::auth::secrets::{digest, new_secret};

/// Name of the programme's organisation created by the bootstrap.
pub const PROGRAMME_NAME: &str = "Ado Sexo";

/// Why a command failed (one line).
pub type CommandError = String;

fn db_error(e: PersistenceError) -> CommandError {
    e.to_string()
}

fn cli_entry(action: &str, resource_type: &str, resource_id: &str) -> NewAuditEntry {
    NewAuditEntry {
        actor_id: Some("cli".to_owned()),
        action: action.to_owned(),
        resource_type: resource_type.to_owned(),
        resource_id: Some(resource_id.to_owned()),
        outcome: "success".to_owned(),
        ..Default::default()
    }
}

/// The programme's organisation, created if missing.
fn programme_organisation(
    conn: &mut DbConnection,
    now: DateTime<Utc>,
) -> Result<String, PersistenceError> {
    let existing =
        identity::list_organisations(conn, Some(OrganisationKind::Programme.as_str()), None, 1)?;
    if let Some(org) = existing.into_iter().next() {
        return Ok(org.id);
    }
    let org = identity::insert_organisation(
        conn,
        &NewOrganisation {
            id: uuid::Uuid::now_v7().to_string(),
            name: PROGRAMME_NAME.to_owned(),
            kind: OrganisationKind::Programme.as_str().to_owned(),
            departement_code: "75".to_owned(),
            shares_secrecy: true,
        },
        now,
    )?;
    audit::append(
        conn,
        &[cli_entry("create_organisation", "organisation", &org.id)],
        now,
    )?;
    Ok(org.id)
}

/// Creates an admin account in the programme's organisation (created too
/// if missing). Returns the account id.
pub async fn create_admin(
    db: &Db,
    email: &str,
    display_name: &str,
    secret: &str,
    now: DateTime<Utc>,
) -> Result<String, CommandError> {
    let email = Email::parse(email).map_err(|e| format!("--email: {e}"))?;
    password::check_strength(secret).map_err(|e| format!("password: {e}"))?;
    if display_name.trim().is_empty() {
        return Err("--name: a name is required".to_owned());
    }
    let hash = password::hash(secret)?;
    let display_name = display_name.trim().to_owned();
    db.transaction(move |conn| {
        if identity::find_account_by_email(conn, email.as_str())?.is_some() {
            return Ok(Err(format!(
                "an account with the e-mail {} exists already",
                email.as_str()
            )));
        }
        let organisation_id = programme_organisation(conn, now)?;
        let id = uuid::Uuid::now_v7().to_string();
        identity::insert_account(
            conn,
            &NewAccount {
                id: id.clone(),
                email: email.as_str().to_owned(),
                display_name,
                organisation_id,
                roles: Role::Admin.as_str().to_owned(),
                territory: String::new(),
                password_hash: Some(hash),
            },
            now,
        )?;
        audit::append(conn, &[cli_entry("create_account", "account", &id)], now)?;
        Ok(Ok(id))
    })
    .await
    .map_err(db_error)?
}

/// The demo password of every demo account (documented in the README).
pub const DEMO_PASSWORD: &str = "demo-password-2026";

/// Why `adosexo demo` refuses PostgreSQL by default.
pub const DEMO_ON_POSTGRES: &str = "refusing to seed demo data into PostgreSQL (a production backend); \
     pass --allow-postgres if this database is a test one";

/// What `adosexo demo` created, for printing.
#[derive(Debug)]
pub struct DemoData {
    /// `(role, e-mail)` of each account.
    pub accounts: Vec<(&'static str, String)>,
    /// The partner app's client id and secret.
    pub client: (String, String),
}

/// Seeds one organisation per main kind, one account per role and one
/// partner app. Refused on PostgreSQL unless `allow_postgres`, and when
/// demo data is there already.
pub async fn seed_demo(
    db: &Db,
    allow_postgres: bool,
    now: DateTime<Utc>,
) -> Result<DemoData, CommandError> {
    if db.backend() == Backend::Postgres && !allow_postgres {
        return Err(DEMO_ON_POSTGRES.to_owned());
    }
    let hash = password::hash(DEMO_PASSWORD)?;
    let client_secret = new_secret()?;
    let client_digest = digest(&client_secret);
    db.transaction(move |conn| {
        if identity::find_account_by_email(conn, "admin@adosexo.example")?.is_some() {
            return Ok(Err("demo data is already present".to_owned()));
        }
        let programme = programme_organisation(conn, now)?;
        let mut organisation =
            |name: &str, kind: OrganisationKind, departement: &str, secrecy: bool| {
                let org = identity::insert_organisation(
                    conn,
                    &NewOrganisation {
                        id: uuid::Uuid::now_v7().to_string(),
                        name: name.to_owned(),
                        kind: kind.as_str().to_owned(),
                        departement_code: departement.to_owned(),
                        shares_secrecy: secrecy,
                    },
                    now,
                )?;
                audit::append(
                    conn,
                    &[cli_entry("create_organisation", "organisation", &org.id)],
                    now,
                )?;
                Ok::<_, PersistenceError>(org.id)
            };
        let ase = organisation(
            "ASE Seine-Saint-Denis (démo)",
            OrganisationKind::Ase,
            "93",
            true,
        )?;
        let _pjj = organisation("PJJ Paris (démo)", OrganisationKind::Pjj, "75", true)?;
        let _school = organisation(
            "Collège Jean Moulin (démo)",
            OrganisationKind::School,
            "93",
            false,
        )?;
        let people: [(&'static str, &str, &str, &str, &str); 6] = [
            ("admin", "admin@adosexo.example", "Demo Admin", "admin", ""),
            (
                "supervisor",
                "supervisor@adosexo.example",
                "Demo Supervisor",
                "supervisor",
                "",
            ),
            (
                "coordinator",
                "coordinator@adosexo.example",
                "Demo Coordinator",
                "coordinator",
                "75,93",
            ),
            (
                "regional_referent",
                "referent@adosexo.example",
                "Demo Regional Referent",
                "regional_referent",
                "13",
            ),
            (
                "partner",
                "partner@ase93.example",
                "Demo ASE Worker",
                "partner",
                "",
            ),
            (
                "analyst",
                "analyst@adosexo.example",
                "Demo Analyst",
                "analyst",
                "",
            ),
        ];
        let mut accounts = Vec::new();
        let mut ids = std::collections::HashMap::new();
        for (label, email, name, roles, territory) in people {
            let organisation_id = if label == "partner" {
                ase.clone()
            } else {
                programme.clone()
            };
            let parsed_roles =
                Roles::parse_list(roles).map_err(|e| PersistenceError::Task(e.to_string()))?;
            let parsed_territory =
                parse_territory(territory).map_err(|e| PersistenceError::Task(e.to_string()))?;
            let kind = if label == "partner" {
                OrganisationKind::Ase
            } else {
                OrganisationKind::Programme
            };
            check_account(&parsed_roles, kind, &parsed_territory)
                .map_err(|e| PersistenceError::Task(e.to_string()))?;
            let id = uuid::Uuid::now_v7().to_string();
            identity::insert_account(
                conn,
                &NewAccount {
                    id: id.clone(),
                    email: email.to_owned(),
                    display_name: name.to_owned(),
                    organisation_id,
                    roles: parsed_roles.to_list(),
                    territory: territory_list(&parsed_territory),
                    password_hash: Some(hash.clone()),
                },
                now,
            )?;
            audit::append(conn, &[cli_entry("create_account", "account", &id)], now)?;
            accounts.push((label, email.to_owned()));
            ids.insert(label, id);
        }
        let coordinator = ids.get("coordinator").cloned().unwrap_or_default();
        let referent = ids.get("regional_referent").cloned().unwrap_or_default();
        crate::demo::seed(conn, &coordinator, &referent, now)?;
        let client_id = uuid::Uuid::now_v7().to_string();
        identity::insert_client(
            conn,
            &client_id,
            "ASE 93 referral app (demo)",
            &ase,
            &client_digest,
            "referrals:read referrals:write follow-ups:read events:read",
            now,
        )?;
        audit::append(
            conn,
            &[cli_entry("create_client", "client", &client_id)],
            now,
        )?;
        Ok(Ok(DemoData {
            accounts,
            client: (client_id, client_secret),
        }))
    })
    .await
    .map_err(db_error)?
}

/// Verifies the audit chain: `Ok(count)` or the first broken entry.
pub async fn verify_audit(db: &Db) -> Result<Result<u64, String>, CommandError> {
    let verification = db.run(audit::verify_chain).await.map_err(db_error)?;
    Ok(match verification {
        Verification::Intact { checked } => Ok(checked),
        Verification::Broken(broken) => Err(broken.to_string()),
    })
}

/// Withdraws the statistics releases of `family` (every family when
/// `None`) from the month `from` (`YYYY-MM`) on, in every later year too
/// (a year's stock starts from the previous December): they are computed
/// and frozen again from the data as it stands at the next read. Audited.
/// Returns how many period releases were withdrawn.
pub async fn republish_statistics(
    db: &Db,
    family: Option<&str>,
    from: &str,
    now: DateTime<Utc>,
) -> Result<usize, CommandError> {
    use adosexo_persistence::stats;
    let family = match family {
        Some(name) => Some(
            crate::statistics::Family::from_name(name)
                .ok_or_else(|| {
                    let names: Vec<&str> = crate::statistics::Family::ALL
                        .iter()
                        .map(|f| f.name())
                        .collect();
                    format!("--family: one of {}", names.join(", "))
                })?
                .name(),
        ),
        None => None,
    };
    let month = chrono::NaiveDate::parse_from_str(&format!("{from}-01"), "%Y-%m-%d")
        .map_err(|_| "--from: a month, YYYY-MM".to_owned())?;
    let first_year = month.year();
    let last_year = now.year();
    let from = from.to_owned();
    db.transaction(move |conn| {
        let mut withdrawn = 0;
        for year in first_year..=last_year.max(first_year) {
            let start = if year == first_year {
                from.clone()
            } else {
                format!("{year:04}-01")
            };
            withdrawn += stats::withdraw_releases(conn, family, &start)?;
        }
        audit::append(
            conn,
            &[cli_entry(
                "republish_statistics",
                "statistics",
                &format!("{} from {from}", family.unwrap_or("all")),
            )],
            now,
        )?;
        Ok(withdrawn)
    })
    .await
    .map_err(db_error)
}

/// Computes and freezes the statistics releases of `family` (every family
/// when `None`) for the years `from..=to` now, as the server does every
/// night for the previous and the current year; audited. Returns each
/// family-year with the seconds it took.
pub async fn publish_statistics(
    publisher: &crate::statistics::Publisher,
    family: Option<&str>,
    from: i32,
    to: i32,
) -> Result<Vec<(&'static str, i32, f64)>, CommandError> {
    use crate::statistics::Family;
    let families: Vec<Family> = match family {
        Some(name) => vec![Family::from_name(name).ok_or_else(|| {
            let names: Vec<&str> = Family::ALL.iter().map(|f| f.name()).collect();
            format!("--family: one of {}", names.join(", "))
        })?],
        None => Family::ALL.to_vec(),
    };
    if from > to {
        return Err(format!("--from {from} is after --to {to}"));
    }
    let done = crate::statistics::publish(publisher, &families, from, to)
        .await
        .map_err(|e| format!("{e:?}"))?;
    let now = publisher.clock.now();
    let what = format!("{} {from}-{to}", family.unwrap_or("all"));
    publisher
        .db
        .transaction(move |conn| {
            audit::append(
                conn,
                &[cli_entry("publish_statistics", "statistics", &what)],
                now,
            )
        })
        .await
        .map_err(db_error)?;
    Ok(done
        .into_iter()
        .map(|(family, year, seconds)| (family.name(), year, seconds))
        .collect())
}

/// Deletes audit entries older than the retention; the chain stays verifiable.
pub async fn purge_audit(
    db: &Db,
    retention_days: u32,
    now: DateTime<Utc>,
) -> Result<usize, CommandError> {
    let before = now - chrono::Duration::days(i64::from(retention_days));
    db.run(move |conn| audit::purge_before(conn, before))
        .await
        .map_err(db_error)
}

/// Re-seals every note not sealed with the current notes key (after adding a
/// new key and making it current). Returns how many were re-sealed.
pub async fn rotate_notes(db: &Db, keys: &crate::crypto::NotesKeys) -> Result<usize, CommandError> {
    use adosexo_persistence::cases;
    let mut total = 0;
    loop {
        let keys = keys.clone();
        let done = db
            .transaction(move |conn| {
                let batch = cases::notes_not_sealed_with(conn, keys.current_id(), 200)?;
                for note in &batch {
                    let context =
                        crate::routes::followups::note_context(&note.id, &note.follow_up_id);
                    let sealed = crate::crypto::Sealed {
                        key_id: note.key_id.clone(),
                        nonce: note.nonce.clone(),
                        ciphertext: note.ciphertext.clone(),
                    };
                    let plain = keys
                        .open(&sealed, &context)
                        .map_err(PersistenceError::Task)?;
                    let resealed = keys
                        .seal(&plain, &context)
                        .map_err(PersistenceError::Task)?;
                    cases::reseal_note(
                        conn,
                        &note.id,
                        &resealed.key_id,
                        &resealed.nonce,
                        &resealed.ciphertext,
                    )?;
                }
                Ok::<_, PersistenceError>(batch.len())
            })
            .await
            .map_err(db_error)?;
        total += done;
        if done == 0 {
            return Ok(total);
        }
    }
}

/// `adosexo jobs run majority`: records the lapse of parents' consents of
/// young people who turned 18 and lists what must be re-collected.
pub async fn run_majority(
    db: &Db,
    now: DateTime<Utc>,
) -> Result<crate::routes::consents::MajorityReport, CommandError> {
    crate::routes::consents::run_majority(db, now)
        .await
        .map_err(|e| e.to_string())
}
