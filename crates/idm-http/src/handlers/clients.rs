//! `/core/v1/clients` (SPEC §8.1).

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};

use super::{blocking, param, API};
use crate::auth::authenticate;
use crate::body::JsonBody;
use crate::dto::client::{ClientResponse, CreateClientRequest};
use crate::dto::{created, json};
use crate::error::ApiError;
use crate::AppState;

/// `POST /core/v1/clients` → 201 with the client.
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
