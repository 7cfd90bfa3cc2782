//! Black-box tests of SPEC §12 (users, clients and the caller) against the real binary, on
//! SQLite and PostgreSQL: the new rights and roles, the client list and PATCH, the user list
//! with its filters and stable paging, user PATCH (merge, optimistic locking, self-admin) and
//! DELETE (cascade, rules, no orphan rows under a racing create), `/principal/v1/me` and
//! `/principal/v1/permissions`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;
use std::process::Command;
use std::sync::Barrier;

use idm_blackbox_tests::{json, on_both_backends, Caller, Reply, TestServer};
use serde_json::Value;

const API: &str = "/nevisidm/api/core/v1";
const ME: &str = "/nevisidm/api/principal/v1/me";
const PERMISSIONS: &str = "/nevisidm/api/principal/v1/permissions";
const TOKEN: &str = "/nevisidm/api/principal/v1/token";
const PW: &str = "User-Secret-42";

// ---- fixtures ---------------------------------------------------------------------------------

fn created(r: Reply) -> Value {
    assert_eq!(r.status, 201, "{}", r.text);
    r.json()
}

fn create_client(s: &TestServer, ext_id: &str, name: &str) -> Value {
    created(s.admin().post(
        &format!("{API}/clients"),
        &json!({"extId": ext_id, "name": name}),
    ))
}

/// A policy of `client` under which supplied passwords are accepted.
fn password_policy(s: &TestServer, client: &str) {
    created(s.admin().post(
        &format!("{API}/{client}/policies"),
        &json!({"extId": "pwd", "name": "Supplied", "policyType": "PwdPolicy",
                "parameters": {"resetCodeEnabled": "false"}}),
    ));
}

fn create_user(s: &TestServer, client: &str, body: Value) -> Value {
    created(s.admin().post(&format!("{API}/{client}/users"), &body))
}

/// A user `ext_id`/`login` of `client` with password [`PW`] and the given grants
/// (`(role, Some(clients))`, `None` = global). `client` needs [`password_policy`].
fn account<'s>(
    s: &'s TestServer,
    client: &str,
    ext_id: &str,
    login: &str,
    grants: &[(&str, Option<&[&str]>)],
) -> Caller<'s> {
    create_user(s, client, json!({"extId": ext_id, "loginId": login}));
    created(s.admin().post(
        &format!("{API}/{client}/users/{ext_id}/password"),
        &json!({"policyExtId": "pwd", "password": PW}),
    ));
    for (role, room) in grants {
        let body = match room {
            Some(ids) => json!({"role": role, "clientExtIds": ids}),
            None => json!({"role": role}),
        };
        created(
            s.admin()
                .post(&format!("{API}/{client}/users/{ext_id}/roles"), &body),
        );
    }
    s.as_user(&format!("{client}/{login}"), PW)
}

