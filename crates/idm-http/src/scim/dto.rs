//! The SCIM User (RFC 7643 §4.1) as SPEC §14 maps it onto the user of SPEC §4.2, both ways:
//! the representation of a [`UserView`], the attributes a body asks for ([`Desired`]), the
//! create command and the merge-PATCH ([`UserPatch`]) that make a stored user so, and the
//! `attributes`/`excludedAttributes` projection. No second user model: what is stored is the
//! core user; this module only translates.
//!
//! | SCIM | user (SPEC §4.2) |
//! |---|---|
//! | `id` | `extId` (assigned by the server) |
//! | `userName` | `loginId` |
//! | `externalId` | `externalId` (stored for SCIM) |
//! | `name.givenName`, `name.familyName`, `name.honorificPrefix` | `name.firstName`, `name.familyName`, `name.title` |
//! | `name.formatted` | derived: title, first and family name |
//! | `emails` (the `primary` one, else the first) | `contacts.email`, shown as `work`, `primary` |
//! | `phoneNumbers` of type `mobile` | `contacts.mobile` |
//! | `active` | `userState` `active`; false → `disabled`; `archived` reads as false |
//! | `preferredLanguage` (`en`, `de-CH`, …) | `languageCode` `EN`/`DE`/`FR`/`IT` |
//! | `meta` | `created`, `lastModified`, `version` as `W/"<version>"` |

use chrono::SecondsFormat;
use idm_domain::patch::Patch;
use idm_domain::user::{
    Contacts, ContactsPatch, LanguageCode, NamePatch, PersonName, User, UserPatch, UserState,
};
use idm_ports::usecases::{CreateUser, UserView};
use serde_json::{json, Map, Value};
use utoipa::ToSchema;

use super::filter::member;
use super::{BASE, USER_SCHEMA};

/// The `meta.location` (and `Location`) of a user: an absolute path, like the core API's.
pub(crate) fn location(client: &str, id: &str) -> String {
    format!("{BASE}/{client}/Users/{id}")
}

/// The weak entity tag of a version (RFC 7644 §3.14).
pub(crate) fn etag(version: i64) -> String {
    format!("W/\"{version}\"")
}

/// SCIM timestamps keep what is stored (microseconds), so a value read back compares equal in
/// a `meta.created eq` filter.
fn timestamp(t: chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

/// `preferredLanguage` of a language code (RFC 7231 language tags, lower case).
fn language_tag(l: LanguageCode) -> &'static str {
    match l {
        LanguageCode::En => "en",
        LanguageCode::De => "de",
        LanguageCode::Fr => "fr",
        LanguageCode::It => "it",
    }
}

/// The language code of a `preferredLanguage`: its primary subtag, any case (`en`, `de-CH`,
/// `fr_CH`, `IT`).
fn parse_language(tag: &str) -> Option<LanguageCode> {
    let primary = tag.split(['-', '_']).next().unwrap_or_default();
    match primary.to_ascii_lowercase().as_str() {
        "en" => Some(LanguageCode::En),
        "de" => Some(LanguageCode::De),
        "fr" => Some(LanguageCode::Fr),
        "it" => Some(LanguageCode::It),
        _ => None,
    }
}

/// `name.formatted`: title, given and family name, as far as present.
fn formatted(n: &PersonName) -> Option<String> {
    let parts: Vec<&str> = [&n.title, &n.first_name, &n.family_name]
        .into_iter()
        .filter_map(|p| p.as_deref())
        .filter(|p| !p.is_empty())
        .collect();
    (!parts.is_empty()).then(|| parts.join(" "))
}

