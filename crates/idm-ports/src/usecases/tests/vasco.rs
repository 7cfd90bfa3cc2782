//! SPEC §6.4 (create a VASCO credential) and §8.7 (get, list, assign, unassign).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use chrono::Duration;
use idm_domain::credential::{
    Credential, CredentialSecret, CredentialState, CredentialType, OathDetails, StateChangeReason,
    VascoToken,
};
use idm_domain::paging::{PageCursor, PageRequest};
use idm_domain::policy::{Policy, PolicyParameters, PolicyType};
use idm_domain::user::User;
use idm_domain::DomainError;

use super::support::*;
use crate::error::{AppError, StoreError, UniqueKey};
use crate::repos::CredentialRecord;
use crate::testing::{MockRepos, MockedUnitOfWork};
use crate::usecases::{CreateVasco, VascoService, VascoTokenInput, VascoUseCases};

type Shared<T> = Arc<Mutex<Vec<T>>>;

fn shared<T>() -> Shared<T> {
    Arc::new(Mutex::new(Vec::new()))
}

fn taken<T: Clone>(s: &Shared<T>) -> Vec<T> {
    s.lock().unwrap().clone()
}

fn use_cases(h: Harness) -> (VascoUseCases, Arc<MockedUnitOfWork>) {
    let (ports, uow) = h.build();
    (VascoUseCases::new(ports), uow)
}

fn u1() -> User {
    user(&acme(), "u1", "jdoe")
}

fn u2() -> User {
    user(&acme(), "u2", "jane")
}

fn tok(mode: &str, data: &str) -> VascoTokenInput {
    VascoTokenInput {
        auth_mode: Some(mode.into()),
        data: Some(data.into()),
    }
}

fn good_tokens() -> Vec<VascoTokenInput> {
    vec![tok("CR", "AAEC"), tok("RO", "AAE=")]
}

fn create(ext_id: Option<&str>, tokens: Option<Vec<VascoTokenInput>>) -> CreateVasco {
    CreateVasco {
        ext_id: ext_id.map(str::to_owned),
        policy_ext_id: None,
        state_name: None,
        vasco_tokens: tokens,
    }
}

fn vasco_policy(ext_id: &str, default_policy: bool, pairs: &[(&str, &str)]) -> Policy {
    let given: BTreeMap<String, String> = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let mut p = policy(&acme(), ext_id, PolicyType::Vasco, default_policy);
    p.parameters = PolicyParameters::validated(PolicyType::Vasco, given).unwrap();
    p
}

/// An unassigned (or assigned to `owner`) VASCO credential `ext_id` of `c1`, version 2.
fn vasco_record(ext_id: &str, owner: Option<&User>) -> CredentialRecord {
    let mut r = password_record(&u1(), "unused");
    let c = &mut r.credential;
    c.id = format!("cred-{ext_id}");
    c.ext_id = ext(ext_id);
    c.user_id = owner.map(|u| u.id.clone());
    c.policy_id = "pol-default-VascoPolicy".into();
    c.state = CredentialState::Initial;
    c.secret = CredentialSecret::Vasco {
        tokens: vec![VascoToken {
            auth_mode: "CR".into(),
            data: "AAEC".into(),
        }],
    };
    c.version = 2;
    r.user_ext_id = owner.map(|u| u.ext_id.clone());
    r.policy_ext_id = ext("default-VascoPolicy");
    r
}

/// A record of every other type holding `ext_id`.
fn other_types(ext_id: &str) -> Vec<CredentialRecord> {
    let mut pwd = password_record(&u1(), "$argon2id$x");
    pwd.credential.ext_id = ext(ext_id);
    let mut oath = pwd.clone();
    oath.credential.secret = CredentialSecret::Oath(OathDetails {
        issuer: "nevisIDM".into(),
        authentication_method: "TOTP".into(),
        hashing_algorithm: "SHA1".into(),
        digits: 6,
        period: 30,
        counter: 0,
        encrypted_secret: "bm9uY2U=~c2VhbGVk".into(),
        label: "phone".into(),
    });
    assert_eq!(oath.credential.credential_type(), CredentialType::Oath);
    vec![pwd, oath]
}

