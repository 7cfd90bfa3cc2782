//! Policies (SPEC §5): types, parameters with their defaults, and validation.
//!
//! Parameters travel as strings (`{"name": "value"}`) like nevisIDM's policy configuration;
//! this module is the one place that knows their names, ranges and defaults, and offers typed
//! views ([`LockoutRules`], [`PasswordRules`], [`OathDefaults`]) so no other code parses them.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};

use crate::error::DomainError;
use crate::ext_id::ExtId;

/// The kind of credential a policy configures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PolicyType {
    /// Password credentials.
    Pwd,
    /// VASCO Digipass credentials.
    Vasco,
    /// OATH (TOTP/HOTP) credentials.
    Oath,
}

impl PolicyType {
    /// Every type; a client has one default policy of each.
    pub const ALL: [PolicyType; 3] = [PolicyType::Pwd, PolicyType::Vasco, PolicyType::Oath];

    /// The type's name as the API writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            PolicyType::Pwd => "PwdPolicy",
            PolicyType::Vasco => "VascoPolicy",
            PolicyType::Oath => "OathPolicy",
        }
    }

    /// The name a bootstrap or client-create default policy of this type gets.
    pub fn default_policy_name(self) -> &'static str {
        match self {
            PolicyType::Pwd => "Default password policy",
            PolicyType::Vasco => "Default VASCO policy",
            PolicyType::Oath => "Default OATH policy",
        }
    }

    fn specs(self) -> impl Iterator<Item = &'static ParamSpec> {
        COMMON_PARAMS.iter().chain(match self {
            PolicyType::Pwd => PWD_PARAMS,
            PolicyType::Vasco => &[],
            PolicyType::Oath => OATH_PARAMS,
        })
    }
}

impl fmt::Display for PolicyType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for PolicyType {
    type Err = DomainError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "PwdPolicy" => Ok(PolicyType::Pwd),
            "VascoPolicy" => Ok(PolicyType::Vasco),
            "OathPolicy" => Ok(PolicyType::Oath),
            other => Err(DomainError::UnknownPolicyType(other.to_owned())),
        }
    }
}

/// The form a parameter's value must have.
#[derive(Debug, Clone, Copy)]
enum ParamForm {
    /// An integer in `min..=max`, or -1 where `never` is set.
    Int { min: i64, max: i64, never: bool },
    /// `true` or `false`.
    Bool,
    /// One of a fixed set of words.
    OneOf(&'static [&'static str]),
    /// The password generator's alphabet: 2–256 distinct printable ASCII characters.
    Charset,
    /// Free text of 1–255 characters without `:` (it becomes part of an otpauth label).
    Label,
}

#[derive(Debug)]
struct ParamSpec {
    name: &'static str,
    default: &'static str,
    form: ParamForm,
}

const MS_MAX: i64 = 100 * 365 * 24 * 3600 * 1000;

const COMMON_PARAMS: &[ParamSpec] = &[
    ParamSpec {
        name: "maxCredFailureCount",
        default: "3",
        form: ParamForm::Int {
            min: 1,
            max: 1_000_000,
            never: true,
        },
    },
    ParamSpec {
        name: "tmpLockingThreshold",
        default: "2",
        form: ParamForm::Int {
            min: 1,
            max: 1_000_000,
            never: true,
        },
    },
    ParamSpec {
        name: "tmpLockingDuration",
        default: "60000",
        form: ParamForm::Int {
            min: 0,
            max: MS_MAX,
            never: false,
        },
    },
    ParamSpec {
        name: "credentialLifetime",
        default: "315360000000",
        form: ParamForm::Int {
            min: 1,
            max: MS_MAX,
            never: false,
        },
    },
];

/// The generator's default alphabet: no look-alike characters (0/O, 1/l/I).
pub const DEFAULT_GENERATED_CHARSET: &str =
    "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";

