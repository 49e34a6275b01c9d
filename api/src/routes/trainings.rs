//! Professionals sign up to awareness sessions, action-trainings and case
//! reviews ("intervisions"), and ask for case reviews.
//!
//! A partner (a person or an app) registers named professionals of its own
//! organisation to an open session: places and the waitlist are those of
//! the group session, counted by the one function that counts them
//! (`group_sessions::register_participants`, under the session's lock), so
//! parallel sign-ups never exceed the capacity; cancelling promotes the
//! oldest waitlisted registration (`group_sessions::cancel_registration_in`).

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use adosexo_domain::DepartementCode;
use adosexo_domain::authz::{Action, Resource};
use adosexo_domain::professional::{self as rules, CaseReviewStatus};
use adosexo_domain::schedule::group::{
    GroupKind, GroupStatus, ParticipantCategory, RegistrationStatus,
};
use adosexo_persistence::professional::{self as store, CaseReviewRow};
use adosexo_persistence::schedule::{self, GroupSessionFilter, GroupSessionRow, RegistrationRow};
use adosexo_persistence::time::to_db;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use super::cases::{cursor_of, parse_cursor, stored};
use super::group_sessions::{Participant, cancel_registration_in, register_participants};
use crate::audit::{self, Outcome};
use crate::auth::Authenticated;
use crate::extract::{ApiJson, ApiQuery, text, text_of_at_least};
use crate::guard::permit;
use crate::http_cache::{if_match, versioned_json};
use crate::idempotency::{self, Created, IdempotencyKey, Operation, Replay};
use crate::pagination::{limit, page, parse_id};
use crate::problem::ApiError;
use crate::state::AppState;
use crate::wire::{
    CaseReviewStatusWire, GroupKindWire, GroupModeWire, RegistrationStatusWire, instant,
};

/// The kinds professionals sign up to, as stored.
fn professional_kinds() -> Vec<String> {
    GroupKind::ALL
        .iter()
        .filter(|k| rules::is_for_professionals(**k))
        .map(|k| k.as_str().to_owned())
        .collect()
}

/// A session open to professionals.
#[derive(Debug, Serialize, ToSchema)]
pub struct TrainingView {
    /// The group session's id.
    pub id: String,
    /// `awareness_session`, `action_training` or `case_review`.
    pub kind: GroupKindWire,
    /// Title.
    pub title: String,
    /// In person or remote.
    pub mode: GroupModeWire,
    /// Where it takes place (free text), if given.
    pub venue: Option<String>,
    /// Département.
    pub departement_code: String,
    /// Start.
    pub starts_at: DateTime<Utc>,
    /// End.
    pub ends_at: DateTime<Utc>,
    /// Places, if limited.
    pub capacity: Option<i32>,
    /// Places left (`null`: unlimited); a registration beyond goes to the waitlist.
    pub places_left: Option<i64>,
}

/// A page of sessions open to professionals.
#[derive(Debug, Serialize, ToSchema)]
pub struct TrainingPage {
    /// Earliest first.
    pub items: Vec<TrainingView>,
    /// Pass as `cursor` for the next page; `null` on the last.
    pub next_cursor: Option<String>,
}

/// The group-session kinds open to professionals, as the `kind` filter
/// accepts them.
fn professional_kind_schema() -> utoipa::openapi::schema::Object {
    utoipa::openapi::schema::ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::Type::String)
        .enum_values(Some([
            "awareness_session",
            "action_training",
            "case_review",
        ]))
        .build()
}

/// Filters and paging.
#[derive(Debug, Deserialize, Validate, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct TrainingQuery {
    /// Only sessions of this kind (`awareness_session`, `action_training`, `case_review`).
    #[param(schema_with = professional_kind_schema)]
    pub kind: Option<GroupKindWire>,
    /// Only sessions of this département.
    #[validate(custom(function = "crate::wire::departement_code"))]
    #[param(pattern = "^([0-9]{2}|2[ABab]|9[78][0-9])$", example = "13")]
    pub departement: Option<String>,
    /// Page size, 1 to 200 (default 50).
    #[validate(range(min = 1, max = 200, message = "limit must be from 1 to 200"))]
    #[param(minimum = 1, maximum = 200, default = 50)]
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    #[param(
        pattern = "^[0-9]{1,16}_[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
    )]
    pub cursor: Option<String>,
}

