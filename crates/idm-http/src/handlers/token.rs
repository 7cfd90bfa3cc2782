//! `/principal/v1/token`: the self-admin bearer token (SPEC §6.3).

use actix_web::http::StatusCode;
use actix_web::{post, web, HttpResponse};

use super::{blocking, no_store};
use crate::auth::Authenticated;
use crate::body::JsonBody;
use crate::dto::doc;
use crate::dto::json;
use crate::dto::token::{TokenRequestBody, TokenResponse};
use crate::error::ApiError;
use crate::AppState;

/// `POST /principal/v1/token` → 200 with the token, never cached on the way.
#[utoipa::path(
    operation_id = "issueToken",
    tag = "token",
    summary = "Issue the self-admin bearer token used as `X-Token` (SPEC §6.3).",
    request_body(content = TokenRequestBody, content_type = "application/json"),
    responses(
        (status = 200, description = "The token (`no-store`).", body = TokenResponse, headers(("Cache-Control" = String, description = "`no-store`"), ("Pragma" = String, description = "`no-cache`"))),
        doc::UnscopedBodyErrors,
    ),
    security(("basic" = [])),
)]
#[post("/nevisidm/api/principal/v1/token")]
pub(crate) async fn issue(
    Authenticated(caller): Authenticated,
    body: JsonBody<TokenRequestBody>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let tokens = state.tokens.clone();
    let request = body.0.map(Into::into);
    let issued = blocking(move || tokens.issue_token(&caller, request)).await?;
    Ok(no_store(json(StatusCode::OK, &TokenResponse::from(issued))))
}
