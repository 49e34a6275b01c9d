//! The connection type shared by both backends, its pool, and the bridge
//! from async handlers to synchronous diesel.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use diesel::connection::SimpleConnection;
use diesel::pg::PgConnection;
use diesel::r2d2::{self, ManageConnection, Pool, PooledConnection};
use diesel::sqlite::SqliteConnection;
use diesel::{Connection, ConnectionError};

use crate::error::{PersistenceError, StartupError, one_line};
use crate::group_commit::GroupWriter;
use crate::metrics::{DbMetrics, PoolState};
use crate::migrations;
use crate::url::{Backend, DatabaseUrl};

/// One diesel connection over either backend. Queries written against it
/// compile for both; the few that cannot (upserts, `ILIKE`, …) match on the
/// variant and say why.
#[derive(diesel::MultiConnection)]
pub enum DbConnection {
    /// PostgreSQL (production).
    Postgres(PgConnection),
    /// SQLite (embedded default).
    Sqlite(SqliteConnection),
}

impl std::fmt::Debug for DbConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Postgres(_) => "DbConnection::Postgres",
            Self::Sqlite(_) => "DbConnection::Sqlite",
        })
    }
}

/// Applied to every new SQLite connection: wait for locks instead of failing
/// at once (first, or the others can fail), write-ahead log, foreign keys.
/// The log is cut back to 64 MiB once checkpointed: readers that hold a
/// snapshot while writes go on (a long audit verification) can make it
/// grow without bound meanwhile, and SQLite would otherwise keep the file
/// at its largest.
///
/// `secure_delete` zeroes what a delete or an update frees, in the pages
/// written: erased text does not linger in free space (the log is
/// checkpointed and truncated after an erasure, [`Db::scrub_freed_pages`]).
const SQLITE_PRAGMAS: &str = "PRAGMA busy_timeout = 5000; \
     PRAGMA secure_delete = ON; \
     PRAGMA journal_mode = WAL; \
     PRAGMA journal_size_limit = 67108864; \
     PRAGMA synchronous = NORMAL; \
     PRAGMA foreign_keys = ON;";

/// Opens connections of the backend the URL names, and only that one (the
/// derived `MultiConnection::establish` would silently try the other).
#[derive(Debug)]
pub(crate) struct Manager {
    url: DatabaseUrl,
}

impl Manager {
    pub(crate) fn establish(&self) -> Result<DbConnection, ConnectionError> {
        match &self.url {
            DatabaseUrl::Postgres(_) => {
                PgConnection::establish(&self.url.expose()).map(DbConnection::Postgres)
            }
            DatabaseUrl::Sqlite(_) => {
                let mut conn = SqliteConnection::establish(&self.url.expose())?;
                conn.batch_execute(SQLITE_PRAGMAS)
                    .map_err(ConnectionError::CouldntSetupConfiguration)?;
                Ok(DbConnection::Sqlite(conn))
            }
        }
    }
}

impl ManageConnection for Manager {
    type Connection = DbConnection;
    type Error = ConnectionError;

    fn connect(&self) -> Result<DbConnection, ConnectionError> {
        self.establish()
    }

    fn is_valid(&self, conn: &mut DbConnection) -> Result<(), ConnectionError> {
        conn.batch_execute("SELECT 1")
            .map_err(ConnectionError::CouldntSetupConfiguration)
    }

    fn has_broken(&self, conn: &mut DbConnection) -> bool {
        use diesel::r2d2::R2D2Connection;
        std::thread::panicking() || conn.is_broken()
    }
}

/// Pool sizing and time-outs.
#[derive(Clone, Copy, Debug)]
pub struct PoolOptions {
    /// Connections kept at most.
    pub max_size: u32,
    /// How long a request waits for a connection before the database is
    /// reported unavailable.
    pub connection_timeout: Duration,
}

impl Default for PoolOptions {
    fn default() -> Self {
        Self {
            max_size: 8,
            connection_timeout: Duration::from_secs(5),
        }
    }
}

/// The database: a pool of connections to one backend. Cheap to clone.
#[derive(Clone)]
pub struct Db {
    pool: Pool<Manager>,
    url: DatabaseUrl,
    /// The thread that commits this process's writes in groups
    /// ([`Db::transaction`]).
    writer: GroupWriter,
    /// What the pool and the writer count, for `/metrics`.
    metrics: Arc<DbMetrics>,
}

impl std::fmt::Debug for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Db")
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

