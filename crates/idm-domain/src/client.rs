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

/// A client PATCH (SPEC §12): `{name?, version?}`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ClientPatch {
    /// New display name; `null` is refused (a client always has one).
    pub name: crate::patch::Patch<String>,
    /// The version the caller read; a mismatch is a conflict.
    pub version: Option<i64>,
}

impl Client {
    /// Applies a (version-checked) PATCH with the name rules of a create (SPEC §8.1); bumps
    /// `version` and sets `last_modified`. Uniqueness of the name is the caller's to check.
    pub fn apply(
        &mut self,
        patch: ClientPatch,
        now: DateTime<Utc>,
    ) -> Result<(), crate::DomainError> {
        use crate::patch::Patch;
        match patch.name {
            Patch::Keep => {}
            Patch::Remove => return Err(crate::DomainError::NullParameter("name".into())),
            Patch::Set(name) => self.name = crate::policy::validate_name(&name)?,
        }
        self.last_modified = now;
        self.version += 1;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::patch::Patch;

    fn acme() -> Client {
        Client {
            id: "c-1".into(),
            ext_id: ExtId::parse("acme").unwrap(),
            name: "Acme".into(),
            created: DateTime::<Utc>::UNIX_EPOCH,
            last_modified: DateTime::<Utc>::UNIX_EPOCH,
            version: 2,
        }
    }

    #[test]
    fn patch_renames_with_the_create_rules() {
        let now = DateTime::<Utc>::UNIX_EPOCH + chrono::Duration::seconds(9);
        let mut c = acme();
        c.apply(
            ClientPatch {
                name: Patch::Set("  Acme Corp ".into()),
                version: Some(2),
            },
            now,
        )
        .unwrap();
        assert_eq!(
            (c.name.as_str(), c.version, c.last_modified),
            ("Acme Corp", 3, now)
        );
        for name in [Patch::Remove, Patch::Set("  ".into())] {
            let mut c = acme();
            let err = c
                .apply(
                    ClientPatch {
                        name,
                        version: None,
                    },
                    now,
                )
                .unwrap_err();
            assert_eq!(err.to_string(), "The 'name' parameter is mandatory.");
            assert_eq!(c, acme());
        }
    }
}
