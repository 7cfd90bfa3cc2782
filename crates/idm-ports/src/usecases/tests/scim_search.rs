//! SPEC §14: the user search behind SCIM (`search_users`), and the `externalId` that SCIM
//! creates and PATCHes through the user use cases of SPEC §8.2/§12.

use std::sync::{Arc, Mutex};

use idm_domain::access::Right;
use idm_domain::patch::Patch;
use idm_domain::user::{User, UserPatch};
use idm_domain::DomainError;
use serde_json::json;

use super::support::*;
use crate::repos::TxMode;
use crate::testing::MockedUnitOfWork;
use crate::usecases::{CreateUser, UserService, UserUseCases, UserView};
use crate::user_query::{CompareOp, QueryValue, UserAttr, UserQuery};

fn use_cases(h: Harness) -> (UserUseCases, Arc<MockedUnitOfWork>) {
    let (ports, uow) = h.build();
    (UserUseCases::new(ports), uow)
}

fn login_is(v: &str) -> UserQuery {
    UserQuery::Compare {
        attr: UserAttr::LoginId,
        op: CompareOp::Eq,
        value: QueryValue::Text(v.into()),
    }
}

fn views(users: &[User]) -> Vec<UserView> {
    users
        .iter()
        .map(|u| UserView {
            user: u.clone(),
            client_ext_id: ext("c1"),
        })
        .collect()
}

#[test]
fn search_needs_user_view_in_the_data_room_before_any_lookup() {
    let (uc, uow) = use_cases(Harness::new());
    assert_err(
        uc.search_users(&helpdesk(&["c2"]), "c1", UserQuery::All, 0, 10),
        "errors.combinedDataroomDenied",
        "Permission denied: AccessControl.UserView",
    );
    assert_eq!(
        domain_err(uc.search_users(&nobody(), "c1", UserQuery::All, 0, 10)),
        DomainError::MissingRight(Right::UserView)
    );
    assert_eq!(
        domain_err(uc.search_users(&self_admin("c1", "u1"), "c1", UserQuery::All, 0, 10)),
        DomainError::MissingRight(Right::UserView),
        "SelfAdmin cannot search"
    );
    assert_storage_untouched(&uow);
}

#[test]
fn an_unknown_client_is_404_before_the_query_is_checked() {
    let mut h = Harness::new();
    h.repos
        .clients
        .expect_find_by_ext_id()
        .returning(|_| Ok(None));
    h.repos.users.expect_search().never();
    let (uc, _) = use_cases(h);
    let misfit = UserQuery::Compare {
        attr: UserAttr::Active,
        op: CompareOp::Gt,
        value: QueryValue::Bool(true),
    };
    assert_err(
        uc.search_users(&root(), "c9", misfit, 0, 10),
        "errors.noRecord",
        "Client doesn't exist with extId 'c9'",
    );
}

#[test]
fn a_query_that_does_not_fit_its_attributes_is_refused_without_a_search() {
    let mut h = Harness::new();
    expect_acme(&mut h.repos);
    h.repos.users.expect_search().never();
    let (uc, uow) = use_cases(h);
    let misfit = UserQuery::Compare {
        attr: UserAttr::Active,
        op: CompareOp::Co,
        value: QueryValue::Bool(true),
    };
    let e = domain_err(uc.search_users(&root(), "c1", misfit, 0, 10));
    assert_eq!(e.code(), "errors.invalidParameter");
    assert!(e.to_string().starts_with("Invalid filter: "), "{e}");
    let text_as_bool = UserQuery::Compare {
        attr: UserAttr::LoginId,
        op: CompareOp::Eq,
        value: QueryValue::Bool(false),
    };
    assert!(uc.search_users(&root(), "c1", text_as_bool, 0, 10).is_err());
    assert_no_events(&uow);
}

#[test]
fn the_repository_searches_with_the_query_offset_and_count_and_counts_exactly() {
    let mut h = Harness::new();
    expect_acme(&mut h.repos);
    let rows: Vec<User> = ["u1", "u2"]
        .iter()
        .map(|e| user(&acme(), e, &format!("login-{e}")))
        .collect();
    let returned = rows.clone();
    let query = UserQuery::or(login_is("login-u1"), login_is("LOGIN-U2"));
    let wanted = query.clone();
    h.repos
        .users
        .expect_search()
        .withf(move |client, q, offset, limit| {
            client == "client-c1" && *q == wanted && *offset == 40 && *limit == 20
        })
        .times(1)
        .returning(move |_, _, _, _| Ok((returned.clone(), 42)));
    let (uc, uow) = use_cases(h);
    let (found, total) = uc
        .search_users(&helpdesk(&["c1"]), "c1", query, 40, 20)
        .unwrap();
    assert_eq!(found, views(&rows));
    assert_eq!(total, 42, "the repository's exact count");
    assert_eq!(uow.modes(), vec![TxMode::Read]);
    assert_no_events(&uow);
}

