//! The resource library: prevention tools, theoretical material, guides,
//! workshop kits, games and legal information for professionals, parents
//! and young people.
//!
//! A resource is described first (JSON, `createResource`), then given
//! either an external link or a file uploaded as the raw request body
//! (`uploadResourceFile`, `Content-Type` = the file's media type). The file
//! is recognised from its content (magic bytes), never from a name; its
//! SHA-256 is stored; its bytes are stored in the database, so that a
//! database backup restores the library. The upload route alone accepts
//! bodies up to `ADOSEXO_LIBRARY_MAX_BYTES` (the JSON limit stays small).
//! Partners-only resources need a bearer token (staff or partner);
//! public ones download without.

use actix_web::http::StatusCode;
use actix_web::http::header;
use actix_web::{FromRequest, HttpMessage, HttpRequest, HttpResponse, get, post, put, web};
use adosexo_domain::authz::{Action, Resource};
use adosexo_domain::professional::{self as rules, FileRule, Visibility};
use adosexo_domain::public::search_key;
use adosexo_persistence::professional::{self as store, ResourceFilter, ResourceRow};
use adosexo_persistence::time::to_db;
use chrono::{DateTime, Utc};
use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use super::cases::{cursor_of, parse_cursor, stored};
use crate::audit::{self, Outcome};
use crate::auth::Authenticated;
use crate::extract::{ApiJson, ApiQuery, text};
use crate::guard::permit;
use crate::http_cache::versioned_json;
use crate::idempotency::{self, Created, IdempotencyKey, Operation, Replay};
use crate::pagination::{limit, page, parse_id};
use crate::problem::ApiError;
use crate::state::AppState;
use crate::wire::{ResourceAudienceWire, ResourceKindWire, VisibilityWire, instant};

/// A library resource.
#[derive(Debug, Serialize, ToSchema)]
pub struct ResourceView {
    /// Id.
    pub id: String,
    /// Title.
    pub title: String,
    /// Description.
    pub description: String,
    /// Whom it is for.
    pub audience: ResourceAudienceWire,
    /// What it is.
    pub kind: ResourceKindWire,
    /// Language (ISO 639-1, e.g. `fr`).
    pub language: String,
    /// `public` (anyone) or `partners` (a bearer token is needed).
    pub visibility: VisibilityWire,
    /// An external link, when the resource is not a file.
    pub external_url: Option<String>,
    /// The file, when uploaded.
    pub file: Option<FileView>,
    /// Downloads so far.
    pub downloads: i64,
    /// Version, as in the `ETag`.
    pub version: i64,
    /// Created at.
    pub created_at: DateTime<Utc>,
    /// Last changed at.
    pub updated_at: DateTime<Utc>,
}

/// A stored file.
#[derive(Debug, Serialize, ToSchema)]
pub struct FileView {
    /// Its media type, recognised from its content.
    pub media_type: String,
    /// Size in bytes.
    pub size: i64,
    /// SHA-256 of the bytes (hex).
    pub sha256: String,
    /// Where to download it.
    pub href: String,
}

/// A file's bytes (the raw request or response body).
#[derive(Debug)]
pub struct FileBytes;

impl utoipa::PartialSchema for FileBytes {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, SchemaFormat, Type};
        ObjectBuilder::new()
            .schema_type(Type::String)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::Binary)))
            .description(Some("The file's bytes"))
            .into()
    }
}

impl ToSchema for FileBytes {}

/// A page of resources.
#[derive(Debug, Serialize, ToSchema)]
pub struct ResourcePage {
    /// Oldest first.
    pub items: Vec<ResourceView>,
    /// Pass as `cursor` for the next page; `null` on the last.
    pub next_cursor: Option<String>,
}

fn view(row: ResourceRow) -> Result<ResourceView, ApiError> {
    let file = match (row.media_type, row.file_size, row.sha256) {
        (Some(media_type), Some(size), Some(sha256)) => Some(FileView {
            media_type,
            size,
            sha256,
            href: format!("/api/v1/resources/{}/file", row.id),
        }),
        _ => None,
    };
    Ok(ResourceView {
        audience: ResourceAudienceWire(stored(&row.audience)?),
        kind: ResourceKindWire(stored(&row.kind)?),
        visibility: VisibilityWire(stored(&row.visibility)?),
        file,
        id: row.id,
        title: row.title,
        description: row.description,
        language: row.language,
        external_url: row.external_url,
        downloads: row.downloads,
        version: row.version,
        created_at: instant(row.created_at),
        updated_at: instant(row.updated_at),
    })
}

