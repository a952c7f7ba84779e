//! Granular markings (STIX 2.1 §7.2.3): each has a `marking_ref` or a `lang`
//! (not both) and selectors that resolve to real properties of the object;
//! and marking-definitions that mark themselves (no circular references).

use crate::json::{Map, Value};
use crate::markings::{parse_selector, resolve_path};
use crate::types::{PropKind, Targets, opt, req};

use super::common;
use super::ctx::{Ctx, Path};
use super::props;

const MARKING_REF: Targets = Targets::only(&["marking-definition"]);

const PROPS: &[crate::types::Prop] = &[
    req("selectors", PropKind::StringList),
    opt("marking_ref", PropKind::Ref(MARKING_REF)),
    opt("lang", PropKind::String),
];

/// Checks `granular_markings` against the object they mark.
pub fn check(ctx: &mut Ctx<'_>, path: Path<'_>, value: &Value<'_>, obj: &Map<'_>) {
    let own_id = own_marking_id(obj);
    for (i, item) in props::list(ctx, path, value)
        .into_iter()
        .flatten()
        .enumerate()
    {
        let at = path.index(i);
        let Some(marking) = props::object(ctx, at, item) else {
            continue;
        };
        props::nested(ctx, at, marking, PROPS);
        match (marking.get("marking_ref"), marking.get("lang")) {
            (None, None) => ctx.error(
                at,
                "granular-marking",
                "must have a marking_ref or a lang property",
            ),
            (Some(_), Some(_)) => ctx.error(
                at,
                "granular-marking",
                "must have either a marking_ref or a lang property, not both",
            ),
            (None, Some(lang)) => common::language_tag(ctx, at.prop("lang"), lang),
            (Some(_), None) => {}
        }
        if let (Some(own), Some(target)) =
            (own_id, marking.get("marking_ref").and_then(Value::as_str))
            && target.eq_ignore_ascii_case(own)
        {
            ctx.error(
                at.prop("marking_ref"),
                "circular-marking",
                "a marking-definition must not mark itself (no circular references)",
            );
        }
        if let Some(selectors) = marking.get("selectors").and_then(Value::as_array) {
            let selectors_at = at.prop("selectors");
            for (j, selector) in selectors.iter().enumerate() {
                if let Some(s) = selector.as_str() {
                    check_selector(ctx, selectors_at.index(j), s, obj);
                }
            }
        }
    }
}

fn check_selector(ctx: &mut Ctx<'_>, path: Path<'_>, selector: &str, obj: &Map<'_>) {
    let parsed = match parse_selector(selector) {
        Ok(p) => p,
        Err(e) => {
            ctx.error(
                path,
                "selector-syntax",
                format!("{selector:?} is not a valid selector: {e}"),
            );
            return;
        }
    };
    if let Err(e) = resolve_path(obj, &parsed) {
        ctx.error(
            path,
            "selector",
            format!("{selector:?} does not select anything in this object: {e}"),
        );
    }
}

/// The id of `obj` if it is a marking-definition.
fn own_marking_id<'v>(obj: &'v Map<'_>) -> Option<&'v str> {
    if obj.get("type").and_then(Value::as_str) != Some("marking-definition") {
        return None;
    }
    obj.get("id").and_then(Value::as_str)
}