fn x_token(s: &TestServer, client: &str, login: &str) -> String {
    let r = s.as_user(&format!("{client}/{login}"), PW).post(
        TOKEN,
        &json!({"username": login, "password": PW, "grant_type": "password"}),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    r.json()["access_token"].as_str().unwrap().to_owned()
}

fn patch_with_token(caller: &Caller<'_>, path: &str, body: &Value, token: &str) -> Reply {
    caller.send(
        "PATCH",
        path,
        Some(("application/json", body.to_string().into_bytes())),
        &[("X-Token", token)],
    )
}

/// Every item of a list, page by page (`limit` each), following `continuationToken`.
fn all_pages(caller: &Caller<'_>, path: &str, limit: u32) -> Vec<Value> {
    let sep = if path.contains('?') { '&' } else { '?' };
    let mut items = Vec::new();
    let mut token: Option<String> = None;
    for _ in 0..1000 {
        let url = match &token {
            Some(t) => format!("{path}{sep}limit={limit}&continuationToken={t}"),
            None => format!("{path}{sep}limit={limit}"),
        };
        let r = caller.get(&url);
        assert_eq!(r.status, 200, "{url}: {}", r.text);
        let body = r.json();
        assert_eq!(body["_pagination"]["limit"], limit);
        let page = body["items"].as_array().unwrap().clone();
        assert!(page.len() <= limit as usize);
        items.extend(page);
        match body["_pagination"]["continuationToken"].as_str() {
            Some(t) => token = Some(t.to_owned()),
            None => return items,
        }
    }
    panic!("{path}: the list does not end");
}

fn ext_ids(items: &[Value]) -> Vec<String> {
    items
        .iter()
        .map(|i| i["extId"].as_str().unwrap().to_owned())
        .collect()
}

/// Runs `sql` (one `SELECT count(*)`) on the server's database directly.
fn count(s: &TestServer, sql: &str) -> i64 {
    let out = if let Some(path) = s.database_url.strip_prefix("sqlite://") {
        Command::new("sqlite3").arg(path).arg(sql).output()
    } else {
        Command::new("psql")
            .args(["-X", "-t", "-A", "-c", sql, &s.database_url])
            .output()
    }
    .expect("the database client runs");
    assert!(
        out.status.success(),
        "{sql}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

// ---- §3.2 rights and roles --------------------------------------------------------------------

fn rights_of(caller: &Caller<'_>) -> Vec<(String, Option<Vec<String>>)> {
    let r = caller.get(PERMISSIONS);
    assert_eq!(r.status, 200, "{}", r.text);
    r.json()["rights"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let clients = r.get("clientExtIds").map(|ids| {
                ids.as_array()
                    .unwrap()
                    .iter()
                    .map(|i| i.as_str().unwrap().to_owned())
                    .collect()
            });
            (r["right"].as_str().unwrap().to_owned(), clients)
        })
        .collect()
}

fn names(rights: &[(String, Option<Vec<String>>)]) -> BTreeSet<String> {
    rights
        .iter()
        .map(|(r, _)| r.trim_start_matches("AccessControl.").to_owned())
        .collect()
}

const ALL_RIGHTS: [&str; 18] = [
    "ClientView",
    "ClientCreate",
    "UserView",
    "UserCreate",
    "UserModify",
    "CredentialView",
    "CredentialCreate",
    "CredentialModify",
    "CredentialDelete",
    "CredentialChangeState",
    "PolicyConfigurationView",
    "PolicyCreate",
    "PolicyModify",
    "AuthorizationView",
    "AuthorizationModify",
    "UserDelete",
    "ClientModify",
    "AuditView",
];

fn roles_hold_the_rights_of_section_3_2(s: &TestServer) {
    create_client(s, "acme", "Acme");
    password_policy(s, "acme");
    let root = rights_of(&s.admin());
    let expected: Vec<String> = ALL_RIGHTS
        .iter()
        .map(|r| format!("AccessControl.{r}"))
        .collect();
    assert_eq!(
        root.iter().map(|(r, _)| r.clone()).collect::<Vec<_>>(),
        expected,
        "Root: every right, in SPEC order"
    );
    assert!(root.iter().all(|(_, c)| c.is_none()), "global");

    let client_root = account(s, "acme", "cr", "croot", &[("ClientRoot", Some(&["acme"]))]);
    let got = rights_of(&client_root);
    let want: BTreeSet<String> = ALL_RIGHTS
        .iter()
        .filter(|r| **r != "ClientCreate")
        .map(|r| (*r).to_owned())
        .collect();
    assert_eq!(names(&got), want, "ClientRoot: all but ClientCreate");
    assert!(got
        .iter()
        .all(|(_, c)| c.as_deref() == Some(&["acme".to_owned()][..])));

    let user_admin = account(s, "acme", "ua", "uadmin", &[("UserAdmin", None)]);
    let want: BTreeSet<String> = [
        "UserView",
        "UserCreate",
        "UserModify",
        "UserDelete",
        "CredentialView",
        "CredentialCreate",
        "CredentialModify",
        "CredentialDelete",
        "CredentialChangeState",
        "PolicyConfigurationView",
        "AuthorizationView",
    ]
    .iter()
    .map(|r| (*r).to_owned())
    .collect();
    assert_eq!(names(&rights_of(&user_admin)), want, "UserAdmin");

    let helpdesk = account(s, "acme", "hd", "helper", &[("Helpdesk", Some(&["acme"]))]);
    let want: BTreeSet<String> = [
        "UserView",
        "CredentialView",
        "CredentialModify",
        "CredentialChangeState",
        "PolicyConfigurationView",
    ]
    .iter()
    .map(|r| (*r).to_owned())
    .collect();
    assert_eq!(names(&rights_of(&helpdesk)), want, "Helpdesk unchanged");
}

// ---- §12 the caller itself --------------------------------------------------------------------

fn me_and_permissions_need_only_authentication(s: &TestServer) {
    create_client(s, "acme", "Acme");
    password_policy(s, "acme");
    let r = s.admin().get(ME);
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json()["extId"], "admin");
    assert_eq!(r.json()["clientExtId"], "default");
    assert_eq!(r.json()["loginId"], "admin");
    assert!(r.json().get("id").is_none());

    // No role at all: still its own user, and empty permissions.
    let plain = account(s, "acme", "p1", "plain", &[]);
    let r = plain.get(ME);
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json()["extId"], "p1");
    assert_eq!(r.json()["clientExtId"], "acme");
    let r = plain.get(PERMISSIONS);
    assert_eq!(r.status, 200);
    assert_eq!(r.json(), json!({"grants": [], "rights": []}));

    let mixed = account(
        s,
        "acme",
        "m1",
        "mixed",
        &[
            ("Helpdesk", Some(&["acme", "beta"])),
            ("UserAdmin", Some(&["acme"])),
            ("SelfAdmin", None),
        ],
    );
    let r = mixed.get(PERMISSIONS);
    assert_eq!(r.status, 200);
    let body = r.json();
    let grants: BTreeSet<String> = body["grants"]
        .as_array()
        .unwrap()
        .iter()
        .map(Value::to_string)
        .collect();
    let want: BTreeSet<String> = [
        json!({"role": "Helpdesk", "clientExtIds": ["acme", "beta"]}),
        json!({"role": "UserAdmin", "clientExtIds": ["acme"]}),
        json!({"role": "SelfAdmin"}),
    ]
    .iter()
    .map(Value::to_string)
    .collect();
    assert_eq!(grants, want);
    assert_eq!(
        body["rights"][0],
        json!({"right": "AccessControl.UserView", "clientExtIds": ["acme", "beta"]})
    );
    assert!(body["rights"]
        .as_array()
        .unwrap()
        .contains(&json!({"right": "AccessControl.UserDelete", "clientExtIds": ["acme"]})));

    s.anonymous()
        .get(ME)
        .assert_error(401, "errors.userLoginFailed", "Authentication required.");
    s.as_user("acme/plain", "wrong")
        .get(PERMISSIONS)
        .assert_error(401, "errors.userLoginFailed", "Authentication failed.");
}

