//! SCIM discovery (RFC 7644 §4, RFC 7643 §5–§7): `ServiceProviderConfig`, `ResourceTypes` and
//! `Schemas`, describing exactly what this service supports. They are reads of the client's
//! SCIM service: rights `UserView` in the data room of `:clientExtId` and an existing client,
//! decided by the user search use case (asked with a query that matches nothing). A `filter`
//! is refused with 403, as RFC 7644 §4 asks.

use actix_web::http::StatusCode;
use actix_web::{get, web, HttpResponse};
use serde_json::{json, Value};

use super::errors::{ReadErrors, ScimError};
use super::handlers::read_refusal;
use super::{respond, Query, ScimCaller, ScimIdPath, BASE, LIST_SCHEMA, USER_SCHEMA};
use crate::extract::ClientPath;
use crate::AppState;

const SPC_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig";
const RESOURCE_TYPE_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:ResourceType";
const SCHEMA_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Schema";

/// The service's SCIM features (RFC 7643 §5).
fn service_provider_config(client: &str) -> Value {
    json!({
        "schemas": [SPC_SCHEMA],
        "documentationUri": "/nevisidm/api/docs",
        "patch": {"supported": true},
        "bulk": {"supported": false, "maxOperations": 0, "maxPayloadSize": 0},
        "filter": {"supported": true, "maxResults": 1000},
        "changePassword": {"supported": false},
        "sort": {"supported": false},
        "etag": {"supported": true},
        "authenticationSchemes": [{
            "type": "httpbasic",
            "name": "HTTP Basic",
            "description": "Basic credentials of an active user of the service: \
                `<clientExtId>/<loginId>` or a bare loginId, and the password (SPEC §3.1).",
            "specUri": "https://www.rfc-editor.org/info/rfc7617",
            "primary": true,
        }],
        "meta": {
            "resourceType": "ServiceProviderConfig",
            "location": format!("{BASE}/{client}/ServiceProviderConfig"),
        },
    })
}

/// The one resource type (RFC 7643 §6): User, without extensions.
fn user_resource_type(client: &str) -> Value {
    json!({
        "schemas": [RESOURCE_TYPE_SCHEMA],
        "id": "User",
        "name": "User",
        "endpoint": "/Users",
        "description": "User Account",
        "schema": USER_SCHEMA,
        "meta": {
            "resourceType": "ResourceType",
            "location": format!("{BASE}/{client}/ResourceTypes/User"),
        },
    })
}

/// One attribute definition (RFC 7643 §7).
fn attribute(name: &str, kind: &str, description: &str) -> Value {
    json!({
        "name": name,
        "type": kind,
        "multiValued": false,
        "description": description,
        "required": false,
        "caseExact": false,
        "mutability": "readWrite",
        "returned": "default",
        "uniqueness": "none",
    })
}

fn with(mut v: Value, changes: Value) -> Value {
    if let (Value::Object(target), Value::Object(changes)) = (&mut v, changes) {
        target.extend(changes);
    }
    v
}

/// The User schema as this service implements it (RFC 7643 §4.1, §8.7.1): only the attributes
/// it stores.
fn user_schema(client: &str) -> Value {
    let string = |name: &str, description: &str| attribute(name, "string", description);
    json!({
        "schemas": [SCHEMA_SCHEMA],
        "id": USER_SCHEMA,
        "name": "User",
        "description": "User Account",
        "attributes": [
            with(string("userName", "The loginId: unique within the client; compared ignoring case."),
                json!({"required": true, "uniqueness": "server"})),
            with(string("externalId", "The identity provider's key for the user."),
                json!({"caseExact": true})),
            with(attribute("name", "complex", "The user's name."), json!({"subAttributes": [
                with(string("formatted", "Title, given and family name; derived."),
                    json!({"mutability": "readOnly"})),
                string("familyName", "The family name."),
                string("givenName", "The given name."),
                string("honorificPrefix", "The title."),
            ]})),
            attribute("active", "boolean", "Whether the user is active; false disables it, an archived user reads as false."),
            with(attribute("emails", "complex", "The e-mail address: one; the primary one (else the first) of a request is kept."),
                json!({"multiValued": true, "subAttributes": [
                    string("value", "The address."),
                    with(string("type", "Always work in answers."), json!({"canonicalValues": ["work"]})),
                    attribute("primary", "boolean", "Always true in answers."),
                ]})),
            with(attribute("phoneNumbers", "complex", "The mobile number; numbers of other types are ignored."),
                json!({"multiValued": true, "subAttributes": [
                    string("value", "The number."),
                    with(string("type", "mobile."), json!({"canonicalValues": ["mobile"]})),
                ]})),
            with(string("preferredLanguage", "en, de, fr or it (a region subtag such as de-CH is accepted)."),
                json!({"canonicalValues": ["en", "de", "fr", "it"]})),
        ],
        "meta": {
            "resourceType": "Schema",
            "location": format!("{BASE}/{client}/Schemas/{USER_SCHEMA}"),
        },
    })
}

fn list(resources: Vec<Value>) -> Value {
    json!({
        "schemas": [LIST_SCHEMA],
        "totalResults": resources.len(),
        "startIndex": 1,
        "itemsPerPage": resources.len(),
        "Resources": resources,
    })
}

