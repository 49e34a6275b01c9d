//! Managing the public directory and the team's contacts (admins).

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, delete, get, post, put, web};
use adosexo_domain::DepartementCode;
use adosexo_domain::authz::{Action, Resource};
use adosexo_domain::public::{CoverageError, NATIONAL, check_coverage, search_key};
use adosexo_persistence::DbConnection;
use adosexo_persistence::public::{self, ContactRow, DirectoryRow};
use adosexo_persistence::territory;
use adosexo_persistence::time::to_db;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use validator::Validate;

use super::public::{DirectoryEntryView, entry_view};
use crate::audit::{self, Outcome};
use crate::auth::Authenticated;
use crate::extract::ApiJson;
use crate::guard::permit;
use crate::http_cache::{if_match, versioned_json};
use crate::idempotency::{self, Created, IdempotencyKey, Operation, Replay};
use crate::pagination::parse_id;
use crate::problem::ApiError;
use crate::state::AppState;
use crate::wire::{DepartementCodeWire, DirectoryCategoryWire};

/// A directory entry as an admin writes it.
#[derive(Debug, Deserialize, Serialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DirectoryEntryInput {
    /// Name of the service or professional.
    #[validate(length(min = 1, max = 200, message = "name must have 1 to 200 characters"))]
    #[schema(
        min_length = 1,
        max_length = 200,
        example = "CIDFF de Seine-Saint-Denis"
    )]
    pub name: String,
    /// Organisation.
    #[validate(length(
        min = 1,
        max = 200,
        message = "organisation must have 1 to 200 characters"
    ))]
    #[schema(min_length = 1, max_length = 200)]
    pub organisation: Option<String>,
    /// Category.
    pub category: DirectoryCategoryWire,
    /// Serves the whole country (then no `departements`).
    #[serde(default)]
    pub national: bool,
    /// Départements served (1 to 101 unless national).
    #[validate(length(max = 101, message = "departements has at most 101 entries"))]
    #[validate(custom(function = "crate::wire::departement_codes"))]
    #[serde(default)]
    #[schema(max_items = 101)]
    pub departements: Vec<DepartementCodeWire>,
    /// Address.
    #[validate(length(min = 1, max = 300, message = "address must have 1 to 300 characters"))]
    #[schema(min_length = 1, max_length = 300)]
    pub address: Option<String>,
    /// Phone.
    #[validate(length(min = 1, max = 40, message = "phone must have 1 to 40 characters"))]
    #[schema(min_length = 1, max_length = 40, example = "01 48 36 99 02")]
    pub phone: Option<String>,
    /// E-mail.
    #[validate(email(message = "email is an e-mail address"))]
    #[validate(length(max = 254, message = "email has at most 254 characters"))]
    #[schema(format = "email", max_length = 254)]
    pub email: Option<String>,
    /// Website (https).
    #[validate(custom(function = "crate::wire::https_url"))]
    #[validate(length(max = 500, message = "website has at most 500 characters"))]
    #[schema(
        pattern = "^https://[A-Za-z0-9.-]+(:[0-9]{1,5})?([/?#][!-~]*)?$",
        max_length = 500
    )]
    pub website: Option<String>,
    /// When the team last checked it.
    pub last_verified: Option<NaiveDate>,
}

