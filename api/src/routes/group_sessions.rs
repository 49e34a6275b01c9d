//! Group sessions: parent groups, workshops, trainings, case reviews and
//! 3-day perpetrator courses; registrations with a waitlist; attendance.
//!
//! A session books each of its staff on each of its days (one staff
//! booking per staff member per day): the database refuses a booking that
//! overlaps another appointment or session of the same person, so staff are
//! never double-booked, even under concurrent requests. Places are counted
//! under a lock of the session's row, so a capacity holds under concurrent
//! registrations.

use std::collections::{BTreeMap, BTreeSet};

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, get, post, put, web};
use adosexo_domain::DepartementCode;
use adosexo_domain::authz::{Action, Resource};
use adosexo_domain::identity::{OrganisationKind, Roles};
use adosexo_domain::schedule::group::{
    self, GroupKind, GroupMode, GroupStatus, ParticipantCategory, Period, RegistrationStatus,
};
use adosexo_persistence::DbConnection;
use adosexo_persistence::identity;
use adosexo_persistence::schedule::{
    self, BookingRow, GroupSessionFilter, GroupSessionRow, HeadcountRow, RegistrationRow,
};
use adosexo_persistence::time::to_db;
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use super::cases::{cursor_of, parse_cursor, stored, stored_departement};
use super::scheduling::{booking_error, group_rule};
use crate::audit::{self, Outcome};
use crate::auth::Authenticated;
use crate::extract::{ApiJson, ApiQuery, text};
use crate::guard::permit;
use crate::http_cache::{if_match, versioned_json};
use crate::idempotency::{self, Created, IdempotencyKey, Operation, Replay};
use crate::pagination::{limit, parse_id};
use crate::problem::ApiError;
use crate::state::AppState;
use crate::wire::{
    AgeBandWire, AudienceWire, GroupKindWire, GroupModeWire, GroupStatusWire,
    ParticipantCategoryWire, RegistrationStatusWire, instant,
};

/// The widest window of a listing: a year and a day.
const MAX_WINDOW_DAYS: i64 = 366;

/// One day of a session.
#[derive(Debug, Serialize, ToSchema)]
pub struct PeriodView {
    /// Start (RFC 3339, UTC).
    pub starts_at: DateTime<Utc>,
    /// End.
    pub ends_at: DateTime<Utc>,
}

/// A head count of participants by category and age band.
#[derive(Debug, Deserialize, Serialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Headcount {
    /// Who they are.
    pub category: ParticipantCategoryWire,
    /// Their age band.
    pub age_band: AgeBandWire,
    /// How many attended.
    #[serde(deserialize_with = "integer")]
    #[validate(range(min = 0, max = 10000, message = "count must be from 0 to 10000"))]
    #[schema(minimum = 0, maximum = 10000)]
    pub count: i32,
}

/// Deserializes an integer the way JSON Schema reads one (`3` and `3.0`).
fn integer<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<i32, D::Error> {
    crate::wire::optional_integer(deserializer)?
        .ok_or_else(|| serde::de::Error::custom("invalid type: null, expected an integer"))
}

/// A group session.
#[derive(Debug, Serialize, ToSchema)]
pub struct GroupSessionView {
    /// Id.
    pub id: String,
    /// What it is.
    pub kind: GroupKindWire,
    /// Title.
    pub title: String,
    /// In person or remote.
    pub mode: GroupModeWire,
    /// The site it takes place at, if any.
    pub site_id: Option<String>,
    /// Where it takes place (free text), if given.
    pub venue: Option<String>,
    /// The link of a remote session.
    pub remote_link: Option<String>,
    /// The partner organisation (probation or prison service for a course).
    pub partner_organisation_id: Option<String>,
    /// Département.
    pub departement_code: String,
    /// Start of the first day.
    pub starts_at: DateTime<Utc>,
    /// End of the first day.
    pub ends_at: DateTime<Utc>,
    /// Every day it occupies its staff (three for a perpetrator course).
    pub days: Vec<PeriodView>,
    /// Staff account ids.
    pub staff_ids: Vec<String>,
    /// Places, if limited.
    pub capacity: Option<i32>,
    /// Whom it is for.
    pub audience: AudienceWire,
    /// `planned`, `held` or `cancelled`.
    pub status: GroupStatusWire,
    /// Confirmed registrations.
    pub confirmed: u32,
    /// Registrations on the waitlist.
    pub waitlisted: u32,
    /// Attendance as head counts by category and age band.
    pub headcounts: Vec<Headcount>,
    /// Who created it.
    pub created_by: String,
    /// Version, as in the `ETag`.
    pub version: i64,
    /// Created at.
    pub created_at: DateTime<Utc>,
    /// Last changed at.
    pub updated_at: DateTime<Utc>,
}

/// A page of group sessions, by start.
#[derive(Debug, Serialize, ToSchema)]
pub struct GroupSessionPage {
    /// Earliest start first.
    pub items: Vec<GroupSessionView>,
    /// Pass as `cursor` for the next page; `null` on the last.
    pub next_cursor: Option<String>,
}

/// A registration to a group session.
#[derive(Debug, Serialize, ToSchema)]
pub struct RegistrationView {
    /// Id.
    pub id: String,
    /// The session.
    pub group_session_id: String,
    /// The participant's name.
    pub participant_name: String,
    /// Who the participant is.
    pub category: ParticipantCategoryWire,
    /// The participant's organisation (professionals), if any.
    pub organisation_id: Option<String>,
    /// `confirmed`, `waitlisted` or `cancelled`.
    pub status: RegistrationStatusWire,
    /// Attendance: `true` present, `false` absent, `null` not recorded.
    pub present: Option<bool>,
    /// Who registered them.
    pub registered_by: String,
    /// Registered at (the waitlist's order).
    pub created_at: DateTime<Utc>,
    /// Last changed at.
    pub updated_at: DateTime<Utc>,
}

