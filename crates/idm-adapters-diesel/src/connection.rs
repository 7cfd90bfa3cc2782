//! The connection enum over both backends and the r2d2 manager that picks one by URL scheme.

use std::path::Path;

use diesel::connection::SimpleConnection;
use diesel::{Connection, PgConnection, SqliteConnection};

use crate::DatabaseError;

/// One database connection of either backend; diesel's query builder works on it directly,
/// and code that needs a backend-specific feature matches on the variant.
#[derive(diesel::MultiConnection)]
pub enum DbConnection {
    /// A PostgreSQL connection.
    Pg(PgConnection),
    /// An embedded SQLite connection.
    Sqlite(SqliteConnection),
}

/// Which database product a [`crate::Database`] talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// PostgreSQL (`postgres://`, `postgresql://`).
    Postgres,
    /// Embedded SQLite (`sqlite://<path>`, `sqlite::memory:`).
    Sqlite,
}

/// Where a SQLite database lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum SqliteTarget {
    /// A database file; its parent directory is created when missing.
    File(String),
    /// A private in-memory database (the pool then holds exactly one connection).
    Memory,
}

/// A parsed database URL: the backend and what to hand to the driver.
#[derive(Debug, Clone)]
pub(crate) enum Target {
    Postgres(String),
    Sqlite(SqliteTarget),
}

impl Target {
    /// Picks the backend from the URL scheme only; an unknown scheme is an error rather than
    /// a SQLite file named like the URL (what diesel's derived `establish` would do).
    pub(crate) fn parse(url: &str) -> Result<Target, DatabaseError> {
        let url = url.trim();
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(Target::Postgres(url.to_owned()));
        }
        if url == "sqlite::memory:" || url == "sqlite://:memory:" {
            return Ok(Target::Sqlite(SqliteTarget::Memory));
        }
        if let Some(path) = url.strip_prefix("sqlite://") {
            if path.is_empty() {
                return Err(DatabaseError::InvalidUrl(
                    "sqlite:// URL without a file path".into(),
                ));
            }
            return Ok(Target::Sqlite(SqliteTarget::File(path.to_owned())));
        }
        let scheme = match url.split_once(':') {
            Some((scheme, _)) if !scheme.is_empty() && scheme.len() <= 32 => scheme,
            _ => "<none>",
        };
        Err(DatabaseError::InvalidUrl(format!(
            "unsupported database URL scheme '{scheme}' (expected postgres://, postgresql:// or sqlite://)"
        )))
    }

    pub(crate) fn backend(&self) -> Backend {
        match self {
            Target::Postgres(_) => Backend::Postgres,
            Target::Sqlite(_) => Backend::Sqlite,
        }
    }
}

/// `url` with libpq's `connect_timeout` (whole seconds, at least 2) unless it sets one: libpq
/// otherwise waits for an unreachable host as long as the operating system does.
pub(crate) fn with_connect_timeout(url: &str, timeout: std::time::Duration) -> String {
    if url.contains("connect_timeout=") {
        return url.to_owned();
    }
    let secs = timeout.as_secs().max(2) + u64::from(timeout.subsec_nanos() > 0);
    let separator = if url.contains('?') { '&' } else { '?' };
    format!("{url}{separator}connect_timeout={secs}")
}

/// Per-connection SQLite settings: wait for locks instead of failing, WAL so readers never
/// block the writer, and foreign keys enforced as on PostgreSQL. `PRAGMA optimize` (bounded by
/// `analysis_limit`) refreshes the planner's statistics of grown tables when a connection
/// opens: without them SQLite would page through `ix_users_page` instead of the expression
/// indexes of the user list's filters (SPEC §12).
const SQLITE_PRAGMAS: &str = "PRAGMA busy_timeout = 10000; \
     PRAGMA journal_mode = WAL; \
     PRAGMA foreign_keys = ON; \
     PRAGMA synchronous = NORMAL; \
     PRAGMA analysis_limit = 1000; \
     PRAGMA optimize = 0x10002;";

/// r2d2 manager for [`DbConnection`]: opens the backend the URL names.
#[derive(Debug)]
pub struct Manager {
    target: Target,
}

/// Why a connection could not be opened or checked; its text never contains the URL's password.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ConnectError(pub(crate) String);

impl Manager {
    pub(crate) fn new(target: Target) -> Manager {
        Manager { target }
    }

