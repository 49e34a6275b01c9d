//! French départements (reference data).

use actix_web::{HttpRequest, HttpResponse, get, web};
use adosexo_domain::{DepartementCode, RegionCode};
use adosexo_persistence::territory::{self, Departement, DepartementFilter};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use crate::extract::ApiQuery;
use crate::http_cache::json_with_etag;
use crate::pagination::{DEFAULT_LIMIT, MAX_LIMIT};
use crate::problem::ApiError;
use crate::state::AppState;

/// Reference data changes only with a release: clients may cache it a day.
const CACHE_REFERENCE: &str = "public, max-age=86400";

/// A French département.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"code": "93", "name": "Seine-Saint-Denis", "region": {"code": "11", "name": "Île-de-France"}}))]
pub struct DepartementView {
    /// INSEE code: two digits, `2A`/`2B` (Corsica), or three digits overseas.
    pub code: String,
    /// Official name.
    pub name: String,
    /// The region it belongs to.
    pub region: RegionView,
}

/// A French region.
#[derive(Debug, Serialize, ToSchema)]
pub struct RegionView {
    /// INSEE region code.
    pub code: String,
    /// Official name.
    pub name: String,
}

impl From<Departement> for DepartementView {
    fn from(d: Departement) -> Self {
        Self {
            code: d.code,
            name: d.name,
            region: RegionView {
                code: d.region_code,
                name: d.region_name,
            },
        }
    }
}

/// A page of départements.
#[derive(Debug, Serialize, ToSchema)]
pub struct DepartementPage {
    /// The départements of this page, in code order.
    pub items: Vec<DepartementView>,
    /// Pass as `cursor` to get the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

/// Filters and paging of the list.
#[derive(Debug, Deserialize, Validate, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListDepartementsQuery {
    /// Page size, 1 to 200 (default 50).
    #[validate(range(min = 1, max = 200, message = "limit must be from 1 to 200"))]
    #[param(minimum = 1, maximum = 200, default = 50)]
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page (opaque).
    #[param(pattern = "^([0-9]{2}|2[ABab]|9[78][0-9])$")]
    pub cursor: Option<String>,
    /// Only the départements of this region (INSEE region code).
    #[param(pattern = "^[0-9]{2}$", example = "11")]
    pub region: Option<String>,
}

/// List départements, optionally of one region.
#[utoipa::path(
    operation_id = "listDepartements",
    tag = "reference",
    summary = "List départements",
    description = "All 101 French départements (Corsica and overseas included) in INSEE code order, \
                   with their region. Cursor-paginated; cacheable.",
    params(ListDepartementsQuery),
    security(()),
    responses(
        (status = 200, description = "A page of départements", body = DepartementPage,
         headers(("ETag" = String, description = "Entity tag of this page"),
                 ("Cache-Control" = String, description = "Caching policy"))),
        (status = 304, description = "Not modified since the `If-None-Match` tag"),
        (status = 400, response = crate::problem::BadRequest),
        (status = 503, response = crate::problem::Unavailable),
    ),
)]
#[get("/departements")]
pub async fn list(
    req: HttpRequest,
    state: web::Data<AppState>,
    query: ApiQuery<ListDepartementsQuery>,
) -> Result<HttpResponse, ApiError> {
    let query = query.into_inner()?;
    let region = query
        .region
        .as_deref()
        .map(RegionCode::parse)
        .transpose()
        .map_err(|e| ApiError::invalid_field("region", "format", e.to_string()))?;
    let after = query
        .cursor
        .as_deref()
        .map(DepartementCode::parse)
        .transpose()
        .map_err(|_| {
            ApiError::invalid_field("cursor", "format", "cursor is not one this API gave")
        })?;
    let limit = query.limit.unwrap_or(DEFAULT_LIMIT).min(MAX_LIMIT);
    let filter = DepartementFilter {
        region,
        after: after.map(|c| c.as_str().to_owned()),
        limit: i64::from(limit) + 1,
    };
    let mut rows = state
        .db
        .run(move |conn| territory::list_departements(conn, &filter))
        .await?;
    let next_cursor = if rows.len() > limit as usize {
        rows.truncate(limit as usize);
        rows.last().map(|d| d.code.clone())
    } else {
        None
    };
    let page = DepartementPage {
        items: rows.into_iter().map(DepartementView::from).collect(),
        next_cursor,
    };
    json_with_etag(&req, &page, CACHE_REFERENCE)
}

/// One département by its INSEE code.
#[utoipa::path(
    operation_id = "getDepartement",
    tag = "reference",
    summary = "Get a département",
    description = "A malformed code is a 400; a well-formed code that names no département is a 404.",
    params(("code" = String, Path, description = "INSEE code", pattern = "^([0-9]{2}|2[ABab]|9[78][0-9])$", example = "2A")),
    security(()),
    responses(
        (status = 200, description = "The département", body = DepartementView,
         headers(("ETag" = String, description = "Entity tag of the resource"),
                 ("Cache-Control" = String, description = "Caching policy"))),
        (status = 304, description = "Not modified since the `If-None-Match` tag"),
        (status = 400, response = crate::problem::BadRequest),
        (status = 404, response = crate::problem::NotFound),
        (status = 503, response = crate::problem::Unavailable),
    ),
)]
#[get("/departements/{code}")]
pub async fn get(
    req: HttpRequest,
    state: web::Data<AppState>,
    code: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let code = DepartementCode::parse(&code)
        .map_err(|e| ApiError::invalid_field("code", "format", e.to_string()))?;
    let shown = code.to_string();
    let found = state
        .db
        .run(move |conn| territory::find_departement(conn, &code))
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no département has the code {shown}")))?;
    json_with_etag(&req, &DepartementView::from(found), CACHE_REFERENCE)
}
