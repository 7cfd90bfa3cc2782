//! The one list of endpoints, [`register`], and the default service that answers 404 or 405
//! (SPEC §2).
//!
//! Each handler carries its route (an actix route macro, `#[get("/nevisidm/api/…")]`) and its
//! `#[utoipa::path]`; one `.service(handler)` line in [`register`] adds it to the actix app and,
//! through `utoipa-actix-web`, to the OpenAPI document, and records its (method, template) for
//! [`fallback`]. Nothing else lists routes.
//!
//! Every endpoint is its own resource guarded by its method, so a request whose method does
//! not fit falls through to the next template (`/core/v1/clients/users` is both "GET client
//! users" and "POST users of client clients") and finally to [`fallback`], which decides
//! between 404 and 405 from the recorded table.
//!
//! Templates are tried in registration order. `GET …/core/v1/clients/vasco` fits both "GET
//! client `vasco`" and "list the VASCO credentials of client `clients`"; the client read comes
//! first, as it did before the VASCO routes existed (Decision). `POST …/clients/vasco` only
//! fits the VASCO create. `{extId}` never spans a `/`, so `…/vasco/{extId}` and
//! `…/vasco/{extId}/unassign` cannot overlap.
//!
//! The user list of SPEC §12, `GET …/core/v1/clients/{clientExtId}/users`, is registered after
//! the older GET templates it overlaps, so they keep their meaning (Decision, as for VASCO):
//! `GET …/clients/users/users` reads user `users` of client `clients`, and
//! `…/clients/policies/users`, `…/clients/vasco/users` read the policy or VASCO credential
//! `users` of client `clients`. Every other `…/clients/{clientExtId}/users` is the list.

use std::sync::OnceLock;

use actix_web::dev::{HttpServiceFactory, ResourceDef, ServiceFactory, ServiceRequest};
use actix_web::{App, HttpRequest, HttpResponse};
use utoipa::openapi::path::{HttpMethod, Operation, ParameterIn};
use utoipa::openapi::{OpenApi, RefOr, Schema};
use utoipa_actix_web::{AppExt, OpenApiFactory, UtoipaApp};

use crate::error::ApiError;
use crate::handlers::{
    audit, auth, clients, docs, health, login_info, oath, passwords, policies, principal, roles,
    token, users, vasco,
};
use crate::scim;

/// Every endpoint, in routing order (see the module doc for why the order matters).
fn register<T: AppFactory>(endpoints: Endpoints<T>) -> Endpoints<T> {
    endpoints
        .service(clients::create)
        .service(clients::get)
        .service(clients::list)
        .service(clients::patch)
        .service(users::create)
        .service(users::get)
        .service(users::patch)
        .service(users::delete)
        .service(users::list_credentials)
        .service(roles::grant)
        .service(roles::list)
        .service(roles::revoke)
        .service(passwords::create)
        .service(passwords::get)
        .service(passwords::patch)
        .service(passwords::reset)
        .service(auth::change_password)
        .service(auth::unlock_password)
        .service(login_info::bulk)
        .service(oath::create)
        .service(oath::list)
        .service(oath::get)
        .service(oath::delete)
        .service(vasco::assign)
        .service(vasco::create)
        .service(vasco::list)
        .service(vasco::get)
        .service(vasco::unassign)
        .service(policies::create)
        .service(policies::get)
        .service(policies::patch)
        // After every older template it overlaps (`…/{clientExtId}/users/{userExtId}`,
        // `…/policies/{extId}`, `…/vasco/{extId}` with clientExtId `clients`): see the module doc.
        .service(users::list)
        .service(token::issue)
        .service(principal::me)
        .service(principal::permissions)
        .service(auth::password_login)
        .service(auth::oath_login)
        .service(auth::oath_resync)
        .service(audit::list)
        .service(audit::user_history)
        .service(health::live)
        .service(health::ready)
        .service(docs::openapi_json)
        .service(docs::page)
        .service(docs::file)
        .service(crate::metrics::render)
        // SCIM 2.0 (SPEC §14): `Users/.search` before `Users/{id}`, which it would also fit.
        .service(scim::handlers::search)
        .service(scim::handlers::list)
        .service(scim::handlers::create)
        .service(scim::handlers::get)
        .service(scim::handlers::replace)
        .service(scim::handlers::patch)
        .service(scim::handlers::delete)
        .service(scim::discovery::config)
        .service(scim::discovery::resource_type_list)
        .service(scim::discovery::resource_type_one)
        .service(scim::discovery::schema_list)
        .service(scim::discovery::schema_one)
}

/// One served (method, template), in registration order.
pub(crate) struct Route {
    /// `GET`, `POST`, …
    pub(crate) method: &'static str,
    /// The actix template, e.g. `/nevisidm/api/docs/{file:[^/]*}`.
    def: ResourceDef,
}

#[cfg(test)]
impl Route {
    /// The template as actix reads it.
    pub(crate) fn template(&self) -> &str {
        self.def.pattern().unwrap_or_default()
    }
}

/// What an actix `App` is built from; `utoipa-actix-web` wraps only such apps.
pub(crate) trait AppFactory:
    ServiceFactory<ServiceRequest, Config = (), Error = actix_web::Error, InitError = ()>
{
}

impl<T> AppFactory for T where
    T: ServiceFactory<ServiceRequest, Config = (), Error = actix_web::Error, InitError = ()>
{
}

