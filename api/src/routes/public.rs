//! Public information, no login: the map of permanences (GeoJSON), the
//! directory of professionals and resources, the team's contacts per
//! département. No personal data; cacheable (`ETag`, `Cache-Control`,
//! 304); rate-limited per client address; page sizes capped.

use std::time::Instant;

use actix_web::{HttpRequest, HttpResponse, get, web};
use adosexo_domain::public::{self as rules, NATIONAL};
use adosexo_domain::schedule::series::OccurrenceStatus;
use adosexo_domain::{DepartementCode, RegionCode};
use adosexo_persistence::DbConnection;
use adosexo_persistence::public::{self, DirectoryFilter, DirectoryRow};
use adosexo_persistence::schedule::{self, PermanenceFilter, SiteFilter};
use adosexo_persistence::territory::{self, DepartementFilter};
use chrono::{DateTime, Duration, FixedOffset, NaiveDate};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use super::cases::stored;
use super::permanences as perm;
use super::scheduling::paris;
use crate::context::RequestContext;
use crate::extract::ApiQuery;
use crate::http_cache::{json_with_etag, json_with_etag_as};
use crate::problem::ApiError;
use crate::state::AppState;
use crate::wire::{AudienceWire, DirectoryCategoryWire, SiteKindWire};

/// Public data may be cached five minutes.
pub const CACHE_PUBLIC: &str = "public, max-age=300";

/// How far ahead the map shows permanence dates.
const MAP_HORIZON_DAYS: i64 = 92;
/// How many next dates per site.
const NEXT_PER_SITE: usize = 3;

/// Counts the request against its address's allowance.
pub fn limit_rate(state: &AppState, req: &HttpRequest) -> Result<(), ApiError> {
    let ctx = RequestContext::of(req);
    state
        .public_limiter
        .check(ctx.client_addr.as_deref(), Instant::now())
}

/// `"FeatureCollection"`.
#[derive(Debug, Serialize, ToSchema)]
pub enum CollectionType {
    /// The only value.
    FeatureCollection,
}

/// `"Feature"`.
#[derive(Debug, Serialize, ToSchema)]
pub enum FeatureType {
    /// The only value.
    Feature,
}

/// `"Point"`.
#[derive(Debug, Serialize, ToSchema)]
pub enum PointType {
    /// The only value.
    Point,
}

/// A GeoJSON point (RFC 7946): longitude first.
#[derive(Debug, Serialize, ToSchema)]
pub struct Point {
    /// `Point`.
    #[serde(rename = "type")]
    pub kind: PointType,
    /// `[longitude, latitude]` (WGS 84).
    #[schema(min_items = 2, max_items = 2)]
    pub coordinates: [f64; 2],
}

/// A next date of a permanence.
#[derive(Debug, Serialize, ToSchema)]
pub struct NextOccurrence {
    /// The permanence.
    pub permanence_id: String,
    /// Its title.
    pub title: String,
    /// Whom it is for.
    pub audience: AudienceWire,
    /// Start, Paris time with offset.
    pub starts_at: DateTime<FixedOffset>,
    /// End, Paris time with offset.
    pub ends_at: DateTime<FixedOffset>,
}

/// What the map shows of a site.
#[derive(Debug, Serialize, ToSchema)]
pub struct SiteProperties {
    /// Name.
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
    /// Access notes.
    pub accessibility: Option<String>,
    /// The next permanence dates (up to 3, within three months).
    pub next_occurrences: Vec<NextOccurrence>,
    /// Great-circle distance from `near`, in kilometres.
    pub distance_km: Option<f64>,
}

/// A site on the map.
#[derive(Debug, Serialize, ToSchema)]
pub struct SiteFeature {
    /// `Feature`.
    #[serde(rename = "type")]
    pub kind: FeatureType,
    /// The site's id.
    pub id: String,
    /// Where.
    pub geometry: Point,
    /// What.
    pub properties: SiteProperties,
}

/// The public sites (RFC 7946 FeatureCollection).
#[derive(Debug, Serialize, ToSchema)]
pub struct SiteCollection {
    /// `FeatureCollection`.
    #[serde(rename = "type")]
    pub kind: CollectionType,
    /// The sites.
    pub features: Vec<SiteFeature>,
}

