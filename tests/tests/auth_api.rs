//! Black-box tests of the authentication API (SPEC §11) on SQLite and PostgreSQL: password login
//! (§11.1), OATH login and HOTP resync (§11.2), password change and unlock (§11.3), with the
//! lockout of §6.2/§10.2 and the privileged-target rule of §10.1.
//!
//! OATH codes are computed with an independent implementation (`totp-rs`, checked here against
//! the RFC 4226 and RFC 6238 vectors) from the `otpauth://` URI the create answer returns.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{SystemTime, UNIX_EPOCH};

use data_encoding::BASE32_NOPAD;
use idm_blackbox_tests::{json, on_both_backends, Backend, Options, Reply, TestServer};
use serde_json::Value;
use totp_rs::{Algorithm, TOTP};

const CORE: &str = "/nevisidm/api/core/v1";
const AUTH: &str = "/nevisidm/api/auth/v1";
const TOKEN: &str = "/nevisidm/api/principal/v1/token";
const PW: &str = "Long-Enough-1";

// ---- an independent OTP implementation, from the enrolment URI ---------------------------

/// What an authenticator app reads from an `otpauth://` URI.
struct Authenticator {
    hotp: bool,
    algorithm: Algorithm,
    digits: usize,
    period: u64,
    secret: Vec<u8>,
}

impl Authenticator {
    fn from_uri(uri: &str) -> Authenticator {
        let (head, query) = uri.split_once('?').expect("a query");
        let hotp = head.starts_with("otpauth://hotp/");
        assert!(hotp || head.starts_with("otpauth://totp/"), "{uri}");
        let param = |name: &str| {
            query
                .split('&')
                .find_map(|kv| kv.strip_prefix(&format!("{name}=")))
                .map(str::to_owned)
        };
        let algorithm = match param("algorithm").unwrap_or_else(|| "SHA1".into()).as_str() {
            "SHA1" => Algorithm::SHA1,
            "SHA256" => Algorithm::SHA256,
            "SHA512" => Algorithm::SHA512,
            other => panic!("algorithm {other}"),
        };
        let secret = BASE32_NOPAD
            .decode(param("secret").unwrap().as_bytes())
            .expect("Base32 without padding");
        Authenticator {
            hotp,
            algorithm,
            digits: param("digits")
                .unwrap_or_else(|| "6".into())
                .parse()
                .unwrap(),
            period: param("period").map_or(30, |p| p.parse().unwrap()),
            secret,
        }
    }

    fn totp(&self) -> TOTP {
        TOTP::new(
            self.algorithm,
            self.digits,
            0,
            self.period,
            self.secret.clone(),
        )
        .unwrap()
    }

    /// The TOTP code at unix time `t`.
    fn code_at(&self, t: u64) -> String {
        assert!(!self.hotp);
        self.totp().generate(t)
    }

    /// The TOTP code now, `steps` steps away.
    fn code_in(&self, steps: i64) -> String {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs();
        self.code_at((now as i64 + steps * self.period as i64) as u64)
    }

    /// The HOTP code of `counter` (a TOTP of step 1 s at "time" `counter`).
    fn hotp_code(&self, counter: u64) -> String {
        assert!(self.hotp);
        TOTP::new(self.algorithm, self.digits, 0, 1, self.secret.clone())
            .unwrap()
            .generate(counter)
    }
}

#[test]
fn the_independent_implementation_reproduces_the_rfc_vectors() {
    let sha1 = b"12345678901234567890".to_vec();
    let sha256 = b"12345678901234567890123456789012".to_vec();
    let sha512 = b"1234567890123456789012345678901234567890123456789012345678901234".to_vec();
    let make = |alg, secret: &Vec<u8>, digits, step| {
        TOTP::new(alg, digits, 0, step, secret.clone()).unwrap()
    };
    // RFC 6238 Appendix B.
    for (t, a, b, c) in [
        (59u64, "94287082", "46119246", "90693936"),
        (1111111109, "07081804", "68084774", "25091201"),
        (1234567890, "89005924", "91819424", "93441116"),
        (20000000000, "65353130", "77737706", "47863826"),
    ] {
        assert_eq!(make(Algorithm::SHA1, &sha1, 8, 30).generate(t), a);
        assert_eq!(make(Algorithm::SHA256, &sha256, 8, 30).generate(t), b);
        assert_eq!(make(Algorithm::SHA512, &sha512, 8, 30).generate(t), c);
    }
    // RFC 4226 Appendix D, through a one-second step.
    let hotp = make(Algorithm::SHA1, &sha1, 6, 1);
    let expected = [
        "755224", "287082", "359152", "969429", "338314", "254676", "287922", "162583", "399871",
        "520489",
    ];
    for (counter, code) in expected.iter().enumerate() {
        assert_eq!(hotp.generate(counter as u64), *code);
    }
}

// ---- fixtures -----------------------------------------------------------------------------

fn created(r: &Reply) -> Value {
    assert_eq!(r.status, 201, "{}", r.text);
    r.json()
}

