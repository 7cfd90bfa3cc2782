//! Black-box tests of the scale-out set-up (docs/operations.md): two server processes on one
//! PostgreSQL database. Whatever one instance writes — failure counters, locks, a new password,
//! a new version — the other sees at once; only the authentication cache is per instance, and it
//! is keyed by credential version. Also: `check-config` accepts `deploy/idm.env.example` as
//! written. Skipped without PostgreSQL outside CI, like the other PostgreSQL tests.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
use std::process::Command;

use idm_blackbox_tests::{
    json, server_binary, Backend, Options, TestServer, ENCRYPTION_KEY, JWT_SECRET,
};
use serde_json::Value;

const API: &str = "/nevisidm/api/core/v1";

/// Instance A on a fresh PostgreSQL database and instance B on the same one, both with the
/// kit's secrets and the authentication cache on.
fn two_instances() -> Option<(TestServer, TestServer)> {
    let env = vec![("IDM_AUTH_CACHE_TTL_SECONDS".to_owned(), "60".to_owned())];
    let a = TestServer::start_with(
        Backend::Postgres,
        Options {
            env: env.clone(),
            ..Options::default()
        },
    )?;
    let b = TestServer::start_with(
        Backend::Postgres,
        Options {
            env,
            database_url: Some(a.database_url.clone()),
            ..Options::default()
        },
    )?;
    assert_eq!(a.database_url, b.database_url);
    assert_ne!(a.base, b.base);
    Some((a, b))
}

fn created(r: &idm_blackbox_tests::Reply) {
    assert_eq!(r.status, 201, "{}", r.text);
}

/// Client acme (through `s`).
fn client(s: &TestServer) {
    created(&s.admin().post(
        &format!("{API}/clients"),
        &json!({"extId": "acme", "name": "Acme"}),
    ));
}

/// A PwdPolicy `ext_id` of acme that locks for good after `max` failures.
fn lockout_policy(s: &TestServer, ext_id: &str, max: u32) {
    created(&s.admin().post(
        &format!("{API}/acme/policies"),
        &json!({"extId": ext_id, "name": ext_id, "policyType": "PwdPolicy", "parameters": {
            "resetCodeEnabled": "false",
            "maxCredFailureCount": max.to_string(),
            "tmpLockingThreshold": "-1"
        }}),
    ));
}

/// User `user` (loginId `login`) of acme with the supplied password `Long-Enough-1` under
/// `policy`, credential extId `cred`.
fn user_with_password(s: &TestServer, user: &str, login: &str, policy: &str, cred: &str) {
    created(&s.admin().post(
        &format!("{API}/acme/users"),
        &json!({"extId": user, "loginId": login}),
    ));
    created(&s.admin().post(
        &format!("{API}/acme/users/{user}/password"),
        &json!({"extId": cred, "policyExtId": policy, "password": "Long-Enough-1"}),
    ));
}

fn password_of(s: &TestServer, user: &str) -> Value {
    let r = s.admin().get(&format!("{API}/acme/users/{user}/password"));
    assert_eq!(r.status, 200, "{}", r.text);
    r.json()
}

/// 403 proves the password authenticated (the user holds no rights); 401 proves it did not.
fn login_status(s: &TestServer, login: &str, password: &str) -> u16 {
    s.as_user(&format!("acme/{login}"), password)
        .get(&format!("{API}/clients/acme"))
        .status
}

