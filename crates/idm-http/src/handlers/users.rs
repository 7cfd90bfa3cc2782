//! `/core/v1/:clientExtId/users` and the user's credential list (SPEC §8.2); the user list,
//! PATCH and DELETE (SPEC §12).

use actix_web::http::StatusCode;
use actix_web::{delete, get, patch, post, web, HttpResponse};
use idm_ports::usecases::UserFilter;

use super::{blocking, API};
use crate::auth::Authenticated;
use crate::body::JsonBody;
use crate::dto::credential::CredentialResponse;
use crate::dto::doc;
use crate::dto::page::ListResponse;
use crate::dto::user::{CreateUserRequest, PatchUserRequest, UserResponse};
use crate::dto::{created, json};
use crate::error::ApiError;
use crate::extract::{ClientPath, Paging, UserFilters, UserPath, XToken};
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

/// `GET /core/v1/clients/:clientExtId/users` → 200 with one page of the client's users.
#[utoipa::path(
    operation_id = "listUsers",
    tag = "users",
    summary = "One page of the client's users, filtered (SPEC §12): loginId exact, email exact ignoring case, userState, q a prefix (ignoring case) of loginId, familyName or email; filters combine with AND.",
    params(ClientPath, UserFilters, Paging),
    responses(
        (status = 200, description = "One page of users.", body = ListResponse<UserResponse>),
        doc::CheckedErrors,
    ),
    security(("basic" = [])),
)]
#[get("/nevisidm/api/core/v1/clients/{clientExtId}/users")]
pub(crate) async fn list(
    Authenticated(caller): Authenticated,
    ClientPath { client }: ClientPath,
    filters: UserFilters,
    Paging(page): Paging,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let users = state.users.clone();
    let filter = UserFilter {
        login_id: filters.login_id,
        email: filters.email,
        user_state: filters.user_state,
        q: filters.q,
    };
    let page = blocking(move || users.list_users(&caller, &client, filter, page)).await?;
    Ok(json(
        StatusCode::OK,
        &ListResponse::page(&page, |v| UserResponse::from(v)),
    ))
}

/// `PATCH /core/v1/:clientExtId/users/:userExtId` → 200 with the user.
#[utoipa::path(
    operation_id = "patchUser",
    tag = "users",
    summary = "Change a user (SPEC §12): merge semantics, null removes; optimistic locking; SelfAdmin may change its own name, contacts and languageCode with an X-Token.",
    params(UserPath, XToken),
    request_body(content = PatchUserRequest, content_type = "application/json"),
    responses(
        (status = 200, description = "The changed user.", body = UserResponse),
        doc::PatchErrors,
    ),
    security(("basic" = [])),
)]
#[patch("/nevisidm/api/core/v1/{clientExtId}/users/{userExtId}")]
pub(crate) async fn patch(
    Authenticated(caller): Authenticated,
    UserPath { client, user }: UserPath,
    XToken(x_token): XToken,
    body: JsonBody<PatchUserRequest>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let users = state.users.clone();
    let patch = body.0.map(Into::into);
    let view = blocking(move || users.patch_user(&caller, &client, &user, x_token, patch)).await?;
    Ok(json(StatusCode::OK, &UserResponse::from(&view)))
}

/// `DELETE /core/v1/:clientExtId/users/:userExtId` → 204.
#[utoipa::path(
    operation_id = "deleteUser",
    tag = "users",
    summary = "Delete a user with its Password and OATH credentials, role grants and pending deliveries; its VASCO credentials return to stock (SPEC §12). Not oneself, not the last active Root.",
    params(UserPath),
    responses(
        (status = 204, description = "Deleted."),
        doc::WriteErrors,
    ),
    security(("basic" = [])),
)]
#[delete("/nevisidm/api/core/v1/{clientExtId}/users/{userExtId}")]
pub(crate) async fn delete(
    Authenticated(caller): Authenticated,
    UserPath { client, user }: UserPath,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let users = state.users.clone();
    blocking(move || users.delete_user(&caller, &client, &user)).await?;
    Ok(HttpResponse::NoContent().finish())
}
