//! Partnership agreements ("conventions de compagnonnage") between the
//! programme and regional structures: the organisation, the départements
//! covered, named regional referents, dates and status. Regional
//! permanences are held under an agreement in force (see `permanences`).

use std::collections::BTreeMap;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use adosexo_domain::DepartementCode;
use adosexo_domain::authz::{Action, Resource};
use adosexo_domain::identity::{Role, Roles};
use adosexo_domain::professional::{
    AgreementPeriod, AgreementRule, AgreementStatus, ENDING_SOON_DAYS,
};
use adosexo_domain::schedule::PARIS;
use adosexo_persistence::DbConnection;
use adosexo_persistence::identity;
use adosexo_persistence::professional::{self as store, AgreementRow};
use adosexo_persistence::time::to_db;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use super::cases::{cursor_of, parse_cursor, stored};
use crate::audit::{self, Outcome};
use crate::auth::Authenticated;
use crate::extract::{ApiJson, ApiQuery, text};
use crate::guard::permit;
use crate::http_cache::{if_match, versioned_json};
use crate::idempotency::{self, Created, IdempotencyKey, Operation, Replay};
use crate::pagination::{limit, page, parse_id};
use crate::problem::ApiError;
use crate::state::AppState;
use crate::wire::{AgreementStatusWire, DepartementCodeWire, instant};

/// A partnership agreement.
#[derive(Debug, Serialize, ToSchema)]
pub struct AgreementView {
    /// Id.
    pub id: String,
    /// The regional structure.
    pub organisation_id: String,
    /// Title.
    pub title: String,
    /// Départements covered.
    pub departements: Vec<String>,
    /// Named regional referents (account ids).
    pub referent_ids: Vec<String>,
    /// First day (`YYYY-MM-DD`).
    pub starts_on: NaiveDate,
    /// Last day.
    pub ends_on: NaiveDate,
    /// `active`, `suspended` or `terminated` (set by an admin).
    pub status: AgreementStatusWire,
    /// Whether it is in force today (active and within its dates).
    pub in_force: bool,
    /// Whether it ends within 60 days.
    pub ending_soon: bool,
    /// Permanences held under it.
    pub permanence_ids: Vec<String>,
    /// Version, as in the `ETag`.
    pub version: i64,
    /// Created at.
    pub created_at: DateTime<Utc>,
    /// Last changed at.
    pub updated_at: DateTime<Utc>,
}

/// A page of agreements.
#[derive(Debug, Serialize, ToSchema)]
pub struct AgreementPage {
    /// Oldest first.
    pub items: Vec<AgreementView>,
    /// Pass as `cursor` for the next page; `null` on the last.
    pub next_cursor: Option<String>,
}

/// Today in Europe/Paris.
pub fn today(now: DateTime<Utc>) -> NaiveDate {
    now.with_timezone(&PARIS).date_naive()
}

/// A stored date.
pub fn stored_date(value: &str) -> Result<NaiveDate, ApiError> {
    NaiveDate::parse_from_str(value, "%Y-%m-%d")
        .map_err(|_| ApiError::internal("stored agreement date"))
}

/// The stored period of an agreement.
pub fn period_of(row: &AgreementRow) -> Result<AgreementPeriod, ApiError> {
    AgreementPeriod::new(stored_date(&row.starts_on)?, stored_date(&row.ends_on)?)
        .map_err(|e| ApiError::internal(format!("stored agreement: {e}")))
}

/// The départements an agreement covers.
pub fn covered(row: &AgreementRow) -> Result<Vec<DepartementCode>, ApiError> {
    adosexo_domain::identity::parse_territory(&row.departements)
        .map(|set| set.into_iter().collect())
        .map_err(|e| ApiError::internal(format!("stored agreement départements: {e}")))
}

