//! Operator break-glass (SPEC §10.5): unlock a user's password, or give it a new generated
//! one, from the command line — with or without the service running, against the configured
//! database — as audited writes of the actor `operator`.

use idm_domain::client::Client;
use idm_domain::credential::StateChangeReason;
use idm_domain::user::User;
use idm_domain::{DomainError, ExtId};

use super::Ports;
use crate::error::{AppError, AppResult};
use crate::permit::{Actor, Permit, TargetIds};
use crate::repos::{transact, CredentialRecord, Repos, TxMode};
use crate::write::{write, Change};

/// What an operator command did.
#[derive(Clone, PartialEq, Eq)]
pub enum BreakGlass {
    /// The credential is `active` now (it was locked, or nothing needed changing).
    Unlocked {
        /// Whether anything changed.
        changed: bool,
    },
    /// The new password, to be shown once.
    NewPassword(String),
}

impl std::fmt::Debug for BreakGlass {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BreakGlass::Unlocked { changed } => write!(f, "Unlocked {{ changed: {changed} }}"),
            BreakGlass::NewPassword(_) => f.write_str("NewPassword(<redacted>)"),
        }
    }
}

/// The break-glass use cases.
pub struct OperatorUseCases {
    ports: Ports,
}

/// `<clientExtId>/<loginId>` → the client, the user and its Password credential (its row locked
/// when `lock`; PostgreSQL refuses `FOR UPDATE` in a read transaction), or the SPEC 404 message.
fn resolve(
    repos: &mut dyn Repos,
    user_id: &str,
    lock: bool,
) -> AppResult<(Client, User, CredentialRecord)> {
    let (client_ext, login) = user_id.split_once('/').ok_or_else(|| {
        DomainError::InvalidParameter(format!(
            "'{user_id}' is not of the form <clientExtId>/<loginId>"
        ))
    })?;
    let client = if ExtId::is_valid(client_ext) {
        repos.clients().find_by_ext_id(client_ext)?
    } else {
        None
    }
    .ok_or_else(|| DomainError::ClientNotFound(client_ext.to_owned()))?;
    let user = repos
        .users()
        .find_by_login_id(&client.id, login)?
        .ok_or_else(|| {
            DomainError::InvalidParameter(format!(
                "No user with loginId '{login}' in client '{client_ext}'"
            ))
        })?;
    let password = repos
        .credentials()
        .find_password_of_user(&user.id, lock)?
        .ok_or_else(|| DomainError::NoPasswordCredential(user.ext_id.to_string()))?;
    Ok((client, user, password))
}

fn operator_on(client: &Client, user: &User) -> Permit {
    Permit::system(
        Actor::Operator,
        TargetIds {
            client_ext_id: Some(client.ext_id.clone()),
            user_ext_id: Some(user.ext_id.clone()),
        },
    )
}

impl OperatorUseCases {
    /// Builds the use cases over the shared ports.
    pub fn new(ports: Ports) -> Self {
        OperatorUseCases { ports }
    }

    /// `admin unlock <clientExtId>/<loginId>`: the Password credential becomes `active`
    /// (reason `unlock`, failures 0) whatever lock or state it was in.
    pub fn unlock(&self, user_id: &str) -> AppResult<BreakGlass> {
        write(&self.ports, |tx| {
            let (client, user, mut record) = resolve(tx.repos(), user_id, true)?;
            let before = record.credential.clone();
            let changed = record.credential.activate_by_operator(tx.now());
            if changed {
                tx.apply(
                    &operator_on(&client, &user),
                    Change::CredentialUpdated {
                        action: "credential.unlocked",
                        before: &before,
                        after: &record.credential,
                    },
                )?;
            }
            Ok(BreakGlass::Unlocked { changed })
        })
    }

    /// `admin reset-password <clientExtId>/<loginId>`: a new password generated per the
    /// credential's policy (`generatedLength`, `generatedCharset`), state `initial`.
    pub fn reset_password(&self, user_id: &str) -> AppResult<BreakGlass> {
        let ports = &self.ports;
        let policy = transact(&*ports.uow, TxMode::Read, |repos| {
            let (_, _, record) = resolve(repos, user_id, false)?;
            repos
                .policies()
                .find_by_id(&record.credential.policy_id)?
                .ok_or_else(|| AppError::Internal("credential without its policy".into()))
        })?;
        let rules = policy.parameters.password();
        let password = ports
            .secrets
            .password(&rules.generated_charset, rules.generated_length);
        let slot = ports.hasher.slot()?;
        let hash = ports.hasher.hash(&slot, &password)?;
        drop(slot);
        write(ports, |tx| {
            let (client, user, mut record) = resolve(tx.repos(), user_id, true)?;
            let before = record.credential.clone();
            record.credential.reset_password(
                hash.clone(),
                StateChangeReason::ResetByAdmin,
                tx.now(),
            );
            tx.apply(
                &operator_on(&client, &user),
                Change::CredentialUpdated {
                    action: "password.reset",
                    before: &before,
                    after: &record.credential,
                },
            )?;
            Ok(())
        })?;
        Ok(BreakGlass::NewPassword(password))
    }
}
