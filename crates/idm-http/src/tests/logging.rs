//! The access log: one line per request with ID, method, route template, status and latency,
//! and nothing secret.

use actix_web::test::TestRequest;
use idm_domain::DomainError;

use super::support::*;

#[actix_rt::test]
async fn one_line_per_request_with_the_route_template_and_no_secrets() {
    super::log_capture::start();

    let mut m = Mocks::new();
    m.users.expect_get_user().returning(|_, _, u| {
        Err(DomainError::UserNotFound {
            user_ext_id: u.to_owned(),
            client_name: "Acme".into(),
        }
        .into())
    });
    let req = authed(TestRequest::get().uri("/nevisidm/api/core/v1/acme/users/private-user-7"))
        .insert_header(("X-Request-Id", "log-test-1"));
    let r = send(m, req).await;
    assert_eq!(r.status, 404);

    let log = super::log_capture::lines();
    let lines: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("log-test-1") && l.contains(" INFO "))
        .collect();
    assert_eq!(lines.len(), 1, "{log}");
    let line = lines[0];
    assert!(line.contains("INFO"), "{line}");
    assert!(line.contains("method=GET"), "{line}");
    assert!(
        line.contains("route=/nevisidm/api/core/v1/{clientExtId}/users/{userExtId}"),
        "{line}"
    );
    assert!(line.contains("status=404"), "{line}");
    assert!(line.contains("latency_ms="), "{line}");
    for secret in ["private-user-7", PASSWORD, "Basic ", "Authorization"] {
        assert!(!log.contains(secret), "log leaks {secret}: {log}");
    }
}

#[actix_rt::test]
async fn internal_errors_are_logged_under_the_request_id() {
    super::log_capture::start();

    let mut m = Mocks::new();
    m.clients
        .expect_get_client()
        .returning(|_, _| Err(idm_ports::AppError::Internal("secret SQL".into())));
    let req = authed(TestRequest::get().uri("/nevisidm/api/core/v1/clients/acme"))
        .insert_header(("X-Request-Id", "log-test-2"));
    let r = send(m, req).await;
    assert_eq!(r.status, 500);
    let log = super::log_capture::lines();
    let error_line = log
        .lines()
        .find(|l| l.contains("ERROR"))
        .unwrap_or_default();
    assert!(error_line.contains("secret SQL"), "{log}");
    assert!(error_line.contains("log-test-2"), "{log}");
}
