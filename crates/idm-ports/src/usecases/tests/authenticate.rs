//! SPEC §3.1: caller authentication with Basic credentials, with the lockout reservation of
//! SPEC §10.2 and the bounded hashing of SPEC §10.3.
//!
//! The password credential lives in a stateful row ([`PasswordRow`]): the tests assert the row
//! and the history an authentication leaves, and what the hasher was (never) asked, not how
//! many transactions or queries it took.
//!
//! The login cache holds two kinds of entries: the pair as presented (`presented:<userId>`,
//! epoch 0), asked before the lookup so that only never-verified pairs wait for a hashing slot
//! (SPEC §10.3), and the real credential keyed by its epoch, whose hit is the authentication.

use std::sync::{Arc, Mutex};

use chrono::Duration;
use idm_domain::access::{Role, RoleGrant};
use idm_domain::credential::{CredentialState, StateChangeReason};
use idm_domain::policy::{Policy, PolicyType};
use idm_domain::user::{User, UserState};

use super::support::*;
use crate::auth::{HashSlot, LoginCacheKey};
use crate::caller::Caller;
use crate::error::{AppError, AppResult};
use crate::history::Outcome;
use crate::repos::CredentialRecord;
use crate::telemetry::{LockKind, MockTelemetry, Verification};
use crate::testing::MockedUnitOfWork;
use crate::usecases::{CallerAuthenticator, PasswordCallerAuthenticator};

const PW: &str = "s3cret-pw";
const HASH: &str = "$argon2id$stored";
const REQ: &str = "req-auth";

fn jdoe() -> User {
    user(&acme(), "u1", "jdoe")
}

fn grants() -> Vec<RoleGrant> {
    vec![RoleGrant::new(Role::Helpdesk, room(&["c1"]))]
}

/// The default PwdPolicy (tmp-lock at 2 failures for 60 s, fail-lock at 3) as `pol-pwd`.
fn pwd_policy() -> Policy {
    let mut p = policy(&acme(), "default-PwdPolicy", PolicyType::Pwd, true);
    p.id = "pol-pwd".into();
    p
}

fn record() -> CredentialRecord {
    password_record(&jdoe(), HASH)
}

/// The storage holds `c1`, the user `found` (loginId `jdoe`) with its grants, its password
/// credential `stored` and the credential's policy.
fn world(h: &mut Harness, found: User, stored: CredentialRecord) -> PasswordRow {
    expect_acme(&mut h.repos);
    let u = found.clone();
    h.repos
        .users
        .expect_find_by_login_id()
        .withf(|c, l| c == "client-c1" && l == "jdoe")
        .returning(move |_, _| Ok(Some(u.clone())));
    expect_user_holding(&mut h.repos, found, grants());
    expect_policies_by_id(&mut h.repos, vec![pwd_policy()]);
    stored_password(&mut h.repos, stored)
}

/// The hasher verifies [`PW`] against [`HASH`] as `ok`, with no transaction open (SPEC §10.3).
fn expect_verify(h: &mut Harness, ok: bool) {
    let probe = h.probe.clone();
    h.hasher
        .expect_verify()
        .withf(|_, p, phc| p == PW && phc == HASH)
        .returning(move |_, _, _| {
            assert!(!probe.in_transaction(), "a hash check inside a transaction");
            ok
        });
}

/// An unknown or unusable login costs one dummy verification and no real one (SPEC §3.1).
fn expect_dummy(h: &mut Harness) {
    h.hasher
        .expect_verify_dummy()
        .withf(|_, p| p == PW)
        .times(1)
        .return_const(());
    h.hasher.expect_verify().never();
}

/// No hash of any kind is computed.
fn expect_no_hashing(h: &mut Harness) {
    h.hasher.expect_verify().never();
    h.hasher.expect_verify_dummy().never();
}

/// The cache key of the pair as presented, asked before any lookup.
fn presented(user_id: &str) -> LoginCacheKey {
    LoginCacheKey {
        user_id: format!("presented:{user_id}"),
        password_epoch: 0,
    }
}

