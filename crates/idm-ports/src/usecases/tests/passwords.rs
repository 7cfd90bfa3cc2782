//! SPEC §6.1 (password reset), §8.5 (password credential) and §8.7 (delivery outbox).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use idm_domain::access::Right;
use idm_domain::credential::{Credential, CredentialSecret, CredentialState, StateChangeReason};
use idm_domain::delivery::{Delivery, DeliveryKind};
use idm_domain::policy::{Policy, PolicyParameters, PolicyType};
use idm_domain::user::User;
use idm_domain::DomainError;

use super::support::*;
use crate::error::{AppError, StoreError, UniqueKey};
use crate::repos::CredentialRecord;
use crate::testing::{MockRepos, MockedUnitOfWork};
use crate::usecases::{
    CreatePassword, OutboxService, PasswordService, PasswordUseCases, PatchPassword,
};

const CHARSET: &str = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
/// What the mocked CSPRNG draws (16 characters).
const DRAWN: &str = "Abcdefgh23456789";
/// What the mocked hasher makes of any password; it never contains the password.
const NEW_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA";
const OLD_HASH: &str = "$argon2id$old";
const SEALED: &str = "bm9uY2U=~c2VhbGVk";

type Shared<T> = Arc<Mutex<Vec<T>>>;

fn shared<T>() -> Shared<T> {
    Arc::new(Mutex::new(Vec::new()))
}

fn taken<T: Clone>(s: &Shared<T>) -> Vec<T> {
    s.lock().unwrap().clone()
}

fn use_cases(h: Harness) -> (PasswordUseCases, Arc<MockedUnitOfWork>) {
    let (ports, uow) = h.build();
    (PasswordUseCases::new(ports), uow)
}

fn u1() -> User {
    user(&acme(), "u1", "jdoe")
}

/// The PwdPolicy `default-PwdPolicy` (storage ID `pol-pwd`, as in [`password_record`]).
fn pwd_policy(pairs: &[(&str, &str)]) -> Policy {
    let given: BTreeMap<String, String> = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let mut p = policy(&acme(), "default-PwdPolicy", PolicyType::Pwd, true);
    p.id = "pol-pwd".into();
    p.parameters = PolicyParameters::validated(PolicyType::Pwd, given).unwrap();
    p
}

fn record(state: CredentialState) -> CredentialRecord {
    let mut r = password_record(&u1(), OLD_HASH);
    r.credential.state = state;
    r
}

/// Client, user (holding no role), its password credential `found` (stateful, see
/// [`PasswordRow`]) and the credential's policy are found.
fn expect_credential(
    repos: &mut MockRepos,
    found: CredentialRecord,
    policy: Policy,
) -> PasswordRow {
    expect_acme(repos);
    expect_user(repos, u1());
    expect_policies_by_id(repos, vec![policy]);
    stored_password(repos, found)
}

/// The CSPRNG draws [`DRAWN`] for `length` characters of the default charset, and the hasher
/// turns exactly that into [`NEW_HASH`].
fn expect_generation(h: &mut Harness, length: usize) {
    h.secrets
        .expect_password()
        .withf(move |cs, len| cs == CHARSET && *len == length)
        .returning(|_, len| DRAWN.chars().take(len).collect());
    h.hasher.expect_hash().returning(|_, p| {
        assert_eq!(p, &DRAWN[..p.len()]);
        Ok(NEW_HASH.to_owned())
    });
}

/// The cipher seals exactly `plain`; answers the rows each seal was bound to (SPEC §10.4).
fn expect_seal(h: &mut Harness, plain: &'static str) -> Shared<String> {
    let bound = shared();
    let b = bound.clone();
    h.cipher
        .expect_seal()
        .withf(move |bytes, _| bytes == plain.as_bytes())
        .returning(move |_, bound_to| {
            b.lock().unwrap().push(bound_to.to_owned());
            Ok(SEALED.to_owned())
        });
    bound
}

/// Nothing of a new password exists anywhere in the committed history.
#[track_caller]
fn assert_no_secret_in_history(uow: &MockedUnitOfWork) {
    assert_history_free_of(
        uow,
        &[
            DRAWN,
            &DRAWN[..6],
            &DRAWN[6..],
            NEW_HASH,
            OLD_HASH,
            SEALED,
            "correct horse",
        ],
    );
}

fn capture_enqueues(repos: &mut MockRepos) -> Shared<Delivery> {
    let queued = shared();
    let q = queued.clone();
    repos.deliveries.expect_enqueue().returning(move |d| {
        q.lock().unwrap().push(d.clone());
        Ok(())
    });
    queued
}

fn hash_of(c: &Credential) -> &str {
    match &c.secret {
        CredentialSecret::Password { hash } => hash,
        other => panic!("not a password: {other:?}"),
    }
}

// ---- reset (SPEC §6.1) ----------------------------------------------------------------------

const SIXTEEN: [(&str, &str); 2] = [("generatedLength", "16"), ("fragmentLength", "6")];