/// The stored row for `input`, with its search key (name, organisation,
/// address and the names of the départements served).
fn row_of(
    conn: &mut DbConnection,
    id: &str,
    input: DirectoryEntryInput,
    version: i64,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<DirectoryRow, ApiError> {
    check_coverage(input.national, input.departements.len()).map_err(|e| {
        let code = match e {
            CoverageError::NationalWithDepartements => "national",
            CoverageError::NoCoverage => "required",
        };
        ApiError::invalid_value("departements", code, e.to_string())
    })?;
    let mut codes = Vec::new();
    let mut names = Vec::new();
    for (index, code) in input.departements.iter().enumerate() {
        let parsed = DepartementCode::parse(&code.0).map_err(|e| {
            ApiError::invalid_field(&format!("departements[{index}]"), "format", e.to_string())
        })?;
        let known = territory::find_departement(conn, &parsed)?.ok_or_else(|| {
            ApiError::invalid_value(
                &format!("departements[{index}]"),
                "unknown",
                format!("no département has the code {parsed}"),
            )
        })?;
        if !codes.contains(&known.code) {
            names.push(known.name);
            codes.push(known.code);
        }
    }
    let text = [
        Some(input.name.as_str()),
        input.organisation.as_deref(),
        input.address.as_deref(),
        Some(&names.join(" ")),
        Some(&codes.join(" ")),
    ]
    .into_iter()
    .flatten()
    .collect::<Vec<_>>()
    .join(" ");
    Ok(DirectoryRow {
        id: id.to_owned(),
        search_key: search_key(&text),
        name: input.name,
        organisation: input.organisation,
        category: input.category.0.as_str().to_owned(),
        national: input.national,
        departements: codes.join(","),
        address: input.address,
        phone: input.phone,
        email: input.email,
        website: input.website,
        last_verified: input
            .last_verified
            .map(|d| d.format("%Y-%m-%d").to_string()),
        version,
        created_at: to_db(now),
        updated_at: to_db(now),
    })
}

/// Add a directory entry.
#[utoipa::path(
    operation_id = "createDirectoryEntry",
    tag = "public",
    summary = "Add a directory entry",
    description = "Admins. A service of the public directory (read by anyone with `searchDirectory`): national, or for 1 to 101 départements. Honours `Idempotency-Key` (a retry after the entry was deleted is a 410). Audited.",
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe: the same key and body replay the first answer (1 to 255 visible ASCII characters)", pattern = "^[!-~]{1,255}$")),
    request_body(content = DirectoryEntryInput, content_type = "application/json"),
    security(("bearer" = [])),
    responses(
        (status = 201, description = "The entry", body = DirectoryEntryView, headers(("ETag" = String, description = "Its version"))),
        (status = 400, response = crate::problem::BadRequest),
        (status = 401, response = crate::problem::Unauthorized),
        (status = 403, response = crate::problem::Forbidden),
        (status = 410, response = crate::problem::Gone),
        (status = 413, response = crate::problem::PayloadTooLarge),
        (status = 415, response = crate::problem::UnsupportedMediaType),
        (status = 422, response = crate::problem::Unprocessable),
        (status = 503, response = crate::problem::Unavailable),
    ),
)]
#[post("/directory")]
pub async fn create(
    state: web::Data<AppState>,
    auth: Authenticated,
    key: IdempotencyKey,
    body: ApiJson<DirectoryEntryInput>,
) -> Result<HttpResponse, ApiError> {
    permit(
        &state,
        &auth,
        Action::ManageDirectory,
        Resource::Service,
        "directory_entry",
        None,
    )
    .await?;
    let body = body.into_inner()?;
    let digest = idempotency::digest(&body)?;
    let now = state.clock.now();
    let id = uuid::Uuid::now_v7().to_string();
    let entry = audit::entry(
        Some(&auth.actor),
        &auth.ctx,
        "create_directory_entry",
        "directory_entry",
        Some(&id),
        Outcome::Success,
    );
    idempotency::create(
        &state,
        &auth,
        key,
        Operation {
            name: "create_directory_entry",
            location: Some("/api/v1/directory"),
            replay: Replay::StoredWhile(public::entry_exists),
        },
        digest,
        move |conn| {
            let row = row_of(conn, &id, body, 1, now)?;
            public::insert_entry(conn, &row)?;
            adosexo_persistence::audit::append(conn, &[entry], now)?;
            let version = row.version;
            Ok(Created {
                id: row.id.clone(),
                version,
                body: entry_view(row)?,
                replay_body: None,
            })
        },
    )
    .await
}

async fn existing(state: &AppState, id: &str) -> Result<DirectoryRow, ApiError> {
    let lookup = id.to_owned();
    state
        .db
        .run(move |conn| public::find_entry(conn, &lookup))
        .await?
        .ok_or_else(|| ApiError::not_found("no directory entry with this id"))
}

/// Read a directory entry (with its version).
#[utoipa::path(
    operation_id = "getDirectoryEntry",
    tag = "public",
    summary = "Get a directory entry",
    description = "Admins. The entry as stored, with its version (`ETag`) for `replaceDirectoryEntry`; the public reads the directory with `searchDirectory`.",
    params(("id" = String, Path, description = "Entry id", pattern = "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The entry", body = DirectoryEntryView, headers(("ETag" = String, description = "Its version"))),
        (status = 400, response = crate::problem::BadRequest),
        (status = 401, response = crate::problem::Unauthorized),
        (status = 403, response = crate::problem::Forbidden),
        (status = 404, response = crate::problem::NotFound),
        (status = 503, response = crate::problem::Unavailable),
    ),
)]
#[get("/directory/{id}")]
pub async fn get(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    permit(
        &state,
        &auth,
        Action::ManageDirectory,
        Resource::Service,
        "directory_entry",
        None,
    )
    .await?;
    let id = parse_id("id", &id)?;
    let row = existing(&state, &id).await?;
    let version = row.version;
    Ok(versioned_json(StatusCode::OK, &entry_view(row)?, version))
}

