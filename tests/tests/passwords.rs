//! Black-box tests of password credentials and the reset (SPEC §6.1, §8.5, §8.7) on SQLite
//! and PostgreSQL.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::Command;

use idm_blackbox_tests::{
    json, on_both_backends, server_binary, Reply, TestServer, ENCRYPTION_KEY, JWT_SECRET,
};

const API: &str = "/nevisidm/api/core/v1";

fn setup(s: &TestServer, params: serde_json::Value) {
    let admin = s.admin();
    assert_eq!(
        admin
            .post(
                &format!("{API}/clients"),
                &json!({"extId": "acme", "name": "Acme"})
            )
            .status,
        201
    );
    let r = admin.post(
        &format!("{API}/acme/policies"),
        &json!({"extId": "pwd", "name": "P", "policyType": "PwdPolicy", "parameters": params}),
    );
    assert_eq!(r.status, 201, "{}", r.text);
    let r = admin.post(
        &format!("{API}/acme/users"),
        &json!({"extId": "u1", "loginId": "jdoe"}),
    );
    assert_eq!(r.status, 201, "{}", r.text);
}

fn pwd_path() -> String {
    format!("{API}/acme/users/u1/password")
}

/// 403 proves the password authenticated (the user holds no rights); 401 proves it did not.
fn login_status(s: &TestServer, password: &str) -> u16 {
    s.as_user("acme/jdoe", password)
        .get(&format!("{API}/clients/acme"))
        .status
}

