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

/// Deserializes an optional integer as JSON Schema reads one (`#[serde(default,
/// deserialize_with = "integer")]`): any number without a fractional part, so `3.0` and `3e0`
/// are the `3` the OpenAPI document's `type: integer` admits; `null` is absent.
pub(crate) fn integer<'de, D>(d: D) -> Result<Option<i64>, D::Error>
where
    D: Deserializer<'de>,
{
    let Some(number) = Option::<serde_json::Number>::deserialize(d)? else {
        return Ok(None);
    };
    if let Some(n) = number.as_i64() {
        return Ok(Some(n));
    }
    // Exactly the floats that are whole numbers inside i64 (2^63 is the first one outside).
    const LIMIT: f64 = 9_223_372_036_854_775_808.0;
    match number.as_f64() {
        Some(f) if f.fract() == 0.0 && (-LIMIT..LIMIT).contains(&f) => Ok(Some(f as i64)),
        _ => Err(serde::de::Error::custom("not an integer")),
    }
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

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    struct Probe {
        #[serde(default, deserialize_with = "super::integer")]
        version: Option<i64>,
    }

    fn version(json: &str) -> Result<Option<i64>, String> {
        serde_json::from_str::<Probe>(json)
            .map(|p| p.version)
            .map_err(|e| e.to_string())
    }

    #[test]
    fn integers_as_json_schema_reads_them() {
        assert_eq!(version("{}"), Ok(None));
        assert_eq!(version(r#"{"version":null}"#), Ok(None));
        assert_eq!(version(r#"{"version":3}"#), Ok(Some(3)));
        assert_eq!(version(r#"{"version":-809.0}"#), Ok(Some(-809)));
        assert_eq!(version(r#"{"version":0.0}"#), Ok(Some(0)));
        assert_eq!(version(r#"{"version":1e2}"#), Ok(Some(100)));
        assert_eq!(
            version(r#"{"version":9223372036854775807}"#),
            Ok(Some(i64::MAX))
        );
        for bad in [
            "1.5",
            "9223372036854775808",
            "9.3e18",
            "\"3\"",
            "true",
            "[]",
        ] {
            assert!(
                version(&format!(r#"{{"version":{bad}}}"#)).is_err(),
                "{bad}"
            );
        }
    }
}
