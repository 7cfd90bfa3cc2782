//! Client bodies (SPEC §4.1, §8.1).

use idm_domain::client::Client;
use idm_ports::usecases::CreateClient;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::timestamp;

/// `POST /core/v1/clients` body.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct CreateClientRequest {
    ext_id: Option<String>,
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
