//! Checks on the common properties and shared structures (STIX 2.1 §3, §2):
//! identifiers, `type` names, `spec_version`, `created`/`modified`, `lang`,
//! external references, kill-chain phases, dictionaries and custom names.

use crate::identifier::Identifier;
use crate::json::{Map, Value};
use crate::types::{self, Category, TypeSpec};

use super::ctx::{Ctx, Path};
use super::props;

/// Checks an identifier string and returns it parsed, reporting why it is not one.
pub fn identifier<'s>(ctx: &mut Ctx<'_>, path: Path<'_>, s: &'s str) -> Option<Identifier<'s>> {
    let parsed = match Identifier::parse(s) {
        Ok(id) => id,
        Err(e) => {
            ctx.error(path, "identifier", format!("{s:?} {e}"));
            return None;
        }
    };
    if !is_valid_type_name(parsed.object_type) {
        ctx.error(
            path,
            "identifier",
            format!(
                "{s:?}: '{}' is not a valid object type name",
                parsed.object_type
            ),
        );
        return None;
    }
    if !(1..=5).contains(&parsed.uuid_version()) {
        ctx.error(
            path,
            "identifier",
            format!(
                "{s:?}: the UUID must be of version 1 to 5 (RFC 4122), not {}",
                parsed.uuid_version()
            ),
        );
        return None;
    }
    Some(parsed)
}

/// Whether a type name follows §2.1's rules: 3 to 250 characters of a–z, 0–9
/// and single hyphens, starting with a letter and not ending with a hyphen.
pub fn is_valid_type_name(name: &str) -> bool {
    let b = name.as_bytes();
    (3..=250).contains(&b.len())
        && b[0].is_ascii_lowercase()
        && b.iter()
            .all(|&c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-')
        && !name.contains("--")
        && !name.ends_with('-')
}

/// Whether a property name follows §11.1: 3 to 250 characters of a–z, 0–9 and `_`.
pub fn is_valid_property_name(name: &str) -> bool {
    (3..=250).contains(&name.len())
        && name
            .bytes()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'_')
}

/// Reports a property that STIX does not define: an error if its name breaks
/// the naming rules, a warning otherwise (custom properties should use extensions).
pub fn custom_property(ctx: &mut Ctx<'_>, path: Path<'_>, name: &str) {
    if !is_valid_property_name(name) {
        ctx.error(path, "property-name", format!("{name:?} is not defined by STIX and is not a valid custom property name (3 to 250 characters of a-z, 0-9, _)"));
    } else {
        ctx.warning(path, "custom-property", format!("custom property '{name}' should be defined by an extension-definition (toplevel-property-extension)"));
    }
}

/// Checks dictionary keys (§2.7): at most 250 ASCII letters, digits, `_` or `-`.
pub fn dictionary_keys(ctx: &mut Ctx<'_>, path: Path<'_>, map: &Map<'_>) {
    if map.is_empty() {
        ctx.error(path, "empty-dictionary", "must have at least one key");
    }
    for (key, value) in map.iter() {
        if key.len() > 250
            || !key
                .bytes()
                .all(|c| c.is_ascii_alphanumeric() || c == b'_' || c == b'-')
        {
            ctx.error(path.prop(key), "dictionary-key", format!("{key:?} is not a valid dictionary key (at most 250 characters of a-z A-Z 0-9 _ -)"));
        }
        if matches!(value, Value::Null) {
            ctx.error(path.prop(key), "json-type", "must not be null");
        } else if matches!(value, Value::Array(a) if a.is_empty()) {
            ctx.error(path.prop(key), "empty-list", "must not be an empty list");
        }
    }
}

/// Checks `kill_chain_phases` (§2.8).
pub fn kill_chain_phases(ctx: &mut Ctx<'_>, path: Path<'_>, value: &Value<'_>) {
    for (i, item) in props::list(ctx, path, value)
        .into_iter()
        .flatten()
        .enumerate()
    {
        let at = path.index(i);
        let Some(phase) = props::object(ctx, at, item) else {
            continue;
        };
        for name in ["kill_chain_name", "phase_name"] {
            match phase.get(name) {
                None => ctx.error(at.prop(name), "required", "is required but missing"),
                Some(v) => {
                    if let Some(s) = props::string(ctx, at.prop(name), v)
                        && !s
                            .bytes()
                            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-')
                    {
                        ctx.warning(at.prop(name), "kill-chain-names", format!("{s:?} should be all lowercase, with hyphens instead of spaces or underscores"));
                    }
                }
            }
        }
    }
}

