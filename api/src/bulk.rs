//! Volume data for benchmarks: `adosexo demo --scale N --seed S`.
//!
//! At scale 1: 50 sites, 40 staff, 300 partner organisations, 100 000
//! referrals (and their young people), 60 000 follow-ups, 1 000 000
//! appointments and 20 000 group sessions over the ten calendar years ending
//! with the current one. Everything derives from the seed (and the day:
//! past appointments are completed, future ones scheduled), so two runs with
//! the same seed on the same day give the same rows, ids included.
//!
//! Rows go in with multi-row `INSERT`s inside a few big transactions. The
//! schema's invariants hold: each staff member's bookings never overlap
//! (they are laid on a per-staff grid of slots, and inserted latest first so
//! SQLite's overlap trigger has nothing to scan), and reference counters are
//! moved past the generated references. Generated rows are not audited (no
//! one accessed anything); the audit chain is left untouched and verifies.

use std::collections::HashMap;
use std::fmt::Write as _;

use adosexo_domain::referral::{human_reference, name_key};
use adosexo_persistence::{Backend, Db, DbConnection, PersistenceError, execute_script};
use adosexo_persistence::{identity, schedule};
use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveDateTime, Timelike, Utc};

use crate::cli::CommandError;

/// How many rows of each kind a scale gives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Volumes {
    pub sites: usize,
    pub staff: usize,
    pub organisations: usize,
    pub referrals: usize,
    pub follow_ups: usize,
    pub appointments: usize,
    pub group_sessions: usize,
}

impl Volumes {
    /// The volumes of `scale` (1 = a ten-year programme).
    pub fn at(scale: f64) -> Self {
        let n = |base: f64, min: usize| -> usize {
            let v = (base * scale).round();
            if v.is_finite() && v > 0.0 {
                // Bounded by the base volumes times the scale the CLI accepts.
                (v as usize).max(min)
            } else {
                min
            }
        };
        let referrals = n(100_000.0, 1);
        Self {
            sites: n(50.0, 1),
            staff: n(40.0, 2),
            organisations: n(300.0, 1),
            referrals,
            follow_ups: n(60_000.0, 0).min(referrals),
            appointments: n(1_000_000.0, 0),
            group_sessions: n(20_000.0, 0),
        }
    }
}

/// The demo's own sites (26) count towards [`Volumes::sites`].
const DEMO_SITES: usize = 26;

/// Rows per `INSERT` statement.
const BATCH: usize = 500;

/// SplitMix64: small, fast and stable across platforms and versions.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (`n > 0`).
    fn below(&mut self, n: usize) -> usize {
        let n = n.max(1) as u64;
        (self.next() % n) as usize
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items.get(self.below(items.len())).copied().unwrap_or("")
    }

    /// Picks by weight: `(value, weight)`.
    fn weighted<'a>(&mut self, items: &[(&'a str, usize)]) -> &'a str {
        let total: usize = items.iter().map(|(_, w)| w).sum();
        let mut roll = self.below(total);
        for (value, weight) in items {
            if roll < *weight {
                return value;
            }
            roll -= weight;
        }
        ""
    }

    fn uuid(&mut self) -> String {
        let (a, b) = (self.next(), self.next());
        let bytes = ((u128::from(a) << 64) | u128::from(b)).to_be_bytes();
        uuid::Builder::from_random_bytes(bytes)
            .into_uuid()
            .to_string()
    }
}

/// One SQL literal.
enum V {
    T(String),
    S(&'static str),
    N,
    I(i64),
    F(f64),
    B(bool),
    At(NaiveDateTime),
}

fn opt(value: Option<String>) -> V {
    value.map_or(V::N, V::T)
}

/// Multi-row `INSERT`s of one table; the caller flushes (parents first).
struct Batch {
    postgres: bool,
    head: String,
    sql: String,
    rows: usize,
    total: usize,
}

impl Batch {
    fn new(postgres: bool, table: &str, columns: &str) -> Self {
        Self {
            postgres,
            head: format!("INSERT INTO {table} ({columns}) VALUES "),
            sql: String::new(),
            rows: 0,
            total: 0,
        }
    }

