//! Processing purposes and their legal bases, consents of a follow-up's
//! young person (record, withdraw, invalidate — nothing deleted), whether a
//! purpose is covered at an instant, and the renewals due at majority.

use std::collections::BTreeSet;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use adosexo_domain::authz::{Action, Resource};
use adosexo_domain::consent::{
    self, ConsentFacts, ConsentState, Giver, LegalBasis, Purpose, join_list, parse_list,
};
use adosexo_domain::identity::Role;
use adosexo_domain::referral::Birth;
use adosexo_persistence::cases::{self, PersonRow};
use adosexo_persistence::consent::{self as store, ConsentRow, ParentalConsent};
use adosexo_persistence::time::to_db;
use adosexo_persistence::{Db, DbConnection};
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use super::followups::{authorized, authorized_read, date};
use crate::audit::{self, Outcome};
use crate::auth::Authenticated;
use crate::extract::{ApiJson, ApiQuery, text};
use crate::guard::permit;
use crate::http_cache::{if_match, versioned_json};
use crate::idempotency::{self, Created, IdempotencyKey, Operation};
use crate::pagination::parse_id;
use crate::problem::ApiError;
use crate::state::AppState;
use crate::wire::{ConsentMethodWire, GiverWire, LegalBasisWire, PurposeWire, instant};

/// A processing purpose and its legal basis.
#[derive(Debug, Serialize, ToSchema)]
pub struct PurposeView {
    /// The purpose.
    pub purpose: PurposeWire,
    /// Its legal basis.
    pub legal_basis: LegalBasisWire,
    /// Whether a consent must be collected before processing.
    pub requires_consent: bool,
}

/// The processing purposes.
#[derive(Debug, Serialize, ToSchema)]
pub struct PurposeList {
    /// Every purpose.
    pub items: Vec<PurposeView>,
}

/// The legal basis of each processing purpose (reference data).
#[utoipa::path(
    operation_id = "listProcessingPurposes",
    tag = "consents",
    summary = "Processing purposes and legal bases",
    description = "The support file rests on a public-interest child-protection mission; phone contact, \
                   contact with the family and research rest on consent.",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The purposes", body = PurposeList),
        (status = 401, response = crate::problem::Unauthorized),
        (status = 403, response = crate::problem::Forbidden),
        (status = 503, response = crate::problem::Unavailable),
    ),
)]
#[get("/processing-purposes")]
pub async fn purposes(
    state: web::Data<AppState>,
    auth: Authenticated,
) -> Result<HttpResponse, ApiError> {
    permit(
        &state,
        &auth,
        Action::ReadProcessingPurposes,
        Resource::Service,
        "processing_purpose",
        None,
    )
    .await?;
    let items = Purpose::ALL
        .iter()
        .map(|p| PurposeView {
            purpose: PurposeWire(*p),
            legal_basis: LegalBasisWire(p.legal_basis()),
            requires_consent: p.legal_basis() == LegalBasis::Consent,
        })
        .collect();
    Ok(HttpResponse::Ok().json(PurposeList { items }))
}

/// A consent and its state now.
#[derive(Debug, Serialize, ToSchema)]
pub struct ConsentView {
    /// Id.
    pub id: String,
    /// The young person (subject).
    pub person_id: String,
    /// The follow-up it was recorded on.
    pub follow_up_id: String,
    /// What it covers.
    pub purpose: PurposeWire,
    /// Who gave it.
    pub given_by: Vec<GiverWire>,
    /// The holder of parental authority who gave it (a person involved in the follow-up).
    pub parental_authority_holder_id: Option<String>,
    /// How.
    pub method: ConsentMethodWire,
    /// Where the evidence is (form number, file reference).
    pub evidence_reference: String,
    /// When given.
    pub given_at: DateTime<Utc>,
    /// Last day of validity.
    pub valid_until: Option<NaiveDate>,
    /// Staff who recorded it.
    pub recorded_by: String,
    /// When withdrawn.
    pub withdrawn_at: Option<DateTime<Utc>>,
    /// Who withdrew it.
    pub withdrawn_by: Option<GiverWire>,
    /// When it was marked recorded in error.
    pub invalidated_at: Option<DateTime<Utc>>,
    /// Why it was invalidated.
    pub invalidation_reason: Option<String>,
    /// When the majority job recorded its lapse.
    pub lapsed_at: Option<DateTime<Utc>>,
    /// `effective`, `not_yet_given`, `withdrawn`, `invalidated`, `expired` or `lapsed_at_majority`, now.
    #[schema(example = "effective")]
    pub state: String,
    /// Version, as in the `ETag`.
    pub version: i64,
}

