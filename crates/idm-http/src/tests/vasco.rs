//! `/core/v1/:clientExtId/vasco`, its assignment and unassignment (SPEC §6.4, §8.7).

use actix_web::test::TestRequest;
use idm_domain::credential::{CredentialSecret, CredentialState, VascoToken};
use idm_domain::paging::{Page, PageCursor, PageRequest};
use idm_domain::DomainError;
use idm_ports::repos::CredentialRecord;
use idm_ports::usecases::{CreateVasco, VascoTokenInput};
use idm_ports::AppError;
use serde_json::json;

use super::support::*;
use crate::body::BodyRejection;
use crate::dto::page::encode_token;

const VASCOS: &str = "/nevisidm/api/core/v1/acme/vasco";
const VASCO: &str = "/nevisidm/api/core/v1/acme/vasco/vasco-1";
const UNASSIGN: &str = "/nevisidm/api/core/v1/acme/vasco/vasco-1/unassign";
const ASSIGN: &str = "/nevisidm/api/core/v1/acme/users/jdoe-1/vasco/vasco-1";

/// A VASCO credential created at `secs`, assigned to `user` if given.
fn vasco(ext_id: &str, secs: i64, user: Option<&str>) -> CredentialRecord {
    let mut r = credential(ext_id, secs);
    r.credential.state = CredentialState::Initial;
    r.credential.user_id = user.map(|_| "u-2".to_owned());
    r.user_ext_id = user.map(ext);
    r.policy_ext_id = ext("vp-1");
    r.credential.secret = CredentialSecret::Vasco {
        tokens: vec![
            VascoToken {
                auth_mode: "CR".into(),
                data: "AAEC".into(),
            },
            VascoToken {
                auth_mode: "RO".into(),
                data: "AwQF".into(),
            },
        ],
    };
    r
}

/// The JSON of [`vasco`]`("vasco-1", 0, user)`.
fn vasco_json(user: Option<&str>) -> serde_json::Value {
    let mut v = json!({
        "created": T0, "lastModified": T0, "version": 2, "extId": "vasco-1",
        "policyExtId": "vp-1", "stateName": "initial",
        "stateChangeReason": "initialized", "successfulLoginCount": 0,
        "lastFailedLoginDate": T1, "failedLoginCount": 1, "type": "Vasco",
        "validity": {"from": T0, "to": "2023-11-14T22:13:30.000Z"},
        "vascoTokens": [{"authMode": "CR", "data": "AAEC"}, {"authMode": "RO", "data": "AwQF"}]
    });
    if let Some(u) = user {
        v["userExtId"] = json!(u);
    }
    v
}

// ---- create --------------------------------------------------------------------------------

#[actix_rt::test]
async fn create_maps_every_field_and_answers_201_with_location() {
    let mut m = Mocks::new();
    m.vasco
        .expect_create_vasco()
        .withf(|c, client, cmd| {
            *c == caller()
                && client == "acme"
                && *cmd
                    == Ok(CreateVasco {
                        ext_id: Some("vasco-1".into()),
                        policy_ext_id: Some("vp-1".into()),
                        state_name: Some("initial".into()),
                        vasco_tokens: Some(vec![
                            VascoTokenInput {
                                auth_mode: Some("CR".into()),
                                data: Some("AAEC".into()),
                            },
                            VascoTokenInput {
                                auth_mode: None,
                                data: None,
                            },
                        ]),
                    })
        })
        .times(1)
        .returning(|_, _, _| Ok(vasco("vasco-1", 0, None)));
    let r = send(
        m,
        json_req(
            TestRequest::post().uri(VASCOS),
            r#"{"extId":"vasco-1","policyExtId":"vp-1","stateName":"initial",
                "vascoTokens":[{"authMode":"CR","data":"AAEC"},{"authMode":null}],"x":1}"#,
        ),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.raw);
    assert_eq!(r.json, vasco_json(None));
    assert!(r.json.get("userExtId").is_none());
    assert_eq!(r.header("location"), Some(VASCO));
    assert!(r
        .header("content-type")
        .is_some_and(|c| c.starts_with("application/json")));
}

