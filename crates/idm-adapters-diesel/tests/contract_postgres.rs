//! The storage contract on PostgreSQL: a fresh database per case on the throwaway server of
//! `testdb` (or the one `IDM_TEST_DATABASE_URL` names). Skips with a message when no server
//! can be had, except under `CI=true`, where it fails.

use std::time::Duration;

use idm_adapters_diesel::contract;
use idm_adapters_diesel::testdb::fresh_postgres_url;
use idm_adapters_diesel::{Backend, Database};
use idm_domain::credential::CredentialSecret;
use idm_domain::policy::PolicyType;
use idm_ports::error::AppError;
use idm_ports::repos::{transact, HealthCheck, TxMode, UnitOfWork};

fn open() -> Option<Database> {
    let url = fresh_postgres_url()?;
    let db = Database::connect(&url, 8, Duration::from_secs(30)).expect("connect");
    db.migrate().expect("migrate");
    Some(db)
}

fn with_fresh_store(case: &dyn Fn(&dyn UnitOfWork)) {
    if let Some(db) = open() {
        case(&db);
    }
}

idm_adapters_diesel::storage_contract_tests!(with_fresh_store);

#[test]
fn backend_health_and_idempotent_migrations() {
    let Some(db) = open() else { return };
    assert_eq!(db.backend(), Backend::Postgres);
    db.migrate().unwrap();
    db.check().unwrap();
}

/// Two transactions lock two password rows in opposite order: PostgreSQL aborts one with a
/// deadlock (40P01), and the unit of work runs it again, so both end without an error.
#[test]
fn deadlock_is_retried() {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Barrier;

    let Some(db) = open() else { return };
    let client = contract::client();
    let pwd = contract::policy(&client.id, PolicyType::Pwd, true);
    let users = [contract::user(&client.id), contract::user(&client.id)];
    let secret = || CredentialSecret::Password {
        hash: "$argon2id$x".into(),
    };
    transact(&db, TxMode::Write, |r| {
        r.clients().insert(&client)?;
        r.policies().insert(&pwd)?;
        for u in &users {
            r.users().insert(u)?;
            let c = contract::credential(&client.id, Some(&u.id), &pwd.id, secret());
            r.credentials().insert(&c)?;
        }
        Ok(())
    })
    .expect("setup");

    let barrier = Barrier::new(2);
    let results: Vec<Result<(), AppError>> = std::thread::scope(|s| {
        let handles: Vec<_> = [(0, 1), (1, 0)]
            .into_iter()
            .map(|(first, second)| {
                let (db, users, barrier) = (&db, &users, &barrier);
                s.spawn(move || {
                    let waited = AtomicBool::new(false);
                    transact(db, TxMode::Write, |r| {
                        r.credentials()
                            .find_password_of_user(&users[first].id, true)?;
                        if !waited.swap(true, Ordering::SeqCst) {
                            barrier.wait();
                        }
                        r.credentials()
                            .find_password_of_user(&users[second].id, true)?;
                        Ok(())
                    })
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("thread"))
            .collect()
    });
    assert_eq!(results, vec![Ok(()), Ok(())]);
}
