//! The storage contract on SQLite (a temporary file per case), plus the `Database` API checks
//! that need no server.

use std::time::Duration;

use idm_adapters_diesel::contract;
use idm_adapters_diesel::testdb::fresh_sqlite_url;
use idm_adapters_diesel::{Backend, Database, DatabaseError};
use idm_ports::error::AppError;
use idm_ports::repos::{HealthCheck, TxMode, UnitOfWork};

fn open() -> (tempfile::TempDir, Database) {
    let (dir, url) = fresh_sqlite_url();
    let db = Database::connect(&url, 4, Duration::from_secs(30)).expect("connect");
    db.migrate().expect("migrate");
    (dir, db)
}

fn with_fresh_store(case: &dyn Fn(&dyn UnitOfWork)) {
    let (_dir, db) = open();
    case(&db);
}

idm_adapters_diesel::storage_contract_tests!(with_fresh_store);

#[test]
fn migrate_is_idempotent_and_reports_the_backend() {
    let (_dir, db) = open();
    db.migrate().unwrap();
    assert_eq!(db.backend(), Backend::Sqlite);
    let stats = db.pool_state();
    assert_eq!(stats.max_size, 4);
    assert!(stats.size >= 1 && stats.idle <= stats.size, "{stats:?}");
}

#[test]
fn creates_the_parent_directory_of_the_database_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nested/deeper/idm.sqlite3");
    let db = Database::connect(
        &format!("sqlite://{}", path.display()),
        2,
        Duration::from_secs(5),
    )
    .unwrap();
    db.migrate().unwrap();
    assert!(path.is_file());
}

#[test]
fn in_memory_database_works_with_one_connection() {
    let db = Database::connect("sqlite::memory:", 8, Duration::from_secs(5)).unwrap();
    db.migrate().unwrap();
    assert_eq!(db.pool_state().max_size, 1);
    contract::clients_round_trip_and_unique_keys(&db);
}

#[test]
fn health_check_passes() {
    let (_dir, db) = open();
    db.check().unwrap();
}

#[test]
fn bad_url_scheme_is_a_clear_error_and_creates_no_file() {
    let dir = tempfile::tempdir().unwrap();
    let cwd_file = std::path::Path::new("mysql:");
    for url in [
        "mysql://idm:hunter2@localhost/idm",
        "idm.sqlite3",
        "",
        "sqlite://",
    ] {
        let err = Database::connect(url, 2, Duration::from_secs(1)).unwrap_err();
        assert!(
            matches!(err, DatabaseError::InvalidUrl(_)),
            "{url}: {err:?}"
        );
        let text = err.to_string();
        assert!(text.contains("invalid database URL"), "{text}");
        assert!(!text.contains("hunter2"), "{text}");
    }
    assert!(!cwd_file.exists());
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

#[test]
fn unreachable_postgres_is_a_clear_error() {
    // Port 1 on localhost: nothing listens there.
    let url = "postgres://idm:hunter2@127.0.0.1:1/idm?connect_timeout=2";
    let err = Database::connect(url, 2, Duration::from_secs(2)).unwrap_err();
    assert!(
        matches!(
            err,
            DatabaseError::Connect {
                backend: Backend::Postgres,
                ..
            }
        ),
        "{err:?}"
    );
    let text = err.to_string();
    assert!(text.contains("cannot connect"), "{text}");
    assert!(!text.contains("hunter2"), "{text}");

    let malformed = "postgres://idm:hunter2@127.0.0.1:notaport/idm";
    let err = Database::connect(malformed, 2, Duration::from_secs(2)).unwrap_err();
    assert!(
        matches!(
            err,
            DatabaseError::Connect {
                backend: Backend::Postgres,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(!err.to_string().contains("hunter2"), "{err}");
    assert!(!std::path::Path::new(malformed).exists());
}

#[test]
fn exhausted_pool_is_unavailable() {
    let (_dir, url) = fresh_sqlite_url();
    let db = Database::connect(&url, 1, Duration::from_millis(200)).unwrap();
    db.migrate().unwrap();
    let mut inner = None;
    let outer = db.run(TxMode::Read, &mut |_repos| {
        // The only connection is held by this unit of work.
        inner = Some(db.run(TxMode::Read, &mut |_| Ok(())));
        Ok(())
    });
    assert_eq!(outer, Ok(()));
    assert_eq!(inner, Some(Err(AppError::Unavailable)));
    // Once released, the connection serves again.
    db.check().unwrap();
}
