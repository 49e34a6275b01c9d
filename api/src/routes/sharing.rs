//! Share decisions under shared professional secrecy (CASF L226-2-2): staff
//! decide what a partner organisation may see of a follow-up; partners read
//! only that projection, only while a decision is active.

use std::collections::BTreeSet;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use adosexo_domain::authz::{Action, Resource};
use adosexo_domain::consent::{self, FieldGroup, join_list, parse_list};
use adosexo_domain::identity::OrganisationKind;
use adosexo_persistence::cases;
use adosexo_persistence::consent::{self as store, ShareRow};
use adosexo_persistence::identity;
use adosexo_persistence::time::to_db;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use validator::Validate;

use super::cases::stored;
use super::followups::{Measure, authorized, authorized_read, date};
use crate::audit::{self, Outcome};
use crate::auth::Authenticated;
use crate::extract::{ApiJson, text};
use crate::guard::permit;
use crate::http_cache::{if_match, versioned_json};
use crate::idempotency::{self, Created, IdempotencyKey, Operation};
use crate::pagination::parse_id;
use crate::problem::ApiError;
use crate::state::AppState;
use crate::wire::{
    FamilyInformedWire, FieldGroupWire, FollowUpStatusWire, MeasureKindWire, ObjectiveStatusWire,
    ObjectiveWire, SharePurposeWire, instant,
};

/// A share decision.
#[derive(Debug, Serialize, ToSchema)]
pub struct ShareView {
    /// Id.
    pub id: String,
    /// The follow-up shared.
    pub follow_up_id: String,
    /// The recipient organisation.
    pub organisation_id: String,
    /// Why (fixed list).
    pub purpose: SharePurposeWire,
    /// What is shared (never notes).
    pub field_groups: Vec<FieldGroupWire>,
    /// Whether the family was informed beforehand.
    pub family_informed: FamilyInformedWire,
    /// Why not, when the family was not informed.
    pub justification: Option<String>,
    /// First day.
    pub valid_from: NaiveDate,
    /// Last day, if any.
    pub valid_until: Option<NaiveDate>,
    /// Staff who decided.
    pub decided_by: String,
    /// When.
    pub decided_at: DateTime<Utc>,
    /// When revoked.
    pub revoked_at: Option<DateTime<Utc>>,
    /// Who revoked it.
    pub revoked_by: Option<String>,
    /// Why.
    pub revocation_reason: Option<String>,
    /// Whether the partner can read now.
    pub active: bool,
    /// Version, as in the `ETag`.
    pub version: i64,
}

/// Share decisions of a follow-up.
#[derive(Debug, Serialize, ToSchema)]
pub struct ShareList {
    /// Oldest first, revoked ones included.
    pub items: Vec<ShareView>,
}

fn groups(row: &ShareRow) -> Result<BTreeSet<FieldGroup>, ApiError> {
    parse_list(&row.field_groups).map_err(|e| ApiError::internal(format!("stored groups: {e}")))
}

fn valid_from(row: &ShareRow) -> Result<NaiveDate, ApiError> {
    date(Some(&row.valid_from)).ok_or_else(|| ApiError::internal("stored valid_from"))
}

fn active(row: &ShareRow, now: DateTime<Utc>) -> Result<bool, ApiError> {
    Ok(consent::share_active(
        valid_from(row)?,
        date(row.valid_until.as_deref()),
        row.revoked_at.map(instant),
        now,
    ))
}

fn share_view(row: ShareRow, now: DateTime<Utc>) -> Result<ShareView, ApiError> {
    Ok(ShareView {
        active: active(&row, now)?,
        purpose: SharePurposeWire(stored(&row.purpose)?),
        field_groups: groups(&row)?.into_iter().map(FieldGroupWire).collect(),
        family_informed: FamilyInformedWire(stored(&row.family_informed)?),
        valid_from: valid_from(&row)?,
        valid_until: date(row.valid_until.as_deref()),
        decided_at: instant(row.decided_at),
        revoked_at: row.revoked_at.map(instant),
        id: row.id,
        follow_up_id: row.follow_up_id,
        organisation_id: row.organisation_id,
        justification: row.justification,
        decided_by: row.decided_by,
        revoked_by: row.revoked_by,
        revocation_reason: row.revocation_reason,
        version: row.version,
    })
}

