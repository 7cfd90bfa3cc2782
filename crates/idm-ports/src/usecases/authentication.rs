//! The authentication API (SPEC §11): a login front end verifies a user's password (§11.1) or
//! OATH code (§11.2), resynchronises an HOTP token (§11.2), and changes or unlocks a password
//! (§11.3).
//!
//! * The password login goes through the one password check ([`check_password`]), so SPEC
//!   §10.2 (reservation under a row lock before the argon2 check) and §10.3 (bounded hashing,
//!   no transaction held while hashing) hold as for every other password check.
//! * An OATH login needs no argon2: the whole attempt — lock state, opening the sealed secret,
//!   the HMAC check, counting the success or failure and storing the accepted step or counter —
//!   runs in ONE write transaction under the credential's row lock. That makes replay
//!   protection exact (of N parallel submissions of one code, one sees the step unused) and the
//!   failure count exact (attempts after the lock are refused without a check), on every
//!   instance sharing the database.
//! * For a TOTP credential `OathDetails::counter` holds the last accepted time step (0 = none
//!   yet); for an HOTP credential it is the next expected counter.
//! * The opened secret lives only in a `Zeroizing` buffer for the check; no code, secret or
//!   password reaches an event, an error text or a log line.

use idm_domain::access::{AccessMode, Requirement, Right};
use idm_domain::credential::{Credential, CredentialSecret, CredentialState};
use idm_domain::error::PolicyViolation;
use idm_domain::otp::{self, OathAlgorithm, TotpCheck};
use idm_domain::password::check_supplied;
use idm_domain::policy::{LockoutRules, OathDefaults, PasswordRules, PolicyParameters, PolicyType};
use idm_domain::user::{User, UserState};
use idm_domain::DomainError;
use zeroize::Zeroizing;

use super::login::{check_password, report_lockout, PasswordCheck};
use super::oath::find_oath;
use super::{
    lookup, AuthService, Body, ChangePassword, LoginStatus, OathLogin, OathResync, PasswordLogin,
    Ports,
};
use crate::caller::Caller;
use crate::error::{AppError, AppResult};
use crate::history::Outcome;
use crate::permit::Permit;
use crate::repos::{transact, Repos, TxMode};
use crate::write::{write, Change, Tx};

/// The authentication use cases.
pub struct AuthUseCases {
    ports: Ports,
}

impl AuthUseCases {
    /// Builds the use cases over the shared ports.
    pub fn new(ports: Ports) -> Self {
        AuthUseCases { ports }
    }
}

/// Rights of the login and resync endpoints (SPEC §11); SelfAdmin cannot stand in.
const LOGIN: [Right; 3] = [
    Right::CredentialView,
    Right::CredentialModify,
    Right::CredentialChangeState,
];
/// Rights of the password change (or SelfAdmin with `X-Token`, SPEC §11.3).
const CHANGE: [Right; 1] = [Right::CredentialModify];
/// Rights of the unlock (SPEC §11.3).
const UNLOCK: [Right; 2] = [Right::CredentialModify, Right::CredentialChangeState];

/// `Some(value)` when present and not empty.
fn given(value: &Option<String>) -> Option<&str> {
    value.as_deref().filter(|v| !v.is_empty())
}

/// The body, or its syntax failure (SPEC §3.4 step 6), without consuming it: a write closure
/// may run more than once.
fn body<T>(body: &Body<T>) -> AppResult<&T> {
    body.as_ref().map_err(Clone::clone)
}

/// SPEC §11: a login on a user that is not `active`.
fn user_not_active(user: &User) -> DomainError {
    DomainError::CredentialNotUsable(format!("User with extId {} is not active", user.ext_id))
}

/// SPEC §11: `disabled`, `archived` or past `validity.to` — refused before anything else about
/// the credential, even a lock.
fn out_of_service(credential: &Credential, now: chrono::DateTime<chrono::Utc>) -> bool {
    matches!(
        credential.state,
        CredentialState::Disabled | CredentialState::Archived
    ) || now >= credential.validity_to
}

fn not_active(credential: &Credential) -> DomainError {
    DomainError::CredentialNotActive(credential.ext_id.to_string())
}

/// The pre-conditions of SPEC §11 in their order: the user, then the credential's own state.
/// `None` when the attempt may go on (it may still be refused by a lock).
fn precondition(
    user: &User,
    credential: &Credential,
    now: chrono::DateTime<chrono::Utc>,
) -> Option<(DomainError, &'static str)> {
    if user.state != UserState::Active {
        return Some((user_not_active(user), "user not active"));
    }
    if out_of_service(credential, now) {
        return Some((not_active(credential), "credential not active"));
    }
    None
}

