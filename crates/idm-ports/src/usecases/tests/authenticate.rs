//! SPEC §3.1: caller authentication with Basic credentials.

use chrono::Duration;
use idm_domain::access::{Role, RoleGrant};
use idm_domain::credential::{CredentialState, StateChangeReason};
use idm_domain::policy::PolicyType;
use idm_domain::user::{User, UserState};

use super::support::*;
use crate::auth::LoginCacheKey;
use crate::repos::{CredentialRecord, TxMode};
use crate::telemetry::{LockKind, MockTelemetry, Verification};
use crate::usecases::{CallerAuthenticator, PasswordCallerAuthenticator};

const PW: &str = "s3cret-pw";
const HASH: &str = "$argon2id$stored";

fn jdoe() -> User {
    user(&acme(), "u1", "jdoe")
}

fn grants() -> Vec<RoleGrant> {
    vec![RoleGrant::new(Role::Helpdesk, room(&["c1"]))]
}

/// Expects the read of `c1/jdoe`: client, user, password credential (unlocked read), grants.
fn expect_qualified_lookup(h: &mut Harness, found: User, record: CredentialRecord) {
    expect_acme(&mut h.repos);
    let u = found.clone();
    h.repos
        .users
        .expect_find_by_login_id()
        .withf(|c, l| c == "client-c1" && l == "jdoe")
        .returning(move |_, _| Ok(Some(u.clone())));
    expect_password_and_grants(h, &found, record);
}

fn expect_password_and_grants(h: &mut Harness, found: &User, record: CredentialRecord) {
    let id = found.id.clone();
    h.repos
        .credentials
        .expect_find_password_of_user()
        .withf(move |u, lock| u == id && !*lock)
        .returning(move |_, _| Ok(Some(record.clone())));
    let id = found.id.clone();
    h.repos
        .roles
        .expect_grants_of_user()
        .withf(move |u| u == id)
        .returning(|_| Ok(grants()));
}

/// Expects the locked re-read of the write transaction to return `record`.
fn expect_locked_reread(h: &mut Harness, record: CredentialRecord) {
    h.repos
        .credentials
        .expect_find_password_of_user()
        .withf(|u, lock| u == "user-u1" && *lock)
        .returning(move |_, _| Ok(Some(record.clone())));
}

fn expect_verify(h: &mut Harness, ok: bool) {
    h.hasher
        .expect_verify()
        .withf(|p, phc| p == PW && phc == HASH)
        .return_const(ok);
}

fn expect_dummy(h: &mut Harness) {
    h.hasher
        .expect_verify_dummy()
        .withf(|p| p == PW)
        .return_const(());
    h.hasher.expect_verify().never();
}

fn expect_remember(h: &mut Harness, version: i64) {
    h.cache
        .expect_remember()
        .withf(move |k, p| {
            *k == LoginCacheKey {
                user_id: "user-u1".into(),
                credential_version: version,
            } && p == PW
        })
        .return_const(());
}

fn authenticate(
    h: Harness,
    user_id: &str,
    password: &str,
) -> (
    crate::error::AppResult<crate::Caller>,
    std::sync::Arc<crate::testing::MockedUnitOfWork>,
) {
    let (ports, uow) = h.build();
    let result = PasswordCallerAuthenticator::new(ports).authenticate(user_id, password);
    (result, uow)
}

/// Telemetry that expects exactly these verifications, cache hits and locks, nothing else.
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

fn assert_auth_failed<T: std::fmt::Debug>(result: crate::error::AppResult<T>) {
    assert_err(result, "errors.userLoginFailed", "Authentication failed.");
}

#[test]
fn qualified_login_success_verifies_remembers_and_writes_nothing() {
    let mut h = Harness::new();
    expect_qualified_lookup(&mut h, jdoe(), password_record(&jdoe(), HASH));
    h.cache.expect_is_fresh().times(1).return_const(false);
    expect_verify(&mut h, true);
    expect_remember(&mut h, 4);
    h.repos.credentials.expect_update().never();
    expect_telemetry(&mut h, &[Verification::Success], 0, &[]);
    let (result, uow) = authenticate(h, "c1/jdoe", PW);
    let caller = result.unwrap();
    assert_eq!(caller.user_id, "user-u1");
    assert_eq!(caller.user_ext_id.as_str(), "u1");
    assert_eq!(caller.client_ext_id.as_str(), "c1");
    assert_eq!(caller.login_id, "jdoe");
    assert_eq!(caller.grants, grants());
    assert_eq!(uow.modes(), vec![TxMode::Read]);
    assert_eq!(uow.commits(), 1);
}