/// Client acme; PwdPolicies `pwd` (supplied passwords, default lockout: tmp-lock at 2, fail-lock
/// at 3), `strict` (fail-lock at 1), `lenient` (tmp-lock at 5, never fail-lock); users u1
/// (jdoe, password PW under `pwd`) and u2 (mallory, no password).
fn setup(s: &TestServer) {
    let admin = s.admin();
    created(&admin.post(
        &format!("{CORE}/clients"),
        &json!({"extId": "acme", "name": "Acme"}),
    ));
    for (ext, params) in [
        ("pwd", json!({"resetCodeEnabled": "false"})),
        (
            "strict",
            json!({"resetCodeEnabled": "false", "maxCredFailureCount": "1", "tmpLockingThreshold": "-1"}),
        ),
        (
            "lenient",
            json!({"resetCodeEnabled": "false", "maxCredFailureCount": "-1", "tmpLockingThreshold": "5"}),
        ),
    ] {
        created(&admin.post(
            &format!("{CORE}/acme/policies"),
            &json!({"extId": ext, "name": ext, "policyType": "PwdPolicy", "parameters": params}),
        ));
    }
    user(s, "u1", "jdoe");
    user(s, "u2", "mallory");
    password(s, "u1", "pwd");
}

fn user(s: &TestServer, ext: &str, login: &str) {
    created(&s.admin().post(
        &format!("{CORE}/acme/users"),
        &json!({"extId": ext, "loginId": login}),
    ));
}

fn password(s: &TestServer, user: &str, policy: &str) {
    created(&s.admin().post(
        &format!("{CORE}/acme/users/{user}/password"),
        &json!({"extId": format!("pw-{user}"), "policyExtId": policy, "password": PW}),
    ));
}

fn pw_login_path(user: &str) -> String {
    format!("{AUTH}/acme/users/{user}/password/login")
}

fn oath_login_path(user: &str, ext: &str) -> String {
    format!("{AUTH}/acme/users/{user}/oath-credentials/{ext}/login")
}

/// `(statusCode, description)` of a processed login; asserts 200 and `no-store`.
#[track_caller]
fn status_of(r: &Reply) -> (i64, String) {
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.header("cache-control").as_deref(), Some("no-store"));
    let body = r.json();
    assert_eq!(
        body.as_object().unwrap().len(),
        2,
        "statusCode and description only: {body}"
    );
    (
        body["statusCode"].as_i64().unwrap(),
        body["description"].as_str().unwrap().to_owned(),
    )
}

fn ok() -> (i64, String) {
    (5, "Login Ok".into())
}
fn failed() -> (i64, String) {
    (2, "Login failed.".into())
}
fn next_locks() -> (i64, String) {
    (
        3,
        "Login failed. The next failure locks the credential.".into(),
    )
}
fn tmp_locked() -> (i64, String) {
    (9, "Login failed. Credential temporarily locked.".into())
}
fn locked() -> (i64, String) {
    (4, "Login failed. Credential locked.".into())
}

fn pw_login(s: &TestServer, user: &str, password: &str) -> (i64, String) {
    status_of(
        &s.admin()
            .post(&pw_login_path(user), &json!({"password": password})),
    )
}

fn oath_login(s: &TestServer, user: &str, ext: &str, code: &str) -> (i64, String) {
    status_of(
        &s.admin()
            .post(&oath_login_path(user, ext), &json!({"code": code})),
    )
}

fn password_of(s: &TestServer, user: &str) -> Value {
    let r = s.admin().get(&format!("{CORE}/acme/users/{user}/password"));
    assert_eq!(r.status, 200, "{}", r.text);
    r.json()
}

fn oath_of(s: &TestServer, user: &str, ext: &str) -> Value {
    let r = s
        .admin()
        .get(&format!("{CORE}/acme/users/{user}/oath-credentials/{ext}"));
    assert_eq!(r.status, 200, "{}", r.text);
    r.json()
}

/// An OathPolicy `ext` of acme with these parameters.
fn oath_policy(s: &TestServer, ext: &str, params: Value) {
    created(&s.admin().post(
        &format!("{CORE}/acme/policies"),
        &json!({"extId": ext, "name": ext, "policyType": "OathPolicy", "parameters": params}),
    ));
}

/// An OATH credential `ext` of `user` under `policy`; its authenticator from the create answer.
fn oath(s: &TestServer, user: &str, ext: &str, policy: &str) -> Authenticator {
    let body = created(&s.admin().post(
        &format!("{CORE}/acme/users/{user}/oath-credentials"),
        &json!({"extId": ext, "label": "phone", "policyExtId": policy}),
    ));
    Authenticator::from_uri(body["uri"].as_str().unwrap())
}

/// SPEC §13: the user's history holds every attempt's action and no code, secret or password.
/// (Skipped while the history endpoint is not served.)
fn assert_history_clean(s: &TestServer, user: &str, actions: &[&str], secrets: &[String]) {
    let r = s
        .admin()
        .get(&format!("{CORE}/acme/users/{user}/history?limit=1000"));
    if r.status == 404 && r.json()["errors"][0]["code"] == "errors.invalidUri" {
        return;
    }
    assert_eq!(r.status, 200, "{}", r.text);
    let events = r.json()["items"].as_array().cloned().unwrap_or_default();
    let seen: Vec<&str> = events.iter().filter_map(|e| e["action"].as_str()).collect();
    for action in actions {
        assert!(seen.contains(action), "{action} not in {seen:?}");
    }
    fn strings(v: &Value, out: &mut Vec<String>) {
        match v {
            Value::String(s) => out.push(s.clone()),
            Value::Array(items) => items.iter().for_each(|i| strings(i, out)),
            Value::Object(map) => map.values().for_each(|i| strings(i, out)),
            _ => {}
        }
    }
    let mut values = Vec::new();
    strings(&Value::Array(events), &mut values);
    for value in &values {
        for secret in secrets {
            assert!(
                !value.contains(secret.as_str()),
                "{secret:?} in the history: {value}"
            );
        }
    }
}

