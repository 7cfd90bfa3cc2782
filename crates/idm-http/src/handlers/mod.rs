//! One module per resource. Each handler declares its route (an actix route macro) and its
//! OpenAPI operation (`#[utoipa::path]`) in one place, takes what it needs as extractors
//! (the authenticated caller first, then path, header, query and body), calls its use case on
//! the blocking pool and maps the answer; nothing else. `routes::register` lists it once.

pub(crate) mod audit;
pub(crate) mod auth;
pub(crate) mod clients;
pub(crate) mod docs;
pub(crate) mod health;
pub(crate) mod login_info;
pub(crate) mod oath;
pub(crate) mod passwords;
pub(crate) mod policies;
pub(crate) mod principal;
pub(crate) mod roles;
pub(crate) mod token;
pub(crate) mod users;
pub(crate) mod vasco;

use actix_web::http::header::{self, HeaderValue};
use actix_web::{web, HttpResponse};
use idm_ports::AppResult;

use crate::error::ApiError;

/// Runs a (synchronous, possibly database-bound) use case off the async workers.
pub(crate) async fn blocking<T, F>(work: F) -> Result<T, ApiError>
where
    T: Send + 'static,
    F: FnOnce() -> AppResult<T> + Send + 'static,
{
    Ok(web::block(work).await??)
}

/// The API's path prefix, for `Location` headers.
pub(crate) const API: &str = "/nevisidm/api";

/// A secret (password fragment, bearer token) must never be stored by a cache on the way.
pub(crate) fn no_store(mut res: HttpResponse) -> HttpResponse {
    let headers = res.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    res
}
