//! Black-box tests of SPEC §14 (SCIM 2.0 provisioning) against the real binary, on SQLite and
//! PostgreSQL: the full provisioning cycle of Entra ID (existence check by filter, create,
//! `Replace` with capitals and `"False"`, deactivate, reactivate, delete), Okta's paging and
//! whole-user PUT, the filter language evaluated by the database, `attributes`, ETags and
//! `If-Match`, the SCIM error schema (401/403/404 included), SPEC §10.1 and the rights per
//! operation, discovery, and the history of every SCIM write. RFC 7643/7644 examples serve as
//! fixtures.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use idm_blackbox_tests::{json, on_both_backends, Caller, Reply, TestServer};
use serde_json::Value;

const CORE: &str = "/nevisidm/api/core/v1";
const SCIM: &str = "/nevisidm/api/scim/v1";
const PW: &str = "User-Secret-42";
const USER_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
const LIST: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
const ERROR: &str = "urn:ietf:params:scim:api:messages:2.0:Error";
const SEARCH: &str = "urn:ietf:params:scim:api:messages:2.0:SearchRequest";

// ---- helpers --------------------------------------------------------------------------------

fn users(client: &str) -> String {
    format!("{SCIM}/{client}/Users")
}

/// A SCIM request with an `application/scim+json` body.
fn scim(
    caller: &Caller<'_>,
    method: &str,
    path: &str,
    body: &Value,
    headers: &[(&str, &str)],
) -> Reply {
    caller.send(
        method,
        path,
        Some(("application/scim+json", body.to_string().into_bytes())),
        headers,
    )
}

fn patch_op(ops: Value) -> Value {
    json!({"schemas": [PATCH_OP], "Operations": ops})
}

/// Asserts the SCIM error schema: status (also as the body's string), `scimType`, and that the
/// detail contains `detail`.
#[track_caller]
fn assert_scim_error(r: &Reply, status: u16, scim_type: Option<&str>, detail: &str) {
    assert_eq!(r.status, status, "{}", r.text);
    let body = r.json();
    assert_eq!(body["schemas"], json!([ERROR]), "{}", r.text);
    assert_eq!(body["status"], status.to_string(), "{}", r.text);
    assert_eq!(body["scimType"].as_str(), scim_type, "{}", r.text);
    assert!(
        body["detail"].as_str().is_some_and(|d| d.contains(detail)),
        "detail should contain {detail:?}: {}",
        r.text
    );
    assert_eq!(
        r.header("content-type").as_deref(),
        Some("application/scim+json")
    );
    assert!(
        body.get("errors").is_none(),
        "not the SPEC §2 envelope: {}",
        r.text
    );
}

fn create_client(s: &TestServer, ext_id: &str, name: &str) {
    let r = s.admin().post(
        &format!("{CORE}/clients"),
        &json!({"extId": ext_id, "name": name}),
    );
    assert_eq!(r.status, 201, "{}", r.text);
}

/// A user `ext_id`/`login` of `client` with password [`PW`] and the given grants, created
/// through the core API; the client needs a policy `pwd` that accepts supplied passwords.
fn account<'s>(
    s: &'s TestServer,
    client: &str,
    ext_id: &str,
    login: &str,
    grants: &[(&str, Option<&[&str]>)],
) -> Caller<'s> {
    let admin = s.admin();
    let ok = |r: Reply| assert_eq!(r.status, 201, "{}", r.text);
    ok(admin.post(
        &format!("{CORE}/{client}/users"),
        &json!({"extId": ext_id, "loginId": login}),
    ));
    ok(admin.post(
        &format!("{CORE}/{client}/users/{ext_id}/password"),
        &json!({"policyExtId": "pwd", "password": PW}),
    ));
    for (role, room) in grants {
        let body = match room {
            Some(ids) => json!({"role": role, "clientExtIds": ids}),
            None => json!({"role": role}),
        };
        ok(admin.post(&format!("{CORE}/{client}/users/{ext_id}/roles"), &body));
    }
    s.as_user(&format!("{client}/{login}"), PW)
}

fn password_policy(s: &TestServer, client: &str) {
    let r = s.admin().post(
        &format!("{CORE}/{client}/policies"),
        &json!({"extId": "pwd", "name": "Supplied", "policyType": "PwdPolicy",
                "parameters": {"resetCodeEnabled": "false"}}),
    );
    assert_eq!(r.status, 201, "{}", r.text);
}

/// Creates a user through SCIM and returns its representation.
fn provision(s: &TestServer, client: &str, body: Value) -> Value {
    let r = scim(&s.admin(), "POST", &users(client), &body, &[]);
    assert_eq!(r.status, 201, "{}", r.text);
    r.json()
}

