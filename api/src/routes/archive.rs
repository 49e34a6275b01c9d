//! Retention and erasure: the restricted archive of follow-ups past their
//! retention (supervisor and archivists only) and erasure requests
//! (RGPD art. 17), executed or refused with the legal reason.

use actix_web::{HttpResponse, get, post, web};
use adosexo_domain::authz::{Action, Resource};
use adosexo_domain::retention::{self, ErasureStatus};
use adosexo_persistence::cases;
use adosexo_persistence::retention::{self as store, ArchiveRow, ErasureRequestRow};
use adosexo_persistence::time::to_db;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use super::cases::{cursor_of, parse_cursor, stored};
use super::followups::{FollowUpView, load, view};
use crate::audit::{self, Outcome};
use crate::auth::Authenticated;
use crate::extract::{ApiJson, ApiQuery};
use crate::guard::permit;
use crate::idempotency::{self, Created, IdempotencyKey, Operation};
use crate::pagination::{limit, page, parse_id};
use crate::problem::ApiError;
use crate::state::AppState;
use crate::wire::{ErasureRefusalWire, ErasureRequesterWire, ErasureStatusWire, instant};

/// Where an archived follow-up stands.
#[derive(Debug, Serialize, ToSchema)]
pub struct ArchiveEntry {
    /// The follow-up.
    pub follow_up_id: String,
    /// Its latest contact when it was archived.
    pub last_contact_at: DateTime<Utc>,
    /// When it left the active base.
    pub archived_at: DateTime<Utc>,
    /// When its personal fields were removed, if they were.
    pub pseudonymised_at: Option<DateTime<Utc>>,
}

impl From<ArchiveRow> for ArchiveEntry {
    fn from(row: ArchiveRow) -> Self {
        Self {
            follow_up_id: row.follow_up_id,
            last_contact_at: instant(row.last_contact_at),
            archived_at: instant(row.archived_at),
            pseudonymised_at: row.pseudonymised_at.map(instant),
        }
    }
}

/// A page of the archive.
#[derive(Debug, Serialize, ToSchema)]
pub struct ArchivePage {
    /// Oldest archived first.
    pub items: Vec<ArchiveEntry>,
    /// Pass as `cursor` for the next page; `null` on the last.
    pub next_cursor: Option<String>,
}

/// An archived follow-up, whole.
#[derive(Debug, Serialize, ToSchema)]
pub struct ArchivedFollowUp {
    /// Where it stands in the archive.
    pub archive: ArchiveEntry,
    /// The follow-up as it was when archived (personal fields removed once
    /// pseudonymised).
    pub follow_up: FollowUpView,
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

async fn audited(
    state: &AppState,
    auth: &Authenticated,
    action: &str,
    resource_type: &str,
    id: Option<&str>,
) -> Result<(), ApiError> {
    audit::record(
        state,
        vec![audit::entry(
            Some(&auth.actor),
            &auth.ctx,
            action,
            resource_type,
            id,
            Outcome::Success,
        )],
    )
    .await
}

/// List the restricted archive.
#[utoipa::path(
    operation_id = "listArchivedFollowUps",
    tag = "data-protection",
    summary = "List archived follow-ups",
    description = "Follow-ups whose last contact is older than the retention period \
                   (`ADOSEXO_RETENTION_DAYS`, default 2 years) leave the active base: every ordinary \
                   route answers 404 for them. The supervisor and archivists read them here. Audited.",
    params(PageQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "A page of the archive", body = ArchivePage),
        (status = 400, response = crate::problem::BadRequest),
        (status = 401, response = crate::problem::Unauthorized),
        (status = 403, response = crate::problem::Forbidden),
        (status = 503, response = crate::problem::Unavailable),
    ),
)]
#[get("/archive/follow-ups")]
pub async fn list(
    state: web::Data<AppState>,
    auth: Authenticated,
    query: ApiQuery<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    permit(
        &state,
        &auth,
        Action::ReadArchive,
        Resource::Service,
        "archive",
        None,
    )
    .await?;
    let query = query.into_inner()?;
    let after = query.cursor.as_deref().map(parse_cursor).transpose()?;
    let limit = limit(query.limit);
    let rows = state
        .db
        .run(move |conn| store::list_archive(conn, after, i64::from(limit) + 1))
        .await?;
    let (rows, next_cursor) = page(rows, limit, |r| cursor_of(r.archived_at, &r.follow_up_id));
    audit::record(
        &state,
        vec![audit::list_entry(
            Some(&auth.actor),
            &auth.ctx,
            "list_archive",
            "follow_up",
            rows.iter().map(|r| &r.follow_up_id),
        )],
    )
    .await?;
    Ok(HttpResponse::Ok().json(ArchivePage {
        items: rows.into_iter().map(ArchiveEntry::from).collect(),
        next_cursor,
    }))
}

