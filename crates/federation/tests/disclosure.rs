//! The [`Federation`] facade over a real SQLite store: the sample intelligence of
//! `testdata/federation/` decided for three partners, disclosed and recorded in the
//! ledger, and what arrives from partners judged by their inbound settings.
//!
//! We are Rabat. Our collections and what they hold:
//!
//! | collection | holds | provenance |
//! |---|---|---|
//! | shared | `rabat.json` | our own (imported) |
//! | from-paris | `paris.json`, signed by Paris | Paris, pulled, signature verified |
//! | from-madrid | `madrid.json`, unsigned | Madrid, pushed, unsigned |
//!
//! The agreements (communities: wc2030 on this node):
//!
//! | partner | outbound collections | max_tlp | communities | else |
//! |---|---|---|---|---|
//! | paris | shared, from-paris, from-madrid | green | wc2030 | label `internal` excluded |
//! | madrid | shared, from-paris, from-madrid | amber | wc2030 | consent from paris up to amber |
//! | lisboa | shared, from-paris | amber | none | no consent |

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use federation::signature::{SIGNATURE_EXTENSION_ID, sign};
use federation::{
    Agreement, Decision, Federation, FederationError, NodeIdentity, Outcome, Verdict,
};
use stix::Timestamp;
use stix::json::{self, Value};
use store::ledger::sha256_hex;
use store::{
    Channel, Direction, LedgerEntry, LedgerQuery, ManualClock, Micros, NewObject, ObjectQuery,
    ObjectRecord, Provenance, SignatureCheck, SqliteStore, Store, SyncCursor,
};
use uuid::Uuid;

const SHARED: Uuid = Uuid::from_u128(0x5a5a_0001_0000_4000_8000_0000_0000_0001);
const FROM_PARIS: Uuid = Uuid::from_u128(0x5a5a_0001_0000_4000_8000_0000_0000_0002);
const FROM_MADRID: Uuid = Uuid::from_u128(0x5a5a_0001_0000_4000_8000_0000_0000_0003);

fn node(seed: u8, name: &str) -> NodeIdentity {
    NodeIdentity::from_seed(
        &format!("identity--00000000-0000-4000-8000-0000000000{seed:02x}"),
        name,
        Timestamp::parse("2026-11-01T00:00:00.000Z").unwrap(),
        &[seed; 32],
    )
}

fn rabat() -> NodeIdentity {
    node(1, "DGSN Rabat")
}

fn paris() -> NodeIdentity {
    node(2, "DGSI Paris")
}

fn madrid() -> NodeIdentity {
    node(3, "CNI Madrid")
}

fn lisboa() -> NodeIdentity {
    node(4, "PJ Lisboa")
}

/// A node none of the agreements knows.
fn stranger() -> NodeIdentity {
    node(5, "Unknown service")
}

/// The agreements; `inbound` is added to every partner.
fn agreement(inbound: &BTreeMap<&str, &str>) -> Agreement {
    let partner = |name: &str, who: NodeIdentity, rest: &str| {
        format!(
            "[[partners]]\nname = \"{name}\"\nidentity = \"{}\"\npublic_key = \"{}\"\n{rest}\n[partners.inbound]\n{}\n",
            who.identity,
            who.public_key(),
            inbound.get(name).copied().unwrap_or("")
        )
    };
    let text = format!(
        "[node]\nname = \"DGSN Rabat\"\ndefault_tlp = \"amber\"\ncommunities = [\"wc2030\"]\n\n{}{}{}",
        partner(
            "paris",
            paris(),
            r#"communities = ["wc2030"]
[partners.outbound]
collections = ["shared", "from-paris", "from-madrid"]
max_tlp = "green"
labels_excluded = ["internal"]"#
        ),
        partner(
            "madrid",
            madrid(),
            r#"communities = ["wc2030"]
[partners.outbound]
collections = ["shared", "from-paris", "from-madrid"]
max_tlp = "amber"
consents = [{ originator = "paris", tlp = "amber", reference = "letter 2026-11-02" }]"#
        ),
        partner(
            "lisboa",
            lisboa(),
            r#"[partners.outbound]
collections = ["shared", "from-paris"]
max_tlp = "amber""#
        ),
    );
    Agreement::from_toml(&text).unwrap()
}

/// The objects of a sample bundle, each as compact JSON bytes.
fn sample(name: &str) -> Vec<Vec<u8>> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join(format!("../../testdata/federation/{name}.json"));
    let text = std::fs::read(path).unwrap();
    let bundle = json::parse(&text).unwrap();
    bundle
        .get("objects")
        .and_then(Value::as_array)
        .unwrap()
        .iter()
        .map(|object| json::to_string(object).into_bytes())
        .collect()
}

