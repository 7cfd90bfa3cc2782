//! Credentials (SPEC §4.3–§4.4): common fields, states, the "usable" rule and the login
//! outcome rules of SPEC §6.2 as pure functions.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Duration, Utc};

use crate::error::DomainError;
use crate::ext_id::ExtId;
use crate::policy::LockoutRules;

/// The credential types this service manages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CredentialType {
    /// A password, at most one per user.
    Password,
    /// A VASCO Digipass token, created unassigned and assigned later.
    Vasco,
    /// An OATH (TOTP/HOTP) authenticator.
    Oath,
}

impl CredentialType {
    /// The display name the API writes in `type`.
    pub fn as_str(self) -> &'static str {
        match self {
            CredentialType::Password => "Password",
            CredentialType::Vasco => "Vasco",
            CredentialType::Oath => "OATH",
        }
    }
}

impl FromStr for CredentialType {
    type Err = DomainError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "Password" => Ok(CredentialType::Password),
            "Vasco" => Ok(CredentialType::Vasco),
            "OATH" => Ok(CredentialType::Oath),
            other => Err(DomainError::InvalidParameter(format!(
                "Unknown credential type '{other}'"
            ))),
        }
    }
}

/// The state of a credential (SPEC §4.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[allow(missing_docs)]
pub enum CredentialState {
    Initial,
    Active,
    TmpLocked,
    FailLocked,
    ResetCode,
    AdminChanged,
    Disabled,
    Archived,
}

impl CredentialState {
    /// Every state.
    pub const ALL: [CredentialState; 8] = [
        CredentialState::Initial,
        CredentialState::Active,
        CredentialState::TmpLocked,
        CredentialState::FailLocked,
        CredentialState::ResetCode,
        CredentialState::AdminChanged,
        CredentialState::Disabled,
        CredentialState::Archived,
    ];

    /// The state's name as the API writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            CredentialState::Initial => "initial",
            CredentialState::Active => "active",
            CredentialState::TmpLocked => "tmp-locked",
            CredentialState::FailLocked => "fail-locked",
            CredentialState::ResetCode => "reset-code",
            CredentialState::AdminChanged => "admin-changed",
            CredentialState::Disabled => "disabled",
            CredentialState::Archived => "archived",
        }
    }

    /// Whether the state is one of the two locks.
    pub fn is_locked(self) -> bool {
        matches!(
            self,
            CredentialState::TmpLocked | CredentialState::FailLocked
        )
    }
}

impl fmt::Display for CredentialState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for CredentialState {
    type Err = DomainError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        CredentialState::ALL
            .into_iter()
            .find(|st| st.as_str() == s)
            .ok_or_else(|| {
                DomainError::InvalidParameter(format!("Invalid CredentialState name '{s}'"))
            })
    }
}

/// Why a credential's state last changed (SPEC §4.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(missing_docs)]
pub enum StateChangeReason {
    Initialized,
    Activated,
    TooManyLoginFailures,
    ResetByAdmin,
    Reset,
    Changed,
    ChangedByAdmin,
    Unlock,
}

impl StateChangeReason {
    /// Every reason.
    pub const ALL: [StateChangeReason; 8] = [
        StateChangeReason::Initialized,
        StateChangeReason::Activated,
        StateChangeReason::TooManyLoginFailures,
        StateChangeReason::ResetByAdmin,
        StateChangeReason::Reset,
        StateChangeReason::Changed,
        StateChangeReason::ChangedByAdmin,
        StateChangeReason::Unlock,
    ];

    /// The reason as the API writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            StateChangeReason::Initialized => "initialized",
            StateChangeReason::Activated => "activated",
            StateChangeReason::TooManyLoginFailures => "too-many-login-failures",
            StateChangeReason::ResetByAdmin => "reset-by-admin",
            StateChangeReason::Reset => "reset",
            StateChangeReason::Changed => "changed",
            StateChangeReason::ChangedByAdmin => "changed-by-admin",
            StateChangeReason::Unlock => "unlock",
        }
    }
}

impl FromStr for StateChangeReason {
    type Err = DomainError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        StateChangeReason::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| {
                DomainError::InvalidParameter(format!("Unknown state change reason '{s}'"))
            })
    }
}

/// One Digipass data block of a VASCO credential, kept as given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VascoToken {
    /// Two-character authentication mode, unique per credential.
    pub auth_mode: String,
    /// Base64 data block.
    pub data: String,
}

/// The OATH-specific settings of a credential.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OathDetails {
    /// otpauth issuer.
    pub issuer: String,
    /// `TOTP` or `HOTP`.
    pub authentication_method: String,
    /// `SHA1`, `SHA256` or `SHA512`.
    pub hashing_algorithm: String,
    /// Code length.
    pub digits: i32,
    /// TOTP step in seconds.
    pub period: i32,
    /// HOTP counter.
    pub counter: i64,
    /// The shared secret, encrypted at rest (SPEC §4.5); never the plain secret.
    pub encrypted_secret: String,
    /// The user-facing label.
    pub label: String,
}

/// What a credential holds besides the common fields.
#[derive(Clone, PartialEq, Eq)]
pub enum CredentialSecret {
    /// An argon2id PHC string.
    Password {
        /// The PHC hash; never shown, never logged.
        hash: String,
    },
    /// OATH settings and encrypted secret.
    Oath(OathDetails),
    /// Digipass data blocks.
    Vasco {
        /// The blocks, in the order given.
        tokens: Vec<VascoToken>,
    },
}

impl fmt::Debug for CredentialSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never print hashes or secrets, not even in debug output.
        match self {
            CredentialSecret::Password { .. } => f.write_str("Password { hash: <redacted> }"),
            CredentialSecret::Oath(d) => write!(f, "Oath {{ label: {:?}, .. }}", d.label),
            CredentialSecret::Vasco { tokens } => write!(f, "Vasco {{ {} tokens }}", tokens.len()),
        }
    }
}

