//! Sites: where the team holds permanences and meets people.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, get, patch, post, web};
use adosexo_domain::DepartementCode;
use adosexo_domain::authz::{Action, Resource};
use adosexo_domain::schedule::ScheduleStatus;
use adosexo_persistence::DbConnection;
use adosexo_persistence::schedule::{self, SiteChanges, SiteFilter, SiteRow};
use adosexo_persistence::time::to_db;
use adosexo_persistence::{identity, territory};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use super::cases::{cursor_of, parse_cursor, stored, stored_departement};
use crate::audit::{self, Outcome};
use crate::auth::Authenticated;
use crate::extract::{ApiJson, ApiQuery};
use crate::guard::permit;
use crate::http_cache::{if_match, versioned_json};
use crate::idempotency::{self, Created, IdempotencyKey, Operation, Replay};
use crate::pagination::{limit, page, parse_id};
use crate::problem::ApiError;
use crate::state::AppState;
use crate::wire::{ScheduleStatusWire, SiteKindWire, instant};

/// A site.
#[derive(Debug, Serialize, ToSchema)]
pub struct SiteView {
    /// Id.
    pub id: String,
    /// Name shown to the public.
    pub name: String,
    /// Kind of place.
    pub kind: SiteKindWire,
    /// Street address.
    pub address: String,
    /// Postcode.
    pub postcode: String,
    /// Town.
    pub city: String,
    /// INSEE département code.
    pub departement_code: String,
    /// INSEE region code.
    pub region_code: String,
    /// WGS 84 latitude.
    pub latitude: f64,
    /// WGS 84 longitude.
    pub longitude: f64,
    /// The organisation that hosts the team there, if any.
    pub host_organisation_id: Option<String>,
    /// Shown on the public map.
    pub public: bool,
    /// Access for people with disabilities, transport.
    pub accessibility: Option<String>,
    /// In use or closed.
    pub status: ScheduleStatusWire,
    /// Version, as in the `ETag`.
    pub version: i64,
    /// Created at.
    pub created_at: DateTime<Utc>,
    /// Last changed at.
    pub updated_at: DateTime<Utc>,
}

/// A page of sites, by last change.
#[derive(Debug, Serialize, ToSchema)]
pub struct SitePage {
    /// Oldest change first.
    pub items: Vec<SiteView>,
    /// Pass as `cursor` for the next page; `null` on the last.
    pub next_cursor: Option<String>,
}

/// The region of a département (reference data).
pub fn region_of(conn: &mut DbConnection, code: &str) -> Result<String, ApiError> {
    let code = stored_departement(code)?;
    territory::find_departement(conn, &code)?
        .map(|d| d.region_code)
        .ok_or_else(|| ApiError::internal("stored département without region"))
}

/// Every département's région (one read of the reference data, for lists).
pub fn regions_by_departement(
    conn: &mut DbConnection,
) -> Result<std::collections::HashMap<String, String>, ApiError> {
    Ok(territory::list_departements(
        conn,
        &territory::DepartementFilter {
            region: None,
            after: None,
            limit: 500,
        },
    )?
    .into_iter()
    .map(|d| (d.code, d.region_code))
    .collect())
}

/// A site for the wire.
pub fn site_view(conn: &mut DbConnection, row: SiteRow) -> Result<SiteView, ApiError> {
    let region_code = region_of(conn, &row.departement_code)?;
    view_in_region(row, region_code)
}

/// A site for the wire, its région known.
fn view_in_region(row: SiteRow, region_code: String) -> Result<SiteView, ApiError> {
    Ok(SiteView {
        region_code,
        kind: SiteKindWire(stored(&row.kind)?),
        status: ScheduleStatusWire(stored(&row.status)?),
        id: row.id,
        name: row.name,
        address: row.address,
        postcode: row.postcode,
        city: row.city,
        departement_code: row.departement_code,
        latitude: row.latitude,
        longitude: row.longitude,
        host_organisation_id: row.host_organisation_id,
        public: row.public,
        accessibility: row.accessibility,
        version: row.version,
        created_at: instant(row.created_at),
        updated_at: instant(row.updated_at),
    })
}

