//! The caller's own account: who am I, TOTP enrolment.

use actix_web::{HttpResponse, get, post, web};
use adosexo_domain::authz::{Action, Resource};
use adosexo_domain::identity::ActorKind;
use adosexo_persistence::identity::{self, AccountChanges};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use validator::Validate;

use crate::audit::{self, Outcome};
use crate::auth::{Authenticated, totp};
use crate::extract::ApiJson;
use crate::guard::permit;
use crate::problem::ApiError;
use crate::state::AppState;
use crate::wire::{RoleWire, ScopeWire};

/// The authenticated caller.
#[derive(Debug, Serialize, ToSchema)]
pub struct Me {
    /// Account or client id.
    pub id: String,
    /// `account` (a person) or `client` (a partner app).
    #[schema(example = "account")]
    pub kind: &'static str,
    /// The person's name or the app's name.
    pub display_name: String,
    /// The person's e-mail (absent for apps).
    pub email: Option<String>,
    /// Their organisation.
    pub organisation_id: String,
    /// Their roles.
    pub roles: Vec<RoleWire>,
    /// Staff territory: INSEE département codes.
    pub territory: Vec<String>,
    /// A partner app's scopes.
    pub scopes: Vec<ScopeWire>,
    /// Whether TOTP is enrolled (people).
    pub totp_enabled: bool,
    /// Whether this session may only enrol TOTP.
    pub enrolment_only: bool,
}

/// Who is calling.
#[utoipa::path(
    operation_id = "getMe",
    tag = "me",
    summary = "The authenticated caller",
    description = "Any token. Who is calling: a person (`kind`, roles, organisation, territory, whether TOTP is on) or a partner app (its scopes). `enrolment_only` is true for a token that may only enrol TOTP.",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The caller", body = Me),
        (status = 401, response = crate::problem::Unauthorized),
        (status = 503, response = crate::problem::Unavailable),
    ),
)]
#[get("/me")]
pub async fn get(
    state: web::Data<AppState>,
    auth: Authenticated,
) -> Result<HttpResponse, ApiError> {
    permit(
        &state,
        &auth,
        Action::ReadSelf,
        Resource::Service,
        "account",
        Some(&auth.actor.id),
    )
    .await?;
    let actor = auth.actor.clone();
    let id = actor.id.clone();
    let kind = actor.kind;
    let (display_name, email, totp_enabled) = state
        .db
        .run(move |conn| {
            Ok::<_, ApiError>(match kind {
                ActorKind::Account => identity::find_account(conn, &id)?
                    .map(|a| (a.display_name, Some(a.email), a.totp_enabled)),
                ActorKind::Client => {
                    identity::find_client(conn, &id)?.map(|c| (c.name, None, false))
                }
            })
        })
        .await?
        .ok_or_else(|| ApiError::unauthorized("the account no longer exists"))?;
    Ok(HttpResponse::Ok().json(Me {
        id: actor.id,
        kind: actor.kind.as_str(),
        display_name,
        email,
        organisation_id: actor.organisation_id,
        roles: actor.roles.iter().map(RoleWire).collect(),
        territory: actor.territory.iter().map(|d| d.to_string()).collect(),
        scopes: actor.scopes.iter().copied().map(ScopeWire).collect(),
        totp_enabled,
        enrolment_only: actor.enrolment_only,
    }))
}

/// A TOTP secret to enter into an authenticator app.
#[derive(Debug, Serialize, ToSchema)]
pub struct TotpEnrolment {
    /// The secret, base32.
    pub secret: String,
    /// The `otpauth://` URI (for a QR code).
    pub otpauth_uri: String,
}

