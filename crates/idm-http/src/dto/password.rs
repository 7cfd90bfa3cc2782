//! Password-credential bodies (SPEC §6.1, §8.5). A response shows the credential's common
//! fields or the generated password's fragment, never the hash.

use idm_ports::usecases::{CreatePassword, PatchPassword};
use serde::{Deserialize, Serialize};

/// `POST …/users/:userExtId/password` body.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct CreatePasswordRequest {
    ext_id: Option<String>,
    policy_ext_id: Option<String>,
    state_name: Option<String>,
    password: Option<String>,
}

impl From<CreatePasswordRequest> for CreatePassword {
    fn from(r: CreatePasswordRequest) -> Self {
        CreatePassword {
            ext_id: r.ext_id,
            policy_ext_id: r.policy_ext_id,
            state_name: r.state_name,
            password: r.password,
        }
    }
}

/// `PATCH …/users/:userExtId/password` body.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct PatchPasswordRequest {
    state_name: Option<String>,
    modification_comment: Option<String>,
    version: Option<i64>,
}

impl From<PatchPasswordRequest> for PatchPassword {
    fn from(r: PatchPasswordRequest) -> Self {
        PatchPassword {
            state_name: r.state_name,
            modification_comment: r.modification_comment,
            version: r.version,
        }
    }
}

/// The caller's part of a generated password; on create also the new credential's extId.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct FragmentResponse {
    pub(crate) password_fragment: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) ext_id: Option<String>,
}

impl std::fmt::Debug for FragmentResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FragmentResponse")
            .field("ext_id", &self.ext_id)
            .finish_non_exhaustive()
    }
}
