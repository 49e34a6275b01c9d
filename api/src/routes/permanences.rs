//! Permanences: recurring opening hours of the team at a site, held by
//! named staff, with exceptions (one occurrence cancelled or moved), a
//! split for "this and following" changes, and their expansion.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, put, web};
use adosexo_domain::DepartementCode;
use adosexo_domain::authz::{Action, Resource};
use adosexo_domain::professional as agreement_rules;
use adosexo_domain::schedule::recurrence::Recurrence;
use adosexo_domain::schedule::series::{
    self, ExceptionKind, LocalSpan, Occurrence, PartOfDay, Series, SeriesException, SpanError,
};
use adosexo_domain::schedule::{PARIS, ScheduleStatus};
use adosexo_persistence::DbConnection;
use adosexo_persistence::professional;
use adosexo_persistence::schedule::{
    self, ExceptionRow, PermanenceChanges, PermanenceFilter, PermanenceRow, SiteRow,
};
use adosexo_persistence::time::to_db;
use chrono::{DateTime, FixedOffset, NaiveDate, NaiveTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use super::cases::{cursor_of, parse_cursor, stored, stored_departement};
use super::scheduling::{check_range, check_staff, paris};
use crate::audit::{self, Outcome};
use crate::auth::Authenticated;
use crate::extract::{ApiJson, ApiQuery};
use crate::guard::permit;
use crate::http_cache::{if_match, versioned_json};
use crate::idempotency::{self, Created, IdempotencyKey, Operation, Replay};
use crate::pagination::{limit, page, parse_id};
use crate::problem::ApiError;
use crate::state::AppState;
use crate::wire::{AudienceWire, PartOfDayWire, ScheduleStatusWire, instant};

/// A permanence with what it needs to be expanded.
#[derive(Clone, Debug)]
pub struct Loaded {
    /// The series.
    pub row: PermanenceRow,
    /// Its site.
    pub site: SiteRow,
    /// Staff holding it.
    pub staff: Vec<String>,
    /// Cancelled and moved occurrences.
    pub exceptions: Vec<ExceptionRow>,
}

impl Loaded {
    /// The domain series.
    pub fn series(&self) -> Result<Series, ApiError> {
        let bad = |what: &str| ApiError::internal(format!("stored permanence {what}"));
        let dtstart =
            NaiveDate::parse_from_str(&self.row.dtstart, "%Y-%m-%d").map_err(|_| bad("dtstart"))?;
        let recurrence = Recurrence::parse(&self.row.rrule, dtstart).map_err(|_| bad("rrule"))?;
        let start =
            NaiveTime::parse_from_str(&self.row.start_time, "%H:%M").map_err(|_| bad("start"))?;
        let end = NaiveTime::parse_from_str(&self.row.end_time, "%H:%M").map_err(|_| bad("end"))?;
        let span = LocalSpan::new(start, end).map_err(|_| bad("span"))?;
        Ok(Series {
            dtstart,
            recurrence,
            span,
        })
    }

    /// The exceptions as the domain sees them.
    pub fn domain_exceptions(&self) -> Vec<SeriesException> {
        self.exceptions
            .iter()
            .filter_map(|e| {
                let original_date = NaiveDate::parse_from_str(&e.original_date, "%Y-%m-%d").ok()?;
                let kind = match (e.kind.as_str(), e.starts_at, e.ends_at) {
                    ("moved", Some(s), Some(t)) => ExceptionKind::Moved {
                        start: s.and_utc().with_timezone(&PARIS).naive_local(),
                        end: t.and_utc().with_timezone(&PARIS).naive_local(),
                    },
                    _ => ExceptionKind::Cancelled,
                };
                Some(SeriesException {
                    original_date,
                    kind,
                })
            })
            .collect()
    }

    /// Occurrences overlapping `[from, to)` (cancelled ones included);
    /// none for a closed permanence or site.
    pub fn occurrences(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<Occurrence>, ApiError> {
        if self.row.status != ScheduleStatus::Active.as_str()
            || self.site.status != ScheduleStatus::Active.as_str()
        {
            return Ok(Vec::new());
        }
        Ok(series::expand(
            &self.series()?,
            &self.domain_exceptions(),
            from,
            to,
        ))
    }
}

/// Loads the site, staff and exceptions of these permanences (batched).
pub fn load_many(
    conn: &mut DbConnection,
    rows: Vec<PermanenceRow>,
) -> Result<Vec<Loaded>, ApiError> {
    let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
    let staff = schedule::staff_of_permanences(conn, &ids)?;
    let exceptions = schedule::exceptions_of(conn, &ids)?;
    let mut sites: Vec<SiteRow> = Vec::new();
    rows.into_iter()
        .map(|row| {
            let site = match sites.iter().find(|s| s.id == row.site_id) {
                Some(site) => site.clone(),
                None => {
                    let site = schedule::find_site(conn, &row.site_id)?
                        .ok_or_else(|| ApiError::internal("permanence without site"))?;
                    sites.push(site.clone());
                    site
                }
            };
            Ok(Loaded {
                staff: staff
                    .iter()
                    .filter(|(p, _)| *p == row.id)
                    .map(|(_, a)| a.clone())
                    .collect(),
                exceptions: exceptions
                    .iter()
                    .filter(|e| e.permanence_id == row.id)
                    .cloned()
                    .collect(),
                site,
                row,
            })
        })
        .collect()
}

/// One permanence, loaded.
pub fn load_one(conn: &mut DbConnection, id: &str) -> Result<Option<Loaded>, ApiError> {
    match schedule::find_permanence(conn, id)? {
        Some(row) => Ok(load_many(conn, vec![row])?.pop()),
        None => Ok(None),
    }
}

/// A cancelled or moved occurrence.
#[derive(Debug, Serialize, ToSchema)]
pub struct ExceptionView {
    /// The occurrence's original date.
    pub original_date: NaiveDate,
    /// `cancelled` or `moved`.
    pub status: String,
    /// New start (moved), Paris time with offset.
    pub starts_at: Option<DateTime<FixedOffset>>,
    /// New end (moved).
    pub ends_at: Option<DateTime<FixedOffset>>,
    /// Why.
    pub reason: Option<String>,
}

/// A permanence.
#[derive(Debug, Serialize, ToSchema)]
pub struct PermanenceView {
    /// Id.
    pub id: String,
    /// The site.
    pub site_id: String,
    /// The site's département.
    pub departement_code: String,
    /// Title.
    pub title: String,
    /// Recurrence (RFC 5545 RRULE subset), canonical form.
    pub rrule: String,
    /// First candidate date.
    pub dtstart: NaiveDate,
    /// Last occurrence's date, when the rule ends.
    pub last_date: Option<NaiveDate>,
    /// Part of day.
    pub part_of_day: PartOfDayWire,
    /// Local start time (Europe/Paris), `HH:MM`.
    pub start_time: String,
    /// Local end time, `HH:MM`.
    pub end_time: String,
    /// Whom it is for.
    pub audience: AudienceWire,
    /// In use or closed.
    pub status: ScheduleStatusWire,
    /// Staff holding it.
    pub staff_ids: Vec<String>,
    /// Cancelled and moved occurrences.
    pub exceptions: Vec<ExceptionView>,
    /// The series this one continues (after a "this and following" change).
    pub follows_id: Option<String>,
    /// Version, as in the `ETag`.
    pub version: i64,
    /// Created at.
    pub created_at: DateTime<Utc>,
    /// Last changed at.
    pub updated_at: DateTime<Utc>,
}

fn view(loaded: Loaded) -> Result<PermanenceView, ApiError> {
    let date = |d: &str| {
        NaiveDate::parse_from_str(d, "%Y-%m-%d")
            .map_err(|_| ApiError::internal("stored permanence date"))
    };
    let exceptions = loaded
        .exceptions
        .iter()
        .map(|e| {
            Ok(ExceptionView {
                original_date: date(&e.original_date)?,
                status: e.kind.clone(),
                starts_at: e.starts_at.map(|s| paris(instant(s))),
                ends_at: e.ends_at.map(|s| paris(instant(s))),
                reason: e.reason.clone(),
            })
        })
        .collect::<Result<Vec<_>, ApiError>>()?;
    let row = loaded.row;
    Ok(PermanenceView {
        departement_code: loaded.site.departement_code,
        dtstart: date(&row.dtstart)?,
        last_date: row.last_date.as_deref().map(date).transpose()?,
        part_of_day: PartOfDayWire(stored(&row.part_of_day)?),
        audience: AudienceWire(stored(&row.audience)?),
        status: ScheduleStatusWire(stored(&row.status)?),
        staff_ids: loaded.staff,
        exceptions,
        id: row.id,
        site_id: row.site_id,
        title: row.title,
        rrule: row.rrule,
        start_time: row.start_time,
        end_time: row.end_time,
        follows_id: row.follows_id,
        version: row.version,
        created_at: instant(row.created_at),
        updated_at: instant(row.updated_at),
    })
}

/// Loads a permanence and checks `action` on its site's département.
async fn authorized(
    state: &AppState,
    auth: &Authenticated,
    id: &str,
    action: Action,
) -> Result<Loaded, ApiError> {
    permit(
        state,
        auth,
        Action::ReadPermanence,
        Resource::Service,
        "permanence",
        None,
    )
    .await?;
    let lookup = id.to_owned();
    let loaded = state.db.run(move |conn| load_one(conn, &lookup)).await?;
    let loaded = loaded.ok_or_else(|| ApiError::not_found("no permanence with this id"))?;
    if action != Action::ReadPermanence {
        let departement = stored_departement(&loaded.site.departement_code)?;
        permit(
            state,
            auth,
            action,
            Resource::Site {
                departement: &departement,
            },
            "permanence",
            Some(id),
        )
        .await?;
    }
    Ok(loaded)
}

/// The hours of a series: the part of day's defaults, or explicit times.
fn span_of(
    part: PartOfDay,
    start: Option<&str>,
    end: Option<&str>,
) -> Result<(String, String), ApiError> {
    let time = |field: &str, text: Option<&str>| {
        text.map(|t| {
            NaiveTime::parse_from_str(t, "%H:%M")
                .map_err(|_| ApiError::invalid_field(field, "format", format!("{field} is HH:MM")))
        })
        .transpose()
    };
    let span = part
        .span(time("start_time", start)?, time("end_time", end)?)
        .map_err(|e| {
            let field = match e {
                SpanError::EndBeforeStart => "end_time",
                SpanError::TimesNeedExplicit | SpanError::ExplicitNeedsTimes => "start_time",
            };
            ApiError::invalid_value(field, "part_of_day", e.to_string())
        })?;
    Ok((
        span.start().format("%H:%M").to_string(),
        span.end().format("%H:%M").to_string(),
    ))
}

/// The canonical rule and its last date, or a 422 saying what is wrong.
fn rule_of(rrule: &str, dtstart: NaiveDate) -> Result<(String, Option<String>), ApiError> {
    let recurrence = Recurrence::parse(rrule, dtstart)
        .map_err(|e| ApiError::rule("invalid-rrule", "Invalid recurrence rule", e.to_string()))?;
    let last = recurrence
        .last_date(dtstart)
        .map(|d| d.format("%Y-%m-%d").to_string());
    Ok((recurrence.to_rule_string(), last))
}

fn hhmm(value: &str) -> Result<(), validator::ValidationError> {
    if NaiveTime::parse_from_str(value, "%H:%M").is_ok() && value.len() == 5 {
        Ok(())
    } else {
        let mut error = validator::ValidationError::new("format");
        error.message = Some("a local time is HH:MM".into());
        Err(error)
    }
}

/// A new permanence.
#[derive(Debug, Deserialize, Serialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreatePermanence {
    /// The site.
    #[validate(custom(function = "crate::wire::uuid_text"))]
    #[schema(format = "uuid")]
    pub site_id: String,
    /// Title.
    #[validate(length(min = 1, max = 200, message = "title must have 1 to 200 characters"))]
    #[schema(min_length = 1, max_length = 200, example = "Permanence du 2e mardi")]
    pub title: String,
    /// Recurrence: `FREQ=WEEKLY` (BYDAY days) or `FREQ=MONTHLY` with one
    /// `BYDAY` like `2TU` or `-1FR`; `INTERVAL`; `UNTIL` or `COUNT`.
    #[validate(length(min = 1, max = 200, message = "rrule must have 1 to 200 characters"))]
    #[schema(min_length = 1, max_length = 200, example = "FREQ=MONTHLY;BYDAY=2TU")]
    pub rrule: String,
    /// First candidate date (an occurrence if it matches the rule).
    pub dtstart: NaiveDate,
    /// Part of day; `explicit` takes `start_time` and `end_time`.
    pub part_of_day: PartOfDayWire,
    /// Local start (Europe/Paris), `HH:MM`, for `explicit`.
    #[validate(custom(function = "hhmm"))]
    #[schema(pattern = "^([01][0-9]|2[0-3]):[0-5][0-9]$", example = "14:00")]
    pub start_time: Option<String>,
    /// Local end, `HH:MM`, for `explicit`.
    #[validate(custom(function = "hhmm"))]
    #[schema(pattern = "^([01][0-9]|2[0-3]):[0-5][0-9]$", example = "17:00")]
    pub end_time: Option<String>,
    /// Whom it is for.
    pub audience: AudienceWire,
    /// Staff holding it (1 to 10).
    #[validate(length(min = 1, max = 10, message = "staff_ids has 1 to 10 entries"))]
    #[validate(custom(function = "crate::wire::uuid_texts"))]
    #[schema(value_type = Vec<uuid::Uuid>, min_items = 1, max_items = 10)]
    pub staff_ids: Vec<String>,
    /// The partnership agreement a regional permanence is held under: it
    /// must be active, not expired, and cover the site's département (422
    /// naming the rule otherwise).
    #[validate(custom(function = "crate::wire::uuid_text"))]
    #[schema(format = "uuid")]
    pub agreement_id: Option<String>,
}

/// Create a permanence.
#[utoipa::path(
    operation_id = "createPermanence",
    tag = "scheduling",
    summary = "Create a permanence",
    description = "A recurring series at a site. Local times are Europe/Paris and stay put across daylight-saving changes. Rule errors are 422 `invalid-rrule` saying which part is wrong.",
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe: the same key and body replay the first answer (1 to 255 visible ASCII characters)", pattern = "^[!-~]{1,255}$")),
    request_body(content = CreatePermanence, content_type = "application/json"),
    security(("bearer" = [])),
    responses(
        (status = 201, description = "The permanence", body = PermanenceView, headers(("ETag" = String, description = "Its version"))),
        (status = 400, response = crate::problem::BadRequest),
        (status = 401, response = crate::problem::Unauthorized),
        (status = 403, response = crate::problem::Forbidden),
        (status = 413, response = crate::problem::PayloadTooLarge),
        (status = 415, response = crate::problem::UnsupportedMediaType),
        (status = 422, response = crate::problem::Unprocessable),
        (status = 503, response = crate::problem::Unavailable),
    ),
)]
#[post("/permanences")]
pub async fn create(
    state: web::Data<AppState>,
    auth: Authenticated,
    key: IdempotencyKey,
    body: ApiJson<CreatePermanence>,
) -> Result<HttpResponse, ApiError> {
    permit(
        &state,
        &auth,
        Action::ListPermanences,
        Resource::Service,
        "permanence",
        None,
    )
    .await?;
    let body = body.into_inner()?;
    let digest = idempotency::digest(&body)?;
    let site = super::sites::named(&state, &body.site_id).await?;
    let departement = stored_departement(&site.departement_code)?;
    permit(
        &state,
        &auth,
        Action::ManagePermanence,
        Resource::Site {
            departement: &departement,
        },
        "permanence",
        None,
    )
    .await?;
    let (start_time, end_time) = span_of(
        body.part_of_day.0,
        body.start_time.as_deref(),
        body.end_time.as_deref(),
    )?;
    let (rrule, last_date) = rule_of(&body.rrule, body.dtstart)?;
    let mut staff = body.staff_ids.clone();
    staff.sort();
    staff.dedup();
    let agreement_id = body
        .agreement_id
        .as_deref()
        .map(|a| parse_id("agreement_id", a))
        .transpose()?;
    let first_day = body.dtstart;
    let now = state.clock.now();
    let id = uuid::Uuid::now_v7().to_string();
    let row = PermanenceRow {
        id: id.clone(),
        site_id: site.id,
        title: body.title,
        rrule,
        dtstart: body.dtstart.format("%Y-%m-%d").to_string(),
        last_date,
        part_of_day: body.part_of_day.0.as_str().to_owned(),
        start_time,
        end_time,
        audience: body.audience.0.as_str().to_owned(),
        status: ScheduleStatus::Active.as_str().to_owned(),
        follows_id: None,
        version: 1,
        created_at: to_db(now),
        updated_at: to_db(now),
    };
    let entry = audit::entry(
        Some(&auth.actor),
        &auth.ctx,
        "create_permanence",
        "permanence",
        Some(&id),
        Outcome::Success,
    );
    idempotency::create(
        &state,
        &auth,
        key,
        Operation {
            name: "create_permanence",
            location: Some("/api/v1/permanences"),
            replay: Replay::Stored,
        },
        digest,
        move |conn| {
            check_staff(conn, "staff_ids", &staff)?;
            if let Some(agreement_id) = &agreement_id {
                let agreement =
                    professional::find_agreement(conn, agreement_id)?.ok_or_else(|| {
                        ApiError::invalid_value(
                            "agreement_id",
                            "unknown",
                            "no agreement has this id",
                        )
                    })?;
                agreement_rules::check_new_permanence(
                    stored(&agreement.status)?,
                    super::agreements::period_of(&agreement)?,
                    &super::agreements::covered(&agreement)?,
                    &departement,
                    super::agreements::today(now),
                    first_day,
                )
                .map_err(super::agreements::agreement_rule)?;
            }
            schedule::insert_permanence(conn, &row, &staff)?;
            if let Some(agreement_id) = &agreement_id {
                professional::attach_permanence(conn, agreement_id, &id)?;
            }
            adosexo_persistence::audit::append(conn, &[entry], now)?;
            let loaded = load_one(conn, &id)?
                .ok_or_else(|| ApiError::internal("permanence just written"))?;
            let version = loaded.row.version;
            Ok(Created {
                id: loaded.row.id.clone(),
                version,
                body: view(loaded)?,
                replay_body: None,
            })
        },
    )
    .await
}

