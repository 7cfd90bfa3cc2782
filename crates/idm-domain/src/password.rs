//! Password credential rules (SPEC §6.1, §8.5): supplied-password checks, when a reset is
//! allowed, the reset itself, admin state changes, and the split of a generated password
//! between the caller and out-of-band delivery.

use chrono::{DateTime, Utc};

use crate::credential::{Credential, CredentialState, StateChangeReason};
use crate::error::{DomainError, PolicyViolation};
use crate::policy::PasswordRules;

/// Checks a caller-supplied password against the policy's length rules, listing every
/// violation. The password itself never appears in a violation.
pub fn check_supplied(rules: &PasswordRules, password: &str) -> Result<(), DomainError> {
    let length = password.chars().count();
    let mut violations = Vec::new();
    if length < rules.min_length {
        violations.push(PolicyViolation {
            display_name: "Minimum length".into(),
            config_string: "minLength".into(),
            supplied_value: format!("{length} characters"),
            limit_value: rules.min_length.to_string(),
            actual_value: length.to_string(),
        });
    }
    if length > rules.max_length {
        violations.push(PolicyViolation {
            display_name: "Maximum length".into(),
            config_string: "maxLength".into(),
            supplied_value: format!("{length} characters"),
            limit_value: rules.max_length.to_string(),
            actual_value: length.to_string(),
        });
    }
    if violations.is_empty() {
        Ok(())
    } else {
        Err(DomainError::PasswordPolicyViolated(violations))
    }
}

/// Splits a generated password: the first `fragment_length` characters go to the caller, the
/// rest (all of it when the length is 0) to out-of-band delivery.
pub fn split_for_delivery(password: &str, fragment_length: usize) -> (String, String) {
    let cut = password
        .char_indices()
        .nth(fragment_length)
        .map_or(password.len(), |(i, _)| i);
    (password[..cut].to_owned(), password[cut..].to_owned())
}

/// SPEC §6.1's checks after the credential is found, in their order.
pub fn check_reset_allowed(
    credential: &Credential,
    rules: &PasswordRules,
    user_ext_id: &str,
) -> Result<(), DomainError> {
    if !rules.reset_code_enabled {
        return Err(DomainError::PasswordResetDisabled);
    }
    if matches!(
        credential.state,
        CredentialState::Disabled | CredentialState::Archived
    ) {
        return Err(DomainError::CredentialNotResettable {
            user_ext_id: user_ext_id.to_owned(),
            state: credential.state.as_str().to_owned(),
        });
    }
    if let Some(max) = rules.max_reset_count {
        if credential.reset_count >= i64::from(max) {
            return Err(DomainError::MaxResetCountExceeded(max));
        }
    }
    Ok(())
}

impl Credential {
    /// Stores a new generated password: state `initial` with `reason`, one more reset,
    /// failures and lock cleared, version + 1 (SPEC §6.1).
    pub fn reset_password(
        &mut self,
        new_hash: String,
        reason: StateChangeReason,
        now: DateTime<Utc>,
    ) {
        self.secret = crate::credential::CredentialSecret::Password { hash: new_hash };
        self.state = CredentialState::Initial;
        self.state_change_reason = reason;
        self.reset_count += 1;
        self.failed_login_count = 0;
        self.locked_until = None;
        self.epoch += 1;
        self.last_modified = now;
        self.version += 1;
    }

    /// An admin state change (SPEC §8.5): moving a locked credential to `active` is an unlock
    /// (reason `unlock`, failures cleared); any other change has reason `changed-by-admin`.
    pub fn change_state_by_admin(
        &mut self,
        state: CredentialState,
        comment: Option<String>,
        now: DateTime<Utc>,
    ) {
        if state == CredentialState::Active && self.state.is_locked() {
            self.state_change_reason = StateChangeReason::Unlock;
            self.failed_login_count = 0;
            self.locked_until = None;
        } else if state != self.state {
            self.state_change_reason = StateChangeReason::ChangedByAdmin;
        }
        if state != self.state {
            self.epoch += 1;
        }
        self.state = state;
        if comment.is_some() {
            self.modification_comment = comment;
        }
        self.last_modified = now;
        self.version += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::credential::tests::password as credential;
    use crate::policy::PolicyParameters;

    fn rules() -> PasswordRules {
        PolicyParameters::defaults(crate::policy::PolicyType::Pwd).password()
    }

    #[test]
    fn supplied_passwords_list_every_violation_without_the_password() {
        assert!(check_supplied(&rules(), "long enough").is_ok());
        let err = check_supplied(&rules(), "short").unwrap_err();
        assert_eq!(err.code(), "errors.pwdPolicyViolated");
        let v = err.policy_violations();
        assert_eq!(v.len(), 1);
        assert_eq!(v[0].config_string, "minLength");
        assert_eq!(
            (v[0].limit_value.as_str(), v[0].actual_value.as_str()),
            ("8", "5")
        );
        assert!(!format!("{v:?}").contains("short"));
        assert!(check_supplied(&rules(), &"x".repeat(129)).is_err());
    }

    #[test]
    fn fragments_split_by_characters() {
        assert_eq!(
            split_for_delivery("abcdef", 2),
            ("ab".into(), "cdef".into())
        );
        assert_eq!(
            split_for_delivery("abcdef", 0),
            ("".into(), "abcdef".into())
        );
        assert_eq!(split_for_delivery("abc", 12), ("abc".into(), "".into()));
        assert_eq!(split_for_delivery("äöü", 1), ("ä".into(), "öü".into()));
    }

    #[test]
    fn reset_checks_in_spec_order() {
        let mut r = rules();
        let mut c = credential(CredentialState::Disabled);
        c.reset_count = 99;
        r.reset_code_enabled = false;
        assert_eq!(
            check_reset_allowed(&c, &r, "u1"),
            Err(DomainError::PasswordResetDisabled)
        );
        r.reset_code_enabled = true;
        assert_eq!(
            check_reset_allowed(&c, &r, "u1").unwrap_err().to_string(),
            "The Password credential of user with extId u1 is disabled and cannot be reset"
        );
        c.state = CredentialState::FailLocked;
        assert_eq!(
            check_reset_allowed(&c, &r, "u1").unwrap_err().to_string(),
            "The maxResetCount (3) defined in the policy is exceeded."
        );
        r.max_reset_count = None;
        assert!(check_reset_allowed(&c, &r, "u1").is_ok());
    }

    #[test]
    fn reset_and_unlock() {
        let t = DateTime::<Utc>::UNIX_EPOCH;
        let mut c = credential(CredentialState::FailLocked);
        c.failed_login_count = 3;
        c.reset_password("$argon2id$new".into(), StateChangeReason::ResetByAdmin, t);
        assert_eq!(c.state, CredentialState::Initial);
        assert_eq!((c.reset_count, c.failed_login_count, c.version), (1, 0, 2));

        let mut l = credential(CredentialState::TmpLocked);
        l.failed_login_count = 2;
        l.change_state_by_admin(CredentialState::Active, Some("called in".into()), t);
        assert_eq!(l.state_change_reason, StateChangeReason::Unlock);
        assert_eq!(l.failed_login_count, 0);
        l.change_state_by_admin(CredentialState::Disabled, None, t);
        assert_eq!(l.state_change_reason, StateChangeReason::ChangedByAdmin);
        assert_eq!(l.modification_comment.as_deref(), Some("called in"));
    }
}
