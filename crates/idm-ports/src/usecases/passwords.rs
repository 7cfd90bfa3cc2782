//! Password credentials (SPEC §8.5), the password reset (SPEC §6.1) and the delivery outbox
//! (SPEC §8.7).

use chrono::{DateTime, Utc};
use idm_domain::access::{AccessMode, Requirement, Right};
use idm_domain::credential::{
    validity_end, Credential, CredentialSecret, CredentialState, StateChangeReason,
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
use crate::repos::{transact, CredentialRecord, Repos, TxMode};

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
        caller.authorize(Requirement::rights(&CREATE), Some(client), None)?;
        let ports = &self.ports;
        transact(&*ports.uow, TxMode::Write, |repos| {
            let (c, u) = lookup::client_and_user(repos, client, user)?;
            let cmd = cmd.clone()?;
            if repos
                .credentials()
                .find_password_of_user(&u.id, false)?
                .is_some()
            {
                return Err(DomainError::PasswordExists(u.ext_id.to_string()).into());
            }
            let ext_id = lookup::new_credential_ext_id(repos, &c, cmd.ext_id.clone(), || {
                ports.ids.new_id()
            })?;
            let state = match cmd.state_name.as_deref() {
                Some(name) => name.parse::<CredentialState>()?,
                None => CredentialState::Active,
            };
            let policy = lookup::policy_for_create(
                repos,
                &c,
                cmd.policy_ext_id.as_deref(),
                PolicyType::Pwd,
            )?;
            let rules = policy.parameters.password();
            let now = ports.clock.now();
            let mut credential = Credential {
                id: ports.ids.new_id(),
                client_id: c.id.clone(),
                user_id: Some(u.id.clone()),
                ext_id,
                policy_id: policy.id.clone(),
                state,
                state_change_reason: StateChangeReason::Initialized,
                state_change_detail: None,
                last_successful_login: None,
                successful_login_count: 0,
                last_failed_login: None,
                failed_login_count: 0,
                modification_comment: None,
                validity_from: now,
                validity_to: validity_end(now, &policy.parameters.lockout(PolicyType::Pwd)),
                locked_until: None,
                reset_count: 0,
                secret: CredentialSecret::Password {
                    hash: String::new(),
                },
                created: now,
                last_modified: now,
                version: 1,
            };
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
                Generated {
                    hash: ports.hasher.hash(supplied)?,
                    fragment: None,
                    rest: None,
                }
            };
            credential.secret = CredentialSecret::Password {
                hash: generated.hash,
            };
            match repos.credentials().insert(&credential) {
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
                self.enqueue(repos, &credential, rest, now)?;
            }
            Ok(PasswordIssued {
                record: CredentialRecord {
                    credential,
                    user_ext_id: Some(u.ext_id.clone()),
                    policy_ext_id: policy.ext_id.clone(),
                },
                fragment: generated.fragment,
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
        caller.authorize(Requirement::rights_or_self(&VIEW), Some(client), Some(user))?;
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
        caller.authorize(Requirement::rights(&VIEW_MODIFY), Some(client), None)?;
        let ports = &self.ports;
        transact(&*ports.uow, TxMode::Write, |repos| {
            let (_, u) = lookup::client_and_user(repos, client, user)?;
            let patch = patch.clone()?;
            let mut record = password_of(repos, &u, true)?;
            let cred = &mut record.credential;
            check_version(cred.version, patch.version)?;
            let state = match patch.state_name.as_deref() {
                Some(name) => name.parse::<CredentialState>()?,
                None => cred.state,
            };
            let expected = cred.version;
            cred.change_state_by_admin(
                state,
                patch.modification_comment.clone(),
                ports.clock.now(),
            );
            repos.credentials().update(cred, expected)?;
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
        let mode = caller.authorize(
            Requirement::rights_or_self(&VIEW_MODIFY),
            Some(client),
            Some(user),
        )?;
        let ports = &self.ports;
        transact(&*ports.uow, TxMode::Write, |repos| {
            let (_, u) = lookup::client_and_user(repos, client, user)?;
            lookup::require_x_token(ports, caller, mode, x_token.as_deref())?;
            let reason = match mode {
                AccessMode::SelfAdmin => StateChangeReason::Reset,
                AccessMode::Rights => StateChangeReason::ResetByAdmin,
            };
            let mut record = password_of(repos, &u, true)?;
            let policy = policy_of(repos, &record.credential)?;
            check_reset_allowed(
                &record.credential,
                &policy.parameters.password(),
                u.ext_id.as_str(),
            )?;
            let now = ports.clock.now();
            let generated = self.generate(&policy)?;
            let expected = record.credential.version;
            record
                .credential
                .reset_password(generated.hash, reason, now);
            repos.credentials().update(&record.credential, expected)?;
            if let Some(rest) = &generated.rest {
                self.enqueue(repos, &record.credential, rest, now)?;
            }
            Ok(PasswordIssued {
                record,
                fragment: generated.fragment,
                generated: true,
            })
        })
    }
}

impl PasswordUseCases {
    /// Draws a password from the policy's charset with the CSPRNG, hashes it, and splits it
    /// between the caller's fragment and the part left for delivery.
    fn generate(&self, policy: &Policy) -> AppResult<Generated> {
        let rules = policy.parameters.password();
        let password = self
            .ports
            .secrets
            .password(&rules.generated_charset, rules.generated_length);
        let hash = self.ports.hasher.hash(&password)?;
        let (fragment, rest) = split_for_delivery(&password, rules.fragment_length);
        Ok(Generated {
            hash,
            fragment: (!fragment.is_empty()).then_some(fragment),
            rest: (!rest.is_empty()).then_some(rest),
        })
    }

    /// Queues `rest` sealed for out-of-band delivery to the credential's user.
    fn enqueue(
        &self,
        repos: &mut dyn Repos,
        credential: &Credential,
        rest: &str,
        now: DateTime<Utc>,
    ) -> AppResult<()> {
        let user_id = credential
            .user_id
            .clone()
            .ok_or_else(|| AppError::Internal("password credential without user".into()))?;
        repos.deliveries().enqueue(&Delivery {
            id: self.ports.ids.new_id(),
            client_id: credential.client_id.clone(),
            user_id,
            credential_id: credential.id.clone(),
            kind: DeliveryKind::PasswordRemainder,
            sealed_payload: self.ports.cipher.seal(rest.as_bytes())?,
            created: now,
        })?;
        Ok(())
    }
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
                        let plain = self.ports.cipher.open(&delivery.sealed_payload)?;
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
