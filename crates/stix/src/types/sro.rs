//! The STIX 2.1 Relationship Objects (§5): relationship and sighting, with the
//! time-order rules and the suggested-relationships check (a warning).

use crate::json::{Map, Value};
use crate::validate::{Ctx, Path};

use super::sdo::{common_rules, timestamp_order};
use super::spec::{Category, PropKind, Targets, TypeSpec, opt, req};
use super::vocab;

/// What `source_ref` and `target_ref` may point to: an SDO or SCO (§5.1);
/// custom types may be either.
const RELATIONSHIP_END: Targets = Targets::classes(Targets::SDO | Targets::SCO | Targets::CUSTOM);

/// Every SRO type.
pub static TYPES: &[TypeSpec] = &[
    TypeSpec {
        name: "relationship",
        category: Category::Sro,
        properties: &[
            req("relationship_type", PropKind::String),
            opt("description", PropKind::String),
            req("source_ref", PropKind::Ref(RELATIONSHIP_END)),
            req("target_ref", PropKind::Ref(RELATIONSHIP_END)),
            opt("start_time", PropKind::Timestamp),
            opt("stop_time", PropKind::Timestamp),
        ],
        id_contributing: &[],
        extensions: &[],
        rules: Some(relationship_rules),
    },
    TypeSpec {
        name: "sighting",
        category: Category::Sro,
        properties: &[
            opt("description", PropKind::String),
            opt("first_seen", PropKind::Timestamp),
            opt("last_seen", PropKind::Timestamp),
            opt(
                "count",
                PropKind::Integer {
                    min: 0,
                    max: 999_999_999,
                },
            ),
            // §5.2: "This property MUST reference only an SDO"; custom types may be SDOs.
            req(
                "sighting_of_ref",
                PropKind::Ref(Targets::classes(Targets::SDO | Targets::CUSTOM)),
            ),
            opt(
                "observed_data_refs",
                PropKind::RefList(Targets::only(&["observed-data"])),
            ),
            opt(
                "where_sighted_refs",
                PropKind::RefList(Targets::only(&["identity", "location"])),
            ),
            opt("summary", PropKind::Boolean),
        ],
        id_contributing: &[],
        extensions: &[],
        rules: Some(sighting_rules),
    },
];

fn relationship_rules(ctx: &mut Ctx<'_>, obj: &Map<'_>) {
    common_rules(ctx, obj);
    timestamp_order(ctx, obj, "start_time", "stop_time", true);
    let Some(relationship_type) = obj.get("relationship_type").and_then(Value::as_str) else {
        return;
    };
    if relationship_type.is_empty()
        || !relationship_type
            .bytes()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-')
    {
        ctx.error(
            Path::Root.prop("relationship_type"),
            "relationship-type",
            format!("{relationship_type:?} must contain only lowercase letters a-z, digits 0-9 and hyphens"),
        );
        return;
    }
    let end_type = |k: &str| {
        obj.get(k)
            .and_then(Value::as_str)
            .and_then(crate::identifier::type_of)
    };
    if let (Some(source), Some(target)) = (end_type("source_ref"), end_type("target_ref")) {
        suggested_relationship(ctx, relationship_type, source, target);
    }
}

