//! The one write path (SPEC §13): every change of state a use case makes goes through
//! [`Tx::apply`], which performs it on the repositories and queues its history event; the
//! events are appended to the hash-chained history at the end of the same transaction, so a
//! change that rolls back leaves no event and an event without its change cannot exist.
//!
//! Use cases state *what* changed ([`Change`]); they never write history rows, and each change
//! needs a [`Permit`], which only the authorization checks hand out (see [`crate::permit`]).

use chrono::{DateTime, Timelike, Utc};
use idm_domain::access::{Role, RoleGrant};
use idm_domain::client::Client;
use idm_domain::credential::Credential;
use idm_domain::delivery::Delivery;
use idm_domain::policy::{Policy, PolicyType};
use idm_domain::user::User;
use serde_json::{json, Map, Value};

use crate::auth::HistoryMac;
use crate::error::{AppResult, StoreError};
use crate::history::{
    canonical, client_diff, credential_diff, policy_diff, user_diff, NewEvent, Outcome, StoredEvent,
};
use crate::permit::Permit;
use crate::repos::{transact, Repos, TxMode};
use crate::usecases::Ports;

/// One change of state, as a use case describes it.
#[derive(Debug)]
pub enum Change<'a> {
    /// A new client.
    ClientCreated(&'a Client),
    /// A client's fields changed (compare-and-set on `before.version`).
    ClientUpdated {
        /// As read.
        before: &'a Client,
        /// As it is to be stored.
        after: &'a Client,
    },
    /// A new user.
    UserCreated(&'a User),
    /// A user's fields changed (compare-and-set on `before.version`).
    UserUpdated {
        /// As read.
        before: &'a User,
        /// As it is to be stored.
        after: &'a User,
    },
    /// A user and what hangs on it are deleted (SPEC §12 cascade).
    UserDeleted(&'a User),
    /// The user's last login (success) or last failure was reported.
    UserLoginRecorded {
        /// The user.
        user: &'a User,
        /// Which of the two.
        success: bool,
    },
    /// A new credential.
    CredentialCreated(&'a Credential),
    /// A credential changed (compare-and-set on `before.version`); `action` says why, e.g.
    /// `password.reset`, `credential.unlocked`, `login.failed`.
    CredentialUpdated {
        /// The dotted action name of the history.
        action: &'static str,
        /// As read.
        before: &'a Credential,
        /// As it is to be stored.
        after: &'a Credential,
    },
    /// A credential is deleted.
    CredentialDeleted(&'a Credential),
    /// A new policy.
    PolicyCreated(&'a Policy),
    /// A policy changed (compare-and-set on `before.version`).
    PolicyUpdated {
        /// As read.
        before: &'a Policy,
        /// As it is to be stored.
        after: &'a Policy,
    },
    /// The client's default of a type gives up its mark (part of making another the default;
    /// recorded by that policy's own event).
    PolicyDefaultCleared {
        /// The client's storage identity.
        client_id: &'a str,
        /// The type.
        policy_type: PolicyType,
    },
    /// A role is granted to `user` (or its data room replaced).
    RoleGranted {
        /// The grantee.
        user: &'a User,
        /// The grant.
        grant: &'a RoleGrant,
    },
    /// A role is taken from `user`; `Ok(false)` from [`Tx::apply_revoke`] when it was not held.
    RoleRevoked {
        /// The user.
        user: &'a User,
        /// The role.
        role: Role,
    },
    /// A sealed delivery is queued (part of a reset or create; recorded by that event).
    DeliveryQueued(&'a Delivery),
}

/// The use case's view of one write transaction.
pub struct Tx<'r> {
    repos: &'r mut dyn Repos,
    events: Vec<NewEvent>,
    now: DateTime<Utc>,
}

impl<'r> Tx<'r> {
    /// The repositories, for reads.
    pub fn repos(&mut self) -> &mut dyn Repos {
        self.repos
    }

    /// The time of this transaction.
    pub fn now(&self) -> DateTime<Utc> {
        self.now
    }

    /// Performs `change` and queues its history event. A storage error (a unique rule, a lost
    /// compare-and-set) comes back as is, for the use case to map to its SPEC error.
    pub fn apply(&mut self, permit: &Permit, change: Change<'_>) -> Result<(), StoreError> {
        self.apply_revoke(permit, change).map(|_| ())
    }

    /// [`Tx::apply`] that also tells whether a delete or revoke found anything.
    pub fn apply_revoke(
        &mut self,
        permit: &Permit,
        change: Change<'_>,
    ) -> Result<bool, StoreError> {
        let mut event = self.event(permit, "", Outcome::Success);
        let r = &mut *self.repos;
        let mut found = true;
        match change {
            Change::ClientCreated(c) => {
                r.clients().insert(c)?;
                event.action = "client.created";
                event.client_ext_id = Some(c.ext_id.to_string());
                event.changes = client_diff(None, Some(c));
            }
            Change::ClientUpdated { before, after } => {
                r.clients().update(after, before.version)?;
                event.action = "client.updated";
                event.client_ext_id = Some(after.ext_id.to_string());
                event.changes = client_diff(Some(before), Some(after));
            }
            Change::UserCreated(u) => {
                r.users().insert(u)?;
                event.action = "user.created";
                event.user_ext_id = Some(u.ext_id.to_string());
                event.changes = user_diff(None, Some(u));
            }
            Change::UserUpdated { before, after } => {
                r.users().update(after, before.version)?;
                event.action = "user.updated";
                event.user_ext_id = Some(after.ext_id.to_string());
                event.changes = user_diff(Some(before), Some(after));
            }
            Change::UserDeleted(u) => {
                found = r.users().delete(&u.id)?;
                event.action = "user.deleted";
                event.user_ext_id = Some(u.ext_id.to_string());
                event.changes = user_diff(Some(u), None);
            }
            Change::UserLoginRecorded { user, success } => {
                r.users().record_login(&user.id, success, self.now)?;
                event.action = "login.recorded";
                event.user_ext_id = Some(user.ext_id.to_string());
                event.detail = Some(if success { "success" } else { "failure" }.to_owned());
            }
            Change::CredentialCreated(c) => {
                r.credentials().insert(c)?;
                event.action = "credential.created";
                event.credential_ext_id = Some(c.ext_id.to_string());
                event.changes = credential_diff(None, Some(c));
            }
            Change::CredentialUpdated {
                action,
                before,
                after,
            } => {
                r.credentials().update(after, before.version)?;
                event.action = action;
                event.outcome = outcome_of(action);
                event.credential_ext_id = Some(after.ext_id.to_string());
                event.changes = credential_diff(Some(before), Some(after));
            }
            Change::CredentialDeleted(c) => {
                found = r.credentials().delete(&c.id)?;
                event.action = "credential.deleted";
                event.credential_ext_id = Some(c.ext_id.to_string());
                event.changes = credential_diff(Some(c), None);
            }
            Change::PolicyCreated(p) => {
                r.policies().insert(p)?;
                event.action = "policy.created";
                event.policy_ext_id = Some(p.ext_id.to_string());
                event.changes = policy_diff(None, Some(p));
            }
            Change::PolicyUpdated { before, after } => {
                r.policies().update(after, before.version)?;
                event.action = "policy.updated";
                event.policy_ext_id = Some(after.ext_id.to_string());
                event.changes = policy_diff(Some(before), Some(after));
            }
            Change::PolicyDefaultCleared {
                client_id,
                policy_type,
            } => {
                r.policies()
                    .clear_default(client_id, policy_type, self.now)?;
                return Ok(true);
            }
            Change::RoleGranted { user, grant } => {
                r.roles().upsert_grant(&user.id, grant, self.now)?;
                event.action = "role.granted";
                event.user_ext_id = Some(user.ext_id.to_string());
                event.changes = grant_change(grant);
            }
            Change::RoleRevoked { user, role } => {
                found = r.roles().delete_grant(&user.id, role)?;
                if !found {
                    return Ok(false);
                }
                event.action = "role.revoked";
                event.user_ext_id = Some(user.ext_id.to_string());
                event
                    .changes
                    .insert("role".into(), json!([role.as_str(), Value::Null]));
            }
            Change::DeliveryQueued(d) => {
                r.deliveries().enqueue(d)?;
                return Ok(true);
            }
        }
        if found {
            self.events.push(event);
        }
        Ok(found)
    }

    /// Records an event that changes no row of its own: a refused login, a replayed code, an
    /// issued token.
    pub fn note(
        &mut self,
        permit: &Permit,
        action: &'static str,
        outcome: Outcome,
        credential_ext_id: Option<&str>,
        detail: Option<&str>,
    ) {
        let mut event = self.event(permit, action, outcome);
        event.credential_ext_id = credential_ext_id.map(ToOwned::to_owned);
        event.detail = detail.map(ToOwned::to_owned);
        self.events.push(event);
    }

    fn event(&self, permit: &Permit, action: &'static str, outcome: Outcome) -> NewEvent {
        let target = permit.target();
        NewEvent {
            time: self.now,
            request_id: permit.request_id().map(ToOwned::to_owned),
            action,
            outcome,
            actor: permit.actor().clone(),
            client_ext_id: target.client_ext_id.as_ref().map(ToString::to_string),
            user_ext_id: target.user_ext_id.as_ref().map(ToString::to_string),
            credential_ext_id: None,
            policy_ext_id: None,
            changes: Map::new(),
            detail: None,
        }
    }
}

/// Whether an action records a refusal: the failures and refusals of logins and requests.
fn outcome_of(action: &str) -> Outcome {
    if action.ends_with(".failed") || action.ends_with("Refused") || action.ends_with(".refused") {
        Outcome::Failure
    } else {
        Outcome::Success
    }
}

fn grant_change(grant: &RoleGrant) -> Map<String, Value> {
    let room = match &grant.data_room {
        idm_domain::access::DataRoom::Global => Value::Null,
        idm_domain::access::DataRoom::Clients(set) => {
            json!(set.iter().map(|c| c.as_str()).collect::<Vec<_>>())
        }
    };
    let mut m = Map::new();
    m.insert(
        "role".into(),
        json!([Value::Null, {"role": grant.role.as_str(), "clientExtIds": room}]),
    );
    m
}

/// Runs `work` in one write transaction through the write path, then appends its events to
/// the history in the same transaction.
pub(crate) fn write<T>(
    ports: &Ports,
    mut work: impl FnMut(&mut Tx<'_>) -> AppResult<T>,
) -> AppResult<T> {
    transact(&*ports.uow, TxMode::Write, |repos| {
        // Microseconds: what both databases keep, so the chain hash covers the stored time.
        let now = ports.clock.now();
        let now = now
            .with_nanosecond(now.nanosecond() / 1000 * 1000)
            .unwrap_or(now);
        let mut tx = Tx {
            repos,
            events: Vec::new(),
            now,
        };
        let out = work(&mut tx)?;
        let events = std::mem::take(&mut tx.events);
        append(tx.repos, &*ports.history_mac, events)?;
        Ok(out)
    })
}

/// What the head's MAC is computed under, apart from every event hash.
pub(crate) const HEAD_DOMAIN: &str = "idm history head v1";

/// Appends `events` to the chain: the head is locked until the transaction ends, so appenders
/// on every instance take gapless, ordered places.
pub(crate) fn append(
    repos: &mut dyn Repos,
    mac: &dyn HistoryMac,
    events: Vec<NewEvent>,
) -> Result<(), StoreError> {
    if events.is_empty() {
        return Ok(());
    }
    let history = repos.history();
    let (mut seq, mut prev) = history.head_for_update()?;
    for event in events {
        seq += 1;
        let hash = mac.chain(&prev, &canonical(seq, &event));
        history.insert(
            &StoredEvent {
                seq,
                event,
                hash: hash.clone(),
            },
            &prev,
        )?;
        prev = hash;
    }
    let head_mac = mac.chain(HEAD_DOMAIN, &format!("{seq}:{prev}"));
    history.set_head(seq, &prev, &head_mac)
}
