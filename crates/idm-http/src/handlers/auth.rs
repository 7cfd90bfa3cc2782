//! The authentication API (SPEC §11): `/auth/v1/:clientExtId/users/:userExtId/…` logins and
//! HOTP resync, and the core API's password change and unlock. Login answers are 200 with the
//! login status whatever the outcome, and are never cached on the way (`no-store`).

use actix_web::http::StatusCode;
use actix_web::{post, web, HttpResponse};

use super::{blocking, no_store};
use crate::auth::Authenticated;
use crate::body::JsonBody;
use crate::dto::auth::{
    ChangePasswordRequest, LoginStatusResponse, OathLoginRequest, OathResyncRequest,
    PasswordLoginRequest,
};
use crate::dto::{doc, json};
use crate::error::ApiError;
use crate::extract::{ExtIdPath, UserPath, XToken};
use crate::AppState;

fn login_answer(status: idm_ports::usecases::LoginStatus) -> HttpResponse {
    no_store(json(StatusCode::OK, &LoginStatusResponse::from(status)))
}

/// `POST /auth/v1/:clientExtId/users/:userExtId/password/login` → 200 with the login status.
#[utoipa::path(
    operation_id = "passwordLogin",
    tag = "authentication",
    summary = "Verify the user's password (SPEC §11.1).",
    description = "Rights: `CredentialView`, `CredentialModify`, `CredentialChangeState` (no \
        SelfAdmin); SPEC §10.1 applies. Answers 200 with `statusCode` 5, 2, 3, 9 or 4 whenever \
        the attempt was processed. A locked credential answers 9 or 4 without a check and \
        without counting. Errors: 422 `errors.nullParameter` (`password` missing or empty), \
        404 `errors.noRecord` (no Password credential), 422 `errors.credentialNotActive` \
        (user not active; credential disabled, archived or past `validity.to`).",
    params(UserPath),
    request_body(content = PasswordLoginRequest, content_type = "application/json"),
    responses(
        (status = 200, description = "The attempt was processed; its login status (`no-store`).", body = LoginStatusResponse, headers(("Cache-Control" = String, description = "`no-store`"), ("Pragma" = String, description = "`no-cache`"))),
        doc::BodyErrors,
    ),
    security(("basic" = [])),
)]
#[post("/nevisidm/api/auth/v1/{clientExtId}/users/{userExtId}/password/login")]
pub(crate) async fn password_login(
    Authenticated(caller): Authenticated,
    UserPath { client, user }: UserPath,
    body: JsonBody<PasswordLoginRequest>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let auth = state.auth.clone();
    let cmd = body.0.map(Into::into);
    let status = blocking(move || auth.password_login(&caller, &client, &user, cmd)).await?;
    Ok(login_answer(status))
}

/// `POST /auth/v1/:clientExtId/users/:userExtId/oath-credentials/:extId/login` → 200 with
/// the login status.
#[utoipa::path(
    operation_id = "oathLogin",
    tag = "authentication",
    summary = "Verify a TOTP or HOTP code of an OATH credential (SPEC §11.2).",
    description = "Rights as the password login. TOTP: steps T−`totpWindow` … T+`totpWindow`; \
        a step at or before the last accepted one is refused like a wrong code (a code works \
        once). HOTP: counters c … c+`hotpLookAhead`; on success the counter becomes the \
        matched value + 1. A code that is not `digits` decimal digits is a counted failure. \
        Errors: 422 `errors.nullParameter` (`code` missing or empty), 404 `errors.noRecord` \
        (no such OATH credential of the user), 422 `errors.credentialNotActive`.",
    params(UserPath, ExtIdPath),
    request_body(content = OathLoginRequest, content_type = "application/json"),
    responses(
        (status = 200, description = "The attempt was processed; its login status (`no-store`).", body = LoginStatusResponse, headers(("Cache-Control" = String, description = "`no-store`"), ("Pragma" = String, description = "`no-cache`"))),
        doc::BodyErrors,
    ),
    security(("basic" = [])),
)]
#[post("/nevisidm/api/auth/v1/{clientExtId}/users/{userExtId}/oath-credentials/{extId}/login")]
pub(crate) async fn oath_login(
    Authenticated(caller): Authenticated,
    UserPath { client, user }: UserPath,
    ExtIdPath { ext_id }: ExtIdPath,
    body: JsonBody<OathLoginRequest>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let auth = state.auth.clone();
    let cmd = body.0.map(Into::into);
    let status = blocking(move || auth.oath_login(&caller, &client, &user, &ext_id, cmd)).await?;
    Ok(login_answer(status))
}

