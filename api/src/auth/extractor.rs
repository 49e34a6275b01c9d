//! `Authenticated`: a valid bearer token whose session is open and whose
//! subject is active, turned into the `Actor` that authorization decides on.
//! Everything is checked on every request, so logout, disabling an account
//! and revoking a client take effect at once on the instance that commits
//! them (it empties its session cache), and within `SESSION_CACHE_TTL` on
//! the others.

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
    // The token's session, subject and kind together: a token naming
    // another subject than its session's is not answered from memory.
    let cache_key = format!("{kind}\u{1f}{sub}\u{1f}{sid}");
    let loaded = match state.sessions.get(&cache_key) {
        Some(hit) => Some(hit),
        None => {
            // Taken before the read: an invalidation while it runs (a
            // logout committing meanwhile) keeps what it read out of the
            // cache.
            let generation = state.sessions.generation();
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
            if let Some((session, subject)) = &loaded {
                state
                    .sessions
                    .put(cache_key, session.clone(), subject.clone(), generation);
            }
            loaded
        }
    };
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

/// Who a session belongs to, as stored.
#[derive(Clone, Debug)]
pub enum Subject {
    /// A person's account.
    Account(identity::AccountRow),
    /// A partner application.
    Client(identity::ClientRow),
}

/// How long a session and its subject, once read, answer from memory: the
/// most another instance (or the CLI) can lag behind a revocation, a
/// disabled account or a changed role. On the instance that makes such a
/// change, the cache is emptied as soon as the change commits.
pub const SESSION_CACHE_TTL: std::time::Duration = std::time::Duration::from_secs(1);

/// Sessions kept at most; past it the cache starts again empty.
const SESSION_CACHE_MAX: usize = 16_384;

/// Sessions and subjects recently read, so that a busy client's requests do
/// not each read them again (two statements a request). Only open sessions
/// of active subjects are kept; every use still checks expiry and status.
#[derive(Debug, Default)]
pub struct SessionCache {
    entries: std::sync::Mutex<std::collections::HashMap<String, Cached>>,
    generation: std::sync::atomic::AtomicU64,
}

#[derive(Debug)]
struct Cached {
    session: identity::SessionRow,
    subject: Subject,
    loaded: std::time::Instant,
}

impl SessionCache {
    fn lock(&self) -> std::sync::MutexGuard<'_, std::collections::HashMap<String, Cached>> {
        self.entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The current generation: read it before loading from the database.
    pub fn generation(&self) -> u64 {
        self.generation.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// The session and subject kept under `key`, if read less than the TTL
    /// ago.
    pub fn get(&self, key: &str) -> Option<(identity::SessionRow, Subject)> {
        let entries = self.lock();
        let cached = entries.get(key)?;
        (cached.loaded.elapsed() < SESSION_CACHE_TTL)
            .then(|| (cached.session.clone(), cached.subject.clone()))
    }

    /// Keeps what was read at `generation` under `key`, unless the cache
    /// was emptied since (what was read may predate that change).
    pub fn put(
        &self,
        key: String,
        session: identity::SessionRow,
        subject: Subject,
        generation: u64,
    ) {
        let mut entries = self.lock();
        if self.generation() != generation {
            return;
        }
        if entries.len() >= SESSION_CACHE_MAX {
            entries.clear();
        }
        entries.insert(
            key,
            Cached {
                session,
                subject,
                loaded: std::time::Instant::now(),
            },
        );
    }

    /// Forgets everything: call it once a change to sessions, accounts or
    /// clients has committed.
    pub fn invalidate_all(&self) {
        let mut entries = self.lock();
        self.generation
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        entries.clear();
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn entry() -> (identity::SessionRow, Subject) {
        let at = chrono::DateTime::from_timestamp(1_800_000_000, 0)
            .expect("time")
            .naive_utc();
        let session = identity::SessionRow {
            id: "s".into(),
            subject_kind: "client".into(),
            subject_id: "c".into(),
            created_at: at,
            expires_at: at,
            revoked_at: None,
            revoked_reason: None,
        };
        let client = identity::ClientRow {
            id: "c".into(),
            name: "app".into(),
            organisation_id: "o".into(),
            secret_hash: String::new(),
            scopes: "referrals:read".into(),
            status: "active".into(),
            created_at: at,
            updated_at: at,
        };
        (session, Subject::Client(client))
    }

    #[test]
    fn a_read_that_raced_an_invalidation_is_not_kept() {
        let cache = SessionCache::default();
        let (session, subject) = entry();
        // Read before a logout committed, kept after: would serve the
        // revoked session for a second.
        let before = cache.generation();
        cache.invalidate_all();
        cache.put("k".into(), session.clone(), subject.clone(), before);
        assert!(cache.get("k").is_none());
        // Read after: kept, until the next change.
        let after = cache.generation();
        cache.put("k".into(), session, subject, after);
        assert!(cache.get("k").is_some());
        assert!(cache.get("other").is_none());
        cache.invalidate_all();
        assert!(cache.get("k").is_none());
    }
}