/// A 422 naming the agreement rule broken.
pub fn agreement_rule(rule: AgreementRule) -> ApiError {
    let title = match rule {
        AgreementRule::Expired(_) => "Agreement expired",
        AgreementRule::NotStarted(_) => "Agreement not started",
        AgreementRule::Suspended => "Agreement suspended",
        AgreementRule::Terminated => "Agreement terminated",
        AgreementRule::DepartementNotCovered => "Département not covered by the agreement",
        AgreementRule::EndsBeforeStart => "Agreement dates",
    };
    ApiError::rule(rule.tag(), title, rule.to_string())
}

fn views(
    conn: &mut DbConnection,
    rows: Vec<AgreementRow>,
    now: DateTime<Utc>,
) -> Result<Vec<AgreementView>, ApiError> {
    let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
    let mut referents: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (agreement, account) in store::referents_of(conn, &ids)? {
        referents.entry(agreement).or_default().push(account);
    }
    let mut permanences: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (agreement, permanence) in store::permanences_of(conn, &ids)? {
        permanences.entry(agreement).or_default().push(permanence);
    }
    let today = today(now);
    rows.into_iter()
        .map(|row| {
            let period = period_of(&row)?;
            let status: AgreementStatus = stored(&row.status)?;
            Ok(AgreementView {
                departements: covered(&row)?.iter().map(|d| d.to_string()).collect(),
                referent_ids: referents.remove(&row.id).unwrap_or_default(),
                permanence_ids: permanences.remove(&row.id).unwrap_or_default(),
                starts_on: period.starts_on(),
                ends_on: period.ends_on(),
                in_force: status == AgreementStatus::Active
                    && period.starts_on() <= today
                    && today <= period.ends_on(),
                ending_soon: status == AgreementStatus::Active && period.ending_soon(today),
                status: AgreementStatusWire(status),
                id: row.id,
                organisation_id: row.organisation_id,
                title: row.title,
                version: row.version,
                created_at: instant(row.created_at),
                updated_at: instant(row.updated_at),
            })
        })
        .collect()
}

fn one(
    conn: &mut DbConnection,
    row: AgreementRow,
    now: DateTime<Utc>,
) -> Result<AgreementView, ApiError> {
    views(conn, vec![row], now)?
        .pop()
        .ok_or_else(|| ApiError::internal("an agreement went missing"))
}

/// A new agreement.
#[derive(Debug, Deserialize, Serialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateAgreement {
    /// The regional structure (an organisation other than the programme).
    #[validate(custom(function = "crate::wire::uuid_text"))]
    #[schema(format = "uuid")]
    pub organisation_id: String,
    /// Title.
    #[validate(length(min = 1, max = 200, message = "title must have 1 to 200 characters"))]
    #[schema(min_length = 1, max_length = 200, example = "Convention PACA 2027")]
    pub title: String,
    /// Départements covered (1 to 20).
    #[validate(length(min = 1, max = 20, message = "departements has 1 to 20 entries"))]
    #[validate(custom(function = "crate::wire::departement_codes"))]
    #[schema(min_items = 1, max_items = 20)]
    pub departements: Vec<DepartementCodeWire>,
    /// Named regional referents: accounts with the `regional_referent` role.
    #[serde(default)]
    #[validate(length(max = 10, message = "referent_ids has at most 10 entries"))]
    #[validate(custom(function = "crate::wire::uuid_texts"))]
    #[schema(value_type = Vec<uuid::Uuid>, max_items = 10)]
    pub referent_ids: Vec<String>,
    /// First day.
    pub starts_on: NaiveDate,
    /// Last day (on or after the first).
    pub ends_on: NaiveDate,
}