/// The cache key of jdoe's password credential at `epoch`.
fn cached(epoch: i64) -> LoginCacheKey {
    LoginCacheKey {
        user_id: "user-u1".into(),
        password_epoch: epoch,
    }
}

/// The login cache holds exactly `entries`, each verified with [`PW`].
fn cache_holds(h: &mut Harness, entries: Vec<LoginCacheKey>) {
    h.cache
        .expect_is_fresh()
        .returning(move |k, p| p == PW && entries.contains(k));
}

/// Captures what the login cache is asked to remember.
fn capture_remembered(h: &mut Harness) -> Arc<Mutex<Vec<LoginCacheKey>>> {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let sink = seen.clone();
    h.cache.expect_remember().returning(move |k, p| {
        assert_eq!(p, PW);
        sink.lock().unwrap().push(k);
    });
    seen
}

fn authenticate(
    h: Harness,
    user_id: &str,
    password: &str,
) -> (AppResult<Caller>, Arc<MockedUnitOfWork>) {
    let (ports, uow) = h.build();
    let result = PasswordCallerAuthenticator::new(ports).authenticate(
        user_id,
        password,
        Some(REQ.to_owned()),
    );
    (result, uow)
}

/// Telemetry that expects exactly these verifications, cache hits and locks, nothing else
/// (the `/metrics` counters of SPEC §9 are an outcome).
fn expect_telemetry(
    h: &mut Harness,
    verifications: &[Verification],
    cache_hits: usize,
    locks: &[LockKind],
) {
    let mut t = MockTelemetry::new();
    for outcome in [
        Verification::Success,
        Verification::Failure,
        Verification::Dummy,
    ] {
        let n = verifications.iter().filter(|v| **v == outcome).count();
        t.expect_password_verification()
            .withf(move |v| *v == outcome)
            .times(n)
            .return_const(());
    }
    t.expect_auth_cache_hit().times(cache_hits).return_const(());
    for kind in [LockKind::Temporary, LockKind::Permanent] {
        let n = locks.iter().filter(|k| **k == kind).count();
        t.expect_lockout()
            .withf(move |k| *k == kind)
            .times(n)
            .return_const(());
    }
    h.telemetry = Some(t);
}

fn assert_auth_failed<T: std::fmt::Debug>(result: AppResult<T>) {
    assert_err(result, "errors.userLoginFailed", "Authentication failed.");
}

/// No committed event says the login failed or was refused.
#[track_caller]
fn assert_no_failure_events(uow: &MockedUnitOfWork) {
    assert!(
        uow.events()
            .iter()
            .all(|e| e.event.outcome == Outcome::Success),
        "{:?}",
        uow.actions()
    );
}

// ---- success ----------------------------------------------------------------------------------

#[test]
fn qualified_login_success_names_the_caller_and_remembers_the_pair_and_the_epoch() {
    let mut h = Harness::new();
    let row = world(&mut h, jdoe(), record());
    cache_holds(&mut h, Vec::new());
    expect_verify(&mut h, true);
    let remembered = capture_remembered(&mut h);
    expect_telemetry(&mut h, &[Verification::Success], 0, &[]);
    let (result, uow) = authenticate(h, "c1/jdoe", PW);
    let caller = result.unwrap();
    assert_eq!(caller.user_id, "user-u1");
    assert_eq!(caller.user_ext_id.as_str(), "u1");
    assert_eq!(caller.client_ext_id.as_str(), "c1");
    assert_eq!(caller.login_id, "jdoe");
    assert_eq!(caller.grants, grants());
    assert_eq!(caller.request_id.as_deref(), Some(REQ));
    let stored = row.credential();
    assert_eq!(stored.failed_login_count, 0);
    assert_eq!(stored.state, CredentialState::Active);
    // The pair as presented (it skips the hashing gate next time) and the credential at its
    // epoch: a reset, change, unlock or state change moves the epoch and so ends the entry.
    assert_eq!(
        stored.epoch, EPOCH,
        "login bookkeeping does not move the epoch"
    );
    assert_eq!(
        *remembered.lock().unwrap(),
        vec![presented("c1/jdoe"), cached(EPOCH)]
    );
    assert_no_failure_events(&uow);
    assert_history_free_of(&uow, &[PW, HASH]);
}

