//! Appointments: meetings with a young person, relatives or professionals,
//! their forward-only status, rescheduling, and the free first-meeting
//! slots partners may book.
//!
//! Staff are never double-booked: each appointment writes one booking per
//! staff member in the same transaction, and the database refuses
//! overlapping bookings (exclusion constraint / trigger).

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use adosexo_domain::DepartementCode;
use adosexo_domain::authz::{self, Action, Resource};
use adosexo_domain::identity::{Actor, Role};
use adosexo_domain::schedule::appointment::{
    self as rules, AppointmentAction, AppointmentMode, AppointmentStatus, AttendeeKind,
    Confirmation,
};
use adosexo_domain::schedule::availability::{self, Busy, Opening};
use adosexo_domain::schedule::series::OccurrenceStatus;
use adosexo_persistence::DbConnection;
use adosexo_persistence::schedule::{
    self, AppointmentChanges, AppointmentFilter, AppointmentRow, AttendeeRow, BookingRow,
    PermanenceFilter,
};
use adosexo_persistence::time::{from_db, to_db};
use adosexo_persistence::{cases, identity};
use chrono::{DateTime, Duration, FixedOffset, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use super::cases::{cursor_of, parse_cursor, stored, stored_departement};
use super::permanences::{self as perm, Loaded};
use super::scheduling::{appointment_rule, booking_error, check_range, check_staff, paris};
use crate::audit::{self, Outcome};
use crate::auth::Authenticated;
use crate::extract::{ApiJson, ApiQuery};
use crate::guard::permit;
use crate::http_cache::{if_match, versioned_json};
use crate::idempotency::{self, Created, IdempotencyKey, Operation};
use crate::pagination::{limit, page, parse_id};
use crate::problem::ApiError;
use crate::state::AppState;
use crate::wire::{
    AppointmentModeWire, AppointmentStatusWire, AttendeeKindWire, ConfirmationWire, instant,
};

/// Someone attending, besides the staff.
#[derive(Debug, Deserialize, Serialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Attendee {
    /// Who they are.
    pub kind: AttendeeKindWire,
    /// The person record (young person, relative), if known.
    #[validate(custom(function = "crate::wire::uuid_text"))]
    #[schema(format = "uuid")]
    pub person_id: Option<String>,
    /// The organisation (professionals).
    #[validate(custom(function = "crate::wire::uuid_text"))]
    #[schema(format = "uuid")]
    pub organisation_id: Option<String>,
}

/// An appointment.
#[derive(Debug, Serialize, ToSchema)]
pub struct AppointmentView {
    /// Id.
    pub id: String,
    /// How it happens.
    pub mode: AppointmentModeWire,
    /// Title (no personal data).
    pub title: String,
    /// The referral it is about.
    pub referral_id: Option<String>,
    /// The follow-up it is about.
    pub follow_up_id: Option<String>,
    /// The young person.
    pub person_id: Option<String>,
    /// The site (permanence appointments).
    pub site_id: Option<String>,
    /// The permanence it lies in.
    pub permanence_id: Option<String>,
    /// Département.
    pub departement_code: String,
    /// Start, Paris time with offset.
    pub starts_at: DateTime<FixedOffset>,
    /// End, Paris time with offset.
    pub ends_at: DateTime<FixedOffset>,
    /// Where it stands.
    pub status: AppointmentStatusWire,
    /// Whether the team confirmed it (partner proposals start pending).
    pub confirmation: ConfirmationWire,
    /// The first meeting with the young person.
    pub first_meeting: bool,
    /// Why the first meeting has neither parent nor referent professional.
    pub unaccompanied_reason: Option<String>,
    /// Who cancelled it.
    pub cancelled_by: Option<String>,
    /// Why it was cancelled.
    pub cancel_reason: Option<String>,
    /// The partner organisation that proposed it.
    pub proposed_by_organisation_id: Option<String>,
    /// Staff.
    pub staff_ids: Vec<String>,
    /// Attendees besides the staff.
    pub attendees: Vec<Attendee>,
    /// Version, as in the `ETag`.
    pub version: i64,
    /// Created at.
    pub created_at: DateTime<Utc>,
    /// Last changed at.
    pub updated_at: DateTime<Utc>,
}

struct Full {
    row: AppointmentRow,
    staff: Vec<String>,
    attendees: Vec<AttendeeRow>,
}

fn load_many(conn: &mut DbConnection, rows: Vec<AppointmentRow>) -> Result<Vec<Full>, ApiError> {
    let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
    let staff = schedule::staff_of_appointments(conn, &ids)?;
    let attendees = schedule::attendees_of(conn, &ids)?;
    Ok(rows
        .into_iter()
        .map(|row| Full {
            staff: staff
                .iter()
                .filter(|(a, _)| *a == row.id)
                .map(|(_, s)| s.clone())
                .collect(),
            attendees: attendees
                .iter()
                .filter(|a| a.appointment_id == row.id)
                .cloned()
                .collect(),
            row,
        })
        .collect())
}

fn load_one(conn: &mut DbConnection, id: &str) -> Result<Option<Full>, ApiError> {
    let Some(row) = schedule::find_appointment(conn, id)? else {
        return Ok(None);
    };
    // An archived follow-up's appointments left the active base with it.
    if let Some(follow_up) = row.follow_up_id.as_deref()
        && adosexo_persistence::retention::archive_entry(conn, follow_up)?.is_some()
    {
        return Ok(None);
    }
    Ok(load_many(conn, vec![row])?.pop())
}

