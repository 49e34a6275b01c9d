//! Tokens: the token endpoint (JSON and the OAuth 2.0 form), revocation
//! (RFC 7009), logout, the public keys and the OAuth 2.0 server metadata
//! (RFC 8414).

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, HttpResponse, get, post, web};
use adosexo_domain::authz::{Action, Resource};
use adosexo_domain::identity::Scope;
use adosexo_persistence::identity;
use futures_util::future::LocalBoxFuture;
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
use crate::oauth;
use crate::problem::ApiError;
use crate::state::AppState;
use crate::wire::SecretString;

/// A token request (OAuth 2.0 grants, as JSON).
#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(tag = "grant_type", rename_all = "snake_case", deny_unknown_fields)]
pub enum TokenRequest {
    /// A person: e-mail and password, plus the TOTP code once enrolled (staff).
    #[schema(title = "PasswordGrant")]
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
    #[schema(title = "ClientCredentialsGrant")]
    ClientCredentials {
        /// The client id (given when the client was created).
        #[schema(min_length = 1, max_length = 64)]
        client_id: String,
        /// The client secret (shown once when the client was created).
        client_secret: SecretString,
    },
    /// A refresh token from a previous answer; it is spent and replaced.
    #[schema(title = "RefreshTokenGrant")]
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

/// A token request in the OAuth 2.0 form encoding (RFC 6749 §4.3, §4.4,
/// §6), as OAuth client libraries send it. A confidential client (a partner
/// app) authenticates by `Authorization: Basic` (`client_secret_basic`, id
/// and secret each form-encoded first, RFC 6749 §2.3.1) or by `client_id`
/// and `client_secret` here (`client_secret_post`), never both. Unknown
/// parameters are ignored, an empty one counts as omitted, a repeated one is
/// a 400, a value past 4096 characters too.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(tag = "grant_type", rename_all = "snake_case")]
pub enum TokenForm {
    /// A person: e-mail and password, plus the TOTP code once enrolled
    /// (staff). A client id alone (a public client) is accepted and ignored;
    /// a client secret, if sent, must be right.
    #[schema(title = "PasswordGrantForm")]
    Password {
        /// The account's e-mail address.
        #[schema(min_length = 1, max_length = 254)]
        username: String,
        /// The password.
        password: SecretString,
        /// The current code of the authenticator app (staff with TOTP).
        #[schema(pattern = "^[0-9]{6}$")]
        totp: Option<String>,
        /// A public client's id (ignored), or a confidential one's with its secret.
        #[schema(max_length = 64)]
        client_id: Option<String>,
        /// A confidential client's secret (`client_secret_post`).
        #[schema(max_length = 1024, format = Password)]
        client_secret: Option<String>,
        /// Ignored: a person's roles decide what the token allows.
        #[schema(max_length = 1024)]
        scope: Option<String>,
    },
    /// A partner app: its client id and secret, here or in `Authorization: Basic`.
    #[schema(title = "ClientCredentialsGrantForm")]
    ClientCredentials {
        /// The client id (`client_secret_post`).
        #[schema(max_length = 64)]
        client_id: Option<String>,
        /// The client secret (`client_secret_post`).
        #[schema(max_length = 1024, format = Password)]
        client_secret: Option<String>,
        /// Space-separated scopes, all among the client's: the token gets
        /// these only (default: all of the client's).
        #[schema(max_length = 1024, example = "referrals:read referrals:write")]
        scope: Option<String>,
    },
    /// A refresh token from a previous answer; it is spent and replaced.
    #[schema(title = "RefreshTokenGrantForm")]
    RefreshToken {
        /// The refresh token.
        refresh_token: SecretString,
        /// A public client's id (ignored), or a confidential one's with its secret.
        #[schema(max_length = 64)]
        client_id: Option<String>,
        /// A confidential client's secret (`client_secret_post`).
        #[schema(max_length = 1024, format = Password)]
        client_secret: Option<String>,
        /// Ignored: the refreshed token allows what the session allowed.
        #[schema(max_length = 1024)]
        scope: Option<String>,
    },
}

/// A revocation request (RFC 7009 §2.1) in the OAuth 2.0 form encoding.
/// A partner app authenticates as at the token endpoint.
#[derive(Debug, Deserialize, ToSchema)]
#[expect(
    dead_code,
    reason = "documents the form; the handler reads the parameters one by one (repeats, empty values)"
)]
pub struct RevocationForm {
    /// The refresh token or access token to revoke.
    #[schema(min_length = 1, max_length = 4096)]
    token: String,
    /// `refresh_token` or `access_token`: which kind to look for first
    /// (other values are ignored, RFC 7009 §2.1).
    token_type_hint: Option<String>,
    /// The client id (`client_secret_post`, or a public client's id).
    #[schema(max_length = 64)]
    client_id: Option<String>,
    /// The client secret (`client_secret_post`).
    #[schema(max_length = 1024, format = Password)]
    client_secret: Option<String>,
}

