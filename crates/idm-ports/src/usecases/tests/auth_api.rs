//! SPEC §11: the authentication API — password login (§11.1), OATH login and HOTP resync
//! (§11.2), password change and unlock (§11.3) — over mocked ports with a movable clock.
//!
//! Self-contained fixtures: the storage is a small stateful fake behind the repository mocks
//! (rows read and compare-and-set), the clock moves across TOTP step boundaries without
//! sleeping, and the cipher opens a sealed value only for the row it was sealed for. Tests
//! assert outcomes, the rows left behind and the committed events, not call counts.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use chrono::{DateTime, Duration, TimeZone, Utc};
use idm_domain::access::{DataRoom, Role, RoleGrant};
use idm_domain::client::Client;
use idm_domain::credential::{
    Credential, CredentialSecret, CredentialState, LoginOutcome, NewCredential, OathDetails,
    StateChangeReason,
};
use idm_domain::otp::{hotp, OathAlgorithm};
use idm_domain::policy::{Policy, PolicyParameters, PolicyType};
use idm_domain::user::{User, UserState};
use idm_domain::ExtId;

use crate::auth::{
    Clock, HashSlot, MockHistoryMac, MockIdGenerator, MockLoginCache, MockPasswordHasher,
    MockSecretCipher, MockSecretGenerator, MockTokenIssuer,
};
use crate::caller::Caller;
use crate::error::{AppError, AppResult, BodyRejection, StoreError};
use crate::history::{canonical, Outcome};
use crate::repos::{CredentialRecord, TxMode};
use crate::telemetry::NoTelemetry;
use crate::testing::{MockRepos, MockedUnitOfWork};
use crate::usecases::{
    AuthService, AuthUseCases, ChangePassword, LoginStatus, OathLogin, OathResync, PasswordLogin,
    Ports,
};

// ---- fixtures ---------------------------------------------------------------------------

/// Unix time at the start of a 30 s TOTP step: 1_700_000_010 = 30 × 56_666_667.
const T0: i64 = 1_700_000_010;
const STEP0: u64 = 56_666_667;
const SEED20: &[u8] = b"12345678901234567890";
const SEED32: &[u8] = b"12345678901234567890123456789012";
const SEED64: &[u8] = b"1234567890123456789012345678901234567890123456789012345678901234";
const PW: &str = "Correct-Horse-1";
const CHANGE: &str = "errors.credentialNotActive";

fn at(unix: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(unix, 0).unwrap()
}

/// A clock the test moves.
struct TestClock(Mutex<DateTime<Utc>>);

impl Clock for TestClock {
    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().unwrap()
    }
}

impl TestClock {
    fn set(&self, unix: i64) {
        *self.0.lock().unwrap() = at(unix);
    }
    fn advance(&self, d: Duration) {
        let mut now = self.0.lock().unwrap();
        *now += d;
    }
}

fn ext(s: &str) -> ExtId {
    ExtId::parse(s).unwrap()
}

fn acme() -> Client {
    Client {
        id: "client-c1".into(),
        ext_id: ext("c1"),
        name: "Acme".into(),
        created: at(T0 - 1000),
        last_modified: at(T0 - 1000),
        version: 1,
    }
}

fn user(ext_id: &str) -> User {
    User {
        id: format!("user-{ext_id}"),
        client_id: "client-c1".into(),
        ext_id: ext(ext_id),
        login_id: ext_id.to_owned(),
        external_id: None,
        state: UserState::Active,
        language: Default::default(),
        is_technical_user: false,
        name: Default::default(),
        contacts: Default::default(),
        last_login: None,
        last_login_failure: None,
        created: at(T0 - 1000),
        last_modified: at(T0 - 1000),
        version: 1,
    }
}

fn caller(user: &str, grants: Vec<RoleGrant>) -> Caller {
    Caller {
        user_id: format!("user-{user}"),
        user_ext_id: ext(user),
        client_ext_id: ext("c1"),
        login_id: user.to_owned(),
        grants,
        request_id: Some("req-auth".into()),
    }
}

fn root() -> Caller {
    caller("root", vec![RoleGrant::new(Role::Root, DataRoom::Global)])
}

fn helpdesk() -> Caller {
    let room = DataRoom::Clients([ext("c1")].into_iter().collect());
    caller("helper", vec![RoleGrant::new(Role::Helpdesk, room)])
}

fn self_admin(user: &str) -> Caller {
    caller(
        user,
        vec![RoleGrant::new(Role::SelfAdmin, DataRoom::Global)],
    )
}

fn policy(id: &str, policy_type: PolicyType, params: &[(&str, &str)]) -> Policy {
    let given: BTreeMap<String, String> = params
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    Policy {
        id: id.to_owned(),
        client_id: "client-c1".into(),
        ext_id: ext(id),
        name: id.to_owned(),
        description: None,
        policy_type,
        default_policy: false,
        parameters: PolicyParameters::validated(policy_type, given).unwrap(),
        created: at(T0 - 1000),
        last_modified: at(T0 - 1000),
        version: 1,
    }
}