/// The userNames a GET list answers for `filter` (URL-encoded here), in order.
fn filtered(s: &TestServer, client: &str, filter: &str) -> Vec<String> {
    let r = s.admin().get(&format!(
        "{}?filter={}&count=1000",
        users(client),
        encode(filter)
    ));
    assert_eq!(r.status, 200, "{filter}: {}", r.text);
    let body = r.json();
    let names: Vec<String> = body["Resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["userName"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(body["totalResults"], names.len(), "{filter}: exact total");
    names
}

/// Percent-encodes a query value.
fn encode(raw: &str) -> String {
    raw.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The actions of the history events that name `user_ext_id` of `client`.
fn history_of(s: &TestServer, client: &str, user_ext_id: &str) -> Vec<Value> {
    let r = s.admin().get(&format!(
        "/nevisidm/api/audit/v1/events?clientExtId={client}&userExtId={user_ext_id}&limit=1000"
    ));
    assert_eq!(r.status, 200, "{}", r.text);
    r.json()["items"].as_array().unwrap().clone()
}

// ---- the full cycle -------------------------------------------------------------------------

/// Entra ID's provisioning cycle, request by request: existence check, create, find, update,
/// deactivate (`"False"`), reactivate, delete; a later GET is 404. Every write is one history
/// event.
fn entra_id_provisioning_cycle(s: &TestServer) {
    create_client(s, "acme", "Acme");
    let admin = s.admin();
    let user_name = "Test_User_00aa00aa-bb11-cc22-dd33-44ee44ee44ee";
    // 1. Does the user exist? (Entra ID filters by userName before it creates.)
    assert!(filtered(s, "acme", &format!("userName eq \"{user_name}\"")).is_empty());
    // 2. Create.
    let r = scim(
        &admin,
        "POST",
        &users("acme"),
        &json!({
            "schemas": [USER_SCHEMA, "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
            "externalId": "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef",
            "userName": user_name,
            "active": true,
            "displayName": "Jane Doe",
            "emails": [{"primary": true, "type": "work", "value": "Test_User_11bb@testuser.com"}],
            "meta": {"resourceType": "User"},
            "name": {"formatted": "givenName familyName", "familyName": "familyName", "givenName": "givenName"},
            "roles": [],
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"department": "IT"}
        }),
        &[],
    );
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(
        r.header("content-type").as_deref(),
        Some("application/scim+json")
    );
    let created = r.json();
    let id = created["id"].as_str().unwrap().to_owned();
    assert_eq!(
        r.header("location"),
        Some(format!("{}/{id}", users("acme")))
    );
    assert_eq!(r.header("etag").as_deref(), Some("W/\"1\""));
    assert_eq!(created["meta"]["version"], "W/\"1\"");
    assert_eq!(created["meta"]["resourceType"], "User");
    assert_eq!(
        created["meta"]["location"],
        format!("{}/{id}", users("acme"))
    );
    assert_eq!(created["active"], true);
    assert_eq!(
        created["externalId"],
        "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef"
    );
    assert_eq!(
        created["emails"],
        json!([{"value": "Test_User_11bb@testuser.com", "type": "work", "primary": true}])
    );
    assert_eq!(created["name"]["formatted"], "givenName familyName");
    assert!(created.get("displayName").is_none(), "not stored");
    // The same user through the core API (one user model).
    let core = admin.get(&format!("{CORE}/acme/users/{id}"));
    assert_eq!(core.status, 200, "{}", core.text);
    assert_eq!(core.json()["loginId"], user_name);
    assert_eq!(
        core.json()["contacts"]["email"],
        "Test_User_11bb@testuser.com"
    );
    assert_eq!(core.json()["userState"], "active");
    // 3. Found by filter, userName ignoring case, and by externalId.
    let found = admin.get(&format!(
        "{}?filter={}",
        users("acme"),
        encode(&format!("userName eq \"{}\"", user_name.to_uppercase()))
    ));
    assert_eq!(found.json()["totalResults"], 1, "{}", found.text);
    assert_eq!(found.json()["Resources"][0]["id"], id.as_str());
    assert_eq!(
        filtered(
            s,
            "acme",
            "externalId eq \"0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef\""
        ),
        [user_name]
    );
    // 4. Update, the way Entra ID sends it.
    let path = format!("{}/{id}", users("acme"));
    let r = scim(
        &admin,
        "PATCH",
        &path,
        &patch_op(json!([
            {"op": "Replace", "path": "emails[type eq \"work\"].value", "value": "updatedEmail@microsoft.com"},
            {"op": "Replace", "path": "name.familyName", "value": "updatedFamilyName"},
            {"op": "Add", "path": "preferredLanguage", "value": "de-CH"},
            {"op": "Replace", "value": {"name.givenName": "updatedGivenName", "displayName": "ignored"}}
        ])),
        &[],
    );
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.header("etag").as_deref(), Some("W/\"2\""));
    let u = r.json();
    assert_eq!(u["emails"][0]["value"], "updatedEmail@microsoft.com");
    assert_eq!(u["name"]["familyName"], "updatedFamilyName");
    assert_eq!(u["name"]["givenName"], "updatedGivenName");
    assert_eq!(u["preferredLanguage"], "de");
    // 5. Deactivate: `Replace` with capitals and `active` as the string "False".
    let r = scim(
        &admin,
        "PATCH",
        &path,
        &patch_op(json!([{"op": "Replace", "path": "active", "value": "False"}])),
        &[],
    );
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json()["active"], false);
    assert_eq!(
        admin.get(&format!("{CORE}/acme/users/{id}")).json()["userState"],
        "disabled"
    );
    assert_eq!(filtered(s, "acme", "active eq false"), [user_name]);
    // 6. Reactivate.
    let r = scim(
        &admin,
        "PATCH",
        &path,
        &patch_op(json!([{"op": "Replace", "path": "active", "value": "True"}])),
        &[],
    );
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json()["active"], true);
    assert_eq!(r.json()["meta"]["version"], "W/\"4\"");
    // 7. Delete; a later GET is a SCIM 404, and the user is gone from searches.
    let r = admin.delete(&path);
    assert_eq!(r.status, 204, "{}", r.text);
    assert!(r.text.is_empty());
    assert_scim_error(
        &admin.get(&path),
        404,
        None,
        &format!("A user with extId '{id}' doesn't exist"),
    );
    assert!(filtered(s, "acme", &format!("userName eq \"{user_name}\"")).is_empty());
    assert_scim_error(&admin.delete(&path), 404, None, "doesn't exist");
    // Every SCIM write is one event, like its core-API twin.
    let events = history_of(s, "acme", &id);
    let actions: Vec<&str> = events
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        [
            "user.created",
            "user.updated",
            "user.updated",
            "user.updated",
            "user.deleted"
        ]
    );
    assert_eq!(
        events[0]["changes"]["externalId"],
        json!([null, "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef"])
    );
    assert_eq!(
        events[2]["changes"],
        json!({"userState": ["active", "disabled"]})
    );
    assert!(events.iter().all(|e| e["actor"]["loginId"] == "admin"));
}

