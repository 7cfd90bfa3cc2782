//! The route table and the default service that answers 404 or 405 (SPEC §2).
//!
//! Every endpoint is its own resource guarded by its method, so a request whose method does
//! not fit falls through to the next template (`/core/v1/clients/users` is both "GET client
//! users" and "POST users of client clients") and finally to [`fallback`], which decides
//! between 404 and 405 from [`ENDPOINTS`].
//!
//! Templates are tried in table order. `GET …/core/v1/clients/vasco` fits both "GET client
//! `vasco`" and "list the VASCO credentials of client `clients`"; the client read comes
//! first, as it did before the VASCO routes existed (Decision). `POST …/clients/vasco` only
//! fits the VASCO create. `{extId}` never spans a `/`, so `…/vasco/{extId}` and
//! `…/vasco/{extId}/unassign` cannot overlap.

use std::sync::OnceLock;

use actix_web::dev::ResourceDef;
use actix_web::{guard, web, HttpRequest, HttpResponse};

use crate::error::ApiError;
use crate::handlers::{
    clients, docs, health, login_info, oath, passwords, policies, roles, token, users, vasco,
};

const CLIENTS: &str = "/nevisidm/api/core/v1/clients";
const CLIENT: &str = "/nevisidm/api/core/v1/clients/{extId}";
const USERS: &str = "/nevisidm/api/core/v1/{clientExtId}/users";
const USER: &str = "/nevisidm/api/core/v1/{clientExtId}/users/{userExtId}";
const CREDENTIALS: &str = "/nevisidm/api/core/v1/{clientExtId}/users/{userExtId}/credentials";
const ROLES: &str = "/nevisidm/api/core/v1/{clientExtId}/users/{userExtId}/roles";
const ROLE: &str = "/nevisidm/api/core/v1/{clientExtId}/users/{userExtId}/roles/{role}";
const PASSWORD: &str = "/nevisidm/api/core/v1/{clientExtId}/users/{userExtId}/password";
const PASSWORD_RESET: &str = "/nevisidm/api/core/v1/{clientExtId}/users/{userExtId}/password/reset";
const LOGIN_INFO: &str = "/nevisidm/api/core/v1/{clientExtId}/users/{userExtId}/bulk-login-info";
const OATHS: &str = "/nevisidm/api/core/v1/{clientExtId}/users/{userExtId}/oath-credentials";
const OATH: &str = "/nevisidm/api/core/v1/{clientExtId}/users/{userExtId}/oath-credentials/{extId}";
const USER_VASCO: &str = "/nevisidm/api/core/v1/{clientExtId}/users/{userExtId}/vasco/{extId}";
const VASCOS: &str = "/nevisidm/api/core/v1/{clientExtId}/vasco";
const VASCO: &str = "/nevisidm/api/core/v1/{clientExtId}/vasco/{extId}";
const VASCO_UNASSIGN: &str = "/nevisidm/api/core/v1/{clientExtId}/vasco/{extId}/unassign";
const POLICIES: &str = "/nevisidm/api/core/v1/{clientExtId}/policies";
const POLICY: &str = "/nevisidm/api/core/v1/{clientExtId}/policies/{extId}";
const TOKEN: &str = "/nevisidm/api/principal/v1/token";
const LIVE: &str = "/health/live";
const READY: &str = "/health/ready";
const METRICS: &str = "/metrics";

/// Every (method, template) the app serves; [`configure`] registers exactly these.
pub(crate) const ENDPOINTS: &[(&str, &str)] = &[
    ("POST", CLIENTS),
    ("GET", CLIENT),
    ("POST", USERS),
    ("GET", USER),
    ("GET", CREDENTIALS),
    ("POST", ROLES),
    ("GET", ROLES),
    ("DELETE", ROLE),
    ("POST", PASSWORD),
    ("GET", PASSWORD),
    ("PATCH", PASSWORD),
    ("POST", PASSWORD_RESET),
    ("POST", LOGIN_INFO),
    ("POST", OATHS),
    ("GET", OATHS),
    ("GET", OATH),
    ("DELETE", OATH),
    ("PUT", USER_VASCO),
    ("POST", VASCOS),
    ("GET", VASCOS),
    ("GET", VASCO),
    ("PUT", VASCO_UNASSIGN),
    ("POST", POLICIES),
    ("GET", POLICY),
    ("PATCH", POLICY),
    ("POST", TOKEN),
    ("GET", LIVE),
    ("GET", READY),
    ("GET", docs::OPENAPI_JSON),
    ("GET", docs::DOCS),
    ("GET", docs::DOCS_FILE),
    ("GET", METRICS),
];