/// Sessions professionals may sign up to.
#[utoipa::path(
    operation_id = "listOpenTrainings",
    tag = "professionals",
    summary = "Sessions open to professionals",
    description = "Planned awareness sessions, action-trainings and case reviews that have not started, \
                   with the places left. Staff and partners.",
    params(TrainingQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "A page of sessions", body = TrainingPage),
        (status = 400, response = crate::problem::BadRequest),
        (status = 401, response = crate::problem::Unauthorized),
        (status = 403, response = crate::problem::Forbidden),
        (status = 503, response = crate::problem::Unavailable),
    ),
)]
#[get("/trainings")]
pub async fn list(
    state: web::Data<AppState>,
    auth: Authenticated,
    query: ApiQuery<TrainingQuery>,
) -> Result<HttpResponse, ApiError> {
    permit(
        &state,
        &auth,
        Action::ListOpenTrainings,
        Resource::Service,
        "group_session",
        None,
    )
    .await?;
    let query = query.into_inner()?;
    let kinds = match query.kind {
        Some(kind) if rules::is_for_professionals(kind.0) => vec![kind.0.as_str().to_owned()],
        Some(_) => {
            return Err(ApiError::invalid_field(
                "kind",
                "value",
                "kind is awareness_session, action_training or case_review",
            ));
        }
        None => professional_kinds(),
    };
    let after = query.cursor.as_deref().map(parse_cursor).transpose()?;
    let limit = limit(query.limit);
    let now = state.clock.now();
    let filter = GroupSessionFilter {
        kinds: Some(kinds),
        status: Some(GroupStatus::Planned.as_str().to_owned()),
        departements: query.departement.map(|d| vec![d.to_ascii_uppercase()]),
        after: Some(after.unwrap_or((to_db(now), String::new()))),
        limit: i64::from(limit) + 1,
        ..Default::default()
    };
    let (rows, confirmed) = state
        .db
        .run(move |conn| {
            let rows = schedule::list_group_sessions(conn, &filter)?;
            let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
            let statuses = schedule::registration_statuses_of(conn, &ids)?;
            Ok::<_, ApiError>((rows, statuses))
        })
        .await?;
    let (rows, next_cursor) = page(rows, limit, |r| cursor_of(r.starts_at, &r.id));
    let items = rows
        .into_iter()
        .map(|row| {
            let taken = confirmed
                .iter()
                .filter(|(s, status)| {
                    *s == row.id && status == RegistrationStatus::Confirmed.as_str()
                })
                .count();
            training_view(row, i64::try_from(taken).unwrap_or(i64::MAX))
        })
        .collect::<Result<_, _>>()?;
    Ok(HttpResponse::Ok().json(TrainingPage { items, next_cursor }))
}

fn training_view(row: GroupSessionRow, confirmed: i64) -> Result<TrainingView, ApiError> {
    Ok(TrainingView {
        kind: GroupKindWire(stored(&row.kind)?),
        mode: GroupModeWire(stored(&row.mode)?),
        places_left: row.capacity.map(|c| (i64::from(c) - confirmed).max(0)),
        id: row.id,
        title: row.title,
        venue: row.venue,
        departement_code: row.departement_code,
        starts_at: instant(row.starts_at),
        ends_at: instant(row.ends_at),
        capacity: row.capacity,
    })
}

/// A registration of a professional.
#[derive(Debug, Serialize, ToSchema)]
pub struct TrainingRegistrationView {
    /// Id.
    pub id: String,
    /// The session.
    pub group_session_id: String,
    /// The professional's name.
    pub participant_name: String,
    /// Their organisation.
    pub organisation_id: Option<String>,
    /// `confirmed`, `waitlisted` or `cancelled`.
    pub status: RegistrationStatusWire,
    /// Registered at (the waitlist's order).
    pub created_at: DateTime<Utc>,
    /// Last changed at.
    pub updated_at: DateTime<Utc>,
}

fn registration_view(row: RegistrationRow) -> Result<TrainingRegistrationView, ApiError> {
    Ok(TrainingRegistrationView {
        status: RegistrationStatusWire(stored(&row.status)?),
        id: row.id,
        group_session_id: row.group_session_id,
        participant_name: row.participant_name,
        organisation_id: row.organisation_id,
        created_at: instant(row.created_at),
        updated_at: instant(row.updated_at),
    })
}

