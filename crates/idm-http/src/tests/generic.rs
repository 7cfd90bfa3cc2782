//! SPEC §2's generic rows: authentication, body syntax, unknown paths and methods, request
//! IDs, and the mapping of unavailable and internal failures.

use actix_web::test::{self, TestRequest};
use actix_web::{web, App, HttpResponse};
use idm_domain::DomainError;
use idm_ports::usecases::{CreateClient, MockCallerAuthenticator};
use idm_ports::AppError;

use super::support::*;
use crate::auth::Authenticated;
use crate::body::BodyRejection;
use crate::extract::Paging;
use crate::routes::registration;

const CLIENTS: &str = "/nevisidm/api/core/v1/clients";

fn assert_challenge(r: &Reply) {
    assert_eq!(
        r.header("www-authenticate"),
        Some("Basic realm=\"nevisIDM\"")
    );
}

// ---- authentication ------------------------------------------------------------------------

#[actix_rt::test]
async fn no_authorization_header_is_401_required_and_no_use_case_runs() {
    let r = send(
        Mocks::new(),
        TestRequest::get().uri("/nevisidm/api/core/v1/clients/acme"),
    )
    .await;
    r.assert_error(401, "errors.userLoginFailed", "Authentication required.");
    assert_challenge(&r);
}

#[actix_rt::test]
async fn another_scheme_is_401_required() {
    let req = TestRequest::get()
        .uri("/nevisidm/api/core/v1/clients/acme")
        .insert_header(("Authorization", "Bearer abc.def"));
    let r = send(Mocks::new(), req).await;
    r.assert_error(401, "errors.userLoginFailed", "Authentication required.");
    assert_challenge(&r);
}

#[actix_rt::test]
async fn undecodable_basic_is_401_failed() {
    for value in ["Basic %%%", "Basic bm9jb2xvbg=="] {
        let req = TestRequest::get()
            .uri("/nevisidm/api/core/v1/clients/acme")
            .insert_header(("Authorization", value));
        let r = send(Mocks::new(), req).await;
        r.assert_error(401, "errors.userLoginFailed", "Authentication failed.");
        assert_challenge(&r);
    }
}

#[actix_rt::test]
async fn the_authenticator_gets_the_split_at_the_first_colon() {
    let mut auth = MockCallerAuthenticator::new();
    auth.expect_authenticate()
        .withf(|u, p, _| u == "acme/jdoe" && p == "pa:ss")
        .times(1)
        .returning(|_, _, _| Err(DomainError::AuthenticationFailed.into()));
    let req = TestRequest::get()
        .uri("/nevisidm/api/core/v1/clients/acme")
        .insert_header(("Authorization", basic("acme/jdoe", "pa:ss")));
    let r = send(Mocks::with_auth(auth), req).await;
    r.assert_error(401, "errors.userLoginFailed", "Authentication failed.");
    assert_challenge(&r);
}

#[actix_rt::test]
async fn an_unavailable_store_during_authentication_is_503() {
    let mut auth = MockCallerAuthenticator::new();
    auth.expect_authenticate()
        .returning(|_, _, _| Err(AppError::Unavailable));
    let r = send(
        Mocks::with_auth(auth),
        authed(TestRequest::get().uri("/nevisidm/api/core/v1/clients/acme")),
    )
    .await;
    r.assert_error(503, "errors.fatalError", "Service temporarily unavailable.");
    assert_eq!(r.header("retry-after"), Some("1"));
}

#[actix_rt::test]
async fn every_registered_endpoint_authenticates_first() {
    for route in &registration().routes {
        let (method, template) = (route.method, route.template());
        if template.starts_with("/nevisidm/api/docs") {
            continue; // HTML and assets, not JSON: see `tests::openapi`.
        }
        let path = template
            .replace("{extId}", "x1")
            .replace("{clientExtId}", "c1")
            .replace("{userExtId}", "u1")
            .replace("{role}", "Root")
            .replace("{id}", "x1");
        let req = TestRequest::default()
            .method(method.parse().unwrap())
            .uri(&path);
        let r = send(Mocks::new(), req).await;
        // Operations endpoints (SPEC §9) need no authentication.
        let open = path.starts_with("/health/")
            || path == "/metrics"
            || path == "/nevisidm/api/openapi.json";
        if open {
            assert_ne!(r.status, 405, "{method} {path}");
            assert_ne!(r.status, 404, "{method} {path}");
        } else if crate::scim::is_scim_path(&path) {
            // SCIM answers its own error schema (SPEC §14).
            assert_eq!(r.status, 401, "{method} {path}");
            assert_eq!(
                r.json["detail"], "Authentication required.",
                "{method} {path}"
            );
            assert_eq!(
                r.header("www-authenticate"),
                Some("Basic realm=\"nevisIDM\"")
            );
        } else {
            r.assert_error(401, "errors.userLoginFailed", "Authentication required.");
        }
    }
}

