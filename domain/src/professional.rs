//! Working with professionals: partnership agreements ("conventions de
//! compagnonnage") with regional structures, the resource library and its
//! files, sign-up to trainings and case reviews.

use std::fmt;
use std::str::FromStr;

use chrono::NaiveDate;

use crate::DepartementCode;
use crate::identity::{StringEnum, UnknownValue, string_enum};
use crate::schedule::group::GroupKind;

string_enum!(
    /// Where an agreement stands (as set by an admin; expiry is derived
    /// from its end date).
    AgreementStatus, "agreement status" {
        Active => "active",
        Suspended => "suspended",
        Terminated => "terminated",
    }
);

/// Days before its end an agreement is listed for renewal.
pub const ENDING_SOON_DAYS: i64 = 60;

/// Why an agreement does not allow a new permanence.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum AgreementRule {
    /// Its end date is past.
    #[error("the partnership agreement ended on {0}: no new permanence under it")]
    Expired(NaiveDate),
    /// It starts later.
    #[error("the partnership agreement starts on {0}: no permanence before")]
    NotStarted(NaiveDate),
    /// Suspended by the programme.
    #[error("the partnership agreement is suspended: no new permanence under it")]
    Suspended,
    /// Ended early.
    #[error("the partnership agreement is terminated: no new permanence under it")]
    Terminated,
    /// The permanence's département is not one the agreement covers.
    #[error("the partnership agreement does not cover this département")]
    DepartementNotCovered,
    /// End before start.
    #[error("an agreement ends on or after the day it starts")]
    EndsBeforeStart,
}

impl AgreementRule {
    /// The problem tag naming the rule.
    pub fn tag(self) -> &'static str {
        match self {
            Self::Expired(_) => "agreement-expired",
            Self::NotStarted(_) => "agreement-not-started",
            Self::Suspended => "agreement-suspended",
            Self::Terminated => "agreement-terminated",
            Self::DepartementNotCovered => "agreement-departement-not-covered",
            Self::EndsBeforeStart => "agreement-dates",
        }
    }
}

/// The dates of an agreement (start ≤ end, both inclusive).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AgreementPeriod {
    starts_on: NaiveDate,
    ends_on: NaiveDate,
}

impl AgreementPeriod {
    /// A period; refused when it ends before it starts.
    pub fn new(starts_on: NaiveDate, ends_on: NaiveDate) -> Result<Self, AgreementRule> {
        if ends_on < starts_on {
            return Err(AgreementRule::EndsBeforeStart);
        }
        Ok(Self { starts_on, ends_on })
    }

    /// First day.
    pub fn starts_on(self) -> NaiveDate {
        self.starts_on
    }

    /// Last day.
    pub fn ends_on(self) -> NaiveDate {
        self.ends_on
    }

    /// Whether it ends within [`ENDING_SOON_DAYS`] of `today` (and has
    /// not ended).
    pub fn ending_soon(self, today: NaiveDate) -> bool {
        self.ends_on >= today && (self.ends_on - today).num_days() <= ENDING_SOON_DAYS
    }
}

/// Whether a new permanence starting on `first_day` in `departement` may be
/// held under an agreement `status`, `period`, `covering` these
/// départements, decided on `today`.
pub fn check_new_permanence(
    status: AgreementStatus,
    period: AgreementPeriod,
    covering: &[DepartementCode],
    departement: &DepartementCode,
    today: NaiveDate,
    first_day: NaiveDate,
) -> Result<(), AgreementRule> {
    match status {
        AgreementStatus::Suspended => return Err(AgreementRule::Suspended),
        AgreementStatus::Terminated => return Err(AgreementRule::Terminated),
        AgreementStatus::Active => {}
    }
    if period.ends_on < today || period.ends_on < first_day {
        return Err(AgreementRule::Expired(period.ends_on));
    }
    if first_day < period.starts_on {
        return Err(AgreementRule::NotStarted(period.starts_on));
    }
    if !covering.contains(departement) {
        return Err(AgreementRule::DepartementNotCovered);
    }
    Ok(())
}

