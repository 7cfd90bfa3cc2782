//! SPEC §13: every change appends its event in the same transaction as the change, so a write
//! that fails leaves no event; events name who acted on what, never a secret; and the events
//! form a gapless hash chain.

use std::collections::BTreeMap;
use std::hash::{Hash, Hasher};

use idm_domain::access::{Role, RoleGrant};
use idm_domain::credential::CredentialState;
use idm_domain::policy::{Policy, PolicyParameters, PolicyType};
use idm_domain::user::User;

use super::support::*;
use crate::error::{AppError, StoreError, UniqueKey};
use crate::history::{canonical, Outcome};
use crate::testing::MockedUnitOfWork;
use crate::usecases::{
    CreateUser, GrantRole, PasswordService, PasswordUseCases, PatchPassword, RoleService,
    RoleUseCases, UserService, UserUseCases, VascoService, VascoUseCases,
};

const OLD_HASH: &str = "$argon2id$old";
const NEW_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$bmV3";
/// The generated password: its first 6 characters go to the caller, the rest to the outbox.
const DRAWN: &str = "Kq7Zt9Wm4Xp2Rv8N";
const SEALED: &str = "bm9uY2U=~cmVzdA";

fn u1() -> User {
    user(&acme(), "u1", "jdoe")
}

/// Every event names `caller` as actor, carries its request ID and targets `c1`/`u1`.
#[track_caller]
fn assert_acted_on_u1(uow: &MockedUnitOfWork, caller: &crate::caller::Caller) {
    for e in uow.events() {
        assert_eq!(e.event.actor, actor_of(caller), "{}", e.event.action);
        assert_eq!(e.event.request_id.as_deref(), Some(REQUEST_ID));
        assert_eq!(e.event.client_ext_id.as_deref(), Some("c1"));
        assert_eq!(e.event.user_ext_id.as_deref(), Some("u1"));
        assert_eq!(e.event.outcome, Outcome::Success);
        assert_eq!(e.event.time, now());
    }
}

// ---- create user ------------------------------------------------------------------------------

fn create_user(
    insert: Result<(), StoreError>,
) -> (
    crate::error::AppResult<()>,
    std::sync::Arc<MockedUnitOfWork>,
) {
    let mut h = Harness::new();
    expect_acme(&mut h.repos);
    h.repos
        .users
        .expect_find_by_login_id()
        .returning(|_, _| Ok(None));
    h.repos
        .users
        .expect_find_by_ext_id()
        .returning(|_, _| Ok(None));
    h.repos
        .users
        .expect_insert()
        .returning(move |_| insert.clone());
    let (ports, uow) = h.build();
    let cmd = CreateUser {
        ext_id: Some("u1".into()),
        login_id: Some("jdoe".into()),
        ..CreateUser::default()
    };
    let result = UserUseCases::new(ports)
        .create_user(&user_admin(&["c1"]), "c1", Ok(cmd))
        .map(drop);
    (result, uow)
}

#[test]
fn a_user_create_that_loses_the_unique_race_leaves_no_event() {
    let (result, uow) = create_user(Err(StoreError::Unique(UniqueKey::UserLoginId)));
    assert_err(
        result,
        "errors.duplicateValue",
        "A user with loginId 'jdoe' already exists on client with name Acme",
    );
    assert_no_events(&uow);
}

#[test]
fn a_user_create_is_recorded_with_actor_and_target() {
    let (result, uow) = create_user(Ok(()));
    assert_eq!(result, Ok(()));
    assert_eq!(uow.actions(), ["user.created"]);
    assert_acted_on_u1(&uow, &user_admin(&["c1"]));
    let e = event(&uow, "user.created");
    assert_eq!(
        e.event.changes["loginId"],
        serde_json::json!([null, "jdoe"])
    );
    assert_eq!(
        e.event.changes["userState"],
        serde_json::json!([null, "active"])
    );
}

// ---- reset password ---------------------------------------------------------------------------

fn pwd_policy() -> Policy {
    let mut p = policy(&acme(), "default-PwdPolicy", PolicyType::Pwd, true);
    p.id = "pol-pwd".into();
    let given: BTreeMap<String, String> = [("generatedLength", "16"), ("fragmentLength", "6")]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    p.parameters = PolicyParameters::validated(PolicyType::Pwd, given).unwrap();
    p
}