/// `POST /auth/v1/:clientExtId/users/:userExtId/oath-credentials/:extId/resync` → 204.
#[utoipa::path(
    operation_id = "oathResync",
    tag = "authentication",
    summary = "Resynchronise an HOTP credential with two consecutive codes (SPEC §11.2).",
    description = "Rights as the login. Both codes must be found at consecutive counters within \
        c … c+`hotpResyncWindow`; the counter becomes the match + 2. Errors: 422 \
        `errors.invalidParameter` `The codes do not match consecutive counter values.` or \
        `Resynchronisation applies to HOTP credentials only.`, 422 `errors.nullParameter` \
        (`code1`/`code2` missing), 404 `errors.noRecord`, 422 `errors.credentialNotActive`.",
    params(UserPath, ExtIdPath),
    request_body(content = OathResyncRequest, content_type = "application/json"),
    responses(
        (status = 204, description = "The counter was moved."),
        doc::BodyErrors,
    ),
    security(("basic" = [])),
)]
#[post("/nevisidm/api/auth/v1/{clientExtId}/users/{userExtId}/oath-credentials/{extId}/resync")]
pub(crate) async fn oath_resync(
    Authenticated(caller): Authenticated,
    UserPath { client, user }: UserPath,
    ExtIdPath { ext_id }: ExtIdPath,
    body: JsonBody<OathResyncRequest>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let auth = state.auth.clone();
    let cmd = body.0.map(Into::into);
    blocking(move || auth.oath_resync(&caller, &client, &user, &ext_id, cmd)).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// `POST /core/v1/:clientExtId/users/:userExtId/password/change` (optional `X-Token`) → 204.
#[utoipa::path(
    operation_id = "changePassword",
    tag = "passwords",
    summary = "Change the password (SPEC §11.3); SelfAdmin needs `X-Token` and `oldPassword`.",
    description = "Rights: `CredentialModify`, or SelfAdmin with `X-Token`. Errors: 422 \
        `errors.nullParameter` (`oldPassword` in self-admin mode, `newPassword`), 422 \
        `errors.pwdPolicyViolated` with `policyViolations[]` (`minLength`/`maxLength`, or \
        `notCurrentPassword`), 422 `errors.invalidParameter` `Failed to verify password.` (a \
        wrong `oldPassword`, counted as a failed login), 404 `errors.noRecord` (no Password \
        credential, or the policy generates passwords), 409 when the password changed \
        meanwhile.",
    params(UserPath, XToken),
    request_body(content = ChangePasswordRequest, content_type = "application/json"),
    responses(
        (status = 204, description = "Changed: `active`, reason `changed` or `changed-by-admin`."),
        doc::PatchErrors,
    ),
    security(("basic" = [])),
)]
#[post("/nevisidm/api/core/v1/{clientExtId}/users/{userExtId}/password/change")]
pub(crate) async fn change_password(
    Authenticated(caller): Authenticated,
    UserPath { client, user }: UserPath,
    XToken(token): XToken,
    body: JsonBody<ChangePasswordRequest>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let auth = state.auth.clone();
    let cmd = body.0.map(Into::into);
    blocking(move || auth.change_password(&caller, &client, &user, token, cmd)).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// `POST /core/v1/:clientExtId/users/:userExtId/password/unlock` (no body; any sent is
/// ignored) → 204.
#[utoipa::path(
    operation_id = "unlockPassword",
    tag = "passwords",
    summary = "Unlock the Password credential (SPEC §11.3). No body.",
    description = "Rights: `CredentialModify`, `CredentialChangeState`. A `tmp-locked` or \
        `fail-locked` credential becomes `active` (reason `unlock`, failures 0); in any other \
        state nothing changes. 404 `errors.noRecord` when the user has no Password credential.",
    params(UserPath),
    responses(
        (status = 204, description = "Unlocked, or nothing to unlock."),
        doc::PlainWriteErrors,
    ),
    security(("basic" = [])),
)]
#[post("/nevisidm/api/core/v1/{clientExtId}/users/{userExtId}/password/unlock")]
pub(crate) async fn unlock_password(
    Authenticated(caller): Authenticated,
    UserPath { client, user }: UserPath,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let auth = state.auth.clone();
    blocking(move || auth.unlock_password(&caller, &client, &user)).await?;
    Ok(HttpResponse::NoContent().finish())
}
