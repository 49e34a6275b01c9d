//! Partner app clients (client credentials), created by admins; the secret
//! is shown once.

use std::collections::BTreeSet;

use actix_web::{HttpResponse, get, post, web};
use adosexo_domain::authz::{Action, Resource};
use adosexo_domain::identity::{OrganisationKind, Scope};
use adosexo_persistence::identity::{self, ClientRow};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use crate::audit::{self, Outcome};
use crate::auth::Authenticated;
use crate::auth::secrets::{digest, new_secret};
use crate::extract::{ApiJson, ApiQuery, text};
use crate::guard::permit;
use crate::idempotency::{self, Created, IdempotencyKey, Operation, Replay};
use crate::pagination::{limit, page, parse_id};
use crate::problem::ApiError;
use crate::state::AppState;
use crate::wire::instant;
use crate::wire::{ScopeWire, StatusWire};

/// A partner app client.
#[derive(Debug, Serialize, ToSchema)]
pub struct ClientView {
    /// The client id (for `client_credentials`).
    pub id: String,
    /// Name of the app.
    pub name: String,
    /// The partner organisation it acts for.
    pub organisation_id: String,
    /// What it may do.
    pub scopes: Vec<ScopeWire>,
    /// `active` or `disabled` (revoked).
    pub status: StatusWire,
    /// Created at (UTC).
    pub created_at: DateTime<Utc>,
    /// The secret: only in the answer to its creation, never again.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<String>,
}

impl TryFrom<ClientRow> for ClientView {
    type Error = ApiError;
    fn try_from(row: ClientRow) -> Result<Self, ApiError> {
        let stored = || ApiError::internal(format!("stored client {}", row.id));
        let scopes = row
            .scopes
            .split(' ')
            .filter(|s| !s.is_empty())
            .map(|s| s.parse().map(ScopeWire))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|_| stored())?;
        Ok(Self {
            status: StatusWire(row.status.parse().map_err(|_| stored())?),
            scopes,
            id: row.id,
            name: row.name,
            organisation_id: row.organisation_id,
            created_at: instant(row.created_at),
            client_secret: None,
        })
    }
}

/// A page of clients.
#[derive(Debug, Serialize, ToSchema)]
pub struct ClientPage {
    /// In creation order.
    pub items: Vec<ClientView>,
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
    /// Only clients of this organisation.
    #[param(
        pattern = "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
    )]
    pub organisation_id: Option<String>,
}

/// List partner app clients.
#[utoipa::path(
    operation_id = "listClients",
    tag = "clients",
    summary = "List partner app clients",
    description = "Admins and the supervisor. The partner apps with their organisation, scopes and status, never their secrets. Pages by `cursor`; `organisation_id` keeps one partner's apps.",
    params(ListQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "A page of clients", body = ClientPage),
        (status = 400, response = crate::problem::BadRequest),
        (status = 401, response = crate::problem::Unauthorized),
        (status = 403, response = crate::problem::Forbidden),
        (status = 503, response = crate::problem::Unavailable),
    ),
)]
#[get("/clients")]
pub async fn list(
    state: web::Data<AppState>,
    auth: Authenticated,
    query: ApiQuery<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    permit(
        &state,
        &auth,
        Action::ListClients,
        Resource::Service,
        "client",
        None,
    )
    .await?;
    let query = query.into_inner()?;
    let after = query
        .cursor
        .as_deref()
        .map(|c| parse_id("cursor", c))
        .transpose()?;
    let organisation = query
        .organisation_id
        .as_deref()
        .map(|c| parse_id("organisation_id", c))
        .transpose()?;
    let limit = limit(query.limit);
    let rows = state
        .db
        .run(move |conn| {
            identity::list_clients(
                conn,
                organisation.as_deref(),
                after.as_deref(),
                i64::from(limit) + 1,
            )
        })
        .await?;
    let (rows, next_cursor) = page(rows, limit, |r| r.id.clone());
    let items = rows
        .into_iter()
        .map(ClientView::try_from)
        .collect::<Result<_, _>>()?;
    Ok(HttpResponse::Ok().json(ClientPage { items, next_cursor }))
}

/// A new partner app client.
#[derive(Debug, Deserialize, Serialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateClient {
    /// Name of the app.
    #[validate(length(min = 1, max = 200, message = "name must have 1 to 200 characters"))]
    #[schema(min_length = 1, max_length = 200, example = "ASE 93 referral app")]
    pub name: String,
    /// The partner organisation it acts for.
    #[schema(
        pattern = "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
    )]
    #[validate(custom(function = "crate::wire::uuid_text"))]
    pub organisation_id: String,
    /// What it may do.
    #[schema(min_items = 1, max_items = 7)]
    #[validate(length(min = 1, max = 7, message = "scopes has 1 to 7 entries"))]
    pub scopes: Vec<ScopeWire>,
}

