//! The STIX 2.1 meta objects (§7): language-content, marking-definition
//! (statement and the four predefined TLP 1.0 markings) and extension-definition.

use crate::json::{Map, Value};
use crate::validate::{Ctx, Path, check};
use crate::{canonical, markings};

use super::sdo::common_rules;
use super::spec::{Category, PropKind, Targets, TypeSpec, opt, req};
use super::vocab;

/// Every meta type.
pub static TYPES: &[TypeSpec] = &[
    TypeSpec {
        name: "language-content",
        category: Category::Meta,
        properties: &[
            // §7.1: any STIX object except another language-content.
            req(
                "object_ref",
                PropKind::Ref(Targets {
                    types: &["marking-definition", "extension-definition"],
                    classes: Targets::SDO | Targets::SRO | Targets::SCO | Targets::CUSTOM,
                }),
            ),
            opt("object_modified", PropKind::Timestamp),
            req("contents", PropKind::Any),
        ],
        id_contributing: &[],
        extensions: &[],
        rules: Some(language_content_rules),
    },
    TypeSpec {
        name: "marking-definition",
        category: Category::Meta,
        properties: &[
            opt("name", PropKind::String),
            opt("definition_type", PropKind::String),
            opt("definition", PropKind::Any),
        ],
        id_contributing: &[],
        extensions: &[],
        rules: Some(marking_definition_rules),
    },
    TypeSpec {
        name: "extension-definition",
        category: Category::Meta,
        properties: &[
            req("name", PropKind::String),
            opt("description", PropKind::String),
            req("schema", PropKind::String),
            req("version", PropKind::String),
            req("extension_types", PropKind::EnumList(vocab::EXTENSION_TYPE)),
            opt("extension_properties", PropKind::StringList),
        ],
        id_contributing: &[],
        extensions: &[],
        rules: Some(extension_definition_rules),
    },
];

fn language_content_rules(ctx: &mut Ctx<'_>, obj: &Map<'_>) {
    common_rules(ctx, obj);
    let root = Path::Root;
    let path = root.prop("contents");
    let Some(value) = obj.get("contents") else {
        return;
    };
    let Some(contents) = check::object(ctx, path, value) else {
        return;
    };
    if contents.is_empty() {
        ctx.error(path, "empty-dictionary", "must have at least one language");
    }
    for (tag, translations) in contents.iter() {
        let at = path.prop(tag);
        check::language_tag(ctx, at, &Value::from(tag));
        let Some(translations) = check::object(ctx, at, translations) else {
            continue;
        };
        if translations.is_empty() {
            ctx.error(at, "empty-dictionary", "must have at least one property");
        }
        for (property, _) in translations.iter() {
            if !crate::validate::is_valid_property_name(property) {
                ctx.error(
                    at.prop(property),
                    "property-name",
                    format!("{property:?} is not a valid property name (3 to 250 characters of a-z, 0-9, _)"),
                );
            }
        }
    }
}

fn marking_definition_rules(ctx: &mut Ctx<'_>, obj: &Map<'_>) {
    standard_tlp_marking(ctx, obj);
    let root = Path::Root;
    let has_extensions = obj.contains_key("extensions");
    if !has_extensions {
        for name in ["definition_type", "definition"] {
            if !obj.contains_key(name) {
                ctx.error(
                    root.prop(name),
                    "required",
                    "is required when extensions is absent",
                );
            }
        }
    }
    let definition = match obj.get("definition") {
        Some(v) => check::object(ctx, root.prop("definition"), v),
        None => None,
    };
    match obj.get("definition_type").and_then(Value::as_str) {
        Some("statement") => {
            if has_extensions && !obj.contains_key("definition") {
                ctx.error(
                    root.prop("definition"),
                    "required",
                    "is required when definition_type is \"statement\"",
                );
            }
            if let Some(definition) = definition {
                let path = root.prop("definition");
                match definition.get("statement") {
                    None => ctx.error(
                        path.prop("statement"),
                        "required",
                        "is required when definition_type is \"statement\"",
                    ),
                    Some(v) => {
                        check::string(ctx, path.prop("statement"), v);
                    }
                }
            }
        }
        Some("tlp") => {}
        Some(other) if !has_extensions => ctx.warning(
            root.prop("definition_type"),
            "marking-definition-type",
            format!("{other:?} is not a predefined marking type (statement, tlp): custom markings should be defined with an extension"),
        ),
        _ => {}
    }
}

