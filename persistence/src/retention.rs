//! Retention and erasure: the restricted archive of follow-ups, the removal
//! of personal fields (pseudonymisation) and erasure requests.
//!
//! Archived follow-ups stay in `follow_ups` (statistics keep counting them);
//! `follow_up_archive` marks them, and the ordinary reads in `cases` skip
//! them. Pseudonymisation rewrites personal fields in place and never touches
//! what statistics read (dates, statuses, départements, gender, kinds); the
//! age band at each referral is stored first, since the birth date goes.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Nullable, Text, Timestamp};

use crate::schema::{erasure_requests, follow_up_archive, follow_up_people, follow_ups, referrals};
use crate::stats::{Backend, computed_age_band};
use crate::time::to_db;
use crate::{DbConnection, PersistenceError};

/// A follow-up not yet pseudonymised, with the instants of its contacts.
#[derive(Clone, Debug, PartialEq, Eq, QueryableByName)]
pub struct RetentionCandidate {
    /// The follow-up.
    #[diesel(sql_type = Text)]
    pub follow_up_id: String,
    /// Its reference (`SUI-…`).
    #[diesel(sql_type = Text)]
    pub reference: String,
    /// Its status.
    #[diesel(sql_type = Text)]
    pub status: String,
    /// Opened at.
    #[diesel(sql_type = Timestamp)]
    pub created_at: NaiveDateTime,
    /// Latest note.
    #[diesel(sql_type = Nullable<Timestamp>)]
    pub last_note: Option<NaiveDateTime>,
    /// Latest appointment not cancelled, of the follow-up or its person.
    #[diesel(sql_type = Nullable<Timestamp>)]
    pub last_appointment: Option<NaiveDateTime>,
    /// Latest appointment not cancelled with the person, outside the follow-up.
    #[diesel(sql_type = Nullable<Timestamp>)]
    pub last_person_appointment: Option<NaiveDateTime>,
    /// Latest objective change.
    #[diesel(sql_type = Nullable<Timestamp>)]
    pub last_objective: Option<NaiveDateTime>,
    /// Latest referral linked to it.
    #[diesel(sql_type = Nullable<Timestamp>)]
    pub last_referral: Option<NaiveDateTime>,
    /// When it was archived, if it was.
    #[diesel(sql_type = Nullable<Timestamp>)]
    pub archived_at: Option<NaiveDateTime>,
}

impl RetentionCandidate {
    /// The latest contact of any kind (at least the opening).
    pub fn last_contact(&self) -> NaiveDateTime {
        [
            self.last_note,
            self.last_appointment,
            self.last_person_appointment,
            self.last_objective,
            self.last_referral,
        ]
        .into_iter()
        .flatten()
        .fold(self.created_at, NaiveDateTime::max)
    }
}

/// The candidates query; `{appointments}` and `{referrals}` name the tables
/// with, on SQLite, the index to use (without statistics its planner would
/// take the `MAX(starts_at)` shortcut through the date index and scan every
/// appointment for each follow-up).
fn candidates_sql(appointments: &str, referrals: &str) -> String {
    format!(
        "SELECT f.id AS follow_up_id, f.reference, f.status, f.created_at, \
         (SELECT MAX(n.created_at) FROM follow_up_notes n WHERE n.follow_up_id = f.id) AS last_note, \
         (SELECT MAX(a.starts_at) FROM {appointments} \
            WHERE a.follow_up_id = f.id AND a.status <> 'cancelled') AS last_appointment, \
         (SELECT MAX(a.starts_at) FROM appointments a \
            WHERE a.person_id = f.person_id AND a.status <> 'cancelled') AS last_person_appointment, \
         (SELECT MAX(o.changed_at) FROM follow_up_objectives o WHERE o.follow_up_id = f.id) AS last_objective, \
         (SELECT MAX(r.created_at) FROM {referrals} WHERE r.follow_up_id = f.id) AS last_referral, \
         x.archived_at \
         FROM follow_ups f LEFT JOIN follow_up_archive x ON x.follow_up_id = f.id \
         WHERE x.pseudonymised_at IS NULL ORDER BY f.created_at, f.id"
    )
}

/// Every follow-up not yet pseudonymised, oldest first.
pub fn candidates(conn: &mut DbConnection) -> Result<Vec<RetentionCandidate>, PersistenceError> {
    Ok(match conn {
        DbConnection::Postgres(pg) => {
            diesel::sql_query(candidates_sql("appointments a", "referrals r")).load(pg)?
        }
        DbConnection::Sqlite(sqlite) => diesel::sql_query(candidates_sql(
            "appointments a INDEXED BY appointments_follow_up_idx",
            "referrals r INDEXED BY referrals_follow_up_idx",
        ))
        .load(sqlite)?,
    })
}

