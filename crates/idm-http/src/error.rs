//! The SPEC §2 error envelope and the one place that maps failures to HTTP statuses.

use actix_web::http::header::{self, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use idm_domain::error::PolicyViolation;
use idm_domain::{DomainError, ErrorKind};
use idm_ports::AppError;
use serde::Serialize;

use crate::body::{BodyRejection, RejectionResponse};

/// `WWW-Authenticate` value of every 401 (SPEC §2).
const BASIC_CHALLENGE: &str = "Basic realm=\"nevisIDM\"";

/// Any failure a handler answers with; converts to the SPEC envelope in one place so every
/// status, code and message stays reviewable against SPEC §2.
#[derive(Debug)]
pub enum ApiError {
    /// A use-case failure (or a body rejection travelling through the use case).
    App(AppError),
    /// A request body the transport could not read (400/413/415).
    Body(BodyRejection),
    /// No route matches the path.
    UnknownResource,
    /// The path is known, the method is not; `allow` lists the methods that are.
    MethodNotAllowed {
        /// Value of the `Allow` header.
        allow: String,
    },
}

impl From<AppError> for ApiError {
    fn from(e: AppError) -> Self {
        // A body rejection handed to a use case comes back as the same `AppError`; turn it
        // back into its 400/413/415 rather than a 500.
        match e {
            AppError::BadBody(rejection) => ApiError::Body(rejection),
            other => ApiError::App(other),
        }
    }
}

impl From<DomainError> for ApiError {
    fn from(e: DomainError) -> Self {
        ApiError::App(AppError::Domain(e))
    }
}

impl From<actix_web::error::BlockingError> for ApiError {
    fn from(_: actix_web::error::BlockingError) -> Self {
        ApiError::App(AppError::Internal(
            "blocking pool failure (task panicked or pool shut down)".into(),
        ))
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (_, code, message) = self.parts();
        write!(f, "{code}: {message}")
    }
}

/// The SPEC §2 body of every error answer.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ErrorEnvelope {
    errors: Vec<ErrorItem>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    policy_violations: Vec<ViolationDto>,
}

#[derive(Debug, Serialize)]
struct ErrorItem {
    code: &'static str,
    message: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct ViolationDto {
    display_name: String,
    config_string: String,
    supplied_value: String,
    limit_value: String,
    actual_value: String,
}

impl From<&PolicyViolation> for ViolationDto {
    fn from(v: &PolicyViolation) -> Self {
        ViolationDto {
            display_name: v.display_name.clone(),
            config_string: v.config_string.clone(),
            supplied_value: v.supplied_value.clone(),
            limit_value: v.limit_value.clone(),
            actual_value: v.actual_value.clone(),
        }
    }
}

impl ErrorEnvelope {
    /// An envelope with one error.
    pub(crate) fn single(code: &'static str, message: impl Into<String>) -> Self {
        ErrorEnvelope {
            errors: vec![ErrorItem {
                code,
                message: message.into(),
            }],
            policy_violations: Vec::new(),
        }
    }
}

/// SPEC §2's fixed 503 message.
pub(crate) const UNAVAILABLE_MESSAGE: &str = "Service temporarily unavailable.";
const INTERNAL_MESSAGE: &str = "Internal server error.";
const FATAL_CODE: &str = "errors.fatalError";

fn status_of(kind: ErrorKind) -> StatusCode {
    match kind {
        ErrorKind::Unauthenticated => StatusCode::UNAUTHORIZED,
        ErrorKind::Forbidden => StatusCode::FORBIDDEN,
        ErrorKind::NotFound => StatusCode::NOT_FOUND,
        ErrorKind::Unprocessable => StatusCode::UNPROCESSABLE_ENTITY,
        ErrorKind::Conflict => StatusCode::CONFLICT,
    }
}

impl ApiError {
    /// Status, code and public message; the internal text of a 500 never gets here.
    fn parts(&self) -> (StatusCode, &'static str, String) {
        match self {
            ApiError::App(AppError::Domain(d)) => (status_of(d.kind()), d.code(), d.to_string()),
            ApiError::App(AppError::Unavailable | AppError::Busy) => (
                StatusCode::SERVICE_UNAVAILABLE,
                FATAL_CODE,
                UNAVAILABLE_MESSAGE.into(),
            ),
            ApiError::App(AppError::Internal(_)) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                FATAL_CODE,
                INTERNAL_MESSAGE.into(),
            ),
            ApiError::Body(r) | ApiError::App(AppError::BadBody(r)) => {
                (r.status(), r.code(), r.message())
            }
            ApiError::UnknownResource => (
                StatusCode::NOT_FOUND,
                "errors.invalidUri",
                "Unknown resource.".into(),
            ),
            ApiError::MethodNotAllowed { .. } => (
                StatusCode::METHOD_NOT_ALLOWED,
                "errors.unsupportedOperation",
                "Method not allowed.".into(),
            ),
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.parts().0
    }

    fn error_response(&self) -> HttpResponse {
        let (status, code, message) = self.parts();
        let mut envelope = ErrorEnvelope::single(code, message);
        let mut res = HttpResponse::build(status);
        match self {
            ApiError::App(AppError::Domain(d)) => {
                envelope.policy_violations = d
                    .policy_violations()
                    .iter()
                    .map(ViolationDto::from)
                    .collect();
                if d.kind() == ErrorKind::Unauthenticated {
                    res.insert_header((header::WWW_AUTHENTICATE, BASIC_CHALLENGE));
                }
            }
            ApiError::App(AppError::Unavailable | AppError::Busy) => {
                res.insert_header((header::RETRY_AFTER, "1"));
            }
            ApiError::App(AppError::Internal(text)) => {
                // The only place the internal text goes: the log, under the request's span.
                tracing::error!(error = %text, "internal error");
            }
            ApiError::MethodNotAllowed { allow } => {
                if let Ok(v) = HeaderValue::from_str(allow) {
                    res.insert_header((header::ALLOW, v));
                }
            }
            ApiError::Body(_) | ApiError::App(AppError::BadBody(_)) | ApiError::UnknownResource => {
            }
        }
        res.insert_header((header::CONTENT_TYPE, crate::dto::JSON_UTF8));
        res.json(envelope)
    }
}
