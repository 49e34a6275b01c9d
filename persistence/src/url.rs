//! Which backend a `DATABASE_URL` names, without ever printing its password.

use std::fmt;
use std::path::{Path, PathBuf};

/// The two storage backends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// Embedded, one file, the default.
    Sqlite,
    /// A PostgreSQL server, for production.
    Postgres,
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Sqlite => "SQLite",
            Self::Postgres => "PostgreSQL",
        })
    }
}

/// A parsed database location. `Debug` and `Display` never show a password.
#[derive(Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    /// `postgres://…` or `postgresql://…`, kept verbatim for libpq.
    Postgres(String),
    /// `sqlite://path`, `sqlite:path` or a plain file path.
    Sqlite(PathBuf),
}

/// Why a `DATABASE_URL` cannot be used.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DatabaseUrlError {
    /// Nothing was given.
    #[error("the database URL is empty")]
    Empty,
    /// A scheme other than the supported ones.
    #[error(
        "unsupported database URL scheme `{0}` (expected postgres://, postgresql://, sqlite:// or a file path)"
    )]
    UnsupportedScheme(String),
    /// `sqlite://` with no path after it, or an in-memory database.
    #[error("a SQLite database URL needs a file path (in-memory databases are not supported)")]
    MissingSqlitePath,
    /// `postgres://` with nothing that libpq could use.
    #[error("the PostgreSQL URL has no host or database")]
    MissingPostgresTarget,
}

impl DatabaseUrl {
    /// Parses a `DATABASE_URL` value.
    pub fn parse(input: &str) -> Result<Self, DatabaseUrlError> {
        let input = input.trim();
        if input.is_empty() {
            return Err(DatabaseUrlError::Empty);
        }
        if let Some(rest) = input
            .strip_prefix("postgres://")
            .or_else(|| input.strip_prefix("postgresql://"))
        {
            if rest.is_empty() || rest == "/" {
                return Err(DatabaseUrlError::MissingPostgresTarget);
            }
            return Ok(Self::Postgres(input.to_owned()));
        }
        if let Some(rest) = input
            .strip_prefix("sqlite://")
            .or_else(|| input.strip_prefix("sqlite:"))
        {
            return Self::parse_sqlite(rest);
        }
        if let Some((scheme, _)) = input.split_once("://") {
            return Err(DatabaseUrlError::UnsupportedScheme(scheme.to_owned()));
        }
        Self::parse_sqlite(input)
    }

    fn parse_sqlite(path: &str) -> Result<Self, DatabaseUrlError> {
        // Query parameters (`?mode=rwc`, common in other tools) are not ours to interpret.
        let path = path.split('?').next().unwrap_or_default();
        if path.is_empty() || path == ":memory:" || path.starts_with("file::memory:") {
            return Err(DatabaseUrlError::MissingSqlitePath);
        }
        Ok(Self::Sqlite(PathBuf::from(path)))
    }

    /// The backend this URL selects.
    pub fn backend(&self) -> Backend {
        match self {
            Self::Postgres(_) => Backend::Postgres,
            Self::Sqlite(_) => Backend::Sqlite,
        }
    }

    /// The SQLite file, if this is a SQLite URL.
    pub fn sqlite_path(&self) -> Option<&Path> {
        match self {
            Self::Sqlite(path) => Some(path),
            Self::Postgres(_) => None,
        }
    }

    /// The URL to hand to the driver. Contains the password: never log it.
    pub(crate) fn expose(&self) -> String {
        match self {
            Self::Postgres(url) => url.clone(),
            Self::Sqlite(path) => path.to_string_lossy().into_owned(),
        }
    }
}

/// Shows where the database is, with any password replaced by `***` and the
/// query string dropped.
impl fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Sqlite(path) => write!(f, "{}", path.display()),
            Self::Postgres(url) => {
                let (scheme, rest) = url.split_once("://").unwrap_or(("postgres", url));
                let rest = rest.split('?').next().unwrap_or_default();
                match rest.rsplit_once('@') {
                    Some((userinfo, host)) => {
                        let user = userinfo.split(':').next().unwrap_or_default();
                        if userinfo.contains(':') {
                            write!(f, "{scheme}://{user}:***@{host}")
                        } else {
                            write!(f, "{scheme}://{user}@{host}")
                        }
                    }
                    None => write!(f, "{scheme}://{rest}"),
                }
            }
        }
    }
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DatabaseUrl({self})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schemes_select_the_backend() {
        let cases = [
            ("postgres://u:p@localhost/db", Backend::Postgres),
            ("postgresql://localhost:5433/db", Backend::Postgres),
            ("sqlite://./data/adosexo.db", Backend::Sqlite),
            ("sqlite:data.db", Backend::Sqlite),
            ("./data/adosexo.db", Backend::Sqlite),
            ("/var/lib/adosexo/db.sqlite", Backend::Sqlite),
        ];
        for (url, backend) in cases {
            assert_eq!(
                DatabaseUrl::parse(url).map(|u| u.backend()),
                Ok(backend),
                "{url}"
            );
        }
    }

    #[test]
    fn sqlite_paths_are_extracted() {
        let url = DatabaseUrl::parse("sqlite://./data/adosexo.db").ok();
        assert_eq!(
            url.as_ref().and_then(|u| u.sqlite_path()),
            Some(Path::new("./data/adosexo.db"))
        );
        let url = DatabaseUrl::parse("sqlite:///abs/x.db?mode=rwc").ok();
        assert_eq!(
            url.as_ref().and_then(|u| u.sqlite_path()),
            Some(Path::new("/abs/x.db"))
        );
    }

    #[test]
    fn bad_urls_name_the_problem() {
        assert_eq!(DatabaseUrl::parse(""), Err(DatabaseUrlError::Empty));
        assert_eq!(
            DatabaseUrl::parse("mysql://root@localhost/db"),
            Err(DatabaseUrlError::UnsupportedScheme("mysql".into()))
        );
        assert_eq!(
            DatabaseUrl::parse("sqlite://"),
            Err(DatabaseUrlError::MissingSqlitePath)
        );
        assert_eq!(
            DatabaseUrl::parse("sqlite::memory:"),
            Err(DatabaseUrlError::MissingSqlitePath)
        );
        assert_eq!(
            DatabaseUrl::parse("postgres://"),
            Err(DatabaseUrlError::MissingPostgresTarget)
        );
    }

    #[test]
    fn display_hides_the_password() {
        let url = DatabaseUrl::parse("postgres://adosexo:s3cr3t@db:5432/adosexo?sslmode=require");
        let shown = url.map(|u| format!("{u} {u:?}")).unwrap_or_default();
        assert!(!shown.contains("s3cr3t"), "{shown}");
        assert!(
            shown.contains("postgres://adosexo:***@db:5432/adosexo"),
            "{shown}"
        );
        let url = DatabaseUrl::parse("postgres://root@127.0.0.1/test").map(|u| u.to_string());
        assert_eq!(url.as_deref(), Ok("postgres://root@127.0.0.1/test"));
    }
}