// ---- §12 clients ------------------------------------------------------------------------------

fn client_list_covers_the_callers_client_view(s: &TestServer) {
    for (ext, name) in [("acme", "Acme"), ("beta", "Beta"), ("gamma", "Gamma")] {
        create_client(s, ext, name);
    }
    password_policy(s, "acme");
    let admin = s.admin();
    let all = all_pages(&admin, &format!("{API}/clients"), 2);
    assert_eq!(ext_ids(&all), ["default", "acme", "beta", "gamma"]);
    assert_eq!(all[1]["name"], "Acme");
    assert_eq!(all[1]["version"], 1);
    let one = admin.get(&format!("{API}/clients"));
    assert_eq!(one.json()["_pagination"], json!({"limit": 100}));

    let scoped = account(
        s,
        "acme",
        "cr",
        "croot",
        &[("ClientRoot", Some(&["acme", "gamma"]))],
    );
    assert_eq!(
        ext_ids(&all_pages(&scoped, &format!("{API}/clients"), 1)),
        ["acme", "gamma"]
    );
    let helpdesk = account(s, "acme", "hd", "helper", &[("Helpdesk", None)]);
    helpdesk.get(&format!("{API}/clients")).assert_error(
        403,
        "errors.insufficientRightsFunction",
        "Permission denied: Caller does not have the required right 'AccessControl.ClientView' to perform this action",
    );
    admin.get(&format!("{API}/clients?limit=0")).assert_error(
        422,
        "errors.invalidParameter",
        "The 'limit' parameter must be between 1 and 1000.",
    );
}

