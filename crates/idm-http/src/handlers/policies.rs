//! `/core/v1/:clientExtId/policies` (SPEC §8.4).

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};

use super::{blocking, param, API};
use crate::auth::authenticate;
use crate::body::JsonBody;
use crate::dto::policy::{CreatePolicyRequest, PatchPolicyRequest, PolicyResponse};
use crate::dto::{created, json};
use crate::error::ApiError;
use crate::AppState;

/// `POST /core/v1/:clientExtId/policies` → 201 with the policy.
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
