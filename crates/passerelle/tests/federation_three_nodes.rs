//! Three real nodes (Rabat, Paris, Madrid: `passerelle demo --once`, each a
//! `passerelle serve` process with its own folder and port) exchange the sample
//! intelligence of `testdata/federation/` under the demo's agreements. Each node's
//! `partners` collection must then hold exactly what the sharing rules allow, every
//! object there must carry its originator's verified signature, and every ledger
//! must verify. With the data travels what each node publishes so its signatures can
//! be read: the signature extension-definition, the project identity that created
//! it, and the node's identity; every node ends up holding each partner's.
//!
//! A second phase on the same nodes covers what the demo's data does not: the GREEN
//! community rule through a forwarding node, an unshared collection, a RED statement
//! marking-definition, and `labels_required` (Madrid requires `euro-ct` on what it
//! sends Paris): what lacks the label is withheld by `label-required-missing` in
//! Madrid's preview, and Paris's view of Madrid over TAXII is exactly the preview.
//!
//! The agreements (see `crates/passerelle/src/cli/demo.rs`):
//! rabat→paris GREEN, rabat→madrid AMBER+STRICT with Paris's consent up to AMBER;
//! paris→rabat AMBER, paris→madrid GREEN; madrid→rabat AMBER, madrid→paris GREEN;
//! `internal` labels excluded by Rabat and Madrid; Madrid sends Paris indicators and
//! relationships only. Communities: wc2030 = {rabat,
//! madrid}, euro-ct = {paris, madrid}.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::Arc;

use federation::publish::PUBLISHED_SOURCE;
use federation::signature::{PROJECT_IDENTITY_ID, SIGNATURE_EXTENSION_ID};
use store::ledger::sha256_hex;
use store::{Direction, LedgerQuery, ObjectQuery, Provenance, SignatureCheck, Store, VersionMatch};

/// The sample objects by short name: (file, id).
fn sample_ids() -> BTreeMap<String, String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/federation");
    let mut ids = BTreeMap::new();
    for node in ["rabat", "paris", "madrid"] {
        let text = std::fs::read_to_string(root.join(format!("{node}.json"))).unwrap();
        let bundle: serde_json::Value = serde_json::from_str(&text).unwrap();
        for object in bundle["objects"].as_array().unwrap() {
            let id = object["id"].as_str().unwrap().to_owned();
            ids.insert(format!("{node}:{}", short(object)), id);
        }
    }
    ids
}

/// A stable short name for a sample object.
fn short(object: &serde_json::Value) -> String {
    let t = object["type"].as_str().unwrap();
    let tlp = match object["object_marking_refs"][0].as_str().unwrap_or("") {
        "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487" => "clear",
        "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9" => "white",
        "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb" => "green",
        "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421" => "amber",
        "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003" => "strict",
        "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1" => "red",
        _ => "unmarked",
    };
    let mut name = format!("{t}-{tlp}");
    if object.get("granular_markings").is_some() {
        name.push_str("-granular");
    }
    if object.get("labels").is_some() {
        name.push_str("-labelled");
    }
    if t == "relationship" && object["source_ref"].as_str().unwrap().contains("38bec5f5") {
        name.push_str("-red-end");
    }
    if t == "indicator" && object["pattern"].as_str().unwrap().contains("exfil@") {
        name = name.replace("-granular", "-granular-pattern");
    }
    name
}

/// A node's store, on the test backend (its database is named in its config).
async fn open(dir: &Path) -> Arc<dyn Store> {
    common::open_store(dir).await
}

/// What a node holds of one object: its provenance, the object, its exact bytes.
type Held = (Provenance, serde_json::Value, Vec<u8>);

/// The latest versions in a node's `partners` collection, by id.
async fn received(store: &dyn Store) -> BTreeMap<String, Held> {
    let collection = store.find_collection("partners").await.unwrap();
    let page = store
        .objects(
            collection.id,
            &ObjectQuery {
                versions: vec![VersionMatch::Last],
                limit: 10_000,
                with_provenance: true,
                ..ObjectQuery::default()
            },
        )
        .await
        .unwrap();
    page.records
        .into_iter()
        .map(|r| {
            (
                r.id,
                (
                    r.provenance.unwrap(),
                    serde_json::from_slice(&r.bytes).unwrap(),
                    r.bytes,
                ),
            )
        })
        .collect()
}

