//! Lists (SPEC §1): the `items`/`_pagination` body and the opaque continuation token.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::{DateTime, SecondsFormat, Utc};
use idm_domain::paging::{Page, PageCursor, PageRequest};
use idm_domain::{DomainError, ExtId};
use serde::Serialize;
use utoipa::ToSchema;

/// `_pagination` of a list answer.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct PaginationDto {
    limit: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    continuation_token: Option<String>,
}

/// A list answer; `_pagination` is omitted for lists that are not paged (role grants).
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ListResponse<T> {
    items: Vec<T>,
    #[serde(rename = "_pagination", skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pagination: Option<PaginationDto>,
}

impl<T> ListResponse<T> {
    /// An unpaged list.
    pub(crate) fn all(items: Vec<T>) -> Self {
        ListResponse {
            items,
            pagination: None,
        }
    }

    /// One page, mapping its items.
    pub(crate) fn page<U>(page: &Page<U>, map: impl Fn(&U) -> T) -> Self {
        ListResponse {
            items: page.items.iter().map(map).collect(),
            pagination: Some(PaginationDto {
                limit: page.limit,
                continuation_token: page.next.as_ref().map(encode_token),
            }),
        }
    }
}

/// The token: base64url (no padding) of `<created, RFC 3339 with nanoseconds>|<extId>`.
pub(crate) fn encode_token(cursor: &PageCursor) -> String {
    let plain = format!(
        "{}|{}",
        cursor.created.to_rfc3339_opts(SecondsFormat::Nanos, true),
        cursor.ext_id
    );
    URL_SAFE_NO_PAD.encode(plain)
}

/// Reverses [`encode_token`]; anything the server could not have issued is rejected.
pub(crate) fn decode_token(token: &str) -> Result<PageCursor, DomainError> {
    let bad = || DomainError::InvalidContinuationToken;
    let bytes = URL_SAFE_NO_PAD.decode(token).map_err(|_| bad())?;
    let text = String::from_utf8(bytes).map_err(|_| bad())?;
    let (created, ext_id) = text.split_once('|').ok_or_else(bad)?;
    let created = DateTime::parse_from_rfc3339(created)
        .map_err(|_| bad())?
        .with_timezone(&Utc);
    let ext_id = ExtId::parse(ext_id).ok_or_else(bad)?;
    Ok(PageCursor {
        created,
        ext_id: ext_id.to_string(),
    })
}

/// Builds the page request from the raw query string: `limit` (integer, 1–1000, default
/// 100) then `continuationToken`. An empty `continuationToken=` means the first page.
pub(crate) fn page_request(query: &str) -> Result<PageRequest, DomainError> {
    let mut limit = None;
    let mut token = None;
    for (key, value) in form_pairs(query) {
        match key.as_str() {
            "limit" => limit = Some(value),
            "continuationToken" => token = Some(value),
            _ => {}
        }
    }
    let limit = limit
        .map(|l| {
            l.trim()
                .parse::<i64>()
                .map_err(|_| DomainError::InvalidLimit)
        })
        .transpose()?;
    let after = token
        .filter(|t| !t.is_empty())
        .map(|t| decode_token(&t))
        .transpose()?;
    PageRequest::new(limit, after)
}

fn form_pairs(query: &str) -> Vec<(String, String)> {
    actix_web::web::Query::<Vec<(String, String)>>::from_query(query)
        .map(actix_web::web::Query::into_inner)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    #[test]
    fn tokens_round_trip_with_nanoseconds() {
        let cursor = PageCursor {
            created: Utc.timestamp_opt(1_700_000_000, 123_456_789).unwrap(),
            ext_id: "cred-1".into(),
        };
        let token = encode_token(&cursor);
        assert!(!token.contains('='));
        assert_eq!(decode_token(&token).unwrap(), cursor);
    }

    #[test]
    fn bad_tokens_and_limits() {
        for bad in [
            "!!",
            "bm9waXBl",
            &URL_SAFE_NO_PAD.encode("2023-01-01T00:00:00Z|bad id"),
        ] {
            assert_eq!(
                decode_token(bad).unwrap_err(),
                DomainError::InvalidContinuationToken
            );
        }
        assert_eq!(page_request("").unwrap(), PageRequest::default());
        assert_eq!(page_request("limit=5").unwrap().limit, 5);
        for bad in ["limit=0", "limit=1001", "limit=abc", "limit=1.5", "limit="] {
            assert_eq!(
                page_request(bad).unwrap_err(),
                DomainError::InvalidLimit,
                "{bad}"
            );
        }
        assert_eq!(
            page_request("continuationToken=zz%21").unwrap_err(),
            DomainError::InvalidContinuationToken
        );
    }
}
