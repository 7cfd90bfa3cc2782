//! `/core/v1/:clientExtId/users/:userExtId/roles` (SPEC §8.3).

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};

use super::{blocking, param, API};
use crate::auth::authenticate;
use crate::body::JsonBody;
use crate::dto::doc;
use crate::dto::page::ListResponse;
use crate::dto::role::{GrantResponse, GrantRoleRequest};
use crate::dto::{created, json};
use crate::error::ApiError;
use crate::AppState;

/// `POST …/roles` → 201 with the grant.
#[utoipa::path(
    post,
    path = "/nevisidm/api/core/v1/{clientExtId}/users/{userExtId}/roles",
    operation_id = "grantRole",
    tag = "roles",
    summary = "Grant a role with a data room (SPEC §8.3).",
    params(doc::UserPath),
    request_body(content = GrantRoleRequest, content_type = "application/json"),
    responses(
        (status = 201, description = "The grant.", body = GrantResponse, headers(("Location" = String, description = "URL of the grant"))),
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
pub(crate) async fn grant(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: JsonBody<GrantRoleRequest>,
) -> Result<HttpResponse, ApiError> {
    let caller = authenticate(&state, &req).await?;
    let roles = state.roles.clone();
    let (client, user) = (param(&req, "clientExtId"), param(&req, "userExtId"));
    let cmd = body.0.map(Into::into);
    let (c, u) = (client.clone(), user.clone());
    let grant = blocking(move || roles.grant_role(&caller, &c, &u, cmd)).await?;
    // The use case resolved client and user, so both are valid extIds and safe in a path.
    let location = format!("{API}/core/v1/{client}/users/{user}/roles/{}", grant.role);
    Ok(created(&location, &GrantResponse::from(&grant)))
}

/// `GET …/roles` → 200 with every grant.
#[utoipa::path(
    get,
    path = "/nevisidm/api/core/v1/{clientExtId}/users/{userExtId}/roles",
    operation_id = "listRoles",
    tag = "roles",
    summary = "The user's role grants (SPEC §8.3).",
    params(doc::UserPath),
    responses(
        (status = 200, description = "Every grant (not paged).", body = ListResponse<GrantResponse>),
        (status = 401, response = doc::Unauthorized),
        (status = 403, response = doc::Forbidden),
        (status = 404, response = doc::NotFound),
        (status = 500, response = doc::InternalError),
        (status = 503, response = doc::Unavailable),
    ),
    security(("basic" = [])),
)]
pub(crate) async fn list(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let caller = authenticate(&state, &req).await?;
    let roles = state.roles.clone();
    let (client, user) = (param(&req, "clientExtId"), param(&req, "userExtId"));
    let grants = blocking(move || roles.list_roles(&caller, &client, &user)).await?;
    let items = grants.iter().map(GrantResponse::from).collect();
    Ok(json(StatusCode::OK, &ListResponse::all(items)))
}

/// `DELETE …/roles/:role` → 204.
#[utoipa::path(
    delete,
    path = "/nevisidm/api/core/v1/{clientExtId}/users/{userExtId}/roles/{role}",
    operation_id = "revokeRole",
    tag = "roles",
    summary = "Revoke a role (SPEC §8.3).",
    params(doc::UserPath, ("role" = String, Path, description = "Role name, e.g. `Helpdesk`.")),
    responses(
        (status = 204, description = "Revoked."),
        (status = 401, response = doc::Unauthorized),
        (status = 403, response = doc::Forbidden),
        (status = 404, response = doc::NotFound),
        (status = 422, response = doc::Unprocessable),
        (status = 500, response = doc::InternalError),
        (status = 503, response = doc::Unavailable),
    ),
    security(("basic" = [])),
)]
pub(crate) async fn revoke(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let caller = authenticate(&state, &req).await?;
    let roles = state.roles.clone();
    let (client, user, role) = (
        param(&req, "clientExtId"),
        param(&req, "userExtId"),
        param(&req, "role"),
    );
    blocking(move || roles.revoke_role(&caller, &client, &user, &role)).await?;
    Ok(HttpResponse::NoContent().finish())
}
