//! `/core/v1/:clientExtId/users/:userExtId/bulk-login-info` (SPEC §6.2).

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};

use super::{blocking, param};
use crate::auth::authenticate;
use crate::body::JsonBody;
use crate::dto::json;
use crate::dto::login_info::{LoginInfoRequest, LoginInfoResponse};
use crate::error::ApiError;
use crate::AppState;

/// `POST …/bulk-login-info` → 200 with the applied items and the per-entry errors, even when
/// every entry failed.
pub(crate) async fn bulk(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: JsonBody<LoginInfoRequest>,
) -> Result<HttpResponse, ApiError> {
    let caller = authenticate(&state, &req).await?;
    let service = state.login_info.clone();
    let (client, user) = (param(&req, "clientExtId"), param(&req, "userExtId"));
    let report = body.0.map(Into::into);
    let result = blocking(move || service.bulk_login_info(&caller, &client, &user, report)).await?;
    Ok(json(StatusCode::OK, &LoginInfoResponse::from(&result)))
}
