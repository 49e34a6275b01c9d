//! Group commit of writes, on both backends.
//!
//! SQLite has one writer at a time; on PostgreSQL every write appends to the
//! audit chain and so holds its head's row lock until it commits, which made
//! writes commit (and flush the log) one after the other. Instead of each
//! request taking the lock, running its transaction and committing in turn,
//! requests hand their transaction to one writer thread. The thread opens
//! one transaction, runs every write waiting in the queue, each in its own
//! savepoint, commits once, and only then answers each request. A write
//! that fails rolls back its savepoint alone; a commit that fails fails
//! every write of the batch, and nothing of it is stored. Nobody is
//! answered before the commit that holds their write has succeeded.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use diesel::Connection;
use diesel::connection::{AnsiTransactionManager, TransactionManager};
use tokio::sync::{mpsc, oneshot};

use crate::connection::{DbConnection, Manager, SQLITE_WRITER, transact};
use crate::error::{PersistenceError, one_line};
use crate::metrics::DbMetrics;

/// Most writes committed together.
const MAX_BATCH: usize = 64;
/// A batch takes no more writes once it has run this long, so the first
/// write of a batch is not held back by a long queue behind it.
const MAX_BATCH_TIME: Duration = Duration::from_millis(10);
/// Writes waiting at most; beyond, a write is refused at once (503) rather
/// than queued without bound.
const QUEUE: usize = 1024;

/// Why a batch was not committed: given to every write in it.
#[derive(Clone, Debug)]
enum Failure {
    Unavailable(String),
    Other(String),
}

impl Failure {
    fn of(error: &PersistenceError) -> Self {
        match error {
            PersistenceError::Unavailable(cause) => Self::Unavailable(cause.clone()),
            other => Self::Other(other.to_string()),
        }
    }

    fn into_error(self) -> PersistenceError {
        match self {
            Self::Unavailable(cause) => PersistenceError::Unavailable(cause),
            Self::Other(cause) => PersistenceError::Task(cause),
        }
    }
}

/// A write waiting for its turn.
trait Write: Send {
    /// Runs the write in a savepoint of the open transaction.
    fn run(self: Box<Self>, conn: &mut DbConnection) -> Box<dyn Settle>;
    /// Answers without running: the batch could not begin.
    fn refuse(self: Box<Self>, failure: Failure);
}

/// A write that ran, waiting for the commit to answer.
trait Settle: Send {
    fn settle(self: Box<Self>, commit: Result<(), Failure>);
}

struct Pending<T, E, F> {
    work: F,
    reply: oneshot::Sender<Result<T, E>>,
    span: tracing::Span,
    trace: Option<String>,
}

struct Ran<T, E> {
    result: Result<T, E>,
    reply: oneshot::Sender<Result<T, E>>,
}

impl<T, E, F> Write for Pending<T, E, F>
where
    T: Send + 'static,
    E: From<PersistenceError> + Send + 'static,
    F: FnOnce(&mut DbConnection) -> Result<T, E> + Send + 'static,
{
    fn run(self: Box<Self>, conn: &mut DbConnection) -> Box<dyn Settle> {
        let Self {
            work,
            reply,
            span,
            trace,
        } = *self;
        let _entered = span.enter();
        let _trace = crate::trace::enter(trace);
        // Inside the batch's transaction: a savepoint of its own.
        let result = transact(conn, work);
        Box::new(Ran { result, reply })
    }

    fn refuse(self: Box<Self>, failure: Failure) {
        let _ = self.reply.send(Err(E::from(failure.into_error())));
    }
}

impl<T, E> Settle for Ran<T, E>
where
    T: Send + 'static,
    E: From<PersistenceError> + Send + 'static,
{
    fn settle(self: Box<Self>, commit: Result<(), Failure>) {
        let answer = match (commit, self.result) {
            (Ok(()), result) => result,
            // The write's own refusal stands (nothing of it was kept anyway).
            (Err(_), Err(refused)) => Err(refused),
            (Err(failure), Ok(_)) => Err(E::from(failure.into_error())),
        };
        // The caller may have gone (client disconnected): its write stands.
        let _ = self.reply.send(answer);
    }
}

/// The queue to the writer thread. Cheap to clone; the thread stops when
/// the last clone is dropped, after the writes already queued.
#[derive(Clone, Debug)]
pub(crate) struct GroupWriter {
    queue: mpsc::Sender<Box<dyn Write>>,
    metrics: Arc<DbMetrics>,
}

