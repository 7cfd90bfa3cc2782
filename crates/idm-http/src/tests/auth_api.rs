//! The authentication API (SPEC §11) against a mocked `AuthService`: routes, argument mapping,
//! the login-status body with `no-store`, 204s, the error envelope of every refusal, and that
//! no secret of a request reaches an answer or the log.

use actix_web::test::TestRequest;
use idm_domain::error::PolicyViolation;
use idm_domain::DomainError;
use idm_ports::usecases::{ChangePassword, LoginStatus, OathLogin, OathResync, PasswordLogin};
use idm_ports::AppError;
use serde_json::json;

use super::support::*;
use crate::body::BodyRejection;

const PW_LOGIN: &str = "/nevisidm/api/auth/v1/acme/users/jdoe-1/password/login";
const OATH_LOGIN: &str = "/nevisidm/api/auth/v1/acme/users/jdoe-1/oath-credentials/o-1/login";
const RESYNC: &str = "/nevisidm/api/auth/v1/acme/users/jdoe-1/oath-credentials/o-1/resync";
const CHANGE: &str = "/nevisidm/api/core/v1/acme/users/jdoe-1/password/change";
const UNLOCK: &str = "/nevisidm/api/core/v1/acme/users/jdoe-1/password/unlock";

fn post(uri: &str, body: &str) -> TestRequest {
    json_req(TestRequest::post().uri(uri), body)
}

fn pw(password: &str) -> PasswordLogin {
    PasswordLogin {
        password: Some(password.into()),
    }
}

fn assert_no_store(r: &Reply) {
    assert_eq!(r.header("cache-control"), Some("no-store"));
    assert_eq!(r.header("pragma"), Some("no-cache"));
}

/// Mocks whose password login expects the test caller, `acme`/`jdoe-1` and `hunter2-pw`.
fn password_login_answering(answer: Result<LoginStatus, AppError>) -> Mocks {
    let mut m = Mocks::new();
    m.authentication
        .expect_password_login()
        .withf(|c, client, user, cmd| {
            *c == caller() && client == "acme" && user == "jdoe-1" && *cmd == Ok(pw("hunter2-pw"))
        })
        .times(1)
        .return_once(move |_, _, _, _| answer);
    m
}

