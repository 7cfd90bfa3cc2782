//! SPEC §5 and §8.4: policies.

use std::collections::BTreeMap;

use idm_domain::access::Right;
use idm_domain::policy::{PolicyParameters, PolicyPatch, PolicyType};
use idm_domain::DomainError;

use super::support::*;
use crate::error::{StoreError, UniqueKey};
use crate::testing::MockRepos;
use crate::usecases::{CreatePolicy, PolicyService, PolicyUseCases};

fn params(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn create(policy_type: Option<&str>, parameters: &[(&str, &str)]) -> CreatePolicy {
    CreatePolicy {
        ext_id: Some("p1".into()),
        name: Some("Strict".into()),
        description: Some("for admins".into()),
        policy_type: policy_type.map(str::to_owned),
        default_policy: false,
        parameters: params(parameters),
    }
}

fn use_cases(
    h: Harness,
) -> (
    PolicyUseCases,
    std::sync::Arc<crate::testing::MockedUnitOfWork>,
) {
    let (ports, uow) = h.build();
    (PolicyUseCases::new(ports), uow)
}

fn expect_p1_free(repos: &mut MockRepos) {
    repos
        .policies
        .expect_find_by_ext_id()
        .withf(|c, e| c == "client-c1" && e == "p1")
        .returning(|_, _| Ok(None));
}

fn expect_stored(repos: &mut MockRepos, stored: idm_domain::policy::Policy) {
    let wanted = stored.ext_id.to_string();
    repos
        .policies
        .expect_find_by_ext_id()
        .withf(move |c, e| c == "client-c1" && e == wanted)
        .returning(move |_, _| Ok(Some(stored.clone())));
}

#[test]
fn create_inserts_a_validated_policy() {
    let mut h = Harness::new();
    expect_acme(&mut h.repos);
    expect_p1_free(&mut h.repos);
    h.repos.policies.expect_clear_default().never();
    h.repos
        .policies
        .expect_insert()
        .withf(|p| {
            p.id == "id-1"
                && p.client_id == "client-c1"
                && p.ext_id.as_str() == "p1"
                && p.policy_type == PolicyType::Pwd
                && !p.default_policy
                && p.parameters.explicit() == &params(&[("minLength", "12")])
                && p.version == 1
                && p.created == now()
        })
        .returning(|_| Ok(()));
    let (uc, uow) = use_cases(h);
    let view = uc
        .create_policy(
            &client_root(&["c1"]),
            "c1",
            Ok(create(Some("PwdPolicy"), &[("minLength", "12")])),
        )
        .unwrap();
    assert_eq!(view.client_ext_id.as_str(), "c1");
    assert_eq!(view.policy.name, "Strict");
    assert_eq!(view.policy.description.as_deref(), Some("for admins"));
    assert_eq!(view.policy.parameters.password().min_length, 12);
    let created = event(&uow, "policy.created");
    assert_eq!(created.event.policy_ext_id.as_deref(), Some("p1"));
    assert_eq!(created.event.client_ext_id.as_deref(), Some("c1"));
    assert_eq!(created.event.actor, actor_of(&client_root(&["c1"])));
    assert_eq!(
        created.event.changes["parameters"],
        serde_json::json!([null, {"minLength": "12"}])
    );
}

#[test]
fn unknown_parameter_for_the_type_is_rejected() {
    let mut h = Harness::new();
    expect_acme(&mut h.repos);
    h.repos.policies.expect_insert().never();
    let (uc, _) = use_cases(h);
    let result = uc.create_policy(
        &root(),
        "c1",
        Ok(create(Some("VascoPolicy"), &[("minLength", "8")])),
    );
    assert_err(
        result,
        "errors.pcyconf.invalidParamName",
        "Unknown parameter 'minLength' for policy type VascoPolicy",
    );
}

#[test]
fn bad_parameter_value_is_rejected() {
    let mut h = Harness::new();
    expect_acme(&mut h.repos);
    h.repos.policies.expect_insert().never();
    let (uc, _) = use_cases(h);
    let result = uc.create_policy(
        &root(),
        "c1",
        Ok(create(Some("OathPolicy"), &[("initialDigits", "9")])),
    );
    assert_err(
        result,
        "errors.pcyconf.invalidParamValue",
        "Invalid value '9' for parameter 'initialDigits'",
    );
}

#[test]
fn policy_type_is_mandatory() {
    let mut h = Harness::new();
    expect_acme(&mut h.repos);
    let (uc, _) = use_cases(h);
    let result = uc.create_policy(&root(), "c1", Ok(create(None, &[])));
    assert_err(
        result,
        "errors.nullParameter",
        "The 'policyType' parameter is mandatory.",
    );
}

#[test]
fn unknown_policy_type_is_rejected() {
    let mut h = Harness::new();
    expect_acme(&mut h.repos);
    let (uc, _) = use_cases(h);
    let result = uc.create_policy(&root(), "c1", Ok(create(Some("FooPolicy"), &[])));
    assert_err(
        result,
        "errors.invalidParameter",
        "Unknown policy type 'FooPolicy'",
    );
}

#[test]
fn name_is_mandatory() {
    let mut h = Harness::new();
    expect_acme(&mut h.repos);
    let (uc, _) = use_cases(h);
    let mut cmd = create(Some("PwdPolicy"), &[]);
    cmd.name = None;
    assert_err(
        uc.create_policy(&root(), "c1", Ok(cmd)),
        "errors.nullParameter",
        "The 'name' parameter is mandatory.",
    );
}

#[test]
fn taken_ext_id_is_rejected() {
    let mut h = Harness::new();
    expect_acme(&mut h.repos);
    expect_stored(&mut h.repos, policy(&acme(), "p1", PolicyType::Pwd, false));
    h.repos.policies.expect_insert().never();
    let (uc, _) = use_cases(h);
    let result = uc.create_policy(&root(), "c1", Ok(create(Some("PwdPolicy"), &[])));
    assert_err(
        result,
        "errors.duplicateName",
        "A policy with this extId 'p1' already exists",
    );
}

#[test]
fn lost_ext_id_race_is_a_duplicate() {
    let mut h = Harness::new();
    expect_acme(&mut h.repos);
    expect_p1_free(&mut h.repos);
    h.repos
        .policies
        .expect_insert()
        .returning(|_| Err(StoreError::Unique(UniqueKey::PolicyExtId)));
    let (uc, uow) = use_cases(h);
    let result = uc.create_policy(&root(), "c1", Ok(create(Some("PwdPolicy"), &[])));
    assert_err(
        result,
        "errors.duplicateName",
        "A policy with this extId 'p1' already exists",
    );
    assert_no_events(&uow);
}

#[test]
fn default_policy_clears_the_old_default_before_the_insert() {
    let mut h = Harness::new();
    expect_acme(&mut h.repos);
    expect_p1_free(&mut h.repos);
    let log = CallLog::default();
    let l = log.clone();
    h.repos
        .policies
        .expect_clear_default()
        .withf(|c, t, at| c == "client-c1" && *t == PolicyType::Oath && *at == now())
        .returning(move |_, _, _| {
            l.push("clear_default");
            Ok(())
        });
    let l = log.clone();
    h.repos
        .policies
        .expect_insert()
        .withf(|p| p.default_policy && p.policy_type == PolicyType::Oath)
        .returning(move |_| {
            l.push("insert");
            Ok(())
        });
    let (uc, uow) = use_cases(h);
    let mut cmd = create(Some("OathPolicy"), &[("issuer", "Acme")]);
    cmd.default_policy = true;
    let view = uc.create_policy(&root(), "c1", Ok(cmd)).unwrap();
    assert!(view.policy.default_policy);
    assert_eq!(log.get(), ["clear_default", "insert"]);
    assert_eq!(uow.actions(), ["policy.created"]);
}

#[test]
fn create_checks_rights_data_room_client_then_body() {
    let (uc, uow) = use_cases(Harness::new());
    assert_eq!(
        domain_err(uc.create_policy(&helpdesk(&["c1"]), "c1", Err(malformed_body()))),
        DomainError::MissingRight(Right::PolicyCreate)
    );
    assert_eq!(
        domain_err(uc.create_policy(&client_root(&["c1"]), "c2", Err(malformed_body()))),
        DomainError::DataRoomDenied(Right::PolicyCreate)
    );
    assert_storage_untouched(&uow);

    let mut h = Harness::new();
    h.repos
        .clients
        .expect_find_by_ext_id()
        .returning(|_| Ok(None));
    let (uc, _) = use_cases(h);
    assert_err(
        uc.create_policy(&root(), "c9", Err(malformed_body())),
        "errors.noRecord",
        "Client doesn't exist with extId 'c9'",
    );

    let mut h = Harness::new();
    expect_acme(&mut h.repos);
    let (uc, _) = use_cases(h);
    assert_eq!(
        uc.create_policy(&root(), "c1", Err(malformed_body())),
        Err(malformed_body())
    );
}

#[test]
fn get_policy_reads_it() {
    let mut h = Harness::new();
    expect_acme(&mut h.repos);
    expect_stored(&mut h.repos, policy(&acme(), "p1", PolicyType::Vasco, true));
    let (uc, uow) = use_cases(h);
    let view = uc.get_policy(&helpdesk(&["c1"]), "c1", "p1").unwrap();
    assert_eq!(view.policy, policy(&acme(), "p1", PolicyType::Vasco, true));
    assert_eq!(view.client_ext_id.as_str(), "c1");
    assert_no_events(&uow);
}

#[test]
fn get_unknown_policy_is_404() {
    let mut h = Harness::new();
    expect_acme(&mut h.repos);
    h.repos
        .policies
        .expect_find_by_ext_id()
        .returning(|_, _| Ok(None));
    let (uc, _) = use_cases(h);
    let result = uc.get_policy(&root(), "c1", "p9");
    assert_err(
        result,
        "errors.noRecord",
        "PolicyConfiguration doesn't exist with extId 'p9'",
    );
}

#[test]
fn get_policy_with_a_malformed_ext_id_is_404_without_a_lookup() {
    let mut h = Harness::new();
    expect_acme(&mut h.repos);
    let (uc, _) = use_cases(h);
    let result = uc.get_policy(&root(), "c1", "a b");
    assert_err(
        result,
        "errors.noRecord",
        "PolicyConfiguration doesn't exist with extId 'a b'",
    );
}

#[test]
fn patch_with_a_stale_version_conflicts_without_an_update() {
    let mut h = Harness::new();
    expect_acme(&mut h.repos);
    expect_stored(&mut h.repos, policy(&acme(), "p1", PolicyType::Pwd, false));
    h.repos.policies.expect_update().never();
    h.repos.policies.expect_clear_default().never();
    let (uc, uow) = use_cases(h);
    let patch = PolicyPatch {
        name: Some("Renamed".into()),
        version: Some(2),
        ..PolicyPatch::default()
    };
    let result = uc.patch_policy(&root(), "c1", "p1", Ok(patch));
    assert_err(
        result,
        "errors.optimisticLockingFailure",
        "The entity was modified concurrently; reload it and retry.",
    );
    assert_no_events(&uow);
}

#[test]
fn patch_merges_parameters_and_bumps_the_version() {
    let mut h = Harness::new();
    expect_acme(&mut h.repos);
    let mut stored = policy(&acme(), "p1", PolicyType::Pwd, false);
    stored.parameters =
        PolicyParameters::validated(PolicyType::Pwd, params(&[("minLength", "10")])).unwrap();
    expect_stored(&mut h.repos, stored);
    h.repos.policies.expect_clear_default().never();
    let merged = params(&[("minLength", "10"), ("maxLength", "64")]);
    h.repos
        .policies
        .expect_update()
        .withf(move |p, expected| {
            *expected == 3
                && p.version == 4
                && p.last_modified == now()
                && p.parameters.explicit() == &merged
                && p.name == "Renamed"
        })
        .returning(|_, _| Ok(()));
    let (uc, uow) = use_cases(h);
    let patch = PolicyPatch {
        name: Some("Renamed".into()),
        parameters: Some(params(&[("maxLength", "64")])),
        version: Some(3),
        ..PolicyPatch::default()
    };
    let view = uc
        .patch_policy(&client_root(&["c1"]), "c1", "p1", Ok(patch))
        .unwrap();
    assert_eq!(view.policy.version, 4);
    assert_eq!(view.policy.parameters.password().min_length, 10);
    assert_eq!(view.policy.parameters.password().max_length, 64);
    let updated = event(&uow, "policy.updated");
    assert_eq!(updated.event.policy_ext_id.as_deref(), Some("p1"));
    assert_eq!(
        updated.event.changes["name"],
        serde_json::json!(["Policy p1", "Renamed"])
    );
    assert_eq!(
        updated.event.changes["parameters"],
        serde_json::json!([{"minLength": "10"}, {"minLength": "10", "maxLength": "64"}])
    );
    assert!(
        !updated.event.changes.contains_key("description"),
        "only what changed"
    );
}

#[test]
fn patch_with_an_invalid_merged_parameter_is_rejected() {
    let mut h = Harness::new();
    expect_acme(&mut h.repos);
    expect_stored(&mut h.repos, policy(&acme(), "p1", PolicyType::Pwd, false));
    h.repos.policies.expect_update().never();
    let (uc, _) = use_cases(h);
    let patch = PolicyPatch {
        parameters: Some(params(&[("resetCodeEnabled", "yes")])),
        ..PolicyPatch::default()
    };
    assert_err(
        uc.patch_policy(&root(), "c1", "p1", Ok(patch)),
        "errors.pcyconf.invalidParamValue",
        "Invalid value 'yes' for parameter 'resetCodeEnabled'",
    );
}

#[test]
fn patch_losing_the_compare_and_set_conflicts() {
    let mut h = Harness::new();
    expect_acme(&mut h.repos);
    expect_stored(&mut h.repos, policy(&acme(), "p1", PolicyType::Pwd, false));
    h.repos
        .policies
        .expect_update()
        .returning(|_, _| Err(StoreError::Conflict));
    let (uc, uow) = use_cases(h);
    let patch = PolicyPatch {
        description: Some("new".into()),
        ..PolicyPatch::default()
    };
    assert_err(
        uc.patch_policy(&root(), "c1", "p1", Ok(patch)),
        "errors.optimisticLockingFailure",
        "The entity was modified concurrently; reload it and retry.",
    );
    assert_no_events(&uow);
}

#[test]
fn patch_making_it_default_clears_the_old_default_first() {
    let mut h = Harness::new();
    expect_acme(&mut h.repos);
    expect_stored(
        &mut h.repos,
        policy(&acme(), "p1", PolicyType::Vasco, false),
    );
    let log = CallLog::default();
    let l = log.clone();
    h.repos
        .policies
        .expect_clear_default()
        .withf(|c, t, _| c == "client-c1" && *t == PolicyType::Vasco)
        .returning(move |_, _, _| {
            l.push("clear_default");
            Ok(())
        });
    let l = log.clone();
    h.repos
        .policies
        .expect_update()
        .withf(|p, _| p.default_policy)
        .returning(move |_, _| {
            l.push("update");
            Ok(())
        });
    let (uc, uow) = use_cases(h);
    let patch = PolicyPatch {
        default_policy: Some(true),
        ..PolicyPatch::default()
    };
    assert!(
        uc.patch_policy(&root(), "c1", "p1", Ok(patch))
            .unwrap()
            .policy
            .default_policy
    );
    assert_eq!(log.get(), ["clear_default", "update"]);
    assert_eq!(
        event(&uow, "policy.updated").event.changes["defaultPolicy"],
        serde_json::json!([false, true])
    );
}

#[test]
fn patch_of_the_current_default_to_default_does_not_clear_it() {
    let mut h = Harness::new();
    expect_acme(&mut h.repos);
    expect_stored(&mut h.repos, policy(&acme(), "p1", PolicyType::Vasco, true));
    h.repos.policies.expect_clear_default().never();
    h.repos.policies.expect_update().returning(|_, _| Ok(()));
    let (uc, _) = use_cases(h);
    let patch = PolicyPatch {
        default_policy: Some(true),
        ..PolicyPatch::default()
    };
    assert!(uc.patch_policy(&root(), "c1", "p1", Ok(patch)).is_ok());
}

#[test]
fn patch_unknown_policy_is_404_before_the_body() {
    let mut h = Harness::new();
    expect_acme(&mut h.repos);
    h.repos
        .policies
        .expect_find_by_ext_id()
        .returning(|_, _| Ok(None));
    let (uc, _) = use_cases(h);
    assert_err(
        uc.patch_policy(&root(), "c1", "p9", Err(malformed_body())),
        "errors.noRecord",
        "PolicyConfiguration doesn't exist with extId 'p9'",
    );
}

#[test]
fn patch_needs_policy_modify() {
    let (uc, uow) = use_cases(Harness::new());
    assert_err(
        uc.patch_policy(&helpdesk(&["c1"]), "c1", "p1", Ok(PolicyPatch::default())),
        "errors.insufficientRightsFunction",
        "Permission denied: Caller does not have the required right 'AccessControl.PolicyModify' to perform this action",
    );
    assert_storage_untouched(&uow);
}

#[test]
fn patch_cannot_unset_the_default() {
    let mut h = Harness::new();
    expect_acme(&mut h.repos);
    expect_stored(&mut h.repos, policy(&acme(), "p1", PolicyType::Pwd, true));
    h.repos.policies.expect_update().never();
    let (uc, _) = use_cases(h);
    let patch = PolicyPatch {
        default_policy: Some(false),
        ..PolicyPatch::default()
    };
    assert_err(
        uc.patch_policy(&root(), "c1", "p1", Ok(patch)),
        "errors.invalidParameter",
        "The default policy of type PwdPolicy cannot be unset; make another policy the default instead",
    );
}
