//! Referrals ("orientations"): who asks for help for whom, and the rules of
//! their lifecycle, including the child-protection danger rule.

use std::fmt;
use std::str::FromStr;

use crate::identity::{StringEnum, UnknownValue, string_enum};

string_enum!(
    /// Whom the referral is about.
    Public, "public" {
        YoungPerson => "young_person",
        Relative => "relative",
        Professional => "professional",
    }
);

string_enum!(
    /// The situation as the referrer sees it.
    Context, "context" {
        PreProstitution => "pre_prostitution",
        Prostitution => "prostitution",
        Perpetrator => "perpetrator",
        Unknown => "unknown",
    }
);

string_enum!(
    /// Who asks.
    SourceKind, "source kind" {
        PartnerOrganisation => "partner_organisation",
        Parent => "parent",
        YoungPerson => "young_person",
        Other => "other",
    }
);

string_enum!(
    /// How soon the team should act.
    Urgency, "urgency" {
        Routine => "routine",
        Urgent => "urgent",
        Emergency => "emergency",
    }
);

string_enum!(
    /// Signs the referrer observed (fixed list).
    RiskIndicator, "risk indicator" {
        Runaway => "runaway",
        OnlineExposure => "online_exposure",
        OlderPartner => "older_partner",
        MoneyOrGifts => "money_or_gifts",
        HotelOrRentalStays => "hotel_or_rental_stays",
        SchoolDropout => "school_dropout",
        SubstanceUse => "substance_use",
        SexualViolenceHistory => "sexual_violence_history",
        PeerRecruitment => "peer_recruitment",
        UnexplainedBelongings => "unexplained_belongings",
        ControlByThirdParty => "control_by_third_party",
        Other => "other",
    }
);

string_enum!(
    /// Gender, when given.
    Gender, "gender" {
        Female => "female",
        Male => "male",
        NonBinary => "non_binary",
        Undisclosed => "undisclosed",
    }
);

string_enum!(
    /// Where a referral stands. Forward only.
    ReferralStatus, "referral status" {
        Submitted => "submitted",
        InReview => "in_review",
        Accepted => "accepted",
        Declined => "declined",
        Redirected => "redirected",
        Withdrawn => "withdrawn",
    }
);

string_enum!(
    /// A lifecycle action.
    ReferralAction, "referral action" {
        Submit => "submit",
        Review => "review",
        Accept => "accept",
        Decline => "decline",
        Redirect => "redirect",
        Withdraw => "withdraw",
        RecordProtectionDecision => "record_protection_decision",
    }
);

string_enum!(
    /// How the mandatory child-protection decision was taken.
    ProtectionDecisionKind, "protection decision kind" {
        InformationPreoccupante => "information_preoccupante",
        Signalement => "signalement",
        JudicialMeasure => "judicial_measure",
    }
);

/// Why a lifecycle action is refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TransitionError {
    /// The action does not apply in this status (forward only).
    #[error("a referral that is {from} cannot be {verb}")]
    NotAllowed {
        /// The current status.
        from: ReferralStatus,
        /// What was attempted.
        verb: &'static str,
    },
    /// The danger rule: a minor in prostitution needs a recorded
    /// child-protection decision before the referral is accepted.
    #[error(
        "a minor in a prostitution situation is deemed in danger (loi n° 2002-305, art. 13): record the \
         child-protection decision (information préoccupante to the CRIP, signalement to the prosecutor, \
         or the judicial measure in place) before accepting"
    )]
    ProtectionDecisionMissing,
}

impl TransitionError {
    /// The rule's stable tag.
    pub fn tag(self) -> &'static str {
        match self {
            Self::NotAllowed { .. } => "referral-transition-not-allowed",
            Self::ProtectionDecisionMissing => "child-protection-decision-missing",
        }
    }
}

