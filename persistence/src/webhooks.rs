//! Partner integration: webhook subscriptions, the per-organisation event
//! feed (the outbox) and deliveries.
//!
//! An event is written by [`record_event`] inside the transaction of the
//! change that causes it, with one delivery per matching active
//! subscription. Feed positions (`seq`) are numbered per organisation under
//! a counter row that stays locked until the writing transaction ends, so a
//! reader never sees position n+1 before n.
//!
//! Claims: on PostgreSQL the due deliveries are locked with
//! `FOR UPDATE SKIP LOCKED` and leased (`claimed_until`, `claim_token`) in
//! one short transaction; on SQLite the same claim runs in a write
//! transaction (`BEGIN IMMEDIATE`: one writer at a time), so two workers
//! never lease the same delivery. Only the first pending delivery of a
//! (subscription, subject) is due: deliveries are ordered per referral.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;

use crate::DbConnection;
use crate::error::PersistenceError;
use crate::schema::{
    partner_event_counters, partner_events, webhook_deliveries, webhook_subscriptions,
};
use crate::time::to_db;

/// A webhook subscription as stored; the secret sealed (ChaCha20-Poly1305).
#[derive(Clone, Debug, PartialEq, Eq, Queryable, Insertable)]
#[diesel(table_name = webhook_subscriptions)]
pub struct SubscriptionRow {
    pub id: String,
    pub organisation_id: String,
    pub url: String,
    /// Comma-separated event types.
    pub event_types: String,
    pub secret_key_id: String,
    pub secret_nonce: String,
    pub secret_ciphertext: String,
    /// `active` or `deleted`.
    pub status: String,
    pub created_by: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

impl SubscriptionRow {
    /// Whether it asks for `event_type`.
    pub fn wants(&self, event_type: &str) -> bool {
        self.event_types.split(',').any(|t| t == event_type)
    }
}

/// An event of a partner organisation's feed.
#[derive(Clone, Debug, PartialEq, Eq, Queryable, Insertable)]
#[diesel(table_name = partner_events)]
pub struct EventRow {
    /// The event id (receivers de-duplicate on it).
    pub id: String,
    pub organisation_id: String,
    /// Position in the organisation's feed, from 1.
    pub seq: i64,
    pub event_type: String,
    /// The record it is about (deliveries are ordered per subject).
    pub subject_id: String,
    /// The JSON payload (only what the partner may read).
    pub payload: String,
    pub occurred_at: NaiveDateTime,
}

/// One delivery of an event to a subscription.
#[derive(Clone, Debug, PartialEq, Eq, Queryable, Insertable)]
#[diesel(table_name = webhook_deliveries)]
pub struct DeliveryRow {
    pub id: String,
    pub event_id: String,
    pub subscription_id: String,
    pub subject_id: String,
    pub seq: i64,
    /// `pending`, `delivered`, `dead` or `cancelled`.
    pub status: String,
    pub attempts: i32,
    pub next_attempt_at: NaiveDateTime,
    pub claimed_until: Option<NaiveDateTime>,
    pub claim_token: Option<String>,
    /// A short cause (`http 500`, `connect`, `timeout`…), never a body.
    pub last_error: Option<String>,
    pub delivered_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    /// The W3C `traceparent` of the request that caused it, if traced.
    pub traceparent: Option<String>,
}

/// Inserts a subscription.
pub fn insert_subscription(
    conn: &mut DbConnection,
    row: &SubscriptionRow,
) -> Result<(), PersistenceError> {
    diesel::insert_into(webhook_subscriptions::table)
        .values(row)
        .execute(conn)?;
    Ok(())
}

/// One subscription (also deleted ones).
pub fn find_subscription(
    conn: &mut DbConnection,
    id: &str,
) -> Result<Option<SubscriptionRow>, PersistenceError> {
    Ok(webhook_subscriptions::table
        .select(webhook_subscriptions::all_columns)
        .find(id)
        .first(conn)
        .optional()?)
}

/// Whether a subscription exists and was not deleted.
pub fn subscription_exists(conn: &mut DbConnection, id: &str) -> Result<bool, PersistenceError> {
    let found: Option<String> = webhook_subscriptions::table
        .select(webhook_subscriptions::id)
        .filter(webhook_subscriptions::id.eq(id))
        .filter(webhook_subscriptions::status.eq("active"))
        .first(conn)
        .optional()?;
    Ok(found.is_some())
}

/// Active subscriptions, of one organisation or all, by id after `after`.
pub fn list_subscriptions(
    conn: &mut DbConnection,
    organisation_id: Option<&str>,
    after: Option<&str>,
    limit: i64,
) -> Result<Vec<SubscriptionRow>, PersistenceError> {
    let mut query = webhook_subscriptions::table
        .select(webhook_subscriptions::all_columns)
        .filter(webhook_subscriptions::status.eq("active"))
        .order(webhook_subscriptions::id.asc())
        .limit(limit)
        .into_boxed();
    if let Some(org) = organisation_id {
        query = query.filter(webhook_subscriptions::organisation_id.eq(org.to_owned()));
    }
    if let Some(after) = after {
        query = query.filter(webhook_subscriptions::id.gt(after.to_owned()));
    }
    Ok(query.load(conn)?)
}

/// Deletes a subscription (kept as `deleted`) and cancels its pending
/// deliveries. `false` if it was not active.
pub fn delete_subscription(
    conn: &mut DbConnection,
    id: &str,
    now: DateTime<Utc>,
) -> Result<bool, PersistenceError> {
    let changed = diesel::update(
        webhook_subscriptions::table
            .filter(webhook_subscriptions::id.eq(id))
            .filter(webhook_subscriptions::status.eq("active")),
    )
    .set((
        webhook_subscriptions::status.eq("deleted"),
        webhook_subscriptions::updated_at.eq(to_db(now)),
    ))
    .execute(conn)?;
    if changed == 0 {
        return Ok(false);
    }
    diesel::update(
        webhook_deliveries::table
            .filter(webhook_deliveries::subscription_id.eq(id))
            .filter(webhook_deliveries::status.eq_any(["pending", "dead"])),
    )
    .set((
        webhook_deliveries::status.eq("cancelled"),
        webhook_deliveries::updated_at.eq(to_db(now)),
    ))
    .execute(conn)?;
    Ok(true)
}

/// The next feed position of `organisation_id`; the counter row stays
/// locked until the caller's transaction ends.
fn next_seq(conn: &mut DbConnection, organisation_id: &str) -> Result<i64, PersistenceError> {
    let first = (
        partner_event_counters::organisation_id.eq(organisation_id),
        partner_event_counters::next_seq.eq(1_i64),
    );
    // "Insert unless present" differs per backend.
    match conn {
        DbConnection::Postgres(pg) => diesel::insert_into(partner_event_counters::table)
            .values(first)
            .on_conflict_do_nothing()
            .execute(pg)?,
        DbConnection::Sqlite(sqlite) => {
            diesel::insert_or_ignore_into(partner_event_counters::table)
                .values(first)
                .execute(sqlite)?
        }
    };
    let next: i64 = diesel::update(partner_event_counters::table.find(organisation_id))
        .set(partner_event_counters::next_seq.eq(partner_event_counters::next_seq + 1))
        .returning(partner_event_counters::next_seq)
        .get_result(conn)?;
    Ok(next - 1)
}

/// Appends an event to `organisation_id`'s feed and queues one delivery per
/// active subscription of that organisation asking for its type. Call it in
/// the transaction of the change.
pub fn record_event(
    conn: &mut DbConnection,
    organisation_id: &str,
    event_type: &str,
    subject_id: &str,
    payload: &str,
    now: DateTime<Utc>,
) -> Result<EventRow, PersistenceError> {
    let seq = next_seq(conn, organisation_id)?;
    let event = EventRow {
        id: uuid::Uuid::now_v7().to_string(),
        organisation_id: organisation_id.to_owned(),
        seq,
        event_type: event_type.to_owned(),
        subject_id: subject_id.to_owned(),
        payload: payload.to_owned(),
        occurred_at: to_db(now),
    };
    diesel::insert_into(partner_events::table)
        .values(&event)
        .execute(conn)?;
    let subscriptions: Vec<SubscriptionRow> = webhook_subscriptions::table
        .select(webhook_subscriptions::all_columns)
        .filter(webhook_subscriptions::organisation_id.eq(organisation_id))
        .filter(webhook_subscriptions::status.eq("active"))
        .load(conn)?;
    for subscription in subscriptions.iter().filter(|s| s.wants(event_type)) {
        let delivery = DeliveryRow {
            id: uuid::Uuid::now_v7().to_string(),
            event_id: event.id.clone(),
            subscription_id: subscription.id.clone(),
            subject_id: subject_id.to_owned(),
            seq,
            status: "pending".to_owned(),
            attempts: 0,
            next_attempt_at: to_db(now),
            claimed_until: None,
            claim_token: None,
            last_error: None,
            delivered_at: None,
            created_at: to_db(now),
            updated_at: to_db(now),
            traceparent: crate::trace::current(),
        };
        diesel::insert_into(webhook_deliveries::table)
            .values(&delivery)
            .execute(conn)?;
    }
    Ok(event)
}

/// One event.
pub fn find_event(conn: &mut DbConnection, id: &str) -> Result<Option<EventRow>, PersistenceError> {
    Ok(partner_events::table
        .select(partner_events::all_columns)
        .find(id)
        .first(conn)
        .optional()?)
}

/// An organisation's feed after position `after`, oldest first.
pub fn list_events(
    conn: &mut DbConnection,
    organisation_id: &str,
    after: i64,
    limit: i64,
) -> Result<Vec<EventRow>, PersistenceError> {
    Ok(partner_events::table
        .select(partner_events::all_columns)
        .filter(partner_events::organisation_id.eq(organisation_id))
        .filter(partner_events::seq.gt(after))
        .order(partner_events::seq.asc())
        .limit(limit)
        .load(conn)?)
}

/// Deliveries waiting to be sent (pending) and given up on (dead), for
/// the operator's metrics.
pub fn delivery_backlog(conn: &mut DbConnection) -> Result<(i64, i64), PersistenceError> {
    let count = |conn: &mut DbConnection, status: &str| -> Result<i64, PersistenceError> {
        Ok(webhook_deliveries::table
            .filter(webhook_deliveries::status.eq(status))
            .count()
            .get_result(conn)?)
    };
    Ok((count(conn, "pending")?, count(conn, "dead")?))
}

/// Leases up to `batch` due deliveries for `lease` to the caller, who
/// finishes each with [`finish_delivery`] and the returned `claim_token`.
/// Call it inside a write transaction (`Db::transaction`).
pub fn claim_due(
    conn: &mut DbConnection,
    now: DateTime<Utc>,
    lease: chrono::Duration,
    batch: i64,
) -> Result<Vec<DeliveryRow>, PersistenceError> {
    let at = to_db(now);
    let due = |batch: i64| {
        webhook_deliveries::table
            .select(webhook_deliveries::all_columns)
            .filter(webhook_deliveries::status.eq("pending"))
            .filter(webhook_deliveries::next_attempt_at.le(at))
            .filter(
                webhook_deliveries::claimed_until
                    .is_null()
                    .or(webhook_deliveries::claimed_until.lt(at)),
            )
            .order(webhook_deliveries::seq.asc())
            .limit(batch)
    };
    // More candidates than the batch: some wait behind an earlier delivery.
    let candidates: Vec<DeliveryRow> = due(batch.saturating_mul(4)).load(conn)?;
    if candidates.is_empty() {
        return Ok(Vec::new());
    }
    let subjects: Vec<String> = candidates.iter().map(|d| d.subject_id.clone()).collect();
    // The first pending delivery of each (subscription, subject).
    let heads: Vec<(String, String, Option<i64>)> = webhook_deliveries::table
        .filter(webhook_deliveries::status.eq("pending"))
        .filter(webhook_deliveries::subject_id.eq_any(subjects))
        .group_by((
            webhook_deliveries::subscription_id,
            webhook_deliveries::subject_id,
        ))
        .select((
            webhook_deliveries::subscription_id,
            webhook_deliveries::subject_id,
            diesel::dsl::min(webhook_deliveries::seq),
        ))
        .load(conn)?;
    let eligible: Vec<String> = candidates
        .iter()
        .filter(|d| {
            heads.iter().any(|(sub, subject, first)| {
                *sub == d.subscription_id && *subject == d.subject_id && *first == Some(d.seq)
            })
        })
        .take(usize::try_from(batch).unwrap_or(0))
        .map(|d| d.id.clone())
        .collect();
    if eligible.is_empty() {
        return Ok(Vec::new());
    }
    let still_due = |ids: Vec<String>| {
        webhook_deliveries::table
            .select(webhook_deliveries::id)
            .filter(webhook_deliveries::id.eq_any(ids))
            .filter(webhook_deliveries::status.eq("pending"))
            .filter(
                webhook_deliveries::claimed_until
                    .is_null()
                    .or(webhook_deliveries::claimed_until.lt(at)),
            )
    };
    let locked: Vec<String> = match conn {
        // Rows another instance is claiming right now are skipped, not waited for.
        DbConnection::Postgres(pg) => still_due(eligible).for_update().skip_locked().load(pg)?,
        // One writer at a time: the write transaction is the lock.
        DbConnection::Sqlite(sqlite) => still_due(eligible).load(sqlite)?,
    };
    if locked.is_empty() {
        return Ok(Vec::new());
    }
    let token = uuid::Uuid::new_v4().to_string();
    diesel::update(webhook_deliveries::table.filter(webhook_deliveries::id.eq_any(&locked)))
        .set((
            webhook_deliveries::claimed_until.eq(Some(to_db(now + lease))),
            webhook_deliveries::claim_token.eq(Some(&token)),
        ))
        .execute(conn)?;
    Ok(webhook_deliveries::table
        .select(webhook_deliveries::all_columns)
        .filter(webhook_deliveries::claim_token.eq(&token))
        .order(webhook_deliveries::seq.asc())
        .load(conn)?)
}

/// How an attempt ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Attempt {
    /// The receiver answered 2xx.
    Delivered,
    /// Failed; try again at this instant.
    Retry {
        /// When.
        at: DateTime<Utc>,
        /// A short cause.
        error: String,
    },
    /// Failed for the last time: to the dead-letter list.
    Dead {
        /// A short cause.
        error: String,
    },
    /// The subscription is gone: nothing more to do.
    Cancelled,
}