const PWD_PARAMS: &[ParamSpec] = &[
    ParamSpec {
        name: "minLength",
        default: "8",
        form: ParamForm::Int {
            min: 1,
            max: 1024,
            never: false,
        },
    },
    ParamSpec {
        name: "maxLength",
        default: "128",
        form: ParamForm::Int {
            min: 1,
            max: 1024,
            never: false,
        },
    },
    ParamSpec {
        name: "resetCodeEnabled",
        default: "true",
        form: ParamForm::Bool,
    },
    ParamSpec {
        name: "maxResetCount",
        default: "3",
        form: ParamForm::Int {
            min: 0,
            max: 1_000_000,
            never: true,
        },
    },
    ParamSpec {
        name: "generatedLength",
        default: "12",
        form: ParamForm::Int {
            min: 4,
            max: 256,
            never: false,
        },
    },
    ParamSpec {
        name: "generatedCharset",
        default: DEFAULT_GENERATED_CHARSET,
        form: ParamForm::Charset,
    },
    ParamSpec {
        name: "fragmentLength",
        default: "12",
        form: ParamForm::Int {
            min: 0,
            max: 256,
            never: false,
        },
    },
];

const OATH_PARAMS: &[ParamSpec] = &[
    ParamSpec {
        name: "accountname",
        default: "loginid",
        form: ParamForm::OneOf(&["loginid", "email"]),
    },
    ParamSpec {
        name: "initialAlgorithm",
        default: "SHA1",
        form: ParamForm::OneOf(&["SHA1", "SHA256", "SHA512"]),
    },
    ParamSpec {
        name: "initialDigits",
        default: "6",
        form: ParamForm::OneOf(&["6", "7", "8"]),
    },
    ParamSpec {
        name: "initialPeriod",
        default: "30",
        form: ParamForm::Int {
            min: 1,
            max: 3600,
            never: false,
        },
    },
    ParamSpec {
        name: "initialType",
        default: "totp",
        form: ParamForm::OneOf(&["totp", "hotp"]),
    },
    ParamSpec {
        name: "issuer",
        default: "nevisIDM",
        form: ParamForm::Label,
    },
    ParamSpec {
        name: "totpWindow",
        default: "1",
        form: ParamForm::Int {
            min: 0,
            max: crate::otp::MAX_TOTP_WINDOW as i64,
            never: false,
        },
    },
    ParamSpec {
        name: "hotpLookAhead",
        default: "10",
        form: ParamForm::Int {
            min: 0,
            max: crate::otp::MAX_HOTP_LOOK_AHEAD as i64,
            never: false,
        },
    },
    ParamSpec {
        name: "hotpResyncWindow",
        default: "100",
        form: ParamForm::Int {
            min: 1,
            max: crate::otp::MAX_HOTP_RESYNC_WINDOW as i64,
            never: false,
        },
    },
];

impl ParamForm {
    fn accepts(self, value: &str) -> bool {
        match self {
            ParamForm::Int { min, max, never } => match value.parse::<i64>() {
                Ok(-1) if never => true,
                Ok(n) => (min..=max).contains(&n) && value == n.to_string(),
                Err(_) => false,
            },
            ParamForm::Bool => matches!(value, "true" | "false"),
            ParamForm::OneOf(words) => words.contains(&value),
            ParamForm::Charset => {
                let mut seen = std::collections::BTreeSet::new();
                (2..=256).contains(&value.len())
                    && value
                        .bytes()
                        .all(|b| b.is_ascii_graphic() && seen.insert(b))
            }
            ParamForm::Label => {
                !value.trim().is_empty()
                    && value.chars().count() <= 255
                    && !value.contains(':')
                    && !value.chars().any(char::is_control)
            }
        }
    }
}

/// A policy's explicitly set parameters; absent ones take their defaults.
///
/// Always valid for its type, which it knows: built only by [`PolicyParameters::validated`],
/// [`PolicyParameters::merged`] or [`PolicyParameters::defaults`], so a rule is never read
/// with another type's defaults.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyParameters {
    policy_type: PolicyType,
    explicit: BTreeMap<String, String>,
}

