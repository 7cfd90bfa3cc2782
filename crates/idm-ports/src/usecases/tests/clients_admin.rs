//! SPEC §12: the client list and the client PATCH.

use std::sync::{Arc, Mutex};

use idm_domain::access::Right;
use idm_domain::client::{Client, ClientPatch};
use idm_domain::paging::{PageCursor, PageRequest};
use idm_domain::patch::Patch;
use idm_domain::DomainError;
use serde_json::json;

use super::support::*;
use crate::error::{StoreError, UniqueKey};
use crate::repos::TxMode;
use crate::testing::MockedUnitOfWork;
use crate::usecases::{ClientService, ClientUseCases};

fn use_cases(h: Harness) -> (ClientUseCases, Arc<MockedUnitOfWork>) {
    let (ports, uow) = h.build();
    (ClientUseCases::new(ports), uow)
}

fn rename(name: &str, version: Option<i64>) -> ClientPatch {
    ClientPatch {
        name: Patch::Set(name.into()),
        version,
    }
}

// ---- list -------------------------------------------------------------------------------

#[test]
fn a_global_client_view_lists_every_client() {
    let mut h = Harness::new();
    let rows = vec![acme(), client("c2", "Beta"), client("c3", "Gamma")];
    let returned = rows.clone();
    h.repos
        .clients
        .expect_list()
        .withf(|ext_ids, page| ext_ids.is_none() && page.limit == 2)
        .times(1)
        .returning(move |_, _| Ok(returned.clone()));
    let (uc, uow) = use_cases(h);
    let page = uc
        .list_clients(
            &root(),
            PageRequest {
                limit: 2,
                after: None,
            },
        )
        .unwrap();
    assert_eq!(page.items, rows[..2].to_vec());
    assert_eq!(
        page.next,
        Some(PageCursor {
            created: earlier(),
            ext_id: "c2".into(),
        })
    );
    assert_eq!(uow.modes(), vec![TxMode::Read]);
}

#[test]
fn a_data_room_grant_lists_only_its_clients() {
    let mut h = Harness::new();
    h.repos
        .clients
        .expect_list()
        .withf(|ext_ids, _| ext_ids == &Some(&["c1".to_owned(), "c2".to_owned()][..]))
        .times(1)
        .returning(|_, _| Ok(vec![acme()]));
    let (uc, _) = use_cases(h);
    let page = uc
        .list_clients(&client_root(&["c2", "c1"]), PageRequest::default())
        .unwrap();
    assert_eq!(page.items, vec![acme()]);
    assert_eq!(page.next, None);
}

#[test]
fn without_client_view_the_list_is_403_before_storage() {
    let (uc, uow) = use_cases(Harness::new());
    for caller in [helpdesk(&["c1"]), user_admin(&[]), nobody()] {
        assert_err(
            uc.list_clients(&caller, PageRequest::default()),
            "errors.insufficientRightsFunction",
            "Permission denied: Caller does not have the required right 'AccessControl.ClientView' to perform this action",
        );
    }
    assert_storage_untouched(&uow);
}

// ---- PATCH ------------------------------------------------------------------------------

fn expect_updates(h: &mut Harness, stored_version: i64) -> Arc<Mutex<Vec<Client>>> {
    let written = Arc::new(Mutex::new(Vec::new()));
    let sink = written.clone();
    h.repos
        .clients
        .expect_update()
        .returning(move |c, expected| {
            if expected != stored_version {
                return Err(StoreError::Conflict);
            }
            sink.lock().unwrap().push(c.clone());
            Ok(())
        });
    written
}

#[test]
fn patch_needs_client_modify_with_the_path_client_as_data_room() {
    let (uc, uow) = use_cases(Harness::new());
    assert_eq!(
        domain_err(uc.patch_client(&user_admin(&["c1"]), "c1", Err(malformed_body()))),
        DomainError::MissingRight(Right::ClientModify)
    );
    assert_err(
        uc.patch_client(&client_root(&["c2"]), "c1", Ok(rename("X", None))),
        "errors.combinedDataroomDenied",
        "Permission denied: AccessControl.ClientModify",
    );
    assert_storage_untouched(&uow);
}

