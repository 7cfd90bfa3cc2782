//! One password check against a user's Password credential, shared by caller authentication
//! (SPEC §3.1), the token endpoint (§6.3), the password login (§11.1) and the password change
//! (§11.3), so every one of them holds SPEC §10.2 and §10.3 the same way:
//!
//! 1. a hashing slot is taken first (a full queue answers 503 and counts as no attempt);
//! 2. the attempt is reserved under a row lock: a locked credential refuses without a check and
//!    without counting; otherwise the failure is counted in advance, so parallel attempts on any
//!    number of instances never verify more wrong secrets than the policy's threshold;
//! 3. the hash is verified with no transaction or connection held;
//! 4. a right secret gives its reservation back and records the success.

use idm_domain::credential::{Attempt, CredentialSecret, LoginOutcome};

use super::{lookup, Ports};
use crate::error::AppResult;
use crate::history::Outcome;
use crate::permit::Permit;
use crate::telemetry::{LockKind, Telemetry, Verification};
use crate::write::{write, Change};

/// Reports a lock that a committed failure imposed (SPEC §9 `/metrics`).
pub(crate) fn report_lockout(telemetry: &dyn Telemetry, outcome: LoginOutcome) {
    match outcome {
        LoginOutcome::TmpLocked => telemetry.lockout(LockKind::Temporary),
        LoginOutcome::FailLocked => telemetry.lockout(LockKind::Permanent),
        LoginOutcome::Succeeded | LoginOutcome::Failed => {}
    }
}

/// What one password check found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum PasswordCheck {
    /// The user has no Password credential.
    NoCredential,
    /// The credential is not usable and not merely locked (disabled, archived, expired).
    NotUsable,
    /// Locked: refused without a check and without counting.
    Locked(LoginOutcome),
    /// Wrong secret, counted; the outcome says whether it locked.
    Wrong {
        /// Failed, TmpLocked or FailLocked.
        outcome: LoginOutcome,
        /// Whether one more failure would lock (SPEC §11 status 3).
        next_locks: bool,
    },
    /// Right secret, success recorded.
    Verified {
        /// The credential's version afterwards.
        version: i64,
        /// The credential's token epoch (SPEC §10.4).
        epoch: i64,
    },
}

/// Runs the four steps of the module documentation for `password` against the Password
/// credential of the user `user_id`; the events are recorded under `permit`.
/// `count_success`: record every success (`successfulLoginCount` + 1, SPEC §11.1), not only one
/// that clears something (SPEC §3.1).
pub(crate) fn check_password(
    ports: &Ports,
    permit: &Permit,
    user_id: &str,
    password: &str,
    count_success: bool,
    slot: Option<crate::auth::HashSlot>,
) -> AppResult<PasswordCheck> {
    let mut held = slot;
    // Waiting for running checks to settle is bounded by the hashing wait; a wait that does
    // not end in time is a refusal (the credential stays locked).
    let deadline = std::time::Instant::now() + WAIT_FOR_RUNNING_CHECKS;
    loop {
        let slot = match held.take() {
            Some(slot) => slot,
            None => ports.hasher.slot()?,
        };
        match attempt(ports, permit, user_id, password, count_success, slot)? {
            Some(check) => return Ok(check),
            None if std::time::Instant::now() < deadline => {
                std::thread::sleep(std::time::Duration::from_millis(15));
            }
            None => return Ok(PasswordCheck::Locked(LoginOutcome::TmpLocked)),
        }
    }
}

/// The longest an attempt waits for running checks that hold the threshold.
const WAIT_FOR_RUNNING_CHECKS: std::time::Duration = std::time::Duration::from_secs(2);

