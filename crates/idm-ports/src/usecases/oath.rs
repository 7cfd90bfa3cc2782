//! OATH credentials (SPEC §6.5, §8.6): the server draws the shared secret, seals it at rest and
//! shows it once, inside the enrolment URI of the create response.

use idm_domain::access::{Requirement, Right};
use idm_domain::client::Client;
use idm_domain::credential::{
    Credential, CredentialSecret, CredentialState, CredentialType, NewCredential, OathDetails,
};
use idm_domain::oath::{method_name, otpauth_uri, secret_length};
use idm_domain::paging::{Page, PageCursor, PageRequest};
use idm_domain::policy::PolicyType;
use idm_domain::user::User;
use idm_domain::{DomainError, ExtId};

use super::{lookup, Body, CreateOath, OathCreated, OathService, Ports};
use crate::caller::Caller;
use crate::error::{AppResult, StoreError, UniqueKey};
use crate::repos::{transact, CredentialRecord, Repos, TxMode};
use crate::write::{write, Change};

/// The OATH use cases.
pub struct OathUseCases {
    ports: Ports,
}

impl OathUseCases {
    /// Builds the use cases over the shared ports.
    pub fn new(ports: Ports) -> Self {
        OathUseCases { ports }
    }
}

/// The user's OATH credential with this extId, or SPEC §6.5's 404 (also when it exists but is
/// another type or belongs to another user).
pub(super) fn find_oath(
    repos: &mut dyn Repos,
    client: &Client,
    user: &User,
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
        .filter(|r| {
            r.credential.credential_type() == CredentialType::Oath
                && r.credential.user_id.as_deref() == Some(user.id.as_str())
        })
        .ok_or_else(|| {
            DomainError::OathNotFound {
                ext_id: ext_id.to_owned(),
                user_ext_id: user.ext_id.to_string(),
            }
            .into()
        })
}

const CREATE: [Right; 3] = [
    Right::CredentialCreate,
    Right::CredentialView,
    Right::PolicyConfigurationView,
];
const VIEW: [Right; 1] = [Right::CredentialView];
const DELETE: [Right; 1] = [Right::CredentialDelete];

impl OathService for OathUseCases {
    fn create_oath(
        &self,
        caller: &Caller,
        client: &str,
        user: &str,
        x_token: Option<String>,
        cmd: Body<CreateOath>,
    ) -> AppResult<OathCreated> {
        let authorized = caller.authorize(
            Requirement::rights_or_self(&CREATE),
            Some(client),
            Some(user),
        )?;
        let ports = &self.ports;
        write(ports, |tx| {
            let repos = tx.repos();
            let (c, u) = lookup::client_and_user(repos, client, user)?;
            let permit = lookup::user_permit(ports, repos, &authorized, &u, x_token.as_deref())?;
            let cmd = cmd.clone()?;
            let ext_id = lookup::new_credential_ext_id(repos, &c, cmd.ext_id.clone(), || {
                ports.ids.new_id()
            })?;
            let label = cmd
                .label
                .as_deref()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .ok_or_else(|| DomainError::NullParameter("label".into()))?
                .to_owned();
            if label.chars().count() > 255 || label.chars().any(char::is_control) {
                return Err(DomainError::InvalidParameter(
                    "Invalid value for parameter 'label'".into(),
                )
                .into());
            }
            let state = match cmd.state_name.as_deref() {
                Some(name) => name.parse::<CredentialState>()?,
                None => CredentialState::Active,
            };
            let policy = lookup::policy_for_create(
                repos,
                &c,
                cmd.policy_ext_id.as_deref(),
                PolicyType::Oath,
            )?;
            let settings = policy.parameters.oath();
            let secret = ports.secrets.bytes(secret_length(&settings.algorithm));
            let id = ports.ids.new_id();
            let details = OathDetails {
                issuer: settings.issuer.clone(),
                authentication_method: method_name(settings.hotp).to_owned(),
                hashing_algorithm: settings.algorithm.clone(),
                digits: settings.digits as i32,
                period: settings.period_seconds as i32,
                counter: 0,
                encrypted_secret: ports.cipher.seal(&secret, &id)?,
                label,
            };
            let account = match (&u.contacts.email, settings.account_name_from_email) {
                (Some(email), true) => email.clone(),
                _ => u.login_id.clone(),
            };
            let uri = otpauth_uri(&details, &account, &secret);
            let credential = Credential::new(
                NewCredential {
                    id,
                    client_id: c.id.clone(),
                    user_id: Some(u.id.clone()),
                    ext_id: ext_id.clone(),
                    policy: &policy,
                    state,
                    now: tx.now(),
                },
                CredentialSecret::Oath(details),
            );
            match tx.apply(&permit, Change::CredentialCreated(&credential)) {
                Err(StoreError::Unique(UniqueKey::CredentialExtId)) => {
                    return Err(DomainError::DuplicateCredentialExtId(ext_id.to_string()).into())
                }
                other => other?,
            }
            Ok(OathCreated {
                record: CredentialRecord {
                    credential,
                    user_ext_id: Some(u.ext_id.clone()),
                    policy_ext_id: policy.ext_id.clone(),
                },
                uri,
            })
        })
    }

    fn get_oath(
        &self,
        caller: &Caller,
        client: &str,
        user: &str,
        ext_id: &str,
    ) -> AppResult<CredentialRecord> {
        caller
            .authorize(Requirement::rights_or_self(&VIEW), Some(client), Some(user))?
            .read();
        transact(&*self.ports.uow, TxMode::Read, |repos| {
            let (c, u) = lookup::client_and_user(repos, client, user)?;
            find_oath(repos, &c, &u, ext_id, false)
        })
    }

    fn list_oath(
        &self,
        caller: &Caller,
        client: &str,
        user: &str,
        page: PageRequest,
    ) -> AppResult<Page<CredentialRecord>> {
        caller
            .authorize(Requirement::rights_or_self(&VIEW), Some(client), Some(user))?
            .read();
        transact(&*self.ports.uow, TxMode::Read, |repos| {
            let (c, u) = lookup::client_and_user(repos, client, user)?;
            let rows = repos.credentials().list_of_type(
                &c.id,
                Some(&u.id),
                CredentialType::Oath,
                &page,
            )?;
            Ok(Page::from_overfetch(rows, page.limit, |r| PageCursor {
                created: r.credential.created,
                ext_id: r.credential.ext_id.to_string(),
            }))
        })
    }

    fn delete_oath(
        &self,
        caller: &Caller,
        client: &str,
        user: &str,
        ext_id: &str,
        x_token: Option<String>,
    ) -> AppResult<()> {
        let authorized = caller.authorize(
            Requirement::rights_or_self(&DELETE),
            Some(client),
            Some(user),
        )?;
        let ports = &self.ports;
        write(ports, |tx| {
            let repos = tx.repos();
            let (c, u) = lookup::client_and_user(repos, client, user)?;
            let permit = lookup::user_permit(ports, repos, &authorized, &u, x_token.as_deref())?;
            let record = find_oath(repos, &c, &u, ext_id, true)?;
            tx.apply(&permit, Change::CredentialDeleted(&record.credential))?;
            Ok(())
        })
    }
}