/// Consents of a follow-up.
#[derive(Debug, Serialize, ToSchema)]
pub struct ConsentList {
    /// Oldest first, withdrawn and invalidated ones included.
    pub items: Vec<ConsentView>,
}

pub(crate) fn birth_of(person: &PersonRow) -> Option<Birth> {
    birth_of_parts(person.birth_date.as_deref(), person.birth_year)
}

fn givers(row: &ConsentRow) -> Result<BTreeSet<Giver>, ApiError> {
    parse_list(&row.given_by).map_err(|e| ApiError::internal(format!("stored givers: {e}")))
}

fn facts(row: &ConsentRow) -> ConsentFacts {
    ConsentFacts {
        parental: row.parental_authority_holder_id.is_some(),
        given_at: instant(row.given_at),
        valid_until: date(row.valid_until.as_deref()),
        withdrawn_at: row.withdrawn_at.map(instant),
        invalidated: row.invalidated_at.is_some(),
    }
}

fn consent_view(
    row: ConsentRow,
    birth: Option<Birth>,
    now: DateTime<Utc>,
) -> Result<ConsentView, ApiError> {
    let state = consent::consent_state(&facts(&row), birth, now);
    Ok(ConsentView {
        purpose: PurposeWire(super::cases::stored(&row.purpose)?),
        given_by: givers(&row)?.into_iter().map(GiverWire).collect(),
        method: ConsentMethodWire(super::cases::stored(&row.method)?),
        withdrawn_by: row
            .withdrawn_by
            .as_deref()
            .map(super::cases::stored)
            .transpose()?
            .map(GiverWire),
        given_at: instant(row.given_at),
        valid_until: date(row.valid_until.as_deref()),
        withdrawn_at: row.withdrawn_at.map(instant),
        invalidated_at: row.invalidated_at.map(instant),
        lapsed_at: row.lapsed_at.map(instant),
        state: state.as_str().to_owned(),
        id: row.id,
        person_id: row.person_id,
        follow_up_id: row.follow_up_id,
        parental_authority_holder_id: row.parental_authority_holder_id,
        evidence_reference: row.evidence_reference,
        recorded_by: row.recorded_by,
        invalidation_reason: row.invalidation_reason,
        version: row.version,
    })
}

fn subject(conn: &mut DbConnection, person_id: &str) -> Result<Option<Birth>, ApiError> {
    let person = cases::find_person(conn, person_id)?
        .ok_or_else(|| ApiError::internal("follow-up without its person"))?;
    Ok(birth_of(&person))
}

/// The consents recorded for a follow-up's young person.
#[utoipa::path(
    operation_id = "listFollowUpConsents",
    tag = "consents",
    summary = "Consents of a follow-up",
    description = "History included (withdrawn, invalidated, lapsed), with each one's state now. Audited.",
    params(("id" = String, Path, description = "Follow-up id", pattern = "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The consents", body = ConsentList),
        (status = 400, response = crate::problem::BadRequest),
        (status = 401, response = crate::problem::Unauthorized),
        (status = 403, response = crate::problem::Forbidden),
        (status = 404, response = crate::problem::NotFound),
        (status = 503, response = crate::problem::Unavailable),
    ),
)]
#[get("/follow-ups/{id}/consents")]
pub async fn list(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = parse_id("id", &id)?;
    let loaded = authorized_read(&state, &auth, &id, Action::ReadConsents, "read_consents").await?;
    let now = state.clock.now();
    let person_id = loaded.row.person_id.clone();
    let (birth, rows) = state
        .db
        .run(move |conn| {
            let birth = subject(conn, &person_id)?;
            Ok::<_, ApiError>((birth, store::consents_of_follow_up(conn, &id)?))
        })
        .await?;
    let items = rows
        .into_iter()
        .map(|r| consent_view(r, birth, now))
        .collect::<Result<_, _>>()?;
    Ok(HttpResponse::Ok().json(ConsentList { items }))
}

