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
    let audit = req
        .app_data::<web::Data<AppState>>()
        .map(|state| state.audit.clone());
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
    if status == 403 {
        if let (Ok(res), Some(audit)) = (&res, audit) {
            record_denial(res.request(), audit, format!("{method} {route}")).await;
        }
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

/// Every 403 is a history event (SPEC §13), recorded before the answer leaves; a failure to
/// record it is logged, never turned into another answer.
async fn record_denial(
    req: &actix_web::HttpRequest,
    audit: std::sync::Arc<dyn idm_ports::usecases::AuditService>,
    detail: String,
) {
    let Some(caller) = req
        .extensions()
        .get::<crate::auth::AuthenticatedCaller>()
        .map(|c| c.0.clone())
    else {
        return;
    };
    let param = |name: &str| req.match_info().get(name).map(ToOwned::to_owned);
    let client = param("clientExtId").or_else(|| {
        param("extId").filter(|_| {
            req.match_info().get("clientExtId").is_none()
                && req.path().contains("/core/v1/clients/")
        })
    });
    // SCIM (SPEC §14) names the user `:id` under `…/Users/`.
    let user = param("userExtId").or_else(|| {
        param("id")
            .filter(|_| crate::scim::is_scim_path(req.path()) && req.path().contains("/Users/"))
    });
    let result =
        actix_web::web::block(move || audit.record_denial(&caller, client, user, detail)).await;
    if !matches!(result, Ok(Ok(()))) {
        tracing::warn!("a refused request could not be recorded in the history");
    }
}
