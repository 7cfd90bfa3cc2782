//! SPEC §10.1 at use-case level: privileged targets (every write whose path names a user) and
//! the last active Root.
//!
//! Each operation runs against one world: client `c1` and its user `u1` holding some grants,
//! with a password, an OATH credential `o1` and a spare VASCO credential `v1`. A refused world
//! has no write expectation at all (any write panics) and must leave no history event.

use std::collections::BTreeMap;

use idm_domain::access::{DataRoom, Role, RoleGrant};
use idm_domain::credential::{CredentialSecret, CredentialState, OathDetails, VascoToken};
use idm_domain::policy::{Policy, PolicyParameters, PolicyType};
use idm_domain::user::User;
use idm_domain::DomainError;

use super::support::*;
use crate::caller::Caller;
use crate::error::AppResult;
use crate::repos::CredentialRecord;
use crate::testing::MockRepos;
use crate::usecases::{
    CreateOath, CredentialLoginReport, GrantRole, LoginInfoService, LoginInfoUseCases, LoginReport,
    OathService, OathUseCases, PasswordService, PasswordUseCases, PatchPassword, Ports,
    RoleService, RoleUseCases, VascoService, VascoUseCases,
};

const PRIVILEGED: &str = "Permission denied: the target user holds rights beyond the caller's own";
const HASH: &str = "$argon2id$stored";
const DRAWN: &str = "Abcdefgh2345";
const NEW_HASH: &str = "$argon2id$new";
const SEALED: &str = "bm9uY2U=~c2VhbGVk";

fn u1() -> User {
    user(&acme(), "u1", "jdoe")
}

// ---- the operations of SPEC §10.1 "change a user" ---------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    ResetPassword,
    PatchPassword,
    CreateOath,
    DeleteOath,
    AssignVasco,
    BulkLoginInfo,
    GrantRole,
    RevokeRole,
}

const OPS: [Op; 8] = [
    Op::ResetPassword,
    Op::PatchPassword,
    Op::CreateOath,
    Op::DeleteOath,
    Op::AssignVasco,
    Op::BulkLoginInfo,
    Op::GrantRole,
    Op::RevokeRole,
];

/// The admin roles of the matrix, all of client `c1` (named as the SPEC names the roles).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(clippy::enum_variant_names)]
enum Admin {
    Helpdesk,
    UserAdmin,
    ClientRoot,
}

impl Admin {
    fn caller(self) -> Caller {
        match self {
            Admin::Helpdesk => helpdesk(&["c1"]),
            Admin::UserAdmin => user_admin(&["c1"]),
            Admin::ClientRoot => client_root(&["c1"]),
        }
    }

    /// Whether the role holds the rights of `op` (SPEC §3.2, §6, §8): otherwise §3.4 step 2
    /// refuses before the target is even looked up.
    fn may_call(self, op: Op) -> bool {
        match op {
            Op::ResetPassword | Op::PatchPassword | Op::AssignVasco | Op::BulkLoginInfo => true,
            Op::CreateOath | Op::DeleteOath => self != Admin::Helpdesk,
            Op::GrantRole | Op::RevokeRole => self == Admin::ClientRoot,
        }
    }
}

fn run(
    op: Op,
    ports: Ports,
    caller: &Caller,
    revoke: &str,
    x_token: Option<&str>,
) -> AppResult<()> {
    let x_token = x_token.map(str::to_owned);
    match op {
        Op::ResetPassword => PasswordUseCases::new(ports)
            .reset_password(caller, "c1", "u1", x_token)
            .map(drop),
        Op::PatchPassword => PasswordUseCases::new(ports)
            .patch_password(
                caller,
                "c1",
                "u1",
                Ok(PatchPassword {
                    state_name: Some("disabled".into()),
                    ..PatchPassword::default()
                }),
            )
            .map(drop),
        Op::CreateOath => OathUseCases::new(ports)
            .create_oath(
                caller,
                "c1",
                "u1",
                x_token,
                Ok(CreateOath {
                    ext_id: Some("o-new".into()),
                    label: Some("phone".into()),
                    ..CreateOath::default()
                }),
            )
            .map(drop),
        Op::DeleteOath => OathUseCases::new(ports).delete_oath(caller, "c1", "u1", "o1", x_token),
        Op::AssignVasco => VascoUseCases::new(ports)
            .assign_vasco(caller, "c1", "u1", "v1")
            .map(drop),
        Op::BulkLoginInfo => LoginInfoUseCases::new(ports)
            .bulk_login_info(
                caller,
                "c1",
                "u1",
                Ok(LoginReport {
                    user_login_successful: Some(false),
                    credentials: Some(vec![CredentialLoginReport {
                        success: Some(false),
                        credential_ext_id: Some("pwd-u1".into()),
                    }]),
                }),
            )
            .map(drop),
        Op::GrantRole => RoleUseCases::new(ports)
            .grant_role(
                caller,
                "c1",
                "u1",
                Ok(GrantRole {
                    role: Some("SelfAdmin".into()),
                    client_ext_ids: None,
                }),
            )
            .map(drop),
        Op::RevokeRole => RoleUseCases::new(ports).revoke_role(caller, "c1", "u1", revoke),
    }
}

