//! Lists (SPEC §1): the `items`/`_pagination` body and the opaque continuation token.

use chrono::DateTime;
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

/// The token: `<seconds>.<nanoseconds, 9 digits>~<extId>` of the last item's creation time
/// (Unix epoch) and extId. Every string of that form (`values::CONTINUATION_TOKEN`, which the
/// OpenAPI document states) is a cursor the lists accept, so a client can never send a token
/// that the document allows and the server refuses; what it names is a position, not a secret.
pub(crate) fn encode_token(cursor: &PageCursor) -> String {
    format!(
        "{}.{:09}~{}",
        cursor.created.timestamp(),
        cursor.created.timestamp_subsec_nanos(),
        cursor.ext_id
    )
}

/// Reverses [`encode_token`]: exactly the strings of `values::CONTINUATION_TOKEN` (but empty).
pub(crate) fn decode_token(token: &str) -> Result<PageCursor, DomainError> {
    let bad = || DomainError::InvalidContinuationToken;
    let digits = |s: &str, len: std::ops::RangeInclusive<usize>| {
        len.contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit())
    };
    let (time, ext_id) = token.split_once('~').ok_or_else(bad)?;
    let (seconds, nanos) = time.split_once('.').ok_or_else(bad)?;
    if !digits(seconds, 1..=11) || !digits(nanos, 9..=9) {
        return Err(bad());
    }
    let seconds: i64 = seconds.parse().map_err(|_| bad())?;
    let nanos: u32 = nanos.parse().map_err(|_| bad())?;
    let created = DateTime::from_timestamp(seconds, nanos).ok_or_else(bad)?;
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
    use chrono::{TimeZone, Utc};

    use super::*;

    #[test]
    fn tokens_round_trip_with_nanoseconds() {
        let cursor = PageCursor {
            created: Utc.timestamp_opt(1_700_000_000, 123_456_789).unwrap(),
            ext_id: "cred-1".into(),
        };
        let token = encode_token(&cursor);
        assert_eq!(token, "1700000000.123456789~cred-1");
        assert_eq!(decode_token(&token).unwrap(), cursor);
        let early = PageCursor {
            created: Utc.timestamp_opt(5, 7).unwrap(),
            ext_id: "a".into(),
        };
        assert_eq!(encode_token(&early), "5.000000007~a");
        assert_eq!(decode_token("5.000000007~a").unwrap(), early);
        // The largest seconds the form allows is still a time.
        assert!(decode_token("99999999999.999999999~x").is_ok());
    }

    #[test]
    fn bad_tokens_and_limits() {
        for bad in [
            "!!",
            "bm9waXBl",
            "1700000000.123456789|cred-1",
            "1700000000.12345678~cred-1",
            "1700000000~cred-1",
            "+1.000000000~a",
            "999999999999.000000000~a",
            "1.000000000~bad id",
            "1.000000000~",
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
