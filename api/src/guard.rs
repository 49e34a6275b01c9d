//! The bridge from the domain's one authorization decision to HTTP: every
//! handler acting for an authenticated caller asks here first. Denials are
//! audited, then rendered: `Forbidden` 403, `Hidden` 404.

use adosexo_domain::authz::{self, Action, Denial, Resource};

use crate::audit::{self, Outcome};
use crate::auth::Authenticated;
use crate::problem::ApiError;
use crate::state::AppState;

/// Allows or refuses `action` on `resource` for the caller.
pub async fn permit(
    state: &AppState,
    auth: &Authenticated,
    action: Action,
    resource: Resource<'_>,
    resource_type: &str,
    resource_id: Option<&str>,
) -> Result<(), ApiError> {
    let Err(denial) = authz::authorize(&auth.actor, action, resource) else {
        return Ok(());
    };
    audit::record(
        state,
        vec![audit::entry(
            Some(&auth.actor),
            &auth.ctx,
            action.as_str(),
            resource_type,
            resource_id,
            Outcome::Denied,
        )],
    )
    .await?;
    Err(match denial {
        Denial::Forbidden => ApiError::forbidden(),
        Denial::Hidden => ApiError::not_found(format!("no {resource_type} with this id")),
    })
}
