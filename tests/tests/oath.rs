//! Black-box tests of OATH credentials (SPEC §6.5, §8.6) on SQLite and PostgreSQL, including
//! that the plain secret appears nowhere but in the create response's URI.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::Command;

use data_encoding::BASE32_NOPAD;
use idm_blackbox_tests::{json, on_both_backends, TestServer};
use serde_json::Value;

const API: &str = "/nevisidm/api/core/v1";
const TOKEN: &str = "/nevisidm/api/principal/v1/token";

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
        &format!("{API}/acme/users"),
        &json!({"extId": "u1", "loginId": "jdoe", "contacts": {"email": "jane.doe@example.com"}}),
    );
    assert_eq!(r.status, 201);
    assert_eq!(
        admin
            .post(
                &format!("{API}/acme/users"),
                &json!({"extId": "u2", "loginId": "mallory"})
            )
            .status,
        201
    );
}

fn oath_path(user: &str) -> String {
    format!("{API}/acme/users/{user}/oath-credentials")
}

/// The Base32 secret of an otpauth URI, decoded.
fn secret_of(uri: &str) -> (String, Vec<u8>) {
    let b32 = uri
        .split("secret=")
        .nth(1)
        .unwrap()
        .split('&')
        .next()
        .unwrap()
        .to_owned();
    let bytes = BASE32_NOPAD
        .decode(b32.as_bytes())
        .expect("valid unpadded Base32");
    (b32, bytes)
}

fn create_read_list_delete(s: &TestServer) {
    setup(s);
    let r = s.admin().post(
        &oath_path("u1"),
        &json!({"extId": "o1", "label": "Jane's phone"}),
    );
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(
        r.header("location").as_deref(),
        Some("/nevisidm/api/core/v1/acme/users/u1/oath-credentials/o1")
    );
    assert_eq!(r.header("cache-control").as_deref(), Some("no-store"));
    let created = r.json();
    assert_eq!(created["type"], "OATH");
    assert_eq!(created["stateName"], "active");
    assert_eq!(created["authenticationMethod"], "TOTP");
    assert_eq!(created["hashingAlgorithm"], "SHA1");
    assert_eq!(created["digits"], 6);
    assert_eq!(created["period"], 30);
    assert_eq!(created["issuer"], "nevisIDM");
    assert_eq!(created["label"], "Jane's phone");
    let uri = created["uri"].as_str().unwrap();
    assert!(
        uri.starts_with("otpauth://totp/nevisIDM:jdoe?secret="),
        "{uri}"
    );
    assert!(
        uri.ends_with("&issuer=nevisIDM&algorithm=SHA1&digits=6&period=30"),
        "{uri}"
    );
    let (b32, bytes) = secret_of(uri);
    assert_eq!(bytes.len(), 20);
    let sealed = created["secret"].as_str().unwrap();
    assert!(sealed.contains('~') && !sealed.contains(&b32));

    let got = s.admin().get(&format!("{}/o1", oath_path("u1")));
    assert_eq!(got.status, 200);
    assert!(
        got.json().get("uri").is_none(),
        "the URI is shown once: {}",
        got.text
    );
    assert_eq!(got.json()["secret"], sealed);
    assert!(!got.text.contains(&b32));
    let list = s.admin().get(&oath_path("u1"));
    assert_eq!(list.json()["items"].as_array().unwrap().len(), 1);
    assert!(!list.text.contains("otpauth"));

    // Not found: missing, another user's, another type.
    let pw = s.admin().post(
        &format!("{API}/acme/users/u1/password"),
        &json!({"extId": "pw-1"}),
    );
    assert_eq!(pw.status, 201);
    for (user, ext) in [("u1", "o9"), ("u2", "o1"), ("u1", "pw-1")] {
        s.admin()
            .get(&format!("{}/{ext}", oath_path(user)))
            .assert_error(
                404,
                "errors.noRecord",
                &format!(
                    "OATH credential with the extId {ext} does not exist under the user {user}"
                ),
            );
    }
    assert_eq!(
        s.admin().delete(&format!("{}/o1", oath_path("u1"))).status,
        204
    );
    s.admin()
        .delete(&format!("{}/o1", oath_path("u1")))
        .assert_error(
            404,
            "errors.noRecord",
            "OATH credential with the extId o1 does not exist under the user u1",
        );
    assert_eq!(s.admin().get(&oath_path("u1")).json()["items"], json!([]));

    // The plain secret is nowhere at rest or in the log.
    assert!(!s.logs().contains(&b32), "secret in the log");
    assert_secret_not_stored(s, &b32);
}

fn assert_secret_not_stored(s: &TestServer, b32: &str) {
    if let Some(path) = s.database_url.strip_prefix("sqlite://") {
        for file in [path.to_owned(), format!("{path}-wal")] {
            if let Ok(bytes) = std::fs::read(&file) {
                assert!(
                    !String::from_utf8_lossy(&bytes).contains(b32),
                    "secret stored in clear in {file}"
                );
            }
        }
    } else {
        let dump = Command::new("pg_dump")
            .args(["--data-only", &s.database_url])
            .output()
            .unwrap();
        assert!(dump.status.success());
        assert!(
            !String::from_utf8_lossy(&dump.stdout).contains(b32),
            "secret stored in clear in PostgreSQL"
        );
    }
}

