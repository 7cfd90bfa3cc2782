//! The user search of SPEC §14 (SCIM filters) in diesel's query builder: a [`UserQuery`] becomes
//! one boxed `WHERE` condition on `users`, every value a bound parameter (no SQL text is ever
//! built from input), with the meaning of [`UserQuery::matches`] on both backends:
//!
//! * Case-insensitive attributes compare `lower(column)` with `lower(value)`, the expressions of
//!   the `ix_users_*_lower` indexes, so `eq` and `sw` are index lookups/ranges.
//! * `sw` is the range `[value, value || U+10FFFF)`, compared byte by byte (PostgreSQL: the
//!   pattern operators of the indexes' `text_pattern_ops`; SQLite: its `BINARY` order), like the
//!   prefix filter of the user list. `gt`/`ge`/`lt`/`le` compare the same way, so both backends
//!   order text alike whatever the database collation.
//! * `co`/`ew` are `LIKE` patterns with `\`, `%` and `_` escaped. SQLite's `LIKE` ignores ASCII
//!   case, so the case-sensitive `externalId` uses `GLOB` there (with `*`, `?`, `[` escaped).
//! * Each comparison is two-valued: `column IS NOT NULL AND …`, so `not (…)` and `ne` match
//!   users without the attribute, as SCIM expects (SQL's `NULL` would drop them).
//! * Each comparison repeats `client_id = ?`, so every branch of an `or` is an index range of
//!   its own (`(client_id, …)` indexes).

use diesel::expression::BoxableExpression;
use diesel::prelude::*;
use diesel::sql_types::{Bool, Nullable, Text};
use idm_ports::user_query::{CompareOp, QueryValue, UserAttr, UserQuery};

use crate::schema::users;
use crate::time::to_db;
use crate::Db;

diesel::define_sql_function! {
    /// SQL `lower()`, as in the expression indexes `ix_users_*_lower`.
    fn lower(x: Nullable<Text>) -> Nullable<Text>;
}

diesel::infix_operator!(PatternGt, " ~>~ ");
diesel::infix_operator!(PatternGe, " ~>=~ ");
diesel::infix_operator!(PatternLt, " ~<~ ");
diesel::infix_operator!(PatternLe, " ~<=~ ");
diesel::infix_operator!(Glob, " GLOB ");

/// A condition on `users` of a boxed query.
pub(crate) type Condition = Box<dyn BoxableExpression<users::table, Db, SqlType = Nullable<Bool>>>;

/// The condition of `query` for the users of `client_id`. `postgres` picks the backend's
/// operators. A comparison whose operator or value does not fit its attribute (which
/// `UserQuery::check` refuses) matches nothing.
pub(crate) fn condition(postgres: bool, client_id: &str, query: &UserQuery) -> Condition {
    match query {
        UserQuery::All => always(),
        UserQuery::And(a, b) => {
            Box::new(condition(postgres, client_id, a).and(condition(postgres, client_id, b)))
        }
        UserQuery::Or(a, b) => {
            Box::new(condition(postgres, client_id, a).or(condition(postgres, client_id, b)))
        }
        UserQuery::Not(a) => Box::new(diesel::dsl::not(condition(postgres, client_id, a))),
        UserQuery::Present(attr) => in_client(client_id, present(*attr)),
        UserQuery::Compare { attr, op, value } => {
            in_client(client_id, compare(postgres, *attr, *op, value))
        }
    }
}

fn always() -> Condition {
    Box::new(users::id.is_not_null().nullable())
}

fn never() -> Condition {
    Box::new(users::id.is_null().nullable())
}

fn in_client(client_id: &str, c: Condition) -> Condition {
    Box::new(users::client_id.eq(client_id.to_owned()).nullable().and(c))
}

