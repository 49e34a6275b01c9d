//! Calendar feeds (RFC 5545) and the agenda of the mobile clients.
//!
//! A staff member's feed is read at a secret URL (the secret is the
//! credential, calendar clients send no bearer token); only its SHA-256 is
//! stored. Public feeds give the permanences of public sites. Feeds carry
//! no personal data: they end up in phone calendars synced to third
//! parties.

use std::collections::BTreeMap;

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, delete, get, post, web};
use adosexo_domain::DepartementCode;
use adosexo_domain::authz::{Action, Resource};
use adosexo_domain::identity::Roles;
use adosexo_domain::schedule::ical::{self, Calendar, CalendarEvent, EventStatus};
use adosexo_domain::schedule::series::{self, Occurrence, OccurrenceStatus};
use adosexo_domain::schedule::{PARIS, ScheduleStatus};
use adosexo_persistence::DbConnection;
use adosexo_persistence::audit::NewAuditEntry;
use adosexo_persistence::schedule::{
    self, AppointmentFilter, AppointmentRow, GroupSessionFilter, GroupSessionRow, PermanenceFilter,
    SiteRow,
};
use adosexo_persistence::territory;
use chrono::{DateTime, Duration, FixedOffset, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use super::permanences::{Loaded, load_many};
use super::scheduling::{check_range, paris};
use crate::audit::{self, Outcome};
use crate::auth::Authenticated;
use crate::auth::secrets::{digest, new_secret};
use crate::context::RequestContext;
use crate::extract::ApiQuery;
use crate::guard::permit;
use crate::http_cache::{etag_of, none_match};
use crate::problem::ApiError;
use crate::state::AppState;
use crate::wire::instant;

/// How far back a feed looks.
const FEED_PAST_DAYS: i64 = 30;
/// How far ahead a feed looks.
const FEED_AHEAD_DAYS: i64 = 180;
/// The most rows of each kind a feed or an agenda reads.
const MAX_ROWS: i64 = 5000;
/// Public feeds: shared caches may keep them five minutes.
const CACHE_PUBLIC: &str = "public, max-age=300";
/// A staff member's feed: its URL is a secret; clients revalidate.
const CACHE_PRIVATE: &str = "private, no-cache";
/// The media type of a feed.
const TEXT_CALENDAR: &str = "text/calendar; charset=utf-8";

/// The window of a feed around `now`.
fn feed_window(now: DateTime<Utc>) -> (DateTime<Utc>, DateTime<Utc>) {
    (
        now - Duration::days(FEED_PAST_DAYS),
        now + Duration::days(FEED_AHEAD_DAYS),
    )
}

/// The calendar as `text/calendar` with a strong `ETag` from the body, or a
/// 304 when the client already holds it.
fn calendar_response(
    req: &HttpRequest,
    calendar: &Calendar,
    cache_control: &'static str,
) -> Result<HttpResponse, ApiError> {
    let body = ical::render(calendar);
    let etag = etag_of(body.as_bytes());
    let etag_value = HeaderValue::from_str(&etag).map_err(|e| ApiError::internal(e.to_string()))?;
    let not_modified = none_match(req, &etag);
    let mut response = if not_modified {
        HttpResponse::NotModified()
    } else {
        HttpResponse::Ok()
    };
    response
        .insert_header((header::ETAG, etag_value))
        .insert_header((
            header::CACHE_CONTROL,
            HeaderValue::from_static(cache_control),
        ));
    if not_modified {
        return Ok(response.finish());
    }
    Ok(response.content_type(TEXT_CALENDAR).body(body))
}

/// A site's address on one line.
fn address_of(site: &SiteRow) -> String {
    format!("{}, {} {}", site.address, site.postcode, site.city)
}

/// A row version as a `SEQUENCE` (versions start at 1; the first is 0).
fn sequence_of(version: i64) -> u32 {
    u32::try_from(version.saturating_sub(1)).unwrap_or(u32::MAX)
}

/// The `STATUS` of a permanence occurrence.
fn occurrence_status(occurrence: &Occurrence) -> EventStatus {
    match occurrence.status {
        OccurrenceStatus::Cancelled => EventStatus::Cancelled,
        OccurrenceStatus::Scheduled | OccurrenceStatus::Moved => EventStatus::Confirmed,
    }
}

/// The `STATUS` of an appointment: cancelled, awaiting the team's
/// confirmation, or confirmed.
fn appointment_status(row: &AppointmentRow) -> EventStatus {
    if row.status == "cancelled" {
        EventStatus::Cancelled
    } else if row.confirmation == "pending" {
        EventStatus::Tentative
    } else {
        EventStatus::Confirmed
    }
}

/// The `STATUS` of a group session.
fn group_status(row: &GroupSessionRow) -> EventStatus {
    if row.status == "cancelled" {
        EventStatus::Cancelled
    } else {
        EventStatus::Confirmed
    }
}

/// A mode of appointment, in French.
fn mode_label(mode: &str) -> &'static str {
    match mode {
        "permanence" => "permanence",
        "home" => "à domicile",
        "care_home" => "lieu d'accueil",
        "phone" => "téléphone",
        "video" => "visio",
        "partner_premises" => "chez un partenaire",
        _ => "autre",
    }
}

