//! SPEC §6.2: bulk update of login information.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Duration, Utc};
use idm_domain::credential::{
    Credential, CredentialSecret, CredentialState, LoginOutcome, OathDetails, StateChangeReason,
};
use idm_domain::policy::{Policy, PolicyParameters, PolicyType};
use idm_domain::user::User;

use super::support::*;
use crate::caller::Caller;
use crate::error::{AppError, AppResult, StoreError};
use crate::repos::CredentialRecord;
use crate::telemetry::{LockKind, MockTelemetry};
use crate::testing::MockedUnitOfWork;
use crate::usecases::{
    CredentialLoginReport, LoginInfoResult, LoginInfoService, LoginInfoUseCases, LoginReport,
};

type Shared<T> = Arc<Mutex<Vec<T>>>;

fn u1() -> User {
    user(&acme(), "u1", "jdoe")
}

// ---- credentials and policies -----------------------------------------------------------------

/// The password credential `pwd-u1` of u1 (version 4, policy `pol-pwd`) in `state`.
fn pwd(state: CredentialState) -> CredentialRecord {
    let mut r = password_record(&u1(), "$argon2id$x");
    r.credential.state = state;
    r
}

fn vasco(ext_id: &str, state: CredentialState) -> CredentialRecord {
    other_type(
        ext_id,
        state,
        "pol-vasco",
        CredentialSecret::Vasco { tokens: vec![] },
    )
}

fn oath(ext_id: &str, state: CredentialState) -> CredentialRecord {
    let details = OathDetails {
        issuer: "nevisIDM".into(),
        authentication_method: "TOTP".into(),
        hashing_algorithm: "SHA1".into(),
        digits: 6,
        period: 30,
        counter: 0,
        encrypted_secret: "bm9uY2U=~c2VhbGVk".into(),
        label: "jdoe".into(),
    };
    other_type(ext_id, state, "pol-oath", CredentialSecret::Oath(details))
}

fn other_type(
    ext_id: &str,
    state: CredentialState,
    policy_id: &str,
    secret: CredentialSecret,
) -> CredentialRecord {
    let mut r = pwd(state);
    r.credential.id = format!("cred-{ext_id}");
    r.credential.ext_id = ext(ext_id);
    r.credential.policy_id = policy_id.into();
    r.credential.secret = secret;
    r
}

/// The same record under another `ext_id` (and storage ID).
fn renamed(mut r: CredentialRecord, ext_id: &str) -> CredentialRecord {
    r.credential.id = format!("cred-{ext_id}");
    r.credential.ext_id = ext(ext_id);
    r
}

/// A policy of `c1` with storage ID `id` and the given parameters over the defaults.
fn pol(id: &str, policy_type: PolicyType, pairs: &[(&str, &str)]) -> Policy {
    let given: BTreeMap<String, String> = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let mut p = policy(&acme(), id, policy_type, false);
    p.id = id.into();
    p.parameters = PolicyParameters::validated(policy_type, given).unwrap();
    p
}

// ---- reports ----------------------------------------------------------------------------------

fn entry(success: Option<bool>, ext_id: Option<&str>) -> CredentialLoginReport {
    CredentialLoginReport {
        success,
        credential_ext_id: ext_id.map(str::to_owned),
    }
}

fn ok(ext_id: &str) -> CredentialLoginReport {
    entry(Some(true), Some(ext_id))
}

fn fail(ext_id: &str) -> CredentialLoginReport {
    entry(Some(false), Some(ext_id))
}

fn report(user_ok: bool, entries: Vec<CredentialLoginReport>) -> LoginReport {
    LoginReport {
        user_login_successful: Some(user_ok),
        credentials: Some(entries),
    }
}

// ---- a stateful storage over the mocks --------------------------------------------------------

/// What the mocked storage saw: the credential rows (updated by CAS writes), the writes and the
/// user's login records.
#[derive(Clone, Default)]
struct Store {
    rows: Shared<CredentialRecord>,
    updates: Shared<(Credential, i64)>,
    logins: Shared<(String, bool, DateTime<Utc>)>,
}

impl Store {
    fn updates(&self) -> Vec<(Credential, i64)> {
        self.updates.lock().unwrap().clone()
    }
    fn logins(&self) -> Vec<(String, bool, DateTime<Utc>)> {
        self.logins.lock().unwrap().clone()
    }
}