/// A consent to record.
#[derive(Debug, Deserialize, Serialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateConsent {
    /// A purpose resting on consent.
    pub purpose: PurposeWire,
    /// Who gave it: under 15 `young_person` and `parental_authority`; from 15 `young_person`
    /// (a parent may join); from 18 `young_adult` alone.
    #[validate(length(min = 1, max = 3, message = "given_by has 1 to 3 entries"))]
    #[schema(min_items = 1, max_items = 3)]
    pub given_by: Vec<GiverWire>,
    /// The relative holding parental authority who gave it (a person involved in the follow-up),
    /// when `given_by` has `parental_authority`.
    #[validate(custom(function = "crate::wire::uuid_text"))]
    #[schema(value_type = Option<uuid::Uuid>)]
    pub parental_authority_holder_id: Option<String>,
    /// Oral, written or electronic.
    pub method: ConsentMethodWire,
    /// Where the evidence is (form number, file reference).
    #[validate(length(
        min = 1,
        max = 200,
        message = "evidence_reference must have 1 to 200 characters"
    ))]
    #[schema(min_length = 1, max_length = 200)]
    pub evidence_reference: String,
    /// When it was given (not in the future).
    pub given_at: DateTime<Utc>,
    /// Last day of validity.
    pub valid_until: Option<NaiveDate>,
}

/// Record a consent of the follow-up's young person.
#[utoipa::path(
    operation_id = "createFollowUpConsent",
    tag = "consents",
    summary = "Record a consent",
    description = "The rule by age at `given_at` is checked: under 15 the minor and a holder of parental \
                   authority (422 `consent-under-15-needs-minor-and-parental-authority` otherwise); from 15 \
                   the minor alone suffices; from 18 the young adult alone.",
    params(
        ("id" = String, Path, description = "Follow-up id", pattern = "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe: the same key and body replay the first answer (1 to 255 visible ASCII characters)", pattern = "^[!-~]{1,255}$"),
    ),
    request_body(content = CreateConsent, content_type = "application/json"),
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Recorded", body = ConsentView, headers(("ETag" = String, description = "Its version"))),
        (status = 400, response = crate::problem::BadRequest),
        (status = 401, response = crate::problem::Unauthorized),
        (status = 403, response = crate::problem::Forbidden),
        (status = 404, response = crate::problem::NotFound),
        (status = 413, response = crate::problem::PayloadTooLarge),
        (status = 415, response = crate::problem::UnsupportedMediaType),
        (status = 422, response = crate::problem::Unprocessable),
        (status = 503, response = crate::problem::Unavailable),
    ),
)]
#[post("/follow-ups/{id}/consents")]
pub async fn create(
    state: web::Data<AppState>,
    auth: Authenticated,
    key: IdempotencyKey,
    id: web::Path<String>,
    body: ApiJson<CreateConsent>,
) -> Result<HttpResponse, ApiError> {
    let id = parse_id("id", &id)?;
    let loaded = authorized(&state, &auth, &id, Action::ManageConsents).await?;
    let body = body.into_inner()?;
    let digest = idempotency::digest(&(&id, &body))?;
    let now = state.clock.now();
    if body.given_at > now {
        return Err(ApiError::invalid_value(
            "given_at",
            "future",
            "given_at is in the future",
        ));
    }
    if let Some(until) = body.valid_until
        && until < consent::paris_date(body.given_at)
    {
        return Err(ApiError::invalid_value(
            "valid_until",
            "range",
            "valid_until is before given_at",
        ));
    }
    let holder = body
        .parental_authority_holder_id
        .as_deref()
        .map(|h| parse_id("parental_authority_holder_id", h))
        .transpose()?;
    if let Some(holder) = &holder {
        let is_holder = loaded
            .involved
            .iter()
            .any(|p| p.id == *holder && p.kind == "relative" && p.parental_authority == Some(true));
        if !is_holder {
            return Err(ApiError::rule(
                "not-a-parental-authority-holder",
                "Not a holder of parental authority",
                "parental_authority_holder_id must name a relative involved in the follow-up who holds parental authority",
            ));
        }
    }
    let given: BTreeSet<Giver> = body.given_by.iter().map(|g| g.0).collect();
    let person_id = loaded.row.person_id.clone();
    let lookup = person_id.clone();
    let birth = state.db.run(move |conn| subject(conn, &lookup)).await?;
    let age = consent::age_on(birth, consent::paris_date(body.given_at));
    consent::check_givers(body.purpose.0, age, &given, holder.is_some())
        .map_err(|e| ApiError::rule(e.tag(), "Consent rule", e.to_string()))?;
    let row = ConsentRow {
        id: uuid::Uuid::now_v7().to_string(),
        person_id,
        follow_up_id: id.clone(),
        purpose: body.purpose.0.as_str().to_owned(),
        given_by: join_list(given.iter().copied()),
        parental_authority_holder_id: holder,
        method: body.method.0.as_str().to_owned(),
        evidence_reference: body.evidence_reference.clone(),
        given_at: to_db(body.given_at),
        valid_until: body.valid_until.map(|d| d.format("%Y-%m-%d").to_string()),
        recorded_by: auth.actor.id.clone(),
        withdrawn_at: None,
        withdrawn_by: None,
        withdrawal_recorded_by: None,
        invalidated_at: None,
        invalidated_by: None,
        invalidation_reason: None,
        lapsed_at: None,
        version: 1,
        created_at: to_db(now),
        updated_at: to_db(now),
    };
    let entry = audit::entry(
        Some(&auth.actor),
        &auth.ctx,
        "create_consent",
        "follow_up",
        Some(&id),
        Outcome::Success,
    );
    let view = consent_view(row.clone(), birth, now)?;
    idempotency::create(
        &state,
        &auth,
        key,
        Operation {
            name: "create_consent",
            location: None,
            replay: idempotency::reread(&state, &auth, read_consent),
        },
        digest,
        move |conn| {
            store::insert_consent(conn, &row)?;
            adosexo_persistence::audit::append(conn, &[entry], now)?;
            Ok(Created {
                id: row.id,
                version: 1,
                body: view,
                replay_body: None,
            })
        },
    )
    .await
}

