//! The history (SPEC §13): what one event says, and the hash chain that makes it
//! tamper-evident. Events are made only by the write path ([`crate::write`]); no event ever holds
//! a password, hash, secret, fragment, token or code — the diffs below name only public fields.

use chrono::{DateTime, Utc};
use idm_domain::client::Client;
use idm_domain::credential::Credential;
use idm_domain::policy::Policy;
use idm_domain::user::User;
use serde_json::{json, Map, Value};

use crate::permit::Actor;

/// Whether the recorded action succeeded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// It happened.
    Success,
    /// It was attempted and refused.
    Failure,
}

impl Outcome {
    /// The name the API shows.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Success => "success",
            Outcome::Failure => "failure",
        }
    }
}

/// One event before it is stored: the write path fills it from the permit and the change.
#[derive(Debug, Clone, PartialEq)]
pub struct NewEvent {
    /// When.
    pub time: DateTime<Utc>,
    /// The request it came from.
    pub request_id: Option<String>,
    /// A dotted action name, e.g. `user.created` (see [`ACTIONS`]).
    pub action: &'static str,
    /// Success or failure.
    pub outcome: Outcome,
    /// Who acted.
    pub actor: Actor,
    /// The target's client extId.
    pub client_ext_id: Option<String>,
    /// The target's user extId.
    pub user_ext_id: Option<String>,
    /// The target's credential extId.
    pub credential_ext_id: Option<String>,
    /// The target's policy extId.
    pub policy_ext_id: Option<String>,
    /// Field → `[before, after]` of public fields only.
    pub changes: Map<String, Value>,
    /// A short free text (never a secret).
    pub detail: Option<String>,
}

/// Which events a history query wants (SPEC §13 filters, plus the caller's data room).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EventFilter {
    /// Only events whose target client is one of these; `None` = every client. Events with no
    /// target client are included only when `include_system` is set.
    pub data_room: Option<Vec<String>>,
    /// Whether events without a target client (bootstrap, operator) are visible.
    pub include_system: bool,
    /// The target client.
    pub client_ext_id: Option<String>,
    /// A user as target or actor (within `client_ext_id` when given).
    pub user_ext_id: Option<String>,
    /// The action name.
    pub action: Option<String>,
    /// At or after.
    pub from: Option<DateTime<Utc>>,
    /// Before.
    pub to: Option<DateTime<Utc>>,
    /// The request ID.
    pub request_id: Option<String>,
}

/// Rebuilds the actor of a stored event from its JSON form.
pub fn actor_from_json(value: &Value) -> Option<Actor> {
    if let Some(system) = value.get("system").and_then(Value::as_str) {
        return match system {
            "bootstrap" => Some(Actor::Bootstrap),
            "operator" => Some(Actor::Operator),
            _ => None,
        };
    }
    let field = |name: &str| value.get(name).and_then(Value::as_str);
    Some(Actor::User {
        client_ext_id: idm_domain::ExtId::parse(field("clientExtId")?)?,
        user_ext_id: idm_domain::ExtId::parse(field("userExtId")?)?,
        login_id: field("loginId")?.to_owned(),
    })
}

/// The action name as stored, mapped back to the static name of [`ACTIONS`].
pub fn action_name(stored: &str) -> Option<&'static str> {
    ACTIONS.iter().copied().find(|a| *a == stored)
}

/// A stored event: its place in the chain and the chain hash over it.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredEvent {
    /// Position in the history, gapless from 1.
    pub seq: i64,
    /// The event.
    pub event: NewEvent,
    /// Keyed hash over the previous event's hash and this event's canonical form.
    pub hash: String,
}

/// The canonical text of an event that the chain hash covers: every field, in a fixed order.
pub fn canonical(seq: i64, e: &NewEvent) -> String {
    json!([
        seq,
        e.time.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
        e.request_id,
        e.action,
        e.outcome.as_str(),
        actor_json(&e.actor),
        e.client_ext_id,
        e.user_ext_id,
        e.credential_ext_id,
        e.policy_ext_id,
        Value::Object(e.changes.clone()),
        e.detail,
    ])
    .to_string()
}

/// The actor as SPEC §13 shows it.
pub fn actor_json(actor: &Actor) -> Value {
    match actor {
        Actor::User {
            client_ext_id,
            user_ext_id,
            login_id,
        } => {
            json!({"clientExtId": client_ext_id.as_str(), "userExtId": user_ext_id.as_str(), "loginId": login_id})
        }
        Actor::Bootstrap => json!({"system": "bootstrap"}),
        Actor::Operator => json!({"system": "operator"}),
    }
}

