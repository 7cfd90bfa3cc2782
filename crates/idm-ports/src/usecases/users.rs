//! Users and their credential list (SPEC §8.2); the user list, PATCH and DELETE and the
//! caller's own user and permissions (SPEC §12).

use idm_domain::access::{effective_rights, AccessMode, Requirement, Right};
use idm_domain::client::Client;
use idm_domain::paging::{Page, PageCursor, PageRequest};
use idm_domain::policy::check_version;
use idm_domain::user::{
    validate_email, validate_login_id, validate_text, Contacts, PersonName, User, UserPatch,
    UserState,
};
use idm_domain::DomainError;

use super::{lookup, Body, CreateUser, Permissions, Ports, UserFilter, UserService, UserView};
use crate::caller::Caller;
use crate::error::{AppResult, StoreError, UniqueKey};
use crate::repos::{transact, CredentialRecord, TxMode, UserListFilter};
use crate::user_query::UserQuery;
use crate::write::{write, Change};

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
const MODIFY: [Right; 1] = [Right::UserModify];
const DELETE: [Right; 1] = [Right::UserDelete];
/// The largest page of a search (SPEC §14: `count` at most 1000).
const MAX_SEARCH_COUNT: u32 = 1000;

/// The list filters as the repository takes them (SPEC §12): empty values do not filter, an
/// unknown `userState` is refused.
fn list_filter(sent: &UserFilter) -> AppResult<UserListFilter> {
    let given = |v: &Option<String>| v.clone().filter(|s| !s.is_empty());
    Ok(UserListFilter {
        login_id: given(&sent.login_id),
        email: given(&sent.email),
        state: given(&sent.user_state)
            .map(|s| s.parse::<UserState>())
            .transpose()?,
        prefix: given(&sent.q),
    })
}

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
            let external_id = validate_text("externalId", cmd.external_id.clone())?;
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
                external_id: external_id.clone(),
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
        caller
            .authorize(Requirement::rights_or_self(&VIEW), Some(client), Some(user))?
            .read();
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
        caller
            .authorize(
                Requirement::rights_or_self(&CRED_VIEW),
                Some(client),
                Some(user),
            )?
            .read();
        transact(&*self.ports.uow, TxMode::Read, |repos| {
            let (_, u) = lookup::client_and_user(repos, client, user)?;
            let rows = repos.credentials().list_by_user(&u.id, &page)?;
            Ok(Page::from_overfetch(rows, page.limit, |r| PageCursor {
                created: r.credential.created,
                ext_id: r.credential.ext_id.to_string(),
            }))
        })
    }

    fn list_users(
        &self,
        caller: &Caller,
        client: &str,
        filter: UserFilter,
        page: PageRequest,
    ) -> AppResult<Page<UserView>> {
        caller
            .authorize(Requirement::rights(&VIEW), Some(client), None)?
            .read();
        transact(&*self.ports.uow, TxMode::Read, |repos| {
            let c = lookup::client(repos, client)?;
            let filter = list_filter(&filter)?;
            let rows = repos.users().list_by_client(&c.id, &filter, &page)?;
            let page = Page::from_overfetch(rows, page.limit, |u| PageCursor {
                created: u.created,
                ext_id: u.ext_id.to_string(),
            });
            Ok(page.map(|u| view(u, &c)))
        })
    }

    fn patch_user(
        &self,
        caller: &Caller,
        client: &str,
        user: &str,
        x_token: Option<String>,
        patch: Body<UserPatch>,
    ) -> AppResult<UserView> {
        let authorized = caller.authorize(
            Requirement::rights_or_self(&MODIFY),
            Some(client),
            Some(user),
        )?;
        let ports = &self.ports;
        write(ports, |tx| {
            let now = tx.now();
            let repos = tx.repos();
            let (c, mut u) = lookup::client_and_user(repos, client, user)?;
            let permit = lookup::user_permit(ports, repos, &authorized, &u, x_token.as_deref())?;
            let patch = patch.clone()?;
            check_version(u.version, patch.version)?;
            if authorized.mode() == AccessMode::SelfAdmin {
                patch.check_self_admin()?;
            }
            let before = u.clone();
            u.apply(patch, now)?;
            let duplicate_login = || DomainError::DuplicateLoginId {
                login_id: u.login_id.clone(),
                client_name: c.name.clone(),
            };
            if u.login_id != before.login_id
                && repos
                    .users()
                    .find_by_login_id(&c.id, &u.login_id)?
                    .is_some()
            {
                return Err(duplicate_login().into());
            }
            // SPEC §10.1: disabling or archiving the last active Root is refused.
            if before.state == UserState::Active && u.state != UserState::Active {
                lookup::ensure_not_last_root(repos, &before)?;
            }
            let change = Change::UserUpdated {
                before: &before,
                after: &u,
            };
            match tx.apply(&permit, change) {
                Err(StoreError::Unique(UniqueKey::UserLoginId)) => {
                    return Err(duplicate_login().into())
                }
                other => other?,
            }
            Ok(view(u.clone(), &c))
        })
    }

    fn delete_user(&self, caller: &Caller, client: &str, user: &str) -> AppResult<()> {
        let authorized = caller.authorize(Requirement::rights(&DELETE), Some(client), None)?;
        let ports = &self.ports;
        write(ports, |tx| {
            let repos = tx.repos();
            let (c, u) = lookup::client_and_user(repos, client, user)?;
            let permit = lookup::user_permit(ports, repos, &authorized, &u, None)?;
            if u.id == caller.user_id {
                return Err(
                    DomainError::InvalidParameter("A caller cannot delete itself.".into()).into(),
                );
            }
            lookup::ensure_not_last_root(repos, &u)?;
            // One transaction: the cascade of SPEC §12, its history event, and the rules above.
            if !tx.apply_revoke(&permit, Change::UserDeleted(&u))? {
                // Deleted by a concurrent request since it was read.
                return Err(DomainError::UserNotFound {
                    user_ext_id: user.to_owned(),
                    client_name: c.name.clone(),
                }
                .into());
            }
            Ok(())
        })
    }

    fn search_users(
        &self,
        caller: &Caller,
        client: &str,
        query: UserQuery,
        offset: u64,
        count: u32,
    ) -> AppResult<(Vec<UserView>, u64)> {
        caller
            .authorize(Requirement::rights(&VIEW), Some(client), None)?
            .read();
        let count = count.min(MAX_SEARCH_COUNT);
        transact(&*self.ports.uow, TxMode::Read, |repos| {
            let c = lookup::client(repos, client)?;
            query
                .check()
                .map_err(|why| DomainError::InvalidParameter(format!("Invalid filter: {why}.")))?;
            // A query no user can match needs no search (SCIM checks rights and the client
            // this way before it reports a bad filter).
            if query.is_nothing() {
                return Ok((Vec::new(), 0));
            }
            let (rows, total) = repos.users().search(&c.id, &query, offset, count)?;
            Ok((rows.into_iter().map(|u| view(u, &c)).collect(), total))
        })
    }

    fn me(&self, caller: &Caller) -> AppResult<UserView> {
        transact(&*self.ports.uow, TxMode::Read, |repos| {
            let (c, u) = lookup::client_and_user(
                repos,
                caller.client_ext_id.as_str(),
                caller.user_ext_id.as_str(),
            )?;
            Ok(view(u, &c))
        })
    }

    fn permissions(&self, caller: &Caller) -> AppResult<Permissions> {
        Ok(Permissions {
            grants: caller.grants.clone(),
            rights: effective_rights(&caller.grants),
        })
    }
}
