//! SPEC §12: the user list, user PATCH and DELETE, and the caller's own user and permissions.

use std::sync::{Arc, Mutex};

use idm_domain::access::{DataRoom, Right, Role, RoleGrant};
use idm_domain::paging::{PageCursor, PageRequest};
use idm_domain::patch::Patch;
use idm_domain::user::{ContactsPatch, NamePatch, PersonName, User, UserPatch, UserState};
use idm_domain::DomainError;
use serde_json::json;

use super::support::*;
use crate::error::{StoreError, UniqueKey};
use crate::repos::{TxMode, UserListFilter};
use crate::testing::MockedUnitOfWork;
use crate::usecases::{Permissions, UserFilter, UserService, UserUseCases, UserView};

fn use_cases(h: Harness) -> (UserUseCases, Arc<MockedUnitOfWork>) {
    let (ports, uow) = h.build();
    (UserUseCases::new(ports), uow)
}

fn u1() -> User {
    let mut u = user(&acme(), "u1", "jdoe");
    u.name = PersonName {
        title: Some("Dr".into()),
        first_name: Some("Jane".into()),
        family_name: Some("Doe".into()),
    };
    u.contacts.email = Some("jane@example.com".into());
    u
}

fn root_grant() -> RoleGrant {
    RoleGrant::new(Role::Root, DataRoom::Global)
}

/// Stores the rows `users().update` writes (compare-and-set on the expected version).
fn expect_updates(h: &mut Harness, stored_version: i64) -> Arc<Mutex<Vec<User>>> {
    let written = Arc::new(Mutex::new(Vec::new()));
    let sink = written.clone();
    h.repos.users.expect_update().returning(move |u, expected| {
        if expected != stored_version {
            return Err(StoreError::Conflict);
        }
        sink.lock().unwrap().push(u.clone());
        Ok(())
    });
    written
}

// ---- list -------------------------------------------------------------------------------

#[test]
fn list_needs_user_view_in_the_data_room_before_any_lookup() {
    let (uc, uow) = use_cases(Harness::new());
    let page = PageRequest::default();
    assert_err(
        uc.list_users(
            &helpdesk(&["c2"]),
            "c1",
            UserFilter::default(),
            page.clone(),
        ),
        "errors.combinedDataroomDenied",
        "Permission denied: AccessControl.UserView",
    );
    assert_eq!(
        domain_err(uc.list_users(&nobody(), "c1", UserFilter::default(), page.clone())),
        DomainError::MissingRight(Right::UserView)
    );
    assert_eq!(
        domain_err(uc.list_users(&self_admin("c1", "u1"), "c1", UserFilter::default(), page)),
        DomainError::MissingRight(Right::UserView),
        "SelfAdmin cannot list"
    );
    assert_storage_untouched(&uow);
}

#[test]
fn list_filters_in_the_repository_and_pages_by_created_then_ext_id() {
    let mut h = Harness::new();
    expect_acme(&mut h.repos);
    let rows: Vec<User> = ["u1", "u2", "u3"]
        .iter()
        .map(|e| user(&acme(), e, &format!("login-{e}")))
        .collect();
    let after = PageCursor {
        created: earlier(),
        ext_id: "u0".into(),
    };
    let expected_page = PageRequest {
        limit: 2,
        after: Some(after.clone()),
    };
    let wanted = expected_page.clone();
    let returned = rows.clone();
    h.repos
        .users
        .expect_list_by_client()
        .withf(move |client, filter, page| {
            client == "client-c1"
                && *filter
                    == UserListFilter {
                        login_id: Some("jdoe".into()),
                        email: Some("Jane@Example.com".into()),
                        state: Some(UserState::Disabled),
                        prefix: Some("Do".into()),
                    }
                && *page == wanted
        })
        .times(1)
        .returning(move |_, _, _| Ok(returned.clone()));
    let (uc, uow) = use_cases(h);
    let filter = UserFilter {
        login_id: Some("jdoe".into()),
        email: Some("Jane@Example.com".into()),
        user_state: Some("disabled".into()),
        q: Some("Do".into()),
    };
    let page = uc
        .list_users(&helpdesk(&["c1"]), "c1", filter, expected_page)
        .unwrap();
    assert_eq!(
        page.items,
        rows[..2]
            .iter()
            .map(|u| UserView {
                user: u.clone(),
                client_ext_id: ext("c1"),
            })
            .collect::<Vec<_>>()
    );
    assert_eq!(page.limit, 2);
    assert_eq!(
        page.next,
        Some(PageCursor {
            created: rows[1].created,
            ext_id: "u2".into(),
        }),
        "the cursor is the last item shown"
    );
    assert_eq!(uow.modes(), vec![TxMode::Read]);
    assert_no_events(&uow);
}

