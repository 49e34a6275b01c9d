//! `Idempotency-Key` on creating POSTs: the same key and body replay the
//! first response; the same key with another body is a 422. The check, the
//! creation and the stored response share one transaction.

use std::future::Future;

use actix_web::dev::Payload;
use actix_web::http::StatusCode;
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::{FromRequest, HttpRequest, HttpResponse, web};
use adosexo_persistence::{DbConnection, idempotency};
use futures_util::future::LocalBoxFuture;
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::auth::extractor::Authenticated;
use crate::problem::ApiError;
use crate::state::AppState;

/// The optional `Idempotency-Key` header (1 to 255 visible ASCII
/// characters); a malformed one is refused when `create` runs, after
/// authorization.
#[derive(Clone, Debug)]
pub struct IdempotencyKey(Result<Option<String>, String>);

impl FromRequest for IdempotencyKey {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let key = match req.headers().get("idempotency-key") {
            None => Ok(None),
            Some(value) => parse_key(value.as_bytes()).map(Some),
        };
        std::future::ready(Ok(Self(key)))
    }
}

impl IdempotencyKey {
    /// The key, if one was sent; 400 naming the header when malformed.
    pub fn checked(self) -> Result<Option<String>, ApiError> {
        self.0
            .map_err(|m| ApiError::invalid_field("Idempotency-Key", "format", m))
    }
}

/// An `Idempotency-Key` value: 1 to 255 visible ASCII characters.
pub fn parse_key(value: &[u8]) -> Result<String, String> {
    match std::str::from_utf8(value) {
        Ok(v) if (1..=255).contains(&v.len()) && v.bytes().all(|b| b.is_ascii_graphic()) => {
            Ok(v.to_owned())
        }
        _ => Err("Idempotency-Key is 1 to 255 visible ASCII characters".to_owned()),
    }
}

/// What a creation produced: the resource, its id, its version (for the
/// ETag) and the body to store for replays (secrets removed).
#[derive(Debug)]
pub struct Created<T> {
    /// The response body.
    pub body: T,
    /// The new resource's id.
    pub id: String,
    /// Its version.
    pub version: i64,
    /// The body stored for replays, when it must differ (shown-once secrets).
    pub replay_body: Option<serde_json::Value>,
}

/// Digest of a request body, for matching replays.
pub fn digest<T: Serialize>(request: &T) -> Result<String, ApiError> {
    let bytes = serde_json::to_vec(request).map_err(|e| ApiError::internal(e.to_string()))?;
    Ok(Sha256::digest(&bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect())
}

/// An operation that honours `Idempotency-Key`.
#[derive(Debug)]
pub struct Operation {
    /// Its name, stored with the key (another operation with the same key is a 422).
    pub name: &'static str,
    /// Where the created resource is read (`Location: {prefix}/{id}`), if it has an address.
    pub location: Option<&'static str>,
    /// How a retry is answered.
    pub replay: Replay,
}

/// Reads a created resource again for a replay: today's answer to reading
/// it (authorization, audit), or the error that reading it gives now.
pub type Reader =
    Box<dyn FnOnce(String) -> LocalBoxFuture<'static, Result<HttpResponse, ApiError>>>;

/// Whether a created resource still exists (read when a retry comes,
/// before its stored answer is replayed).
pub type Exists =
    fn(&mut DbConnection, &str) -> Result<bool, adosexo_persistence::PersistenceError>;

/// How a retry with the same key and body is answered.
pub enum Replay {
    /// With the first answer, stored: only for answers that say nothing
    /// about a person in care (organisations, sites, permanences…); shown-once
    /// secrets are removed first ([`Created::replay_body`]).
    Stored,
    /// As [`Replay::Stored`] for resources that can be deleted: the stored
    /// answer while the resource exists, a 410 once it was deleted (a retry
    /// never answers 201 for something that is gone).
    StoredWhile(Exists),
    /// Only the resource's id is stored; a retry reads the resource again
    /// through today's authorization, so data erased, pseudonymised or no
    /// longer visible to the caller never comes back through a replay.
    Reread(Reader),
}

impl std::fmt::Debug for Replay {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Stored => "Stored",
            Self::StoredWhile(_) => "StoredWhile",
            Self::Reread(_) => "Reread",
        })
    }
}

