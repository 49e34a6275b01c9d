//! Organisations: the programme and its partners (admin-managed).

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, get, patch, post, web};
use adosexo_domain::DepartementCode;
use adosexo_domain::authz::{Action, Resource};
use adosexo_domain::identity::OrganisationKind;
use adosexo_persistence::identity::{self, NewOrganisation, OrganisationChanges, OrganisationRow};
use adosexo_persistence::{DbConnection, PersistenceError, territory};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use crate::audit::{self, Outcome};
use crate::auth::Authenticated;
use crate::extract::{ApiJson, ApiQuery, text};
use crate::guard::permit;
use crate::http_cache::{if_match, versioned_json};
use crate::idempotency::{self, Created, IdempotencyKey, Operation, Replay};
use crate::pagination::{limit, page, parse_id};
use crate::problem::ApiError;
use crate::state::AppState;
use crate::wire::instant;
use crate::wire::{KindWire, StatusWire};

/// An organisation.
#[derive(Debug, Serialize, ToSchema)]
pub struct OrganisationView {
    /// Id (UUID v7).
    pub id: String,
    /// Name.
    pub name: String,
    /// Kind.
    pub kind: KindWire,
    /// INSEE département code.
    pub departement_code: String,
    /// Bound by professional secrecy and contributing to child protection
    /// (may receive shared information, CASF L226-2-2).
    pub shares_secrecy: bool,
    /// `active` or `disabled`.
    pub status: StatusWire,
    /// Version, as in the `ETag`.
    pub version: i64,
    /// Created at (UTC).
    pub created_at: DateTime<Utc>,
    /// Last changed at (UTC).
    pub updated_at: DateTime<Utc>,
}

impl TryFrom<OrganisationRow> for OrganisationView {
    type Error = ApiError;
    fn try_from(row: OrganisationRow) -> Result<Self, ApiError> {
        let bad = |e: adosexo_domain::identity::UnknownValue| {
            ApiError::internal(format!("stored organisation {}: {e}", row.id))
        };
        Ok(Self {
            kind: KindWire(row.kind.parse().map_err(bad)?),
            status: StatusWire(row.status.parse().map_err(bad)?),
            id: row.id,
            name: row.name,
            departement_code: row.departement_code,
            shares_secrecy: row.shares_secrecy,
            version: row.version,
            created_at: instant(row.created_at),
            updated_at: instant(row.updated_at),
        })
    }
}

/// A page of organisations.
#[derive(Debug, Serialize, ToSchema)]
pub struct OrganisationPage {
    /// In creation order.
    pub items: Vec<OrganisationView>,
    /// Pass as `cursor` for the next page; `null` on the last.
    pub next_cursor: Option<String>,
}

/// Filters and paging.
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
        pattern = "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
    )]
    pub cursor: Option<String>,
    /// Only organisations of this kind.
    pub kind: Option<KindWire>,
}

/// List organisations.
#[utoipa::path(
    operation_id = "listOrganisations",
    tag = "organisations",
    summary = "List organisations",
    description = "Every staff role. The programme and its partner organisations; `kind` keeps one kind; pages by `cursor`.",
    params(ListQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "A page of organisations", body = OrganisationPage),
        (status = 400, response = crate::problem::BadRequest),
        (status = 401, response = crate::problem::Unauthorized),
        (status = 403, response = crate::problem::Forbidden),
        (status = 503, response = crate::problem::Unavailable),
    ),
)]
#[get("/organisations")]
pub async fn list(
    state: web::Data<AppState>,
    auth: Authenticated,
    query: ApiQuery<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    permit(
        &state,
        &auth,
        Action::ListOrganisations,
        Resource::Service,
        "organisation",
        None,
    )
    .await?;
    let query = query.into_inner()?;
    let after = query
        .cursor
        .as_deref()
        .map(|c| parse_id("cursor", c))
        .transpose()?;
    let limit = limit(query.limit);
    let kind = query.kind.map(|k| k.0.as_str());
    let rows = state
        .db
        .run(move |conn| {
            identity::list_organisations(conn, kind, after.as_deref(), i64::from(limit) + 1)
        })
        .await?;
    let (rows, next_cursor) = page(rows, limit, |r| r.id.clone());
    let items = rows
        .into_iter()
        .map(OrganisationView::try_from)
        .collect::<Result<_, _>>()?;
    Ok(HttpResponse::Ok().json(OrganisationPage { items, next_cursor }))
}

/// A new organisation.
#[derive(Debug, Deserialize, Serialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateOrganisation {
    /// Name, unique.
    #[validate(length(min = 1, max = 200, message = "name must have 1 to 200 characters"))]
    #[schema(min_length = 1, max_length = 200, example = "ASE Seine-Saint-Denis")]
    pub name: String,
    /// Kind.
    pub kind: KindWire,
    /// INSEE département code.
    #[schema(pattern = "^([0-9]{2}|2[ABab]|9[78][0-9])$", example = "93")]
    #[validate(custom(function = "crate::wire::departement_code"))]
    pub departement_code: String,
    /// Bound by professional secrecy and contributing to child protection.
    pub shares_secrecy: bool,
}