/// A page of permanences, by last change.
#[derive(Debug, Serialize, ToSchema)]
pub struct PermanencePage {
    /// Oldest change first.
    pub items: Vec<PermanenceView>,
    /// Pass as `cursor` for the next page; `null` on the last.
    pub next_cursor: Option<String>,
}

/// Filters and paging.
#[derive(Debug, Deserialize, Validate, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PermanenceQuery {
    /// Page size, 1 to 200 (default 50).
    #[validate(range(min = 1, max = 200, message = "limit must be from 1 to 200"))]
    #[param(minimum = 1, maximum = 200, default = 50)]
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    #[param(
        pattern = "^[0-9]{1,16}_[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
    )]
    pub cursor: Option<String>,
    /// Only at this site.
    #[validate(custom(function = "crate::wire::uuid_text"))]
    #[param(format = "uuid")]
    pub site_id: Option<String>,
    /// Only at sites of this département.
    #[param(pattern = "^([0-9]{2}|2[ABab]|9[78][0-9])$")]
    #[validate(custom(function = "crate::wire::departement_code"))]
    pub departement: Option<String>,
    /// Only those this staff member holds.
    #[validate(custom(function = "crate::wire::uuid_text"))]
    #[param(format = "uuid")]
    pub staff_id: Option<String>,
}

