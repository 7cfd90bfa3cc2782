//! SPEC §8.3: role grants.

use idm_domain::access::{DataRoom, Role, RoleGrant};

use super::support::*;
use crate::testing::MockRepos;
use crate::usecases::{GrantRole, RoleService, RoleUseCases};

const ESCALATION: &str =
    "Permission denied: a role can only be granted within the caller's own rights and data rooms";
const PRIVILEGED: &str = "Permission denied: the target user holds rights beyond the caller's own";

fn grant_cmd(role: Option<&str>, clients: Option<&[&str]>) -> GrantRole {
    GrantRole {
        role: role.map(str::to_owned),
        client_ext_ids: clients.map(|c| c.iter().map(|s| s.to_string()).collect()),
    }
}

/// Client `c1` and its user `u1`, who holds no role.
fn expect_target(repos: &mut MockRepos) {
    expect_target_holding(repos, Vec::new());
}

/// Client `c1` and its user `u1`, who holds `grants`.
fn expect_target_holding(repos: &mut MockRepos, grants: Vec<RoleGrant>) {
    expect_acme(repos);
    expect_user_holding(repos, user(&acme(), "u1", "jdoe"), grants);
}

fn use_cases(
    h: Harness,
) -> (
    RoleUseCases,
    std::sync::Arc<crate::testing::MockedUnitOfWork>,
) {
    let (ports, uow) = h.build();
    (RoleUseCases::new(ports), uow)
}

#[test]
fn client_root_grants_helpdesk_within_its_client() {
    let mut h = Harness::new();
    expect_target(&mut h.repos);
    let expected = RoleGrant::new(Role::Helpdesk, room(&["c1"]));
    let wanted = expected.clone();
    h.repos
        .roles
        .expect_upsert_grant()
        .withf(move |u, g, at| u == "user-u1" && *g == wanted && *at == now())
        .returning(|_, _, _| Ok(()));
    let (uc, uow) = use_cases(h);
    let grant = uc
        .grant_role(
            &client_root(&["c1"]),
            "c1",
            "u1",
            Ok(grant_cmd(Some("Helpdesk"), Some(&["c1"]))),
        )
        .unwrap();
    assert_eq!(grant, expected);
    let granted = event(&uow, "role.granted");
    assert_eq!(granted.event.actor, actor_of(&client_root(&["c1"])));
    assert_eq!(
        (
            granted.event.client_ext_id.as_deref(),
            granted.event.user_ext_id.as_deref()
        ),
        (Some("c1"), Some("u1"))
    );
    assert_eq!(
        granted.event.changes["role"],
        serde_json::json!([null, {"role": "Helpdesk", "clientExtIds": ["c1"]}])
    );
}

#[test]
fn root_grants_a_global_role() {
    let mut h = Harness::new();
    expect_target(&mut h.repos);
    h.repos
        .roles
        .expect_upsert_grant()
        .withf(|_, g, _| *g == RoleGrant::new(Role::UserAdmin, DataRoom::Global))
        .returning(|_, _, _| Ok(()));
    let (uc, _) = use_cases(h);
    let grant = uc
        .grant_role(&root(), "c1", "u1", Ok(grant_cmd(Some("UserAdmin"), None)))
        .unwrap();
    assert_eq!(grant.data_room, DataRoom::Global);
}

#[test]
fn client_root_cannot_grant_beyond_its_data_room() {
    for clients in [Some(&["c2"][..]), Some(&["c1", "c2"][..]), None] {
        let mut h = Harness::new();
        expect_target(&mut h.repos);
        h.repos.roles.expect_upsert_grant().never();
        let (uc, uow) = use_cases(h);
        let result = uc.grant_role(
            &client_root(&["c1"]),
            "c1",
            "u1",
            Ok(grant_cmd(Some("Helpdesk"), clients)),
        );
        assert_err(result, "errors.potentialPrivilegeEscalation", ESCALATION);
        assert_no_events(&uow);
    }
}

#[test]
fn client_root_cannot_grant_root() {
    let mut h = Harness::new();
    expect_target(&mut h.repos);
    h.repos.roles.expect_upsert_grant().never();
    let (uc, _) = use_cases(h);
    let result = uc.grant_role(
        &client_root(&["c1"]),
        "c1",
        "u1",
        Ok(grant_cmd(Some("Root"), Some(&["c1"]))),
    );
    assert_err(result, "errors.potentialPrivilegeEscalation", ESCALATION);
}

#[test]
fn unknown_role_is_rejected() {
    let mut h = Harness::new();
    expect_target(&mut h.repos);
    let (uc, _) = use_cases(h);
    let result = uc.grant_role(&root(), "c1", "u1", Ok(grant_cmd(Some("X"), None)));
    assert_err(result, "errors.invalidParameter", "Unknown role 'X'");
}

#[test]
fn role_is_mandatory() {
    let mut h = Harness::new();
    expect_target(&mut h.repos);
    let (uc, _) = use_cases(h);
    let result = uc.grant_role(&root(), "c1", "u1", Ok(grant_cmd(None, Some(&["c1"]))));
    assert_err(
        result,
        "errors.nullParameter",
        "The 'role' parameter is mandatory.",
    );
}

#[test]
fn malformed_data_room_entry_is_rejected() {
    let mut h = Harness::new();
    expect_target(&mut h.repos);
    let (uc, _) = use_cases(h);
    let result = uc.grant_role(
        &root(),
        "c1",
        "u1",
        Ok(grant_cmd(Some("Helpdesk"), Some(&["a b"]))),
    );
    assert_err(
        result,
        "errors.invalidParameter",
        "Invalid value 'a b' for field 'clientExtIds'.",
    );
}

