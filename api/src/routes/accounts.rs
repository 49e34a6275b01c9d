//! Accounts of people (admin-managed; supervisors read).

use std::collections::BTreeSet;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, get, patch, post, web};
use adosexo_domain::DepartementCode;
use adosexo_domain::authz::{Action, Resource};
use adosexo_domain::identity::{
    AccountRuleError, Email, OrganisationKind, Roles, Status, check_account, check_self_change,
    parse_territory, territory_list,
};
use adosexo_persistence::identity::{self, AccountChanges, AccountRow, NewAccount};
use adosexo_persistence::{DbConnection, PersistenceError};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use crate::audit::{self, Outcome};
use crate::auth::{Authenticated, password};
use crate::extract::{ApiJson, ApiQuery, text};
use crate::guard::permit;
use crate::http_cache::{if_match, versioned_json};
use crate::idempotency::{self, Created, IdempotencyKey, Operation, Replay};
use crate::pagination::{limit, page, parse_id};
use crate::problem::ApiError;
use crate::state::AppState;
use crate::wire::{DepartementCodeWire, RoleWire, StatusWire};
use crate::wire::{SecretString, instant};

/// An account (never its password or TOTP secret).
#[derive(Debug, Serialize, ToSchema)]
pub struct AccountView {
    /// Id (UUID v7).
    pub id: String,
    /// E-mail address (sign-in identifier), lower case.
    pub email: String,
    /// Name shown to others.
    pub display_name: String,
    /// Organisation.
    pub organisation_id: String,
    /// Roles.
    pub roles: Vec<RoleWire>,
    /// Territory (coordinators and regional referents): département codes.
    pub territory: Vec<String>,
    /// `active` or `disabled`.
    pub status: StatusWire,
    /// Whether a password is set.
    pub has_password: bool,
    /// Whether TOTP is enrolled.
    pub totp_enabled: bool,
    /// Version, as in the `ETag`.
    pub version: i64,
    /// Created at (UTC).
    pub created_at: DateTime<Utc>,
    /// Last changed at (UTC).
    pub updated_at: DateTime<Utc>,
}

impl TryFrom<AccountRow> for AccountView {
    type Error = ApiError;
    fn try_from(row: AccountRow) -> Result<Self, ApiError> {
        let stored =
            |what: &str| ApiError::internal(format!("stored {what} of account {}", row.id));
        let roles = Roles::parse_list(&row.roles).map_err(|_| stored("roles"))?;
        let territory = parse_territory(&row.territory).map_err(|_| stored("territory"))?;
        Ok(Self {
            status: StatusWire(row.status.parse().map_err(|_| stored("status"))?),
            roles: roles.iter().map(RoleWire).collect(),
            territory: territory.iter().map(|d| d.to_string()).collect(),
            has_password: row.password_hash.is_some(),
            id: row.id,
            email: row.email,
            display_name: row.display_name,
            organisation_id: row.organisation_id,
            totp_enabled: row.totp_enabled,
            version: row.version,
            created_at: instant(row.created_at),
            updated_at: instant(row.updated_at),
        })
    }
}

/// A page of accounts.
#[derive(Debug, Serialize, ToSchema)]
pub struct AccountPage {
    /// In creation order.
    pub items: Vec<AccountView>,
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
    /// Only accounts of this organisation.
    #[param(
        pattern = "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
    )]
    pub organisation_id: Option<String>,
}

/// List accounts.
#[utoipa::path(
    operation_id = "listAccounts",
    tag = "accounts",
    summary = "List accounts",
    description = "Admins and the supervisor. Pages of at most `limit`; pass `next_cursor` as `cursor` for the next one. `organisation_id` keeps one organisation's accounts. Audited.",
    params(ListQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "A page of accounts", body = AccountPage),
        (status = 400, response = crate::problem::BadRequest),
        (status = 401, response = crate::problem::Unauthorized),
        (status = 403, response = crate::problem::Forbidden),
        (status = 503, response = crate::problem::Unavailable),
    ),
)]
#[get("/accounts")]
pub async fn list(
    state: web::Data<AppState>,
    auth: Authenticated,
    query: ApiQuery<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    permit(
        &state,
        &auth,
        Action::ListAccounts,
        Resource::Service,
        "account",
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
            identity::list_accounts(
                conn,
                organisation.as_deref(),
                after.as_deref(),
                i64::from(limit) + 1,
            )
        })
        .await?;
    let (rows, next_cursor) = page(rows, limit, |r| r.id.clone());
    let entry = audit::list_entry(
        Some(&auth.actor),
        &auth.ctx,
        "list_accounts",
        "account",
        rows.iter().map(|r| &r.id),
    );
    audit::record(&state, vec![entry]).await?;
    let items = rows
        .into_iter()
        .map(AccountView::try_from)
        .collect::<Result<_, _>>()?;
    Ok(HttpResponse::Ok().json(AccountPage { items, next_cursor }))
}

