//! `GET /nevisidm/api/openapi.json` and the Swagger UI at `GET /nevisidm/api/docs` (SPEC §9).
//! No authentication. The UI's files are compiled into the binary (utoipa-swagger-ui with its
//! `vendored` feature), so the page loads nothing from another host.

use std::sync::{Arc, OnceLock};

use actix_web::http::header::{self, HeaderValue};
use actix_web::{get, HttpResponse};
use utoipa_swagger_ui::Config;

use crate::dto::JSON_UTF8;
use crate::error::ApiError;
use crate::extract::FilePath;
use crate::openapi;

/// The OpenAPI document, also the Swagger UI's source.
const OPENAPI_JSON: &str = "/nevisidm/api/openapi.json";

/// Where the page's relative asset URLs resolve, whether it is served at `…/docs` or
/// `…/docs/`.
const BASE: &str = "<base href=\"/nevisidm/api/docs/\">";

fn ui_config() -> Arc<Config<'static>> {
    static CONFIG: OnceLock<Arc<Config<'static>>> = OnceLock::new();
    CONFIG
        .get_or_init(|| {
            // `validator_url("none")`: no validity badge fetched from swagger.io.
            Arc::new(Config::new([OPENAPI_JSON]).validator_url("none"))
        })
        .clone()
}

/// `GET /nevisidm/api/openapi.json` → the document, generated from the code.
#[utoipa::path(
    operation_id = "openapiDocument",
    tag = "operations",
    summary = "This OpenAPI 3.1 document (SPEC §9). No authentication.",
    responses(
        (status = 200, description = "The OpenAPI document.", body = serde_json::Value, content_type = "application/json"),
    ),
)]
#[get("/nevisidm/api/openapi.json")]
pub(crate) async fn openapi_json() -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, HeaderValue::from_static(JSON_UTF8)))
        .body(openapi::document_json())
}

/// `GET /nevisidm/api/docs` → the Swagger UI page.
#[utoipa::path(
    operation_id = "docsPage",
    tag = "operations",
    summary = "Interactive documentation (Swagger UI) over this document (SPEC §9). No authentication.",
    responses(
        (status = 200, description = "The HTML page; its assets are served under `/nevisidm/api/docs/`.", body = String, content_type = "text/html"),
    ),
)]
#[get("/nevisidm/api/docs")]
pub(crate) async fn page() -> Result<HttpResponse, ApiError> {
    serve_file("")
}

/// `GET /nevisidm/api/docs/:file` → a file of the Swagger UI (`…/docs/` is the page).
#[utoipa::path(
    operation_id = "docsFile",
    tag = "operations",
    summary = "A file of the Swagger UI, e.g. `swagger-ui-bundle.js`; empty is the page. No authentication.",
    params(FilePath),
    responses(
        (status = 200, description = "The file, typed by its extension.", content(
            (String = "text/html"),
            (String = "text/css"),
            (String = "text/javascript"),
            (String = "image/png"),
            (String = "text/plain"),
            (String = "application/octet-stream"),
        )),
        (status = 404, response = crate::dto::doc::NotFound),
    ),
)]
// `[^/]*`: one segment, possibly empty (`…/docs/`); `FilePath` documents the same pattern.
#[get("/nevisidm/api/docs/{file:[^/]*}")]
pub(crate) async fn file(FilePath { file: name }: FilePath) -> Result<HttpResponse, ApiError> {
    serve_file(&name)
}

fn serve_file(name: &str) -> Result<HttpResponse, ApiError> {
    let name = if name.is_empty() { "index.html" } else { name };
    let found = utoipa_swagger_ui::serve(name, ui_config())
        .map_err(|e| ApiError::App(idm_ports::AppError::Internal(e.to_string())))?
        .ok_or(ApiError::UnknownResource)?;
    let bytes = if name == "index.html" {
        String::from_utf8_lossy(&found.bytes)
            .replacen("<head>", &format!("<head>\n    {BASE}"), 1)
            .replacen("<title>Swagger UI</title>", "<title>idm API</title>", 1)
            .into_bytes()
    } else {
        found.bytes.into_owned()
    };
    Ok(HttpResponse::Ok()
        .content_type(found.content_type)
        .body(bytes))
}
