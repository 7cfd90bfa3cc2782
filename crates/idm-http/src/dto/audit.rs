//! History events as the API shows them (SPEC §13).

use chrono::SecondsFormat;
use idm_ports::history::{actor_json, StoredEvent};
use serde::Serialize;
use serde_json::{Map, Value};
use utoipa::ToSchema;

/// One history event. Never holds a password, hash, secret, fragment, token or code.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct EventResponse {
    /// Position in the history.
    seq: i64,
    /// When (RFC 3339, UTC).
    time: String,
    /// The request it came from.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    request_id: Option<String>,
    /// A dotted action name, e.g. `user.created`, `login.failed`.
    #[schema(example = "password.reset")]
    action: String,
    /// `success` or `failure`.
    #[schema(example = "success")]
    outcome: String,
    /// `{"clientExtId","userExtId","loginId"}` or `{"system": "bootstrap"|"operator"}`.
    #[schema(value_type = Object)]
    actor: Value,
    /// `{"clientExtId"?, "userExtId"?, "credentialExtId"?, "policyExtId"?}`.
    #[schema(value_type = Object)]
    target: Value,
    /// Field → `[before, after]` of public fields.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>, nullable = false)]
    changes: Option<Value>,
    /// A short free text.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    detail: Option<String>,
}

impl From<&StoredEvent> for EventResponse {
    fn from(s: &StoredEvent) -> Self {
        let e = &s.event;
        let mut target = Map::new();
        for (name, value) in [
            ("clientExtId", &e.client_ext_id),
            ("userExtId", &e.user_ext_id),
            ("credentialExtId", &e.credential_ext_id),
            ("policyExtId", &e.policy_ext_id),
        ] {
            if let Some(v) = value {
                target.insert(name.into(), Value::String(v.clone()));
            }
        }
        EventResponse {
            seq: s.seq,
            time: e.time.to_rfc3339_opts(SecondsFormat::Millis, true),
            request_id: e.request_id.clone(),
            action: e.action.to_owned(),
            outcome: e.outcome.as_str().to_owned(),
            actor: actor_json(&e.actor),
            target: Value::Object(target),
            changes: (!e.changes.is_empty()).then(|| Value::Object(e.changes.clone())),
            detail: e.detail.clone(),
        }
    }
}