/// The standard TLP marking definitions (the four of TLP 1.0, §7.2.1.4, and
/// the five of TLP 2.0) must appear exactly as published, and no other
/// marking definition may claim to be a TLP one.
fn standard_tlp_marking(ctx: &mut Ctx<'_>, obj: &Map<'_>) {
    let root = Path::Root;
    let id = obj.get("id").and_then(Value::as_str).unwrap_or_default();
    let claims_tlp = obj.get("definition_type").and_then(Value::as_str) == Some("tlp")
        || obj
            .get("extensions")
            .and_then(|e| e.get(markings::TLP_2_0_EXTENSION_ID))
            .is_some();
    let Some(standard) = markings::standard_marking(id) else {
        if claims_tlp {
            ctx.error(
                root.prop("id"),
                "tlp-marking",
                "is not the id of a standard TLP marking definition (TLP 1.0 §7.2.1.4, or TLP 2.0): TLP markings must use the standard objects",
            );
        }
        return;
    };
    let expected = standard.to_value();
    let Some(expected) = expected.as_object() else {
        return;
    };
    for (key, want) in expected.iter() {
        // Compared in canonical form, so that key order inside does not matter.
        let same = obj.get(key).is_some_and(|have| {
            matches!((canonical::to_canonical_vec(have), canonical::to_canonical_vec(want)), (Ok(a), Ok(b)) if a == b)
        });
        if !same {
            ctx.error(
                root.prop(key),
                "tlp-marking",
                format!(
                    "must be {want} in the standard {} marking definition",
                    standard.name
                ),
            );
        }
    }
    for key in obj.keys() {
        if !expected.contains_key(key) {
            ctx.error(
                root.prop(key),
                "tlp-marking",
                format!(
                    "must not be present in the standard {} marking definition",
                    standard.name
                ),
            );
        }
    }
}

