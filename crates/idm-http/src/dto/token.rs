//! Bearer-token bodies (SPEC §6.3). Neither the request's password nor the issued token ever
//! shows in a `Debug` rendering, so neither can reach a log line.

use idm_ports::auth::IssuedToken;
use idm_ports::usecases::TokenRequest;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::values;

/// `POST /principal/v1/token` body. Field names are snake_case as in SPEC (`grant_type`).
#[derive(Deserialize, ToSchema)]
pub(crate) struct TokenRequestBody {
    /// The caller's own loginId.
    #[schema(value_type = values::NonEmpty)]
    username: Option<String>,
    /// The caller's own password.
    #[schema(value_type = values::Secret)]
    password: Option<String>,
    #[schema(value_type = values::GrantType)]
    grant_type: Option<String>,
}

impl std::fmt::Debug for TokenRequestBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenRequestBody")
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .field("grant_type", &self.grant_type)
            .finish()
    }
}

impl From<TokenRequestBody> for TokenRequest {
    fn from(r: TokenRequestBody) -> Self {
        TokenRequest {
            username: r.username,
            password: r.password,
            grant_type: r.grant_type,
        }
    }
}

/// The issued bearer token (OAuth 2 token-response field names).
#[derive(Serialize, ToSchema)]
pub(crate) struct TokenResponse {
    access_token: String,
    token_type: &'static str,
    expires_in: u64,
}

impl From<IssuedToken> for TokenResponse {
    fn from(t: IssuedToken) -> Self {
        TokenResponse {
            access_token: t.token,
            token_type: "bearer",
            expires_in: t.expires_in,
        }
    }
}

impl std::fmt::Debug for TokenResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenResponse")
            .field("token_type", &self.token_type)
            .field("expires_in", &self.expires_in)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_password_or_the_token() {
        let body: TokenRequestBody = serde_json::from_str(
            r#"{"username":"jdoe","password":"hunter2-secret","grant_type":"password"}"#,
        )
        .unwrap();
        let shown = format!("{body:?} {body:#?}");
        assert!(!shown.contains("hunter2-secret"), "{shown}");
        assert!(
            shown.contains("jdoe") && shown.contains("<redacted>"),
            "{shown}"
        );

        let res = TokenResponse::from(IssuedToken {
            token: "eyJ.secret.jwt".into(),
            expires_in: 3600,
        });
        let shown = format!("{res:?}");
        assert!(!shown.contains("eyJ.secret.jwt"), "{shown}");
    }
}
