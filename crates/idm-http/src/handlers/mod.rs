//! One module per resource. Each handler authenticates, calls its use case on the blocking
//! pool and maps the answer; nothing else.

pub(crate) mod clients;
pub(crate) mod docs;
pub(crate) mod health;
pub(crate) mod login_info;
pub(crate) mod oath;
pub(crate) mod passwords;
pub(crate) mod policies;
pub(crate) mod roles;
pub(crate) mod token;
pub(crate) mod users;
pub(crate) mod vasco;

use actix_web::http::header::{self, HeaderValue};
use actix_web::{web, HttpRequest, HttpResponse};
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

/// A path parameter as sent (percent-decoded). It is never validated here: a value that is
/// not an extId reaches the use case, which answers that resource's ordinary 404.
pub(crate) fn param(req: &HttpRequest, name: &str) -> String {
    req.match_info().get(name).unwrap_or_default().to_owned()
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

/// The self-admin JWT header (SPEC §3.3).
const X_TOKEN: &str = "x-token";

/// The `X-Token` header, trimmed; absent, empty or not visible ASCII → `None`.
pub(crate) fn x_token(req: &HttpRequest) -> Option<String> {
    req.headers()
        .get(X_TOKEN)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(ToOwned::to_owned)
}