/// Start TOTP enrolment: a new secret, not active until confirmed.
#[utoipa::path(
    operation_id = "startTotpEnrolment",
    tag = "me",
    summary = "Start TOTP enrolment",
    description = "Creates a new TOTP secret for the caller, shown once; it becomes the second factor once \
                   a code from it is confirmed. Refused (409) when TOTP is already active.",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The new secret", body = TotpEnrolment),
        (status = 401, response = crate::problem::Unauthorized),
        (status = 403, response = crate::problem::Forbidden),
        (status = 409, response = crate::problem::Conflict),
        (status = 503, response = crate::problem::Unavailable),
    ),
)]
#[post("/me/totp")]
pub async fn start_totp(
    state: web::Data<AppState>,
    auth: Authenticated,
) -> Result<HttpResponse, ApiError> {
    permit(
        &state,
        &auth,
        Action::EnrolTotp,
        Resource::Service,
        "account",
        Some(&auth.actor.id),
    )
    .await?;
    let secret = totp::new_secret().map_err(ApiError::internal)?;
    let now = state.clock.now();
    let (id, stored) = (auth.actor.id.clone(), secret.clone());
    let entry = audit::entry(
        Some(&auth.actor),
        &auth.ctx,
        "start_totp_enrolment",
        "account",
        Some(&auth.actor.id),
        Outcome::Success,
    );
    let email = state
        .db
        .transaction(move |conn| {
            let account = identity::find_account(conn, &id)?
                .ok_or_else(|| ApiError::not_found("no such account"))?;
            if account.totp_enabled {
                return Err(ApiError::conflict(
                    "totp-already-enabled",
                    "TOTP already enabled",
                    "TOTP is already active on this account; an administrator can reset it",
                ));
            }
            let changes = AccountChanges {
                totp_secret: Some(Some(stored)),
                ..Default::default()
            };
            identity::update_account(conn, &id, None, &changes, now)?;
            adosexo_persistence::audit::append(conn, &[entry], now)?;
            Ok(account.email)
        })
        .await?;
    let otpauth_uri = totp::provisioning_uri(&secret, &state.tokens.issuer, &email);
    Ok(HttpResponse::Ok().json(TotpEnrolment {
        secret,
        otpauth_uri,
    }))
}

/// A code from the authenticator app.
#[derive(Debug, Deserialize, Serialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TotpConfirmation {
    /// The six-digit code currently shown.
    #[validate(length(equal = 6, message = "code is 6 digits"))]
    #[schema(pattern = "^[0-9]{6}$", example = "123456")]
    pub code: String,
}

/// Confirm TOTP enrolment with a current code; TOTP is then required at sign-in.
#[utoipa::path(
    operation_id = "confirmTotpEnrolment",
    tag = "me",
    summary = "Confirm TOTP enrolment",
    description = "Activates the secret from `startTotpEnrolment` when the code matches. The current session \
                   ends: sign in again with the code.",
    request_body(content = TotpConfirmation, content_type = "application/json"),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "TOTP is active"),
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
#[post("/me/totp/confirm")]
pub async fn confirm_totp(
    state: web::Data<AppState>,
    auth: Authenticated,
    body: ApiJson<TotpConfirmation>,
) -> Result<HttpResponse, ApiError> {
    permit(
        &state,
        &auth,
        Action::EnrolTotp,
        Resource::Service,
        "account",
        Some(&auth.actor.id),
    )
    .await?;
    let body = body.into_inner()?;
    let now = state.clock.now();
    let (id, session_id) = (auth.actor.id.clone(), auth.session_id.clone());
    let entry = audit::entry(
        Some(&auth.actor),
        &auth.ctx,
        "confirm_totp_enrolment",
        "account",
        Some(&auth.actor.id),
        Outcome::Success,
    );
    let done = state
        .db
        .transaction(move |conn| {
            let account = identity::find_account(conn, &id)?
                .ok_or_else(|| ApiError::not_found("no such account"))?;
            if account.totp_enabled {
                return Err(ApiError::conflict(
                    "totp-already-enabled",
                    "TOTP already enabled",
                    "TOTP is already active",
                ));
            }
            let Some(secret) = account.totp_secret else {
                return Err(ApiError::conflict(
                    "totp-not-started",
                    "TOTP enrolment not started",
                    "start the enrolment first",
                ));
            };
            if !totp::verify(&secret, &body.code, now.timestamp()) {
                return Err(ApiError::rule(
                    "totp-code-invalid",
                    "Invalid TOTP code",
                    "the code does not match; check the device's clock",
                ));
            }
            identity::update_account(
                conn,
                &id,
                None,
                &AccountChanges {
                    totp_enabled: Some(true),
                    ..Default::default()
                },
                now,
            )?;
            identity::revoke_session(conn, &session_id, "totp enrolled", now)?;
            adosexo_persistence::audit::append(conn, &[entry], now)?;
            Ok(())
        })
        .await;
    state.sessions.invalidate_all();
    done?;
    Ok(HttpResponse::NoContent().finish())
}