/// The registrations of a session.
#[derive(Debug, Serialize, ToSchema)]
pub struct RegistrationList {
    /// Oldest first.
    pub items: Vec<RegistrationView>,
}

/// A session with what its view shows.
struct Loaded {
    row: GroupSessionRow,
    staff: Vec<String>,
    confirmed: u32,
    waitlisted: u32,
    headcounts: Vec<HeadcountRow>,
}

/// Loads the staff, counts and head counts of these sessions.
fn load_all(conn: &mut DbConnection, rows: Vec<GroupSessionRow>) -> Result<Vec<Loaded>, ApiError> {
    let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
    let mut staff: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (session, account) in schedule::staff_of_group_sessions(conn, &ids)? {
        staff.entry(session).or_default().push(account);
    }
    let mut counts: BTreeMap<String, (u32, u32)> = BTreeMap::new();
    for (session, status) in schedule::registration_statuses_of(conn, &ids)? {
        let entry = counts.entry(session).or_default();
        match stored::<RegistrationStatus>(&status)? {
            RegistrationStatus::Confirmed => entry.0 += 1,
            RegistrationStatus::Waitlisted => entry.1 += 1,
            RegistrationStatus::Cancelled => {}
        }
    }
    let mut headcounts: BTreeMap<String, Vec<HeadcountRow>> = BTreeMap::new();
    for count in schedule::headcounts_of_sessions(conn, &ids)? {
        headcounts
            .entry(count.group_session_id.clone())
            .or_default()
            .push(count);
    }
    Ok(rows
        .into_iter()
        .map(|row| {
            let (confirmed, waitlisted) = counts.get(&row.id).copied().unwrap_or_default();
            Loaded {
                staff: staff.remove(&row.id).unwrap_or_default(),
                headcounts: headcounts.remove(&row.id).unwrap_or_default(),
                confirmed,
                waitlisted,
                row,
            }
        })
        .collect())
}

fn load(conn: &mut DbConnection, row: GroupSessionRow) -> Result<Loaded, ApiError> {
    load_all(conn, vec![row])?
        .pop()
        .ok_or_else(|| ApiError::internal("a loaded session went missing"))
}

/// The periods a stored session occupies.
fn days_of(row: &GroupSessionRow) -> Result<Vec<Period>, ApiError> {
    let kind: GroupKind = stored(&row.kind)?;
    group::occupied_days(kind, instant(row.starts_at), instant(row.ends_at))
        .map_err(|e| ApiError::internal(format!("stored group session: {e}")))
}

fn view(loaded: Loaded) -> Result<GroupSessionView, ApiError> {
    let Loaded {
        row,
        staff,
        confirmed,
        waitlisted,
        headcounts,
    } = loaded;
    let days = days_of(&row)?
        .into_iter()
        .map(|(starts_at, ends_at)| PeriodView { starts_at, ends_at })
        .collect();
    let headcounts = headcounts
        .into_iter()
        .map(|h| {
            Ok(Headcount {
                category: ParticipantCategoryWire(stored(&h.category)?),
                age_band: AgeBandWire(stored(&h.age_band)?),
                count: h.head_count,
            })
        })
        .collect::<Result<Vec<_>, ApiError>>()?;
    Ok(GroupSessionView {
        kind: GroupKindWire(stored(&row.kind)?),
        mode: GroupModeWire(stored(&row.mode)?),
        audience: AudienceWire(stored(&row.audience)?),
        status: GroupStatusWire(stored(&row.status)?),
        days,
        staff_ids: staff,
        confirmed,
        waitlisted,
        headcounts,
        id: row.id,
        title: row.title,
        site_id: row.site_id,
        venue: row.venue,
        remote_link: row.remote_link,
        partner_organisation_id: row.partner_organisation_id,
        departement_code: row.departement_code,
        starts_at: instant(row.starts_at),
        ends_at: instant(row.ends_at),
        capacity: row.capacity,
        created_by: row.created_by,
        version: row.version,
        created_at: instant(row.created_at),
        updated_at: instant(row.updated_at),
    })
}

fn registration_view(row: RegistrationRow) -> Result<RegistrationView, ApiError> {
    Ok(RegistrationView {
        category: ParticipantCategoryWire(stored(&row.category)?),
        status: RegistrationStatusWire(stored(&row.status)?),
        id: row.id,
        group_session_id: row.group_session_id,
        participant_name: row.participant_name,
        organisation_id: row.organisation_id,
        present: row.present,
        registered_by: row.registered_by,
        created_at: instant(row.created_at),
        updated_at: instant(row.updated_at),
    })
}

/// Loads a group session, then checks `action` on it (404 for an unknown
/// id, once the caller may use the operation at all).
async fn authorized(
    state: &AppState,
    auth: &Authenticated,
    id: &str,
    action: Action,
) -> Result<Loaded, ApiError> {
    let lookup = id.to_owned();
    let loaded = state
        .db
        .run(
            move |conn| match schedule::find_group_session(conn, &lookup)? {
                Some(row) => load(conn, row).map(Some),
                None => Ok(None),
            },
        )
        .await?;
    let Some(loaded) = loaded else {
        permit(
            state,
            auth,
            action,
            Resource::Service,
            "group_session",
            Some(id),
        )
        .await?;
        return Err(not_found());
    };
    let departement = stored_departement(&loaded.row.departement_code)?;
    let resource = Resource::GroupSession {
        departement: &departement,
        staff: &loaded.staff,
    };
    permit(state, auth, action, resource, "group_session", Some(id)).await?;
    Ok(loaded)
}

fn not_found() -> ApiError {
    ApiError::not_found("no group session with this id")
}

/// 409: the session no longer takes registrations or attendance.
fn not_planned(status: &str) -> ApiError {
    ApiError::conflict(
        "group-session-not-planned",
        "Group session not planned",
        format!("the session is {status}: this is only possible while it is planned"),
    )
}