#[test]
fn bare_login_with_exactly_one_match_succeeds() {
    let mut h = Harness::new();
    h.repos
        .users
        .expect_find_by_login_id_anywhere()
        .withf(|l, limit| l == "jdoe" && *limit >= 2)
        .returning(|_, _| Ok(vec![jdoe()]));
    h.repos
        .clients
        .expect_find_by_id()
        .withf(|id| id == "client-c1")
        .returning(|_| Ok(Some(acme())));
    let row = world(&mut h, jdoe(), record());
    h.cache.expect_is_fresh().return_const(false);
    expect_verify(&mut h, true);
    let _ = capture_remembered(&mut h);
    let (result, uow) = authenticate(h, "jdoe", PW);
    let caller = result.unwrap();
    assert_eq!(caller.client_ext_id.as_str(), "c1");
    assert_eq!(caller.user_ext_id.as_str(), "u1");
    assert_eq!(row.credential().failed_login_count, 0);
    assert_no_failure_events(&uow);
}

#[test]
fn success_after_failures_clears_them_and_remembers_the_unchanged_epoch() {
    let mut h = Harness::new();
    let mut before = record();
    before.credential.failed_login_count = 1;
    let row = world(&mut h, jdoe(), before);
    // Nothing cached: the full check runs and clears the stored failure.
    cache_holds(&mut h, Vec::new());
    expect_verify(&mut h, true);
    let remembered = capture_remembered(&mut h);
    let (result, uow) = authenticate(h, "c1/jdoe", PW);
    assert_eq!(result.unwrap().user_ext_id.as_str(), "u1");
    let stored = row.credential();
    assert_eq!(stored.failed_login_count, 0);
    assert_eq!(stored.successful_login_count, 1);
    assert_eq!(stored.last_successful_login, Some(now()));
    assert_eq!(stored.state, CredentialState::Active);
    assert!(
        stored.version > 4,
        "compare-and-set writes bump the version"
    );
    assert_eq!(
        stored.epoch, EPOCH,
        "login bookkeeping does not move the epoch"
    );
    assert_eq!(
        *remembered.lock().unwrap(),
        vec![presented("c1/jdoe"), cached(EPOCH)]
    );
    assert_no_failure_events(&uow);
}

#[test]
fn success_on_an_expired_tmp_lock_reactivates_the_credential() {
    let mut h = Harness::new();
    let mut before = record();
    before.credential.state = CredentialState::TmpLocked;
    before.credential.state_change_reason = StateChangeReason::TooManyLoginFailures;
    before.credential.failed_login_count = 2;
    before.credential.locked_until = Some(now() - Duration::seconds(1));
    let row = world(&mut h, jdoe(), before);
    cache_holds(&mut h, Vec::new());
    expect_verify(&mut h, true);
    let _ = capture_remembered(&mut h);
    let (result, _) = authenticate(h, "c1/jdoe", PW);
    assert!(result.is_ok());
    let stored = row.credential();
    assert_eq!(stored.state, CredentialState::Active);
    assert_eq!(stored.locked_until, None);
    assert_eq!(stored.failed_login_count, 0);
}

#[test]
fn cache_hit_skips_the_hash_check_and_writes_nothing() {
    let mut h = Harness::new();
    let row = world(&mut h, jdoe(), record());
    cache_holds(&mut h, vec![cached(EPOCH)]);
    expect_no_hashing(&mut h);
    h.cache.expect_remember().never();
    expect_telemetry(&mut h, &[], 1, &[]);
    let (result, uow) = authenticate(h, "c1/jdoe", PW);
    assert_eq!(result.unwrap().login_id, "jdoe");
    assert_eq!(row.get(), record(), "an authenticated read stays a read");
    assert_no_events(&uow);
}

// ---- unknown or unusable callers: one dummy verification ------------------------------------