/// The share decisions of a follow-up.
#[utoipa::path(
    operation_id = "listShareDecisions",
    tag = "sharing",
    summary = "Share decisions of a follow-up",
    description = "Staff of the follow-up's territory (404 otherwise) and the supervisor. Every decision to share this follow-up with a partner, in force, expired or revoked.",
    params(("id" = String, Path, description = "Follow-up id", pattern = "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The decisions", body = ShareList),
        (status = 400, response = crate::problem::BadRequest),
        (status = 401, response = crate::problem::Unauthorized),
        (status = 403, response = crate::problem::Forbidden),
        (status = 404, response = crate::problem::NotFound),
        (status = 503, response = crate::problem::Unavailable),
    ),
)]
#[get("/follow-ups/{id}/shares")]
pub async fn list(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = parse_id("id", &id)?;
    authorized_read(&state, &auth, &id, Action::ReadShares, "read_shares").await?;
    let now = state.clock.now();
    let rows = state
        .db
        .run(move |conn| store::shares_of_follow_up(conn, &id))
        .await?;
    let items = rows
        .into_iter()
        .map(|r| share_view(r, now))
        .collect::<Result<_, _>>()?;
    Ok(HttpResponse::Ok().json(ShareList { items }))
}

/// A share decision to record.
#[derive(Debug, Deserialize, Serialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateShare {
    /// The recipient: an organisation bound by professional secrecy that contributes to child
    /// protection (not a school).
    #[validate(custom(function = "crate::wire::uuid_text"))]
    #[schema(value_type = uuid::Uuid)]
    pub organisation_id: String,
    /// Why (fixed list).
    pub purpose: SharePurposeWire,
    /// Only the field groups needed (never notes).
    #[validate(length(min = 1, max = 4, message = "field_groups has 1 to 4 entries"))]
    #[schema(min_items = 1, max_items = 4)]
    pub field_groups: Vec<FieldGroupWire>,
    /// Whether the family was informed beforehand.
    pub family_informed: FamilyInformedWire,
    /// Required when the family was not informed (contrary to the child's interest); only then.
    #[validate(length(
        min = 1,
        max = 2000,
        message = "justification must have 1 to 2000 characters"
    ))]
    #[schema(min_length = 1, max_length = 2000)]
    pub justification: Option<String>,
    /// First day (today by default).
    pub valid_from: Option<NaiveDate>,
    /// Last day, if any.
    pub valid_until: Option<NaiveDate>,
}

