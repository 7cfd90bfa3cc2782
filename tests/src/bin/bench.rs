//! `make bench`: throughput and latency of authenticated requests against the real binary,
//! with the caller-authentication cache on and off, at the production argon2 cost; and the
//! first page of the user list (plain and filtered) and a user read at 1 000 and at 100 000
//! users of one client (SPEC §12), the users seeded through the storage layer.
//! Figures are printed, never asserted: timing belongs in a benchmark, not in a test.
//! `bench users` runs only the user-list case, `bench auth` only the first.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use idm_adapters_diesel::{contract, Database};
use idm_blackbox_tests::{Backend, Options, TestServer};
use idm_domain::user::UserState;
use idm_domain::ExtId;
use idm_ports::repos::{transact, TxMode};

struct Figures {
    requests: usize,
    elapsed: Duration,
    latencies: Vec<Duration>,
}

impl Figures {
    fn print(&self, label: &str) {
        let mut l = self.latencies.clone();
        l.sort();
        let pct = |p: f64| l[((l.len() as f64 * p) as usize).min(l.len() - 1)];
        println!(
            "{label:<48} {:>6} req  {:>9.1} req/s  p50 {:>7.2} ms  p99 {:>7.2} ms",
            self.requests,
            self.requests as f64 / self.elapsed.as_secs_f64(),
            pct(0.50).as_secs_f64() * 1000.0,
            pct(0.99).as_secs_f64() * 1000.0,
        );
    }
}

fn load(
    s: &TestServer,
    path: &str,
    authenticated: bool,
    threads: usize,
    per_thread: usize,
) -> Figures {
    let start = Instant::now();
    let latencies: Vec<Duration> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    let mut out = Vec::with_capacity(per_thread);
                    for _ in 0..per_thread {
                        let t = Instant::now();
                        let r = if authenticated {
                            s.admin().get(path)
                        } else {
                            s.anonymous().get(path)
                        };
                        assert_eq!(r.status, 200, "{}", r.text);
                        out.push(t.elapsed());
                    }
                    out
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    });
    Figures {
        requests: latencies.len(),
        elapsed: start.elapsed(),
        latencies,
    }
}

fn server(backend: Backend, cache_ttl: &str) -> Option<TestServer> {
    TestServer::start_with(
        backend,
        Options {
            env: vec![
                ("IDM_ARGON2_MEMORY_KIB".into(), "19456".into()),
                ("IDM_ARGON2_ITERATIONS".into(), "2".into()),
                ("IDM_AUTH_CACHE_TTL_SECONDS".into(), cache_ttl.into()),
                ("IDM_LOG_LEVEL".into(), "warn".into()),
            ],
            ..Options::default()
        },
    )
}

fn main() {
    let only = std::env::args().nth(1);
    if only.as_deref() != Some("users") {
        auth();
    }
    if only.as_deref() != Some("auth") {
        println!();
        for backend in [Backend::Sqlite, Backend::Postgres] {
            user_list(backend);
        }
    }
}

/// One client's users `from..to`: searchable fields, one creation instant per user.
fn seed(db: &Database, client_id: &str, range: std::ops::Range<usize>) {
    let base = chrono::DateTime::from_timestamp(1_700_000_000, 0).expect("instant");
    let ids: Vec<usize> = range.collect();
    for chunk in ids.chunks(5_000) {
        transact(db, TxMode::Write, |r| {
            for i in chunk {
                let mut u = contract::user(client_id);
                u.ext_id = ExtId::parse(&format!("u{i:06}")).expect("extId");
                u.login_id = format!("user{i:06}");
                u.state = UserState::Active;
                u.name.family_name = Some(format!("Family{:04}", i % 5_000));
                u.contacts.email = Some(format!("User{i:06}@bench.example"));
                u.created = base + chrono::Duration::milliseconds(*i as i64);
                r.users().insert(&u)?;
            }
            Ok(())
        })
        .expect("seed users");
    }
}

