//! `make bench`: every performance figure of the service in one run, against the release
//! binary on SQLite and on a throwaway PostgreSQL, at the production argon2 cost. Each figure is
//! a ratio or a bound measured in the same run, printed as one table with its target and
//! pass/fail, and written as JSON to `target/bench.json`. Figures are never asserted in
//! `make test`: machines are noisy; this is the evidence.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use base64::Engine;
use idm_adapters_diesel::{contract, Database};
use idm_blackbox_tests::load::{run, LoadResult, Shot};
use idm_blackbox_tests::{json, Backend, Options, TestServer, ADMIN_PASSWORD};
use idm_domain::user::UserState;
use idm_domain::ExtId;
use idm_ports::repos::{transact, TxMode};
use serde_json::Map;

const API: &str = "/nevisidm/api/core/v1";
const PW: &str = "Bench-Secret-1";
/// The length of each measured load.
const SECONDS: u64 = 4;

fn basic(user: &str, pw: &str) -> String {
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pw}"))
    )
}

fn server(backend: Backend, extra: &[(&str, &str)], url: Option<String>) -> Option<TestServer> {
    let mut env: Vec<(String, String)> = vec![
        ("IDM_ARGON2_MEMORY_KIB".into(), "19456".into()),
        ("IDM_ARGON2_ITERATIONS".into(), "2".into()),
        ("IDM_LOG_LEVEL".into(), "warn".into()),
        ("IDM_WORKERS".into(), "0".into()),
    ];
    for (k, v) in extra {
        env.push(((*k).into(), (*v).into()));
    }
    TestServer::start_with(
        backend,
        Options {
            env,
            database_url: url,
            ..Options::default()
        },
    )
}

/// One measured figure.
struct Row {
    name: String,
    target: String,
    values: Vec<(Backend, f64, bool)>,
    unit: &'static str,
}

struct Table {
    rows: Vec<Row>,
}

impl Table {
    fn add(
        &mut self,
        name: &str,
        target: &str,
        unit: &'static str,
        backend: Backend,
        value: f64,
        pass: bool,
    ) {
        match self.rows.iter_mut().find(|r| r.name == name) {
            Some(row) => row.values.push((backend, value, pass)),
            None => self.rows.push(Row {
                name: name.into(),
                target: target.into(),
                values: vec![(backend, value, pass)],
                unit,
            }),
        }
    }

    fn info(&mut self, name: &str, unit: &'static str, backend: Backend, value: f64) {
        self.add(name, "(info)", unit, backend, value, true);
    }

    fn print_and_save(&self) {
        println!();
        println!(
            "{:<58} {:>16} {:>16}  {:<22} result",
            "figure", "SQLite", "PostgreSQL", "target"
        );
        let mut json_rows = Vec::new();
        let mut all_pass = true;
        for row in &self.rows {
            let cell = |b: Backend| {
                row.values
                    .iter()
                    .find(|(bb, _, _)| *bb == b)
                    .map_or("—".to_owned(), |(_, v, _)| format!("{v:.2} {}", row.unit))
            };
            let pass = row.values.iter().all(|(_, _, p)| *p);
            all_pass &= pass;
            println!(
                "{:<58} {:>16} {:>16}  {:<22} {}",
                row.name,
                cell(Backend::Sqlite),
                cell(Backend::Postgres),
                row.target,
                if row.target == "(info)" {
                    ""
                } else if pass {
                    "pass"
                } else {
                    "FAIL"
                }
            );
            let mut values = Map::new();
            for (b, v, p) in &row.values {
                values.insert(
                    format!("{b:?}").to_lowercase(),
                    json!({"value": v, "pass": p}),
                );
            }
            json_rows.push(json!({"figure": row.name, "unit": row.unit, "target": row.target, "values": values}));
        }
        let doc = json!({"figures": json_rows, "all_pass": all_pass});
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/bench.json");
        let _ = std::fs::write(&path, serde_json::to_string_pretty(&doc).unwrap());
        println!("\nwritten to {}", path.display());
    }
}

