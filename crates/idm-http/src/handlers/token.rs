//! `/principal/v1/token`: the self-admin bearer token (SPEC §6.3).

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};

use super::{blocking, no_store};
use crate::auth::authenticate;
use crate::body::JsonBody;
use crate::dto::json;
use crate::dto::token::{TokenRequestBody, TokenResponse};
use crate::error::ApiError;
use crate::AppState;

/// `POST /principal/v1/token` → 200 with the token, never cached on the way.
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