/// RFC 7643 §8.2's full user: the attributes this service stores are kept, the rest ignored.
fn rfc_7643_full_user_is_mapped(s: &TestServer) {
    create_client(s, "acme", "Acme");
    let u = provision(
        s,
        "acme",
        json!({
            "schemas": [USER_SCHEMA],
            "id": "2819c223-7f76-453a-919d-413861904646",
            "externalId": "701984",
            "userName": "bjensen@example.com",
            "name": {"formatted": "Ms. Barbara J Jensen, III", "familyName": "Jensen",
                     "givenName": "Barbara", "middleName": "Jane", "honorificPrefix": "Ms.",
                     "honorificSuffix": "III"},
            "displayName": "Babs Jensen",
            "nickName": "Babs",
            "profileUrl": "https://login.example.com/bjensen",
            "emails": [{"value": "bjensen@example.com", "type": "work", "primary": true},
                       {"value": "babs@jensen.org", "type": "home"}],
            "addresses": [{"type": "work", "streetAddress": "100 Universal City Plaza",
                           "locality": "Hollywood", "region": "CA", "postalCode": "91608",
                           "country": "USA", "primary": true}],
            "phoneNumbers": [{"value": "555-555-5555", "type": "work"},
                             {"value": "555-555-4444", "type": "mobile"}],
            "ims": [{"value": "someaimhandle", "type": "aim"}],
            "userType": "Employee",
            "title": "Tour Guide",
            "preferredLanguage": "en-US",
            "locale": "en-US",
            "timezone": "America/Los_Angeles",
            "active": true,
            "password": "t1meMa$heen",
            "meta": {"resourceType": "User", "version": "W/\"a330bc54f0671c9\""}
        }),
    );
    assert_ne!(
        u["id"], "2819c223-7f76-453a-919d-413861904646",
        "the server assigns the id"
    );
    assert_eq!(u["userName"], "bjensen@example.com");
    assert_eq!(u["externalId"], "701984");
    assert_eq!(
        u["name"],
        json!({"formatted": "Ms. Barbara Jensen", "familyName": "Jensen", "givenName": "Barbara",
               "honorificPrefix": "Ms."})
    );
    assert_eq!(
        u["emails"],
        json!([{"value": "bjensen@example.com", "type": "work", "primary": true}])
    );
    assert_eq!(
        u["phoneNumbers"],
        json!([{"value": "555-555-4444", "type": "mobile"}])
    );
    assert_eq!(u["preferredLanguage"], "en");
    assert_eq!(u["meta"]["version"], "W/\"1\"");
    for absent in [
        "password",
        "displayName",
        "addresses",
        "title",
        "ims",
        "nickName",
    ] {
        assert!(u.get(absent).is_none(), "{absent}");
    }
    // Nothing of the password reached the user or its history.
    let events = history_of(s, "acme", u["id"].as_str().unwrap());
    assert!(!serde_json::to_string(&events)
        .unwrap()
        .contains("t1meMa$heen"));
    let core = s
        .admin()
        .get(&format!("{CORE}/acme/users/{}", u["id"].as_str().unwrap()));
    assert_eq!(core.json()["name"]["title"], "Ms.");
    assert_eq!(core.json()["contacts"]["mobile"], "555-555-4444");
}

// ---- Okta: paging and PUT --------------------------------------------------------------------

fn okta_pages_and_puts_whole_users(s: &TestServer) {
    create_client(s, "acme", "Acme");
    let mut ids = Vec::new();
    for i in 0..7 {
        let u = provision(
            s,
            "acme",
            json!({"schemas": [USER_SCHEMA], "userName": format!("okta{i}@example.com"),
                   "name": {"givenName": "Okta", "familyName": format!("User{i}")},
                   "emails": [{"primary": true, "value": format!("okta{i}@example.com"), "type": "work"}],
                   "displayName": "Okta User", "locale": "en-US", "externalId": format!("00u{i}"),
                   "groups": [], "password": "Sup3rS3cret!", "active": true}),
        );
        ids.push(u["id"].as_str().unwrap().to_owned());
    }
    let admin = s.admin();
    // Okta pages with startIndex and count; totalResults is exact on every page; the order is
    // creation order.
    let mut seen = Vec::new();
    let mut start = 1;
    loop {
        let r = admin.get(&format!("{}?startIndex={start}&count=3", users("acme")));
        assert_eq!(r.status, 200, "{}", r.text);
        let page = r.json();
        assert_eq!(page["schemas"], json!([LIST]));
        assert_eq!(page["totalResults"], 7);
        assert_eq!(page["startIndex"], start);
        let resources = page["Resources"].as_array().unwrap().clone();
        assert_eq!(page["itemsPerPage"], resources.len());
        if resources.is_empty() {
            break;
        }
        assert!(resources.len() <= 3);
        start += resources.len();
        seen.extend(
            resources
                .iter()
                .map(|u| u["id"].as_str().unwrap().to_owned()),
        );
    }
    assert_eq!(seen, ids, "every user once, in creation order");
    let r = admin.get(&format!("{}?count=0", users("acme")));
    assert_eq!(
        (
            r.json()["totalResults"].clone(),
            r.json()["itemsPerPage"].clone()
        ),
        (json!(7), json!(0))
    );
    let r = admin.get(&format!("{}?startIndex=-4&count=100000", users("acme")));
    assert_eq!(r.json()["startIndex"], 1, "less than 1 counts as 1");
    assert_eq!(r.json()["itemsPerPage"], 7);
    let r = admin.get(&format!(
        "{}?startIndex=6&count=10&filter={}",
        users("acme"),
        encode("userName sw \"okta\"")
    ));
    assert_eq!(
        (
            r.json()["totalResults"].clone(),
            r.json()["itemsPerPage"].clone()
        ),
        (json!(7), json!(2))
    );
    assert_scim_error(
        &admin.get(&format!("{}?startIndex=one", users("acme"))),
        400,
        Some("invalidValue"),
        "startIndex",
    );

    // Okta's PUT: the whole user; every writable attribute not sent is removed.
    let path = format!("{}/{}", users("acme"), ids[0]);
    let r = scim(
        &admin,
        "PUT",
        &path,
        &json!({"schemas": [USER_SCHEMA], "id": ids[0], "userName": "okta0@example.com",
                "name": {"givenName": "Renamed", "familyName": "User0"},
                "emails": [{"primary": true, "value": "new0@example.com", "type": "work"}],
                "phoneNumbers": [{"type": "mobile", "value": "+41790000000"}],
                "active": true, "groups": []}),
        &[],
    );
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.header("etag").as_deref(), Some("W/\"2\""));
    let u = r.json();
    assert_eq!(u["name"]["givenName"], "Renamed");
    assert_eq!(u["emails"][0]["value"], "new0@example.com");
    assert_eq!(u["phoneNumbers"][0]["value"], "+41790000000");
    assert!(u.get("externalId").is_none(), "not sent: removed");
    // Okta deactivates with a PUT of `active: false`.
    let r = scim(
        &admin,
        "PUT",
        &path,
        &json!({"schemas": [USER_SCHEMA], "userName": "okta0@example.com", "active": false}),
        &[],
    );
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json()["active"], false);
    assert!(r.json().get("name").is_none() && r.json().get("emails").is_none());
    assert_eq!(
        admin.get(&format!("{CORE}/acme/users/{}", ids[0])).json()["userState"],
        "disabled"
    );
    // The same PUT again changes nothing: same version, no event.
    let before = history_of(s, "acme", &ids[0]).len();
    let r = scim(
        &admin,
        "PUT",
        &path,
        &json!({"schemas": [USER_SCHEMA], "userName": "okta0@example.com", "active": false}),
        &[],
    );
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.header("etag").as_deref(), Some("W/\"3\""));
    assert_eq!(history_of(s, "acme", &ids[0]).len(), before);
    // PUT without userName: required.
    assert_scim_error(
        &scim(
            &admin,
            "PUT",
            &path,
            &json!({"schemas": [USER_SCHEMA], "active": true}),
            &[],
        ),
        400,
        Some("invalidValue"),
        "userName",
    );
}

