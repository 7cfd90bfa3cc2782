//! Role-grant bodies (SPEC §8.3).

use idm_domain::access::{DataRoom, RoleGrant};
use idm_ports::usecases::GrantRole;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::values;

/// `POST …/roles` body; `clientExtIds` absent (or `null`) means a global data room.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct GrantRoleRequest {
    /// Granting a role again replaces its data room.
    #[schema(value_type = values::RoleName)]
    role: Option<String>,
    /// The data room: these clients; absent or `null`: global. Within the caller's own rights
    /// and data rooms (403 `errors.potentialPrivilegeEscalation` otherwise).
    #[schema(value_type = Option<Vec<values::ExtId>>, min_items = 1)]
    client_ext_ids: Option<Vec<String>>,
}

impl From<GrantRoleRequest> for GrantRole {
    fn from(r: GrantRoleRequest) -> Self {
        GrantRole {
            role: r.role,
            client_ext_ids: r.client_ext_ids,
        }
    }
}

/// A grant as responses show it; `clientExtIds` omitted for a global data room.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct GrantResponse {
    role: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    client_ext_ids: Option<Vec<String>>,
}

impl From<&RoleGrant> for GrantResponse {
    fn from(g: &RoleGrant) -> Self {
        GrantResponse {
            role: g.role.as_str(),
            client_ext_ids: match &g.data_room {
                DataRoom::Global => None,
                DataRoom::Clients(set) => Some(set.iter().map(ToString::to_string).collect()),
            },
        }
    }
}
