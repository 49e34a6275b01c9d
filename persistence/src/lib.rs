//! Storage for adosexo: one diesel connection type over SQLite and
//! PostgreSQL, an r2d2 pool, embedded migrations per backend, and the
//! repositories the API calls.
//!
//! Diesel is synchronous: [`Db::run`] moves every unit of database work onto
//! tokio's blocking pool so that the async executor never waits on I/O.

pub mod audit;
pub mod backup;
pub mod cases;
mod connection;
pub mod consent;
mod error;
mod group_commit;
pub mod idempotency;
pub mod identity;
pub mod inventory;
pub mod metrics;
pub mod migrations;
pub mod professional;
pub mod public;
pub mod retention;
pub mod schedule;
pub mod schema;
pub mod stats;
pub mod territory;
#[cfg(any(test, feature = "test-support"))]
pub mod testing;
pub mod time;
pub mod trace;
pub mod webhooks;

#[cfg(test)]
mod backend_tests;
mod url;

pub use connection::{Db, DbConnection, PoolOptions, execute_script, write_transaction};
pub use error::{PersistenceError, StartupError};
pub use url::{Backend, DatabaseUrl, DatabaseUrlError};
