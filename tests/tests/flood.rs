//! Black-box test of bounded hashing (SPEC §10.3): a flood of unauthenticated work at the
//! production argon2 cost. In a test binary of its own, so no other test competes with it for
//! the machine while it measures latencies.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use base64::Engine;
use idm_blackbox_tests::{Backend, Options, TestServer};

const API: &str = "/nevisidm/api/core/v1";

/// 300 concurrent requests with random Basic credentials at the production argon2 cost: some
/// answer 503 with `Retry-After`, resident memory stays under 512 MiB, and `/health/ready` and a
/// cached authenticated GET answer within 100 ms throughout (SPEC §10.3).
#[test]
fn an_unauthenticated_hashing_flood_is_bounded() {
    let Some(s) = TestServer::start_with(
        Backend::Sqlite,
        Options {
            env: vec![
                ("IDM_ARGON2_MEMORY_KIB".into(), "19456".into()),
                ("IDM_ARGON2_ITERATIONS".into(), "2".into()),
                ("IDM_LOG_LEVEL".into(), "info".into()),
                // More HTTP workers than cores, as a deployment expecting floods runs: a probe
                // then never queues behind a worker's share of the flood.
                ("IDM_WORKERS".into(), "8".into()),
            ],
            ..Options::default()
        },
    ) else {
        return;
    };
    // Warm the authentication cache of the admin.
    assert_eq!(s.admin().get(&format!("{API}/clients/default")).status, 200);
    let done = std::sync::atomic::AtomicBool::new(false);
    let (statuses, probes, peak_kib) = std::thread::scope(|scope| {
        let prober = scope.spawn(|| {
            // Its own HTTP client: the flood's shared client queues requests on one thread,
            // which would measure the test, not the server.
            let client = reqwest::blocking::Client::builder()
                .timeout(Duration::from_secs(10))
                .build()
                .unwrap();
            let admin = format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(format!(
                    "default/admin:{}",
                    idm_blackbox_tests::ADMIN_PASSWORD
                ))
            );
            let mut probes = Vec::new();
            let mut peak = 0u64;
            while !done.load(std::sync::atomic::Ordering::SeqCst) {
                let t = Instant::now();
                let ready = client
                    .get(format!("{}/health/ready", s.base))
                    .send()
                    .map_or(0, |r| r.status().as_u16());
                let ready_ms = t.elapsed().as_millis();
                let t = Instant::now();
                let read = client
                    .get(format!("{}{API}/clients/default", s.base))
                    .header("Authorization", &admin)
                    .send()
                    .map_or(0, |r| r.status().as_u16());
                let read_ms = t.elapsed().as_millis();
                probes.push((ready, ready_ms, read, read_ms));
                peak = peak.max(s.resident_kib().unwrap_or(0));
                std::thread::sleep(Duration::from_millis(200));
            }
            (probes, peak)
        });
        let statuses = flood(&s.base, 300);
        done.store(true, std::sync::atomic::Ordering::SeqCst);
        let (probes, peak) = prober.join().unwrap();
        (statuses, probes, peak)
    });
    let busy: Vec<_> = statuses.iter().filter(|(st, _)| *st == 503).collect();
    assert!(!busy.is_empty(), "no 503 under the flood");
    assert!(busy.iter().all(|(_, ra)| ra.as_deref() == Some("1")));
    assert!(statuses.iter().all(|(st, _)| *st == 401 || *st == 503));
    assert!(!probes.is_empty());
    for (ready, ready_ms, read, read_ms) in &probes {
        assert_eq!(*ready, 200);
        assert_eq!(*read, 200);
        assert!(
            *ready_ms <= 100,
            "/health/ready took {ready_ms} ms: {probes:?}"
        );
        assert!(*read_ms <= 100, "cached GET took {read_ms} ms: {probes:?}");
    }
    assert!(peak_kib < 512 * 1024, "resident {peak_kib} KiB");
}

/// `n` concurrent requests with random Basic credentials, sent from one async thread; their
/// statuses and `Retry-After` headers.
fn flood(base: &str, n: usize) -> Vec<(u16, Option<String>)> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .unwrap();
        let mut set = tokio::task::JoinSet::new();
        for i in 0..n {
            let client = client.clone();
            let url = format!("{base}{API}/clients/default");
            let auth = format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(format!("nobody-{i}:guess-{i}"))
            );
            set.spawn(async move {
                match client.get(url).header("Authorization", auth).send().await {
                    Ok(r) => (
                        r.status().as_u16(),
                        r.headers()
                            .get("retry-after")
                            .and_then(|v| v.to_str().ok())
                            .map(ToOwned::to_owned),
                    ),
                    Err(_) => (0, None),
                }
            });
        }
        let mut out = Vec::new();
        while let Some(r) = set.join_next().await {
            out.push(r.unwrap());
        }
        out
    })
}
