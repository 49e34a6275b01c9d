//! Referrals: intake by partners and staff, the partner's view, triage and
//! the lifecycle actions, the danger rule.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use adosexo_domain::DepartementCode;
use adosexo_domain::authz::{self, Action, Resource};
use adosexo_domain::identity::Role;
use adosexo_domain::referral::{
    Birth, ReferralAction, ReferralStatus, RiskIndicator, SourceKind, human_reference, name_key,
    partner_source_allowed, protection_decision_required,
};
use adosexo_persistence::DbConnection;
use adosexo_persistence::cases::{
    self, FollowUpRow, PersonRow, ReferralChanges, ReferralEventRow, ReferralFilter, ReferralRow,
};
use adosexo_persistence::identity;
use adosexo_persistence::time::to_db;
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use super::cases::{cursor_of, parse_cursor, stored, stored_departement};
use crate::audit::{self, Outcome};
use crate::auth::Authenticated;
use crate::extract::{ApiJson, ApiQuery, text};
use crate::guard::permit;
use crate::http_cache::{if_match, versioned_json};
use crate::idempotency::{self, Created, IdempotencyKey, Operation};
use crate::pagination::{limit, parse_id};
use crate::problem::ApiError;
use crate::state::AppState;
use crate::wire::{
    ContextWire, GenderWire, ProtectionKindWire, PublicWire, ReferralActionWire,
    ReferralStatusWire, RiskIndicatorWire, SourceKindWire, UrgencyWire, instant,
};

// ---------------------------------------------------------------- wire types

/// The person a referral is about: minimal by design.
#[derive(Debug, Deserialize, Serialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PersonInput {
    /// First name or pseudonym.
    #[validate(length(
        min = 1,
        max = 100,
        message = "first_name must have 1 to 100 characters"
    ))]
    #[schema(min_length = 1, max_length = 100, example = "Lina")]
    pub first_name: String,
    /// Last name, only if needed.
    #[validate(length(
        min = 1,
        max = 100,
        message = "last_name must have 1 to 100 characters"
    ))]
    #[schema(min_length = 1, max_length = 100)]
    pub last_name: Option<String>,
    /// Birth date, if known.
    pub birth_date: Option<NaiveDate>,
    /// Birth year, when the date is not known.
    #[serde(default, deserialize_with = "crate::wire::optional_integer")]
    #[validate(range(
        min = 1900,
        max = 2100,
        message = "birth_year must be from 1900 to 2100"
    ))]
    #[schema(minimum = 1900, maximum = 2100)]
    pub birth_year: Option<i32>,
    /// Gender, if given.
    pub gender: Option<GenderWire>,
    /// Where the person lives (INSEE code).
    #[validate(custom(function = "crate::wire::departement_code"))]
    #[schema(pattern = "^([0-9]{2}|2[ABab]|9[78][0-9])$", example = "93")]
    pub departement_code: String,
    /// Placement (care home, family…), free text.
    #[validate(length(max = 200, message = "placement has at most 200 characters"))]
    #[schema(max_length = 200)]
    pub placement: Option<String>,
    /// ASE or PJJ measure, free text.
    #[validate(length(max = 200, message = "measure has at most 200 characters"))]
    #[schema(max_length = 200)]
    pub measure: Option<String>,
    /// For a relative: the relationship to the young person.
    #[validate(length(max = 100, message = "relationship has at most 100 characters"))]
    #[schema(max_length = 100)]
    pub relationship: Option<String>,
    /// For a relative: holds parental authority.
    pub parental_authority: Option<bool>,
    /// For a professional: their organisation.
    #[validate(length(max = 200, message = "organisation_name has at most 200 characters"))]
    #[schema(max_length = 200)]
    pub organisation_name: Option<String>,
    /// For a professional: their role.
    #[validate(length(max = 100, message = "professional_role has at most 100 characters"))]
    #[schema(max_length = 100)]
    pub professional_role: Option<String>,
    /// How to reach them (phone or e-mail), free text.
    #[validate(length(max = 200, message = "contact has at most 200 characters"))]
    #[schema(max_length = 200)]
    pub contact: Option<String>,
}

/// The professional who refers (partners).
#[derive(Debug, Deserialize, Serialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReferrerInput {
    /// Name and role.
    #[validate(length(
        min = 1,
        max = 200,
        message = "referrer.name must have 1 to 200 characters"
    ))]
    #[schema(
        min_length = 1,
        max_length = 200,
        example = "Mme Diallo, éducatrice ASE"
    )]
    pub name: String,
    /// Phone or e-mail.
    #[validate(length(max = 200, message = "referrer.contact has at most 200 characters"))]
    #[schema(max_length = 200)]
    pub contact: Option<String>,
}

/// A new referral.
#[derive(Debug, Deserialize, Serialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateReferral {
    /// Whom it is about.
    pub public: PublicWire,
    /// The situation.
    pub context: ContextWire,
    /// Who asks. Partners: always `partner_organisation`.
    pub source: SourceKindWire,
    /// For staff recording a partner's request: the partner organisation.
    #[schema(
        pattern = "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
    )]
    #[validate(custom(function = "crate::wire::uuid_text"))]
    pub source_organisation_id: Option<String>,
    /// The referring professional.
    #[validate(nested)]
    pub referrer: Option<ReferrerInput>,
    /// The person concerned.
    #[validate(nested)]
    pub person: PersonInput,
    /// Signs observed.
    #[validate(length(max = 12, message = "risk_indicators has at most 12 entries"))]
    #[schema(max_items = 12)]
    pub risk_indicators: Vec<RiskIndicatorWire>,
    /// What the referrer knows and asks, in a few lines.
    #[validate(length(
        min = 1,
        max = 4000,
        message = "summary must have 1 to 4000 characters"
    ))]
    #[schema(min_length = 1, max_length = 4000)]
    pub summary: String,
    /// How soon.
    pub urgency: UrgencyWire,
}

/// The person, as read back.
#[derive(Debug, Serialize, ToSchema)]
pub struct PersonView {
    /// Id.
    pub id: String,
    /// First name or pseudonym.
    pub first_name: String,
    /// Last name.
    pub last_name: Option<String>,
    /// Birth date.
    pub birth_date: Option<NaiveDate>,
    /// Birth year.
    pub birth_year: Option<i32>,
    /// Gender.
    pub gender: Option<GenderWire>,
    /// Département.
    pub departement_code: Option<String>,
    /// Placement.
    pub placement: Option<String>,
    /// Measure.
    pub measure: Option<String>,
    /// Relationship (relatives).
    pub relationship: Option<String>,
    /// Parental authority (relatives).
    pub parental_authority: Option<bool>,
    /// Organisation (professionals).
    pub organisation_name: Option<String>,
    /// Role (professionals).
    pub professional_role: Option<String>,
    /// Contact.
    pub contact: Option<String>,
}

/// One step of a referral's timeline.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReferralEventView {
    /// When (UTC).
    pub at: DateTime<Utc>,
    /// What was done.
    pub action: ReferralActionWire,
    /// Status before.
    pub from_status: Option<ReferralStatusWire>,
    /// Status after.
    pub to_status: ReferralStatusWire,
    /// Why (decline, redirect, withdraw).
    pub reason: Option<String>,
    /// `staff` or `partner` (who, without naming them to partners).
    pub by: &'static str,
}

