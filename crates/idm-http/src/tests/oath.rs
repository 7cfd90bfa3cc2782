//! `/core/v1/:clientExtId/users/:userExtId/oath-credentials` (SPEC §6.5, §8.6).

use actix_web::test::TestRequest;
use idm_domain::credential::{CredentialSecret, OathDetails};
use idm_domain::paging::{Page, PageCursor, PageRequest};
use idm_domain::DomainError;
use idm_ports::repos::CredentialRecord;
use idm_ports::usecases::{CreateOath, OathCreated};
use idm_ports::AppError;
use serde_json::json;

use super::support::*;
use crate::body::BodyRejection;
use crate::dto::oath::OathResponse;
use crate::dto::page::encode_token;

const OATHS: &str = "/nevisidm/api/core/v1/acme/users/jdoe-1/oath-credentials";
const OATH: &str = "/nevisidm/api/core/v1/acme/users/jdoe-1/oath-credentials/oath-1";
const SEALED: &str = "bm9uY2U~Y2lwaGVydGV4dA";
const PLAIN_B32: &str = "JBSWY3DPEHPK3PXP";
const URI: &str = "otpauth://totp/Acme:jdoe?secret=JBSWY3DPEHPK3PXP&issuer=Acme&algorithm=SHA1&digits=6&period=30";
const X_TOKEN: &str = "eyJhbGciOiJIUzI1NiJ9.e30.sig";

fn oath(ext_id: &str, secs: i64) -> CredentialRecord {
    let mut r = credential(ext_id, secs);
    r.policy_ext_id = ext("op-1");
    r.credential.secret = CredentialSecret::Oath(OathDetails {
        issuer: "Acme".into(),
        authentication_method: "TOTP".into(),
        hashing_algorithm: "SHA1".into(),
        digits: 6,
        period: 30,
        counter: 0,
        encrypted_secret: SEALED.into(),
        label: "My phone".into(),
    });
    r
}

fn created_oath() -> OathCreated {
    OathCreated {
        record: oath("oath-1", 0),
        uri: URI.into(),
    }
}

/// The JSON of [`oath`]`("oath-1", 0)`, without `uri`.
fn oath_json() -> serde_json::Value {
    json!({
        "created": T0, "lastModified": T0, "version": 2, "extId": "oath-1",
        "userExtId": "jdoe-1", "policyExtId": "op-1", "stateName": "active",
        "stateChangeReason": "initialized", "successfulLoginCount": 0,
        "lastFailedLoginDate": T1, "failedLoginCount": 1, "type": "OATH",
        "validity": {"from": T0, "to": "2023-11-14T22:13:30.000Z"},
        "issuer": "Acme", "authenticationMethod": "TOTP", "hashingAlgorithm": "SHA1",
        "digits": 6, "period": 30, "counter": 0, "secret": SEALED, "label": "My phone"
    })
}

fn assert_no_store(r: &Reply) {
    assert_eq!(r.header("cache-control"), Some("no-store"));
    assert_eq!(r.header("pragma"), Some("no-cache"));
}

fn assert_no_plain_secret(r: &Reply) {
    assert!(
        !r.raw.contains(PLAIN_B32) && !r.raw.contains("otpauth"),
        "{}",
        r.raw
    );
}

// ---- create --------------------------------------------------------------------------------

#[actix_rt::test]
async fn create_answers_201_with_uri_location_and_no_store() {
    let mut m = Mocks::new();
    m.oath
        .expect_create_oath()
        .withf(|c, client, user, token, cmd| {
            *c == caller()
                && client == "acme"
                && user == "jdoe-1"
                && token.is_none()
                && *cmd
                    == Ok(CreateOath {
                        ext_id: Some("oath-1".into()),
                        policy_ext_id: Some("op-1".into()),
                        label: Some("My phone".into()),
                        state_name: Some("initial".into()),
                    })
        })
        .times(1)
        .returning(|_, _, _, _, _| Ok(created_oath()));
    let r = send(
        m,
        json_req(
            TestRequest::post().uri(OATHS),
            r#"{"extId":"oath-1","policyExtId":"op-1","label":"My phone","stateName":"initial","uri":"x"}"#,
        ),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.raw);
    let mut expected = oath_json();
    expected["uri"] = json!(URI);
    assert_eq!(r.json, expected);
    assert_eq!(r.header("location"), Some(OATH));
    assert_no_store(&r);
    assert!(r
        .header("content-type")
        .is_some_and(|c| c.starts_with("application/json")));
}

