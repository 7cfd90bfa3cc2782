//! `/core/v1/:clientExtId/users` and the user's credential list (SPEC §8.2).

use actix_web::http::StatusCode;
use actix_web::{get, post, web, HttpResponse};

use super::{blocking, API};
use crate::auth::Authenticated;
use crate::body::JsonBody;
use crate::dto::credential::CredentialResponse;
use crate::dto::doc;
use crate::dto::page::ListResponse;
use crate::dto::user::{CreateUserRequest, UserResponse};
use crate::dto::{created, json};
use crate::error::ApiError;
use crate::extract::{ClientPath, Paging, UserPath};
use crate::AppState;

/// `POST /core/v1/:clientExtId/users` → 201 with the user.
#[utoipa::path(
    operation_id = "createUser",
    tag = "users",
    summary = "Create a user (SPEC §8.2).",
    params(ClientPath),
    request_body(content = CreateUserRequest, content_type = "application/json"),
    responses(
        (status = 201, description = "The created user.", body = UserResponse, headers(("Location" = String, description = "URL of the user"))),
        doc::BodyErrors,
    ),
    security(("basic" = [])),
)]
#[post("/nevisidm/api/core/v1/{clientExtId}/users")]
pub(crate) async fn create(
    Authenticated(caller): Authenticated,
    ClientPath { client }: ClientPath,
    body: JsonBody<CreateUserRequest>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let users = state.users.clone();
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
    operation_id = "getUser",
    tag = "users",
    summary = "Read a user (SPEC §8.2); SelfAdmin may read itself.",
    params(UserPath),
    responses(
        (status = 200, description = "The user.", body = UserResponse),
        doc::ReadErrors,
    ),
    security(("basic" = [])),
)]
#[get("/nevisidm/api/core/v1/{clientExtId}/users/{userExtId}")]
pub(crate) async fn get(
    Authenticated(caller): Authenticated,
    UserPath { client, user }: UserPath,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let users = state.users.clone();
    let view = blocking(move || users.get_user(&caller, &client, &user)).await?;
    Ok(json(StatusCode::OK, &UserResponse::from(&view)))
}

/// `GET /core/v1/:clientExtId/users/:userExtId/credentials` → 200 with one page. The query is
/// checked after authentication, before the use case (which takes a valid page request).
#[utoipa::path(
    operation_id = "listCredentials",
    tag = "users",
    summary = "One page of the user's credentials, common fields only (SPEC §8.2).",
    params(UserPath, Paging),
    responses(
        (status = 200, description = "One page of credentials.", body = ListResponse<CredentialResponse>),
        doc::CheckedErrors,
    ),
    security(("basic" = [])),
)]
#[get("/nevisidm/api/core/v1/{clientExtId}/users/{userExtId}/credentials")]
pub(crate) async fn list_credentials(
    Authenticated(caller): Authenticated,
    UserPath { client, user }: UserPath,
    Paging(page): Paging,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let users = state.users.clone();
    let page = blocking(move || users.list_credentials(&caller, &client, &user, page)).await?;
    Ok(json(
        StatusCode::OK,
        &ListResponse::page(&page, |r| CredentialResponse::from(r)),
    ))
}
