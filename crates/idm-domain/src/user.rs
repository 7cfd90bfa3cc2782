//! Users of a client (SPEC §4.2).

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};

use crate::error::DomainError;
use crate::ext_id::ExtId;

/// Lifecycle state of a user; only `active` users may call the API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum UserState {
    /// May log in.
    #[default]
    Active,
    /// Temporarily barred.
    Disabled,
    /// Kept for the record only.
    Archived,
}

impl UserState {
    /// The state's name as the API writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            UserState::Active => "active",
            UserState::Disabled => "disabled",
            UserState::Archived => "archived",
        }
    }
}

impl FromStr for UserState {
    type Err = DomainError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "active" => Ok(UserState::Active),
            "disabled" => Ok(UserState::Disabled),
            "archived" => Ok(UserState::Archived),
            other => Err(DomainError::InvalidParameter(format!(
                "Invalid userState '{other}'"
            ))),
        }
    }
}

/// A user's preferred language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[allow(missing_docs)]
pub enum LanguageCode {
    #[default]
    En,
    De,
    Fr,
    It,
}

impl LanguageCode {
    /// The code as the API writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            LanguageCode::En => "EN",
            LanguageCode::De => "DE",
            LanguageCode::Fr => "FR",
            LanguageCode::It => "IT",
        }
    }
}

impl FromStr for LanguageCode {
    type Err = DomainError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "EN" => Ok(LanguageCode::En),
            "DE" => Ok(LanguageCode::De),
            "FR" => Ok(LanguageCode::Fr),
            "IT" => Ok(LanguageCode::It),
            other => Err(DomainError::InvalidParameter(format!(
                "Invalid languageCode '{other}'"
            ))),
        }
    }
}

impl fmt::Display for LanguageCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A person's name parts; all optional.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PersonName {
    /// Academic or honorific title.
    pub title: Option<String>,
    /// Given name.
    pub first_name: Option<String>,
    /// Family name.
    pub family_name: Option<String>,
}

/// How to reach a user; the address is validated on the way in.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Contacts {
    /// E-mail address.
    pub email: Option<String>,
    /// Mobile number, kept as given.
    pub mobile: Option<String>,
}

/// A user of a client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// Storage identity; never shown.
    pub id: String,
    /// The owning client's storage identity.
    pub client_id: String,
    /// External ID, unique within the client.
    pub ext_id: ExtId,
    /// Login name, unique within the client.
    pub login_id: String,
    /// Lifecycle state.
    pub state: UserState,
    /// Preferred language.
    pub language: LanguageCode,
    /// Whether it is a machine account.
    pub is_technical_user: bool,
    /// Name parts.
    pub name: PersonName,
    /// Contact data.
    pub contacts: Contacts,
    /// Last successful login reported through SPEC §6.2.
    pub last_login: Option<DateTime<Utc>>,
    /// Last failed login reported through SPEC §6.2.
    pub last_login_failure: Option<DateTime<Utc>>,
    /// When it was created.
    pub created: DateTime<Utc>,
    /// When it last changed.
    pub last_modified: DateTime<Utc>,
    /// Optimistic-locking version.
    pub version: i64,
}

/// Checks a loginId: 1–255 characters, no control characters or `/` (it separates the client
/// in Basic credentials), no leading or trailing blanks.
pub fn validate_login_id(raw: &str) -> Result<String, DomainError> {
    if raw.is_empty() {
        return Err(DomainError::UserLoginIdNull);
    }
    let ok = raw.chars().count() <= 255
        && raw.trim() == raw
        && !raw.contains('/')
        && !raw.contains(':')
        && !raw.chars().any(char::is_control);
    if ok {
        Ok(raw.to_owned())
    } else {
        Err(DomainError::InvalidParameter(format!(
            "Invalid loginId '{}'",
            raw.escape_default()
        )))
    }
}

/// Checks an e-mail address the pragmatic way: one `@`, a non-empty local part, a domain with a
/// dot, no blanks or control characters, at most 254 characters.
pub fn validate_email(raw: &str) -> Result<String, DomainError> {
    let bad = || DomainError::InvalidEmail(raw.escape_default().to_string());
    if raw.len() > 254 || raw.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(bad());
    }
    let (local, domain) = raw.split_once('@').ok_or_else(bad)?;
    let domain_ok = domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains("..")
        && !domain.contains('@');
    if local.is_empty() || !domain_ok {
        return Err(bad());
    }
    Ok(raw.to_owned())
}

/// Checks an optional free-text field (names, mobile): at most 255 characters, no controls.
pub fn validate_text(field: &str, raw: Option<String>) -> Result<Option<String>, DomainError> {
    match raw {
        Some(v) if v.chars().count() > 255 || v.chars().any(char::is_control) => Err(
            DomainError::InvalidParameter(format!("Invalid value for parameter '{field}'")),
        ),
        other => Ok(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails() {
        assert!(validate_email("jane@example.com").is_ok());
        assert!(validate_email("a.b+c@sub.example.ch").is_ok());
        for bad in [
            "",
            "jane",
            "jane@",
            "@example.com",
            "jane@example",
            "ja ne@x.ch",
            "a@b@c.d",
            "a@.x.ch",
            "a@x..ch",
        ] {
            let err = validate_email(bad).unwrap_err();
            assert_eq!(err.code(), "errors.userEmailFormat", "{bad}");
        }
        assert_eq!(
            validate_email("nope").unwrap_err().to_string(),
            "Invalid email address 'nope'"
        );
    }

    #[test]
    fn login_ids() {
        assert_eq!(validate_login_id("jdoe").unwrap(), "jdoe");
        assert_eq!(
            validate_login_id("").unwrap_err(),
            DomainError::UserLoginIdNull
        );
        assert!(validate_login_id("a/b").is_err());
        assert!(validate_login_id(" a").is_err());
        assert!(validate_login_id(&"x".repeat(256)).is_err());
    }

    #[test]
    fn enums_round_trip() {
        for s in ["active", "disabled", "archived"] {
            assert_eq!(s.parse::<UserState>().unwrap().as_str(), s);
        }
        for s in ["EN", "DE", "FR", "IT"] {
            assert_eq!(s.parse::<LanguageCode>().unwrap().as_str(), s);
        }
        assert!("en".parse::<LanguageCode>().is_err());
    }
}
