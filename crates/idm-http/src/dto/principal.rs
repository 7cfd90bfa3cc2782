//! The caller's own permissions (SPEC §12 `GET /principal/v1/permissions`).

use idm_domain::access::DataRoom;
use idm_ports::usecases::Permissions;
use serde::Serialize;
use utoipa::ToSchema;

use super::role::GrantResponse;

/// One right the caller holds; `clientExtIds` omitted when it holds it globally.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct RightResponse {
    /// `AccessControl.<Right>`.
    #[schema(example = "AccessControl.UserView")]
    right: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    client_ext_ids: Option<Vec<String>>,
}

/// The caller's grants, and every right they give with where it applies (SPEC order).
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct PermissionsResponse {
    grants: Vec<GrantResponse>,
    rights: Vec<RightResponse>,
}

fn client_ext_ids(room: &DataRoom) -> Option<Vec<String>> {
    match room {
        DataRoom::Global => None,
        DataRoom::Clients(set) => Some(set.iter().map(ToString::to_string).collect()),
    }
}

impl From<&Permissions> for PermissionsResponse {
    fn from(p: &Permissions) -> Self {
        PermissionsResponse {
            grants: p.grants.iter().map(GrantResponse::from).collect(),
            rights: p
                .rights
                .iter()
                .map(|(right, room)| RightResponse {
                    right: format!("AccessControl.{right}"),
                    client_ext_ids: client_ext_ids(room),
                })
                .collect(),
        }
    }
}
