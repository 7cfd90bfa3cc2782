//! SPEC §8.1: clients.

use idm_domain::policy::{PolicyParameters, PolicyType};

use super::support::*;
use crate::error::{StoreError, UniqueKey};
use crate::testing::MockRepos;
use crate::usecases::{ClientService, ClientUseCases, CreateClient};

fn create(name: Option<&str>, ext_id: Option<&str>) -> CreateClient {
    CreateClient {
        ext_id: ext_id.map(str::to_owned),
        name: name.map(str::to_owned),
    }
}

fn expect_free(repos: &mut MockRepos) {
    repos.clients.expect_find_by_name().returning(|_| Ok(None));
    repos
        .clients
        .expect_find_by_ext_id()
        .returning(|_| Ok(None));
}

#[test]
fn non_root_caller_lacks_client_create() {
    for caller in [
        client_root(&["c1"]),
        helpdesk(&["c1"]),
        nobody(),
        self_admin("c1", "u1"),
    ] {
        let (ports, uow) = Harness::new().build();
        let result =
            ClientUseCases::new(ports).create_client(&caller, Ok(create(Some("New"), None)));
        assert_err(
            result,
            "errors.insufficientRightsFunction",
            "Permission denied: Caller does not have the required right 'AccessControl.ClientCreate' to perform this action",
        );
        assert_storage_untouched(&uow);
    }
}

#[test]
fn rights_are_checked_before_the_body() {
    let (ports, _) = Harness::new().build();
    let result =
        ClientUseCases::new(ports).create_client(&client_root(&["c1"]), Err(malformed_body()));
    assert_err(
        result,
        "errors.insufficientRightsFunction",
        "Permission denied: Caller does not have the required right 'AccessControl.ClientCreate' to perform this action",
    );
}

#[test]
fn body_error_is_reported_to_an_allowed_caller() {
    let (ports, uow) = Harness::new().build();
    let result = ClientUseCases::new(ports).create_client(&root(), Err(malformed_body()));
    assert_eq!(result, Err(malformed_body()));
    assert_no_events(&uow);
}

#[test]
fn name_is_mandatory() {
    for name in [None, Some(""), Some("   ")] {
        let (ports, _) = Harness::new().build();
        let result = ClientUseCases::new(ports).create_client(&root(), Ok(create(name, None)));
        assert_err(
            result,
            "errors.nullParameter",
            "The 'name' parameter is mandatory.",
        );
    }
}

#[test]
fn malformed_ext_id_in_the_body_is_rejected() {
    let (ports, uow) = Harness::new().build();
    let result =
        ClientUseCases::new(ports).create_client(&root(), Ok(create(Some("New"), Some("a b"))));
    assert_err(
        result,
        "errors.invalidParameter",
        "Invalid value 'a b' for field 'extId'.",
    );
    assert_no_events(&uow);
}

#[test]
fn taken_name_is_checked_before_taken_ext_id() {
    let mut h = Harness::new();
    h.repos
        .clients
        .expect_find_by_name()
        .withf(|n| n == "Acme")
        .returning(|_| Ok(Some(acme())));
    h.repos.clients.expect_find_by_ext_id().never();
    h.repos.clients.expect_insert().never();
    let (ports, uow) = h.build();
    let result =
        ClientUseCases::new(ports).create_client(&root(), Ok(create(Some("Acme"), Some("c1"))));
    assert_err(
        result,
        "errors.duplicateName",
        "A client with this name 'Acme' already exists",
    );
    assert_no_events(&uow);
}

#[test]
fn taken_ext_id_is_rejected() {
    let mut h = Harness::new();
    h.repos
        .clients
        .expect_find_by_name()
        .returning(|_| Ok(None));
    h.repos
        .clients
        .expect_find_by_ext_id()
        .withf(|e| e == "c1")
        .returning(|_| Ok(Some(acme())));
    h.repos.clients.expect_insert().never();
    let (ports, _) = h.build();
    let result =
        ClientUseCases::new(ports).create_client(&root(), Ok(create(Some("Other"), Some("c1"))));
    assert_err(
        result,
        "errors.duplicateName",
        "A client with this extId 'c1' already exists",
    );
}

#[test]
fn lost_races_map_to_the_duplicate_errors() {
    for (key, message) in [
        (
            UniqueKey::ClientName,
            "A client with this name 'New' already exists",
        ),
        (
            UniqueKey::ClientExtId,
            "A client with this extId 'c9' already exists",
        ),
    ] {
        let mut h = Harness::new();
        expect_free(&mut h.repos);
        h.repos
            .clients
            .expect_insert()
            .returning(move |_| Err(StoreError::Unique(key)));
        h.repos.policies.expect_insert().never();
        let (ports, uow) = h.build();
        let result =
            ClientUseCases::new(ports).create_client(&root(), Ok(create(Some("New"), Some("c9"))));
        assert_err(result, "errors.duplicateName", message);
        assert_no_events(&uow);
    }
}