/// A new group session.
#[derive(Debug, Deserialize, Serialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateGroupSession {
    /// What it is.
    pub kind: GroupKindWire,
    /// Title.
    #[validate(length(min = 1, max = 200, message = "title must have 1 to 200 characters"))]
    #[schema(min_length = 1, max_length = 200, example = "Groupe de parole parents")]
    pub title: String,
    /// In person or remote (parent groups, workshops and courses meet in person).
    pub mode: GroupModeWire,
    /// The site it takes place at (in person); gives the département.
    #[validate(custom(function = "crate::wire::uuid_text"))]
    #[schema(
        pattern = "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
    )]
    pub site_id: Option<String>,
    /// Where it takes place, as text (in person, without a site or to
    /// name the room).
    #[validate(length(min = 1, max = 300, message = "venue must have 1 to 300 characters"))]
    #[schema(
        min_length = 1,
        max_length = 300,
        example = "Maison des associations, salle 2"
    )]
    pub venue: Option<String>,
    /// The link of a remote session (`https://`).
    #[validate(length(max = 500, message = "remote_link has at most 500 characters"))]
    #[validate(custom(function = "crate::wire::https_url"))]
    #[schema(
        max_length = 500,
        pattern = "^https://[A-Za-z0-9.-]+(:[0-9]{1,5})?([/?#][!-~]*)?$",
        example = "https://visio.example.fr/abc"
    )]
    pub remote_link: Option<String>,
    /// The partner organisation; for a perpetrator course, a justice
    /// (probation or prison) or PJJ organisation.
    #[validate(custom(function = "crate::wire::uuid_text"))]
    #[schema(
        pattern = "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
    )]
    pub partner_organisation_id: Option<String>,
    /// Département (INSEE code); taken from the site when absent.
    #[validate(custom(function = "crate::wire::departement_code"))]
    #[schema(pattern = "^([0-9]{2}|2[ABab]|9[78][0-9])$", example = "93")]
    pub departement_code: Option<String>,
    /// Start of the first day (RFC 3339).
    pub starts_at: DateTime<Utc>,
    /// End of the first day (at most 10 hours after the start); a
    /// perpetrator course repeats these times on the two following days.
    pub ends_at: DateTime<Utc>,
    /// Staff account ids (active staff).
    #[validate(length(min = 1, max = 10, message = "staff_ids has 1 to 10 entries"))]
    #[validate(custom(function = "crate::wire::uuid_texts"))]
    #[schema(value_type = Vec<uuid::Uuid>, min_items = 1, max_items = 10)]
    pub staff_ids: Vec<String>,
    /// Places; without one, every registration is confirmed.
    #[serde(default, deserialize_with = "crate::wire::optional_integer")]
    #[validate(range(min = 1, max = 500, message = "capacity must be from 1 to 500"))]
    #[schema(minimum = 1, maximum = 500)]
    pub capacity: Option<i32>,
    /// Whom it is for.
    pub audience: AudienceWire,
}

