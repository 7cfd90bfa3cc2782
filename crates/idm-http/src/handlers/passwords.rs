//! `/core/v1/:clientExtId/users/:userExtId/password` and its reset (SPEC §6.1, §8.5).

use actix_web::http::header::{self, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::{get, patch, post, web, HttpResponse};
use idm_ports::usecases::PasswordIssued;

use super::{blocking, no_store, API};
use crate::auth::Authenticated;
use crate::body::JsonBody;
use crate::dto::credential::CredentialResponse;
use crate::dto::doc;
use crate::dto::password::{
    CreatePasswordRequest, FragmentResponse, PasswordCreated, PatchPasswordRequest,
};
use crate::dto::{created, json};
use crate::error::ApiError;
use crate::extract::{UserPath, XToken};
use crate::AppState;

/// `Location` of a user's Password credential. The use case resolved client and user, so
/// both are valid extIds and safe in a path.
fn location(client: &str, user: &str) -> String {
    format!("{API}/core/v1/{client}/users/{user}/password")
}

/// 201 with the fragment (and `no-store`), or 204 without a body when there is none.
fn fragment_answer(fragment: Option<String>, ext_id: Option<String>) -> HttpResponse {
    match fragment {
        Some(password_fragment) => no_store(json(
            StatusCode::CREATED,
            &FragmentResponse {
                password_fragment,
                ext_id,
            },
        )),
        None => HttpResponse::NoContent().finish(),
    }
}

fn with_location(mut res: HttpResponse, location: &str) -> HttpResponse {
    if let Ok(value) = HeaderValue::from_str(location) {
        res.headers_mut().insert(header::LOCATION, value);
    }
    res
}

/// `POST …/password` → 201 with the fragment and the credential's extId, 204 when the whole
/// generated password goes out of band, or 201 with the credential when the caller supplied
/// the password. Every answer carries `Location`.
#[utoipa::path(
    operation_id = "createPassword",
    tag = "passwords",
    summary = "Create the user's Password credential (SPEC §8.5).",
    params(UserPath),
    request_body(content = CreatePasswordRequest, content_type = "application/json"),
    responses(
        (status = 201, description = "With a generated password: the caller's fragment and the extId (`no-store`); with a supplied one: the credential.", body = PasswordCreated, headers(("Location" = String, description = "URL of the Password credential"), ("Cache-Control" = String, description = "`no-store` when a fragment is sent"))),
        (status = 204, description = "The whole generated password goes out of band.", headers(("Location" = String, description = "URL of the Password credential"))),
        doc::BodyErrors,
    ),
    security(("basic" = [])),
)]
#[post("/nevisidm/api/core/v1/{clientExtId}/users/{userExtId}/password")]
pub(crate) async fn create(
    Authenticated(caller): Authenticated,
    UserPath { client, user }: UserPath,
    body: JsonBody<CreatePasswordRequest>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let passwords = state.passwords.clone();
    let cmd = body.0.map(Into::into);
    let (c, u) = (client.clone(), user.clone());
    let PasswordIssued {
        record,
        fragment,
        generated,
    } = blocking(move || passwords.create_password(&caller, &c, &u, cmd)).await?;
    let location = location(&client, &user);
    Ok(if generated {
        let ext_id = record.credential.ext_id.to_string();
        with_location(fragment_answer(fragment, Some(ext_id)), &location)
    } else {
        created(&location, &CredentialResponse::from(&record))
    })
}

/// `GET …/password` → 200 with the credential.
#[utoipa::path(
    operation_id = "getPassword",
    tag = "passwords",
    summary = "Read the user's Password credential (SPEC §8.5); never the hash.",
    params(UserPath),
    responses(
        (status = 200, description = "The credential.", body = CredentialResponse),
        doc::ReadErrors,
    ),
    security(("basic" = [])),
)]
#[get("/nevisidm/api/core/v1/{clientExtId}/users/{userExtId}/password")]
pub(crate) async fn get(
    Authenticated(caller): Authenticated,
    UserPath { client, user }: UserPath,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let passwords = state.passwords.clone();
    let record = blocking(move || passwords.get_password(&caller, &client, &user)).await?;
    Ok(json(StatusCode::OK, &CredentialResponse::from(&record)))
}

/// `PATCH …/password` → 200 with the changed credential.
#[utoipa::path(
    operation_id = "patchPassword",
    tag = "passwords",
    summary = "Change the state of the Password credential, e.g. unlock (SPEC §8.5).",
    params(UserPath),
    request_body(content = PatchPasswordRequest, content_type = "application/json"),
    responses(
        (status = 200, description = "The changed credential.", body = CredentialResponse),
        doc::PatchErrors,
    ),
    security(("basic" = [])),
)]
#[patch("/nevisidm/api/core/v1/{clientExtId}/users/{userExtId}/password")]
pub(crate) async fn patch(
    Authenticated(caller): Authenticated,
    UserPath { client, user }: UserPath,
    body: JsonBody<PatchPasswordRequest>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let passwords = state.passwords.clone();
    let changes = body.0.map(Into::into);
    let record =
        blocking(move || passwords.patch_password(&caller, &client, &user, changes)).await?;
    Ok(json(StatusCode::OK, &CredentialResponse::from(&record)))
}

/// `POST …/password/reset` (no body; any sent is ignored) → 201 with the fragment, or 204.
#[utoipa::path(
    operation_id = "resetPassword",
    tag = "passwords",
    summary = "Reset the password (SPEC §6.1). No body; SelfAdmin needs `X-Token`.",
    params(UserPath, XToken),
    responses(
        (status = 201, description = "The caller's fragment of the new password.", body = FragmentResponse, headers(("Cache-Control" = String, description = "`no-store`"), ("Pragma" = String, description = "`no-cache`"))),
        (status = 204, description = "The whole password goes out of band."),
        doc::WriteErrors,
    ),
    security(("basic" = [])),
)]
#[post("/nevisidm/api/core/v1/{clientExtId}/users/{userExtId}/password/reset")]
pub(crate) async fn reset(
    Authenticated(caller): Authenticated,
    UserPath { client, user }: UserPath,
    XToken(token): XToken,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let passwords = state.passwords.clone();
    let issued = blocking(move || passwords.reset_password(&caller, &client, &user, token)).await?;
    Ok(fragment_answer(issued.fragment, None))
}