impl CredentialSecret {
    /// The credential type this secret belongs to.
    pub fn credential_type(&self) -> CredentialType {
        match self {
            CredentialSecret::Password { .. } => CredentialType::Password,
            CredentialSecret::Oath(_) => CredentialType::Oath,
            CredentialSecret::Vasco { .. } => CredentialType::Vasco,
        }
    }
}

/// A credential with the fields common to all types (SPEC §4.3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credential {
    /// Storage identity; never shown.
    pub id: String,
    /// The owning client's storage identity.
    pub client_id: String,
    /// The owning user's storage identity; `None` for an unassigned VASCO credential.
    pub user_id: Option<String>,
    /// External ID, unique within the client across all types.
    pub ext_id: ExtId,
    /// The governing policy's storage identity.
    pub policy_id: String,
    /// Current state.
    pub state: CredentialState,
    /// Why the state last changed.
    pub state_change_reason: StateChangeReason,
    /// Free-text detail of the last state change.
    pub state_change_detail: Option<String>,
    /// Last success reported.
    pub last_successful_login: Option<DateTime<Utc>>,
    /// Successes reported.
    pub successful_login_count: i64,
    /// Last failure reported.
    pub last_failed_login: Option<DateTime<Utc>>,
    /// Failures since the last success.
    pub failed_login_count: i64,
    /// Comment of the last admin change.
    pub modification_comment: Option<String>,
    /// Start of validity (the creation time).
    pub validity_from: DateTime<Utc>,
    /// End of validity (from + policy `credentialLifetime`).
    pub validity_to: DateTime<Utc>,
    /// End of a temporary lock.
    pub locked_until: Option<DateTime<Utc>>,
    /// Password resets since the last successful login.
    pub reset_count: i64,
    /// Type-specific data.
    pub secret: CredentialSecret,
    /// When it was created.
    pub created: DateTime<Utc>,
    /// When it last changed.
    pub last_modified: DateTime<Utc>,
    /// Optimistic-locking version.
    pub version: i64,
    /// Moves whenever the secret or the state changes by a reset, change, unlock or admin
    /// state change; X-Tokens carry the epoch they were issued at (SPEC §10.4).
    pub epoch: i64,
    /// Password checks reserved but not yet settled (SPEC §10.2), valid until `pending_until`
    /// (a crashed check cannot hold its reservation for longer).
    pub pending_attempts: i64,
    /// The end of the reservations' lease.
    pub pending_until: Option<DateTime<Utc>>,
}

/// What every new credential is made of, whatever its type.
#[derive(Debug, Clone)]
pub struct NewCredential<'p> {
    /// Storage identity.
    pub id: String,
    /// The owning client's storage identity.
    pub client_id: String,
    /// The owner; `None` for VASCO stock.
    pub user_id: Option<String>,
    /// The extId (requested or generated).
    pub ext_id: ExtId,
    /// The governing policy: its id and its `credentialLifetime`.
    pub policy: &'p crate::policy::Policy,
    /// The first state.
    pub state: CredentialState,
    /// The creation time.
    pub now: DateTime<Utc>,
}

/// How long a reserved password check may stay unsettled before its reservation lapses.
pub const ATTEMPT_LEASE_SECONDS: i64 = 30;

/// A password attempt's place in the lockout (SPEC §10.2): reserved before the hash check so
/// that parallel attempts never verify more wrong secrets than the policy allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attempt {
    /// Locked or otherwise unusable: fail without checking, and without counting.
    Refused,
    /// The threshold is taken by checks still running, one of which may turn out right and
    /// lift the lock: wait for them to settle, then try again (nothing counted meanwhile).
    Wait,
    /// The check may run; a failure was counted in advance when `counted`.
    Reserved {
        /// Whether a failure was counted (the policy locks at all).
        counted: bool,
        /// The outcome if the secret turns out wrong (already applied when `counted`).
        if_wrong: LoginOutcome,
    },
}

/// How a reported login outcome left a credential (SPEC §6.2 `statusCode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoginOutcome {
    /// Success recorded.
    Succeeded,
    /// Failure recorded, no lock.
    Failed,
    /// Failure recorded; the credential is now temporarily locked.
    TmpLocked,
    /// Failure recorded; the credential is now locked until an admin unlocks it.
    FailLocked,
}

impl LoginOutcome {
    /// SPEC §6.2's `statusCode` of a response item.
    pub fn status_code(self) -> i32 {
        match self {
            LoginOutcome::Succeeded => 0,
            LoginOutcome::Failed => 2,
            LoginOutcome::TmpLocked => 3,
            LoginOutcome::FailLocked => 4,
        }
    }

    /// SPEC §6.2's `description` of a response item.
    pub fn description(self) -> &'static str {
        match self {
            LoginOutcome::Succeeded => "Login successful.",
            LoginOutcome::Failed => "Login failed.",
            LoginOutcome::TmpLocked => "Login failed. Credential temporarily locked.",
            LoginOutcome::FailLocked => "Login failed. Credential locked.",
        }
    }

    /// Whether the login succeeded.
    pub fn is_success(self) -> bool {
        self == LoginOutcome::Succeeded
    }
}

impl Credential {
    /// The credential's type.
    pub fn credential_type(&self) -> CredentialType {
        self.secret.credential_type()
    }

    /// A new credential of any type: `initialized`, counters zero, valid from `now` for the
    /// policy's `credentialLifetime` (SPEC §4.3).
    pub fn new(base: NewCredential<'_>, secret: CredentialSecret) -> Credential {
        let lifetime = base.policy.parameters.lockout();
        Credential {
            id: base.id,
            client_id: base.client_id,
            user_id: base.user_id,
            ext_id: base.ext_id,
            policy_id: base.policy.id.clone(),
            state: base.state,
            state_change_reason: StateChangeReason::Initialized,
            state_change_detail: None,
            last_successful_login: None,
            successful_login_count: 0,
            last_failed_login: None,
            failed_login_count: 0,
            modification_comment: None,
            validity_from: base.now,
            validity_to: validity_end(base.now, &lifetime),
            locked_until: None,
            reset_count: 0,
            secret,
            created: base.now,
            last_modified: base.now,
            version: 1,
            epoch: 0,
            pending_attempts: 0,
            pending_until: None,
        }
    }