#[test]
fn reset_by_helpdesk_stores_the_hash_and_queues_the_rest() {
    let mut h = Harness::new();
    let mut before = record(CredentialState::FailLocked);
    before.credential.failed_login_count = 3;
    before.credential.reset_count = 1;
    before.credential.locked_until = Some(now());
    let row = expect_credential(&mut h.repos, before, pwd_policy(&SIXTEEN));
    expect_generation(&mut h, 16);
    let bound = expect_seal(&mut h, "gh23456789");
    let queued = capture_enqueues(&mut h.repos);
    let (uc, uow) = use_cases(h);

    let issued = uc
        .reset_password(&helpdesk(&["c1"]), "c1", "u1", None)
        .unwrap();

    assert_eq!(issued.fragment.as_deref(), Some("Abcdef"));
    assert!(issued.generated);
    let stored = row.credential();
    assert_eq!(hash_of(&stored), NEW_HASH);
    assert!(!format!("{stored:?}").contains(DRAWN));
    assert_eq!(stored.state, CredentialState::Initial);
    assert_eq!(stored.state_change_reason, StateChangeReason::ResetByAdmin);
    assert_eq!(
        (
            stored.reset_count,
            stored.failed_login_count,
            stored.version
        ),
        (2, 0, 5)
    );
    assert_eq!(stored.locked_until, None);
    assert_eq!(stored.last_modified, now());
    assert_eq!(stored.epoch, EPOCH + 1, "older X-Tokens end (SPEC §10.4)");
    assert_eq!(issued.record.credential, stored);

    let queued = taken(&queued);
    assert_eq!(queued.len(), 1);
    let d = &queued[0];
    assert_eq!(d.sealed_payload, SEALED);
    assert_eq!(d.kind, DeliveryKind::PasswordRemainder);
    assert_eq!(
        (
            d.user_id.as_str(),
            d.credential_id.as_str(),
            d.client_id.as_str()
        ),
        ("user-u1", "cred-u1", "client-c1")
    );
    assert_eq!(d.created, now());
    assert_eq!(
        taken(&bound),
        std::slice::from_ref(&d.id),
        "sealed for the delivery's own row"
    );

    assert_eq!(uow.actions(), ["password.reset"]);
    let e = event(&uow, "password.reset");
    assert_eq!(e.event.actor, actor_of(&helpdesk(&["c1"])));
    assert_eq!(e.event.request_id.as_deref(), Some(REQUEST_ID));
    assert_eq!(
        (
            e.event.client_ext_id.as_deref(),
            e.event.user_ext_id.as_deref(),
            e.event.credential_ext_id.as_deref()
        ),
        (Some("c1"), Some("u1"), Some("pwd-u1"))
    );
    assert_eq!(
        e.event.changes["stateName"],
        serde_json::json!(["fail-locked", "initial"])
    );
    assert_eq!(e.event.changes["resetCount"], serde_json::json!([1, 2]));
    assert_no_secret_in_history(&uow);
}

#[test]
fn reset_uses_the_policy_defaults_for_length_and_charset() {
    let mut h = Harness::new();
    expect_credential(
        &mut h.repos,
        record(CredentialState::Active),
        pwd_policy(&[]),
    );
    expect_generation(&mut h, 12);
    // The default fragmentLength (12) equals generatedLength: nothing is left to deliver.
    h.repos.deliveries.expect_enqueue().never();
    h.cipher.expect_seal().never();
    let (uc, _) = use_cases(h);
    let issued = uc.reset_password(&root(), "c1", "u1", None).unwrap();
    assert_eq!(issued.fragment.as_deref(), Some(&DRAWN[..12]));
}

#[test]
fn reset_with_fragment_length_zero_queues_the_whole_password() {
    let mut h = Harness::new();
    expect_credential(
        &mut h.repos,
        record(CredentialState::Active),
        pwd_policy(&[("generatedLength", "16"), ("fragmentLength", "0")]),
    );
    expect_generation(&mut h, 16);
    expect_seal(&mut h, DRAWN);
    let queued = capture_enqueues(&mut h.repos);
    let (uc, uow) = use_cases(h);
    let issued = uc.reset_password(&root(), "c1", "u1", None).unwrap();
    assert_eq!(issued.fragment, None);
    assert_eq!(taken(&queued).len(), 1);
    assert_eq!(uow.actions(), ["password.reset"]);
    assert_no_secret_in_history(&uow);
}

#[test]
fn reset_rolls_back_when_the_outbox_is_unavailable() {
    let mut h = Harness::new();
    expect_credential(
        &mut h.repos,
        record(CredentialState::Active),
        pwd_policy(&SIXTEEN),
    );
    expect_generation(&mut h, 16);
    expect_seal(&mut h, "gh23456789");
    h.repos
        .deliveries
        .expect_enqueue()
        .returning(|_| Err(StoreError::Unavailable));
    let (uc, uow) = use_cases(h);
    assert_eq!(
        uc.reset_password(&root(), "c1", "u1", None),
        Err(AppError::Unavailable)
    );
    // The reset's event went with its transaction (SPEC §13).
    assert_no_events(&uow);
}

#[test]
fn reset_outside_the_data_room_is_denied_before_any_lookup() {
    let (uc, uow) = use_cases(Harness::new());
    assert_err(
        uc.reset_password(&user_admin(&["c2"]), "c1", "u1", None),
        "errors.combinedDataroomDenied",
        "Permission denied: AccessControl.CredentialView",
    );
    assert_storage_untouched(&uow);
}

