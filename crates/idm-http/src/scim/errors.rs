//! SCIM errors (RFC 7644 §3.12): every failure on a SCIM path answers the SCIM error schema
//! instead of SPEC §2's envelope, 401/403/404 included. The use cases' errors are mapped here,
//! in one place; the texts are the SPEC messages, never an internal error's.

use std::collections::BTreeMap;

use actix_web::http::header::{self, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use idm_domain::{DomainError, ErrorKind};
use idm_ports::{AppError, BodyRejection};
use serde::Serialize;
use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::{ContentBuilder, Ref, RefOr, Response, ResponseBuilder};
use utoipa::ToSchema;

use super::{ERROR_SCHEMA, MEDIA_TYPE};
use crate::error::ApiError;

/// `WWW-Authenticate` of a 401 (SPEC §2).
const BASIC_CHALLENGE: &str = "Basic realm=\"nevisIDM\"";

/// A SCIM error answer: status, `scimType` where RFC 7644 §3.12 defines one, and `detail`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ScimError {
    status: StatusCode,
    scim_type: Option<&'static str>,
    detail: String,
    extra: Extra,
}

/// What an answer carries besides the body.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Extra {
    None,
    /// 401: `WWW-Authenticate`.
    Challenge,
    /// 503: `Retry-After`.
    RetryAfter,
    /// 405: `Allow`.
    Allow(String),
    /// 500: the internal text, for the log only.
    Internal(String),
}

impl ScimError {
    /// An error with this status, `scimType` and detail.
    pub(crate) fn new(
        status: StatusCode,
        scim_type: Option<&'static str>,
        detail: impl Into<String>,
    ) -> Self {
        ScimError {
            status,
            scim_type,
            detail: detail.into(),
            extra: Extra::None,
        }
    }

    /// 400 `invalidFilter`: a filter that cannot be parsed or is not supported.
    pub(crate) fn invalid_filter(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, Some("invalidFilter"), detail)
    }

    /// 400 `tooMany`: a filter more complex than this service evaluates.
    pub(crate) fn too_many(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, Some("tooMany"), detail)
    }

    /// 400 `invalidValue`: a missing, ill-typed or unacceptable value.
    pub(crate) fn invalid_value(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, Some("invalidValue"), detail)
    }

    /// 400 `invalidSyntax`: a request body that is not what the operation takes.
    pub(crate) fn invalid_syntax(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, Some("invalidSyntax"), detail)
    }

    /// 400 `invalidPath`: a PATCH `path` that cannot be parsed.
    pub(crate) fn invalid_path(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, Some("invalidPath"), detail)
    }

    /// 400 `noTarget`: a PATCH path whose filter selects nothing, or a remove without path.
    pub(crate) fn no_target(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, Some("noTarget"), detail)
    }

    /// 400 `mutability`: a change of a read-only attribute.
    pub(crate) fn mutability(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, Some("mutability"), detail)
    }

    /// 412: `If-Match` names another version than the stored one (RFC 7644 §3.14).
    pub(crate) fn precondition_failed() -> Self {
        Self::new(
            StatusCode::PRECONDITION_FAILED,
            None,
            "The resource was modified since the version named by If-Match; reload it and retry.",
        )
    }

    /// 403 for a query parameter the discovery endpoints refuse (RFC 7644 §4).
    pub(crate) fn forbidden(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, None, detail)
    }

    /// 404 of a path no SCIM template matches.
    pub(crate) fn unknown_resource() -> Self {
        Self::new(StatusCode::NOT_FOUND, None, "Unknown resource.")
    }

    /// 405 with `Allow` on a SCIM path.
    pub(crate) fn method_not_allowed(allow: String) -> Self {
        let mut e = Self::new(StatusCode::METHOD_NOT_ALLOWED, None, "Method not allowed.");
        e.extra = Extra::Allow(allow);
        e
    }

    /// The HTTP status.
    #[cfg(test)]
    pub(crate) fn status(&self) -> StatusCode {
        self.status
    }

    /// The `scimType`, if any.
    #[cfg(test)]
    pub(crate) fn scim_type(&self) -> Option<&'static str> {
        self.scim_type
    }

    /// The `detail` text.
    #[cfg(test)]
    pub(crate) fn detail(&self) -> &str {
        &self.detail
    }
}

