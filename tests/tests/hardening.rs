//! Black-box tests of SPEC §10 (hardening) on SQLite and PostgreSQL: privileged targets and the
//! last Root (§10.1), lockout under parallel attack (§10.2), bounded hashing under a flood of
//! unauthenticated work (§10.3), token binding, validity and bounded metric labels (§10.4), and
//! the operator break-glass commands (§10.5).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use idm_blackbox_tests::{cli, json, on_both_backends, Backend, Options, TestServer};
use serde_json::Value;

const API: &str = "/nevisidm/api/core/v1";
const PW: &str = "Staff-Secret-42";
const ESCALATION: &str = "Permission denied: the target user holds rights beyond the caller's own";
const FAILURES: &str = "idm_password_verifications_total{outcome=\"failure\"}";
const SUCCESSES: &str = "idm_password_verifications_total{outcome=\"success\"}";

fn created(r: &idm_blackbox_tests::Reply) {
    assert!(
        r.status == 201 || r.status == 204,
        "{} {}",
        r.status,
        r.text
    );
}

/// In client `default`: a PwdPolicy `pwd` taking supplied passwords with the given lockout
/// parameters, and a user `<login>` with password PW under it and the given role grants.
fn staff(s: &TestServer, login: &str, roles: &[(&str, Option<&[&str]>)]) {
    let admin = s.admin();
    created(&admin.post(
        &format!("{API}/default/users"),
        &json!({"extId": login, "loginId": login}),
    ));
    created(&admin.post(
        &format!("{API}/default/users/{login}/password"),
        &json!({"policyExtId": "pwd", "password": PW}),
    ));
    for (role, room) in roles {
        let body = match room {
            Some(room) => json!({"role": role, "clientExtIds": room}),
            None => json!({"role": role}),
        };
        created(&admin.post(&format!("{API}/default/users/{login}/roles"), &body));
    }
}

fn pwd_policy(s: &TestServer, params: Value) {
    let mut parameters = json!({"resetCodeEnabled": "false"});
    for (k, v) in params.as_object().unwrap() {
        parameters[k] = v.clone();
    }
    created(&s.admin().post(
        &format!("{API}/default/policies"),
        &json!({"extId": "pwd", "name": "staff", "policyType": "PwdPolicy", "parameters": parameters}),
    ));
}

/// The writes of SPEC §10.1 "change a user", each as (name, method, path, body) against
/// target user `t` of client default.
fn writes_on(t: &str) -> Vec<(&'static str, &'static str, String, Option<Value>)> {
    vec![
        (
            "password reset",
            "POST",
            format!("{API}/default/users/{t}/password/reset"),
            None,
        ),
        (
            "password PATCH (lock)",
            "PATCH",
            format!("{API}/default/users/{t}/password"),
            Some(json!({"stateName": "disabled"})),
        ),
        (
            "lock via bulk-login-info",
            "POST",
            format!("{API}/default/users/{t}/bulk-login-info"),
            Some(json!({"userLoginSuccessful": false})),
        ),
        (
            "grant to",
            "POST",
            format!("{API}/default/users/{t}/roles"),
            Some(json!({"role": "SelfAdmin"})),
        ),
        (
            "revoke from",
            "DELETE",
            format!("{API}/default/users/{t}/roles/SelfAdmin"),
            None,
        ),
        (
            "OATH create",
            "POST",
            format!("{API}/default/users/{t}/oath-credentials"),
            Some(json!({"label": "phone"})),
        ),
    ]
}

fn send(
    s: &TestServer,
    login: &str,
    method: &str,
    path: &str,
    body: &Option<Value>,
) -> idm_blackbox_tests::Reply {
    let caller = s.as_user(&format!("default/{login}"), PW);
    let body = body
        .as_ref()
        .map(|b| ("application/json", b.to_string().into_bytes()));
    caller.send(method, path, body, &[])
}