/// Plan a group session.
#[utoipa::path(
    operation_id = "createGroupSession",
    tag = "group-sessions",
    summary = "Plan a group session",
    description = "Books every staff member on every day of the session (three consecutive days for a \
                   perpetrator course): a staff member who already has an appointment or a session then \
                   is a 409 `staff-double-booked`. Coordinators and referents plan sessions of their \
                   territory or that they staff.",
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe: the same key and body replay the first answer (1 to 255 visible ASCII characters)", pattern = "^[!-~]{1,255}$")),
    request_body(content = CreateGroupSession, content_type = "application/json"),
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Planned", body = GroupSessionView, headers(("ETag" = String, description = "Its version"))),
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
#[post("/group-sessions")]
pub async fn create(
    state: web::Data<AppState>,
    auth: Authenticated,
    key: IdempotencyKey,
    body: ApiJson<CreateGroupSession>,
) -> Result<HttpResponse, ApiError> {
    permit(
        &state,
        &auth,
        Action::CreateGroupSession,
        Resource::Service,
        "group_session",
        None,
    )
    .await?;
    let body = body.into_inner()?;
    let digest = idempotency::digest(&body)?;
    let kind = body.kind.0;
    let mode = body.mode.0;
    let site_id = body
        .site_id
        .as_deref()
        .map(|s| parse_id("site_id", s))
        .transpose()?;
    let partner_id = body
        .partner_organisation_id
        .as_deref()
        .map(|s| parse_id("partner_organisation_id", s))
        .transpose()?;
    let mut staff = body
        .staff_ids
        .iter()
        .map(|s| parse_id("staff_ids", s))
        .collect::<Result<Vec<_>, _>>()?;
    staff.sort();
    staff.dedup();
    let days = group::occupied_days(kind, body.starts_at, body.ends_at).map_err(group_rule)?;
    group::check_venue(
        kind,
        mode,
        site_id.is_some() || body.venue.is_some(),
        body.remote_link.is_some(),
    )
    .map_err(group_rule)?;
    match mode {
        GroupMode::Remote if site_id.is_some() || body.venue.is_some() => {
            return Err(ApiError::invalid_value(
                if site_id.is_some() {
                    "site_id"
                } else {
                    "venue"
                },
                "unexpected",
                "a remote session has a link, not a site or a venue",
            ));
        }
        GroupMode::InPerson if body.remote_link.is_some() => {
            return Err(ApiError::invalid_value(
                "remote_link",
                "unexpected",
                "an in-person session has a site or a venue, not a link",
            ));
        }
        _ => {}
    }
    // The département: given, or the site's.
    let given = body
        .departement_code
        .as_deref()
        .map(|d| {
            DepartementCode::parse(d)
                .map_err(|e| ApiError::invalid_field("departement_code", "format", e.to_string()))
        })
        .transpose()?;
    let site_lookup = site_id.clone();
    let site = state
        .db
        .run(move |conn| match site_lookup {
            Some(id) => Ok::<_, ApiError>(schedule::find_site(conn, &id)?),
            None => Ok(None),
        })
        .await?;
    if site_id.is_some() && site.is_none() {
        return Err(ApiError::invalid_value(
            "site_id",
            "unknown",
            "no site has this id",
        ));
    }
    let departement = match (given, &site) {
        (Some(code), Some(site)) if code.as_str() != site.departement_code => {
            return Err(ApiError::invalid_value(
                "departement_code",
                "mismatch",
                "the département is that of the site",
            ));
        }
        (Some(code), _) => code,
        (None, Some(site)) => stored_departement(&site.departement_code)?,
        (None, None) => {
            return Err(ApiError::invalid_value(
                "departement_code",
                "required",
                "give a departement_code or a site_id",
            ));
        }
    };
    permit(
        &state,
        &auth,
        Action::ManageGroupSession,
        Resource::GroupSession {
            departement: &departement,
            staff: &staff,
        },
        "group_session",
        None,
    )
    .await?;
    let now = state.clock.now();
    let id = uuid::Uuid::now_v7().to_string();
    let row = GroupSessionRow {
        id: id.clone(),
        kind: kind.as_str().to_owned(),
        title: text("title", &body.title)?,
        mode: mode.as_str().to_owned(),
        site_id,
        venue: body.venue,
        remote_link: body.remote_link,
        partner_organisation_id: partner_id.clone(),
        departement_code: departement.to_string(),
        starts_at: to_db(body.starts_at),
        ends_at: to_db(body.ends_at),
        days: i32::try_from(days.len()).map_err(|e| ApiError::internal(e.to_string()))?,
        capacity: body.capacity,
        audience: body.audience.0.as_str().to_owned(),
        status: GroupStatus::Planned.as_str().to_owned(),
        created_by: auth.actor.id.clone(),
        version: 1,
        created_at: to_db(now),
        updated_at: to_db(now),
    };
    let mut bookings: Vec<BookingRow> = staff
        .iter()
        .flat_map(|account| {
            days.iter().map(|(start, end)| BookingRow {
                id: uuid::Uuid::now_v7().to_string(),
                account_id: account.clone(),
                starts_at: to_db(*start),
                ends_at: to_db(*end),
                appointment_id: None,
                group_session_id: Some(id.clone()),
            })
        })
        .collect();
    let actor = auth.actor.clone();
    let entry = audit::entry(
        Some(&auth.actor),
        &auth.ctx,
        "create_group_session",
        "group_session",
        Some(&id),
        Outcome::Success,
    );
    idempotency::create(
        &state,
        &auth,
        key,
        Operation {
            name: "create_group_session",
            location: Some("/api/v1/group-sessions"),
            replay: Replay::Stored,
        },
        digest,
        move |conn| {
            if adosexo_persistence::territory::find_departement(conn, &departement)?.is_none() {
                return Err(ApiError::rule(
                    "unknown-departement",
                    "Unknown département",
                    format!("no département has the code {departement}"),
                ));
            }
            let partner_kind = match &partner_id {
                Some(org) => {
                    let organisation =
                        identity::find_organisation(conn, org)?.ok_or_else(|| {
                            ApiError::invalid_value(
                                "partner_organisation_id",
                                "unknown",
                                "no organisation has this id",
                            )
                        })?;
                    Some(stored::<OrganisationKind>(&organisation.kind)?)
                }
                None => None,
            };
            group::check_course_partner(kind, partner_kind).map_err(group_rule)?;
            for account in &staff {
                let active_staff = identity::find_account(conn, account)?.is_some_and(|a| {
                    a.status == "active"
                        && Roles::parse_list(&a.roles).is_ok_and(|r| r.is_working_staff())
                });
                if !active_staff {
                    return Err(ApiError::invalid_value(
                        "staff_ids",
                        "unknown",
                        format!("{account} is not an active staff account"),
                    ));
                }
            }
            schedule::insert_group_session(conn, &row, &staff)?;
            schedule::insert_bookings(conn, &mut bookings)
                .map_err(|e| booking_error(conn, &actor, &bookings, e))?;
            adosexo_persistence::audit::append(conn, &[entry], now)?;
            let loaded = load(conn, row)?;
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
        pattern = "^[0-9]{1,16}_[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
    )]
    pub cursor: Option<String>,
    /// Only sessions taking place (on any of their days) at or after this
    /// instant (RFC 3339).
    pub from: Option<DateTime<Utc>>,
    /// Only sessions starting before this instant; at most 366 days after `from`.
    pub to: Option<DateTime<Utc>>,
    /// Only sessions of this kind.
    pub kind: Option<GroupKindWire>,
    /// Only sessions in this status.
    pub status: Option<GroupStatusWire>,
    /// Only sessions of this département.
    #[validate(custom(function = "crate::wire::departement_code"))]
    #[param(pattern = "^([0-9]{2}|2[ABab]|9[78][0-9])$", example = "93")]
    pub departement: Option<String>,
}

