//! The `extensions` property (STIX 2.1 §7.3): extensions defined by an
//! extension-definition, the predefined SCO extensions (§6), and the
//! deprecated custom `-ext` extensions (§11.3).

use crate::json::{Map, Value};
use crate::types::TypeSpec;

use super::common;
use super::ctx::{Ctx, Path};
use super::{encoding, props};

/// The values `extension_type` may take (§7.3.1).
pub const EXTENSION_TYPES: &[&str] = &[
    "new-sdo",
    "new-sco",
    "new-sro",
    "property-extension",
    "toplevel-property-extension",
];

const DEFINITION_PREFIX: &str = "extension-definition--";

/// Whether the object has an extension of the given `extension_type`.
pub fn has_extension_type(obj: &Map<'_>, extension_type: &str) -> bool {
    obj.get("extensions")
        .and_then(Value::as_object)
        .is_some_and(|exts| {
            exts.iter().any(|(_, ext)| {
                ext.get("extension_type").and_then(Value::as_str) == Some(extension_type)
            })
        })
}

/// Whether `name` has the form the STIX schemas give extension names:
/// lowercase words of letters and digits joined by hyphens, ending in `-ext`.
pub fn is_extension_name(name: &str) -> bool {
    let Some(stem) = name.strip_suffix("-ext") else {
        return false;
    };
    !stem.is_empty()
        && stem.as_bytes()[0].is_ascii_lowercase()
        && stem.split('-').all(|w| {
            !w.is_empty()
                && w.bytes()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        })
}

/// Checks the `extensions` dictionary of an object of this spec.
pub fn check(ctx: &mut Ctx<'_>, path: Path<'_>, value: &Value<'_>, spec: Option<&TypeSpec>) {
    let Some(extensions) = props::object(ctx, path, value) else {
        return;
    };
    if extensions.is_empty() {
        ctx.error(path, "empty-dictionary", "must have at least one key");
        return;
    }
    let is_marking = spec.is_some_and(|s| s.name == "marking-definition");
    let known_type = spec.filter(|s| !s.name.is_empty());
    for (key, ext) in extensions.iter() {
        let at = path.prop(key);
        if key.starts_with(DEFINITION_PREFIX) {
            if common::identifier(ctx, at, key).is_some() {
                defined_extension(ctx, at, ext, known_type);
            }
        } else if is_marking {
            ctx.error(at, "extension-name", format!("{key:?} is not an extension-definition id (extension-definition--<UUID>): marking-definition extensions must be defined by an extension-definition"));
        } else if let Some(predefined) = spec.and_then(|s| s.extension(key)) {
            if let Some(map) = extension_object(ctx, at, ext) {
                props::nested(ctx, at, map, predefined.properties);
                // Names of undefined properties were reported by `nested`; their values follow
                // the same rules as in any other extension.
                for (name, v) in map.iter() {
                    if !predefined.properties.iter().any(|p| p.name == name) {
                        property_value(ctx, at.prop(name), name, v);
                    }
                }
                if let Some(rules) = predefined.rules {
                    rules(ctx, map);
                }
            }
        } else if is_extension_name(key) {
            ctx.warning(at, "custom-extension", format!("custom extension {key:?} should be defined by an extension-definition (property-extension)"));
            if let Some(map) = extension_object(ctx, at, ext) {
                for (name, v) in map.iter() {
                    extension_property(ctx, at.prop(name), name, v);
                }
            }
        } else {
            ctx.error(at, "extension-name", format!("{key:?} is neither an extension-definition id (extension-definition--<UUID>) nor an extension name ending in '-ext'"));
        }
    }
}

/// The extension's value as a non-empty object, or an error.
fn extension_object<'v, 'a>(
    ctx: &mut Ctx<'_>,
    path: Path<'_>,
    value: &'v Value<'a>,
) -> Option<&'v Map<'a>> {
    let map = props::object(ctx, path, value)?;
    if map.is_empty() {
        ctx.error(
            path,
            "empty-extension",
            "an extension must have at least one property",
        );
        return None;
    }
    Some(map)
}

