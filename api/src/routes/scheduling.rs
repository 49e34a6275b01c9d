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