/// The fake hasher's "hash": enough to verify, nothing like the password.
fn fake_hash(password: &str) -> String {
    let sum: u32 = password.bytes().map(u32::from).sum();
    format!("$fake${}${sum}", password.len())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

/// The fake cipher's sealed form: opens only for the row `id` (SPEC §10.4 row binding).
fn seal(secret: &[u8], id: &str) -> String {
    format!("sealed~{id}~{}", hex(secret))
}

fn password_credential(user: &User, policy: &Policy, password: &str) -> Credential {
    let mut c = Credential::new(
        NewCredential {
            id: format!("pwd-row-{}", user.ext_id),
            client_id: user.client_id.clone(),
            user_id: Some(user.id.clone()),
            ext_id: ext(&format!("pwd-{}", user.ext_id)),
            policy,
            state: CredentialState::Active,
            now: at(T0 - 1000),
        },
        CredentialSecret::Password {
            hash: fake_hash(password),
        },
    );
    c.epoch = 7;
    c
}

fn oath_credential(
    user: &User,
    policy: &Policy,
    ext_id: &str,
    method: &str,
    algorithm: OathAlgorithm,
    digits: i32,
    secret: &[u8],
) -> Credential {
    let id = format!("row-{ext_id}");
    Credential::new(
        NewCredential {
            id: id.clone(),
            client_id: user.client_id.clone(),
            user_id: Some(user.id.clone()),
            ext_id: ext(ext_id),
            policy,
            state: CredentialState::Active,
            now: at(T0 - 1000),
        },
        CredentialSecret::Oath(OathDetails {
            issuer: "nevisIDM".into(),
            authentication_method: method.into(),
            hashing_algorithm: algorithm.name().into(),
            digits,
            period: 30,
            counter: 0,
            encrypted_secret: seal(secret, &id),
            label: "phone".into(),
        }),
    )
}

/// The stored credential rows.
#[derive(Clone, Default)]
struct Rows(Arc<Mutex<Vec<Credential>>>);

impl Rows {
    fn get(&self, ext_id: &str) -> Credential {
        self.0
            .lock()
            .unwrap()
            .iter()
            .find(|c| c.ext_id.as_str() == ext_id)
            .cloned()
            .unwrap()
    }
    fn modify(&self, ext_id: &str, change: impl FnOnce(&mut Credential)) {
        let mut rows = self.0.lock().unwrap();
        change(
            rows.iter_mut()
                .find(|c| c.ext_id.as_str() == ext_id)
                .unwrap(),
        );
    }
    fn counter(&self, ext_id: &str) -> i64 {
        match self.get(ext_id).secret {
            CredentialSecret::Oath(d) => d.counter,
            _ => panic!("not OATH"),
        }
    }
}

/// One test's world: users (with grants), policies, credential rows; and what the use cases
/// left behind.
struct World {
    auth: AuthUseCases,
    uow: Arc<MockedUnitOfWork>,
    rows: Rows,
    clock: Arc<TestClock>,
    /// `(user_id, success)` of every user login recorded.
    user_logins: Arc<Mutex<Vec<(String, bool)>>>,
    /// Hash verifications computed (argon2 in production).
    verifications: Arc<AtomicUsize>,
    /// Sealed OATH secrets opened.
    opened: Arc<AtomicUsize>,
    /// Hashes computed while a transaction was open (SPEC §10.3: must stay 0).
    hashed_in_tx: Arc<AtomicUsize>,
    /// Runs while a new password is hashed (a concurrent writer's moment).
    hash_hook: HashHook,
}

type HashHook = Arc<Mutex<Option<Box<dyn FnMut() + Send>>>>;

struct Setup {
    users: Vec<(User, Vec<RoleGrant>)>,
    policies: Vec<Policy>,
    credentials: Vec<Credential>,
}

impl Setup {
    fn new() -> Self {
        Setup {
            users: vec![(user("jdoe"), Vec::new())],
            policies: vec![
                policy("pol-pwd", PolicyType::Pwd, &[("resetCodeEnabled", "false")]),
                policy("pol-oath", PolicyType::Oath, &[]),
            ],
            credentials: Vec::new(),
        }
    }

    fn policy(&self, id: &str) -> &Policy {
        self.policies.iter().find(|p| p.id == id).unwrap()
    }

    /// Replaces (or adds) policy `id` with these parameters.
    fn with_policy(mut self, id: &str, policy_type: PolicyType, params: &[(&str, &str)]) -> Self {
        self.policies.retain(|p| p.id != id);
        self.policies.push(policy(id, policy_type, params));
        self
    }

    fn with_password(mut self) -> Self {
        let c = password_credential(&user("jdoe"), self.policy("pol-pwd"), PW);
        self.credentials.push(c);
        self
    }

    fn with_oath(mut self, ext_id: &str, method: &str, alg: OathAlgorithm, digits: i32) -> Self {
        let secret = seed(alg);
        let c = oath_credential(
            &user("jdoe"),
            self.policy("pol-oath"),
            ext_id,
            method,
            alg,
            digits,
            secret,
        );
        self.credentials.push(c);
        self
    }

    fn build(self) -> World {
        let users = Arc::new(self.users);
        let policies = Arc::new(self.policies);
        let rows = Rows(Arc::new(Mutex::new(self.credentials)));
        let mut repos = MockRepos::default();
        repos
            .clients
            .expect_find_by_ext_id()
            .returning(|e| Ok((e == "c1").then(acme)));
        let u = users.clone();
        repos.users.expect_find_by_ext_id().returning(move |c, e| {
            Ok(u.iter()
                .find(|(u, _)| u.client_id == c && u.ext_id.as_str() == e)
                .map(|(u, _)| u.clone()))
        });
        let user_logins = Arc::new(Mutex::new(Vec::new()));
        let logins = user_logins.clone();
        repos
            .users
            .expect_record_login()
            .returning(move |id, success, _| {
                logins.lock().unwrap().push((id.to_owned(), success));
                Ok(())
            });
        let u = users.clone();
        repos.roles.expect_grants_of_user().returning(move |id| {
            Ok(u.iter()
                .find(|(u, _)| u.id == id)
                .map(|(_, g)| g.clone())
                .unwrap_or_default())
        });
        let p = policies.clone();
        repos
            .policies
            .expect_find_by_id()
            .returning(move |id| Ok(p.iter().find(|p| p.id == id).cloned()));
        let record = {
            let users = users.clone();
            let policies = policies.clone();
            move |c: &Credential| CredentialRecord {
                credential: c.clone(),
                user_ext_id: users
                    .iter()
                    .find(|(u, _)| Some(&u.id) == c.user_id.as_ref())
                    .map(|(u, _)| u.ext_id.clone()),
                policy_ext_id: policies
                    .iter()
                    .find(|p| p.id == c.policy_id)
                    .map(|p| p.ext_id.clone())
                    .unwrap_or_else(|| ext("gone")),
            }
        };
        for locked in [false, true] {
            let (r, rec) = (rows.clone(), record.clone());
            let find = move |client: &str, e: &str| {
                Ok(r.0
                    .lock()
                    .unwrap()
                    .iter()
                    .find(|c| c.client_id == client && c.ext_id.as_str() == e)
                    .map(&rec))
            };
            if locked {
                repos
                    .credentials
                    .expect_find_by_ext_id_for_update()
                    .returning(find);
            } else {
                repos.credentials.expect_find_by_ext_id().returning(find);
            }
        }
        let (r, rec) = (rows.clone(), record.clone());
        repos
            .credentials
            .expect_find_password_of_user()
            .returning(move |user_id, _| {
                Ok(r.0
                    .lock()
                    .unwrap()
                    .iter()
                    .find(|c| {
                        c.user_id.as_deref() == Some(user_id)
                            && matches!(c.secret, CredentialSecret::Password { .. })
                    })
                    .map(&rec))
            });
        let r = rows.clone();
        repos
            .credentials
            .expect_update()
            .returning(move |c, expected| {
                let mut rows = r.0.lock().unwrap();
                let stored = rows.iter_mut().find(|s| s.id == c.id).unwrap();
                if stored.version != expected {
                    return Err(StoreError::Conflict);
                }
                *stored = c.clone();
                Ok(())
            });
        let uow = Arc::new(MockedUnitOfWork::new(repos));

        let probe: Arc<OnceLock<Arc<MockedUnitOfWork>>> = Arc::new(OnceLock::new());
        let in_tx = {
            let probe = probe.clone();
            move || {
                let uow = probe.get().unwrap();
                uow.modes().len() > uow.commits() + uow.rollbacks()
            }
        };
        let verifications = Arc::new(AtomicUsize::new(0));
        let hashed_in_tx = Arc::new(AtomicUsize::new(0));
        let mut hasher = MockPasswordHasher::new();
        hasher.expect_slot().returning(|| Ok(HashSlot::unbounded()));
        let (v, in_tx_v, h) = (verifications.clone(), in_tx.clone(), hashed_in_tx.clone());
        hasher.expect_verify().returning(move |_, pw, phc| {
            v.fetch_add(1, Ordering::SeqCst);
            if in_tx_v() {
                h.fetch_add(1, Ordering::SeqCst);
            }
            fake_hash(pw) == phc
        });
        let h = hashed_in_tx.clone();
        let hash_hook: HashHook = Arc::new(Mutex::new(None));
        let hook = hash_hook.clone();
        hasher.expect_hash().returning(move |_, pw| {
            if in_tx() {
                h.fetch_add(1, Ordering::SeqCst);
            }
            if let Some(run) = hook.lock().unwrap().as_mut() {
                run();
            }
            Ok(fake_hash(pw))
        });
        let opened = Arc::new(AtomicUsize::new(0));
        let mut cipher = MockSecretCipher::new();
        let o = opened.clone();
        cipher.expect_open().returning(move |sealed, bound_to| {
            o.fetch_add(1, Ordering::SeqCst);
            let mut parts = sealed.split('~');
            match (parts.next(), parts.next(), parts.next()) {
                (Some("sealed"), Some(id), Some(h)) if id == bound_to => Ok(unhex(h)),
                _ => Err(AppError::Internal("aead: decryption failed".into())),
            }
        });
        // X-Tokens: valid only for the caller and the password epoch they were issued at.
        let mut tokens = MockTokenIssuer::new();
        tokens
            .expect_validate()
            .returning(|t, s| t == x_token(&s.user_ext_id, s.password_epoch));
        let mut mac = MockHistoryMac::new();
        mac.expect_chain()
            .returning(|prev, text| format!("mac({}, {})", prev.len(), text.len()));
        let mut ids = MockIdGenerator::new();
        ids.expect_new_id().returning(|| "id-new".into());
        let clock = Arc::new(TestClock(Mutex::new(at(T0))));
        let ports = Ports {
            uow: uow.clone(),
            hasher: Arc::new(hasher),
            login_cache: Arc::new(MockLoginCache::new()),
            clock: clock.clone(),
            ids: Arc::new(ids),
            secrets: Arc::new(MockSecretGenerator::new()),
            cipher: Arc::new(cipher),
            tokens: Arc::new(tokens),
            telemetry: Arc::new(NoTelemetry),
            history_mac: Arc::new(mac),
        };
        let _ = probe.set(uow.clone());
        World {
            auth: AuthUseCases::new(ports),
            uow,
            rows,
            clock,
            user_logins,
            verifications,
            opened,
            hashed_in_tx,
            hash_hook,
        }
    }
}

fn x_token(user_ext_id: &str, epoch: i64) -> String {
    format!("xt.{user_ext_id}.{epoch}")
}

fn seed(alg: OathAlgorithm) -> &'static [u8] {
    match alg {
        OathAlgorithm::Sha1 => SEED20,
        OathAlgorithm::Sha256 => SEED32,
        OathAlgorithm::Sha512 => SEED64,
    }
}