/// The full SCIM representation of a user; absent values are left out.
pub(crate) fn resource(view: &UserView) -> Value {
    let u = &view.user;
    let mut r = Map::new();
    r.insert("schemas".into(), json!([USER_SCHEMA]));
    r.insert("id".into(), json!(u.ext_id.as_str()));
    if let Some(x) = &u.external_id {
        r.insert("externalId".into(), json!(x));
    }
    r.insert("userName".into(), json!(u.login_id));
    let mut name = Map::new();
    for (key, part) in [
        ("formatted", formatted(&u.name)),
        ("familyName", u.name.family_name.clone()),
        ("givenName", u.name.first_name.clone()),
        ("honorificPrefix", u.name.title.clone()),
    ] {
        if let Some(p) = part {
            name.insert(key.into(), json!(p));
        }
    }
    if !name.is_empty() {
        r.insert("name".into(), Value::Object(name));
    }
    r.insert("active".into(), json!(u.state == UserState::Active));
    if let Some(e) = &u.contacts.email {
        r.insert(
            "emails".into(),
            json!([{"value": e, "type": "work", "primary": true}]),
        );
    }
    if let Some(m) = &u.contacts.mobile {
        r.insert(
            "phoneNumbers".into(),
            json!([{"value": m, "type": "mobile"}]),
        );
    }
    r.insert("preferredLanguage".into(), json!(language_tag(u.language)));
    r.insert(
        "meta".into(),
        json!({
            "resourceType": "User",
            "created": timestamp(u.created),
            "lastModified": timestamp(u.last_modified),
            "location": location(view.client_ext_id.as_str(), u.ext_id.as_str()),
            "version": etag(u.version),
        }),
    );
    Value::Object(r)
}

/// What a SCIM body (POST, PUT) or a patched representation (PATCH) says a user should be;
/// `None` = absent (or `null`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Desired {
    pub(crate) user_name: Option<String>,
    pub(crate) external_id: Option<String>,
    pub(crate) given_name: Option<String>,
    pub(crate) family_name: Option<String>,
    pub(crate) honorific_prefix: Option<String>,
    pub(crate) email: Option<String>,
    pub(crate) mobile: Option<String>,
    pub(crate) active: Option<bool>,
    pub(crate) language: Option<LanguageCode>,
}

/// An attribute of the wrong type or an unusable value: its path, for the 400.
pub(crate) type BadAttribute = String;

fn text(object: &Value, name: &str, path: &str) -> Result<Option<String>, BadAttribute> {
    match member(object, name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(path.to_owned()),
    }
}

/// `true`/`false`, also as the strings `"True"`/`"False"` (any case) that Entra ID sends.
pub(crate) fn lenient_bool(v: &Value) -> Option<bool> {
    match v {
        Value::Bool(b) => Some(*b),
        Value::String(s) if s.eq_ignore_ascii_case("true") => Some(true),
        Value::String(s) if s.eq_ignore_ascii_case("false") => Some(false),
        _ => None,
    }
}

fn flag(object: &Value, name: &str, path: &str) -> Result<Option<bool>, BadAttribute> {
    match member(object, name) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => lenient_bool(v).map(Some).ok_or_else(|| path.to_owned()),
    }
}

/// The values (objects) of a multi-valued attribute; `null` and absent are none.
fn values<'a>(object: &'a Value, name: &str) -> Result<Vec<&'a Value>, BadAttribute> {
    match member(object, name) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(items)) => items
            .iter()
            .filter(|i| !i.is_null())
            .map(|i| {
                if i.is_object() {
                    Ok(i)
                } else {
                    Err(name.to_owned())
                }
            })
            .collect(),
        Some(_) => Err(name.to_owned()),
    }
}

/// The value of the primary element with a value, else of the first with one.
fn pick(
    items: &[&Value],
    attribute: &str,
    eligible: impl Fn(&Value) -> bool,
) -> Result<Option<String>, BadAttribute> {
    let mut first = None;
    for item in items.iter().copied().filter(|i| eligible(i)) {
        let Some(value) = text(item, "value", &format!("{attribute}.value"))? else {
            continue;
        };
        if flag(item, "primary", &format!("{attribute}.primary"))? == Some(true) {
            return Ok(Some(value));
        }
        first.get_or_insert(value);
    }
    Ok(first)
}

