//! The retention job: follow-ups whose last contact is older than the
//! retention period move to the restricted archive; after the archive
//! period their personal fields are removed (statistics stay the same).
//! `adosexo retention run [--dry-run]`, and daily while the server runs.

use adosexo_domain::retention::{self, RetentionPolicy, RetentionState, RetentionStep};
use adosexo_persistence::audit::{self, NewAuditEntry};
use adosexo_persistence::retention as store;
use adosexo_persistence::time::from_db;
use adosexo_persistence::{Db, PersistenceError};
use chrono::{DateTime, Utc};
use serde::Serialize;

/// One follow-up the job moved (or would move).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RetentionItem {
    /// The follow-up.
    pub follow_up_id: String,
    /// Its reference.
    pub reference: String,
    /// Its status.
    pub status: String,
    /// Its latest contact.
    pub last_contact: DateTime<Utc>,
}

/// What the job did, or would do on a dry run.
#[derive(Clone, Debug, Default, Serialize)]
pub struct RetentionReport {
    /// Whether nothing was written.
    pub dry_run: bool,
    /// Follow-ups moved to the archive.
    pub archived: Vec<RetentionItem>,
    /// Archived follow-ups whose personal fields were removed.
    pub pseudonymised: Vec<RetentionItem>,
    /// People whose personal fields were removed with them.
    pub people_pseudonymised: usize,
}

fn job_entry(action: &str, resource_type: &str, id: &str) -> NewAuditEntry {
    NewAuditEntry {
        actor_id: Some("job:retention".to_owned()),
        action: action.to_owned(),
        resource_type: resource_type.to_owned(),
        resource_id: Some(id.to_owned()),
        outcome: "success".to_owned(),
        ..Default::default()
    }
}

/// Runs the job at `now`. Each follow-up moves in its own transaction
/// (with its audit entry), so a failure leaves every step either done or
/// not; a rerun picks up where it stopped. Idempotent.
pub async fn run(
    db: &Db,
    policy: RetentionPolicy,
    now: DateTime<Utc>,
    dry_run: bool,
) -> Result<RetentionReport, PersistenceError> {
    let candidates = db.run(store::candidates).await?;
    let mut report = RetentionReport {
        dry_run,
        ..RetentionReport::default()
    };
    for candidate in candidates {
        let last_contact = candidate.last_contact();
        let state = RetentionState {
            last_contact: from_db(last_contact),
            archived_at: candidate.archived_at.map(from_db),
            pseudonymised: false,
        };
        let item = RetentionItem {
            follow_up_id: candidate.follow_up_id.clone(),
            reference: candidate.reference.clone(),
            status: candidate.status.clone(),
            last_contact: from_db(last_contact),
        };
        match retention::step(policy, state, now) {
            RetentionStep::Keep => {}
            RetentionStep::Archive => {
                if !dry_run {
                    let id = candidate.follow_up_id.clone();
                    db.transaction(move |conn| {
                        // Another instance may have archived it meanwhile.
                        if store::archive_entry(conn, &id)?.is_some() {
                            return Ok(());
                        }
                        store::archive(conn, &id, last_contact, now)?;
                        audit::append(conn, &[job_entry("archive", "follow_up", &id)], now)?;
                        Ok::<_, PersistenceError>(())
                    })
                    .await?;
                }
                report.archived.push(item);
            }
            RetentionStep::Pseudonymise => {
                if !dry_run {
                    let id = candidate.follow_up_id.clone();
                    report.people_pseudonymised += db
                        .transaction(move |conn| pseudonymise(conn, &id, now))
                        .await?;
                }
                report.pseudonymised.push(item);
            }
        }
    }
    if !dry_run && !report.pseudonymised.is_empty() {
        scrub(db).await;
    }
    Ok(report)
}

/// After personal data was removed: no freed page or log keeps it
/// ([`Db::scrub_freed_pages`]); a failure is logged, never fatal (the next
/// erasure, retention run or shutdown tries again).
pub async fn scrub(db: &Db) {
    match db.scrub_freed_pages().await {
        Ok(true) => {}
        Ok(false) => tracing::warn!(
            "write-ahead log busy: not truncated after removing personal data; retried at the next erasure or shutdown"
        ),
        Err(e) => {
            tracing::warn!(error = %e, "could not scrub freed pages after removing personal data")
        }
    }
}

/// Removes a follow-up's personal content, then that of each person it
/// concerns whom nothing else obliges keeping. Returns how many people.
fn pseudonymise(
    conn: &mut adosexo_persistence::DbConnection,
    follow_up_id: &str,
    now: DateTime<Utc>,
) -> Result<usize, PersistenceError> {
    store::pseudonymise_follow_up(conn, follow_up_id, now)?;
    let mut entries = vec![job_entry("pseudonymise", "follow_up", follow_up_id)];
    for person in store::people_of_follow_up(conn, follow_up_id)? {
        if retention::may_erase(store::erasure_facts(conn, &person)?).is_ok() {
            store::pseudonymise_person(conn, &person, now)?;
            entries.push(job_entry("pseudonymise", "person", &person));
        }
    }
    audit::append(conn, &entries, now)?;
    Ok(entries.len() - 1)
}
