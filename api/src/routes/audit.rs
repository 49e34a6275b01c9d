//! The audit trail, for supervisors.

use actix_web::{HttpResponse, get, web};
use adosexo_domain::authz::{Action, Resource};
use adosexo_persistence::audit::{self as store, AuditFilter, AuditRow};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use crate::audit::{self, Outcome};
use crate::auth::Authenticated;
use crate::extract::ApiQuery;
use crate::guard::permit;
use crate::pagination::{limit, page};
use crate::problem::ApiError;
use crate::state::AppState;
use crate::wire::instant;

/// One audit entry: who did what to which record, and how it ended. Never content.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditEntryView {
    /// Position in the chain.
    pub seq: i64,
    /// Entry id.
    pub id: String,
    /// When (UTC).
    pub at: DateTime<Utc>,
    /// Account or client id (absent when the caller was not identified).
    pub actor_id: Option<String>,
    /// Their organisation.
    pub actor_organisation_id: Option<String>,
    /// Their role.
    pub actor_role: Option<String>,
    /// What (`login`, `read_account`, …).
    pub action: String,
    /// On what kind of record.
    pub resource_type: String,
    /// Which record.
    pub resource_id: Option<String>,
    /// A list read: the records it returned (empty otherwise).
    pub resource_ids: Vec<String>,
    /// `success`, `failure` or `denied`.
    pub outcome: String,
    /// The request's id.
    pub request_id: Option<String>,
    /// The client's address.
    pub client_addr: Option<String>,
    /// Chain hash of this entry.
    pub hash: String,
}

impl From<AuditRow> for AuditEntryView {
    fn from(row: AuditRow) -> Self {
        Self {
            seq: row.seq,
            id: row.id,
            at: instant(row.at),
            actor_id: row.actor_id,
            actor_organisation_id: row.actor_organisation_id,
            actor_role: row.actor_role,
            action: row.action,
            resource_type: row.resource_type,
            resource_id: row.resource_id,
            resource_ids: row
                .resource_ids
                .as_deref()
                .unwrap_or_default()
                .split(' ')
                .filter(|id| !id.is_empty())
                .map(str::to_owned)
                .collect(),
            outcome: row.outcome,
            request_id: row.request_id,
            client_addr: row.client_addr,
            hash: row.hash,
        }
    }
}

/// A page of entries, newest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditPage {
    /// Newest first.
    pub items: Vec<AuditEntryView>,
    /// Pass as `cursor` for older entries; `null` on the last page.
    pub next_cursor: Option<String>,
}

/// Filters and paging.
#[derive(Debug, Deserialize, Validate, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// Page size, 1 to 200 (default 50).
    #[validate(range(min = 1, max = 200, message = "limit must be from 1 to 200"))]
    #[param(minimum = 1, maximum = 200, default = 50)]
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    #[param(pattern = "^[0-9]{1,18}$")]
    pub cursor: Option<String>,
    /// Only entries of this actor (account or client id).
    #[validate(length(max = 64, message = "actor_id is at most 64 characters"))]
    #[param(max_length = 64)]
    pub actor_id: Option<String>,
    /// Only entries about this kind of record (`account`, `session`, …).
    #[validate(length(max = 64, message = "resource_type is at most 64 characters"))]
    #[param(max_length = 64)]
    pub resource_type: Option<String>,
    /// Only entries about this record: those naming it, and the list reads
    /// that returned it.
    #[validate(length(max = 64, message = "resource_id is at most 64 characters"))]
    #[param(max_length = 64)]
    pub resource_id: Option<String>,
    /// From this instant (inclusive, RFC 3339).
    pub from: Option<DateTime<Utc>>,
    /// Until this instant (exclusive, RFC 3339).
    pub to: Option<DateTime<Utc>>,
}

/// Read the audit trail.
#[utoipa::path(
    operation_id = "listAuditEntries",
    tag = "audit",
    summary = "Audit trail",
    description = "Every read, write and export of personal data, every denied attempt, every sign-in and \
                   account change. Supervisors only; reading it is itself audited.",
    params(AuditQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "A page of entries", body = AuditPage),
        (status = 400, response = crate::problem::BadRequest),
        (status = 401, response = crate::problem::Unauthorized),
        (status = 403, response = crate::problem::Forbidden),
        (status = 503, response = crate::problem::Unavailable),
    ),
)]
#[get("/audit")]
pub async fn list(
    state: web::Data<AppState>,
    auth: Authenticated,
    query: ApiQuery<AuditQuery>,
) -> Result<HttpResponse, ApiError> {
    permit(
        &state,
        &auth,
        Action::ReadAudit,
        Resource::Service,
        "audit",
        None,
    )
    .await?;
    let query = query.into_inner()?;
    let before_seq = query
        .cursor
        .as_deref()
        .map(|c| {
            c.parse::<i64>().map_err(|_| {
                ApiError::invalid_field("cursor", "format", "cursor is not one this API gave")
            })
        })
        .transpose()?;
    // A reversed or empty period is schema-valid: it simply holds nothing.
    let limit = limit(query.limit);
    let filter = AuditFilter {
        actor_id: query.actor_id,
        resource_type: query.resource_type,
        resource_id: query.resource_id,
        from: query.from,
        to: query.to,
        before_seq,
        limit: i64::from(limit) + 1,
    };
    let rows = state.db.run(move |conn| store::list(conn, &filter)).await?;
    audit::record(
        &state,
        vec![audit::entry(
            Some(&auth.actor),
            &auth.ctx,
            "read_audit",
            "audit",
            None,
            Outcome::Success,
        )],
    )
    .await?;
    let (rows, next_cursor) = page(rows, limit, |r| r.seq.to_string());
    Ok(HttpResponse::Ok().json(AuditPage {
        items: rows.into_iter().map(AuditEntryView::from).collect(),
        next_cursor,
    }))
}
