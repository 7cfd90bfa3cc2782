//! SCIM 2.0 (SPEC §14) against mocked use cases: the mapping onto the user use cases, the SCIM
//! error schema on every failure, ETags and preconditions, SPEC §3.4's order of checks, the
//! request shapes of Entra ID and Okta, discovery, and the OpenAPI description.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use actix_web::test::TestRequest;
use idm_domain::access::Right;
use idm_domain::patch::Patch;
use idm_domain::user::{Contacts, LanguageCode, NamePatch, PersonName, UserPatch, UserState};
use idm_domain::DomainError;
use idm_ports::usecases::{CreateUser, UserView};
use idm_ports::user_query::{CompareOp, QueryValue, UserAttr, UserQuery};
use idm_ports::AppError;
use serde_json::{json, Value};

use super::support::*;
use crate::body::BodyRejection;

const BASE: &str = "/nevisidm/api/scim/v1/acme";
const USERS: &str = "/nevisidm/api/scim/v1/acme/Users";
const ERROR: &str = "urn:ietf:params:scim:api:messages:2.0:Error";
const USER_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

impl Reply {
    /// Asserts a SCIM error: status (also as the body's string), `scimType`, detail.
    #[track_caller]
    fn assert_scim_error(&self, status: u16, scim_type: Option<&str>, detail: &str) {
        assert_eq!(self.status.as_u16(), status, "body: {}", self.raw);
        let mut expected =
            json!({"schemas": [ERROR], "status": status.to_string(), "detail": detail});
        if let Some(t) = scim_type {
            expected["scimType"] = json!(t);
        }
        assert_eq!(self.json, expected, "body: {}", self.raw);
        assert_eq!(self.header("content-type"), Some("application/scim+json"));
    }

    #[track_caller]
    fn assert_scim_type(&self, status: u16, scim_type: &str) {
        assert_eq!(self.status.as_u16(), status, "body: {}", self.raw);
        assert_eq!(self.json["schemas"], json!([ERROR]), "body: {}", self.raw);
        assert_eq!(self.json["status"], status.to_string());
        assert_eq!(self.json["scimType"], scim_type, "body: {}", self.raw);
    }
}

fn scim_req(req: TestRequest, body: &Value) -> TestRequest {
    authed(req)
        .insert_header(("Content-Type", "application/scim+json"))
        .set_payload(body.to_string())
}

fn view_version(version: i64) -> UserView {
    let mut v = user_view();
    v.user.version = version;
    v
}

fn text(attr: UserAttr, op: CompareOp, v: &str) -> UserQuery {
    UserQuery::Compare {
        attr,
        op,
        value: QueryValue::Text(v.into()),
    }
}

/// `patch_user` handed a refused body answers as the real use case does when every check
/// passes: with that body error, writing nothing.
fn expect_checks_pass(m: &mut Mocks) {
    m.users
        .expect_patch_user()
        .withf(|_, _, _, _, p| p.is_err())
        .returning(|_, _, _, _, p| Err(p.clone().unwrap_err()));
}

// ---- create ---------------------------------------------------------------------------------

#[actix_rt::test]
async fn create_maps_the_core_schema_onto_create_user_and_answers_201() {
    let mut m = Mocks::new();
    m.users
        .expect_create_user()
        .withf(|c, client, cmd| {
            *c == caller()
                && client == "acme"
                && *cmd
                    == Ok(CreateUser {
                        ext_id: None,
                        login_id: Some("Test_User_00aa".into()),
                        external_id: Some("0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef".into()),
                        state: Some(UserState::Active),
                        language: Some(LanguageCode::De),
                        is_technical_user: None,
                        name: PersonName {
                            title: Some("Dr".into()),
                            first_name: Some("Jane".into()),
                            family_name: Some("Doe".into()),
                        },
                        contacts: Contacts {
                            email: Some("jane@example.com".into()),
                            mobile: Some("+41791234567".into()),
                        },
                    })
        })
        .times(1)
        .returning(|_, _, _| Ok(user_view()));
    // Entra ID's create (its test-user shape).
    let body = json!({
        "schemas": [USER_SCHEMA, "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
        "externalId": "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef",
        "userName": "Test_User_00aa",
        "active": true,
        "displayName": "Jane Doe",
        "emails": [{"primary": true, "type": "work", "value": "jane@example.com"}],
        "meta": {"resourceType": "User"},
        "name": {"formatted": "ignored", "familyName": "Doe", "givenName": "Jane", "honorificPrefix": "Dr"},
        "phoneNumbers": [{"type": "work", "value": "+41 44 000"}, {"type": "mobile", "value": "+41791234567"}],
        "preferredLanguage": "de-CH",
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"department": "IT"}
    });
    let r = send(m, scim_req(TestRequest::post().uri(USERS), &body)).await;
    assert_eq!(r.status.as_u16(), 201, "{}", r.raw);
    assert_eq!(
        r.header("location"),
        Some("/nevisidm/api/scim/v1/acme/Users/jdoe-1")
    );
    assert_eq!(r.header("etag"), Some("W/\"1\""));
    assert_eq!(r.header("content-type"), Some("application/scim+json"));
    assert_eq!(
        r.json,
        json!({
            "schemas": [USER_SCHEMA],
            "id": "jdoe-1",
            "userName": "jdoe",
            "name": {"formatted": "Dr Jane", "givenName": "Jane", "honorificPrefix": "Dr"},
            "active": true,
            "preferredLanguage": "de",
            "meta": {
                "resourceType": "User",
                "created": "2023-11-14T22:13:20Z",
                "lastModified": "2023-11-14T22:13:21Z",
                "location": "/nevisidm/api/scim/v1/acme/Users/jdoe-1",
                "version": "W/\"1\"",
            }
        })
    );
}