#[actix_rt::test]
async fn create_with_an_empty_body_object_passes_defaults() {
    let mut m = Mocks::new();
    m.vasco
        .expect_create_vasco()
        .withf(|_, _, cmd| *cmd == Ok(CreateVasco::default()))
        .times(1)
        .returning(|_, _, _| Err(DomainError::VascoTokenRequired.into()));
    let r = send(m, json_req(TestRequest::post().uri(VASCOS), "{}")).await;
    r.assert_error(
        422,
        "errors.invalidData",
        "Vasco Digipass Token is necessary.",
    );
}

#[actix_rt::test]
async fn create_body_errors_reach_the_use_case_and_answer_400() {
    for (body, rejection, code, message) in [
        (
            "{nope",
            BodyRejection::MalformedJson,
            "errors.jsonProcessingError",
            "Malformed JSON request body.".to_owned(),
        ),
        (
            r#"{"vascoTokens":[{"authMode":7}]}"#,
            BodyRejection::InvalidField("vascoTokens[0].authMode".into()),
            "errors.deserialization",
            "Invalid value for field 'vascoTokens[0].authMode'.".to_owned(),
        ),
        (
            r#"{"vascoTokens":"CR"}"#,
            BodyRejection::InvalidField("vascoTokens".into()),
            "errors.deserialization",
            "Invalid value for field 'vascoTokens'.".to_owned(),
        ),
    ] {
        let mut m = Mocks::new();
        let expected = rejection.clone();
        m.vasco
            .expect_create_vasco()
            .withf(move |_, _, cmd| matches!(cmd, Err(AppError::BadBody(r)) if *r == expected))
            .times(1)
            .returning(|_, _, cmd| cmd.map(|_| vasco("vasco-1", 0, None)));
        let r = send(m, json_req(TestRequest::post().uri(VASCOS), body)).await;
        r.assert_error(400, code, &message);
    }
}

#[actix_rt::test]
async fn create_maps_the_spec_failures() {
    let cases: Vec<(DomainError, u16, &str, &str)> = vec![
        (
            DomainError::VascoTokenRequired,
            422,
            "errors.invalidData",
            "Vasco Digipass Token is necessary.",
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
        m.vasco
            .expect_create_vasco()
            .times(1)
            .returning(move |_, _, _| Err(error.clone().into()));
        let r = send(m, json_req(TestRequest::post().uri(VASCOS), "{}")).await;
        r.assert_error(status, code, message);
        assert!(r.header("location").is_none());
    }
}

// ---- read ----------------------------------------------------------------------------------

#[actix_rt::test]
async fn get_answers_200_with_the_tokens() {
    let mut m = Mocks::new();
    m.vasco
        .expect_get_vasco()
        .withf(|c, client, id| *c == caller() && client == "acme" && id == "vasco-1")
        .times(1)
        .returning(|_, _, _| Ok(vasco("vasco-1", 0, Some("jdoe-1"))));
    let r = send(m, authed(TestRequest::get().uri(VASCO))).await;
    assert_eq!(r.status, 200, "{}", r.raw);
    assert_eq!(r.json, vasco_json(Some("jdoe-1")));
}

#[actix_rt::test]
async fn get_unknown_is_404() {
    let mut m = Mocks::new();
    m.vasco
        .expect_get_vasco()
        .withf(|_, _, id| id == "v9")
        .times(1)
        .returning(|_, _, _| Err(DomainError::VascoNotFound("v9".into()).into()));
    let r = send(
        m,
        authed(TestRequest::get().uri("/nevisidm/api/core/v1/acme/vasco/v9")),
    )
    .await;
    r.assert_error(
        404,
        "errors.noRecord",
        "VASCO credential with the extId v9 does not exist",
    );
}

#[actix_rt::test]
async fn list_pages_with_an_opaque_token() {
    let mut m = Mocks::new();
    let after = PageCursor {
        created: t(0),
        ext_id: "vasco-0".into(),
    };
    let expected = PageRequest::new(Some(2), Some(after.clone())).unwrap();
    m.vasco
        .expect_list_vasco()
        .withf(move |c, client, page| *c == caller() && client == "acme" && *page == expected)
        .times(1)
        .returning(|_, _, _| {
            Ok(Page {
                items: vec![
                    vasco("vasco-1", 0, None),
                    vasco("vasco-2", 1, Some("jdoe-1")),
                ],
                limit: 2,
                next: Some(PageCursor {
                    created: t(1),
                    ext_id: "vasco-2".into(),
                }),
            })
        });
    let uri = format!(
        "{VASCOS}?limit=2&continuationToken={}",
        encode_token(&after)
    );
    let r = send(m, authed(TestRequest::get().uri(&uri))).await;
    assert_eq!(r.status, 200, "{}", r.raw);
    assert_eq!(r.json["items"][0], vasco_json(None));
    assert_eq!(r.json["items"][1]["extId"], "vasco-2");
    assert_eq!(r.json["items"][1]["userExtId"], "jdoe-1");
    assert_eq!(r.json["items"][1]["vascoTokens"][1]["authMode"], "RO");
    assert_eq!(
        r.json["_pagination"],
        json!({"limit": 2, "continuationToken": encode_token(&PageCursor {
            created: t(1),
            ext_id: "vasco-2".into(),
        })})
    );
}

#[actix_rt::test]
async fn the_last_page_has_no_token_and_defaults_apply() {
    let mut m = Mocks::new();
    m.vasco
        .expect_list_vasco()
        .withf(|_, _, page| *page == PageRequest::default())
        .times(1)
        .returning(|_, _, _| {
            Ok(Page {
                items: vec![],
                limit: 100,
                next: None,
            })
        });
    let r = send(
        m,
        authed(TestRequest::get().uri(&format!("{VASCOS}?continuationToken="))),
    )
    .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json, json!({"items": [], "_pagination": {"limit": 100}}));
}