/// Rights and client first (SPEC §3.4), then the refused `filter`.
async fn allowed(
    state: &web::Data<AppState>,
    caller: idm_ports::Caller,
    client: &str,
    query: &Query,
) -> Result<(), ScimError> {
    if let Some(e) = read_refusal(state.users.clone(), caller, client.to_owned()).await {
        return Err(e);
    }
    if query.get("filter").is_some() {
        return Err(ScimError::forbidden(
            "Discovery endpoints do not support filtering.",
        ));
    }
    Ok(())
}

/// `GET /scim/v1/:clientExtId/ServiceProviderConfig` → 200.
#[utoipa::path(
    operation_id = "scimServiceProviderConfig",
    tag = "scim",
    summary = "The SCIM features of the service (RFC 7643 §5): patch, filter (maxResults 1000) and etag supported; bulk, changePassword and sort not; HTTP Basic authentication.",
    params(ClientPath),
    responses(
        (status = 200, description = "The configuration.", body = Object, content_type = "application/scim+json"),
        ReadErrors,
    ),
    security(("basic" = [])),
)]
#[get("/nevisidm/api/scim/v1/{clientExtId}/ServiceProviderConfig")]
pub(crate) async fn config(
    ScimCaller(caller): ScimCaller,
    ClientPath { client }: ClientPath,
    query: Query,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ScimError> {
    allowed(&state, caller, &client, &query).await?;
    Ok(respond(StatusCode::OK, &service_provider_config(&client)))
}

/// `GET /scim/v1/:clientExtId/ResourceTypes` → 200.
#[utoipa::path(
    operation_id = "scimResourceTypes",
    tag = "scim",
    summary = "The resource types (RFC 7643 §6): User, without schema extensions.",
    params(ClientPath),
    responses(
        (status = 200, description = "A ListResponse of resource types.", body = Object, content_type = "application/scim+json"),
        ReadErrors,
    ),
    security(("basic" = [])),
)]
#[get("/nevisidm/api/scim/v1/{clientExtId}/ResourceTypes")]
pub(crate) async fn resource_type_list(
    ScimCaller(caller): ScimCaller,
    ClientPath { client }: ClientPath,
    query: Query,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ScimError> {
    allowed(&state, caller, &client, &query).await?;
    Ok(respond(
        StatusCode::OK,
        &list(vec![user_resource_type(&client)]),
    ))
}

/// `GET /scim/v1/:clientExtId/ResourceTypes/:id` → 200.
#[utoipa::path(
    operation_id = "scimResourceType",
    tag = "scim",
    summary = "One resource type (`User`).",
    params(ScimIdPath),
    responses(
        (status = 200, description = "The resource type.", body = Object, content_type = "application/scim+json"),
        ReadErrors,
    ),
    security(("basic" = [])),
)]
#[get("/nevisidm/api/scim/v1/{clientExtId}/ResourceTypes/{id}")]
pub(crate) async fn resource_type_one(
    ScimCaller(caller): ScimCaller,
    ScimIdPath { client, id }: ScimIdPath,
    query: Query,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ScimError> {
    allowed(&state, caller, &client, &query).await?;
    if !id.eq_ignore_ascii_case("User") {
        return Err(ScimError::new(
            StatusCode::NOT_FOUND,
            None,
            format!("Resource type '{}' is not known.", id.escape_default()),
        ));
    }
    Ok(respond(StatusCode::OK, &user_resource_type(&client)))
}

/// `GET /scim/v1/:clientExtId/Schemas` → 200.
#[utoipa::path(
    operation_id = "scimSchemas",
    tag = "scim",
    summary = "The resource schemas (RFC 7643 §7): the User schema with exactly the attributes the service stores.",
    params(ClientPath),
    responses(
        (status = 200, description = "A ListResponse of schemas.", body = Object, content_type = "application/scim+json"),
        ReadErrors,
    ),
    security(("basic" = [])),
)]
#[get("/nevisidm/api/scim/v1/{clientExtId}/Schemas")]
pub(crate) async fn schema_list(
    ScimCaller(caller): ScimCaller,
    ClientPath { client }: ClientPath,
    query: Query,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ScimError> {
    allowed(&state, caller, &client, &query).await?;
    Ok(respond(StatusCode::OK, &list(vec![user_schema(&client)])))
}

/// `GET /scim/v1/:clientExtId/Schemas/:id` → 200.
#[utoipa::path(
    operation_id = "scimSchema",
    tag = "scim",
    summary = "One schema, by its URN (`urn:ietf:params:scim:schemas:core:2.0:User`).",
    params(ScimIdPath),
    responses(
        (status = 200, description = "The schema.", body = Object, content_type = "application/scim+json"),
        ReadErrors,
    ),
    security(("basic" = [])),
)]
#[get("/nevisidm/api/scim/v1/{clientExtId}/Schemas/{id}")]
pub(crate) async fn schema_one(
    ScimCaller(caller): ScimCaller,
    ScimIdPath { client, id }: ScimIdPath,
    query: Query,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ScimError> {
    allowed(&state, caller, &client, &query).await?;
    if !id.eq_ignore_ascii_case(USER_SCHEMA) {
        return Err(ScimError::new(
            StatusCode::NOT_FOUND,
            None,
            format!("Schema '{}' is not known.", id.escape_default()),
        ));
    }
    Ok(respond(StatusCode::OK, &user_schema(&client)))
}