/// The token endpoint's body: JSON (the `/api/v1` form) or the OAuth 2.0
/// form encoding. Decoding errors wait for the handler.
#[derive(Debug)]
pub enum TokenBody {
    /// `application/json` (or anything not form-encoded: 415 as before).
    Json(Result<TokenRequest, ApiError>),
    /// `application/x-www-form-urlencoded`.
    Form(Result<oauth::Params, ApiError>),
}

impl FromRequest for TokenBody {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        if oauth::is_form(req) {
            let body = crate::extract::read_body(req, payload);
            Box::pin(async move {
                Ok(Self::Form(body.await.and_then(|bytes| {
                    oauth::Params::parse(&bytes, TOKEN_PARAMS)
                })))
            })
        } else {
            let json = ApiJson::<TokenRequest>::from_request(req, payload);
            Box::pin(async move { Ok(Self::Json(json.await?.into_inner())) })
        }
    }
}

/// The parameters the token endpoint's form reads.
const TOKEN_PARAMS: &[&str] = &[
    "grant_type",
    "username",
    "password",
    "totp",
    "refresh_token",
    "client_id",
    "client_secret",
    "scope",
];

/// The parameters the revocation endpoint reads.
const REVOCATION_PARAMS: &[&str] = &["token", "token_type_hint", "client_id", "client_secret"];

/// A form-encoded body (RFC 7009 revocation); anything else is a 415.
#[derive(Debug)]
pub struct FormBody(Result<oauth::Params, ApiError>);

impl FromRequest for FormBody {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        if !oauth::is_form(req) {
            return Box::pin(async {
                Ok(Self(Err(ApiError::unsupported_media_type()
                    .with_detail(format!("send the body as {}", oauth::FORM)))))
            });
        }
        let body = crate::extract::read_body(req, payload);
        Box::pin(async move {
            Ok(Self(body.await.and_then(|bytes| {
                oauth::Params::parse(&bytes, REVOCATION_PARAMS)
            })))
        })
    }
}