/// Create a partnership agreement.
#[utoipa::path(
    operation_id = "createAgreement",
    tag = "professionals",
    summary = "Create a partnership agreement",
    description = "Admins. The agreement starts `active`. Honours `Idempotency-Key`. Audited.",
    request_body(content = CreateAgreement, content_type = "application/json"),
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe: the same key and body replay the first answer (1 to 255 visible ASCII characters)", pattern = "^[!-~]{1,255}$")),
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Created", body = AgreementView,
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
#[post("/agreements")]
pub async fn create(
    state: web::Data<AppState>,
    auth: Authenticated,
    key: IdempotencyKey,
    body: ApiJson<CreateAgreement>,
) -> Result<HttpResponse, ApiError> {
    permit(
        &state,
        &auth,
        Action::ManageAgreement,
        Resource::Service,
        "agreement",
        None,
    )
    .await?;
    let body = body.into_inner()?;
    let digest = idempotency::digest(&body)?;
    let organisation_id = parse_id("organisation_id", &body.organisation_id)?;
    let period = AgreementPeriod::new(body.starts_on, body.ends_on).map_err(|_| {
        ApiError::invalid_value("ends_on", "range", "ends_on is on or after starts_on")
    })?;
    let mut departements = body
        .departements
        .iter()
        .map(|d| {
            DepartementCode::parse(&d.0)
                .map_err(|e| ApiError::invalid_field("departements", "format", e.to_string()))
        })
        .collect::<Result<Vec<_>, _>>()?;
    departements.sort();
    departements.dedup();
    let mut referents = body
        .referent_ids
        .iter()
        .map(|r| parse_id("referent_ids", r))
        .collect::<Result<Vec<_>, _>>()?;
    referents.sort();
    referents.dedup();
    let now = state.clock.now();
    let actor = auth.actor.clone();
    let ctx = auth.ctx.clone();
    let title = text("title", &body.title)?;
    idempotency::create(
        &state,
        &auth,
        key,
        Operation {
            name: "create_agreement",
            location: Some("/api/v1/agreements"),
            replay: Replay::Stored,
        },
        digest,
        move |conn| {
            let organisation =
                identity::find_organisation(conn, &organisation_id)?.ok_or_else(|| {
                    ApiError::invalid_value(
                        "organisation_id",
                        "unknown",
                        "no organisation has this id",
                    )
                })?;
            if organisation.kind == "programme" {
                return Err(ApiError::rule(
                    "agreement-with-programme",
                    "Agreement with the programme",
                    "an agreement is made with a regional structure, not the programme itself",
                ));
            }
            for code in &departements {
                if adosexo_persistence::territory::find_departement(conn, code)?.is_none() {
                    return Err(ApiError::rule(
                        "unknown-departement",
                        "Unknown département",
                        format!("no département has the code {code}"),
                    ));
                }
            }
            for account in &referents {
                let referent = identity::find_account(conn, account)?.is_some_and(|a| {
                    a.status == "active"
                        && Roles::parse_list(&a.roles).is_ok_and(|r| r.has(Role::RegionalReferent))
                });
                if !referent {
                    return Err(ApiError::invalid_value(
                        "referent_ids",
                        "unknown",
                        format!("{account} is not an active regional referent"),
                    ));
                }
            }
            let id = uuid::Uuid::now_v7().to_string();
            let row = AgreementRow {
                id: id.clone(),
                organisation_id,
                title,
                departements: departements
                    .iter()
                    .map(|d| d.as_str())
                    .collect::<Vec<_>>()
                    .join(","),
                starts_on: period.starts_on().format("%Y-%m-%d").to_string(),
                ends_on: period.ends_on().format("%Y-%m-%d").to_string(),
                status: AgreementStatus::Active.as_str().to_owned(),
                created_by: actor.id.clone(),
                version: 1,
                created_at: to_db(now),
                updated_at: to_db(now),
            };
            store::insert_agreement(conn, &row, &referents)?;
            let entry = audit::entry(
                Some(&actor),
                &ctx,
                "create_agreement",
                "agreement",
                Some(&id),
                Outcome::Success,
            );
            adosexo_persistence::audit::append(conn, &[entry], now)?;
            let view = one(conn, row, now)?;
            Ok(Created {
                id,
                version: 1,
                body: view,
                replay_body: None,
            })
        },
    )
    .await
}

/// Paging.
#[derive(Debug, Deserialize, Validate, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AgreementQuery {
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

