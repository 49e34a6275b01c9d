//! Consents per processing purpose and share decisions with partner
//! organisations. Nothing here deletes: withdrawal, invalidation, lapse and
//! revocation are recorded on the row.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;

use crate::DbConnection;
use crate::error::PersistenceError;
use crate::schema::{appointments, consents, follow_ups, people, share_decisions};
use crate::time::to_db;

/// A consent as stored.
#[derive(Clone, Debug, PartialEq, Eq, Queryable, Insertable, serde::Serialize)]
#[diesel(table_name = consents)]
pub struct ConsentRow {
    pub id: String,
    pub person_id: String,
    pub follow_up_id: String,
    pub purpose: String,
    /// Comma-separated givers.
    pub given_by: String,
    pub parental_authority_holder_id: Option<String>,
    pub method: String,
    pub evidence_reference: String,
    pub given_at: NaiveDateTime,
    pub valid_until: Option<String>,
    pub recorded_by: String,
    pub withdrawn_at: Option<NaiveDateTime>,
    pub withdrawn_by: Option<String>,
    pub withdrawal_recorded_by: Option<String>,
    pub invalidated_at: Option<NaiveDateTime>,
    pub invalidated_by: Option<String>,
    pub invalidation_reason: Option<String>,
    pub lapsed_at: Option<NaiveDateTime>,
    pub version: i64,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// Inserts a consent.
pub fn insert_consent(conn: &mut DbConnection, row: &ConsentRow) -> Result<(), PersistenceError> {
    diesel::insert_into(consents::table)
        .values(row)
        .execute(conn)?;
    Ok(())
}

/// One consent.
pub fn find_consent(
    conn: &mut DbConnection,
    id: &str,
) -> Result<Option<ConsentRow>, PersistenceError> {
    Ok(consents::table
        .select(consents::all_columns)
        .find(id)
        .first(conn)
        .optional()?)
}

/// The consents recorded on a follow-up, oldest first.
pub fn consents_of_follow_up(
    conn: &mut DbConnection,
    follow_up_id: &str,
) -> Result<Vec<ConsentRow>, PersistenceError> {
    Ok(consents::table
        .select(consents::all_columns)
        .filter(consents::follow_up_id.eq(follow_up_id))
        .order((consents::given_at.asc(), consents::id.asc()))
        .load(conn)?)
}

/// The consents of a person for a purpose, oldest first.
pub fn consents_of_person(
    conn: &mut DbConnection,
    person_id: &str,
    purpose: &str,
) -> Result<Vec<ConsentRow>, PersistenceError> {
    Ok(consents::table
        .select(consents::all_columns)
        .filter(consents::person_id.eq(person_id))
        .filter(consents::purpose.eq(purpose))
        .order((consents::given_at.asc(), consents::id.asc()))
        .load(conn)?)
}

/// Records a withdrawal at `expected_version`; `None` when stale.
pub fn withdraw_consent(
    conn: &mut DbConnection,
    id: &str,
    expected_version: i64,
    by: &str,
    recorded_by: &str,
    now: DateTime<Utc>,
) -> Result<Option<ConsentRow>, PersistenceError> {
    let updated = diesel::update(
        consents::table
            .filter(consents::id.eq(id))
            .filter(consents::version.eq(expected_version)),
    )
    .set((
        consents::withdrawn_at.eq(to_db(now)),
        consents::withdrawn_by.eq(by),
        consents::withdrawal_recorded_by.eq(recorded_by),
        consents::version.eq(expected_version + 1),
        consents::updated_at.eq(to_db(now)),
    ))
    .execute(conn)?;
    if updated == 0 {
        return Ok(None);
    }
    find_consent(conn, id)
}

/// Marks a consent recorded in error at `expected_version`; `None` when stale.
pub fn invalidate_consent(
    conn: &mut DbConnection,
    id: &str,
    expected_version: i64,
    by: &str,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<Option<ConsentRow>, PersistenceError> {
    let updated = diesel::update(
        consents::table
            .filter(consents::id.eq(id))
            .filter(consents::version.eq(expected_version)),
    )
    .set((
        consents::invalidated_at.eq(to_db(now)),
        consents::invalidated_by.eq(by),
        consents::invalidation_reason.eq(reason),
        consents::version.eq(expected_version + 1),
        consents::updated_at.eq(to_db(now)),
    ))
    .execute(conn)?;
    if updated == 0 {
        return Ok(None);
    }
    find_consent(conn, id)
}

/// A consent given with a parent, with what decides its lapse and who sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParentalConsent {
    pub consent: ConsentRow,
    pub birth_date: Option<String>,
    pub birth_year: Option<i32>,
    pub departement_code: String,
}

/// Consents given with a parent, neither withdrawn nor invalidated.
pub fn standing_parental_consents(
    conn: &mut DbConnection,
) -> Result<Vec<ParentalConsent>, PersistenceError> {
    let rows: Vec<(ConsentRow, Option<String>, Option<i32>, String)> = consents::table
        .inner_join(people::table.on(people::id.eq(consents::person_id)))
        .inner_join(follow_ups::table.on(follow_ups::id.eq(consents::follow_up_id)))
        .select((
            consents::all_columns,
            people::birth_date,
            people::birth_year,
            follow_ups::departement_code,
        ))
        .filter(consents::parental_authority_holder_id.is_not_null())
        // Archived follow-ups are out of the active base (no renewal due).
        .filter(diesel::dsl::not(
            consents::follow_up_id.eq_any(
                crate::schema::follow_up_archive::table
                    .select(crate::schema::follow_up_archive::follow_up_id),
            ),
        ))
        .filter(consents::withdrawn_at.is_null())
        .filter(consents::invalidated_at.is_null())
        .order((consents::given_at.asc(), consents::id.asc()))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(
            |(consent, birth_date, birth_year, departement_code)| ParentalConsent {
                consent,
                birth_date,
                birth_year,
                departement_code,
            },
        )
        .collect())
}