fn names(ids: &BTreeMap<String, String>, wanted: &[&str]) -> BTreeSet<String> {
    wanted
        .iter()
        .map(|n| {
            ids.get(*n)
                .unwrap_or_else(|| panic!("no sample {n}"))
                .clone()
        })
        .collect()
}

#[test]
fn three_nodes_exchange_exactly_what_their_agreements_allow() {
    let dir = tempfile::tempdir().unwrap();
    // On PostgreSQL the demo makes a database per node and keeps it (--keep): dropped
    // by this guard when the test ends, however it ends.
    let _databases = common::DemoDatabases::of(dir.path());
    let out = common::ok(&["demo", "--once", "--keep", dir.path().to_str().unwrap()]);
    assert!(out.contains("== DGST Rabat"), "{out}");
    let ids = sample_ids();
    let by_id: BTreeMap<&String, &String> = ids.iter().map(|(n, id)| (id, n)).collect();

    // Derived rule by rule in the module comment's agreements; every TLP level of
    // every originator appears on some line.
    let expected: [(&str, Vec<&str>); 3] = [
        (
            "paris",
            vec![
                // Rabat's own, GREEN at most: CLEAR and GREEN go, the report without its
                // AMBER description; AMBER, AMBER+STRICT, unmarked (AMBER), RED, the
                // indicator whose pattern is AMBER and the relationship to a RED end stay.
                "rabat:indicator-clear",
                "rabat:indicator-green",
                "rabat:report-green-granular",
                "rabat:identity-clear",
                "rabat:sighting-clear",
                // Madrid's own, GREEN at most, not `internal`, indicators and
                // relationships only: its campaign stays, and with it the relationship
                // pointing at the campaign.
                "madrid:indicator-clear",
                "madrid:indicator-green",
            ],
        ),
        (
            "madrid",
            vec![
                // Rabat's own, AMBER+STRICT at most: all but RED and the RED end.
                "rabat:threat-actor-amber",
                "rabat:indicator-clear",
                "rabat:indicator-green",
                "rabat:indicator-unmarked",
                "rabat:indicator-strict",
                "rabat:report-green-granular",
                "rabat:indicator-green-granular-pattern",
                "rabat:relationship-amber",
                "rabat:identity-clear",
                "rabat:sighting-clear",
                // Paris's own, GREEN at most...
                "paris:indicator-clear",
                "paris:indicator-green",
                "paris:indicator-white",
                // ...and its AMBER ones forwarded by Rabat, with Paris's consent.
                "paris:malware-amber",
                "paris:indicator-amber",
                "paris:relationship-amber",
            ],
        ),
        (
            "rabat",
            vec![
                // Paris's own, AMBER at most: everything.
                "paris:malware-amber",
                "paris:indicator-clear",
                "paris:indicator-green",
                "paris:indicator-amber",
                "paris:indicator-white",
                "paris:relationship-amber",
                // Madrid's own, AMBER at most, not `internal`.
                "madrid:campaign-green",
                "madrid:indicator-clear",
                "madrid:indicator-green",
                "madrid:indicator-amber",
                "madrid:relationship-green",
            ],
        ),
    ];
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let mut identities = BTreeMap::new();
        for node in ["rabat", "paris", "madrid"] {
            let text =
                std::fs::read_to_string(dir.path().join(node).join("identity.json")).unwrap();
            let identity: serde_json::Value = serde_json::from_str(&text).unwrap();
            identities.insert(node, identity["id"].as_str().unwrap().to_owned());
        }
        let nodes = ["rabat", "paris", "madrid"];
        for (node, wanted) in &expected {
            let store = open(&dir.path().join(node)).await;
            let got = received(store.as_ref()).await;
            let partners: Vec<&str> = nodes.iter().copied().filter(|n| n != node).collect();
            // The sample objects: exactly what the agreements let through.
            let got_ids: BTreeSet<String> = got
                .keys()
                .filter(|id| by_id.contains_key(id))
                .cloned()
                .collect();
            let want = names(&ids, wanted);
            let name = |id: &String| by_id.get(id).map_or(id.clone(), |n| (*n).clone());
            let missing: Vec<String> = want.difference(&got_ids).map(name).collect();
            let extra: Vec<String> = got_ids.difference(&want).map(name).collect();
            assert!(
                missing.is_empty() && extra.is_empty(),
                "{node}: missing {missing:?}, unexpected {extra:?}"
            );
            // The rest: what nodes publish. The definition and the project identity are
            // the same on every node, and this one published them here too (`partners`
            // is a collection its agreements share), as it did its own identity; each
            // partner's identity came from that partner, signed by it.
            let others: BTreeSet<&str> = got
                .keys()
                .filter(|id| !by_id.contains_key(id))
                .map(String::as_str)
                .collect();
            let mut published = BTreeSet::from([
                SIGNATURE_EXTENSION_ID,
                PROJECT_IDENTITY_ID,
                identities[node].as_str(),
            ]);
            published.extend(partners.iter().map(|p| identities[p].as_str()));
            assert_eq!(others, published, "{node}");
            for (id, (provenance, object, _)) in &got {
                let originator = match by_id.get(id) {
                    Some(sample) => sample.split(':').next().unwrap(),
                    None => match partners.iter().find(|p| &identities[*p] == id) {
                        Some(partner) => partner,
                        None => {
                            let ours = Provenance::Import {
                                source: PUBLISHED_SOURCE.into(),
                            };
                            assert_eq!(provenance, &ours, "{node}: {id}");
                            continue;
                        }
                    },
                };
                let Provenance::Partner { signature, .. } = provenance else {
                    panic!("{node}: {id} has provenance {provenance:?}");
                };
                assert_eq!(
                    signature,
                    &SignatureCheck::Verified {
                        signer: identities[originator].clone()
                    },
                    "{node}: {}",
                    name(id)
                );
                // Field-level redaction: the GREEN report reached Paris without its
                // AMBER description, and Madrid (AMBER+STRICT) with it.
                if by_id
                    .get(id)
                    .is_some_and(|n| n.as_str() == "rabat:report-green-granular")
                {
                    assert_eq!(object.get("description").is_some(), *node == "madrid");
                }
            }
            // Every extension a held object carries is defined by an extension-definition
            // held here, and every signature names an identity held here.
            for (id, (_, object, _)) in &got {
                let Some(extensions) = object.get("extensions").and_then(|e| e.as_object()) else {
                    continue;
                };
                for definition in extensions.keys() {
                    assert!(
                        got.contains_key(definition),
                        "{node}: {id} uses {definition}"
                    );
                }
                if let Some(signature) = extensions.get(SIGNATURE_EXTENSION_ID) {
                    let signer = signature["signer"].as_str().unwrap();
                    assert!(
                        got.contains_key(signer),
                        "{node}: {id} is signed by {signer}"
                    );
                }
            }
            let (_, definition, _) = &got[SIGNATURE_EXTENSION_ID];
            assert_eq!(definition["created_by_ref"], PROJECT_IDENTITY_ID);
            assert_eq!(
                definition["extension_types"],
                serde_json::json!(["property-extension"])
            );
            // Each partner sent this node the definition and the identities: its
            // ledger says so, with the hash of the bytes this node holds (Ed25519
            // signatures are deterministic, so a partner's identity is the same bytes
            // whichever way it came).
            for partner in &partners {
                let theirs = open(&dir.path().join(partner)).await;
                let sent = theirs
                    .ledger(&LedgerQuery {
                        partner: Some((*node).into()),
                        direction: Some(Direction::Disclosed),
                        ..LedgerQuery::default()
                    })
                    .await
                    .unwrap();
                for (id, rule) in [
                    (SIGNATURE_EXTENSION_ID, "extension-definition"),
                    (PROJECT_IDENTITY_ID, "published-identity"),
                    (identities[partner].as_str(), "published-identity"),
                ] {
                    let entry = sent
                        .iter()
                        .find(|e| e.object_id == id)
                        .unwrap_or_else(|| panic!("{partner} did not send {node} {id}"));
                    assert_eq!(entry.rule, rule, "{partner} to {node}: {id}");
                    assert_eq!(entry.bytes_sha256, sha256_hex(&got[id].2), "{node}: {id}");
                }
            }
            // Every receipt is in the ledger, and the ledger verifies.
            let receipts = store
                .ledger(&LedgerQuery {
                    direction: Some(Direction::Received),
                    ..LedgerQuery::default()
                })
                .await
                .unwrap();
            let from_partners = got
                .values()
                .filter(|(p, _, _)| matches!(p, Provenance::Partner { .. }))
                .count();
            assert!(receipts.len() >= from_partners, "{node}");
            let all = store.ledger(&LedgerQuery::default()).await.unwrap();
            store::ledger::verify(&all).unwrap();
            // What went out to each partner was recorded too.
            let disclosed = all
                .iter()
                .filter(|e| e.direction == Direction::Disclosed)
                .count();
            assert!(disclosed > 0, "{node} disclosed nothing");
        }
    });

    // Phase two, on the same three nodes (serving again): the rules the demo's data
    // does not reach. Rabat joins euro-ct (Paris and Madrid's community), so Madrid's
    // GREEN data at Rabat may now go on to Paris by that community; Rabat imports a
    // statement marking-definition marked RED (marking definitions always go) into
    // its default collection, and an indicator into a new collection `internal` that
    // Paris's account may read but no agreement shares (so nothing of it goes).
    // Madrid now requires the label `euro-ct` on what it sends Paris, and imports two
    // GREEN indicators, one with that label and one without.
    let rabat = dir.path().join("rabat");
    let config_file = rabat.join("passerelle.toml");
    let config = std::fs::read_to_string(&config_file).unwrap();
    let config = config
        .replacen(
            "communities = [\"wc2030\"]",
            "communities = [\"wc2030\", \"euro-ct\"]",
            1,
        )
        .replace("communities = []", "communities = [\"euro-ct\"]")
        .replace(
            "communities = [\"wc2030\"]\naccount = \"madrid\"",
            "communities = [\"wc2030\", \"euro-ct\"]\naccount = \"madrid\"",
        );
    std::fs::write(&config_file, &config).unwrap();
    let data = |node: &str| dir.path().join(node).to_str().unwrap().to_owned();
    let marking = r#"{"type":"marking-definition","spec_version":"2.1","id":"marking-definition--0c3c9a52-4b2e-4a7f-9d41-5e2f3a1b7c60","created":"2026-11-20T08:00:00.000Z","definition_type":"statement","definition":{"statement":"Diffusion restreinte — DGST"},"object_marking_refs":["marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1"]}"#;
    let internal = r#"{"type":"indicator","spec_version":"2.1","id":"indicator--5d0f8a3e-9b1c-4f2a-8e7d-6c5b4a3f2e1d","created":"2026-11-20T08:00:00.000Z","modified":"2026-11-20T08:00:00.000Z","name":"Interne","indicator_types":["malicious-activity"],"pattern":"[ipv4-addr:value = '198.51.100.99']","pattern_type":"stix","valid_from":"2026-11-20T08:00:00Z","object_marking_refs":["marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487"]}"#;
    let files = tempfile::tempdir().unwrap();
    let write = |name: &str, text: &str| {
        let path = files.path().join(name);
        std::fs::write(&path, text).unwrap();
        path.to_str().unwrap().to_owned()
    };
    common::ok(&[
        "import",
        &write("marking.json", marking),
        "--collection",
        "default",
        "--data",
        &data("rabat"),
    ]);
    common::ok(&[
        "collection",
        "add",
        "Internal",
        "--alias",
        "internal",
        "--data",
        &data("rabat"),
    ]);
    common::ok(&[
        "import",
        &write("internal.json", internal),
        "--collection",
        "internal",
        "--data",
        &data("rabat"),
    ]);
    common::ok(&[
        "account",
        "grant",
        "paris",
        "internal",
        "--read",
        "--data",
        &data("rabat"),
    ]);
    let internal_id = runtime.block_on(async {
        let store = open(&rabat).await;
        store
            .find_collection("internal")
            .await
            .unwrap()
            .id
            .to_string()
    });
    // Paris also pulls Rabat's `internal` collection, which its account may read.
    let paris_file = dir.path().join("paris").join("passerelle.toml");
    let paris_config = std::fs::read_to_string(&paris_file).unwrap().replacen(
        "pull = [{",
        &format!("pull = [{{ remote = \"{internal_id}\", into = \"partners\" }}, {{"),
        1,
    );
    std::fs::write(&paris_file, paris_config).unwrap();
    let madrid_file = dir.path().join("madrid").join("passerelle.toml");
    let madrid_config = std::fs::read_to_string(&madrid_file).unwrap();
    // Only Madrid's agreement with Paris names types.
    let paris_types = "types = [\"indicator\", \"relationship\"]\n";
    assert_eq!(madrid_config.matches(paris_types).count(), 1);
    let madrid_config = madrid_config.replacen(
        paris_types,
        &format!("{paris_types}labels_required = [\"euro-ct\"]\n"),
        1,
    );
    std::fs::write(&madrid_file, madrid_config).unwrap();
    let labelled = green_indicator(LABELLED, "euro-ct");
    let unlabelled = green_indicator(UNLABELLED, "wc2030");
    common::ok(&[
        "import",
        &write(
            "madrid-green.json",
            &format!(
                "{{\"type\":\"bundle\",\"id\":\"bundle--7f0b7a44-2a83-4a1e-9d0c-3b1f5e6a9c21\",\"objects\":[{labelled},{unlabelled}]}}"
            ),
        ),
        "--collection",
        "default",
        "--data",
        &data("madrid"),
    ]);
    let servers: Vec<common::Server> = ["rabat", "paris", "madrid"]
        .iter()
        .map(|node| {
            common::Server::start(
                &["--data", &data(node)],
                &[("PASSERELLE__SYNC__ENABLED", "false")],
            )
        })
        .collect();
    for node in ["paris", "madrid"] {
        // Widening an agreement is not retroactive by itself: the positions saved in
        // phase one are past those objects, so the operator re-reads from the start.
        let out = common::run(&["sync", "--from-start", "--data", &data(node)], &[], b"");
        assert!(
            out.status.success(),
            "{node}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    runtime.block_on(async {
        let paris = open(&dir.path().join("paris")).await;
        let got = received(paris.as_ref()).await;
        // Madrid's GREEN campaign, which Madrid itself does not send Paris (type), came
        // through Rabat by the euro-ct community, still signed by Madrid.
        let campaign = &ids["madrid:campaign-green"];
        let (provenance, _, _) = got.get(campaign).expect("Madrid's campaign through Rabat");
        let Provenance::Partner {
            partner, signature, ..
        } = provenance
        else {
            panic!("{provenance:?}");
        };
        assert_eq!(partner, "rabat");
        assert_eq!(
            signature.verified_signer(),
            Some(identities_of(dir.path(), "madrid").as_str())
        );
        // Nothing of a collection no agreement shares, though the account may read it.
        assert!(!got.contains_key("indicator--5d0f8a3e-9b1c-4f2a-8e7d-6c5b4a3f2e1d"));
        // The RED statement marking went to both partners: definitions always go.
        for node in ["paris", "madrid"] {
            let store = open(&dir.path().join(node)).await;
            let got = received(store.as_ref()).await;
            assert!(
                got.contains_key("marking-definition--0c3c9a52-4b2e-4a7f-9d41-5e2f3a1b7c60"),
                "{node}"
            );
        }
        // Rabat's ledger names the rules that let each of these go.
        let rabat = open(&rabat).await;
        let rules: BTreeSet<String> = rabat
            .ledger(&LedgerQuery {
                partner: Some("paris".into()),
                direction: Some(Direction::Disclosed),
                ..LedgerQuery::default()
            })
            .await
            .unwrap()
            .into_iter()
            .map(|e| e.rule)
            .collect();
        for rule in [
            "marking-definition",
            "third-party-green-community",
            "third-party-clear",
            "own-data",
        ] {
            assert!(rules.contains(rule), "{rule} not in {rules:?}");
        }
        store::ledger::verify(&rabat.ledger(&LedgerQuery::default()).await.unwrap()).unwrap();

        // labels_required: the labelled indicator reached Paris, the other did not.
        assert!(got.contains_key(LABELLED));
        assert!(!got.contains_key(UNLABELLED));
    });

    // Madrid's preview for Paris names the rule that stops what lacks the label: the
    // new indicator, and the sample indicators Paris received in phase one (before
    // the agreement required it). What Madrid publishes still goes.
    let preview = common::ok(&[
        "agreement",
        "preview",
        "paris",
        "--format",
        "json",
        "--data",
        &data("madrid"),
    ]);
    let mut records: Vec<serde_json::Value> = preview
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    let summary = records.pop().unwrap();
    let rule_of = |id: &str| {
        let record = records
            .iter()
            .find(|r| r["object_id"] == id && r["collection_alias"] == "default")
            .unwrap_or_else(|| panic!("{id} is not in Madrid's preview"));
        (
            record["rule"].as_str().unwrap().to_owned(),
            record["detail"].as_str().unwrap_or("").to_owned(),
        )
    };
    assert_eq!(rule_of(LABELLED).0, "own-data");
    for id in [
        UNLABELLED,
        ids["madrid:indicator-clear"].as_str(),
        ids["madrid:indicator-green"].as_str(),
    ] {
        let (rule, detail) = rule_of(id);
        assert_eq!(rule, "label-required-missing", "{id}");
        assert!(
            detail.contains("\"euro-ct\" is required for paris"),
            "{detail}"
        );
    }
    assert_eq!(rule_of(SIGNATURE_EXTENSION_ID).0, "extension-definition");
    assert_eq!(
        rule_of(&identities_of(dir.path(), "madrid")).0,
        "published-identity"
    );
    assert!(
        summary["summary"]["rules"]["label-required-missing"]
            .as_u64()
            .unwrap()
            >= 3
    );

    // Paris's view of Madrid over TAXII, with its own account there, is exactly what
    // the preview discloses, collection by collection.
    let token = std::fs::read_to_string(dir.path().join("paris/secrets/madrid.token")).unwrap();
    let bearer = format!("Bearer {}", token.trim());
    let collections: BTreeSet<&str> = records
        .iter()
        .map(|r| r["collection"].as_str().unwrap())
        .collect();
    assert_eq!(collections.len(), 2, "default and partners");
    for collection in collections {
        let disclosed: BTreeSet<(String, String)> = records
            .iter()
            .filter(|r| r["collection"] == collection && r["decision"] == "disclose")
            .map(|r| {
                (
                    r["object_id"].as_str().unwrap().to_owned(),
                    r["version"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        assert!(!disclosed.is_empty(), "{collection}");
        let page = servers[2].get(
            &format!("/api/collections/{collection}/objects/"),
            Some(&bearer),
        );
        assert_eq!(page.status, 200, "{collection}");
        let body = page.json();
        assert!(body.get("more").is_none(), "one page holds it all");
        let served: BTreeSet<(String, String)> = body["objects"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or_default()
            .iter()
            .map(|o| {
                (
                    o["id"].as_str().unwrap().to_owned(),
                    // Marking definitions have no `modified`: their version is `created`.
                    o.get("modified")
                        .unwrap_or(&o["created"])
                        .as_str()
                        .unwrap()
                        .to_owned(),
                )
            })
            .collect();
        assert_eq!(served, disclosed, "{collection}");
    }
    drop(servers);
}

/// Madrid's GREEN indicators of phase two, with and without the label Paris requires.
const LABELLED: &str = "indicator--2c6f1e0a-8d4b-4e7a-9b3c-5a1d7e9f0b42";
const UNLABELLED: &str = "indicator--9e4d2b7c-1a3f-4c8e-b5d6-7f0a2c4e6b13";

fn green_indicator(id: &str, label: &str) -> String {
    format!(
        r#"{{"type":"indicator","spec_version":"2.1","id":"{id}","created":"2026-11-21T08:00:00.000Z","modified":"2026-11-21T08:00:00.000Z","name":"Repérage — {label}","labels":["{label}"],"indicator_types":["malicious-activity"],"pattern":"[domain-name:value = '{label}.example']","pattern_type":"stix","valid_from":"2026-11-21T08:00:00Z","object_marking_refs":["marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"]}}"#
    )
}

/// A node's STIX identity id, from the `identity.json` in its folder.
fn identities_of(root: &Path, node: &str) -> String {
    let text = std::fs::read_to_string(root.join(node).join("identity.json")).unwrap();
    let identity: serde_json::Value = serde_json::from_str(&text).unwrap();
    identity["id"].as_str().unwrap().to_owned()
}
