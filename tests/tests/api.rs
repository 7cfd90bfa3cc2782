//! Black-box tests of the foundation: SPEC §2 generic errors, §3 caller security, §7 health
//! and bootstrap, §8.1–§8.4 admin API — against the real binary, on SQLite and PostgreSQL.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use idm_blackbox_tests::{json, on_both_backends, Reply, TestServer, ADMIN_PASSWORD};

const API: &str = "/nevisidm/api/core/v1";

fn create_client(s: &TestServer, ext_id: &str, name: &str) -> Reply {
    let r = s.admin().post(
        &format!("{API}/clients"),
        &json!({"extId": ext_id, "name": name}),
    );
    assert_eq!(r.status, 201, "{}", r.text);
    r
}

fn create_user(s: &TestServer, client: &str, ext_id: &str, login: &str) -> Reply {
    let r = s.admin().post(
        &format!("{API}/{client}/users"),
        &json!({"extId": ext_id, "loginId": login, "contacts": {"email": format!("{login}@example.com")}}),
    );
    assert_eq!(r.status, 201, "{}", r.text);
    r
}

// ---- §7 health ------------------------------------------------------------------------------

fn health_needs_no_authentication(s: &TestServer) {
    assert_eq!(s.anonymous().get("/health/live").status, 200);
    assert_eq!(s.anonymous().get("/health/ready").status, 200);
}

// ---- §2 generic errors -------------------------------------------------------------------------

fn missing_authorization_is_401_with_challenge(s: &TestServer) {
    let r = s.anonymous().get(&format!("{API}/clients/default"));
    r.assert_error(401, "errors.userLoginFailed", "Authentication required.");
    assert_eq!(
        r.header("www-authenticate").as_deref(),
        Some("Basic realm=\"nevisIDM\"")
    );
    let bearer = s.anonymous().send(
        "GET",
        &format!("{API}/clients/default"),
        None,
        &[("Authorization", "Bearer abc")],
    );
    bearer.assert_error(401, "errors.userLoginFailed", "Authentication required.");
}

fn wrong_credentials_are_401(s: &TestServer) {
    for (user, pw) in [
        ("default/admin", "wrong"),
        ("default/nobody", ADMIN_PASSWORD),
        ("nosuchclient/admin", ADMIN_PASSWORD),
        ("nobody", ADMIN_PASSWORD),
    ] {
        let r = s.as_user(user, pw).get(&format!("{API}/clients/default"));
        r.assert_error(401, "errors.userLoginFailed", "Authentication failed.");
        assert_eq!(
            r.header("www-authenticate").as_deref(),
            Some("Basic realm=\"nevisIDM\"")
        );
    }
    let garbage = s.anonymous().send(
        "GET",
        &format!("{API}/clients/default"),
        None,
        &[("Authorization", "Basic %%%not-base64")],
    );
    garbage.assert_error(401, "errors.userLoginFailed", "Authentication failed.");
}

fn bare_and_qualified_login_ids_work(s: &TestServer) {
    assert_eq!(
        s.as_user("admin", ADMIN_PASSWORD)
            .get(&format!("{API}/clients/default"))
            .status,
        200
    );
    assert_eq!(s.admin().get(&format!("{API}/clients/default")).status, 200);
    // Cached verifications still check the password.
    assert_eq!(
        s.as_user("admin", "wrong")
            .get(&format!("{API}/clients/default"))
            .status,
        401
    );
}

fn failed_basic_logins_lock_the_password_credential(s: &TestServer) {
    // Default PwdPolicy: tmp-locked after 2 failures (60 s).
    for _ in 0..2 {
        assert_eq!(
            s.as_user("default/admin", "bad")
                .get(&format!("{API}/clients/default"))
                .status,
            401
        );
    }
    let r = s.admin().get(&format!("{API}/clients/default"));
    r.assert_error(401, "errors.userLoginFailed", "Authentication failed.");
}

