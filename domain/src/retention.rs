//! Retention and erasure: when a follow-up leaves the active base for the
//! restricted archive, when its personal fields are pseudonymised, and when
//! the law requires keeping a person's data despite an erasure request
//! (RGPD art. 17(3)). Pure: every instant is passed in.

use chrono::{DateTime, Duration, Utc};

use std::fmt;
use std::str::FromStr;

use crate::identity::{StringEnum, UnknownValue, string_enum};

/// How long follow-up data stays in the active base after the last contact,
/// then in the restricted archive before pseudonymisation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetentionPolicy {
    /// Days after the last contact before archiving (default 2 years).
    pub active_days: u32,
    /// Days in the archive before personal fields are removed.
    pub archive_days: u32,
}

impl Default for RetentionPolicy {
    fn default() -> Self {
        Self {
            active_days: 730,
            archive_days: 1095,
        }
    }
}

/// Where one follow-up stands, as stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetentionState {
    /// The latest contact: opening, a note, an appointment not cancelled
    /// (past or planned), an objective change, a linked referral.
    pub last_contact: DateTime<Utc>,
    /// When it entered the archive, if it has.
    pub archived_at: Option<DateTime<Utc>>,
    /// Whether its personal fields are already removed.
    pub pseudonymised: bool,
}

/// What retention does to a follow-up now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RetentionStep {
    /// Stays where it is.
    Keep,
    /// Leaves the active base for the restricted archive.
    Archive,
    /// Its personal fields are removed (statistics stay the same).
    Pseudonymise,
}

/// The step due for `state` at `now`: archive once the last contact is
/// strictly older than the active period, pseudonymise once the archive
/// period has passed since archiving. One step per run: a follow-up is
/// never archived and pseudonymised in the same run.
pub fn step(policy: RetentionPolicy, state: RetentionState, now: DateTime<Utc>) -> RetentionStep {
    if state.pseudonymised {
        return RetentionStep::Keep;
    }
    match state.archived_at {
        None if state.last_contact < now - Duration::days(i64::from(policy.active_days)) => {
            RetentionStep::Archive
        }
        Some(archived) if archived < now - Duration::days(i64::from(policy.archive_days)) => {
            RetentionStep::Pseudonymise
        }
        _ => RetentionStep::Keep,
    }
}

string_enum!(
    /// Who asks for erasure.
    ErasureRequester, "erasure requester" {
        Person => "person",
        ParentalAuthority => "parental_authority",
        LegalRepresentative => "legal_representative",
    }
);

string_enum!(
    /// Where an erasure request stands.
    ErasureStatus, "erasure status" {
        Pending => "pending",
        Executed => "executed",
        Refused => "refused",
    }
);

string_enum!(
    /// Why the law requires keeping a person's data (RGPD art. 17(3)).
    ErasureRefusal, "erasure refusal" {
        ProtectionDecisionPending => "protection_decision_pending",
        ChildProtectionMission => "child_protection_mission",
        ReferralInProgress => "referral_in_progress",
        ArchiveRetention => "archive_retention",
    }
);

impl ErasureRefusal {
    /// The legal reason, as told to the requester.
    pub fn legal_reason(self) -> &'static str {
        match self {
            Self::ProtectionDecisionPending => {
                "A child-protection decision (information préoccupante or report to the \
                 prosecutor, CASF L226-2-1) is pending on a referral about this person: the data \
                 are needed to comply with a legal obligation (RGPD art. 17(3)(b))."
            }
            Self::ChildProtectionMission => {
                "This person is the subject of, or involved in, a follow-up in the active base: \
                 the data are needed for a task carried out in the public interest, the \
                 protection of children (CASF L112-3, L221-1; RGPD art. 17(3)(b))."
            }
            Self::ReferralInProgress => {
                "A referral about this person is still being reviewed: the data are needed for \
                 the public-interest mission until it is decided (RGPD art. 17(3)(b))."
            }
            Self::ArchiveRetention => {
                "A follow-up of this person is in the restricted archive, kept for the \
                 establishment, exercise or defence of legal claims until its archive period \
                 ends, after which it is pseudonymised (RGPD art. 17(3)(e))."
            }
        }
    }
}

/// What is held on a person that may oblige keeping it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ErasureFacts {
    /// A referral about them needs a child-protection decision not yet recorded.
    pub protection_decision_pending: bool,
    /// A follow-up in the active base has them as subject or involved.
    pub active_follow_up: bool,
    /// A referral about them is received or under review.
    pub referral_in_progress: bool,
    /// A follow-up of theirs is archived and not yet pseudonymised.
    pub archived_follow_up: bool,
}

