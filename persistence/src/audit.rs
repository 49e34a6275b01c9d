//! The audit trail: append-only (triggers refuse UPDATE and DELETE outside
//! the purge), hash-chained through `audit_head`, which every append locks.

use adosexo_domain::audit::{AuditRecord, BrokenLink, chain_hash, verify};
use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::connection::SimpleConnection;
use diesel::prelude::*;

use crate::error::PersistenceError;
use crate::schema::{audit_head, audit_log, audit_purge_gate};
use crate::time::{canonical, to_db};
use crate::{DbConnection, write_transaction};

/// One entry to append (the chain fields are computed here).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NewAuditEntry {
    pub actor_id: Option<String>,
    pub actor_organisation_id: Option<String>,
    pub actor_role: Option<String>,
    pub action: String,
    pub resource_type: String,
    pub resource_id: Option<String>,
    pub outcome: String,
    pub request_id: Option<String>,
    pub client_addr: Option<String>,
    /// A list read: the ids of the records it returned, space-separated.
    pub resource_ids: Option<String>,
}

/// A stored entry.
#[derive(Clone, Debug, PartialEq, Eq, Queryable)]
pub struct AuditRow {
    pub seq: i64,
    pub id: String,
    pub at: NaiveDateTime,
    pub actor_id: Option<String>,
    pub actor_organisation_id: Option<String>,
    pub actor_role: Option<String>,
    pub action: String,
    pub resource_type: String,
    pub resource_id: Option<String>,
    pub outcome: String,
    pub request_id: Option<String>,
    pub client_addr: Option<String>,
    pub prev_hash: String,
    pub hash: String,
    /// A list read: the ids of the records it returned, space-separated.
    pub resource_ids: Option<String>,
}

impl AuditRow {
    fn record(&self) -> AuditRecord {
        AuditRecord {
            seq: self.seq,
            id: self.id.clone(),
            at: canonical(self.at),
            actor_id: self.actor_id.clone(),
            actor_organisation_id: self.actor_organisation_id.clone(),
            actor_role: self.actor_role.clone(),
            action: self.action.clone(),
            resource_type: self.resource_type.clone(),
            resource_id: self.resource_id.clone(),
            outcome: self.outcome.clone(),
            request_id: self.request_id.clone(),
            client_addr: self.client_addr.clone(),
            resource_ids: self.resource_ids.clone(),
        }
    }
}

/// Locks the chain's head for this transaction. SQLite serialises writers
/// already; the dummy write takes its write lock now rather than at the
/// insert, so two appenders never both read the same head.
fn lock_head(conn: &mut DbConnection) -> Result<(i64, String), PersistenceError> {
    match conn {
        DbConnection::Postgres(pg) => Ok(audit_head::table
            .select((audit_head::seq, audit_head::hash))
            .find(1)
            .for_update()
            .first(pg)?),
        DbConnection::Sqlite(sqlite) => {
            diesel::update(audit_head::table.find(1))
                .set(audit_head::seq.eq(audit_head::seq))
                .execute(sqlite)?;
            Ok(audit_head::table
                .select((audit_head::seq, audit_head::hash))
                .find(1)
                .first(sqlite)?)
        }
    }
}

/// Appends entries in order, chained, inside the caller's transaction (or
/// its own). All or none.
pub fn append(
    conn: &mut DbConnection,
    entries: &[NewAuditEntry],
    now: DateTime<Utc>,
) -> Result<(), PersistenceError> {
    let timed: Vec<(&NewAuditEntry, DateTime<Utc>)> = entries.iter().map(|e| (e, now)).collect();
    append_timed(conn, &timed)
}

