//! The 19 STIX 2.1 Domain Objects (§4): their property tables and the rules
//! that span properties (time order, location coordinates, observed-data's
//! `objects`/`object_refs`…). Also the helpers the SRO and meta tables share.

use crate::json::{Map, Value};
use crate::timestamp::Timestamp;
use crate::validate::{Ctx, Path};

use super::spec::{Category, Prop, PropKind, Rules, Targets, TypeSpec, opt, req};
use super::vocab;

const SOFTWARE: Targets = Targets::only(&["software"]);
/// SCOs, and custom types since a custom type may be an SCO.
const SCO_OR_CUSTOM: Targets = Targets::classes(Targets::SCO | Targets::CUSTOM);

const fn sdo(name: &'static str, properties: &'static [Prop], rules: Rules) -> TypeSpec {
    TypeSpec {
        name,
        category: Category::Sdo,
        properties,
        id_contributing: &[],
        extensions: &[],
        rules: Some(rules),
    }
}

const NAME: Prop = req("name", PropKind::String);
const DESCRIPTION: Prop = opt("description", PropKind::String);
const ALIASES: Prop = opt("aliases", PropKind::StringList);
const KILL_CHAIN_PHASES: Prop = opt("kill_chain_phases", PropKind::KillChainPhases);
const FIRST_SEEN: Prop = opt("first_seen", PropKind::Timestamp);
const LAST_SEEN: Prop = opt("last_seen", PropKind::Timestamp);
const OBJECT_REFS: Prop = req("object_refs", PropKind::RefList(Targets::ANY));
const AUTHORS: Prop = opt("authors", PropKind::StringList);
const GOALS: Prop = opt("goals", PropKind::StringList);
const RESOURCE_LEVEL: Prop = opt(
    "resource_level",
    PropKind::OpenVocab(vocab::ATTACK_RESOURCE_LEVEL),
);
const PRIMARY_MOTIVATION: Prop = opt(
    "primary_motivation",
    PropKind::OpenVocab(vocab::ATTACK_MOTIVATION),
);
const SECONDARY_MOTIVATIONS: Prop = opt(
    "secondary_motivations",
    PropKind::OpenVocabList(vocab::ATTACK_MOTIVATION),
);

