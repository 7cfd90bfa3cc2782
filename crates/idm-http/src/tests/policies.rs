//! `/core/v1/:clientExtId/policies`.

use std::collections::BTreeMap;

use actix_web::test::TestRequest;
use idm_domain::error::PolicyViolation;
use idm_domain::policy::PolicyPatch;
use idm_domain::DomainError;
use idm_ports::usecases::CreatePolicy;
use serde_json::json;

use super::support::*;

const POLICIES: &str = "/nevisidm/api/core/v1/acme/policies";
const POLICY: &str = "/nevisidm/api/core/v1/acme/policies/pwd-2";

#[actix_rt::test]
async fn create_policy_answers_201_with_effective_parameters() {
    let mut m = Mocks::new();
    m.policies
        .expect_create_policy()
        .withf(|c, client, cmd| {
            *c == caller()
                && client == "acme"
                && *cmd
                    == Ok(CreatePolicy {
                        ext_id: Some("pwd-2".into()),
                        name: Some("Strict".into()),
                        description: None,
                        policy_type: Some("PwdPolicy".into()),
                        default_policy: false,
                        parameters: BTreeMap::from([("minLength".to_owned(), "10".to_owned())]),
                    })
        })
        .times(1)
        .returning(|_, _, _| Ok(policy_view()));
    let r = send(
        m,
        json_req(
            TestRequest::post().uri(POLICIES),
            r#"{"extId":"pwd-2","name":"Strict","policyType":"PwdPolicy","parameters":{"minLength":"10"}}"#,
        ),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.raw);
    assert_eq!(
        r.header("location"),
        Some("/nevisidm/api/core/v1/acme/policies/pwd-2")
    );
    let params = r.json["parameters"].as_object().unwrap();
    assert_eq!(params["minLength"], "10");
    assert_eq!(params["maxLength"], "128");
    assert_eq!(params["maxCredFailureCount"], "3");
    assert!(params.values().all(serde_json::Value::is_string));
    let mut rest = r.json.clone();
    rest.as_object_mut().unwrap().remove("parameters");
    assert_eq!(
        rest,
        json!({
            "extId": "pwd-2", "clientExtId": "acme", "name": "Strict", "policyType": "PwdPolicy",
            "defaultPolicy": false, "created": T0, "lastModified": T1, "version": 3
        })
    );
}

#[actix_rt::test]
async fn a_numeric_parameter_value_is_400_naming_the_parameter() {
    let mut m = Mocks::new();
    m.policies
        .expect_create_policy()
        .times(1)
        .returning(|_, _, cmd| cmd.map(|_| policy_view()));
    let r = send(
        m,
        json_req(
            TestRequest::post().uri(POLICIES),
            r#"{"name":"Strict","policyType":"PwdPolicy","parameters":{"minLength":10}}"#,
        ),
    )
    .await;
    r.assert_error(
        400,
        "errors.deserialization",
        "Invalid value for field 'parameters.minLength'.",
    );
}

#[actix_rt::test]
async fn get_policy_answers_200() {
    let mut m = Mocks::new();
    m.policies
        .expect_get_policy()
        .withf(|c, client, id| *c == caller() && client == "acme" && id == "pwd-2")
        .times(1)
        .returning(|_, _, _| Ok(policy_view()));
    let r = send(m, authed(TestRequest::get().uri(POLICY))).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json["policyType"], "PwdPolicy");
    assert!(r.json.get("description").is_none());
}

#[actix_rt::test]
async fn get_unknown_policy_is_404() {
    let mut m = Mocks::new();
    m.policies
        .expect_get_policy()
        .returning(|_, _, id| Err(DomainError::PolicyNotFound(id.to_owned()).into()));
    let r = send(m, authed(TestRequest::get().uri(POLICY))).await;
    r.assert_error(
        404,
        "errors.noRecord",
        "PolicyConfiguration doesn't exist with extId 'pwd-2'",
    );
}

#[actix_rt::test]
async fn patch_policy_passes_the_patch_and_answers_200() {
    let mut m = Mocks::new();
    m.policies
        .expect_patch_policy()
        .withf(|c, client, id, patch| {
            *c == caller()
                && client == "acme"
                && id == "pwd-2"
                && *patch
                    == Ok(PolicyPatch {
                        name: None,
                        description: Some("Longer".into()),
                        default_policy: Some(true),
                        parameters: Some(BTreeMap::from([(
                            "maxLength".to_owned(),
                            "64".to_owned(),
                        )])),
                        version: Some(3),
                    })
        })
        .times(1)
        .returning(|_, _, _, _| {
            let mut v = policy_view();
            v.policy.description = Some("Longer".into());
            Ok(v)
        });
    let r = send(
        m,
        json_req(
            TestRequest::patch().uri(POLICY),
            r#"{"description":"Longer","defaultPolicy":true,"parameters":{"maxLength":"64"},"version":3}"#,
        ),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.raw);
    assert_eq!(r.json["description"], "Longer");
    assert!(r.header("location").is_none());
}

#[actix_rt::test]
async fn a_stale_version_is_409() {
    let mut m = Mocks::new();
    m.policies
        .expect_patch_policy()
        .returning(|_, _, _, _| Err(DomainError::OptimisticLockingFailure.into()));
    let r = send(
        m,
        json_req(TestRequest::patch().uri(POLICY), r#"{"version":1}"#),
    )
    .await;
    r.assert_error(
        409,
        "errors.optimisticLockingFailure",
        "The entity was modified concurrently; reload it and retry.",
    );
}

#[actix_rt::test]
async fn a_wrongly_typed_version_is_400() {
    let mut m = Mocks::new();
    m.policies
        .expect_patch_policy()
        .times(1)
        .returning(|_, _, _, p| p.map(|_| policy_view()));
    let r = send(
        m,
        json_req(TestRequest::patch().uri(POLICY), r#"{"version":"3"}"#),
    )
    .await;
    r.assert_error(
        400,
        "errors.deserialization",
        "Invalid value for field 'version'.",
    );
}

#[actix_rt::test]
async fn policy_errors_map_to_422_and_violations_are_listed() {
    let mut m = Mocks::new();
    m.policies.expect_patch_policy().returning(|_, _, _, _| {
        Err(DomainError::InvalidParamName {
            name: "colour".into(),
            policy_type: "PwdPolicy".into(),
        }
        .into())
    });
    let r = send(
        m,
        json_req(
            TestRequest::patch().uri(POLICY),
            r#"{"parameters":{"colour":"red"}}"#,
        ),
    )
    .await;
    r.assert_error(
        422,
        "errors.pcyconf.invalidParamName",
        "Unknown parameter 'colour' for policy type PwdPolicy",
    );

    let mut m = Mocks::new();
    m.policies.expect_patch_policy().returning(|_, _, _, _| {
        Err(DomainError::PasswordPolicyViolated(vec![PolicyViolation {
            display_name: "Minimum length".into(),
            config_string: "minLength".into(),
            supplied_value: "password of 4 characters".into(),
            limit_value: "8".into(),
            actual_value: "4".into(),
        }])
        .into())
    });
    let r = send(m, json_req(TestRequest::patch().uri(POLICY), r#"{}"#)).await;
    assert_eq!(r.status, 422);
    assert_eq!(
        r.json,
        json!({
            "errors": [{"code": "errors.pwdPolicyViolated",
                        "message": "The password does not comply with the password policy."}],
            "policyViolations": [{"displayName": "Minimum length", "configString": "minLength",
                                  "suppliedValue": "password of 4 characters", "limitValue": "8",
                                  "actualValue": "4"}]
        })
    );
}