/// An extension keyed by an extension-definition id: an `extension_type` and
/// the extension's own properties, which follow the custom-property rules.
fn defined_extension(
    ctx: &mut Ctx<'_>,
    path: Path<'_>,
    value: &Value<'_>,
    known_type: Option<&TypeSpec>,
) {
    let Some(map) = props::object(ctx, path, value) else {
        return;
    };
    match map.get("extension_type") {
        None => ctx.error(
            path.prop("extension_type"),
            "required",
            format!(
                "is required but missing (one of: {})",
                EXTENSION_TYPES.join(", ")
            ),
        ),
        Some(v) => {
            let at = path.prop("extension_type");
            if let Some(t) = props::string(ctx, at, v) {
                if !EXTENSION_TYPES.contains(&t) {
                    ctx.error(
                        at,
                        "enumeration",
                        format!("{t:?} is not one of: {}", EXTENSION_TYPES.join(", ")),
                    );
                } else if let Some(spec) = known_type
                    && t.starts_with("new-")
                    && crate::types::lookup(spec.name).is_some()
                {
                    ctx.warning(at, "extension-type", format!("{t:?} extensions define new object types, but '{}' is a STIX type: extending it takes a property-extension or toplevel-property-extension", spec.name));
                }
            }
        }
    }
    for (name, v) in map.iter() {
        if name != "extension_type" {
            extension_property(ctx, path.prop(name), name, v);
        }
    }
}

/// A property of an extension-definition or custom extension: a valid
/// property name and a value the schemas' `properties.json` allows.
fn extension_property(ctx: &mut Ctx<'_>, path: Path<'_>, name: &str, value: &Value<'_>) {
    if !common::is_valid_property_name(name) {
        ctx.error(
            path,
            "property-name",
            format!("{name:?} is not a valid property name (3 to 250 characters of a-z, 0-9, _)"),
        );
    }
    property_value(ctx, path, name, value);
}

