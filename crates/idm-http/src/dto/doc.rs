//! Types that only describe the API in the OpenAPI document: the SPEC §2 error envelope,
//! the reusable error responses and the sets of them that operations list, the query and
//! header parameters (their extractors in `crate::extract` document themselves through
//! these), and the value sets that the DTOs carry as plain strings. None of them is built at
//! run time.
// Documentation only: the types are read by the `utoipa` derives, never constructed.
#![allow(dead_code)]

use std::collections::BTreeMap;

use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::{ContentBuilder, Ref, RefOr, Response, ResponseBuilder};
use utoipa::{IntoParams, ToSchema};

/// The body of every error answer, of any status (SPEC §2, the `ErrorMessageDTO` envelope).
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub(crate) struct ErrorEnvelope {
    /// One item per error; per-item errors of bulk operations carry `identifier`.
    errors: Vec<ErrorItem>,
    /// Present only when a password policy rejected a supplied password.
    #[schema(nullable = false)]
    policy_violations: Option<Vec<PolicyViolation>>,
}

/// One error of the envelope.
#[derive(ToSchema)]
pub(crate) struct ErrorItem {
    /// A code of the nevisIDM enumeration, e.g. `errors.noRecord`.
    #[schema(example = "errors.noRecord")]
    code: String,
    /// Human-readable message (exact texts in SPEC).
    #[schema(example = "Client doesn't exist with extId 'client-123'")]
    message: String,
    /// Only on per-item errors of bulk operations.
    #[schema(nullable = false)]
    identifier: Option<ErrorIdentifier>,
}

/// Which item of a bulk operation an error is about.
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub(crate) struct ErrorIdentifier {
    client_ext_id: String,
    user_ext_id: String,
    #[schema(nullable = false)]
    credential_ext_id: Option<String>,
}

/// One rule of a password policy that a supplied password broke.
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub(crate) struct PolicyViolation {
    display_name: String,
    config_string: String,
    supplied_value: String,
    limit_value: String,
    actual_value: String,
}

/// The envelope as the body of an error response, with optional response headers.
fn error_response(description: &str, header: Option<(&str, &str)>) -> RefOr<Response> {
    let content = ContentBuilder::new()
        .schema(Some(Ref::from_schema_name("ErrorEnvelope")))
        .build();
    let mut builder = ResponseBuilder::new()
        .description(description)
        .content("application/json", content);
    if let Some((name, header_description)) = header {
        builder = builder.header(
            name,
            HeaderBuilder::new()
                .description(Some(header_description))
                .build(),
        );
    }
    builder.build().into()
}

/// Declares a reusable error response (`#/components/responses/<Name>`).
macro_rules! error_responses {
    ($($name:ident => $description:literal $(, header $header:literal: $header_description:literal)?;)*) => {
        $(
            #[doc = $description]
            pub(crate) struct $name;

            impl<'r> utoipa::ToResponse<'r> for $name {
                fn response() -> (&'r str, RefOr<Response>) {
                    (
                        stringify!($name),
                        error_response($description, None $(.or(Some(($header, $header_description))))?),
                    )
                }
            }
        )*
    };
}

error_responses! {
    BadRequest => "The body is not valid JSON (`errors.jsonProcessingError`), a field has the wrong type or shape (`errors.deserialization`), or a required body is empty (`errors.nullRequestBody`).";
    Unauthorized => "No Basic credentials, or wrong ones (`errors.userLoginFailed`).",
        header "WWW-Authenticate": "`Basic realm=\"nevisIDM\"`";
    Forbidden => "The caller lacks a needed right (`errors.insufficientRightsFunction`), holds it outside this client's data room (`errors.combinedDataroomDenied`), or an operation-specific refusal (SPEC).";
    NotFound => "No such client, user or record (`errors.noRecord`).";
    Conflict => "The sent `version` is stale, or a concurrent request changed or deleted the record first (`errors.optimisticLockingFailure`).";
    PayloadTooLarge => "The body is larger than the configured limit (`errors.invalidData`).";
    UnsupportedMediaType => "A body was sent with a non-JSON Content-Type (`errors.unsupportedMediaType`).";
    Unprocessable => "The request is well-formed but its content breaks a rule of the endpoint (SPEC), including a bad `limit`/`continuationToken` or, in self-admin mode, a missing or invalid `X-Token` (`errors.invalidJWTToken`).";
    InternalError => "Unexpected failure (`errors.fatalError`, `Internal server error.`).";
    Unavailable => "The database is unreachable or the pool is exhausted (`errors.fatalError`).",
        header "Retry-After": "Seconds to wait before retrying.";
}