/// Records an attempt of a leased delivery. `false` if the lease was lost
/// (another worker's now).
pub fn finish_delivery(
    conn: &mut DbConnection,
    delivery: &DeliveryRow,
    attempt: &Attempt,
    now: DateTime<Utc>,
) -> Result<bool, PersistenceError> {
    let Some(token) = &delivery.claim_token else {
        return Ok(false);
    };
    let target = webhook_deliveries::table
        .filter(webhook_deliveries::id.eq(&delivery.id))
        .filter(webhook_deliveries::claim_token.eq(token));
    let attempts = delivery.attempts.saturating_add(1);
    let none: Option<NaiveDateTime> = None;
    let no_token: Option<String> = None;
    let changed = match attempt {
        Attempt::Delivered => diesel::update(target)
            .set((
                webhook_deliveries::status.eq("delivered"),
                webhook_deliveries::attempts.eq(attempts),
                webhook_deliveries::delivered_at.eq(Some(to_db(now))),
                webhook_deliveries::last_error.eq(None::<String>),
                webhook_deliveries::claimed_until.eq(none),
                webhook_deliveries::claim_token.eq(no_token),
                webhook_deliveries::updated_at.eq(to_db(now)),
            ))
            .execute(conn)?,
        Attempt::Retry { at, error } => diesel::update(target)
            .set((
                webhook_deliveries::attempts.eq(attempts),
                webhook_deliveries::next_attempt_at.eq(to_db(*at)),
                webhook_deliveries::last_error.eq(Some(error)),
                webhook_deliveries::claimed_until.eq(none),
                webhook_deliveries::claim_token.eq(no_token),
                webhook_deliveries::updated_at.eq(to_db(now)),
            ))
            .execute(conn)?,
        Attempt::Dead { error } => diesel::update(target)
            .set((
                webhook_deliveries::status.eq("dead"),
                webhook_deliveries::attempts.eq(attempts),
                webhook_deliveries::last_error.eq(Some(error)),
                webhook_deliveries::claimed_until.eq(none),
                webhook_deliveries::claim_token.eq(no_token),
                webhook_deliveries::updated_at.eq(to_db(now)),
            ))
            .execute(conn)?,
        Attempt::Cancelled => diesel::update(target)
            .set((
                webhook_deliveries::status.eq("cancelled"),
                webhook_deliveries::claimed_until.eq(none),
                webhook_deliveries::claim_token.eq(no_token),
                webhook_deliveries::updated_at.eq(to_db(now)),
            ))
            .execute(conn)?,
    };
    Ok(changed == 1)
}