#[test]
fn bare_login_without_a_single_match_is_rejected_after_a_dummy_verify() {
    for matches in [0usize, 2] {
        let mut h = Harness::new();
        h.repos
            .users
            .expect_find_by_login_id_anywhere()
            .returning(move |_, _| {
                let other = user(&client("c2", "Other"), "u2", "jdoe");
                Ok(vec![jdoe(), other].into_iter().take(matches).collect())
            });
        expect_dummy(&mut h);
        let (result, uow) = authenticate(h, "jdoe", PW);
        assert_auth_failed(result);
        assert_no_events(&uow);
    }
}

#[test]
fn unknown_client_is_rejected_after_a_dummy_verify() {
    let mut h = Harness::new();
    h.repos
        .clients
        .expect_find_by_ext_id()
        .withf(|e| e == "nope")
        .returning(|_| Ok(None));
    expect_dummy(&mut h);
    let (result, uow) = authenticate(h, "nope/jdoe", PW);
    assert_auth_failed(result);
    assert_no_events(&uow);
}

#[test]
fn malformed_client_ext_id_is_rejected_without_a_lookup() {
    let mut h = Harness::new();
    h.repos.clients.expect_find_by_ext_id().never();
    expect_dummy(&mut h);
    let (result, _) = authenticate(h, "a b/jdoe", PW);
    assert_auth_failed(result);
}

#[test]
fn unknown_user_is_rejected_after_a_dummy_verify() {
    let mut h = Harness::new();
    expect_acme(&mut h.repos);
    h.repos
        .users
        .expect_find_by_login_id()
        .returning(|_, _| Ok(None));
    expect_dummy(&mut h);
    expect_telemetry(&mut h, &[Verification::Dummy], 0, &[]);
    let (result, uow) = authenticate(h, "c1/ghost", PW);
    assert_auth_failed(result);
    assert_no_events(&uow);
}

#[test]
fn user_without_password_credential_is_rejected_after_a_dummy_verify() {
    let mut h = Harness::new();
    expect_acme(&mut h.repos);
    h.repos
        .users
        .expect_find_by_login_id()
        .returning(|_, _| Ok(Some(jdoe())));
    h.repos
        .credentials
        .expect_find_password_of_user()
        .returning(|_, _| Ok(None));
    h.repos
        .roles
        .expect_grants_of_user()
        .returning(|_| Ok(grants()));
    expect_dummy(&mut h);
    let (result, uow) = authenticate(h, "c1/jdoe", PW);
    assert_auth_failed(result);
    assert_no_events(&uow);
}

#[test]
fn empty_or_oversized_credentials_are_rejected_without_storage() {
    for (user_id, password) in [("", PW.to_owned()), ("c1/jdoe", "x".repeat(4097))] {
        let mut h = Harness::new();
        h.hasher.expect_verify_dummy().times(1).return_const(());
        h.hasher.expect_verify().never();
        let (result, uow) = authenticate(h, user_id, &password);
        assert_auth_failed(result);
        assert_storage_untouched(&uow);
    }
}

#[test]
fn disabled_user_is_rejected_without_counting() {
    let mut h = Harness::new();
    let mut disabled = jdoe();
    disabled.state = UserState::Disabled;
    let row = world(&mut h, disabled, record());
    expect_dummy(&mut h);
    let (result, _) = authenticate(h, "c1/jdoe", PW);
    assert_auth_failed(result);
    assert_eq!(row.get(), record(), "nothing counted");
}

// ---- SPEC §10.2: the lockout reservation ------------------------------------------------------

/// A credential under a running lock: refused with no hash check at all (not even a dummy one)
/// and without counting; the refusal is recorded.
fn assert_locked_refusal(locked: CredentialRecord) {
    let mut h = Harness::new();
    let row = world(&mut h, jdoe(), locked.clone());
    // A remembered password does not open a locked credential.
    cache_holds(&mut h, vec![presented("c1/jdoe"), cached(EPOCH)]);
    expect_no_hashing(&mut h);
    h.cache.expect_remember().never();
    expect_telemetry(&mut h, &[], 0, &[]);
    let (result, uow) = authenticate(h, "c1/jdoe", PW);
    assert_auth_failed(result);
    assert_eq!(row.get(), locked, "no failure counted, nothing changed");
    let refused = event(&uow, "login.refused");
    assert_eq!(refused.event.outcome, Outcome::Failure);
    assert_eq!(refused.event.credential_ext_id.as_deref(), Some("pwd-u1"));
    assert_eq!(refused.event.request_id.as_deref(), Some(REQ));
    assert_history_free_of(&uow, &[PW, HASH]);
}

