//! A typed search over a client's users (SPEC §14, the filters of SCIM): an expression tree
//! that inbound adapters build from their query language and storage adapters translate into
//! their own (never into text assembled from input).
//!
//! [`UserQuery::matches`] is the reference meaning of every expression, which storage
//! adapters must reproduce (the storage contract compares the two):
//!
//! * Text attributes compare as strings; [`UserAttr::ignores_case`] ones after folding
//!   ASCII letters to lower case on both sides (the databases' `lower()`). `gt`/`ge`/`lt`/`le`
//!   compare code point by code point (byte order of UTF-8), whatever the database collation.
//! * A comparison with an attribute the user lacks is false, so `ne` and `not (…)` match users
//!   without it (two-valued logic, unlike SQL's `NULL`).
//! * `Present` is true for a text attribute with a non-empty value, and always for the others.
//! * `Active` is true for users in state `active`; `disabled` and `archived` read as false.
//! * Times compare at microsecond precision (what both databases keep).

use chrono::{DateTime, SubsecRound, Utc};
use idm_domain::user::{User, UserState};

/// At most this many nested operators (`and`, `or`, `not`) in one query.
pub const MAX_DEPTH: usize = 32;
/// At most this many comparisons and presence tests in one query.
pub const MAX_TERMS: usize = 64;

/// An attribute of a user a query can test.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum UserAttr {
    /// `loginId` (SCIM `userName`); case-insensitive.
    LoginId,
    /// The provisioning IdP's key (SCIM `externalId`); case-sensitive.
    ExternalId,
    /// `name.firstName` (SCIM `name.givenName`); case-insensitive.
    FirstName,
    /// `name.familyName`; case-insensitive.
    FamilyName,
    /// `contacts.email` (SCIM `emails.value`); case-insensitive.
    Email,
    /// Whether the user is `active` (a boolean).
    Active,
    /// When the user was created (a time).
    Created,
    /// When the user last changed (a time).
    LastModified,
}

/// The type of an attribute's values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttrKind {
    /// Strings.
    Text,
    /// `true`/`false`.
    Boolean,
    /// Instants.
    Time,
}

impl UserAttr {
    /// The type of the attribute's values.
    pub fn kind(self) -> AttrKind {
        match self {
            UserAttr::LoginId
            | UserAttr::ExternalId
            | UserAttr::FirstName
            | UserAttr::FamilyName
            | UserAttr::Email => AttrKind::Text,
            UserAttr::Active => AttrKind::Boolean,
            UserAttr::Created | UserAttr::LastModified => AttrKind::Time,
        }
    }

    /// Whether comparisons ignore (ASCII) letter case.
    pub fn ignores_case(self) -> bool {
        !matches!(self, UserAttr::ExternalId) && self.kind() == AttrKind::Text
    }

    /// The attribute's text value of `user`, for text attributes.
    pub fn text_of(self, user: &User) -> Option<&str> {
        match self {
            UserAttr::LoginId => Some(user.login_id.as_str()),
            UserAttr::ExternalId => user.external_id.as_deref(),
            UserAttr::FirstName => user.name.first_name.as_deref(),
            UserAttr::FamilyName => user.name.family_name.as_deref(),
            UserAttr::Email => user.contacts.email.as_deref(),
            UserAttr::Active | UserAttr::Created | UserAttr::LastModified => None,
        }
    }
}

/// A comparison operator (RFC 7644 §3.4.2.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CompareOp {
    /// Equal.
    Eq,
    /// Not equal.
    Ne,
    /// Contains (text).
    Co,
    /// Starts with (text).
    Sw,
    /// Ends with (text).
    Ew,
    /// Greater than.
    Gt,
    /// Greater than or equal.
    Ge,
    /// Less than.
    Lt,
    /// Less than or equal.
    Le,
}

impl CompareOp {
    /// Whether the operator applies to values of `kind`.
    pub fn applies_to(self, kind: AttrKind) -> bool {
        match kind {
            AttrKind::Text => true,
            AttrKind::Boolean => matches!(self, CompareOp::Eq | CompareOp::Ne),
            AttrKind::Time => !matches!(self, CompareOp::Co | CompareOp::Sw | CompareOp::Ew),
        }
    }
}

