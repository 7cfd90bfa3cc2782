//! `/health/live` and `/health/ready`.

use actix_web::test::TestRequest;
use idm_ports::StoreError;
use serde_json::json;

use super::support::*;

#[actix_rt::test]
async fn live_is_up_without_authentication() {
    let r = send(Mocks::new(), TestRequest::get().uri("/health/live")).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json, json!({"status": "UP"}));
}

#[actix_rt::test]
async fn ready_is_up_when_the_database_answers() {
    let mut m = Mocks::new();
    m.health.expect_check().times(1).returning(|| Ok(()));
    let r = send(m, TestRequest::get().uri("/health/ready")).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json, json!({"status": "UP"}));
}

#[actix_rt::test]
async fn ready_is_503_when_the_database_does_not_answer() {
    let mut m = Mocks::new();
    m.health
        .expect_check()
        .times(1)
        .returning(|| Err(StoreError::Other("connection refused to 10.0.0.5".into())));
    let r = send(m, TestRequest::get().uri("/health/ready")).await;
    r.assert_error(503, "errors.fatalError", "Service temporarily unavailable.");
    assert_eq!(r.header("retry-after"), Some("1"));
    assert!(!r.raw.contains("10.0.0.5"));
}

#[actix_rt::test]
async fn health_routes_answer_405_to_other_methods() {
    let r = send(Mocks::new(), TestRequest::post().uri("/health/ready")).await;
    r.assert_error(405, "errors.unsupportedOperation", "Method not allowed.");
    assert_eq!(r.header("allow"), Some("GET"));
}