#[actix_rt::test]
async fn create_accepts_application_json_and_active_as_a_string() {
    let mut m = Mocks::new();
    m.users
        .expect_create_user()
        .withf(|_, _, cmd| {
            cmd.as_ref().is_ok_and(|c| {
                c.state == Some(UserState::Disabled) && c.login_id.as_deref() == Some("okta")
            })
        })
        .returning(|_, _, _| Ok(user_view()));
    let r = send(
        m,
        json_req(
            TestRequest::post().uri(USERS),
            r#"{"userName": "okta", "active": "False"}"#,
        ),
    )
    .await;
    assert_eq!(r.status.as_u16(), 201, "{}", r.raw);
}

#[actix_rt::test]
async fn create_errors_are_scim_errors() {
    let cases: Vec<(AppError, u16, Option<&str>, &str)> = vec![
        (
            DomainError::DuplicateLoginId {
                login_id: "jdoe".into(),
                client_name: "Acme".into(),
            }
            .into(),
            409,
            Some("uniqueness"),
            "A user with loginId 'jdoe' already exists on client with name Acme",
        ),
        (
            DomainError::UserLoginIdNull.into(),
            400,
            Some("invalidValue"),
            "The attribute 'userName' is required.",
        ),
        (
            DomainError::InvalidEmail("nope".into()).into(),
            400,
            Some("invalidValue"),
            "Invalid email address 'nope'",
        ),
        (
            DomainError::MissingRight(Right::UserCreate).into(),
            403,
            None,
            "Permission denied: Caller does not have the required right 'AccessControl.UserCreate' to perform this action",
        ),
        (
            DomainError::ClientNotFound("acme".into()).into(),
            404,
            None,
            "Client doesn't exist with extId 'acme'",
        ),
        (AppError::Internal("db exploded at /var/lib".into()), 500, None, "Internal server error."),
    ];
    for (error, status, scim_type, detail) in cases {
        let mut m = Mocks::new();
        m.users
            .expect_create_user()
            .returning(move |_, _, _| Err(error.clone()));
        let r = send(
            m,
            scim_req(TestRequest::post().uri(USERS), &json!({"userName": "jdoe"})),
        )
        .await;
        r.assert_scim_error(status, scim_type, detail);
    }
    let mut m = Mocks::new();
    m.users
        .expect_create_user()
        .returning(|_, _, _| Err(AppError::Unavailable));
    let r = send(
        m,
        scim_req(TestRequest::post().uri(USERS), &json!({"userName": "jdoe"})),
    )
    .await;
    r.assert_scim_error(503, None, "Service temporarily unavailable.");
    assert_eq!(r.header("retry-after"), Some("1"));
}

/// Body errors travel into the use case, which reports them after rights and the client
/// (SPEC §3.4 step 6).
#[actix_rt::test]
async fn create_body_errors_are_reported_by_the_use_case_in_spec_order() {
    let cases: Vec<(&str, &str, BodyRejection, u16, Option<&str>)> = vec![
        (
            "application/scim+json",
            "{\"userName\":",
            BodyRejection::MalformedJson,
            400,
            Some("invalidSyntax"),
        ),
        (
            "application/scim+json",
            "",
            BodyRejection::Missing,
            400,
            Some("invalidSyntax"),
        ),
        (
            "text/plain",
            "{}",
            BodyRejection::UnsupportedMediaType,
            415,
            None,
        ),
        (
            "application/scim+json",
            "[1]",
            BodyRejection::InvalidField("body".into()),
            400,
            Some("invalidSyntax"),
        ),
        (
            "application/scim+json",
            "{\"userName\": 5}",
            BodyRejection::InvalidField("userName".into()),
            400,
            Some("invalidValue"),
        ),
        (
            "application/json",
            "{\"emails\": [{\"value\": true}]}",
            BodyRejection::InvalidField("emails.value".into()),
            400,
            Some("invalidValue"),
        ),
        (
            "application/json",
            "{\"preferredLanguage\": \"es\"}",
            BodyRejection::InvalidField("preferredLanguage".into()),
            400,
            Some("invalidValue"),
        ),
    ];
    for (content_type, body, rejection, status, scim_type) in cases {
        let mut m = Mocks::new();
        let expected = rejection.clone();
        m.users
            .expect_create_user()
            .withf(move |_, _, cmd| *cmd == Err(AppError::BadBody(expected.clone())))
            .times(1)
            .returning(|_, _, cmd| Err(cmd.clone().unwrap_err()));
        let req = authed(TestRequest::post().uri(USERS))
            .insert_header(("Content-Type", content_type))
            .set_payload(body.to_owned());
        let r = send(m, req).await;
        assert_eq!(r.status.as_u16(), status, "{body}: {}", r.raw);
        assert_eq!(r.json["scimType"].as_str(), scim_type, "{body}");
    }
    // Larger than the limit: 413.
    let mut m = Mocks::new();
    m.settings.max_body_bytes = 16;
    m.users
        .expect_create_user()
        .withf(|_, _, cmd| *cmd == Err(AppError::BadBody(BodyRejection::TooLarge)))
        .returning(|_, _, cmd| Err(cmd.clone().unwrap_err()));
    let r = send(
        m,
        scim_req(
            TestRequest::post().uri(USERS),
            &json!({"userName": "a-long-name"}),
        ),
    )
    .await;
    r.assert_scim_error(413, None, "Request body too large.");
}