fn extension_definition_rules(ctx: &mut Ctx<'_>, obj: &Map<'_>) {
    common_rules(ctx, obj);
    let root = Path::Root;
    if !obj.contains_key("created_by_ref") {
        ctx.error(
            root.prop("created_by_ref"),
            "required",
            "is required but missing (§7.3: an extension definition names its creator)",
        );
    }
    if !obj.contains_key("description") {
        ctx.warning(
            root.prop("description"),
            "extension-description",
            "should be present to say what the extension is for",
        );
    }
    let toplevel = obj
        .get("extension_types")
        .and_then(Value::as_array)
        .unwrap_or_default()
        .iter()
        .any(|t| t.as_str() == Some("toplevel-property-extension"));
    match (toplevel, obj.contains_key("extension_properties")) {
        (false, true) => ctx.error(
            root.prop("extension_properties"),
            "extension-properties",
            "must only be used when extension_types includes \"toplevel-property-extension\"",
        ),
        (true, false) => ctx.warning(
            root.prop("extension_properties"),
            "extension-properties",
            "should list the properties a toplevel-property-extension adds",
        ),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use crate::json;
    use crate::{Diagnostic, Severity, validate_object};

    fn run(text: &str) -> Vec<Diagnostic> {
        validate_object(&json::parse(text.as_bytes()).unwrap())
    }

    fn sorted<T: Ord>(mut items: Vec<T>) -> Vec<T> {
        items.sort();
        items
    }

    fn summary(found: &[Diagnostic]) -> Vec<(Severity, &str, &str)> {
        let found = found
            .iter()
            .map(|d| (d.severity, d.property.as_str(), d.rule))
            .collect::<Vec<_>>();
        sorted(found)
    }

    const TLP_GREEN: &str = r#"{"type": "marking-definition", "spec_version": "2.1", "id": "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da", "created": "2017-01-20T00:00:00.000Z", "definition_type": "tlp", "name": "TLP:GREEN", "definition": {"tlp": "green"}}"#;

    #[test]
    fn predefined_tlp_markings_are_valid() {
        assert!(run(TLP_GREEN).is_empty(), "{:#?}", run(TLP_GREEN));
    }

    #[test]
    fn altered_tlp_markings_are_errors() {
        let wrong_colour = TLP_GREEN.replace(r#""tlp": "green""#, r#""tlp": "red""#);
        assert_eq!(
            summary(&run(&wrong_colour)),
            sorted(vec![(Severity::Error, "definition", "tlp-marking")])
        );
        let new_id = TLP_GREEN.replace("34098fce", "44098fce");
        assert_eq!(
            summary(&run(&new_id)),
            sorted(vec![(Severity::Error, "id", "tlp-marking")])
        );
        let extra = TLP_GREEN.replace(
            r#""name""#,
            r#""created_by_ref": "identity--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f", "name""#,
        );
        assert_eq!(
            summary(&run(&extra)),
            sorted(vec![(Severity::Error, "created_by_ref", "tlp-marking")])
        );
    }

    #[test]
    fn statement_markings() {
        let base = r#"{"type": "marking-definition", "spec_version": "2.1", "id": "marking-definition--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f", "created": "2017-01-20T00:00:00.000Z""#;
        let ok = format!(
            r#"{base}, "definition_type": "statement", "definition": {{"statement": "Copyright 2017"}}}}"#
        );
        assert!(run(&ok).is_empty(), "{:#?}", run(&ok));
        let no_statement =
            format!(r#"{base}, "definition_type": "statement", "definition": {{"text": "x"}}}}"#);
        assert_eq!(
            summary(&run(&no_statement)),
            sorted(vec![(Severity::Error, "definition.statement", "required")])
        );
        let statement_extension = format!(
            r#"{base}, "definition_type": "statement", "extensions": {{"extension-definition--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f": {{"extension_type": "property-extension", "level": 1}}}}}}"#
        );
        assert_eq!(
            summary(&run(&statement_extension)),
            sorted(vec![(Severity::Error, "definition", "required")])
        );
        let bare = format!("{base}}}");
        assert_eq!(
            summary(&run(&bare)),
            sorted(vec![
                (Severity::Error, "definition_type", "required"),
                (Severity::Error, "definition", "required")
            ])
        );
        let circular = format!(
            r#"{base}, "definition_type": "statement", "definition": {{"statement": "x"}}, "object_marking_refs": ["marking-definition--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"]}}"#
        );
        assert_eq!(
            summary(&run(&circular)),
            sorted(vec![(
                Severity::Error,
                "object_marking_refs[0]",
                "circular-marking"
            )])
        );
    }

    const HEAD: &str = r#""spec_version": "2.1", "created": "2020-01-01T00:00:00.000Z", "modified": "2020-01-01T00:00:00.000Z""#;

    #[test]
    fn language_content() {
        let text = format!(
            r#"{{"type": "language-content", "id": "language-content--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f", {HEAD}, "object_ref": "campaign--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f", "contents": {{"de": {{"name": "Bank Angriff"}}, "d e": {{"Name": "x"}}}}}}"#
        );
        assert_eq!(
            summary(&run(&text)),
            sorted(vec![
                (Severity::Error, "contents.d e", "language-tag"),
                (Severity::Error, "contents.d e.Name", "property-name")
            ])
        );
        let self_ref = text.replace(
            r#""object_ref": "campaign"#,
            r#""object_ref": "language-content"#,
        );
        assert!(summary(&run(&self_ref)).contains(&(
            Severity::Error,
            "object_ref",
            "reference-type"
        )));
    }

    #[test]
    fn extension_definition() {
        let base = format!(
            r#"{{"type": "extension-definition", "id": "extension-definition--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f", {HEAD}, "name": "x", "description": "y", "schema": "https://example.com/s.json", "version": "1.0.0""#
        );
        let ok = format!(
            r#"{base}, "created_by_ref": "identity--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f", "extension_types": ["property-extension"]}}"#
        );
        assert!(run(&ok).is_empty(), "{:#?}", run(&ok));
        let bad = format!(
            r#"{base}, "extension_types": ["new-thing"], "extension_properties": ["x_y"]}}"#
        );
        assert_eq!(
            summary(&run(&bad)),
            sorted(vec![
                (Severity::Error, "extension_types[0]", "enumeration"),
                (Severity::Error, "created_by_ref", "required"),
                (
                    Severity::Error,
                    "extension_properties",
                    "extension-properties"
                ),
            ])
        );
    }
}