fn client_patch_renames_under_optimistic_locking(s: &TestServer) {
    create_client(s, "acme", "Acme");
    create_client(s, "beta", "Beta");
    password_policy(s, "acme");
    let admin = s.admin();
    let path = format!("{API}/clients/acme");
    let r = admin.patch(&path, &json!({"name": "Acme Corp", "version": 1}));
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json()["name"], "Acme Corp");
    assert_eq!(r.json()["version"], 2);
    assert_eq!(r.json()["extId"], "acme");
    assert_eq!(admin.get(&path).json()["name"], "Acme Corp");

    admin
        .patch(&path, &json!({"name": "Again", "version": 1}))
        .assert_error(
            409,
            "errors.optimisticLockingFailure",
            "The entity was modified concurrently; reload it and retry.",
        );
    admin.patch(&path, &json!({"name": "Beta"})).assert_error(
        422,
        "errors.duplicateName",
        "A client with this name 'Beta' already exists",
    );
    for body in [json!({"name": null}), json!({"name": "  "})] {
        admin.patch(&path, &body).assert_error(
            422,
            "errors.nullParameter",
            "The 'name' parameter is mandatory.",
        );
    }
    // Its own name again is no conflict; a version-less PATCH is last-writer-wins.
    let r = admin.patch(&path, &json!({"name": "Acme Corp"}));
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json()["version"], 3);
    admin
        .patch(&format!("{API}/clients/nope"), &json!({"name": "X"}))
        .assert_error(
            404,
            "errors.noRecord",
            "Client doesn't exist with extId 'nope'",
        );
    admin
        .send(
            "PATCH",
            &path,
            Some(("application/json", b"{\"name\": ".to_vec())),
            &[],
        )
        .assert_error(
            400,
            "errors.jsonProcessingError",
            "Malformed JSON request body.",
        );

    let scoped = account(s, "acme", "cr", "croot", &[("ClientRoot", Some(&["acme"]))]);
    let r = scoped.patch(&path, &json!({"name": "Mine"}));
    assert_eq!(r.status, 200, "{}", r.text);
    scoped
        .patch(&format!("{API}/clients/beta"), &json!({"name": "Theirs"}))
        .assert_error(
            403,
            "errors.combinedDataroomDenied",
            "Permission denied: AccessControl.ClientModify",
        );
    let user_admin = account(s, "acme", "ua", "uadmin", &[("UserAdmin", None)]);
    user_admin.patch(&path, &json!({"name": "X"})).assert_error(
        403,
        "errors.insufficientRightsFunction",
        "Permission denied: Caller does not have the required right 'AccessControl.ClientModify' to perform this action",
    );
}

// ---- §12 the user list ------------------------------------------------------------------------

fn user_list_filters_combine_with_and(s: &TestServer) {
    create_client(s, "acme", "Acme");
    create_client(s, "beta", "Beta");
    password_policy(s, "beta");
    for (ext, login, family, email, state) in [
        ("u1", "alice", "Smith", "Alice@Example.com", "active"),
        ("u2", "bob", "Alison", "bob@example.org", "disabled"),
        ("u3", "carol", "", "", "active"),
        ("u4", "al_x", "Zed", "zed@example.com", "active"),
        ("u5", "ALFRED", "Miller", "", "archived"),
    ] {
        let mut body = json!({"extId": ext, "loginId": login, "userState": state});
        if !family.is_empty() {
            body["name"] = json!({"familyName": family});
        }
        if !email.is_empty() {
            body["contacts"] = json!({"email": email});
        }
        create_user(s, "acme", body);
    }
    create_user(s, "beta", json!({"extId": "x1", "loginId": "alice"}));
    let admin = s.admin();
    let list = |query: &str| -> Vec<String> {
        ext_ids(&all_pages(
            &admin,
            &format!("{API}/clients/acme/users{query}"),
            2,
        ))
    };
    assert_eq!(list(""), ["u1", "u2", "u3", "u4", "u5"]);
    assert_eq!(list("?loginId=alice"), ["u1"]);
    assert!(list("?loginId=ALICE").is_empty(), "loginId is exact");
    assert_eq!(list("?email=alice%40example.COM"), ["u1"]);
    assert!(list("?email=alice%40example").is_empty());
    assert_eq!(list("?userState=disabled"), ["u2"]);
    assert_eq!(list("?userState=active"), ["u1", "u3", "u4"]);
    assert_eq!(list("?q=al"), ["u1", "u2", "u4", "u5"]);
    assert_eq!(list("?q=AL"), ["u1", "u2", "u4", "u5"]);
    assert_eq!(list("?q=al_"), ["u4"], "`_` is not a wildcard");
    assert!(list("?q=%25").is_empty(), "`%` is not a wildcard");
    assert_eq!(list("?q=bob%40"), ["u2"], "e-mail prefix");
    assert_eq!(list("?q=smi"), ["u1"], "family-name prefix");
    assert!(list("?q=example").is_empty(), "a prefix, not a substring");
    assert_eq!(list("?q=al&userState=active"), ["u1", "u4"]);
    assert_eq!(list("?q=al&email=BOB%40example.org"), ["u2"]);
    assert!(list("?loginId=alice&userState=disabled").is_empty());
    assert_eq!(
        list("?q=&loginId="),
        list(""),
        "empty filters do not filter"
    );

    let r = admin.get(&format!("{API}/clients/acme/users"));
    let first = &r.json()["items"][0];
    assert_eq!(first["loginId"], "alice");
    assert_eq!(first["clientExtId"], "acme");
    assert_eq!(first["contacts"]["email"], "Alice@Example.com");

    admin
        .get(&format!("{API}/clients/acme/users?userState=sleeping"))
        .assert_error(
            422,
            "errors.invalidParameter",
            "Invalid userState 'sleeping'",
        );
    admin
        .get(&format!("{API}/clients/nope/users?userState=sleeping"))
        .assert_error(
            404,
            "errors.noRecord",
            "Client doesn't exist with extId 'nope'",
        );
    let helpdesk = account(s, "beta", "hd", "helper", &[("Helpdesk", Some(&["beta"]))]);
    helpdesk
        .get(&format!("{API}/clients/acme/users"))
        .assert_error(
            403,
            "errors.combinedDataroomDenied",
            "Permission denied: AccessControl.UserView",
        );
    assert_eq!(
        ext_ids(&all_pages(
            &helpdesk,
            &format!("{API}/clients/beta/users"),
            10
        )),
        ["x1", "hd"]
    );
}