impl Db {
    /// Connects once to surface the real error (unreachable server, wrong
    /// password, unwritable file), then builds the pool. Creates the folder
    /// of a SQLite file on first run.
    pub fn connect(url: &DatabaseUrl, options: PoolOptions) -> Result<Self, StartupError> {
        let sqlite_dir = url
            .sqlite_path()
            .and_then(|path| path.parent())
            .filter(|dir| !dir.as_os_str().is_empty());
        if let Some(dir) = sqlite_dir {
            std::fs::create_dir_all(dir).map_err(|e| StartupError::CreateDir {
                path: dir.display().to_string(),
                reason: e.to_string(),
            })?;
        }
        let manager = Manager { url: url.clone() };
        let first = manager.establish().map_err(|e| StartupError::Connect {
            backend: url.backend(),
            target: url.to_string(),
            reason: one_line(&e.to_string()),
        })?;
        drop(first);
        let pool = Pool::builder()
            .max_size(options.max_size)
            .min_idle(Some(1))
            // No `SELECT 1` before every use: a broken connection fails its
            // request (503) and is replaced (`has_broken`).
            .test_on_check_out(false)
            .connection_timeout(options.connection_timeout)
            .error_handler(Box::new(r2d2::NopErrorHandler))
            .build_unchecked(manager);
        let metrics = Arc::new(DbMetrics::default());
        let writer =
            GroupWriter::start(Manager { url: url.clone() }, metrics.clone()).map_err(|e| {
                StartupError::Connect {
                    backend: url.backend(),
                    target: url.to_string(),
                    reason: format!("cannot start the writer thread: {e}"),
                }
            })?;
        Ok(Self {
            pool,
            url: url.clone(),
            writer,
            metrics,
        })
    }

    /// After an erasure or a pseudonymisation has committed: on SQLite,
    /// copies the write-ahead log into the database and truncates it, so
    /// the log's old pages (which still held the erased text) are gone, and
    /// the freed space of the database was zeroed by `secure_delete`; on
    /// PostgreSQL, `VACUUM`s the tables that hold personal data, so the
    /// dead row versions are reclaimed (their bytes stay until reused:
    /// docs/SECURITY.md). Returns whether the log was fully truncated
    /// (always true on PostgreSQL); a reader holding an old snapshot can
    /// delay it on SQLite, and the next erasure or shutdown tries again.
    pub async fn scrub_freed_pages(&self) -> Result<bool, PersistenceError> {
        self.run(|conn| match conn {
            DbConnection::Sqlite(sqlite) => {
                #[derive(diesel::QueryableByName)]
                struct Checkpoint {
                    #[diesel(sql_type = diesel::sql_types::Integer)]
                    busy: i32,
                }
                let mut done = false;
                for attempt in 0..5_u64 {
                    let result: Checkpoint = diesel::RunQueryDsl::get_result(
                        diesel::sql_query("PRAGMA wal_checkpoint(TRUNCATE)"),
                        sqlite,
                    )?;
                    if result.busy == 0 {
                        done = true;
                        break;
                    }
                    std::thread::sleep(std::time::Duration::from_millis(20 * (attempt + 1)));
                }
                Ok(done)
            }
            DbConnection::Postgres(pg) => {
                let tables: Vec<&str> = crate::inventory::TABLES
                    .iter()
                    .filter(|t| t.of_person.is_some() || t.of_follow_up.is_some())
                    .map(|t| t.name)
                    .collect();
                pg.batch_execute(&format!("VACUUM {}", tables.join(", ")))?;
                Ok(true)
            }
        })
        .await
    }

    /// Which backend this is.
    pub fn backend(&self) -> Backend {
        self.url.backend()
    }

    /// Applies pending migrations; returns how many ran.
    pub fn migrate(&self) -> Result<usize, StartupError> {
        let mut conn = self
            .checkout()
            .map_err(|e| StartupError::Migrate(e.to_string()))?;
        migrations::run_pending(&mut conn).map_err(StartupError::Migrate)
    }

    fn checkout(&self) -> Result<PooledConnection<Manager>, PersistenceError> {
        let started = Instant::now();
        let conn = self.pool.get();
        self.metrics
            .checkout_wait
            .observe(started.elapsed().as_secs_f64());
        conn.map_err(|e| {
            self.metrics
                .checkout_failures
                .fetch_add(1, Ordering::Relaxed);
            PersistenceError::Unavailable(one_line(&e.to_string()))
        })
    }

    /// What the pool and the writer counted so far.
    pub fn metrics(&self) -> &DbMetrics {
        &self.metrics
    }

    /// The pool's connections now.
    pub fn pool_state(&self) -> PoolState {
        let state = self.pool.state();
        PoolState {
            connections: state.connections,
            idle: state.idle_connections,
            max: self.pool.max_size(),
        }
    }