fn policy_settings_shape_the_secret_and_uri(s: &TestServer) {
    setup(s);
    let r = s.admin().post(
        &format!("{API}/acme/policies"),
        &json!({"extId": "strong", "name": "Strong", "policyType": "OathPolicy", "parameters": {
            "initialAlgorithm": "SHA512", "initialDigits": "8", "initialType": "hotp",
            "accountname": "email", "issuer": "Acme Corp"}}),
    );
    assert_eq!(r.status, 201, "{}", r.text);
    let r = s.admin().post(
        &oath_path("u1"),
        &json!({"label": "token", "policyExtId": "strong"}),
    );
    assert_eq!(r.status, 201, "{}", r.text);
    let body = r.json();
    assert_eq!(body["authenticationMethod"], "HOTP");
    assert_eq!(body["counter"], 0);
    let uri = body["uri"].as_str().unwrap();
    assert!(
        uri.starts_with("otpauth://hotp/Acme%20Corp:jane.doe%40example.com?secret="),
        "{uri}"
    );
    assert!(
        uri.ends_with("&issuer=Acme%20Corp&algorithm=SHA512&digits=8&counter=0"),
        "{uri}"
    );
    assert_eq!(secret_of(uri).1.len(), 64);

    let sha256 = s.admin().post(
        &format!("{API}/acme/policies"),
        &json!({"extId": "mid", "name": "Mid", "policyType": "OathPolicy", "parameters": {"initialAlgorithm": "SHA256"}}),
    );
    assert_eq!(sha256.status, 201);
    let r = s.admin().post(
        &oath_path("u1"),
        &json!({"label": "t2", "policyExtId": "mid"}),
    );
    assert_eq!(secret_of(r.json()["uri"].as_str().unwrap()).1.len(), 32);

    let admin = s.admin();
    admin
        .post(&oath_path("u1"), &json!({"label": ""}))
        .assert_error(
            422,
            "errors.nullParameter",
            "The 'label' parameter is mandatory.",
        );
    admin
        .post(
            &oath_path("u1"),
            &json!({"label": "x", "policyExtId": "default-PwdPolicy"}),
        )
        .assert_error(
            422,
            "errors.invalidParameter",
            "Policy Configuration default-PwdPolicy is not of type OathPolicy",
        );
    admin
        .post(
            &oath_path("u1"),
            &json!({"label": "x", "policyExtId": "nope"}),
        )
        .assert_error(
            422,
            "errors.invalidParameter",
            "PolicyConfiguration doesn't exist with extId 'nope'",
        );
}

fn self_admin_needs_x_token_for_writes(s: &TestServer) {
    setup(s);
    let pw = s
        .admin()
        .post(&format!("{API}/acme/users/u1/password"), &json!({}));
    let password = pw.json()["passwordFragment"].as_str().unwrap().to_owned();
    assert_eq!(
        s.admin()
            .post(
                &format!("{API}/acme/users/u1/roles"),
                &json!({"role": "SelfAdmin"})
            )
            .status,
        201
    );
    let me = s.as_user("acme/jdoe", &password);
    me.post(&oath_path("u1"), &json!({"label": "phone"}))
        .assert_error(422, "errors.invalidJWTToken", "Invalid JWT token.");
    let token: Value = me
        .post(
            TOKEN,
            &json!({"username": "jdoe", "password": password, "grant_type": "password"}),
        )
        .json();
    let token = token["access_token"].as_str().unwrap().to_owned();
    let r = me.send(
        "POST",
        &oath_path("u1"),
        Some((
            "application/json",
            json!({"extId": "mine", "label": "phone"})
                .to_string()
                .into_bytes(),
        )),
        &[("X-Token", token.as_str())],
    );
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(
        me.get(&oath_path("u1")).status,
        200,
        "own list without a token"
    );
    assert_eq!(
        me.get(&format!("{}/mine", oath_path("u1"))).status,
        200,
        "own read without a token"
    );
    me.delete(&format!("{}/mine", oath_path("u1")))
        .assert_error(422, "errors.invalidJWTToken", "Invalid JWT token.");
    assert_eq!(
        me.send(
            "DELETE",
            &format!("{}/mine", oath_path("u1")),
            None,
            &[("X-Token", token.as_str())]
        )
        .status,
        204
    );
    me.get(&oath_path("u2")).assert_error(
        403,
        "errors.insufficientRightsFunction",
        "Permission denied: Caller does not have the required right 'AccessControl.CredentialView' to perform this action",
    );
}

on_both_backends!(
    create_read_list_delete,
    policy_settings_shape_the_secret_and_uri,
    self_admin_needs_x_token_for_writes,
);