fn reset_password(
    enqueue: Result<(), StoreError>,
) -> (
    crate::error::AppResult<Option<String>>,
    std::sync::Arc<MockedUnitOfWork>,
) {
    let mut h = Harness::new();
    expect_acme(&mut h.repos);
    expect_user(&mut h.repos, u1());
    expect_policies_by_id(&mut h.repos, vec![pwd_policy()]);
    let mut record = password_record(&u1(), OLD_HASH);
    record.credential.state = CredentialState::FailLocked;
    stored_password(&mut h.repos, record);
    h.secrets.expect_password().returning(|_, _| DRAWN.into());
    h.hasher.expect_hash().returning(|_, _| Ok(NEW_HASH.into()));
    h.cipher.expect_seal().returning(|_, _| Ok(SEALED.into()));
    h.repos
        .deliveries
        .expect_enqueue()
        .returning(move |_| enqueue.clone());
    let (ports, uow) = h.build();
    let result = PasswordUseCases::new(ports)
        .reset_password(&helpdesk(&["c1"]), "c1", "u1", None)
        .map(|issued| issued.fragment);
    (result, uow)
}

#[test]
fn a_reset_whose_outbox_enqueue_fails_leaves_no_event() {
    let (result, uow) = reset_password(Err(StoreError::Unavailable));
    assert_eq!(result, Err(AppError::Unavailable));
    assert_no_events(&uow);
}

#[test]
fn a_reset_is_recorded_without_the_password_its_hash_or_its_fragment() {
    let (result, uow) = reset_password(Ok(()));
    let fragment = result.unwrap().expect("a fragment");
    assert_eq!(fragment, &DRAWN[..6]);
    assert_eq!(uow.actions(), ["password.reset"]);
    assert_acted_on_u1(&uow, &helpdesk(&["c1"]));
    let e = event(&uow, "password.reset");
    assert_eq!(e.event.credential_ext_id.as_deref(), Some("pwd-u1"));
    assert_eq!(
        e.event.changes["stateChangeReason"],
        serde_json::json!(["initialized", "reset-by-admin"])
    );
    assert_history_free_of(
        &uow,
        &[DRAWN, &DRAWN[..6], &DRAWN[6..], NEW_HASH, OLD_HASH, SEALED],
    );
}

// ---- grant role -------------------------------------------------------------------------------

fn grant_helpdesk(
    upsert: Result<(), StoreError>,
) -> (
    crate::error::AppResult<()>,
    std::sync::Arc<MockedUnitOfWork>,
) {
    let mut h = Harness::new();
    expect_acme(&mut h.repos);
    expect_user(&mut h.repos, u1());
    h.repos
        .roles
        .expect_upsert_grant()
        .returning(move |_, _, _| upsert.clone());
    let (ports, uow) = h.build();
    let result = RoleUseCases::new(ports)
        .grant_role(
            &client_root(&["c1"]),
            "c1",
            "u1",
            Ok(GrantRole {
                role: Some("Helpdesk".into()),
                client_ext_ids: Some(vec!["c1".into()]),
            }),
        )
        .map(drop);
    (result, uow)
}

#[test]
fn a_grant_whose_upsert_fails_leaves_no_event() {
    for (error, wanted) in [
        (StoreError::Unavailable, AppError::Unavailable),
        (
            StoreError::Other("constraint".into()),
            AppError::Internal("constraint".into()),
        ),
    ] {
        let (result, uow) = grant_helpdesk(Err(error));
        assert_eq!(result, Err(wanted));
        assert_no_events(&uow);
    }
}

#[test]
fn a_grant_is_recorded_with_the_role_and_its_data_room() {
    let (result, uow) = grant_helpdesk(Ok(()));
    assert_eq!(result, Ok(()));
    assert_eq!(uow.actions(), ["role.granted"]);
    assert_acted_on_u1(&uow, &client_root(&["c1"]));
    assert_eq!(
        event(&uow, "role.granted").event.changes["role"],
        serde_json::json!([null, {"role": "Helpdesk", "clientExtIds": ["c1"]}])
    );
}

// ---- unlock and VASCO assign ------------------------------------------------------------------

#[test]
fn an_unlock_is_recorded_as_credential_unlocked() {
    let mut h = Harness::new();
    expect_acme(&mut h.repos);
    expect_user(&mut h.repos, u1());
    let mut record = password_record(&u1(), OLD_HASH);
    record.credential.state = CredentialState::TmpLocked;
    record.credential.failed_login_count = 2;
    stored_password(&mut h.repos, record);
    let (ports, uow) = h.build();
    PasswordUseCases::new(ports)
        .patch_password(
            &helpdesk(&["c1"]),
            "c1",
            "u1",
            Ok(PatchPassword {
                state_name: Some("active".into()),
                ..PatchPassword::default()
            }),
        )
        .unwrap();
    assert_eq!(uow.actions(), ["credential.unlocked"]);
    assert_acted_on_u1(&uow, &helpdesk(&["c1"]));
    let e = event(&uow, "credential.unlocked");
    assert_eq!(
        e.event.changes["failedLoginCount"],
        serde_json::json!([2, 0])
    );
    assert_eq!(
        e.event.changes["stateName"],
        serde_json::json!(["tmp-locked", "active"])
    );
    assert_history_free_of(&uow, &[OLD_HASH]);
}

