//! `/health/live` and `/health/ready` (SPEC §7, §9): no authentication, nothing revealed.

use actix_web::http::header;
use actix_web::http::StatusCode;
use actix_web::{get, web, HttpResponse};
use serde::Serialize;
use utoipa::ToSchema;

use crate::dto::{doc, json};
use crate::error::{ErrorEnvelope, UNAVAILABLE_MESSAGE};
use crate::AppState;

/// Health answer.
#[derive(Serialize, ToSchema)]
pub(crate) struct Status {
    /// Always `UP` on a 200.
    #[schema(example = "UP")]
    status: &'static str,
}

/// 200 while the process can answer at all.
#[utoipa::path(
    operation_id = "healthLive",
    tag = "operations",
    summary = "Liveness: 200 while the process runs (SPEC §7). No authentication.",
    responses((status = 200, description = "The process runs.", body = Status)),
)]
#[get("/health/live")]
pub(crate) async fn live() -> HttpResponse {
    json(StatusCode::OK, &Status { status: "UP" })
}

/// 200 when the database answers; otherwise the SPEC 503 envelope with `Retry-After`.
#[utoipa::path(
    operation_id = "healthReady",
    tag = "operations",
    summary = "Readiness: 200 when the database answers, else 503 (SPEC §7). No authentication.",
    responses(
        (status = 200, description = "The database answers.", body = Status),
        (status = 503, response = doc::Unavailable),
    ),
)]
#[get("/health/ready")]
pub(crate) async fn ready(state: web::Data<AppState>) -> HttpResponse {
    let health = state.health.clone();
    match web::block(move || health.check()).await {
        Ok(Ok(())) => json(StatusCode::OK, &Status { status: "UP" }),
        outcome => {
            match outcome {
                Ok(Err(e)) => tracing::warn!(error = %e, "readiness check failed"),
                _ => tracing::warn!("readiness check could not run on the blocking pool"),
            }
            let mut res = json(
                StatusCode::SERVICE_UNAVAILABLE,
                &ErrorEnvelope::single("errors.fatalError", UNAVAILABLE_MESSAGE),
            );
            res.headers_mut()
                .insert(header::RETRY_AFTER, header::HeaderValue::from_static("1"));
            res
        }
    }
}