/// The mandatory child-protection decision (danger rule).
#[derive(Debug, Serialize, ToSchema)]
pub struct ProtectionView {
    /// Whether the danger rule applies.
    pub required: bool,
    /// Deadline to record it.
    pub due_at: Option<DateTime<Utc>>,
    /// How it was taken, once recorded.
    pub kind: Option<ProtectionKindWire>,
    /// Date of the IP, signalement or measure.
    pub on: Option<NaiveDate>,
    /// CRIP département, prosecutor, court…
    pub details: Option<String>,
    /// When it was recorded.
    pub recorded_at: Option<DateTime<Utc>>,
}

/// Whom a partner may contact about its referral.
#[derive(Debug, Serialize, ToSchema)]
pub struct TeamContact {
    /// Name of the lead staff member.
    pub name: String,
    /// Their e-mail.
    pub email: String,
}

/// A referral. Partners see their own organisation's, without staff-only
/// fields (`lead_staff_id`, `follow_up_id`, `protection`, `possible_duplicates`).
#[derive(Debug, Serialize, ToSchema)]
pub struct ReferralView {
    /// Id.
    pub id: String,
    /// Human reference (`ORI-2026-000123`).
    pub reference: String,
    /// Where it stands.
    pub status: ReferralStatusWire,
    /// Whom it is about.
    pub public: PublicWire,
    /// The situation.
    pub context: ContextWire,
    /// Who asked.
    pub source: SourceKindWire,
    /// The referring organisation.
    pub source_organisation_id: Option<String>,
    /// The referring professional.
    pub referrer_name: Option<String>,
    /// Their contact.
    pub referrer_contact: Option<String>,
    /// The person concerned.
    pub person: PersonView,
    /// Département of the case.
    pub departement_code: String,
    /// Signs observed.
    pub risk_indicators: Vec<RiskIndicatorWire>,
    /// The referrer's summary.
    pub summary: String,
    /// How soon.
    pub urgency: UrgencyWire,
    /// Reason of a decline, redirect or withdrawal.
    pub decision_reason: Option<String>,
    /// Where a redirected referral was sent.
    pub redirected_to: Option<String>,
    /// Whom to contact in the team, once a lead is assigned.
    pub team_contact: Option<TeamContact>,
    /// Every step, oldest first.
    pub timeline: Vec<ReferralEventView>,
    /// Lead staff (staff only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lead_staff_id: Option<String>,
    /// The follow-up it opened or joined (staff only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub follow_up_id: Option<String>,
    /// The danger rule's decision (staff only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub protection: Option<ProtectionView>,
    /// Referrals of someone with the same first name (accents and case
    /// ignored), birth date and département (staff only, single reads).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub possible_duplicates: Option<Vec<DuplicateView>>,
    /// Version, as in the `ETag`.
    pub version: i64,
    /// Received at.
    pub created_at: DateTime<Utc>,
    /// Last changed at.
    pub updated_at: DateTime<Utc>,
}

/// A possibly duplicate referral.
#[derive(Debug, Serialize, ToSchema)]
pub struct DuplicateView {
    /// Its id.
    pub id: String,
    /// Its reference.
    pub reference: String,
    /// Its status.
    pub status: ReferralStatusWire,
    /// Its follow-up, to join instead of opening a new one.
    pub follow_up_id: Option<String>,
}

/// A page of referrals, by last change.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReferralPage {
    /// Oldest change first.
    pub items: Vec<ReferralView>,
    /// Pass as `cursor` for the next page; `null` on the last.
    pub next_cursor: Option<String>,
}

// ------------------------------------------------------------------ helpers

fn is_staff(auth: &Authenticated) -> bool {
    auth.actor.roles.is_staff()
}

fn person_view(row: PersonRow) -> Result<PersonView, ApiError> {
    Ok(PersonView {
        gender: row
            .gender
            .as_deref()
            .map(stored)
            .transpose()?
            .map(GenderWire),
        birth_date: row
            .birth_date
            .as_deref()
            .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok()),
        id: row.id,
        first_name: row.first_name,
        last_name: row.last_name,
        birth_year: row.birth_year,
        departement_code: row.departement_code,
        placement: row.placement,
        measure: row.measure,
        relationship: row.relationship,
        parental_authority: row.parental_authority,
        organisation_name: row.organisation_name,
        professional_role: row.professional_role,
        contact: row.contact,
    })
}

/// Everything a view needs, loaded in one trip.
struct Loaded {
    referral: ReferralRow,
    person: PersonRow,
    events: Vec<ReferralEventRow>,
    lead: Option<(String, String)>,
    duplicates: Option<Vec<ReferralRow>>,
}

fn load_details(
    conn: &mut DbConnection,
    referral: ReferralRow,
    duplicates: bool,
) -> Result<Loaded, ApiError> {
    let person = cases::find_person(conn, &referral.person_id)?
        .ok_or_else(|| ApiError::internal(format!("referral {} has no person", referral.id)))?;
    let events = cases::events_of(conn, &referral.id)?;
    let lead = match &referral.lead_staff_id {
        Some(id) => identity::find_account(conn, id)?.map(|a| (a.display_name, a.email)),
        None => None,
    };
    let duplicates = if duplicates {
        Some(cases::possible_duplicates(conn, &person)?)
    } else {
        None
    };
    Ok(Loaded {
        referral,
        person,
        events,
        lead,
        duplicates,
    })
}

/// `load_details` for a page of referrals, in three queries whatever its
/// length (no duplicates: lists do not show them).
fn load_many(
    conn: &mut DbConnection,
    referrals: Vec<ReferralRow>,
) -> Result<Vec<Loaded>, ApiError> {
    use std::collections::HashMap;
    let person_ids: Vec<String> = referrals.iter().map(|r| r.person_id.clone()).collect();
    let people: HashMap<String, PersonRow> = cases::find_people(conn, &person_ids)?
        .into_iter()
        .map(|p| (p.id.clone(), p))
        .collect();
    let ids: Vec<String> = referrals.iter().map(|r| r.id.clone()).collect();
    let mut events: HashMap<String, Vec<ReferralEventRow>> = HashMap::new();
    for event in cases::events_of_many(conn, &ids)? {
        events
            .entry(event.referral_id.clone())
            .or_default()
            .push(event);
    }
    let mut lead_ids: Vec<String> = referrals
        .iter()
        .filter_map(|r| r.lead_staff_id.clone())
        .collect();
    lead_ids.sort();
    lead_ids.dedup();
    let leads: HashMap<String, (String, String)> = identity::find_accounts(conn, &lead_ids)?
        .into_iter()
        .map(|a| (a.id, (a.display_name, a.email)))
        .collect();
    referrals
        .into_iter()
        .map(|referral| {
            // Several referrals may share a person (joined follow-ups).
            let person = match people.get(&referral.person_id) {
                Some(p) => p.clone(),
                None => {
                    return Err(ApiError::internal(format!(
                        "referral {} has no person",
                        referral.id
                    )));
                }
            };
            Ok(Loaded {
                events: events.remove(&referral.id).unwrap_or_default(),
                lead: referral
                    .lead_staff_id
                    .as_ref()
                    .and_then(|id| leads.get(id).cloned()),
                person,
                referral,
                duplicates: None,
            })
        })
        .collect::<Result<Vec<_>, ApiError>>()
}