#[test]
fn a_fail_locked_credential_is_refused_without_a_hash_check_or_counting() {
    let mut locked = record();
    locked.credential.state = CredentialState::FailLocked;
    locked.credential.state_change_reason = StateChangeReason::TooManyLoginFailures;
    locked.credential.failed_login_count = 3;
    assert_locked_refusal(locked);
}

#[test]
fn a_running_tmp_lock_is_refused_without_a_hash_check_or_counting() {
    let mut locked = record();
    locked.credential.state = CredentialState::TmpLocked;
    locked.credential.state_change_reason = StateChangeReason::TooManyLoginFailures;
    locked.credential.failed_login_count = 2;
    locked.credential.locked_until = Some(now() + Duration::seconds(30));
    assert_locked_refusal(locked);
}

#[test]
fn a_wrong_password_is_counted_before_its_hash_check() {
    let mut h = Harness::new();
    let row = world(&mut h, jdoe(), record());
    h.cache.expect_is_fresh().return_const(false);
    // While the hash is checked, the failure is already committed: a parallel attempt sees it.
    let seen = row.clone();
    let probe = h.probe.clone();
    h.hasher.expect_verify().returning(move |_, _, _| {
        assert!(!probe.in_transaction());
        assert_eq!(
            seen.credential().failed_login_count,
            1,
            "reserved in advance"
        );
        false
    });
    h.cache.expect_remember().never();
    expect_telemetry(&mut h, &[Verification::Failure], 0, &[]);
    let (result, uow) = authenticate(h, "c1/jdoe", PW);
    assert_auth_failed(result);
    let stored = row.credential();
    assert_eq!(stored.failed_login_count, 1);
    assert_eq!(stored.last_failed_login, Some(now()));
    assert_eq!(stored.state, CredentialState::Active);
    assert_eq!(stored.locked_until, None);
    let failed = event(&uow, "login.failed");
    assert_eq!(failed.event.credential_ext_id.as_deref(), Some("pwd-u1"));
    assert_eq!(
        failed.event.actor,
        crate::permit::Actor::User {
            client_ext_id: ext("c1"),
            user_ext_id: ext("u1"),
            login_id: "jdoe".into(),
        }
    );
    assert_history_free_of(&uow, &[PW, HASH]);
}

#[test]
fn a_failed_login_is_recorded_with_outcome_failure() {
    // SPEC §13: `"outcome": "success"|"failure"`; a wrong password is a failed attempt, and
    // only the failure outcome lets the audit list tell attacks from logins.
    let mut h = Harness::new();
    world(&mut h, jdoe(), record());
    h.cache.expect_is_fresh().return_const(false);
    expect_verify(&mut h, false);
    let (result, uow) = authenticate(h, "c1/jdoe", PW);
    assert_auth_failed(result);
    assert_eq!(event(&uow, "login.failed").event.outcome, Outcome::Failure);
}

#[test]
fn a_wrong_password_tmp_locks_at_the_threshold() {
    let mut h = Harness::new();
    let mut before = record();
    before.credential.failed_login_count = 1;
    let row = world(&mut h, jdoe(), before);
    cache_holds(&mut h, Vec::new());
    expect_verify(&mut h, false);
    h.cache.expect_remember().never();
    expect_telemetry(&mut h, &[Verification::Failure], 0, &[LockKind::Temporary]);
    let (result, uow) = authenticate(h, "c1/jdoe", PW);
    assert_auth_failed(result);
    let stored = row.credential();
    assert_eq!(stored.failed_login_count, 2);
    assert_eq!(stored.last_failed_login, Some(now()));
    assert_eq!(stored.state, CredentialState::TmpLocked);
    assert_eq!(
        stored.state_change_reason,
        StateChangeReason::TooManyLoginFailures
    );
    assert_eq!(
        stored.locked_until,
        Some(now() + Duration::milliseconds(60_000))
    );
    assert!(uow.actions().iter().any(|a| a == "login.failed"));
}

