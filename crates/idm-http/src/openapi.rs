//! The OpenAPI 3.1 document of the service, generated from the handlers' `#[utoipa::path]`
//! attributes and the DTOs' `ToSchema` derives as `routes::register` registers them
//! (SPEC §9). Served at `GET /nevisidm/api/openapi.json`; `tests::openapi` checks it against
//! the actix routes.

use std::sync::OnceLock;

use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::dto::{doc, values};
use crate::scim::ScimDoc;

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
        // Schemas only parameters refer to (the handlers register the bodies' own).
        schemas(doc::ErrorEnvelope, values::ContinuationToken, values::UserStateFilter),
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
    modifiers(&BasicAuth, &ScimDoc),
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
        (name = "history", description = "The history of changes, logins and refusals (SPEC §13)."),
        (name = "scim", description = "SCIM 2.0 provisioning of a client's users (SPEC §14, RFC 7643/7644). Errors on these paths are the SCIM error schema (`ScimError`), not the `ErrorEnvelope`; bodies are `application/scim+json` (`application/json` is accepted)."),
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

/// The document: [`base`] and every registered handler ([`document_json`] adds the
/// [`LINKS`] between them).
pub(crate) fn document() -> &'static utoipa::openapi::OpenApi {
    &crate::routes::registration().document
}

/// Parameters of a link: the name of a parameter of the target operation (`query.` for a query
/// parameter) and the runtime expression of its value.
type Params = &'static [(&'static str, &'static str)];

/// One OpenAPI link: the `status` answer of operation `from` yields the parameters of
/// operation `to`.
pub(crate) struct LinkSpec {
    pub(crate) from: &'static str,
    pub(crate) status: &'static str,
    pub(crate) to: &'static str,
    pub(crate) params: Params,
}

/// The client a client create made.
const NEW_CLIENT: Params = &[("clientExtId", "$response.body#/extId")];
/// The user a user create made.
const NEW_USER: Params = &[
    ("clientExtId", "$response.body#/clientExtId"),
    ("userExtId", "$response.body#/extId"),
];
/// The user of the request's path.
const PATH_USER: Params = &[
    ("clientExtId", "$request.path.clientExtId"),
    ("userExtId", "$request.path.userExtId"),
];
/// The credential (or policy) a create under the path's user made.
const NEW_USER_CREDENTIAL: Params = &[
    ("clientExtId", "$request.path.clientExtId"),
    ("userExtId", "$request.path.userExtId"),
    ("extId", "$response.body#/extId"),
];
/// The record a create under the path's client made.
const NEW_IN_CLIENT: Params = &[
    ("clientExtId", "$request.path.clientExtId"),
    ("extId", "$response.body#/extId"),
];

macro_rules! links {
    ($($from:literal $status:literal => [$($to:literal: $params:expr),+ $(,)?];)*) => {
        &[$($(LinkSpec { from: $from, status: $status, to: $to, params: $params }),+),*]
    };
}

