//! `/core/v1/:clientExtId/users/:userExtId/oath-credentials` (SPEC §6.5, §8.6).

use actix_web::http::StatusCode;
use actix_web::{delete, get, post, web, HttpResponse};
use idm_ports::usecases::OathCreated;

use super::{blocking, no_store, API};
use crate::auth::Authenticated;
use crate::body::JsonBody;
use crate::dto::doc;
use crate::dto::oath::{CreateOathRequest, OathResponse};
use crate::dto::page::ListResponse;
use crate::dto::{created, json};
use crate::error::ApiError;
use crate::extract::{ExtIdPath, Paging, UserPath, XToken};
use crate::AppState;

/// `POST …/oath-credentials` (optional `X-Token`) → 201 with the credential, its `uri`,
/// `Location` and `no-store`: the URI holds the plain secret.
#[utoipa::path(
    operation_id = "createOath",
    tag = "oath",
    summary = "Create an OATH credential (SPEC §8.6); SelfAdmin needs `X-Token`.",
    params(UserPath, XToken),
    request_body(content = CreateOathRequest, content_type = "application/json"),
    responses(
        (status = 201, description = "The credential with its enrolment `uri` (`no-store`).", body = OathResponse, headers(("Location" = String, description = "URL of the credential"), ("Cache-Control" = String, description = "`no-store`"), ("Pragma" = String, description = "`no-cache`"))),
        doc::BodyErrors,
    ),
    security(("basic" = [])),
)]
#[post("/nevisidm/api/core/v1/{clientExtId}/users/{userExtId}/oath-credentials")]
pub(crate) async fn create(
    Authenticated(caller): Authenticated,
    UserPath { client, user }: UserPath,
    XToken(token): XToken,
    body: JsonBody<CreateOathRequest>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let oath = state.oath.clone();
    let cmd = body.0.map(Into::into);
    let (c, u) = (client.clone(), user.clone());
    let OathCreated { record, uri } =
        blocking(move || oath.create_oath(&caller, &c, &u, token, cmd)).await?;
    // The use case resolved client and user and validated the extId: all path-safe.
    let location = format!(
        "{API}/core/v1/{client}/users/{user}/oath-credentials/{}",
        record.credential.ext_id
    );
    Ok(no_store(created(
        &location,
        &OathResponse::with_uri(&record, uri),
    )))
}

/// `GET …/oath-credentials` → 200 with one page, without `uri`. The query is checked after
/// authentication, before the use case.
#[utoipa::path(
    operation_id = "listOath",
    tag = "oath",
    summary = "One page of the user's OATH credentials, without `uri` (SPEC §8.6).",
    params(UserPath, Paging),
    responses(
        (status = 200, description = "One page of OATH credentials.", body = ListResponse<OathResponse>),
        doc::CheckedErrors,
    ),
    security(("basic" = [])),
)]
#[get("/nevisidm/api/core/v1/{clientExtId}/users/{userExtId}/oath-credentials")]
pub(crate) async fn list(
    Authenticated(caller): Authenticated,
    UserPath { client, user }: UserPath,
    Paging(page): Paging,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let oath = state.oath.clone();
    let page = blocking(move || oath.list_oath(&caller, &client, &user, page)).await?;
    Ok(json(
        StatusCode::OK,
        &ListResponse::page(&page, |r| OathResponse::from(r)),
    ))
}

/// `GET …/oath-credentials/:extId` → 200 with the credential, without `uri`.
#[utoipa::path(
    operation_id = "getOath",
    tag = "oath",
    summary = "Read an OATH credential, without `uri` (SPEC §6.5).",
    params(UserPath, ExtIdPath),
    responses(
        (status = 200, description = "The credential.", body = OathResponse),
        doc::ReadErrors,
    ),
    security(("basic" = [])),
)]
#[get("/nevisidm/api/core/v1/{clientExtId}/users/{userExtId}/oath-credentials/{extId}")]
pub(crate) async fn get(
    Authenticated(caller): Authenticated,
    UserPath { client, user }: UserPath,
    ExtIdPath { ext_id }: ExtIdPath,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let oath = state.oath.clone();
    let record = blocking(move || oath.get_oath(&caller, &client, &user, &ext_id)).await?;
    Ok(json(StatusCode::OK, &OathResponse::from(&record)))
}

/// `DELETE …/oath-credentials/:extId` (optional `X-Token`) → 204.
#[utoipa::path(
    operation_id = "deleteOath",
    tag = "oath",
    summary = "Delete an OATH credential (SPEC §8.6); SelfAdmin needs `X-Token`.",
    params(UserPath, ExtIdPath, XToken),
    responses(
        (status = 204, description = "Deleted."),
        doc::WriteErrors,
    ),
    security(("basic" = [])),
)]
#[delete("/nevisidm/api/core/v1/{clientExtId}/users/{userExtId}/oath-credentials/{extId}")]
pub(crate) async fn delete(
    Authenticated(caller): Authenticated,
    UserPath { client, user }: UserPath,
    ExtIdPath { ext_id }: ExtIdPath,
    XToken(token): XToken,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let oath = state.oath.clone();
    blocking(move || oath.delete_oath(&caller, &client, &user, &ext_id, token)).await?;
    Ok(HttpResponse::NoContent().finish())
}