/// Records that a consent lapsed at majority (once).
pub fn mark_lapsed(
    conn: &mut DbConnection,
    id: &str,
    now: DateTime<Utc>,
) -> Result<bool, PersistenceError> {
    let updated = diesel::update(
        consents::table
            .filter(consents::id.eq(id))
            .filter(consents::lapsed_at.is_null()),
    )
    .set((
        consents::lapsed_at.eq(to_db(now)),
        consents::version.eq(consents::version + 1),
        consents::updated_at.eq(to_db(now)),
    ))
    .execute(conn)?;
    Ok(updated > 0)
}

/// A share decision as stored.
#[derive(Clone, Debug, PartialEq, Eq, Queryable, Insertable, serde::Serialize)]
#[diesel(table_name = share_decisions)]
pub struct ShareRow {
    pub id: String,
    pub follow_up_id: String,
    pub organisation_id: String,
    pub purpose: String,
    /// Comma-separated field groups.
    pub field_groups: String,
    pub family_informed: String,
    pub justification: Option<String>,
    pub valid_from: String,
    pub valid_until: Option<String>,
    pub decided_by: String,
    pub decided_at: NaiveDateTime,
    pub revoked_at: Option<NaiveDateTime>,
    pub revoked_by: Option<String>,
    pub revocation_reason: Option<String>,
    pub version: i64,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// Inserts a share decision.
pub fn insert_share(conn: &mut DbConnection, row: &ShareRow) -> Result<(), PersistenceError> {
    diesel::insert_into(share_decisions::table)
        .values(row)
        .execute(conn)?;
    Ok(())
}

/// One share decision.
pub fn find_share(conn: &mut DbConnection, id: &str) -> Result<Option<ShareRow>, PersistenceError> {
    Ok(share_decisions::table
        .select(share_decisions::all_columns)
        .find(id)
        .first(conn)
        .optional()?)
}

/// The share decisions of a follow-up, oldest first.
pub fn shares_of_follow_up(
    conn: &mut DbConnection,
    follow_up_id: &str,
) -> Result<Vec<ShareRow>, PersistenceError> {
    Ok(share_decisions::table
        .select(share_decisions::all_columns)
        .filter(share_decisions::follow_up_id.eq(follow_up_id))
        .order((share_decisions::decided_at.asc(), share_decisions::id.asc()))
        .load(conn)?)
}

/// Revokes a share at `expected_version`; `None` when stale.
pub fn revoke_share(
    conn: &mut DbConnection,
    id: &str,
    expected_version: i64,
    by: &str,
    reason: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Option<ShareRow>, PersistenceError> {
    let updated = diesel::update(
        share_decisions::table
            .filter(share_decisions::id.eq(id))
            .filter(share_decisions::version.eq(expected_version)),
    )
    .set((
        share_decisions::revoked_at.eq(to_db(now)),
        share_decisions::revoked_by.eq(by),
        share_decisions::revocation_reason.eq(reason),
        share_decisions::version.eq(expected_version + 1),
        share_decisions::updated_at.eq(to_db(now)),
    ))
    .execute(conn)?;
    if updated == 0 {
        return Ok(None);
    }
    find_share(conn, id)
}

/// The next scheduled appointment of a follow-up from `now`: start and mode.
pub fn next_appointment(
    conn: &mut DbConnection,
    follow_up_id: &str,
    now: DateTime<Utc>,
) -> Result<Option<(NaiveDateTime, String)>, PersistenceError> {
    Ok(appointments::table
        .select((appointments::starts_at, appointments::mode))
        .filter(appointments::follow_up_id.eq(follow_up_id))
        .filter(appointments::status.eq("scheduled"))
        .filter(appointments::starts_at.ge(to_db(now)))
        .order(appointments::starts_at.asc())
        .first(conn)
        .optional()?)
}