/// List permanences.
#[utoipa::path(
    operation_id = "listPermanences",
    tag = "scheduling",
    summary = "List permanences",
    description = "Every staff role. Narrow by `site_id`, `departement`, `staff_id`; pages by `cursor`. The public sees the permanences through `listPublicSites`.",
    params(PermanenceQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "A page of permanences", body = PermanencePage),
        (status = 400, response = crate::problem::BadRequest),
        (status = 401, response = crate::problem::Unauthorized),
        (status = 403, response = crate::problem::Forbidden),
        (status = 503, response = crate::problem::Unavailable),
    ),
)]
#[get("/permanences")]
pub async fn list(
    state: web::Data<AppState>,
    auth: Authenticated,
    query: ApiQuery<PermanenceQuery>,
) -> Result<HttpResponse, ApiError> {
    permit(
        &state,
        &auth,
        Action::ListPermanences,
        Resource::Service,
        "permanence",
        None,
    )
    .await?;
    let query = query.into_inner()?;
    let after = query.cursor.as_deref().map(parse_cursor).transpose()?;
    let limit = limit(query.limit);
    let departement = query
        .departement
        .as_deref()
        .map(DepartementCode::parse)
        .transpose()
        .map_err(|e| ApiError::invalid_field("departement", "format", e.to_string()))?;
    let filter = PermanenceFilter {
        site_id: query.site_id,
        departements: departement.map(|d| vec![d.as_str().to_owned()]),
        staff_id: query.staff_id,
        public_sites_only: false,
        status: None,
        after,
        limit: i64::from(limit) + 1,
    };
    let rows = state
        .db
        .run(move |conn| schedule::list_permanences(conn, &filter))
        .await?;
    let (rows, next_cursor) = page(rows, limit, |r| cursor_of(r.updated_at, &r.id));
    let loaded = state.db.run(move |conn| load_many(conn, rows)).await?;
    let items = loaded.into_iter().map(view).collect::<Result<_, _>>()?;
    Ok(HttpResponse::Ok().json(PermanencePage { items, next_cursor }))
}

