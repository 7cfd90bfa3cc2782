//! `/core/v1/:clientExtId/users` and the credential list.

use actix_web::test::TestRequest;
use idm_domain::access::Right;
use idm_domain::paging::{Page, PageCursor, PageRequest};
use idm_domain::patch::Patch;
use idm_domain::user::{Contacts, LanguageCode, NamePatch, PersonName, UserPatch, UserState};
use idm_domain::DomainError;
use idm_ports::usecases::{CreateUser, UserFilter};
use serde_json::json;

use super::support::*;
use crate::body::BodyRejection;

const USERS: &str = "/nevisidm/api/core/v1/acme/users";

#[actix_rt::test]
async fn create_user_maps_every_field_and_answers_201() {
    let mut m = Mocks::new();
    m.users
        .expect_create_user()
        .withf(|c, client, cmd| {
            *c == caller()
                && client == "acme"
                && *cmd
                    == Ok(CreateUser {
                        ext_id: Some("jdoe-1".into()),
                        login_id: Some("jdoe".into()),
                        external_id: None,
                        state: Some(UserState::Disabled),
                        language: Some(LanguageCode::Fr),
                        is_technical_user: Some(true),
                        name: PersonName {
                            title: None,
                            first_name: Some("Jane".into()),
                            family_name: Some("Doe".into()),
                        },
                        contacts: Contacts {
                            email: Some("jane@example.com".into()),
                            mobile: None,
                        },
                    })
        })
        .times(1)
        .returning(|_, _, _| Ok(user_view()));
    let body = r#"{"extId":"jdoe-1","loginId":"jdoe","userState":"disabled","languageCode":"FR",
        "isTechnicalUser":true,"name":{"firstName":"Jane","familyName":"Doe"},
        "contacts":{"email":"jane@example.com"}}"#;
    let r = send(m, json_req(TestRequest::post().uri(USERS), body)).await;
    assert_eq!(r.status, 201, "{}", r.raw);
    assert_eq!(
        r.header("location"),
        Some("/nevisidm/api/core/v1/acme/users/jdoe-1")
    );
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
async fn an_unknown_user_state_is_a_deserialization_error_reported_by_the_use_case() {
    let mut m = Mocks::new();
    m.users
        .expect_create_user()
        .withf(|_, _, cmd| {
            matches!(cmd, Err(idm_ports::AppError::BadBody(BodyRejection::InvalidField(f))) if f == "userState")
        })
        .times(1)
        .returning(|_, _, cmd| cmd.map(|_| user_view()));
    let r = send(
        m,
        json_req(
            TestRequest::post().uri(USERS),
            r#"{"loginId":"jdoe","userState":"sleeping"}"#,
        ),
    )
    .await;
    r.assert_error(
        400,
        "errors.deserialization",
        "Invalid value for field 'userState'.",
    );
}

#[actix_rt::test]
async fn a_nested_wrong_type_names_the_nested_field() {
    let mut m = Mocks::new();
    m.users
        .expect_create_user()
        .times(1)
        .returning(|_, _, cmd| cmd.map(|_| user_view()));
    let r = send(
        m,
        json_req(
            TestRequest::post().uri(USERS),
            r#"{"loginId":"jdoe","name":{"firstName":7}}"#,
        ),
    )
    .await;
    r.assert_error(
        400,
        "errors.deserialization",
        "Invalid value for field 'name.firstName'.",
    );
}

#[actix_rt::test]
async fn get_user_shows_last_login_when_known() {
    let mut m = Mocks::new();
    m.users
        .expect_get_user()
        .withf(|c, client, user| *c == caller() && client == "acme" && user == "jdoe-1")
        .times(1)
        .returning(|_, _, _| {
            let mut v = user_view();
            v.user.last_login = Some(t(5));
            v.user.contacts.mobile = Some("+41791234567".into());
            Ok(v)
        });
    let r = send(
        m,
        authed(TestRequest::get().uri("/nevisidm/api/core/v1/acme/users/jdoe-1")),
    )
    .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json["lastLogin"], "2023-11-14T22:13:25.000Z");
    assert_eq!(r.json["contacts"], json!({"mobile": "+41791234567"}));
    assert!(r.json.get("lastLoginFailure").is_none());
}