/// Read an archived follow-up.
#[utoipa::path(
    operation_id = "getArchivedFollowUp",
    tag = "data-protection",
    summary = "Read an archived follow-up",
    description = "The supervisor and archivists only; 404 when the follow-up is not archived. Audited.",
    params(("id" = String, Path, description = "Follow-up id", pattern = "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The archived follow-up", body = ArchivedFollowUp),
        (status = 400, response = crate::problem::BadRequest),
        (status = 401, response = crate::problem::Unauthorized),
        (status = 403, response = crate::problem::Forbidden),
        (status = 404, response = crate::problem::NotFound),
        (status = 503, response = crate::problem::Unavailable),
    ),
)]
#[get("/archive/follow-ups/{id}")]
pub async fn get(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    permit(
        &state,
        &auth,
        Action::ReadArchive,
        Resource::Service,
        "follow_up",
        None,
    )
    .await?;
    let id = parse_id("id", &id)?;
    let lookup = id.clone();
    let found = state
        .db
        .run(move |conn| {
            let Some(entry) = store::archive_entry(conn, &lookup)? else {
                return Ok::<_, ApiError>(None);
            };
            let Some(row) = cases::find_follow_up_anywhere(conn, &lookup)? else {
                return Ok(None);
            };
            Ok(Some((entry, load(conn, row)?)))
        })
        .await?;
    let Some((entry, loaded)) = found else {
        return Err(ApiError::not_found("no archived follow-up with this id"));
    };
    audited(
        &state,
        &auth,
        "read_archived_follow_up",
        "follow_up",
        Some(&id),
    )
    .await?;
    Ok(HttpResponse::Ok().json(ArchivedFollowUp {
        archive: entry.into(),
        follow_up: view(loaded)?,
    }))
}

/// An erasure request.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErasureRequestView {
    /// Id.
    pub id: String,
    /// The person whose data is to be erased.
    pub person_id: String,
    /// Who asked.
    pub requested_by: ErasureRequesterWire,
    /// When the request reached the programme.
    pub received_at: DateTime<Utc>,
    /// Pending, executed or refused.
    pub status: ErasureStatusWire,
    /// Why it was refused (the law requires keeping the data).
    pub refusal: Option<ErasureRefusalWire>,
    /// The legal reason of the refusal, as told to the requester.
    pub legal_reason: Option<String>,
    /// Staff who recorded it.
    pub recorded_by: String,
    /// Staff who executed or refused it.
    pub decided_by: Option<String>,
    /// When.
    pub decided_at: Option<DateTime<Utc>>,
    /// Version, as in the `ETag`.
    pub version: i64,
    /// Recorded at.
    pub created_at: DateTime<Utc>,
}

impl TryFrom<ErasureRequestRow> for ErasureRequestView {
    type Error = ApiError;

    fn try_from(row: ErasureRequestRow) -> Result<Self, ApiError> {
        let refusal: Option<retention::ErasureRefusal> =
            row.refusal.as_deref().map(stored).transpose()?;
        Ok(Self {
            requested_by: ErasureRequesterWire(stored(&row.requested_by)?),
            status: ErasureStatusWire(stored(&row.status)?),
            legal_reason: refusal.map(|r| r.legal_reason().to_owned()),
            refusal: refusal.map(ErasureRefusalWire),
            id: row.id,
            person_id: row.person_id,
            received_at: instant(row.received_at),
            recorded_by: row.recorded_by,
            decided_by: row.decided_by,
            decided_at: row.decided_at.map(instant),
            version: row.version,
            created_at: instant(row.created_at),
        })
    }
}