/// A new site.
#[derive(Debug, Deserialize, Serialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateSite {
    /// Name shown to the public.
    #[validate(length(min = 1, max = 200, message = "name must have 1 to 200 characters"))]
    #[schema(
        min_length = 1,
        max_length = 200,
        example = "Maison des adolescents de Meaux"
    )]
    pub name: String,
    /// Kind of place.
    pub kind: SiteKindWire,
    /// Street address.
    #[validate(length(min = 1, max = 300, message = "address must have 1 to 300 characters"))]
    #[schema(min_length = 1, max_length = 300)]
    pub address: String,
    /// Postcode (5 digits).
    #[validate(custom(function = "valid_postcode"))]
    #[schema(pattern = "^[0-9]{5}$", example = "77100")]
    pub postcode: String,
    /// Town.
    #[validate(length(min = 1, max = 120, message = "city must have 1 to 120 characters"))]
    #[schema(min_length = 1, max_length = 120)]
    pub city: String,
    /// INSEE département code.
    #[schema(pattern = "^([0-9]{2}|2[ABab]|9[78][0-9])$", example = "77")]
    #[validate(custom(function = "crate::wire::departement_code"))]
    pub departement_code: String,
    /// WGS 84 latitude.
    #[validate(range(min = -90.0, max = 90.0, message = "latitude is from -90 to 90"))]
    #[schema(minimum = -90.0, maximum = 90.0)]
    pub latitude: f64,
    /// WGS 84 longitude.
    #[validate(range(min = -180.0, max = 180.0, message = "longitude is from -180 to 180"))]
    #[schema(minimum = -180.0, maximum = 180.0)]
    pub longitude: f64,
    /// The hosting organisation.
    #[validate(custom(function = "crate::wire::uuid_text"))]
    #[schema(format = "uuid")]
    pub host_organisation_id: Option<String>,
    /// Shown on the public map (default false).
    #[serde(default)]
    pub public: bool,
    /// Access notes.
    #[validate(length(max = 1000, message = "accessibility has at most 1000 characters"))]
    #[schema(max_length = 1000)]
    pub accessibility: Option<String>,
}

fn valid_postcode(value: &str) -> Result<(), validator::ValidationError> {
    if value.len() == 5 && value.bytes().all(|b| b.is_ascii_digit()) {
        Ok(())
    } else {
        let mut error = validator::ValidationError::new("format");
        error.message = Some("a postcode has 5 digits".into());
        Err(error)
    }
}

/// The département, known to the reference data.
fn known_departement(conn: &mut DbConnection, code: &str) -> Result<DepartementCode, ApiError> {
    let parsed = DepartementCode::parse(code)
        .map_err(|e| ApiError::invalid_field("departement_code", "format", e.to_string()))?;
    territory::find_departement(conn, &parsed)?.ok_or_else(|| {
        ApiError::rule(
            "unknown-departement",
            "Unknown département",
            format!("no département has the code {parsed}"),
        )
    })?;
    Ok(parsed)
}

fn known_organisation(conn: &mut DbConnection, field: &str, id: &str) -> Result<(), ApiError> {
    match identity::find_organisation(conn, id)? {
        Some(_) => Ok(()),
        None => Err(ApiError::invalid_value(
            field,
            "unknown",
            format!("no organisation has the id {id}"),
        )),
    }
}