#[test]
fn reset_without_rights_names_credential_view() {
    let (uc, uow) = use_cases(Harness::new());
    assert_err(
        uc.reset_password(&nobody(), "c1", "u1", None),
        "errors.insufficientRightsFunction",
        "Permission denied: Caller does not have the required right 'AccessControl.CredentialView' to perform this action",
    );
    assert_storage_untouched(&uow);
}

#[test]
fn reset_of_an_unknown_user_is_404() {
    let mut h = Harness::new();
    expect_acme(&mut h.repos);
    h.repos
        .users
        .expect_find_by_ext_id()
        .returning(|_, _| Ok(None));
    h.secrets.expect_password().never();
    let (uc, uow) = use_cases(h);
    assert_err(
        uc.reset_password(&root(), "c1", "u1", None),
        "errors.noRecord",
        "A user with extId 'u1' doesn't exist on client with name Acme",
    );
    assert_no_events(&uow);
}

#[test]
fn reset_without_a_password_credential_is_404() {
    let mut h = Harness::new();
    expect_acme(&mut h.repos);
    expect_user(&mut h.repos, u1());
    h.repos
        .credentials
        .expect_find_password_of_user()
        .returning(|_, _| Ok(None));
    h.secrets.expect_password().never();
    let (uc, uow) = use_cases(h);
    assert_err(
        uc.reset_password(&root(), "c1", "u1", None),
        "errors.noRecord",
        "User with extId u1 has no Password credential",
    );
    assert_no_events(&uow);
}

/// Every check of the table fails for the credential; the first in SPEC order must win. No
/// password is drawn or hashed for a refused reset (SPEC §10.3: refusals come first), and
/// nothing is written.
fn reset_refused(state: CredentialState, resets: i64, pairs: &[(&str, &str)]) -> AppError {
    let mut h = Harness::new();
    let mut r = record(state);
    r.credential.reset_count = resets;
    let row = expect_credential(&mut h.repos, r.clone(), pwd_policy(pairs));
    h.secrets.expect_password().never();
    h.hasher.expect_hash().never();
    h.repos.deliveries.expect_enqueue().never();
    let (uc, uow) = use_cases(h);
    let err = uc.reset_password(&root(), "c1", "u1", None).unwrap_err();
    assert_eq!(row.get(), r, "nothing written");
    assert_no_events(&uow);
    err
}

#[test]
fn reset_refused_by_policy_comes_first() {
    assert_err::<()>(
        Err(reset_refused(
            CredentialState::Disabled,
            3,
            &[("resetCodeEnabled", "false")],
        )),
        "errors.noRecord",
        "Password cannot be changed due to policy restrictions",
    );
}

#[test]
fn reset_of_a_disabled_or_archived_credential_is_422() {
    for state in [CredentialState::Disabled, CredentialState::Archived] {
        assert_err::<()>(
            Err(reset_refused(state, 3, &[])),
            "errors.credentialNotActive",
            &format!(
                "The Password credential of user with extId u1 is {} and cannot be reset",
                state.as_str()
            ),
        );
    }
}

#[test]
fn reset_past_max_reset_count_is_403() {
    let err = reset_refused(CredentialState::FailLocked, 3, &[]);
    assert_err::<()>(
        Err(err),
        "errors.maxResetCount",
        "The maxResetCount (3) defined in the policy is exceeded.",
    );
}

#[test]
fn reset_count_below_the_maximum_or_unlimited_is_allowed() {
    for (resets, pairs) in [
        (2, vec![("maxResetCount", "3")]),
        (50, vec![("maxResetCount", "-1")]),
    ] {
        let mut h = Harness::new();
        let mut r = record(CredentialState::Active);
        r.credential.reset_count = resets;
        let row = expect_credential(&mut h.repos, r, pwd_policy(&pairs));
        expect_generation(&mut h, 12);
        let (uc, _) = use_cases(h);
        assert!(uc.reset_password(&root(), "c1", "u1", None).is_ok());
        assert_eq!(row.credential().reset_count, resets + 1);
    }
}

/// The issuer accepts `token` for u1 of c1 bound to the current password epoch ([`EPOCH`]) iff
/// `valid`.
fn expect_token(h: &mut Harness, token: &'static str, valid: bool) {
    h.tokens
        .expect_validate()
        .withf(move |t, s| {
            t == token
                && s.user_ext_id == "u1"
                && s.client_ext_id == "c1"
                && s.password_epoch == EPOCH
        })
        .return_const(valid);
}

/// A self reset refused with 422 before any reset rule: nothing drawn, hashed or written.
fn self_reset_rejected(mut h: Harness, token: Option<&str>) {
    h.secrets.expect_password().never();
    h.hasher.expect_hash().never();
    let (uc, uow) = use_cases(h);
    assert_err(
        uc.reset_password(
            &self_admin("c1", "u1"),
            "c1",
            "u1",
            token.map(str::to_owned),
        ),
        "errors.invalidJWTToken",
        "Invalid JWT token.",
    );
    assert_no_events(&uow);
}

/// A credential every reset rule refuses: the X-Token check must come first (SPEC §3.4 step 5).
fn unresettable() -> (CredentialRecord, Policy) {
    (
        record(CredentialState::Disabled),
        pwd_policy(&[("resetCodeEnabled", "false")]),
    )
}