/// Every SDO type.
pub static TYPES: &[TypeSpec] = &[
    sdo(
        "attack-pattern",
        &[NAME, DESCRIPTION, ALIASES, KILL_CHAIN_PHASES],
        common_rules,
    ),
    sdo(
        "campaign",
        &[
            NAME,
            DESCRIPTION,
            ALIASES,
            FIRST_SEEN,
            LAST_SEEN,
            opt("objective", PropKind::String),
        ],
        seen_rules,
    ),
    sdo("course-of-action", &[NAME, DESCRIPTION], common_rules),
    sdo(
        "grouping",
        &[
            opt("name", PropKind::String),
            DESCRIPTION,
            req("context", PropKind::OpenVocab(vocab::GROUPING_CONTEXT)),
            OBJECT_REFS,
        ],
        common_rules,
    ),
    sdo(
        "identity",
        &[
            NAME,
            DESCRIPTION,
            opt("roles", PropKind::StringList),
            opt("identity_class", PropKind::OpenVocab(vocab::IDENTITY_CLASS)),
            opt("sectors", PropKind::OpenVocabList(vocab::INDUSTRY_SECTOR)),
            opt("contact_information", PropKind::String),
        ],
        common_rules,
    ),
    sdo(
        "incident",
        &[NAME, DESCRIPTION, KILL_CHAIN_PHASES],
        common_rules,
    ),
    sdo(
        "indicator",
        &[
            opt("name", PropKind::String),
            DESCRIPTION,
            opt(
                "indicator_types",
                PropKind::OpenVocabList(vocab::INDICATOR_TYPE),
            ),
            req("pattern", PropKind::String),
            req("pattern_type", PropKind::OpenVocab(vocab::PATTERN_TYPE)),
            opt("pattern_version", PropKind::String),
            req("valid_from", PropKind::Timestamp),
            opt("valid_until", PropKind::Timestamp),
            KILL_CHAIN_PHASES,
        ],
        indicator_rules,
    ),
    sdo(
        "infrastructure",
        &[
            NAME,
            DESCRIPTION,
            opt(
                "infrastructure_types",
                PropKind::OpenVocabList(vocab::INFRASTRUCTURE_TYPE),
            ),
            ALIASES,
            KILL_CHAIN_PHASES,
            FIRST_SEEN,
            LAST_SEEN,
        ],
        seen_rules,
    ),
    sdo(
        "intrusion-set",
        &[
            NAME,
            DESCRIPTION,
            ALIASES,
            FIRST_SEEN,
            LAST_SEEN,
            GOALS,
            RESOURCE_LEVEL,
            PRIMARY_MOTIVATION,
            SECONDARY_MOTIVATIONS,
        ],
        seen_rules,
    ),
    sdo(
        "location",
        &[
            opt("name", PropKind::String),
            DESCRIPTION,
            opt(
                "latitude",
                PropKind::Float {
                    min: -90.0,
                    max: 90.0,
                },
            ),
            opt(
                "longitude",
                PropKind::Float {
                    min: -180.0,
                    max: 180.0,
                },
            ),
            // §4.10 sets no bound on precision and neither does the JSON schema.
            opt(
                "precision",
                PropKind::Float {
                    min: f64::MIN,
                    max: f64::MAX,
                },
            ),
            opt("region", PropKind::OpenVocab(vocab::REGION)),
            opt("country", PropKind::String),
            opt("administrative_area", PropKind::String),
            opt("city", PropKind::String),
            opt("street_address", PropKind::String),
            opt("postal_code", PropKind::String),
        ],
        location_rules,
    ),
    sdo(
        "malware",
        &[
            opt("name", PropKind::String),
            DESCRIPTION,
            opt(
                "malware_types",
                PropKind::OpenVocabList(vocab::MALWARE_TYPE),
            ),
            req("is_family", PropKind::Boolean),
            ALIASES,
            KILL_CHAIN_PHASES,
            FIRST_SEEN,
            LAST_SEEN,
            opt("operating_system_refs", PropKind::RefList(SOFTWARE)),
            opt(
                "architecture_execution_envs",
                PropKind::OpenVocabList(vocab::PROCESSOR_ARCHITECTURE),
            ),
            opt(
                "implementation_languages",
                PropKind::OpenVocabList(vocab::IMPLEMENTATION_LANGUAGE),
            ),
            opt(
                "capabilities",
                PropKind::OpenVocabList(vocab::MALWARE_CAPABILITIES),
            ),
            opt(
                "sample_refs",
                PropKind::RefList(Targets::only(&["file", "artifact"])),
            ),
        ],
        malware_rules,
    ),
    sdo(
        "malware-analysis",
        &[
            req("product", PropKind::String),
            opt("version", PropKind::String),
            opt("host_vm_ref", PropKind::Ref(SOFTWARE)),
            opt("operating_system_ref", PropKind::Ref(SOFTWARE)),
            opt("installed_software_refs", PropKind::RefList(SOFTWARE)),
            opt("configuration_version", PropKind::String),
            opt("modules", PropKind::StringList),
            opt("analysis_engine_version", PropKind::String),
            opt("analysis_definition_version", PropKind::String),
            opt("submitted", PropKind::Timestamp),
            opt("analysis_started", PropKind::Timestamp),
            opt("analysis_ended", PropKind::Timestamp),
            opt("result_name", PropKind::String),
            opt("result", PropKind::OpenVocab(vocab::MALWARE_RESULT)),
            opt("analysis_sco_refs", PropKind::RefList(SCO_OR_CUSTOM)),
            opt(
                "sample_ref",
                PropKind::Ref(Targets::only(&["file", "network-traffic", "artifact"])),
            ),
        ],
        malware_analysis_rules,
    ),
    sdo(
        "note",
        &[
            opt("abstract", PropKind::String),
            req("content", PropKind::String),
            AUTHORS,
            OBJECT_REFS,
        ],
        common_rules,
    ),
    sdo(
        "observed-data",
        &[
            req("first_observed", PropKind::Timestamp),
            req("last_observed", PropKind::Timestamp),
            req(
                "number_observed",
                PropKind::Integer {
                    min: 1,
                    max: 999_999_999,
                },
            ),
            opt("objects", PropKind::Any),
            opt(
                "object_refs",
                PropKind::RefList(Targets::classes(
                    Targets::SCO | Targets::SRO | Targets::CUSTOM,
                )),
            ),
        ],
        observed_data_rules,
    ),
    sdo(
        "opinion",
        &[
            opt("explanation", PropKind::String),
            AUTHORS,
            req("opinion", PropKind::Enum(vocab::OPINION)),
            OBJECT_REFS,
        ],
        common_rules,
    ),
    sdo(
        "report",
        &[
            NAME,
            DESCRIPTION,
            opt("report_types", PropKind::OpenVocabList(vocab::REPORT_TYPE)),
            req("published", PropKind::Timestamp),
            OBJECT_REFS,
        ],
        common_rules,
    ),
    sdo(
        "threat-actor",
        &[
            NAME,
            DESCRIPTION,
            opt(
                "threat_actor_types",
                PropKind::OpenVocabList(vocab::THREAT_ACTOR_TYPE),
            ),
            ALIASES,
            FIRST_SEEN,
            LAST_SEEN,
            opt("roles", PropKind::OpenVocabList(vocab::THREAT_ACTOR_ROLE)),
            GOALS,
            opt(
                "sophistication",
                PropKind::OpenVocab(vocab::THREAT_ACTOR_SOPHISTICATION),
            ),
            RESOURCE_LEVEL,
            PRIMARY_MOTIVATION,
            SECONDARY_MOTIVATIONS,
            opt(
                "personal_motivations",
                PropKind::OpenVocabList(vocab::ATTACK_MOTIVATION),
            ),
        ],
        seen_rules,
    ),
    sdo(
        "tool",
        &[
            NAME,
            DESCRIPTION,
            opt("tool_types", PropKind::OpenVocabList(vocab::TOOL_TYPE)),
            ALIASES,
            KILL_CHAIN_PHASES,
            opt("tool_version", PropKind::String),
        ],
        common_rules,
    ),
    sdo("vulnerability", &[NAME, DESCRIPTION], common_rules),
];