/// A domain failure as SCIM reports it: 401/403/404 keep their SPEC texts; uniqueness rules are
/// 409 `uniqueness`; values the rules refuse are 400 `invalidValue` (`mutability` for a field a
/// self-admin caller may not change).
fn from_domain(d: &DomainError) -> ScimError {
    use DomainError::*;
    let detail = d.to_string();
    match d {
        DuplicateLoginId { .. } | DuplicateUserExtId(_) => {
            ScimError::new(StatusCode::CONFLICT, Some("uniqueness"), detail)
        }
        UserLoginIdNull => ScimError::invalid_value("The attribute 'userName' is required."),
        ModifyReadonlyData(_) => ScimError::mutability(detail),
        // SCIM carries no X-Token: a self-admin write is refused like a missing right.
        InvalidJwtToken => ScimError::new(StatusCode::FORBIDDEN, None, detail),
        OptimisticLockingFailure => ScimError::new(StatusCode::CONFLICT, None, detail),
        _ => match d.kind() {
            ErrorKind::Unauthenticated => {
                let mut e = ScimError::new(StatusCode::UNAUTHORIZED, None, detail);
                e.extra = Extra::Challenge;
                e
            }
            ErrorKind::Forbidden => ScimError::new(StatusCode::FORBIDDEN, None, detail),
            ErrorKind::NotFound => ScimError::new(StatusCode::NOT_FOUND, None, detail),
            ErrorKind::Conflict => ScimError::new(StatusCode::CONFLICT, None, detail),
            ErrorKind::Unprocessable => ScimError::invalid_value(detail),
        },
    }
}

/// A body the transport (or the SCIM mapping) could not use.
pub(crate) fn from_rejection(r: &BodyRejection) -> ScimError {
    match r {
        BodyRejection::TooLarge => ScimError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            None,
            "Request body too large.",
        ),
        BodyRejection::UnsupportedMediaType => ScimError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            None,
            "Content-Type must be application/scim+json or application/json.",
        ),
        BodyRejection::Missing => ScimError::invalid_syntax("Request body is required."),
        BodyRejection::MalformedJson => ScimError::invalid_syntax("Malformed JSON request body."),
        BodyRejection::InvalidField(field) if field == "body" => {
            ScimError::invalid_syntax("The request body must be a JSON object.")
        }
        BodyRejection::InvalidField(field) => {
            ScimError::invalid_value(format!("Invalid value for attribute '{field}'."))
        }
    }
}

impl From<AppError> for ScimError {
    fn from(e: AppError) -> Self {
        match e {
            AppError::Domain(d) => from_domain(&d),
            AppError::BadBody(r) => from_rejection(&r),
            AppError::Unavailable | AppError::Busy => {
                let mut e = ScimError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    None,
                    crate::error::UNAVAILABLE_MESSAGE,
                );
                e.extra = Extra::RetryAfter;
                e
            }
            AppError::Internal(text) => {
                let mut e = ScimError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    None,
                    "Internal server error.",
                );
                e.extra = Extra::Internal(text);
                e
            }
        }
    }
}

impl From<DomainError> for ScimError {
    fn from(e: DomainError) -> Self {
        from_domain(&e)
    }
}

/// The failures of the shared extractors (authentication above all) on a SCIM path.
impl From<ApiError> for ScimError {
    fn from(e: ApiError) -> Self {
        match e {
            ApiError::App(app) => app.into(),
            ApiError::Body(r) => from_rejection(&r),
            ApiError::UnknownResource => ScimError::unknown_resource(),
            ApiError::MethodNotAllowed { allow } => ScimError::method_not_allowed(allow),
        }
    }
}

impl From<actix_web::error::BlockingError> for ScimError {
    fn from(_: actix_web::error::BlockingError) -> Self {
        AppError::Internal("blocking pool failure (task panicked or pool shut down)".into()).into()
    }
}

impl std::fmt::Display for ScimError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {:?}: {}",
            self.status.as_u16(),
            self.scim_type,
            self.detail
        )
    }
}

/// The body of a SCIM error (RFC 7644 §3.12).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = ScimError)]
pub(crate) struct ScimErrorBody {
    /// Always `["urn:ietf:params:scim:api:messages:2.0:Error"]`.
    schemas: Vec<&'static str>,
    /// The HTTP status, as a string.
    #[schema(example = "400")]
    status: String,
    /// The RFC 7644 §3.12 error type: `invalidFilter`, `tooMany`, `uniqueness`, `mutability`,
    /// `invalidSyntax`, `invalidPath`, `noTarget` or `invalidValue`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false, example = "invalidFilter")]
    scim_type: Option<&'static str>,
    /// Human-readable explanation.
    detail: String,
}

impl ResponseError for ScimError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        let body = ScimErrorBody {
            schemas: vec![ERROR_SCHEMA],
            status: self.status.as_u16().to_string(),
            scim_type: self.scim_type,
            detail: self.detail.clone(),
        };
        let mut res = HttpResponse::build(self.status);
        match &self.extra {
            Extra::Challenge => {
                res.insert_header((header::WWW_AUTHENTICATE, BASIC_CHALLENGE));
            }
            Extra::RetryAfter => {
                res.insert_header((header::RETRY_AFTER, "1"));
            }
            Extra::Allow(allow) => {
                if let Ok(v) = HeaderValue::from_str(allow) {
                    res.insert_header((header::ALLOW, v));
                }
            }
            Extra::Internal(text) => {
                // The only place the internal text goes: the log, under the request's span.
                tracing::error!(error = %text, "internal error");
            }
            Extra::None => {}
        }
        res.insert_header((header::CONTENT_TYPE, MEDIA_TYPE));
        res.json(body)
    }
}

