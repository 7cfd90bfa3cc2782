//! `/core/v1/:clientExtId/users/:userExtId/roles`.

use actix_web::test::TestRequest;
use idm_domain::access::Role;
use idm_domain::DomainError;
use idm_ports::usecases::GrantRole;
use serde_json::json;

use super::support::*;

const ROLES: &str = "/nevisidm/api/core/v1/acme/users/jdoe-1/roles";

#[actix_rt::test]
async fn grant_answers_201_with_the_grant_and_location() {
    let mut m = Mocks::new();
    m.roles
        .expect_grant_role()
        .withf(|c, client, user, cmd| {
            *c == caller()
                && client == "acme"
                && user == "jdoe-1"
                && *cmd
                    == Ok(GrantRole {
                        role: Some("Helpdesk".into()),
                        client_ext_ids: Some(vec!["acme".into(), "beta".into()]),
                    })
        })
        .times(1)
        .returning(|_, _, _, _| Ok(grant(Role::Helpdesk, &["acme", "beta"])));
    let r = send(
        m,
        json_req(
            TestRequest::post().uri(ROLES),
            r#"{"role":"Helpdesk","clientExtIds":["acme","beta"]}"#,
        ),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.raw);
    assert_eq!(
        r.header("location"),
        Some("/nevisidm/api/core/v1/acme/users/jdoe-1/roles/Helpdesk")
    );
    assert_eq!(
        r.json,
        json!({"role": "Helpdesk", "clientExtIds": ["acme", "beta"]})
    );
}

#[actix_rt::test]
async fn a_global_grant_omits_client_ext_ids() {
    let mut m = Mocks::new();
    m.roles
        .expect_grant_role()
        .withf(|_, _, _, cmd| {
            *cmd == Ok(GrantRole {
                role: Some("Root".into()),
                client_ext_ids: None,
            })
        })
        .times(1)
        .returning(|_, _, _, _| Ok(grant(Role::Root, &[])));
    let r = send(
        m,
        json_req(TestRequest::post().uri(ROLES), r#"{"role":"Root"}"#),
    )
    .await;
    assert_eq!(r.status, 201);
    assert_eq!(r.json, json!({"role": "Root"}));
}

#[actix_rt::test]
async fn client_ext_ids_of_the_wrong_shape_are_400() {
    let mut m = Mocks::new();
    m.roles
        .expect_grant_role()
        .times(1)
        .returning(|_, _, _, cmd| cmd.map(|_| grant(Role::Root, &[])));
    let r = send(
        m,
        json_req(
            TestRequest::post().uri(ROLES),
            r#"{"role":"Helpdesk","clientExtIds":"acme"}"#,
        ),
    )
    .await;
    r.assert_error(
        400,
        "errors.deserialization",
        "Invalid value for field 'clientExtIds'.",
    );
}

#[actix_rt::test]
async fn privilege_escalation_and_unknown_role() {
    let mut m = Mocks::new();
    m.roles
        .expect_grant_role()
        .returning(|_, _, _, _| Err(DomainError::PrivilegeEscalation.into()));
    let r = send(
        m,
        json_req(TestRequest::post().uri(ROLES), r#"{"role":"Root"}"#),
    )
    .await;
    r.assert_error(
        403,
        "errors.potentialPrivilegeEscalation",
        "Permission denied: a role can only be granted within the caller's own rights and data rooms",
    );

    let mut m = Mocks::new();
    m.roles
        .expect_grant_role()
        .returning(|_, _, _, _| Err(DomainError::UnknownRole("Boss".into()).into()));
    let r = send(
        m,
        json_req(TestRequest::post().uri(ROLES), r#"{"role":"Boss"}"#),
    )
    .await;
    r.assert_error(422, "errors.invalidParameter", "Unknown role 'Boss'");
}

#[actix_rt::test]
async fn list_answers_every_grant() {
    let mut m = Mocks::new();
    m.roles
        .expect_list_roles()
        .withf(|c, client, user| *c == caller() && client == "acme" && user == "jdoe-1")
        .times(1)
        .returning(|_, _, _| {
            Ok(vec![
                grant(Role::SelfAdmin, &[]),
                grant(Role::UserAdmin, &["acme"]),
            ])
        });
    let r = send(m, authed(TestRequest::get().uri(ROLES))).await;
    assert_eq!(r.status, 200);
    assert_eq!(
        r.json,
        json!({"items": [{"role": "SelfAdmin"}, {"role": "UserAdmin", "clientExtIds": ["acme"]}]})
    );
}

#[actix_rt::test]
async fn revoke_answers_204_without_a_body() {
    let mut m = Mocks::new();
    m.roles
        .expect_revoke_role()
        .withf(|c, client, user, role| {
            *c == caller() && client == "acme" && user == "jdoe-1" && role == "Helpdesk"
        })
        .times(1)
        .returning(|_, _, _, _| Ok(()));
    let r = send(
        m,
        authed(TestRequest::delete().uri(&format!("{ROLES}/Helpdesk"))),
    )
    .await;
    assert_eq!(r.status, 204);
    assert!(r.raw.is_empty());
}

#[actix_rt::test]
async fn revoking_a_role_not_held_is_404() {
    let mut m = Mocks::new();
    m.roles.expect_revoke_role().returning(|_, _, u, role| {
        Err(DomainError::RoleGrantNotFound {
            user_ext_id: u.to_owned(),
            role: role.to_owned(),
        }
        .into())
    });
    let r = send(
        m,
        authed(TestRequest::delete().uri(&format!("{ROLES}/Helpdesk"))),
    )
    .await;
    r.assert_error(
        404,
        "errors.noRecord",
        "User with extId jdoe-1 has no role 'Helpdesk'",
    );
}