/// List group sessions (all staff see every session).
#[utoipa::path(
    operation_id = "listGroupSessions",
    tag = "group-sessions",
    summary = "List group sessions",
    description = "Every staff role: every session, whatever the territory. Narrow by `from` and `to`, `kind`, `status`, `departement` (422 when `to` is before `from`); pages by `cursor`. Audited.",
    params(ListQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "A page of group sessions", body = GroupSessionPage),
        (status = 400, response = crate::problem::BadRequest),
        (status = 401, response = crate::problem::Unauthorized),
        (status = 403, response = crate::problem::Forbidden),
        (status = 422, response = crate::problem::Unprocessable),
        (status = 503, response = crate::problem::Unavailable),
    ),
)]
#[get("/group-sessions")]
pub async fn list(
    state: web::Data<AppState>,
    auth: Authenticated,
    query: ApiQuery<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    permit(
        &state,
        &auth,
        Action::ListGroupSessions,
        Resource::Service,
        "group_session",
        None,
    )
    .await?;
    let query = query.into_inner()?;
    if let (Some(from), Some(to)) = (query.from, query.to) {
        if to <= from {
            return Err(ApiError::invalid_value(
                "to",
                "range",
                "to must be after from",
            ));
        }
        if to - from > Duration::days(MAX_WINDOW_DAYS) {
            return Err(ApiError::invalid_value(
                "to",
                "range",
                "from and to are at most 366 days apart",
            ));
        }
    }
    let after = query.cursor.as_deref().map(parse_cursor).transpose()?;
    let limit = limit(query.limit);
    let filter = GroupSessionFilter {
        from: query.from,
        to: query.to,
        kind: query.kind.map(|k| k.0.as_str().to_owned()),
        departements: query.departement.map(|d| vec![d.to_ascii_uppercase()]),
        status: query.status.map(|s| s.0.as_str().to_owned()),
        after,
        limit: i64::from(limit) + 1,
        ..Default::default()
    };
    let loaded = state
        .db
        .run(move |conn| {
            let rows = schedule::list_group_sessions(conn, &filter)?;
            load_all(conn, rows)
        })
        .await?;
    let (loaded, next_cursor) =
        crate::pagination::page(loaded, limit, |l| cursor_of(l.row.starts_at, &l.row.id));
    audit::record(
        &state,
        vec![audit::list_entry(
            Some(&auth.actor),
            &auth.ctx,
            "list_group_sessions",
            "group_session",
            loaded.iter().map(|l| &l.row.id),
        )],
    )
    .await?;
    // `from` looks back a few days for courses: keep those still running.
    let from = query.from;
    let items = loaded
        .into_iter()
        .map(|l| {
            let keep = match from {
                Some(from) => days_of(&l.row)?.iter().any(|(_, end)| *end > from),
                None => true,
            };
            keep.then(|| view(l)).transpose()
        })
        .filter_map(Result::transpose)
        .collect::<Result<_, _>>()?;
    Ok(HttpResponse::Ok().json(GroupSessionPage { items, next_cursor }))
}

/// Read a group session.
#[utoipa::path(
    operation_id = "getGroupSession",
    tag = "group-sessions",
    summary = "Get a group session",
    description = "Every staff role (admins included). The session and its version (`ETag`), for `changeGroupSessionStatus` and attendance. Audited.",
    params(("id" = String, Path, description = "Group session id", pattern = "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The session", body = GroupSessionView, headers(("ETag" = String, description = "Its version"))),
        (status = 400, response = crate::problem::BadRequest),
        (status = 401, response = crate::problem::Unauthorized),
        (status = 403, response = crate::problem::Forbidden),
        (status = 404, response = crate::problem::NotFound),
        (status = 503, response = crate::problem::Unavailable),
    ),
)]
#[get("/group-sessions/{id}")]
pub async fn get(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = parse_id("id", &id)?;
    let loaded = authorized(&state, &auth, &id, Action::ReadGroupSession).await?;
    audit::record(
        &state,
        vec![audit::entry(
            Some(&auth.actor),
            &auth.ctx,
            "read_group_session",
            "group_session",
            Some(&id),
            Outcome::Success,
        )],
    )
    .await?;
    let version = loaded.row.version;
    Ok(versioned_json(StatusCode::OK, &view(loaded)?, version))
}

/// A status change.
#[derive(Debug, Deserialize, Serialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GroupStatusChange {
    /// `held` (once it has started) or `cancelled`.
    pub status: GroupStatusWire,
}

/// Mark a session held or cancel it (needs `If-Match`).
#[utoipa::path(
    operation_id = "changeGroupSessionStatus",
    tag = "group-sessions",
    summary = "Mark a group session held or cancel it",
    description = "`planned → held` once the session has started, `planned → cancelled` at any time; \
                   cancelling frees its staff.",
    params(
        ("id" = String, Path, description = "Group session id", pattern = "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"),
        ("If-Match" = String, Header, description = "The ETag of the version read", pattern = "^\"v[0-9]{1,18}\"$", example = "\"v1\""),
    ),
    request_body(content = GroupStatusChange, content_type = "application/json"),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The session", body = GroupSessionView, headers(("ETag" = String, description = "Its new version"))),
        (status = 400, response = crate::problem::BadRequest),
        (status = 401, response = crate::problem::Unauthorized),
        (status = 403, response = crate::problem::Forbidden),
        (status = 404, response = crate::problem::NotFound),
        (status = 409, response = crate::problem::Conflict),
        (status = 412, response = crate::problem::PreconditionFailed),
        (status = 413, response = crate::problem::PayloadTooLarge),
        (status = 415, response = crate::problem::UnsupportedMediaType),
        (status = 428, response = crate::problem::PreconditionRequired),
        (status = 503, response = crate::problem::Unavailable),
    ),
)]
#[post("/group-sessions/{id}/status")]
pub async fn change_status(
    req: HttpRequest,
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<String>,
    body: ApiJson<GroupStatusChange>,
) -> Result<HttpResponse, ApiError> {
    let id = parse_id("id", &id)?;
    authorized(&state, &auth, &id, Action::ManageGroupSession).await?;
    let body = body.into_inner()?;
    let expected = if_match(&req)?;
    let to = body.status.0;
    let now = state.clock.now();
    let entry = audit::entry(
        Some(&auth.actor),
        &auth.ctx,
        &format!("group_session_{}", to.as_str()),
        "group_session",
        Some(&id),
        Outcome::Success,
    );
    let loaded = state
        .db
        .transaction(move |conn| {
            let current = schedule::find_group_session(conn, &id)?.ok_or_else(not_found)?;
            if current.version != expected {
                return Err(ApiError::precondition_failed());
            }
            let from: GroupStatus = stored(&current.status)?;
            let started = now >= instant(current.starts_at);
            let next = from.apply(to, started).map_err(group_rule)?;
            let row = schedule::set_group_status(conn, &id, expected, next.as_str(), now)?
                .ok_or_else(ApiError::precondition_failed)?;
            if next == GroupStatus::Cancelled {
                schedule::delete_group_bookings(conn, &id)?;
            }
            adosexo_persistence::audit::append(conn, &[entry], now)?;
            load(conn, row)
        })
        .await?;
    let version = loaded.row.version;
    Ok(versioned_json(StatusCode::OK, &view(loaded)?, version))
}