// ---- authentication and the fallback ---------------------------------------------------------

#[actix_rt::test]
async fn a_401_is_a_scim_error_with_the_basic_challenge() {
    let r = send(Mocks::new(), TestRequest::get().uri(USERS)).await;
    r.assert_scim_error(401, None, "Authentication required.");
    assert_eq!(
        r.header("www-authenticate"),
        Some("Basic realm=\"nevisIDM\"")
    );
    let mut auth = idm_ports::usecases::MockCallerAuthenticator::new();
    auth.expect_authenticate()
        .returning(|_, _, _| Err(DomainError::AuthenticationFailed.into()));
    let r = send(
        Mocks::with_auth(auth),
        TestRequest::get()
            .uri(&format!("{USERS}/x"))
            .insert_header(("Authorization", basic(LOGIN, "wrong"))),
    )
    .await;
    r.assert_scim_error(401, None, "Authentication failed.");
    assert_eq!(
        r.header("www-authenticate"),
        Some("Basic realm=\"nevisIDM\"")
    );
}

#[actix_rt::test]
async fn unknown_scim_paths_and_methods_answer_scim_errors() {
    let r = send(
        Mocks::new(),
        authed(TestRequest::get().uri(&format!("{BASE}/Groups"))),
    )
    .await;
    r.assert_scim_error(404, None, "Unknown resource.");
    let r = send(Mocks::new(), authed(TestRequest::delete().uri(USERS))).await;
    r.assert_scim_error(405, None, "Method not allowed.");
    assert_eq!(r.header("allow"), Some("GET, POST"));
    // Outside SCIM, the envelope as before.
    let r = send(Mocks::new(), TestRequest::get().uri("/nevisidm/api/scim")).await;
    r.assert_error(404, "errors.invalidUri", "Unknown resource.");
}

// ---- read -----------------------------------------------------------------------------------

#[actix_rt::test]
async fn get_answers_the_user_with_its_etag_and_honours_attributes() {
    let mut m = Mocks::new();
    m.users
        .expect_get_user()
        .withf(|c, client, user| *c == caller() && client == "acme" && user == "jdoe-1")
        .returning(|_, _, _| Ok(view_version(7)));
    let r = send(
        m,
        authed(TestRequest::get().uri(&format!(
            "{USERS}/jdoe-1?attributes=userName,name.givenName,meta.version"
        ))),
    )
    .await;
    assert_eq!(r.status.as_u16(), 200);
    assert_eq!(r.header("etag"), Some("W/\"7\""));
    assert_eq!(
        r.json,
        json!({"schemas": [USER_SCHEMA], "id": "jdoe-1", "userName": "jdoe",
               "name": {"givenName": "Jane"}, "meta": {"version": "W/\"7\""}})
    );

    let mut m = Mocks::new();
    m.users
        .expect_get_user()
        .returning(|_, _, _| Ok(user_view()));
    let r = send(
        m,
        authed(TestRequest::get().uri(&format!(
            "{USERS}/jdoe-1?excludedAttributes=meta,name,preferredLanguage"
        ))),
    )
    .await;
    assert_eq!(
        r.json,
        json!({"schemas": [USER_SCHEMA], "id": "jdoe-1", "userName": "jdoe", "active": true})
    );
}

#[actix_rt::test]
async fn get_with_a_current_if_none_match_is_304() {
    let mut m = Mocks::new();
    m.users
        .expect_get_user()
        .returning(|_, _, _| Ok(view_version(4)));
    let r = send(
        m,
        authed(TestRequest::get().uri(&format!("{USERS}/jdoe-1")))
            .insert_header(("If-None-Match", "W/\"4\"")),
    )
    .await;
    assert_eq!(r.status.as_u16(), 304);
    assert_eq!(r.header("etag"), Some("W/\"4\""));
    assert!(r.raw.is_empty());
    let mut m = Mocks::new();
    m.users
        .expect_get_user()
        .returning(|_, _, _| Ok(view_version(5)));
    let r = send(
        m,
        authed(TestRequest::get().uri(&format!("{USERS}/jdoe-1")))
            .insert_header(("If-None-Match", "W/\"4\"")),
    )
    .await;
    assert_eq!(r.status.as_u16(), 200);
}

#[actix_rt::test]
async fn get_refusals_are_scim_errors() {
    let mut m = Mocks::new();
    m.users.expect_get_user().returning(|_, _, _| {
        Err(DomainError::UserNotFound {
            user_ext_id: "nobody".into(),
            client_name: "Acme".into(),
        }
        .into())
    });
    let r = send(
        m,
        authed(TestRequest::get().uri(&format!("{USERS}/nobody"))),
    )
    .await;
    r.assert_scim_error(
        404,
        None,
        "A user with extId 'nobody' doesn't exist on client with name Acme",
    );
    let mut m = Mocks::new();
    m.users
        .expect_get_user()
        .returning(|_, _, _| Err(DomainError::DataRoomDenied(Right::UserView).into()));
    let r = send(m, authed(TestRequest::get().uri(&format!("{USERS}/x")))).await;
    r.assert_scim_error(403, None, "Permission denied: AccessControl.UserView");
}

