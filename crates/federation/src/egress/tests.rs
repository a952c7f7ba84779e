//! The egress rules, each with objects at every TLP level, for our own data
//! and for data from each of three partners: paris and madrid share the
//! community wc2030, rabat is outside it.
//!
//! | partner | max_tlp | communities | consents recorded in its agreement |
//! |---|---|---|---|
//! | paris | amber+strict | wc2030 | from rabat up to amber |
//! | madrid | amber | wc2030 | none |
//! | rabat | amber+strict | none | from paris up to amber+strict |

use std::collections::HashMap;
use std::fmt::Write as _;

use stix::Timestamp;
use stix::markings::{TLP_1_0_MARKINGS, TLP_2_0_MARKINGS, TlpMarking};

use super::*;
use crate::identity::PublicKey;
use crate::origin::SignatureCheck;
use crate::signature::{SIGNATURE_EXTENSION_ID, sign, signature_extension_definition, verify};

const SHARED: Uuid = uid(0x5a5a_0001);
const INTERNAL: Uuid = uid(0x5a5a_0002);
const PARTNERS: [&str; 3] = ["paris", "madrid", "rabat"];

/// An RFC 4122 version 4 UUID ending in `n` (under 2^48), as STIX ids need.
const fn uid(n: u128) -> Uuid {
    Uuid::from_u128(0x0000_0000_0000_4000_8000_0000_0000_0000 | n)
}

fn node(name: &str, seed: u8) -> NodeIdentity {
    NodeIdentity::from_seed(
        &format!("identity--{}", uid(u128::from(seed) + 0x1000)),
        name,
        Timestamp::parse("2026-11-02T09:00:00.000Z").unwrap(),
        &[seed; 32],
    )
}

fn us() -> NodeIdentity {
    node("PJ Lisboa", 9)
}

fn partner_node(name: &str) -> NodeIdentity {
    match name {
        "paris" => node("paris", 1),
        "madrid" => node("madrid", 2),
        "rabat" => node("rabat", 3),
        other => panic!("no partner {other}"),
    }
}

fn config(extra_paris: &str) -> String {
    let p = |name: &str| {
        let n = partner_node(name);
        format!(
            "identity = \"{}\"\npublic_key = \"{}\"",
            n.identity,
            n.public_key()
        )
    };
    format!(
        r#"
[node]
default_tlp = "amber"
communities = ["wc2030"]

[[partners]]
name = "paris"
{paris}
communities = ["wc2030"]
[partners.outbound]
collections = ["shared"]
max_tlp = "amber+strict"
consents = [{{ originator = "rabat", tlp = "amber", reference = "letter 2026-10-01" }}]
{extra_paris}

[[partners]]
name = "madrid"
{madrid}
communities = ["wc2030"]
[partners.outbound]
collections = ["shared"]
max_tlp = "amber"

[[partners]]
name = "rabat"
{rabat}
[partners.outbound]
collections = ["shared"]
max_tlp = "amber+strict"
consents = [{{ originator = "paris", tlp = "amber+strict", reference = "MoU 2026-03" }}]
"#,
        paris = p("paris"),
        madrid = p("madrid"),
        rabat = p("rabat"),
    )
}

fn context_with(extra_paris: &str) -> EgressContext {
    let agreement = Agreement::from_toml(&config(extra_paris)).unwrap();
    let resolve = |name: &str| match name {
        "shared" => Some(SHARED),
        "internal" => Some(INTERNAL),
        _ => None,
    };
    EgressContext::new(&agreement, us(), &resolve).unwrap()
}

fn context() -> EgressContext {
    context_with("")
}

/// How an object is marked.
#[derive(Debug, Clone, Copy)]
enum Level {
    Marked(&'static TlpMarking),
    Unmarked,
}

/// Every TLP level: the five TLP 2.0 markings, no marking (the node default,
/// AMBER), and the four TLP 1.0 markings.
fn levels() -> Vec<Level> {
    TLP_2_0_MARKINGS
        .iter()
        .map(Level::Marked)
        .chain([Level::Unmarked])
        .chain(TLP_1_0_MARKINGS.iter().map(Level::Marked))
        .collect()
}

fn level_name(level: Level) -> String {
    match level {
        Level::Marked(m) if m.version == stix::markings::TlpVersion::V1 => {
            format!("1.0-{}", m.tlp_value)
        }
        Level::Marked(m) => m.tlp_value.to_owned(),
        Level::Unmarked => "unmarked".to_owned(),
    }
}

fn markings(level: Level) -> String {
    match level {
        Level::Marked(m) => format!(r#", "object_marking_refs": ["{}"]"#, m.id),
        Level::Unmarked => String::new(),
    }
}

fn indicator_with(id: u128, level: Level, extra: &str) -> Vec<u8> {
    format!(
        r#"{{"type": "indicator", "spec_version": "2.1", "id": "indicator--{}",
        "created": "2026-11-02T10:00:00.000Z", "modified": "2026-11-02T10:00:00.000Z",
        "name": "C2 server", "description": "Serveur de commande observé",
        "pattern": "[ipv4-addr:value = '198.51.100.7']", "pattern_type": "stix",
        "valid_from": "2026-11-02T10:00:00Z"{}{extra}}}"#,
        uid(0x1d00 + id),
        markings(level)
    )
    .into_bytes()
}