/// Decide to share a follow-up's information with a partner organisation.
#[utoipa::path(
    operation_id = "createShareDecision",
    tag = "sharing",
    summary = "Share with a partner organisation",
    description = "Shared professional secrecy (CASF L226-2-2): the recipient must be bound by professional \
                   secrecy and contribute to child protection (422 `share-recipient-not-bound-by-secrecy`, \
                   `share-recipient-not-in-child-protection`); not informing the family needs a written \
                   justification (422 `share-family-justification-missing`).",
    params(
        ("id" = String, Path, description = "Follow-up id", pattern = "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe: the same key and body replay the first answer (1 to 255 visible ASCII characters)", pattern = "^[!-~]{1,255}$"),
    ),
    request_body(content = CreateShare, content_type = "application/json"),
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Decided", body = ShareView, headers(("ETag" = String, description = "Its version"))),
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
#[post("/follow-ups/{id}/shares")]
pub async fn create(
    state: web::Data<AppState>,
    auth: Authenticated,
    key: IdempotencyKey,
    id: web::Path<String>,
    body: ApiJson<CreateShare>,
) -> Result<HttpResponse, ApiError> {
    let id = parse_id("id", &id)?;
    let loaded = authorized(&state, &auth, &id, Action::ManageShares).await?;
    let body = body.into_inner()?;
    let digest = idempotency::digest(&(&id, &body))?;
    if loaded.row.status == "closed" {
        return Err(ApiError::rule(
            "follow-up-closed",
            "Follow-up closed",
            "a closed follow-up is not shared any more",
        ));
    }
    let now = state.clock.now();
    let organisation_id = parse_id("organisation_id", &body.organisation_id)?;
    let lookup = organisation_id.clone();
    let organisation = state
        .db
        .run(move |conn| identity::find_organisation(conn, &lookup))
        .await?
        .ok_or_else(|| {
            ApiError::rule(
                "share-recipient-unknown",
                "Unknown recipient",
                "organisation_id names no organisation",
            )
        })?;
    if organisation.status != "active" {
        return Err(ApiError::rule(
            "share-recipient-inactive",
            "Recipient disabled",
            "the recipient organisation is disabled",
        ));
    }
    let kind: OrganisationKind = stored(&organisation.kind)?;
    let from = body.valid_from.unwrap_or_else(|| consent::paris_date(now));
    let justification = body
        .justification
        .as_deref()
        .map(str::trim)
        .filter(|j| !j.is_empty())
        .map(str::to_owned);
    consent::check_share(
        kind,
        organisation.shares_secrecy,
        body.family_informed.0,
        justification.as_deref(),
        from,
        body.valid_until,
    )
    .map_err(|e| ApiError::rule(e.tag(), "Sharing rule", e.to_string()))?;
    let field_groups: BTreeSet<FieldGroup> = body.field_groups.iter().map(|g| g.0).collect();
    let row = ShareRow {
        id: uuid::Uuid::now_v7().to_string(),
        follow_up_id: id.clone(),
        organisation_id,
        purpose: body.purpose.0.as_str().to_owned(),
        field_groups: join_list(field_groups.iter().copied()),
        family_informed: body.family_informed.0.as_str().to_owned(),
        justification,
        valid_from: from.format("%Y-%m-%d").to_string(),
        valid_until: body.valid_until.map(|d| d.format("%Y-%m-%d").to_string()),
        decided_by: auth.actor.id.clone(),
        decided_at: to_db(now),
        revoked_at: None,
        revoked_by: None,
        revocation_reason: None,
        version: 1,
        created_at: to_db(now),
        updated_at: to_db(now),
    };
    let entry = audit::entry(
        Some(&auth.actor),
        &auth.ctx,
        "create_share_decision",
        "follow_up",
        Some(&id),
        Outcome::Success,
    );
    let view = share_view(row.clone(), now)?;
    idempotency::create(
        &state,
        &auth,
        key,
        Operation {
            name: "create_share_decision",
            location: None,
            replay: idempotency::reread(&state, &auth, read_share),
        },
        digest,
        move |conn| {
            store::insert_share(conn, &row)?;
            crate::webhooks::share_changed(
                conn,
                &row,
                adosexo_domain::webhooks::EventType::ShareGranted,
                now,
            )?;
            adosexo_persistence::audit::append(conn, &[entry], now)?;
            Ok(Created {
                id: row.id,
                version: 1,
                body: view,
                replay_body: None,
            })
        },
    )
    .await
}

/// One share decision as its follow-up's decisions show it now (a replay
/// of its recording): 404 once the caller may no longer read it.
async fn read_share(
    state: web::Data<AppState>,
    auth: Authenticated,
    share_id: String,
) -> Result<HttpResponse, ApiError> {
    let lookup = share_id.clone();
    let row = state
        .db
        .run(move |conn| store::find_share(conn, &lookup))
        .await?
        .ok_or_else(|| ApiError::not_found("no share decision with this id"))?;
    authorized_read(
        &state,
        &auth,
        &row.follow_up_id,
        Action::ReadShares,
        "read_shares",
    )
    .await?;
    let version = row.version;
    let view = share_view(row, state.clock.now())?;
    Ok(versioned_json(StatusCode::OK, &view, version))
}

/// A revocation.
#[derive(Debug, Deserialize, Serialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RevokeShare {
    /// Why.
    #[validate(length(min = 1, max = 500, message = "reason must have 1 to 500 characters"))]
    #[schema(min_length = 1, max_length = 500)]
    pub reason: Option<String>,
}