impl GroupWriter {
    /// Starts the writer thread, with a connection of its own (opened at the
    /// first write, and again after a failure that may have broken it).
    pub(crate) fn start(manager: Manager, metrics: Arc<DbMetrics>) -> std::io::Result<Self> {
        let (queue, mut receiver) = mpsc::channel::<Box<dyn Write>>(QUEUE);
        let counted = metrics.clone();
        std::thread::Builder::new()
            .name("db-writer".into())
            .spawn(move || {
                let metrics = counted;
                let mut connection: Option<DbConnection> = None;
                while let Some(first) = receiver.blocking_recv() {
                    metrics.writes_waiting.fetch_sub(1, Ordering::Relaxed);
                    let conn = match connection.as_mut() {
                        Some(conn) => conn,
                        None => match manager.establish() {
                            Ok(conn) => connection.insert(conn),
                            Err(error) => {
                                first.refuse(Failure::Unavailable(one_line(&error.to_string())));
                                continue;
                            }
                        },
                    };
                    if let Batch::ConnectionSuspect =
                        commit_batch(conn, first, &mut receiver, &metrics)
                    {
                        connection = None;
                    }
                }
            })?;
        Ok(Self { queue, metrics })
    }

    /// Queues `work` and waits until the transaction holding it commits.
    pub(crate) async fn write<T, E, F>(&self, work: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<PersistenceError> + Send + 'static,
        F: FnOnce(&mut DbConnection) -> Result<T, E> + Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        let pending = Box::new(Pending {
            work,
            reply,
            span: tracing::Span::current(),
            trace: crate::trace::current(),
        });
        self.metrics.writes_waiting.fetch_add(1, Ordering::Relaxed);
        self.queue.try_send(pending).map_err(|error| {
            self.metrics.writes_waiting.fetch_sub(1, Ordering::Relaxed);
            E::from(match error {
                mpsc::error::TrySendError::Full(_) => {
                    PersistenceError::Unavailable("too many writes are waiting".into())
                }
                mpsc::error::TrySendError::Closed(_) => {
                    PersistenceError::Task("the database writer has stopped".into())
                }
            })
        })?;
        answer.await.map_err(|_| {
            E::from(PersistenceError::Task(
                "the write did not complete (the writer failed while running it)".into(),
            ))
        })?
    }
}

enum Batch {
    Done,
    ConnectionSuspect,
}

/// One transaction: `first`, then whatever else is queued, each in a
/// savepoint; one commit; then every answer.
fn commit_batch(
    conn: &mut DbConnection,
    first: Box<dyn Write>,
    receiver: &mut mpsc::Receiver<Box<dyn Write>>,
    metrics: &DbMetrics,
) -> Batch {
    type Manager = <DbConnection as Connection>::TransactionManager;
    // The turn of this process's writers: on SQLite, `write_transaction`'s
    // too (on PostgreSQL only this thread takes it; tests hold it to gather
    // a batch).
    let _turn = SQLITE_WRITER
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let began = match conn {
        DbConnection::Sqlite(inner) => {
            AnsiTransactionManager::begin_transaction_sql(inner, "BEGIN IMMEDIATE")
        }
        DbConnection::Postgres(_) => Manager::begin_transaction(conn),
    };
    if let Err(error) = began {
        first.refuse(Failure::of(&PersistenceError::from(error)));
        return Batch::ConnectionSuspect;
    }
    let started = Instant::now();
    let mut ran: Vec<Box<dyn Settle>> = Vec::new();
    let mut next = Some(first);
    while let Some(write) = next.take() {
        match catch_unwind(AssertUnwindSafe(|| write.run(conn))) {
            Ok(settle) => ran.push(settle),
            Err(_) => {
                // A bug in one write: its savepoint may still be open, so
                // nothing of this batch can be trusted. Roll all back.
                abandon(conn);
                settle_all(
                    ran,
                    Err(Failure::Other(
                        "another write of the same commit failed; nothing was stored".into(),
                    )),
                );
                return Batch::ConnectionSuspect;
            }
        }
        if !at_top_level(conn) {
            // A savepoint could not be released or rolled back: the
            // transaction is in an unknown state. Roll all back.
            abandon(conn);
            settle_all(
                ran,
                Err(Failure::Other(
                    "the transaction failed; nothing of this write was stored".into(),
                )),
            );
            return Batch::ConnectionSuspect;
        }
        if ran.len() < MAX_BATCH && started.elapsed() < MAX_BATCH_TIME {
            next = receiver.try_recv().ok();
            if next.is_some() {
                metrics.writes_waiting.fetch_sub(1, Ordering::Relaxed);
            }
        }
    }
    let committed = Manager::commit_transaction(conn);
    metrics.batch_writes.observe(ran.len() as f64);
    metrics
        .batch_seconds
        .observe(started.elapsed().as_secs_f64());
    match committed {
        Ok(()) => {
            settle_all(ran, Ok(()));
            Batch::Done
        }
        Err(error) => {
            let failure = Failure::of(&PersistenceError::from(error));
            abandon(conn);
            settle_all(ran, Err(failure));
            Batch::ConnectionSuspect
        }
    }
}