/// A new account.
#[derive(Debug, Deserialize, Serialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateAccount {
    /// E-mail address, the sign-in identifier (unique).
    #[validate(length(min = 3, max = 254, message = "email must have 3 to 254 characters"))]
    #[schema(
        min_length = 3,
        max_length = 254,
        pattern = "^[^@\\s\\x00-\\x1f\\x7f-\\x9f]+@[^@\\s\\x00-\\x1f\\x7f-\\x9f.][^@\\s\\x00-\\x1f\\x7f-\\x9f]*\\.[^@\\s\\x00-\\x1f\\x7f-\\x9f.]+$",
        example = "coordinator@adosexo.example"
    )]
    pub email: String,
    /// Name shown to others.
    #[validate(length(
        min = 1,
        max = 200,
        message = "display_name must have 1 to 200 characters"
    ))]
    #[schema(min_length = 1, max_length = 200)]
    pub display_name: String,
    /// Organisation id.
    #[schema(
        pattern = "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
    )]
    #[validate(custom(function = "crate::wire::uuid_text"))]
    pub organisation_id: String,
    /// Roles (at least one; staff roles are not combined with partner or analyst).
    #[schema(min_items = 1, max_items = 6)]
    #[validate(length(min = 1, max = 6, message = "roles has 1 to 6 entries"))]
    pub roles: Vec<RoleWire>,
    /// Territory of coordinators and regional referents: département codes.
    #[serde(default)]
    #[validate(length(max = 101, message = "territory has at most 101 départements"))]
    #[validate(custom(function = "crate::wire::departement_codes"))]
    #[schema(max_items = 101)]
    pub territory: Vec<DepartementCodeWire>,
    /// Initial password (at least 12 characters); without it the account cannot sign in yet.
    #[schema(value_type = Option<String>, format = Password, min_length = 12, max_length = 256)]
    pub password: Option<SecretString>,
}

/// Loads the organisation's kind, parses roles and territory, and checks the rules.
fn checked_profile(
    conn: &mut DbConnection,
    organisation_id: &str,
    roles: &[RoleWire],
    territory: &[String],
) -> Result<(Roles, BTreeSet<DepartementCode>), ApiError> {
    let roles = Roles::new(roles.iter().map(|r| r.0))
        .map_err(|e| ApiError::rule("incompatible-roles", "Incompatible roles", e.to_string()))?;
    let mut codes = BTreeSet::new();
    for code in territory {
        // The format was checked with the body; existence is reference data.
        let code = DepartementCode::parse(code)
            .map_err(|e| ApiError::invalid_field("territory", "format", e.to_string()))?;
        if adosexo_persistence::territory::find_departement(conn, &code)?.is_none() {
            return Err(ApiError::rule(
                "unknown-departement",
                "Unknown département",
                format!("territory: no département has the code {code}"),
            ));
        }
        codes.insert(code);
    }
    let organisation = identity::find_organisation(conn, organisation_id)?.ok_or_else(|| {
        ApiError::rule(
            "unknown-organisation",
            "Unknown organisation",
            "no organisation has this id",
        )
    })?;
    let kind: OrganisationKind = organisation
        .kind
        .parse()
        .map_err(|e| ApiError::internal(format!("stored kind: {e}")))?;
    check_account(&roles, kind, &codes).map_err(rule_error)?;
    Ok((roles, codes))
}

fn rule_error(error: AccountRuleError) -> ApiError {
    ApiError::rule(error.tag(), "Account rule", error.to_string())
}

fn email_taken(error: PersistenceError) -> ApiError {
    match error {
        PersistenceError::Constraint(_) => ApiError::conflict(
            "email-taken",
            "E-mail taken",
            "another account has this e-mail address",
        ),
        other => other.into(),
    }
}

