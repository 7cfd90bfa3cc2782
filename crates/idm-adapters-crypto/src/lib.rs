//! Adapters of the auth-side driven ports: argon2id hashing, the HMAC-keyed login cache,
//! AES-256-GCM sealing, the X-Token JWT, the system clock, UUIDs and the CSPRNG.
//!
//! Every primitive comes from a maintained RustCrypto (or jsonwebtoken) crate; nothing here
//! implements cryptography itself.

#![warn(missing_docs)]

mod cipher;
mod clock;
mod hasher;
mod history_mac;
mod ids;
mod jwt;
mod login_cache;
mod secrets;

pub use cipher::{AesGcmCipher, CipherKeyError};
pub use clock::SystemClock;
pub use hasher::{Argon2Hasher, Argon2Settings, HashLimits, HasherError};
pub use history_mac::HmacHistoryMac;
pub use ids::UuidGenerator;
pub use jwt::{JwtKeyError, JwtTokenIssuer};
pub use login_cache::HmacLoginCache;
pub use secrets::OsSecretGenerator;
