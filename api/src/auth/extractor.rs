//! `Authenticated`: a valid bearer token whose session is open and whose
//! subject is active, turned into the `Actor` that authorization decides on.
//! Everything is checked on every request, so logout, disabling an account
//! and revoking a client take effect at once.

use std::collections::BTreeSet;

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, web};
use adosexo_domain::identity::{Actor, ActorKind, Role, Roles, Scope, parse_territory};
use adosexo_persistence::identity;
use futures_util::future::LocalBoxFuture;

use super::tokens::{self, Claims};
use crate::audit::{self, Outcome};
use crate::context::RequestContext;
use crate::problem::ApiError;
use crate::state::AppState;

/// An authenticated caller.
#[derive(Clone, Debug)]
pub struct Authenticated {
    /// Who.
    pub actor: Actor,
    /// Their session.
    pub session_id: String,
    /// Request id and address.
    pub ctx: RequestContext,
}

impl FromRequest for Authenticated {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let ctx = RequestContext::of(req);
        let bearer = req
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| {
                v.strip_prefix("Bearer ")
                    .or_else(|| v.strip_prefix("bearer "))
            })
            .map(|t| t.trim().to_owned());
        Box::pin(async move {
            let state = state.ok_or_else(|| ApiError::internal("application state missing"))?;
            let Some(token) = bearer else {
                return Err(ApiError::unauthorized(
                    "send an access token: Authorization: Bearer <token>",
                ));
            };
            match authenticate(&state, &token).await {
                Ok((actor, session_id)) => Ok(Self {
                    actor,
                    session_id,
                    ctx,
                }),
                Err(Rejection::Error(error)) => Err(error),
                Err(Rejection::Unauthorized(detail)) => {
                    audit::record(
                        &state,
                        vec![audit::entry(
                            None,
                            &ctx,
                            "authenticate",
                            "session",
                            None,
                            Outcome::Failure,
                        )],
                    )
                    .await?;
                    Err(ApiError::unauthorized(detail))
                }
            }
        })
    }
}

enum Rejection {
    Unauthorized(&'static str),
    Error(ApiError),
}

impl From<ApiError> for Rejection {
    fn from(error: ApiError) -> Self {
        Self::Error(error)
    }
}

async fn authenticate(state: &AppState, token: &str) -> Result<(Actor, String), Rejection> {
    let now = state.clock.now();
    let claims = state
        .verified_tokens
        .verify(&state.keys, &state.tokens, token, now)
        .map_err(|e| {
            Rejection::Unauthorized(match e {
                tokens::TokenError::Expired => "the access token has expired",
                tokens::TokenError::UnknownKey | tokens::TokenError::Invalid => {
                    "the access token is invalid"
                }
            })
        })?;
    let Claims {
        sid,
        sub,
        kind,
        enr,
        scope,
        ..
    } = claims;
    let session_id = sid.clone();
    let loaded = state
        .db
        .run(move |conn| {
            let Some(session) = identity::find_session(conn, &sid)? else {
                return Ok(None);
            };
            let subject = match kind.as_str() {
                "account" => identity::find_account(conn, &sub)?.map(Subject::Account),
                "client" => identity::find_client(conn, &sub)?.map(Subject::Client),
                _ => None,
            };
            Ok::<_, ApiError>(subject.map(|s| (session, s)))
        })
        .await?;
    let Some((session, subject)) = loaded else {
        return Err(Rejection::Unauthorized("the access token is invalid"));
    };
    if session.revoked_at.is_some() || adosexo_persistence::time::from_db(session.expires_at) <= now
    {
        return Err(Rejection::Unauthorized(
            "the session has ended; sign in again",
        ));
    }
    let mut actor = subject.into_actor(&session.subject_id, &session.subject_kind, enr)?;
    // A partner app's token may carry fewer scopes than its client (the
    // OAuth 2.0 `scope` parameter): it acts with those it has in both.
    if let (ActorKind::Client, Some(granted)) = (actor.kind, scope.as_deref()) {
        let granted: Vec<&str> = granted.split(' ').collect();
        actor.scopes.retain(|s| granted.contains(&s.as_str()));
    }
    Ok((actor, session_id))
}

enum Subject {
    Account(identity::AccountRow),
    Client(identity::ClientRow),
}

impl Subject {
    /// The actor, if the subject matches the session and may act.
    fn into_actor(
        self,
        session_subject: &str,
        session_kind: &str,
        enrolment_only: bool,
    ) -> Result<Actor, Rejection> {
        let invalid = Rejection::Unauthorized("the access token is invalid");
        match self {
            Self::Account(account) => {
                if account.id != session_subject || session_kind != "account" {
                    return Err(invalid);
                }
                if account.status != "active" {
                    return Err(Rejection::Unauthorized("the account is disabled"));
                }
                let roles = Roles::parse_list(&account.roles).map_err(|e| {
                    ApiError::internal(format!("stored roles of {}: {e}", account.id))
                })?;
                let territory = parse_territory(&account.territory).map_err(|e| {
                    ApiError::internal(format!("stored territory of {}: {e}", account.id))
                })?;
                Ok(Actor {
                    id: account.id,
                    kind: ActorKind::Account,
                    organisation_id: account.organisation_id,
                    roles,
                    territory,
                    scopes: BTreeSet::new(),
                    enrolment_only,
                })
            }
            Self::Client(client) => {
                if client.id != session_subject || session_kind != "client" {
                    return Err(invalid);
                }
                if client.status != "active" {
                    return Err(Rejection::Unauthorized("the client is revoked"));
                }
                let scopes = client
                    .scopes
                    .split(' ')
                    .filter(|s| !s.is_empty())
                    .map(str::parse::<Scope>)
                    .collect::<Result<BTreeSet<_>, _>>()
                    .map_err(|e| {
                        ApiError::internal(format!("stored scopes of {}: {e}", client.id))
                    })?;
                Ok(Actor {
                    id: client.id,
                    kind: ActorKind::Client,
                    organisation_id: client.organisation_id,
                    roles: Roles::new([Role::Partner])
                        .map_err(|e| ApiError::internal(e.to_string()))?,
                    territory: BTreeSet::new(),
                    scopes,
                    enrolment_only: false,
                })
            }
        }
    }
}