/// The extId `ext_id` is looked up (unlocked) in `c1` and `found`.
fn expect_ext_id_lookup(
    repos: &mut MockRepos,
    ext_id: &'static str,
    found: Option<CredentialRecord>,
) {
    repos
        .credentials
        .expect_find_by_ext_id()
        .withf(move |c, e| c == "client-c1" && e == ext_id)
        .returning(move |_, _| Ok(found.clone()));
}

/// Nothing past the failing check is consulted.
fn expect_no_policy_lookup(repos: &mut MockRepos) {
    repos.policies.expect_find_by_ext_id().never();
    repos.policies.expect_find_default().never();
}

fn expect_no_insert(repos: &mut MockRepos) {
    repos.credentials.expect_insert().never();
}

fn capture_inserts(repos: &mut MockRepos) -> Shared<Credential> {
    let inserted = shared();
    let i = inserted.clone();
    repos.credentials.expect_insert().returning(move |c| {
        i.lock().unwrap().push(c.clone());
        Ok(())
    });
    inserted
}

fn capture_updates(repos: &mut MockRepos) -> Shared<(Credential, i64)> {
    let updates = shared();
    let u = updates.clone();
    repos.credentials.expect_update().returning(move |c, v| {
        u.lock().unwrap().push((c.clone(), v));
        Ok(())
    });
    updates
}

/// Runs a create by Root that must fail with exactly this code and message, and roll back.
#[track_caller]
fn create_fails(h: Harness, cmd: CreateVasco, code: &str, message: &str) {
    let (uc, uow) = use_cases(h);
    assert_err(uc.create_vasco(&root(), "c1", Ok(cmd)), code, message);
    assert_no_events(&uow);
}

const DUPLICATE: &str = "A credential with this extId 'v1' already exists";
const NEED_TOKEN: &str = "Vasco Digipass Token is necessary.";
const TWO_CHARS: &str = "VascoDpToken authMode must be 2 chars.";
const BASE64: &str = "VascoDpToken data must be Base64-encoded.";

// ---- create: rights (SPEC §3.4 step 2) ------------------------------------------------------

#[test]
fn create_without_rights_names_credential_create_first() {
    for caller in [nobody(), helpdesk(&["c1"]), self_admin("c1", "u1")] {
        let (uc, uow) = use_cases(Harness::new());
        assert_err(
            uc.create_vasco(&caller, "c1", Ok(create(Some("v1"), Some(good_tokens())))),
            "errors.insufficientRightsFunction",
            "Permission denied: Caller does not have the required right 'AccessControl.CredentialCreate' to perform this action",
        );
        assert_storage_untouched(&uow);
    }
}

#[test]
fn create_outside_the_data_room_is_denied_before_any_lookup() {
    let (uc, uow) = use_cases(Harness::new());
    assert_err(
        uc.create_vasco(
            &user_admin(&["c2"]),
            "c1",
            Ok(create(Some("v1"), Some(good_tokens()))),
        ),
        "errors.combinedDataroomDenied",
        "Permission denied: AccessControl.CredentialCreate",
    );
    assert_storage_untouched(&uow);
}

#[test]
fn create_in_an_unknown_client_is_404_before_the_body() {
    let mut h = Harness::new();
    h.repos
        .clients
        .expect_find_by_ext_id()
        .returning(|_| Ok(None));
    let (uc, _) = use_cases(h);
    assert_err(
        uc.create_vasco(&root(), "c1", Err(malformed_body())),
        "errors.noRecord",
        "Client doesn't exist with extId 'c1'",
    );
}

#[test]
fn create_with_an_unusable_body_fails_after_the_client_lookup() {
    let mut h = Harness::new();
    expect_acme(&mut h.repos);
    h.repos.credentials.expect_find_by_ext_id().never();
    let (uc, uow) = use_cases(h);
    assert_eq!(
        uc.create_vasco(&user_admin(&["c1"]), "c1", Err(malformed_body())),
        Err(malformed_body())
    );
    assert_no_events(&uow);
}

// ---- create: SPEC §6.4's checks, in their order ---------------------------------------------