/// The caller, when a bearer token is sent (public routes).
async fn optional_auth(req: &HttpRequest) -> Result<Option<Authenticated>, ApiError> {
    if req.headers().contains_key(header::AUTHORIZATION) {
        Authenticated::extract(req).await.map(Some)
    } else {
        Ok(None)
    }
}

/// Whether the caller may see partners-only resources (staff and
/// partners; anonymous callers may not).
fn sees_partner_resources(auth: Option<&Authenticated>) -> bool {
    auth.is_some_and(|auth| {
        adosexo_domain::authz::authorize(
            &auth.actor,
            Action::DownloadPartnerResource,
            Resource::Service,
        )
        .is_ok()
    })
}

/// A new resource (its file is uploaded next, or it is a link).
#[derive(Debug, Deserialize, Serialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateResource {
    /// Title.
    #[validate(length(min = 1, max = 200, message = "title must have 1 to 200 characters"))]
    #[schema(
        min_length = 1,
        max_length = 200,
        example = "Guide de l'éducation à la vie affective"
    )]
    pub title: String,
    /// Description.
    #[validate(length(max = 4000, message = "description has at most 4000 characters"))]
    #[schema(max_length = 4000)]
    #[serde(default)]
    pub description: String,
    /// Whom it is for.
    pub audience: ResourceAudienceWire,
    /// What it is.
    pub kind: ResourceKindWire,
    /// Language (ISO 639-1, lower case).
    #[validate(custom(function = "language_code"))]
    #[schema(pattern = "^[a-z]{2}$", example = "fr")]
    pub language: String,
    /// `public` or `partners`.
    pub visibility: VisibilityWire,
    /// An external link (`https://`) instead of a file.
    #[validate(length(max = 500, message = "external_url has at most 500 characters"))]
    #[validate(custom(function = "crate::wire::https_url"))]
    #[schema(
        max_length = 500,
        pattern = "^https://[A-Za-z0-9.-]+(:[0-9]{1,5})?([/?#][!-~]*)?$",
        example = "https://www.example.fr/guide"
    )]
    pub external_url: Option<String>,
}

fn language_code(value: &str) -> Result<(), validator::ValidationError> {
    if value.len() == 2 && value.bytes().all(|b| b.is_ascii_lowercase()) {
        Ok(())
    } else {
        let mut error = validator::ValidationError::new("format");
        error.message = Some("language is an ISO 639-1 code, e.g. fr".into());
        Err(error)
    }
}

/// Describe a library resource.
#[utoipa::path(
    operation_id = "createResource",
    tag = "professionals",
    summary = "Describe a library resource",
    description = "Admins and supervisors. Give an `external_url`, or upload the file next with \
                   `uploadResourceFile`. Honours `Idempotency-Key`. Audited.",
    request_body(content = CreateResource, content_type = "application/json"),
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe: the same key and body replay the first answer (1 to 255 visible ASCII characters)", pattern = "^[!-~]{1,255}$")),
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Created", body = ResourceView,
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
#[post("/resources")]
pub async fn create(
    state: web::Data<AppState>,
    auth: Authenticated,
    key: IdempotencyKey,
    body: ApiJson<CreateResource>,
) -> Result<HttpResponse, ApiError> {
    permit(
        &state,
        &auth,
        Action::ManageResources,
        Resource::Service,
        "resource",
        None,
    )
    .await?;
    let body = body.into_inner()?;
    let digest = idempotency::digest(&body)?;
    let title = text("title", &body.title)?;
    let now = state.clock.now();
    let actor = auth.actor.clone();
    let ctx = auth.ctx.clone();
    idempotency::create(
        &state,
        &auth,
        key,
        Operation {
            name: "create_resource",
            location: Some("/api/v1/resources"),
            replay: Replay::Stored,
        },
        digest,
        move |conn| {
            let id = uuid::Uuid::now_v7().to_string();
            let row = ResourceRow {
                id: id.clone(),
                search_key: search_key(&format!("{title} {}", body.description)),
                title,
                description: body.description,
                audience: body.audience.0.as_str().to_owned(),
                kind: body.kind.0.as_str().to_owned(),
                language: body.language,
                visibility: body.visibility.0.as_str().to_owned(),
                external_url: body.external_url,
                media_type: None,
                file_size: None,
                sha256: None,
                downloads: 0,
                created_by: actor.id.clone(),
                version: 1,
                created_at: to_db(now),
                updated_at: to_db(now),
            };
            store::insert_resource(conn, &row)?;
            let entry = audit::entry(
                Some(&actor),
                &ctx,
                "create_resource",
                "resource",
                Some(&id),
                Outcome::Success,
            );
            adosexo_persistence::audit::append(conn, &[entry], now)?;
            Ok(Created {
                id,
                version: 1,
                body: view(row)?,
                replay_body: None,
            })
        },
    )
    .await
}

