//! Follow-ups: the support of a person once a referral is accepted — staff,
//! measure, objectives over time, status, and encrypted notes.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, get, patch, post, web};
use adosexo_domain::authz::{Action, Resource};
use adosexo_domain::followup::{FollowUpAction, FollowUpStatus};
use adosexo_domain::identity::Role;
use adosexo_persistence::DbConnection;
use adosexo_persistence::cases::{
    self, FollowUpChanges, FollowUpFilter, FollowUpRow, NoteRow, ObjectiveRow, PersonRow,
};
use adosexo_persistence::identity;
use adosexo_persistence::time::to_db;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use super::cases::{cursor_of, parse_cursor, stored, stored_departement};
use crate::audit::{self, Outcome};
use crate::auth::Authenticated;
use crate::crypto::Sealed;
use crate::extract::{ApiJson, ApiQuery, text};
use crate::guard::permit;
use crate::http_cache::{if_match, versioned_json};
use crate::idempotency::{self, Created, IdempotencyKey, Operation};
use crate::pagination::{limit, parse_id};
use crate::problem::ApiError;
use crate::state::AppState;
use crate::wire::{
    ClosureReasonWire, FollowUpActionWire, FollowUpStatusWire, InvolvedKindWire, MeasureKindWire,
    NoteKindWire, ObjectiveStatusWire, ObjectiveWire, instant,
};

/// An objective's status at one time.
#[derive(Debug, Serialize, ToSchema)]
pub struct ObjectiveView {
    /// The objective.
    pub objective: ObjectiveWire,
    /// Its status from `changed_at` on.
    pub status: ObjectiveStatusWire,
    /// When it changed.
    pub changed_at: DateTime<Utc>,
    /// Who changed it.
    pub changed_by: String,
}

/// The educational measure (ASE/PJJ), which may end while support goes on.
#[derive(Debug, Deserialize, Serialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Measure {
    /// Kind.
    pub kind: MeasureKindWire,
    /// Start date.
    pub start: Option<NaiveDate>,
    /// End date (support goes on after it).
    pub end: Option<NaiveDate>,
}

/// A follow-up.
#[derive(Debug, Serialize, ToSchema)]
pub struct FollowUpView {
    /// Id.
    pub id: String,
    /// Human reference (`SUI-2026-000042`).
    pub reference: String,
    /// The person supported.
    pub person_id: String,
    /// Département of the case.
    pub departement_code: String,
    /// Lead staff.
    pub lead_staff_id: String,
    /// Lead and co-staff.
    pub staff_ids: Vec<String>,
    /// Where it stands.
    pub status: FollowUpStatusWire,
    /// Why it closed.
    pub closure_reason: Option<ClosureReasonWire>,
    /// The educational measure, if any.
    pub measure: Option<Measure>,
    /// Linked referrals' ids.
    pub referral_ids: Vec<String>,
    /// Relatives and partner professionals involved.
    pub involved: Vec<InvolvedView>,
    /// Current status of each objective.
    pub objectives: Vec<ObjectiveView>,
    /// Every objective change, oldest first.
    pub objective_history: Vec<ObjectiveView>,
    /// Version, as in the `ETag`.
    pub version: i64,
    /// Opened at.
    pub created_at: DateTime<Utc>,
    /// Last changed at.
    pub updated_at: DateTime<Utc>,
}

/// A page of follow-ups, by last change.
#[derive(Debug, Serialize, ToSchema)]
pub struct FollowUpPage {
    /// Oldest change first.
    pub items: Vec<FollowUpView>,
    /// Pass as `cursor` for the next page; `null` on the last.
    pub next_cursor: Option<String>,
}

/// A relative or partner professional involved in a follow-up.
#[derive(Debug, Serialize, ToSchema)]
pub struct InvolvedView {
    /// Person id.
    pub id: String,
    /// Relative or professional.
    pub kind: InvolvedKindWire,
    /// First name.
    pub first_name: String,
    /// Last name.
    pub last_name: Option<String>,
    /// Relationship to the young person (relatives).
    pub relationship: Option<String>,
    /// Holds parental authority (relatives).
    pub parental_authority: Option<bool>,
    /// Organisation (professionals).
    pub organisation_name: Option<String>,
    /// Role (professionals).
    pub professional_role: Option<String>,
    /// Phone or e-mail.
    pub contact: Option<String>,
}

pub(crate) struct Loaded {
    pub(crate) row: FollowUpRow,
    staff: Vec<String>,
    referral_ids: Vec<String>,
    pub(crate) objectives: Vec<ObjectiveRow>,
    pub(crate) involved: Vec<PersonRow>,
}