#[actix_rt::test]
async fn a_failed_authentication_answers_before_a_bad_query() {
    // The authenticator runs on the blocking pool while actix polls the other extractors;
    // the paging check must still wait for it (SPEC §3.4).
    let mut auth = MockCallerAuthenticator::new();
    auth.expect_authenticate()
        .times(1)
        .returning(|_, _, _| Err(DomainError::AuthenticationFailed.into()));
    let req = TestRequest::get()
        .uri("/nevisidm/api/core/v1/acme/users/jdoe-1/credentials?limit=0")
        .insert_header(("Authorization", basic(LOGIN, "wrong-pw")));
    let r = send(Mocks::with_auth(auth), req).await;
    r.assert_error(401, "errors.userLoginFailed", "Authentication failed.");
    assert_challenge(&r);
}

#[actix_rt::test]
async fn the_paging_check_waits_for_authentication_whatever_the_argument_order() {
    async fn paging_first(_: Paging, Authenticated(_): Authenticated) -> HttpResponse {
        HttpResponse::NoContent().finish()
    }
    let state = |auth| web::Data::new(Mocks::with_auth(auth).state());
    let call = |auth, password: &'static str, query: &'static str| async move {
        let service = test::init_service(
            App::new()
                .app_data(state(auth))
                .route("/probe", web::get().to(paging_first)),
        )
        .await;
        let req = TestRequest::get()
            .uri(&format!("/probe?{query}"))
            .insert_header(("Authorization", basic(LOGIN, password)));
        test::call_service(&service, req.to_request())
            .await
            .status()
            .as_u16()
    };
    let rejecting = || {
        let mut auth = MockCallerAuthenticator::new();
        auth.expect_authenticate()
            .returning(|_, _, _| Err(DomainError::AuthenticationFailed.into()));
        auth
    };
    let accepting = || Mocks::new().auth;
    assert_eq!(call(rejecting(), "wrong-pw", "limit=0").await, 401);
    assert_eq!(call(accepting(), PASSWORD, "limit=0").await, 422);
    assert_eq!(call(accepting(), PASSWORD, "limit=5").await, 204);
}

// ---- bodies ------------------------------------------------------------------------------

/// Sends a client create whose use case expects exactly `rejection` and echoes it back.
async fn rejected(req: TestRequest, rejection: BodyRejection, mut mocks: Mocks) -> Reply {
    mocks
        .clients
        .expect_create_client()
        .withf(move |c, cmd| {
            *c == caller() && matches!(cmd, Err(AppError::BadBody(r)) if *r == rejection)
        })
        .times(1)
        .returning(|_, cmd| cmd.map(|_| client()));
    send(mocks, req).await
}

