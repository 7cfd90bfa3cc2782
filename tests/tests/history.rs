//! Black-box tests of the history (SPEC §13) on SQLite and PostgreSQL: one event per change in
//! the same transaction, the query endpoints and their data rooms, no secret anywhere in the
//! history, and tamper evidence through `idm-server audit verify|export|prune`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::Command;

use idm_blackbox_tests::{cli, json, on_both_backends, sql, Backend, Options, Reply, TestServer};
use serde_json::Value;

const API: &str = "/nevisidm/api/core/v1";
const EVENTS: &str = "/nevisidm/api/audit/v1/events";
const PW: &str = "Audit-Secret-77";

fn ok(r: &Reply) {
    assert!((200..300).contains(&r.status), "{} {}", r.status, r.text);
}

/// Every event of the history, through the API as the Root admin (all pages).
fn all_events(s: &TestServer) -> Vec<Value> {
    let mut out = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let path = match &token {
            Some(t) => format!("{EVENTS}?limit=1000&continuationToken={t}"),
            None => format!("{EVENTS}?limit=1000"),
        };
        let r = s.admin().get(&path);
        assert_eq!(r.status, 200, "{}", r.text);
        let body = r.json();
        out.extend(body["items"].as_array().unwrap().iter().cloned());
        match body["_pagination"]["continuationToken"].as_str() {
            Some(t) => token = Some(t.to_owned()),
            None => return out,
        }
    }
}

fn actions(events: &[Value]) -> Vec<String> {
    events
        .iter()
        .map(|e| e["action"].as_str().unwrap().to_owned())
        .collect()
}

/// Client acme, a policy taking supplied passwords, user jdoe (SelfAdmin) with password PW.
fn setup(s: &TestServer) {
    let admin = s.admin();
    ok(&admin.post(
        &format!("{API}/clients"),
        &json!({"extId": "acme", "name": "Acme"}),
    ));
    ok(&admin.post(
        &format!("{API}/acme/policies"),
        &json!({"extId": "pwd", "name": "P", "policyType": "PwdPolicy",
                "parameters": {"resetCodeEnabled": "false"}}),
    ));
    ok(&admin.post(
        &format!("{API}/acme/users"),
        &json!({"extId": "jdoe", "loginId": "jdoe"}),
    ));
    ok(&admin.post(
        &format!("{API}/acme/users/jdoe/password"),
        &json!({"policyExtId": "pwd", "password": PW}),
    ));
    ok(&admin.post(
        &format!("{API}/acme/users/jdoe/roles"),
        &json!({"role": "SelfAdmin"}),
    ));
}

/// Each change is one event with actor, target, request ID and a diff; a refused write leaves
/// no event of its change; a 403 and a failed authentication of an existing user are events.
fn every_change_is_one_event(s: &TestServer) {
    setup(s);
    let before = all_events(s).len();
    let r = s.admin().send(
        "POST",
        &format!("{API}/acme/users"),
        Some((
            "application/json",
            json!({"extId": "jdoe", "loginId": "other"})
                .to_string()
                .into_bytes(),
        )),
        &[("X-Request-Id", "dup-create-1")],
    );
    assert_eq!(r.status, 422, "{}", r.text);
    let r = s.admin().send(
        "PATCH",
        &format!("{API}/acme/users/jdoe/password"),
        Some((
            "application/json",
            json!({"stateName": "disabled", "modificationComment": "leave"})
                .to_string()
                .into_bytes(),
        )),
        &[("X-Request-Id", "patch-1")],
    );
    assert_eq!(r.status, 200, "{}", r.text);
    let events = all_events(s);
    let new = &events[before..];
    assert_eq!(actions(new), vec!["credential.updated"], "{new:?}");
    let e = &new[0];
    assert_eq!(e["outcome"], "success");
    assert_eq!(e["requestId"], "patch-1");
    assert_eq!(
        e["actor"],
        json!({"clientExtId": "default", "userExtId": "admin", "loginId": "admin"})
    );
    assert_eq!(e["target"]["clientExtId"], "acme");
    assert_eq!(e["target"]["userExtId"], "jdoe");
    assert!(e["target"]["credentialExtId"].is_string());
    assert_eq!(e["changes"]["stateName"], json!(["active", "disabled"]));
    // Filter by request: the refused create left nothing.
    let r = s.admin().get(&format!("{EVENTS}?requestId=dup-create-1"));
    assert_eq!(r.json()["items"], json!([]));
    // A failed authentication of an existing user (refused unchecked while disabled, checked
    // and failed once active again), and a 403, are events.
    let r = s
        .as_user("acme/jdoe", "wrong")
        .get(&format!("{API}/acme/users/jdoe"));
    assert_eq!(r.status, 401);
    ok(&s.admin().patch(
        &format!("{API}/acme/users/jdoe/password"),
        &json!({"stateName": "active"}),
    ));
    let r = s
        .as_user("acme/jdoe", "wrong")
        .get(&format!("{API}/acme/users/jdoe"));
    assert_eq!(r.status, 401);
    let r = s
        .as_user("acme/jdoe", PW)
        .get(&format!("{API}/clients/acme"));
    assert_eq!(r.status, 403, "{}", r.text);
    let events = all_events(s);
    let acts = actions(&events);
    assert!(acts.contains(&"login.refused".to_owned()), "{acts:?}");
    let failed = events
        .iter()
        .find(|e| e["action"] == "login.failed")
        .expect("the checked failure is an event");
    assert_eq!(failed["outcome"], "failure");
    let denied = events
        .iter()
        .find(|e| e["action"] == "access.denied")
        .expect("the 403 is an event");
    assert_eq!(denied["outcome"], "failure");
    assert_eq!(denied["actor"]["userExtId"], "jdoe");
    assert_eq!(denied["target"]["clientExtId"], "acme");
}

