//! Stored responses of creating requests, keyed by actor and
//! `Idempotency-Key`. The lookup and the store run inside the same write
//! transaction as the creation, so a retry racing the first request either
//! waits for it and replays it, or fails the key's primary key and retries.
//!
//! A key is remembered for a limited time: [`find`] forgets an expired one
//! (so the key can be used again) and [`purge_expired`] removes the rest.
//! Operations about people in care store no body, only the resource's id
//! (the API re-reads the resource on a replay).

use chrono::{DateTime, Utc};
use diesel::prelude::*;

use crate::DbConnection;
use crate::error::PersistenceError;
use crate::schema::idempotency_keys;
use crate::time::to_db;

/// A stored response.
#[derive(Clone, Debug, PartialEq, Eq, Queryable)]
pub struct StoredResponse {
    pub operation: String,
    pub request_digest: String,
    pub status: i32,
    pub response_body: String,
    pub resource_id: Option<String>,
}

/// The response stored under (actor, key) since `not_before`, if any; an
/// older one is deleted.
pub fn find(
    conn: &mut DbConnection,
    actor_id: &str,
    key: &str,
    not_before: DateTime<Utc>,
) -> Result<Option<StoredResponse>, PersistenceError> {
    diesel::delete(
        idempotency_keys::table
            .filter(idempotency_keys::actor_id.eq(actor_id))
            .filter(idempotency_keys::idempotency_key.eq(key))
            .filter(idempotency_keys::created_at.lt(to_db(not_before))),
    )
    .execute(conn)?;
    Ok(idempotency_keys::table
        .select((
            idempotency_keys::operation,
            idempotency_keys::request_digest,
            idempotency_keys::status,
            idempotency_keys::response_body,
            idempotency_keys::resource_id,
        ))
        .find((actor_id, key))
        .first(conn)
        .optional()?)
}

/// Stores a response under (actor, key).
#[expect(clippy::too_many_arguments, reason = "one row, named columns")]
pub fn store(
    conn: &mut DbConnection,
    actor_id: &str,
    key: &str,
    operation: &str,
    request_digest: &str,
    status: i32,
    response_body: &str,
    resource_id: Option<&str>,
    now: DateTime<Utc>,
) -> Result<(), PersistenceError> {
    diesel::insert_into(idempotency_keys::table)
        .values((
            idempotency_keys::actor_id.eq(actor_id),
            idempotency_keys::idempotency_key.eq(key),
            idempotency_keys::operation.eq(operation),
            idempotency_keys::request_digest.eq(request_digest),
            idempotency_keys::status.eq(status),
            idempotency_keys::response_body.eq(response_body),
            idempotency_keys::resource_id.eq(resource_id),
            idempotency_keys::created_at.eq(to_db(now)),
        ))
        .execute(conn)?;
    Ok(())
}

/// Deletes every response stored before `not_before`; returns how many.
pub fn purge_expired(
    conn: &mut DbConnection,
    not_before: DateTime<Utc>,
) -> Result<usize, PersistenceError> {
    Ok(diesel::delete(
        idempotency_keys::table.filter(idempotency_keys::created_at.lt(to_db(not_before))),
    )
    .execute(conn)?)
}