string_enum!(
    /// What a library resource is.
    ResourceKind, "resource kind" {
        PreventionTool => "prevention_tool",
        TheoreticalMaterial => "theoretical_material",
        Guide => "guide",
        WorkshopKit => "workshop_kit",
        Game => "game",
        LegalInformation => "legal_information",
    }
);

string_enum!(
    /// Whom a resource is for.
    ResourceAudience, "resource audience" {
        Professionals => "professionals",
        Parents => "parents",
        YoungPeople => "young_people",
    }
);

string_enum!(
    /// Who may download a resource.
    Visibility, "visibility" {
        Public => "public",
        Partners => "partners",
    }
);

/// The file types the library accepts, recognised from their content.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileType {
    /// `%PDF-`.
    Pdf,
    /// PNG signature.
    Png,
    /// JPEG (`FF D8 FF`).
    Jpeg,
    /// GIF87a / GIF89a.
    Gif,
    /// A ZIP container (office documents, workshop kits).
    Zip,
    /// MP3 audio (ID3 tag).
    Mp3,
    /// MP4 video (`ftyp` box).
    Mp4,
}

impl FileType {
    /// Every accepted type.
    pub const ALL: &'static [Self] = &[
        Self::Pdf,
        Self::Png,
        Self::Jpeg,
        Self::Gif,
        Self::Zip,
        Self::Mp3,
        Self::Mp4,
    ];

    /// Its media type.
    pub fn media_type(self) -> &'static str {
        match self {
            Self::Pdf => "application/pdf",
            Self::Png => "image/png",
            Self::Jpeg => "image/jpeg",
            Self::Gif => "image/gif",
            Self::Zip => "application/zip",
            Self::Mp3 => "audio/mpeg",
            Self::Mp4 => "video/mp4",
        }
    }
}

/// Why a file is refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum FileRule {
    /// An executable or script, whatever its name or declared type.
    #[error("executables and scripts are not accepted in the library")]
    Executable,
    /// Not a type the library accepts.
    #[error("the content is not an accepted file type (PDF, PNG, JPEG, GIF, ZIP, MP3, MP4)")]
    UnknownType,
    /// The declared type differs from the content.
    #[error("the declared Content-Type {declared} does not match the content ({actual})")]
    Mismatch {
        /// What the client said.
        declared: &'static str,
        /// What the bytes are.
        actual: &'static str,
    },
    /// No bytes.
    #[error("the file is empty")]
    Empty,
}

impl FileRule {
    /// The problem tag naming the rule.
    pub fn tag(self) -> &'static str {
        match self {
            Self::Executable => "file-executable",
            Self::UnknownType => "file-type-not-accepted",
            Self::Mismatch { .. } => "file-type-mismatch",
            Self::Empty => "file-empty",
        }
    }
}

/// Recognises a file from its first bytes (its name is never looked at).
pub fn sniff(bytes: &[u8]) -> Result<FileType, FileRule> {
    if bytes.is_empty() {
        return Err(FileRule::Empty);
    }
    let starts = |magic: &[u8]| bytes.starts_with(magic);
    // Windows PE, ELF, Mach-O (both byte orders, fat), scripts, Java class.
    let executable = starts(b"MZ")
        || starts(b"\x7fELF")
        || starts(&[0xFE, 0xED, 0xFA, 0xCE])
        || starts(&[0xFE, 0xED, 0xFA, 0xCF])
        || starts(&[0xCE, 0xFA, 0xED, 0xFE])
        || starts(&[0xCF, 0xFA, 0xED, 0xFE])
        || starts(&[0xCA, 0xFE, 0xBA, 0xBE])
        || starts(b"#!");
    if executable {
        return Err(FileRule::Executable);
    }
    if starts(b"%PDF-") {
        Ok(FileType::Pdf)
    } else if starts(&[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A]) {
        Ok(FileType::Png)
    } else if starts(&[0xFF, 0xD8, 0xFF]) {
        Ok(FileType::Jpeg)
    } else if starts(b"GIF87a") || starts(b"GIF89a") {
        Ok(FileType::Gif)
    } else if starts(b"PK\x03\x04") {
        Ok(FileType::Zip)
    } else if starts(b"ID3") {
        Ok(FileType::Mp3)
    } else if bytes.get(4..8) == Some(b"ftyp") {
        Ok(FileType::Mp4)
    } else {
        Err(FileRule::UnknownType)
    }
}