// ---- the world --------------------------------------------------------------------------------

fn oath_record() -> CredentialRecord {
    let mut r = password_record(&u1(), "unused");
    r.credential.id = "cred-o1".into();
    r.credential.ext_id = ext("o1");
    r.credential.policy_id = "pol-oath".into();
    r.credential.secret = CredentialSecret::Oath(OathDetails {
        issuer: "nevisIDM".into(),
        authentication_method: "TOTP".into(),
        hashing_algorithm: "SHA1".into(),
        digits: 6,
        period: 30,
        counter: 0,
        encrypted_secret: SEALED.into(),
        label: "phone".into(),
    });
    r.policy_ext_id = ext("default-OathPolicy");
    r
}

fn vasco_record() -> CredentialRecord {
    let mut r = password_record(&u1(), "unused");
    r.credential.id = "cred-v1".into();
    r.credential.ext_id = ext("v1");
    r.credential.user_id = None;
    r.credential.policy_id = "pol-vasco".into();
    r.credential.state = CredentialState::Initial;
    r.credential.secret = CredentialSecret::Vasco {
        tokens: vec![VascoToken {
            auth_mode: "CR".into(),
            data: "AAEC".into(),
        }],
    };
    r.user_ext_id = None;
    r.policy_ext_id = ext("default-VascoPolicy");
    r
}

fn typed_policy(id: &str, ext_id: &str, policy_type: PolicyType) -> Policy {
    let mut p = policy(&acme(), ext_id, policy_type, true);
    p.id = id.into();
    p.parameters = PolicyParameters::validated(policy_type, BTreeMap::new()).unwrap();
    p
}

/// Everything any operation reads: `c1`, `u1` holding `grants`, its credentials and policies.
fn readable_world(repos: &mut MockRepos, grants: Vec<RoleGrant>) {
    expect_acme(repos);
    expect_user_holding(repos, u1(), grants);
    expect_policies_by_id(
        repos,
        vec![
            typed_policy("pol-pwd", "default-PwdPolicy", PolicyType::Pwd),
            typed_policy("pol-oath", "default-OathPolicy", PolicyType::Oath),
            typed_policy("pol-vasco", "default-VascoPolicy", PolicyType::Vasco),
        ],
    );
    repos.policies.expect_find_default().returning(|_, t| {
        Ok(Some(match t {
            PolicyType::Pwd => typed_policy("pol-pwd", "default-PwdPolicy", t),
            PolicyType::Oath => typed_policy("pol-oath", "default-OathPolicy", t),
            PolicyType::Vasco => typed_policy("pol-vasco", "default-VascoPolicy", t),
        }))
    });
    let find = |_: &str, e: &str| -> Result<Option<CredentialRecord>, crate::error::StoreError> {
        Ok(match e {
            "o1" => Some(oath_record()),
            "v1" => Some(vasco_record()),
            "pwd-u1" => Some(password_record(&u1(), HASH)),
            _ => None,
        })
    };
    repos.credentials.expect_find_by_ext_id().returning(find);
    repos
        .credentials
        .expect_find_by_ext_id_for_update()
        .returning(find);
    repos
        .users
        .expect_find_by_id()
        .returning(|_| Ok(Some(u1())));
}