#[actix_rt::test]
async fn malformed_json_is_400_after_the_use_case_saw_it() {
    let r = rejected(
        json_req(TestRequest::post().uri(CLIENTS), r#"{"name": "Acme","#),
        BodyRejection::MalformedJson,
        Mocks::new(),
    )
    .await;
    r.assert_error(
        400,
        "errors.jsonProcessingError",
        "Malformed JSON request body.",
    );
}

#[actix_rt::test]
async fn a_wrong_field_type_is_400_deserialization() {
    let r = rejected(
        json_req(TestRequest::post().uri(CLIENTS), r#"{"name": 42}"#),
        BodyRejection::InvalidField("name".into()),
        Mocks::new(),
    )
    .await;
    r.assert_error(
        400,
        "errors.deserialization",
        "Invalid value for field 'name'.",
    );
}

#[actix_rt::test]
async fn a_body_that_is_no_object_is_400_for_field_body() {
    let r = rejected(
        json_req(TestRequest::post().uri(CLIENTS), r#"["acme", "Acme"]"#),
        BodyRejection::InvalidField("body".into()),
        Mocks::new(),
    )
    .await;
    r.assert_error(
        400,
        "errors.deserialization",
        "Invalid value for field 'body'.",
    );
}

#[actix_rt::test]
async fn an_empty_body_is_400_null_request_body() {
    for body in ["", "  \n", "null"] {
        let r = rejected(
            json_req(TestRequest::post().uri(CLIENTS), body),
            BodyRejection::Missing,
            Mocks::new(),
        )
        .await;
        r.assert_error(400, "errors.nullRequestBody", "Request body is required.");
    }
    // No body and no content type at all.
    let r = rejected(
        authed(TestRequest::post().uri(CLIENTS)),
        BodyRejection::Missing,
        Mocks::new(),
    )
    .await;
    r.assert_error(400, "errors.nullRequestBody", "Request body is required.");
}

#[actix_rt::test]
async fn a_body_that_is_not_declared_json_is_415() {
    for content_type in [Some("text/plain"), Some("application/xml"), None] {
        let mut req = authed(TestRequest::post().uri(CLIENTS)).set_payload(r#"{"name":"Acme"}"#);
        if let Some(ct) = content_type {
            req = req.insert_header(("Content-Type", ct));
        }
        let r = rejected(req, BodyRejection::UnsupportedMediaType, Mocks::new()).await;
        r.assert_error(
            415,
            "errors.unsupportedMediaType",
            "Content-Type must be application/json.",
        );
    }
}

#[actix_rt::test]
async fn json_with_parameters_and_any_case_is_accepted() {
    let mut m = Mocks::new();
    m.clients
        .expect_create_client()
        .withf(|_, cmd| matches!(cmd, Ok(CreateClient { name: Some(n), .. }) if n == "Acme"))
        .times(1)
        .returning(|_, _| Ok(client()));
    let req = authed(TestRequest::post().uri(CLIENTS))
        .insert_header(("Content-Type", "Application/JSON; charset=UTF-8"))
        .set_payload(r#"{"name":"Acme"}"#);
    let r = send(m, req).await;
    assert_eq!(r.status, 201, "{}", r.raw);
}

#[actix_rt::test]
async fn an_oversized_body_is_413() {
    let mut m = Mocks::new();
    m.settings.max_body_bytes = 32;
    let body = format!(r#"{{"name":"{}"}}"#, "x".repeat(64));
    let r = rejected(
        json_req(TestRequest::post().uri(CLIENTS), &body),
        BodyRejection::TooLarge,
        m,
    )
    .await;
    r.assert_error(413, "errors.invalidData", "Request body too large.");
}

#[actix_rt::test]
async fn a_body_at_the_limit_is_read() {
    let mut m = Mocks::new();
    let body = r#"{"name":"Acme"}"#;
    m.settings.max_body_bytes = body.len();
    m.clients
        .expect_create_client()
        .withf(|_, cmd| cmd.is_ok())
        .times(1)
        .returning(|_, _| Ok(client()));
    let r = send(m, json_req(TestRequest::post().uri(CLIENTS), body)).await;
    assert_eq!(r.status, 201);
}

#[actix_rt::test]
async fn a_too_large_content_length_is_413_without_reading() {
    let req = json_req(TestRequest::post().uri(CLIENTS), r#"{"name":"Acme"}"#)
        .insert_header(("Content-Length", "10000000"));
    let r = rejected(req, BodyRejection::TooLarge, Mocks::new()).await;
    r.assert_error(413, "errors.invalidData", "Request body too large.");
}

#[actix_rt::test]
async fn the_use_case_decides_what_comes_first() {
    // SPEC §3.4: a failing lookup (step 3) wins over a broken body (step 6).
    let mut m = Mocks::new();
    m.users
        .expect_create_user()
        .withf(|_, _, cmd| cmd.is_err())
        .times(1)
        .returning(|_, client, _| Err(DomainError::ClientNotFound(client.to_owned()).into()));
    let r = send(
        m,
        json_req(
            TestRequest::post().uri("/nevisidm/api/core/v1/ghost/users"),
            "{",
        ),
    )
    .await;
    r.assert_error(
        404,
        "errors.noRecord",
        "Client doesn't exist with extId 'ghost'",
    );
}

// ---- failures ----------------------------------------------------------------------------

#[actix_rt::test]
async fn unavailable_is_503_with_retry_after() {
    let mut m = Mocks::new();
    m.clients
        .expect_get_client()
        .returning(|_, _| Err(AppError::Unavailable));
    let r = send(
        m,
        authed(TestRequest::get().uri("/nevisidm/api/core/v1/clients/acme")),
    )
    .await;
    r.assert_error(503, "errors.fatalError", "Service temporarily unavailable.");
    assert_eq!(r.header("retry-after"), Some("1"));
}

#[actix_rt::test]
async fn internal_errors_are_500_without_their_text() {
    let mut m = Mocks::new();
    m.clients.expect_get_client().returning(|_, _| {
        Err(AppError::Internal(
            "secret SQL: SELECT * FROM credentials".into(),
        ))
    });
    let r = send(
        m,
        authed(TestRequest::get().uri("/nevisidm/api/core/v1/clients/acme")),
    )
    .await;
    r.assert_error(500, "errors.fatalError", "Internal server error.");
    assert!(!r.raw.contains("secret SQL"));
}

#[actix_rt::test]
async fn a_panicking_use_case_is_a_500_envelope() {
    let mut m = Mocks::new();
    m.clients
        .expect_get_client()
        .returning(|_, _| panic!("use case blew up"));
    let r = send(
        m,
        authed(TestRequest::get().uri("/nevisidm/api/core/v1/clients/acme")),
    )
    .await;
    r.assert_error(500, "errors.fatalError", "Internal server error.");
}

// ---- unknown paths and methods -------------------------------------------------------------

#[actix_rt::test]
async fn an_unknown_path_is_404_invalid_uri() {
    for path in [
        "/",
        "/nevisidm/api/core/v2/clients",
        "/nevisidm/api/core/v1/clients/a/b/c/d/e",
    ] {
        let r = send(Mocks::new(), authed(TestRequest::get().uri(path))).await;
        r.assert_error(404, "errors.invalidUri", "Unknown resource.");
    }
}

#[actix_rt::test]
async fn a_known_path_with_another_method_is_405_with_allow() {
    let r = send(Mocks::new(), authed(TestRequest::delete().uri(CLIENTS))).await;
    r.assert_error(405, "errors.unsupportedOperation", "Method not allowed.");
    assert_eq!(r.header("allow"), Some("POST, GET"));

    let r = send(
        Mocks::new(),
        authed(TestRequest::put().uri("/nevisidm/api/core/v1/acme/policies/p1")),
    )
    .await;
    r.assert_error(405, "errors.unsupportedOperation", "Method not allowed.");
    assert_eq!(r.header("allow"), Some("GET, PATCH"));

    let r = send(
        Mocks::new(),
        authed(TestRequest::patch().uri("/nevisidm/api/core/v1/acme/users/u1/roles")),
    )
    .await;
    assert_eq!(r.status, 405);
    assert_eq!(r.header("allow"), Some("POST, GET"));
}

#[actix_rt::test]
async fn a_path_fitting_two_templates_is_routed_by_method() {
    // GET …/clients/users reads client "users"; POST creates a user in client "clients".
    let mut m = Mocks::new();
    m.clients
        .expect_get_client()
        .withf(|_, id| id == "users")
        .times(1)
        .returning(|_, _| Ok(client()));
    let r = send(
        m,
        authed(TestRequest::get().uri("/nevisidm/api/core/v1/clients/users")),
    )
    .await;
    assert_eq!(r.status, 200);

    let mut m = Mocks::new();
    m.users
        .expect_create_user()
        .withf(|_, client, _| client == "clients")
        .times(1)
        .returning(|_, _, _| Ok(user_view()));
    let r = send(
        m,
        json_req(
            TestRequest::post().uri("/nevisidm/api/core/v1/clients/users"),
            r#"{"loginId":"x"}"#,
        ),
    )
    .await;
    assert_eq!(r.status, 201);

    // SPEC §12 added `PATCH …/clients/{extId}`, which fits this path too.
    let r = send(
        Mocks::new(),
        authed(TestRequest::delete().uri("/nevisidm/api/core/v1/clients/users")),
    )
    .await;
    assert_eq!(r.status, 405);
    assert_eq!(r.header("allow"), Some("GET, PATCH, POST"));
}

// ---- request IDs ---------------------------------------------------------------------------

#[actix_rt::test]
async fn a_sane_request_id_is_echoed() {
    let req = TestRequest::get()
        .uri("/health/live")
        .insert_header(("X-Request-Id", "trace-42:a.b_c"));
    let r = send(Mocks::new(), req).await;
    assert_eq!(r.header("x-request-id"), Some("trace-42:a.b_c"));
}

#[actix_rt::test]
async fn an_insane_or_missing_request_id_is_replaced() {
    let long = "a".repeat(300);
    for sent in [
        None,
        Some(long.as_str()),
        Some("has spaces in it"),
        Some("semi;colon"),
    ] {
        let mut req = TestRequest::get().uri("/nevisidm/api/nowhere");
        if let Some(v) = sent {
            req = req.insert_header(("X-Request-Id", v));
        }
        let r = send(Mocks::new(), req).await;
        let got = r.header("x-request-id").unwrap();
        assert_ne!(Some(got), sent);
        assert!(uuid::Uuid::parse_str(got).is_ok(), "{got}");
        r.assert_error(404, "errors.invalidUri", "Unknown resource.");
    }
}

#[actix_rt::test]
async fn errors_carry_the_request_id_too() {
    let req = TestRequest::get()
        .uri("/nevisidm/api/core/v1/clients/acme")
        .insert_header(("X-Request-Id", "req-401"));
    let r = send(Mocks::new(), req).await;
    assert_eq!(r.status, 401);
    assert_eq!(r.header("x-request-id"), Some("req-401"));
}