/// Properties §3.2 reserves; the JSON schemas of every SDO, SRO,
/// language-content and extension-definition forbid them.
const RESERVED_PROPERTIES: &[&str] = &["action", "phone_numbers", "severity", "username"];

/// The rules every object built on the common core (§3.2) shares.
pub(super) fn common_rules(ctx: &mut Ctx<'_>, obj: &Map<'_>) {
    let root = Path::Root;
    for name in RESERVED_PROPERTIES {
        if obj.contains_key(name) {
            ctx.error(
                root.prop(name),
                "reserved-property",
                format!("{name:?} is reserved by STIX 2.1 and must not be used"),
            );
        }
    }
}

/// The timestamp in `name`, if it is a valid one (its format is checked elsewhere).
fn timestamp_of<'v>(obj: &'v Map<'_>, name: &str) -> Option<(Timestamp, &'v str)> {
    let s = obj.get(name)?.as_str()?;
    Timestamp::parse(s).ok().map(|t| (t, s))
}

/// Checks that `later` is after `earlier` (or equal, unless `strict`) when both are present.
pub(super) fn timestamp_order(
    ctx: &mut Ctx<'_>,
    obj: &Map<'_>,
    earlier: &'static str,
    later: &'static str,
    strict: bool,
) {
    let (Some((first, first_text)), Some((last, last_text))) =
        (timestamp_of(obj, earlier), timestamp_of(obj, later))
    else {
        return;
    };
    let ok = if strict { last > first } else { last >= first };
    if !ok {
        let relation = if strict {
            "later than"
        } else {
            "later than or equal to"
        };
        ctx.error(
            Path::Root.prop(later),
            "timestamp-order",
            format!("{last_text} must be {relation} {earlier} ({first_text})"),
        );
    }
}

/// Reports `dependent` missing when `present` is there.
fn requires(ctx: &mut Ctx<'_>, obj: &Map<'_>, present: &str, dependent: &'static str) {
    if obj.contains_key(present) && !obj.contains_key(dependent) {
        ctx.error(
            Path::Root.prop(dependent),
            "dependent-property",
            format!("is required when {present} is present"),
        );
    }
}

fn seen_rules(ctx: &mut Ctx<'_>, obj: &Map<'_>) {
    common_rules(ctx, obj);
    timestamp_order(ctx, obj, "first_seen", "last_seen", false);
}

fn indicator_rules(ctx: &mut Ctx<'_>, obj: &Map<'_>) {
    common_rules(ctx, obj);
    timestamp_order(ctx, obj, "valid_from", "valid_until", true);
    let pattern = obj.get("pattern").and_then(Value::as_str);
    let pattern_type = obj.get("pattern_type").and_then(Value::as_str);
    if let (Some(pattern), Some("stix")) = (pattern, pattern_type) {
        for p in crate::pattern::check(pattern) {
            ctx.report(
                p.severity,
                "pattern",
                "pattern",
                format!("at character {}: {}", p.offset + 1, p.message),
            );
        }
    }
}