/// Create a site.
#[utoipa::path(
    operation_id = "createSite",
    tag = "scheduling",
    summary = "Create a site",
    description = "Admins and supervisors anywhere; coordinators and regional referents in their territory.",
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe: the same key and body replay the first answer (1 to 255 visible ASCII characters)", pattern = "^[!-~]{1,255}$")),
    request_body(content = CreateSite, content_type = "application/json"),
    security(("bearer" = [])),
    responses(
        (status = 201, description = "The site", body = SiteView, headers(("ETag" = String, description = "Its version"))),
        (status = 400, response = crate::problem::BadRequest),
        (status = 401, response = crate::problem::Unauthorized),
        (status = 403, response = crate::problem::Forbidden),
        (status = 413, response = crate::problem::PayloadTooLarge),
        (status = 415, response = crate::problem::UnsupportedMediaType),
        (status = 422, response = crate::problem::Unprocessable),
        (status = 503, response = crate::problem::Unavailable),
    ),
)]
#[post("/sites")]
pub async fn create(
    state: web::Data<AppState>,
    auth: Authenticated,
    key: IdempotencyKey,
    body: ApiJson<CreateSite>,
) -> Result<HttpResponse, ApiError> {
    permit(
        &state,
        &auth,
        Action::ListSites,
        Resource::Service,
        "site",
        None,
    )
    .await?;
    let body = body.into_inner()?;
    let digest = idempotency::digest(&body)?;
    let departement = DepartementCode::parse(&body.departement_code)
        .map_err(|e| ApiError::invalid_field("departement_code", "format", e.to_string()))?;
    permit(
        &state,
        &auth,
        Action::ManageSite,
        Resource::Site {
            departement: &departement,
        },
        "site",
        None,
    )
    .await?;
    let now = state.clock.now();
    let id = uuid::Uuid::now_v7().to_string();
    let entry = audit::entry(
        Some(&auth.actor),
        &auth.ctx,
        "create_site",
        "site",
        Some(&id),
        Outcome::Success,
    );
    idempotency::create(
        &state,
        &auth,
        key,
        Operation {
            name: "create_site",
            location: Some("/api/v1/sites"),
            replay: Replay::Stored,
        },
        digest,
        move |conn| {
            known_departement(conn, &body.departement_code)?;
            if let Some(host) = &body.host_organisation_id {
                known_organisation(conn, "host_organisation_id", host)?;
            }
            let row = SiteRow {
                id: id.clone(),
                name: body.name,
                kind: body.kind.0.as_str().to_owned(),
                address: body.address,
                postcode: body.postcode,
                city: body.city,
                departement_code: departement.as_str().to_owned(),
                latitude: body.latitude,
                longitude: body.longitude,
                host_organisation_id: body.host_organisation_id,
                public: body.public,
                accessibility: body.accessibility,
                status: ScheduleStatus::Active.as_str().to_owned(),
                version: 1,
                created_at: to_db(now),
                updated_at: to_db(now),
            };
            schedule::insert_site(conn, &row)?;
            adosexo_persistence::audit::append(conn, &[entry], now)?;
            let view = site_view(conn, row)?;
            let version = view.version;
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

/// Filters and paging.
#[derive(Debug, Deserialize, Validate, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct SiteQuery {
    /// Page size, 1 to 200 (default 50).
    #[validate(range(min = 1, max = 200, message = "limit must be from 1 to 200"))]
    #[param(minimum = 1, maximum = 200, default = 50)]
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    #[param(
        pattern = "^[0-9]{1,16}_[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
    )]
    pub cursor: Option<String>,
    /// Only sites of this département.
    #[param(pattern = "^([0-9]{2}|2[ABab]|9[78][0-9])$")]
    #[validate(custom(function = "crate::wire::departement_code"))]
    pub departement: Option<String>,
    /// Only sites with this status.
    pub status: Option<ScheduleStatusWire>,
}

