//! The identity service's domain: entities, value objects and rules as pure code.
//!
//! Nothing here performs I/O, reads a clock or draws randomness: time and IDs come in as
//! arguments, so every rule is a plain function that unit tests can drive exhaustively.

#![warn(missing_docs)]

pub mod access;
pub mod client;
pub mod credential;
pub mod delivery;
pub mod error;
pub mod ext_id;
pub mod oath;
pub mod otp;
pub mod paging;
pub mod password;
pub mod patch;
pub mod policy;
pub mod user;
pub mod vasco;

pub use error::{DomainError, ErrorKind};
pub use ext_id::ExtId;