/// A page of erasure requests.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErasureRequestPage {
    /// Oldest first.
    pub items: Vec<ErasureRequestView>,
    /// Pass as `cursor` for the next page; `null` on the last.
    pub next_cursor: Option<String>,
}

/// A new erasure request.
#[derive(Debug, Deserialize, Serialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateErasureRequest {
    /// Who asked: the person, a holder of parental authority, a legal representative.
    pub requested_by: ErasureRequesterWire,
    /// When the request reached the programme (RFC 3339; the one-month answer
    /// period of RGPD art. 12(3) runs from it).
    pub received_at: DateTime<Utc>,
}

/// Record an erasure request about a person.
#[utoipa::path(
    operation_id = "createErasureRequest",
    tag = "data-protection",
    summary = "Record an erasure request",
    description = "Records a data-subject erasure request (RGPD art. 17) about a person, to be executed \
                   or refused with the legal reason. Supervisors only; audited. A reception date in the \
                   future is refused (422 `received-in-future`). Honours `Idempotency-Key`.",
    params(
        ("id" = String, Path, description = "Person id", pattern = "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe: the same key and body replay the first answer (1 to 255 visible ASCII characters)", pattern = "^[!-~]{1,255}$"),
    ),
    request_body(content = CreateErasureRequest, content_type = "application/json"),
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Recorded", body = ErasureRequestView,
         headers(("Location" = String, description = "The new resource"), ("ETag" = String, description = "Its version"))),
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
#[post("/people/{id}/erasure-requests")]
pub async fn create_erasure_request(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<String>,
    key: IdempotencyKey,
    body: ApiJson<CreateErasureRequest>,
) -> Result<HttpResponse, ApiError> {
    permit(
        &state,
        &auth,
        Action::ManageErasure,
        Resource::Service,
        "person",
        None,
    )
    .await?;
    let person_id = parse_id("id", &id)?;
    let body = body.into_inner()?;
    let now = state.clock.now();
    if body.received_at > now {
        return Err(ApiError::rule(
            "received-in-future",
            "Reception date in the future",
            "received_at cannot be later than now",
        ));
    }
    let digest = idempotency::digest(&(&person_id, &body))?;
    let (actor, ctx) = (auth.actor.clone(), auth.ctx.clone());
    idempotency::create(
        &state,
        &auth,
        key,
        Operation {
            name: "create_erasure_request",
            location: Some("/api/v1/erasure-requests"),
            replay: idempotency::reread(&state, &auth, read_erasure_request),
        },
        digest,
        move |conn| {
            if cases::find_person(conn, &person_id)?.is_none() {
                return Err(ApiError::not_found("no person with this id"));
            }
            let row = ErasureRequestRow {
                id: uuid::Uuid::now_v7().to_string(),
                person_id,
                requested_by: body.requested_by.0.as_str().to_owned(),
                received_at: to_db(body.received_at),
                status: ErasureStatus::Pending.as_str().to_owned(),
                refusal: None,
                recorded_by: actor.id.clone(),
                decided_by: None,
                decided_at: None,
                version: 1,
                created_at: to_db(now),
                updated_at: to_db(now),
            };
            store::insert_erasure_request(conn, &row)?;
            let entry = audit::entry(
                Some(&actor),
                &ctx,
                "create_erasure_request",
                "person",
                Some(&row.person_id),
                Outcome::Success,
            );
            adosexo_persistence::audit::append(conn, &[entry], now)?;
            let view = ErasureRequestView::try_from(row)?;
            Ok(Created {
                id: view.id.clone(),
                version: view.version,
                body: view,
                replay_body: None,
            })
        },
    )
    .await
}

