//! Driven ports of storage: one repository trait per aggregate, and the unit of work that
//! runs a use case's reads and writes in one transaction.
//!
//! Repository methods are synchronous and take `&mut self`: an adapter implements them over
//! the one connection of the current transaction. Each method returns [`StoreError`] only as
//! documented; "not found" is `Ok(None)`, never an error.

use chrono::{DateTime, Utc};
use idm_domain::access::{Role, RoleGrant};
use idm_domain::client::Client;
use idm_domain::credential::{Credential, CredentialType};
use idm_domain::delivery::Delivery;
use idm_domain::paging::PageRequest;
use idm_domain::policy::{Policy, PolicyType};
use idm_domain::user::{User, UserState};
use idm_domain::ExtId;

use crate::error::{AppError, StoreError};

/// Clients.
#[cfg_attr(feature = "mock", mockall::automock)]
pub trait ClientRepo {
    /// Inserts a new client; `Unique(ClientExtId | ClientName)` when taken.
    fn insert(&mut self, client: &Client) -> Result<(), StoreError>;
    /// The client with this extId.
    fn find_by_ext_id(&mut self, ext_id: &str) -> Result<Option<Client>, StoreError>;
    /// The client with this name.
    fn find_by_name(&mut self, name: &str) -> Result<Option<Client>, StoreError>;
    /// The client with this storage identity.
    fn find_by_id(&mut self, id: &str) -> Result<Option<Client>, StoreError>;
    /// Whether any client exists (bootstrap runs only on an empty database).
    fn any_exists(&mut self) -> Result<bool, StoreError>;
    /// Writes `client` if its stored version is still `expected_version`; `Conflict` otherwise,
    /// `Unique(ClientName)` when the new name is taken.
    fn update(&mut self, client: &Client, expected_version: i64) -> Result<(), StoreError>;
    /// Clients after `page.after`, by creation time then extId, only those whose extId is one
    /// of `ext_ids` when it is given: up to `page.limit + 1` rows (the extra one tells the use
    /// case that another page follows).
    // mockall cannot mock an elided lifetime inside `Option<&[…]>`; it needs a named one.
    #[allow(clippy::needless_lifetimes)]
    fn list<'a>(
        &mut self,
        ext_ids: Option<&'a [String]>,
        page: &PageRequest,
    ) -> Result<Vec<Client>, StoreError>;
}

/// The filters of a user list (SPEC §12), combined with AND; `None` does not filter.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserListFilter {
    /// Exactly this loginId.
    pub login_id: Option<String>,
    /// This e-mail address, compared case-insensitively.
    pub email: Option<String>,
    /// Only users in this state.
    pub state: Option<UserState>,
    /// A case-insensitive prefix of the loginId, the family name or the e-mail address.
    pub prefix: Option<String>,
}