fn view(loaded: Loaded, staff: bool) -> Result<ReferralView, ApiError> {
    let Loaded {
        referral: r,
        person,
        events,
        lead,
        duplicates,
    } = loaded;
    let risk_indicators = r
        .risk_indicators
        .split(',')
        .filter(|s| !s.is_empty())
        .map(|s| stored::<RiskIndicator>(s).map(RiskIndicatorWire))
        .collect::<Result<Vec<_>, _>>()?;
    let timeline = events
        .into_iter()
        .map(|e| {
            Ok(ReferralEventView {
                at: instant(e.at),
                action: ReferralActionWire(stored(&e.action)?),
                from_status: e
                    .from_status
                    .as_deref()
                    .map(stored)
                    .transpose()?
                    .map(ReferralStatusWire),
                to_status: ReferralStatusWire(stored(&e.to_status)?),
                reason: e.reason,
                by: if e.actor_kind == "staff" {
                    "staff"
                } else {
                    "partner"
                },
            })
        })
        .collect::<Result<Vec<_>, ApiError>>()?;
    let protection = staff.then(|| -> Result<ProtectionView, ApiError> {
        Ok(ProtectionView {
            required: r.protection_required,
            due_at: r.protection_due_at.map(instant),
            kind: r
                .protection_kind
                .as_deref()
                .map(stored)
                .transpose()?
                .map(ProtectionKindWire),
            on: r
                .protection_on
                .as_deref()
                .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok()),
            details: r.protection_details.clone(),
            recorded_at: r.protection_recorded_at.map(instant),
        })
    });
    let possible_duplicates = match duplicates.filter(|_| staff) {
        Some(found) => Some(
            found
                .into_iter()
                .map(|d| {
                    Ok(DuplicateView {
                        status: ReferralStatusWire(stored(&d.status)?),
                        id: d.id,
                        reference: d.reference,
                        follow_up_id: d.follow_up_id,
                    })
                })
                .collect::<Result<Vec<_>, ApiError>>()?,
        ),
        None => None,
    };
    Ok(ReferralView {
        status: ReferralStatusWire(stored(&r.status)?),
        public: PublicWire(stored(&r.public)?),
        context: ContextWire(stored(&r.context)?),
        source: SourceKindWire(stored(&r.source_kind)?),
        urgency: UrgencyWire(stored(&r.urgency)?),
        person: person_view(person)?,
        risk_indicators,
        timeline,
        team_contact: lead.map(|(name, email)| TeamContact { name, email }),
        lead_staff_id: r.lead_staff_id.filter(|_| staff),
        follow_up_id: r.follow_up_id.filter(|_| staff),
        protection: protection.transpose()?,
        possible_duplicates,
        id: r.id,
        reference: r.reference,
        source_organisation_id: r.source_organisation_id,
        referrer_name: r.referrer_name,
        referrer_contact: r.referrer_contact,
        departement_code: r.departement_code,
        summary: r.summary,
        decision_reason: r.decision_reason,
        redirected_to: r.redirected_to,
        version: r.version,
        created_at: instant(r.created_at),
        updated_at: instant(r.updated_at),
    })
}

/// Loads a referral and checks `action` on it (audited denial; 404 when
/// it does not exist or is not the caller's).
async fn authorized(
    state: &AppState,
    auth: &Authenticated,
    id: &str,
    action: Action,
) -> Result<ReferralRow, ApiError> {
    let lookup = id.to_owned();
    let referral = state
        .db
        .run(move |conn| cases::find_referral(conn, &lookup))
        .await?;
    let Some(referral) = referral else {
        // Same answer as for someone else's referral; the attempt is audited.
        permit(state, auth, action, Resource::Service, "referral", Some(id)).await?;
        return Err(ApiError::not_found("no referral with this id"));
    };
    let departement = stored_departement(&referral.departement_code)?;
    let resource = Resource::Referral {
        organisation_id: referral.source_organisation_id.as_deref(),
        departement: &departement,
    };
    permit(state, auth, action, resource, "referral", Some(id)).await?;
    Ok(referral)
}

fn today(now: DateTime<Utc>) -> (i32, u32, u32) {
    (now.year(), now.month(), now.day())
}

fn actor_kind(auth: &Authenticated) -> &'static str {
    if is_staff(auth) { "staff" } else { "partner" }
}

// ----------------------------------------------------------------- handlers

