//! Follow-ups ("accompagnements"): statuses, objectives, notes, and the rule
//! that nothing closes a follow-up by itself and a missing child-protection
//! decision keeps it open.

use std::fmt;
use std::str::FromStr;

use crate::identity::{StringEnum, UnknownValue, string_enum};

string_enum!(
    /// Where a follow-up stands.
    FollowUpStatus, "follow-up status" {
        Active => "active",
        Paused => "paused",
        Closed => "closed",
    }
);

string_enum!(
    /// Why a follow-up was closed (fixed list).
    ClosureReason, "closure reason" {
        GoalsReached => "goals_reached",
        ExitFromProstitution => "exit_from_prostitution",
        MovedAway => "moved_away",
        SupportRefused => "support_refused",
        ContactLost => "contact_lost",
        TransferredToAnotherService => "transferred_to_another_service",
        Other => "other",
    }
);

string_enum!(
    /// What the support aims at (fixed list).
    Objective, "objective" {
        ExitDecision => "exit_decision",
        ExitFromControl => "exit_from_control",
        RiskBehaviours => "risk_behaviours",
        FamilyReconstruction => "family_reconstruction",
        Health => "health",
        SchoolingAndInsertion => "schooling_and_insertion",
    }
);

string_enum!(
    /// How far an objective is.
    ObjectiveStatus, "objective status" {
        NotStarted => "not_started",
        InProgress => "in_progress",
        Achieved => "achieved",
        Abandoned => "abandoned",
    }
);

string_enum!(
    /// What a note records.
    NoteKind, "note kind" {
        Meeting => "meeting",
        Phone => "phone",
        Observation => "observation",
    }
);

string_enum!(
    /// The educational measure accompanying the young person, if any.
    MeasureKind, "measure kind" {
        AsePlacement => "ase_placement",
        AseHomeSupport => "ase_home_support",
        PjjMeasure => "pjj_measure",
        Other => "other",
    }
);

string_enum!(
    /// Who else takes part in a follow-up.
    InvolvedKind, "involved person kind" {
        Relative => "relative",
        Professional => "professional",
    }
);

string_enum!(
    /// A status change asked for.
    FollowUpAction, "follow-up action" {
        Pause => "pause",
        Resume => "resume",
        Close => "close",
    }
);

/// Why a follow-up status change is refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum FollowUpError {
    /// Not from this status.
    #[error("a follow-up that is {from} cannot be {verb}")]
    NotAllowed {
        /// The current status.
        from: FollowUpStatus,
        /// What was asked.
        verb: &'static str,
    },
    /// The danger rule keeps it open.
    #[error(
        "a linked referral of a minor in prostitution has no child-protection decision recorded: record it \
         before closing the follow-up"
    )]
    ProtectionDecisionMissing,
}

impl FollowUpError {
    /// The rule's stable tag.
    pub fn tag(self) -> &'static str {
        match self {
            Self::NotAllowed { .. } => "follow-up-transition-not-allowed",
            Self::ProtectionDecisionMissing => "child-protection-decision-missing",
        }
    }
}

impl FollowUpStatus {
    /// The status after `action`. Closing is final; nothing else closes a
    /// follow-up (not the end of a measure, not majority).
    pub fn apply(
        self,
        action: FollowUpAction,
        protection_missing: bool,
    ) -> Result<Self, FollowUpError> {
        use FollowUpAction as A;
        use FollowUpStatus as S;
        match (self, action) {
            (S::Active, A::Pause) => Ok(S::Paused),
            (S::Paused, A::Resume) => Ok(S::Active),
            (S::Active | S::Paused, A::Close) if protection_missing => {
                Err(FollowUpError::ProtectionDecisionMissing)
            }
            (S::Active | S::Paused, A::Close) => Ok(S::Closed),
            (from, action) => Err(FollowUpError::NotAllowed {
                from,
                verb: match action {
                    A::Pause => "paused",
                    A::Resume => "resumed",
                    A::Close => "closed",
                },
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transitions() {
        use FollowUpAction as A;
        use FollowUpStatus as S;
        assert_eq!(S::Active.apply(A::Pause, false), Ok(S::Paused));
        assert_eq!(S::Paused.apply(A::Resume, false), Ok(S::Active));
        assert_eq!(S::Paused.apply(A::Close, false), Ok(S::Closed));
        assert_eq!(
            S::Active.apply(A::Close, true),
            Err(FollowUpError::ProtectionDecisionMissing)
        );
        for action in FollowUpAction::ALL {
            assert!(
                S::Closed.apply(*action, false).is_err(),
                "closed is final: {action}"
            );
        }
        assert!(S::Active.apply(A::Resume, false).is_err());
    }
}
