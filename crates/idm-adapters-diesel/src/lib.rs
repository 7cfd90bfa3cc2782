//! Storage adapters of the identity service on PostgreSQL and embedded SQLite.
//!
//! One diesel [`DbConnection`] enum covers both backends, an r2d2 pool hands connections out,
//! and [`Database`] implements the ports' [`UnitOfWork`] and [`HealthCheck`]: each unit of
//! work is one transaction over one pooled connection, with [`DieselRepos`] as the
//! repositories of that transaction. The schema is the same on both backends
//! (`migrations/postgres`, `migrations/sqlite`), embedded into the binary.

#![warn(missing_docs)]

mod clients;
mod connection;
mod credentials;
mod deliveries;
mod errors;
mod history;
mod meta;
mod policies;
mod roles;
#[allow(missing_docs)]
pub mod schema;
mod time;
mod user_search;
mod users;

#[cfg(feature = "contract-tests")]
pub mod contract;
#[cfg(feature = "contract-tests")]
pub mod testdb;

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use diesel::connection::{AnsiTransactionManager, SimpleConnection, TransactionManager};
use diesel::Connection;
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};
use idm_ports::error::{AppError, StoreError};
use idm_ports::repos::{
    ClientRepo, CredentialRepo, DeliveryPort, HealthCheck, HistoryRepo, MetaRepo, PolicyRepo,
    Repos, RoleRepo, TxMode, UnitOfWork, UserRepo,
};

pub use connection::{Backend, ConnectError, DbConnection, Manager};
use connection::{SqliteTarget, Target};
use errors::{RepoError, RepoResult};

/// The PostgreSQL schema, compiled in so a deployment needs no migration files.
pub const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations/postgres");
/// The SQLite schema, compiled in so a deployment needs no migration files.
pub const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations/sqlite");

/// The backend type diesel derives for [`DbConnection`]; boxed queries name it.
pub(crate) type Db = connection::MultiBackend;

/// Reads a stored extId; stored ones were validated on the way in.
pub(crate) fn parse_ext_id(raw: &str) -> RepoResult<idm_domain::ExtId> {
    idm_domain::ExtId::parse(raw)
        .ok_or_else(|| RepoError::Data(format!("invalid stored extId '{raw}'")))
}

/// The outcome of a compare-and-set update that changed `rows` rows.
pub(crate) fn changed(rows: usize) -> RepoResult<()> {
    if rows == 0 {
        Err(RepoError::Conflict)
    } else {
        Ok(())
    }
}

/// How often a unit of work is attempted when PostgreSQL reports a serialization failure or
/// deadlock; the loser of such a race succeeds when it simply runs again.
const MAX_ATTEMPTS: u32 = 5;

/// Why the database could not be opened or migrated. The text is for operators (start-up
/// errors, logs); it never contains the URL's password.
#[derive(Debug, thiserror::Error)]
pub enum DatabaseError {
    /// The URL names no supported backend or is malformed.
    #[error("invalid database URL: {0}")]
    InvalidUrl(String),
    /// The database could not be reached or opened.
    #[error("cannot connect to the {backend:?} database: {message}")]
    Connect {
        /// The backend the URL named.
        backend: Backend,
        /// The driver's reason, with any password removed.
        message: String,
    },
    /// The pool could not be built or gave no connection in time.
    #[error("database pool error: {0}")]
    Pool(String),
    /// A migration failed.
    #[error("database migration failed: {0}")]
    Migration(String),
}

/// Pool figures for metrics and diagnostics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolStats {
    /// Connections currently open (idle or in use).
    pub size: u32,
    /// Open connections not in use.
    pub idle: u32,
    /// The most connections the pool opens.
    pub max_size: u32,
    /// Checkouts since start that found no idle connection and had to wait (for a connection
    /// to be returned or opened).
    pub waits: u64,
    /// Checkouts since start that got no connection within the pool timeout.
    pub timeouts: u64,
}

/// The storage of the service: a connection pool over one backend. Cheap to share behind an
/// `Arc`; every method blocks the calling thread.
pub struct Database {
    pool: r2d2::Pool<Manager>,
    backend: Backend,
    /// Checkouts that had to wait (see [`PoolStats::waits`]).
    waits: AtomicU64,
    /// Checkouts that timed out (see [`PoolStats::timeouts`]).
    timeouts: AtomicU64,
}

impl std::fmt::Debug for Database {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Database")
            .field("backend", &self.backend)
            .field("pool", &self.pool_state())
            .finish()
    }
}

/// Logs pool connection failures through `tracing` (r2d2 would use the `log` crate).
#[derive(Debug)]
struct TracingErrorHandler;

