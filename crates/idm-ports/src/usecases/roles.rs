//! Role grants (SPEC §8.3).

use std::collections::BTreeSet;

use idm_domain::access::{may_grant, DataRoom, Requirement, Right, Role, RoleGrant};
use idm_domain::{DomainError, ExtId};

use super::{lookup, Body, GrantRole, Ports, RoleService};
use crate::caller::Caller;
use crate::error::AppResult;
use crate::repos::{transact, TxMode};
use crate::write::{write, Change};

/// The role use cases.
pub struct RoleUseCases {
    ports: Ports,
}

impl RoleUseCases {
    /// Builds the use cases over the shared ports.
    pub fn new(ports: Ports) -> Self {
        RoleUseCases { ports }
    }
}

fn data_room(client_ext_ids: Option<&Vec<String>>) -> AppResult<DataRoom> {
    let Some(ids) = client_ext_ids else {
        return Ok(DataRoom::Global);
    };
    if ids.is_empty() {
        return Err(DomainError::InvalidParameter(
            "The 'clientExtIds' list must not be empty; omit it for a global grant.".into(),
        )
        .into());
    }
    let set = ids
        .iter()
        .map(|raw| ExtId::parse_field(raw, "clientExtIds"))
        .collect::<Result<BTreeSet<_>, _>>()?;
    Ok(DataRoom::Clients(set))
}

const MODIFY: [Right; 1] = [Right::AuthorizationModify];
const VIEW: [Right; 1] = [Right::AuthorizationView];

impl RoleService for RoleUseCases {
    fn grant_role(
        &self,
        caller: &Caller,
        client: &str,
        user: &str,
        cmd: Body<GrantRole>,
    ) -> AppResult<RoleGrant> {
        let authorized = caller.authorize(Requirement::rights(&MODIFY), Some(client), None)?;
        let ports = &self.ports;
        write(ports, |tx| {
            let repos = tx.repos();
            let (_, u) = lookup::client_and_user(repos, client, user)?;
            let permit = lookup::user_permit(ports, repos, &authorized, &u, None)?;
            let cmd = cmd.clone()?;
            let role: Role = cmd
                .role
                .as_deref()
                .ok_or_else(|| DomainError::NullParameter("role".into()))?
                .parse()?;
            let grant = RoleGrant::new(role, data_room(cmd.client_ext_ids.as_ref())?);
            may_grant(&caller.grants, &grant)?;
            tx.apply(
                &permit,
                Change::RoleGranted {
                    user: &u,
                    grant: &grant,
                },
            )?;
            Ok(grant)
        })
    }

    fn list_roles(&self, caller: &Caller, client: &str, user: &str) -> AppResult<Vec<RoleGrant>> {
        caller
            .authorize(Requirement::rights_or_self(&VIEW), Some(client), Some(user))?
            .read();
        transact(&*self.ports.uow, TxMode::Read, |repos| {
            let (_, u) = lookup::client_and_user(repos, client, user)?;
            Ok(repos.roles().grants_of_user(&u.id)?)
        })
    }

    fn revoke_role(&self, caller: &Caller, client: &str, user: &str, role: &str) -> AppResult<()> {
        let authorized = caller.authorize(Requirement::rights(&MODIFY), Some(client), None)?;
        let ports = &self.ports;
        write(ports, |tx| {
            let repos = tx.repos();
            let (_, u) = lookup::client_and_user(repos, client, user)?;
            let permit = lookup::user_permit(ports, repos, &authorized, &u, None)?;
            let not_found = || DomainError::RoleGrantNotFound {
                user_ext_id: user.to_owned(),
                role: role.to_owned(),
            };
            let parsed: Role = role.parse().map_err(|_| not_found())?;
            let existing = repos
                .roles()
                .grants_of_user(&u.id)?
                .into_iter()
                .find(|g| g.role == parsed)
                .ok_or_else(not_found)?;
            // Revoking is as powerful as granting: only within the caller's own rights.
            may_grant(&caller.grants, &existing)?;
            if parsed == Role::Root {
                lookup::ensure_not_last_root(repos, &u)?;
            }
            tx.apply(
                &permit,
                Change::RoleRevoked {
                    user: &u,
                    role: parsed,
                },
            )?;
            Ok(())
        })
    }
}