/// Filters of the map.
#[derive(Debug, Deserialize, Validate, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct MapQuery {
    /// Only sites of this département.
    #[param(pattern = "^([0-9]{2}|2[ABab]|9[78][0-9])$")]
    #[validate(custom(function = "crate::wire::departement_code"))]
    pub departement: Option<String>,
    /// Only sites of this region (INSEE code, e.g. 11 for Île-de-France).
    #[param(pattern = "^[0-9]{2}$")]
    pub region: Option<String>,
    /// `latitude,longitude`: order by distance from this point and give it.
    #[param(
        pattern = "^-?(90(\\.0+)?|[1-8]?[0-9](\\.[0-9]+)?),-?(180(\\.0+)?|(1[0-7][0-9]|[1-9]?[0-9])(\\.[0-9]+)?)$",
        example = "48.8566,2.3522"
    )]
    pub near: Option<String>,
    /// How many sites at most, 1 to 500 (default 200).
    #[validate(range(min = 1, max = 500, message = "limit must be from 1 to 500"))]
    #[param(minimum = 1, maximum = 500, default = 200)]
    pub limit: Option<u32>,
}

fn parse_near(near: &str) -> Result<(f64, f64), ApiError> {
    let bad = || {
        ApiError::invalid_field(
            "near",
            "format",
            "near is latitude,longitude in degrees, e.g. 48.8566,2.3522",
        )
    };
    let (lat, lon) = near.split_once(',').ok_or_else(bad)?;
    let lat: f64 = lat.trim().parse().map_err(|_| bad())?;
    let lon: f64 = lon.trim().parse().map_err(|_| bad())?;
    if !(-90.0..=90.0).contains(&lat) || !(-180.0..=180.0).contains(&lon) {
        return Err(bad());
    }
    Ok((lat, lon))
}

/// The map of public sites and their next permanence dates.
#[utoipa::path(
    operation_id = "listPublicSites",
    tag = "public",
    summary = "Map of permanences (GeoJSON)",
    description = "Public, active sites as an RFC 7946 FeatureCollection (longitude first) with their next permanence dates in Paris time. `near` orders by great-circle distance and gives `distance_km`. No login; rate-limited per address.",
    params(MapQuery),
    security(()),
    responses(
        (status = 200, description = "The sites", content_type = "application/geo+json", body = SiteCollection,
         headers(("ETag" = String, description = "Entity tag"), ("Cache-Control" = String, description = "Caching policy"))),
        (status = 304, description = "Not modified since the `If-None-Match` tag"),
        (status = 400, response = crate::problem::BadRequest),
        (status = 429, response = crate::problem::TooManyRequests),
        (status = 503, response = crate::problem::Unavailable),
    ),
)]
#[get("/public/sites")]
pub async fn sites(
    req: HttpRequest,
    state: web::Data<AppState>,
    query: ApiQuery<MapQuery>,
) -> Result<HttpResponse, ApiError> {
    limit_rate(&state, &req)?;
    let query = query.into_inner()?;
    let near = query.near.as_deref().map(parse_near).transpose()?;
    let departement = query
        .departement
        .as_deref()
        .map(DepartementCode::parse)
        .transpose()
        .map_err(|e| ApiError::invalid_field("departement", "format", e.to_string()))?;
    let region = query
        .region
        .as_deref()
        .map(RegionCode::parse)
        .transpose()
        .map_err(|e| ApiError::invalid_field("region", "format", e.to_string()))?;
    let limit = query.limit.unwrap_or(200) as usize;
    // The map shows dates from the start of today (Paris), so today's
    // permanence stays visible all day.
    let now = state.clock.now();
    let collection = state
        .db
        .run(move |conn| public_sites(conn, now, departement, region, near, limit))
        .await?;
    json_with_etag_as(&req, &collection, CACHE_PUBLIC, "application/geo+json")
}

