//! SPEC §2 / §7: when PostgreSQL becomes unreachable the service answers 503 with
//! `Retry-After`, readiness turns 503, the process keeps serving, and it recovers by itself.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use idm_adapters_diesel::testdb::admin_execute;
use idm_blackbox_tests::{Backend, TestServer};

#[test]
fn database_outage_is_503_and_recovers() {
    let Some(s) = TestServer::start(Backend::Postgres) else {
        return;
    };
    let db = s
        .database_url
        .rsplit('/')
        .next()
        .unwrap()
        .split('?')
        .next()
        .unwrap()
        .to_owned();
    let path = "/nevisidm/api/core/v1/clients/default";
    assert_eq!(s.admin().get(path).status, 200);

    admin_execute(&format!(
        "ALTER DATABASE {db} ALLOW_CONNECTIONS false; \
         SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{db}';"
    ))
    .unwrap();
    let r = s.admin().get(path);
    r.assert_error(503, "errors.fatalError", "Service temporarily unavailable.");
    assert!(r.header("retry-after").is_some());
    assert_eq!(s.anonymous().get("/health/ready").status, 503);
    assert_eq!(s.anonymous().get("/health/live").status, 200);
    assert!(
        !r.text.contains(&db),
        "no internals in the body: {}",
        r.text
    );

    admin_execute(&format!("ALTER DATABASE {db} ALLOW_CONNECTIONS true;")).unwrap();
    let mut status = 0;
    for _ in 0..50 {
        status = s.admin().get(path).status;
        if status == 200 {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert_eq!(
        status, 200,
        "the service recovers once the database is back"
    );
    assert_eq!(s.anonymous().get("/health/ready").status, 200);
}
