//! Appointments: modes, the forward-only status machine and the rules a
//! booking must satisfy before it is stored. The "no double-booking" rule is
//! decided by the database (it must hold under concurrent requests); here
//! lives everything that can be decided from the request alone.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Duration, Utc};

use crate::identity::{StringEnum, UnknownValue, string_enum};

string_enum!(
    /// Where or how a meeting happens.
    AppointmentMode, "appointment mode" {
        Permanence => "permanence",
        Home => "home",
        CareHome => "care_home",
        Phone => "phone",
        Video => "video",
        PartnerPremises => "partner_premises",
    }
);

string_enum!(
    /// Where an appointment stands (forward only).
    AppointmentStatus, "appointment status" {
        Scheduled => "scheduled",
        Completed => "completed",
        Cancelled => "cancelled",
        NoShow => "no_show",
    }
);

string_enum!(
    /// Who attends, besides the staff.
    AttendeeKind, "attendee kind" {
        YoungPerson => "young_person",
        Parent => "parent",
        Relative => "relative",
        ReferentProfessional => "referent_professional",
        Professional => "professional",
    }
);

string_enum!(
    /// Whether the team has confirmed an appointment a partner proposed.
    Confirmation, "confirmation" {
        Confirmed => "confirmed",
        Pending => "pending",
    }
);

/// The longest an appointment may last.
pub const MAX_DURATION: Duration = Duration::hours(4);
/// The shortest an appointment may last.
pub const MIN_DURATION: Duration = Duration::minutes(5);

/// A rule an appointment breaks. Each has a stable tag: the problem `type`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum AppointmentRule {
    /// The end is not after the start.
    #[error("the appointment must end after it starts")]
    EndBeforeStart,
    /// Longer than [`MAX_DURATION`].
    #[error("an appointment lasts at most 4 hours")]
    TooLong,
    /// Shorter than [`MIN_DURATION`].
    #[error("an appointment lasts at least 5 minutes")]
    TooShort,
    /// A staff member already has an appointment or a group session then.
    #[error("a staff member is already booked at that time")]
    StaffDoubleBooked,
    /// A `permanence` appointment outside an occurrence of a permanence at
    /// that site held by that staff member.
    #[error(
        "a permanence appointment must lie inside an occurrence of a permanence at that site held by its staff"
    )]
    OutsidePermanence,
    /// The first meeting with a young person without a parent or a referent
    /// professional, and no reason recorded.
    #[error(
        "the first meeting with a young person needs a parent or a referent professional, or a recorded reason why not"
    )]
    FirstMeetingUnaccompanied,
    /// The status does not allow this change (forward only).
    #[error("this change is not possible from the appointment's current status")]
    NotAllowed,
}

impl AppointmentRule {
    /// The stable name of the rule (the problem type's last segment).
    pub fn tag(self) -> &'static str {
        match self {
            Self::EndBeforeStart => "end-before-start",
            Self::TooLong => "too-long",
            Self::TooShort => "too-short",
            Self::StaffDoubleBooked => "staff-double-booked",
            Self::OutsidePermanence => "outside-permanence",
            Self::FirstMeetingUnaccompanied => "first-meeting-unaccompanied",
            Self::NotAllowed => "appointment-transition-not-allowed",
        }
    }
}

/// Checks an appointment's times: end after start, between 5 minutes and 4 hours.
pub fn check_times(start: DateTime<Utc>, end: DateTime<Utc>) -> Result<(), AppointmentRule> {
    if end <= start {
        return Err(AppointmentRule::EndBeforeStart);
    }
    let length = end - start;
    if length > MAX_DURATION {
        return Err(AppointmentRule::TooLong);
    }
    if length < MIN_DURATION {
        return Err(AppointmentRule::TooShort);
    }
    Ok(())
}

/// The first meeting with a young person has a parent or a referent
/// professional present, unless staff record why not.
pub fn check_first_meeting(
    first_meeting: bool,
    attendees: &[AttendeeKind],
    reason_without: Option<&str>,
) -> Result<(), AppointmentRule> {
    let accompanied = attendees
        .iter()
        .any(|a| matches!(a, AttendeeKind::Parent | AttendeeKind::ReferentProfessional));
    let reason = reason_without.is_some_and(|r| !r.trim().is_empty());
    if first_meeting && !accompanied && !reason {
        Err(AppointmentRule::FirstMeetingUnaccompanied)
    } else {
        Ok(())
    }
}

/// Whether `[start, end)` lies inside one of the `occurrences`.
pub fn inside_any(
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    occurrences: &[(DateTime<Utc>, DateTime<Utc>)],
) -> bool {
    occurrences.iter().any(|(s, e)| *s <= start && end <= *e)
}