/// A world in which nothing may be written, hashed, drawn or sealed.
fn refusing_world(h: &mut Harness, grants: Vec<RoleGrant>) {
    readable_world(&mut h.repos, grants);
    h.repos
        .credentials
        .expect_find_password_of_user()
        .returning(|_, _| Ok(Some(password_record(&u1(), HASH))));
    let r = &mut h.repos;
    r.credentials.expect_update().never();
    r.credentials.expect_insert().never();
    r.credentials.expect_delete().never();
    r.users.expect_record_login().never();
    r.roles.expect_upsert_grant().never();
    r.roles.expect_delete_grant().never();
    r.deliveries.expect_enqueue().never();
    h.secrets.expect_password().never();
    h.secrets.expect_bytes().never();
    h.hasher.expect_hash().never();
    h.cipher.expect_seal().never();
}

/// A world in which every write succeeds.
fn writable_world(h: &mut Harness, grants: Vec<RoleGrant>) -> PasswordRow {
    readable_world(&mut h.repos, grants);
    let row = stored_password(&mut h.repos, password_record(&u1(), HASH));
    let r = &mut h.repos;
    r.credentials.expect_update().returning(|_, _| Ok(()));
    r.credentials.expect_insert().returning(|_| Ok(()));
    r.credentials.expect_delete().returning(|_| Ok(true));
    r.users.expect_record_login().returning(|_, _, _| Ok(()));
    r.roles.expect_upsert_grant().returning(|_, _, _| Ok(()));
    r.roles.expect_delete_grant().returning(|_, _| Ok(true));
    r.roles
        .expect_active_root_users_for_update()
        .returning(|| Ok(vec!["user-root".into(), "user-other-root".into()]));
    r.deliveries.expect_enqueue().returning(|_| Ok(()));
    h.secrets
        .expect_password()
        .returning(|_, n| DRAWN.chars().take(n).collect());
    h.secrets.expect_bytes().returning(|n| vec![7; n]);
    h.hasher
        .expect_hash()
        .returning(|_, _| Ok(NEW_HASH.to_owned()));
    h.cipher
        .expect_seal()
        .returning(|_, _| Ok(SEALED.to_owned()));
    row
}

fn root_grant() -> RoleGrant {
    RoleGrant::new(Role::Root, DataRoom::Global)
}

fn client_root_grant() -> RoleGrant {
    RoleGrant::new(Role::ClientRoot, room(&["c1"]))
}

/// Runs `op` by `admin` on a target holding `grants` that must be refused as privileged.
#[track_caller]
fn assert_refused(admin: Admin, op: Op, grants: Vec<RoleGrant>) {
    let revoke = grants[0].role.as_str().to_owned();
    let mut h = Harness::new();
    refusing_world(&mut h, grants.clone());
    let (ports, uow) = h.build();
    let result = run(op, ports, &admin.caller(), &revoke, None);
    if admin.may_call(op) {
        assert_eq!(
            domain_err(result.clone()),
            DomainError::PrivilegedTarget,
            "{admin:?} {op:?} on {grants:?}"
        );
        assert_err(result, "errors.potentialPrivilegeEscalation", PRIVILEGED);
        assert_no_events(&uow);
    } else {
        // Without the rights, step 2 answers first and nothing is looked up.
        assert_eq!(
            domain_err(result).code(),
            "errors.insufficientRightsFunction",
            "{admin:?} {op:?}"
        );
        assert_storage_untouched(&uow);
    }
}

// ---- refused ----------------------------------------------------------------------------------

#[test]
fn no_admin_of_a_client_may_change_a_root_user() {
    for admin in [Admin::Helpdesk, Admin::UserAdmin, Admin::ClientRoot] {
        for op in OPS {
            assert_refused(admin, op, vec![root_grant()]);
            // SelfAdmin beside Root does not make the target any less privileged.
            assert_refused(
                admin,
                op,
                vec![
                    root_grant(),
                    RoleGrant::new(Role::SelfAdmin, DataRoom::Global),
                ],
            );
        }
    }
}

#[test]
fn helpdesk_and_user_admin_may_not_change_a_client_root() {
    for admin in [Admin::Helpdesk, Admin::UserAdmin] {
        for op in OPS {
            assert_refused(admin, op, vec![client_root_grant()]);
        }
    }
}

#[test]
fn a_grant_reaching_beyond_the_callers_data_room_makes_the_target_privileged() {
    for op in OPS {
        assert_refused(
            Admin::ClientRoot,
            op,
            vec![RoleGrant::new(Role::Helpdesk, room(&["c1", "c2"]))],
        );
    }
}