/// One try: `None` when running checks hold the threshold and the caller should wait.
fn attempt(
    ports: &Ports,
    permit: &Permit,
    user_id: &str,
    password: &str,
    count_success: bool,
    slot: crate::auth::HashSlot,
) -> AppResult<Option<PasswordCheck>> {
    let reserved = write(ports, |tx| {
        let Some(rec) = tx
            .repos()
            .credentials()
            .find_password_of_user(user_id, true)?
        else {
            return Ok(Err(Some(PasswordCheck::NoCredential)));
        };
        let mut cred = rec.credential;
        let CredentialSecret::Password { hash } = &cred.secret else {
            return Ok(Err(Some(PasswordCheck::NoCredential)));
        };
        let hash = hash.clone();
        let now = tx.now();
        let rules = lookup::lockout_rules(tx.repos(), &cred)?;
        let before = cred.clone();
        match cred.begin_attempt(&rules, now) {
            Attempt::Wait => Ok(Err(None)),
            Attempt::Refused => {
                if cred != before {
                    // Lapsed reservations locked it just now.
                    tx.apply(
                        permit,
                        Change::CredentialUpdated {
                            action: "credential.locked",
                            before: &before,
                            after: &cred,
                        },
                    )?;
                }
                let check = match cred.lock_in_force(now) {
                    Some(lock) => PasswordCheck::Locked(lock),
                    None => PasswordCheck::NotUsable,
                };
                let ext = before.ext_id.to_string();
                tx.note(permit, "login.refused", Outcome::Failure, Some(&ext), None);
                Ok(Err(Some(check)))
            }
            Attempt::Reserved { counted, if_wrong } => {
                let next_locks = cred.next_failure_locks(&rules);
                if counted {
                    tx.apply(
                        permit,
                        Change::CredentialUpdated {
                            action: "login.attempted",
                            before: &before,
                            after: &cred,
                        },
                    )?;
                }
                Ok(Ok((hash, counted, if_wrong, next_locks)))
            }
        }
    })?;
    let (hash, counted, if_wrong, next_locks) = match reserved {
        Ok(r) => r,
        Err(check) => return Ok(check),
    };
    let matched = ports.hasher.verify(&slot, password, &hash);
    drop(slot);
    ports.telemetry.password_verification(if matched {
        Verification::Success
    } else {
        Verification::Failure
    });
    if !matched {
        let outcome = finish_failure(ports, permit, user_id, counted)?.unwrap_or(if_wrong);
        report_lockout(&*ports.telemetry, outcome);
        return Ok(Some(PasswordCheck::Wrong {
            outcome,
            next_locks,
        }));
    }
    settle_success(ports, permit, user_id, counted, count_success).map(Some)
}

/// A wrong secret: counted by its reservation, so what is left is its consequence (a lock)
/// and the end of the reservation; for a policy that never locks, the failure itself. The
/// outcome as committed, `None` when the credential is gone.
fn finish_failure(
    ports: &Ports,
    permit: &Permit,
    user_id: &str,
    counted: bool,
) -> AppResult<Option<LoginOutcome>> {
    write(ports, |tx| {
        let Some(rec) = tx
            .repos()
            .credentials()
            .find_password_of_user(user_id, true)?
        else {
            return Ok(None);
        };
        let mut cred = rec.credential;
        let before = cred.clone();
        let rules = lookup::lockout_rules(tx.repos(), &cred)?;
        let now = tx.now();
        let outcome = if counted {
            cred.settle_failure(&rules, now)
        } else if cred.is_usable(now) {
            cred.record_failure(&rules, now)
        } else {
            return Ok(None);
        };
        tx.apply(
            permit,
            Change::CredentialUpdated {
                action: "login.failed",
                before: &before,
                after: &cred,
            },
        )?;
        Ok(Some(outcome))
    })
}

/// A right secret: the reservation is given back and the success recorded. A success that
/// would change nothing beyond the counters writes nothing (authenticated reads stay reads).
fn settle_success(
    ports: &Ports,
    permit: &Permit,
    user_id: &str,
    counted: bool,
    count_success: bool,
) -> AppResult<PasswordCheck> {
    write(ports, |tx| {
        let Some(rec) = tx
            .repos()
            .credentials()
            .find_password_of_user(user_id, true)?
        else {
            return Ok(PasswordCheck::NoCredential);
        };
        let mut cred = rec.credential;
        let now = tx.now();
        let record = count_success || cred.success_clears(now);
        if !counted && !record {
            return Ok(if cred.is_usable(now) {
                PasswordCheck::Verified {
                    version: cred.version,
                    epoch: cred.epoch,
                }
            } else {
                PasswordCheck::NotUsable
            });
        }
        let before = cred.clone();
        if !cred.settle_success(counted, record, now) {
            return Ok(PasswordCheck::NotUsable);
        }
        tx.apply(
            permit,
            Change::CredentialUpdated {
                action: "login.succeeded",
                before: &before,
                after: &cred,
            },
        )?;
        Ok(PasswordCheck::Verified {
            version: cred.version,
            epoch: cred.epoch,
        })
    })
}
