//! SPEC §6.3: the bearer token endpoint (`POST /principal/v1/token`).

use std::sync::{Arc, Mutex};

use chrono::Duration;
use idm_domain::credential::{Credential, CredentialState, StateChangeReason};
use idm_domain::policy::PolicyType;
use idm_domain::user::User;

use super::support::*;
use crate::auth::{IssuedToken, TokenSubject};
use crate::caller::Caller;
use crate::error::{AppError, AppResult, BodyRejection};
use crate::repos::{CredentialRecord, TxMode};
use crate::telemetry::{LockKind, MockTelemetry, Verification};
use crate::testing::MockedUnitOfWork;
use crate::usecases::{TokenRequest, TokenService, TokenUseCases};

const PW: &str = "s3cret-pw";
const HASH: &str = "$argon2id$stored";
const INVALID: &str = "errors.invalidParameter";
const NOT_ACTIVE: &str = "errors.credentialNotActive";

fn jdoe() -> User {
    user(&acme(), "jdoe", "jdoe")
}

/// The SelfAdmin caller `c1/jdoe` (storage ID `user-jdoe`).
fn me() -> Caller {
    self_admin("c1", "jdoe")
}

fn body(username: Option<&str>, password: Option<&str>, grant_type: Option<&str>) -> TokenRequest {
    TokenRequest {
        username: username.map(str::to_owned),
        password: password.map(str::to_owned),
        grant_type: grant_type.map(str::to_owned),
    }
}

fn valid() -> TokenRequest {
    body(Some("jdoe"), Some(PW), Some("password"))
}

fn issued() -> IssuedToken {
    IssuedToken {
        token: "header.claims.signature".into(),
        expires_in: 3600,
    }
}

fn record() -> CredentialRecord {
    password_record(&jdoe(), HASH)
}

fn issue(
    h: Harness,
    caller: &Caller,
    request: Result<TokenRequest, AppError>,
) -> (AppResult<IssuedToken>, Arc<MockedUnitOfWork>) {
    let (ports, uow) = h.build();
    let result = TokenUseCases::new(ports).issue_token(caller, request);
    (result, uow)
}

/// A run that must fail before touching storage, the hasher or the issuer (the mocks carry
/// no expectations, so any call panics).
#[track_caller]
fn assert_rejected_early(caller: &Caller, request: TokenRequest, code: &str, message: &str) {
    let (result, uow) = issue(Harness::new(), caller, Ok(request));
    assert_err(result, code, message);
    assert!(uow.modes().is_empty(), "no transaction: {:?}", uow.modes());
}

#[track_caller]
fn assert_invalid(request: TokenRequest, message: &str) {
    assert_rejected_early(&me(), request, INVALID, message);
}

/// Expects the unlocked read of the caller's password credential to return `found`.
fn expect_read(h: &mut Harness, found: Option<CredentialRecord>) {
    h.repos
        .credentials
        .expect_find_password_of_user()
        .withf(|u, lock| u == "user-jdoe" && !*lock)
        .returning(move |_, _| Ok(found.clone()));
}

/// Expects the locked re-read of the write transaction to return `found`.
fn expect_locked_reread(h: &mut Harness, found: CredentialRecord) {
    h.repos
        .credentials
        .expect_find_password_of_user()
        .withf(|u, lock| u == "user-jdoe" && *lock)
        .returning(move |_, _| Ok(Some(found.clone())));
}

fn expect_verify(h: &mut Harness, ok: bool) {
    h.hasher
        .expect_verify()
        .withf(|p, phc| p == PW && phc == HASH)
        .return_const(ok);
}

fn expect_default_policy(h: &mut Harness) {
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
}

/// Captures every credential passed to `update` (with its expected version).
fn capture_updates(h: &mut Harness) -> Arc<Mutex<Vec<(Credential, i64)>>> {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let sink = seen.clone();
    h.repos
        .credentials
        .expect_update()
        .returning(move |c, expected| {
            sink.lock().unwrap().push((c.clone(), expected));
            Ok(())
        });
    seen
}

fn expect_issue(h: &mut Harness) {
    h.tokens
        .expect_issue()
        .withf(|s| {
            *s == TokenSubject {
                user_ext_id: "jdoe".into(),
                client_ext_id: "c1".into(),
            }
        })
        .returning(|_| Ok(issued()));
}

