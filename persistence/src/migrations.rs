//! Embedded migrations, one set per backend with the same version names.
//! `migrations/README.md` holds the rules for writing them.

use diesel::connection::SimpleConnection;
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

use crate::DbConnection;

/// PostgreSQL migrations.
pub const POSTGRES: EmbeddedMigrations = embed_migrations!("../migrations/postgres");
/// SQLite migrations.
pub const SQLITE: EmbeddedMigrations = embed_migrations!("../migrations/sqlite");

/// Arbitrary key of the advisory lock that serialises migrations when
/// several instances start against one PostgreSQL.
const MIGRATION_LOCK: i64 = 0x61646f_7365786f;

/// Applies what is pending; returns the number applied.
pub(crate) fn run_pending(conn: &mut DbConnection) -> Result<usize, String> {
    match conn {
        DbConnection::Postgres(pg) => {
            pg.batch_execute(&format!("SELECT pg_advisory_lock({MIGRATION_LOCK})"))
                .map_err(|e| e.to_string())?;
            let applied = pg
                .run_pending_migrations(POSTGRES)
                .map(|v| v.len())
                .map_err(|e| e.to_string());
            let unlocked = pg
                .batch_execute(&format!("SELECT pg_advisory_unlock({MIGRATION_LOCK})"))
                .map_err(|e| e.to_string());
            let applied = applied?;
            unlocked?;
            Ok(applied)
        }
        // All in one `BEGIN IMMEDIATE` (each migration a savepoint in it):
        // another process starting at once waits for the write lock
        // (`busy_timeout`), then finds nothing pending, instead of applying
        // the same migrations a second time.
        DbConnection::Sqlite(sqlite) => sqlite
            .immediate_transaction(|conn| {
                conn.run_pending_migrations(SQLITE)
                    .map(|v| v.len())
                    .map_err(|e| Locked::Migration(e.to_string()))
            })
            .map_err(|e| match e {
                Locked::Migration(message) => message,
                Locked::Database(error) => error.to_string(),
            }),
    }
}

/// Why migrations under SQLite's write lock failed.
enum Locked {
    Migration(String),
    Database(diesel::result::Error),
}

impl From<diesel::result::Error> for Locked {
    fn from(error: diesel::result::Error) -> Self {
        Self::Database(error)
    }
}

/// How many migrations are not applied yet.
pub(crate) fn pending_count(conn: &mut DbConnection) -> Result<usize, String> {
    match conn {
        DbConnection::Postgres(pg) => pg.pending_migrations(POSTGRES).map(|v| v.len()),
        DbConnection::Sqlite(sqlite) => sqlite.pending_migrations(SQLITE).map(|v| v.len()),
    }
    .map_err(|e| e.to_string())
}