/// Client `c1`, user `u1`, `rows` as the client's credentials and `policies` by storage ID.
fn harness(rows: Vec<CredentialRecord>, policies: Vec<Policy>) -> (Harness, Store) {
    let mut h = Harness::new();
    let store = Store::default();
    *store.rows.lock().unwrap() = rows;
    expect_acme(&mut h.repos);
    expect_user(&mut h.repos, u1());

    let current_user = Arc::new(Mutex::new(u1()));
    let (logins, u) = (store.logins.clone(), current_user.clone());
    h.repos
        .users
        .expect_record_login()
        .returning(move |id, success, at| {
            logins.lock().unwrap().push((id.to_owned(), success, at));
            let mut user = u.lock().unwrap();
            if success {
                user.last_login = Some(at);
            } else {
                user.last_login_failure = Some(at);
            }
            user.version += 1;
            Ok(())
        });
    h.repos
        .users
        .expect_find_by_id()
        .withf(|id| id == "user-u1")
        .returning(move |_| Ok(Some(current_user.lock().unwrap().clone())));

    let rows = store.rows.clone();
    h.repos
        .credentials
        .expect_find_by_ext_id_for_update()
        .returning(move |client_id, ext_id| {
            assert_eq!(client_id, "client-c1");
            Ok(rows
                .lock()
                .unwrap()
                .iter()
                .find(|r| r.credential.ext_id.as_str() == ext_id)
                .cloned())
        });
    let (rows, updates) = (store.rows.clone(), store.updates.clone());
    h.repos
        .credentials
        .expect_update()
        .returning(move |c, expected| {
            updates.lock().unwrap().push((c.clone(), expected));
            let mut rows = rows.lock().unwrap();
            let row = rows
                .iter_mut()
                .find(|r| r.credential.id == c.id)
                .expect("update of a credential that was never read");
            if row.credential.version != expected {
                return Err(StoreError::Conflict);
            }
            row.credential = c.clone();
            Ok(())
        });
    expect_policies_by_id(&mut h.repos, policies);
    (h, store)
}

fn run(
    h: Harness,
    caller: &Caller,
    body: AppResult<LoginReport>,
) -> (AppResult<LoginInfoResult>, Arc<MockedUnitOfWork>) {
    let (ports, uow) = h.build();
    let result = LoginInfoUseCases::new(ports).bulk_login_info(caller, "c1", "u1", body);
    (result, uow)
}

/// A report by Root over a fully stocked storage.
fn report_as_root(
    rows: Vec<CredentialRecord>,
    policies: Vec<Policy>,
    body: LoginReport,
) -> (LoginInfoResult, Store, Arc<MockedUnitOfWork>) {
    let (h, store) = harness(rows, policies);
    let (result, uow) = run(h, &root(), Ok(body));
    (result.unwrap(), store, uow)
}

fn default_policies() -> Vec<Policy> {
    vec![
        pol("pol-pwd", PolicyType::Pwd, &[]),
        pol("pol-vasco", PolicyType::Vasco, &[]),
        pol("pol-oath", PolicyType::Oath, &[]),
    ]
}

fn stored(item: &crate::usecases::LoginItem) -> &Credential {
    &item
        .credential
        .as_ref()
        .expect("a credential item")
        .credential
}

// ---- rights and order of checks (SPEC §3.4) ---------------------------------------------------

#[test]
fn without_credential_modify_the_report_is_denied_before_any_lookup() {
    for caller in [nobody(), self_admin("c1", "u1")] {
        let (result, uow) = run(Harness::new(), &caller, Ok(report(true, vec![])));
        assert_err(
            result,
            "errors.insufficientRightsFunction",
            "Permission denied: Caller does not have the required right 'AccessControl.CredentialModify' to perform this action",
        );
        assert_storage_untouched(&uow);
    }
}

#[test]
fn outside_the_data_room_the_report_is_denied_before_any_lookup() {
    for caller in [helpdesk(&["c2"]), user_admin(&["c2"]), client_root(&["c2"])] {
        let (result, uow) = run(Harness::new(), &caller, Ok(report(true, vec![ok("x")])));
        assert_err(
            result,
            "errors.combinedDataroomDenied",
            "Permission denied: AccessControl.CredentialModify",
        );
        assert_storage_untouched(&uow);
    }
}