/// One consent as its follow-up's consents show it now (a replay of its
/// recording): 404 once the caller may no longer read it.
async fn read_consent(
    state: web::Data<AppState>,
    auth: Authenticated,
    consent_id: String,
) -> Result<HttpResponse, ApiError> {
    let lookup = consent_id.clone();
    let row = state
        .db
        .run(move |conn| store::find_consent(conn, &lookup))
        .await?
        .ok_or_else(|| ApiError::not_found("no consent with this id"))?;
    let loaded = authorized_read(
        &state,
        &auth,
        &row.follow_up_id,
        Action::ReadConsents,
        "read_consents",
    )
    .await?;
    let person_id = loaded.row.person_id.clone();
    let birth = state.db.run(move |conn| subject(conn, &person_id)).await?;
    let version = row.version;
    let view = consent_view(row, birth, state.clock.now())?;
    Ok(versioned_json(StatusCode::OK, &view, version))
}

/// A withdrawal.
#[derive(Debug, Deserialize, Serialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WithdrawConsent {
    /// Who withdrew it.
    pub withdrawn_by: GiverWire,
}

/// An invalidation (recorded in error).
#[derive(Debug, Deserialize, Serialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InvalidateConsent {
    /// Why the record is wrong.
    #[validate(length(min = 1, max = 500, message = "reason must have 1 to 500 characters"))]
    #[schema(min_length = 1, max_length = 500)]
    pub reason: String,
}

async fn consent_of(
    state: &AppState,
    follow_up_id: &str,
    consent_id: &str,
) -> Result<ConsentRow, ApiError> {
    let lookup = consent_id.to_owned();
    state
        .db
        .run(move |conn| store::find_consent(conn, &lookup))
        .await?
        .filter(|c| c.follow_up_id == follow_up_id)
        .ok_or_else(|| ApiError::not_found("no consent with this id on this follow-up"))
}

