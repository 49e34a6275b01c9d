//! Information sharing and consent: the legal basis of each processing
//! purpose, who must consent at which age, when a consent is effective, and
//! the conditions of a share under shared professional secrecy (CASF
//! L226-2-2). Pure: every instant or date is passed in.

use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Datelike, NaiveDate, Utc};

use crate::identity::{OrganisationKind, StringEnum, UnknownValue, string_enum};
use crate::referral::Birth;
use crate::schedule::PARIS;

string_enum!(
    /// Why personal data is processed.
    Purpose, "processing purpose" {
        SupportFile => "support_file",
        PhoneContact => "phone_contact",
        FamilyContact => "family_contact",
        Research => "research",
    }
);

string_enum!(
    /// The legal basis of a processing purpose (RGPD art. 6).
    LegalBasis, "legal basis" {
        PublicInterest => "public_interest",
        Consent => "consent",
    }
);

impl Purpose {
    /// The support file rests on a public-interest child-protection
    /// mission; the optional purposes on consent.
    pub fn legal_basis(self) -> LegalBasis {
        match self {
            Self::SupportFile => LegalBasis::PublicInterest,
            Self::PhoneContact | Self::FamilyContact | Self::Research => LegalBasis::Consent,
        }
    }
}

string_enum!(
    /// Who gave a consent.
    Giver, "consent giver" {
        YoungPerson => "young_person",
        ParentalAuthority => "parental_authority",
        YoungAdult => "young_adult",
    }
);

string_enum!(
    /// How a consent was collected.
    ConsentMethod, "consent method" {
        Oral => "oral",
        Written => "written",
        Electronic => "electronic",
    }
);

/// The age from which a minor consents alone.
pub const CONSENT_AGE: i32 = 15;
/// The age of majority.
pub const MAJORITY: i32 = 18;

/// The programme's date of an instant (Europe/Paris).
pub fn paris_date(at: DateTime<Utc>) -> NaiveDate {
    at.with_timezone(&PARIS).date_naive()
}

fn triple(date: NaiveDate) -> (i32, u32, u32) {
    (date.year(), date.month(), date.day())
}

/// The age on `date`; unknown births count as the youngest (under 15), so
/// that the strictest rule applies.
pub fn age_on(birth: Option<Birth>, date: NaiveDate) -> i32 {
    birth.map_or(0, |b| b.youngest_age_on(triple(date)))
}

/// The first day the person is 18 (29 February births: 1 March in common
/// years); with only a year known, 31 December of the 18th year.
pub fn majority_date(birth: Birth) -> Option<NaiveDate> {
    let (year, month, day) = match birth {
        Birth::Date { year, month, day } => (year, month, day),
        Birth::Year(year) => (year, 12, 31),
    };
    let year = year.checked_add(MAJORITY)?;
    NaiveDate::from_ymd_opt(year, month, day).or_else(|| NaiveDate::from_ymd_opt(year, 3, 1))
}

/// A consent rule broken.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ConsentRuleError {
    /// The purpose does not rest on consent.
    #[error("this purpose rests on a public-interest mission, not on consent")]
    NotConsentBased,
    /// Under 15: the minor and a holder of parental authority.
    #[error(
        "under 15 a consent takes both the minor (young_person) and a holder of parental authority"
    )]
    Under15NeedsBoth,
    /// From 15: the minor consents.
    #[error("from 15 the minor (young_person) must give the consent")]
    MinorMustConsent,
    /// `young_adult` is for those 18 or older.
    #[error("young_adult gives consents from 18 only; use young_person")]
    NotYetAdult,
    /// At 18 the young adult alone holds the rights.
    #[error("from 18 the young adult alone consents (given_by: [young_adult])")]
    AdultConsentsAlone,
    /// A parental consent names its holder.
    #[error(
        "a consent given by parental authority names the holder (parental_authority_holder_id)"
    )]
    HolderMissing,
    /// A holder named without `parental_authority` among the givers.
    #[error("parental_authority_holder_id is only for consents given by parental authority")]
    HolderUnexpected,
}