#[test]
fn grant_needs_authorization_modify_before_anything_else() {
    let (uc, uow) = use_cases(Harness::new());
    let result = uc.grant_role(&helpdesk(&["c1"]), "c1", "u1", Err(malformed_body()));
    assert_err(
        result,
        "errors.insufficientRightsFunction",
        "Permission denied: Caller does not have the required right 'AccessControl.AuthorizationModify' to perform this action",
    );
    assert_storage_untouched(&uow);
}

#[test]
fn grant_outside_the_data_room_is_denied_before_any_lookup() {
    let (uc, uow) = use_cases(Harness::new());
    let result = uc.grant_role(
        &client_root(&["c1"]),
        "c2",
        "u1",
        Ok(grant_cmd(Some("Helpdesk"), None)),
    );
    assert_err(
        result,
        "errors.combinedDataroomDenied",
        "Permission denied: AccessControl.AuthorizationModify",
    );
    assert_storage_untouched(&uow);
}

#[test]
fn grant_on_an_unknown_user_is_404_before_the_body() {
    let mut h = Harness::new();
    expect_acme(&mut h.repos);
    h.repos
        .users
        .expect_find_by_ext_id()
        .returning(|_, _| Ok(None));
    let (uc, _) = use_cases(h);
    let result = uc.grant_role(&root(), "c1", "u9", Err(malformed_body()));
    assert_err(
        result,
        "errors.noRecord",
        "A user with extId 'u9' doesn't exist on client with name Acme",
    );
}

#[test]
fn list_roles_returns_the_grants() {
    let mut h = Harness::new();
    expect_target_holding(
        &mut h.repos,
        vec![RoleGrant::new(Role::SelfAdmin, DataRoom::Global)],
    );
    let (uc, uow) = use_cases(h);
    let grants = uc.list_roles(&self_admin("c1", "u1"), "c1", "u1").unwrap();
    assert_eq!(
        grants,
        vec![RoleGrant::new(Role::SelfAdmin, DataRoom::Global)]
    );
    assert_no_events(&uow);
}

#[test]
fn revoke_deletes_the_grant() {
    let mut h = Harness::new();
    expect_target_holding(
        &mut h.repos,
        vec![RoleGrant::new(Role::Helpdesk, room(&["c1"]))],
    );
    h.repos
        .roles
        .expect_delete_grant()
        .withf(|u, r| u == "user-u1" && *r == Role::Helpdesk)
        .returning(|_, _| Ok(true));
    let (uc, uow) = use_cases(h);
    uc.revoke_role(&client_root(&["c1"]), "c1", "u1", "Helpdesk")
        .unwrap();
    let revoked = event(&uow, "role.revoked");
    assert_eq!(revoked.event.user_ext_id.as_deref(), Some("u1"));
    assert_eq!(
        revoked.event.changes["role"],
        serde_json::json!(["Helpdesk", null])
    );
}

#[test]
fn revoke_of_an_absent_grant_is_404() {
    for role in ["UserAdmin", "Nonsense"] {
        let mut h = Harness::new();
        expect_target_holding(
            &mut h.repos,
            vec![RoleGrant::new(Role::Helpdesk, room(&["c1"]))],
        );
        h.repos.roles.expect_delete_grant().never();
        let (uc, _) = use_cases(h);
        let result = uc.revoke_role(&root(), "c1", "u1", role);
        assert_err(
            result,
            "errors.noRecord",
            &format!("User with extId u1 has no role '{role}'"),
        );
    }
}

#[test]
fn revoke_beyond_own_rights_is_forbidden_as_a_privileged_target() {
    // A user holding a grant beyond the caller's own is a privileged target (SPEC §10.1),
    // whose message wins over §8.3's.
    for existing in [
        RoleGrant::new(Role::Root, DataRoom::Global),
        RoleGrant::new(Role::Helpdesk, room(&["c1", "c2"])),
    ] {
        let mut h = Harness::new();
        expect_target_holding(&mut h.repos, vec![existing.clone()]);
        h.repos.roles.expect_delete_grant().never();
        h.repos.roles.expect_active_root_users_for_update().never();
        let (uc, uow) = use_cases(h);
        let result = uc.revoke_role(&client_root(&["c1"]), "c1", "u1", existing.role.as_str());
        assert_err(result, "errors.potentialPrivilegeEscalation", PRIVILEGED);
        assert_no_events(&uow);
    }
}

#[test]
fn revoke_needs_authorization_modify() {
    let (uc, uow) = use_cases(Harness::new());
    let result = uc.revoke_role(&self_admin("c1", "u1"), "c1", "u1", "SelfAdmin");
    assert_err(
        result,
        "errors.insufficientRightsFunction",
        "Permission denied: Caller does not have the required right 'AccessControl.AuthorizationModify' to perform this action",
    );
    assert_storage_untouched(&uow);
}

#[test]
fn empty_data_room_list_is_rejected() {
    let mut h = Harness::new();
    expect_target(&mut h.repos);
    h.repos.roles.expect_upsert_grant().never();
    let (uc, _) = use_cases(h);
    let result = uc.grant_role(
        &root(),
        "c1",
        "u1",
        Ok(grant_cmd(Some("Helpdesk"), Some(&[]))),
    );
    assert_eq!(domain_err(result).code(), "errors.invalidParameter");
}