async fn hashed_password(password: Option<&SecretString>) -> Result<Option<String>, ApiError> {
    let Some(p) = password else {
        return Ok(None);
    };
    password::check_strength(p.expose())
        .map_err(|m| ApiError::invalid_field("password", "length", m))?;
    password::hash_off_worker(p.expose().to_owned())
        .await
        .map(Some)
        .map_err(ApiError::internal)
}

/// Create an account.
#[utoipa::path(
    operation_id = "createAccount",
    tag = "accounts",
    summary = "Create an account",
    description = "Rules (422, `type` names the rule): staff roles only in the programme's organisation \
                   (`staff-outside-programme`), partner accounts only in partner organisations \
                   (`partner-inside-programme`), a territory for coordinators and regional referents only \
                   (`territory-required`, `territory-not-applicable`). Honours `Idempotency-Key`.",
    request_body(content = CreateAccount, content_type = "application/json"),
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe: the same key and body replay the first answer (1 to 255 visible ASCII characters)", pattern = "^[!-~]{1,255}$")),
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Created", body = AccountView,
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
#[post("/accounts")]
pub async fn create(
    state: web::Data<AppState>,
    auth: Authenticated,
    key: IdempotencyKey,
    body: ApiJson<CreateAccount>,
) -> Result<HttpResponse, ApiError> {
    permit(
        &state,
        &auth,
        Action::CreateAccount,
        Resource::Service,
        "account",
        None,
    )
    .await?;
    let body = body.into_inner()?;
    let email = Email::parse(&body.email)
        .map_err(|e| ApiError::invalid_field("email", "format", e.to_string()))?;
    let organisation_id = parse_id("organisation_id", &body.organisation_id)?;
    let display_name = text("display_name", &body.display_name)?;
    let digest = idempotency::digest(&body)?;
    let password_hash = hashed_password(body.password.as_ref()).await?;
    let now = state.clock.now();
    let (actor, ctx) = (auth.actor.clone(), auth.ctx.clone());
    idempotency::create(
        &state,
        &auth,
        key,
        Operation {
            name: "create_account",
            location: Some("/api/v1/accounts"),
            replay: Replay::Stored,
        },
        digest,
        move |conn| {
            let territory: Vec<String> = body.territory.iter().map(|c| c.0.clone()).collect();
            let (roles, territory) =
                checked_profile(conn, &organisation_id, &body.roles, &territory)?;
            let new = NewAccount {
                id: uuid::Uuid::now_v7().to_string(),
                email: email.as_str().to_owned(),
                display_name,
                organisation_id,
                roles: roles.to_list(),
                territory: territory_list(&territory),
                password_hash,
            };
            let row = identity::insert_account(conn, &new, now).map_err(email_taken)?;
            let entry = audit::entry(
                Some(&actor),
                &ctx,
                "create_account",
                "account",
                Some(&row.id),
                Outcome::Success,
            );
            adosexo_persistence::audit::append(conn, &[entry], now)?;
            let version = row.version;
            let view = AccountView::try_from(row)?;
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

/// Get an account.
#[utoipa::path(
    operation_id = "getAccount",
    tag = "accounts",
    summary = "Get an account",
    description = "Admins and the supervisor. The account's roles, territory and status; `ETag` is its version, for `updateAccount`. Audited.",
    params(("id" = String, Path, description = "Account id", pattern = "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The account", body = AccountView, headers(("ETag" = String, description = "Its version"))),
        (status = 400, response = crate::problem::BadRequest),
        (status = 401, response = crate::problem::Unauthorized),
        (status = 403, response = crate::problem::Forbidden),
        (status = 404, response = crate::problem::NotFound),
        (status = 503, response = crate::problem::Unavailable),
    ),
)]
#[get("/accounts/{id}")]
pub async fn get(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = parse_id("id", &id)?;
    permit(
        &state,
        &auth,
        Action::ReadAccount,
        Resource::Service,
        "account",
        Some(&id),
    )
    .await?;
    let entry = audit::entry(
        Some(&auth.actor),
        &auth.ctx,
        "read_account",
        "account",
        Some(&id),
        Outcome::Success,
    );
    let row = state
        .db
        .run(move |conn| identity::find_account(conn, &id))
        .await?
        .ok_or_else(|| ApiError::not_found("no account with this id"))?;
    audit::record(&state, vec![entry]).await?;
    let version = row.version;
    Ok(versioned_json(
        StatusCode::OK,
        &AccountView::try_from(row)?,
        version,
    ))
}

/// Changes to an account (absent fields stay as they are).
#[derive(Debug, Deserialize, Serialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateAccount {
    /// New name.
    #[validate(length(
        min = 1,
        max = 200,
        message = "display_name must have 1 to 200 characters"
    ))]
    #[schema(min_length = 1, max_length = 200)]
    pub display_name: Option<String>,
    /// New roles.
    #[schema(min_items = 1, max_items = 6)]
    #[validate(length(min = 1, max = 6, message = "roles has 1 to 6 entries"))]
    pub roles: Option<Vec<RoleWire>>,
    /// New territory.
    #[validate(length(max = 101, message = "territory has at most 101 départements"))]
    #[validate(custom(function = "crate::wire::departement_codes"))]
    #[schema(max_items = 101)]
    pub territory: Option<Vec<DepartementCodeWire>>,
    /// New password (at least 12 characters); ends the account's sessions.
    #[schema(value_type = Option<String>, format = Password, min_length = 12, max_length = 256)]
    pub password: Option<SecretString>,
}

