//! The token endpoint's grants: password (+ TOTP for enrolled staff),
//! client credentials, refresh token (rotated; a reused one revokes its
//! whole session). Failures look the same whatever failed, and cost the
//! same time whether or not the account exists.

use std::time::Duration;

use adosexo_domain::identity::{Email, Role, Roles};
use adosexo_persistence::identity::{self, AccountRow, ClientRow, RefreshUse};
use adosexo_persistence::time::from_db;
use chrono::{DateTime, Utc};

use super::secrets::{constant_time_eq, digest, new_secret};
use super::tokens::{self, Claims};
use super::{password, totp};
use crate::audit::{self, Outcome};
use crate::context::RequestContext;
use crate::problem::ApiError;
use crate::state::AppState;

/// The setting that makes TOTP mandatory for staff.
pub const TOTP_REQUIRED_SETTING: &str = "security.totp_required";

/// Tokens handed out.
#[derive(Debug)]
pub struct Issued {
    /// The JWT.
    pub access_token: String,
    /// Seconds it lives.
    pub expires_in: u64,
    /// Opaque, single use.
    pub refresh_token: Option<String>,
    /// A partner app's scopes.
    pub scope: Option<String>,
    /// Only TOTP enrolment is allowed with it.
    pub enrolment_only: bool,
}

fn seconds(d: Duration) -> chrono::Duration {
    chrono::Duration::seconds(i64::try_from(d.as_secs()).unwrap_or(i64::MAX / 1000))
}

fn access_claims(
    state: &AppState,
    now: DateTime<Utc>,
    session_id: &str,
    subject: (&str, &str, &str),
    roles: Vec<String>,
    scope: Option<String>,
    enrolment_only: bool,
) -> Claims {
    let (kind, sub, org) = subject;
    let iat = now.timestamp();
    Claims {
        iss: state.tokens.issuer.clone(),
        aud: state.tokens.audience.clone(),
        sub: sub.to_owned(),
        exp: iat + seconds(state.tokens.access_ttl).num_seconds(),
        iat,
        nbf: iat,
        jti: uuid::Uuid::now_v7().to_string(),
        sid: session_id.to_owned(),
        kind: kind.to_owned(),
        org: org.to_owned(),
        roles,
        scope,
        enr: enrolment_only,
    }
}

fn account_roles(account: &AccountRow) -> Result<Roles, ApiError> {
    Roles::parse_list(&account.roles)
        .map_err(|e| ApiError::internal(format!("stored roles of {}: {e}", account.id)))
}

/// Throttle keys of an attempt: the identifier's digest and the address.
fn throttle_keys(identifier: &str, ctx: &RequestContext) -> (String, Option<String>) {
    (
        format!("id:{}", digest(&identifier.trim().to_lowercase())),
        ctx.client_addr.as_ref().map(|a| format!("addr:{a}")),
    )
}

/// 429 when either key has too many recent failures.
async fn check_throttle(
    state: &AppState,
    keys: &(String, Option<String>),
    now: DateTime<Utc>,
) -> Result<(), ApiError> {
    let settings = state.throttle;
    let since = now - seconds(settings.window);
    let keys = keys.clone();
    let (by_id, by_addr) = state
        .db
        .run(move |conn| {
            let by_id = identity::login_failures_since(conn, &keys.0, since)?;
            let by_addr = match &keys.1 {
                Some(key) => identity::login_failures_since(conn, key, since)?,
                None => (0, None),
            };
            Ok::<_, ApiError>((by_id, by_addr))
        })
        .await?;
    let blocked = [
        (by_id, settings.max_failures),
        (by_addr, settings.max_failures_per_address),
    ]
    .into_iter()
    .filter(|((count, _), max)| count >= max)
    .filter_map(|((_, oldest), _)| oldest)
    .map(|oldest| from_db(oldest) + seconds(settings.window) - now)
    .max();
    match blocked {
        Some(wait) => Err(ApiError::too_many_requests(
            u64::try_from(wait.num_seconds()).unwrap_or(1),
            "too many failed attempts; wait before trying again",
        )),
        None => Ok(()),
    }
}

