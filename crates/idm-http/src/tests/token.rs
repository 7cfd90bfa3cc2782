//! `POST /principal/v1/token` (SPEC §6.3).

use actix_web::test::TestRequest;
use idm_domain::DomainError;
use idm_ports::auth::IssuedToken;
use idm_ports::usecases::TokenRequest;
use idm_ports::AppError;
use serde_json::json;

use super::support::*;
use crate::body::BodyRejection;

const TOKEN: &str = "/nevisidm/api/principal/v1/token";
const JWT: &str = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhZG1pbiJ9.c2lnbmF0dXJl";
const BODY: &str = r#"{"username":"admin","password":"hunter2-pw","grant_type":"password"}"#;

fn request() -> TokenRequest {
    TokenRequest {
        username: Some("admin".into()),
        password: Some("hunter2-pw".into()),
        grant_type: Some("password".into()),
    }
}

/// Mocks whose token use case expects the test caller and [`request`], and answers `answer`.
fn expecting(answer: Result<IssuedToken, AppError>) -> Mocks {
    let mut m = Mocks::new();
    m.tokens
        .expect_issue_token()
        .withf(|c, r| *c == caller() && *r == Ok(request()))
        .times(1)
        .return_once(move |_, _| answer);
    m
}

fn post(body: &str) -> TestRequest {
    json_req(TestRequest::post().uri(TOKEN), body)
}

#[actix_rt::test]
async fn issues_the_token_with_no_store_headers() {
    let m = expecting(Ok(IssuedToken {
        token: JWT.into(),
        expires_in: 3600,
    }));
    let r = send(m, post(BODY)).await;
    assert_eq!(r.status, 200, "{}", r.raw);
    assert_eq!(
        r.json,
        json!({"access_token": JWT, "token_type": "bearer", "expires_in": 3600})
    );
    assert_eq!(r.header("cache-control"), Some("no-store"));
    assert_eq!(r.header("pragma"), Some("no-cache"));
    assert!(r
        .header("content-type")
        .is_some_and(|c| c.starts_with("application/json")));
    assert!(!r.raw.contains("hunter2-pw"));
}

#[actix_rt::test]
async fn unknown_fields_and_nulls_are_ignored() {
    let mut m = Mocks::new();
    m.tokens
        .expect_issue_token()
        .withf(|_, r| {
            *r == Ok(TokenRequest {
                username: Some("admin".into()),
                ..TokenRequest::default()
            })
        })
        .times(1)
        .returning(|_, _| {
            Err(
                DomainError::InvalidParameter("The grant_type should not be null or empty.".into())
                    .into(),
            )
        });
    let r = send(
        m,
        post(r#"{"username":"admin","password":null,"grantType":"password","x":[1]}"#),
    )
    .await;
    assert_eq!(r.status, 422, "{}", r.raw);
}

#[actix_rt::test]
async fn without_authorization_is_401_and_no_use_case_runs() {
    let req = TestRequest::post()
        .uri(TOKEN)
        .insert_header(("Content-Type", "application/json"))
        .set_payload(BODY);
    let r = send(Mocks::new(), req).await;
    r.assert_error(401, "errors.userLoginFailed", "Authentication required.");
    assert_eq!(
        r.header("www-authenticate"),
        Some("Basic realm=\"nevisIDM\"")
    );
}

#[actix_rt::test]
async fn a_caller_without_self_admin_is_403() {
    let r = send(
        expecting(Err(DomainError::MissingSelfAdmin.into())),
        post(BODY),
    )
    .await;
    r.assert_error(
        403,
        "errors.insufficientRightsFunction",
        "Permission denied: Caller does not have the required right 'SelfAdmin' to perform this action",
    );
    assert!(r.header("cache-control").is_none());
}

#[actix_rt::test]
async fn an_invalid_parameter_is_422() {
    let message = "The grant_type should not be null or empty.";
    let r = send(
        expecting(Err(DomainError::InvalidParameter(message.into()).into())),
        post(BODY),
    )
    .await;
    r.assert_error(422, "errors.invalidParameter", message);
}

#[actix_rt::test]
async fn an_unusable_credential_is_422_credential_not_active() {
    let message = "Failed to verify password. The password credential is not active.";
    let r = send(
        expecting(Err(DomainError::CredentialNotUsable(message.into()).into())),
        post(BODY),
    )
    .await;
    r.assert_error(422, "errors.credentialNotActive", message);
}

#[actix_rt::test]
async fn malformed_json_reaches_the_use_case_and_is_400() {
    let mut m = Mocks::new();
    m.tokens
        .expect_issue_token()
        .withf(|c, r| {
            *c == caller() && matches!(r, Err(AppError::BadBody(BodyRejection::MalformedJson)))
        })
        .times(1)
        .returning(|_, r| r.map(|_| unreachable!()));
    let r = send(m, post(r#"{"username": "admin","#)).await;
    r.assert_error(
        400,
        "errors.jsonProcessingError",
        "Malformed JSON request body.",
    );
}

#[actix_rt::test]
async fn a_wrong_field_type_is_400_deserialization() {
    for (body, field) in [
        (r#"{"grant_type": 1}"#, "grant_type"),
        (r#"{"password": ["x"]}"#, "password"),
        (r#"{"username": {}}"#, "username"),
    ] {
        let mut m = Mocks::new();
        let expected = BodyRejection::InvalidField(field.into());
        m.tokens
            .expect_issue_token()
            .withf(move |_, r| matches!(r, Err(AppError::BadBody(b)) if *b == expected))
            .times(1)
            .returning(|_, r| r.map(|_| unreachable!()));
        let r = send(m, post(body)).await;
        r.assert_error(
            400,
            "errors.deserialization",
            &format!("Invalid value for field '{field}'."),
        );
    }
}

#[actix_rt::test]
async fn get_on_the_token_path_is_405() {
    let r = send(Mocks::new(), authed(TestRequest::get().uri(TOKEN))).await;
    r.assert_error(405, "errors.unsupportedOperation", "Method not allowed.");
    assert_eq!(r.header("allow"), Some("POST"));
}

#[actix_rt::test]
async fn the_core_path_is_not_the_token_endpoint() {
    let r = send(Mocks::new(), post(BODY).uri("/nevisidm/api/core/v1/token")).await;
    assert_ne!(r.status, 200, "{}", r.raw);
}

#[actix_rt::test]
async fn neither_the_password_nor_the_token_reaches_the_log() {
    super::log_capture::start();

    let m = expecting(Ok(IssuedToken {
        token: JWT.into(),
        expires_in: 3600,
    }));
    let r = send(m, post(BODY).insert_header(("X-Request-Id", "token-log-1"))).await;
    assert_eq!(r.status, 200, "{}", r.raw);

    let log = super::log_capture::lines();
    assert!(log.contains("token-log-1"), "{log}");
    for secret in ["hunter2-pw", JWT, PASSWORD] {
        assert!(!log.contains(secret), "log leaks {secret}: {log}");
    }
}
