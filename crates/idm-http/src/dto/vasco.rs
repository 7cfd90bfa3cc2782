//! VASCO credential bodies (SPEC §6.4, §8.7): the common credential fields plus the Digipass
//! data blocks as stored.

use idm_domain::credential::CredentialSecret;
use idm_ports::repos::CredentialRecord;
use idm_ports::usecases::{CreateVasco, VascoTokenInput};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::credential::CredentialResponse;
use super::{doc, values};

/// One entry of `vascoTokens` in a create body.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct VascoTokenRequest {
    #[schema(value_type = values::AuthMode)]
    auth_mode: Option<String>,
    #[schema(value_type = values::VascoDataBlock)]
    data: Option<String>,
}

/// `POST /core/v1/:clientExtId/vasco` body.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct CreateVascoRequest {
    /// Unique among the client's credentials; absent or `null`: generated (a UUID).
    #[schema(value_type = Option<values::ExtId>)]
    ext_id: Option<String>,
    /// A `VascoPolicy` of the client; absent or `null`: the client's default `VascoPolicy`.
    #[schema(value_type = Option<values::ExtId>)]
    policy_ext_id: Option<String>,
    /// Absent or `null`: `initial`.
    #[schema(value_type = Option<doc::CredentialStateName>)]
    state_name: Option<String>,
    /// The Digipass data blocks, one per `authMode` (the `authMode`s distinct).
    #[schema(value_type = Vec<VascoTokenRequest>, min_items = 1)]
    vasco_tokens: Option<Vec<VascoTokenRequest>>,
}

impl From<CreateVascoRequest> for CreateVasco {
    fn from(r: CreateVascoRequest) -> Self {
        CreateVasco {
            ext_id: r.ext_id,
            policy_ext_id: r.policy_ext_id,
            state_name: r.state_name,
            vasco_tokens: r.vasco_tokens.map(|tokens| {
                tokens
                    .into_iter()
                    .map(|t| VascoTokenInput {
                        auth_mode: t.auth_mode,
                        data: t.data,
                    })
                    .collect()
            }),
        }
    }
}

/// One stored Digipass data block as responses show it.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct VascoTokenDto {
    auth_mode: String,
    data: String,
}

/// A VASCO credential: the common fields and `vascoTokens`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct VascoResponse {
    #[serde(flatten)]
    common: CredentialResponse,
    /// Absent only if the record is not a VASCO credential (the use case never answers one).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    vasco_tokens: Option<Vec<VascoTokenDto>>,
}

impl From<&CredentialRecord> for VascoResponse {
    fn from(r: &CredentialRecord) -> Self {
        let vasco_tokens = match &r.credential.secret {
            CredentialSecret::Vasco { tokens } => Some(
                tokens
                    .iter()
                    .map(|t| VascoTokenDto {
                        auth_mode: t.auth_mode.clone(),
                        data: t.data.clone(),
                    })
                    .collect(),
            ),
            _ => None,
        };
        VascoResponse {
            common: CredentialResponse::from(r),
            vasco_tokens,
        }
    }
}
