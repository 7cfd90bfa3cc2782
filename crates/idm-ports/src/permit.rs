//! Authorization as values: the outcome of SPEC §3.4 step 2 is an [`Authorized`], which a use
//! case must turn into a [`Permit`] before the write path ([`crate::write::Tx`]) accepts a
//! change. The only ways to a permit run through the checks, so a write that forgets one does
//! not compile:
//!
//! * a write on a user named by the path: [`Authorized::check_target`] (SPEC §10.1, the
//!   privileged-target decision) and then [`TargetCleared::verify_x_token`] (SPEC §3.3/§3.4
//!   step 5, the self-admin X-Token proof);
//! * a write whose path names no user (clients, policies, VASCO stock):
//!   [`Authorized::without_user_target`], refused in self-admin mode.
//!
//! The intended chain compiles:
//!
//! ```no_run
//! use idm_ports::write::{Change, Tx};
//! fn delete(
//!     tx: &mut Tx<'_>,
//!     authorized: idm_ports::permit::Authorized<'_>,
//!     tokens: &dyn idm_ports::auth::TokenIssuer,
//!     user: &idm_domain::user::User,
//!     grants: &[idm_domain::access::RoleGrant],
//! ) -> idm_ports::AppResult<()> {
//!     let permit = authorized
//!         .check_target(&user.ext_id, grants)?
//!         .verify_x_token(tokens, None, || Ok(None))?;
//!     tx.apply(&permit, Change::UserDeleted(user))?;
//!     Ok(())
//! }
//! ```
//!
//! Each shortcut does not:
//!
//! ```compile_fail
//! // A permit cannot be made by hand: its fields are private.
//! use idm_ports::permit::{Actor, Permit, TargetIds};
//! fn forge(actor: Actor, target: TargetIds) -> Permit {
//!     Permit { actor, target, request_id: None }
//! }
//! ```
//!
//! ```compile_fail
//! // Skipping the privileged-target decision: an `Authorized` has no X-Token step.
//! fn write(a: idm_ports::permit::Authorized<'_>, t: &dyn idm_ports::auth::TokenIssuer) {
//!     let _ = a.verify_x_token(t, None, || Ok(None));
//! }
//! ```
//!
//! ```compile_fail
//! // Skipping the X-Token proof: a `TargetCleared` is not a `Permit`.
//! fn write(tx: &mut idm_ports::write::Tx<'_>, c: idm_ports::permit::TargetCleared<'_>,
//!          u: &idm_domain::user::User) {
//!     let _ = tx.apply(&c, idm_ports::write::Change::UserDeleted(u));
//! }
//! ```

use idm_domain::access::{may_grant, AccessMode, Role, RoleGrant};
use idm_domain::{DomainError, ExtId};

use crate::auth::{TokenIssuer, TokenSubject};
use crate::caller::Caller;
use crate::error::AppResult;

/// Who acts, as the history records it (SPEC §13 `actor`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    /// An authenticated caller (or, for a failed authentication, the user it claimed to be).
    User {
        /// The actor's client extId.
        client_ext_id: ExtId,
        /// The actor's user extId.
        user_ext_id: ExtId,
        /// The actor's loginId.
        login_id: String,
    },
    /// The server itself: first start-up.
    Bootstrap,
    /// An operator at the command line (break-glass, SPEC §10.5).
    Operator,
}

impl Actor {
    /// The actor of a caller's requests.
    pub fn of(caller: &Caller) -> Actor {
        Actor::User {
            client_ext_id: caller.client_ext_id.clone(),
            user_ext_id: caller.user_ext_id.clone(),
            login_id: caller.login_id.clone(),
        }
    }
}

/// What a change is about, as the path named it (SPEC §13 `target`); the credential and policy
/// are added by the change itself.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TargetIds {
    /// The path's client.
    pub client_ext_id: Option<ExtId>,
    /// The path's user.
    pub user_ext_id: Option<ExtId>,
}

/// SPEC §3.4 step 2 passed: the caller holds the rights (or stands in as SelfAdmin). Not yet
/// permission to write; see the module documentation.
#[must_use = "authorization must be turned into a Permit (or used for a read)"]
#[derive(Debug, Clone)]
pub struct Authorized<'c> {
    caller: &'c Caller,
    mode: AccessMode,
    client: Option<ExtId>,
}

impl<'c> Authorized<'c> {
    /// Only `Caller::authorize` makes one.
    pub(crate) fn new(caller: &'c Caller, mode: AccessMode, client: Option<&str>) -> Self {
        Authorized {
            caller,
            mode,
            client: client.and_then(ExtId::parse),
        }
    }

    /// Through rights or through self-admin mode.
    pub fn mode(&self) -> AccessMode {
        self.mode
    }

    /// A read needs nothing beyond step 2 (SPEC §3.3: self-admin reads need no X-Token).
    pub fn read(self) {}