/// Registrations made together.
#[derive(Debug, Serialize, ToSchema)]
pub struct TrainingRegistrationList {
    /// In the order given: confirmed while places remained, then waitlisted.
    pub items: Vec<TrainingRegistrationView>,
}

/// A page of registrations.
#[derive(Debug, Serialize, ToSchema)]
pub struct TrainingRegistrationPage {
    /// Oldest first.
    pub items: Vec<TrainingRegistrationView>,
    /// Pass as `cursor` for the next page; `null` on the last.
    pub next_cursor: Option<String>,
}

/// A professional to register.
#[derive(Debug, Deserialize, Serialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Professional {
    /// Their name.
    #[validate(length(min = 1, max = 200, message = "name must have 1 to 200 characters"))]
    #[schema(min_length = 1, max_length = 200, example = "Camille Martin")]
    pub name: String,
}

/// Professionals of the caller's organisation to register.
#[derive(Debug, Deserialize, Serialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegisterProfessionals {
    /// 1 to 20 professionals, registered in this order.
    #[validate(length(min = 1, max = 20, message = "professionals has 1 to 20 entries"))]
    #[validate(nested)]
    #[schema(min_items = 1, max_items = 20)]
    pub professionals: Vec<Professional>,
}

/// 404 for a session that is not open to professionals.
fn no_training() -> ApiError {
    ApiError::not_found("no session open to professionals has this id")
}

/// Register professionals of one's organisation to a session.
#[utoipa::path(
    operation_id = "registerProfessionals",
    tag = "professionals",
    summary = "Register professionals to a training or case review",
    description = "Partners register named professionals of their own organisation to a planned awareness \
                   session, action-training or case review that has not started: confirmed while places \
                   remain, waitlisted beyond (places are counted one writer at a time). Honours \
                   `Idempotency-Key`. Audited.",
    params(
        ("id" = String, Path, description = "Group session id", pattern = "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe: the same key and body replay the first answer (1 to 255 visible ASCII characters)", pattern = "^[!-~]{1,255}$"),
    ),
    request_body(content = RegisterProfessionals, content_type = "application/json"),
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Registered", body = TrainingRegistrationList,
         headers(("Location" = String, description = "The first registration"), ("ETag" = String, description = "Its version"))),
        (status = 400, response = crate::problem::BadRequest),
        (status = 401, response = crate::problem::Unauthorized),
        (status = 403, response = crate::problem::Forbidden),
        (status = 404, response = crate::problem::NotFound),
        (status = 409, response = crate::problem::Conflict),
        (status = 413, response = crate::problem::PayloadTooLarge),
        (status = 415, response = crate::problem::UnsupportedMediaType),
        (status = 422, response = crate::problem::Unprocessable),
        (status = 503, response = crate::problem::Unavailable),
    ),
)]
#[post("/trainings/{id}/registrations")]
pub async fn register(
    state: web::Data<AppState>,
    auth: Authenticated,
    key: IdempotencyKey,
    id: web::Path<String>,
    body: ApiJson<RegisterProfessionals>,
) -> Result<HttpResponse, ApiError> {
    permit(
        &state,
        &auth,
        Action::RegisterProfessionals,
        Resource::Service,
        "group_session",
        None,
    )
    .await?;
    let id = parse_id("id", &id)?;
    let body = body.into_inner()?;
    let digest = idempotency::digest(&(&id, &body))?;
    let mut participants = Vec::with_capacity(body.professionals.len());
    for (i, p) in body.professionals.iter().enumerate() {
        let name = text(&format!("professionals[{i}].name"), &p.name)?;
        participants.push(Participant {
            name,
            category: ParticipantCategory::Professionals,
            organisation_id: Some(auth.actor.organisation_id.clone()),
        });
    }
    let clock = state.clock.clone();
    let actor = auth.actor.clone();
    let ctx = auth.ctx.clone();
    idempotency::create(
        &state,
        &auth,
        key,
        Operation {
            name: "register_professionals",
            location: Some("/api/v1/training-registrations"),
            replay: Replay::Stored,
        },
        digest,
        move |conn| {
            let rows =
                register_participants(conn, &id, participants, &actor.id, &clock, |session| {
                    if !rules::is_for_professionals(stored(&session.kind)?) {
                        return Err(no_training());
                    }
                    if session.status == GroupStatus::Planned.as_str()
                        && clock.now() >= instant(session.starts_at)
                    {
                        return Err(ApiError::conflict(
                            "group-session-started",
                            "Session started",
                            "registrations close when the session starts",
                        ));
                    }
                    Ok(())
                })?;
            let entry = audit::entry(
                Some(&actor),
                &ctx,
                "register_professionals",
                "group_session",
                Some(&id),
                Outcome::Success,
            );
            adosexo_persistence::audit::append(conn, &[entry], clock.now())?;
            let first = rows
                .first()
                .map(|r| r.id.clone())
                .ok_or_else(|| ApiError::internal("no registration made"))?;
            let items = rows
                .into_iter()
                .map(registration_view)
                .collect::<Result<_, _>>()?;
            Ok(Created {
                id: first,
                version: 1,
                body: TrainingRegistrationList { items },
                replay_body: None,
            })
        },
    )
    .await
}