/// Withdraw a consent: effective at once; the record stays.
#[utoipa::path(
    operation_id = "withdrawConsent",
    tag = "consents",
    summary = "Withdraw a consent",
    description = "Effective at once; the record stays. Before 18 the minor or a holder of parental authority \
                   withdraws; from 18 the young adult alone (422 `consent-adult-alone`).",
    params(
        ("id" = String, Path, description = "Follow-up id", pattern = "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"),
        ("consent_id" = String, Path, description = "Consent id", pattern = "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"),
        ("If-Match" = String, Header, description = "The ETag of the version read", pattern = "^\"v[0-9]{1,18}\"$", example = "\"v1\""),
    ),
    request_body(content = WithdrawConsent, content_type = "application/json"),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Withdrawn", body = ConsentView, headers(("ETag" = String, description = "Its new version"))),
        (status = 400, response = crate::problem::BadRequest),
        (status = 401, response = crate::problem::Unauthorized),
        (status = 403, response = crate::problem::Forbidden),
        (status = 404, response = crate::problem::NotFound),
        (status = 412, response = crate::problem::PreconditionFailed),
        (status = 413, response = crate::problem::PayloadTooLarge),
        (status = 415, response = crate::problem::UnsupportedMediaType),
        (status = 422, response = crate::problem::Unprocessable),
        (status = 428, response = crate::problem::PreconditionRequired),
        (status = 503, response = crate::problem::Unavailable),
    ),
)]
#[post("/follow-ups/{id}/consents/{consent_id}/withdraw")]
pub async fn withdraw(
    req: HttpRequest,
    state: web::Data<AppState>,
    auth: Authenticated,
    path: web::Path<(String, String)>,
    body: ApiJson<WithdrawConsent>,
) -> Result<HttpResponse, ApiError> {
    let (id, consent_id) = path.into_inner();
    let id = parse_id("id", &id)?;
    let consent_id = parse_id("consent_id", &consent_id)?;
    let loaded = authorized(&state, &auth, &id, Action::ManageConsents).await?;
    let body = body.into_inner()?;
    let expected = if_match(&req)?;
    let current = consent_of(&state, &id, &consent_id).await?;
    if current.withdrawn_at.is_some() || current.invalidated_at.is_some() {
        return Err(ApiError::rule(
            "consent-not-standing",
            "Consent not standing",
            "this consent is already withdrawn or invalidated",
        ));
    }
    let lookup = loaded.row.person_id.clone();
    let birth = state.db.run(move |conn| subject(conn, &lookup)).await?;
    let age = consent::age_on(birth, consent::paris_date(state.clock.now()));
    consent::check_withdrawer(age, body.withdrawn_by.0)
        .map_err(|e| ApiError::rule(e.tag(), "Consent rule", e.to_string()))?;
    change(
        &state,
        &auth,
        loaded.row.person_id,
        consent_id,
        "withdraw_consent",
        move |conn, consent_id, actor, now| {
            store::withdraw_consent(
                conn,
                consent_id,
                expected,
                body.withdrawn_by.0.as_str(),
                actor,
                now,
            )
        },
    )
    .await
}

/// Mark a consent recorded in error: never effective; the record stays.
#[utoipa::path(
    operation_id = "invalidateConsent",
    tag = "consents",
    summary = "Invalidate a consent recorded in error",
    description = "Staff of the follow-up's territory (404 otherwise) and the supervisor. For a consent recorded by mistake: it counts as never effective, and the record stays in the history. A consent no longer standing (withdrawn or invalidated) is a 422 `consent-not-standing`. Needs `If-Match` with the consent's ETag.",
    params(
        ("id" = String, Path, description = "Follow-up id", pattern = "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"),
        ("consent_id" = String, Path, description = "Consent id", pattern = "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"),
        ("If-Match" = String, Header, description = "The ETag of the version read", pattern = "^\"v[0-9]{1,18}\"$", example = "\"v1\""),
    ),
    request_body(content = InvalidateConsent, content_type = "application/json"),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Invalidated", body = ConsentView, headers(("ETag" = String, description = "Its new version"))),
        (status = 400, response = crate::problem::BadRequest),
        (status = 401, response = crate::problem::Unauthorized),
        (status = 403, response = crate::problem::Forbidden),
        (status = 404, response = crate::problem::NotFound),
        (status = 412, response = crate::problem::PreconditionFailed),
        (status = 413, response = crate::problem::PayloadTooLarge),
        (status = 415, response = crate::problem::UnsupportedMediaType),
        (status = 422, response = crate::problem::Unprocessable),
        (status = 428, response = crate::problem::PreconditionRequired),
        (status = 503, response = crate::problem::Unavailable),
    ),
)]
#[post("/follow-ups/{id}/consents/{consent_id}/invalidate")]
pub async fn invalidate(
    req: HttpRequest,
    state: web::Data<AppState>,
    auth: Authenticated,
    path: web::Path<(String, String)>,
    body: ApiJson<InvalidateConsent>,
) -> Result<HttpResponse, ApiError> {
    let (id, consent_id) = path.into_inner();
    let id = parse_id("id", &id)?;
    let consent_id = parse_id("consent_id", &consent_id)?;
    let loaded = authorized(&state, &auth, &id, Action::ManageConsents).await?;
    let body = body.into_inner()?;
    let expected = if_match(&req)?;
    let current = consent_of(&state, &id, &consent_id).await?;
    if current.invalidated_at.is_some() {
        return Err(ApiError::rule(
            "consent-not-standing",
            "Consent not standing",
            "this consent is already invalidated",
        ));
    }
    let reason = text("reason", &body.reason)?;
    change(
        &state,
        &auth,
        loaded.row.person_id,
        consent_id,
        "invalidate_consent",
        move |conn, consent_id, actor, now| {
            store::invalidate_consent(conn, consent_id, expected, actor, &reason, now)
        },
    )
    .await
}

