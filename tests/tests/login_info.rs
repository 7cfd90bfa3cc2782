//! Black-box tests of bulk login information and lockout (SPEC §6.2) on SQLite and PostgreSQL,
//! including the concurrency guarantee: N concurrent failures add exactly N and lock once.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use idm_blackbox_tests::{json, on_both_backends, TestServer};
use serde_json::Value;

const API: &str = "/nevisidm/api/core/v1";

/// Client acme; users u1 (password pw-1) and u2 (password pw-2) under policy `pwd`, whose
/// lockout parameters are `lockout`.
fn setup(s: &TestServer, lockout: Value) {
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
    let mut params = json!({"resetCodeEnabled": "false"});
    params
        .as_object_mut()
        .unwrap()
        .extend(lockout.as_object().unwrap().clone());
    let r = admin.post(
        &format!("{API}/acme/policies"),
        &json!({"extId": "pwd", "name": "P", "policyType": "PwdPolicy", "parameters": params}),
    );
    assert_eq!(r.status, 201, "{}", r.text);
    for (user, login, cred) in [("u1", "jdoe", "pw-1"), ("u2", "mallory", "pw-2")] {
        assert_eq!(
            admin
                .post(
                    &format!("{API}/acme/users"),
                    &json!({"extId": user, "loginId": login})
                )
                .status,
            201
        );
        let r = admin.post(
            &format!("{API}/acme/users/{user}/password"),
            &json!({"extId": cred, "policyExtId": "pwd", "password": "Long-Enough-1"}),
        );
        assert_eq!(r.status, 201, "{}", r.text);
    }
}

fn report(s: &TestServer, body: Value) -> Value {
    let r = s
        .admin()
        .post(&format!("{API}/acme/users/u1/bulk-login-info"), &body);
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(!r.text.contains(":null"), "{}", r.text);
    r.json()
}

fn entry(success: bool) -> Value {
    json!({"userLoginSuccessful": success, "credentials": [{"success": success, "credentialExtId": "pw-1"}]})
}

fn success_and_failure_items(s: &TestServer) {
    setup(s, json!({}));
    let ok = report(s, entry(true));
    let item = &ok["successes"][0];
    assert_eq!(item["statusCode"], 0);
    assert_eq!(item["description"], "Login successful.");
    assert_eq!(item["credentialType"], "Password");
    assert_eq!(item["credentialExtId"], "pw-1");
    assert_eq!(item["userExtId"], "u1");
    assert_eq!(item["clientExtId"], "acme");
    assert_eq!(item["credentialSuccessCounter"], 1);
    assert!(item.get("userLastLogin").is_some() && item.get("credentialLastLogin").is_some());
    assert_eq!(ok["errors"], json!([]));
    assert!(ok.get("lastLogin").is_some());

    let f1 = report(s, entry(false));
    assert_eq!(f1["successes"][0]["statusCode"], 2);
    assert_eq!(f1["successes"][0]["description"], "Login failed.");
    assert_eq!(f1["successes"][0]["credentialFailureCounter"], 1);
    assert!(f1.get("lastLoginFailure").is_some());
    let f2 = report(s, entry(false));
    assert_eq!(f2["successes"][0]["statusCode"], 3);
    assert_eq!(
        f2["successes"][0]["description"],
        "Login failed. Credential temporarily locked."
    );
    let f3 = report(s, entry(false));
    assert_eq!(f3["successes"], json!([]));
    assert_eq!(f3["errors"][0]["code"], "errors.credentialNotActive");
    assert_eq!(
        f3["errors"][0]["message"],
        "Credential with extId 'pw-1' is not active"
    );
    assert_eq!(
        f3["errors"][0]["identifier"],
        json!({"clientExtId": "acme", "userExtId": "u1", "credentialExtId": "pw-1"})
    );
    let cred = s
        .admin()
        .get(&format!("{API}/acme/users/u1/password"))
        .json();
    assert_eq!(cred["stateName"], "tmp-locked");
    assert_eq!(cred["failedLoginCount"], 2);
}

fn fail_lock_at_max_failures(s: &TestServer) {
    setup(
        s,
        json!({"maxCredFailureCount": "2", "tmpLockingThreshold": "-1"}),
    );
    assert_eq!(report(s, entry(false))["successes"][0]["statusCode"], 2);
    let locked = report(s, entry(false));
    assert_eq!(locked["successes"][0]["statusCode"], 4);
    assert_eq!(
        locked["successes"][0]["description"],
        "Login failed. Credential locked."
    );
    let cred = s
        .admin()
        .get(&format!("{API}/acme/users/u1/password"))
        .json();
    assert_eq!(cred["stateName"], "fail-locked");
    assert_eq!(cred["stateChangeReason"], "too-many-login-failures");
    // The lock also refuses the API login with the right password.
    s.as_user("acme/jdoe", "Long-Enough-1")
        .get(&format!("{API}/acme/users/u1"))
        .assert_error(401, "errors.userLoginFailed", "Authentication failed.");
}

