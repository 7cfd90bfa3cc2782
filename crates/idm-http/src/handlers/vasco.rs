//! `/core/v1/:clientExtId/vasco` and the user's VASCO assignment (SPEC §6.4, §8.7).

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};

use super::{blocking, param, API};
use crate::auth::authenticate;
use crate::body::JsonBody;
use crate::dto::doc;
use crate::dto::page::{page_request, ListResponse};
use crate::dto::vasco::{CreateVascoRequest, VascoResponse};
use crate::dto::{created, json};
use crate::error::ApiError;
use crate::AppState;

/// `POST /core/v1/:clientExtId/vasco` → 201 with the unassigned credential and `Location`.
#[utoipa::path(
    post,
    path = "/nevisidm/api/core/v1/{clientExtId}/vasco",
    operation_id = "createVasco",
    tag = "vasco",
    summary = "Create an unassigned VASCO credential (SPEC §6.4).",
    params(doc::ClientPath),
    request_body(content = CreateVascoRequest, content_type = "application/json"),
    responses(
        (status = 201, description = "The credential.", body = VascoResponse, headers(("Location" = String, description = "URL of the credential"))),
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
    body: JsonBody<CreateVascoRequest>,
) -> Result<HttpResponse, ApiError> {
    let caller = authenticate(&state, &req).await?;
    let vasco = state.vasco.clone();
    let client = param(&req, "clientExtId");
    let cmd = body.0.map(Into::into);
    let c = client.clone();
    let record = blocking(move || vasco.create_vasco(&caller, &c, cmd)).await?;
    // The use case resolved the client and validated the extId, so both are path-safe.
    let location = format!("{API}/core/v1/{client}/vasco/{}", record.credential.ext_id);
    Ok(created(&location, &VascoResponse::from(&record)))
}

/// `GET /core/v1/:clientExtId/vasco` → 200 with one page. The query is checked after
/// authentication, before the use case.
#[utoipa::path(
    get,
    path = "/nevisidm/api/core/v1/{clientExtId}/vasco",
    operation_id = "listVasco",
    tag = "vasco",
    summary = "One page of the client's VASCO credentials (SPEC §8.7).",
    params(doc::ClientPath, doc::PageQuery),
    responses(
        (status = 200, description = "One page of VASCO credentials.", body = ListResponse<VascoResponse>),
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
    let vasco = state.vasco.clone();
    let client = param(&req, "clientExtId");
    let page = blocking(move || vasco.list_vasco(&caller, &client, page)).await?;
    Ok(json(
        StatusCode::OK,
        &ListResponse::page(&page, |r| VascoResponse::from(r)),
    ))
}

/// `GET /core/v1/:clientExtId/vasco/:extId` → 200 with the credential.
#[utoipa::path(
    get,
    path = "/nevisidm/api/core/v1/{clientExtId}/vasco/{extId}",
    operation_id = "getVasco",
    tag = "vasco",
    summary = "Read a VASCO credential (SPEC §8.7).",
    params(doc::ClientPath, doc::ExtIdPath),
    responses(
        (status = 200, description = "The credential.", body = VascoResponse),
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
    let vasco = state.vasco.clone();
    let (client, ext_id) = (param(&req, "clientExtId"), param(&req, "extId"));
    let record = blocking(move || vasco.get_vasco(&caller, &client, &ext_id)).await?;
    Ok(json(StatusCode::OK, &VascoResponse::from(&record)))
}

/// `PUT /core/v1/:clientExtId/users/:userExtId/vasco/:extId` (no body; any sent is ignored)
/// → 200 with the assigned credential.
#[utoipa::path(
    put,
    path = "/nevisidm/api/core/v1/{clientExtId}/users/{userExtId}/vasco/{extId}",
    operation_id = "assignVasco",
    tag = "vasco",
    summary = "Assign a VASCO credential to the user (SPEC §8.7). No body.",
    params(doc::UserPath, doc::ExtIdPath),
    responses(
        (status = 200, description = "The assigned credential.", body = VascoResponse),
        (status = 401, response = doc::Unauthorized),
        (status = 403, response = doc::Forbidden),
        (status = 404, response = doc::NotFound),
        (status = 422, response = doc::Unprocessable),
        (status = 500, response = doc::InternalError),
        (status = 503, response = doc::Unavailable),
    ),
    security(("basic" = [])),
)]
pub(crate) async fn assign(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let caller = authenticate(&state, &req).await?;
    let vasco = state.vasco.clone();
    let (client, user, ext_id) = (
        param(&req, "clientExtId"),
        param(&req, "userExtId"),
        param(&req, "extId"),
    );
    let record = blocking(move || vasco.assign_vasco(&caller, &client, &user, &ext_id)).await?;
    Ok(json(StatusCode::OK, &VascoResponse::from(&record)))
}

/// `PUT /core/v1/:clientExtId/vasco/:extId/unassign` (no body; any sent is ignored) → 200
/// with the unassigned credential.
#[utoipa::path(
    put,
    path = "/nevisidm/api/core/v1/{clientExtId}/vasco/{extId}/unassign",
    operation_id = "unassignVasco",
    tag = "vasco",
    summary = "Remove the user of a VASCO credential (SPEC §8.7). No body.",
    params(doc::ClientPath, doc::ExtIdPath),
    responses(
        (status = 200, description = "The unassigned credential.", body = VascoResponse),
        (status = 401, response = doc::Unauthorized),
        (status = 403, response = doc::Forbidden),
        (status = 404, response = doc::NotFound),
        (status = 500, response = doc::InternalError),
        (status = 503, response = doc::Unavailable),
    ),
    security(("basic" = [])),
)]
pub(crate) async fn unassign(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let caller = authenticate(&state, &req).await?;
    let vasco = state.vasco.clone();
    let (client, ext_id) = (param(&req, "clientExtId"), param(&req, "extId"));
    let record = blocking(move || vasco.unassign_vasco(&caller, &client, &ext_id)).await?;
    Ok(json(StatusCode::OK, &VascoResponse::from(&record)))
}