/// A new registration.
#[derive(Debug, Deserialize, Serialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateRegistration {
    /// The participant's name.
    #[validate(length(
        min = 1,
        max = 200,
        message = "participant_name must have 1 to 200 characters"
    ))]
    #[schema(min_length = 1, max_length = 200)]
    pub participant_name: String,
    /// Who the participant is.
    pub category: ParticipantCategoryWire,
    /// The participant's organisation (professionals), if any.
    #[validate(custom(function = "crate::wire::uuid_text"))]
    #[schema(
        pattern = "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
    )]
    pub organisation_id: Option<String>,
}

/// Read the registrations of a session.
#[utoipa::path(
    operation_id = "listGroupRegistrations",
    tag = "group-sessions",
    summary = "Registrations of a group session",
    description = "Names of participants: the session's staff, coordinators and referents of its \
                   territory, supervisors. Audited.",
    params(("id" = String, Path, description = "Group session id", pattern = "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The registrations", body = RegistrationList),
        (status = 400, response = crate::problem::BadRequest),
        (status = 401, response = crate::problem::Unauthorized),
        (status = 403, response = crate::problem::Forbidden),
        (status = 404, response = crate::problem::NotFound),
        (status = 503, response = crate::problem::Unavailable),
    ),
)]
#[get("/group-sessions/{id}/registrations")]
pub async fn list_registrations(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = parse_id("id", &id)?;
    authorized(&state, &auth, &id, Action::ManageGroupSession).await?;
    let lookup = id.clone();
    let rows = state
        .db
        .run(move |conn| schedule::registrations_of(conn, &lookup))
        .await?;
    audit::record(
        &state,
        vec![audit::entry(
            Some(&auth.actor),
            &auth.ctx,
            "read_group_registrations",
            "group_session",
            Some(&id),
            Outcome::Success,
        )],
    )
    .await?;
    let items = rows
        .into_iter()
        .map(registration_view)
        .collect::<Result<_, _>>()?;
    Ok(HttpResponse::Ok().json(RegistrationList { items }))
}

/// Register a participant: a confirmed place while there is room, the
/// waitlist otherwise.
#[utoipa::path(
    operation_id = "createGroupRegistration",
    tag = "group-sessions",
    summary = "Register a participant",
    description = "Confirmed while places remain, waitlisted otherwise (places are counted one writer at a \
                   time). Only while the session is planned. Audited.",
    params(
        ("id" = String, Path, description = "Group session id", pattern = "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe: the same key and body replay the first answer (1 to 255 visible ASCII characters)", pattern = "^[!-~]{1,255}$"),
    ),
    request_body(content = CreateRegistration, content_type = "application/json"),
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Registered", body = RegistrationView),
        (status = 400, response = crate::problem::BadRequest),
        (status = 401, response = crate::problem::Unauthorized),
        (status = 403, response = crate::problem::Forbidden),
        (status = 404, response = crate::problem::NotFound),
        (status = 409, response = crate::problem::Conflict),
        (status = 413, response = crate::problem::PayloadTooLarge),
        (status = 415, response = crate::problem::UnsupportedMediaType),
        (status = 422, response = crate::problem::Unprocessable),
        (status = 503, response = crate::problem::Unavailable),
    ),
)]
#[post("/group-sessions/{id}/registrations")]
pub async fn register(
    state: web::Data<AppState>,
    auth: Authenticated,
    key: IdempotencyKey,
    id: web::Path<String>,
    body: ApiJson<CreateRegistration>,
) -> Result<HttpResponse, ApiError> {
    let id = parse_id("id", &id)?;
    authorized(&state, &auth, &id, Action::ManageGroupSession).await?;
    let body = body.into_inner()?;
    let digest = idempotency::digest(&(&id, &body))?;
    let organisation_id = body
        .organisation_id
        .as_deref()
        .map(|o| parse_id("organisation_id", o))
        .transpose()?;
    let participant_name = text("participant_name", &body.participant_name)?;
    let clock = state.clock.clone();
    let actor_id = auth.actor.id.clone();
    let entry = audit::entry(
        Some(&auth.actor),
        &auth.ctx,
        "create_group_registration",
        "group_session",
        Some(&id),
        Outcome::Success,
    );
    let participant = Participant {
        name: participant_name,
        category: body.category.0,
        organisation_id,
    };
    // Stored for replays: the session's staff read its registrations, and
    // the handler checked the caller still manages the session.
    idempotency::create(
        &state,
        &auth,
        key,
        Operation {
            name: "create_group_registration",
            location: None,
            replay: Replay::Stored,
        },
        digest,
        move |conn| {
            let mut rows =
                register_participants(conn, &id, vec![participant], &actor_id, &clock, |_| Ok(()))?;
            adosexo_persistence::audit::append(conn, &[entry], clock.now())?;
            let row = rows
                .pop()
                .ok_or_else(|| ApiError::internal("a registration went missing"))?;
            Ok(Created {
                id: row.id.clone(),
                version: 1,
                body: registration_view(row)?,
                replay_body: None,
            })
        },
    )
    .await
}

