use diesel::result::{DatabaseErrorKind, Error as DieselError};

use crate::url::{Backend, DatabaseUrlError};

/// Why the program cannot start on this database. Each variant displays as
/// one line that names the problem and never the password.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    /// `DATABASE_URL` is malformed.
    #[error("DATABASE_URL: {0}")]
    Url(#[from] DatabaseUrlError),
    /// The SQLite file's folder cannot be created.
    #[error("cannot create the folder {path} for the SQLite database: {reason}")]
    CreateDir {
        /// The folder.
        path: String,
        /// What the OS said.
        reason: String,
    },
    /// The first connection failed.
    #[error("cannot connect to {backend} at {target}: {reason}")]
    Connect {
        /// Which backend.
        backend: Backend,
        /// Where, password hidden.
        target: String,
        /// What the driver said, on one line.
        reason: String,
    },
    /// Migrations failed.
    #[error("cannot apply the database migrations: {0}")]
    Migrate(String),
}

/// A database operation that did not succeed.
#[derive(Debug, thiserror::Error)]
pub enum PersistenceError {
    /// No connection could be had within the pool time-out, or it was lost:
    /// the caller should answer 503 and may retry.
    #[error("database unavailable: {0}")]
    Unavailable(String),
    /// A uniqueness or other integrity rule of the schema refused the write.
    #[error("constraint violated: {0}")]
    Constraint(String),
    /// Any other database error: a bug or an unexpected state.
    #[error("database error: {0}")]
    Query(DieselError),
    /// The blocking task running the query did not complete.
    #[error("database task failed: {0}")]
    Task(String),
}

impl From<DieselError> for PersistenceError {
    fn from(error: DieselError) -> Self {
        match error {
            DieselError::DatabaseError(
                DatabaseErrorKind::ClosedConnection | DatabaseErrorKind::UnableToSendCommand,
                info,
            ) => Self::Unavailable(info.message().to_owned()),
            DieselError::DatabaseError(
                DatabaseErrorKind::UniqueViolation
                | DatabaseErrorKind::ForeignKeyViolation
                | DatabaseErrorKind::CheckViolation
                | DatabaseErrorKind::NotNullViolation
                | DatabaseErrorKind::ExclusionViolation,
                info,
            ) => Self::Constraint(
                info.constraint_name()
                    .unwrap_or_else(|| info.message())
                    .to_owned(),
            ),
            // SQLite triggers refuse with `RAISE(ABORT, '<constraint name>')`.
            DieselError::DatabaseError(DatabaseErrorKind::Unknown, info)
                if info.message() == crate::schedule::NO_OVERLAP =>
            {
                Self::Constraint(info.message().to_owned())
            }
            other => Self::Query(other),
        }
    }
}

/// One line: libpq's messages span several.
pub(crate) fn one_line(message: &str) -> String {
    message.split_whitespace().collect::<Vec<_>>().join(" ")
}