/// A kind of group session, in French.
fn group_kind_label(kind: &str) -> &'static str {
    match kind {
        "parent_group" => "Groupe de parents",
        "prevention_workshop" => "Atelier de prévention",
        "awareness_session" => "Sensibilisation",
        "action_training" => "Formation-action",
        "case_review" => "Analyse de situations",
        "perpetrator_course" => "Stage de responsabilisation",
        _ => "Séance de groupe",
    }
}

/// The title of an appointment: its mode only (never who attends).
fn appointment_title(row: &AppointmentRow) -> String {
    format!("Rendez-vous ({})", mode_label(&row.mode))
}

/// The title of a group session.
fn group_title(row: &GroupSessionRow) -> String {
    format!("{}: {}", group_kind_label(&row.kind), row.title)
}

/// The title of a permanence occurrence in a staff agenda.
fn permanence_title(site: &SiteRow) -> String {
    format!("Permanence — {}", site.name)
}

/// The days of a group session overlapping `[from, to)`: `(day index,
/// start, end)`. A course occupies consecutive days at the same hours.
fn group_days(
    row: &GroupSessionRow,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Vec<(i64, DateTime<Utc>, DateTime<Utc>)> {
    let (start, end) = (instant(row.starts_at), instant(row.ends_at));
    (0..i64::from(row.days.max(1)))
        .map(|d| (d, start + Duration::days(d), end + Duration::days(d)))
        .filter(|(_, s, e)| *s < to && *e > from)
        .collect()
}

/// The local (Paris) date of an instant.
fn paris_date(at: DateTime<Utc>) -> NaiveDate {
    at.with_timezone(&PARIS).date_naive()
}

/// Sites by id, loaded once each.
fn sites_by_id(
    conn: &mut DbConnection,
    ids: impl IntoIterator<Item = String>,
) -> Result<BTreeMap<String, SiteRow>, ApiError> {
    let mut sites = BTreeMap::new();
    for id in ids {
        if sites.contains_key(&id) {
            continue;
        }
        if let Some(site) = schedule::find_site(conn, &id)? {
            sites.insert(id, site);
        }
    }
    Ok(sites)
}

/// What a staff member's schedule holds in a range.
struct StaffSchedule {
    permanences: Vec<Loaded>,
    appointments: Vec<AppointmentRow>,
    groups: Vec<GroupSessionRow>,
    sites: BTreeMap<String, SiteRow>,
}

/// Loads a staff member's permanences, appointments and group sessions
/// overlapping `[from, to)`, changed at or after `updated_since` if given.
fn load_staff_schedule(
    conn: &mut DbConnection,
    account_id: &str,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    updated_since: Option<DateTime<Utc>>,
) -> Result<StaffSchedule, ApiError> {
    let rows = schedule::list_permanences(
        conn,
        &PermanenceFilter {
            staff_id: Some(account_id.to_owned()),
            limit: MAX_ROWS,
            ..PermanenceFilter::default()
        },
    )?
    .into_iter()
    .filter(|r| updated_since.is_none_or(|since| instant(r.updated_at) >= since))
    .collect();
    let permanences = load_many(conn, rows)?;
    let appointments = schedule::list_appointments(
        conn,
        &AppointmentFilter {
            staff_id: Some(account_id.to_owned()),
            from: Some(from),
            to: Some(to),
            updated_since,
            limit: MAX_ROWS,
            ..AppointmentFilter::default()
        },
    )?;
    let groups = schedule::list_group_sessions(
        conn,
        &GroupSessionFilter {
            staff_id: Some(account_id.to_owned()),
            from: Some(from),
            to: Some(to),
            updated_since,
            limit: MAX_ROWS,
            ..GroupSessionFilter::default()
        },
    )?;
    let site_ids: Vec<String> = appointments
        .iter()
        .filter_map(|a| a.site_id.clone())
        .chain(groups.iter().filter_map(|g| g.site_id.clone()))
        .collect();
    let mut sites = sites_by_id(conn, site_ids)?;
    for loaded in &permanences {
        sites.insert(loaded.site.id.clone(), loaded.site.clone());
    }
    Ok(StaffSchedule {
        permanences,
        appointments,
        groups,
        sites,
    })
}

/// The occurrences of a permanence overlapping `[from, to)` for a feed or
/// an agenda. Once the series or its site is closed, the occurrences from
/// the closure on are sent as cancelled (clients learn of it) rather than
/// dropped; those before it stay as they were.
fn feed_occurrences(
    loaded: &Loaded,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<Occurrence>, ApiError> {
    let active = ScheduleStatus::Active.as_str();
    let closed_at = match (loaded.row.status == active, loaded.site.status == active) {
        (true, true) => return loaded.occurrences(from, to),
        (false, true) => loaded.row.updated_at,
        (true, false) => loaded.site.updated_at,
        (false, false) => loaded.row.updated_at.min(loaded.site.updated_at),
    };
    let closed_at = instant(closed_at);
    let mut occurrences = series::expand(&loaded.series()?, &loaded.domain_exceptions(), from, to);
    for occurrence in &mut occurrences {
        if occurrence.start >= closed_at {
            occurrence.status = OccurrenceStatus::Cancelled;
        }
    }
    Ok(occurrences)
}

/// The events of permanences overlapping `[from, to)`.
fn permanence_events(
    permanences: &[Loaded],
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    summary: impl Fn(&Loaded) -> String,
) -> Result<Vec<CalendarEvent>, ApiError> {
    let mut events = Vec::new();
    for loaded in permanences {
        for occurrence in feed_occurrences(loaded, from, to)? {
            events.push(CalendarEvent {
                uid: format!(
                    "permanence-{}-{}@adosexo",
                    loaded.row.id,
                    occurrence.original_date.format("%Y%m%d")
                ),
                sequence: sequence_of(loaded.row.version),
                stamp: instant(loaded.row.updated_at),
                start: occurrence.start,
                end: occurrence.end,
                summary: summary(loaded),
                location: Some(address_of(&loaded.site)),
                description: None,
                status: occurrence_status(&occurrence),
            });
        }
    }
    Ok(events)
}

/// Events by start, then uid: the same data always renders the same body
/// (and the same `ETag`).
fn sorted(mut events: Vec<CalendarEvent>) -> Vec<CalendarEvent> {
    events.sort_by(|a, b| (a.start, &a.uid).cmp(&(b.start, &b.uid)));
    events
}

/// A staff member's whole feed.
fn staff_events(
    schedule: &StaffSchedule,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<CalendarEvent>, ApiError> {
    let mut events = permanence_events(&schedule.permanences, from, to, |l| {
        permanence_title(&l.site)
    })?;
    let location = |site_id: &Option<String>| {
        site_id
            .as_ref()
            .and_then(|id| schedule.sites.get(id))
            .map(address_of)
    };
    for row in &schedule.appointments {
        events.push(CalendarEvent {
            uid: format!("appointment-{}@adosexo", row.id),
            sequence: sequence_of(row.version),
            stamp: instant(row.updated_at),
            start: instant(row.starts_at),
            end: instant(row.ends_at),
            summary: appointment_title(row),
            location: location(&row.site_id),
            description: None,
            status: appointment_status(row),
        });
    }
    for row in &schedule.groups {
        for (_, start, end) in group_days(row, from, to) {
            events.push(CalendarEvent {
                uid: format!(
                    "group-{}-{}@adosexo",
                    row.id,
                    paris_date(start).format("%Y%m%d")
                ),
                sequence: sequence_of(row.version),
                stamp: instant(row.updated_at),
                start,
                end,
                summary: group_title(row),
                location: location(&row.site_id),
                description: None,
                status: group_status(row),
            });
        }
    }
    Ok(sorted(events))
}

/// The secret URL of a staff member's feed, shown once.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"url": "/api/v1/calendars/staff/3q2-7wAAAAB3cm9uZy1zZWNyZXQtZm9yLWV4YW1wbGU", "token": "3q2-7wAAAAB3cm9uZy1zZWNyZXQtZm9yLWV4YW1wbGU"}))]
pub struct CalendarFeedView {
    /// The feed's path on this server; give it to a calendar client. Anyone
    /// holding it reads the feed until it is rotated or revoked.
    pub url: String,
    /// The secret in the URL (43 characters, base64url). Shown only now.
    pub token: String,
}

/// Create or rotate one's calendar feed.
#[utoipa::path(
    operation_id = "createCalendarFeed",
    tag = "scheduling",
    summary = "Create or rotate my calendar feed",
    description = "Gives a new secret URL for the caller's agenda as an iCalendar feed; a previous URL stops working at once. \
                   The secret is shown only in this response (only its digest is stored). Staff accounts only. \
                   Safe to retry: a caller has one feed, never two; since the secret of a lost answer cannot be shown \
                   again, a retry (with the same `Idempotency-Key` or not) gives a new secret and the unseen one stops working.",
    params(("Idempotency-Key" = Option<String>, Header, description = "Accepted for uniformity with the other creating operations (1 to 255 visible ASCII characters); every call, retried or not, gives a new secret", pattern = "^[!-~]{1,255}$")),
    security(("bearer" = [])),
    responses(
        (status = 201, description = "The feed's secret URL", body = CalendarFeedView),
        (status = 400, response = crate::problem::BadRequest),
        (status = 401, response = crate::problem::Unauthorized),
        (status = 403, response = crate::problem::Forbidden),
        (status = 503, response = crate::problem::Unavailable),
    ),
)]
#[post("/me/calendar-feed")]
pub async fn create_feed(
    state: web::Data<AppState>,
    auth: Authenticated,
    key: crate::idempotency::IdempotencyKey,
) -> Result<HttpResponse, ApiError> {
    permit(
        &state,
        &auth,
        Action::ManageCalendarFeed,
        Resource::Service,
        "calendar",
        None,
    )
    .await?;
    key.checked()?;
    let token = new_secret().map_err(ApiError::internal)?;
    let hash = digest(&token);
    let now = state.clock.now();
    let account_id = auth.actor.id.clone();
    let entry = audit::entry(
        Some(&auth.actor),
        &auth.ctx,
        "create_calendar_feed",
        "calendar",
        Some(&account_id),
        Outcome::Success,
    );
    state
        .db
        .transaction(move |conn| {
            schedule::set_calendar_feed(conn, &account_id, &hash, now)?;
            adosexo_persistence::audit::append(conn, &[entry], now)?;
            Ok::<_, ApiError>(())
        })
        .await?;
    let feed = CalendarFeedView {
        url: format!("/api/v1/calendars/staff/{token}"),
        token,
    };
    Ok(HttpResponse::build(StatusCode::CREATED)
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(feed))
}

/// Revoke one's calendar feed.
#[utoipa::path(
    operation_id = "revokeCalendarFeed",
    tag = "scheduling",
    summary = "Revoke my calendar feed",
    description = "The secret URL stops working at once (404). Idempotent: 204 also when there was none.",
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Revoked"),
        (status = 401, response = crate::problem::Unauthorized),
        (status = 403, response = crate::problem::Forbidden),
        (status = 503, response = crate::problem::Unavailable),
    ),
)]
#[delete("/me/calendar-feed")]
pub async fn revoke_feed(
    state: web::Data<AppState>,
    auth: Authenticated,
) -> Result<HttpResponse, ApiError> {
    permit(
        &state,
        &auth,
        Action::ManageCalendarFeed,
        Resource::Service,
        "calendar",
        None,
    )
    .await?;
    let now = state.clock.now();
    let account_id = auth.actor.id.clone();
    let entry = audit::entry(
        Some(&auth.actor),
        &auth.ctx,
        "revoke_calendar_feed",
        "calendar",
        Some(&account_id),
        Outcome::Success,
    );
    state
        .db
        .transaction(move |conn| {
            schedule::revoke_calendar_feed(conn, &account_id)?;
            adosexo_persistence::audit::append(conn, &[entry], now)?;
            Ok::<_, ApiError>(())
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// A staff member's agenda as an iCalendar feed, at its secret URL.
#[utoipa::path(
    operation_id = "getStaffCalendar",
    tag = "calendars",
    summary = "A staff member's calendar feed",
    description = "RFC 5545, times in Europe/Paris (with its VTIMEZONE): the permanences the staff member holds, \
                   their appointments (cancelled ones with STATUS:CANCELLED, those awaiting confirmation TENTATIVE) \
                   and group sessions (each day of a course as its own event), from 30 days ago to 180 days ahead. \
                   No personal data. The secret in the path is the credential: an unknown, rotated or revoked one is a 404.",
    params(("token" = String, Path, description = "The feed's secret", pattern = "^[A-Za-z0-9_-]{43}$")),
    security(()),
    responses(
        (status = 200, description = "The feed", content_type = "text/calendar", body = String,
         headers(("ETag" = String, description = "Entity tag of the feed"),
                 ("Cache-Control" = String, description = "Caching policy"))),
        (status = 304, description = "Not modified since the `If-None-Match` tag"),
        (status = 404, response = crate::problem::NotFound),
        (status = 503, response = crate::problem::Unavailable),
    ),
)]
#[get("/calendars/staff/{token}")]
pub async fn staff_calendar(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: RequestContext,
    token: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let unknown = || ApiError::not_found("no calendar feed has this address");
    let token = token.into_inner();
    if token.len() != 43
        || !token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return Err(unknown());
    }
    let hash = digest(&token);
    let now = state.clock.now();
    let (from, to) = feed_window(now);
    let found = state
        .db
        .run(move |conn| {
            let Some(account_id) = schedule::calendar_feed_owner(conn, &hash)? else {
                return Ok(None);
            };
            let Some(account) = adosexo_persistence::identity::find_account(conn, &account_id)?
            else {
                return Ok(None);
            };
            // A disabled account, or one no longer on the staff, has no feed.
            let staff = Roles::parse_list(&account.roles).is_ok_and(|r| r.is_working_staff());
            if account.status != "active" || !staff {
                return Ok(None);
            }
            let loaded = load_staff_schedule(conn, &account.id, from, to, None)?;
            Ok::<_, ApiError>(Some((account, loaded)))
        })
        .await?;
    let (account, loaded) = found.ok_or_else(unknown)?;
    let role = Roles::parse_list(&account.roles)
        .ok()
        .and_then(|r| r.primary())
        .map(|r| r.as_str().to_owned());
    audit::record(
        &state,
        vec![NewAuditEntry {
            actor_id: Some(account.id.clone()),
            actor_organisation_id: Some(account.organisation_id.clone()),
            actor_role: role,
            action: "read_calendar_feed".to_owned(),
            resource_type: "calendar".to_owned(),
            resource_id: Some(account.id.clone()),
            outcome: "success".to_owned(),
            request_id: ctx.request_id,
            client_addr: ctx.client_addr,
            resource_ids: None,
        }],
    )
    .await?;
    let calendar = Calendar {
        name: "Agenda Ado Sexo".to_owned(),
        events: staff_events(&loaded, from, to)?,
    };
    calendar_response(&req, &calendar, CACHE_PRIVATE)
}