#[test]
fn self_reset_without_x_token_is_422_before_the_reset_rules() {
    let mut h = Harness::new();
    let (r, p) = unresettable();
    expect_credential(&mut h.repos, r, p);
    h.tokens.expect_validate().never();
    self_reset_rejected(h, None);
}

#[test]
fn self_reset_with_a_rejected_x_token_is_422() {
    let mut h = Harness::new();
    let (r, p) = unresettable();
    expect_credential(&mut h.repos, r, p);
    expect_token(&mut h, "forged", false);
    self_reset_rejected(h, Some("forged"));
}

#[test]
fn self_reset_with_a_valid_x_token_has_reason_reset() {
    let mut h = Harness::new();
    expect_token(&mut h, "good", true);
    let row = expect_credential(
        &mut h.repos,
        record(CredentialState::Active),
        pwd_policy(&[]),
    );
    expect_generation(&mut h, 12);
    let (uc, uow) = use_cases(h);
    let issued = uc
        .reset_password(&self_admin("c1", "u1"), "c1", "u1", Some("good".into()))
        .unwrap();
    assert_eq!(
        issued.record.credential.state_change_reason,
        StateChangeReason::Reset
    );
    assert_eq!(
        row.credential().state_change_reason,
        StateChangeReason::Reset
    );
    let e = event(&uow, "password.reset");
    assert_eq!(e.event.actor, actor_of(&self_admin("c1", "u1")));
    assert_history_free_of(&uow, &["good"]);
}

#[test]
fn self_admin_cannot_reset_another_user() {
    let (uc, uow) = use_cases(Harness::new());
    assert_eq!(
        domain_err(uc.reset_password(&self_admin("c1", "u2"), "c1", "u1", Some("t".into()))),
        DomainError::MissingRight(Right::CredentialView)
    );
    assert_storage_untouched(&uow);
}

// ---- create (SPEC §8.5) ---------------------------------------------------------------------

fn create_cmd(password: Option<&str>) -> CreatePassword {
    CreatePassword {
        ext_id: Some("pw1".into()),
        password: password.map(str::to_owned),
        ..CreatePassword::default()
    }
}

/// Client and user found; the user has no password yet (unless `existing`).
fn expect_create_lookups(repos: &mut MockRepos, existing: Option<CredentialRecord>) {
    expect_acme(repos);
    expect_user(repos, u1());
    repos
        .credentials
        .expect_find_password_of_user()
        .withf(|u, _| u == "user-u1")
        .returning(move |_, _| Ok(existing.clone()));
}

fn expect_free_ext_id(repos: &mut MockRepos) {
    repos
        .credentials
        .expect_find_by_ext_id()
        .withf(|c, e| c == "client-c1" && e == "pw1")
        .returning(|_, _| Ok(None));
}

fn expect_default_policy(repos: &mut MockRepos, policy: Policy) {
    repos
        .policies
        .expect_find_default()
        .withf(|c, t| c == "client-c1" && *t == PolicyType::Pwd)
        .returning(move |_, _| Ok(Some(policy.clone())));
}

/// A create refused by a check: nothing is hashed (refusals come before the bounded hashing,
/// SPEC §10.3), inserted or recorded.
fn create_fails(h: Harness, cmd: CreatePassword, code: &str, message: &str) {
    let mut h = h;
    h.hasher.expect_hash().never();
    h.repos.credentials.expect_insert().never();
    h.repos.deliveries.expect_enqueue().never();
    let (uc, uow) = use_cases(h);
    assert_err(
        uc.create_password(&root(), "c1", "u1", Ok(cmd)),
        code,
        message,
    );
    assert_no_events(&uow);
}

#[test]
fn create_needs_credential_create_and_change_state() {
    let (uc, uow) = use_cases(Harness::new());
    assert_eq!(
        domain_err(uc.create_password(&helpdesk(&["c1"]), "c1", "u1", Ok(create_cmd(None)))),
        DomainError::MissingRight(Right::CredentialCreate)
    );
    assert_eq!(
        domain_err(uc.create_password(&self_admin("c1", "u1"), "c1", "u1", Ok(create_cmd(None)))),
        DomainError::MissingRight(Right::CredentialCreate)
    );
    assert_err(
        uc.create_password(&user_admin(&["c2"]), "c1", "u1", Ok(create_cmd(None))),
        "errors.combinedDataroomDenied",
        "Permission denied: AccessControl.CredentialCreate",
    );
    assert_storage_untouched(&uow);
}

#[test]
fn a_second_password_is_rejected() {
    let mut h = Harness::new();
    expect_create_lookups(&mut h.repos, Some(record(CredentialState::Active)));
    create_fails(
        h,
        create_cmd(None),
        "errors.passwordExists",
        "User with extId u1 already has a Password credential",
    );
}

#[test]
fn a_taken_credential_ext_id_is_rejected() {
    let mut h = Harness::new();
    expect_create_lookups(&mut h.repos, None);
    h.repos
        .credentials
        .expect_find_by_ext_id()
        .returning(|_, _| Ok(Some(record(CredentialState::Active))));
    create_fails(
        h,
        create_cmd(None),
        "errors.duplicateName",
        "A credential with this extId 'pw1' already exists",
    );
}