/// Get tokens: password (+TOTP), client credentials or refresh token.
#[utoipa::path(
    operation_id = "createToken",
    tag = "auth",
    summary = "Get an access token",
    description = "OAuth 2.0 grants, as JSON or in the OAuth 2.0 form encoding \
                   (`application/x-www-form-urlencoded`, RFC 6749 §4.3, §4.4, §6). In the form, a \
                   partner app authenticates by `Authorization: Basic` (`client_secret_basic`, RFC 6749 \
                   §2.3.1) or by `client_id` and `client_secret` (`client_secret_post`). Errors are \
                   problem details with the RFC 6749 §5.2 `error` and `error_description` beside them: \
                   in the form, a refused grant (wrong password, TOTP code or refresh token) is a 400 \
                   `invalid_grant` and a failed client authentication a 401 `invalid_client` with \
                   `WWW-Authenticate: Basic`; the JSON form keeps its 401 `invalid-credentials` for \
                   both. Failed attempts are throttled per account and per client address (429 with \
                   `Retry-After`); a failure never says whether the account exists. A refresh token is \
                   single use: presenting a spent one ends its whole session. Server metadata: \
                   `/.well-known/oauth-authorization-server` (RFC 8414).",
    request_body(content(
        (TokenRequest = "application/json"),
        (TokenForm = "application/x-www-form-urlencoded"),
    )),
    security(()),
    responses(
        (status = 200, description = "Tokens", body = TokenResponse,
         headers(("Cache-Control" = String, description = "`no-store`"))),
        (status = 400, description = "Malformed request (`error`: `invalid_request`, \
                                      `unsupported_grant_type`, `invalid_scope`), or in the form a \
                                      refused grant (`invalid_grant`: wrong password, TOTP code or \
                                      refresh token; `type` ends in `totp-required` when a code is needed)",
         body = crate::problem::Problem, content_type = "application/problem+json",
         example = json!({"type": "urn:adosexo:problem:invalid-credentials", "title": "Invalid credentials", "status": 400, "detail": "the credentials are not valid", "instance": "0193a5c4-1f2e-7d3a-9b1c-2f4e5a6b7c8d", "error": "invalid_grant", "error_description": "the credentials are not valid"})),
        (status = 401, description = "Invalid credentials (`error`: `invalid_client`, or in the JSON \
                                      form `invalid_grant`), or in the JSON form a TOTP code is \
                                      required (`type` ends in `totp-required`)",
         body = crate::problem::Problem, content_type = "application/problem+json",
         example = json!({"type": "urn:adosexo:problem:invalid-credentials", "title": "Invalid credentials", "status": 401, "detail": "the credentials are not valid", "instance": "0193a5c4-1f2e-7d3a-9b1c-2f4e5a6b7c8d", "error": "invalid_client", "error_description": "the credentials are not valid"})),
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
    req: HttpRequest,
    body: TokenBody,
) -> Result<HttpResponse, ApiError> {
    let issued = match body {
        TokenBody::Json(request) => grant(&state, &ctx, request, false).await,
        TokenBody::Form(params) => form_grant(&state, &ctx, &req, params).await,
    }
    .map_err(oauth::request_failure)?;
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

/// A grant; in the JSON form (`form` false) with the statuses it always
/// had, plus the OAuth error code.
async fn grant(
    state: &AppState,
    ctx: &RequestContext,
    request: Result<TokenRequest, ApiError>,
    form: bool,
) -> Result<grants::Issued, ApiError> {
    match &request? {
        TokenRequest::Password {
            username,
            password,
            totp,
        } => grants::password_grant(state, ctx, username, password.expose(), totp.as_deref())
            .await
            .map_err(|e| oauth::grant_failure(e, form)),
        TokenRequest::ClientCredentials {
            client_id,
            client_secret,
        } => grants::client_grant(state, ctx, client_id, client_secret.expose(), None)
            .await
            .map_err(|e| oauth::client_failure(e, form)),
        TokenRequest::RefreshToken { refresh_token } => {
            grants::refresh_grant(state, ctx, refresh_token.expose())
                .await
                .map_err(|e| oauth::grant_failure(e, form))
        }
    }
}

/// The OAuth 2.0 form: RFC 6749's parameters, client authentication and
/// statuses.
async fn form_grant(
    state: &AppState,
    ctx: &RequestContext,
    req: &HttpRequest,
    params: Result<oauth::Params, ApiError>,
) -> Result<grants::Issued, ApiError> {
    let params = params?;
    let client = oauth::client_auth(req, &params)?;
    let grant_type = params.required("grant_type")?;
    // The same length rules as the JSON form.
    let check = |request: TokenRequest| {
        request
            .validate()
            .map_err(|e| ApiError::invalid_input(crate::extract::field_errors(&e)))
            .map(|()| request)
    };
    match grant_type {
        "client_credentials" => {
            let Some((id, secret)) = client.credentials() else {
                return Err(oauth::client_failure(
                    ApiError::invalid_credentials().with_detail(
                        "authenticate the client: Authorization: Basic, or client_id and client_secret",
                    ),
                    true,
                ));
            };
            check(TokenRequest::ClientCredentials {
                client_id: id.to_owned(),
                client_secret: SecretString::new(secret.to_owned()),
            })?;
            grants::client_grant(state, ctx, id, secret, params.get("scope"))
                .await
                .map_err(|e| oauth::client_failure(e, true))
        }
        "password" | "refresh_token" => {
            let request = check(if grant_type == "password" {
                TokenRequest::Password {
                    username: params.required("username")?.to_owned(),
                    password: SecretString::new(params.required("password")?.to_owned()),
                    totp: params.get("totp").map(str::to_owned),
                }
            } else {
                TokenRequest::RefreshToken {
                    refresh_token: SecretString::new(params.required("refresh_token")?.to_owned()),
                }
            })?;
            authenticate_if_confidential(state, ctx, &client).await?;
            grant(state, ctx, Ok(request), true).await
        }
        _ => Err(oauth::invalid_request(
            "grant_type",
            "grant_type is password, client_credentials or refresh_token",
        )
        .with_oauth("unsupported_grant_type")),
    }
}

/// A client that sent a secret must be right about it (RFC 6749 §3.2.1);
/// a client id alone is a public client's and is not checked (the
/// programme's own apps are public clients).
async fn authenticate_if_confidential(
    state: &AppState,
    ctx: &RequestContext,
    client: &oauth::ClientAuth,
) -> Result<Option<identity::ClientRow>, ApiError> {
    match (client.credentials(), &client.secret) {
        (Some((id, secret)), _) => grants::authenticate_client(state, ctx, id, secret)
            .await
            .map(Some)
            .map_err(|e| oauth::client_failure(e, true)),
        (None, Some(_)) => Err(oauth::client_failure(
            ApiError::invalid_credentials().with_detail("a client secret needs its client_id"),
            true,
        )),
        (None, None) => Ok(None),
    }
}

/// Revoke a token (RFC 7009): its session ends.
#[utoipa::path(
    operation_id = "revokeToken",
    tag = "auth",
    summary = "Revoke a token (RFC 7009)",
    description = "OAuth 2.0 token revocation, in the OAuth 2.0 form encoding: `token` is a refresh \
                   token or an access token, `token_type_hint` (`refresh_token` or `access_token`) \
                   says which to look for first. The token's whole session ends: its access token and \
                   refresh token are refused from now on. A token that is unknown, expired or already \
                   revoked is answered 200 all the same. A partner app's token can only be revoked by \
                   that app, authenticated as at the token endpoint (`Authorization: Basic` or \
                   `client_id` and `client_secret`); a person's token by whoever holds it (the \
                   programme's apps are public clients). Errors carry `error` and `error_description` \
                   (RFC 6749 §5.2).",
    request_body(content((RevocationForm = "application/x-www-form-urlencoded"))),
    security(()),
    responses(
        (status = 200, description = "Revoked, or nothing to revoke"),
        (status = 400, description = "Malformed request (`error`: `invalid_request`), or a partner \
                                      app's token presented by another client (`unauthorized_client`)",
         body = crate::problem::Problem, content_type = "application/problem+json",
         example = json!({"type": "urn:adosexo:problem:invalid-input", "title": "Invalid input", "status": 400, "detail": "1 field is invalid", "instance": "0193a5c4-1f2e-7d3a-9b1c-2f4e5a6b7c8d", "errors": [{"field": "token", "code": "invalid", "message": "token is required"}], "error": "invalid_request", "error_description": "token: token is required"})),
        (status = 401, description = "The client authentication failed, or a partner app's token came \
                                      without it (`error`: `invalid_client`, `WWW-Authenticate: Basic`)",
         body = crate::problem::Problem, content_type = "application/problem+json",
         example = json!({"type": "urn:adosexo:problem:invalid-credentials", "title": "Invalid credentials", "status": 401, "detail": "the credentials are not valid", "instance": "0193a5c4-1f2e-7d3a-9b1c-2f4e5a6b7c8d", "error": "invalid_client", "error_description": "the credentials are not valid"})),
        (status = 413, response = crate::problem::PayloadTooLarge),
        (status = 415, response = crate::problem::UnsupportedMediaType),
        (status = 429, response = crate::problem::TooManyRequests),
        (status = 503, response = crate::problem::Unavailable),
    ),
)]
#[post("/auth/revoke")]
pub async fn revoke(
    state: web::Data<AppState>,
    ctx: RequestContext,
    req: HttpRequest,
    body: FormBody,
) -> Result<HttpResponse, ApiError> {
    revoke_token(&state, &ctx, &req, body.0)
        .await
        .map_err(oauth::request_failure)?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .finish())
}