/// Checks that a marking-definition's `object_marking_refs` does not refer to
/// itself (STIX 2.1 §7.2.2: no circular references).
pub fn object_marking_circular(ctx: &mut Ctx<'_>, obj: &Map<'_>) {
    let Some(own) = own_marking_id(obj) else {
        return;
    };
    let Some(refs) = obj.get("object_marking_refs").and_then(Value::as_array) else {
        return;
    };
    let root = Path::Root;
    let path = root.prop("object_marking_refs");
    for (i, r) in refs.iter().enumerate() {
        if r.as_str().is_some_and(|r| r.eq_ignore_ascii_case(own)) {
            ctx.error(
                path.index(i),
                "circular-marking",
                "a marking-definition must not mark itself (no circular references)",
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostic::{Diagnostic, Severity};
    use crate::json;

    const INDICATOR: &str = r#"{"type": "indicator", "spec_version": "2.1",
        "id": "indicator--1ed8caa7-a708-4706-b651-f1186ede6ca1",
        "created": "2017-04-27T16:18:24.318Z", "modified": "2017-04-27T16:18:24.318Z",
        "name": "Fake email address", "description": "Known to be used by The Joker.",
        "indicator_types": ["malicious-activity", "attribution"],
        "external_references": [{"source_name": "a", "url": "http://a.example"}],
        "pattern": "[email-message:from_ref.value = 'a@b.c']", "pattern_type": "stix",
        "valid_from": "2017-04-27T16:18:24.318Z"}"#;

    fn run(markings: &str) -> Vec<Diagnostic> {
        let mut v = json::parse(INDICATOR.as_bytes()).unwrap();
        let gm = json::parse(markings.as_bytes()).unwrap();
        v.as_object_mut().unwrap().insert("granular_markings", gm);
        let obj = v.as_object().unwrap();
        let mut out = Vec::new();
        let mut ctx = Ctx::new(None, &mut out);
        let root = Path::Root;
        check(
            &mut ctx,
            root.prop("granular_markings"),
            obj.get("granular_markings").unwrap(),
            obj,
        );
        out
    }

    fn found(diags: &[Diagnostic]) -> Vec<(Severity, &str, &str, &str)> {
        diags
            .iter()
            .map(|d| (d.severity, d.property.as_str(), d.rule, d.message.as_str()))
            .collect()
    }

    const AMBER: &str = "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82";

    #[test]
    fn valid_markings_pass() {
        let d = run(&format!(
            r#"[{{"marking_ref": "{AMBER}", "selectors": ["description", "indicator_types.[1]", "external_references.[0].url", "id"]}},
                {{"lang": "fr", "selectors": ["name"]}}]"#
        ));
        assert!(d.is_empty(), "{d:?}");
    }

    #[test]
    fn marking_ref_and_lang_exactly_one() {
        let d = run(r#"[{"selectors": ["name"]}]"#);
        assert_eq!(
            found(&d),
            [(
                Severity::Error,
                "granular_markings[0]",
                "granular-marking",
                "must have a marking_ref or a lang property"
            )]
        );
        let d = run(&format!(
            r#"[{{"marking_ref": "{AMBER}", "lang": "en", "selectors": ["name"]}}]"#
        ));
        assert_eq!(
            found(&d),
            [(
                Severity::Error,
                "granular_markings[0]",
                "granular-marking",
                "must have either a marking_ref or a lang property, not both"
            )]
        );
        let d = run(r#"[{"lang": "not a tag", "selectors": ["name"]}]"#);
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].rule, "language-tag");
        assert_eq!(d[0].property, "granular_markings[0].lang");
    }

    #[test]
    fn structure_errors() {
        let d = run("[]");
        assert_eq!(
            found(&d),
            [(
                Severity::Error,
                "granular_markings",
                "empty-list",
                "must not be an empty list"
            )]
        );
        let d = run(r#"{"lang": "en"}"#);
        assert_eq!(d[0].rule, "json-type");
        let d = run(&format!(r#"[{{"marking_ref": "{AMBER}"}}]"#));
        assert_eq!(
            found(&d),
            [(
                Severity::Error,
                "granular_markings[0].selectors",
                "required",
                "is required but missing"
            )]
        );
        let d = run(&format!(
            r#"[{{"marking_ref": "{AMBER}", "selectors": []}}]"#
        ));
        assert_eq!(d[0].rule, "empty-list");
        let d = run(&format!(
            r#"[{{"marking_ref": "{AMBER}", "selectors": [1]}}]"#
        ));
        assert_eq!(
            found(&d),
            [(
                Severity::Error,
                "granular_markings[0].selectors[0]",
                "json-type",
                "must be a string, found a number"
            )]
        );
        let d = run(
            r#"[{"marking_ref": "indicator--1ed8caa7-a708-4706-b651-f1186ede6ca1", "selectors": ["name"]}]"#,
        );
        assert_eq!(d[0].rule, "reference-type");
        let d = run(&format!(
            r#"[{{"marking_ref": "{AMBER}", "selectors": ["name"], "x_note": "n"}}]"#
        ));
        assert_eq!(found(&d)[0].0, Severity::Warning);
    }

    #[test]
    fn selectors_must_resolve() {
        let d = run(&format!(
            r#"[{{"marking_ref": "{AMBER}", "selectors": ["labels", "indicator_types.[2]", "external_references[0]", "description.[0]"]}}]"#
        ));
        assert_eq!(
            found(&d),
            [
                (
                    Severity::Error,
                    "granular_markings[0].selectors[0]",
                    "selector",
                    "\"labels\" does not select anything in this object: the object has no property 'labels'"
                ),
                (
                    Severity::Error,
                    "granular_markings[0].selectors[1]",
                    "selector",
                    "\"indicator_types.[2]\" does not select anything in this object: indicator_types has 2 items, so [2] is out of range"
                ),
                (
                    Severity::Error,
                    "granular_markings[0].selectors[2]",
                    "selector-syntax",
                    "\"external_references[0]\" is not a valid selector: 'external_references[0]': a list index is a segment of its own, as in 'external_references.[0]'"
                ),
                (
                    Severity::Error,
                    "granular_markings[0].selectors[3]",
                    "selector",
                    "\"description.[0]\" does not select anything in this object: description is a string, not a list: selectors cannot select characters ([0])"
                ),
            ]
        );
    }

    fn marking_definition(extra: &str) -> Vec<Diagnostic> {
        let src = format!(
            r#"{{"type": "marking-definition", "spec_version": "2.1",
                "id": "marking-definition--d81f86b9-975b-4c0b-875e-810c5ad45a4f",
                "created": "2017-04-14T13:07:49.812Z", "definition_type": "statement",
                "definition": {{"statement": "Copyright (c) Stark Industries 2017."}}{extra}}}"#
        );
        let v = json::parse(src.as_bytes()).unwrap();
        let obj = v.as_object().unwrap();
        let mut out = Vec::new();
        let mut ctx = Ctx::new(None, &mut out);
        object_marking_circular(&mut ctx, obj);
        if let Some(gm) = obj.get("granular_markings") {
            let root = Path::Root;
            check(&mut ctx, root.prop("granular_markings"), gm, obj);
        }
        out
    }

    #[test]
    fn marking_definitions_must_not_mark_themselves() {
        let own = "marking-definition--d81f86b9-975b-4c0b-875e-810c5ad45a4f";
        let d = marking_definition(&format!(r#", "object_marking_refs": ["{AMBER}", "{own}"]"#));
        assert_eq!(
            found(&d),
            [(
                Severity::Error,
                "object_marking_refs[1]",
                "circular-marking",
                "a marking-definition must not mark itself (no circular references)"
            )]
        );
        let d = marking_definition(&format!(
            r#", "granular_markings": [{{"marking_ref": "{own}", "selectors": ["definition.statement"]}}]"#
        ));
        assert_eq!(
            found(&d),
            [(
                Severity::Error,
                "granular_markings[0].marking_ref",
                "circular-marking",
                "a marking-definition must not mark itself (no circular references)"
            )]
        );
        assert!(marking_definition(&format!(r#", "object_marking_refs": ["{AMBER}"]"#)).is_empty());
    }
}