/// Change an account (needs `If-Match`).
#[utoipa::path(
    operation_id = "updateAccount",
    tag = "accounts",
    summary = "Change an account",
    description = "Admins. Send only what changes: `display_name`, `password`, `roles`, `territory`. The rules between roles, organisation and territory answer 422 naming the rule (`incompatible-roles`, `territory-required`, `cannot-drop-own-admin`, …). Needs `If-Match` (428 without it, 412 when stale). Audited.",
    params(
        ("id" = String, Path, description = "Account id", pattern = "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"),
        ("If-Match" = String, Header, description = "The ETag of the version read", pattern = "^\"v[0-9]{1,18}\"$", example = "\"v1\""),
    ),
    request_body(content = UpdateAccount, content_type = "application/json"),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The changed account", body = AccountView, headers(("ETag" = String, description = "Its new version"))),
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
#[patch("/accounts/{id}")]
pub async fn update(
    req: HttpRequest,
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<String>,
    body: ApiJson<UpdateAccount>,
) -> Result<HttpResponse, ApiError> {
    let id = parse_id("id", &id)?;
    permit(
        &state,
        &auth,
        Action::UpdateAccount,
        Resource::Service,
        "account",
        Some(&id),
    )
    .await?;
    let body = body.into_inner()?;
    let expected = if_match(&req)?;
    let display_name = body
        .display_name
        .as_deref()
        .map(|name| text("display_name", name))
        .transpose()?;
    let password_hash = hashed_password(body.password.as_ref()).await?;
    let now = state.clock.now();
    let entry = audit::entry(
        Some(&auth.actor),
        &auth.ctx,
        "update_account",
        "account",
        Some(&id),
        Outcome::Success,
    );
    let row = state
        .db
        .transaction({
            let (actor, session_id) = (auth.actor.clone(), auth.session_id.clone());
            move |conn| {
                let current = identity::find_account(conn, &id)?
                    .ok_or_else(|| ApiError::not_found("no account with this id"))?;
                let roles: Vec<RoleWire> = match &body.roles {
                    Some(roles) => roles.clone(),
                    None => Roles::parse_list(&current.roles)
                        .map_err(|e| ApiError::internal(e.to_string()))?
                        .iter()
                        .map(RoleWire)
                        .collect(),
                };
                let territory: Vec<String> = match &body.territory {
                    Some(t) => t.iter().map(|c| c.0.clone()).collect(),
                    None => current
                        .territory
                        .split(',')
                        .filter(|s| !s.is_empty())
                        .map(str::to_owned)
                        .collect(),
                };
                let (roles, territory) =
                    checked_profile(conn, &current.organisation_id, &roles, &territory)?;
                let changes = AccountChanges {
                    display_name,
                    roles: Some(roles.to_list()),
                    territory: Some(territory_list(&territory)),
                    password_hash: password_hash.clone().map(Some),
                    ..Default::default()
                };
                let row = identity::update_account(conn, &id, Some(expected), &changes, now)?
                    .ok_or_else(ApiError::precondition_failed)?;
                check_self_change(&actor, &id, Some(&roles), false).map_err(|e| {
                    ApiError::rule(e.tag(), "Change of one's own account", e.to_string())
                })?;
                if password_hash.is_some() {
                    // Other sessions end; the one changing its own password goes on.
                    let keep = (actor.id == id).then_some(session_id.as_str());
                    identity::revoke_sessions_of(conn, &id, keep, "password changed", now)?;
                }
                adosexo_persistence::audit::append(conn, &[entry], now)?;
                Ok::<_, ApiError>(row)
            }
        })
        .await;
    // Roles, territory or password changed: the next request reads them.
    state.sessions.invalidate_all();
    let row = row?;
    let version = row.version;
    Ok(versioned_json(
        StatusCode::OK,
        &AccountView::try_from(row)?,
        version,
    ))
}

