//! `/core/v1/:clientExtId/users/:userExtId/password` and its reset (SPEC §6.1, §8.5).

use actix_web::http::header::{self, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use idm_ports::usecases::PasswordIssued;

use super::{blocking, no_store, param, x_token, API};
use crate::auth::authenticate;
use crate::body::JsonBody;
use crate::dto::credential::CredentialResponse;
use crate::dto::password::{CreatePasswordRequest, FragmentResponse, PatchPasswordRequest};
use crate::dto::{created, json};
use crate::error::ApiError;
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
pub(crate) async fn create(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: JsonBody<CreatePasswordRequest>,
) -> Result<HttpResponse, ApiError> {
    let caller = authenticate(&state, &req).await?;
    let passwords = state.passwords.clone();
    let (client, user) = (param(&req, "clientExtId"), param(&req, "userExtId"));
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
pub(crate) async fn get(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let caller = authenticate(&state, &req).await?;
    let passwords = state.passwords.clone();
    let (client, user) = (param(&req, "clientExtId"), param(&req, "userExtId"));
    let record = blocking(move || passwords.get_password(&caller, &client, &user)).await?;
    Ok(json(StatusCode::OK, &CredentialResponse::from(&record)))
}

/// `PATCH …/password` → 200 with the changed credential.
pub(crate) async fn patch(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: JsonBody<PatchPasswordRequest>,
) -> Result<HttpResponse, ApiError> {
    let caller = authenticate(&state, &req).await?;
    let passwords = state.passwords.clone();
    let (client, user) = (param(&req, "clientExtId"), param(&req, "userExtId"));
    let patch = body.0.map(Into::into);
    let record = blocking(move || passwords.patch_password(&caller, &client, &user, patch)).await?;
    Ok(json(StatusCode::OK, &CredentialResponse::from(&record)))
}

/// `POST …/password/reset` (no body; any sent is ignored) → 201 with the fragment, or 204.
pub(crate) async fn reset(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let caller = authenticate(&state, &req).await?;
    let passwords = state.passwords.clone();
    let (client, user) = (param(&req, "clientExtId"), param(&req, "userExtId"));
    let token = x_token(&req);
    let issued = blocking(move || passwords.reset_password(&caller, &client, &user, token)).await?;
    Ok(fragment_answer(issued.fragment, None))
}
