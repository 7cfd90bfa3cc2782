//! `/principal/v1/me` and `/principal/v1/permissions`: the caller itself (SPEC §12).

use actix_web::http::StatusCode;
use actix_web::{get, web, HttpResponse};

use super::blocking;
use crate::auth::Authenticated;
use crate::dto::doc;
use crate::dto::json;
use crate::dto::principal::PermissionsResponse;
use crate::dto::user::UserResponse;
use crate::error::ApiError;
use crate::AppState;

/// `GET /principal/v1/me` → 200 with the caller's own user.
#[utoipa::path(
    operation_id = "getMe",
    tag = "principal",
    summary = "The caller's own user (SPEC §12); any authenticated caller.",
    responses(
        (status = 200, description = "The caller's user.", body = UserResponse),
        doc::OwnUserErrors,
    ),
    security(("basic" = [])),
)]
#[get("/nevisidm/api/principal/v1/me")]
pub(crate) async fn me(
    Authenticated(caller): Authenticated,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let users = state.users.clone();
    let view = blocking(move || users.me(&caller)).await?;
    Ok(json(StatusCode::OK, &UserResponse::from(&view)))
}

/// `GET /principal/v1/permissions` → 200 with the caller's grants and rights.
#[utoipa::path(
    operation_id = "getPermissions",
    tag = "principal",
    summary = "The caller's role grants and every right they give, with its clients (absent = global) (SPEC §12); any authenticated caller.",
    responses(
        (status = 200, description = "The caller's grants and rights.", body = PermissionsResponse),
        doc::CallerErrors,
    ),
    security(("basic" = [])),
)]
#[get("/nevisidm/api/principal/v1/permissions")]
pub(crate) async fn permissions(
    Authenticated(caller): Authenticated,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let users = state.users.clone();
    let permissions = blocking(move || users.permissions(&caller)).await?;
    Ok(json(
        StatusCode::OK,
        &PermissionsResponse::from(&permissions),
    ))
}