/// Read a permanence.
#[utoipa::path(
    operation_id = "getPermanence",
    tag = "scheduling",
    summary = "Get a permanence",
    description = "Every staff role. The permanence with its recurrence rule, times, site and staff; `ETag` is its version, for `updatePermanence`.",
    params(("id" = String, Path, description = "Permanence id", pattern = "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The permanence", body = PermanenceView, headers(("ETag" = String, description = "Its version"))),
        (status = 400, response = crate::problem::BadRequest),
        (status = 401, response = crate::problem::Unauthorized),
        (status = 403, response = crate::problem::Forbidden),
        (status = 404, response = crate::problem::NotFound),
        (status = 503, response = crate::problem::Unavailable),
    ),
)]
#[get("/permanences/{id}")]
pub async fn get(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = parse_id("id", &id)?;
    let loaded = authorized(&state, &auth, &id, Action::ReadPermanence).await?;
    let version = loaded.row.version;
    Ok(versioned_json(StatusCode::OK, &view(loaded)?, version))
}

/// Changes to the whole series; absent fields stay as they are.
#[derive(Debug, Deserialize, Serialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdatePermanence {
    /// Title.
    #[validate(length(min = 1, max = 200, message = "title must have 1 to 200 characters"))]
    #[schema(min_length = 1, max_length = 200)]
    pub title: Option<String>,
    /// Recurrence rule.
    #[validate(length(min = 1, max = 200, message = "rrule must have 1 to 200 characters"))]
    #[schema(min_length = 1, max_length = 200)]
    pub rrule: Option<String>,
    /// Part of day (with `start_time`/`end_time` for `explicit`).
    pub part_of_day: Option<PartOfDayWire>,
    /// Local start, `HH:MM`.
    #[validate(custom(function = "hhmm"))]
    #[schema(pattern = "^([01][0-9]|2[0-3]):[0-5][0-9]$")]
    pub start_time: Option<String>,
    /// Local end, `HH:MM`.
    #[validate(custom(function = "hhmm"))]
    #[schema(pattern = "^([01][0-9]|2[0-3]):[0-5][0-9]$")]
    pub end_time: Option<String>,
    /// Whom it is for.
    pub audience: Option<AudienceWire>,
    /// Staff holding it (replaces the list).
    #[validate(length(min = 1, max = 10, message = "staff_ids has 1 to 10 entries"))]
    #[validate(custom(function = "crate::wire::uuid_texts"))]
    #[schema(value_type = Option<Vec<uuid::Uuid>>, min_items = 1, max_items = 10)]
    pub staff_ids: Option<Vec<String>>,
    /// In use or closed.
    pub status: Option<ScheduleStatusWire>,
}