async fn record_failure(
    state: &AppState,
    keys: &(String, Option<String>),
    ctx: &RequestContext,
    action: &str,
    subject: Option<(&str, &str)>,
    now: DateTime<Utc>,
) -> Result<ApiError, ApiError> {
    let mut failure_keys = vec![keys.0.clone()];
    failure_keys.extend(keys.1.clone());
    let mut entry = audit::entry(None, ctx, action, "session", None, Outcome::Failure);
    if let Some((id, org)) = subject {
        entry.actor_id = Some(id.to_owned());
        entry.actor_organisation_id = Some(org.to_owned());
    }
    state
        .db
        .transaction(move |conn| {
            identity::record_login_failure(conn, &failure_keys, now)?;
            adosexo_persistence::audit::append(conn, &[entry], now)?;
            Ok::<_, ApiError>(())
        })
        .await?;
    Ok(ApiError::invalid_credentials())
}

/// `grant_type=password`.
pub async fn password_grant(
    state: &AppState,
    ctx: &RequestContext,
    username: &str,
    secret: &str,
    code: Option<&str>,
) -> Result<Issued, ApiError> {
    let now = state.clock.now();
    let keys = throttle_keys(username, ctx);
    check_throttle(state, &keys, now).await?;

    let email = Email::parse(username).ok();
    let (account, totp_required) = state
        .db
        .run(move |conn| {
            let account = match &email {
                Some(email) => identity::find_account_by_email(conn, email.as_str())?,
                None => None,
            };
            let required =
                identity::get_setting(conn, TOTP_REQUIRED_SETTING)?.as_deref() == Some("true");
            Ok::<_, ApiError>((account, required))
        })
        .await?;
    let password_ok = password::verify_off_worker(
        account.as_ref().and_then(|a| a.password_hash.clone()),
        secret.to_owned(),
    )
    .await;
    let account = match account {
        Some(account) if password_ok && account.status == "active" => account,
        other => {
            let subject = other
                .as_ref()
                .map(|a| (a.id.as_str(), a.organisation_id.as_str()));
            return Err(record_failure(state, &keys, ctx, "login", subject, now).await?);
        }
    };
    let roles = account_roles(&account)?;
    let subject = Some((account.id.as_str(), account.organisation_id.as_str()));
    if roles.is_staff() && account.totp_enabled {
        let secret = account.totp_secret.as_deref().unwrap_or_default();
        match code {
            None => {
                return Err(ApiError::unauthorized_kind(
                    "totp-required",
                    "TOTP code required",
                    "send the current code of your authenticator app in `totp`",
                ));
            }
            Some(code) if !totp::verify(secret, code, now.timestamp()) => {
                return Err(record_failure(state, &keys, ctx, "login", subject, now).await?);
            }
            Some(_) => {}
        }
    }
    let enrolment_only = roles.is_staff() && totp_required && !account.totp_enabled;
    open_account_session(state, ctx, &account, &roles, enrolment_only, &keys.0, now).await
}

async fn open_account_session(
    state: &AppState,
    ctx: &RequestContext,
    account: &AccountRow,
    roles: &Roles,
    enrolment_only: bool,
    throttle_key: &str,
    now: DateTime<Utc>,
) -> Result<Issued, ApiError> {
    let session_id = uuid::Uuid::now_v7().to_string();
    let refresh = if enrolment_only {
        None
    } else {
        Some(new_secret().map_err(ApiError::internal)?)
    };
    let claims = access_claims(
        state,
        now,
        &session_id,
        ("account", &account.id, &account.organisation_id),
        roles.iter().map(|r| r.as_str().to_owned()).collect(),
        None,
        enrolment_only,
    );
    let access_token = tokens::sign(&state.keys, &claims).map_err(ApiError::internal)?;
    let session_expires = if enrolment_only {
        now + seconds(state.tokens.access_ttl)
    } else {
        now + seconds(state.tokens.refresh_ttl)
    };
    let entry = {
        let mut e = audit::entry(
            None,
            ctx,
            "login",
            "session",
            Some(&session_id),
            Outcome::Success,
        );
        e.actor_id = Some(account.id.clone());
        e.actor_organisation_id = Some(account.organisation_id.clone());
        e.actor_role = roles.primary().map(|r| r.as_str().to_owned());
        e
    };
    let (account_id, key, refresh_digest) = (
        account.id.clone(),
        throttle_key.to_owned(),
        refresh.as_deref().map(digest),
    );
    let window = seconds(state.throttle.window);
    state
        .db
        .transaction(move |conn| {
            identity::insert_session(
                conn,
                &session_id,
                "account",
                &account_id,
                now,
                session_expires,
            )?;
            if let Some(d) = &refresh_digest {
                identity::insert_refresh_token(conn, d, &session_id, now, session_expires)?;
            }
            identity::clear_login_failures(conn, &key, now - window)?;
            adosexo_persistence::audit::append(conn, &[entry], now)?;
            Ok::<_, ApiError>(())
        })
        .await?;
    Ok(Issued {
        access_token,
        expires_in: state.tokens.access_ttl.as_secs(),
        refresh_token: refresh,
        scope: None,
        enrolment_only,
    })
}