// ---- §11.1 password login -----------------------------------------------------------------

fn password_login_answers_every_status(s: &TestServer) {
    setup(s);
    assert_eq!(pw_login(s, "u1", PW), ok());
    assert_eq!(pw_login(s, "u1", PW), ok());
    let cred = password_of(s, "u1");
    assert_eq!(
        cred["successfulLoginCount"], 2,
        "every success counts: {cred}"
    );
    assert!(cred["lastSuccessfulLoginDate"].is_string());
    let u = s.admin().get(&format!("{CORE}/acme/users/u1")).json();
    assert!(u["lastLogin"].is_string(), "{u}");

    assert_eq!(pw_login(s, "u1", "wrong-1"), next_locks());
    assert_eq!(pw_login(s, "u1", "wrong-2"), tmp_locked());
    // Locked: refused without a check and without counting, even with the right password.
    assert_eq!(pw_login(s, "u1", PW), tmp_locked());
    let cred = password_of(s, "u1");
    assert_eq!(cred["stateName"], "tmp-locked");
    assert_eq!(cred["failedLoginCount"], 2, "{cred}");
    let u = s.admin().get(&format!("{CORE}/acme/users/u1")).json();
    assert!(u["lastLoginFailure"].is_string(), "{u}");

    // Unlock (§11.3), then the credential counts from zero again.
    let r = s
        .admin()
        .post(&format!("{CORE}/acme/users/u1/password/unlock"), &json!({}));
    assert_eq!(r.status, 204, "{}", r.text);
    assert_eq!(pw_login(s, "u1", "wrong-3"), next_locks());
    assert_eq!(pw_login(s, "u1", PW), ok());

    // 4: a policy that fail-locks at the first failure.
    user(s, "u3", "strict");
    password(s, "u3", "strict");
    assert_eq!(pw_login(s, "u3", "wrong"), locked());
    assert_eq!(pw_login(s, "u3", PW), locked());
    assert_eq!(password_of(s, "u3")["stateName"], "fail-locked");
    assert_eq!(password_of(s, "u3")["failedLoginCount"], 1);

    // 2: no lock near.
    user(s, "u4", "lenient");
    password(s, "u4", "lenient");
    for _ in 0..3 {
        assert_eq!(pw_login(s, "u4", "wrong"), failed());
    }
    assert_eq!(pw_login(s, "u4", "wrong"), next_locks());
    assert_eq!(pw_login(s, "u4", "wrong"), tmp_locked());

    // No password ever reaches the log or the history.
    let logs = s.logs();
    for secret in [PW, "wrong-1", "wrong-2"] {
        assert!(!logs.contains(secret), "{secret} in the log");
    }
    assert_history_clean(
        s,
        "u1",
        &[
            "login.succeeded",
            "login.failed",
            "login.refused",
            "credential.unlocked",
        ],
        &[PW.to_owned(), "wrong-1".to_owned(), "wrong-2".to_owned()],
    );
}

