//! The hexagon's edge: the driven ports (repositories, unit of work, auth-side services) that
//! adapters implement, and the use cases (driving side) written against them.
//!
//! With the `mock` feature, every trait has a mockall mock (`MockClientRepo`, `MockClientService`, …)
//! and [`testing`] offers a unit of work over mocked repositories; only dev-dependencies turn it on.

#![warn(missing_docs)]

pub mod auth;
pub mod caller;
pub mod error;
pub mod history;
pub mod permit;
pub mod repos;
pub mod telemetry;
#[cfg(feature = "mock")]
pub mod testing;
pub mod usecases;
pub mod user_query;
pub mod write;

pub use caller::Caller;
pub use error::{AppError, AppResult, BodyRejection, StoreError, UniqueKey};
