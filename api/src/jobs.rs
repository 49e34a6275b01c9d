//! Daily jobs the server runs while it serves (also `adosexo jobs run …`
//! and `adosexo retention run`).

use adosexo_domain::retention::RetentionPolicy;
use adosexo_persistence::Db;

use crate::context::Clock;

/// One day.
const DAY: std::time::Duration = std::time::Duration::from_secs(24 * 60 * 60);

/// Runs the majority and retention jobs now, then once a day, for as long
/// as the server runs; also forgets `Idempotency-Key`s older than
/// `idempotency_ttl`. Logs counts only (no personal data).
pub async fn daily(
    db: Db,
    clock: Clock,
    retention: RetentionPolicy,
    idempotency_ttl: std::time::Duration,
) {
    loop {
        let not_before = clock.now()
            - chrono::Duration::from_std(idempotency_ttl).unwrap_or(chrono::Duration::hours(24));
        match db
            .transaction(move |conn| {
                adosexo_persistence::idempotency::purge_expired(conn, not_before)
            })
            .await
        {
            Ok(purged) => tracing::info!(job = "idempotency", purged, "daily job done"),
            Err(e) => tracing::error!(job = "idempotency", error = %e, "daily job failed"),
        }
        match crate::routes::consents::run_majority(&db, clock.now()).await {
            Ok(report) => tracing::info!(
                job = "majority",
                lapsed = report.lapsed,
                to_recollect = report.to_recollect.len(),
                "daily job done"
            ),
            Err(e) => tracing::error!(job = "majority", error = %e, "daily job failed"),
        }
        match crate::retention::run(&db, retention, clock.now(), false).await {
            Ok(report) => tracing::info!(
                job = "retention",
                archived = report.archived.len(),
                pseudonymised = report.pseudonymised.len(),
                "daily job done"
            ),
            Err(e) => tracing::error!(job = "retention", error = %e, "daily job failed"),
        }
        actix_web::rt::time::sleep(DAY).await;
    }
}