pub(crate) fn load(conn: &mut DbConnection, row: FollowUpRow) -> Result<Loaded, ApiError> {
    let staff = cases::staff_of(conn, &row)?;
    let referral_ids = cases::referrals_of_follow_up(conn, &row.id)?
        .into_iter()
        .map(|r| r.id)
        .collect();
    let objectives = cases::objectives_of(conn, &row.id)?;
    let involved = cases::involved_of(conn, &row.id)?;
    Ok(Loaded {
        row,
        staff,
        referral_ids,
        objectives,
        involved,
    })
}

pub(crate) fn date(text: Option<&str>) -> Option<NaiveDate> {
    text.and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
}

pub(crate) fn view(loaded: Loaded) -> Result<FollowUpView, ApiError> {
    let Loaded {
        row,
        staff,
        referral_ids,
        objectives,
        involved,
    } = loaded;
    let involved = involved
        .into_iter()
        .map(|p| {
            Ok(InvolvedView {
                kind: InvolvedKindWire(stored(&p.kind)?),
                id: p.id,
                first_name: p.first_name,
                last_name: p.last_name,
                relationship: p.relationship,
                parental_authority: p.parental_authority,
                organisation_name: p.organisation_name,
                professional_role: p.professional_role,
                contact: p.contact,
            })
        })
        .collect::<Result<Vec<_>, ApiError>>()?;
    let history = objectives
        .into_iter()
        .map(|o| {
            Ok(ObjectiveView {
                objective: ObjectiveWire(stored(&o.objective)?),
                status: ObjectiveStatusWire(stored(&o.status)?),
                changed_at: instant(o.changed_at),
                changed_by: o.changed_by,
            })
        })
        .collect::<Result<Vec<_>, ApiError>>()?;
    let mut current: Vec<ObjectiveView> = Vec::new();
    for entry in &history {
        current.retain(|c| c.objective != entry.objective);
        current.push(ObjectiveView {
            objective: entry.objective,
            status: entry.status,
            changed_at: entry.changed_at,
            changed_by: entry.changed_by.clone(),
        });
    }
    let measure = match row.measure_kind.as_deref() {
        Some(kind) => Some(Measure {
            kind: MeasureKindWire(stored(kind)?),
            start: date(row.measure_start.as_deref()),
            end: date(row.measure_end.as_deref()),
        }),
        None => None,
    };
    Ok(FollowUpView {
        status: FollowUpStatusWire(stored(&row.status)?),
        closure_reason: row
            .closure_reason
            .as_deref()
            .map(stored)
            .transpose()?
            .map(ClosureReasonWire),
        measure,
        staff_ids: staff,
        referral_ids,
        involved,
        objectives: current,
        objective_history: history,
        id: row.id,
        reference: row.reference,
        person_id: row.person_id,
        departement_code: row.departement_code,
        lead_staff_id: row.lead_staff_id,
        version: row.version,
        created_at: instant(row.created_at),
        updated_at: instant(row.updated_at),
    })
}

/// [`authorized`] for reading a follow-up's own records (notes,
/// consents, shares), the read audited as `audit_action` on the follow-up
/// before anything is answered.
pub(crate) async fn authorized_read(
    state: &AppState,
    auth: &Authenticated,
    id: &str,
    action: Action,
    audit_action: &str,
) -> Result<Loaded, ApiError> {
    let loaded = authorized(state, auth, id, action).await?;
    audit::record(
        state,
        vec![audit::entry(
            Some(&auth.actor),
            &auth.ctx,
            audit_action,
            "follow_up",
            Some(id),
            Outcome::Success,
        )],
    )
    .await?;
    Ok(loaded)
}

/// Loads a follow-up and its staff, then checks `action` on it.
pub(crate) async fn authorized(
    state: &AppState,
    auth: &Authenticated,
    id: &str,
    action: Action,
) -> Result<Loaded, ApiError> {
    let lookup = id.to_owned();
    let loaded = state
        .db
        .run(move |conn| match cases::find_follow_up(conn, &lookup)? {
            Some(row) => load(conn, row).map(Some),
            None => Ok(None),
        })
        .await?;
    let Some(loaded) = loaded else {
        permit(
            state,
            auth,
            action,
            Resource::Service,
            "follow_up",
            Some(id),
        )
        .await?;
        return Err(ApiError::not_found("no follow-up with this id"));
    };
    let departement = stored_departement(&loaded.row.departement_code)?;
    let resource = Resource::FollowUp {
        departement: &departement,
        staff: &loaded.staff,
    };
    permit(state, auth, action, resource, "follow_up", Some(id)).await?;
    Ok(loaded)
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
    /// Only follow-ups in this status.
    pub status: Option<FollowUpStatusWire>,
    /// Only those changed at or after this instant (RFC 3339), for polling.
    pub updated_since: Option<DateTime<Utc>>,
}