impl ConsentRuleError {
    /// The problem tag naming the rule.
    pub fn tag(self) -> &'static str {
        match self {
            Self::NotConsentBased => "purpose-not-consent-based",
            Self::Under15NeedsBoth => "consent-under-15-needs-minor-and-parental-authority",
            Self::MinorMustConsent => "consent-from-15-needs-the-minor",
            Self::NotYetAdult => "consent-young-adult-under-18",
            Self::AdultConsentsAlone => "consent-adult-alone",
            Self::HolderMissing => "consent-holder-missing",
            Self::HolderUnexpected => "consent-holder-unexpected",
        }
    }
}

/// Checks who gave a consent for `purpose` by a person of `age` when given.
pub fn check_givers(
    purpose: Purpose,
    age: i32,
    givers: &BTreeSet<Giver>,
    holder_named: bool,
) -> Result<(), ConsentRuleError> {
    if purpose.legal_basis() != LegalBasis::Consent {
        return Err(ConsentRuleError::NotConsentBased);
    }
    let parent = givers.contains(&Giver::ParentalAuthority);
    if parent && !holder_named {
        return Err(ConsentRuleError::HolderMissing);
    }
    if !parent && holder_named {
        return Err(ConsentRuleError::HolderUnexpected);
    }
    let minor = givers.contains(&Giver::YoungPerson);
    let adult = givers.contains(&Giver::YoungAdult);
    if age >= MAJORITY {
        return if adult && !minor && !parent {
            Ok(())
        } else {
            Err(ConsentRuleError::AdultConsentsAlone)
        };
    }
    if adult {
        return Err(ConsentRuleError::NotYetAdult);
    }
    if age < CONSENT_AGE {
        if minor && parent {
            Ok(())
        } else {
            Err(ConsentRuleError::Under15NeedsBoth)
        }
    } else if minor {
        Ok(())
    } else {
        Err(ConsentRuleError::MinorMustConsent)
    }
}

/// Checks who withdraws a consent, by the person's age now: from 18 the
/// young adult alone; before, the minor or a holder of parental authority.
pub fn check_withdrawer(age: i32, by: Giver) -> Result<(), ConsentRuleError> {
    match (age >= MAJORITY, by) {
        (true, Giver::YoungAdult) | (false, Giver::YoungPerson | Giver::ParentalAuthority) => {
            Ok(())
        }
        (true, _) => Err(ConsentRuleError::AdultConsentsAlone),
        (false, Giver::YoungAdult) => Err(ConsentRuleError::NotYetAdult),
    }
}

/// A recorded consent, as far as its effect depends on it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConsentFacts {
    /// Given by (or with) a holder of parental authority.
    pub parental: bool,
    /// When given.
    pub given_at: DateTime<Utc>,
    /// Last day of validity, if any.
    pub valid_until: Option<NaiveDate>,
    /// When withdrawn, if it was.
    pub withdrawn_at: Option<DateTime<Utc>>,
    /// Recorded in error.
    pub invalidated: bool,
}

/// Whether a consent is effective at an instant, and why not.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConsentState {
    /// Effective.
    Effective,
    /// Given after the instant.
    NotYetGiven,
    /// Withdrawn at or before the instant.
    Withdrawn,
    /// Recorded in error: never effective.
    Invalidated,
    /// Past its validity.
    Expired,
    /// Given by a parent; the young person has turned 18.
    LapsedAtMajority,
}

impl ConsentState {
    /// The wire and storage name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Effective => "effective",
            Self::NotYetGiven => "not_yet_given",
            Self::Withdrawn => "withdrawn",
            Self::Invalidated => "invalidated",
            Self::Expired => "expired",
            Self::LapsedAtMajority => "lapsed_at_majority",
        }
    }
}

impl fmt::Display for ConsentState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The state of a consent at `at` for a person born `birth`.
pub fn consent_state(
    consent: &ConsentFacts,
    birth: Option<Birth>,
    at: DateTime<Utc>,
) -> ConsentState {
    if consent.invalidated {
        return ConsentState::Invalidated;
    }
    if consent.given_at > at {
        return ConsentState::NotYetGiven;
    }
    if consent.withdrawn_at.is_some_and(|w| w <= at) {
        return ConsentState::Withdrawn;
    }
    let today = paris_date(at);
    if consent.valid_until.is_some_and(|until| until < today) {
        return ConsentState::Expired;
    }
    if consent.parental && age_on(birth, today) >= MAJORITY {
        return ConsentState::LapsedAtMajority;
    }
    ConsentState::Effective
}

