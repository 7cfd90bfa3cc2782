//! The rule violations the service reports, each with its SPEC code and exact message.
//!
//! The `Display` text of every variant *is* the message SPEC.md prescribes; [`DomainError::code`]
//! is its `errors.*` code and [`DomainError::kind`] the class the HTTP layer maps to a status.
//! Keeping the catalogue in one place makes the contract reviewable against SPEC.md line by line.

use thiserror::Error;

use crate::access::Right;

/// The class of a failure, independent of any transport.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The caller could not be authenticated (HTTP 401).
    Unauthenticated,
    /// The caller is known but not allowed (HTTP 403).
    Forbidden,
    /// The addressed record does not exist for this caller (HTTP 404).
    NotFound,
    /// The request is well formed but breaks a rule (HTTP 422).
    Unprocessable,
    /// The entity changed since the caller read it (HTTP 409).
    Conflict,
}

/// One rejected value of a password policy check (SPEC §2 `policyViolations[]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyViolation {
    /// Human-readable name of the violated rule.
    pub display_name: String,
    /// The policy parameter behind the rule.
    pub config_string: String,
    /// Never the supplied secret itself; a description of what was supplied.
    pub supplied_value: String,
    /// The limit the policy sets.
    pub limit_value: String,
    /// The measured value that broke the limit.
    pub actual_value: String,
}