/// One delivery.
pub fn find_delivery(
    conn: &mut DbConnection,
    id: &str,
) -> Result<Option<DeliveryRow>, PersistenceError> {
    Ok(webhook_deliveries::table
        .select(webhook_deliveries::all_columns)
        .find(id)
        .first(conn)
        .optional()?)
}

/// Dead deliveries (the dead-letter list) of one organisation's
/// subscriptions or all, by id after `after`, with their subscription's
/// organisation.
pub fn list_dead(
    conn: &mut DbConnection,
    organisation_id: Option<&str>,
    after: Option<&str>,
    limit: i64,
) -> Result<Vec<(DeliveryRow, EventRow)>, PersistenceError> {
    let mut query = webhook_deliveries::table
        .inner_join(webhook_subscriptions::table)
        .inner_join(partner_events::table)
        .select((webhook_deliveries::all_columns, partner_events::all_columns))
        .filter(webhook_deliveries::status.eq("dead"))
        .order(webhook_deliveries::id.asc())
        .limit(limit)
        .into_boxed();
    if let Some(org) = organisation_id {
        query = query.filter(webhook_subscriptions::organisation_id.eq(org.to_owned()));
    }
    if let Some(after) = after {
        query = query.filter(webhook_deliveries::id.gt(after.to_owned()));
    }
    Ok(query.load(conn)?)
}

/// Puts a dead delivery back in the queue, due now, with a fresh count of
/// attempts. `false` if it is not dead.
pub fn redeliver(
    conn: &mut DbConnection,
    id: &str,
    now: DateTime<Utc>,
) -> Result<bool, PersistenceError> {
    let changed = diesel::update(
        webhook_deliveries::table
            .filter(webhook_deliveries::id.eq(id))
            .filter(webhook_deliveries::status.eq("dead")),
    )
    .set((
        webhook_deliveries::status.eq("pending"),
        webhook_deliveries::attempts.eq(0),
        webhook_deliveries::next_attempt_at.eq(to_db(now)),
        webhook_deliveries::updated_at.eq(to_db(now)),
    ))
    .execute(conn)?;
    Ok(changed == 1)
}