fn malformed_bodies_get_the_exact_400s(s: &TestServer) {
    let path = format!("{API}/clients");
    let admin = s.admin();
    admin
        .send(
            "POST",
            &path,
            Some(("application/json", b"{\"name\": ".to_vec())),
            &[],
        )
        .assert_error(
            400,
            "errors.jsonProcessingError",
            "Malformed JSON request body.",
        );
    admin
        .send(
            "POST",
            &path,
            Some(("application/json", b"{\"name\": 42}".to_vec())),
            &[],
        )
        .assert_error(
            400,
            "errors.deserialization",
            "Invalid value for field 'name'.",
        );
    admin
        .send("POST", &path, Some(("application/json", Vec::new())), &[])
        .assert_error(400, "errors.nullRequestBody", "Request body is required.");
    admin
        .send(
            "POST",
            &path,
            Some(("text/plain", b"{\"name\":\"x\"}".to_vec())),
            &[],
        )
        .assert_error(
            415,
            "errors.unsupportedMediaType",
            "Content-Type must be application/json.",
        );
    let big = format!("{{\"name\":\"{}\"}}", "x".repeat(70 * 1024));
    admin
        .send(
            "POST",
            &path,
            Some(("application/json", big.into_bytes())),
            &[],
        )
        .assert_error(413, "errors.invalidData", "Request body too large.");
    // The service keeps serving.
    assert_eq!(admin.get(&format!("{API}/clients/default")).status, 200);
}

fn unknown_paths_and_methods(s: &TestServer) {
    s.admin().get("/nevisidm/api/nothing/here").assert_error(
        404,
        "errors.invalidUri",
        "Unknown resource.",
    );
    s.anonymous()
        .get("/")
        .assert_error(404, "errors.invalidUri", "Unknown resource.");
    s.admin()
        .delete(&format!("{API}/clients/default"))
        .assert_error(405, "errors.unsupportedOperation", "Method not allowed.");
}

fn request_ids_are_echoed_or_generated(s: &TestServer) {
    let r = s
        .anonymous()
        .send("GET", "/health/live", None, &[("X-Request-Id", "abc-123")]);
    assert_eq!(r.header("x-request-id").as_deref(), Some("abc-123"));
    let r = s.anonymous().get("/nope");
    let generated = r.header("x-request-id").unwrap();
    assert!(generated.len() >= 16);
    let r = s.anonymous().send(
        "GET",
        "/health/live",
        None,
        &[("X-Request-Id", "bad id with spaces")],
    );
    assert_ne!(
        r.header("x-request-id").as_deref(),
        Some("bad id with spaces")
    );
    assert!(
        s.logs().contains("abc-123"),
        "the request id reaches the log"
    );
}

// ---- §8.1 clients -------------------------------------------------------------------------------

fn clients_create_get_and_duplicates(s: &TestServer) {
    let r = create_client(s, "acme", "Acme");
    assert_eq!(
        r.header("location").as_deref(),
        Some("/nevisidm/api/core/v1/clients/acme")
    );
    let body = r.json();
    assert_eq!(body["extId"], "acme");
    assert_eq!(body["name"], "Acme");
    assert_eq!(body["version"], 1);
    assert!(body["created"].as_str().unwrap().ends_with('Z'));
    let got = s.admin().get(&format!("{API}/clients/acme"));
    assert_eq!(got.status, 200);
    assert_eq!(got.json()["name"], "Acme");

    let admin = s.admin();
    admin
        .post(&format!("{API}/clients"), &json!({"extId": "other"}))
        .assert_error(
            422,
            "errors.nullParameter",
            "The 'name' parameter is mandatory.",
        );
    admin
        .post(
            &format!("{API}/clients"),
            &json!({"extId": "other", "name": "Acme"}),
        )
        .assert_error(
            422,
            "errors.duplicateName",
            "A client with this name 'Acme' already exists",
        );
    admin
        .post(
            &format!("{API}/clients"),
            &json!({"extId": "acme", "name": "Acme 2"}),
        )
        .assert_error(
            422,
            "errors.duplicateName",
            "A client with this extId 'acme' already exists",
        );
    admin.get(&format!("{API}/clients/nope")).assert_error(
        404,
        "errors.noRecord",
        "Client doesn't exist with extId 'nope'",
    );
    // Generated extId.
    let gen = admin.post(&format!("{API}/clients"), &json!({"name": "Generated"}));
    assert_eq!(gen.status, 201);
    assert_eq!(gen.json()["extId"].as_str().unwrap().len(), 36);
    // Default policies exist with predictable extIds.
    for t in ["PwdPolicy", "VascoPolicy", "OathPolicy"] {
        let p = admin.get(&format!("{API}/acme/policies/default-{t}"));
        assert_eq!(p.status, 200, "{}", p.text);
        assert_eq!(p.json()["policyType"], t);
        assert_eq!(p.json()["defaultPolicy"], true);
    }
}