/// The code of time step `step` (or HOTP counter) with the RFC seed of `alg`.
fn code(alg: OathAlgorithm, counter: u64, digits: u32) -> String {
    hotp(seed(alg), counter, digits, alg)
}

fn totp_at(step: u64) -> String {
    code(OathAlgorithm::Sha1, step, 6)
}

impl World {
    fn pw_login(&self, caller: &Caller, password: Option<&str>) -> AppResult<LoginStatus> {
        self.auth.password_login(
            caller,
            "c1",
            "jdoe",
            Ok(PasswordLogin {
                password: password.map(str::to_owned),
            }),
        )
    }

    fn oath(&self, ext_id: &str, code: &str) -> AppResult<LoginStatus> {
        self.auth.oath_login(
            &root(),
            "c1",
            "jdoe",
            ext_id,
            Ok(OathLogin {
                code: Some(code.to_owned()),
            }),
        )
    }

    fn resync(&self, ext_id: &str, code1: &str, code2: &str) -> AppResult<()> {
        self.auth.oath_resync(
            &root(),
            "c1",
            "jdoe",
            ext_id,
            Ok(OathResync {
                code1: Some(code1.to_owned()),
                code2: Some(code2.to_owned()),
            }),
        )
    }

    fn change(
        &self,
        caller: &Caller,
        token: Option<&str>,
        old: Option<&str>,
        new: Option<&str>,
    ) -> AppResult<()> {
        self.auth.change_password(
            caller,
            "c1",
            "jdoe",
            token.map(str::to_owned),
            Ok(ChangePassword {
                old_password: old.map(str::to_owned),
                new_password: new.map(str::to_owned),
            }),
        )
    }

    fn actions(&self) -> Vec<String> {
        self.uow.actions()
    }

    fn history_text(&self) -> String {
        self.uow
            .events()
            .iter()
            .map(|e| canonical(e.seq, &e.event))
            .collect::<Vec<_>>()
            .join("\n")
    }

    fn logins(&self) -> Vec<(String, bool)> {
        self.user_logins.lock().unwrap().clone()
    }
}

#[track_caller]
fn assert_err<T: std::fmt::Debug>(result: AppResult<T>, code: &str, message: &str) {
    match result {
        Err(AppError::Domain(e)) => {
            assert_eq!((e.code(), e.to_string().as_str()), (code, message), "{e:?}");
        }
        other => panic!("expected {code}, got {other:?}"),
    }
}

fn status(result: AppResult<LoginStatus>) -> (i32, &'static str) {
    let s = result.unwrap();
    (s.status_code(), s.description())
}

const OK: (i32, &str) = (5, "Login Ok");
const FAILED: (i32, &str) = (2, "Login failed.");
const NEXT_LOCKS: (i32, &str) = (3, "Login failed. The next failure locks the credential.");
const TMP_LOCKED: (i32, &str) = (9, "Login failed. Credential temporarily locked.");
const LOCKED: (i32, &str) = (4, "Login failed. Credential locked.");

// ---- the status table -------------------------------------------------------------------

#[test]
fn status_codes_and_descriptions_follow_the_table_first_of_4_9_3_2() {
    use LoginOutcome::*;
    let of = |o, n| {
        let s = LoginStatus::of_failure(o, n);
        (s.status_code(), s.description())
    };
    assert_eq!(of(FailLocked, true), LOCKED);
    assert_eq!(of(FailLocked, false), LOCKED);
    assert_eq!(of(TmpLocked, true), TMP_LOCKED);
    assert_eq!(of(Failed, true), NEXT_LOCKS);
    assert_eq!(of(Failed, false), FAILED);
    assert_eq!(
        (LoginStatus::Ok.status_code(), LoginStatus::Ok.description()),
        OK
    );
}

#[test]
fn commands_never_show_secrets_in_debug() {
    let shown = format!(
        "{:?} {:?} {:?} {:?}",
        PasswordLogin {
            password: Some("pw-SECRET-1".into())
        },
        OathLogin {
            code: Some("987654".into())
        },
        OathResync {
            code1: Some("111222".into()),
            code2: Some("333444".into())
        },
        ChangePassword {
            old_password: Some("old-SECRET".into()),
            new_password: Some("new-SECRET".into())
        },
    );
    for secret in [
        "pw-SECRET-1",
        "987654",
        "111222",
        "333444",
        "old-SECRET",
        "new-SECRET",
    ] {
        assert!(!shown.contains(secret), "{shown}");
    }
    assert!(shown.contains("<redacted>"), "{shown}");
}

// ---- §11.1 password login ---------------------------------------------------------------

#[test]
fn password_login_ok_counts_every_success_and_records_the_user_login() {
    let w = Setup::new().with_password().build();
    assert_eq!(status(w.pw_login(&root(), Some(PW))), OK);
    assert_eq!(status(w.pw_login(&root(), Some(PW))), OK);
    let c = w.rows.get("pwd-jdoe");
    assert_eq!(
        c.successful_login_count, 2,
        "a success with nothing to clear counts"
    );
    assert_eq!(c.last_successful_login, Some(at(T0)));
    assert_eq!(c.failed_login_count, 0);
    assert_eq!(
        w.logins(),
        vec![
            ("user-jdoe".to_owned(), true),
            ("user-jdoe".to_owned(), true)
        ]
    );
    assert!(
        w.actions().contains(&"login.succeeded".to_owned()),
        "{:?}",
        w.actions()
    );
    assert!(w.actions().contains(&"login.recorded".to_owned()));
    assert_eq!(w.hashed_in_tx.load(Ordering::SeqCst), 0, "SPEC §10.3");
    let history = w.history_text();
    assert!(
        !history.contains(PW) && !history.contains(&fake_hash(PW)),
        "{history}"
    );
}

