//! `/core/v1/:clientExtId/policies` (SPEC §8.4).

use actix_web::http::StatusCode;
use actix_web::{get, patch, post, web, HttpResponse};

use super::{blocking, API};
use crate::auth::Authenticated;
use crate::body::JsonBody;
use crate::dto::doc;
use crate::dto::policy::{CreatePolicyRequest, PatchPolicyRequest, PolicyResponse};
use crate::dto::{created, json};
use crate::error::ApiError;
use crate::extract::{ClientPath, ExtIdPath};
use crate::AppState;

/// `POST /core/v1/:clientExtId/policies` → 201 with the policy.
#[utoipa::path(
    operation_id = "createPolicy",
    tag = "policies",
    summary = "Create a policy (SPEC §8.4).",
    params(ClientPath),
    request_body(content = CreatePolicyRequest, content_type = "application/json"),
    responses(
        (status = 201, description = "The policy.", body = PolicyResponse, headers(("Location" = String, description = "URL of the policy"))),
        doc::BodyErrors,
    ),
    security(("basic" = [])),
)]
#[post("/nevisidm/api/core/v1/{clientExtId}/policies")]
pub(crate) async fn create(
    Authenticated(caller): Authenticated,
    ClientPath { client }: ClientPath,
    body: JsonBody<CreatePolicyRequest>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let policies = state.policies.clone();
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
    operation_id = "getPolicy",
    tag = "policies",
    summary = "Read a policy with every effective parameter (SPEC §8.4).",
    params(ClientPath, ExtIdPath),
    responses(
        (status = 200, description = "The policy.", body = PolicyResponse),
        doc::ReadErrors,
    ),
    security(("basic" = [])),
)]
#[get("/nevisidm/api/core/v1/{clientExtId}/policies/{extId}")]
pub(crate) async fn get(
    Authenticated(caller): Authenticated,
    ClientPath { client }: ClientPath,
    ExtIdPath { ext_id }: ExtIdPath,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let policies = state.policies.clone();
    let view = blocking(move || policies.get_policy(&caller, &client, &ext_id)).await?;
    Ok(json(StatusCode::OK, &PolicyResponse::from(&view)))
}

/// `PATCH /core/v1/:clientExtId/policies/:extId` → 200 with the changed policy.
#[utoipa::path(
    operation_id = "patchPolicy",
    tag = "policies",
    summary = "Change a policy; `parameters` are merged (SPEC §8.4).",
    params(ClientPath, ExtIdPath),
    request_body(content = PatchPolicyRequest, content_type = "application/json"),
    responses(
        (status = 200, description = "The changed policy.", body = PolicyResponse),
        doc::PatchErrors,
    ),
    security(("basic" = [])),
)]
#[patch("/nevisidm/api/core/v1/{clientExtId}/policies/{extId}")]
pub(crate) async fn patch(
    Authenticated(caller): Authenticated,
    ClientPath { client }: ClientPath,
    ExtIdPath { ext_id }: ExtIdPath,
    body: JsonBody<PatchPolicyRequest>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let policies = state.policies.clone();
    let changes = body.0.map(Into::into);
    let view = blocking(move || policies.patch_policy(&caller, &client, &ext_id, changes)).await?;
    Ok(json(StatusCode::OK, &PolicyResponse::from(&view)))
}