/// Reads the attributes this service stores from a SCIM User representation (a JSON object);
/// any other attribute (`displayName`, `addresses`, extensions, …) is ignored, as unknown
/// fields are (SPEC §8). Names are matched ignoring case.
pub(crate) fn desired(doc: &Value) -> Result<Desired, BadAttribute> {
    let name = match member(doc, "name") {
        None | Some(Value::Null) => Value::Null,
        Some(n @ Value::Object(_)) => n.clone(),
        Some(_) => return Err("name".into()),
    };
    let emails = values(doc, "emails")?;
    let phones = values(doc, "phoneNumbers")?;
    let is_mobile = |v: &Value| {
        member(v, "type")
            .and_then(Value::as_str)
            .is_some_and(|t| t.eq_ignore_ascii_case("mobile"))
    };
    let language = match text(doc, "preferredLanguage", "preferredLanguage")? {
        None => None,
        Some(tag) => Some(parse_language(&tag).ok_or_else(|| "preferredLanguage".to_owned())?),
    };
    Ok(Desired {
        user_name: text(doc, "userName", "userName")?,
        external_id: text(doc, "externalId", "externalId")?,
        given_name: text(&name, "givenName", "name.givenName")?,
        family_name: text(&name, "familyName", "name.familyName")?,
        honorific_prefix: text(&name, "honorificPrefix", "name.honorificPrefix")?,
        email: pick(&emails, "emails", |_| true)?,
        mobile: pick(&phones, "phoneNumbers", is_mobile)?,
        active: flag(doc, "active", "active")?,
        language,
    })
}

/// The create command of a SCIM POST; the server assigns the `id`.
pub(crate) fn create_command(d: Desired) -> CreateUser {
    CreateUser {
        ext_id: None,
        login_id: d.user_name,
        external_id: d.external_id,
        state: d.active.map(|a| {
            if a {
                UserState::Active
            } else {
                UserState::Disabled
            }
        }),
        language: d.language,
        is_technical_user: None,
        name: PersonName {
            title: d.honorific_prefix,
            first_name: d.given_name,
            family_name: d.family_name,
        },
        contacts: Contacts {
            email: d.email,
            mobile: d.mobile,
        },
    }
}

fn text_patch(stored: &Option<String>, wanted: &Option<String>) -> Patch<String> {
    match wanted {
        w if w == stored => Patch::Keep,
        None => Patch::Remove,
        Some(w) => Patch::Set(w.clone()),
    }
}

/// The merge-PATCH (SPEC §12) that makes `stored` what `d` says, field by field; unchanged
/// fields are kept. `active: false` disables an active user and leaves a disabled or archived
/// one as it is; an absent `active` keeps the state (a user always has one). An absent
/// `preferredLanguage` is the default (`EN`). `isTechnicalUser` has no SCIM attribute and is
/// kept.
pub(crate) fn user_patch(stored: &User, d: &Desired) -> UserPatch {
    let login_id = match &d.user_name {
        Some(n) if *n == stored.login_id => Patch::Keep,
        Some(n) => Patch::Set(n.clone()),
        None => Patch::Remove,
    };
    let user_state = match d.active {
        Some(true) if stored.state != UserState::Active => Patch::Set("active".to_owned()),
        Some(false) if stored.state == UserState::Active => Patch::Set("disabled".to_owned()),
        _ => Patch::Keep,
    };
    let wanted_language = d.language.unwrap_or_default();
    let language_code = if wanted_language == stored.language {
        Patch::Keep
    } else {
        Patch::Set(wanted_language.as_str().to_owned())
    };
    let name = NamePatch {
        title: text_patch(&stored.name.title, &d.honorific_prefix),
        first_name: text_patch(&stored.name.first_name, &d.given_name),
        family_name: text_patch(&stored.name.family_name, &d.family_name),
    };
    let name_changed = name != NamePatch::default();
    let contacts = ContactsPatch {
        email: text_patch(&stored.contacts.email, &d.email),
        mobile: text_patch(&stored.contacts.mobile, &d.mobile),
    };
    let contacts_changed = contacts != ContactsPatch::default();
    UserPatch {
        login_id,
        external_id: text_patch(&stored.external_id, &d.external_id),
        user_state,
        language_code,
        is_technical_user: Patch::Keep,
        name: if name_changed {
            Patch::Set(name)
        } else {
            Patch::Keep
        },
        contacts: if contacts_changed {
            Patch::Set(contacts)
        } else {
            Patch::Keep
        },
        version: None,
    }
}

/// Whether a PATCH changes nothing (its version aside).
pub(crate) fn is_noop(p: &UserPatch) -> bool {
    UserPatch {
        version: None,
        ..p.clone()
    } == UserPatch::default()
}

// ---- attributes / excludedAttributes --------------------------------------------------------