#[test]
fn a_taken_ext_id_wins_over_every_later_check_whatever_type_holds_it() {
    let mut holders = vec![vasco_record("v1", None)];
    holders.extend(other_types("v1"));
    for holder in holders {
        let mut h = Harness::new();
        expect_acme(&mut h.repos);
        expect_ext_id_lookup(&mut h.repos, "v1", Some(holder));
        expect_no_policy_lookup(&mut h.repos);
        expect_no_insert(&mut h.repos);
        let cmd = CreateVasco {
            policy_ext_id: Some("p9".into()),
            state_name: Some("x".into()),
            ..create(Some("v1"), None)
        };
        create_fails(h, cmd, "errors.duplicateName", DUPLICATE);
    }
}

#[test]
fn missing_or_empty_tokens_win_over_state_policy_and_token_checks() {
    for tokens in [None, Some(vec![])] {
        let mut h = Harness::new();
        expect_acme(&mut h.repos);
        expect_ext_id_lookup(&mut h.repos, "v1", None);
        expect_no_policy_lookup(&mut h.repos);
        expect_no_insert(&mut h.repos);
        let cmd = CreateVasco {
            policy_ext_id: Some("p9".into()),
            state_name: Some("x".into()),
            ..create(Some("v1"), tokens)
        };
        create_fails(h, cmd, "errors.invalidData", NEED_TOKEN);
    }
}

#[test]
fn a_bad_state_name_wins_over_policy_and_token_checks() {
    let mut h = Harness::new();
    expect_acme(&mut h.repos);
    expect_ext_id_lookup(&mut h.repos, "v1", None);
    expect_no_policy_lookup(&mut h.repos);
    expect_no_insert(&mut h.repos);
    let cmd = CreateVasco {
        policy_ext_id: Some("p9".into()),
        state_name: Some("x".into()),
        ..create(Some("v1"), Some(vec![tok("C", "!")]))
    };
    create_fails(
        h,
        cmd,
        "errors.invalidParameter",
        "Invalid CredentialState name 'x'",
    );
}

#[test]
fn an_unknown_policy_wins_over_token_checks() {
    let mut h = Harness::new();
    expect_acme(&mut h.repos);
    expect_ext_id_lookup(&mut h.repos, "v1", None);
    h.repos
        .policies
        .expect_find_by_ext_id()
        .withf(|c, p| c == "client-c1" && p == "p9")
        .returning(|_, _| Ok(None));
    expect_no_insert(&mut h.repos);
    let cmd = CreateVasco {
        policy_ext_id: Some("p9".into()),
        state_name: Some("active".into()),
        ..create(Some("v1"), Some(vec![tok("C", "!")]))
    };
    create_fails(
        h,
        cmd,
        "errors.invalidParameter",
        "PolicyConfiguration doesn't exist with extId 'p9'",
    );
}

#[test]
fn a_policy_of_another_type_wins_over_token_checks() {
    for other in [PolicyType::Oath, PolicyType::Pwd] {
        let mut h = Harness::new();
        expect_acme(&mut h.repos);
        expect_ext_id_lookup(&mut h.repos, "v1", None);
        h.repos
            .policies
            .expect_find_by_ext_id()
            .returning(move |_, _| Ok(Some(policy(&acme(), "p1", other, false))));
        expect_no_insert(&mut h.repos);
        let cmd = CreateVasco {
            policy_ext_id: Some("p1".into()),
            ..create(Some("v1"), Some(vec![tok("C", "!")]))
        };
        create_fails(
            h,
            cmd,
            "errors.invalidParameter",
            "Policy Configuration p1 is not of type VascoPolicy",
        );
    }
}

#[test]
fn a_missing_default_policy_wins_over_token_checks() {
    let mut h = Harness::new();
    expect_acme(&mut h.repos);
    expect_ext_id_lookup(&mut h.repos, "v1", None);
    h.repos
        .policies
        .expect_find_default()
        .withf(|c, t| c == "client-c1" && *t == PolicyType::Vasco)
        .returning(|_, _| Ok(None));
    expect_no_insert(&mut h.repos);
    create_fails(
        h,
        create(Some("v1"), Some(vec![tok("C", "!")])),
        "errors.invalidParameter",
        "Default Policy Configuration does not exist for type VascoPolicy!",
    );
}