fn new_object(bytes: Vec<u8>) -> NewObject {
    let value = json::parse(&bytes).unwrap();
    NewObject::from_object(bytes.clone(), value.as_object().unwrap()).unwrap()
}

/// Rabat's store, holding the samples, and its federation.
struct Node {
    _dir: tempfile::TempDir,
    store: Arc<SqliteStore>,
    federation: Federation,
    clock: ManualClock,
}

async fn rabat_node() -> Node {
    rabat_node_with(&BTreeMap::new()).await
}

async fn rabat_node_with(inbound: &BTreeMap<&str, &str>) -> Node {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(Micros::parse("2026-11-20T08:00:00Z").unwrap());
    let store = Arc::new(SqliteStore::open(dir.path(), Arc::new(clock.clone())).unwrap());
    for (id, alias) in [
        (SHARED, "shared"),
        (FROM_PARIS, "from-paris"),
        (FROM_MADRID, "from-madrid"),
    ] {
        store
            .create_collection(store::NewCollection {
                id,
                title: alias.to_owned(),
                description: None,
                alias: Some(alias.to_owned()),
            })
            .await
            .unwrap();
    }
    let federation = Federation::new(store.clone(), agreement(inbound), rabat())
        .await
        .unwrap();
    let own = Provenance::Import {
        source: "rabat.json".into(),
    };
    let objects = sample("rabat").into_iter().map(new_object).collect();
    store.add_objects(SHARED, &own, objects).await.unwrap();
    // Paris signs what it sends, and we verify it on receipt.
    let signed: Vec<Vec<u8>> = sample("paris")
        .iter()
        .map(|bytes| sign(bytes, &paris()).unwrap())
        .collect();
    for bytes in &signed {
        assert_eq!(
            federation.check_signature(bytes),
            SignatureCheck::Verified {
                signer: paris().identity
            }
        );
    }
    let from_paris = Federation::provenance(
        "paris",
        Channel::Pull,
        SignatureCheck::Verified {
            signer: paris().identity,
        },
    );
    let objects = signed.into_iter().map(new_object).collect();
    store
        .add_objects(FROM_PARIS, &from_paris, objects)
        .await
        .unwrap();
    let from_madrid = Federation::provenance("madrid", Channel::Push, SignatureCheck::Unsigned);
    let objects = sample("madrid").into_iter().map(new_object).collect();
    store
        .add_objects(FROM_MADRID, &from_madrid, objects)
        .await
        .unwrap();
    clock.set(Micros::parse("2026-11-21T08:00:00Z").unwrap());
    Node {
        _dir: dir,
        store,
        federation,
        clock,
    }
}

impl Node {
    async fn records(&self, collection: Uuid) -> Vec<ObjectRecord> {
        let query = ObjectQuery {
            with_provenance: true,
            ..ObjectQuery::default()
        };
        self.store
            .objects(collection, &query)
            .await
            .unwrap()
            .records
    }

    async fn ledger(&self) -> Vec<LedgerEntry> {
        self.store.ledger(&LedgerQuery::default()).await.unwrap()
    }

    /// Every latest version of every collection, decided for `partner`.
    async fn decide_all(&self, partner: &str) -> BTreeMap<String, Outcome> {
        let mut all = BTreeMap::new();
        for collection in [SHARED, FROM_PARIS, FROM_MADRID] {
            let records = self.records(collection).await;
            for outcome in self
                .federation
                .decide(partner, collection, records)
                .await
                .unwrap()
            {
                all.insert(outcome.record.id.clone(), outcome);
            }
        }
        all
    }
}

// Object ids of the samples.
const THREAT_ACTOR: &str = "threat-actor--dad3c65b-9629-4c3a-8845-6ebf5e18eb2b";
const CLEAR_INDICATOR: &str = "indicator--2a7beae1-5108-4bb8-b00d-114f199bce3b";
const GREEN_INDICATOR: &str = "indicator--81971521-7dde-4084-8f40-dd8567a0962d";
const RED_INDICATOR: &str = "indicator--38bec5f5-2095-4b52-9088-980a7d1145bd";
const UNMARKED_INDICATOR: &str = "indicator--a8ac7479-0dd5-49e1-bd07-6e2ac9dad2af";
const STRICT_INDICATOR: &str = "indicator--4cca0e18-0637-4f6f-9fa6-cc9db15f3ccd";
const REPORT: &str = "report--47bd440c-7b13-47ee-8cc2-9231e36eafc6";
const AMBER_PATTERN_INDICATOR: &str = "indicator--73c2d36f-93f2-4bd3-b37e-292203463596";
const AMBER_RELATIONSHIP: &str = "relationship--df1273aa-2551-455c-9965-51356ecfa3b6";
const RED_END_RELATIONSHIP: &str = "relationship--c2b3b513-314c-4e02-9ba1-86a65835af52";
const STADIUM: &str = "identity--b00b4c03-9984-40df-951b-53b9358b3d6b";
const SIGHTING: &str = "sighting--d87f92ab-bafe-4135-8146-2b3eccdc26e8";