/// A 422 naming the file rule broken.
fn file_rule(rule: FileRule) -> ApiError {
    let title = match rule {
        FileRule::Executable => "Executable file",
        FileRule::UnknownType => "File type not accepted",
        FileRule::Mismatch { .. } => "File type mismatch",
        FileRule::Empty => "Empty file",
    };
    ApiError::rule(rule.tag(), title, rule.to_string())
}

/// How much of an over-long body is read (and dropped) before answering
/// 413, so that the client receives the answer rather than a reset.
const DRAIN_FACTOR: usize = 4;

/// Reads the body up to `max` bytes; 413 past it.
async fn read_limited(mut payload: web::Payload, max: usize) -> Result<Vec<u8>, ApiError> {
    let mut bytes = Vec::new();
    let mut seen: usize = 0;
    while let Some(chunk) = payload.next().await {
        let chunk =
            chunk.map_err(|_| ApiError::malformed_body("the request body could not be read"))?;
        seen = seen.saturating_add(chunk.len());
        if seen > max {
            if seen > max.saturating_mul(DRAIN_FACTOR) {
                break;
            }
            continue;
        }
        bytes.extend_from_slice(&chunk);
    }
    if seen > max {
        return Err(ApiError::payload_too_large(max));
    }
    Ok(bytes)
}

/// Upload (or replace) a resource's file as the raw request body.
#[utoipa::path(
    operation_id = "uploadResourceFile",
    tag = "professionals",
    summary = "Upload a resource's file",
    description = "The request body is the file itself; `Content-Type` is its media type (or \
                   `application/octet-stream`). The type is recognised from the content: an executable \
                   or script is a 422 `file-executable` whatever its name, an unknown type a 422 \
                   `file-type-not-accepted`, a declared type other than the content's a 422 \
                   `file-type-mismatch`. At most `ADOSEXO_LIBRARY_MAX_BYTES` (default 20 MiB; 413 \
                   beyond). The SHA-256 is stored. Replaces a previous file or link. Audited.",
    params(("id" = String, Path, description = "Resource id", pattern = "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")),
    request_body(
        description = "The file's bytes. Sent as `application/octet-stream` (what generated \
                       clients send), or with the file's own media type: `application/pdf`, \
                       `image/png`, `image/jpeg`, `image/gif`, `application/zip`, `audio/mpeg` or \
                       `video/mp4`. Either way the type stored is the one recognised from the bytes.",
        content(
            (FileBytes = "application/octet-stream"),
        ),
    ),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The resource with its file", body = ResourceView, headers(("ETag" = String, description = "Its new version"))),
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
#[put("/resources/{id}/file")]
pub async fn upload(
    req: HttpRequest,
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    permit(
        &state,
        &auth,
        Action::ManageResources,
        Resource::Service,
        "resource",
        None,
    )
    .await?;
    let id = parse_id("id", &id)?;
    let lookup = id.clone();
    let exists = state
        .db
        .run(move |conn| store::find_resource(conn, &lookup))
        .await?
        .is_some();
    if !exists {
        return Err(ApiError::not_found("no resource with this id"));
    }
    let declared = match req.mime_type() {
        Ok(Some(mime)) => mime.essence_str().to_owned(),
        _ => return Err(ApiError::unsupported_media_type()),
    };
    let max = state.library_max_bytes;
    let too_long = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
        .is_some_and(|n| n > max as u64 * DRAIN_FACTOR as u64);
    if too_long {
        return Err(ApiError::payload_too_large(max));
    }
    let bytes = read_limited(payload, max).await?;
    let file_type = rules::check_file(&declared, &bytes).map_err(file_rule)?;
    let sha256: String = Sha256::digest(&bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let now = state.clock.now();
    let entry = audit::entry(
        Some(&auth.actor),
        &auth.ctx,
        "upload_resource_file",
        "resource",
        Some(&id),
        Outcome::Success,
    );
    let row = state
        .db
        .transaction(move |conn| {
            let row = store::put_file(conn, &id, file_type.media_type(), &sha256, &bytes, now)?
                .ok_or_else(|| ApiError::not_found("no resource with this id"))?;
            adosexo_persistence::audit::append(conn, &[entry], now)?;
            Ok::<_, ApiError>(row)
        })
        .await?;
    let version = row.version;
    Ok(versioned_json(StatusCode::OK, &view(row)?, version))
}

/// Search and paging.
#[derive(Debug, Deserialize, Validate, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ResourceQuery {
    /// Words to find in the title and description (accents and case ignored).
    #[validate(length(max = 200, message = "q has at most 200 characters"))]
    #[param(max_length = 200, example = "consentement")]
    pub q: Option<String>,
    /// Only for this audience.
    pub audience: Option<ResourceAudienceWire>,
    /// Only of this kind.
    pub kind: Option<ResourceKindWire>,
    /// Only in this language.
    #[validate(custom(function = "language_code"))]
    #[param(pattern = "^[a-z]{2}$")]
    pub language: Option<String>,
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

/// Search the library.
#[utoipa::path(
    operation_id = "searchResources",
    tag = "professionals",
    summary = "Search the resource library",
    description = "Public: anonymous callers see public resources; staff and partners (bearer token) also \
                   partners-only ones. Every word of `q` must appear in the title or description.",
    params(ResourceQuery),
    security((), ("bearer" = [])),
    responses(
        (status = 200, description = "A page of resources", body = ResourcePage),
        (status = 400, response = crate::problem::BadRequest),
        (status = 401, response = crate::problem::Unauthorized),
        (status = 503, response = crate::problem::Unavailable),
    ),
)]
#[get("/resources")]
pub async fn search(
    req: HttpRequest,
    state: web::Data<AppState>,
    query: ApiQuery<ResourceQuery>,
) -> Result<HttpResponse, ApiError> {
    let auth = optional_auth(&req).await?;
    let query = query.into_inner()?;
    let partners = sees_partner_resources(auth.as_ref());
    let after = query.cursor.as_deref().map(parse_cursor).transpose()?;
    let limit = limit(query.limit);
    let words = query
        .q
        .as_deref()
        .map(search_key)
        .unwrap_or_default()
        .split_whitespace()
        .map(str::to_owned)
        .collect();
    let filter = ResourceFilter {
        audience: query.audience.map(|a| a.0.as_str().to_owned()),
        kind: query.kind.map(|k| k.0.as_str().to_owned()),
        language: query.language,
        visibility: (!partners).then(|| Visibility::Public.as_str().to_owned()),
        words,
        after,
        limit: i64::from(limit) + 1,
    };
    let rows = state
        .db
        .run(move |conn| store::search_resources(conn, &filter))
        .await?;
    let (rows, next_cursor) = page(rows, limit, |r| cursor_of(r.created_at, &r.id));
    let items = rows.into_iter().map(view).collect::<Result<_, _>>()?;
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(ResourcePage { items, next_cursor }))
}