#[test]
fn empty_filter_values_do_not_filter_and_a_short_page_is_the_last() {
    let mut h = Harness::new();
    expect_acme(&mut h.repos);
    h.repos
        .users
        .expect_list_by_client()
        .withf(|_, filter, _| *filter == UserListFilter::default())
        .returning(|_, _, _| Ok(vec![user(&acme(), "u1", "jdoe")]));
    let (uc, _) = use_cases(h);
    let blank = UserFilter {
        login_id: Some(String::new()),
        email: Some(String::new()),
        user_state: Some(String::new()),
        q: Some(String::new()),
    };
    let page = uc
        .list_users(&root(), "c1", blank, PageRequest::default())
        .unwrap();
    assert_eq!(page.items.len(), 1);
    assert_eq!(page.next, None);
}

#[test]
fn unknown_user_state_is_422_after_the_client() {
    let mut h = Harness::new();
    h.repos
        .clients
        .expect_find_by_ext_id()
        .returning(|_| Ok(None));
    let (uc, _) = use_cases(h);
    let bad = UserFilter {
        user_state: Some("gone".into()),
        ..UserFilter::default()
    };
    assert_err(
        uc.list_users(&root(), "c9", bad.clone(), PageRequest::default()),
        "errors.noRecord",
        "Client doesn't exist with extId 'c9'",
    );

    let mut h = Harness::new();
    expect_acme(&mut h.repos);
    h.repos.users.expect_list_by_client().never();
    let (uc, _) = use_cases(h);
    assert_err(
        uc.list_users(&root(), "c1", bad, PageRequest::default()),
        "errors.invalidParameter",
        "Invalid userState 'gone'",
    );
}

// ---- PATCH ------------------------------------------------------------------------------

fn rename(version: Option<i64>) -> UserPatch {
    UserPatch {
        name: Patch::Set(NamePatch {
            title: Patch::Remove,
            first_name: Patch::Set("Janet".into()),
            family_name: Patch::Keep,
        }),
        contacts: Patch::Set(ContactsPatch {
            email: Patch::Keep,
            mobile: Patch::Set("+41790000000".into()),
        }),
        version,
        ..UserPatch::default()
    }
}

#[test]
fn patch_merges_compare_and_sets_and_records_the_change() {
    let mut h = Harness::new();
    expect_acme(&mut h.repos);
    expect_user(&mut h.repos, u1());
    let written = expect_updates(&mut h, 1);
    let (uc, uow) = use_cases(h);
    let view = uc
        .patch_user(&user_admin(&["c1"]), "c1", "u1", None, Ok(rename(Some(1))))
        .unwrap();
    let mut expected = u1();
    expected.name.title = None;
    expected.name.first_name = Some("Janet".into());
    expected.contacts.mobile = Some("+41790000000".into());
    expected.version = 2;
    expected.last_modified = now();
    assert_eq!(view.user, expected);
    assert_eq!(view.client_ext_id, ext("c1"));
    assert_eq!(*written.lock().unwrap(), vec![expected]);
    let e = event(&uow, "user.updated");
    assert_eq!(e.event.actor, actor_of(&user_admin(&["c1"])));
    assert_eq!(e.event.user_ext_id.as_deref(), Some("u1"));
    assert_eq!(e.event.client_ext_id.as_deref(), Some("c1"));
    assert_eq!(e.event.changes["name.title"], json!(["Dr", null]));
    assert_eq!(e.event.changes["name.firstName"], json!(["Jane", "Janet"]));
    assert!(!e.event.changes.contains_key("name.familyName"));
    assert_eq!(uow.modes(), vec![TxMode::Write]);
}