/// Whether the connection is in its batch transaction and no deeper, with
/// no error pending.
fn at_top_level(conn: &mut DbConnection) -> bool {
    type Manager = <DbConnection as Connection>::TransactionManager;
    matches!(
        Manager::transaction_manager_status_mut(conn).transaction_depth(),
        Ok(Some(depth)) if depth.get() == 1
    )
}

/// Rolls the whole transaction back, whatever diesel believes its depth to
/// be; the connection is then dropped (closing it would roll back too).
fn abandon(conn: &mut DbConnection) {
    use diesel::connection::SimpleConnection;
    if let Err(error) = conn.batch_execute("ROLLBACK") {
        tracing::warn!(%error, "rolling back a failed batch of writes");
    }
}

fn settle_all(ran: Vec<Box<dyn Settle>>, commit: Result<(), Failure>) {
    for settle in ran {
        settle.settle(commit.clone());
    }
}

#[cfg(test)]
mod tests {
    use diesel::connection::SimpleConnection;
    use diesel::prelude::*;
    use diesel::sql_types::BigInt;

    use crate::testing::TestDatabase;
    use crate::{Backend, DatabaseUrl, Db, DbConnection, PersistenceError, PoolOptions};

    fn runtime() -> tokio::runtime::Runtime {
        // Writes still arrive in parallel, queued to the writer thread.
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime")
    }

    fn databases() -> Vec<TestDatabase> {
        let mut databases = vec![TestDatabase::sqlite().expect("sqlite")];
        databases.extend(TestDatabase::postgres().expect("TEST_DATABASE_URL reachable when set"));
        databases
    }

    async fn prepare(database: &TestDatabase) -> Db {
        let url = DatabaseUrl::parse(database.url()).expect("url");
        let db = Db::connect(&url, PoolOptions::default()).expect("connect");
        crate::testing::execute_sql(
            &db,
            "CREATE TABLE parents (id BIGINT PRIMARY KEY); \
             CREATE TABLE children (id BIGINT PRIMARY KEY, \
                parent_id BIGINT NOT NULL REFERENCES parents (id) DEFERRABLE INITIALLY IMMEDIATE)",
        )
        .await
        .expect("tables");
        db
    }

    async fn stored(db: &Db, table: &'static str) -> Vec<i64> {
        db.run(move |conn| {
            #[derive(QueryableByName)]
            struct Id {
                #[diesel(sql_type = BigInt)]
                id: i64,
            }
            let rows: Vec<Id> =
                diesel::sql_query(format!("SELECT id FROM {table} ORDER BY id")).load(conn)?;
            Ok::<_, PersistenceError>(rows.into_iter().map(|r| r.id).collect())
        })
        .await
        .expect("read")
    }

    fn insert(conn: &mut DbConnection, table: &str, id: i64) -> Result<(), PersistenceError> {
        conn.batch_execute(&format!("INSERT INTO {table} (id) VALUES ({id})"))?;
        Ok(())
    }

    #[derive(Debug, PartialEq)]
    enum Refused {
        Mine,
        Db(String),
    }

    impl From<PersistenceError> for Refused {
        fn from(error: PersistenceError) -> Self {
            Self::Db(error.to_string())
        }
    }

    /// Parallel writes, every third refused after writing: exactly the
    /// others are stored, and each caller gets its own answer.
    #[test]
    fn a_refused_write_leaves_nothing_and_does_not_touch_the_others() {
        for database in databases() {
            let backend = database.backend();
            let rt = runtime();
            rt.block_on(async {
                let db = prepare(&database).await;
                let tasks: Vec<_> = (1..=90_i64)
                    .map(|id| {
                        let db = db.clone();
                        tokio::spawn(async move {
                            db.transaction(move |conn| {
                                insert(conn, "parents", id)?;
                                if id % 3 == 0 {
                                    return Err(Refused::Mine);
                                }
                                Ok(id * 10)
                            })
                            .await
                        })
                    })
                    .collect();
                for (id, task) in (1..=90_i64).zip(tasks) {
                    let answer = task.await.expect("task");
                    if id % 3 == 0 {
                        assert_eq!(answer, Err(Refused::Mine), "{backend}: write {id}");
                    } else {
                        assert_eq!(answer, Ok(id * 10), "{backend}: write {id}");
                    }
                }
                let expected: Vec<i64> = (1..=90).filter(|id| id % 3 != 0).collect();
                assert_eq!(stored(&db, "parents").await, expected, "{backend}");
                // A constraint refused inside a write is that write's alone.
                let duplicate = db
                    .transaction(|conn| insert(conn, "parents", 1).map(|()| 0_i64))
                    .await;
                assert!(
                    matches!(duplicate, Err(PersistenceError::Constraint(_))),
                    "{backend}: {duplicate:?}"
                );
            });
        }
    }