#[test]
fn password_login_answers_3_9_4_and_locked_attempts_are_not_checked() {
    // Default lockout: tmp-lock at 2 failures for 60 s, fail-lock at 3.
    let w = Setup::new().with_password().build();
    assert_eq!(status(w.pw_login(&root(), Some("wrong-1"))), NEXT_LOCKS);
    assert_eq!(w.rows.get("pwd-jdoe").failed_login_count, 1);
    assert_eq!(status(w.pw_login(&root(), Some("wrong-2"))), TMP_LOCKED);
    let c = w.rows.get("pwd-jdoe");
    assert_eq!(
        (c.state, c.failed_login_count),
        (CredentialState::TmpLocked, 2)
    );

    // Locked: refused without a check and without counting, even with the right password.
    let checked = w.verifications.load(Ordering::SeqCst);
    assert_eq!(status(w.pw_login(&root(), Some(PW))), TMP_LOCKED);
    assert_eq!(
        w.verifications.load(Ordering::SeqCst),
        checked,
        "no hash check"
    );
    assert_eq!(w.rows.get("pwd-jdoe").failed_login_count, 2, "not counted");
    assert!(w.actions().contains(&"login.refused".to_owned()));

    // The lock expires; the next failure reaches maxCredFailureCount: 4 wins over 9.
    w.clock.advance(Duration::seconds(61));
    assert_eq!(status(w.pw_login(&root(), Some("wrong-3"))), LOCKED);
    let c = w.rows.get("pwd-jdoe");
    assert_eq!(c.state, CredentialState::FailLocked);
    assert_eq!(
        c.state_change_reason,
        StateChangeReason::TooManyLoginFailures
    );
    let checked = w.verifications.load(Ordering::SeqCst);
    assert_eq!(status(w.pw_login(&root(), Some(PW))), LOCKED);
    assert_eq!(w.verifications.load(Ordering::SeqCst), checked);
    // Every attempt set the user's lastLoginFailure.
    assert!(w.logins().iter().all(|(_, ok)| !ok));
    assert_eq!(w.logins().len(), 5);
}

#[test]
fn password_login_answers_2_when_no_lock_is_near() {
    let w = Setup::new()
        .with_policy(
            "pol-pwd",
            PolicyType::Pwd,
            &[
                ("resetCodeEnabled", "false"),
                ("tmpLockingThreshold", "5"),
                ("maxCredFailureCount", "-1"),
            ],
        )
        .with_password()
        .build();
    for _ in 0..3 {
        assert_eq!(status(w.pw_login(&root(), Some("nope"))), FAILED);
    }
    assert_eq!(status(w.pw_login(&root(), Some("nope"))), NEXT_LOCKS);
    assert_eq!(status(w.pw_login(&root(), Some("nope"))), TMP_LOCKED);

    let never = Setup::new()
        .with_policy(
            "pol-pwd",
            PolicyType::Pwd,
            &[
                ("resetCodeEnabled", "false"),
                ("tmpLockingThreshold", "-1"),
                ("maxCredFailureCount", "-1"),
            ],
        )
        .with_password()
        .build();
    for _ in 0..5 {
        assert_eq!(status(never.pw_login(&root(), Some("nope"))), FAILED);
    }
    assert_eq!(never.rows.get("pwd-jdoe").failed_login_count, 5);
}

#[test]
fn password_login_refusals_in_spec_order() {
    let w = Setup::new().with_password().build();
    // Rights first (SelfAdmin cannot stand in), before any lookup.
    assert_err(
        w.pw_login(&self_admin("jdoe"), Some(PW)),
        "errors.insufficientRightsFunction",
        "Permission denied: Caller does not have the required right 'AccessControl.CredentialView' to perform this action",
    );
    assert!(w.uow.modes().is_empty(), "no storage before rights");
    // A Helpdesk may log in as an ordinary user ...
    assert_eq!(status(w.pw_login(&helpdesk(), Some(PW))), OK);
    // ... path lookups before the body ...
    let bad_body: AppResult<PasswordLogin> = Err(AppError::BadBody(BodyRejection::MalformedJson));
    assert_err(
        w.auth
            .password_login(&root(), "c1", "nobody", bad_body.clone()),
        "errors.noRecord",
        "A user with extId 'nobody' doesn't exist on client with name Acme",
    );
    assert_err(
        w.auth
            .password_login(&root(), "c9", "jdoe", bad_body.clone()),
        "errors.noRecord",
        "Client doesn't exist with extId 'c9'",
    );
    assert_eq!(
        w.auth.password_login(&root(), "c1", "jdoe", bad_body),
        Err(AppError::BadBody(BodyRejection::MalformedJson))
    );
    for missing in [None, Some("")] {
        assert_err(
            w.pw_login(&root(), missing),
            "errors.nullParameter",
            "The 'password' parameter is mandatory.",
        );
    }
    // No Password credential.
    let none = Setup::new().build();
    assert_err(
        none.pw_login(&root(), Some(PW)),
        "errors.noRecord",
        "User with extId jdoe has no Password credential",
    );
}

#[test]
fn password_login_preconditions_answer_errors_without_checking() {
    for (state, expired) in [
        (CredentialState::Disabled, false),
        (CredentialState::Archived, false),
        (CredentialState::FailLocked, true),
    ] {
        let w = Setup::new().with_password().build();
        w.rows.modify("pwd-jdoe", |c| {
            c.state = state;
            if expired {
                c.validity_to = at(T0);
            }
        });
        assert_err(
            w.pw_login(&root(), Some(PW)),
            CHANGE,
            "Credential with extId 'pwd-jdoe' is not active",
        );
        assert_eq!(w.verifications.load(Ordering::SeqCst), 0);
        assert_eq!(w.actions(), vec!["login.refused"]);
    }
    let mut s = Setup::new().with_password();
    s.users[0].0.state = UserState::Disabled;
    let w = s.build();
    assert_err(
        w.pw_login(&root(), Some(PW)),
        CHANGE,
        "User with extId jdoe is not active",
    );
    assert_eq!(w.verifications.load(Ordering::SeqCst), 0);
}

#[test]
fn a_helpdesk_cannot_log_in_as_a_root_user() {
    let mut s = Setup::new().with_password();
    s.users[0].1 = vec![RoleGrant::new(Role::Root, DataRoom::Global)];
    let w = s.build();
    assert_err(
        w.pw_login(&helpdesk(), Some(PW)),
        "errors.potentialPrivilegeEscalation",
        "Permission denied: the target user holds rights beyond the caller's own",
    );
    assert_err(
        w.auth.unlock_password(&helpdesk(), "c1", "jdoe"),
        "errors.potentialPrivilegeEscalation",
        "Permission denied: the target user holds rights beyond the caller's own",
    );
    assert_eq!(w.verifications.load(Ordering::SeqCst), 0);
    assert!(w.actions().is_empty());
}