// ---- filters ---------------------------------------------------------------------------------

fn filter_fixture(s: &TestServer) {
    create_client(s, "acme", "Acme");
    create_client(s, "other", "Other");
    for (user_name, given, family, email, external, active) in [
        (
            "alice",
            "Alice",
            "Smith",
            "Alice@Example.com",
            "EXT-1",
            true,
        ),
        ("bob", "Bob", "Alison", "bob@example.org", "ext-2", false),
        ("carol", "", "", "", "", true),
        ("al_x", "Al", "Zed", "zed@example.com", "a%b_c", true),
        ("dave", "Dave", "%off", "dave@x.ch", "x*y?[z]", true),
    ] {
        let mut body = json!({"schemas": [USER_SCHEMA], "userName": user_name, "active": active});
        if !given.is_empty() {
            body["name"] = json!({"givenName": given, "familyName": family});
        }
        if !email.is_empty() {
            body["emails"] = json!([{"value": email, "type": "work", "primary": true}]);
        }
        if !external.is_empty() {
            body["externalId"] = json!(external);
        }
        provision(s, "acme", body);
    }
    // A look-alike in another client is never found.
    provision(
        s,
        "other",
        json!({"userName": "alice", "externalId": "EXT-1"}),
    );
}

/// The filter language of RFC 7644 §3.4.2.2 over the filterable attributes of SPEC §14,
/// evaluated by the database: every operator, `and`/`or`/`not`, parentheses, value filters on
/// `emails`, case-insensitive names and userName, `%`/`_`/`*` literal.
fn filters_are_evaluated_by_the_database(s: &TestServer) {
    filter_fixture(s);
    let f = |filter: &str| filtered(s, "acme", filter);
    let all = ["alice", "bob", "carol", "al_x", "dave"];
    assert_eq!(f("userName pr"), all);
    assert_eq!(f("USERNAME eq \"ALICE\""), ["alice"]);
    assert_eq!(
        f("urn:ietf:params:scim:schemas:core:2.0:User:userName eq \"alice\""),
        ["alice"]
    );
    assert_eq!(f("userName ne \"alice\""), ["bob", "carol", "al_x", "dave"]);
    assert_eq!(f("userName co \"A\""), ["alice", "carol", "al_x", "dave"]);
    assert_eq!(f("userName sw \"al\""), ["alice", "al_x"]);
    assert_eq!(f("userName sw \"al_\""), ["al_x"], "`_` is literal");
    assert_eq!(f("userName ew \"E\""), ["alice", "dave"]);
    assert_eq!(f("userName gt \"bob\""), ["carol", "dave"]);
    assert_eq!(f("userName ge \"bob\""), ["bob", "carol", "dave"]);
    assert_eq!(f("userName lt \"bob\""), ["alice", "al_x"]);
    assert_eq!(f("userName le \"alice\""), ["alice", "al_x"]);
    assert_eq!(f("externalId eq \"EXT-1\""), ["alice"]);
    assert!(
        f("externalId eq \"ext-1\"").is_empty(),
        "externalId is case-exact"
    );
    assert_eq!(
        f("externalId co \"%b_\""),
        ["al_x"],
        "`%` and `_` are literal"
    );
    assert_eq!(f("externalId co \"*\""), ["dave"], "`*` is literal");
    assert_eq!(f("externalId co \"xt\""), ["bob"]);
    assert_eq!(f("externalId pr"), ["alice", "bob", "al_x", "dave"]);
    assert_eq!(f("externalId eq null"), ["carol"]);
    assert_eq!(f("name.givenName sw \"al\""), ["alice", "al_x"]);
    assert_eq!(f("name.familyName co \"%\""), ["dave"]);
    assert_eq!(f("name.familyName ew \"SON\""), ["bob"]);
    assert_eq!(f("emails.value eq \"alice@example.COM\""), ["alice"]);
    assert_eq!(f("emails co \"example\""), ["alice", "bob", "al_x"]);
    assert_eq!(
        f("emails[type eq \"work\"]"),
        ["alice", "bob", "al_x", "dave"]
    );
    assert_eq!(f("emails[type eq \"work\" and value ew \".org\"]"), ["bob"]);
    assert!(f("emails[type eq \"home\"]").is_empty());
    assert_eq!(f("active eq false"), ["bob"]);
    assert_eq!(f("active eq \"True\""), ["alice", "carol", "al_x", "dave"]);
    assert_eq!(f("active ne true"), ["bob"]);
    // RFC 7644 §3.4.2.2 examples and combinations.
    assert_eq!(
        f("userName eq \"bob\" or userName eq \"dave\""),
        ["bob", "dave"]
    );
    assert_eq!(
        f("userName sw \"a\" and not (emails co \"example.com\")"),
        Vec::<String>::new()
    );
    assert_eq!(
        f("not (name.familyName eq \"Smith\")"),
        ["bob", "carol", "al_x", "dave"],
        "carol has no family name"
    );
    assert_eq!(
        f("(userName sw \"a\" or userName sw \"d\") and (active eq true and emails pr)"),
        ["alice", "al_x", "dave"]
    );
    assert_eq!(
        f("userName eq \"alice\" or userName eq \"bob\" and active eq true"),
        ["alice"]
    );
    assert_eq!(f("not(not(userName eq \"carol\"))"), ["carol"]);
    // Times: everything was created a moment ago.
    assert_eq!(f("meta.created gt \"2000-01-01T00:00:00Z\"").len(), 5);
    assert!(f("meta.lastModified lt \"2000-01-01T00:00:00Z\"").is_empty());
    let alice = s.admin().get(&format!(
        "{}?filter={}",
        users("acme"),
        encode("userName eq \"alice\"")
    ));
    let created = alice.json()["Resources"][0]["meta"]["created"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        f(&format!("meta.created eq \"{created}\"")),
        ["alice"],
        "a time read back matches"
    );
    assert_eq!(f(&format!("meta.created le \"{created}\"")), ["alice"]);
    // Hostile values are data.
    assert!(f("userName eq \"' OR '1'='1\"").is_empty());
    assert!(f("userName eq \"\\\"; DROP TABLE users; --\"").is_empty());
    assert_eq!(f("userName pr").len(), 5, "still there");
}

