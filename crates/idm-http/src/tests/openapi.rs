//! The OpenAPI document (SPEC §9): it lists exactly the routes actix serves, with the Basic
//! scheme, the `X-Token` header and the error envelope; it validates; and the Swagger UI
//! is served from the binary without authentication.

use std::collections::BTreeSet;
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::test::{self, TestRequest};
use idm_ports::telemetry::{LockKind, Telemetry, Verification};
use serde_json::Value;

use super::support::*;
use crate::app;
use crate::routes::registration;

/// Operations that need no authentication (SPEC §7, §9).
const OPEN: &[&str] = &[
    "/health/live",
    "/health/ready",
    "/metrics",
    "/nevisidm/api/openapi.json",
    "/nevisidm/api/docs",
    "/nevisidm/api/docs/{}",
];

/// The self-admin writes (SPEC §3.3).
const X_TOKEN_OPS: &[(&str, &str)] = &[
    ("POST", "/nevisidm/api/core/v1/{}/users/{}/password/reset"),
    ("POST", "/nevisidm/api/core/v1/{}/users/{}/password/change"),
    ("POST", "/nevisidm/api/core/v1/{}/users/{}/oath-credentials"),
    (
        "DELETE",
        "/nevisidm/api/core/v1/{}/users/{}/oath-credentials/{}",
    ),
    ("PATCH", "/nevisidm/api/core/v1/{}/users/{}"),
];

/// Operations any authenticated caller may call: they need no right, so they never answer 403
/// (SPEC §12, the caller itself).
const NO_RIGHTS: &[&str] = &[
    "/nevisidm/api/principal/v1/me",
    "/nevisidm/api/principal/v1/permissions",
];

const METHODS: &[&str] = &[
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

fn document() -> Value {
    serde_json::from_str(crate::openapi::document_json()).expect("the document is JSON")
}

/// `{clientExtId}`, `{extId}`, `{file:[^/]*}` … → `{}`: parameter names and patterns differ
/// between actix templates and OpenAPI paths, their positions must not.
fn normalise(template: &str) -> String {
    let mut out = String::new();
    let mut depth = 0;
    for c in template.chars() {
        match c {
            '{' => {
                if depth == 0 {
                    out.push_str("{}");
                }
                depth += 1;
            }
            '}' => depth -= 1,
            _ if depth > 0 => {}
            _ => out.push(c),
        }
    }
    out
}

/// Every (METHOD, normalised path) of the document, with its operation.
fn operations(doc: &Value) -> Vec<(String, String, String, Value)> {
    let mut ops = Vec::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().expect("path item") {
            if METHODS.contains(&method.as_str()) {
                ops.push((
                    method.to_uppercase(),
                    normalise(path),
                    path.clone(),
                    op.clone(),
                ));
            }
        }
    }
    ops
}

/// Every (METHOD, normalised template) the registration recorded for the fallback.
fn served() -> BTreeSet<(String, String)> {
    registration()
        .routes
        .iter()
        .map(|r| (r.method.to_owned(), normalise(r.template())))
        .collect()
}

/// A concrete URI for an OpenAPI path or actix template: each `{param}` (or
/// `{param:pattern}`) filled with a harmless value.
fn concrete(path: &str) -> String {
    let mut out = String::new();
    let mut rest = path;
    while let Some(start) = rest.find('{') {
        out.push_str(&rest[..start]);
        let end = rest[start..].find('}').expect("closing brace") + start;
        let name = rest[start + 1..end].split(':').next().unwrap_or_default();
        out.push_str(if name == "file" { "index.css" } else { "x-1" });
        rest = &rest[end + 1..];
    }
    out.push_str(rest);
    out
}

/// Status, headers and raw body of one request through the whole app.
async fn call(req: TestRequest) -> (u16, actix_web::http::header::HeaderMap, Vec<u8>) {
    let mut mocks = Mocks::new();
    mocks.health.expect_check().returning(|| Ok(()));
    let service = test::init_service(app(mocks.state())).await;
    let res = test::call_service(&service, req.to_request()).await;
    let status = res.status().as_u16();
    let headers = res.headers().clone();
    let body = test::read_body(res).await.to_vec();
    (status, headers, body)
}

fn header<'a>(headers: &'a actix_web::http::header::HeaderMap, name: &str) -> &'a str {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
}

#[test]
fn the_document_lists_exactly_the_served_routes() {
    let doc = document();
    let documented: BTreeSet<(String, String)> = operations(&doc)
        .into_iter()
        .map(|(m, p, _, _)| (m, p))
        .collect();
    let served = served();
    let missing: Vec<_> = served.difference(&documented).collect();
    let extra: Vec<_> = documented.difference(&served).collect();
    assert!(missing.is_empty(), "served but not documented: {missing:?}");
    assert!(extra.is_empty(), "documented but not served: {extra:?}");
    assert_eq!(
        served.len(),
        registration().routes.len(),
        "a route is registered twice"
    );
}

