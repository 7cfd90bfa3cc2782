//! SCIM filters (RFC 7644 §3.4.2.2) and PATCH paths (§3.5.2): a tokenizer and a recursive-descent
//! parser into a typed [`Filter`], its translation into the ports' [`UserQuery`] (evaluated by
//! the database), and its evaluation on one element of a multi-valued attribute (the value
//! filters of PATCH paths, `emails[type eq "work"].value`).
//!
//! Grammar (keywords, operators and attribute names case-insensitive):
//!
//! ```text
//! FILTER    = OR
//! OR        = AND *("or" AND)
//! AND       = UNARY *("and" UNARY)
//! UNARY     = "not" "(" FILTER ")" / "(" FILTER ")" / attrPath "[" FILTER "]"
//!           / attrPath "pr" / attrPath compareOp compValue
//! compValue = false / null / true / number / string      (JSON forms)
//! attrPath  = [URI ":"] ATTRNAME ["." ATTRNAME]
//! PATH      = attrPath / attrPath "[" FILTER "]" ["." ATTRNAME]   (PATCH)
//! ```
//!
//! `and` binds tighter than `or`; chains of either become one n-ary node, translated into a
//! balanced tree. Input is bounded ([`MAX_LENGTH`] characters, [`MAX_NESTING`] levels of
//! parentheses/`not`/brackets, [`MAX_TERMS`] comparisons): beyond that the answer is 400
//! `tooMany`, and nothing recurses deeper than the nesting bound, so no input can exhaust the
//! stack. Every other failure is 400 `invalidFilter` with the position it was found at.

use chrono::{DateTime, Utc};
use idm_ports::user_query::{self, CompareOp, QueryValue, UserAttr, UserQuery};
use serde_json::Value;

use super::errors::ScimError;
use super::USER_SCHEMA;

/// The longest filter accepted, in characters.
pub(crate) const MAX_LENGTH: usize = 8192;
/// The deepest nesting of parentheses, `not` and value filters accepted.
pub(crate) const MAX_NESTING: usize = 16;
/// The most comparisons and presence tests in one filter.
pub(crate) const MAX_TERMS: usize = user_query::MAX_TERMS;

/// A parsed filter, before it is given a meaning.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Filter {
    /// All of them (two or more).
    And(Vec<Filter>),
    /// Any of them (two or more).
    Or(Vec<Filter>),
    /// `not (…)`.
    Not(Box<Filter>),
    /// `path op value`.
    Compare {
        /// The attribute.
        path: AttrPath,
        /// The operator.
        op: CompareOp,
        /// The value, as written.
        value: CompValue,
    },
    /// `path pr`.
    Present(AttrPath),
    /// `path[filter]`: some value of a multi-valued attribute matches `filter`.
    ValuePath {
        /// The multi-valued attribute.
        path: AttrPath,
        /// The condition on its values' sub-attributes.
        filter: Box<Filter>,
    },
}

/// A `compValue` as written.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum CompValue {
    /// A JSON string, unescaped.
    Str(String),
    /// A JSON number, as written.
    Num(String),
    /// `true` or `false`.
    Bool(bool),
    /// `null`.
    Null,
}

/// `[URI ":"] ATTRNAME ["." ATTRNAME]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AttrPath {
    /// As written, for messages.
    pub(crate) raw: String,
    /// The schema URN, when written.
    pub(crate) urn: Option<String>,
    /// The attribute.
    pub(crate) name: String,
    /// The sub-attribute.
    pub(crate) sub: Option<String>,
}

fn is_attr_name(s: &str) -> bool {
    let mut chars = s.chars();
    let first_ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '$');
    first_ok && chars.all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

impl AttrPath {
    /// Parses an attribute path; the text says what is wrong.
    pub(crate) fn parse(raw: &str) -> Result<AttrPath, String> {
        let bad = || format!("'{}' is not an attribute path", raw.escape_default());
        let has_urn = raw.get(..4).is_some_and(|p| p.eq_ignore_ascii_case("urn:"));
        let (urn, rest) = if has_urn {
            let cut = raw.rfind(':').ok_or_else(bad)?;
            (Some(raw[..cut].to_owned()), &raw[cut + 1..])
        } else {
            (None, raw)
        };
        let (name, sub) = match rest.split_once('.') {
            Some((n, s)) => (n, Some(s)),
            None => (rest, None),
        };
        if !is_attr_name(name) || sub.is_some_and(|s| !is_attr_name(s)) {
            return Err(bad());
        }
        Ok(AttrPath {
            raw: raw.to_owned(),
            urn,
            name: name.to_owned(),
            sub: sub.map(str::to_owned),
        })
    }

    /// Whether the path belongs to the core User schema (no URN, or that URN).
    pub(crate) fn is_core(&self) -> bool {
        self.urn
            .as_deref()
            .is_none_or(|u| u.eq_ignore_ascii_case(USER_SCHEMA))
    }

    /// `name` or `name.sub`, lower case.
    pub(crate) fn key(&self) -> String {
        match &self.sub {
            Some(sub) => format!("{}.{}", self.name, sub).to_ascii_lowercase(),
            None => self.name.to_ascii_lowercase(),
        }
    }
}

/// Why a filter was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FilterError {
    /// What is wrong, with the position.
    pub(crate) message: String,
    /// The input exceeds a bound ([`MAX_LENGTH`], [`MAX_NESTING`], [`MAX_TERMS`]).
    pub(crate) too_complex: bool,
}

impl FilterError {
    fn syntax(message: String) -> Self {
        FilterError {
            message,
            too_complex: false,
        }
    }

    fn complex(message: String) -> Self {
        FilterError {
            message,
            too_complex: true,
        }
    }