/// Every rule violation of SPEC.md, with its exact message.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum DomainError {
    // ---- 401 -------------------------------------------------------------------------------
    /// No `Authorization` header, or not Basic.
    #[error("Authentication required.")]
    AuthenticationRequired,
    /// Wrong login ID or password, inactive user, unusable credential.
    #[error("Authentication failed.")]
    AuthenticationFailed,

    // ---- 403 -------------------------------------------------------------------------------
    /// A needed right is held by no grant of the caller.
    #[error("Permission denied: Caller does not have the required right 'AccessControl.{0}' to perform this action")]
    MissingRight(Right),
    /// The token endpoint needs the SelfAdmin role.
    #[error("Permission denied: Caller does not have the required right 'SelfAdmin' to perform this action")]
    MissingSelfAdmin,
    /// Every right is held, but not for the addressed client.
    #[error("Permission denied: AccessControl.{0}")]
    DataRoomDenied(Right),
    /// Too many resets since the last successful login (SPEC §6.1).
    #[error("The maxResetCount ({0}) defined in the policy is exceeded.")]
    MaxResetCountExceeded(u32),
    /// A role grant wider than the granting caller's own rights.
    #[error("Permission denied: a role can only be granted within the caller's own rights and data rooms")]
    PrivilegeEscalation,
    /// The path's user holds rights beyond the caller's own (SPEC §10.1).
    #[error("Permission denied: the target user holds rights beyond the caller's own")]
    PrivilegedTarget,

    // ---- 404 -------------------------------------------------------------------------------
    /// The path's client does not exist.
    #[error("Client doesn't exist with extId '{0}'")]
    ClientNotFound(String),
    /// The path's user does not exist in the client.
    #[error("A user with extId '{user_ext_id}' doesn't exist on client with name {client_name}")]
    UserNotFound {
        /// The path's user extId.
        user_ext_id: String,
        /// The resolved client's name.
        client_name: String,
    },
    /// The addressed policy does not exist in the client.
    #[error("PolicyConfiguration doesn't exist with extId '{0}'")]
    PolicyNotFound(String),
    /// The user has no role grant of that name.
    #[error("User with extId {user_ext_id} has no role '{role}'")]
    RoleGrantNotFound {
        /// The path's user extId.
        user_ext_id: String,
        /// The role named in the path.
        role: String,
    },

    /// A bulk-login entry names no credential of this user (SPEC §6.2).
    #[error("Credential with extId '{credential_ext_id}' doesn't exist for user '{user_ext_id}'")]
    CredentialNotFoundForUser {
        /// The entry's credential extId.
        credential_ext_id: String,
        /// The path's user extId.
        user_ext_id: String,
    },
    /// No VASCO credential with that extId in the client (SPEC §8.7).
    #[error("VASCO credential with the extId {0} does not exist")]
    VascoNotFound(String),
    /// No OATH credential with that extId under the user (SPEC §6.5).
    #[error("OATH credential with the extId {ext_id} does not exist under the user {user_ext_id}")]
    OathNotFound {
        /// The path's credential extId.
        ext_id: String,
        /// The path's user extId.
        user_ext_id: String,
    },
    /// The user has no Password credential (SPEC §6.1).
    #[error("User with extId {0} has no Password credential")]
    NoPasswordCredential(String),
    /// The password policy does not allow server-generated passwords (SPEC §6.1).
    #[error("Password cannot be changed due to policy restrictions")]
    PasswordResetDisabled,

    // ---- 409 -------------------------------------------------------------------------------
    /// A PATCH carried a stale `version`, or a concurrent writer won.
    #[error("The entity was modified concurrently; reload it and retry.")]
    OptimisticLockingFailure,

    // ---- 422 -------------------------------------------------------------------------------
    /// A mandatory body parameter is missing.
    #[error("The '{0}' parameter is mandatory.")]
    NullParameter(String),
    /// A user create without `loginId`.
    #[error("The 'loginId' parameter is mandatory.")]
    UserLoginIdNull,
    /// An extId (or other identifier) in a body breaks SPEC §1's rules.
    #[error("Invalid value '{value}' for field '{field}'.")]
    InvalidExtId {
        /// The body field.
        field: String,
        /// The rejected value.
        value: String,
    },
    /// A body value outside its allowed range or form.
    #[error("{0}")]
    InvalidParameter(String),
    /// Client name taken.
    #[error("A client with this name '{0}' already exists")]
    DuplicateClientName(String),
    /// Client extId taken.
    #[error("A client with this extId '{0}' already exists")]
    DuplicateClientExtId(String),
    /// User loginId taken within the client.
    #[error("A user with loginId '{login_id}' already exists on client with name {client_name}")]
    DuplicateLoginId {
        /// The rejected loginId.
        login_id: String,
        /// The client's name.
        client_name: String,
    },
    /// User extId taken within the client.
    #[error("A user with this extId '{0}' already exists")]
    DuplicateUserExtId(String),
    /// Policy extId taken within the client.
    #[error("A policy with this extId '{0}' already exists")]
    DuplicatePolicyExtId(String),
    /// Credential extId taken within the client (any credential type).
    #[error("A credential with this extId '{0}' already exists")]
    DuplicateCredentialExtId(String),
    /// An e-mail address that cannot be one.
    #[error("Invalid email address '{0}'")]
    InvalidEmail(String),
    /// A role name that is not one of SPEC §3.2's.
    #[error("Unknown role '{0}'")]
    UnknownRole(String),
    /// A policy type that is not one of SPEC §5's.
    #[error("Unknown policy type '{0}'")]
    UnknownPolicyType(String),
    /// A policy parameter the type does not have.
    #[error("Unknown parameter '{name}' for policy type {policy_type}")]
    InvalidParamName {
        /// The rejected parameter name.
        name: String,
        /// The policy's type.
        policy_type: String,
    },
    /// A policy parameter value out of range or of the wrong form.
    #[error("Invalid value '{value}' for parameter '{name}'")]
    InvalidParamValue {
        /// The parameter.
        name: String,
        /// The rejected value.
        value: String,
    },
    /// A client must keep one default policy per type.
    #[error(
        "The default policy of type {0} cannot be unset; make another policy the default instead"
    )]
    DefaultPolicyRequired(String),
    /// A list `limit` outside 1..=1000.
    #[error("The 'limit' parameter must be between 1 and 1000.")]
    InvalidLimit,
    /// A continuation token the server did not issue.
    #[error("Invalid continuationToken.")]
    InvalidContinuationToken,
    /// A disabled or archived password cannot be reset (SPEC §6.1).
    #[error(
        "The Password credential of user with extId {user_ext_id} is {state} and cannot be reset"
    )]
    CredentialNotResettable {
        /// The path's user extId.
        user_ext_id: String,
        /// The credential's state name.
        state: String,
    },
    /// A second Password credential for a user (SPEC §8.5).
    #[error("User with extId {0} already has a Password credential")]
    PasswordExists(String),
    /// A named policy that does not exist in the client (SPEC §6.4 wording).
    #[error("PolicyConfiguration doesn't exist with extId '{0}'")]
    UnknownPolicyConfiguration(String),
    /// A named policy of another type than the credential needs.
    #[error("Policy Configuration {ext_id} is not of type {policy_type}")]
    PolicyTypeMismatch {
        /// The named policy.
        ext_id: String,
        /// The type the credential needs.
        policy_type: String,
    },
    /// The client has no default policy of the needed type.
    #[error("Default Policy Configuration does not exist for type {0}!")]
    NoDefaultPolicy(String),
    /// A bulk-login entry's credential is not usable (SPEC §6.2).
    #[error("Credential with extId '{0}' is not active")]
    CredentialNotActive(String),
    /// A credential that cannot be used for the operation (SPEC §6.3; message per case).
    #[error("{0}")]
    CredentialNotUsable(String),
    /// A VASCO create without token data blocks (SPEC §6.4).
    #[error("Vasco Digipass Token is necessary.")]
    VascoTokenRequired,
    /// A VASCO credential assigned to another user (SPEC §8.7).
    #[error("VASCO credential {0} is already assigned")]
    VascoAssigned(String),
    /// A self-admin write without a valid X-Token (SPEC §3.3).
    #[error("Invalid JWT token.")]
    InvalidJwtToken,
    /// A self-admin PATCH of a user field only an administrator may change (SPEC §12).
    #[error("The field '{0}' cannot be changed in self-admin mode.")]
    ModifyReadonlyData(String),
    /// A password supplied although the policy generates passwords (SPEC §8.5).
    #[error(
        "The 'password' parameter must not be given: the password policy generates passwords."
    )]
    PasswordNotAllowed,
    /// A supplied password breaks the password policy.
    #[error("The password does not comply with the password policy.")]
    PasswordPolicyViolated(Vec<PolicyViolation>),
}