fn concurrent_creates_make_exactly_one_client(s: &TestServer) {
    let results: Vec<u16> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..16)
            .map(|i| {
                scope.spawn(move || {
                    s.admin()
                        .post(
                            &format!("{API}/clients"),
                            &json!({"extId": format!("race-{i}"), "name": "Race"}),
                        )
                        .status
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(
        results.iter().filter(|s| **s == 201).count(),
        1,
        "{results:?}"
    );
    assert!(
        results.iter().all(|s| *s == 201 || *s == 422),
        "{results:?}"
    );
}

// ---- §8.2 users -----------------------------------------------------------------------------

fn users_create_get_and_validation(s: &TestServer) {
    create_client(s, "acme", "Acme");
    let r = create_user(s, "acme", "u1", "jdoe");
    assert_eq!(
        r.header("location").as_deref(),
        Some("/nevisidm/api/core/v1/acme/users/u1")
    );
    let u = r.json();
    assert_eq!(u["clientExtId"], "acme");
    assert_eq!(u["loginId"], "jdoe");
    assert_eq!(u["userState"], "active");
    assert_eq!(u["languageCode"], "EN");
    assert_eq!(u["isTechnicalUser"], false);
    assert!(
        u.get("lastLogin").is_none(),
        "absent values are omitted: {u}"
    );
    assert!(!r.text.contains("null"), "{}", r.text);

    let admin = s.admin();
    let users = format!("{API}/acme/users");
    admin.post(&users, &json!({"extId": "u2"})).assert_error(
        422,
        "errors.userLoginIdNull",
        "The 'loginId' parameter is mandatory.",
    );
    admin
        .post(&users, &json!({"extId": "u2", "loginId": "jdoe"}))
        .assert_error(
            422,
            "errors.duplicateValue",
            "A user with loginId 'jdoe' already exists on client with name Acme",
        );
    admin
        .post(&users, &json!({"extId": "u1", "loginId": "other"}))
        .assert_error(
            422,
            "errors.duplicateName",
            "A user with this extId 'u1' already exists",
        );
    admin
        .post(
            &users,
            &json!({"loginId": "x", "contacts": {"email": "not-an-email"}}),
        )
        .assert_error(
            422,
            "errors.userEmailFormat",
            "Invalid email address 'not-an-email'",
        );
    admin.get(&format!("{API}/acme/users/u9")).assert_error(
        404,
        "errors.noRecord",
        "A user with extId 'u9' doesn't exist on client with name Acme",
    );
    admin.get(&format!("{API}/nope/users/u1")).assert_error(
        404,
        "errors.noRecord",
        "Client doesn't exist with extId 'nope'",
    );
    // §3.4: the client is resolved before the body is read.
    admin
        .send(
            "POST",
            &format!("{API}/nope/users"),
            Some(("application/json", b"{".to_vec())),
            &[],
        )
        .assert_error(
            404,
            "errors.noRecord",
            "Client doesn't exist with extId 'nope'",
        );
    let got = admin.get(&format!("{API}/acme/users/u1"));
    assert_eq!(got.status, 200);
    assert_eq!(got.json()["contacts"]["email"], "jdoe@example.com");
}

fn credential_list_pages(s: &TestServer) {
    let r = s
        .admin()
        .get(&format!("{API}/default/users/admin/credentials"));
    assert_eq!(r.status, 200, "{}", r.text);
    let body = r.json();
    let items = body["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["type"], "Password");
    assert_eq!(items[0]["stateName"], "active");
    assert_eq!(items[0]["policyExtId"], "default-PwdPolicy");
    assert!(!r.text.contains("argon2"), "never the hash");
    assert_eq!(body["_pagination"]["limit"], 100);
    assert!(body["_pagination"].get("continuationToken").is_none());
    s.admin()
        .get(&format!("{API}/default/users/admin/credentials?limit=0"))
        .assert_error(
            422,
            "errors.invalidParameter",
            "The 'limit' parameter must be between 1 and 1000.",
        );
    s.admin()
        .get(&format!(
            "{API}/default/users/admin/credentials?continuationToken=zzz"
        ))
        .assert_error(422, "errors.invalidParameter", "Invalid continuationToken.");
}

// ---- §8.3 roles ------------------------------------------------------------------------------

fn roles_grant_list_revoke(s: &TestServer) {
    create_client(s, "acme", "Acme");
    create_user(s, "acme", "u1", "jdoe");
    let roles = format!("{API}/acme/users/u1/roles");
    let admin = s.admin();
    let r = admin.post(
        &roles,
        &json!({"role": "Helpdesk", "clientExtIds": ["acme"]}),
    );
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.json()["role"], "Helpdesk");
    assert_eq!(r.json()["clientExtIds"], json!(["acme"]));
    // Granting again replaces the data room.
    let r = admin.post(&roles, &json!({"role": "Helpdesk"}));
    assert_eq!(r.status, 201);
    let list = admin.get(&roles);
    assert_eq!(list.status, 200);
    let items = list.json()["items"].as_array().unwrap().clone();
    assert_eq!(items.len(), 1);
    assert!(
        items[0].get("clientExtIds").is_none(),
        "global grant: {}",
        list.text
    );
    admin
        .post(&roles, &json!({"role": "Janitor"}))
        .assert_error(422, "errors.invalidParameter", "Unknown role 'Janitor'");
    admin.post(&roles, &json!({})).assert_error(
        422,
        "errors.nullParameter",
        "The 'role' parameter is mandatory.",
    );
    assert_eq!(admin.delete(&format!("{roles}/Helpdesk")).status, 204);
    assert_eq!(admin.delete(&format!("{roles}/Helpdesk")).status, 404);
    assert_eq!(admin.get(&roles).json()["items"], json!([]));
}

// ---- §8.4 policies ---------------------------------------------------------------------------

fn policies_create_get_patch(s: &TestServer) {
    create_client(s, "acme", "Acme");
    let admin = s.admin();
    let policies = format!("{API}/acme/policies");
    let r = admin.post(
        &policies,
        &json!({"extId": "strict", "name": "Strict", "policyType": "PwdPolicy", "parameters": {"minLength": "12"}}),
    );
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(
        r.header("location").as_deref(),
        Some("/nevisidm/api/core/v1/acme/policies/strict")
    );
    let p = r.json();
    assert_eq!(p["parameters"]["minLength"], "12");
    assert_eq!(
        p["parameters"]["maxLength"], "128",
        "defaults are filled in"
    );
    assert_eq!(p["defaultPolicy"], false);
    assert_eq!(p["clientExtId"], "acme");

    admin
        .post(
            &policies,
            &json!({"name": "V", "policyType": "VascoPolicy", "parameters": {"minLength": "3"}}),
        )
        .assert_error(
            422,
            "errors.pcyconf.invalidParamName",
            "Unknown parameter 'minLength' for policy type VascoPolicy",
        );
    admin
        .post(&policies, &json!({"name": "P", "policyType": "PwdPolicy", "parameters": {"maxResetCount": "many"}}))
        .assert_error(422, "errors.pcyconf.invalidParamValue", "Invalid value 'many' for parameter 'maxResetCount'");
    admin
        .post(
            &policies,
            &json!({"extId": "strict", "name": "Again", "policyType": "PwdPolicy"}),
        )
        .assert_error(
            422,
            "errors.duplicateName",
            "A policy with this extId 'strict' already exists",
        );

    let one = format!("{policies}/strict");
    let patched = admin.patch(
        &one,
        &json!({"version": 1, "parameters": {"maxLength": "64"}, "defaultPolicy": true}),
    );
    assert_eq!(patched.status, 200, "{}", patched.text);
    let body = patched.json();
    assert_eq!(body["version"], 2);
    assert_eq!(body["parameters"]["minLength"], "12");
    assert_eq!(body["parameters"]["maxLength"], "64");
    assert_eq!(body["defaultPolicy"], true);
    // The old default stopped being one.
    assert_eq!(
        admin.get(&format!("{policies}/default-PwdPolicy")).json()["defaultPolicy"],
        false
    );
    // Stale version.
    admin
        .patch(&one, &json!({"version": 1, "name": "Late"}))
        .assert_error(
            409,
            "errors.optimisticLockingFailure",
            "The entity was modified concurrently; reload it and retry.",
        );
    admin.get(&format!("{policies}/nope")).assert_error(
        404,
        "errors.noRecord",
        "PolicyConfiguration doesn't exist with extId 'nope'",
    );
}

fn concurrent_patches_lose_no_update(s: &TestServer) {
    create_client(s, "acme", "Acme");
    let one = format!("{API}/acme/policies/default-OathPolicy");
    let statuses: Vec<u16> = std::thread::scope(|scope| {
        let hs: Vec<_> = (0..10)
            .map(|i| {
                let one = one.clone();
                scope.spawn(move || {
                    s.admin()
                        .patch(&one, &json!({"description": format!("d{i}")}))
                        .status
                })
            })
            .collect();
        hs.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let ok = statuses.iter().filter(|s| **s == 200).count();
    assert!(
        statuses.iter().all(|s| *s == 200 || *s == 409),
        "{statuses:?}"
    );
    let version = s.admin().get(&one).json()["version"].as_i64().unwrap();
    assert_eq!(
        version,
        1 + ok as i64,
        "every successful patch counted once: {statuses:?}"
    );
}

// ---- secrets never leak ------------------------------------------------------------------------

fn no_password_or_hash_in_logs(s: &TestServer) {
    let _ = s.admin().get(&format!("{API}/clients/default"));
    let _ = s
        .as_user("default/admin", "Wrong-Secret-123")
        .get(&format!("{API}/clients/default"));
    let logs = s.logs();
    assert!(!logs.contains(ADMIN_PASSWORD));
    assert!(!logs.contains("Wrong-Secret-123"));
    assert!(!logs.contains("$argon2"));
    assert!(!logs.contains("Basic "));
}

on_both_backends!(
    health_needs_no_authentication,
    missing_authorization_is_401_with_challenge,
    wrong_credentials_are_401,
    bare_and_qualified_login_ids_work,
    failed_basic_logins_lock_the_password_credential,
    malformed_bodies_get_the_exact_400s,
    unknown_paths_and_methods,
    request_ids_are_echoed_or_generated,
    clients_create_get_and_duplicates,
    concurrent_creates_make_exactly_one_client,
    users_create_get_and_validation,
    credential_list_pages,
    roles_grant_list_revoke,
    policies_create_get_patch,
    concurrent_patches_lose_no_update,
    no_password_or_hash_in_logs,
);