    /// The SCIM answer: 400 `invalidFilter`, or `tooMany` for an input over a bound.
    pub(crate) fn into_scim(self) -> ScimError {
        if self.too_complex {
            ScimError::too_many(self.message)
        } else {
            ScimError::invalid_filter(self.message)
        }
    }
}

// ---- tokens ---------------------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    LParen,
    RParen,
    LBracket,
    RBracket,
    Str(String),
    Word(String),
}

#[derive(Debug, Clone)]
struct Token {
    tok: Tok,
    /// 1-based character position.
    pos: usize,
}

fn describe(t: Option<&Token>) -> String {
    match t {
        None => "the end of the filter".into(),
        Some(t) => {
            let what = match &t.tok {
                Tok::LParen => "'('".to_owned(),
                Tok::RParen => "')'".to_owned(),
                Tok::LBracket => "'['".to_owned(),
                Tok::RBracket => "']'".to_owned(),
                Tok::Str(s) => format!("the string \"{}\"", s.escape_default()),
                Tok::Word(w) => format!("'{}'", w.escape_default()),
            };
            format!("{what} at position {}", t.pos)
        }
    }
}

fn tokenize(input: &str) -> Result<Vec<Token>, FilterError> {
    let chars: Vec<(usize, char)> = input.char_indices().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let (at, c) = chars[i];
        let pos = i + 1;
        let simple = match c {
            '(' => Some(Tok::LParen),
            ')' => Some(Tok::RParen),
            '[' => Some(Tok::LBracket),
            ']' => Some(Tok::RBracket),
            _ => None,
        };
        if let Some(tok) = simple {
            out.push(Token { tok, pos });
            i += 1;
        } else if c.is_whitespace() {
            i += 1;
        } else if c == '"' {
            // A JSON string: find its closing quote, skipping escapes, then let serde_json
            // decode (and validate) the escapes.
            let mut j = i + 1;
            let mut escaped = false;
            let end = loop {
                let Some(&(_, d)) = chars.get(j) else {
                    return Err(FilterError::syntax(format!(
                        "Invalid filter: the string starting at position {pos} is not closed."
                    )));
                };
                if escaped {
                    escaped = false;
                } else if d == '\\' {
                    escaped = true;
                } else if d == '"' {
                    break j;
                }
                j += 1;
            };
            let stop = chars.get(end + 1).map_or(input.len(), |&(b, _)| b);
            let text: String = serde_json::from_str(&input[at..stop]).map_err(|_| {
                FilterError::syntax(format!(
                    "Invalid filter: the string starting at position {pos} is not a valid JSON string."
                ))
            })?;
            out.push(Token {
                tok: Tok::Str(text),
                pos,
            });
            i = end + 1;
        } else {
            let mut j = i;
            while let Some(&(_, d)) = chars.get(j) {
                if d.is_whitespace() || matches!(d, '(' | ')' | '[' | ']' | '"') {
                    break;
                }
                j += 1;
            }
            let stop = chars.get(j).map_or(input.len(), |&(b, _)| b);
            out.push(Token {
                tok: Tok::Word(input[at..stop].to_owned()),
                pos,
            });
            i = j;
        }
    }
    Ok(out)
}

fn compare_op(word: &str) -> Option<CompareOp> {
    Some(match word.to_ascii_lowercase().as_str() {
        "eq" => CompareOp::Eq,
        "ne" => CompareOp::Ne,
        "co" => CompareOp::Co,
        "sw" => CompareOp::Sw,
        "ew" => CompareOp::Ew,
        "gt" => CompareOp::Gt,
        "ge" => CompareOp::Ge,
        "lt" => CompareOp::Lt,
        "le" => CompareOp::Le,
        _ => return None,
    })
}

/// A JSON number: `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`.
fn is_json_number(w: &str) -> bool {
    let b = w.as_bytes();
    let mut i = usize::from(b.first() == Some(&b'-'));
    let digits = |i: &mut usize| {
        let start = *i;
        while b.get(*i).is_some_and(u8::is_ascii_digit) {
            *i += 1;
        }
        *i - start
    };
    match b.get(i) {
        Some(b'0') => i += 1,
        Some(c) if c.is_ascii_digit() => {
            digits(&mut i);
        }
        _ => return false,
    }
    if b.get(i) == Some(&b'.') {
        i += 1;
        if digits(&mut i) == 0 {
            return false;
        }
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        if digits(&mut i) == 0 {
            return false;
        }
    }
    i == b.len()
}

// ---- parser ---------------------------------------------------------------------------------

struct Parser {
    toks: Vec<Token>,
    i: usize,
    nesting: usize,
    terms: usize,
    in_brackets: bool,
}

impl Parser {
    fn new(input: &str) -> Result<Parser, FilterError> {
        if input.chars().count() > MAX_LENGTH {
            return Err(FilterError::complex(format!(
                "The filter is longer than {MAX_LENGTH} characters."
            )));
        }
        Ok(Parser {
            toks: tokenize(input)?,
            i: 0,
            nesting: 0,
            terms: 0,
            in_brackets: false,
        })
    }

    fn peek(&self) -> Option<&Token> {
        self.toks.get(self.i)
    }

    fn peek_tok(&self) -> Option<&Tok> {
        self.peek().map(|t| &t.tok)
    }

    fn fail<T>(&self, expected: &str) -> Result<T, FilterError> {
        Err(FilterError::syntax(format!(
            "Invalid filter: expected {expected} but found {}.",
            describe(self.peek())
        )))
    }

    fn is_keyword(&self, word: &str) -> bool {
        matches!(self.peek_tok(), Some(Tok::Word(w)) if w.eq_ignore_ascii_case(word))
    }

    fn expect(&mut self, tok: Tok, what: &str) -> Result<(), FilterError> {
        if self.peek_tok() == Some(&tok) {
            self.i += 1;
            Ok(())
        } else {
            self.fail(what)
        }
    }

