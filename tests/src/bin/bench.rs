//! `make bench`: throughput and latency of authenticated requests against the real binary,
//! with the caller-authentication cache on and off, at the production argon2 cost.
//! Figures are printed, never asserted: timing belongs in a benchmark, not in a test.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use idm_blackbox_tests::{Backend, Options, TestServer};

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