/// The public feed of some permanences.
fn public_calendar(
    name: String,
    permanences: &[Loaded],
    now: DateTime<Utc>,
) -> Result<Calendar, ApiError> {
    let (from, to) = feed_window(now);
    let events = permanence_events(permanences, from, to, |l| {
        format!("Permanence Ado Sexo — {}", l.site.name)
    })?;
    Ok(Calendar {
        name,
        events: sorted(events),
    })
}

/// The permanences of public active sites matching `filter`, loaded.
fn public_permanences(
    conn: &mut DbConnection,
    filter: PermanenceFilter,
) -> Result<Vec<Loaded>, ApiError> {
    let rows = schedule::list_permanences(
        conn,
        &PermanenceFilter {
            public_sites_only: true,
            limit: MAX_ROWS,
            ..filter
        },
    )?;
    load_many(conn, rows)
}

/// The public feed of a site's permanences.
#[utoipa::path(
    operation_id = "getSiteCalendar",
    tag = "calendars",
    summary = "Public calendar of a site",
    description = "RFC 5545 feed of the permanences of a public, active site, from 30 days ago to 180 days ahead; \
                   cancelled occurrences have STATUS:CANCELLED. A site that is not public is a 404.",
    params(("id" = String, Path, description = "Site id", pattern = "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")),
    security(()),
    responses(
        (status = 200, description = "The feed", content_type = "text/calendar", body = String,
         headers(("ETag" = String, description = "Entity tag of the feed"),
                 ("Cache-Control" = String, description = "Caching policy"))),
        (status = 304, description = "Not modified since the `If-None-Match` tag"),
        (status = 400, response = crate::problem::BadRequest),
        (status = 404, response = crate::problem::NotFound),
        (status = 503, response = crate::problem::Unavailable),
    ),
)]
#[get("/public/calendars/sites/{id}")]
pub async fn site_calendar(
    req: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = crate::pagination::parse_id("id", &id)?;
    let now = state.clock.now();
    let found = state
        .db
        .run(move |conn| {
            let Some(site) = schedule::find_site(conn, &id)? else {
                return Ok(None);
            };
            if !site.public || site.status != ScheduleStatus::Active.as_str() {
                return Ok(None);
            }
            let permanences = public_permanences(
                conn,
                PermanenceFilter {
                    site_id: Some(site.id.clone()),
                    ..PermanenceFilter::default()
                },
            )?;
            Ok::<_, ApiError>(Some((site, permanences)))
        })
        .await?;
    let (site, permanences) =
        found.ok_or_else(|| ApiError::not_found("no public site has this id"))?;
    let calendar = public_calendar(
        format!("Permanences Ado Sexo — {}", site.name),
        &permanences,
        now,
    )?;
    calendar_response(&req, &calendar, CACHE_PUBLIC)
}

