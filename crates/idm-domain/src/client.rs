//! Clients: the tenants every other record belongs to (SPEC §4.1).

use chrono::{DateTime, Utc};

use crate::ext_id::ExtId;

/// A tenant. `ext_id` and `name` are unique system-wide.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Client {
    /// Storage identity; never shown.
    pub id: String,
    /// The external ID.
    pub ext_id: ExtId,
    /// Display name, unique system-wide; used in SPEC messages.
    pub name: String,
    /// When it was created.
    pub created: DateTime<Utc>,
    /// When it last changed.
    pub last_modified: DateTime<Utc>,
    /// Optimistic-locking version.
    pub version: i64,
}

/// The client the bootstrap creates on an empty database (SPEC §7).
pub const BOOTSTRAP_CLIENT_EXT_ID: &str = "default";
/// Its name.
pub const BOOTSTRAP_CLIENT_NAME: &str = "Default";
