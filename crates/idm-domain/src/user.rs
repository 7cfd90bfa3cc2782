//! Users of a client (SPEC §4.2).

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};

use crate::error::DomainError;
use crate::ext_id::ExtId;
use crate::patch::Patch;

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
    /// The provisioning identity provider's key for the user (SCIM `externalId`, SPEC §14);
    /// not unique, kept as sent.
    pub external_id: Option<String>,
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
    if raw.chars().count() > 254 || raw.chars().any(|c| c.is_whitespace() || c.is_control()) {
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

/// `name` of a user PATCH: each part kept, removed or replaced.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct NamePatch {
    /// Academic or honorific title.
    pub title: Patch<String>,
    /// Given name.
    pub first_name: Patch<String>,
    /// Family name.
    pub family_name: Patch<String>,
}

/// `contacts` of a user PATCH: each part kept, removed or replaced.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ContactsPatch {
    /// E-mail address.
    pub email: Patch<String>,
    /// Mobile number.
    pub mobile: Patch<String>,
}

/// A user PATCH (SPEC §12): objects are merged, a field sent as `null` is removed. The
/// enumerations travel as sent, so a bad value is the 422 of its field, not a body error.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct UserPatch {
    /// New loginId; `null` is refused (a user always has one).
    pub login_id: Patch<String>,
    /// New SCIM `externalId` (SPEC §14); `null` removes it.
    pub external_id: Patch<String>,
    /// New state name; `null` is refused.
    pub user_state: Patch<String>,
    /// New language code; `null` restores the default (`EN`).
    pub language_code: Patch<String>,
    /// New machine-account flag; `null` restores the default (`false`).
    pub is_technical_user: Patch<bool>,
    /// Name parts, merged; `null` removes every part.
    pub name: Patch<NamePatch>,
    /// Contact data, merged; `null` removes every part.
    pub contacts: Patch<ContactsPatch>,
    /// The version the caller read; a mismatch is a conflict.
    pub version: Option<i64>,
}

impl UserPatch {
    /// SPEC §12: in self-admin mode only `name`, `contacts`, `languageCode` (and `version`)
    /// may be sent; the first other field sent, in SPEC order, is refused.
    pub fn check_self_admin(&self) -> Result<(), DomainError> {
        let admin_only = [
            ("loginId", self.login_id.is_sent()),
            ("externalId", self.external_id.is_sent()),
            ("userState", self.user_state.is_sent()),
            ("isTechnicalUser", self.is_technical_user.is_sent()),
        ];
        match admin_only.into_iter().find(|(_, sent)| *sent) {
            Some((field, _)) => Err(DomainError::ModifyReadonlyData(field.to_owned())),
            None => Ok(()),
        }
    }
}

/// A free-text part after a PATCH: kept as stored, removed, or replaced by a checked value.
fn merged_text(
    field: &str,
    patch: Patch<String>,
    stored: Option<String>,
) -> Result<Option<String>, DomainError> {
    match patch {
        Patch::Set(v) => validate_text(field, Some(v)),
        other => Ok(other.merge(stored)),
    }
}

