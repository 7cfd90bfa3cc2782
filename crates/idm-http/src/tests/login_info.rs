//! `POST /core/v1/:clientExtId/users/:userExtId/bulk-login-info` (SPEC §6.2).

use actix_web::test::TestRequest;
use idm_domain::credential::{CredentialSecret, CredentialState, LoginOutcome};
use idm_domain::DomainError;
use idm_ports::usecases::{
    CredentialLoginReport, LoginInfoResult, LoginItem, LoginItemError, LoginReport,
};
use idm_ports::AppError;
use serde_json::json;

use super::support::*;
use crate::body::BodyRejection;

const LOGIN_INFO: &str = "/nevisidm/api/core/v1/acme/users/jdoe-1/bulk-login-info";
const T5: &str = "2023-11-14T22:13:25.000Z";
const T6: &str = "2023-11-14T22:13:26.000Z";

fn entry(success: bool, ext_id: &str) -> CredentialLoginReport {
    CredentialLoginReport {
        success: Some(success),
        credential_ext_id: Some(ext_id.into()),
    }
}

/// `pwd-1` after a success: 5 successes, last at `t(5)`.
fn password_after_success() -> LoginItem {
    let mut record = credential("pwd-1", 0);
    record.credential.successful_login_count = 5;
    record.credential.failed_login_count = 0;
    record.credential.last_successful_login = Some(t(5));
    LoginItem {
        outcome: LoginOutcome::Succeeded,
        user_ext_id: ext("jdoe-1"),
        client_ext_id: ext("acme"),
        credential: Some(record),
        user_last_login: Some(t(5)),
        user_last_login_failure: Some(t(1)),
    }
}

/// `vasco-7` after a failure that locked it for a while: 3 failures, last at `t(6)`.
fn vasco_after_tmp_lock() -> LoginItem {
    let mut record = credential("vasco-7", 0);
    record.credential.secret = CredentialSecret::Vasco { tokens: vec![] };
    record.credential.state = CredentialState::TmpLocked;
    record.credential.successful_login_count = 9;
    record.credential.last_successful_login = Some(t(2));
    record.credential.failed_login_count = 3;
    record.credential.last_failed_login = Some(t(6));
    record.credential.locked_until = Some(t(100));
    LoginItem {
        outcome: LoginOutcome::TmpLocked,
        user_ext_id: ext("jdoe-1"),
        client_ext_id: ext("acme"),
        credential: Some(record),
        user_last_login: Some(t(5)),
        user_last_login_failure: Some(t(6)),
    }
}

#[actix_rt::test]
async fn a_mixed_report_maps_items_errors_and_dates_exactly() {
    let mut m = Mocks::new();
    m.login_info
        .expect_bulk_login_info()
        .withf(|c, client, user, report| {
            *c == caller()
                && client == "acme"
                && user == "jdoe-1"
                && *report
                    == Ok(LoginReport {
                        user_login_successful: Some(true),
                        credentials: Some(vec![
                            entry(true, "pwd-1"),
                            entry(false, "vasco-7"),
                            entry(true, "gone-1"),
                        ]),
                    })
        })
        .times(1)
        .returning(|_, _, _, _| {
            Ok(LoginInfoResult {
                items: vec![password_after_success(), vasco_after_tmp_lock()],
                errors: vec![LoginItemError {
                    error: DomainError::CredentialNotFoundForUser {
                        credential_ext_id: "gone-1".into(),
                        user_ext_id: "jdoe-1".into(),
                    },
                    client_ext_id: "acme".into(),
                    user_ext_id: "jdoe-1".into(),
                    credential_ext_id: Some("gone-1".into()),
                }],
                last_login: Some(t(5)),
                last_login_failure: Some(t(6)),
            })
        });
    let r = send(
        m,
        json_req(
            TestRequest::post().uri(LOGIN_INFO),
            r#"{"userLoginSuccessful": true, "unknown": 1, "credentials": [
                {"success": true, "credentialExtId": "pwd-1"},
                {"success": false, "credentialExtId": "vasco-7"},
                {"success": true, "credentialExtId": "gone-1"}]}"#,
        ),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.raw);
    assert!(r
        .header("content-type")
        .is_some_and(|c| c.starts_with("application/json")));
    assert_eq!(
        r.json,
        json!({
            "successes": [
                {
                    "statusCode": 0, "description": "Login successful.",
                    "userExtId": "jdoe-1", "clientExtId": "acme",
                    "credentialExtId": "pwd-1", "credentialType": "Password",
                    "userLastLogin": T5, "credentialLastLogin": T5,
                    "credentialSuccessCounter": 5
                },
                {
                    "statusCode": 3,
                    "description": "Login failed. Credential temporarily locked.",
                    "userExtId": "jdoe-1", "clientExtId": "acme",
                    "credentialExtId": "vasco-7", "credentialType": "Vasco",
                    "userLastLoginFailure": T6, "credentialLastLoginFailure": T6,
                    "credentialFailureCounter": 3
                }
            ],
            "errors": [{
                "code": "errors.noRecord",
                "message": "Credential with extId 'gone-1' doesn't exist for user 'jdoe-1'",
                "identifier": {
                    "clientExtId": "acme", "userExtId": "jdoe-1", "credentialExtId": "gone-1"
                }
            }],
            "lastLogin": T5,
            "lastLoginFailure": T6
        })
    );
    assert!(!r.raw.contains("SECRETHASH"));
}