impl PolicyParameters {
    /// Every parameter of `policy_type` at its default.
    pub fn defaults(policy_type: PolicyType) -> Self {
        PolicyParameters {
            policy_type,
            explicit: BTreeMap::new(),
        }
    }

    /// The type the parameters belong to.
    pub fn policy_type(&self) -> PolicyType {
        self.policy_type
    }

    /// Validates `given` for `policy_type`: every name known, every value of its form, and the
    /// cross-parameter rules (`minLength` ≤ `maxLength`, `fragmentLength` ≤ `generatedLength`).
    pub fn validated(
        policy_type: PolicyType,
        given: BTreeMap<String, String>,
    ) -> Result<Self, DomainError> {
        for (name, value) in &given {
            let spec = policy_type
                .specs()
                .find(|s| s.name == name)
                .ok_or_else(|| DomainError::InvalidParamName {
                    name: name.clone(),
                    policy_type: policy_type.as_str().to_owned(),
                })?;
            if !spec.form.accepts(value) {
                return Err(invalid_value(name, value));
            }
        }
        let params = PolicyParameters {
            policy_type,
            explicit: given,
        };
        if policy_type == PolicyType::Pwd {
            let (min, max) = (params.int("minLength"), params.int("maxLength"));
            if min > max {
                return Err(invalid_value("maxLength", &max.to_string()));
            }
            let (generated, fragment) =
                (params.int("generatedLength"), params.int("fragmentLength"));
            if fragment > generated {
                return Err(invalid_value("fragmentLength", &fragment.to_string()));
            }
        }
        Ok(params)
    }

    /// These parameters with `changes` laid over them, validated again as a whole.
    pub fn merged(&self, changes: BTreeMap<String, String>) -> Result<Self, DomainError> {
        let mut all = self.explicit.clone();
        all.extend(changes);
        Self::validated(self.policy_type, all)
    }

    /// The explicitly set parameters, as stored.
    pub fn explicit(&self) -> &BTreeMap<String, String> {
        &self.explicit
    }

    /// Every parameter of the type with its effective value (explicit or default).
    pub fn effective(&self) -> BTreeMap<String, String> {
        self.policy_type
            .specs()
            .map(|s| (s.name.to_owned(), self.value(s.name).to_owned()))
            .collect()
    }

    fn value(&self, name: &str) -> &str {
        self.explicit
            .get(name)
            .map(String::as_str)
            .unwrap_or_else(|| {
                self.policy_type
                    .specs()
                    .find(|s| s.name == name)
                    .map(|s| s.default)
                    .unwrap_or_default()
            })
    }

    fn int(&self, name: &str) -> i64 {
        self.value(name).parse().unwrap_or_default()
    }

    /// These parameters when they are of `policy_type`, else that type's defaults: a rule is
    /// never read through another type's parameters.
    fn as_type(&self, policy_type: PolicyType) -> std::borrow::Cow<'_, PolicyParameters> {
        if self.policy_type == policy_type {
            std::borrow::Cow::Borrowed(self)
        } else {
            std::borrow::Cow::Owned(PolicyParameters::defaults(policy_type))
        }
    }

    /// The lockout rules every policy type carries.
    pub fn lockout(&self) -> LockoutRules {
        let never = |n: i64| u32::try_from(n).ok();
        LockoutRules {
            max_failures: never(self.int("maxCredFailureCount")),
            tmp_lock_threshold: never(self.int("tmpLockingThreshold")),
            tmp_lock_duration_ms: self.int("tmpLockingDuration"),
            credential_lifetime_ms: self.int("credentialLifetime"),
        }
    }

    /// The password rules of a `PwdPolicy`.
    pub fn password(&self) -> PasswordRules {
        let p = self.as_type(PolicyType::Pwd);
        PasswordRules {
            min_length: p.int("minLength") as usize,
            max_length: p.int("maxLength") as usize,
            reset_code_enabled: p.value("resetCodeEnabled") == "true",
            max_reset_count: u32::try_from(p.int("maxResetCount")).ok(),
            generated_length: p.int("generatedLength") as usize,
            generated_charset: p.value("generatedCharset").to_owned(),
            fragment_length: p.int("fragmentLength") as usize,
        }
    }

    /// The initial settings of credentials under an `OathPolicy`.
    pub fn oath(&self) -> OathDefaults {
        let p = self.as_type(PolicyType::Oath);
        OathDefaults {
            account_name_from_email: p.value("accountname") == "email",
            algorithm: p.value("initialAlgorithm").to_owned(),
            digits: p.int("initialDigits") as u32,
            period_seconds: p.int("initialPeriod") as u32,
            hotp: p.value("initialType") == "hotp",
            issuer: p.value("issuer").to_owned(),
            totp_window: p.int("totpWindow") as u32,
            hotp_look_ahead: p.int("hotpLookAhead") as u32,
            hotp_resync_window: p.int("hotpResyncWindow") as u32,
        }
    }
}