async fn revoke_token(
    state: &AppState,
    ctx: &RequestContext,
    req: &HttpRequest,
    params: Result<oauth::Params, ApiError>,
) -> Result<(), ApiError> {
    let params = params?;
    let client = oauth::client_auth(req, &params)?;
    let authenticated = authenticate_if_confidential(state, ctx, &client).await?;
    let presented_token = params.required("token")?;
    let prefer_access = params.get("token_type_hint") == Some("access_token");
    let now = state.clock.now();
    let presented = crate::auth::secrets::digest(presented_token);
    let access_session =
        crate::auth::tokens::verify(&state.keys, &state.tokens, presented_token, now)
            .ok()
            .map(|claims| claims.sid);
    let ctx = ctx.clone();
    let done = state
        .db
        .transaction(move |conn| {
            let session_id = match (prefer_access, access_session) {
                (true, Some(sid)) => Some(sid),
                (_, access) => {
                    identity::find_refresh_token_session(conn, &presented, now)?.or(access)
                }
            };
            let Some(session) = session_id
                .map(|id| identity::find_session(conn, &id))
                .transpose()?
                .flatten()
                .filter(|s| s.revoked_at.is_none())
            else {
                return Ok(());
            };
            if session.subject_kind == "client" {
                match &authenticated {
                    None => {
                        return Err(oauth::client_failure(
                            ApiError::invalid_credentials().with_detail(
                                "a partner app's token is revoked by that app, authenticated",
                            ),
                            true,
                        ));
                    }
                    Some(client) if client.id != session.subject_id => {
                        return Err(oauth::invalid_request(
                            "token",
                            "this token was not issued to this client",
                        )
                        .with_oauth("unauthorized_client"));
                    }
                    Some(_) => {}
                }
            }
            identity::revoke_session(conn, &session.id, "revoked", now)?;
            let mut entry = audit::entry(
                None,
                &ctx,
                "revoke_token",
                "session",
                Some(&session.id),
                Outcome::Success,
            );
            entry.actor_id = Some(session.subject_id.clone());
            adosexo_persistence::audit::append(conn, &[entry], now)?;
            Ok::<_, ApiError>(())
        })
        .await;
    state.sessions.invalidate_all();
    done
}