#[actix_rt::test]
async fn get_unknown_user_is_404() {
    let mut m = Mocks::new();
    m.users.expect_get_user().returning(|_, _, u| {
        Err(DomainError::UserNotFound {
            user_ext_id: u.to_owned(),
            client_name: "Acme".into(),
        }
        .into())
    });
    let r = send(
        m,
        authed(TestRequest::get().uri("/nevisidm/api/core/v1/acme/users/ghost")),
    )
    .await;
    r.assert_error(
        404,
        "errors.noRecord",
        "A user with extId 'ghost' doesn't exist on client with name Acme",
    );
}

fn token(created: &str, ext_id: &str) -> String {
    crate::dto::page::encode_token(&PageCursor {
        created: chrono::DateTime::parse_from_rfc3339(created)
            .expect("a test time")
            .into(),
        ext_id: ext_id.to_owned(),
    })
}

#[actix_rt::test]
async fn list_credentials_pages_with_an_opaque_token() {
    let mut m = Mocks::new();
    let after = PageCursor {
        created: t(0),
        ext_id: "pwd-0".into(),
    };
    let expected = PageRequest::new(Some(2), Some(after)).unwrap();
    m.users
        .expect_list_credentials()
        .withf(move |c, client, user, page| {
            *c == caller() && client == "acme" && user == "jdoe-1" && *page == expected
        })
        .times(1)
        .returning(|_, _, _, _| {
            Ok(Page {
                items: vec![credential("pwd-1", 1), credential("oath-1", 2)],
                limit: 2,
                next: Some(PageCursor {
                    created: t(2),
                    ext_id: "oath-1".into(),
                }),
            })
        });
    let uri = format!(
        "/nevisidm/api/core/v1/acme/users/jdoe-1/credentials?limit=2&continuationToken={}",
        token("2023-11-14T22:13:20.000000000Z", "pwd-0")
    );
    let r = send(m, authed(TestRequest::get().uri(&uri))).await;
    assert_eq!(r.status, 200, "{}", r.raw);
    assert!(!r.raw.contains("SECRETHASH") && !r.raw.contains("argon2"));
    assert_eq!(
        r.json["items"][0],
        json!({
            "created": "2023-11-14T22:13:21.000Z", "lastModified": "2023-11-14T22:13:21.000Z",
            "version": 2, "extId": "pwd-1", "userExtId": "jdoe-1", "policyExtId": "pwd-policy",
            "stateName": "active", "stateChangeReason": "initialized",
            "successfulLoginCount": 0, "lastFailedLoginDate": T1, "failedLoginCount": 1,
            "type": "Password",
            "validity": {"from": "2023-11-14T22:13:21.000Z", "to": "2023-11-14T22:13:31.000Z"}
        })
    );
    assert_eq!(r.json["_pagination"]["limit"], 2);
    assert_eq!(
        r.json["_pagination"]["continuationToken"],
        token("2023-11-14T22:13:22.000000000Z", "oath-1")
    );
}

#[actix_rt::test]
async fn the_last_page_has_no_token_and_defaults_apply() {
    let mut m = Mocks::new();
    m.users
        .expect_list_credentials()
        .withf(|_, _, _, page| *page == PageRequest::default())
        .times(1)
        .returning(|_, _, _, _| {
            Ok(Page {
                items: vec![],
                limit: 100,
                next: None,
            })
        });
    let r = send(
        m,
        authed(TestRequest::get().uri("/nevisidm/api/core/v1/acme/users/jdoe-1/credentials")),
    )
    .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json, json!({"items": [], "_pagination": {"limit": 100}}));
}

#[actix_rt::test]
async fn bad_limits_and_tokens_are_422_without_calling_the_use_case() {
    for (query, message) in [
        (
            "limit=0",
            "The 'limit' parameter must be between 1 and 1000.",
        ),
        (
            "limit=1001",
            "The 'limit' parameter must be between 1 and 1000.",
        ),
        (
            "limit=ten",
            "The 'limit' parameter must be between 1 and 1000.",
        ),
        ("continuationToken=%21%21", "Invalid continuationToken."),
        (
            "continuationToken=bm90LWEtdG9rZW4",
            "Invalid continuationToken.",
        ),
    ] {
        let uri = format!("/nevisidm/api/core/v1/acme/users/jdoe-1/credentials?{query}");
        let r = send(Mocks::new(), authed(TestRequest::get().uri(&uri))).await;
        r.assert_error(422, "errors.invalidParameter", message);
    }
}