#[actix_rt::test]
async fn bad_limits_and_tokens_are_422_without_calling_the_use_case() {
    for query in ["limit=0", "limit=x", "continuationToken=%21%21"] {
        let r = send(
            Mocks::new(),
            authed(TestRequest::get().uri(&format!("{VASCOS}?{query}"))),
        )
        .await;
        assert_eq!(r.status, 422, "{query}: {}", r.raw);
    }
}

// ---- assign / unassign ---------------------------------------------------------------------

#[actix_rt::test]
async fn assign_answers_200_and_ignores_any_body() {
    for (content_type, body) in [
        (None, ""),
        (Some("application/json"), "{not json"),
        (Some("text/plain"), "hello"),
    ] {
        let mut m = Mocks::new();
        m.vasco
            .expect_assign_vasco()
            .withf(|c, client, user, id| {
                *c == caller() && client == "acme" && user == "jdoe-1" && id == "vasco-1"
            })
            .times(1)
            .returning(|_, _, _, _| Ok(vasco("vasco-1", 0, Some("jdoe-1"))));
        let mut req = authed(TestRequest::put().uri(ASSIGN)).set_payload(body.to_owned());
        if let Some(ct) = content_type {
            req = req.insert_header(("Content-Type", ct));
        }
        let r = send(m, req).await;
        assert_eq!(r.status, 200, "{body}: {}", r.raw);
        assert_eq!(r.json, vasco_json(Some("jdoe-1")));
        assert!(r.header("location").is_none());
    }
}

#[actix_rt::test]
async fn assign_maps_the_spec_failures() {
    let cases: Vec<(DomainError, u16, &str, &str)> = vec![
        (
            DomainError::VascoAssigned("v1".into()),
            422,
            "errors.vascoExists",
            "VASCO credential v1 is already assigned",
        ),
        (
            DomainError::VascoNotFound("v9".into()),
            404,
            "errors.noRecord",
            "VASCO credential with the extId v9 does not exist",
        ),
    ];
    for (error, status, code, message) in cases {
        let mut m = Mocks::new();
        m.vasco
            .expect_assign_vasco()
            .times(1)
            .returning(move |_, _, _, _| Err(error.clone().into()));
        let r = send(m, authed(TestRequest::put().uri(ASSIGN))).await;
        r.assert_error(status, code, message);
    }
}

#[actix_rt::test]
async fn unassign_answers_200_with_the_credential() {
    let mut m = Mocks::new();
    m.vasco
        .expect_unassign_vasco()
        .withf(|c, client, id| *c == caller() && client == "acme" && id == "vasco-1")
        .times(1)
        .returning(|_, _, _| Ok(vasco("vasco-1", 0, None)));
    let r = send(m, authed(TestRequest::put().uri(UNASSIGN))).await;
    assert_eq!(r.status, 200, "{}", r.raw);
    assert_eq!(r.json, vasco_json(None));
}

