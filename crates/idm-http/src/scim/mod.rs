//! SCIM 2.0 for provisioning (SPEC §14; RFC 7643 schema, RFC 7644 protocol) at
//! `/nevisidm/api/scim/v1/:clientExtId`: one more inbound adapter over the user use cases of
//! SPEC §8.2/§12, not a second user model.
//!
//! * Users: create → `UserService::create_user`, read → `get_user`, PUT/PATCH → `patch_user`
//!   (the SCIM operations become the core merge-PATCH, see [`dto`] and [`patch`]), delete →
//!   `delete_user`, list and `.search` → `search_users` with a typed query ([`filter`]) that the
//!   database evaluates. Rights, data rooms (`:clientExtId`), SPEC §10.1 and the history come
//!   with the use cases.
//! * Every error is the SCIM error schema ([`errors`]), also a 401 from the shared Basic
//!   authentication and the 404/405 of an unknown SCIM path.
//! * Requests may be `application/scim+json` or `application/json`; answers are
//!   `application/scim+json`. Resources carry `ETag: W/"<version>"`.
//! * Discovery ([`discovery`]): `ServiceProviderConfig`, `ResourceTypes`, `Schemas`.
//!
//! SPEC §3.4 orders a request's checks: rights, client, user, then the body and parameters. A
//! SCIM write reads the user first (PATCH needs the representation) and a list parses its
//! filter first; when either fails, or has nothing to write, the handler asks the write's own
//! use case with a refused body ([`handlers`]' `write_refusal`), so the answer is still the
//! first failure in SPEC order, and nothing is written.

pub(crate) mod discovery;
pub(crate) mod dto;
pub(crate) mod errors;
pub(crate) mod filter;
pub(crate) mod handlers;
pub(crate) mod patch;

use std::convert::Infallible;
use std::future::{ready, Future, Ready};
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::header::{self, HeaderValue, CONTENT_TYPE};
use actix_web::http::StatusCode;
use actix_web::{web, FromRequest, HttpRequest, HttpResponse};
use idm_ports::usecases::Body;
use idm_ports::{AppError, BodyRejection, Caller};
use serde_json::Value;
use utoipa::IntoParams;

use crate::auth::Authenticated;
use errors::ScimError;

/// The base path of the SCIM endpoints.
pub(crate) const BASE: &str = "/nevisidm/api/scim/v1";
/// The core User schema.
pub(crate) const USER_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
/// A list answer.
pub(crate) const LIST_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
/// An error answer.
pub(crate) const ERROR_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:Error";
/// The media type of every SCIM answer.
pub(crate) const MEDIA_TYPE: &str = "application/scim+json";

/// Whether `path` is under the SCIM base (its 404/405 answer the SCIM error schema).
pub(crate) fn is_scim_path(path: &str) -> bool {
    path.starts_with(BASE) && matches!(path.as_bytes().get(BASE.len()), None | Some(b'/'))
}

/// The 404/405 of the default service on a SCIM path.
pub(crate) fn fallback(allow: Vec<&'static str>) -> HttpResponse {
    let e = if allow.is_empty() {
        ScimError::unknown_resource()
    } else {
        ScimError::method_not_allowed(allow.join(", "))
    };
    actix_web::ResponseError::error_response(&e)
}

/// Adds the SCIM parts that are no handler's to the OpenAPI document: the error schema and
/// its reusable responses.
pub(crate) struct ScimDoc;

impl utoipa::Modify for ScimDoc {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        errors::add_components(openapi);
    }
}

// ---- extractors -----------------------------------------------------------------------------

/// The authenticated caller (the shared Basic authentication of SPEC §3.1), failing with the
/// SCIM error schema.
pub(crate) struct ScimCaller(pub(crate) Caller);

impl FromRequest for ScimCaller {
    type Error = ScimError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ScimError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let inner = Authenticated::from_request(req, payload);
        Box::pin(async move {
            inner
                .await
                .map(|Authenticated(caller)| ScimCaller(caller))
                .map_err(ScimError::from)
        })
    }
}

/// A path parameter as sent (percent-decoded); absent is empty.
fn param(req: &HttpRequest, name: &str) -> String {
    req.match_info().get(name).unwrap_or_default().to_owned()
}

/// `:clientExtId` and `:id` of a SCIM resource path.
#[derive(IntoParams)]
#[into_params(parameter_in = Path)]
pub(crate) struct ScimIdPath {
    /// External ID of the client (the data room).
    #[param(rename = "clientExtId")]
    pub(crate) client: String,
    /// The resource's `id` (a user's extId).
    pub(crate) id: String,
}

impl FromRequest for ScimIdPath {
    type Error = Infallible;
    type Future = Ready<Result<Self, Infallible>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(Ok(ScimIdPath {
            client: param(req, "clientExtId"),
            id: param(req, "id"),
        }))
    }
}

/// The query of a request as (name, value) pairs; names compare ignoring case.
pub(crate) struct Query(Vec<(String, String)>);