/// A Helpdesk, UserAdmin or ClientRoot of client default cannot change a user holding wider
/// rights: every write of §10.1 answers 403 (the privileged-target message wherever the caller
/// holds the rights the write needs), and the target is unchanged. The same callers may change
/// a plain user.
fn privileged_targets_matrix(s: &TestServer) {
    pwd_policy(s, json!({}));
    let room: &[&str] = &["default"];
    staff(s, "helpdesk", &[("Helpdesk", Some(room))]);
    staff(s, "useradmin", &[("UserAdmin", Some(room))]);
    staff(s, "clientroot", &[("ClientRoot", Some(room))]);
    staff(s, "plain", &[("SelfAdmin", None)]);
    // The Root user `admin` is wider than all three; a ClientRoot is wider than the other two.
    let targets: [(&str, &[&str]); 2] = [
        ("admin", &["helpdesk", "useradmin", "clientroot"]),
        ("clientroot", &["helpdesk", "useradmin"]),
    ];
    for (target, attackers) in targets {
        let before = s
            .admin()
            .get(&format!("{API}/default/users/{target}/password"))
            .json();
        for attacker in attackers {
            for (what, method, path, body) in writes_on(target) {
                let r = send(s, attacker, method, &path, &body);
                assert_eq!(
                    r.status, 403,
                    "{attacker} → {what} on {target}: {} {}",
                    r.status, r.text
                );
                let code = r.json()["errors"][0]["code"].as_str().unwrap().to_owned();
                if code == "errors.potentialPrivilegeEscalation" {
                    r.assert_error(403, "errors.potentialPrivilegeEscalation", ESCALATION);
                } else {
                    assert_eq!(
                        code, "errors.insufficientRightsFunction",
                        "{attacker} → {what}: {}",
                        r.text
                    );
                }
            }
        }
        let after = s
            .admin()
            .get(&format!("{API}/default/users/{target}/password"))
            .json();
        assert_eq!(before, after, "the target's credential is unchanged");
    }
    // Helpdesk holds CredentialView+CredentialModify: a reset of `admin` is the privileged
    // target refusal, not a missing right (the attack of the issue).
    send(
        s,
        "helpdesk",
        "POST",
        &format!("{API}/default/users/admin/password/reset"),
        &None,
    )
    .assert_error(403, "errors.potentialPrivilegeEscalation", ESCALATION);
    // A grant of a role the caller may grant, to a privileged target: §10.1's message wins.
    send(
        s,
        "clientroot",
        "POST",
        &format!("{API}/default/users/admin/roles"),
        &Some(json!({"role": "Helpdesk", "clientExtIds": ["default"]})),
    )
    .assert_error(403, "errors.potentialPrivilegeEscalation", ESCALATION);
    // Positive control: the same callers may change a plain user (SelfAdmin carries no rights).
    let r = send(
        s,
        "helpdesk",
        "PATCH",
        &format!("{API}/default/users/plain/password"),
        &Some(json!({"modificationComment": "checked by helpdesk"})),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    let r = send(
        s,
        "useradmin",
        "POST",
        &format!("{API}/default/users/plain/bulk-login-info"),
        &Some(json!({"userLoginSuccessful": true})),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    let r = send(
        s,
        "clientroot",
        "POST",
        &format!("{API}/default/users/plain/roles"),
        &Some(json!({"role": "Helpdesk", "clientExtIds": ["default"]})),
    );
    assert_eq!(r.status, 201, "{}", r.text);
    // ...and the Root user may still log in with its password.
    assert_eq!(s.admin().get(&format!("{API}/clients/default")).status, 200);
}

/// The last active Root cannot be stripped of Root; with a second Root it can.
fn last_root_cannot_be_removed(s: &TestServer) {
    let revoke = format!("{API}/default/users/admin/roles/Root");
    s.admin().delete(&revoke).assert_error(
        422,
        "errors.invalidParameter",
        "The last active Root user cannot be removed.",
    );
    pwd_policy(s, json!({}));
    staff(s, "root2", &[("Root", None)]);
    let r = s.admin().delete(&revoke);
    assert_eq!(r.status, 204, "{}", r.text);
    // root2 is the last one now: it cannot drop its own Root either.
    s.as_user("default/root2", PW)
        .delete(&format!("{API}/default/users/root2/roles/Root"))
        .assert_error(
            422,
            "errors.invalidParameter",
            "The last active Root user cannot be removed.",
        );
}

/// Sends `n` requests at once from threads; returns the statuses.
fn parallel<F>(n: usize, f: F) -> Vec<u16>
where
    F: Fn(usize) -> u16 + Sync,
{
    std::thread::scope(|scope| {
        let f = &f;
        let handles: Vec<_> = (0..n).map(|i| scope.spawn(move || f(i))).collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    })
}

/// 50 parallel wrong passwords (T = 2) through Basic authentication: at most 2 are verified,
/// the credential ends locked, and the right password sent afterwards gets 401.
fn parallel_wrong_passwords_verify_at_most_the_threshold(s: &TestServer) {
    pwd_policy(
        s,
        json!({"tmpLockingThreshold": "2", "tmpLockingDuration": "600000"}),
    );
    staff(s, "victim", &[("Helpdesk", Some(&["default"][..]))]);
    let before = s.metric(FAILURES);
    let statuses = parallel(50, |i| {
        s.as_user("default/victim", &format!("wrong-{i}"))
            .get(&format!("{API}/default/users/victim"))
            .status
    });
    assert!(statuses.iter().all(|st| *st == 401), "{statuses:?}");
    let checked = s.metric(FAILURES) - before;
    assert!(checked <= 2.0, "{checked} wrong passwords verified");
    let ok_before = s.metric(SUCCESSES);
    let r = s
        .as_user("default/victim", PW)
        .get(&format!("{API}/default/users/victim"));
    assert_eq!(
        r.status, 401,
        "the right password after the lock: {}",
        r.text
    );
    assert_eq!(s.metric(SUCCESSES), ok_before, "not even checked");
    let cred = s
        .admin()
        .get(&format!("{API}/default/users/victim/password"))
        .json();
    assert_eq!(cred["stateName"], "tmp-locked");
    assert_eq!(cred["failedLoginCount"], 2);
}

/// The same through the token endpoint: the caller is authenticated (cached), the body's
/// password is wrong 50 times at once; at most 2 are verified.
fn parallel_wrong_token_passwords_verify_at_most_the_threshold(s: &TestServer) {
    pwd_policy(
        s,
        json!({"tmpLockingThreshold": "2", "tmpLockingDuration": "600000"}),
    );
    staff(s, "selfie", &[("SelfAdmin", None)]);
    let me = s.as_user("default/selfie", PW);
    assert_eq!(me.get(&format!("{API}/default/users/selfie")).status, 200);
    let before = s.metric(FAILURES);
    let statuses = parallel(50, |i| {
        s.as_user("default/selfie", PW)
            .post(
                "/nevisidm/api/principal/v1/token",
                &json!({"grant_type": "password", "username": "selfie", "password": format!("wrong-{i}")}),
            )
            .status
    });
    assert!(
        statuses.iter().all(|st| *st == 422 || *st == 401),
        "{statuses:?}"
    );
    let checked = s.metric(FAILURES) - before;
    assert!(checked <= 2.0, "{checked} wrong passwords verified");
    let r = s.as_user("default/selfie", PW).post(
        "/nevisidm/api/principal/v1/token",
        &json!({"grant_type": "password", "username": "selfie", "password": PW}),
    );
    assert!(
        r.status == 401 || r.status == 422,
        "{} {}",
        r.status,
        r.text
    );
}

/// Parallel right passwords of one user (an admin console opening many tabs) do not lock each
/// other out: every one is answered 200.
fn parallel_right_passwords_all_pass(s: &TestServer) {
    pwd_policy(
        s,
        json!({"tmpLockingThreshold": "2", "tmpLockingDuration": "600000"}),
    );
    staff(s, "busy", &[("Helpdesk", Some(&["default"][..]))]);
    let statuses = parallel(16, |_| {
        s.as_user("default/busy", PW)
            .get(&format!("{API}/default/users/busy"))
            .status
    });
    assert!(statuses.iter().all(|st| *st == 200), "{statuses:?}");
    let cred = s
        .admin()
        .get(&format!("{API}/default/users/busy/password"))
        .json();
    assert_eq!(cred["failedLoginCount"], 0);
}

/// A token issued before a reset is refused after it (SPEC §10.4); a comment-only PATCH does
/// not end it.
fn a_token_ends_with_the_password_it_was_issued_against(s: &TestServer) {
    pwd_policy(
        s,
        json!({"resetCodeEnabled": "true", "generatedLength": "14", "fragmentLength": "14"}),
    );
    let admin = s.admin();
    created(&admin.post(
        &format!("{API}/default/users"),
        &json!({"extId": "tok", "loginId": "tok"}),
    ));
    let issued = admin.post(
        &format!("{API}/default/users/tok/password"),
        &json!({"policyExtId": "pwd"}),
    );
    created(&issued);
    let pw1 = issued.json()["passwordFragment"]
        .as_str()
        .unwrap()
        .to_owned();
    created(&admin.post(
        &format!("{API}/default/users/tok/roles"),
        &json!({"role": "SelfAdmin"}),
    ));
    let token = |pw: &str| {
        let r = s.as_user("default/tok", pw).post(
            "/nevisidm/api/principal/v1/token",
            &json!({"grant_type": "password", "username": "tok", "password": pw}),
        );
        assert_eq!(r.status, 200, "{}", r.text);
        r.json()["access_token"].as_str().unwrap().to_owned()
    };
    let oath = |pw: &str, tok: &str| {
        s.as_user("default/tok", pw).send(
            "POST",
            &format!("{API}/default/users/tok/oath-credentials"),
            Some((
                "application/json",
                json!({"label": "phone"}).to_string().into_bytes(),
            )),
            &[("X-Token", tok)],
        )
    };
    let t1 = token(&pw1);
    created(&oath(&pw1, &t1));
    // A comment-only PATCH keeps the token valid.
    let r = admin.patch(
        &format!("{API}/default/users/tok/password"),
        &json!({"modificationComment": "audit"}),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    created(&oath(&pw1, &t1));
    // The reset ends it.
    let reset = admin.send(
        "POST",
        &format!("{API}/default/users/tok/password/reset"),
        None,
        &[],
    );
    created(&reset);
    let pw2 = reset.json()["passwordFragment"]
        .as_str()
        .unwrap()
        .to_owned();
    oath(&pw2, &t1).assert_error(422, "errors.invalidJWTToken", "Invalid JWT token.");
    let t2 = token(&pw2);
    created(&oath(&pw2, &t2));
}

/// A credential past `validity.to` is not usable (SPEC §10.4).
fn a_credential_past_validity_to_is_not_usable(s: &TestServer) {
    pwd_policy(s, json!({"credentialLifetime": "1500"}));
    staff(s, "shortlived", &[("Helpdesk", Some(&["default"][..]))]);
    let me = || s.as_user("default/shortlived", PW);
    assert_eq!(
        me().get(&format!("{API}/default/users/shortlived")).status,
        200
    );
    std::thread::sleep(Duration::from_millis(1700));
    let r = me().get(&format!("{API}/default/users/shortlived"));
    r.assert_error(401, "errors.userLoginFailed", "Authentication failed.");
}

/// An unknown HTTP method is counted as `OTHER` and adds no series of its own (SPEC §10.4).
fn an_unknown_method_adds_no_metric_series(s: &TestServer) {
    let r = s.anonymous().send("FOOBAR", "/health/live", None, &[]);
    assert_eq!(r.status, 405, "{}", r.text);
    let metrics = s.anonymous().get("/metrics").text;
    assert!(!metrics.contains("FOOBAR"), "{metrics}");
    assert!(metrics.contains("method=\"OTHER\""), "{metrics}");
}

on_both_backends!(
    privileged_targets_matrix,
    last_root_cannot_be_removed,
    parallel_wrong_passwords_verify_at_most_the_threshold,
    parallel_wrong_token_passwords_verify_at_most_the_threshold,
    parallel_right_passwords_all_pass,
    a_token_ends_with_the_password_it_was_issued_against,
    a_credential_past_validity_to_is_not_usable,
    an_unknown_method_adds_no_metric_series,
    break_glass_commands,
);

/// 50 parallel wrong passwords split across two instances on one PostgreSQL: at most 2 are
/// verified in all.
#[test]
fn two_instances_verify_at_most_the_threshold_together() {
    let Some(a) = TestServer::start(Backend::Postgres) else {
        return;
    };
    let Some(b) = TestServer::start_with(
        Backend::Postgres,
        Options {
            database_url: Some(a.database_url.clone()),
            ..Options::default()
        },
    ) else {
        return;
    };
    pwd_policy(
        &a,
        json!({"tmpLockingThreshold": "2", "tmpLockingDuration": "600000"}),
    );
    staff(&a, "victim", &[("Helpdesk", Some(&["default"][..]))]);
    let before = a.metric(FAILURES) + b.metric(FAILURES);
    let statuses = parallel(50, |i| {
        let s = if i % 2 == 0 { &a } else { &b };
        s.as_user("default/victim", &format!("wrong-{i}"))
            .get(&format!("{API}/default/users/victim"))
            .status
    });
    assert!(statuses.iter().all(|st| *st == 401), "{statuses:?}");
    let checked = a.metric(FAILURES) + b.metric(FAILURES) - before;
    assert!(
        checked <= 2.0,
        "{checked} wrong passwords verified on two instances"
    );
    for s in [&a, &b] {
        let r = s
            .as_user("default/victim", PW)
            .get(&format!("{API}/default/users/victim"));
        assert_eq!(r.status, 401);
    }
}

/// Break-glass: unlock and reset work on the configured database while the service runs and
/// after it stopped, are audited, and fail clearly on unknown users.
fn break_glass_commands(s: &TestServer) {
    pwd_policy(
        s,
        json!({"maxCredFailureCount": "1", "tmpLockingThreshold": "-1"}),
    );
    staff(s, "locked", &[("Helpdesk", Some(&["default"][..]))]);
    let me = |pw: &str| {
        s.as_user("default/locked", pw)
            .get(&format!("{API}/default/users/locked"))
            .status
    };
    assert_eq!(me("wrong"), 401);
    assert_eq!(me(PW), 401, "fail-locked");
    let (ok, out, err) = cli(&s.database_url, &["admin", "unlock", "default/locked"], &[]);
    assert!(ok, "{out}{err}");
    assert!(out.contains("unlocked"), "{out}");
    assert_eq!(me(PW), 200);
    let cred = s
        .admin()
        .get(&format!("{API}/default/users/locked/password"))
        .json();
    assert_eq!(cred["stateName"], "active");
    assert_eq!(cred["stateChangeReason"], "unlock");

    let (ok, out, err) = cli(
        &s.database_url,
        &["admin", "reset-password", "default/locked"],
        &[],
    );
    assert!(ok, "{out}{err}");
    let new_pw = out.trim().rsplit(' ').next().unwrap().to_owned();
    assert_eq!(new_pw.len(), 12, "{out}");
    assert_eq!(me(&new_pw), 200);
    assert!(!err.contains(&new_pw), "the password goes to stdout only");
    assert_eq!(me(PW), 401, "the old password is gone");

    for (args, needle) in [
        (
            vec!["admin", "unlock", "default/nobody"],
            "No user with loginId 'nobody'",
        ),
        (
            vec!["admin", "reset-password", "nope/admin"],
            "Client doesn't exist with extId 'nope'",
        ),
        (
            vec!["admin", "unlock", "no-slash"],
            "<clientExtId>/<loginId>",
        ),
    ] {
        let (ok, out, err) = cli(&s.database_url, &args, &[]);
        assert!(!ok, "{args:?} must fail: {out}");
        assert!(err.contains(needle), "{args:?}: {err}");
    }
}
