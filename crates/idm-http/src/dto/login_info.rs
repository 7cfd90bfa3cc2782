//! Bulk login-information bodies (SPEC §6.2).

use idm_domain::DomainError;
use idm_ports::usecases::{
    CredentialLoginReport, LoginInfoResult, LoginItem, LoginItemError, LoginReport,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::doc;
use super::timestamp;

/// `POST …/users/:userExtId/bulk-login-info` body. Every field is optional here: the use
/// case reports a missing one as SPEC §6.2's `errors.nullParameter`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct LoginInfoRequest {
    /// Mandatory (`null` is refused).
    #[schema(value_type = bool)]
    user_login_successful: Option<bool>,
    /// At most 100 entries, each applied on its own (an entry's problem is a per-entry error
    /// of the 200 answer). A `null` entry counts as an entry whose fields are all missing.
    #[schema(max_items = 100)]
    credentials: Option<Vec<Option<CredentialLoginRequest>>>,
}

/// One entry of `credentials`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct CredentialLoginRequest {
    success: Option<bool>,
    credential_ext_id: Option<String>,
}

impl From<LoginInfoRequest> for LoginReport {
    fn from(r: LoginInfoRequest) -> Self {
        LoginReport {
            user_login_successful: r.user_login_successful,
            credentials: r.credentials.map(|entries| {
                entries
                    .into_iter()
                    .map(|entry| entry.map(Into::into).unwrap_or_default())
                    .collect()
            }),
        }
    }
}

impl From<CredentialLoginRequest> for CredentialLoginReport {
    fn from(r: CredentialLoginRequest) -> Self {
        CredentialLoginReport {
            success: r.success,
            credential_ext_id: r.credential_ext_id,
        }
    }
}

/// The 200 answer: applied items, per-entry errors (`[]` when none) and the user's dates.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct LoginInfoResponse {
    successes: Vec<LoginItemDto>,
    errors: Vec<LoginErrorDto>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false, format = DateTime)]
    last_login: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false, format = DateTime)]
    last_login_failure: Option<String>,
}

/// One applied outcome. Success items carry the success dates and counter, failure items the
/// failure ones; the credential fields are absent on the user-only item.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
struct LoginItemDto {
    status_code: i32,
    description: &'static str,
    user_ext_id: String,
    client_ext_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    credential_ext_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<doc::CredentialTypeName>, nullable = false)]
    credential_type: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false, format = DateTime)]
    user_last_login: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false, format = DateTime)]
    user_last_login_failure: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false, format = DateTime)]
    credential_last_login: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false, format = DateTime)]
    credential_last_login_failure: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    credential_success_counter: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    credential_failure_counter: Option<i64>,
}

/// A per-entry error: the SPEC §2 error item with its `identifier`.
#[derive(Debug, Serialize, ToSchema)]
struct LoginErrorDto {
    code: &'static str,
    message: String,
    identifier: IdentifierDto,
}

/// `errors[].identifier` of a bulk operation (SPEC §2).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
struct IdentifierDto {
    client_ext_id: String,
    user_ext_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    credential_ext_id: Option<String>,
}

impl From<&LoginItem> for LoginItemDto {
    fn from(item: &LoginItem) -> Self {
        let success = item.outcome.is_success();
        let credential = item.credential.as_ref().map(|r| &r.credential);
        let mut dto = LoginItemDto {
            status_code: item.outcome.status_code(),
            description: item.outcome.description(),
            user_ext_id: item.user_ext_id.to_string(),
            client_ext_id: item.client_ext_id.to_string(),
            credential_ext_id: credential.map(|c| c.ext_id.to_string()),
            credential_type: credential.map(|c| c.credential_type().as_str()),
            user_last_login: None,
            user_last_login_failure: None,
            credential_last_login: None,
            credential_last_login_failure: None,
            credential_success_counter: None,
            credential_failure_counter: None,
        };
        if success {
            dto.user_last_login = item.user_last_login.map(timestamp);
            dto.credential_last_login =
                credential.and_then(|c| c.last_successful_login.map(timestamp));
            dto.credential_success_counter = credential.map(|c| c.successful_login_count);
        } else {
            dto.user_last_login_failure = item.user_last_login_failure.map(timestamp);
            dto.credential_last_login_failure =
                credential.and_then(|c| c.last_failed_login.map(timestamp));
            dto.credential_failure_counter = credential.map(|c| c.failed_login_count);
        }
        dto
    }
}

impl From<&LoginItemError> for LoginErrorDto {
    fn from(e: &LoginItemError) -> Self {
        let error: &DomainError = &e.error;
        LoginErrorDto {
            code: error.code(),
            message: error.to_string(),
            identifier: IdentifierDto {
                client_ext_id: e.client_ext_id.clone(),
                user_ext_id: e.user_ext_id.clone(),
                credential_ext_id: e.credential_ext_id.clone(),
            },
        }
    }
}

impl From<&LoginInfoResult> for LoginInfoResponse {
    fn from(r: &LoginInfoResult) -> Self {
        LoginInfoResponse {
            successes: r.items.iter().map(LoginItemDto::from).collect(),
            errors: r.errors.iter().map(LoginErrorDto::from).collect(),
            last_login: r.last_login.map(timestamp),
            last_login_failure: r.last_login_failure.map(timestamp),
        }
    }
}