    /// Runs `work` with a pooled connection on tokio's blocking pool, inside
    /// the caller's tracing span.
    pub async fn run<T, E, F>(&self, work: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<PersistenceError> + Send + 'static,
        F: FnOnce(&mut DbConnection) -> Result<T, E> + Send + 'static,
    {
        let db = self.clone();
        let span = tracing::Span::current();
        let trace = crate::trace::current();
        tokio::task::spawn_blocking(move || {
            let _entered = span.enter();
            let _trace = crate::trace::enter(trace);
            let mut conn = db.checkout()?;
            work(&mut conn)
        })
        .await
        .map_err(|e| E::from(PersistenceError::Task(e.to_string())))?
    }

    /// Runs `work` with a pooled connection on the calling thread (for
    /// threads of our own, never on the async executor).
    pub fn run_blocking<T, E, F>(&self, work: F) -> Result<T, E>
    where
        E: From<PersistenceError>,
        F: FnOnce(&mut DbConnection) -> Result<T, E>,
    {
        let mut conn = self.checkout()?;
        work(&mut conn)
    }

    /// Runs `work` in a write transaction: all or nothing. Any error of
    /// `work` rolls back and is returned as is. It is handed to the writer
    /// thread, which commits the writes waiting together, each in its own
    /// savepoint, and answers only after the commit (group commit, see
    /// `group_commit`): one commit, one lock of the audit chain's head and
    /// one flush of the log for many writes, on both backends.
    pub async fn transaction<T, E, F>(&self, work: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<PersistenceError> + Send + 'static,
        F: FnOnce(&mut DbConnection) -> Result<T, E> + Send + 'static,
    {
        self.writer.write(work).await
    }

    /// Whether the database answers and every migration is applied.
    pub async fn readiness(&self) -> Result<(), PersistenceError> {
        self.run(|conn| {
            conn.batch_execute("SELECT 1")?;
            match migrations::pending_count(conn) {
                Ok(0) => Ok(()),
                Ok(n) => Err(PersistenceError::Unavailable(format!(
                    "{n} migration(s) not applied"
                ))),
                Err(e) => Err(PersistenceError::Unavailable(e)),
            }
        })
        .await
    }
}

/// Runs `work` in [`write_transaction`] (a savepoint when a transaction is
/// already open, as in the SQLite group commit); an error of `work` rolls
/// back and is returned as is.
pub(crate) fn transact<T, E, F>(conn: &mut DbConnection, work: F) -> Result<T, E>
where
    E: From<PersistenceError>,
    F: FnOnce(&mut DbConnection) -> Result<T, E>,
{
    let mut failure = None;
    write_transaction(conn, |conn| {
        work(conn).map_err(|e| {
            failure = Some(e);
            diesel::result::Error::RollbackTransaction
        })
    })
    .map_err(|error| failure.unwrap_or_else(|| E::from(PersistenceError::from(error))))
}

/// The turn of this process's SQLite writers (see [`write_transaction`]).
pub(crate) static SQLITE_WRITER: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// A transaction that will write. On SQLite it begins `IMMEDIATE`, taking
/// the write lock at once (waiting up to `busy_timeout`): a deferred
/// transaction that read first could not upgrade later and would fail with
/// "database is locked". Nested calls become savepoints.
pub fn write_transaction<T, E, F>(conn: &mut DbConnection, work: F) -> Result<T, E>
where
    F: FnOnce(&mut DbConnection) -> Result<T, E>,
    E: From<diesel::result::Error>,
{
    use diesel::connection::{AnsiTransactionManager, TransactionManager};
    type Manager = <DbConnection as Connection>::TransactionManager;
    match conn {
        DbConnection::Sqlite(inner) => {
            let depth = AnsiTransactionManager::transaction_manager_status_mut(inner)
                .transaction_depth()?;
            if depth.is_some() {
                return conn.transaction(work);
            }
        }
        DbConnection::Postgres(_) => return conn.transaction(work),
    }
    // SQLite has one writer at a time. Writers of this process queue here
    // instead of in SQLite's busy handler, whose growing sleeps (up to
    // 100 ms a try) made the slowest writes under load wait for nothing.
    let _writer = SQLITE_WRITER
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if let DbConnection::Sqlite(inner) = conn {
        AnsiTransactionManager::begin_transaction_sql(inner, "BEGIN IMMEDIATE")?;
    }
    match work(conn) {
        Ok(value) => {
            Manager::commit_transaction(conn)?;
            Ok(value)
        }
        Err(error) => {
            Manager::rollback_transaction(conn)?;
            Err(error)
        }
    }
}

/// Runs SQL text as is (bulk loads of generated, trusted rows).
pub fn execute_script(conn: &mut DbConnection, sql: &str) -> Result<(), PersistenceError> {
    conn.batch_execute(sql)?;
    Ok(())
}