#[actix_rt::test]
async fn password_login_answers_every_status_with_no_store() {
    for (status, code, description) in [
        (LoginStatus::Ok, 5, "Login Ok"),
        (LoginStatus::Failed, 2, "Login failed."),
        (
            LoginStatus::NextFailureLocks,
            3,
            "Login failed. The next failure locks the credential.",
        ),
        (
            LoginStatus::TmpLocked,
            9,
            "Login failed. Credential temporarily locked.",
        ),
        (LoginStatus::Locked, 4, "Login failed. Credential locked."),
    ] {
        let r = send(
            password_login_answering(Ok(status)),
            post(PW_LOGIN, r#"{"password":"hunter2-pw"}"#),
        )
        .await;
        assert_eq!(r.status, 200, "{}", r.raw);
        assert_eq!(
            r.json,
            json!({"statusCode": code, "description": description})
        );
        assert_no_store(&r);
        assert!(r
            .header("content-type")
            .is_some_and(|c| c.starts_with("application/json")));
        assert!(!r.raw.contains("hunter2-pw"));
    }
}

#[actix_rt::test]
async fn password_login_refusals_are_the_envelope() {
    let cases: Vec<(DomainError, u16, &str, &str)> = vec![
        (
            DomainError::NullParameter("password".into()),
            422,
            "errors.nullParameter",
            "The 'password' parameter is mandatory.",
        ),
        (
            DomainError::NoPasswordCredential("jdoe-1".into()),
            404,
            "errors.noRecord",
            "User with extId jdoe-1 has no Password credential",
        ),
        (
            DomainError::CredentialNotUsable("User with extId jdoe-1 is not active".into()),
            422,
            "errors.credentialNotActive",
            "User with extId jdoe-1 is not active",
        ),
        (
            DomainError::CredentialNotActive("pwd-1".into()),
            422,
            "errors.credentialNotActive",
            "Credential with extId 'pwd-1' is not active",
        ),
        (
            DomainError::PrivilegedTarget,
            403,
            "errors.potentialPrivilegeEscalation",
            "Permission denied: the target user holds rights beyond the caller's own",
        ),
        (
            DomainError::MissingRight(idm_domain::access::Right::CredentialView),
            403,
            "errors.insufficientRightsFunction",
            "Permission denied: Caller does not have the required right 'AccessControl.CredentialView' to perform this action",
        ),
    ];
    for (error, status, code, message) in cases {
        let r = send(
            password_login_answering(Err(error.into())),
            post(PW_LOGIN, r#"{"password":"hunter2-pw"}"#),
        )
        .await;
        r.assert_error(status, code, message);
        assert!(!r.raw.contains("hunter2-pw"));
    }
}

#[actix_rt::test]
async fn an_internal_failure_is_500_without_details_and_503_carries_retry_after() {
    let r = send(
        password_login_answering(Err(AppError::Internal(
            "OATH credential: the sealed secret does not open for its row".into(),
        ))),
        post(PW_LOGIN, r#"{"password":"hunter2-pw"}"#),
    )
    .await;
    r.assert_error(500, "errors.fatalError", "Internal server error.");
    assert!(!r.raw.contains("sealed"));
    let r = send(
        password_login_answering(Err(AppError::Busy)),
        post(PW_LOGIN, r#"{"password":"hunter2-pw"}"#),
    )
    .await;
    r.assert_error(503, "errors.fatalError", "Service temporarily unavailable.");
    assert_eq!(r.header("retry-after"), Some("1"));
}

#[actix_rt::test]
async fn without_authorization_it_is_401_and_no_use_case_runs() {
    for uri in [PW_LOGIN, OATH_LOGIN, RESYNC, CHANGE, UNLOCK] {
        let req = TestRequest::post()
            .uri(uri)
            .insert_header(("Content-Type", "application/json"))
            .set_payload(r#"{"password":"x","code":"123456"}"#);
        let r = send(Mocks::new(), req).await;
        r.assert_error(401, "errors.userLoginFailed", "Authentication required.");
        assert_eq!(
            r.header("www-authenticate"),
            Some("Basic realm=\"nevisIDM\"")
        );
    }
}

#[actix_rt::test]
async fn body_syntax_failures_reach_the_use_case_and_answer_400() {
    let mut m = Mocks::new();
    m.authentication
        .expect_password_login()
        .withf(|_, _, _, cmd| matches!(cmd, Err(AppError::BadBody(BodyRejection::MalformedJson))))
        .times(1)
        .returning(|_, _, _, cmd| cmd.map(|_| unreachable!()));
    let r = send(m, post(PW_LOGIN, r#"{"password": "#)).await;
    r.assert_error(
        400,
        "errors.jsonProcessingError",
        "Malformed JSON request body.",
    );

    // A code sent as a number is the wrong shape: codes are strings (leading zeros count).
    let mut m = Mocks::new();
    let expected = BodyRejection::InvalidField("code".into());
    m.authentication
        .expect_oath_login()
        .withf(move |_, _, _, _, cmd| matches!(cmd, Err(AppError::BadBody(b)) if *b == expected))
        .times(1)
        .returning(|_, _, _, _, cmd| cmd.map(|_| unreachable!()));
    let r = send(m, post(OATH_LOGIN, r#"{"code": 123456}"#)).await;
    r.assert_error(
        400,
        "errors.deserialization",
        "Invalid value for field 'code'.",
    );

    let mut m = Mocks::new();
    m.authentication
        .expect_change_password()
        .withf(|_, _, _, _, cmd| matches!(cmd, Err(AppError::BadBody(BodyRejection::Missing))))
        .times(1)
        .returning(|_, _, _, _, cmd| cmd.map(|_| unreachable!()));
    let r = send(m, authed(TestRequest::post().uri(CHANGE))).await;
    r.assert_error(400, "errors.nullRequestBody", "Request body is required.");
}

#[actix_rt::test]
async fn oath_login_passes_the_credential_and_code() {
    let mut m = Mocks::new();
    m.authentication
        .expect_oath_login()
        .withf(|c, client, user, ext, cmd| {
            *c == caller()
                && (client, user, ext) == ("acme", "jdoe-1", "o-1")
                && *cmd
                    == Ok(OathLogin {
                        code: Some("012345".into()),
                    })
        })
        .times(1)
        .returning(|_, _, _, _, _| Ok(LoginStatus::Ok));
    let r = send(m, post(OATH_LOGIN, r#"{"code":"012345","extra":true}"#)).await;
    assert_eq!(r.status, 200, "{}", r.raw);
    assert_eq!(r.json, json!({"statusCode": 5, "description": "Login Ok"}));
    assert_no_store(&r);

    let mut m = Mocks::new();
    m.authentication
        .expect_oath_login()
        .returning(|_, _, _, _, _| {
            Err(DomainError::OathNotFound {
                ext_id: "o-1".into(),
                user_ext_id: "jdoe-1".into(),
            }
            .into())
        });
    send(m, post(OATH_LOGIN, r#"{"code":"012345"}"#))
        .await
        .assert_error(
            404,
            "errors.noRecord",
            "OATH credential with the extId o-1 does not exist under the user jdoe-1",
        );

    let mut m = Mocks::new();
    m.authentication
        .expect_oath_login()
        .withf(|_, _, _, _, cmd| *cmd == Ok(OathLogin { code: None }))
        .returning(|_, _, _, _, _| Err(DomainError::NullParameter("code".into()).into()));
    send(m, post(OATH_LOGIN, r#"{"code":null}"#))
        .await
        .assert_error(
            422,
            "errors.nullParameter",
            "The 'code' parameter is mandatory.",
        );
}

#[actix_rt::test]
async fn resync_answers_204_or_422() {
    let mut m = Mocks::new();
    m.authentication
        .expect_oath_resync()
        .withf(|c, client, user, ext, cmd| {
            *c == caller()
                && (client, user, ext) == ("acme", "jdoe-1", "o-1")
                && *cmd
                    == Ok(OathResync {
                        code1: Some("111111".into()),
                        code2: Some("222222".into()),
                    })
        })
        .times(1)
        .returning(|_, _, _, _, _| Ok(()));
    let r = send(m, post(RESYNC, r#"{"code1":"111111","code2":"222222"}"#)).await;
    assert_eq!(r.status, 204, "{}", r.raw);
    assert!(r.raw.is_empty());

    for message in [
        "The codes do not match consecutive counter values.",
        "Resynchronisation applies to HOTP credentials only.",
    ] {
        let mut m = Mocks::new();
        m.authentication
            .expect_oath_resync()
            .returning(move |_, _, _, _, _| {
                Err(DomainError::InvalidParameter(message.into()).into())
            });
        send(m, post(RESYNC, r#"{"code1":"111111","code2":"222222"}"#))
            .await
            .assert_error(422, "errors.invalidParameter", message);
    }
}

#[actix_rt::test]
async fn change_passes_the_x_token_and_answers_204() {
    let mut m = Mocks::new();
    m.authentication
        .expect_change_password()
        .withf(|c, client, user, token, cmd| {
            *c == caller()
                && (client, user) == ("acme", "jdoe-1")
                && token.as_deref() == Some("the.x.token")
                && *cmd
                    == Ok(ChangePassword {
                        old_password: Some("Old-Pass-1".into()),
                        new_password: Some("New-Pass-2".into()),
                    })
        })
        .times(1)
        .returning(|_, _, _, _, _| Ok(()));
    let r = send(
        m,
        post(
            CHANGE,
            r#"{"oldPassword":"Old-Pass-1","newPassword":"New-Pass-2"}"#,
        )
        .insert_header(("X-Token", " the.x.token ")),
    )
    .await;
    assert_eq!(r.status, 204, "{}", r.raw);
}

#[actix_rt::test]
async fn change_refusals_carry_policy_violations_and_exact_messages() {
    let mut m = Mocks::new();
    m.authentication
        .expect_change_password()
        .returning(|_, _, _, _, _| {
            Err(DomainError::PasswordPolicyViolated(vec![PolicyViolation {
                display_name: "notCurrentPassword".into(),
                config_string: "notCurrentPassword".into(),
                supplied_value: "10 characters".into(),
                limit_value: "a password other than the current one".into(),
                actual_value: "the current password".into(),
            }])
            .into())
        });
    let r = send(m, post(CHANGE, r#"{"newPassword":"Same-Pass1"}"#)).await;
    assert_eq!(r.status, 422, "{}", r.raw);
    assert_eq!(r.json["errors"][0]["code"], "errors.pwdPolicyViolated");
    assert_eq!(
        r.json["policyViolations"][0]["displayName"],
        "notCurrentPassword"
    );
    assert!(!r.raw.contains("Same-Pass1"));

    for (error, status, code, message) in [
        (
            DomainError::InvalidParameter("Failed to verify password.".into()),
            422,
            "errors.invalidParameter",
            "Failed to verify password.",
        ),
        (
            DomainError::NullParameter("oldPassword".into()),
            422,
            "errors.nullParameter",
            "The 'oldPassword' parameter is mandatory.",
        ),
        (
            DomainError::InvalidJwtToken,
            422,
            "errors.invalidJWTToken",
            "Invalid JWT token.",
        ),
        (
            DomainError::PasswordResetDisabled,
            404,
            "errors.noRecord",
            "Password cannot be changed due to policy restrictions",
        ),
        (
            DomainError::OptimisticLockingFailure,
            409,
            "errors.optimisticLockingFailure",
            "The entity was modified concurrently; reload it and retry.",
        ),
    ] {
        let mut m = Mocks::new();
        m.authentication
            .expect_change_password()
            .return_once(move |_, _, _, _, _| Err(error.into()));
        send(m, post(CHANGE, r#"{"newPassword":"New-Pass-2"}"#))
            .await
            .assert_error(status, code, message);
    }
}

#[actix_rt::test]
async fn unlock_reads_no_body_and_answers_204() {
    let mut m = Mocks::new();
    m.authentication
        .expect_unlock_password()
        .withf(|c, client, user| *c == caller() && (client, user) == ("acme", "jdoe-1"))
        .times(1)
        .returning(|_, _, _| Ok(()));
    let req = authed(TestRequest::post().uri(UNLOCK))
        .insert_header(("Content-Type", "text/plain"))
        .set_payload("not json at all");
    let r = send(m, req).await;
    assert_eq!(r.status, 204, "{}", r.raw);

    let mut m = Mocks::new();
    m.authentication
        .expect_unlock_password()
        .returning(|_, _, _| Err(DomainError::NoPasswordCredential("jdoe-1".into()).into()));
    send(m, authed(TestRequest::post().uri(UNLOCK)))
        .await
        .assert_error(
            404,
            "errors.noRecord",
            "User with extId jdoe-1 has no Password credential",
        );
}

#[actix_rt::test]
async fn other_methods_are_405_with_allow_post() {
    for uri in [PW_LOGIN, OATH_LOGIN, RESYNC, CHANGE, UNLOCK] {
        let r = send(Mocks::new(), authed(TestRequest::get().uri(uri))).await;
        r.assert_error(405, "errors.unsupportedOperation", "Method not allowed.");
        assert_eq!(r.header("allow"), Some("POST"), "{uri}");
    }
}

#[actix_rt::test]
async fn no_secret_reaches_the_log() {
    super::log_capture::start();
    let mut m = Mocks::new();
    m.authentication
        .expect_password_login()
        .returning(|_, _, _, _| Ok(LoginStatus::Failed));
    m.authentication
        .expect_oath_login()
        .returning(|_, _, _, _, _| Ok(LoginStatus::Ok));
    m.authentication
        .expect_change_password()
        .returning(|_, _, _, _, _| Ok(()));
    let state = m.state();
    let service = actix_web::test::init_service(crate::app(state)).await;
    for req in [
        post(PW_LOGIN, r#"{"password":"pw-LOG-secret"}"#),
        post(OATH_LOGIN, r#"{"code":"864209"}"#),
        post(
            CHANGE,
            r#"{"oldPassword":"old-LOG-secret","newPassword":"new-LOG-secret"}"#,
        )
        .insert_header(("X-Token", "xtoken-LOG-secret")),
    ] {
        let res = actix_web::test::call_service(
            &service,
            req.insert_header(("X-Request-Id", "auth-log-1"))
                .to_request(),
        )
        .await;
        assert!(res.status().is_success());
    }
    let log = super::log_capture::lines();
    assert!(log.contains("auth-log-1"), "{log}");
    for secret in [
        "pw-LOG-secret",
        "864209",
        "old-LOG-secret",
        "new-LOG-secret",
        "xtoken-LOG-secret",
        PASSWORD,
    ] {
        assert!(!log.contains(secret), "log leaks {secret}: {log}");
    }
}
