//! The value schemas of the OpenAPI document: what the server enforces on each request value,
//! stated as JSON Schema so that a client (or a fuzzer such as Schemathesis) can tell a request
//! the server accepts from one it refuses without sending it.
//!
//! Each pattern here restates a domain check (`idm_domain`), character for character:
//! `char::is_whitespace` (Unicode White_Space, what `str::trim` strips) and `char::is_control`
//! (category Cc) are spelled out as classes. `tests::openapi` runs every pattern, through
//! Python's `re` as the fuzzer does, against the domain check it restates.
//!
//! What no JSON Schema can say stays in the operation descriptions: rules that depend on stored
//! state (a name already taken, the policy a credential falls under, the caller's own record)
//! and rules between two values (`minLength` ≤ `maxLength`, distinct `authMode`s).
// Documentation only: the types are read by the `utoipa` derives, never constructed.
#![allow(dead_code)]

use std::collections::BTreeMap;

use idm_domain::policy::{PolicyParameters, PolicyType};
use utoipa::openapi::schema::{
    AdditionalProperties, KnownFormat, ObjectBuilder, OneOfBuilder, Schema, SchemaFormat,
    SchemaType, Type,
};
use utoipa::openapi::{Ref, RefOr};

/// Rust's `char::is_whitespace` (Unicode White_Space), as the inside of a regex class.
macro_rules! white_space {
    () => {
        r"\t\n\x0B\x0C\r \x85\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000"
    };
}

/// SPEC §1: an extId.
pub(crate) const EXT_ID: &str = r"^[A-Za-z0-9._@:-]{1,255}$";

/// A display name (client, policy) or an OATH label (`policy::validate_name`): 1–255
/// characters once leading and trailing white space is trimmed, no control character inside.
pub(crate) const DISPLAY_NAME: &str = concat!(
    "^[",
    white_space!(),
    r"]*[^\x00-\x20\x7F-\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000](?:[^\x00-\x1F\x7F-\x9F]{0,253}[^\x00-\x20\x7F-\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000])?[",
    white_space!(),
    "]*$"
);

/// A loginId (`user::validate_login_id`): 1–255 characters, no control character, no `/` or
/// `:` (they separate client, loginId and password in Basic credentials), no leading or
/// trailing white space.
pub(crate) const LOGIN_ID: &str = r"^[^\x00-\x20\x7F-\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000/:](?:[^\x00-\x1F\x7F-\x9F/:]{0,253}[^\x00-\x20\x7F-\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000/:])?$";

/// Free text of a user (`user::validate_text`: name parts, mobile): at most 255 characters, no
/// control character.
pub(crate) const FREE_TEXT: &str = r"^[^\x00-\x1F\x7F-\x9F]{0,255}$";

/// An e-mail address (`user::validate_email`): one `@` after a non-empty local part, a domain
/// of dot-separated non-empty labels, no white space or control character.
pub(crate) const EMAIL: &str = r"^[^\x00-\x20\x7F-\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000@]+@[^\x00-\x20\x7F-\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000@.]+(?:\.[^\x00-\x20\x7F-\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000@.]+)+$";

/// The longest e-mail address (RFC 5321 path limit).
pub(crate) const EMAIL_MAX: usize = 254;

/// A continuation token (`dto::page`): `<seconds>.<nanoseconds>~<extId>` of the last item of
/// the previous page, or empty for the first page. Any token of this form is a valid cursor.
pub(crate) const CONTINUATION_TOKEN: &str = r"^(?:[0-9]{1,11}\.[0-9]{9}~[A-Za-z0-9._@:-]{1,255})?$";

/// A Digipass data block (`vasco::validate_tokens`): non-empty canonical standard Base64, the
/// padding optional (and, as the decoder reads it, one `=` enough after two characters).
pub(crate) const BASE64: &str = r"^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{4}|[A-Za-z0-9+/][AQgw](?:==?)?|[A-Za-z0-9+/]{2}[AEIMQUYcgkosw048]=?)$";

/// The password generator's alphabet (`generatedCharset`): 2–94 distinct printable ASCII
/// characters.
pub(crate) const CHARSET: &str = r"^(?!.*(.).*\1)[\x21-\x7E]{2,94}$";

/// An otpauth issuer (`issuer`): not blank, no `:` (it separates issuer and account in the
/// label), no control character; at most 255 characters (`maxLength`).
pub(crate) const LABEL: &str = r"^[^\x00-\x1F\x7F-\x9F:]*[^\x00-\x20\x7F-\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000:][^\x00-\x1F\x7F-\x9F:]*$";

/// A string schema with a pattern.
fn pattern(description: &str, pattern: &str) -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .description(Some(description))
        .pattern(Some(pattern))
}

