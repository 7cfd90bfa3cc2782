//! Password-credential bodies (SPEC §6.1, §8.5). A response shows the credential's common
//! fields or the generated password's fragment, never the hash.

use idm_ports::usecases::{CreatePassword, PatchPassword};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::credential::CredentialResponse;
use super::{doc, values};

/// `POST …/users/:userExtId/password` body.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct CreatePasswordRequest {
    /// Unique among the client's credentials; absent or `null`: generated (a UUID).
    #[schema(value_type = Option<values::ExtId>)]
    ext_id: Option<String>,
    /// A `PwdPolicy` of the client; absent or `null`: the client's default `PwdPolicy`.
    #[schema(value_type = Option<values::ExtId>)]
    policy_ext_id: Option<String>,
    /// Absent or `null`: `active`.
    #[schema(value_type = Option<doc::CredentialStateName>)]
    state_name: Option<String>,
    /// Must be absent when the policy's `resetCodeEnabled` is true (the server generates the
    /// password); otherwise mandatory, `minLength`–`maxLength` characters of the policy.
    #[schema(format = Password)]
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
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct PatchPasswordRequest {
    #[schema(value_type = Option<doc::CredentialStateName>)]
    state_name: Option<String>,
    modification_comment: Option<String>,
    #[serde(default, deserialize_with = "super::integer")]
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
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct FragmentResponse {
    pub(crate) password_fragment: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub(crate) ext_id: Option<String>,
}

impl std::fmt::Debug for FragmentResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FragmentResponse")
            .field("ext_id", &self.ext_id)
            .finish_non_exhaustive()
    }
}

/// The 201 body of `POST …/password`: the fragment when the server generated the password,
/// the credential when the caller supplied it. Documentation only.
#[derive(ToSchema)]
#[serde(untagged)]
#[allow(dead_code, clippy::large_enum_variant)] // Never built.
pub(crate) enum PasswordCreated {
    /// Generated password: the caller's fragment and the new credential's extId.
    Fragment(FragmentResponse),
    /// Supplied password: the new credential.
    Credential(CredentialResponse),
}