async fn list_for(
    state: &AppState,
    auth: &Authenticated,
    query: ListQuery,
    own: bool,
) -> Result<HttpResponse, ApiError> {
    let after = query.cursor.as_deref().map(parse_cursor).transpose()?;
    let limit = limit(query.limit);
    let actor = &auth.actor;
    let departements = (!own && !actor.roles.has(Role::Supervisor))
        .then(|| actor.territory.iter().map(|d| d.to_string()).collect());
    let filter = FollowUpFilter {
        staff_id: own.then(|| actor.id.clone()),
        departements,
        status: query.status.map(|s| s.0.as_str().to_owned()),
        updated_since: query.updated_since,
        after,
        limit: i64::from(limit) + 1,
    };
    let loaded = state
        .db
        .run(move |conn| {
            let rows = cases::list_follow_ups(conn, &filter)?;
            rows.into_iter()
                .map(|r| load(conn, r))
                .collect::<Result<Vec<_>, ApiError>>()
        })
        .await?;
    let action = if own {
        "list_my_follow_ups"
    } else {
        "list_follow_ups"
    };
    let (loaded, next_cursor) =
        crate::pagination::page(loaded, limit, |l| cursor_of(l.row.updated_at, &l.row.id));
    audit::record(
        state,
        vec![audit::list_entry(
            Some(actor),
            &auth.ctx,
            action,
            "follow_up",
            loaded.iter().map(|l| &l.row.id),
        )],
    )
    .await?;
    let items = loaded.into_iter().map(view).collect::<Result<_, _>>()?;
    Ok(HttpResponse::Ok().json(FollowUpPage { items, next_cursor }))
}

/// List follow-ups of the caller's territory (all for supervisors).
#[utoipa::path(
    operation_id = "listFollowUps",
    tag = "follow-ups",
    summary = "List follow-ups",
    description = "Coordinators and regional referents: the follow-ups of their territory; the supervisor: all. `status` and `updated_since` narrow the list (for synchronisation); pages by `cursor`.",
    params(ListQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "A page of follow-ups", body = FollowUpPage),
        (status = 400, response = crate::problem::BadRequest),
        (status = 401, response = crate::problem::Unauthorized),
        (status = 403, response = crate::problem::Forbidden),
        (status = 503, response = crate::problem::Unavailable),
    ),
)]
#[get("/follow-ups")]
pub async fn list(
    state: web::Data<AppState>,
    auth: Authenticated,
    query: ApiQuery<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    permit(
        &state,
        &auth,
        Action::ListFollowUps,
        Resource::Service,
        "follow_up",
        None,
    )
    .await?;
    list_for(&state, &auth, query.into_inner()?, false).await
}

/// The follow-ups the caller works on (lead or co-staff).
#[utoipa::path(
    operation_id = "listMyFollowUps",
    tag = "me",
    summary = "My follow-ups",
    description = "Staff. The follow-ups where the caller is the lead or co-staff, with the filters and paging of `listFollowUps`.",
    params(ListQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "A page of follow-ups", body = FollowUpPage),
        (status = 400, response = crate::problem::BadRequest),
        (status = 401, response = crate::problem::Unauthorized),
        (status = 403, response = crate::problem::Forbidden),
        (status = 503, response = crate::problem::Unavailable),
    ),
)]
#[get("/me/follow-ups")]
pub async fn mine(
    state: web::Data<AppState>,
    auth: Authenticated,
    query: ApiQuery<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    permit(
        &state,
        &auth,
        Action::ListFollowUps,
        Resource::Service,
        "follow_up",
        None,
    )
    .await?;
    list_for(&state, &auth, query.into_inner()?, true).await
}

/// Read a follow-up.
#[utoipa::path(
    operation_id = "getFollowUp",
    tag = "follow-ups",
    summary = "Get a follow-up",
    description = "Staff on the follow-up, coordinators and referents of its territory, supervisors. Audited.",
    params(("id" = String, Path, description = "Follow-up id", pattern = "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The follow-up", body = FollowUpView, headers(("ETag" = String, description = "Its version"))),
        (status = 400, response = crate::problem::BadRequest),
        (status = 401, response = crate::problem::Unauthorized),
        (status = 403, response = crate::problem::Forbidden),
        (status = 404, response = crate::problem::NotFound),
        (status = 503, response = crate::problem::Unavailable),
    ),
)]
#[get("/follow-ups/{id}")]
pub async fn get(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    read_follow_up(state, auth, id.into_inner()).await
}

