//! Shared fixtures: ports built from mocks with a fixed clock and sequential IDs, callers of
//! every kind, and domain records for client `c1` ("Acme").
//!
//! The fixtures set no call counts: a test states what its use case must find and must leave
//! behind (the committed history events, the rows written), not how many queries it took.
//! `.never()` is kept only where it proves a property (no hash on a locked credential, nothing
//! written on a refusal).

use std::collections::BTreeSet;
use std::fmt::Debug;
use std::hash::{Hash, Hasher};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use chrono::{DateTime, TimeZone, Utc};
use idm_domain::access::{DataRoom, Role, RoleGrant};
use idm_domain::client::Client;
use idm_domain::credential::{Credential, CredentialSecret, CredentialState, NewCredential};
use idm_domain::policy::{Policy, PolicyParameters, PolicyType};
use idm_domain::user::{User, UserState};
use idm_domain::{DomainError, ExtId};

use crate::auth::{
    HashSlot, MockClock, MockHistoryMac, MockIdGenerator, MockLoginCache, MockPasswordHasher,
    MockSecretCipher, MockSecretGenerator, MockTokenIssuer,
};
use crate::caller::Caller;
use crate::error::{AppError, AppResult, StoreError};
use crate::history::{canonical, StoredEvent};
use crate::repos::CredentialRecord;
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
    /// The login cache. After the test's own expectations, a `presented:` pair (SPEC §10.3,
    /// asked before the lookup) is not fresh and `remember` accepts anything; the entry of a
    /// real credential is left to the tests that reach it.
    pub cache: MockLoginCache,
    pub secrets: MockSecretGenerator,
    pub cipher: MockSecretCipher,
    /// X-Token issuer; set `expect_validate` in self-admin write tests.
    pub tokens: MockTokenIssuer,
    /// Telemetry to check; `None` drops every event.
    pub telemetry: Option<MockTelemetry>,
    /// The history's chain key; `None` is a deterministic keyed hash (see [`deterministic_mac`]).
    pub history_mac: Option<MockHistoryMac>,
    /// Hashing capacity is exhausted: every `slot()` answers `AppError::Busy` (SPEC §10.3).
    /// Otherwise the hasher hands out unbounded slots (after any `expect_slot` of the test).
    pub busy: bool,
    /// Lets mock closures look at the unit of work [`Harness::build`] makes.
    pub probe: UowProbe,
}

impl Harness {
    pub fn new() -> Self {
        Self::default()
    }

    /// The ports over these mocks, and the unit of work to inspect afterwards.
    pub fn build(self) -> (Ports, Arc<MockedUnitOfWork>) {
        let uow = Arc::new(MockedUnitOfWork::new(self.repos));
        let mut hasher = self.hasher;
        if self.busy {
            hasher.expect_slot().returning(|| Err(AppError::Busy));
        } else {
            hasher.expect_slot().returning(|| Ok(HashSlot::unbounded()));
        }
        let mut cache = self.cache;
        cache_defaults(&mut cache);
        let mut ports = ports_with(
            uow.clone(),
            hasher,
            cache,
            self.secrets,
            self.cipher,
            self.tokens,
        );
        if let Some(telemetry) = self.telemetry {
            ports.telemetry = Arc::new(telemetry) as Arc<dyn Telemetry>;
        }
        if let Some(mac) = self.history_mac {
            ports.history_mac = Arc::new(mac);
        }
        self.probe.set(&uow);
        (ports, uow)
    }
}

/// A view of the unit of work for mock closures set up before it exists.
#[derive(Clone, Default)]
pub struct UowProbe(Arc<std::sync::OnceLock<Arc<MockedUnitOfWork>>>);

impl UowProbe {
    fn set(&self, uow: &Arc<MockedUnitOfWork>) {
        let _ = self.0.set(uow.clone());
    }

    /// Whether a transaction is running right now (SPEC §10.3: hashing never holds one).
    pub fn in_transaction(&self) -> bool {
        let uow = self.0.get().expect("the harness was built");
        uow.modes().len() > uow.commits() + uow.rollbacks()
    }

    /// How many transactions have been started so far (0: storage not touched yet).
    pub fn transactions(&self) -> usize {
        self.0.get().expect("the harness was built").modes().len()
    }
}

