//! Request and response bodies per resource, and their mapping from and to the domain.
//!
//! Response DTOs omit absent values (SPEC §1) and write timestamps as RFC 3339 UTC with `Z`;
//! request DTOs accept `null` like an absent field and ignore unknown fields (SPEC §8).

pub(crate) mod audit;
pub(crate) mod auth;
pub(crate) mod client;
pub(crate) mod credential;
pub(crate) mod doc;
pub(crate) mod login_info;
pub(crate) mod oath;
pub(crate) mod page;
pub(crate) mod password;
pub(crate) mod policy;
pub(crate) mod principal;
pub(crate) mod role;
pub(crate) mod token;
pub(crate) mod user;
pub(crate) mod values;
pub(crate) mod vasco;

use std::str::FromStr;

use actix_web::http::header::{self, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::HttpResponse;
use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Deserializer, Serialize};

/// SPEC §1 timestamp form: RFC 3339, UTC, `Z`, milliseconds.
pub(crate) fn timestamp(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// The content type of every JSON answer (SPEC notation).
pub(crate) const JSON_UTF8: &str = "application/json; charset=utf-8";

/// A JSON answer with the given status.
pub(crate) fn json<T: Serialize>(status: StatusCode, body: &T) -> HttpResponse {
    HttpResponse::build(status)
        .insert_header((header::CONTENT_TYPE, HeaderValue::from_static(JSON_UTF8)))
        .json(body)
}

/// A 201 with `Location` and the created entity.
pub(crate) fn created<T: Serialize>(location: &str, body: &T) -> HttpResponse {
    let mut res = json(StatusCode::CREATED, body);
    // Locations are built from validated extIds and role names, so this always succeeds.
    if let Ok(value) = HeaderValue::from_str(location) {
        res.headers_mut().insert(header::LOCATION, value);
    }
    res
}

/// Deserializes an optional field through the domain's `FromStr`, so an unknown enum string
/// is a wrong-shape error of that field (400 `errors.deserialization`).
pub(crate) fn opt_from_str<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: FromStr,
    T::Err: std::fmt::Display,
{
    Option::<String>::deserialize(d)?
        .map(|s| s.parse::<T>().map_err(serde::de::Error::custom))
        .transpose()
}

/// Deserializes a merge-PATCH field (SPEC §12) with `#[serde(default, deserialize_with =
/// "tri_state")]`: absent → `Keep` (the default), `null` → `Remove`, a value → `Set`.
pub(crate) fn tri_state<'de, D, T>(d: D) -> Result<idm_domain::patch::Patch<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Ok(idm_domain::patch::Patch::from_json(Some(
        Option::<T>::deserialize(d)?,
    )))
}
