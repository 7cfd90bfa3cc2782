//! `/core/v1/:clientExtId/users` and the user's credential list (SPEC §8.2).

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};

use super::{blocking, param, API};
use crate::auth::authenticate;
use crate::body::JsonBody;
use crate::dto::credential::CredentialResponse;
use crate::dto::page::{page_request, ListResponse};
use crate::dto::user::{CreateUserRequest, UserResponse};
use crate::dto::{created, json};
use crate::error::ApiError;
use crate::AppState;

/// `POST /core/v1/:clientExtId/users` → 201 with the user.
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