/// Submit a referral.
#[utoipa::path(
    operation_id = "createReferral",
    tag = "referrals",
    summary = "Submit a referral",
    description = "Partners (people and apps with `referrals:write`) and staff (a parent's call, a young \
                   person walking in). Gets a human reference (`ORI-2026-000123`). For a minor in a \
                   prostitution situation, the danger rule opens a mandatory child-protection decision with \
                   a deadline. Honours `Idempotency-Key`: a retry never creates a second referral. \
                   Coordinators and referents submit for their territory only (403 otherwise: a \
                   supervisor or the team of that département submits it). `Location` is sent only \
                   to a creator who may read the referral (not to an app with `referrals:write` \
                   alone, whose retry is answered as a read would be: 403).",
    request_body(content = CreateReferral, content_type = "application/json"),
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe: the same key and body replay the first answer (1 to 255 visible ASCII characters)", pattern = "^[!-~]{1,255}$")),
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Received", body = ReferralView,
         headers(("Location" = String, description = "The new referral, when the creator may read it"), ("ETag" = String, description = "Its version"))),
        (status = 400, response = crate::problem::BadRequest),
        (status = 401, response = crate::problem::Unauthorized),
        (status = 403, response = crate::problem::Forbidden),
        (status = 413, response = crate::problem::PayloadTooLarge),
        (status = 415, response = crate::problem::UnsupportedMediaType),
        (status = 422, response = crate::problem::Unprocessable),
        (status = 503, response = crate::problem::Unavailable),
    ),
)]
#[post("/referrals")]
pub async fn create(
    state: web::Data<AppState>,
    auth: Authenticated,
    key: IdempotencyKey,
    body: ApiJson<CreateReferral>,
) -> Result<HttpResponse, ApiError> {
    permit(
        &state,
        &auth,
        Action::CreateReferral,
        Resource::Service,
        "referral",
        None,
    )
    .await?;
    let body = body.into_inner()?;
    let digest = idempotency::digest(&body)?;
    let now = state.clock.now();
    let staff = is_staff(&auth);
    // Partners refer for their own organisation; staff may name one.
    let source_organisation_id = if staff {
        match (&body.source.0, &body.source_organisation_id) {
            (SourceKind::PartnerOrganisation, Some(id)) => {
                Some(parse_id("source_organisation_id", id)?)
            }
            (SourceKind::PartnerOrganisation, None) => {
                return Err(ApiError::invalid_value(
                    "source_organisation_id",
                    "required",
                    "a referral from a partner organisation names it",
                ));
            }
            (_, Some(_)) => {
                return Err(ApiError::invalid_value(
                    "source_organisation_id",
                    "unexpected",
                    "only referrals from a partner organisation name one",
                ));
            }
            (_, None) => None,
        }
    } else {
        if !partner_source_allowed(body.source.0, body.source_organisation_id.is_some()) {
            return Err(ApiError::rule(
                "partner-source",
                "Partner referral",
                "a partner refers as `partner_organisation`, for its own organisation (do not send source_organisation_id)",
            ));
        }
        Some(auth.actor.organisation_id.clone())
    };
    let birth = match (body.person.birth_date, body.person.birth_year) {
        (Some(date), year) => {
            if year.is_some_and(|y| y != date.year()) {
                return Err(ApiError::invalid_value(
                    "person.birth_year",
                    "mismatch",
                    "birth_year differs from birth_date",
                ));
            }
            if date > now.date_naive() {
                return Err(ApiError::invalid_value(
                    "person.birth_date",
                    "range",
                    "birth_date is in the future",
                ));
            }
            Some(Birth::Date {
                year: date.year(),
                month: date.month(),
                day: date.day(),
            })
        }
        (None, Some(year)) => Some(Birth::Year(year)),
        (None, None) => None,
    };
    let departement = DepartementCode::parse(&body.person.departement_code)
        .map_err(|e| ApiError::invalid_field("person.departement_code", "format", e.to_string()))?;
    let first_name = text("person.first_name", &body.person.first_name)?;
    let referrer_name = body
        .referrer
        .as_ref()
        .map(|r| text("referrer.name", &r.name))
        .transpose()?;
    let protection_required =
        protection_decision_required(body.public.0, body.context.0, birth, today(now));
    let protection_due = protection_required.then(|| {
        now + chrono::Duration::from_std(state.protection_deadline)
            .unwrap_or(chrono::Duration::hours(72))
    });
    let new_referral = Resource::Referral {
        organisation_id: source_organisation_id.as_deref(),
        departement: &departement,
    };
    permit(
        &state,
        &auth,
        Action::CreateReferral,
        new_referral,
        "referral",
        None,
    )
    .await
    .map_err(|e| {
        if e.kind() == "forbidden" {
            let territory: Vec<&str> = auth.actor.territory.iter().map(|d| d.as_str()).collect();
            e.with_detail(format!(
                "you submit referrals for your territory ({}); a supervisor or the team of {departement} submits this one",
                territory.join(", ")
            ))
        } else {
            e
        }
    })?;
    // Only a creator who may read the referral is sent to it (an app with
    // `referrals:write` alone is not).
    let readable = authz::authorize(&auth.actor, Action::ReadReferral, new_referral).is_ok();
    let (actor, ctx, actor_kind) = (auth.actor.clone(), auth.ctx.clone(), actor_kind(&auth));
    idempotency::create(
        &state,
        &auth,
        key,
        Operation {
            name: "create_referral",
            location: readable.then_some("/api/v1/referrals"),
            replay: idempotency::reread(&state, &auth, read_referral),
        },
        digest,
        move |conn| {
            if adosexo_persistence::territory::find_departement(conn, &departement)?.is_none() {
                return Err(ApiError::rule(
                    "unknown-departement",
                    "Unknown département",
                    format!("no département has the code {departement}"),
                ));
            }
            if let Some(org) = &source_organisation_id
                && identity::find_organisation(conn, org)?.is_none()
            {
                return Err(ApiError::rule(
                    "unknown-organisation",
                    "Unknown organisation",
                    "no organisation has this id",
                ));
            }
            let p = &body.person;
            let person = PersonRow {
                id: uuid::Uuid::now_v7().to_string(),
                kind: body.public.0.as_str().to_owned(),
                first_name,
                last_name: p.last_name.clone(),
                name_key: name_key(&p.first_name),
                birth_date: p.birth_date.map(|d| d.format("%Y-%m-%d").to_string()),
                birth_year: p.birth_year.or(p.birth_date.map(|d| d.year())),
                gender: p.gender.map(|g| g.0.as_str().to_owned()),
                departement_code: Some(departement.to_string()),
                placement: p.placement.clone(),
                measure: p.measure.clone(),
                relationship: p.relationship.clone(),
                parental_authority: p.parental_authority,
                organisation_name: p.organisation_name.clone(),
                professional_role: p.professional_role.clone(),
                contact: p.contact.clone(),
                created_at: to_db(now),
                updated_at: to_db(now),
                version: 1,
            };
            cases::insert_person(conn, &person)?;
            let sequence = cases::next_reference(conn, "ORI", now.year())?;
            let referral = ReferralRow {
                id: uuid::Uuid::now_v7().to_string(),
                reference: human_reference("ORI", now.year(), sequence),
                public: body.public.0.as_str().to_owned(),
                context: body.context.0.as_str().to_owned(),
                source_kind: body.source.0.as_str().to_owned(),
                source_organisation_id,
                referrer_name,
                referrer_contact: body.referrer.as_ref().and_then(|r| r.contact.clone()),
                submitted_by_id: actor.id.clone(),
                submitted_by_kind: actor.kind.as_str().to_owned(),
                person_id: person.id.clone(),
                departement_code: departement.to_string(),
                risk_indicators: body
                    .risk_indicators
                    .iter()
                    .map(|i| i.0.as_str())
                    .collect::<Vec<_>>()
                    .join(","),
                summary: body.summary.clone(),
                urgency: body.urgency.0.as_str().to_owned(),
                status: ReferralStatus::Submitted.as_str().to_owned(),
                decision_reason: None,
                redirected_to: None,
                lead_staff_id: None,
                follow_up_id: None,
                protection_required,
                protection_due_at: protection_due.map(to_db),
                protection_kind: None,
                protection_details: None,
                protection_on: None,
                protection_recorded_at: None,
                version: 1,
                created_at: to_db(now),
                updated_at: to_db(now),
            };
            cases::insert_referral(conn, &referral)?;
            cases::insert_event(
                conn,
                &ReferralEventRow {
                    id: uuid::Uuid::now_v7().to_string(),
                    referral_id: referral.id.clone(),
                    at: to_db(now),
                    actor_id: actor.id.clone(),
                    actor_kind: actor_kind.to_owned(),
                    action: ReferralAction::Submit.as_str().to_owned(),
                    from_status: None,
                    to_status: referral.status.clone(),
                    reason: None,
                },
            )?;
            crate::webhooks::referral_status_changed(conn, &referral, None, now)?;
            let entry = audit::entry(
                Some(&actor),
                &ctx,
                "create_referral",
                "referral",
                Some(&referral.id),
                Outcome::Success,
            );
            adosexo_persistence::audit::append(conn, &[entry], now)?;
            let loaded = load_details(conn, referral, false)?;
            let body = view(loaded, staff)?;
            Ok(Created {
                id: body.id.clone(),
                version: body.version,
                body,
                replay_body: None,
            })
        },
    )
    .await
}

/// Filters and paging of referral lists.
#[derive(Debug, Deserialize, Validate, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Page size, 1 to 200 (default 50).
    #[validate(range(min = 1, max = 200, message = "limit must be from 1 to 200"))]
    #[param(minimum = 1, maximum = 200, default = 50)]
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    #[param(
        pattern = "^[0-9]{1,16}_[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
    )]
    pub cursor: Option<String>,
    /// Only referrals in this status.
    pub status: Option<ReferralStatusWire>,
    /// Only referrals of this urgency.
    pub urgency: Option<UrgencyWire>,
    /// Only referrals changed at or after this instant (RFC 3339), for polling.
    pub updated_since: Option<DateTime<Utc>>,
}