/// Revoke a share decision: the partner loses access at once.
#[utoipa::path(
    operation_id = "revokeShareDecision",
    tag = "sharing",
    summary = "Revoke a share",
    description = "Staff of the follow-up's territory (404 otherwise) and the supervisor. The partner loses access at once and receives a `share.revoked` event; a share already revoked is a 422 `share-revoked`. Needs `If-Match` (428 without it, 412 when stale). Audited.",
    params(
        ("id" = String, Path, description = "Follow-up id", pattern = "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"),
        ("share_id" = String, Path, description = "Share decision id", pattern = "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"),
        ("If-Match" = String, Header, description = "The ETag of the version read", pattern = "^\"v[0-9]{1,18}\"$", example = "\"v1\""),
    ),
    request_body(content = RevokeShare, content_type = "application/json"),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Revoked", body = ShareView, headers(("ETag" = String, description = "Its new version"))),
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
#[post("/follow-ups/{id}/shares/{share_id}/revoke")]
pub async fn revoke(
    req: HttpRequest,
    state: web::Data<AppState>,
    auth: Authenticated,
    path: web::Path<(String, String)>,
    body: ApiJson<RevokeShare>,
) -> Result<HttpResponse, ApiError> {
    let (id, share_id) = path.into_inner();
    let id = parse_id("id", &id)?;
    let share_id = parse_id("share_id", &share_id)?;
    authorized(&state, &auth, &id, Action::ManageShares).await?;
    let body = body.into_inner()?;
    let expected = if_match(&req)?;
    let now = state.clock.now();
    let actor = auth.actor.id.clone();
    let reason = body
        .reason
        .as_deref()
        .map(|r| text("reason", r))
        .transpose()?;
    let entry = audit::entry(
        Some(&auth.actor),
        &auth.ctx,
        "revoke_share_decision",
        "follow_up",
        Some(&id),
        Outcome::Success,
    );
    let row = state
        .db
        .transaction(move |conn| {
            let current = store::find_share(conn, &share_id)?
                .filter(|s| s.follow_up_id == id)
                .ok_or_else(|| ApiError::not_found("no share decision with this id"))?;
            if current.revoked_at.is_some() {
                return Err(ApiError::rule(
                    "share-revoked",
                    "Already revoked",
                    "this share decision is already revoked",
                ));
            }
            let row =
                store::revoke_share(conn, &share_id, expected, &actor, reason.as_deref(), now)?
                    .ok_or_else(ApiError::precondition_failed)?;
            crate::webhooks::share_changed(
                conn,
                &row,
                adosexo_domain::webhooks::EventType::ShareRevoked,
                now,
            )?;
            adosexo_persistence::audit::append(conn, &[entry], now)?;
            Ok(row)
        })
        .await?;
    let version = row.version;
    Ok(versioned_json(
        StatusCode::OK,
        &share_view(row, now)?,
        version,
    ))
}

/// The next appointment, as shared.
#[derive(Debug, Serialize, ToSchema)]
pub struct SharedAppointment {
    /// Start.
    pub starts_at: DateTime<Utc>,
    /// Mode.
    #[schema(example = "permanence")]
    pub mode: String,
}

/// An objective's current status, as shared.
#[derive(Debug, Serialize, ToSchema)]
pub struct SharedObjective {
    /// The objective.
    pub objective: ObjectiveWire,
    /// Its status.
    pub status: ObjectiveStatusWire,
    /// Since.
    pub changed_at: DateTime<Utc>,
}

/// What a partner organisation sees of a follow-up: only the field groups of
/// its active share decisions; never notes, staff or people involved.
#[derive(Debug, Serialize, ToSchema)]
pub struct SharedFollowUp {
    /// Follow-up id.
    pub id: String,
    /// Human reference.
    pub reference: String,
    /// The active decisions this rests on.
    pub share_ids: Vec<String>,
    /// The field groups shared.
    pub field_groups: Vec<FieldGroupWire>,
    /// Status (`follow_up_status`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<FollowUpStatusWire>,
    /// Next scheduled appointment (`next_appointment`; `null` when none).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_appointment: Option<Option<SharedAppointment>>,
    /// Current status of each objective (`objectives_progress`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub objectives: Option<Vec<SharedObjective>>,
    /// The educational measure (`measure`; `null` when none).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub measure: Option<Option<Measure>>,
}