fn is_cve_id(s: &str) -> bool {
    let Some(rest) = s.strip_prefix("CVE-") else {
        return false;
    };
    let Some((year, number)) = rest.split_once('-') else {
        return false;
    };
    year.len() == 4
        && year.bytes().all(|c| c.is_ascii_digit())
        && number.len() >= 4
        && number.bytes().all(|c| c.is_ascii_digit())
        && (number.len() == 4 || !number.starts_with('0'))
}

fn is_capec_id(s: &str) -> bool {
    s.strip_prefix("CAPEC-")
        .is_some_and(|n| !n.is_empty() && n.bytes().all(|c| c.is_ascii_digit()))
}

/// Checks `external_references` (§2.5): a `source_name`, one of `description`,
/// `url` or `external_id`, and the CVE and CAPEC identifier forms.
pub fn external_references(ctx: &mut Ctx<'_>, path: Path<'_>, value: &Value<'_>) {
    const PROPS: &[types::Prop] = &[
        types::req("source_name", types::PropKind::String),
        types::opt("description", types::PropKind::String),
        types::opt("url", types::PropKind::Url),
        types::opt("hashes", types::PropKind::Hashes),
        types::opt("external_id", types::PropKind::String),
    ];
    for (i, item) in props::list(ctx, path, value)
        .into_iter()
        .flatten()
        .enumerate()
    {
        let at = path.index(i);
        let Some(reference) = props::object(ctx, at, item) else {
            continue;
        };
        props::nested(ctx, at, reference, PROPS);
        let source = reference.get("source_name").and_then(Value::as_str);
        let external_id = reference.get("external_id").and_then(Value::as_str);
        match (source, external_id) {
            (Some("cve"), Some(id)) if !is_cve_id(id) => {
                ctx.error(at.prop("external_id"), "external-reference", format!("{id:?} is not a CVE identifier (CVE-YYYY-NNNN…), which source_name 'cve' requires"));
            }
            (Some("capec"), Some(id)) if !is_capec_id(id) => {
                ctx.error(at.prop("external_id"), "external-reference", format!("{id:?} is not a CAPEC identifier (CAPEC-N), which source_name 'capec' requires"));
            }
            (Some(s @ ("cve" | "capec")), None) => {
                ctx.error(
                    at.prop("external_id"),
                    "external-reference",
                    format!("is required when source_name is '{s}'"),
                );
            }
            (Some(s), Some(id))
                if s != "cve" && s != "capec" && (is_cve_id(id) || is_capec_id(id)) =>
            {
                let expected = if is_cve_id(id) { "cve" } else { "capec" };
                ctx.error(
                    at.prop("source_name"),
                    "external-reference",
                    format!("must be '{expected}' when external_id is {id:?}"),
                );
            }
            _ => {}
        }
        if source.is_some()
            && !["description", "url", "external_id"]
                .iter()
                .any(|k| reference.contains_key(k))
        {
            ctx.error(
                at,
                "external-reference",
                "needs at least one of description, url or external_id besides source_name",
            );
        }
    }
}

/// Checks `lang` (§3.2): an RFC 5646 language tag.
pub fn language_tag(ctx: &mut Ctx<'_>, path: Path<'_>, value: &Value<'_>) {
    let Some(tag) = value.as_str() else { return };
    let valid = !tag.is_empty()
        && tag.split('-').enumerate().all(|(i, sub)| {
            let len_ok = if i == 0 {
                (2..=8).contains(&sub.len())
            } else {
                (1..=8).contains(&sub.len())
            };
            len_ok
                && sub.bytes().all(|c| c.is_ascii_alphanumeric())
                && (i > 0 || sub.bytes().all(|c| c.is_ascii_alphabetic()))
        });
    if !valid {
        ctx.error(
            path,
            "language-tag",
            format!("{tag:?} is not an RFC 5646 language tag (such as 'en', 'fr', 'ar', 'pt-BR')"),
        );
    }
}