/// Appends entries, each with its own time, in order and chained, in one
/// transaction (the batch writer's group commit). All or none.
pub fn append_timed(
    conn: &mut DbConnection,
    entries: &[(&NewAuditEntry, DateTime<Utc>)],
) -> Result<(), PersistenceError> {
    if entries.is_empty() {
        return Ok(());
    }
    write_transaction(conn, |conn| {
        let (mut seq, mut prev) = lock_head(conn)?;
        let mut rows = Vec::with_capacity(entries.len());
        for (entry, now) in entries {
            let at = to_db(*now);
            seq += 1;
            let record = AuditRecord {
                seq,
                id: uuid::Uuid::now_v7().to_string(),
                at: canonical(at),
                actor_id: entry.actor_id.clone(),
                actor_organisation_id: entry.actor_organisation_id.clone(),
                actor_role: entry.actor_role.clone(),
                action: entry.action.clone(),
                resource_type: entry.resource_type.clone(),
                resource_id: entry.resource_id.clone(),
                outcome: entry.outcome.clone(),
                request_id: entry.request_id.clone(),
                client_addr: entry.client_addr.clone(),
                resource_ids: entry.resource_ids.clone(),
            };
            let hash = chain_hash(&prev, &record);
            rows.push(AuditInsert {
                seq,
                id: record.id,
                at,
                actor_id: record.actor_id,
                actor_organisation_id: record.actor_organisation_id,
                actor_role: record.actor_role,
                action: record.action,
                resource_type: record.resource_type,
                resource_id: record.resource_id,
                outcome: record.outcome,
                request_id: record.request_id,
                client_addr: record.client_addr,
                prev_hash: std::mem::replace(&mut prev, hash.clone()),
                hash,
                resource_ids: record.resource_ids,
            });
        }
        // Multi-row inserts do not compile on the shared connection type:
        // each backend's own connection. PostgreSQL: one statement per batch
        // (one round trip). SQLite, in process: one cached single-row
        // statement per entry, as a multi-row statement is built and parsed
        // anew for every batch size.
        match conn {
            DbConnection::Postgres(pg) => {
                for chunk in rows.chunks(1000) {
                    diesel::insert_into(audit_log::table)
                        .values(chunk)
                        .execute(pg)?;
                }
            }
            DbConnection::Sqlite(sqlite) => {
                for row in &rows {
                    diesel::insert_into(audit_log::table)
                        .values(row)
                        .execute(sqlite)?;
                }
            }
        }
        diesel::update(audit_head::table.find(1))
            .set((audit_head::seq.eq(seq), audit_head::hash.eq(&prev)))
            .execute(conn)?;
        Ok(())
    })
}

/// One row of the log, as inserted.
#[derive(Insertable)]
#[diesel(table_name = audit_log)]
struct AuditInsert {
    seq: i64,
    id: String,
    at: NaiveDateTime,
    actor_id: Option<String>,
    actor_organisation_id: Option<String>,
    actor_role: Option<String>,
    action: String,
    resource_type: String,
    resource_id: Option<String>,
    outcome: String,
    request_id: Option<String>,
    client_addr: Option<String>,
    prev_hash: String,
    hash: String,
    resource_ids: Option<String>,
}

/// Filters of the audit listing.
#[derive(Clone, Debug, Default)]
pub struct AuditFilter {
    pub actor_id: Option<String>,
    pub resource_type: Option<String>,
    pub resource_id: Option<String>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    /// Entries with a smaller sequence number (newest first).
    pub before_seq: Option<i64>,
    pub limit: i64,
}

/// Entries, newest first.
pub fn list(
    conn: &mut DbConnection,
    filter: &AuditFilter,
) -> Result<Vec<AuditRow>, PersistenceError> {
    let mut query = audit_log::table
        .select(audit_log::all_columns)
        .order(audit_log::seq.desc())
        .limit(filter.limit)
        .into_boxed();
    if let Some(actor) = &filter.actor_id {
        query = query.filter(audit_log::actor_id.eq(actor.clone()));
    }
    if let Some(kind) = &filter.resource_type {
        query = query.filter(audit_log::resource_type.eq(kind.clone()));
    }
    if let Some(id) = &filter.resource_id {
        // The record itself, or a list read that showed it: `id` as one of
        // the space-separated ids, whole. Ids are letters, digits and
        // hyphens (no LIKE wildcard); anything else matches only itself.
        let plain = !id.is_empty() && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
        if plain {
            query = query.filter(
                audit_log::resource_id
                    .eq(id.clone())
                    .or(audit_log::resource_ids
                        .eq(id.clone())
                        .or(audit_log::resource_ids.like(format!("{id} %")))
                        .or(audit_log::resource_ids.like(format!("% {id}")))
                        .or(audit_log::resource_ids.like(format!("% {id} %")))),
            );
        } else {
            query = query.filter(audit_log::resource_id.eq(id.clone()));
        }
    }
    if let Some(from) = filter.from {
        query = query.filter(audit_log::at.ge(to_db(from)));
    }
    if let Some(to) = filter.to {
        query = query.filter(audit_log::at.lt(to_db(to)));
    }
    if let Some(before) = filter.before_seq {
        query = query.filter(audit_log::seq.lt(before));
    }
    Ok(query.load(conn)?)
}