/// The login cache's defaults, after the test's own expectations (mockall matches in FIFO
/// order): a `presented:` pair is not fresh, and `remember` accepts anything.
fn cache_defaults(cache: &mut MockLoginCache) {
    cache
        .expect_is_fresh()
        .withf(|k, _| k.user_id.starts_with("presented:"))
        .return_const(false);
    cache.expect_remember().return_const(());
}

/// A history chain key that answers a deterministic hash of `prev` and the canonical text, so
/// chained events can be compared across runs.
pub fn deterministic_mac() -> MockHistoryMac {
    let mut mac = MockHistoryMac::new();
    mac.expect_chain().returning(|prev, canonical| {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        (prev, canonical).hash(&mut h);
        format!("mac-{:016x}", h.finish())
    });
    mac
}

/// Ports whose storage fails every transaction with `error` (the hasher hands out slots and
/// the login cache has its defaults, so an authentication reaches the storage).
pub fn failing_ports(error: AppError) -> (Ports, Arc<MockedUnitOfWork>) {
    let uow = Arc::new(MockedUnitOfWork::failing(error));
    let mut hasher = MockPasswordHasher::new();
    hasher.expect_slot().returning(|| Ok(HashSlot::unbounded()));
    let mut cache = MockLoginCache::new();
    cache_defaults(&mut cache);
    let ports = ports_with(
        uow.clone(),
        hasher,
        cache,
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
        history_mac: Arc::new(deterministic_mac()),
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
        request_id: Some(REQUEST_ID.to_owned()),
    }
}

/// The request ID every fixture caller carries; the history records it.
pub const REQUEST_ID: &str = "req-1";

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
        external_id: None,
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

/// The epoch of [`password_record`]: X-Tokens issued now carry it (SPEC §10.4).
pub const EPOCH: i64 = 3;

