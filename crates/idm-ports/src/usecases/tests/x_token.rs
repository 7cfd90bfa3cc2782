//! SPEC §3.3–§3.5 and §10.4: a self-admin write needs an X-Token, and an X-Token is valid
//! only while the password it was issued against is unchanged (the credential's epoch).

use std::collections::BTreeMap;

use idm_domain::credential::CredentialState;
use idm_domain::policy::{Policy, PolicyParameters, PolicyType};
use idm_domain::user::User;

use super::support::*;
use crate::error::AppResult;
use crate::repos::CredentialRecord;
use crate::testing::MockedUnitOfWork;
use crate::usecases::{
    CreateOath, OathService, OathUseCases, PasswordService, PasswordUseCases, PatchPassword, Ports,
};

const TOKEN: &str = "issued-at-epoch-3";
const INVALID_JWT: &str = "errors.invalidJWTToken";

fn u1() -> User {
    user(&acme(), "u1", "jdoe")
}

fn me() -> crate::caller::Caller {
    self_admin("c1", "u1")
}

fn pwd_policy() -> Policy {
    let mut p = policy(&acme(), "default-PwdPolicy", PolicyType::Pwd, true);
    p.id = "pol-pwd".into();
    p.parameters = PolicyParameters::validated(PolicyType::Pwd, BTreeMap::new()).unwrap();
    p
}

fn oath_policy() -> Policy {
    policy(&acme(), "default-OathPolicy", PolicyType::Oath, true)
}

/// u1 of c1 with its password credential at `epoch`; the issuer accepts [`TOKEN`] only for a
/// subject naming u1 of c1 at epoch [`EPOCH`] (as if it had been issued then).
fn world(epoch: i64) -> (Harness, PasswordRow) {
    let mut h = Harness::new();
    expect_acme(&mut h.repos);
    expect_user(&mut h.repos, u1());
    expect_policies_by_id(&mut h.repos, vec![pwd_policy()]);
    let mut record: CredentialRecord = password_record(&u1(), "$argon2id$stored");
    record.credential.epoch = epoch;
    let row = stored_password(&mut h.repos, record);
    h.tokens.expect_validate().returning(|t, s| {
        t == TOKEN && s.user_ext_id == "u1" && s.client_ext_id == "c1" && s.password_epoch == EPOCH
    });
    // What a write that gets through needs.
    h.secrets
        .expect_password()
        .returning(|_, n| "Abcdefgh2345".chars().take(n).collect());
    h.hasher
        .expect_hash()
        .returning(|_, _| Ok("$argon2id$new".into()));
    h.repos
        .policies
        .expect_find_default()
        .returning(|_, _| Ok(Some(oath_policy())));
    h.repos
        .credentials
        .expect_find_by_ext_id()
        .returning(|_, _| Ok(None));
    h.secrets.expect_bytes().returning(|n| vec![1; n]);
    h.cipher.expect_seal().returning(|_, _| Ok("sealed".into()));
    h.repos.credentials.expect_insert().returning(|_| Ok(()));
    (h, row)
}

fn self_reset(ports: Ports, token: Option<&str>) -> AppResult<()> {
    PasswordUseCases::new(ports)
        .reset_password(&me(), "c1", "u1", token.map(str::to_owned))
        .map(drop)
}

fn self_create_oath(ports: Ports, token: Option<&str>) -> AppResult<()> {
    OathUseCases::new(ports)
        .create_oath(
            &me(),
            "c1",
            "u1",
            token.map(str::to_owned),
            Ok(CreateOath {
                label: Some("phone".into()),
                ..CreateOath::default()
            }),
        )
        .map(drop)
}

#[track_caller]
fn assert_refused(result: AppResult<()>, uow: &MockedUnitOfWork) {
    assert_err(result, INVALID_JWT, "Invalid JWT token.");
    assert_no_events(uow);
}

#[test]
fn a_token_of_the_current_epoch_is_accepted() {
    let (h, row) = world(EPOCH);
    let (ports, uow) = h.build();
    assert_eq!(self_reset(ports, Some(TOKEN)), Ok(()));
    assert_eq!(uow.actions(), ["password.reset"]);
    assert_eq!(row.credential().epoch, EPOCH + 1);
    assert_history_free_of(&uow, &[TOKEN]);

    let (h, _) = world(EPOCH);
    let (ports, uow) = h.build();
    assert_eq!(self_create_oath(ports, Some(TOKEN)), Ok(()));
    assert_eq!(uow.actions(), ["credential.created"]);
}