/// A [`Replay::Reread`] through `read`, as `auth` (called only on a replay).
pub fn reread<Fut>(
    state: &web::Data<AppState>,
    auth: &Authenticated,
    read: fn(web::Data<AppState>, Authenticated, String) -> Fut,
) -> Replay
where
    Fut: Future<Output = Result<HttpResponse, ApiError>> + 'static,
{
    let (state, auth) = (state.clone(), auth.clone());
    Replay::Reread(Box::new(move |id| Box::pin(read(state, auth, id))))
}

/// Runs `create` in a transaction unless `key` already holds a response of
/// this actor (stored less than the configured time ago); answers 201 with
/// `Location` and `ETag`, or replays as `operation.replay` says.
pub async fn create<T, F>(
    state: &web::Data<AppState>,
    auth: &Authenticated,
    key: IdempotencyKey,
    operation: Operation,
    request_digest: String,
    create: F,
) -> Result<HttpResponse, ApiError>
where
    T: Serialize + Send + 'static,
    F: FnOnce(&mut DbConnection) -> Result<Created<T>, ApiError> + Send + 'static,
{
    let key = key.checked()?;
    let actor_id = auth.actor.id.clone();
    let now = state.clock.now();
    let not_before = now
        - chrono::Duration::from_std(state.idempotency_ttl).unwrap_or(chrono::Duration::hours(24));
    let name = operation.name;
    let keep_body = matches!(operation.replay, Replay::Stored | Replay::StoredWhile(_));
    let outcome = state
        .db
        .transaction(move |conn| {
            if let Some(key) = &key
                && !idempotency::claim(
                    conn,
                    &actor_id,
                    key,
                    name,
                    &request_digest,
                    now,
                    not_before,
                )?
            {
                // Stored by a request that committed first (perhaps while
                // this one waited for it, on this instance or another).
                let stored =
                    idempotency::find(conn, &actor_id, key, not_before)?.ok_or_else(|| {
                        ApiError::internal("an idempotency key taken and then not found")
                    })?;
                check_same_request(&stored, name, &request_digest)?;
                return Ok::<_, ApiError>(Outcome::Replay(stored));
            }
            let created = create(conn)?;
            let body = serde_json::to_value(&created.body)
                .map_err(|e| ApiError::internal(e.to_string()))?;
            if let Some(key) = &key {
                let stored = if keep_body {
                    created.replay_body.as_ref().unwrap_or(&body).to_string()
                } else {
                    String::new()
                };
                idempotency::complete(conn, &actor_id, key, 201, &stored, Some(&created.id))?;
            }
            Ok(Outcome::Created {
                body,
                id: created.id,
                version: created.version,
            })
        })
        .await?;
    let location = |id: &str| operation.location.map(|prefix| format!("{prefix}/{id}"));
    Ok(match outcome {
        Outcome::Created { body, id, version } => {
            let mut response = HttpResponse::Created();
            if let Some(location) = location(&id) {
                response.insert_header(("Location", location));
            }
            response
                .insert_header(("ETag", crate::http_cache::version_etag(version)))
                .insert_header(("Cache-Control", "no-store"))
                .json(body)
        }
        Outcome::Replay(stored) => replay(state, stored, operation).await?,
    })
}

/// The answer to a retry whose resource was deleted since.
fn gone(id: &str) -> ApiError {
    ApiError::gone(format!(
        "this Idempotency-Key created {id}, which was deleted since; use a new key to create another"
    ))
}

