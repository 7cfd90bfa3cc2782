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
