//! Driven ports of the auth side: hashing, caching, time, IDs, randomness, encryption, tokens.

use chrono::{DateTime, Utc};

use crate::error::AppError;

/// Permission to run one argon2 computation (SPEC §10.3): hashing is bounded, so a request
/// must hold a slot to hash or verify, and one that cannot get one answers 503 without having
/// counted as a login attempt. Dropping the slot frees it.
pub struct HashSlot {
    _guard: Option<Box<dyn Send + Sync>>,
}

impl HashSlot {
    /// A slot whose `guard` frees the adapter's capacity when dropped.
    pub fn new(guard: Box<dyn Send + Sync>) -> Self {
        HashSlot {
            _guard: Some(guard),
        }
    }

    /// A slot of an unbounded hasher (tests, offline commands).
    pub fn unbounded() -> Self {
        HashSlot { _guard: None }
    }
}

impl std::fmt::Debug for HashSlot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("HashSlot")
    }
}

/// Password hashing (argon2id PHC strings, SPEC §4.5), bounded per SPEC §10.3.
#[cfg_attr(feature = "mock", mockall::automock)]
pub trait PasswordHasher: Send + Sync {
    /// Waits (boundedly) for a free hashing slot; `AppError::Busy` when the queue is full or
    /// the wait too long. Never called with a database connection or transaction open.
    fn slot(&self) -> Result<HashSlot, AppError>;
    /// Hashes with a fresh salt and the configured cost.
    fn hash(&self, slot: &HashSlot, password: &str) -> Result<String, AppError>;
    /// Whether `password` matches `phc`; a malformed `phc` is `false`.
    fn verify(&self, slot: &HashSlot, password: &str, phc: &str) -> bool;
    /// Spends the time of one verification and forgets the result, so an unknown login ID
    /// takes as long to reject as a wrong password (SPEC §3.1).
    fn verify_dummy(&self, slot: &HashSlot, password: &str);
}

/// Identifies one password of one user in the login cache: a reset, change, unlock or state
/// change moves the credential's epoch and so ends the entry (login bookkeeping does not, so
/// an attack on the credential does not evict its owner's cached sessions).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct LoginCacheKey {
    /// The user's storage identity.
    pub user_id: String,
    /// The credential's epoch at verification.
    pub password_epoch: i64,
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

/// Authenticated encryption of secrets at rest (AES-256-GCM, SPEC §4.5). Every value is bound
/// to the row it belongs to through the associated data `bound_to` (SPEC §10.4), so a sealed
/// value copied into another row does not open.
#[cfg_attr(feature = "mock", mockall::automock)]
pub trait SecretCipher: Send + Sync {
    /// Seals `plain` with a fresh nonce: `base64(nonce) "~" base64(ciphertext‖tag)`.
    fn seal(&self, plain: &[u8], bound_to: &str) -> Result<String, AppError>;
    /// Opens a sealed value; an error when it was tampered with, sealed under another key or
    /// bound to another row.
    fn open(&self, sealed: &str, bound_to: &str) -> Result<Vec<u8>, AppError>;
    /// Opens a value sealed before values were bound to rows (upgrade of old databases only).
    fn open_unbound(&self, sealed: &str) -> Result<Vec<u8>, AppError>;
}

/// Whom an X-Token is issued to (SPEC §3.5 `sub` and `cid`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenSubject {
    /// The user's extId (`sub`).
    pub user_ext_id: String,
    /// The user's client's extId (`cid`).
    pub client_ext_id: String,
    /// The epoch of the user's password credential when the token was issued (`pep`): a reset,
    /// change, unlock or state change moves it and so ends older tokens (SPEC §10.4).
    pub password_epoch: i64,
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

/// The keyed hash that chains history events (SPEC §13 tamper evidence): without the key an
/// event cannot be modified, inserted or removed without breaking the chain.
#[cfg_attr(feature = "mock", mockall::automock)]
pub trait HistoryMac: Send + Sync {
    /// The chain hash of an event whose canonical text is `canonical`, after `prev`.
    fn chain(&self, prev: &str, canonical: &str) -> String;
}
