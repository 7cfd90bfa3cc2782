//! Keyset pagination of lists (SPEC §1): by creation time, then extId.

use chrono::{DateTime, Utc};

use crate::error::DomainError;

/// Where the next page starts: just after this (created, extId) pair.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageCursor {
    /// Creation time of the last item of the previous page.
    pub created: DateTime<Utc>,
    /// Its extId.
    pub ext_id: String,
}

/// A validated page request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageRequest {
    /// Items per page, 1–1000.
    pub limit: u32,
    /// Start after this item; `None` for the first page.
    pub after: Option<PageCursor>,
}

impl PageRequest {
    /// The limit when the caller sends none.
    pub const DEFAULT_LIMIT: u32 = 100;
    /// The largest limit a caller may ask for.
    pub const MAX_LIMIT: u32 = 1000;

    /// Checks the caller's `limit`.
    pub fn new(limit: Option<i64>, after: Option<PageCursor>) -> Result<Self, DomainError> {
        let limit = match limit {
            None => Self::DEFAULT_LIMIT,
            Some(n) if (1..=i64::from(Self::MAX_LIMIT)).contains(&n) => n as u32,
            Some(_) => return Err(DomainError::InvalidLimit),
        };
        Ok(PageRequest { limit, after })
    }
}

impl Default for PageRequest {
    fn default() -> Self {
        PageRequest {
            limit: Self::DEFAULT_LIMIT,
            after: None,
        }
    }
}

/// One page of a list, with the cursor of the next page when there is one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T> {
    /// The items, in list order.
    pub items: Vec<T>,
    /// The limit that was applied.
    pub limit: u32,
    /// Where the next page starts; `None` on the last page.
    pub next: Option<PageCursor>,
}

impl<T> Page<T> {
    /// Builds a page from up to `limit + 1` fetched rows: the extra row only proves there is more.
    pub fn from_overfetch(mut rows: Vec<T>, limit: u32, key: impl Fn(&T) -> PageCursor) -> Self {
        let more = rows.len() > limit as usize;
        rows.truncate(limit as usize);
        let next = if more { rows.last().map(key) } else { None };
        Page {
            items: rows,
            limit,
            next,
        }
    }

    /// Maps the items, keeping the paging.
    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page {
            items: self.items.into_iter().map(f).collect(),
            limit: self.limit,
            next: self.next,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits() {
        assert_eq!(PageRequest::new(None, None).unwrap().limit, 100);
        assert_eq!(PageRequest::new(Some(1000), None).unwrap().limit, 1000);
        assert_eq!(
            PageRequest::new(Some(0), None),
            Err(DomainError::InvalidLimit)
        );
        assert_eq!(
            PageRequest::new(Some(1001), None),
            Err(DomainError::InvalidLimit)
        );
    }

    #[test]
    fn overfetch_sets_the_cursor_only_when_more_exist() {
        let key = |n: &i32| PageCursor {
            created: DateTime::<Utc>::UNIX_EPOCH,
            ext_id: n.to_string(),
        };
        let p = Page::from_overfetch(vec![1, 2, 3], 2, key);
        assert_eq!(p.items, vec![1, 2]);
        assert_eq!(p.next.map(|c| c.ext_id), Some("2".to_string()));
        let last = Page::from_overfetch(vec![1, 2], 2, key);
        assert!(last.next.is_none());
    }
}