fn view(full: Full) -> Result<AppointmentView, ApiError> {
    let attendees = full
        .attendees
        .into_iter()
        .map(|a| {
            Ok(Attendee {
                kind: AttendeeKindWire(stored(&a.kind)?),
                person_id: a.person_id,
                organisation_id: a.organisation_id,
            })
        })
        .collect::<Result<Vec<_>, ApiError>>()?;
    let row = full.row;
    Ok(AppointmentView {
        mode: AppointmentModeWire(stored(&row.mode)?),
        status: AppointmentStatusWire(stored(&row.status)?),
        confirmation: ConfirmationWire(stored(&row.confirmation)?),
        starts_at: paris(from_db(row.starts_at)),
        ends_at: paris(from_db(row.ends_at)),
        staff_ids: full.staff,
        attendees,
        id: row.id,
        title: row.title,
        referral_id: row.referral_id,
        follow_up_id: row.follow_up_id,
        person_id: row.person_id,
        site_id: row.site_id,
        permanence_id: row.permanence_id,
        departement_code: row.departement_code,
        first_meeting: row.first_meeting,
        unaccompanied_reason: row.unaccompanied_reason,
        cancelled_by: row.cancelled_by,
        cancel_reason: row.cancel_reason,
        proposed_by_organisation_id: row.proposed_by_organisation_id,
        version: row.version,
        created_at: instant(row.created_at),
        updated_at: instant(row.updated_at),
    })
}

/// Decides `action` on an appointment, auditing a refusal. An actor who
/// may act on appointments but not on this one gets 404 for an existing
/// record and 403 when creating (`creating`).
async fn decide(
    state: &AppState,
    auth: &Authenticated,
    action: Action,
    departement: &DepartementCode,
    staff: &[String],
    proposed_by: Option<&str>,
    id: Option<&str>,
) -> Result<(), ApiError> {
    let resource = Resource::Appointment {
        departement,
        staff,
        proposed_by,
    };
    match authz::authorize(&auth.actor, action, resource) {
        Ok(()) => Ok(()),
        Err(_) if id.is_none() => {
            audit::record(
                state,
                vec![audit::entry(
                    Some(&auth.actor),
                    &auth.ctx,
                    action.as_str(),
                    "appointment",
                    None,
                    Outcome::Denied,
                )],
            )
            .await?;
            Err(ApiError::forbidden()
                .with_detail("you may book only appointments you attend or of your territory"))
        }
        Err(_) => permit(state, auth, action, resource, "appointment", id).await,
    }
}

async fn authorized(
    state: &AppState,
    auth: &Authenticated,
    id: &str,
    action: Action,
) -> Result<Full, ApiError> {
    let lookup = id.to_owned();
    let full = state.db.run(move |conn| load_one(conn, &lookup)).await?;
    let Some(full) = full else {
        permit(
            state,
            auth,
            action,
            Resource::Service,
            "appointment",
            Some(id),
        )
        .await?;
        return Err(ApiError::not_found("no appointment with this id"));
    };
    let departement = stored_departement(&full.row.departement_code)?;
    decide(
        state,
        auth,
        action,
        &departement,
        &full.staff,
        full.row.proposed_by_organisation_id.as_deref(),
        Some(id),
    )
    .await?;
    Ok(full)
}

/// An occurrence a permanence appointment may lie in: permanence id, start, end.
type Window = (String, DateTime<Utc>, DateTime<Utc>);

/// A free slot keyed by `(permanence id, site id)`, with free staff ids.
type FreeSlot = availability::Slot<(String, String), String>;

/// The occurrences (not cancelled) of permanences at `site_id` held by
/// every one of `staff`, around `[start, end)`.
fn permanence_windows(
    conn: &mut DbConnection,
    site_id: &str,
    staff: &[String],
    start: DateTime<Utc>,
    end: DateTime<Utc>,
) -> Result<Vec<Window>, ApiError> {
    let rows = schedule::list_permanences(
        conn,
        &PermanenceFilter {
            site_id: Some(site_id.to_owned()),
            limit: 500,
            ..PermanenceFilter::default()
        },
    )?;
    let loaded = perm::load_many(conn, rows)?;
    let mut windows = Vec::new();
    for permanence in loaded
        .iter()
        .filter(|p| staff.iter().all(|s| p.staff.contains(s)))
    {
        for o in permanence.occurrences(start - Duration::days(1), end + Duration::days(1))? {
            if o.status != OccurrenceStatus::Cancelled {
                windows.push((permanence.row.id.clone(), o.start, o.end));
            }
        }
    }
    Ok(windows)
}

/// Everything a new appointment needs, checked.
struct NewAppointment {
    row: AppointmentRow,
    staff: Vec<String>,
    attendees: Vec<AttendeeRow>,
}

/// Checks the rules that need the database and writes the appointment
/// with its bookings (in the caller's transaction).
fn write_new(
    conn: &mut DbConnection,
    actor: &Actor,
    mut new: NewAppointment,
) -> Result<Full, ApiError> {
    let start = from_db(new.row.starts_at);
    let end = from_db(new.row.ends_at);
    check_staff(conn, "staff_ids", &new.staff)?;
    for (index, attendee) in new.attendees.iter().enumerate() {
        if let Some(person) = &attendee.person_id
            && cases::find_person(conn, person)?.is_none()
        {
            return Err(ApiError::invalid_value(
                &format!("attendees[{index}].person_id"),
                "unknown",
                "no person has this id",
            ));
        }
        if let Some(organisation) = &attendee.organisation_id {
            known_organisation(
                conn,
                &format!("attendees[{index}].organisation_id"),
                organisation,
            )?;
        }
    }
    if new.row.mode == AppointmentMode::Permanence.as_str() {
        let site = new.row.site_id.clone().unwrap_or_default();
        let windows = permanence_windows(conn, &site, &new.staff, start, end)?;
        let inside = windows
            .iter()
            .find(|(_, s, e)| rules::inside_any(start, end, &[(*s, *e)]));
        match inside {
            Some((permanence_id, _, _)) => new.row.permanence_id = Some(permanence_id.clone()),
            None => return Err(appointment_rule(rules::AppointmentRule::OutsidePermanence)),
        }
    }
    if let Some(person) = &new.row.person_id {
        new.row.first_meeting = !schedule::has_earlier_appointment(conn, person, start, None)?;
    }
    let kinds: Vec<AttendeeKind> = new
        .attendees
        .iter()
        .map(|a| stored::<AttendeeKind>(&a.kind))
        .collect::<Result<_, _>>()?;
    rules::check_first_meeting(
        new.row.first_meeting,
        &kinds,
        new.row.unaccompanied_reason.as_deref(),
    )
    .map_err(appointment_rule)?;
    schedule::insert_appointment(conn, &new.row, &new.staff, &new.attendees)?;
    let mut bookings = bookings_for(&new.row, &new.staff);
    schedule::insert_bookings(conn, &mut bookings)
        .map_err(|e| booking_error(conn, actor, &bookings, e))?;
    load_one(conn, &new.row.id)?.ok_or_else(|| ApiError::internal("appointment just written"))
}