    fn row(&mut self, values: &[V]) {
        if self.rows == 0 {
            self.sql.clear();
            self.sql.push_str(&self.head);
        } else {
            self.sql.push(',');
        }
        self.sql.push('(');
        for (i, value) in values.iter().enumerate() {
            if i > 0 {
                self.sql.push(',');
            }
            let _ = match value {
                V::T(text) => write!(self.sql, "'{}'", text.replace('\'', "''")),
                V::S(text) => write!(self.sql, "'{}'", text.replace('\'', "''")),
                V::N => write!(self.sql, "NULL"),
                V::I(n) => write!(self.sql, "{n}"),
                V::F(f) => write!(self.sql, "{f:.6}"),
                V::B(b) => match (self.postgres, b) {
                    (true, true) => write!(self.sql, "TRUE"),
                    (true, false) => write!(self.sql, "FALSE"),
                    (false, true) => write!(self.sql, "1"),
                    (false, false) => write!(self.sql, "0"),
                },
                // Whole seconds: the text diesel writes on SQLite too.
                V::At(at) => write!(self.sql, "'{}'", at.format("%Y-%m-%d %H:%M:%S")),
            };
        }
        self.sql.push(')');
        self.rows += 1;
        self.total += 1;
    }

    fn flush(&mut self, conn: &mut DbConnection) -> Result<(), PersistenceError> {
        if self.rows > 0 {
            execute_script(conn, &self.sql)?;
            self.rows = 0;
        }
        Ok(())
    }

    /// Flushes once [`BATCH`] rows wait.
    fn maybe_flush(&mut self, conn: &mut DbConnection) -> Result<(), PersistenceError> {
        if self.rows >= BATCH {
            self.flush(conn)?;
        }
        Ok(())
    }
}

const DEPARTEMENTS: [(&str, usize); 20] = [
    ("75", 14),
    ("93", 12),
    ("77", 8),
    ("92", 7),
    ("94", 7),
    ("95", 6),
    ("78", 6),
    ("91", 6),
    ("13", 5),
    ("69", 4),
    ("59", 4),
    ("33", 3),
    ("31", 3),
    ("44", 2),
    ("67", 2),
    ("34", 2),
    ("35", 2),
    ("06", 2),
    ("76", 2),
    ("38", 2),
];

const FIRST_NAMES: [&str; 24] = [
    "Inès", "Lina", "Sarah", "Jade", "Léa", "Chloé", "Manon", "Yasmine", "Emma", "Camille", "Aya",
    "Nour", "Lucas", "Adam", "Nolan", "Rayan", "Enzo", "Mehdi", "Louis", "Hugo", "Kenza", "Maëlys",
    "Océane", "Zoé",
];
const LAST_NAMES: [&str; 16] = [
    "Martin", "Bernard", "Dubois", "Thomas", "Robert", "Petit", "Durand", "Leroy", "Moreau",
    "Simon", "Laurent", "Lefebvre", "Michel", "Garcia", "Diallo", "Traoré",
];
const RISKS: [&str; 11] = [
    "runaway",
    "online_exposure",
    "older_partner",
    "money_or_gifts",
    "hotel_or_rental_stays",
    "school_dropout",
    "substance_use",
    "sexual_violence_history",
    "peer_recruitment",
    "unexplained_belongings",
    "control_by_third_party",
];
const ORG_KINDS: [&str; 9] = [
    "ase",
    "pjj",
    "school",
    "health",
    "association",
    "police",
    "justice",
    "youth_information",
    "other",
];

/// What was generated, by table.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Generated {
    pub counts: Vec<(&'static str, usize)>,
}

impl Generated {
    fn add(&mut self, table: &'static str, count: usize) {
        self.counts.push((table, count));
    }