fn entry_errors_do_not_stop_other_entries(s: &TestServer) {
    setup(s, json!({}));
    let r = report(
        s,
        json!({"userLoginSuccessful": true, "credentials": [
            {"credentialExtId": "pw-1"},
            {"success": true},
            {"success": true, "credentialExtId": "nope"},
            {"success": true, "credentialExtId": "pw-2"},
            {"success": true, "credentialExtId": "pw-1"}
        ]}),
    );
    let errors = r["errors"].as_array().unwrap();
    let expected = [
        (
            "errors.nullParameter",
            "The 'success' parameter is mandatory.",
            Some("pw-1"),
        ),
        (
            "errors.nullParameter",
            "The 'credentialExtId' parameter is mandatory.",
            None,
        ),
        (
            "errors.noRecord",
            "Credential with extId 'nope' doesn't exist for user 'u1'",
            Some("nope"),
        ),
        (
            "errors.noRecord",
            "Credential with extId 'pw-2' doesn't exist for user 'u1'",
            Some("pw-2"),
        ),
    ];
    assert_eq!(errors.len(), expected.len(), "{r}");
    for (e, (code, message, cred)) in errors.iter().zip(expected) {
        assert_eq!(e["code"], code);
        assert_eq!(e["message"], message);
        assert_eq!(e["identifier"]["userExtId"], "u1");
        assert_eq!(
            e["identifier"]
                .get("credentialExtId")
                .and_then(Value::as_str),
            cred
        );
    }
    assert_eq!(r["successes"].as_array().unwrap().len(), 1);
    assert_eq!(r["successes"][0]["credentialExtId"], "pw-1");
}

fn user_only_reports_and_request_errors(s: &TestServer) {
    setup(s, json!({}));
    let ok = report(s, json!({"userLoginSuccessful": true}));
    assert_eq!(ok["successes"].as_array().unwrap().len(), 1);
    assert_eq!(ok["successes"][0]["statusCode"], 0);
    assert!(ok["successes"][0].get("credentialExtId").is_none());
    let failed = report(s, json!({"userLoginSuccessful": false, "credentials": []}));
    assert_eq!(failed["successes"][0]["statusCode"], 2);
    assert!(failed.get("lastLoginFailure").is_some() && failed.get("lastLogin").is_some());
    let user = s.admin().get(&format!("{API}/acme/users/u1")).json();
    assert!(user.get("lastLogin").is_some() && user.get("lastLoginFailure").is_some());

    let path = format!("{API}/acme/users/u1/bulk-login-info");
    s.admin()
        .post(&path, &json!({"credentials": []}))
        .assert_error(
            422,
            "errors.nullParameter",
            "The 'userLoginSuccessful' parameter is mandatory.",
        );
    let many: Vec<Value> = (0..101)
        .map(|i| json!({"success": true, "credentialExtId": format!("c{i}")}))
        .collect();
    s.admin()
        .post(
            &path,
            &json!({"userLoginSuccessful": true, "credentials": many}),
        )
        .assert_error(
            422,
            "errors.invalidParameter",
            "At most 100 credentials can be updated at once.",
        );
    s.admin()
        .post(
            &format!("{API}/acme/users/u9/bulk-login-info"),
            &json!({"userLoginSuccessful": true}),
        )
        .assert_error(
            404,
            "errors.noRecord",
            "A user with extId 'u9' doesn't exist on client with name Acme",
        );
}

fn fifty_concurrent_failures_add_fifty_and_lock_once(s: &TestServer) {
    setup(
        s,
        json!({"maxCredFailureCount": "50", "tmpLockingThreshold": "-1"}),
    );
    let codes: Vec<i64> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..50)
            .map(|_| {
                scope.spawn(|| {
                    let r = s.admin().post(
                        &format!("{API}/acme/users/u1/bulk-login-info"),
                        &entry(false),
                    );
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
    assert_eq!(codes.iter().filter(|c| **c == 2).count(), 49, "{codes:?}");
    let cred = s
        .admin()
        .get(&format!("{API}/acme/users/u1/password"))
        .json();
    assert_eq!(cred["failedLoginCount"], 50);
    assert_eq!(cred["stateName"], "fail-locked");
    let user = s.admin().get(&format!("{API}/acme/users/u1")).json();
    assert_eq!(user["version"], 1 + 50, "every user report counted once");
}

on_both_backends!(
    success_and_failure_items,
    fail_lock_at_max_failures,
    entry_errors_do_not_stop_other_entries,
    user_only_reports_and_request_errors,
    fifty_concurrent_failures_add_fifty_and_lock_once,
);