/// The public feed of the permanences of a département.
#[utoipa::path(
    operation_id = "getDepartementCalendar",
    tag = "calendars",
    summary = "Public calendar of a département",
    description = "RFC 5545 feed of the permanences of the public, active sites of a département, from 30 days ago \
                   to 180 days ahead; cancelled occurrences have STATUS:CANCELLED.",
    params(("code" = String, Path, description = "INSEE code", pattern = "^([0-9]{2}|2[ABab]|9[78][0-9])$", example = "93")),
    security(()),
    responses(
        (status = 200, description = "The feed", content_type = "text/calendar", body = String,
         headers(("ETag" = String, description = "Entity tag of the feed"),
                 ("Cache-Control" = String, description = "Caching policy"))),
        (status = 304, description = "Not modified since the `If-None-Match` tag"),
        (status = 400, response = crate::problem::BadRequest),
        (status = 404, response = crate::problem::NotFound),
        (status = 503, response = crate::problem::Unavailable),
    ),
)]
#[get("/public/calendars/departements/{code}")]
pub async fn departement_calendar(
    req: HttpRequest,
    state: web::Data<AppState>,
    code: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let code = DepartementCode::parse(&code)
        .map_err(|e| ApiError::invalid_field("code", "format", e.to_string()))?;
    let shown = code.to_string();
    let now = state.clock.now();
    let found = state
        .db
        .run(move |conn| {
            let Some(departement) = territory::find_departement(conn, &code)? else {
                return Ok(None);
            };
            let permanences = public_permanences(
                conn,
                PermanenceFilter {
                    departements: Some(vec![departement.code.clone()]),
                    ..PermanenceFilter::default()
                },
            )?;
            Ok::<_, ApiError>(Some((departement, permanences)))
        })
        .await?;
    let (departement, permanences) =
        found.ok_or_else(|| ApiError::not_found(format!("no département has the code {shown}")))?;
    let calendar = public_calendar(
        format!("Permanences Ado Sexo — {}", departement.name),
        &permanences,
        now,
    )?;
    calendar_response(&req, &calendar, CACHE_PUBLIC)
}