/// The changes to apply, checked against the current series.
fn changes_of(
    current: &PermanenceRow,
    dtstart: NaiveDate,
    body: &UpdatePermanence,
) -> Result<PermanenceChanges, ApiError> {
    let mut changes = PermanenceChanges {
        title: body.title.clone(),
        audience: body.audience.map(|a| a.0.as_str().to_owned()),
        status: body.status.map(|s| s.0.as_str().to_owned()),
        dtstart: Some(dtstart.format("%Y-%m-%d").to_string()),
        ..PermanenceChanges::default()
    };
    let rrule = body.rrule.as_deref().unwrap_or(&current.rrule);
    let (rule, last) = rule_of(rrule, dtstart)?;
    changes.rrule = Some(rule);
    changes.last_date = Some(last);
    if body.part_of_day.is_some() || body.start_time.is_some() || body.end_time.is_some() {
        let part = match body.part_of_day {
            Some(p) => p.0,
            None => stored(&current.part_of_day)?,
        };
        let (start, end) = span_of(part, body.start_time.as_deref(), body.end_time.as_deref())?;
        changes.part_of_day = Some(part.as_str().to_owned());
        changes.start_time = Some(start);
        changes.end_time = Some(end);
    }
    Ok(changes)
}

/// Change the whole series (needs `If-Match`).
#[utoipa::path(
    operation_id = "updatePermanence",
    tag = "scheduling",
    summary = "Change a permanence (the whole series)",
    description = "Changes every occurrence, past and future. To change only from a date on, split the series.",
    params(
        ("id" = String, Path, description = "Permanence id", pattern = "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"),
        ("If-Match" = String, Header, description = "The ETag of the version read", pattern = "^\"v[0-9]{1,18}\"$", example = "\"v1\""),
    ),
    request_body(content = UpdatePermanence, content_type = "application/json"),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The permanence", body = PermanenceView, headers(("ETag" = String, description = "Its new version"))),
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
#[patch("/permanences/{id}")]
pub async fn update(
    req: HttpRequest,
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<String>,
    body: ApiJson<UpdatePermanence>,
) -> Result<HttpResponse, ApiError> {
    let id = parse_id("id", &id)?;
    let loaded = authorized(&state, &auth, &id, Action::ManagePermanence).await?;
    let body = body.into_inner()?;
    let expected = if_match(&req)?;
    let dtstart = loaded.series()?.dtstart;
    let changes = changes_of(&loaded.row, dtstart, &body)?;
    let staff = body.staff_ids.map(|mut s| {
        s.sort();
        s.dedup();
        s
    });
    let now = state.clock.now();
    let entry = audit::entry(
        Some(&auth.actor),
        &auth.ctx,
        "update_permanence",
        "permanence",
        Some(&id),
        Outcome::Success,
    );
    let loaded = state
        .db
        .transaction(move |conn| {
            schedule::update_permanence(conn, &id, expected, &changes, now)?
                .ok_or_else(ApiError::precondition_failed)?;
            if let Some(staff) = &staff {
                check_staff(conn, "staff_ids", staff)?;
                schedule::set_permanence_staff(conn, &id, staff)?;
            }
            adosexo_persistence::audit::append(conn, &[entry], now)?;
            load_one(conn, &id)?.ok_or_else(|| ApiError::internal("permanence just written"))
        })
        .await?;
    let version = loaded.row.version;
    Ok(versioned_json(StatusCode::OK, &view(loaded)?, version))
}