#[test]
fn bare_login_with_exactly_one_match_succeeds() {
    let mut h = Harness::new();
    h.repos
        .users
        .expect_find_by_login_id_anywhere()
        .withf(|l, limit| l == "jdoe" && *limit == 2)
        .returning(|_, _| Ok(vec![jdoe()]));
    h.repos
        .clients
        .expect_find_by_id()
        .withf(|id| id == "client-c1")
        .returning(|_| Ok(Some(acme())));
    expect_password_and_grants(&mut h, &jdoe(), password_record(&jdoe(), HASH));
    h.cache.expect_is_fresh().return_const(false);
    expect_verify(&mut h, true);
    expect_remember(&mut h, 4);
    let (result, uow) = authenticate(h, "jdoe", PW);
    let caller = result.unwrap();
    assert_eq!(caller.client_ext_id.as_str(), "c1");
    assert_eq!(caller.user_ext_id.as_str(), "u1");
    assert!(only_reads(&uow));
}

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
        assert_eq!(uow.modes(), vec![TxMode::Read], "{matches} matches");
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
    let (result, _) = authenticate(h, "nope/jdoe", PW);
    assert_auth_failed(result);
}

#[test]
fn malformed_client_ext_id_is_rejected_without_a_lookup() {
    let mut h = Harness::new();
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
    let (result, _) = authenticate(h, "c1/ghost", PW);
    assert_auth_failed(result);
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
    assert!(only_reads(&uow));
}

#[test]
fn empty_or_oversized_credentials_are_rejected_without_storage() {
    for (user_id, password) in [("", PW.to_owned()), ("c1/jdoe", "x".repeat(4097))] {
        let mut h = Harness::new();
        h.hasher.expect_verify_dummy().times(1).return_const(());
        h.hasher.expect_verify().never();
        let (result, uow) = authenticate(h, user_id, &password);
        assert_auth_failed(result);
        assert!(uow.modes().is_empty());
    }
}

#[test]
fn disabled_user_is_rejected_without_counting() {
    let mut h = Harness::new();
    let mut disabled = jdoe();
    disabled.state = UserState::Disabled;
    expect_qualified_lookup(&mut h, disabled.clone(), password_record(&disabled, HASH));
    expect_dummy(&mut h);
    h.repos.credentials.expect_update().never();
    let (result, uow) = authenticate(h, "c1/jdoe", PW);
    assert_auth_failed(result);
    assert_eq!(uow.modes(), vec![TxMode::Read]);
}

#[test]
fn fail_locked_credential_is_rejected_without_counting() {
    let mut h = Harness::new();
    let mut record = password_record(&jdoe(), HASH);
    record.credential.state = CredentialState::FailLocked;
    record.credential.failed_login_count = 3;
    expect_qualified_lookup(&mut h, jdoe(), record);
    expect_dummy(&mut h);
    h.repos.credentials.expect_update().never();
    let (result, uow) = authenticate(h, "c1/jdoe", PW);
    assert_auth_failed(result);
    assert_eq!(uow.modes(), vec![TxMode::Read]);
}

#[test]
fn running_tmp_lock_is_rejected_without_counting() {
    let mut h = Harness::new();
    let mut record = password_record(&jdoe(), HASH);
    record.credential.state = CredentialState::TmpLocked;
    record.credential.failed_login_count = 2;
    record.credential.locked_until = Some(now() + Duration::seconds(30));
    expect_qualified_lookup(&mut h, jdoe(), record);
    expect_dummy(&mut h);
    let (result, uow) = authenticate(h, "c1/jdoe", PW);
    assert_auth_failed(result);
    assert_eq!(uow.modes(), vec![TxMode::Read]);
}

#[test]
fn cache_hit_skips_the_hash_check() {
    let mut h = Harness::new();
    expect_qualified_lookup(&mut h, jdoe(), password_record(&jdoe(), HASH));
    h.cache
        .expect_is_fresh()
        .withf(|k, p| {
            *k == LoginCacheKey {
                user_id: "user-u1".into(),
                credential_version: 4,
            } && p == PW
        })
        .return_const(true);
    h.hasher.expect_verify().never();
    h.hasher.expect_verify_dummy().never();
    h.cache.expect_remember().never();
    expect_telemetry(&mut h, &[], 1, &[]);
    let (result, uow) = authenticate(h, "c1/jdoe", PW);
    assert_eq!(result.unwrap().login_id, "jdoe");
    assert_eq!(uow.modes(), vec![TxMode::Read]);
}