/// Filters and paging of erasure requests.
#[derive(Debug, Deserialize, Validate, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ErasureListQuery {
    /// Page size, 1 to 200 (default 50).
    #[validate(range(min = 1, max = 200, message = "limit must be from 1 to 200"))]
    #[param(minimum = 1, maximum = 200, default = 50)]
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    #[param(
        pattern = "^[0-9]{1,16}_[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
    )]
    pub cursor: Option<String>,
    /// Only requests in this status.
    pub status: Option<ErasureStatusWire>,
}

/// List erasure requests.
#[utoipa::path(
    operation_id = "listErasureRequests",
    tag = "data-protection",
    summary = "List erasure requests",
    description = "The supervisor. Pages by `cursor`; `status` keeps the requests in one status. Audited.",
    params(ErasureListQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "A page of erasure requests", body = ErasureRequestPage),
        (status = 400, response = crate::problem::BadRequest),
        (status = 401, response = crate::problem::Unauthorized),
        (status = 403, response = crate::problem::Forbidden),
        (status = 503, response = crate::problem::Unavailable),
    ),
)]
#[get("/erasure-requests")]
pub async fn list_erasure_requests(
    state: web::Data<AppState>,
    auth: Authenticated,
    query: ApiQuery<ErasureListQuery>,
) -> Result<HttpResponse, ApiError> {
    permit(
        &state,
        &auth,
        Action::ManageErasure,
        Resource::Service,
        "erasure_request",
        None,
    )
    .await?;
    let query = query.into_inner()?;
    let after = query.cursor.as_deref().map(parse_cursor).transpose()?;
    let limit = limit(query.limit);
    let status = query.status.map(|s| s.0.as_str());
    let rows = state
        .db
        .run(move |conn| store::list_erasure_requests(conn, status, after, i64::from(limit) + 1))
        .await?;
    let (rows, next_cursor) = page(rows, limit, |r| cursor_of(r.created_at, &r.id));
    audit::record(
        &state,
        vec![audit::list_entry(
            Some(&auth.actor),
            &auth.ctx,
            "list_erasure_requests",
            "erasure_request",
            rows.iter().map(|r| &r.id),
        )],
    )
    .await?;
    Ok(HttpResponse::Ok().json(ErasureRequestPage {
        items: rows
            .into_iter()
            .map(ErasureRequestView::try_from)
            .collect::<Result<_, _>>()?,
        next_cursor,
    }))
}

/// Read an erasure request.
#[utoipa::path(
    operation_id = "getErasureRequest",
    tag = "data-protection",
    summary = "Read an erasure request",
    description = "The supervisor. An erasure request (right to erasure) with its status and decision.",
    params(("id" = String, Path, description = "Erasure request id", pattern = "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The request", body = ErasureRequestView,
         headers(("ETag" = String, description = "Its version"))),
        (status = 400, response = crate::problem::BadRequest),
        (status = 401, response = crate::problem::Unauthorized),
        (status = 403, response = crate::problem::Forbidden),
        (status = 404, response = crate::problem::NotFound),
        (status = 503, response = crate::problem::Unavailable),
    ),
)]
#[get("/erasure-requests/{id}")]
pub async fn get_erasure_request(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    read_erasure_request(state, auth, id.into_inner()).await
}

/// What `get_erasure_request` answers (also a replay of the creation, through today's
/// authorization).
pub(crate) async fn read_erasure_request(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: String,
) -> Result<HttpResponse, ApiError> {
    permit(
        &state,
        &auth,
        Action::ManageErasure,
        Resource::Service,
        "erasure_request",
        None,
    )
    .await?;
    let id = parse_id("id", &id)?;
    let lookup = id.clone();
    let row = state
        .db
        .run(move |conn| store::find_erasure_request(conn, &lookup))
        .await?
        .ok_or_else(|| ApiError::not_found("no erasure request with this id"))?;
    audited(
        &state,
        &auth,
        "read_erasure_request",
        "erasure_request",
        Some(&id),
    )
    .await?;
    let version = row.version;
    Ok(HttpResponse::Ok()
        .insert_header(("ETag", crate::http_cache::version_etag(version)))
        .json(ErasureRequestView::try_from(row)?))
}

