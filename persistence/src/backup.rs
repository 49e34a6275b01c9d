//! What a backup of the embedded SQLite database is made of and what a
//! restore checks: a consistent snapshot taken while the server writes
//! (`VACUUM INTO`, one read transaction), the schema version, counts of
//! the main tables, the audit chain's head and the notes keys the data
//! needs. Encryption and files are the binary's (`adosexo backup`).

use std::collections::BTreeMap;
use std::path::Path;

use diesel::connection::SimpleConnection;
use diesel::migration::MigrationSource;
use diesel::prelude::*;
use diesel::sqlite::{Sqlite, SqliteConnection};

use crate::error::{PersistenceError, one_line};
use crate::schema::{audit_head, follow_up_notes, webhook_subscriptions};
use crate::{Backend, DbConnection, migrations};

/// Tables counted in a backup's manifest and checked again on restore.
pub const COUNTED_TABLES: &[&str] = &[
    "organisations",
    "accounts",
    "people",
    "referrals",
    "referral_events",
    "follow_ups",
    "follow_up_notes",
    "appointments",
    "group_sessions",
    "consents",
    "erasure_requests",
    "library_files",
    "audit_log",
];

/// What a database holds, as a manifest records it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Inspection {
    /// Applied migrations (versions), ascending.
    pub migrations: Vec<String>,
    /// Rows per table of [`COUNTED_TABLES`].
    pub counts: BTreeMap<String, i64>,
    /// The audit chain's head: sequence number and hash of the newest entry.
    pub audit_head_seq: i64,
    /// Hash of the newest audit entry.
    pub audit_head_hash: String,
    /// The chain's anchor after purges.
    pub audit_anchor_seq: i64,
    /// Ids of the notes keys that sealed stored notes and webhook secrets
    /// (names, not keys): a restore needs each of them.
    pub notes_key_ids: Vec<String>,
}