fn bookings_for(row: &AppointmentRow, staff: &[String]) -> Vec<BookingRow> {
    staff
        .iter()
        .map(|account| BookingRow {
            id: uuid::Uuid::now_v7().to_string(),
            account_id: account.clone(),
            starts_at: row.starts_at,
            ends_at: row.ends_at,
            appointment_id: Some(row.id.clone()),
            group_session_id: None,
        })
        .collect()
}

/// A new appointment.
#[derive(Debug, Deserialize, Serialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateAppointment {
    /// How it happens; `permanence` needs `site_id` and must lie inside an
    /// occurrence of a permanence there held by all its staff.
    pub mode: AppointmentModeWire,
    /// Title (no personal data).
    #[validate(length(min = 1, max = 200, message = "title must have 1 to 200 characters"))]
    #[schema(min_length = 1, max_length = 200, example = "Premier entretien")]
    pub title: String,
    /// The referral it is about.
    #[validate(custom(function = "crate::wire::uuid_text"))]
    #[schema(format = "uuid")]
    pub referral_id: Option<String>,
    /// The follow-up it is about.
    #[validate(custom(function = "crate::wire::uuid_text"))]
    #[schema(format = "uuid")]
    pub follow_up_id: Option<String>,
    /// The site (permanence, partner premises).
    #[validate(custom(function = "crate::wire::uuid_text"))]
    #[schema(format = "uuid")]
    pub site_id: Option<String>,
    /// Département, when neither a site nor a case gives it.
    #[schema(pattern = "^([0-9]{2}|2[ABab]|9[78][0-9])$")]
    #[validate(custom(function = "crate::wire::departement_code"))]
    pub departement_code: Option<String>,
    /// Start (RFC 3339).
    pub starts_at: DateTime<Utc>,
    /// End (RFC 3339), 5 minutes to 4 hours after the start.
    pub ends_at: DateTime<Utc>,
    /// Staff (1 to 5).
    #[validate(length(min = 1, max = 5, message = "staff_ids has 1 to 5 entries"))]
    #[validate(custom(function = "crate::wire::uuid_texts"))]
    #[schema(value_type = Vec<uuid::Uuid>, min_items = 1, max_items = 5)]
    pub staff_ids: Vec<String>,
    /// Attendees besides the staff (at most 20).
    #[validate(length(max = 20, message = "attendees has at most 20 entries"))]
    #[validate(nested)]
    #[serde(default)]
    #[schema(max_items = 20)]
    pub attendees: Vec<Attendee>,
    /// Why a first meeting has neither a parent nor a referent professional.
    #[validate(length(
        min = 1,
        max = 1000,
        message = "unaccompanied_reason must have 1 to 1000 characters"
    ))]
    #[schema(min_length = 1, max_length = 1000)]
    pub unaccompanied_reason: Option<String>,
}

fn sorted(ids: &[String]) -> Vec<String> {
    let mut ids: Vec<String> = ids.iter().map(|s| s.to_lowercase()).collect();
    ids.sort();
    ids.dedup();
    ids
}

fn attendee_rows(id: &str, attendees: &[Attendee]) -> Vec<AttendeeRow> {
    attendees
        .iter()
        .zip(0..)
        .map(|(a, position)| AttendeeRow {
            appointment_id: id.to_owned(),
            position,
            kind: a.kind.0.as_str().to_owned(),
            person_id: a.person_id.clone(),
            organisation_id: a.organisation_id.clone(),
        })
        .collect()
}