async fn list_for(
    state: &AppState,
    auth: &Authenticated,
    query: ListQuery,
    statuses: Option<Vec<String>>,
    action: &str,
) -> Result<HttpResponse, ApiError> {
    let after = query.cursor.as_deref().map(parse_cursor).transpose()?;
    let limit = limit(query.limit);
    let actor = &auth.actor;
    let (organisation_id, departements) = if actor.roles.has(Role::Supervisor) {
        (None, None)
    } else if actor.roles.is_staff() {
        (
            None,
            Some(actor.territory.iter().map(|d| d.to_string()).collect()),
        )
    } else {
        (Some(actor.organisation_id.clone()), None)
    };
    let filter = ReferralFilter {
        organisation_id,
        departements,
        statuses: query
            .status
            .map(|s| vec![s.0.as_str().to_owned()])
            .or(statuses),
        urgency: query.urgency.map(|u| u.0.as_str().to_owned()),
        updated_since: query.updated_since,
        after,
        limit: i64::from(limit) + 1,
    };
    let staff = actor.roles.is_staff();
    let loaded = state
        .db
        .run(move |conn| {
            let rows = cases::list_referrals(conn, &filter)?;
            load_many(conn, rows)
        })
        .await?;
    let (loaded, next_cursor) = crate::pagination::page(loaded, limit, |l| {
        cursor_of(l.referral.updated_at, &l.referral.id)
    });
    audit::record(
        state,
        vec![audit::list_entry(
            Some(actor),
            &auth.ctx,
            action,
            "referral",
            loaded.iter().map(|l| &l.referral.id),
        )],
    )
    .await?;
    let items = loaded
        .into_iter()
        .map(|l| view(l, staff))
        .collect::<Result<_, _>>()?;
    Ok(HttpResponse::Ok().json(ReferralPage { items, next_cursor }))
}

/// List referrals.
#[utoipa::path(
    operation_id = "listReferrals",
    tag = "referrals",
    summary = "List referrals",
    description = "Partners: their organisation's. Coordinators and regional referents: their territory's. \
                   Supervisors: all. Ordered by last change; `updated_since` for polling.",
    params(ListQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "A page of referrals", body = ReferralPage),
        (status = 400, response = crate::problem::BadRequest),
        (status = 401, response = crate::problem::Unauthorized),
        (status = 403, response = crate::problem::Forbidden),
        (status = 503, response = crate::problem::Unavailable),
    ),
)]
#[get("/referrals")]
pub async fn list(
    state: web::Data<AppState>,
    auth: Authenticated,
    query: ApiQuery<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    permit(
        &state,
        &auth,
        Action::ListReferrals,
        Resource::Service,
        "referral",
        None,
    )
    .await?;
    let query = query.into_inner()?;
    list_for(&state, &auth, query, None, "list_referrals").await
}

/// Referrals to triage: open referrals of the caller's territory.
#[utoipa::path(
    operation_id = "listMyReferralsToTriage",
    tag = "me",
    summary = "My referrals to triage",
    description = "Submitted and in-review referrals of the caller's territory (all for supervisors), by last change.",
    params(ListQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "A page of referrals", body = ReferralPage),
        (status = 400, response = crate::problem::BadRequest),
        (status = 401, response = crate::problem::Unauthorized),
        (status = 403, response = crate::problem::Forbidden),
        (status = 503, response = crate::problem::Unavailable),
    ),
)]
#[get("/me/referrals")]
pub async fn mine(
    state: web::Data<AppState>,
    auth: Authenticated,
    query: ApiQuery<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    permit(
        &state,
        &auth,
        Action::ListFollowUps,
        Resource::Service,
        "referral",
        None,
    )
    .await?;
    let query = query.into_inner()?;
    let open = vec![
        ReferralStatus::Submitted.as_str().to_owned(),
        ReferralStatus::InReview.as_str().to_owned(),
    ];
    list_for(&state, &auth, query, Some(open), "list_referrals_to_triage").await
}

/// Read a referral and its timeline.
#[utoipa::path(
    operation_id = "getReferral",
    tag = "referrals",
    summary = "Get a referral",
    description = "Staff see possible duplicates and the child-protection decision; partners see their own \
                   organisation's referrals only (404 otherwise). Every read is audited.",
    params(("id" = String, Path, description = "Referral id", pattern = "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The referral", body = ReferralView, headers(("ETag" = String, description = "Its version"))),
        (status = 400, response = crate::problem::BadRequest),
        (status = 401, response = crate::problem::Unauthorized),
        (status = 403, response = crate::problem::Forbidden),
        (status = 404, response = crate::problem::NotFound),
        (status = 503, response = crate::problem::Unavailable),
    ),
)]
#[get("/referrals/{id}")]
pub async fn get(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    read_referral(state, auth, id.into_inner()).await
}

/// What `get` answers (also a replay of the creation, through today's
/// authorization).
pub(crate) async fn read_referral(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: String,
) -> Result<HttpResponse, ApiError> {
    let id = parse_id("id", &id)?;
    let staff = is_staff(&auth);
    // The referral and its details in one trip to the database; nothing of
    // it leaves this function unless authorization allows it.
    let lookup = id.clone();
    let loaded = state
        .db
        .run(move |conn| match cases::find_referral(conn, &lookup)? {
            Some(referral) => load_details(conn, referral, staff).map(Some),
            None => Ok(None),
        })
        .await?;
    let Some(loaded) = loaded else {
        // Same answer as for someone else's referral; the attempt is audited.
        permit(
            &state,
            &auth,
            Action::ReadReferral,
            Resource::Service,
            "referral",
            Some(&id),
        )
        .await?;
        return Err(ApiError::not_found("no referral with this id"));
    };
    let departement = stored_departement(&loaded.referral.departement_code)?;
    permit(
        &state,
        &auth,
        Action::ReadReferral,
        Resource::Referral {
            organisation_id: loaded.referral.source_organisation_id.as_deref(),
            departement: &departement,
        },
        "referral",
        Some(&id),
    )
    .await?;
    audit::record(
        &state,
        vec![audit::entry(
            Some(&auth.actor),
            &auth.ctx,
            "read_referral",
            "referral",
            Some(&id),
            Outcome::Success,
        )],
    )
    .await?;
    let version = loaded.referral.version;
    Ok(versioned_json(
        StatusCode::OK,
        &view(loaded, staff)?,
        version,
    ))
}

// ------------------------------------------------------------------ actions

/// Accepting: who leads, and which follow-up.
#[derive(Debug, Deserialize, Serialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AcceptReferral {
    /// The staff member who leads the support.
    #[schema(
        pattern = "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
    )]
    #[validate(custom(function = "crate::wire::uuid_text"))]
    pub lead_staff_id: String,
    /// An existing follow-up to join (a known young person); absent: open a new one.
    #[schema(
        pattern = "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
    )]
    #[validate(custom(function = "crate::wire::uuid_text"))]
    pub follow_up_id: Option<String>,
}