/// No nulls, no empty lists, and `_bin`/`_hex` names hold what they say.
fn property_value(ctx: &mut Ctx<'_>, path: Path<'_>, name: &str, value: &Value<'_>) {
    match value {
        Value::Null => ctx.error(path, "json-type", "must not be null"),
        Value::Array(items) if items.is_empty() => {
            ctx.error(path, "empty-list", "must not be an empty list");
        }
        Value::String(s) if name.ends_with("_bin") && !encoding::is_base64(s) => {
            ctx.error(
                path,
                "binary",
                "must be base64-encoded binary (RFC 4648), as its _bin suffix says",
            );
        }
        Value::String(s) if name.ends_with("_hex") && !encoding::is_hex(s) => {
            ctx.error(
                path,
                "hex",
                "must be hexadecimal with an even number of digits, as its _hex suffix says",
            );
        }
        Value::String(_) | Value::Array(_) => {}
        other if name.ends_with("_bin") || name.ends_with("_hex") => {
            props::wrong_kind::<()>(ctx, path, "a string", other);
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostic::{Diagnostic, Severity};
    use crate::json;
    use crate::types::{Category, ExtensionSpec, Prop, PropKind, opt};

    const EXT: &str = "extension-definition--d83fce45-ef58-4c6c-a3f4-1fbc32e98c6e";

    const NTFS_PROPS: &[Prop] = &[
        opt("sid", PropKind::String),
        opt("alternate_data_streams", PropKind::Any),
    ];

    fn ntfs_rules(ctx: &mut Ctx<'_>, ext: &Map<'_>) {
        if !ext.contains_key("sid") && !ext.contains_key("alternate_data_streams") {
            ctx.error(
                "extensions.ntfs-ext",
                "test-rule",
                "needs sid or alternate_data_streams",
            );
        }
    }

    const FILE: TypeSpec = TypeSpec {
        name: "file",
        category: Category::Sco,
        properties: &[],
        id_contributing: &[],
        extensions: &[ExtensionSpec {
            name: "ntfs-ext",
            properties: NTFS_PROPS,
            rules: Some(ntfs_rules),
        }],
        rules: None,
    };
    const MARKING: TypeSpec = TypeSpec {
        name: "marking-definition",
        category: Category::Meta,
        properties: &[],
        id_contributing: &[],
        extensions: &[],
        rules: None,
    };
    const CUSTOM: TypeSpec = TypeSpec {
        name: "",
        category: Category::Sdo,
        properties: &[],
        id_contributing: &[],
        extensions: &[],
        rules: None,
    };

    fn run(spec: &TypeSpec, extensions: &str) -> Vec<Diagnostic> {
        let v = json::parse(extensions.as_bytes()).unwrap();
        let mut out = Vec::new();
        let mut ctx = Ctx::new(None, &mut out);
        let root = Path::Root;
        check(&mut ctx, root.prop("extensions"), &v, Some(spec));
        out
    }

    fn found(diags: &[Diagnostic]) -> Vec<(Severity, &str, &str, &str)> {
        diags
            .iter()
            .map(|d| (d.severity, d.property.as_str(), d.rule, d.message.as_str()))
            .collect()
    }

    #[test]
    fn extension_names() {
        for ok in ["ntfs-ext", "x-acme-thing-ext", "foo-ext", "a1-b2-ext"] {
            assert!(is_extension_name(ok), "{ok}");
        }
        for bad in [
            "-ext",
            "ext",
            "foo",
            "Foo-ext",
            "foo--bar-ext",
            "foo_bar-ext",
            "1foo-ext",
            "foo-ext-",
        ] {
            assert!(!is_extension_name(bad), "{bad}");
        }
    }

    #[test]
    fn defined_extensions_pass() {
        let d = run(
            &CUSTOM,
            &format!(
                r#"{{"{EXT}": {{"extension_type": "property-extension", "rank": 5, "data_bin": "aGVsbG8=", "data_hex": "00ff"}}}}"#
            ),
        );
        assert!(d.is_empty(), "{d:?}");
        let d = run(
            &MARKING,
            &format!(
                r#"{{"{EXT}": {{"extension_type": "property-extension", "tlp_2_0": "red"}}}}"#
            ),
        );
        assert!(d.is_empty(), "{d:?}");
    }

    #[test]
    fn the_dictionary_itself() {
        assert_eq!(
            found(&run(&CUSTOM, "{}")),
            [(
                Severity::Error,
                "extensions",
                "empty-dictionary",
                "must have at least one key"
            )]
        );
        assert_eq!(run(&CUSTOM, "[1]")[0].rule, "json-type");
        assert_eq!(
            found(&run(&CUSTOM, r#"{"foo": {"abc": 1}}"#)),
            [(
                Severity::Error,
                "extensions.foo",
                "extension-name",
                "\"foo\" is neither an extension-definition id (extension-definition--<UUID>) nor an extension name ending in '-ext'"
            )]
        );
        let d = run(
            &CUSTOM,
            r#"{"extension-definition--d83fce45-ef58-0c6c-a3f4-1fbc32e98c6e": {"extension_type": "new-sdo"}}"#,
        );
        assert_eq!(d.len(), 1);
        assert_eq!(
            (d[0].property.as_str(), d[0].rule),
            (
                "extensions.extension-definition--d83fce45-ef58-0c6c-a3f4-1fbc32e98c6e",
                "identifier"
            )
        );
    }

    #[test]
    fn extension_type_is_required_and_enumerated() {
        assert_eq!(
            found(&run(&CUSTOM, &format!(r#"{{"{EXT}": {{"rank": 5}}}}"#))),
            [(
                Severity::Error,
                "extensions.extension-definition--d83fce45-ef58-4c6c-a3f4-1fbc32e98c6e.extension_type",
                "required",
                "is required but missing (one of: new-sdo, new-sco, new-sro, property-extension, toplevel-property-extension)"
            )]
        );
        assert_eq!(
            run(
                &CUSTOM,
                &format!(r#"{{"{EXT}": {{"extension_type": "foo"}}}}"#)
            )[0]
            .rule,
            "enumeration"
        );
        assert_eq!(
            run(&CUSTOM, &format!(r#"{{"{EXT}": {{"extension_type": 5}}}}"#))[0].rule,
            "json-type"
        );
        assert_eq!(
            run(&CUSTOM, &format!(r#"{{"{EXT}": "x"}}"#))[0].rule,
            "json-type"
        );
    }

    #[test]
    fn new_object_extensions_on_stix_types_are_suspicious() {
        let indicator = crate::types::lookup("indicator").copied();
        if let Some(indicator) = indicator {
            let d = run(
                &indicator,
                &format!(r#"{{"{EXT}": {{"extension_type": "new-sdo"}}}}"#),
            );
            assert_eq!(found(&d)[0].2, "extension-type");
        }
        assert!(
            run(
                &CUSTOM,
                &format!(r#"{{"{EXT}": {{"extension_type": "new-sdo"}}}}"#)
            )
            .is_empty()
        );
    }

    #[test]
    fn extension_properties_follow_the_custom_property_rules() {
        let d = run(
            &CUSTOM,
            &format!(
                r#"{{"{EXT}": {{"extension_type": "property-extension", "AB": 1, "abc": null, "lst": [], "data_bin": "!!", "data_hex": "abc", "raw_hex": 5}}}}"#
            ),
        );
        let p = "extensions.extension-definition--d83fce45-ef58-4c6c-a3f4-1fbc32e98c6e";
        assert_eq!(
            found(&d),
            [
                (
                    Severity::Error,
                    format!("{p}.AB").as_str(),
                    "property-name",
                    "\"AB\" is not a valid property name (3 to 250 characters of a-z, 0-9, _)"
                ),
                (
                    Severity::Error,
                    format!("{p}.abc").as_str(),
                    "json-type",
                    "must not be null"
                ),
                (
                    Severity::Error,
                    format!("{p}.lst").as_str(),
                    "empty-list",
                    "must not be an empty list"
                ),
                (
                    Severity::Error,
                    format!("{p}.data_bin").as_str(),
                    "binary",
                    "must be base64-encoded binary (RFC 4648), as its _bin suffix says"
                ),
                (
                    Severity::Error,
                    format!("{p}.data_hex").as_str(),
                    "hex",
                    "must be hexadecimal with an even number of digits, as its _hex suffix says"
                ),
                (
                    Severity::Error,
                    format!("{p}.raw_hex").as_str(),
                    "json-type",
                    "must be a string, found a number"
                ),
            ]
        );
    }

    #[test]
    fn custom_extensions_warn() {
        let d = run(&CUSTOM, r#"{"x-acme-ext": {"abc": 1}}"#);
        assert_eq!(
            found(&d),
            [(
                Severity::Warning,
                "extensions.x-acme-ext",
                "custom-extension",
                "custom extension \"x-acme-ext\" should be defined by an extension-definition (property-extension)"
            )]
        );
        let d = run(&CUSTOM, r#"{"x-acme-ext": {}}"#);
        assert_eq!(
            found(&d)[1],
            (
                Severity::Error,
                "extensions.x-acme-ext",
                "empty-extension",
                "an extension must have at least one property"
            )
        );
        let d = run(&FILE, r#"{"windows-process-ext": {"aslr_enabled": true}}"#);
        assert_eq!(found(&d)[0].2, "custom-extension");
    }

    #[test]
    fn predefined_extensions_use_their_spec() {
        assert!(run(&FILE, r#"{"ntfs-ext": {"sid": "S-1-5"}}"#).is_empty());
        let d = run(&FILE, r#"{"ntfs-ext": {"sid": 1}}"#);
        assert_eq!(
            found(&d),
            [(
                Severity::Error,
                "extensions.ntfs-ext.sid",
                "json-type",
                "must be a string, found a number"
            )]
        );
        let d = run(&FILE, r#"{"ntfs-ext": {"x_acme_note": "a", "AB": "b"}}"#);
        let rules: Vec<_> = found(&d).into_iter().map(|f| (f.0, f.1, f.2)).collect();
        assert_eq!(
            rules,
            [
                (
                    Severity::Warning,
                    "extensions.ntfs-ext.x_acme_note",
                    "custom-property"
                ),
                (Severity::Error, "extensions.ntfs-ext.AB", "property-name"),
                (Severity::Error, "extensions.ntfs-ext", "test-rule"),
            ]
        );
        assert_eq!(
            found(&run(&FILE, r#"{"ntfs-ext": {}}"#))[0].2,
            "empty-extension"
        );
    }

    #[test]
    fn marking_definitions_only_take_defined_extensions() {
        let d = run(&MARKING, r#"{"x-acme-ext": {"abc": 1}}"#);
        assert_eq!(
            found(&d),
            [(
                Severity::Error,
                "extensions.x-acme-ext",
                "extension-name",
                "\"x-acme-ext\" is not an extension-definition id (extension-definition--<UUID>): marking-definition extensions must be defined by an extension-definition"
            )]
        );
    }
}