/// Book an appointment.
#[utoipa::path(
    operation_id = "createAppointment",
    tag = "scheduling",
    summary = "Book an appointment",
    description = "Rules, each a named problem type: `end-before-start`, `too-long`, `too-short`, `outside-permanence`, `first-meeting-unaccompanied` (422) and `staff-double-booked` (409, guaranteed by the database under concurrent requests).",
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe: the same key and body replay the first answer (1 to 255 visible ASCII characters)", pattern = "^[!-~]{1,255}$")),
    request_body(content = CreateAppointment, content_type = "application/json"),
    security(("bearer" = [])),
    responses(
        (status = 201, description = "The appointment", body = AppointmentView, headers(("ETag" = String, description = "Its version"))),
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
#[post("/appointments")]
pub async fn create(
    state: web::Data<AppState>,
    auth: Authenticated,
    key: IdempotencyKey,
    body: ApiJson<CreateAppointment>,
) -> Result<HttpResponse, ApiError> {
    permit(
        &state,
        &auth,
        Action::CreateAppointment,
        Resource::Service,
        "appointment",
        None,
    )
    .await?;
    let body = body.into_inner()?;
    let digest = idempotency::digest(&body)?;
    let start = body.starts_at;
    let end = body.ends_at;
    rules::check_times(start, end).map_err(appointment_rule)?;
    let mode = body.mode.0;
    if mode == AppointmentMode::Permanence && body.site_id.is_none() {
        return Err(ApiError::invalid_value(
            "site_id",
            "required",
            "a permanence appointment names its site",
        ));
    }
    // What the appointment is about gives the young person and the département.
    let (person_id, mut departement) = subject(
        &state,
        &auth,
        body.referral_id.as_deref(),
        body.follow_up_id.as_deref(),
    )
    .await?;
    if let Some(site_id) = &body.site_id {
        let site = super::sites::named(&state, site_id).await?;
        departement = departement.or(Some(site.departement_code));
    }
    let departement = match (departement, &body.departement_code) {
        (Some(d), _) => d,
        (None, Some(d)) => d.clone(),
        (None, None) => {
            return Err(ApiError::invalid_value(
                "departement_code",
                "required",
                "name the département when no site, referral or follow-up gives it",
            ));
        }
    };
    let departement_code = DepartementCode::parse(&departement)
        .map_err(|e| ApiError::invalid_field("departement_code", "format", e.to_string()))?;
    let staff = sorted(&body.staff_ids);
    decide(
        &state,
        &auth,
        Action::ManageAppointment,
        &departement_code,
        &staff,
        None,
        None,
    )
    .await?;
    let now = state.clock.now();
    let id = uuid::Uuid::now_v7().to_string();
    let row = AppointmentRow {
        id: id.clone(),
        mode: mode.as_str().to_owned(),
        title: body.title,
        referral_id: body.referral_id,
        follow_up_id: body.follow_up_id,
        person_id,
        site_id: body.site_id,
        permanence_id: None,
        departement_code: departement_code.as_str().to_owned(),
        starts_at: to_db(start),
        ends_at: to_db(end),
        status: AppointmentStatus::Scheduled.as_str().to_owned(),
        confirmation: Confirmation::Confirmed.as_str().to_owned(),
        first_meeting: false,
        unaccompanied_reason: body.unaccompanied_reason,
        cancelled_by: None,
        cancel_reason: None,
        proposed_by_organisation_id: None,
        created_by: auth.actor.id.clone(),
        version: 1,
        created_at: to_db(now),
        updated_at: to_db(now),
    };
    let attendees = attendee_rows(&id, &body.attendees);
    let actor = auth.actor.clone();
    let entry = audit::entry(
        Some(&auth.actor),
        &auth.ctx,
        "create_appointment",
        "appointment",
        Some(&id),
        Outcome::Success,
    );
    idempotency::create(
        &state,
        &auth,
        key,
        Operation {
            name: "create_appointment",
            location: Some("/api/v1/appointments"),
            replay: idempotency::reread(&state, &auth, read_appointment),
        },
        digest,
        move |conn| {
            let full = write_new(
                conn,
                &actor,
                NewAppointment {
                    row,
                    staff,
                    attendees,
                },
            )?;
            crate::webhooks::appointment_changed(
                conn,
                &full.row,
                adosexo_domain::webhooks::EventType::AppointmentBooked,
                now,
            )?;
            adosexo_persistence::audit::append(conn, &[entry], now)?;
            let version = full.row.version;
            Ok(Created {
                id: full.row.id.clone(),
                version,
                body: view(full)?,
                replay_body: None,
            })
        },
    )
    .await
}

/// The young person and département of the referral or follow-up an
/// appointment is about, after checking the caller may read it (404 else).
async fn subject(
    state: &AppState,
    auth: &Authenticated,
    referral_id: Option<&str>,
    follow_up_id: Option<&str>,
) -> Result<(Option<String>, Option<String>), ApiError> {
    if let Some(id) = referral_id {
        let lookup = id.to_owned();
        let referral = state
            .db
            .run(move |conn| cases::find_referral(conn, &lookup))
            .await?;
        let Some(referral) = referral else {
            permit(
                state,
                auth,
                Action::ReadReferral,
                Resource::Service,
                "referral",
                Some(id),
            )
            .await?;
            return Err(ApiError::not_found("no referral with this id"));
        };
        let departement = stored_departement(&referral.departement_code)?;
        permit(
            state,
            auth,
            Action::ReadReferral,
            Resource::Referral {
                organisation_id: referral.source_organisation_id.as_deref(),
                departement: &departement,
            },
            "referral",
            Some(id),
        )
        .await?;
        return Ok((Some(referral.person_id), Some(referral.departement_code)));
    }
    if let Some(id) = follow_up_id {
        let lookup = id.to_owned();
        let found = state
            .db
            .run(move |conn| match cases::find_follow_up(conn, &lookup)? {
                Some(row) => {
                    let staff = cases::staff_of(conn, &row)?;
                    Ok::<_, ApiError>(Some((row, staff)))
                }
                None => Ok(None),
            })
            .await?;
        let Some((row, staff)) = found else {
            permit(
                state,
                auth,
                Action::ReadFollowUp,
                Resource::Service,
                "follow_up",
                Some(id),
            )
            .await?;
            return Err(ApiError::not_found("no follow-up with this id"));
        };
        let departement = stored_departement(&row.departement_code)?;
        permit(
            state,
            auth,
            Action::ReadFollowUp,
            Resource::FollowUp {
                departement: &departement,
                staff: &staff,
            },
            "follow_up",
            Some(id),
        )
        .await?;
        return Ok((Some(row.person_id), Some(row.departement_code)));
    }
    Ok((None, None))
}

/// A page of appointments, by start.
#[derive(Debug, Serialize, ToSchema)]
pub struct AppointmentPage {
    /// Earliest first.
    pub items: Vec<AppointmentView>,
    /// Pass as `cursor` for the next page; `null` on the last.
    pub next_cursor: Option<String>,
}

/// Filters and paging.
#[derive(Debug, Deserialize, Validate, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AppointmentQuery {
    /// Page size, 1 to 200 (default 50).
    #[validate(range(min = 1, max = 200, message = "limit must be from 1 to 200"))]
    #[param(minimum = 1, maximum = 200, default = 50)]
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    #[param(
        pattern = "^[0-9]{1,16}_[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
    )]
    pub cursor: Option<String>,
    /// Ending after this instant.
    pub from: Option<DateTime<Utc>>,
    /// Starting before this instant.
    pub to: Option<DateTime<Utc>>,
    /// Only this staff member's.
    #[validate(custom(function = "crate::wire::uuid_text"))]
    #[param(format = "uuid")]
    pub staff_id: Option<String>,
    /// Only about this referral.
    #[validate(custom(function = "crate::wire::uuid_text"))]
    #[param(format = "uuid")]
    pub referral_id: Option<String>,
    /// Only about this follow-up.
    #[validate(custom(function = "crate::wire::uuid_text"))]
    #[param(format = "uuid")]
    pub follow_up_id: Option<String>,
    /// Only in this status.
    pub status: Option<AppointmentStatusWire>,
}

