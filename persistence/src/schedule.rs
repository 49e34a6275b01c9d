//! Sites, permanences, appointments, group sessions, staff bookings and
//! calendar feeds.
//!
//! Staff bookings carry the "no double-booking" guarantee: an exclusion
//! constraint on PostgreSQL, triggers on SQLite (see the migration). A
//! refused booking surfaces as [`PersistenceError::Constraint`] named
//! [`NO_OVERLAP`].

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;

use crate::DbConnection;
use crate::error::PersistenceError;
use crate::schema::{
    appointment_attendees, appointment_staff, appointments, calendar_feeds, group_headcounts,
    group_registrations, group_session_staff, group_sessions, permanence_exceptions,
    permanence_staff, permanences, sites, staff_bookings,
};
use crate::time::to_db;

/// The name under which an overlapping staff booking is refused.
pub const NO_OVERLAP: &str = "staff_bookings_no_overlap";

/// The longest a staff booking may last (enforced by the database).
pub const MAX_BOOKING: chrono::Duration = chrono::Duration::days(1);

/// A site as stored.
#[derive(Clone, Debug, PartialEq, Queryable, Insertable)]
#[diesel(table_name = sites)]
pub struct SiteRow {
    pub id: String,
    pub name: String,
    pub kind: String,
    pub address: String,
    pub postcode: String,
    pub city: String,
    pub departement_code: String,
    pub latitude: f64,
    pub longitude: f64,
    pub host_organisation_id: Option<String>,
    pub public: bool,
    pub accessibility: Option<String>,
    pub status: String,
    pub version: i64,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// What a site update changes.
#[derive(Clone, Debug, Default, AsChangeset)]
#[diesel(table_name = sites)]
pub struct SiteChanges {
    pub name: Option<String>,
    pub kind: Option<String>,
    pub address: Option<String>,
    pub postcode: Option<String>,
    pub city: Option<String>,
    pub departement_code: Option<String>,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    pub host_organisation_id: Option<Option<String>>,
    pub public: Option<bool>,
    pub accessibility: Option<Option<String>>,
    pub status: Option<String>,
}

/// Inserts a site.
pub fn insert_site(conn: &mut DbConnection, site: &SiteRow) -> Result<(), PersistenceError> {
    diesel::insert_into(sites::table)
        .values(site)
        .execute(conn)?;
    Ok(())
}

/// One site.
pub fn find_site(conn: &mut DbConnection, id: &str) -> Result<Option<SiteRow>, PersistenceError> {
    Ok(sites::table
        .select(sites::all_columns)
        .find(id)
        .first(conn)
        .optional()?)
}

/// Filters of a site listing, by `(updated_at, id)`.
#[derive(Clone, Debug, Default)]
pub struct SiteFilter {
    pub departements: Option<Vec<String>>,
    pub public_only: bool,
    pub status: Option<String>,
    pub after: Option<(NaiveDateTime, String)>,
    pub limit: i64,
}

/// Sites by `(updated_at, id)`.
pub fn list_sites(
    conn: &mut DbConnection,
    filter: &SiteFilter,
) -> Result<Vec<SiteRow>, PersistenceError> {
    let mut query = sites::table
        .select(sites::all_columns)
        .order((sites::updated_at.asc(), sites::id.asc()))
        .limit(filter.limit)
        .into_boxed();
    if let Some(departements) = &filter.departements {
        query = query.filter(sites::departement_code.eq_any(departements.clone()));
    }
    if filter.public_only {
        query = query.filter(sites::public.eq(true));
    }
    if let Some(status) = &filter.status {
        query = query.filter(sites::status.eq(status.clone()));
    }
    if let Some((at, id)) = &filter.after {
        query = query.filter(
            sites::updated_at
                .gt(*at)
                .or(sites::updated_at.eq(*at).and(sites::id.gt(id.clone()))),
        );
    }
    Ok(query.load(conn)?)
}

/// Applies `changes` if the stored version is `expected_version`.
pub fn update_site(
    conn: &mut DbConnection,
    id: &str,
    expected_version: i64,
    changes: &SiteChanges,
    now: DateTime<Utc>,
) -> Result<Option<SiteRow>, PersistenceError> {
    let updated = diesel::update(
        sites::table
            .filter(sites::id.eq(id))
            .filter(sites::version.eq(expected_version)),
    )
    .set((
        changes,
        sites::version.eq(expected_version + 1),
        sites::updated_at.eq(to_db(now)),
    ))
    .execute(conn)?;
    if updated == 0 {
        return Ok(None);
    }
    find_site(conn, id)
}

/// A permanence (a recurring series) as stored.
#[derive(Clone, Debug, PartialEq, Eq, Queryable, Insertable)]
#[diesel(table_name = permanences)]
pub struct PermanenceRow {
    pub id: String,
    pub site_id: String,
    pub title: String,
    pub rrule: String,
    pub dtstart: String,
    pub last_date: Option<String>,
    pub part_of_day: String,
    pub start_time: String,
    pub end_time: String,
    pub audience: String,
    pub status: String,
    pub follows_id: Option<String>,
    pub version: i64,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// What a permanence update changes (the whole series).
#[derive(Clone, Debug, Default, AsChangeset)]
#[diesel(table_name = permanences)]
pub struct PermanenceChanges {
    pub title: Option<String>,
    pub rrule: Option<String>,
    pub dtstart: Option<String>,
    pub last_date: Option<Option<String>>,
    pub part_of_day: Option<String>,
    pub start_time: Option<String>,
    pub end_time: Option<String>,
    pub audience: Option<String>,
    pub status: Option<String>,
}

/// Inserts a permanence and its staff.
pub fn insert_permanence(
    conn: &mut DbConnection,
    permanence: &PermanenceRow,
    staff: &[String],
) -> Result<(), PersistenceError> {
    diesel::insert_into(permanences::table)
        .values(permanence)
        .execute(conn)?;
    set_permanence_staff(conn, &permanence.id, staff)
}

/// Replaces the staff holding a permanence.
pub fn set_permanence_staff(
    conn: &mut DbConnection,
    permanence_id: &str,
    staff: &[String],
) -> Result<(), PersistenceError> {
    diesel::delete(
        permanence_staff::table.filter(permanence_staff::permanence_id.eq(permanence_id)),
    )
    .execute(conn)?;
    for account in staff {
        diesel::insert_into(permanence_staff::table)
            .values((
                permanence_staff::permanence_id.eq(permanence_id),
                permanence_staff::account_id.eq(account),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// One permanence.
pub fn find_permanence(
    conn: &mut DbConnection,
    id: &str,
) -> Result<Option<PermanenceRow>, PersistenceError> {
    Ok(permanences::table
        .select(permanences::all_columns)
        .find(id)
        .first(conn)
        .optional()?)
}

/// Filters of a permanence listing, by `(updated_at, id)`.
#[derive(Clone, Debug, Default)]
pub struct PermanenceFilter {
    pub site_id: Option<String>,
    pub departements: Option<Vec<String>>,
    pub staff_id: Option<String>,
    pub public_sites_only: bool,
    pub status: Option<String>,
    pub after: Option<(NaiveDateTime, String)>,
    pub limit: i64,
}

/// Permanences by `(updated_at, id)`.
pub fn list_permanences(
    conn: &mut DbConnection,
    filter: &PermanenceFilter,
) -> Result<Vec<PermanenceRow>, PersistenceError> {
    let mut query = permanences::table
        .inner_join(sites::table)
        .select(permanences::all_columns)
        .order((permanences::updated_at.asc(), permanences::id.asc()))
        .limit(filter.limit)
        .into_boxed();
    if let Some(site) = &filter.site_id {
        query = query.filter(permanences::site_id.eq(site.clone()));
    }
    if let Some(departements) = &filter.departements {
        query = query.filter(sites::departement_code.eq_any(departements.clone()));
    }
    if let Some(staff) = &filter.staff_id {
        let held = permanence_staff::table
            .select(permanence_staff::permanence_id)
            .filter(permanence_staff::account_id.eq(staff.clone()));
        query = query.filter(permanences::id.eq_any(held));
    }
    if filter.public_sites_only {
        query = query
            .filter(sites::public.eq(true))
            .filter(sites::status.eq("active"));
    }
    if let Some(status) = &filter.status {
        query = query.filter(permanences::status.eq(status.clone()));
    }
    if let Some((at, id)) = &filter.after {
        query = query.filter(
            permanences::updated_at.gt(*at).or(permanences::updated_at
                .eq(*at)
                .and(permanences::id.gt(id.clone()))),
        );
    }
    Ok(query.load(conn)?)
}

/// Applies `changes` if the stored version is `expected_version`.
pub fn update_permanence(
    conn: &mut DbConnection,
    id: &str,
    expected_version: i64,
    changes: &PermanenceChanges,
    now: DateTime<Utc>,
) -> Result<Option<PermanenceRow>, PersistenceError> {
    let updated = diesel::update(
        permanences::table
            .filter(permanences::id.eq(id))
            .filter(permanences::version.eq(expected_version)),
    )
    .set((
        changes,
        permanences::version.eq(expected_version + 1),
        permanences::updated_at.eq(to_db(now)),
    ))
    .execute(conn)?;
    if updated == 0 {
        return Ok(None);
    }
    find_permanence(conn, id)
}

/// `(permanence_id, account_id)` pairs of these permanences, by account id.
pub fn staff_of_permanences(
    conn: &mut DbConnection,
    ids: &[String],
) -> Result<Vec<(String, String)>, PersistenceError> {
    Ok(permanence_staff::table
        .select((
            permanence_staff::permanence_id,
            permanence_staff::account_id,
        ))
        .filter(permanence_staff::permanence_id.eq_any(ids))
        .order(permanence_staff::account_id.asc())
        .load(conn)?)
}

/// An exception to a series: one occurrence cancelled or moved.
#[derive(Clone, Debug, PartialEq, Eq, Queryable, Insertable)]
#[diesel(table_name = permanence_exceptions)]
pub struct ExceptionRow {
    pub permanence_id: String,
    pub original_date: String,
    pub kind: String,
    pub starts_at: Option<NaiveDateTime>,
    pub ends_at: Option<NaiveDateTime>,
    pub reason: Option<String>,
    pub created_by: String,
    pub created_at: NaiveDateTime,
}

/// Records an exception, replacing one for the same occurrence.
pub fn put_exception(
    conn: &mut DbConnection,
    exception: &ExceptionRow,
) -> Result<(), PersistenceError> {
    delete_exception(conn, &exception.permanence_id, &exception.original_date)?;
    diesel::insert_into(permanence_exceptions::table)
        .values(exception)
        .execute(conn)?;
    Ok(())
}

/// Removes the exception of one occurrence; whether there was one.
pub fn delete_exception(
    conn: &mut DbConnection,
    permanence_id: &str,
    original_date: &str,
) -> Result<bool, PersistenceError> {
    let deleted = diesel::delete(
        permanence_exceptions::table
            .filter(permanence_exceptions::permanence_id.eq(permanence_id))
            .filter(permanence_exceptions::original_date.eq(original_date)),
    )
    .execute(conn)?;
    Ok(deleted > 0)
}

/// The exceptions of these permanences.
pub fn exceptions_of(
    conn: &mut DbConnection,
    ids: &[String],
) -> Result<Vec<ExceptionRow>, PersistenceError> {
    Ok(permanence_exceptions::table
        .select(permanence_exceptions::all_columns)
        .filter(permanence_exceptions::permanence_id.eq_any(ids))
        .order(permanence_exceptions::original_date.asc())
        .load(conn)?)
}

/// Moves the exceptions on or after `from_date` to another series (when a
/// series is split at that date).
pub fn move_exceptions(
    conn: &mut DbConnection,
    from_id: &str,
    to_id: &str,
    from_date: &str,
) -> Result<(), PersistenceError> {
    diesel::update(
        permanence_exceptions::table
            .filter(permanence_exceptions::permanence_id.eq(from_id))
            .filter(permanence_exceptions::original_date.ge(from_date)),
    )
    .set(permanence_exceptions::permanence_id.eq(to_id))
    .execute(conn)?;
    Ok(())
}

/// An appointment as stored.
#[derive(Clone, Debug, PartialEq, Eq, Queryable, Insertable, serde::Serialize)]
#[diesel(table_name = appointments)]
pub struct AppointmentRow {
    pub id: String,
    pub mode: String,
    pub title: String,
    pub referral_id: Option<String>,
    pub follow_up_id: Option<String>,
    pub person_id: Option<String>,
    pub site_id: Option<String>,
    pub permanence_id: Option<String>,
    pub departement_code: String,
    pub starts_at: NaiveDateTime,
    pub ends_at: NaiveDateTime,
    pub status: String,
    pub confirmation: String,
    pub first_meeting: bool,
    pub unaccompanied_reason: Option<String>,
    pub cancelled_by: Option<String>,
    pub cancel_reason: Option<String>,
    pub proposed_by_organisation_id: Option<String>,
    pub created_by: String,
    pub version: i64,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// Someone attending an appointment, besides the staff.
#[derive(Clone, Debug, PartialEq, Eq, Queryable, Insertable)]
#[diesel(table_name = appointment_attendees)]
pub struct AttendeeRow {
    pub appointment_id: String,
    pub position: i32,
    pub kind: String,
    pub person_id: Option<String>,
    pub organisation_id: Option<String>,
}

/// A period a staff member is busy.
#[derive(Clone, Debug, PartialEq, Eq, Queryable, Insertable)]
#[diesel(table_name = staff_bookings)]
pub struct BookingRow {
    pub id: String,
    pub account_id: String,
    pub starts_at: NaiveDateTime,
    pub ends_at: NaiveDateTime,
    pub appointment_id: Option<String>,
    pub group_session_id: Option<String>,
}

/// Inserts bookings one by one, in account order (so that concurrent
/// writers lock in the same order). An overlap is refused by the database
/// ([`NO_OVERLAP`]); the insertions run in a savepoint, so that after a
/// refusal the transaction can still read ([`overlapping_booking`]).
pub fn insert_bookings(
    conn: &mut DbConnection,
    bookings: &mut [BookingRow],
) -> Result<(), PersistenceError> {
    bookings.sort_by(|a, b| (&a.account_id, a.starts_at).cmp(&(&b.account_id, b.starts_at)));
    crate::write_transaction(conn, |conn| {
        for booking in bookings.iter() {
            diesel::insert_into(staff_bookings::table)
                .values(booking)
                .execute(conn)?;
        }
        Ok(())
    })
}

/// A booking of someone else's that overlaps one of `bookings` (same staff
/// member, intersecting periods): what an insertion refused by
/// [`NO_OVERLAP`] ran into. Under concurrency it is the booking committed by
/// the other writer (read after the refusal, in a new statement).
pub fn overlapping_booking(
    conn: &mut DbConnection,
    bookings: &[BookingRow],
) -> Result<Option<BookingRow>, PersistenceError> {
    for booking in bookings {
        let found = staff_bookings::table
            .filter(staff_bookings::account_id.eq(&booking.account_id))
            .filter(staff_bookings::id.ne(&booking.id))
            .filter(staff_bookings::starts_at.lt(booking.ends_at))
            .filter(staff_bookings::ends_at.gt(booking.starts_at))
            // Bookings last at most MAX_BOOKING: bounds the index walk.
            .filter(staff_bookings::starts_at.gt(booking.starts_at - MAX_BOOKING))
            .order(staff_bookings::starts_at.asc())
            .first::<BookingRow>(conn)
            .optional()?;
        if found.is_some() {
            return Ok(found);
        }
    }
    Ok(None)
}

/// Frees the staff of an appointment.
pub fn delete_appointment_bookings(
    conn: &mut DbConnection,
    appointment_id: &str,
) -> Result<(), PersistenceError> {
    diesel::delete(staff_bookings::table.filter(staff_bookings::appointment_id.eq(appointment_id)))
        .execute(conn)?;
    Ok(())
}

/// Frees the staff of a group session.
pub fn delete_group_bookings(
    conn: &mut DbConnection,
    group_session_id: &str,
) -> Result<(), PersistenceError> {
    diesel::delete(
        staff_bookings::table.filter(staff_bookings::group_session_id.eq(group_session_id)),
    )
    .execute(conn)?;
    Ok(())
}

/// The bookings of these staff overlapping `[from, to)`, by start.
pub fn bookings_between(
    conn: &mut DbConnection,
    staff: &[String],
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<BookingRow>, PersistenceError> {
    Ok(staff_bookings::table
        .select(staff_bookings::all_columns)
        .filter(staff_bookings::account_id.eq_any(staff))
        // A booking lasts at most a day (migration `000060_performance`):
        // bound the index range instead of reading all earlier bookings.
        .filter(staff_bookings::starts_at.gt(to_db(from - MAX_BOOKING)))
        .filter(staff_bookings::starts_at.lt(to_db(to)))
        .filter(staff_bookings::ends_at.gt(to_db(from)))
        .order((staff_bookings::starts_at.asc(), staff_bookings::id.asc()))
        .load(conn)?)
}

/// Inserts an appointment, its staff and attendees (not its bookings).
pub fn insert_appointment(
    conn: &mut DbConnection,
    appointment: &AppointmentRow,
    staff: &[String],
    attendees: &[AttendeeRow],
) -> Result<(), PersistenceError> {
    diesel::insert_into(appointments::table)
        .values(appointment)
        .execute(conn)?;
    for account in staff {
        diesel::insert_into(appointment_staff::table)
            .values((
                appointment_staff::appointment_id.eq(&appointment.id),
                appointment_staff::account_id.eq(account),
            ))
            .execute(conn)?;
    }
    for attendee in attendees {
        diesel::insert_into(appointment_attendees::table)
            .values(attendee)
            .execute(conn)?;
    }
    Ok(())
}

/// One appointment.
pub fn find_appointment(
    conn: &mut DbConnection,
    id: &str,
) -> Result<Option<AppointmentRow>, PersistenceError> {
    Ok(appointments::table
        .select(appointments::all_columns)
        .find(id)
        .first(conn)
        .optional()?)
}

/// `(appointment_id, account_id)` pairs of these appointments.
pub fn staff_of_appointments(
    conn: &mut DbConnection,
    ids: &[String],
) -> Result<Vec<(String, String)>, PersistenceError> {
    Ok(appointment_staff::table
        .select((
            appointment_staff::appointment_id,
            appointment_staff::account_id,
        ))
        .filter(appointment_staff::appointment_id.eq_any(ids))
        .order(appointment_staff::account_id.asc())
        .load(conn)?)
}

/// Attendees of these appointments, in order.
pub fn attendees_of(
    conn: &mut DbConnection,
    ids: &[String],
) -> Result<Vec<AttendeeRow>, PersistenceError> {
    Ok(appointment_attendees::table
        .select(appointment_attendees::all_columns)
        .filter(appointment_attendees::appointment_id.eq_any(ids))
        .order((
            appointment_attendees::appointment_id.asc(),
            appointment_attendees::position.asc(),
        ))
        .load(conn)?)
}

/// Whether the person has an appointment (not cancelled) starting before
/// `before`, other than `except`.
pub fn has_earlier_appointment(
    conn: &mut DbConnection,
    person_id: &str,
    before: DateTime<Utc>,
    except: Option<&str>,
) -> Result<bool, PersistenceError> {
    let mut query = appointments::table
        .filter(appointments::person_id.eq(person_id))
        .filter(appointments::status.ne("cancelled"))
        .filter(appointments::starts_at.lt(to_db(before)))
        .into_boxed();
    if let Some(id) = except {
        query = query.filter(appointments::id.ne(id.to_owned()));
    }
    let count: i64 = query.count().get_result(conn)?;
    Ok(count > 0)
}

/// Filters of an appointment listing, by `(starts_at, id)`.
#[derive(Clone, Debug, Default)]
pub struct AppointmentFilter {
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    pub staff_id: Option<String>,
    /// Appointments of these départements, or with this staff member.
    pub departements_or_staff: Option<(Vec<String>, String)>,
    pub referral_id: Option<String>,
    pub follow_up_id: Option<String>,
    pub status: Option<String>,
    pub updated_since: Option<DateTime<Utc>>,
    pub after: Option<(NaiveDateTime, String)>,
    pub limit: i64,
}

/// Appointments by `(starts_at, id)`.
pub fn list_appointments(
    conn: &mut DbConnection,
    filter: &AppointmentFilter,
) -> Result<Vec<AppointmentRow>, PersistenceError> {
    use crate::schema::follow_up_archive;
    // Appointments of an archived follow-up left the active base with it.
    let mut query = appointments::table
        .select(appointments::all_columns)
        .filter(appointments::follow_up_id.is_null().or(diesel::dsl::not(
            appointments::follow_up_id.eq_any(
                follow_up_archive::table.select(follow_up_archive::follow_up_id.nullable()),
            ),
        )))
        .order((appointments::starts_at.asc(), appointments::id.asc()))
        .limit(filter.limit)
        .into_boxed();
    if let Some(from) = filter.from {
        // An appointment lasts at most a day (`appointments_max_length`):
        // start the index walk there, not at the oldest appointment.
        query = query
            .filter(appointments::starts_at.gt(to_db(from - MAX_BOOKING)))
            .filter(appointments::ends_at.gt(to_db(from)));
    }
    if let Some(to) = filter.to {
        query = query.filter(appointments::starts_at.lt(to_db(to)));
    }
    if let Some(staff) = &filter.staff_id {
        let theirs = appointment_staff::table
            .select(appointment_staff::appointment_id)
            .filter(appointment_staff::account_id.eq(staff.clone()));
        query = query.filter(appointments::id.eq_any(theirs));
    }
    if let Some((departements, staff)) = &filter.departements_or_staff {
        let theirs = appointment_staff::table
            .select(appointment_staff::appointment_id)
            .filter(appointment_staff::account_id.eq(staff.clone()));
        query = query.filter(
            appointments::departement_code
                .eq_any(departements.clone())
                .or(appointments::id.eq_any(theirs)),
        );
    }
    if let Some(referral) = &filter.referral_id {
        query = query.filter(appointments::referral_id.eq(referral.clone()));
    }
    if let Some(follow_up) = &filter.follow_up_id {
        query = query.filter(appointments::follow_up_id.eq(follow_up.clone()));
    }
    if let Some(status) = &filter.status {
        query = query.filter(appointments::status.eq(status.clone()));
    }
    if let Some(since) = filter.updated_since {
        query = query.filter(appointments::updated_at.ge(to_db(since)));
    }
    if let Some((at, id)) = &filter.after {
        query = query.filter(appointments::starts_at.ge(*at)).filter(
            appointments::starts_at
                .gt(*at)
                .or(appointments::id.gt(id.clone())),
        );
    }
    Ok(query.load(conn)?)
}

/// What a lifecycle change alters.
#[derive(Clone, Debug, Default, AsChangeset)]
#[diesel(table_name = appointments)]
pub struct AppointmentChanges {
    pub starts_at: Option<NaiveDateTime>,
    pub ends_at: Option<NaiveDateTime>,
    pub status: Option<String>,
    pub confirmation: Option<String>,
    pub cancelled_by: Option<Option<String>>,
    pub cancel_reason: Option<Option<String>>,
}

/// Applies `changes` if the stored version is `expected_version`.
pub fn update_appointment(
    conn: &mut DbConnection,
    id: &str,
    expected_version: i64,
    changes: &AppointmentChanges,
    now: DateTime<Utc>,
) -> Result<Option<AppointmentRow>, PersistenceError> {
    let updated = diesel::update(
        appointments::table
            .filter(appointments::id.eq(id))
            .filter(appointments::version.eq(expected_version)),
    )
    .set((
        changes,
        appointments::version.eq(expected_version + 1),
        appointments::updated_at.eq(to_db(now)),
    ))
    .execute(conn)?;
    if updated == 0 {
        return Ok(None);
    }
    find_appointment(conn, id)
}

/// A group session as stored.
#[derive(Clone, Debug, PartialEq, Eq, Queryable, Insertable)]
#[diesel(table_name = group_sessions)]
pub struct GroupSessionRow {
    pub id: String,
    pub kind: String,
    pub title: String,
    pub mode: String,
    pub site_id: Option<String>,
    pub venue: Option<String>,
    pub remote_link: Option<String>,
    pub partner_organisation_id: Option<String>,
    pub departement_code: String,
    pub starts_at: NaiveDateTime,
    pub ends_at: NaiveDateTime,
    pub days: i32,
    pub capacity: Option<i32>,
    pub audience: String,
    pub status: String,
    pub created_by: String,
    pub version: i64,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// Inserts a group session and its staff (not its bookings).
pub fn insert_group_session(
    conn: &mut DbConnection,
    session: &GroupSessionRow,
    staff: &[String],
) -> Result<(), PersistenceError> {
    diesel::insert_into(group_sessions::table)
        .values(session)
        .execute(conn)?;
    for account in staff {
        diesel::insert_into(group_session_staff::table)
            .values((
                group_session_staff::group_session_id.eq(&session.id),
                group_session_staff::account_id.eq(account),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// One group session.
pub fn find_group_session(
    conn: &mut DbConnection,
    id: &str,
) -> Result<Option<GroupSessionRow>, PersistenceError> {
    Ok(group_sessions::table
        .select(group_sessions::all_columns)
        .find(id)
        .first(conn)
        .optional()?)
}

/// Locks a group session's row until the transaction ends (PostgreSQL;
/// SQLite writers are serialised anyway) so that places are counted by
/// one writer at a time.
pub fn lock_group_session(conn: &mut DbConnection, id: &str) -> Result<bool, PersistenceError> {
    let touched = diesel::update(group_sessions::table.filter(group_sessions::id.eq(id)))
        .set(group_sessions::version.eq(group_sessions::version))
        .execute(conn)?;
    Ok(touched > 0)
}

/// `(group_session_id, account_id)` pairs of these sessions.
pub fn staff_of_group_sessions(
    conn: &mut DbConnection,
    ids: &[String],
) -> Result<Vec<(String, String)>, PersistenceError> {
    Ok(group_session_staff::table
        .select((
            group_session_staff::group_session_id,
            group_session_staff::account_id,
        ))
        .filter(group_session_staff::group_session_id.eq_any(ids))
        .order(group_session_staff::account_id.asc())
        .load(conn)?)
}

/// Filters of a group session listing, by `(starts_at, id)`.
#[derive(Clone, Debug, Default)]
pub struct GroupSessionFilter {
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    pub kind: Option<String>,
    /// Only these kinds.
    pub kinds: Option<Vec<String>>,
    pub departements: Option<Vec<String>>,
    pub staff_id: Option<String>,
    pub status: Option<String>,
    pub updated_since: Option<DateTime<Utc>>,
    pub after: Option<(NaiveDateTime, String)>,
    pub limit: i64,
}

/// Group sessions by `(starts_at, id)`. A session's `ends_at` is that of
/// its first day: `from` looks back far enough for a 3-day course.
pub fn list_group_sessions(
    conn: &mut DbConnection,
    filter: &GroupSessionFilter,
) -> Result<Vec<GroupSessionRow>, PersistenceError> {
    let mut query = group_sessions::table
        .select(group_sessions::all_columns)
        .order((group_sessions::starts_at.asc(), group_sessions::id.asc()))
        .limit(filter.limit)
        .into_boxed();
    if let Some(from) = filter.from {
        let earliest = from - chrono::Duration::days(3);
        query = query.filter(group_sessions::ends_at.gt(to_db(earliest)));
    }
    if let Some(to) = filter.to {
        query = query.filter(group_sessions::starts_at.lt(to_db(to)));
    }
    if let Some(kind) = &filter.kind {
        query = query.filter(group_sessions::kind.eq(kind.clone()));
    }
    if let Some(kinds) = &filter.kinds {
        query = query.filter(group_sessions::kind.eq_any(kinds.clone()));
    }
    if let Some(departements) = &filter.departements {
        query = query.filter(group_sessions::departement_code.eq_any(departements.clone()));
    }
    if let Some(staff) = &filter.staff_id {
        let theirs = group_session_staff::table
            .select(group_session_staff::group_session_id)
            .filter(group_session_staff::account_id.eq(staff.clone()));
        query = query.filter(group_sessions::id.eq_any(theirs));
    }
    if let Some(status) = &filter.status {
        query = query.filter(group_sessions::status.eq(status.clone()));
    }
    if let Some(since) = filter.updated_since {
        query = query.filter(group_sessions::updated_at.ge(to_db(since)));
    }
    if let Some((at, id)) = &filter.after {
        query = query.filter(group_sessions::starts_at.ge(*at)).filter(
            group_sessions::starts_at
                .gt(*at)
                .or(group_sessions::id.gt(id.clone())),
        );
    }
    Ok(query.load(conn)?)
}

/// Sets a group session's status if the stored version is `expected_version`.
pub fn set_group_status(
    conn: &mut DbConnection,
    id: &str,
    expected_version: i64,
    status: &str,
    now: DateTime<Utc>,
) -> Result<Option<GroupSessionRow>, PersistenceError> {
    let updated = diesel::update(
        group_sessions::table
            .filter(group_sessions::id.eq(id))
            .filter(group_sessions::version.eq(expected_version)),
    )
    .set((
        group_sessions::status.eq(status),
        group_sessions::version.eq(expected_version + 1),
        group_sessions::updated_at.eq(to_db(now)),
    ))
    .execute(conn)?;
    if updated == 0 {
        return Ok(None);
    }
    find_group_session(conn, id)
}

/// Marks a group session changed (registrations, attendance).
pub fn touch_group_session(
    conn: &mut DbConnection,
    id: &str,
    now: DateTime<Utc>,
) -> Result<(), PersistenceError> {
    diesel::update(group_sessions::table.filter(group_sessions::id.eq(id)))
        .set((
            group_sessions::version.eq(group_sessions::version + 1),
            group_sessions::updated_at.eq(to_db(now)),
        ))
        .execute(conn)?;
    Ok(())
}

/// A registration to a group session.
#[derive(Clone, Debug, PartialEq, Eq, Queryable, Insertable)]
#[diesel(table_name = group_registrations)]
pub struct RegistrationRow {
    pub id: String,
    pub group_session_id: String,
    pub participant_name: String,
    pub category: String,
    pub organisation_id: Option<String>,
    pub status: String,
    pub present: Option<bool>,
    pub registered_by: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// Inserts a registration.
pub fn insert_registration(
    conn: &mut DbConnection,
    registration: &RegistrationRow,
) -> Result<(), PersistenceError> {
    diesel::insert_into(group_registrations::table)
        .values(registration)
        .execute(conn)?;
    Ok(())
}

/// The registrations of a session, oldest first.
pub fn registrations_of(
    conn: &mut DbConnection,
    group_session_id: &str,
) -> Result<Vec<RegistrationRow>, PersistenceError> {
    Ok(group_registrations::table
        .select(group_registrations::all_columns)
        .filter(group_registrations::group_session_id.eq(group_session_id))
        .order((
            group_registrations::created_at.asc(),
            group_registrations::id.asc(),
        ))
        .load(conn)?)
}

/// How many registrations of a session have this status.
pub fn count_registrations(
    conn: &mut DbConnection,
    group_session_id: &str,
    status: &str,
) -> Result<i64, PersistenceError> {
    Ok(group_registrations::table
        .filter(group_registrations::group_session_id.eq(group_session_id))
        .filter(group_registrations::status.eq(status))
        .count()
        .get_result(conn)?)
}

/// Sets a registration's status (and presence).
pub fn set_registration(
    conn: &mut DbConnection,
    id: &str,
    status: &str,
    present: Option<bool>,
    now: DateTime<Utc>,
) -> Result<(), PersistenceError> {
    diesel::update(group_registrations::table.find(id))
        .set((
            group_registrations::status.eq(status),
            group_registrations::present.eq(present),
            group_registrations::updated_at.eq(to_db(now)),
        ))
        .execute(conn)?;
    Ok(())
}

/// A head count of participants by category and age band.
#[derive(Clone, Debug, PartialEq, Eq, Queryable, Insertable)]
#[diesel(table_name = group_headcounts)]
pub struct HeadcountRow {
    pub group_session_id: String,
    pub category: String,
    pub age_band: String,
    pub head_count: i32,
}

/// Replaces the head counts of a session.
pub fn set_headcounts(
    conn: &mut DbConnection,
    group_session_id: &str,
    counts: &[HeadcountRow],
) -> Result<(), PersistenceError> {
    diesel::delete(
        group_headcounts::table.filter(group_headcounts::group_session_id.eq(group_session_id)),
    )
    .execute(conn)?;
    for count in counts {
        diesel::insert_into(group_headcounts::table)
            .values(count)
            .execute(conn)?;
    }
    Ok(())
}

/// The head counts of a session.
pub fn headcounts_of(
    conn: &mut DbConnection,
    group_session_id: &str,
) -> Result<Vec<HeadcountRow>, PersistenceError> {
    Ok(group_headcounts::table
        .select(group_headcounts::all_columns)
        .filter(group_headcounts::group_session_id.eq(group_session_id))
        .order((
            group_headcounts::category.asc(),
            group_headcounts::age_band.asc(),
        ))
        .load(conn)?)
}

/// Sets (or replaces) a staff member's calendar feed secret.
pub fn set_calendar_feed(
    conn: &mut DbConnection,
    account_id: &str,
    token_hash: &str,
    now: DateTime<Utc>,
) -> Result<(), PersistenceError> {
    revoke_calendar_feed(conn, account_id)?;
    diesel::insert_into(calendar_feeds::table)
        .values((
            calendar_feeds::account_id.eq(account_id),
            calendar_feeds::token_hash.eq(token_hash),
            calendar_feeds::created_at.eq(to_db(now)),
        ))
        .execute(conn)?;
    Ok(())
}

/// Revokes a staff member's calendar feed; whether there was one.
pub fn revoke_calendar_feed(
    conn: &mut DbConnection,
    account_id: &str,
) -> Result<bool, PersistenceError> {
    let deleted = diesel::delete(calendar_feeds::table.find(account_id)).execute(conn)?;
    Ok(deleted > 0)
}

/// The account whose calendar feed secret hashes to `token_hash`.
pub fn calendar_feed_owner(
    conn: &mut DbConnection,
    token_hash: &str,
) -> Result<Option<String>, PersistenceError> {
    Ok(calendar_feeds::table
        .select(calendar_feeds::account_id)
        .filter(calendar_feeds::token_hash.eq(token_hash))
        .first(conn)
        .optional()?)
}

/// `(group_session_id, status)` of the live (confirmed or waitlisted)
/// registrations of these sessions, for counting places.
pub fn registration_statuses_of(
    conn: &mut DbConnection,
    ids: &[String],
) -> Result<Vec<(String, String)>, PersistenceError> {
    Ok(group_registrations::table
        .select((
            group_registrations::group_session_id,
            group_registrations::status,
        ))
        .filter(group_registrations::group_session_id.eq_any(ids))
        .filter(group_registrations::status.ne("cancelled"))
        .load(conn)?)
}

/// The head counts of these sessions.
pub fn headcounts_of_sessions(
    conn: &mut DbConnection,
    ids: &[String],
) -> Result<Vec<HeadcountRow>, PersistenceError> {
    Ok(group_headcounts::table
        .select(group_headcounts::all_columns)
        .filter(group_headcounts::group_session_id.eq_any(ids))
        .order((
            group_headcounts::group_session_id.asc(),
            group_headcounts::category.asc(),
            group_headcounts::age_band.asc(),
        ))
        .load(conn)?)
}

/// Appointments about a person: theirs, their follow-ups', or attended by
/// them (data-subject export), by start.
pub fn appointments_of_person(
    conn: &mut DbConnection,
    person_id: &str,
    follow_up_ids: &[String],
) -> Result<Vec<AppointmentRow>, PersistenceError> {
    let attended: Vec<String> = appointment_attendees::table
        .select(appointment_attendees::appointment_id)
        .filter(appointment_attendees::person_id.eq(person_id))
        .load(conn)?;
    Ok(appointments::table
        .select(appointments::all_columns)
        .filter(
            appointments::person_id
                .eq(person_id)
                .or(appointments::follow_up_id.eq_any(follow_up_ids.to_vec()))
                .or(appointments::id.eq_any(attended)),
        )
        .order((appointments::starts_at.asc(), appointments::id.asc()))
        .load(conn)?)
}