/// An attribute reference of `attributes`/`excludedAttributes`: lower-case name and
/// sub-attribute.
type AttrRef = (String, Option<String>);

/// The `attributes` and `excludedAttributes` of a request (RFC 7644 §3.9).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Projection {
    attributes: Vec<AttrRef>,
    excluded: Vec<AttrRef>,
}

fn attr_ref(raw: &str) -> Option<AttrRef> {
    let raw = raw.trim();
    let prefix = format!("{USER_SCHEMA}:");
    let rest = match raw.get(..prefix.len()) {
        Some(p) if p.eq_ignore_ascii_case(&prefix) => &raw[prefix.len()..],
        _ if raw.get(..4).is_some_and(|p| p.eq_ignore_ascii_case("urn:")) => return None,
        _ => raw,
    };
    if rest.is_empty() {
        return None;
    }
    let rest = rest.to_ascii_lowercase();
    Some(match rest.split_once('.') {
        Some((n, s)) => (n.to_owned(), Some(s.to_owned())),
        None => (rest, None),
    })
}

impl Projection {
    /// From lists of attribute names (a SearchRequest's arrays).
    pub(crate) fn new(attributes: &[String], excluded: &[String]) -> Self {
        Projection {
            attributes: attributes.iter().filter_map(|a| attr_ref(a)).collect(),
            excluded: excluded.iter().filter_map(|a| attr_ref(a)).collect(),
        }
    }

    /// From the comma-separated query parameters.
    pub(crate) fn from_query(attributes: Option<&str>, excluded: Option<&str>) -> Self {
        let split = |v: Option<&str>| -> Vec<String> {
            v.map(|s| s.split(',').map(str::to_owned).collect())
                .unwrap_or_default()
        };
        Self::new(&split(attributes), &split(excluded))
    }

    /// The representation with only the asked-for attributes (`schemas` and `id` always stay)
    /// and without the excluded ones.
    pub(crate) fn apply(&self, resource: Value) -> Value {
        let Value::Object(mut map) = resource else {
            return resource;
        };
        let always = |k: &str| k.eq_ignore_ascii_case("schemas") || k.eq_ignore_ascii_case("id");
        if !self.attributes.is_empty() {
            let mut kept = Map::new();
            for (key, value) in map {
                let lower = key.to_ascii_lowercase();
                let refs: Vec<&Option<String>> = self
                    .attributes
                    .iter()
                    .filter(|(n, _)| *n == lower)
                    .map(|(_, s)| s)
                    .collect();
                if always(&key) || refs.iter().any(|s| s.is_none()) {
                    kept.insert(key, value);
                } else if !refs.is_empty() {
                    let subs: Vec<&str> = refs.iter().filter_map(|s| s.as_deref()).collect();
                    if let Some(v) = keep_subs(value, &subs) {
                        kept.insert(key, v);
                    }
                }
            }
            map = kept;
        }
        for (name, sub) in &self.excluded {
            let Some(key) = map.keys().find(|k| k.eq_ignore_ascii_case(name)).cloned() else {
                continue;
            };
            if always(&key) {
                continue;
            }
            match sub {
                None => {
                    map.remove(&key);
                }
                Some(sub) => {
                    if let Some(v) = map.get_mut(&key) {
                        drop_sub(v, sub);
                    }
                }
            }
        }
        Value::Object(map)
    }
}