#[test]
fn the_matrix_is_not_vacuous() {
    // Every role of the matrix reaches the privileged-target decision for some operations.
    for admin in [Admin::Helpdesk, Admin::UserAdmin, Admin::ClientRoot] {
        assert!(OPS.iter().any(|op| admin.may_call(*op)), "{admin:?}");
    }
    assert!(OPS.iter().all(|op| Admin::ClientRoot.may_call(*op)));
}

#[test]
fn the_privileged_target_message_wins_over_the_grant_rule() {
    // A ClientRoot granting Root (beyond its own) to a Root user: SPEC §10.1's message, not
    // §8.3's.
    let mut h = Harness::new();
    refusing_world(&mut h, vec![root_grant()]);
    let (ports, uow) = h.build();
    let result = RoleUseCases::new(ports).grant_role(
        &client_root(&["c1"]),
        "c1",
        "u1",
        Ok(GrantRole {
            role: Some("Root".into()),
            client_ext_ids: None,
        }),
    );
    assert_err(result, "errors.potentialPrivilegeEscalation", PRIVILEGED);
    assert_no_events(&uow);
}

#[test]
fn an_unknown_target_is_404_before_the_privileged_target_decision() {
    let mut h = Harness::new();
    expect_acme(&mut h.repos);
    h.repos
        .users
        .expect_find_by_ext_id()
        .returning(|_, _| Ok(None));
    h.repos.roles.expect_grants_of_user().never();
    let (ports, uow) = h.build();
    let result = PasswordUseCases::new(ports).reset_password(&helpdesk(&["c1"]), "c1", "u9", None);
    assert_err(
        result,
        "errors.noRecord",
        "A user with extId 'u9' doesn't exist on client with name Acme",
    );
    assert_no_events(&uow);
}

// ---- allowed ----------------------------------------------------------------------------------

/// Runs `op` by `admin` on a target holding `grants`; it must pass and leave its event.
#[track_caller]
fn assert_allowed(admin: Admin, op: Op, grants: Vec<RoleGrant>, revoke: &str) {
    let mut h = Harness::new();
    writable_world(&mut h, grants.clone());
    let (ports, uow) = h.build();
    let caller = admin.caller();
    let result = run(op, ports, &caller, revoke, None);
    assert!(result.is_ok(), "{admin:?} {op:?} on {grants:?}: {result:?}");
    assert!(!uow.events().is_empty(), "{admin:?} {op:?}: an event");
    for e in uow.events() {
        assert_eq!(e.event.actor, actor_of(&caller));
        assert_eq!(e.event.user_ext_id.as_deref(), Some("u1"));
    }
    assert_history_free_of(&uow, &[HASH, NEW_HASH, DRAWN, SEALED]);
}

#[test]
fn a_target_holding_only_self_admin_may_be_changed_by_every_admin() {
    for admin in [Admin::Helpdesk, Admin::UserAdmin, Admin::ClientRoot] {
        for op in OPS.into_iter().filter(|op| admin.may_call(*op)) {
            assert_allowed(
                admin,
                op,
                vec![RoleGrant::new(Role::SelfAdmin, DataRoom::Global)],
                "SelfAdmin",
            );
        }
    }
}

#[test]
fn a_target_holding_a_narrower_role_may_be_changed() {
    // Helpdesk of c1 is within each admin's own rights and data room; UserAdmin of c1 within a
    // ClientRoot's.
    for admin in [Admin::Helpdesk, Admin::UserAdmin, Admin::ClientRoot] {
        for op in OPS.into_iter().filter(|op| admin.may_call(*op)) {
            assert_allowed(
                admin,
                op,
                vec![
                    RoleGrant::new(Role::Helpdesk, room(&["c1"])),
                    RoleGrant::new(Role::SelfAdmin, DataRoom::Global),
                ],
                "Helpdesk",
            );
        }
    }
    for op in OPS {
        assert_allowed(
            Admin::ClientRoot,
            op,
            vec![RoleGrant::new(Role::UserAdmin, room(&["c1"]))],
            "UserAdmin",
        );
    }
}

#[test]
fn a_client_root_may_change_another_client_root_of_its_client() {
    for op in OPS {
        assert_allowed(
            Admin::ClientRoot,
            op,
            vec![client_root_grant()],
            "ClientRoot",
        );
    }
}

#[test]
fn root_may_change_a_root_user() {
    for op in OPS {
        let mut h = Harness::new();
        writable_world(&mut h, vec![root_grant()]);
        let (ports, uow) = h.build();
        let result = run(op, ports, &root(), "Root", None);
        assert!(result.is_ok(), "{op:?}: {result:?}");
        assert!(!uow.events().is_empty(), "{op:?}");
    }
}