/// Moves a follow-up to the restricted archive.
pub fn archive(
    conn: &mut DbConnection,
    follow_up_id: &str,
    last_contact: NaiveDateTime,
    now: DateTime<Utc>,
) -> Result<(), PersistenceError> {
    diesel::insert_into(follow_up_archive::table)
        .values((
            follow_up_archive::follow_up_id.eq(follow_up_id),
            follow_up_archive::last_contact_at.eq(last_contact),
            follow_up_archive::archived_at.eq(to_db(now)),
        ))
        .execute(conn)?;
    Ok(())
}

/// An archive entry.
#[derive(Clone, Debug, PartialEq, Eq, Queryable, serde::Serialize)]
pub struct ArchiveRow {
    pub follow_up_id: String,
    pub last_contact_at: NaiveDateTime,
    pub archived_at: NaiveDateTime,
    pub pseudonymised_at: Option<NaiveDateTime>,
}

/// The archive entry of a follow-up, if it is archived.
pub fn archive_entry(
    conn: &mut DbConnection,
    follow_up_id: &str,
) -> Result<Option<ArchiveRow>, PersistenceError> {
    Ok(follow_up_archive::table
        .select(follow_up_archive::all_columns)
        .find(follow_up_id)
        .first(conn)
        .optional()?)
}

/// Archive entries by `(archived_at, follow_up_id)` after `after`.
pub fn list_archive(
    conn: &mut DbConnection,
    after: Option<(NaiveDateTime, String)>,
    limit: i64,
) -> Result<Vec<ArchiveRow>, PersistenceError> {
    let mut query = follow_up_archive::table
        .select(follow_up_archive::all_columns)
        .order((
            follow_up_archive::archived_at.asc(),
            follow_up_archive::follow_up_id.asc(),
        ))
        .limit(limit)
        .into_boxed();
    if let Some((at, id)) = after {
        query = query.filter(
            follow_up_archive::archived_at
                .gt(at)
                .or(follow_up_archive::archived_at
                    .eq(at)
                    .and(follow_up_archive::follow_up_id.gt(id))),
        );
    }
    Ok(query.load(conn)?)
}

/// What obliges keeping a person's data, as stored now.
pub fn erasure_facts(
    conn: &mut DbConnection,
    person_id: &str,
) -> Result<adosexo_domain::retention::ErasureFacts, PersistenceError> {
    let pending: i64 = referrals::table
        .filter(referrals::person_id.eq(person_id))
        .filter(referrals::protection_required.eq(true))
        .filter(referrals::protection_recorded_at.is_null())
        .filter(referrals::status.ne("withdrawn"))
        .count()
        .get_result(conn)?;
    let in_progress: i64 = referrals::table
        .filter(referrals::person_id.eq(person_id))
        .filter(referrals::status.eq_any(["submitted", "in_review"]))
        .count()
        .get_result(conn)?;
    let mut theirs: Vec<String> = follow_ups::table
        .select(follow_ups::id)
        .filter(follow_ups::person_id.eq(person_id))
        .load(conn)?;
    theirs.extend(
        follow_up_people::table
            .select(follow_up_people::follow_up_id)
            .filter(follow_up_people::person_id.eq(person_id))
            .load::<String>(conn)?,
    );
    let archived: Vec<ArchiveRow> = follow_up_archive::table
        .select(follow_up_archive::all_columns)
        .filter(follow_up_archive::follow_up_id.eq_any(&theirs))
        .load(conn)?;
    let active = theirs
        .iter()
        .any(|id| !archived.iter().any(|a| a.follow_up_id == *id));
    Ok(adosexo_domain::retention::ErasureFacts {
        protection_decision_pending: pending > 0,
        active_follow_up: active,
        referral_in_progress: in_progress > 0,
        archived_follow_up: archived.iter().any(|a| a.pseudonymised_at.is_none()),
    })
}

/// Removes a follow-up's own personal content as the inventory of personal
/// data says (notes deleted; free text of its share decisions, consents and
/// appointments; stored idempotent replies) and marks it pseudonymised. The people it concerns are the caller's to handle
/// ([`people_of_follow_up`], [`pseudonymise_person`]).
pub fn pseudonymise_follow_up(
    conn: &mut DbConnection,
    follow_up_id: &str,
    now: DateTime<Utc>,
) -> Result<(), PersistenceError> {
    crate::inventory::pseudonymise(conn, crate::inventory::Scope::FollowUp, follow_up_id, now)?;
    diesel::update(follow_up_archive::table.find(follow_up_id))
        .set(follow_up_archive::pseudonymised_at.eq(Some(to_db(now))))
        .execute(conn)?;
    Ok(())
}

/// The subject and the people involved in a follow-up.
pub fn people_of_follow_up(
    conn: &mut DbConnection,
    follow_up_id: &str,
) -> Result<Vec<String>, PersistenceError> {
    let mut ids: Vec<String> = follow_ups::table
        .select(follow_ups::person_id)
        .filter(follow_ups::id.eq(follow_up_id))
        .load(conn)?;
    ids.extend(
        follow_up_people::table
            .select(follow_up_people::person_id)
            .filter(follow_up_people::follow_up_id.eq(follow_up_id))
            .order(follow_up_people::person_id.asc())
            .load::<String>(conn)?,
    );
    ids.dedup();
    Ok(ids)
}