impl Inspection {
    /// The newest applied migration, or `none`.
    pub fn schema_version(&self) -> &str {
        self.migrations.last().map_or("none", String::as_str)
    }
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

/// Reads the manifest's facts in one read transaction (one snapshot).
pub fn inspect(conn: &mut DbConnection) -> Result<Inspection, PersistenceError> {
    conn.transaction(|conn| {
        if let DbConnection::Postgres(_) = conn {
            conn.batch_execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")?;
        }
        let migrations = applied_migrations(conn).map_err(PersistenceError::Task)?;
        let mut counts = BTreeMap::new();
        for table in COUNTED_TABLES {
            // An older schema may not have every table yet.
            if !table_exists(conn, table)? {
                continue;
            }
            // Table names come from the constant above, never from input.
            let count: Count =
                diesel::sql_query(format!("SELECT COUNT(*) AS n FROM {table}")).get_result(conn)?;
            counts.insert((*table).to_owned(), count.n);
        }
        let (audit_head_seq, audit_head_hash, audit_anchor_seq): (i64, String, i64) =
            audit_head::table
                .select((audit_head::seq, audit_head::hash, audit_head::anchor_seq))
                .find(1)
                .first(conn)?;
        let mut notes_key_ids: Vec<String> = Vec::new();
        if table_exists(conn, "follow_up_notes")? {
            notes_key_ids = follow_up_notes::table
                .select(follow_up_notes::key_id)
                .distinct()
                .load(conn)?;
        }
        if table_exists(conn, "webhook_subscriptions")? {
            let secret_keys: Vec<String> = webhook_subscriptions::table
                .select(webhook_subscriptions::secret_key_id)
                .distinct()
                .load(conn)?;
            notes_key_ids.extend(secret_keys);
        }
        notes_key_ids.sort();
        notes_key_ids.dedup();
        Ok(Inspection {
            migrations,
            counts,
            audit_head_seq,
            audit_head_hash,
            audit_anchor_seq,
            notes_key_ids,
        })
    })
}

/// Whether the schema has this table (bound, never spliced).
fn table_exists(conn: &mut DbConnection, table: &str) -> Result<bool, PersistenceError> {
    use diesel::sql_types::Text;
    let count: Count = match conn {
        DbConnection::Postgres(pg) => diesel::sql_query(
            "SELECT COUNT(*) AS n FROM information_schema.tables \
             WHERE table_schema = current_schema() AND table_name = $1",
        )
        .bind::<Text, _>(table)
        .get_result(pg)?,
        DbConnection::Sqlite(sqlite) => diesel::sql_query(
            "SELECT COUNT(*) AS n FROM sqlite_master WHERE type = 'table' AND name = ?",
        )
        .bind::<Text, _>(table)
        .get_result(sqlite)?,
    };
    Ok(count.n > 0)
}

fn sorted(mut versions: Vec<String>) -> Vec<String> {
    versions.sort();
    versions
}

/// Versions of the migrations applied to this database, ascending. Read
/// from diesel's table with a plain SELECT (diesel's own harness would
/// create the table, refused in a read-only transaction).
pub fn applied_migrations(conn: &mut DbConnection) -> Result<Vec<String>, String> {
    #[derive(QueryableByName)]
    struct Version {
        #[diesel(sql_type = diesel::sql_types::Text)]
        version: String,
    }
    let versions: Vec<Version> =
        diesel::sql_query("SELECT version FROM __diesel_schema_migrations ORDER BY version")
            .load(conn)
            .map_err(|e| e.to_string())?;
    Ok(sorted(versions.into_iter().map(|v| v.version).collect()))
}

/// Versions of the migrations this binary embeds for `backend`, ascending.
pub fn known_migrations(backend: Backend) -> Result<Vec<String>, String> {
    let names = match backend {
        Backend::Postgres => MigrationSource::<diesel::pg::Pg>::migrations(&migrations::POSTGRES)
            .map(|all| all.iter().map(|m| m.name().version().to_string()).collect()),
        Backend::Sqlite => MigrationSource::<Sqlite>::migrations(&migrations::SQLITE)
            .map(|all| all.iter().map(|m| m.name().version().to_string()).collect()),
    }
    .map_err(|e| e.to_string())?;
    Ok(sorted(names))
}

/// A connection to an existing SQLite file, opened for the backup or the
/// restore only (no pool, no writer thread; the file is never created).
pub fn open_sqlite_file(path: &Path) -> Result<DbConnection, PersistenceError> {
    if !path.is_file() {
        return Err(PersistenceError::Unavailable(format!(
            "no SQLite database at {}",
            path.display()
        )));
    }
    let mut conn = SqliteConnection::establish(&path.to_string_lossy())
        .map_err(|e| PersistenceError::Unavailable(one_line(&e.to_string())))?;
    conn.batch_execute("PRAGMA busy_timeout = 5000; PRAGMA foreign_keys = ON;")?;
    Ok(DbConnection::Sqlite(conn))
}

/// Writes a consistent copy of the database `conn` reads into `target`, a
/// file that must not exist yet: `VACUUM INTO` reads one snapshot (every
/// transaction committed before it began, none after, never a torn page)
/// and does not stop the writers of a database in WAL mode.
pub fn vacuum_into(conn: &mut DbConnection, target: &Path) -> Result<(), PersistenceError> {
    let DbConnection::Sqlite(sqlite) = conn else {
        return Err(PersistenceError::Task(
            "VACUUM INTO is for SQLite databases".to_owned(),
        ));
    };
    let target = target.to_str().ok_or_else(|| {
        PersistenceError::Task("the snapshot's path is not valid UTF-8".to_owned())
    })?;
    // A string literal: single quotes doubled.
    let literal = target.replace('\'', "''");
    sqlite.batch_execute(&format!("VACUUM INTO '{literal}'"))?;
    Ok(())
}

/// SQLite's own check of the file's structure (`PRAGMA quick_check`):
/// `Ok(())` or what it found, on one line.
pub fn quick_check(conn: &mut DbConnection) -> Result<Result<(), String>, PersistenceError> {
    #[derive(QueryableByName)]
    struct Line {
        #[diesel(sql_type = diesel::sql_types::Text)]
        quick_check: String,
    }
    let lines: Vec<Line> = diesel::sql_query("PRAGMA quick_check").load(conn)?;
    let found: Vec<String> = lines.into_iter().map(|l| l.quick_check).collect();
    if found.len() == 1 && found.first().is_some_and(|l| l == "ok") {
        Ok(Ok(()))
    } else {
        Ok(Err(one_line(&found.join("; "))))
    }
}

/// Applies the pending migrations of a restored database; how many ran.
pub fn migrate(conn: &mut DbConnection) -> Result<usize, PersistenceError> {
    migrations::run_pending(conn).map_err(PersistenceError::Task)
}

/// Executes again, on a restored database, an erasure decided after its
/// backup (from the erasure journal): the person's personal fields are
/// removed as the erasure did, audited as `replay_erasure` by `cli`.
/// `Ok(false)` when the person is not in this database (created after the
/// backup: nothing to erase).
pub fn replay_erasure(
    conn: &mut DbConnection,
    request_id: &str,
    person_id: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<bool, PersistenceError> {
    use crate::schema::people;
    crate::write_transaction(conn, |conn| {
        let exists: i64 = people::table
            .filter(people::id.eq(person_id))
            .count()
            .get_result(conn)?;
        if exists == 0 {
            return Ok(false);
        }
        crate::retention::pseudonymise_person(conn, person_id, now)?;
        crate::audit::append(
            conn,
            &[crate::audit::NewAuditEntry {
                actor_id: Some("cli".to_owned()),
                action: "replay_erasure".to_owned(),
                resource_type: "erasure_request".to_owned(),
                resource_id: Some(request_id.to_owned()),
                outcome: "success".to_owned(),
                ..Default::default()
            }],
            now,
        )?;
        Ok(true)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::TestDatabase;
    use crate::{DatabaseUrl, Db, PoolOptions};

    #[test]
    fn inspection_and_replay_on_each_backend() {
        let mut databases = vec![TestDatabase::sqlite().expect("sqlite")];
        databases.extend(TestDatabase::postgres().expect("TEST_DATABASE_URL reachable when set"));
        for database in &databases {
            let backend = database.backend();
            let url = DatabaseUrl::parse(database.url()).expect("url");
            let db = Db::connect(&url, PoolOptions::default()).expect("connect");
            db.migrate().expect("migrate");
            let found = db
                .run_blocking(|conn| {
                    crate::audit::append(
                        conn,
                        &[crate::audit::NewAuditEntry {
                            action: "test".to_owned(),
                            resource_type: "test".to_owned(),
                            outcome: "success".to_owned(),
                            ..Default::default()
                        }],
                        chrono::Utc::now(),
                    )?;
                    inspect(conn)
                })
                .expect("inspect");
            assert_eq!(
                found.migrations,
                known_migrations(backend).expect("known"),
                "{backend}"
            );
            assert_eq!(found.counts.len(), COUNTED_TABLES.len(), "{backend}");
            assert_eq!(found.counts.get("audit_log"), Some(&1), "{backend}");
            assert_eq!(found.audit_head_seq, 1, "{backend}");
            assert!(found.notes_key_ids.is_empty(), "{backend}");
            let replayed = db
                .run_blocking(|conn| replay_erasure(conn, "request", "nobody", chrono::Utc::now()))
                .expect("replay");
            assert!(!replayed, "{backend}: no such person, nothing erased");

            if let Some(path) = url.sqlite_path() {
                let copy = path.with_file_name("copy.db");
                db.run_blocking(|conn| vacuum_into(conn, &copy))
                    .expect("vacuum into");
                let mut conn = open_sqlite_file(&copy).expect("open the copy");
                assert_eq!(quick_check(&mut conn).expect("check"), Ok(()));
                assert_eq!(inspect(&mut conn).expect("inspect the copy"), found);
                assert!(
                    vacuum_into(&mut conn, &copy).is_err(),
                    "VACUUM INTO never overwrites"
                );
                assert!(open_sqlite_file(&path.with_file_name("absent.db")).is_err());
            }
        }
    }
}
