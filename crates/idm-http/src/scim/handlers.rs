//! The SCIM User endpoints (SPEC §14): each authenticates like every endpoint, calls the user
//! use cases on the blocking pool and maps the answer; rights, lookups, SPEC §10.1 and the
//! history are the use cases'.
//!
//! * A list or search parses its filter and paging before it calls `search_users`. When they
//!   are bad, it first asks the same use case with a query that matches nothing: a caller
//!   without `UserView` in the client, or an unknown client, gets that refusal (SPEC §3.4
//!   orders rights and lookups before parameters), anyone else the 400.
//! * PUT and PATCH read the user (`get_user`), compute the new representation, and hand the
//!   difference to `patch_user` with the version read, so a concurrent change is noticed. When
//!   the read fails, `If-Match` does not match, the body is unusable or nothing would change,
//!   the handler asks `patch_user` with a refused body ([`write_refusal`]): that runs exactly
//!   the write's checks (rights `UserModify`, client, user, SPEC §10.1) and writes nothing, so
//!   the answer is the first failure in SPEC order and a no-op is no history event. Without
//!   `If-Match`, a version conflict (a concurrent write between the read and the write) is
//!   retried twice on a fresh read; with it, it is 412.

use std::sync::Arc;

use actix_web::http::header::{self, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::{delete, get, patch, post, put, web, HttpResponse};
use idm_domain::DomainError;
use idm_ports::usecases::{Body, UserService, UserView};
use idm_ports::user_query::UserQuery;
use idm_ports::{AppError, AppResult, BodyRejection, Caller};
use serde_json::{json, Value};

use super::dto::{
    self, PatchOpDoc, Projection, SearchRequestDoc, UserDoc, UserListDoc, UserRequestDoc,
};
use super::errors::{
    CreateErrors, DeleteErrors, ListErrors, ModifyErrors, ReadErrors, ScimError, SearchErrors,
};
use super::filter::member;
use super::{
    filter, patch as scim_patch, respond, respond_versioned, AttributesQueryDoc, IfMatch,
    IfNoneMatch, ListQueryDoc, Precondition, Query, ScimBody, ScimCaller, ScimIdPath, LIST_SCHEMA,
};
use crate::extract::ClientPath;
use crate::AppState;

/// Runs a use case off the async workers.
async fn call<T, F>(work: F) -> AppResult<T>
where
    T: Send + 'static,
    F: FnOnce() -> AppResult<T> + Send + 'static,
{
    web::block(work).await.unwrap_or_else(|_| {
        Err(AppError::Internal(
            "blocking pool failure (task panicked or pool shut down)".into(),
        ))
    })
}

/// The answer a list or search gives before its parameters: rights `UserView` and the client
/// (asked with a query that matches nothing, so nothing is searched). `None`: both are fine.
pub(crate) async fn read_refusal(
    users: Arc<dyn UserService>,
    caller: Caller,
    client: String,
) -> Option<ScimError> {
    call(move || users.search_users(&caller, &client, UserQuery::nothing(), 0, 0))
        .await
        .err()
        .map(ScimError::from)
}

/// One user of a SCIM path, as the caller addresses it.
#[derive(Clone)]
struct Target {
    users: Arc<dyn UserService>,
    caller: Caller,
    client: String,
    id: String,
}

impl Target {
    async fn read(&self) -> AppResult<UserView> {
        let t = self.clone();
        call(move || t.users.get_user(&t.caller, &t.client, &t.id)).await
    }

    async fn write(&self, change: idm_domain::user::UserPatch) -> AppResult<UserView> {
        let t = self.clone();
        call(move || {
            t.users
                .patch_user(&t.caller, &t.client, &t.id, None, Ok(change))
        })
        .await
    }

    /// What a PUT/PATCH answers before its body (SPEC §3.4 steps 2–5): `patch_user` handed a
    /// refused body runs the write's checks and stops at the body, writing nothing. `None`:
    /// every check passed.
    async fn write_refusal(&self) -> Option<ScimError> {
        let t = self.clone();
        let refused: Body<idm_domain::user::UserPatch> =
            Err(AppError::BadBody(BodyRejection::Missing));
        match call(move || {
            t.users
                .patch_user(&t.caller, &t.client, &t.id, None, refused)
        })
        .await
        {
            Err(AppError::BadBody(_)) | Ok(_) => None,
            Err(e) => Some(e.into()),
        }
    }

    /// `fallback`, unless the write's own checks refuse first.
    async fn refuse(&self, fallback: ScimError) -> ScimError {
        self.write_refusal().await.unwrap_or(fallback)
    }
}

/// A user's representation as asked for, with its `ETag`.
fn answer(status: StatusCode, view: &UserView, projection: &Projection) -> HttpResponse {
    respond_versioned(
        status,
        &projection.apply(dto::resource(view)),
        view.user.version,
    )
}

// ---- list and search ------------------------------------------------------------------------

/// The parameters of a list or search, as sent.
#[derive(Debug, Default)]
struct ListParams {
    filter: Option<String>,
    start_index: Option<String>,
    count: Option<String>,
    projection: Projection,
}

fn integer(name: &str, raw: Option<&str>) -> Result<Option<i64>, ScimError> {
    raw.map(|r| {
        r.trim()
            .parse::<i64>()
            .map_err(|_| ScimError::invalid_value(format!("'{name}' must be an integer.")))
    })
    .transpose()
}

/// `startIndex` (1-based; less than 1 counts as 1) and `count` (default 100; clamped to
/// 0..=1000), RFC 7644 §3.4.2.4.
fn paging(p: &ListParams) -> Result<(u64, u32), ScimError> {
    let start = integer("startIndex", p.start_index.as_deref())?
        .unwrap_or(1)
        .max(1);
    let count = integer("count", p.count.as_deref())?
        .unwrap_or(100)
        .clamp(0, 1000);
    Ok((
        u64::try_from(start).unwrap_or(1),
        u32::try_from(count).unwrap_or(100),
    ))
}

fn parsed(p: &ListParams) -> Result<(UserQuery, u64, u32), ScimError> {
    let query = match p.filter.as_deref().map(str::trim) {
        None | Some("") => UserQuery::All,
        Some(f) => filter::user_query(f)?,
    };
    let (start, count) = paging(p)?;
    Ok((query, start, count))
}

async fn run_list(
    state: web::Data<AppState>,
    caller: Caller,
    client: String,
    params: Result<ListParams, ScimError>,
) -> Result<HttpResponse, ScimError> {
    let users = state.users.clone();
    let checked = params.and_then(|p| parsed(&p).map(|q| (q, p.projection)));
    let ((query, start, count), projection) = match checked {
        Ok(ok) => ok,
        Err(e) => {
            return Err(read_refusal(users, caller, client).await.unwrap_or(e));
        }
    };
    let (views, total) =
        call(move || users.search_users(&caller, &client, query, start - 1, count))
            .await
            .map_err(|e| match e {
                AppError::Domain(DomainError::InvalidParameter(m)) => ScimError::invalid_filter(m),
                other => other.into(),
            })?;
    let resources: Vec<Value> = views
        .iter()
        .map(|v| projection.apply(dto::resource(v)))
        .collect();
    Ok(respond(
        StatusCode::OK,
        &json!({
            "schemas": [LIST_SCHEMA],
            "totalResults": total,
            "startIndex": start,
            "itemsPerPage": resources.len(),
            "Resources": resources,
        }),
    ))
}

/// `GET /scim/v1/:clientExtId/Users` → 200 with one page.
#[utoipa::path(
    operation_id = "scimListUsers",
    tag = "scim",
    summary = "List or filter the client's users (SPEC §14, RFC 7644 §3.4.2); rights UserView.",
    description = "Filters (`eq ne co sw ew pr gt ge lt le`, `and`, `or`, `not`, parentheses) on userName, externalId, name.givenName, name.familyName, emails.value (also `emails[type eq \"work\"]`), active, meta.created and meta.lastModified, evaluated by the database; attribute names and userName comparisons ignore case. Ordered by creation time, then id; `totalResults` is exact.",
    params(ClientPath, ListQueryDoc),
    responses(
        (status = 200, description = "One page of users.", body = UserListDoc, content_type = "application/scim+json"),
        ListErrors,
    ),
    security(("basic" = [])),
)]
#[get("/nevisidm/api/scim/v1/{clientExtId}/Users")]
pub(crate) async fn list(
    ScimCaller(caller): ScimCaller,
    ClientPath { client }: ClientPath,
    query: Query,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ScimError> {
    let params = ListParams {
        filter: query.get("filter").map(str::to_owned),
        start_index: query.get("startIndex").map(str::to_owned),
        count: query.get("count").map(str::to_owned),
        projection: query.projection(),
    };
    run_list(state, caller, client, Ok(params)).await
}

/// A number or a numeric string of a search body, as text.
fn body_integer(body: &Value, name: &str) -> Result<Option<String>, ScimError> {
    match member(body, name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => Ok(Some(n.to_string())),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(ScimError::invalid_value(format!(
            "'{name}' must be an integer."
        ))),
    }
}

/// A list of attribute names: an array of strings, or one comma-separated string.
fn body_names(body: &Value, name: &str) -> Result<Vec<String>, ScimError> {
    let bad = || ScimError::invalid_value(format!("'{name}' must be an array of attribute names."));
    match member(body, name) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::String(s)) => Ok(s.split(',').map(str::to_owned).collect()),
        Some(Value::Array(items)) => items
            .iter()
            .map(|i| i.as_str().map(str::to_owned).ok_or_else(bad))
            .collect(),
        Some(_) => Err(bad()),
    }
}