#[test]
fn a_bad_state_name_is_rejected() {
    let mut h = Harness::new();
    expect_create_lookups(&mut h.repos, None);
    expect_free_ext_id(&mut h.repos);
    let cmd = CreatePassword {
        state_name: Some("x".into()),
        ..create_cmd(None)
    };
    create_fails(
        h,
        cmd,
        "errors.invalidParameter",
        "Invalid CredentialState name 'x'",
    );
}

#[test]
fn an_unknown_policy_is_rejected() {
    let mut h = Harness::new();
    expect_create_lookups(&mut h.repos, None);
    expect_free_ext_id(&mut h.repos);
    h.repos
        .policies
        .expect_find_by_ext_id()
        .withf(|c, e| c == "client-c1" && e == "p9")
        .returning(|_, _| Ok(None));
    let cmd = CreatePassword {
        policy_ext_id: Some("p9".into()),
        ..create_cmd(None)
    };
    create_fails(
        h,
        cmd,
        "errors.invalidParameter",
        "PolicyConfiguration doesn't exist with extId 'p9'",
    );
}

#[test]
fn a_policy_of_another_type_is_rejected() {
    let mut h = Harness::new();
    expect_create_lookups(&mut h.repos, None);
    expect_free_ext_id(&mut h.repos);
    h.repos
        .policies
        .expect_find_by_ext_id()
        .returning(|_, _| Ok(Some(policy(&acme(), "p1", PolicyType::Oath, false))));
    let cmd = CreatePassword {
        policy_ext_id: Some("p1".into()),
        ..create_cmd(None)
    };
    create_fails(
        h,
        cmd,
        "errors.invalidParameter",
        "Policy Configuration p1 is not of type PwdPolicy",
    );
}

#[test]
fn a_missing_default_policy_is_reported() {
    let mut h = Harness::new();
    expect_create_lookups(&mut h.repos, None);
    expect_free_ext_id(&mut h.repos);
    h.repos
        .policies
        .expect_find_default()
        .returning(|_, _| Ok(None));
    create_fails(
        h,
        create_cmd(None),
        "errors.invalidParameter",
        "Default Policy Configuration does not exist for type PwdPolicy!",
    );
}

#[test]
fn a_password_is_refused_when_the_policy_generates_one() {
    let mut h = Harness::new();
    expect_create_lookups(&mut h.repos, None);
    expect_free_ext_id(&mut h.repos);
    expect_default_policy(&mut h.repos, pwd_policy(&[]));
    h.hasher.expect_hash().never();
    let e = {
        let mut h = h;
        h.repos.credentials.expect_insert().never();
        let (uc, _) = use_cases(h);
        domain_err(uc.create_password(&root(), "c1", "u1", Ok(create_cmd(Some("secret123")))))
    };
    assert_eq!(e.code(), "errors.invalidParameter");
    assert_eq!(e, DomainError::PasswordNotAllowed);
}

#[test]
fn a_generated_password_is_split_and_queued_after_the_insert() {
    let mut h = Harness::new();
    expect_create_lookups(&mut h.repos, None);
    expect_free_ext_id(&mut h.repos);
    expect_default_policy(&mut h.repos, pwd_policy(&SIXTEEN));
    expect_generation(&mut h, 16);
    let bound = expect_seal(&mut h, "gh23456789");
    // The outbox row references the credential: the insert must come first.
    let log = CallLog::default();
    let inserted = shared();
    let (ins, l) = (inserted.clone(), log.clone());
    h.repos.credentials.expect_insert().returning(move |c| {
        ins.lock().unwrap().push(c.clone());
        l.push("insert credential");
        Ok(())
    });
    let queued = shared();
    let (q, l) = (queued.clone(), log.clone());
    h.repos
        .deliveries
        .expect_enqueue()
        .returning(move |d: &Delivery| {
            q.lock().unwrap().push(d.clone());
            l.push("enqueue delivery");
            Ok(())
        });
    let (uc, uow) = use_cases(h);

    let issued = uc
        .create_password(&user_admin(&["c1"]), "c1", "u1", Ok(create_cmd(None)))
        .unwrap();

    assert!(issued.generated);
    assert_eq!(issued.fragment.as_deref(), Some("Abcdef"));
    let inserted: Vec<Credential> = taken(&inserted);
    let c = &inserted[0];
    assert_eq!(hash_of(c), NEW_HASH);
    assert_eq!(c.ext_id.as_str(), "pw1");
    assert_eq!(c.state, CredentialState::Active);
    assert_eq!(c.state_change_reason, StateChangeReason::Initialized);
    assert_eq!((c.version, c.reset_count), (1, 0));
    assert_eq!(c.policy_id, "pol-pwd");
    let queued: Vec<Delivery> = taken(&queued);
    assert_eq!(queued[0].credential_id, c.id);
    assert_eq!(queued[0].sealed_payload, SEALED);
    assert_eq!(issued.record.policy_ext_id.as_str(), "default-PwdPolicy");
    assert_eq!(
        issued.record.user_ext_id.as_ref().map(|e| e.as_str()),
        Some("u1")
    );
    assert_eq!(log.get(), ["insert credential", "enqueue delivery"]);
    assert_eq!(taken(&bound), [queued[0].id.clone()]);
    assert_eq!(uow.actions(), ["credential.created"]);
    let e = event(&uow, "credential.created");
    assert_eq!(e.event.actor, actor_of(&user_admin(&["c1"])));
    assert_eq!(e.event.credential_ext_id.as_deref(), Some("pw1"));
    assert_eq!(
        e.event.changes["type"],
        serde_json::json!([null, "Password"])
    );
    assert_no_secret_in_history(&uow);
}