fn keep_in_object(o: &Map<String, Value>, subs: &[&str]) -> Map<String, Value> {
    o.iter()
        .filter(|(k, _)| subs.iter().any(|s| k.eq_ignore_ascii_case(s)))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

fn keep_subs(value: Value, subs: &[&str]) -> Option<Value> {
    match value {
        Value::Object(o) => {
            let kept = keep_in_object(&o, subs);
            (!kept.is_empty()).then_some(Value::Object(kept))
        }
        Value::Array(items) => {
            let kept: Vec<Value> = items
                .iter()
                .filter_map(|i| i.as_object().map(|o| keep_in_object(o, subs)))
                .filter(|o| !o.is_empty())
                .map(Value::Object)
                .collect();
            (!kept.is_empty()).then_some(Value::Array(kept))
        }
        _ => None,
    }
}

fn drop_sub(value: &mut Value, sub: &str) {
    match value {
        Value::Object(o) => o.retain(|k, _| !k.eq_ignore_ascii_case(sub)),
        Value::Array(items) => {
            for i in items {
                if let Value::Object(o) = i {
                    o.retain(|k, _| !k.eq_ignore_ascii_case(sub));
                }
            }
        }
        _ => {}
    }
}

// ---- OpenAPI: documentation-only shapes ----------------------------------------------------

/// A boolean that may also be written as the string `"True"`/`"False"` (any case), as Entra ID
/// sends `active`.
pub(crate) struct LenientBoolDoc;

impl utoipa::PartialSchema for LenientBoolDoc {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{ObjectBuilder, OneOfBuilder, Type};
        OneOfBuilder::new()
            .item(ObjectBuilder::new().schema_type(Type::Boolean))
            .item(
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .pattern(Some("^([Tt][Rr][Uu][Ee]|[Ff][Aa][Ll][Ss][Ee])$")),
            )
            .description(Some(
                "`true`/`false`, also as the string `\"True\"`/`\"False\"` in any case.",
            ))
            .into()
    }
}

impl ToSchema for LenientBoolDoc {}

/// `preferredLanguage` as accepted: a language tag whose primary subtag is en, de, fr or it.
pub(crate) struct LanguageTagDoc;

impl utoipa::PartialSchema for LanguageTagDoc {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{ObjectBuilder, Type};
        ObjectBuilder::new()
            .schema_type(Type::String)
            .pattern(Some("^([Ee][Nn]|[Dd][Ee]|[Ff][Rr]|[Ii][Tt])([-_].*)?$"))
            .description(Some(
                "A language tag whose primary subtag is en, de, fr or it (any case; `de-CH` \
                 is `de`). Answers write the bare subtag.",
            ))
            .examples(["en"])
            .into()
    }
}

impl ToSchema for LanguageTagDoc {}

/// `name` of a SCIM User.
#[derive(ToSchema)]
#[schema(as = ScimName, rename_all = "camelCase")]
#[allow(dead_code)]
pub(crate) struct NameDoc {
    /// Title, given and family name; derived, ignored on input.
    #[schema(nullable = false)]
    formatted: Option<String>,
    #[schema(value_type = Option<crate::dto::values::FreeText>, nullable = false)]
    family_name: Option<String>,
    #[schema(value_type = Option<crate::dto::values::FreeText>, nullable = false)]
    given_name: Option<String>,
    /// The user's title.
    #[schema(value_type = Option<crate::dto::values::FreeText>, nullable = false)]
    honorific_prefix: Option<String>,
}

/// One e-mail address. A user has at most one: of a request's addresses the `primary` one (else
/// the first) is stored; answers show it as `work` and `primary`.
#[derive(ToSchema)]
#[schema(as = ScimEmail)]
#[allow(dead_code)]
pub(crate) struct EmailDoc {
    #[schema(value_type = crate::dto::values::EmailAddress)]
    value: String,
    /// Any type on input; `work` in answers.
    #[schema(nullable = false)]
    r#type: Option<String>,
    #[schema(value_type = Option<LenientBoolDoc>, nullable = false)]
    primary: Option<bool>,
}

/// One phone number: only one of type `mobile` is stored, numbers of other types are ignored.
#[derive(ToSchema)]
#[schema(as = ScimPhoneNumber)]
#[allow(dead_code)]
pub(crate) struct PhoneDoc {
    #[schema(value_type = crate::dto::values::FreeText)]
    value: String,
    /// `mobile` (any case) is stored.
    #[schema(nullable = false)]
    r#type: Option<String>,
}

/// `meta` of a SCIM User.
#[derive(ToSchema)]
#[schema(as = ScimMeta, rename_all = "camelCase")]
#[allow(dead_code)]
pub(crate) struct MetaDoc {
    /// `User`.
    #[schema(nullable = false)]
    resource_type: Option<String>,
    #[schema(nullable = false, format = DateTime)]
    created: Option<String>,
    #[schema(nullable = false, format = DateTime)]
    last_modified: Option<String>,
    /// The user's URL.
    #[schema(nullable = false)]
    location: Option<String>,
    /// `W/"<version>"`, the `ETag` of the user.
    #[schema(nullable = false, example = "W/\"3\"")]
    version: Option<String>,
}