impl Query {
    /// The last value of `name`.
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .rev()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The `attributes`/`excludedAttributes` of the query.
    pub(crate) fn projection(&self) -> dto::Projection {
        dto::Projection::from_query(self.get("attributes"), self.get("excludedAttributes"))
    }
}

impl FromRequest for Query {
    type Error = Infallible;
    type Future = Ready<Result<Self, Infallible>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let pairs = web::Query::<Vec<(String, String)>>::from_query(req.query_string())
            .map(web::Query::into_inner)
            .unwrap_or_default();
        ready(Ok(Query(pairs)))
    }
}

/// The `filter`, paging and projection parameters of a list (documentation of [`Query`]).
#[derive(IntoParams)]
#[into_params(parameter_in = Query, rename_all = "camelCase")]
#[allow(dead_code)]
pub(crate) struct ListQueryDoc {
    /// A SCIM filter (RFC 7644 §3.4.2.2) on userName, externalId, name.givenName,
    /// name.familyName, emails.value (also `emails[type eq "work"]`), active, meta.created or
    /// meta.lastModified.
    #[param(nullable = false, example = "userName eq \"bjensen\"")]
    filter: Option<String>,
    /// 1-based index of the first result; default 1 (less than 1 counts as 1).
    #[param(nullable = false)]
    start_index: Option<i64>,
    /// Page size; default 100, at most 1000 (more counts as 1000, less than 0 as 0).
    #[param(nullable = false)]
    count: Option<i64>,
    /// Comma-separated attributes to return (`id` and `schemas` always come).
    #[param(nullable = false)]
    attributes: Option<String>,
    /// Comma-separated attributes to leave out.
    #[param(nullable = false)]
    excluded_attributes: Option<String>,
}

/// The projection parameters of a request that answers a resource (documentation of [`Query`]).
#[derive(IntoParams)]
#[into_params(parameter_in = Query, rename_all = "camelCase")]
#[allow(dead_code)]
pub(crate) struct AttributesQueryDoc {
    /// Comma-separated attributes to return (`id` and `schemas` always come).
    #[param(nullable = false)]
    attributes: Option<String>,
    /// Comma-separated attributes to leave out.
    #[param(nullable = false)]
    excluded_attributes: Option<String>,
}

/// The `If-Match` header (documentation of [`Precondition`]).
#[derive(IntoParams)]
#[into_params(parameter_in = Header)]
#[allow(dead_code)]
pub(crate) struct IfMatchDoc {
    /// The `ETag` of the version the change is for (`W/"3"`), or `*`; another stored version
    /// answers 412.
    #[param(rename = "If-Match", nullable = false)]
    if_match: Option<String>,
}

/// The `If-None-Match` header (documentation of [`Precondition`]).
#[derive(IntoParams)]
#[into_params(parameter_in = Header)]
#[allow(dead_code)]
pub(crate) struct IfNoneMatchDoc {
    /// The `ETag` the caller holds; when it is still current the answer is 304.
    #[param(rename = "If-None-Match", nullable = false)]
    if_none_match: Option<String>,
}

/// An `If-Match`/`If-None-Match` condition (RFC 7232, weak comparison).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Precondition {
    /// `*`.
    Any,
    /// The versions of the listed entity tags (tags that are not ours match nothing).
    Versions(Vec<i64>),
}

impl Precondition {
    /// The condition of header `name`, when sent.
    pub(crate) fn of(req: &HttpRequest, name: header::HeaderName) -> Option<Precondition> {
        let values: Vec<&str> = req
            .headers()
            .get_all(name)
            .filter_map(|v| v.to_str().ok())
            .collect();
        if values.is_empty() {
            return None;
        }
        let tags: Vec<&str> = values
            .iter()
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .collect();
        if tags.contains(&"*") {
            return Some(Precondition::Any);
        }
        let versions = tags
            .iter()
            .filter_map(|t| {
                let t = t
                    .strip_prefix("W/")
                    .or_else(|| t.strip_prefix("w/"))
                    .unwrap_or(t);
                t.strip_prefix('"')?.strip_suffix('"')?.parse::<i64>().ok()
            })
            .collect();
        Some(Precondition::Versions(versions))
    }

    /// Whether the stored `version` satisfies the condition.
    pub(crate) fn admits(&self, version: i64) -> bool {
        match self {
            Precondition::Any => true,
            Precondition::Versions(v) => v.contains(&version),
        }
    }
}

/// `If-Match` of the request.
pub(crate) struct IfMatch(pub(crate) Option<Precondition>);

impl FromRequest for IfMatch {
    type Error = Infallible;
    type Future = Ready<Result<Self, Infallible>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(Ok(IfMatch(Precondition::of(req, header::IF_MATCH))))
    }
}

impl IntoParams for IfMatch {
    fn into_params(
        parameter_in_provider: impl Fn() -> Option<utoipa::openapi::path::ParameterIn>,
    ) -> Vec<utoipa::openapi::path::Parameter> {
        IfMatchDoc::into_params(parameter_in_provider)
    }
}