/// The parameters of a SearchRequest body (RFC 7644 §3.4.3).
fn search_params(body: &Value) -> Result<ListParams, ScimError> {
    if !body.is_object() {
        return Err(ScimError::invalid_syntax(
            "A search body must be a SearchRequest object.",
        ));
    }
    let filter = match member(body, "filter") {
        None | Some(Value::Null) => None,
        Some(Value::String(f)) => Some(f.clone()),
        Some(_) => return Err(ScimError::invalid_filter("'filter' must be a string.")),
    };
    Ok(ListParams {
        filter,
        start_index: body_integer(body, "startIndex")?,
        count: body_integer(body, "count")?,
        projection: Projection::new(
            &body_names(body, "attributes")?,
            &body_names(body, "excludedAttributes")?,
        ),
    })
}

/// `POST /scim/v1/:clientExtId/Users/.search` → 200 with one page.
#[utoipa::path(
    operation_id = "scimSearchUsers",
    tag = "scim",
    summary = "Search the client's users with a SearchRequest body (RFC 7644 §3.4.3); rights UserView.",
    params(ClientPath),
    request_body(content = SearchRequestDoc, content_type = "application/scim+json"),
    responses(
        (status = 200, description = "One page of users.", body = UserListDoc, content_type = "application/scim+json"),
        SearchErrors,
    ),
    security(("basic" = [])),
)]
#[post("/nevisidm/api/scim/v1/{clientExtId}/Users/.search")]
pub(crate) async fn search(
    ScimCaller(caller): ScimCaller,
    ClientPath { client }: ClientPath,
    body: ScimBody,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ScimError> {
    let params = body
        .0
        .map_err(ScimError::from)
        .and_then(|b| search_params(&b));
    run_list(state, caller, client, params).await
}

// ---- one user -------------------------------------------------------------------------------

/// `POST /scim/v1/:clientExtId/Users` → 201 with the user.
#[utoipa::path(
    operation_id = "scimCreateUser",
    tag = "scim",
    summary = "Provision a user (RFC 7644 §3.3); rights UserCreate. The server assigns `id`; userName taken → 409 uniqueness.",
    params(ClientPath, AttributesQueryDoc),
    request_body(content = UserRequestDoc, content_type = "application/scim+json"),
    responses(
        (status = 201, description = "The created user.", body = UserDoc, content_type = "application/scim+json",
            headers(("Location" = String, description = "URL of the user"), ("ETag" = String, description = "`W/\"<version>\"`"))),
        CreateErrors,
    ),
    security(("basic" = [])),
)]
#[post("/nevisidm/api/scim/v1/{clientExtId}/Users")]
pub(crate) async fn create(
    ScimCaller(caller): ScimCaller,
    ClientPath { client }: ClientPath,
    query: Query,
    body: ScimBody,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ScimError> {
    let cmd = body.0.and_then(|doc| {
        if !doc.is_object() {
            return Err(AppError::BadBody(BodyRejection::InvalidField(
                "body".into(),
            )));
        }
        dto::desired(&doc)
            .map(dto::create_command)
            .map_err(|attr| AppError::BadBody(BodyRejection::InvalidField(attr)))
    });
    let users = state.users.clone();
    let view = call(move || users.create_user(&caller, &client, cmd)).await?;
    let mut res = answer(StatusCode::CREATED, &view, &query.projection());
    let location = dto::location(view.client_ext_id.as_str(), view.user.ext_id.as_str());
    if let Ok(v) = HeaderValue::from_str(&location) {
        res.headers_mut().insert(header::LOCATION, v);
    }
    Ok(res)
}

/// `GET /scim/v1/:clientExtId/Users/:id` → 200 with the user (304 for a current
/// `If-None-Match`).
#[utoipa::path(
    operation_id = "scimGetUser",
    tag = "scim",
    summary = "Read a user (RFC 7644 §3.4.1); rights UserView.",
    params(ScimIdPath, AttributesQueryDoc, IfNoneMatch),
    responses(
        (status = 200, description = "The user.", body = UserDoc, content_type = "application/scim+json",
            headers(("ETag" = String, description = "`W/\"<version>\"`"))),
        (status = 304, description = "The `If-None-Match` version is current."),
        ReadErrors,
    ),
    security(("basic" = [])),
)]
#[get("/nevisidm/api/scim/v1/{clientExtId}/Users/{id}")]
pub(crate) async fn get(
    ScimCaller(caller): ScimCaller,
    ScimIdPath { client, id }: ScimIdPath,
    query: Query,
    IfNoneMatch(current): IfNoneMatch,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ScimError> {
    let users = state.users.clone();
    let view = call(move || users.get_user(&caller, &client, &id)).await?;
    if current.is_some_and(|c| c.admits(view.user.version)) {
        let mut res = HttpResponse::NotModified().finish();
        if let Ok(v) = HeaderValue::from_str(&dto::etag(view.user.version)) {
            res.headers_mut().insert(header::ETAG, v);
        }
        return Ok(res);
    }
    Ok(answer(StatusCode::OK, &view, &query.projection()))
}

/// What a PUT body or a PATCH makes of the user read.
fn desired(view: &UserView, body: &Body<Value>, put: bool) -> Result<dto::Desired, ScimError> {
    let body = body.as_ref().map_err(|e| ScimError::from(e.clone()))?;
    let doc = if put {
        if !body.is_object() {
            return Err(ScimError::invalid_syntax("A User must be a JSON object."));
        }
        body.clone()
    } else {
        let ops = scim_patch::operations(body)?;
        let mut doc = dto::resource(view);
        scim_patch::apply(&mut doc, &ops)?;
        doc
    };
    dto::desired(&doc)
        .map_err(|attr| ScimError::invalid_value(format!("Invalid value for attribute '{attr}'.")))
}

/// PUT (`put`) or PATCH of one user; see the module documentation.
async fn modify(
    target: Target,
    if_match: Option<Precondition>,
    projection: Projection,
    body: Body<Value>,
    put: bool,
) -> Result<HttpResponse, ScimError> {
    let mut attempt = 0;
    loop {
        attempt += 1;
        let view = match target.read().await {
            Ok(v) => v,
            Err(e) => return Err(target.refuse(e.into()).await),
        };
        if if_match
            .as_ref()
            .is_some_and(|c| !c.admits(view.user.version))
        {
            return Err(target.refuse(ScimError::precondition_failed()).await);
        }
        let wanted = match desired(&view, &body, put) {
            Ok(d) => d,
            Err(e) => return Err(target.refuse(e).await),
        };
        let mut change = dto::user_patch(&view.user, &wanted);
        if dto::is_noop(&change) {
            // Nothing to write (and so no history event), once the write's checks pass.
            return match target.write_refusal().await {
                Some(e) => Err(e),
                None => Ok(answer(StatusCode::OK, &view, &projection)),
            };
        }
        change.version = Some(view.user.version);
        match target.write(change).await {
            Ok(v) => return Ok(answer(StatusCode::OK, &v, &projection)),
            Err(AppError::Domain(DomainError::OptimisticLockingFailure)) if if_match.is_some() => {
                return Err(ScimError::precondition_failed())
            }
            Err(AppError::Domain(DomainError::OptimisticLockingFailure)) if attempt < 3 => {}
            Err(e) => return Err(e.into()),
        }
    }
}

/// `PUT /scim/v1/:clientExtId/Users/:id` → 200 with the user.
#[utoipa::path(
    operation_id = "scimReplaceUser",
    tag = "scim",
    summary = "Replace a user (RFC 7644 §3.5.1); rights UserModify. Every writable attribute is replaced; one left out is removed (an absent `active` keeps the state). `id` and `meta` are ignored.",
    params(ScimIdPath, AttributesQueryDoc, IfMatch),
    request_body(content = UserRequestDoc, content_type = "application/scim+json"),
    responses(
        (status = 200, description = "The user as stored.", body = UserDoc, content_type = "application/scim+json",
            headers(("ETag" = String, description = "`W/\"<version>\"`"))),
        ModifyErrors,
    ),
    security(("basic" = [])),
)]
#[put("/nevisidm/api/scim/v1/{clientExtId}/Users/{id}")]
pub(crate) async fn replace(
    ScimCaller(caller): ScimCaller,
    ScimIdPath { client, id }: ScimIdPath,
    query: Query,
    IfMatch(if_match): IfMatch,
    body: ScimBody,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ScimError> {
    let target = Target {
        users: state.users.clone(),
        caller,
        client,
        id,
    };
    modify(target, if_match, query.projection(), body.0, true).await
}

/// `PATCH /scim/v1/:clientExtId/Users/:id` → 200 with the user.
#[utoipa::path(
    operation_id = "scimPatchUser",
    tag = "scim",
    summary = "Change a user with add/replace/remove operations (RFC 7644 §3.5.2); rights UserModify.",
    description = "Operation names in any case (`Replace`), paths with value filters (`emails[type eq \"work\"].value`), `active` as a boolean or the string `\"False\"`/`\"True\"`. `active: false` disables the user; deactivating keeps the user (use DELETE to remove it).",
    params(ScimIdPath, AttributesQueryDoc, IfMatch),
    request_body(content = PatchOpDoc, content_type = "application/scim+json"),
    responses(
        (status = 200, description = "The user as stored.", body = UserDoc, content_type = "application/scim+json",
            headers(("ETag" = String, description = "`W/\"<version>\"`"))),
        ModifyErrors,
    ),
    security(("basic" = [])),
)]
#[patch("/nevisidm/api/scim/v1/{clientExtId}/Users/{id}")]
pub(crate) async fn patch(
    ScimCaller(caller): ScimCaller,
    ScimIdPath { client, id }: ScimIdPath,
    query: Query,
    IfMatch(if_match): IfMatch,
    body: ScimBody,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ScimError> {
    let target = Target {
        users: state.users.clone(),
        caller,
        client,
        id,
    };
    modify(target, if_match, query.projection(), body.0, false).await
}

/// `DELETE /scim/v1/:clientExtId/Users/:id` → 204.
#[utoipa::path(
    operation_id = "scimDeleteUser",
    tag = "scim",
    summary = "Delete a user with what hangs on it (SPEC §12); rights UserDelete. A later GET answers 404.",
    params(ScimIdPath, IfMatch),
    responses(
        (status = 204, description = "Deleted."),
        DeleteErrors,
    ),
    security(("basic" = [])),
)]
#[delete("/nevisidm/api/scim/v1/{clientExtId}/Users/{id}")]
pub(crate) async fn delete(
    ScimCaller(caller): ScimCaller,
    ScimIdPath { client, id }: ScimIdPath,
    IfMatch(if_match): IfMatch,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ScimError> {
    let target = Target {
        users: state.users.clone(),
        caller,
        client,
        id,
    };
    if let Some(condition) = if_match {
        let view = target.read().await?;
        if !condition.admits(view.user.version) {
            return Err(ScimError::precondition_failed());
        }
    }
    let Target {
        users,
        caller,
        client,
        id,
    } = target;
    call(move || users.delete_user(&caller, &client, &id)).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paging_rules_of_rfc_7644() {
        let p = |s: Option<&str>, c: Option<&str>| {
            paging(&ListParams {
                start_index: s.map(str::to_owned),
                count: c.map(str::to_owned),
                ..ListParams::default()
            })
        };
        assert_eq!(p(None, None).unwrap(), (1, 100));
        assert_eq!(p(Some("0"), Some("-5")).unwrap(), (1, 0));
        assert_eq!(p(Some("-3"), Some("5000")).unwrap(), (1, 1000));
        assert_eq!(p(Some(" 7 "), Some("10")).unwrap(), (7, 10));
        assert_eq!(
            p(Some("x"), None).unwrap_err().scim_type(),
            Some("invalidValue")
        );
        assert_eq!(
            p(None, Some("1.5")).unwrap_err().scim_type(),
            Some("invalidValue")
        );
    }

    #[test]
    fn search_bodies() {
        let p = search_params(&json!({
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"], "filter": "userName pr", "startIndex": 3, "count": "4",
            "attributes": ["userName"], "excludedAttributes": "emails,name"
        }))
        .unwrap();
        assert_eq!(p.filter.as_deref(), Some("userName pr"));
        assert_eq!(
            (p.start_index.as_deref(), p.count.as_deref()),
            (Some("3"), Some("4"))
        );
        assert!(search_params(&json!({})).is_ok());
        assert!(
            search_params(&json!({"schemas": ["x"]})).is_ok(),
            "schemas is not checked"
        );
        assert_eq!(
            search_params(&json!({"filter": 3}))
                .unwrap_err()
                .scim_type(),
            Some("invalidFilter")
        );
        assert_eq!(
            search_params(&json!({"count": true}))
                .unwrap_err()
                .scim_type(),
            Some("invalidValue")
        );
        assert_eq!(
            search_params(&json!({"attributes": [1]}))
                .unwrap_err()
                .scim_type(),
            Some("invalidValue")
        );
        assert_eq!(
            search_params(&json!([])).unwrap_err().scim_type(),
            Some("invalidSyntax")
        );
    }
}