    /// SPEC §4.4 (and §10.4 `validity.to`): whether a login may use this credential at `now`.
    pub fn is_usable(&self, now: DateTime<Utc>) -> bool {
        if now >= self.validity_to {
            return false;
        }
        match self.state {
            CredentialState::Initial | CredentialState::Active | CredentialState::AdminChanged => {
                true
            }
            CredentialState::TmpLocked => self.lock_expired(now),
            _ => false,
        }
    }

    fn lock_expired(&self, now: DateTime<Utc>) -> bool {
        self.state == CredentialState::TmpLocked
            && self.locked_until.is_none_or(|until| until <= now)
    }

    /// Whether a successful login would change anything beyond the success counters: a failure
    /// count to clear or an expired lock to lift. A caller authentication writes only then.
    pub fn success_needs_write(&self, now: DateTime<Utc>) -> bool {
        self.failed_login_count > 0 || self.lock_expired(now)
    }

    fn set_state(&mut self, state: CredentialState, reason: StateChangeReason) {
        self.state = state;
        self.state_change_reason = reason;
    }

    fn touch(&mut self, now: DateTime<Utc>) {
        self.last_modified = now;
        self.version += 1;
    }

    /// SPEC §6.2 "Success", on a usable credential.
    pub fn record_success(&mut self, now: DateTime<Utc>) -> LoginOutcome {
        self.successful_login_count += 1;
        self.failed_login_count = 0;
        self.last_successful_login = Some(now);
        self.reset_count = 0;
        if self.lock_expired(now) {
            self.set_state(CredentialState::Active, StateChangeReason::Activated);
        }
        self.locked_until = None;
        if self.state == CredentialState::Initial
            && self.credential_type() != CredentialType::Password
        {
            self.set_state(CredentialState::Active, StateChangeReason::Activated);
        }
        self.touch(now);
        LoginOutcome::Succeeded
    }

    /// SPEC §6.2 "Failure", on a usable credential: count, then lock per the policy.
    pub fn record_failure(&mut self, rules: &LockoutRules, now: DateTime<Utc>) -> LoginOutcome {
        self.failed_login_count += 1;
        let outcome = self.apply_failure_count(rules, now);
        self.touch(now);
        outcome
    }

    /// The consequences of the failures counted so far (the last one at `now`): a fail-lock, a
    /// tmp-lock, or none (an expired tmp-lock below the threshold is lifted).
    fn apply_failure_count(&mut self, rules: &LockoutRules, now: DateTime<Utc>) -> LoginOutcome {
        self.last_failed_login = Some(now);
        let count = self.failed_login_count;
        let reached = |limit: Option<u32>| limit.is_some_and(|l| count >= i64::from(l));
        if reached(rules.max_failures) {
            self.set_state(
                CredentialState::FailLocked,
                StateChangeReason::TooManyLoginFailures,
            );
            self.locked_until = None;
            LoginOutcome::FailLocked
        } else if reached(rules.tmp_lock_threshold) {
            self.set_state(
                CredentialState::TmpLocked,
                StateChangeReason::TooManyLoginFailures,
            );
            self.locked_until = Some(now + Duration::milliseconds(rules.tmp_lock_duration_ms));
            LoginOutcome::TmpLocked
        } else {
            if self.lock_expired(now) {
                // An expired temporary lock that fails again below the threshold is lifted.
                self.set_state(CredentialState::Active, StateChangeReason::Activated);
                self.locked_until = None;
            }
            LoginOutcome::Failed
        }
    }

    /// Whether `count` failures reach a lock threshold of `rules`.
    fn reaches_lock(rules: &LockoutRules, count: i64) -> bool {
        let reached = |limit: Option<u32>| limit.is_some_and(|l| count >= i64::from(l));
        reached(rules.max_failures) || reached(rules.tmp_lock_threshold)
    }
}

impl Credential {
    /// SPEC §10.2: reserves a password attempt before its hash check. An unusable credential
    /// refuses (nothing checked, nothing counted). Otherwise, when the policy locks at all, the
    /// failure is counted now, so that N parallel attempts see each other's reservations and at
    /// most the threshold of them are ever checked; a right secret then gives the reservation
    /// back through [`Credential::settle_success`].
    pub fn begin_attempt(&mut self, rules: &LockoutRules, now: DateTime<Utc>) -> Attempt {
        if self.pending_until.is_none_or(|until| until <= now) {
            self.pending_attempts = 0;
            self.pending_until = None;
        }
        if !self.is_usable(now) {
            return Attempt::Refused;
        }
        if rules.max_failures.is_none() && rules.tmp_lock_threshold.is_none() {
            let mut probe = self.clone();
            let if_wrong = probe.record_failure(rules, now);
            return Attempt::Reserved {
                counted: false,
                if_wrong,
            };
        }
        // The count includes the checks still running: once it reaches the threshold, no more
        // checks start. While some run, one may turn out right, so later attempts wait.
        if Self::reaches_lock(rules, self.failed_login_count) && self.pending_attempts > 0 {
            return Attempt::Wait;
        }
        if Self::reaches_lock(rules, self.failed_login_count) && !self.lock_expired(now) {
            // Reservations whose checks never settled (a crash) count as the failures they
            // reserved: the lock they would have caused applies now.
            self.apply_failure_count(rules, now);
            self.touch(now);
            return Attempt::Refused;
        }
        self.failed_login_count += 1;
        self.pending_attempts += 1;
        self.pending_until = Some(now + Duration::seconds(ATTEMPT_LEASE_SECONDS));
        self.touch(now);
        let mut probe = self.clone();
        let if_wrong = probe.apply_failure_count(rules, now);
        Attempt::Reserved {
            counted: true,
            if_wrong,
        }
    }

