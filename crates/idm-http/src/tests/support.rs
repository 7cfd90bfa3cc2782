//! Mocks, fixtures and a one-call request helper shared by the app tests.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use actix_web::http::header::HeaderMap;
use actix_web::http::StatusCode;
use actix_web::test::{self, TestRequest};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use chrono::{DateTime, TimeZone, Utc};
use idm_domain::access::{DataRoom, Role, RoleGrant};
use idm_domain::client::Client;
use idm_domain::credential::{Credential, CredentialSecret, CredentialState, StateChangeReason};
use idm_domain::policy::{Policy, PolicyParameters, PolicyType};
use idm_domain::user::{Contacts, LanguageCode, PersonName, User, UserState};
use idm_domain::ExtId;
use idm_ports::repos::{CredentialRecord, MockHealthCheck};
use idm_ports::telemetry::{NoTelemetry, Telemetry};
use idm_ports::usecases::{
    MockAuditService, MockAuthService, MockCallerAuthenticator, MockClientService,
    MockLoginInfoService, MockOathService, MockPasswordService, MockPolicyService, MockRoleService,
    MockTokenService, MockUserService, MockVascoService, PolicyView, UserView,
};
use idm_ports::Caller;
use serde_json::Value;

use crate::{app, AppState, HttpSettings};

pub const LOGIN: &str = "default/admin";
pub const PASSWORD: &str = "s3cret:pw";

/// One mock per port; the authenticator accepts [`LOGIN`]/[`PASSWORD`] unless replaced.
pub struct Mocks {
    pub auth: MockCallerAuthenticator,
    pub clients: MockClientService,
    pub users: MockUserService,
    pub roles: MockRoleService,
    pub policies: MockPolicyService,
    pub passwords: MockPasswordService,
    pub login_info: MockLoginInfoService,
    pub vasco: MockVascoService,
    pub oath: MockOathService,
    pub tokens: MockTokenService,
    pub authentication: MockAuthService,
    /// The history; by default it accepts the record of every refused request.
    pub audit: MockAuditService,
    pub health: MockHealthCheck,
    /// Receives every request's report; drops them unless replaced.
    pub telemetry: Arc<dyn Telemetry>,
    pub settings: HttpSettings,
}

impl Mocks {
    /// Mocks whose authenticator accepts the test caller; no use case may be called.
    pub fn new() -> Self {
        let mut auth = MockCallerAuthenticator::new();
        auth.expect_authenticate()
            .withf(|u, p, _| u == LOGIN && p == PASSWORD)
            .returning(|_, _, _| Ok(caller()));
        Self::with_auth(auth)
    }

    /// Mocks with this authenticator.
    pub fn with_auth(auth: MockCallerAuthenticator) -> Self {
        Mocks {
            auth,
            clients: MockClientService::new(),
            users: MockUserService::new(),
            roles: MockRoleService::new(),
            policies: MockPolicyService::new(),
            passwords: MockPasswordService::new(),
            login_info: MockLoginInfoService::new(),
            vasco: MockVascoService::new(),
            oath: MockOathService::new(),
            tokens: MockTokenService::new(),
            authentication: MockAuthService::new(),
            audit: {
                let mut audit = MockAuditService::new();
                audit.expect_record_denial().returning(|_, _, _, _| Ok(()));
                audit
            },
            health: MockHealthCheck::new(),
            telemetry: Arc::new(NoTelemetry),
            settings: HttpSettings::default(),
        }
    }

    pub fn state(self) -> AppState {
        AppState {
            authenticator: Arc::new(self.auth),
            clients: Arc::new(self.clients),
            users: Arc::new(self.users),
            roles: Arc::new(self.roles),
            policies: Arc::new(self.policies),
            passwords: Arc::new(self.passwords),
            login_info: Arc::new(self.login_info),
            vasco: Arc::new(self.vasco),
            oath: Arc::new(self.oath),
            tokens: Arc::new(self.tokens),
            auth: Arc::new(self.authentication),
            audit: Arc::new(self.audit),
            health: Arc::new(self.health),
            telemetry: self.telemetry,
            settings: self.settings,
        }
    }
}

/// The answer of one request, body parsed as JSON (`Null` when empty).
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub raw: String,
    pub json: Value,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Asserts the SPEC §2 envelope with exactly one error.
    pub fn assert_error(&self, status: u16, code: &str, message: &str) {
        assert_eq!(self.status.as_u16(), status, "body: {}", self.raw);
        assert_eq!(
            self.json,
            serde_json::json!({"errors": [{"code": code, "message": message}]}),
            "body: {}",
            self.raw
        );
        assert!(
            self.header("content-type")
                .is_some_and(|c| c.starts_with("application/json")),
            "content type"
        );
        assert!(
            self.header("x-request-id").is_some(),
            "request id on errors"
        );
    }
}