/// Declares named string schemas (`#/components/schemas/<Name>`) that DTO fields refer to with
/// `#[schema(value_type = values::Name)]`.
macro_rules! string_schemas {
    ($($(#[doc = $doc:literal])* $name:ident => $build:expr;)*) => {$(
        $(#[doc = $doc])*
        pub(crate) struct $name;

        impl utoipa::PartialSchema for $name {
            fn schema() -> RefOr<Schema> {
                let builder: ObjectBuilder = $build;
                builder.into()
            }
        }

        impl utoipa::ToSchema for $name {}
    )*};
}

string_schemas! {
    /// SPEC §1 extId.
    ExtId => pattern(
        "External ID: 1–255 characters from `[A-Za-z0-9._@:-]` (SPEC §1).",
        EXT_ID,
    )
    .examples(["client-123"]);
    /// Client and policy names, OATH labels.
    DisplayName => pattern(
        "1–255 characters once leading and trailing white space is trimmed (it is), no \
         control character.",
        DISPLAY_NAME,
    )
    .examples(["Acme"]);
    /// A user's loginId.
    LoginId => pattern(
        "1–255 characters; no control character, no `/` or `:`, no leading or trailing white \
         space. Unique within the client.",
        LOGIN_ID,
    )
    .examples(["jdoe"]);
    /// Name parts and the mobile number of a user.
    FreeText => pattern(
        "At most 255 characters, no control character.",
        FREE_TEXT,
    )
    .examples(["Jane"]);
    /// A user's e-mail address.
    EmailAddress => pattern(
        "An e-mail address: a non-empty local part, one `@`, a domain of dot-separated \
         non-empty labels; no white space or control character; at most 254 characters.",
        EMAIL,
    )
    .max_length(Some(EMAIL_MAX))
    .examples(["jane@example.com"]);
    /// The `continuationToken` query parameter.
    ContinuationToken => pattern(
        "The opaque `_pagination.continuationToken` of the previous page (absent or empty: \
         the first page).",
        CONTINUATION_TOKEN,
    );
    /// A Digipass data block.
    VascoDataBlock => pattern(
        "The Digipass data block: non-empty standard Base64 (canonical, padding optional).",
        BASE64,
    )
    .examples(["AAEC"]);
    /// A Digipass `authMode`.
    AuthMode => ObjectBuilder::new()
        .schema_type(Type::String)
        .description(Some(
            "Exactly 2 characters, e.g. `CR`; distinct within one credential.",
        ))
        .min_length(Some(2))
        .max_length(Some(2))
        .examples(["CR"]);
    /// A secret that must be sent: a password or a one-time code.
    Secret => ObjectBuilder::new()
        .schema_type(Type::String)
        .format(Some(SchemaFormat::KnownFormat(KnownFormat::Password)))
        .description(Some("Mandatory, not empty."))
        .min_length(Some(1));
    /// A mandatory, non-empty string.
    NonEmpty => ObjectBuilder::new()
        .schema_type(Type::String)
        .description(Some("Mandatory, not empty."))
        .min_length(Some(1));
    /// The `userState` filter of the user list.
    UserStateFilter => ObjectBuilder::new()
        .schema_type(Type::String)
        .description(Some("`active`, `disabled` or `archived`; empty: no filter."))
        .enum_values(Some(["active", "disabled", "archived", ""]));
    /// A role name (SPEC §3.2).
    RoleName => ObjectBuilder::new()
        .schema_type(Type::String)
        .description(Some("A role of SPEC §3.2."))
        .enum_values(Some(["Root", "ClientRoot", "UserAdmin", "Helpdesk", "SelfAdmin"]));
    /// The OAuth 2 grant type of the token request.
    GrantType => ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(["password"]));
}

/// The form a policy parameter's value takes (the domain's table, `policy.rs`, restated).
#[derive(Debug, Clone, Copy)]
pub(crate) enum ParamForm {
    /// A canonical decimal integer in `min..=max`, or -1 where `never` is set.
    Int { min: u64, max: u64, never: bool },
    /// `true` or `false`.
    Bool,
    /// One of a fixed set of words.
    OneOf(&'static [&'static str]),
    /// The generator's alphabet.
    Charset,
    /// An otpauth issuer.
    Label,
}

const MS_MAX: u64 = 100 * 365 * 24 * 3600 * 1000;

