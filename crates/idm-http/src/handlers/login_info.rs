//! `/core/v1/:clientExtId/users/:userExtId/bulk-login-info` (SPEC §6.2).

use actix_web::http::StatusCode;
use actix_web::{post, web, HttpResponse};

use super::blocking;
use crate::auth::Authenticated;
use crate::body::JsonBody;
use crate::dto::doc;
use crate::dto::json;
use crate::dto::login_info::{LoginInfoRequest, LoginInfoResponse};
use crate::error::ApiError;
use crate::extract::UserPath;
use crate::AppState;

/// `POST …/bulk-login-info` → 200 with the applied items and the per-entry errors, even when
/// every entry failed.
#[utoipa::path(
    operation_id = "bulkLoginInfo",
    tag = "login-info",
    summary = "Report logins of the user and its credentials (SPEC §6.2).",
    params(UserPath),
    request_body(content = LoginInfoRequest, content_type = "application/json"),
    responses(
        (status = 200, description = "Applied items and per-entry errors, even when every entry failed.", body = LoginInfoResponse),
        doc::BodyErrors,
    ),
    security(("basic" = [])),
)]
#[post("/nevisidm/api/core/v1/{clientExtId}/users/{userExtId}/bulk-login-info")]
pub(crate) async fn bulk(
    Authenticated(caller): Authenticated,
    UserPath { client, user }: UserPath,
    body: JsonBody<LoginInfoRequest>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let service = state.login_info.clone();
    let report = body.0.map(Into::into);
    let result = blocking(move || service.bulk_login_info(&caller, &client, &user, report)).await?;
    Ok(json(StatusCode::OK, &LoginInfoResponse::from(&result)))
}