#[test]
fn wrong_password_counts_a_failure_and_tmp_locks_at_the_threshold() {
    let mut h = Harness::new();
    let mut record = password_record(&jdoe(), HASH);
    record.credential.failed_login_count = 1;
    expect_qualified_lookup(&mut h, jdoe(), record.clone());
    h.cache.expect_is_fresh().never();
    expect_verify(&mut h, false);
    h.cache.expect_remember().never();
    expect_locked_reread(&mut h, record);
    h.repos
        .policies
        .expect_find_by_id()
        .withf(|id| id == "pol-pwd")
        .returning(|_| {
            Ok(Some(policy(
                &acme(),
                "default-PwdPolicy",
                PolicyType::Pwd,
                true,
            )))
        });
    h.repos
        .credentials
        .expect_update()
        .withf(|c, expected| {
            *expected == 4
                && c.version == 5
                && c.failed_login_count == 2
                && c.last_failed_login == Some(now())
                && c.state == CredentialState::TmpLocked
                && c.state_change_reason == StateChangeReason::TooManyLoginFailures
                && c.locked_until == Some(now() + Duration::milliseconds(60_000))
        })
        .returning(|_, _| Ok(()));
    expect_telemetry(&mut h, &[Verification::Failure], 0, &[LockKind::Temporary]);
    let (result, uow) = authenticate(h, "c1/jdoe", PW);
    assert_auth_failed(result);
    assert_eq!(uow.modes(), vec![TxMode::Read, TxMode::Write]);
    assert_eq!(uow.commits(), 2);
}

#[test]
fn first_wrong_password_counts_without_locking() {
    let mut h = Harness::new();
    let record = password_record(&jdoe(), HASH);
    expect_qualified_lookup(&mut h, jdoe(), record.clone());
    h.cache.expect_is_fresh().return_const(false);
    expect_verify(&mut h, false);
    expect_locked_reread(&mut h, record);
    h.repos.policies.expect_find_by_id().returning(|_| {
        Ok(Some(policy(
            &acme(),
            "default-PwdPolicy",
            PolicyType::Pwd,
            true,
        )))
    });
    h.repos
        .credentials
        .expect_update()
        .withf(|c, expected| {
            *expected == 4
                && c.failed_login_count == 1
                && c.state == CredentialState::Active
                && c.locked_until.is_none()
        })
        .returning(|_, _| Ok(()));
    expect_telemetry(&mut h, &[Verification::Failure], 0, &[]);
    let (result, uow) = authenticate(h, "c1/jdoe", PW);
    assert_auth_failed(result);
    assert_eq!(uow.modes(), vec![TxMode::Read, TxMode::Write]);
}

#[test]
fn success_after_failures_clears_them_once_and_remembers_the_new_version() {
    let mut h = Harness::new();
    let mut record = password_record(&jdoe(), HASH);
    record.credential.failed_login_count = 1;
    expect_qualified_lookup(&mut h, jdoe(), record.clone());
    // A pending write bypasses the cache: the stored failure count must be cleared.
    h.cache.expect_is_fresh().never();
    expect_verify(&mut h, true);
    expect_locked_reread(&mut h, record);
    h.repos
        .credentials
        .expect_update()
        .withf(|c, expected| {
            *expected == 4
                && c.version == 5
                && c.failed_login_count == 0
                && c.successful_login_count == 1
                && c.last_successful_login == Some(now())
                && c.state == CredentialState::Active
        })
        .returning(|_, _| Ok(()));
    expect_remember(&mut h, 5);
    let (result, uow) = authenticate(h, "c1/jdoe", PW);
    assert_eq!(result.unwrap().user_ext_id.as_str(), "u1");
    assert_eq!(uow.modes(), vec![TxMode::Read, TxMode::Write]);
}

#[test]
fn success_on_an_expired_tmp_lock_reactivates_the_credential() {
    let mut h = Harness::new();
    let mut record = password_record(&jdoe(), HASH);
    record.credential.state = CredentialState::TmpLocked;
    record.credential.failed_login_count = 2;
    record.credential.locked_until = Some(now() - Duration::seconds(1));
    expect_qualified_lookup(&mut h, jdoe(), record.clone());
    expect_verify(&mut h, true);
    expect_locked_reread(&mut h, record);
    h.repos
        .credentials
        .expect_update()
        .withf(|c, _| {
            c.state == CredentialState::Active
                && c.locked_until.is_none()
                && c.failed_login_count == 0
        })
        .returning(|_, _| Ok(()));
    expect_remember(&mut h, 5);
    let (result, _) = authenticate(h, "c1/jdoe", PW);
    assert!(result.is_ok());
}

#[test]
fn success_is_refused_when_the_credential_got_locked_meanwhile() {
    let mut h = Harness::new();
    let mut record = password_record(&jdoe(), HASH);
    record.credential.failed_login_count = 2;
    expect_qualified_lookup(&mut h, jdoe(), record.clone());
    expect_verify(&mut h, true);
    // A concurrent failure locked the credential between the read and the locked re-read.
    let mut locked = record;
    locked.credential.state = CredentialState::FailLocked;
    locked.credential.failed_login_count = 3;
    locked.credential.version = 5;
    expect_locked_reread(&mut h, locked);
    h.repos.credentials.expect_update().never();
    h.cache.expect_remember().never();
    let (result, _) = authenticate(h, "c1/jdoe", PW);
    assert_auth_failed(result);
}