// ---- OpenAPI: the reusable SCIM error responses and the sets operations list ---------------

fn error_response(description: &str, header: Option<(&str, &str)>) -> RefOr<Response> {
    let content = ContentBuilder::new()
        .schema(Some(Ref::from_schema_name("ScimError")))
        .build();
    let mut builder = ResponseBuilder::new()
        .description(description)
        .content("application/scim+json", content);
    if let Some((name, text)) = header {
        builder = builder.header(name, HeaderBuilder::new().description(Some(text)).build());
    }
    builder.build().into()
}

/// Every reusable SCIM error response: (component name, status, description, header).
/// A reusable error response: component name, status, description, response header.
type ResponseSpec = (
    &'static str,
    &'static str,
    &'static str,
    Option<(&'static str, &'static str)>,
);

const RESPONSES: &[ResponseSpec] = &[
    ("ScimBadRequest", "400", "`invalidFilter`, `tooMany`, `invalidSyntax`, `invalidPath`, `noTarget`, `invalidValue` or `mutability` (RFC 7644 §3.12).", None),
    ("ScimUnauthorized", "401", "No Basic credentials, or wrong ones.", Some(("WWW-Authenticate", "`Basic realm=\"nevisIDM\"`"))),
    ("ScimForbidden", "403", "The caller lacks the operation's right in this client's data room, or the target user holds rights beyond the caller's own (SPEC §3.4, §10.1).", None),
    ("ScimNotFound", "404", "No such client, user or resource.", None),
    ("ScimConflict", "409", "`uniqueness`: the userName is taken in the client; or a concurrent change won.", None),
    ("ScimPreconditionFailed", "412", "`If-Match` names another version than the stored one.", None),
    ("ScimPayloadTooLarge", "413", "The body is larger than the configured limit.", None),
    ("ScimUnsupportedMediaType", "415", "A body whose Content-Type is neither application/scim+json nor application/json.", None),
    ("ScimInternalError", "500", "Unexpected failure.", None),
    ("ScimUnavailable", "503", "The database is unreachable or the pool is exhausted.", Some(("Retry-After", "Seconds to wait before retrying."))),
];

/// Adds the SCIM error responses to the document's components (see `openapi::base`).
pub(crate) fn add_components(openapi: &mut utoipa::openapi::OpenApi) {
    let components = openapi.components.get_or_insert_with(Default::default);
    for (name, _, description, header) in RESPONSES {
        components
            .responses
            .insert((*name).to_owned(), error_response(description, *header));
    }
    let (name, schema) = (
        <ScimErrorBody as utoipa::ToSchema>::name(),
        <ScimErrorBody as utoipa::PartialSchema>::schema(),
    );
    components.schemas.insert(name.into_owned(), schema);
}

/// Declares a set of SCIM error answers an operation lists next to its success answers.
macro_rules! scim_error_sets {
    ($($(#[$meta:meta])* $name:ident => [$($status:literal),+ $(,)?];)*) => {$(
        $(#[$meta])*
        pub(crate) struct $name;

        impl utoipa::IntoResponses for $name {
            fn responses() -> BTreeMap<String, RefOr<Response>> {
                [$($status),+]
                    .into_iter()
                    .filter_map(|status| {
                        RESPONSES
                            .iter()
                            .find(|(_, s, _, _)| *s == status)
                            .map(|(name, _, _, _)| {
                                (status.to_owned(), Ref::from_response_name(*name).into())
                            })
                    })
                    .collect()
            }
        }
    )*};
}

scim_error_sets! {
    /// A read of one resource.
    ReadErrors => ["401", "403", "404", "500", "503"];
    /// A list (or a discovery read): also a bad filter or paging value.
    ListErrors => ["400", "401", "403", "404", "500", "503"];
    /// A search: a list whose parameters come in a body.
    SearchErrors => ["400", "401", "403", "404", "413", "415", "500", "503"];
    /// A create.
    CreateErrors => ["400", "401", "403", "404", "409", "413", "415", "500", "503"];
    /// A PUT or PATCH.
    ModifyErrors => ["400", "401", "403", "404", "409", "412", "413", "415", "500", "503"];
    /// A DELETE.
    DeleteErrors => ["400", "401", "403", "404", "412", "500", "503"];
}