/// A reason (decline, withdraw).
#[derive(Debug, Deserialize, Serialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Reason {
    /// Why, for the referrer and the record.
    #[validate(length(min = 1, max = 2000, message = "reason must have 1 to 2000 characters"))]
    #[schema(min_length = 1, max_length = 2000)]
    pub reason: String,
}

/// Redirecting: to whom, and why.
#[derive(Debug, Deserialize, Serialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RedirectReferral {
    /// The organisation or service it is sent to.
    #[validate(length(min = 1, max = 200, message = "to must have 1 to 200 characters"))]
    #[schema(min_length = 1, max_length = 200, example = "Amicale du Nid 93")]
    pub to: String,
    /// Why.
    #[validate(length(min = 1, max = 2000, message = "reason must have 1 to 2000 characters"))]
    #[schema(min_length = 1, max_length = 2000)]
    pub reason: String,
}

/// The child-protection decision taken for a minor in danger.
#[derive(Debug, Deserialize, Serialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProtectionDecision {
    /// Information préoccupante to a CRIP, signalement to the prosecutor
    /// (copy to the CRIP), or a judicial measure already in place.
    pub kind: ProtectionKindWire,
    /// Date the IP or signalement was sent, or the measure began.
    pub on: NaiveDate,
    /// Which CRIP (département), which court, which measure.
    #[validate(length(
        min = 1,
        max = 1000,
        message = "details must have 1 to 1000 characters"
    ))]
    #[schema(min_length = 1, max_length = 1000, example = "IP envoyée à la CRIP 93")]
    pub details: String,
}

/// A step's input as extracted; decoded only once the caller may act.
enum Input {
    Review,
    Accept(ApiJson<AcceptReferral>),
    Decline(ApiJson<Reason>),
    Redirect(ApiJson<RedirectReferral>),
    Withdraw(ApiJson<Reason>),
    Protection(ApiJson<ProtectionDecision>),
}

impl Input {
    fn withdraws(&self) -> bool {
        matches!(self, Self::Withdraw(_))
    }

    fn decode(self) -> Result<Step, ApiError> {
        Ok(match self {
            Self::Review => Step::Review,
            Self::Accept(body) => Step::Accept(body.into_inner()?),
            Self::Decline(body) => Step::Decline(body.into_inner()?),
            Self::Redirect(body) => Step::Redirect(body.into_inner()?),
            Self::Withdraw(body) => Step::Withdraw(body.into_inner()?),
            Self::Protection(body) => Step::Protection(body.into_inner()?),
        })
    }
}

enum Step {
    Review,
    Accept(AcceptReferral),
    Decline(Reason),
    Redirect(RedirectReferral),
    Withdraw(Reason),
    Protection(ProtectionDecision),
}

impl Step {
    fn action(&self) -> ReferralAction {
        match self {
            Self::Review => ReferralAction::Review,
            Self::Accept(_) => ReferralAction::Accept,
            Self::Decline(_) => ReferralAction::Decline,
            Self::Redirect(_) => ReferralAction::Redirect,
            Self::Withdraw(_) => ReferralAction::Withdraw,
            Self::Protection(_) => ReferralAction::RecordProtectionDecision,
        }
    }
}

/// Runs one lifecycle step: authorization, `If-Match`, the domain's
/// transition, the change, its event and audit entry, in one transaction.
async fn act(
    req: HttpRequest,
    state: web::Data<AppState>,
    auth: Authenticated,
    id: String,
    input: Input,
) -> Result<HttpResponse, ApiError> {
    let id = parse_id("id", &id)?;
    let authz_action = if input.withdraws() {
        Action::WithdrawReferral
    } else {
        Action::TriageReferral
    };
    authorized(&state, &auth, &id, authz_action).await?;
    let step = input.decode()?;
    let expected = if_match(&req)?;
    let now = state.clock.now();
    let action = step.action();
    let (actor, ctx, kind) = (auth.actor.clone(), auth.ctx.clone(), actor_kind(&auth));
    let staff = is_staff(&auth);
    let auth_for_join = auth.clone();
    let loaded = state
        .db
        .transaction(move |conn| {
            let current = cases::find_referral(conn, &id)?
                .ok_or_else(|| ApiError::not_found("no referral with this id"))?;
            if current.version != expected {
                return Err(ApiError::precondition_failed());
            }
            let from: ReferralStatus = stored(&current.status)?;
            let pending = current.protection_required && current.protection_recorded_at.is_none();
            let to = from
                .apply(action, pending)
                .map_err(|e| ApiError::rule(e.tag(), "Referral rule", e.to_string()))?;
            let mut changes = ReferralChanges {
                status: Some(to.as_str().to_owned()),
                ..Default::default()
            };
            let mut reason = None;
            match &step {
                Step::Review => {}
                Step::Accept(acceptance) => {
                    let lead_id = parse_id("lead_staff_id", &acceptance.lead_staff_id)?;
                    let lead = identity::find_account(conn, &lead_id)?
                        .filter(|a| a.status == "active")
                        .ok_or_else(|| {
                            ApiError::rule(
                                "lead-not-staff",
                                "Lead is not staff",
                                "the lead must be an active staff account",
                            )
                        })?;
                    let lead_roles = adosexo_domain::identity::Roles::parse_list(&lead.roles)
                        .map_err(|e| ApiError::internal(e.to_string()))?;
                    if !lead_roles.works_on_cases() {
                        return Err(ApiError::rule(
                            "lead-not-staff",
                            "Lead is not staff",
                            "the lead must be a coordinator, regional referent or supervisor",
                        ));
                    }
                    let follow_up_id = match &acceptance.follow_up_id {
                        Some(existing) => {
                            let existing = parse_id("follow_up_id", existing)?;
                            let follow_up =
                                cases::find_follow_up(conn, &existing)?.ok_or_else(|| {
                                    ApiError::rule(
                                        "unknown-follow-up",
                                        "Unknown follow-up",
                                        "no follow-up has this id",
                                    )
                                })?;
                            if follow_up.status == "closed" {
                                return Err(ApiError::rule(
                                    "follow-up-closed",
                                    "Follow-up closed",
                                    "a closed follow-up cannot be joined",
                                ));
                            }
                            let staff_ids = cases::staff_of(conn, &follow_up)?;
                            let departement = stored_departement(&follow_up.departement_code)?;
                            adosexo_domain::authz::authorize(
                                &auth_for_join.actor,
                                Action::ManageFollowUp,
                                Resource::FollowUp {
                                    departement: &departement,
                                    staff: &staff_ids,
                                },
                            )
                            .map_err(|_| ApiError::not_found("no follow-up with this id"))?;
                            cases::add_staff(conn, &follow_up.id, &lead_id)?;
                            cases::touch_follow_up(conn, &follow_up.id, now)?;
                            follow_up.id
                        }
                        None => {
                            let sequence = cases::next_reference(conn, "SUI", now.year())?;
                            let follow_up = FollowUpRow {
                                id: uuid::Uuid::now_v7().to_string(),
                                reference: human_reference("SUI", now.year(), sequence),
                                person_id: current.person_id.clone(),
                                departement_code: current.departement_code.clone(),
                                lead_staff_id: lead_id.clone(),
                                status: "active".to_owned(),
                                closure_reason: None,
                                measure_kind: None,
                                measure_start: None,
                                measure_end: None,
                                version: 1,
                                created_at: to_db(now),
                                updated_at: to_db(now),
                            };
                            cases::insert_follow_up(conn, &follow_up)?;
                            follow_up.id
                        }
                    };
                    changes.lead_staff_id = Some(Some(lead_id));
                    changes.follow_up_id = Some(Some(follow_up_id));
                }
                Step::Decline(r) | Step::Withdraw(r) => {
                    reason = Some(r.reason.clone());
                    changes.decision_reason = Some(reason.clone());
                }
                Step::Redirect(r) => {
                    reason = Some(r.reason.clone());
                    changes.decision_reason = Some(reason.clone());
                    changes.redirected_to = Some(Some(text("to", &r.to)?));
                }
                Step::Protection(p) => {
                    if !current.protection_required {
                        return Err(ApiError::rule(
                            "protection-decision-not-required",
                            "No decision required",
                            "the danger rule does not apply to this referral",
                        ));
                    }
                    if current.protection_recorded_at.is_some() {
                        return Err(ApiError::conflict(
                            "protection-decision-recorded",
                            "Decision recorded",
                            "the child-protection decision is already recorded",
                        ));
                    }
                    if p.on > now.date_naive() {
                        return Err(ApiError::invalid_value(
                            "on",
                            "range",
                            "the date is in the future",
                        ));
                    }
                    changes.protection_kind = Some(Some(p.kind.0.as_str().to_owned()));
                    changes.protection_on = Some(Some(p.on.format("%Y-%m-%d").to_string()));
                    changes.protection_details = Some(Some(p.details.clone()));
                    changes.protection_recorded_at = Some(Some(to_db(now)));
                    reason = Some(format!("{}: {}", p.kind.0.as_str(), p.details));
                }
            }
            let updated = cases::update_referral(conn, &id, expected, &changes, now)?
                .ok_or_else(ApiError::precondition_failed)?;
            cases::insert_event(
                conn,
                &ReferralEventRow {
                    id: uuid::Uuid::now_v7().to_string(),
                    referral_id: id.clone(),
                    at: to_db(now),
                    actor_id: actor.id.clone(),
                    actor_kind: kind.to_owned(),
                    action: action.as_str().to_owned(),
                    from_status: Some(from.as_str().to_owned()),
                    to_status: to.as_str().to_owned(),
                    reason,
                },
            )?;
            crate::webhooks::referral_status_changed(conn, &updated, Some(from.as_str()), now)?;
            let entry = audit::entry(
                Some(&actor),
                &ctx,
                &format!("{}_referral", action.as_str()),
                "referral",
                Some(&id),
                Outcome::Success,
            );
            adosexo_persistence::audit::append(conn, &[entry], now)?;
            load_details(conn, updated, false)
        })
        .await?;
    let version = loaded.referral.version;
    Ok(versioned_json(
        StatusCode::OK,
        &view(loaded, staff)?,
        version,
    ))
}