const SUPPLIED: [(&str, &str); 1] = [("resetCodeEnabled", "false")];

#[test]
fn a_supplied_password_is_mandatory_without_generation() {
    for password in [None, Some("")] {
        let mut h = Harness::new();
        expect_create_lookups(&mut h.repos, None);
        expect_free_ext_id(&mut h.repos);
        expect_default_policy(&mut h.repos, pwd_policy(&SUPPLIED));
        create_fails(
            h,
            create_cmd(password),
            "errors.nullParameter",
            "The 'password' parameter is mandatory.",
        );
    }
}

#[test]
fn a_too_short_password_violates_the_policy() {
    let mut h = Harness::new();
    expect_create_lookups(&mut h.repos, None);
    expect_free_ext_id(&mut h.repos);
    expect_default_policy(&mut h.repos, pwd_policy(&SUPPLIED));
    h.hasher.expect_hash().never();
    h.repos.credentials.expect_insert().never();
    let (uc, _) = use_cases(h);
    let e = domain_err(uc.create_password(&root(), "c1", "u1", Ok(create_cmd(Some("short")))));
    assert_eq!(e.code(), "errors.pwdPolicyViolated");
    let v = e.policy_violations();
    assert_eq!(v.len(), 1);
    assert_eq!(v[0].config_string, "minLength");
    assert_eq!(
        (v[0].limit_value.as_str(), v[0].actual_value.as_str()),
        ("8", "5")
    );
}

#[test]
fn a_supplied_password_is_hashed_and_not_queued() {
    let mut h = Harness::new();
    expect_create_lookups(&mut h.repos, None);
    expect_free_ext_id(&mut h.repos);
    expect_default_policy(&mut h.repos, pwd_policy(&SUPPLIED));
    h.secrets.expect_password().never();
    h.hasher
        .expect_hash()
        .withf(|_, p| p == "correct horse")
        .returning(|_, _| Ok(NEW_HASH.to_owned()));
    let inserted = shared();
    let ins = inserted.clone();
    h.repos.credentials.expect_insert().returning(move |c| {
        ins.lock().unwrap().push(c.clone());
        Ok(())
    });
    h.repos.deliveries.expect_enqueue().never();
    h.cipher.expect_seal().never();
    let (uc, uow) = use_cases(h);
    let issued = uc
        .create_password(&root(), "c1", "u1", Ok(create_cmd(Some("correct horse"))))
        .unwrap();
    assert!(!issued.generated);
    assert_eq!(issued.fragment, None);
    let inserted: Vec<Credential> = taken(&inserted);
    assert_eq!(hash_of(&inserted[0]), NEW_HASH);
    assert_eq!(inserted[0].state, CredentialState::Active);
    assert!(!format!("{:?}", inserted[0]).contains("correct horse"));
    assert_eq!(uow.actions(), ["credential.created"]);
    assert_no_secret_in_history(&uow);
}

#[test]
fn an_explicit_state_name_is_kept() {
    let mut h = Harness::new();
    expect_create_lookups(&mut h.repos, None);
    expect_free_ext_id(&mut h.repos);
    expect_default_policy(&mut h.repos, pwd_policy(&SUPPLIED));
    h.hasher
        .expect_hash()
        .returning(|_, _| Ok(NEW_HASH.to_owned()));
    h.repos.credentials.expect_insert().returning(|_| Ok(()));
    let (uc, _) = use_cases(h);
    let cmd = CreatePassword {
        state_name: Some("initial".into()),
        ..create_cmd(Some("correct horse"))
    };
    let issued = uc.create_password(&root(), "c1", "u1", Ok(cmd)).unwrap();
    assert_eq!(issued.record.credential.state, CredentialState::Initial);
}

#[test]
fn a_lost_race_for_the_users_password_is_password_exists() {
    let mut h = Harness::new();
    expect_create_lookups(&mut h.repos, None);
    expect_free_ext_id(&mut h.repos);
    expect_default_policy(&mut h.repos, pwd_policy(&SIXTEEN));
    expect_generation(&mut h, 16);
    h.repos
        .credentials
        .expect_insert()
        .returning(|_| Err(StoreError::Unique(UniqueKey::UserPassword)));
    h.repos.deliveries.expect_enqueue().never();
    h.cipher.expect_seal().never();
    let (uc, uow) = use_cases(h);
    assert_err(
        uc.create_password(&root(), "c1", "u1", Ok(create_cmd(None))),
        "errors.passwordExists",
        "User with extId u1 already has a Password credential",
    );
    assert_no_events(&uow);
}

#[test]
fn a_lost_race_for_the_ext_id_is_duplicate_name() {
    let mut h = Harness::new();
    expect_create_lookups(&mut h.repos, None);
    expect_free_ext_id(&mut h.repos);
    expect_default_policy(&mut h.repos, pwd_policy(&SUPPLIED));
    h.hasher
        .expect_hash()
        .returning(|_, _| Ok(NEW_HASH.to_owned()));
    h.repos
        .credentials
        .expect_insert()
        .returning(|_| Err(StoreError::Unique(UniqueKey::CredentialExtId)));
    let (uc, uow) = use_cases(h);
    assert_err(
        uc.create_password(&root(), "c1", "u1", Ok(create_cmd(Some("correct horse")))),
        "errors.duplicateName",
        "A credential with this extId 'pw1' already exists",
    );
    assert_no_events(&uow);
}