fn bad_filters_are_400(s: &TestServer) {
    filter_fixture(s);
    let admin = s.admin();
    for (filter, scim_type, detail) in [
        ("userName eq", "invalidFilter", "expected a value"),
        ("userName xx \"a\"", "invalidFilter", "comparison operator"),
        ("(userName eq \"a\"", "invalidFilter", "expected ')'"),
        (
            "userName eq \"a\" and",
            "invalidFilter",
            "expected an attribute",
        ),
        ("nickName eq \"x\"", "invalidFilter", "'nickName'"),
        ("id eq \"x\"", "invalidFilter", "'id'"),
        (
            "phoneNumbers.value eq \"1\"",
            "invalidFilter",
            "not supported",
        ),
        ("active gt true", "invalidFilter", "cannot be compared"),
        ("meta.created gt \"yesterday\"", "invalidFilter", "RFC 3339"),
        ("userName eq 'a'", "invalidFilter", "expected a value"),
    ] {
        let r = admin.get(&format!("{}?filter={}", users("acme"), encode(filter)));
        assert_scim_error(&r, 400, Some(scim_type), detail);
    }
    let deep = format!("{}userName pr{}", "(".repeat(50), ")".repeat(50));
    assert_scim_error(
        &admin.get(&format!("{}?filter={}", users("acme"), encode(&deep))),
        400,
        Some("tooMany"),
        "deeper",
    );
    let wide = vec!["userName eq \"a\""; 70].join(" or ");
    let r = scim(
        &admin,
        "POST",
        &format!("{}/.search", users("acme")),
        &json!({"filter": wide}),
        &[],
    );
    assert_scim_error(&r, 400, Some("tooMany"), "comparisons");
    // Rights and the client come first (SPEC §3.4).
    let r = admin.get(&format!(
        "{}?filter={}",
        users("nope"),
        encode("nickName eq \"x\"")
    ));
    assert_scim_error(&r, 404, None, "Client doesn't exist with extId 'nope'");
}

/// `POST …/Users/.search` (RFC 7644 §3.4.3) finds what the GET finds; `attributes` and
/// `excludedAttributes` shape every representation.
fn search_and_attributes(s: &TestServer) {
    filter_fixture(s);
    let admin = s.admin();
    let r = scim(
        &admin,
        "POST",
        &format!("{}/.search", users("acme")),
        &json!({"schemas": [SEARCH], "filter": "userName sw \"a\"", "startIndex": 1, "count": 10,
                "attributes": ["userName", "name.familyName"]}),
        &[],
    );
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        r.header("content-type").as_deref(),
        Some("application/scim+json")
    );
    let page = r.json();
    assert_eq!(page["totalResults"], 2);
    let first = &page["Resources"][0];
    let mut keys: Vec<&str> = first
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    assert_eq!(keys, ["id", "name", "schemas", "userName"]);
    assert_eq!(first["name"], json!({"familyName": "Smith"}));
    // Also as application/json.
    let r = admin.send(
        "POST",
        &format!("{}/.search", users("acme")),
        Some((
            "application/json",
            br#"{"filter": "active eq false", "excludedAttributes": "meta,emails"}"#.to_vec(),
        )),
        &[],
    );
    assert_eq!(r.status, 200, "{}", r.text);
    let bob = &r.json()["Resources"][0];
    assert_eq!(bob["userName"], "bob");
    assert!(bob.get("meta").is_none() && bob.get("emails").is_none());
    assert!(bob.get("name").is_some());
    // On a GET of one user, and a create.
    let id = bob["id"].as_str().unwrap();
    let r = admin.get(&format!(
        "{}/{id}?attributes=emails.value,active",
        users("acme")
    ));
    assert_eq!(
        r.json(),
        json!({"schemas": [USER_SCHEMA], "id": id, "active": false,
               "emails": [{"value": "bob@example.org"}]})
    );
    let r = scim(
        &admin,
        "POST",
        &format!("{}?attributes=userName", users("acme")),
        &json!({"userName": "erin"}),
        &[],
    );
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.json().as_object().unwrap().len(), 3, "{}", r.text);
}

// ---- PATCH details ---------------------------------------------------------------------------