/// Put a referral in review.
#[utoipa::path(
    operation_id = "reviewReferral",
    tag = "referrals",
    summary = "Put a referral in review",
    description = "The supervisor, and coordinators and regional referents of the referral's territory (404 otherwise). Moves a `submitted` referral to `in_review`; from any other status, 422 `referral-transition-not-allowed`. Needs `If-Match` (428 without it, 412 when stale).",
    params(
        ("id" = String, Path, description = "Referral id", pattern = "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"),
        ("If-Match" = String, Header, description = "The ETag of the version read", pattern = "^\"v[0-9]{1,18}\"$", example = "\"v1\""),
    ),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "In review", body = ReferralView, headers(("ETag" = String, description = "Its new version"))),
        (status = 400, response = crate::problem::BadRequest),
        (status = 401, response = crate::problem::Unauthorized),
        (status = 403, response = crate::problem::Forbidden),
        (status = 404, response = crate::problem::NotFound),
        (status = 412, response = crate::problem::PreconditionFailed),
        (status = 422, response = crate::problem::Unprocessable),
        (status = 428, response = crate::problem::PreconditionRequired),
        (status = 503, response = crate::problem::Unavailable),
    ),
)]
#[post("/referrals/{id}/review")]
pub async fn review(
    req: HttpRequest,
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    act(req, state, auth, id.into_inner(), Input::Review).await
}

/// Accept a referral.
#[utoipa::path(
    operation_id = "acceptReferral",
    tag = "referrals",
    summary = "Accept a referral",
    description = "Names the lead staff member and opens a follow-up, or joins an existing one (a young person already known). Refused (422 `child-protection-decision-missing`) for a minor in prostitution until the child-protection decision is recorded.",
    params(
        ("id" = String, Path, description = "Referral id", pattern = "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"),
        ("If-Match" = String, Header, description = "The ETag of the version read", pattern = "^\"v[0-9]{1,18}\"$", example = "\"v1\""),
    ),
    request_body(content = AcceptReferral, content_type = "application/json"),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Done", body = ReferralView, headers(("ETag" = String, description = "Its new version"))),
        (status = 400, response = crate::problem::BadRequest),
        (status = 401, response = crate::problem::Unauthorized),
        (status = 403, response = crate::problem::Forbidden),
        (status = 404, response = crate::problem::NotFound),
        (status = 409, response = crate::problem::Conflict),
        (status = 412, response = crate::problem::PreconditionFailed),
        (status = 413, response = crate::problem::PayloadTooLarge),
        (status = 415, response = crate::problem::UnsupportedMediaType),
        (status = 422, response = crate::problem::Unprocessable),
        (status = 428, response = crate::problem::PreconditionRequired),
        (status = 503, response = crate::problem::Unavailable),
    ),
)]
#[post("/referrals/{id}/accept")]
pub async fn accept(
    req: HttpRequest,
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<String>,
    body: ApiJson<AcceptReferral>,
) -> Result<HttpResponse, ApiError> {
    act(req, state, auth, id.into_inner(), Input::Accept(body)).await
}

/// Decline a referral.
#[utoipa::path(
    operation_id = "declineReferral",
    tag = "referrals",
    summary = "Decline a referral",
    description = "With a reason the referrer reads.",
    params(
        ("id" = String, Path, description = "Referral id", pattern = "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"),
        ("If-Match" = String, Header, description = "The ETag of the version read", pattern = "^\"v[0-9]{1,18}\"$", example = "\"v1\""),
    ),
    request_body(content = Reason, content_type = "application/json"),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Done", body = ReferralView, headers(("ETag" = String, description = "Its new version"))),
        (status = 400, response = crate::problem::BadRequest),
        (status = 401, response = crate::problem::Unauthorized),
        (status = 403, response = crate::problem::Forbidden),
        (status = 404, response = crate::problem::NotFound),
        (status = 409, response = crate::problem::Conflict),
        (status = 412, response = crate::problem::PreconditionFailed),
        (status = 413, response = crate::problem::PayloadTooLarge),
        (status = 415, response = crate::problem::UnsupportedMediaType),
        (status = 422, response = crate::problem::Unprocessable),
        (status = 428, response = crate::problem::PreconditionRequired),
        (status = 503, response = crate::problem::Unavailable),
    ),
)]
#[post("/referrals/{id}/decline")]
pub async fn decline(
    req: HttpRequest,
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<String>,
    body: ApiJson<Reason>,
) -> Result<HttpResponse, ApiError> {
    act(req, state, auth, id.into_inner(), Input::Decline(body)).await
}