fn user_list_paging_is_stable_while_users_are_created(s: &TestServer) {
    create_client(s, "acme", "Acme");
    let admin = s.admin();
    let existing: Vec<String> = (0..12).map(|i| format!("e{i:02}")).collect();
    for e in &existing {
        create_user(s, "acme", json!({"extId": e, "loginId": e}));
    }
    let path = format!("{API}/clients/acme/users");
    let mut seen = Vec::new();
    let mut token: Option<String> = None;
    let mut pages = 0;
    loop {
        let url = match &token {
            Some(t) => format!("{path}?limit=5&continuationToken={t}"),
            None => format!("{path}?limit=5"),
        };
        let r = admin.get(&url);
        assert_eq!(r.status, 200, "{}", r.text);
        seen.extend(ext_ids(r.json()["items"].as_array().unwrap()));
        pages += 1;
        // Users created while the list is read.
        if pages <= 2 {
            for i in 0..3 {
                create_user(
                    s,
                    "acme",
                    json!({"extId": format!("n{pages}{i}"), "loginId": format!("n{pages}{i}")}),
                );
            }
        }
        match r.json()["_pagination"]["continuationToken"].as_str() {
            Some(t) => token = Some(t.to_owned()),
            None => break,
        }
        assert!(pages < 50);
    }
    let old: Vec<String> = seen
        .iter()
        .filter(|e| e.starts_with('e'))
        .cloned()
        .collect();
    assert_eq!(old, existing, "every existing user once, in creation order");
    let unique: BTreeSet<&String> = seen.iter().collect();
    assert_eq!(unique.len(), seen.len(), "no user twice: {seen:?}");
}

// ---- §12 user PATCH ---------------------------------------------------------------------------