// ---- list and search ------------------------------------------------------------------------

#[actix_rt::test]
async fn entra_id_existence_check_is_a_database_search() {
    let mut m = Mocks::new();
    m.users
        .expect_search_users()
        .withf(|c, client, q, offset, count| {
            *c == caller()
                && client == "acme"
                && *q == text(UserAttr::LoginId, CompareOp::Eq, "Test_User_00aa")
                && *offset == 0
                && *count == 100
        })
        .times(1)
        .returning(|_, _, _, _, _| Ok((Vec::new(), 0)));
    let r = send(
        m,
        authed(TestRequest::get().uri(&format!("{USERS}?filter=userName+eq+%22Test_User_00aa%22"))),
    )
    .await;
    assert_eq!(r.status.as_u16(), 200, "{}", r.raw);
    assert_eq!(r.header("content-type"), Some("application/scim+json"));
    assert_eq!(
        r.json,
        json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"],
               "totalResults": 0, "startIndex": 1, "itemsPerPage": 0, "Resources": []})
    );
}

#[actix_rt::test]
async fn okta_pages_with_start_index_and_count() {
    let mut m = Mocks::new();
    m.users
        .expect_search_users()
        .withf(|_, _, q, offset, count| *q == UserQuery::All && *offset == 2 && *count == 2)
        .returning(|_, _, _, _, _| Ok((vec![user_view(), view_version(2)], 5)));
    let r = send(
        m,
        authed(
            TestRequest::get().uri(&format!("{USERS}?startIndex=3&count=2&attributes=userName")),
        ),
    )
    .await;
    assert_eq!(r.status.as_u16(), 200, "{}", r.raw);
    assert_eq!(r.json["totalResults"], 5);
    assert_eq!(r.json["startIndex"], 3);
    assert_eq!(r.json["itemsPerPage"], 2);
    assert_eq!(
        r.json["Resources"][0],
        json!({"schemas": [USER_SCHEMA], "id": "jdoe-1", "userName": "jdoe"})
    );
}

#[actix_rt::test]
async fn paging_values_out_of_range_are_clamped() {
    let mut m = Mocks::new();
    m.users
        .expect_search_users()
        .withf(|_, _, _, offset, count| *offset == 0 && *count == 1000)
        .returning(|_, _, _, _, _| Ok((Vec::new(), 0)));
    let r = send(
        m,
        authed(TestRequest::get().uri(&format!("{USERS}?startIndex=0&count=5000&filter="))),
    )
    .await;
    assert_eq!(r.status.as_u16(), 200, "{}", r.raw);
    assert_eq!(r.json["startIndex"], 1);
}

#[actix_rt::test]
async fn bad_filters_are_400_after_rights_and_client() {
    // Rights and client fine (the use case asked with a query that matches nothing): 400.
    let probes = Arc::new(AtomicUsize::new(0));
    let seen = probes.clone();
    let mut m = Mocks::new();
    m.users
        .expect_search_users()
        .withf(|_, _, q, offset, count| q.is_nothing() && *offset == 0 && *count == 0)
        .returning(move |_, _, _, _, _| {
            seen.fetch_add(1, Ordering::SeqCst);
            Ok((Vec::new(), 0))
        });
    let r = send(
        m,
        authed(TestRequest::get().uri(&format!("{USERS}?filter=nickName+eq+%22x%22"))),
    )
    .await;
    r.assert_scim_type(400, "invalidFilter");
    assert!(r.json["detail"].as_str().unwrap().contains("'nickName'"));
    assert_eq!(probes.load(Ordering::SeqCst), 1);

    let mut m = Mocks::new();
    m.users
        .expect_search_users()
        .returning(|_, _, _, _, _| Ok((Vec::new(), 0)));
    let r = send(
        m,
        authed(TestRequest::get().uri(&format!("{USERS}?filter=userName+eq")))
            .insert_header(("X-Request-Id", "bad-filter")),
    )
    .await;
    r.assert_scim_type(400, "invalidFilter");
    let mut m = Mocks::new();
    m.users
        .expect_search_users()
        .returning(|_, _, _, _, _| Ok((Vec::new(), 0)));
    let r = send(
        m,
        authed(TestRequest::get().uri(&format!("{USERS}?count=ten"))),
    )
    .await;
    r.assert_scim_type(400, "invalidValue");

    // A caller without UserView, or an unknown client: that refusal first.
    let mut m = Mocks::new();
    m.users
        .expect_search_users()
        .returning(|_, _, _, _, _| Err(DomainError::MissingRight(Right::UserView).into()));
    let r = send(
        m,
        authed(TestRequest::get().uri(&format!("{USERS}?filter=((("))),
    )
    .await;
    assert_eq!(r.status.as_u16(), 403, "{}", r.raw);
    let mut m = Mocks::new();
    m.users
        .expect_search_users()
        .returning(|_, _, _, _, _| Err(DomainError::ClientNotFound("acme".into()).into()));
    let r = send(
        m,
        authed(TestRequest::get().uri(&format!("{USERS}?filter=x"))),
    )
    .await;
    r.assert_scim_error(404, None, "Client doesn't exist with extId 'acme'");
}