/// Client, free extId `v1` and the default VascoPolicy are found; nothing is inserted.
fn token_check_fails(tokens: Vec<VascoTokenInput>, message: &str) {
    let mut h = Harness::new();
    expect_acme(&mut h.repos);
    expect_ext_id_lookup(&mut h.repos, "v1", None);
    h.repos
        .policies
        .expect_find_default()
        .returning(|_, _| Ok(Some(vasco_policy("default-VascoPolicy", true, &[]))));
    expect_no_insert(&mut h.repos);
    create_fails(
        h,
        create(Some("v1"), Some(tokens)),
        "errors.invalidParameter",
        message,
    );
}

#[test]
fn token_checks_run_in_spec_order() {
    // A bad length anywhere wins over a repeat and bad data.
    token_check_fails(
        vec![tok("CR", "!"), tok("CR", "AAEC"), tok("C", "AAEC")],
        TWO_CHARS,
    );
    token_check_fails(vec![tok("CRX", "AAEC")], TWO_CHARS);
    token_check_fails(
        vec![VascoTokenInput {
            auth_mode: None,
            data: Some("AAEC".into()),
        }],
        TWO_CHARS,
    );
    // A repeat wins over bad data.
    token_check_fails(
        vec![tok("CR", "!"), tok("RO", "AAEC"), tok("CR", "AAEC")],
        "VascoDpToken authMode 'CR' is not unique.",
    );
    token_check_fails(vec![tok("CR", "AAEC"), tok("RO", "not base64!")], BASE64);
    token_check_fails(vec![tok("CR", "")], BASE64);
    token_check_fails(
        vec![VascoTokenInput {
            auth_mode: Some("CR".into()),
            data: None,
        }],
        BASE64,
    );
}

// ---- create: success ------------------------------------------------------------------------

#[test]
fn create_without_ext_id_generates_one_and_uses_the_default_policy() {
    let mut h = Harness::new();
    expect_acme(&mut h.repos);
    // The ID generator's first value becomes the extId; it is checked like a requested one.
    expect_ext_id_lookup(&mut h.repos, "id-1", None);
    h.repos
        .policies
        .expect_find_default()
        .withf(|c, t| c == "client-c1" && *t == PolicyType::Vasco)
        .returning(|_, _| {
            Ok(Some(vasco_policy(
                "default-VascoPolicy",
                true,
                &[("credentialLifetime", "86400000")],
            )))
        });
    let inserted = capture_inserts(&mut h.repos);
    let (uc, uow) = use_cases(h);

    let tokens = vec![tok("RO", "AAE"), tok("CR", "AAEC"), tok("SG", "AAE=")];
    let created = uc
        .create_vasco(&user_admin(&["c1"]), "c1", Ok(create(None, Some(tokens))))
        .unwrap();

    let inserted = taken(&inserted);
    assert_eq!(inserted.len(), 1);
    let c = &inserted[0];
    assert_eq!(created.credential, *c);
    assert_eq!(c.ext_id.as_str(), "id-1");
    assert_ne!(c.id, "id-1", "storage ID and extId are drawn separately");
    assert_eq!(c.client_id, "client-c1");
    assert_eq!(c.user_id, None, "created unassigned");
    assert_eq!(created.user_ext_id, None);
    assert_eq!(c.policy_id, "pol-default-VascoPolicy");
    assert_eq!(created.policy_ext_id.as_str(), "default-VascoPolicy");
    assert_eq!(c.state, CredentialState::Initial);
    assert_eq!(c.state_change_reason, StateChangeReason::Initialized);
    assert_eq!(c.credential_type(), CredentialType::Vasco);
    assert_eq!(
        c.secret,
        CredentialSecret::Vasco {
            tokens: vec![
                VascoToken {
                    auth_mode: "RO".into(),
                    data: "AAE".into()
                },
                VascoToken {
                    auth_mode: "CR".into(),
                    data: "AAEC".into()
                },
                VascoToken {
                    auth_mode: "SG".into(),
                    data: "AAE=".into()
                },
            ]
        },
        "stored as given, in order"
    );
    assert_eq!(
        (c.created, c.last_modified, c.validity_from),
        (now(), now(), now())
    );
    assert_eq!(c.validity_to, now() + Duration::days(1));
    assert_eq!(c.version, 1);
    assert_eq!((c.successful_login_count, c.failed_login_count), (0, 0));
    assert_eq!(c.locked_until, None);
    let e = event(&uow, "credential.created");
    assert_eq!(e.event.actor, actor_of(&user_admin(&["c1"])));
    assert_eq!(e.event.client_ext_id.as_deref(), Some("c1"));
    assert_eq!(e.event.user_ext_id, None, "the stock belongs to no user");
    assert_eq!(e.event.credential_ext_id.as_deref(), Some("id-1"));
    assert_eq!(e.event.changes["type"], serde_json::json!([null, "Vasco"]));
    // The token data blocks are secrets: never in the history.
    assert_history_free_of(&uow, &["AAEC", "AAE="]);
}

