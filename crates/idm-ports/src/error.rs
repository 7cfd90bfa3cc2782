//! Errors crossing the ports: storage failures and the application error use cases return.

use idm_domain::DomainError;
use thiserror::Error;

/// Which uniqueness rule a write broke; adapters map their constraint names to these.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UniqueKey {
    /// `clients.ext_id`.
    ClientExtId,
    /// `clients.name`.
    ClientName,
    /// `(users.client_id, users.ext_id)`.
    UserExtId,
    /// `(users.client_id, users.login_id)`.
    UserLoginId,
    /// `(policies.client_id, policies.ext_id)`.
    PolicyExtId,
    /// One default policy per client and type.
    DefaultPolicy,
    /// `(credentials.client_id, credentials.ext_id)`, across every type.
    CredentialExtId,
    /// One Password credential per user.
    UserPassword,
    /// One grant per user and role.
    RoleGrant,
    /// One token data block per auth mode and credential.
    VascoAuthMode,
    /// A key the adapter could not name.
    Other,
}

/// A storage failure, as every repository method reports it.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum StoreError {
    /// The database cannot be reached, or no connection was free within the pool timeout.
    #[error("storage unavailable")]
    Unavailable,
    /// A uniqueness rule rejected the write (a lost race with a concurrent writer).
    #[error("unique constraint violated: {0:?}")]
    Unique(UniqueKey),
    /// A compare-and-set update found another version than expected.
    #[error("row changed concurrently")]
    Conflict,
    /// Anything else; the text is for logs only, never for a response.
    #[error("storage failure: {0}")]
    Other(String),
}

/// Why the transport could not use a request body (SPEC §2's 400/413/415 rows). It travels
/// into the use case inside [`crate::usecases::Body`] so that it is reported at SPEC §3.4
/// step 6, after authentication, rights and the path's lookups.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BodyRejection {
    /// Larger than the configured limit.
    TooLarge,
    /// A body whose media type is not JSON.
    UnsupportedMediaType,
    /// No body where one is required.
    Missing,
    /// Not JSON.
    MalformedJson,
    /// JSON, but this field (a dotted path, `body` for the document) has the wrong type or shape.
    InvalidField(String),
}

/// What a use case returns on failure.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum AppError {
    /// A SPEC rule violation, answered with its code and exact message.
    #[error(transparent)]
    Domain(#[from] DomainError),
    /// The request body could not be used (400/413/415).
    #[error("request body rejected: {0:?}")]
    BadBody(BodyRejection),
    /// Storage unavailable: 503 with `Retry-After`.
    #[error("service unavailable")]
    Unavailable,
    /// Hashing capacity exhausted (SPEC §10.3): 503 with `Retry-After: 1`.
    #[error("hashing capacity exhausted")]
    Busy,
    /// An unexpected failure: 500; the text is logged, never sent.
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Unavailable => AppError::Unavailable,
            StoreError::Conflict => AppError::Domain(DomainError::OptimisticLockingFailure),
            StoreError::Unique(key) => {
                AppError::Internal(format!("unexpected unique violation {key:?}"))
            }
            StoreError::Other(text) => AppError::Internal(text),
        }
    }
}

/// Shorthand for use-case results.
pub type AppResult<T> = Result<T, AppError>;