const PARIS_MALWARE: &str = "malware--199609df-0d3c-4cca-a18b-2980d0d32000";
const PARIS_CLEAR: &str = "indicator--6f50124d-11c2-4777-ac37-d121004b3f22";
const PARIS_GREEN: &str = "indicator--a6abd003-9199-4b1d-914e-8b9ba07256fc";
const PARIS_AMBER: &str = "indicator--f52bd03d-3e58-45a0-8aa3-99c29e909bc4";
const PARIS_WHITE: &str = "indicator--37b1c030-9506-4e21-8a01-c1c48f30fcde";
const PARIS_RELATIONSHIP: &str = "relationship--54fe3caf-c460-4e26-b183-db5ccf620d73";

const MADRID_CAMPAIGN: &str = "campaign--a75826eb-b55e-40c3-9b9f-aff6821e2195";
const MADRID_CLEAR: &str = "indicator--41be1be8-704b-48d2-8bf7-7263e59c51aa";
const MADRID_GREEN: &str = "indicator--a1191b01-e0db-4816-b0f1-755577e76857";
const MADRID_AMBER: &str = "indicator--7d7a19d9-db54-45b6-90b2-b8906d615be0";
const MADRID_RELATIONSHIP: &str = "relationship--3bb5e5cf-5ddf-4f2f-a399-48790f5cefd7";
const MADRID_INTERNAL: &str = "indicator--95ce68f7-e3b9-403c-b0a5-9a5861b66d33";

/// Our own data: the same for madrid and lisboa (both up to AMBER).
fn own_data_up_to_amber() -> Vec<(&'static str, &'static str)> {
    vec![
        (THREAT_ACTOR, "own-data"),
        (CLEAR_INDICATOR, "own-data"),
        (GREEN_INDICATOR, "own-data"),
        (RED_INDICATOR, "tlp-red"),
        (UNMARKED_INDICATOR, "own-data"),
        (STRICT_INDICATOR, "tlp-above-agreement"),
        (REPORT, "own-data"),
        (AMBER_PATTERN_INDICATOR, "own-data"),
        (AMBER_RELATIONSHIP, "own-data"),
        (RED_END_RELATIONSHIP, "relationship-end-withheld"),
        (STADIUM, "own-data"),
        (SIGHTING, "own-data"),
    ]
}

/// Rule per object id, for each partner.
fn expected(partner: &str) -> BTreeMap<&'static str, &'static str> {
    let rules = match partner {
        "paris" => vec![
            (THREAT_ACTOR, "tlp-above-agreement"),
            (CLEAR_INDICATOR, "own-data"),
            (GREEN_INDICATOR, "own-data"),
            (RED_INDICATOR, "tlp-red"),
            (UNMARKED_INDICATOR, "tlp-above-agreement"),
            (STRICT_INDICATOR, "tlp-above-agreement"),
            (REPORT, "own-data"),
            (AMBER_PATTERN_INDICATOR, "redaction-invalid"),
            (AMBER_RELATIONSHIP, "tlp-above-agreement"),
            (RED_END_RELATIONSHIP, "relationship-end-withheld"),
            (STADIUM, "own-data"),
            (SIGHTING, "own-data"),
            // Its own data: never back (its AMBER objects stop earlier, at its max_tlp).
            (PARIS_MALWARE, "tlp-above-agreement"),
            (PARIS_CLEAR, "echo-to-source"),
            (PARIS_GREEN, "echo-to-source"),
            (PARIS_AMBER, "tlp-above-agreement"),
            (PARIS_WHITE, "echo-to-source"),
            (PARIS_RELATIONSHIP, "tlp-above-agreement"),
            (MADRID_CAMPAIGN, "third-party-green-community"),
            (MADRID_CLEAR, "third-party-clear"),
            (MADRID_GREEN, "third-party-green-community"),
            (MADRID_AMBER, "tlp-above-agreement"),
            (MADRID_RELATIONSHIP, "third-party-green-community"),
            (MADRID_INTERNAL, "label-excluded"),
        ],
        "madrid" => [
            own_data_up_to_amber(),
            vec![
                (PARIS_MALWARE, "third-party-consent"),
                (PARIS_CLEAR, "third-party-clear"),
                (PARIS_GREEN, "third-party-green-community"),
                (PARIS_AMBER, "third-party-consent"),
                (PARIS_WHITE, "third-party-clear"),
                (PARIS_RELATIONSHIP, "third-party-consent"),
                (MADRID_CAMPAIGN, "echo-to-source"),
                (MADRID_CLEAR, "echo-to-source"),
                (MADRID_GREEN, "echo-to-source"),
                (MADRID_AMBER, "echo-to-source"),
                (MADRID_RELATIONSHIP, "echo-to-source"),
                (MADRID_INTERNAL, "echo-to-source"),
            ],
        ]
        .concat(),
        "lisboa" => [
            own_data_up_to_amber(),
            vec![
                (PARIS_MALWARE, "third-party-no-consent"),
                (PARIS_CLEAR, "third-party-clear"),
                (PARIS_GREEN, "third-party-green-no-community"),
                (PARIS_AMBER, "third-party-no-consent"),
                (PARIS_WHITE, "third-party-clear"),
                (PARIS_RELATIONSHIP, "third-party-no-consent"),
                (MADRID_CAMPAIGN, "collection-not-shared"),
                (MADRID_CLEAR, "collection-not-shared"),
                (MADRID_GREEN, "collection-not-shared"),
                (MADRID_AMBER, "collection-not-shared"),
                (MADRID_RELATIONSHIP, "collection-not-shared"),
                (MADRID_INTERNAL, "collection-not-shared"),
            ],
        ]
        .concat(),
        other => panic!("no expectations for {other}"),
    };
    rules.into_iter().collect()
}