/// What an agenda item is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AgendaKind {
    /// An appointment.
    Appointment,
    /// A day of a group session.
    GroupSession,
    /// An occurrence of a permanence.
    Permanence,
}

/// One item of the agenda.
#[derive(Debug, Serialize, ToSchema)]
pub struct AgendaItem {
    /// What it is.
    pub kind: AgendaKind,
    /// The appointment's, group session's or permanence's id.
    pub id: String,
    /// Which occurrence (permanences: the date the rule gives, also when
    /// moved; group sessions: the day, Paris time); `null` for appointments.
    pub occurrence_date: Option<NaiveDate>,
    /// Start, Paris time with its offset.
    pub starts_at: DateTime<FixedOffset>,
    /// End, Paris time with its offset.
    pub ends_at: DateTime<FixedOffset>,
    /// The item's status: appointments `scheduled`, `completed`,
    /// `cancelled`, `no_show`; group sessions `planned`, `held`,
    /// `cancelled`; permanence occurrences `scheduled`, `moved`,
    /// `cancelled`.
    pub status: String,
    /// Appointments: whether the team confirmed it (`confirmed`, `pending`).
    pub confirmation: Option<String>,
    /// Appointments: how they happen.
    pub mode: Option<String>,
    /// A title without personal data.
    pub title: String,
    /// The site, if any.
    pub site_id: Option<String>,
    /// When the row last changed (a permanence's occurrences: the series).
    pub updated_at: DateTime<Utc>,
}