/// What `get` answers (also a replay of the creation, through today's
/// authorization).
pub(crate) async fn read_follow_up(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: String,
) -> Result<HttpResponse, ApiError> {
    let id = parse_id("id", &id)?;
    let loaded = authorized(&state, &auth, &id, Action::ReadFollowUp).await?;
    audit::record(
        &state,
        vec![audit::entry(
            Some(&auth.actor),
            &auth.ctx,
            "read_follow_up",
            "follow_up",
            Some(&id),
            Outcome::Success,
        )],
    )
    .await?;
    let version = loaded.row.version;
    Ok(versioned_json(StatusCode::OK, &view(loaded)?, version))
}

/// Changes to a follow-up.
#[derive(Debug, Deserialize, Serialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateFollowUp {
    /// The educational measure (replaces the previous one).
    #[validate(nested)]
    pub measure: Option<Measure>,
    /// Staff to add as co-staff.
    #[validate(length(max = 20, message = "add_staff has at most 20 entries"))]
    #[validate(custom(function = "crate::wire::uuid_texts"))]
    #[schema(value_type = Option<Vec<uuid::Uuid>>, max_items = 20)]
    pub add_staff: Option<Vec<String>>,
}

/// Change the measure or add co-staff (needs `If-Match`).
#[utoipa::path(
    operation_id = "updateFollowUp",
    tag = "follow-ups",
    summary = "Change a follow-up",
    description = "Staff of the follow-up's territory (404 otherwise) and the supervisor. Changes the measure or adds co-staff, who must be programme staff (422 `not-staff`). Needs `If-Match` (428 without it, 412 when stale). Audited.",
    params(
        ("id" = String, Path, description = "Follow-up id", pattern = "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"),
        ("If-Match" = String, Header, description = "The ETag of the version read", pattern = "^\"v[0-9]{1,18}\"$", example = "\"v1\""),
    ),
    request_body(content = UpdateFollowUp, content_type = "application/json"),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The follow-up", body = FollowUpView, headers(("ETag" = String, description = "Its new version"))),
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
#[patch("/follow-ups/{id}")]
pub async fn update(
    req: HttpRequest,
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<String>,
    body: ApiJson<UpdateFollowUp>,
) -> Result<HttpResponse, ApiError> {
    let id = parse_id("id", &id)?;
    authorized(&state, &auth, &id, Action::ManageFollowUp).await?;
    let body = body.into_inner()?;
    let expected = if_match(&req)?;
    if let Some(Measure {
        start: Some(start),
        end: Some(end),
        ..
    }) = &body.measure
        && end < start
    {
        return Err(ApiError::invalid_value(
            "measure.end",
            "range",
            "the measure ends before it starts",
        ));
    }
    let add_staff = body
        .add_staff
        .unwrap_or_default()
        .iter()
        .map(|s| parse_id("add_staff", s))
        .collect::<Result<Vec<_>, _>>()?;
    let now = state.clock.now();
    let entry = audit::entry(
        Some(&auth.actor),
        &auth.ctx,
        "update_follow_up",
        "follow_up",
        Some(&id),
        Outcome::Success,
    );
    let loaded = state
        .db
        .transaction(move |conn| {
            for account in &add_staff {
                let staff = identity::find_account(conn, account)?
                    .filter(|a| {
                        a.status == "active"
                            && adosexo_domain::identity::Roles::parse_list(&a.roles)
                                .is_ok_and(|r| r.is_working_staff())
                    })
                    .ok_or_else(|| {
                        ApiError::rule(
                            "not-staff",
                            "Not staff",
                            "co-staff must be active staff accounts",
                        )
                    })?;
                cases::add_staff(conn, &id, &staff.id)?;
            }
            let changes = FollowUpChanges {
                measure_kind: body
                    .measure
                    .as_ref()
                    .map(|m| Some(m.kind.0.as_str().to_owned())),
                measure_start: body
                    .measure
                    .as_ref()
                    .map(|m| m.start.map(|d| d.format("%Y-%m-%d").to_string())),
                measure_end: body
                    .measure
                    .as_ref()
                    .map(|m| m.end.map(|d| d.format("%Y-%m-%d").to_string())),
                ..Default::default()
            };
            let row = cases::update_follow_up(conn, &id, expected, &changes, now)?
                .ok_or_else(ApiError::precondition_failed)?;
            adosexo_persistence::audit::append(conn, &[entry], now)?;
            load(conn, row)
        })
        .await?;
    let version = loaded.row.version;
    Ok(versioned_json(StatusCode::OK, &view(loaded)?, version))
}