/// Users.
#[cfg_attr(feature = "mock", mockall::automock)]
pub trait UserRepo {
    /// Inserts a new user; `Unique(UserExtId | UserLoginId)` when taken.
    fn insert(&mut self, user: &User) -> Result<(), StoreError>;
    /// The user with this extId in the client.
    fn find_by_ext_id(&mut self, client_id: &str, ext_id: &str)
        -> Result<Option<User>, StoreError>;
    /// The user with this loginId in the client.
    fn find_by_login_id(
        &mut self,
        client_id: &str,
        login_id: &str,
    ) -> Result<Option<User>, StoreError>;
    /// Up to `limit` users with this loginId in any client (bare-loginId authentication).
    fn find_by_login_id_anywhere(
        &mut self,
        login_id: &str,
        limit: u32,
    ) -> Result<Vec<User>, StoreError>;
    /// Writes `user` if its stored version is still `expected_version`; `Conflict` otherwise.
    fn update(&mut self, user: &User, expected_version: i64) -> Result<(), StoreError>;
    /// Sets `last_login` (success) or `last_login_failure` to `at`, with `last_modified = at`
    /// and version + 1, in one statement, so concurrent reports never conflict or get lost.
    fn record_login(
        &mut self,
        user_id: &str,
        success: bool,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError>;
    /// The user with this storage identity.
    fn find_by_id(&mut self, id: &str) -> Result<Option<User>, StoreError>;
    /// Deletes the user with its Password and OATH credentials, role grants and pending
    /// deliveries, and unassigns its VASCO credentials (SPEC §12); `false` when it did not exist.
    /// The user's row is locked first, so a concurrent write that refers to the user (a
    /// credential, grant or delivery insert) either commits before the delete, and goes with
    /// it, or fails with `Conflict`: no row is ever left pointing at a deleted user.
    fn delete(&mut self, id: &str) -> Result<bool, StoreError>;
    /// The client's users that match `filter`, after `page.after`, by creation time then
    /// extId: up to `page.limit + 1` rows (the extra one tells the use case that another page
    /// follows). Filtering and paging run in the database, on its indexes.
    fn list_by_client(
        &mut self,
        client_id: &str,
        filter: &UserListFilter,
        page: &PageRequest,
    ) -> Result<Vec<User>, StoreError>;
    /// The client's users matching `query` (SPEC §14, with the meaning of
    /// [`crate::user_query::UserQuery::matches`]), by creation time then extId: up to `limit`
    /// of them after skipping `offset`, and how many match in all (exact). Filtering, counting
    /// and paging run in the database, on its indexes.
    fn search(
        &mut self,
        client_id: &str,
        query: &crate::user_query::UserQuery,
        offset: u64,
        limit: u32,
    ) -> Result<(Vec<User>, u64), StoreError>;
}

/// Policies.
#[cfg_attr(feature = "mock", mockall::automock)]
pub trait PolicyRepo {
    /// Inserts a policy; `Unique(PolicyExtId)` when taken, `Unique(DefaultPolicy)` when it is
    /// marked default while another default of its type exists.
    fn insert(&mut self, policy: &Policy) -> Result<(), StoreError>;
    /// The policy with this extId in the client.
    fn find_by_ext_id(
        &mut self,
        client_id: &str,
        ext_id: &str,
    ) -> Result<Option<Policy>, StoreError>;
    /// The policy with this storage identity.
    fn find_by_id(&mut self, id: &str) -> Result<Option<Policy>, StoreError>;
    /// The client's default policy of the type.
    fn find_default(
        &mut self,
        client_id: &str,
        policy_type: PolicyType,
    ) -> Result<Option<Policy>, StoreError>;
    /// Writes `policy` if its stored version is still `expected_version`; `Conflict` otherwise.
    fn update(&mut self, policy: &Policy, expected_version: i64) -> Result<(), StoreError>;
    /// Takes the default mark from the client's current default of the type (bumping its
    /// version), so another policy can take it in the same transaction.
    fn clear_default(
        &mut self,
        client_id: &str,
        policy_type: PolicyType,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError>;
}

/// A credential with the extIds of its user and policy, as reads return it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CredentialRecord {
    /// The credential.
    pub credential: Credential,
    /// Its user's extId; `None` when unassigned.
    pub user_ext_id: Option<ExtId>,
    /// Its policy's extId.
    pub policy_ext_id: ExtId,
}

/// Credentials of every type.
#[cfg_attr(feature = "mock", mockall::automock)]
pub trait CredentialRepo {
    /// Inserts a credential; `Unique(CredentialExtId | UserPassword | VascoAuthMode)` when taken,
    /// `Conflict` when its user was deleted concurrently.
    fn insert(&mut self, credential: &Credential) -> Result<(), StoreError>;
    /// The credential with this extId in the client, any type.
    fn find_by_ext_id(
        &mut self,
        client_id: &str,
        ext_id: &str,
    ) -> Result<Option<CredentialRecord>, StoreError>;
    /// The credential with this extId in the client, its row locked against concurrent writers
    /// until the transaction ends (`SELECT … FOR UPDATE` on PostgreSQL; SQLite's write
    /// transaction already serializes writers).
    fn find_by_ext_id_for_update(
        &mut self,
        client_id: &str,
        ext_id: &str,
    ) -> Result<Option<CredentialRecord>, StoreError>;
    /// The user's Password credential. With `lock`, the row stays locked against concurrent
    /// writers until the transaction ends (read-modify-write without lost updates).
    fn find_password_of_user(
        &mut self,
        user_id: &str,
        lock: bool,
    ) -> Result<Option<CredentialRecord>, StoreError>;
    /// The user's credentials after `page.after`, by creation time then extId: up to
    /// `page.limit + 1` rows, the extra one telling the use case that another page follows.
    fn list_by_user(
        &mut self,
        user_id: &str,
        page: &PageRequest,
    ) -> Result<Vec<CredentialRecord>, StoreError>;
    /// Writes `credential` if its stored version is still `expected_version`; `Conflict` otherwise.
    fn update(&mut self, credential: &Credential, expected_version: i64) -> Result<(), StoreError>;
    /// Credentials of one type in the client (of one user when `user_id` is given), after
    /// `page.after`, by creation time then extId: up to `page.limit + 1` rows.
    // mockall cannot mock an elided lifetime inside `Option<&str>`; it needs a named one.
    #[allow(clippy::needless_lifetimes)]
    fn list_of_type<'a>(
        &mut self,
        client_id: &str,
        user_id: Option<&'a str>,
        credential_type: CredentialType,
        page: &PageRequest,
    ) -> Result<Vec<CredentialRecord>, StoreError>;
    /// The storage identities and sealed secrets of every OATH credential (the upgrade that
    /// binds sealed values to rows).
    fn oath_secrets(&mut self) -> Result<Vec<(String, String)>, StoreError>;
    /// Replaces an OATH credential's sealed secret, leaving everything else as it is.
    fn reseal_oath_secret(&mut self, id: &str, sealed: &str) -> Result<(), StoreError>;
    /// Deletes the credential (and its token data blocks); `false` when it did not exist.
    fn delete(&mut self, id: &str) -> Result<bool, StoreError>;
}

