//! `/core/v1/:clientExtId/users/:userExtId/bulk-login-info` (SPEC §6.2).

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};

use super::{blocking, param};
use crate::auth::authenticate;
use crate::body::JsonBody;
use crate::dto::doc;
use crate::dto::json;
use crate::dto::login_info::{LoginInfoRequest, LoginInfoResponse};
use crate::error::ApiError;
use crate::AppState;

/// `POST …/bulk-login-info` → 200 with the applied items and the per-entry errors, even when
/// every entry failed.
#[utoipa::path(
    post,
    path = "/nevisidm/api/core/v1/{clientExtId}/users/{userExtId}/bulk-login-info",
    operation_id = "bulkLoginInfo",
    tag = "login-info",
    summary = "Report logins of the user and its credentials (SPEC §6.2).",
    params(doc::UserPath),
    request_body(content = LoginInfoRequest, content_type = "application/json"),
    responses(
        (status = 200, description = "Applied items and per-entry errors, even when every entry failed.", body = LoginInfoResponse),
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
