//! SPEC §9 `GET /metrics` and the per-request telemetry report: route templates (never the raw
//! path), statuses, and the caller's extIds on the access line without any secret.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::test::{self, TestRequest};
use idm_domain::DomainError;
use idm_ports::telemetry::{LockKind, Telemetry, Verification};

use super::support::*;
use crate::app;

/// Records every HTTP report; renders a fixed text.
#[derive(Default)]
struct Recorder {
    requests: Mutex<Vec<(String, String, u16)>>,
}

impl Recorder {
    fn requests(&self) -> Vec<(String, String, u16)> {
        self.requests.lock().unwrap().clone()
    }
}

const RENDERED: &str = "# TYPE idm_auth_cache_hits_total counter\nidm_auth_cache_hits_total 3\n";

impl Telemetry for Recorder {
    fn password_verification(&self, _: Verification) {}
    fn auth_cache_hit(&self) {}
    fn lockout(&self, _: LockKind) {}
    fn http_request(&self, method: &str, route: &str, status: u16, _: Duration) {
        self.requests
            .lock()
            .unwrap()
            .push((method.to_owned(), route.to_owned(), status));
    }
    fn render(&self) -> String {
        RENDERED.to_owned()
    }
}

fn mocks_with(recorder: &Arc<Recorder>) -> Mocks {
    let mut m = Mocks::new();
    m.telemetry = recorder.clone();
    m
}

#[actix_rt::test]
async fn metrics_answers_the_rendering_as_prometheus_text_without_authentication() {
    let recorder = Arc::new(Recorder::default());
    let mut m = mocks_with(&recorder);
    m.auth = idm_ports::usecases::MockCallerAuthenticator::new();
    m.auth.expect_authenticate().never();
    let service = test::init_service(app(m.state())).await;
    let res = test::call_service(&service, TestRequest::get().uri("/metrics").to_request()).await;
    assert_eq!(res.status(), 200);
    let content_type = res
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert!(
        content_type.starts_with("text/plain; version=0.0.4"),
        "{content_type}"
    );
    assert!(res.headers().contains_key("x-request-id"));
    let body = test::read_body(res).await;
    assert_eq!(body, RENDERED.as_bytes());
    // The scrape itself is reported under its own template.
    assert_eq!(
        recorder.requests(),
        vec![("GET".to_owned(), "/metrics".to_owned(), 200)]
    );
}

#[actix_rt::test]
async fn metrics_accepts_only_get() {
    let recorder = Arc::new(Recorder::default());
    let r = send(mocks_with(&recorder), TestRequest::post().uri("/metrics")).await;
    r.assert_error(405, "errors.unsupportedOperation", "Method not allowed.");
    assert_eq!(r.header("allow"), Some("GET"));
}

#[actix_rt::test]
async fn each_request_reports_its_route_template_and_status_never_the_raw_path() {
    let recorder = Arc::new(Recorder::default());
    let mut m = mocks_with(&recorder);
    m.users.expect_get_user().returning(|_, _, u| {
        Err(DomainError::UserNotFound {
            user_ext_id: u.to_owned(),
            client_name: "Acme".into(),
        }
        .into())
    });
    let service = test::init_service(app(m.state())).await;
    for req in [
        authed(TestRequest::get().uri("/nevisidm/api/core/v1/acme/users/private-user-7")),
        TestRequest::get().uri("/nevisidm/api/core/v1/acme/users/private-user-7"),
        TestRequest::get().uri("/nevisidm/api/nothing/here/private-user-7"),
        TestRequest::get().uri("/health/live"),
    ] {
        test::call_service(&service, req.to_request()).await;
    }
    let user = "/nevisidm/api/core/v1/{clientExtId}/users/{userExtId}";
    let got = recorder.requests();
    let want: Vec<(String, String, u16)> = vec![
        ("GET".into(), user.into(), 404),
        ("GET".into(), user.into(), 401),
        ("GET".into(), "<unmatched>".into(), 404),
        ("GET".into(), "/health/live".into(), 200),
    ];
    assert_eq!(got, want);
    assert!(got.iter().all(|(_, route, _)| !route.contains("private")));
}

fn access_line(log: &str, request_id: &str) -> String {
    let lines: Vec<&str> = log
        .lines()
        .filter(|l| l.contains(request_id) && l.contains(" INFO "))
        .collect();
    assert_eq!(lines.len(), 1, "{log}");
    lines[0].to_owned()
}

#[actix_rt::test]
async fn the_access_line_carries_the_callers_ext_ids_but_no_secret() {
    super::log_capture::start();
    let mut m = Mocks::new();
    m.clients.expect_get_client().returning(|_, _| Ok(client()));
    let req = authed(TestRequest::get().uri("/nevisidm/api/core/v1/clients/acme"))
        .insert_header(("X-Request-Id", "metrics-log-1"));
    let r = send(m, req).await;
    assert_eq!(r.status, 200);
    let log = super::log_capture::lines();
    let line = access_line(&log, "metrics-log-1");
    assert!(
        line.contains("route=/nevisidm/api/core/v1/clients/{extId}"),
        "{line}"
    );
    assert!(line.contains("status=200"), "{line}");
    // The caller of `caller()`: client `default`, user `admin`.
    assert!(line.contains("client_ext_id=default"), "{line}");
    assert!(line.contains("user_ext_id=admin"), "{line}");
    for secret in [PASSWORD, LOGIN, "Basic ", "Authorization", "u-1"] {
        assert!(!log.contains(secret), "log leaks {secret}: {log}");
    }
}

#[actix_rt::test]
async fn a_request_that_did_not_authenticate_names_no_caller() {
    super::log_capture::start();
    let mut auth = idm_ports::usecases::MockCallerAuthenticator::new();
    auth.expect_authenticate()
        .returning(|_, _, _| Err(DomainError::AuthenticationFailed.into()));
    let req = TestRequest::get()
        .uri("/nevisidm/api/core/v1/clients/acme")
        .insert_header(("Authorization", basic(LOGIN, "wrong-pw")))
        .insert_header(("X-Request-Id", "metrics-log-2"));
    let r = send(Mocks::with_auth(auth), req).await;
    assert_eq!(r.status, 401);
    let log = super::log_capture::lines();
    let line = access_line(&log, "metrics-log-2");
    assert!(line.contains("status=401"), "{line}");
    assert!(!line.contains("client_ext_id="), "{line}");
    assert!(!line.contains("user_ext_id="), "{line}");
    assert!(!log.contains("wrong-pw"), "{log}");
}