/// A SCIM User (RFC 7643 §4.1) as this service answers it (SPEC §14). Every attribute but
/// `schemas` and `id` may be left out by `attributes`/`excludedAttributes`.
#[derive(ToSchema)]
#[schema(as = ScimUser, rename_all = "camelCase")]
#[allow(dead_code)]
pub(crate) struct UserDoc {
    /// `["urn:ietf:params:scim:schemas:core:2.0:User"]`.
    schemas: Vec<String>,
    /// The user's extId; assigned by the server.
    id: String,
    /// The identity provider's key for the user.
    #[schema(nullable = false)]
    external_id: Option<String>,
    /// The loginId.
    #[schema(nullable = false)]
    user_name: Option<String>,
    #[schema(nullable = false)]
    name: Option<NameDoc>,
    /// `userState` `active`; a disabled or archived user reads as `false`.
    #[schema(nullable = false)]
    active: Option<bool>,
    #[schema(nullable = false)]
    emails: Option<Vec<EmailDoc>>,
    #[schema(nullable = false)]
    phone_numbers: Option<Vec<PhoneDoc>>,
    /// `en`, `de`, `fr` or `it`.
    #[schema(nullable = false)]
    preferred_language: Option<String>,
    #[schema(nullable = false)]
    meta: Option<MetaDoc>,
}

/// A SCIM User as a create (POST) or replace (PUT) sends it. Attributes this service does not
/// store (`displayName`, `addresses`, extensions, …) are ignored; so are `id` and `meta`.
/// In a PUT, a writable attribute left out is removed (an absent `active` keeps the state).
#[derive(ToSchema)]
#[schema(as = ScimUserRequest, rename_all = "camelCase")]
#[allow(dead_code)]
pub(crate) struct UserRequestDoc {
    #[schema(nullable = false)]
    schemas: Option<Vec<String>>,
    /// The loginId; unique within the client (taken: 409 `uniqueness`).
    #[schema(value_type = crate::dto::values::LoginId)]
    user_name: String,
    /// The identity provider's key for the user.
    #[schema(value_type = Option<crate::dto::values::FreeText>)]
    external_id: Option<String>,
    name: Option<NameDoc>,
    /// `false` creates (or makes) the user `disabled`; disabling an archived user keeps it
    /// archived.
    #[schema(value_type = Option<LenientBoolDoc>)]
    active: Option<bool>,
    emails: Option<Vec<EmailDoc>>,
    phone_numbers: Option<Vec<PhoneDoc>>,
    #[schema(value_type = Option<LanguageTagDoc>)]
    preferred_language: Option<String>,
}

/// A page of users (RFC 7644 §3.4.2).
#[derive(ToSchema)]
#[schema(as = ScimUserList, rename_all = "camelCase")]
#[allow(dead_code)]
pub(crate) struct UserListDoc {
    /// `["urn:ietf:params:scim:api:messages:2.0:ListResponse"]`.
    schemas: Vec<String>,
    /// Every match, exactly.
    total_results: u64,
    /// 1-based index of the first resource shown.
    start_index: u64,
    /// How many resources this page shows.
    items_per_page: u64,
    #[schema(rename = "Resources")]
    resources: Vec<UserDoc>,
}

/// One PATCH operation (RFC 7644 §3.5.2).
#[derive(ToSchema)]
#[schema(as = ScimPatchOperation)]
#[allow(dead_code)]
pub(crate) struct PatchOperationDoc {
    /// `add`, `replace` or `remove`, in any case (`Replace`).
    #[schema(pattern = "^([Aa][Dd][Dd]|[Rr][Ee][Pp][Ll][Aa][Cc][Ee]|[Rr][Ee][Mm][Oo][Vv][Ee])$")]
    op: String,
    /// An attribute path, optionally with a value filter: `emails[type eq "work"].value`.
    /// Required by `remove`.
    #[schema(nullable = false)]
    path: Option<String>,
    /// The value (required by `add` and `replace`); without `path`, an object of attributes.
    #[schema(value_type = Option<Object>, nullable = false)]
    value: Option<serde_json::Value>,
}