fn password_login_errors(s: &TestServer) {
    setup(s);
    let admin = s.admin();
    for body in [
        json!({}),
        json!({"password": ""}),
        json!({"password": null}),
    ] {
        admin.post(&pw_login_path("u1"), &body).assert_error(
            422,
            "errors.nullParameter",
            "The 'password' parameter is mandatory.",
        );
    }
    let r = admin.send(
        "POST",
        &pw_login_path("u1"),
        Some(("application/json", b"{\"password\":".to_vec())),
        &[],
    );
    r.assert_error(
        400,
        "errors.jsonProcessingError",
        "Malformed JSON request body.",
    );
    admin
        .post(&pw_login_path("u2"), &json!({"password": PW}))
        .assert_error(
            404,
            "errors.noRecord",
            "User with extId u2 has no Password credential",
        );
    admin
        .post(&pw_login_path("nobody"), &json!({"password": PW}))
        .assert_error(
            404,
            "errors.noRecord",
            "A user with extId 'nobody' doesn't exist on client with name Acme",
        );
    admin
        .post(
            &format!("{AUTH}/nope/users/u1/password/login"),
            &json!({"password": PW}),
        )
        .assert_error(
            404,
            "errors.noRecord",
            "Client doesn't exist with extId 'nope'",
        );

    // A user that is not active.
    created(&admin.post(
        &format!("{CORE}/acme/users"),
        &json!({"extId": "u5", "loginId": "gone", "userState": "disabled"}),
    ));
    password(s, "u5", "pwd");
    admin
        .post(&pw_login_path("u5"), &json!({"password": PW}))
        .assert_error(
            422,
            "errors.credentialNotActive",
            "User with extId u5 is not active",
        );

    // A disabled credential.
    let r = admin.patch(
        &format!("{CORE}/acme/users/u1/password"),
        &json!({"stateName": "disabled"}),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    admin
        .post(&pw_login_path("u1"), &json!({"password": PW}))
        .assert_error(
            422,
            "errors.credentialNotActive",
            "Credential with extId 'pw-u1' is not active",
        );
    assert_eq!(
        password_of(s, "u1")["failedLoginCount"],
        0,
        "nothing counted"
    );

    // A SelfAdmin caller has none of the rights, not even on itself.
    let r = admin.patch(
        &format!("{CORE}/acme/users/u1/password"),
        &json!({"stateName": "active"}),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    created(&admin.post(
        &format!("{CORE}/acme/users/u1/roles"),
        &json!({"role": "SelfAdmin"}),
    ));
    s.as_user("acme/jdoe", PW)
        .post(&pw_login_path("u1"), &json!({"password": PW}))
        .assert_error(
            403,
            "errors.insufficientRightsFunction",
            "Permission denied: Caller does not have the required right 'AccessControl.CredentialView' to perform this action",
        );
}

/// SPEC §10.1: a Helpdesk of client `default` cannot log in as, unlock or change the password
/// of the Root user `admin`; it can for an ordinary user of its client; outside its data room
/// it holds no rights at all.
fn a_helpdesk_cannot_act_on_the_root_user(s: &TestServer) {
    setup(s);
    let admin = s.admin();
    for (ext, login) in [("helper", "helper"), ("plain", "plain")] {
        created(&admin.post(
            &format!("{CORE}/default/users"),
            &json!({"extId": ext, "loginId": login}),
        ));
    }
    created(&admin.post(
        &format!("{CORE}/default/users/plain/password"),
        &json!({"extId": "pw-plain"}),
    ));
    let r = admin.post(&format!("{CORE}/default/users/helper/password"), &json!({}));
    let helper_pw = created(&r)["passwordFragment"].as_str().unwrap().to_owned();
    created(&admin.post(
        &format!("{CORE}/default/users/helper/roles"),
        &json!({"role": "Helpdesk", "clientExtIds": ["default"]}),
    ));
    let helper = s.as_user("default/helper", &helper_pw);
    let escalation = (
        403,
        "errors.potentialPrivilegeEscalation",
        "Permission denied: the target user holds rights beyond the caller's own",
    );
    for (path, body) in [
        (
            format!("{AUTH}/default/users/admin/password/login"),
            json!({"password": idm_blackbox_tests::ADMIN_PASSWORD}),
        ),
        (
            format!("{CORE}/default/users/admin/password/unlock"),
            json!({}),
        ),
        (
            format!("{CORE}/default/users/admin/password/change"),
            json!({"newPassword": "Taken-Over-123"}),
        ),
    ] {
        helper
            .post(&path, &body)
            .assert_error(escalation.0, escalation.1, escalation.2);
    }
    // An ordinary user of its client: the login is processed (the generated password is not
    // known here, so it fails).
    let r = helper.post(
        &format!("{AUTH}/default/users/plain/password/login"),
        &json!({"password": "not-it"}),
    );
    assert_eq!(status_of(&r), next_locks());
    // Outside its data room.
    helper
        .post(&pw_login_path("u1"), &json!({"password": PW}))
        .assert_error(
            403,
            "errors.combinedDataroomDenied",
            "Permission denied: AccessControl.CredentialView",
        );
    // The admin itself is untouched.
    assert_eq!(s.admin().get(&format!("{CORE}/clients/acme")).status, 200);
}

// ---- §11.2 OATH login ----------------------------------------------------------------------

/// Every algorithm, 6 and 8 digits, TOTP and HOTP: codes from the URI log in.
fn oath_codes_from_an_independent_implementation_log_in(s: &TestServer) {
    setup(s);
    for (i, (alg, digits, kind)) in [
        ("SHA1", "6", "totp"),
        ("SHA256", "8", "totp"),
        ("SHA512", "6", "totp"),
        ("SHA1", "8", "hotp"),
        ("SHA256", "6", "hotp"),
        ("SHA512", "8", "hotp"),
    ]
    .into_iter()
    .enumerate()
    {
        let policy = format!("oath-{i}");
        oath_policy(
            s,
            &policy,
            json!({"initialAlgorithm": alg, "initialDigits": digits, "initialType": kind}),
        );
        let ext = format!("o{i}");
        let app = oath(s, "u1", &ext, &policy);
        assert_eq!(app.digits.to_string(), digits);
        let what = format!("{alg}/{digits}/{kind}");
        if app.hotp {
            assert_eq!(oath_login(s, "u1", &ext, &app.hotp_code(0)), ok(), "{what}");
            assert_eq!(oath_of(s, "u1", &ext)["counter"], 1, "{what}");
            // A used code fails (and counts).
            assert_eq!(
                oath_login(s, "u1", &ext, &app.hotp_code(0)),
                next_locks(),
                "{what}"
            );
            // Within the look-ahead (10): the token was pressed a few times unused.
            assert_eq!(oath_login(s, "u1", &ext, &app.hotp_code(6)), ok(), "{what}");
            assert_eq!(oath_of(s, "u1", &ext)["counter"], 7, "{what}");
            // Beyond it.
            assert_eq!(
                oath_login(s, "u1", &ext, &app.hotp_code(18)),
                next_locks(),
                "{what}"
            );
            assert_eq!(oath_login(s, "u1", &ext, &app.hotp_code(7)), ok(), "{what}");
        } else {
            let now = app.code_in(0);
            assert_eq!(oath_login(s, "u1", &ext, &now), ok(), "{what}");
            let step = oath_of(s, "u1", &ext)["counter"].as_i64().unwrap();
            assert!(
                step > 56_000_000,
                "the last accepted step is stored: {step}"
            );
            // The same code again: a replay, refused like a wrong code and counted.
            assert_eq!(oath_login(s, "u1", &ext, &now), next_locks(), "{what}");
            assert_eq!(oath_of(s, "u1", &ext)["failedLoginCount"], 1);
            // The next step's code is fresh (the window reaches one step ahead).
            assert_eq!(oath_login(s, "u1", &ext, &app.code_in(1)), ok(), "{what}");
            assert_eq!(oath_of(s, "u1", &ext)["failedLoginCount"], 0);
            // Three steps back is outside the window.
            assert_eq!(
                oath_login(s, "u1", &ext, &app.code_in(-3)),
                next_locks(),
                "{what}"
            );
        }
        let cred = oath_of(s, "u1", &ext);
        assert_eq!(cred["stateName"], "active", "{cred}");
        let b32 = BASE32_NOPAD.encode(&app.secret);
        assert!(!s.logs().contains(&b32));
        let codes: Vec<String> = if app.hotp {
            [0, 6, 7, 18].iter().map(|c| app.hotp_code(*c)).collect()
        } else {
            (-1..=2).map(|k| app.code_in(k)).collect()
        };
        // Codes are compared with whole string values (a 6-digit run may occur in an ID);
        // the secret, plain or sealed, anywhere.
        let sealed = cred["secret"].as_str().unwrap().to_owned();
        assert_history_clean(s, "u1", &[], &[b32, sealed]);
        let r = s
            .admin()
            .get(&format!("{CORE}/acme/users/u1/history?limit=1000"));
        if r.status == 200 {
            for code in &codes {
                assert!(
                    !r.text.contains(&format!("\"{code}\"")),
                    "{code} in the history"
                );
            }
        }
    }
    assert_history_clean(
        s,
        "u1",
        &["login.succeeded", "login.failed", "oath.replayRefused"],
        &[PW.to_owned()],
    );
}

fn oath_login_errors_and_malformed_codes(s: &TestServer) {
    setup(s);
    oath_policy(
        s,
        "no-lock",
        json!({"tmpLockingThreshold": "-1", "maxCredFailureCount": "-1"}),
    );
    let app = oath(s, "u1", "o1", "no-lock");
    oath(s, "u2", "o2", "no-lock");
    let admin = s.admin();
    for body in [json!({}), json!({"code": ""}), json!({"code": null})] {
        admin
            .post(&oath_login_path("u1", "o1"), &body)
            .assert_error(
                422,
                "errors.nullParameter",
                "The 'code' parameter is mandatory.",
            );
    }
    let r = admin.post(&oath_login_path("u1", "o1"), &json!({"code": 123456}));
    r.assert_error(
        400,
        "errors.deserialization",
        "Invalid value for field 'code'.",
    );
    // Not `digits` decimal digits: a counted failure.
    for bad in ["abcdef", "12345", "1234567", "12 456"] {
        assert_eq!(oath_login(s, "u1", "o1", bad), failed(), "{bad}");
    }
    assert_eq!(oath_of(s, "u1", "o1")["failedLoginCount"], 4);
    // No such credential of this user: missing, another user's, another type.
    for (user, ext) in [("u1", "o9"), ("u1", "o2"), ("u1", "pw-u1")] {
        admin
            .post(&oath_login_path(user, ext), &json!({"code": "123456"}))
            .assert_error(
                404,
                "errors.noRecord",
                &format!(
                    "OATH credential with the extId {ext} does not exist under the user {user}"
                ),
            );
    }
    // A disabled credential.
    let r = admin.post(
        &format!("{CORE}/acme/users/u1/oath-credentials"),
        &json!({"extId": "o3", "label": "off", "stateName": "disabled", "policyExtId": "no-lock"}),
    );
    let off = Authenticator::from_uri(created(&r)["uri"].as_str().unwrap());
    admin
        .post(
            &oath_login_path("u1", "o3"),
            &json!({"code": off.code_in(0)}),
        )
        .assert_error(
            422,
            "errors.credentialNotActive",
            "Credential with extId 'o3' is not active",
        );
    assert_eq!(oath_login(s, "u1", "o1", &app.code_in(0)), ok());
}

/// SPEC §11.2 replay protection: of 50 parallel submissions of one valid code exactly one logs
/// in; the other 49 are refused (and counted).
fn one_code_fifty_times_in_parallel_logs_in_once(s: &TestServer) {
    setup(s);
    oath_policy(
        s,
        "no-lock",
        json!({"tmpLockingThreshold": "-1", "maxCredFailureCount": "-1"}),
    );
    let app = oath(s, "u1", "o1", "no-lock");
    let code = app.code_in(0);
    let statuses = parallel(50, |_| oath_login(s, "u1", "o1", &code).0);
    assert_eq!(
        statuses.iter().filter(|c| **c == 5).count(),
        1,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|c| **c == 2).count(),
        49,
        "{statuses:?}"
    );
    let cred = oath_of(s, "u1", "o1");
    assert_eq!(cred["successfulLoginCount"], 1, "{cred}");
    assert_eq!(cred["failedLoginCount"], 49, "{cred}");
}

/// SPEC §10.2: 50 parallel wrong codes under `tmpLockingThreshold` 2 check (and count) exactly
/// two; the rest are refused without a check. The right code then answers 9.
fn fifty_wrong_codes_in_parallel_lock_at_the_threshold(s: &TestServer) {
    setup(s);
    oath_policy(
        s,
        "tmp2",
        json!({"tmpLockingThreshold": "2", "maxCredFailureCount": "-1"}),
    );
    let app = oath(s, "u1", "o1", "tmp2");
    let near: Vec<String> = (-1..=1).map(|k| app.code_in(k)).collect();
    let wrong: Vec<String> = (0..200)
        .map(|i| format!("{:06}", 100_000 + i * 4999))
        .filter(|c| !near.contains(c))
        .take(50)
        .collect();
    let statuses = parallel(50, |i| oath_login(s, "u1", "o1", &wrong[i]).0);
    let cred = oath_of(s, "u1", "o1");
    assert_eq!(cred["failedLoginCount"], 2, "{cred} {statuses:?}");
    assert_eq!(cred["stateName"], "tmp-locked");
    assert_eq!(
        statuses.iter().filter(|c| **c == 3).count(),
        1,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|c| **c == 9).count(),
        49,
        "{statuses:?}"
    );
    assert_eq!(oath_login(s, "u1", "o1", &app.code_in(0)), tmp_locked());
    assert_eq!(oath_of(s, "u1", "o1")["successfulLoginCount"], 0);
}

