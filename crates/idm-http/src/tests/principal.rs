//! `/principal/v1/me` and `/principal/v1/permissions` (SPEC §12).

use actix_web::test::TestRequest;
use idm_domain::access::{effective_rights, Role};
use idm_domain::DomainError;
use idm_ports::usecases::Permissions;
use serde_json::json;

use super::support::*;

#[actix_rt::test]
async fn me_answers_the_callers_own_user() {
    let mut m = Mocks::new();
    m.users
        .expect_me()
        .withf(|c| *c == caller())
        .times(1)
        .returning(|_| Ok(user_view()));
    let r = send(
        m,
        authed(TestRequest::get().uri("/nevisidm/api/principal/v1/me")),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.raw);
    assert_eq!(
        r.json,
        json!({
            "extId": "jdoe-1", "clientExtId": "acme", "loginId": "jdoe",
            "userState": "active", "languageCode": "DE", "isTechnicalUser": false,
            "name": {"title": "Dr", "firstName": "Jane"},
            "created": T0, "lastModified": T1, "version": 1
        })
    );
}

#[actix_rt::test]
async fn me_needs_authentication_and_reports_a_vanished_user() {
    let r = send(
        Mocks::new(),
        TestRequest::get().uri("/nevisidm/api/principal/v1/me"),
    )
    .await;
    r.assert_error(401, "errors.userLoginFailed", "Authentication required.");
    let mut m = Mocks::new();
    m.users.expect_me().returning(|_| {
        Err(DomainError::UserNotFound {
            user_ext_id: "admin".into(),
            client_name: "Default".into(),
        }
        .into())
    });
    let r = send(
        m,
        authed(TestRequest::get().uri("/nevisidm/api/principal/v1/me")),
    )
    .await;
    r.assert_error(
        404,
        "errors.noRecord",
        "A user with extId 'admin' doesn't exist on client with name Default",
    );
}

#[actix_rt::test]
async fn permissions_list_grants_and_rights_with_their_clients() {
    let grants = vec![
        grant(Role::Helpdesk, &["acme", "beta"]),
        grant(Role::UserAdmin, &["beta"]),
        grant(Role::SelfAdmin, &[]),
    ];
    let mut m = Mocks::new();
    let given = grants.clone();
    m.users
        .expect_permissions()
        .withf(|c| *c == caller())
        .times(1)
        .returning(move |_| {
            Ok(Permissions {
                grants: given.clone(),
                rights: effective_rights(&given),
            })
        });
    let r = send(
        m,
        authed(TestRequest::get().uri("/nevisidm/api/principal/v1/permissions")),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.raw);
    assert_eq!(
        r.json["grants"],
        json!([
            {"role": "Helpdesk", "clientExtIds": ["acme", "beta"]},
            {"role": "UserAdmin", "clientExtIds": ["beta"]},
            {"role": "SelfAdmin"}
        ])
    );
    let rights = r.json["rights"].as_array().unwrap();
    assert_eq!(
        rights[0],
        json!({"right": "AccessControl.UserView", "clientExtIds": ["acme", "beta"]})
    );
    assert!(
        rights.contains(&json!({"right": "AccessControl.UserDelete", "clientExtIds": ["beta"]}))
    );
    assert_eq!(rights.len(), effective_rights(&grants).len());
}

#[actix_rt::test]
async fn global_rights_have_no_client_list() {
    let mut m = Mocks::new();
    m.users.expect_permissions().returning(|c| {
        Ok(Permissions {
            grants: c.grants.clone(),
            rights: effective_rights(&c.grants),
        })
    });
    let r = send(
        m,
        authed(TestRequest::get().uri("/nevisidm/api/principal/v1/permissions")),
    )
    .await;
    assert_eq!(r.json["grants"], json!([{"role": "Root"}]));
    let rights = r.json["rights"].as_array().unwrap();
    assert_eq!(rights.len(), 18);
    assert!(rights.iter().all(|r| r.get("clientExtIds").is_none()));
    assert_eq!(rights[17], json!({"right": "AccessControl.AuditView"}));
}