#[actix_rt::test]
async fn create_passes_the_trimmed_x_token() {
    let mut m = Mocks::new();
    m.oath
        .expect_create_oath()
        .withf(|_, _, _, token, cmd| {
            token.as_deref() == Some(X_TOKEN) && *cmd == Ok(CreateOath::default())
        })
        .times(1)
        .returning(|_, _, _, _, _| Ok(created_oath()));
    let req = json_req(TestRequest::post().uri(OATHS), "{}")
        .insert_header(("X-Token", format!("  {X_TOKEN} ")));
    let r = send(m, req).await;
    assert_eq!(r.status, 201, "{}", r.raw);
}

#[actix_rt::test]
async fn create_with_an_empty_x_token_passes_none() {
    let mut m = Mocks::new();
    m.oath
        .expect_create_oath()
        .withf(|_, _, _, token, _| token.is_none())
        .times(1)
        .returning(|_, _, _, _, _| Ok(created_oath()));
    let req = json_req(TestRequest::post().uri(OATHS), "{}").insert_header(("X-Token", "  "));
    let r = send(m, req).await;
    assert_eq!(r.status, 201, "{}", r.raw);
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
            r#"{"label":5}"#,
            BodyRejection::InvalidField("label".into()),
            "errors.deserialization",
            "Invalid value for field 'label'.".to_owned(),
        ),
        (
            "",
            BodyRejection::Missing,
            "errors.nullRequestBody",
            "Request body is required.".to_owned(),
        ),
    ] {
        let mut m = Mocks::new();
        let expected = rejection.clone();
        m.oath
            .expect_create_oath()
            .withf(
                move |_, _, _, _, cmd| matches!(cmd, Err(AppError::BadBody(r)) if *r == expected),
            )
            .times(1)
            .returning(|_, _, _, _, cmd| cmd.map(|_| created_oath()));
        let r = send(m, json_req(TestRequest::post().uri(OATHS), body)).await;
        r.assert_error(400, code, &message);
        assert_no_plain_secret(&r);
    }
}

#[actix_rt::test]
async fn create_maps_the_spec_failures() {
    let cases: Vec<(DomainError, u16, &str, &str)> = vec![
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
        m.oath
            .expect_create_oath()
            .times(1)
            .returning(move |_, _, _, _, _| Err(error.clone().into()));
        let r = send(m, json_req(TestRequest::post().uri(OATHS), "{}")).await;
        r.assert_error(status, code, message);
        assert!(r.header("location").is_none());
    }
}

// ---- read ----------------------------------------------------------------------------------

#[actix_rt::test]
async fn get_answers_200_without_uri() {
    let mut m = Mocks::new();
    m.oath
        .expect_get_oath()
        .withf(|c, client, user, id| {
            *c == caller() && client == "acme" && user == "jdoe-1" && id == "oath-1"
        })
        .times(1)
        .returning(|_, _, _, _| Ok(oath("oath-1", 0)));
    let r = send(m, authed(TestRequest::get().uri(OATH))).await;
    assert_eq!(r.status, 200, "{}", r.raw);
    assert_eq!(r.json, oath_json());
    assert!(r.json.get("uri").is_none());
    assert_no_plain_secret(&r);
}

#[actix_rt::test]
async fn get_unknown_is_404_and_a_bad_x_token_is_422() {
    let mut m = Mocks::new();
    m.oath.expect_get_oath().times(1).returning(|_, _, _, _| {
        Err(DomainError::OathNotFound {
            ext_id: "o9".into(),
            user_ext_id: "u1".into(),
        }
        .into())
    });
    let r = send(
        m,
        authed(TestRequest::get().uri("/nevisidm/api/core/v1/acme/users/u1/oath-credentials/o9")),
    )
    .await;
    r.assert_error(
        404,
        "errors.noRecord",
        "OATH credential with the extId o9 does not exist under the user u1",
    );
}

#[actix_rt::test]
async fn list_pages_with_an_opaque_token_and_no_uri() {
    let mut m = Mocks::new();
    let after = PageCursor {
        created: t(0),
        ext_id: "oath-0".into(),
    };
    let expected = PageRequest::new(Some(2), Some(after.clone())).unwrap();
    let next = PageCursor {
        created: t(2),
        ext_id: "oath-2".into(),
    };
    let n = next.clone();
    m.oath
        .expect_list_oath()
        .withf(move |c, client, user, page| {
            *c == caller() && client == "acme" && user == "jdoe-1" && *page == expected
        })
        .times(1)
        .returning(move |_, _, _, _| {
            Ok(Page {
                items: vec![oath("oath-1", 0), oath("oath-2", 2)],
                limit: 2,
                next: Some(n.clone()),
            })
        });
    let uri = format!("{OATHS}?limit=2&continuationToken={}", encode_token(&after));
    let r = send(m, authed(TestRequest::get().uri(&uri))).await;
    assert_eq!(r.status, 200, "{}", r.raw);
    assert_eq!(r.json["items"][0], oath_json());
    assert_eq!(r.json["items"][1]["extId"], "oath-2");
    assert!(r.json["items"][1].get("uri").is_none());
    assert_eq!(
        r.json["_pagination"],
        json!({"limit": 2, "continuationToken": encode_token(&next)})
    );
    assert_no_plain_secret(&r);
}