fn indicator(level: Level) -> Vec<u8> {
    indicator_with(1, level, "")
}

/// Who an object comes from in the tables: us, or a partner that signed it.
fn origins() -> Vec<Option<&'static str>> {
    vec![None, Some("paris"), Some("madrid"), Some("rabat")]
}

/// The item as stored: our data as written, a partner's data signed by it
/// and verified on receipt.
fn item_from(origin: Option<&str>, collection: Uuid, bytes: Vec<u8>) -> EgressItem {
    match origin {
        None => EgressItem {
            collection,
            bytes,
            origin: Origin::Own,
        },
        Some(source) => {
            let signer = partner_node(source);
            EgressItem {
                collection,
                bytes: sign(&bytes, &signer).unwrap(),
                origin: Origin::Partner {
                    source: source.to_owned(),
                    signature: SignatureCheck::Verified {
                        signer: signer.identity,
                    },
                },
            }
        }
    }
}

fn no_ends(_: &str) -> Option<EgressItem> {
    None
}

/// The rule per (origin → recipient) row and TLP level column.
fn grid(ctx: &EgressContext, collection: Uuid, object: impl Fn(Level) -> Vec<u8>) -> String {
    let mut out = String::from("origin→to      ");
    for level in levels() {
        let _ = write!(out, " {:<15}", level_name(level));
    }
    out = out.trim_end().to_owned();
    out.push('\n');
    for origin in origins() {
        for to in PARTNERS {
            let mut line = format!("{:<15}", format!("{}→{to}", origin.unwrap_or("own")));
            for level in levels() {
                let item = item_from(origin, collection, object(level));
                let decision = decide(ctx, to, &item, &no_ends);
                let _ = write!(line, " {:<15}", short(decision.rule()));
            }
            out.push_str(line.trim_end());
            out.push('\n');
        }
    }
    out
}

/// Short cell names for the tables.
fn short(rule: Rule) -> &'static str {
    match rule {
        Rule::OwnData => "own",
        Rule::ThirdPartyClear => "tp-clear",
        Rule::ThirdPartyGreenCommunity => "tp-community",
        Rule::ThirdPartyConsent => "tp-consent",
        Rule::TlpRed => "RED",
        Rule::TlpAboveAgreement => "ABOVE",
        Rule::EchoToSource => "ECHO",
        Rule::ThirdPartyGreenNoCommunity => "NO-COMMUNITY",
        Rule::ThirdPartyNoConsent => "NO-CONSENT",
        Rule::CollectionNotShared => "COLLECTION",
        Rule::TypeNotShared => "TYPE",
        Rule::LabelRequiredMissing => "LABEL-MISSING",
        Rule::LabelExcluded => "LABEL-EXCLUDED",
        other => other.as_str(),
    }
}

fn assert_table(actual: &str, expected: &str) {
    let expected: String = expected
        .lines()
        .map(str::trim_end)
        .filter(|l| !l.is_empty())
        .map(|l| format!("{}\n", l.strip_prefix("        ").unwrap_or(l)))
        .collect();
    assert!(
        actual == expected,
        "actual:\n{actual}\nexpected:\n{expected}"
    );
}

/// TLP, echo and the third-party rule together: the whole table.
#[test]
fn tlp_echo_and_third_party_rules_at_every_level() {
    let ctx = context();
    assert_table(
        &grid(&ctx, SHARED, indicator),
        r"
        origin→to       clear           green           amber           amber+strict    red             unmarked        1.0-white       1.0-green       1.0-amber       1.0-red
        own→paris       own             own             own             own             RED             own             own             own             own             RED
        own→madrid      own             own             own             ABOVE           RED             own             own             own             own             RED
        own→rabat       own             own             own             own             RED             own             own             own             own             RED
        paris→paris     ECHO            ECHO            ECHO            ECHO            RED             ECHO            ECHO            ECHO            ECHO            RED
        paris→madrid    tp-clear        tp-community    NO-CONSENT      ABOVE           RED             NO-CONSENT      tp-clear        tp-community    NO-CONSENT      RED
        paris→rabat     tp-clear        tp-consent      tp-consent      tp-consent      RED             tp-consent      tp-clear        tp-consent      tp-consent      RED
        madrid→paris    tp-clear        tp-community    NO-CONSENT      NO-CONSENT      RED             NO-CONSENT      tp-clear        tp-community    NO-CONSENT      RED
        madrid→madrid   ECHO            ECHO            ECHO            ABOVE           RED             ECHO            ECHO            ECHO            ECHO            RED
        madrid→rabat    tp-clear        NO-COMMUNITY    NO-CONSENT      NO-CONSENT      RED             NO-CONSENT      tp-clear        NO-COMMUNITY    NO-CONSENT      RED
        rabat→paris     tp-clear        tp-consent      tp-consent      NO-CONSENT      RED             tp-consent      tp-clear        tp-consent      tp-consent      RED
        rabat→madrid    tp-clear        NO-COMMUNITY    NO-CONSENT      ABOVE           RED             NO-CONSENT      tp-clear        NO-COMMUNITY    NO-CONSENT      RED
        rabat→rabat     ECHO            ECHO            ECHO            ECHO            RED             ECHO            ECHO            ECHO            ECHO            RED
        ",
    );
}

