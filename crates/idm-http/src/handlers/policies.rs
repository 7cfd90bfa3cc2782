//! `/core/v1/:clientExtId/policies` (SPEC §8.4).

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};

use super::{blocking, param, API};
use crate::auth::authenticate;
use crate::body::JsonBody;
use crate::dto::doc;
use crate::dto::policy::{CreatePolicyRequest, PatchPolicyRequest, PolicyResponse};
use crate::dto::{created, json};
use crate::error::ApiError;
use crate::AppState;

/// `POST /core/v1/:clientExtId/policies` → 201 with the policy.
#[utoipa::path(
    post,
    path = "/nevisidm/api/core/v1/{clientExtId}/policies",
    operation_id = "createPolicy",
    tag = "policies",
    summary = "Create a policy (SPEC §8.4).",
    params(doc::ClientPath),
    request_body(content = CreatePolicyRequest, content_type = "application/json"),
    responses(
        (status = 201, description = "The policy.", body = PolicyResponse, headers(("Location" = String, description = "URL of the policy"))),
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
    body: JsonBody<CreatePolicyRequest>,
) -> Result<HttpResponse, ApiError> {
    let caller = authenticate(&state, &req).await?;
    let policies = state.policies.clone();
    let client = param(&req, "clientExtId");
    let cmd = body.0.map(Into::into);
    let view = blocking(move || policies.create_policy(&caller, &client, cmd)).await?;
    let location = format!(
        "{API}/core/v1/{}/policies/{}",
        view.client_ext_id, view.policy.ext_id
    );
    Ok(created(&location, &PolicyResponse::from(&view)))
}

/// `GET /core/v1/:clientExtId/policies/:extId` → 200 with the policy.
#[utoipa::path(
    get,
    path = "/nevisidm/api/core/v1/{clientExtId}/policies/{extId}",
    operation_id = "getPolicy",
    tag = "policies",
    summary = "Read a policy with every effective parameter (SPEC §8.4).",
    params(doc::ClientPath, doc::ExtIdPath),
    responses(
        (status = 200, description = "The policy.", body = PolicyResponse),
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
    let policies = state.policies.clone();
    let (client, ext_id) = (param(&req, "clientExtId"), param(&req, "extId"));
    let view = blocking(move || policies.get_policy(&caller, &client, &ext_id)).await?;
    Ok(json(StatusCode::OK, &PolicyResponse::from(&view)))
}

/// `PATCH /core/v1/:clientExtId/policies/:extId` → 200 with the changed policy.
#[utoipa::path(
    patch,
    path = "/nevisidm/api/core/v1/{clientExtId}/policies/{extId}",
    operation_id = "patchPolicy",
    tag = "policies",
    summary = "Change a policy; `parameters` are merged (SPEC §8.4).",
    params(doc::ClientPath, doc::ExtIdPath),
    request_body(content = PatchPolicyRequest, content_type = "application/json"),
    responses(
        (status = 200, description = "The changed policy.", body = PolicyResponse),
        (status = 400, response = doc::BadRequest),
        (status = 413, response = doc::PayloadTooLarge),
        (status = 415, response = doc::UnsupportedMediaType),
        (status = 401, response = doc::Unauthorized),
        (status = 403, response = doc::Forbidden),
        (status = 404, response = doc::NotFound),
        (status = 409, response = doc::Conflict),
        (status = 422, response = doc::Unprocessable),
        (status = 500, response = doc::InternalError),
        (status = 503, response = doc::Unavailable),
    ),
    security(("basic" = [])),
)]
pub(crate) async fn patch(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: JsonBody<PatchPolicyRequest>,
) -> Result<HttpResponse, ApiError> {
    let caller = authenticate(&state, &req).await?;
    let policies = state.policies.clone();
    let (client, ext_id) = (param(&req, "clientExtId"), param(&req, "extId"));
    let patch = body.0.map(Into::into);
    let view = blocking(move || policies.patch_policy(&caller, &client, &ext_id, patch)).await?;
    Ok(json(StatusCode::OK, &PolicyResponse::from(&view)))
}