/// Paging.
#[derive(Debug, Deserialize, Validate, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// Page size, 1 to 200 (default 50).
    #[validate(range(min = 1, max = 200, message = "limit must be from 1 to 200"))]
    #[param(minimum = 1, maximum = 200, default = 50)]
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    #[param(
        pattern = "^[0-9]{1,16}_[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
    )]
    pub cursor: Option<String>,
}

/// The registrations of one's organisation.
#[utoipa::path(
    operation_id = "listMyTrainingRegistrations",
    tag = "professionals",
    summary = "My organisation's training registrations",
    description = "Partners: the registrations of their organisation's professionals to awareness \
                   sessions, action-trainings and case reviews, with their status. Audited.",
    params(PageQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "A page of registrations", body = TrainingRegistrationPage),
        (status = 400, response = crate::problem::BadRequest),
        (status = 401, response = crate::problem::Unauthorized),
        (status = 403, response = crate::problem::Forbidden),
        (status = 503, response = crate::problem::Unavailable),
    ),
)]
#[get("/training-registrations")]
pub async fn mine(
    state: web::Data<AppState>,
    auth: Authenticated,
    query: ApiQuery<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    permit(
        &state,
        &auth,
        Action::ListOwnRegistrations,
        Resource::Service,
        "group_registration",
        None,
    )
    .await?;
    let query = query.into_inner()?;
    let after = query.cursor.as_deref().map(parse_cursor).transpose()?;
    let limit = limit(query.limit);
    let organisation = auth.actor.organisation_id.clone();
    let rows = state
        .db
        .run(move |conn| {
            let kinds = professional_kinds();
            let kinds: Vec<&str> = kinds.iter().map(String::as_str).collect();
            store::registrations_of_organisation(
                conn,
                &organisation,
                &kinds,
                after,
                i64::from(limit) + 1,
            )
        })
        .await?;
    let (rows, next_cursor) = page(rows, limit, |r| cursor_of(r.created_at, &r.id));
    audit::record(
        &state,
        vec![audit::list_entry(
            Some(&auth.actor),
            &auth.ctx,
            "list_own_registrations",
            "group_registration",
            rows.iter().map(|r| &r.id),
        )],
    )
    .await?;
    let items = rows
        .into_iter()
        .map(registration_view)
        .collect::<Result<_, _>>()?;
    Ok(HttpResponse::Ok().json(TrainingRegistrationPage { items, next_cursor }))
}

