//! `/core/v1/:clientExtId/users/:userExtId/roles` (SPEC §8.3).

use actix_web::http::StatusCode;
use actix_web::{delete, get, post, web, HttpResponse};

use super::{blocking, API};
use crate::auth::Authenticated;
use crate::body::JsonBody;
use crate::dto::doc;
use crate::dto::page::ListResponse;
use crate::dto::role::{GrantResponse, GrantRoleRequest};
use crate::dto::{created, json};
use crate::error::ApiError;
use crate::extract::{RolePath, UserPath};
use crate::AppState;

/// `POST …/roles` → 201 with the grant.
#[utoipa::path(
    operation_id = "grantRole",
    tag = "roles",
    summary = "Grant a role with a data room (SPEC §8.3).",
    params(UserPath),
    request_body(content = GrantRoleRequest, content_type = "application/json"),
    responses(
        (status = 201, description = "The grant.", body = GrantResponse, headers(("Location" = String, description = "URL of the grant"))),
        doc::BodyErrors,
    ),
    security(("basic" = [])),
)]
#[post("/nevisidm/api/core/v1/{clientExtId}/users/{userExtId}/roles")]
pub(crate) async fn grant(
    Authenticated(caller): Authenticated,
    UserPath { client, user }: UserPath,
    body: JsonBody<GrantRoleRequest>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let roles = state.roles.clone();
    let cmd = body.0.map(Into::into);
    let (c, u) = (client.clone(), user.clone());
    let granted = blocking(move || roles.grant_role(&caller, &c, &u, cmd)).await?;
    // The use case resolved client and user, so both are valid extIds and safe in a path.
    let location = format!("{API}/core/v1/{client}/users/{user}/roles/{}", granted.role);
    Ok(created(&location, &GrantResponse::from(&granted)))
}

/// `GET …/roles` → 200 with every grant.
#[utoipa::path(
    operation_id = "listRoles",
    tag = "roles",
    summary = "The user's role grants (SPEC §8.3).",
    params(UserPath),
    responses(
        (status = 200, description = "Every grant (not paged).", body = ListResponse<GrantResponse>),
        doc::ReadErrors,
    ),
    security(("basic" = [])),
)]
#[get("/nevisidm/api/core/v1/{clientExtId}/users/{userExtId}/roles")]
pub(crate) async fn list(
    Authenticated(caller): Authenticated,
    UserPath { client, user }: UserPath,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let roles = state.roles.clone();
    let grants = blocking(move || roles.list_roles(&caller, &client, &user)).await?;
    let items = grants.iter().map(GrantResponse::from).collect();
    Ok(json(StatusCode::OK, &ListResponse::all(items)))
}

/// `DELETE …/roles/:role` → 204.
#[utoipa::path(
    operation_id = "revokeRole",
    tag = "roles",
    summary = "Revoke a role (SPEC §8.3).",
    params(UserPath, RolePath),
    responses(
        (status = 204, description = "Revoked."),
        doc::WriteErrors,
    ),
    security(("basic" = [])),
)]
#[delete("/nevisidm/api/core/v1/{clientExtId}/users/{userExtId}/roles/{role}")]
pub(crate) async fn revoke(
    Authenticated(caller): Authenticated,
    UserPath { client, user }: UserPath,
    RolePath { role }: RolePath,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let roles = state.roles.clone();
    blocking(move || roles.revoke_role(&caller, &client, &user, &role)).await?;
    Ok(HttpResponse::NoContent().finish())
}
