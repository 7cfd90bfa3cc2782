//! `/core/v1/clients`.

use actix_web::test::TestRequest;
use idm_domain::access::Right;
use idm_domain::client::ClientPatch;
use idm_domain::paging::{Page, PageCursor};
use idm_domain::patch::Patch;
use idm_domain::DomainError;
use idm_ports::usecases::CreateClient;
use serde_json::json;

use super::support::*;

#[actix_rt::test]
async fn create_client_answers_201_with_location_and_the_client() {
    let mut m = Mocks::new();
    m.clients
        .expect_create_client()
        .withf(|c, cmd| {
            *c == caller()
                && *cmd
                    == Ok(CreateClient {
                        ext_id: Some("acme".into()),
                        name: Some("Acme".into()),
                    })
        })
        .times(1)
        .returning(|_, _| Ok(client()));
    let r = send(
        m,
        json_req(
            TestRequest::post().uri("/nevisidm/api/core/v1/clients"),
            r#"{"extId":"acme","name":"Acme","ignored":{"x":[1]}}"#,
        ),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.raw);
    assert_eq!(
        r.header("location"),
        Some("/nevisidm/api/core/v1/clients/acme")
    );
    assert!(r
        .header("content-type")
        .unwrap()
        .starts_with("application/json"));
    assert_eq!(
        r.json,
        json!({"extId": "acme", "name": "Acme", "created": T0, "lastModified": T1, "version": 1})
    );
}

#[actix_rt::test]
async fn create_client_passes_null_fields_as_absent() {
    let mut m = Mocks::new();
    m.clients
        .expect_create_client()
        .withf(|_, cmd| {
            *cmd == Ok(CreateClient {
                ext_id: None,
                name: None,
            })
        })
        .times(1)
        .returning(|_, _| Err(DomainError::NullParameter("name".into()).into()));
    let r = send(
        m,
        json_req(
            TestRequest::post().uri("/nevisidm/api/core/v1/clients"),
            r#"{"extId":null}"#,
        ),
    )
    .await;
    r.assert_error(
        422,
        "errors.nullParameter",
        "The 'name' parameter is mandatory.",
    );
}

#[actix_rt::test]
async fn create_client_without_the_right_is_403() {
    let mut m = Mocks::new();
    m.clients
        .expect_create_client()
        .returning(|_, _| Err(DomainError::MissingRight(Right::ClientCreate).into()));
    let r = send(
        m,
        json_req(
            TestRequest::post().uri("/nevisidm/api/core/v1/clients"),
            r#"{"name":"Acme"}"#,
        ),
    )
    .await;
    r.assert_error(
        403,
        "errors.insufficientRightsFunction",
        "Permission denied: Caller does not have the required right 'AccessControl.ClientCreate' to perform this action",
    );
}

#[actix_rt::test]
async fn get_client_answers_200() {
    let mut m = Mocks::new();
    m.clients
        .expect_get_client()
        .withf(|c, ext_id| *c == caller() && ext_id == "acme")
        .times(1)
        .returning(|_, _| Ok(client()));
    let r = send(
        m,
        authed(TestRequest::get().uri("/nevisidm/api/core/v1/clients/acme")),
    )
    .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json["extId"], "acme");
    assert_eq!(r.json["version"], 1);
    assert!(r.header("location").is_none());
}

#[actix_rt::test]
async fn get_unknown_client_is_404_no_record() {
    let mut m = Mocks::new();
    m.clients
        .expect_get_client()
        .returning(|_, id| Err(DomainError::ClientNotFound(id.to_owned()).into()));
    let r = send(
        m,
        authed(TestRequest::get().uri("/nevisidm/api/core/v1/clients/nope")),
    )
    .await;
    r.assert_error(
        404,
        "errors.noRecord",
        "Client doesn't exist with extId 'nope'",
    );
}

#[actix_rt::test]
async fn a_path_param_that_is_no_ext_id_still_reaches_the_use_case() {
    let mut m = Mocks::new();
    m.clients
        .expect_get_client()
        .withf(|_, id| id == "bad id!")
        .times(1)
        .returning(|_, id| Err(DomainError::ClientNotFound(id.to_owned()).into()));
    let r = send(
        m,
        authed(TestRequest::get().uri("/nevisidm/api/core/v1/clients/bad%20id!")),
    )
    .await;
    r.assert_error(
        404,
        "errors.noRecord",
        "Client doesn't exist with extId 'bad id!'",
    );
}

#[actix_rt::test]
async fn data_room_denied_is_403_combined() {
    let mut m = Mocks::new();
    m.clients
        .expect_get_client()
        .returning(|_, _| Err(DomainError::DataRoomDenied(Right::ClientView).into()));
    let r = send(
        m,
        authed(TestRequest::get().uri("/nevisidm/api/core/v1/clients/other")),
    )
    .await;
    r.assert_error(
        403,
        "errors.combinedDataroomDenied",
        "Permission denied: AccessControl.ClientView",
    );
}