/// A status change.
#[derive(Debug, Deserialize, Serialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StatusChange {
    /// `pause`, `resume` or `close`.
    pub action: FollowUpActionWire,
    /// Why, when closing (fixed list).
    pub closure_reason: Option<ClosureReasonWire>,
}

/// Pause, resume or close a follow-up (needs `If-Match`).
#[utoipa::path(
    operation_id = "changeFollowUpStatus",
    tag = "follow-ups",
    summary = "Pause, resume or close a follow-up",
    description = "Nothing closes a follow-up by itself (end of a measure, majority). Closing needs a reason \
                   and is refused while a linked referral's mandatory child-protection decision is missing.",
    params(
        ("id" = String, Path, description = "Follow-up id", pattern = "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"),
        ("If-Match" = String, Header, description = "The ETag of the version read", pattern = "^\"v[0-9]{1,18}\"$", example = "\"v1\""),
    ),
    request_body(content = StatusChange, content_type = "application/json"),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The follow-up", body = FollowUpView, headers(("ETag" = String, description = "Its new version"))),
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
#[post("/follow-ups/{id}/status")]
pub async fn change_status(
    req: HttpRequest,
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<String>,
    body: ApiJson<StatusChange>,
) -> Result<HttpResponse, ApiError> {
    let id = parse_id("id", &id)?;
    authorized(&state, &auth, &id, Action::ManageFollowUp).await?;
    let body = body.into_inner()?;
    let expected = if_match(&req)?;
    let action = body.action.0;
    match (action, body.closure_reason) {
        (FollowUpAction::Close, None) => {
            return Err(ApiError::invalid_value(
                "closure_reason",
                "required",
                "closing needs a closure_reason",
            ));
        }
        (FollowUpAction::Pause | FollowUpAction::Resume, Some(_)) => {
            return Err(ApiError::invalid_value(
                "closure_reason",
                "unexpected",
                "only closing takes a closure_reason",
            ));
        }
        _ => {}
    }
    let now = state.clock.now();
    let entry = audit::entry(
        Some(&auth.actor),
        &auth.ctx,
        &format!("{}_follow_up", action.as_str()),
        "follow_up",
        Some(&id),
        Outcome::Success,
    );
    let loaded = state
        .db
        .transaction(move |conn| {
            let current = cases::find_follow_up(conn, &id)?
                .ok_or_else(|| ApiError::not_found("no follow-up with this id"))?;
            if current.version != expected {
                return Err(ApiError::precondition_failed());
            }
            let missing = cases::referrals_of_follow_up(conn, &id)?
                .iter()
                .any(|r| r.protection_required && r.protection_recorded_at.is_none());
            let from: FollowUpStatus = stored(&current.status)?;
            let to = from
                .apply(action, missing)
                .map_err(|e| ApiError::rule(e.tag(), "Follow-up rule", e.to_string()))?;
            let changes = FollowUpChanges {
                status: Some(to.as_str().to_owned()),
                closure_reason: Some(body.closure_reason.map(|r| r.0.as_str().to_owned())),
                ..Default::default()
            };
            let row = cases::update_follow_up(conn, &id, expected, &changes, now)?
                .ok_or_else(ApiError::precondition_failed)?;
            adosexo_persistence::audit::append(conn, &[entry], now)?;
            load(conn, row)
        })
        .await?;
    let version = loaded.row.version;
    Ok(versioned_json(StatusCode::OK, &view(loaded)?, version))
}

/// An objective's new status.
#[derive(Debug, Deserialize, Serialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ObjectiveChange {
    /// The objective.
    pub objective: ObjectiveWire,
    /// Its status from now on.
    pub status: ObjectiveStatusWire,
}