#[test]
fn a_stale_or_lost_version_is_409_and_writes_nothing() {
    let mut h = Harness::new();
    expect_acme(&mut h.repos);
    expect_user(&mut h.repos, u1());
    h.repos.users.expect_update().never();
    let (uc, uow) = use_cases(h);
    assert_err(
        uc.patch_user(&root(), "c1", "u1", None, Ok(rename(Some(7)))),
        "errors.optimisticLockingFailure",
        "The entity was modified concurrently; reload it and retry.",
    );
    assert_no_events(&uow);

    // Both read version 1; the other writer's compare-and-set won.
    let mut h = Harness::new();
    expect_acme(&mut h.repos);
    expect_user(&mut h.repos, u1());
    expect_updates(&mut h, 2);
    let (uc, uow) = use_cases(h);
    assert_eq!(
        domain_err(uc.patch_user(&root(), "c1", "u1", None, Ok(rename(Some(1))))),
        DomainError::OptimisticLockingFailure
    );
    assert_no_events(&uow);
}

#[test]
fn a_taken_login_id_is_422_also_when_the_race_is_lost_in_storage() {
    let login = |l: &str| UserPatch {
        login_id: Patch::Set(l.into()),
        ..UserPatch::default()
    };
    let mut h = Harness::new();
    expect_acme(&mut h.repos);
    expect_user(&mut h.repos, u1());
    h.repos
        .users
        .expect_find_by_login_id()
        .withf(|c, l| c == "client-c1" && l == "taken")
        .returning(|_, _| Ok(Some(user(&acme(), "u2", "taken"))));
    h.repos.users.expect_update().never();
    let (uc, _) = use_cases(h);
    assert_err(
        uc.patch_user(&root(), "c1", "u1", None, Ok(login("taken"))),
        "errors.duplicateValue",
        "A user with loginId 'taken' already exists on client with name Acme",
    );

    let mut h = Harness::new();
    expect_acme(&mut h.repos);
    expect_user(&mut h.repos, u1());
    h.repos
        .users
        .expect_find_by_login_id()
        .returning(|_, _| Ok(None));
    h.repos
        .users
        .expect_update()
        .returning(|_, _| Err(StoreError::Unique(UniqueKey::UserLoginId)));
    let (uc, uow) = use_cases(h);
    assert_err(
        uc.patch_user(&root(), "c1", "u1", None, Ok(login("racer"))),
        "errors.duplicateValue",
        "A user with loginId 'racer' already exists on client with name Acme",
    );
    assert_no_events(&uow);

    // The own loginId is no conflict and needs no lookup.
    let mut h = Harness::new();
    expect_acme(&mut h.repos);
    expect_user(&mut h.repos, u1());
    h.repos.users.expect_find_by_login_id().never();
    expect_updates(&mut h, 1);
    let (uc, _) = use_cases(h);
    assert!(uc
        .patch_user(&root(), "c1", "u1", None, Ok(login("jdoe")))
        .is_ok());
}

