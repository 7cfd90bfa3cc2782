//! Clients (SPEC §8.1) and their list and PATCH (SPEC §12).

use idm_domain::access::{data_room_of, DataRoom, Requirement, Right};
use idm_domain::client::{Client, ClientPatch};
use idm_domain::paging::{Page, PageCursor, PageRequest};
use idm_domain::policy::{check_version, validate_name};
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
const MODIFY: [Right; 1] = [Right::ClientModify];

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
            let permit = permit.clone().on_client(client.ext_id.clone());
            insert_client_with_defaults(tx, &permit, ports, &client)?;
            Ok::<_, AppError>(client)
        })
    }

    fn get_client(&self, caller: &Caller, ext_id: &str) -> AppResult<Client> {
        caller
            .authorize(Requirement::rights(&VIEW), Some(ext_id), None)?
            .read();
        transact(&*self.ports.uow, TxMode::Read, |repos| {
            lookup::client(repos, ext_id)
        })
    }

    fn list_clients(&self, caller: &Caller, page: PageRequest) -> AppResult<Page<Client>> {
        // Not the step-2 test of one client: the list shows what the caller's `ClientView`
        // grants cover together (SPEC §12); without any, it is the ordinary missing right.
        let room = data_room_of(&caller.grants, Right::ClientView)
            .ok_or(DomainError::MissingRight(Right::ClientView))?;
        let ext_ids: Option<Vec<String>> = match room {
            DataRoom::Global => None,
            DataRoom::Clients(set) => Some(set.iter().map(ToString::to_string).collect()),
        };
        transact(&*self.ports.uow, TxMode::Read, |repos| {
            let rows = repos.clients().list(ext_ids.as_deref(), &page)?;
            Ok(Page::from_overfetch(rows, page.limit, |c| PageCursor {
                created: c.created,
                ext_id: c.ext_id.to_string(),
            }))
        })
    }

    fn patch_client(
        &self,
        caller: &Caller,
        ext_id: &str,
        patch: Body<ClientPatch>,
    ) -> AppResult<Client> {
        let permit = caller
            .authorize(Requirement::rights(&MODIFY), Some(ext_id), None)?
            .without_user_target()?;
        write(&self.ports, |tx| {
            let now = tx.now();
            let repos = tx.repos();
            let mut client = lookup::client(repos, ext_id)?;
            let patch = patch.clone()?;
            check_version(client.version, patch.version)?;
            let before = client.clone();
            client.apply(patch, now)?;
            let duplicate = || DomainError::DuplicateClientName(client.name.clone());
            if client.name != before.name
                && repos
                    .clients()
                    .find_by_name(&client.name)?
                    .is_some_and(|other| other.id != client.id)
            {
                return Err(duplicate().into());
            }
            let change = Change::ClientUpdated {
                before: &before,
                after: &client,
            };
            match tx.apply(&permit, change) {
                Err(StoreError::Unique(UniqueKey::ClientName)) => return Err(duplicate().into()),
                other => other?,
            }
            Ok(client.clone())
        })
    }
}
