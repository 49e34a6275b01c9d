//! Group sessions: parent groups, workshops, trainings, case reviews and the
//! 3-day perpetrator courses; capacity with a waitlist; attendance.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Duration, Utc};

use crate::identity::{OrganisationKind, StringEnum, UnknownValue, string_enum};

string_enum!(
    /// What a group session is.
    GroupKind, "group session kind" {
        ParentGroup => "parent_group",
        PreventionWorkshop => "prevention_workshop",
        AwarenessSession => "awareness_session",
        ActionTraining => "action_training",
        CaseReview => "case_review",
        PerpetratorCourse => "perpetrator_course",
    }
);

string_enum!(
    /// Where a group session stands (forward only).
    GroupStatus, "group session status" {
        Planned => "planned",
        Held => "held",
        Cancelled => "cancelled",
    }
);

string_enum!(
    /// Whether people meet in a room or online.
    GroupMode, "group session mode" {
        InPerson => "in_person",
        Remote => "remote",
    }
);

string_enum!(
    /// A registration's place.
    RegistrationStatus, "registration status" {
        Confirmed => "confirmed",
        Waitlisted => "waitlisted",
        Cancelled => "cancelled",
    }
);

string_enum!(
    /// Who a participant is, for registrations and head counts.
    ParticipantCategory, "participant category" {
        YoungPeople => "young_people",
        Parents => "parents",
        Professionals => "professionals",
        Other => "other",
    }
);

string_enum!(
    /// Age bands of head counts (those of the statistics, plus adults).
    AgeBand, "age band" {
        Under13 => "under_13",
        From13To14 => "13_14",
        From15To17 => "15_17",
        From18To21 => "18_21",
        From22 => "22_and_over",
        Unknown => "unknown",
    }
);

/// A half-open period `[start, end)`.
pub type Period = (DateTime<Utc>, DateTime<Utc>);

/// How many consecutive days a perpetrator course lasts.
pub const COURSE_DAYS: u32 = 3;
/// The longest a single day of a group session lasts.
pub const MAX_DAY_LENGTH: Duration = Duration::hours(10);

/// A rule a group session breaks; each tag is a problem `type`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum GroupRule {
    /// The end is not after the start.
    #[error("a session must end after it starts")]
    EndBeforeStart,
    /// A day longer than [`MAX_DAY_LENGTH`].
    #[error(
        "a session day lasts at most 10 hours (a perpetrator course gives the times of its first day)"
    )]
    TooLong,
    /// Remote sessions need a link, in-person ones a venue.
    #[error("an in-person session needs a site or a venue; a remote one needs a link")]
    VenueMissing,
    /// This kind meets in person (see [`GroupKind::may_be_remote`]).
    #[error("this kind of session is held in person")]
    RemoteNotAllowed,
    /// A perpetrator course is organised with a probation or prison service.
    #[error(
        "a perpetrator course is organised with a justice (probation or prison) or PJJ organisation"
    )]
    CoursePartnerMissing,
    /// The status does not allow this change.
    #[error("this change is not possible from the session's current status")]
    NotAllowed,
}

impl GroupRule {
    /// The stable name of the rule.
    pub fn tag(self) -> &'static str {
        match self {
            Self::EndBeforeStart => "end-before-start",
            Self::TooLong => "too-long",
            Self::VenueMissing => "venue-missing",
            Self::RemoteNotAllowed => "remote-not-allowed",
            Self::CoursePartnerMissing => "course-partner-missing",
            Self::NotAllowed => "group-session-transition-not-allowed",
        }
    }
}

impl GroupKind {
    /// How many consecutive days the session lasts.
    pub fn days(self) -> u32 {
        if self == Self::PerpetratorCourse {
            COURSE_DAYS
        } else {
            1
        }
    }

    /// Whether the kind may be held remotely. Trainings, case reviews and
    /// awareness sessions for professionals may; groups with parents or
    /// young people and courses in prison meet in person.
    pub fn may_be_remote(self) -> bool {
        matches!(
            self,
            Self::CaseReview | Self::AwarenessSession | Self::ActionTraining
        )
    }

    /// Whether professionals sign up to it (issue: sign-up by partners).
    pub fn open_to_professionals(self) -> bool {
        matches!(
            self,
            Self::AwarenessSession | Self::ActionTraining | Self::CaseReview
        )
    }
}

/// The periods a session occupies its staff: one per day, the first day's
/// times repeated on the following days (same UTC length, same UTC time —
/// callers give local times of day one; consecutive days in one season keep
/// their local time, and a course is never spread across a DST change by
/// more than a day).
pub fn occupied_days(
    kind: GroupKind,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
) -> Result<Vec<Period>, GroupRule> {
    if end <= start {
        return Err(GroupRule::EndBeforeStart);
    }
    if end - start > MAX_DAY_LENGTH {
        return Err(GroupRule::TooLong);
    }
    Ok((0..kind.days())
        .map(|d| {
            let shift = Duration::days(i64::from(d));
            (start + shift, end + shift)
        })
        .collect())
}

/// Checks the venue against the mode and the kind.
pub fn check_venue(
    kind: GroupKind,
    mode: GroupMode,
    has_venue: bool,
    has_link: bool,
) -> Result<(), GroupRule> {
    match mode {
        GroupMode::Remote if !kind.may_be_remote() => Err(GroupRule::RemoteNotAllowed),
        GroupMode::Remote if !has_link => Err(GroupRule::VenueMissing),
        GroupMode::InPerson if !has_venue => Err(GroupRule::VenueMissing),
        _ => Ok(()),
    }
}