#[test]
fn helpdesk_user_admin_and_client_root_of_the_client_may_report() {
    for caller in [helpdesk(&["c1"]), user_admin(&["c1"]), client_root(&["c1"])] {
        let (h, store) = harness(vec![pwd(CredentialState::Active)], default_policies());
        let (result, _) = run(h, &caller, Ok(report(true, vec![ok("pwd-u1")])));
        let result = result.unwrap();
        assert_eq!(result.items.len(), 1, "{caller:?}");
        assert!(result.errors.is_empty());
        assert_eq!(store.updates().len(), 1);
    }
}

#[test]
fn an_unknown_client_is_404_before_the_body_is_looked_at() {
    let mut h = Harness::new();
    h.repos
        .clients
        .expect_find_by_ext_id()
        .returning(|_| Ok(None));
    h.repos.users.expect_record_login().never();
    let (result, uow) = run(h, &root(), Err(malformed_body()));
    assert_err(
        result,
        "errors.noRecord",
        "Client doesn't exist with extId 'c1'",
    );
    assert_no_events(&uow);
}

#[test]
fn an_unknown_user_is_404_before_the_body_is_looked_at() {
    let mut h = Harness::new();
    expect_acme(&mut h.repos);
    h.repos
        .users
        .expect_find_by_ext_id()
        .returning(|_, _| Ok(None));
    h.repos.users.expect_record_login().never();
    let body = LoginReport {
        user_login_successful: None,
        credentials: None,
    };
    let (result, uow) = run(h, &root(), Ok(body));
    assert_err(
        result,
        "errors.noRecord",
        "A user with extId 'u1' doesn't exist on client with name Acme",
    );
    assert_no_events(&uow);
}

#[test]
fn a_body_rejected_by_the_transport_comes_after_the_lookups_and_writes_nothing() {
    let mut h = Harness::new();
    expect_acme(&mut h.repos);
    expect_user(&mut h.repos, u1());
    h.repos.users.expect_record_login().never();
    let (result, uow) = run(h, &root(), Err(malformed_body()));
    assert_eq!(result, Err(malformed_body()));
    assert_no_events(&uow);
}

// ---- body content (SPEC §6.2) -----------------------------------------------------------------

#[test]
fn a_missing_user_outcome_is_422_and_nothing_is_applied() {
    let mut h = Harness::new();
    expect_acme(&mut h.repos);
    expect_user(&mut h.repos, u1());
    h.repos.users.expect_record_login().never();
    h.repos.credentials.expect_update().never();
    let body = LoginReport {
        user_login_successful: None,
        credentials: Some(vec![ok("pwd-u1")]),
    };
    let (result, uow) = run(h, &root(), Ok(body));
    assert_err(
        result,
        "errors.nullParameter",
        "The 'userLoginSuccessful' parameter is mandatory.",
    );
    assert_no_events(&uow);
}

#[test]
fn more_than_100_entries_is_422_and_nothing_is_applied() {
    let mut h = Harness::new();
    expect_acme(&mut h.repos);
    expect_user(&mut h.repos, u1());
    h.repos.users.expect_record_login().never();
    h.repos.credentials.expect_update().never();
    let entries = (0..101).map(|i| ok(&format!("c{i}"))).collect();
    let (result, uow) = run(h, &root(), Ok(report(true, entries)));
    assert_err(
        result,
        "errors.invalidParameter",
        "At most 100 credentials can be updated at once.",
    );
    assert_no_events(&uow);
}

#[test]
fn exactly_100_entries_are_applied() {
    let rows: Vec<_> = (0..100)
        .map(|i| renamed(pwd(CredentialState::Active), &format!("c{i}")))
        .collect();
    let entries = (0..100).map(|i| ok(&format!("c{i}"))).collect();
    let (result, store, uow) = report_as_root(rows, default_policies(), report(true, entries));
    assert_eq!(result.items.len(), 100);
    assert!(result.errors.is_empty());
    assert_eq!(store.updates().len(), 100);
    // One event for the user and one per applied entry (SPEC §13).
    assert_eq!(uow.actions(), vec!["login.recorded"; 101]);
}

// ---- the user's outcome -----------------------------------------------------------------------