/// Every policy type's parameters with the form of their values (SPEC §5).
pub(crate) const COMMON_PARAMS: &[(&str, ParamForm)] = &[
    (
        "maxCredFailureCount",
        ParamForm::Int {
            min: 1,
            max: 1_000_000,
            never: true,
        },
    ),
    (
        "tmpLockingThreshold",
        ParamForm::Int {
            min: 1,
            max: 1_000_000,
            never: true,
        },
    ),
    (
        "tmpLockingDuration",
        ParamForm::Int {
            min: 0,
            max: MS_MAX,
            never: false,
        },
    ),
    (
        "credentialLifetime",
        ParamForm::Int {
            min: 1,
            max: MS_MAX,
            never: false,
        },
    ),
];

/// `PwdPolicy`'s own parameters.
pub(crate) const PWD_PARAMS: &[(&str, ParamForm)] = &[
    (
        "minLength",
        ParamForm::Int {
            min: 1,
            max: 1024,
            never: false,
        },
    ),
    (
        "maxLength",
        ParamForm::Int {
            min: 1,
            max: 1024,
            never: false,
        },
    ),
    ("resetCodeEnabled", ParamForm::Bool),
    (
        "maxResetCount",
        ParamForm::Int {
            min: 0,
            max: 1_000_000,
            never: true,
        },
    ),
    (
        "generatedLength",
        ParamForm::Int {
            min: 4,
            max: 256,
            never: false,
        },
    ),
    ("generatedCharset", ParamForm::Charset),
    (
        "fragmentLength",
        ParamForm::Int {
            min: 0,
            max: 256,
            never: false,
        },
    ),
];

/// `OathPolicy`'s own parameters.
pub(crate) const OATH_PARAMS: &[(&str, ParamForm)] = &[
    ("accountname", ParamForm::OneOf(&["loginid", "email"])),
    (
        "initialAlgorithm",
        ParamForm::OneOf(&["SHA1", "SHA256", "SHA512"]),
    ),
    ("initialDigits", ParamForm::OneOf(&["6", "7", "8"])),
    (
        "initialPeriod",
        ParamForm::Int {
            min: 1,
            max: 3600,
            never: false,
        },
    ),
    ("initialType", ParamForm::OneOf(&["totp", "hotp"])),
    ("issuer", ParamForm::Label),
    (
        "totpWindow",
        ParamForm::Int {
            min: 0,
            max: idm_domain::otp::MAX_TOTP_WINDOW as u64,
            never: false,
        },
    ),
    (
        "hotpLookAhead",
        ParamForm::Int {
            min: 0,
            max: idm_domain::otp::MAX_HOTP_LOOK_AHEAD as u64,
            never: false,
        },
    ),
    (
        "hotpResyncWindow",
        ParamForm::Int {
            min: 1,
            max: idm_domain::otp::MAX_HOTP_RESYNC_WINDOW as u64,
            never: false,
        },
    ),
];

/// The parameters of `policy_type`, common ones first.
pub(crate) fn params_of(policy_type: PolicyType) -> Vec<(&'static str, ParamForm)> {
    let own: &[(&str, ParamForm)] = match policy_type {
        PolicyType::Pwd => PWD_PARAMS,
        PolicyType::Vasco => &[],
        PolicyType::Oath => OATH_PARAMS,
    };
    COMMON_PARAMS.iter().chain(own).copied().collect()
}

/// The canonical decimal integers of `lo..=hi` as regex alternatives (no leading zeros, no
/// sign), for a parameter the server parses as an integer and compares with its printed form.
fn int_alternatives(lo: u64, hi: u64) -> Vec<String> {
    let mut out = Vec::new();
    if lo > hi {
        return out;
    }
    let digits = |n: u64| n.to_string().len();
    for d in digits(lo)..=digits(hi) {
        let first = if d == 1 { 0 } else { 10u64.pow(d as u32 - 1) };
        let last = 10u64.pow(d as u32) - 1;
        let (a, b) = (lo.max(first), hi.min(last));
        if a <= b {
            out.extend(same_length(&a.to_string(), &b.to_string()));
        }
    }
    out
}

/// Alternatives matching exactly the equal-length digit strings `a..=b`.
fn same_length(a: &str, b: &str) -> Vec<String> {
    let n = a.len();
    if a == b {
        return vec![a.to_owned()];
    }
    if a.bytes().all(|c| c == b'0') && b.bytes().all(|c| c == b'9') {
        return vec![format!("[0-9]{{{n}}}")];
    }
    let (a0, b0) = (a.as_bytes()[0] - b'0', b.as_bytes()[0] - b'0');
    if n == 1 {
        return vec![format!("[{a0}-{b0}]")];
    }
    let (a_rest, b_rest) = (&a[1..], &b[1..]);
    if a0 == b0 {
        return same_length(a_rest, b_rest)
            .into_iter()
            .map(|s| format!("{a0}(?:{s})"))
            .collect();
    }
    let mut out: Vec<String> = same_length(a_rest, &"9".repeat(n - 1))
        .into_iter()
        .map(|s| format!("{a0}(?:{s})"))
        .collect();
    if a0 + 1 < b0 {
        out.push(format!("[{}-{}][0-9]{{{}}}", a0 + 1, b0 - 1, n - 1));
    }
    out.extend(
        same_length(&"0".repeat(n - 1), b_rest)
            .into_iter()
            .map(|s| format!("{b0}(?:{s})")),
    );
    out
}

