//! Stored responses of creating requests, keyed by actor and
//! `Idempotency-Key`. The key is claimed first, inside the same write
//! transaction as the creation ([`claim`]): a retry racing the first request
//! (on this instance or another) waits on the key's row until the first
//! commits, then finds its response and replays it; if the first rolled
//! back, the retry creates.
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

/// Deletes the response stored under (actor, key) before `not_before`.
fn forget_expired(
    conn: &mut DbConnection,
    actor_id: &str,
    key: &str,
    not_before: DateTime<Utc>,
) -> Result<(), PersistenceError> {
    diesel::delete(
        idempotency_keys::table
            .filter(idempotency_keys::actor_id.eq(actor_id))
            .filter(idempotency_keys::idempotency_key.eq(key))
            .filter(idempotency_keys::created_at.lt(to_db(not_before))),
    )
    .execute(conn)?;
    Ok(())
}

/// The response stored under (actor, key) since `not_before`, if any; an
/// older one is deleted.
pub fn find(
    conn: &mut DbConnection,
    actor_id: &str,
    key: &str,
    not_before: DateTime<Utc>,
) -> Result<Option<StoredResponse>, PersistenceError> {
    forget_expired(conn, actor_id, key, not_before)?;
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

#[derive(Insertable)]
#[diesel(table_name = idempotency_keys)]
struct NewKey<'a> {
    actor_id: &'a str,
    idempotency_key: &'a str,
    operation: &'a str,
    request_digest: &'a str,
    status: i32,
    response_body: &'a str,
    resource_id: Option<&'a str>,
    created_at: chrono::NaiveDateTime,
}

/// Claims (actor, key) for a creation in this transaction: `true` when this
/// transaction holds it (store the response with [`complete`] before
/// committing), `false` when another request stored a response under it
/// (read it with [`find`]). A claim made by a transaction still running
/// elsewhere makes this one wait for it (PostgreSQL's unique index; SQLite
/// has one writer). An expired response is forgotten first.
pub fn claim(
    conn: &mut DbConnection,
    actor_id: &str,
    key: &str,
    operation: &str,
    request_digest: &str,
    now: DateTime<Utc>,
    not_before: DateTime<Utc>,
) -> Result<bool, PersistenceError> {
    forget_expired(conn, actor_id, key, not_before)?;
    let row = NewKey {
        actor_id,
        idempotency_key: key,
        operation,
        request_digest,
        // Replaced by `complete` in the same transaction: never seen.
        status: 0,
        response_body: "",
        resource_id: None,
        created_at: to_db(now),
    };
    let inserted = match conn {
        DbConnection::Postgres(pg) => diesel::insert_into(idempotency_keys::table)
            .values(&row)
            .on_conflict_do_nothing()
            .execute(pg)?,
        DbConnection::Sqlite(sqlite) => diesel::insert_or_ignore_into(idempotency_keys::table)
            .values(&row)
            .execute(sqlite)?,
    };
    Ok(inserted == 1)
}

/// Stores the response of the creation that claimed (actor, key).
pub fn complete(
    conn: &mut DbConnection,
    actor_id: &str,
    key: &str,
    status: i32,
    response_body: &str,
    resource_id: Option<&str>,
) -> Result<(), PersistenceError> {
    let updated = diesel::update(idempotency_keys::table.find((actor_id, key)))
        .set((
            idempotency_keys::status.eq(status),
            idempotency_keys::response_body.eq(response_body),
            idempotency_keys::resource_id.eq(resource_id),
        ))
        .execute(conn)?;
    if updated == 1 {
        Ok(())
    } else {
        Err(PersistenceError::Task(
            "the idempotency key claimed by this transaction is gone".into(),
        ))
    }
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