#[actix_rt::test]
async fn search_posts_a_search_request() {
    let mut m = Mocks::new();
    m.users
        .expect_search_users()
        .withf(|_, client, q, offset, count| {
            client == "acme"
                && *q
                    == UserQuery::and(
                        text(UserAttr::FamilyName, CompareOp::Sw, "D"),
                        UserQuery::Compare {
                            attr: UserAttr::Active,
                            op: CompareOp::Eq,
                            value: QueryValue::Bool(true),
                        },
                    )
                && *offset == 9
                && *count == 5
        })
        .times(1)
        .returning(|_, _, _, _, _| Ok((vec![user_view()], 11)));
    let body = json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
        "filter": "name.familyName sw \"D\" and active eq true",
        "startIndex": 10, "count": 5,
        "attributes": ["userName", "emails"]
    });
    let r = send(
        m,
        scim_req(TestRequest::post().uri(&format!("{USERS}/.search")), &body),
    )
    .await;
    assert_eq!(r.status.as_u16(), 200, "{}", r.raw);
    assert_eq!(r.json["totalResults"], 11);
    assert_eq!(r.json["startIndex"], 10);
    assert_eq!(
        r.json["Resources"],
        json!([{"schemas": [USER_SCHEMA], "id": "jdoe-1", "userName": "jdoe"}])
    );

    let mut m = Mocks::new();
    m.users
        .expect_search_users()
        .returning(|_, _, _, _, _| Ok((Vec::new(), 0)));
    let r = send(
        m,
        scim_req(
            TestRequest::post().uri(&format!("{USERS}/.search")),
            &json!({"filter": 1}),
        ),
    )
    .await;
    r.assert_scim_type(400, "invalidFilter");
    let mut m = Mocks::new();
    m.users
        .expect_search_users()
        .returning(|_, _, _, _, _| Ok((Vec::new(), 0)));
    let req = authed(TestRequest::post().uri(&format!("{USERS}/.search")))
        .insert_header(("Content-Type", "application/scim+json"))
        .set_payload("{");
    send(m, req).await.assert_scim_type(400, "invalidSyntax");
}

// ---- PATCH and PUT --------------------------------------------------------------------------

#[actix_rt::test]
async fn entra_id_patch_operations_become_one_merge_patch_with_the_version_read() {
    let mut m = Mocks::new();
    m.users
        .expect_get_user()
        .returning(|_, _, _| Ok(view_version(3)));
    m.users
        .expect_patch_user()
        .withf(|c, client, user, token, p| {
            *c == caller()
                && client == "acme"
                && user == "jdoe-1"
                && token.is_none()
                && *p
                    == Ok(UserPatch {
                        external_id: Patch::Set("entra-1".into()),
                        user_state: Patch::Set("disabled".into()),
                        name: Patch::Set(NamePatch {
                            family_name: Patch::Set("Doe".into()),
                            ..NamePatch::default()
                        }),
                        contacts: Patch::Set(idm_domain::user::ContactsPatch {
                            email: Patch::Set("jane@example.com".into()),
                            mobile: Patch::Keep,
                        }),
                        version: Some(3),
                        ..UserPatch::default()
                    })
        })
        .times(1)
        .returning(|_, _, _, _, _| Ok(view_version(4)));
    let body = json!({
        "schemas": [PATCH_OP],
        "Operations": [
            {"op": "Replace", "path": "active", "value": "False"},
            {"op": "Add", "path": "externalId", "value": "entra-1"},
            {"op": "Add", "path": "emails[type eq \"work\"].value", "value": "jane@example.com"},
            {"op": "Replace", "path": "name.familyName", "value": "Doe"},
            {"op": "Add", "path": "displayName", "value": "not stored"}
        ]
    });
    let r = send(
        m,
        scim_req(TestRequest::patch().uri(&format!("{USERS}/jdoe-1")), &body),
    )
    .await;
    assert_eq!(r.status.as_u16(), 200, "{}", r.raw);
    assert_eq!(r.header("etag"), Some("W/\"4\""));
    assert_eq!(r.json["meta"]["version"], "W/\"4\"");
}

#[actix_rt::test]
async fn a_patch_that_changes_nothing_writes_nothing_once_the_checks_pass() {
    let mut m = Mocks::new();
    m.users
        .expect_get_user()
        .returning(|_, _, _| Ok(view_version(3)));
    expect_checks_pass(&mut m);
    let body = json!({"schemas": [PATCH_OP], "Operations": [{"op": "replace", "path": "userName", "value": "jdoe"}]});
    let r = send(
        m,
        scim_req(TestRequest::patch().uri(&format!("{USERS}/jdoe-1")), &body),
    )
    .await;
    assert_eq!(r.status.as_u16(), 200, "{}", r.raw);
    assert_eq!(r.header("etag"), Some("W/\"3\""));

    // The same no-op by a caller the write refuses (a Helpdesk): 403, not 200.
    let mut m = Mocks::new();
    m.users
        .expect_get_user()
        .returning(|_, _, _| Ok(view_version(3)));
    m.users
        .expect_patch_user()
        .withf(|_, _, _, _, p| p.is_err())
        .returning(|_, _, _, _, _| Err(DomainError::MissingRight(Right::UserModify).into()));
    let r = send(
        m,
        scim_req(TestRequest::patch().uri(&format!("{USERS}/jdoe-1")), &body),
    )
    .await;
    r.assert_scim_error(
        403,
        None,
        "Permission denied: Caller does not have the required right 'AccessControl.UserModify' to perform this action",
    );
}