fn load(s: &TestServer, shot: Shot, connections: usize, expect: u16) -> LoadResult {
    let _ = run(
        &shot,
        connections.min(4),
        Duration::from_millis(300),
        expect,
    ); // warm-up
    let r = run(&shot, connections, Duration::from_secs(SECONDS), expect);
    assert!(
        r.ok > 0 && r.errors * 100 <= r.ok + r.errors,
        "{} → too many errors: {} ok, {} errors; log:\n{}",
        shot.url,
        r.ok,
        r.errors,
        s.logs()
            .lines()
            .rev()
            .take(5)
            .collect::<Vec<_>>()
            .join("\n")
    );
    r
}

/// Users `staff-0..n` in client default with password PW and Helpdesk for default, each
/// with an OATH credential `oath-i`; the policy never locks (the bench measures throughput,
/// not the lockout).
fn setup(s: &TestServer, n: usize) {
    let admin = s.admin();
    let r = admin.post(
        &format!("{API}/default/policies"),
        &json!({"extId": "bench", "name": "bench", "policyType": "PwdPolicy",
                "parameters": {"resetCodeEnabled": "false", "tmpLockingThreshold": "-1",
                               "maxCredFailureCount": "-1"}}),
    );
    assert_eq!(r.status, 201, "{}", r.text);
    for i in 0..n {
        let login = format!("staff-{i}");
        assert_eq!(
            admin
                .post(
                    &format!("{API}/default/users"),
                    &json!({"extId": login, "loginId": login})
                )
                .status,
            201
        );
        let r = admin.post(
            &format!("{API}/default/users/{login}/password"),
            &json!({"policyExtId": "bench", "password": PW, "extId": format!("pw-{i}")}),
        );
        assert_eq!(r.status, 201, "{}", r.text);
        admin.post(
            &format!("{API}/default/users/{login}/roles"),
            &json!({"role": "SelfAdmin"}),
        );
        let r = admin.post(
            &format!("{API}/default/users/{login}/oath-credentials"),
            &json!({"extId": format!("oath-{i}"), "label": "bench"}),
        );
        assert_eq!(r.status, 201, "{}", r.text);
    }
}

/// argon2id verifications per second on all cores, in this process, at the service's cost.
fn raw_argon2_rate() -> f64 {
    use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
    use argon2::{Algorithm, Argon2, Params, Version};
    let params = Params::new(19456, 2, 1, None).unwrap();
    let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
    let salt = SaltString::encode_b64(b"bench-salt-16byt").unwrap();
    let phc = argon
        .hash_password(PW.as_bytes(), &salt)
        .unwrap()
        .to_string();
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    let start = Instant::now();
    let deadline = start + Duration::from_secs(SECONDS);
    let count: usize = std::thread::scope(|scope| {
        (0..cores)
            .map(|_| {
                scope.spawn(|| {
                    let parsed = PasswordHash::new(&phc).unwrap();
                    let mut n = 0;
                    while Instant::now() < deadline {
                        assert!(argon.verify_password(PW.as_bytes(), &parsed).is_ok());
                        n += 1;
                    }
                    n
                })
            })
            .collect::<Vec<_>>()
            .into_iter()
            .map(|h| h.join().unwrap())
            .sum()
    });
    count as f64 / start.elapsed().as_secs_f64()
}

fn main() {
    let mut table = Table { rows: Vec::new() };
    for backend in [Backend::Sqlite, Backend::Postgres] {
        println!("{backend:?}…");
        if !serve_figures(backend, &mut table) {
            println!("{backend:?}: no server; skipped");
            continue;
        }
        scale_figures(backend, &mut table);
    }
    table.print_and_save();
}

