//! Users and their credential list (SPEC §8.2).

use idm_domain::access::{Requirement, Right};
use idm_domain::client::Client;
use idm_domain::paging::{Page, PageCursor, PageRequest};
use idm_domain::user::{
    validate_email, validate_login_id, validate_text, Contacts, PersonName, User,
};
use idm_domain::DomainError;

use super::{lookup, Body, CreateUser, Ports, UserService, UserView};
use crate::caller::Caller;
use crate::error::{AppResult, StoreError, UniqueKey};
use crate::write::{write, Change};
use crate::repos::{transact, CredentialRecord, TxMode};

/// The user use cases.
pub struct UserUseCases {
    ports: Ports,
}

impl UserUseCases {
    /// Builds the use cases over the shared ports.
    pub fn new(ports: Ports) -> Self {
        UserUseCases { ports }
    }
}

fn view(user: User, client: &Client) -> UserView {
    UserView {
        user,
        client_ext_id: client.ext_id.clone(),
    }
}

/// Checks the body of a user create (SPEC §3.4 step 6), after the client is resolved.
fn validated(cmd: &CreateUser) -> AppResult<(String, PersonName, Contacts)> {
    let login_id = validate_login_id(cmd.login_id.as_deref().unwrap_or_default())?;
    let name = PersonName {
        title: validate_text("title", cmd.name.title.clone())?,
        first_name: validate_text("firstName", cmd.name.first_name.clone())?,
        family_name: validate_text("familyName", cmd.name.family_name.clone())?,
    };
    let email = match cmd.contacts.email.as_deref() {
        Some(e) => Some(validate_email(e)?),
        None => None,
    };
    let contacts = Contacts {
        email,
        mobile: validate_text("mobile", cmd.contacts.mobile.clone())?,
    };
    Ok((login_id, name, contacts))
}

const CREATE: [Right; 1] = [Right::UserCreate];
const VIEW: [Right; 1] = [Right::UserView];
const CRED_VIEW: [Right; 1] = [Right::CredentialView];

impl UserService for UserUseCases {
    fn create_user(
        &self,
        caller: &Caller,
        client: &str,
        cmd: Body<CreateUser>,
    ) -> AppResult<UserView> {
        let permit = caller
            .authorize(Requirement::rights(&CREATE), Some(client), None)?
            .without_user_target()?;
        let ports = &self.ports;
        write(ports, |tx| {
            let repos = tx.repos();
            let c = lookup::client(repos, client)?;
            let cmd = cmd.clone()?;
            let (login_id, name, contacts) = validated(&cmd)?;
            let ext_id = lookup::ext_id_or_generated(cmd.ext_id.clone(), || ports.ids.new_id())?;
            let duplicate_login = || DomainError::DuplicateLoginId {
                login_id: login_id.clone(),
                client_name: c.name.clone(),
            };
            if repos.users().find_by_login_id(&c.id, &login_id)?.is_some() {
                return Err(duplicate_login().into());
            }
            if repos
                .users()
                .find_by_ext_id(&c.id, ext_id.as_str())?
                .is_some()
            {
                return Err(DomainError::DuplicateUserExtId(ext_id.to_string()).into());
            }
            let now = tx.now();
            let user = User {
                id: ports.ids.new_id(),
                client_id: c.id.clone(),
                ext_id: ext_id.clone(),
                login_id: login_id.clone(),
                state: cmd.state.unwrap_or_default(),
                language: cmd.language.unwrap_or_default(),
                is_technical_user: cmd.is_technical_user.unwrap_or(false),
                name: name.clone(),
                contacts: contacts.clone(),
                last_login: None,
                last_login_failure: None,
                created: now,
                last_modified: now,
                version: 1,
            };
            match tx.apply(&permit, Change::UserCreated(&user)) {
                Err(StoreError::Unique(UniqueKey::UserLoginId)) => {
                    return Err(duplicate_login().into())
                }
                Err(StoreError::Unique(UniqueKey::UserExtId)) => {
                    return Err(DomainError::DuplicateUserExtId(ext_id.to_string()).into())
                }
                other => other?,
            }
            Ok(view(user, &c))
        })
    }

    fn get_user(&self, caller: &Caller, client: &str, user: &str) -> AppResult<UserView> {
        caller.authorize(Requirement::rights_or_self(&VIEW), Some(client), Some(user))?.read();
        transact(&*self.ports.uow, TxMode::Read, |repos| {
            let (c, u) = lookup::client_and_user(repos, client, user)?;
            Ok(view(u, &c))
        })
    }

    fn list_credentials(
        &self,
        caller: &Caller,
        client: &str,
        user: &str,
        page: PageRequest,
    ) -> AppResult<Page<CredentialRecord>> {
        caller.authorize(
            Requirement::rights_or_self(&CRED_VIEW),
            Some(client),
            Some(user),
        )?.read();
        transact(&*self.ports.uow, TxMode::Read, |repos| {
            let (_, u) = lookup::client_and_user(repos, client, user)?;
            let rows = repos.credentials().list_by_user(&u.id, &page)?;
            Ok(Page::from_overfetch(rows, page.limit, |r| PageCursor {
                created: r.credential.created,
                ext_id: r.credential.ext_id.to_string(),
            }))
        })
    }
}