/// Change from a date on: the series ends before it and a new one, with the
/// changes, continues from it.
#[derive(Debug, Deserialize, Serialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SplitPermanence {
    /// The first date the changes apply to.
    pub from_date: NaiveDate,
    /// The changes (as for the whole series).
    #[validate(nested)]
    pub changes: UpdatePermanence,
}

/// Change this occurrence and the following ones (needs `If-Match`).
#[utoipa::path(
    operation_id = "splitPermanence",
    tag = "scheduling",
    summary = "Change a permanence from a date on",
    description = "Ends the series before `from_date` and creates its continuation with the changes; exceptions from that date move to the new series. 201 with the new series.",
    params(
        ("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe: the same key and body replay the first answer (1 to 255 visible ASCII characters)", pattern = "^[!-~]{1,255}$"),
        ("id" = String, Path, description = "Permanence id", pattern = "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"),
        ("If-Match" = String, Header, description = "The ETag of the version read", pattern = "^\"v[0-9]{1,18}\"$", example = "\"v1\""),
    ),
    request_body(content = SplitPermanence, content_type = "application/json"),
    security(("bearer" = [])),
    responses(
        (status = 201, description = "The new series", body = PermanenceView, headers(("ETag" = String, description = "Its version"))),
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
#[post("/permanences/{id}/split")]
pub async fn split(
    req: HttpRequest,
    state: web::Data<AppState>,
    auth: Authenticated,
    key: IdempotencyKey,
    id: web::Path<String>,
    body: ApiJson<SplitPermanence>,
) -> Result<HttpResponse, ApiError> {
    let id = parse_id("id", &id)?;
    let loaded = authorized(&state, &auth, &id, Action::ManagePermanence).await?;
    let body = body.into_inner()?;
    let digest = idempotency::digest(&(&id, &body))?;
    // A retry meets the series already split: answer it before the checks.
    let operation = Operation {
        name: "split_permanence",
        location: Some("/api/v1/permanences"),
        replay: Replay::Stored,
    };
    let operation = match idempotency::replay_first(&state, &auth, &key, operation, &digest).await?
    {
        Ok(replayed) => return Ok(replayed),
        Err(operation) => operation,
    };
    let expected = if_match(&req)?;
    let series = loaded.series()?;
    let from = body.from_date;
    let cut = series::split(&series, from)
        .map_err(|e| ApiError::invalid_value("from_date", "range", e.to_string()))?;
    let old_changes = PermanenceChanges {
        rrule: Some(cut.before.to_rule_string()),
        last_date: Some(
            cut.before
                .last_date(series.dtstart)
                .map(|d| d.format("%Y-%m-%d").to_string()),
        ),
        ..PermanenceChanges::default()
    };
    // A new rule starts at the date itself; the old one keeps its rhythm.
    let (anchor, new_rule) = match &body.changes.rrule {
        Some(rule) => (from, rule.clone()),
        None => (cut.anchor, cut.continuation.to_rule_string()),
    };
    let continuation_body = UpdatePermanence {
        rrule: Some(new_rule),
        ..body.changes
    };
    let new_changes = changes_of(&loaded.row, anchor, &continuation_body)?;
    let old = loaded.row.clone();
    let new_id = uuid::Uuid::now_v7().to_string();
    let now = state.clock.now();
    let new_row = PermanenceRow {
        id: new_id.clone(),
        site_id: old.site_id.clone(),
        title: new_changes.title.clone().unwrap_or(old.title.clone()),
        rrule: new_changes.rrule.clone().unwrap_or(old.rrule.clone()),
        dtstart: anchor.format("%Y-%m-%d").to_string(),
        last_date: new_changes.last_date.clone().unwrap_or(None),
        part_of_day: new_changes
            .part_of_day
            .clone()
            .unwrap_or(old.part_of_day.clone()),
        start_time: new_changes
            .start_time
            .clone()
            .unwrap_or(old.start_time.clone()),
        end_time: new_changes.end_time.clone().unwrap_or(old.end_time.clone()),
        audience: new_changes.audience.clone().unwrap_or(old.audience.clone()),
        status: new_changes.status.clone().unwrap_or(old.status.clone()),
        follows_id: Some(old.id.clone()),
        version: 1,
        created_at: to_db(now),
        updated_at: to_db(now),
    };
    let staff = match continuation_body.staff_ids {
        Some(mut s) => {
            s.sort();
            s.dedup();
            s
        }
        None => loaded.staff.clone(),
    };
    let entry = audit::entry(
        Some(&auth.actor),
        &auth.ctx,
        "split_permanence",
        "permanence",
        Some(&id),
        Outcome::Success,
    );
    let from_text = from.format("%Y-%m-%d").to_string();
    idempotency::create(&state, &auth, key, operation, digest, move |conn| {
        schedule::update_permanence(conn, &id, expected, &old_changes, now)?
            .ok_or_else(ApiError::precondition_failed)?;
        check_staff(conn, "changes.staff_ids", &staff)?;
        schedule::insert_permanence(conn, &new_row, &staff)?;
        // The continuation of a series stays under its agreement.
        if let Some(agreement_id) = professional::agreement_of_permanence(conn, &id)? {
            professional::attach_permanence(conn, &agreement_id, &new_id)?;
        }
        schedule::move_exceptions(conn, &id, &new_id, &from_text)?;
        adosexo_persistence::audit::append(conn, &[entry], now)?;
        let loaded = load_one(conn, &new_id)?
            .ok_or_else(|| ApiError::internal("permanence just written"))?;
        let version = loaded.row.version;
        Ok(Created {
            id: loaded.row.id.clone(),
            version,
            body: view(loaded)?,
            replay_body: None,
        })
    })
    .await
}

/// An occurrence of a permanence.
#[derive(Debug, Serialize, ToSchema)]
pub struct OccurrenceView {
    /// The permanence.
    pub permanence_id: String,
    /// The site.
    pub site_id: String,
    /// The date the rule gives (identifies the occurrence).
    pub original_date: NaiveDate,
    /// Start, Paris time with its offset.
    pub starts_at: DateTime<FixedOffset>,
    /// End, Paris time with its offset.
    pub ends_at: DateTime<FixedOffset>,
    /// `scheduled`, `moved` or `cancelled`.
    pub status: String,
    /// Staff holding it.
    pub staff_ids: Vec<String>,
}

/// An occurrence for the wire.
pub fn occurrence_view(loaded: &Loaded, occurrence: &Occurrence) -> OccurrenceView {
    OccurrenceView {
        permanence_id: loaded.row.id.clone(),
        site_id: loaded.site.id.clone(),
        original_date: occurrence.original_date,
        starts_at: paris(occurrence.start),
        ends_at: paris(occurrence.end),
        status: occurrence.status.as_str().to_owned(),
        staff_ids: loaded.staff.clone(),
    }
}

/// A bounded range.
#[derive(Debug, Deserialize, Validate, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct RangeQuery {
    /// From this instant (RFC 3339).
    pub from: DateTime<Utc>,
    /// To this instant (after `from`, at most 366 days later).
    pub to: DateTime<Utc>,
}