async fn change<F>(
    state: &AppState,
    auth: &Authenticated,
    person_id: String,
    consent_id: String,
    action: &str,
    apply: F,
) -> Result<HttpResponse, ApiError>
where
    F: FnOnce(
            &mut DbConnection,
            &str,
            &str,
            DateTime<Utc>,
        ) -> Result<Option<ConsentRow>, adosexo_persistence::PersistenceError>
        + Send
        + 'static,
{
    let now = state.clock.now();
    let actor = auth.actor.id.clone();
    let entry = audit::entry(
        Some(&auth.actor),
        &auth.ctx,
        action,
        "consent",
        Some(&consent_id),
        Outcome::Success,
    );
    let (row, birth) = state
        .db
        .transaction(move |conn| {
            let row =
                apply(conn, &consent_id, &actor, now)?.ok_or_else(ApiError::precondition_failed)?;
            adosexo_persistence::audit::append(conn, &[entry], now)?;
            let birth = subject(conn, &person_id)?;
            Ok::<_, ApiError>((row, birth))
        })
        .await?;
    let version = row.version;
    Ok(versioned_json(
        StatusCode::OK,
        &consent_view(row, birth, now)?,
        version,
    ))
}

/// Which purpose, at which instant.
#[derive(Debug, Deserialize, Validate, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct CoverageQuery {
    /// The purpose.
    pub purpose: PurposeWire,
    /// The instant (RFC 3339); now by default.
    pub at: Option<DateTime<Utc>>,
}

/// One consent's state at the instant asked.
#[derive(Debug, Serialize, ToSchema)]
pub struct ConsentStateView {
    /// Consent id.
    pub id: String,
    /// Its state then.
    #[schema(example = "lapsed_at_majority")]
    pub state: String,
}

/// Whether a purpose is covered at an instant, and why.
#[derive(Debug, Serialize, ToSchema)]
pub struct Coverage {
    /// The purpose.
    pub purpose: PurposeWire,
    /// The instant.
    pub at: DateTime<Utc>,
    /// Its legal basis.
    pub legal_basis: LegalBasisWire,
    /// Whether processing is allowed then.
    pub covered: bool,
    /// `public_interest_mission`, `effective_consent` or `no_effective_consent`.
    #[schema(example = "effective_consent")]
    pub reason: String,
    /// The consent that covers it.
    pub consent_id: Option<String>,
    /// Every consent for this purpose and its state then (why the others do not cover it).
    pub consents: Vec<ConsentStateView>,
}