#[actix_rt::test]
async fn authentication_comes_before_the_query() {
    let r = send(
        Mocks::new(),
        TestRequest::get().uri("/nevisidm/api/core/v1/acme/users/jdoe-1/credentials?limit=0"),
    )
    .await;
    r.assert_error(401, "errors.userLoginFailed", "Authentication required.");
}

// ---- SPEC §12: list, PATCH, DELETE ------------------------------------------------------

const LIST: &str = "/nevisidm/api/core/v1/clients/acme/users";
const USER: &str = "/nevisidm/api/core/v1/acme/users/jdoe-1";

#[actix_rt::test]
async fn list_users_passes_filters_and_page_and_answers_a_list() {
    let mut m = Mocks::new();
    let after = PageCursor {
        created: t(0),
        ext_id: "u-0".into(),
    };
    let expected = PageRequest::new(Some(1), Some(after)).unwrap();
    m.users
        .expect_list_users()
        .withf(move |c, client, filter, page| {
            *c == caller()
                && client == "acme"
                && *filter
                    == UserFilter {
                        login_id: Some("jdoe".into()),
                        email: Some("Jane@Example.com".into()),
                        user_state: Some("active".into()),
                        q: Some("d%o".into()),
                    }
                && *page == expected
        })
        .times(1)
        .returning(|_, _, _, _| {
            Ok(Page {
                items: vec![user_view()],
                limit: 1,
                next: Some(PageCursor {
                    created: t(0),
                    ext_id: "jdoe-1".into(),
                }),
            })
        });
    let uri = format!(
        "{LIST}?loginId=jdoe&email=Jane%40Example.com&userState=active&q=d%25o&limit=1&continuationToken={}&unknown=x",
        token("2023-11-14T22:13:20.000000000Z", "u-0")
    );
    let r = send(m, authed(TestRequest::get().uri(&uri))).await;
    assert_eq!(r.status, 200, "{}", r.raw);
    assert_eq!(
        r.json,
        json!({
            "items": [{
                "extId": "jdoe-1", "clientExtId": "acme", "loginId": "jdoe",
                "userState": "active", "languageCode": "DE", "isTechnicalUser": false,
                "name": {"title": "Dr", "firstName": "Jane"},
                "created": T0, "lastModified": T1, "version": 1
            }],
            "_pagination": {
                "limit": 1,
                "continuationToken": token("2023-11-14T22:13:20.000000000Z", "jdoe-1")
            }
        })
    );
}

#[actix_rt::test]
async fn list_users_without_filters_and_a_repeated_filter_takes_the_last() {
    let mut m = Mocks::new();
    m.users
        .expect_list_users()
        .withf(|_, _, filter, page| {
            *filter == UserFilter::default() && *page == PageRequest::default()
        })
        .times(1)
        .returning(|_, _, _, _| {
            Ok(Page {
                items: vec![],
                limit: 100,
                next: None,
            })
        });
    let r = send(m, authed(TestRequest::get().uri(LIST))).await;
    assert_eq!(r.json, json!({"items": [], "_pagination": {"limit": 100}}));

    let mut m = Mocks::new();
    m.users
        .expect_list_users()
        .withf(|_, _, filter, _| filter.q.as_deref() == Some("b"))
        .times(1)
        .returning(|_, _, _, _| {
            Ok(Page {
                items: vec![],
                limit: 100,
                next: None,
            })
        });
    let r = send(
        m,
        authed(TestRequest::get().uri(&format!("{LIST}?q=a&q=b"))),
    )
    .await;
    assert_eq!(r.status, 200);
}

#[actix_rt::test]
async fn list_users_maps_the_use_case_refusals() {
    let mut m = Mocks::new();
    m.users.expect_list_users().returning(|_, _, _, _| {
        Err(DomainError::InvalidParameter("Invalid userState 'gone'".into()).into())
    });
    let r = send(
        m,
        authed(TestRequest::get().uri(&format!("{LIST}?userState=gone"))),
    )
    .await;
    r.assert_error(422, "errors.invalidParameter", "Invalid userState 'gone'");

    let mut m = Mocks::new();
    m.users
        .expect_list_users()
        .returning(|_, _, _, _| Err(DomainError::DataRoomDenied(Right::UserView).into()));
    let r = send(m, authed(TestRequest::get().uri(LIST))).await;
    r.assert_error(
        403,
        "errors.combinedDataroomDenied",
        "Permission denied: AccessControl.UserView",
    );

    let r = send(
        Mocks::new(),
        authed(TestRequest::get().uri(&format!("{LIST}?limit=0"))),
    )
    .await;
    r.assert_error(
        422,
        "errors.invalidParameter",
        "The 'limit' parameter must be between 1 and 1000.",
    );
    let r = send(Mocks::new(), TestRequest::get().uri(LIST)).await;
    r.assert_error(401, "errors.userLoginFailed", "Authentication required.");
}