/// SPEC §10.2 for passwords: 50 parallel wrong passwords verify and count no more than the
/// threshold; the right password then answers 9.
fn fifty_wrong_passwords_in_parallel_lock_at_the_threshold(s: &TestServer) {
    setup(s);
    let failures = "idm_password_verifications_total{outcome=\"failure\"}";
    let before = s.metric(failures);
    let statuses = parallel(50, |i| pw_login(s, "u1", &format!("wrong-{i}")).0);
    assert_eq!(s.metric(failures) - before, 2.0, "wrong passwords verified");
    let cred = password_of(s, "u1");
    assert_eq!(cred["failedLoginCount"], 2, "{cred} {statuses:?}");
    assert_eq!(cred["stateName"], "tmp-locked");
    assert!(statuses.iter().all(|c| [3, 9].contains(c)), "{statuses:?}");
    assert!(
        statuses.iter().filter(|c| **c == 3).count() <= 1,
        "{statuses:?}"
    );
    assert_eq!(pw_login(s, "u1", PW), tmp_locked());
}

fn hotp_resync(s: &TestServer) {
    setup(s);
    oath_policy(
        s,
        "hotp",
        json!({"initialType": "hotp", "hotpResyncWindow": "50"}),
    );
    oath_policy(s, "totp", json!({}));
    let app = oath(s, "u1", "h1", "hotp");
    oath(s, "u1", "t1", "totp");
    let resync = |ext: &str, body: Value| {
        s.admin().post(
            &format!("{AUTH}/acme/users/u1/oath-credentials/{ext}/resync"),
            &body,
        )
    };
    // The token ran ahead beyond the look-ahead: a login fails, a resync catches up.
    assert_eq!(oath_login(s, "u1", "h1", &app.hotp_code(30)), next_locks());
    let r = resync(
        "h1",
        json!({"code1": app.hotp_code(30), "code2": app.hotp_code(31)}),
    );
    assert_eq!(r.status, 204, "{}", r.text);
    assert_eq!(oath_of(s, "u1", "h1")["counter"], 32);
    assert_eq!(oath_login(s, "u1", "h1", &app.hotp_code(32)), ok());
    assert_eq!(oath_of(s, "u1", "h1")["counter"], 33);

    let mismatch = "The codes do not match consecutive counter values.";
    for (a, b) in [(40, 42), (41, 40), (10, 11), (83, 84)] {
        resync(
            "h1",
            json!({"code1": app.hotp_code(a), "code2": app.hotp_code(b)}),
        )
        .assert_error(422, "errors.invalidParameter", mismatch);
    }
    assert_eq!(oath_of(s, "u1", "h1")["counter"], 33);
    resync("t1", json!({"code1": "123456", "code2": "654321"})).assert_error(
        422,
        "errors.invalidParameter",
        "Resynchronisation applies to HOTP credentials only.",
    );
    resync("h1", json!({"code1": "123456"})).assert_error(
        422,
        "errors.nullParameter",
        "The 'code2' parameter is mandatory.",
    );
    resync("h1", json!({"code2": "123456"})).assert_error(
        422,
        "errors.nullParameter",
        "The 'code1' parameter is mandatory.",
    );
    resync("zz", json!({"code1": "1", "code2": "2"})).assert_error(
        404,
        "errors.noRecord",
        "OATH credential with the extId zz does not exist under the user u1",
    );
}

