//! `/health/live` and `/health/ready` (SPEC §7, §9): no authentication, nothing revealed.

use actix_web::http::header;
use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use serde::Serialize;

use crate::dto::json;
use crate::error::{ErrorEnvelope, UNAVAILABLE_MESSAGE};
use crate::AppState;

#[derive(Serialize)]
struct Status {
    status: &'static str,
}

/// 200 while the process can answer at all.
pub(crate) async fn live() -> HttpResponse {
    json(StatusCode::OK, &Status { status: "UP" })
}

/// 200 when the database answers; otherwise the SPEC 503 envelope with `Retry-After`.
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