/// Role grants.
#[cfg_attr(feature = "mock", mockall::automock)]
pub trait RoleRepo {
    /// Every grant of the user.
    fn grants_of_user(&mut self, user_id: &str) -> Result<Vec<RoleGrant>, StoreError>;
    /// Grants the role, replacing the data room of an existing grant of the same role.
    fn upsert_grant(
        &mut self,
        user_id: &str,
        grant: &RoleGrant,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError>;
    /// Removes the grant; `false` when the user did not hold the role.
    fn delete_grant(&mut self, user_id: &str, role: Role) -> Result<bool, StoreError>;
    /// The storage identities of the `active` users holding `Root`, their grants locked until
    /// the transaction ends, so two removals of the last two Roots cannot both pass (SPEC §10.1).
    fn active_root_users_for_update(&mut self) -> Result<Vec<String>, StoreError>;
}

/// The delivery outbox (SPEC §8.7): what a generated password leaves for out-of-band delivery
/// is queued in the same transaction as the change, so nothing is lost until a sender takes it.
#[cfg_attr(feature = "mock", mockall::automock)]
pub trait DeliveryPort {
    /// Queues a sealed delivery.
    fn enqueue(&mut self, delivery: &Delivery) -> Result<(), StoreError>;
    /// Up to `limit` undelivered deliveries, oldest first.
    fn pending(&mut self, limit: u32) -> Result<Vec<Delivery>, StoreError>;
    /// Replaces a delivery's sealed payload (the upgrade that binds sealed values to rows).
    fn reseal(&mut self, id: &str, sealed_payload: &str) -> Result<(), StoreError>;
}

/// Facts about the database itself (name → value), such as the encryption-key check value.
#[cfg_attr(feature = "mock", mockall::automock)]
pub trait MetaRepo {
    /// The value stored under `name`.
    fn get(&mut self, name: &str) -> Result<Option<String>, StoreError>;
    /// Stores `value` under `name` unless a value is there already; `false` when one was.
    fn insert_if_absent(&mut self, name: &str, value: &str) -> Result<bool, StoreError>;
    /// Stores `value` under `name`, replacing what was there.
    fn put(&mut self, name: &str, value: &str) -> Result<(), StoreError>;
}

/// The history (SPEC §13): an append-only, hash-chained list of events. Only the write path
/// ([`crate::write`]) appends.
#[cfg_attr(feature = "mock", mockall::automock)]
pub trait HistoryRepo {
    /// The last event's seq and chain hash (`(0, "")` for an empty history), locked until the
    /// transaction ends so that appenders on every instance take their places one by one.
    fn head_for_update(&mut self) -> Result<(i64, String), StoreError>;
    /// Stores one event; `prev` is the chain hash it follows.
    fn insert(&mut self, event: &crate::history::StoredEvent, prev: &str)
        -> Result<(), StoreError>;
    /// Moves the head to the last appended event; `mac` authenticates the head itself, so the
    /// newest events cannot be cut off by rewinding it.
    fn set_head(&mut self, seq: i64, hash: &str, mac: &str) -> Result<(), StoreError>;
    /// The head without locking it (for verification): seq, hash and its MAC.
    fn head(&mut self) -> Result<(i64, String, String), StoreError>;
    /// Up to `limit` events after `after_seq` matching `filter`, in `seq` order, each with the
    /// chain hash it follows.
    fn list(
        &mut self,
        filter: &crate::history::EventFilter,
        after_seq: i64,
        limit: u32,
    ) -> Result<Vec<(crate::history::StoredEvent, String)>, StoreError>;
    /// Deletes the events older than `before` and returns the last one deleted (seq, hash), if
    /// any, so verification can start after it.
    fn prune_before(
        &mut self,
        before: chrono::DateTime<chrono::Utc>,
    ) -> Result<Option<(i64, String)>, StoreError>;
}

/// All repositories of one transaction.
pub trait Repos {
    /// Clients.
    fn clients(&mut self) -> &mut dyn ClientRepo;
    /// Users.
    fn users(&mut self) -> &mut dyn UserRepo;
    /// Policies.
    fn policies(&mut self) -> &mut dyn PolicyRepo;
    /// Credentials.
    fn credentials(&mut self) -> &mut dyn CredentialRepo;
    /// Role grants.
    fn roles(&mut self) -> &mut dyn RoleRepo;
    /// The delivery outbox.
    fn deliveries(&mut self) -> &mut dyn DeliveryPort;
    /// Facts about the database.
    fn meta(&mut self) -> &mut dyn MetaRepo;
    /// The history.
    fn history(&mut self) -> &mut dyn HistoryRepo;