/// The outcome of a verification.
#[derive(Debug)]
pub enum Verification {
    /// Every entry from the anchor on is intact.
    Intact { checked: u64 },
    /// The first broken entry.
    Broken(BrokenLink),
}

/// Checks the whole chain from its anchor, in pages, and that the head
/// names the last entry. Reads one snapshot, so entries appended while it
/// runs (a live server) are not mistaken for a broken chain.
pub fn verify_chain(conn: &mut DbConnection) -> Result<Verification, PersistenceError> {
    conn.transaction(|conn| {
        // PostgreSQL's default isolation takes a snapshot per statement;
        // SQLite's read transaction keeps the first read's snapshot.
        if let DbConnection::Postgres(_) = conn {
            conn.batch_execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")?;
        }
        verify_snapshot(conn)
    })
}

fn verify_snapshot(conn: &mut DbConnection) -> Result<Verification, PersistenceError> {
    const PAGE: i64 = 5_000;
    let (head_seq, head_hash, anchor_seq, anchor_hash): (i64, String, i64, String) =
        audit_head::table
            .select((
                audit_head::seq,
                audit_head::hash,
                audit_head::anchor_seq,
                audit_head::anchor_hash,
            ))
            .find(1)
            .first(conn)?;
    let mut checked = 0;
    let (mut last_seq, mut last_hash) = (anchor_seq, anchor_hash);
    loop {
        let rows: Vec<AuditRow> = audit_log::table
            .select(audit_log::all_columns)
            .filter(audit_log::seq.gt(last_seq))
            .order(audit_log::seq.asc())
            .limit(PAGE)
            .load(conn)?;
        let Some(last) = rows.last() else { break };
        let (next_seq, next_hash) = (last.seq, last.hash.clone());
        let records: Vec<AuditRecord> = rows.iter().map(AuditRow::record).collect();
        match verify(
            last_seq,
            &last_hash,
            records
                .iter()
                .zip(&rows)
                .map(|(r, row)| (r, row.prev_hash.as_str(), row.hash.as_str())),
        ) {
            Ok(n) => checked += n,
            Err(broken) => return Ok(Verification::Broken(broken)),
        }
        (last_seq, last_hash) = (next_seq, next_hash);
    }
    if last_seq != head_seq || last_hash != head_hash {
        return Ok(Verification::Broken(BrokenLink {
            seq: head_seq,
            id: String::new(),
            reason: "the newest entries are missing (the head names a later entry)",
        }));
    }
    Ok(Verification::Intact { checked })
}

/// Deletes entries older than `before`, moving the anchor to the last one
/// deleted so the rest still verifies. Returns how many were deleted.
pub fn purge_before(
    conn: &mut DbConnection,
    before: DateTime<Utc>,
) -> Result<usize, PersistenceError> {
    write_transaction(conn, |conn| {
        lock_head(conn)?;
        let last: Option<(i64, String)> = audit_log::table
            .select((audit_log::seq, audit_log::hash))
            .filter(audit_log::at.lt(to_db(before)))
            .order(audit_log::seq.desc())
            .first(conn)
            .optional()?;
        let Some((anchor_seq, anchor_hash)) = last else {
            return Ok(0);
        };
        diesel::insert_into(audit_purge_gate::table)
            .values(audit_purge_gate::open.eq(true))
            .execute(conn)?;
        let deleted =
            diesel::delete(audit_log::table.filter(audit_log::seq.le(anchor_seq))).execute(conn)?;
        diesel::delete(audit_purge_gate::table).execute(conn)?;
        diesel::update(audit_head::table.find(1))
            .set((
                audit_head::anchor_seq.eq(anchor_seq),
                audit_head::anchor_hash.eq(anchor_hash),
            ))
            .execute(conn)?;
        Ok(deleted)
    })
}

/// Lets a test tamper with the log as an attacker with database rights
/// would: drops the append-only guard.
pub fn disable_guard_for_tests(conn: &mut DbConnection) -> Result<(), PersistenceError> {
    match conn {
        DbConnection::Postgres(pg) => {
            pg.batch_execute("ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only")?
        }
        DbConnection::Sqlite(sqlite) => sqlite
            .batch_execute("DROP TRIGGER audit_log_no_update; DROP TRIGGER audit_log_no_delete;")?,
    }
    Ok(())
}