/// Warns when a relationship is not one §4 and §6 suggest, as stix2-validator does (code 202).
fn suggested_relationship(ctx: &mut Ctx<'_>, relationship_type: &str, source: &str, target: &str) {
    let outside_table =
        |t: &str| super::category_of(t).is_some_and(|c| c == Category::Sro || c == Category::Meta);
    if vocab::COMMON_RELATIONSHIPS.contains(&relationship_type)
        || outside_table(source)
        || outside_table(target)
    {
        return;
    }
    let path = Path::Root.prop("relationship_type");
    let mut from_source = vocab::SUGGESTED_RELATIONSHIPS
        .iter()
        .filter(|(s, _, _)| *s == source)
        .peekable();
    if from_source.peek().is_none() {
        ctx.warning(
            path,
            "unsuggested-relationship",
            format!("the specification suggests no relationships from '{source}' objects other than derived-from, duplicate-of and related-to"),
        );
        return;
    }
    match from_source.find(|(_, r, _)| *r == relationship_type) {
        None => ctx.warning(
            path,
            "unsuggested-relationship",
            format!("'{relationship_type}' is not a relationship the specification suggests for '{source}' objects"),
        ),
        Some((_, _, targets)) if !targets.contains(&target) => ctx.warning(
            path,
            "unsuggested-relationship",
            format!(
                "the specification suggests '{relationship_type}' from '{source}' only to {}, not to '{target}'",
                targets
                    .iter()
                    .map(|t| format!("'{t}'"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ),
        Some(_) => {}
    }
}

fn sighting_rules(ctx: &mut Ctx<'_>, obj: &Map<'_>) {
    common_rules(ctx, obj);
    timestamp_order(ctx, obj, "first_seen", "last_seen", false);
}

#[cfg(test)]
mod tests {
    use crate::json;
    use crate::{Diagnostic, Severity, validate_object};

    fn run(rest: &str, kind: &str) -> Vec<Diagnostic> {
        let text = format!(
            r#"{{"type": "{kind}", "id": "{kind}--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f", "spec_version": "2.1", "created": "2020-01-01T00:00:00.000Z", "modified": "2020-01-01T00:00:00.000Z"{rest}}}"#
        );
        validate_object(&json::parse(text.as_bytes()).unwrap())
    }

    fn relationship(r: &str, source: &str, target: &str, more: &str) -> Vec<Diagnostic> {
        run(
            &format!(
                r#", "relationship_type": "{r}", "source_ref": "{source}--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f", "target_ref": "{target}--9e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"{more}"#
            ),
            "relationship",
        )
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

    #[test]
    fn suggested_relationships_pass_silently() {
        assert!(relationship("uses", "intrusion-set", "malware", "").is_empty());
        assert!(relationship("related-to", "x-mitre-tactic", "file", "").is_empty());
        assert!(relationship("indicates", "indicator", "malware", "").is_empty());
    }

    #[test]
    fn unsuggested_relationships_are_warnings() {
        for (r, s, t) in [
            ("subtechnique-of", "attack-pattern", "attack-pattern"),
            ("uses", "indicator", "malware"),
            ("uses", "intrusion-set", "identity"),
            ("detects", "x-mitre-data-component", "attack-pattern"),
        ] {
            let found = relationship(r, s, t, "");
            assert_eq!(
                summary(&found),
                sorted(vec![(
                    Severity::Warning,
                    "relationship_type",
                    "unsuggested-relationship"
                )]),
                "{r} {s} {t}"
            );
        }
    }

    #[test]
    fn relationship_ends_cannot_be_sros_or_markings() {
        let found = relationship("related-to", "sighting", "marking-definition", "");
        assert_eq!(
            summary(&found),
            sorted(vec![
                (Severity::Error, "source_ref", "reference-type"),
                (Severity::Error, "target_ref", "reference-type")
            ])
        );
    }

    #[test]
    fn relationship_type_format_and_times() {
        let found = relationship("Uses", "malware", "tool", "");
        assert_eq!(
            summary(&found),
            sorted(vec![(
                Severity::Error,
                "relationship_type",
                "relationship-type"
            )])
        );
        let found = relationship(
            "uses",
            "malware",
            "tool",
            r#", "start_time": "2020-01-01T00:00:00Z", "stop_time": "2020-01-01T00:00:00Z""#,
        );
        assert_eq!(
            summary(&found),
            sorted(vec![(Severity::Error, "stop_time", "timestamp-order")])
        );
    }

    #[test]
    fn sighting_references_and_count() {
        let found = run(
            r#", "sighting_of_ref": "relationship--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f", "where_sighted_refs": ["malware--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"], "observed_data_refs": ["identity--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"], "count": 1000000000, "first_seen": "2020-01-02T00:00:00Z", "last_seen": "2020-01-01T00:00:00Z""#,
            "sighting",
        );
        assert_eq!(
            summary(&found),
            sorted(vec![
                (Severity::Error, "count", "integer-range"),
                (Severity::Error, "sighting_of_ref", "reference-type"),
                (Severity::Error, "observed_data_refs[0]", "reference-type"),
                (Severity::Error, "where_sighted_refs[0]", "reference-type"),
                (Severity::Error, "last_seen", "timestamp-order"),
            ])
        );
        let ok = run(
            r#", "sighting_of_ref": "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f", "where_sighted_refs": ["location--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"], "count": 0"#,
            "sighting",
        );
        assert!(ok.is_empty(), "{ok:#?}");
    }
}