/// A perpetrator course names a justice or PJJ organisation as partner.
pub fn check_course_partner(
    kind: GroupKind,
    partner: Option<OrganisationKind>,
) -> Result<(), GroupRule> {
    if kind != GroupKind::PerpetratorCourse {
        return Ok(());
    }
    match partner {
        Some(OrganisationKind::Justice | OrganisationKind::Pjj) => Ok(()),
        _ => Err(GroupRule::CoursePartnerMissing),
    }
}

impl GroupStatus {
    /// `planned → held | cancelled`; held only once the session has started.
    pub fn apply(self, to: GroupStatus, started: bool) -> Result<GroupStatus, GroupRule> {
        match (self, to) {
            (Self::Planned, Self::Held) if started => Ok(Self::Held),
            (Self::Planned, Self::Cancelled) => Ok(Self::Cancelled),
            _ => Err(GroupRule::NotAllowed),
        }
    }
}

/// Where a new registration goes: a confirmed place while there is room
/// (no capacity: always), the waitlist otherwise.
pub fn place_for_new(confirmed: u32, capacity: Option<u32>) -> RegistrationStatus {
    match capacity {
        Some(cap) if confirmed >= cap => RegistrationStatus::Waitlisted,
        _ => RegistrationStatus::Confirmed,
    }
}

/// How many waitlisted registrations to promote (oldest first) now that
/// `confirmed` places are taken.
pub fn promotions(confirmed: u32, waitlisted: u32, capacity: Option<u32>) -> u32 {
    match capacity {
        None => waitlisted,
        Some(cap) => cap.saturating_sub(confirmed).min(waitlisted),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(d: u32, h: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2027, 6, d, h, 0, 0)
            .single()
            .expect("valid")
    }

    #[test]
    fn a_course_occupies_three_consecutive_days() {
        let days = occupied_days(GroupKind::PerpetratorCourse, at(7, 7), at(7, 15)).expect("ok");
        assert_eq!(
            days,
            vec![
                (at(7, 7), at(7, 15)),
                (at(8, 7), at(8, 15)),
                (at(9, 7), at(9, 15))
            ]
        );
        let one = occupied_days(GroupKind::ParentGroup, at(7, 16), at(7, 18)).expect("ok");
        assert_eq!(one, vec![(at(7, 16), at(7, 18))]);
        assert_eq!(
            occupied_days(GroupKind::ParentGroup, at(7, 18), at(7, 16)),
            Err(GroupRule::EndBeforeStart)
        );
        assert_eq!(
            occupied_days(GroupKind::PerpetratorCourse, at(7, 7), at(7, 18)),
            Err(GroupRule::TooLong)
        );
    }

    #[test]
    fn venue_and_partner_rules() {
        use GroupKind::*;
        use GroupMode::*;
        assert_eq!(check_venue(CaseReview, Remote, false, true), Ok(()));
        assert_eq!(
            check_venue(CaseReview, Remote, false, false),
            Err(GroupRule::VenueMissing)
        );
        assert_eq!(
            check_venue(ParentGroup, Remote, false, true),
            Err(GroupRule::RemoteNotAllowed)
        );
        assert_eq!(
            check_venue(ParentGroup, InPerson, false, false),
            Err(GroupRule::VenueMissing)
        );
        assert_eq!(check_venue(ParentGroup, InPerson, true, false), Ok(()));
        assert_eq!(
            check_course_partner(PerpetratorCourse, Some(OrganisationKind::School)),
            Err(GroupRule::CoursePartnerMissing)
        );
        assert_eq!(
            check_course_partner(PerpetratorCourse, None),
            Err(GroupRule::CoursePartnerMissing)
        );
        assert_eq!(
            check_course_partner(PerpetratorCourse, Some(OrganisationKind::Justice)),
            Ok(())
        );
        assert_eq!(check_course_partner(ParentGroup, None), Ok(()));
    }

    #[test]
    fn status_and_waitlist() {
        use GroupStatus::*;
        assert_eq!(Planned.apply(Held, true), Ok(Held));
        assert_eq!(Planned.apply(Held, false), Err(GroupRule::NotAllowed));
        assert_eq!(Planned.apply(Cancelled, false), Ok(Cancelled));
        assert_eq!(Held.apply(Cancelled, true), Err(GroupRule::NotAllowed));
        assert_eq!(Cancelled.apply(Held, true), Err(GroupRule::NotAllowed));
        assert_eq!(Planned.apply(Planned, true), Err(GroupRule::NotAllowed));

        assert_eq!(place_for_new(0, Some(2)), RegistrationStatus::Confirmed);
        assert_eq!(place_for_new(2, Some(2)), RegistrationStatus::Waitlisted);
        assert_eq!(place_for_new(99, None), RegistrationStatus::Confirmed);
        assert_eq!(promotions(1, 3, Some(2)), 1);
        assert_eq!(promotions(2, 3, Some(2)), 0);
        assert_eq!(promotions(0, 0, Some(2)), 0);
        assert_eq!(promotions(5, 3, None), 3);
    }
}
