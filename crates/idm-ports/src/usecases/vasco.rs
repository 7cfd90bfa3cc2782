//! VASCO Digipass credentials (SPEC §6.4, §8.7): created unassigned with their token data
//! blocks, then assigned to and unassigned from users.

use idm_domain::access::{Requirement, Right};
use idm_domain::client::Client;
use idm_domain::credential::{
    Credential, CredentialSecret, CredentialState, CredentialType, NewCredential, VascoToken,
};
use idm_domain::paging::{Page, PageCursor, PageRequest};
use idm_domain::policy::PolicyType;
use idm_domain::vasco::validate_tokens;
use idm_domain::{DomainError, ExtId};

use super::{lookup, Body, CreateVasco, Ports, VascoService};
use crate::caller::Caller;
use crate::error::{AppResult, StoreError, UniqueKey};
use crate::repos::{transact, CredentialRecord, Repos, TxMode};
use crate::write::{write, Change};

/// The VASCO use cases.
pub struct VascoUseCases {
    ports: Ports,
}

impl VascoUseCases {
    /// Builds the use cases over the shared ports.
    pub fn new(ports: Ports) -> Self {
        VascoUseCases { ports }
    }
}

/// The client's VASCO credential with this extId (locked for a write), or the SPEC 404.
fn find_vasco(
    repos: &mut dyn Repos,
    client: &Client,
    ext_id: &str,
    lock: bool,
) -> AppResult<CredentialRecord> {
    let found = if !ExtId::is_valid(ext_id) {
        None
    } else if lock {
        repos
            .credentials()
            .find_by_ext_id_for_update(&client.id, ext_id)?
    } else {
        repos.credentials().find_by_ext_id(&client.id, ext_id)?
    };
    found
        .filter(|r| r.credential.credential_type() == CredentialType::Vasco)
        .ok_or_else(|| DomainError::VascoNotFound(ext_id.to_owned()).into())
}

const CREATE: [Right; 2] = [Right::CredentialCreate, Right::CredentialView];
const VIEW: [Right; 1] = [Right::CredentialView];
const MODIFY: [Right; 2] = [Right::CredentialModify, Right::CredentialView];

impl VascoService for VascoUseCases {
    fn create_vasco(
        &self,
        caller: &Caller,
        client: &str,
        cmd: Body<CreateVasco>,
    ) -> AppResult<CredentialRecord> {
        let permit = caller
            .authorize(Requirement::rights(&CREATE), Some(client), None)?
            .without_user_target()?;
        let ports = &self.ports;
        write(ports, |tx| {
            let repos = tx.repos();
            let c = lookup::client(repos, client)?;
            let cmd = cmd.clone()?;
            // SPEC §6.4's checks, in their order.
            let ext_id = lookup::new_credential_ext_id(repos, &c, cmd.ext_id.clone(), || {
                ports.ids.new_id()
            })?;
            let inputs = cmd.vasco_tokens.clone().unwrap_or_default();
            if inputs.is_empty() {
                return Err(DomainError::VascoTokenRequired.into());
            }
            let state = match cmd.state_name.as_deref() {
                Some(name) => name.parse::<CredentialState>()?,
                None => CredentialState::Initial,
            };
            let policy = lookup::policy_for_create(
                repos,
                &c,
                cmd.policy_ext_id.as_deref(),
                PolicyType::Vasco,
            )?;
            let tokens: Vec<VascoToken> = inputs
                .into_iter()
                .map(|t| VascoToken {
                    auth_mode: t.auth_mode.unwrap_or_default(),
                    data: t.data.unwrap_or_default(),
                })
                .collect();
            validate_tokens(&tokens)?;
            let credential = Credential::new(
                NewCredential {
                    id: ports.ids.new_id(),
                    client_id: c.id.clone(),
                    user_id: None,
                    ext_id: ext_id.clone(),
                    policy: &policy,
                    state,
                    now: tx.now(),
                },
                CredentialSecret::Vasco { tokens },
            );
            match tx.apply(&permit, Change::CredentialCreated(&credential)) {
                // A concurrent create took the extId between our check and our insert.
                Err(StoreError::Unique(UniqueKey::CredentialExtId)) => {
                    return Err(DomainError::DuplicateCredentialExtId(ext_id.to_string()).into())
                }
                other => other?,
            }
            Ok(CredentialRecord {
                credential,
                user_ext_id: None,
                policy_ext_id: policy.ext_id.clone(),
            })
        })
    }

    fn list_vasco(
        &self,
        caller: &Caller,
        client: &str,
        page: PageRequest,
    ) -> AppResult<Page<CredentialRecord>> {
        caller
            .authorize(Requirement::rights(&VIEW), Some(client), None)?
            .read();
        transact(&*self.ports.uow, TxMode::Read, |repos| {
            let c = lookup::client(repos, client)?;
            let rows =
                repos
                    .credentials()
                    .list_of_type(&c.id, None, CredentialType::Vasco, &page)?;
            Ok(Page::from_overfetch(rows, page.limit, |r| PageCursor {
                created: r.credential.created,
                ext_id: r.credential.ext_id.to_string(),
            }))
        })
    }

    fn get_vasco(
        &self,
        caller: &Caller,
        client: &str,
        ext_id: &str,
    ) -> AppResult<CredentialRecord> {
        caller
            .authorize(Requirement::rights(&VIEW), Some(client), None)?
            .read();
        transact(&*self.ports.uow, TxMode::Read, |repos| {
            let c = lookup::client(repos, client)?;
            find_vasco(repos, &c, ext_id, false)
        })
    }

    fn assign_vasco(
        &self,
        caller: &Caller,
        client: &str,
        user: &str,
        ext_id: &str,
    ) -> AppResult<CredentialRecord> {
        let authorized = caller.authorize(Requirement::rights(&MODIFY), Some(client), None)?;
        let ports = &self.ports;
        write(ports, |tx| {
            let repos = tx.repos();
            let (c, u) = lookup::client_and_user(repos, client, user)?;
            let permit = lookup::user_permit(ports, repos, &authorized, &u, None)?;
            let mut record = find_vasco(repos, &c, ext_id, true)?;
            match record.credential.user_id.as_deref() {
                Some(owner) if owner == u.id => return Ok(record),
                Some(_) => return Err(DomainError::VascoAssigned(ext_id.to_owned()).into()),
                None => {}
            }
            let before = record.credential.clone();
            record.credential.assign_to(&u.id, tx.now());
            tx.apply(
                &permit,
                Change::CredentialUpdated {
                    action: "vasco.assigned",
                    before: &before,
                    after: &record.credential,
                },
            )?;
            record.user_ext_id = Some(u.ext_id.clone());
            Ok(record)
        })
    }

    fn unassign_vasco(
        &self,
        caller: &Caller,
        client: &str,
        ext_id: &str,
    ) -> AppResult<CredentialRecord> {
        let permit = caller
            .authorize(Requirement::rights(&MODIFY), Some(client), None)?
            .without_user_target()?;
        let ports = &self.ports;
        write(ports, |tx| {
            let c = lookup::client(tx.repos(), client)?;
            let mut record = find_vasco(tx.repos(), &c, ext_id, true)?;
            let before = record.credential.clone();
            record.credential.unassign(tx.now());
            tx.apply(
                &permit,
                Change::CredentialUpdated {
                    action: "vasco.unassigned",
                    before: &before,
                    after: &record.credential,
                },
            )?;
            record.user_ext_id = None;
            Ok(record)
        })
    }
}
