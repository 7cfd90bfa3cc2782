//! `/core/v1/:clientExtId/users/:userExtId/password` and `…/password/reset` (SPEC §6.1, §8.5).

use actix_web::test::TestRequest;
use idm_domain::error::PolicyViolation;
use idm_domain::DomainError;
use idm_ports::usecases::{CreatePassword, PasswordIssued, PatchPassword};
use idm_ports::AppError;
use serde_json::json;

use super::support::*;
use crate::body::BodyRejection;

const PASSWORD: &str = "/nevisidm/api/core/v1/acme/users/jdoe-1/password";
const RESET: &str = "/nevisidm/api/core/v1/acme/users/jdoe-1/password/reset";

fn issued(fragment: Option<&str>, generated: bool) -> PasswordIssued {
    PasswordIssued {
        record: credential("pwd-1", 0),
        fragment: fragment.map(ToOwned::to_owned),
        generated,
    }
}

/// The credential JSON of [`credential`]`("pwd-1", 0)`.
fn credential_json() -> serde_json::Value {
    json!({
        "created": T0, "lastModified": T0, "version": 2, "extId": "pwd-1",
        "userExtId": "jdoe-1", "policyExtId": "pwd-policy", "stateName": "active",
        "stateChangeReason": "initialized", "successfulLoginCount": 0,
        "lastFailedLoginDate": T1, "failedLoginCount": 1, "type": "Password",
        "validity": {"from": T0, "to": "2023-11-14T22:13:30.000Z"}
    })
}

/// No answer ever shows the stored hash.
fn assert_no_hash(r: &Reply) {
    assert!(
        !r.raw.contains("argon2") && !r.raw.contains("SECRETHASH"),
        "hash leaked: {}",
        r.raw
    );
}

fn assert_no_store(r: &Reply) {
    assert_eq!(r.header("cache-control"), Some("no-store"));
    assert_eq!(r.header("pragma"), Some("no-cache"));
}

// ---- create --------------------------------------------------------------------------------

#[actix_rt::test]
async fn create_with_a_generated_fragment_answers_201_fragment_ext_id_and_location() {
    let mut m = Mocks::new();
    m.passwords
        .expect_create_password()
        .withf(|c, client, user, cmd| {
            *c == caller()
                && client == "acme"
                && user == "jdoe-1"
                && *cmd
                    == Ok(CreatePassword {
                        ext_id: Some("pwd-1".into()),
                        policy_ext_id: Some("pwd-policy".into()),
                        state_name: Some("initial".into()),
                        password: None,
                    })
        })
        .times(1)
        .returning(|_, _, _, _| Ok(issued(Some("Ab3dEf6hJk7m"), true)));
    let r = send(
        m,
        json_req(
            TestRequest::post().uri(PASSWORD),
            r#"{"extId":"pwd-1","policyExtId":"pwd-policy","stateName":"initial","unknown":1}"#,
        ),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.raw);
    assert_eq!(
        r.json,
        json!({"passwordFragment": "Ab3dEf6hJk7m", "extId": "pwd-1"})
    );
    assert_eq!(r.header("location"), Some(PASSWORD));
    assert!(r
        .header("content-type")
        .is_some_and(|c| c.starts_with("application/json")));
    assert_no_store(&r);
    assert_no_hash(&r);
}

#[actix_rt::test]
async fn create_with_the_whole_password_out_of_band_answers_204_with_location() {
    let mut m = Mocks::new();
    m.passwords
        .expect_create_password()
        .withf(|_, _, _, cmd| *cmd == Ok(CreatePassword::default()))
        .times(1)
        .returning(|_, _, _, _| Ok(issued(None, true)));
    let r = send(m, json_req(TestRequest::post().uri(PASSWORD), "{}")).await;
    assert_eq!(r.status, 204, "{}", r.raw);
    assert!(r.raw.is_empty());
    assert_eq!(r.header("location"), Some(PASSWORD));
}