    fn enter(&mut self) -> Result<(), FilterError> {
        self.nesting += 1;
        if self.nesting > MAX_NESTING {
            return Err(FilterError::complex(format!(
                "The filter nests parentheses, 'not' and value filters deeper than {MAX_NESTING} levels."
            )));
        }
        Ok(())
    }

    fn leave(&mut self) {
        self.nesting -= 1;
    }

    fn filter(&mut self) -> Result<Filter, FilterError> {
        let mut any = vec![self.all()?];
        while self.is_keyword("or") {
            self.i += 1;
            any.push(self.all()?);
        }
        Ok(if any.len() == 1 {
            any.remove(0)
        } else {
            Filter::Or(any)
        })
    }

    fn all(&mut self) -> Result<Filter, FilterError> {
        let mut all = vec![self.unary()?];
        while self.is_keyword("and") {
            self.i += 1;
            all.push(self.unary()?);
        }
        Ok(if all.len() == 1 {
            all.remove(0)
        } else {
            Filter::And(all)
        })
    }

    fn unary(&mut self) -> Result<Filter, FilterError> {
        let not_paren = self.is_keyword("not")
            && matches!(self.toks.get(self.i + 1).map(|t| &t.tok), Some(Tok::LParen));
        if not_paren {
            self.i += 2;
            self.enter()?;
            let inner = self.filter()?;
            self.expect(Tok::RParen, "')'")?;
            self.leave();
            return Ok(Filter::Not(Box::new(inner)));
        }
        match self.peek_tok() {
            Some(Tok::LParen) => {
                self.i += 1;
                self.enter()?;
                let inner = self.filter()?;
                self.expect(Tok::RParen, "')'")?;
                self.leave();
                Ok(inner)
            }
            Some(Tok::Word(_)) => self.attr_expression(),
            _ => self.fail("an attribute, '(' or 'not ('"),
        }
    }

    fn attr_path(&mut self) -> Result<AttrPath, FilterError> {
        let Some(Token {
            tok: Tok::Word(word),
            pos,
        }) = self.peek().cloned()
        else {
            return self.fail("an attribute");
        };
        let path = AttrPath::parse(&word).map_err(|why| {
            FilterError::syntax(format!("Invalid filter: {why} (position {pos})."))
        })?;
        self.i += 1;
        Ok(path)
    }

    fn attr_expression(&mut self) -> Result<Filter, FilterError> {
        let path = self.attr_path()?;
        if self.peek_tok() == Some(&Tok::LBracket) {
            if self.in_brackets {
                return self.fail("a comparison (value filters do not nest)");
            }
            self.i += 1;
            self.enter()?;
            self.in_brackets = true;
            let inner = self.filter()?;
            self.in_brackets = false;
            self.expect(Tok::RBracket, "']'")?;
            self.leave();
            return Ok(Filter::ValuePath {
                path,
                filter: Box::new(inner),
            });
        }
        self.count_term()?;
        if self.is_keyword("pr") {
            self.i += 1;
            return Ok(Filter::Present(path));
        }
        let op = match self.peek_tok() {
            Some(Tok::Word(w)) => compare_op(w),
            _ => None,
        };
        let Some(op) = op else {
            return self.fail(&format!(
                "'pr' or a comparison operator (eq, ne, co, sw, ew, gt, ge, lt, le) after '{}'",
                path.raw.escape_default()
            ));
        };
        self.i += 1;
        let value = match self.peek_tok() {
            Some(Tok::Str(s)) => CompValue::Str(s.clone()),
            Some(Tok::Word(w)) if w.eq_ignore_ascii_case("true") => CompValue::Bool(true),
            Some(Tok::Word(w)) if w.eq_ignore_ascii_case("false") => CompValue::Bool(false),
            Some(Tok::Word(w)) if w.eq_ignore_ascii_case("null") => CompValue::Null,
            Some(Tok::Word(w)) if is_json_number(w) => CompValue::Num(w.clone()),
            _ => return self.fail("a value (a JSON string, number, true, false or null)"),
        };
        self.i += 1;
        Ok(Filter::Compare { path, op, value })
    }

    fn count_term(&mut self) -> Result<(), FilterError> {
        self.terms += 1;
        if self.terms > MAX_TERMS {
            return Err(FilterError::complex(format!(
                "The filter has more than {MAX_TERMS} comparisons."
            )));
        }
        Ok(())
    }

    fn finish(&self) -> Result<(), FilterError> {
        match self.peek() {
            None => Ok(()),
            Some(_) => self.fail("'and', 'or' or the end of the filter"),
        }
    }
}

/// Parses a filter.
pub(crate) fn parse(input: &str) -> Result<Filter, FilterError> {
    let mut p = Parser::new(input)?;
    if p.peek().is_none() {
        return Err(FilterError::syntax(
            "Invalid filter: the filter is empty.".into(),
        ));
    }
    let f = p.filter()?;
    p.finish()?;
    Ok(f)
}

/// A PATCH path (RFC 7644 §3.5.2): an attribute, or a multi-valued attribute with a value
/// filter and an optional sub-attribute of the selected values.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct PatchPath {
    /// The attribute (with its sub-attribute when no filter is given).
    pub(crate) attr: AttrPath,
    /// The value filter, `emails[type eq "work"]`.
    pub(crate) filter: Option<Filter>,
    /// The sub-attribute after the filter, `….value`.
    pub(crate) sub: Option<String>,
}

