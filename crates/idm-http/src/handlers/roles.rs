//! `/core/v1/:clientExtId/users/:userExtId/roles` (SPEC §8.3).

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};

use super::{blocking, param, API};
use crate::auth::authenticate;
use crate::body::JsonBody;
use crate::dto::page::ListResponse;
use crate::dto::role::{GrantResponse, GrantRoleRequest};
use crate::dto::{created, json};
use crate::error::ApiError;
use crate::AppState;

/// `POST …/roles` → 201 with the grant.
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