#[test]
fn a_right_password_gives_its_reservation_back() {
    let mut h = Harness::new();
    let mut before = record();
    before.credential.failed_login_count = 1;
    let row = world(&mut h, jdoe(), before);
    cache_holds(&mut h, Vec::new());
    // The reservation is committed before the check (the threshold is reached with it) …
    let seen = row.clone();
    h.hasher.expect_verify().returning(move |_, _, _| {
        assert_eq!(seen.credential().failed_login_count, 2);
        true
    });
    let _ = capture_remembered(&mut h);
    expect_telemetry(&mut h, &[Verification::Success], 0, &[]);
    let (result, uow) = authenticate(h, "c1/jdoe", PW);
    assert!(result.is_ok());
    // … and given back by the right password: no failure and no lock remain.
    let stored = row.credential();
    assert_eq!(stored.failed_login_count, 0);
    assert_eq!(stored.state, CredentialState::Active);
    assert_eq!(stored.locked_until, None);
    assert_no_failure_events(&uow);
}

#[test]
fn an_admin_disabling_the_credential_during_the_check_refuses_the_login() {
    let mut h = Harness::new();
    let row = world(&mut h, jdoe(), record());
    let concurrent = row.clone();
    h.hasher.expect_verify().returning(move |_, _, _| {
        concurrent.modify(|r| {
            r.credential.state = CredentialState::Disabled;
            r.credential.state_change_reason = StateChangeReason::ChangedByAdmin;
            r.credential.version += 1;
        });
        true
    });
    h.cache.expect_is_fresh().return_const(false);
    h.cache.expect_remember().never();
    let (result, _) = authenticate(h, "c1/jdoe", PW);
    assert_auth_failed(result);
    assert_eq!(
        row.credential().state,
        CredentialState::Disabled,
        "not revived"
    );
}

// ---- SPEC §10.3: bounded hashing --------------------------------------------------------------

#[test]
fn exhausted_hashing_capacity_is_busy_and_counts_as_no_attempt() {
    let mut h = Harness::new();
    h.busy = true;
    let row = world(&mut h, jdoe(), record());
    cache_holds(&mut h, Vec::new());
    expect_no_hashing(&mut h);
    h.cache.expect_remember().never();
    let (result, uow) = authenticate(h, "c1/jdoe", PW);
    assert_eq!(result.unwrap_err(), AppError::Busy);
    assert_eq!(row.get(), record(), "nothing reserved or counted");
    // A pair never seen to verify waits for its slot before it takes a connection.
    assert_storage_untouched(&uow);
}

#[test]
fn an_unknown_login_takes_its_hashing_slot_before_any_storage_access() {
    let mut h = Harness::new();
    let probe = h.probe.clone();
    // One slot, taken with no transaction started yet, serves the dummy verification too.
    h.hasher.expect_slot().times(1).returning(move || {
        assert_eq!(
            probe.transactions(),
            0,
            "storage was touched before the slot"
        );
        Ok(HashSlot::unbounded())
    });
    expect_acme(&mut h.repos);
    h.repos
        .users
        .expect_find_by_login_id()
        .withf(|c, l| c == "client-c1" && l == "ghost")
        .returning(|_, _| Ok(None));
    expect_dummy(&mut h);
    let (result, uow) = authenticate(h, "c1/ghost", PW);
    assert_auth_failed(result);
    assert!(!uow.modes().is_empty(), "the lookup ran after the slot");
    assert_no_events(&uow);
}

#[test]
fn exhausted_hashing_capacity_is_busy_for_an_unknown_login_without_touching_storage() {
    for user_id in ["c1/ghost", "ghost"] {
        let mut h = Harness::new();
        h.busy = true;
        h.repos.clients.expect_find_by_ext_id().never();
        h.repos.users.expect_find_by_login_id().never();
        h.repos.users.expect_find_by_login_id_anywhere().never();
        expect_no_hashing(&mut h);
        h.cache.expect_remember().never();
        let (result, uow) = authenticate(h, user_id, PW);
        assert_eq!(result.unwrap_err(), AppError::Busy, "{user_id}");
        assert_storage_untouched(&uow);
    }
}