/// A SCIM PATCH body (RFC 7644 §3.5.2).
#[derive(ToSchema)]
#[schema(as = ScimPatchOp)]
#[allow(dead_code)]
pub(crate) struct PatchOpDoc {
    /// `["urn:ietf:params:scim:api:messages:2.0:PatchOp"]` (not checked).
    #[schema(nullable = false)]
    schemas: Option<Vec<String>>,
    #[schema(rename = "Operations", min_items = 1)]
    operations: Vec<PatchOperationDoc>,
}

/// A SCIM search body (RFC 7644 §3.4.3).
#[derive(ToSchema)]
#[schema(as = ScimSearchRequest, rename_all = "camelCase")]
#[allow(dead_code)]
pub(crate) struct SearchRequestDoc {
    /// `["urn:ietf:params:scim:api:messages:2.0:SearchRequest"]` (not checked).
    #[schema(nullable = false)]
    schemas: Option<Vec<String>>,
    /// A filter (RFC 7644 §3.4.2.2); empty: every user.
    #[schema(nullable = false)]
    filter: Option<String>,
    /// 1-based; default 1 (less than 1 counts as 1).
    #[schema(nullable = false)]
    start_index: Option<i64>,
    /// Page size; default 100, clamped to 0–1000.
    #[schema(nullable = false)]
    count: Option<i64>,
    #[schema(nullable = false)]
    attributes: Option<Vec<String>>,
    #[schema(nullable = false)]
    excluded_attributes: Option<Vec<String>>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn languages() {
        for (tag, code) in [
            ("en", LanguageCode::En),
            ("DE", LanguageCode::De),
            ("de-CH", LanguageCode::De),
            ("fr_CH", LanguageCode::Fr),
            ("it", LanguageCode::It),
        ] {
            assert_eq!(parse_language(tag), Some(code), "{tag}");
        }
        for bad in ["", "es", "english", "e"] {
            assert_eq!(parse_language(bad), None, "{bad}");
        }
    }