/// Read what is shared of a follow-up with the caller's organisation.
#[utoipa::path(
    operation_id = "getSharedFollowUp",
    tag = "sharing",
    summary = "A follow-up as shared with my organisation",
    description = "Partners (people, and apps with `follow-ups:read`) of an organisation with an active share decision; only its field groups. \
                   404 without one (revocation takes effect at once). Every read is audited.",
    params(("id" = String, Path, description = "Follow-up id", pattern = "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The shared projection", body = SharedFollowUp),
        (status = 400, response = crate::problem::BadRequest),
        (status = 401, response = crate::problem::Unauthorized),
        (status = 403, response = crate::problem::Forbidden),
        (status = 404, response = crate::problem::NotFound),
        (status = 503, response = crate::problem::Unavailable),
    ),
)]
#[get("/shared/follow-ups/{id}")]
pub async fn shared(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = parse_id("id", &id)?;
    let now = state.clock.now();
    let lookup = id.clone();
    let found = state
        .db
        .run(move |conn| {
            let Some(row) = cases::find_follow_up(conn, &lookup)? else {
                return Ok::<_, ApiError>(None);
            };
            let shares = store::shares_of_follow_up(conn, &lookup)?;
            Ok(Some((row, shares)))
        })
        .await?;
    let (row, shares) = match found {
        Some((row, shares)) => {
            let mut live = Vec::new();
            for s in shares {
                if active(&s, now)? {
                    live.push(s);
                }
            }
            (Some(row), live)
        }
        None => (None, Vec::new()),
    };
    let organisations: Vec<String> = shares.iter().map(|s| s.organisation_id.clone()).collect();
    permit(
        &state,
        &auth,
        Action::ReadSharedFollowUp,
        Resource::SharedFollowUp {
            organisations: &organisations,
        },
        "follow_up",
        Some(&id),
    )
    .await?;
    let Some(row) = row else {
        return Err(ApiError::not_found("no follow-up with this id"));
    };
    let mine: Vec<ShareRow> = shares
        .into_iter()
        .filter(|s| s.organisation_id == auth.actor.organisation_id)
        .collect();
    let mut field_groups = BTreeSet::new();
    for s in &mine {
        field_groups.extend(groups(s)?);
    }
    let wants = |g: FieldGroup| field_groups.contains(&g);
    let (next, objectives) = {
        let lookup = id.clone();
        let with_next = wants(FieldGroup::NextAppointment);
        let with_objectives = wants(FieldGroup::ObjectivesProgress);
        state
            .db
            .run(move |conn| {
                let next = if with_next {
                    Some(store::next_appointment(conn, &lookup, now)?)
                } else {
                    None
                };
                let objectives = if with_objectives {
                    Some(cases::objectives_of(conn, &lookup)?)
                } else {
                    None
                };
                Ok::<_, ApiError>((next, objectives))
            })
            .await?
    };
    audit::record(
        &state,
        vec![audit::entry(
            Some(&auth.actor),
            &auth.ctx,
            "read_shared_follow_up",
            "follow_up",
            Some(&id),
            Outcome::Success,
        )],
    )
    .await?;
    let objectives = objectives
        .map(|history| {
            let mut current: Vec<SharedObjective> = Vec::new();
            for o in history {
                let objective = ObjectiveWire(stored(&o.objective)?);
                current.retain(|c| c.objective != objective);
                current.push(SharedObjective {
                    objective,
                    status: ObjectiveStatusWire(stored(&o.status)?),
                    changed_at: instant(o.changed_at),
                });
            }
            Ok::<_, ApiError>(current)
        })
        .transpose()?;
    let measure = if wants(FieldGroup::Measure) {
        Some(match row.measure_kind.as_deref() {
            Some(kind) => Some(Measure {
                kind: MeasureKindWire(stored(kind)?),
                start: date(row.measure_start.as_deref()),
                end: date(row.measure_end.as_deref()),
            }),
            None => None,
        })
    } else {
        None
    };
    Ok(HttpResponse::Ok().json(SharedFollowUp {
        status: if wants(FieldGroup::FollowUpStatus) {
            Some(FollowUpStatusWire(stored(&row.status)?))
        } else {
            None
        },
        next_appointment: next.map(|n| {
            n.map(|(starts_at, mode)| SharedAppointment {
                starts_at: instant(starts_at),
                mode,
            })
        }),
        objectives,
        measure,
        share_ids: mine.into_iter().map(|s| s.id).collect(),
        field_groups: field_groups.into_iter().map(FieldGroupWire).collect(),
        id: row.id,
        reference: row.reference,
    }))
}