fn outbox(s: &TestServer) -> String {
    let out = Command::new(server_binary())
        .args(["outbox", "list", "--reveal"])
        .env_clear()
        .env("IDM_DATABASE_URL", &s.database_url)
        .env("IDM_JWT_SECRET", JWT_SECRET)
        .env("IDM_ENCRYPTION_KEY", ENCRYPTION_KEY)
        .env("IDM_LOG_LEVEL", "error")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn fragment(r: &Reply) -> String {
    r.json()["passwordFragment"].as_str().unwrap().to_owned()
}

fn generated_password_split_between_caller_and_outbox(s: &TestServer) {
    setup(s, json!({"generatedLength": "16", "fragmentLength": "6"}));
    let r = s
        .admin()
        .post(&pwd_path(), &json!({"policyExtId": "pwd", "extId": "pw-1"}));
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(
        r.header("location").as_deref(),
        Some("/nevisidm/api/core/v1/acme/users/u1/password")
    );
    assert_eq!(r.json()["extId"], "pw-1");
    assert_eq!(r.header("cache-control").as_deref(), Some("no-store"));
    let part = fragment(&r);
    assert_eq!(part.len(), 6);
    let listing = outbox(s);
    let rest = listing
        .lines()
        .find(|l| l.contains("password-remainder"))
        .and_then(|l| l.rsplit('\t').next())
        .unwrap()
        .to_owned();
    assert_eq!(rest.len(), 10, "{listing}");
    assert_eq!(login_status(s, &format!("{part}{rest}")), 403);
    assert_eq!(login_status(s, &part), 401);

    // The generated password is nowhere in clear: not in the log, not in the SQLite files.
    let full = format!("{part}{rest}");
    assert!(!s.logs().contains(&full) && !s.logs().contains(&rest));
    if let Some(path) = s.database_url.strip_prefix("sqlite://") {
        for file in [path.to_owned(), format!("{path}-wal")] {
            if let Ok(bytes) = std::fs::read(&file) {
                let text = String::from_utf8_lossy(&bytes);
                assert!(
                    !text.contains(&rest),
                    "the delivered part is stored in clear in {file}"
                );
                assert!(!text.contains(&full));
            }
        }
    }
    if s.database_url.starts_with("postgres") {
        let dump = Command::new("pg_dump")
            .args(["--data-only", &s.database_url])
            .output()
            .expect("pg_dump runs");
        assert!(
            dump.status.success(),
            "{}",
            String::from_utf8_lossy(&dump.stderr)
        );
        let text = String::from_utf8_lossy(&dump.stdout);
        assert!(
            text.contains("password-remainder"),
            "the dump holds the outbox"
        );
        assert!(
            !text.contains(&rest) && !text.contains(&full),
            "stored in clear in PostgreSQL"
        );
    }
    let got = s.admin().get(&pwd_path());
    assert_eq!(got.status, 200);
    assert_eq!(got.json()["type"], "Password");
    assert_eq!(got.json()["policyExtId"], "pwd");
    assert!(!got.text.contains("argon2"));
}

fn reset_rotates_the_password_and_counts(s: &TestServer) {
    setup(s, json!({}));
    let created = s.admin().post(&pwd_path(), &json!({"policyExtId": "pwd"}));
    assert_eq!(created.status, 201, "{}", created.text);
    let first = fragment(&created);
    assert_eq!(
        first.len(),
        12,
        "generatedLength 12 = fragmentLength 12: all to the caller"
    );
    assert_eq!(login_status(s, &first), 403);

    let reset = format!("{}/reset", pwd_path());
    let r = s.admin().send("POST", &reset, None, &[]);
    assert_eq!(r.status, 201, "{}", r.text);
    let second = fragment(&r);
    assert_ne!(first, second);
    assert_eq!(
        login_status(s, &first),
        401,
        "the old password stops working at once"
    );
    assert_eq!(login_status(s, &second), 403);
    let cred = s.admin().get(&pwd_path()).json();
    assert_eq!(cred["stateName"], "initial");
    assert_eq!(cred["stateChangeReason"], "reset-by-admin");

    // The successful login after a failed one cleared the reset count (SPEC §6.2 success);
    // maxResetCount 3 then allows three more resets and refuses the fourth.
    for _ in 0..3 {
        assert_eq!(s.admin().send("POST", &reset, None, &[]).status, 201);
    }
    s.admin().send("POST", &reset, None, &[]).assert_error(
        403,
        "errors.maxResetCount",
        "The maxResetCount (3) defined in the policy is exceeded.",
    );
}

fn reset_errors_in_spec_order(s: &TestServer) {
    setup(s, json!({"resetCodeEnabled": "false"}));
    let reset = format!("{}/reset", pwd_path());
    s.admin().send("POST", &reset, None, &[]).assert_error(
        404,
        "errors.noRecord",
        "User with extId u1 has no Password credential",
    );
    s.admin()
        .send(
            "POST",
            &format!("{API}/acme/users/u9/password/reset"),
            None,
            &[],
        )
        .assert_error(
            404,
            "errors.noRecord",
            "A user with extId 'u9' doesn't exist on client with name Acme",
        );

    // Supplied passwords are checked against the policy.
    let short = s.admin().post(
        &pwd_path(),
        &json!({"policyExtId": "pwd", "password": "short"}),
    );
    short.assert_error(
        422,
        "errors.pwdPolicyViolated",
        "The password does not comply with the password policy.",
    );
    assert_eq!(
        short.json()["policyViolations"][0]["configString"],
        "minLength"
    );
    assert!(
        !short.text.contains("\"short\""),
        "the password is not echoed"
    );
    s.admin()
        .post(&pwd_path(), &json!({"policyExtId": "pwd"}))
        .assert_error(
            422,
            "errors.nullParameter",
            "The 'password' parameter is mandatory.",
        );
    let ok = s.admin().post(
        &pwd_path(),
        &json!({"policyExtId": "pwd", "password": "Long-Enough-1"}),
    );
    assert_eq!(ok.status, 201, "{}", ok.text);
    assert_eq!(ok.json()["stateName"], "active");
    assert_eq!(login_status(s, "Long-Enough-1"), 403);
    s.admin()
        .post(
            &pwd_path(),
            &json!({"policyExtId": "pwd", "password": "Long-Enough-2"}),
        )
        .assert_error(
            422,
            "errors.passwordExists",
            "User with extId u1 already has a Password credential",
        );
    s.admin().send("POST", &reset, None, &[]).assert_error(
        404,
        "errors.noRecord",
        "Password cannot be changed due to policy restrictions",
    );
}

fn disabled_passwords_cannot_be_reset_and_locks_can_be_lifted(s: &TestServer) {
    setup(s, json!({}));
    let created = s.admin().post(&pwd_path(), &json!({"policyExtId": "pwd"}));
    let pw = fragment(&created);
    // Two failures: tmp-locked; the right password is refused.
    assert_eq!(login_status(s, "wrong-1"), 401);
    assert_eq!(login_status(s, "wrong-2"), 401);
    assert_eq!(login_status(s, &pw), 401);
    let cred = s.admin().get(&pwd_path()).json();
    assert_eq!(cred["stateName"], "tmp-locked");
    assert_eq!(cred["failedLoginCount"], 2);
    let version = cred["version"].as_i64().unwrap();

    s.admin()
        .patch(
            &pwd_path(),
            &json!({"stateName": "active", "version": version - 1}),
        )
        .assert_error(
            409,
            "errors.optimisticLockingFailure",
            "The entity was modified concurrently; reload it and retry.",
        );
    let unlocked = s.admin().patch(&pwd_path(), &json!({"stateName": "active", "version": version, "modificationComment": "called helpdesk"}));
    assert_eq!(unlocked.status, 200, "{}", unlocked.text);
    assert_eq!(unlocked.json()["stateChangeReason"], "unlock");
    assert_eq!(unlocked.json()["failedLoginCount"], 0);
    assert_eq!(login_status(s, &pw), 403);

    let disabled = s
        .admin()
        .patch(&pwd_path(), &json!({"stateName": "disabled"}));
    assert_eq!(disabled.status, 200);
    assert_eq!(disabled.json()["stateChangeReason"], "changed-by-admin");
    s.admin()
        .send("POST", &format!("{}/reset", pwd_path()), None, &[])
        .assert_error(
            422,
            "errors.credentialNotActive",
            "The Password credential of user with extId u1 is disabled and cannot be reset",
        );
    assert_eq!(login_status(s, &pw), 401);
}

fn fragment_length_zero_answers_204(s: &TestServer) {
    setup(s, json!({"fragmentLength": "0"}));
    let r = s.admin().post(&pwd_path(), &json!({"policyExtId": "pwd"}));
    assert_eq!(r.status, 204, "{}", r.text);
    assert!(r.text.is_empty());
    let r = s
        .admin()
        .send("POST", &format!("{}/reset", pwd_path()), None, &[]);
    assert_eq!(r.status, 204);
    let listing = outbox(s);
    assert_eq!(
        listing
            .lines()
            .filter(|l| l.contains("password-remainder"))
            .count(),
        2,
        "{listing}"
    );
    let last = listing
        .lines()
        .last()
        .unwrap()
        .rsplit('\t')
        .next()
        .unwrap()
        .to_owned();
    assert_eq!(
        login_status(s, &last),
        403,
        "the delivered password is the whole password"
    );
}

fn self_admin_reset_needs_an_x_token(s: &TestServer) {
    setup(s, json!({}));
    let pw = fragment(&s.admin().post(&pwd_path(), &json!({"policyExtId": "pwd"})));
    let r = s.admin().post(
        &format!("{API}/acme/users/u1/roles"),
        &json!({"role": "SelfAdmin"}),
    );
    assert_eq!(r.status, 201);
    let me = s.as_user("acme/jdoe", &pw);
    let own = me.get(&pwd_path());
    assert_eq!(
        own.status, 200,
        "self-admin reads its own password credential: {}",
        own.text
    );
    me.send("POST", &format!("{}/reset", pwd_path()), None, &[])
        .assert_error(422, "errors.invalidJWTToken", "Invalid JWT token.");
    me.send(
        "POST",
        &format!("{}/reset", pwd_path()),
        None,
        &[("X-Token", "not.a.jwt")],
    )
    .assert_error(422, "errors.invalidJWTToken", "Invalid JWT token.");
    me.get(&format!("{API}/default/users/admin/password")).assert_error(
        403,
        "errors.insufficientRightsFunction",
        "Permission denied: Caller does not have the required right 'AccessControl.CredentialView' to perform this action",
    );
}

on_both_backends!(
    generated_password_split_between_caller_and_outbox,
    reset_rotates_the_password_and_counts,
    reset_errors_in_spec_order,
    disabled_passwords_cannot_be_reset_and_locks_can_be_lifted,
    fragment_length_zero_answers_204,
    self_admin_reset_needs_an_x_token,
);