/// RFC 7644 §3.5.2's PATCH examples that apply to a user, on the stored user.
fn patch_follows_rfc_7644(s: &TestServer) {
    create_client(s, "acme", "Acme");
    let u = provision(
        s,
        "acme",
        json!({"userName": "bjensen", "emails": [{"value": "bjensen@example.com", "type": "work", "primary": true}],
               "phoneNumbers": [{"value": "555-555-4444", "type": "mobile"}], "externalId": "x1"}),
    );
    let path = format!("{}/{}", users("acme"), u["id"].as_str().unwrap());
    let admin = s.admin();
    let patch = |ops: Value| scim(&admin, "PATCH", &path, &patch_op(ops), &[]);
    // add without a path (§3.5.2.1): the members are attributes; an added primary wins.
    let r = patch(
        json!([{"op": "add", "value": {"emails": [{"value": "babs@jensen.org", "type": "home", "primary": true}], "nickName": "Babs"}}]),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        r.json()["emails"],
        json!([{"value": "babs@jensen.org", "type": "work", "primary": true}])
    );
    // replace a value selected by a filter (§3.5.2.3).
    let r = patch(
        json!([{"op": "replace", "path": "emails[type eq \"work\"]", "value": {"type": "work", "value": "bjensen@example.com"}}]),
    );
    assert_eq!(
        r.json()["emails"][0]["value"],
        "bjensen@example.com",
        "{}",
        r.text
    );
    // remove values selected by a filter (§3.5.2.2).
    let r = patch(
        json!([{"op": "remove", "path": "emails[type eq \"work\" and value ew \"example.com\"]"}]),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(r.json().get("emails").is_none(), "{}", r.text);
    let r = patch(
        json!([{"op": "remove", "path": "phoneNumbers[type eq \"mobile\"].value"}, {"op": "remove", "path": "externalId"}]),
    );
    assert!(
        r.json().get("phoneNumbers").is_none() && r.json().get("externalId").is_none(),
        "{}",
        r.text
    );
    // Errors of RFC 7644 §3.12.
    assert_scim_error(
        &patch(json!([{"op": "remove", "path": "emails[type eq \"work\"]"}])),
        400,
        Some("noTarget"),
        "selects no value",
    );
    assert_scim_error(
        &patch(json!([{"op": "remove"}])),
        400,
        Some("noTarget"),
        "needs a path",
    );
    assert_scim_error(
        &patch(json!([{"op": "replace", "path": "id", "value": "mine"}])),
        400,
        Some("mutability"),
        "read-only",
    );
    assert_scim_error(
        &patch(json!([{"op": "replace", "path": "meta.created", "value": "2020-01-01T00:00:00Z"}])),
        400,
        Some("mutability"),
        "read-only",
    );
    assert_scim_error(
        &patch(json!([{"op": "replace", "path": "emails[type eq", "value": "x"}])),
        400,
        Some("invalidPath"),
        "Operations[0].path",
    );
    assert_scim_error(
        &patch(json!([{"op": "frobnicate", "path": "userName", "value": "x"}])),
        400,
        Some("invalidSyntax"),
        "'add', 'replace' or 'remove'",
    );
    assert_scim_error(
        &patch(json!([{"op": "replace", "path": "active", "value": "perhaps"}])),
        400,
        Some("invalidValue"),
        "active",
    );
    assert_scim_error(
        &patch(
            json!([{"op": "replace", "path": "emails[type eq \"work\"].value", "value": "not-an-address"}]),
        ),
        400,
        Some("invalidValue"),
        "Invalid email address",
    );
    assert_scim_error(
        &patch(json!([{"op": "remove", "path": "userName"}])),
        400,
        Some("invalidValue"),
        "userName",
    );
    // Nothing of the refused operations was written.
    let r = admin.get(&path);
    assert_eq!(r.json()["meta"]["version"], "W/\"5\"", "{}", r.text);
}

// ---- ETags -----------------------------------------------------------------------------------

fn etags_and_if_match(s: &TestServer) {
    create_client(s, "acme", "Acme");
    let u = provision(s, "acme", json!({"userName": "etag"}));
    let path = format!("{}/{}", users("acme"), u["id"].as_str().unwrap());
    let admin = s.admin();
    let r = admin.get(&path);
    assert_eq!(r.header("etag").as_deref(), Some("W/\"1\""));
    let r = admin.send("GET", &path, None, &[("If-None-Match", "W/\"1\"")]);
    assert_eq!(r.status, 304);
    let deactivate = patch_op(json!([{"op": "replace", "path": "active", "value": false}]));
    let r = scim(
        &admin,
        "PATCH",
        &path,
        &deactivate,
        &[("If-Match", "W/\"1\"")],
    );
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.header("etag").as_deref(), Some("W/\"2\""));
    // A stale version: 412, nothing changed.
    let activate = patch_op(json!([{"op": "replace", "path": "active", "value": true}]));
    let r = scim(
        &admin,
        "PATCH",
        &path,
        &activate,
        &[("If-Match", "W/\"1\"")],
    );
    assert_scim_error(&r, 412, None, "If-Match");
    let r = scim(
        &admin,
        "PUT",
        &path,
        &json!({"userName": "etag", "active": true}),
        &[("If-Match", "W/\"1\"")],
    );
    assert_scim_error(&r, 412, None, "If-Match");
    let r = admin.send("DELETE", &path, None, &[("If-Match", "W/\"1\"")]);
    assert_scim_error(&r, 412, None, "If-Match");
    let r = admin.get(&path);
    assert_eq!(
        (r.json()["active"].clone(), r.header("etag")),
        (json!(false), Some("W/\"2\"".to_owned()))
    );
    // The current version, or `*`.
    let r = scim(&admin, "PATCH", &path, &activate, &[("If-Match", "*")]);
    assert_eq!(r.header("etag").as_deref(), Some("W/\"3\""), "{}", r.text);
    let r = admin.send("DELETE", &path, None, &[("If-Match", "W/\"3\"")]);
    assert_eq!(r.status, 204, "{}", r.text);
}

// ---- errors, rights, SPEC §10.1 -------------------------------------------------------------

