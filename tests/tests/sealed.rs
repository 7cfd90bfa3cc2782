//! Black-box tests of sealed values (SPEC §4.5, §10.4) on SQLite and PostgreSQL: an OATH secret
//! is bound to its row, so a copy in another row does not open (a 500 without internals, and
//! the service keeps serving); a database from before the binding is upgraded at start-up and
//! its secrets keep working.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{SystemTime, UNIX_EPOCH};

use aes_gcm::aead::{Aead, KeyInit};
use aes_gcm::{Aes256Gcm, Key, Nonce};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use data_encoding::BASE32_NOPAD;
use idm_blackbox_tests::{json, on_both_backends, sql, Options, Reply, TestServer, ENCRYPTION_KEY};
use totp_rs::{Algorithm, TOTP};

const CORE: &str = "/nevisidm/api/core/v1";
const AUTH: &str = "/nevisidm/api/auth/v1";

fn created(r: &Reply) -> serde_json::Value {
    assert_eq!(r.status, 201, "{}", r.text);
    r.json()
}

/// User u1 of client default with two TOTP credentials; their secrets from the create answers.
fn setup(s: &TestServer) -> (Vec<u8>, Vec<u8>) {
    let admin = s.admin();
    created(&admin.post(
        &format!("{CORE}/default/users"),
        &json!({"extId": "u1", "loginId": "u1"}),
    ));
    let secret = |ext: &str| {
        let body = created(&admin.post(
            &format!("{CORE}/default/users/u1/oath-credentials"),
            &json!({"extId": ext, "label": ext}),
        ));
        let uri = body["uri"].as_str().unwrap().to_owned();
        let b32 = uri
            .split("secret=")
            .nth(1)
            .unwrap()
            .split('&')
            .next()
            .unwrap()
            .to_owned();
        BASE32_NOPAD.decode(b32.as_bytes()).unwrap()
    };
    (secret("oa"), secret("ob"))
}

fn code(secret: &[u8]) -> String {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    TOTP::new(Algorithm::SHA1, 6, 0, 30, secret.to_vec())
        .unwrap()
        .generate(now)
}

fn login(s: &TestServer, ext: &str, code: &str) -> Reply {
    s.admin().post(
        &format!("{AUTH}/default/users/u1/oath-credentials/{ext}/login"),
        &json!({"code": code}),
    )
}

fn a_secret_copied_into_another_row_does_not_open(s: &TestServer) {
    let (a, _) = setup(s);
    assert_eq!(login(s, "oa", &code(&a)).json()["statusCode"], 5);
    sql(
        s,
        "UPDATE credentials SET oath_secret = (SELECT oath_secret FROM credentials WHERE ext_id = 'oa') WHERE ext_id = 'ob'",
    );
    let r = login(s, "ob", &code(&a));
    r.assert_error(500, "errors.fatalError", "Internal server error.");
    assert!(!r.text.contains("sealed") && !r.text.contains("decrypt"));
    assert_eq!(
        s.anonymous().get("/health/ready").status,
        200,
        "still serving"
    );
    // The row it belongs to still opens it.
    let next = s
        .admin()
        .get(&format!("{CORE}/default/users/u1/oath-credentials/oa"));
    assert_eq!(next.status, 200);
}

/// A secret sealed without the row binding (as before the upgrade) is re-sealed bound to its
/// row at the next start, and keeps working.
fn an_old_database_is_upgraded_at_start(s: &TestServer) {
    let (a, _) = setup(s);
    let key = STANDARD.decode(ENCRYPTION_KEY).unwrap();
    let key: [u8; 32] = key.try_into().unwrap();
    let cipher = Aes256Gcm::new(&Key::<Aes256Gcm>::from(key));
    let nonce = [7u8; 12];
    let sealed = cipher.encrypt(&Nonce::from(nonce), a.as_slice()).unwrap();
    let unbound = format!("{}~{}", STANDARD.encode(nonce), STANDARD.encode(sealed));
    sql(
        s,
        &format!("UPDATE credentials SET oath_secret = '{unbound}' WHERE ext_id = 'oa'"),
    );
    sql(
        s,
        "DELETE FROM server_meta WHERE name = 'sealed-values-bound-v1'",
    );
    let r = login(s, "oa", &code(&a));
    assert_eq!(
        r.status, 500,
        "an unbound value does not open before the upgrade: {}",
        r.text
    );
    let again = TestServer::start_with(
        s.backend,
        Options {
            database_url: Some(s.database_url.clone()),
            ..Options::default()
        },
    )
    .expect("restart");
    let r = again.admin().post(
        &format!("{AUTH}/default/users/u1/oath-credentials/oa/login"),
        &json!({"code": code(&a)}),
    );
    // The code of this step may have been used above only if that login had succeeded; it
    // did not, so the upgraded secret verifies it now.
    assert_eq!(r.json()["statusCode"], 5, "{}", r.text);
    let stored = again
        .admin()
        .get(&format!("{CORE}/default/users/u1/oath-credentials/oa"))
        .json();
    assert_ne!(stored["secret"], serde_json::Value::String(unbound));
}

on_both_backends!(
    a_secret_copied_into_another_row_does_not_open,
    an_old_database_is_upgraded_at_start
);