#[actix_rt::test]
async fn the_last_page_has_no_token_and_bad_queries_are_422() {
    let mut m = Mocks::new();
    m.oath
        .expect_list_oath()
        .withf(|_, _, _, page| *page == PageRequest::default())
        .times(1)
        .returning(|_, _, _, _| {
            Ok(Page {
                items: vec![],
                limit: 100,
                next: None,
            })
        });
    let r = send(m, authed(TestRequest::get().uri(OATHS))).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json, json!({"items": [], "_pagination": {"limit": 100}}));

    for query in ["limit=1001", "continuationToken=bm9waXBl"] {
        let r = send(
            Mocks::new(),
            authed(TestRequest::get().uri(&format!("{OATHS}?{query}"))),
        )
        .await;
        assert_eq!(r.status, 422, "{query}: {}", r.raw);
    }
}

// ---- delete --------------------------------------------------------------------------------

#[actix_rt::test]
async fn delete_answers_204_and_passes_no_token_when_absent() {
    let mut m = Mocks::new();
    m.oath
        .expect_delete_oath()
        .withf(|c, client, user, id, token| {
            *c == caller()
                && client == "acme"
                && user == "jdoe-1"
                && id == "oath-1"
                && token.is_none()
        })
        .times(1)
        .returning(|_, _, _, _, _| Ok(()));
    let r = send(m, authed(TestRequest::delete().uri(OATH))).await;
    assert_eq!(r.status, 204, "{}", r.raw);
    assert!(r.raw.is_empty());
}

#[actix_rt::test]
async fn delete_passes_the_trimmed_x_token() {
    let mut m = Mocks::new();
    m.oath
        .expect_delete_oath()
        .withf(|_, _, _, _, token| token.as_deref() == Some(X_TOKEN))
        .times(1)
        .returning(|_, _, _, _, _| Ok(()));
    let req = authed(TestRequest::delete().uri(OATH)).insert_header(("X-Token", X_TOKEN));
    let r = send(m, req).await;
    assert_eq!(r.status, 204, "{}", r.raw);
}

#[actix_rt::test]
async fn delete_maps_the_spec_failures() {
    let cases: Vec<(DomainError, u16, &str, &str)> = vec![
        (
            DomainError::InvalidJwtToken,
            422,
            "errors.invalidJWTToken",
            "Invalid JWT token.",
        ),
        (
            DomainError::OathNotFound {
                ext_id: "o9".into(),
                user_ext_id: "u1".into(),
            },
            404,
            "errors.noRecord",
            "OATH credential with the extId o9 does not exist under the user u1",
        ),
    ];
    for (error, status, code, message) in cases {
        let mut m = Mocks::new();
        m.oath
            .expect_delete_oath()
            .times(1)
            .returning(move |_, _, _, _, _| Err(error.clone().into()));
        let r = send(m, authed(TestRequest::delete().uri(OATH))).await;
        r.assert_error(status, code, message);
    }
}

// ---- routing and redaction -----------------------------------------------------------------

#[actix_rt::test]
async fn every_oath_route_is_401_without_auth_and_no_use_case_runs() {
    for req in [
        TestRequest::post()
            .uri(OATHS)
            .insert_header(("Content-Type", "application/json"))
            .set_payload("{}"),
        TestRequest::get().uri(OATHS),
        TestRequest::get().uri(OATH),
        TestRequest::delete().uri(OATH),
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
async fn other_methods_on_oath_paths_are_405() {
    for (req, allow) in [
        (TestRequest::delete().uri(OATHS), "POST, GET"),
        (TestRequest::put().uri(OATHS), "POST, GET"),
        (TestRequest::post().uri(OATH), "GET, DELETE"),
        (TestRequest::patch().uri(OATH), "GET, DELETE"),
    ] {
        let r = send(Mocks::new(), authed(req)).await;
        r.assert_error(405, "errors.unsupportedOperation", "Method not allowed.");
        assert_eq!(r.header("allow"), Some(allow));
    }
}

#[test]
fn debug_of_the_response_redacts_uri_and_secret() {
    let dto = OathResponse::with_uri(&oath("oath-1", 0), URI.into());
    let text = format!("{dto:?}");
    assert!(
        !text.contains(PLAIN_B32) && !text.contains("otpauth"),
        "{text}"
    );
    assert!(!text.contains(SEALED), "{text}");
    assert!(
        text.contains("oath-1") && text.contains("<redacted>"),
        "{text}"
    );
}