#[actix_rt::test]
async fn every_documented_operation_is_answered_by_its_route() {
    // Not the route table's word alone: actix itself must route each documented operation
    // (anything but the fallback's 404 `errors.invalidUri` / 405).
    for (method, _, path, _) in operations(&document()) {
        let uri = concrete(&path);
        let req = TestRequest::default()
            .method(method.parse().expect("method"))
            .uri(&uri);
        let (status, _, body) = call(req).await;
        let code = serde_json::from_slice::<Value>(&body)
            .ok()
            .and_then(|v| v["errors"][0]["code"].as_str().map(ToOwned::to_owned));
        assert!(
            status != 405 && code.as_deref() != Some("errors.invalidUri"),
            "{method} {uri}: {status} {code:?}"
        );
    }
}

/// Keeps the route template actix matched for each request.
#[derive(Default)]
struct RouteRecorder(Mutex<Vec<String>>);

impl Telemetry for RouteRecorder {
    fn password_verification(&self, _: Verification) {}
    fn auth_cache_hit(&self) {}
    fn lockout(&self, _: LockKind) {}
    fn http_request(&self, _: &str, route: &str, _: u16, _: Duration) {
        self.0.lock().unwrap().push(route.to_owned());
    }
    fn render(&self) -> String {
        String::new()
    }
}

#[actix_rt::test]
async fn the_fallback_table_holds_the_templates_actix_routes_by() {
    // The 404/405 table is derived from the OpenAPI paths; actix routes by the route macros'
    // templates. Each recorded route must be exactly the template actix matches for it.
    let recorder = Arc::new(RouteRecorder::default());
    let mut mocks = Mocks::new();
    mocks.health.expect_check().returning(|| Ok(()));
    mocks.telemetry = recorder.clone();
    let service = test::init_service(app(mocks.state())).await;
    for route in &registration().routes {
        let req = TestRequest::default()
            .method(route.method.parse().expect("method"))
            .uri(&concrete(route.template()));
        test::call_service(&service, req.to_request()).await;
        let matched = recorder.0.lock().unwrap().pop();
        assert_eq!(
            matched.as_deref(),
            Some(route.template()),
            "{}",
            route.method
        );
    }
}

#[test]
fn operation_ids_are_unique() {
    let mut seen = BTreeSet::new();
    for (method, path, _, op) in operations(&document()) {
        let id = op["operationId"].as_str().unwrap_or_default().to_owned();
        assert!(!id.is_empty(), "{method} {path}: no operationId");
        assert!(seen.insert(id.clone()), "{method} {path}: {id} twice");
    }
}