fn errors_are_scim_errors(s: &TestServer) {
    create_client(s, "acme", "Acme");
    provision(s, "acme", json!({"userName": "taken"}));
    let admin = s.admin();
    // 401, with the Basic challenge.
    let r = s.anonymous().get(&users("acme"));
    assert_scim_error(&r, 401, None, "Authentication required.");
    assert_eq!(
        r.header("www-authenticate").as_deref(),
        Some("Basic realm=\"nevisIDM\"")
    );
    let r = s.as_user("default/admin", "wrong").get(&users("acme"));
    assert_scim_error(&r, 401, None, "Authentication failed.");
    // 404: unknown client, unknown user, unknown SCIM resource; 405.
    assert_scim_error(
        &admin.get(&users("nope")),
        404,
        None,
        "Client doesn't exist with extId 'nope'",
    );
    assert_scim_error(
        &admin.get(&format!("{}/nobody", users("acme"))),
        404,
        None,
        "A user with extId 'nobody' doesn't exist on client with name Acme",
    );
    assert_scim_error(
        &admin.get(&format!("{SCIM}/acme/Groups")),
        404,
        None,
        "Unknown resource.",
    );
    let r = admin.send("DELETE", &users("acme"), None, &[]);
    assert_scim_error(&r, 405, None, "Method not allowed.");
    // 409 uniqueness.
    let r = scim(
        &admin,
        "POST",
        &users("acme"),
        &json!({"userName": "taken"}),
        &[],
    );
    assert_scim_error(
        &r,
        409,
        Some("uniqueness"),
        "A user with loginId 'taken' already exists",
    );
    // 400: values and syntax; 415.
    let r = scim(
        &admin,
        "POST",
        &users("acme"),
        &json!({"name": {"givenName": "No"}}),
        &[],
    );
    assert_scim_error(
        &r,
        400,
        Some("invalidValue"),
        "The attribute 'userName' is required.",
    );
    let r = scim(
        &admin,
        "POST",
        &users("acme"),
        &json!({"userName": "e", "emails": [{"value": "nope"}]}),
        &[],
    );
    assert_scim_error(
        &r,
        400,
        Some("invalidValue"),
        "Invalid email address 'nope'",
    );
    let r = scim(
        &admin,
        "POST",
        &users("acme"),
        &json!({"userName": ["e"]}),
        &[],
    );
    assert_scim_error(&r, 400, Some("invalidValue"), "'userName'");
    let r = admin.send(
        "POST",
        &users("acme"),
        Some(("application/scim+json", b"{\"userName\":".to_vec())),
        &[],
    );
    assert_scim_error(&r, 400, Some("invalidSyntax"), "Malformed JSON");
    let r = admin.send(
        "POST",
        &users("acme"),
        Some(("text/plain", b"{}".to_vec())),
        &[],
    );
    assert_scim_error(&r, 415, None, "Content-Type");
    // The body is judged after rights and the client (SPEC §3.4).
    let r = admin.send(
        "POST",
        &users("nope"),
        Some(("application/scim+json", b"{".to_vec())),
        &[],
    );
    assert_scim_error(&r, 404, None, "Client doesn't exist");
    // Outside the SCIM base, the SPEC §2 envelope as ever.
    s.anonymous()
        .get(&format!("{CORE}/clients/acme"))
        .assert_error(401, "errors.userLoginFailed", "Authentication required.");
}

/// Rights per operation (reads UserView, POST UserCreate, PUT/PATCH UserModify, DELETE
/// UserDelete), data rooms, SPEC §10.1 privileged targets; every 403 is a history event.
fn rights_data_rooms_and_privileged_targets(s: &TestServer) {
    create_client(s, "acme", "Acme");
    create_client(s, "other", "Other");
    password_policy(s, "acme");
    let helpdesk = account(s, "acme", "hd", "helper", &[("Helpdesk", Some(&["acme"]))]);
    let user_admin = account(s, "acme", "ua", "uadmin", &[("UserAdmin", Some(&["acme"]))]);
    account(s, "acme", "cr", "croot", &[("ClientRoot", Some(&["acme"]))]);
    let plain = provision(s, "acme", json!({"userName": "plain"}));
    let plain_path = format!("{}/{}", users("acme"), plain["id"].as_str().unwrap());
    let missing = |right: &str| {
        format!("Permission denied: Caller does not have the required right 'AccessControl.{right}' to perform this action")
    };
    // Helpdesk: reads, nothing else.
    assert_eq!(helpdesk.get(&users("acme")).status, 200);
    assert_eq!(helpdesk.get(&plain_path).status, 200);
    assert_eq!(
        helpdesk
            .get(&format!("{SCIM}/acme/ServiceProviderConfig"))
            .status,
        200
    );
    assert_scim_error(
        &scim(
            &helpdesk,
            "POST",
            &users("acme"),
            &json!({"userName": "x"}),
            &[],
        ),
        403,
        None,
        &missing("UserCreate"),
    );
    let deactivate = patch_op(json!([{"op": "replace", "path": "active", "value": false}]));
    assert_scim_error(
        &scim(&helpdesk, "PATCH", &plain_path, &deactivate, &[]),
        403,
        None,
        &missing("UserModify"),
    );
    // Even a PATCH that would change nothing is refused, and so is a broken one.
    let noop = patch_op(json!([{"op": "replace", "path": "userName", "value": "plain"}]));
    assert_scim_error(
        &scim(&helpdesk, "PATCH", &plain_path, &noop, &[]),
        403,
        None,
        &missing("UserModify"),
    );
    let broken = patch_op(json!([{"op": "replace", "path": "emails[", "value": 1}]));
    assert_scim_error(
        &scim(&helpdesk, "PATCH", &plain_path, &broken, &[]),
        403,
        None,
        &missing("UserModify"),
    );
    assert_scim_error(
        &scim(
            &helpdesk,
            "PUT",
            &plain_path,
            &json!({"userName": "plain"}),
            &[],
        ),
        403,
        None,
        &missing("UserModify"),
    );
    assert_scim_error(
        &helpdesk.delete(&plain_path),
        403,
        None,
        &missing("UserDelete"),
    );
    // Another client's data room, before any lookup: the same answer for a client that exists
    // and one that does not.
    for client in ["other", "nope"] {
        assert_scim_error(
            &helpdesk.get(&users(client)),
            403,
            None,
            "Permission denied: AccessControl.UserView",
        );
        let r = helpdesk.get(&format!(
            "{}?filter={}",
            users(client),
            encode("bad filter")
        ));
        assert_scim_error(&r, 403, None, "Permission denied: AccessControl.UserView");
    }
    // SPEC §10.1: a UserAdmin may not change or delete a ClientRoot.
    let privileged = "Permission denied: the target user holds rights beyond the caller's own";
    let cr_path = format!("{}/cr", users("acme"));
    assert_scim_error(
        &scim(&user_admin, "PATCH", &cr_path, &deactivate, &[]),
        403,
        None,
        privileged,
    );
    assert_scim_error(
        &scim(
            &user_admin,
            "PUT",
            &cr_path,
            &json!({"userName": "croot", "active": false}),
            &[],
        ),
        403,
        None,
        privileged,
    );
    assert_scim_error(&user_admin.delete(&cr_path), 403, None, privileged);
    assert_eq!(
        s.admin().get(&format!("{CORE}/acme/users/cr")).json()["userState"],
        "active"
    );
    // ... but the plain user is within its rights.
    let r = scim(&user_admin, "PATCH", &plain_path, &deactivate, &[]);
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(user_admin.delete(&plain_path).status, 204);
    // Every 403 is in the history.
    let denied = |client: &str| {
        let r = s.admin().get(&format!(
            "/nevisidm/api/audit/v1/events?clientExtId={client}&action=access.denied&limit=1000"
        ));
        assert_eq!(r.status, 200, "{}", r.text);
        r.json()["items"].as_array().unwrap().clone()
    };
    let in_acme = denied("acme");
    assert_eq!(
        in_acme.len(),
        9,
        "6 of the Helpdesk, 3 of the UserAdmin: {in_acme:?}"
    );
    assert_eq!(
        in_acme.last().unwrap()["target"],
        json!({"clientExtId": "acme", "userExtId": "cr"}),
        "a refused write names its user"
    );
    assert_eq!((denied("other").len(), denied("nope").len()), (2, 2));
}