/// Checks `bytes` against the declared media type (`application/octet-stream`
/// accepts whatever accepted type the content is).
pub fn check_file(declared: &str, bytes: &[u8]) -> Result<FileType, FileRule> {
    let actual = sniff(bytes)?;
    let declared = declared.trim().to_ascii_lowercase();
    if declared == "application/octet-stream" || declared == actual.media_type() {
        return Ok(actual);
    }
    let declared = FileType::ALL
        .iter()
        .map(|t| t.media_type())
        .find(|m| *m == declared)
        .unwrap_or("another type");
    Err(FileRule::Mismatch {
        declared,
        actual: actual.media_type(),
    })
}

/// The group sessions professionals sign up to.
pub fn is_for_professionals(kind: GroupKind) -> bool {
    matches!(
        kind,
        GroupKind::AwarenessSession | GroupKind::ActionTraining | GroupKind::CaseReview
    )
}

string_enum!(
    /// Where a partner's request for a case review stands.
    CaseReviewStatus, "case review request status" {
        Requested => "requested",
        Scheduled => "scheduled",
    }
);

/// Why a case review request cannot be scheduled on a session.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CaseReviewRule {
    /// Already scheduled.
    #[error("this case review request is already scheduled")]
    AlreadyScheduled,
    /// The session is not a case review.
    #[error("a case review request is scheduled on a case review session")]
    NotACaseReview,
}

impl CaseReviewRule {
    /// The problem tag naming the rule.
    pub fn tag(self) -> &'static str {
        match self {
            Self::AlreadyScheduled => "case-review-already-scheduled",
            Self::NotACaseReview => "case-review-session-kind",
        }
    }
}

