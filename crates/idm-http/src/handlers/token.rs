//! `/principal/v1/token`: the self-admin bearer token (SPEC §6.3).

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};

use super::{blocking, no_store};
use crate::auth::authenticate;
use crate::body::JsonBody;
use crate::dto::doc;
use crate::dto::json;
use crate::dto::token::{TokenRequestBody, TokenResponse};
use crate::error::ApiError;
use crate::AppState;

/// `POST /principal/v1/token` → 200 with the token, never cached on the way.
#[utoipa::path(
    post,
    path = "/nevisidm/api/principal/v1/token",
    operation_id = "issueToken",
    tag = "token",
    summary = "Issue the self-admin bearer token used as `X-Token` (SPEC §6.3).",
    request_body(content = TokenRequestBody, content_type = "application/json"),
    responses(
        (status = 200, description = "The token (`no-store`).", body = TokenResponse, headers(("Cache-Control" = String, description = "`no-store`"), ("Pragma" = String, description = "`no-cache`"))),
        (status = 400, response = doc::BadRequest),
        (status = 413, response = doc::PayloadTooLarge),
        (status = 415, response = doc::UnsupportedMediaType),
        (status = 401, response = doc::Unauthorized),
        (status = 403, response = doc::Forbidden),
        (status = 422, response = doc::Unprocessable),
        (status = 500, response = doc::InternalError),
        (status = 503, response = doc::Unavailable),
    ),
    security(("basic" = [])),
)]
pub(crate) async fn issue(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: JsonBody<TokenRequestBody>,
) -> Result<HttpResponse, ApiError> {
    let caller = authenticate(&state, &req).await?;
    let tokens = state.tokens.clone();
    let request = body.0.map(Into::into);
    let issued = blocking(move || tokens.issue_token(&caller, request)).await?;
    Ok(no_store(json(StatusCode::OK, &TokenResponse::from(issued))))
}