async fn change_status(
    req: HttpRequest,
    state: web::Data<AppState>,
    auth: Authenticated,
    id: &str,
    status: Status,
) -> Result<HttpResponse, ApiError> {
    let id = parse_id("id", id)?;
    permit(
        &state,
        &auth,
        Action::ChangeAccountStatus,
        Resource::Service,
        "account",
        Some(&id),
    )
    .await?;
    check_self_change(&auth.actor, &id, None, status == Status::Disabled)
        .map_err(|e| ApiError::rule(e.tag(), "Change of one's own account", e.to_string()))?;
    let expected = if_match(&req)?;
    let now = state.clock.now();
    let action = if status == Status::Disabled {
        "disable_account"
    } else {
        "enable_account"
    };
    let entry = audit::entry(
        Some(&auth.actor),
        &auth.ctx,
        action,
        "account",
        Some(&id),
        Outcome::Success,
    );
    let row = state
        .db
        .transaction(move |conn| {
            if identity::find_account(conn, &id)?.is_none() {
                return Err(ApiError::not_found("no account with this id"));
            }
            let changes = AccountChanges {
                status: Some(status.as_str().to_owned()),
                ..Default::default()
            };
            let row = identity::update_account(conn, &id, Some(expected), &changes, now)?
                .ok_or_else(ApiError::precondition_failed)?;
            if status == Status::Disabled {
                identity::revoke_sessions_of(conn, &id, None, "account disabled", now)?;
            }
            adosexo_persistence::audit::append(conn, &[entry], now)?;
            Ok::<_, ApiError>(row)
        })
        .await;
    state.sessions.invalidate_all();
    let row = row?;
    let version = row.version;
    Ok(versioned_json(
        StatusCode::OK,
        &AccountView::try_from(row)?,
        version,
    ))
}

/// Disable an account: its sessions end at once (needs `If-Match`).
#[utoipa::path(
    operation_id = "disableAccount",
    tag = "accounts",
    summary = "Disable an account",
    description = "The account can no longer sign in; its access and refresh tokens are refused at once.",
    params(
        ("id" = String, Path, description = "Account id", pattern = "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"),
        ("If-Match" = String, Header, description = "The ETag of the version read", pattern = "^\"v[0-9]{1,18}\"$", example = "\"v1\""),
    ),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The disabled account", body = AccountView, headers(("ETag" = String, description = "Its new version"))),
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
#[post("/accounts/{id}/disable")]
pub async fn disable(
    req: HttpRequest,
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    change_status(req, state, auth, &id, Status::Disabled).await
}

/// Enable a disabled account again (needs `If-Match`).
#[utoipa::path(
    operation_id = "enableAccount",
    tag = "accounts",
    summary = "Enable an account",
    description = "Admins. A disabled account may sign in again. Needs `If-Match` with the ETag read (428 without it, 412 when the account changed since).",
    params(
        ("id" = String, Path, description = "Account id", pattern = "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"),
        ("If-Match" = String, Header, description = "The ETag of the version read", pattern = "^\"v[0-9]{1,18}\"$", example = "\"v1\""),
    ),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The enabled account", body = AccountView, headers(("ETag" = String, description = "Its new version"))),
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
#[post("/accounts/{id}/enable")]
pub async fn enable(
    req: HttpRequest,
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    change_status(req, state, auth, &id, Status::Active).await
}