async fn list_page(
    state: &AppState,
    auth: &Authenticated,
    query: AgreementQuery,
    only_ending_soon: bool,
    operation: &str,
) -> Result<HttpResponse, ApiError> {
    let after = query.cursor.as_deref().map(parse_cursor).transpose()?;
    let limit = limit(query.limit);
    let now = state.clock.now();
    let between = only_ending_soon.then(|| {
        let today = today(now);
        (
            today.format("%Y-%m-%d").to_string(),
            (today + chrono::Duration::days(ENDING_SOON_DAYS))
                .format("%Y-%m-%d")
                .to_string(),
        )
    });
    let rows = state
        .db
        .run(move |conn| {
            let rows = store::list_agreements(conn, between, after, i64::from(limit) + 1)?;
            Ok::<_, ApiError>(rows)
        })
        .await?;
    let (rows, next_cursor) = page(rows, limit, |r| cursor_of(r.created_at, &r.id));
    let items = state.db.run(move |conn| views(conn, rows, now)).await?;
    audit::record(
        state,
        vec![audit::entry(
            Some(&auth.actor),
            &auth.ctx,
            operation,
            "agreement",
            None,
            Outcome::Success,
        )],
    )
    .await?;
    Ok(HttpResponse::Ok().json(AgreementPage { items, next_cursor }))
}

/// List partnership agreements (staff).
#[utoipa::path(
    operation_id = "listAgreements",
    tag = "professionals",
    summary = "List partnership agreements",
    description = "Every staff role. Pages by `cursor`; `listAgreementsEndingSoon` lists those about to end.",
    params(AgreementQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "A page of agreements", body = AgreementPage),
        (status = 400, response = crate::problem::BadRequest),
        (status = 401, response = crate::problem::Unauthorized),
        (status = 403, response = crate::problem::Forbidden),
        (status = 503, response = crate::problem::Unavailable),
    ),
)]
#[get("/agreements")]
pub async fn list(
    state: web::Data<AppState>,
    auth: Authenticated,
    query: ApiQuery<AgreementQuery>,
) -> Result<HttpResponse, ApiError> {
    permit(
        &state,
        &auth,
        Action::ListAgreements,
        Resource::Service,
        "agreement",
        None,
    )
    .await?;
    list_page(&state, &auth, query.into_inner()?, false, "list_agreements").await
}

/// Active agreements ending within 60 days (admins), to renew them in time.
#[utoipa::path(
    operation_id = "listAgreementsEndingSoon",
    tag = "professionals",
    summary = "Agreements ending within 60 days",
    description = "Active agreements whose last day is today or within the next 60 days (Europe/Paris).",
    params(AgreementQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "A page of agreements", body = AgreementPage),
        (status = 400, response = crate::problem::BadRequest),
        (status = 401, response = crate::problem::Unauthorized),
        (status = 403, response = crate::problem::Forbidden),
        (status = 503, response = crate::problem::Unavailable),
    ),
)]
#[get("/agreements/ending-soon")]
pub async fn ending_soon(
    state: web::Data<AppState>,
    auth: Authenticated,
    query: ApiQuery<AgreementQuery>,
) -> Result<HttpResponse, ApiError> {
    permit(
        &state,
        &auth,
        Action::ListExpiringAgreements,
        Resource::Service,
        "agreement",
        None,
    )
    .await?;
    list_page(
        &state,
        &auth,
        query.into_inner()?,
        true,
        "list_agreements_ending_soon",
    )
    .await
}