#[test]
fn the_users_outcome_is_always_recorded_even_when_every_entry_fails() {
    for user_ok in [true, false] {
        let entries = vec![entry(None, Some("pwd-u1")), fail("nope")];
        let (result, store, _) = report_as_root(vec![], vec![], report(user_ok, entries));
        assert_eq!(store.logins(), vec![("user-u1".to_owned(), user_ok, now())]);
        assert!(result.items.is_empty());
        assert_eq!(result.errors.len(), 2);
        let (last_login, last_failure) = if user_ok {
            (Some(now()), None)
        } else {
            (None, Some(now()))
        };
        assert_eq!(
            (result.last_login, result.last_login_failure),
            (last_login, last_failure)
        );
    }
}

#[test]
fn without_credentials_one_user_only_item_is_answered() {
    for (user_ok, outcome) in [
        (true, LoginOutcome::Succeeded),
        (false, LoginOutcome::Failed),
    ] {
        for credentials in [None, Some(vec![])] {
            let mut h = Harness::new();
            expect_acme(&mut h.repos);
            expect_user(&mut h.repos, u1());
            let logins: Shared<(String, bool, DateTime<Utc>)> = Arc::default();
            let l = logins.clone();
            h.repos
                .users
                .expect_record_login()
                .returning(move |id, s, at| {
                    l.lock().unwrap().push((id.to_owned(), s, at));
                    Ok(())
                });
            let mut after = u1();
            after.last_login = Some(earlier());
            after.last_login_failure = Some(now());
            let answered = after.clone();
            h.repos
                .users
                .expect_find_by_id()
                .returning(move |_| Ok(Some(answered.clone())));
            h.repos
                .credentials
                .expect_find_by_ext_id_for_update()
                .never();
            let body = LoginReport {
                user_login_successful: Some(user_ok),
                credentials,
            };
            let (result, uow) = run(h, &root(), Ok(body));
            let result = result.unwrap();
            assert_eq!(
                logins.lock().unwrap().clone(),
                vec![("user-u1".to_owned(), user_ok, now())]
            );
            assert!(result.errors.is_empty());
            assert_eq!(result.items.len(), 1);
            let item = &result.items[0];
            assert_eq!(item.outcome, outcome);
            assert_eq!(item.credential, None);
            assert_eq!(
                (item.user_ext_id.as_str(), item.client_ext_id.as_str()),
                ("u1", "c1")
            );
            assert_eq!(
                (item.user_last_login, item.user_last_login_failure),
                (after.last_login, after.last_login_failure)
            );
            assert_eq!(
                (result.last_login, result.last_login_failure),
                (after.last_login, after.last_login_failure)
            );
            let e = event(&uow, "login.recorded");
            assert_eq!(e.event.credential_ext_id, None, "the user's own event");
            assert_eq!(e.event.user_ext_id.as_deref(), Some("u1"));
            assert_eq!(
                e.event.detail.as_deref(),
                Some(if user_ok { "success" } else { "failure" })
            );
        }
    }
}

// ---- per-entry errors -------------------------------------------------------------------------