/// List appointments: supervisors all; others those of their territory and
/// their own.
#[utoipa::path(
    operation_id = "listAppointments",
    tag = "scheduling",
    summary = "List appointments",
    description = "The supervisor: all; coordinators and regional referents: those of their territory and their own. Narrow by `from` and `to`, `staff_id`, `referral_id`, `follow_up_id`, `status`; pages by `cursor`. Audited.",
    params(AppointmentQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "A page of appointments", body = AppointmentPage),
        (status = 400, response = crate::problem::BadRequest),
        (status = 401, response = crate::problem::Unauthorized),
        (status = 403, response = crate::problem::Forbidden),
        (status = 503, response = crate::problem::Unavailable),
    ),
)]
#[get("/appointments")]
pub async fn list(
    state: web::Data<AppState>,
    auth: Authenticated,
    query: ApiQuery<AppointmentQuery>,
) -> Result<HttpResponse, ApiError> {
    permit(
        &state,
        &auth,
        Action::ListAppointments,
        Resource::Service,
        "appointment",
        None,
    )
    .await?;
    let query = query.into_inner()?;
    let after = query.cursor.as_deref().map(parse_cursor).transpose()?;
    let limit = limit(query.limit);
    let actor = &auth.actor;
    let scope = (!actor.roles.has(Role::Supervisor)).then(|| {
        (
            actor.territory.iter().map(|d| d.to_string()).collect(),
            actor.id.clone(),
        )
    });
    let filter = AppointmentFilter {
        from: query.from,
        to: query.to,
        staff_id: query.staff_id,
        departements_or_staff: scope,
        referral_id: query.referral_id,
        follow_up_id: query.follow_up_id,
        status: query.status.map(|s| s.0.as_str().to_owned()),
        updated_since: None,
        after,
        limit: i64::from(limit) + 1,
    };
    let rows = state
        .db
        .run(move |conn| schedule::list_appointments(conn, &filter))
        .await?;
    let (rows, next_cursor) = page(rows, limit, |r| cursor_of(r.starts_at, &r.id));
    let full = state.db.run(move |conn| load_many(conn, rows)).await?;
    audit::record(
        &state,
        vec![audit::list_entry(
            Some(actor),
            &auth.ctx,
            "list_appointments",
            "appointment",
            full.iter().map(|a| &a.row.id),
        )],
    )
    .await?;
    let items = full.into_iter().map(view).collect::<Result<_, _>>()?;
    Ok(HttpResponse::Ok().json(AppointmentPage { items, next_cursor }))
}

/// Read an appointment.
#[utoipa::path(
    operation_id = "getAppointment",
    tag = "scheduling",
    summary = "Get an appointment",
    description = "Its staff, coordinators and referents of its territory, supervisors; the partner organisation that proposed it. Audited.",
    params(("id" = String, Path, description = "Appointment id", pattern = "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The appointment", body = AppointmentView, headers(("ETag" = String, description = "Its version"))),
        (status = 400, response = crate::problem::BadRequest),
        (status = 401, response = crate::problem::Unauthorized),
        (status = 403, response = crate::problem::Forbidden),
        (status = 404, response = crate::problem::NotFound),
        (status = 503, response = crate::problem::Unavailable),
    ),
)]
#[get("/appointments/{id}")]
pub async fn get(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    read_appointment(state, auth, id.into_inner()).await
}

/// What `get` answers (also a replay of the creation, through today's
/// authorization).
pub(crate) async fn read_appointment(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: String,
) -> Result<HttpResponse, ApiError> {
    let id = parse_id("id", &id)?;
    let full = authorized(&state, &auth, &id, Action::ReadAppointment).await?;
    audit::record(
        &state,
        vec![audit::entry(
            Some(&auth.actor),
            &auth.ctx,
            "read_appointment",
            "appointment",
            Some(&id),
            Outcome::Success,
        )],
    )
    .await?;
    let version = full.row.version;
    Ok(versioned_json(StatusCode::OK, &view(full)?, version))
}

/// A lifecycle change.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AppointmentChange {
    /// `complete`, `cancel`, `no_show`, `reschedule` or `confirm`.
    #[validate(custom(function = "change_action"))]
    #[schema(
        pattern = "^(complete|cancel|no_show|reschedule|confirm)$",
        example = "cancel"
    )]
    pub action: String,
    /// Why (required to cancel).
    #[validate(length(min = 1, max = 1000, message = "reason must have 1 to 1000 characters"))]
    #[schema(min_length = 1, max_length = 1000)]
    pub reason: Option<String>,
    /// New start (reschedule).
    pub starts_at: Option<DateTime<Utc>>,
    /// New end (reschedule).
    pub ends_at: Option<DateTime<Utc>>,
}