/// Whether a request in `status` may be scheduled on a session of `kind`.
pub fn check_schedule_case_review(
    status: CaseReviewStatus,
    kind: GroupKind,
) -> Result<(), CaseReviewRule> {
    if status != CaseReviewStatus::Requested {
        return Err(CaseReviewRule::AlreadyScheduled);
    }
    if kind != GroupKind::CaseReview {
        return Err(CaseReviewRule::NotACaseReview);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2027, m, d).expect("date")
    }

    fn dep(code: &str) -> DepartementCode {
        DepartementCode::parse(code).expect("code")
    }

    #[test]
    fn a_permanence_needs_an_agreement_in_force_covering_its_departement() {
        let period = AgreementPeriod::new(day(1, 1), day(6, 30)).expect("period");
        let covers = [dep("13"), dep("84")];
        let check = |status, today, first| {
            check_new_permanence(status, period, &covers, &dep("13"), today, first)
        };
        assert_eq!(check(AgreementStatus::Active, day(3, 1), day(3, 2)), Ok(()));
        assert_eq!(
            check(AgreementStatus::Active, day(7, 1), day(7, 2)),
            Err(AgreementRule::Expired(day(6, 30)))
        );
        // Starting after the end is no better than being expired.
        assert_eq!(
            check(AgreementStatus::Active, day(3, 1), day(7, 2)),
            Err(AgreementRule::Expired(day(6, 30)))
        );
        assert_eq!(
            check(AgreementStatus::Suspended, day(3, 1), day(3, 2)),
            Err(AgreementRule::Suspended)
        );
        assert_eq!(
            check(AgreementStatus::Terminated, day(3, 1), day(3, 2)),
            Err(AgreementRule::Terminated)
        );
        let early = AgreementPeriod::new(day(4, 1), day(6, 30)).expect("period");
        assert_eq!(
            check_new_permanence(
                AgreementStatus::Active,
                early,
                &covers,
                &dep("13"),
                day(3, 1),
                day(3, 2)
            ),
            Err(AgreementRule::NotStarted(day(4, 1)))
        );
        assert_eq!(
            check_new_permanence(
                AgreementStatus::Active,
                period,
                &covers,
                &dep("93"),
                day(3, 1),
                day(3, 2)
            ),
            Err(AgreementRule::DepartementNotCovered)
        );
        assert_eq!(
            AgreementPeriod::new(day(2, 1), day(1, 31)),
            Err(AgreementRule::EndsBeforeStart)
        );
        assert_eq!(AgreementRule::Expired(day(1, 1)).tag(), "agreement-expired");
    }

    #[test]
    fn agreements_ending_within_sixty_days_are_listed() {
        let period = AgreementPeriod::new(day(1, 1), day(6, 30)).expect("period");
        assert!(period.ending_soon(day(5, 1)));
        assert!(period.ending_soon(day(6, 30)));
        assert!(!period.ending_soon(day(4, 30)));
        assert!(!period.ending_soon(day(7, 1)));
    }

    #[test]
    fn files_are_recognised_from_their_content() {
        assert_eq!(sniff(b"%PDF-1.7\n..."), Ok(FileType::Pdf));
        assert_eq!(
            sniff(&[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 0]),
            Ok(FileType::Png)
        );
        assert_eq!(sniff(b"PK\x03\x04rest"), Ok(FileType::Zip));
        assert_eq!(sniff(b"\0\0\0\x18ftypmp42"), Ok(FileType::Mp4));
        assert_eq!(sniff(b"MZ\x90\0 windows"), Err(FileRule::Executable));
        assert_eq!(sniff(b"\x7fELF\x02\x01"), Err(FileRule::Executable));
        assert_eq!(sniff(b"#!/bin/sh\nrm -rf /"), Err(FileRule::Executable));
        assert_eq!(sniff(b"hello"), Err(FileRule::UnknownType));
        assert_eq!(sniff(b""), Err(FileRule::Empty));
        // The declared type must be the content's, or octet-stream.
        assert_eq!(
            check_file("application/pdf", b"%PDF-1.4"),
            Ok(FileType::Pdf)
        );
        assert_eq!(
            check_file("application/octet-stream", b"%PDF-1.4"),
            Ok(FileType::Pdf)
        );
        assert_eq!(
            check_file("application/pdf", b"MZ\x90\0"),
            Err(FileRule::Executable)
        );
        assert_eq!(
            check_file("image/png", b"%PDF-1.4"),
            Err(FileRule::Mismatch {
                declared: "image/png",
                actual: "application/pdf"
            })
        );
    }

    #[test]
    fn professionals_sign_up_to_trainings_and_case_reviews_only() {
        assert!(is_for_professionals(GroupKind::ActionTraining));
        assert!(is_for_professionals(GroupKind::AwarenessSession));
        assert!(is_for_professionals(GroupKind::CaseReview));
        assert!(!is_for_professionals(GroupKind::ParentGroup));
        assert!(!is_for_professionals(GroupKind::PerpetratorCourse));
    }

    #[test]
    fn a_case_review_request_is_scheduled_once_on_a_case_review() {
        assert_eq!(
            check_schedule_case_review(CaseReviewStatus::Requested, GroupKind::CaseReview),
            Ok(())
        );
        assert_eq!(
            check_schedule_case_review(CaseReviewStatus::Scheduled, GroupKind::CaseReview),
            Err(CaseReviewRule::AlreadyScheduled)
        );
        assert_eq!(
            check_schedule_case_review(CaseReviewStatus::Requested, GroupKind::ActionTraining),
            Err(CaseReviewRule::NotACaseReview)
        );
    }
}
