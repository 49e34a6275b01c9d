//! Wire forms of domain values: fixed-list enumerations as snake_case
//! strings, documented with their values.

use std::borrow::Cow;

use adosexo_domain::identity::StringEnum;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
use utoipa::{PartialSchema, ToSchema};

/// The schema of a fixed-list enumeration: a string with its values.
fn enum_schema<T: StringEnum>() -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(T::all().iter().map(|v| v.as_str())))
        .into()
}

/// Declares the wire form of a domain enumeration: a snake_case string,
/// documented with its values (use with `#[schema(inline)]`).
macro_rules! wire_enum {
    ($(#[$meta:meta])* $wire:ident => $domain:ty) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub struct $wire(pub $domain);

        impl Serialize for $wire {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(StringEnum::as_str(self.0))
            }
        }

        impl<'de> Deserialize<'de> for $wire {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let text = Cow::<'de, str>::deserialize(deserializer)?;
                text.parse::<$domain>().map($wire).map_err(serde::de::Error::custom)
            }
        }

        impl PartialSchema for $wire {
            fn schema() -> RefOr<Schema> {
                enum_schema::<$domain>()
            }
        }

        impl ToSchema for $wire {
            fn name() -> Cow<'static, str> {
                Cow::Borrowed(<$domain as StringEnum>::NAME)
            }
        }
    };
}

wire_enum!(
    /// Who asks for erasure on the wire.
    ErasureRequesterWire => adosexo_domain::retention::ErasureRequester
);
wire_enum!(
    /// Where an erasure request stands on the wire.
    ErasureStatusWire => adosexo_domain::retention::ErasureStatus
);
wire_enum!(
    /// Why erasure was refused on the wire.
    ErasureRefusalWire => adosexo_domain::retention::ErasureRefusal
);
wire_enum!(
    /// A role on the wire.
    RoleWire => adosexo_domain::identity::Role
);
wire_enum!(
    /// An organisation kind on the wire.
    KindWire => adosexo_domain::identity::OrganisationKind
);
wire_enum!(
    /// A status on the wire.
    StatusWire => adosexo_domain::identity::Status
);
wire_enum!(
    /// A webhook event type on the wire.
    EventTypeWire => adosexo_domain::webhooks::EventType
);
wire_enum!(
    /// A partner app scope on the wire.
    ScopeWire => adosexo_domain::identity::Scope
);
wire_enum!(
    /// Whom a referral is about.
    PublicWire => adosexo_domain::referral::Public
);
wire_enum!(
    /// A referral's context.
    ContextWire => adosexo_domain::referral::Context
);
wire_enum!(
    /// Who asks.
    SourceKindWire => adosexo_domain::referral::SourceKind
);
wire_enum!(
    /// How soon.
    UrgencyWire => adosexo_domain::referral::Urgency
);
wire_enum!(
    /// A risk indicator.
    RiskIndicatorWire => adosexo_domain::referral::RiskIndicator
);
wire_enum!(
    /// A gender.
    GenderWire => adosexo_domain::referral::Gender
);
wire_enum!(
    /// A referral's status.
    ReferralStatusWire => adosexo_domain::referral::ReferralStatus
);
wire_enum!(
    /// A referral lifecycle action.
    ReferralActionWire => adosexo_domain::referral::ReferralAction
);
wire_enum!(
    /// How the child-protection decision was taken.
    ProtectionKindWire => adosexo_domain::referral::ProtectionDecisionKind
);
wire_enum!(
    /// A follow-up's status.
    FollowUpStatusWire => adosexo_domain::followup::FollowUpStatus
);
wire_enum!(
    /// Why a follow-up closed.
    ClosureReasonWire => adosexo_domain::followup::ClosureReason
);
wire_enum!(
    /// A follow-up objective.
    ObjectiveWire => adosexo_domain::followup::Objective
);
wire_enum!(
    /// An objective's status.
    ObjectiveStatusWire => adosexo_domain::followup::ObjectiveStatus
);
wire_enum!(
    /// A note's kind.
    NoteKindWire => adosexo_domain::followup::NoteKind
);
wire_enum!(
    /// A relative or a professional.
    InvolvedKindWire => adosexo_domain::followup::InvolvedKind
);
wire_enum!(
    /// A follow-up status change.
    FollowUpActionWire => adosexo_domain::followup::FollowUpAction
);
wire_enum!(
    /// An educational measure.
    MeasureKindWire => adosexo_domain::followup::MeasureKind
);
wire_enum!(
    /// A directory category.
    DirectoryCategoryWire => adosexo_domain::public::DirectoryCategory
);
wire_enum!(
    /// A site kind.
    SiteKindWire => adosexo_domain::schedule::SiteKind
);
wire_enum!(
    /// Whether a site or permanence is in use.
    ScheduleStatusWire => adosexo_domain::schedule::ScheduleStatus
);
wire_enum!(
    /// Whom a permanence or session is for.
    AudienceWire => adosexo_domain::schedule::Audience
);
wire_enum!(
    /// Part of day of a permanence.
    PartOfDayWire => adosexo_domain::schedule::series::PartOfDay
);
wire_enum!(
    /// How an appointment happens.
    AppointmentModeWire => adosexo_domain::schedule::appointment::AppointmentMode
);
wire_enum!(
    /// Where an appointment stands.
    AppointmentStatusWire => adosexo_domain::schedule::appointment::AppointmentStatus
);
wire_enum!(
    /// Who attends an appointment.
    AttendeeKindWire => adosexo_domain::schedule::appointment::AttendeeKind
);
wire_enum!(
    /// Whether the team confirmed an appointment.
    ConfirmationWire => adosexo_domain::schedule::appointment::Confirmation
);
wire_enum!(
    /// A group session kind.
    GroupKindWire => adosexo_domain::schedule::group::GroupKind
);
wire_enum!(
    /// Where a group session stands.
    GroupStatusWire => adosexo_domain::schedule::group::GroupStatus
);
wire_enum!(
    /// In person or remote.
    GroupModeWire => adosexo_domain::schedule::group::GroupMode
);
wire_enum!(
    /// A registration's place.
    RegistrationStatusWire => adosexo_domain::schedule::group::RegistrationStatus
);
wire_enum!(
    /// Who a participant is.
    ParticipantCategoryWire => adosexo_domain::schedule::group::ParticipantCategory
);
wire_enum!(
    /// An age band of head counts.
    AgeBandWire => adosexo_domain::schedule::group::AgeBand
);

