//! Caller authentication from the `Authorization: Basic` header (SPEC §3.1, §3.4 step 1).

use actix_web::http::header::AUTHORIZATION;
use actix_web::{web, HttpMessage, HttpRequest};
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};
use base64::Engine;
use idm_domain::DomainError;
use idm_ports::Caller;

use crate::access_log::CallerIds;
use crate::error::ApiError;
use crate::AppState;

/// The user ID and password of a Basic header. The password is dropped after the check.
#[derive(PartialEq, Eq)]
pub(crate) struct BasicCredentials {
    pub(crate) user_id: String,
    pub(crate) password: String,
}

impl std::fmt::Debug for BasicCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BasicCredentials")
            .field("user_id", &self.user_id)
            .finish_non_exhaustive()
    }
}

/// Parses the header: absent or another scheme → `AuthenticationRequired`; Basic but not
/// decodable to `user:password` → `AuthenticationFailed`.
pub(crate) fn basic_credentials(req: &HttpRequest) -> Result<BasicCredentials, DomainError> {
    let value = req
        .headers()
        .get(AUTHORIZATION)
        .ok_or(DomainError::AuthenticationRequired)?
        .as_bytes();
    // The scheme name is case-insensitive (RFC 9110 §11.1).
    let scheme_ok = value.len() >= 6 && value[..6].eq_ignore_ascii_case(b"basic ");
    if !scheme_ok {
        return Err(DomainError::AuthenticationRequired);
    }
    let encoded = value[6..].trim_ascii();
    let decoded = STANDARD
        .decode(encoded)
        .or_else(|_| STANDARD_NO_PAD.decode(encoded))
        .map_err(|_| DomainError::AuthenticationFailed)?;
    let text = String::from_utf8(decoded).map_err(|_| DomainError::AuthenticationFailed)?;
    let (user_id, password) = text
        .split_once(':')
        .ok_or(DomainError::AuthenticationFailed)?;
    Ok(BasicCredentials {
        user_id: user_id.to_owned(),
        password: password.to_owned(),
    })
}

/// SPEC §3.4 step 1 for a handler: parse the header and ask the authenticator on the
/// blocking pool (it may hash a password). A success leaves the caller's extIds (never the
/// login ID or password) in the request extensions for the access log.
pub(crate) async fn authenticate(state: &AppState, req: &HttpRequest) -> Result<Caller, ApiError> {
    let creds = basic_credentials(req)?;
    let authenticator = state.authenticator.clone();
    let request_id = req
        .extensions()
        .get::<crate::RequestId>()
        .map(|id| id.0.clone());
    let caller = web::block(move || {
        authenticator.authenticate(&creds.user_id, &creds.password, request_id)
    })
    .await??;
    req.extensions_mut().insert(CallerIds {
        client_ext_id: caller.client_ext_id.to_string(),
        user_ext_id: caller.user_ext_id.to_string(),
    });
    Ok(caller)
}

#[cfg(test)]
mod tests {
    use actix_web::test::TestRequest;

    use super::*;

    fn parse(header: Option<&str>) -> Result<BasicCredentials, DomainError> {
        let mut req = TestRequest::default();
        if let Some(h) = header {
            req = req.insert_header((AUTHORIZATION, h));
        }
        basic_credentials(&req.to_http_request())
    }

    fn b64(s: &str) -> String {
        STANDARD.encode(s)
    }

    #[test]
    fn basic_header_parsing() {
        assert_eq!(
            parse(None).unwrap_err(),
            DomainError::AuthenticationRequired
        );
        assert_eq!(
            parse(Some("Bearer abc")).unwrap_err(),
            DomainError::AuthenticationRequired
        );
        assert_eq!(
            parse(Some("Basic")).unwrap_err(),
            DomainError::AuthenticationRequired
        );
        assert_eq!(
            parse(Some("Basic !!!")).unwrap_err(),
            DomainError::AuthenticationFailed
        );
        assert_eq!(
            parse(Some(&format!("Basic {}", b64("nocolon")))).unwrap_err(),
            DomainError::AuthenticationFailed
        );
        let invalid_utf8 = STANDARD.encode([0xff, 0xfe, b':', b'x']);
        assert_eq!(
            parse(Some(&format!("Basic {invalid_utf8}"))).unwrap_err(),
            DomainError::AuthenticationFailed
        );
        let c = parse(Some(&format!("basic {}", b64("acme/jdoe:pa:ss")))).unwrap();
        assert_eq!(c.user_id, "acme/jdoe");
        assert_eq!(c.password, "pa:ss");
        let c = parse(Some(&format!("Basic {}", b64("jdoe:")))).unwrap();
        assert_eq!((c.user_id.as_str(), c.password.as_str()), ("jdoe", ""));
        assert!(!format!("{c:?}").contains("password:"));
    }
}