/// The authorization server's metadata (RFC 8414).
#[derive(Debug, Serialize, ToSchema)]
pub struct AuthorizationServerMetadata {
    /// The server's identifier: its public address (`ADOSEXO_PUBLIC_URL`,
    /// else the address this document was fetched from).
    #[schema(example = "https://adosexo.example.org")]
    pub issuer: String,
    /// The token endpoint.
    #[schema(example = "https://adosexo.example.org/api/v1/auth/token")]
    pub token_endpoint: String,
    /// How clients authenticate at the token endpoint (`none`: a public client).
    pub token_endpoint_auth_methods_supported: Vec<&'static str>,
    /// The revocation endpoint (RFC 7009).
    #[schema(example = "https://adosexo.example.org/api/v1/auth/revoke")]
    pub revocation_endpoint: String,
    /// How clients authenticate at the revocation endpoint.
    pub revocation_endpoint_auth_methods_supported: Vec<&'static str>,
    /// The keys that verify access tokens.
    #[schema(example = "https://adosexo.example.org/.well-known/jwks.json")]
    pub jwks_uri: String,
    /// The grants of the token endpoint.
    pub grant_types_supported: Vec<&'static str>,
    /// None: there is no authorization endpoint.
    pub response_types_supported: Vec<&'static str>,
    /// The scopes a partner app can be given.
    pub scopes_supported: Vec<&'static str>,
    /// The API's documentation.
    #[schema(example = "https://adosexo.example.org/docs/")]
    pub service_documentation: String,
}

/// The server's public address, if configured (`ADOSEXO_PUBLIC_URL`).
#[derive(Clone, Debug, Default)]
pub struct PublicUrl(pub Option<String>);

/// OAuth 2.0 authorization server metadata (RFC 8414).
#[utoipa::path(
    operation_id = "getOAuthMetadata",
    tag = "auth",
    summary = "OAuth 2.0 server metadata (RFC 8414)",
    description = "Where OAuth 2.0 client libraries discover the token and revocation endpoints, the \
                   grants and the client authentication methods. Addresses are absolute: built on \
                   `ADOSEXO_PUBLIC_URL` when the operator set it, else on the scheme and host this \
                   request was made to.",
    security(()),
    responses((status = 200, description = "The metadata", body = AuthorizationServerMetadata)),
)]
#[get("/.well-known/oauth-authorization-server")]
pub async fn metadata(req: HttpRequest, public_url: web::Data<PublicUrl>) -> HttpResponse {
    let base = oauth::base_url(public_url.0.as_deref(), &req);
    let auth_methods = vec!["client_secret_basic", "client_secret_post", "none"];
    let body = AuthorizationServerMetadata {
        issuer: base.clone(),
        token_endpoint: format!("{base}/api/v1/auth/token"),
        token_endpoint_auth_methods_supported: auth_methods.clone(),
        revocation_endpoint: format!("{base}/api/v1/auth/revoke"),
        revocation_endpoint_auth_methods_supported: auth_methods,
        jwks_uri: format!("{base}/.well-known/jwks.json"),
        grant_types_supported: vec!["password", "client_credentials", "refresh_token"],
        response_types_supported: Vec::new(),
        scopes_supported: Scope::ALL.iter().map(|s| s.as_str()).collect(),
        service_documentation: format!("{base}/docs/"),
    };
    let mut response = HttpResponse::Ok();
    if public_url.0.is_some() {
        response.insert_header((header::CACHE_CONTROL, "public, max-age=300"));
    }
    response.json(body)
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
    let done = state
        .db
        .transaction(move |conn| {
            identity::revoke_session(conn, &session_id, "logout", now)?;
            adosexo_persistence::audit::append(conn, &[entry], now)?;
            Ok::<_, ApiError>(())
        })
        .await;
    state.sessions.invalidate_all();
    done?;
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
