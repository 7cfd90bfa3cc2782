//! First start on an empty database (SPEC §7): the `default` client, its policies and the
//! Root user.

use idm_domain::access::{DataRoom, Role, RoleGrant};
use idm_domain::client::{Client, BOOTSTRAP_CLIENT_EXT_ID, BOOTSTRAP_CLIENT_NAME};
use idm_domain::credential::{Credential, CredentialSecret, CredentialState, NewCredential};
use idm_domain::policy::{PolicyType, DEFAULT_GENERATED_CHARSET};
use idm_domain::user::{validate_login_id, User, UserState};
use idm_domain::ExtId;

use super::clients::insert_client_with_defaults;
use super::policies::default_policy_ext_id;
use super::Ports;
use crate::error::{AppError, AppResult};
use crate::permit::{Actor, Permit, TargetIds};
use crate::repos::{transact, TxMode};
use crate::write::{write, Change};

/// What the operator configured for the first Root user.
#[derive(Debug, Clone)]
pub struct BootstrapSettings {
    /// Its loginId (also its extId when that is a valid extId).
    pub admin_login: String,
    /// Its password; generated when `None`.
    pub admin_password: Option<String>,
}

/// What a bootstrap created; the generated password is shown once and never stored in clear.
#[derive(Debug, Clone)]
pub struct BootstrapReport {
    /// The Root user's loginId.
    pub admin_login: String,
    /// The password, when the service generated it.
    pub generated_password: Option<String>,
}

/// Seeds an empty database, once.
pub struct Bootstrapper {
    ports: Ports,
}

/// Length of a generated admin password.
const GENERATED_ADMIN_PASSWORD_LENGTH: usize = 24;

impl Bootstrapper {
    /// Builds the bootstrapper over the shared ports.
    pub fn new(ports: Ports) -> Self {
        Bootstrapper { ports }
    }

    /// Creates the `default` client, its default policies and the Root user when no client
    /// exists; `None` when the database was already seeded (by this or another instance).
    pub fn run(&self, settings: &BootstrapSettings) -> AppResult<Option<BootstrapReport>> {
        let ports = &self.ports;
        let already = transact(&*ports.uow, TxMode::Read, |r| {
            Ok(r.clients().any_exists()?)
        })?;
        if already {
            return Ok(None);
        }
        let login_id = validate_login_id(&settings.admin_login)?;
        let (password, generated) = match &settings.admin_password {
            Some(p) => (p.clone(), None),
            None => {
                let p = ports
                    .secrets
                    .password(DEFAULT_GENERATED_CHARSET, GENERATED_ADMIN_PASSWORD_LENGTH);
                (p.clone(), Some(p))
            }
        };
        let slot = ports.hasher.slot()?;
        let hash = ports.hasher.hash(&slot, &password)?;
        drop(slot);
        let created = write(ports, |tx| {
            if tx.repos().clients().any_exists()? {
                return Ok(false);
            }
            let now = tx.now();
            let client = Client {
                id: ports.ids.new_id(),
                ext_id: ExtId::generated(BOOTSTRAP_CLIENT_EXT_ID.to_owned()),
                name: BOOTSTRAP_CLIENT_NAME.to_owned(),
                created: now,
                last_modified: now,
                version: 1,
            };
            let permit = Permit::system(
                Actor::Bootstrap,
                TargetIds {
                    client_ext_id: Some(client.ext_id.clone()),
                    user_ext_id: None,
                },
            );
            insert_client_with_defaults(tx, &permit, ports, &client)?;
            let user = User {
                id: ports.ids.new_id(),
                client_id: client.id.clone(),
                ext_id: ExtId::parse(&login_id)
                    .unwrap_or_else(|| ExtId::generated(ports.ids.new_id())),
                login_id: login_id.clone(),
                external_id: None,
                state: UserState::Active,
                language: Default::default(),
                is_technical_user: false,
                name: Default::default(),
                contacts: Default::default(),
                last_login: None,
                last_login_failure: None,
                created: now,
                last_modified: now,
                version: 1,
            };
            let permit = Permit::system(
                Actor::Bootstrap,
                TargetIds {
                    client_ext_id: Some(client.ext_id.clone()),
                    user_ext_id: Some(user.ext_id.clone()),
                },
            );
            tx.apply(&permit, Change::UserCreated(&user))?;
            let policy = tx
                .repos()
                .policies()
                .find_by_ext_id(&client.id, default_policy_ext_id(PolicyType::Pwd).as_str())?
                .ok_or_else(|| AppError::Internal("bootstrap password policy missing".into()))?;
            let credential = Credential::new(
                NewCredential {
                    id: ports.ids.new_id(),
                    client_id: client.id.clone(),
                    user_id: Some(user.id.clone()),
                    ext_id: ExtId::generated(ports.ids.new_id()),
                    policy: &policy,
                    state: CredentialState::Active,
                    now,
                },
                CredentialSecret::Password { hash: hash.clone() },
            );
            tx.apply(&permit, Change::CredentialCreated(&credential))?;
            tx.apply(
                &permit,
                Change::RoleGranted {
                    user: &user,
                    grant: &RoleGrant::new(Role::Root, DataRoom::Global),
                },
            )?;
            Ok(true)
        });
        match created {
            Ok(true) => Ok(Some(BootstrapReport {
                admin_login: login_id,
                generated_password: generated,
            })),
            Ok(false) => Ok(None),
            // Another instance seeded the database between our check and our insert.
            Err(AppError::Domain(idm_domain::DomainError::DuplicateClientExtId(_)))
            | Err(AppError::Domain(idm_domain::DomainError::DuplicateClientName(_))) => Ok(None),
            Err(e) => Err(e),
        }
    }
}