#[test]
fn a_token_of_an_earlier_epoch_is_refused() {
    let (h, row) = world(EPOCH + 1);
    let (ports, uow) = h.build();
    assert_refused(self_reset(ports, Some(TOKEN)), &uow);
    assert_eq!(row.credential().epoch, EPOCH + 1, "nothing written");

    let (h, _) = world(EPOCH + 1);
    let (ports, uow) = h.build();
    assert_refused(self_create_oath(ports, Some(TOKEN)), &uow);
}

#[test]
fn a_missing_token_is_refused() {
    let (h, _) = world(EPOCH);
    let (ports, uow) = h.build();
    assert_refused(self_reset(ports, None), &uow);
}

#[test]
fn a_reset_ends_the_token_it_was_made_with() {
    // One storage, two requests with the same token: the first reset moves the epoch, so the
    // second is refused (SPEC §10.4 "after a reset … tokens issued before it are refused").
    let (h, row) = world(EPOCH);
    let (ports, uow) = h.build();
    assert_eq!(self_reset(ports.clone(), Some(TOKEN)), Ok(()));
    let after_first = row.get();
    assert_refused_after(self_reset(ports.clone(), Some(TOKEN)), &uow, 1);
    assert_refused_after(self_create_oath(ports, Some(TOKEN)), &uow, 1);
    assert_eq!(row.get(), after_first, "the refused reset wrote nothing");
}

/// Refused with 422, and the history still holds only the `events` committed before.
#[track_caller]
fn assert_refused_after(result: AppResult<()>, uow: &MockedUnitOfWork, events: usize) {
    assert_err(result, INVALID_JWT, "Invalid JWT token.");
    assert_eq!(uow.events().len(), events, "{:?}", uow.actions());
}

#[test]
fn an_admin_unlock_ends_older_tokens_but_a_comment_does_not() {
    // A comment-only PATCH keeps the epoch: the token still works.
    let (h, _) = world(EPOCH);
    let (ports, _) = h.build();
    PasswordUseCases::new(ports.clone())
        .patch_password(
            &root(),
            "c1",
            "u1",
            Ok(PatchPassword {
                modification_comment: Some("checked".into()),
                ..PatchPassword::default()
            }),
        )
        .unwrap();
    assert_eq!(self_create_oath(ports, Some(TOKEN)), Ok(()));

    // An unlock (a state change) moves it: the token is refused.
    let (h, row) = world(EPOCH);
    row.modify(|r| r.credential.state = CredentialState::FailLocked);
    let (ports, uow) = h.build();
    PasswordUseCases::new(ports.clone())
        .patch_password(
            &root(),
            "c1",
            "u1",
            Ok(PatchPassword {
                state_name: Some("active".into()),
                ..PatchPassword::default()
            }),
        )
        .unwrap();
    assert_eq!(uow.actions(), ["credential.unlocked"]);
    assert_refused_after(self_create_oath(ports, Some(TOKEN)), &uow, 1);
}

#[test]
fn a_self_admin_without_a_password_credential_has_no_valid_token() {
    let mut h = Harness::new();
    expect_acme(&mut h.repos);
    expect_user(&mut h.repos, u1());
    h.repos
        .credentials
        .expect_find_password_of_user()
        .returning(|_, _| Ok(None));
    h.tokens.expect_validate().never();
    let (ports, uow) = h.build();
    assert_refused(self_create_oath(ports, Some(TOKEN)), &uow);
}

#[test]
fn an_admin_through_rights_needs_no_token() {
    let (mut h, _) = world(EPOCH + 7);
    h.tokens.checkpoint();
    h.tokens.expect_validate().never();
    let (ports, uow) = h.build();
    assert!(PasswordUseCases::new(ports)
        .reset_password(&root(), "c1", "u1", None)
        .is_ok());
    assert_eq!(uow.actions(), ["password.reset"]);
}