/// Redirect a referral.
#[utoipa::path(
    operation_id = "redirectReferral",
    tag = "referrals",
    summary = "Redirect a referral",
    description = "To another organisation or service, with a reason.",
    params(
        ("id" = String, Path, description = "Referral id", pattern = "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"),
        ("If-Match" = String, Header, description = "The ETag of the version read", pattern = "^\"v[0-9]{1,18}\"$", example = "\"v1\""),
    ),
    request_body(content = RedirectReferral, content_type = "application/json"),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Done", body = ReferralView, headers(("ETag" = String, description = "Its new version"))),
        (status = 400, response = crate::problem::BadRequest),
        (status = 401, response = crate::problem::Unauthorized),
        (status = 403, response = crate::problem::Forbidden),
        (status = 404, response = crate::problem::NotFound),
        (status = 409, response = crate::problem::Conflict),
        (status = 412, response = crate::problem::PreconditionFailed),
        (status = 413, response = crate::problem::PayloadTooLarge),
        (status = 415, response = crate::problem::UnsupportedMediaType),
        (status = 422, response = crate::problem::Unprocessable),
        (status = 428, response = crate::problem::PreconditionRequired),
        (status = 503, response = crate::problem::Unavailable),
    ),
)]
#[post("/referrals/{id}/redirect")]
pub async fn redirect(
    req: HttpRequest,
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<String>,
    body: ApiJson<RedirectReferral>,
) -> Result<HttpResponse, ApiError> {
    act(req, state, auth, id.into_inner(), Input::Redirect(body)).await
}

/// Withdraw a referral.
#[utoipa::path(
    operation_id = "withdrawReferral",
    tag = "referrals",
    summary = "Withdraw a referral",
    description = "By the referrer (or staff), before a decision.",
    params(
        ("id" = String, Path, description = "Referral id", pattern = "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"),
        ("If-Match" = String, Header, description = "The ETag of the version read", pattern = "^\"v[0-9]{1,18}\"$", example = "\"v1\""),
    ),
    request_body(content = Reason, content_type = "application/json"),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Done", body = ReferralView, headers(("ETag" = String, description = "Its new version"))),
        (status = 400, response = crate::problem::BadRequest),
        (status = 401, response = crate::problem::Unauthorized),
        (status = 403, response = crate::problem::Forbidden),
        (status = 404, response = crate::problem::NotFound),
        (status = 409, response = crate::problem::Conflict),
        (status = 412, response = crate::problem::PreconditionFailed),
        (status = 413, response = crate::problem::PayloadTooLarge),
        (status = 415, response = crate::problem::UnsupportedMediaType),
        (status = 422, response = crate::problem::Unprocessable),
        (status = 428, response = crate::problem::PreconditionRequired),
        (status = 503, response = crate::problem::Unavailable),
    ),
)]
#[post("/referrals/{id}/withdraw")]
pub async fn withdraw(
    req: HttpRequest,
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<String>,
    body: ApiJson<Reason>,
) -> Result<HttpResponse, ApiError> {
    act(req, state, auth, id.into_inner(), Input::Withdraw(body)).await
}

/// Record the child-protection decision.
#[utoipa::path(
    operation_id = "recordProtectionDecision",
    tag = "referrals",
    summary = "Record the child-protection decision",
    description = "For a minor in a prostitution situation (danger rule, loi n° 2002-305 art. 13): an information préoccupante sent to a CRIP, a signalement to the prosecutor (copy to the CRIP), or a judicial measure already in place.",
    params(
        ("id" = String, Path, description = "Referral id", pattern = "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"),
        ("If-Match" = String, Header, description = "The ETag of the version read", pattern = "^\"v[0-9]{1,18}\"$", example = "\"v1\""),
    ),
    request_body(content = ProtectionDecision, content_type = "application/json"),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Done", body = ReferralView, headers(("ETag" = String, description = "Its new version"))),
        (status = 400, response = crate::problem::BadRequest),
        (status = 401, response = crate::problem::Unauthorized),
        (status = 403, response = crate::problem::Forbidden),
        (status = 404, response = crate::problem::NotFound),
        (status = 409, response = crate::problem::Conflict),
        (status = 412, response = crate::problem::PreconditionFailed),
        (status = 413, response = crate::problem::PayloadTooLarge),
        (status = 415, response = crate::problem::UnsupportedMediaType),
        (status = 422, response = crate::problem::Unprocessable),
        (status = 428, response = crate::problem::PreconditionRequired),
        (status = 503, response = crate::problem::Unavailable),
    ),
)]
#[post("/referrals/{id}/protection-decision")]
pub async fn record_protection(
    req: HttpRequest,
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<String>,
    body: ApiJson<ProtectionDecision>,
) -> Result<HttpResponse, ApiError> {
    act(req, state, auth, id.into_inner(), Input::Protection(body)).await
}

/// Overdue child-protection decisions (paging and filters as referrals).
#[derive(Debug, Deserialize, Validate, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct OverdueQuery {
    /// How many, 1 to 200 (default 50).
    #[validate(range(min = 1, max = 200, message = "limit must be from 1 to 200"))]
    #[param(minimum = 1, maximum = 200, default = 50)]
    pub limit: Option<u32>,
}

/// Referrals whose mandatory child-protection decision is past its deadline.
#[utoipa::path(
    operation_id = "listOverdueProtectionDecisions",
    tag = "referrals",
    summary = "Overdue child-protection decisions",
    description = "For supervisors: referrals of minors in prostitution whose decision is not recorded by its deadline, oldest deadline first.",
    params(OverdueQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Overdue referrals", body = ReferralPage),
        (status = 400, response = crate::problem::BadRequest),
        (status = 401, response = crate::problem::Unauthorized),
        (status = 403, response = crate::problem::Forbidden),
        (status = 503, response = crate::problem::Unavailable),
    ),
)]
#[get("/protection-decisions/overdue")]
pub async fn overdue(
    state: web::Data<AppState>,
    auth: Authenticated,
    query: ApiQuery<OverdueQuery>,
) -> Result<HttpResponse, ApiError> {
    permit(
        &state,
        &auth,
        Action::ListOverdueProtectionDecisions,
        Resource::Service,
        "referral",
        None,
    )
    .await?;
    let query = query.into_inner()?;
    let now = state.clock.now();
    let limit = i64::from(limit(query.limit));
    let loaded = state
        .db
        .run(move |conn| {
            let rows = cases::overdue_protection(conn, now, limit)?;
            rows.into_iter()
                .map(|r| load_details(conn, r, false))
                .collect::<Result<Vec<_>, ApiError>>()
        })
        .await?;
    audit::record(
        &state,
        vec![audit::list_entry(
            Some(&auth.actor),
            &auth.ctx,
            "list_overdue_protection_decisions",
            "referral",
            loaded.iter().map(|l| &l.referral.id),
        )],
    )
    .await?;
    let items = loaded
        .into_iter()
        .map(|l| view(l, true))
        .collect::<Result<_, _>>()?;
    Ok(HttpResponse::Ok().json(ReferralPage {
        items,
        next_cursor: None,
    }))
}