fn location_rules(ctx: &mut Ctx<'_>, obj: &Map<'_>) {
    common_rules(ctx, obj);
    let has = |k: &str| obj.contains_key(k);
    if !(has("region") || has("country") || (has("latitude") && has("longitude"))) {
        ctx.error(
            Path::Root,
            "location-required",
            "needs at least one of region, country, or latitude and longitude",
        );
    }
    requires(ctx, obj, "latitude", "longitude");
    requires(ctx, obj, "longitude", "latitude");
    if has("precision") {
        requires(ctx, obj, "precision", "latitude");
        requires(ctx, obj, "precision", "longitude");
    }
    if let Some(country) = obj.get("country").and_then(Value::as_str)
        && !(country.len() == 2 && country.bytes().all(|c| c.is_ascii_alphabetic()))
    {
        ctx.warning(
            Path::Root.prop("country"),
            "country-code",
            format!("{country:?} should be an ISO 3166-1 alpha-2 country code, such as \"US\""),
        );
    }
}

fn malware_rules(ctx: &mut Ctx<'_>, obj: &Map<'_>) {
    seen_rules(ctx, obj);
    if obj.get("is_family").and_then(Value::as_bool) == Some(true) && !obj.contains_key("name") {
        ctx.error(
            Path::Root.prop("name"),
            "required",
            "is required when is_family is true",
        );
    }
}

fn malware_analysis_rules(ctx: &mut Ctx<'_>, obj: &Map<'_>) {
    common_rules(ctx, obj);
    if !obj.contains_key("result") && !obj.contains_key("analysis_sco_refs") {
        ctx.error(
            Path::Root,
            "malware-analysis-result",
            "needs at least one of result or analysis_sco_refs",
        );
    }
    if let Some(product) = obj.get("product").and_then(Value::as_str)
        && !product
            .bytes()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-')
    {
        ctx.warning(
            Path::Root.prop("product"),
            "malware-analysis-product",
            format!("{product:?} should be all lowercase, with words separated by hyphens"),
        );
    }
}

fn observed_data_rules(ctx: &mut Ctx<'_>, obj: &Map<'_>) {
    common_rules(ctx, obj);
    let root = Path::Root;
    timestamp_order(ctx, obj, "first_observed", "last_observed", false);
    match (obj.get("objects"), obj.contains_key("object_refs")) {
        (None, false) => ctx.error(
            root,
            "observed-data-content",
            "needs exactly one of object_refs or objects",
        ),
        (Some(_), true) => ctx.error(
            root.prop("objects"),
            "observed-data-content",
            "must not be present together with object_refs",
        ),
        (Some(objects), false) => {
            ctx.warning(
                root.prop("objects"),
                "deprecated-property",
                "is deprecated in STIX 2.1: reference SCOs with object_refs instead",
            );
            embedded_observables(ctx, root.prop("objects"), objects);
        }
        (None, true) => {}
    }
}

/// The deprecated `objects` dictionary: each value is an SCO.
fn embedded_observables(ctx: &mut Ctx<'_>, path: Path<'_>, value: &Value<'_>) {
    let Value::Object(map) = value else {
        ctx.error(
            path,
            "json-type",
            format!("must be an object, found {}", value.kind()),
        );
        return;
    };
    if map.is_empty() {
        ctx.error(path, "empty-dictionary", "must have at least one object");
    }
    for (key, item) in map.iter() {
        let at = path.prop(key);
        let Value::Object(sco) = item else {
            ctx.error(
                at,
                "json-type",
                format!("must be an object, found {}", item.kind()),
            );
            continue;
        };
        match sco.get("type") {
            None => ctx.error(at.prop("type"), "required", "is required but missing"),
            Some(Value::String(t)) => match super::category_of(t) {
                Some(Category::Sco) => embedded_sco(ctx, key, item),
                Some(_) => ctx.error(
                    at.prop("type"),
                    "observed-data-content",
                    format!("'{t}' is not a cyber-observable type"),
                ),
                // A custom type may be an SCO, which needs no created or modified.
                None => {}
            },
            Some(other) => ctx.error(
                at.prop("type"),
                "json-type",
                format!("must be a string, found {}", other.kind()),
            ),
        }
    }
}

