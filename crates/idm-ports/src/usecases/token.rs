//! The bearer token endpoint (SPEC §6.3): a SelfAdmin caller proves its password again and
//! receives the X-Token JWT (SPEC §3.5) for self-admin writes.

use idm_domain::access::Role;
use idm_domain::credential::CredentialSecret;
use idm_domain::DomainError;

use super::login::record_password_login;
use super::{Body, Ports, TokenRequest, TokenService};
use crate::auth::{IssuedToken, TokenSubject};
use crate::caller::Caller;
use crate::error::AppResult;
use crate::repos::{transact, TxMode};
use crate::telemetry::Verification;

/// The token use case.
pub struct TokenUseCases {
    ports: Ports,
}

impl TokenUseCases {
    /// Builds the use case over the shared ports.
    pub fn new(ports: Ports) -> Self {
        TokenUseCases { ports }
    }
}

fn invalid(message: &str) -> DomainError {
    DomainError::InvalidParameter(message.to_owned())
}

fn not_active() -> DomainError {
    DomainError::CredentialNotUsable(
        "Failed to verify password. The password credential is not active.".into(),
    )
}

/// `Some(value)` when present and not empty.
fn given(value: &Option<String>) -> Option<&str> {
    value.as_deref().filter(|v| !v.is_empty())
}

impl TokenService for TokenUseCases {
    fn issue_token(&self, caller: &Caller, request: Body<TokenRequest>) -> AppResult<IssuedToken> {
        if !caller.grants.iter().any(|g| g.role == Role::SelfAdmin) {
            return Err(DomainError::MissingSelfAdmin.into());
        }
        let request = request?;
        let grant_type = given(&request.grant_type)
            .ok_or_else(|| invalid("The grant_type should not be null or empty."))?;
        if grant_type != "password" {
            return Err(invalid(&format!(
                "Expected grant_type 'password' but found '{grant_type}'."
            ))
            .into());
        }
        let username = given(&request.username)
            .ok_or_else(|| invalid("The username should not be null or empty."))?;
        if username != caller.login_id {
            return Err(invalid(
                "The username has to be the loginId of the user who is logged in.",
            )
            .into());
        }
        let password = given(&request.password)
            .ok_or_else(|| invalid("The password should not be null or empty."))?;
        let record = transact(&*self.ports.uow, TxMode::Read, |repos| {
            Ok(repos
                .credentials()
                .find_password_of_user(&caller.user_id, false)?)
        })?
        .ok_or_else(|| {
            DomainError::CredentialNotUsable(
                "Failed to verify password. The user does not have a password credential.".into(),
            )
        })?;
        let credential = record.credential;
        let CredentialSecret::Password { hash } = &credential.secret else {
            return Err(invalid("Failed to verify password.").into());
        };
        let now = self.ports.clock.now();
        if !credential.is_usable(now) {
            return Err(not_active().into());
        }
        let matched = self.ports.hasher.verify(password, hash);
        self.ports.telemetry.password_verification(if matched {
            Verification::Success
        } else {
            Verification::Failure
        });
        if !matched {
            record_password_login(&self.ports, &caller.user_id, false)?;
            return Err(invalid("Failed to verify password.").into());
        }
        // A success writes only when it clears something (SPEC §3.1), so a plain success
        // stays a read. `None`: the locked re-read found the credential gone or no longer
        // usable (a concurrent failure locked it), so no token is issued.
        if credential.success_needs_write(now)
            && record_password_login(&self.ports, &caller.user_id, true)?.is_none()
        {
            return Err(not_active().into());
        }
        self.ports.tokens.issue(&TokenSubject {
            user_ext_id: caller.user_ext_id.to_string(),
            client_ext_id: caller.client_ext_id.to_string(),
        })
    }
}