/// The answer to a retry: the stored answer, or the resource read again.
async fn replay(
    state: &web::Data<AppState>,
    stored: idempotency::StoredResponse,
    operation: Operation,
) -> Result<HttpResponse, ApiError> {
    let status = StatusCode::from_u16(u16::try_from(stored.status).unwrap_or(201))
        .unwrap_or(StatusCode::CREATED);
    let location = operation
        .location
        .zip(stored.resource_id.as_deref())
        .map(|(prefix, id)| format!("{prefix}/{id}"));
    let mut response = match (operation.replay, &stored.resource_id) {
        (Replay::Reread(read), Some(id)) => {
            let mut response = read(id.clone()).await?;
            if response.status() == StatusCode::OK {
                *response.status_mut() = status;
            }
            response
        }
        (Replay::Reread(_), None) => {
            return Err(ApiError::internal("replay without a resource id"));
        }
        (Replay::StoredWhile(exists), Some(id)) => {
            let (lookup, stored_id) = (id.clone(), id.clone());
            if !state.db.run(move |conn| exists(conn, &lookup)).await? {
                return Err(gone(&stored_id));
            }
            HttpResponse::build(status)
                .content_type("application/json")
                .body(stored.response_body)
        }
        (Replay::Stored | Replay::StoredWhile(_), _) => HttpResponse::build(status)
            .content_type("application/json")
            .body(stored.response_body),
    };
    let headers = response.headers_mut();
    if let Some(value) = location.and_then(|l| HeaderValue::from_str(&l).ok()) {
        headers.insert(HeaderName::from_static("location"), value);
    }
    headers.insert(
        HeaderName::from_static("idempotent-replayed"),
        HeaderValue::from_static("true"),
    );
    headers.insert(
        HeaderName::from_static("cache-control"),
        HeaderValue::from_static("no-store"),
    );
    Ok(response)
}

/// For creations whose checks read state the first request changed (a
/// split shortens the series it splits): answers a retry before those
/// checks run. `Ok(Err(operation))` when there is nothing to replay (no
/// key, an unknown or expired one); a reused key with another body or
/// operation is the same 422 as in [`create`]. [`create`] checks again in
/// its transaction, so a retry racing the first request is still safe.
pub async fn replay_first(
    state: &web::Data<AppState>,
    auth: &Authenticated,
    key: &IdempotencyKey,
    operation: Operation,
    request_digest: &str,
) -> Result<Result<HttpResponse, Operation>, ApiError> {
    let Some(key) = key.clone().checked()? else {
        return Ok(Err(operation));
    };
    let actor_id = auth.actor.id.clone();
    let not_before = state.clock.now()
        - chrono::Duration::from_std(state.idempotency_ttl).unwrap_or(chrono::Duration::hours(24));
    let stored = state
        .db
        .run(move |conn| idempotency::find(conn, &actor_id, &key, not_before))
        .await?;
    let Some(stored) = stored else {
        return Ok(Err(operation));
    };
    check_same_request(&stored, operation.name, request_digest)?;
    replay(state, stored, operation).await.map(Ok)
}

/// 422 unless the stored key was used for this operation and body.
fn check_same_request(
    stored: &idempotency::StoredResponse,
    operation: &str,
    request_digest: &str,
) -> Result<(), ApiError> {
    // Once the resource was pseudonymised its request's digest is gone
    // too: the key and operation still recognise a retry.
    let same_body = stored.request_digest == request_digest
        || stored.request_digest == adosexo_persistence::inventory::ERASED_DIGEST;
    if stored.operation != operation || !same_body {
        return Err(ApiError::rule(
            "idempotency-key-reused",
            "Idempotency key reused",
            "this Idempotency-Key was used for another request; use a new key",
        ));
    }
    Ok(())
}

enum Outcome {
    Created {
        body: serde_json::Value,
        id: String,
        version: i64,
    },
    Replay(idempotency::StoredResponse),
}