/// List sites.
#[utoipa::path(
    operation_id = "listSites",
    tag = "scheduling",
    summary = "List sites",
    description = "Every staff role. Narrow by `departement` and `status`; pages by `cursor`. The public sees the sites through `listPublicSites`.",
    params(SiteQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "A page of sites", body = SitePage),
        (status = 400, response = crate::problem::BadRequest),
        (status = 401, response = crate::problem::Unauthorized),
        (status = 403, response = crate::problem::Forbidden),
        (status = 503, response = crate::problem::Unavailable),
    ),
)]
#[get("/sites")]
pub async fn list(
    state: web::Data<AppState>,
    auth: Authenticated,
    query: ApiQuery<SiteQuery>,
) -> Result<HttpResponse, ApiError> {
    permit(
        &state,
        &auth,
        Action::ListSites,
        Resource::Service,
        "site",
        None,
    )
    .await?;
    let query = query.into_inner()?;
    let after = query.cursor.as_deref().map(parse_cursor).transpose()?;
    let limit = limit(query.limit);
    let filter = SiteFilter {
        departements: query
            .departement
            .as_deref()
            .map(|d| DepartementCode::parse(d).map(|c| vec![c.as_str().to_owned()]))
            .transpose()
            .map_err(|e| ApiError::invalid_field("departement", "format", e.to_string()))?,
        public_only: false,
        status: query.status.map(|s| s.0.as_str().to_owned()),
        after,
        limit: i64::from(limit) + 1,
    };
    let rows = state
        .db
        .run(move |conn| schedule::list_sites(conn, &filter))
        .await?;
    let (rows, next_cursor) = page(rows, limit, |r| cursor_of(r.updated_at, &r.id));
    let items = state
        .db
        .run(move |conn| {
            let regions = regions_by_departement(conn)?;
            rows.into_iter()
                .map(|r| {
                    let region = regions
                        .get(&r.departement_code)
                        .cloned()
                        .ok_or_else(|| ApiError::internal("site in an unknown département"))?;
                    view_in_region(r, region)
                })
                .collect::<Result<Vec<_>, ApiError>>()
        })
        .await?;
    Ok(HttpResponse::Ok().json(SitePage { items, next_cursor }))
}

/// One site, 404 when unknown.
pub async fn load(state: &AppState, id: &str) -> Result<SiteRow, ApiError> {
    find(state, id)
        .await?
        .ok_or_else(|| ApiError::not_found("no site with this id"))
}

/// The site a request body names (`site_id`): a 422 naming the field when
/// no site has this id; a database failure stays what it is (503, 500).
pub async fn named(state: &AppState, id: &str) -> Result<SiteRow, ApiError> {
    find(state, id)
        .await?
        .ok_or_else(|| ApiError::invalid_value("site_id", "unknown", "no site has this id"))
}

async fn find(state: &AppState, id: &str) -> Result<Option<SiteRow>, ApiError> {
    let lookup = id.to_owned();
    Ok(state
        .db
        .run(move |conn| schedule::find_site(conn, &lookup))
        .await?)
}

/// Read a site.
#[utoipa::path(
    operation_id = "getSite",
    tag = "scheduling",
    summary = "Get a site",
    description = "Every staff role. The site with its address, coordinates and status; `ETag` is its version, for `updateSite`.",
    params(("id" = String, Path, description = "Site id", pattern = "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The site", body = SiteView, headers(("ETag" = String, description = "Its version"))),
        (status = 400, response = crate::problem::BadRequest),
        (status = 401, response = crate::problem::Unauthorized),
        (status = 403, response = crate::problem::Forbidden),
        (status = 404, response = crate::problem::NotFound),
        (status = 503, response = crate::problem::Unavailable),
    ),
)]
#[get("/sites/{id}")]
pub async fn get(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    permit(
        &state,
        &auth,
        Action::ReadSite,
        Resource::Service,
        "site",
        None,
    )
    .await?;
    let id = parse_id("id", &id)?;
    let row = load(&state, &id).await?;
    let view = state.db.run(move |conn| site_view(conn, row)).await?;
    let version = view.version;
    Ok(versioned_json(StatusCode::OK, &view, version))
}