// ---- §11.2 TOTP -------------------------------------------------------------------------

#[test]
fn totp_code_works_once_and_the_clock_moves_across_steps() {
    let w = Setup::new()
        .with_oath("o1", "TOTP", OathAlgorithm::Sha1, 6)
        .build();
    let now = totp_at(STEP0);
    assert_eq!(status(w.oath("o1", &now)), OK);
    assert_eq!(
        w.rows.counter("o1"),
        STEP0 as i64,
        "the accepted step is stored"
    );
    let c = w.rows.get("o1");
    assert_eq!((c.successful_login_count, c.failed_login_count), (1, 0));

    // Replay: refused like a wrong code, counted, its own event.
    assert_eq!(status(w.oath("o1", &now)), NEXT_LOCKS);
    assert_eq!(w.rows.get("o1").failed_login_count, 1);
    assert_eq!(
        w.uow.events().last().unwrap().event.action,
        "login.recorded"
    );
    assert!(
        w.actions().contains(&"oath.replayRefused".to_owned()),
        "{:?}",
        w.actions()
    );

    // Half a minute later the next step's code works, and clears the failure.
    w.clock.advance(Duration::seconds(30));
    assert_eq!(status(w.oath("o1", &totp_at(STEP0 + 1))), OK);
    assert_eq!(w.rows.counter("o1"), STEP0 as i64 + 1);
    assert_eq!(w.rows.get("o1").failed_login_count, 0);
    // A code of an older step inside the window is a replay now.
    assert_eq!(status(w.oath("o1", &now)), NEXT_LOCKS);
    assert_eq!(
        w.actions()
            .iter()
            .filter(|a| *a == "oath.replayRefused")
            .count(),
        2
    );
    assert_eq!(
        w.logins().iter().map(|(_, ok)| *ok).collect::<Vec<_>>(),
        vec![true, false, true, false]
    );
}

#[test]
fn totp_window_edges_follow_the_policy() {
    // Window 1 (default): T−1 … T+1.
    let w = Setup::new()
        .with_oath("o1", "TOTP", OathAlgorithm::Sha1, 6)
        .build();
    w.clock.set(T0 + 29); // last second of STEP0
    assert_eq!(status(w.oath("o1", &totp_at(STEP0 - 2))), NEXT_LOCKS);
    assert_eq!(status(w.oath("o1", &totp_at(STEP0 + 2))), TMP_LOCKED);
    let w = Setup::new()
        .with_oath("o1", "TOTP", OathAlgorithm::Sha1, 6)
        .build();
    w.clock.set(T0 + 29);
    assert_eq!(status(w.oath("o1", &totp_at(STEP0 - 1))), OK);
    assert_eq!(
        status(w.oath("o1", &totp_at(STEP0 + 1))),
        OK,
        "later step, fresh"
    );
    assert_eq!(w.rows.counter("o1"), STEP0 as i64 + 1);

    // The step boundary: a code of STEP0 is still good one second into STEP0 + 1 … STEP0 + 1
    // ends, and not two steps later.
    let w = Setup::new()
        .with_oath("o1", "TOTP", OathAlgorithm::Sha1, 6)
        .build();
    w.clock.set(T0 + 59);
    assert_eq!(status(w.oath("o1", &totp_at(STEP0))), OK);
    let w = Setup::new()
        .with_oath("o1", "TOTP", OathAlgorithm::Sha1, 6)
        .build();
    w.clock.set(T0 + 60);
    assert_eq!(status(w.oath("o1", &totp_at(STEP0))), NEXT_LOCKS);

    // Window 0: only the current step.
    let w = Setup::new()
        .with_policy("pol-oath", PolicyType::Oath, &[("totpWindow", "0")])
        .with_oath("o1", "TOTP", OathAlgorithm::Sha1, 6)
        .build();
    w.clock.set(T0 + 30);
    assert_eq!(status(w.oath("o1", &totp_at(STEP0))), NEXT_LOCKS);
    assert_eq!(status(w.oath("o1", &totp_at(STEP0 + 1))), OK);

    // Window 3: three steps back.
    let w = Setup::new()
        .with_policy("pol-oath", PolicyType::Oath, &[("totpWindow", "3")])
        .with_oath("o1", "TOTP", OathAlgorithm::Sha1, 6)
        .build();
    assert_eq!(status(w.oath("o1", &totp_at(STEP0 - 3))), OK);
    assert_eq!(status(w.oath("o1", &totp_at(STEP0 - 4))), NEXT_LOCKS);
}

#[test]
fn totp_with_every_algorithm_and_length() {
    for alg in [
        OathAlgorithm::Sha1,
        OathAlgorithm::Sha256,
        OathAlgorithm::Sha512,
    ] {
        for digits in [6u32, 7, 8] {
            let w = Setup::new()
                .with_oath("o1", "TOTP", alg, digits as i32)
                .build();
            let right = code(alg, STEP0, digits);
            let short = code(alg, STEP0, 6);
            if digits != 6 {
                assert_eq!(status(w.oath("o1", &short)), NEXT_LOCKS, "{alg:?} {digits}");
            }
            assert_eq!(status(w.oath("o1", &right)), OK, "{alg:?} {digits}");
        }
    }
}

#[test]
fn malformed_codes_are_counted_failures() {
    let w = Setup::new()
        .with_policy(
            "pol-oath",
            PolicyType::Oath,
            &[("tmpLockingThreshold", "-1"), ("maxCredFailureCount", "-1")],
        )
        .with_oath("o1", "TOTP", OathAlgorithm::Sha1, 6)
        .build();
    let right = totp_at(STEP0);
    let padded = format!("{right} ");
    for bad in [
        "12a456",
        "12345",
        "1234567",
        " 123456",
        "１２３４５６",
        padded.as_str(),
    ] {
        assert_eq!(status(w.oath("o1", bad)), FAILED, "{bad:?}");
    }
    assert_eq!(w.rows.get("o1").failed_login_count, 6);
    assert_eq!(status(w.oath("o1", &right)), OK);
}

#[test]
fn oath_login_refusals_in_spec_order() {
    let w = Setup::new()
        .with_oath("o1", "TOTP", OathAlgorithm::Sha1, 6)
        .build();
    let login = |ext: &str, code: Option<&str>| {
        w.auth.oath_login(
            &root(),
            "c1",
            "jdoe",
            ext,
            Ok(OathLogin {
                code: code.map(str::to_owned),
            }),
        )
    };
    assert_err(
        login("o1", None),
        "errors.nullParameter",
        "The 'code' parameter is mandatory.",
    );
    assert_err(
        login("o1", Some("")),
        "errors.nullParameter",
        "The 'code' parameter is mandatory.",
    );
    assert_err(
        login("o9", Some("123456")),
        "errors.noRecord",
        "OATH credential with the extId o9 does not exist under the user jdoe",
    );
    assert_err(
        w.auth.oath_login(&self_admin("jdoe"), "c1", "jdoe", "o1", Ok(OathLogin::default())),
        "errors.insufficientRightsFunction",
        "Permission denied: Caller does not have the required right 'AccessControl.CredentialView' to perform this action",
    );
    assert_eq!(w.opened.load(Ordering::SeqCst), 0);
    assert!(w.actions().is_empty(), "{:?}", w.actions());

    w.rows.modify("o1", |c| c.state = CredentialState::Disabled);
    assert_err(
        login("o1", Some("123456")),
        CHANGE,
        "Credential with extId 'o1' is not active",
    );
    w.rows.modify("o1", |c| {
        c.state = CredentialState::Active;
        c.validity_to = at(T0);
    });
    assert_err(
        login("o1", Some("123456")),
        CHANGE,
        "Credential with extId 'o1' is not active",
    );
    assert_eq!(w.opened.load(Ordering::SeqCst), 0);
    assert_eq!(w.actions(), vec!["login.refused", "login.refused"]);

    let mut s = Setup::new().with_oath("o1", "TOTP", OathAlgorithm::Sha1, 6);
    s.users[0].0.state = UserState::Archived;
    let w = s.build();
    assert_err(
        w.oath("o1", &totp_at(STEP0)),
        CHANGE,
        "User with extId jdoe is not active",
    );
}

