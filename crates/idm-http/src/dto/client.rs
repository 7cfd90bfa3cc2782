//! Client bodies (SPEC §4.1, §8.1).

use idm_domain::client::{Client, ClientPatch};
use idm_domain::patch::Patch;
use idm_ports::usecases::CreateClient;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{timestamp, tri_state, values};

/// `POST /core/v1/clients` body.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct CreateClientRequest {
    /// Unique system-wide; absent or `null`: generated (a UUID).
    #[schema(value_type = Option<values::ExtId>)]
    ext_id: Option<String>,
    /// Unique system-wide.
    #[schema(value_type = values::DisplayName)]
    name: Option<String>,
}

impl From<CreateClientRequest> for CreateClient {
    fn from(r: CreateClientRequest) -> Self {
        CreateClient {
            ext_id: r.ext_id,
            name: r.name,
        }
    }
}

/// `PATCH /core/v1/clients/:extId` body (SPEC §12). `name` absent keeps the name; `null` or
/// blank is refused like a missing name on create.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct PatchClientRequest {
    /// The new name (rules of the create); absent: unchanged. `null` is refused.
    #[serde(default, deserialize_with = "tri_state")]
    #[schema(value_type = values::DisplayName)]
    name: Patch<String>,
    /// The version read; another stored version answers 409.
    #[serde(default, deserialize_with = "super::integer")]
    version: Option<i64>,
}

impl From<PatchClientRequest> for ClientPatch {
    fn from(r: PatchClientRequest) -> Self {
        ClientPatch {
            name: r.name,
            version: r.version,
        }
    }
}

/// A client as responses show it.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ClientResponse {
    ext_id: String,
    name: String,
    #[schema(format = DateTime)]
    created: String,
    #[schema(format = DateTime)]
    last_modified: String,
    version: i64,
}

impl From<&Client> for ClientResponse {
    fn from(c: &Client) -> Self {
        ClientResponse {
            ext_id: c.ext_id.to_string(),
            name: c.name.clone(),
            created: timestamp(c.created),
            last_modified: timestamp(c.last_modified),
            version: c.version,
        }
    }
}