/// Whether a purpose is covered for the follow-up's young person at an instant.
#[utoipa::path(
    operation_id = "getConsentCoverage",
    tag = "consents",
    summary = "Is a purpose covered?",
    description = "Staff of the follow-up's territory (404 otherwise) and the supervisor. Whether `purpose` is covered for the follow-up's young person at the instant `at` (default: now) by a consent in force then. Audited.",
    params(
        ("id" = String, Path, description = "Follow-up id", pattern = "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"),
        CoverageQuery,
    ),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The answer and why", body = Coverage),
        (status = 400, response = crate::problem::BadRequest),
        (status = 401, response = crate::problem::Unauthorized),
        (status = 403, response = crate::problem::Forbidden),
        (status = 404, response = crate::problem::NotFound),
        (status = 503, response = crate::problem::Unavailable),
    ),
)]
#[get("/follow-ups/{id}/consent-coverage")]
pub async fn coverage(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<String>,
    query: ApiQuery<CoverageQuery>,
) -> Result<HttpResponse, ApiError> {
    let id = parse_id("id", &id)?;
    let loaded = authorized(&state, &auth, &id, Action::ReadConsents).await?;
    let query = query.into_inner()?;
    let at = query.at.unwrap_or_else(|| state.clock.now());
    let purpose = query.purpose.0;
    let person_id = loaded.row.person_id.clone();
    let (birth, rows) = state
        .db
        .run(move |conn| {
            let birth = subject(conn, &person_id)?;
            Ok::<_, ApiError>((
                birth,
                store::consents_of_person(conn, &person_id, purpose.as_str())?,
            ))
        })
        .await?;
    audit::record(
        &state,
        vec![audit::entry(
            Some(&auth.actor),
            &auth.ctx,
            "read_consent_coverage",
            "follow_up",
            Some(&id),
            Outcome::Success,
        )],
    )
    .await?;
    let consents: Vec<ConsentStateView> = rows
        .iter()
        .map(|r| ConsentStateView {
            id: r.id.clone(),
            state: consent::consent_state(&facts(r), birth, at)
                .as_str()
                .to_owned(),
        })
        .collect();
    let effective = consents
        .iter()
        .rev()
        .find(|c| c.state == ConsentState::Effective.as_str())
        .map(|c| c.id.clone());
    let basis = purpose.legal_basis();
    let (covered, reason) = match (basis, &effective) {
        (LegalBasis::PublicInterest, _) => (true, "public_interest_mission"),
        (LegalBasis::Consent, Some(_)) => (true, "effective_consent"),
        (LegalBasis::Consent, None) => (false, "no_effective_consent"),
    };
    Ok(HttpResponse::Ok().json(Coverage {
        purpose: PurposeWire(purpose),
        at,
        legal_basis: LegalBasisWire(basis),
        covered,
        reason: reason.to_owned(),
        consent_id: effective.filter(|_| basis == LegalBasis::Consent),
        consents,
    }))
}

/// A consent to re-collect from the young adult.
#[derive(Debug, Serialize, ToSchema)]
pub struct RenewalView {
    /// The consent given with a parent.
    pub consent_id: String,
    /// The young person.
    pub person_id: String,
    /// Their follow-up.
    pub follow_up_id: String,
    /// The purpose to re-collect.
    pub purpose: PurposeWire,
    /// The 18th birthday, when the parent's consent lapses.
    pub due_on: NaiveDate,
    /// `due` (birthday ahead) or `lapsed` (consent no longer effective).
    #[schema(example = "due")]
    pub status: String,
}

/// Renewals.
#[derive(Debug, Serialize, ToSchema)]
pub struct RenewalList {
    /// By due date.
    pub items: Vec<RenewalView>,
}

/// How far ahead.
#[derive(Debug, Deserialize, Validate, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct RenewalQuery {
    /// Days ahead, 0 to 366 (default 60).
    #[validate(range(max = 366, message = "within_days must be from 0 to 366"))]
    #[param(minimum = 0, maximum = 366, default = 60)]
    pub within_days: Option<u32>,
}

/// Consents given with a parent that lapse (or have lapsed) at the 18th
/// birthday and are not yet re-collected from the young adult, due on or
/// before `horizon`.
pub fn renewals_due(
    conn: &mut DbConnection,
    now: DateTime<Utc>,
    horizon: NaiveDate,
) -> Result<Vec<(ParentalConsent, NaiveDate, ConsentState)>, ApiError> {
    let mut due = Vec::new();
    for parental in store::standing_parental_consents(conn)? {
        let birth = birth_of_parts(parental.birth_date.as_deref(), parental.birth_year);
        let Some(majority) = birth.and_then(consent::majority_date) else {
            continue;
        };
        if majority > horizon {
            continue;
        }
        let state = consent::consent_state(&facts(&parental.consent), birth, now);
        if !matches!(
            state,
            ConsentState::Effective | ConsentState::LapsedAtMajority
        ) {
            continue;
        }
        let renewed = store::consents_of_person(
            conn,
            &parental.consent.person_id,
            &parental.consent.purpose,
        )?
        .iter()
        .any(|c| {
            c.given_by.contains(Giver::YoungAdult.as_str())
                && consent::consent_state(&facts(c), birth, now) == ConsentState::Effective
        });
        if !renewed {
            due.push((parental, majority, state));
        }
    }
    due.sort_by_key(|d| d.1);
    Ok(due)
}

fn birth_of_parts(birth_date: Option<&str>, birth_year: Option<i32>) -> Option<Birth> {
    if let Some(d) = date(birth_date) {
        return Some(Birth::Date {
            year: d.year(),
            month: d.month(),
            day: d.day(),
        });
    }
    birth_year.map(Birth::Year)
}