    /// How many rows of `table`.
    pub fn of(&self, table: &str) -> usize {
        self.counts
            .iter()
            .filter(|(t, _)| *t == table)
            .map(|(_, n)| n)
            .sum()
    }
}

fn at(day: NaiveDate, minutes: i64) -> NaiveDateTime {
    day.and_time(chrono::NaiveTime::MIN) + Duration::minutes(minutes)
}

/// Generates the volumes of `scale` from `seed` next to the demo data
/// (which must be there: the programme's organisation). `now` decides
/// which appointments are past.
pub async fn generate(
    db: &Db,
    scale: f64,
    seed: u64,
    now: DateTime<Utc>,
) -> Result<Generated, CommandError> {
    if !(scale > 0.0 && scale <= 100.0) {
        return Err("--scale: from 0 (excluded) to 100".to_owned());
    }
    let volumes = Volumes::at(scale);
    let postgres = db.backend() == Backend::Postgres;
    db.transaction(move |conn| generate_in(conn, volumes, seed, now, postgres))
        .await
        .map_err(|e: PersistenceError| e.to_string())
}

struct FollowUp {
    id: String,
    person_id: String,
    referral_id: String,
    departement: &'static str,
}

/// Flushes `batches` in order (parents before children), then counts.
fn flush_all(conn: &mut DbConnection, batches: &mut [&mut Batch]) -> Result<(), PersistenceError> {
    for batch in batches.iter_mut() {
        batch.flush(conn)?;
    }
    Ok(())
}

fn generate_in(
    conn: &mut DbConnection,
    v: Volumes,
    seed: u64,
    now: DateTime<Utc>,
    postgres: bool,
) -> Result<Generated, PersistenceError> {
    let mut rng = Rng(seed ^ 0xA505_E40A_D05E_0000);
    let mut out = Generated::default();
    let programme = identity::list_organisations(conn, Some("programme"), None, 1)?
        .into_iter()
        .next()
        .map(|o| o.id)
        .ok_or_else(|| {
            PersistenceError::Task("no programme organisation: seed the demo first".to_owned())
        })?;
    let last_year = now.year();
    let first_day = NaiveDate::from_ymd_opt(last_year - 9, 1, 1)
        .ok_or_else(|| PersistenceError::Task("year out of range".to_owned()))?;
    let last_day = NaiveDate::from_ymd_opt(last_year, 12, 31)
        .ok_or_else(|| PersistenceError::Task("year out of range".to_owned()))?;
    let days = (last_day - first_day).num_days() + 1;
    let created = at(first_day, 0);
    let now_db = now
        .naive_utc()
        .with_nanosecond(0)
        .unwrap_or(now.naive_utc());
    // Referrals arrive until now.
    let referral_span = (now_db - created).num_minutes().max(1);

    // Partner organisations.
    let mut orgs = Vec::with_capacity(v.organisations);
    {
        let mut batch = Batch::new(
            postgres,
            "organisations",
            "id, name, kind, departement_code, shares_secrecy, status, version, created_at, updated_at",
        );
        for i in 0..v.organisations {
            let id = rng.uuid();
            let kind = rng.pick(&ORG_KINDS);
            let dep = rng.weighted(&DEPARTEMENTS);
            batch.row(&[
                V::T(id.clone()),
                V::T(format!("Partenaire {kind} {dep} n°{}", i + 1)),
                V::S(kind),
                V::S(dep),
                V::B(matches!(kind, "ase" | "pjj" | "health")),
                V::S("active"),
                V::I(1),
                V::At(created),
                V::At(created),
            ]);
            batch.maybe_flush(conn)?;
            orgs.push(id);
        }
        batch.flush(conn)?;
        out.add("organisations", batch.total);
    }

    // Staff of the programme (they cannot sign in: no password).
    let mut staff: Vec<String> = Vec::with_capacity(v.staff);
    {
        let mut batch = Batch::new(
            postgres,
            "accounts",
            "id, email, display_name, organisation_id, roles, territory, status, password_hash, \
             totp_secret, totp_enabled, version, created_at, updated_at",
        );
        for i in 0..v.staff {
            let id = rng.uuid();
            let dep = rng.weighted(&DEPARTEMENTS);
            batch.row(&[
                V::T(id.clone()),
                V::T(format!("staff{}@bulk.adosexo.example", i + 1)),
                V::T(format!(
                    "{} {}",
                    rng.pick(&FIRST_NAMES),
                    rng.pick(&LAST_NAMES)
                )),
                V::T(programme.clone()),
                V::S("coordinator"),
                V::S(dep),
                V::S("active"),
                V::N,
                V::N,
                V::B(false),
                V::I(1),
                V::At(created),
                V::At(created),
            ]);
            batch.maybe_flush(conn)?;
            staff.push(id);
        }
        batch.flush(conn)?;
        out.add("accounts", batch.total);
    }
    let any_staff = |rng: &mut Rng| -> String {
        staff
            .get(rng.below(staff.len()))
            .cloned()
            .unwrap_or_default()
    };

    // Sites beyond the demo's, each with a weekly permanence held by staff;
    // the demo's permanences get a generated staff member too (so that
    // availability meets ten years of bookings).
    {
        let existing = schedule::list_permanences(
            conn,
            &schedule::PermanenceFilter {
                limit: 1000,
                ..schedule::PermanenceFilter::default()
            },
        )?;
        let mut batch = Batch::new(postgres, "permanence_staff", "permanence_id, account_id");
        for (i, perm) in existing.iter().enumerate() {
            let who = staff
                .get(i % staff.len().max(1))
                .cloned()
                .unwrap_or_default();
            batch.row(&[V::T(perm.id.clone()), V::T(who)]);
        }
        batch.flush(conn)?;
        out.add("permanence_staff", batch.total);
    }
    {
        let mut sites = Batch::new(
            postgres,
            "sites",
            "id, name, kind, address, postcode, city, departement_code, latitude, longitude, \
             host_organisation_id, public, accessibility, status, version, created_at, updated_at",
        );
        let mut perms = Batch::new(
            postgres,
            "permanences",
            "id, site_id, title, rrule, dtstart, last_date, part_of_day, start_time, end_time, \
             audience, status, follows_id, version, created_at, updated_at",
        );
        let mut perm_staff = Batch::new(postgres, "permanence_staff", "permanence_id, account_id");
        for i in 0..v.sites.saturating_sub(DEMO_SITES) {
            let id = rng.uuid();
            let dep = rng.weighted(&DEPARTEMENTS);
            sites.row(&[
                V::T(id.clone()),
                V::T(format!("Lieu d'accueil n°{} ({dep})", i + 1)),
                V::S("youth_centre"),
                V::T(format!("{} rue de la République", 1 + rng.below(120))),
                V::T(format!("{dep}{:03}", 100 + rng.below(800))),
                V::T(format!("Commune {dep}-{}", i + 1)),
                V::S(dep),
                V::F(43.0 + rng.below(7000) as f64 / 1000.0),
                V::F(-1.0 + rng.below(8000) as f64 / 1000.0),
                V::N,
                V::B(true),
                V::N,
                V::S("active"),
                V::I(1),
                V::At(created),
                V::At(created),
            ]);
            let perm = rng.uuid();
            let day = ["MO", "TU", "WE", "TH", "FR"]
                .get(i % 5)
                .copied()
                .unwrap_or("MO");
            perms.row(&[
                V::T(perm.clone()),
                V::T(id),
                V::T(format!("Permanence Ado Sexo n°{}", i + 1)),
                V::T(format!("FREQ=WEEKLY;BYDAY={day}")),
                V::T(first_day.format("%Y-%m-%d").to_string()),
                V::N,
                V::S("afternoon"),
                V::S("14:00"),
                V::S("18:00"),
                V::S("all"),
                V::S("active"),
                V::N,
                V::I(1),
                V::At(created),
                V::At(created),
            ]);
            for k in 0..2 {
                let who = staff
                    .get((2 * i + k) % staff.len().max(1))
                    .cloned()
                    .unwrap_or_default();
                perm_staff.row(&[V::T(perm.clone()), V::T(who)]);
            }
        }
        flush_all(conn, &mut [&mut sites, &mut perms, &mut perm_staff])?;
        out.add("sites", sites.total);
        out.add("permanences", perms.total);
        out.add("permanence_staff", perm_staff.total);
    }

    // Young people and their referrals, oldest first; a follow-up opens on
    // an evenly spread set of accepted referrals.
    let mut follow_ups: Vec<FollowUp> = Vec::with_capacity(v.follow_ups);
    {
        let mut ori: HashMap<i32, i64> = HashMap::new();
        let mut sui: HashMap<i32, i64> = HashMap::new();
        let mut people = Batch::new(
            postgres,
            "people",
            "id, kind, first_name, last_name, name_key, birth_date, birth_year, gender, \
             departement_code, placement, measure, relationship, parental_authority, \
             organisation_name, professional_role, contact, created_at, updated_at",
        );
        let mut fus = Batch::new(
            postgres,
            "follow_ups",
            "id, reference, person_id, departement_code, lead_staff_id, status, closure_reason, \
             measure_kind, measure_start, measure_end, version, created_at, updated_at",
        );
        let mut fu_staff = Batch::new(postgres, "follow_up_staff", "follow_up_id, account_id");
        let mut referrals = Batch::new(
            postgres,
            "referrals",
            "id, reference, public, context, source_kind, source_organisation_id, referrer_name, \
             referrer_contact, submitted_by_id, submitted_by_kind, person_id, departement_code, \
             risk_indicators, summary, urgency, status, decision_reason, redirected_to, \
             lead_staff_id, follow_up_id, protection_required, protection_due_at, protection_kind, \
             protection_details, protection_on, protection_recorded_at, version, created_at, updated_at",
        );
        let mut events = Batch::new(
            postgres,
            "referral_events",
            "id, referral_id, at, actor_id, actor_kind, action, from_status, to_status, reason",
        );
        let step = (referral_span / v.referrals as i64).max(1);
        for i in 0..v.referrals {
            let created_at =
                created + Duration::minutes(step * i as i64 + rng.below(step as usize) as i64);
            let dep = rng.weighted(&DEPARTEMENTS);
            let person_id = rng.uuid();
            let first = rng.pick(&FIRST_NAMES);
            let age = 11 + rng.below(9) as i64;
            let birth = created_at.date() - Duration::days(age * 365 + rng.below(365) as i64);
            let public =
                rng.weighted(&[("young_person", 85), ("relative", 10), ("professional", 5)]);
            people.row(&[
                V::T(person_id.clone()),
                V::S(public),
                V::S(first),
                V::S(rng.pick(&LAST_NAMES)),
                V::T(name_key(first)),
                V::T(birth.format("%Y-%m-%d").to_string()),
                V::I(i64::from(birth.year())),
                V::S(rng.weighted(&[
                    ("female", 70),
                    ("male", 25),
                    ("non_binary", 3),
                    ("undisclosed", 2),
                ])),
                V::S(dep),
                V::N,
                V::N,
                V::N,
                V::N,
                V::N,
                V::N,
                V::N,
                V::At(created_at),
                V::At(created_at),
            ]);
            // Exactly `follow_ups` of the referrals, evenly spread.
            let accepted =
                (i * v.follow_ups) / v.referrals != ((i + 1) * v.follow_ups) / v.referrals;
            let status = if accepted {
                "accepted"
            } else {
                rng.weighted(&[
                    ("declined", 35),
                    ("redirected", 30),
                    ("withdrawn", 15),
                    ("in_review", 10),
                    ("submitted", 10),
                ])
            };
            let decided = status != "submitted";
            let updated_at = if decided {
                (created_at + Duration::hours(2 + rng.below(96) as i64)).min(now_db)
            } else {
                created_at
            };
            let year = created_at.year();
            let sequence = {
                let counter = ori.entry(year).or_insert(0);
                *counter += 1;
                *counter
            };
            let id = rng.uuid();
            let from_org = rng.below(10) < 7;
            let source = if from_org {
                "partner_organisation"
            } else {
                rng.pick(&["parent", "young_person", "other"])
            };
            let org = if from_org {
                orgs.get(rng.below(orgs.len())).cloned()
            } else {
                None
            };
            let submitter = any_staff(&mut rng);
            let lead = any_staff(&mut rng);
            let mut risks: Vec<&str> = (0..rng.below(4)).map(|_| rng.pick(&RISKS)).collect();
            risks.sort_unstable();
            risks.dedup();
            let fu_id = if accepted {
                let fu = rng.uuid();
                let opened = updated_at;
                let fu_year = opened.year();
                let fu_sequence = {
                    let counter = sui.entry(fu_year).or_insert(0);
                    *counter += 1;
                    *counter
                };
                let closed = (now_db - opened).num_days() > 365 && rng.below(10) < 8;
                let fu_status = if closed {
                    "closed"
                } else {
                    rng.weighted(&[("active", 85), ("paused", 15)])
                };
                let fu_updated = if closed {
                    (opened + Duration::days(60 + rng.below(300) as i64)).min(now_db)
                } else {
                    opened
                };
                fus.row(&[
                    V::T(fu.clone()),
                    V::T(human_reference("SUI", fu_year, fu_sequence)),
                    V::T(person_id.clone()),
                    V::S(dep),
                    V::T(lead.clone()),
                    V::S(fu_status),
                    if closed {
                        V::S(rng.pick(&[
                            "goals_reached",
                            "exit_from_prostitution",
                            "moved_away",
                            "support_refused",
                            "contact_lost",
                            "transferred_to_another_service",
                        ]))
                    } else {
                        V::N
                    },
                    V::N,
                    V::N,
                    V::N,
                    V::I(if closed { 2 } else { 1 }),
                    V::At(opened),
                    V::At(fu_updated),
                ]);
                fu_staff.row(&[V::T(fu.clone()), V::T(lead.clone())]);
                follow_ups.push(FollowUp {
                    id: fu.clone(),
                    person_id: person_id.clone(),
                    referral_id: id.clone(),
                    departement: dep,
                });
                Some(fu)
            } else {
                None
            };
            referrals.row(&[
                V::T(id.clone()),
                V::T(human_reference("ORI", year, sequence)),
                V::S(public),
                V::S(rng.weighted(&[
                    ("pre_prostitution", 50),
                    ("prostitution", 35),
                    ("unknown", 12),
                    ("perpetrator", 3),
                ])),
                V::S(source),
                opt(org),
                if from_org { V::N } else { V::S("Mme Dupont") },
                if from_org {
                    V::N
                } else {
                    V::S("06 00 00 00 00")
                },
                V::T(submitter.clone()),
                V::S("account"),
                V::T(person_id),
                V::S(dep),
                V::T(risks.join(",")),
                V::T(format!(
                    "Situation signalée n°{} : fugues répétées, contacts en ligne.",
                    i + 1
                )),
                V::S(rng.weighted(&[("routine", 70), ("urgent", 25), ("emergency", 5)])),
                V::S(status),
                match status {
                    "declined" => V::S("Hors du champ du programme"),
                    "redirected" => V::S("Relève d'un autre service"),
                    _ => V::N,
                },
                if status == "redirected" {
                    V::S("Maison des adolescents")
                } else {
                    V::N
                },
                if accepted { V::T(lead) } else { V::N },
                opt(fu_id),
                V::B(false),
                V::N,
                V::N,
                V::N,
                V::N,
                V::N,
                V::I(if decided { 2 } else { 1 }),
                V::At(created_at),
                V::At(updated_at),
            ]);
            events.row(&[
                V::T(rng.uuid()),
                V::T(id.clone()),
                V::At(created_at),
                V::T(submitter.clone()),
                V::S("staff"),
                V::S("submit"),
                V::N,
                V::S("submitted"),
                V::N,
            ]);
            if decided {
                let action = match status {
                    "accepted" => "accept",
                    "declined" => "decline",
                    "redirected" => "redirect",
                    "withdrawn" => "withdraw",
                    _ => "review",
                };
                events.row(&[
                    V::T(rng.uuid()),
                    V::T(id),
                    V::At(updated_at),
                    V::T(submitter),
                    V::S("staff"),
                    V::S(action),
                    V::S("submitted"),
                    V::S(status),
                    V::N,
                ]);
            }
            if people.rows >= BATCH {
                flush_all(
                    conn,
                    &mut [
                        &mut people,
                        &mut fus,
                        &mut fu_staff,
                        &mut referrals,
                        &mut events,
                    ],
                )?;
            }
        }
        flush_all(
            conn,
            &mut [
                &mut people,
                &mut fus,
                &mut fu_staff,
                &mut referrals,
                &mut events,
            ],
        )?;
        out.add("people", people.total);
        out.add("follow_ups", fus.total);
        out.add("follow_up_staff", fu_staff.total);
        out.add("referrals", referrals.total);
        out.add("referral_events", events.total);
        // New references continue after the generated ones.
        for (kind, counters) in [("ORI", &ori), ("SUI", &sui)] {
            let mut years: Vec<_> = counters.iter().collect();
            years.sort();
            for (year, last) in years {
                execute_script(
                    conn,
                    &format!(
                        "DELETE FROM reference_counters WHERE kind = '{kind}' AND year = {year}; \
                     INSERT INTO reference_counters (kind, year, next_value) \
                     VALUES ('{kind}', {year}, {})",
                        last + 1
                    ),
                )?;
            }
        }
    }

    // Appointments and group sessions on a per-staff grid of slots, so a
    // staff member's bookings never overlap; latest first (module doc).
    let total = v.appointments + v.group_sessions;
    let staff_count = staff.len().max(1);
    let per_staff = total.div_ceil(staff_count).max(1) as i64;
    let per_day = ((per_staff + days - 1) / days).max(1);
    let used_days = ((per_staff + per_day - 1) / per_day).max(1);
    let (day_start, slot) = if per_day <= 10 {
        (8 * 60, 60)
    } else {
        (0, (24 * 60 / per_day).max(1))
    };
    let length = (slot * 3 / 4).clamp(1, 120);
    {
        let mut appointments = Batch::new(
            postgres,
            "appointments",
            "id, mode, title, referral_id, follow_up_id, person_id, site_id, permanence_id, \
             departement_code, starts_at, ends_at, status, confirmation, first_meeting, \
             unaccompanied_reason, cancelled_by, cancel_reason, proposed_by_organisation_id, \
             created_by, version, created_at, updated_at",
        );
        let mut appointment_staff =
            Batch::new(postgres, "appointment_staff", "appointment_id, account_id");
        let mut attendees = Batch::new(
            postgres,
            "appointment_attendees",
            "appointment_id, position, kind, person_id, organisation_id",
        );
        let mut groups = Batch::new(
            postgres,
            "group_sessions",
            "id, kind, title, mode, site_id, venue, remote_link, partner_organisation_id, \
             departement_code, starts_at, ends_at, days, capacity, audience, status, created_by, \
             version, created_at, updated_at",
        );
        let mut group_staff = Batch::new(
            postgres,
            "group_session_staff",
            "group_session_id, account_id",
        );
        let mut headcounts = Batch::new(
            postgres,
            "group_headcounts",
            "group_session_id, category, age_band, head_count",
        );
        let mut bookings = Batch::new(
            postgres,
            "staff_bookings",
            "id, account_id, starts_at, ends_at, appointment_id, group_session_id",
        );
        for e in (0..total).rev() {
            let s = e % staff_count;
            let k = (e / staff_count) as i64;
            // Slot k of this staff member: its day spread over the ten years.
            let day_index = ((k / per_day) * days / used_days).min(days - 1);
            let starts = at(
                first_day + Duration::days(day_index),
                day_start + (k % per_day) * slot,
            );
            let ends = starts + Duration::minutes(length);
            let past = ends < now_db;
            let account = staff.get(s).cloned().unwrap_or_default();
            let is_group = (e * v.group_sessions) / total != ((e + 1) * v.group_sessions) / total;
            let id = rng.uuid();
            let booked = if is_group {
                let kind = rng.weighted(&[
                    ("prevention_workshop", 45),
                    ("awareness_session", 25),
                    ("parent_group", 15),
                    ("action_training", 10),
                    ("case_review", 5),
                ]);
                let status = if past {
                    rng.weighted(&[("held", 9), ("cancelled", 1)])
                } else {
                    "planned"
                };
                let audience = match kind {
                    "parent_group" => "parents",
                    "action_training" | "case_review" => "professionals",
                    _ => "young_people",
                };
                groups.row(&[
                    V::T(id.clone()),
                    V::S(kind),
                    V::T(format!("Atelier n°{}", e + 1)),
                    V::S("in_person"),
                    V::N,
                    V::S("Salle polyvalente"),
                    V::N,
                    V::N,
                    V::S(rng.weighted(&DEPARTEMENTS)),
                    V::At(starts),
                    V::At(ends),
                    V::I(1),
                    V::I(20),
                    V::S(audience),
                    V::S(status),
                    V::T(account.clone()),
                    V::I(1),
                    V::At(starts - Duration::days(14)),
                    V::At(starts - Duration::days(14)),
                ]);
                group_staff.row(&[V::T(id.clone()), V::T(account.clone())]);
                if status == "held" {
                    for band in ["13_14", "15_17"] {
                        headcounts.row(&[
                            V::T(id.clone()),
                            V::S(audience),
                            V::S(band),
                            V::I(1 + rng.below(12) as i64),
                        ]);
                    }
                }
                (status != "cancelled").then_some((V::N, V::T(id)))
            } else {
                let fu = follow_ups.get(rng.below(follow_ups.len()));
                let status = if past {
                    rng.weighted(&[("completed", 80), ("cancelled", 10), ("no_show", 10)])
                } else {
                    "scheduled"
                };
                let cancelled = status == "cancelled";
                let dep = match fu {
                    Some(f) => f.departement,
                    None => rng.weighted(&DEPARTEMENTS),
                };
                appointments.row(&[
                    V::T(id.clone()),
                    V::S(rng.weighted(&[
                        ("phone", 30),
                        ("video", 15),
                        ("home", 20),
                        ("care_home", 20),
                        ("partner_premises", 15),
                    ])),
                    V::S("Entretien de suivi"),
                    fu.map_or(V::N, |f| V::T(f.referral_id.clone())),
                    fu.map_or(V::N, |f| V::T(f.id.clone())),
                    fu.map_or(V::N, |f| V::T(f.person_id.clone())),
                    V::N,
                    V::N,
                    V::S(dep),
                    V::At(starts),
                    V::At(ends),
                    V::S(status),
                    V::S("confirmed"),
                    V::B(false),
                    V::N,
                    if cancelled { V::S("staff") } else { V::N },
                    if cancelled {
                        V::S("Empêchement")
                    } else {
                        V::N
                    },
                    V::N,
                    V::T(account.clone()),
                    V::I(if past { 2 } else { 1 }),
                    V::At(starts - Duration::days(7)),
                    V::At(if past {
                        ends
                    } else {
                        starts - Duration::days(7)
                    }),
                ]);
                appointment_staff.row(&[V::T(id.clone()), V::T(account.clone())]);
                if let Some(f) = fu {
                    attendees.row(&[
                        V::T(id.clone()),
                        V::I(0),
                        V::S("young_person"),
                        V::T(f.person_id.clone()),
                        V::N,
                    ]);
                }
                (!cancelled).then_some((V::T(id), V::N))
            };
            if let Some((appointment, group)) = booked {
                bookings.row(&[
                    V::T(rng.uuid()),
                    V::T(account),
                    V::At(starts),
                    V::At(ends),
                    appointment,
                    group,
                ]);
            }
            if e % BATCH == 0 {
                flush_all(
                    conn,
                    &mut [
                        &mut appointments,
                        &mut appointment_staff,
                        &mut attendees,
                        &mut groups,
                        &mut group_staff,
                        &mut headcounts,
                        &mut bookings,
                    ],
                )?;
            }
        }
        flush_all(
            conn,
            &mut [
                &mut appointments,
                &mut appointment_staff,
                &mut attendees,
                &mut groups,
                &mut group_staff,
                &mut headcounts,
                &mut bookings,
            ],
        )?;
        out.add("appointments", appointments.total);
        out.add("appointment_staff", appointment_staff.total);
        out.add("appointment_attendees", attendees.total);
        out.add("group_sessions", groups.total);
        out.add("group_session_staff", group_staff.total);
        out.add("group_headcounts", headcounts.total);
        out.add("staff_bookings", bookings.total);
    }
    // Fresh statistics for the planner.
    execute_script(conn, "ANALYZE")?;
    Ok(out)
}
