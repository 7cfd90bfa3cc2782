//! The bearer token endpoint (SPEC §6.3): a SelfAdmin caller proves its password again and
//! receives the X-Token JWT (SPEC §3.5) for self-admin writes.

use idm_domain::access::Role;
use idm_domain::DomainError;

use super::login::{check_password, PasswordCheck};
use super::{Body, Ports, TokenRequest, TokenService};
use crate::auth::{IssuedToken, TokenSubject};
use crate::caller::Caller;
use crate::error::AppResult;
use crate::history::Outcome;
use crate::permit::Permit;
use crate::write::write;

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
        let permit = Permit::login_of(
            &caller.client_ext_id,
            &caller.user_ext_id,
            &caller.login_id,
            caller.request_id.clone(),
        );
        let epoch =
            match check_password(&self.ports, &permit, &caller.user_id, password, false, None)? {
                PasswordCheck::NoCredential => {
                    return Err(DomainError::CredentialNotUsable(
                        "Failed to verify password. The user does not have a password credential."
                            .into(),
                    )
                    .into())
                }
                PasswordCheck::NotUsable | PasswordCheck::Locked(_) => {
                    return Err(not_active().into())
                }
                PasswordCheck::Wrong { .. } => {
                    return Err(invalid("Failed to verify password.").into())
                }
                PasswordCheck::Verified { epoch, .. } => epoch,
            };
        let token = self.ports.tokens.issue(&TokenSubject {
            user_ext_id: caller.user_ext_id.to_string(),
            client_ext_id: caller.client_ext_id.to_string(),
            password_epoch: epoch,
        })?;
        write(&self.ports, |tx| {
            tx.note(&permit, "token.issued", Outcome::Success, None, None);
            Ok(())
        })?;
        Ok(token)
    }
}