fn known_departement(conn: &mut DbConnection, code: &str) -> Result<String, ApiError> {
    let code = DepartementCode::parse(code)
        .map_err(|e| ApiError::invalid_field("departement_code", "format", e.to_string()))?;
    territory::find_departement(conn, &code)?
        .map(|d| d.code)
        .ok_or_else(|| {
            ApiError::rule(
                "unknown-departement",
                "Unknown département",
                format!("no département has the code {code}"),
            )
        })
}

/// There is one programme organisation: it stays the programme, and no
/// partner becomes it (staff accounts hang on it).
fn check_programme_kind(
    conn: &mut DbConnection,
    current: Option<&str>,
    wanted: OrganisationKind,
) -> Result<(), ApiError> {
    let programme = OrganisationKind::Programme.as_str();
    match current {
        Some(kind) if kind == programme && wanted != OrganisationKind::Programme => {
            Err(ApiError::rule(
                "programme-kind-fixed",
                "Programme organisation",
                "the programme's own organisation stays of kind programme",
            ))
        }
        Some(kind) if kind == programme => Ok(()),
        _ if wanted == OrganisationKind::Programme
            && !identity::list_organisations(conn, Some(programme), None, 1)?.is_empty() =>
        {
            Err(ApiError::rule(
                "programme-exists",
                "Programme organisation",
                "there is one programme organisation already",
            ))
        }
        _ => Ok(()),
    }
}

fn name_taken(error: PersistenceError) -> ApiError {
    match error {
        PersistenceError::Constraint(_) => ApiError::conflict(
            "name-taken",
            "Name taken",
            "another organisation has this name",
        ),
        other => other.into(),
    }
}

/// Create an organisation.
#[utoipa::path(
    operation_id = "createOrganisation",
    tag = "organisations",
    summary = "Create an organisation",
    description = "Honours `Idempotency-Key`: a retry with the same key and body returns the first answer.",
    request_body(content = CreateOrganisation, content_type = "application/json"),
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe: the same key and body replay the first answer (1 to 255 visible ASCII characters)", pattern = "^[!-~]{1,255}$")),
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Created", body = OrganisationView,
         headers(("Location" = String, description = "The new resource"), ("ETag" = String, description = "Its version"))),
        (status = 400, response = crate::problem::BadRequest),
        (status = 401, response = crate::problem::Unauthorized),
        (status = 403, response = crate::problem::Forbidden),
        (status = 409, response = crate::problem::Conflict),
        (status = 413, response = crate::problem::PayloadTooLarge),
        (status = 415, response = crate::problem::UnsupportedMediaType),
        (status = 422, response = crate::problem::Unprocessable),
        (status = 503, response = crate::problem::Unavailable),
    ),
)]
#[post("/organisations")]
pub async fn create(
    state: web::Data<AppState>,
    auth: Authenticated,
    key: IdempotencyKey,
    body: ApiJson<CreateOrganisation>,
) -> Result<HttpResponse, ApiError> {
    permit(
        &state,
        &auth,
        Action::CreateOrganisation,
        Resource::Service,
        "organisation",
        None,
    )
    .await?;
    let body = body.into_inner()?;
    let name = text("name", &body.name)?;
    let digest = idempotency::digest(&body)?;
    let now = state.clock.now();
    let actor = auth.actor.clone();
    let ctx = auth.ctx.clone();
    idempotency::create(
        &state,
        &auth,
        key,
        Operation {
            name: "create_organisation",
            location: Some("/api/v1/organisations"),
            replay: Replay::Stored,
        },
        digest,
        move |conn| {
            check_programme_kind(conn, None, body.kind.0)?;
            let departement_code = known_departement(conn, &body.departement_code)?;
            let new = NewOrganisation {
                id: uuid::Uuid::now_v7().to_string(),
                name,
                kind: body.kind.0.as_str().to_owned(),
                departement_code,
                shares_secrecy: body.shares_secrecy,
            };
            let row = identity::insert_organisation(conn, &new, now).map_err(name_taken)?;
            let entry = audit::entry(
                Some(&actor),
                &ctx,
                "create_organisation",
                "organisation",
                Some(&row.id),
                Outcome::Success,
            );
            adosexo_persistence::audit::append(conn, &[entry], now)?;
            let version = row.version;
            let view = OrganisationView::try_from(row)?;
            Ok(Created {
                id: view.id.clone(),
                version,
                body: view,
                replay_body: None,
            })
        },
    )
    .await
}

