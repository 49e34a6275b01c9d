//! What the scheduling routes share: rule violations as problems, the
//! database's refusal of an overlapping staff booking, local times.

use adosexo_domain::schedule::appointment::AppointmentRule;
use adosexo_domain::schedule::group::GroupRule;
use adosexo_persistence::PersistenceError;
use adosexo_persistence::schedule::NO_OVERLAP;

use crate::problem::ApiError;

/// 409 `staff-double-booked`: a staff member is already busy then.
pub fn double_booked() -> ApiError {
    ApiError::conflict(
        AppointmentRule::StaffDoubleBooked.tag(),
        "Staff double-booked",
        "a staff member already has an appointment or a group session at that time",
    )
}

/// Maps the database's refusal of an overlapping booking to its problem;
/// other errors pass through.
pub fn booking_error(error: PersistenceError) -> ApiError {
    match error {
        PersistenceError::Constraint(name) if name == NO_OVERLAP => double_booked(),
        other => other.into(),
    }
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
pub fn check_staff(
    conn: &mut adosexo_persistence::DbConnection,
    field: &str,
    ids: &[String],
) -> Result<(), ApiError> {
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