/// Cancel a registration of one's organisation.
#[utoipa::path(
    operation_id = "cancelTrainingRegistration",
    tag = "professionals",
    summary = "Cancel a professional's registration",
    description = "Partners cancel their own organisation's registrations (404 for others'). A confirmed \
                   place freed promotes the oldest waitlisted registration. Audited.",
    params(("id" = String, Path, description = "Registration id", pattern = "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The cancelled registration", body = TrainingRegistrationView),
        (status = 400, response = crate::problem::BadRequest),
        (status = 401, response = crate::problem::Unauthorized),
        (status = 403, response = crate::problem::Forbidden),
        (status = 404, response = crate::problem::NotFound),
        (status = 409, response = crate::problem::Conflict),
        (status = 503, response = crate::problem::Unavailable),
    ),
)]
#[post("/training-registrations/{id}/cancel")]
pub async fn cancel(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = parse_id("id", &id)?;
    let lookup = id.clone();
    let found = state
        .db
        .run(move |conn| store::find_registration(conn, &lookup))
        .await?;
    let organisation = found
        .as_ref()
        .and_then(|r| r.organisation_id.clone())
        .unwrap_or_default();
    let resource = if found.is_some() {
        Resource::PartnerRecord {
            organisation_id: &organisation,
        }
    } else {
        Resource::Service
    };
    permit(
        &state,
        &auth,
        Action::CancelOwnRegistration,
        resource,
        "group_registration",
        Some(&id),
    )
    .await?;
    let registration = found.ok_or_else(|| ApiError::not_found("no registration with this id"))?;
    let now = state.clock.now();
    let entry = audit::entry(
        Some(&auth.actor),
        &auth.ctx,
        "cancel_own_registration",
        "group_registration",
        Some(&id),
        Outcome::Success,
    );
    let row = state
        .db
        .transaction(move |conn| {
            let row = cancel_registration_in(conn, &registration.group_session_id, &id, now)?;
            adosexo_persistence::audit::append(conn, &[entry], now)?;
            Ok::<_, ApiError>(row)
        })
        .await?;
    Ok(HttpResponse::Ok().json(registration_view(row)?))
}

/// A case review request.
#[derive(Debug, Serialize, ToSchema)]
pub struct CaseReviewView {
    /// Id.
    pub id: String,
    /// The requesting organisation.
    pub organisation_id: String,
    /// Département.
    pub departement_code: String,
    /// The situation, as described (no personal data is needed).
    pub situation: String,
    /// Whether the situation is fictional.
    pub fictional: bool,
    /// `requested` or `scheduled`.
    pub status: CaseReviewStatusWire,
    /// The case review session, once scheduled.
    pub group_session_id: Option<String>,
    /// Version, as in the `ETag`.
    pub version: i64,
    /// Created at.
    pub created_at: DateTime<Utc>,
    /// Last changed at.
    pub updated_at: DateTime<Utc>,
}

fn case_review_view(row: CaseReviewRow) -> Result<CaseReviewView, ApiError> {
    Ok(CaseReviewView {
        status: CaseReviewStatusWire(stored(&row.status)?),
        id: row.id,
        organisation_id: row.organisation_id,
        departement_code: row.departement_code,
        situation: row.situation,
        fictional: row.fictional,
        group_session_id: row.group_session_id,
        version: row.version,
        created_at: instant(row.created_at),
        updated_at: instant(row.updated_at),
    })
}

/// A page of case review requests.
#[derive(Debug, Serialize, ToSchema)]
pub struct CaseReviewPage {
    /// Oldest first.
    pub items: Vec<CaseReviewView>,
    /// Pass as `cursor` for the next page; `null` on the last.
    pub next_cursor: Option<String>,
}

/// A request for a case review.
#[derive(Debug, Deserialize, Serialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateCaseReview {
    /// Where the team would hold it.
    #[validate(custom(function = "crate::wire::departement_code"))]
    #[schema(pattern = "^([0-9]{2}|2[ABab]|9[78][0-9])$", example = "13")]
    pub departement_code: String,
    /// The situation to discuss, real or fictional: describe it without
    /// names or anything that identifies a person.
    #[validate(length(
        min = 10,
        max = 4000,
        message = "situation must have 10 to 4000 characters"
    ))]
    #[schema(min_length = 10, max_length = 4000)]
    pub situation: String,
    /// Whether the situation is fictional.
    pub fictional: bool,
}