/// Sends `req` through the whole app. Every JSON answer is checked for `null`s (SPEC §1)
/// and every answer for an `X-Request-Id`.
pub async fn send(mocks: Mocks, req: TestRequest) -> Reply {
    let service = test::init_service(app(mocks.state())).await;
    let res = test::call_service(&service, req.to_request()).await;
    let status = res.status();
    let headers = res.headers().clone();
    let bytes = test::read_body(res).await;
    let raw = String::from_utf8_lossy(&bytes).into_owned();
    let json = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes).unwrap_or_else(|e| panic!("not JSON ({e}): {raw}"))
    };
    assert_no_nulls(&json, "$");
    assert!(
        headers.contains_key("x-request-id"),
        "no X-Request-Id on {status}"
    );
    Reply {
        status,
        headers,
        raw,
        json,
    }
}

fn assert_no_nulls(v: &Value, path: &str) {
    match v {
        Value::Object(map) => {
            for (k, v) in map {
                assert!(!v.is_null(), "null at {path}.{k}");
                assert_no_nulls(v, &format!("{path}.{k}"));
            }
        }
        Value::Array(items) => items.iter().for_each(|v| assert_no_nulls(v, path)),
        _ => {}
    }
}

/// A request carrying the test caller's Basic credentials.
pub fn authed(req: TestRequest) -> TestRequest {
    req.insert_header(("Authorization", basic(LOGIN, PASSWORD)))
}

pub fn basic(user: &str, password: &str) -> String {
    format!("Basic {}", STANDARD.encode(format!("{user}:{password}")))
}

/// An authenticated JSON request with this body.
pub fn json_req(req: TestRequest, body: &str) -> TestRequest {
    authed(req)
        .insert_header(("Content-Type", "application/json"))
        .set_payload(body.to_owned())
}

pub fn ext(s: &str) -> ExtId {
    ExtId::parse(s).unwrap()
}

pub fn t(secs: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(1_700_000_000 + secs, 0).unwrap()
}

pub const T0: &str = "2023-11-14T22:13:20.000Z";
pub const T1: &str = "2023-11-14T22:13:21.000Z";

pub fn caller() -> Caller {
    Caller {
        user_id: "u-1".into(),
        user_ext_id: ext("admin"),
        client_ext_id: ext("default"),
        login_id: "admin".into(),
        grants: vec![RoleGrant::new(Role::Root, DataRoom::Global)],
        request_id: None,
    }
}

pub fn client() -> Client {
    Client {
        id: "c-1".into(),
        ext_id: ext("acme"),
        name: "Acme".into(),
        created: t(0),
        last_modified: t(1),
        version: 1,
    }
}

pub fn user_view() -> UserView {
    UserView {
        user: User {
            id: "u-2".into(),
            client_id: "c-1".into(),
            ext_id: ext("jdoe-1"),
            login_id: "jdoe".into(),
            external_id: None,
            state: UserState::Active,
            language: LanguageCode::De,
            is_technical_user: false,
            name: PersonName {
                title: Some("Dr".into()),
                first_name: Some("Jane".into()),
                family_name: None,
            },
            contacts: Contacts::default(),
            last_login: None,
            last_login_failure: None,
            created: t(0),
            last_modified: t(1),
            version: 1,
        },
        client_ext_id: ext("acme"),
    }
}

pub fn credential(ext_id: &str, secs: i64) -> CredentialRecord {
    CredentialRecord {
        credential: Credential {
            id: format!("id-{ext_id}"),
            client_id: "c-1".into(),
            user_id: Some("u-2".into()),
            ext_id: ext(ext_id),
            policy_id: "p-1".into(),
            state: CredentialState::Active,
            state_change_reason: StateChangeReason::Initialized,
            state_change_detail: None,
            last_successful_login: None,
            successful_login_count: 0,
            last_failed_login: Some(t(1)),
            failed_login_count: 1,
            modification_comment: None,
            validity_from: t(secs),
            validity_to: t(secs + 10),
            locked_until: None,
            reset_count: 0,
            secret: CredentialSecret::Password {
                hash: "$argon2id$v=19$SECRETHASH".into(),
            },
            created: t(secs),
            last_modified: t(secs),
            version: 2,
            epoch: 0,
            pending_attempts: 0,
            pending_until: None,
        },
        user_ext_id: Some(ext("jdoe-1")),
        policy_ext_id: ext("pwd-policy"),
    }
}

pub fn policy_view() -> PolicyView {
    let given = BTreeMap::from([("minLength".to_owned(), "10".to_owned())]);
    PolicyView {
        policy: Policy {
            id: "p-1".into(),
            client_id: "c-1".into(),
            ext_id: ext("pwd-2"),
            name: "Strict".into(),
            description: None,
            policy_type: PolicyType::Pwd,
            default_policy: false,
            parameters: PolicyParameters::validated(PolicyType::Pwd, given).unwrap(),
            created: t(0),
            last_modified: t(1),
            version: 3,
        },
        client_ext_id: ext("acme"),
    }
}

pub fn grant(role: Role, clients: &[&str]) -> RoleGrant {
    if clients.is_empty() {
        RoleGrant::new(role, DataRoom::Global)
    } else {
        RoleGrant::new(
            role,
            DataRoom::Clients(clients.iter().map(|c| ext(c)).collect::<BTreeSet<_>>()),
        )
    }
}