/// Loads a resource the caller may see: 404 unknown, 401 partners-only
/// without a token, 403 with a token that may not.
async fn visible(
    req: &HttpRequest,
    state: &AppState,
    id: &str,
) -> Result<(ResourceRow, Option<Authenticated>), ApiError> {
    let auth = optional_auth(req).await?;
    let id = parse_id("id", id)?;
    let lookup = id.clone();
    let row = state
        .db
        .run(move |conn| store::find_resource(conn, &lookup))
        .await?
        .ok_or_else(|| ApiError::not_found("no resource with this id"))?;
    if stored::<Visibility>(&row.visibility)? == Visibility::Partners {
        match &auth {
            None => {
                return Err(ApiError::unauthorized(
                    "this resource is for partners: send an access token",
                ));
            }
            Some(auth) => {
                permit(
                    state,
                    auth,
                    Action::DownloadPartnerResource,
                    Resource::Service,
                    "resource",
                    Some(&id),
                )
                .await?;
            }
        }
    }
    Ok((row, auth))
}

/// Read a resource's description.
#[utoipa::path(
    operation_id = "getResource",
    tag = "professionals",
    summary = "Get a library resource",
    description = "Public resources for anyone; partners-only ones with a bearer token (401 without).",
    params(("id" = String, Path, description = "Resource id", pattern = "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")),
    security((), ("bearer" = [])),
    responses(
        (status = 200, description = "The resource", body = ResourceView, headers(("ETag" = String, description = "Its version"))),
        (status = 400, response = crate::problem::BadRequest),
        (status = 401, response = crate::problem::Unauthorized),
        (status = 403, response = crate::problem::Forbidden),
        (status = 404, response = crate::problem::NotFound),
        (status = 503, response = crate::problem::Unavailable),
    ),
)]
#[get("/resources/{id}")]
pub async fn get(
    req: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let (row, _) = visible(&req, &state, &id).await?;
    let version = row.version;
    Ok(versioned_json(StatusCode::OK, &view(row)?, version))
}