/// The range of an agenda.
#[derive(Debug, Deserialize, Validate, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AgendaQuery {
    /// From this instant (RFC 3339).
    pub from: DateTime<Utc>,
    /// To this instant (after `from`, at most 366 days later).
    pub to: DateTime<Utc>,
    /// Only items whose row changed at or after this instant (RFC 3339).
    pub updated_since: Option<DateTime<Utc>>,
}

/// The items of a staff member's agenda, by start.
fn agenda_items(
    schedule: &StaffSchedule,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<AgendaItem>, ApiError> {
    let mut items = Vec::new();
    for loaded in &schedule.permanences {
        for occurrence in feed_occurrences(loaded, from, to)? {
            items.push(AgendaItem {
                kind: AgendaKind::Permanence,
                id: loaded.row.id.clone(),
                occurrence_date: Some(occurrence.original_date),
                starts_at: paris(occurrence.start),
                ends_at: paris(occurrence.end),
                status: occurrence.status.as_str().to_owned(),
                confirmation: None,
                mode: None,
                title: permanence_title(&loaded.site),
                site_id: Some(loaded.site.id.clone()),
                updated_at: instant(loaded.row.updated_at),
            });
        }
    }
    for row in &schedule.appointments {
        items.push(AgendaItem {
            kind: AgendaKind::Appointment,
            id: row.id.clone(),
            occurrence_date: None,
            starts_at: paris(instant(row.starts_at)),
            ends_at: paris(instant(row.ends_at)),
            status: row.status.clone(),
            confirmation: Some(row.confirmation.clone()),
            mode: Some(row.mode.clone()),
            title: appointment_title(row),
            site_id: row.site_id.clone(),
            updated_at: instant(row.updated_at),
        });
    }
    for row in &schedule.groups {
        for (_, start, end) in group_days(row, from, to) {
            items.push(AgendaItem {
                kind: AgendaKind::GroupSession,
                id: row.id.clone(),
                occurrence_date: Some(paris_date(start)),
                starts_at: paris(start),
                ends_at: paris(end),
                status: row.status.clone(),
                confirmation: None,
                mode: None,
                title: group_title(row),
                site_id: row.site_id.clone(),
                updated_at: instant(row.updated_at),
            });
        }
    }
    items.sort_by(|a, b| (a.starts_at, &a.id).cmp(&(b.starts_at, &b.id)));
    Ok(items)
}

/// The caller's agenda.
#[utoipa::path(
    operation_id = "getMyAgenda",
    tag = "scheduling",
    summary = "My agenda",
    description = "The caller's appointments, group session days and permanence occurrences overlapping [from, to) \
                   (at most 366 days), merged by start; cancelled items are listed with their status. With \
                   `updated_since`, only items whose row changed at or after it (a permanence's occurrences follow \
                   the series). Staff accounts only.",
    params(AgendaQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The items, by start", body = Vec<AgendaItem>),
        (status = 400, response = crate::problem::BadRequest),
        (status = 401, response = crate::problem::Unauthorized),
        (status = 403, response = crate::problem::Forbidden),
        (status = 422, response = crate::problem::Unprocessable),
        (status = 503, response = crate::problem::Unavailable),
    ),
)]
#[get("/me/agenda")]
pub async fn agenda(
    state: web::Data<AppState>,
    auth: Authenticated,
    query: ApiQuery<AgendaQuery>,
) -> Result<HttpResponse, ApiError> {
    permit(
        &state,
        &auth,
        Action::ReadAgenda,
        Resource::Service,
        "calendar",
        None,
    )
    .await?;
    let query = query.into_inner()?;
    check_range(query.from, query.to)?;
    let (from, to, since) = (query.from, query.to, query.updated_since);
    let account_id = auth.actor.id.clone();
    let loaded = state
        .db
        .run(move |conn| load_staff_schedule(conn, &account_id, from, to, since))
        .await?;
    let items = agenda_items(&loaded, from, to)?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(items))
}
