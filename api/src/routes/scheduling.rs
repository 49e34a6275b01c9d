//! What the scheduling routes share: rule violations as problems, the
//! database's refusal of an overlapping staff booking, local times.

use adosexo_domain::authz::{self, Action, Resource};
use adosexo_domain::identity::Actor;
use adosexo_domain::schedule::appointment::AppointmentRule;
use adosexo_domain::schedule::group::GroupRule;
use adosexo_persistence::schedule::{self, BookingRow, NO_OVERLAP};
use adosexo_persistence::{DbConnection, PersistenceError};

use super::cases::stored_departement;
use crate::problem::{ApiError, ConflictingBooking};

/// 409 `staff-double-booked`: a staff member is already busy then.
pub fn double_booked() -> ApiError {
    ApiError::conflict(
        AppointmentRule::StaffDoubleBooked.tag(),
        "Staff double-booked",
        "a staff member already has an appointment or a group session at that time",
    )
}

/// Maps the database's refusal of an overlapping booking to its problem,
/// naming what it collides with when `actor` may read it; other errors pass
/// through. Called in the transaction that tried to insert `bookings`.
pub fn booking_error(
    conn: &mut DbConnection,
    actor: &Actor,
    bookings: &[BookingRow],
    error: PersistenceError,
) -> ApiError {
    match error {
        PersistenceError::Constraint(name) if name == NO_OVERLAP => {
            match visible_conflict(conn, actor, bookings) {
                Ok(conflicting) => double_booked().with_conflicting(conflicting),
                Err(error) => error,
            }
        }
        other => other.into(),
    }
}

/// The booking `bookings` ran into, if `actor` may read its appointment or
/// group session (the same decision as reading it; a denial here is not
/// audited because nothing is disclosed).
fn visible_conflict(
    conn: &mut DbConnection,
    actor: &Actor,
    bookings: &[BookingRow],
) -> Result<Option<ConflictingBooking>, ApiError> {
    let Some(other) = schedule::overlapping_booking(conn, bookings)? else {
        return Ok(None);
    };
    let (kind, id, readable) = match (&other.appointment_id, &other.group_session_id) {
        (Some(id), _) => {
            let Some(row) = schedule::find_appointment(conn, id)? else {
                return Ok(None);
            };
            let archived = match row.follow_up_id.as_deref() {
                Some(follow_up) => {
                    adosexo_persistence::retention::archive_entry(conn, follow_up)?.is_some()
                }
                None => false,
            };
            let staff: Vec<String> =
                schedule::staff_of_appointments(conn, std::slice::from_ref(id))?
                    .into_iter()
                    .map(|(_, account)| account)
                    .collect();
            let departement = stored_departement(&row.departement_code)?;
            let resource = Resource::Appointment {
                departement: &departement,
                staff: &staff,
                proposed_by: row.proposed_by_organisation_id.as_deref(),
            };
            let readable =
                !archived && authz::authorize(actor, Action::ReadAppointment, resource).is_ok();
            ("appointment", id.clone(), readable)
        }
        (None, Some(id)) => {
            let Some(row) = schedule::find_group_session(conn, id)? else {
                return Ok(None);
            };
            let staff: Vec<String> =
                schedule::staff_of_group_sessions(conn, std::slice::from_ref(id))?
                    .into_iter()
                    .map(|(_, account)| account)
                    .collect();
            let departement = stored_departement(&row.departement_code)?;
            let resource = Resource::GroupSession {
                departement: &departement,
                staff: &staff,
            };
            let readable = authz::authorize(actor, Action::ReadGroupSession, resource).is_ok();
            ("group_session", id.clone(), readable)
        }
        (None, None) => return Ok(None),
    };
    Ok(readable.then(|| ConflictingBooking {
        kind: kind.to_owned(),
        id,
        starts_at: other.starts_at.and_utc(),
        ends_at: other.ends_at.and_utc(),
    }))
}

/// An appointment rule as a problem (422, or 409 for a double booking).
pub fn appointment_rule(rule: AppointmentRule) -> ApiError {
    match rule {
        AppointmentRule::StaffDoubleBooked => double_booked(),
        AppointmentRule::NotAllowed => ApiError::conflict(
            rule.tag(),
            "Appointment status does not allow this",
            rule.to_string(),
        ),
        _ => ApiError::rule(rule.tag(), "Appointment rule", rule.to_string()),
    }
}

/// A group session rule as a problem (422, or 409 for a status change).
pub fn group_rule(rule: GroupRule) -> ApiError {
    match rule {
        GroupRule::NotAllowed => ApiError::conflict(
            rule.tag(),
            "Group session status does not allow this",
            rule.to_string(),
        ),
        _ => ApiError::rule(rule.tag(), "Group session rule", rule.to_string()),
    }
}

/// Checks that every id names an active staff account who works on cases
/// (supervisor, coordinator, regional referent); 422 naming `field`.
pub fn check_staff(conn: &mut DbConnection, field: &str, ids: &[String]) -> Result<(), ApiError> {
    for id in ids {
        let usable = adosexo_persistence::identity::find_account(conn, id)?.is_some_and(|a| {
            a.status == "active"
                && adosexo_domain::identity::Roles::parse_list(&a.roles)
                    .is_ok_and(|r| r.works_on_cases())
        });
        if !usable {
            return Err(ApiError::invalid_value(
                field,
                "staff",
                format!("{id} is not an active staff account of the programme"),
            ));
        }
    }
    Ok(())
}

/// An instant shown in Paris time, with its offset.
pub fn paris(instant: chrono::DateTime<chrono::Utc>) -> chrono::DateTime<chrono::FixedOffset> {
    use chrono::Offset;
    let local = instant.with_timezone(&adosexo_domain::schedule::PARIS);
    local.with_timezone(&local.offset().fix())
}

/// The longest range an occurrence or agenda query may span.
pub const MAX_RANGE_DAYS: i64 = 366;

/// Checks a `from`/`to` range: `to` after `from`, at most a year.
pub fn check_range(
    from: chrono::DateTime<chrono::Utc>,
    to: chrono::DateTime<chrono::Utc>,
) -> Result<(), ApiError> {
    if to <= from {
        return Err(ApiError::invalid_value(
            "to",
            "range",
            "to must be after from",
        ));
    }
    if to - from > chrono::Duration::days(MAX_RANGE_DAYS) {
        return Err(ApiError::invalid_value(
            "to",
            "range",
            format!("a range spans at most {MAX_RANGE_DAYS} days"),
        ));
    }
    Ok(())
}
