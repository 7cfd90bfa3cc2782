//! Caller authentication with Basic credentials (SPEC §3.1).

use idm_domain::credential::CredentialSecret;
use idm_domain::user::{User, UserState};
use idm_domain::{DomainError, ExtId};

use super::login::record_password_login;
use super::{CallerAuthenticator, Ports};
use crate::auth::LoginCacheKey;
use crate::caller::Caller;
use crate::error::{AppError, AppResult};
use crate::repos::{transact, CredentialRecord, Repos, TxMode};
use crate::telemetry::Verification;

/// Verifies a loginId and password against the stored argon2id hash, remembering successes for
/// a short time so authenticated requests do not pay a hash each, and counting failures
/// against the credential's lockout policy.
pub struct PasswordCallerAuthenticator {
    ports: Ports,
}

impl PasswordCallerAuthenticator {
    /// Builds the authenticator over the shared ports.
    pub fn new(ports: Ports) -> Self {
        PasswordCallerAuthenticator { ports }
    }

    fn reject(&self, password: &str) -> AppError {
        self.ports.hasher.verify_dummy(password);
        self.ports
            .telemetry
            .password_verification(Verification::Dummy);
        DomainError::AuthenticationFailed.into()
    }
}

struct Candidate {
    user: User,
    password: CredentialRecord,
    caller: Caller,
}

fn find_candidate(repos: &mut dyn Repos, user_id: &str) -> AppResult<Option<Candidate>> {
    let (client, user) = match user_id.split_once('/') {
        Some((client_ext, login)) => {
            if !ExtId::is_valid(client_ext) {
                return Ok(None);
            }
            let Some(client) = repos.clients().find_by_ext_id(client_ext)? else {
                return Ok(None);
            };
            let Some(user) = repos.users().find_by_login_id(&client.id, login)? else {
                return Ok(None);
            };
            (client, user)
        }
        None => {
            let mut users = repos.users().find_by_login_id_anywhere(user_id, 2)?;
            if users.len() != 1 {
                return Ok(None);
            }
            let user = users.remove(0);
            let Some(client) = repos.clients().find_by_id(&user.client_id)? else {
                return Ok(None);
            };
            (client, user)
        }
    };
    let Some(password) = repos.credentials().find_password_of_user(&user.id, false)? else {
        return Ok(None);
    };
    let grants = repos.roles().grants_of_user(&user.id)?;
    let caller = Caller {
        user_id: user.id.clone(),
        user_ext_id: user.ext_id.clone(),
        client_ext_id: client.ext_id.clone(),
        login_id: user.login_id.clone(),
        grants,
    };
    Ok(Some(Candidate {
        user,
        password,
        caller,
    }))
}

impl CallerAuthenticator for PasswordCallerAuthenticator {
    fn authenticate(&self, user_id: &str, password: &str) -> AppResult<Caller> {
        if user_id.is_empty() || user_id.len() > 600 || password.len() > 4096 {
            return Err(self.reject(password));
        }
        let found = transact(&*self.ports.uow, TxMode::Read, |repos| {
            find_candidate(repos, user_id)
        })?;
        let Some(candidate) = found else {
            return Err(self.reject(password));
        };
        let now = self.ports.clock.now();
        let cred = &candidate.password.credential;
        if candidate.user.state != UserState::Active || !cred.is_usable(now) {
            return Err(self.reject(password));
        }
        let CredentialSecret::Password { hash } = &cred.secret else {
            return Err(self.reject(password));
        };
        let key = LoginCacheKey {
            user_id: candidate.user.id.clone(),
            credential_version: cred.version,
        };
        if !cred.success_needs_write(now) && self.ports.login_cache.is_fresh(&key, password) {
            self.ports.telemetry.auth_cache_hit();
            return Ok(candidate.caller);
        }
        let matched = self.ports.hasher.verify(password, hash);
        self.ports.telemetry.password_verification(if matched {
            Verification::Success
        } else {
            Verification::Failure
        });
        if matched {
            let version = if cred.success_needs_write(now) {
                record_password_login(&self.ports, &candidate.user.id, true)?
            } else {
                Some(cred.version)
            };
            // `None`: the locked re-read found the credential gone or no longer usable (a
            // concurrent failure locked it), so the caller has no usable password (SPEC §3.1).
            let Some(credential_version) = version else {
                return Err(DomainError::AuthenticationFailed.into());
            };
            self.ports.login_cache.remember(
                LoginCacheKey {
                    user_id: candidate.user.id.clone(),
                    credential_version,
                },
                password,
            );
            Ok(candidate.caller)
        } else {
            record_password_login(&self.ports, &candidate.user.id, false)?;
            Err(DomainError::AuthenticationFailed.into())
        }
    }
}