/// Changes to a site; absent fields stay as they are.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateSite {
    /// Name.
    #[validate(length(min = 1, max = 200, message = "name must have 1 to 200 characters"))]
    #[schema(min_length = 1, max_length = 200)]
    pub name: Option<String>,
    /// Kind of place.
    pub kind: Option<SiteKindWire>,
    /// Street address.
    #[validate(length(min = 1, max = 300, message = "address must have 1 to 300 characters"))]
    #[schema(min_length = 1, max_length = 300)]
    pub address: Option<String>,
    /// Postcode.
    #[validate(custom(function = "valid_postcode"))]
    #[schema(pattern = "^[0-9]{5}$")]
    pub postcode: Option<String>,
    /// Town.
    #[validate(length(min = 1, max = 120, message = "city must have 1 to 120 characters"))]
    #[schema(min_length = 1, max_length = 120)]
    pub city: Option<String>,
    /// WGS 84 latitude.
    #[validate(range(min = -90.0, max = 90.0, message = "latitude is from -90 to 90"))]
    #[schema(minimum = -90.0, maximum = 90.0)]
    pub latitude: Option<f64>,
    /// WGS 84 longitude.
    #[validate(range(min = -180.0, max = 180.0, message = "longitude is from -180 to 180"))]
    #[schema(minimum = -180.0, maximum = 180.0)]
    pub longitude: Option<f64>,
    /// Shown on the public map.
    pub public: Option<bool>,
    /// Access notes.
    #[validate(length(max = 1000, message = "accessibility has at most 1000 characters"))]
    #[schema(max_length = 1000)]
    pub accessibility: Option<String>,
    /// In use or closed.
    pub status: Option<ScheduleStatusWire>,
}

/// Change a site (needs `If-Match`).
#[utoipa::path(
    operation_id = "updateSite",
    tag = "scheduling",
    summary = "Change a site",
    description = "Admins and the supervisor. Send only what changes (address, coordinates, accessibility, `public`, `status`, …). Needs `If-Match` (428 without it, 412 when stale). Audited.",
    params(
        ("id" = String, Path, description = "Site id", pattern = "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"),
        ("If-Match" = String, Header, description = "The ETag of the version read", pattern = "^\"v[0-9]{1,18}\"$", example = "\"v1\""),
    ),
    request_body(content = UpdateSite, content_type = "application/json"),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The site", body = SiteView, headers(("ETag" = String, description = "Its new version"))),
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
#[patch("/sites/{id}")]
pub async fn update(
    req: HttpRequest,
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<String>,
    body: ApiJson<UpdateSite>,
) -> Result<HttpResponse, ApiError> {
    permit(
        &state,
        &auth,
        Action::ReadSite,
        Resource::Service,
        "site",
        None,
    )
    .await?;
    let id = parse_id("id", &id)?;
    let row = load(&state, &id).await?;
    let departement = stored_departement(&row.departement_code)?;
    permit(
        &state,
        &auth,
        Action::ManageSite,
        Resource::Site {
            departement: &departement,
        },
        "site",
        Some(&id),
    )
    .await?;
    let body = body.into_inner()?;
    let expected = if_match(&req)?;
    let changes = SiteChanges {
        name: body.name,
        kind: body.kind.map(|k| k.0.as_str().to_owned()),
        address: body.address,
        postcode: body.postcode,
        city: body.city,
        departement_code: None,
        latitude: body.latitude,
        longitude: body.longitude,
        host_organisation_id: None,
        public: body.public,
        accessibility: body.accessibility.map(Some),
        status: body.status.map(|s| s.0.as_str().to_owned()),
    };
    let now = state.clock.now();
    let entry = audit::entry(
        Some(&auth.actor),
        &auth.ctx,
        "update_site",
        "site",
        Some(&id),
        Outcome::Success,
    );
    let view = state
        .db
        .transaction(move |conn| {
            let row = schedule::update_site(conn, &id, expected, &changes, now)?
                .ok_or_else(ApiError::precondition_failed)?;
            adosexo_persistence::audit::append(conn, &[entry], now)?;
            site_view(conn, row)
        })
        .await?;
    let version = view.version;
    Ok(versioned_json(StatusCode::OK, &view, version))
}