#[test]
fn bad_values_are_422_of_their_field() {
    for (patch, code, message) in [
        (
            UserPatch {
                user_state: Patch::Set("gone".into()),
                ..UserPatch::default()
            },
            "errors.invalidParameter",
            "Invalid userState 'gone'",
        ),
        (
            UserPatch {
                language_code: Patch::Set("en".into()),
                ..UserPatch::default()
            },
            "errors.invalidParameter",
            "Invalid languageCode 'en'",
        ),
        (
            UserPatch {
                contacts: Patch::Set(ContactsPatch {
                    email: Patch::Set("jane".into()),
                    mobile: Patch::Keep,
                }),
                ..UserPatch::default()
            },
            "errors.userEmailFormat",
            "Invalid email address 'jane'",
        ),
    ] {
        let mut h = Harness::new();
        expect_acme(&mut h.repos);
        expect_user(&mut h.repos, u1());
        h.repos.users.expect_update().never();
        let (uc, uow) = use_cases(h);
        assert_err(
            uc.patch_user(&root(), "c1", "u1", None, Ok(patch)),
            code,
            message,
        );
        assert_no_events(&uow);
    }
}

#[test]
fn patch_checks_rights_before_lookups_and_the_body_after_them() {
    let (uc, uow) = use_cases(Harness::new());
    assert_eq!(
        domain_err(uc.patch_user(&helpdesk(&["c1"]), "c1", "u1", None, Err(malformed_body()))),
        DomainError::MissingRight(Right::UserModify)
    );
    assert_eq!(
        domain_err(uc.patch_user(&self_admin("c1", "u2"), "c1", "u1", None, Ok(rename(None)))),
        DomainError::MissingRight(Right::UserModify),
        "SelfAdmin only on itself"
    );
    assert_storage_untouched(&uow);

    let mut h = Harness::new();
    expect_acme(&mut h.repos);
    expect_user(&mut h.repos, u1());
    let (uc, _) = use_cases(h);
    assert_eq!(
        uc.patch_user(&root(), "c1", "u1", None, Err(malformed_body())),
        Err(malformed_body())
    );
}

#[test]
fn a_user_admin_cannot_change_a_root_user() {
    let mut h = Harness::new();
    expect_acme(&mut h.repos);
    expect_user_holding(&mut h.repos, u1(), vec![root_grant()]);
    h.repos.users.expect_update().never();
    let (uc, uow) = use_cases(h);
    let disable = UserPatch {
        user_state: Patch::Set("disabled".into()),
        ..UserPatch::default()
    };
    assert_err(
        uc.patch_user(&user_admin(&["c1"]), "c1", "u1", None, Ok(disable)),
        "errors.potentialPrivilegeEscalation",
        "Permission denied: the target user holds rights beyond the caller's own",
    );
    assert_no_events(&uow);
}

fn disabling_a_root(
    active_roots: &[&str],
) -> (crate::error::AppResult<UserView>, Arc<MockedUnitOfWork>) {
    let mut h = Harness::new();
    expect_acme(&mut h.repos);
    expect_user_holding(&mut h.repos, u1(), vec![root_grant()]);
    let roots: Vec<String> = active_roots.iter().map(|s| (*s).to_owned()).collect();
    h.repos
        .roles
        .expect_active_root_users_for_update()
        .returning(move || Ok(roots.clone()));
    expect_updates(&mut h, 1);
    let (uc, uow) = use_cases(h);
    let archive = UserPatch {
        user_state: Patch::Set("archived".into()),
        ..UserPatch::default()
    };
    (uc.patch_user(&root(), "c1", "u1", None, Ok(archive)), uow)
}

#[test]
fn the_last_active_root_cannot_be_disabled_or_archived() {
    let (result, uow) = disabling_a_root(&["user-u1"]);
    assert_err(
        result,
        "errors.invalidParameter",
        "The last active Root user cannot be removed.",
    );
    assert_no_events(&uow);

    let (result, uow) = disabling_a_root(&["user-u1", "user-admin"]);
    assert_eq!(result.unwrap().user.state, UserState::Archived);
    event(&uow, "user.updated");
}

