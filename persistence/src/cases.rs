//! People, referrals and their timeline, follow-ups, objectives and notes.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;

use crate::DbConnection;
use crate::error::PersistenceError;
use crate::schema::{
    follow_up_notes, follow_up_objectives, follow_up_people, follow_up_staff, follow_ups, people,
    reference_counters, referral_events, referrals,
};
use crate::time::to_db;

/// A person as stored (young person, relative or professional).
#[derive(Clone, Debug, PartialEq, Eq, Queryable, Insertable, serde::Serialize)]
#[diesel(table_name = people)]
pub struct PersonRow {
    pub id: String,
    pub kind: String,
    pub first_name: String,
    pub last_name: Option<String>,
    pub name_key: String,
    pub birth_date: Option<String>,
    pub birth_year: Option<i32>,
    pub gender: Option<String>,
    pub departement_code: Option<String>,
    pub placement: Option<String>,
    pub measure: Option<String>,
    pub relationship: Option<String>,
    pub parental_authority: Option<bool>,
    pub organisation_name: Option<String>,
    pub professional_role: Option<String>,
    pub contact: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    /// Bumped by each rectification (`If-Match`).
    pub version: i64,
}

/// Changes to a person (rectification): `None` keeps a field, `Some(None)`
/// clears a nullable one.
#[derive(Clone, Debug, Default, AsChangeset)]
#[diesel(table_name = people)]
pub struct PersonChanges {
    pub first_name: Option<String>,
    pub name_key: Option<String>,
    pub last_name: Option<Option<String>>,
    pub birth_date: Option<Option<String>>,
    pub birth_year: Option<Option<i32>>,
    pub gender: Option<Option<String>>,
    pub departement_code: Option<Option<String>>,
    pub placement: Option<Option<String>>,
    pub measure: Option<Option<String>>,
    pub relationship: Option<Option<String>>,
    pub parental_authority: Option<Option<bool>>,
    pub organisation_name: Option<Option<String>>,
    pub professional_role: Option<Option<String>>,
    pub contact: Option<Option<String>>,
}

/// Applies `changes` at `expected_version`; `None` when stale.
pub fn rectify_person(
    conn: &mut DbConnection,
    id: &str,
    expected_version: i64,
    changes: &PersonChanges,
    now: DateTime<Utc>,
) -> Result<Option<PersonRow>, PersistenceError> {
    let updated = diesel::update(
        people::table
            .filter(people::id.eq(id))
            .filter(people::version.eq(expected_version)),
    )
    .set((
        changes,
        people::version.eq(expected_version + 1),
        people::updated_at.eq(to_db(now)),
    ))
    .execute(conn)?;
    if updated == 0 {
        return Ok(None);
    }
    find_person(conn, id)
}

/// Inserts a person.
pub fn insert_person(conn: &mut DbConnection, person: &PersonRow) -> Result<(), PersistenceError> {
    diesel::insert_into(people::table)
        .values(person)
        .execute(conn)?;
    Ok(())
}

/// One person.
pub fn find_person(
    conn: &mut DbConnection,
    id: &str,
) -> Result<Option<PersonRow>, PersistenceError> {
    Ok(people::table
        .select(people::all_columns)
        .find(id)
        .first(conn)
        .optional()?)
}

/// People by id (for lists: one query instead of one per row).
pub fn find_people(
    conn: &mut DbConnection,
    ids: &[String],
) -> Result<Vec<PersonRow>, PersistenceError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(people::table
        .select(people::all_columns)
        .filter(people::id.eq_any(ids))
        .load(conn)?)
}