fn no_hash_no_token(h: &mut Harness) {
    h.hasher.expect_verify().never();
    h.hasher.expect_verify_dummy().never();
    h.tokens.expect_issue().never();
}

// ---- rights ---------------------------------------------------------------------------------

const NO_SELF_ADMIN: &str =
    "Permission denied: Caller does not have the required right 'SelfAdmin' to perform this action";

#[test]
fn caller_without_self_admin_is_forbidden() {
    for caller in [root(), client_root(&["c1"]), user_admin(&["c1"]), nobody()] {
        let request = body(Some(&caller.login_id), Some(PW), Some("password"));
        assert_rejected_early(
            &caller,
            request,
            "errors.insufficientRightsFunction",
            NO_SELF_ADMIN,
        );
    }
}

#[test]
fn rights_are_checked_before_the_body() {
    for rejection in [
        BodyRejection::MalformedJson,
        BodyRejection::Missing,
        BodyRejection::InvalidField("username".into()),
    ] {
        let (result, uow) = issue(Harness::new(), &root(), Err(AppError::BadBody(rejection)));
        assert_err(result, "errors.insufficientRightsFunction", NO_SELF_ADMIN);
        assert!(uow.modes().is_empty());
    }
}

#[test]
fn bad_body_of_a_self_admin_is_returned_as_is() {
    for rejection in [
        BodyRejection::MalformedJson,
        BodyRejection::Missing,
        BodyRejection::TooLarge,
        BodyRejection::UnsupportedMediaType,
        BodyRejection::InvalidField("password".into()),
    ] {
        let error = AppError::BadBody(rejection);
        let (result, uow) = issue(Harness::new(), &me(), Err(error.clone()));
        assert_eq!(result, Err(error));
        assert!(uow.modes().is_empty());
    }
}

// ---- 422 checks, in order -------------------------------------------------------------------

#[test]
fn grant_type_missing_or_empty() {
    let message = "The grant_type should not be null or empty.";
    assert_invalid(body(Some("jdoe"), Some(PW), None), message);
    assert_invalid(body(Some("jdoe"), Some(PW), Some("")), message);
    // First in the order: wins over every later problem.
    assert_invalid(body(None, None, None), message);
    assert_invalid(body(Some("someone-else"), Some(""), Some("")), message);
}

#[test]
fn grant_type_other_than_password() {
    assert_invalid(
        body(Some("jdoe"), Some(PW), Some("client_credentials")),
        "Expected grant_type 'password' but found 'client_credentials'.",
    );
    assert_invalid(
        body(Some("jdoe"), Some(PW), Some("PASSWORD")),
        "Expected grant_type 'password' but found 'PASSWORD'.",
    );
    // Before the username and password checks.
    assert_invalid(
        body(None, None, Some("client_credentials")),
        "Expected grant_type 'password' but found 'client_credentials'.",
    );
}

#[test]
fn username_missing_or_empty() {
    let message = "The username should not be null or empty.";
    assert_invalid(body(None, Some(PW), Some("password")), message);
    assert_invalid(body(Some(""), Some(PW), Some("password")), message);
    assert_invalid(body(None, None, Some("password")), message);
}

#[test]
fn username_must_be_the_callers_login_id() {
    let message = "The username has to be the loginId of the user who is logged in.";
    assert_invalid(
        body(Some("someone-else"), Some(PW), Some("password")),
        message,
    );
    assert_invalid(body(Some("JDOE"), Some(PW), Some("password")), message);
    // Before the password check.
    assert_invalid(body(Some("someone-else"), None, Some("password")), message);
}

#[test]
fn password_missing_or_empty() {
    let message = "The password should not be null or empty.";
    assert_invalid(body(Some("jdoe"), None, Some("password")), message);
    assert_invalid(body(Some("jdoe"), Some(""), Some("password")), message);
}

#[test]
fn caller_without_password_credential() {
    let mut h = Harness::new();
    expect_read(&mut h, None);
    no_hash_no_token(&mut h);
    h.repos.credentials.expect_update().never();
    let (result, uow) = issue(h, &me(), Ok(valid()));
    assert_err(
        result,
        NOT_ACTIVE,
        "Failed to verify password. The user does not have a password credential.",
    );
    assert_eq!(uow.modes(), vec![TxMode::Read]);
}

