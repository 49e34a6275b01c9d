//! Writing the audit trail: who did what to which record, with what
//! outcome — never content. Entries for writes go in the write's own
//! transaction; entries for reads and denials are written before the
//! response leaves, and a failure to write them fails the request.

use adosexo_domain::identity::Actor;
use adosexo_persistence::audit::{self, NewAuditEntry};

use crate::context::RequestContext;
use crate::problem::ApiError;
use crate::state::AppState;

/// How an audited attempt ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Done.
    Success,
    /// Refused by authorization.
    Denied,
    /// Failed (bad credentials, invalid token).
    Failure,
}

impl Outcome {
    fn as_str(self) -> &'static str {
        match self {
            Self::Success => "success",
            Self::Denied => "denied",
            Self::Failure => "failure",
        }
    }
}

/// An entry for `actor` (or an unidentified caller).
pub fn entry(
    actor: Option<&Actor>,
    ctx: &RequestContext,
    action: &str,
    resource_type: &str,
    resource_id: Option<&str>,
    outcome: Outcome,
) -> NewAuditEntry {
    NewAuditEntry {
        actor_id: actor.map(|a| a.id.clone()),
        actor_organisation_id: actor.map(|a| a.organisation_id.clone()),
        actor_role: actor
            .and_then(|a| a.roles.primary())
            .map(|r| r.as_str().to_owned()),
        action: action.to_owned(),
        resource_type: resource_type.to_owned(),
        resource_id: resource_id.map(str::to_owned),
        outcome: outcome.as_str().to_owned(),
        request_id: ctx.request_id.clone(),
        client_addr: ctx.client_addr.clone(),
    }
}

/// Appends entries now, in their own transaction.
pub async fn record(state: &AppState, entries: Vec<NewAuditEntry>) -> Result<(), ApiError> {
    let now = state.clock.now();
    state
        .db
        .run(move |conn| audit::append(conn, &entries, now))
        .await?;
    Ok(())
}