#[test]
fn disabling_a_user_who_is_no_root_is_allowed() {
    let mut h = Harness::new();
    expect_acme(&mut h.repos);
    expect_user(&mut h.repos, u1());
    h.repos
        .roles
        .expect_active_root_users_for_update()
        .returning(|| Ok(Vec::new()));
    expect_updates(&mut h, 1);
    let (uc, _) = use_cases(h);
    let disable = UserPatch {
        user_state: Patch::Set("disabled".into()),
        ..UserPatch::default()
    };
    let view = uc
        .patch_user(&root(), "c1", "u1", None, Ok(disable))
        .unwrap();
    assert_eq!(view.user.state, UserState::Disabled);
}

const TOKEN: &str = "x-token-of-u1";

/// u1 patching itself as SelfAdmin: the issuer accepts [`TOKEN`] for u1 of c1 at [`EPOCH`].
fn self_admin_world() -> Harness {
    let mut h = Harness::new();
    expect_acme(&mut h.repos);
    expect_user(&mut h.repos, u1());
    stored_password(&mut h.repos, password_record(&u1(), "$argon2id$stored"));
    h.tokens.expect_validate().returning(|t, s| {
        t == TOKEN && s.user_ext_id == "u1" && s.client_ext_id == "c1" && s.password_epoch == EPOCH
    });
    h
}

#[test]
fn self_admin_needs_an_x_token() {
    for token in [None, Some("forged")] {
        let mut h = self_admin_world();
        h.repos.users.expect_update().never();
        let (uc, uow) = use_cases(h);
        assert_err(
            uc.patch_user(
                &self_admin("c1", "u1"),
                "c1",
                "u1",
                token.map(str::to_owned),
                Err(malformed_body()),
            ),
            "errors.invalidJWTToken",
            "Invalid JWT token.",
        );
        assert_no_events(&uow);
    }
}

#[test]
fn self_admin_may_change_only_name_contacts_and_language() {
    for (patch, field) in [
        (
            UserPatch {
                login_id: Patch::Set("me".into()),
                ..rename(None)
            },
            "loginId",
        ),
        (
            UserPatch {
                user_state: Patch::Remove,
                ..UserPatch::default()
            },
            "userState",
        ),
        (
            UserPatch {
                is_technical_user: Patch::Set(false),
                ..UserPatch::default()
            },
            "isTechnicalUser",
        ),
    ] {
        let mut h = self_admin_world();
        h.repos.users.expect_update().never();
        let (uc, _) = use_cases(h);
        assert_err(
            uc.patch_user(
                &self_admin("c1", "u1"),
                "c1",
                "u1",
                Some(TOKEN.into()),
                Ok(patch),
            ),
            "errors.modifyReadonlyData",
            &format!("The field '{field}' cannot be changed in self-admin mode."),
        );
    }

    let mut h = self_admin_world();
    expect_updates(&mut h, 1);
    let (uc, uow) = use_cases(h);
    let mine = UserPatch {
        language_code: Patch::Set("FR".into()),
        ..rename(Some(1))
    };
    let view = uc
        .patch_user(
            &self_admin("c1", "u1"),
            "c1",
            "u1",
            Some(TOKEN.into()),
            Ok(mine),
        )
        .unwrap();
    assert_eq!(view.user.name.first_name.as_deref(), Some("Janet"));
    assert_eq!(view.user.language.as_str(), "FR");
    let e = event(&uow, "user.updated");
    assert_eq!(e.event.actor, actor_of(&self_admin("c1", "u1")));
}