/// `If-None-Match` of the request.
pub(crate) struct IfNoneMatch(pub(crate) Option<Precondition>);

impl FromRequest for IfNoneMatch {
    type Error = Infallible;
    type Future = Ready<Result<Self, Infallible>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(Ok(IfNoneMatch(Precondition::of(
            req,
            header::IF_NONE_MATCH,
        ))))
    }
}

impl IntoParams for IfNoneMatch {
    fn into_params(
        parameter_in_provider: impl Fn() -> Option<utoipa::openapi::path::ParameterIn>,
    ) -> Vec<utoipa::openapi::path::Parameter> {
        IfNoneMatchDoc::into_params(parameter_in_provider)
    }
}

/// A SCIM request body: any JSON but `null`, or the rejection to report at SPEC §3.4 step 6.
/// Never fails the request itself.
pub(crate) struct ScimBody(pub(crate) Body<Value>);

/// `application/scim+json` or `application/json`, with any parameters, in any letter case.
fn is_scim_media_type(value: &str) -> bool {
    value.split(';').next().is_some_and(|essence| {
        let essence = essence.trim();
        essence.eq_ignore_ascii_case("application/scim+json")
            || essence.eq_ignore_ascii_case("application/json")
    })
}

/// No body → required; not JSON by its type → 415; not JSON → malformed; `null` → required.
fn parse_body(bytes: &[u8], is_json: bool) -> Result<Value, BodyRejection> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(BodyRejection::Missing);
    }
    if !is_json {
        return Err(BodyRejection::UnsupportedMediaType);
    }
    match serde_json::from_slice(bytes) {
        Ok(Value::Null) => Err(BodyRejection::Missing),
        Ok(v) => Ok(v),
        Err(_) => Err(BodyRejection::MalformedJson),
    }
}

impl FromRequest for ScimBody {
    type Error = actix_web::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let body = crate::body::read_capped(req, payload, is_scim_media_type);
        Box::pin(async move {
            let result = body
                .await
                .and_then(|(bytes, is_json)| parse_body(&bytes, is_json));
            Ok(ScimBody(result.map_err(AppError::BadBody)))
        })
    }
}

// ---- answers --------------------------------------------------------------------------------

/// A SCIM JSON answer.
pub(crate) fn respond(status: StatusCode, body: &Value) -> HttpResponse {
    HttpResponse::build(status)
        .insert_header((CONTENT_TYPE, HeaderValue::from_static(MEDIA_TYPE)))
        .json(body)
}

/// A resource answer with its `ETag`.
pub(crate) fn respond_versioned(status: StatusCode, body: &Value, version: i64) -> HttpResponse {
    let mut res = respond(status, body);
    if let Ok(v) = HeaderValue::from_str(&dto::etag(version)) {
        res.headers_mut().insert(header::ETAG, v);
    }
    res
}

#[cfg(test)]
mod tests {
    use actix_web::test::TestRequest;

    use super::*;

    fn condition(value: &str) -> Option<Precondition> {
        let req = TestRequest::default()
            .insert_header((header::IF_MATCH, value))
            .to_http_request();
        Precondition::of(&req, header::IF_MATCH)
    }

    #[test]
    fn entity_tags() {
        assert_eq!(condition("W/\"3\""), Some(Precondition::Versions(vec![3])));
        assert_eq!(
            condition("\"3\", W/\"4\""),
            Some(Precondition::Versions(vec![3, 4]))
        );
        assert_eq!(condition("*"), Some(Precondition::Any));
        assert_eq!(condition("garbage"), Some(Precondition::Versions(vec![])));
        assert!(!condition("garbage").unwrap().admits(1));
        assert!(condition("W/\"7\"").unwrap().admits(7));
        let none = TestRequest::default().to_http_request();
        assert_eq!(Precondition::of(&none, header::IF_MATCH), None);
    }

    #[test]
    fn scim_paths_and_media_types() {
        assert!(is_scim_path("/nevisidm/api/scim/v1"));
        assert!(is_scim_path("/nevisidm/api/scim/v1/acme/Nope"));
        assert!(!is_scim_path("/nevisidm/api/scim/v10"));
        assert!(!is_scim_path("/nevisidm/api/core/v1/acme/users"));
        assert!(is_scim_media_type("application/scim+json"));
        assert!(is_scim_media_type("Application/JSON; charset=utf-8"));
        assert!(!is_scim_media_type("text/plain"));
        assert_eq!(
            parse_body(b"{}", false),
            Err(BodyRejection::UnsupportedMediaType)
        );
        assert_eq!(parse_body(b" ", true), Err(BodyRejection::Missing));
        assert_eq!(parse_body(b"null", true), Err(BodyRejection::Missing));
        assert_eq!(parse_body(b"{", true), Err(BodyRejection::MalformedJson));
        assert_eq!(parse_body(b"[1]", true), Ok(serde_json::json!([1])));
    }
}