    /// The authenticated caller.
    pub fn caller(&self) -> &'c Caller {
        self.caller
    }

    /// Permission for a write whose path names no user (a client, a policy, the VASCO stock).
    /// Self-admin mode always names a user, so it cannot reach here; it is refused if it does.
    pub fn without_user_target(&self) -> Result<Permit, DomainError> {
        if self.mode == AccessMode::SelfAdmin {
            return Err(DomainError::InvalidJwtToken);
        }
        Ok(Permit {
            actor: Actor::of(self.caller),
            target: TargetIds {
                client_ext_id: self.client.clone(),
                user_ext_id: None,
            },
            request_id: self.caller.request_id.clone(),
        })
    }

    /// SPEC §10.1: the caller may change `target` only if it could grant it every role it holds
    /// (SelfAdmin never counts; self-admin mode on oneself is exempt). Runs after the path's user
    /// is resolved (§3.4 step 4) and before the X-Token (step 5).
    pub fn check_target(
        &self,
        target_user_ext_id: &ExtId,
        target_grants: &[RoleGrant],
    ) -> Result<TargetCleared<'c>, DomainError> {
        if self.mode == AccessMode::Rights && !self.may_change(target_grants) {
            return Err(DomainError::PrivilegedTarget);
        }
        Ok(TargetCleared {
            authorized: self.clone(),
            user: target_user_ext_id.clone(),
        })
    }

    fn may_change(&self, target_grants: &[RoleGrant]) -> bool {
        target_grants
            .iter()
            .filter(|g| g.role != Role::SelfAdmin)
            .all(|g| may_grant(&self.caller.grants, g).is_ok())
    }
}

/// SPEC §10.1 passed for the path's user; the X-Token step remains.
#[must_use = "a cleared target still needs the X-Token step to become a Permit"]
#[derive(Debug)]
pub struct TargetCleared<'c> {
    authorized: Authorized<'c>,
    user: ExtId,
}

impl TargetCleared<'_> {
    /// SPEC §3.4 step 5: in self-admin mode a valid X-Token naming the caller and bound to its
    /// current password (SPEC §10.4) is required; through rights nothing is. `password_epoch`
    /// reads the caller's password-credential epoch only when a token must be checked.
    pub fn verify_x_token(
        self,
        tokens: &dyn TokenIssuer,
        x_token: Option<&str>,
        password_epoch: impl FnOnce() -> AppResult<Option<i64>>,
    ) -> AppResult<Permit> {
        let caller = self.authorized.caller;
        if self.authorized.mode == AccessMode::SelfAdmin {
            let Some(epoch) = password_epoch()? else {
                return Err(DomainError::InvalidJwtToken.into());
            };
            let subject = TokenSubject {
                user_ext_id: caller.user_ext_id.to_string(),
                client_ext_id: caller.client_ext_id.to_string(),
                password_epoch: epoch,
            };
            if !x_token.is_some_and(|t| tokens.validate(t, &subject)) {
                return Err(DomainError::InvalidJwtToken.into());
            }
        }
        Ok(Permit {
            actor: Actor::of(caller),
            target: TargetIds {
                client_ext_id: self.authorized.client,
                user_ext_id: Some(self.user),
            },
            request_id: caller.request_id.clone(),
        })
    }

    /// Through rights or through self-admin mode.
    pub fn mode(&self) -> AccessMode {
        self.authorized.mode
    }
}

/// Permission to write, with who acts and on whom; the write path records it in the history.
#[derive(Debug, Clone)]
pub struct Permit {
    actor: Actor,
    target: TargetIds,
    request_id: Option<String>,
}

impl Permit {
    /// Writes the server makes for itself or an operator makes offline (bootstrap, break-glass).
    pub(crate) fn system(actor: Actor, target: TargetIds) -> Permit {
        Permit {
            actor,
            target,
            request_id: None,
        }
    }

    /// Login bookkeeping of a password check (Basic authentication, the token endpoint): the
    /// user whose secret was presented acts on itself.
    pub(crate) fn login_of(
        client_ext_id: &ExtId,
        user_ext_id: &ExtId,
        login_id: &str,
        request_id: Option<String>,
    ) -> Permit {
        Permit {
            actor: Actor::User {
                client_ext_id: client_ext_id.clone(),
                user_ext_id: user_ext_id.clone(),
                login_id: login_id.to_owned(),
            },
            target: TargetIds {
                client_ext_id: Some(client_ext_id.clone()),
                user_ext_id: Some(user_ext_id.clone()),
            },
            request_id,
        }
    }

    /// The same permit, aimed at a client it just created (its default policies are events of
    /// that client).
    pub(crate) fn on_client(mut self, client_ext_id: ExtId) -> Permit {
        self.target.client_ext_id = Some(client_ext_id);
        self
    }

    /// The same permit for the given request.
    pub(crate) fn with_request_id(mut self, request_id: Option<String>) -> Permit {
        self.request_id = request_id;
        self
    }

    /// Who acts.
    pub fn actor(&self) -> &Actor {
        &self.actor
    }

    /// On what the path names.
    pub fn target(&self) -> &TargetIds {
        &self.target
    }

    /// The request it belongs to, when there is one.
    pub fn request_id(&self) -> Option<&str> {
        self.request_id.as_deref()
    }
}