/// The request figures on one backend; `false` when the backend is not available.
fn serve_figures(backend: Backend, t: &mut Table) -> bool {
    let Some(s) = server(backend, &[], None) else {
        return false;
    };
    setup(&s, 4);
    let admin = Some(basic("default/admin", ADMIN_PASSWORD));
    let base = &s.base;
    let idle_kib = s.resident_kib().unwrap_or(0) as f64 / 1024.0;

    let live = load(&s, Shot::get(format!("{base}/health/live"), None), 32, 200);
    t.info(
        "GET /health/live, 32 connections",
        "req/s",
        backend,
        live.rps(),
    );

    let oath = format!("{base}{API}/default/users/staff-0/oath-credentials/oath-0");
    let cached = load(&s, Shot::get(oath.clone(), admin.clone()), 32, 200);
    let ratio = cached.rps() / live.rps() * 100.0;
    t.add(
        "cached GET OATH credential, 32 conn: % of live",
        "≥ 25 %",
        "%",
        backend,
        ratio,
        ratio >= 25.0,
    );
    t.add(
        "cached GET OATH credential, 32 conn: p99",
        "≤ 10 ms",
        "ms",
        backend,
        cached.pct_ms(0.99),
        cached.pct_ms(0.99) <= 10.0,
    );
    let single = load(&s, Shot::get(oath.clone(), admin.clone()), 1, 200);
    t.info(
        "cached GET OATH credential, 1 conn: mean",
        "ms",
        backend,
        1000.0 / single.rps(),
    );

    let bulk = Shot::post(
        format!("{base}{API}/default/users/staff-1/bulk-login-info"),
        admin.clone(),
        json!({"userLoginSuccessful": true, "credentials": [{"success": true, "credentialExtId": "pw-1"}]}).to_string(),
    );
    let bulk = load(&s, bulk, 8, 200);
    let ratio = bulk.rps() / live.rps() * 100.0;
    let (need, need_text) = match backend {
        Backend::Sqlite => (10.0, "≥ 10 %"),
        Backend::Postgres => (5.0, "≥ 5 %"),
    };
    t.add(
        "bulk-login-info (history on), 8 conn: % of live",
        need_text,
        "%",
        backend,
        ratio,
        ratio >= need,
    );
    t.add(
        "bulk-login-info (history on), 8 conn: p99",
        "≤ 25 ms",
        "ms",
        backend,
        bulk.pct_ms(0.99),
        bulk.pct_ms(0.99) <= 25.0,
    );

    // Token and password logins: one argon2id verification each, spread over four users,
    // against the raw argon2id rate measured just before, on the same machine state.
    let raw = raw_argon2_rate();
    t.info(
        "raw argon2id verifications/s, all cores (m=19456 t=2 p=1)",
        "/s",
        backend,
        raw,
    );
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    let conns = (cores * 4).max(8);
    let token_rate = multi_user_rate(&s, conns, |i| {
        Shot::post(
            format!("{base}/nevisidm/api/principal/v1/token"),
            Some(basic(&format!("default/staff-{i}"), PW)),
            json!({"grant_type": "password", "username": format!("staff-{i}"), "password": PW})
                .to_string(),
        )
    });
    let pct = token_rate / raw * 100.0;
    t.add(
        "token (one argon2id verify): % of raw argon2 rate",
        "≥ 90 %",
        "%",
        backend,
        pct,
        pct >= 90.0,
    );
    let login_rate = multi_user_rate(&s, conns, |i| {
        Shot::post(
            format!("{base}/nevisidm/api/auth/v1/default/users/staff-{i}/password/login"),
            admin.clone(),
            json!({"password": PW}).to_string(),
        )
    });
    let pct = login_rate / raw * 100.0;
    t.add(
        "password login (§11.1): % of raw argon2 rate",
        "≥ 90 %",
        "%",
        backend,
        pct,
        pct >= 90.0,
    );

    // Reads while logins saturate the hashing capacity.
    let idle = load(&s, Shot::get(oath.clone(), admin.clone()), 8, 200);
    let flood = Shot::post(
        format!("{base}/nevisidm/api/principal/v1/token"),
        Some(basic("default/staff-2", PW)),
        json!({"grant_type": "password", "username": "staff-2", "password": PW}).to_string(),
    );
    let (busy, peak) = std::thread::scope(|scope| {
        let flooding = scope.spawn(|| run(&flood, 64, Duration::from_secs(SECONDS + 1), 200));
        std::thread::sleep(Duration::from_millis(300));
        let peak_probe = scope.spawn(|| {
            let mut peak = 0u64;
            for _ in 0..20 {
                peak = peak.max(s.resident_kib().unwrap_or(0));
                std::thread::sleep(Duration::from_millis(150));
            }
            peak
        });
        let busy = run(
            &Shot::get(oath.clone(), admin.clone()),
            8,
            Duration::from_secs(SECONDS - 1),
            200,
        );
        let _ = flooding.join();
        (busy, peak_probe.join().unwrap())
    });
    let factor = busy.pct_ms(0.99) / idle.pct_ms(0.99).max(0.001);
    t.add(
        "cached GET p99 under a token flood ÷ idle p99 (8 conn)",
        "≤ 3×",
        "×",
        backend,
        factor,
        factor <= 3.0,
    );
    t.info(
        "cached GET p99 idle (8 conn)",
        "ms",
        backend,
        idle.pct_ms(0.99),
    );
    t.info(
        "cached GET p99 under token flood (8 conn)",
        "ms",
        backend,
        busy.pct_ms(0.99),
    );

    // Memory: idle, and under the §10.3 flood of made-up logins.
    let flood_peak = std::thread::scope(|scope| {
        let probe = scope.spawn(|| {
            let mut peak = 0u64;
            for _ in 0..20 {
                peak = peak.max(s.resident_kib().unwrap_or(0));
                std::thread::sleep(Duration::from_millis(100));
            }
            peak
        });
        let made_up = Shot::get(
            format!("{base}{API}/clients/default"),
            Some(basic("nobody", "guess")),
        );
        let _ = run(&made_up, 300, Duration::from_secs(2), 401);
        probe.join().unwrap()
    });
    t.add(
        "resident memory idle",
        "≤ 64 MiB",
        "MiB",
        backend,
        idle_kib,
        idle_kib <= 64.0,
    );
    let worst = (flood_peak.max(peak)) as f64 / 1024.0;
    t.add(
        "resident memory under floods (300 made-up / 64 token)",
        "≤ 512 MiB",
        "MiB",
        backend,
        worst,
        worst <= 512.0,
    );
    true
}

