//! `/core/v1/clients`.

use actix_web::test::TestRequest;
use idm_domain::access::Right;
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