#[actix_rt::test]
async fn the_user_only_item_has_no_credential_fields_and_errors_is_an_empty_array() {
    let mut m = Mocks::new();
    m.login_info
        .expect_bulk_login_info()
        .withf(|_, _, _, report| {
            *report
                == Ok(LoginReport {
                    user_login_successful: Some(false),
                    credentials: None,
                })
        })
        .times(1)
        .returning(|_, _, _, _| {
            Ok(LoginInfoResult {
                items: vec![LoginItem {
                    outcome: LoginOutcome::Failed,
                    user_ext_id: ext("jdoe-1"),
                    client_ext_id: ext("acme"),
                    credential: None,
                    user_last_login: None,
                    user_last_login_failure: Some(t(6)),
                }],
                errors: vec![],
                last_login: None,
                last_login_failure: Some(t(6)),
            })
        });
    let r = send(
        m,
        json_req(
            TestRequest::post().uri(LOGIN_INFO),
            r#"{"userLoginSuccessful": false, "credentials": null}"#,
        ),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.raw);
    assert_eq!(
        r.json,
        json!({
            "successes": [{
                "statusCode": 2, "description": "Login failed.",
                "userExtId": "jdoe-1", "clientExtId": "acme",
                "userLastLoginFailure": T6
            }],
            "errors": [],
            "lastLoginFailure": T6
        })
    );
}

#[actix_rt::test]
async fn a_success_user_only_item_shows_the_last_login_and_an_error_without_credential() {
    let mut m = Mocks::new();
    m.login_info
        .expect_bulk_login_info()
        .withf(|_, _, _, report| {
            *report
                == Ok(LoginReport {
                    user_login_successful: Some(true),
                    credentials: Some(vec![
                        CredentialLoginReport {
                            success: None,
                            credential_ext_id: Some("pwd-1".into()),
                        },
                        CredentialLoginReport::default(),
                    ]),
                })
        })
        .times(1)
        .returning(|_, _, _, _| {
            Ok(LoginInfoResult {
                items: vec![],
                errors: vec![
                    LoginItemError {
                        error: DomainError::NullParameter("success".into()),
                        client_ext_id: "acme".into(),
                        user_ext_id: "jdoe-1".into(),
                        credential_ext_id: Some("pwd-1".into()),
                    },
                    LoginItemError {
                        error: DomainError::NullParameter("success".into()),
                        client_ext_id: "acme".into(),
                        user_ext_id: "jdoe-1".into(),
                        credential_ext_id: None,
                    },
                ],
                last_login: Some(t(5)),
                last_login_failure: None,
            })
        });
    let r = send(
        m,
        json_req(
            TestRequest::post().uri(LOGIN_INFO),
            r#"{"userLoginSuccessful": true,
                "credentials": [{"success": null, "credentialExtId": "pwd-1"}, null]}"#,
        ),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.raw);
    assert_eq!(
        r.json,
        json!({
            "successes": [],
            "errors": [
                {
                    "code": "errors.nullParameter",
                    "message": "The 'success' parameter is mandatory.",
                    "identifier": {
                        "clientExtId": "acme", "userExtId": "jdoe-1", "credentialExtId": "pwd-1"
                    }
                },
                {
                    "code": "errors.nullParameter",
                    "message": "The 'success' parameter is mandatory.",
                    "identifier": {"clientExtId": "acme", "userExtId": "jdoe-1"}
                }
            ],
            "lastLogin": T5
        })
    );
}

#[actix_rt::test]
async fn a_user_only_success_item_carries_user_last_login() {
    let mut m = Mocks::new();
    m.login_info
        .expect_bulk_login_info()
        .times(1)
        .returning(|_, _, _, _| {
            Ok(LoginInfoResult {
                items: vec![LoginItem {
                    outcome: LoginOutcome::Succeeded,
                    user_ext_id: ext("jdoe-1"),
                    client_ext_id: ext("acme"),
                    credential: None,
                    user_last_login: Some(t(5)),
                    user_last_login_failure: Some(t(1)),
                }],
                errors: vec![],
                last_login: Some(t(5)),
                last_login_failure: Some(t(1)),
            })
        });
    let r = send(
        m,
        json_req(
            TestRequest::post().uri(LOGIN_INFO),
            r#"{"userLoginSuccessful": true}"#,
        ),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.raw);
    assert_eq!(
        r.json,
        json!({
            "successes": [{
                "statusCode": 0, "description": "Login successful.",
                "userExtId": "jdoe-1", "clientExtId": "acme", "userLastLogin": T5
            }],
            "errors": [],
            "lastLogin": T5,
            "lastLoginFailure": T1
        })
    );
}