/// The credential's policy parameters (the OATH defaults if the policy is gone).
fn policy_parameters(
    repos: &mut dyn Repos,
    credential: &Credential,
) -> AppResult<PolicyParameters> {
    Ok(repos
        .policies()
        .find_by_id(&credential.policy_id)?
        .map(|p| p.parameters)
        .unwrap_or_else(|| PolicyParameters::defaults(PolicyType::Oath)))
}

/// The lockout rules and OATH check settings of an OATH credential's policy.
fn oath_rules(
    repos: &mut dyn Repos,
    credential: &Credential,
) -> AppResult<(LockoutRules, OathDefaults)> {
    let parameters = policy_parameters(repos, credential)?;
    Ok((parameters.lockout(), parameters.oath()))
}

fn internal(what: &str) -> AppError {
    AppError::Internal(format!("OATH credential: {what}"))
}

/// What a stored OATH credential needs for a check, decoded and with its secret opened.
struct OathKey {
    secret: Zeroizing<Vec<u8>>,
    algorithm: OathAlgorithm,
    digits: u32,
    period: u32,
    /// HOTP: the next expected counter; TOTP: the last accepted step (0 = none).
    counter: u64,
    hotp: bool,
}

impl OathKey {
    /// Opens the sealed secret bound to the credential's row (SPEC §10.4). A value that does not
    /// open (tampered, another key, copied from another row) is an internal error: 500 without
    /// details, never a login answer.
    fn open(ports: &Ports, credential: &Credential) -> AppResult<OathKey> {
        let CredentialSecret::Oath(details) = &credential.secret else {
            return Err(internal("not an OATH credential"));
        };
        let secret = ports
            .cipher
            .open(&details.encrypted_secret, &credential.id)
            .map_err(|_| internal("the sealed secret does not open for its row"))?;
        let key = OathKey {
            secret: Zeroizing::new(secret),
            algorithm: OathAlgorithm::from_name(&details.hashing_algorithm)
                .ok_or_else(|| internal("unknown hashing algorithm"))?,
            digits: u32::try_from(details.digits).map_err(|_| internal("negative digits"))?,
            period: u32::try_from(details.period).map_err(|_| internal("negative period"))?,
            counter: u64::try_from(details.counter).map_err(|_| internal("negative counter"))?,
            hotp: is_hotp(credential),
        };
        Ok(key)
    }
}

/// Whether an OATH credential counts events (HOTP) rather than time (TOTP).
fn is_hotp(credential: &Credential) -> bool {
    matches!(&credential.secret, CredentialSecret::Oath(d) if d.authentication_method == "HOTP")
}

/// How a code compared.
enum Verdict {
    /// Right: store this counter (HOTP: matched + 1; TOTP: the accepted step).
    Accepted(u64),
    /// Right only for a step already used (TOTP replay): a failure.
    Replayed,
    /// Wrong, malformed or outside the window: a failure.
    Wrong,
}

fn verify(key: &OathKey, settings: &OathDefaults, code: &str, now_unix: i64) -> Verdict {
    if key.hotp {
        return match otp::verify_hotp(
            &key.secret,
            code,
            key.counter,
            settings.hotp_look_ahead,
            key.digits,
            key.algorithm,
        ) {
            Some(matched) => Verdict::Accepted(matched + 1),
            None => Verdict::Wrong,
        };
    }
    let last_accepted = (key.counter > 0).then_some(key.counter);
    match otp::verify_totp(
        &key.secret,
        code,
        now_unix,
        key.period,
        key.digits,
        key.algorithm,
        settings.totp_window,
        last_accepted,
    ) {
        TotpCheck::Accepted { step } => Verdict::Accepted(step),
        TotpCheck::Replayed => Verdict::Replayed,
        TotpCheck::Rejected => Verdict::Wrong,
    }
}

/// Stores `counter` as the OATH credential's counter (or last accepted step).
fn set_counter(credential: &mut Credential, counter: u64) -> AppResult<()> {
    let CredentialSecret::Oath(details) = &mut credential.secret else {
        return Err(internal("not an OATH credential"));
    };
    details.counter = i64::try_from(counter).map_err(|_| internal("counter out of range"))?;
    Ok(())
}