#[test]
fn a_cached_caller_never_waits_for_hashing() {
    let mut h = Harness::new();
    h.busy = true;
    let row = world(&mut h, jdoe(), record());
    // The presented pair was verified recently: no hashing slot is asked for at all.
    cache_holds(&mut h, vec![presented("c1/jdoe"), cached(EPOCH)]);
    h.hasher.expect_slot().never();
    expect_no_hashing(&mut h);
    h.cache.expect_remember().never();
    expect_telemetry(&mut h, &[], 1, &[]);
    let (result, uow) = authenticate(h, "c1/jdoe", PW);
    assert_eq!(result.unwrap().login_id, "jdoe");
    assert_eq!(row.get(), record());
    assert_no_events(&uow);
}

#[test]
fn a_cache_hit_on_a_credential_with_failures_writes_nothing_and_keeps_the_count() {
    let mut h = Harness::new();
    let mut before = record();
    before.credential.failed_login_count = 1;
    before.credential.last_failed_login = Some(now() - Duration::minutes(5));
    let row = world(&mut h, jdoe(), before.clone());
    cache_holds(&mut h, vec![cached(EPOCH)]);
    // A hit is no check: it clears nothing and counts nothing.
    expect_no_hashing(&mut h);
    h.cache.expect_remember().never();
    h.repos.users.expect_record_login().never();
    expect_telemetry(&mut h, &[], 1, &[]);
    let (result, uow) = authenticate(h, "c1/jdoe", PW);
    assert_eq!(result.unwrap().user_ext_id.as_str(), "u1");
    assert_eq!(row.get(), before, "the failure count stays");
    assert_eq!(row.credential().failed_login_count, 1);
    assert_no_events(&uow);
}

#[test]
fn a_cache_entry_of_an_older_epoch_is_not_used() {
    let mut h = Harness::new();
    let row = world(&mut h, jdoe(), record());
    // PW verified before the password was reset (epoch EPOCH - 1 → EPOCH); the presented pair
    // skips the hashing gate but authenticates nothing on its own.
    cache_holds(&mut h, vec![presented("c1/jdoe"), cached(EPOCH - 1)]);
    expect_verify(&mut h, false);
    h.cache.expect_remember().never();
    expect_telemetry(&mut h, &[Verification::Failure], 0, &[]);
    let (result, uow) = authenticate(h, "c1/jdoe", PW);
    assert_auth_failed(result);
    assert_eq!(
        row.credential().failed_login_count,
        1,
        "a full check, counted"
    );
    assert!(uow.actions().iter().any(|a| a == "login.failed"));
}

#[test]
fn a_cache_entry_of_the_current_epoch_is_renewed_after_a_full_check_of_an_older_one() {
    let mut h = Harness::new();
    world(&mut h, jdoe(), record());
    cache_holds(&mut h, vec![cached(EPOCH - 1)]);
    expect_verify(&mut h, true);
    let remembered = capture_remembered(&mut h);
    let (result, _) = authenticate(h, "c1/jdoe", PW);
    assert_eq!(result.unwrap().login_id, "jdoe");
    assert_eq!(
        *remembered.lock().unwrap(),
        vec![presented("c1/jdoe"), cached(EPOCH)]
    );
}

#[test]
fn every_action_of_a_password_check_is_documented() {
    // SPEC §13: actions are listed in the OpenAPI document, built from `history::ACTIONS`, and
    // the audit list filters by them.
    for right in [false, true] {
        let mut h = Harness::new();
        world(&mut h, jdoe(), record());
        h.cache.expect_is_fresh().return_const(false);
        expect_verify(&mut h, right);
        let _ = capture_remembered(&mut h);
        let (_, uow) = authenticate(h, "c1/jdoe", PW);
        for action in uow.actions() {
            assert!(
                crate::history::ACTIONS.contains(&action.as_str()),
                "{action} is not in ACTIONS"
            );
        }
    }
}
