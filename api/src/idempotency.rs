//! `Idempotency-Key` on creating POSTs: the same key and body replay the
//! first response; the same key with another body is a 422. The check, the
//! creation and the stored response share one transaction.

use actix_web::dev::Payload;
use actix_web::http::StatusCode;
use actix_web::{FromRequest, HttpRequest, HttpResponse};
use adosexo_persistence::{DbConnection, idempotency};
use serde::Serialize;
use sha2::{Digest, Sha256};

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

/// Runs `create` in a transaction unless `key` already holds a response of
/// this actor for this operation; answers 201 with `Location` and `ETag`.
pub async fn create<T, F>(
    state: &AppState,
    actor_id: &str,
    key: IdempotencyKey,
    operation: &'static str,
    request_digest: String,
    location_prefix: &'static str,
    create: F,
) -> Result<HttpResponse, ApiError>
where
    T: Serialize + Send + 'static,
    F: FnOnce(&mut DbConnection) -> Result<Created<T>, ApiError> + Send + 'static,
{
    let key = key
        .0
        .map_err(|m| ApiError::invalid_field("Idempotency-Key", "format", m))?;
    let actor_id = actor_id.to_owned();
    let now = state.clock.now();
    let outcome = state
        .db
        .transaction(move |conn| {
            let stored = match &key {
                Some(key) => idempotency::find(conn, &actor_id, key)?,
                None => None,
            };
            if let Some(stored) = stored {
                if stored.operation != operation || stored.request_digest != request_digest {
                    return Err(ApiError::rule(
                        "idempotency-key-reused",
                        "Idempotency key reused",
                        "this Idempotency-Key was used for another request; use a new key",
                    ));
                }
                return Ok(Outcome::Replay(stored));
            }
            let created = create(conn)?;
            let body = serde_json::to_value(&created.body)
                .map_err(|e| ApiError::internal(e.to_string()))?;
            if let Some(key) = &key {
                let stored = created.replay_body.as_ref().unwrap_or(&body).to_string();
                idempotency::store(
                    conn,
                    &actor_id,
                    key,
                    operation,
                    &request_digest,
                    201,
                    &stored,
                    Some(&created.id),
                    now,
                )?;
            }
            Ok(Outcome::Created {
                body,
                id: created.id,
                version: created.version,
            })
        })
        .await?;
    Ok(match outcome {
        Outcome::Created { body, id, version } => HttpResponse::Created()
            .insert_header(("Location", format!("{location_prefix}/{id}")))
            .insert_header(("ETag", crate::http_cache::version_etag(version)))
            .insert_header(("Cache-Control", "no-store"))
            .json(body),
        Outcome::Replay(stored) => {
            let mut response = HttpResponse::build(
                StatusCode::from_u16(u16::try_from(stored.status).unwrap_or(201))
                    .unwrap_or(StatusCode::CREATED),
            );
            if let Some(id) = &stored.resource_id {
                response.insert_header(("Location", format!("{location_prefix}/{id}")));
            }
            response
                .insert_header(("Idempotent-Replayed", "true"))
                .insert_header(("Cache-Control", "no-store"))
                .content_type("application/json")
                .body(stored.response_body)
        }
    })
}

enum Outcome {
    Created {
        body: serde_json::Value,
        id: String,
        version: i64,
    },
    Replay(idempotency::StoredResponse),
}