fn invalid_value(name: &str, value: &str) -> DomainError {
    DomainError::InvalidParamValue {
        name: name.to_owned(),
        value: value.to_owned(),
    }
}

/// Failure counting and locking (SPEC §5, §6.2); `None` means "never".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LockoutRules {
    /// Failures after which the credential is `fail-locked`.
    pub max_failures: Option<u32>,
    /// Failures after which the credential is `tmp-locked`.
    pub tmp_lock_threshold: Option<u32>,
    /// How long a temporary lock lasts.
    pub tmp_lock_duration_ms: i64,
    /// How long a new credential stays valid.
    pub credential_lifetime_ms: i64,
}

impl Default for LockoutRules {
    fn default() -> Self {
        PolicyParameters::defaults(PolicyType::Pwd).lockout()
    }
}

/// The rules of a `PwdPolicy`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasswordRules {
    /// Shortest accepted supplied password, in characters.
    pub min_length: usize,
    /// Longest accepted supplied password, in characters.
    pub max_length: usize,
    /// Whether the server generates passwords (create and reset).
    pub reset_code_enabled: bool,
    /// Resets allowed before a successful login; `None` = unlimited.
    pub max_reset_count: Option<u32>,
    /// Length of a generated password.
    pub generated_length: usize,
    /// Alphabet of generated passwords.
    pub generated_charset: String,
    /// Characters of a generated password returned to the caller; the rest is delivered.
    pub fragment_length: usize,
}

/// Initial settings of OATH credentials under an `OathPolicy`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OathDefaults {
    /// Whether the otpauth account name is the e-mail address instead of the loginId.
    pub account_name_from_email: bool,
    /// `SHA1`, `SHA256` or `SHA512`.
    pub algorithm: String,
    /// 6, 7 or 8.
    pub digits: u32,
    /// TOTP step in seconds.
    pub period_seconds: u32,
    /// HOTP instead of TOTP.
    pub hotp: bool,
    /// The otpauth issuer.
    pub issuer: String,
    /// TOTP steps accepted on either side of the current one (`totpWindow`, SPEC §11.2).
    pub totp_window: u32,
    /// HOTP counters accepted beyond the stored one (`hotpLookAhead`, SPEC §11.2).
    pub hotp_look_ahead: u32,
    /// HOTP counters searched by a resynchronisation (`hotpResyncWindow`, SPEC §11.2).
    pub hotp_resync_window: u32,
}

/// A policy of a client (SPEC §5).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    /// Storage identity; never shown.
    pub id: String,
    /// The owning client's storage identity.
    pub client_id: String,
    /// The external ID, unique within the client.
    pub ext_id: ExtId,
    /// Display name.
    pub name: String,
    /// Free text.
    pub description: Option<String>,
    /// What it configures.
    pub policy_type: PolicyType,
    /// Whether it is the client's default for its type.
    pub default_policy: bool,
    /// The explicitly set parameters.
    pub parameters: PolicyParameters,
    /// When it was created.
    pub created: DateTime<Utc>,
    /// When it last changed.
    pub last_modified: DateTime<Utc>,
    /// Optimistic-locking version, 1 for a new policy.
    pub version: i64,
}

