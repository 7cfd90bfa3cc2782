//! `/core/v1/:clientExtId/users/:userExtId/oath-credentials` (SPEC §6.5, §8.6).

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use idm_ports::usecases::OathCreated;

use super::{blocking, no_store, param, x_token, API};
use crate::auth::authenticate;
use crate::body::JsonBody;
use crate::dto::doc;
use crate::dto::oath::{CreateOathRequest, OathResponse};
use crate::dto::page::{page_request, ListResponse};
use crate::dto::{created, json};
use crate::error::ApiError;
use crate::AppState;

/// `POST …/oath-credentials` (optional `X-Token`) → 201 with the credential, its `uri`,
/// `Location` and `no-store`: the URI holds the plain secret.
#[utoipa::path(
    post,
    path = "/nevisidm/api/core/v1/{clientExtId}/users/{userExtId}/oath-credentials",
    operation_id = "createOath",
    tag = "oath",
    summary = "Create an OATH credential (SPEC §8.6); SelfAdmin needs `X-Token`.",
    params(doc::UserPath, doc::XTokenHeader),
    request_body(content = CreateOathRequest, content_type = "application/json"),
    responses(
        (status = 201, description = "The credential with its enrolment `uri` (`no-store`).", body = OathResponse, headers(("Location" = String, description = "URL of the credential"), ("Cache-Control" = String, description = "`no-store`"), ("Pragma" = String, description = "`no-cache`"))),
        (status = 400, response = doc::BadRequest),
        (status = 413, response = doc::PayloadTooLarge),
        (status = 415, response = doc::UnsupportedMediaType),
        (status = 401, response = doc::Unauthorized),
        (status = 403, response = doc::Forbidden),
        (status = 404, response = doc::NotFound),
        (status = 422, response = doc::Unprocessable),
        (status = 500, response = doc::InternalError),
        (status = 503, response = doc::Unavailable),
    ),
    security(("basic" = [])),
)]
pub(crate) async fn create(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: JsonBody<CreateOathRequest>,
) -> Result<HttpResponse, ApiError> {
    let caller = authenticate(&state, &req).await?;
    let oath = state.oath.clone();
    let (client, user) = (param(&req, "clientExtId"), param(&req, "userExtId"));
    let token = x_token(&req);
    let cmd = body.0.map(Into::into);
    let (c, u) = (client.clone(), user.clone());
    let OathCreated { record, uri } =
        blocking(move || oath.create_oath(&caller, &c, &u, token, cmd)).await?;
    // The use case resolved client and user and validated the extId: all path-safe.
    let location = format!(
        "{API}/core/v1/{client}/users/{user}/oath-credentials/{}",
        record.credential.ext_id
    );
    Ok(no_store(created(
        &location,
        &OathResponse::with_uri(&record, uri),
    )))
}

/// `GET …/oath-credentials` → 200 with one page, without `uri`. The query is checked after
/// authentication, before the use case.
#[utoipa::path(
    get,
    path = "/nevisidm/api/core/v1/{clientExtId}/users/{userExtId}/oath-credentials",
    operation_id = "listOath",
    tag = "oath",
    summary = "One page of the user's OATH credentials, without `uri` (SPEC §8.6).",
    params(doc::UserPath, doc::PageQuery),
    responses(
        (status = 200, description = "One page of OATH credentials.", body = ListResponse<OathResponse>),
        (status = 401, response = doc::Unauthorized),
        (status = 403, response = doc::Forbidden),
        (status = 404, response = doc::NotFound),
        (status = 422, response = doc::Unprocessable),
        (status = 500, response = doc::InternalError),
        (status = 503, response = doc::Unavailable),
    ),
    security(("basic" = [])),
)]
pub(crate) async fn list(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let caller = authenticate(&state, &req).await?;
    let page = page_request(req.query_string())?;
    let oath = state.oath.clone();
    let (client, user) = (param(&req, "clientExtId"), param(&req, "userExtId"));
    let page = blocking(move || oath.list_oath(&caller, &client, &user, page)).await?;
    Ok(json(
        StatusCode::OK,
        &ListResponse::page(&page, |r| OathResponse::from(r)),
    ))
}

/// `GET …/oath-credentials/:extId` → 200 with the credential, without `uri`.
#[utoipa::path(
    get,
    path = "/nevisidm/api/core/v1/{clientExtId}/users/{userExtId}/oath-credentials/{extId}",
    operation_id = "getOath",
    tag = "oath",
    summary = "Read an OATH credential, without `uri` (SPEC §6.5).",
    params(doc::UserPath, doc::ExtIdPath),
    responses(
        (status = 200, description = "The credential.", body = OathResponse),
        (status = 401, response = doc::Unauthorized),
        (status = 403, response = doc::Forbidden),
        (status = 404, response = doc::NotFound),
        (status = 500, response = doc::InternalError),
        (status = 503, response = doc::Unavailable),
    ),
    security(("basic" = [])),
)]
pub(crate) async fn get(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let caller = authenticate(&state, &req).await?;
    let oath = state.oath.clone();
    let (client, user, ext_id) = (
        param(&req, "clientExtId"),
        param(&req, "userExtId"),
        param(&req, "extId"),
    );
    let record = blocking(move || oath.get_oath(&caller, &client, &user, &ext_id)).await?;
    Ok(json(StatusCode::OK, &OathResponse::from(&record)))
}

/// `DELETE …/oath-credentials/:extId` (optional `X-Token`) → 204.
#[utoipa::path(
    delete,
    path = "/nevisidm/api/core/v1/{clientExtId}/users/{userExtId}/oath-credentials/{extId}",
    operation_id = "deleteOath",
    tag = "oath",
    summary = "Delete an OATH credential (SPEC §8.6); SelfAdmin needs `X-Token`.",
    params(doc::UserPath, doc::ExtIdPath, doc::XTokenHeader),
    responses(
        (status = 204, description = "Deleted."),
        (status = 401, response = doc::Unauthorized),
        (status = 403, response = doc::Forbidden),
        (status = 404, response = doc::NotFound),
        (status = 422, response = doc::Unprocessable),
        (status = 500, response = doc::InternalError),
        (status = 503, response = doc::Unavailable),
    ),
    security(("basic" = [])),
)]
pub(crate) async fn delete(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let caller = authenticate(&state, &req).await?;
    let oath = state.oath.clone();
    let (client, user, ext_id) = (
        param(&req, "clientExtId"),
        param(&req, "userExtId"),
        param(&req, "extId"),
    );
    let token = x_token(&req);
    blocking(move || oath.delete_oath(&caller, &client, &user, &ext_id, token)).await?;
    Ok(HttpResponse::NoContent().finish())
}
