//! Caller authentication with Basic credentials (SPEC §3.1).

use idm_domain::user::{User, UserState};
use idm_domain::{DomainError, ExtId};

use super::login::{check_password, PasswordCheck};
use super::{CallerAuthenticator, Ports};
use crate::auth::{HashSlot, LoginCacheKey};
use crate::caller::Caller;
use crate::error::{AppError, AppResult};
use crate::permit::Permit;
use crate::repos::{transact, CredentialRecord, Repos, TxMode};
use crate::telemetry::Verification;

/// Verifies a loginId and password against the stored argon2id hash, remembering successes for
/// a short time so authenticated requests do not pay a hash each, and counting failures
/// against the credential's lockout policy (SPEC §10.2) with bounded hashing (§10.3).
pub struct PasswordCallerAuthenticator {
    ports: Ports,
}

impl PasswordCallerAuthenticator {
    /// Builds the authenticator over the shared ports.
    pub fn new(ports: Ports) -> Self {
        PasswordCallerAuthenticator { ports }
    }

    /// An unknown login ID costs a (bounded) dummy verification, so timing does not reveal it.
    fn reject(&self, password: &str, slot: Option<HashSlot>) -> AppError {
        match slot.map_or_else(|| self.ports.hasher.slot(), Ok) {
            Ok(slot) => {
                self.ports.hasher.verify_dummy(&slot, password);
                self.ports
                    .telemetry
                    .password_verification(Verification::Dummy);
                DomainError::AuthenticationFailed.into()
            }
            Err(busy) => busy,
        }
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
            let Some(found) = repos.login_in_client(client_ext, login)? else {
                return Ok(None);
            };
            found
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
        request_id: None,
    };
    Ok(Some(Candidate {
        user,
        password,
        caller,
    }))
}

impl CallerAuthenticator for PasswordCallerAuthenticator {
    fn authenticate(
        &self,
        user_id: &str,
        password: &str,
        request_id: Option<String>,
    ) -> AppResult<Caller> {
        if user_id.is_empty() || user_id.len() > 600 || password.len() > 4096 {
            return Err(self.reject(password, None));
        }
        // SPEC §10.3: work for credentials never seen to verify waits for a hashing slot
        // *before* it touches the database, so a flood of made-up logins can take neither the
        // connection pool nor the CPU from cached callers, health probes and other reads.
        let presented = LoginCacheKey {
            user_id: format!("presented:{user_id}"),
            password_epoch: 0,
        };
        let mut slot = if self.ports.login_cache.is_fresh(&presented, password) {
            None
        } else {
            Some(self.ports.hasher.slot()?)
        };
        let found = transact(&*self.ports.uow, TxMode::Read, |repos| {
            find_candidate(repos, user_id)
        })?;
        let Some(mut candidate) = found else {
            return Err(self.reject(password, slot.take()));
        };
        candidate.caller.request_id = request_id.clone();
        let now = self.ports.clock.now();
        let cred = &candidate.password.credential;
        if candidate.user.state != UserState::Active {
            return Err(self.reject(password, slot.take()));
        }
        let key = LoginCacheKey {
            user_id: candidate.user.id.clone(),
            password_epoch: cred.epoch,
        };
        // A cached success is no check: it clears nothing and counts nothing, and it is refused
        // once the credential is not usable (locked, disabled, expired).
        if cred.is_usable(now) && self.ports.login_cache.is_fresh(&key, password) {
            self.ports.telemetry.auth_cache_hit();
            return Ok(candidate.caller);
        }
        let permit = Permit::login_of(
            &candidate.caller.client_ext_id,
            &candidate.caller.user_ext_id,
            &candidate.caller.login_id,
            request_id,
        );
        match check_password(
            &self.ports,
            &permit,
            &candidate.user.id,
            password,
            false,
            slot.take(),
        )? {
            PasswordCheck::Verified { epoch, .. } => {
                self.ports.login_cache.remember(presented, password);
                self.ports.login_cache.remember(
                    LoginCacheKey {
                        user_id: candidate.user.id.clone(),
                        password_epoch: epoch,
                    },
                    password,
                );
                Ok(candidate.caller)
            }
            _ => Err(DomainError::AuthenticationFailed.into()),
        }
    }
}
