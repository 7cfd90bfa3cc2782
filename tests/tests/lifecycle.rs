//! Black-box tests of start-up and shutdown (SPEC §7): bootstrap once, generated admin
//! password printed once, SIGTERM exits 0, configuration errors are clear.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::Command;

use idm_blackbox_tests::{server_binary, Backend, Options, TestServer};

#[test]
fn generated_admin_password_is_printed_once_and_works() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("db.sqlite3").display());
    let opts = Options {
        generated_admin_password: true,
        database_url: Some(url.clone()),
        ..Options::default()
    };
    let s = TestServer::start_with(Backend::Sqlite, opts.clone()).unwrap();
    let out = s.stdout();
    let password = out
        .lines()
        .find_map(|l| l.split("Generated password (shown only now): ").nth(1))
        .expect("password printed")
        .trim()
        .to_owned();
    assert_eq!(password.len(), 24);
    assert_eq!(
        s.as_user("default/admin", &password)
            .get("/nevisidm/api/core/v1/clients/default")
            .status,
        200
    );
    assert!(
        !s.logs().contains(&password),
        "the password never reaches the log"
    );
    let status = s.terminate();
    assert!(status.success(), "SIGTERM exits 0: {status:?}");

    // Second start on the same database: no new bootstrap, the password still works.
    let again = TestServer::start_with(Backend::Sqlite, opts).unwrap();
    assert!(!again.stdout().contains("Generated password"));
    assert_eq!(
        again
            .as_user("admin", &password)
            .get("/nevisidm/api/core/v1/clients/default")
            .status,
        200
    );
}

#[test]
fn sigterm_exits_zero() {
    let s = TestServer::start(Backend::Sqlite).unwrap();
    assert_eq!(s.anonymous().get("/health/ready").status, 200);
    assert!(s.terminate().success());
}

#[test]
fn bad_configuration_fails_clearly() {
    let run = |envs: &[(&str, &str)]| {
        let mut cmd = Command::new(server_binary());
        cmd.arg("check-config").env_clear();
        for (k, v) in envs {
            cmd.env(k, v);
        }
        cmd.output().unwrap()
    };
    let out = run(&[("IDM_LISTEN", "not-an-address")]);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("IDM_LISTEN"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let out = run(&[("IDM_DATABASE_URL", "mysql://x")]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("IDM_DATABASE_URL"));

    let out = run(&[("IDM_DATABASE_URL", "postgres://idm:hunter2@127.0.0.1:1/idm")]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !err.contains("hunter2"),
        "no password in the message: {err}"
    );

    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("x.sqlite3").display());
    let out = run(&[("IDM_DATABASE_URL", &url), ("IDM_ENCRYPTION_KEY", "short")]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("IDM_ENCRYPTION_KEY"));
}

#[test]
fn postgres_without_secrets_fails_start_up_clearly() {
    let Some(url) = idm_adapters_diesel::testdb::fresh_postgres_url() else {
        return;
    };
    let out = Command::new(server_binary())
        .arg("check-config")
        .env_clear()
        .env("IDM_DATABASE_URL", &url)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("IDM_JWT_SECRET") && err.contains("PostgreSQL"),
        "{err}"
    );
}

#[test]
fn sqlite_key_file_keeps_tokens_valid_across_restarts() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("db.sqlite3").display());
    // No configured secrets: the server generates them once into the key file.
    let opts = Options {
        database_url: Some(url),
        env: vec![
            ("IDM_JWT_SECRET".into(), String::new()),
            ("IDM_ENCRYPTION_KEY".into(), String::new()),
        ],
        ..Options::default()
    };
    let s = TestServer::start_with(Backend::Sqlite, opts.clone()).unwrap();
    assert!(
        s.logs().contains("key file"),
        "a warning names the key file"
    );
    let key_file = dir.path().join("db.sqlite3.keys.json");
    assert!(key_file.exists());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&key_file).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
    let admin = s.admin();
    let api = "/nevisidm/api/core/v1/default/users";
    assert_eq!(
        admin
            .post(api, &serde_json::json!({"extId": "u9", "loginId": "sam"}))
            .status,
        201
    );
    let created = admin.post(&format!("{api}/u9/password"), &serde_json::json!({}));
    assert_eq!(created.status, 201, "{}", created.text);
    let pw = created.json()["passwordFragment"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        admin
            .post(
                &format!("{api}/u9/roles"),
                &serde_json::json!({"role": "SelfAdmin"})
            )
            .status,
        201
    );
    let r = s.as_user("default/sam", &pw).post(
        "/nevisidm/api/principal/v1/token",
        &serde_json::json!({"username": "sam", "password": pw, "grant_type": "password"}),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    let token = r.json()["access_token"].as_str().unwrap().to_owned();
    let before = std::fs::read_to_string(&key_file).unwrap();
    assert!(s.terminate().success());

    let again = TestServer::start_with(Backend::Sqlite, opts).unwrap();
    assert_eq!(
        std::fs::read_to_string(&key_file).unwrap(),
        before,
        "generated once"
    );
    // The token still validates after the restart: the self-admin reset accepts it.
    let r = again.as_user("default/sam", &pw).send(
        "POST",
        &format!("{api}/u9/password/reset"),
        None,
        &[("X-Token", token.as_str())],
    );
    assert_eq!(r.status, 201, "{}", r.text);
}

#[test]
fn a_wrong_encryption_key_fails_start_up_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("db.sqlite3").display());
    let opts = Options {
        database_url: Some(url.clone()),
        ..Options::default()
    };
    let s = TestServer::start_with(Backend::Sqlite, opts).unwrap();
    assert!(s.terminate().success());
    let other_key = "MTExMTExMTExMTExMTExMTExMTExMTExMTExMTExMTE="; // 32 bytes of '1'
    for command in ["check-config", "serve"] {
        let out = Command::new(server_binary())
            .arg(command)
            .env_clear()
            .env("IDM_DATABASE_URL", &url)
            .env("IDM_LISTEN", "127.0.0.1:0")
            .env("IDM_JWT_SECRET", idm_blackbox_tests::JWT_SECRET)
            .env("IDM_ENCRYPTION_KEY", other_key)
            .output()
            .unwrap();
        assert!(!out.status.success(), "{command} must refuse a wrong key");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("IDM_ENCRYPTION_KEY is not the key"),
            "{command}: {err}"
        );
    }
}