/// [`register`] while it runs: the actix app with the OpenAPI paths collected so far, and the
/// routes recorded so far.
struct Endpoints<T> {
    app: UtoipaApp<T>,
    routes: Vec<Route>,
}

impl<T: AppFactory> Endpoints<T> {
    fn new(app: UtoipaApp<T>) -> Self {
        Endpoints {
            app,
            routes: Vec::new(),
        }
    }

    /// Registers a handler of an actix route macro with its `#[utoipa::path]`: served by the
    /// app, documented, and known to [`fallback`].
    fn service<F>(mut self, handler: F) -> Self
    where
        F: HttpServiceFactory + OpenApiFactory + utoipa::Path + 'static,
    {
        let template = actix_template(&F::path(), &F::operation());
        for method in F::methods() {
            self.routes.push(Route {
                method: method_name(&method),
                def: ResourceDef::new(template.as_str()),
            });
        }
        self.app = self.app.service(handler);
        self
    }
}

/// `app` with every endpoint (the server builds one per worker).
pub(crate) fn with_endpoints<T: AppFactory>(app: App<T>) -> App<T> {
    register(Endpoints::new(app.into_utoipa_app()))
        .app
        .into_app()
}

/// What [`register`] yields besides the app, computed once.
pub(crate) struct Registration {
    /// Every served (method, template), in registration order.
    pub(crate) routes: Vec<Route>,
    /// The OpenAPI document: the shared parts of `openapi::base` and every handler's path.
    pub(crate) document: OpenApi,
}

/// The route table and the OpenAPI document of [`register`], computed once over a throwaway
/// app; [`with_endpoints`] runs the same [`register`] for each worker's app.
pub(crate) fn registration() -> &'static Registration {
    static REGISTRATION: OnceLock<Registration> = OnceLock::new();
    REGISTRATION.get_or_init(|| {
        let utoipa_app = App::new().into_utoipa_app().openapi(crate::openapi::base());
        let Endpoints { app, routes } = register(Endpoints::new(utoipa_app));
        let (_, document) = app.split_for_parts();
        Registration { routes, document }
    })
}

fn method_name(method: &HttpMethod) -> &'static str {
    match method {
        HttpMethod::Get => "GET",
        HttpMethod::Put => "PUT",
        HttpMethod::Post => "POST",
        HttpMethod::Delete => "DELETE",
        HttpMethod::Options => "OPTIONS",
        HttpMethod::Head => "HEAD",
        HttpMethod::Patch => "PATCH",
        HttpMethod::Trace => "TRACE",
    }
}

/// The actix template of an OpenAPI path: `{name}` again carries the segment pattern the
/// route macro gave it, which the operation documents as the path parameter's `pattern`
/// (`^…$`); a parameter without one is actix's default, one non-empty segment.
fn actix_template(path: &str, operation: &Operation) -> String {
    let pattern_of = |name: &str| {
        operation
            .parameters
            .iter()
            .flatten()
            .filter(|p| p.name == name && p.parameter_in == ParameterIn::Path)
            .find_map(|p| match &p.schema {
                Some(RefOr::T(Schema::Object(object))) => object.pattern.clone(),
                _ => None,
            })
    };
    let mut template = String::with_capacity(path.len());
    let mut rest = path;
    while let Some(start) = rest.find('{') {
        let Some(len) = rest[start..].find('}') else {
            break;
        };
        let name = &rest[start + 1..start + len];
        template.push_str(&rest[..start]);
        match pattern_of(name) {
            Some(pattern) => {
                let pattern = pattern.strip_prefix('^').unwrap_or(&pattern);
                let pattern = pattern.strip_suffix('$').unwrap_or(pattern);
                template.push_str(&format!("{{{name}:{pattern}}}"));
            }
            None => template.push_str(&rest[start..=start + len]),
        }
        rest = &rest[start + len + 1..];
    }
    template.push_str(rest);
    template
}

/// The methods allowed on `path`, in registration order, without repeats.
fn allowed_methods(path: &str) -> Vec<&'static str> {
    let mut allow: Vec<&'static str> = Vec::new();
    for route in &registration().routes {
        if route.def.is_match(path) && !allow.contains(&route.method) {
            allow.push(route.method);
        }
    }
    allow
}

/// Default service: 405 with `Allow` when some template matches the path (HEAD on a GET
/// route included), else 404.
pub(crate) async fn fallback(req: HttpRequest) -> Result<HttpResponse, ApiError> {
    let allow = allowed_methods(req.path());
    if crate::scim::is_scim_path(req.path()) {
        // SCIM paths answer the SCIM error schema (SPEC §14).
        return Ok(crate::scim::fallback(allow));
    }
    Err(if allow.is_empty() {
        ApiError::UnknownResource
    } else {
        ApiError::MethodNotAllowed {
            allow: allow.join(", "),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn openapi_paths_become_actix_templates() {
        let mut operation = Operation::new();
        assert_eq!(actix_template("/a/{x}/b/{y}", &operation), "/a/{x}/b/{y}");
        let file = utoipa::openapi::path::ParameterBuilder::new()
            .name("file")
            .parameter_in(ParameterIn::Path)
            .schema(Some(
                utoipa::openapi::ObjectBuilder::new().pattern(Some("^[^/]*$")),
            ))
            .build();
        operation.parameters = Some(vec![file]);
        assert_eq!(
            actix_template("/docs/{file}", &operation),
            "/docs/{file:[^/]*}"
        );
    }
}
