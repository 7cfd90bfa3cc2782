//! Caller authentication from the `Authorization: Basic` header (SPEC §3.1, §3.4 step 1).

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Poll, Waker};

use actix_web::dev::Payload;
use actix_web::http::header::AUTHORIZATION;
use actix_web::{web, FromRequest, HttpMessage, HttpRequest};
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};
use base64::Engine;
use idm_domain::DomainError;
use idm_ports::{AppError, Caller};

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

/// SPEC §3.4 step 1 as an extractor: the caller of the request, authenticated from its Basic
/// header on the blocking pool (the check may hash a password). A failure answers the SPEC
/// 401 (or 503/500) envelope before the handler runs; a success leaves the caller's extIds
/// (never the login ID or password) in the request extensions for the access log.
///
/// Actix polls all extractors of a handler together, so a check that must come after
/// authentication (the paging query, SPEC §3.4) waits on the [`AuthGate`] this extractor
/// opens; the never-failing JSON body needs no such wait.
pub(crate) struct Authenticated(pub(crate) Caller);

impl FromRequest for Authenticated {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        // Installed before anything can fail: a later check must never overtake a 401.
        let gate = AuthGate::default();
        req.extensions_mut().insert(gate.clone());
        let creds = basic_credentials(req);
        let authenticator = req
            .app_data::<web::Data<AppState>>()
            .map(|state| state.authenticator.clone());
        let request_id = req
            .extensions()
            .get::<crate::RequestId>()
            .map(|id| id.0.clone());
        let req = req.clone();
        Box::pin(async move {
            let creds = creds?;
            let authenticator = authenticator.ok_or_else(|| {
                ApiError::App(AppError::Internal("no AppState registered".into()))
            })?;
            let caller = web::block(move || {
                authenticator.authenticate(&creds.user_id, &creds.password, request_id)
            })
            .await??;
            req.extensions_mut()
                .insert(AuthenticatedCaller(caller.clone()));
            req.extensions_mut().insert(CallerIds {
                client_ext_id: caller.client_ext_id.to_string(),
                user_ext_id: caller.user_ext_id.to_string(),
            });
            gate.open();
            Ok(Authenticated(caller))
        })
    }
}

/// The authenticated caller, kept in the request for the record of a refusal (SPEC §13: every
/// 403 is a history event).
#[derive(Clone)]
pub(crate) struct AuthenticatedCaller(pub(crate) Caller);

/// Opened once the request's caller is authenticated; checks that SPEC §3.4 orders after
/// authentication wait on it (see [`AuthGate::passed`]). Actix runs a request on one worker
/// thread, so an `Rc` suffices.
#[derive(Clone, Default)]
pub(crate) struct AuthGate(Rc<RefCell<GateState>>);

#[derive(Default)]
struct GateState {
    open: bool,
    waiter: Option<Waker>,
}

impl AuthGate {
    fn open(&self) {
        let mut state = self.0.borrow_mut();
        state.open = true;
        if let Some(waker) = state.waiter.take() {
            waker.wake();
        }
    }

    /// Resolves when the request has an authenticated caller: at once when no [`Authenticated`]
    /// extractor runs for it, never when authentication fails (its error answers first).
    /// Call it from inside an extractor's future, not its `from_request`: only once every
    /// extractor of the handler was created is the gate sure to be installed.
    pub(crate) async fn passed(req: &HttpRequest) {
        let Some(gate) = req.extensions().get::<AuthGate>().cloned() else {
            return;
        };
        std::future::poll_fn(|cx| {
            let mut state = gate.0.borrow_mut();
            if state.open {
                Poll::Ready(())
            } else {
                state.waiter = Some(cx.waker().clone());
                Poll::Pending
            }
        })
        .await;
    }
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