#[actix_rt::test]
async fn patch_errors_come_after_the_writes_own_checks() {
    let cases: Vec<(Value, &str)> = vec![
        (
            json!({"Operations": [{"op": "add", "path": "emails[", "value": 1}]}),
            "invalidPath",
        ),
        (
            json!({"Operations": [{"op": "remove", "path": "emails[type eq \"home\"]"}]}),
            "noTarget",
        ),
        (json!({"Operations": [{"op": "remove"}]}), "noTarget"),
        (
            json!({"Operations": [{"op": "replace", "path": "id", "value": "other"}]}),
            "mutability",
        ),
        (
            json!({"Operations": [{"op": "jump", "path": "userName"}]}),
            "invalidSyntax",
        ),
        (
            json!({"Operations": [{"op": "replace", "path": "active", "value": "maybe"}]}),
            "invalidValue",
        ),
        (
            json!({"schemas": ["urn:x"], "Operations": []}),
            "invalidSyntax",
        ),
    ];
    for (body, scim_type) in cases {
        let mut m = Mocks::new();
        m.users
            .expect_get_user()
            .returning(|_, _, _| Ok(user_view()));
        expect_checks_pass(&mut m);
        let r = send(
            m,
            scim_req(TestRequest::patch().uri(&format!("{USERS}/jdoe-1")), &body),
        )
        .await;
        r.assert_scim_type(400, scim_type);
    }
    // A privileged target (SPEC §10.1) is refused before the body is looked at.
    let mut m = Mocks::new();
    m.users
        .expect_get_user()
        .returning(|_, _, _| Ok(user_view()));
    m.users
        .expect_patch_user()
        .returning(|_, _, _, _, _| Err(DomainError::PrivilegedTarget.into()));
    let body = json!({"Operations": [{"op": "add", "path": "emails[", "value": 1}]});
    let r = send(
        m,
        scim_req(TestRequest::patch().uri(&format!("{USERS}/jdoe-1")), &body),
    )
    .await;
    r.assert_scim_error(
        403,
        None,
        "Permission denied: the target user holds rights beyond the caller's own",
    );
    // A read refused names the write's right when the write is refused too.
    let mut m = Mocks::new();
    m.users
        .expect_get_user()
        .returning(|_, _, _| Err(DomainError::DataRoomDenied(Right::UserView).into()));
    m.users
        .expect_patch_user()
        .returning(|_, _, _, _, _| Err(DomainError::DataRoomDenied(Right::UserModify).into()));
    let r = send(
        m,
        scim_req(TestRequest::patch().uri(&format!("{USERS}/jdoe-1")), &body),
    )
    .await;
    r.assert_scim_error(403, None, "Permission denied: AccessControl.UserModify");
}

#[actix_rt::test]
async fn if_match_with_a_stale_version_is_412() {
    let body = json!({"Operations": [{"op": "replace", "path": "active", "value": false}]});
    // Stale at the read.
    let mut m = Mocks::new();
    m.users
        .expect_get_user()
        .returning(|_, _, _| Ok(view_version(5)));
    expect_checks_pass(&mut m);
    let r = send(
        m,
        scim_req(TestRequest::patch().uri(&format!("{USERS}/jdoe-1")), &body)
            .insert_header(("If-Match", "W/\"4\"")),
    )
    .await;
    r.assert_scim_error(
        412,
        None,
        "The resource was modified since the version named by If-Match; reload it and retry.",
    );
    // Current at the read, changed before the write: the use case's conflict is 412 too.
    let mut m = Mocks::new();
    m.users
        .expect_get_user()
        .returning(|_, _, _| Ok(view_version(5)));
    m.users
        .expect_patch_user()
        .withf(|_, _, _, _, p| p.as_ref().is_ok_and(|p| p.version == Some(5)))
        .times(1)
        .returning(|_, _, _, _, _| Err(DomainError::OptimisticLockingFailure.into()));
    let r = send(
        m,
        scim_req(TestRequest::patch().uri(&format!("{USERS}/jdoe-1")), &body)
            .insert_header(("If-Match", "W/\"5\"")),
    )
    .await;
    assert_eq!(r.status.as_u16(), 412, "{}", r.raw);
    // `*` and a list.
    for header in ["*", "W/\"1\", W/\"5\""] {
        let mut m = Mocks::new();
        m.users
            .expect_get_user()
            .returning(|_, _, _| Ok(view_version(5)));
        m.users
            .expect_patch_user()
            .returning(|_, _, _, _, _| Ok(view_version(6)));
        let r = send(
            m,
            scim_req(TestRequest::patch().uri(&format!("{USERS}/jdoe-1")), &body)
                .insert_header(("If-Match", header)),
        )
        .await;
        assert_eq!(r.status.as_u16(), 200, "{header}: {}", r.raw);
        assert_eq!(r.header("etag"), Some("W/\"6\""));
    }
}