// ---- get ------------------------------------------------------------------------------------

#[test]
fn get_without_a_password_is_404() {
    let mut h = Harness::new();
    expect_acme(&mut h.repos);
    expect_user(&mut h.repos, u1());
    h.repos
        .credentials
        .expect_find_password_of_user()
        .withf(|u, _| u == "user-u1")
        .returning(|_, _| Ok(None));
    let (uc, _) = use_cases(h);
    assert_err(
        uc.get_password(&helpdesk(&["c1"]), "c1", "u1"),
        "errors.noRecord",
        "User with extId u1 has no Password credential",
    );
}

#[test]
fn self_admin_reads_its_own_password_without_a_token() {
    let mut h = Harness::new();
    expect_acme(&mut h.repos);
    expect_user(&mut h.repos, u1());
    h.repos
        .credentials
        .expect_find_password_of_user()
        .returning(|_, _| Ok(Some(record(CredentialState::Active))));
    h.tokens.expect_validate().never();
    let (uc, uow) = use_cases(h);
    let r = uc
        .get_password(&self_admin("c1", "u1"), "c1", "u1")
        .unwrap();
    assert_eq!(r, record(CredentialState::Active));
    assert_no_events(&uow);
}

#[test]
fn self_admin_cannot_read_another_users_password() {
    let (uc, _) = use_cases(Harness::new());
    assert_eq!(
        domain_err(uc.get_password(&self_admin("c1", "u2"), "c1", "u1")),
        DomainError::MissingRight(Right::CredentialView)
    );
}

// ---- patch ----------------------------------------------------------------------------------

fn patch_cmd(state: Option<&str>, version: Option<i64>) -> PatchPassword {
    PatchPassword {
        state_name: state.map(str::to_owned),
        modification_comment: None,
        version,
    }
}

/// Client, user (holding no role) and its password credential `found` (stateful).
fn expect_password(repos: &mut MockRepos, found: CredentialRecord) -> PasswordRow {
    expect_acme(repos);
    expect_user(repos, u1());
    stored_password(repos, found)
}

#[test]
fn patch_with_a_stale_version_is_409_without_update() {
    let mut h = Harness::new();
    let row = expect_password(&mut h.repos, record(CredentialState::Active));
    let (uc, uow) = use_cases(h);
    assert_err(
        uc.patch_password(
            &root(),
            "c1",
            "u1",
            Ok(patch_cmd(Some("disabled"), Some(3))),
        ),
        "errors.optimisticLockingFailure",
        "The entity was modified concurrently; reload it and retry.",
    );
    assert_eq!(row.get(), record(CredentialState::Active));
    assert_no_events(&uow);
}

#[test]
fn patch_to_active_unlocks_a_fail_locked_password() {
    let mut h = Harness::new();
    let mut r = record(CredentialState::FailLocked);
    r.credential.failed_login_count = 3;
    r.credential.state_change_reason = StateChangeReason::TooManyLoginFailures;
    let row = expect_password(&mut h.repos, r);
    let (uc, uow) = use_cases(h);
    let out = uc
        .patch_password(
            &helpdesk(&["c1"]),
            "c1",
            "u1",
            Ok(patch_cmd(Some("active"), Some(4))),
        )
        .unwrap();
    let stored = row.credential();
    assert_eq!(stored.state, CredentialState::Active);
    assert_eq!(stored.state_change_reason, StateChangeReason::Unlock);
    assert_eq!((stored.failed_login_count, stored.version), (0, 5));
    assert_eq!(stored.epoch, EPOCH + 1, "an unlock ends older X-Tokens");
    assert_eq!(out.credential, stored);
    let e = event(&uow, "credential.unlocked");
    assert_eq!(e.event.actor, actor_of(&helpdesk(&["c1"])));
    assert_eq!(e.event.credential_ext_id.as_deref(), Some("pwd-u1"));
    assert_eq!(
        e.event.changes["stateName"],
        serde_json::json!(["fail-locked", "active"])
    );
    assert_history_free_of(&uow, &[OLD_HASH]);
}

#[test]
fn patch_to_disabled_is_changed_by_admin() {
    let mut h = Harness::new();
    let row = expect_password(&mut h.repos, record(CredentialState::Active));
    let (uc, uow) = use_cases(h);
    let cmd = PatchPassword {
        modification_comment: Some("left the company".into()),
        ..patch_cmd(Some("disabled"), None)
    };
    uc.patch_password(&root(), "c1", "u1", Ok(cmd)).unwrap();
    let stored = row.credential();
    assert_eq!(stored.state, CredentialState::Disabled);
    assert_eq!(
        stored.state_change_reason,
        StateChangeReason::ChangedByAdmin
    );
    assert_eq!(
        stored.modification_comment.as_deref(),
        Some("left the company")
    );
    assert_eq!(
        stored.epoch,
        EPOCH + 1,
        "a state change ends older X-Tokens"
    );
    assert_eq!(uow.actions(), ["credential.updated"]);
}