// ---- §11.3 change and unlock ---------------------------------------------------------------

fn change_path(user: &str) -> String {
    format!("{CORE}/acme/users/{user}/password/change")
}

fn token_of(s: &TestServer, login: &str, password: &str) -> String {
    let r = s.as_user(&format!("acme/{login}"), password).post(
        TOKEN,
        &json!({"username": login, "password": password, "grant_type": "password"}),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    r.json()["access_token"].as_str().unwrap().to_owned()
}

fn post_with_token(
    s: &TestServer,
    login: &str,
    password: &str,
    path: &str,
    body: &Value,
    token: &str,
) -> Reply {
    s.as_user(&format!("acme/{login}"), password).send(
        "POST",
        path,
        Some(("application/json", body.to_string().into_bytes())),
        &[("X-Token", token)],
    )
}

fn admin_changes_a_password(s: &TestServer) {
    setup(s);
    let admin = s.admin();
    admin.post(&change_path("u1"), &json!({})).assert_error(
        422,
        "errors.nullParameter",
        "The 'newPassword' parameter is mandatory.",
    );
    let r = admin.post(&change_path("u1"), &json!({"newPassword": "short"}));
    r.assert_error(
        422,
        "errors.pwdPolicyViolated",
        "The password does not comply with the password policy.",
    );
    assert_eq!(r.json()["policyViolations"][0]["configString"], "minLength");
    assert!(!r.text.contains("short"), "{}", r.text);
    let r = admin.post(&change_path("u1"), &json!({"newPassword": PW}));
    r.assert_error(
        422,
        "errors.pwdPolicyViolated",
        "The password does not comply with the password policy.",
    );
    assert_eq!(
        r.json()["policyViolations"][0]["displayName"],
        "notCurrentPassword"
    );
    assert!(!r.text.contains(PW));

    // Lock it first: a change by an admin also lifts the lock.
    pw_login(s, "u1", "wrong");
    pw_login(s, "u1", "wrong");
    let before = password_of(s, "u1");
    assert_eq!(before["stateName"], "tmp-locked");
    let r = admin.post(
        &change_path("u1"),
        &json!({"oldPassword": "ignored", "newPassword": "Brand-New-Pw-2"}),
    );
    assert_eq!(r.status, 204, "{}", r.text);
    let after = password_of(s, "u1");
    assert_eq!(after["stateName"], "active");
    assert_eq!(after["stateChangeReason"], "changed-by-admin");
    assert_eq!(after["failedLoginCount"], 0);
    assert_eq!(after["version"], before["version"].as_i64().unwrap() + 1);
    assert_eq!(pw_login(s, "u1", "Brand-New-Pw-2"), ok());
    assert_eq!(pw_login(s, "u1", PW), next_locks());

    // Unavailable when the policy generates passwords; no Password credential.
    created(&admin.post(&format!("{CORE}/acme/users/u2/password"), &json!({})));
    admin
        .post(
            &change_path("u2"),
            &json!({"newPassword": "Brand-New-Pw-2"}),
        )
        .assert_error(
            404,
            "errors.noRecord",
            "Password cannot be changed due to policy restrictions",
        );
    user(s, "u6", "nopw");
    admin
        .post(
            &change_path("u6"),
            &json!({"newPassword": "Brand-New-Pw-2"}),
        )
        .assert_error(
            404,
            "errors.noRecord",
            "User with extId u6 has no Password credential",
        );
    assert!(!s.logs().contains("Brand-New-Pw-2"));
}

fn self_admin_changes_its_password_with_x_token(s: &TestServer) {
    setup(s);
    created(&s.admin().post(
        &format!("{CORE}/acme/users/u1/roles"),
        &json!({"role": "SelfAdmin"}),
    ));
    let me = s.as_user("acme/jdoe", PW);
    me.post(
        &change_path("u1"),
        &json!({"oldPassword": PW, "newPassword": "Brand-New-Pw-2"}),
    )
    .assert_error(422, "errors.invalidJWTToken", "Invalid JWT token.");
    let token = token_of(s, "jdoe", PW);
    let change = |old: Option<&str>, new: &str, token: &str, basic: &str| {
        let mut body = json!({"newPassword": new});
        if let Some(old) = old {
            body["oldPassword"] = json!(old);
        }
        post_with_token(s, "jdoe", basic, &change_path("u1"), &body, token)
    };
    change(None, "Brand-New-Pw-2", &token, PW).assert_error(
        422,
        "errors.nullParameter",
        "The 'oldPassword' parameter is mandatory.",
    );
    change(Some("not-it-1"), "Brand-New-Pw-2", &token, PW).assert_error(
        422,
        "errors.invalidParameter",
        "Failed to verify password.",
    );
    assert_eq!(password_of(s, "u1")["failedLoginCount"], 1, "counted");
    change(Some(PW), PW, &token, PW).assert_error(
        422,
        "errors.pwdPolicyViolated",
        "The password does not comply with the password policy.",
    );
    let r = change(Some(PW), "Brand-New-Pw-2", &token, PW);
    assert_eq!(r.status, 204, "{}", r.text);
    let cred = password_of(s, "u1");
    assert_eq!(cred["stateChangeReason"], "changed");
    assert_eq!(cred["failedLoginCount"], 0);
    // The token issued before the change is refused afterwards.
    change(
        Some("Brand-New-Pw-2"),
        "Third-Pw-333",
        &token,
        "Brand-New-Pw-2",
    )
    .assert_error(422, "errors.invalidJWTToken", "Invalid JWT token.");
    let fresh = token_of(s, "jdoe", "Brand-New-Pw-2");
    let r = change(
        Some("Brand-New-Pw-2"),
        "Third-Pw-333",
        &fresh,
        "Brand-New-Pw-2",
    );
    assert_eq!(r.status, 204, "{}", r.text);
    assert_eq!(pw_login(s, "u1", "Third-Pw-333"), ok());
    // Not on another user.
    let r = post_with_token(
        s,
        "jdoe",
        "Third-Pw-333",
        &change_path("u2"),
        &json!({"newPassword": "Brand-New-Pw-2"}),
        &fresh,
    );
    r.assert_error(
        403,
        "errors.insufficientRightsFunction",
        "Permission denied: Caller does not have the required right 'AccessControl.CredentialModify' to perform this action",
    );
    let logs = s.logs();
    for secret in [
        PW,
        "Brand-New-Pw-2",
        "Third-Pw-333",
        "not-it-1",
        token.as_str(),
    ] {
        assert!(!logs.contains(secret), "{secret} in the log");
    }
    assert_history_clean(
        s,
        "u1",
        &["password.changed"],
        &[
            PW.to_owned(),
            "Brand-New-Pw-2".to_owned(),
            "Third-Pw-333".to_owned(),
            "not-it-1".to_owned(),
            token,
        ],
    );
}

fn unlock_lifts_locks_only(s: &TestServer) {
    setup(s);
    let unlock = |user: &str| {
        s.admin().send(
            "POST",
            &format!("{CORE}/acme/users/{user}/password/unlock"),
            None,
            &[],
        )
    };
    // Nothing to unlock: 204 and nothing changes.
    let before = password_of(s, "u1");
    assert_eq!(unlock("u1").status, 204);
    assert_eq!(password_of(s, "u1")["version"], before["version"]);
    // Fail-locked.
    user(s, "u3", "strict");
    password(s, "u3", "strict");
    assert_eq!(pw_login(s, "u3", "wrong"), locked());
    let r = unlock("u3");
    assert_eq!(r.status, 204, "{}", r.text);
    let cred = password_of(s, "u3");
    assert_eq!(cred["stateName"], "active", "{cred}");
    assert_eq!(cred["stateChangeReason"], "unlock");
    assert_eq!(cred["failedLoginCount"], 0);
    assert_eq!(pw_login(s, "u3", PW), ok());
    // Tmp-locked.
    pw_login(s, "u1", "x");
    pw_login(s, "u1", "y");
    assert_eq!(password_of(s, "u1")["stateName"], "tmp-locked");
    assert_eq!(unlock("u1").status, 204);
    assert_eq!(pw_login(s, "u1", PW), ok());
    unlock("u2").assert_error(
        404,
        "errors.noRecord",
        "User with extId u2 has no Password credential",
    );
}

on_both_backends!(
    password_login_answers_every_status,
    password_login_errors,
    a_helpdesk_cannot_act_on_the_root_user,
    oath_codes_from_an_independent_implementation_log_in,
    oath_login_errors_and_malformed_codes,
    one_code_fifty_times_in_parallel_logs_in_once,
    fifty_wrong_codes_in_parallel_lock_at_the_threshold,
    fifty_wrong_passwords_in_parallel_lock_at_the_threshold,
    hotp_resync,
    admin_changes_a_password,
    self_admin_changes_its_password_with_x_token,
    unlock_lifts_locks_only,
);

/// Runs `f(0..n)` on `n` threads at once and collects the results in order.
fn parallel<T: Send>(n: usize, f: impl Fn(usize) -> T + Sync) -> Vec<T> {
    let barrier = std::sync::Barrier::new(n);
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..n)
            .map(|i| {
                let (f, barrier) = (&f, &barrier);
                scope.spawn(move || {
                    barrier.wait();
                    f(i)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    })
}

/// Replay protection across instances: two servers on one PostgreSQL database, 50 parallel
/// submissions of one code spread over both: exactly one logs in.
#[test]
fn one_code_on_two_instances_logs_in_once() {
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
    setup(&a);
    oath_policy(
        &a,
        "no-lock",
        json!({"tmpLockingThreshold": "-1", "maxCredFailureCount": "-1"}),
    );
    let app = oath(&b, "u1", "o1", "no-lock");
    let code = app.code_in(0);
    let statuses = parallel(50, |i| {
        let s = if i % 2 == 0 { &a } else { &b };
        oath_login(s, "u1", "o1", &code).0
    });
    assert_eq!(
        statuses.iter().filter(|c| **c == 5).count(),
        1,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|c| **c == 2).count(),
        49,
        "{statuses:?}"
    );
    for s in [&a, &b] {
        let cred = oath_of(s, "u1", "o1");
        assert_eq!(cred["successfulLoginCount"], 1, "{cred}");
        assert_eq!(cred["failedLoginCount"], 49, "{cred}");
    }
    // And the lockout holds across them: 50 wrong codes under threshold 2, two checked.
    oath_policy(
        &a,
        "tmp2",
        json!({"tmpLockingThreshold": "2", "maxCredFailureCount": "-1"}),
    );
    let app2 = oath(&a, "u1", "o2", "tmp2");
    let near: Vec<String> = (-1..=1).map(|k| app2.code_in(k)).collect();
    let wrong: Vec<String> = (0..200)
        .map(|i| format!("{:06}", 200_000 + i * 3571))
        .filter(|c| !near.contains(c))
        .take(50)
        .collect();
    let statuses = parallel(50, |i| {
        let s = if i % 2 == 0 { &a } else { &b };
        oath_login(s, "u1", "o2", &wrong[i]).0
    });
    let cred = oath_of(&b, "u1", "o2");
    assert_eq!(cred["failedLoginCount"], 2, "{cred} {statuses:?}");
    assert_eq!(oath_login(&b, "u1", "o2", &app2.code_in(0)), tmp_locked());
}