/// Ask for a case review.
#[utoipa::path(
    operation_id = "createCaseReviewRequest",
    tag = "professionals",
    summary = "Ask for a case review",
    description = "Partners describe a situation (real or fictional; no personal data is needed); the team \
                   then schedules it as a case review session. Honours `Idempotency-Key`. Audited.",
    request_body(content = CreateCaseReview, content_type = "application/json"),
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe: the same key and body replay the first answer (1 to 255 visible ASCII characters)", pattern = "^[!-~]{1,255}$")),
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Requested", body = CaseReviewView,
         headers(("Location" = String, description = "The new resource"), ("ETag" = String, description = "Its version"))),
        (status = 400, response = crate::problem::BadRequest),
        (status = 401, response = crate::problem::Unauthorized),
        (status = 403, response = crate::problem::Forbidden),
        (status = 413, response = crate::problem::PayloadTooLarge),
        (status = 415, response = crate::problem::UnsupportedMediaType),
        (status = 422, response = crate::problem::Unprocessable),
        (status = 503, response = crate::problem::Unavailable),
    ),
)]
#[post("/case-review-requests")]
pub async fn request_case_review(
    state: web::Data<AppState>,
    auth: Authenticated,
    key: IdempotencyKey,
    body: ApiJson<CreateCaseReview>,
) -> Result<HttpResponse, ApiError> {
    permit(
        &state,
        &auth,
        Action::RequestCaseReview,
        Resource::Service,
        "case_review_request",
        None,
    )
    .await?;
    let body = body.into_inner()?;
    let digest = idempotency::digest(&body)?;
    let departement = DepartementCode::parse(&body.departement_code)
        .map_err(|e| ApiError::invalid_field("departement_code", "format", e.to_string()))?;
    let situation = text_of_at_least("situation", &body.situation, 10)?;
    let now = state.clock.now();
    let actor = auth.actor.clone();
    let ctx = auth.ctx.clone();
    idempotency::create(
        &state,
        &auth,
        key,
        Operation {
            name: "create_case_review_request",
            location: Some("/api/v1/case-review-requests"),
            replay: Replay::Stored,
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
            let id = uuid::Uuid::now_v7().to_string();
            let row = CaseReviewRow {
                id: id.clone(),
                organisation_id: actor.organisation_id.clone(),
                requested_by: actor.id.clone(),
                departement_code: departement.to_string(),
                situation,
                fictional: body.fictional,
                status: CaseReviewStatus::Requested.as_str().to_owned(),
                group_session_id: None,
                version: 1,
                created_at: to_db(now),
                updated_at: to_db(now),
            };
            store::insert_case_review(conn, &row)?;
            let entry = audit::entry(
                Some(&actor),
                &ctx,
                "create_case_review_request",
                "case_review_request",
                Some(&id),
                Outcome::Success,
            );
            adosexo_persistence::audit::append(conn, &[entry], now)?;
            Ok(Created {
                id,
                version: 1,
                body: case_review_view(row)?,
                replay_body: None,
            })
        },
    )
    .await
}

/// Filters and paging.
#[derive(Debug, Deserialize, Validate, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct CaseReviewQuery {
    /// Only requests in this status.
    pub status: Option<CaseReviewStatusWire>,
    /// Page size, 1 to 200 (default 50).
    #[validate(range(min = 1, max = 200, message = "limit must be from 1 to 200"))]
    #[param(minimum = 1, maximum = 200, default = 50)]
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    #[param(
        pattern = "^[0-9]{1,16}_[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
    )]
    pub cursor: Option<String>,
}

/// Case review requests.
#[utoipa::path(
    operation_id = "listCaseReviewRequests",
    tag = "professionals",
    summary = "List case review requests",
    description = "Partners see their organisation's; supervisors, coordinators and referents all. Audited.",
    params(CaseReviewQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "A page of requests", body = CaseReviewPage),
        (status = 400, response = crate::problem::BadRequest),
        (status = 401, response = crate::problem::Unauthorized),
        (status = 403, response = crate::problem::Forbidden),
        (status = 503, response = crate::problem::Unavailable),
    ),
)]
#[get("/case-review-requests")]
pub async fn list_case_reviews(
    state: web::Data<AppState>,
    auth: Authenticated,
    query: ApiQuery<CaseReviewQuery>,
) -> Result<HttpResponse, ApiError> {
    permit(
        &state,
        &auth,
        Action::ListCaseReviewRequests,
        Resource::Service,
        "case_review_request",
        None,
    )
    .await?;
    let query = query.into_inner()?;
    let after = query.cursor.as_deref().map(parse_cursor).transpose()?;
    let limit = limit(query.limit);
    let organisation = (!auth.actor.roles.is_staff()).then(|| auth.actor.organisation_id.clone());
    let status = query.status.map(|s| s.0.as_str());
    let rows = state
        .db
        .run(move |conn| {
            store::list_case_reviews(
                conn,
                organisation.as_deref(),
                status,
                after,
                i64::from(limit) + 1,
            )
        })
        .await?;
    let (rows, next_cursor) = page(rows, limit, |r| cursor_of(r.created_at, &r.id));
    audit::record(
        &state,
        vec![audit::list_entry(
            Some(&auth.actor),
            &auth.ctx,
            "list_case_review_requests",
            "case_review_request",
            rows.iter().map(|r| &r.id),
        )],
    )
    .await?;
    let items = rows
        .into_iter()
        .map(case_review_view)
        .collect::<Result<_, _>>()?;
    Ok(HttpResponse::Ok().json(CaseReviewPage { items, next_cursor }))
}

