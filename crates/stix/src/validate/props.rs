//! Checking one property value against its [`PropKind`].

use crate::json::{Kind, Map, Value};
use crate::timestamp::Timestamp;
use crate::types::{self, Category, Prop, PropKind, Targets};

use super::ctx::{Ctx, Path};
use super::{common, encoding, hashes};

/// The largest integer STIX allows unless a property says otherwise (2^53 − 1).
pub const MAX_INTEGER: i64 = (1 << 53) - 1;

/// Reports a value of the wrong JSON kind; returns `None` so callers can `?` on it.
pub fn wrong_kind<T>(
    ctx: &mut Ctx<'_>,
    path: Path<'_>,
    expected: &str,
    found: &Value<'_>,
) -> Option<T> {
    ctx.error(
        path,
        "json-type",
        format!("must be {expected}, found {}", found.kind()),
    );
    None
}

/// The string, or an error if the value is not one.
pub fn string<'v>(ctx: &mut Ctx<'_>, path: Path<'_>, value: &'v Value<'_>) -> Option<&'v str> {
    match value {
        Value::String(s) => Some(s),
        other => wrong_kind(ctx, path, "a string", other),
    }
}

/// The list, or an error if the value is not a non-empty list.
pub fn list<'v, 'a>(
    ctx: &mut Ctx<'_>,
    path: Path<'_>,
    value: &'v Value<'a>,
) -> Option<&'v [Value<'a>]> {
    match value {
        Value::Array(items) if items.is_empty() => {
            ctx.error(path, "empty-list", "must not be an empty list");
            None
        }
        Value::Array(items) => Some(items),
        other => wrong_kind(ctx, path, "a list", other),
    }
}

/// The object, or an error if the value is not one.
pub fn object<'v, 'a>(
    ctx: &mut Ctx<'_>,
    path: Path<'_>,
    value: &'v Value<'a>,
) -> Option<&'v Map<'a>> {
    match value {
        Value::Object(map) => Some(map),
        other => wrong_kind(ctx, path, "an object", other),
    }
}

/// The timestamp, or an error naming what is wrong with it.
pub fn timestamp(ctx: &mut Ctx<'_>, path: Path<'_>, value: &Value<'_>) -> Option<Timestamp> {
    let s = string(ctx, path, value)?;
    match Timestamp::parse(s) {
        Ok(t) => Some(t),
        Err(e) => {
            ctx.error(path, "timestamp", format!("{s:?} {e}"));
            None
        }
    }
}

/// The integer, or an error if it is not an integer in `min..=max`.
pub fn integer(
    ctx: &mut Ctx<'_>,
    path: Path<'_>,
    value: &Value<'_>,
    min: i64,
    max: i64,
) -> Option<i64> {
    let Value::Number(n) = value else {
        return wrong_kind(ctx, path, "an integer", value);
    };
    // JSON Schema (and so stix2-validator) counts 5.0 as an integer; so do we.
    let as_int = if n.is_integer_literal() {
        n.as_i64()
    } else {
        match n.as_f64() {
            Some(f) if f.fract() != 0.0 => {
                ctx.error(path, "json-type", format!("must be an integer, found {n}"));
                return None;
            }
            Some(f) if f.abs() <= MAX_INTEGER as f64 => Some(f as i64),
            // Too large for a double, or for an exact integer.
            _ => None,
        }
    };
    match as_int {
        Some(i) if (min..=max).contains(&i) => Some(i),
        _ => {
            ctx.error(
                path,
                "integer-range",
                format!("{n} is out of range: must be from {min} to {max}"),
            );
            None
        }
    }
}

/// The number, or an error if it is not a finite number in `min..=max`.
pub fn float(
    ctx: &mut Ctx<'_>,
    path: Path<'_>,
    value: &Value<'_>,
    min: f64,
    max: f64,
) -> Option<f64> {
    let Value::Number(n) = value else {
        return wrong_kind(ctx, path, "a number", value);
    };
    match n.as_f64() {
        Some(f) if f >= min && f <= max => Some(f),
        _ => {
            ctx.error(
                path,
                "number-range",
                format!("{n} is out of range: must be from {min} to {max}"),
            );
            None
        }
    }
}

/// The category bit of a referenced type: known types by their table, others are custom.
fn target_class(object_type: &str) -> u8 {
    types::category_of(object_type).map_or(Targets::CUSTOM, Category::bit)
}

/// Whether an identifier of `object_type` may be referenced where `targets` are allowed.
pub fn allowed_target(object_type: &str, targets: Targets) -> bool {
    targets.types.contains(&object_type) || targets.classes & target_class(object_type) != 0
}

fn describe_targets(targets: Targets) -> String {
    let mut parts: Vec<String> = targets.types.iter().map(|t| format!("'{t}'")).collect();
    for (bit, name) in [
        (Targets::SDO, "an SDO"),
        (Targets::SRO, "an SRO"),
        (Targets::SCO, "an SCO"),
        (Targets::META, "a meta object"),
        (Targets::CUSTOM, "a custom object"),
    ] {
        if targets.classes & bit != 0 {
            parts.push(name.into());
        }
    }
    parts.join(" or ")
}