/// Cancel a registration; a confirmed place freed goes to the oldest
/// waitlisted registration.
#[utoipa::path(
    operation_id = "cancelGroupRegistration",
    tag = "group-sessions",
    summary = "Cancel a registration",
    description = "A confirmed place freed promotes the oldest waitlisted registration. Only while the \
                   session is planned. Audited.",
    params(
        ("id" = String, Path, description = "Group session id", pattern = "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"),
        ("registration_id" = String, Path, description = "Registration id", pattern = "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"),
    ),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The cancelled registration", body = RegistrationView),
        (status = 400, response = crate::problem::BadRequest),
        (status = 401, response = crate::problem::Unauthorized),
        (status = 403, response = crate::problem::Forbidden),
        (status = 404, response = crate::problem::NotFound),
        (status = 409, response = crate::problem::Conflict),
        (status = 503, response = crate::problem::Unavailable),
    ),
)]
#[post("/group-sessions/{id}/registrations/{registration_id}/cancel")]
pub async fn cancel_registration(
    state: web::Data<AppState>,
    auth: Authenticated,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (id, registration_id) = path.into_inner();
    let id = parse_id("id", &id)?;
    authorized(&state, &auth, &id, Action::ManageGroupSession).await?;
    let registration_id = parse_id("registration_id", &registration_id)?;
    let now = state.clock.now();
    let entry = audit::entry(
        Some(&auth.actor),
        &auth.ctx,
        "cancel_group_registration",
        "group_session",
        Some(&id),
        Outcome::Success,
    );
    let row = state
        .db
        .transaction(move |conn| {
            let row = cancel_registration_in(conn, &id, &registration_id, now)?;
            adosexo_persistence::audit::append(conn, &[entry], now)?;
            Ok::<_, ApiError>(row)
        })
        .await?;
    Ok(HttpResponse::Ok().json(registration_view(row)?))
}

/// Someone to register.
pub(crate) struct Participant {
    /// Their name.
    pub name: String,
    /// Who they are.
    pub category: ParticipantCategory,
    /// Their organisation, if any.
    pub organisation_id: Option<String>,
}

/// Registers `participants` in order under the session's lock: confirmed
/// while places remain, waitlisted after. Only while the session is
/// planned; `check` may refuse the session first. The one place places are
/// counted (staff registrations and partners' sign-ups).
pub(crate) fn register_participants(
    conn: &mut DbConnection,
    id: &str,
    participants: Vec<Participant>,
    registered_by: &str,
    clock: &crate::context::Clock,
    check: impl FnOnce(&GroupSessionRow) -> Result<(), ApiError>,
) -> Result<Vec<RegistrationRow>, ApiError> {
    if !schedule::lock_group_session(conn, id)? {
        return Err(not_found());
    }
    // Time and ids once the lock is held: the waitlist's order is the
    // order places were counted in.
    let now = clock.now();
    let session = schedule::find_group_session(conn, id)?.ok_or_else(not_found)?;
    check(&session)?;
    if session.status != GroupStatus::Planned.as_str() {
        return Err(not_planned(&session.status));
    }
    let mut confirmed = u32::try_from(schedule::count_registrations(
        conn,
        id,
        RegistrationStatus::Confirmed.as_str(),
    )?)
    .unwrap_or(u32::MAX);
    let capacity = session.capacity.and_then(|c| u32::try_from(c).ok());
    let mut rows = Vec::with_capacity(participants.len());
    for participant in participants {
        if let Some(org) = &participant.organisation_id
            && identity::find_organisation(conn, org)?.is_none()
        {
            return Err(ApiError::invalid_value(
                "organisation_id",
                "unknown",
                "no organisation has this id",
            ));
        }
        let place = group::place_for_new(confirmed, capacity);
        if place == RegistrationStatus::Confirmed {
            confirmed = confirmed.saturating_add(1);
        }
        let row = RegistrationRow {
            id: uuid::Uuid::now_v7().to_string(),
            group_session_id: id.to_owned(),
            participant_name: participant.name,
            category: participant.category.as_str().to_owned(),
            organisation_id: participant.organisation_id,
            status: place.as_str().to_owned(),
            present: None,
            registered_by: registered_by.to_owned(),
            created_at: to_db(now),
            updated_at: to_db(now),
        };
        schedule::insert_registration(conn, &row)?;
        rows.push(row);
    }
    schedule::touch_group_session(conn, id, now)?;
    Ok(rows)
}

/// Cancels a registration under the session's lock; a confirmed place
/// freed goes to the oldest waitlisted registration.
pub(crate) fn cancel_registration_in(
    conn: &mut DbConnection,
    id: &str,
    registration_id: &str,
    now: DateTime<Utc>,
) -> Result<RegistrationRow, ApiError> {
    if !schedule::lock_group_session(conn, id)? {
        return Err(not_found());
    }
    let session = schedule::find_group_session(conn, id)?.ok_or_else(not_found)?;
    let registrations = schedule::registrations_of(conn, id)?;
    let mut current = registrations
        .iter()
        .find(|r| r.id == registration_id)
        .cloned()
        .ok_or_else(|| ApiError::not_found("no registration with this id"))?;
    if session.status != GroupStatus::Planned.as_str() {
        return Err(not_planned(&session.status));
    }
    let was: RegistrationStatus = stored(&current.status)?;
    if was == RegistrationStatus::Cancelled {
        return Err(ApiError::conflict(
            "registration-cancelled",
            "Registration cancelled",
            "this registration is already cancelled",
        ));
    }
    let cancelled = RegistrationStatus::Cancelled.as_str();
    schedule::set_registration(conn, &current.id, cancelled, current.present, now)?;
    if was == RegistrationStatus::Confirmed {
        let count = |status: RegistrationStatus| {
            registrations
                .iter()
                .filter(|r| r.id != current.id && r.status == status.as_str())
                .count()
        };
        let confirmed = count(RegistrationStatus::Confirmed);
        let waitlist: Vec<&RegistrationRow> = registrations
            .iter()
            .filter(|r| r.status == RegistrationStatus::Waitlisted.as_str())
            .collect();
        let promoted = group::promotions(
            u32::try_from(confirmed).unwrap_or(u32::MAX),
            u32::try_from(waitlist.len()).unwrap_or(u32::MAX),
            session.capacity.and_then(|c| u32::try_from(c).ok()),
        );
        for next in waitlist.into_iter().take(promoted as usize) {
            schedule::set_registration(
                conn,
                &next.id,
                RegistrationStatus::Confirmed.as_str(),
                next.present,
                now,
            )?;
        }
    }
    schedule::touch_group_session(conn, id, now)?;
    current.status = cancelled.to_owned();
    current.updated_at = to_db(now);
    Ok(current)
}