#[test]
fn the_document_is_openapi_3_1_with_info_and_the_basic_scheme() {
    let doc = document();
    assert!(
        doc["openapi"]
            .as_str()
            .is_some_and(|v| v.starts_with("3.1")),
        "{}",
        doc["openapi"]
    );
    assert_eq!(doc["info"]["title"], "idm");
    assert_eq!(doc["info"]["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(
        doc["components"]["securitySchemes"]["basic"]["type"],
        "http"
    );
    assert_eq!(
        doc["components"]["securitySchemes"]["basic"]["scheme"],
        "basic"
    );
}

#[test]
fn every_api_operation_requires_basic_and_the_operational_ones_nothing() {
    let basic = serde_json::json!([{"basic": []}]);
    for (method, path, _, op) in operations(&document()) {
        if OPEN.contains(&path.as_str()) {
            assert!(op.get("security").is_none(), "{method} {path}: {op}");
        } else {
            assert_eq!(op["security"], basic, "{method} {path}");
            let responses = &op["responses"];
            for status in ["401", "403", "500", "503"] {
                if status == "403" && NO_RIGHTS.contains(&path.as_str()) {
                    assert!(responses.get(status).is_none(), "{method} {path}: 403");
                    continue;
                }
                assert!(responses.get(status).is_some(), "{method} {path}: {status}");
            }
            if op.get("requestBody").is_some() {
                for status in ["400", "413", "415"] {
                    assert!(responses.get(status).is_some(), "{method} {path}: {status}");
                }
            }
        }
    }
}

#[test]
fn exactly_the_self_admin_writes_document_x_token() {
    let mut with_token = BTreeSet::new();
    for (method, path, _, op) in operations(&document()) {
        let params = op["parameters"].as_array().cloned().unwrap_or_default();
        if params
            .iter()
            .any(|p| p["name"] == "X-Token" && p["in"] == "header")
        {
            with_token.insert((method, path));
        }
    }
    let expected: BTreeSet<_> = X_TOKEN_OPS
        .iter()
        .map(|(m, p)| ((*m).to_owned(), (*p).to_owned()))
        .collect();
    assert_eq!(with_token, expected);
}

#[test]
fn every_error_response_is_the_envelope() {
    let doc = document();
    let responses = doc["components"]["responses"]
        .as_object()
        .expect("reusable responses");
    for (method, path, _, op) in operations(&doc) {
        if is_scim(&path) {
            continue;
        }
        for (status, response) in op["responses"].as_object().expect("responses") {
            if !(status.starts_with('4') || status.starts_with('5')) {
                continue;
            }
            let reference = response["$ref"].as_str().unwrap_or_else(|| {
                panic!("{method} {path} {status}: not a reusable error response")
            });
            let name = reference
                .strip_prefix("#/components/responses/")
                .expect("a response reference");
            assert_eq!(
                responses[name]["content"]["application/json"]["schema"]["$ref"],
                "#/components/schemas/ErrorEnvelope",
                "{method} {path} {status}"
            );
        }
    }
    let envelope = &doc["components"]["schemas"]["ErrorEnvelope"];
    assert_eq!(envelope["required"], serde_json::json!(["errors"]));
    assert!(envelope["properties"]["policyViolations"].is_object());
    let item = &doc["components"]["schemas"]["ErrorItem"];
    assert_eq!(item["required"], serde_json::json!(["code", "message"]));
    assert!(item["properties"]["identifier"].is_object());
    assert_eq!(
        responses["Unauthorized"]["headers"]["WWW-Authenticate"]["schema"]["type"],
        "string"
    );
}

#[actix_rt::test]
async fn a_real_error_answer_fits_the_documented_envelope() {
    let doc = document();
    let (status, _, body) = call(TestRequest::get().uri("/nevisidm/api/nope")).await;
    assert_eq!(status, 404);
    let body: Value = serde_json::from_slice(&body).expect("JSON");
    let documented = |schema: &str| -> BTreeSet<String> {
        doc["components"]["schemas"][schema]["properties"]
            .as_object()
            .expect("properties")
            .keys()
            .cloned()
            .collect()
    };
    let top: BTreeSet<String> = body.as_object().expect("object").keys().cloned().collect();
    assert!(top.is_subset(&documented("ErrorEnvelope")), "{body}");
    for item in body["errors"].as_array().expect("errors") {
        let keys: BTreeSet<String> = item.as_object().expect("item").keys().cloned().collect();
        assert!(keys.is_subset(&documented("ErrorItem")), "{body}");
    }
}

#[actix_rt::test]
async fn the_document_is_served_without_authentication() {
    let r = send(
        Mocks::new(),
        TestRequest::get().uri("/nevisidm/api/openapi.json"),
    )
    .await;
    assert_eq!(r.status, 200);
    assert!(r
        .header("content-type")
        .is_some_and(|c| c.starts_with("application/json")));
    assert_eq!(r.json, document());

    let r = send(
        Mocks::new(),
        TestRequest::post().uri("/nevisidm/api/openapi.json"),
    )
    .await;
    r.assert_error(405, "errors.unsupportedOperation", "Method not allowed.");
    assert_eq!(r.header("allow"), Some("GET"));
}

#[actix_rt::test]
async fn the_docs_page_uses_only_local_assets_which_the_app_serves() {
    for uri in ["/nevisidm/api/docs", "/nevisidm/api/docs/"] {
        let (status, headers, body) = call(TestRequest::get().uri(uri)).await;
        assert_eq!(status, 200, "{uri}");
        assert!(header(&headers, "content-type").starts_with("text/html"));
        let html = String::from_utf8(body).expect("UTF-8");
        assert!(html.contains("swagger-ui-bundle.js"), "{html}");
        assert!(
            !html.contains("http://") && !html.contains("https://") && !html.contains("//cdn"),
            "remote asset in {html}"
        );
        assert!(
            html.contains(r#"<base href="/nevisidm/api/docs/">"#),
            "{html}"
        );
    }

    let (status, headers, body) =
        call(TestRequest::get().uri("/nevisidm/api/docs/swagger-ui-bundle.js")).await;
    assert_eq!(status, 200);
    assert!(header(&headers, "content-type").contains("javascript"));
    assert!(body.len() > 100_000, "{} bytes", body.len());

    let (status, _, body) = call(TestRequest::get().uri("/nevisidm/api/docs/swagger-ui.css")).await;
    assert_eq!(status, 200);
    assert!(!body.is_empty());

    // The initializer points at this document and at no online validator.
    let (status, _, body) =
        call(TestRequest::get().uri("/nevisidm/api/docs/swagger-initializer.js")).await;
    assert_eq!(status, 200);
    let js = String::from_utf8(body).expect("UTF-8");
    assert!(js.contains("/nevisidm/api/openapi.json"), "{js}");
    assert!(js.contains(r#""validatorUrl": "none""#), "{js}");
    assert!(!js.contains("http://") && !js.contains("https://"), "{js}");
}

#[actix_rt::test]
async fn docs_routes_answer_404_and_405_like_every_route() {
    let r = send(
        Mocks::new(),
        TestRequest::get().uri("/nevisidm/api/docs/no-such-file.js"),
    )
    .await;
    r.assert_error(404, "errors.invalidUri", "Unknown resource.");
    let r = send(
        Mocks::new(),
        TestRequest::get().uri("/nevisidm/api/docs/a/b.js"),
    )
    .await;
    r.assert_error(404, "errors.invalidUri", "Unknown resource.");
    for uri in ["/nevisidm/api/docs", "/nevisidm/api/docs/index.css"] {
        let r = send(Mocks::new(), TestRequest::post().uri(uri)).await;
        r.assert_error(405, "errors.unsupportedOperation", "Method not allowed.");
        assert_eq!(r.header("allow"), Some("GET"));
    }
}

/// Validates the document with `openapi-spec-validator` (installed by `make
/// openapi-validator`). Under `CI=true` a missing validator fails the test.
#[test]
fn the_document_validates() {
    let importable = Command::new("python3")
        .args(["-c", "import openapi_spec_validator"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !importable {
        let ci = std::env::var("CI").is_ok_and(|v| v == "true" || v == "1");
        assert!(
            !ci,
            "openapi-spec-validator is not importable by python3; run `make openapi-validator`"
        );
        eprintln!("SKIPPED: openapi-spec-validator not installed (make openapi-validator)");
        return;
    }
    let file = std::env::temp_dir().join(format!("idm-openapi-{}.json", std::process::id()));
    std::fs::write(&file, crate::openapi::document_json()).expect("write the document");
    let out = Command::new("python3")
        .args([
            "-c",
            "from openapi_spec_validator import validate; import json, sys; \
             validate(json.load(open(sys.argv[1])))",
        ])
        .arg(&file)
        .output()
        .expect("run python3");
    let _ = std::fs::remove_file(&file);
    assert!(
        out.status.success(),
        "the document does not validate:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Bodiless writes with rules of their own (a 422 besides the path's lookups): deleting oneself
/// or the last Root, revoking the last Root, a self-admin write without `X-Token`, resetting a
/// disabled password, assigning a VASCO credential that is assigned elsewhere.
const BODILESS_WRITES_WITH_RULES: &[&str] = &[
    "deleteUser",
    "revokeRole",
    "deleteOath",
    "resetPassword",
    "assignVasco",
];

/// SCIM (SPEC §14) answers with its own error schema, not the envelope; its operations are
/// checked by the SCIM tests.
fn is_scim(path: &str) -> bool {
    path.starts_with("/nevisidm/api/scim/")
}

/// The statuses an operation can answer besides its successes, from what it does (SPEC §2,
/// §3.4): authentication (401, 500, 503), rights (403), the path's lookups (404), a body
/// (400, 413, 415, 422), paging (422), a write (409: a stale `version` or a concurrent change).
fn expected_error_statuses(method: &str, path: &str, op: &Value) -> BTreeSet<&'static str> {
    let mut expected = BTreeSet::from(["401", "500", "503"]);
    if !NO_RIGHTS.contains(&path) {
        expected.insert("403");
    }
    if path.contains("{}") || path == "/nevisidm/api/principal/v1/me" {
        expected.insert("404");
    }
    if op.get("requestBody").is_some() {
        expected.extend(["400", "413", "415", "422"]);
    }
    let params = op["parameters"].as_array().cloned().unwrap_or_default();
    if params.iter().any(|p| p["name"] == "limit") {
        expected.insert("422");
    }
    if method != "GET" {
        expected.insert("409");
    }
    if BODILESS_WRITES_WITH_RULES.contains(&op["operationId"].as_str().unwrap_or_default()) {
        expected.insert("422");
    }
    expected
}

#[test]
fn every_operation_documents_exactly_the_statuses_it_can_answer() {
    for (method, path, _, op) in operations(&document()) {
        if OPEN.contains(&path.as_str()) || is_scim(&path) {
            continue;
        }
        let documented: BTreeSet<&str> = op["responses"]
            .as_object()
            .expect("responses")
            .keys()
            .map(String::as_str)
            .filter(|s| s.starts_with('4') || s.starts_with('5'))
            .collect();
        assert_eq!(
            documented,
            expected_error_statuses(&method, &path, &op),
            "{method} {path}"
        );
        for success in op["responses"].as_object().expect("responses").keys() {
            assert!(
                !success.starts_with('2') || ["200", "201", "204"].contains(&success.as_str()),
                "{method} {path}: {success}"
            );
        }
    }
    let ready = &document()["paths"]["/health/ready"]["get"]["responses"];
    assert!(ready.get("503").is_some());
}

/// Resolves a local `$ref` of the document.
fn resolve<'a>(doc: &'a Value, schema: &'a Value) -> &'a Value {
    match schema["$ref"].as_str() {
        Some(reference) => {
            let name = reference
                .strip_prefix("#/components/schemas/")
                .expect("a schema reference");
            resolve(doc, &doc["components"]["schemas"][name])
        }
        None => schema,
    }
}

/// The non-null alternative of a `oneOf: [null, X]` property, else the property.
fn non_null<'a>(doc: &'a Value, schema: &'a Value) -> &'a Value {
    if let Some(items) = schema["oneOf"].as_array() {
        if let Some(other) = items.iter().find(|s| s["type"] != "null") {
            return resolve(doc, other);
        }
    }
    resolve(doc, schema)
}

fn request_schema<'a>(doc: &'a Value, path: &str, method: &str) -> &'a Value {
    let body = &doc["paths"][path][method]["requestBody"]["content"]["application/json"]["schema"];
    assert!(!body.is_null(), "{method} {path}: no JSON body");
    resolve(doc, body)
}

#[test]
fn request_bodies_state_required_fields_patterns_and_enums() {
    use crate::dto::values;
    let doc = document();
    let api = "/nevisidm/api/core/v1";
    // The issue's example: `{"extId": "", "name": null}` is refused, so the schema refuses it.
    let client = request_schema(&doc, &format!("{api}/clients"), "post");
    assert_eq!(client["required"], serde_json::json!(["name"]));
    assert_eq!(
        resolve(&doc, &client["properties"]["name"])["pattern"],
        values::DISPLAY_NAME
    );
    assert_eq!(
        non_null(&doc, &client["properties"]["extId"])["pattern"],
        values::EXT_ID
    );
    assert_eq!(values::EXT_ID, "^[A-Za-z0-9._@:-]{1,255}$");

    let user = request_schema(&doc, &format!("{api}/{{clientExtId}}/users"), "post");
    assert_eq!(user["required"], serde_json::json!(["loginId"]));
    assert_eq!(
        non_null(&doc, &user["properties"]["userState"])["enum"],
        serde_json::json!(["active", "disabled", "archived"])
    );
    assert_eq!(
        non_null(&doc, &user["properties"]["languageCode"])["enum"],
        serde_json::json!(["EN", "DE", "FR", "IT"])
    );
    // A PATCH refuses `null` for loginId and userState: not nullable there.
    let patch = request_schema(
        &doc,
        &format!("{api}/{{clientExtId}}/users/{{userExtId}}"),
        "patch",
    );
    assert!(patch.get("required").is_none());
    assert_eq!(
        resolve(&doc, &patch["properties"]["userState"])["enum"],
        serde_json::json!(["active", "disabled", "archived"])
    );
    assert_eq!(
        resolve(&doc, &patch["properties"]["loginId"])["pattern"],
        values::LOGIN_ID
    );

    let grant = request_schema(
        &doc,
        &format!("{api}/{{clientExtId}}/users/{{userExtId}}/roles"),
        "post",
    );
    assert_eq!(grant["required"], serde_json::json!(["role"]));
    assert_eq!(
        resolve(&doc, &grant["properties"]["role"])["enum"],
        serde_json::json!(["Root", "ClientRoot", "UserAdmin", "Helpdesk", "SelfAdmin"])
    );

    // One schema per policy type, each with its own parameters.
    let policy = request_schema(&doc, &format!("{api}/{{clientExtId}}/policies"), "post");
    let branches = policy["oneOf"]
        .as_array()
        .expect("one object per policy type");
    let types: Vec<&Value> = branches
        .iter()
        .map(|b| &b["properties"]["policyType"]["enum"][0])
        .collect();
    assert_eq!(
        types,
        [
            &serde_json::json!("PwdPolicy"),
            &serde_json::json!("VascoPolicy"),
            &serde_json::json!("OathPolicy")
        ]
    );
    for branch in branches {
        assert_eq!(
            branch["required"],
            serde_json::json!(["name", "policyType"])
        );
        let params = non_null(&doc, &branch["properties"]["parameters"]);
        assert_eq!(params["additionalProperties"], false, "{branch}");
    }

    let vasco = request_schema(&doc, &format!("{api}/{{clientExtId}}/vasco"), "post");
    assert_eq!(vasco["required"], serde_json::json!(["vascoTokens"]));
    assert_eq!(vasco["properties"]["vascoTokens"]["minItems"], 1);

    let info = request_schema(
        &doc,
        &format!("{api}/{{clientExtId}}/users/{{userExtId}}/bulk-login-info"),
        "post",
    );
    assert_eq!(info["required"], serde_json::json!(["userLoginSuccessful"]));

    // Paging: `limit` 1–1000 and a token pattern the server accepts every match of.
    let list = &doc["paths"][format!("{api}/clients")]["get"]["parameters"];
    let param = |name: &str| {
        list.as_array()
            .expect("parameters")
            .iter()
            .find(|p| p["name"] == name)
            .map(|p| resolve(&doc, &p["schema"]).clone())
            .expect("parameter")
    };
    assert_eq!(
        (
            param("limit")["minimum"].clone(),
            param("limit")["maximum"].clone()
        ),
        (1.into(), 1000.into())
    );
    assert_eq!(
        param("continuationToken")["pattern"],
        values::CONTINUATION_TOKEN
    );
}

/// Whether every value of `schema` has `property`: its own, an `allOf` part's, or every
/// `oneOf` branch's.
fn has_property(doc: &Value, schema: &Value, property: &str) -> bool {
    let schema = resolve(doc, schema);
    schema["properties"].get(property).is_some()
        || schema["allOf"]
            .as_array()
            .is_some_and(|parts| parts.iter().any(|p| has_property(doc, p, property)))
        || schema["oneOf"]
            .as_array()
            .is_some_and(|branches| branches.iter().all(|b| has_property(doc, b, property)))
}

#[test]
fn links_lead_from_every_create_to_existing_operations_and_parameters() {
    let doc = document();
    let ops: Vec<(String, String, String, Value)> = operations(&doc);
    let by_id = |id: &str| {
        ops.iter()
            .find(|(_, _, _, op)| op["operationId"] == id)
            .unwrap_or_else(|| panic!("no operation {id}"))
    };
    for spec in crate::openapi::LINKS {
        let (_, _, _, from) = by_id(spec.from);
        let response = &from["responses"][spec.status];
        assert!(!response.is_null(), "{} has no {}", spec.from, spec.status);
        let link = &response["links"][spec.to];
        assert_eq!(link["operationId"], spec.to, "{} → {}", spec.from, spec.to);
        let (_, _, _, to) = by_id(spec.to);
        let target_params = to["parameters"].as_array().cloned().unwrap_or_default();
        for (name, expression) in spec.params {
            let (location, name) = name.split_once('.').unwrap_or(("path", name));
            assert!(
                target_params
                    .iter()
                    .any(|p| p["name"] == name && p["in"] == location),
                "{} → {}: no {location} parameter {name}",
                spec.from,
                spec.to
            );
            assert_eq!(
                link["parameters"][format!("{location}.{name}").trim_start_matches("path.")],
                *expression
            );
            if let Some(property) = expression.strip_prefix("$response.body#/") {
                let body = &response["content"]["application/json"]["schema"];
                assert!(
                    has_property(&doc, body, property),
                    "{} {}: no property {property}",
                    spec.from,
                    spec.status
                );
            }
        }
    }
    // Every create links onward, and every created record's reads, changes and deletes are
    // reached from its create.
    for (method, path, _, op) in &ops {
        let creates = op["responses"]["201"]["headers"].get("Location").is_some();
        if method == "POST" && creates && !is_scim(path) {
            let id = op["operationId"].as_str().unwrap_or_default();
            assert!(
                crate::openapi::LINKS.iter().any(|l| l.from == id),
                "{id} ({method} {path}) links nowhere"
            );
        }
    }
    let reached = |from: &str, to: &str| {
        crate::openapi::LINKS
            .iter()
            .any(|l| l.from == from && l.to == to)
    };
    for (from, targets) in [
        (
            "createClient",
            &["getClient", "patchClient", "listUsers", "listEvents"][..],
        ),
        (
            "createUser",
            &[
                "getUser",
                "patchUser",
                "deleteUser",
                "grantRole",
                "listRoles",
                "createPassword",
                "createOath",
                "listCredentials",
                "userHistory",
                "bulkLoginInfo",
            ][..],
        ),
        ("grantRole", &["revokeRole"][..]),
        ("createPolicy", &["getPolicy", "patchPolicy"][..]),
        (
            "createPassword",
            &[
                "getPassword",
                "patchPassword",
                "resetPassword",
                "changePassword",
                "unlockPassword",
                "passwordLogin",
            ][..],
        ),
        (
            "createOath",
            &["getOath", "deleteOath", "oathLogin", "oathResync"][..],
        ),
        (
            "createVasco",
            &["getVasco", "assignVasco", "unassignVasco"][..],
        ),
    ] {
        for to in targets {
            assert!(reached(from, to), "{from} → {to}");
        }
    }
}

/// Characters that tell the patterns apart: extId characters, separators, every kind of white
/// space `str::trim` strips, control characters inside and outside ASCII, other letters.
const PROBE_CHARS: &[char] = &[
    'a', 'Z', '0', '9', '.', '_', '@', ':', '-', '/', '~', '+', '=', '|', ' ', '\t', '\n', '\r',
    '\u{0}', '\u{1F}', '\u{7F}', '\u{85}', '\u{9F}', '\u{A0}', '\u{2003}', '\u{3000}', '\u{1C}',
    'é', '中', '😀', 'A', 'E', 'Q', 'g', 'w', '4',
];

/// Deterministic sample strings: every probe character alone and in pairs, short random
/// mixes, and strings around the 255-character limits.
fn probe_strings(extra: &[&str]) -> Vec<String> {
    let mut out: Vec<String> = vec![String::new()];
    out.extend(extra.iter().map(|s| (*s).to_owned()));
    for a in PROBE_CHARS {
        out.push(a.to_string());
        for b in PROBE_CHARS {
            out.push(format!("{a}{b}"));
            out.push(format!("x{a}{b}y"));
        }
    }
    let mut seed: u64 = 0x5eed_1234_abcd_ef01;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    for _ in 0..3000 {
        let len = (next() % 9) as usize;
        out.push(
            (0..len)
                .map(|_| PROBE_CHARS[(next() % PROBE_CHARS.len() as u64) as usize])
                .collect(),
        );
    }
    for n in [252, 253, 254, 255, 256, 257] {
        out.push("a".repeat(n));
        out.push(format!(" {} ", "b".repeat(n)));
        out.push(format!("{}@example.com", "c".repeat(n.saturating_sub(12))));
        out.push("ab".repeat(n / 2));
    }
    out
}

/// One pattern and what the domain says of each sample.
struct PatternCase {
    name: String,
    pattern: String,
    max_length: Option<usize>,
    samples: Vec<(String, bool)>,
}

fn case(
    name: &str,
    pattern: &str,
    max_length: Option<usize>,
    samples: Vec<String>,
    accepted: impl Fn(&str) -> bool,
) -> PatternCase {
    PatternCase {
        name: name.to_owned(),
        pattern: pattern.to_owned(),
        max_length,
        samples: samples
            .into_iter()
            .map(|s| {
                let ok = accepted(&s);
                (s, ok)
            })
            .collect(),
    }
}

/// The value of a policy parameter accepted on its own: the other side of a cross-parameter
/// rule is set out of its way.
fn parameter_accepted(
    policy_type: idm_domain::policy::PolicyType,
    name: &str,
    value: &str,
) -> bool {
    let mut given = std::collections::BTreeMap::new();
    given.insert(name.to_owned(), value.to_owned());
    let other = match name {
        "minLength" => Some(("maxLength", "1024")),
        "maxLength" => Some(("minLength", "1")),
        "generatedLength" => Some(("fragmentLength", "0")),
        "fragmentLength" => Some(("generatedLength", "256")),
        _ => None,
    };
    if let Some((k, v)) = other {
        given.insert(k.to_owned(), v.to_owned());
    }
    idm_domain::policy::PolicyParameters::validated(policy_type, given).is_ok()
}

/// Every pattern of the document, read as Schemathesis reads it (Python `re`, a closing `$`
/// as the end of the string), accepts exactly what the domain check it restates accepts.
#[test]
fn value_patterns_accept_exactly_what_the_server_accepts() {
    use crate::dto::values::{self, ParamForm};
    use idm_domain::policy::PolicyType;

    if Command::new("python3").arg("--version").output().is_err() {
        let ci = std::env::var("CI").is_ok_and(|v| v == "true" || v == "1");
        assert!(!ci, "python3 is needed to check the patterns");
        eprintln!("SKIPPED: no python3");
        return;
    }
    // Lengths count characters, as `maxLength` does: 254 of them, twice as many bytes.
    let long_email = format!("{}@example.com", "é".repeat(242));
    let too_long_email = format!("é{long_email}");
    let mut cases = vec![
        case(
            "extId",
            values::EXT_ID,
            None,
            probe_strings(&["client-123", "a b"]),
            idm_domain::ExtId::is_valid,
        ),
        case(
            "name",
            values::DISPLAY_NAME,
            None,
            probe_strings(&["Acme", " Acme ", "\tA\u{3000}", "A\tB"]),
            |s| idm_domain::policy::validate_name(s).is_ok(),
        ),
        case(
            "loginId",
            values::LOGIN_ID,
            None,
            probe_strings(&["jdoe", " jdoe", "a/b", "a:b"]),
            |s| idm_domain::user::validate_login_id(s).is_ok(),
        ),
        case(
            "text",
            values::FREE_TEXT,
            None,
            probe_strings(&["Jane"]),
            |s| idm_domain::user::validate_text("t", Some(s.to_owned())).is_ok(),
        ),
        case(
            "email",
            values::EMAIL,
            Some(values::EMAIL_MAX),
            probe_strings(&[
                &long_email,
                &too_long_email,
                "jane@example.com",
                "a@b.c",
                "a@b",
                "a@.b",
                "a@b.",
                "a@b..c",
                "@b.c",
                "a@b@c.d",
                "é@中.de",
            ]),
            |s| idm_domain::user::validate_email(s).is_ok(),
        ),
        case(
            "continuationToken",
            values::CONTINUATION_TOKEN,
            None,
            probe_strings(&[
                "1700000000.123456789~cred-1",
                "1.000000000~a",
                "1.00000000~a",
                "99999999999.000000000~x",
                "999999999999.000000000~x",
                "1.000000000~a b",
            ]),
            |s| s.is_empty() || crate::dto::page::decode_token(s).is_ok(),
        ),
        case(
            "vascoData",
            values::BASE64,
            None,
            probe_strings(&[
                "AAEC", "AAE=", "AAE", "AA==", "AA", "AB", "AAF", "AA=", "A", "AAECAw==", "+/+/",
                "AAEC====",
            ]),
            |s| {
                idm_domain::vasco::validate_tokens(&[idm_domain::credential::VascoToken {
                    auth_mode: "CR".into(),
                    data: s.to_owned(),
                }])
                .is_ok()
            },
        ),
    ];
    for policy_type in PolicyType::ALL {
        let names: BTreeSet<String> = values::params_of(policy_type)
            .iter()
            .map(|(n, _)| (*n).to_owned())
            .collect();
        let defaults = idm_domain::policy::PolicyParameters::defaults(policy_type).effective();
        assert_eq!(
            names,
            defaults.keys().cloned().collect::<BTreeSet<_>>(),
            "the parameters of {policy_type:?}"
        );
        for (name, form) in values::params_of(policy_type) {
            let schema = serde_json::to_value(form.schema(None).build()).expect("JSON");
            let mut extra: Vec<String> = [
                "-1",
                "-0",
                "0",
                "1",
                "+1",
                "01",
                "2",
                "3",
                "4",
                "5",
                "6",
                "7",
                "8",
                "9",
                "10",
                "11",
                "99",
                "100",
                "101",
                "255",
                "256",
                "257",
                "999",
                "1000",
                "1001",
                "1023",
                "1024",
                "1025",
                "3599",
                "3600",
                "3601",
                "999999",
                "1000000",
                "1000001",
                "3153600000000",
                "3153600000001",
                "9999999999999",
                "true",
                "false",
                "True",
                "SHA1",
                "SHA256",
                "sha1",
                "totp",
                "hotp",
                "loginid",
                "email",
                "nevisIDM",
                "ab",
                "abc",
                "aa",
                "a b",
                "!~",
                "ABCDEFGH",
                "9223372036854775807",
                "9223372036854775808",
            ]
            .iter()
            .map(|s| (*s).to_owned())
            .collect();
            if let Some(default) = defaults.get(name) {
                extra.push(default.clone());
            }
            let extra: Vec<&str> = extra.iter().map(String::as_str).collect();
            let accepted = |s: &str| parameter_accepted(policy_type, name, s);
            match form {
                ParamForm::Bool | ParamForm::OneOf(_) => {
                    let allowed: Vec<String> = schema["enum"]
                        .as_array()
                        .expect("enum")
                        .iter()
                        .map(|v| v.as_str().expect("string").to_owned())
                        .collect();
                    for s in probe_strings(&extra) {
                        assert_eq!(allowed.contains(&s), accepted(&s), "{name}: {s:?}");
                    }
                }
                _ => cases.push(case(
                    &format!("{policy_type:?}.{name}"),
                    schema["pattern"].as_str().expect("pattern"),
                    schema["maxLength"].as_u64().map(|n| n as usize),
                    probe_strings(&extra),
                    accepted,
                )),
            }
        }
    }

    let input: Vec<Value> = cases
        .iter()
        .map(|c| {
            serde_json::json!({
                "name": c.name,
                "pattern": c.pattern,
                "maxLength": c.max_length,
                "samples": c.samples.iter().map(|(s, _)| s).collect::<Vec<_>>(),
                "expected": c.samples.iter().map(|(_, ok)| ok).collect::<Vec<_>>(),
            })
        })
        .collect();
    let file = std::env::temp_dir().join(format!("idm-patterns-{}.json", std::process::id()));
    std::fs::write(&file, serde_json::to_string(&input).expect("JSON")).expect("write");
    let out = Command::new("python3")
        .args([
            "-c",
            r#"
import json, re, sys
bad = []
for c in json.load(open(sys.argv[1])):
    p = c["pattern"]
    if p.endswith("$"):
        p = p[:-1] + r"\Z"
    r = re.compile(p)
    for s, ok in zip(c["samples"], c["expected"]):
        got = r.search(s) is not None and (c["maxLength"] is None or len(s) <= c["maxLength"])
        if got != ok:
            bad.append("%s: %r schema %s, server %s" % (c["name"], s, got, ok))
print("\n".join(bad[:40]))
sys.exit(1 if bad else 0)
"#,
        ])
        .arg(&file)
        .output()
        .expect("run python3");
    let _ = std::fs::remove_file(&file);
    assert!(
        out.status.success(),
        "patterns and server disagree:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn every_reference_resolves() {
    fn walk(doc: &Value, value: &Value, missing: &mut Vec<String>) {
        match value {
            Value::Object(map) => {
                for (key, inner) in map {
                    if key == "$ref" {
                        let reference = inner.as_str().unwrap_or_default();
                        let target = reference
                            .strip_prefix("#/")
                            .map(|p| p.split('/').fold(doc, |v, part| &v[part]));
                        if target.is_none_or(Value::is_null) {
                            missing.push(reference.to_owned());
                        }
                    } else {
                        walk(doc, inner, missing);
                    }
                }
            }
            Value::Array(items) => items.iter().for_each(|v| walk(doc, v, missing)),
            _ => {}
        }
    }
    let doc = document();
    let mut missing = Vec::new();
    walk(&doc, &doc, &mut missing);
    assert!(missing.is_empty(), "unresolved: {missing:?}");
}