/// Removes a person's personal fields and the free text about them in
/// their referrals, referral timelines, consents, appointments and stored
/// idempotent replies, as the inventory of personal data says
/// ([`crate::inventory`]). Keeps what statistics read: kind, gender,
/// département, every date and status; the age band at each referral is
/// stored first.
pub fn pseudonymise_person(
    conn: &mut DbConnection,
    person_id: &str,
    now: DateTime<Utc>,
) -> Result<(), PersistenceError> {
    let insert = |backend: Backend, placeholder: &str| {
        format!(
            "INSERT INTO referral_age_bands (referral_id, age_band) \
             SELECT r.id, {} FROM referrals r JOIN people p ON p.id = r.person_id \
             WHERE r.person_id = {placeholder} AND NOT EXISTS \
             (SELECT 1 FROM referral_age_bands b WHERE b.referral_id = r.id)",
            computed_age_band(backend)
        )
    };
    match conn {
        DbConnection::Postgres(pg) => {
            diesel::sql_query(insert(Backend::Postgres, "$1"))
                .bind::<Text, _>(person_id)
                .execute(pg)?;
        }
        DbConnection::Sqlite(sqlite) => {
            diesel::sql_query(insert(Backend::Sqlite, "?"))
                .bind::<Text, _>(person_id)
                .execute(sqlite)?;
        }
    }
    crate::inventory::pseudonymise(conn, crate::inventory::Scope::Person, person_id, now)
}

/// An erasure request as stored.
#[derive(Clone, Debug, PartialEq, Eq, Queryable, Insertable, serde::Serialize)]
#[diesel(table_name = erasure_requests)]
pub struct ErasureRequestRow {
    pub id: String,
    pub person_id: String,
    pub requested_by: String,
    pub received_at: NaiveDateTime,
    pub status: String,
    pub refusal: Option<String>,
    pub recorded_by: String,
    pub decided_by: Option<String>,
    pub decided_at: Option<NaiveDateTime>,
    pub version: i64,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// Records an erasure request.
pub fn insert_erasure_request(
    conn: &mut DbConnection,
    row: &ErasureRequestRow,
) -> Result<(), PersistenceError> {
    diesel::insert_into(erasure_requests::table)
        .values(row)
        .execute(conn)?;
    Ok(())
}

/// One erasure request.
pub fn find_erasure_request(
    conn: &mut DbConnection,
    id: &str,
) -> Result<Option<ErasureRequestRow>, PersistenceError> {
    Ok(erasure_requests::table
        .select(erasure_requests::all_columns)
        .find(id)
        .first(conn)
        .optional()?)
}

/// Erasure requests by `(created_at, id)` after `after`, optionally of one status.
pub fn list_erasure_requests(
    conn: &mut DbConnection,
    status: Option<&str>,
    after: Option<(NaiveDateTime, String)>,
    limit: i64,
) -> Result<Vec<ErasureRequestRow>, PersistenceError> {
    let mut query = erasure_requests::table
        .select(erasure_requests::all_columns)
        .order((
            erasure_requests::created_at.asc(),
            erasure_requests::id.asc(),
        ))
        .limit(limit)
        .into_boxed();
    if let Some(status) = status {
        query = query.filter(erasure_requests::status.eq(status.to_owned()));
    }
    if let Some((at, id)) = after {
        query = query.filter(
            erasure_requests::created_at
                .gt(at)
                .or(erasure_requests::created_at
                    .eq(at)
                    .and(erasure_requests::id.gt(id))),
        );
    }
    Ok(query.load(conn)?)
}

/// Whether an erasure of this person was executed.
pub fn erased(conn: &mut DbConnection, person_id: &str) -> Result<bool, PersistenceError> {
    let executed: i64 = erasure_requests::table
        .filter(erasure_requests::person_id.eq(person_id))
        .filter(erasure_requests::status.eq("executed"))
        .count()
        .get_result(conn)?;
    Ok(executed > 0)
}

/// Records the decision on a request (executed, or refused with the reason).
pub fn decide_erasure_request(
    conn: &mut DbConnection,
    id: &str,
    status: &str,
    refusal: Option<&str>,
    decided_by: &str,
    now: DateTime<Utc>,
) -> Result<Option<ErasureRequestRow>, PersistenceError> {
    diesel::update(erasure_requests::table.find(id))
        .set((
            erasure_requests::status.eq(status),
            erasure_requests::refusal.eq(refusal),
            erasure_requests::decided_by.eq(Some(decided_by)),
            erasure_requests::decided_at.eq(Some(to_db(now))),
            erasure_requests::version.eq(erasure_requests::version + 1),
            erasure_requests::updated_at.eq(to_db(now)),
        ))
        .execute(conn)?;
    find_erasure_request(conn, id)
}