/// The changes a policy PATCH may carry (SPEC §8.4).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PolicyPatch {
    /// New name.
    pub name: Option<String>,
    /// New description.
    pub description: Option<String>,
    /// `true` makes it the default; `false` is refused for the current default.
    pub default_policy: Option<bool>,
    /// Parameters merged over the stored ones.
    pub parameters: Option<BTreeMap<String, String>>,
    /// The version the caller read; a mismatch is a conflict.
    pub version: Option<i64>,
}

impl Policy {
    /// Applies `patch` (already version-checked), returning whether it became the default.
    pub fn apply(&mut self, patch: PolicyPatch, now: DateTime<Utc>) -> Result<bool, DomainError> {
        if let Some(name) = patch.name {
            self.name = validate_name(&name)?;
        }
        if let Some(description) = patch.description {
            self.description = Some(description);
        }
        if let Some(parameters) = patch.parameters {
            self.parameters = self.parameters.merged(parameters)?;
        }
        let became_default = match patch.default_policy {
            Some(true) if !self.default_policy => {
                self.default_policy = true;
                true
            }
            Some(false) if self.default_policy => {
                return Err(DomainError::DefaultPolicyRequired(
                    self.policy_type.as_str().to_owned(),
                ))
            }
            _ => false,
        };
        self.last_modified = now;
        self.version += 1;
        Ok(became_default)
    }
}

/// Checks a display name (client, policy): 1–255 characters after trimming, no control characters.
pub fn validate_name(raw: &str) -> Result<String, DomainError> {
    let trimmed = raw.trim();
    if trimmed.is_empty() {
        return Err(DomainError::NullParameter("name".into()));
    }
    if trimmed.chars().count() > 255 || trimmed.chars().any(char::is_control) {
        return Err(DomainError::InvalidParameter(
            "Invalid value for parameter 'name'".to_owned(),
        ));
    }
    Ok(trimmed.to_owned())
}

