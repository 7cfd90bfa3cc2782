//! `GET /metrics` (SPEC §9): the telemetry adapter's rendering in the Prometheus text format.
//! No authentication; the labels carry no user or client ID.

use actix_web::http::header::{CacheControl, CacheDirective, CONTENT_TYPE};
use actix_web::{get, web, HttpResponse};

use crate::AppState;

/// The Prometheus text exposition format, version 0.0.4.
pub(crate) const CONTENT_TYPE_TEXT: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Renders every collected metric.
#[utoipa::path(
    operation_id = "metrics",
    tag = "operations",
    summary = "Prometheus metrics in text format (SPEC §9). No authentication.",
    responses(
        (status = 200, description = "The metrics.", body = String, content_type = "text/plain; version=0.0.4"),
    ),
)]
#[get("/metrics")]
pub(crate) async fn render(state: web::Data<AppState>) -> HttpResponse {
    let body = state.telemetry.render();
    HttpResponse::Ok()
        .insert_header((CONTENT_TYPE, CONTENT_TYPE_TEXT))
        .insert_header(CacheControl(vec![CacheDirective::NoStore]))
        .body(body)
}