/// The public, active sites (of a département, or a region, or all) with
/// their next dates from `now`, ordered by distance from `near` when given,
/// else by département and name; at most `limit`. The map endpoint and the
/// public page (`crate::page`) both read this.
pub fn public_sites(
    conn: &mut DbConnection,
    now: DateTime<chrono::Utc>,
    departement: Option<DepartementCode>,
    region: Option<RegionCode>,
    near: Option<(f64, f64)>,
    limit: usize,
) -> Result<SiteCollection, ApiError> {
    let departements = match (departement, region) {
        (Some(d), _) => Some(vec![d.as_str().to_owned()]),
        (None, Some(r)) => Some(
            territory::list_departements(
                conn,
                &DepartementFilter {
                    region: Some(r),
                    after: None,
                    limit: 200,
                },
            )?
            .into_iter()
            .map(|d| d.code)
            .collect(),
        ),
        (None, None) => None,
    };
    let site_rows = schedule::list_sites(
        conn,
        &SiteFilter {
            departements: departements.clone(),
            public_only: true,
            status: Some("active".to_owned()),
            after: None,
            limit: 5000,
        },
    )?;
    let permanences = schedule::list_permanences(
        conn,
        &PermanenceFilter {
            departements,
            public_sites_only: true,
            status: Some("active".to_owned()),
            limit: 10_000,
            ..PermanenceFilter::default()
        },
    )?;
    let loaded = perm::load_many(conn, permanences)?;
    // One read of the reference data rather than one per site.
    let regions = super::sites::regions_by_departement(conn)?;
    let mut features = Vec::with_capacity(site_rows.len());
    for site in site_rows {
        let mut next = Vec::new();
        for p in loaded.iter().filter(|p| p.site.id == site.id) {
            for o in p.occurrences(now, now + Duration::days(MAP_HORIZON_DAYS))? {
                if o.status == OccurrenceStatus::Cancelled || o.end <= now {
                    continue;
                }
                next.push(NextOccurrence {
                    permanence_id: p.row.id.clone(),
                    title: p.row.title.clone(),
                    audience: AudienceWire(stored(&p.row.audience)?),
                    starts_at: paris(o.start),
                    ends_at: paris(o.end),
                });
            }
        }
        next.sort_by_key(|n| n.starts_at);
        next.truncate(NEXT_PER_SITE);
        let distance_km =
            near.map(|(lat, lon)| rules::great_circle_km(lat, lon, site.latitude, site.longitude));
        features.push(SiteFeature {
            kind: FeatureType::Feature,
            geometry: Point {
                kind: PointType::Point,
                coordinates: [site.longitude, site.latitude],
            },
            properties: SiteProperties {
                region_code: regions
                    .get(&site.departement_code)
                    .cloned()
                    .ok_or_else(|| ApiError::internal("site in an unknown département"))?,
                kind: SiteKindWire(stored(&site.kind)?),
                name: site.name,
                address: site.address,
                postcode: site.postcode,
                city: site.city,
                departement_code: site.departement_code,
                accessibility: site.accessibility,
                next_occurrences: next,
                distance_km,
            },
            id: site.id,
        });
    }
    if near.is_some() {
        features.sort_by(|a, b| {
            a.properties
                .distance_km
                .unwrap_or(f64::MAX)
                .total_cmp(&b.properties.distance_km.unwrap_or(f64::MAX))
                .then_with(|| a.id.cmp(&b.id))
        });
    } else {
        features.sort_by(|a, b| {
            (&a.properties.departement_code, &a.properties.name, &a.id).cmp(&(
                &b.properties.departement_code,
                &b.properties.name,
                &b.id,
            ))
        });
    }
    features.truncate(limit);
    Ok::<_, ApiError>(SiteCollection {
        kind: CollectionType::FeatureCollection,
        features,
    })
}

/// A directory entry.
#[derive(Debug, Serialize, ToSchema)]
pub struct DirectoryEntryView {
    /// Id.
    pub id: String,
    /// Name of the service or professional.
    pub name: String,
    /// Organisation.
    pub organisation: Option<String>,
    /// Category.
    pub category: DirectoryCategoryWire,
    /// Serves the whole country.
    pub national: bool,
    /// Départements served (empty when national).
    pub departements: Vec<String>,
    /// Address.
    pub address: Option<String>,
    /// Phone.
    pub phone: Option<String>,
    /// E-mail.
    pub email: Option<String>,
    /// Website.
    pub website: Option<String>,
    /// When the team last checked it.
    pub last_verified: Option<NaiveDate>,
    /// Version, as in the `ETag` of the admin view.
    pub version: i64,
}

/// An entry for the wire.
pub fn entry_view(row: DirectoryRow) -> Result<DirectoryEntryView, ApiError> {
    Ok(DirectoryEntryView {
        category: DirectoryCategoryWire(stored(&row.category)?),
        departements: row
            .departements
            .split(',')
            .filter(|c| !c.is_empty())
            .map(str::to_owned)
            .collect(),
        last_verified: row
            .last_verified
            .as_deref()
            .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok()),
        id: row.id,
        name: row.name,
        organisation: row.organisation,
        national: row.national,
        address: row.address,
        phone: row.phone,
        email: row.email,
        website: row.website,
        version: row.version,
    })
}

/// A page of directory entries, by name.
#[derive(Debug, Serialize, ToSchema)]
pub struct DirectoryPage {
    /// By name.
    pub items: Vec<DirectoryEntryView>,
    /// Pass as `cursor` for the next page; `null` on the last.
    pub next_cursor: Option<String>,
}