/// The value a comparison compares with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QueryValue {
    /// For text attributes.
    Text(String),
    /// For boolean attributes.
    Bool(bool),
    /// For time attributes.
    Time(DateTime<Utc>),
}

impl QueryValue {
    fn kind(&self) -> AttrKind {
        match self {
            QueryValue::Text(_) => AttrKind::Text,
            QueryValue::Bool(_) => AttrKind::Boolean,
            QueryValue::Time(_) => AttrKind::Time,
        }
    }
}

/// A condition on a user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UserQuery {
    /// Every user (no filter).
    All,
    /// Both.
    And(Box<UserQuery>, Box<UserQuery>),
    /// Either.
    Or(Box<UserQuery>, Box<UserQuery>),
    /// The opposite.
    Not(Box<UserQuery>),
    /// `attr op value`.
    Compare {
        /// The attribute.
        attr: UserAttr,
        /// The operator.
        op: CompareOp,
        /// The value compared with; its type must be the attribute's.
        value: QueryValue,
    },
    /// The attribute has a value.
    Present(UserAttr),
}

impl UserQuery {
    /// `a and b`, folding the constants `All` and [`UserQuery::nothing`] and `a and a`.
    pub fn and(a: UserQuery, b: UserQuery) -> UserQuery {
        match (a, b) {
            (UserQuery::All, x) | (x, UserQuery::All) => x,
            (a, b) if a.is_nothing() || b.is_nothing() => UserQuery::nothing(),
            (a, b) if a == b => a,
            (a, b) => UserQuery::And(Box::new(a), Box::new(b)),
        }
    }

    /// `a or b`, folding the constants and `a or a`.
    pub fn or(a: UserQuery, b: UserQuery) -> UserQuery {
        match (a, b) {
            (UserQuery::All, _) | (_, UserQuery::All) => UserQuery::All,
            (a, b) if a.is_nothing() => b,
            (a, b) if b.is_nothing() => a,
            (a, b) if a == b => a,
            (a, b) => UserQuery::Or(Box::new(a), Box::new(b)),
        }
    }

    /// `not a`, folding a double negation.
    pub fn negate(a: UserQuery) -> UserQuery {
        match a {
            UserQuery::Not(inner) => *inner,
            other => UserQuery::Not(Box::new(other)),
        }
    }

    /// The query no user matches.
    pub fn nothing() -> UserQuery {
        UserQuery::Not(Box::new(UserQuery::All))
    }

    /// Whether this is [`UserQuery::nothing`] (no search needed).
    pub fn is_nothing(&self) -> bool {
        matches!(self, UserQuery::Not(inner) if **inner == UserQuery::All)
    }

    /// Nesting depth of the operators (`0` for a single comparison).
    pub fn depth(&self) -> usize {
        match self {
            UserQuery::All | UserQuery::Compare { .. } | UserQuery::Present(_) => 0,
            UserQuery::Not(a) => 1 + a.depth(),
            UserQuery::And(a, b) | UserQuery::Or(a, b) => 1 + a.depth().max(b.depth()),
        }
    }

    /// Number of comparisons and presence tests.
    pub fn terms(&self) -> usize {
        match self {
            UserQuery::All => 0,
            UserQuery::Compare { .. } | UserQuery::Present(_) => 1,
            UserQuery::Not(a) => a.terms(),
            UserQuery::And(a, b) | UserQuery::Or(a, b) => a.terms() + b.terms(),
        }
    }

    /// Checks what the type system does not: each comparison's operator and value fit its
    /// attribute, and the query stays within [`MAX_DEPTH`] and [`MAX_TERMS`]. The text says
    /// what is wrong.
    pub fn check(&self) -> Result<(), String> {
        if self.depth() > MAX_DEPTH {
            return Err(format!("nested deeper than {MAX_DEPTH} operators"));
        }
        if self.terms() > MAX_TERMS {
            return Err(format!("more than {MAX_TERMS} comparisons"));
        }
        self.check_terms()
    }