/// Parses a PATCH path; the text says what is wrong.
pub(crate) fn parse_path(input: &str) -> Result<PatchPath, String> {
    let mut p = Parser::new(input).map_err(|e| e.message)?;
    let attr = p.attr_path().map_err(|e| e.message)?;
    let mut path = PatchPath {
        attr,
        filter: None,
        sub: None,
    };
    if p.peek_tok() == Some(&Tok::LBracket) {
        if path.attr.sub.is_some() {
            return Err(format!(
                "'{}' is not a multi-valued attribute a filter can select from",
                path.attr.raw.escape_default()
            ));
        }
        p.i += 1;
        p.enter().map_err(|e| e.message)?;
        p.in_brackets = true;
        let inner = p.filter().map_err(|e| e.message)?;
        p.in_brackets = false;
        p.expect(Tok::RBracket, "']'").map_err(|e| e.message)?;
        path.filter = Some(inner);
        if let Some(Tok::Word(w)) = p.peek_tok() {
            let sub = w.strip_prefix('.').filter(|s| is_attr_name(s));
            let Some(sub) = sub else {
                return Err(format!("'{}' is not a sub-attribute", w.escape_default()));
            };
            path.sub = Some(sub.to_owned());
            p.i += 1;
        }
    }
    if p.peek().is_some() {
        return Err(format!("unexpected {}", describe(p.peek())));
    }
    Ok(path)
}

// ---- meaning: the ports' user query ---------------------------------------------------------

/// What a filter's attribute path stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Target {
    Attr(UserAttr),
    /// `emails.type`: our one address is of type `work`.
    EmailType,
    /// `emails.primary`: our one address is the primary one.
    EmailPrimary,
}

const FILTERABLE: &str = "userName, externalId, name.givenName, name.familyName, emails.value \
     (emails[type eq \"work\"]), active, meta.created and meta.lastModified";

fn unsupported(path: &AttrPath) -> ScimError {
    ScimError::invalid_filter(format!(
        "Filtering on '{}' is not supported; filterable attributes are {FILTERABLE}.",
        path.raw.escape_default()
    ))
}

fn resolve(path: &AttrPath, in_emails: bool) -> Result<Target, ScimError> {
    if !path.is_core() {
        return Err(unsupported(path));
    }
    let key = path.key();
    let target = if in_emails {
        match key.as_str() {
            "value" => Target::Attr(UserAttr::Email),
            "type" => Target::EmailType,
            "primary" => Target::EmailPrimary,
            _ => return Err(unsupported(path)),
        }
    } else {
        match key.as_str() {
            "username" => Target::Attr(UserAttr::LoginId),
            "externalid" => Target::Attr(UserAttr::ExternalId),
            "name.givenname" => Target::Attr(UserAttr::FirstName),
            "name.familyname" => Target::Attr(UserAttr::FamilyName),
            "emails" | "emails.value" => Target::Attr(UserAttr::Email),
            "emails.type" => Target::EmailType,
            "emails.primary" => Target::EmailPrimary,
            "active" => Target::Attr(UserAttr::Active),
            "meta.created" => Target::Attr(UserAttr::Created),
            "meta.lastmodified" => Target::Attr(UserAttr::LastModified),
            _ => return Err(unsupported(path)),
        }
    };
    Ok(target)
}

fn misfit(path: &AttrPath, op: CompareOp, value: &CompValue) -> ScimError {
    ScimError::invalid_filter(format!(
        "'{}' cannot be compared with {op:?} to {}.",
        path.raw.escape_default(),
        match value {
            CompValue::Str(s) => format!("\"{}\"", s.escape_default()),
            CompValue::Num(n) => n.clone(),
            CompValue::Bool(b) => b.to_string(),
            CompValue::Null => "null".into(),
        }
    ))
}

/// A boolean written as JSON or (as Entra ID does) as the string `"True"`/`"False"`.
pub(crate) fn lenient_bool(v: &CompValue) -> Option<bool> {
    match v {
        CompValue::Bool(b) => Some(*b),
        CompValue::Str(s) if s.eq_ignore_ascii_case("true") => Some(true),
        CompValue::Str(s) if s.eq_ignore_ascii_case("false") => Some(false),
        _ => None,
    }
}

/// The truth of `have op want` for two texts, ignoring ASCII case.
fn text_holds(have: &str, op: CompareOp, want: &str) -> bool {
    let (h, w) = (have.to_ascii_lowercase(), want.to_ascii_lowercase());
    match op {
        CompareOp::Eq => h == w,
        CompareOp::Ne => h != w,
        CompareOp::Co => h.contains(&w),
        CompareOp::Sw => h.starts_with(&w),
        CompareOp::Ew => h.ends_with(&w),
        CompareOp::Gt => h.as_bytes() > w.as_bytes(),
        CompareOp::Ge => h.as_bytes() >= w.as_bytes(),
        CompareOp::Lt => h.as_bytes() < w.as_bytes(),
        CompareOp::Le => h.as_bytes() <= w.as_bytes(),
    }
}

fn has_email() -> UserQuery {
    UserQuery::Present(UserAttr::Email)
}

/// A comparison on the one (work, primary) address, which `holds` (for `ne`: whose `eq`
/// holds) when an address exists; `ne` keeps its two-valued meaning (true without an address).
fn email_fact(op: CompareOp, holds: bool) -> UserQuery {
    match (op, holds) {
        (CompareOp::Ne, true) => UserQuery::negate(has_email()),
        (CompareOp::Ne, false) => UserQuery::All,
        (_, true) => has_email(),
        (_, false) => UserQuery::nothing(),
    }
}