#[actix_rt::test]
async fn older_templates_keep_their_meaning_beside_the_user_list() {
    // …/clients/users/users is user "users" of client "clients", as before the list existed.
    let mut m = Mocks::new();
    m.users
        .expect_get_user()
        .withf(|_, client, user| client == "clients" && user == "users")
        .times(1)
        .returning(|_, _, _| Ok(user_view()));
    let r = send(
        m,
        authed(TestRequest::get().uri("/nevisidm/api/core/v1/clients/users/users")),
    )
    .await;
    assert_eq!(r.status, 200);
    // …/clients/policies/users is policy "users" of client "clients".
    let mut m = Mocks::new();
    m.policies
        .expect_get_policy()
        .withf(|_, client, id| client == "clients" && id == "users")
        .times(1)
        .returning(|_, _, _| Ok(policy_view()));
    let r = send(
        m,
        authed(TestRequest::get().uri("/nevisidm/api/core/v1/clients/policies/users")),
    )
    .await;
    assert_eq!(r.status, 200);
    // …/clients/vasco/users is VASCO credential "users" of client "clients".
    let mut m = Mocks::new();
    m.vasco
        .expect_get_vasco()
        .withf(|_, client, id| client == "clients" && id == "users")
        .times(1)
        .returning(|_, _, _| Ok(credential("users", 0)));
    let r = send(
        m,
        authed(TestRequest::get().uri("/nevisidm/api/core/v1/clients/vasco/users")),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.raw);
}

#[actix_rt::test]
async fn patch_user_passes_a_tri_state_patch_and_the_x_token() {
    let mut m = Mocks::new();
    m.users
        .expect_patch_user()
        .withf(|c, client, user, token, patch| {
            *c == caller()
                && client == "acme"
                && user == "jdoe-1"
                && token.as_deref() == Some("jwt")
                && *patch
                    == Ok(UserPatch {
                        login_id: Patch::Keep,
                        external_id: Patch::Keep,
                        user_state: Patch::Set("disabled".into()),
                        language_code: Patch::Remove,
                        is_technical_user: Patch::Set(true),
                        name: Patch::Set(NamePatch {
                            title: Patch::Remove,
                            first_name: Patch::Set("Janet".into()),
                            family_name: Patch::Keep,
                        }),
                        contacts: Patch::Remove,
                        version: Some(3),
                    })
        })
        .times(1)
        .returning(|_, _, _, _, _| {
            let mut v = user_view();
            v.user.version = 4;
            Ok(v)
        });
    let r = send(
        m,
        json_req(
            TestRequest::patch().uri(USER),
            r#"{
            "userState": "disabled", "languageCode": null, "isTechnicalUser": true,
            "name": {"title": null, "firstName": "Janet"}, "contacts": null,
            "version": 3, "extId": "ignored"
        }"#,
        )
        .insert_header(("X-Token", " jwt ")),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.raw);
    assert_eq!(r.json["extId"], "jdoe-1");
    assert_eq!(r.json["version"], 4);
}

