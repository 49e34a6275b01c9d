//! Security settings (admins).

use actix_web::{HttpResponse, get, put, web};
use adosexo_domain::authz::{Action, Resource};
use adosexo_persistence::identity;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use validator::Validate;

use crate::audit::{self, Outcome};
use crate::auth::Authenticated;
use crate::auth::grants::TOTP_REQUIRED_SETTING;
use crate::extract::ApiJson;
use crate::guard::permit;
use crate::problem::ApiError;
use crate::state::AppState;

/// Security settings.
#[derive(Debug, Deserialize, Serialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SecuritySettings {
    /// Staff must enrol TOTP: until they do, signing in only allows enrolment.
    pub totp_required: bool,
}

/// Read the security settings.
#[utoipa::path(
    operation_id = "getSecuritySettings",
    tag = "settings",
    summary = "Security settings",
    description = "Admins. Whether staff must sign in with TOTP (`totp_required`).",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The settings", body = SecuritySettings),
        (status = 401, response = crate::problem::Unauthorized),
        (status = 403, response = crate::problem::Forbidden),
        (status = 503, response = crate::problem::Unavailable),
    ),
)]
#[get("/settings/security")]
pub async fn get(
    state: web::Data<AppState>,
    auth: Authenticated,
) -> Result<HttpResponse, ApiError> {
    permit(
        &state,
        &auth,
        Action::ReadSecuritySettings,
        Resource::Service,
        "settings",
        None,
    )
    .await?;
    let value = state
        .db
        .run(|conn| identity::get_setting(conn, TOTP_REQUIRED_SETTING))
        .await?;
    Ok(HttpResponse::Ok().json(SecuritySettings {
        totp_required: value.as_deref() == Some("true"),
    }))
}

/// Replace the security settings.
#[utoipa::path(
    operation_id = "putSecuritySettings",
    tag = "settings",
    summary = "Change security settings",
    description = "Admins. Replaces the settings. With `totp_required`, a staff member without TOTP gets at sign-in a token that may only enrol it. Audited.",
    request_body(content = SecuritySettings, content_type = "application/json"),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The new settings", body = SecuritySettings),
        (status = 400, response = crate::problem::BadRequest),
        (status = 401, response = crate::problem::Unauthorized),
        (status = 403, response = crate::problem::Forbidden),
        (status = 413, response = crate::problem::PayloadTooLarge),
        (status = 415, response = crate::problem::UnsupportedMediaType),
        (status = 503, response = crate::problem::Unavailable),
    ),
)]
#[put("/settings/security")]
pub async fn put(
    state: web::Data<AppState>,
    auth: Authenticated,
    body: ApiJson<SecuritySettings>,
) -> Result<HttpResponse, ApiError> {
    permit(
        &state,
        &auth,
        Action::UpdateSecuritySettings,
        Resource::Service,
        "settings",
        None,
    )
    .await?;
    let body = body.into_inner()?;
    let now = state.clock.now();
    let entry = audit::entry(
        Some(&auth.actor),
        &auth.ctx,
        "update_security_settings",
        "settings",
        None,
        Outcome::Success,
    );
    let value = if body.totp_required { "true" } else { "false" };
    state
        .db
        .transaction(move |conn| {
            identity::set_setting(conn, TOTP_REQUIRED_SETTING, value, now)?;
            adosexo_persistence::audit::append(conn, &[entry], now)?;
            Ok::<_, ApiError>(())
        })
        .await?;
    Ok(HttpResponse::Ok().json(body))
}