/// Get an organisation.
#[utoipa::path(
    operation_id = "getOrganisation",
    tag = "organisations",
    summary = "Get an organisation",
    description = "Staff read any organisation; a partner reads its own only (404 for others).",
    params(("id" = String, Path, description = "Organisation id", pattern = "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The organisation", body = OrganisationView,
         headers(("ETag" = String, description = "Its version"))),
        (status = 400, response = crate::problem::BadRequest),
        (status = 401, response = crate::problem::Unauthorized),
        (status = 403, response = crate::problem::Forbidden),
        (status = 404, response = crate::problem::NotFound),
        (status = 503, response = crate::problem::Unavailable),
    ),
)]
#[get("/organisations/{id}")]
pub async fn get(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = parse_id("id", &id)?;
    permit(
        &state,
        &auth,
        Action::ReadOrganisation,
        Resource::Organisation { id: &id },
        "organisation",
        Some(&id),
    )
    .await?;
    let found = state
        .db
        .run(move |conn| identity::find_organisation(conn, &id))
        .await?;
    let row = found.ok_or_else(|| ApiError::not_found("no organisation with this id"))?;
    let version = row.version;
    Ok(versioned_json(
        StatusCode::OK,
        &OrganisationView::try_from(row)?,
        version,
    ))
}

/// Changes to an organisation (absent fields stay as they are).
#[derive(Debug, Deserialize, Serialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateOrganisation {
    /// New name.
    #[validate(length(min = 1, max = 200, message = "name must have 1 to 200 characters"))]
    #[schema(min_length = 1, max_length = 200)]
    pub name: Option<String>,
    /// New kind.
    pub kind: Option<KindWire>,
    /// New département.
    #[schema(pattern = "^([0-9]{2}|2[ABab]|9[78][0-9])$")]
    #[validate(custom(function = "crate::wire::departement_code"))]
    pub departement_code: Option<String>,
    /// New secrecy flag.
    pub shares_secrecy: Option<bool>,
    /// `active` or `disabled`.
    pub status: Option<StatusWire>,
}

/// Change an organisation (needs `If-Match`).
#[utoipa::path(
    operation_id = "updateOrganisation",
    tag = "organisations",
    summary = "Change an organisation",
    description = "Admins. Send only what changes: `name`, `kind`, `departement_code`, `shares_secrecy`, `status`. A name already taken is a 409 `name-taken`; the programme's kind cannot change (422 `programme-kind-fixed`). Needs `If-Match` (428 without it, 412 when stale). Audited.",
    params(
        ("id" = String, Path, description = "Organisation id", pattern = "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"),
        ("If-Match" = String, Header, description = "The ETag of the version read", pattern = "^\"v[0-9]{1,18}\"$", example = "\"v1\""),
    ),
    request_body(content = UpdateOrganisation, content_type = "application/json"),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The changed organisation", body = OrganisationView,
         headers(("ETag" = String, description = "Its new version"))),
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
#[patch("/organisations/{id}")]
pub async fn update(
    req: HttpRequest,
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<String>,
    body: ApiJson<UpdateOrganisation>,
) -> Result<HttpResponse, ApiError> {
    let id = parse_id("id", &id)?;
    permit(
        &state,
        &auth,
        Action::UpdateOrganisation,
        Resource::Organisation { id: &id },
        "organisation",
        Some(&id),
    )
    .await?;
    let body = body.into_inner()?;
    let name = body.name.as_deref().map(|n| text("name", n)).transpose()?;
    let expected = if_match(&req)?;
    let now = state.clock.now();
    let entry = audit::entry(
        Some(&auth.actor),
        &auth.ctx,
        "update_organisation",
        "organisation",
        Some(&id),
        Outcome::Success,
    );
    let row = state
        .db
        .transaction(move |conn| {
            let current = identity::find_organisation(conn, &id)?
                .ok_or_else(|| ApiError::not_found("no organisation with this id"))?;
            if let Some(kind) = &body.kind {
                check_programme_kind(conn, Some(&current.kind), kind.0)?;
            }
            let departement_code = body
                .departement_code
                .as_deref()
                .map(|c| known_departement(conn, c))
                .transpose()?;
            let changes = OrganisationChanges {
                name,
                kind: body.kind.map(|k| k.0.as_str().to_owned()),
                departement_code,
                shares_secrecy: body.shares_secrecy,
                status: body.status.map(|s| s.0.as_str().to_owned()),
            };
            let row = identity::update_organisation(conn, &id, expected, &changes, now)
                .map_err(name_taken)?
                .ok_or_else(ApiError::precondition_failed)?;
            adosexo_persistence::audit::append(conn, &[entry], now)?;
            Ok::<_, ApiError>(row)
        })
        .await?;
    let version = row.version;
    Ok(versioned_json(
        StatusCode::OK,
        &OrganisationView::try_from(row)?,
        version,
    ))
}