fn change_action(value: &str) -> Result<(), validator::ValidationError> {
    if matches!(
        value,
        "complete" | "cancel" | "no_show" | "reschedule" | "confirm"
    ) {
        Ok(())
    } else {
        let mut error = validator::ValidationError::new("enum");
        error.message = Some("action is complete, cancel, no_show, reschedule or confirm".into());
        Err(error)
    }
}

/// Complete, cancel, mark a no-show, reschedule or confirm (needs `If-Match`).
#[utoipa::path(
    operation_id = "changeAppointment",
    tag = "scheduling",
    summary = "Change an appointment's status or times",
    description = "Forward only: `scheduled → completed | cancelled | no_show`; completing or a no-show once it has started; `reschedule` moves a scheduled appointment (its rules are checked again); `confirm` accepts a partner's proposal. Cancelling frees the staff.",
    params(
        ("id" = String, Path, description = "Appointment id", pattern = "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"),
        ("If-Match" = String, Header, description = "The ETag of the version read", pattern = "^\"v[0-9]{1,18}\"$", example = "\"v1\""),
    ),
    request_body(content = AppointmentChange, content_type = "application/json"),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The appointment", body = AppointmentView, headers(("ETag" = String, description = "Its new version"))),
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
#[post("/appointments/{id}/changes")]
pub async fn change(
    req: HttpRequest,
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<String>,
    body: ApiJson<AppointmentChange>,
) -> Result<HttpResponse, ApiError> {
    let id = parse_id("id", &id)?;
    let full = authorized(&state, &auth, &id, Action::ManageAppointment).await?;
    let body = body.into_inner()?;
    let expected = if_match(&req)?;
    let now = state.clock.now();
    let status: AppointmentStatus = stored(&full.row.status)?;
    let started = now >= from_db(full.row.starts_at);
    let mut changes = AppointmentChanges::default();
    let mut rebook: Option<(DateTime<Utc>, DateTime<Utc>)> = None;
    let mut free = false;
    match body.action.as_str() {
        "confirm" => {
            if status != AppointmentStatus::Scheduled {
                return Err(appointment_rule(rules::AppointmentRule::NotAllowed));
            }
            changes.confirmation = Some(Confirmation::Confirmed.as_str().to_owned());
        }
        "reschedule" => {
            status
                .apply(AppointmentAction::Reschedule, started)
                .map_err(appointment_rule)?;
            let (Some(start), Some(end)) = (body.starts_at, body.ends_at) else {
                return Err(ApiError::invalid_value(
                    "starts_at",
                    "required",
                    "rescheduling needs starts_at and ends_at",
                ));
            };
            rules::check_times(start, end).map_err(appointment_rule)?;
            changes.starts_at = Some(to_db(start));
            changes.ends_at = Some(to_db(end));
            rebook = Some((start, end));
        }
        action => {
            let (action, next_reason) = match action {
                "complete" => (AppointmentAction::Complete, None),
                "no_show" => (AppointmentAction::NoShow, None),
                _ => (AppointmentAction::Cancel, body.reason.clone()),
            };
            if action == AppointmentAction::Cancel && next_reason.is_none() {
                return Err(ApiError::invalid_value(
                    "reason",
                    "required",
                    "say why the appointment is cancelled",
                ));
            }
            let next = status.apply(action, started).map_err(appointment_rule)?;
            changes.status = Some(next.as_str().to_owned());
            if next == AppointmentStatus::Cancelled {
                changes.cancelled_by = Some(Some(auth.actor.id.clone()));
                changes.cancel_reason = Some(next_reason);
                free = true;
            }
        }
    }
    let entry = audit::entry(
        Some(&auth.actor),
        &auth.ctx,
        &format!("appointment_{}", body.action),
        "appointment",
        Some(&id),
        Outcome::Success,
    );
    let row = full.row.clone();
    let staff = full.staff.clone();
    let actor = auth.actor.clone();
    let full = state
        .db
        .transaction(move |conn| {
            let updated = schedule::update_appointment(conn, &id, expected, &changes, now)?
                .ok_or_else(ApiError::precondition_failed)?;
            if free || rebook.is_some() {
                schedule::delete_appointment_bookings(conn, &id)?;
            }
            if let Some((start, end)) = rebook {
                if row.mode == AppointmentMode::Permanence.as_str() {
                    let site = row.site_id.clone().unwrap_or_default();
                    let windows = permanence_windows(conn, &site, &staff, start, end)?;
                    if !windows
                        .iter()
                        .any(|(_, s, e)| rules::inside_any(start, end, &[(*s, *e)]))
                    {
                        return Err(appointment_rule(rules::AppointmentRule::OutsidePermanence));
                    }
                }
                let mut bookings = bookings_for(&updated, &staff);
                schedule::insert_bookings(conn, &mut bookings)
                    .map_err(|e| booking_error(conn, &actor, &bookings, e))?;
            }
            if free {
                crate::webhooks::appointment_changed(
                    conn,
                    &updated,
                    adosexo_domain::webhooks::EventType::AppointmentCancelled,
                    now,
                )?;
            }
            adosexo_persistence::audit::append(conn, &[entry], now)?;
            load_one(conn, &id)?.ok_or_else(|| ApiError::internal("appointment just written"))
        })
        .await?;
    let version = full.row.version;
    Ok(versioned_json(StatusCode::OK, &view(full)?, version))
}