/// From each create to the operations that read, change and delete what it created (and to
/// the lists and history that show it), so that a client or a stateful test (Schemathesis)
/// can follow real records. Operations that need a second record no answer names together
/// (assigning a VASCO credential to a user) are linked with what the create names; the rest
/// comes from elsewhere.
pub(crate) const LINKS: &[LinkSpec] = links! {
    "createClient" "201" => [
        "getClient": &[("extId", "$response.body#/extId")],
        "patchClient": &[("extId", "$response.body#/extId")],
        "listUsers": NEW_CLIENT,
        "createUser": NEW_CLIENT,
        "createPolicy": NEW_CLIENT,
        "createVasco": NEW_CLIENT,
        "listVasco": NEW_CLIENT,
        "listEvents": &[("query.clientExtId", "$response.body#/extId")],
    ];
    "createUser" "201" => [
        "getUser": NEW_USER,
        "patchUser": NEW_USER,
        "deleteUser": NEW_USER,
        "listUsers": &[
            ("clientExtId", "$response.body#/clientExtId"),
            ("query.loginId", "$response.body#/loginId"),
        ],
        "listCredentials": NEW_USER,
        "userHistory": NEW_USER,
        "listEvents": &[("query.userExtId", "$response.body#/extId")],
        "grantRole": NEW_USER,
        "listRoles": NEW_USER,
        "createPassword": NEW_USER,
        "bulkLoginInfo": NEW_USER,
        "createOath": NEW_USER,
        "listOath": NEW_USER,
        "assignVasco": NEW_USER,
    ];
    "patchUser" "200" => [
        "getUser": NEW_USER,
        "deleteUser": NEW_USER,
    ];
    "grantRole" "201" => [
        "revokeRole": &[
            ("clientExtId", "$request.path.clientExtId"),
            ("userExtId", "$request.path.userExtId"),
            ("role", "$response.body#/role"),
        ],
        "listRoles": PATH_USER,
    ];
    "createPolicy" "201" => [
        "getPolicy": NEW_IN_CLIENT,
        "patchPolicy": NEW_IN_CLIENT,
    ];
    "createPassword" "201" => [
        "getPassword": PATH_USER,
        "patchPassword": PATH_USER,
        "resetPassword": PATH_USER,
        "changePassword": PATH_USER,
        "unlockPassword": PATH_USER,
        "passwordLogin": PATH_USER,
        "listCredentials": PATH_USER,
        "bulkLoginInfo": PATH_USER,
    ];
    "createPassword" "204" => [
        "getPassword": PATH_USER,
        "patchPassword": PATH_USER,
        "resetPassword": PATH_USER,
        "unlockPassword": PATH_USER,
        "passwordLogin": PATH_USER,
    ];
    "createOath" "201" => [
        "getOath": NEW_USER_CREDENTIAL,
        "deleteOath": NEW_USER_CREDENTIAL,
        "oathLogin": NEW_USER_CREDENTIAL,
        "oathResync": NEW_USER_CREDENTIAL,
        "listOath": PATH_USER,
    ];
    "createVasco" "201" => [
        "getVasco": NEW_IN_CLIENT,
        "assignVasco": NEW_IN_CLIENT,
        "unassignVasco": NEW_IN_CLIENT,
        "listVasco": &[("clientExtId", "$request.path.clientExtId")],
    ];
    "assignVasco" "200" => [
        "getVasco": NEW_IN_CLIENT,
        "unassignVasco": NEW_IN_CLIENT,
        "listCredentials": &[
            ("clientExtId", "$request.path.clientExtId"),
            ("userExtId", "$response.body#/userExtId"),
        ],
    ];
};

/// Adds [`LINKS`] to the responses they start from, each named after its target operation.
/// On the JSON: utoipa 5 writes a `Link`'s fields in snake case (`operation_id`), which no
/// OpenAPI reader understands.
fn add_links(document: &mut serde_json::Value) {
    let Some(paths) = document.get_mut("paths").and_then(|p| p.as_object_mut()) else {
        return;
    };
    for item in paths.values_mut() {
        let Some(item) = item.as_object_mut() else {
            continue;
        };
        for operation in item.values_mut() {
            let Some(id) = operation["operationId"].as_str().map(ToOwned::to_owned) else {
                continue;
            };
            for spec in LINKS.iter().filter(|l| l.from == id) {
                let response = &mut operation["responses"][spec.status];
                if !response.is_object() {
                    continue;
                }
                let parameters: serde_json::Map<String, serde_json::Value> = spec
                    .params
                    .iter()
                    .map(|(name, expression)| ((*name).to_owned(), (*expression).into()))
                    .collect();
                response["links"][spec.to] = serde_json::json!({
                    "operationId": spec.to,
                    "parameters": parameters,
                });
            }
        }
    }
}

/// The document as JSON, built once.
pub(crate) fn document_json() -> &'static str {
    static JSON: OnceLock<String> = OnceLock::new();
    JSON.get_or_init(|| {
        let mut value = match serde_json::to_value(document()) {
            Ok(value) => value,
            Err(e) => return format!(r#"{{"error":"{e}"}}"#),
        };
        add_links(&mut value);
        value.to_string()
    })
}