#[test]
fn self_admin_mode_on_oneself_is_exempt() {
    // The exemption does not depend on what the user holds: even stored grants beyond its
    // self-admin rights do not stop a user's own self-admin writes (with a valid X-Token).
    for op in [Op::ResetPassword, Op::CreateOath, Op::DeleteOath] {
        let mut h = Harness::new();
        writable_world(&mut h, vec![root_grant()]);
        h.tokens
            .expect_validate()
            .withf(|t, s| t == "good" && s.user_ext_id == "u1" && s.password_epoch == EPOCH)
            .return_const(true);
        let (ports, uow) = h.build();
        let me = self_admin("c1", "u1");
        let result = run(op, ports, &me, "unused", Some("good"));
        assert!(result.is_ok(), "{op:?}: {result:?}");
        assert!(uow.events().iter().all(|e| e.event.actor == actor_of(&me)));
    }
}

// ---- the last active Root ---------------------------------------------------------------------

/// Root revokes Root from u1 while `active_roots` are the active Root users.
fn revoke_root(
    active_roots: Vec<&'static str>,
) -> (
    AppResult<()>,
    std::sync::Arc<crate::testing::MockedUnitOfWork>,
) {
    let mut h = Harness::new();
    expect_acme(&mut h.repos);
    expect_user_holding(&mut h.repos, u1(), vec![root_grant()]);
    let roots: Vec<String> = active_roots.into_iter().map(str::to_owned).collect();
    h.repos
        .roles
        .expect_active_root_users_for_update()
        .returning(move || Ok(roots.clone()));
    h.repos
        .roles
        .expect_delete_grant()
        .withf(|u, r| u == "user-u1" && *r == Role::Root)
        .returning(|_, _| Ok(true));
    let (ports, uow) = h.build();
    let result = RoleUseCases::new(ports).revoke_role(&root(), "c1", "u1", "Root");
    (result, uow)
}

#[test]
fn root_cannot_be_revoked_from_the_only_active_root() {
    let mut h = Harness::new();
    expect_acme(&mut h.repos);
    expect_user_holding(&mut h.repos, u1(), vec![root_grant()]);
    h.repos
        .roles
        .expect_active_root_users_for_update()
        .returning(|| Ok(vec!["user-u1".into()]));
    h.repos.roles.expect_delete_grant().never();
    let (ports, uow) = h.build();
    let result = RoleUseCases::new(ports).revoke_role(&root(), "c1", "u1", "Root");
    assert_err(
        result,
        "errors.invalidParameter",
        "The last active Root user cannot be removed.",
    );
    assert_no_events(&uow);
}

#[test]
fn root_can_be_revoked_while_another_active_root_remains() {
    let (result, uow) = revoke_root(vec!["user-u1", "user-admin"]);
    assert_eq!(result, Ok(()));
    let e = event(&uow, "role.revoked");
    assert_eq!(e.event.user_ext_id.as_deref(), Some("u1"));
    assert_eq!(e.event.changes["role"], serde_json::json!(["Root", null]));
}

#[test]
fn root_can_be_revoked_from_a_user_who_is_not_an_active_root() {
    // E.g. a disabled user still holding Root, while u2 is the one active Root.
    let (result, uow) = revoke_root(vec!["user-u2"]);
    assert_eq!(result, Ok(()));
    assert_eq!(uow.actions(), ["role.revoked"]);
}

#[test]
fn other_roles_are_revoked_without_consulting_the_roots() {
    let mut h = Harness::new();
    expect_acme(&mut h.repos);
    expect_user_holding(
        &mut h.repos,
        u1(),
        vec![RoleGrant::new(Role::Helpdesk, room(&["c1"]))],
    );
    h.repos
        .roles
        .expect_delete_grant()
        .returning(|_, _| Ok(true));
    // Even if this were the last Root of the system, a Helpdesk grant may go.
    h.repos
        .roles
        .expect_active_root_users_for_update()
        .returning(|| Ok(vec!["user-u1".into()]));
    let (ports, uow) = h.build();
    assert_eq!(
        RoleUseCases::new(ports).revoke_role(&root(), "c1", "u1", "Helpdesk"),
        Ok(())
    );
    assert_eq!(uow.actions(), ["role.revoked"]);
}