string_enum!(
    /// Why information is shared with a partner (fixed list).
    SharePurpose, "share purpose" {
        ChildProtectionAssessment => "child_protection_assessment",
        CoordinatedSupport => "coordinated_support",
        ProtectionMeasure => "protection_measure",
        Continuity => "continuity_of_care",
    }
);

string_enum!(
    /// The groups of fields a share may open (never notes).
    FieldGroup, "field group" {
        FollowUpStatus => "follow_up_status",
        NextAppointment => "next_appointment",
        ObjectivesProgress => "objectives_progress",
        Measure => "measure",
    }
);

string_enum!(
    /// Whether the family was informed of a share beforehand.
    FamilyInformed, "family informed" {
        Yes => "yes",
        NoContraryToChildInterest => "no_contrary_to_child_interest",
    }
);

/// A sharing rule broken.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ShareRuleError {
    /// The recipient is not bound by professional secrecy.
    #[error("the recipient organisation is not bound by professional secrecy")]
    RecipientNotBoundBySecrecy,
    /// The recipient does not contribute to child protection.
    #[error("the recipient organisation does not contribute to child protection (kind {0})")]
    RecipientNotInChildProtection(&'static str),
    /// Not informing the family needs a written justification.
    #[error(
        "not informing the family needs a written justification (contrary to the child's interest)"
    )]
    JustificationMissing,
    /// A justification only when the family is not informed.
    #[error("a justification is only for shares the family is not informed of")]
    JustificationUnexpected,
    /// The validity ends before it starts.
    #[error("valid_until is before valid_from")]
    ValidityReversed,
}

impl ShareRuleError {
    /// The problem tag naming the rule.
    pub fn tag(self) -> &'static str {
        match self {
            Self::RecipientNotBoundBySecrecy => "share-recipient-not-bound-by-secrecy",
            Self::RecipientNotInChildProtection(_) => "share-recipient-not-in-child-protection",
            Self::JustificationMissing => "share-family-justification-missing",
            Self::JustificationUnexpected => "share-family-justification-unexpected",
            Self::ValidityReversed => "share-validity-reversed",
        }
    }
}

/// Organisation kinds that contribute to child protection.
pub fn contributes_to_child_protection(kind: OrganisationKind) -> bool {
    matches!(
        kind,
        OrganisationKind::Ase
            | OrganisationKind::Pjj
            | OrganisationKind::Justice
            | OrganisationKind::Health
            | OrganisationKind::Association
    )
}

/// A share decision's conditions (CASF L226-2-2).
pub fn check_share(
    recipient_kind: OrganisationKind,
    recipient_shares_secrecy: bool,
    family_informed: FamilyInformed,
    justification: Option<&str>,
    valid_from: NaiveDate,
    valid_until: Option<NaiveDate>,
) -> Result<(), ShareRuleError> {
    if !recipient_shares_secrecy {
        return Err(ShareRuleError::RecipientNotBoundBySecrecy);
    }
    if !contributes_to_child_protection(recipient_kind) {
        return Err(ShareRuleError::RecipientNotInChildProtection(
            recipient_kind.as_str(),
        ));
    }
    let justified = justification.is_some_and(|j| !j.trim().is_empty());
    match (family_informed, justified) {
        (FamilyInformed::NoContraryToChildInterest, false) => {
            return Err(ShareRuleError::JustificationMissing);
        }
        (FamilyInformed::Yes, true) => return Err(ShareRuleError::JustificationUnexpected),
        _ => {}
    }
    if valid_until.is_some_and(|until| until < valid_from) {
        return Err(ShareRuleError::ValidityReversed);
    }
    Ok(())
}

/// Whether a share decision is active at `at`.
pub fn share_active(
    valid_from: NaiveDate,
    valid_until: Option<NaiveDate>,
    revoked_at: Option<DateTime<Utc>>,
    at: DateTime<Utc>,
) -> bool {
    let today = paris_date(at);
    revoked_at.is_none_or(|r| r > at)
        && valid_from <= today
        && valid_until.is_none_or(|until| today <= until)
}

/// A comma-separated list of fixed-list names, parsed.
pub fn parse_list<T: StringEnum + Ord>(text: &str) -> Result<BTreeSet<T>, UnknownValue> {
    text.split(',')
        .filter(|s| !s.is_empty())
        .map(T::from_str)
        .collect()
}

