//! `/core/v1/clients` (SPEC §8.1, §12).

use actix_web::http::StatusCode;
use actix_web::{get, patch, post, web, HttpResponse};

use super::{blocking, API};
use crate::auth::Authenticated;
use crate::body::JsonBody;
use crate::dto::client::{ClientResponse, CreateClientRequest, PatchClientRequest};
use crate::dto::doc;
use crate::dto::page::ListResponse;
use crate::dto::{created, json};
use crate::error::ApiError;
use crate::extract::{ExtIdPath, Paging};
use crate::AppState;

/// `POST /core/v1/clients` → 201 with the client.
#[utoipa::path(
    operation_id = "createClient",
    tag = "clients",
    summary = "Create a client with its default policies (SPEC §8.1).",
    request_body(content = CreateClientRequest, content_type = "application/json"),
    responses(
        (status = 201, description = "The created client.", body = ClientResponse, headers(("Location" = String, description = "URL of the client"))),
        doc::UnscopedBodyErrors,
    ),
    security(("basic" = [])),
)]
#[post("/nevisidm/api/core/v1/clients")]
pub(crate) async fn create(
    Authenticated(caller): Authenticated,
    body: JsonBody<CreateClientRequest>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let clients = state.clients.clone();
    let cmd = body.0.map(Into::into);
    let client = blocking(move || clients.create_client(&caller, cmd)).await?;
    let location = format!("{API}/core/v1/clients/{}", client.ext_id);
    Ok(created(&location, &ClientResponse::from(&client)))
}

/// `GET /core/v1/clients/:extId` → 200 with the client.
#[utoipa::path(
    operation_id = "getClient",
    tag = "clients",
    summary = "Read a client (SPEC §8.1).",
    params(ExtIdPath),
    responses(
        (status = 200, description = "The client.", body = ClientResponse),
        doc::ReadErrors,
    ),
    security(("basic" = [])),
)]
#[get("/nevisidm/api/core/v1/clients/{extId}")]
pub(crate) async fn get(
    Authenticated(caller): Authenticated,
    ExtIdPath { ext_id }: ExtIdPath,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let clients = state.clients.clone();
    let client = blocking(move || clients.get_client(&caller, &ext_id)).await?;
    Ok(json(StatusCode::OK, &ClientResponse::from(&client)))
}

/// `GET /core/v1/clients` → 200 with one page of the clients the caller's `ClientView` covers.
#[utoipa::path(
    operation_id = "listClients",
    tag = "clients",
    summary = "One page of the clients the caller's ClientView covers (SPEC §12): every client for a global grant, the data room's clients otherwise.",
    params(Paging),
    responses(
        (status = 200, description = "One page of clients.", body = ListResponse<ClientResponse>),
        doc::UnscopedListErrors,
    ),
    security(("basic" = [])),
)]
#[get("/nevisidm/api/core/v1/clients")]
pub(crate) async fn list(
    Authenticated(caller): Authenticated,
    Paging(page): Paging,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let clients = state.clients.clone();
    let page = blocking(move || clients.list_clients(&caller, page)).await?;
    Ok(json(
        StatusCode::OK,
        &ListResponse::page(&page, |c| ClientResponse::from(c)),
    ))
}

/// `PATCH /core/v1/clients/:extId` → 200 with the client.
#[utoipa::path(
    operation_id = "patchClient",
    tag = "clients",
    summary = "Rename a client under optimistic locking (SPEC §12); the data room test uses :extId.",
    params(ExtIdPath),
    request_body(content = PatchClientRequest, content_type = "application/json"),
    responses(
        (status = 200, description = "The changed client.", body = ClientResponse),
        doc::PatchErrors,
    ),
    security(("basic" = [])),
)]
#[patch("/nevisidm/api/core/v1/clients/{extId}")]
pub(crate) async fn patch(
    Authenticated(caller): Authenticated,
    ExtIdPath { ext_id }: ExtIdPath,
    body: JsonBody<PatchClientRequest>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let clients = state.clients.clone();
    let patch = body.0.map(Into::into);
    let client = blocking(move || clients.patch_client(&caller, &ext_id, patch)).await?;
    Ok(json(StatusCode::OK, &ClientResponse::from(&client)))
}