/// Record an objective's status (its history is kept).
#[utoipa::path(
    operation_id = "setFollowUpObjective",
    tag = "follow-ups",
    summary = "Set an objective's status",
    description = "Staff of the follow-up's territory (404 otherwise) and the supervisor. Records the status of one objective; the earlier statuses stay in its history. A closed follow-up answers 422 `follow-up-closed`. Audited.",
    params(("id" = String, Path, description = "Follow-up id", pattern = "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")),
    request_body(content = ObjectiveChange, content_type = "application/json"),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The follow-up", body = FollowUpView, headers(("ETag" = String, description = "Its new version"))),
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
#[post("/follow-ups/{id}/objectives")]
pub async fn set_objective(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<String>,
    body: ApiJson<ObjectiveChange>,
) -> Result<HttpResponse, ApiError> {
    let id = parse_id("id", &id)?;
    let loaded = authorized(&state, &auth, &id, Action::ManageFollowUp).await?;
    let body = body.into_inner()?;
    if loaded.row.status == "closed" {
        return Err(ApiError::rule(
            "follow-up-closed",
            "Follow-up closed",
            "a closed follow-up does not change",
        ));
    }
    let now = state.clock.now();
    let actor_id = auth.actor.id.clone();
    let entry = audit::entry(
        Some(&auth.actor),
        &auth.ctx,
        "set_follow_up_objective",
        "follow_up",
        Some(&id),
        Outcome::Success,
    );
    let loaded = state
        .db
        .transaction(move |conn| {
            cases::insert_objective(
                conn,
                &ObjectiveRow {
                    id: uuid::Uuid::now_v7().to_string(),
                    follow_up_id: id.clone(),
                    objective: body.objective.0.as_str().to_owned(),
                    status: body.status.0.as_str().to_owned(),
                    changed_at: to_db(now),
                    changed_by: actor_id,
                },
            )?;
            cases::touch_follow_up(conn, &id, now)?;
            adosexo_persistence::audit::append(conn, &[entry], now)?;
            let row = cases::find_follow_up(conn, &id)?
                .ok_or_else(|| ApiError::not_found("no follow-up with this id"))?;
            load(conn, row)
        })
        .await?;
    let version = loaded.row.version;
    Ok(versioned_json(StatusCode::OK, &view(loaded)?, version))
}

/// A note, opened.
#[derive(Debug, Serialize, ToSchema)]
pub struct NoteView {
    /// Id.
    pub id: String,
    /// Meeting, phone call or observation.
    pub kind: NoteKindWire,
    /// The text.
    pub body: String,
    /// Author's account id.
    pub author_id: String,
    /// Written at.
    pub created_at: DateTime<Utc>,
}

/// A new note.
#[derive(Debug, Deserialize, Serialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateNote {
    /// Meeting, phone call or observation.
    pub kind: NoteKindWire,
    /// The text (sealed before it is stored).
    #[validate(length(min = 1, max = 20000, message = "body must have 1 to 20000 characters"))]
    #[schema(min_length = 1, max_length = 20000)]
    pub body: String,
}

/// Notes of a follow-up.
#[derive(Debug, Serialize, ToSchema)]
pub struct NoteList {
    /// Oldest first.
    pub items: Vec<NoteView>,
}

/// What a note's seal is bound to (also used by `adosexo keys rotate`).
pub fn note_context(note_id: &str, follow_up_id: &str) -> String {
    format!("note:{note_id}|follow_up:{follow_up_id}")
}

/// Read the notes of a follow-up.
#[utoipa::path(
    operation_id = "listFollowUpNotes",
    tag = "follow-ups",
    summary = "Notes of a follow-up",
    description = "The follow-up's own staff and supervisors only; never partners or analysts. Stored \
                   encrypted; every read is audited.",
    params(("id" = String, Path, description = "Follow-up id", pattern = "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The notes", body = NoteList),
        (status = 400, response = crate::problem::BadRequest),
        (status = 401, response = crate::problem::Unauthorized),
        (status = 403, response = crate::problem::Forbidden),
        (status = 404, response = crate::problem::NotFound),
        (status = 503, response = crate::problem::Unavailable),
    ),
)]
#[get("/follow-ups/{id}/notes")]
pub async fn list_notes(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = parse_id("id", &id)?;
    Ok(HttpResponse::Ok().json(notes_of(&state, &auth, id).await?))
}

/// The notes of a follow-up, opened, for a caller allowed to read them
/// (the read audited).
async fn notes_of(
    state: &web::Data<AppState>,
    auth: &Authenticated,
    id: String,
) -> Result<NoteList, ApiError> {
    authorized_read(state, auth, &id, Action::AccessNotes, "read_notes").await?;
    let rows: Vec<NoteRow> = state.db.run(move |conn| cases::notes_of(conn, &id)).await?;
    let items = rows
        .into_iter()
        .map(|n| {
            let sealed = Sealed {
                key_id: n.key_id,
                nonce: n.nonce,
                ciphertext: n.ciphertext,
            };
            Ok(NoteView {
                body: state
                    .notes
                    .open(&sealed, &note_context(&n.id, &n.follow_up_id))
                    .map_err(ApiError::internal)?,
                kind: NoteKindWire(stored(&n.kind)?),
                id: n.id,
                author_id: n.author_id,
                created_at: instant(n.created_at),
            })
        })
        .collect::<Result<_, ApiError>>()?;
    Ok(NoteList { items })
}