/// A set of fixed-list names, comma-separated (for storage).
pub fn join_list<T: StringEnum>(values: impl IntoIterator<Item = T>) -> String {
    values
        .into_iter()
        .map(StringEnum::as_str)
        .collect::<Vec<_>>()
        .join(",")
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use proptest::prelude::*;

    fn set(givers: &[Giver]) -> BTreeSet<Giver> {
        givers.iter().copied().collect()
    }

    #[test]
    fn legal_bases() {
        assert_eq!(
            Purpose::SupportFile.legal_basis(),
            LegalBasis::PublicInterest
        );
        for p in [
            Purpose::PhoneContact,
            Purpose::FamilyContact,
            Purpose::Research,
        ] {
            assert_eq!(p.legal_basis(), LegalBasis::Consent);
        }
        assert_eq!(
            check_givers(Purpose::SupportFile, 16, &set(&[Giver::YoungPerson]), false),
            Err(ConsentRuleError::NotConsentBased)
        );
    }

    #[test]
    fn givers_by_age() {
        let p = Purpose::PhoneContact;
        let minor = set(&[Giver::YoungPerson]);
        let both = set(&[Giver::YoungPerson, Giver::ParentalAuthority]);
        assert_eq!(
            check_givers(p, 14, &minor, false),
            Err(ConsentRuleError::Under15NeedsBoth)
        );
        assert_eq!(check_givers(p, 14, &both, true), Ok(()));
        assert_eq!(
            check_givers(p, 14, &both, false),
            Err(ConsentRuleError::HolderMissing)
        );
        assert_eq!(check_givers(p, 15, &minor, false), Ok(()));
        assert_eq!(
            check_givers(p, 16, &set(&[Giver::ParentalAuthority]), true),
            Err(ConsentRuleError::MinorMustConsent)
        );
        assert_eq!(
            check_givers(p, 17, &set(&[Giver::YoungAdult]), false),
            Err(ConsentRuleError::NotYetAdult)
        );
        assert_eq!(
            check_givers(p, 18, &set(&[Giver::YoungAdult]), false),
            Ok(())
        );
        assert_eq!(
            check_givers(p, 18, &both, true),
            Err(ConsentRuleError::AdultConsentsAlone)
        );
    }

    #[test]
    fn withdrawers_by_age() {
        assert_eq!(check_withdrawer(14, Giver::ParentalAuthority), Ok(()));
        assert_eq!(check_withdrawer(16, Giver::YoungPerson), Ok(()));
        assert_eq!(
            check_withdrawer(17, Giver::YoungAdult),
            Err(ConsentRuleError::NotYetAdult)
        );
        assert_eq!(check_withdrawer(18, Giver::YoungAdult), Ok(()));
        assert_eq!(
            check_withdrawer(18, Giver::ParentalAuthority),
            Err(ConsentRuleError::AdultConsentsAlone)
        );
    }

    #[test]
    fn majority_dates() {
        let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day).expect("date");
        assert_eq!(
            majority_date(Birth::Date {
                year: 2010,
                month: 6,
                day: 15
            }),
            Some(d(2028, 6, 15))
        );
        assert_eq!(
            majority_date(Birth::Date {
                year: 2008,
                month: 2,
                day: 29
            }),
            Some(d(2026, 3, 1))
        );
        assert_eq!(majority_date(Birth::Year(2010)), Some(d(2028, 12, 31)));
    }

    fn parental(given_at: DateTime<Utc>) -> ConsentFacts {
        ConsentFacts {
            parental: true,
            given_at,
            valid_until: None,
            withdrawn_at: None,
            invalidated: false,
        }
    }

    #[test]
    fn states() {
        let given = Utc
            .with_ymd_and_hms(2026, 1, 1, 10, 0, 0)
            .single()
            .expect("t");
        let birth = Some(Birth::Date {
            year: 2010,
            month: 6,
            day: 15,
        });
        let mut c = parental(given);
        let day_before = Utc
            .with_ymd_and_hms(2028, 6, 14, 12, 0, 0)
            .single()
            .expect("t");
        // Midnight in Paris on the birthday is 22:00 UTC the day before.
        let birthday = Utc
            .with_ymd_and_hms(2028, 6, 14, 22, 30, 0)
            .single()
            .expect("t");
        assert_eq!(
            consent_state(&c, birth, day_before),
            ConsentState::Effective
        );
        assert_eq!(
            consent_state(&c, birth, birthday),
            ConsentState::LapsedAtMajority
        );
        assert_eq!(
            consent_state(&c, birth, given - chrono::Duration::seconds(1)),
            ConsentState::NotYetGiven
        );
        c.withdrawn_at = Some(given + chrono::Duration::days(1));
        assert_eq!(
            consent_state(&c, birth, day_before),
            ConsentState::Withdrawn
        );
        c.invalidated = true;
        assert_eq!(
            consent_state(&c, birth, day_before),
            ConsentState::Invalidated
        );
        let mut minor_alone = parental(given);
        minor_alone.parental = false;
        assert_eq!(
            consent_state(&minor_alone, birth, birthday),
            ConsentState::Effective
        );
        minor_alone.valid_until = NaiveDate::from_ymd_opt(2027, 1, 1);
        assert_eq!(
            consent_state(&minor_alone, birth, birthday),
            ConsentState::Expired
        );
    }

    #[test]
    fn shares() {
        let from = NaiveDate::from_ymd_opt(2026, 1, 1).expect("d");
        assert_eq!(
            check_share(
                OrganisationKind::School,
                false,
                FamilyInformed::Yes,
                None,
                from,
                None
            ),
            Err(ShareRuleError::RecipientNotBoundBySecrecy)
        );
        assert_eq!(
            check_share(
                OrganisationKind::School,
                true,
                FamilyInformed::Yes,
                None,
                from,
                None
            ),
            Err(ShareRuleError::RecipientNotInChildProtection("school"))
        );
        assert_eq!(
            check_share(
                OrganisationKind::Ase,
                true,
                FamilyInformed::NoContraryToChildInterest,
                Some("  "),
                from,
                None
            ),
            Err(ShareRuleError::JustificationMissing)
        );
        assert_eq!(
            check_share(
                OrganisationKind::Ase,
                true,
                FamilyInformed::Yes,
                None,
                from,
                None
            ),
            Ok(())
        );
        let at = Utc
            .with_ymd_and_hms(2026, 1, 2, 10, 0, 0)
            .single()
            .expect("t");
        assert!(share_active(from, None, None, at));
        assert!(!share_active(from, None, Some(at), at));
        assert!(!share_active(from, from.pred_opt(), None, at));
    }

    proptest! {
        /// Around the 15th birthday: the day before, the minor alone is
        /// refused; from the day, accepted.
        #[test]
        fn fifteen_is_the_threshold(year in 1990i32..2030, month in 1u32..=12, day in 1u32..=28, shift in -400i64..400) {
            let birth = Birth::Date { year, month, day };
            let fifteenth = NaiveDate::from_ymd_opt(year + 15, month, day).expect("date");
            let on = fifteenth + chrono::Duration::days(shift);
            let alone = check_givers(Purpose::Research, age_on(Some(birth), on), &set(&[Giver::YoungPerson]), false);
            prop_assert_eq!(alone.is_ok(), shift >= 0);
        }

        /// A parental consent is effective strictly before the 18th
        /// birthday (Paris date) and lapsed from it; a minor's own consent
        /// survives it.
        #[test]
        fn parental_consents_lapse_at_18(year in 1990i32..2030, month in 1u32..=12, day in 1u32..=31, minutes in -3000i64..3000) {
            let Some(born) = NaiveDate::from_ymd_opt(year, month, day) else { return Ok(()); };
            let birth = Birth::Date { year: born.year(), month: born.month(), day: born.day() };
            let eighteenth = majority_date(birth).expect("date");
            let midnight = eighteenth.and_hms_opt(0, 0, 0).expect("t").and_local_timezone(PARIS).earliest().expect("t").with_timezone(&Utc);
            let at = midnight + chrono::Duration::minutes(minutes);
            let given = midnight - chrono::Duration::days(400);
            let state = consent_state(&parental(given), Some(birth), at);
            prop_assert_eq!(state == ConsentState::LapsedAtMajority, minutes >= 0);
            let mut own = parental(given);
            own.parental = false;
            prop_assert_eq!(consent_state(&own, Some(birth), at), ConsentState::Effective);
        }
    }
}