impl r2d2::HandleError<ConnectError> for TracingErrorHandler {
    fn handle_error(&self, error: ConnectError) {
        tracing::warn!(error = %error, "database connection failed");
    }
}

impl Database {
    /// Opens the pool; a bad URL or unreachable database is an `Err` with a clear message
    /// (without the URL's password), never a panic and never a stray SQLite file.
    ///
    /// `pool_timeout` bounds both the wait for a free connection and the opening of new ones
    /// (for PostgreSQL it also becomes libpq's `connect_timeout` unless the URL sets one).
    /// An in-memory SQLite database (`sqlite::memory:`) uses exactly one connection that is
    /// never recycled, since every connection would otherwise see its own empty database.
    pub fn connect(
        url: &str,
        pool_size: u32,
        pool_timeout: Duration,
    ) -> Result<Database, DatabaseError> {
        let target = match Target::parse(url)? {
            Target::Postgres(url) => {
                Target::Postgres(connection::with_connect_timeout(&url, pool_timeout))
            }
            other => other,
        };
        let backend = target.backend();
        let memory = matches!(target, Target::Sqlite(SqliteTarget::Memory));
        let manager = Manager::new(target);
        // Open one connection up front: a clear error now instead of a pool timeout later.
        r2d2::ManageConnection::connect(&manager).map_err(|e| DatabaseError::Connect {
            backend,
            message: e.0,
        })?;
        let mut builder = r2d2::Pool::builder()
            .max_size(if memory { 1 } else { pool_size.max(1) })
            .connection_timeout(pool_timeout.max(Duration::from_millis(1)))
            // No `SELECT 1` round trip before every transaction: a connection that broke is
            // found by its first statement (503) and discarded (`has_broken`).
            .test_on_check_out(false)
            .error_handler(Box::new(TracingErrorHandler));
        if memory {
            builder = builder.idle_timeout(None).max_lifetime(None);
        }
        let pool = builder
            .build(manager)
            .map_err(|e| DatabaseError::Pool(e.to_string()))?;
        tracing::info!(
            backend = ?backend,
            url = %connection::redacted_url(url),
            pool_size = pool.max_size(),
            "database pool ready"
        );
        Ok(Database {
            pool,
            backend,
            waits: AtomicU64::new(0),
            timeouts: AtomicU64::new(0),
        })
    }

    /// Runs the pending embedded migrations of this backend (at start-up and from the CLI).
    pub fn migrate(&self) -> Result<(), DatabaseError> {
        let mut conn = self
            .checkout()
            .map_err(|e| DatabaseError::Pool(e.to_string()))?;
        let applied = match &mut *conn {
            DbConnection::Pg(c) => c
                .run_pending_migrations(POSTGRES_MIGRATIONS)
                .map(|v| v.len()),
            DbConnection::Sqlite(c) => c.run_pending_migrations(SQLITE_MIGRATIONS).map(|v| v.len()),
        }
        .map_err(|e| DatabaseError::Migration(e.to_string()))?;
        tracing::info!(applied, "database migrations done");
        Ok(())
    }

    /// The backend the URL named.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Pool statistics for metrics: open and idle connections, waits and timeouts so far.
    pub fn pool_state(&self) -> PoolStats {
        let state = self.pool.state();
        PoolStats {
            size: state.connections,
            idle: state.idle_connections,
            max_size: self.pool.max_size(),
            waits: self.waits.load(Ordering::Relaxed),
            timeouts: self.timeouts.load(Ordering::Relaxed),
        }
    }

    /// A pooled connection within the pool timeout, counting checkouts that found no idle
    /// connection (a wait) and those that then timed out.
    fn checkout(&self) -> Result<r2d2::PooledConnection<Manager>, r2d2::Error> {
        if let Some(conn) = self.pool.try_get() {
            return Ok(conn);
        }
        self.waits.fetch_add(1, Ordering::Relaxed);
        self.pool.get().inspect_err(|_| {
            self.timeouts.fetch_add(1, Ordering::Relaxed);
        })
    }

    fn connection(&self) -> Result<r2d2::PooledConnection<Manager>, AppError> {
        self.checkout().map_err(|e| {
            tracing::warn!(error = %e, "no database connection available within the pool timeout");
            AppError::Unavailable
        })
    }
}

/// How one attempt of a unit of work ended when it did not commit.
enum Attempt {
    /// A serialization failure or deadlock: run the work again.
    Retry,
    /// Final: report this.
    Failed(AppError),
}