/// What can happen to an appointment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AppointmentAction {
    /// It took place.
    Complete,
    /// Called off (by whom and why is recorded).
    Cancel,
    /// The young person did not come.
    NoShow,
    /// Moved to other times (stays scheduled).
    Reschedule,
}

impl AppointmentStatus {
    /// The status after `action`, or why it is refused. Only a scheduled
    /// appointment changes; completing or marking a no-show needs its start
    /// to have passed.
    pub fn apply(
        self,
        action: AppointmentAction,
        started: bool,
    ) -> Result<AppointmentStatus, AppointmentRule> {
        if self != Self::Scheduled {
            return Err(AppointmentRule::NotAllowed);
        }
        match action {
            AppointmentAction::Complete if started => Ok(Self::Completed),
            AppointmentAction::NoShow if started => Ok(Self::NoShow),
            AppointmentAction::Complete | AppointmentAction::NoShow => {
                Err(AppointmentRule::NotAllowed)
            }
            AppointmentAction::Cancel => Ok(Self::Cancelled),
            AppointmentAction::Reschedule => Ok(Self::Scheduled),
        }
    }

    /// Whether the appointment still occupies its staff.
    pub fn occupies_staff(self) -> bool {
        !matches!(self, Self::Cancelled)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(h: u32, m: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2027, 3, 9, h, m, 0)
            .single()
            .expect("valid")
    }

    #[test]
    fn times_are_checked() {
        assert_eq!(check_times(at(10, 0), at(11, 0)), Ok(()));
        assert_eq!(
            check_times(at(10, 0), at(10, 0)),
            Err(AppointmentRule::EndBeforeStart)
        );
        assert_eq!(
            check_times(at(11, 0), at(10, 0)),
            Err(AppointmentRule::EndBeforeStart)
        );
        assert_eq!(
            check_times(at(10, 0), at(14, 1)),
            Err(AppointmentRule::TooLong)
        );
        assert_eq!(check_times(at(10, 0), at(14, 0)), Ok(()));
        assert_eq!(
            check_times(at(10, 0), at(10, 4)),
            Err(AppointmentRule::TooShort)
        );
    }

    #[test]
    fn first_meeting_needs_company_or_a_reason() {
        use AttendeeKind::*;
        let rule = Err(AppointmentRule::FirstMeetingUnaccompanied);
        assert_eq!(check_first_meeting(true, &[YoungPerson], None), rule);
        assert_eq!(check_first_meeting(true, &[YoungPerson], Some("  ")), rule);
        assert_eq!(
            check_first_meeting(true, &[YoungPerson, Relative], None),
            rule
        );
        assert_eq!(
            check_first_meeting(true, &[YoungPerson, Parent], None),
            Ok(())
        );
        assert_eq!(
            check_first_meeting(true, &[YoungPerson, ReferentProfessional], None),
            Ok(())
        );
        assert_eq!(
            check_first_meeting(true, &[YoungPerson], Some("young adult, came alone")),
            Ok(())
        );
        assert_eq!(check_first_meeting(false, &[YoungPerson], None), Ok(()));
    }

    #[test]
    fn inside_an_occurrence() {
        let occ = [(at(13, 0), at(16, 0))];
        assert!(inside_any(at(13, 0), at(14, 0), &occ));
        assert!(inside_any(at(15, 0), at(16, 0), &occ));
        assert!(!inside_any(at(15, 30), at(16, 30), &occ));
        assert!(!inside_any(at(12, 30), at(13, 30), &occ));
        assert!(!inside_any(at(13, 0), at(14, 0), &[]));
    }

    #[test]
    fn status_moves_forward_only() {
        use AppointmentAction as A;
        use AppointmentStatus as S;
        assert_eq!(S::Scheduled.apply(A::Complete, true), Ok(S::Completed));
        assert_eq!(S::Scheduled.apply(A::NoShow, true), Ok(S::NoShow));
        assert_eq!(S::Scheduled.apply(A::Cancel, false), Ok(S::Cancelled));
        assert_eq!(S::Scheduled.apply(A::Reschedule, false), Ok(S::Scheduled));
        assert_eq!(
            S::Scheduled.apply(A::Complete, false),
            Err(AppointmentRule::NotAllowed)
        );
        for done in [S::Completed, S::Cancelled, S::NoShow] {
            for action in [A::Complete, A::Cancel, A::NoShow, A::Reschedule] {
                assert_eq!(done.apply(action, true), Err(AppointmentRule::NotAllowed));
            }
        }
        assert!(!S::Cancelled.occupies_staff());
        assert!(S::Completed.occupies_staff());
    }
}