wire_enum!(
    /// A processing purpose on the wire.
    PurposeWire => adosexo_domain::consent::Purpose
);
wire_enum!(
    /// A legal basis on the wire.
    LegalBasisWire => adosexo_domain::consent::LegalBasis
);
wire_enum!(
    /// Who gave a consent, on the wire.
    GiverWire => adosexo_domain::consent::Giver
);
wire_enum!(
    /// How a consent was collected, on the wire.
    ConsentMethodWire => adosexo_domain::consent::ConsentMethod
);
wire_enum!(
    /// Why information is shared, on the wire.
    SharePurposeWire => adosexo_domain::consent::SharePurpose
);
wire_enum!(
    /// A group of shared fields, on the wire.
    FieldGroupWire => adosexo_domain::consent::FieldGroup
);
wire_enum!(
    /// Whether the family was informed, on the wire.
    FamilyInformedWire => adosexo_domain::consent::FamilyInformed
);

/// Validator rule: a well-formed INSEE département code.
pub fn departement_code(code: &str) -> Result<(), validator::ValidationError> {
    adosexo_domain::DepartementCode::parse(code)
        .map(|_| ())
        .map_err(|e| {
            let mut error = validator::ValidationError::new("format");
            error.message = Some(e.to_string().into());
            error
        })
}

/// Validator rule: every entry a well-formed INSEE département code.
pub fn departement_codes(codes: &[DepartementCodeWire]) -> Result<(), validator::ValidationError> {
    codes.iter().try_for_each(|c| departement_code(&c.0))
}

/// Deserializes an optional integer the way JSON Schema reads one: `1900`
/// and `1900.0` are the same integer; `1900.5` is not one.
pub fn optional_integer<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<i32>, D::Error> {
    let value = Option::<serde_json::Number>::deserialize(deserializer)?;
    value
        .map(|n| {
            n.as_i64()
                .or_else(|| {
                    n.as_f64()
                        .filter(|f| f.fract() == 0.0 && f.abs() < 1e15)
                        .map(|f| f as i64)
                })
                .and_then(|i| i32::try_from(i).ok())
                .ok_or_else(|| {
                    serde::de::Error::custom(format!("invalid type: `{n}`, expected an integer"))
                })
        })
        .transpose()
}

/// Validator rule: a UUID (ids in bodies), so that a malformed id is a 400
/// before any precondition is looked at.
pub fn uuid_text(value: &str) -> Result<(), validator::ValidationError> {
    uuid::Uuid::parse_str(value).map(|_| ()).map_err(|_| {
        let mut error = validator::ValidationError::new("format");
        error.message = Some("must be a UUID".into());
        error
    })
}

/// Validator rule: an `https://` URL — an ASCII host, an optional port, then
/// printable ASCII (documented as
/// `^https://[A-Za-z0-9.-]+(:[0-9]{1,5})?([/?#][!-~]*)?$`).
pub fn https_url(value: &str) -> Result<(), validator::ValidationError> {
    // ASCII only (an internationalised host is given in its punycode form):
    // the host, an optional port, then printable characters.
    let rest = value.strip_prefix("https://").unwrap_or_default();
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    let (host, port) = match authority.split_once(':') {
        Some((host, port)) => (host, Some(port)),
        None => (authority, None),
    };
    let host_ok = !host.is_empty()
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-');
    let port_ok =
        port.is_none_or(|p| (1..=5).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_digit()));
    let tail_ok = tail.bytes().all(|b| (b'!'..=b'~').contains(&b));
    if host_ok && port_ok && tail_ok {
        Ok(())
    } else {
        let mut error = validator::ValidationError::new("format");
        error.message = Some(
            "must be an https:// URL (ASCII; an internationalised host in its punycode form)"
                .into(),
        );
        Err(error)
    }
}