#[test]
fn unusable_password_credential_is_not_active() {
    let running_lock = {
        let mut r = record();
        r.credential.state = CredentialState::TmpLocked;
        r.credential.failed_login_count = 2;
        r.credential.locked_until = Some(now() + Duration::seconds(30));
        r
    };
    let mut unusable = vec![running_lock];
    for state in [
        CredentialState::Disabled,
        CredentialState::FailLocked,
        CredentialState::ResetCode,
        CredentialState::Archived,
    ] {
        let mut r = record();
        r.credential.state = state;
        r.credential.failed_login_count = 3;
        unusable.push(r);
    }
    for found in unusable {
        let state = found.credential.state;
        let mut h = Harness::new();
        expect_read(&mut h, Some(found));
        no_hash_no_token(&mut h);
        h.repos.credentials.expect_update().never();
        let (result, uow) = issue(h, &me(), Ok(valid()));
        assert_err(
            result,
            NOT_ACTIVE,
            "Failed to verify password. The password credential is not active.",
        );
        assert_eq!(uow.modes(), vec![TxMode::Read], "{state:?}");
    }
}

#[test]
fn wrong_password_counts_a_failed_login() {
    let mut h = Harness::new();
    expect_read(&mut h, Some(record()));
    expect_verify(&mut h, false);
    expect_locked_reread(&mut h, record());
    expect_default_policy(&mut h);
    let updates = capture_updates(&mut h);
    h.tokens.expect_issue().never();
    let (result, uow) = issue(h, &me(), Ok(valid()));
    assert_err(result, INVALID, "Failed to verify password.");
    assert_eq!(uow.modes(), vec![TxMode::Read, TxMode::Write]);
    assert_eq!(uow.commits(), 2);
    let updates = updates.lock().unwrap();
    assert_eq!(updates.len(), 1);
    let (cred, expected) = &updates[0];
    assert_eq!(*expected, 4);
    assert_eq!(cred.id, "cred-jdoe");
    assert_eq!(cred.version, 5);
    assert_eq!(cred.failed_login_count, 1);
    assert_eq!(cred.last_failed_login, Some(now()));
    assert_eq!(cred.successful_login_count, 0);
    assert_eq!(cred.state, CredentialState::Active);
    assert_eq!(cred.locked_until, None);
}

#[test]
fn second_wrong_password_tmp_locks_at_the_default_threshold() {
    let mut before = record();
    before.credential.failed_login_count = 1;
    let mut h = Harness::new();
    expect_read(&mut h, Some(before.clone()));
    expect_verify(&mut h, false);
    expect_locked_reread(&mut h, before);
    expect_default_policy(&mut h);
    let updates = capture_updates(&mut h);
    h.tokens.expect_issue().never();
    let mut telemetry = MockTelemetry::new();
    telemetry
        .expect_password_verification()
        .withf(|v| *v == Verification::Failure)
        .times(1)
        .return_const(());
    telemetry
        .expect_lockout()
        .withf(|k| *k == LockKind::Temporary)
        .times(1)
        .return_const(());
    h.telemetry = Some(telemetry);
    let (result, uow) = issue(h, &me(), Ok(valid()));
    assert_err(result, INVALID, "Failed to verify password.");
    assert_eq!(uow.modes(), vec![TxMode::Read, TxMode::Write]);
    let updates = updates.lock().unwrap();
    assert_eq!(updates.len(), 1);
    let (cred, expected) = &updates[0];
    assert_eq!(*expected, 4);
    assert_eq!(cred.version, 5);
    assert_eq!(cred.failed_login_count, 2);
    assert_eq!(cred.last_failed_login, Some(now()));
    assert_eq!(cred.state, CredentialState::TmpLocked);
    assert_eq!(
        cred.state_change_reason,
        StateChangeReason::TooManyLoginFailures
    );
    assert_eq!(
        cred.locked_until,
        Some(now() + Duration::milliseconds(60_000))
    );
}

// ---- success --------------------------------------------------------------------------------