/// Every action name the history uses, for the OpenAPI document and the `action` filter.
pub const ACTIONS: &[&str] = &[
    "client.created",
    "client.updated",
    "user.created",
    "user.updated",
    "user.deleted",
    "role.granted",
    "role.revoked",
    "policy.created",
    "policy.updated",
    "credential.created",
    "credential.updated",
    "credential.deleted",
    "credential.locked",
    "credential.unlocked",
    "password.reset",
    "password.changed",
    "vasco.assigned",
    "vasco.unassigned",
    "oath.resynced",
    "login.recorded",
    "login.attempted",
    "login.succeeded",
    "login.failed",
    "login.refused",
    "oath.replayRefused",
    "auth.failed",
    "token.issued",
    "access.denied",
    "storage.resealed",
];

fn put<T: PartialEq + Into<Value> + Clone>(
    changes: &mut Map<String, Value>,
    field: &str,
    a: T,
    b: T,
) {
    if a != b {
        changes.insert(field.to_owned(), json!([a.into(), b.into()]));
    }
}

fn ts(t: Option<DateTime<Utc>>) -> Value {
    t.map_or(Value::Null, |t| {
        Value::String(t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
    })
}

/// The public fields of a user that changed (all of them against `None` for a create/delete).
pub fn user_diff(before: Option<&User>, after: Option<&User>) -> Map<String, Value> {
    let view = |u: Option<&User>| -> Vec<(&'static str, Value)> {
        let Some(u) = u else { return Vec::new() };
        vec![
            ("loginId", json!(u.login_id)),
            ("externalId", json!(u.external_id)),
            ("userState", json!(u.state.as_str())),
            ("languageCode", json!(u.language.as_str())),
            ("isTechnicalUser", json!(u.is_technical_user)),
            ("name.title", json!(u.name.title)),
            ("name.firstName", json!(u.name.first_name)),
            ("name.familyName", json!(u.name.family_name)),
            ("contacts.email", json!(u.contacts.email)),
            ("contacts.mobile", json!(u.contacts.mobile)),
        ]
    };
    diff_views(view(before), view(after))
}

/// The public fields of a credential that changed; never its hash or secret.
pub fn credential_diff(
    before: Option<&Credential>,
    after: Option<&Credential>,
) -> Map<String, Value> {
    let view = |c: Option<&Credential>| -> Vec<(&'static str, Value)> {
        let Some(c) = c else { return Vec::new() };
        vec![
            ("type", json!(c.credential_type().as_str())),
            ("stateName", json!(c.state.as_str())),
            ("stateChangeReason", json!(c.state_change_reason.as_str())),
            ("failedLoginCount", json!(c.failed_login_count)),
            ("successfulLoginCount", json!(c.successful_login_count)),
            ("resetCount", json!(c.reset_count)),
            ("lockedUntil", ts(c.locked_until)),
            ("modificationComment", json!(c.modification_comment)),
            ("validity.to", ts(Some(c.validity_to))),
            ("assigned", json!(c.user_id.is_some())),
        ]
    };
    diff_views(view(before), view(after))
}

/// The fields of a policy that changed.
pub fn policy_diff(before: Option<&Policy>, after: Option<&Policy>) -> Map<String, Value> {
    let view = |p: Option<&Policy>| -> Vec<(&'static str, Value)> {
        let Some(p) = p else { return Vec::new() };
        vec![
            ("name", json!(p.name)),
            ("description", json!(p.description)),
            ("policyType", json!(p.policy_type.as_str())),
            ("defaultPolicy", json!(p.default_policy)),
            ("parameters", json!(p.parameters.explicit())),
        ]
    };
    diff_views(view(before), view(after))
}

/// The fields of a client that changed.
pub fn client_diff(before: Option<&Client>, after: Option<&Client>) -> Map<String, Value> {
    let view = |c: Option<&Client>| -> Vec<(&'static str, Value)> {
        let Some(c) = c else { return Vec::new() };
        vec![("name", json!(c.name))]
    };
    diff_views(view(before), view(after))
}

fn diff_views(
    before: Vec<(&'static str, Value)>,
    after: Vec<(&'static str, Value)>,
) -> Map<String, Value> {
    let mut changes = Map::new();
    let names: Vec<&'static str> = if after.is_empty() {
        before.iter().map(|(n, _)| *n).collect()
    } else {
        after.iter().map(|(n, _)| *n).collect()
    };
    let get = |v: &[(&'static str, Value)], n: &str| {
        v.iter()
            .find(|(k, _)| *k == n)
            .map_or(Value::Null, |(_, v)| v.clone())
    };
    for name in names {
        let (b, a) = (get(&before, name), get(&after, name));
        if b.is_null() && a.is_null() {
            continue;
        }
        put(&mut changes, name, b, a);
    }
    changes
}
