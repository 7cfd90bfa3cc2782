//! Password credentials (SPEC §8.5), the password reset (SPEC §6.1) and the delivery outbox
//! (SPEC §8.7).

use idm_domain::access::{AccessMode, Requirement, Right};
use idm_domain::credential::{
    Credential, CredentialSecret, CredentialState, NewCredential, StateChangeReason,
};
use idm_domain::delivery::{Delivery, DeliveryKind};
use idm_domain::password::{check_reset_allowed, check_supplied, split_for_delivery};
use idm_domain::policy::{check_version, Policy, PolicyType};
use idm_domain::user::User;
use idm_domain::DomainError;

use super::{
    lookup, Body, CreatePassword, OutboxService, PasswordIssued, PasswordService, PatchPassword,
    Ports,
};
use crate::caller::Caller;
use crate::error::{AppError, AppResult, StoreError, UniqueKey};
use crate::permit::Permit;
use crate::repos::{transact, CredentialRecord, Repos, TxMode};
use crate::write::{write, Change, Tx};

/// The password use cases and the outbox listing.
pub struct PasswordUseCases {
    ports: Ports,
}

impl PasswordUseCases {
    /// Builds the use cases over the shared ports.
    pub fn new(ports: Ports) -> Self {
        PasswordUseCases { ports }
    }
}

fn policy_of(repos: &mut dyn Repos, credential: &Credential) -> AppResult<Policy> {
    repos
        .policies()
        .find_by_id(&credential.policy_id)?
        .ok_or_else(|| AppError::Internal("credential without its policy".into()))
}

fn password_of(repos: &mut dyn Repos, user: &User, lock: bool) -> AppResult<CredentialRecord> {
    repos
        .credentials()
        .find_password_of_user(&user.id, lock)?
        .ok_or_else(|| DomainError::NoPasswordCredential(user.ext_id.to_string()).into())
}

const CREATE: [Right; 2] = [Right::CredentialCreate, Right::CredentialChangeState];
const VIEW: [Right; 1] = [Right::CredentialView];
const VIEW_MODIFY: [Right; 2] = [Right::CredentialView, Right::CredentialModify];

impl PasswordService for PasswordUseCases {
    fn create_password(
        &self,
        caller: &Caller,
        client: &str,
        user: &str,
        cmd: Body<CreatePassword>,
    ) -> AppResult<PasswordIssued> {
        let authorized = caller.authorize(Requirement::rights(&CREATE), Some(client), None)?;
        let ports = &self.ports;
        // Everything that can be refused is checked before the (bounded) hashing, and no
        // transaction is open while it hashes (SPEC §10.3); the write re-checks under its lock.
        let (cmd, policy) = transact(&*ports.uow, TxMode::Read, |repos| {
            let (c, u) = lookup::client_and_user(repos, client, user)?;
            lookup::user_permit(ports, repos, &authorized, &u, None)?;
            let cmd = cmd.clone()?;
            if repos
                .credentials()
                .find_password_of_user(&u.id, false)?
                .is_some()
            {
                return Err(DomainError::PasswordExists(u.ext_id.to_string()).into());
            }
            if cmd.ext_id.is_some() {
                lookup::new_credential_ext_id(repos, &c, cmd.ext_id.clone(), unreachable_id)?;
            }
            if let Some(name) = cmd.state_name.as_deref() {
                name.parse::<CredentialState>()?;
            }
            let policy = lookup::policy_for_create(
                repos,
                &c,
                cmd.policy_ext_id.as_deref(),
                PolicyType::Pwd,
            )?;
            Ok((cmd, policy))
        })?;
        let rules = policy.parameters.password();
        let generated = if rules.reset_code_enabled {
            if cmd.password.is_some() {
                return Err(DomainError::PasswordNotAllowed.into());
            }
            self.generate(&policy)?
        } else {
            let supplied = cmd
                .password
                .as_deref()
                .filter(|p| !p.is_empty())
                .ok_or_else(|| DomainError::NullParameter("password".into()))?;
            check_supplied(&rules, supplied)?;
            let slot = ports.hasher.slot()?;
            Generated {
                hash: ports.hasher.hash(&slot, supplied)?,
                fragment: None,
                rest: None,
            }
        };
        let state = match cmd.state_name.as_deref() {
            Some(name) => name.parse::<CredentialState>()?,
            None => CredentialState::Active,
        };
        write(ports, |tx| {
            let repos = tx.repos();
            let (c, u) = lookup::client_and_user(repos, client, user)?;
            let permit = lookup::user_permit(ports, repos, &authorized, &u, None)?;
            let ext_id = lookup::new_credential_ext_id(repos, &c, cmd.ext_id.clone(), || {
                ports.ids.new_id()
            })?;
            let credential = Credential::new(
                NewCredential {
                    id: ports.ids.new_id(),
                    client_id: c.id.clone(),
                    user_id: Some(u.id.clone()),
                    ext_id,
                    policy: &policy,
                    state,
                    now: tx.now(),
                },
                CredentialSecret::Password {
                    hash: generated.hash.clone(),
                },
            );
            match tx.apply(&permit, Change::CredentialCreated(&credential)) {
                Err(StoreError::Unique(UniqueKey::UserPassword)) => {
                    return Err(DomainError::PasswordExists(u.ext_id.to_string()).into())
                }
                Err(StoreError::Unique(UniqueKey::CredentialExtId)) => {
                    return Err(DomainError::DuplicateCredentialExtId(
                        credential.ext_id.to_string(),
                    )
                    .into())
                }
                other => other?,
            }
            // The outbox row references the credential, so it follows the insert.
            if let Some(rest) = &generated.rest {
                self.enqueue(tx, &permit, &credential, rest)?;
            }
            Ok(PasswordIssued {
                record: CredentialRecord {
                    credential,
                    user_ext_id: Some(u.ext_id.clone()),
                    policy_ext_id: policy.ext_id.clone(),
                },
                fragment: generated.fragment.clone(),
                generated: rules.reset_code_enabled,
            })
        })
    }

