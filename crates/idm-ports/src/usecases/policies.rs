//! Policies (SPEC §8.4) and the default policies every client gets (SPEC §5).

use chrono::{DateTime, Utc};
use idm_domain::access::{Requirement, Right};
use idm_domain::policy::{
    check_version, validate_name, Policy, PolicyParameters, PolicyPatch, PolicyType,
};
use idm_domain::{DomainError, ExtId};

use super::lookup;
use super::{Body, CreatePolicy, PolicyService, PolicyView, Ports};
use crate::caller::Caller;
use crate::error::{AppResult, StoreError, UniqueKey};
use crate::permit::Permit;
use crate::repos::{transact, Repos, TxMode};
use crate::write::{write, Change, Tx};

/// The extId of a client's bootstrap default policy of `policy_type`, e.g. `default-PwdPolicy`:
/// predictable, so operators can address it without a list endpoint.
pub fn default_policy_ext_id(policy_type: PolicyType) -> ExtId {
    ExtId::generated(format!("default-{}", policy_type.as_str()))
}

/// Inserts the three default policies of a new client.
pub(crate) fn insert_default_policies(
    tx: &mut Tx<'_>,
    permit: &Permit,
    ports: &Ports,
    client_id: &str,
    now: DateTime<Utc>,
) -> AppResult<()> {
    for policy_type in PolicyType::ALL {
        let policy = Policy {
            id: ports.ids.new_id(),
            client_id: client_id.to_owned(),
            ext_id: default_policy_ext_id(policy_type),
            name: policy_type.default_policy_name().to_owned(),
            description: None,
            policy_type,
            default_policy: true,
            parameters: PolicyParameters::defaults(policy_type),
            created: now,
            last_modified: now,
            version: 1,
        };
        tx.apply(permit, Change::PolicyCreated(&policy))?;
    }
    Ok(())
}

/// The policy use cases.
pub struct PolicyUseCases {
    ports: Ports,
}

impl PolicyUseCases {
    /// Builds the use cases over the shared ports.
    pub fn new(ports: Ports) -> Self {
        PolicyUseCases { ports }
    }
}

fn view(policy: Policy, client_ext_id: &ExtId) -> PolicyView {
    PolicyView {
        policy,
        client_ext_id: client_ext_id.clone(),
    }
}

fn find(repos: &mut dyn Repos, client_id: &str, ext_id: &str) -> AppResult<Policy> {
    let found = if ExtId::is_valid(ext_id) {
        repos.policies().find_by_ext_id(client_id, ext_id)?
    } else {
        None
    };
    found.ok_or_else(|| DomainError::PolicyNotFound(ext_id.to_owned()).into())
}

const CREATE: [Right; 1] = [Right::PolicyCreate];
const VIEW: [Right; 1] = [Right::PolicyConfigurationView];
const MODIFY: [Right; 1] = [Right::PolicyModify];

impl PolicyService for PolicyUseCases {
    fn create_policy(
        &self,
        caller: &Caller,
        client: &str,
        cmd: Body<CreatePolicy>,
    ) -> AppResult<PolicyView> {
        let permit = caller
            .authorize(Requirement::rights(&CREATE), Some(client), None)?
            .without_user_target()?;
        let ports = &self.ports;
        write(ports, |tx| {
            let repos = tx.repos();
            let c = lookup::client(repos, client)?;
            let cmd = cmd.clone()?;
            let name = validate_name(cmd.name.as_deref().unwrap_or_default())?;
            let policy_type: PolicyType = cmd
                .policy_type
                .as_deref()
                .ok_or_else(|| DomainError::NullParameter("policyType".into()))?
                .parse()?;
            let parameters = PolicyParameters::validated(policy_type, cmd.parameters.clone())?;
            let ext_id = lookup::ext_id_or_generated(cmd.ext_id.clone(), || ports.ids.new_id())?;
            if repos
                .policies()
                .find_by_ext_id(&c.id, ext_id.as_str())?
                .is_some()
            {
                return Err(DomainError::DuplicatePolicyExtId(ext_id.to_string()).into());
            }
            let now = tx.now();
            if cmd.default_policy {
                tx.apply(
                    &permit,
                    Change::PolicyDefaultCleared {
                        client_id: &c.id,
                        policy_type,
                    },
                )?;
            }
            let policy = Policy {
                id: ports.ids.new_id(),
                client_id: c.id.clone(),
                ext_id,
                name,
                description: cmd.description.clone(),
                policy_type,
                default_policy: cmd.default_policy,
                parameters,
                created: now,
                last_modified: now,
                version: 1,
            };
            match tx.apply(&permit, Change::PolicyCreated(&policy)) {
                Err(StoreError::Unique(UniqueKey::PolicyExtId)) => {
                    return Err(DomainError::DuplicatePolicyExtId(policy.ext_id.to_string()).into())
                }
                other => other?,
            }
            Ok(view(policy, &c.ext_id))
        })
    }

    fn get_policy(&self, caller: &Caller, client: &str, ext_id: &str) -> AppResult<PolicyView> {
        caller
            .authorize(Requirement::rights(&VIEW), Some(client), None)?
            .read();
        transact(&*self.ports.uow, TxMode::Read, |repos| {
            let c = lookup::client(repos, client)?;
            Ok(view(find(repos, &c.id, ext_id)?, &c.ext_id))
        })
    }

    fn patch_policy(
        &self,
        caller: &Caller,
        client: &str,
        ext_id: &str,
        patch: Body<PolicyPatch>,
    ) -> AppResult<PolicyView> {
        let permit = caller
            .authorize(Requirement::rights(&MODIFY), Some(client), None)?
            .without_user_target()?;
        let ports = &self.ports;
        write(ports, |tx| {
            let c = lookup::client(tx.repos(), client)?;
            let mut policy = find(tx.repos(), &c.id, ext_id)?;
            let patch = patch.clone()?;
            check_version(policy.version, patch.version)?;
            let before = policy.clone();
            if policy.apply(patch, tx.now())? {
                tx.apply(
                    &permit,
                    Change::PolicyDefaultCleared {
                        client_id: &c.id,
                        policy_type: policy.policy_type,
                    },
                )?;
            }
            tx.apply(
                &permit,
                Change::PolicyUpdated {
                    before: &before,
                    after: &policy,
                },
            )?;
            Ok(view(policy, &c.ext_id))
        })
    }
}
