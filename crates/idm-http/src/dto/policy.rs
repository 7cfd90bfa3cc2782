//! Policy bodies (SPEC §5, §8.4). Parameter values travel as strings both ways; a number in
//! a request is a wrong-shape error of `parameters.<name>`.

use std::collections::BTreeMap;

use idm_domain::policy::{PolicyPatch, PolicyType};
use idm_ports::usecases::{CreatePolicy, PolicyView};
use serde::{Deserialize, Serialize};
use utoipa::openapi::schema::{ObjectBuilder, OneOfBuilder, Schema, Type};
use utoipa::openapi::RefOr;
use utoipa::{PartialSchema, ToSchema};

use super::values::{self, nullable, reference};
use super::{doc, timestamp};

/// `POST /core/v1/:clientExtId/policies` body. Its schema (below) is one object per
/// `policyType`, each with the `parameters` of that type.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct CreatePolicyRequest {
    ext_id: Option<String>,
    name: Option<String>,
    description: Option<String>,
    policy_type: Option<String>,
    default_policy: Option<bool>,
    parameters: Option<BTreeMap<String, String>>,
}

impl PartialSchema for CreatePolicyRequest {
    fn schema() -> RefOr<Schema> {
        let branch =
            |policy_type: PolicyType, parameters: &str| {
                ObjectBuilder::new()
                    .schema_type(Type::Object)
                    .title(Some(policy_type.as_str()))
                    .property("extId", nullable(reference("ExtId")))
                    .property("name", reference("DisplayName"))
                    .property(
                        "description",
                        nullable(ObjectBuilder::new().schema_type(Type::String)),
                    )
                    .property(
                        "policyType",
                        ObjectBuilder::new()
                            .schema_type(Type::String)
                            .enum_values(Some([policy_type.as_str()])),
                    )
                    .property(
                        "defaultPolicy",
                        nullable(ObjectBuilder::new().schema_type(Type::Boolean).description(
                            Some("`true` makes it the client's default of its type."),
                        )),
                    )
                    .property("parameters", nullable(reference(parameters)))
                    .required("name")
                    .required("policyType")
            };
        OneOfBuilder::new()
            .description(Some(
                "A policy of one `policyType` with that type's `parameters`. `extId` is \
                 unique within the client (absent or `null`: generated).",
            ))
            .item(branch(PolicyType::Pwd, "PwdPolicyParameters"))
            .item(branch(PolicyType::Vasco, "VascoPolicyParameters"))
            .item(branch(PolicyType::Oath, "OathPolicyParameters"))
            .into()
    }
}

impl ToSchema for CreatePolicyRequest {
    fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
        schemas.extend([
            ("ExtId".to_owned(), values::ExtId::schema()),
            ("DisplayName".to_owned(), values::DisplayName::schema()),
            (
                "PwdPolicyParameters".to_owned(),
                values::PwdPolicyParameters::schema(),
            ),
            (
                "VascoPolicyParameters".to_owned(),
                values::VascoPolicyParameters::schema(),
            ),
            (
                "OathPolicyParameters".to_owned(),
                values::OathPolicyParameters::schema(),
            ),
        ]);
    }
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
    /// A new name (rules of the create); absent or `null`: unchanged.
    #[schema(value_type = Option<values::DisplayName>)]
    name: Option<String>,
    description: Option<String>,
    /// `true` makes it the client's default of its type; `false` is refused for the current
    /// default (make another policy the default instead).
    default_policy: Option<bool>,
    #[schema(value_type = Option<values::AnyPolicyParameters>)]
    parameters: Option<BTreeMap<String, String>>,
    /// The version read; another stored version answers 409.
    #[serde(default, deserialize_with = "super::integer")]
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
            parameters: p.parameters.effective(),
            created: timestamp(p.created),
            last_modified: timestamp(p.last_modified),
            version: p.version,
        }
    }
}