/// `\`, `%` and `_` as literal characters of a `LIKE … ESCAPE '\'` pattern.
pub(crate) fn escape_like(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    for c in raw.chars() {
        if matches!(c, '\\' | '%' | '_') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// `*`, `?` and `[` as literal characters of a SQLite `GLOB` pattern.
pub(crate) fn escape_glob(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    for c in raw.chars() {
        match c {
            '*' | '?' | '[' => {
                out.push('[');
                out.push(c);
                out.push(']');
            }
            _ => out.push(c),
        }
    }
    out
}

fn present(attr: UserAttr) -> Condition {
    macro_rules! non_empty {
        ($col:expr) => {
            Box::new($col.is_not_null().nullable().and($col.ne("")))
        };
    }
    match attr {
        UserAttr::ExternalId => non_empty!(users::external_id),
        UserAttr::FirstName => non_empty!(users::first_name),
        UserAttr::FamilyName => non_empty!(users::family_name),
        UserAttr::Email => non_empty!(users::email),
        UserAttr::LoginId => Box::new(users::login_id.ne("").nullable()),
        UserAttr::Active | UserAttr::Created | UserAttr::LastModified => always(),
    }
}

/// The comparison of a text column (`Nullable<Text>`), folded to lower case or exact.
macro_rules! text_compare {
    ($postgres:expr, $op:expr, $v:expr, $lhs:expr, $rhs:expr, $exact:expr) => {{
        let (postgres, op, v): (bool, CompareOp, &str) = ($postgres, $op, $v);
        let lhs = || $lhs;
        let rhs = $rhs;
        let known = || lhs().is_not_null().nullable();
        let condition: Condition = match op {
            CompareOp::Eq => Box::new(known().and(lhs().eq(rhs(v.to_owned())))),
            CompareOp::Ne => Box::new(diesel::dsl::not(known().and(lhs().eq(rhs(v.to_owned()))))),
            CompareOp::Sw => {
                let (from, to) = (rhs(v.to_owned()), rhs(format!("{v}\u{10FFFF}")));
                if postgres {
                    Box::new(
                        known().and(PatternGe::new(lhs(), from).and(PatternLt::new(lhs(), to))),
                    )
                } else {
                    Box::new(known().and(lhs().ge(from).and(lhs().lt(to))))
                }
            }
            CompareOp::Co | CompareOp::Ew => {
                let tail = if op == CompareOp::Co { "%" } else { "" };
                if $exact && !postgres {
                    let tail = if op == CompareOp::Co { "*" } else { "" };
                    let pattern = format!("*{}{tail}", escape_glob(v));
                    Box::new(known().and(Glob::new(lhs(), rhs(pattern))))
                } else {
                    let pattern = format!("%{}{tail}", escape_like(v));
                    Box::new(known().and(lhs().like(rhs(pattern)).escape('\\')))
                }
            }
            CompareOp::Gt if postgres => {
                Box::new(known().and(PatternGt::new(lhs(), rhs(v.to_owned()))))
            }
            CompareOp::Ge if postgres => {
                Box::new(known().and(PatternGe::new(lhs(), rhs(v.to_owned()))))
            }
            CompareOp::Lt if postgres => {
                Box::new(known().and(PatternLt::new(lhs(), rhs(v.to_owned()))))
            }
            CompareOp::Le if postgres => {
                Box::new(known().and(PatternLe::new(lhs(), rhs(v.to_owned()))))
            }
            CompareOp::Gt => Box::new(known().and(lhs().gt(rhs(v.to_owned())))),
            CompareOp::Ge => Box::new(known().and(lhs().ge(rhs(v.to_owned())))),
            CompareOp::Lt => Box::new(known().and(lhs().lt(rhs(v.to_owned())))),
            CompareOp::Le => Box::new(known().and(lhs().le(rhs(v.to_owned())))),
        };
        condition
    }};
}

/// A case-insensitive comparison: `lower(column)` with `lower(value)`.
macro_rules! folded {
    ($postgres:expr, $op:expr, $v:expr, $col:expr) => {
        text_compare!(
            $postgres,
            $op,
            $v,
            lower($col),
            |s: String| lower(Some(s)),
            false
        )
    };
}

/// A time column compared with an instant (stored at microsecond precision).
macro_rules! time_compare {
    ($col:expr, $op:expr, $t:expr) => {{
        let t = to_db($t);
        let condition: Condition = match $op {
            CompareOp::Eq => Box::new($col.eq(t).nullable()),
            CompareOp::Ne => Box::new($col.ne(t).nullable()),
            CompareOp::Gt => Box::new($col.gt(t).nullable()),
            CompareOp::Ge => Box::new($col.ge(t).nullable()),
            CompareOp::Lt => Box::new($col.lt(t).nullable()),
            CompareOp::Le => Box::new($col.le(t).nullable()),
            CompareOp::Co | CompareOp::Sw | CompareOp::Ew => never(),
        };
        condition
    }};
}

fn compare(postgres: bool, attr: UserAttr, op: CompareOp, value: &QueryValue) -> Condition {
    if !op.applies_to(attr.kind()) {
        return never();
    }
    match (attr, value) {
        (UserAttr::LoginId, QueryValue::Text(v)) => {
            folded!(postgres, op, v, users::login_id.nullable())
        }
        (UserAttr::FirstName, QueryValue::Text(v)) => folded!(postgres, op, v, users::first_name),
        (UserAttr::FamilyName, QueryValue::Text(v)) => {
            folded!(postgres, op, v, users::family_name)
        }
        (UserAttr::Email, QueryValue::Text(v)) => folded!(postgres, op, v, users::email),
        (UserAttr::ExternalId, QueryValue::Text(v)) => text_compare!(
            postgres,
            op,
            v,
            users::external_id,
            |s: String| Some(s).into_sql::<Nullable<Text>>(),
            true
        ),
        (UserAttr::Active, QueryValue::Bool(wanted)) => {
            let active = users::user_state.eq("active");
            match (op, *wanted) {
                (CompareOp::Eq, true) | (CompareOp::Ne, false) => Box::new(active.nullable()),
                (CompareOp::Eq, false) | (CompareOp::Ne, true) => {
                    Box::new(diesel::dsl::not(active).nullable())
                }
                _ => never(),
            }
        }
        (UserAttr::Created, QueryValue::Time(t)) => time_compare!(users::created, op, *t),
        (UserAttr::LastModified, QueryValue::Time(t)) => {
            time_compare!(users::last_modified, op, *t)
        }
        _ => never(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_escape_their_wildcards() {
        assert_eq!(escape_like(r"a%b_c\d"), r"a\%b\_c\\d");
        assert_eq!(escape_like("plain"), "plain");
        assert_eq!(escape_glob("a*b?c[d]"), "a[*]b[?]c[[]d]");
    }
}