#[test]
fn create_inserts_the_client_and_its_three_default_policies() {
    let mut h = Harness::new();
    expect_free(&mut h.repos);
    h.repos
        .clients
        .expect_insert()
        .withf(|c| {
            c.ext_id.as_str() == "c9"
                && c.name == "New"
                && c.version == 1
                && c.created == now()
                && c.last_modified == now()
        })
        .returning(|_| Ok(()));
    for (policy_type, ext_id) in [
        (PolicyType::Pwd, "default-PwdPolicy"),
        (PolicyType::Vasco, "default-VascoPolicy"),
        (PolicyType::Oath, "default-OathPolicy"),
    ] {
        h.repos
            .policies
            .expect_insert()
            .withf(move |p| {
                p.policy_type == policy_type
                    && p.ext_id.as_str() == ext_id
                    && p.client_id == "id-1"
                    && p.default_policy
                    && p.version == 1
                    && p.parameters == PolicyParameters::defaults(policy_type)
                    && p.name == policy_type.default_policy_name()
            })
            .returning(|_| Ok(()));
    }
    let (ports, uow) = h.build();
    let client = ClientUseCases::new(ports)
        .create_client(&root(), Ok(create(Some("  New "), Some("c9"))))
        .unwrap();
    assert_eq!(client.id, "id-1");
    assert_eq!(client.ext_id.as_str(), "c9");
    assert_eq!(client.name, "New");
    assert_eq!(
        uow.actions(),
        [
            "client.created",
            "policy.created",
            "policy.created",
            "policy.created"
        ]
    );
    let mut policies: Vec<_> = uow
        .events()
        .iter()
        .filter_map(|e| e.event.policy_ext_id.clone())
        .collect();
    policies.sort();
    assert_eq!(
        policies,
        [
            "default-OathPolicy",
            "default-PwdPolicy",
            "default-VascoPolicy"
        ]
    );
    for e in uow.events() {
        assert_eq!(e.event.actor, actor_of(&root()));
        assert_eq!(e.event.request_id.as_deref(), Some(REQUEST_ID));
    }
    let created = event(&uow, "client.created");
    assert_eq!(created.event.client_ext_id.as_deref(), Some("c9"));
    assert_eq!(
        created.event.changes["name"],
        serde_json::json!([null, "New"])
    );
}

#[test]
fn the_default_policies_of_a_new_client_are_recorded_under_that_client() {
    // SPEC §13: the audit list shows a caller the events whose target client is in its data
    // room; a ClientRoot of the new client must see how its default policies came to be.
    let mut h = Harness::new();
    expect_free(&mut h.repos);
    h.repos.clients.expect_insert().returning(|_| Ok(()));
    h.repos.policies.expect_insert().returning(|_| Ok(()));
    let (ports, uow) = h.build();
    ClientUseCases::new(ports)
        .create_client(&root(), Ok(create(Some("New"), Some("c9"))))
        .unwrap();
    for e in uow.events() {
        assert_eq!(
            e.event.client_ext_id.as_deref(),
            Some("c9"),
            "{}",
            e.event.action
        );
    }
}

#[test]
fn create_generates_an_ext_id_when_absent() {
    let mut h = Harness::new();
    h.repos
        .clients
        .expect_find_by_name()
        .returning(|_| Ok(None));
    h.repos
        .clients
        .expect_find_by_ext_id()
        .withf(|e| e == "id-1")
        .returning(|_| Ok(None));
    h.repos.clients.expect_insert().returning(|_| Ok(()));
    h.repos.policies.expect_insert().returning(|_| Ok(()));
    let (ports, _) = h.build();
    let client = ClientUseCases::new(ports)
        .create_client(&root(), Ok(create(Some("New"), None)))
        .unwrap();
    assert_eq!(client.ext_id.as_str(), "id-1");
    assert_eq!(client.id, "id-2");
}

#[test]
fn get_client_reads_it() {
    let mut h = Harness::new();
    expect_acme(&mut h.repos);
    let (ports, uow) = h.build();
    let client = ClientUseCases::new(ports)
        .get_client(&client_root(&["c1"]), "c1")
        .unwrap();
    assert_eq!(client, acme());
    assert_no_events(&uow);
}

#[test]
fn get_client_outside_the_data_room_is_denied_before_any_lookup() {
    let (ports, uow) = Harness::new().build();
    let result = ClientUseCases::new(ports).get_client(&client_root(&["c1"]), "c2");
    assert_err(
        result,
        "errors.combinedDataroomDenied",
        "Permission denied: AccessControl.ClientView",
    );
    assert_storage_untouched(&uow);
}

#[test]
fn get_client_without_the_right_is_forbidden() {
    let (ports, _) = Harness::new().build();
    let result = ClientUseCases::new(ports).get_client(&helpdesk(&["c1"]), "c1");
    assert_err(
        result,
        "errors.insufficientRightsFunction",
        "Permission denied: Caller does not have the required right 'AccessControl.ClientView' to perform this action",
    );
}

#[test]
fn get_unknown_client_is_404() {
    let mut h = Harness::new();
    h.repos
        .clients
        .expect_find_by_ext_id()
        .withf(|e| e == "x")
        .returning(|_| Ok(None));
    let (ports, _) = h.build();
    let result = ClientUseCases::new(ports).get_client(&root(), "x");
    assert_err(
        result,
        "errors.noRecord",
        "Client doesn't exist with extId 'x'",
    );
}

#[test]
fn get_client_with_a_malformed_ext_id_is_404_without_a_lookup() {
    let (ports, _) = Harness::new().build();
    let result = ClientUseCases::new(ports).get_client(&root(), "a b");
    assert_err(
        result,
        "errors.noRecord",
        "Client doesn't exist with extId 'a b'",
    );
}
