//! Black-box tests of the bearer token (SPEC §6.3), the X-Token (§3.5) and self-admin mode
//! (§3.3) on SQLite and PostgreSQL.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use idm_blackbox_tests::{json, on_both_backends, Caller, Reply, TestServer};

const API: &str = "/nevisidm/api/core/v1";
const TOKEN: &str = "/nevisidm/api/principal/v1/token";
const PW: &str = "Jane-Secret-42";

/// Client acme with users jdoe (SelfAdmin, password PW) and mallory (SelfAdmin, password PW).
fn setup(s: &TestServer) {
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
        &json!({"extId": "pwd", "name": "P", "policyType": "PwdPolicy", "parameters": {"resetCodeEnabled": "false"}}),
    );
    assert_eq!(r.status, 201, "{}", r.text);
    for (ext, login) in [("u1", "jdoe"), ("u2", "mallory")] {
        assert_eq!(
            admin
                .post(
                    &format!("{API}/acme/users"),
                    &json!({"extId": ext, "loginId": login})
                )
                .status,
            201
        );
        let r = admin.post(
            &format!("{API}/acme/users/{ext}/password"),
            &json!({"policyExtId": "pwd", "password": PW}),
        );
        assert_eq!(r.status, 201, "{}", r.text);
        assert_eq!(
            admin
                .post(
                    &format!("{API}/acme/users/{ext}/roles"),
                    &json!({"role": "SelfAdmin"})
                )
                .status,
            201
        );
    }
}

fn jdoe(s: &TestServer) -> Caller<'_> {
    s.as_user("acme/jdoe", PW)
}

fn token_for(s: &TestServer, login: &str) -> String {
    let r = s.as_user(&format!("acme/{login}"), PW).post(
        TOKEN,
        &json!({"username": login, "password": PW, "grant_type": "password"}),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    r.json()["access_token"].as_str().unwrap().to_owned()
}

fn token_is_issued_with_no_store(s: &TestServer) {
    setup(s);
    let r = jdoe(s).post(
        TOKEN,
        &json!({"username": "jdoe", "password": PW, "grant_type": "password"}),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.header("cache-control").as_deref(), Some("no-store"));
    assert_eq!(r.header("pragma").as_deref(), Some("no-cache"));
    let body = r.json();
    assert_eq!(body["token_type"], "bearer");
    assert_eq!(body["expires_in"], 3600);
    let token = body["access_token"].as_str().unwrap();
    let parts: Vec<&str> = token.split('.').collect();
    assert_eq!(parts.len(), 3);
    let header: serde_json::Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[0]).unwrap()).unwrap();
    assert_eq!(header["alg"], "HS256");
    let claims: serde_json::Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
    assert_eq!(claims["sub"], "u1");
    assert_eq!(claims["cid"], "acme");
    assert_eq!(
        claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
        3600
    );
    assert!(claims["jti"].as_str().is_some());
    assert!(!s.logs().contains(token), "the token never reaches the log");
    assert!(!s.logs().contains(PW));
}

fn token_checks_in_spec_order(s: &TestServer) {
    setup(s);
    s.admin()
        .post(TOKEN, &json!({"username": "admin", "password": "x", "grant_type": "password"}))
        .assert_error(403, "errors.insufficientRightsFunction", "Permission denied: Caller does not have the required right 'SelfAdmin' to perform this action");
    let me = jdoe(s);
    let cases: [(serde_json::Value, &str, &str); 7] = [
        (
            json!({"username": "jdoe", "password": PW}),
            "errors.invalidParameter",
            "The grant_type should not be null or empty.",
        ),
        (
            json!({"username": "jdoe", "password": PW, "grant_type": ""}),
            "errors.invalidParameter",
            "The grant_type should not be null or empty.",
        ),
        (
            json!({"username": "jdoe", "password": PW, "grant_type": "client_credentials"}),
            "errors.invalidParameter",
            "Expected grant_type 'password' but found 'client_credentials'.",
        ),
        (
            json!({"password": PW, "grant_type": "password"}),
            "errors.invalidParameter",
            "The username should not be null or empty.",
        ),
        (
            json!({"username": "mallory", "password": PW, "grant_type": "password"}),
            "errors.invalidParameter",
            "The username has to be the loginId of the user who is logged in.",
        ),
        (
            json!({"username": "jdoe", "grant_type": "password"}),
            "errors.invalidParameter",
            "The password should not be null or empty.",
        ),
        (
            json!({"username": "jdoe", "password": "wrong", "grant_type": "password"}),
            "errors.invalidParameter",
            "Failed to verify password.",
        ),
    ];
    for (body, code, message) in cases {
        me.post(TOKEN, &body).assert_error(422, code, message);
    }
    me.send(
        "POST",
        TOKEN,
        Some(("application/json", b"{".to_vec())),
        &[],
    )
    .assert_error(
        400,
        "errors.jsonProcessingError",
        "Malformed JSON request body.",
    );
}

