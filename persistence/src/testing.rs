//! Fresh databases for tests: a temporary SQLite file, or a PostgreSQL
//! database created on the server `TEST_DATABASE_URL` names and dropped
//! (with its connections) when the value is dropped. Used by this crate's
//! tests and by the end-to-end tests.

use diesel::connection::SimpleConnection;
use diesel::{Connection, PgConnection};

use crate::url::Backend;

/// The environment variable naming the PostgreSQL server for tests.
pub const TEST_DATABASE_URL: &str = "TEST_DATABASE_URL";
/// When set (CI sets it), a test whose PostgreSQL half would be skipped
/// because `TEST_DATABASE_URL` is unset fails instead.
pub const REQUIRE_POSTGRES: &str = "ADOSEXO_TEST_REQUIRE_POSTGRES";

/// The PostgreSQL half of a test is skipped: said aloud once per test
/// binary, or an error when [`REQUIRE_POSTGRES`] is set.
fn skipped() -> Result<Option<TestDatabase>, TestDatabaseError> {
    if std::env::var(REQUIRE_POSTGRES).is_ok_and(|v| !v.trim().is_empty()) {
        return Err(TestDatabaseError(format!(
            "{TEST_DATABASE_URL} is unset and {REQUIRE_POSTGRES} is set: the PostgreSQL half of this test would be skipped"
        )));
    }
    static SAID: std::sync::Once = std::sync::Once::new();
    SAID.call_once(|| {
        use std::io::Write as _;
        // Written to the process's stderr, not through `eprintln!`, which
        // the test harness captures and shows only for failing tests.
        let _ = writeln!(
            std::io::stderr(),
            "skipped: the PostgreSQL half of every both-backends test ({TEST_DATABASE_URL} is unset)"
        );
    });
    Ok(None)
}

/// A database that exists for one test.
#[derive(Debug)]
pub struct TestDatabase {
    url: String,
    backend: Backend,
    cleanup: Cleanup,
}

#[derive(Debug)]
enum Cleanup {
    Sqlite(
        #[expect(dead_code, reason = "held for its Drop, which deletes the folder")]
        tempfile::TempDir,
    ),
    Postgres {
        admin_url: String,
        name: String,
    },
}

/// Why a test database could not be made.
#[derive(Debug, thiserror::Error)]
#[error("cannot create a test database: {0}")]
pub struct TestDatabaseError(String);

impl TestDatabase {
    /// A new SQLite database in a temporary folder.
    pub fn sqlite() -> Result<Self, TestDatabaseError> {
        let dir = tempfile::tempdir().map_err(|e| TestDatabaseError(e.to_string()))?;
        let url = format!("sqlite://{}", dir.path().join("adosexo.db").display());
        Ok(Self {
            url,
            backend: Backend::Sqlite,
            cleanup: Cleanup::Sqlite(dir),
        })
    }

    /// A new PostgreSQL database when `TEST_DATABASE_URL` is set; `Ok(None)`
    /// when it is not (said once on stderr, past the test harness's
    /// capture), or an error when [`REQUIRE_POSTGRES`] is set too (CI); an
    /// error when the server is unreachable.
    pub fn postgres() -> Result<Option<Self>, TestDatabaseError> {
        let Some(admin_url) = std::env::var(TEST_DATABASE_URL)
            .ok()
            .filter(|u| !u.trim().is_empty())
        else {
            return skipped();
        };
        let name = format!("adosexo_test_{}", uuid::Uuid::new_v4().simple());
        let mut admin = PgConnection::establish(&admin_url)
            .map_err(|e| TestDatabaseError(format!("{TEST_DATABASE_URL} is unreachable: {e}")))?;
        admin
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .map_err(|e| TestDatabaseError(e.to_string()))?;
        Ok(Some(Self {
            url: with_database_name(&admin_url, &name),
            backend: Backend::Postgres,
            cleanup: Cleanup::Postgres { admin_url, name },
        }))
    }

    /// Its URL, for `DATABASE_URL`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Its backend.
    pub fn backend(&self) -> Backend {
        self.backend
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if let Cleanup::Postgres { admin_url, name } = &self.cleanup {
            // FORCE ends the connections still pooled (PostgreSQL 13+).
            if let Ok(mut admin) = PgConnection::establish(admin_url) {
                let _ =
                    admin.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
            }
        }
    }
}

/// The same server URL with another database name.
pub fn with_database_name(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let authority_start = base.find("://").map_or(0, |i| i + 3);
    let server = match base.get(authority_start..).and_then(|rest| rest.find('/')) {
        Some(slash) => base.get(..authority_start + slash).unwrap_or(base),
        None => base,
    };
    match query {
        Some(query) => format!("{server}/{name}?{query}"),
        None => format!("{server}/{name}"),
    }
}

/// Runs raw SQL on a database (tests that play an attacker with database
/// rights, or inspect raw storage).
pub async fn execute_sql(db: &crate::Db, sql: &str) -> Result<(), crate::PersistenceError> {
    let sql = sql.to_owned();
    db.run(move |conn| {
        diesel::connection::SimpleConnection::batch_execute(conn, &sql)?;
        Ok(())
    })
    .await
}