    /// The client with this extId and its user with this extId: the lookup of nearly every
    /// request (SPEC §3.4 steps 3 and 4), which an adapter answers with one joined query.
    /// `None` when either is missing (the caller then asks which, for the right 404).
    fn client_and_user(
        &mut self,
        client_ext_id: &str,
        user_ext_id: &str,
    ) -> Result<Option<(Client, User)>, StoreError> {
        let Some(client) = self.clients().find_by_ext_id(client_ext_id)? else {
            return Ok(None);
        };
        Ok(self
            .users()
            .find_by_ext_id(&client.id, user_ext_id)?
            .map(|user| (client, user)))
    }

    /// The user with this loginId in the client with this extId, with its client: the caller
    /// lookup of every authenticated request (SPEC §3.1), one joined query in an adapter.
    fn login_in_client(
        &mut self,
        client_ext_id: &str,
        login_id: &str,
    ) -> Result<Option<(Client, User)>, StoreError> {
        let Some(client) = self.clients().find_by_ext_id(client_ext_id)? else {
            return Ok(None);
        };
        Ok(self
            .users()
            .find_by_login_id(&client.id, login_id)?
            .map(|user| (client, user)))
    }
}

/// Whether a transaction will write; lets SQLite take its write lock up front
/// (`BEGIN IMMEDIATE`) so a racing writer waits instead of failing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TxMode {
    /// Reads only.
    Read,
    /// Reads and writes.
    Write,
}

/// The unit of work: runs `work` in one transaction that commits only if it returns `Ok`.
///
/// `work` is `FnMut` because an adapter may run it again after a serialization failure;
/// it must therefore not have effects outside the repositories. (Tests use
/// `testing::MockedUnitOfWork`, which runs `work` over mocked repositories.)
pub trait UnitOfWork: Send + Sync {
    /// Runs `work` in a transaction of `mode`. Storage failures come back as
    /// `AppError::Unavailable` (503) or `AppError::Internal`.
    fn run<'a>(
        &self,
        mode: TxMode,
        work: &mut (dyn FnMut(&mut dyn Repos) -> Result<(), AppError> + 'a),
    ) -> Result<(), AppError>;
}

/// Runs `work` in one transaction and hands back its value.
pub fn transact<T>(
    uow: &dyn UnitOfWork,
    mode: TxMode,
    mut work: impl FnMut(&mut dyn Repos) -> Result<T, AppError>,
) -> Result<T, AppError> {
    let mut out = None;
    uow.run(mode, &mut |repos| {
        out = Some(work(repos)?);
        Ok(())
    })?;
    out.ok_or_else(|| AppError::Internal("unit of work finished without running".into()))
}

/// Readiness of the storage (SPEC §7 `GET /health/ready`).
#[cfg_attr(feature = "mock", mockall::automock)]
pub trait HealthCheck: Send + Sync {
    /// `Ok` when the database answers a trivial query within the pool timeout.
    fn check(&self) -> Result<(), StoreError>;
}