#[test]
fn create_with_a_named_policy_and_state() {
    let mut h = Harness::new();
    expect_acme(&mut h.repos);
    expect_ext_id_lookup(&mut h.repos, "v1", None);
    h.repos
        .policies
        .expect_find_by_ext_id()
        .withf(|c, p| c == "client-c1" && p == "p1")
        .returning(|_, _| Ok(Some(vasco_policy("p1", false, &[]))));
    let inserted = capture_inserts(&mut h.repos);
    let (uc, _) = use_cases(h);
    let cmd = CreateVasco {
        policy_ext_id: Some("p1".into()),
        state_name: Some("disabled".into()),
        ..create(Some("v1"), Some(good_tokens()))
    };
    let created = uc.create_vasco(&root(), "c1", Ok(cmd)).unwrap();
    let c = &taken(&inserted)[0];
    assert_eq!(c.ext_id.as_str(), "v1");
    assert_eq!(c.state, CredentialState::Disabled);
    assert_eq!(c.state_change_reason, StateChangeReason::Initialized);
    assert_eq!(c.policy_id, "pol-p1");
    assert_eq!(created.policy_ext_id.as_str(), "p1");
    // The default lifetime: 315360000000 ms.
    assert_eq!(
        c.validity_to,
        now() + Duration::milliseconds(315_360_000_000)
    );
}

#[test]
fn a_lost_race_for_the_ext_id_is_the_duplicate_error() {
    let mut h = Harness::new();
    expect_acme(&mut h.repos);
    expect_ext_id_lookup(&mut h.repos, "v1", None);
    h.repos
        .policies
        .expect_find_default()
        .returning(|_, _| Ok(Some(vasco_policy("default-VascoPolicy", true, &[]))));
    h.repos
        .credentials
        .expect_insert()
        .returning(|_| Err(StoreError::Unique(UniqueKey::CredentialExtId)));
    create_fails(
        h,
        create(Some("v1"), Some(good_tokens())),
        "errors.duplicateName",
        DUPLICATE,
    );
}

#[test]
fn a_storage_failure_on_insert_is_not_a_duplicate() {
    let mut h = Harness::new();
    expect_acme(&mut h.repos);
    expect_ext_id_lookup(&mut h.repos, "v1", None);
    h.repos
        .policies
        .expect_find_default()
        .returning(|_, _| Ok(Some(vasco_policy("default-VascoPolicy", true, &[]))));
    h.repos
        .credentials
        .expect_insert()
        .returning(|_| Err(StoreError::Unavailable));
    let (uc, uow) = use_cases(h);
    assert_eq!(
        uc.create_vasco(&root(), "c1", Ok(create(Some("v1"), Some(good_tokens())))),
        Err(AppError::Unavailable)
    );
    assert_no_events(&uow);
}

// ---- get and list (SPEC §8.7) ---------------------------------------------------------------

const NOT_FOUND_V9: &str = "VASCO credential with the extId v9 does not exist";

#[test]
fn get_returns_the_vasco_credential_in_a_read() {
    let mut h = Harness::new();
    expect_acme(&mut h.repos);
    let found = vasco_record("v1", Some(&u1()));
    let expected = found.clone();
    expect_ext_id_lookup(&mut h.repos, "v1", Some(found));
    let (uc, uow) = use_cases(h);
    assert_eq!(uc.get_vasco(&helpdesk(&["c1"]), "c1", "v1"), Ok(expected));
    assert_no_events(&uow);
}