#[actix_rt::test]
async fn unassign_unknown_is_404() {
    let mut m = Mocks::new();
    m.vasco
        .expect_unassign_vasco()
        .times(1)
        .returning(|_, _, _| Err(DomainError::VascoNotFound("v9".into()).into()));
    let r = send(
        m,
        authed(TestRequest::put().uri("/nevisidm/api/core/v1/acme/vasco/v9/unassign")),
    )
    .await;
    r.assert_error(
        404,
        "errors.noRecord",
        "VASCO credential with the extId v9 does not exist",
    );
}

// ---- routing -------------------------------------------------------------------------------

#[actix_rt::test]
async fn every_vasco_route_is_401_without_auth_and_no_use_case_runs() {
    for req in [
        TestRequest::post()
            .uri(VASCOS)
            .insert_header(("Content-Type", "application/json"))
            .set_payload("{}"),
        TestRequest::get().uri(VASCOS),
        TestRequest::get().uri(VASCO),
        TestRequest::put().uri(ASSIGN),
        TestRequest::put().uri(UNASSIGN),
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
async fn other_methods_on_vasco_paths_are_405() {
    for (req, allow) in [
        (TestRequest::delete().uri(VASCOS), "POST, GET"),
        (TestRequest::put().uri(VASCOS), "POST, GET"),
        (TestRequest::put().uri(VASCO), "GET"),
        (TestRequest::delete().uri(VASCO), "GET"),
        (TestRequest::get().uri(UNASSIGN), "PUT"),
        (TestRequest::post().uri(UNASSIGN), "PUT"),
        (TestRequest::get().uri(ASSIGN), "PUT"),
        (TestRequest::delete().uri(ASSIGN), "PUT"),
    ] {
        let r = send(Mocks::new(), authed(req)).await;
        r.assert_error(405, "errors.unsupportedOperation", "Method not allowed.");
        assert_eq!(r.header("allow"), Some(allow));
    }
}

#[actix_rt::test]
async fn unknown_vasco_sub_paths_are_404() {
    for uri in [
        "/nevisidm/api/core/v1/acme/vasco/v1/assign",
        "/nevisidm/api/core/v1/acme/vasco/v1/unassign/x",
        "/nevisidm/api/core/v1/acme/users/jdoe-1/vasco",
    ] {
        let r = send(Mocks::new(), authed(TestRequest::put().uri(uri))).await;
        r.assert_error(404, "errors.invalidUri", "Unknown resource.");
    }
}

#[actix_rt::test]
async fn clients_paths_and_vasco_paths_are_told_apart() {
    // GET …/clients/vasco stays the read of client "vasco" (registered first).
    let mut m = Mocks::new();
    m.clients
        .expect_get_client()
        .withf(|_, id| id == "vasco")
        .times(1)
        .returning(|_, _| Ok(client()));
    let r = send(
        m,
        authed(TestRequest::get().uri("/nevisidm/api/core/v1/clients/vasco")),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.raw);

    // POST …/clients/vasco creates a VASCO credential in client "clients".
    let mut m = Mocks::new();
    m.vasco
        .expect_create_vasco()
        .withf(|_, client, _| client == "clients")
        .times(1)
        .returning(|_, _, _| Ok(vasco("vasco-1", 0, None)));
    let r = send(
        m,
        json_req(
            TestRequest::post().uri("/nevisidm/api/core/v1/clients/vasco"),
            "{}",
        ),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.raw);
    assert_eq!(
        r.header("location"),
        Some("/nevisidm/api/core/v1/clients/vasco/vasco-1")
    );

    // GET …/acme/vasco/unassign reads the credential "unassign"; PUT on it is 405.
    let mut m = Mocks::new();
    m.vasco
        .expect_get_vasco()
        .withf(|_, _, id| id == "unassign")
        .times(1)
        .returning(|_, _, _| Ok(vasco("vasco-1", 0, None)));
    let r = send(
        m,
        authed(TestRequest::get().uri("/nevisidm/api/core/v1/acme/vasco/unassign")),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.raw);

    let r = send(
        Mocks::new(),
        authed(TestRequest::delete().uri("/nevisidm/api/core/v1/clients/vasco")),
    )
    .await;
    assert_eq!(r.status, 405);
    // GET client, PATCH client (SPEC §12), POST VASCO credential.
    assert_eq!(r.header("allow"), Some("GET, PATCH, POST"));
}
