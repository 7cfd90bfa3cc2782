//! Shared fixtures: ports built from mocks with a fixed clock and sequential IDs, callers of
//! every kind, and domain records for client `c1` ("Acme").

use std::collections::BTreeSet;
use std::fmt::Debug;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use chrono::{DateTime, TimeZone, Utc};
use idm_domain::access::{DataRoom, Role, RoleGrant};
use idm_domain::client::Client;
use idm_domain::credential::{Credential, CredentialSecret, CredentialState, StateChangeReason};
use idm_domain::policy::{Policy, PolicyParameters, PolicyType};
use idm_domain::user::{User, UserState};
use idm_domain::{DomainError, ExtId};

use crate::auth::{
    MockClock, MockIdGenerator, MockLoginCache, MockPasswordHasher, MockSecretCipher,
    MockSecretGenerator, MockTokenIssuer,
};
use crate::caller::Caller;
use crate::error::{AppError, AppResult};
use crate::repos::{CredentialRecord, TxMode};
use crate::telemetry::{MockTelemetry, NoTelemetry, Telemetry};
use crate::testing::{MockRepos, MockedUnitOfWork};
use crate::usecases::Ports;

/// The fixed instant every test runs at.
pub fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 5, 6, 7, 8, 9).unwrap()
}

/// An instant well before [`now`], when fixtures were created.
pub fn earlier() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2023, 1, 1, 0, 0, 0).unwrap()
}

/// The mocks of one test; set expectations on the fields, then [`Harness::build`].
#[derive(Default)]
pub struct Harness {
    pub repos: MockRepos,
    pub hasher: MockPasswordHasher,
    pub cache: MockLoginCache,
    pub secrets: MockSecretGenerator,
    pub cipher: MockSecretCipher,
    /// X-Token issuer; set `expect_validate` in self-admin write tests.
    pub tokens: MockTokenIssuer,
    /// Telemetry to check; `None` drops every event.
    pub telemetry: Option<MockTelemetry>,
}

impl Harness {
    pub fn new() -> Self {
        Self::default()
    }

    /// The ports over these mocks, and the unit of work to inspect afterwards.
    pub fn build(self) -> (Ports, Arc<MockedUnitOfWork>) {
        let uow = Arc::new(MockedUnitOfWork::new(self.repos));
        let mut ports = ports_with(
            uow.clone(),
            self.hasher,
            self.cache,
            self.secrets,
            self.cipher,
            self.tokens,
        );
        if let Some(telemetry) = self.telemetry {
            ports.telemetry = Arc::new(telemetry) as Arc<dyn Telemetry>;
        }
        (ports, uow)
    }
}

/// Ports whose storage fails every transaction with `error`.
pub fn failing_ports(error: AppError) -> (Ports, Arc<MockedUnitOfWork>) {
    let uow = Arc::new(MockedUnitOfWork::failing(error));
    let ports = ports_with(
        uow.clone(),
        MockPasswordHasher::new(),
        MockLoginCache::new(),
        MockSecretGenerator::new(),
        MockSecretCipher::new(),
        MockTokenIssuer::new(),
    );
    (ports, uow)
}

fn ports_with(
    uow: Arc<MockedUnitOfWork>,
    hasher: MockPasswordHasher,
    cache: MockLoginCache,
    secrets: MockSecretGenerator,
    cipher: MockSecretCipher,
    tokens: MockTokenIssuer,
) -> Ports {
    let mut clock = MockClock::new();
    clock.expect_now().return_const(now());
    let mut ids = MockIdGenerator::new();
    let counter = AtomicUsize::new(0);
    ids.expect_new_id()
        .returning(move || format!("id-{}", counter.fetch_add(1, Ordering::SeqCst) + 1));
    Ports {
        uow,
        hasher: Arc::new(hasher),
        login_cache: Arc::new(cache),
        clock: Arc::new(clock),
        ids: Arc::new(ids),
        secrets: Arc::new(secrets),
        cipher: Arc::new(cipher),
        tokens: Arc::new(tokens),
        telemetry: Arc::new(NoTelemetry),
    }
}

// ---- callers --------------------------------------------------------------------------------

pub fn ext(raw: &str) -> ExtId {
    ExtId::parse(raw).unwrap()
}

pub fn room(clients: &[&str]) -> DataRoom {
    DataRoom::Clients(clients.iter().map(|c| ext(c)).collect::<BTreeSet<_>>())
}

fn caller(client: &str, user: &str, grants: Vec<RoleGrant>) -> Caller {
    Caller {
        user_id: format!("user-{user}"),
        user_ext_id: ext(user),
        client_ext_id: ext(client),
        login_id: user.to_owned(),
        grants,
    }
}

/// A global Root.
pub fn root() -> Caller {
    caller(
        "default",
        "admin",
        vec![RoleGrant::new(Role::Root, DataRoom::Global)],
    )
}

/// A ClientRoot of the given clients.
pub fn client_root(clients: &[&str]) -> Caller {
    caller(
        "c1",
        "croot",
        vec![RoleGrant::new(Role::ClientRoot, room(clients))],
    )
}

/// A Helpdesk of the given clients.
pub fn helpdesk(clients: &[&str]) -> Caller {
    caller(
        "c1",
        "helper",
        vec![RoleGrant::new(Role::Helpdesk, room(clients))],
    )
}