/// The next number of a yearly sequence (`ORI-2026-000123`), from 1.
/// Concurrent callers get distinct numbers: the counter row is updated in
/// the caller's transaction and stays locked until it ends.
pub fn next_reference(
    conn: &mut DbConnection,
    kind: &str,
    year: i32,
) -> Result<i64, PersistenceError> {
    let first = (
        reference_counters::kind.eq(kind),
        reference_counters::year.eq(year),
        reference_counters::next_value.eq(1_i64),
    );
    // "Insert unless present" differs per backend and does not compile on
    // the shared connection type.
    match conn {
        DbConnection::Postgres(pg) => diesel::insert_into(reference_counters::table)
            .values(first)
            .on_conflict_do_nothing()
            .execute(pg)?,
        DbConnection::Sqlite(sqlite) => diesel::insert_or_ignore_into(reference_counters::table)
            .values(first)
            .execute(sqlite)?,
    };
    let next: i64 = diesel::update(reference_counters::table.find((kind, year)))
        .set(reference_counters::next_value.eq(reference_counters::next_value + 1))
        .returning(reference_counters::next_value)
        .get_result(conn)?;
    Ok(next - 1)
}

/// A referral as stored.
#[derive(Clone, Debug, PartialEq, Eq, Queryable, Insertable, serde::Serialize)]
#[diesel(table_name = referrals)]
pub struct ReferralRow {
    pub id: String,
    pub reference: String,
    pub public: String,
    pub context: String,
    pub source_kind: String,
    pub source_organisation_id: Option<String>,
    pub referrer_name: Option<String>,
    pub referrer_contact: Option<String>,
    pub submitted_by_id: String,
    pub submitted_by_kind: String,
    pub person_id: String,
    pub departement_code: String,
    pub risk_indicators: String,
    pub summary: String,
    pub urgency: String,
    pub status: String,
    pub decision_reason: Option<String>,
    pub redirected_to: Option<String>,
    pub lead_staff_id: Option<String>,
    pub follow_up_id: Option<String>,
    pub protection_required: bool,
    pub protection_due_at: Option<NaiveDateTime>,
    pub protection_kind: Option<String>,
    pub protection_details: Option<String>,
    pub protection_on: Option<String>,
    pub protection_recorded_at: Option<NaiveDateTime>,
    pub version: i64,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// Inserts a referral.
pub fn insert_referral(
    conn: &mut DbConnection,
    referral: &ReferralRow,
) -> Result<(), PersistenceError> {
    diesel::insert_into(referrals::table)
        .values(referral)
        .execute(conn)?;
    Ok(())
}

/// One referral.
pub fn find_referral(
    conn: &mut DbConnection,
    id: &str,
) -> Result<Option<ReferralRow>, PersistenceError> {
    use crate::schema::follow_up_archive;
    // A referral that joined a follow-up now archived left the active base
    // with it.
    Ok(referrals::table
        .select(referrals::all_columns)
        .filter(referrals::id.eq(id))
        .filter(referrals::follow_up_id.is_null().or(diesel::dsl::not(
            referrals::follow_up_id.eq_any(
                follow_up_archive::table.select(follow_up_archive::follow_up_id.nullable()),
            ),
        )))
        .first(conn)
        .optional()?)
}

/// Filters and keyset position of a referral listing, oldest change first.
#[derive(Clone, Debug, Default)]
pub struct ReferralFilter {
    /// Only referrals of this referring organisation (partners).
    pub organisation_id: Option<String>,
    /// Only these départements (a staff member's territory).
    pub departements: Option<Vec<String>>,
    /// Only these statuses.
    pub statuses: Option<Vec<String>>,
    /// Only this urgency.
    pub urgency: Option<String>,
    /// Changed at or after this instant.
    pub updated_since: Option<DateTime<Utc>>,
    /// After this `(updated_at, id)`.
    pub after: Option<(NaiveDateTime, String)>,
    /// How many at most.
    pub limit: i64,
}

/// Referrals by `(updated_at, id)`.
pub fn list_referrals(
    conn: &mut DbConnection,
    filter: &ReferralFilter,
) -> Result<Vec<ReferralRow>, PersistenceError> {
    use crate::schema::follow_up_archive;
    let mut query = referrals::table
        .select(referrals::all_columns)
        .filter(referrals::follow_up_id.is_null().or(diesel::dsl::not(
            referrals::follow_up_id.eq_any(
                follow_up_archive::table.select(follow_up_archive::follow_up_id.nullable()),
            ),
        )))
        .order((referrals::updated_at.asc(), referrals::id.asc()))
        .limit(filter.limit)
        .into_boxed();
    if let Some(org) = &filter.organisation_id {
        query = query.filter(referrals::source_organisation_id.eq(org.clone()));
    }
    if let Some(departements) = &filter.departements {
        query = query.filter(referrals::departement_code.eq_any(departements.clone()));
    }
    if let Some(statuses) = &filter.statuses {
        query = query.filter(referrals::status.eq_any(statuses.clone()));
    }
    if let Some(urgency) = &filter.urgency {
        query = query.filter(referrals::urgency.eq(urgency.clone()));
    }
    if let Some(since) = filter.updated_since {
        query = query.filter(referrals::updated_at.ge(to_db(since)));
    }
    if let Some((at, id)) = &filter.after {
        // `>=` first so that both backends seek the (updated_at, id) index.
        query = query.filter(referrals::updated_at.ge(*at)).filter(
            referrals::updated_at
                .gt(*at)
                .or(referrals::id.gt(id.clone())),
        );
    }
    Ok(query.load(conn)?)
}

/// What a lifecycle action changes.
#[derive(Clone, Debug, Default, AsChangeset)]
#[diesel(table_name = referrals)]
pub struct ReferralChanges {
    pub status: Option<String>,
    pub decision_reason: Option<Option<String>>,
    pub redirected_to: Option<Option<String>>,
    pub lead_staff_id: Option<Option<String>>,
    pub follow_up_id: Option<Option<String>>,
    pub protection_kind: Option<Option<String>>,
    pub protection_details: Option<Option<String>>,
    pub protection_on: Option<Option<String>>,
    pub protection_recorded_at: Option<Option<NaiveDateTime>>,
}

/// Applies `changes` if the stored version is `expected_version` (else
/// `None`: a stale `If-Match`, nothing changed).
pub fn update_referral(
    conn: &mut DbConnection,
    id: &str,
    expected_version: i64,
    changes: &ReferralChanges,
    now: DateTime<Utc>,
) -> Result<Option<ReferralRow>, PersistenceError> {
    let updated = diesel::update(
        referrals::table
            .filter(referrals::id.eq(id))
            .filter(referrals::version.eq(expected_version)),
    )
    .set((
        changes,
        referrals::version.eq(expected_version + 1),
        referrals::updated_at.eq(to_db(now)),
    ))
    .execute(conn)?;
    if updated == 0 {
        return Ok(None);
    }
    find_referral(conn, id)
}

/// A timeline event.
#[derive(Clone, Debug, PartialEq, Eq, Queryable, Insertable, serde::Serialize)]
#[diesel(table_name = referral_events)]
pub struct ReferralEventRow {
    pub id: String,
    pub referral_id: String,
    pub at: NaiveDateTime,
    pub actor_id: String,
    pub actor_kind: String,
    pub action: String,
    pub from_status: Option<String>,
    pub to_status: String,
    pub reason: Option<String>,
}

/// Appends an event to a referral's timeline.
pub fn insert_event(
    conn: &mut DbConnection,
    event: &ReferralEventRow,
) -> Result<(), PersistenceError> {
    diesel::insert_into(referral_events::table)
        .values(event)
        .execute(conn)?;
    Ok(())
}

/// A referral's timeline, oldest first.
pub fn events_of(
    conn: &mut DbConnection,
    referral_id: &str,
) -> Result<Vec<ReferralEventRow>, PersistenceError> {
    Ok(referral_events::table
        .select(referral_events::all_columns)
        .filter(referral_events::referral_id.eq(referral_id))
        .order((referral_events::at.asc(), referral_events::id.asc()))
        .load(conn)?)
}

/// The timelines of several referrals, each in order (for lists).
pub fn events_of_many(
    conn: &mut DbConnection,
    referral_ids: &[String],
) -> Result<Vec<ReferralEventRow>, PersistenceError> {
    if referral_ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(referral_events::table
        .select(referral_events::all_columns)
        .filter(referral_events::referral_id.eq_any(referral_ids))
        .order((
            referral_events::referral_id.asc(),
            referral_events::at.asc(),
            referral_events::id.asc(),
        ))
        .load(conn)?)
}

/// Referrals of people other than `person` with its normalised first
/// name, birth date and département (possible duplicates).
pub fn possible_duplicates(
    conn: &mut DbConnection,
    person: &PersonRow,
) -> Result<Vec<ReferralRow>, PersistenceError> {
    let Some(birth_date) = person.birth_date.clone() else {
        return Ok(Vec::new());
    };
    let matching: Vec<String> = people::table
        .select(people::id)
        .filter(people::name_key.eq(&person.name_key))
        .filter(people::birth_date.eq(birth_date))
        .filter(people::departement_code.eq(person.departement_code.clone()))
        .filter(people::id.ne(&person.id))
        .load(conn)?;
    if matching.is_empty() {
        return Ok(Vec::new());
    }
    Ok(referrals::table
        .select(referrals::all_columns)
        .filter(referrals::person_id.eq_any(matching))
        .order(referrals::created_at.asc())
        .limit(20)
        .load(conn)?)
}

/// Referrals needing a child-protection decision not recorded yet, whose
/// deadline is before `before`.
pub fn overdue_protection(
    conn: &mut DbConnection,
    before: DateTime<Utc>,
    limit: i64,
) -> Result<Vec<ReferralRow>, PersistenceError> {
    Ok(referrals::table
        .select(referrals::all_columns)
        .filter(referrals::protection_required.eq(true))
        .filter(referrals::protection_recorded_at.is_null())
        .filter(referrals::status.ne("withdrawn"))
        .filter(referrals::protection_due_at.lt(to_db(before)))
        .order(referrals::protection_due_at.asc())
        .limit(limit)
        .load(conn)?)
}

/// A follow-up as stored.
#[derive(Clone, Debug, PartialEq, Eq, Queryable, Insertable, serde::Serialize)]
#[diesel(table_name = follow_ups)]
pub struct FollowUpRow {
    pub id: String,
    pub reference: String,
    pub person_id: String,
    pub departement_code: String,
    pub lead_staff_id: String,
    pub status: String,
    pub closure_reason: Option<String>,
    pub measure_kind: Option<String>,
    pub measure_start: Option<String>,
    pub measure_end: Option<String>,
    pub version: i64,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// Inserts a follow-up and its lead as staff.
pub fn insert_follow_up(
    conn: &mut DbConnection,
    follow_up: &FollowUpRow,
) -> Result<(), PersistenceError> {
    diesel::insert_into(follow_ups::table)
        .values(follow_up)
        .execute(conn)?;
    add_staff(conn, &follow_up.id, &follow_up.lead_staff_id)
}

/// One follow-up of the active base (`None` once it is archived).
pub fn find_follow_up(
    conn: &mut DbConnection,
    id: &str,
) -> Result<Option<FollowUpRow>, PersistenceError> {
    Ok(follow_ups::table
        .select(follow_ups::all_columns)
        .filter(follow_ups::id.eq(id))
        .filter(not_archived())
        .first(conn)
        .optional()?)
}

/// One follow-up, archived or not (the archive's own reads).
pub fn find_follow_up_anywhere(
    conn: &mut DbConnection,
    id: &str,
) -> Result<Option<FollowUpRow>, PersistenceError> {
    Ok(follow_ups::table
        .select(follow_ups::all_columns)
        .find(id)
        .first(conn)
        .optional()?)
}

/// Follow-ups still in the active base (not in `follow_up_archive`).
fn not_archived() -> diesel::dsl::not<
    diesel::dsl::exists<
        diesel::dsl::Filter<
            crate::schema::follow_up_archive::table,
            diesel::dsl::Eq<crate::schema::follow_up_archive::follow_up_id, follow_ups::id>,
        >,
    >,
> {
    use crate::schema::follow_up_archive;
    diesel::dsl::not(diesel::dsl::exists(
        follow_up_archive::table.filter(follow_up_archive::follow_up_id.eq(follow_ups::id)),
    ))
}

/// Adds a staff member to a follow-up (no-op if already on it).
pub fn add_staff(
    conn: &mut DbConnection,
    follow_up_id: &str,
    account_id: &str,
) -> Result<(), PersistenceError> {
    let present: i64 = follow_up_staff::table
        .filter(follow_up_staff::follow_up_id.eq(follow_up_id))
        .filter(follow_up_staff::account_id.eq(account_id))
        .count()
        .get_result(conn)?;
    if present == 0 {
        diesel::insert_into(follow_up_staff::table)
            .values((
                follow_up_staff::follow_up_id.eq(follow_up_id),
                follow_up_staff::account_id.eq(account_id),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// The staff (lead first, then co-staff by id) of a follow-up.
pub fn staff_of(
    conn: &mut DbConnection,
    follow_up: &FollowUpRow,
) -> Result<Vec<String>, PersistenceError> {
    let mut staff: Vec<String> = follow_up_staff::table
        .select(follow_up_staff::account_id)
        .filter(follow_up_staff::follow_up_id.eq(&follow_up.id))
        .order(follow_up_staff::account_id.asc())
        .load(conn)?;
    staff.retain(|s| *s != follow_up.lead_staff_id);
    staff.insert(0, follow_up.lead_staff_id.clone());
    Ok(staff)
}

/// Referrals linked to a follow-up.
pub fn referrals_of_follow_up(
    conn: &mut DbConnection,
    follow_up_id: &str,
) -> Result<Vec<ReferralRow>, PersistenceError> {
    Ok(referrals::table
        .select(referrals::all_columns)
        .filter(referrals::follow_up_id.eq(follow_up_id))
        .order(referrals::created_at.asc())
        .load(conn)?)
}

/// Filters of a follow-up listing.
#[derive(Clone, Debug, Default)]
pub struct FollowUpFilter {
    /// Only those this account is staff on.
    pub staff_id: Option<String>,
    /// Only these départements.
    pub departements: Option<Vec<String>>,
    /// Only this status.
    pub status: Option<String>,
    /// Changed at or after.
    pub updated_since: Option<DateTime<Utc>>,
    /// After this `(updated_at, id)`.
    pub after: Option<(NaiveDateTime, String)>,
    /// How many at most.
    pub limit: i64,
}

/// Follow-ups by `(updated_at, id)`.
pub fn list_follow_ups(
    conn: &mut DbConnection,
    filter: &FollowUpFilter,
) -> Result<Vec<FollowUpRow>, PersistenceError> {
    let mut query = follow_ups::table
        .select(follow_ups::all_columns)
        .filter(not_archived())
        .order((follow_ups::updated_at.asc(), follow_ups::id.asc()))
        .limit(filter.limit)
        .into_boxed();
    if let Some(staff) = &filter.staff_id {
        let on: Vec<String> = follow_up_staff::table
            .select(follow_up_staff::follow_up_id)
            .filter(follow_up_staff::account_id.eq(staff))
            .load(conn)?;
        query = query.filter(follow_ups::id.eq_any(on));
    }
    if let Some(departements) = &filter.departements {
        query = query.filter(follow_ups::departement_code.eq_any(departements.clone()));
    }
    if let Some(status) = &filter.status {
        query = query.filter(follow_ups::status.eq(status.clone()));
    }
    if let Some(since) = filter.updated_since {
        query = query.filter(follow_ups::updated_at.ge(to_db(since)));
    }
    if let Some((at, id)) = &filter.after {
        query = query.filter(follow_ups::updated_at.ge(*at)).filter(
            follow_ups::updated_at
                .gt(*at)
                .or(follow_ups::id.gt(id.clone())),
        );
    }
    Ok(query.load(conn)?)
}

/// Changes of a follow-up.
#[derive(Clone, Debug, Default, AsChangeset)]
#[diesel(table_name = follow_ups)]
pub struct FollowUpChanges {
    pub status: Option<String>,
    pub closure_reason: Option<Option<String>>,
    pub measure_kind: Option<Option<String>>,
    pub measure_start: Option<Option<String>>,
    pub measure_end: Option<Option<String>>,
}

/// Applies `changes` at `expected_version`; `None` when stale.
pub fn update_follow_up(
    conn: &mut DbConnection,
    id: &str,
    expected_version: i64,
    changes: &FollowUpChanges,
    now: DateTime<Utc>,
) -> Result<Option<FollowUpRow>, PersistenceError> {
    let updated = diesel::update(
        follow_ups::table
            .filter(follow_ups::id.eq(id))
            .filter(follow_ups::version.eq(expected_version)),
    )
    .set((
        changes,
        follow_ups::version.eq(expected_version + 1),
        follow_ups::updated_at.eq(to_db(now)),
    ))
    .execute(conn)?;
    if updated == 0 {
        return Ok(None);
    }
    find_follow_up(conn, id)
}

/// Marks a follow-up changed (a note, an objective) so polling clients see it.
pub fn touch_follow_up(
    conn: &mut DbConnection,
    id: &str,
    now: DateTime<Utc>,
) -> Result<(), PersistenceError> {
    diesel::update(follow_ups::table.find(id))
        .set((
            follow_ups::updated_at.eq(to_db(now)),
            follow_ups::version.eq(follow_ups::version + 1),
        ))
        .execute(conn)?;
    Ok(())
}

/// Involves a relative or professional in a follow-up.
pub fn add_involved(
    conn: &mut DbConnection,
    follow_up_id: &str,
    person: &PersonRow,
    now: DateTime<Utc>,
) -> Result<(), PersistenceError> {
    insert_person(conn, person)?;
    diesel::insert_into(follow_up_people::table)
        .values((
            follow_up_people::follow_up_id.eq(follow_up_id),
            follow_up_people::person_id.eq(&person.id),
            follow_up_people::added_at.eq(to_db(now)),
        ))
        .execute(conn)?;
    Ok(())
}

/// The relatives and professionals involved in a follow-up, in the order added.
pub fn involved_of(
    conn: &mut DbConnection,
    follow_up_id: &str,
) -> Result<Vec<PersonRow>, PersistenceError> {
    Ok(follow_up_people::table
        .inner_join(people::table)
        .select(people::all_columns)
        .filter(follow_up_people::follow_up_id.eq(follow_up_id))
        .order((follow_up_people::added_at.asc(), people::id.asc()))
        .load(conn)?)
}

/// An objective's status change.
#[derive(Clone, Debug, PartialEq, Eq, Queryable, Insertable, serde::Serialize)]
#[diesel(table_name = follow_up_objectives)]
pub struct ObjectiveRow {
    pub id: String,
    pub follow_up_id: String,
    pub objective: String,
    pub status: String,
    pub changed_at: NaiveDateTime,
    pub changed_by: String,
}

/// Records an objective's status.
pub fn insert_objective(
    conn: &mut DbConnection,
    row: &ObjectiveRow,
) -> Result<(), PersistenceError> {
    diesel::insert_into(follow_up_objectives::table)
        .values(row)
        .execute(conn)?;
    Ok(())
}

/// Every objective change of a follow-up, oldest first.
pub fn objectives_of(
    conn: &mut DbConnection,
    follow_up_id: &str,
) -> Result<Vec<ObjectiveRow>, PersistenceError> {
    Ok(follow_up_objectives::table
        .select(follow_up_objectives::all_columns)
        .filter(follow_up_objectives::follow_up_id.eq(follow_up_id))
        .order((
            follow_up_objectives::changed_at.asc(),
            follow_up_objectives::id.asc(),
        ))
        .load(conn)?)
}

/// A sealed note.
#[derive(Clone, Debug, PartialEq, Eq, Queryable, Insertable)]
#[diesel(table_name = follow_up_notes)]
pub struct NoteRow {
    pub id: String,
    pub follow_up_id: String,
    pub kind: String,
    pub author_id: String,
    pub created_at: NaiveDateTime,
    pub key_id: String,
    pub nonce: String,
    pub ciphertext: String,
}

/// Stores a sealed note.
pub fn insert_note(conn: &mut DbConnection, note: &NoteRow) -> Result<(), PersistenceError> {
    diesel::insert_into(follow_up_notes::table)
        .values(note)
        .execute(conn)?;
    Ok(())
}

/// The notes of a follow-up, oldest first.
pub fn notes_of(
    conn: &mut DbConnection,
    follow_up_id: &str,
) -> Result<Vec<NoteRow>, PersistenceError> {
    Ok(follow_up_notes::table
        .select(follow_up_notes::all_columns)
        .filter(follow_up_notes::follow_up_id.eq(follow_up_id))
        .order((follow_up_notes::created_at.asc(), follow_up_notes::id.asc()))
        .load(conn)?)
}

/// The follow-up a note belongs to, if the note exists.
pub fn note_follow_up(
    conn: &mut DbConnection,
    note_id: &str,
) -> Result<Option<String>, PersistenceError> {
    Ok(follow_up_notes::table
        .select(follow_up_notes::follow_up_id)
        .find(note_id)
        .first(conn)
        .optional()?)
}

/// Notes sealed with another key than `current` (for rotation), a batch.
pub fn notes_not_sealed_with(
    conn: &mut DbConnection,
    current: &str,
    limit: i64,
) -> Result<Vec<NoteRow>, PersistenceError> {
    Ok(follow_up_notes::table
        .select(follow_up_notes::all_columns)
        .filter(follow_up_notes::key_id.ne(current))
        .order(follow_up_notes::id.asc())
        .limit(limit)
        .load(conn)?)
}

/// Replaces a note's seal (rotation).
pub fn reseal_note(
    conn: &mut DbConnection,
    id: &str,
    key_id: &str,
    nonce: &str,
    ciphertext: &str,
) -> Result<(), PersistenceError> {
    diesel::update(follow_up_notes::table.find(id))
        .set((
            follow_up_notes::key_id.eq(key_id),
            follow_up_notes::nonce.eq(nonce),
            follow_up_notes::ciphertext.eq(ciphertext),
        ))
        .execute(conn)?;
    Ok(())
}

/// Referrals about a person, oldest first (data-subject export).
pub fn referrals_of_person(
    conn: &mut DbConnection,
    person_id: &str,
) -> Result<Vec<ReferralRow>, PersistenceError> {
    Ok(referrals::table
        .select(referrals::all_columns)
        .filter(referrals::person_id.eq(person_id))
        .order((referrals::created_at.asc(), referrals::id.asc()))
        .load(conn)?)
}

/// Follow-ups of a person (as the young person supported), oldest first.
pub fn follow_ups_of_person(
    conn: &mut DbConnection,
    person_id: &str,
) -> Result<Vec<FollowUpRow>, PersistenceError> {
    Ok(follow_ups::table
        .select(follow_ups::all_columns)
        .filter(follow_ups::person_id.eq(person_id))
        .order((follow_ups::created_at.asc(), follow_ups::id.asc()))
        .load(conn)?)
}

/// Follow-ups a person is involved in (as a relative or professional).
pub fn follow_ups_involving(
    conn: &mut DbConnection,
    person_id: &str,
) -> Result<Vec<String>, PersistenceError> {
    Ok(follow_up_people::table
        .select(follow_up_people::follow_up_id)
        .filter(follow_up_people::person_id.eq(person_id))
        .order(follow_up_people::follow_up_id.asc())
        .load(conn)?)
}