/// The user's password credential, `active`, hashed as `hash`, under policy `pol-pwd`,
/// version 4, epoch [`EPOCH`].
pub fn password_record(user: &User, hash: &str) -> CredentialRecord {
    // Built through the domain constructor, so fields the domain adds later get its defaults.
    let mut pwd_policy = policy(&acme(), "default-PwdPolicy", PolicyType::Pwd, true);
    pwd_policy.id = "pol-pwd".into();
    let mut credential = Credential::new(
        NewCredential {
            id: format!("cred-{}", user.ext_id),
            client_id: user.client_id.clone(),
            user_id: Some(user.id.clone()),
            ext_id: ext(&format!("pwd-{}", user.ext_id)),
            policy: &pwd_policy,
            state: CredentialState::Active,
            now: earlier(),
        },
        CredentialSecret::Password {
            hash: hash.to_owned(),
        },
    );
    credential.validity_to = Utc.with_ymd_and_hms(2033, 1, 1, 0, 0, 0).unwrap();
    credential.version = 4;
    credential.epoch = EPOCH;
    CredentialRecord {
        credential,
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
        parameters: PolicyParameters::defaults(policy_type),
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

/// Client `c1` ("Acme") is found by its extId.
pub fn expect_acme(repos: &mut MockRepos) {
    repos
        .clients
        .expect_find_by_ext_id()
        .withf(|e| e == "c1")
        .returning(|_| Ok(Some(acme())));
}

/// User `found` of `c1` is found by its extId and holds no role (an unprivileged target of
/// SPEC §10.1).
pub fn expect_user(repos: &mut MockRepos, found: User) {
    expect_user_holding(repos, found, Vec::new());
}

/// User `found` of `c1` is found by its extId and holds `grants`.
pub fn expect_user_holding(repos: &mut MockRepos, found: User, grants: Vec<RoleGrant>) {
    let wanted = found.ext_id.to_string();
    let id = found.id.clone();
    repos
        .users
        .expect_find_by_ext_id()
        .withf(move |c, u| c == "client-c1" && u == wanted)
        .returning(move |_, _| Ok(Some(found.clone())));
    repos
        .roles
        .expect_grants_of_user()
        .withf(move |u| u == id)
        .returning(move |_| Ok(grants.clone()));
}

/// Policies found by their storage identity (the lockout rules of a credential's policy).
pub fn expect_policies_by_id(repos: &mut MockRepos, policies: Vec<Policy>) {
    repos
        .policies
        .expect_find_by_id()
        .returning(move |id| Ok(policies.iter().find(|p| p.id == id).cloned()));
}

// ---- a stateful password credential -------------------------------------------------------

/// A user's Password credential held by the mocked storage: every read (locked or not) answers
/// the current row, and `update` is a compare-and-set on its version. Tests assert the row a
/// use case leaves, not the reads and writes it took to get there. (A rolled-back transaction
/// does not restore the row; its events are taken back by the unit of work.)
#[derive(Clone)]
pub struct PasswordRow(Arc<Mutex<CredentialRecord>>);

impl PasswordRow {
    /// The row as stored now.
    pub fn get(&self) -> CredentialRecord {
        self.0.lock().unwrap().clone()
    }

    /// The credential as stored now.
    pub fn credential(&self) -> Credential {
        self.get().credential
    }

    /// Changes the stored row behind the use case's back (a concurrent writer).
    pub fn modify(&self, change: impl FnOnce(&mut CredentialRecord)) {
        change(&mut self.0.lock().unwrap());
    }
}

/// Stores `record` as its user's Password credential (see [`PasswordRow`]); updates of other
/// credentials are left to the test's own expectations.
pub fn stored_password(repos: &mut MockRepos, record: CredentialRecord) -> PasswordRow {
    let user_id = record
        .credential
        .user_id
        .clone()
        .expect("an assigned credential");
    let row = PasswordRow(Arc::new(Mutex::new(record)));
    let current = row.clone();
    repos
        .credentials
        .expect_find_password_of_user()
        .withf(move |u, _| u == user_id)
        .returning(move |_, _| Ok(Some(current.get())));
    let target = row.clone();
    let id = row.get().credential.id;
    repos
        .credentials
        .expect_update()
        .withf(move |c, _| c.id == id)
        .returning(move |c, expected| {
            let mut stored = target.0.lock().unwrap();
            if stored.credential.version != expected {
                return Err(StoreError::Conflict);
            }
            stored.credential = c.clone();
            Ok(())
        });
    row
}

// ---- the history ----------------------------------------------------------------------------

/// The canonical text of every committed event (what the chain hash covers, SPEC §13).
pub fn history_texts(uow: &MockedUnitOfWork) -> Vec<String> {
    uow.events()
        .iter()
        .map(|e| canonical(e.seq, &e.event))
        .collect()
}

/// Asserts that no committed event contains any of `secrets` (a password, a hash, a fragment,
/// a sealed or plain secret, a token): SPEC §13 "No event ever contains …".
#[track_caller]
pub fn assert_history_free_of(uow: &MockedUnitOfWork, secrets: &[&str]) {
    for text in history_texts(uow) {
        for secret in secrets {
            assert!(!secret.is_empty());
            assert!(!text.contains(secret), "an event holds {secret:?}: {text}");
        }
    }
}

/// Asserts that the use case left no committed event (a refusal or a rolled-back write).
#[track_caller]
pub fn assert_no_events(uow: &MockedUnitOfWork) {
    assert_eq!(uow.actions(), Vec::<String>::new(), "committed events");
}

/// The one committed event with `action`; panics when there is none or more than one.
#[track_caller]
pub fn event(uow: &MockedUnitOfWork, action: &str) -> StoredEvent {
    let mut found: Vec<_> = uow
        .events()
        .into_iter()
        .filter(|e| e.event.action == action)
        .collect();
    assert_eq!(found.len(), 1, "events {action}: {:?}", uow.actions());
    found.remove(0)
}

/// The actor of an event written for `caller`.
pub fn actor_of(caller: &Caller) -> crate::permit::Actor {
    crate::permit::Actor::of(caller)
}

/// An ordered log of the calls whose order a SPEC rule fixes (e.g. a default policy gives up
/// its mark before another takes it), without fixing how many other calls happen.
#[derive(Clone, Default)]
pub struct CallLog(Arc<Mutex<Vec<String>>>);

impl CallLog {
    /// Appends `what`.
    pub fn push(&self, what: impl Into<String>) {
        self.0.lock().unwrap().push(what.into());
    }

    /// Everything logged, in order.
    pub fn get(&self) -> Vec<String> {
        self.0.lock().unwrap().clone()
    }
}

/// Asserts that no transaction ran: SPEC §3.4 decides rights (step 2) before any lookup, so
/// a refused caller cannot probe what exists.
#[track_caller]
pub fn assert_storage_untouched(uow: &MockedUnitOfWork) {
    assert!(
        uow.modes().is_empty(),
        "storage was touched: {:?}",
        uow.modes()
    );
}
