//! SPEC §2: storage unavailable answers 503 from every use case.

use idm_domain::paging::PageRequest;
use idm_domain::policy::PolicyPatch;

use super::support::*;
use crate::error::AppError;
use crate::usecases::{
    BootstrapSettings, Bootstrapper, CallerAuthenticator, ClientService, ClientUseCases,
    CreateClient, CreatePolicy, CreateUser, GrantRole, PasswordCallerAuthenticator, PolicyService,
    PolicyUseCases, RoleService, RoleUseCases, UserService, UserUseCases,
};

fn ports() -> crate::usecases::Ports {
    failing_ports(AppError::Unavailable).0
}

#[test]
fn every_use_case_propagates_unavailable_storage() {
    let caller = root();
    let client_cmd = CreateClient {
        ext_id: None,
        name: Some("New".into()),
    };
    let user_cmd = CreateUser {
        login_id: Some("jdoe".into()),
        ..CreateUser::default()
    };
    let policy_cmd = CreatePolicy {
        name: Some("P".into()),
        policy_type: Some("PwdPolicy".into()),
        ..CreatePolicy::default()
    };
    let grant_cmd = GrantRole {
        role: Some("Helpdesk".into()),
        client_ext_ids: None,
    };
    let results: Vec<(&str, Result<(), AppError>)> = vec![
        (
            "create_client",
            ClientUseCases::new(ports())
                .create_client(&caller, Ok(client_cmd))
                .map(drop),
        ),
        (
            "get_client",
            ClientUseCases::new(ports())
                .get_client(&caller, "c1")
                .map(drop),
        ),
        (
            "create_user",
            UserUseCases::new(ports())
                .create_user(&caller, "c1", Ok(user_cmd))
                .map(drop),
        ),
        (
            "get_user",
            UserUseCases::new(ports())
                .get_user(&caller, "c1", "u1")
                .map(drop),
        ),
        (
            "list_credentials",
            UserUseCases::new(ports())
                .list_credentials(&caller, "c1", "u1", PageRequest::default())
                .map(drop),
        ),
        (
            "grant_role",
            RoleUseCases::new(ports())
                .grant_role(&caller, "c1", "u1", Ok(grant_cmd))
                .map(drop),
        ),
        (
            "list_roles",
            RoleUseCases::new(ports())
                .list_roles(&caller, "c1", "u1")
                .map(drop),
        ),
        (
            "revoke_role",
            RoleUseCases::new(ports()).revoke_role(&caller, "c1", "u1", "Helpdesk"),
        ),
        (
            "create_policy",
            PolicyUseCases::new(ports())
                .create_policy(&caller, "c1", Ok(policy_cmd))
                .map(drop),
        ),
        (
            "get_policy",
            PolicyUseCases::new(ports())
                .get_policy(&caller, "c1", "p1")
                .map(drop),
        ),
        (
            "patch_policy",
            PolicyUseCases::new(ports())
                .patch_policy(&caller, "c1", "p1", Ok(PolicyPatch::default()))
                .map(drop),
        ),
        (
            "bootstrap",
            Bootstrapper::new(ports())
                .run(&BootstrapSettings {
                    admin_login: "admin".into(),
                    admin_password: None,
                })
                .map(drop),
        ),
    ];
    for (name, result) in results {
        assert_eq!(result, Err(AppError::Unavailable), "{name}");
    }
}

#[test]
fn authentication_propagates_unavailable_storage_instead_of_401() {
    let (ports, uow) = failing_ports(AppError::Unavailable);
    let result = PasswordCallerAuthenticator::new(ports).authenticate("c1/jdoe", "pw", None);
    assert_eq!(result.unwrap_err(), AppError::Unavailable);
    assert_no_events(&uow);
}