    fn get_password(
        &self,
        caller: &Caller,
        client: &str,
        user: &str,
    ) -> AppResult<CredentialRecord> {
        caller
            .authorize(Requirement::rights_or_self(&VIEW), Some(client), Some(user))?
            .read();
        transact(&*self.ports.uow, TxMode::Read, |repos| {
            let (_, u) = lookup::client_and_user(repos, client, user)?;
            password_of(repos, &u, false)
        })
    }

    fn patch_password(
        &self,
        caller: &Caller,
        client: &str,
        user: &str,
        patch: Body<PatchPassword>,
    ) -> AppResult<CredentialRecord> {
        let authorized = caller.authorize(Requirement::rights(&VIEW_MODIFY), Some(client), None)?;
        let ports = &self.ports;
        write(ports, |tx| {
            let repos = tx.repos();
            let (_, u) = lookup::client_and_user(repos, client, user)?;
            let permit = lookup::user_permit(ports, repos, &authorized, &u, None)?;
            let patch = patch.clone()?;
            let mut record = password_of(repos, &u, true)?;
            check_version(record.credential.version, patch.version)?;
            let state = match patch.state_name.as_deref() {
                Some(name) => name.parse::<CredentialState>()?,
                None => record.credential.state,
            };
            let before = record.credential.clone();
            record.credential.change_state_by_admin(
                state,
                patch.modification_comment.clone(),
                tx.now(),
            );
            let action = if record.credential.state_change_reason == StateChangeReason::Unlock
                && before.state.is_locked()
            {
                "credential.unlocked"
            } else {
                "credential.updated"
            };
            tx.apply(
                &permit,
                Change::CredentialUpdated {
                    action,
                    before: &before,
                    after: &record.credential,
                },
            )?;
            Ok(record)
        })
    }