    /// A reserved attempt whose secret was wrong: its failure was counted when it was
    /// reserved; now its consequences (a lock) apply and the reservation ends.
    pub fn settle_failure(&mut self, rules: &LockoutRules, now: DateTime<Utc>) -> LoginOutcome {
        self.end_reservation();
        let outcome = self.apply_failure_count(rules, now);
        self.touch(now);
        outcome
    }

    fn end_reservation(&mut self) {
        self.pending_attempts = (self.pending_attempts - 1).max(0);
        if self.pending_attempts == 0 {
            self.pending_until = None;
        }
    }

    /// A reserved attempt whose secret was right: its reserved failure is taken back and the
    /// success recorded; failures reserved by checks still running stay counted. `false` when
    /// the credential is not usable now (an admin disabled it, a failure locked it): then
    /// only the reservation ends.
    ///
    /// `record`: whether the success is recorded (counters, dates; SPEC §6.2). A caller
    /// authentication records one only when it clears something (SPEC §3.1); otherwise the
    /// reservation is simply given back.
    pub fn settle_success(&mut self, counted: bool, record: bool, now: DateTime<Utc>) -> bool {
        if counted {
            self.end_reservation();
            self.failed_login_count = (self.failed_login_count - 1).max(0);
        }
        if !self.is_usable(now) {
            self.touch(now);
            return false;
        }
        if record {
            self.record_success(now);
            self.failed_login_count = self.pending_attempts;
        } else {
            self.touch(now);
        }
        true
    }

    /// Whether a success would clear something beyond its own counters: settled failures (not
    /// the reservations of running checks) or an expired lock (SPEC §3.1).
    pub fn success_clears(&self, now: DateTime<Utc>) -> bool {
        let running = if self.pending_until.is_some_and(|until| until > now) {
            self.pending_attempts
        } else {
            0
        };
        self.failed_login_count - running > 0 || self.lock_expired(now)
    }

    /// Whether one more failure would lock the credential (SPEC §11 status 3).
    pub fn next_failure_locks(&self, rules: &LockoutRules) -> bool {
        let next = self.failed_login_count + 1;
        let reached = |limit: Option<u32>| limit.is_some_and(|l| next >= i64::from(l));
        reached(rules.max_failures) || reached(rules.tmp_lock_threshold)
    }

    /// The lock an unusable credential is under, as a login answer reports it: `TmpLocked` for
    /// an unexpired temporary lock, `FailLocked` for a failure lock, `None` otherwise.
    pub fn lock_in_force(&self, now: DateTime<Utc>) -> Option<LoginOutcome> {
        match self.state {
            CredentialState::TmpLocked if !self.lock_expired(now) => Some(LoginOutcome::TmpLocked),
            CredentialState::FailLocked => Some(LoginOutcome::FailLocked),
            _ => None,
        }
    }

    /// Assigns a VASCO credential to a user (SPEC §8.7); `false` when it was already theirs.
    pub fn assign_to(&mut self, user_id: &str, now: DateTime<Utc>) -> bool {
        if self.user_id.as_deref() == Some(user_id) {
            return false;
        }
        self.user_id = Some(user_id.to_owned());
        self.touch(now);
        true
    }

    /// Takes a VASCO credential back into stock: no user, state `initial` (SPEC §8.7).
    pub fn unassign(&mut self, now: DateTime<Utc>) {
        self.user_id = None;
        if self.state != CredentialState::Initial {
            self.set_state(CredentialState::Initial, StateChangeReason::ChangedByAdmin);
        }
        self.touch(now);
    }

    /// SPEC §11.3 unlock: a tmp- or fail-locked credential becomes `active` (reason `unlock`,
    /// failures 0); `false` (nothing changes) in any other state.
    pub fn unlock(&mut self, now: DateTime<Utc>) -> bool {
        if !self.state.is_locked() {
            return false;
        }
        self.set_state(CredentialState::Active, StateChangeReason::Unlock);
        self.failed_login_count = 0;
        self.locked_until = None;
        self.epoch += 1;
        self.touch(now);
        true
    }

    /// SPEC §10.5 break-glass: `active` (reason `unlock`, failures 0) from whatever state;
    /// `false` when it already was active with nothing to clear.
    pub fn activate_by_operator(&mut self, now: DateTime<Utc>) -> bool {
        if self.state == CredentialState::Active && self.failed_login_count == 0 {
            return false;
        }
        self.set_state(CredentialState::Active, StateChangeReason::Unlock);
        self.failed_login_count = 0;
        self.locked_until = None;
        self.epoch += 1;
        self.touch(now);
        true
    }

    /// SPEC §11.3 password change: new hash, `active`, reason `changed` (by the user) or
    /// `changed-by-admin`, failures and reset count 0.
    pub fn change_password(&mut self, new_hash: String, by_self: bool, now: DateTime<Utc>) {
        self.secret = CredentialSecret::Password { hash: new_hash };
        let reason = if by_self {
            StateChangeReason::Changed
        } else {
            StateChangeReason::ChangedByAdmin
        };
        self.set_state(CredentialState::Active, reason);
        self.failed_login_count = 0;
        self.reset_count = 0;
        self.locked_until = None;
        self.epoch += 1;
        self.touch(now);
    }
}