/// Validates an SCO embedded in `objects` as a standalone one, and reports its
/// problems under `objects.<key>`.
fn embedded_sco(ctx: &mut Ctx<'_>, key: &str, sco: &Value<'_>) {
    for d in crate::validate::validate_object(sco) {
        let property = if d.property.is_empty() {
            format!("objects.{key}")
        } else {
            format!("objects.{key}.{}", d.property)
        };
        ctx.report(d.severity, property, d.rule, d.message);
    }
}

#[cfg(test)]
mod tests {
    use crate::json;
    use crate::{Diagnostic, Severity, validate_object};

    fn run(text: &str) -> Vec<Diagnostic> {
        validate_object(&json::parse(text.as_bytes()).unwrap())
    }

    fn errors(text: &str) -> Vec<(String, &'static str)> {
        run(text)
            .into_iter()
            .filter(|d| d.severity == Severity::Error)
            .map(|d| (d.property, d.rule))
            .collect()
    }

    const HEAD: &str = r#""spec_version": "2.1", "created": "2020-01-01T00:00:00.000Z", "modified": "2020-01-01T00:00:00.000Z""#;

    fn obj(kind: &str, rest: &str) -> String {
        format!(
            r#"{{"type": "{kind}", "id": "{kind}--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f", {HEAD}{rest}}}"#
        )
    }