/// Validator rule: every entry a UUID.
pub fn uuid_texts(values: &[String]) -> Result<(), validator::ValidationError> {
    values.iter().try_for_each(|v| uuid_text(v))
}

/// A département code on the wire (documented with its pattern).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(transparent)]
pub struct DepartementCodeWire(pub String);

impl PartialSchema for DepartementCodeWire {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .pattern(Some(DEPARTEMENT_PATTERN))
            .examples([serde_json::json!("93")])
            .into()
    }
}

impl ToSchema for DepartementCodeWire {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("DepartementCode")
    }
}

/// The pattern of département codes in the document.
pub const DEPARTEMENT_PATTERN: &str = "^([0-9]{2}|2[ABab]|9[78][0-9])$";

/// The pattern of e-mail addresses in the document (what `Email::parse` takes).
pub const EMAIL_PATTERN: &str = "^[^@\\s\\x00-\\x1f\\x7f-\\x9f]+@[^@\\s\\x00-\\x1f\\x7f-\\x9f.][^@\\s\\x00-\\x1f\\x7f-\\x9f]*\\.[^@\\s\\x00-\\x1f\\x7f-\\x9f.]+$";

/// A stored instant, for the wire (RFC 3339, UTC).
pub fn instant(stored: chrono::NaiveDateTime) -> chrono::DateTime<chrono::Utc> {
    adosexo_persistence::time::from_db(stored)
}

#[cfg(test)]
mod tests {
    use super::*;
    use adosexo_domain::identity::Role;

    #[derive(Debug, serde::Deserialize)]
    struct Year {
        #[serde(default, deserialize_with = "optional_integer")]
        year: Option<i32>,
    }

    #[test]
    fn integers_as_json_schema_reads_them() {
        let year = |json: &str| serde_json::from_str::<Year>(json).map(|y| y.year);
        assert_eq!(year(r#"{"year": 1900}"#).ok(), Some(Some(1900)));
        assert_eq!(year(r#"{"year": 1900.0}"#).ok(), Some(Some(1900)));
        assert_eq!(year(r#"{"year": null}"#).ok(), Some(None));
        assert_eq!(year(r#"{}"#).ok(), Some(None));
        assert!(year(r#"{"year": 1900.5}"#).is_err());
        assert!(year(r#"{"year": 99999999999}"#).is_err());
        assert!(year(r#"{"year": "1900"}"#).is_err());
    }

    #[test]
    fn enums_round_trip_and_name_allowed_values() {
        let role: RoleWire = serde_json::from_str("\"regional_referent\"").expect("parses");
        assert_eq!(role, RoleWire(Role::RegionalReferent));
        assert_eq!(
            serde_json::to_string(&role).expect("json"),
            "\"regional_referent\""
        );
        let error = serde_json::from_str::<RoleWire>("\"root\"")
            .expect_err("unknown")
            .to_string();
        assert!(
            error.contains("expected one of: admin, supervisor"),
            "{error}"
        );
        let schema = serde_json::to_value(RoleWire::schema()).expect("json");
        assert_eq!(schema["enum"][5], "analyst");
    }
}

/// A secret on the wire (password, client secret, refresh token): never
/// printed by `Debug`.
#[derive(Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(transparent)]
pub struct SecretString(String);

impl SecretString {
    /// Wraps a secret read elsewhere than from JSON (a form, a header).
    pub fn new(secret: String) -> Self {
        Self(secret)
    }

    /// The secret itself. Never log it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for SecretString {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("[redacted]")
    }
}

impl PartialSchema for SecretString {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .format(Some(utoipa::openapi::schema::SchemaFormat::KnownFormat(
                utoipa::openapi::schema::KnownFormat::Password,
            )))
            .min_length(Some(1))
            .max_length(Some(1024))
            .into()
    }
}

impl ToSchema for SecretString {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("Secret")
    }
}

wire_enum!(
    /// A partnership agreement's status, on the wire.
    AgreementStatusWire => adosexo_domain::professional::AgreementStatus
);
wire_enum!(
    /// What a library resource is, on the wire.
    ResourceKindWire => adosexo_domain::professional::ResourceKind
);
wire_enum!(
    /// Whom a library resource is for, on the wire.
    ResourceAudienceWire => adosexo_domain::professional::ResourceAudience
);
wire_enum!(
    /// Who may download a library resource, on the wire.
    VisibilityWire => adosexo_domain::professional::Visibility
);
wire_enum!(
    /// A case review request's status, on the wire.
    CaseReviewStatusWire => adosexo_domain::professional::CaseReviewStatus
);
