//! Recording a password login's outcome on the credential (SPEC §3.1, §6.2), shared by caller
//! authentication and the token endpoint so both count failures under the same lockout rules.

use idm_domain::credential::LoginOutcome;

use super::{lookup, Ports};
use crate::error::AppResult;
use crate::repos::{transact, TxMode};
use crate::telemetry::{LockKind, Telemetry};

/// Reports a lock that a committed failure imposed (SPEC §9 `/metrics`).
pub(crate) fn report_lockout(telemetry: &dyn Telemetry, outcome: LoginOutcome) {
    match outcome {
        LoginOutcome::TmpLocked => telemetry.lockout(LockKind::Temporary),
        LoginOutcome::FailLocked => telemetry.lockout(LockKind::Permanent),
        LoginOutcome::Succeeded | LoginOutcome::Failed => {}
    }
}

/// Records a success or failure on the user's password credential under a row lock, so
/// concurrent outcomes are all counted. Returns the credential's version afterwards, or `None`
/// when the credential is missing or no longer usable (nothing is recorded then).
/// A success writes only when it clears something (failures, an expired lock). A failure that
/// locks the credential is reported to telemetry once, after the commit.
pub(crate) fn record_password_login(
    ports: &Ports,
    user_id: &str,
    success: bool,
) -> AppResult<Option<i64>> {
    let clock = &ports.clock;
    let (version, outcome) = transact(&*ports.uow, TxMode::Write, |repos| {
        let Some(rec) = repos.credentials().find_password_of_user(user_id, true)? else {
            return Ok((None, None));
        };
        let mut cred = rec.credential;
        let now = clock.now();
        if !cred.is_usable(now) {
            return Ok((None, None));
        }
        let expected = cred.version;
        let outcome = if success {
            if !cred.success_needs_write(now) {
                return Ok((Some(expected), None));
            }
            cred.record_success(now)
        } else {
            let rules = lookup::lockout_rules(repos, &cred)?;
            cred.record_failure(&rules, now)
        };
        repos.credentials().update(&cred, expected)?;
        Ok((Some(cred.version), Some(outcome)))
    })?;
    if let Some(outcome) = outcome {
        report_lockout(&*ports.telemetry, outcome);
    }
    Ok(version)
}
