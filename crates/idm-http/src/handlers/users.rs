//! `/core/v1/:clientExtId/users` and the user's credential list (SPEC §8.2).

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};

use super::{blocking, param, API};
use crate::auth::authenticate;
use crate::body::JsonBody;
use crate::dto::credential::CredentialResponse;
use crate::dto::doc;
use crate::dto::page::{page_request, ListResponse};
use crate::dto::user::{CreateUserRequest, UserResponse};
use crate::dto::{created, json};
use crate::error::ApiError;
use crate::AppState;

/// `POST /core/v1/:clientExtId/users` → 201 with the user.
#[utoipa::path(
    post,
    path = "/nevisidm/api/core/v1/{clientExtId}/users",
    operation_id = "createUser",
    tag = "users",
    summary = "Create a user (SPEC §8.2).",
    params(doc::ClientPath),
    request_body(content = CreateUserRequest, content_type = "application/json"),
    responses(
        (status = 201, description = "The created user.", body = UserResponse, headers(("Location" = String, description = "URL of the user"))),
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
    body: JsonBody<CreateUserRequest>,
) -> Result<HttpResponse, ApiError> {
    let caller = authenticate(&state, &req).await?;
    let users = state.users.clone();
    let client = param(&req, "clientExtId");
    let cmd = body.0.map(Into::into);
    let view = blocking(move || users.create_user(&caller, &client, cmd)).await?;
    let location = format!(
        "{API}/core/v1/{}/users/{}",
        view.client_ext_id, view.user.ext_id
    );
    Ok(created(&location, &UserResponse::from(&view)))
}

/// `GET /core/v1/:clientExtId/users/:userExtId` → 200 with the user.
#[utoipa::path(
    get,
    path = "/nevisidm/api/core/v1/{clientExtId}/users/{userExtId}",
    operation_id = "getUser",
    tag = "users",
    summary = "Read a user (SPEC §8.2); SelfAdmin may read itself.",
    params(doc::UserPath),
    responses(
        (status = 200, description = "The user.", body = UserResponse),
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
    let users = state.users.clone();
    let (client, user) = (param(&req, "clientExtId"), param(&req, "userExtId"));
    let view = blocking(move || users.get_user(&caller, &client, &user)).await?;
    Ok(json(StatusCode::OK, &UserResponse::from(&view)))
}

/// `GET /core/v1/:clientExtId/users/:userExtId/credentials` → 200 with one page.
/// The query is checked after authentication, before the use case (which takes a valid
/// page request).
#[utoipa::path(
    get,
    path = "/nevisidm/api/core/v1/{clientExtId}/users/{userExtId}/credentials",
    operation_id = "listCredentials",
    tag = "users",
    summary = "One page of the user's credentials, common fields only (SPEC §8.2).",
    params(doc::UserPath, doc::PageQuery),
    responses(
        (status = 200, description = "One page of credentials.", body = ListResponse<CredentialResponse>),
        (status = 401, response = doc::Unauthorized),
        (status = 403, response = doc::Forbidden),
        (status = 404, response = doc::NotFound),
        (status = 422, response = doc::Unprocessable),
        (status = 500, response = doc::InternalError),
        (status = 503, response = doc::Unavailable),
    ),
    security(("basic" = [])),
)]
pub(crate) async fn list_credentials(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let caller = authenticate(&state, &req).await?;
    let page = page_request(req.query_string())?;
    let users = state.users.clone();
    let (client, user) = (param(&req, "clientExtId"), param(&req, "userExtId"));
    let page = blocking(move || users.list_credentials(&caller, &client, &user, page)).await?;
    Ok(json(
        StatusCode::OK,
        &ListResponse::page(&page, |r| CredentialResponse::from(r)),
    ))
}