impl ParamForm {
    /// The schema of a value of this form (values travel as strings).
    pub(crate) fn schema(self, default: Option<&str>) -> ObjectBuilder {
        let builder = ObjectBuilder::new().schema_type(Type::String);
        let builder = match self {
            ParamForm::Int { min, max, never } => {
                let mut alternatives = int_alternatives(min, max);
                if never {
                    alternatives.insert(0, "-1".to_owned());
                }
                let range = if never {
                    format!("An integer {min}–{max}, or -1 (never).")
                } else {
                    format!("An integer {min}–{max}.")
                };
                builder
                    .description(Some(range))
                    .pattern(Some(format!("^(?:{})$", alternatives.join("|"))))
            }
            ParamForm::Bool => builder.enum_values(Some(["true", "false"])),
            ParamForm::OneOf(words) => builder.enum_values(Some(words.iter().copied())),
            ParamForm::Charset => builder
                .description(Some("2–94 distinct printable ASCII characters."))
                .pattern(Some(CHARSET)),
            ParamForm::Label => builder
                .description(Some("Not blank, no `:`, no control character."))
                .max_length(Some(255))
                .pattern(Some(LABEL)),
        };
        match default {
            Some(value) => builder.default(Some(value.into())),
            None => builder,
        }
    }
}

/// The `parameters` object of a policy of these parameters: every name known, every value of
/// its form, nothing else.
fn parameters_schema(
    description: &str,
    params: &[(&'static str, ParamForm)],
    defaults: &BTreeMap<String, String>,
) -> ObjectBuilder {
    let mut builder = ObjectBuilder::new()
        .schema_type(Type::Object)
        .description(Some(description))
        .additional_properties(Some(AdditionalProperties::FreeForm(false)));
    for (name, form) in params {
        builder = builder.property(*name, form.schema(defaults.get(*name).map(String::as_str)));
    }
    builder
}

/// The parameters a policy of `policy_type` takes, with their defaults.
fn typed_parameters(policy_type: PolicyType) -> ObjectBuilder {
    let defaults = PolicyParameters::defaults(policy_type).effective();
    parameters_schema(
        &format!(
            "The parameters of a {}; a parameter left out takes its default (SPEC §5). \
             `minLength` ≤ `maxLength` and `fragmentLength` ≤ `generatedLength` after the \
             defaults are applied.",
            policy_type.as_str()
        ),
        &params_of(policy_type),
        &defaults,
    )
}

string_schemas! {
    /// `parameters` of a `PwdPolicy`.
    PwdPolicyParameters => typed_parameters(PolicyType::Pwd);
    /// `parameters` of a `VascoPolicy`.
    VascoPolicyParameters => typed_parameters(PolicyType::Vasco);
    /// `parameters` of an `OathPolicy`.
    OathPolicyParameters => typed_parameters(PolicyType::Oath);
    /// `parameters` of a policy PATCH: the policy's type decides which names it takes.
    AnyPolicyParameters => {
        let mut all: Vec<(&'static str, ParamForm)> = COMMON_PARAMS.to_vec();
        all.extend_from_slice(PWD_PARAMS);
        all.extend_from_slice(OATH_PARAMS);
        parameters_schema(
            "Parameters merged over the stored ones. Only the names of the policy's own type \
             are accepted (`errors.pcyconf.invalidParamName` otherwise): the common four, \
             `PwdPolicy`'s or `OathPolicy`'s (see `PwdPolicyParameters`, \
             `OathPolicyParameters`). `minLength` ≤ `maxLength` and `fragmentLength` ≤ \
             `generatedLength` after the merge.",
            &all,
            &BTreeMap::new(),
        )
    };
}

/// `type: [T, "null"]`-like: the value or `null` (which the server reads as absent).
pub(crate) fn nullable(schema: impl Into<RefOr<Schema>>) -> RefOr<Schema> {
    OneOfBuilder::new()
        .item(ObjectBuilder::new().schema_type(SchemaType::Type(Type::Null)))
        .item(schema)
        .into()
}

/// A reference to a component schema.
pub(crate) fn reference(name: &str) -> RefOr<Schema> {
    Ref::from_schema_name(name).into()
}
