//! SCIM PATCH (RFC 7644 §3.5.2): the operations of a PatchOp body, applied one after another to
//! the user's SCIM representation (a JSON object); `dto::desired` then reads the result and
//! `dto::user_patch` turns the difference into the core merge-PATCH. So the RFC's rules work on
//! the representation and the stored user changes only through the user use case.
//!
//! * `op` is `add`, `replace` or `remove` in any letter case (Entra ID sends `Replace`).
//! * Without `path`, `value` is an object whose members are applied as paths of their own
//!   (`{"active": false}`, also dotted ones such as `{"name.givenName": "Jane"}`).
//! * A path with a value filter (`emails[type eq "work"].value`) changes the values the filter
//!   selects. `add`/`replace` where it selects nothing add a value carrying what the filter
//!   requires (`type` `work`) when the filter is a conjunction of `eq` comparisons; otherwise,
//!   and for `remove`, nothing selected is 400 `noTarget`. `remove` without a path is `noTarget`.
//! * `add` appends to a multi-valued attribute, `replace` replaces it; both merge into a
//!   complex attribute (`name`), leaving sub-attributes not sent unchanged. When several values
//!   of a multi-valued attribute end up `primary`, the last one keeps the mark.
//! * `id` may only be "set" to its own value, `meta` not at all (400 `mutability`); `schemas`
//!   is left as it is. Attributes of other schemas (extensions) are accepted and ignored, as is
//!   every attribute this service does not store.

use serde_json::{Map, Value};

use super::errors::ScimError;
use super::filter::{matches_value, member, parse_path, required_members, PatchPath};

/// An operation's kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum OpKind {
    Add,
    Replace,
    Remove,
}

/// One operation of a PatchOp body.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Operation {
    kind: OpKind,
    path: Option<PatchPath>,
    value: Option<Value>,
}

/// The operations of a PatchOp body: 400 `invalidSyntax` for a body that is not one,
/// `invalidPath` for a path that cannot be parsed, `invalidValue` for an add/replace without a
/// value, `noTarget` for a remove without a path.
pub(crate) fn operations(body: &Value) -> Result<Vec<Operation>, ScimError> {
    if !body.is_object() {
        return Err(ScimError::invalid_syntax(
            "A PATCH body must be a PatchOp object.",
        ));
    }
    let Some(Value::Array(list)) = member(body, "Operations") else {
        return Err(ScimError::invalid_syntax(
            "A PatchOp needs 'Operations', an array of operations.",
        ));
    };
    if list.is_empty() {
        return Err(ScimError::invalid_syntax("'Operations' is empty."));
    }
    list.iter()
        .enumerate()
        .map(|(i, op)| operation(i, op))
        .collect()
}

fn operation(i: usize, op: &Value) -> Result<Operation, ScimError> {
    let kind = match member(op, "op").and_then(Value::as_str) {
        Some(k) if k.eq_ignore_ascii_case("add") => OpKind::Add,
        Some(k) if k.eq_ignore_ascii_case("replace") => OpKind::Replace,
        Some(k) if k.eq_ignore_ascii_case("remove") => OpKind::Remove,
        _ => {
            return Err(ScimError::invalid_syntax(format!(
                "Operations[{i}].op must be 'add', 'replace' or 'remove'."
            )))
        }
    };
    let path = match member(op, "path") {
        None | Some(Value::Null) => None,
        Some(Value::String(p)) => Some(
            parse_path(p)
                .map_err(|why| ScimError::invalid_path(format!("Operations[{i}].path: {why}.")))?,
        ),
        Some(_) => {
            return Err(ScimError::invalid_path(format!(
                "Operations[{i}].path must be a string."
            )))
        }
    };
    let value = member(op, "value").cloned();
    match (kind, &path, &value) {
        (OpKind::Remove, None, _) => Err(ScimError::no_target(format!(
            "Operations[{i}]: a remove needs a path."
        ))),
        (OpKind::Add | OpKind::Replace, _, None) => Err(ScimError::invalid_value(format!(
            "Operations[{i}]: an add or replace needs a value."
        ))),
        (OpKind::Add | OpKind::Replace, None, Some(v)) if !v.is_object() => {
            Err(ScimError::invalid_value(format!(
                "Operations[{i}]: without a path, the value must be an object of attributes."
            )))
        }
        _ => Ok(Operation { kind, path, value }),
    }
}

