//! Tokens: the token endpoint, logout, and the public keys.

use actix_web::http::header;
use actix_web::{HttpResponse, get, post, web};
use adosexo_domain::authz::{Action, Resource};
use adosexo_persistence::identity;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use validator::{Validate, ValidationError, ValidationErrors};

use crate::audit::{self, Outcome};
use crate::auth::Authenticated;
use crate::auth::grants;
use crate::auth::keys::Jwks;
use crate::context::RequestContext;
use crate::extract::ApiJson;
use crate::guard::permit;
use crate::problem::ApiError;
use crate::state::AppState;
use crate::wire::SecretString;

/// A token request (OAuth 2.0 grants, as JSON).
#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(tag = "grant_type", rename_all = "snake_case", deny_unknown_fields)]
pub enum TokenRequest {
    /// A person: e-mail and password, plus the TOTP code once enrolled (staff).
    Password {
        /// The account's e-mail address.
        #[schema(
            example = "coordinator@adosexo.example",
            min_length = 1,
            max_length = 254
        )]
        username: String,
        /// The password.
        password: SecretString,
        /// The current code of the authenticator app (staff with TOTP).
        #[serde(default)]
        #[schema(pattern = "^[0-9]{6}$")]
        totp: Option<String>,
    },
    /// A partner app: its client id and secret.
    ClientCredentials {
        /// The client id (given when the client was created).
        #[schema(min_length = 1, max_length = 64)]
        client_id: String,
        /// The client secret (shown once when the client was created).
        client_secret: SecretString,
    },
    /// A refresh token from a previous answer; it is spent and replaced.
    RefreshToken {
        /// The refresh token.
        refresh_token: SecretString,
    },
}

impl Validate for TokenRequest {
    fn validate(&self) -> Result<(), ValidationErrors> {
        let mut errors = ValidationErrors::new();
        let mut check = |field: &'static str, value: &str, max: usize| {
            if value.is_empty() || value.len() > max {
                let mut e = ValidationError::new("length");
                e.message = Some(format!("{field} must have 1 to {max} characters").into());
                errors.add(field, e);
            }
        };
        match self {
            Self::Password {
                username,
                password,
                totp,
            } => {
                check("username", username, 254);
                check("password", password.expose(), 1024);
                if let Some(code) = totp {
                    check("totp", code, 6);
                }
            }
            Self::ClientCredentials {
                client_id,
                client_secret,
            } => {
                check("client_id", client_id, 64);
                check("client_secret", client_secret.expose(), 1024);
            }
            Self::RefreshToken { refresh_token } => {
                check("refresh_token", refresh_token.expose(), 1024)
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }
}

/// Tokens (RFC 6749 §5.1 fields).
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenResponse {
    /// The access token (JWT, EdDSA), for `Authorization: Bearer`.
    pub access_token: String,
    /// Always `Bearer`.
    #[schema(example = "Bearer")]
    pub token_type: &'static str,
    /// Seconds the access token lives.
    #[schema(example = 900)]
    pub expires_in: u64,
    /// Single-use token for the next `refresh_token` grant (people only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    /// A partner app's scopes, space-separated.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    /// `true` when TOTP enrolment is mandatory and not done: the token only
    /// allows `/me`, TOTP enrolment and logout.
    pub enrolment_only: bool,
}

/// Get tokens: password (+TOTP), client credentials or refresh token.
#[utoipa::path(
    operation_id = "createToken",
    tag = "auth",
    summary = "Get an access token",
    description = "OAuth 2.0 grants as JSON. Failed attempts are throttled per account and per client \
                   address (429 with `Retry-After`); a failure never says whether the account exists. \
                   A refresh token is single use: presenting a spent one ends its whole session.",
    request_body(content = TokenRequest, content_type = "application/json"),
    security(()),
    responses(
        (status = 200, description = "Tokens", body = TokenResponse),
        (status = 400, response = crate::problem::BadRequest),
        (status = 401, description = "Invalid credentials, or a TOTP code is required (`type` ends in `totp-required`)",
         body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 413, response = crate::problem::PayloadTooLarge),
        (status = 415, response = crate::problem::UnsupportedMediaType),
        (status = 429, response = crate::problem::TooManyRequests),
        (status = 503, response = crate::problem::Unavailable),
    ),
)]
#[post("/auth/token")]
pub async fn token(
    state: web::Data<AppState>,
    ctx: RequestContext,
    request: ApiJson<TokenRequest>,
) -> Result<HttpResponse, ApiError> {
    let request = request.into_inner()?;
    let issued = match &request {
        TokenRequest::Password {
            username,
            password,
            totp,
        } => {
            grants::password_grant(&state, &ctx, username, password.expose(), totp.as_deref())
                .await?
        }
        TokenRequest::ClientCredentials {
            client_id,
            client_secret,
        } => grants::client_grant(&state, &ctx, client_id, client_secret.expose()).await?,
        TokenRequest::RefreshToken { refresh_token } => {
            grants::refresh_grant(&state, &ctx, refresh_token.expose()).await?
        }
    };
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::PRAGMA, "no-cache"))
        .json(TokenResponse {
            access_token: issued.access_token,
            token_type: "Bearer",
            expires_in: issued.expires_in,
            refresh_token: issued.refresh_token,
            scope: issued.scope,
            enrolment_only: issued.enrolment_only,
        }))
}

/// End the current session: its access and refresh tokens stop working at once.
#[utoipa::path(
    operation_id = "logout",
    tag = "auth",
    summary = "Log out",
    description = "Revokes the session of the access token: the token and its refresh tokens are refused from now on.",
    security(("bearer" = [])),
    responses(
        (status = 204, description = "The session is over"),
        (status = 401, response = crate::problem::Unauthorized),
        (status = 503, response = crate::problem::Unavailable),
    ),
)]
#[post("/auth/logout")]
pub async fn logout(
    state: web::Data<AppState>,
    auth: Authenticated,
) -> Result<HttpResponse, ApiError> {
    permit(
        &state,
        &auth,
        Action::Logout,
        Resource::Service,
        "session",
        Some(&auth.session_id),
    )
    .await?;
    let now = state.clock.now();
    let entry = audit::entry(
        Some(&auth.actor),
        &auth.ctx,
        "logout",
        "session",
        Some(&auth.session_id),
        Outcome::Success,
    );
    let session_id = auth.session_id.clone();
    state
        .db
        .transaction(move |conn| {
            identity::revoke_session(conn, &session_id, "logout", now)?;
            adosexo_persistence::audit::append(conn, &[entry], now)?;
            Ok::<_, ApiError>(())
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The public keys that verify access tokens.
#[utoipa::path(
    operation_id = "getJwks",
    tag = "auth",
    summary = "Token verification keys (JWKS)",
    description = "The current signing key and the previous ones still accepted, as a JSON Web Key Set.",
    security(()),
    responses((status = 200, description = "The key set", body = Jwks)),
)]
#[get("/.well-known/jwks.json")]
pub async fn jwks(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "public, max-age=300"))
        .json(state.keys.jwks())
}