#[test]
fn entry_errors_carry_code_message_and_identifier_while_the_others_apply() {
    let mut other_users = renamed(pwd(CredentialState::Active), "theirs");
    other_users.credential.user_id = Some("user-u2".into());
    other_users.user_ext_id = Some(ext("u2"));
    let mut unassigned = vasco("spare", CredentialState::Active);
    unassigned.credential.user_id = None;
    unassigned.user_ext_id = None;
    let mut tmp_locked = renamed(pwd(CredentialState::TmpLocked), "tl");
    tmp_locked.credential.locked_until = Some(now() + Duration::milliseconds(1));
    let rows = vec![
        pwd(CredentialState::Active),
        other_users,
        unassigned,
        renamed(pwd(CredentialState::Disabled), "dis"),
        renamed(pwd(CredentialState::Archived), "arch"),
        renamed(pwd(CredentialState::ResetCode), "rc"),
        renamed(pwd(CredentialState::FailLocked), "fl"),
        tmp_locked,
        oath("oath-7", CredentialState::Active),
    ];
    let entries = vec![
        entry(None, Some("pwd-u1")),
        entry(Some(true), None),
        entry(None, None),
        ok("nope"),
        ok("bad id!"),
        fail("theirs"),
        ok("spare"),
        ok("dis"),
        fail("arch"),
        ok("rc"),
        ok("fl"),
        fail("tl"),
        ok("pwd-u1"),
        fail("oath-7"),
    ];
    let (result, store, uow) = report_as_root(rows, default_policies(), report(true, entries));

    let errors: Vec<_> = result
        .errors
        .iter()
        .map(|e| {
            assert_eq!(
                (e.client_ext_id.as_str(), e.user_ext_id.as_str()),
                ("c1", "u1")
            );
            (
                e.error.code(),
                e.error.to_string(),
                e.credential_ext_id.as_deref(),
            )
        })
        .collect();
    let null = |p: &str| format!("The '{p}' parameter is mandatory.");
    let missing = |x: &str| format!("Credential with extId '{x}' doesn't exist for user 'u1'");
    let inactive = |x: &str| format!("Credential with extId '{x}' is not active");
    let expected = vec![
        ("errors.nullParameter", null("success"), Some("pwd-u1")),
        ("errors.nullParameter", null("credentialExtId"), None),
        ("errors.nullParameter", null("success"), None),
        ("errors.noRecord", missing("nope"), Some("nope")),
        ("errors.noRecord", missing("bad id!"), Some("bad id!")),
        ("errors.noRecord", missing("theirs"), Some("theirs")),
        ("errors.noRecord", missing("spare"), Some("spare")),
        ("errors.credentialNotActive", inactive("dis"), Some("dis")),
        ("errors.credentialNotActive", inactive("arch"), Some("arch")),
        ("errors.credentialNotActive", inactive("rc"), Some("rc")),
        ("errors.credentialNotActive", inactive("fl"), Some("fl")),
        ("errors.credentialNotActive", inactive("tl"), Some("tl")),
    ];
    let expected: Vec<_> = expected
        .iter()
        .map(|(c, m, x)| (*c, m.clone(), *x))
        .collect();
    assert_eq!(errors, expected);

    // The two good entries still applied, in request order.
    let applied: Vec<_> = result
        .items
        .iter()
        .map(|i| (stored(i).ext_id.as_str(), i.outcome))
        .collect();
    assert_eq!(
        applied,
        vec![
            ("pwd-u1", LoginOutcome::Succeeded),
            ("oath-7", LoginOutcome::Failed)
        ]
    );
    let written: Vec<_> = store
        .updates()
        .iter()
        .map(|(c, _)| c.ext_id.to_string())
        .collect();
    assert_eq!(written, vec!["pwd-u1", "oath-7"]);
    // The user's event and one per applied entry; a refused entry leaves none.
    let recorded: Vec<_> = uow
        .events()
        .iter()
        .map(|e| (e.event.action, e.event.credential_ext_id.clone()))
        .collect();
    assert_eq!(
        recorded,
        vec![
            ("login.recorded", None),
            ("login.recorded", Some("pwd-u1".to_owned())),
            ("login.recorded", Some("oath-7".to_owned())),
        ]
    );
}

#[test]
fn an_expired_tmp_lock_is_usable_and_a_success_activates_it() {
    for locked_until in [Some(now()), Some(now() - Duration::seconds(5)), None] {
        let mut r = pwd(CredentialState::TmpLocked);
        r.credential.locked_until = locked_until;
        r.credential.failed_login_count = 2;
        r.credential.state_change_reason = StateChangeReason::TooManyLoginFailures;
        let (result, _, _) = report_as_root(
            vec![r],
            default_policies(),
            report(true, vec![ok("pwd-u1")]),
        );
        assert!(result.errors.is_empty(), "{locked_until:?}");
        let c = stored(&result.items[0]);
        assert_eq!(c.state, CredentialState::Active);
        assert_eq!(c.state_change_reason, StateChangeReason::Activated);
        assert_eq!((c.locked_until, c.failed_login_count), (None, 0));
    }
}

// ---- applied outcomes -------------------------------------------------------------------------