    #[test]
    fn desired_reads_what_is_stored_and_ignores_the_rest() {
        let doc = json!({
            "schemas": [USER_SCHEMA],
            "USERNAME": "bjensen",
            "externalId": "701984",
            "name": {"formatted": "x", "familyName": "Jensen", "givenName": "Barbara",
                     "middleName": "Jane", "honorificPrefix": "Ms."},
            "displayName": "Babs Jensen",
            "emails": [{"value": "bjensen@example.com", "type": "work"},
                       {"value": "babs@jensen.org", "type": "home", "primary": "True"}],
            "phoneNumbers": [{"value": "555-555-5555", "type": "work"},
                             {"value": "555-555-4444", "type": "Mobile"}],
            "active": "False",
            "preferredLanguage": "en-US",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"employeeNumber": "1"}
        });
        assert_eq!(
            desired(&doc).unwrap(),
            Desired {
                user_name: Some("bjensen".into()),
                external_id: Some("701984".into()),
                given_name: Some("Barbara".into()),
                family_name: Some("Jensen".into()),
                honorific_prefix: Some("Ms.".into()),
                email: Some("babs@jensen.org".into()),
                mobile: Some("555-555-4444".into()),
                active: Some(false),
                language: Some(LanguageCode::En),
            }
        );
        let first = json!({"emails": [{"type": "home"}, {"value": "a@b.ch"}, {"value": "c@d.ch"}]});
        assert_eq!(desired(&first).unwrap().email.as_deref(), Some("a@b.ch"));
        assert_eq!(desired(&json!({})).unwrap(), Desired::default());
        for (bad, attr) in [
            (json!({"userName": 5}), "userName"),
            (json!({"name": "x"}), "name"),
            (json!({"name": {"givenName": []}}), "name.givenName"),
            (json!({"emails": "a@b.ch"}), "emails"),
            (json!({"emails": [1]}), "emails"),
            (json!({"emails": [{"value": 1}]}), "emails.value"),
            (json!({"active": "yes"}), "active"),
            (json!({"preferredLanguage": "es"}), "preferredLanguage"),
            (json!({"externalId": false}), "externalId"),
        ] {
            assert_eq!(desired(&bad).unwrap_err(), attr, "{bad}");
        }
    }

    fn stored() -> User {
        User {
            id: "u".into(),
            client_id: "c".into(),
            ext_id: idm_domain::ExtId::parse("u1").unwrap(),
            login_id: "bjensen".into(),
            external_id: Some("x1".into()),
            state: UserState::Active,
            language: LanguageCode::De,
            is_technical_user: true,
            name: PersonName {
                title: None,
                first_name: Some("Barbara".into()),
                family_name: Some("Jensen".into()),
            },
            contacts: Contacts {
                email: Some("b@x.ch".into()),
                mobile: None,
            },
            last_login: None,
            last_login_failure: None,
            created: chrono::DateTime::UNIX_EPOCH,
            last_modified: chrono::DateTime::UNIX_EPOCH,
            version: 3,
        }
    }

    #[test]
    fn the_representation_round_trips_to_no_change() {
        let view = UserView {
            user: stored(),
            client_ext_id: idm_domain::ExtId::parse("acme").unwrap(),
        };
        let r = resource(&view);
        assert_eq!(r["meta"]["version"], "W/\"3\"");
        assert_eq!(r["meta"]["location"], "/nevisidm/api/scim/v1/acme/Users/u1");
        assert_eq!(r["name"]["formatted"], "Barbara Jensen");
        assert_eq!(r["preferredLanguage"], "de");
        assert!(r.get("phoneNumbers").is_none());
        let d = desired(&r).unwrap();
        assert!(is_noop(&user_patch(&view.user, &d)), "{d:?}");
    }

    #[test]
    fn patches_change_only_what_differs() {
        let u = stored();
        let d = Desired {
            user_name: Some("bjensen".into()),
            given_name: Some("Babs".into()),
            family_name: Some("Jensen".into()),
            email: Some("b@x.ch".into()),
            active: Some(false),
            ..Desired::default()
        };
        let p = user_patch(&u, &d);
        assert_eq!(p.login_id, Patch::Keep);
        assert_eq!(p.external_id, Patch::Remove);
        assert_eq!(p.user_state, Patch::Set("disabled".into()));
        assert_eq!(
            p.language_code,
            Patch::Set("EN".into()),
            "absent: the default"
        );
        assert_eq!(
            p.name,
            Patch::Set(NamePatch {
                first_name: Patch::Set("Babs".into()),
                ..NamePatch::default()
            })
        );
        assert_eq!(p.contacts, Patch::Keep);
        assert_eq!(p.is_technical_user, Patch::Keep);
        // Deactivating an archived user keeps it archived; an absent `active` keeps the state.
        let mut archived = stored();
        archived.state = UserState::Archived;
        let off = Desired {
            active: Some(false),
            ..d.clone()
        };
        assert_eq!(user_patch(&archived, &off).user_state, Patch::Keep);
        let on = Desired {
            active: Some(true),
            ..d.clone()
        };
        assert_eq!(
            user_patch(&archived, &on).user_state,
            Patch::Set("active".into())
        );
        let unsaid = Desired { active: None, ..d };
        assert_eq!(user_patch(&u, &unsaid).user_state, Patch::Keep);
    }

    #[test]
    fn projection() {
        let r = json!({"schemas": ["s"], "id": "1", "userName": "u",
            "name": {"givenName": "g", "familyName": "f"},
            "emails": [{"value": "a@b.ch", "type": "work"}], "meta": {"version": "W/\"1\""}});
        let p = Projection::from_query(Some("userName,name.givenName,emails.value"), None);
        assert_eq!(
            p.apply(r.clone()),
            json!({"schemas": ["s"], "id": "1", "userName": "u", "name": {"givenName": "g"},
                   "emails": [{"value": "a@b.ch"}]})
        );
        let p = Projection::from_query(Some(&format!("{USER_SCHEMA}:USERNAME")), Some("userName"));
        assert_eq!(p.apply(r.clone()), json!({"schemas": ["s"], "id": "1"}));
        let p = Projection::from_query(None, Some("emails,name.familyName,id,meta"));
        assert_eq!(
            p.apply(r.clone()),
            json!({"schemas": ["s"], "id": "1", "userName": "u", "name": {"givenName": "g"}})
        );
        assert_eq!(Projection::default().apply(r.clone()), r);
        let unknown = Projection::from_query(Some("nickName"), None);
        assert_eq!(unknown.apply(r), json!({"schemas": ["s"], "id": "1"}));
    }
}