impl DomainError {
    /// The SPEC `errors.*` code of this failure.
    pub fn code(&self) -> &'static str {
        use DomainError::*;
        match self {
            AuthenticationRequired | AuthenticationFailed => "errors.userLoginFailed",
            MissingRight(_) | MissingSelfAdmin => "errors.insufficientRightsFunction",
            MaxResetCountExceeded(_) => "errors.maxResetCount",
            NoPasswordCredential(_)
            | PasswordResetDisabled
            | CredentialNotFoundForUser { .. }
            | VascoNotFound(_)
            | OathNotFound { .. } => "errors.noRecord",
            VascoTokenRequired => "errors.invalidData",
            VascoAssigned(_) => "errors.vascoExists",
            CredentialNotResettable { .. } | CredentialNotUsable(_) | CredentialNotActive(_) => {
                "errors.credentialNotActive"
            }
            PasswordExists(_) => "errors.passwordExists",
            InvalidJwtToken => "errors.invalidJWTToken",
            PasswordNotAllowed => "errors.invalidParameter",
            ModifyReadonlyData(_) => "errors.modifyReadonlyData",
            UnknownPolicyConfiguration(_) | PolicyTypeMismatch { .. } | NoDefaultPolicy(_) => {
                "errors.invalidParameter"
            }
            DataRoomDenied(_) => "errors.combinedDataroomDenied",
            PrivilegeEscalation | PrivilegedTarget => "errors.potentialPrivilegeEscalation",
            ClientNotFound(_)
            | UserNotFound { .. }
            | PolicyNotFound(_)
            | RoleGrantNotFound { .. } => "errors.noRecord",
            OptimisticLockingFailure => "errors.optimisticLockingFailure",
            NullParameter(_) => "errors.nullParameter",
            UserLoginIdNull => "errors.userLoginIdNull",
            InvalidExtId { .. }
            | InvalidParameter(_)
            | UnknownRole(_)
            | UnknownPolicyType(_)
            | DefaultPolicyRequired(_)
            | InvalidLimit
            | InvalidContinuationToken => "errors.invalidParameter",
            DuplicateClientName(_)
            | DuplicateClientExtId(_)
            | DuplicateUserExtId(_)
            | DuplicatePolicyExtId(_)
            | DuplicateCredentialExtId(_) => "errors.duplicateName",
            DuplicateLoginId { .. } => "errors.duplicateValue",
            InvalidEmail(_) => "errors.userEmailFormat",
            InvalidParamName { .. } => "errors.pcyconf.invalidParamName",
            InvalidParamValue { .. } => "errors.pcyconf.invalidParamValue",
            PasswordPolicyViolated(_) => "errors.pwdPolicyViolated",
        }
    }

    /// The transport-independent class of this failure.
    pub fn kind(&self) -> ErrorKind {
        use DomainError::*;
        match self {
            AuthenticationRequired | AuthenticationFailed => ErrorKind::Unauthenticated,
            MissingRight(_)
            | MissingSelfAdmin
            | DataRoomDenied(_)
            | PrivilegeEscalation
            | PrivilegedTarget
            | MaxResetCountExceeded(_) => ErrorKind::Forbidden,
            NoPasswordCredential(_)
            | PasswordResetDisabled
            | CredentialNotFoundForUser { .. }
            | VascoNotFound(_)
            | OathNotFound { .. } => ErrorKind::NotFound,
            ClientNotFound(_)
            | UserNotFound { .. }
            | PolicyNotFound(_)
            | RoleGrantNotFound { .. } => ErrorKind::NotFound,
            OptimisticLockingFailure => ErrorKind::Conflict,
            _ => ErrorKind::Unprocessable,
        }
    }

    /// The password policy violations to list beside the message, if any.
    pub fn policy_violations(&self) -> &[PolicyViolation] {
        match self {
            DomainError::PasswordPolicyViolated(v) => v,
            _ => &[],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_match_the_spec_text() {
        assert_eq!(
            DomainError::MissingRight(Right::ClientCreate).to_string(),
            "Permission denied: Caller does not have the required right 'AccessControl.ClientCreate' to perform this action"
        );
        assert_eq!(
            DomainError::DataRoomDenied(Right::UserView).to_string(),
            "Permission denied: AccessControl.UserView"
        );
        assert_eq!(
            DomainError::UserNotFound {
                user_ext_id: "u1".into(),
                client_name: "Acme".into()
            }
            .to_string(),
            "A user with extId 'u1' doesn't exist on client with name Acme"
        );
        assert_eq!(
            DomainError::DuplicateLoginId {
                login_id: "jdoe".into(),
                client_name: "Acme".into()
            }
            .to_string(),
            "A user with loginId 'jdoe' already exists on client with name Acme"
        );
    }

    #[test]
    fn self_admin_readonly_field() {
        let e = DomainError::ModifyReadonlyData("loginId".into());
        assert_eq!(e.code(), "errors.modifyReadonlyData");
        assert_eq!(e.kind(), ErrorKind::Unprocessable);
        assert_eq!(
            e.to_string(),
            "The field 'loginId' cannot be changed in self-admin mode."
        );
    }

    #[test]
    fn codes_and_kinds() {
        assert_eq!(
            DomainError::AuthenticationFailed.code(),
            "errors.userLoginFailed"
        );
        assert_eq!(
            DomainError::AuthenticationFailed.kind(),
            ErrorKind::Unauthenticated
        );
        assert_eq!(
            DomainError::ClientNotFound("x".into()).kind(),
            ErrorKind::NotFound
        );
        assert_eq!(
            DomainError::OptimisticLockingFailure.kind(),
            ErrorKind::Conflict
        );
        assert_eq!(
            DomainError::InvalidParamName {
                name: "x".into(),
                policy_type: "PwdPolicy".into()
            }
            .code(),
            "errors.pcyconf.invalidParamName"
        );
    }
}
