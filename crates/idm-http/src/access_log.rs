//! One INFO line per request: ID, method, route template, status, latency and, when the request
//! authenticated, the caller's `clientExtId`/`userExtId`. Never headers, bodies, passwords or
//! tokens, and never the raw path (it may carry IDs of users). The same request is reported
//! to telemetry (SPEC §9 `/metrics`) under its route template.

use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{web, HttpMessage};

use crate::request_id::RequestId;
use crate::AppState;

/// The route label of a request no template matched.
pub(crate) const UNMATCHED: &str = "<unmatched>";

/// Who made the request, left in the request extensions by a successful authentication.
#[derive(Debug, Clone)]
pub(crate) struct CallerIds {
    pub(crate) client_ext_id: String,
    pub(crate) user_ext_id: String,
}

/// Middleware: times the request, logs it and reports it to telemetry when the response is
/// ready.
pub(crate) async fn log_request(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let started = Instant::now();
    let method = req.method().clone();
    let request_id = req
        .extensions()
        .get::<RequestId>()
        .map(|id| id.0.clone())
        .unwrap_or_default();
    let telemetry = req
        .app_data::<web::Data<AppState>>()
        .map(|state| state.telemetry.clone());
    let res = next.call(req).await;
    let elapsed = started.elapsed();
    let latency_ms = elapsed.as_secs_f64() * 1000.0;
    let (route, status, caller) = match &res {
        Ok(res) => (
            res.request()
                .match_pattern()
                .unwrap_or_else(|| UNMATCHED.to_owned()),
            res.status().as_u16(),
            res.request().extensions().get::<CallerIds>().cloned(),
        ),
        Err(e) => (
            UNMATCHED.to_owned(),
            e.as_response_error().status_code().as_u16(),
            None,
        ),
    };
    if let Some(telemetry) = telemetry {
        telemetry.http_request(method.as_str(), &route, status, elapsed);
    }
    match caller {
        Some(caller) => tracing::info!(
            request_id = %request_id,
            method = %method,
            route = %route,
            status,
            latency_ms,
            client_ext_id = %caller.client_ext_id,
            user_ext_id = %caller.user_ext_id,
            "request"
        ),
        None => tracing::info!(
            request_id = %request_id,
            method = %method,
            route = %route,
            status,
            latency_ms,
            "request"
        ),
    }
    res
}