#[test]
fn locked_oath_credentials_answer_9_or_4_without_opening_the_secret() {
    let w = Setup::new()
        .with_oath("o1", "TOTP", OathAlgorithm::Sha1, 6)
        .build();
    assert_eq!(status(w.oath("o1", "000000")), NEXT_LOCKS);
    assert_eq!(status(w.oath("o1", "000001")), TMP_LOCKED);
    let opened = w.opened.load(Ordering::SeqCst);
    assert_eq!(
        status(w.oath("o1", &totp_at(STEP0))),
        TMP_LOCKED,
        "right code, locked"
    );
    assert_eq!(w.opened.load(Ordering::SeqCst), opened, "nothing checked");
    assert_eq!(w.rows.get("o1").failed_login_count, 2, "nothing counted");
    // After the lock, a failure re-locks: the count reaches maxCredFailureCount → 4.
    w.clock.advance(Duration::seconds(61));
    assert_eq!(status(w.oath("o1", "000002")), LOCKED);
    assert_eq!(status(w.oath("o1", &totp_at(STEP0 + 2))), LOCKED);
    assert_eq!(w.rows.get("o1").state, CredentialState::FailLocked);
}

#[test]
fn a_secret_sealed_for_another_row_is_an_internal_error_and_changes_nothing() {
    let w = Setup::new()
        .with_oath("o1", "TOTP", OathAlgorithm::Sha1, 6)
        .with_oath("o2", "TOTP", OathAlgorithm::Sha1, 6)
        .build();
    let stolen = match w.rows.get("o2").secret {
        CredentialSecret::Oath(d) => d.encrypted_secret,
        _ => unreachable!(),
    };
    w.rows.modify("o1", |c| {
        if let CredentialSecret::Oath(d) = &mut c.secret {
            d.encrypted_secret = stolen;
        }
    });
    let before = w.rows.get("o1");
    let r = w.oath("o1", &totp_at(STEP0));
    match r {
        Err(AppError::Internal(text)) => {
            assert!(!text.contains("12345678"), "{text}");
        }
        other => panic!("expected a 500, got {other:?}"),
    }
    assert_eq!(w.rows.get("o1"), before);
    assert!(w.actions().is_empty());
    assert!(w.logins().is_empty());
}