/// Rewrites audit entry `seq` in SQL, past the append-only guard: what
/// someone with database rights could do (tests of the chain check).
pub async fn edit_audit_entry(database_url: &str, seq: i64) -> Result<(), String> {
    let url = crate::DatabaseUrl::parse(database_url).map_err(|e| e.to_string())?;
    let db = crate::Db::connect(&url, crate::PoolOptions::default()).map_err(|e| e.to_string())?;
    db.run(crate::audit::disable_guard_for_tests)
        .await
        .map_err(|e| e.to_string())?;
    execute_sql(
        &db,
        &format!("UPDATE audit_log SET action = 'nothing to see' WHERE seq = {seq}"),
    )
    .await
    .map_err(|e| e.to_string())
}

/// How many rows of `follow_up_notes` hold `needle` in any stored column
/// (tests proving that notes are sealed at rest).
pub async fn notes_storing(db: &crate::Db, needle: &str) -> Result<i64, crate::PersistenceError> {
    use crate::schema::follow_up_notes as notes;
    use diesel::prelude::*;
    let pattern = format!("%{needle}%");
    db.run(move |conn| {
        Ok(notes::table
            .filter(
                notes::ciphertext
                    .like(pattern.clone())
                    .or(notes::nonce.like(pattern.clone()))
                    .or(notes::kind.like(pattern.clone()))
                    .or(notes::key_id.like(pattern.clone())),
            )
            .count()
            .get_result(conn)?)
    })
    .await
}

/// Every `(table, column)` of text (TEXT, VARCHAR, JSON, BLOB on SQLite)
/// of the database the connection reaches, ordered.
pub fn text_columns(
    conn: &mut crate::DbConnection,
) -> Result<Vec<(String, String)>, crate::PersistenceError> {
    use diesel::prelude::*;
    use diesel::sql_types::Text;

    #[derive(QueryableByName)]
    struct Column {
        #[diesel(sql_type = Text)]
        table_name: String,
        #[diesel(sql_type = Text)]
        column_name: String,
    }
    let columns: Vec<Column> = match conn {
        crate::DbConnection::Postgres(pg) => diesel::sql_query(
            "SELECT table_name::text AS table_name, column_name::text AS column_name \
             FROM information_schema.columns WHERE table_schema = current_schema() \
             AND data_type IN ('text', 'character varying', 'character', 'json', 'jsonb', 'bytea') \
             ORDER BY table_name, column_name",
        )
        .load(pg)?,
        crate::DbConnection::Sqlite(sqlite) => diesel::sql_query(
            "SELECT m.name AS table_name, c.name AS column_name FROM sqlite_master m \
             JOIN pragma_table_info(m.name) c WHERE m.type = 'table' \
             AND m.name NOT LIKE 'sqlite_%' \
             AND (upper(c.type) LIKE '%TEXT%' OR upper(c.type) LIKE '%CHAR%' \
             OR upper(c.type) LIKE '%BLOB%' OR c.type = '') ORDER BY 1, 2",
        )
        .load(sqlite)?,
    };
    Ok(columns
        .into_iter()
        .map(|c| (c.table_name, c.column_name))
        .collect())
}

/// Every `table.column` of text whose stored value holds `needle`, in
/// every table of the database (tests proving that erased text is gone).
pub async fn text_columns_holding(
    db: &crate::Db,
    needle: &str,
) -> Result<Vec<String>, crate::PersistenceError> {
    use diesel::prelude::*;
    use diesel::sql_types::{BigInt, Text};

    #[derive(QueryableByName)]
    struct Count {
        #[diesel(sql_type = BigInt)]
        n: i64,
    }
    let pattern = format!("%{needle}%");
    db.run(move |conn| {
        let mut holding = Vec::new();
        for (table, column) in text_columns(conn)? {
            let found: Count = match conn {
                crate::DbConnection::Postgres(pg) => {
                    let cast = if table == "library_files" && column == "content" {
                        format!("encode(\"{column}\", 'escape')")
                    } else {
                        format!("\"{column}\"::text")
                    };
                    diesel::sql_query(format!(
                        "SELECT COUNT(*) AS n FROM \"{table}\" WHERE {cast} LIKE $1"
                    ))
                    .bind::<Text, _>(&pattern)
                    .get_result(pg)?
                }
                crate::DbConnection::Sqlite(sqlite) => diesel::sql_query(format!(
                    "SELECT COUNT(*) AS n FROM \"{table}\" WHERE CAST(\"{column}\" AS TEXT) LIKE ?"
                ))
                .bind::<Text, _>(&pattern)
                .get_result(sqlite)?,
            };
            if found.n > 0 {
                holding.push(format!("{table}.{column}"));
            }
        }
        Ok(holding)
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_names_are_replaced() {
        assert_eq!(
            with_database_name("postgres://root@127.0.0.1:5432/postgres", "x"),
            "postgres://root@127.0.0.1:5432/x"
        );
        assert_eq!(
            with_database_name("postgresql://u:p@h/db?sslmode=disable", "x"),
            "postgresql://u:p@h/x?sslmode=disable"
        );
        assert_eq!(
            with_database_name("postgres://h:5432", "x"),
            "postgres://h:5432/x"
        );
    }
}