fn compare(
    path: &AttrPath,
    target: Target,
    op: CompareOp,
    value: &CompValue,
) -> Result<UserQuery, ScimError> {
    let bad = || misfit(path, op, value);
    match target {
        Target::Attr(attr) => match (attr, value) {
            (_, CompValue::Null) => match op {
                // `eq null`: the attribute is absent; `ne null`: present (RFC 7644 `pr`).
                CompareOp::Eq => Ok(UserQuery::negate(present(attr))),
                CompareOp::Ne => Ok(present(attr)),
                _ => Err(bad()),
            },
            (UserAttr::Active, v) => {
                let b = lenient_bool(v).ok_or_else(bad)?;
                if !op.applies_to(attr.kind()) {
                    return Err(bad());
                }
                Ok(UserQuery::Compare {
                    attr,
                    op,
                    value: QueryValue::Bool(b),
                })
            }
            (UserAttr::Created | UserAttr::LastModified, CompValue::Str(s)) => {
                if !op.applies_to(attr.kind()) {
                    return Err(bad());
                }
                let t = DateTime::parse_from_rfc3339(s).map_err(|_| {
                    ScimError::invalid_filter(format!(
                        "'{}' takes an RFC 3339 date-time, not \"{}\".",
                        path.raw.escape_default(),
                        s.escape_default()
                    ))
                })?;
                Ok(UserQuery::Compare {
                    attr,
                    op,
                    value: QueryValue::Time(t.with_timezone(&Utc)),
                })
            }
            (_, CompValue::Str(s)) if attr.kind() == user_query::AttrKind::Text => {
                Ok(UserQuery::Compare {
                    attr,
                    op,
                    value: QueryValue::Text(s.clone()),
                })
            }
            _ => Err(bad()),
        },
        Target::EmailType => match value {
            CompValue::Str(s) => {
                let holds = text_holds(
                    "work",
                    if op == CompareOp::Ne {
                        CompareOp::Eq
                    } else {
                        op
                    },
                    s,
                );
                Ok(email_fact(op, holds))
            }
            CompValue::Null if op == CompareOp::Eq => Ok(UserQuery::negate(has_email())),
            CompValue::Null if op == CompareOp::Ne => Ok(has_email()),
            _ => Err(bad()),
        },
        Target::EmailPrimary => {
            let b = lenient_bool(value).ok_or_else(bad)?;
            match op {
                CompareOp::Eq | CompareOp::Ne => Ok(email_fact(op, b)),
                _ => Err(bad()),
            }
        }
    }
}

fn present(attr: UserAttr) -> UserQuery {
    match attr.kind() {
        user_query::AttrKind::Text => UserQuery::Present(attr),
        _ => UserQuery::All,
    }
}

/// `items` combined pairwise into a balanced tree, so long chains stay shallow.
fn balanced(mut items: Vec<UserQuery>, join: fn(UserQuery, UserQuery) -> UserQuery) -> UserQuery {
    match items.len() {
        0 => UserQuery::All,
        1 => items.remove(0),
        n => {
            let right = items.split_off(n / 2);
            join(balanced(items, join), balanced(right, join))
        }
    }
}

fn convert(f: &Filter, in_emails: bool) -> Result<UserQuery, ScimError> {
    Ok(match f {
        Filter::And(items) => balanced(
            items
                .iter()
                .map(|i| convert(i, in_emails))
                .collect::<Result<_, _>>()?,
            UserQuery::and,
        ),
        Filter::Or(items) => balanced(
            items
                .iter()
                .map(|i| convert(i, in_emails))
                .collect::<Result<_, _>>()?,
            UserQuery::or,
        ),
        Filter::Not(inner) => UserQuery::negate(convert(inner, in_emails)?),
        Filter::Present(path) => match resolve(path, in_emails)? {
            Target::Attr(attr) => present(attr),
            Target::EmailType | Target::EmailPrimary => has_email(),
        },
        Filter::Compare { path, op, value } => {
            compare(path, resolve(path, in_emails)?, *op, value)?
        }
        Filter::ValuePath { path, filter } => {
            let is_emails = !in_emails
                && path.is_core()
                && path.sub.is_none()
                && path.name.eq_ignore_ascii_case("emails");
            if !is_emails {
                return Err(ScimError::invalid_filter(format!(
                    "Value filters are supported on 'emails' only, not on '{}'.",
                    path.raw.escape_default()
                )));
            }
            // Some address matches: the one address exists and matches.
            UserQuery::and(has_email(), convert(filter, true)?)
        }
    })
}

/// The database search a parsed filter stands for.
pub(crate) fn to_user_query(f: &Filter) -> Result<UserQuery, ScimError> {
    let q = convert(f, false)?;
    q.check()
        .map_err(|why| ScimError::too_many(format!("The filter is too complex: {why}.")))?;
    Ok(q)
}

/// Parses `input` and gives it its meaning: 400 `invalidFilter` (or `tooMany`) on failure.
pub(crate) fn user_query(input: &str) -> Result<UserQuery, ScimError> {
    let f = parse(input).map_err(FilterError::into_scim)?;
    to_user_query(&f)
}

// ---- meaning: one value of a multi-valued attribute (PATCH) ---------------------------------

/// The member `name` of a JSON object, ignoring case.
pub(crate) fn member<'a>(object: &'a Value, name: &str) -> Option<&'a Value> {
    object
        .as_object()?
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v)
}

fn json_bool(v: &Value) -> Option<bool> {
    match v {
        Value::Bool(b) => Some(*b),
        Value::String(s) if s.eq_ignore_ascii_case("true") => Some(true),
        Value::String(s) if s.eq_ignore_ascii_case("false") => Some(false),
        _ => None,
    }
}