fn user_patch_merges_and_removes(s: &TestServer) {
    create_client(s, "acme", "Acme");
    create_user(
        s,
        "acme",
        json!({"extId": "u1", "loginId": "jdoe", "languageCode": "DE", "isTechnicalUser": true,
               "name": {"title": "Dr", "firstName": "Jane", "familyName": "Doe"},
               "contacts": {"email": "jane@example.com", "mobile": "+41791234567"}}),
    );
    create_user(s, "acme", json!({"extId": "u2", "loginId": "taken"}));
    let admin = s.admin();
    let path = format!("{API}/acme/users/u1");
    let r = admin.patch(
        &path,
        &json!({"name": {"title": null, "firstName": "Janet"}, "contacts": {"mobile": null},
                "languageCode": "FR", "version": 1, "extId": "ignored"}),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    let u = r.json();
    assert_eq!(u["extId"], "u1");
    assert_eq!(
        u["name"],
        json!({"firstName": "Janet", "familyName": "Doe"})
    );
    assert_eq!(u["contacts"], json!({"email": "jane@example.com"}));
    assert_eq!(u["languageCode"], "FR");
    assert_eq!(u["isTechnicalUser"], true);
    assert_eq!(u["version"], 2);
    assert_eq!(admin.get(&path).json(), u, "stored as answered");

    let r = admin.patch(
        &path,
        &json!({"name": null, "contacts": null, "languageCode": null, "isTechnicalUser": null,
                "loginId": "jane", "userState": "disabled"}),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    let u = r.json();
    assert!(
        u.get("name").is_none() && u.get("contacts").is_none(),
        "{u}"
    );
    assert_eq!(u["languageCode"], "EN");
    assert_eq!(u["isTechnicalUser"], false);
    assert_eq!(u["loginId"], "jane");
    assert_eq!(u["userState"], "disabled");
    assert_eq!(u["version"], 3);

    for (body, status, code, message) in [
        (
            json!({"name": {"firstName": "X"}, "version": 2}),
            409,
            "errors.optimisticLockingFailure",
            "The entity was modified concurrently; reload it and retry.",
        ),
        (
            json!({"loginId": "taken"}),
            422,
            "errors.duplicateValue",
            "A user with loginId 'taken' already exists on client with name Acme",
        ),
        (
            json!({"loginId": null}),
            422,
            "errors.userLoginIdNull",
            "The 'loginId' parameter is mandatory.",
        ),
        (
            json!({"contacts": {"email": "not-an-address"}}),
            422,
            "errors.userEmailFormat",
            "Invalid email address 'not-an-address'",
        ),
        (
            json!({"userState": "sleeping"}),
            422,
            "errors.invalidParameter",
            "Invalid userState 'sleeping'",
        ),
        (
            json!({"languageCode": "xx"}),
            422,
            "errors.invalidParameter",
            "Invalid languageCode 'xx'",
        ),
        (
            json!({"userState": 3}),
            400,
            "errors.deserialization",
            "Invalid value for field 'userState'.",
        ),
        (
            json!({"name": {"familyName": 7}}),
            400,
            "errors.deserialization",
            "Invalid value for field 'name.familyName'.",
        ),
    ] {
        admin
            .patch(&path, &body)
            .assert_error(status, code, message);
    }
    assert_eq!(
        admin.get(&path).json()["version"],
        3,
        "refusals change nothing"
    );
    admin
        .patch(&format!("{API}/acme/users/ghost"), &json!({}))
        .assert_error(
            404,
            "errors.noRecord",
            "A user with extId 'ghost' doesn't exist on client with name Acme",
        );
    admin
        .send("PATCH", &path, Some(("text/plain", b"{}".to_vec())), &[])
        .assert_error(
            415,
            "errors.unsupportedMediaType",
            "Content-Type must be application/json.",
        );
}

fn concurrent_patches_with_one_version_let_exactly_one_win(s: &TestServer) {
    create_client(s, "acme", "Acme");
    let admin = s.admin();
    for round in 0..5 {
        let ext = format!("u{round}");
        create_user(s, "acme", json!({"extId": ext, "loginId": ext}));
        let path = format!("{API}/acme/users/{ext}");
        // Warm the authentication cache so both requests race on the write alone.
        assert_eq!(admin.get(&path).status, 200);
        let barrier = Barrier::new(2);
        let statuses: Vec<u16> = std::thread::scope(|scope| {
            let handles: Vec<_> = ["A", "B"]
                .iter()
                .map(|who| {
                    let (path, barrier) = (&path, &barrier);
                    scope.spawn(move || {
                        barrier.wait();
                        s.admin()
                            .patch(path, &json!({"name": {"firstName": who}, "version": 1}))
                            .status
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        let mut sorted = statuses.clone();
        sorted.sort();
        assert_eq!(sorted, [200, 409], "round {round}: {statuses:?}");
        assert_eq!(admin.get(&path).json()["version"], 2);
    }
}

fn self_admin_patch_needs_an_x_token_and_stays_in_its_fields(s: &TestServer) {
    create_client(s, "acme", "Acme");
    password_policy(s, "acme");
    let me = account(s, "acme", "u1", "jdoe", &[("SelfAdmin", None)]);
    account(s, "acme", "u2", "other", &[("SelfAdmin", None)]);
    let path = format!("{API}/acme/users/u1");
    me.patch(&path, &json!({"name": {"firstName": "Jane"}}))
        .assert_error(422, "errors.invalidJWTToken", "Invalid JWT token.");
    let token = x_token(s, "acme", "jdoe");
    let r = patch_with_token(
        &me,
        &path,
        &json!({"name": {"firstName": "Jane"}, "contacts": {"email": "jane@example.com"},
                "languageCode": "IT", "version": 1}),
        &token,
    );
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json()["languageCode"], "IT");
    for field in ["loginId", "userState", "isTechnicalUser"] {
        let value = match field {
            "loginId" => json!("me"),
            "userState" => json!("active"),
            _ => json!(false),
        };
        let mut body = json!({"name": {"firstName": "J"}});
        body[field] = value;
        patch_with_token(&me, &path, &body, &token).assert_error(
            422,
            "errors.modifyReadonlyData",
            &format!("The field '{field}' cannot be changed in self-admin mode."),
        );
    }
    // Another user's record: SelfAdmin does not stand in.
    patch_with_token(&me, &format!("{API}/acme/users/u2"), &json!({}), &token).assert_error(
        403,
        "errors.insufficientRightsFunction",
        "Permission denied: Caller does not have the required right 'AccessControl.UserModify' to perform this action",
    );
    let r = me.get(ME);
    assert_eq!(r.json()["name"], json!({"firstName": "Jane"}));
}

// ---- §12 user DELETE and §10.1 ----------------------------------------------------------------

fn delete_cascades_and_frees_the_names(s: &TestServer) {
    create_client(s, "acme", "Acme");
    password_policy(s, "acme");
    account(s, "acme", "u1", "jdoe", &[("Helpdesk", Some(&["acme"]))]);
    let admin = s.admin();
    created(admin.post(
        &format!("{API}/acme/users/u1/oath-credentials"),
        &json!({"extId": "o1", "label": "phone"}),
    ));
    created(admin.post(
        &format!("{API}/acme/vasco"),
        &json!({"extId": "v1", "vascoTokens": [{"authMode": "CR", "data": "AAECAwQF"}]}),
    ));
    let r = admin.send("PUT", &format!("{API}/acme/users/u1/vasco/v1"), None, &[]);
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json()["userExtId"], "u1");
    account(s, "acme", "u2", "keeper", &[]);

    let r = admin.delete(&format!("{API}/acme/users/u1"));
    assert_eq!(r.status, 204, "{}", r.text);
    assert!(r.text.is_empty());
    admin.get(&format!("{API}/acme/users/u1")).assert_error(
        404,
        "errors.noRecord",
        "A user with extId 'u1' doesn't exist on client with name Acme",
    );
    admin.delete(&format!("{API}/acme/users/u1")).assert_error(
        404,
        "errors.noRecord",
        "A user with extId 'u1' doesn't exist on client with name Acme",
    );
    // Its VASCO credential is back in stock.
    let v = admin.get(&format!("{API}/acme/vasco/v1"));
    assert_eq!(v.status, 200, "{}", v.text);
    assert!(v.json().get("userExtId").is_none(), "{}", v.text);
    assert_eq!(v.json()["stateName"], "initial");
    // It can no longer log in.
    assert_eq!(s.as_user("acme/jdoe", PW).get(ME).status, 401);
    // Its extId, loginId and credential extIds are free again.
    create_user(s, "acme", json!({"extId": "u1", "loginId": "jdoe"}));
    created(admin.post(
        &format!("{API}/acme/users/u1/oath-credentials"),
        &json!({"extId": "o1", "label": "phone"}),
    ));
    created(admin.post(
        &format!("{API}/acme/users/u1/password"),
        &json!({"policyExtId": "pwd", "password": PW}),
    ));
    // Nothing else went.
    assert_eq!(s.as_user("acme/keeper", PW).get(ME).status, 200);
    assert_eq!(
        count(
            s,
            "SELECT count(*) FROM role_grants WHERE role = 'Helpdesk'"
        ),
        0,
        "the deleted user's grant is gone"
    );
}

fn delete_rules_and_privileged_targets(s: &TestServer) {
    create_client(s, "acme", "Acme");
    password_policy(s, "default");
    let admin = s.admin();
    // A caller cannot delete itself (checked before the last-Root rule: admin is the only Root).
    admin
        .delete(&format!("{API}/default/users/admin"))
        .assert_error(
            422,
            "errors.invalidParameter",
            "A caller cannot delete itself.",
        );
    // Disabling or archiving the last active Root is refused.
    for state in ["disabled", "archived"] {
        admin
            .patch(
                &format!("{API}/default/users/admin"),
                &json!({"userState": state}),
            )
            .assert_error(
                422,
                "errors.invalidParameter",
                "The last active Root user cannot be removed.",
            );
    }
    // §10.1: a UserAdmin of `default` can neither disable nor delete the Root user.
    let user_admin = account(
        s,
        "default",
        "ua",
        "uadmin",
        &[("UserAdmin", Some(&["default"]))],
    );
    let privileged = "Permission denied: the target user holds rights beyond the caller's own";
    user_admin
        .patch(
            &format!("{API}/default/users/admin"),
            &json!({"userState": "disabled"}),
        )
        .assert_error(403, "errors.potentialPrivilegeEscalation", privileged);
    user_admin
        .delete(&format!("{API}/default/users/admin"))
        .assert_error(403, "errors.potentialPrivilegeEscalation", privileged);
    let helpdesk = account(
        s,
        "default",
        "hd",
        "helper",
        &[("Helpdesk", Some(&["default"]))],
    );
    helpdesk.delete(&format!("{API}/default/users/ua")).assert_error(
        403,
        "errors.insufficientRightsFunction",
        "Permission denied: Caller does not have the required right 'AccessControl.UserDelete' to perform this action",
    );
    user_admin
        .delete(&format!("{API}/acme/users/x"))
        .assert_error(
            403,
            "errors.combinedDataroomDenied",
            "Permission denied: AccessControl.UserDelete",
        );
    // ... but it may delete a user within its own rights.
    assert_eq!(
        user_admin.delete(&format!("{API}/default/users/hd")).status,
        204
    );

    // With a second Root, one may be disabled, and then the other is the last again.
    let root2 = account(s, "default", "r2", "root2", &[("Root", None)]);
    let r = admin.patch(
        &format!("{API}/default/users/r2"),
        &json!({"userState": "disabled"}),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    admin
        .patch(
            &format!("{API}/default/users/admin"),
            &json!({"userState": "disabled"}),
        )
        .assert_error(
            422,
            "errors.invalidParameter",
            "The last active Root user cannot be removed.",
        );
    assert_eq!(root2.get(ME).status, 401, "a disabled user cannot log in");
    let r = admin.patch(
        &format!("{API}/default/users/r2"),
        &json!({"userState": "active"}),
    );
    assert_eq!(r.status, 200);
    // Two active Roots: root2 may delete admin, and is then the last one.
    assert_eq!(
        root2.delete(&format!("{API}/default/users/admin")).status,
        204
    );
    root2
        .patch(
            &format!("{API}/default/users/r2"),
            &json!({"userState": "archived"}),
        )
        .assert_error(
            422,
            "errors.invalidParameter",
            "The last active Root user cannot be removed.",
        );
}

fn delete_racing_credential_creates_leaves_no_orphan_rows(s: &TestServer) {
    create_client(s, "acme", "Acme");
    password_policy(s, "acme");
    let admin = s.admin();
    let mut outcomes = BTreeSet::new();
    for round in 0..8 {
        let user = format!("r{round}");
        create_user(s, "acme", json!({"extId": user, "loginId": user}));
        let barrier = Barrier::new(4);
        let statuses: Vec<(&str, u16)> = std::thread::scope(|scope| {
            let (user, barrier) = (&user, &barrier);
            let creates = [
                (
                    "password",
                    format!("{API}/acme/users/{user}/password"),
                    json!({"policyExtId": "pwd", "password": PW}),
                ),
                (
                    "oath",
                    format!("{API}/acme/users/{user}/oath-credentials"),
                    json!({"label": "a"}),
                ),
                (
                    "role",
                    format!("{API}/acme/users/{user}/roles"),
                    json!({"role": "Helpdesk", "clientExtIds": ["acme"]}),
                ),
            ];
            let mut handles: Vec<_> = creates
                .into_iter()
                .map(|(what, path, body)| {
                    scope.spawn(move || {
                        barrier.wait();
                        (what, s.admin().post(&path, &body).status)
                    })
                })
                .collect();
            handles.push(scope.spawn(move || {
                barrier.wait();
                (
                    "delete",
                    s.admin().delete(&format!("{API}/acme/users/{user}")).status,
                )
            }));
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        for (what, status) in &statuses {
            let allowed: &[u16] = if *what == "delete" {
                &[204]
            } else {
                &[201, 404, 409]
            };
            assert!(
                allowed.contains(status),
                "round {round}: {what} {status}: {statuses:?}"
            );
            outcomes.insert((*what, *status));
        }
        admin.get(&format!("{API}/acme/users/{user}")).assert_error(
            404,
            "errors.noRecord",
            &format!("A user with extId '{user}' doesn't exist on client with name Acme"),
        );
    }
    for table in ["credentials", "role_grants", "delivery_outbox"] {
        assert_eq!(
            count(
                s,
                &format!(
                    "SELECT count(*) FROM {table} WHERE user_id IS NOT NULL \
                     AND user_id NOT IN (SELECT id FROM users)"
                )
            ),
            0,
            "orphan rows in {table} ({outcomes:?})"
        );
    }
}

on_both_backends!(
    roles_hold_the_rights_of_section_3_2,
    me_and_permissions_need_only_authentication,
    client_list_covers_the_callers_client_view,
    client_patch_renames_under_optimistic_locking,
    user_list_filters_combine_with_and,
    user_list_paging_is_stable_while_users_are_created,
    user_patch_merges_and_removes,
    concurrent_patches_with_one_version_let_exactly_one_win,
    self_admin_patch_needs_an_x_token_and_stays_in_its_fields,
    delete_cascades_and_frees_the_names,
    delete_rules_and_privileged_targets,
    delete_racing_credential_creates_leaves_no_orphan_rows,
);