#[test]
fn an_administrator_may_change_every_field_of_itself_without_a_token() {
    // Through rights, not self-admin mode: no X-Token, no field restriction.
    let mut caller = user_admin(&["c1"]);
    caller.user_id = "user-u1".into();
    caller.user_ext_id = ext("u1");
    caller.client_ext_id = ext("c1");
    let mut h = Harness::new();
    expect_acme(&mut h.repos);
    expect_user(&mut h.repos, u1());
    h.repos
        .users
        .expect_find_by_login_id()
        .returning(|_, _| Ok(None));
    expect_updates(&mut h, 1);
    let (uc, _) = use_cases(h);
    let patch = UserPatch {
        login_id: Patch::Set("jane".into()),
        is_technical_user: Patch::Set(true),
        ..UserPatch::default()
    };
    let view = uc.patch_user(&caller, "c1", "u1", None, Ok(patch)).unwrap();
    assert_eq!(view.user.login_id, "jane");
}

// ---- DELETE -----------------------------------------------------------------------------

/// u1 of c1 holding `grants`, with `active_roots`; `deleted` is what the repository's delete
/// answers (`None`: it must not be called).
fn deleting(h: &mut Harness, grants: Vec<RoleGrant>, active_roots: &[&str], deleted: Option<bool>) {
    expect_acme(&mut h.repos);
    expect_user_holding(&mut h.repos, u1(), grants);
    let roots: Vec<String> = active_roots.iter().map(|s| (*s).to_owned()).collect();
    h.repos
        .roles
        .expect_active_root_users_for_update()
        .returning(move || Ok(roots.clone()));
    match deleted {
        Some(found) => {
            h.repos
                .users
                .expect_delete()
                .withf(|id| id == "user-u1")
                .returning(move |_| Ok(found));
        }
        None => {
            h.repos.users.expect_delete().never();
        }
    }
}

#[test]
fn delete_runs_the_cascade_and_its_event_in_one_write() {
    let mut h = Harness::new();
    deleting(&mut h, Vec::new(), &["user-admin"], Some(true));
    let (uc, uow) = use_cases(h);
    uc.delete_user(&user_admin(&["c1"]), "c1", "u1").unwrap();
    assert_eq!(uow.modes(), vec![TxMode::Write]);
    assert_eq!(uow.commits(), 1);
    let e = event(&uow, "user.deleted");
    assert_eq!(e.event.user_ext_id.as_deref(), Some("u1"));
    assert_eq!(e.event.changes["loginId"], json!(["jdoe", null]));
    assert_history_free_of(&uow, &["$argon2id"]);
}

#[test]
fn delete_needs_user_delete_in_the_data_room() {
    let (uc, uow) = use_cases(Harness::new());
    assert_eq!(
        domain_err(uc.delete_user(&helpdesk(&["c1"]), "c1", "u1")),
        DomainError::MissingRight(Right::UserDelete)
    );
    assert_eq!(
        domain_err(uc.delete_user(&user_admin(&["c2"]), "c1", "u1")),
        DomainError::DataRoomDenied(Right::UserDelete)
    );
    assert_eq!(
        domain_err(uc.delete_user(&self_admin("c1", "u1"), "c1", "u1")),
        DomainError::MissingRight(Right::UserDelete),
        "no self-admin delete"
    );
    assert_storage_untouched(&uow);
}

#[test]
fn a_caller_cannot_delete_itself_before_the_last_root_rule() {
    let mut caller = root();
    caller.user_id = "user-u1".into();
    let mut h = Harness::new();
    expect_acme(&mut h.repos);
    expect_user_holding(&mut h.repos, u1(), vec![root_grant()]);
    h.repos.roles.expect_active_root_users_for_update().never();
    h.repos.users.expect_delete().never();
    let (uc, uow) = use_cases(h);
    assert_err(
        uc.delete_user(&caller, "c1", "u1"),
        "errors.invalidParameter",
        "A caller cannot delete itself.",
    );
    assert_no_events(&uow);
}

