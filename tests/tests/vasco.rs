//! Black-box tests of VASCO Digipass credentials (SPEC §6.4, §8.7) on SQLite and PostgreSQL.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use idm_blackbox_tests::{json, on_both_backends, TestServer};
use serde_json::Value;

const API: &str = "/nevisidm/api/core/v1";

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
    }
    let r = admin.post(
        &format!("{API}/acme/users/u1/password"),
        &json!({"extId": "pw-1"}),
    );
    assert_eq!(r.status, 201, "{}", r.text);
}

fn tokens() -> Value {
    json!([{"authMode": "CR", "data": "AAECAwQF"}, {"authMode": "RO", "data": "BgcICQ=="}])
}

fn create_get_list(s: &TestServer) {
    setup(s);
    let vasco = format!("{API}/acme/vasco");
    let r = s
        .admin()
        .post(&vasco, &json!({"extId": "v1", "vascoTokens": tokens()}));
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(
        r.header("location").as_deref(),
        Some("/nevisidm/api/core/v1/acme/vasco/v1")
    );
    let v = r.json();
    assert_eq!(v["type"], "Vasco");
    assert_eq!(v["stateName"], "initial");
    assert_eq!(v["stateChangeReason"], "initialized");
    assert_eq!(v["policyExtId"], "default-VascoPolicy");
    assert_eq!(v["vascoTokens"], tokens());
    assert!(v.get("userExtId").is_none());
    assert!(v["validity"]["to"].as_str().is_some());

    let generated = s.admin().post(
        &vasco,
        &json!({"vascoTokens": [{"authMode": "CR", "data": "AA=="}], "stateName": "active"}),
    );
    assert_eq!(generated.status, 201);
    assert_eq!(generated.json()["extId"].as_str().unwrap().len(), 36);
    assert_eq!(generated.json()["stateName"], "active");

    let got = s.admin().get(&format!("{vasco}/v1"));
    assert_eq!(got.status, 200);
    assert_eq!(got.json()["vascoTokens"], tokens());
    let list = s.admin().get(&format!("{vasco}?limit=1"));
    assert_eq!(list.status, 200, "{}", list.text);
    assert_eq!(list.json()["items"].as_array().unwrap().len(), 1);
    let token = list.json()["_pagination"]["continuationToken"]
        .as_str()
        .unwrap()
        .to_owned();
    let rest = s
        .admin()
        .get(&format!("{vasco}?limit=1&continuationToken={token}"));
    assert_eq!(rest.json()["items"].as_array().unwrap().len(), 1);
    assert!(rest.json()["_pagination"]
        .get("continuationToken")
        .is_none());
    s.admin().get(&format!("{vasco}/v9")).assert_error(
        404,
        "errors.noRecord",
        "VASCO credential with the extId v9 does not exist",
    );
    s.admin().get(&format!("{vasco}/pw-1")).assert_error(
        404,
        "errors.noRecord",
        "VASCO credential with the extId pw-1 does not exist",
    );
}