#[test]
fn a_success_updates_counters_and_dates_with_the_version_read() {
    let mut r = pwd(CredentialState::Active);
    r.credential.failed_login_count = 2;
    r.credential.reset_count = 1;
    r.credential.successful_login_count = 14;
    r.credential.last_failed_login = Some(earlier());
    let before = r.clone();
    let (result, store, uow) = report_as_root(vec![r], vec![], report(true, vec![ok("pwd-u1")]));

    assert!(result.errors.is_empty());
    let item = &result.items[0];
    assert_eq!(item.outcome, LoginOutcome::Succeeded);
    assert_eq!(item.outcome.status_code(), 0);
    assert_eq!(
        (item.user_ext_id.as_str(), item.client_ext_id.as_str()),
        ("u1", "c1")
    );
    assert_eq!(
        (item.user_last_login, item.user_last_login_failure),
        (Some(now()), None)
    );
    let c = stored(item);
    assert_eq!(c.successful_login_count, 15);
    assert_eq!((c.failed_login_count, c.reset_count), (0, 0));
    assert_eq!(c.last_successful_login, Some(now()));
    assert_eq!(c.last_failed_login, Some(earlier()));
    assert_eq!(c.state, CredentialState::Active);
    assert_eq!((c.version, c.last_modified), (5, now()));
    assert_eq!(
        item.credential.as_ref().unwrap().policy_ext_id,
        before.policy_ext_id
    );

    let updates = store.updates();
    assert_eq!(updates.len(), 1);
    assert_eq!(updates[0].1, 4, "compare-and-set against the version read");
    assert_eq!(&updates[0].0, c);
    let entry = uow
        .events()
        .into_iter()
        .find(|e| e.event.credential_ext_id.as_deref() == Some("pwd-u1"))
        .expect("the entry's event");
    assert_eq!(entry.event.action, "login.recorded");
    assert_eq!(entry.event.actor, actor_of(&root()));
    assert_eq!(
        entry.event.changes["successfulLoginCount"],
        serde_json::json!([14, 15])
    );
    assert_eq!(
        entry.event.changes["failedLoginCount"],
        serde_json::json!([2, 0])
    );
}

#[test]
fn a_success_activates_initial_vasco_and_oath_but_not_a_password() {
    let rows = vec![
        pwd(CredentialState::Initial),
        vasco("vasco-1", CredentialState::Initial),
        oath("oath-1", CredentialState::Initial),
        oath("oath-2", CredentialState::AdminChanged),
    ];
    let entries = vec![ok("pwd-u1"), ok("vasco-1"), ok("oath-1"), ok("oath-2")];
    let (result, _, _) = report_as_root(rows, vec![], report(true, entries));
    assert!(result.errors.is_empty());
    let states: Vec<_> = result
        .items
        .iter()
        .map(|i| {
            let c = stored(i);
            (c.ext_id.as_str(), c.state, c.state_change_reason)
        })
        .collect();
    assert_eq!(
        states,
        vec![
            (
                "pwd-u1",
                CredentialState::Initial,
                StateChangeReason::Initialized
            ),
            (
                "vasco-1",
                CredentialState::Active,
                StateChangeReason::Activated
            ),
            (
                "oath-1",
                CredentialState::Active,
                StateChangeReason::Activated
            ),
            (
                "oath-2",
                CredentialState::AdminChanged,
                StateChangeReason::Initialized
            ),
        ]
    );
}