    fn check_terms(&self) -> Result<(), String> {
        match self {
            UserQuery::All | UserQuery::Present(_) => Ok(()),
            UserQuery::Not(a) => a.check_terms(),
            UserQuery::And(a, b) | UserQuery::Or(a, b) => {
                a.check_terms()?;
                b.check_terms()
            }
            UserQuery::Compare { attr, op, value } => {
                let kind = attr.kind();
                if !op.applies_to(kind) {
                    return Err(format!("{op:?} does not apply to {attr:?}"));
                }
                if value.kind() != kind {
                    return Err(format!("{attr:?} cannot be compared with {value:?}"));
                }
                Ok(())
            }
        }
    }

    /// Whether `user` matches: the reference meaning described in the module documentation.
    pub fn matches(&self, user: &User) -> bool {
        match self {
            UserQuery::All => true,
            UserQuery::And(a, b) => a.matches(user) && b.matches(user),
            UserQuery::Or(a, b) => a.matches(user) || b.matches(user),
            UserQuery::Not(a) => !a.matches(user),
            UserQuery::Present(attr) => match attr.kind() {
                AttrKind::Text => attr.text_of(user).is_some_and(|v| !v.is_empty()),
                AttrKind::Boolean | AttrKind::Time => true,
            },
            UserQuery::Compare { attr, op, value } => compare(user, *attr, *op, value),
        }
    }
}