/// Read an agreement.
#[utoipa::path(
    operation_id = "getAgreement",
    tag = "professionals",
    summary = "Get a partnership agreement",
    description = "Every staff role. A partnership agreement with its partner, dates and status; `ETag` is its version, for `changeAgreementStatus`. Audited.",
    params(("id" = String, Path, description = "Agreement id", pattern = "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The agreement", body = AgreementView, headers(("ETag" = String, description = "Its version"))),
        (status = 400, response = crate::problem::BadRequest),
        (status = 401, response = crate::problem::Unauthorized),
        (status = 403, response = crate::problem::Forbidden),
        (status = 404, response = crate::problem::NotFound),
        (status = 503, response = crate::problem::Unavailable),
    ),
)]
#[get("/agreements/{id}")]
pub async fn get(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    permit(
        &state,
        &auth,
        Action::ReadAgreement,
        Resource::Service,
        "agreement",
        None,
    )
    .await?;
    let id = parse_id("id", &id)?;
    let now = state.clock.now();
    let lookup = id.clone();
    let view = state
        .db
        .run(move |conn| match store::find_agreement(conn, &lookup)? {
            Some(row) => one(conn, row, now).map(Some),
            None => Ok(None),
        })
        .await?
        .ok_or_else(|| ApiError::not_found("no agreement with this id"))?;
    audit::record(
        &state,
        vec![audit::entry(
            Some(&auth.actor),
            &auth.ctx,
            "read_agreement",
            "agreement",
            Some(&id),
            Outcome::Success,
        )],
    )
    .await?;
    let version = view.version;
    Ok(versioned_json(StatusCode::OK, &view, version))
}

/// A status change.
#[derive(Debug, Deserialize, Serialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AgreementStatusChange {
    /// `active` (resume), `suspended` or `terminated` (final).
    pub status: AgreementStatusWire,
    /// A new last day (a renewal or an early end), on or after the first day.
    pub ends_on: Option<NaiveDate>,
}

/// Suspend, resume, terminate or extend an agreement (needs `If-Match`).
#[utoipa::path(
    operation_id = "changeAgreementStatus",
    tag = "professionals",
    summary = "Change a partnership agreement's status or end date",
    description = "Admins. A terminated agreement stays terminated (409 `agreement-terminated`). Audited.",
    params(
        ("id" = String, Path, description = "Agreement id", pattern = "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"),
        ("If-Match" = String, Header, description = "The ETag of the version read", pattern = "^\"v[0-9]{1,18}\"$", example = "\"v1\""),
    ),
    request_body(content = AgreementStatusChange, content_type = "application/json"),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The agreement", body = AgreementView, headers(("ETag" = String, description = "Its new version"))),
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
#[post("/agreements/{id}/status")]
pub async fn change_status(
    req: HttpRequest,
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<String>,
    body: ApiJson<AgreementStatusChange>,
) -> Result<HttpResponse, ApiError> {
    permit(
        &state,
        &auth,
        Action::ManageAgreement,
        Resource::Service,
        "agreement",
        None,
    )
    .await?;
    let id = parse_id("id", &id)?;
    let body = body.into_inner()?;
    let expected = if_match(&req)?;
    let now = state.clock.now();
    let entry = audit::entry(
        Some(&auth.actor),
        &auth.ctx,
        &format!("agreement_{}", body.status.0.as_str()),
        "agreement",
        Some(&id),
        Outcome::Success,
    );
    let view = state
        .db
        .transaction(move |conn| {
            let current = store::find_agreement(conn, &id)?
                .ok_or_else(|| ApiError::not_found("no agreement with this id"))?;
            if current.version != expected {
                return Err(ApiError::precondition_failed());
            }
            if current.status == AgreementStatus::Terminated.as_str() {
                return Err(ApiError::conflict(
                    "agreement-terminated",
                    "Agreement terminated",
                    "a terminated agreement cannot change; make a new one",
                ));
            }
            let period = period_of(&current)?;
            let ends_on = match body.ends_on {
                Some(end) => AgreementPeriod::new(period.starts_on(), end)
                    .map_err(|_| {
                        ApiError::invalid_value(
                            "ends_on",
                            "range",
                            "ends_on is on or after starts_on",
                        )
                    })?
                    .ends_on(),
                None => period.ends_on(),
            };
            let row = store::update_agreement(
                conn,
                &id,
                expected,
                body.status.0.as_str(),
                &ends_on.format("%Y-%m-%d").to_string(),
                now,
            )?
            .ok_or_else(ApiError::precondition_failed)?;
            adosexo_persistence::audit::append(conn, &[entry], now)?;
            one(conn, row, now)
        })
        .await?;
    let version = view.version;
    Ok(versioned_json(StatusCode::OK, &view, version))
}