/// Checks a partner app's id and secret (throttled and audited as a
/// sign-in): the active client, or 401 `invalid-credentials`.
pub async fn authenticate_client(
    state: &AppState,
    ctx: &RequestContext,
    client_id: &str,
    secret: &str,
) -> Result<ClientRow, ApiError> {
    let now = state.clock.now();
    let keys = throttle_keys(client_id, ctx);
    check_throttle(state, &keys, now).await?;
    let id = client_id.to_owned();
    let client: Option<ClientRow> = state
        .db
        .run(move |conn| Ok::<_, ApiError>(identity::find_client(conn, &id)?))
        .await?;
    let presented = digest(secret);
    match client {
        Some(c) if constant_time_eq(&c.secret_hash, &presented) && c.status == "active" => Ok(c),
        other => {
            let subject = other
                .as_ref()
                .map(|c| (c.id.as_str(), c.organisation_id.as_str()));
            Err(record_failure(state, &keys, ctx, "client_login", subject, now).await?)
        }
    }
}

/// `grant_type=client_credentials`. `requested_scope` (space-separated,
/// from the OAuth 2.0 form) narrows the client's scopes; a scope the client
/// does not have is a 400 `invalid_scope`.
pub async fn client_grant(
    state: &AppState,
    ctx: &RequestContext,
    client_id: &str,
    secret: &str,
    requested_scope: Option<&str>,
) -> Result<Issued, ApiError> {
    let client = authenticate_client(state, ctx, client_id, secret).await?;
    issue_client_token(state, ctx, &client, requested_scope).await
}

/// The scopes a client token gets: the client's, or those requested if
/// the client has them all.
fn granted_scope(client: &ClientRow, requested: Option<&str>) -> Result<Option<String>, ApiError> {
    let own: Vec<&str> = client.scopes.split_whitespace().collect();
    let Some(requested) = requested.filter(|r| !r.trim().is_empty()) else {
        return Ok(Some(own.join(" ")).filter(|s| !s.is_empty()));
    };
    let mut wanted: Vec<&str> = Vec::new();
    for scope in requested.split_whitespace() {
        if !own.contains(&scope) {
            return Err(ApiError::invalid_field(
                "scope",
                "invalid",
                "a requested scope is not one of this client's scopes",
            )
            .with_oauth("invalid_scope"));
        }
        if !wanted.contains(&scope) {
            wanted.push(scope);
        }
    }
    Ok(Some(wanted.join(" ")))
}