/// Replace a directory entry (needs `If-Match`).
#[utoipa::path(
    operation_id = "replaceDirectoryEntry",
    tag = "public",
    summary = "Replace a directory entry",
    description = "Admins. Replaces the whole entry. Needs `If-Match` (428 without it, 412 when stale). Audited.",
    params(
        ("id" = String, Path, description = "Entry id", pattern = "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"),
        ("If-Match" = String, Header, description = "The ETag of the version read", pattern = "^\"v[0-9]{1,18}\"$", example = "\"v1\""),
    ),
    request_body(content = DirectoryEntryInput, content_type = "application/json"),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The entry", body = DirectoryEntryView, headers(("ETag" = String, description = "Its new version"))),
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
#[put("/directory/{id}")]
pub async fn replace(
    req: HttpRequest,
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<String>,
    body: ApiJson<DirectoryEntryInput>,
) -> Result<HttpResponse, ApiError> {
    permit(
        &state,
        &auth,
        Action::ManageDirectory,
        Resource::Service,
        "directory_entry",
        None,
    )
    .await?;
    let id = parse_id("id", &id)?;
    existing(&state, &id).await?;
    let body = body.into_inner()?;
    let expected = if_match(&req)?;
    let now = state.clock.now();
    let entry = audit::entry(
        Some(&auth.actor),
        &auth.ctx,
        "replace_directory_entry",
        "directory_entry",
        Some(&id),
        Outcome::Success,
    );
    let row = state
        .db
        .transaction(move |conn| {
            let row = row_of(conn, &id, body, expected, now)?;
            let row = public::replace_entry(conn, &row, expected, now)?
                .ok_or_else(ApiError::precondition_failed)?;
            adosexo_persistence::audit::append(conn, &[entry], now)?;
            Ok::<_, ApiError>(row)
        })
        .await?;
    let version = row.version;
    Ok(versioned_json(StatusCode::OK, &entry_view(row)?, version))
}

