//! SPEC §6.3: the bearer token endpoint (`POST /principal/v1/token`), with the lockout
//! reservation of SPEC §10.2 and the epoch binding of SPEC §10.4.

use std::sync::Arc;

use chrono::Duration;
use idm_domain::credential::{CredentialState, StateChangeReason};
use idm_domain::policy::{Policy, PolicyType};
use idm_domain::user::User;

use super::support::*;
use crate::auth::{IssuedToken, TokenSubject};
use crate::caller::Caller;
use crate::error::{AppError, AppResult, BodyRejection};
use crate::history::Outcome;
use crate::repos::CredentialRecord;
use crate::telemetry::{LockKind, MockTelemetry, Verification};
use crate::testing::MockedUnitOfWork;
use crate::usecases::{TokenRequest, TokenService, TokenUseCases};

const PW: &str = "s3cret-pw";
const HASH: &str = "$argon2id$stored";
const TOKEN: &str = "header.claims.signature";
const INVALID: &str = "errors.invalidParameter";
const NOT_ACTIVE: &str = "errors.credentialNotActive";
const NOT_ACTIVE_MESSAGE: &str =
    "Failed to verify password. The password credential is not active.";

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
        token: TOKEN.into(),
        expires_in: 3600,
    }
}

fn record() -> CredentialRecord {
    password_record(&jdoe(), HASH)
}

/// The default PwdPolicy (tmp-lock at 2 failures for 60 s, fail-lock at 3) as `pol-pwd`.
fn pwd_policy() -> Policy {
    let mut p = policy(&acme(), "default-PwdPolicy", PolicyType::Pwd, true);
    p.id = "pol-pwd".into();
    p
}

/// The caller's password credential `stored` and its policy.
fn world(h: &mut Harness, stored: CredentialRecord) -> PasswordRow {
    expect_policies_by_id(&mut h.repos, vec![pwd_policy()]);
    stored_password(&mut h.repos, stored)
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
    assert_storage_untouched(&uow);
}