/// Opens a session for an authenticated client and signs its token.
pub async fn issue_client_token(
    state: &AppState,
    ctx: &RequestContext,
    client: &ClientRow,
    requested_scope: Option<&str>,
) -> Result<Issued, ApiError> {
    let now = state.clock.now();
    let keys = throttle_keys(&client.id, ctx);
    let scope = granted_scope(client, requested_scope)?;
    let session_id = uuid::Uuid::now_v7().to_string();
    let claims = access_claims(
        state,
        now,
        &session_id,
        ("client", &client.id, &client.organisation_id),
        vec![Role::Partner.as_str().to_owned()],
        scope.clone(),
        false,
    );
    let access_token = tokens::sign(&state.keys, &claims).map_err(ApiError::internal)?;
    let expires = now + seconds(state.tokens.access_ttl);
    let mut entry = audit::entry(
        None,
        ctx,
        "client_login",
        "session",
        Some(&session_id),
        Outcome::Success,
    );
    entry.actor_id = Some(client.id.clone());
    entry.actor_organisation_id = Some(client.organisation_id.clone());
    entry.actor_role = Some(Role::Partner.as_str().to_owned());
    let (client_id, key, window) = (
        client.id.clone(),
        keys.0.clone(),
        seconds(state.throttle.window),
    );
    state
        .db
        .transaction(move |conn| {
            identity::insert_session(conn, &session_id, "client", &client_id, now, expires)?;
            identity::clear_login_failures(conn, &key, now - window)?;
            adosexo_persistence::audit::append(conn, &[entry], now)?;
            Ok::<_, ApiError>(())
        })
        .await?;
    Ok(Issued {
        access_token,
        expires_in: state.tokens.access_ttl.as_secs(),
        refresh_token: None,
        scope,
        enrolment_only: false,
    })
}

/// `grant_type=refresh_token`: spends the token, issues a new pair in the
/// same session. A token spent twice revokes the session.
pub async fn refresh_grant(
    state: &AppState,
    ctx: &RequestContext,
    refresh_token: &str,
) -> Result<Issued, ApiError> {
    let now = state.clock.now();
    let presented = digest(refresh_token);
    let next = new_secret().map_err(ApiError::internal)?;
    let next_digest = digest(&next);
    let ctx_owned = ctx.clone();
    let outcome = state
        .db
        .transaction(move |conn| {
            let session_id = match identity::use_refresh_token(conn, &presented, now)? {
                RefreshUse::Unknown => return Ok(Err(None)),
                RefreshUse::Replayed { session_id } => {
                    let session = identity::find_session(conn, &session_id)?;
                    let mut entry = audit::entry(
                        None,
                        &ctx_owned,
                        "refresh_token_reuse",
                        "session",
                        Some(&session_id),
                        Outcome::Denied,
                    );
                    entry.actor_id = session.map(|s| s.subject_id);
                    adosexo_persistence::audit::append(conn, &[entry], now)?;
                    return Ok(Err(Some(session_id)));
                }
                RefreshUse::Fresh { session_id, .. } => session_id,
            };
            let Some(session) = identity::find_session(conn, &session_id)? else {
                return Ok(Err(None));
            };
            if session.revoked_at.is_some()
                || from_db(session.expires_at) <= now
                || session.subject_kind != "account"
            {
                return Ok(Err(None));
            }
            let Some(account) = identity::find_account(conn, &session.subject_id)? else {
                return Ok(Err(None));
            };
            if account.status != "active" {
                return Ok(Err(None));
            }
            identity::insert_refresh_token(
                conn,
                &next_digest,
                &session_id,
                now,
                from_db(session.expires_at),
            )?;
            Ok::<_, ApiError>(Ok((account, session_id)))
        })
        .await?;
    let (account, session_id) = match outcome {
        Ok(found) => found,
        Err(replayed) => {
            if replayed.is_some() {
                // The replay revoked the session: its access tokens stop now.
                state.sessions.invalidate_all();
            }
            return Err(ApiError::invalid_credentials());
        }
    };
    let roles = account_roles(&account)?;
    let claims = access_claims(
        state,
        now,
        &session_id,
        ("account", &account.id, &account.organisation_id),
        roles.iter().map(|r| r.as_str().to_owned()).collect(),
        None,
        false,
    );
    let access_token = tokens::sign(&state.keys, &claims).map_err(ApiError::internal)?;
    let mut entry = audit::entry(
        None,
        ctx,
        "refresh",
        "session",
        Some(&session_id),
        Outcome::Success,
    );
    entry.actor_id = Some(account.id.clone());
    entry.actor_organisation_id = Some(account.organisation_id.clone());
    audit::record(state, vec![entry]).await?;
    Ok(Issued {
        access_token,
        expires_in: state.tokens.access_ttl.as_secs(),
        refresh_token: Some(next),
        scope: None,
        enrolment_only: false,
    })
}