/// Whether erasure may be executed: `Err` names the first legal reason to
/// keep the data, most pressing first.
pub fn may_erase(facts: ErasureFacts) -> Result<(), ErasureRefusal> {
    if facts.protection_decision_pending {
        Err(ErasureRefusal::ProtectionDecisionPending)
    } else if facts.active_follow_up {
        Err(ErasureRefusal::ChildProtectionMission)
    } else if facts.referral_in_progress {
        Err(ErasureRefusal::ReferralInProgress)
    } else if facts.archived_follow_up {
        Err(ErasureRefusal::ArchiveRetention)
    } else {
        Ok(())
    }
}

/// The first name left on a pseudonymised person: no one is recognisable
/// from it, and lists still show a value.
pub const PSEUDONYM: &str = "pseudonymised";

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use proptest::prelude::*;

    fn at(days: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2020, 1, 1, 12, 0, 0)
            .single()
            .expect("instant")
            + Duration::days(days)
    }

    const POLICY: RetentionPolicy = RetentionPolicy {
        active_days: 730,
        archive_days: 1095,
    };

    fn active(last: i64) -> RetentionState {
        RetentionState {
            last_contact: at(last),
            archived_at: None,
            pseudonymised: false,
        }
    }

    #[test]
    fn archives_strictly_after_the_active_period() {
        assert_eq!(step(POLICY, active(0), at(730)), RetentionStep::Keep);
        assert_eq!(
            step(POLICY, active(0), at(730) + Duration::seconds(1)),
            RetentionStep::Archive
        );
        assert_eq!(step(POLICY, active(10), at(735)), RetentionStep::Keep);
    }

    #[test]
    fn pseudonymises_after_the_archive_period_only() {
        let archived = RetentionState {
            archived_at: Some(at(800)),
            ..active(0)
        };
        assert_eq!(step(POLICY, archived, at(800 + 1095)), RetentionStep::Keep);
        assert_eq!(
            step(POLICY, archived, at(801 + 1095)),
            RetentionStep::Pseudonymise
        );
        let done = RetentionState {
            pseudonymised: true,
            ..archived
        };
        assert_eq!(step(POLICY, done, at(9000)), RetentionStep::Keep);
    }

    #[test]
    fn erasure_names_the_most_pressing_reason() {
        assert_eq!(may_erase(ErasureFacts::default()), Ok(()));
        let all = ErasureFacts {
            protection_decision_pending: true,
            active_follow_up: true,
            referral_in_progress: true,
            archived_follow_up: true,
        };
        assert_eq!(
            may_erase(all),
            Err(ErasureRefusal::ProtectionDecisionPending)
        );
        assert_eq!(
            may_erase(ErasureFacts {
                protection_decision_pending: false,
                ..all
            }),
            Err(ErasureRefusal::ChildProtectionMission)
        );
        assert_eq!(
            may_erase(ErasureFacts {
                referral_in_progress: true,
                ..ErasureFacts::default()
            }),
            Err(ErasureRefusal::ReferralInProgress)
        );
        assert_eq!(
            may_erase(ErasureFacts {
                archived_follow_up: true,
                ..ErasureFacts::default()
            }),
            Err(ErasureRefusal::ArchiveRetention)
        );
        for refusal in ErasureRefusal::ALL {
            assert!(refusal.legal_reason().contains("RGPD art. 17(3)"));
        }
    }

    proptest! {
        /// Time only moves a follow-up forward: once a step is due it stays
        /// due (or the next one is) at every later instant.
        #[test]
        fn steps_are_monotone_in_time(last in 0i64..5000, t in 0i64..10000, later in 0i64..5000) {
            let state = active(last);
            let now = at(t);
            let after = now + Duration::days(later);
            if step(POLICY, state, now) == RetentionStep::Archive {
                prop_assert_eq!(step(POLICY, state, after), RetentionStep::Archive);
                let archived = RetentionState { archived_at: Some(now), ..state };
                prop_assert_ne!(step(POLICY, archived, now), RetentionStep::Archive);
            } else {
                prop_assert!(last + 730 >= t);
            }
        }

        /// A follow-up with a contact inside the active period is never archived.
        #[test]
        fn recent_contact_is_kept(age in 0i64..=730, t in 1000i64..9000) {
            prop_assert_eq!(step(POLICY, active(t - age), at(t)), RetentionStep::Keep);
        }
    }
}