#[test]
fn parallel_submissions_of_one_code_log_in_exactly_once() {
    let w = Arc::new(
        Setup::new()
            .with_policy(
                "pol-oath",
                PolicyType::Oath,
                &[("tmpLockingThreshold", "-1"), ("maxCredFailureCount", "-1")],
            )
            .with_oath("o1", "TOTP", OathAlgorithm::Sha1, 6)
            .build(),
    );
    let code = totp_at(STEP0);
    let codes: Vec<i32> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..50)
            .map(|_| {
                let (w, code) = (w.clone(), code.clone());
                s.spawn(move || w.oath("o1", &code).unwrap().status_code())
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(codes.iter().filter(|c| **c == 5).count(), 1, "{codes:?}");
    assert_eq!(codes.iter().filter(|c| **c == 2).count(), 49, "{codes:?}");
    let c = w.rows.get("o1");
    assert_eq!((c.successful_login_count, c.failed_login_count), (1, 49));
}

#[test]
fn parallel_wrong_codes_check_no_more_than_the_threshold() {
    let w = Arc::new(
        Setup::new()
            .with_oath("o1", "TOTP", OathAlgorithm::Sha1, 6)
            .build(),
    );
    let codes: Vec<i32> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..50)
            .map(|i| {
                let w = w.clone();
                s.spawn(move || {
                    w.oath("o1", &format!("{:06}", 900_000 + i))
                        .unwrap()
                        .status_code()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(
        w.opened.load(Ordering::SeqCst),
        2,
        "tmpLockingThreshold 2: two checks"
    );
    assert_eq!(w.rows.get("o1").failed_login_count, 2);
    assert_eq!(codes.iter().filter(|c| **c == 3).count(), 1, "{codes:?}");
    assert_eq!(codes.iter().filter(|c| **c == 9).count(), 49, "{codes:?}");
    assert_eq!(status(w.oath("o1", &totp_at(STEP0))), TMP_LOCKED);
}

// ---- §11.2 HOTP and resync --------------------------------------------------------------

#[test]
fn hotp_accepts_within_the_look_ahead_and_moves_the_counter() {
    let alg = OathAlgorithm::Sha1;
    let w = Setup::new().with_oath("h1", "HOTP", alg, 6).build();
    assert_eq!(status(w.oath("h1", &code(alg, 3, 6))), OK);
    assert_eq!(w.rows.counter("h1"), 4, "matched + 1");
    assert_eq!(status(w.oath("h1", &code(alg, 3, 6))), NEXT_LOCKS, "used");
    assert_eq!(status(w.oath("h1", &code(alg, 4, 6))), OK);
    assert_eq!(w.rows.counter("h1"), 5);
    // Exactly the look-ahead: 5 + 10 is in, 5 + 11 is not.
    assert_eq!(status(w.oath("h1", &code(alg, 16, 6))), NEXT_LOCKS);
    assert_eq!(status(w.oath("h1", &code(alg, 15, 6))), OK);
    assert_eq!(w.rows.counter("h1"), 16);
    // Time plays no part.
    w.clock.advance(Duration::days(400));
    assert_eq!(status(w.oath("h1", &code(alg, 16, 6))), OK);

    let w = Setup::new()
        .with_policy("pol-oath", PolicyType::Oath, &[("hotpLookAhead", "0")])
        .with_oath("h1", "HOTP", OathAlgorithm::Sha512, 8)
        .build();
    assert_eq!(
        status(w.oath("h1", &code(OathAlgorithm::Sha512, 1, 8))),
        NEXT_LOCKS
    );
    assert_eq!(status(w.oath("h1", &code(OathAlgorithm::Sha512, 0, 8))), OK);
    assert_eq!(w.rows.counter("h1"), 1);
}

#[test]
fn resync_finds_two_consecutive_codes_within_the_window() {
    let alg = OathAlgorithm::Sha256;
    let w = Setup::new()
        .with_policy("pol-oath", PolicyType::Oath, &[("hotpResyncWindow", "60")])
        .with_oath("h1", "HOTP", alg, 7)
        .build();
    // Beyond the look-ahead: a login fails; a resync finds it.
    assert_eq!(status(w.oath("h1", &code(alg, 50, 7))), NEXT_LOCKS);
    w.resync("h1", &code(alg, 50, 7), &code(alg, 51, 7))
        .unwrap();
    assert_eq!(w.rows.counter("h1"), 52, "match + 2");
    assert!(w.actions().contains(&"oath.resynced".to_owned()));
    assert_eq!(status(w.oath("h1", &code(alg, 52, 7))), OK);
    assert_eq!(w.rows.counter("h1"), 53);

    let bad = "The codes do not match consecutive counter values.";
    // Not consecutive; reversed; behind the counter; beyond the window (53 + 60).
    for (a, b) in [(60, 62), (61, 60), (40, 41), (113, 114)] {
        assert_err(
            w.resync("h1", &code(alg, a, 7), &code(alg, b, 7)),
            "errors.invalidParameter",
            bad,
        );
    }
    w.resync("h1", &code(alg, 111, 7), &code(alg, 112, 7))
        .unwrap();
    assert_eq!(w.rows.counter("h1"), 113);
    let failures = w
        .uow
        .events()
        .iter()
        .filter(|e| e.event.action == "oath.resynced" && e.event.outcome == Outcome::Failure)
        .count();
    assert_eq!(failures, 4);
    // A resync is no login: it counts neither a success nor a failure.
    assert_eq!(w.rows.get("h1").successful_login_count, 1);
    let history = w.history_text();
    for c in [50, 51, 60, 62, 111, 112] {
        assert!(!history.contains(&code(alg, c, 7)), "a code in the history");
    }
}

#[test]
fn resync_refusals() {
    let w = Setup::new()
        .with_oath("t1", "TOTP", OathAlgorithm::Sha1, 6)
        .with_oath("h1", "HOTP", OathAlgorithm::Sha1, 6)
        .build();
    assert_err(
        w.resync("t1", "123456", "654321"),
        "errors.invalidParameter",
        "Resynchronisation applies to HOTP credentials only.",
    );
    let with = |c1: Option<&str>, c2: Option<&str>| {
        w.auth.oath_resync(
            &root(),
            "c1",
            "jdoe",
            "h1",
            Ok(OathResync {
                code1: c1.map(str::to_owned),
                code2: c2.map(str::to_owned),
            }),
        )
    };
    assert_err(
        with(None, Some("1")),
        "errors.nullParameter",
        "The 'code1' parameter is mandatory.",
    );
    assert_err(
        with(Some("1"), Some("")),
        "errors.nullParameter",
        "The 'code2' parameter is mandatory.",
    );
    assert_err(
        w.resync("nope", "1", "2"),
        "errors.noRecord",
        "OATH credential with the extId nope does not exist under the user jdoe",
    );
    w.rows.modify("h1", |c| c.state = CredentialState::Archived);
    assert_err(
        w.resync("h1", "1", "2"),
        CHANGE,
        "Credential with extId 'h1' is not active",
    );
    assert_err(
        w.auth
            .oath_resync(&helpdesk(), "c9", "jdoe", "h1", Ok(OathResync::default())),
        "errors.combinedDataroomDenied",
        "Permission denied: AccessControl.CredentialView",
    );
    assert_eq!(w.opened.load(Ordering::SeqCst), 0);
}

// ---- §11.3 change -----------------------------------------------------------------------

#[test]
fn admin_changes_the_password_without_the_old_one() {
    let w = Setup::new().with_password().build();
    w.rows.modify("pwd-jdoe", |c| {
        c.state = CredentialState::FailLocked;
        c.failed_login_count = 3;
        c.reset_count = 1;
    });
    let before = w.rows.get("pwd-jdoe");
    w.change(&root(), None, Some("ignored"), Some("Brand-New-Pw-2"))
        .unwrap();
    let c = w.rows.get("pwd-jdoe");
    assert_eq!(c.state, CredentialState::Active);
    assert_eq!(c.state_change_reason, StateChangeReason::ChangedByAdmin);
    assert_eq!((c.failed_login_count, c.reset_count), (0, 0));
    assert_eq!(c.version, before.version + 1);
    assert_eq!(c.epoch, before.epoch + 1, "older X-Tokens end");
    assert_eq!(
        c.secret,
        CredentialSecret::Password {
            hash: fake_hash("Brand-New-Pw-2")
        }
    );
    assert_eq!(w.actions(), vec!["password.changed"]);
    assert_eq!(w.hashed_in_tx.load(Ordering::SeqCst), 0, "SPEC §10.3");
    let history = w.history_text();
    assert!(!history.contains("Brand-New-Pw-2") && !history.contains(&fake_hash("Brand-New-Pw-2")));
    assert_eq!(status(w.pw_login(&root(), Some("Brand-New-Pw-2"))), OK);
}

#[test]
fn self_admin_changes_with_x_token_and_old_password() {
    let w = Setup::new().with_password().build();
    let me = self_admin("jdoe");
    let token = x_token("jdoe", 7);
    // Step 5 before the body: no token → 422 even with a bad body.
    assert_err(
        w.auth.change_password(
            &me,
            "c1",
            "jdoe",
            None,
            Err(AppError::BadBody(BodyRejection::Missing)),
        ),
        "errors.invalidJWTToken",
        "Invalid JWT token.",
    );
    assert_err(
        w.change(&me, Some(&token), None, Some("Brand-New-Pw-2")),
        "errors.nullParameter",
        "The 'oldPassword' parameter is mandatory.",
    );
    w.change(&me, Some(&token), Some(PW), Some("Brand-New-Pw-2"))
        .unwrap();
    let c = w.rows.get("pwd-jdoe");
    assert_eq!(c.state_change_reason, StateChangeReason::Changed);
    assert_eq!(c.epoch, 8);
    // The token issued before the change is refused afterwards.
    assert_err(
        w.change(
            &me,
            Some(&token),
            Some("Brand-New-Pw-2"),
            Some("Third-Pw-333"),
        ),
        "errors.invalidJWTToken",
        "Invalid JWT token.",
    );
    w.change(
        &me,
        Some(&x_token("jdoe", 8)),
        Some("Brand-New-Pw-2"),
        Some("Third-Pw-333"),
    )
    .unwrap();
    // Another user's path is not self-admin: rights are missing.
    assert_err(
        w.auth.change_password(&self_admin("mallory"), "c1", "jdoe", Some(token), Ok(ChangePassword::default())),
        "errors.insufficientRightsFunction",
        "Permission denied: Caller does not have the required right 'AccessControl.CredentialModify' to perform this action",
    );
}

#[test]
fn a_wrong_old_password_is_422_and_counts_as_a_failed_login() {
    let w = Setup::new().with_password().build();
    let me = self_admin("jdoe");
    let token = x_token("jdoe", 7);
    assert_err(
        w.change(&me, Some(&token), Some("not-it"), Some("Brand-New-Pw-2")),
        "errors.invalidParameter",
        "Failed to verify password.",
    );
    assert_eq!(w.rows.get("pwd-jdoe").failed_login_count, 1);
    assert_err(
        w.change(&me, Some(&token), Some("not-it"), Some("Brand-New-Pw-2")),
        "errors.invalidParameter",
        "Failed to verify password.",
    );
    assert_eq!(w.rows.get("pwd-jdoe").state, CredentialState::TmpLocked);
    // Locked now: the right old password is not even checked.
    let checked = w.verifications.load(Ordering::SeqCst);
    assert_err(
        w.change(&me, Some(&token), Some(PW), Some("Brand-New-Pw-2")),
        CHANGE,
        "Credential with extId 'pwd-jdoe' is not active",
    );
    assert_eq!(w.verifications.load(Ordering::SeqCst), checked);
    assert_eq!(
        w.rows.get("pwd-jdoe").secret,
        CredentialSecret::Password {
            hash: fake_hash(PW)
        }
    );
}

#[test]
fn new_password_rules() {
    let w = Setup::new()
        .with_policy(
            "pol-pwd",
            PolicyType::Pwd,
            &[
                ("resetCodeEnabled", "false"),
                ("minLength", "10"),
                ("maxLength", "20"),
            ],
        )
        .with_password()
        .build();
    assert_err(
        w.change(&root(), None, None, None),
        "errors.nullParameter",
        "The 'newPassword' parameter is mandatory.",
    );
    for bad in ["short", "much-much-too-long-for-it"] {
        let e = match w.change(&root(), None, None, Some(bad)) {
            Err(AppError::Domain(e)) => e,
            other => panic!("{other:?}"),
        };
        assert_eq!(e.code(), "errors.pwdPolicyViolated");
        let v = &e.policy_violations()[0];
        assert!(v.config_string == "minLength" || v.config_string == "maxLength");
        assert!(!v.supplied_value.contains(bad));
    }
    // Equal to the current one: found by verifying against the current hash (admin) or by
    // comparing with the verified old password (self-admin).
    for (caller, token, old) in [
        (root(), None, None),
        (self_admin("jdoe"), Some(x_token("jdoe", 7)), Some(PW)),
    ] {
        let e = match w.change(&caller, token.as_deref(), old, Some(PW)) {
            Err(AppError::Domain(e)) => e,
            other => panic!("{other:?}"),
        };
        assert_eq!(e.code(), "errors.pwdPolicyViolated");
        let v = &e.policy_violations()[0];
        assert_eq!(v.display_name, "notCurrentPassword");
        assert!(!format!("{v:?}").contains(PW));
    }
    assert_eq!(w.rows.get("pwd-jdoe").epoch, 7, "nothing changed");
    assert!(!w.actions().contains(&"password.changed".to_owned()));
}

#[test]
fn change_is_unavailable_when_the_policy_generates_passwords_or_no_password_exists() {
    let w = Setup::new()
        .with_policy("pol-pwd", PolicyType::Pwd, &[])
        .with_password()
        .build();
    assert_err(
        w.change(&root(), None, None, Some("Brand-New-Pw-2")),
        "errors.noRecord",
        "Password cannot be changed due to policy restrictions",
    );
    let w = Setup::new().build();
    assert_err(
        w.change(&root(), None, None, Some("Brand-New-Pw-2")),
        "errors.noRecord",
        "User with extId jdoe has no Password credential",
    );
    let w = Setup::new().with_password().build();
    w.rows
        .modify("pwd-jdoe", |c| c.state = CredentialState::Disabled);
    assert_err(
        w.change(&root(), None, None, Some("Brand-New-Pw-2")),
        CHANGE,
        "Credential with extId 'pwd-jdoe' is not active",
    );
}

#[test]
fn a_password_changed_meanwhile_is_a_conflict() {
    // Another change lands while the new password is hashed (between the checks and the
    // write): the write refuses instead of overwriting a password it did not check against.
    let w = Setup::new().with_password().build();
    let rows = w.rows.clone();
    *w.hash_hook.lock().unwrap() = Some(Box::new(move || {
        rows.modify("pwd-jdoe", |c| {
            c.secret = CredentialSecret::Password {
                hash: fake_hash("Someone-Else-9"),
            };
            c.version += 1;
        })
    }));
    assert_err(
        w.change(&root(), None, None, Some("Brand-New-Pw-2")),
        "errors.optimisticLockingFailure",
        "The entity was modified concurrently; reload it and retry.",
    );
    assert_eq!(
        w.rows.get("pwd-jdoe").secret,
        CredentialSecret::Password {
            hash: fake_hash("Someone-Else-9")
        }
    );
    assert!(w.actions().is_empty());
}

// ---- §11.3 unlock -----------------------------------------------------------------------

#[test]
fn unlock_lifts_a_lock_and_is_a_no_op_otherwise() {
    let w = Setup::new().with_password().build();
    for state in [CredentialState::TmpLocked, CredentialState::FailLocked] {
        w.rows.modify("pwd-jdoe", |c| {
            c.state = state;
            c.failed_login_count = 3;
            c.locked_until = Some(at(T0 + 60));
        });
        let before = w.rows.get("pwd-jdoe");
        w.auth.unlock_password(&helpdesk(), "c1", "jdoe").unwrap();
        let c = w.rows.get("pwd-jdoe");
        assert_eq!(c.state, CredentialState::Active);
        assert_eq!(c.state_change_reason, StateChangeReason::Unlock);
        assert_eq!((c.failed_login_count, c.locked_until), (0, None));
        assert_eq!(c.epoch, before.epoch + 1);
    }
    assert_eq!(
        w.actions(),
        vec!["credential.unlocked", "credential.unlocked"]
    );
    for state in [
        CredentialState::Active,
        CredentialState::Disabled,
        CredentialState::Initial,
    ] {
        w.rows.modify("pwd-jdoe", |c| c.state = state);
        let before = w.rows.get("pwd-jdoe");
        w.auth.unlock_password(&root(), "c1", "jdoe").unwrap();
        assert_eq!(w.rows.get("pwd-jdoe"), before, "{state:?}: nothing changes");
    }
    assert_eq!(w.actions().len(), 2);
    assert_err(
        w.auth.unlock_password(&self_admin("jdoe"), "c1", "jdoe"),
        "errors.insufficientRightsFunction",
        "Permission denied: Caller does not have the required right 'AccessControl.CredentialModify' to perform this action",
    );
    let none = Setup::new().build();
    assert_err(
        none.auth.unlock_password(&root(), "c1", "jdoe"),
        "errors.noRecord",
        "User with extId jdoe has no Password credential",
    );
    assert!(w.uow.modes().iter().all(|m| *m == TxMode::Write));
}

#[test]
fn no_event_holds_a_code_secret_or_password() {
    let w = Setup::new()
        .with_password()
        .with_oath("o1", "TOTP", OathAlgorithm::Sha1, 6)
        .with_oath("h1", "HOTP", OathAlgorithm::Sha1, 6)
        .build();
    let codes = [
        totp_at(STEP0),
        code(OathAlgorithm::Sha1, 0, 6),
        "000000".to_owned(),
    ];
    let _ = w.oath("o1", &codes[0]);
    let _ = w.oath("o1", &codes[0]);
    let _ = w.oath("h1", &codes[1]);
    let _ = w.oath("h1", &codes[2]);
    let _ = w.pw_login(&root(), Some(PW));
    let _ = w.pw_login(&root(), Some("wrong-pass"));
    let _ = w.change(&root(), None, None, Some("Brand-New-Pw-2"));
    let history = w.history_text();
    assert!(!history.is_empty());
    let sealed = seal(SEED20, "row-o1");
    for secret in [
        codes[0].as_str(),
        codes[1].as_str(),
        PW,
        "wrong-pass",
        "Brand-New-Pw-2",
        &fake_hash(PW),
        &hex(SEED20),
        &sealed,
        "12345678901234567890",
    ] {
        assert!(!history.contains(secret), "{secret} in {history}");
    }
}