/// Write a note on a follow-up.
#[utoipa::path(
    operation_id = "createFollowUpNote",
    tag = "follow-ups",
    summary = "Write a note",
    description = "Staff of the follow-up's territory (404 otherwise) and the supervisor. The note is sealed at rest with the notes key; only those who may read the follow-up read it. Honours `Idempotency-Key`. Audited.",
    params(
        ("id" = String, Path, description = "Follow-up id", pattern = "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe: the same key and body replay the first answer (1 to 255 visible ASCII characters)", pattern = "^[!-~]{1,255}$"),
    ),
    request_body(content = CreateNote, content_type = "application/json"),
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Written", body = NoteView),
        (status = 400, response = crate::problem::BadRequest),
        (status = 401, response = crate::problem::Unauthorized),
        (status = 403, response = crate::problem::Forbidden),
        (status = 404, response = crate::problem::NotFound),
        (status = 413, response = crate::problem::PayloadTooLarge),
        (status = 415, response = crate::problem::UnsupportedMediaType),
        (status = 503, response = crate::problem::Unavailable),
    ),
)]
#[post("/follow-ups/{id}/notes")]
pub async fn create_note(
    state: web::Data<AppState>,
    auth: Authenticated,
    key: IdempotencyKey,
    id: web::Path<String>,
    body: ApiJson<CreateNote>,
) -> Result<HttpResponse, ApiError> {
    let id = parse_id("id", &id)?;
    authorized(&state, &auth, &id, Action::AccessNotes).await?;
    let body = body.into_inner()?;
    let digest = idempotency::digest(&(&id, &body))?;
    let now = state.clock.now();
    let note_id = uuid::Uuid::now_v7().to_string();
    let sealed = state
        .notes
        .seal(&body.body, &note_context(&note_id, &id))
        .map_err(ApiError::internal)?;
    let row = NoteRow {
        id: note_id.clone(),
        follow_up_id: id.clone(),
        kind: body.kind.0.as_str().to_owned(),
        author_id: auth.actor.id.clone(),
        created_at: to_db(now),
        key_id: sealed.key_id,
        nonce: sealed.nonce,
        ciphertext: sealed.ciphertext,
    };
    let entry = audit::entry(
        Some(&auth.actor),
        &auth.ctx,
        "create_note",
        "follow_up",
        Some(&id),
        Outcome::Success,
    );
    let view = NoteView {
        id: note_id,
        kind: body.kind,
        body: body.body,
        author_id: auth.actor.id.clone(),
        created_at: instant(to_db(now)),
    };
    idempotency::create(
        &state,
        &auth,
        key,
        Operation {
            name: "create_note",
            location: None,
            replay: idempotency::reread(&state, &auth, read_note),
        },
        digest,
        move |conn| {
            cases::insert_note(conn, &row)?;
            cases::touch_follow_up(conn, &id, now)?;
            adosexo_persistence::audit::append(conn, &[entry], now)?;
            Ok(Created {
                id: view.id.clone(),
                version: 1,
                body: view,
                replay_body: None,
            })
        },
    )
    .await
}

/// One note, as its follow-up's notes show it now (a replay of its
/// creation): 404 once it is gone or no longer readable by the caller.
async fn read_note(
    state: web::Data<AppState>,
    auth: Authenticated,
    note_id: String,
) -> Result<HttpResponse, ApiError> {
    let lookup = note_id.clone();
    let follow_up = state
        .db
        .run(move |conn| cases::note_follow_up(conn, &lookup))
        .await?
        .ok_or_else(|| ApiError::not_found("no note with this id"))?;
    let mut notes = notes_of(&state, &auth, follow_up).await?;
    let note = notes
        .items
        .iter()
        .position(|n| n.id == note_id)
        .map(|at| notes.items.swap_remove(at))
        .ok_or_else(|| ApiError::not_found("no note with this id"))?;
    Ok(HttpResponse::Ok().json(note))
}