/// Records a refused attempt (nothing checked, nothing counted).
fn note_refused(tx: &mut Tx<'_>, permit: &Permit, credential: &Credential, detail: &str) {
    let ext = credential.ext_id.to_string();
    tx.note(
        permit,
        "login.refused",
        Outcome::Failure,
        Some(&ext),
        Some(detail),
    );
}

/// SPEC §11.3 `notCurrentPassword`: the new password equals the current one. The violation
/// describes the supplied password, never repeats it.
fn equals_current(new_password: &str) -> DomainError {
    DomainError::PasswordPolicyViolated(vec![PolicyViolation {
        display_name: "notCurrentPassword".into(),
        config_string: "notCurrentPassword".into(),
        supplied_value: format!("{} characters", new_password.chars().count()),
        limit_value: "a password other than the current one".into(),
        actual_value: "the current password".into(),
    }])
}

impl AuthService for AuthUseCases {
    fn password_login(
        &self,
        caller: &Caller,
        client: &str,
        user: &str,
        cmd: Body<PasswordLogin>,
    ) -> AppResult<LoginStatus> {
        let authorized = caller.authorize(Requirement::rights(&LOGIN), Some(client), None)?;
        let ports = &self.ports;
        let (u, permit, credential) = transact(&*ports.uow, TxMode::Read, |repos| {
            let (_, u) = lookup::client_and_user(repos, client, user)?;
            let permit = lookup::user_permit(ports, repos, &authorized, &u, None)?;
            given(&body(&cmd)?.password)
                .ok_or_else(|| DomainError::NullParameter("password".into()))?;
            let record = repos
                .credentials()
                .find_password_of_user(&u.id, false)?
                .ok_or_else(|| DomainError::NoPasswordCredential(u.ext_id.to_string()))?;
            Ok((u, permit, record.credential))
        })?;
        let password = cmd
            .as_ref()
            .ok()
            .and_then(|c| given(&c.password))
            .ok_or_else(|| DomainError::NullParameter("password".into()))?;
        if let Some((refusal, detail)) = precondition(&u, &credential, ports.clock.now()) {
            write(ports, |tx| {
                note_refused(tx, &permit, &credential, detail);
                Ok(())
            })?;
            return Err(refusal.into());
        }
        let status = match check_password(ports, &permit, &u.id, password, true, None)? {
            PasswordCheck::NoCredential => {
                return Err(DomainError::NoPasswordCredential(u.ext_id.to_string()).into())
            }
            PasswordCheck::NotUsable => return Err(not_active(&credential).into()),
            PasswordCheck::Locked(lock) => LoginStatus::of_failure(lock, false),
            PasswordCheck::Wrong {
                outcome,
                next_locks,
            } => LoginStatus::of_failure(outcome, next_locks),
            PasswordCheck::Verified { .. } => LoginStatus::Ok,
        };
        write(ports, |tx| {
            tx.apply(
                &permit,
                Change::UserLoginRecorded {
                    user: &u,
                    success: status == LoginStatus::Ok,
                },
            )?;
            Ok(())
        })?;
        Ok(status)
    }

