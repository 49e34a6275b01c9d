//! Writing the audit trail: who did what to which record, with what
//! outcome — never content. Entries for writes go in the write's own
//! transaction. Entries for reads and denials go through the `Auditor`, a
//! writer thread that commits whatever is queued in one transaction (group
//! commit); each request waits for the commit of its entries before it
//! answers, so nothing is lost and a failure to audit fails the request.

use adosexo_domain::identity::Actor;
use adosexo_persistence::audit::{self, NewAuditEntry};
use adosexo_persistence::{Db, PersistenceError};
use chrono::{DateTime, Utc};
use tokio::sync::{mpsc, oneshot};

use std::sync::Arc;
use std::sync::atomic::Ordering;

use crate::context::RequestContext;
use crate::metrics::AuditMetrics;
use crate::problem::ApiError;
use crate::state::AppState;

/// How an audited attempt ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Done.
    Success,
    /// Refused by authorization.
    Denied,
    /// Failed (bad credentials, invalid token).
    Failure,
}

impl Outcome {
    fn as_str(self) -> &'static str {
        match self {
            Self::Success => "success",
            Self::Denied => "denied",
            Self::Failure => "failure",
        }
    }
}

/// An entry for `actor` (or an unidentified caller).
pub fn entry(
    actor: Option<&Actor>,
    ctx: &RequestContext,
    action: &str,
    resource_type: &str,
    resource_id: Option<&str>,
    outcome: Outcome,
) -> NewAuditEntry {
    NewAuditEntry {
        actor_id: actor.map(|a| a.id.clone()),
        actor_organisation_id: actor.map(|a| a.organisation_id.clone()),
        actor_role: actor
            .and_then(|a| a.roles.primary())
            .map(|r| r.as_str().to_owned()),
        action: action.to_owned(),
        resource_type: resource_type.to_owned(),
        resource_id: resource_id.map(str::to_owned),
        outcome: outcome.as_str().to_owned(),
        request_id: ctx.request_id.clone(),
        client_addr: ctx.client_addr.clone(),
        resource_ids: None,
    }
}

/// The entry of a list read that returned `ids`: one entry naming every
/// record shown (`resource_ids`), so that "who saw this record" finds the
/// lists that showed it too.
pub fn list_entry<I, S>(
    actor: Option<&Actor>,
    ctx: &RequestContext,
    action: &str,
    resource_type: &str,
    ids: I,
) -> NewAuditEntry
where
    I: IntoIterator<Item = S>,
    S: AsRef<str>,
{
    let mut listed = entry(actor, ctx, action, resource_type, None, Outcome::Success);
    let ids: Vec<String> = ids.into_iter().map(|id| id.as_ref().to_owned()).collect();
    listed.resource_ids = (!ids.is_empty()).then(|| ids.join(" "));
    listed
}

/// Appends entries now (through the group-commit writer) and waits until
/// they are committed.
pub async fn record(state: &AppState, entries: Vec<NewAuditEntry>) -> Result<(), ApiError> {
    state.auditor.record(entries, state.clock.now()).await
}

/// Largest number of entries committed in one transaction.
const MAX_BATCH: usize = 1024;

/// Why a batch was not committed, shared by every request in it.
#[derive(Clone, Debug)]
enum Failure {
    Unavailable(String),
    Other(String),
}

struct Pending {
    entries: Vec<NewAuditEntry>,
    at: DateTime<Utc>,
    queued: std::time::Instant,
    done: oneshot::Sender<Result<(), Failure>>,
}

/// The queue to the audit writer thread. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Auditor {
    queue: mpsc::Sender<Pending>,
    metrics: Arc<AuditMetrics>,
}

impl Auditor {
    /// Starts the writer thread; it stops when the last `Auditor` is dropped.
    pub fn start(db: Db) -> std::io::Result<Self> {
        let (queue, mut receiver) = mpsc::channel::<Pending>(4 * MAX_BATCH);
        let metrics = Arc::new(AuditMetrics::default());
        let counted = metrics.clone();
        std::thread::Builder::new()
            .name("audit-writer".into())
            .spawn(move || {
                let metrics = counted;
                // No waiting for company: whatever queued while the last
                // commit ran goes into the next one, so batches grow with the
                // load and a lone request is not held back.
                while let Some(first) = receiver.blocking_recv() {
                    let mut count = first.entries.len();
                    let mut batch = vec![first];
                    while count < MAX_BATCH {
                        match receiver.try_recv() {
                            Ok(next) => {
                                count += next.entries.len();
                                batch.push(next);
                            }
                            Err(_) => break,
                        }
                    }
                    let result = {
                        let timed: Vec<(&NewAuditEntry, DateTime<Utc>)> = batch
                            .iter()
                            .flat_map(|p| p.entries.iter().map(|e| (e, p.at)))
                            .collect();
                        db.run_blocking(|conn| audit::append_timed(conn, &timed))
                    };
                    let outcome = result.map_err(|e| match e {
                        PersistenceError::Unavailable(cause) => Failure::Unavailable(cause),
                        other => Failure::Other(other.to_string()),
                    });
                    metrics.batch_entries.observe(count as f64);
                    metrics
                        .waiting
                        .fetch_sub(i64::try_from(count).unwrap_or(i64::MAX), Ordering::Relaxed);
                    if outcome.is_err() {
                        metrics.failures.fetch_add(1, Ordering::Relaxed);
                    }
                    for pending in batch {
                        metrics
                            .commit_lag
                            .observe(pending.queued.elapsed().as_secs_f64());
                        let _ = pending.done.send(outcome.clone());
                    }
                }
            })?;
        Ok(Self { queue, metrics })
    }

    /// What the writer counted so far.
    pub fn metrics(&self) -> &AuditMetrics {
        &self.metrics
    }

    /// Queues entries and waits for their commit.
    pub async fn record(
        &self,
        entries: Vec<NewAuditEntry>,
        at: DateTime<Utc>,
    ) -> Result<(), ApiError> {
        if entries.is_empty() {
            return Ok(());
        }
        let (done, committed) = oneshot::channel();
        let count = i64::try_from(entries.len()).unwrap_or(i64::MAX);
        self.metrics.waiting.fetch_add(count, Ordering::Relaxed);
        let queued = std::time::Instant::now();
        if self
            .queue
            .send(Pending {
                entries,
                at,
                queued,
                done,
            })
            .await
            .is_err()
        {
            self.metrics.waiting.fetch_sub(count, Ordering::Relaxed);
            return Err(ApiError::internal("the audit writer has stopped"));
        }
        match committed.await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(Failure::Unavailable(cause))) => {
                Err(ApiError::unavailable(format!("audit: {cause}")))
            }
            Ok(Err(Failure::Other(cause))) => Err(ApiError::internal(format!("audit: {cause}"))),
            Err(_) => Err(ApiError::internal("the audit writer has stopped")),
        }
    }
}
