//! The OpenAPI 3.1 document of the service, generated from the handlers' `#[utoipa::path]`
//! attributes and the DTOs' `ToSchema` derives as `routes::register` registers them
//! (SPEC §9). Served at `GET /nevisidm/api/openapi.json`; `tests::openapi` checks it against
//! the actix routes.

use std::sync::OnceLock;

use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::dto::doc;

/// Name of the Basic security scheme every authenticated operation requires.
pub(crate) const BASIC: &str = "basic";

#[derive(OpenApi)]
#[openapi(
    info(
        title = "idm",
        description = "nevisIDM-compatible credential service. Every error answer, of any \
            status, is the `ErrorEnvelope`. An unknown path answers 404 `errors.invalidUri`, a \
            known path with another method 405 `errors.unsupportedOperation` with `Allow`. \
            Every answer carries `X-Request-Id`.",
    ),
    components(
        schemas(doc::ErrorEnvelope),
        responses(
            doc::BadRequest,
            doc::Unauthorized,
            doc::Forbidden,
            doc::NotFound,
            doc::Conflict,
            doc::PayloadTooLarge,
            doc::UnsupportedMediaType,
            doc::Unprocessable,
            doc::InternalError,
            doc::Unavailable,
        ),
    ),
    modifiers(&BasicAuth),
    tags(
        (name = "clients", description = "Clients (SPEC §8.1)."),
        (name = "users", description = "Users and their credential list (SPEC §8.2); list, PATCH, DELETE (SPEC §12)."),
        (name = "roles", description = "Role grants (SPEC §8.3)."),
        (name = "policies", description = "Policies (SPEC §5, §8.4)."),
        (name = "passwords", description = "Password credential and reset (SPEC §6.1, §8.5)."),
        (name = "login-info", description = "Bulk login information (SPEC §6.2)."),
        (name = "token", description = "Self-admin bearer token (SPEC §6.3)."),
        (name = "authentication", description = "Authentication API: password and OATH logins, HOTP resync (SPEC §11)."),
        (name = "vasco", description = "VASCO credentials (SPEC §6.4, §8.7)."),
        (name = "oath", description = "OATH credentials (SPEC §6.5, §8.6)."),
        (name = "principal", description = "The caller itself: its user and its permissions (SPEC §12)."),
        (name = "operations", description = "Health, metrics and this documentation; no authentication (SPEC §9)."),
    ),
)]
struct ApiDoc;

/// The Basic scheme of SPEC §3.1.
struct BasicAuth;

impl Modify for BasicAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        let mut scheme = Http::new(HttpAuthScheme::Basic);
        scheme.description = Some(
            "`<clientExtId>/<loginId>` or a bare `<loginId>` and the password of an active \
             user (SPEC §3.1)."
                .into(),
        );
        components.add_security_scheme(BASIC, SecurityScheme::Http(scheme));
    }
}

/// The parts of the document that are no handler's: info, the error envelope and its
/// reusable responses, the Basic scheme and the tags. Each handler's path joins it as the
/// handler is registered (`routes::register`).
pub(crate) fn base() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}

/// The document: [`base`] and every registered handler.
pub(crate) fn document() -> &'static utoipa::openapi::OpenApi {
    &crate::routes::registration().document
}

/// The document as JSON, built once.
pub(crate) fn document_json() -> &'static str {
    static JSON: OnceLock<String> = OnceLock::new();
    JSON.get_or_init(|| {
        document()
            .to_json()
            .unwrap_or_else(|e| format!(r#"{{"error":"{e}"}}"#))
    })
}