/// Checks `type`, `id` and `spec_version`, returning the object's type when usable.
pub fn identity<'v>(
    ctx: &mut Ctx<'_>,
    obj: &'v Map<'_>,
    spec: Option<&TypeSpec>,
) -> Option<&'v str> {
    let root = Path::Root;
    let object_type = match obj.get("type") {
        None => {
            ctx.error(root.prop("type"), "required", "is required but missing");
            None
        }
        Some(v) => props::string(ctx, root.prop("type"), v),
    };
    if let Some(t) = object_type
        && !is_valid_type_name(t)
    {
        ctx.error(root.prop("type"), "type-name", format!("{t:?} is not a valid type name (3 to 250 characters of a-z, 0-9 and single hyphens, starting with a letter)"));
    }
    match obj.get("id") {
        None => ctx.error(root.prop("id"), "required", "is required but missing"),
        Some(v) => {
            if let Some(s) = props::string(ctx, root.prop("id"), v)
                && let Some(id) = identifier(ctx, root.prop("id"), s)
            {
                if let Some(t) = object_type
                    && id.object_type != t
                {
                    ctx.error(
                        root.prop("id"),
                        "id-type",
                        format!(
                            "the id's type '{}' does not match the object's type '{t}'",
                            id.object_type
                        ),
                    );
                }
                if s.bytes().any(|c| c.is_ascii_uppercase()) {
                    ctx.warning(
                        root.prop("id"),
                        "id-case",
                        "the UUID should be written in lowercase",
                    );
                }
                let category = spec.map(|s| s.category);
                let version = id.uuid_version();
                match category {
                    Some(Category::Sco) if version != 4 && version != 5 => {
                        ctx.warning(
                            root.prop("id"),
                            "uuid-version",
                            format!("SCO ids should use UUIDv5 (or v4), not v{version}"),
                        );
                    }
                    Some(Category::Sco) => {}
                    _ if version != 4 => {
                        ctx.warning(
                            root.prop("id"),
                            "uuid-version",
                            format!("ids should use UUIDv4, not v{version}"),
                        );
                    }
                    _ => {}
                }
            }
        }
    }
    let sco = spec.is_some_and(|s| s.category == Category::Sco);
    match obj.get("spec_version") {
        None if !sco => ctx.error(
            root.prop("spec_version"),
            "required",
            "is required but missing (must be \"2.1\")",
        ),
        None => {}
        Some(v) => {
            if let Some(s) = props::string(ctx, root.prop("spec_version"), v)
                && s != "2.1"
            {
                ctx.error(
                    root.prop("spec_version"),
                    "spec-version",
                    format!("{s:?} is not \"2.1\": this validator checks STIX 2.1 content"),
                );
            }
        }
    }
    object_type
}

/// Checks `created`, `modified` and their relation for SDOs, SROs and meta objects.
pub fn created_modified(ctx: &mut Ctx<'_>, obj: &Map<'_>, spec: Option<&TypeSpec>) {
    let root = Path::Root;
    let is_marking = spec.is_some_and(|s| s.name == "marking-definition");
    let mut times = [None, None];
    for (slot, name) in ["created", "modified"].into_iter().enumerate() {
        if is_marking && name == "modified" {
            continue;
        }
        match obj.get(name) {
            None => ctx.error(root.prop(name), "required", "is required but missing"),
            Some(v) => {
                if let Some(t) = props::timestamp(ctx, root.prop(name), v) {
                    if t.fraction_digits < 3 {
                        ctx.error(root.prop(name), "timestamp-precision", format!("{} must be precise to at least the millisecond (three fractional digits)", v.as_str().unwrap_or_default()));
                    }
                    times[slot] = Some(t);
                }
            }
        }
    }
    if let [Some(created), Some(modified)] = times
        && modified < created
    {
        ctx.error(
            root.prop("modified"),
            "modified-before-created",
            "must be later than or equal to created",
        );
    }
}