#[actix_rt::test]
async fn without_credentials_it_is_401_and_the_use_case_is_not_called() {
    let req = TestRequest::post()
        .uri(LOGIN_INFO)
        .insert_header(("Content-Type", "application/json"))
        .set_payload(r#"{"userLoginSuccessful": true}"#);
    let r = send(Mocks::new(), req).await;
    r.assert_error(401, "errors.userLoginFailed", "Authentication required.");
    assert_eq!(
        r.header("www-authenticate"),
        Some("Basic realm=\"nevisIDM\"")
    );
}

#[actix_rt::test]
async fn body_rejections_reach_the_use_case_and_answer_400() {
    for (body, rejection, code, message) in [
        (
            r#"{"userLoginSuccessful": true,"#,
            BodyRejection::MalformedJson,
            "errors.jsonProcessingError",
            "Malformed JSON request body.".to_owned(),
        ),
        (
            "",
            BodyRejection::Missing,
            "errors.nullRequestBody",
            "Request body is required.".to_owned(),
        ),
        (
            r#"{"userLoginSuccessful": "yes"}"#,
            BodyRejection::InvalidField("userLoginSuccessful".into()),
            "errors.deserialization",
            "Invalid value for field 'userLoginSuccessful'.".to_owned(),
        ),
        (
            r#"{"userLoginSuccessful": true, "credentials": {"success": true}}"#,
            BodyRejection::InvalidField("credentials".into()),
            "errors.deserialization",
            "Invalid value for field 'credentials'.".to_owned(),
        ),
        (
            r#"{"userLoginSuccessful": true, "credentials": [{"success": 1}]}"#,
            BodyRejection::InvalidField("credentials[0].success".into()),
            "errors.deserialization",
            "Invalid value for field 'credentials[0].success'.".to_owned(),
        ),
        (
            r#"{"credentials": [{"success": true, "credentialExtId": 7}]}"#,
            BodyRejection::InvalidField("credentials[0].credentialExtId".into()),
            "errors.deserialization",
            "Invalid value for field 'credentials[0].credentialExtId'.".to_owned(),
        ),
        (
            "[true]",
            BodyRejection::InvalidField("body".into()),
            "errors.deserialization",
            "Invalid value for field 'body'.".to_owned(),
        ),
    ] {
        let mut m = Mocks::new();
        let expected = rejection.clone();
        m.login_info
            .expect_bulk_login_info()
            .withf(move |c, client, user, report| {
                *c == caller()
                    && client == "acme"
                    && user == "jdoe-1"
                    && matches!(report, Err(AppError::BadBody(r)) if *r == expected)
            })
            .times(1)
            .returning(|_, _, _, report| {
                report.map(|_| LoginInfoResult {
                    items: vec![],
                    errors: vec![],
                    last_login: None,
                    last_login_failure: None,
                })
            });
        let r = send(m, json_req(TestRequest::post().uri(LOGIN_INFO), body)).await;
        r.assert_error(400, code, &message);
    }
}

#[actix_rt::test]
async fn use_case_errors_map_exactly() {
    let cases: Vec<(AppError, u16, &str, &str)> = vec![
        (
            DomainError::NullParameter("userLoginSuccessful".into()).into(),
            422,
            "errors.nullParameter",
            "The 'userLoginSuccessful' parameter is mandatory.",
        ),
        (
            DomainError::InvalidParameter("At most 100 credentials can be updated at once.".into())
                .into(),
            422,
            "errors.invalidParameter",
            "At most 100 credentials can be updated at once.",
        ),
        (
            AppError::Unavailable,
            503,
            "errors.fatalError",
            "Service temporarily unavailable.",
        ),
        (
            AppError::Internal("db exploded: SELECT secret".into()),
            500,
            "errors.fatalError",
            "Internal server error.",
        ),
    ];
    for (error, status, code, message) in cases {
        let mut m = Mocks::new();
        m.login_info
            .expect_bulk_login_info()
            .withf(|_, _, _, report| *report == Ok(LoginReport::default()))
            .times(1)
            .return_once(move |_, _, _, _| Err(error));
        let r = send(m, json_req(TestRequest::post().uri(LOGIN_INFO), "{}")).await;
        r.assert_error(status, code, message);
        assert!(!r.raw.contains("SELECT"));
    }
}

#[actix_rt::test]
async fn other_methods_on_the_path_are_405() {
    for req in [
        TestRequest::get().uri(LOGIN_INFO),
        TestRequest::put().uri(LOGIN_INFO),
        TestRequest::delete().uri(LOGIN_INFO),
    ] {
        let r = send(Mocks::new(), authed(req)).await;
        r.assert_error(405, "errors.unsupportedOperation", "Method not allowed.");
        assert_eq!(r.header("allow"), Some("POST"));
    }
}