fn wrong_token_passwords_count_as_failed_logins(s: &TestServer) {
    setup(s);
    let me = jdoe(s);
    let wrong = json!({"username": "jdoe", "password": "wrong", "grant_type": "password"});
    me.post(TOKEN, &wrong).assert_error(
        422,
        "errors.invalidParameter",
        "Failed to verify password.",
    );
    let cred = s
        .admin()
        .get(&format!("{API}/acme/users/u1/password"))
        .json();
    assert_eq!(
        cred["failedLoginCount"], 1,
        "the wrong token password counted: {cred}"
    );
    assert!(cred.get("lastFailedLoginDate").is_some());
    // A wrong Basic password adds the second failure: the default policy tmp-locks at 2, and the
    // lock then refuses the right password on every path.
    s.as_user("acme/jdoe", "wrong")
        .get(&format!("{API}/acme/users/u1"))
        .assert_error(401, "errors.userLoginFailed", "Authentication failed.");
    let cred = s
        .admin()
        .get(&format!("{API}/acme/users/u1/password"))
        .json();
    assert_eq!(cred["stateName"], "tmp-locked");
    assert_eq!(cred["failedLoginCount"], 2);
    me.get(&format!("{API}/acme/users/u1")).assert_error(
        401,
        "errors.userLoginFailed",
        "Authentication failed.",
    );
}

fn self_admin_reads_and_token_guarded_writes(s: &TestServer) {
    setup(s);
    let me = jdoe(s);
    // Reads of oneself need no token.
    for path in [
        "users/u1",
        "users/u1/password",
        "users/u1/roles",
        "users/u1/credentials",
    ] {
        let r = me.get(&format!("{API}/acme/{path}"));
        assert_eq!(r.status, 200, "{path}: {}", r.text);
    }
    // Another user: the 403 of §3.4.
    me.get(&format!("{API}/acme/users/u2")).assert_error(
        403,
        "errors.insufficientRightsFunction",
        "Permission denied: Caller does not have the required right 'AccessControl.UserView' to perform this action",
    );
    // A policy that generates passwords, so a reset is allowed.
    let gen = s.admin().post(
        &format!("{API}/acme/policies"),
        &json!({"extId": "gen", "name": "G", "policyType": "PwdPolicy", "defaultPolicy": true}),
    );
    assert_eq!(gen.status, 201);
    assert_eq!(
        s.admin()
            .post(
                &format!("{API}/acme/users"),
                &json!({"extId": "u3", "loginId": "sam"})
            )
            .status,
        201
    );
    let created = s
        .admin()
        .post(&format!("{API}/acme/users/u3/password"), &json!({}));
    let sam_pw = created.json()["passwordFragment"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        s.admin()
            .post(
                &format!("{API}/acme/users/u3/roles"),
                &json!({"role": "SelfAdmin"})
            )
            .status,
        201
    );
    let sam = s.as_user("acme/sam", &sam_pw);
    let r = sam.post(
        TOKEN,
        &json!({"username": "sam", "password": sam_pw, "grant_type": "password"}),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    let token = r.json()["access_token"].as_str().unwrap().to_owned();
    let reset = format!("{API}/acme/users/u3/password/reset");

    sam.send("POST", &reset, None, &[]).assert_error(
        422,
        "errors.invalidJWTToken",
        "Invalid JWT token.",
    );
    let mallory_token = token_for(s, "mallory");
    sam.send("POST", &reset, None, &[("X-Token", &mallory_token)])
        .assert_error(422, "errors.invalidJWTToken", "Invalid JWT token.");
    let forged = forge_none(&token);
    sam.send("POST", &reset, None, &[("X-Token", &forged)])
        .assert_error(422, "errors.invalidJWTToken", "Invalid JWT token.");

    let ok: Reply = sam.send("POST", &reset, None, &[("X-Token", &token)]);
    assert_eq!(ok.status, 201, "{}", ok.text);
    let cred = s
        .admin()
        .get(&format!("{API}/acme/users/u3/password"))
        .json();
    assert_eq!(cred["stateChangeReason"], "reset");
    // The reset changed sam's password; a self-admin token does not open another user's writes.
    let sam = s.as_user("acme/sam", ok.json()["passwordFragment"].as_str().unwrap());
    sam.send("POST", &format!("{API}/acme/users/u1/password/reset"), None, &[("X-Token", &token)])
        .assert_error(
            403,
            "errors.insufficientRightsFunction",
            "Permission denied: Caller does not have the required right 'AccessControl.CredentialView' to perform this action",
        );
}

/// The same claims with `alg: none` and no signature.
fn forge_none(token: &str) -> String {
    let payload = token.split('.').nth(1).unwrap();
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
    format!("{header}.{payload}.")
}

on_both_backends!(
    token_is_issued_with_no_store,
    token_checks_in_spec_order,
    wrong_token_passwords_count_as_failed_logins,
    self_admin_reads_and_token_guarded_writes,
);