/// Applies `ops` in order to `doc`, a user's SCIM representation.
pub(crate) fn apply(doc: &mut Value, ops: &[Operation]) -> Result<(), ScimError> {
    for op in ops {
        match (&op.path, &op.value) {
            (Some(path), value) => apply_path(doc, op.kind, path, value.as_ref())?,
            (None, Some(Value::Object(members))) => {
                for (name, value) in members {
                    let path = parse_path(name).map_err(|why| {
                        ScimError::invalid_path(format!("'{}': {why}.", name.escape_default()))
                    })?;
                    apply_path(doc, op.kind, &path, Some(value))?;
                }
            }
            // `operations` admits nothing else.
            (None, _) => return Err(ScimError::no_target("An operation needs a path.")),
        }
    }
    Ok(())
}

/// The key of `name` in `object`: the existing one (any case) or `name` as written.
fn key_of(object: &Map<String, Value>, name: &str) -> String {
    object
        .keys()
        .find(|k| k.eq_ignore_ascii_case(name))
        .cloned()
        .unwrap_or_else(|| name.to_owned())
}

/// The multi-valued attributes of the core User schema (RFC 7643 §4.1.2).
fn is_multi_valued(name: &str) -> bool {
    [
        "emails",
        "phoneNumbers",
        "ims",
        "photos",
        "addresses",
        "groups",
        "entitlements",
        "roles",
        "x509Certificates",
    ]
    .iter()
    .any(|n| n.eq_ignore_ascii_case(name))
}

/// `value` merged into `target` member by member (keys matched ignoring case).
fn merge(target: &mut Map<String, Value>, value: &Map<String, Value>) {
    for (k, v) in value {
        let key = key_of(target, k);
        target.insert(key, v.clone());
    }
}

fn as_values(value: &Value) -> Vec<Value> {
    match value {
        Value::Array(items) => items.clone(),
        Value::Null => Vec::new(),
        other => vec![other.clone()],
    }
}

/// Keeps the `primary` mark on the last value that has it.
fn one_primary(values: &mut [Value]) {
    let is_primary =
        |v: &Value| member(v, "primary").and_then(super::dto::lenient_bool) == Some(true);
    let Some(last) = values.iter().rposition(is_primary) else {
        return;
    };
    for (i, v) in values.iter_mut().enumerate() {
        if i != last && is_primary(v) {
            if let Value::Object(o) = v {
                let key = key_of(o, "primary");
                o.insert(key, Value::Bool(false));
            }
        }
    }
}