/// Directory search.
#[derive(Debug, Deserialize, Validate, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DirectoryQuery {
    /// Entries serving this département (national ones included).
    #[param(pattern = "^([0-9]{2}|2[ABab]|9[78][0-9])$")]
    #[validate(custom(function = "crate::wire::departement_code"))]
    pub departement: Option<String>,
    /// Only this category.
    pub category: Option<DirectoryCategoryWire>,
    /// Words to find in the name, organisation, address or départements
    /// (accents and case ignored).
    #[validate(length(max = 200, message = "q has at most 200 characters"))]
    #[param(max_length = 200)]
    pub q: Option<String>,
    /// The `next_cursor` of the previous page.
    #[validate(length(max = 2000, message = "cursor is not one this API gave"))]
    #[param(
        max_length = 2000,
        pattern = "^(0[1-9a-f]|[1-9a-f][0-9a-f])*\\.[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
    )]
    pub cursor: Option<String>,
    /// Page size, 1 to 100 (default 20).
    #[validate(range(min = 1, max = 100, message = "limit must be from 1 to 100"))]
    #[param(minimum = 1, maximum = 100, default = 20)]
    pub limit: Option<u32>,
}

/// The cursor after `row`: its name in hex, then its id (a position, not a
/// secret; any well-formed cursor is a valid position). No name holds a NUL
/// character (refused on input, and PostgreSQL cannot store one), so a
/// cursor spelling one (`00`) is not one this API gave.
fn directory_cursor(row: &DirectoryRow) -> String {
    let hex: String = row.name.bytes().map(|b| format!("{b:02x}")).collect();
    format!("{hex}.{}", row.id)
}

fn parse_directory_cursor(cursor: &str) -> Result<(String, String), ApiError> {
    let bad = || ApiError::invalid_field("cursor", "format", "cursor is not one this API gave");
    let (name, id) = cursor.split_once('.').ok_or_else(bad)?;
    if name.len() % 2 != 0 {
        return Err(bad());
    }
    let bytes = (0..name.len())
        .step_by(2)
        .map(|i| {
            name.get(i..i + 2)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        })
        .collect::<Option<Vec<u8>>>()
        .filter(|bytes| !bytes.contains(&0))
        .ok_or_else(bad)?;
    let name = String::from_utf8_lossy(&bytes).into_owned();
    let id = uuid::Uuid::parse_str(id)
        .map_err(|_| bad())?
        .hyphenated()
        .to_string();
    Ok((name, id))
}

/// The words of a directory search, folded (accents, case), ten at most.
pub fn search_words(q: &str) -> Vec<String> {
    rules::search_key(q)
        .split(' ')
        .filter(|w| !w.is_empty())
        .take(10)
        .map(str::to_owned)
        .collect()
}

/// Search the directory.
#[utoipa::path(
    operation_id = "searchDirectory",
    tag = "public",
    summary = "Directory of professionals and resources",
    description = "Legal aid, lawyers, psychologists, health, associations, helplines, justice, police, social services. Text search ignores accents and case (\"seine saint denis\" finds \"Seine-Saint-Denis\"). No login; rate-limited per address.",
    params(DirectoryQuery),
    security(()),
    responses(
        (status = 200, description = "A page of entries", body = DirectoryPage,
         headers(("ETag" = String, description = "Entity tag"), ("Cache-Control" = String, description = "Caching policy"))),
        (status = 304, description = "Not modified since the `If-None-Match` tag"),
        (status = 400, response = crate::problem::BadRequest),
        (status = 429, response = crate::problem::TooManyRequests),
        (status = 503, response = crate::problem::Unavailable),
    ),
)]
#[get("/public/directory")]
pub async fn directory(
    req: HttpRequest,
    state: web::Data<AppState>,
    query: ApiQuery<DirectoryQuery>,
) -> Result<HttpResponse, ApiError> {
    limit_rate(&state, &req)?;
    let query = query.into_inner()?;
    let after = query
        .cursor
        .as_deref()
        .map(parse_directory_cursor)
        .transpose()?;
    let departement = query
        .departement
        .as_deref()
        .map(DepartementCode::parse)
        .transpose()
        .map_err(|e| ApiError::invalid_field("departement", "format", e.to_string()))?;
    let limit = query.limit.unwrap_or(20);
    let words = search_words(query.q.as_deref().unwrap_or_default());
    let filter = DirectoryFilter {
        departement: departement.map(|d| d.as_str().to_owned()),
        category: query.category.map(|c| c.0.as_str().to_owned()),
        words,
        after,
        limit: i64::from(limit) + 1,
    };
    let rows = state
        .db
        .run(move |conn| public::search_entries(conn, &filter))
        .await?;
    let (rows, next_cursor) = crate::pagination::page(rows, limit, directory_cursor);
    let items = rows.into_iter().map(entry_view).collect::<Result<_, _>>()?;
    json_with_etag(&req, &DirectoryPage { items, next_cursor }, CACHE_PUBLIC)
}