/// Checks that a value is a well-formed identifier of an allowed type.
pub fn reference<'v>(
    ctx: &mut Ctx<'_>,
    path: Path<'_>,
    value: &'v Value<'_>,
    targets: Targets,
) -> Option<&'v str> {
    let s = string(ctx, path, value)?;
    let id = common::identifier(ctx, path, s)?;
    if !allowed_target(id.object_type, targets) {
        ctx.error(
            path,
            "reference-type",
            format!(
                "refers to a '{}' but must refer to {}",
                id.object_type,
                describe_targets(targets)
            ),
        );
        return None;
    }
    Some(s)
}

/// Checks a value against a property kind.
pub fn check(ctx: &mut Ctx<'_>, path: Path<'_>, kind: PropKind, value: &Value<'_>) {
    match kind {
        PropKind::String => {
            string(ctx, path, value);
        }
        PropKind::Boolean => {
            if value.kind() != Kind::Bool {
                wrong_kind::<()>(ctx, path, "a boolean", value);
            }
        }
        PropKind::Integer { min, max } => {
            integer(ctx, path, value, min, max);
        }
        PropKind::Float { min, max } => {
            float(ctx, path, value, min, max);
        }
        PropKind::Timestamp => {
            timestamp(ctx, path, value);
        }
        PropKind::Binary => {
            if let Some(s) = string(ctx, path, value)
                && !encoding::is_base64(s)
            {
                ctx.error(path, "binary", "must be base64-encoded binary (RFC 4648)");
            }
        }
        PropKind::Hex => {
            if let Some(s) = string(ctx, path, value)
                && !encoding::is_hex(s)
            {
                ctx.error(
                    path,
                    "hex",
                    "must be hexadecimal with an even number of digits",
                );
            }
        }
        PropKind::Url => {
            if let Some(s) = string(ctx, path, value)
                && !encoding::is_uri(s)
            {
                ctx.error(path, "url", format!("{s:?} is not a valid URI (RFC 3986)"));
            }
        }
        PropKind::Ref(targets) => {
            reference(ctx, path, value, targets);
        }
        PropKind::RefList(targets) => {
            for (i, item) in list(ctx, path, value).into_iter().flatten().enumerate() {
                reference(ctx, path.index(i), item, targets);
            }
        }
        PropKind::StringList => {
            for (i, item) in list(ctx, path, value).into_iter().flatten().enumerate() {
                string(ctx, path.index(i), item);
            }
        }
        PropKind::Enum(values) => enumeration(ctx, path, value, values),
        PropKind::EnumList(values) => {
            for (i, item) in list(ctx, path, value).into_iter().flatten().enumerate() {
                enumeration(ctx, path.index(i), item, values);
            }
        }
        PropKind::OpenVocab(values) => open_vocab(ctx, path, value, values),
        PropKind::OpenVocabList(values) => {
            for (i, item) in list(ctx, path, value).into_iter().flatten().enumerate() {
                open_vocab(ctx, path.index(i), item, values);
            }
        }
        PropKind::Hashes => hashes::check(ctx, path, value),
        PropKind::Dictionary => {
            if let Some(map) = object(ctx, path, value) {
                common::dictionary_keys(ctx, path, map);
            }
        }
        PropKind::KillChainPhases => common::kill_chain_phases(ctx, path, value),
        PropKind::ExternalReferences => common::external_references(ctx, path, value),
        PropKind::Object(props) => {
            if let Some(map) = object(ctx, path, value) {
                nested(ctx, path, map, props);
            }
        }
        PropKind::ObjectList(props) => {
            for (i, item) in list(ctx, path, value).into_iter().flatten().enumerate() {
                let at = path.index(i);
                if let Some(map) = object(ctx, at, item) {
                    nested(ctx, at, map, props);
                }
            }
        }
        PropKind::IntegerList { min, max } => {
            for (i, item) in list(ctx, path, value).into_iter().flatten().enumerate() {
                integer(ctx, path.index(i), item, min, max);
            }
        }
        PropKind::Any => {}
    }
}

/// Checks the properties of a nested structure; unknown keys are reported as custom.
pub fn nested(ctx: &mut Ctx<'_>, path: Path<'_>, map: &Map<'_>, props: &[Prop]) {
    check_properties(ctx, path, map, props);
    for (key, _) in map.iter() {
        if !props.iter().any(|p| p.name == key) {
            common::custom_property(ctx, path.prop(key), key);
        }
    }
}

/// Checks that required properties are present and that present ones have the right kind.
pub fn check_properties(ctx: &mut Ctx<'_>, path: Path<'_>, map: &Map<'_>, props: &[Prop]) {
    for prop in props {
        match map.get(prop.name) {
            Some(value) => check(ctx, path.prop(prop.name), prop.kind, value),
            None if prop.required => {
                ctx.error(path.prop(prop.name), "required", "is required but missing");
            }
            None => {}
        }
    }
}

fn enumeration(ctx: &mut Ctx<'_>, path: Path<'_>, value: &Value<'_>, values: &[&str]) {
    if let Some(s) = string(ctx, path, value)
        && !values.contains(&s)
    {
        ctx.error(
            path,
            "enumeration",
            format!("{s:?} is not one of: {}", values.join(", ")),
        );
    }
}

fn open_vocab(ctx: &mut Ctx<'_>, path: Path<'_>, value: &Value<'_>, values: &[&str]) {
    if let Some(s) = string(ctx, path, value)
        && !values.contains(&s)
    {
        ctx.warning(
            path,
            "open-vocabulary",
            format!(
                "{s:?} is not in the suggested vocabulary ({})",
                values.join(", ")
            ),
        );
    }
}