/// Whether `Accept` asks for `application/octet-stream` and admits no range
/// that covers the stored media type (`*/*`, `image/*`, the type itself).
fn only_octet_stream(req: &HttpRequest, stored: &str) -> bool {
    let Some(accept) = req
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let stored = stored.to_ascii_lowercase();
    let stored_major = stored.split('/').next().unwrap_or_default();
    let ranges: Vec<String> = accept
        .split(',')
        .filter_map(|part| part.split(';').next())
        .map(|range| range.trim().to_ascii_lowercase())
        .collect();
    let covers = |range: &str| {
        range == "*/*"
            || range == stored
            || range
                .strip_suffix("/*")
                .is_some_and(|major| major == stored_major)
    };
    ranges.iter().any(|r| r == "application/octet-stream") && !ranges.iter().any(|r| covers(r))
}

/// Download a resource's file (or follow its link); counted.
#[utoipa::path(
    operation_id = "downloadResourceFile",
    tag = "professionals",
    summary = "Download a resource",
    description = "The file with its stored media type (as `application/octet-stream` when `Accept` \
                   asks for that and not the stored type), `ETag` its SHA-256 and `Digest`-style \
                   `X-Content-SHA256`; a link resource answers 303 to its URL. Every download is \
                   counted (statistics: downloads per kind). Partners-only resources need a bearer \
                   token (401 without). A resource whose file has not been uploaded yet answers \
                   409 `no-file-yet` (the resource exists; its file does not).",
    params(("id" = String, Path, description = "Resource id", pattern = "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")),
    security((), ("bearer" = [])),
    responses(
        (status = 200, description = "The file",
         content(
            (FileBytes = "application/pdf"),
            (FileBytes = "image/png"),
            (FileBytes = "image/jpeg"),
            (FileBytes = "image/gif"),
            (FileBytes = "application/zip"),
            (FileBytes = "audio/mpeg"),
            (FileBytes = "video/mp4"),
            (FileBytes = "application/octet-stream"),
         ),
         headers(("X-Content-SHA256" = String, description = "SHA-256 of the bytes (hex)"))),
        (status = 303, description = "A link resource: its URL", headers(("Location" = String, description = "The external URL"))),
        (status = 400, response = crate::problem::BadRequest),
        (status = 401, response = crate::problem::Unauthorized),
        (status = 403, response = crate::problem::Forbidden),
        (status = 404, response = crate::problem::NotFound),
        (status = 409, response = crate::problem::Conflict),
        (status = 503, response = crate::problem::Unavailable),
    ),
)]
#[get("/resources/{id}/file")]
pub async fn download(
    req: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let (row, auth) = visible(&req, &state, &id).await?;
    let now = state.clock.now();
    let partners_only = row.visibility == Visibility::Partners.as_str();
    let (id, kind) = (row.id.clone(), row.kind.clone());
    let is_link = row.external_url.is_some();
    let content = state
        .db
        .transaction(move |conn| {
            let content = store::file_content(conn, &id)?;
            if content.is_some() || is_link {
                store::count_download(conn, &id, &kind, now)?;
            }
            Ok::<_, ApiError>(content)
        })
        .await?;
    if partners_only && let Some(auth) = &auth {
        audit::record(
            &state,
            vec![audit::entry(
                Some(&auth.actor),
                &auth.ctx,
                "download_resource",
                "resource",
                Some(&row.id),
                Outcome::Success,
            )],
        )
        .await?;
    }
    match (content, row.media_type, row.sha256, row.external_url) {
        (Some(bytes), Some(media_type), Some(sha256), _) => Ok(HttpResponse::Ok()
            .content_type(if only_octet_stream(&req, &media_type) {
                "application/octet-stream".to_owned()
            } else {
                media_type
            })
            .insert_header(("ETag", format!("\"{sha256}\"")))
            .insert_header(("X-Content-SHA256", sha256))
            .insert_header(("Content-Disposition", "attachment"))
            .insert_header((
                "Cache-Control",
                if partners_only {
                    "private, no-store"
                } else {
                    "public, max-age=300"
                },
            ))
            .body(bytes)),
        (_, _, _, Some(url)) => Ok(HttpResponse::SeeOther()
            .insert_header(("Location", url))
            .finish()),
        _ => Err(ApiError::conflict(
            "no-file-yet",
            "No file yet",
            "this resource has no file yet: upload it with PUT /api/v1/resources/{id}/file",
        )),
    }
}