#[actix_rt::test]
async fn without_if_match_a_lost_race_is_retried_on_a_fresh_read() {
    let reads = Arc::new(AtomicUsize::new(0));
    let counted = reads.clone();
    let mut m = Mocks::new();
    m.users.expect_get_user().returning(move |_, _, _| {
        let n = counted.fetch_add(1, Ordering::SeqCst) as i64;
        Ok(view_version(5 + n))
    });
    m.users
        .expect_patch_user()
        .withf(|_, _, _, _, p| p.as_ref().is_ok_and(|p| p.version == Some(5)))
        .times(1)
        .returning(|_, _, _, _, _| Err(DomainError::OptimisticLockingFailure.into()));
    m.users
        .expect_patch_user()
        .withf(|_, _, _, _, p| p.as_ref().is_ok_and(|p| p.version == Some(6)))
        .times(1)
        .returning(|_, _, _, _, _| Ok(view_version(7)));
    let body = json!({"Operations": [{"op": "replace", "path": "active", "value": false}]});
    let r = send(
        m,
        scim_req(TestRequest::patch().uri(&format!("{USERS}/jdoe-1")), &body),
    )
    .await;
    assert_eq!(r.status.as_u16(), 200, "{}", r.raw);
    assert_eq!(reads.load(Ordering::SeqCst), 2);
}

#[actix_rt::test]
async fn put_replaces_every_writable_attribute() {
    let mut m = Mocks::new();
    m.users.expect_get_user().returning(|_, _, _| {
        let mut v = view_version(2);
        v.user.external_id = Some("old".into());
        v.user.contacts.mobile = Some("+41".into());
        Ok(v)
    });
    m.users
        .expect_patch_user()
        .withf(|_, _, _, _, p| {
            *p == Ok(UserPatch {
                login_id: Patch::Set("jdoe2".into()),
                external_id: Patch::Remove,
                language_code: Patch::Set("EN".into()),
                name: Patch::Set(NamePatch {
                    title: Patch::Remove,
                    first_name: Patch::Keep,
                    family_name: Patch::Set("Doe".into()),
                }),
                contacts: Patch::Set(idm_domain::user::ContactsPatch {
                    email: Patch::Keep,
                    mobile: Patch::Remove,
                }),
                version: Some(2),
                ..UserPatch::default()
            })
        })
        .times(1)
        .returning(|_, _, _, _, _| Ok(view_version(3)));
    // Okta's PUT: the whole user; `id` and `meta` are read-only and ignored.
    let body = json!({
        "schemas": [USER_SCHEMA], "id": "something-else", "userName": "jdoe2",
        "name": {"givenName": "Jane", "familyName": "Doe"}, "active": true,
        "meta": {"version": "W/\"99\""}
    });
    let r = send(
        m,
        scim_req(TestRequest::put().uri(&format!("{USERS}/jdoe-1")), &body),
    )
    .await;
    assert_eq!(r.status.as_u16(), 200, "{}", r.raw);
    assert_eq!(r.header("etag"), Some("W/\"3\""));

    let mut m = Mocks::new();
    m.users
        .expect_get_user()
        .returning(|_, _, _| Ok(user_view()));
    expect_checks_pass(&mut m);
    let r = send(
        m,
        scim_req(
            TestRequest::put().uri(&format!("{USERS}/jdoe-1")),
            &json!([]),
        ),
    )
    .await;
    r.assert_scim_type(400, "invalidSyntax");
}

// ---- delete ---------------------------------------------------------------------------------

#[actix_rt::test]
async fn delete_answers_204_and_refusals_as_scim_errors() {
    let mut m = Mocks::new();
    m.users
        .expect_delete_user()
        .withf(|c, client, user| *c == caller() && client == "acme" && user == "jdoe-1")
        .times(1)
        .returning(|_, _, _| Ok(()));
    let r = send(
        m,
        authed(TestRequest::delete().uri(&format!("{USERS}/jdoe-1"))),
    )
    .await;
    assert_eq!(r.status.as_u16(), 204);
    assert!(r.raw.is_empty());

    let mut m = Mocks::new();
    m.users.expect_delete_user().returning(|_, _, _| {
        Err(DomainError::InvalidParameter("A caller cannot delete itself.".into()).into())
    });
    let r = send(
        m,
        authed(TestRequest::delete().uri(&format!("{USERS}/admin"))),
    )
    .await;
    r.assert_scim_error(400, Some("invalidValue"), "A caller cannot delete itself.");

    let mut m = Mocks::new();
    m.users
        .expect_get_user()
        .returning(|_, _, _| Ok(view_version(2)));
    m.users.expect_delete_user().never();
    let r = send(
        m,
        authed(TestRequest::delete().uri(&format!("{USERS}/jdoe-1")))
            .insert_header(("If-Match", "W/\"1\"")),
    )
    .await;
    assert_eq!(r.status.as_u16(), 412);
}

// ---- discovery ------------------------------------------------------------------------------

fn discovery_mocks() -> Mocks {
    let mut m = Mocks::new();
    m.users
        .expect_search_users()
        .withf(|_, client, q, _, count| client == "acme" && q.is_nothing() && *count == 0)
        .returning(|_, _, _, _, _| Ok((Vec::new(), 0)));
    m
}