#[actix_rt::test]
async fn create_with_a_supplied_password_answers_201_with_the_credential() {
    let mut m = Mocks::new();
    m.passwords
        .expect_create_password()
        .withf(|_, _, _, cmd| {
            *cmd == Ok(CreatePassword {
                password: Some("correct horse".into()),
                ..CreatePassword::default()
            })
        })
        .times(1)
        .returning(|_, _, _, _| Ok(issued(None, false)));
    let r = send(
        m,
        json_req(
            TestRequest::post().uri(PASSWORD),
            r#"{"password":"correct horse"}"#,
        ),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.raw);
    assert_eq!(r.json, credential_json());
    assert_eq!(r.header("location"), Some(PASSWORD));
    assert!(!r.raw.contains("correct horse"));
    assert_no_hash(&r);
}

#[actix_rt::test]
async fn create_with_a_wrong_field_type_is_400_deserialization() {
    for (body, field) in [
        (r#"{"password": 12345678}"#, "password"),
        (r#"{"stateName": true}"#, "stateName"),
        (r#"{"extId": ["a"]}"#, "extId"),
        (r#"{"policyExtId": {}}"#, "policyExtId"),
    ] {
        let mut m = Mocks::new();
        let expected = BodyRejection::InvalidField(field.into());
        m.passwords
            .expect_create_password()
            .withf(move |_, _, _, cmd| matches!(cmd, Err(AppError::BadBody(r)) if *r == expected))
            .times(1)
            .returning(|_, _, _, cmd| cmd.map(|_| issued(None, false)));
        let r = send(m, json_req(TestRequest::post().uri(PASSWORD), body)).await;
        r.assert_error(
            400,
            "errors.deserialization",
            &format!("Invalid value for field '{field}'."),
        );
    }
}

#[actix_rt::test]
async fn create_policy_violation_is_422_with_policy_violations() {
    let mut m = Mocks::new();
    m.passwords
        .expect_create_password()
        .returning(|_, _, _, _| {
            Err(DomainError::PasswordPolicyViolated(vec![PolicyViolation {
                display_name: "Minimum length".into(),
                config_string: "minLength".into(),
                supplied_value: "a password of 3 characters".into(),
                limit_value: "8".into(),
                actual_value: "3".into(),
            }])
            .into())
        });
    let r = send(
        m,
        json_req(TestRequest::post().uri(PASSWORD), r#"{"password":"abc"}"#),
    )
    .await;
    assert_eq!(r.status, 422, "{}", r.raw);
    assert_eq!(
        r.json,
        json!({
            "errors": [{
                "code": "errors.pwdPolicyViolated",
                "message": "The password does not comply with the password policy."
            }],
            "policyViolations": [{
                "displayName": "Minimum length", "configString": "minLength",
                "suppliedValue": "a password of 3 characters", "limitValue": "8",
                "actualValue": "3"
            }]
        })
    );
    assert!(r.header("location").is_none());
}

#[actix_rt::test]
async fn create_a_second_password_is_422_password_exists() {
    let mut m = Mocks::new();
    m.passwords
        .expect_create_password()
        .returning(|_, _, user, _| Err(DomainError::PasswordExists(user.to_owned()).into()));
    let r = send(m, json_req(TestRequest::post().uri(PASSWORD), "{}")).await;
    r.assert_error(
        422,
        "errors.passwordExists",
        "User with extId jdoe-1 already has a Password credential",
    );
}

// ---- get / patch ---------------------------------------------------------------------------

#[actix_rt::test]
async fn get_password_answers_200_with_the_credential_and_no_hash() {
    let mut m = Mocks::new();
    m.passwords
        .expect_get_password()
        .withf(|c, client, user| *c == caller() && client == "acme" && user == "jdoe-1")
        .times(1)
        .returning(|_, _, _| Ok(credential("pwd-1", 0)));
    let r = send(m, authed(TestRequest::get().uri(PASSWORD))).await;
    assert_eq!(r.status, 200, "{}", r.raw);
    assert_eq!(r.json, credential_json());
    assert!(r.header("location").is_none());
    assert_no_hash(&r);
}

#[actix_rt::test]
async fn get_password_of_a_user_without_one_is_404() {
    let mut m = Mocks::new();
    m.passwords
        .expect_get_password()
        .returning(|_, _, user| Err(DomainError::NoPasswordCredential(user.to_owned()).into()));
    let r = send(m, authed(TestRequest::get().uri(PASSWORD))).await;
    r.assert_error(
        404,
        "errors.noRecord",
        "User with extId jdoe-1 has no Password credential",
    );
}

#[actix_rt::test]
async fn patch_password_passes_the_patch_and_answers_200() {
    let mut m = Mocks::new();
    m.passwords
        .expect_patch_password()
        .withf(|c, client, user, patch| {
            *c == caller()
                && client == "acme"
                && user == "jdoe-1"
                && *patch
                    == Ok(PatchPassword {
                        state_name: Some("active".into()),
                        modification_comment: Some("unlocked by helpdesk".into()),
                        version: Some(2),
                    })
        })
        .times(1)
        .returning(|_, _, _, _| Ok(credential("pwd-1", 0)));
    let r = send(
        m,
        json_req(
            TestRequest::patch().uri(PASSWORD),
            r#"{"stateName":"active","modificationComment":"unlocked by helpdesk","version":2}"#,
        ),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.raw);
    assert_eq!(r.json, credential_json());
    assert_no_hash(&r);
}

#[actix_rt::test]
async fn patch_password_with_a_string_version_is_400() {
    let mut m = Mocks::new();
    m.passwords
        .expect_patch_password()
        .times(1)
        .returning(|_, _, _, patch| patch.map(|_| credential("pwd-1", 0)));
    let r = send(
        m,
        json_req(TestRequest::patch().uri(PASSWORD), r#"{"version":"2"}"#),
    )
    .await;
    r.assert_error(
        400,
        "errors.deserialization",
        "Invalid value for field 'version'.",
    );
}

#[actix_rt::test]
async fn patch_password_with_a_stale_version_is_409() {
    let mut m = Mocks::new();
    m.passwords
        .expect_patch_password()
        .returning(|_, _, _, _| Err(DomainError::OptimisticLockingFailure.into()));
    let r = send(
        m,
        json_req(TestRequest::patch().uri(PASSWORD), r#"{"version":1}"#),
    )
    .await;
    r.assert_error(
        409,
        "errors.optimisticLockingFailure",
        "The entity was modified concurrently; reload it and retry.",
    );
}

// ---- reset ---------------------------------------------------------------------------------

#[actix_rt::test]
async fn reset_answers_201_with_the_fragment_only_and_no_store() {
    let mut m = Mocks::new();
    m.passwords
        .expect_reset_password()
        .withf(|c, client, user, token| {
            *c == caller() && client == "acme" && user == "jdoe-1" && token.is_none()
        })
        .times(1)
        .returning(|_, _, _, _| Ok(issued(Some("Xy7kPq2mNb4z"), true)));
    let r = send(m, authed(TestRequest::post().uri(RESET))).await;
    assert_eq!(r.status, 201, "{}", r.raw);
    assert_eq!(r.json, json!({"passwordFragment": "Xy7kPq2mNb4z"}));
    assert!(r.header("location").is_none());
    assert_no_store(&r);
    assert_no_hash(&r);
}

#[actix_rt::test]
async fn reset_with_fragment_length_zero_answers_204_without_body() {
    let mut m = Mocks::new();
    m.passwords
        .expect_reset_password()
        .times(1)
        .returning(|_, _, _, _| Ok(issued(None, true)));
    let r = send(m, authed(TestRequest::post().uri(RESET))).await;
    assert_eq!(r.status, 204);
    assert!(r.raw.is_empty());
}

#[actix_rt::test]
async fn reset_ignores_any_body_and_content_type() {
    for (content_type, body) in [
        (Some("text/plain"), "hello"),
        (Some("application/json"), "{not json"),
        (Some("application/json"), r#"{"password":"x"}"#),
        (None, ""),
    ] {
        let mut m = Mocks::new();
        m.passwords
            .expect_reset_password()
            .times(1)
            .returning(|_, _, _, _| Ok(issued(Some("frag"), true)));
        let mut req = authed(TestRequest::post().uri(RESET)).set_payload(body.to_owned());
        if let Some(ct) = content_type {
            req = req.insert_header(("Content-Type", ct));
        }
        let r = send(m, req).await;
        assert_eq!(r.status, 201, "{content_type:?} {body}: {}", r.raw);
        assert_eq!(r.json, json!({"passwordFragment": "frag"}));
    }
}

#[actix_rt::test]
async fn reset_passes_the_trimmed_x_token() {
    let mut m = Mocks::new();
    m.passwords
        .expect_reset_password()
        .withf(|_, _, _, token| token.as_deref() == Some("eyJhbGciOiJIUzI1NiJ9.e30.sig"))
        .times(1)
        .returning(|_, _, _, _| Ok(issued(None, true)));
    let req = authed(TestRequest::post().uri(RESET))
        .insert_header(("X-Token", "  eyJhbGciOiJIUzI1NiJ9.e30.sig "));
    let r = send(m, req).await;
    assert_eq!(r.status, 204, "{}", r.raw);
}

#[actix_rt::test]
async fn an_empty_x_token_is_none() {
    let mut m = Mocks::new();
    m.passwords
        .expect_reset_password()
        .withf(|_, _, _, token| token.is_none())
        .times(1)
        .returning(|_, _, _, _| Ok(issued(None, true)));
    let req = authed(TestRequest::post().uri(RESET)).insert_header(("X-Token", "   "));
    let r = send(m, req).await;
    assert_eq!(r.status, 204, "{}", r.raw);
}

#[actix_rt::test]
async fn reset_maps_the_spec_failures() {
    let cases: Vec<(DomainError, u16, &str, &str)> = vec![
        (
            DomainError::NoPasswordCredential("u1".into()),
            404,
            "errors.noRecord",
            "User with extId u1 has no Password credential",
        ),
        (
            DomainError::PasswordResetDisabled,
            404,
            "errors.noRecord",
            "Password cannot be changed due to policy restrictions",
        ),
        (
            DomainError::CredentialNotResettable {
                user_ext_id: "u1".into(),
                state: "disabled".into(),
            },
            422,
            "errors.credentialNotActive",
            "The Password credential of user with extId u1 is disabled and cannot be reset",
        ),
        (
            DomainError::MaxResetCountExceeded(3),
            403,
            "errors.maxResetCount",
            "The maxResetCount (3) defined in the policy is exceeded.",
        ),
        (
            DomainError::InvalidJwtToken,
            422,
            "errors.invalidJWTToken",
            "Invalid JWT token.",
        ),
        (
            DomainError::ClientNotFound("acme".into()),
            404,
            "errors.noRecord",
            "Client doesn't exist with extId 'acme'",
        ),
    ];
    for (error, status, code, message) in cases {
        let mut m = Mocks::new();
        m.passwords
            .expect_reset_password()
            .times(1)
            .returning(move |_, _, _, _| Err(error.clone().into()));
        let r = send(m, authed(TestRequest::post().uri(RESET))).await;
        r.assert_error(status, code, message);
        assert!(r.header("cache-control").is_none());
    }
}

// ---- generic -------------------------------------------------------------------------------

#[actix_rt::test]
async fn every_password_route_is_401_without_auth_and_no_use_case_runs() {
    for req in [
        TestRequest::post()
            .uri(PASSWORD)
            .insert_header(("Content-Type", "application/json"))
            .set_payload("{}"),
        TestRequest::get().uri(PASSWORD),
        TestRequest::patch()
            .uri(PASSWORD)
            .insert_header(("Content-Type", "application/json"))
            .set_payload("{}"),
        TestRequest::post().uri(RESET),
    ] {
        let r = send(Mocks::new(), req).await;
        r.assert_error(401, "errors.userLoginFailed", "Authentication required.");
        assert_eq!(
            r.header("www-authenticate"),
            Some("Basic realm=\"nevisIDM\"")
        );
    }
}

#[actix_rt::test]
async fn other_methods_on_password_paths_are_405() {
    let r = send(Mocks::new(), authed(TestRequest::delete().uri(PASSWORD))).await;
    r.assert_error(405, "errors.unsupportedOperation", "Method not allowed.");
    assert_eq!(r.header("allow"), Some("POST, GET, PATCH"));

    let r = send(Mocks::new(), authed(TestRequest::get().uri(RESET))).await;
    r.assert_error(405, "errors.unsupportedOperation", "Method not allowed.");
    assert_eq!(r.header("allow"), Some("POST"));
}
