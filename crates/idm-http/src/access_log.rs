//! One INFO line per request: ID, method, route template, status, latency. Never headers,
//! bodies, passwords or tokens, and never the raw path (it may carry IDs of users).

use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::HttpMessage;

use crate::request_id::RequestId;

/// Middleware: times the request and logs it when the response is ready.
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
    let res = next.call(req).await;
    let latency_ms = started.elapsed().as_secs_f64() * 1000.0;
    match &res {
        Ok(res) => {
            let route = res
                .request()
                .match_pattern()
                .unwrap_or_else(|| "<unmatched>".to_owned());
            tracing::info!(
                request_id = %request_id,
                method = %method,
                route = %route,
                status = res.status().as_u16(),
                latency_ms,
                "request"
            );
        }
        Err(e) => tracing::info!(
            request_id = %request_id,
            method = %method,
            route = "<unmatched>",
            status = e.as_response_error().status_code().as_u16(),
            latency_ms,
            "request"
        ),
    }
    res
}