fn value_holds(have: Option<&Value>, op: CompareOp, want: &CompValue) -> bool {
    let have = have.filter(|v| !v.is_null());
    let eq_like = |equal: bool| match op {
        CompareOp::Eq => equal,
        CompareOp::Ne => !equal,
        _ => false,
    };
    match (have, want) {
        (None, CompValue::Null) => op == CompareOp::Eq,
        (None, _) => op == CompareOp::Ne,
        (Some(_), CompValue::Null) => op == CompareOp::Ne,
        (Some(Value::String(h)), CompValue::Str(w)) => text_holds(h, op, w),
        (Some(h), CompValue::Bool(w)) => {
            json_bool(h).map_or(op == CompareOp::Ne, |b| eq_like(b == *w))
        }
        (Some(Value::Bool(h)), CompValue::Str(w)) => match lenient_bool(&CompValue::Str(w.clone()))
        {
            Some(b) => eq_like(*h == b),
            None => op == CompareOp::Ne,
        },
        (Some(Value::Number(h)), CompValue::Num(w)) => {
            let (Some(h), Ok(w)) = (h.as_f64(), w.parse::<f64>()) else {
                return false;
            };
            match op {
                CompareOp::Eq => h == w,
                CompareOp::Ne => h != w,
                CompareOp::Gt => h > w,
                CompareOp::Ge => h >= w,
                CompareOp::Lt => h < w,
                CompareOp::Le => h <= w,
                _ => false,
            }
        }
        _ => op == CompareOp::Ne,
    }
}

fn lookup<'a>(element: &'a Value, path: &AttrPath) -> Option<&'a Value> {
    let first = member(element, &path.name)?;
    match &path.sub {
        Some(sub) => member(first, sub),
        None => Some(first),
    }
}

/// Whether one value (an object) of a multi-valued attribute matches a value filter; text
/// compares ignoring ASCII case (the sub-attributes of `emails` and `phoneNumbers` are not
/// case-exact), booleans may be written as strings.
pub(crate) fn matches_value(f: &Filter, element: &Value) -> bool {
    match f {
        Filter::And(items) => items.iter().all(|i| matches_value(i, element)),
        Filter::Or(items) => items.iter().any(|i| matches_value(i, element)),
        Filter::Not(inner) => !matches_value(inner, element),
        Filter::Present(path) => lookup(element, path).is_some_and(|v| match v {
            Value::Null => false,
            Value::String(s) => !s.is_empty(),
            Value::Array(a) => !a.is_empty(),
            Value::Object(o) => !o.is_empty(),
            _ => true,
        }),
        Filter::Compare { path, op, value } => value_holds(lookup(element, path), *op, value),
        Filter::ValuePath { .. } => false,
    }
}

