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