/// SPEC §12 at 1 000 and at 100 000 users of one client: the first page of the list, a
/// selective and an unselective prefix search, an e-mail lookup, and one user. The server is
/// restarted after seeding, as after a bulk import, so its connections see the new table (and
/// SQLite's `PRAGMA optimize` its statistics); PostgreSQL's are refreshed with `ANALYZE`, as
/// autovacuum would.
fn user_list(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let url = match backend {
        Backend::Sqlite => format!("sqlite://{}", dir.path().join("idm.sqlite3").display()),
        Backend::Postgres => match idm_adapters_diesel::testdb::fresh_postgres_url() {
            Some(url) => url,
            None => {
                println!("{backend:?}: no server, user list skipped");
                return;
            }
        },
    };
    let options = || Options {
        env: vec![("IDM_LOG_LEVEL".into(), "warn".into())],
        database_url: Some(url.clone()),
        ..Options::default()
    };
    let s = TestServer::start_with(backend, options()).expect("server");
    let r = s.admin().post(
        "/nevisidm/api/core/v1/clients",
        &idm_blackbox_tests::json!({"extId": "bench", "name": "Bench"}),
    );
    assert_eq!(r.status, 201, "{}", r.text);
    drop(s);
    let db = Database::connect(&url, 2, Duration::from_secs(30)).expect("database");
    let client_id = transact(&db, TxMode::Read, |r| {
        Ok(r.clients().find_by_ext_id("bench")?)
    })
    .expect("read")
    .expect("client bench")
    .id;
    let list = "/nevisidm/api/core/v1/clients/bench/users";
    let mut seeded = 0;
    for total in [1_000, 100_000] {
        let t = Instant::now();
        seed(&db, &client_id, seeded..total);
        println!(
            "{backend:?}: {} users seeded through the repositories in {:.1} s",
            total - seeded,
            t.elapsed().as_secs_f64()
        );
        seeded = total;
        if backend == Backend::Postgres {
            // What autovacuum does within a minute of a bulk import: fresh planner statistics.
            let analyzed = std::process::Command::new("psql")
                .args(["-X", "-q", "-c", "ANALYZE users", &url])
                .status()
                .is_ok_and(|s| s.success());
            if !analyzed {
                println!("{backend:?}: psql ANALYZE failed; figures use stale statistics");
            }
        }
        let s = TestServer::start_with(backend, options()).expect("server");
        let _ = load(&s, &format!("{list}?limit=100"), true, 1, 20); // warm-up
        for (label, path) in [
            ("first page", format!("{list}?limit=100")),
            (
                "q=family0042 (selective)",
                format!("{list}?q=family0042&limit=100"),
            ),
            ("q=user (every user)", format!("{list}?q=user&limit=100")),
            ("q=zzz (no user)", format!("{list}?q=zzz&limit=100")),
            (
                "email=USER000500@…",
                format!("{list}?email=USER000500%40bench.example"),
            ),
            (
                "userState=disabled (none)",
                format!("{list}?userState=disabled"),
            ),
        ] {
            load(&s, &path, true, 4, 50)
                .print(&format!("{backend:?} {total:>6} users: list {label}"));
        }
        load(&s, "/nevisidm/api/core/v1/bench/users/u000500", true, 4, 50)
            .print(&format!("{backend:?} {total:>6} users: GET user"));
    }
}

/// Throughput and latency of authenticated requests, auth cache on and off.
fn auth() {
    let path = "/nevisidm/api/core/v1/clients/default";
    println!(
        "idm bench: server {}, 4 client threads, argon2id m=19456 KiB t=2 p=1\n",
        idm_blackbox_tests::server_binary().display()
    );
    for backend in [Backend::Sqlite, Backend::Postgres] {
        let Some(s) = server(backend, "60") else {
            println!("{backend:?}: no server, skipped");
            continue;
        };
        let _ = load(&s, path, true, 1, 20); // warm-up
        load(&s, "/health/live", false, 4, 500)
            .print(&format!("{backend:?} GET /health/live (no auth)"));
        load(&s, path, true, 4, 500)
            .print(&format!("{backend:?} GET client, Basic, auth cache on"));
        drop(s);
        let Some(s) = server(backend, "0") else {
            continue;
        };
        load(&s, path, true, 4, 25)
            .print(&format!("{backend:?} GET client, Basic, auth cache off"));
    }
}