impl ReferralStatus {
    /// Whether the team has decided (accepted, declined, redirected) or the
    /// referrer withdrew: nothing moves any more.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            Self::Accepted | Self::Declined | Self::Redirected | Self::Withdrawn
        )
    }

    /// The status after `action`, or why not. `protection_pending` says the
    /// danger rule applies and its decision is not recorded yet.
    pub fn apply(
        self,
        action: ReferralAction,
        protection_pending: bool,
    ) -> Result<Self, TransitionError> {
        use ReferralAction as A;
        use ReferralStatus as S;
        let open = matches!(self, S::Submitted | S::InReview);
        let verb = match action {
            A::Submit => "submitted",
            A::Review => "put in review",
            A::Accept => "accepted",
            A::Decline => "declined",
            A::Redirect => "redirected",
            A::Withdraw => "withdrawn",
            A::RecordProtectionDecision => "given a child-protection decision",
        };
        let refused = Err(TransitionError::NotAllowed { from: self, verb });
        match action {
            A::Submit => refused,
            A::Review if self == S::Submitted => Ok(S::InReview),
            A::Accept if open && protection_pending => {
                Err(TransitionError::ProtectionDecisionMissing)
            }
            A::Accept if open => Ok(S::Accepted),
            A::Decline if open => Ok(S::Declined),
            A::Redirect if open => Ok(S::Redirected),
            A::Withdraw if open => Ok(S::Withdrawn),
            // The decision may be recorded at any time, also after acceptance.
            A::RecordProtectionDecision if self != S::Withdrawn => Ok(self),
            _ => refused,
        }
    }
}

/// A birth date (`YYYY-MM-DD` parts) or only a year.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Birth {
    /// Full date.
    Date {
        /// Year.
        year: i32,
        /// Month, 1–12.
        month: u32,
        /// Day, 1–31.
        day: u32,
    },
    /// Only the year is known.
    Year(i32),
}

impl Birth {
    /// The age on `(year, month, day)`; with only a year known, the
    /// youngest age possible (born on 31 December), so that protection
    /// rules err on the side of the child.
    pub fn youngest_age_on(self, today: (i32, u32, u32)) -> i32 {
        let (year, month, day) = match self {
            Self::Date { year, month, day } => (year, month, day),
            Self::Year(year) => (year, 12, 31),
        };
        let (ty, tm, td) = today;
        let had_birthday = (tm, td) >= (month, day);
        ty - year - if had_birthday { 0 } else { 1 }
    }

    /// Whether the person may be a minor on `today`.
    pub fn may_be_minor_on(self, today: (i32, u32, u32)) -> bool {
        self.youngest_age_on(today) < 18
    }
}

/// The danger rule (loi n° 2002-305, art. 13): a minor engaged in
/// prostitution, even occasionally, is deemed in danger.
pub fn protection_decision_required(
    public: Public,
    context: Context,
    birth: Option<Birth>,
    today: (i32, u32, u32),
) -> bool {
    public == Public::YoungPerson
        && context == Context::Prostitution
        // Without any birth information, assume a minor: the programme serves minors first.
        && birth.is_none_or(|b| b.may_be_minor_on(today))
}

/// A partner refers for its own organisation: as `partner_organisation`,
/// without naming another organisation.
pub fn partner_source_allowed(source: SourceKind, names_organisation: bool) -> bool {
    source == SourceKind::PartnerOrganisation && !names_organisation
}

/// A first name for duplicate detection: accents and case removed, only
/// letters and digits kept ("Élodie-Marie" → "elodiemarie").
pub fn name_key(name: &str) -> String {
    name.chars()
        .flat_map(char::to_lowercase)
        .map(fold_accent)
        .filter(|c| c.is_alphanumeric())
        .collect()
}

fn fold_accent(c: char) -> char {
    match c {
        'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' => 'a',
        'ç' => 'c',
        'è' | 'é' | 'ê' | 'ë' => 'e',
        'ì' | 'í' | 'î' | 'ï' => 'i',
        'ñ' => 'n',
        'ò' | 'ó' | 'ô' | 'õ' | 'ö' => 'o',
        'ù' | 'ú' | 'û' | 'ü' => 'u',
        'ý' | 'ÿ' => 'y',
        'æ' => 'a',
        'œ' => 'o',
        other => other,
    }
}

/// A human reference such as `ORI-2026-000123`.
pub fn human_reference(prefix: &str, year: i32, sequence: i64) -> String {
    format!("{prefix}-{year}-{sequence:06}")
}