/// A relative or partner professional to involve.
#[derive(Debug, Deserialize, Serialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InvolvePerson {
    /// Relative or professional.
    pub kind: InvolvedKindWire,
    /// First name.
    #[validate(length(
        min = 1,
        max = 100,
        message = "first_name must have 1 to 100 characters"
    ))]
    #[schema(min_length = 1, max_length = 100)]
    pub first_name: String,
    /// Last name.
    #[validate(length(
        min = 1,
        max = 100,
        message = "last_name must have 1 to 100 characters"
    ))]
    #[schema(min_length = 1, max_length = 100)]
    pub last_name: Option<String>,
    /// Relationship to the young person (relatives).
    #[validate(length(max = 100, message = "relationship has at most 100 characters"))]
    #[schema(max_length = 100, example = "mère")]
    pub relationship: Option<String>,
    /// Holds parental authority (relatives).
    pub parental_authority: Option<bool>,
    /// Organisation (professionals).
    #[validate(length(max = 200, message = "organisation_name has at most 200 characters"))]
    #[schema(max_length = 200)]
    pub organisation_name: Option<String>,
    /// Role (professionals).
    #[validate(length(max = 100, message = "professional_role has at most 100 characters"))]
    #[schema(max_length = 100)]
    pub professional_role: Option<String>,
    /// Phone or e-mail.
    #[validate(length(max = 200, message = "contact has at most 200 characters"))]
    #[schema(max_length = 200)]
    pub contact: Option<String>,
}

/// Involve a relative or a partner professional in a follow-up.
#[utoipa::path(
    operation_id = "addFollowUpPerson",
    tag = "follow-ups",
    summary = "Involve a relative or professional",
    description = "Staff of the follow-up's territory (404 otherwise) and the supervisor. A parent, a relative or a partner professional who takes part in the follow-up; a closed follow-up answers 422 `follow-up-closed`. Honours `Idempotency-Key`. Audited.",
    params(
        ("id" = String, Path, description = "Follow-up id", pattern = "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe: the same key and body replay the first answer (1 to 255 visible ASCII characters)", pattern = "^[!-~]{1,255}$"),
    ),
    request_body(content = InvolvePerson, content_type = "application/json"),
    security(("bearer" = [])),
    responses(
        (status = 201, description = "The follow-up with them", body = FollowUpView, headers(("ETag" = String, description = "Its new version"))),
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
#[post("/follow-ups/{id}/people")]
pub async fn add_person(
    state: web::Data<AppState>,
    auth: Authenticated,
    key: IdempotencyKey,
    id: web::Path<String>,
    body: ApiJson<InvolvePerson>,
) -> Result<HttpResponse, ApiError> {
    let id = parse_id("id", &id)?;
    let loaded = authorized(&state, &auth, &id, Action::ManageFollowUp).await?;
    let body = body.into_inner()?;
    let digest = idempotency::digest(&(&id, &body))?;
    if loaded.row.status == "closed" {
        return Err(ApiError::rule(
            "follow-up-closed",
            "Follow-up closed",
            "a closed follow-up does not change",
        ));
    }
    let now = state.clock.now();
    let person = PersonRow {
        id: uuid::Uuid::now_v7().to_string(),
        kind: body.kind.0.as_str().to_owned(),
        first_name: text("first_name", &body.first_name)?,
        last_name: body.last_name,
        name_key: adosexo_domain::referral::name_key(&body.first_name),
        birth_date: None,
        birth_year: None,
        gender: None,
        departement_code: None,
        placement: None,
        measure: None,
        relationship: body.relationship,
        parental_authority: body.parental_authority,
        organisation_name: body.organisation_name,
        professional_role: body.professional_role,
        contact: body.contact,
        created_at: to_db(now),
        updated_at: to_db(now),
        version: 1,
    };
    let entry = audit::entry(
        Some(&auth.actor),
        &auth.ctx,
        "add_follow_up_person",
        "follow_up",
        Some(&id),
        Outcome::Success,
    );
    idempotency::create(
        &state,
        &auth,
        key,
        Operation {
            name: "add_follow_up_person",
            location: Some("/api/v1/follow-ups"),
            replay: idempotency::reread(&state, &auth, read_follow_up),
        },
        digest,
        move |conn| {
            cases::add_involved(conn, &id, &person, now)?;
            cases::touch_follow_up(conn, &id, now)?;
            adosexo_persistence::audit::append(conn, &[entry], now)?;
            let row = cases::find_follow_up(conn, &id)?
                .ok_or_else(|| ApiError::not_found("no follow-up with this id"))?;
            let loaded = load(conn, row)?;
            let version = loaded.row.version;
            Ok(Created {
                id,
                version,
                body: view(loaded)?,
                replay_body: None,
            })
        },
    )
    .await
}