fn compare(user: &User, attr: UserAttr, op: CompareOp, value: &QueryValue) -> bool {
    use std::cmp::Ordering;
    let ordered = |o: Ordering| match op {
        CompareOp::Eq => o == Ordering::Equal,
        CompareOp::Ne => o != Ordering::Equal,
        CompareOp::Gt => o == Ordering::Greater,
        CompareOp::Ge => o != Ordering::Less,
        CompareOp::Lt => o == Ordering::Less,
        CompareOp::Le => o != Ordering::Greater,
        CompareOp::Co | CompareOp::Sw | CompareOp::Ew => false,
    };
    match (attr.kind(), value) {
        (AttrKind::Text, QueryValue::Text(wanted)) => {
            let fold = |s: &str| {
                if attr.ignores_case() {
                    s.to_ascii_lowercase()
                } else {
                    s.to_owned()
                }
            };
            let Some(have) = attr.text_of(user) else {
                return op == CompareOp::Ne;
            };
            let (have, wanted) = (fold(have), fold(wanted));
            match op {
                CompareOp::Co => have.contains(&wanted),
                CompareOp::Sw => have.starts_with(&wanted),
                CompareOp::Ew => have.ends_with(&wanted),
                _ => ordered(have.as_bytes().cmp(wanted.as_bytes())),
            }
        }
        (AttrKind::Boolean, QueryValue::Bool(wanted)) => {
            let active = user.state == UserState::Active;
            match op {
                CompareOp::Eq => active == *wanted,
                CompareOp::Ne => active != *wanted,
                _ => false,
            }
        }
        (AttrKind::Time, QueryValue::Time(wanted)) => {
            let have = match attr {
                UserAttr::Created => user.created,
                _ => user.last_modified,
            };
            ordered(have.trunc_subsecs(6).cmp(&wanted.trunc_subsecs(6)))
        }
        // `check` refuses these; they match nothing.
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use idm_domain::user::{Contacts, LanguageCode, PersonName};
    use idm_domain::ExtId;

    fn jane() -> User {
        User {
            id: "u".into(),
            client_id: "c".into(),
            ext_id: ExtId::parse("jane").unwrap(),
            login_id: "Jane.Doe".into(),
            external_id: Some("IdP-1".into()),
            state: UserState::Archived,
            language: LanguageCode::En,
            is_technical_user: false,
            name: PersonName {
                title: None,
                first_name: Some("Jane".into()),
                family_name: None,
            },
            contacts: Contacts {
                email: Some("Jane@Example.com".into()),
                mobile: None,
            },
            last_login: None,
            last_login_failure: None,
            created: Utc.with_ymd_and_hms(2024, 1, 2, 3, 4, 5).unwrap(),
            last_modified: Utc.with_ymd_and_hms(2024, 2, 2, 3, 4, 5).unwrap(),
            version: 1,
        }
    }

    fn cmp(attr: UserAttr, op: CompareOp, v: &str) -> UserQuery {
        UserQuery::Compare {
            attr,
            op,
            value: QueryValue::Text(v.into()),
        }
    }

    #[test]
    fn reference_semantics() {
        use CompareOp::*;
        use UserAttr::*;
        let u = jane();
        assert!(cmp(LoginId, Eq, "jane.doe").matches(&u), "ignores case");
        assert!(!cmp(ExternalId, Eq, "idp-1").matches(&u), "exact");
        assert!(cmp(ExternalId, Eq, "IdP-1").matches(&u));
        assert!(cmp(Email, Co, "@EXAMPLE").matches(&u));
        assert!(cmp(Email, Sw, "jane@").matches(&u));
        assert!(cmp(Email, Ew, ".COM").matches(&u));
        assert!(cmp(LoginId, Gt, "jane").matches(&u));
        assert!(cmp(LoginId, Le, "jane.doe").matches(&u));
        assert!(!cmp(FamilyName, Eq, "x").matches(&u), "absent: false");
        assert!(cmp(FamilyName, Ne, "x").matches(&u), "absent: ne is true");
        assert!(UserQuery::negate(cmp(FamilyName, Sw, "x")).matches(&u));
        assert!(!UserQuery::Present(FamilyName).matches(&u));
        assert!(UserQuery::Present(Active).matches(&u));
        let active = |b: bool| UserQuery::Compare {
            attr: Active,
            op: Eq,
            value: QueryValue::Bool(b),
        };
        assert!(active(false).matches(&u), "archived reads as inactive");
        let created_after = UserQuery::Compare {
            attr: Created,
            op: Gt,
            value: QueryValue::Time(Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap()),
        };
        assert!(created_after.matches(&u));
        assert!(UserQuery::and(created_after.clone(), active(false)).matches(&u));
        assert!(!UserQuery::and(created_after.clone(), active(true)).matches(&u));
        assert!(UserQuery::or(active(true), created_after).matches(&u));
        assert!(!UserQuery::nothing().matches(&u));
        assert!(UserQuery::All.matches(&u));
    }

    #[test]
    fn constants_fold() {
        let x = cmp(UserAttr::LoginId, CompareOp::Eq, "a");
        assert_eq!(UserQuery::and(UserQuery::All, x.clone()), x);
        assert!(UserQuery::and(UserQuery::nothing(), x.clone()).is_nothing());
        assert_eq!(UserQuery::or(UserQuery::nothing(), x.clone()), x);
        assert_eq!(UserQuery::or(x.clone(), UserQuery::All), UserQuery::All);
        assert_eq!(UserQuery::negate(UserQuery::negate(x.clone())), x);
    }

    #[test]
    fn check_refuses_misfits_and_oversized_queries() {
        let bad = UserQuery::Compare {
            attr: UserAttr::Active,
            op: CompareOp::Gt,
            value: QueryValue::Bool(true),
        };
        assert!(bad.check().is_err());
        let bad = UserQuery::Compare {
            attr: UserAttr::Created,
            op: CompareOp::Co,
            value: QueryValue::Time(Utc::now()),
        };
        assert!(bad.check().is_err());
        let bad = UserQuery::Compare {
            attr: UserAttr::LoginId,
            op: CompareOp::Eq,
            value: QueryValue::Bool(true),
        };
        assert!(bad.check().is_err());
        let mut deep = cmp(UserAttr::LoginId, CompareOp::Eq, "a");
        for _ in 0..=MAX_DEPTH {
            deep = UserQuery::Not(Box::new(deep));
        }
        assert!(deep.check().is_err());
        let mut wide = cmp(UserAttr::LoginId, CompareOp::Eq, "a");
        for i in 0..MAX_TERMS {
            wide = UserQuery::Or(
                Box::new(wide),
                Box::new(cmp(UserAttr::Email, CompareOp::Eq, &i.to_string())),
            );
        }
        assert!(wide.check().is_err());
        assert!(cmp(UserAttr::Email, CompareOp::Co, "x").check().is_ok());
    }
}