/// Attendance of a session that has started.
#[derive(Debug, Deserialize, Serialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Attendance {
    /// Registrations present (their presence is set; others keep theirs).
    #[serde(default)]
    #[validate(length(max = 500, message = "present has at most 500 entries"))]
    #[validate(custom(function = "crate::wire::uuid_texts"))]
    #[schema(value_type = Vec<uuid::Uuid>, max_items = 500)]
    pub present: Vec<String>,
    /// Registrations absent.
    #[serde(default)]
    #[validate(length(max = 500, message = "absent has at most 500 entries"))]
    #[validate(custom(function = "crate::wire::uuid_texts"))]
    #[schema(value_type = Vec<uuid::Uuid>, max_items = 500)]
    pub absent: Vec<String>,
    /// Head counts by category and age band (replace the previous ones).
    #[serde(default)]
    #[validate(length(max = 24, message = "headcounts has at most 24 entries"))]
    #[validate(nested)]
    #[schema(max_items = 24)]
    pub headcounts: Vec<Headcount>,
}

/// Record attendance by name and as head counts (needs `If-Match`).
#[utoipa::path(
    operation_id = "recordGroupAttendance",
    tag = "group-sessions",
    summary = "Record attendance",
    description = "Once the session has started: registrations marked present or absent, and head counts by \
                   category and age band (replacing the previous ones). Audited.",
    params(
        ("id" = String, Path, description = "Group session id", pattern = "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"),
        ("If-Match" = String, Header, description = "The ETag of the version read", pattern = "^\"v[0-9]{1,18}\"$", example = "\"v1\""),
    ),
    request_body(content = Attendance, content_type = "application/json"),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The session", body = GroupSessionView, headers(("ETag" = String, description = "Its new version"))),
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
#[put("/group-sessions/{id}/attendance")]
pub async fn record_attendance(
    req: HttpRequest,
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<String>,
    body: ApiJson<Attendance>,
) -> Result<HttpResponse, ApiError> {
    let id = parse_id("id", &id)?;
    authorized(&state, &auth, &id, Action::ManageGroupSession).await?;
    let body = body.into_inner()?;
    let expected = if_match(&req)?;
    let ids = |field: &str, values: &[String]| {
        values
            .iter()
            .map(|v| parse_id(field, v))
            .collect::<Result<BTreeSet<_>, _>>()
    };
    let present = ids("present", &body.present)?;
    let absent = ids("absent", &body.absent)?;
    if present.intersection(&absent).next().is_some() {
        return Err(ApiError::invalid_value(
            "absent",
            "duplicate",
            "a registration is either present or absent",
        ));
    }
    let mut seen = BTreeSet::new();
    let mut counts = Vec::new();
    for h in &body.headcounts {
        if !seen.insert((h.category.0, h.age_band.0)) {
            return Err(ApiError::invalid_value(
                "headcounts",
                "duplicate",
                "one head count per category and age band",
            ));
        }
        counts.push(HeadcountRow {
            group_session_id: id.clone(),
            category: h.category.0.as_str().to_owned(),
            age_band: h.age_band.0.as_str().to_owned(),
            head_count: h.count,
        });
    }
    let now = state.clock.now();
    let entry = audit::entry(
        Some(&auth.actor),
        &auth.ctx,
        "record_group_attendance",
        "group_session",
        Some(&id),
        Outcome::Success,
    );
    let loaded = state
        .db
        .transaction(move |conn| {
            if !schedule::lock_group_session(conn, &id)? {
                return Err(not_found());
            }
            let current = schedule::find_group_session(conn, &id)?.ok_or_else(not_found)?;
            if current.version != expected {
                return Err(ApiError::precondition_failed());
            }
            if current.status == GroupStatus::Cancelled.as_str() {
                return Err(not_planned(&current.status));
            }
            if now < instant(current.starts_at) {
                return Err(ApiError::rule(
                    "group-session-not-started",
                    "Group session not started",
                    "attendance is recorded once the session has started",
                ));
            }
            let registrations: BTreeMap<String, RegistrationRow> =
                schedule::registrations_of(conn, &id)?
                    .into_iter()
                    .map(|r| (r.id.clone(), r))
                    .collect();
            for (field, set, value) in [("present", &present, true), ("absent", &absent, false)] {
                for registration in set {
                    let row = registrations
                        .get(registration)
                        .filter(|r| r.status != RegistrationStatus::Cancelled.as_str())
                        .ok_or_else(|| {
                            ApiError::invalid_value(
                                field,
                                "unknown",
                                format!(
                                    "{registration} is not a live registration of this session"
                                ),
                            )
                        })?;
                    schedule::set_registration(conn, &row.id, &row.status, Some(value), now)?;
                }
            }
            schedule::set_headcounts(conn, &id, &counts)?;
            schedule::touch_group_session(conn, &id, now)?;
            adosexo_persistence::audit::append(conn, &[entry], now)?;
            let row = schedule::find_group_session(conn, &id)?.ok_or_else(not_found)?;
            load(conn, row)
        })
        .await?;
    let version = loaded.row.version;
    Ok(versioned_json(StatusCode::OK, &view(loaded)?, version))
}