/// Create a partner app client; the answer holds its secret, shown once.
#[utoipa::path(
    operation_id = "createClient",
    tag = "clients",
    summary = "Create a partner app client",
    description = "The answer holds `client_secret`, which is stored hashed and never shown again. \
                   A replay with the same `Idempotency-Key` returns the client without its secret.",
    request_body(content = CreateClient, content_type = "application/json"),
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe: the same key and body replay the first answer (1 to 255 visible ASCII characters)", pattern = "^[!-~]{1,255}$")),
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Created, with its secret", body = ClientView,
         headers(("Location" = String, description = "The new resource"))),
        (status = 400, response = crate::problem::BadRequest),
        (status = 401, response = crate::problem::Unauthorized),
        (status = 403, response = crate::problem::Forbidden),
        (status = 413, response = crate::problem::PayloadTooLarge),
        (status = 415, response = crate::problem::UnsupportedMediaType),
        (status = 422, response = crate::problem::Unprocessable),
        (status = 503, response = crate::problem::Unavailable),
    ),
)]
#[post("/clients")]
pub async fn create(
    state: web::Data<AppState>,
    auth: Authenticated,
    key: IdempotencyKey,
    body: ApiJson<CreateClient>,
) -> Result<HttpResponse, ApiError> {
    permit(
        &state,
        &auth,
        Action::CreateClient,
        Resource::Service,
        "client",
        None,
    )
    .await?;
    let body = body.into_inner()?;
    let name = text("name", &body.name)?;
    let organisation_id = parse_id("organisation_id", &body.organisation_id)?;
    let request_digest = idempotency::digest(&body)?;
    let secret = new_secret().map_err(ApiError::internal)?;
    let now = state.clock.now();
    let (actor, ctx) = (auth.actor.clone(), auth.ctx.clone());
    idempotency::create(
        &state,
        &auth,
        key,
        Operation {
            name: "create_client",
            location: Some("/api/v1/clients"),
            replay: Replay::Stored,
        },
        request_digest,
        move |conn| {
            let organisation =
                identity::find_organisation(conn, &organisation_id)?.ok_or_else(|| {
                    ApiError::rule(
                        "unknown-organisation",
                        "Unknown organisation",
                        "no organisation has this id",
                    )
                })?;
            if organisation.kind == OrganisationKind::Programme.as_str() {
                return Err(ApiError::rule(
                    "client-inside-programme",
                    "Client of the programme",
                    "partner app clients act for partner organisations, not the programme",
                ));
            }
            let scopes: BTreeSet<Scope> = body.scopes.iter().map(|s| s.0).collect();
            let scopes = scopes
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(" ");
            let id = uuid::Uuid::now_v7().to_string();
            let row = identity::insert_client(
                conn,
                &id,
                &name,
                &organisation_id,
                &digest(&secret),
                &scopes,
                now,
            )?;
            let entry = audit::entry(
                Some(&actor),
                &ctx,
                "create_client",
                "client",
                Some(&row.id),
                Outcome::Success,
            );
            adosexo_persistence::audit::append(conn, &[entry], now)?;
            let view = ClientView::try_from(row)?;
            let replay =
                serde_json::to_value(&view).map_err(|e| ApiError::internal(e.to_string()))?;
            Ok(Created {
                id: view.id.clone(),
                version: 1,
                body: ClientView {
                    client_secret: Some(secret),
                    ..view
                },
                replay_body: Some(replay),
            })
        },
    )
    .await
}

/// Revoke a client: it can no longer get tokens and its tokens stop working at once.
#[utoipa::path(
    operation_id = "revokeClient",
    tag = "clients",
    summary = "Revoke a partner app client",
    description = "Admins. The app can no longer get tokens, and the tokens it holds stop working at once. Audited.",
    params(("id" = String, Path, description = "Client id", pattern = "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The revoked client", body = ClientView),
        (status = 400, response = crate::problem::BadRequest),
        (status = 401, response = crate::problem::Unauthorized),
        (status = 403, response = crate::problem::Forbidden),
        (status = 404, response = crate::problem::NotFound),
        (status = 503, response = crate::problem::Unavailable),
    ),
)]
#[post("/clients/{id}/revoke")]
pub async fn revoke(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = parse_id("id", &id)?;
    permit(
        &state,
        &auth,
        Action::RevokeClient,
        Resource::Service,
        "client",
        Some(&id),
    )
    .await?;
    let now = state.clock.now();
    let entry = audit::entry(
        Some(&auth.actor),
        &auth.ctx,
        "revoke_client",
        "client",
        Some(&id),
        Outcome::Success,
    );
    let row = state
        .db
        .transaction(move |conn| {
            if !identity::revoke_client(conn, &id, now)? {
                return Err(ApiError::not_found("no client with this id"));
            }
            identity::revoke_sessions_of(conn, &id, None, "client revoked", now)?;
            adosexo_persistence::audit::append(conn, &[entry], now)?;
            identity::find_client(conn, &id)?
                .ok_or_else(|| ApiError::not_found("no client with this id"))
        })
        .await;
    state.sessions.invalidate_all();
    let row = row?;
    Ok(HttpResponse::Ok().json(ClientView::try_from(row)?))
}