/// The occurrences of a permanence in a range.
#[utoipa::path(
    operation_id = "listPermanenceOccurrences",
    tag = "scheduling",
    summary = "Occurrences of a permanence",
    description = "Occurrences overlapping [from, to), at most 366 days; cancelled ones are listed with their status.",
    params(("id" = String, Path, description = "Permanence id", pattern = "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"), RangeQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The occurrences, by start", body = Vec<OccurrenceView>),
        (status = 400, response = crate::problem::BadRequest),
        (status = 401, response = crate::problem::Unauthorized),
        (status = 403, response = crate::problem::Forbidden),
        (status = 404, response = crate::problem::NotFound),
        (status = 422, response = crate::problem::Unprocessable),
        (status = 503, response = crate::problem::Unavailable),
    ),
)]
#[get("/permanences/{id}/occurrences")]
pub async fn occurrences(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<String>,
    query: ApiQuery<RangeQuery>,
) -> Result<HttpResponse, ApiError> {
    let id = parse_id("id", &id)?;
    let loaded = authorized(&state, &auth, &id, Action::ReadPermanence).await?;
    let query = query.into_inner()?;
    check_range(query.from, query.to)?;
    let items: Vec<OccurrenceView> = loaded
        .occurrences(query.from, query.to)?
        .iter()
        .map(|o| occurrence_view(&loaded, o))
        .collect();
    Ok(HttpResponse::Ok().json(items))
}

/// Cancel or move one occurrence.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OccurrenceChange {
    /// `cancelled` or `moved`.
    #[validate(custom(function = "exception_status"))]
    #[schema(pattern = "^(cancelled|moved)$", example = "cancelled")]
    pub status: String,
    /// New start (moved), RFC 3339.
    pub starts_at: Option<DateTime<Utc>>,
    /// New end (moved), RFC 3339.
    pub ends_at: Option<DateTime<Utc>>,
    /// Why.
    #[validate(length(max = 500, message = "reason has at most 500 characters"))]
    #[schema(max_length = 500)]
    pub reason: Option<String>,
}

fn exception_status(value: &str) -> Result<(), validator::ValidationError> {
    if matches!(value, "cancelled" | "moved") {
        Ok(())
    } else {
        let mut error = validator::ValidationError::new("enum");
        error.message = Some("status is cancelled or moved".into());
        Err(error)
    }
}

fn occurrence_date(date: &str) -> Result<NaiveDate, ApiError> {
    NaiveDate::parse_from_str(date, "%Y-%m-%d")
        .map_err(|_| ApiError::invalid_field("date", "format", "date is YYYY-MM-DD"))
}

