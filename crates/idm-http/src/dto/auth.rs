//! Authentication API bodies (SPEC §11): the secrets a login front end sends (a password, an
//! OATH code, two resync codes, an old and a new password) and the login status answered.
//! No `Debug` rendering here shows a secret, so none can reach a log line.

use idm_ports::usecases::{ChangePassword, LoginStatus, OathLogin, OathResync, PasswordLogin};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::values;

/// Shows whether a secret was sent, never the secret.
fn shown(secret: &Option<String>) -> Option<&'static str> {
    secret.as_ref().map(|_| "<redacted>")
}

/// `POST /auth/v1/:clientExtId/users/:userExtId/password/login` body.
#[derive(Deserialize, ToSchema)]
pub(crate) struct PasswordLoginRequest {
    /// The password to verify; mandatory.
    #[schema(value_type = values::Secret, example = "correct horse battery staple")]
    password: Option<String>,
}

impl std::fmt::Debug for PasswordLoginRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PasswordLoginRequest")
            .field("password", &shown(&self.password))
            .finish()
    }
}

impl From<PasswordLoginRequest> for PasswordLogin {
    fn from(r: PasswordLoginRequest) -> Self {
        PasswordLogin {
            password: r.password,
        }
    }
}

/// `POST /auth/v1/:clientExtId/users/:userExtId/oath-credentials/:extId/login` body.
#[derive(Deserialize, ToSchema)]
pub(crate) struct OathLoginRequest {
    /// The one-time code: exactly `digits` decimal digits, as a string (leading zeros count);
    /// any other non-empty text is a wrong code (status 2).
    #[schema(value_type = values::NonEmpty, example = "123456")]
    code: Option<String>,
}

impl std::fmt::Debug for OathLoginRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OathLoginRequest")
            .field("code", &shown(&self.code))
            .finish()
    }
}

impl From<OathLoginRequest> for OathLogin {
    fn from(r: OathLoginRequest) -> Self {
        OathLogin { code: r.code }
    }
}

/// `POST /auth/v1/:clientExtId/users/:userExtId/oath-credentials/:extId/resync` body.
#[derive(Deserialize, ToSchema)]
pub(crate) struct OathResyncRequest {
    /// A code the token shows now; mandatory.
    #[schema(value_type = values::NonEmpty, example = "755224")]
    code1: Option<String>,
    /// The code the token shows next; mandatory.
    #[schema(value_type = values::NonEmpty, example = "287082")]
    code2: Option<String>,
}

impl std::fmt::Debug for OathResyncRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OathResyncRequest")
            .field("code1", &shown(&self.code1))
            .field("code2", &shown(&self.code2))
            .finish()
    }
}

impl From<OathResyncRequest> for OathResync {
    fn from(r: OathResyncRequest) -> Self {
        OathResync {
            code1: r.code1,
            code2: r.code2,
        }
    }
}

/// `POST /core/v1/:clientExtId/users/:userExtId/password/change` body.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ChangePasswordRequest {
    /// The current password: mandatory in self-admin mode, ignored for an administrator.
    #[schema(format = Password)]
    old_password: Option<String>,
    /// The new password, checked against the policy's `minLength`/`maxLength`; mandatory.
    #[schema(value_type = values::Secret)]
    new_password: Option<String>,
}

impl std::fmt::Debug for ChangePasswordRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChangePasswordRequest")
            .field("old_password", &shown(&self.old_password))
            .field("new_password", &shown(&self.new_password))
            .finish()
    }
}

impl From<ChangePasswordRequest> for ChangePassword {
    fn from(r: ChangePasswordRequest) -> Self {
        ChangePassword {
            old_password: r.old_password,
            new_password: r.new_password,
        }
    }
}

/// The login status of a processed attempt (SPEC §11): 5 `Login Ok`, 2 `Login failed.`,
/// 3 `Login failed. The next failure locks the credential.`, 9 `Login failed. Credential
/// temporarily locked.`, 4 `Login failed. Credential locked.`
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct LoginStatusResponse {
    /// 5, 2, 3, 9 or 4.
    #[schema(example = 5)]
    status_code: i32,
    /// The status's fixed text.
    #[schema(example = "Login Ok")]
    description: &'static str,
}

impl From<LoginStatus> for LoginStatusResponse {
    fn from(s: LoginStatus) -> Self {
        LoginStatusResponse {
            status_code: s.status_code(),
            description: s.description(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_a_secret() {
        let login: PasswordLoginRequest =
            serde_json::from_str(r#"{"password":"hunter2-secret"}"#).unwrap();
        let code: OathLoginRequest = serde_json::from_str(r#"{"code":"918273"}"#).unwrap();
        let resync: OathResyncRequest =
            serde_json::from_str(r#"{"code1":"111999","code2":"222888"}"#).unwrap();
        let change: ChangePasswordRequest =
            serde_json::from_str(r#"{"oldPassword":"old-secret-1","newPassword":"new-secret-2"}"#)
                .unwrap();
        let shown = format!("{login:?} {code:?} {resync:?} {change:#?}");
        for secret in [
            "hunter2-secret",
            "918273",
            "111999",
            "222888",
            "old-secret-1",
            "new-secret-2",
        ] {
            assert!(!shown.contains(secret), "{shown}");
        }
        assert!(shown.contains("<redacted>"), "{shown}");
        assert_eq!(
            ChangePassword::from(change),
            ChangePassword {
                old_password: Some("old-secret-1".into()),
                new_password: Some("new-secret-2".into()),
            }
        );
    }
}