#[test]
fn get_of_a_missing_or_non_vasco_credential_is_404() {
    let mut misses = vec![None];
    misses.extend(other_types("v9").into_iter().map(Some));
    for found in misses {
        let mut h = Harness::new();
        expect_acme(&mut h.repos);
        expect_ext_id_lookup(&mut h.repos, "v9", found);
        let (uc, _) = use_cases(h);
        assert_err(
            uc.get_vasco(&root(), "c1", "v9"),
            "errors.noRecord",
            NOT_FOUND_V9,
        );
    }
}

#[test]
fn get_with_a_malformed_ext_id_is_404_without_a_lookup() {
    let mut h = Harness::new();
    expect_acme(&mut h.repos);
    h.repos.credentials.expect_find_by_ext_id().never();
    let (uc, _) = use_cases(h);
    assert_err(
        uc.get_vasco(&root(), "c1", "no spaces"),
        "errors.noRecord",
        "VASCO credential with the extId no spaces does not exist",
    );
}

#[test]
fn get_and_list_need_credential_view_in_the_data_room() {
    let (uc, uow) = use_cases(Harness::new());
    let missing = "Permission denied: Caller does not have the required right 'AccessControl.CredentialView' to perform this action";
    assert_err(
        uc.get_vasco(&nobody(), "c1", "v1"),
        "errors.insufficientRightsFunction",
        missing,
    );
    assert_err(
        uc.list_vasco(&nobody(), "c1", PageRequest::default()),
        "errors.insufficientRightsFunction",
        missing,
    );
    assert_err(
        uc.get_vasco(&helpdesk(&["c2"]), "c1", "v1"),
        "errors.combinedDataroomDenied",
        "Permission denied: AccessControl.CredentialView",
    );
    assert_err(
        uc.list_vasco(&helpdesk(&["c2"]), "c1", PageRequest::default()),
        "errors.combinedDataroomDenied",
        "Permission denied: AccessControl.CredentialView",
    );
    assert_storage_untouched(&uow);
}

fn listed(n: usize) -> Vec<CredentialRecord> {
    (1..=n)
        .map(|i| {
            let mut r = vasco_record(&format!("v{i}"), None);
            r.credential.created = earlier() + Duration::minutes(i as i64);
            r
        })
        .collect()
}

#[test]
fn list_overfetches_one_row_to_find_the_next_page() {
    let mut h = Harness::new();
    expect_acme(&mut h.repos);
    let after = PageCursor {
        created: earlier(),
        ext_id: "v0".into(),
    };
    let wanted = after.clone();
    h.repos
        .credentials
        .expect_list_of_type()
        .withf(move |c, u, t, p| {
            c == "client-c1"
                && u.is_none()
                && *t == CredentialType::Vasco
                && p.limit == 2
                && p.after.as_ref() == Some(&wanted)
        })
        .returning(|_, _, _, _| Ok(listed(3)));
    let (uc, uow) = use_cases(h);
    let page = uc
        .list_vasco(
            &root(),
            "c1",
            PageRequest {
                limit: 2,
                after: Some(after),
            },
        )
        .unwrap();
    assert_eq!(page.items, listed(2));
    assert_eq!(page.limit, 2);
    assert_eq!(
        page.next,
        Some(PageCursor {
            created: earlier() + Duration::minutes(2),
            ext_id: "v2".into(),
        })
    );
    assert_no_events(&uow);
}

#[test]
fn the_last_page_has_no_cursor() {
    let mut h = Harness::new();
    expect_acme(&mut h.repos);
    h.repos
        .credentials
        .expect_list_of_type()
        .returning(|_, _, _, _| Ok(listed(2)));
    let (uc, _) = use_cases(h);
    let page = uc
        .list_vasco(
            &root(),
            "c1",
            PageRequest {
                limit: 2,
                after: None,
            },
        )
        .unwrap();
    assert_eq!(page.items.len(), 2);
    assert_eq!(page.next, None);
}

// ---- assign and unassign (SPEC §8.7) --------------------------------------------------------