/// The session a request is scheduled on.
#[derive(Debug, Deserialize, Serialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScheduleCaseReview {
    /// A planned case review group session.
    #[validate(custom(function = "crate::wire::uuid_text"))]
    #[schema(format = "uuid")]
    pub group_session_id: String,
}

/// Schedule a case review request on a case review session (needs `If-Match`).
#[utoipa::path(
    operation_id = "scheduleCaseReviewRequest",
    tag = "professionals",
    summary = "Schedule a case review request",
    description = "Staff plan a `case_review` group session (`createGroupSession`), then attach the request \
                   to it; the requesting partner then registers its professionals. 422 \
                   `case-review-session-kind` for another kind of session, 409 \
                   `case-review-already-scheduled` when done already. Audited.",
    params(
        ("id" = String, Path, description = "Case review request id", pattern = "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"),
        ("If-Match" = String, Header, description = "The ETag of the version read", pattern = "^\"v[0-9]{1,18}\"$", example = "\"v1\""),
    ),
    request_body(content = ScheduleCaseReview, content_type = "application/json"),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The request", body = CaseReviewView, headers(("ETag" = String, description = "Its new version"))),
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
#[post("/case-review-requests/{id}/schedule")]
pub async fn schedule_case_review(
    req: HttpRequest,
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<String>,
    body: ApiJson<ScheduleCaseReview>,
) -> Result<HttpResponse, ApiError> {
    permit(
        &state,
        &auth,
        Action::ScheduleCaseReview,
        Resource::Service,
        "case_review_request",
        None,
    )
    .await?;
    let id = parse_id("id", &id)?;
    let body = body.into_inner()?;
    let expected = if_match(&req)?;
    let session_id = parse_id("group_session_id", &body.group_session_id)?;
    let now = state.clock.now();
    let entry = audit::entry(
        Some(&auth.actor),
        &auth.ctx,
        "schedule_case_review_request",
        "case_review_request",
        Some(&id),
        Outcome::Success,
    );
    let row = state
        .db
        .transaction(move |conn| {
            let current = store::find_case_review(conn, &id)?
                .ok_or_else(|| ApiError::not_found("no case review request with this id"))?;
            if current.version != expected {
                return Err(ApiError::precondition_failed());
            }
            let session = schedule::find_group_session(conn, &session_id)?.ok_or_else(|| {
                ApiError::invalid_value(
                    "group_session_id",
                    "unknown",
                    "no group session has this id",
                )
            })?;
            rules::check_schedule_case_review(stored(&current.status)?, stored(&session.kind)?)
                .map_err(|rule| match rule {
                    rules::CaseReviewRule::AlreadyScheduled => ApiError::conflict(
                        "case-review-already-scheduled",
                        "Case review already scheduled",
                        rule.to_string(),
                    ),
                    rules::CaseReviewRule::NotACaseReview => ApiError::rule(
                        "case-review-session-kind",
                        "Not a case review session",
                        rule.to_string(),
                    ),
                })?;
            let row = store::schedule_case_review(conn, &id, expected, &session_id, now)?
                .ok_or_else(ApiError::precondition_failed)?;
            adosexo_persistence::audit::append(conn, &[entry], now)?;
            Ok(row)
        })
        .await?;
    let version = row.version;
    Ok(versioned_json(
        StatusCode::OK,
        &case_review_view(row)?,
        version,
    ))
}