#[test]
fn a_vasco_assignment_is_recorded_and_a_lost_compare_and_set_is_not() {
    for (update, ok) in [(Ok(()), true), (Err(StoreError::Conflict), false)] {
        let mut h = Harness::new();
        expect_acme(&mut h.repos);
        expect_user(&mut h.repos, u1());
        let mut spare = password_record(&u1(), "unused");
        spare.credential.id = "cred-v1".into();
        spare.credential.ext_id = ext("v1");
        spare.credential.user_id = None;
        spare.credential.secret = idm_domain::credential::CredentialSecret::Vasco {
            tokens: vec![idm_domain::credential::VascoToken {
                auth_mode: "CR".into(),
                data: "c2VjcmV0LWJsb2Nr".into(),
            }],
        };
        let found = move |_: &str, _: &str| Ok(Some(spare.clone()));
        h.repos
            .credentials
            .expect_find_by_ext_id_for_update()
            .returning(found.clone());
        h.repos.credentials.expect_find_by_ext_id().returning(found);
        h.repos
            .credentials
            .expect_update()
            .returning(move |_, _| update.clone());
        let (ports, uow) = h.build();
        let result = VascoUseCases::new(ports).assign_vasco(&helpdesk(&["c1"]), "c1", "u1", "v1");
        assert_eq!(result.is_ok(), ok);
        if ok {
            assert_eq!(uow.actions(), ["vasco.assigned"]);
            assert_acted_on_u1(&uow, &helpdesk(&["c1"]));
            assert_eq!(
                event(&uow, "vasco.assigned")
                    .event
                    .credential_ext_id
                    .as_deref(),
                Some("v1")
            );
            assert_history_free_of(&uow, &["c2VjcmV0LWJsb2Nr"]);
        } else {
            assert_no_events(&uow);
        }
    }
}

// ---- the chain --------------------------------------------------------------------------------

/// The chain hash [`deterministic_mac`] computes.
fn mac(prev: &str, canonical: &str) -> String {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    (prev, canonical).hash(&mut h);
    format!("mac-{:016x}", h.finish())
}

#[test]
fn events_form_a_gapless_chain_across_commits_and_rollbacks() {
    // One storage, three requests: a grant, a grant that fails, another grant.
    let mut h = Harness::new();
    expect_acme(&mut h.repos);
    expect_user(&mut h.repos, u1());
    let calls = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let c = calls.clone();
    h.repos
        .roles
        .expect_upsert_grant()
        .returning(move |_, _, _| {
            if c.fetch_add(1, std::sync::atomic::Ordering::SeqCst) == 1 {
                Err(StoreError::Unavailable)
            } else {
                Ok(())
            }
        });
    let (ports, uow) = h.build();
    let uc = RoleUseCases::new(ports);
    let grant = |role: &str| {
        uc.grant_role(
            &root(),
            "c1",
            "u1",
            Ok(GrantRole {
                role: Some(role.into()),
                client_ext_ids: None,
            }),
        )
    };
    assert_eq!(
        grant("SelfAdmin"),
        Ok(RoleGrant::new(
            Role::SelfAdmin,
            idm_domain::access::DataRoom::Global
        ))
    );
    assert_eq!(grant("Helpdesk"), Err(AppError::Unavailable));
    assert!(grant("UserAdmin").is_ok());

    let events = uow.events();
    assert_eq!(events.iter().map(|e| e.seq).collect::<Vec<_>>(), [1, 2]);
    let mut prev = String::new();
    for e in &events {
        assert_eq!(
            e.hash,
            mac(&prev, &canonical(e.seq, &e.event)),
            "seq {}",
            e.seq
        );
        prev = e.hash.clone();
    }
    let roles: Vec<_> = events
        .iter()
        .map(|e| e.event.changes["role"][1]["role"].clone())
        .collect();
    assert_eq!(
        roles,
        [
            serde_json::json!("SelfAdmin"),
            serde_json::json!("UserAdmin")
        ]
    );
}
