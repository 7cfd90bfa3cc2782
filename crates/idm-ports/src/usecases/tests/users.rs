//! SPEC §8.2: users and their credential list.

use chrono::Duration;
use idm_domain::access::Right;
use idm_domain::paging::{PageCursor, PageRequest};
use idm_domain::user::{Contacts, LanguageCode, PersonName, UserState};
use idm_domain::DomainError;

use super::support::*;
use crate::error::{StoreError, UniqueKey};
use crate::repos::CredentialRecord;
use crate::usecases::{CreateUser, UserService, UserUseCases};

fn create(login_id: Option<&str>) -> CreateUser {
    CreateUser {
        login_id: login_id.map(str::to_owned),
        ..CreateUser::default()
    }
}

fn use_cases(
    h: Harness,
) -> (
    UserUseCases,
    std::sync::Arc<crate::testing::MockedUnitOfWork>,
) {
    let (ports, uow) = h.build();
    (UserUseCases::new(ports), uow)
}

#[test]
fn create_outside_the_data_room_is_denied_before_any_lookup() {
    let (uc, uow) = use_cases(Harness::new());
    let result = uc.create_user(&client_root(&["c1"]), "c2", Ok(create(Some("jdoe"))));
    assert_err(
        result,
        "errors.combinedDataroomDenied",
        "Permission denied: AccessControl.UserCreate",
    );
    assert_storage_untouched(&uow);
}

#[test]
fn create_without_the_right_is_forbidden_even_with_a_bad_body() {
    let (uc, _) = use_cases(Harness::new());
    let result = uc.create_user(&helpdesk(&["c1"]), "c1", Err(malformed_body()));
    assert_eq!(
        domain_err(result),
        DomainError::MissingRight(Right::UserCreate)
    );
}

#[test]
fn unknown_client_is_reported_before_a_body_error() {
    let mut h = Harness::new();
    h.repos
        .clients
        .expect_find_by_ext_id()
        .returning(|_| Ok(None));
    let (uc, uow) = use_cases(h);
    let result = uc.create_user(&root(), "c9", Err(malformed_body()));
    assert_err(
        result,
        "errors.noRecord",
        "Client doesn't exist with extId 'c9'",
    );
    assert_no_events(&uow);
}

#[test]
fn body_error_comes_after_the_client() {
    let mut h = Harness::new();
    expect_acme(&mut h.repos);
    let (uc, _) = use_cases(h);
    assert_eq!(
        uc.create_user(&root(), "c1", Err(malformed_body())),
        Err(malformed_body())
    );
}

#[test]
fn login_id_is_mandatory() {
    for login in [None, Some("")] {
        let mut h = Harness::new();
        expect_acme(&mut h.repos);
        h.repos.users.expect_insert().never();
        let (uc, _) = use_cases(h);
        let result = uc.create_user(&root(), "c1", Ok(create(login)));
        assert_err(
            result,
            "errors.userLoginIdNull",
            "The 'loginId' parameter is mandatory.",
        );
    }
}

#[test]
fn bad_email_is_rejected() {
    let mut h = Harness::new();
    expect_acme(&mut h.repos);
    h.repos.users.expect_insert().never();
    let (uc, _) = use_cases(h);
    let mut cmd = create(Some("jdoe"));
    cmd.contacts.email = Some("x".into());
    let result = uc.create_user(&root(), "c1", Ok(cmd));
    assert_err(
        result,
        "errors.userEmailFormat",
        "Invalid email address 'x'",
    );
}

#[test]
fn taken_login_id_is_rejected_with_the_client_name() {
    let mut h = Harness::new();
    expect_acme(&mut h.repos);
    h.repos
        .users
        .expect_find_by_login_id()
        .withf(|c, l| c == "client-c1" && l == "jdoe")
        .returning(|_, _| Ok(Some(user(&acme(), "u1", "jdoe"))));
    h.repos.users.expect_insert().never();
    let (uc, _) = use_cases(h);
    let result = uc.create_user(&root(), "c1", Ok(create(Some("jdoe"))));
    assert_err(
        result,
        "errors.duplicateValue",
        "A user with loginId 'jdoe' already exists on client with name Acme",
    );
}

#[test]
fn taken_ext_id_is_rejected() {
    let mut h = Harness::new();
    expect_acme(&mut h.repos);
    h.repos
        .users
        .expect_find_by_login_id()
        .returning(|_, _| Ok(None));
    h.repos
        .users
        .expect_find_by_ext_id()
        .withf(|c, e| c == "client-c1" && e == "u1")
        .returning(|_, _| Ok(Some(user(&acme(), "u1", "other"))));
    h.repos.users.expect_insert().never();
    let (uc, _) = use_cases(h);
    let mut cmd = create(Some("jdoe"));
    cmd.ext_id = Some("u1".into());
    let result = uc.create_user(&root(), "c1", Ok(cmd));
    assert_err(
        result,
        "errors.duplicateName",
        "A user with this extId 'u1' already exists",
    );
}