    fn oath_login(
        &self,
        caller: &Caller,
        client: &str,
        user: &str,
        ext_id: &str,
        cmd: Body<OathLogin>,
    ) -> AppResult<LoginStatus> {
        let authorized = caller.authorize(Requirement::rights(&LOGIN), Some(client), None)?;
        let ports = &self.ports;
        // One transaction under the credential's row lock: check, count and store together.
        let attempt = write(ports, |tx| {
            let (c, u) = lookup::client_and_user(tx.repos(), client, user)?;
            let permit = lookup::user_permit(ports, tx.repos(), &authorized, &u, None)?;
            let code = given(&body(&cmd)?.code)
                .ok_or_else(|| DomainError::NullParameter("code".into()))?;
            let mut credential = find_oath(tx.repos(), &c, &u, ext_id, true)?.credential;
            let now = tx.now();
            if let Some((refusal, detail)) = precondition(&u, &credential, now) {
                note_refused(tx, &permit, &credential, detail);
                return Ok(Err(refusal));
            }
            if let Some(lock) = credential.lock_in_force(now) {
                // Locked: refused without a check and without counting (SPEC §11, §10.2).
                note_refused(tx, &permit, &credential, "locked");
                tx.apply(
                    &permit,
                    Change::UserLoginRecorded {
                        user: &u,
                        success: false,
                    },
                )?;
                return Ok(Ok((LoginStatus::of_failure(lock, false), None)));
            }
            if !credential.is_usable(now) {
                note_refused(tx, &permit, &credential, "credential not active");
                return Ok(Err(not_active(&credential)));
            }
            let (rules, settings) = oath_rules(tx.repos(), &credential)?;
            let key = OathKey::open(ports, &credential)?;
            let verdict = verify(&key, &settings, code, now.timestamp());
            drop(key);
            let before = credential.clone();
            let (action, status, lockout) = match verdict {
                Verdict::Accepted(counter) => {
                    credential.record_success(now);
                    set_counter(&mut credential, counter)?;
                    ("login.succeeded", LoginStatus::Ok, None)
                }
                Verdict::Replayed | Verdict::Wrong => {
                    let outcome = credential.record_failure(&rules, now);
                    let status =
                        LoginStatus::of_failure(outcome, credential.next_failure_locks(&rules));
                    let action = if matches!(verdict, Verdict::Replayed) {
                        "oath.replayRefused"
                    } else {
                        "login.failed"
                    };
                    (action, status, Some(outcome))
                }
            };
            tx.apply(
                &permit,
                Change::CredentialUpdated {
                    action,
                    before: &before,
                    after: &credential,
                },
            )?;
            tx.apply(
                &permit,
                Change::UserLoginRecorded {
                    user: &u,
                    success: status == LoginStatus::Ok,
                },
            )?;
            Ok(Ok((status, lockout)))
        })?;
        let (status, lockout) = attempt?;
        if let Some(outcome) = lockout {
            report_lockout(&*ports.telemetry, outcome);
        }
        Ok(status)
    }

    fn oath_resync(
        &self,
        caller: &Caller,
        client: &str,
        user: &str,
        ext_id: &str,
        cmd: Body<OathResync>,
    ) -> AppResult<()> {
        let authorized = caller.authorize(Requirement::rights(&LOGIN), Some(client), None)?;
        let ports = &self.ports;
        let outcome = write(ports, |tx| {
            let (c, u) = lookup::client_and_user(tx.repos(), client, user)?;
            let permit = lookup::user_permit(ports, tx.repos(), &authorized, &u, None)?;
            let cmd = body(&cmd)?;
            let code1 =
                given(&cmd.code1).ok_or_else(|| DomainError::NullParameter("code1".into()))?;
            let code2 =
                given(&cmd.code2).ok_or_else(|| DomainError::NullParameter("code2".into()))?;
            let mut credential = find_oath(tx.repos(), &c, &u, ext_id, true)?.credential;
            if !is_hotp(&credential) {
                return Err(DomainError::InvalidParameter(
                    "Resynchronisation applies to HOTP credentials only.".into(),
                )
                .into());
            }
            let now = tx.now();
            if let Some((refusal, _)) = precondition(&u, &credential, now) {
                return Err(refusal.into());
            }
            let (_, settings) = oath_rules(tx.repos(), &credential)?;
            let key = OathKey::open(ports, &credential)?;
            let found = otp::resync_hotp(
                &key.secret,
                code1,
                code2,
                key.counter,
                settings.hotp_resync_window,
                key.digits,
                key.algorithm,
            );
            drop(key);
            let ext = credential.ext_id.to_string();
            let Some(matched) = found else {
                tx.note(
                    &permit,
                    "oath.resynced",
                    Outcome::Failure,
                    Some(&ext),
                    Some("codes do not match consecutive counter values"),
                );
                return Ok(Err(DomainError::InvalidParameter(
                    "The codes do not match consecutive counter values.".into(),
                )));
            };
            let before = credential.clone();
            set_counter(&mut credential, matched + 2)?;
            credential.last_modified = now;
            credential.version += 1;
            tx.apply(
                &permit,
                Change::CredentialUpdated {
                    action: "oath.resynced",
                    before: &before,
                    after: &credential,
                },
            )?;
            Ok(Ok(()))
        })?;
        Ok(outcome?)
    }

