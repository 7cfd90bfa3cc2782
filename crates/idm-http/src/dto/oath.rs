//! OATH credential bodies (SPEC §6.5, §8.6). The sealed secret is shown as stored; the
//! enrolment `uri` (which holds the plain secret) only in the create answer. No `Debug`
//! here prints either.

use idm_domain::credential::{CredentialSecret, OathDetails};
use idm_ports::repos::CredentialRecord;
use idm_ports::usecases::CreateOath;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::credential::CredentialResponse;
use super::{doc, values};

/// `POST …/users/:userExtId/oath-credentials` body.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct CreateOathRequest {
    /// Unique among the client's credentials; absent or `null`: generated (a UUID).
    #[schema(value_type = Option<values::ExtId>)]
    ext_id: Option<String>,
    /// An `OathPolicy` of the client; absent or `null`: the client's default `OathPolicy`.
    #[schema(value_type = Option<values::ExtId>)]
    policy_ext_id: Option<String>,
    /// Shown by the authenticator app (trimmed).
    #[schema(value_type = values::DisplayName)]
    label: Option<String>,
    /// Absent or `null`: `active`.
    #[schema(value_type = Option<doc::CredentialStateName>)]
    state_name: Option<String>,
}

impl From<CreateOathRequest> for CreateOath {
    fn from(r: CreateOathRequest) -> Self {
        CreateOath {
            ext_id: r.ext_id,
            policy_ext_id: r.policy_ext_id,
            label: r.label,
            state_name: r.state_name,
        }
    }
}

/// The OATH-specific fields of a response.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
struct OathFieldsDto {
    issuer: String,
    authentication_method: String,
    hashing_algorithm: String,
    digits: i32,
    period: i32,
    counter: i64,
    /// The sealed form (SPEC §4.5), never the plain secret.
    secret: String,
    label: String,
}

impl From<&OathDetails> for OathFieldsDto {
    fn from(d: &OathDetails) -> Self {
        OathFieldsDto {
            issuer: d.issuer.clone(),
            authentication_method: d.authentication_method.clone(),
            hashing_algorithm: d.hashing_algorithm.clone(),
            digits: d.digits,
            period: d.period,
            counter: d.counter,
            secret: d.encrypted_secret.clone(),
            label: d.label.clone(),
        }
    }
}

/// An OATH credential: the common fields, the OATH fields and, on create only, `uri`.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct OathResponse {
    #[serde(flatten)]
    common: CredentialResponse,
    /// Absent only if the record is not an OATH credential (the use case never answers one).
    #[serde(flatten)]
    #[schema(value_type = OathFieldsDto)]
    oath: Option<OathFieldsDto>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    uri: Option<String>,
}

impl OathResponse {
    /// The create answer: the credential and its enrolment URI.
    pub(crate) fn with_uri(record: &CredentialRecord, uri: String) -> Self {
        OathResponse {
            uri: Some(uri),
            ..OathResponse::from(record)
        }
    }
}

impl From<&CredentialRecord> for OathResponse {
    fn from(r: &CredentialRecord) -> Self {
        let oath = match &r.credential.secret {
            CredentialSecret::Oath(d) => Some(OathFieldsDto::from(d)),
            _ => None,
        };
        OathResponse {
            common: CredentialResponse::from(r),
            oath,
            uri: None,
        }
    }
}

impl std::fmt::Debug for OathResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OathResponse")
            .field("common", &self.common)
            .field("label", &self.oath.as_ref().map(|o| o.label.as_str()))
            .field("secret", &self.oath.as_ref().map(|_| "<redacted>"))
            .field("uri", &self.uri.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}