// ---- discovery and documentation -------------------------------------------------------------

fn discovery_describes_what_is_supported(s: &TestServer) {
    create_client(s, "acme", "Acme");
    let admin = s.admin();
    let r = admin.get(&format!("{SCIM}/acme/ServiceProviderConfig"));
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        r.header("content-type").as_deref(),
        Some("application/scim+json")
    );
    let c = r.json();
    assert_eq!(c["patch"]["supported"], true);
    assert_eq!(c["filter"], json!({"supported": true, "maxResults": 1000}));
    assert_eq!(c["etag"]["supported"], true);
    for unsupported in ["bulk", "changePassword", "sort"] {
        assert_eq!(c[unsupported]["supported"], false, "{unsupported}");
    }
    assert_eq!(c["authenticationSchemes"][0]["type"], "httpbasic");
    let r = admin.get(&format!("{SCIM}/acme/ResourceTypes"));
    assert_eq!(r.json()["totalResults"], 1);
    assert_eq!(r.json()["Resources"][0]["endpoint"], "/Users");
    assert_eq!(
        admin.get(&format!("{SCIM}/acme/ResourceTypes/User")).json()["schema"],
        USER_SCHEMA
    );
    assert_scim_error(
        &admin.get(&format!("{SCIM}/acme/ResourceTypes/Group")),
        404,
        None,
        "Group",
    );
    let r = admin.get(&format!("{SCIM}/acme/Schemas"));
    assert_eq!(r.json()["Resources"][0]["id"], USER_SCHEMA);
    let r = admin.get(&format!("{SCIM}/acme/Schemas/{USER_SCHEMA}"));
    assert_eq!(r.status, 200, "{}", r.text);
    let names: Vec<String> = r.json()["attributes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["name"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        names,
        [
            "userName",
            "externalId",
            "name",
            "active",
            "emails",
            "phoneNumbers",
            "preferredLanguage"
        ]
    );
    assert_scim_error(
        &admin.get(&format!("{SCIM}/acme/Schemas?filter=id%20pr")),
        403,
        None,
        "filtering",
    );
    assert_scim_error(
        &s.anonymous().get(&format!("{SCIM}/acme/Schemas")),
        401,
        None,
        "Authentication required.",
    );
    assert_scim_error(
        &admin.get(&format!("{SCIM}/nope/ServiceProviderConfig")),
        404,
        None,
        "Client doesn't exist",
    );
    // The OpenAPI document describes the SCIM endpoints.
    let doc = s.anonymous().get("/nevisidm/api/openapi.json").json();
    for path in [
        "/nevisidm/api/scim/v1/{clientExtId}/Users",
        "/nevisidm/api/scim/v1/{clientExtId}/Users/{id}",
        "/nevisidm/api/scim/v1/{clientExtId}/Users/.search",
        "/nevisidm/api/scim/v1/{clientExtId}/ServiceProviderConfig",
        "/nevisidm/api/scim/v1/{clientExtId}/ResourceTypes/{id}",
        "/nevisidm/api/scim/v1/{clientExtId}/Schemas",
    ] {
        let item = &doc["paths"][path];
        assert!(item.is_object(), "{path} documented");
        for op in item.as_object().unwrap().values() {
            assert_eq!(op["tags"], json!(["scim"]), "{path}");
        }
    }
    assert!(doc["components"]["schemas"]["ScimError"].is_object());
}

on_both_backends!(
    entra_id_provisioning_cycle,
    rfc_7643_full_user_is_mapped,
    okta_pages_and_puts_whole_users,
    filters_are_evaluated_by_the_database,
    bad_filters_are_400,
    search_and_attributes,
    patch_follows_rfc_7644,
    etags_and_if_match,
    errors_are_scim_errors,
    rights_data_rooms_and_privileged_targets,
    discovery_describes_what_is_supported,
);