#[actix_rt::test]
async fn patch_user_sends_enumerations_as_strings_and_reports_wrong_types() {
    // A bad userState is the use case's 422, not a body error.
    let mut m = Mocks::new();
    m.users
        .expect_patch_user()
        .withf(|_, _, _, token, patch| {
            token.is_none()
                && *patch
                    == Ok(UserPatch {
                        user_state: Patch::Set("sleeping".into()),
                        ..UserPatch::default()
                    })
        })
        .times(1)
        .returning(|_, _, _, _, _| {
            Err(DomainError::InvalidParameter("Invalid userState 'sleeping'".into()).into())
        });
    let r = send(
        m,
        json_req(
            TestRequest::patch().uri(USER),
            r#"{"userState":"sleeping"}"#,
        ),
    )
    .await;
    r.assert_error(
        422,
        "errors.invalidParameter",
        "Invalid userState 'sleeping'",
    );

    for (body, field) in [
        (r#"{"userState": 1}"#, "userState"),
        (r#"{"name": {"familyName": false}}"#, "name.familyName"),
        (r#"{"contacts": "none"}"#, "contacts"),
        (r#"{"version": "2"}"#, "version"),
    ] {
        let mut m = Mocks::new();
        m.users
            .expect_patch_user()
            .withf(move |_, _, _, _, patch| {
                matches!(patch, Err(idm_ports::AppError::BadBody(BodyRejection::InvalidField(f))) if f == field)
            })
            .times(1)
            .returning(|_, _, _, _, patch| patch.map(|_| user_view()));
        let r = send(m, json_req(TestRequest::patch().uri(USER), body)).await;
        r.assert_error(
            400,
            "errors.deserialization",
            &format!("Invalid value for field '{field}'."),
        );
    }
}

#[actix_rt::test]
async fn patch_user_maps_conflicts_and_self_admin_refusals() {
    for (error, status, code, message) in [
        (
            DomainError::OptimisticLockingFailure,
            409,
            "errors.optimisticLockingFailure",
            "The entity was modified concurrently; reload it and retry.",
        ),
        (
            DomainError::ModifyReadonlyData("loginId".into()),
            422,
            "errors.modifyReadonlyData",
            "The field 'loginId' cannot be changed in self-admin mode.",
        ),
        (
            DomainError::PrivilegedTarget,
            403,
            "errors.potentialPrivilegeEscalation",
            "Permission denied: the target user holds rights beyond the caller's own",
        ),
        (
            DomainError::InvalidJwtToken,
            422,
            "errors.invalidJWTToken",
            "Invalid JWT token.",
        ),
    ] {
        let mut m = Mocks::new();
        m.users
            .expect_patch_user()
            .times(1)
            .returning(move |_, _, _, _, _| Err(error.clone().into()));
        let r = send(m, json_req(TestRequest::patch().uri(USER), "{}")).await;
        r.assert_error(status, code, message);
    }
}

#[actix_rt::test]
async fn delete_user_answers_204_or_the_refusal() {
    let mut m = Mocks::new();
    m.users
        .expect_delete_user()
        .withf(|c, client, user| *c == caller() && client == "acme" && user == "jdoe-1")
        .times(1)
        .returning(|_, _, _| Ok(()));
    let r = send(m, authed(TestRequest::delete().uri(USER))).await;
    assert_eq!(r.status, 204);
    assert!(r.raw.is_empty());

    for (message, code) in [
        ("A caller cannot delete itself.", "errors.invalidParameter"),
        (
            "The last active Root user cannot be removed.",
            "errors.invalidParameter",
        ),
    ] {
        let mut m = Mocks::new();
        m.users
            .expect_delete_user()
            .returning(move |_, _, _| Err(DomainError::InvalidParameter(message.into()).into()));
        let r = send(m, authed(TestRequest::delete().uri(USER))).await;
        r.assert_error(422, code, message);
    }
    let mut m = Mocks::new();
    m.users
        .expect_delete_user()
        .returning(|_, _, _| Err(DomainError::MissingRight(Right::UserDelete).into()));
    let r = send(m, authed(TestRequest::delete().uri(USER))).await;
    r.assert_error(
        403,
        "errors.insufficientRightsFunction",
        "Permission denied: Caller does not have the required right 'AccessControl.UserDelete' to perform this action",
    );
    let r = send(Mocks::new(), TestRequest::delete().uri(USER)).await;
    r.assert_error(401, "errors.userLoginFailed", "Authentication required.");
}

#[actix_rt::test]
async fn the_user_path_allows_get_patch_and_delete() {
    let r = send(Mocks::new(), authed(TestRequest::put().uri(USER))).await;
    r.assert_error(405, "errors.unsupportedOperation", "Method not allowed.");
    assert_eq!(r.header("allow"), Some("GET, PATCH, DELETE"));
    let r = send(Mocks::new(), authed(TestRequest::delete().uri(LIST))).await;
    assert_eq!(r.status, 405);
    assert_eq!(r.header("allow"), Some("GET"));
}