/// Cancel or move one occurrence (needs `If-Match` on the permanence).
#[utoipa::path(
    operation_id = "changePermanenceOccurrence",
    tag = "scheduling",
    summary = "Cancel or move one occurrence",
    description = "Admins and the supervisor. Cancels the occurrence of `date`, or moves it (a moved occurrence gives both times); the rule's other occurrences stay as they are. Needs `If-Match` with the permanence's ETag. Audited.",
    params(
        ("id" = String, Path, description = "Permanence id", pattern = "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"),
        ("date" = String, Path, description = "The occurrence's original date", format = Date),
        ("If-Match" = String, Header, description = "The ETag of the permanence", pattern = "^\"v[0-9]{1,18}\"$", example = "\"v1\""),
    ),
    request_body(content = OccurrenceChange, content_type = "application/json"),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The permanence", body = PermanenceView, headers(("ETag" = String, description = "Its new version"))),
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
#[put("/permanences/{id}/occurrences/{date}")]
pub async fn change_occurrence(
    req: HttpRequest,
    state: web::Data<AppState>,
    auth: Authenticated,
    path: web::Path<(String, String)>,
    body: ApiJson<OccurrenceChange>,
) -> Result<HttpResponse, ApiError> {
    let (id, date) = path.into_inner();
    let id = parse_id("id", &id)?;
    let date = occurrence_date(&date)?;
    let loaded = authorized(&state, &auth, &id, Action::ManagePermanence).await?;
    let body = body.into_inner()?;
    let expected = if_match(&req)?;
    if !series::is_occurrence_date(&loaded.series()?, date) {
        return Err(ApiError::not_found(
            "the permanence has no occurrence on this date",
        ));
    }
    let (starts_at, ends_at) = match (body.status.as_str(), body.starts_at, body.ends_at) {
        ("moved", Some(start), Some(end)) => {
            series::check_moved(start, end)
                .map_err(|e| ApiError::rule(e.tag(), "Moved occurrence", e.to_string()))?;
            (Some(to_db(start)), Some(to_db(end)))
        }
        ("moved", _, _) => {
            return Err(ApiError::invalid_value(
                "starts_at",
                "required",
                "a moved occurrence needs starts_at and ends_at",
            ));
        }
        (_, None, None) => (None, None),
        _ => {
            return Err(ApiError::invalid_value(
                "starts_at",
                "not_applicable",
                "a cancelled occurrence takes no times",
            ));
        }
    };
    let now = state.clock.now();
    let exception = ExceptionRow {
        permanence_id: id.clone(),
        original_date: date.format("%Y-%m-%d").to_string(),
        kind: body.status,
        starts_at,
        ends_at,
        reason: body.reason,
        created_by: auth.actor.id.clone(),
        created_at: to_db(now),
    };
    let entry = audit::entry(
        Some(&auth.actor),
        &auth.ctx,
        "change_permanence_occurrence",
        "permanence",
        Some(&id),
        Outcome::Success,
    );
    let loaded = state
        .db
        .transaction(move |conn| {
            schedule::update_permanence(conn, &id, expected, &PermanenceChanges::default(), now)?
                .ok_or_else(ApiError::precondition_failed)?;
            schedule::put_exception(conn, &exception)?;
            adosexo_persistence::audit::append(conn, &[entry], now)?;
            load_one(conn, &id)?.ok_or_else(|| ApiError::internal("permanence just written"))
        })
        .await?;
    let version = loaded.row.version;
    Ok(versioned_json(StatusCode::OK, &view(loaded)?, version))
}

/// Restore one occurrence as the rule gives it (needs `If-Match`).
#[utoipa::path(
    operation_id = "restorePermanenceOccurrence",
    tag = "scheduling",
    summary = "Restore one occurrence",
    description = "Admins and the supervisor. Undoes a cancellation or a move: the occurrence of `date` is again as the rule gives it. Needs `If-Match` with the permanence's ETag. Audited.",
    params(
        ("id" = String, Path, description = "Permanence id", pattern = "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"),
        ("date" = String, Path, description = "The occurrence's original date", format = Date),
        ("If-Match" = String, Header, description = "The ETag of the permanence", pattern = "^\"v[0-9]{1,18}\"$", example = "\"v1\""),
    ),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The permanence", body = PermanenceView, headers(("ETag" = String, description = "Its new version"))),
        (status = 400, response = crate::problem::BadRequest),
        (status = 401, response = crate::problem::Unauthorized),
        (status = 403, response = crate::problem::Forbidden),
        (status = 404, response = crate::problem::NotFound),
        (status = 412, response = crate::problem::PreconditionFailed),
        (status = 428, response = crate::problem::PreconditionRequired),
        (status = 503, response = crate::problem::Unavailable),
    ),
)]
#[delete("/permanences/{id}/occurrences/{date}")]
pub async fn restore_occurrence(
    req: HttpRequest,
    state: web::Data<AppState>,
    auth: Authenticated,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (id, date) = path.into_inner();
    let id = parse_id("id", &id)?;
    let date = occurrence_date(&date)?.format("%Y-%m-%d").to_string();
    authorized(&state, &auth, &id, Action::ManagePermanence).await?;
    let expected = if_match(&req)?;
    let now = state.clock.now();
    let entry = audit::entry(
        Some(&auth.actor),
        &auth.ctx,
        "restore_permanence_occurrence",
        "permanence",
        Some(&id),
        Outcome::Success,
    );
    let loaded = state
        .db
        .transaction(move |conn| {
            if !schedule::delete_exception(conn, &id, &date)? {
                return Err(ApiError::not_found(
                    "this occurrence is neither cancelled nor moved",
                ));
            }
            schedule::update_permanence(conn, &id, expected, &PermanenceChanges::default(), now)?
                .ok_or_else(ApiError::precondition_failed)?;
            adosexo_persistence::audit::append(conn, &[entry], now)?;
            load_one(conn, &id)?.ok_or_else(|| ApiError::internal("permanence just written"))
        })
        .await?;
    let version = loaded.row.version;
    Ok(versioned_json(StatusCode::OK, &view(loaded)?, version))
}