fn renewal_view(
    parental: ParentalConsent,
    due_on: NaiveDate,
    state: ConsentState,
) -> Result<RenewalView, ApiError> {
    Ok(RenewalView {
        purpose: PurposeWire(super::cases::stored(&parental.consent.purpose)?),
        consent_id: parental.consent.id,
        person_id: parental.consent.person_id,
        follow_up_id: parental.consent.follow_up_id,
        due_on,
        status: if state == ConsentState::LapsedAtMajority {
            "lapsed"
        } else {
            "due"
        }
        .to_owned(),
    })
}

/// Consents to re-collect from young people turning 18.
#[utoipa::path(
    operation_id = "listConsentRenewals",
    tag = "consents",
    summary = "Consents to re-collect at majority",
    description = "Consents given with a parent lapse on the 18th birthday: those due within `within_days` \
                   (and those already lapsed, not yet re-collected from the young adult). Staff see their \
                   territory (supervisors all).",
    params(RenewalQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The renewals", body = RenewalList),
        (status = 400, response = crate::problem::BadRequest),
        (status = 401, response = crate::problem::Unauthorized),
        (status = 403, response = crate::problem::Forbidden),
        (status = 503, response = crate::problem::Unavailable),
    ),
)]
#[get("/consent-renewals")]
pub async fn renewals(
    state: web::Data<AppState>,
    auth: Authenticated,
    query: ApiQuery<RenewalQuery>,
) -> Result<HttpResponse, ApiError> {
    permit(
        &state,
        &auth,
        Action::ListConsentRenewals,
        Resource::Service,
        "consent",
        None,
    )
    .await?;
    let query = query.into_inner()?;
    let now = state.clock.now();
    let horizon = consent::paris_date(now)
        + chrono::Duration::days(i64::from(query.within_days.unwrap_or(60)));
    let actor = auth.actor.clone();
    let territorial_only = !actor.roles.has(Role::Supervisor);
    let due = state
        .db
        .run(move |conn| renewals_due(conn, now, horizon))
        .await?;
    let shown: Vec<_> = due
        .into_iter()
        .filter(|(p, _, _)| {
            !territorial_only
                || actor
                    .territory
                    .iter()
                    .any(|d| d.to_string() == p.departement_code)
        })
        .collect();
    audit::record(
        &state,
        vec![audit::list_entry(
            Some(&auth.actor),
            &auth.ctx,
            "list_consent_renewals",
            "consent",
            shown.iter().map(|(p, _, _)| &p.consent.id),
        )],
    )
    .await?;
    let items = shown
        .into_iter()
        .map(|(p, due_on, s)| renewal_view(p, due_on, s))
        .collect::<Result<_, _>>()?;
    Ok(HttpResponse::Ok().json(RenewalList { items }))
}

/// What the majority job did.
#[derive(Debug, Serialize)]
pub struct MajorityReport {
    /// Consents whose lapse it recorded now.
    pub lapsed: usize,
    /// What must be re-collected from young adults (lapsed, not yet renewed).
    pub to_recollect: Vec<RenewalView>,
}

/// The majority job (daily; `adosexo jobs run majority`): records the lapse
/// of consents given by parents of young people who have turned 18 and
/// lists what must be re-collected from them. Idempotent.
pub async fn run_majority(db: &Db, now: DateTime<Utc>) -> Result<MajorityReport, ApiError> {
    let today = consent::paris_date(now);
    db.transaction(move |conn| {
        let due = renewals_due(conn, now, today)?;
        let mut lapsed = 0;
        let mut to_recollect = Vec::new();
        for (parental, due_on, state) in due {
            if state != ConsentState::LapsedAtMajority {
                continue;
            }
            if store::mark_lapsed(conn, &parental.consent.id, now)? {
                lapsed += 1;
                adosexo_persistence::audit::append(
                    conn,
                    &[adosexo_persistence::audit::NewAuditEntry {
                        actor_id: Some("job:majority".to_owned()),
                        action: "lapse_consent_at_majority".to_owned(),
                        resource_type: "consent".to_owned(),
                        resource_id: Some(parental.consent.id.clone()),
                        outcome: "success".to_owned(),
                        ..Default::default()
                    }],
                    now,
                )?;
            }
            to_recollect.push(renewal_view(parental, due_on, state)?);
        }
        Ok::<_, ApiError>(MajorityReport {
            lapsed,
            to_recollect,
        })
    })
    .await
}