#[test]
fn the_node_default_applies_to_unmarked_objects() {
    let text = config("").replace("default_tlp = \"amber\"", "default_tlp = \"green\"");
    let agreement = Agreement::from_toml(&text).unwrap();
    let ctx = EgressContext::new(&agreement, us(), &|_| Some(SHARED)).unwrap();
    let item = item_from(Some("madrid"), SHARED, indicator(Level::Unmarked));
    // GREEN by default: within the community, not outside it.
    assert_eq!(
        decide(&ctx, "paris", &item, &no_ends).rule(),
        Rule::ThirdPartyGreenCommunity
    );
    assert_eq!(
        decide(&ctx, "rabat", &item, &no_ends).rule(),
        Rule::ThirdPartyGreenNoCommunity
    );

    let text = config("").replace("default_tlp = \"amber\"", "default_tlp = \"red\"");
    let agreement = Agreement::from_toml(&text).unwrap();
    let ctx = EgressContext::new(&agreement, us(), &|_| Some(SHARED)).unwrap();
    let own = item_from(None, SHARED, indicator(Level::Unmarked));
    let decision = decide(&ctx, "paris", &own, &no_ends);
    assert_eq!(decision.rule(), Rule::TlpRed);
    let Decision::Withhold { detail, .. } = decision else {
        panic!()
    };
    assert!(detail.contains("unmarked, the node default"), "{detail}");
}

#[test]
fn collection_not_shared_at_every_level() {
    let ctx = context();
    let table = grid(&ctx, INTERNAL, indicator);
    for line in table.lines().skip(1) {
        let cells: Vec<&str> = line.split_whitespace().skip(1).collect();
        assert_eq!(cells, ["COLLECTION"; 10], "{line}");
    }
    let decision = decide(
        &ctx,
        "paris",
        &item_from(None, INTERNAL, indicator(Level::Unmarked)),
        &no_ends,
    );
    assert_eq!(
        decision,
        Decision::Withhold {
            rule: Rule::CollectionNotShared,
            detail: format!("collection {INTERNAL} is not shared with paris"),
        }
    );
}

#[test]
fn type_not_shared_at_every_level() {
    let ctx = context_with("types = [\"malware\", \"relationship\"]");
    let table = grid(&ctx, SHARED, indicator);
    for line in table.lines().skip(1) {
        let (row, cells) = line.split_once(' ').unwrap();
        let cells: Vec<&str> = cells.split_whitespace().collect();
        if row.ends_with("→paris") {
            assert_eq!(cells, ["TYPE"; 10], "{line}");
        } else {
            assert!(!cells.contains(&"TYPE"), "{line}");
        }
    }
}