    /// Runs `writes` while the writer's turn is held, so that they
    /// queue and are committed in one batch once it is released.
    fn in_one_batch<F>(db: &Db, writes: Vec<F>) -> Vec<Result<i64, PersistenceError>>
    where
        F: FnOnce(&mut DbConnection) -> Result<i64, PersistenceError> + Send + 'static,
    {
        // One thread: the tasks queue their writes in the order spawned.
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let turn = super::SQLITE_WRITER
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let tasks: Vec<_> = writes
            .into_iter()
            .map(|work| {
                let db = db.clone();
                rt.spawn(async move { db.transaction(work).await })
            })
            .collect();
        rt.block_on(async {
            for _ in 0..10 {
                tokio::task::yield_now().await;
            }
        });
        // The writer has taken the first and waits for its turn.
        std::thread::sleep(std::time::Duration::from_millis(200));
        drop(turn);
        rt.block_on(async {
            let mut answers = Vec::new();
            for task in tasks {
                answers.push(task.await.expect("task"));
            }
            answers
        })
    }

    type Work = Box<dyn FnOnce(&mut DbConnection) -> Result<i64, PersistenceError> + Send>;

    /// Writes inserting one parent each, answering its id.
    fn parents(ids: std::ops::RangeInclusive<i64>) -> Vec<Work> {
        ids.map(|id| {
            Box::new(move |conn: &mut DbConnection| insert(conn, "parents", id).map(|()| id))
                as Work
        })
        .collect()
    }

    /// A commit that fails fails every write of its batch, and stores none
    /// of them; the writer then goes on.
    #[test]
    fn a_failed_commit_answers_every_write_of_the_batch_with_an_error() {
        for database in databases() {
            let backend = database.backend();
            let db = runtime().block_on(prepare(&database));
            let mut writes = parents(1..=10);
            // A foreign key checked at commit only, and broken: the commit fails.
            let defer = match backend {
                Backend::Sqlite => "PRAGMA defer_foreign_keys = ON",
                Backend::Postgres => "SET CONSTRAINTS ALL DEFERRED",
            };
            writes.insert(
                5,
                Box::new(move |conn: &mut DbConnection| {
                    conn.batch_execute(&format!(
                        "{defer}; INSERT INTO children (id, parent_id) VALUES (1, 999)"
                    ))?;
                    Ok(0)
                }),
            );
            let answers = in_one_batch(&db, writes);
            assert_eq!(answers.len(), 11, "{backend}");
            for answer in &answers {
                assert!(
                    answer.is_err(),
                    "{backend}: every write of the batch fails: {answers:?}"
                );
            }
            let rt = runtime();
            assert_eq!(rt.block_on(stored(&db, "parents")), Vec::<i64>::new());
            assert_eq!(rt.block_on(stored(&db, "children")), Vec::<i64>::new());
            let next = rt.block_on(db.transaction(|conn| insert(conn, "parents", 42).map(|()| 42)));
            assert_eq!(next.ok(), Some(42), "{backend}: the writer goes on");
            assert_eq!(rt.block_on(stored(&db, "parents")), vec![42], "{backend}");
        }
    }

    /// A write that panics takes its batch so far down with it (its state
    /// is unknown): those writes are answered with an error and nothing of
    /// them is stored; the writes queued behind go into the next batch.
    #[test]
    fn a_panicking_write_rolls_back_its_batch_and_the_writer_goes_on() {
        for database in databases() {
            let backend = database.backend();
            let db = runtime().block_on(prepare(&database));
            let mut writes = parents(1..=6);
            writes.insert(
                3,
                Box::new(|conn: &mut DbConnection| {
                    insert(conn, "parents", 100)?;
                    panic!("a bug in a write");
                }),
            );
            let answers = in_one_batch(&db, writes);
            assert_eq!(answers.len(), 7, "{backend}");
            assert!(
                answers[..4].iter().all(Result::is_err),
                "{backend}: {answers:?}"
            );
            let after: Vec<Option<i64>> = answers[4..]
                .iter()
                .map(|a| a.as_ref().ok().copied())
                .collect();
            assert_eq!(after, vec![Some(4), Some(5), Some(6)], "{backend}");
            let rt = runtime();
            assert_eq!(
                rt.block_on(stored(&db, "parents")),
                vec![4, 5, 6],
                "{backend}"
            );
            let next = rt.block_on(db.transaction(|conn| insert(conn, "parents", 7).map(|()| 7)));
            assert_eq!(next.ok(), Some(7), "{backend}");
            assert_eq!(
                rt.block_on(stored(&db, "parents")),
                vec![4, 5, 6, 7],
                "{backend}"
            );
        }
    }
}