fn begin(conn: &mut DbConnection, mode: TxMode) -> diesel::QueryResult<()> {
    match (conn, mode) {
        // Take SQLite's write lock up front: a racing writer then waits (busy_timeout) instead
        // of failing with SQLITE_BUSY_SNAPSHOT when it upgrades a read transaction.
        (DbConnection::Sqlite(c), TxMode::Write) => {
            AnsiTransactionManager::begin_transaction_sql(c, "BEGIN IMMEDIATE")
        }
        (conn, _) => <DbConnection as Connection>::TransactionManager::begin_transaction(conn),
    }
}

fn store_failure(e: diesel::result::Error) -> AppError {
    AppError::from(errors::map_diesel(e))
}

fn attempt(
    conn: &mut DbConnection,
    mode: TxMode,
    work: &mut (dyn FnMut(&mut dyn Repos) -> Result<(), AppError> + '_),
) -> Result<(), Attempt> {
    type Tm = <DbConnection as Connection>::TransactionManager;
    begin(conn, mode).map_err(|e| {
        if errors::is_retryable(&e) {
            Attempt::Retry
        } else {
            Attempt::Failed(store_failure(e))
        }
    })?;
    let mut repos = DieselRepos::new(conn);
    let outcome = work(&mut repos);
    let (retry, spoiled) = (repos.retry, repos.spoiled);
    let outcome = match outcome {
        // PostgreSQL silently turns the COMMIT of an aborted transaction into a ROLLBACK; an
        // error the work swallowed must not be reported as success.
        Ok(()) if spoiled && matches!(conn, DbConnection::Pg(_)) => Err(AppError::Internal(
            "a storage error was ignored inside the transaction; rolled back".into(),
        )),
        other => other,
    };
    match outcome {
        Ok(()) => Tm::commit_transaction(conn).map_err(|e| {
            if errors::is_retryable(&e) {
                Attempt::Retry
            } else {
                Attempt::Failed(store_failure(e))
            }
        }),
        Err(e) => {
            if let Err(rollback) = Tm::rollback_transaction(conn) {
                // The pool discards the connection (its transaction manager is broken).
                tracing::warn!(error = %rollback, "rollback failed");
            }
            Err(if retry {
                Attempt::Retry
            } else {
                Attempt::Failed(e)
            })
        }
    }
}

impl UnitOfWork for Database {
    /// Runs `work` in one transaction on the calling thread: `BEGIN IMMEDIATE` for SQLite
    /// writes, a plain (READ COMMITTED) `BEGIN` otherwise; commits only when `work` returns
    /// `Ok`, and runs it again after a PostgreSQL serialization failure or deadlock.
    fn run<'a>(
        &self,
        mode: TxMode,
        work: &mut (dyn FnMut(&mut dyn Repos) -> Result<(), AppError> + 'a),
    ) -> Result<(), AppError> {
        let mut conn = self.connection()?;
        let mut tries = 0;
        loop {
            tries += 1;
            match attempt(&mut conn, mode, work) {
                Ok(()) => return Ok(()),
                Err(Attempt::Failed(e)) => return Err(e),
                Err(Attempt::Retry) if tries < MAX_ATTEMPTS => {
                    tracing::debug!(
                        tries,
                        "serialization failure; running the transaction again"
                    );
                    std::thread::sleep(Duration::from_millis(u64::from(tries) * 5));
                }
                Err(Attempt::Retry) => {
                    tracing::warn!(
                        tries,
                        "transaction kept failing with serialization failures"
                    );
                    return Err(AppError::Unavailable);
                }
            }
        }
    }
}

impl HealthCheck for Database {
    /// `SELECT 1` on a pooled connection; any failure means "not ready".
    fn check(&self) -> Result<(), StoreError> {
        let mut conn = self.checkout().map_err(|_| StoreError::Unavailable)?;
        conn.batch_execute("SELECT 1").map_err(|e| {
            tracing::warn!(error = %e, "database health check failed");
            StoreError::Unavailable
        })
    }
}

/// The repositories of one transaction, all over its one connection.
pub struct DieselRepos<'a> {
    conn: &'a mut DbConnection,
    /// A statement failed with a serialization failure or deadlock.
    retry: bool,
    /// A statement failed outside a savepoint (on PostgreSQL the transaction is now aborted).
    spoiled: bool,
}

impl<'a> DieselRepos<'a> {
    /// Repositories over `conn`, which must already be inside the transaction.
    pub fn new(conn: &'a mut DbConnection) -> Self {
        DieselRepos {
            conn,
            retry: false,
            spoiled: false,
        }
    }