#[track_caller]
fn assert_invalid(request: TokenRequest, message: &str) {
    assert_rejected_early(&me(), request, INVALID, message);
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

/// The issuer signs a token for `c1/jdoe` bound to the credential's epoch `epoch`.
fn expect_issue(h: &mut Harness, epoch: i64) {
    h.tokens
        .expect_issue()
        .withf(move |s| {
            *s == TokenSubject {
                user_ext_id: "jdoe".into(),
                client_ext_id: "c1".into(),
                password_epoch: epoch,
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
        assert_storage_untouched(&uow);
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
        assert_storage_untouched(&uow);
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
    h.repos
        .credentials
        .expect_find_password_of_user()
        .withf(|u, _| u == "user-jdoe")
        .returning(|_, _| Ok(None));
    no_hash_no_token(&mut h);
    let (result, uow) = issue(h, &me(), Ok(valid()));
    assert_err(
        result,
        NOT_ACTIVE,
        "Failed to verify password. The user does not have a password credential.",
    );
    assert_no_events(&uow);
}

#[test]
fn unusable_password_credential_is_not_active_without_a_hash_check() {
    let running_lock = {
        let mut r = record();
        r.credential.state = CredentialState::TmpLocked;
        r.credential.state_change_reason = StateChangeReason::TooManyLoginFailures;
        r.credential.failed_login_count = 2;
        r.credential.locked_until = Some(now() + Duration::seconds(30));
        r
    };
    let expired = {
        let mut r = record();
        r.credential.validity_to = now();
        r
    };
    let mut unusable = vec![running_lock, expired];
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
        let row = world(&mut h, found.clone());
        no_hash_no_token(&mut h);
        let (result, uow) = issue(h, &me(), Ok(valid()));
        assert_err(result, NOT_ACTIVE, NOT_ACTIVE_MESSAGE);
        assert_eq!(row.get(), found, "{state:?}: nothing counted");
        assert!(
            !uow.actions().iter().any(|a| a == "token.issued"),
            "{state:?}"
        );
    }
}

#[test]
fn wrong_password_counts_a_failed_login() {
    let mut h = Harness::new();
    let row = world(&mut h, record());
    expect_verify(&mut h, false);
    h.tokens.expect_issue().never();
    let (result, uow) = issue(h, &me(), Ok(valid()));
    assert_err(result, INVALID, "Failed to verify password.");
    let cred = row.credential();
    assert_eq!(cred.id, "cred-jdoe");
    assert_eq!(cred.failed_login_count, 1);
    assert_eq!(cred.last_failed_login, Some(now()));
    assert_eq!(cred.successful_login_count, 0);
    assert_eq!(cred.state, CredentialState::Active);
    assert_eq!(cred.locked_until, None);
    assert_eq!(cred.epoch, EPOCH, "login bookkeeping does not end tokens");
    let failed = event(&uow, "login.failed");
    assert_eq!(failed.event.actor, actor_of(&me()));
    assert_eq!(failed.event.request_id.as_deref(), Some(REQUEST_ID));
    assert!(!uow.actions().iter().any(|a| a == "token.issued"));
    assert_history_free_of(&uow, &[PW, HASH]);
}

#[test]
fn second_wrong_password_tmp_locks_at_the_default_threshold() {
    let mut before = record();
    before.credential.failed_login_count = 1;
    let mut h = Harness::new();
    let row = world(&mut h, before);
    expect_verify(&mut h, false);
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
    let (result, _) = issue(h, &me(), Ok(valid()));
    assert_err(result, INVALID, "Failed to verify password.");
    let cred = row.credential();
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
fn success_issues_a_token_bound_to_the_password_epoch() {
    let mut h = Harness::new();
    let row = world(&mut h, record());
    expect_verify(&mut h, true);
    expect_issue(&mut h, EPOCH);
    let (result, uow) = issue(h, &me(), Ok(valid()));
    assert_eq!(result, Ok(issued()));
    let cred = row.credential();
    assert_eq!(
        (cred.failed_login_count, cred.state),
        (0, CredentialState::Active)
    );
    let e = event(&uow, "token.issued");
    assert_eq!(e.event.outcome, Outcome::Success);
    assert_eq!(e.event.actor, actor_of(&me()));
    assert_eq!(e.event.user_ext_id.as_deref(), Some("jdoe"));
    assert_no_events_with_outcome_failure(&uow);
    assert_history_free_of(&uow, &[PW, HASH, TOKEN]);
}

#[track_caller]
fn assert_no_events_with_outcome_failure(uow: &MockedUnitOfWork) {
    assert!(
        uow.events()
            .iter()
            .all(|e| e.event.outcome == Outcome::Success),
        "{:?}",
        uow.actions()
    );
}

#[test]
fn success_clears_earlier_failures() {
    let mut before = record();
    before.credential.failed_login_count = 1;
    before.credential.last_failed_login = Some(earlier());
    let mut h = Harness::new();
    let row = world(&mut h, before);
    expect_verify(&mut h, true);
    expect_issue(&mut h, EPOCH);
    let (result, _) = issue(h, &me(), Ok(valid()));
    assert_eq!(result, Ok(issued()));
    let cred = row.credential();
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
    let row = world(&mut h, before);
    expect_verify(&mut h, true);
    expect_issue(&mut h, EPOCH);
    let (result, _) = issue(h, &me(), Ok(valid()));
    assert_eq!(result, Ok(issued()));
    let cred = row.credential();
    assert_eq!(cred.state, CredentialState::Active);
    assert_eq!(cred.failed_login_count, 0);
    assert_eq!(cred.locked_until, None);
}

#[test]
fn success_on_a_credential_disabled_meanwhile_issues_no_token() {
    // Verified, but an admin disabled the credential while the hash was checked: it is no
    // longer usable (SPEC §6.3 "not active").
    let mut h = Harness::new();
    let row = world(&mut h, record());
    let concurrent = row.clone();
    h.hasher.expect_verify().returning(move |_, _, _| {
        concurrent.modify(|r| {
            r.credential.state = CredentialState::Disabled;
            r.credential.state_change_reason = StateChangeReason::ChangedByAdmin;
            r.credential.version += 1;
        });
        true
    });
    h.tokens.expect_issue().never();
    let (result, uow) = issue(h, &me(), Ok(valid()));
    assert_err(result, NOT_ACTIVE, NOT_ACTIVE_MESSAGE);
    assert_eq!(row.credential().state, CredentialState::Disabled);
    assert!(!uow.actions().iter().any(|a| a == "token.issued"));
}

#[test]
fn issuer_failure_is_returned_and_no_issue_is_recorded() {
    let mut h = Harness::new();
    world(&mut h, record());
    expect_verify(&mut h, true);
    h.tokens
        .expect_issue()
        .returning(|_| Err(AppError::Internal("signing failed".into())));
    let (result, uow) = issue(h, &me(), Ok(valid()));
    assert_eq!(result, Err(AppError::Internal("signing failed".into())));
    assert!(!uow.actions().iter().any(|a| a == "token.issued"));
}

#[test]
fn exhausted_hashing_capacity_is_busy_and_counts_as_no_attempt() {
    let mut h = Harness::new();
    h.busy = true;
    let row = world(&mut h, record());
    no_hash_no_token(&mut h);
    let (result, uow) = issue(h, &me(), Ok(valid()));
    assert_eq!(result, Err(AppError::Busy));
    assert_eq!(row.get(), record());
    assert_no_events(&uow);
}