fn keys(identity: &str) -> Option<federation::PublicKey> {
    [rabat(), paris(), madrid(), lisboa()]
        .into_iter()
        .find(|n| n.identity == identity)
        .map(|n| n.public_key())
}

fn verified_by(node: &NodeIdentity) -> SignatureCheck {
    SignatureCheck::Verified {
        signer: node.identity.clone(),
    }
}

/// The object without our signature extension, in canonical form.
fn canonical_unsigned(bytes: &[u8]) -> String {
    let mut value = json::parse(bytes).unwrap();
    let obj = value.as_object_mut().unwrap();
    if let Some(Value::Object(extensions)) = obj.get_mut("extensions") {
        extensions.remove(SIGNATURE_EXTENSION_ID);
        if extensions.is_empty() {
            obj.remove("extensions");
        }
    }
    stix::canonical::to_canonical_string(&value).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_sample_object_is_decided_by_its_rule_for_each_partner() {
    let node = rabat_node().await;
    for partner in ["paris", "madrid", "lisboa"] {
        let decided = node.decide_all(partner).await;
        let rules: BTreeMap<&str, &str> = decided
            .iter()
            .map(|(id, o)| (id.as_str(), o.decision.rule().as_str()))
            .collect();
        assert_eq!(rules, expected(partner), "{partner}");
        for outcome in decided.values() {
            assert_eq!(
                outcome.decision.is_disclosed(),
                outcome.decision.rule().allows(),
                "{partner}: {}",
                outcome.record.id
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn withheld_objects_say_why() {
    let node = rabat_node().await;
    let paris = node.decide_all("paris").await;
    let detail = |id: &str| match &paris[id].decision {
        Decision::Withhold { detail, .. } => detail.clone(),
        other => panic!("{id} is not withheld: {other:?}"),
    };
    assert!(detail(RED_INDICATOR).contains("TLP:RED"));
    assert!(
        detail(RED_END_RELATIONSHIP).contains(RED_INDICATOR)
            && detail(RED_END_RELATIONSHIP).contains("tlp-red"),
        "{}",
        detail(RED_END_RELATIONSHIP)
    );
    assert!(
        detail(AMBER_PATTERN_INDICATOR).contains("pattern"),
        "{}",
        detail(AMBER_PATTERN_INDICATOR)
    );
    assert!(detail(PARIS_CLEAR).contains("paris gave it to us"));
    assert!(detail(MADRID_INTERNAL).contains("\"internal\""));
    assert!(
        detail(UNMARKED_INDICATOR).contains("unmarked, the node default"),
        "{}",
        detail(UNMARKED_INDICATOR)
    );
    let lisboa = node.decide_all("lisboa").await;
    let Decision::Withhold { detail, .. } = &lisboa[PARIS_AMBER].decision else {
        panic!("withheld")
    };
    assert!(detail.contains("consent"), "{detail}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_goes_is_signed_by_whoever_answers_for_its_content() {
    let node = rabat_node().await;

    // Our own data: signed by us, otherwise as stored.
    let madrid = node.decide_all("madrid").await;
    let outcome = &madrid[GREEN_INDICATOR];
    let bytes = outcome.bytes().unwrap();
    assert_eq!(
        federation::signature::verify(bytes, &keys),
        verified_by(&rabat())
    );
    assert_eq!(
        canonical_unsigned(bytes),
        canonical_unsigned(&outcome.record.bytes)
    );

    // A partner's data, not redacted: its originator's bytes and signature, untouched.
    let outcome = &madrid[PARIS_AMBER];
    assert_eq!(outcome.bytes().unwrap(), outcome.record.bytes.as_slice());
    assert_eq!(
        federation::signature::verify(outcome.bytes().unwrap(), &keys),
        verified_by(&paris())
    );
    // Unsigned partner data stays unsigned.
    let paris = node.decide_all("paris").await;
    let outcome = &paris[MADRID_CLEAR];
    assert_eq!(outcome.bytes().unwrap(), outcome.record.bytes.as_slice());
    assert_eq!(
        federation::signature::verify(outcome.bytes().unwrap(), &keys),
        SignatureCheck::Unsigned
    );

    // The report's description is AMBER inside a GREEN report: removed for paris
    // (GREEN), kept for madrid (AMBER).
    let Decision::Disclose {
        bytes, redacted, ..
    } = &paris[REPORT].decision
    else {
        panic!("the report goes to paris")
    };
    assert!(redacted);
    let report = json::parse(bytes).unwrap();
    assert!(
        report.get("description").is_none(),
        "{}",
        json::to_string(&report)
    );
    assert!(report.get("name").is_some());
    assert_eq!(
        federation::signature::verify(bytes, &keys),
        verified_by(&rabat())
    );
    assert!(
        stix::validate_object(&report)
            .iter()
            .all(|d| d.severity != stix::Severity::Error)
    );
    let Decision::Disclose {
        bytes, redacted, ..
    } = &madrid[REPORT].decision
    else {
        panic!("the report goes to madrid")
    };
    assert!(!redacted);
    assert!(json::parse(bytes).unwrap().get("description").is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deciding_writes_nothing() {
    let node = rabat_node().await;
    let before = node.ledger().await;
    assert_eq!(
        before.len(),
        12,
        "the received entries of the partners' data"
    );
    assert!(before.iter().all(|e| e.direction == Direction::Received));
    node.decide_all("madrid").await;
    assert_eq!(node.ledger().await, before);
    let unknown = node
        .federation
        .decide("lyon", SHARED, node.records(SHARED).await)
        .await;
    assert!(matches!(unknown, Err(FederationError::UnknownPartner(name)) if name == "lyon"));
}

/// The entries appended after `before`, and what they must be: one per disclosed
/// outcome, in order, with the hash of the exact bytes returned and the rule.
fn assert_recorded(
    appended: &[LedgerEntry],
    outcomes: &[Outcome],
    partner: &str,
    channel: Channel,
    collection: Uuid,
) {
    let disclosed: Vec<&Outcome> = outcomes.iter().filter(|o| o.bytes().is_some()).collect();
    assert!(!disclosed.is_empty());
    assert!(disclosed.len() < outcomes.len(), "some are withheld");
    assert_eq!(appended.len(), disclosed.len());
    for (entry, outcome) in appended.iter().zip(disclosed) {
        assert_eq!(entry.direction, Direction::Disclosed);
        assert_eq!(entry.partner.as_deref(), Some(partner));
        assert_eq!(entry.channel, Some(channel));
        assert_eq!(entry.collection, collection);
        assert_eq!(entry.object_id, outcome.record.id);
        assert_eq!(entry.version, outcome.record.version.as_str());
        assert_eq!(entry.bytes_sha256, sha256_hex(outcome.bytes().unwrap()));
        assert_eq!(entry.rule, outcome.decision.rule().as_str());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn disclose_records_each_version_that_goes_with_its_cursor() {
    let node = rabat_node().await;
    let before = node.ledger().await.len();
    let cursor = SyncCursor {
        partner: "paris".into(),
        collection: SHARED.to_string(),
        direction: Channel::Push,
        cursor: "page-1".into(),
    };
    let outcomes = node
        .federation
        .disclose(
            "paris",
            Channel::Push,
            SHARED,
            node.records(SHARED).await,
            Some(cursor.clone()),
        )
        .await
        .unwrap();
    let ledger = node.ledger().await;
    assert_recorded(&ledger[before..], &outcomes, "paris", Channel::Push, SHARED);
    assert_eq!(
        node.store
            .sync_cursor("paris", &SHARED.to_string(), Channel::Push)
            .await
            .unwrap()
            .as_deref(),
        Some("page-1")
    );
    assert_eq!(store::ledger::verify(&ledger), Ok(ledger.len() as u64));
    // The redacted report is recorded with the hash of the redacted bytes sent.
    let report = outcomes.iter().find(|o| o.record.id == REPORT).unwrap();
    let entry = ledger.iter().find(|e| e.object_id == REPORT).unwrap();
    assert_ne!(entry.bytes_sha256, sha256_hex(&report.record.bytes));
    assert_eq!(entry.bytes_sha256, sha256_hex(report.bytes().unwrap()));

    // A page where nothing goes: no entry, and the cursor still moves.
    let before = node.ledger().await;
    let red: Vec<ObjectRecord> = node
        .records(SHARED)
        .await
        .into_iter()
        .filter(|r| r.id == RED_INDICATOR)
        .collect();
    let outcomes = node
        .federation
        .disclose(
            "paris",
            Channel::Push,
            SHARED,
            red,
            Some(SyncCursor {
                cursor: "page-2".into(),
                ..cursor
            }),
        )
        .await
        .unwrap();
    assert_eq!(outcomes.len(), 1);
    assert!(!outcomes[0].decision.is_disclosed());
    assert_eq!(node.ledger().await, before);
    assert_eq!(
        node.store
            .sync_cursor("paris", &SHARED.to_string(), Channel::Push)
            .await
            .unwrap()
            .as_deref(),
        Some("page-2")
    );

    // A partner's data, forwarded: recorded with the rule that let it go.
    let before = node.ledger().await.len();
    let outcomes = node
        .federation
        .disclose(
            "madrid",
            Channel::Pull,
            FROM_PARIS,
            node.records(FROM_PARIS).await,
            None,
        )
        .await
        .unwrap();
    let ledger = node.ledger().await;
    let appended = &ledger[before..];
    assert_eq!(appended.len(), 6);
    for (entry, outcome) in appended.iter().zip(&outcomes) {
        assert_eq!(entry.rule, expected("madrid")[outcome.record.id.as_str()]);
        assert_eq!(entry.bytes_sha256, sha256_hex(&outcome.record.bytes));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn record_writes_what_was_decided_before() {
    let node = rabat_node().await;
    let before = node.ledger().await.len();
    let outcomes = node
        .federation
        .decide("lisboa", FROM_PARIS, node.records(FROM_PARIS).await)
        .await
        .unwrap();
    assert_eq!(node.ledger().await.len(), before);
    node.clock
        .set(Micros::parse("2026-11-22T10:00:00Z").unwrap());
    let cursor = SyncCursor {
        partner: "lisboa".into(),
        collection: FROM_PARIS.to_string(),
        direction: Channel::File,
        cursor: "file-7".into(),
    };
    node.federation
        .record("lisboa", Channel::File, FROM_PARIS, &outcomes, Some(cursor))
        .await
        .unwrap();
    let ledger = node.ledger().await;
    assert_recorded(
        &ledger[before..],
        &outcomes,
        "lisboa",
        Channel::File,
        FROM_PARIS,
    );
    assert!(
        ledger[before..]
            .iter()
            .all(|e| e.time == Micros::parse("2026-11-22T10:00:00Z").unwrap())
    );
    assert_eq!(
        node.store
            .sync_cursor("lisboa", &FROM_PARIS.to_string(), Channel::File)
            .await
            .unwrap()
            .as_deref(),
        Some("file-7")
    );
    // Nothing to record and no cursor: no write at all.
    let withheld: Vec<Outcome> = outcomes
        .into_iter()
        .filter(|o| !o.decision.is_disclosed())
        .collect();
    let before = node.ledger().await;
    node.federation
        .record("lisboa", Channel::File, FROM_PARIS, &withheld, None)
        .await
        .unwrap();
    assert_eq!(node.ledger().await, before);
}

/// The entries and the cursor are one transaction: when the cursor cannot be
/// saved, no entry is left either, so nothing counts as disclosed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_disclosure_whose_cursor_cannot_be_saved_leaves_no_entry() {
    let node = rabat_node().await;
    let raw = rusqlite::Connection::open(node.store.path()).unwrap();
    raw.execute_batch(
        "CREATE TRIGGER refuse BEFORE INSERT ON sync_state BEGIN SELECT RAISE(ABORT, 'refused'); END;",
    )
    .unwrap();
    let before = node.ledger().await;
    let result = node
        .federation
        .disclose(
            "madrid",
            Channel::Push,
            SHARED,
            node.records(SHARED).await,
            Some(SyncCursor {
                partner: "madrid".into(),
                collection: SHARED.to_string(),
                direction: Channel::Push,
                cursor: "page-1".into(),
            }),
        )
        .await;
    assert!(
        matches!(result, Err(FederationError::Store(_))),
        "{result:?}"
    );
    assert_eq!(node.ledger().await, before);
    assert_eq!(
        node.store
            .sync_cursor("madrid", &SHARED.to_string(), Channel::Push)
            .await
            .unwrap(),
        None
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn storing_a_partners_objects_records_them_as_received() {
    let node = rabat_node().await;
    let received = node.ledger().await;
    let from_paris = node.records(FROM_PARIS).await;
    let paris_entries: Vec<&LedgerEntry> = received
        .iter()
        .filter(|e| e.partner.as_deref() == Some("paris"))
        .collect();
    assert_eq!(paris_entries.len(), from_paris.len());
    for (entry, record) in paris_entries.iter().zip(&from_paris) {
        assert_eq!(entry.direction, Direction::Received);
        assert_eq!(entry.channel, Some(Channel::Pull));
        assert_eq!(entry.rule, "received");
        assert_eq!(entry.object_id, record.id);
        assert_eq!(entry.bytes_sha256, sha256_hex(&record.bytes));
    }
}

/// What arrives: one object of each kind, judged under each inbound setting.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verdicts_follow_each_partners_inbound_settings() {
    let inbound = BTreeMap::from([
        // paris: the defaults (refuse unsigned, unknown signers and bad signatures).
        ("paris", ""),
        (
            "madrid",
            "accept_unsigned = true\naccept_unknown_signer = true\non_invalid_signature = \"quarantine\"",
        ),
        ("lisboa", "on_invalid_signature = \"quarantine\""),
    ]);
    let node = rabat_node_with(&inbound).await;
    let object = sample("paris").remove(1);
    let by = |who: &NodeIdentity| sign(&object, who).unwrap();
    let tampered = {
        let signed = by(&paris());
        let mut value = json::parse(&signed).unwrap();
        let obj = value.as_object_mut().unwrap();
        assert!(obj.contains_key("name"));
        obj.insert("name", Value::from("Indicateur modifié"));
        let mut bytes = Vec::new();
        json::write_compact(&value, &mut bytes);
        bytes
    };
    assert_ne!(tampered, by(&paris()));
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("signed", by(&paris())),
        ("signed-by-another-partner", by(&madrid())),
        ("unsigned", object.clone()),
        ("tampered", tampered),
        ("unknown-signer", by(&stranger())),
    ];
    let paris_check = verified_by(&paris());
    let invalid = SignatureCheck::Invalid {
        signer: paris().identity,
    };
    let unknown = SignatureCheck::UnknownSigner {
        signer: stranger().identity,
    };
    // "accept", "quarantine", or the words a rejection must name.
    let expected: BTreeMap<(&str, &str), (&str, SignatureCheck)> = BTreeMap::from([
        (("paris", "signed"), ("accept", paris_check.clone())),
        (("madrid", "signed"), ("accept", paris_check.clone())),
        (("lisboa", "signed"), ("accept", paris_check.clone())),
        (
            ("paris", "signed-by-another-partner"),
            ("accept", verified_by(&madrid())),
        ),
        (
            ("madrid", "signed-by-another-partner"),
            ("accept", verified_by(&madrid())),
        ),
        (
            ("lisboa", "signed-by-another-partner"),
            ("accept", verified_by(&madrid())),
        ),
        (
            ("paris", "unsigned"),
            ("accept_unsigned", SignatureCheck::Unsigned),
        ),
        (("madrid", "unsigned"), ("accept", SignatureCheck::Unsigned)),
        (
            ("lisboa", "unsigned"),
            ("accept_unsigned", SignatureCheck::Unsigned),
        ),
        (("paris", "tampered"), ("does not verify", invalid.clone())),
        (("madrid", "tampered"), ("quarantine", invalid.clone())),
        (("lisboa", "tampered"), ("quarantine", invalid.clone())),
        (
            ("paris", "unknown-signer"),
            ("accept_unknown_signer", unknown.clone()),
        ),
        (("madrid", "unknown-signer"), ("accept", unknown.clone())),
        (
            ("lisboa", "unknown-signer"),
            ("accept_unknown_signer", unknown.clone()),
        ),
    ]);
    for partner in ["paris", "madrid", "lisboa"] {
        for (kind, bytes) in &cases {
            let (want, want_check) = &expected[&(partner, *kind)];
            let verdict = node.federation.verdict(partner, bytes).unwrap();
            match (*want, &verdict) {
                ("accept", Verdict::Accept(check)) | ("quarantine", Verdict::Quarantine(check)) => {
                    assert_eq!(check, want_check, "{partner} {kind}");
                }
                (words, Verdict::Reject { check, reason })
                    if words != "accept" && words != "quarantine" =>
                {
                    assert_eq!(check, want_check, "{partner} {kind}");
                    assert!(reason.contains(words), "{partner} {kind}: {reason}");
                    if words.starts_with("accept_") {
                        assert!(reason.contains(partner), "{partner} {kind}: {reason}");
                    }
                }
                _ => panic!("{partner} {kind}: expected {want}, got {verdict:?}"),
            }
        }
    }
    assert!(matches!(
        node.federation.verdict("lyon", &object),
        Err(FederationError::UnknownPartner(_))
    ));
    // Definitions travel unsigned (egress sends them as they are): accepted unsigned
    // even where unsigned data is refused; a tampered signed one is still refused.
    let statement = br#"{"type":"marking-definition","spec_version":"2.1","id":"marking-definition--a1b2c3d4-0000-4000-8000-000000000001","created":"2026-11-20T08:00:00.000Z","definition_type":"statement","definition":{"statement":"Diffusion restreinte"}}"#;
    for definition in [
        &statement[..],
        &federation::signature::signature_extension_definition()
            .to_string()
            .into_bytes()[..],
    ] {
        assert_eq!(
            node.federation.verdict("paris", definition).unwrap(),
            Verdict::Accept(SignatureCheck::Unsigned)
        );
    }
    // So does the project identity that created the signature extension-definition,
    // but only exactly as every node publishes it.
    let project = federation::signature::project_identity().to_string();
    assert_eq!(
        node.federation
            .verdict("paris", project.as_bytes())
            .unwrap(),
        Verdict::Accept(SignatureCheck::Unsigned)
    );
    let changed = project.replace(
        "\"name\":\"Passerelle\"",
        "\"name\":\"Passerelle (mirror)\"",
    );
    assert_ne!(changed, project);
    assert!(matches!(
        node.federation
            .verdict("paris", changed.as_bytes())
            .unwrap(),
        Verdict::Reject {
            check: SignatureCheck::Unsigned,
            ..
        }
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn publishing_stores_the_definition_and_identities_where_partners_receive_and_they_go_to_all()
{
    let node = rabat_node().await;
    let report = node.federation.publish().await.unwrap();
    // Every collection an outbound agreement names, three objects each.
    assert_eq!(report.collections.len(), 3);
    assert_eq!(report.added, 9);
    // A second time adds nothing.
    let again = node.federation.publish().await.unwrap();
    assert_eq!(again.added, 0);
    let project = federation::signature::PROJECT_IDENTITY_ID;
    let ours = rabat().identity;
    let published = [SIGNATURE_EXTENSION_ID, project, ours.as_str()];
    for (partner, shared) in [
        ("paris", vec![SHARED, FROM_PARIS, FROM_MADRID]),
        ("madrid", vec![SHARED, FROM_PARIS, FROM_MADRID]),
        ("lisboa", vec![SHARED, FROM_PARIS]),
    ] {
        for collection in [SHARED, FROM_PARIS, FROM_MADRID] {
            let records = node.records(collection).await;
            let decided: BTreeMap<String, Outcome> = node
                .federation
                .decide(partner, collection, records)
                .await
                .unwrap()
                .into_iter()
                .map(|o| (o.record.id.clone(), o))
                .collect();
            for id in published {
                assert_eq!(
                    decided[id].record.provenance,
                    Some(Provenance::Import {
                        source: federation::publish::PUBLISHED_SOURCE.into()
                    })
                );
            }
            let rule = |id: &str| decided[id].decision.rule().as_str();
            if !shared.contains(&collection) {
                // Lisboa's agreement does not share from-madrid: nothing of it goes.
                for id in published {
                    assert_eq!(rule(id), "collection-not-shared", "{partner} {id}");
                }
                continue;
            }
            assert_eq!(rule(SIGNATURE_EXTENSION_ID), "extension-definition");
            assert_eq!(rule(project), "published-identity");
            assert_eq!(rule(&ours), "published-identity");
            // The definition and the project identity go as every node publishes
            // them; our identity goes signed by us.
            let sent = |id: &str| decided[id].bytes().unwrap().to_vec();
            assert_eq!(
                json::parse(&sent(SIGNATURE_EXTENSION_ID)).unwrap(),
                federation::signature::signature_extension_definition()
            );
            assert_eq!(
                federation::signature::verify(&sent(&ours), &keys),
                verified_by(&rabat())
            );
            assert_eq!(
                node.federation.check_signature(&sent(project)),
                SignatureCheck::Unsigned
            );
        }
    }
}
