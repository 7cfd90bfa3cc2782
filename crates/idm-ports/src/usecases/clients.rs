//! Clients (SPEC §8.1).

use idm_domain::access::{Requirement, Right};
use idm_domain::client::Client;
use idm_domain::policy::validate_name;
use idm_domain::{DomainError, ExtId};

use super::policies::insert_default_policies;
use super::{lookup, Body, ClientService, CreateClient, Ports};
use crate::caller::Caller;
use crate::error::{AppError, AppResult, StoreError, UniqueKey};
use crate::permit::Permit;
use crate::repos::{transact, TxMode};
use crate::write::{write, Change, Tx};

/// The client use cases.
pub struct ClientUseCases {
    ports: Ports,
}

impl ClientUseCases {
    /// Builds the use cases over the shared ports.
    pub fn new(ports: Ports) -> Self {
        ClientUseCases { ports }
    }
}

/// Inserts a client and its default policies, mapping lost uniqueness races to the SPEC errors.
pub(crate) fn insert_client_with_defaults(
    tx: &mut Tx<'_>,
    permit: &Permit,
    ports: &Ports,
    client: &Client,
) -> AppResult<()> {
    match tx.apply(permit, Change::ClientCreated(client)) {
        Err(StoreError::Unique(UniqueKey::ClientName)) => {
            return Err(DomainError::DuplicateClientName(client.name.clone()).into())
        }
        Err(StoreError::Unique(UniqueKey::ClientExtId)) => {
            return Err(DomainError::DuplicateClientExtId(client.ext_id.to_string()).into())
        }
        other => other?,
    }
    insert_default_policies(tx, permit, ports, &client.id, client.created)
}

const CREATE: [Right; 1] = [Right::ClientCreate];
const VIEW: [Right; 1] = [Right::ClientView];

impl ClientService for ClientUseCases {
    fn create_client(&self, caller: &Caller, cmd: Body<CreateClient>) -> AppResult<Client> {
        let permit = caller
            .authorize(Requirement::rights(&CREATE), None, None)?
            .without_user_target()?;
        let cmd = cmd?;
        let name = validate_name(cmd.name.as_deref().unwrap_or_default())?;
        let ports = &self.ports;
        let ext_id: ExtId = lookup::ext_id_or_generated(cmd.ext_id.clone(), || ports.ids.new_id())?;
        write(ports, |tx| {
            let repos = tx.repos();
            if repos.clients().find_by_name(&name)?.is_some() {
                return Err(DomainError::DuplicateClientName(name.clone()).into());
            }
            if repos.clients().find_by_ext_id(ext_id.as_str())?.is_some() {
                return Err(DomainError::DuplicateClientExtId(ext_id.to_string()).into());
            }
            let now = tx.now();
            let client = Client {
                id: ports.ids.new_id(),
                ext_id: ext_id.clone(),
                name: name.clone(),
                created: now,
                last_modified: now,
                version: 1,
            };
            insert_client_with_defaults(tx, &permit, ports, &client)?;
            Ok::<_, AppError>(client)
        })
    }

    fn get_client(&self, caller: &Caller, ext_id: &str) -> AppResult<Client> {
        caller.authorize(Requirement::rights(&VIEW), Some(ext_id), None)?.read();
        transact(&*self.ports.uow, TxMode::Read, |repos| {
            lookup::client(repos, ext_id)
        })
    }
}