    fn reset_password(
        &self,
        caller: &Caller,
        client: &str,
        user: &str,
        x_token: Option<String>,
    ) -> AppResult<PasswordIssued> {
        let authorized = caller.authorize(
            Requirement::rights_or_self(&VIEW_MODIFY),
            Some(client),
            Some(user),
        )?;
        let reason = match authorized.mode() {
            AccessMode::SelfAdmin => StateChangeReason::Reset,
            AccessMode::Rights => StateChangeReason::ResetByAdmin,
        };
        let ports = &self.ports;
        // Every refusal first, then the hash with no transaction open (SPEC §10.3), then the
        // write, which checks again under the row lock.
        let check = |repos: &mut dyn Repos,
                     lock: bool|
         -> AppResult<(User, Permit, CredentialRecord, Policy)> {
            let (_, u) = lookup::client_and_user(repos, client, user)?;
            let permit = lookup::user_permit(ports, repos, &authorized, &u, x_token.as_deref())?;
            let record = password_of(repos, &u, lock)?;
            let policy = policy_of(repos, &record.credential)?;
            check_reset_allowed(
                &record.credential,
                &policy.parameters.password(),
                u.ext_id.as_str(),
            )?;
            Ok((u, permit, record, policy))
        };
        let (_, _, _, policy) = transact(&*ports.uow, TxMode::Read, |r| check(r, false))?;
        let generated = self.generate(&policy)?;
        write(ports, |tx| {
            let (_, permit, mut record, _) = check(tx.repos(), true)?;
            let before = record.credential.clone();
            record
                .credential
                .reset_password(generated.hash.clone(), reason, tx.now());
            tx.apply(
                &permit,
                Change::CredentialUpdated {
                    action: "password.reset",
                    before: &before,
                    after: &record.credential,
                },
            )?;
            if let Some(rest) = &generated.rest {
                self.enqueue(tx, &permit, &record.credential, rest)?;
            }
            Ok(PasswordIssued {
                record,
                fragment: generated.fragment.clone(),
                generated: true,
            })
        })
    }
}

impl PasswordUseCases {
    /// Draws a password from the policy's charset with the CSPRNG, hashes it (in a bounded
    /// hashing slot, outside any transaction), and splits it between the caller's fragment and
    /// the part left for delivery.
    fn generate(&self, policy: &Policy) -> AppResult<Generated> {
        let rules = policy.parameters.password();
        let password = self
            .ports
            .secrets
            .password(&rules.generated_charset, rules.generated_length);
        let slot = self.ports.hasher.slot()?;
        let hash = self.ports.hasher.hash(&slot, &password)?;
        let (fragment, rest) = split_for_delivery(&password, rules.fragment_length);
        Ok(Generated {
            hash,
            fragment: (!fragment.is_empty()).then_some(fragment),
            rest: (!rest.is_empty()).then_some(rest),
        })
    }

    /// Queues `rest` sealed (bound to the delivery's own row) for out-of-band delivery.
    fn enqueue(
        &self,
        tx: &mut Tx<'_>,
        permit: &Permit,
        credential: &Credential,
        rest: &str,
    ) -> AppResult<()> {
        let user_id = credential
            .user_id
            .clone()
            .ok_or_else(|| AppError::Internal("password credential without user".into()))?;
        let id = self.ports.ids.new_id();
        let sealed_payload = self.ports.cipher.seal(rest.as_bytes(), &id)?;
        tx.apply(
            permit,
            Change::DeliveryQueued(&Delivery {
                id,
                client_id: credential.client_id.clone(),
                user_id,
                credential_id: credential.id.clone(),
                kind: DeliveryKind::PasswordRemainder,
                sealed_payload,
                created: tx.now(),
            }),
        )?;
        Ok(())
    }
}

/// Never called: a generator for the duplicate check of a requested extId.
fn unreachable_id() -> String {
    "unused".to_owned()
}

/// A new password's hash and its two parts; the plain password lives only here, briefly.
struct Generated {
    hash: String,
    fragment: Option<String>,
    rest: Option<String>,
}

/// A pending delivery as the operator sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingDelivery {
    /// The delivery.
    pub delivery: Delivery,
    /// The opened payload, only on an explicit request.
    pub payload: Option<String>,
}

impl OutboxService for PasswordUseCases {
    fn pending_deliveries(&self, limit: u32, reveal: bool) -> AppResult<Vec<PendingDelivery>> {
        let pending = transact(&*self.ports.uow, TxMode::Read, |repos| {
            Ok(repos.deliveries().pending(limit)?)
        })?;
        pending
            .into_iter()
            .map(|delivery| {
                let payload =
                    if reveal {
                        let plain = self
                            .ports
                            .cipher
                            .open(&delivery.sealed_payload, &delivery.id)?;
                        Some(String::from_utf8(plain).map_err(|_| {
                            AppError::Internal("a delivery payload is not text".into())
                        })?)
                    } else {
                        None
                    };
                Ok(PendingDelivery { delivery, payload })
            })
            .collect()
    }
}
