//! `/core/v1/clients` (SPEC §8.1).

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};

use super::{blocking, param, API};
use crate::auth::authenticate;
use crate::body::JsonBody;
use crate::dto::client::{ClientResponse, CreateClientRequest};
use crate::dto::doc;
use crate::dto::{created, json};
use crate::error::ApiError;
use crate::AppState;

/// `POST /core/v1/clients` → 201 with the client.
#[utoipa::path(
    post,
    path = "/nevisidm/api/core/v1/clients",
    operation_id = "createClient",
    tag = "clients",
    summary = "Create a client with its default policies (SPEC §8.1).",
    request_body(content = CreateClientRequest, content_type = "application/json"),
    responses(
        (status = 201, description = "The created client.", body = ClientResponse, headers(("Location" = String, description = "URL of the client"))),
        (status = 400, response = doc::BadRequest),
        (status = 413, response = doc::PayloadTooLarge),
        (status = 415, response = doc::UnsupportedMediaType),
        (status = 401, response = doc::Unauthorized),
        (status = 403, response = doc::Forbidden),
        (status = 422, response = doc::Unprocessable),
        (status = 500, response = doc::InternalError),
        (status = 503, response = doc::Unavailable),
    ),
    security(("basic" = [])),
)]
pub(crate) async fn create(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: JsonBody<CreateClientRequest>,
) -> Result<HttpResponse, ApiError> {
    let caller = authenticate(&state, &req).await?;
    let clients = state.clients.clone();
    let cmd = body.0.map(Into::into);
    let client = blocking(move || clients.create_client(&caller, cmd)).await?;
    let location = format!("{API}/core/v1/clients/{}", client.ext_id);
    Ok(created(&location, &ClientResponse::from(&client)))
}

/// `GET /core/v1/clients/:extId` → 200 with the client.
#[utoipa::path(
    get,
    path = "/nevisidm/api/core/v1/clients/{extId}",
    operation_id = "getClient",
    tag = "clients",
    summary = "Read a client (SPEC §8.1).",
    params(doc::ExtIdPath),
    responses(
        (status = 200, description = "The client.", body = ClientResponse),
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
    let clients = state.clients.clone();
    let ext_id = param(&req, "extId");
    let client = blocking(move || clients.get_client(&caller, &ext_id)).await?;
    Ok(json(StatusCode::OK, &ClientResponse::from(&client)))
}