/// Registers [`ENDPOINTS`] with their handlers.
pub(crate) fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource(CLIENTS)
            .guard(guard::Post())
            .to(clients::create),
    )
    .service(web::resource(CLIENT).guard(guard::Get()).to(clients::get))
    .service(web::resource(USERS).guard(guard::Post()).to(users::create))
    .service(web::resource(USER).guard(guard::Get()).to(users::get))
    .service(
        web::resource(CREDENTIALS)
            .guard(guard::Get())
            .to(users::list_credentials),
    )
    .service(web::resource(ROLES).guard(guard::Post()).to(roles::grant))
    .service(web::resource(ROLES).guard(guard::Get()).to(roles::list))
    .service(web::resource(ROLE).guard(guard::Delete()).to(roles::revoke))
    .service(
        web::resource(PASSWORD)
            .guard(guard::Post())
            .to(passwords::create),
    )
    .service(
        web::resource(PASSWORD)
            .guard(guard::Get())
            .to(passwords::get),
    )
    .service(
        web::resource(PASSWORD)
            .guard(guard::Patch())
            .to(passwords::patch),
    )
    .service(
        web::resource(PASSWORD_RESET)
            .guard(guard::Post())
            .to(passwords::reset),
    )
    .service(
        web::resource(LOGIN_INFO)
            .guard(guard::Post())
            .to(login_info::bulk),
    )
    .service(web::resource(OATHS).guard(guard::Post()).to(oath::create))
    .service(web::resource(OATHS).guard(guard::Get()).to(oath::list))
    .service(web::resource(OATH).guard(guard::Get()).to(oath::get))
    .service(web::resource(OATH).guard(guard::Delete()).to(oath::delete))
    .service(
        web::resource(USER_VASCO)
            .guard(guard::Put())
            .to(vasco::assign),
    )
    .service(web::resource(VASCOS).guard(guard::Post()).to(vasco::create))
    .service(web::resource(VASCOS).guard(guard::Get()).to(vasco::list))
    .service(web::resource(VASCO).guard(guard::Get()).to(vasco::get))
    .service(
        web::resource(VASCO_UNASSIGN)
            .guard(guard::Put())
            .to(vasco::unassign),
    )
    .service(
        web::resource(POLICIES)
            .guard(guard::Post())
            .to(policies::create),
    )
    .service(web::resource(POLICY).guard(guard::Get()).to(policies::get))
    .service(
        web::resource(POLICY)
            .guard(guard::Patch())
            .to(policies::patch),
    )
    .service(web::resource(TOKEN).guard(guard::Post()).to(token::issue))
    .service(web::resource(LIVE).guard(guard::Get()).to(health::live))
    .service(web::resource(READY).guard(guard::Get()).to(health::ready))
    .service(
        web::resource(docs::OPENAPI_JSON)
            .guard(guard::Get())
            .to(docs::openapi_json),
    )
    .service(web::resource(docs::DOCS).guard(guard::Get()).to(docs::page))
    .service(
        web::resource(docs::DOCS_FILE)
            .guard(guard::Get())
            .to(docs::file),
    )
    .service(
        web::resource(METRICS)
            .guard(guard::Get())
            .to(crate::metrics::render),
    );
}

fn templates() -> &'static [(&'static str, ResourceDef)] {
    static DEFS: OnceLock<Vec<(&'static str, ResourceDef)>> = OnceLock::new();
    DEFS.get_or_init(|| {
        ENDPOINTS
            .iter()
            .map(|(method, template)| (*method, ResourceDef::new(*template)))
            .collect()
    })
}

/// The methods allowed on `path`, in table order, without repeats.
fn allowed_methods(path: &str) -> Vec<&'static str> {
    let mut allow: Vec<&'static str> = Vec::new();
    for (method, def) in templates() {
        if def.is_match(path) && !allow.contains(method) {
            allow.push(method);
        }
    }
    allow
}

/// Default service: 405 with `Allow` when some template matches the path (HEAD on a GET
/// route included), else 404.
pub(crate) async fn fallback(req: HttpRequest) -> Result<HttpResponse, ApiError> {
    let allow = allowed_methods(req.path());
    Err(if allow.is_empty() {
        ApiError::UnknownResource
    } else {
        ApiError::MethodNotAllowed {
            allow: allow.join(", "),
        }
    })
}
