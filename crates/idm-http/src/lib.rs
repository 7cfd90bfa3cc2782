//! The HTTP adapter: actix-web routes, handlers, DTOs and the SPEC error envelope.
//!
//! Handlers only authenticate, hand the request to a use-case trait of `idm-ports` on the
//! blocking pool and map the answer, so every rule lives behind the ports and the whole
//! surface can be tested against mocks.
//!
//! Decisions where SPEC.md is silent:
//! * A body rejection (400/413/415) reaches the use case as `AppError::Internal` with a
//!   reserved text ([`BodyRejection`]), because `idm-ports` has no transport-syntax variant;
//!   [`ApiError`] turns it back into its status on the way out.
//! * A wrong-shape field is named by its dotted path (`name.firstName`,
//!   `parameters.minLength`, `clientExtIds[0]`); a body that is not an object is `body`.
//!   An empty, blank or `null` body is "body required".
//! * Every endpoint is a method-guarded resource; a method no template accepts is 405 with
//!   `Allow`, and a path no template matches is 404. HEAD is not served.
//! * `limit`/`continuationToken` are checked right after authentication (422), before the
//!   use case; an empty `continuationToken=` means the first page.
//! * `name`/`contacts` of a user are omitted when all their parts are absent.
//! * `POST …/password/reset` reads no body: whatever is sent, of any content type, is ignored.
//!   An `X-Token` header is trimmed; an empty one counts as absent.
//! * An answer carrying a password fragment also carries `Cache-Control: no-store` and
//!   `Pragma: no-cache`. A create that generated the password answers 201 with
//!   `passwordFragment` and `extId` (or 204), both with `Location`. So does the bearer token
//!   of `POST /principal/v1/token`, whose request password no `Debug` rendering shows.
//! * `PUT …/users/:userExtId/vasco/:extId` and `PUT …/vasco/:extId/unassign` read no body;
//!   whatever is sent is ignored.
//! * The OATH create answer carries `uri` (the plain secret) and therefore `Cache-Control:
//!   no-store`/`Pragma: no-cache`; reads and lists never show `uri`.
//! * `POST …/bulk-login-info`: a `null` entry of `credentials` counts as an entry whose
//!   fields are all missing (per-entry `errors.nullParameter`), like a `null` field.

#![warn(missing_docs)]

mod access_log;
mod auth;
mod body;
mod dto;
mod error;
mod extract;
mod handlers;
mod metrics;
mod openapi;
mod request_id;
mod routes;
mod scim;
#[cfg(test)]
mod tests;

use std::sync::Arc;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::{middleware, web, App};
use idm_ports::repos::HealthCheck;
use idm_ports::telemetry::Telemetry;
use idm_ports::usecases::{
    AuditService, AuthService, CallerAuthenticator, ClientService, LoginInfoService, OathService,
    PasswordService, PolicyService, RoleService, TokenService, UserService, VascoService,
};

pub use body::BodyRejection;

/// One history event as the API shows it, as a JSON line (for `idm-server audit export`).
pub fn event_json(event: &idm_ports::history::StoredEvent) -> String {
    serde_json::to_string(&dto::audit::EventResponse::from(event)).unwrap_or_default()
}
pub use error::ApiError;
pub use request_id::RequestId;

/// Transport settings the server passes in from its configuration.
#[derive(Debug, Clone)]
pub struct HttpSettings {
    /// Largest accepted request body; larger bodies answer 413 (SPEC §2).
    pub max_body_bytes: usize,
}

impl HttpSettings {
    /// SPEC §2's default body limit: 64 KiB.
    pub const DEFAULT_MAX_BODY_BYTES: usize = 64 * 1024;
}

impl Default for HttpSettings {
    fn default() -> Self {
        HttpSettings {
            max_body_bytes: Self::DEFAULT_MAX_BODY_BYTES,
        }
    }
}

/// Everything the handlers need: the driving ports, shared by all workers.
#[derive(Clone)]
pub struct AppState {
    /// Checks the Basic credentials of each request (SPEC §3.1).
    pub authenticator: Arc<dyn CallerAuthenticator>,
    /// Client use cases (SPEC §8.1).
    pub clients: Arc<dyn ClientService>,
    /// User use cases (SPEC §8.2).
    pub users: Arc<dyn UserService>,
    /// Role-grant use cases (SPEC §8.3).
    pub roles: Arc<dyn RoleService>,
    /// Policy use cases (SPEC §8.4).
    pub policies: Arc<dyn PolicyService>,
    /// Password-credential use cases (SPEC §6.1, §8.5).
    pub passwords: Arc<dyn PasswordService>,
    /// Bulk login information (SPEC §6.2).
    pub login_info: Arc<dyn LoginInfoService>,
    /// VASCO Digipass credentials (SPEC §6.4, §8.7).
    pub vasco: Arc<dyn VascoService>,
    /// OATH credentials (SPEC §6.5, §8.6).
    pub oath: Arc<dyn OathService>,
    /// The self-admin bearer token (SPEC §6.3).
    pub tokens: Arc<dyn TokenService>,
    /// The authentication API: logins, HOTP resync, password change and unlock (SPEC §11).
    pub auth: Arc<dyn AuthService>,
    /// The history (SPEC §13): event queries and the record of refused requests.
    pub audit: Arc<dyn AuditService>,
    /// Storage readiness for `GET /health/ready`.
    pub health: Arc<dyn HealthCheck>,
    /// Operational metrics: fed by the access log, rendered by `GET /metrics` (SPEC §9).
    pub telemetry: Arc<dyn Telemetry>,
    /// Transport limits.
    pub settings: HttpSettings,
}

/// The whole application: routes, default 404/405 service, request-ID middleware and
/// request logging. The server calls it once per worker.
pub fn app(
    state: AppState,
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    routes::with_endpoints(App::new().app_data(web::Data::new(state)))
        .default_service(web::to(routes::fallback))
        .wrap(middleware::from_fn(access_log::log_request))
        .wrap(middleware::from_fn(request_id::assign_request_id))
}