    /// Reports a repository result, remembering failures the unit of work must know about.
    fn done<T>(&mut self, result: RepoResult<T>) -> Result<T, StoreError> {
        result.map_err(|e| {
            if e.is_retryable() {
                self.retry = true;
            }
            if matches!(e, RepoError::Db(_)) {
                self.spoiled = true;
            }
            let mapped = StoreError::from(e);
            if let StoreError::Other(text) = &mapped {
                tracing::debug!(error = %text, "storage statement failed");
            }
            mapped
        })
    }

    /// Like [`Self::done`] for a write run inside a savepoint: a failure there leaves the
    /// transaction usable, so the caller may handle it (e.g. a unique violation) and go on.
    fn done_guarded<T>(&mut self, result: RepoResult<T>) -> Result<T, StoreError> {
        let spoiled = self.spoiled;
        let out = self.done(result);
        self.spoiled = spoiled;
        out
    }
}

/// Runs `f` inside a savepoint, so a failed statement does not abort the whole PostgreSQL
/// transaction (use cases turn unique violations into SPEC errors and may go on).
fn savepoint<T>(
    conn: &mut DbConnection,
    f: impl FnOnce(&mut DbConnection) -> RepoResult<T>,
) -> RepoResult<T> {
    conn.transaction::<T, RepoError, _>(f)
}

/// A joined (client, user) row as domain values.
fn client_and_user_of(
    row: Option<(clients::ClientRow, users::UserRow)>,
) -> RepoResult<Option<(idm_domain::client::Client, idm_domain::user::User)>> {
    row.map(|(client, user)| Ok((client.into_domain()?, user.into_domain()?)))
        .transpose()
}

impl Repos for DieselRepos<'_> {
    fn clients(&mut self) -> &mut dyn ClientRepo {
        self
    }
    fn users(&mut self) -> &mut dyn UserRepo {
        self
    }
    fn policies(&mut self) -> &mut dyn PolicyRepo {
        self
    }
    fn credentials(&mut self) -> &mut dyn CredentialRepo {
        self
    }
    fn roles(&mut self) -> &mut dyn RoleRepo {
        self
    }
    fn meta(&mut self) -> &mut dyn MetaRepo {
        self
    }
    fn deliveries(&mut self) -> &mut dyn DeliveryPort {
        self
    }
    fn history(&mut self) -> &mut dyn HistoryRepo {
        self
    }

    fn client_and_user(
        &mut self,
        client_ext_id: &str,
        user_ext_id: &str,
    ) -> Result<Option<(idm_domain::client::Client, idm_domain::user::User)>, StoreError> {
        use crate::schema::{clients as c, users as u};
        use diesel::prelude::*;
        let r = u::table
            .inner_join(c::table)
            .filter(c::ext_id.eq(client_ext_id))
            .filter(u::ext_id.eq(user_ext_id))
            .select((clients::ClientRow::as_select(), users::UserRow::as_select()))
            .first::<(clients::ClientRow, users::UserRow)>(self.conn)
            .optional()
            .map_err(RepoError::from)
            .and_then(client_and_user_of);
        self.done(r)
    }

    fn login_in_client(
        &mut self,
        client_ext_id: &str,
        login_id: &str,
    ) -> Result<Option<(idm_domain::client::Client, idm_domain::user::User)>, StoreError> {
        use crate::schema::{clients as c, users as u};
        use diesel::prelude::*;
        let r = u::table
            .inner_join(c::table)
            .filter(c::ext_id.eq(client_ext_id))
            .filter(u::login_id.eq(login_id))
            .select((clients::ClientRow::as_select(), users::UserRow::as_select()))
            .first::<(clients::ClientRow, users::UserRow)>(self.conn)
            .optional()
            .map_err(RepoError::from)
            .and_then(client_and_user_of);
        self.done(r)
    }
}

#[cfg(test)]
mod pool_counter_tests {
    use super::*;

    #[test]
    fn checkouts_that_wait_or_time_out_are_counted() {
        // In memory: exactly one connection, so a second checkout must wait.
        let db = Database::connect("sqlite::memory:", 4, Duration::from_millis(50)).unwrap();
        assert!(db.check().is_ok());
        let stats = db.pool_state();
        assert_eq!((stats.waits, stats.timeouts), (0, 0), "{stats:?}");
        let held = db.checkout().unwrap();
        assert_eq!(db.check(), Err(StoreError::Unavailable));
        let stats = db.pool_state();
        assert_eq!((stats.waits, stats.timeouts), (1, 1), "{stats:?}");
        drop(held);
        assert!(db.check().is_ok());
        assert_eq!(db.pool_state().timeouts, 1);
    }
}