#[test]
fn lost_races_map_to_the_duplicate_errors() {
    for (key, code, message) in [
        (
            UniqueKey::UserLoginId,
            "errors.duplicateValue",
            "A user with loginId 'jdoe' already exists on client with name Acme",
        ),
        (
            UniqueKey::UserExtId,
            "errors.duplicateName",
            "A user with this extId 'u1' already exists",
        ),
    ] {
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
            .returning(move |_| Err(StoreError::Unique(key)));
        let (uc, uow) = use_cases(h);
        let mut cmd = create(Some("jdoe"));
        cmd.ext_id = Some("u1".into());
        assert_err(uc.create_user(&root(), "c1", Ok(cmd)), code, message);
        assert_no_events(&uow);
    }
}

#[test]
fn create_generates_the_ext_id_and_applies_defaults() {
    let mut h = Harness::new();
    expect_acme(&mut h.repos);
    h.repos
        .users
        .expect_find_by_login_id()
        .returning(|_, _| Ok(None));
    h.repos
        .users
        .expect_find_by_ext_id()
        .withf(|_, e| e == "id-1")
        .returning(|_, _| Ok(None));
    h.repos
        .users
        .expect_insert()
        .withf(|u| u.id == "id-2" && u.ext_id.as_str() == "id-1" && u.client_id == "client-c1")
        .returning(|_| Ok(()));
    let (uc, uow) = use_cases(h);
    let mut cmd = create(Some("jdoe"));
    cmd.name = PersonName {
        title: None,
        first_name: Some("Jane".into()),
        family_name: Some("Doe".into()),
    };
    cmd.contacts = Contacts {
        email: Some("jane@example.com".into()),
        mobile: None,
    };
    let view = uc
        .create_user(&client_root(&["c1"]), "c1", Ok(cmd))
        .unwrap();
    assert_eq!(view.client_ext_id.as_str(), "c1");
    let u = view.user;
    assert_eq!(u.ext_id.as_str(), "id-1");
    assert_eq!(u.login_id, "jdoe");
    assert_eq!(u.state, UserState::Active);
    assert_eq!(u.language, LanguageCode::En);
    assert!(!u.is_technical_user);
    assert_eq!(u.name.first_name.as_deref(), Some("Jane"));
    assert_eq!(u.contacts.email.as_deref(), Some("jane@example.com"));
    assert_eq!((u.created, u.last_modified, u.version), (now(), now(), 1));
    assert_eq!((u.last_login, u.last_login_failure), (None, None));
    let created = event(&uow, "user.created");
    assert_eq!(created.event.actor, actor_of(&client_root(&["c1"])));
    assert_eq!(created.event.client_ext_id.as_deref(), Some("c1"));
    assert_eq!(created.event.user_ext_id.as_deref(), Some("id-1"));
    assert_eq!(created.event.request_id.as_deref(), Some(REQUEST_ID));
    assert_eq!(
        created.event.changes["contacts.email"],
        serde_json::json!([null, "jane@example.com"])
    );
    assert_eq!(uow.actions(), ["user.created"]);
}

#[test]
fn create_keeps_the_given_state_and_language() {
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
    h.repos.users.expect_insert().returning(|_| Ok(()));
    let (uc, _) = use_cases(h);
    let mut cmd = create(Some("bot"));
    cmd.ext_id = Some("u7".into());
    cmd.state = Some(UserState::Disabled);
    cmd.language = Some(LanguageCode::De);
    cmd.is_technical_user = Some(true);
    let u = uc.create_user(&root(), "c1", Ok(cmd)).unwrap().user;
    assert_eq!(u.ext_id.as_str(), "u7");
    assert_eq!(u.id, "id-1");
    assert_eq!(
        (u.state, u.language, u.is_technical_user),
        (UserState::Disabled, LanguageCode::De, true)
    );
}

#[test]
fn self_admin_reads_itself() {
    let mut h = Harness::new();
    expect_acme(&mut h.repos);
    expect_user(&mut h.repos, user(&acme(), "u1", "jdoe"));
    let (uc, uow) = use_cases(h);
    let view = uc.get_user(&self_admin("c1", "u1"), "c1", "u1").unwrap();
    assert_eq!(view.user.ext_id.as_str(), "u1");
    assert_eq!(view.client_ext_id.as_str(), "c1");
    assert_no_events(&uow);
}

#[test]
fn self_admin_cannot_read_another_user() {
    let (uc, uow) = use_cases(Harness::new());
    let result = uc.get_user(&self_admin("c1", "u1"), "c1", "u2");
    assert_err(
        result,
        "errors.insufficientRightsFunction",
        "Permission denied: Caller does not have the required right 'AccessControl.UserView' to perform this action",
    );
    assert_storage_untouched(&uow);
}