/// The `eq` comparisons a value filter requires of every value it selects (`type eq "work"`
/// in `emails[type eq "work"]`): what a new value must carry to be selected by it. `None` when
/// the filter says more than a conjunction of `eq` comparisons.
pub(crate) fn required_members(f: &Filter) -> Option<Vec<(String, Value)>> {
    match f {
        Filter::Compare {
            path,
            op: CompareOp::Eq,
            value,
        } if path.sub.is_none() && path.urn.is_none() => {
            let v = match value {
                CompValue::Str(s) => Value::String(s.clone()),
                CompValue::Bool(b) => Value::Bool(*b),
                CompValue::Num(n) => serde_json::from_str(n).ok()?,
                CompValue::Null => return None,
            };
            Some(vec![(path.name.clone(), v)])
        }
        Filter::And(items) => {
            let mut all = Vec::new();
            for i in items {
                all.extend(required_members(i)?);
            }
            Some(all)
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn text(attr: UserAttr, op: CompareOp, v: &str) -> UserQuery {
        UserQuery::Compare {
            attr,
            op,
            value: QueryValue::Text(v.into()),
        }
    }

    fn q(input: &str) -> UserQuery {
        user_query(input).unwrap_or_else(|e| panic!("{input}: {e}"))
    }

    fn refused(input: &str) -> ScimError {
        match user_query(input) {
            Err(e) => e,
            Ok(q) => panic!("{input} was accepted as {q:?}"),
        }
    }

    #[test]
    fn every_operator_on_every_filterable_attribute() {
        use CompareOp::*;
        for (name, attr) in [
            ("userName", UserAttr::LoginId),
            ("USERNAME", UserAttr::LoginId),
            (
                "urn:ietf:params:scim:schemas:core:2.0:User:userName",
                UserAttr::LoginId,
            ),
            ("externalId", UserAttr::ExternalId),
            ("name.givenName", UserAttr::FirstName),
            ("name.FamilyName", UserAttr::FamilyName),
            ("emails.value", UserAttr::Email),
            ("emails", UserAttr::Email),
        ] {
            for (word, op) in [
                ("eq", Eq),
                ("NE", Ne),
                ("co", Co),
                ("Sw", Sw),
                ("ew", Ew),
                ("gt", Gt),
                ("ge", Ge),
                ("lt", Lt),
                ("le", Le),
            ] {
                assert_eq!(q(&format!("{name} {word} \"x\"")), text(attr, op, "x"));
            }
            assert_eq!(q(&format!("{name} pr")), UserQuery::Present(attr));
        }
    }

    #[test]
    fn rfc_7644_examples_that_apply_to_users() {
        assert_eq!(
            q(r#"userName Eq "john""#),
            text(UserAttr::LoginId, CompareOp::Eq, "john")
        );
        assert_eq!(
            q(r#"name.familyName co "O'Malley""#),
            text(UserAttr::FamilyName, CompareOp::Co, "O'Malley")
        );
        assert_eq!(
            q(r#"userName sw "J""#),
            text(UserAttr::LoginId, CompareOp::Sw, "J")
        );
        assert_eq!(
            q(r#"meta.lastModified gt "2011-05-13T04:42:34Z""#),
            UserQuery::Compare {
                attr: UserAttr::LastModified,
                op: CompareOp::Gt,
                value: QueryValue::Time("2011-05-13T04:42:34Z".parse().unwrap()),
            }
        );
        assert!(user_query(r#"meta.lastModified ge "2011-05-13T04:42:34+02:00""#).is_ok());
        assert_eq!(
            q(r#"userName eq "bjensen" and not (emails co "example.com")"#),
            UserQuery::and(
                text(UserAttr::LoginId, CompareOp::Eq, "bjensen"),
                UserQuery::negate(text(UserAttr::Email, CompareOp::Co, "example.com"))
            )
        );
        // `and` binds tighter than `or`.
        assert_eq!(
            q(r#"userName eq "a" or userName eq "b" and active eq true"#),
            UserQuery::or(
                text(UserAttr::LoginId, CompareOp::Eq, "a"),
                UserQuery::and(
                    text(UserAttr::LoginId, CompareOp::Eq, "b"),
                    UserQuery::Compare {
                        attr: UserAttr::Active,
                        op: CompareOp::Eq,
                        value: QueryValue::Bool(true)
                    }
                )
            )
        );
        assert_eq!(
            q(r#"(userName eq "a" or userName eq "b") and active eq false"#),
            UserQuery::and(
                UserQuery::or(
                    text(UserAttr::LoginId, CompareOp::Eq, "a"),
                    text(UserAttr::LoginId, CompareOp::Eq, "b")
                ),
                UserQuery::Compare {
                    attr: UserAttr::Active,
                    op: CompareOp::Eq,
                    value: QueryValue::Bool(false)
                }
            )
        );
        // Entra ID's existence check, and its string booleans.
        assert_eq!(
            q(r#"userName eq "Test_User_00aa00aa-bb11-cc22-dd33-44ee44ee44ee""#),
            text(
                UserAttr::LoginId,
                CompareOp::Eq,
                "Test_User_00aa00aa-bb11-cc22-dd33-44ee44ee44ee"
            )
        );
        assert_eq!(q(r#"active eq "False""#), q("active eq false"));
        assert_eq!(q("not(active eq true)"), q("not (active eq true)"));
    }

    #[test]
    fn value_filters_on_emails() {
        let work = q(r#"emails[type eq "work"]"#);
        assert_eq!(work, UserQuery::Present(UserAttr::Email));
        assert!(q(r#"emails[type eq "home"]"#).is_nothing());
        assert_eq!(
            q(r#"emails[type eq "work" and value co "@example.com"]"#),
            UserQuery::and(
                UserQuery::Present(UserAttr::Email),
                UserQuery::and(
                    UserQuery::Present(UserAttr::Email),
                    text(UserAttr::Email, CompareOp::Co, "@example.com")
                )
            )
        );
        assert_eq!(q(r#"emails[primary eq true]"#), work);
        assert_eq!(q(r#"emails.type eq "Work""#), work);
        assert_eq!(q(r#"emails.type ne "home""#), UserQuery::All);
        assert!(refused(r#"emails[display eq "x"]"#)
            .detail()
            .contains("'display'"));
        assert!(refused(r#"name[givenName eq "x"]"#)
            .detail()
            .contains("emails"));
        assert!(
            refused(r#"emails[value eq "a" and emails[type eq "work"]]"#)
                .detail()
                .contains("do not nest")
        );
    }

    #[test]
    fn null_booleans_and_times() {
        assert_eq!(
            q("externalId eq null"),
            UserQuery::negate(UserQuery::Present(UserAttr::ExternalId))
        );
        assert_eq!(
            q("externalId ne null"),
            UserQuery::Present(UserAttr::ExternalId)
        );
        assert_eq!(q("active pr"), UserQuery::All);
        assert_eq!(q("meta.created pr"), UserQuery::All);
        for bad in [
            "active gt true",
            "active co \"t\"",
            "active eq 1",
            "active eq \"yes\"",
            "userName eq true",
            "userName eq 42",
            "userName gt null",
            "meta.created co \"2020\"",
            "meta.created gt \"yesterday\"",
            "meta.created gt 5",
            "emails.primary gt true",
            "emails.type eq 3",
        ] {
            let e = refused(bad);
            assert_eq!(e.scim_type(), Some("invalidFilter"), "{bad}");
            assert_eq!(e.status().as_u16(), 400, "{bad}");
        }
    }

    #[test]
    fn unsupported_attributes_and_bad_syntax_are_invalid_filters() {
        for bad in [
            "",
            "   ",
            "userName",
            "userName eq",
            "userName eq \"a",
            "userName eq \"a\\q\"",
            "userName equals \"a\"",
            "userName eq \"a\" and",
            "userName eq \"a\" xor userName eq \"b\"",
            "(userName eq \"a\"",
            "userName eq \"a\")",
            "not userName eq \"a\"",
            "emails[type eq \"work\"",
            "eq \"a\"",
            "\"a\" eq userName",
            "userName eq 'a'",
            "id eq \"x\"",
            "phoneNumbers.value eq \"1\"",
            "name.honorificPrefix eq \"Dr\"",
            "nickName pr",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber eq \"1\"",
            "user..name eq \"a\"",
            "1userName eq \"a\"",
            "userName eq 01",
            "userName eq 1.",
            "userName pr pr",
            "()",
            "[]",
        ] {
            let e = refused(bad);
            assert_eq!(e.scim_type(), Some("invalidFilter"), "{bad:?}: {e}");
            assert!(e.detail().len() < 600, "{bad:?}: short detail");
        }
        let e = refused("userName eq \"a\" foo");
        assert!(
            e.detail().contains("'foo' at position 17"),
            "{}",
            e.detail()
        );
        let e = refused("nickName eq \"x\"");
        assert!(e.detail().contains("'nickName'"), "{}", e.detail());
    }

    #[test]
    fn oversized_filters_are_too_many() {
        let deep = format!("{}userName eq \"a\"{}", "(".repeat(40), ")".repeat(40));
        assert_eq!(refused(&deep).scim_type(), Some("tooMany"));
        let nots = format!("{}userName eq \"a\"{}", "not (".repeat(40), ")".repeat(40));
        assert_eq!(refused(&nots).scim_type(), Some("tooMany"));
        let wide = vec!["userName eq \"a\""; MAX_TERMS + 1].join(" or ");
        assert_eq!(refused(&wide).scim_type(), Some("tooMany"));
        let long = format!("userName eq \"{}\"", "a".repeat(MAX_LENGTH));
        assert_eq!(refused(&long).scim_type(), Some("tooMany"));
        // Long chains within the bounds stay shallow trees.
        let chain: Vec<String> = (0..MAX_TERMS)
            .map(|i| format!("userName eq \"{i}\""))
            .collect();
        let chain = chain.join(" or ");
        assert!(q(&chain).depth() <= 7);
        let nested = format!("{}userName eq \"a\"{}", "(".repeat(15), ")".repeat(15));
        assert!(user_query(&nested).is_ok());
    }

    #[test]
    fn strings_are_json_strings() {
        assert_eq!(
            q(r#"userName eq "a\"b\\c\u00e9 \/""#),
            text(UserAttr::LoginId, CompareOp::Eq, "a\"b\\cé /")
        );
        assert_eq!(
            q(r#"userName eq "it's (not) [a] filter""#),
            text(UserAttr::LoginId, CompareOp::Eq, "it's (not) [a] filter")
        );
        assert_eq!(
            q("userName\teq\n\"x\""),
            text(UserAttr::LoginId, CompareOp::Eq, "x")
        );
    }

    #[test]
    fn patch_paths() {
        let p = parse_path(r#"emails[type eq "work"].value"#).unwrap();
        assert_eq!(p.attr.name, "emails");
        assert_eq!(p.sub.as_deref(), Some("value"));
        assert!(p.filter.is_some());
        let p = parse_path("name.givenName").unwrap();
        assert_eq!(
            (p.attr.name.as_str(), p.attr.sub.as_deref()),
            ("name", Some("givenName"))
        );
        let p = parse_path("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department")
            .unwrap();
        assert!(!p.attr.is_core());
        assert!(
            parse_path("urn:ietf:params:scim:schemas:core:2.0:User:userName")
                .unwrap()
                .attr
                .is_core()
        );
        for bad in [
            "",
            "emails[",
            "emails[type eq \"work\"]value",
            "emails[type eq \"work\"].",
            "name.givenName[type eq \"x\"]",
            "a b",
            "emails[type eq \"work\"][value pr]",
        ] {
            assert!(parse_path(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn value_filters_on_one_value() {
        let f = parse(r#"type eq "WORK" and primary eq true and not (value ew ".org")"#).unwrap();
        assert!(matches_value(
            &f,
            &serde_json::json!({"Type": "work", "primary": "True", "value": "a@b.com"})
        ));
        assert!(!matches_value(
            &f,
            &serde_json::json!({"type": "work", "primary": true, "value": "a@b.org"})
        ));
        assert!(!matches_value(&f, &serde_json::json!({"value": "a@b.com"})));
        let f = parse("display pr or value ne \"x\"").unwrap();
        assert!(matches_value(&f, &serde_json::json!({})));
        assert_eq!(
            required_members(&parse(r#"type eq "work" and primary eq true"#).unwrap()),
            Some(vec![
                ("type".to_owned(), Value::String("work".into())),
                ("primary".to_owned(), Value::Bool(true))
            ])
        );
        assert_eq!(required_members(&parse(r#"value co "x""#).unwrap()), None);
    }

    /// The grammar's own pieces, and hostile ones, for the token soup.
    const SOUP: &[&str] = &[
        "(",
        ")",
        "[",
        "]",
        "not",
        "and",
        "or",
        "eq",
        "pr",
        "co",
        "gt",
        "userName",
        "emails",
        "active",
        "meta.created",
        "\"x\"",
        "\"\\u0000'; DROP TABLE users; --\"",
        "true",
        "null",
        "-1.5e3",
        "\"",
        "\\",
        "%",
        "_",
        "urn:ietf:params:scim:schemas:core:2.0:User:userName",
        "type",
        "value",
        "emails[type eq \"work\"]",
        ".",
        "é",
        "\u{10FFFF}",
    ];

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(1000))]

        /// Any text at all: an answer, never a panic; a refusal is a 400 of the filter.
        #[test]
        fn any_input_is_answered(input in ".{0,200}") {
            if let Err(e) = user_query(&input) {
                prop_assert_eq!(e.status().as_u16(), 400);
                prop_assert!(matches!(e.scim_type(), Some("invalidFilter" | "tooMany")));
            }
            let _ = parse_path(&input);
        }

        /// Hostile compositions of the grammar's own pieces.
        #[test]
        fn hostile_token_soup_is_answered(
            parts in proptest::collection::vec(proptest::sample::select(SOUP), 0..120)
        ) {
            let input = parts.join(" ");
            if let Err(e) = user_query(&input) {
                prop_assert_eq!(e.status().as_u16(), 400);
            }
            let _ = parse_path(&parts.concat());
        }

        /// Deep nesting is refused before it can exhaust the stack.
        #[test]
        fn deep_nesting_is_too_many(depth in 17usize..5000) {
            let input = format!("{}userName eq \"a\"{}", "not (".repeat(depth), ")".repeat(depth));
            let e = user_query(&input).unwrap_err();
            prop_assert_eq!(e.scim_type(), Some("tooMany"));
        }

        /// Every value survives the round trip through a JSON string literal untouched: values
        /// are data, never part of the query text.
        #[test]
        fn values_round_trip(value in ".{0,100}") {
            let literal = serde_json::to_string(&value).unwrap();
            let parsed = user_query(&format!("externalId eq {literal}")).unwrap();
            prop_assert_eq!(parsed, text(UserAttr::ExternalId, CompareOp::Eq, &value));
        }
    }
}