#[actix_rt::test]
async fn service_provider_config_says_what_is_supported() {
    let r = send(
        discovery_mocks(),
        authed(TestRequest::get().uri(&format!("{BASE}/ServiceProviderConfig"))),
    )
    .await;
    assert_eq!(r.status.as_u16(), 200, "{}", r.raw);
    let c = &r.json;
    assert_eq!(
        c["schemas"],
        json!(["urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"])
    );
    assert_eq!(c["patch"]["supported"], true);
    assert_eq!(c["filter"], json!({"supported": true, "maxResults": 1000}));
    assert_eq!(c["etag"]["supported"], true);
    assert_eq!(c["bulk"]["supported"], false);
    assert_eq!(c["changePassword"]["supported"], false);
    assert_eq!(c["sort"]["supported"], false);
    assert_eq!(c["authenticationSchemes"][0]["type"], "httpbasic");
    assert_eq!(c["authenticationSchemes"].as_array().map(Vec::len), Some(1));
}

#[actix_rt::test]
async fn resource_types_and_schemas() {
    let r = send(
        discovery_mocks(),
        authed(TestRequest::get().uri(&format!("{BASE}/ResourceTypes"))),
    )
    .await;
    assert_eq!(r.json["totalResults"], 1);
    assert_eq!(r.json["Resources"][0]["id"], "User");
    assert_eq!(r.json["Resources"][0]["endpoint"], "/Users");
    assert_eq!(r.json["Resources"][0]["schema"], USER_SCHEMA);
    let r = send(
        discovery_mocks(),
        authed(TestRequest::get().uri(&format!("{BASE}/ResourceTypes/User"))),
    )
    .await;
    assert_eq!(r.json["name"], "User");
    let r = send(
        discovery_mocks(),
        authed(TestRequest::get().uri(&format!("{BASE}/ResourceTypes/Group"))),
    )
    .await;
    r.assert_scim_error(404, None, "Resource type 'Group' is not known.");

    let r = send(
        discovery_mocks(),
        authed(TestRequest::get().uri(&format!("{BASE}/Schemas"))),
    )
    .await;
    assert_eq!(r.json["totalResults"], 1);
    let schema = &r.json["Resources"][0];
    assert_eq!(schema["id"], USER_SCHEMA);
    let names: Vec<&str> = schema["attributes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "userName",
            "externalId",
            "name",
            "active",
            "emails",
            "phoneNumbers",
            "preferredLanguage"
        ]
    );
    assert_eq!(schema["attributes"][0]["uniqueness"], "server");
    assert_eq!(schema["attributes"][0]["required"], true);
    let r = send(
        discovery_mocks(),
        authed(TestRequest::get().uri(&format!("{BASE}/Schemas/{USER_SCHEMA}"))),
    )
    .await;
    assert_eq!(r.json["name"], "User");
    let r = send(
        discovery_mocks(),
        authed(TestRequest::get().uri(&format!(
            "{BASE}/Schemas/urn:ietf:params:scim:schemas:core:2.0:Group"
        ))),
    )
    .await;
    assert_eq!(r.status.as_u16(), 404);
    let r = send(
        discovery_mocks(),
        authed(TestRequest::get().uri(&format!("{BASE}/Schemas?filter=id+pr"))),
    )
    .await;
    r.assert_scim_error(403, None, "Discovery endpoints do not support filtering.");
}

#[actix_rt::test]
async fn discovery_needs_user_view_in_the_client() {
    let mut m = Mocks::new();
    m.users
        .expect_search_users()
        .returning(|_, _, _, _, _| Err(DomainError::DataRoomDenied(Right::UserView).into()));
    let r = send(
        m,
        authed(TestRequest::get().uri(&format!("{BASE}/ServiceProviderConfig"))),
    )
    .await;
    r.assert_scim_error(403, None, "Permission denied: AccessControl.UserView");
}

// ---- OpenAPI --------------------------------------------------------------------------------

#[test]
fn the_scim_operations_are_documented_with_scim_errors() {
    let doc: Value = serde_json::from_str(crate::openapi::document_json()).unwrap();
    let responses = &doc["components"]["responses"];
    let mut seen = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        if !path.starts_with("/nevisidm/api/scim/v1/") {
            continue;
        }
        for (method, op) in item.as_object().unwrap() {
            seen += 1;
            assert_eq!(op["tags"], json!(["scim"]), "{method} {path}");
            assert_eq!(op["security"], json!([{"basic": []}]), "{method} {path}");
            let statuses = op["responses"].as_object().unwrap();
            let mut needed = vec!["401", "403", "404", "500", "503"];
            if op.get("requestBody").is_some() {
                needed.extend(["400", "413", "415"]);
            }
            for status in needed {
                assert!(statuses.contains_key(status), "{method} {path}: {status}");
            }
            for (status, response) in statuses {
                if status.starts_with('2') || status == "304" {
                    continue;
                }
                let name = response["$ref"]
                    .as_str()
                    .and_then(|r| r.strip_prefix("#/components/responses/"))
                    .unwrap_or_else(|| panic!("{method} {path} {status}: no reusable response"));
                assert_eq!(
                    responses[name]["content"]["application/scim+json"]["schema"]["$ref"],
                    "#/components/schemas/ScimError",
                    "{method} {path} {status}"
                );
            }
        }
    }
    assert_eq!(seen, 12, "every SCIM operation");
    let error = &doc["components"]["schemas"]["ScimError"];
    assert!(error["properties"]["scimType"].is_object());
    assert!(doc["tags"]
        .as_array()
        .unwrap()
        .iter()
        .any(|t| t["name"] == "scim"));
    assert_eq!(
        responses["ScimUnauthorized"]["headers"]["WWW-Authenticate"]["schema"]["type"],
        "string"
    );
}