#[test]
fn count_is_capped_at_1000_and_zero_still_counts() {
    let mut h = Harness::new();
    expect_acme(&mut h.repos);
    let limits = Arc::new(Mutex::new(Vec::new()));
    let seen = limits.clone();
    h.repos
        .users
        .expect_search()
        .returning(move |_, _, _, limit| {
            seen.lock().unwrap().push(limit);
            Ok((Vec::new(), 7))
        });
    let (uc, _) = use_cases(h);
    assert_eq!(
        uc.search_users(&root(), "c1", UserQuery::All, 0, 5000)
            .unwrap()
            .1,
        7
    );
    assert_eq!(
        uc.search_users(&root(), "c1", UserQuery::All, 0, 0)
            .unwrap(),
        (Vec::new(), 7),
        "count 0: only the total"
    );
    assert_eq!(*limits.lock().unwrap(), vec![1000, 0]);
}

#[test]
fn a_query_matching_nothing_checks_rights_and_client_but_searches_nothing() {
    let mut h = Harness::new();
    expect_acme(&mut h.repos);
    h.repos.users.expect_search().never();
    let (uc, uow) = use_cases(h);
    assert_eq!(
        uc.search_users(&root(), "c1", UserQuery::nothing(), 0, 100)
            .unwrap(),
        (Vec::new(), 0)
    );
    assert_eq!(uow.modes(), vec![TxMode::Read], "the client was resolved");
}

#[test]
fn create_stores_the_external_id_and_the_history_shows_it() {
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
    let stored = Arc::new(Mutex::new(None));
    let sink = stored.clone();
    h.repos.users.expect_insert().returning(move |u| {
        *sink.lock().unwrap() = Some(u.clone());
        Ok(())
    });
    let (uc, uow) = use_cases(h);
    let cmd = CreateUser {
        login_id: Some("jdoe".into()),
        external_id: Some("entra-0001".into()),
        ..CreateUser::default()
    };
    let v = uc.create_user(&root(), "c1", Ok(cmd)).unwrap();
    assert_eq!(v.user.external_id.as_deref(), Some("entra-0001"));
    assert_eq!(
        stored
            .lock()
            .unwrap()
            .as_ref()
            .map(|u| u.external_id.clone()),
        Some(Some("entra-0001".into()))
    );
    let e = event(&uow, "user.created");
    assert_eq!(e.event.changes["externalId"], json!([null, "entra-0001"]));
}

#[test]
fn create_refuses_an_overlong_external_id_with_nothing_written() {
    let mut h = Harness::new();
    expect_acme(&mut h.repos);
    h.repos.users.expect_insert().never();
    let (uc, uow) = use_cases(h);
    let cmd = CreateUser {
        login_id: Some("jdoe".into()),
        external_id: Some("x".repeat(256)),
        ..CreateUser::default()
    };
    assert_err(
        uc.create_user(&root(), "c1", Ok(cmd)),
        "errors.invalidParameter",
        "Invalid value for parameter 'externalId'",
    );
    assert_no_events(&uow);
}

#[test]
fn patch_changes_and_removes_the_external_id_and_a_self_admin_may_not() {
    let mut h = Harness::new();
    expect_acme(&mut h.repos);
    let mut u1 = user(&acme(), "u1", "jdoe");
    u1.external_id = Some("old".into());
    expect_user(&mut h.repos, u1);
    let written = Arc::new(Mutex::new(Vec::new()));
    let sink = written.clone();
    h.repos.users.expect_update().returning(move |u, _| {
        sink.lock().unwrap().push(u.clone());
        Ok(())
    });
    let (uc, uow) = use_cases(h);
    let patch = UserPatch {
        external_id: Patch::Set("new".into()),
        version: Some(1),
        ..UserPatch::default()
    };
    let v = uc
        .patch_user(&user_admin(&["c1"]), "c1", "u1", None, Ok(patch))
        .unwrap();
    assert_eq!(v.user.external_id.as_deref(), Some("new"));
    let e = event(&uow, "user.updated");
    assert_eq!(e.event.changes["externalId"], json!(["old", "new"]));

    let remove = UserPatch {
        external_id: Patch::Remove,
        ..UserPatch::default()
    };
    let v = uc
        .patch_user(&user_admin(&["c1"]), "c1", "u1", None, Ok(remove))
        .unwrap();
    assert_eq!(v.user.external_id, None);
    assert_eq!(written.lock().unwrap().len(), 2);
}