    fn open(&self) -> Result<DbConnection, ConnectError> {
        match &self.target {
            Target::Postgres(url) => PgConnection::establish(url)
                .map(DbConnection::Pg)
                .map_err(|e| ConnectError(scrub(&e.to_string(), url))),
            Target::Sqlite(target) => {
                let path = match target {
                    SqliteTarget::Memory => ":memory:".to_owned(),
                    SqliteTarget::File(path) => {
                        if let Some(parent) = Path::new(path).parent() {
                            if !parent.as_os_str().is_empty() && !parent.exists() {
                                std::fs::create_dir_all(parent).map_err(|e| {
                                    ConnectError(format!(
                                        "cannot create the directory of the SQLite database: {e}"
                                    ))
                                })?;
                            }
                        }
                        path.clone()
                    }
                };
                let mut conn = SqliteConnection::establish(&path)
                    .map_err(|e| ConnectError(format!("cannot open the SQLite database: {e}")))?;
                conn.batch_execute(SQLITE_PRAGMAS).map_err(|e| {
                    ConnectError(format!("cannot configure the SQLite database: {e}"))
                })?;
                Ok(DbConnection::Sqlite(conn))
            }
        }
    }
}

impl r2d2::ManageConnection for Manager {
    type Connection = DbConnection;
    type Error = ConnectError;

    fn connect(&self) -> Result<DbConnection, ConnectError> {
        self.open()
    }

    fn is_valid(&self, conn: &mut DbConnection) -> Result<(), ConnectError> {
        conn.batch_execute("SELECT 1")
            .map_err(|e| ConnectError(format!("connection check failed: {e}")))
    }

    fn has_broken(&self, conn: &mut DbConnection) -> bool {
        use diesel::connection::TransactionManager;
        std::thread::panicking()
            || <DbConnection as Connection>::TransactionManager::is_broken_transaction_manager(conn)
    }
}

/// The password of `url`'s userinfo, if any (`scheme://user:password@host/…`).
fn url_password(url: &str) -> Option<&str> {
    let rest = url.split_once("://")?.1;
    let authority = rest.split(['/', '?']).next()?;
    let userinfo = authority.rsplit_once('@')?.0;
    let password = userinfo.split_once(':')?.1;
    (!password.is_empty()).then_some(password)
}

/// `text` with the password of `url` blanked out, for error messages and logs.
pub(crate) fn scrub(text: &str, url: &str) -> String {
    match url_password(url) {
        Some(password) => text.replace(password, "***"),
        None => text.to_owned(),
    }
}

/// `url` without its password, for log lines.
pub(crate) fn redacted_url(url: &str) -> String {
    scrub(url, url)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schemes() {
        assert!(matches!(
            Target::parse("postgres://u@h/db"),
            Ok(Target::Postgres(_))
        ));
        assert!(matches!(
            Target::parse("postgresql://u@h/db"),
            Ok(Target::Postgres(_))
        ));
        assert!(matches!(
            Target::parse("sqlite://./data/x.db"),
            Ok(Target::Sqlite(SqliteTarget::File(p))) if p == "./data/x.db"
        ));
        assert!(matches!(
            Target::parse("sqlite::memory:"),
            Ok(Target::Sqlite(SqliteTarget::Memory))
        ));
        let err = Target::parse("mysql://u:secret@h/db")
            .unwrap_err()
            .to_string();
        assert!(err.contains("'mysql'"), "{err}");
        assert!(!err.contains("secret"), "{err}");
        assert!(Target::parse("./idm.db").is_err());
        assert!(Target::parse("sqlite://").is_err());
    }

    #[test]
    fn connect_timeout_is_added_once() {
        use std::time::Duration;
        assert_eq!(
            with_connect_timeout("postgres://h/db", Duration::from_millis(5000)),
            "postgres://h/db?connect_timeout=5"
        );
        assert_eq!(
            with_connect_timeout(
                "postgres://h/db?sslmode=disable",
                Duration::from_millis(200)
            ),
            "postgres://h/db?sslmode=disable&connect_timeout=3"
        );
        assert_eq!(
            with_connect_timeout("postgres://h/db?connect_timeout=9", Duration::from_secs(1)),
            "postgres://h/db?connect_timeout=9"
        );
    }

    #[test]
    fn passwords_are_scrubbed() {
        let url = "postgres://idm:s3cr3t@db:5432/idm?sslmode=disable";
        assert_eq!(url_password(url), Some("s3cr3t"));
        assert_eq!(
            redacted_url(url),
            "postgres://idm:***@db:5432/idm?sslmode=disable"
        );
        assert_eq!(scrub("failed for s3cr3t", url), "failed for ***");
        assert_eq!(url_password("postgres://idm@db/idm"), None);
    }
}