    #[test]
    fn minimal_objects_of_every_sdo_type_are_valid() {
        let cases = [
            ("attack-pattern", r#", "name": "x""#),
            ("campaign", r#", "name": "x""#),
            ("course-of-action", r#", "name": "x""#),
            (
                "grouping",
                r#", "context": "unspecified", "object_refs": ["identity--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"]"#,
            ),
            (
                "identity",
                r#", "name": "x", "identity_class": "organization""#,
            ),
            ("incident", r#", "name": "x""#),
            (
                "indicator",
                r#", "pattern": "[file:name = 'a']", "pattern_type": "stix", "valid_from": "2020-01-01T00:00:00Z""#,
            ),
            ("infrastructure", r#", "name": "x""#),
            ("intrusion-set", r#", "name": "x""#),
            ("location", r#", "region": "europe""#),
            ("malware", r#", "is_family": false"#),
            (
                "malware-analysis",
                r#", "product": "x", "result": "malicious""#,
            ),
            (
                "note",
                r#", "content": "x", "object_refs": ["malware--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"]"#,
            ),
            (
                "observed-data",
                r#", "first_observed": "2020-01-01T00:00:00Z", "last_observed": "2020-01-01T00:00:00Z", "number_observed": 1, "object_refs": ["file--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"]"#,
            ),
            (
                "opinion",
                r#", "opinion": "agree", "object_refs": ["malware--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"]"#,
            ),
            (
                "report",
                r#", "name": "x", "published": "2020-01-01T00:00:00Z", "object_refs": ["malware--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"]"#,
            ),
            ("threat-actor", r#", "name": "x""#),
            ("tool", r#", "name": "x""#),
            ("vulnerability", r#", "name": "x""#),
        ];
        assert_eq!(cases.len(), super::TYPES.len());
        for (kind, rest) in cases {
            let found = run(&obj(kind, rest));
            assert!(found.is_empty(), "{kind}: {found:#?}");
        }
    }

    #[test]
    fn every_sdo_type_reports_its_missing_required_properties() {
        for spec in super::TYPES {
            let found = errors(&obj(spec.name, ""));
            for prop in spec.properties.iter().filter(|p| p.required) {
                assert!(
                    found.contains(&(prop.name.to_string(), "required")),
                    "{}: {prop:?} {found:?}",
                    spec.name
                );
            }
        }
    }

    #[test]
    fn last_seen_before_first_seen() {
        let text = obj(
            "campaign",
            r#", "name": "x", "first_seen": "2020-01-02T00:00:00Z", "last_seen": "2020-01-01T00:00:00Z""#,
        );
        let found = run(&text);
        assert_eq!(found.len(), 1, "{found:#?}");
        assert_eq!(found[0].property, "last_seen");
        assert_eq!(
            found[0].message,
            "2020-01-01T00:00:00Z must be later than or equal to first_seen (2020-01-02T00:00:00Z)"
        );
        let equal = obj(
            "campaign",
            r#", "name": "x", "first_seen": "2020-01-01T00:00:00Z", "last_seen": "2020-01-01T00:00:00.000Z""#,
        );
        assert!(run(&equal).is_empty());
    }

    #[test]
    fn valid_until_must_be_strictly_after_valid_from() {
        let text = obj(
            "indicator",
            r#", "pattern": "[file:name = 'a']", "pattern_type": "stix", "valid_from": "2020-01-01T00:00:00Z", "valid_until": "2020-01-01T00:00:00Z""#,
        );
        assert_eq!(
            errors(&text),
            vec![("valid_until".to_string(), "timestamp-order")]
        );
    }

    #[test]
    fn location_coordinates() {
        assert_eq!(
            errors(&obj("location", r#", "name": "x""#)),
            vec![(String::new(), "location-required")]
        );
        assert_eq!(
            errors(&obj(
                "location",
                r#", "region": "europe", "latitude": 10.5"#
            )),
            vec![("longitude".to_string(), "dependent-property")]
        );
        assert_eq!(
            errors(&obj("location", r#", "country": "FR", "precision": 10"#)),
            vec![
                ("latitude".to_string(), "dependent-property"),
                ("longitude".to_string(), "dependent-property")
            ]
        );
        assert!(
            errors(&obj(
                "location",
                r#", "latitude": 1, "longitude": -2.5, "precision": 5"#
            ))
            .is_empty()
        );
        assert_eq!(
            errors(&obj("location", r#", "latitude": 91, "longitude": 0"#)),
            vec![("latitude".to_string(), "number-range")]
        );
    }

    #[test]
    fn observed_data_content() {
        let base = r#", "first_observed": "2020-01-01T00:00:00Z", "last_observed": "2020-01-01T00:00:00Z", "number_observed": 1"#;
        assert_eq!(
            errors(&obj("observed-data", base)),
            vec![(String::new(), "observed-data-content")]
        );
        let both = format!(
            r#"{base}, "objects": {{"0": {{"type": "file", "name": "a"}}}}, "object_refs": ["file--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"]"#
        );
        assert_eq!(
            errors(&obj("observed-data", &both)),
            vec![("objects".to_string(), "observed-data-content")]
        );
        let deprecated = format!(
            r#"{base}, "objects": {{"0": {{"type": "file", "spec_version": "2.1", "id": "file--5e2e2d2b-17d4-5cbf-938f-98ee46b3cd3f", "name": "a"}}}}"#
        );
        assert!(errors(&obj("observed-data", &deprecated)).is_empty());
        assert!(
            run(&obj("observed-data", &deprecated))
                .iter()
                .any(|d| d.rule == "deprecated-property"
                    && d.severity == Severity::Warning
                    && d.property == "objects")
        );
        let not_sco = format!(r#"{base}, "objects": {{"0": {{"type": "malware"}}, "1": 5}}"#);
        assert_eq!(
            errors(&obj("observed-data", &not_sco)),
            vec![
                ("objects.0.type".to_string(), "observed-data-content"),
                ("objects.1".to_string(), "json-type")
            ]
        );
        let to_sdo =
            format!(r#"{base}, "object_refs": ["malware--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"]"#);
        assert_eq!(
            errors(&obj("observed-data", &to_sdo)),
            vec![("object_refs[0]".to_string(), "reference-type")]
        );
        let too_many = r#", "first_observed": "2020-01-01T00:00:00Z", "last_observed": "2020-01-01T00:00:00Z", "number_observed": 1000000000, "object_refs": ["file--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"]"#;
        assert_eq!(
            errors(&obj("observed-data", too_many)),
            vec![("number_observed".to_string(), "integer-range")]
        );
    }

    #[test]
    fn malware_family_needs_a_name() {
        assert_eq!(
            errors(&obj("malware", r#", "is_family": true"#)),
            vec![("name".to_string(), "required")]
        );
        assert!(errors(&obj("malware", r#", "is_family": true, "name": "x""#)).is_empty());
    }

    #[test]
    fn malware_analysis_needs_a_result() {
        assert_eq!(
            errors(&obj("malware-analysis", r#", "product": "x""#)),
            vec![(String::new(), "malware-analysis-result")]
        );
    }

    #[test]
    fn reserved_properties_are_errors() {
        let found = errors(&obj("course-of-action", r#", "name": "x", "action": "y""#));
        assert_eq!(found, vec![("action".to_string(), "reserved-property")]);
    }

    #[test]
    fn enums_and_vocabularies() {
        assert_eq!(
            errors(&obj(
                "opinion",
                r#", "opinion": "maybe", "object_refs": ["malware--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"]"#
            )),
            vec![("opinion".to_string(), "enumeration")]
        );
        let found = run(&obj("tool", r#", "name": "x", "tool_types": ["hammer"]"#));
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].severity, Severity::Warning);
        assert_eq!(found[0].property, "tool_types[0]");
    }
}