#[test]
fn a_comment_only_patch_keeps_the_token_epoch() {
    // SPEC §10.4: a comment-only PATCH does not end X-Tokens.
    let mut h = Harness::new();
    let row = expect_password(&mut h.repos, record(CredentialState::Active));
    let (uc, uow) = use_cases(h);
    let cmd = PatchPassword {
        modification_comment: Some("called the user".into()),
        ..patch_cmd(None, Some(4))
    };
    uc.patch_password(&root(), "c1", "u1", Ok(cmd)).unwrap();
    let stored = row.credential();
    assert_eq!(stored.epoch, EPOCH);
    assert_eq!(stored.state, CredentialState::Active);
    assert_eq!(
        stored.modification_comment.as_deref(),
        Some("called the user")
    );
    assert_eq!(
        event(&uow, "credential.updated").event.changes["modificationComment"],
        serde_json::json!([null, "called the user"])
    );
}

#[test]
fn patch_needs_credential_view_and_modify() {
    let (uc, uow) = use_cases(Harness::new());
    let cmd = || Ok(patch_cmd(Some("disabled"), None));
    assert_eq!(
        domain_err(uc.patch_password(&nobody(), "c1", "u1", cmd())),
        DomainError::MissingRight(Right::CredentialView)
    );
    assert_eq!(
        domain_err(uc.patch_password(&self_admin("c1", "u1"), "c1", "u1", cmd())),
        DomainError::MissingRight(Right::CredentialView)
    );
    assert_err(
        uc.patch_password(&helpdesk(&["c2"]), "c1", "u1", cmd()),
        "errors.combinedDataroomDenied",
        "Permission denied: AccessControl.CredentialView",
    );
    assert_storage_untouched(&uow);
}

// ---- outbox (SPEC §8.7) ---------------------------------------------------------------------

fn delivery(id: &str) -> Delivery {
    Delivery {
        id: id.into(),
        client_id: "client-c1".into(),
        user_id: "user-u1".into(),
        credential_id: "cred-u1".into(),
        kind: DeliveryKind::PasswordRemainder,
        sealed_payload: format!("sealed-{id}"),
        created: earlier(),
    }
}

fn expect_pending(h: &mut Harness) {
    h.repos
        .deliveries
        .expect_pending()
        .withf(|l| *l == 10)
        .returning(|_| Ok(vec![delivery("d1"), delivery("d2")]));
}

#[test]
fn pending_deliveries_stay_sealed_unless_revealed() {
    let mut h = Harness::new();
    expect_pending(&mut h);
    h.cipher.expect_open().never();
    h.cipher.expect_open_unbound().never();
    let (uc, uow) = use_cases(h);
    let pending = uc.pending_deliveries(10, false).unwrap();
    assert_eq!(pending.len(), 2);
    assert!(pending.iter().all(|p| p.payload.is_none()));
    assert_eq!(pending[0].delivery, delivery("d1"));
    assert_no_events(&uow);
}

#[test]
fn revealed_deliveries_are_opened_bound_to_their_own_rows() {
    let mut h = Harness::new();
    expect_pending(&mut h);
    h.cipher
        .expect_open()
        .returning(|s, bound_to| Ok(format!("plain-of-{s}-in-{bound_to}").into_bytes()));
    let (uc, _) = use_cases(h);
    let pending = uc.pending_deliveries(10, true).unwrap();
    let payloads: Vec<_> = pending.iter().map(|p| p.payload.as_deref()).collect();
    assert_eq!(
        payloads,
        vec![
            Some("plain-of-sealed-d1-in-d1"),
            Some("plain-of-sealed-d2-in-d2")
        ]
    );
}

#[test]
fn a_payload_sealed_for_another_row_does_not_open() {
    let mut h = Harness::new();
    expect_pending(&mut h);
    // d2's payload was copied from another row: it opens only bound to that row.
    h.cipher.expect_open().returning(|s, bound_to| {
        if s == format!("sealed-{bound_to}") && bound_to == "d1" {
            Ok(b"rest".to_vec())
        } else {
            Err(AppError::Internal("tag mismatch".into()))
        }
    });
    h.cipher.expect_open_unbound().never();
    let (uc, _) = use_cases(h);
    assert_eq!(
        uc.pending_deliveries(10, true),
        Err(AppError::Internal("tag mismatch".into()))
    );
}

#[test]
fn a_password_without_a_requested_ext_id_gets_a_generated_one() {
    let mut h = Harness::new();
    expect_create_lookups(&mut h.repos, None);
    h.repos
        .credentials
        .expect_find_by_ext_id()
        .returning(|_, _| Ok(None));
    expect_default_policy(&mut h.repos, pwd_policy(&SUPPLIED));
    h.hasher
        .expect_hash()
        .returning(|_, _| Ok(NEW_HASH.to_owned()));
    h.repos.credentials.expect_insert().returning(|_| Ok(()));
    let (uc, uow) = use_cases(h);
    let cmd = CreatePassword {
        ext_id: None,
        ..create_cmd(Some("correct horse"))
    };
    let issued = uc.create_password(&root(), "c1", "u1", Ok(cmd)).unwrap();
    assert!(idm_domain::ExtId::is_valid(
        issued.record.credential.ext_id.as_str()
    ));
    assert_eq!(uow.actions(), ["credential.created"]);
}