/// Requests per second of `shot(i)` spread over users 0..4, `conns` connections in all.
fn multi_user_rate(s: &TestServer, conns: usize, shot: impl Fn(usize) -> Shot + Sync) -> f64 {
    let _ = s;
    let results: Vec<LoadResult> = std::thread::scope(|scope| {
        (0..4)
            .map(|i| {
                let shot = shot(i);
                scope.spawn(move || {
                    run(&shot, (conns / 4).max(1), Duration::from_secs(SECONDS), 200)
                })
            })
            .collect::<Vec<_>>()
            .into_iter()
            .map(|h| h.join().unwrap())
            .collect()
    });
    let ok: u64 = results.iter().map(|r| r.ok).sum();
    let elapsed = results.iter().map(|r| r.elapsed).max().unwrap_or_default();
    ok as f64 / elapsed.as_secs_f64()
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

/// GET of a user and the first page of the user list at 1 000 and at 100 000 users, the users
/// seeded through the storage layer.
fn scale_figures(backend: Backend, t: &mut Table) {
    let dir = tempfile::tempdir().unwrap();
    let url = match backend {
        Backend::Sqlite => format!("sqlite://{}", dir.path().join("idm.sqlite3").display()),
        Backend::Postgres => match idm_adapters_diesel::testdb::fresh_postgres_url() {
            Some(url) => url,
            None => return,
        },
    };
    let s = server(backend, &[], Some(url.clone())).expect("server");
    let r = s.admin().post(
        &format!("{API}/clients"),
        &json!({"extId": "bench", "name": "Bench"}),
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
    let admin = Some(basic("default/admin", ADMIN_PASSWORD));
    let mut at: Vec<(f64, f64)> = Vec::new();
    let mut seeded = 0;
    for total in [1_000, 100_000] {
        seed(&db, &client_id, seeded..total);
        seeded = total;
        let s = server(backend, &[], Some(url.clone())).expect("server");
        let base = s.base.clone();
        let user = load(
            &s,
            Shot::get(format!("{base}{API}/bench/users/u000500"), admin.clone()),
            8,
            200,
        );
        let page = load(
            &s,
            Shot::get(
                format!("{base}{API}/clients/bench/users?limit=100"),
                admin.clone(),
            ),
            8,
            200,
        );
        at.push((user.pct_ms(0.50), page.pct_ms(0.50)));
    }
    let user_factor = at[1].0 / at[0].0.max(0.001);
    let page_factor = at[1].1 / at[0].1.max(0.001);
    t.add(
        "GET user p50: 100 000 users ÷ 1 000 users",
        "≤ 1.5×",
        "×",
        backend,
        user_factor,
        user_factor <= 1.5,
    );
    t.add(
        "user list first page p50: 100 000 ÷ 1 000 users",
        "≤ 1.5×",
        "×",
        backend,
        page_factor,
        page_factor <= 1.5,
    );
    t.info(
        "user list first page p50 at 100 000 users",
        "ms",
        backend,
        at[1].1,
    );
}