#[test]
fn success_issues_a_token_for_the_caller_and_writes_nothing() {
    let mut h = Harness::new();
    expect_read(&mut h, Some(record()));
    expect_verify(&mut h, true);
    expect_issue(&mut h);
    h.repos.credentials.expect_update().never();
    h.repos.policies.expect_find_by_id().never();
    let (result, uow) = issue(h, &me(), Ok(valid()));
    assert_eq!(result, Ok(issued()));
    assert!(only_reads(&uow), "modes: {:?}", uow.modes());
    assert_eq!(uow.modes(), vec![TxMode::Read]);
    assert_eq!(uow.rollbacks(), 0);
}

#[test]
fn success_clears_earlier_failures_with_one_write() {
    let mut before = record();
    before.credential.failed_login_count = 1;
    before.credential.last_failed_login = Some(earlier());
    let mut h = Harness::new();
    expect_read(&mut h, Some(before.clone()));
    expect_verify(&mut h, true);
    expect_locked_reread(&mut h, before);
    let updates = capture_updates(&mut h);
    expect_issue(&mut h);
    let (result, uow) = issue(h, &me(), Ok(valid()));
    assert_eq!(result, Ok(issued()));
    assert_eq!(uow.modes(), vec![TxMode::Read, TxMode::Write]);
    let updates = updates.lock().unwrap();
    assert_eq!(updates.len(), 1);
    let (cred, expected) = &updates[0];
    assert_eq!(*expected, 4);
    assert_eq!(cred.version, 5);
    assert_eq!(cred.failed_login_count, 0);
    assert_eq!(cred.successful_login_count, 1);
    assert_eq!(cred.last_successful_login, Some(now()));
    assert_eq!(cred.state, CredentialState::Active);
}

#[test]
fn success_lifts_an_expired_tmp_lock() {
    let mut before = record();
    before.credential.state = CredentialState::TmpLocked;
    before.credential.state_change_reason = StateChangeReason::TooManyLoginFailures;
    before.credential.failed_login_count = 2;
    before.credential.locked_until = Some(now() - Duration::seconds(1));
    let mut h = Harness::new();
    expect_read(&mut h, Some(before.clone()));
    expect_verify(&mut h, true);
    expect_locked_reread(&mut h, before);
    let updates = capture_updates(&mut h);
    expect_issue(&mut h);
    let (result, uow) = issue(h, &me(), Ok(valid()));
    assert_eq!(result, Ok(issued()));
    assert_eq!(uow.modes(), vec![TxMode::Read, TxMode::Write]);
    let updates = updates.lock().unwrap();
    assert_eq!(updates.len(), 1);
    let (cred, _) = &updates[0];
    assert_eq!(cred.state, CredentialState::Active);
    assert_eq!(cred.failed_login_count, 0);
    assert_eq!(cred.locked_until, None);
}

#[test]
fn success_on_a_credential_locked_meanwhile_issues_no_token() {
    // Verified against the first read, but a concurrent failure fail-locked the credential
    // before the locked re-read: it is no longer usable (SPEC §6.3 "not active").
    let mut before = record();
    before.credential.failed_login_count = 2;
    let mut locked = before.clone();
    locked.credential.state = CredentialState::FailLocked;
    locked.credential.failed_login_count = 3;
    locked.credential.version = 5;
    let mut h = Harness::new();
    expect_read(&mut h, Some(before));
    expect_verify(&mut h, true);
    expect_locked_reread(&mut h, locked);
    h.repos.credentials.expect_update().never();
    h.tokens.expect_issue().never();
    let (result, _uow) = issue(h, &me(), Ok(valid()));
    assert_err(
        result,
        NOT_ACTIVE,
        "Failed to verify password. The password credential is not active.",
    );
}

#[test]
fn issuer_failure_is_returned() {
    let mut h = Harness::new();
    expect_read(&mut h, Some(record()));
    expect_verify(&mut h, true);
    h.tokens
        .expect_issue()
        .returning(|_| Err(AppError::Internal("signing failed".into())));
    let (result, _uow) = issue(h, &me(), Ok(valid()));
    assert_eq!(result, Err(AppError::Internal("signing failed".into())));
}