// ---- SPEC §12: list and PATCH -------------------------------------------------------------

#[actix_rt::test]
async fn list_clients_answers_one_page() {
    let mut m = Mocks::new();
    m.clients
        .expect_list_clients()
        .withf(|c, page| *c == caller() && page.limit == 1 && page.after.is_none())
        .times(1)
        .returning(|_, _| {
            Ok(Page {
                items: vec![client()],
                limit: 1,
                next: Some(PageCursor {
                    created: t(0),
                    ext_id: "acme".into(),
                }),
            })
        });
    let r = send(
        m,
        authed(TestRequest::get().uri("/nevisidm/api/core/v1/clients?limit=1")),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.raw);
    assert_eq!(
        r.json["items"],
        json!([{"extId": "acme", "name": "Acme", "created": T0, "lastModified": T1, "version": 1}])
    );
    assert_eq!(r.json["_pagination"]["limit"], 1);
    assert!(r.json["_pagination"]["continuationToken"].is_string());
}

#[actix_rt::test]
async fn list_clients_maps_a_missing_right_and_checks_the_query_after_authentication() {
    let mut m = Mocks::new();
    m.clients
        .expect_list_clients()
        .returning(|_, _| Err(DomainError::MissingRight(Right::ClientView).into()));
    let r = send(
        m,
        authed(TestRequest::get().uri("/nevisidm/api/core/v1/clients")),
    )
    .await;
    r.assert_error(
        403,
        "errors.insufficientRightsFunction",
        "Permission denied: Caller does not have the required right 'AccessControl.ClientView' to perform this action",
    );
    let r = send(
        Mocks::new(),
        authed(TestRequest::get().uri("/nevisidm/api/core/v1/clients?continuationToken=%21")),
    )
    .await;
    r.assert_error(422, "errors.invalidParameter", "Invalid continuationToken.");
    let r = send(
        Mocks::new(),
        TestRequest::get().uri("/nevisidm/api/core/v1/clients?limit=0"),
    )
    .await;
    r.assert_error(401, "errors.userLoginFailed", "Authentication required.");
}

#[actix_rt::test]
async fn patch_client_passes_name_and_version() {
    let mut m = Mocks::new();
    m.clients
        .expect_patch_client()
        .withf(|c, id, patch| {
            *c == caller()
                && id == "acme"
                && *patch
                    == Ok(ClientPatch {
                        name: Patch::Set("Acme Corp".into()),
                        version: Some(1),
                    })
        })
        .times(1)
        .returning(|_, _, _| {
            let mut c = client();
            c.name = "Acme Corp".into();
            c.version = 2;
            Ok(c)
        });
    let r = send(
        m,
        json_req(
            TestRequest::patch().uri("/nevisidm/api/core/v1/clients/acme"),
            r#"{"name":"Acme Corp","version":1,"extId":"ignored"}"#,
        ),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.raw);
    assert_eq!(
        r.json,
        json!({"extId": "acme", "name": "Acme Corp", "created": T0, "lastModified": T1, "version": 2})
    );
}

#[actix_rt::test]
async fn patch_client_tells_null_from_absent_and_maps_refusals() {
    for (body, name) in [
        (r#"{"name":null}"#, Patch::Remove),
        (r#"{"version":null}"#, Patch::Keep),
    ] {
        let mut m = Mocks::new();
        m.clients
            .expect_patch_client()
            .withf(move |_, _, patch| {
                patch
                    .as_ref()
                    .is_ok_and(|p| p.name == name && p.version.is_none())
            })
            .times(1)
            .returning(|_, _, _| Ok(client()));
        let r = send(
            m,
            json_req(
                TestRequest::patch().uri("/nevisidm/api/core/v1/clients/acme"),
                body,
            ),
        )
        .await;
        assert_eq!(r.status, 200, "{body}: {}", r.raw);
    }
    for (error, status, code, message) in [
        (
            DomainError::DuplicateClientName("Beta".into()),
            422,
            "errors.duplicateName",
            "A client with this name 'Beta' already exists",
        ),
        (
            DomainError::OptimisticLockingFailure,
            409,
            "errors.optimisticLockingFailure",
            "The entity was modified concurrently; reload it and retry.",
        ),
        (
            DomainError::DataRoomDenied(Right::ClientModify),
            403,
            "errors.combinedDataroomDenied",
            "Permission denied: AccessControl.ClientModify",
        ),
    ] {
        let mut m = Mocks::new();
        m.clients
            .expect_patch_client()
            .times(1)
            .returning(move |_, _, _| Err(error.clone().into()));
        let r = send(
            m,
            json_req(
                TestRequest::patch().uri("/nevisidm/api/core/v1/clients/acme"),
                r#"{"name":"Beta"}"#,
            ),
        )
        .await;
        r.assert_error(status, code, message);
    }
}
