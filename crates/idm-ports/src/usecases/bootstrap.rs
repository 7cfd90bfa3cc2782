//! First start on an empty database (SPEC §7): the `default` client, its policies and the
//! Root user.

use idm_domain::access::{DataRoom, Role, RoleGrant};
use idm_domain::client::{Client, BOOTSTRAP_CLIENT_EXT_ID, BOOTSTRAP_CLIENT_NAME};
use idm_domain::credential::{
    validity_end, Credential, CredentialSecret, CredentialState, StateChangeReason,
};
use idm_domain::policy::{PolicyParameters, PolicyType, DEFAULT_GENERATED_CHARSET};
use idm_domain::user::{validate_login_id, User, UserState};
use idm_domain::ExtId;

use super::clients::insert_client_with_defaults;
use super::policies::default_policy_ext_id;
use super::Ports;
use crate::error::{AppError, AppResult};
use crate::repos::{transact, TxMode};

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
        let hash = ports.hasher.hash(&password)?;
        let created = transact(&*ports.uow, TxMode::Write, |repos| {
            if repos.clients().any_exists()? {
                return Ok(false);
            }
            let now = ports.clock.now();
            let client = Client {
                id: ports.ids.new_id(),
                ext_id: ExtId::generated(BOOTSTRAP_CLIENT_EXT_ID.to_owned()),
                name: BOOTSTRAP_CLIENT_NAME.to_owned(),
                created: now,
                last_modified: now,
                version: 1,
            };
            insert_client_with_defaults(repos, ports, &client)?;
            let user = User {
                id: ports.ids.new_id(),
                client_id: client.id.clone(),
                ext_id: ExtId::parse(&login_id)
                    .unwrap_or_else(|| ExtId::generated(ports.ids.new_id())),
                login_id: login_id.clone(),
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
            repos.users().insert(&user)?;
            let policy = repos
                .policies()
                .find_by_ext_id(&client.id, default_policy_ext_id(PolicyType::Pwd).as_str())?
                .ok_or_else(|| AppError::Internal("bootstrap password policy missing".into()))?;
            let rules = PolicyParameters::default().lockout(PolicyType::Pwd);
            repos.credentials().insert(&Credential {
                id: ports.ids.new_id(),
                client_id: client.id.clone(),
                user_id: Some(user.id.clone()),
                ext_id: ExtId::generated(ports.ids.new_id()),
                policy_id: policy.id,
                state: CredentialState::Active,
                state_change_reason: StateChangeReason::Initialized,
                state_change_detail: None,
                last_successful_login: None,
                successful_login_count: 0,
                last_failed_login: None,
                failed_login_count: 0,
                modification_comment: None,
                validity_from: now,
                validity_to: validity_end(now, &rules),
                locked_until: None,
                reset_count: 0,
                secret: CredentialSecret::Password { hash: hash.clone() },
                created: now,
                last_modified: now,
                version: 1,
            })?;
            repos.roles().upsert_grant(
                &user.id,
                &RoleGrant::new(Role::Root, DataRoom::Global),
                now,
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