/// The event list is data-room filtered; a user's history is readable by SelfAdmin for itself.
fn queries_and_data_rooms(s: &TestServer) {
    setup(s);
    let admin = s.admin();
    ok(&admin.post(
        &format!("{API}/acme/users"),
        &json!({"extId": "aud", "loginId": "aud"}),
    ));
    ok(&admin.post(
        &format!("{API}/acme/users/aud/password"),
        &json!({"policyExtId": "pwd", "password": PW}),
    ));
    ok(&admin.post(
        &format!("{API}/acme/users/aud/roles"),
        &json!({"role": "ClientRoot", "clientExtIds": ["acme"]}),
    ));
    // ClientRoot of acme: sees acme's events only, never default's or the bootstrap's.
    let r = s
        .as_user("acme/aud", PW)
        .get(&format!("{EVENTS}?limit=1000"));
    assert_eq!(r.status, 200, "{}", r.text);
    let items = r.json()["items"].as_array().unwrap().clone();
    assert!(!items.is_empty());
    assert!(
        items.iter().all(|e| e["target"]["clientExtId"] == "acme"),
        "{items:?}"
    );
    s.as_user("acme/aud", PW)
        .get(&format!("{EVENTS}?clientExtId=default"))
        .assert_error(
            403,
            "errors.combinedDataroomDenied",
            "Permission denied: AccessControl.AuditView",
        );
    // Root sees the bootstrap's events.
    let all = all_events(s);
    assert_eq!(all[0]["actor"], json!({"system": "bootstrap"}));
    assert_eq!(all[0]["seq"], 1);
    // Filters: action and user.
    let r = admin.get(&format!("{EVENTS}?action=role.granted&clientExtId=acme"));
    let items = r.json()["items"].as_array().unwrap().clone();
    assert_eq!(items.len(), 2, "{items:?}");
    let r = admin.get(&format!("{EVENTS}?userExtId=jdoe&clientExtId=acme"));
    assert!(r.json()["items"]
        .as_array()
        .unwrap()
        .iter()
        .all(|e| e["target"]["userExtId"] == "jdoe" || e["actor"]["userExtId"] == "jdoe"));
    admin.get(&format!("{EVENTS}?from=yesterday")).assert_error(
        422,
        "errors.invalidParameter",
        "Invalid value 'yesterday' for parameter 'from'",
    );
    // Self-admin reads its own history, not another's.
    let r = s
        .as_user("acme/jdoe", PW)
        .get(&format!("{API}/acme/users/jdoe/history"));
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(!r.json()["items"].as_array().unwrap().is_empty());
    let r = s
        .as_user("acme/jdoe", PW)
        .get(&format!("{API}/acme/users/aud/history"));
    assert_eq!(r.status, 403);
    // Paging: two at a time covers the same events as one page.
    let mut paged = Vec::new();
    let mut token = String::new();
    loop {
        let path = if token.is_empty() {
            format!("{EVENTS}?limit=2&clientExtId=acme")
        } else {
            format!("{EVENTS}?limit=2&clientExtId=acme&continuationToken={token}")
        };
        let body = admin.get(&path).json();
        paged.extend(
            body["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["seq"].clone()),
        );
        match body["_pagination"]["continuationToken"].as_str() {
            Some(t) => token = t.to_owned(),
            None => break,
        }
    }
    let one: Vec<Value> = admin
        .get(&format!("{EVENTS}?limit=1000&clientExtId=acme"))
        .json()["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["seq"].clone())
        .collect();
    assert_eq!(paged, one);
}

/// A scripted session of resets, OATH creation and logins: no password, fragment, hash,
/// secret or token appears in the history, and none but hashes anywhere in the database.
fn no_secret_in_the_history_or_the_database(s: &TestServer) {
    setup(s);
    let admin = s.admin();
    ok(&admin.post(
        &format!("{API}/acme/policies"),
        &json!({"extId": "gen", "name": "G", "policyType": "PwdPolicy",
                "parameters": {"generatedLength": "16", "fragmentLength": "8"}}),
    ));
    ok(&admin.post(
        &format!("{API}/acme/users"),
        &json!({"extId": "gina", "loginId": "gina"}),
    ));
    let created = admin.post(
        &format!("{API}/acme/users/gina/password"),
        &json!({"policyExtId": "gen"}),
    );
    ok(&created);
    let mut secrets: Vec<String> = vec![PW.to_owned()];
    secrets.push(
        created.json()["passwordFragment"]
            .as_str()
            .unwrap()
            .to_owned(),
    );
    for _ in 0..2 {
        let r = admin.send(
            "POST",
            &format!("{API}/acme/users/gina/password/reset"),
            None,
            &[],
        );
        ok(&r);
        secrets.push(r.json()["passwordFragment"].as_str().unwrap().to_owned());
    }
    // A token and an OATH credential of jdoe.
    let t = s.as_user("acme/jdoe", PW).post(
        "/nevisidm/api/principal/v1/token",
        &json!({"grant_type": "password", "username": "jdoe", "password": PW}),
    );
    ok(&t);
    let token = t.json()["access_token"].as_str().unwrap().to_owned();
    secrets.push(token.clone());
    let oath = s.as_user("acme/jdoe", PW).send(
        "POST",
        &format!("{API}/acme/users/jdoe/oath-credentials"),
        Some((
            "application/json",
            json!({"label": "phone"}).to_string().into_bytes(),
        )),
        &[("X-Token", &token)],
    );
    ok(&oath);
    let uri = oath.json()["uri"].as_str().unwrap().to_owned();
    let secret = uri
        .split("secret=")
        .nth(1)
        .unwrap()
        .split('&')
        .next()
        .unwrap()
        .to_owned();
    secrets.push(secret);
    // Failed and successful logins.
    for pw in ["wrong-1", PW] {
        let _ = s
            .as_user("acme/jdoe", pw)
            .get(&format!("{API}/acme/users/jdoe"));
    }
    let history = serde_json::to_string(&all_events(s)).unwrap();
    for secret in &secrets {
        assert!(
            !history.contains(secret.as_str()),
            "a secret is in the history"
        );
    }
    assert!(!history.contains("$argon2"), "a hash is in the history");
    let (ok_cli, export, _) = cli(
        &s.database_url,
        &["audit", "export"],
        &[("IDM_AUDIT_RETENTION_DAYS", "1")],
    );
    assert!(ok_cli);
    assert!(!export.contains("$argon2"));
    for secret in &secrets {
        assert!(!export.contains(secret.as_str()));
        assert!(
            !s.logs().contains(secret.as_str()),
            "a secret is in the log"
        );
    }
    let store = database_text(s);
    assert!(store.contains("history_events") || store.contains("login.failed"));
    for secret in &secrets {
        assert!(
            !store.contains(secret.as_str()),
            "a secret is in the database in clear"
        );
    }
}

/// The whole database as text: the SQLite files, or a `pg_dump`.
fn database_text(s: &TestServer) -> String {
    if let Some(path) = s.database_url.strip_prefix("sqlite://") {
        let mut text = String::new();
        for file in [path.to_owned(), format!("{path}-wal")] {
            if let Ok(bytes) = std::fs::read(&file) {
                text.push_str(&String::from_utf8_lossy(&bytes));
            }
        }
        return text;
    }
    let dump = Command::new("pg_dump")
        .arg(&s.database_url)
        .output()
        .expect("pg_dump runs");
    assert!(
        dump.status.success(),
        "{}",
        String::from_utf8_lossy(&dump.stderr)
    );
    String::from_utf8_lossy(&dump.stdout).into_owned()
}

fn verify(s: &TestServer) -> (bool, String) {
    let (ok, out, err) = cli(
        &s.database_url,
        &["audit", "verify"],
        &[("IDM_AUDIT_RETENTION_DAYS", "1")],
    );
    (ok, format!("{out}{err}"))
}

/// `audit verify` passes on an intact history and names the first modified, deleted or
/// inserted event; export writes NDJSON; prune keeps verification working.
fn tampering_is_detected(s: &TestServer) {
    setup(s);
    let (intact, out) = verify(s);
    assert!(intact, "{out}");
    assert!(out.contains("history intact"), "{out}");
    let (_, export, _) = cli(
        &s.database_url,
        &["audit", "export"],
        &[("IDM_AUDIT_RETENTION_DAYS", "1")],
    );
    let lines: Vec<Value> = export
        .lines()
        .map(|l| serde_json::from_str(l).expect("NDJSON"))
        .collect();
    assert!(lines.len() >= 10);
    assert_eq!(lines[0]["seq"], 1);
    let n = lines.len() as i64;

    // Modified.
    sql(
        s,
        "UPDATE history_events SET detail = 'forged' WHERE seq = 5",
    );
    let (intact, out) = verify(s);
    assert!(!intact && out.contains("event 5"), "{out}");
    sql(s, "UPDATE history_events SET detail = NULL WHERE seq = 5");
    assert!(verify(s).0);

    // Deleted in the middle.
    sql(
        s,
        "CREATE TABLE saved AS SELECT * FROM history_events WHERE seq = 4",
    );
    sql(s, "DELETE FROM history_events WHERE seq = 4");
    let (intact, out) = verify(s);
    assert!(!intact && out.contains("event 4"), "{out}");
    sql(s, "INSERT INTO history_events SELECT * FROM saved");
    assert!(verify(s).0);

    // Inserted (a forged event at the end, with the head moved along).
    sql(
        s,
        &format!(
            "INSERT INTO history_events SELECT {next}, time, request_id, action, outcome, actor, \
             actor_client, actor_user, client_ext_id, user_ext_id, credential_ext_id, \
             policy_ext_id, changes, detail, hash, hash FROM history_events WHERE seq = {n}",
            next = n + 1
        ),
    );
    sql(s, &format!("UPDATE history_head SET seq = {}, hash = (SELECT hash FROM history_events WHERE seq = {})", n + 1, n + 1));
    let (intact, out) = verify(s);
    assert!(!intact, "{out}");
    sql(
        s,
        &format!("DELETE FROM history_events WHERE seq = {}", n + 1),
    );

    // The newest event deleted and the head rewound to hide it.
    sql(s, &format!("DELETE FROM history_events WHERE seq = {n}"));
    sql(s, &format!("UPDATE history_head SET seq = {}, hash = (SELECT hash FROM history_events WHERE seq = {})", n - 1, n - 1));
    let (intact, out) = verify(s);
    assert!(!intact && out.contains("head"), "{out}");
}

/// `audit prune` applies the retention and verification still passes afterwards. (Events are
/// written "now" and their time is covered by the chain, so a retention of one day prunes none
/// of them here; pruning and its anchor are covered by the use-case tests.)
fn prune_keeps_verification_working(s: &TestServer) {
    setup(s);
    let (ok_cli, out, err) = cli(
        &s.database_url,
        &["audit", "prune"],
        &[("IDM_AUDIT_RETENTION_DAYS", "1")],
    );
    assert!(ok_cli, "{out}{err}");
    assert!(out.contains("events pruned"), "{out}");
    assert!(verify(s).0);
}

on_both_backends!(
    every_change_is_one_event,
    queries_and_data_rooms,
    no_secret_in_the_history_or_the_database,
    tampering_is_detected,
    prune_keeps_verification_working,
);

/// Two instances append to one history at once: the chain stays gapless and verifies.
#[test]
fn two_instances_write_one_chain() {
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
    std::thread::scope(|scope| {
        for (i, s) in [&a, &b].into_iter().enumerate() {
            scope.spawn(move || {
                for n in 0..20 {
                    let r = s.admin().post(
                        &format!("{API}/default/users"),
                        &json!({"extId": format!("u{i}-{n}"), "loginId": format!("u{i}-{n}")}),
                    );
                    assert_eq!(r.status, 201, "{}", r.text);
                }
            });
        }
    });
    let (intact, out) = verify(&a);
    assert!(intact, "{out}");
    let created = all_events(&a)
        .iter()
        .filter(|e| e["action"] == "user.created")
        .count();
    assert_eq!(created, 41, "40 users and the bootstrap admin");
}
