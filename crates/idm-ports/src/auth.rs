//! Driven ports of the auth side: hashing, caching, time, IDs, randomness, encryption, tokens.

use chrono::{DateTime, Utc};

use crate::error::AppError;

/// Password hashing (argon2id PHC strings, SPEC §4.5).
#[cfg_attr(feature = "mock", mockall::automock)]
pub trait PasswordHasher: Send + Sync {
    /// Hashes with a fresh salt and the configured cost.
    fn hash(&self, password: &str) -> Result<String, AppError>;
    /// Whether `password` matches `phc`; a malformed `phc` is `false`.
    fn verify(&self, password: &str, phc: &str) -> bool;
    /// Spends the time of one verification and forgets the result, so an unknown login ID
    /// takes as long to reject as a wrong password (SPEC §3.1).
    fn verify_dummy(&self, password: &str);
}

/// Identifies one state of one password credential in the login cache: any change to the
/// credential changes its version and so ends the entry.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct LoginCacheKey {
    /// The user's storage identity.
    pub user_id: String,
    /// The credential's version at verification.
    pub credential_version: i64,
}

/// The short-lived memory of successful verifications (SPEC §3.1). Implementations keep only a
/// keyed hash of the password, never the password.
#[cfg_attr(feature = "mock", mockall::automock)]
pub trait LoginCache: Send + Sync {
    /// Whether `password` was verified for `key` within the cache lifetime.
    fn is_fresh(&self, key: &LoginCacheKey, password: &str) -> bool;
    /// Remembers a successful verification.
    fn remember(&self, key: LoginCacheKey, password: &str);
}

/// The time; a port so that use cases can be tested at fixed instants.
#[cfg_attr(feature = "mock", mockall::automock)]
pub trait Clock: Send + Sync {
    /// Now, in UTC.
    fn now(&self) -> DateTime<Utc>;
}

/// Identifiers for new records.
#[cfg_attr(feature = "mock", mockall::automock)]
pub trait IdGenerator: Send + Sync {
    /// A fresh UUID v4 string; used for storage identities and generated extIds.
    fn new_id(&self) -> String;
}

/// Randomness for secrets, from a CSPRNG.
#[cfg_attr(feature = "mock", mockall::automock)]
pub trait SecretGenerator: Send + Sync {
    /// A password of `length` characters drawn uniformly from `charset`.
    fn password(&self, charset: &str, length: usize) -> String;
    /// `length` random bytes.
    fn bytes(&self, length: usize) -> Vec<u8>;
}

/// Authenticated encryption of secrets at rest (AES-256-GCM, SPEC §4.5).
#[cfg_attr(feature = "mock", mockall::automock)]
pub trait SecretCipher: Send + Sync {
    /// Seals `plain` with a fresh nonce: `base64(nonce) "~" base64(ciphertext‖tag)`.
    fn seal(&self, plain: &[u8]) -> Result<String, AppError>;
    /// Opens a sealed value; an error when it was tampered with or sealed under another key.
    fn open(&self, sealed: &str) -> Result<Vec<u8>, AppError>;
}

/// Whom an X-Token is issued to (SPEC §3.5 `sub` and `cid`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenSubject {
    /// The user's extId (`sub`).
    pub user_ext_id: String,
    /// The user's client's extId (`cid`).
    pub client_ext_id: String,
}

/// An issued token and its lifetime.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuedToken {
    /// The compact JWT.
    pub token: String,
    /// Seconds until it expires.
    pub expires_in: u64,
}

/// Issues and checks the X-Token JWT of SPEC §3.5.
#[cfg_attr(feature = "mock", mockall::automock)]
pub trait TokenIssuer: Send + Sync {
    /// Signs a token for `subject`.
    fn issue(&self, subject: &TokenSubject) -> Result<IssuedToken, AppError>;
    /// Whether `token` is valid now and names `expected`.
    fn validate(&self, token: &str, expected: &TokenSubject) -> bool;
}