#[test]
fn lockout_counters_hold_across_instances() {
    let Some((a, b)) = two_instances() else {
        return;
    };
    client(&a);
    lockout_policy(&b, "pwd", 20);
    user_with_password(&a, "u1", "jdoe", "pwd", "pw-1");

    // 20 concurrent failure reports, every other one to the other instance: exactly 20 counted,
    // exactly one of them locked the credential.
    let failure = json!({"userLoginSuccessful": false, "credentials": [{"success": false, "credentialExtId": "pw-1"}]});
    let codes: Vec<i64> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..20)
            .map(|i| {
                let s = if i % 2 == 0 { &a } else { &b };
                let failure = &failure;
                scope.spawn(move || {
                    let r = s
                        .admin()
                        .post(&format!("{API}/acme/users/u1/bulk-login-info"), failure);
                    assert_eq!(r.status, 200, "{}", r.text);
                    r.json()["successes"][0]["statusCode"].as_i64().unwrap()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(
        codes.iter().filter(|c| **c == 4).count(),
        1,
        "locked exactly once: {codes:?}"
    );
    assert_eq!(codes.iter().filter(|c| **c == 2).count(), 19, "{codes:?}");
    for s in [&a, &b] {
        let cred = password_of(s, "u1");
        assert_eq!(cred["failedLoginCount"], 20, "{cred}");
        assert_eq!(cred["stateName"], "fail-locked", "{cred}");
        assert_eq!(cred["stateChangeReason"], "too-many-login-failures");
        let user = s.admin().get(&format!("{API}/acme/users/u1")).json();
        assert_eq!(user["version"], 1 + 20, "every user report counted once");
        assert_eq!(
            login_status(s, "jdoe", "Long-Enough-1"),
            401,
            "locked on both"
        );
    }

    // Basic failures on A and then on B count together. B authenticates the user first, so its
    // cache holds the good password; the lock written through A must still refuse it on B.
    lockout_policy(&a, "pwd2", 2);
    user_with_password(&b, "u2", "mallory", "pwd2", "pw-2");
    assert_eq!(login_status(&b, "mallory", "Long-Enough-1"), 403);
    assert_eq!(login_status(&b, "mallory", "Long-Enough-1"), 403);
    assert_eq!(login_status(&a, "mallory", "wrong-password-1"), 401);
    let after_a = password_of(&b, "u2");
    assert_eq!(after_a["failedLoginCount"], 1, "{after_a}");
    assert_eq!(after_a["stateName"], "active", "{after_a}");
    assert_eq!(login_status(&b, "mallory", "wrong-password-2"), 401);
    for s in [&a, &b] {
        let cred = password_of(s, "u2");
        assert_eq!(cred["failedLoginCount"], 2, "{cred}");
        assert_eq!(cred["stateName"], "fail-locked", "{cred}");
        assert_eq!(
            login_status(s, "mallory", "Long-Enough-1"),
            401,
            "the lock holds on {} even with the right (cached) password",
            s.base
        );
    }
}

/// `idm_auth_cache_hits_total` of one instance (`None` when it serves no metrics).
fn cache_hits(s: &TestServer) -> Option<f64> {
    let r = s.anonymous().get("/metrics");
    if r.status != 200 {
        return None;
    }
    r.text
        .lines()
        .find_map(|l| l.strip_prefix("idm_auth_cache_hits_total "))
        .and_then(|v| v.trim().parse().ok())
}

#[test]
fn a_password_reset_on_one_instance_is_seen_at_once_on_the_other() {
    let Some((a, b)) = two_instances() else {
        return;
    };
    client(&a);
    created(&a.admin().post(
        &format!("{API}/acme/users"),
        &json!({"extId": "u3", "loginId": "sam"}),
    ));
    // The client's default PwdPolicy generates 12 characters and hands all of them back.
    let r = a
        .admin()
        .post(&format!("{API}/acme/users/u3/password"), &json!({}));
    created(&r);
    let old = r.json()["passwordFragment"].as_str().unwrap().to_owned();
    assert_eq!(old.len(), 12, "{}", r.text);

    // B authenticates with it twice: the second answer comes from B's cache.
    assert_eq!(login_status(&b, "sam", &old), 403);
    let hits = cache_hits(&b);
    assert_eq!(login_status(&b, "sam", &old), 403);
    if let (Some(before), Some(after)) = (hits, cache_hits(&b)) {
        assert!(
            after > before,
            "B answered from its cache: {before} -> {after}"
        );
    }
    assert_eq!(login_status(&a, "sam", &old), 403);

    let r = a.admin().send(
        "POST",
        &format!("{API}/acme/users/u3/password/reset"),
        None,
        &[],
    );
    created(&r);
    let new = r.json()["passwordFragment"].as_str().unwrap().to_owned();
    assert_eq!(new.len(), 12, "{}", r.text);
    assert_ne!(new, old);

    // No waiting for the cache to expire: B re-reads the changed credential at once.
    assert_eq!(
        login_status(&b, "sam", &old),
        401,
        "the old password stops working on the other instance at once"
    );
    assert_eq!(
        login_status(&b, "sam", &new),
        403,
        "the new one works there"
    );
    assert_eq!(login_status(&a, "sam", &old), 401);
    assert_eq!(login_status(&a, "sam", &new), 403);
    let cred = password_of(&b, "u3");
    assert_eq!(cred["stateChangeReason"], "reset-by-admin", "{cred}");
}

#[test]
fn optimistic_locking_holds_across_instances() {
    let Some((a, b)) = two_instances() else {
        return;
    };
    client(&b);
    let one = format!("{API}/acme/policies/default-OathPolicy");
    let read = a.admin().get(&one);
    assert_eq!(read.status, 200, "{}", read.text);
    let version = read.json()["version"].as_i64().unwrap();

    let patched = b
        .admin()
        .patch(&one, &json!({"version": version, "description": "from B"}));
    assert_eq!(patched.status, 200, "{}", patched.text);
    assert_eq!(patched.json()["version"], version + 1);

    a.admin()
        .patch(&one, &json!({"version": version, "description": "from A"}))
        .assert_error(
            409,
            "errors.optimisticLockingFailure",
            "The entity was modified concurrently; reload it and retry.",
        );
    for s in [&a, &b] {
        let now = s.admin().get(&one).json();
        assert_eq!(now["version"], version + 1, "{now}");
        assert_eq!(now["description"], "from B", "{now}");
    }
}

// ---- the deployment files ----------------------------------------------------------------------

fn deploy_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../deploy")
}

/// `KEY=VALUE` pairs in file order.
type Vars = Vec<(String, String)>;

/// The active `KEY=VALUE` lines of `deploy/idm.env.example`, in order, and the commented-out
/// alternatives (`# IDM_X=...`).
fn env_example() -> (Vars, Vars) {
    let text = std::fs::read_to_string(deploy_dir().join("idm.env.example")).unwrap();
    let mut active = Vec::new();
    let mut commented = Vec::new();
    for line in text.lines() {
        let line = line.trim();
        let (target, body) = match line.strip_prefix('#') {
            Some(rest) => (&mut commented, rest.trim()),
            None => (&mut active, line),
        };
        if let Some((k, v)) = body.split_once('=') {
            if k.starts_with("IDM_") && !k.contains(' ') {
                assert!(
                    !v.starts_with('"') && !v.starts_with('\''),
                    "no quotes: systemd and docker read them differently: {line}"
                );
                target.push((k.to_owned(), v.to_owned()));
            }
        }
    }
    (active, commented)
}

/// Runs `idm-server check-config` with exactly the example's variables, `overrides` replacing
/// the values of the keys it names (each of which the example must list).
fn check_config_with_example(overrides: &[(&str, &str)]) -> std::process::Output {
    let (vars, _) = env_example();
    for (k, _) in overrides {
        assert!(
            vars.iter().any(|(key, _)| key == k),
            "deploy/idm.env.example does not list {k}"
        );
    }
    let mut cmd = Command::new(server_binary());
    cmd.arg("check-config")
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default());
    for (k, v) in &vars {
        let v = overrides
            .iter()
            .find(|(key, _)| key == k)
            .map_or(v.as_str(), |(_, value)| value);
        cmd.env(k, v);
    }
    cmd.output().unwrap()
}

#[test]
fn the_env_example_lists_every_setting() {
    let (vars, _) = env_example();
    for key in [
        "IDM_LISTEN",
        "IDM_DATABASE_URL",
        "IDM_DB_POOL_SIZE",
        "IDM_DB_POOL_TIMEOUT_MS",
        "IDM_JWT_SECRET",
        "IDM_JWT_LIFETIME_SECONDS",
        "IDM_ENCRYPTION_KEY",
        "IDM_BOOTSTRAP_ADMIN_LOGIN",
        "IDM_BOOTSTRAP_ADMIN_PASSWORD",
        "IDM_ARGON2_MEMORY_KIB",
        "IDM_ARGON2_ITERATIONS",
        "IDM_ARGON2_PARALLELISM",
        "IDM_AUTH_CACHE_TTL_SECONDS",
        "IDM_LOG_FORMAT",
        "IDM_LOG_LEVEL",
        "IDM_MAX_BODY_BYTES",
        "IDM_SHUTDOWN_TIMEOUT_SECONDS",
        "IDM_WORKERS",
    ] {
        assert_eq!(
            vars.iter().filter(|(k, _)| k == key).count(),
            1,
            "{key} once in deploy/idm.env.example"
        );
    }
    // The secrets ship empty: a forgotten one fails start-up on PostgreSQL instead of running
    // with a published value.
    for key in [
        "IDM_JWT_SECRET",
        "IDM_ENCRYPTION_KEY",
        "IDM_BOOTSTRAP_ADMIN_PASSWORD",
    ] {
        assert!(vars.iter().any(|(k, v)| k == key && v.is_empty()), "{key}");
    }
    // The shutdown timeout stays below the systemd stop timeout.
    let unit = std::fs::read_to_string(deploy_dir().join("idm.service")).unwrap();
    let stop: u64 = unit
        .lines()
        .find_map(|l| l.trim().strip_prefix("TimeoutStopSec="))
        .expect("TimeoutStopSec in deploy/idm.service")
        .trim()
        .parse()
        .unwrap();
    let shutdown: u64 = vars
        .iter()
        .find(|(k, _)| k == "IDM_SHUTDOWN_TIMEOUT_SECONDS")
        .unwrap()
        .1
        .parse()
        .unwrap();
    assert!(stop > shutdown, "TimeoutStopSec {stop} > {shutdown}");
}

#[test]
fn check_config_accepts_the_env_example_on_postgres() {
    let Some(url) = idm_adapters_diesel::testdb::fresh_postgres_url() else {
        return;
    };
    let out = check_config_with_example(&[
        ("IDM_DATABASE_URL", &url),
        ("IDM_JWT_SECRET", JWT_SECRET),
        ("IDM_ENCRYPTION_KEY", ENCRYPTION_KEY),
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "check-config failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("configuration ok"), "{stdout}");
    assert!(
        !stdout.contains(JWT_SECRET) && !stdout.contains(ENCRYPTION_KEY),
        "secrets are redacted: {stdout}"
    );

    // As shipped (secrets empty) it refuses to run on PostgreSQL.
    let out = check_config_with_example(&[("IDM_DATABASE_URL", &url)]);
    assert!(
        !out.status.success(),
        "PostgreSQL without secrets must be refused"
    );
}

#[test]
fn check_config_accepts_the_env_example_with_its_sqlite_alternative() {
    let (_, commented) = env_example();
    let sqlite = commented
        .iter()
        .find(|(k, v)| k == "IDM_DATABASE_URL" && v.starts_with("sqlite://"))
        .expect("a commented-out SQLite IDM_DATABASE_URL in deploy/idm.env.example")
        .1
        .clone();
    let file_name = std::path::Path::new(sqlite.trim_start_matches("sqlite://"))
        .file_name()
        .unwrap()
        .to_owned();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join(file_name);
    let url = format!("sqlite://{}", db.display());
    // The secrets stay empty as shipped: SQLite generates them into <db>.keys.json.
    let out = check_config_with_example(&[("IDM_DATABASE_URL", &url)]);
    assert!(
        out.status.success(),
        "check-config failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        PathBuf::from(format!("{}.keys.json", db.display())).exists(),
        "the SQLite key file README/deploy docs name"
    );
}
