//! Bulk login information (SPEC §6.2): the login service reports the outcome of a user's login
//! and of each credential used; counters and locks follow the credential's policy.

use idm_domain::access::{Requirement, Right};
use idm_domain::client::Client;
use idm_domain::credential::LoginOutcome;
use idm_domain::user::User;
use idm_domain::DomainError;

use super::login::report_lockout;
use super::{
    lookup, Body, CredentialLoginReport, LoginInfoResult, LoginInfoService, LoginItem,
    LoginItemError, LoginReport, Ports,
};
use crate::caller::Caller;
use crate::error::{AppError, AppResult};
use crate::permit::Permit;
use crate::repos::{transact, TxMode};
use crate::write::{write, Change};

/// Most credential entries one report may carry.
pub const MAX_ENTRIES: usize = 100;

/// The bulk login-information use case.
pub struct LoginInfoUseCases {
    ports: Ports,
}

impl LoginInfoUseCases {
    /// Builds the use case over the shared ports.
    pub fn new(ports: Ports) -> Self {
        LoginInfoUseCases { ports }
    }

    /// Applies one credential entry in its own transaction, under a row lock.
    fn apply_entry(
        &self,
        permit: &Permit,
        client: &Client,
        user: &User,
        entry: &CredentialLoginReport,
    ) -> AppResult<LoginItem> {
        let success = entry
            .success
            .ok_or_else(|| DomainError::NullParameter("success".into()))?;
        let ext_id = entry
            .credential_ext_id
            .as_deref()
            .ok_or_else(|| DomainError::NullParameter("credentialExtId".into()))?;
        let not_found = || DomainError::CredentialNotFoundForUser {
            credential_ext_id: ext_id.to_owned(),
            user_ext_id: user.ext_id.to_string(),
        };
        let ports = &self.ports;
        let item = write(ports, |tx| {
            let now = tx.now();
            let repos = tx.repos();
            let mut record = if idm_domain::ExtId::is_valid(ext_id) {
                repos
                    .credentials()
                    .find_by_ext_id_for_update(&client.id, ext_id)?
            } else {
                None
            }
            .filter(|r| r.credential.user_id.as_deref() == Some(user.id.as_str()))
            .ok_or_else(not_found)?;
            if !record.credential.is_usable(now) {
                return Err(DomainError::CredentialNotActive(ext_id.to_owned()).into());
            }
            let before = record.credential.clone();
            let rules = lookup::lockout_rules(repos, &before)?;
            let cred = &mut record.credential;
            let outcome = if success {
                cred.record_success(now)
            } else {
                cred.record_failure(&rules, now)
            };
            tx.apply(
                permit,
                Change::CredentialUpdated {
                    action: "login.recorded",
                    before: &before,
                    after: &record.credential,
                },
            )?;
            Ok(LoginItem {
                outcome,
                user_ext_id: user.ext_id.clone(),
                client_ext_id: client.ext_id.clone(),
                credential: Some(record),
                user_last_login: user.last_login,
                user_last_login_failure: user.last_login_failure,
            })
        })?;
        report_lockout(&*ports.telemetry, item.outcome);
        Ok(item)
    }
}

const MODIFY: [Right; 1] = [Right::CredentialModify];

impl LoginInfoService for LoginInfoUseCases {
    fn bulk_login_info(
        &self,
        caller: &Caller,
        client: &str,
        user: &str,
        report: Body<LoginReport>,
    ) -> AppResult<LoginInfoResult> {
        let authorized = caller.authorize(Requirement::rights(&MODIFY), Some(client), None)?;
        let ports = &self.ports;
        let (c, u, permit) = transact(&*ports.uow, TxMode::Read, |repos| {
            let (c, u) = lookup::client_and_user(repos, client, user)?;
            let permit = lookup::user_permit(ports, repos, &authorized, &u, None)?;
            Ok((c, u, permit))
        })?;
        let report = report?;
        let user_success = report
            .user_login_successful
            .ok_or_else(|| DomainError::NullParameter("userLoginSuccessful".into()))?;
        let entries = report.credentials.unwrap_or_default();
        if entries.len() > MAX_ENTRIES {
            return Err(DomainError::InvalidParameter(
                "At most 100 credentials can be updated at once.".into(),
            )
            .into());
        }
        // The user's outcome is always applied, in one statement (no lost update under load).
        let u = write(ports, |tx| {
            tx.apply(
                &permit,
                Change::UserLoginRecorded {
                    user: &u,
                    success: user_success,
                },
            )?;
            tx.repos()
                .users()
                .find_by_id(&u.id)?
                .ok_or_else(|| AppError::Internal("user vanished during a login report".into()))
        })?;
        let mut result = LoginInfoResult {
            items: Vec::new(),
            errors: Vec::new(),
            last_login: u.last_login,
            last_login_failure: u.last_login_failure,
        };
        if entries.is_empty() {
            result.items.push(LoginItem {
                outcome: if user_success {
                    LoginOutcome::Succeeded
                } else {
                    LoginOutcome::Failed
                },
                user_ext_id: u.ext_id.clone(),
                client_ext_id: c.ext_id.clone(),
                credential: None,
                user_last_login: u.last_login,
                user_last_login_failure: u.last_login_failure,
            });
        }
        for entry in &entries {
            match self.apply_entry(&permit, &c, &u, entry) {
                Ok(item) => result.items.push(item),
                Err(AppError::Domain(error)) => result.errors.push(LoginItemError {
                    error,
                    client_ext_id: c.ext_id.to_string(),
                    user_ext_id: u.ext_id.to_string(),
                    credential_ext_id: entry.credential_ext_id.clone(),
                }),
                // Storage failures are not an entry's fault: the whole report fails (503/500).
                Err(other) => return Err(other),
            }
        }
        Ok(result)
    }
}