#[test]
fn patch_renames_under_compare_and_set_and_records_it() {
    let mut h = Harness::new();
    expect_acme(&mut h.repos);
    h.repos
        .clients
        .expect_find_by_name()
        .withf(|n| n == "Acme Corp")
        .returning(|_| Ok(None));
    let written = expect_updates(&mut h, 1);
    let (uc, uow) = use_cases(h);
    let client = uc
        .patch_client(
            &client_root(&["c1"]),
            "c1",
            Ok(rename(" Acme Corp ", Some(1))),
        )
        .unwrap();
    let mut expected = acme();
    expected.name = "Acme Corp".into();
    expected.version = 2;
    expected.last_modified = now();
    assert_eq!(client, expected);
    assert_eq!(*written.lock().unwrap(), vec![expected]);
    let e = event(&uow, "client.updated");
    assert_eq!(e.event.client_ext_id.as_deref(), Some("c1"));
    assert_eq!(e.event.changes["name"], json!(["Acme", "Acme Corp"]));
}

#[test]
fn a_taken_name_is_422_and_the_own_name_is_fine() {
    let mut h = Harness::new();
    expect_acme(&mut h.repos);
    h.repos
        .clients
        .expect_find_by_name()
        .returning(|_| Ok(Some(client("c2", "Beta"))));
    h.repos.clients.expect_update().never();
    let (uc, uow) = use_cases(h);
    assert_err(
        uc.patch_client(&root(), "c1", Ok(rename("Beta", None))),
        "errors.duplicateName",
        "A client with this name 'Beta' already exists",
    );
    assert_no_events(&uow);

    let mut h = Harness::new();
    expect_acme(&mut h.repos);
    h.repos
        .clients
        .expect_find_by_name()
        .returning(|_| Ok(None));
    h.repos
        .clients
        .expect_update()
        .returning(|_, _| Err(StoreError::Unique(UniqueKey::ClientName)));
    let (uc, _) = use_cases(h);
    assert_err(
        uc.patch_client(&root(), "c1", Ok(rename("Racer", None))),
        "errors.duplicateName",
        "A client with this name 'Racer' already exists",
    );

    let mut h = Harness::new();
    expect_acme(&mut h.repos);
    h.repos.clients.expect_find_by_name().never();
    expect_updates(&mut h, 1);
    let (uc, _) = use_cases(h);
    assert_eq!(
        uc.patch_client(&root(), "c1", Ok(rename("Acme", None)))
            .unwrap()
            .version,
        2
    );
}

#[test]
fn a_missing_name_or_stale_version_is_refused() {
    for (patch, code, message) in [
        (
            ClientPatch {
                name: Patch::Remove,
                version: None,
            },
            "errors.nullParameter",
            "The 'name' parameter is mandatory.",
        ),
        (
            rename("   ", None),
            "errors.nullParameter",
            "The 'name' parameter is mandatory.",
        ),
        (
            rename("New", Some(3)),
            "errors.optimisticLockingFailure",
            "The entity was modified concurrently; reload it and retry.",
        ),
    ] {
        let mut h = Harness::new();
        expect_acme(&mut h.repos);
        h.repos.clients.expect_update().never();
        let (uc, uow) = use_cases(h);
        assert_err(uc.patch_client(&root(), "c1", Ok(patch)), code, message);
        assert_no_events(&uow);
    }

    // Both read version 1; the other writer won.
    let mut h = Harness::new();
    expect_acme(&mut h.repos);
    h.repos
        .clients
        .expect_find_by_name()
        .returning(|_| Ok(None));
    expect_updates(&mut h, 2);
    let (uc, _) = use_cases(h);
    assert_eq!(
        domain_err(uc.patch_client(&root(), "c1", Ok(rename("New", Some(1))))),
        DomainError::OptimisticLockingFailure
    );
}

#[test]
fn an_unknown_client_is_404_before_a_body_error() {
    let mut h = Harness::new();
    h.repos
        .clients
        .expect_find_by_ext_id()
        .returning(|_| Ok(None));
    let (uc, _) = use_cases(h);
    assert_err(
        uc.patch_client(&root(), "c9", Err(malformed_body())),
        "errors.noRecord",
        "Client doesn't exist with extId 'c9'",
    );
}