/// Checks that a PATCH's `version` matches the stored one (SPEC §1 optimistic locking).
pub fn check_version(stored: i64, sent: Option<i64>) -> Result<(), DomainError> {
    match sent {
        Some(v) if v != stored => Err(DomainError::OptimisticLockingFailure),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn defaults_fill_every_parameter() {
        let p = PolicyParameters::defaults(PolicyType::Pwd);
        let eff = p.effective();
        assert_eq!(eff.len(), 11);
        assert_eq!(eff["generatedCharset"], DEFAULT_GENERATED_CHARSET);
        assert_eq!(
            PolicyParameters::defaults(PolicyType::Vasco)
                .effective()
                .len(),
            4
        );
        assert_eq!(
            PolicyParameters::defaults(PolicyType::Oath).effective()["issuer"],
            "nevisIDM"
        );
        let rules = p.password();
        assert_eq!((rules.min_length, rules.max_length), (8, 128));
        assert_eq!(rules.max_reset_count, Some(3));
        assert_eq!(p.lockout().max_failures, Some(3));
        assert_eq!(p.lockout().tmp_lock_threshold, Some(2));
    }

    #[test]
    fn unknown_names_are_refused_with_the_type() {
        let err =
            PolicyParameters::validated(PolicyType::Vasco, map(&[("minLength", "3")])).unwrap_err();
        assert_eq!(
            err.to_string(),
            "Unknown parameter 'minLength' for policy type VascoPolicy"
        );
        assert_eq!(err.code(), "errors.pcyconf.invalidParamName");
    }

    #[test]
    fn bad_values_are_refused() {
        for (name, value) in [
            ("maxCredFailureCount", "abc"),
            ("maxCredFailureCount", "-2"),
            ("maxCredFailureCount", "0"),
            ("tmpLockingDuration", "-1"),
            ("resetCodeEnabled", "yes"),
            ("generatedCharset", "aa"),
            ("generatedCharset", "a"),
            ("minLength", "+8"),
            ("fragmentLength", "13"),
        ] {
            let err =
                PolicyParameters::validated(PolicyType::Pwd, map(&[(name, value)])).unwrap_err();
            assert_eq!(
                err.code(),
                "errors.pcyconf.invalidParamValue",
                "{name}={value}"
            );
        }
        let err =
            PolicyParameters::validated(PolicyType::Oath, map(&[("issuer", "a:b")])).unwrap_err();
        assert_eq!(
            err.to_string(),
            "Invalid value 'a:b' for parameter 'issuer'"
        );
    }

    #[test]
    fn minus_one_means_never() {
        let p = PolicyParameters::validated(
            PolicyType::Oath,
            map(&[("maxCredFailureCount", "-1"), ("tmpLockingThreshold", "-1")]),
        )
        .unwrap();
        let rules = p.lockout();
        assert_eq!(rules.max_failures, None);
        assert_eq!(rules.tmp_lock_threshold, None);
    }

    #[test]
    fn merge_revalidates_the_whole() {
        let p = PolicyParameters::validated(PolicyType::Pwd, map(&[("minLength", "10")])).unwrap();
        assert!(p.merged(map(&[("maxLength", "9")])).is_err());
        let m = p.merged(map(&[("maxLength", "20")])).unwrap();
        assert_eq!(m.password().min_length, 10);
        assert_eq!(m.password().max_length, 20);
    }

    #[test]
    fn oath_check_parameters_have_spec_defaults_and_ranges() {
        let defaults = PolicyParameters::defaults(PolicyType::Oath).oath();
        assert_eq!(
            (
                defaults.totp_window,
                defaults.hotp_look_ahead,
                defaults.hotp_resync_window
            ),
            (1, 10, 100)
        );
        let eff = PolicyParameters::defaults(PolicyType::Oath).effective();
        assert_eq!(eff["totpWindow"], "1");
        assert_eq!(eff["hotpLookAhead"], "10");
        assert_eq!(eff["hotpResyncWindow"], "100");
        let edges = PolicyParameters::validated(
            PolicyType::Oath,
            map(&[
                ("totpWindow", "10"),
                ("hotpLookAhead", "0"),
                ("hotpResyncWindow", "1000"),
            ]),
        )
        .unwrap()
        .oath();
        assert_eq!(
            (
                edges.totp_window,
                edges.hotp_look_ahead,
                edges.hotp_resync_window
            ),
            (10, 0, 1000)
        );
        let low = PolicyParameters::validated(
            PolicyType::Oath,
            map(&[
                ("totpWindow", "0"),
                ("hotpLookAhead", "100"),
                ("hotpResyncWindow", "1"),
            ]),
        )
        .unwrap()
        .oath();
        assert_eq!(
            (low.totp_window, low.hotp_look_ahead, low.hotp_resync_window),
            (0, 100, 1)
        );
        for (name, value) in [
            ("totpWindow", "11"),
            ("totpWindow", "-1"),
            ("totpWindow", "x"),
            ("hotpLookAhead", "101"),
            ("hotpLookAhead", "-1"),
            ("hotpResyncWindow", "0"),
            ("hotpResyncWindow", "1001"),
            ("hotpResyncWindow", "01"),
        ] {
            let err =
                PolicyParameters::validated(PolicyType::Oath, map(&[(name, value)])).unwrap_err();
            assert_eq!(
                err.to_string(),
                format!("Invalid value '{value}' for parameter '{name}'")
            );
        }
        // Only OATH policies have them.
        let err =
            PolicyParameters::validated(PolicyType::Pwd, map(&[("totpWindow", "1")])).unwrap_err();
        assert_eq!(err.code(), "errors.pcyconf.invalidParamName");
    }

    #[test]
    fn version_check() {
        assert!(check_version(3, None).is_ok());
        assert!(check_version(3, Some(3)).is_ok());
        assert_eq!(
            check_version(3, Some(2)),
            Err(DomainError::OptimisticLockingFailure)
        );
    }
}