/// Free first-meeting slots.
#[derive(Debug, Deserialize, Validate, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AvailabilityQuery {
    /// Département of the permanences.
    #[param(pattern = "^([0-9]{2}|2[ABab]|9[78][0-9])$")]
    #[validate(custom(function = "crate::wire::departement_code"))]
    pub departement: String,
    /// From (RFC 3339).
    pub from: DateTime<Utc>,
    /// To (after `from`, at most 62 days later).
    pub to: DateTime<Utc>,
    /// Length of the meeting in minutes, 15 to 240 (default 60).
    #[validate(range(min = 15, max = 240, message = "duration is 15 to 240 minutes"))]
    #[param(minimum = 15, maximum = 240, default = 60)]
    pub duration: Option<u32>,
}

/// A free slot.
#[derive(Debug, Serialize, ToSchema)]
pub struct SlotView {
    /// The permanence.
    pub permanence_id: String,
    /// Its site.
    pub site_id: String,
    /// Start, Paris time with offset.
    pub starts_at: DateTime<FixedOffset>,
    /// End.
    pub ends_at: DateTime<FixedOffset>,
    /// How many staff are free then.
    pub free_staff: u32,
}

/// The free slots of permanences (not cancelled), minus staff bookings.
fn free_slots(
    conn: &mut DbConnection,
    departement: &str,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    duration: Duration,
    now: DateTime<Utc>,
) -> Result<Vec<FreeSlot>, ApiError> {
    let rows = schedule::list_permanences(
        conn,
        &PermanenceFilter {
            departements: Some(vec![departement.to_owned()]),
            status: Some("active".to_owned()),
            limit: 1000,
            ..PermanenceFilter::default()
        },
    )?;
    let loaded: Vec<Loaded> = perm::load_many(conn, rows)?;
    let mut openings = Vec::new();
    let mut staff: Vec<String> = Vec::new();
    for p in &loaded {
        for o in p.occurrences(from, to)? {
            if o.status == OccurrenceStatus::Cancelled || o.start < from || o.end > to {
                continue;
            }
            openings.push(Opening {
                key: (p.row.id.clone(), p.site.id.clone()),
                start: o.start,
                end: o.end,
                staff: p.staff.clone(),
            });
        }
        staff.extend(p.staff.iter().cloned());
    }
    staff.sort();
    staff.dedup();
    let busy: Vec<Busy<String>> = schedule::bookings_between(conn, &staff, from, to)?
        .into_iter()
        .map(|b| Busy {
            staff: b.account_id,
            start: from_db(b.starts_at),
            end: from_db(b.ends_at),
        })
        .collect();
    Ok(availability::free_slots(&openings, &busy, duration, now))
}

/// Free first-meeting slots in a département.
#[utoipa::path(
    operation_id = "getAvailability",
    tag = "scheduling",
    summary = "Free first-meeting slots",
    description = "Slots of `duration` minutes inside permanence occurrences of the département where at least one of its staff is free, from now on. Partners may book one for their own referral.",
    params(AvailabilityQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Free slots, by start", body = Vec<SlotView>),
        (status = 400, response = crate::problem::BadRequest),
        (status = 401, response = crate::problem::Unauthorized),
        (status = 403, response = crate::problem::Forbidden),
        (status = 422, response = crate::problem::Unprocessable),
        (status = 503, response = crate::problem::Unavailable),
    ),
)]
#[get("/availability")]
pub async fn get_availability(
    state: web::Data<AppState>,
    auth: Authenticated,
    query: ApiQuery<AvailabilityQuery>,
) -> Result<HttpResponse, ApiError> {
    permit(
        &state,
        &auth,
        Action::ReadAvailability,
        Resource::Service,
        "availability",
        None,
    )
    .await?;
    let query = query.into_inner()?;
    check_range(query.from, query.to)?;
    if query.to - query.from > Duration::days(62) {
        return Err(ApiError::invalid_value(
            "to",
            "range",
            "availability spans at most 62 days",
        ));
    }
    let departement = DepartementCode::parse(&query.departement)
        .map_err(|e| ApiError::invalid_field("departement", "format", e.to_string()))?;
    let duration = Duration::minutes(i64::from(query.duration.unwrap_or(60)));
    let now = state.clock.now();
    let (from, to) = (query.from, query.to);
    let slots = state
        .db
        .run(move |conn| free_slots(conn, departement.as_str(), from, to, duration, now))
        .await?;
    let items: Vec<SlotView> = slots
        .into_iter()
        .map(|s| SlotView {
            permanence_id: s.key.0,
            site_id: s.key.1,
            starts_at: paris(s.start),
            ends_at: paris(s.end),
            free_staff: u32::try_from(s.free_staff.len()).unwrap_or(u32::MAX),
        })
        .collect();
    Ok(HttpResponse::Ok().json(items))
}

/// Book a free slot for a referral.
#[derive(Debug, Deserialize, Serialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BookSlot {
    /// The referral (a partner: one of its organisation's).
    #[validate(custom(function = "crate::wire::uuid_text"))]
    #[schema(format = "uuid")]
    pub referral_id: String,
    /// The permanence of the slot.
    #[validate(custom(function = "crate::wire::uuid_text"))]
    #[schema(format = "uuid")]
    pub permanence_id: String,
    /// The slot's start, as `getAvailability` gave it.
    pub starts_at: DateTime<Utc>,
    /// Length in minutes, 15 to 240 (default 60), as asked of `getAvailability`.
    #[validate(range(min = 15, max = 240, message = "duration is 15 to 240 minutes"))]
    #[serde(default, deserialize_with = "crate::wire::optional_integer")]
    #[schema(minimum = 15, maximum = 240, default = 60)]
    pub duration: Option<i32>,
}

