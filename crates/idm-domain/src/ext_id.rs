//! External identifiers: the only IDs the API shows.

use std::fmt;

use crate::error::DomainError;

/// A validated external ID: 1–255 characters from `[A-Za-z0-9._@:-]` (SPEC §1).
///
/// Built only through [`ExtId::parse`], so any `ExtId` in the program is known to be well formed;
/// a path parameter that fails to parse can never match a record.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ExtId(String);

impl ExtId {
    /// The longest extId SPEC §1 allows.
    pub const MAX_LEN: usize = 255;

    /// Parses `raw`, returning `None` when it breaks the extId rules.
    pub fn parse(raw: &str) -> Option<Self> {
        Self::is_valid(raw).then(|| ExtId(raw.to_owned()))
    }

    /// Parses an extId a caller supplied in a request body, naming the field in the error.
    pub fn parse_field(raw: &str, field: &str) -> Result<Self, DomainError> {
        Self::parse(raw).ok_or_else(|| DomainError::InvalidExtId {
            field: field.to_owned(),
            value: raw.to_owned(),
        })
    }

    /// Wraps a server-generated ID (a UUID string), which always satisfies the rules.
    pub fn generated(uuid: String) -> Self {
        debug_assert!(Self::is_valid(&uuid));
        ExtId(uuid)
    }

    /// Whether `raw` satisfies SPEC §1's extId rules.
    pub fn is_valid(raw: &str) -> bool {
        !raw.is_empty()
            && raw.len() <= Self::MAX_LEN
            && raw
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'@' | b':' | b'-'))
    }

    /// The ID as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ExtId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for ExtId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ExtId({})", self.0)
    }
}

impl AsRef<str> for ExtId {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_the_allowed_alphabet() {
        assert!(ExtId::parse("client-123").is_some());
        assert!(ExtId::parse("a.b_c@d:e-f").is_some());
        assert!(ExtId::parse(&"x".repeat(255)).is_some());
    }

    #[test]
    fn rejects_empty_long_and_foreign_characters() {
        assert!(ExtId::parse("").is_none());
        assert!(ExtId::parse(&"x".repeat(256)).is_none());
        for bad in ["a b", "a/b", "ä", "a%20", "a'b", "a\"", "a;b"] {
            assert!(ExtId::parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn field_errors_name_the_field() {
        let err = ExtId::parse_field("a b", "extId").unwrap_err();
        assert_eq!(err.to_string(), "Invalid value 'a b' for field 'extId'.");
    }
}