#[test]
fn labels_required_and_excluded_at_every_level() {
    // Labels come after TLP: RED and above-agreement rows keep their rule.
    let ctx =
        context_with("labels_required = [\"wc2030\", \"ops\"]\nlabels_excluded = [\"internal\"]");
    let only_one = |level| indicator_with(1, level, r#", "labels": ["wc2030"]"#);
    let both = |level| indicator_with(1, level, r#", "labels": ["ops", "wc2030"]"#);
    let excluded = |level| indicator_with(1, level, r#", "labels": ["ops", "wc2030", "internal"]"#);
    let paris_row = |table: &str, origin: &str| -> Vec<String> {
        table
            .lines()
            .find(|l| l.starts_with(&format!("{origin}→paris ")))
            .unwrap()
            .split_whitespace()
            .skip(1)
            .map(str::to_owned)
            .collect()
    };
    let expect = |cell: &str| -> Vec<String> {
        [cell, cell, cell, cell, "RED", cell, cell, cell, cell, "RED"]
            .map(str::to_owned)
            .to_vec()
    };
    assert_eq!(
        paris_row(&grid(&ctx, SHARED, only_one), "own"),
        expect("LABEL-MISSING")
    );
    assert_eq!(
        paris_row(&grid(&ctx, SHARED, indicator), "own"),
        expect("LABEL-MISSING")
    );
    assert_eq!(paris_row(&grid(&ctx, SHARED, both), "own"), expect("own"));
    assert_eq!(
        paris_row(&grid(&ctx, SHARED, excluded), "own"),
        expect("LABEL-EXCLUDED")
    );
    assert_eq!(
        paris_row(&grid(&ctx, SHARED, excluded), "madrid"),
        expect("LABEL-EXCLUDED")
    );
    // Other partners' agreements name no labels.
    for table in [grid(&ctx, SHARED, indicator), grid(&ctx, SHARED, excluded)] {
        for line in table.lines().filter(|l| !l.contains("→paris")) {
            assert!(!line.contains("LABEL"), "{line}");
        }
    }
    let decision = decide(
        &ctx,
        "paris",
        &item_from(None, SHARED, indicator(Level::Unmarked)),
        &no_ends,
    );
    assert_eq!(
        decision,
        Decision::Withhold {
            rule: Rule::LabelRequiredMissing,
            detail: "label \"wc2030\" is required for paris".to_owned(),
        }
    );
}

#[test]
fn marking_and_extension_definitions_always_go_untouched_from_a_shared_collection() {
    let ctx = context_with("types = [\"indicator\"]");
    let mut definitions: Vec<Vec<u8>> = TLP_2_0_MARKINGS
        .iter()
        .chain(TLP_1_0_MARKINGS.iter())
        .map(|m| json::to_string(&m.to_value()).into_bytes())
        .collect();
    // A statement marking that is itself marked RED still goes: markings must
    // be resolvable by whoever receives what they mark.
    definitions.push(
        format!(
            r#"{{"type": "marking-definition", "spec_version": "2.1", "id": "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41db", "created": "2026-01-01T00:00:00.000Z", "definition_type": "statement", "definition": {{"statement": "Copyright DGSN"}}, "object_marking_refs": ["{}"]}}"#,
            Tlp::Red.marking_id()
        )
        .into_bytes(),
    );
    let extension = json::to_string(&signature_extension_definition()).into_bytes();
    for (bytes, rule) in definitions
        .into_iter()
        .map(|b| (b, Rule::MarkingDefinition))
        .chain([(extension, Rule::ExtensionDefinition)])
    {
        for origin in origins() {
            let mut item = item_from(origin, SHARED, bytes.clone());
            item.bytes = bytes.clone();
            for to in PARTNERS {
                assert_eq!(
                    decide(&ctx, to, &item, &no_ends),
                    Decision::Disclose {
                        bytes: bytes.clone(),
                        rule,
                        redacted: false
                    },
                    "{to}"
                );
                // Nothing of a collection the agreement does not share goes.
                item.collection = INTERNAL;
                assert_eq!(
                    decide(&ctx, to, &item, &no_ends).rule(),
                    Rule::CollectionNotShared,
                    "{to}"
                );
                item.collection = SHARED;
            }
        }
    }
}

#[test]
fn published_identities_go_whatever_the_agreement_ours_signed_the_project_s_untouched() {
    // Paris takes indicators only, and only those labelled wc2030: no identity could
    // go by the ordinary rules, yet the identities a signature needs do.
    let ctx = context_with("types = [\"indicator\"]\nlabels_required = [\"wc2030\"]");
    let ours = json::to_string(&us().stix_object()).into_bytes();
    let project = json::to_string(&crate::signature::project_identity()).into_bytes();
    // As stored: ours as published, or as a partner gave it (it travels unsigned).
    let item_from = |origin: Option<&str>, collection, bytes: &Vec<u8>| EgressItem {
        collection,
        bytes: bytes.clone(),
        origin: origin.map_or(Origin::Own, |source| Origin::Partner {
            source: source.to_owned(),
            signature: SignatureCheck::Unsigned,
        }),
    };
    for origin in origins() {
        for to in PARTNERS {
            let item = item_from(origin, SHARED, &project);
            assert_eq!(
                decide(&ctx, to, &item, &no_ends),
                Decision::Disclose {
                    bytes: project.clone(),
                    rule: Rule::PublishedIdentity,
                    redacted: false
                },
                "{to}"
            );
            let item = item_from(origin, SHARED, &ours);
            let (bytes, rule, redacted) = disclosed(decide(&ctx, to, &item, &no_ends));
            assert_eq!((rule, redacted), (Rule::PublishedIdentity, false), "{to}");
            assert_eq!(
                verify(&bytes, &keys()),
                SignatureCheck::Verified {
                    signer: us().identity
                }
            );
            // Nothing of a collection the agreement does not share goes.
            for bytes in [&project, &ours] {
                let item = item_from(origin, INTERNAL, bytes);
                assert_eq!(
                    decide(&ctx, to, &item, &no_ends).rule(),
                    Rule::CollectionNotShared
                );
            }
        }
    }
    // Anything else under the same id is an ordinary identity again.
    let mut changed = us().stix_object();
    changed
        .as_object_mut()
        .unwrap()
        .insert("modified", Value::from("2026-12-01T00:00:00.000Z"));
    let item = item_from(None, SHARED, &json::to_string(&changed).into_bytes());
    assert_eq!(
        decide(&ctx, "paris", &item, &no_ends).rule(),
        Rule::TypeNotShared
    );
}

fn keys() -> impl Fn(&str) -> Option<PublicKey> {
    let known: Vec<(String, PublicKey)> = ["paris", "madrid", "rabat"]
        .into_iter()
        .map(partner_node)
        .chain([us()])
        .map(|n| (n.identity.clone(), n.public_key()))
        .collect();
    move |id: &str| known.iter().find(|(i, _)| i == id).map(|(_, k)| *k)
}

fn disclosed(decision: Decision) -> (Vec<u8>, Rule, bool) {
    match decision {
        Decision::Disclose {
            bytes,
            rule,
            redacted,
        } => (bytes, rule, redacted),
        Decision::Withhold { rule, detail } => panic!("withheld by {rule}: {detail}"),
    }
}

#[test]
fn our_data_is_signed_by_us() {
    let ctx = context();
    let mut checked = 0;
    for level in levels() {
        let item = item_from(None, SHARED, indicator(level));
        let Decision::Disclose { bytes, .. } = decide(&ctx, "paris", &item, &no_ends) else {
            continue;
        };
        checked += 1;
        assert_eq!(
            verify(&bytes, &keys()),
            SignatureCheck::Verified {
                signer: us().identity
            },
            "{}",
            level_name(level)
        );
        // Everything else is as stored.
        let mut sent = json::parse(&bytes).unwrap();
        sent.as_object_mut().unwrap().remove("extensions");
        assert_eq!(
            json::to_string(&sent),
            json::to_string(&json::parse(&item.bytes).unwrap())
        );
    }
    assert_eq!(checked, 8, "every level but the two REDs");
}

#[test]
fn third_party_data_keeps_the_originators_signature_bytes() {
    let ctx = context();
    let mut checked = 0;
    for level in levels() {
        let item = item_from(Some("paris"), SHARED, indicator(level));
        let Decision::Disclose {
            bytes, redacted, ..
        } = decide(&ctx, "rabat", &item, &no_ends)
        else {
            continue;
        };
        checked += 1;
        assert!(!redacted);
        assert_eq!(bytes, item.bytes, "{}", level_name(level));
        assert_eq!(
            verify(&bytes, &keys()),
            SignatureCheck::Verified {
                signer: partner_node("paris").identity
            }
        );
    }
    assert_eq!(checked, 8, "every level but the two REDs");
    // Unsigned third-party data is passed on as it is: we do not vouch for it.
    let unsigned = EgressItem {
        collection: SHARED,
        bytes: indicator(Level::Marked(&stix::markings::TLP_CLEAR)),
        origin: Origin::Partner {
            source: "paris".into(),
            signature: SignatureCheck::Unsigned,
        },
    };
    let (bytes, rule, _) = disclosed(decide(&ctx, "madrid", &unsigned, &no_ends));
    assert_eq!(
        (bytes, rule),
        (unsigned.bytes.clone(), Rule::ThirdPartyClear)
    );
}

fn granular(level: Level, selectors: &str) -> String {
    match level {
        Level::Marked(m) => format!(
            r#", "granular_markings": [{{"marking_ref": "{}", "selectors": [{selectors}]}}]"#,
            m.id
        ),
        Level::Unmarked => String::new(),
    }
}

/// A GREEN indicator whose description is marked at `level`.
fn with_marked_description(level: Level) -> Vec<u8> {
    indicator_with(
        1,
        Level::Marked(&stix::markings::TLP_GREEN),
        &granular(level, r#""description""#),
    )
}

#[test]
fn granular_markings_above_the_partners_level_are_removed() {
    let ctx = context();
    for level in levels() {
        let Level::Marked(marking) = level else {
            continue;
        };
        let item = item_from(None, SHARED, with_marked_description(level));
        for to in PARTNERS {
            let max = ctx.partner(to).unwrap().max_tlp;
            let (bytes, rule, redacted) = disclosed(decide(&ctx, to, &item, &no_ends));
            assert_eq!(rule, Rule::OwnData);
            let sent = json::parse(&bytes).unwrap();
            let removed = marking.level > max;
            assert_eq!(redacted, removed, "{} to {to}", level_name(level));
            assert_eq!(sent.get("description").is_none(), removed);
            // The marking went with what it marked.
            assert_eq!(sent.get("granular_markings").is_none(), removed);
            assert!(
                stix::validate_object(&sent)
                    .iter()
                    .all(|d| d.severity != Severity::Error)
            );
            assert_eq!(
                verify(&bytes, &keys()),
                SignatureCheck::Verified {
                    signer: us().identity
                }
            );
        }
    }
}

#[test]
fn redaction_that_would_leave_the_object_invalid_withholds_it() {
    let ctx = context();
    for level in levels() {
        let Level::Marked(marking) = level else {
            continue;
        };
        // `pattern` is required: an indicator without it is invalid.
        let bytes = indicator_with(
            1,
            Level::Marked(&stix::markings::TLP_GREEN),
            &granular(level, r#""pattern", "description""#),
        );
        let item = item_from(None, SHARED, bytes);
        for to in PARTNERS {
            let decision = decide(&ctx, to, &item, &no_ends);
            if marking.level > ctx.partner(to).unwrap().max_tlp {
                assert_eq!(
                    decision.rule(),
                    Rule::RedactionInvalid,
                    "{} {to}",
                    level_name(level)
                );
                let Decision::Withhold { detail, .. } = decision else {
                    panic!()
                };
                assert!(detail.contains("pattern"), "{detail}");
            } else {
                assert_eq!(decision.rule(), Rule::OwnData);
            }
        }
    }
}

#[test]
fn third_party_redaction_follows_the_third_party_rule_and_is_re_signed_by_us() {
    let ctx = context();
    // paris's GREEN indicator with an AMBER description.
    let item = item_from(
        Some("paris"),
        SHARED,
        with_marked_description(Level::Marked(&stix::markings::TLP_AMBER)),
    );
    // madrid: GREEN through the community, but no consent for AMBER: the
    // description goes, and the object is signed by us since paris did not sign that.
    let (bytes, rule, redacted) = disclosed(decide(&ctx, "madrid", &item, &no_ends));
    assert_eq!((rule, redacted), (Rule::ThirdPartyGreenCommunity, true));
    assert!(json::parse(&bytes).unwrap().get("description").is_none());
    assert_eq!(
        verify(&bytes, &keys()),
        SignatureCheck::Verified {
            signer: us().identity
        }
    );
    // rabat: paris consented up to AMBER+STRICT: untouched, paris's signature.
    let (bytes, rule, redacted) = disclosed(decide(&ctx, "rabat", &item, &no_ends));
    assert_eq!((rule, redacted), (Rule::ThirdPartyConsent, false));
    assert_eq!(bytes, item.bytes);
}

fn object(bytes: String) -> Vec<u8> {
    bytes.into_bytes()
}

fn malware(id: u128, level: Level) -> Vec<u8> {
    object(format!(
        r#"{{"type": "malware", "spec_version": "2.1", "id": "malware--{}", "created": "2026-11-02T10:00:00.000Z", "modified": "2026-11-02T10:00:00.000Z", "name": "Rakhni", "is_family": true{}}}"#,
        uid(0xa000 + id),
        markings(level)
    ))
}

fn relationship(source: &str, target: &str) -> Vec<u8> {
    relationship_with_id(0xbeef, source, target)
}

fn relationship_with_id(id: u128, source: &str, target: &str) -> Vec<u8> {
    object(format!(
        r#"{{"type": "relationship", "spec_version": "2.1", "id": "relationship--{}", "created": "2026-11-02T10:00:00.000Z", "modified": "2026-11-02T10:00:00.000Z", "relationship_type": "indicates", "source_ref": "{source}", "target_ref": "{target}", "object_marking_refs": ["{}"]}}"#,
        uid(id),
        Tlp::Clear.marking_id()
    ))
}

fn id_of(bytes: &[u8]) -> String {
    json::parse(bytes)
        .unwrap()
        .get("id")
        .unwrap()
        .as_str()
        .unwrap()
        .to_owned()
}

/// Ends held locally, by id.
struct Held(HashMap<String, EgressItem>);

impl Held {
    fn new(items: Vec<EgressItem>) -> Held {
        Held(items.into_iter().map(|i| (id_of(&i.bytes), i)).collect())
    }
}

impl EndsLookup for Held {
    fn end(&self, id: &str) -> Option<EgressItem> {
        self.0.get(id).cloned()
    }
}

#[test]
fn a_relationship_goes_only_if_both_ends_may_at_every_level() {
    let ctx = context();
    let source = item_from(
        None,
        SHARED,
        indicator(Level::Marked(&stix::markings::TLP_GREEN)),
    );
    let (mut went, mut stopped) = (0, 0);
    for origin in origins() {
        for level in levels() {
            let target = item_from(origin, SHARED, malware(1, level));
            let rel = item_from(
                None,
                SHARED,
                relationship(&id_of(&source.bytes), &id_of(&target.bytes)),
            );
            let held = Held::new(vec![source.clone(), target.clone()]);
            for to in PARTNERS {
                let end = decide(&ctx, to, &target, &no_ends);
                let decision = decide(&ctx, to, &rel, &held);
                // An end the partner gave us does not stop the relationship: it holds it.
                let end_may_go = end.is_disclosed() || end.rule() == Rule::EchoToSource;
                if end_may_go {
                    went += 1;
                    assert_eq!(
                        decision.rule(),
                        Rule::OwnData,
                        "{origin:?} {} to {to}",
                        level_name(level)
                    );
                } else {
                    let Decision::Withhold { rule, detail } = decision else {
                        panic!(
                            "{origin:?} {} to {to}: the relationship went",
                            level_name(level)
                        )
                    };
                    stopped += 1;
                    assert_eq!(rule, Rule::RelationshipEndWithheld);
                    assert!(
                        detail.contains(&id_of(&target.bytes))
                            && detail.contains(end.rule().as_str()),
                        "{detail}"
                    );
                }
            }
        }
    }
    assert!(went > 20 && stopped > 20, "{went} went, {stopped} stopped");
}

#[test]
fn relationship_ends_we_do_not_hold_or_do_not_share_withhold_it() {
    let ctx = context();
    let source = item_from(None, SHARED, indicator(Level::Unmarked));
    let target = item_from(None, INTERNAL, malware(1, Level::Unmarked));
    let rel = item_from(
        None,
        SHARED,
        relationship(&id_of(&source.bytes), &id_of(&target.bytes)),
    );

    let only_source = Held::new(vec![source.clone()]);
    let Decision::Withhold { rule, detail } = decide(&ctx, "paris", &rel, &only_source) else {
        panic!()
    };
    assert_eq!(rule, Rule::RelationshipEndWithheld);
    assert!(detail.contains("not held here"), "{detail}");

    let both = Held::new(vec![source, target]);
    let Decision::Withhold { rule, detail } = decide(&ctx, "paris", &rel, &both) else {
        panic!()
    };
    assert_eq!(rule, Rule::RelationshipEndWithheld);
    assert!(detail.contains("collection-not-shared"), "{detail}");
}

#[test]
fn ends_are_followed_one_level_deep() {
    let ctx = context();
    let a = item_from(None, SHARED, indicator(Level::Unmarked));
    let b = item_from(None, SHARED, malware(1, Level::Unmarked));
    // A relationship between a relationship and `a`; the inner relationship's
    // own ends are not looked up (one of them is not even held).
    let inner = item_from(
        None,
        SHARED,
        relationship(
            &id_of(&b.bytes),
            "malware--00000000-0000-4000-8000-000000000000",
        ),
    );
    let outer = item_from(
        None,
        SHARED,
        relationship_with_id(0xbeee, &id_of(&inner.bytes), &id_of(&a.bytes)),
    );
    let held = Held::new(vec![a, b, inner.clone()]);
    assert_eq!(decide(&ctx, "paris", &outer, &held).rule(), Rule::OwnData);
    assert_eq!(
        decide(&ctx, "paris", &inner, &held).rule(),
        Rule::RelationshipEndWithheld
    );
}

#[test]
fn sighting_ends_are_all_checked() {
    let ctx = context();
    let ind = item_from(None, SHARED, indicator(Level::Unmarked));
    let ours = us().stix_object();
    let place = item_from(None, SHARED, json::to_string(&ours).into_bytes());
    let secret_place = item_from(
        None,
        INTERNAL,
        json::to_string(&partner_node("rabat").stix_object()).into_bytes(),
    );
    let sighting = |where_sighted: &[&str]| {
        let refs: Vec<String> = where_sighted.iter().map(|r| format!("\"{r}\"")).collect();
        item_from(
            None,
            SHARED,
            object(format!(
                r#"{{"type": "sighting", "spec_version": "2.1", "id": "sighting--{}", "created": "2026-11-02T10:00:00.000Z", "modified": "2026-11-02T10:00:00.000Z", "sighting_of_ref": "{}", "where_sighted_refs": [{}]}}"#,
                uid(0x5157),
                id_of(&ind.bytes),
                refs.join(", ")
            )),
        )
    };
    let held = Held::new(vec![ind.clone(), place.clone(), secret_place.clone()]);
    let ok = sighting(&[&id_of(&place.bytes)]);
    assert_eq!(decide(&ctx, "madrid", &ok, &held).rule(), Rule::OwnData);
    let not_ok = sighting(&[&id_of(&place.bytes), &id_of(&secret_place.bytes)]);
    let Decision::Withhold { rule, detail } = decide(&ctx, "madrid", &not_ok, &held) else {
        panic!()
    };
    assert_eq!(rule, Rule::RelationshipEndWithheld);
    assert!(detail.contains(&id_of(&secret_place.bytes)), "{detail}");
}

#[test]
fn never_echoed_to_the_source_nor_to_the_originator() {
    let ctx = context();
    let bytes = indicator(Level::Marked(&stix::markings::TLP_CLEAR));
    // madrid's object, forwarded to us by paris.
    let madrid = partner_node("madrid");
    let item = EgressItem {
        collection: SHARED,
        bytes: sign(&bytes, &madrid).unwrap(),
        origin: Origin::Partner {
            source: "paris".into(),
            signature: SignatureCheck::Verified {
                signer: madrid.identity.clone(),
            },
        },
    };
    let withheld = |to: &str| match decide(&ctx, to, &item, &no_ends) {
        Decision::Withhold { rule, detail } => (rule, detail),
        other => panic!("{other:?}"),
    };
    assert_eq!(
        withheld("paris"),
        (Rule::EchoToSource, "paris gave it to us".to_owned())
    );
    assert_eq!(
        withheld("madrid"),
        (
            Rule::EchoToSource,
            "madrid originated it (its signature)".to_owned()
        )
    );
    assert_eq!(
        decide(&ctx, "rabat", &item, &no_ends).rule(),
        Rule::ThirdPartyClear
    );

    // A signature naming madrid that we could not verify still keeps it from madrid.
    for signature in [
        SignatureCheck::Invalid {
            signer: madrid.identity.clone(),
        },
        SignatureCheck::UnknownSigner {
            signer: madrid.identity.clone(),
        },
    ] {
        let item = EgressItem {
            origin: Origin::Partner {
                source: "paris".into(),
                signature,
            },
            ..item.clone()
        };
        assert_eq!(
            decide(&ctx, "madrid", &item, &no_ends).rule(),
            Rule::EchoToSource
        );
    }
}

#[test]
fn the_originator_not_the_source_decides_consent_and_community() {
    let ctx = context();
    let bytes = indicator(Level::Marked(&stix::markings::TLP_AMBER));
    // rabat's AMBER object, forwarded to us by madrid (with rabat's consent to us).
    let rabat = partner_node("rabat");
    let item = EgressItem {
        collection: SHARED,
        bytes: sign(&bytes, &rabat).unwrap(),
        origin: Origin::Partner {
            source: "madrid".into(),
            signature: SignatureCheck::Verified {
                signer: rabat.identity.clone(),
            },
        },
    };
    // paris holds a consent from rabat up to AMBER.
    assert_eq!(
        decide(&ctx, "paris", &item, &no_ends).rule(),
        Rule::ThirdPartyConsent
    );
    // When the signature is not verified, the source is the originator: madrid
    // gave no consent to paris.
    let unverified = EgressItem {
        origin: Origin::Partner {
            source: "madrid".into(),
            signature: SignatureCheck::UnknownSigner {
                signer: "identity--99999999-0000-4000-8000-000000000000".into(),
            },
        },
        ..item
    };
    assert_eq!(
        decide(&ctx, "paris", &unverified, &no_ends).rule(),
        Rule::ThirdPartyNoConsent
    );
}

#[test]
fn consent_present_and_absent() {
    let ctx = context();
    for level in [Tlp::Amber, Tlp::AmberStrict] {
        let item = item_from(
            Some("paris"),
            SHARED,
            indicator(Level::Marked(level.marking())),
        );
        // rabat's agreement records paris's consent; madrid's does not.
        assert_eq!(
            decide(&ctx, "rabat", &item, &no_ends).rule(),
            Rule::ThirdPartyConsent
        );
        let Decision::Withhold { rule, detail } = decide(
            &ctx,
            "paris",
            &item_from(
                Some("madrid"),
                SHARED,
                indicator(Level::Marked(level.marking())),
            ),
            &no_ends,
        ) else {
            panic!()
        };
        assert_eq!(rule, Rule::ThirdPartyNoConsent);
        assert!(detail.contains("none is recorded"), "{detail}");
    }
    // A consent up to AMBER does not cover AMBER+STRICT.
    let item = item_from(
        Some("rabat"),
        SHARED,
        indicator(Level::Marked(Tlp::AmberStrict.marking())),
    );
    let Decision::Withhold { rule, detail } = decide(&ctx, "paris", &item, &no_ends) else {
        panic!()
    };
    assert_eq!(rule, Rule::ThirdPartyNoConsent);
    assert!(detail.contains("covers up to TLP:AMBER"), "{detail}");
}

#[test]
fn unknown_partners_and_unparseable_objects_are_withheld() {
    let ctx = context();
    let item = item_from(None, SHARED, indicator(Level::Unmarked));
    assert_eq!(
        decide(&ctx, "lisbon", &item, &no_ends).rule(),
        Rule::UnknownPartner
    );
    for bytes in [&b"{not json"[..], b"[1]", br#"{"id": "indicator--x"}"#] {
        let item = EgressItem {
            bytes: bytes.to_vec(),
            ..item.clone()
        };
        assert_eq!(
            decide(&ctx, "paris", &item, &no_ends).rule(),
            Rule::Unparseable
        );
    }
}

#[test]
fn an_agreement_naming_an_unknown_collection_is_refused() {
    let agreement = Agreement::from_toml(&config("")).unwrap();
    let err = EgressContext::new(&agreement, us(), &|name| {
        (name == "other").then_some(SHARED)
    })
    .unwrap_err();
    assert_eq!(
        err,
        ConfigError::Partner {
            partner: "paris".into(),
            field: "outbound.collections[0]".into(),
            message: "\"shared\" is not a collection of this node (id or alias)".into(),
        }
    );
}

#[test]
fn rule_names_are_stable_kebab_case() {
    let names: Vec<&str> = Rule::ALL.iter().map(|r| r.as_str()).collect();
    let mut unique = names.clone();
    unique.sort_unstable();
    unique.dedup();
    assert_eq!(unique.len(), names.len());
    for rule in Rule::ALL {
        let text = rule.to_string();
        assert!(
            text.bytes().all(|b| b.is_ascii_lowercase() || b == b'-'),
            "{text}"
        );
        assert_eq!(text.parse::<Rule>(), Ok(rule));
    }
    assert_eq!(
        Rule::ThirdPartyGreenCommunity.to_string(),
        "third-party-green-community"
    );
    assert_eq!(Rule::TlpAboveAgreement.to_string(), "tlp-above-agreement");
    assert_eq!("own".parse::<Rule>(), Err(ParseRuleError("own".into())));
    let allowing: Vec<Rule> = Rule::ALL.into_iter().filter(|r| r.allows()).collect();
    assert_eq!(
        allowing,
        [
            Rule::MarkingDefinition,
            Rule::ExtensionDefinition,
            Rule::PublishedIdentity,
            Rule::OwnData,
            Rule::ThirdPartyClear,
            Rule::ThirdPartyGreenCommunity,
            Rule::ThirdPartyConsent
        ]
    );
}

#[test]
fn the_signature_extension_entry_is_what_we_add() {
    let ctx = context();
    let item = item_from(None, SHARED, indicator(Level::Unmarked));
    let (bytes, _, _) = disclosed(decide(&ctx, "paris", &item, &no_ends));
    let sent = json::parse(&bytes).unwrap();
    let extensions = sent.get("extensions").unwrap().as_object().unwrap();
    assert_eq!(
        extensions.keys().collect::<Vec<_>>(),
        [SIGNATURE_EXTENSION_ID]
    );
}
