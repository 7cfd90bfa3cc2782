//! Policy bodies (SPEC §5, §8.4). Parameter values travel as strings both ways; a number in
//! a request is a wrong-shape error of `parameters.<name>`.

use std::collections::BTreeMap;

use idm_domain::policy::PolicyPatch;
use idm_ports::usecases::{CreatePolicy, PolicyView};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::doc;
use super::timestamp;

/// `POST /core/v1/:clientExtId/policies` body.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct CreatePolicyRequest {
    ext_id: Option<String>,
    name: Option<String>,
    description: Option<String>,
    #[schema(value_type = Option<doc::PolicyTypeName>)]
    policy_type: Option<String>,
    default_policy: Option<bool>,
    parameters: Option<BTreeMap<String, String>>,
}

impl From<CreatePolicyRequest> for CreatePolicy {
    fn from(r: CreatePolicyRequest) -> Self {
        CreatePolicy {
            ext_id: r.ext_id,
            name: r.name,
            description: r.description,
            policy_type: r.policy_type,
            default_policy: r.default_policy.unwrap_or(false),
            parameters: r.parameters.unwrap_or_default(),
        }
    }
}

/// `PATCH /core/v1/:clientExtId/policies/:extId` body.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct PatchPolicyRequest {
    name: Option<String>,
    description: Option<String>,
    default_policy: Option<bool>,
    parameters: Option<BTreeMap<String, String>>,
    version: Option<i64>,
}

impl From<PatchPolicyRequest> for PolicyPatch {
    fn from(r: PatchPolicyRequest) -> Self {
        PolicyPatch {
            name: r.name,
            description: r.description,
            default_policy: r.default_policy,
            parameters: r.parameters,
            version: r.version,
        }
    }
}

/// A policy as responses show it, with every parameter's effective value.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct PolicyResponse {
    ext_id: String,
    client_ext_id: String,
    name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    description: Option<String>,
    #[schema(value_type = doc::PolicyTypeName)]
    policy_type: &'static str,
    default_policy: bool,
    parameters: BTreeMap<String, String>,
    #[schema(format = DateTime)]
    created: String,
    #[schema(format = DateTime)]
    last_modified: String,
    version: i64,
}

impl From<&PolicyView> for PolicyResponse {
    fn from(v: &PolicyView) -> Self {
        let p = &v.policy;
        PolicyResponse {
            ext_id: p.ext_id.to_string(),
            client_ext_id: v.client_ext_id.to_string(),
            name: p.name.clone(),
            description: p.description.clone(),
            policy_type: p.policy_type.as_str(),
            default_policy: p.default_policy,
            parameters: p.parameters.effective(p.policy_type),
            created: timestamp(p.created),
            last_modified: timestamp(p.last_modified),
            version: p.version,
        }
    }
}
