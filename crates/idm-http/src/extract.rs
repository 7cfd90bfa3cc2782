//! The small extractors handlers take besides [`crate::auth::Authenticated`] and
//! [`crate::body::JsonBody`]: the path parameters, the `X-Token` header and the paging
//! query. Each one is also the `IntoParams` the handler's `#[utoipa::path(params(...))]`
//! names, so what a handler reads and what its operation documents are the same type.
//!
//! Path parameters and `X-Token` never fail: a path parameter is never validated here (a value
//! that is not an extId reaches the use case, which answers that resource's ordinary 404),
//! and a missing token is the use case's decision (SPEC §3.3). Only [`Paging`] can fail, and it
//! waits for authentication first (SPEC §3.4).

use std::convert::Infallible;
use std::future::{ready, Future, Ready};
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest};
use idm_domain::paging::PageRequest;
use utoipa::openapi::path::{Parameter, ParameterIn};
use utoipa::IntoParams;

use crate::auth::AuthGate;
use crate::dto::doc;
use crate::dto::page::page_request;
use crate::error::ApiError;

/// A path parameter as sent (percent-decoded); absent is empty.
fn param(req: &HttpRequest, name: &str) -> String {
    req.match_info().get(name).unwrap_or_default().to_owned()
}

/// Declares an infallible extractor of named path parameters that documents itself as the
/// operation's path parameters.
macro_rules! path_params {
    ($(
        $(#[$meta:meta])*
        $name:ident { $($(#[doc = $field_doc:literal])* $field:ident: $param:literal),+ $(,)? }
    )*) => {$(
        $(#[$meta])*
        #[derive(IntoParams)]
        #[into_params(parameter_in = Path)]
        pub(crate) struct $name {
            $(
                $(#[doc = $field_doc])*
                #[param(rename = $param)]
                pub(crate) $field: String,
            )+
        }

        impl FromRequest for $name {
            type Error = Infallible;
            type Future = Ready<Result<Self, Infallible>>;

            fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
                ready(Ok($name { $($field: param(req, $param)),+ }))
            }
        }
    )*};
}

path_params! {
    /// `:clientExtId` of a client-scoped path.
    ClientPath {
        /// External ID of the client.
        client: "clientExtId",
    }
    /// `:clientExtId` and `:userExtId` of a user-scoped path.
    UserPath {
        /// External ID of the client.
        client: "clientExtId",
        /// External ID of the user.
        user: "userExtId",
    }
    /// `:extId` of the addressed record.
    ExtIdPath {
        /// External ID of the addressed record.
        ext_id: "extId",
    }
    /// `:role` of a role grant.
    RolePath {
        /// Role name, e.g. `Helpdesk`.
        role: "role",
    }
}

/// `:file` of the Swagger UI: one segment, possibly empty (`…/docs/` is the page). The
/// `pattern` is what the route template allows; the 404/405 table reads it from here.
#[derive(IntoParams)]
#[into_params(parameter_in = Path)]
pub(crate) struct FilePath {
    /// File name of the Swagger UI distribution.
    #[param(pattern = "^[^/]*$")]
    pub(crate) file: String,
}

impl FromRequest for FilePath {
    type Error = Infallible;
    type Future = Ready<Result<Self, Infallible>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(Ok(FilePath {
            file: param(req, "file"),
        }))
    }
}

/// The self-admin JWT of the `X-Token` header (SPEC §3.3), trimmed; absent, empty or not
/// visible ASCII is `None`. Only the use case knows whether it is needed.
pub(crate) struct XToken(pub(crate) Option<String>);

impl FromRequest for XToken {
    type Error = Infallible;
    type Future = Ready<Result<Self, Infallible>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let token = req
            .headers()
            .get("x-token")
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(ToOwned::to_owned);
        ready(Ok(XToken(token)))
    }
}

impl IntoParams for XToken {
    fn into_params(parameter_in_provider: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
        doc::XTokenHeader::into_params(parameter_in_provider)
    }
}

/// The filters of the user list (SPEC §12) as sent, each optional; never fails (an unknown
/// `userState` is the use case's 422, after rights and the client).
#[derive(IntoParams)]
#[into_params(parameter_in = Query, rename_all = "camelCase")]
pub(crate) struct UserFilters {
    /// Exactly this loginId.
    #[param(nullable = false)]
    pub(crate) login_id: Option<String>,
    /// This e-mail address, compared case-insensitively.
    #[param(nullable = false)]
    pub(crate) email: Option<String>,
    /// Only users in this state (another value answers 422); empty: no filter.
    #[param(value_type = Option<crate::dto::values::UserStateFilter>, nullable = false)]
    pub(crate) user_state: Option<String>,
    /// A case-insensitive prefix of the loginId, the family name or the e-mail address.
    #[param(nullable = false)]
    pub(crate) q: Option<String>,
}

impl FromRequest for UserFilters {
    type Error = Infallible;
    type Future = Ready<Result<Self, Infallible>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let pairs = actix_web::web::Query::<Vec<(String, String)>>::from_query(req.query_string())
            .map(actix_web::web::Query::into_inner)
            .unwrap_or_default();
        // A repeated parameter: the last one counts, as for `limit`.
        let last = |name: &str| {
            pairs
                .iter()
                .rev()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
        };
        ready(Ok(UserFilters {
            login_id: last("loginId"),
            email: last("email"),
            user_state: last("userState"),
            q: last("q"),
        }))
    }
}

/// The checked `limit`/`continuationToken` of a list (SPEC §1). A bad query answers 422 after
/// authentication and before the use case (SPEC §3.4): the check waits on the request's
/// [`AuthGate`], so it cannot overtake a 401 whatever the argument order.
pub(crate) struct Paging(pub(crate) PageRequest);

impl FromRequest for Paging {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            AuthGate::passed(&req).await;
            Ok(Paging(page_request(req.query_string())?))
        })
    }
}

impl IntoParams for Paging {
    fn into_params(parameter_in_provider: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
        doc::PageQuery::into_params(parameter_in_provider)
    }
}