impl User {
    /// Applies a (version-checked) PATCH with the checks of a create (SPEC §8.2): the loginId
    /// and e-mail rules, `Invalid <field> '<value>'` for a bad `userState`/`languageCode`.
    /// Bumps `version` and sets `last_modified`. Uniqueness of the loginId is the caller's to
    /// check; nothing is changed when an error is returned.
    pub fn apply(&mut self, patch: UserPatch, now: DateTime<Utc>) -> Result<(), DomainError> {
        let mut next = self.clone();
        match patch.login_id {
            Patch::Keep => {}
            Patch::Remove => return Err(DomainError::UserLoginIdNull),
            Patch::Set(v) => next.login_id = validate_login_id(&v)?,
        }
        next.external_id = match patch.external_id {
            Patch::Set(v) => validate_text("externalId", Some(v))?,
            other => other.merge(next.external_id),
        };
        match patch.user_state {
            Patch::Keep => {}
            Patch::Remove => return Err(DomainError::NullParameter("userState".into())),
            Patch::Set(v) => next.state = v.parse()?,
        }
        match patch.language_code {
            Patch::Keep => {}
            Patch::Remove => next.language = LanguageCode::default(),
            Patch::Set(v) => next.language = v.parse()?,
        }
        match patch.is_technical_user {
            Patch::Keep => {}
            Patch::Remove => next.is_technical_user = false,
            Patch::Set(v) => next.is_technical_user = v,
        }
        match patch.name {
            Patch::Keep => {}
            Patch::Remove => next.name = PersonName::default(),
            Patch::Set(n) => {
                let stored = std::mem::take(&mut next.name);
                next.name = PersonName {
                    title: merged_text("title", n.title, stored.title)?,
                    first_name: merged_text("firstName", n.first_name, stored.first_name)?,
                    family_name: merged_text("familyName", n.family_name, stored.family_name)?,
                };
            }
        }
        match patch.contacts {
            Patch::Keep => {}
            Patch::Remove => next.contacts = Contacts::default(),
            Patch::Set(c) => {
                let stored = std::mem::take(&mut next.contacts);
                next.contacts = Contacts {
                    email: match c.email {
                        Patch::Set(e) => Some(validate_email(&e)?),
                        other => other.merge(stored.email),
                    },
                    mobile: merged_text("mobile", c.mobile, stored.mobile)?,
                };
            }
        }
        next.last_modified = now;
        next.version += 1;
        *self = next;
        Ok(())
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

    fn jane() -> User {
        User {
            id: "u-1".into(),
            client_id: "c-1".into(),
            ext_id: ExtId::parse("jane").unwrap(),
            login_id: "jane".into(),
            external_id: None,
            state: UserState::Active,
            language: LanguageCode::De,
            is_technical_user: true,
            name: PersonName {
                title: Some("Dr".into()),
                first_name: Some("Jane".into()),
                family_name: Some("Doe".into()),
            },
            contacts: Contacts {
                email: Some("jane@example.com".into()),
                mobile: Some("+41".into()),
            },
            last_login: None,
            last_login_failure: None,
            created: DateTime::<Utc>::UNIX_EPOCH,
            last_modified: DateTime::<Utc>::UNIX_EPOCH,
            version: 4,
        }
    }

    fn later() -> DateTime<Utc> {
        DateTime::<Utc>::UNIX_EPOCH + chrono::Duration::seconds(60)
    }

    #[test]
    fn an_empty_patch_changes_only_version_and_time() {
        let mut u = jane();
        u.apply(UserPatch::default(), later()).unwrap();
        let mut expected = jane();
        expected.version = 5;
        expected.last_modified = later();
        assert_eq!(u, expected);
    }

    #[test]
    fn objects_merge_and_null_removes() {
        let mut u = jane();
        let patch = UserPatch {
            name: Patch::Set(NamePatch {
                title: Patch::Remove,
                first_name: Patch::Set("Janet".into()),
                family_name: Patch::Keep,
            }),
            contacts: Patch::Set(ContactsPatch {
                email: Patch::Keep,
                mobile: Patch::Remove,
            }),
            language_code: Patch::Remove,
            is_technical_user: Patch::Remove,
            ..UserPatch::default()
        };
        u.apply(patch, later()).unwrap();
        assert_eq!(
            u.name,
            PersonName {
                title: None,
                first_name: Some("Janet".into()),
                family_name: Some("Doe".into())
            }
        );
        assert_eq!(u.contacts.email.as_deref(), Some("jane@example.com"));
        assert_eq!(u.contacts.mobile, None);
        assert_eq!(u.language, LanguageCode::En);
        assert!(!u.is_technical_user);

        let mut u = jane();
        let patch = UserPatch {
            name: Patch::Remove,
            contacts: Patch::Remove,
            user_state: Patch::Set("archived".into()),
            login_id: Patch::Set("janet".into()),
            ..UserPatch::default()
        };
        u.apply(patch, later()).unwrap();
        assert_eq!((u.name, u.contacts), Default::default());
        assert_eq!(
            (u.state, u.login_id.as_str()),
            (UserState::Archived, "janet")
        );
    }

    #[test]
    fn external_id_is_set_kept_and_removed() {
        let mut u = jane();
        let set = UserPatch {
            external_id: Patch::Set("idp-7".into()),
            ..UserPatch::default()
        };
        u.apply(set, later()).unwrap();
        assert_eq!(u.external_id.as_deref(), Some("idp-7"));
        u.apply(UserPatch::default(), later()).unwrap();
        assert_eq!(u.external_id.as_deref(), Some("idp-7"), "kept");
        let remove = UserPatch {
            external_id: Patch::Remove,
            ..UserPatch::default()
        };
        u.apply(remove, later()).unwrap();
        assert_eq!(u.external_id, None);
        let too_long = UserPatch {
            external_id: Patch::Set("x".repeat(256)),
            ..UserPatch::default()
        };
        assert_eq!(
            u.apply(too_long, later()).unwrap_err().to_string(),
            "Invalid value for parameter 'externalId'"
        );
        let admin_only = UserPatch {
            external_id: Patch::Remove,
            ..UserPatch::default()
        };
        assert_eq!(
            admin_only.check_self_admin().unwrap_err().to_string(),
            "The field 'externalId' cannot be changed in self-admin mode."
        );
    }

    #[test]
    fn bad_values_are_refused_and_change_nothing() {
        let cases: Vec<(UserPatch, &str, &str)> = vec![
            (
                UserPatch {
                    user_state: Patch::Set("gone".into()),
                    ..Default::default()
                },
                "errors.invalidParameter",
                "Invalid userState 'gone'",
            ),
            (
                UserPatch {
                    language_code: Patch::Set("xx".into()),
                    ..Default::default()
                },
                "errors.invalidParameter",
                "Invalid languageCode 'xx'",
            ),
            (
                UserPatch {
                    contacts: Patch::Set(ContactsPatch {
                        email: Patch::Set("nope".into()),
                        ..Default::default()
                    }),
                    ..Default::default()
                },
                "errors.userEmailFormat",
                "Invalid email address 'nope'",
            ),
            (
                UserPatch {
                    login_id: Patch::Remove,
                    ..Default::default()
                },
                "errors.userLoginIdNull",
                "The 'loginId' parameter is mandatory.",
            ),
            (
                UserPatch {
                    login_id: Patch::Set(String::new()),
                    ..Default::default()
                },
                "errors.userLoginIdNull",
                "The 'loginId' parameter is mandatory.",
            ),
            (
                UserPatch {
                    user_state: Patch::Remove,
                    ..Default::default()
                },
                "errors.nullParameter",
                "The 'userState' parameter is mandatory.",
            ),
        ];
        for (patch, code, message) in cases {
            let mut u = jane();
            let err = u.apply(patch, later()).unwrap_err();
            assert_eq!((err.code(), err.to_string().as_str()), (code, message));
            assert_eq!(u, jane(), "unchanged after {message}");
        }
    }

    #[test]
    fn self_admin_may_send_only_name_contacts_and_language() {
        let ok = UserPatch {
            name: Patch::Remove,
            contacts: Patch::Set(ContactsPatch::default()),
            language_code: Patch::Set("FR".into()),
            version: Some(3),
            ..UserPatch::default()
        };
        assert!(ok.check_self_admin().is_ok());
        let refused = |p: UserPatch| p.check_self_admin().unwrap_err().to_string();
        assert_eq!(
            refused(UserPatch {
                user_state: Patch::Remove,
                is_technical_user: Patch::Set(true),
                ..ok.clone()
            }),
            "The field 'userState' cannot be changed in self-admin mode."
        );
        assert_eq!(
            refused(UserPatch {
                is_technical_user: Patch::Set(false),
                ..ok.clone()
            }),
            "The field 'isTechnicalUser' cannot be changed in self-admin mode."
        );
        assert_eq!(
            refused(UserPatch {
                login_id: Patch::Set("x".into()),
                ..ok
            }),
            "The field 'loginId' cannot be changed in self-admin mode."
        );
    }
}