/// The client's credential `ext_id` is `found`, however it is read (locked or not).
fn expect_stored(repos: &mut MockRepos, ext_id: &'static str, found: Option<CredentialRecord>) {
    let f = found.clone();
    repos
        .credentials
        .expect_find_by_ext_id_for_update()
        .withf(move |c, e| c == "client-c1" && e == ext_id)
        .returning(move |_, _| Ok(f.clone()));
    repos
        .credentials
        .expect_find_by_ext_id()
        .withf(move |c, e| c == "client-c1" && e == ext_id)
        .returning(move |_, _| Ok(found.clone()));
}

#[test]
fn assign_sets_the_user_and_bumps_the_version_against_the_read_one() {
    let mut h = Harness::new();
    expect_acme(&mut h.repos);
    expect_user(&mut h.repos, u1());
    expect_stored(&mut h.repos, "v1", Some(vasco_record("v1", None)));
    let updates = capture_updates(&mut h.repos);
    let (uc, uow) = use_cases(h);

    let assigned = uc
        .assign_vasco(&helpdesk(&["c1"]), "c1", "u1", "v1")
        .unwrap();

    let updates = taken(&updates);
    let (stored, expected) = updates.last().expect("the credential is written");
    assert_eq!(*expected, 2, "compare-and-set against the version read");
    assert_eq!(stored.version, 3);
    assert_eq!(stored.user_id.as_deref(), Some("user-u1"));
    assert_eq!(stored.last_modified, now());
    assert_eq!(stored.state, CredentialState::Initial);
    assert_eq!(assigned.credential, *stored);
    assert_eq!(assigned.user_ext_id, Some(ext("u1")));
    let e = event(&uow, "vasco.assigned");
    assert_eq!(e.event.actor, actor_of(&helpdesk(&["c1"])));
    assert_eq!(
        (
            e.event.client_ext_id.as_deref(),
            e.event.user_ext_id.as_deref(),
            e.event.credential_ext_id.as_deref()
        ),
        (Some("c1"), Some("u1"), Some("v1"))
    );
    assert_eq!(
        e.event.changes["assigned"],
        serde_json::json!([false, true])
    );
}

#[test]
fn assigning_to_the_same_user_again_writes_nothing() {
    let mut h = Harness::new();
    expect_acme(&mut h.repos);
    expect_user(&mut h.repos, u1());
    let owned = vasco_record("v1", Some(&u1()));
    let expected = owned.clone();
    expect_stored(&mut h.repos, "v1", Some(owned));
    h.repos.credentials.expect_update().never();
    let (uc, uow) = use_cases(h);
    assert_eq!(uc.assign_vasco(&root(), "c1", "u1", "v1"), Ok(expected));
    assert_no_events(&uow);
}

#[test]
fn assigning_a_credential_of_another_user_is_422() {
    let mut h = Harness::new();
    expect_acme(&mut h.repos);
    expect_user(&mut h.repos, u1());
    expect_stored(&mut h.repos, "v1", Some(vasco_record("v1", Some(&u2()))));
    h.repos.credentials.expect_update().never();
    let (uc, uow) = use_cases(h);
    assert_err(
        uc.assign_vasco(&root(), "c1", "u1", "v1"),
        "errors.vascoExists",
        "VASCO credential v1 is already assigned",
    );
    assert_no_events(&uow);
}

#[test]
fn assign_of_a_missing_or_non_vasco_credential_is_404() {
    let mut misses = vec![None];
    misses.extend(other_types("v9").into_iter().map(Some));
    for found in misses {
        let mut h = Harness::new();
        expect_acme(&mut h.repos);
        expect_user(&mut h.repos, u1());
        expect_stored(&mut h.repos, "v9", found);
        h.repos.credentials.expect_update().never();
        let (uc, _) = use_cases(h);
        assert_err(
            uc.assign_vasco(&root(), "c1", "u1", "v9"),
            "errors.noRecord",
            NOT_FOUND_V9,
        );
    }
}