/// The team answering for a département.
#[derive(Debug, Serialize, ToSchema)]
pub struct ContactView {
    /// The département asked for (`null` in the full list).
    pub departement_code: Option<String>,
    /// Whose contact this is: a département code or `national`.
    pub scope: String,
    /// The team.
    pub team: String,
    /// E-mail.
    pub email: String,
    /// Phone.
    pub phone: String,
    /// The national contact stands in: no team covers the département.
    pub fallback: bool,
}

/// Contacts.
#[derive(Debug, Serialize, ToSchema)]
pub struct ContactList {
    /// One item for a département; every contact otherwise.
    pub items: Vec<ContactView>,
}

/// Which contact.
#[derive(Debug, Deserialize, Validate, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ContactQuery {
    /// The département; without it, every contact.
    #[param(pattern = "^([0-9]{2}|2[ABab]|9[78][0-9])$", example = "93")]
    #[validate(custom(function = "crate::wire::departement_code"))]
    pub departement: Option<String>,
}

/// The contact of a département: its team's, else the national one
/// (`fallback`); 404 for an unknown code.
pub fn contact_for(
    conn: &mut DbConnection,
    departement: &DepartementCode,
) -> Result<ContactView, ApiError> {
    if territory::find_departement(conn, departement)?.is_none() {
        return Err(ApiError::not_found("no département has this code"));
    }
    if let Some(own) = public::find_contact(conn, departement.as_str())? {
        return Ok(ContactView {
            departement_code: Some(departement.as_str().to_owned()),
            scope: own.scope,
            team: own.team,
            email: own.email,
            phone: own.phone,
            fallback: false,
        });
    }
    let national = public::find_contact(conn, NATIONAL)?
        .ok_or_else(|| ApiError::not_found("no contact is configured yet"))?;
    Ok(ContactView {
        departement_code: Some(departement.as_str().to_owned()),
        scope: national.scope,
        team: national.team,
        email: national.email,
        phone: national.phone,
        fallback: true,
    })
}

/// The team to contact.
#[utoipa::path(
    operation_id = "getPublicContacts",
    tag = "public",
    summary = "Contacts per département",
    description = "The team's e-mail and phone for a département, the national contact when no team covers it; every contact without `departement`. No login; rate-limited per address.",
    params(ContactQuery),
    security(()),
    responses(
        (status = 200, description = "Contacts", body = ContactList,
         headers(("ETag" = String, description = "Entity tag"), ("Cache-Control" = String, description = "Caching policy"))),
        (status = 304, description = "Not modified since the `If-None-Match` tag"),
        (status = 400, response = crate::problem::BadRequest),
        (status = 404, response = crate::problem::NotFound),
        (status = 429, response = crate::problem::TooManyRequests),
        (status = 503, response = crate::problem::Unavailable),
    ),
)]
#[get("/public/contacts")]
pub async fn contacts(
    req: HttpRequest,
    state: web::Data<AppState>,
    query: ApiQuery<ContactQuery>,
) -> Result<HttpResponse, ApiError> {
    limit_rate(&state, &req)?;
    let query = query.into_inner()?;
    let departement = query
        .departement
        .as_deref()
        .map(DepartementCode::parse)
        .transpose()
        .map_err(|e| ApiError::invalid_field("departement", "format", e.to_string()))?;
    let list = state
        .db
        .run(move |conn| match departement {
            Some(d) => Ok(ContactList {
                items: vec![contact_for(conn, &d)?],
            }),
            None => Ok::<_, ApiError>(ContactList {
                items: public::list_contacts(conn)?
                    .into_iter()
                    .map(|c| ContactView {
                        departement_code: None,
                        scope: c.scope,
                        team: c.team,
                        email: c.email,
                        phone: c.phone,
                        fallback: false,
                    })
                    .collect(),
            }),
        })
        .await?;
    json_with_etag(&req, &list, CACHE_PUBLIC)
}