/// The end of validity of a credential created at `from` under `rules` (SPEC §4.3).
pub fn validity_end(from: DateTime<Utc>, rules: &LockoutRules) -> DateTime<Utc> {
    from.checked_add_signed(Duration::milliseconds(rules.credential_lifetime_ms))
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn password(state: CredentialState) -> Credential {
        let t0 = DateTime::<Utc>::UNIX_EPOCH;
        Credential {
            id: "c1".into(),
            client_id: "k1".into(),
            user_id: Some("u1".into()),
            ext_id: ExtId::generated("pwd-1".into()),
            policy_id: "p1".into(),
            state,
            state_change_reason: StateChangeReason::Initialized,
            state_change_detail: None,
            last_successful_login: None,
            successful_login_count: 0,
            last_failed_login: None,
            failed_login_count: 0,
            modification_comment: None,
            validity_from: t0,
            validity_to: DateTime::<Utc>::MAX_UTC,
            locked_until: None,
            reset_count: 0,
            secret: CredentialSecret::Password {
                hash: "$argon2id$x".into(),
            },
            created: t0,
            last_modified: t0,
            version: 1,
            epoch: 0,
            pending_attempts: 0,
            pending_until: None,
        }
    }

    fn locking(threshold: u32) -> LockoutRules {
        LockoutRules {
            max_failures: None,
            tmp_lock_threshold: Some(threshold),
            ..LockoutRules::default()
        }
    }

    #[test]
    fn past_validity_to_is_not_usable() {
        let mut c = password(CredentialState::Active);
        c.validity_to = now();
        assert!(!c.is_usable(now()));
        assert!(c.is_usable(now() - Duration::seconds(1)));
        assert_eq!(c.begin_attempt(&locking(2), now()), Attempt::Refused);
    }

    #[test]
    fn reservations_stop_at_the_threshold() {
        let mut c = password(CredentialState::Active);
        let rules = locking(2);
        let first = c.begin_attempt(&rules, now());
        assert_eq!(
            first,
            Attempt::Reserved {
                counted: true,
                if_wrong: LoginOutcome::Failed
            }
        );
        let second = c.begin_attempt(&rules, now());
        assert_eq!(
            second,
            Attempt::Reserved {
                counted: true,
                if_wrong: LoginOutcome::TmpLocked
            }
        );
        // A reservation changes no state: the credential is not locked by checks in flight.
        assert_eq!(c.state, CredentialState::Active);
        // While both checks run, later attempts wait (one of the two may be right).
        assert_eq!(c.begin_attempt(&rules, now()), Attempt::Wait);
        assert_eq!(c.pending_attempts, 2);
        // The second turns out wrong: its failure stays; the first is still running.
        assert_eq!(c.settle_failure(&rules, now()), LoginOutcome::TmpLocked);
        assert_eq!(c.begin_attempt(&rules, now()), Attempt::Refused);
        // The first attempt turns out right, but a failure locked the credential meanwhile:
        // the lock stands (SPEC §6.2: a locked credential is not usable).
        assert!(!c.settle_success(true, true, now()));
        assert_eq!(c.state, CredentialState::TmpLocked);
        assert_eq!((c.failed_login_count, c.pending_attempts), (1, 0));
    }

    #[test]
    fn parallel_right_passwords_settle_without_locking() {
        let mut c = password(CredentialState::Initial);
        let rules = locking(2);
        c.begin_attempt(&rules, now());
        c.begin_attempt(&rules, now());
        assert_eq!(c.begin_attempt(&rules, now()), Attempt::Wait);
        assert!(c.settle_success(true, true, now()));
        // The other check still runs: its reservation stays counted.
        assert_eq!((c.failed_login_count, c.pending_attempts), (1, 1));
        assert!(c.settle_success(true, true, now()));
        assert_eq!((c.failed_login_count, c.pending_attempts), (0, 0));
        // A password leaves `initial` only by a change (SPEC §6.2).
        assert_eq!(c.state, CredentialState::Initial);
    }

    #[test]
    fn a_wrong_then_a_right_password_below_the_threshold() {
        let mut c = password(CredentialState::Initial);
        let rules = locking(2);
        c.begin_attempt(&rules, now());
        assert_eq!(c.settle_failure(&rules, now()), LoginOutcome::Failed);
        assert!(matches!(
            c.begin_attempt(&rules, now()),
            Attempt::Reserved { counted: true, .. }
        ));
        assert!(c.settle_success(true, true, now()));
        assert_eq!(
            (c.state, c.failed_login_count),
            (CredentialState::Initial, 0)
        );
    }

    #[test]
    fn when_every_reserved_check_failed_later_attempts_are_refused_uncounted() {
        let mut c = password(CredentialState::Active);
        let rules = locking(2);
        c.begin_attempt(&rules, now());
        c.begin_attempt(&rules, now());
        c.settle_failure(&rules, now());
        c.settle_failure(&rules, now());
        for _ in 0..10 {
            assert_eq!(c.begin_attempt(&rules, now()), Attempt::Refused);
        }
        assert_eq!(c.failed_login_count, 2);
    }

    #[test]
    fn a_lapsed_reservation_no_longer_holds_the_lock_open() {
        let mut c = password(CredentialState::Active);
        let rules = LockoutRules {
            tmp_lock_threshold: Some(1),
            tmp_lock_duration_ms: 3_600_000,
            ..locking(1)
        };
        c.begin_attempt(&rules, now());
        assert_eq!(c.begin_attempt(&rules, now()), Attempt::Wait);
        // The check never settled (a crash): after its lease its failure counts and locks.
        let later = now() + Duration::seconds(ATTEMPT_LEASE_SECONDS + 1);
        assert_eq!(c.begin_attempt(&rules, later), Attempt::Refused);
        assert_eq!(c.state, CredentialState::TmpLocked);
    }

    #[test]
    fn a_policy_that_never_locks_counts_nothing_in_advance() {
        let mut c = password(CredentialState::Active);
        let rules = LockoutRules {
            max_failures: None,
            tmp_lock_threshold: None,
            ..LockoutRules::default()
        };
        assert!(matches!(
            c.begin_attempt(&rules, now()),
            Attempt::Reserved { counted: false, .. }
        ));
        assert_eq!(c.failed_login_count, 0);
    }

    #[test]
    fn settle_success_does_not_revive_a_disabled_credential() {
        let mut c = password(CredentialState::Disabled);
        assert!(!c.settle_success(true, true, now()));
        assert_eq!(c.state, CredentialState::Disabled);
    }

    #[test]
    fn vasco_assign_and_unassign() {
        let mut c = password(CredentialState::Active);
        c.user_id = None;
        assert!(c.assign_to("u9", now()));
        assert!(!c.assign_to("u9", now()));
        assert_eq!((c.user_id.as_deref(), c.version), (Some("u9"), 2));
        c.unassign(now());
        assert_eq!(
            (c.user_id.as_deref(), c.state),
            (None, CredentialState::Initial)
        );
    }

    #[test]
    fn unlock_only_locked_and_moves_the_epoch() {
        let mut c = password(CredentialState::Active);
        assert!(!c.unlock(now()));
        assert_eq!((c.version, c.epoch), (1, 0));
        c.state = CredentialState::FailLocked;
        c.failed_login_count = 5;
        assert!(c.unlock(now()));
        assert_eq!(c.state, CredentialState::Active);
        assert_eq!(c.state_change_reason, StateChangeReason::Unlock);
        assert_eq!((c.failed_login_count, c.epoch), (0, 1));
    }

    #[test]
    fn operator_activation_from_any_state() {
        let mut c = password(CredentialState::Active);
        assert!(!c.activate_by_operator(now()));
        c.state = CredentialState::Disabled;
        c.failed_login_count = 3;
        assert!(c.activate_by_operator(now()));
        assert_eq!(
            (c.state, c.state_change_reason, c.failed_login_count),
            (CredentialState::Active, StateChangeReason::Unlock, 0)
        );
    }

    #[test]
    fn change_password_by_self_and_by_admin() {
        let mut c = password(CredentialState::Initial);
        c.reset_count = 2;
        c.change_password("$new".into(), true, now());
        assert_eq!(c.state_change_reason, StateChangeReason::Changed);
        assert_eq!((c.reset_count, c.epoch), (0, 1));
        c.change_password("$new2".into(), false, now());
        assert_eq!(c.state_change_reason, StateChangeReason::ChangedByAdmin);
        assert_eq!(c.state, CredentialState::Active);
    }

    #[test]
    fn next_failure_locks_and_lock_in_force() {
        let mut c = password(CredentialState::Active);
        let rules = locking(2);
        assert!(!c.next_failure_locks(&rules));
        c.failed_login_count = 1;
        assert!(c.next_failure_locks(&rules));
        c.state = CredentialState::TmpLocked;
        c.locked_until = Some(now() + Duration::seconds(5));
        assert_eq!(c.lock_in_force(now()), Some(LoginOutcome::TmpLocked));
        assert_eq!(c.lock_in_force(now() + Duration::seconds(6)), None);
    }

    fn now() -> DateTime<Utc> {
        DateTime::<Utc>::UNIX_EPOCH + Duration::days(1)
    }

    #[test]
    fn usable_states() {
        for s in CredentialState::ALL {
            let c = password(s);
            let expected = matches!(
                s,
                CredentialState::Initial
                    | CredentialState::Active
                    | CredentialState::AdminChanged
                    | CredentialState::TmpLocked
            );
            assert_eq!(c.is_usable(now()), expected, "{s}");
        }
        let mut locked = password(CredentialState::TmpLocked);
        locked.locked_until = Some(now() + Duration::seconds(1));
        assert!(!locked.is_usable(now()));
    }

    #[test]
    fn failures_tmp_lock_then_fail_lock_with_defaults() {
        let rules = LockoutRules::default();
        let mut c = password(CredentialState::Active);
        assert_eq!(c.record_failure(&rules, now()), LoginOutcome::Failed);
        assert_eq!(c.record_failure(&rules, now()), LoginOutcome::TmpLocked);
        assert_eq!(c.state, CredentialState::TmpLocked);
        assert_eq!(c.locked_until, Some(now() + Duration::seconds(60)));
        assert!(!c.is_usable(now()));
        let later = now() + Duration::seconds(61);
        assert!(c.is_usable(later));
        assert_eq!(c.record_failure(&rules, later), LoginOutcome::FailLocked);
        assert_eq!(c.state, CredentialState::FailLocked);
        assert_eq!(
            c.state_change_reason,
            StateChangeReason::TooManyLoginFailures
        );
        assert_eq!(c.failed_login_count, 3);
        assert_eq!(c.version, 4);
    }

    #[test]
    fn never_means_never() {
        let rules = LockoutRules {
            max_failures: None,
            tmp_lock_threshold: None,
            ..LockoutRules::default()
        };
        let mut c = password(CredentialState::Active);
        for _ in 0..50 {
            assert_eq!(c.record_failure(&rules, now()), LoginOutcome::Failed);
        }
        assert_eq!(c.state, CredentialState::Active);
    }

    #[test]
    fn success_clears_and_activates_non_passwords_only() {
        let mut c = password(CredentialState::Initial);
        c.failed_login_count = 1;
        c.reset_count = 2;
        assert!(c.success_needs_write(now()));
        c.record_success(now());
        assert_eq!(c.state, CredentialState::Initial);
        assert_eq!(
            (
                c.failed_login_count,
                c.reset_count,
                c.successful_login_count
            ),
            (0, 0, 1)
        );
        assert!(!c.success_needs_write(now()));

        let mut v = password(CredentialState::Initial);
        v.secret = CredentialSecret::Vasco { tokens: vec![] };
        v.record_success(now());
        assert_eq!(v.state, CredentialState::Active);
        assert_eq!(v.state_change_reason, StateChangeReason::Activated);
    }

    #[test]
    fn expired_tmp_lock_becomes_active_on_success() {
        let mut c = password(CredentialState::TmpLocked);
        c.locked_until = Some(now() - Duration::seconds(1));
        assert!(c.success_needs_write(now()));
        c.record_success(now());
        assert_eq!(c.state, CredentialState::Active);
        assert_eq!(c.locked_until, None);
    }

    #[test]
    fn state_names_parse() {
        for s in CredentialState::ALL {
            assert_eq!(s.as_str().parse::<CredentialState>().unwrap(), s);
        }
        assert_eq!(
            "locked".parse::<CredentialState>().unwrap_err().to_string(),
            "Invalid CredentialState name 'locked'"
        );
    }

    #[test]
    fn debug_output_hides_the_hash() {
        let c = password(CredentialState::Active);
        assert!(!format!("{c:?}").contains("argon2"));
    }

    #[test]
    fn outcome_codes_and_descriptions_follow_the_spec() {
        let table = [
            (LoginOutcome::Succeeded, 0, "Login successful.", true),
            (LoginOutcome::Failed, 2, "Login failed.", false),
            (
                LoginOutcome::TmpLocked,
                3,
                "Login failed. Credential temporarily locked.",
                false,
            ),
            (
                LoginOutcome::FailLocked,
                4,
                "Login failed. Credential locked.",
                false,
            ),
        ];
        for (outcome, code, description, success) in table {
            assert_eq!(outcome.status_code(), code, "{outcome:?}");
            assert_eq!(outcome.description(), description, "{outcome:?}");
            assert_eq!(outcome.is_success(), success, "{outcome:?}");
        }
    }

    /// Property tests of the lockout state machine (SPEC §4.4, §5, §6.2).
    mod lockout_properties {
        use super::*;
        use proptest::prelude::*;

        fn oath() -> CredentialSecret {
            CredentialSecret::Oath(OathDetails {
                issuer: "nevisIDM".into(),
                authentication_method: "TOTP".into(),
                hashing_algorithm: "SHA1".into(),
                digits: 6,
                period: 30,
                counter: 0,
                encrypted_secret: "bm9uY2U=~c2VhbGVk".into(),
                label: "jdoe".into(),
            })
        }

        fn secret_of(t: CredentialType) -> CredentialSecret {
            match t {
                CredentialType::Password => CredentialSecret::Password {
                    hash: "$argon2id$x".into(),
                },
                CredentialType::Vasco => CredentialSecret::Vasco { tokens: vec![] },
                CredentialType::Oath => oath(),
            }
        }

        fn limit() -> impl Strategy<Value = Option<u32>> {
            prop::option::of(1u32..=10)
        }

        fn rules() -> impl Strategy<Value = LockoutRules> {
            (limit(), limit(), 0i64..=120_000).prop_map(|(max, tmp, duration)| LockoutRules {
                max_failures: max,
                tmp_lock_threshold: tmp,
                tmp_lock_duration_ms: duration,
                ..LockoutRules::default()
            })
        }

        fn credential_type() -> impl Strategy<Value = CredentialType> {
            prop_oneof![
                Just(CredentialType::Password),
                Just(CredentialType::Vasco),
                Just(CredentialType::Oath),
            ]
        }

        fn usable_start_state() -> impl Strategy<Value = CredentialState> {
            prop_oneof![
                Just(CredentialState::Initial),
                Just(CredentialState::Active),
                Just(CredentialState::AdminChanged),
                Just(CredentialState::TmpLocked),
            ]
        }

        /// One reported outcome (`true` = success) and the time that passed before it.
        fn steps() -> impl Strategy<Value = Vec<(bool, i64)>> {
            prop::collection::vec((any::<bool>(), 0i64..=150_000), 0..40)
        }

        /// A usable credential consistent with `rules`: a starting `tmp-locked` state has an
        /// expired lock and a failure count at the threshold (or is `active` without one).
        fn start(
            rules: &LockoutRules,
            t: CredentialType,
            state: CredentialState,
            failures: i64,
            resets: i64,
            lock_age_ms: Option<i64>,
            t0: DateTime<Utc>,
        ) -> Credential {
            let mut c = password(state);
            c.secret = secret_of(t);
            c.failed_login_count = failures;
            c.reset_count = resets;
            c.version = 7;
            if state == CredentialState::TmpLocked {
                match rules.tmp_lock_threshold {
                    Some(threshold) => {
                        c.failed_login_count = failures.max(i64::from(threshold));
                        c.state_change_reason = StateChangeReason::TooManyLoginFailures;
                        c.locked_until = lock_age_ms.map(|age| t0 - Duration::milliseconds(age));
                    }
                    None => c.state = CredentialState::Active,
                }
            }
            assert!(c.is_usable(t0));
            c
        }

        /// Invariants that hold at every instant, whatever was applied.
        fn check_invariants(
            c: &Credential,
            rules: &LockoutRules,
            now: DateTime<Utc>,
        ) -> Result<(), TestCaseError> {
            let count = c.failed_login_count;
            prop_assert!(count >= 0);
            prop_assert!(c.reset_count >= 0);
            if c.state == CredentialState::FailLocked {
                prop_assert!(
                    rules.max_failures.is_some_and(|m| count >= i64::from(m)),
                    "fail-locked at {count} failures under {rules:?}"
                );
                prop_assert!(!c.is_usable(now));
                prop_assert!(!c.is_usable(now + Duration::days(365 * 100)));
            }
            if c.state == CredentialState::TmpLocked {
                prop_assert!(
                    rules
                        .tmp_lock_threshold
                        .is_some_and(|t| count >= i64::from(t)),
                    "tmp-locked at {count} failures under {rules:?}"
                );
                // A lock without an end (legacy rows) counts as expired.
                let until = c.locked_until;
                prop_assert_eq!(c.is_usable(now), until.is_none_or(|u| u <= now));
            }
            if c.state.is_locked() {
                prop_assert_eq!(
                    c.state_change_reason,
                    StateChangeReason::TooManyLoginFailures
                );
            }
            if rules.max_failures.is_none() && rules.tmp_lock_threshold.is_none() {
                prop_assert!(!c.state.is_locked(), "locked without limits: {:?}", c.state);
            }
            prop_assert_eq!(
                c.success_needs_write(now),
                count > 0
                    || (c.state == CredentialState::TmpLocked
                        && c.locked_until.is_none_or(|u| u <= now))
            );
            Ok(())
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(512))]

            #[test]
            fn reported_outcomes_follow_the_lockout_rules(
                rules in rules(),
                t in credential_type(),
                state in usable_start_state(),
                failures in 0i64..=5,
                resets in 0i64..=3,
                lock_age_ms in prop::option::of(0i64..=100_000),
                steps in steps(),
            ) {
                let mut now = DateTime::<Utc>::UNIX_EPOCH + Duration::days(1);
                let mut c = start(&rules, t, state, failures, resets, lock_age_ms, now);
                let mut since_success = c.failed_login_count;
                let mut applied = 0i64;
                let mut fail_locked_since = None;
                check_invariants(&c, &rules, now)?;
                for (i, (success, step_ms)) in steps.into_iter().enumerate() {
                    now += Duration::milliseconds(step_ms);
                    if let Some(at) = fail_locked_since {
                        prop_assert_eq!(c.state, CredentialState::FailLocked, "left fail-locked after step {}", at);
                    }
                    if !c.is_usable(now) {
                        // Only a lock keeps a credential that started usable from a login, and
                        // only an unexpired one if it is temporary.
                        prop_assert!(
                            c.state == CredentialState::FailLocked
                                || (c.state == CredentialState::TmpLocked
                                    && c.locked_until.is_some_and(|u| u > now)),
                            "unusable in state {:?}", c.state
                        );
                        check_invariants(&c, &rules, now)?;
                        continue;
                    }
                    let before = c.clone();
                    let outcome = if success {
                        c.record_success(now)
                    } else {
                        c.record_failure(&rules, now)
                    };
                    applied += 1;
                    prop_assert_eq!(c.version, before.version + 1);
                    prop_assert_eq!(c.version, 7 + applied);
                    prop_assert_eq!(c.last_modified, now);
                    prop_assert_eq!(&c.secret, &before.secret);
                    if success {
                        since_success = 0;
                        prop_assert_eq!(outcome, LoginOutcome::Succeeded);
                        prop_assert_eq!((c.failed_login_count, c.reset_count), (0, 0));
                        prop_assert_eq!(c.successful_login_count, before.successful_login_count + 1);
                        prop_assert_eq!(c.last_successful_login, Some(now));
                        prop_assert_eq!(c.last_failed_login, before.last_failed_login);
                        prop_assert_eq!(c.locked_until, None);
                        prop_assert!(!c.success_needs_write(now));
                        let (want_state, want_reason) = match before.state {
                            CredentialState::Initial if t == CredentialType::Password => {
                                (CredentialState::Initial, before.state_change_reason)
                            }
                            CredentialState::Initial | CredentialState::TmpLocked => {
                                (CredentialState::Active, StateChangeReason::Activated)
                            }
                            other => (other, before.state_change_reason),
                        };
                        prop_assert_eq!(c.state, want_state);
                        prop_assert_eq!(c.state_change_reason, want_reason);
                    } else {
                        since_success += 1;
                        let count = c.failed_login_count;
                        prop_assert_eq!(count, before.failed_login_count + 1);
                        prop_assert_eq!(c.last_failed_login, Some(now));
                        prop_assert_eq!(c.successful_login_count, before.successful_login_count);
                        prop_assert_eq!(c.last_successful_login, before.last_successful_login);
                        prop_assert_eq!(c.reset_count, before.reset_count);
                        let reached = |l: Option<u32>| l.is_some_and(|l| count >= i64::from(l));
                        if reached(rules.max_failures) {
                            prop_assert_eq!(outcome, LoginOutcome::FailLocked);
                            prop_assert_eq!(c.state, CredentialState::FailLocked);
                            prop_assert_eq!(c.locked_until, None);
                            fail_locked_since = Some(i);
                        } else if reached(rules.tmp_lock_threshold) {
                            prop_assert_eq!(outcome, LoginOutcome::TmpLocked);
                            prop_assert_eq!(c.state, CredentialState::TmpLocked);
                            prop_assert_eq!(
                                c.locked_until,
                                Some(now + Duration::milliseconds(rules.tmp_lock_duration_ms))
                            );
                        } else {
                            prop_assert_eq!(outcome, LoginOutcome::Failed);
                            let want = if before.state == CredentialState::TmpLocked {
                                CredentialState::Active
                            } else {
                                before.state
                            };
                            prop_assert_eq!(c.state, want);
                            prop_assert!(c.is_usable(now));
                        }
                    }
                    prop_assert_eq!(c.failed_login_count, since_success);
                    check_invariants(&c, &rules, now)?;
                }
            }

            #[test]
            fn a_success_never_lifts_a_fail_lock(
                t in credential_type(),
                failures in 1i64..=10,
                at_ms in 0i64..=1_000_000,
            ) {
                let now = DateTime::<Utc>::UNIX_EPOCH + Duration::milliseconds(at_ms);
                let mut c = password(CredentialState::FailLocked);
                c.secret = secret_of(t);
                c.failed_login_count = failures;
                c.state_change_reason = StateChangeReason::TooManyLoginFailures;
                prop_assert!(!c.is_usable(now));
                c.record_success(now);
                prop_assert_eq!(c.state, CredentialState::FailLocked);
                prop_assert!(!c.is_usable(now + Duration::days(365)));
            }

            #[test]
            fn only_temporary_locks_expire(
                state in prop::sample::select(CredentialState::ALL.to_vec()),
                until_ms in 0i64..=120_000,
                at_ms in 0i64..=240_000,
            ) {
                let t0 = DateTime::<Utc>::UNIX_EPOCH;
                let now = t0 + Duration::milliseconds(at_ms);
                let mut c = password(state);
                c.locked_until = Some(t0 + Duration::milliseconds(until_ms));
                let expected = match state {
                    CredentialState::Initial
                    | CredentialState::Active
                    | CredentialState::AdminChanged => true,
                    CredentialState::TmpLocked => until_ms <= at_ms,
                    _ => false,
                };
                prop_assert_eq!(c.is_usable(now), expected);
            }
        }
    }
}