#[test]
fn assign_to_an_unknown_user_is_404_before_the_credential_lookup() {
    let mut h = Harness::new();
    expect_acme(&mut h.repos);
    h.repos
        .users
        .expect_find_by_ext_id()
        .returning(|_, _| Ok(None));
    h.repos
        .credentials
        .expect_find_by_ext_id_for_update()
        .never();
    let (uc, _) = use_cases(h);
    assert_err(
        uc.assign_vasco(&root(), "c1", "u9", "v1"),
        "errors.noRecord",
        "A user with extId 'u9' doesn't exist on client with name Acme",
    );
}

#[test]
fn a_concurrent_change_during_assign_is_409() {
    let mut h = Harness::new();
    expect_acme(&mut h.repos);
    expect_user(&mut h.repos, u1());
    expect_stored(&mut h.repos, "v1", Some(vasco_record("v1", None)));
    h.repos
        .credentials
        .expect_update()
        .returning(|_, _| Err(StoreError::Conflict));
    let (uc, uow) = use_cases(h);
    assert_eq!(
        domain_err(uc.assign_vasco(&root(), "c1", "u1", "v1")),
        DomainError::OptimisticLockingFailure
    );
    assert_no_events(&uow);
}

#[test]
fn unassign_clears_the_user_and_returns_to_initial() {
    let mut h = Harness::new();
    expect_acme(&mut h.repos);
    h.repos.users.expect_find_by_ext_id().never();
    let mut owned = vasco_record("v1", Some(&u1()));
    owned.credential.state = CredentialState::Active;
    owned.credential.state_change_reason = StateChangeReason::Activated;
    owned.credential.version = 5;
    expect_stored(&mut h.repos, "v1", Some(owned));
    let updates = capture_updates(&mut h.repos);
    let (uc, uow) = use_cases(h);

    let unassigned = uc.unassign_vasco(&helpdesk(&["c1"]), "c1", "v1").unwrap();

    let updates = taken(&updates);
    let (stored, expected) = updates.last().expect("the credential is written");
    assert_eq!(*expected, 5);
    assert_eq!(stored.version, 6);
    assert_eq!(stored.user_id, None);
    assert_eq!(stored.state, CredentialState::Initial);
    assert_eq!(stored.last_modified, now());
    assert_eq!(unassigned.credential, *stored);
    assert_eq!(unassigned.user_ext_id, None);
    let e = event(&uow, "vasco.unassigned");
    assert_eq!(e.event.credential_ext_id.as_deref(), Some("v1"));
    assert_eq!(e.event.user_ext_id, None, "the path names no user");
    assert_eq!(
        e.event.changes["assigned"],
        serde_json::json!([true, false])
    );
}

#[test]
fn unassign_of_a_missing_or_non_vasco_credential_is_404() {
    let mut misses = vec![None];
    misses.extend(other_types("v9").into_iter().map(Some));
    for found in misses {
        let mut h = Harness::new();
        expect_acme(&mut h.repos);
        expect_stored(&mut h.repos, "v9", found);
        h.repos.credentials.expect_update().never();
        let (uc, _) = use_cases(h);
        assert_err(
            uc.unassign_vasco(&root(), "c1", "v9"),
            "errors.noRecord",
            NOT_FOUND_V9,
        );
    }
}

#[test]
fn assign_and_unassign_need_credential_modify_and_view() {
    let (uc, uow) = use_cases(Harness::new());
    let missing = "Permission denied: Caller does not have the required right 'AccessControl.CredentialModify' to perform this action";
    for caller in [nobody(), self_admin("c1", "u1")] {
        assert_err(
            uc.assign_vasco(&caller, "c1", "u1", "v1"),
            "errors.insufficientRightsFunction",
            missing,
        );
        assert_err(
            uc.unassign_vasco(&caller, "c1", "v1"),
            "errors.insufficientRightsFunction",
            missing,
        );
    }
    assert_err(
        uc.assign_vasco(&helpdesk(&["c2"]), "c1", "u1", "v1"),
        "errors.combinedDataroomDenied",
        "Permission denied: AccessControl.CredentialModify",
    );
    assert_err(
        uc.unassign_vasco(&user_admin(&["c2"]), "c1", "v1"),
        "errors.combinedDataroomDenied",
        "Permission denied: AccessControl.CredentialModify",
    );
    assert_storage_untouched(&uow);
}