#[test]
fn the_last_active_root_cannot_be_deleted() {
    let mut h = Harness::new();
    deleting(&mut h, vec![root_grant()], &["user-u1"], None);
    let (uc, uow) = use_cases(h);
    assert_err(
        uc.delete_user(&root(), "c1", "u1"),
        "errors.invalidParameter",
        "The last active Root user cannot be removed.",
    );
    assert_no_events(&uow);

    let mut h = Harness::new();
    deleting(
        &mut h,
        vec![root_grant()],
        &["user-u1", "user-admin"],
        Some(true),
    );
    let (uc, uow) = use_cases(h);
    uc.delete_user(&root(), "c1", "u1").unwrap();
    event(&uow, "user.deleted");
}

#[test]
fn a_user_admin_cannot_delete_a_root_user() {
    let mut h = Harness::new();
    expect_acme(&mut h.repos);
    expect_user_holding(&mut h.repos, u1(), vec![root_grant()]);
    h.repos.users.expect_delete().never();
    let (uc, uow) = use_cases(h);
    assert_err(
        uc.delete_user(&user_admin(&["c1"]), "c1", "u1"),
        "errors.potentialPrivilegeEscalation",
        "Permission denied: the target user holds rights beyond the caller's own",
    );
    assert_no_events(&uow);
}

#[test]
fn a_user_deleted_meanwhile_is_404_without_an_event() {
    let mut h = Harness::new();
    deleting(&mut h, Vec::new(), &[], Some(false));
    let (uc, uow) = use_cases(h);
    assert_err(
        uc.delete_user(&root(), "c1", "u1"),
        "errors.noRecord",
        "A user with extId 'u1' doesn't exist on client with name Acme",
    );
    assert_no_events(&uow);
}

#[test]
fn unknown_users_are_404() {
    let mut h = Harness::new();
    expect_acme(&mut h.repos);
    h.repos
        .users
        .expect_find_by_ext_id()
        .returning(|_, _| Ok(None));
    let (uc, _) = use_cases(h);
    assert_err(
        uc.delete_user(&root(), "c1", "nope"),
        "errors.noRecord",
        "A user with extId 'nope' doesn't exist on client with name Acme",
    );
}

// ---- the caller itself ------------------------------------------------------------------

#[test]
fn me_reads_the_callers_own_user_without_any_right() {
    let me = user(&client("default", "Default"), "admin", "admin");
    let mut h = Harness::new();
    h.repos
        .clients
        .expect_find_by_ext_id()
        .withf(|e| e == "default")
        .returning(|_| Ok(Some(client("default", "Default"))));
    let found = me.clone();
    h.repos
        .users
        .expect_find_by_ext_id()
        .withf(|c, u| c == "client-default" && u == "admin")
        .returning(move |_, _| Ok(Some(found.clone())));
    let (uc, uow) = use_cases(h);
    let mut caller = root();
    caller.grants.clear();
    let view = uc.me(&caller).unwrap();
    assert_eq!(view.user, me);
    assert_eq!(view.client_ext_id, ext("default"));
    assert_eq!(uow.modes(), vec![TxMode::Read]);
}

#[test]
fn permissions_are_the_grants_and_their_rights_without_storage() {
    let (uc, uow) = use_cases(Harness::new());
    let mut caller = helpdesk(&["c1"]);
    caller
        .grants
        .push(RoleGrant::new(Role::UserAdmin, room(&["c2"])));
    caller
        .grants
        .push(RoleGrant::new(Role::SelfAdmin, DataRoom::Global));
    let Permissions { grants, rights } = uc.permissions(&caller).unwrap();
    assert_eq!(grants, caller.grants);
    assert_eq!(
        rights.first(),
        Some(&(Right::UserView, room(&["c1", "c2"])))
    );
    assert!(rights.contains(&(Right::UserDelete, room(&["c2"]))));
    assert!(!rights.iter().any(|(r, _)| *r == Right::ClientView));
    assert_storage_untouched(&uow);

    let all = uc.permissions(&root()).unwrap().rights;
    assert_eq!(all.len(), Right::ALL.len());
    assert!(all.iter().all(|(_, room)| *room == DataRoom::Global));
}
