//! Mapping of diesel errors to the ports' [`StoreError`], in one place.

use diesel::result::{DatabaseErrorKind, Error as DieselError};
use idm_ports::error::{StoreError, UniqueKey};

/// A failure inside a repository method, before it is reported as a [`StoreError`].
#[derive(Debug)]
pub(crate) enum RepoError {
    /// The database refused or failed a statement.
    Db(DieselError),
    /// A stored value could not be turned back into a domain value.
    Data(String),
    /// A compare-and-set update matched no row.
    Conflict,
}

impl From<DieselError> for RepoError {
    fn from(e: DieselError) -> Self {
        RepoError::Db(e)
    }
}

pub(crate) type RepoResult<T> = Result<T, RepoError>;

impl RepoError {
    /// Whether running the whole transaction again may succeed (PostgreSQL serialization
    /// failure or deadlock).
    pub(crate) fn is_retryable(&self) -> bool {
        matches!(self, RepoError::Db(e) if is_retryable(e))
    }
}

impl From<RepoError> for StoreError {
    fn from(e: RepoError) -> Self {
        match e {
            RepoError::Db(e) => map_diesel(e),
            RepoError::Data(text) => StoreError::Other(format!("unreadable stored value: {text}")),
            RepoError::Conflict => StoreError::Conflict,
        }
    }
}

/// SQLSTATE 40001 (diesel names it) or 40P01 (diesel does not; PostgreSQL's message does).
pub(crate) fn is_retryable(e: &DieselError) -> bool {
    match e {
        DieselError::DatabaseError(DatabaseErrorKind::SerializationFailure, _) => true,
        DieselError::DatabaseError(_, info) => info.message().contains("deadlock detected"),
        _ => false,
    }
}

/// Maps a diesel error: unique violations to their key, foreign-key violations (a lost race
/// with a delete) to `Conflict`, lost connections and SQLite lock timeouts to `Unavailable`,
/// the rest to `Other` (whose text is only logged).
pub(crate) fn map_diesel(e: DieselError) -> StoreError {
    match &e {
        DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, info) => {
            let key = info
                .constraint_name()
                .map(key_of_constraint)
                .unwrap_or_else(|| key_of_message(info.message()));
            StoreError::Unique(key)
        }
        // A row refers to one a concurrent transaction deleted (a credential of a user deleted
        // meanwhile): the write lost a race, like a lost compare-and-set.
        DieselError::DatabaseError(DatabaseErrorKind::ForeignKeyViolation, _) => {
            StoreError::Conflict
        }
        DieselError::DatabaseError(DatabaseErrorKind::ClosedConnection, _)
        | DieselError::BrokenTransactionManager => StoreError::Unavailable,
        DieselError::DatabaseError(_, info) if is_sqlite_busy(info.message()) => {
            StoreError::Unavailable
        }
        _ => StoreError::Other(e.to_string()),
    }
}

fn is_sqlite_busy(message: &str) -> bool {
    message.contains("database is locked") || message.contains("database is busy")
}

/// The key of a named constraint or unique index (PostgreSQL reports the name).
pub(crate) fn key_of_constraint(name: &str) -> UniqueKey {
    match name {
        "uq_clients_ext_id" => UniqueKey::ClientExtId,
        "uq_clients_name" => UniqueKey::ClientName,
        "uq_users_ext_id" => UniqueKey::UserExtId,
        "uq_users_login_id" => UniqueKey::UserLoginId,
        "uq_policies_ext_id" => UniqueKey::PolicyExtId,
        "uq_policies_default" => UniqueKey::DefaultPolicy,
        "uq_credentials_ext_id" => UniqueKey::CredentialExtId,
        "uq_credentials_user_password" => UniqueKey::UserPassword,
        "uq_role_grants_user_role" => UniqueKey::RoleGrant,
        "uq_vasco_tokens_auth_mode" => UniqueKey::VascoAuthMode,
        _ => UniqueKey::Other,
    }
}

/// The key named by SQLite's message, `UNIQUE constraint failed: <table>.<col>, <table>.<col>`
/// (or `… failed: index '<name>'` for indexes on expressions).
pub(crate) fn key_of_message(message: &str) -> UniqueKey {
    let Some(rest) = message.split("UNIQUE constraint failed:").nth(1) else {
        return UniqueKey::Other;
    };
    let rest = rest.trim();
    if let Some(index) = rest.strip_prefix("index ") {
        return key_of_constraint(index.trim_matches(|c| c == '\'' || c == '"'));
    }
    let columns: Vec<&str> = rest.split(',').map(str::trim).collect();
    match columns.as_slice() {
        ["clients.ext_id"] => UniqueKey::ClientExtId,
        ["clients.name"] => UniqueKey::ClientName,
        ["users.client_id", "users.ext_id"] => UniqueKey::UserExtId,
        ["users.client_id", "users.login_id"] => UniqueKey::UserLoginId,
        ["policies.client_id", "policies.ext_id"] => UniqueKey::PolicyExtId,
        ["policies.client_id", "policies.policy_type"] => UniqueKey::DefaultPolicy,
        ["credentials.client_id", "credentials.ext_id"] => UniqueKey::CredentialExtId,
        ["credentials.user_id"] => UniqueKey::UserPassword,
        ["role_grants.user_id", "role_grants.role"] => UniqueKey::RoleGrant,
        ["vasco_tokens.credential_id", "vasco_tokens.auth_mode"] => UniqueKey::VascoAuthMode,
        _ => UniqueKey::Other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_messages_name_their_keys() {
        assert_eq!(
            key_of_message("UNIQUE constraint failed: clients.name"),
            UniqueKey::ClientName
        );
        assert_eq!(
            key_of_message("UNIQUE constraint failed: users.client_id, users.login_id"),
            UniqueKey::UserLoginId
        );
        assert_eq!(
            key_of_message("UNIQUE constraint failed: index 'uq_policies_default'"),
            UniqueKey::DefaultPolicy
        );
        assert_eq!(
            key_of_message("UNIQUE constraint failed: clients.id"),
            UniqueKey::Other
        );
        assert_eq!(key_of_message("something else"), UniqueKey::Other);
    }
}