#[test]
fn failures_count_and_lock_under_the_credentials_own_policy() {
    // Defaults for passwords (tmp-lock at 2 for 60 s, fail-lock at 3); the OATH policy
    // fail-locks at the first failure; the VASCO policy never locks.
    let policies = vec![
        pol("pol-pwd", PolicyType::Pwd, &[]),
        pol(
            "pol-oath",
            PolicyType::Oath,
            &[("maxCredFailureCount", "1")],
        ),
        pol(
            "pol-vasco",
            PolicyType::Vasco,
            &[("maxCredFailureCount", "-1"), ("tmpLockingThreshold", "-1")],
        ),
    ];
    let first = pwd(CredentialState::Active);
    let mut second = renamed(pwd(CredentialState::Active), "pwd-b");
    second.credential.failed_login_count = 1;
    let mut third = renamed(pwd(CredentialState::TmpLocked), "pwd-c");
    third.credential.failed_login_count = 2;
    third.credential.locked_until = Some(now() - Duration::seconds(1));
    let mut never = vasco("vasco-1", CredentialState::Active);
    never.credential.failed_login_count = 500;
    let rows = vec![
        first,
        second,
        third,
        oath("oath-1", CredentialState::Active),
        never,
    ];
    let entries = vec![
        fail("pwd-u1"),
        fail("pwd-b"),
        fail("pwd-c"),
        fail("oath-1"),
        fail("vasco-1"),
    ];
    // Each lock is reported once, by kind; plain failures report nothing.
    let mut telemetry = MockTelemetry::new();
    telemetry
        .expect_lockout()
        .withf(|k| *k == LockKind::Temporary)
        .times(1)
        .return_const(());
    telemetry
        .expect_lockout()
        .withf(|k| *k == LockKind::Permanent)
        .times(2)
        .return_const(());
    let (mut h, store) = harness(rows, policies);
    h.telemetry = Some(telemetry);
    let (result, _) = run(h, &root(), Ok(report(false, entries)));
    let result = result.unwrap();
    assert!(result.errors.is_empty());

    let got: Vec<_> = result
        .items
        .iter()
        .map(|i| {
            let c = stored(i);
            (
                c.ext_id.to_string(),
                i.outcome,
                i.outcome.status_code(),
                c.state,
                c.failed_login_count,
                c.locked_until,
            )
        })
        .collect();
    let tmp_until = Some(now() + Duration::milliseconds(60_000));
    assert_eq!(
        got,
        vec![
            (
                "pwd-u1".into(),
                LoginOutcome::Failed,
                2,
                CredentialState::Active,
                1,
                None
            ),
            (
                "pwd-b".into(),
                LoginOutcome::TmpLocked,
                3,
                CredentialState::TmpLocked,
                2,
                tmp_until
            ),
            (
                "pwd-c".into(),
                LoginOutcome::FailLocked,
                4,
                CredentialState::FailLocked,
                3,
                None
            ),
            (
                "oath-1".into(),
                LoginOutcome::FailLocked,
                4,
                CredentialState::FailLocked,
                1,
                None
            ),
            (
                "vasco-1".into(),
                LoginOutcome::Failed,
                2,
                CredentialState::Active,
                501,
                None
            ),
        ]
    );
    for item in &result.items {
        let c = stored(item);
        assert_eq!(c.last_failed_login, Some(now()));
        assert_eq!(c.last_successful_login, None);
        assert_eq!(c.version, 5);
        if c.state.is_locked() {
            assert_eq!(
                c.state_change_reason,
                StateChangeReason::TooManyLoginFailures
            );
        }
        assert_eq!(
            (item.user_last_login, item.user_last_login_failure),
            (None, Some(now()))
        );
    }
    assert!(store.updates().iter().all(|(_, expected)| *expected == 4));
}

#[test]
fn a_tmp_lock_lasts_the_policys_duration() {
    let policies = vec![pol(
        "pol-pwd",
        PolicyType::Pwd,
        &[("tmpLockingThreshold", "1"), ("tmpLockingDuration", "5000")],
    )];
    let (result, _, _) = report_as_root(
        vec![pwd(CredentialState::AdminChanged)],
        policies,
        report(false, vec![fail("pwd-u1")]),
    );
    let item = &result.items[0];
    assert_eq!(item.outcome, LoginOutcome::TmpLocked);
    assert_eq!(
        stored(item).locked_until,
        Some(now() + Duration::milliseconds(5000))
    );
}

#[test]
fn repeated_entries_for_one_credential_each_read_the_latest_version() {
    let mut r = pwd(CredentialState::Active);
    r.credential.version = 9;
    let entries = vec![fail("pwd-u1"), fail("pwd-u1"), ok("pwd-u1"), fail("pwd-u1")];
    let (result, store, uow) = report_as_root(
        vec![r],
        vec![pol(
            "pol-pwd",
            PolicyType::Pwd,
            &[("tmpLockingThreshold", "-1")],
        )],
        report(false, entries),
    );
    let outcomes: Vec<_> = result.items.iter().map(|i| i.outcome).collect();
    assert_eq!(
        outcomes,
        vec![
            LoginOutcome::Failed,
            LoginOutcome::Failed,
            LoginOutcome::Succeeded,
            LoginOutcome::Failed
        ]
    );
    let cas: Vec<_> = store
        .updates()
        .iter()
        .map(|(c, expected)| (*expected, c.version, c.failed_login_count))
        .collect();
    assert_eq!(cas, vec![(9, 10, 1), (10, 11, 2), (11, 12, 0), (12, 13, 1)]);
    assert_eq!(uow.actions(), vec!["login.recorded"; 1 + 4]);
}

