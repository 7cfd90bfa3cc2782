//! `/core/v1/:clientExtId/vasco` and the user's VASCO assignment (SPEC §6.4, §8.7).

use actix_web::http::StatusCode;
use actix_web::{get, post, put, web, HttpResponse};

use super::{blocking, API};
use crate::auth::Authenticated;
use crate::body::JsonBody;
use crate::dto::doc;
use crate::dto::page::ListResponse;
use crate::dto::vasco::{CreateVascoRequest, VascoResponse};
use crate::dto::{created, json};
use crate::error::ApiError;
use crate::extract::{ClientPath, ExtIdPath, Paging, UserPath};
use crate::AppState;

/// `POST /core/v1/:clientExtId/vasco` → 201 with the unassigned credential and `Location`.
#[utoipa::path(
    operation_id = "createVasco",
    tag = "vasco",
    summary = "Create an unassigned VASCO credential (SPEC §6.4).",
    params(ClientPath),
    request_body(content = CreateVascoRequest, content_type = "application/json"),
    responses(
        (status = 201, description = "The credential.", body = VascoResponse, headers(("Location" = String, description = "URL of the credential"))),
        doc::BodyErrors,
    ),
    security(("basic" = [])),
)]
#[post("/nevisidm/api/core/v1/{clientExtId}/vasco")]
pub(crate) async fn create(
    Authenticated(caller): Authenticated,
    ClientPath { client }: ClientPath,
    body: JsonBody<CreateVascoRequest>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let vasco = state.vasco.clone();
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
    operation_id = "listVasco",
    tag = "vasco",
    summary = "One page of the client's VASCO credentials (SPEC §8.7).",
    params(ClientPath, Paging),
    responses(
        (status = 200, description = "One page of VASCO credentials.", body = ListResponse<VascoResponse>),
        doc::CheckedErrors,
    ),
    security(("basic" = [])),
)]
#[get("/nevisidm/api/core/v1/{clientExtId}/vasco")]
pub(crate) async fn list(
    Authenticated(caller): Authenticated,
    ClientPath { client }: ClientPath,
    Paging(page): Paging,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let vasco = state.vasco.clone();
    let page = blocking(move || vasco.list_vasco(&caller, &client, page)).await?;
    Ok(json(
        StatusCode::OK,
        &ListResponse::page(&page, |r| VascoResponse::from(r)),
    ))
}

/// `GET /core/v1/:clientExtId/vasco/:extId` → 200 with the credential.
#[utoipa::path(
    operation_id = "getVasco",
    tag = "vasco",
    summary = "Read a VASCO credential (SPEC §8.7).",
    params(ClientPath, ExtIdPath),
    responses(
        (status = 200, description = "The credential.", body = VascoResponse),
        doc::ReadErrors,
    ),
    security(("basic" = [])),
)]
#[get("/nevisidm/api/core/v1/{clientExtId}/vasco/{extId}")]
pub(crate) async fn get(
    Authenticated(caller): Authenticated,
    ClientPath { client }: ClientPath,
    ExtIdPath { ext_id }: ExtIdPath,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let vasco = state.vasco.clone();
    let record = blocking(move || vasco.get_vasco(&caller, &client, &ext_id)).await?;
    Ok(json(StatusCode::OK, &VascoResponse::from(&record)))
}

/// `PUT /core/v1/:clientExtId/users/:userExtId/vasco/:extId` (no body; any sent is ignored)
/// → 200 with the assigned credential.
#[utoipa::path(
    operation_id = "assignVasco",
    tag = "vasco",
    summary = "Assign a VASCO credential to the user (SPEC §8.7). No body.",
    params(UserPath, ExtIdPath),
    responses(
        (status = 200, description = "The assigned credential.", body = VascoResponse),
        doc::WriteErrors,
    ),
    security(("basic" = [])),
)]
#[put("/nevisidm/api/core/v1/{clientExtId}/users/{userExtId}/vasco/{extId}")]
pub(crate) async fn assign(
    Authenticated(caller): Authenticated,
    UserPath { client, user }: UserPath,
    ExtIdPath { ext_id }: ExtIdPath,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let vasco = state.vasco.clone();
    let record = blocking(move || vasco.assign_vasco(&caller, &client, &user, &ext_id)).await?;
    Ok(json(StatusCode::OK, &VascoResponse::from(&record)))
}

/// `PUT /core/v1/:clientExtId/vasco/:extId/unassign` (no body; any sent is ignored) → 200
/// with the unassigned credential.
#[utoipa::path(
    operation_id = "unassignVasco",
    tag = "vasco",
    summary = "Remove the user of a VASCO credential (SPEC §8.7). No body.",
    params(ClientPath, ExtIdPath),
    responses(
        (status = 200, description = "The unassigned credential.", body = VascoResponse),
        doc::PlainWriteErrors,
    ),
    security(("basic" = [])),
)]
#[put("/nevisidm/api/core/v1/{clientExtId}/vasco/{extId}/unassign")]
pub(crate) async fn unassign(
    Authenticated(caller): Authenticated,
    ClientPath { client }: ClientPath,
    ExtIdPath { ext_id }: ExtIdPath,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let vasco = state.vasco.clone();
    let record = blocking(move || vasco.unassign_vasco(&caller, &client, &ext_id)).await?;
    Ok(json(StatusCode::OK, &VascoResponse::from(&record)))
}