#[test]
fn get_user_outside_the_data_room_is_denied_before_any_lookup() {
    let (uc, uow) = use_cases(Harness::new());
    let result = uc.get_user(&helpdesk(&["c1"]), "c2", "u1");
    assert_err(
        result,
        "errors.combinedDataroomDenied",
        "Permission denied: AccessControl.UserView",
    );
    assert_storage_untouched(&uow);
}

#[test]
fn unknown_user_is_404_with_the_client_name() {
    let mut h = Harness::new();
    expect_acme(&mut h.repos);
    h.repos
        .users
        .expect_find_by_ext_id()
        .withf(|c, u| c == "client-c1" && u == "u9")
        .returning(|_, _| Ok(None));
    let (uc, _) = use_cases(h);
    let result = uc.get_user(&helpdesk(&["c1"]), "c1", "u9");
    assert_err(
        result,
        "errors.noRecord",
        "A user with extId 'u9' doesn't exist on client with name Acme",
    );
}

#[test]
fn malformed_user_ext_id_is_404_without_a_user_lookup() {
    let mut h = Harness::new();
    expect_acme(&mut h.repos);
    let (uc, _) = use_cases(h);
    let result = uc.get_user(&root(), "c1", "a b");
    assert_err(
        result,
        "errors.noRecord",
        "A user with extId 'a b' doesn't exist on client with name Acme",
    );
}

fn credential_row(n: i64) -> CredentialRecord {
    let mut r = password_record(&user(&acme(), "u1", "jdoe"), "phc");
    r.credential.ext_id = ext(&format!("cred-{n}"));
    r.credential.created = earlier() + Duration::seconds(n);
    r
}

#[test]
fn list_credentials_overfetches_one_row_to_find_the_next_page() {
    let mut h = Harness::new();
    expect_acme(&mut h.repos);
    expect_user(&mut h.repos, user(&acme(), "u1", "jdoe"));
    let page = PageRequest::new(Some(2), None).unwrap();
    let wanted = page.clone();
    h.repos
        .credentials
        .expect_list_by_user()
        .withf(move |u, p| u == "user-u1" && *p == wanted)
        .returning(|_, _| Ok((1..=3).map(credential_row).collect()));
    let (uc, uow) = use_cases(h);
    let result = uc
        .list_credentials(&helpdesk(&["c1"]), "c1", "u1", page)
        .unwrap();
    assert_eq!(result.limit, 2);
    assert_eq!(result.items, vec![credential_row(1), credential_row(2)]);
    assert_eq!(
        result.next,
        Some(PageCursor {
            created: earlier() + Duration::seconds(2),
            ext_id: "cred-2".into(),
        })
    );
    assert_no_events(&uow);
}

#[test]
fn list_credentials_last_page_has_no_cursor() {
    let mut h = Harness::new();
    expect_acme(&mut h.repos);
    expect_user(&mut h.repos, user(&acme(), "u1", "jdoe"));
    h.repos
        .credentials
        .expect_list_by_user()
        .returning(|_, _| Ok((1..=2).map(credential_row).collect()));
    let (uc, _) = use_cases(h);
    let result = uc
        .list_credentials(
            &self_admin("c1", "u1"),
            "c1",
            "u1",
            PageRequest::new(Some(2), None).unwrap(),
        )
        .unwrap();
    assert_eq!(result.items.len(), 2);
    assert_eq!(result.next, None);
}

#[test]
fn list_credentials_of_another_user_needs_credential_view() {
    let (uc, _) = use_cases(Harness::new());
    let result = uc.list_credentials(&self_admin("c1", "u1"), "c1", "u2", PageRequest::default());
    assert_eq!(
        domain_err(result),
        DomainError::MissingRight(Right::CredentialView)
    );
}

#[test]
fn taken_login_id_is_reported_before_a_taken_ext_id() {
    let mut h = Harness::new();
    expect_acme(&mut h.repos);
    h.repos
        .users
        .expect_find_by_login_id()
        .returning(|_, _| Ok(Some(user(&acme(), "u2", "jdoe"))));
    h.repos
        .users
        .expect_find_by_ext_id()
        .returning(|_, _| Ok(Some(user(&acme(), "u1", "other"))));
    let (uc, _) = use_cases(h);
    let mut cmd = create(Some("jdoe"));
    cmd.ext_id = Some("u1".into());
    assert_eq!(
        domain_err(uc.create_user(&root(), "c1", Ok(cmd))).code(),
        "errors.duplicateValue"
    );
}

#[test]
fn malformed_ext_id_in_the_body_is_rejected() {
    let mut h = Harness::new();
    expect_acme(&mut h.repos);
    h.repos.users.expect_insert().never();
    let (uc, _) = use_cases(h);
    let mut cmd = create(Some("jdoe"));
    cmd.ext_id = Some("a/b".into());
    assert_err(
        uc.create_user(&root(), "c1", Ok(cmd)),
        "errors.invalidParameter",
        "Invalid value 'a/b' for field 'extId'.",
    );
}