    fn change_password(
        &self,
        caller: &Caller,
        client: &str,
        user: &str,
        x_token: Option<String>,
        cmd: Body<ChangePassword>,
    ) -> AppResult<()> {
        let authorized = caller.authorize(
            Requirement::rights_or_self(&CHANGE),
            Some(client),
            Some(user),
        )?;
        let by_self = authorized.mode() == AccessMode::SelfAdmin;
        let ports = &self.ports;
        // Every refusal first (SPEC §3.4 order), then the checks that hash, with no transaction
        // open (SPEC §10.3), then the write, which checks again under the row lock.
        let check = |repos: &mut dyn Repos,
                     lock: bool|
         -> AppResult<(User, Permit, Credential, PasswordRules)> {
            let (_, u) = lookup::client_and_user(repos, client, user)?;
            let permit = lookup::user_permit(ports, repos, &authorized, &u, x_token.as_deref())?;
            let cmd = body(&cmd)?;
            if by_self && given(&cmd.old_password).is_none() {
                return Err(DomainError::NullParameter("oldPassword".into()).into());
            }
            if given(&cmd.new_password).is_none() {
                return Err(DomainError::NullParameter("newPassword".into()).into());
            }
            let credential = repos
                .credentials()
                .find_password_of_user(&u.id, lock)?
                .ok_or_else(|| DomainError::NoPasswordCredential(u.ext_id.to_string()))?
                .credential;
            let parameters = policy_parameters(repos, &credential)?;
            let rules = parameters.password();
            if rules.reset_code_enabled {
                return Err(DomainError::PasswordResetDisabled.into());
            }
            if out_of_service(&credential, ports.clock.now()) {
                return Err(not_active(&credential).into());
            }
            Ok((u, permit, credential, rules))
        };
        let (u, permit, credential, rules) =
            transact(&*ports.uow, TxMode::Read, |repos| check(repos, false))?;
        let cmd = body(&cmd)?;
        let new_password = given(&cmd.new_password)
            .ok_or_else(|| DomainError::NullParameter("newPassword".into()))?;
        check_supplied(&rules, new_password)?;
        let CredentialSecret::Password { hash: checked_hash } = &credential.secret else {
            return Err(AppError::Internal(
                "a Password credential without a hash".into(),
            ));
        };
        if by_self {
            let old_password = given(&cmd.old_password)
                .ok_or_else(|| DomainError::NullParameter("oldPassword".into()))?;
            match check_password(ports, &permit, &u.id, old_password, false, None)? {
                PasswordCheck::NoCredential => {
                    return Err(DomainError::NoPasswordCredential(u.ext_id.to_string()).into())
                }
                PasswordCheck::NotUsable | PasswordCheck::Locked(_) => {
                    return Err(not_active(&credential).into())
                }
                PasswordCheck::Wrong { .. } => {
                    return Err(
                        DomainError::InvalidParameter("Failed to verify password.".into()).into(),
                    )
                }
                PasswordCheck::Verified { .. } => {}
            }
            // The old password verified against the current hash: equal strings are equal
            // passwords, no second hash needed.
            if new_password == old_password {
                return Err(equals_current(new_password).into());
            }
        } else {
            let slot = ports.hasher.slot()?;
            let same = ports.hasher.verify(&slot, new_password, checked_hash);
            drop(slot);
            if same {
                return Err(equals_current(new_password).into());
            }
        }
        let new_hash = {
            let slot = ports.hasher.slot()?;
            ports.hasher.hash(&slot, new_password)?
        };
        write(ports, |tx| {
            let (_, permit, mut credential, _) = check(tx.repos(), true)?;
            // The checks above ran against this hash; a password changed meanwhile must be
            // checked again by the caller.
            if !matches!(&credential.secret, CredentialSecret::Password { hash } if hash == checked_hash)
            {
                return Err(DomainError::OptimisticLockingFailure.into());
            }
            let before = credential.clone();
            credential.change_password(new_hash.clone(), by_self, tx.now());
            tx.apply(
                &permit,
                Change::CredentialUpdated {
                    action: "password.changed",
                    before: &before,
                    after: &credential,
                },
            )?;
            Ok(())
        })
    }

    fn unlock_password(&self, caller: &Caller, client: &str, user: &str) -> AppResult<()> {
        let authorized = caller.authorize(Requirement::rights(&UNLOCK), Some(client), None)?;
        let ports = &self.ports;
        write(ports, |tx| {
            let (_, u) = lookup::client_and_user(tx.repos(), client, user)?;
            let permit = lookup::user_permit(ports, tx.repos(), &authorized, &u, None)?;
            let mut credential = tx
                .repos()
                .credentials()
                .find_password_of_user(&u.id, true)?
                .ok_or_else(|| DomainError::NoPasswordCredential(u.ext_id.to_string()))?
                .credential;
            let before = credential.clone();
            if credential.unlock(tx.now()) {
                tx.apply(
                    &permit,
                    Change::CredentialUpdated {
                        action: "credential.unlocked",
                        before: &before,
                        after: &credential,
                    },
                )?;
            }
            Ok(())
        })
    }
}
