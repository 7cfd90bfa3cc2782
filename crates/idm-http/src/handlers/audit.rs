//! The history (SPEC §13): `GET /audit/v1/events` and a user's history.

use std::convert::Infallible;
use std::future::{ready, Ready};

use actix_web::dev::Payload;
use actix_web::http::StatusCode;
use actix_web::{get, web, FromRequest, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use idm_domain::DomainError;
use idm_ports::usecases::EventQuery;
use utoipa::IntoParams;

use super::blocking;
use crate::auth::Authenticated;
use crate::dto::audit::EventResponse;
use crate::dto::doc;
use crate::dto::json;
use crate::dto::page::ListResponse;
use crate::error::ApiError;
use crate::extract::{Paging, UserPath};
use crate::AppState;

/// The filters of the event list as sent; never fails (a bad time is the handler's 422, after
/// authentication).
#[derive(IntoParams)]
#[into_params(parameter_in = Query, rename_all = "camelCase")]
pub(crate) struct EventFilters {
    /// Events whose target is in this client.
    #[param(nullable = false)]
    client_ext_id: Option<String>,
    /// Events whose target or actor is this user.
    #[param(nullable = false)]
    user_ext_id: Option<String>,
    /// One action name (e.g. `login.failed`; see the `EventResponse` schema).
    #[param(nullable = false)]
    action: Option<String>,
    /// At or after this time (RFC 3339; another value answers 422).
    #[param(nullable = false, format = DateTime)]
    from: Option<String>,
    /// Before this time (RFC 3339; another value answers 422).
    #[param(nullable = false, format = DateTime)]
    to: Option<String>,
    /// Events of this request.
    #[param(nullable = false)]
    request_id: Option<String>,
}

impl FromRequest for EventFilters {
    type Error = Infallible;
    type Future = Ready<Result<Self, Infallible>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let pairs = web::Query::<Vec<(String, String)>>::from_query(req.query_string())
            .map(web::Query::into_inner)
            .unwrap_or_default();
        let last = |name: &str| {
            pairs
                .iter()
                .rev()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
        };
        ready(Ok(EventFilters {
            client_ext_id: last("clientExtId"),
            user_ext_id: last("userExtId"),
            action: last("action"),
            from: last("from"),
            to: last("to"),
            request_id: last("requestId"),
        }))
    }
}

fn time(field: &str, raw: Option<String>) -> Result<Option<DateTime<Utc>>, ApiError> {
    raw.map(|v| {
        DateTime::parse_from_rfc3339(&v)
            .map(|t| t.with_timezone(&Utc))
            .map_err(|_| {
                ApiError::from(DomainError::InvalidParameter(format!(
                    "Invalid value '{v}' for parameter '{field}'"
                )))
            })
    })
    .transpose()
}

/// `GET /audit/v1/events` → 200 with one page of events in `seq` order.
#[utoipa::path(
    operation_id = "listEvents",
    tag = "history",
    summary = "The history events the caller's AuditView covers (SPEC §13).",
    params(EventFilters, Paging),
    responses(
        (status = 200, description = "One page of events.", body = ListResponse<EventResponse>),
        doc::UnscopedListErrors,
    ),
    security(("basic" = [])),
)]
#[get("/nevisidm/api/audit/v1/events")]
pub(crate) async fn list(
    Authenticated(caller): Authenticated,
    filters: EventFilters,
    Paging(page): Paging,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let query = EventQuery {
        client_ext_id: filters.client_ext_id,
        user_ext_id: filters.user_ext_id,
        action: filters.action,
        from: time("from", filters.from)?,
        to: time("to", filters.to)?,
        request_id: filters.request_id,
    };
    let audit = state.audit.clone();
    let page = blocking(move || audit.list_events(&caller, query, page)).await?;
    Ok(json(
        StatusCode::OK,
        &ListResponse::page(&page, |e| EventResponse::from(e)),
    ))
}

/// `GET /core/v1/:clientExtId/users/:userExtId/history` → 200 with one page of the events whose
/// target or actor is the user.
#[utoipa::path(
    operation_id = "userHistory",
    tag = "history",
    summary = "A user's history (SPEC §13); SelfAdmin may read its own.",
    params(UserPath, Paging),
    responses(
        (status = 200, description = "One page of events.", body = ListResponse<EventResponse>),
        doc::CheckedErrors,
    ),
    security(("basic" = [])),
)]
#[get("/nevisidm/api/core/v1/{clientExtId}/users/{userExtId}/history")]
pub(crate) async fn user_history(
    Authenticated(caller): Authenticated,
    UserPath { client, user }: UserPath,
    Paging(page): Paging,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let audit = state.audit.clone();
    let page = blocking(move || audit.user_history(&caller, &client, &user, page)).await?;
    Ok(json(
        StatusCode::OK,
        &ListResponse::page(&page, |e| EventResponse::from(e)),
    ))
}