/// Remove a directory entry.
#[utoipa::path(
    operation_id = "deleteDirectoryEntry",
    tag = "public",
    summary = "Remove a directory entry",
    description = "Admins. The entry leaves the public directory at once. Audited.",
    params(("id" = String, Path, description = "Entry id", pattern = "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Removed"),
        (status = 400, response = crate::problem::BadRequest),
        (status = 401, response = crate::problem::Unauthorized),
        (status = 403, response = crate::problem::Forbidden),
        (status = 404, response = crate::problem::NotFound),
        (status = 503, response = crate::problem::Unavailable),
    ),
)]
#[delete("/directory/{id}")]
pub async fn remove(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    permit(
        &state,
        &auth,
        Action::ManageDirectory,
        Resource::Service,
        "directory_entry",
        None,
    )
    .await?;
    let id = parse_id("id", &id)?;
    let now = state.clock.now();
    let entry = audit::entry(
        Some(&auth.actor),
        &auth.ctx,
        "delete_directory_entry",
        "directory_entry",
        Some(&id),
        Outcome::Success,
    );
    state
        .db
        .transaction(move |conn| {
            if !public::delete_entry(conn, &id)? {
                return Err(ApiError::not_found("no directory entry with this id"));
            }
            adosexo_persistence::audit::append(conn, &[entry], now)?;
            Ok(())
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The team answering for a département (or nationally).
#[derive(Debug, Deserialize, Serialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ContactInput {
    /// The team's name.
    #[validate(length(min = 1, max = 200, message = "team must have 1 to 200 characters"))]
    #[schema(min_length = 1, max_length = 200, example = "Équipe Ado Sexo Paris")]
    pub team: String,
    /// E-mail.
    #[validate(email(message = "email is an e-mail address"))]
    #[validate(length(max = 254, message = "email has at most 254 characters"))]
    #[schema(format = "email", max_length = 254)]
    pub email: String,
    /// Phone.
    #[validate(length(min = 1, max = 40, message = "phone must have 1 to 40 characters"))]
    #[schema(min_length = 1, max_length = 40, example = "06 56 67 39 70")]
    pub phone: String,
}

/// A contact as stored.
#[derive(Debug, Serialize, ToSchema)]
pub struct ContactRecord {
    /// A département code or `national`.
    pub scope: String,
    /// The team.
    pub team: String,
    /// E-mail.
    pub email: String,
    /// Phone.
    pub phone: String,
}

fn scope_of(conn: &mut DbConnection, scope: &str) -> Result<String, ApiError> {
    if scope == NATIONAL {
        return Ok(NATIONAL.to_owned());
    }
    let code = DepartementCode::parse(scope).map_err(|e| {
        ApiError::invalid_field(
            "scope",
            "format",
            format!("scope is a département code or national: {e}"),
        )
    })?;
    territory::find_departement(conn, &code)?
        .map(|d| d.code)
        .ok_or_else(|| ApiError::not_found("no département has this code"))
}

/// Set the contact of a département or the national one.
#[utoipa::path(
    operation_id = "putContact",
    tag = "public",
    summary = "Set a contact",
    description = "Admins. The phone and e-mail that the public page and `getPublicContacts` give for a département (`scope` a département code) or for the whole country (`national`). Audited.",
    params(("scope" = String, Path, description = "A département code or `national`", pattern = "^(national|[0-9]{2}|2[ABab]|9[78][0-9])$")),
    request_body(content = ContactInput, content_type = "application/json"),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The contact", body = ContactRecord),
        (status = 400, response = crate::problem::BadRequest),
        (status = 401, response = crate::problem::Unauthorized),
        (status = 403, response = crate::problem::Forbidden),
        (status = 404, response = crate::problem::NotFound),
        (status = 413, response = crate::problem::PayloadTooLarge),
        (status = 415, response = crate::problem::UnsupportedMediaType),
        (status = 503, response = crate::problem::Unavailable),
    ),
)]
#[put("/contacts/{scope}")]
pub async fn put_contact(
    state: web::Data<AppState>,
    auth: Authenticated,
    scope: web::Path<String>,
    body: ApiJson<ContactInput>,
) -> Result<HttpResponse, ApiError> {
    permit(
        &state,
        &auth,
        Action::ManageContacts,
        Resource::Service,
        "contact",
        None,
    )
    .await?;
    let body = body.into_inner()?;
    let scope = scope.into_inner();
    let now = state.clock.now();
    let entry = audit::entry(
        Some(&auth.actor),
        &auth.ctx,
        "put_contact",
        "contact",
        Some(&scope),
        Outcome::Success,
    );
    let record = state
        .db
        .transaction(move |conn| {
            let scope = scope_of(conn, &scope)?;
            let row = ContactRow {
                scope,
                team: body.team,
                email: body.email,
                phone: body.phone,
                updated_at: to_db(now),
            };
            public::put_contact(conn, &row)?;
            adosexo_persistence::audit::append(conn, &[entry], now)?;
            Ok::<_, ApiError>(ContactRecord {
                scope: row.scope,
                team: row.team,
                email: row.email,
                phone: row.phone,
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(record))
}

/// Remove the contact of a département (the national one then answers).
#[utoipa::path(
    operation_id = "deleteContact",
    tag = "public",
    summary = "Remove a contact",
    description = "Admins. Removes the contact of a département (`scope` a département code): the public page and `getPublicContacts` then give the national one. Audited.",
    params(("scope" = String, Path, description = "A département code or `national`", pattern = "^(national|[0-9]{2}|2[ABab]|9[78][0-9])$")),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Removed"),
        (status = 400, response = crate::problem::BadRequest),
        (status = 401, response = crate::problem::Unauthorized),
        (status = 403, response = crate::problem::Forbidden),
        (status = 404, response = crate::problem::NotFound),
        (status = 503, response = crate::problem::Unavailable),
    ),
)]
#[delete("/contacts/{scope}")]
pub async fn delete_contact(
    state: web::Data<AppState>,
    auth: Authenticated,
    scope: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    permit(
        &state,
        &auth,
        Action::ManageContacts,
        Resource::Service,
        "contact",
        None,
    )
    .await?;
    let scope = scope.into_inner();
    let now = state.clock.now();
    let entry = audit::entry(
        Some(&auth.actor),
        &auth.ctx,
        "delete_contact",
        "contact",
        Some(&scope),
        Outcome::Success,
    );
    state
        .db
        .transaction(move |conn| {
            let scope = scope_of(conn, &scope)?;
            if !public::delete_contact(conn, &scope)? {
                return Err(ApiError::not_found("no contact is set for this scope"));
            }
            adosexo_persistence::audit::append(conn, &[entry], now)?;
            Ok(())
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