fn create_checks_in_spec_order(s: &TestServer) {
    setup(s);
    let vasco = format!("{API}/acme/vasco");
    let admin = s.admin();
    assert_eq!(
        admin
            .post(&vasco, &json!({"extId": "v1", "vascoTokens": tokens()}))
            .status,
        201
    );
    let cases: Vec<(Value, &str, &str)> = vec![
        (
            json!({"extId": "v1"}),
            "errors.duplicateName",
            "A credential with this extId 'v1' already exists",
        ),
        (
            json!({"extId": "pw-1", "vascoTokens": tokens()}),
            "errors.duplicateName",
            "A credential with this extId 'pw-1' already exists",
        ),
        (
            json!({"extId": "v2", "stateName": "bogus"}),
            "errors.invalidData",
            "Vasco Digipass Token is necessary.",
        ),
        (
            json!({"extId": "v2", "vascoTokens": [], "stateName": "bogus"}),
            "errors.invalidData",
            "Vasco Digipass Token is necessary.",
        ),
        (
            json!({"extId": "v2", "vascoTokens": tokens(), "stateName": "bogus", "policyExtId": "nope"}),
            "errors.invalidParameter",
            "Invalid CredentialState name 'bogus'",
        ),
        (
            json!({"extId": "v2", "vascoTokens": [{"authMode": "CRX", "data": "AA=="}], "policyExtId": "nope"}),
            "errors.invalidParameter",
            "PolicyConfiguration doesn't exist with extId 'nope'",
        ),
        (
            json!({"extId": "v2", "vascoTokens": [{"authMode": "CRX", "data": "AA=="}], "policyExtId": "default-PwdPolicy"}),
            "errors.invalidParameter",
            "Policy Configuration default-PwdPolicy is not of type VascoPolicy",
        ),
        (
            json!({"extId": "v2", "vascoTokens": [{"authMode": "CRX", "data": "!"}, {"authMode": "CRX", "data": "!"}]}),
            "errors.invalidParameter",
            "VascoDpToken authMode must be 2 chars.",
        ),
        (
            json!({"extId": "v2", "vascoTokens": [{"authMode": "CR", "data": "!"}, {"authMode": "CR", "data": "AA=="}]}),
            "errors.invalidParameter",
            "VascoDpToken authMode 'CR' is not unique.",
        ),
        (
            json!({"extId": "v2", "vascoTokens": [{"authMode": "CR", "data": "not base64!"}]}),
            "errors.invalidParameter",
            "VascoDpToken data must be Base64-encoded.",
        ),
        (
            json!({"extId": "v2", "vascoTokens": [{"authMode": "CR", "data": ""}]}),
            "errors.invalidParameter",
            "VascoDpToken data must be Base64-encoded.",
        ),
    ];
    for (body, code, message) in cases {
        admin.post(&vasco, &body).assert_error(422, code, message);
    }
    // Nothing of the refused creates was stored.
    assert_eq!(admin.get(&format!("{vasco}/v2")).status, 404);
}

fn assign_and_unassign(s: &TestServer) {
    setup(s);
    let admin = s.admin();
    assert_eq!(
        admin
            .post(
                &format!("{API}/acme/vasco"),
                &json!({"extId": "v1", "vascoTokens": tokens(), "stateName": "active"})
            )
            .status,
        201
    );
    let assign = |user: &str| {
        admin.send(
            "PUT",
            &format!("{API}/acme/users/{user}/vasco/v1"),
            None,
            &[],
        )
    };
    let r = assign("u1");
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json()["userExtId"], "u1");
    assert_eq!(r.json()["version"], 2);
    assert_eq!(
        assign("u1").status,
        200,
        "assigning again to the same user is idempotent"
    );
    assign("u2").assert_error(
        422,
        "errors.vascoExists",
        "VASCO credential v1 is already assigned",
    );
    // The user's credential list shows it.
    let creds = admin
        .get(&format!("{API}/acme/users/u1/credentials"))
        .json();
    assert!(creds["items"]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c["extId"] == "v1"));

    let r = admin.send("PUT", &format!("{API}/acme/vasco/v1/unassign"), None, &[]);
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(r.json().get("userExtId").is_none());
    assert_eq!(r.json()["stateName"], "initial");
    assert_eq!(assign("u2").status, 200);
    admin
        .send("PUT", &format!("{API}/acme/users/u1/vasco/v9"), None, &[])
        .assert_error(
            404,
            "errors.noRecord",
            "VASCO credential with the extId v9 does not exist",
        );
    admin
        .send("PUT", &format!("{API}/acme/users/u9/vasco/v1"), None, &[])
        .assert_error(
            404,
            "errors.noRecord",
            "A user with extId 'u9' doesn't exist on client with name Acme",
        );
}

fn concurrent_creates_of_one_ext_id_make_one(s: &TestServer) {
    setup(s);
    let statuses: Vec<u16> = std::thread::scope(|scope| {
        let hs: Vec<_> = (0..16)
            .map(|_| {
                scope.spawn(|| {
                    s.admin()
                        .post(
                            &format!("{API}/acme/vasco"),
                            &json!({"extId": "race", "vascoTokens": tokens()}),
                        )
                        .status
                })
            })
            .collect();
        hs.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(
        statuses.iter().filter(|s| **s == 201).count(),
        1,
        "{statuses:?}"
    );
    assert!(
        statuses.iter().all(|s| *s == 201 || *s == 422),
        "{statuses:?}"
    );
}

on_both_backends!(
    create_get_list,
    create_checks_in_spec_order,
    assign_and_unassign,
    concurrent_creates_of_one_ext_id_make_one,
);