/// Execute an erasure request, or refuse it with the legal reason.
#[utoipa::path(
    operation_id = "executeErasureRequest",
    tag = "data-protection",
    summary = "Execute an erasure request",
    description = "Removes the person's personal fields (names, birth date, contact, free text of their \
                   referrals, consents and appointments) while every statistic stays the same. When the \
                   law requires keeping the data the request is refused and recorded as such: 409 \
                   `erasure-refused`, the detail giving the legal reason (pending child-protection \
                   decision, follow-up in the active base, referral under review, archive period). A \
                   refused request can be executed later, once nothing obliges keeping the data; an \
                   executed one answers as it stands. Supervisors only; audited.",
    params(("id" = String, Path, description = "Erasure request id", pattern = "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Executed", body = ErasureRequestView),
        (status = 400, response = crate::problem::BadRequest),
        (status = 401, response = crate::problem::Unauthorized),
        (status = 403, response = crate::problem::Forbidden),
        (status = 404, response = crate::problem::NotFound),
        (status = 409, response = crate::problem::Conflict),
        (status = 503, response = crate::problem::Unavailable),
    ),
)]
#[post("/erasure-requests/{id}/execute")]
pub async fn execute_erasure_request(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    permit(
        &state,
        &auth,
        Action::ManageErasure,
        Resource::Service,
        "erasure_request",
        None,
    )
    .await?;
    let id = parse_id("id", &id)?;
    let now = state.clock.now();
    let (actor, ctx) = (auth.actor.clone(), auth.ctx.clone());
    let journal = state.erasure_journal.clone();
    let decision = state
        .db
        .transaction(move |conn| {
            let Some(request) = store::find_erasure_request(conn, &id)? else {
                return Ok::<_, ApiError>(None);
            };
            if request.status == ErasureStatus::Executed.as_str() {
                return Ok(Some(Ok(request)));
            }
            let facts = store::erasure_facts(conn, &request.person_id)?;
            let (status, refusal, action) = match retention::may_erase(facts) {
                Ok(()) => {
                    store::pseudonymise_person(conn, &request.person_id, now)?;
                    // Journaled before the commit: a journal that cannot be
                    // written rolls the erasure back (a restore must be able
                    // to replay it).
                    if let Some(journal) = &journal {
                        crate::backup::journal_erasure(journal, &id, &request.person_id, now)
                            .map_err(|e| ApiError::internal(format!("erasure journal: {e}")))?;
                    }
                    (ErasureStatus::Executed, None, "execute_erasure")
                }
                Err(refusal) => (ErasureStatus::Refused, Some(refusal), "refuse_erasure"),
            };
            let row = store::decide_erasure_request(
                conn,
                &id,
                status.as_str(),
                refusal.map(|r| r.as_str()),
                &actor.id,
                now,
            )?
            .ok_or_else(|| ApiError::internal("erasure request vanished"))?;
            let entries = [
                audit::entry(
                    Some(&actor),
                    &ctx,
                    action,
                    "erasure_request",
                    Some(&id),
                    Outcome::Success,
                ),
                audit::entry(
                    Some(&actor),
                    &ctx,
                    action,
                    "person",
                    Some(&request.person_id),
                    Outcome::Success,
                ),
            ];
            adosexo_persistence::audit::append(conn, &entries, now)?;
            Ok(Some(refusal.map_or(Ok(row), Err)))
        })
        .await?;
    if matches!(decision, Some(Ok(_))) {
        crate::retention::scrub(&state.db).await;
    }
    match decision {
        None => Err(ApiError::not_found("no erasure request with this id")),
        Some(Ok(row)) => Ok(HttpResponse::Ok().json(ErasureRequestView::try_from(row)?)),
        Some(Err(refusal)) => Err(ApiError::conflict(
            "erasure-refused",
            "Erasure refused",
            format!("{}: {}", refusal.as_str(), refusal.legal_reason()),
        )),
    }
}
