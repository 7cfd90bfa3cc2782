//! The JSON body extractor. It never fails the request: a body that cannot be read becomes an
//! `Err` inside [`Body`], which the use case reports at SPEC §3.4 step 6, after
//! authentication, rights and the path's lookups.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::error::PayloadError;
use actix_web::http::header::{CONTENT_LENGTH, CONTENT_TYPE};
use actix_web::http::StatusCode;
use actix_web::{web, FromRequest, HttpRequest};
use futures_util::StreamExt;
use idm_ports::usecases::Body;
use idm_ports::AppError;
use serde::de::DeserializeOwned;

use crate::AppState;

pub use idm_ports::BodyRejection;

/// The HTTP face of a [`BodyRejection`]: status, SPEC code and exact message.
pub(crate) trait RejectionResponse {
    /// 413, 415 or 400.
    fn status(&self) -> StatusCode;
    /// The SPEC `errors.*` code.
    fn code(&self) -> &'static str;
    /// The SPEC message.
    fn message(&self) -> String;
}

/// The rejection as the `Err` of a [`Body`], for the use case to report at step 6.
pub(crate) fn into_app_error(rejection: BodyRejection) -> AppError {
    AppError::BadBody(rejection)
}

impl RejectionResponse for BodyRejection {
    fn status(&self) -> StatusCode {
        match self {
            BodyRejection::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            BodyRejection::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            _ => StatusCode::BAD_REQUEST,
        }
    }

    fn code(&self) -> &'static str {
        match self {
            BodyRejection::TooLarge => "errors.invalidData",
            BodyRejection::UnsupportedMediaType => "errors.unsupportedMediaType",
            BodyRejection::Missing => "errors.nullRequestBody",
            BodyRejection::MalformedJson => "errors.jsonProcessingError",
            BodyRejection::InvalidField(_) => "errors.deserialization",
        }
    }

    fn message(&self) -> String {
        match self {
            BodyRejection::TooLarge => "Request body too large.".into(),
            BodyRejection::UnsupportedMediaType => "Content-Type must be application/json.".into(),
            BodyRejection::Missing => "Request body is required.".into(),
            BodyRejection::MalformedJson => "Malformed JSON request body.".into(),
            BodyRejection::InvalidField(field) => format!("Invalid value for field '{field}'."),
        }
    }
}

/// A required JSON body as the use case wants it: the DTO, or the rejection to report.
pub struct JsonBody<T>(pub Body<T>);

impl<T: DeserializeOwned + 'static> FromRequest for JsonBody<T> {
    type Error = actix_web::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let body = read_capped(req, payload, is_json_media_type);
        Box::pin(async move {
            let result = body
                .await
                .and_then(|(bytes, is_json)| parse(&bytes, is_json));
            Ok(JsonBody(result.map_err(into_app_error)))
        })
    }
}

/// `application/json`, with any parameters (`charset=utf-8`), in any letter case.
fn is_json_media_type(value: &str) -> bool {
    value
        .split(';')
        .next()
        .is_some_and(|essence| essence.trim().eq_ignore_ascii_case("application/json"))
}

/// The request body up to the configured limit (413 past it, by `Content-Length` or as read),
/// with whether its media type is one `accepts`; shared by every inbound adapter's body.
pub(crate) fn read_capped(
    req: &HttpRequest,
    payload: &mut Payload,
    accepts: fn(&str) -> bool,
) -> impl Future<Output = Result<(Vec<u8>, bool), BodyRejection>> + 'static {
    let limit = req
        .app_data::<web::Data<AppState>>()
        .map_or(crate::HttpSettings::DEFAULT_MAX_BODY_BYTES, |s| {
            s.settings.max_body_bytes
        });
    let declared_len = req
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    let accepted = req
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(accepts);
    let payload = payload.take();
    async move {
        match declared_len {
            Some(n) if n > limit as u64 => Err(BodyRejection::TooLarge),
            _ => read_limited(payload, limit)
                .await
                .map(|bytes| (bytes, accepted)),
        }
    }
}

async fn read_limited(mut payload: Payload, limit: usize) -> Result<Vec<u8>, BodyRejection> {
    let mut bytes = Vec::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|e| match e {
            PayloadError::Overflow => BodyRejection::TooLarge,
            _ => BodyRejection::MalformedJson,
        })?;
        if bytes.len() + chunk.len() > limit {
            return Err(BodyRejection::TooLarge);
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(bytes)
}

/// The order of the checks: no body → 400 null body; then a body that is not declared JSON →
/// 415; then syntax → 400 malformed; then shape → 400 deserialization.
fn parse<T: DeserializeOwned>(bytes: &[u8], is_json: bool) -> Result<T, BodyRejection> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(BodyRejection::Missing);
    }
    if !is_json {
        return Err(BodyRejection::UnsupportedMediaType);
    }
    // Syntax first, on the whole document, so a type error early in a document that is
    // broken later still reports the broken syntax.
    let value: serde_json::Value =
        serde_json::from_slice(bytes).map_err(|_| BodyRejection::MalformedJson)?;
    match value {
        serde_json::Value::Null => return Err(BodyRejection::Missing),
        serde_json::Value::Object(_) => {}
        // Derived structs would accept an array as a tuple; a body must be an object.
        _ => return Err(BodyRejection::InvalidField("body".into())),
    }
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        BodyRejection::InvalidField(if path == "." { "body".into() } else { path })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Probe {
        name: Option<String>,
        inner: Option<Inner>,
    }

    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Inner {
        n: Option<i64>,
    }

    #[test]
    fn media_types() {
        assert!(is_json_media_type("application/json"));
        assert!(is_json_media_type("Application/JSON; charset=UTF-8"));
        assert!(!is_json_media_type("text/plain"));
        assert!(!is_json_media_type("application/jsonx"));
    }

    #[test]
    fn parse_order_and_paths() {
        assert_eq!(
            parse::<Probe>(b"  ", false).unwrap_err(),
            BodyRejection::Missing
        );
        assert_eq!(
            parse::<Probe>(b"{}", false).unwrap_err(),
            BodyRejection::UnsupportedMediaType
        );
        assert_eq!(
            parse::<Probe>(b"null", true).unwrap_err(),
            BodyRejection::Missing
        );
        assert_eq!(
            parse::<Probe>(b"{\"name\":1,", true).unwrap_err(),
            BodyRejection::MalformedJson
        );
        assert_eq!(
            parse::<Probe>(b"[1]", true).unwrap_err(),
            BodyRejection::InvalidField("body".into())
        );
        assert_eq!(
            parse::<Probe>(b"{\"name\":1}", true).unwrap_err(),
            BodyRejection::InvalidField("name".into())
        );
        assert_eq!(
            parse::<Probe>(b"{\"inner\":{\"n\":\"x\"}}", true).unwrap_err(),
            BodyRejection::InvalidField("inner.n".into())
        );
        assert!(parse::<Probe>(b"{\"unknown\":[1,2]}", true).is_ok());
    }

    #[test]
    fn rejections_travel_as_bad_body_errors() {
        let r = BodyRejection::InvalidField("name.firstName".into());
        assert_eq!(into_app_error(r.clone()), AppError::BadBody(r));
    }
}