/// A UserAdmin of the given clients.
pub fn user_admin(clients: &[&str]) -> Caller {
    caller(
        "c1",
        "uadmin",
        vec![RoleGrant::new(Role::UserAdmin, room(clients))],
    )
}

/// A SelfAdmin user `user` of `client`.
pub fn self_admin(client: &str, user: &str) -> Caller {
    caller(
        client,
        user,
        vec![RoleGrant::new(Role::SelfAdmin, DataRoom::Global)],
    )
}

/// A caller without any grant.
pub fn nobody() -> Caller {
    caller("c1", "nobody", Vec::new())
}

// ---- domain fixtures ------------------------------------------------------------------------

/// Client `c1`, "Acme".
pub fn acme() -> Client {
    client("c1", "Acme")
}

pub fn client(ext_id: &str, name: &str) -> Client {
    Client {
        id: format!("client-{ext_id}"),
        ext_id: ext(ext_id),
        name: name.to_owned(),
        created: earlier(),
        last_modified: earlier(),
        version: 1,
    }
}

/// An active user of `client` with storage ID `user-<ext_id>`.
pub fn user(client: &Client, ext_id: &str, login_id: &str) -> User {
    User {
        id: format!("user-{ext_id}"),
        client_id: client.id.clone(),
        ext_id: ext(ext_id),
        login_id: login_id.to_owned(),
        state: UserState::Active,
        language: Default::default(),
        is_technical_user: false,
        name: Default::default(),
        contacts: Default::default(),
        last_login: None,
        last_login_failure: None,
        created: earlier(),
        last_modified: earlier(),
        version: 1,
    }
}

/// The user's password credential, `active`, hashed as `hash`, under policy `pol-pwd`.
pub fn password_record(user: &User, hash: &str) -> CredentialRecord {
    CredentialRecord {
        credential: Credential {
            id: format!("cred-{}", user.ext_id),
            client_id: user.client_id.clone(),
            user_id: Some(user.id.clone()),
            ext_id: ext(&format!("pwd-{}", user.ext_id)),
            policy_id: "pol-pwd".into(),
            state: CredentialState::Active,
            state_change_reason: StateChangeReason::Initialized,
            state_change_detail: None,
            last_successful_login: None,
            successful_login_count: 0,
            last_failed_login: None,
            failed_login_count: 0,
            modification_comment: None,
            validity_from: earlier(),
            validity_to: Utc.with_ymd_and_hms(2033, 1, 1, 0, 0, 0).unwrap(),
            locked_until: None,
            reset_count: 0,
            secret: CredentialSecret::Password {
                hash: hash.to_owned(),
            },
            created: earlier(),
            last_modified: earlier(),
            version: 4,
        },
        user_ext_id: Some(user.ext_id.clone()),
        policy_ext_id: ext("default-PwdPolicy"),
    }
}

/// A policy of `client` with default parameters and storage ID `pol-<ext_id>`.
pub fn policy(
    client: &Client,
    ext_id: &str,
    policy_type: PolicyType,
    default_policy: bool,
) -> Policy {
    Policy {
        id: format!("pol-{ext_id}"),
        client_id: client.id.clone(),
        ext_id: ext(ext_id),
        name: format!("Policy {ext_id}"),
        description: None,
        policy_type,
        default_policy,
        parameters: PolicyParameters::default(),
        created: earlier(),
        last_modified: earlier(),
        version: 3,
    }
}

// ---- assertions -----------------------------------------------------------------------------

/// The domain error of a failed result; panics on success or on a non-domain error.
pub fn domain_err<T: Debug>(result: AppResult<T>) -> DomainError {
    match result {
        Err(AppError::Domain(e)) => e,
        other => panic!("expected a domain error, got {other:?}"),
    }
}

/// Asserts the exact SPEC code and message of a failed result.
#[track_caller]
pub fn assert_err<T: Debug>(result: AppResult<T>, code: &str, message: &str) {
    let e = domain_err(result);
    assert_eq!(e.code(), code, "code of {e:?}");
    assert_eq!(e.to_string(), message, "message of {e:?}");
}

/// The body error a transport reports for unparsable JSON (SPEC §2, 400).
pub fn malformed_body() -> AppError {
    AppError::Internal("malformed JSON (stand-in for the transport's 400)".into())
}

/// Whether every recorded transaction was a read.
pub fn only_reads(uow: &MockedUnitOfWork) -> bool {
    uow.modes().iter().all(|m| *m == TxMode::Read)
}

/// Expects client `c1` ("Acme") to be looked up by extId once.
pub fn expect_acme(repos: &mut MockRepos) {
    repos
        .clients
        .expect_find_by_ext_id()
        .withf(|e| e == "c1")
        .times(1)
        .returning(|_| Ok(Some(acme())));
}

/// Expects user `ext_id` of `c1` to be looked up once and found.
pub fn expect_user(repos: &mut MockRepos, found: User) {
    let wanted = found.ext_id.to_string();
    repos
        .users
        .expect_find_by_ext_id()
        .withf(move |c, u| c == "client-c1" && u == wanted)
        .times(1)
        .returning(move |_, _| Ok(Some(found.clone())));
}