impl fmt::Display for Birth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Date { year, month, day } => write!(f, "{year:04}-{month:02}-{day:02}"),
            Self::Year(year) => write!(f, "{year:04}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn lifecycle_moves_forward_only() {
        use ReferralAction as A;
        use ReferralStatus as S;
        assert_eq!(S::Submitted.apply(A::Review, false), Ok(S::InReview));
        assert_eq!(S::InReview.apply(A::Accept, false), Ok(S::Accepted));
        assert_eq!(S::Submitted.apply(A::Accept, false), Ok(S::Accepted));
        assert_eq!(S::InReview.apply(A::Decline, false), Ok(S::Declined));
        assert_eq!(S::InReview.apply(A::Redirect, false), Ok(S::Redirected));
        assert_eq!(S::Submitted.apply(A::Withdraw, false), Ok(S::Withdrawn));
        assert!(S::InReview.apply(A::Review, false).is_err());
        for done in [S::Accepted, S::Declined, S::Redirected, S::Withdrawn] {
            for action in [A::Review, A::Accept, A::Decline, A::Redirect, A::Withdraw] {
                assert!(done.apply(action, false).is_err(), "{done} {action}");
            }
        }
        assert_eq!(
            S::InReview.apply(A::Accept, true),
            Err(TransitionError::ProtectionDecisionMissing)
        );
        assert_eq!(S::InReview.apply(A::Decline, true), Ok(S::Declined));
    }

    proptest! {
        #[test]
        fn no_action_ever_goes_back(status in 0usize..6, action in 0usize..7, pending: bool) {
            let status = ReferralStatus::ALL[status];
            let action = ReferralAction::ALL[action];
            if let Ok(next) = status.apply(action, pending) {
                let rank = |s: ReferralStatus| match s {
                    ReferralStatus::Submitted => 0,
                    ReferralStatus::InReview => 1,
                    _ => 2,
                };
                prop_assert!(rank(next) >= rank(status));
                prop_assert!(!status.is_final() || next == status);
            }
        }
    }

    #[test]
    fn ages_round_down_and_year_only_is_youngest() {
        let birth = Birth::Date {
            year: 2010,
            month: 6,
            day: 15,
        };
        assert_eq!(birth.youngest_age_on((2028, 6, 14)), 17);
        assert_eq!(birth.youngest_age_on((2028, 6, 15)), 18);
        assert!(birth.may_be_minor_on((2028, 6, 14)));
        assert!(!birth.may_be_minor_on((2028, 6, 15)));
        assert_eq!(Birth::Year(2010).youngest_age_on((2028, 6, 15)), 17);
        assert_eq!(Birth::Year(2010).youngest_age_on((2028, 12, 31)), 18);
    }

    #[test]
    fn danger_rule() {
        let today = (2026, 11, 29);
        let minor = Some(Birth::Date {
            year: 2011,
            month: 3,
            day: 2,
        });
        let adult = Some(Birth::Date {
            year: 2000,
            month: 1,
            day: 1,
        });
        assert!(protection_decision_required(
            Public::YoungPerson,
            Context::Prostitution,
            minor,
            today
        ));
        assert!(protection_decision_required(
            Public::YoungPerson,
            Context::Prostitution,
            None,
            today
        ));
        assert!(!protection_decision_required(
            Public::YoungPerson,
            Context::Prostitution,
            adult,
            today
        ));
        assert!(!protection_decision_required(
            Public::YoungPerson,
            Context::PreProstitution,
            minor,
            today
        ));
        assert!(!protection_decision_required(
            Public::Relative,
            Context::Prostitution,
            minor,
            today
        ));
    }

    #[test]
    fn partners_refer_for_their_own_organisation() {
        assert!(partner_source_allowed(
            SourceKind::PartnerOrganisation,
            false
        ));
        assert!(!partner_source_allowed(
            SourceKind::PartnerOrganisation,
            true
        ));
        assert!(!partner_source_allowed(SourceKind::Parent, false));
    }

    #[test]
    fn name_keys_ignore_accents_case_and_punctuation() {
        assert_eq!(name_key("Élodie-Marie"), "elodiemarie");
        assert_eq!(name_key("ELODIE MARIE"), "elodiemarie");
        assert_eq!(name_key("Zoë"), "zoe");
        assert_eq!(human_reference("ORI", 2026, 123), "ORI-2026-000123");
    }
}