#[test]
fn a_missing_policy_falls_back_to_the_default_rules() {
    let mut r = pwd(CredentialState::Active);
    r.credential.failed_login_count = 2;
    let (result, _, _) = report_as_root(vec![r], vec![], report(false, vec![fail("pwd-u1")]));
    assert_eq!(result.items[0].outcome, LoginOutcome::FailLocked);
}

// ---- storage failures -------------------------------------------------------------------------

fn assert_whole_call_fails(
    h: Harness,
    entries: Vec<CredentialLoginReport>,
    wanted: AppError,
) -> Arc<MockedUnitOfWork> {
    let (result, uow) = run(h, &root(), Ok(report(true, entries)));
    assert_eq!(result, Err(wanted));
    uow
}

/// Client and user are found and the user's login is recorded.
fn found_and_recorded(h: &mut Harness) {
    expect_acme(&mut h.repos);
    expect_user(&mut h.repos, u1());
    h.repos
        .users
        .expect_record_login()
        .returning(|_, _, _| Ok(()));
    h.repos
        .users
        .expect_find_by_id()
        .returning(|_| Ok(Some(u1())));
}

#[test]
fn an_unavailable_credential_lookup_fails_the_whole_report() {
    let mut h = Harness::new();
    found_and_recorded(&mut h);
    h.repos
        .credentials
        .expect_find_by_ext_id_for_update()
        .returning(|_, _| Err(StoreError::Unavailable));
    h.repos.credentials.expect_update().never();
    let uow = assert_whole_call_fails(
        h,
        vec![ok("pwd-u1"), ok("never-reached")],
        AppError::Unavailable,
    );
    // The user's outcome was committed before; the failed entry left nothing.
    assert_eq!(uow.actions(), ["login.recorded"]);
    assert_eq!(event(&uow, "login.recorded").event.credential_ext_id, None);
}

#[test]
fn an_unavailable_policy_lookup_fails_the_whole_report() {
    let mut h = Harness::new();
    found_and_recorded(&mut h);
    let r = pwd(CredentialState::Active);
    h.repos
        .credentials
        .expect_find_by_ext_id_for_update()
        .returning(move |_, _| Ok(Some(r.clone())));
    h.repos
        .policies
        .expect_find_by_id()
        .returning(|_| Err(StoreError::Unavailable));
    h.repos.credentials.expect_update().never();
    assert_whole_call_fails(
        h,
        vec![fail("pwd-u1"), ok("never-reached")],
        AppError::Unavailable,
    );
}

#[test]
fn a_failed_credential_write_fails_the_whole_report() {
    for (error, wanted) in [
        (StoreError::Unavailable, AppError::Unavailable),
        (
            StoreError::Other("disk full".into()),
            AppError::Internal("disk full".into()),
        ),
    ] {
        let mut h = Harness::new();
        found_and_recorded(&mut h);
        let r = pwd(CredentialState::Active);
        h.repos
            .credentials
            .expect_find_by_ext_id_for_update()
            .returning(move |_, _| Ok(Some(r.clone())));
        h.repos
            .credentials
            .expect_update()
            .returning(move |_, _| Err(error.clone()));
        expect_policies_by_id(&mut h.repos, default_policies());
        let uow = assert_whole_call_fails(h, vec![ok("pwd-u1")], wanted);
        assert_eq!(
            uow.actions(),
            ["login.recorded"],
            "only the user's own event"
        );
        assert_eq!(event(&uow, "login.recorded").event.credential_ext_id, None);
    }
}

#[test]
fn an_unavailable_user_write_fails_before_any_entry() {
    let mut h = Harness::new();
    expect_acme(&mut h.repos);
    expect_user(&mut h.repos, u1());
    h.repos
        .users
        .expect_record_login()
        .returning(|_, _, _| Err(StoreError::Unavailable));
    h.repos
        .credentials
        .expect_find_by_ext_id_for_update()
        .never();
    let uow = assert_whole_call_fails(h, vec![ok("pwd-u1")], AppError::Unavailable);
    assert_no_events(&uow);
}