/// Book a free first-meeting slot.
#[utoipa::path(
    operation_id = "bookFirstMeeting",
    tag = "scheduling",
    summary = "Book a free first-meeting slot",
    description = "Creates a permanence appointment with a free staff member. Booked by a partner: pending until the team confirms it, with the partner's organisation as referent professional. 404 for a referral the caller may not see; 409 `slot-taken` when it is no longer free.",
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe: the same key and body replay the first answer (1 to 255 visible ASCII characters)", pattern = "^[!-~]{1,255}$")),
    request_body(content = BookSlot, content_type = "application/json"),
    security(("bearer" = [])),
    responses(
        (status = 201, description = "The appointment", body = AppointmentView, headers(("ETag" = String, description = "Its version"))),
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
#[post("/availability/bookings")]
pub async fn book(
    state: web::Data<AppState>,
    auth: Authenticated,
    key: IdempotencyKey,
    body: ApiJson<BookSlot>,
) -> Result<HttpResponse, ApiError> {
    permit(
        &state,
        &auth,
        Action::BookFirstMeeting,
        Resource::Service,
        "availability",
        None,
    )
    .await?;
    let body = body.into_inner()?;
    let digest = idempotency::digest(&body)?;
    let (person_id, departement) = subject(&state, &auth, Some(&body.referral_id), None).await?;
    let partner = auth.actor.roles.has(Role::Partner) && !auth.actor.roles.works_on_cases();
    let duration = Duration::minutes(i64::from(body.duration.unwrap_or(60)));
    let start = body.starts_at;
    let end = start + duration;
    let now = state.clock.now();
    let id = uuid::Uuid::now_v7().to_string();
    let actor_id = auth.actor.id.clone();
    let actor = auth.actor.clone();
    let organisation = auth.actor.organisation_id.clone();
    let permanence_id = body.permanence_id.clone();
    let referral_id = body.referral_id.clone();
    let entry = audit::entry(
        Some(&auth.actor),
        &auth.ctx,
        "book_first_meeting",
        "appointment",
        Some(&id),
        Outcome::Success,
    );
    idempotency::create(
        &state,
        &auth,
        key,
        Operation {
            name: "book_first_meeting",
            location: Some("/api/v1/appointments"),
            replay: idempotency::reread(&state, &auth, read_appointment),
        },
        digest,
        move |conn| {
            let permanence = perm::load_one(conn, &permanence_id)?.ok_or_else(|| {
                ApiError::invalid_value("permanence_id", "unknown", "no permanence has this id")
            })?;
            let slot_departement = permanence.site.departement_code.clone();
            let day = Duration::days(1);
            let slots = free_slots(
                conn,
                &slot_departement,
                start - day,
                end + day,
                duration,
                now,
            )?;
            let slot = slots
                .into_iter()
                .find(|s| s.key.0 == permanence_id && s.start == start && s.end == end)
                .ok_or_else(slot_taken)?;
            let staff_member = slot
                .free_staff
                .first()
                .cloned()
                .ok_or_else(|| ApiError::internal("free slot without staff"))?;
            let mut attendees = vec![AttendeeRow {
                appointment_id: id.clone(),
                position: 0,
                kind: AttendeeKind::YoungPerson.as_str().to_owned(),
                person_id: person_id.clone(),
                organisation_id: None,
            }];
            if partner {
                attendees.push(AttendeeRow {
                    appointment_id: id.clone(),
                    position: 1,
                    kind: AttendeeKind::ReferentProfessional.as_str().to_owned(),
                    person_id: None,
                    organisation_id: Some(organisation.clone()),
                });
            }
            let row = AppointmentRow {
                id: id.clone(),
                mode: AppointmentMode::Permanence.as_str().to_owned(),
                title: "Premier entretien".to_owned(),
                referral_id: Some(referral_id),
                follow_up_id: None,
                person_id,
                site_id: Some(permanence.site.id.clone()),
                permanence_id: Some(permanence_id.clone()),
                departement_code: departement.unwrap_or(slot_departement),
                starts_at: to_db(start),
                ends_at: to_db(end),
                status: AppointmentStatus::Scheduled.as_str().to_owned(),
                confirmation: if partner {
                    Confirmation::Pending
                } else {
                    Confirmation::Confirmed
                }
                .as_str()
                .to_owned(),
                first_meeting: false,
                unaccompanied_reason: None,
                cancelled_by: None,
                cancel_reason: None,
                proposed_by_organisation_id: partner.then(|| organisation.clone()),
                created_by: actor_id,
                version: 1,
                created_at: to_db(now),
                updated_at: to_db(now),
            };
            let full = write_new(
                conn,
                &actor,
                NewAppointment {
                    row,
                    staff: vec![staff_member],
                    attendees,
                },
            )
            .map_err(slot_taken_on_collision)?;
            crate::webhooks::appointment_changed(
                conn,
                &full.row,
                adosexo_domain::webhooks::EventType::AppointmentBooked,
                now,
            )?;
            adosexo_persistence::audit::append(conn, &[entry], now)?;
            let version = full.row.version;
            Ok(Created {
                id: full.row.id.clone(),
                version,
                body: view(full)?,
                replay_body: None,
            })
        },
    )
    .await
}

/// 409 `slot-taken`: the slot asked for is not (or no longer) free.
fn slot_taken() -> ApiError {
    ApiError::conflict(
        "slot-taken",
        "Slot not free",
        "this slot is not (or no longer) free; ask for availability again",
    )
}

/// A booking that lost the race for its slot (another one committed between
/// the look-up of free slots and the insertion, which the database refused)
/// is `slot-taken` like one that came later: one answer for one situation.
fn slot_taken_on_collision(error: ApiError) -> ApiError {
    if error.kind() == rules::AppointmentRule::StaffDoubleBooked.tag() {
        slot_taken()
    } else {
        error
    }
}

/// An organisation exists (for attendees); 422 naming the field otherwise.
fn known_organisation(conn: &mut DbConnection, field: &str, id: &str) -> Result<(), ApiError> {
    identity::find_organisation(conn, id)?
        .map(|_| ())
        .ok_or_else(|| ApiError::invalid_value(field, "unknown", "no organisation has this id"))
}