/// Declares a set of error answers an operation lists next to its success answers
/// (`responses((status = 200, ...), doc::ReadErrors)`): each status refers to its reusable
/// response above, so the set and the component cannot drift apart.
macro_rules! error_sets {
    ($($(#[$meta:meta])* $name:ident => [$($status:literal: $response:ident),+ $(,)?];)*) => {$(
        $(#[$meta])*
        pub(crate) struct $name;

        impl utoipa::IntoResponses for $name {
            fn responses() -> BTreeMap<String, RefOr<Response>> {
                BTreeMap::from([$((
                    $status.to_owned(),
                    Ref::from_response_name(<$response as utoipa::ToResponse>::response().0).into(),
                )),+])
            }
        }
    )*};
}

error_sets! {
    /// An authenticated read of one client-scoped record: authentication, rights, lookups.
    ReadErrors => [
        "401": Unauthorized, "403": Forbidden, "404": NotFound,
        "500": InternalError, "503": Unavailable,
    ];
    /// [`ReadErrors`] plus 422: a list (bad `limit`/`continuationToken`).
    CheckedErrors => [
        "401": Unauthorized, "403": Forbidden, "404": NotFound, "422": Unprocessable,
        "500": InternalError, "503": Unavailable,
    ];
    /// A write without a body that cannot break a rule of its own (unlock, unassign): the
    /// path's lookups, and the 409 every write may answer when a concurrent request changed or
    /// deleted its record first.
    PlainWriteErrors => [
        "401": Unauthorized, "403": Forbidden, "404": NotFound, "409": Conflict,
        "500": InternalError, "503": Unavailable,
    ];
    /// A write without a body: [`PlainWriteErrors`] plus 422 (its own rules, or a missing
    /// `X-Token` in self-admin mode).
    WriteErrors => [
        "401": Unauthorized, "403": Forbidden, "404": NotFound, "409": Conflict,
        "422": Unprocessable, "500": InternalError, "503": Unavailable,
    ];
    /// An authenticated write with a JSON body on a client-scoped path: [`WriteErrors`] plus
    /// the body's 400/413/415.
    BodyErrors => [
        "400": BadRequest, "401": Unauthorized, "403": Forbidden, "404": NotFound,
        "409": Conflict, "413": PayloadTooLarge, "415": UnsupportedMediaType,
        "422": Unprocessable, "500": InternalError, "503": Unavailable,
    ];
    /// A PATCH: [`BodyErrors`] (whose 409 also answers a stale `version`).
    PatchErrors => [
        "400": BadRequest, "401": Unauthorized, "403": Forbidden, "404": NotFound,
        "409": Conflict, "413": PayloadTooLarge, "415": UnsupportedMediaType,
        "422": Unprocessable, "500": InternalError, "503": Unavailable,
    ];
    /// A write with a JSON body whose path names no client or user to look up (client create,
    /// bearer token): [`BodyErrors`] without 404.
    UnscopedBodyErrors => [
        "400": BadRequest, "401": Unauthorized, "403": Forbidden, "409": Conflict,
        "413": PayloadTooLarge, "415": UnsupportedMediaType, "422": Unprocessable,
        "500": InternalError, "503": Unavailable,
    ];
    /// A list whose path names no client (the client list): [`CheckedErrors`] without 404.
    UnscopedListErrors => [
        "401": Unauthorized, "403": Forbidden, "422": Unprocessable,
        "500": InternalError, "503": Unavailable,
    ];
    /// The caller's own user: no right is needed, so no 403; 404 only if it was deleted since
    /// it authenticated.
    OwnUserErrors => [
        "401": Unauthorized, "404": NotFound, "500": InternalError, "503": Unavailable,
    ];
    /// What the caller's authentication already holds (its permissions): no right is needed.
    CallerErrors => [
        "401": Unauthorized, "500": InternalError, "503": Unavailable,
    ];
}

/// Paging of a list (SPEC §1).
#[derive(IntoParams)]
#[into_params(parameter_in = Query, rename_all = "camelCase")]
pub(crate) struct PageQuery {
    /// Page size, 1–1000 (default 100).
    #[param(minimum = 1, maximum = 1000, nullable = false)]
    limit: Option<u32>,
    /// The opaque token of the previous page's `_pagination`; absent or empty for the first.
    #[param(value_type = Option<super::values::ContinuationToken>, nullable = false)]
    continuation_token: Option<String>,
}

/// The self-admin JWT (SPEC §3.3, §3.5).
#[derive(IntoParams)]
#[into_params(parameter_in = Header)]
pub(crate) struct XTokenHeader {
    /// Bearer token from `POST /nevisidm/api/principal/v1/token`; required when a `SelfAdmin`
    /// caller acts on itself, ignored otherwise.
    #[param(rename = "X-Token", nullable = false)]
    x_token: Option<String>,
}

/// `userState` of a user (SPEC §4.2).
#[derive(ToSchema)]
#[schema(rename_all = "lowercase")]
pub(crate) enum UserStateName {
    Active,
    Disabled,
    Archived,
}

/// `languageCode` of a user (SPEC §4.2).
#[derive(ToSchema)]
#[schema(rename_all = "UPPERCASE")]
pub(crate) enum LanguageCodeName {
    En,
    De,
    Fr,
    It,
}

/// `stateName` of a credential (SPEC §4.4).
#[derive(ToSchema)]
#[schema(rename_all = "kebab-case")]
pub(crate) enum CredentialStateName {
    Initial,
    Active,
    TmpLocked,
    FailLocked,
    ResetCode,
    AdminChanged,
    Disabled,
    Archived,
}

/// `type` of a credential (SPEC §4.3).
#[derive(ToSchema)]
pub(crate) enum CredentialTypeName {
    Password,
    Vasco,
    #[schema(rename = "OATH")]
    Oath,
}

/// `policyType` of a policy (SPEC §5).
#[derive(ToSchema)]
#[allow(clippy::enum_variant_names)] // The SPEC's names.
pub(crate) enum PolicyTypeName {
    PwdPolicy,
    VascoPolicy,
    OathPolicy,
}
