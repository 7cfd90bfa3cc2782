//! Credential bodies: the common fields of SPEC §4.3. Never a hash or a secret.

use idm_ports::repos::CredentialRecord;
use serde::Serialize;
use utoipa::ToSchema;

use super::doc;
use super::timestamp;

/// `validity` of a credential.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ValidityDto {
    #[schema(format = DateTime)]
    from: String,
    #[schema(format = DateTime)]
    to: String,
}

/// A credential's common fields as responses show them.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct CredentialResponse {
    #[schema(format = DateTime)]
    created: String,
    #[schema(format = DateTime)]
    last_modified: String,
    version: i64,
    ext_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    user_ext_id: Option<String>,
    policy_ext_id: String,
    #[schema(value_type = doc::CredentialStateName)]
    state_name: &'static str,
    state_change_reason: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    state_change_detail: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false, format = DateTime)]
    last_successful_login_date: Option<String>,
    successful_login_count: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false, format = DateTime)]
    last_failed_login_date: Option<String>,
    failed_login_count: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    modification_comment: Option<String>,
    #[serde(rename = "type")]
    #[schema(value_type = doc::CredentialTypeName)]
    credential_type: &'static str,
    validity: ValidityDto,
}

impl From<&CredentialRecord> for CredentialResponse {
    fn from(r: &CredentialRecord) -> Self {
        let c = &r.credential;
        CredentialResponse {
            created: timestamp(c.created),
            last_modified: timestamp(c.last_modified),
            version: c.version,
            ext_id: c.ext_id.to_string(),
            user_ext_id: r.user_ext_id.as_ref().map(ToString::to_string),
            policy_ext_id: r.policy_ext_id.to_string(),
            state_name: c.state.as_str(),
            state_change_reason: c.state_change_reason.as_str(),
            state_change_detail: c.state_change_detail.clone(),
            last_successful_login_date: c.last_successful_login.map(timestamp),
            successful_login_count: c.successful_login_count,
            last_failed_login_date: c.last_failed_login.map(timestamp),
            failed_login_count: c.failed_login_count,
            modification_comment: c.modification_comment.clone(),
            credential_type: c.secret.credential_type().as_str(),
            validity: ValidityDto {
                from: timestamp(c.validity_from),
                to: timestamp(c.validity_to),
            },
        }
    }
}
