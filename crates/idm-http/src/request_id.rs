//! Request IDs (SPEC §1): reuse a sane caller ID or make one, put it on every response and
//! on every log line of the request.

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::error::InternalError;
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::HttpMessage;
use tracing::Instrument;

/// The header that carries the ID both ways.
pub const REQUEST_ID_HEADER: &str = "x-request-id";

/// The request's ID, stored in the request extensions for handlers and the access log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestId(pub String);

impl RequestId {
    /// The caller's value when it is 1–128 characters of `[A-Za-z0-9._:-]` (safe to echo and
    /// to log), otherwise a new UUID v4.
    pub fn from_caller(value: Option<&[u8]>) -> Self {
        match value {
            Some(v) if Self::is_sane(v) => RequestId(String::from_utf8_lossy(v).into_owned()),
            _ => RequestId(uuid::Uuid::new_v4().to_string()),
        }
    }

    fn is_sane(v: &[u8]) -> bool {
        (1..=128).contains(&v.len())
            && v.iter()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b':' | b'-'))
    }
}

/// Middleware: assigns the ID, runs the rest of the request inside a span carrying it, and
/// stamps it on the response, errors included.
pub(crate) async fn assign_request_id(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let id = RequestId::from_caller(
        req.headers()
            .get(REQUEST_ID_HEADER)
            .map(HeaderValue::as_bytes),
    );
    req.extensions_mut().insert(id.clone());
    let span = tracing::info_span!("request", request_id = %id.0);
    let value = HeaderValue::from_str(&id.0).ok();
    match next.call(req).instrument(span).await {
        Ok(mut res) => {
            if let Some(value) = value {
                res.headers_mut()
                    .insert(HeaderName::from_static(REQUEST_ID_HEADER), value);
            }
            Ok(res.map_into_boxed_body())
        }
        // Errors that escaped the handlers (none should) still answer with the ID: the
        // response is built here and carried inside the error.
        Err(e) => {
            let mut res = e.error_response();
            if let Some(value) = value {
                res.headers_mut()
                    .insert(HeaderName::from_static(REQUEST_ID_HEADER), value);
            }
            Err(InternalError::from_response(e, res).into())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sane_ids_are_kept() {
        assert_eq!(
            RequestId::from_caller(Some(b"abc-1.2_3:4")).0,
            "abc-1.2_3:4"
        );
        assert_eq!(
            RequestId::from_caller(Some("x".repeat(128).as_bytes()))
                .0
                .len(),
            128
        );
        for insane in [
            "".to_owned(),
            "a b".to_owned(),
            "x".repeat(129),
            "ü".to_owned(),
            "a/b".to_owned(),
        ] {
            let id = RequestId::from_caller(Some(insane.as_bytes())).0;
            assert_ne!(id, insane);
            assert!(uuid::Uuid::parse_str(&id).is_ok());
        }
        assert!(uuid::Uuid::parse_str(&RequestId::from_caller(None).0).is_ok());
    }
}