fn apply_path(
    doc: &mut Value,
    kind: OpKind,
    path: &PatchPath,
    value: Option<&Value>,
) -> Result<(), ScimError> {
    if !path.attr.is_core() {
        return Ok(());
    }
    let Value::Object(root) = doc else {
        return Err(ScimError::invalid_syntax("The resource is not an object."));
    };
    let name = path.attr.name.as_str();
    let read_only = |what: &str| {
        ScimError::mutability(format!("'{}' is {what}.", path.attr.raw.escape_default()))
    };
    if name.eq_ignore_ascii_case("schemas") {
        return Ok(());
    }
    if name.eq_ignore_ascii_case("meta") {
        return Err(read_only("read-only"));
    }
    if name.eq_ignore_ascii_case("id") {
        let same = kind != OpKind::Remove
            && path.attr.sub.is_none()
            && path.filter.is_none()
            && value
                == root
                    .iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case("id"))
                    .map(|(_, v)| v);
        return if same {
            Ok(())
        } else {
            Err(read_only("assigned by the server and read-only"))
        };
    }
    let key = key_of(root, name);
    let multi = is_multi_valued(name) || root.get(&key).is_some_and(Value::is_array);
    let value = value.cloned().unwrap_or(Value::Null);
    match (&path.filter, &path.attr.sub) {
        (None, None) => {
            match kind {
                OpKind::Remove => {
                    root.remove(&key);
                }
                OpKind::Add if multi => {
                    let mut all = root.get(&key).map(as_values).unwrap_or_default();
                    all.extend(as_values(&value));
                    one_primary(&mut all);
                    root.insert(key, Value::Array(all));
                }
                OpKind::Replace if multi => {
                    let mut all = as_values(&value);
                    one_primary(&mut all);
                    root.insert(key, Value::Array(all));
                }
                OpKind::Add | OpKind::Replace => match (root.get_mut(&key), &value) {
                    (Some(Value::Object(stored)), Value::Object(sent)) => merge(stored, sent),
                    _ => {
                        root.insert(key, value);
                    }
                },
            }
            Ok(())
        }
        (None, Some(sub)) => {
            let set = |o: &mut Map<String, Value>, v: &Value| {
                let k = key_of(o, sub);
                if kind == OpKind::Remove {
                    o.remove(&k);
                } else {
                    o.insert(k, v.clone());
                }
            };
            match root.get_mut(&key) {
                Some(Value::Array(items)) => {
                    if items.is_empty() && kind != OpKind::Remove {
                        items.push(Value::Object(Map::new()));
                    }
                    for item in items.iter_mut() {
                        if let Value::Object(o) = item {
                            set(o, &value);
                        }
                    }
                    one_primary(items);
                }
                Some(Value::Object(o)) => set(o, &value),
                None | Some(Value::Null) => {
                    if kind != OpKind::Remove {
                        let mut o = Map::new();
                        set(&mut o, &value);
                        let v = if multi {
                            Value::Array(vec![Value::Object(o)])
                        } else {
                            Value::Object(o)
                        };
                        root.insert(key, v);
                    }
                }
                Some(_) => {
                    return Err(ScimError::invalid_path(format!(
                        "'{}' has no sub-attributes.",
                        path.attr.name.escape_default()
                    )))
                }
            }
            Ok(())
        }
        (Some(filter), _) => {
            let sub = &path.sub;
            let mut items = match root.get(&key) {
                None | Some(Value::Null) => Vec::new(),
                Some(Value::Array(items)) => items.clone(),
                Some(_) => {
                    return Err(ScimError::invalid_path(format!(
                        "'{}' is not multi-valued; a value filter cannot select from it.",
                        path.attr.name.escape_default()
                    )))
                }
            };
            let selected: Vec<usize> = items
                .iter()
                .enumerate()
                .filter(|(_, v)| matches_value(filter, v))
                .map(|(i, _)| i)
                .collect();
            let no_target = || {
                ScimError::no_target(format!(
                    "The filter of '{}' selects no value.",
                    path.attr.raw.escape_default()
                ))
            };
            match kind {
                OpKind::Remove => {
                    if selected.is_empty() {
                        return Err(no_target());
                    }
                    match sub {
                        Some(sub) => {
                            for &i in &selected {
                                if let Value::Object(o) = &mut items[i] {
                                    let k = key_of(o, sub);
                                    o.remove(&k);
                                }
                            }
                        }
                        None => {
                            let mut i = 0;
                            items.retain(|_| {
                                let keep = !selected.contains(&i);
                                i += 1;
                                keep
                            });
                        }
                    }
                }
                OpKind::Add | OpKind::Replace => {
                    let targets = if selected.is_empty() {
                        // A new value that the filter would select.
                        let required = required_members(filter).ok_or_else(no_target)?;
                        let mut fresh = Map::new();
                        for (k, v) in required {
                            fresh.insert(k, v);
                        }
                        items.push(Value::Object(fresh));
                        vec![items.len() - 1]
                    } else {
                        selected
                    };
                    for i in targets {
                        let Value::Object(o) = &mut items[i] else {
                            continue;
                        };
                        match (sub, &value) {
                            (Some(sub), v) => {
                                let k = key_of(o, sub);
                                o.insert(k, v.clone());
                            }
                            (None, Value::Object(sent)) if kind == OpKind::Add => merge(o, sent),
                            (None, Value::Object(sent)) => {
                                o.clear();
                                merge(o, sent);
                            }
                            (None, _) => {
                                return Err(ScimError::invalid_value(format!(
                                    "A value selected by '{}' must be replaced by an object.",
                                    path.attr.raw.escape_default()
                                )))
                            }
                        }
                    }
                    one_primary(&mut items);
                }
            }
            if items.is_empty() {
                root.remove(&key);
            } else {
                root.insert(key, Value::Array(items));
            }
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    const PATCH_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

    use super::*;

    fn user() -> Value {
        json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "id": "u1",
            "userName": "bjensen",
            "name": {"givenName": "Barbara", "familyName": "Jensen", "formatted": "Barbara Jensen"},
            "active": true,
            "emails": [{"value": "b@x.ch", "type": "work", "primary": true}],
            "meta": {"version": "W/\"1\""}
        })
    }

    fn patched(ops: Value) -> Result<Value, ScimError> {
        let mut doc = user();
        let body = json!({"schemas": [PATCH_SCHEMA], "Operations": ops});
        apply(&mut doc, &operations(&body)?)?;
        Ok(doc)
    }

    fn kind_of(r: Result<Value, ScimError>) -> Option<&'static str> {
        r.expect_err("refused").scim_type()
    }

    #[test]
    fn entra_id_shapes() {
        let d = patched(json!([{"op": "Replace", "path": "active", "value": "False"}])).unwrap();
        assert_eq!(d["active"], "False");
        let d = patched(json!([
            {"op": "Add", "path": "externalId", "value": "0a21f0f2"},
            {"op": "Replace", "path": "emails[type eq \"work\"].value", "value": "n@x.ch"},
            {"op": "Replace", "path": "name.givenName", "value": "Babs"},
            {"op": "Add", "path": "displayName", "value": "ignored later"},
            {"op": "Add", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department", "value": "x"},
        ]))
        .unwrap();
        assert_eq!(d["externalId"], "0a21f0f2");
        assert_eq!(
            d["emails"],
            json!([{"value": "n@x.ch", "type": "work", "primary": true}])
        );
        assert_eq!(d["name"]["givenName"], "Babs");
        assert_eq!(d["name"]["familyName"], "Jensen");
        // Without a path: the members are paths of their own.
        let d = patched(json!([{"op": "replace", "value": {"active": false, "name.familyName": "J", "userName": "b2"}}])).unwrap();
        assert_eq!(
            (
                d["active"].clone(),
                d["name"]["familyName"].clone(),
                d["userName"].clone()
            ),
            (json!(false), json!("J"), json!("b2"))
        );
    }

    #[test]
    fn a_filter_selecting_nothing_adds_what_it_requires_or_is_no_target() {
        let mut doc = json!({"userName": "x"});
        let body = json!({"Operations": [{"op": "replace", "path": "emails[type eq \"work\"].value", "value": "a@b.ch"}]});
        apply(&mut doc, &operations(&body).unwrap()).unwrap();
        assert_eq!(doc["emails"], json!([{"type": "work", "value": "a@b.ch"}]));
        let mobile = json!([{"op": "add", "path": "phoneNumbers[type eq \"mobile\"].value", "value": "+41"}]);
        assert_eq!(
            patched(mobile).unwrap()["phoneNumbers"],
            json!([{"type": "mobile", "value": "+41"}])
        );
        for ops in [
            json!([{"op": "replace", "path": "emails[value co \"nothing\"].value", "value": "a@b.ch"}]),
            json!([{"op": "remove", "path": "emails[type eq \"home\"]"}]),
            json!([{"op": "remove", "path": "phoneNumbers[type eq \"mobile\"].value"}]),
        ] {
            assert_eq!(kind_of(patched(ops)), Some("noTarget"));
        }
    }

    #[test]
    fn add_replace_remove_on_each_kind_of_attribute() {
        let d = patched(json!([{"op": "add", "path": "emails", "value": [{"value": "p@x.ch", "primary": true}]}])).unwrap();
        assert_eq!(
            d["emails"],
            json!([{"value": "b@x.ch", "type": "work", "primary": false}, {"value": "p@x.ch", "primary": true}]),
            "the added primary takes the mark"
        );
        let d =
            patched(json!([{"op": "replace", "path": "emails", "value": {"value": "only@x.ch"}}]))
                .unwrap();
        assert_eq!(d["emails"], json!([{"value": "only@x.ch"}]));
        let d = patched(json!([{"op": "replace", "path": "name", "value": {"givenName": "B"}}]))
            .unwrap();
        assert_eq!(
            d["name"]["familyName"], "Jensen",
            "replace merges into a complex attribute"
        );
        let d = patched(json!([{"op": "remove", "path": "name.familyName"}, {"op": "remove", "path": "emails[type eq \"work\"]"}])).unwrap();
        assert!(d["name"].get("familyName").is_none());
        assert!(
            d.get("emails").is_none(),
            "no value left: the attribute is gone"
        );
        let d =
            patched(json!([{"op": "remove", "path": "emails[type eq \"work\"].value"}])).unwrap();
        assert_eq!(d["emails"], json!([{"type": "work", "primary": true}]));
        let d = patched(json!([{"op": "remove", "path": "EMAILS"}, {"op": "add", "path": "emails.value", "value": "n@x.ch"}])).unwrap();
        assert_eq!(d["emails"], json!([{"value": "n@x.ch"}]));
        let d = patched(json!([{"op": "replace", "path": "emails[type eq \"work\"]", "value": {"value": "r@x.ch", "type": "work"}}])).unwrap();
        assert_eq!(d["emails"], json!([{"value": "r@x.ch", "type": "work"}]));
        let d = patched(json!([{"op": "replace", "path": "id", "value": "u1"}, {"op": "add", "path": "schemas", "value": []}])).unwrap();
        assert_eq!(d["id"], "u1");
    }

    #[test]
    fn refusals() {
        assert_eq!(
            kind_of(patched(
                json!([{"op": "replace", "path": "id", "value": "u2"}])
            )),
            Some("mutability")
        );
        assert_eq!(
            kind_of(patched(json!([{"op": "remove", "path": "meta.version"}]))),
            Some("mutability")
        );
        assert_eq!(
            kind_of(patched(json!([{"op": "replace", "value": {"meta": {}}}]))),
            Some("mutability")
        );
        assert_eq!(
            kind_of(patched(json!([{"op": "remove"}]))),
            Some("noTarget")
        );
        assert_eq!(
            kind_of(patched(json!([{"op": "add", "path": "userName"}]))),
            Some("invalidValue")
        );
        assert_eq!(
            kind_of(patched(json!([{"op": "add", "value": "x"}]))),
            Some("invalidValue")
        );
        assert_eq!(
            kind_of(patched(json!([{"op": "move", "path": "userName"}]))),
            Some("invalidSyntax")
        );
        assert_eq!(
            kind_of(patched(
                json!([{"op": "add", "path": "emails[", "value": 1}])
            )),
            Some("invalidPath")
        );
        assert_eq!(
            kind_of(patched(json!([{"op": "add", "path": 5, "value": 1}]))),
            Some("invalidPath")
        );
        assert_eq!(
            kind_of(patched(json!([{"op": "add", "value": {"a b": 1}}]))),
            Some("invalidPath")
        );
        assert_eq!(
            kind_of(patched(
                json!([{"op": "add", "path": "userName.x", "value": 1}])
            )),
            Some("invalidPath")
        );
        assert_eq!(
            kind_of(patched(
                json!([{"op": "add", "path": "userName[value eq \"x\"]", "value": 1}])
            )),
            Some("invalidPath")
        );
        assert_eq!(kind_of(patched(json!([]))), Some("invalidSyntax"));
        assert!(
            operations(&json!({"schemas": ["urn:x"], "Operations": [{"op": "add", "path": "a", "value": 1}]})).is_ok(),
            "schemas is not checked"
        );
        assert_eq!(
            operations(&json!([1])).unwrap_err().scim_type(),
            Some("invalidSyntax")
        );
        assert!(operations(
            &json!({"operations": [{"OP": "ADD", "PATH": "userName", "VALUE": "x"}]})
        )
        .is_ok());
    }
}
