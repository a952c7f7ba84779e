//! Air-gapped exchange as operators run it: two (or three) nodes' data folders made by
//! `passerelle init`, configs naming each other as partners with the identity and key
//! `init` printed, the Rabat sample imported on one node, `export --partner` there and
//! `import --from` on the other. No server runs: what arrived, with which provenance,
//! and what the ledgers say is read from each node's database afterwards.

// Test support: a failed setup step should stop the test with its message.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![cfg(unix)]

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::Arc;

use common::{ok, run};
use federation::identity::PublicKey;
use federation::signature;
use stix::bundle::ObjectReader;
use store::{
    Channel, Direction, LedgerEntry, LedgerQuery, ObjectQuery, ObjectRecord, Provenance,
    SignatureCheck, Store, SyncState, VersionMatch,
};

const RABAT: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../testdata/federation/rabat.json"
);

/// What an agreement with `max_tlp = "green"` lets go of the Rabat sample: CLEAR and
/// GREEN objects, the report redacted, the sighting whose ends are CLEAR.
const GOES_TO_PARIS: [&str; 5] = [
    "indicator--2a7beae1-5108-4bb8-b00d-114f199bce3b",
    "indicator--81971521-7dde-4084-8f40-dd8567a0962d",
    "report--47bd440c-7b13-47ee-8cc2-9231e36eafc6",
    "identity--b00b4c03-9984-40df-951b-53b9358b3d6b",
    "sighting--d87f92ab-bafe-4135-8146-2b3eccdc26e8",
];

/// … and what it withholds: AMBER, AMBER+STRICT, unmarked (AMBER by default), RED, an
/// indicator whose pattern is marked AMBER, a relationship with an AMBER end.
const WITHHELD_FROM_PARIS: [&str; 7] = [
    "threat-actor--dad3c65b-9629-4c3a-8845-6ebf5e18eb2b",
    "indicator--38bec5f5-2095-4b52-9088-980a7d1145bd",
    "indicator--a8ac7479-0dd5-49e1-bd07-6e2ac9dad2af",
    "indicator--4cca0e18-0637-4f6f-9fa6-cc9db15f3ccd",
    "indicator--73c2d36f-93f2-4bd3-b37e-292203463596",
    "relationship--df1273aa-2551-455c-9965-51356ecfa3b6",
    "relationship--c2b3b513-314c-4e02-9ba1-86a65835af52",
];

/// A node made by `passerelle init`, with the identity and key it printed.
struct Node {
    data: String,
    identity: String,
    public_key: String,
}

impl Node {
    fn init(dir: &Path, name: &str, label: &str) -> Node {
        let data = dir.join(name).to_str().unwrap().to_owned();
        let stdout = ok(&["init", "--data", &data, "--name", label]);
        // "  identity       identity--… (public key ed25519:…; partners need both: …)"
        let line = stdout
            .lines()
            .find_map(|l| l.trim().strip_prefix("identity"))
            .unwrap_or_else(|| panic!("no identity line in:\n{stdout}"))
            .trim();
        let (identity, rest) = line.split_once(' ').unwrap();
        let public_key = rest
            .strip_prefix("(public key ")
            .and_then(|r| r.split(';').next())
            .unwrap();
        PublicKey::parse(public_key).unwrap();
        Node {
            data,
            identity: identity.to_owned(),
            public_key: public_key.to_owned(),
        }
    }

    /// Appends a `[[partners]]` entry for `other`, named `name`, with `extra` TOML.
    fn add_partner(&self, name: &str, other: &Node, extra: &str) {
        let config = Path::new(&self.data).join("passerelle.toml");
        let mut text = std::fs::read_to_string(&config).unwrap();
        text.push_str(&format!(
            "\n[[partners]]\nname = \"{name}\"\nidentity = \"{}\"\npublic_key = \"{}\"\n{extra}\n",
            other.identity, other.public_key
        ));
        std::fs::write(config, text).unwrap();
    }

    fn ok(&self, args: &[&str]) -> String {
        let mut full = args.to_vec();
        full.extend(["--data", &self.data]);
        ok(&full)
    }

    fn run(&self, args: &[&str]) -> Output {
        let mut full = args.to_vec();
        full.extend(["--data", &self.data]);
        run(&full, &[], b"")
    }

    /// Reads the node's database (no command is running).
    fn read<T>(&self, f: impl AsyncFnOnce(Arc<dyn Store>) -> T) -> T {
        let runtime = tokio::runtime::Runtime::new().unwrap();
        runtime.block_on(async {
            let store = common::open_store(Path::new(&self.data)).await;
            f(store).await
        })
    }

    /// Every version in the `default` collection, with its provenance.
    fn objects(&self) -> Vec<ObjectRecord> {
        self.read(async |store| {
            let collection = store.find_collection("default").await.unwrap();
            let query = ObjectQuery {
                versions: vec![VersionMatch::All],
                limit: 10_000,
                with_provenance: true,
                ..ObjectQuery::default()
            };
            store.objects(collection.id, &query).await.unwrap().records
        })
    }

    fn ledger(&self) -> Vec<LedgerEntry> {
        self.read(async |store| store.ledger(&LedgerQuery::default()).await.unwrap())
    }

    fn sync_states(&self) -> Vec<SyncState> {
        self.read(async |store| store.sync_states().await.unwrap())
    }
}

/// Rabat and Paris, each the other's partner: Rabat lets CLEAR and GREEN data of its
/// `default` collection go to Paris; Paris accepts what Rabat signs.
fn rabat_and_paris(dir: &Path) -> (Node, Node) {
    let rabat = Node::init(dir, "rabat", "DGSN Rabat");
    let paris = Node::init(dir, "paris", "Paris");
    rabat.add_partner(
        "paris",
        &paris,
        "[partners.outbound]\ncollections = [\"default\"]\nmax_tlp = \"green\"",
    );
    paris.add_partner("rabat", &rabat, "");
    rabat.ok(&["import", RABAT, "--collection", "default"]);
    (rabat, paris)
}

fn path(dir: &Path, name: &str) -> String {
    dir.join(name).to_str().unwrap().to_owned()
}

/// The objects of a file, as their exact bytes.
fn objects_of(path: &str) -> Vec<Vec<u8>> {
    let bytes = std::fs::read(path).unwrap();
    let mut reader = ObjectReader::new(&bytes[..]);
    let mut out = Vec::new();
    while let Some(raw) = reader.next_object().unwrap() {
        out.push(raw.bytes.to_vec());
    }
    // A file without objects has no `objects` list: the reader saw one document.
    if reader.shape() == Some(stix::bundle::Shape::Single) {
        out.clear();
    }
    out
}

fn id_of(bytes: &[u8]) -> String {
    let value: serde_json::Value = serde_json::from_slice(bytes).unwrap();
    value["id"].as_str().unwrap().to_owned()
}

fn ids(records: &[ObjectRecord]) -> BTreeSet<String> {
    records.iter().map(|r| r.id.clone()).collect()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// What a node publishes where partners receive from it (the signature
/// extension-definition, the project identity that created it, its identity), which
/// goes with its first file.
fn published(node: &Node) -> [String; 3] {
    [
        signature::SIGNATURE_EXTENSION_ID.to_owned(),
        signature::PROJECT_IDENTITY_ID.to_owned(),
        node.identity.clone(),
    ]
}

/// The published objects that travel unsigned, the same on every node.
fn travels_unsigned(id: &str) -> bool {
    id == signature::SIGNATURE_EXTENSION_ID || id == signature::PROJECT_IDENTITY_ID
}

fn entries(ledger: &[LedgerEntry], direction: Direction) -> Vec<&LedgerEntry> {
    ledger.iter().filter(|e| e.direction == direction).collect()
}

#[test]
fn files_carry_what_the_agreement_lets_go_signed_and_recorded_on_both_sides() {
    let dir = tempfile::tempdir().unwrap();
    let (rabat, paris) = rabat_and_paris(dir.path());
    let first = path(dir.path(), "rabat-paris-1.json");

    let out = rabat.ok(&["export", "--partner", "paris", "--out", &first]);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines[0],
        format!("exported file 1 for paris to {first}: 8 objects written, 7 withheld"),
        "{out}"
    );
    assert!(
        out.contains("written by rule:  extension-definition 1, published-identity 2, own-data 5"),
        "{out}"
    );
    assert!(out.contains("redacted:         1"), "{out}");
    assert!(
        out.contains(
            "withheld by rule: tlp-red 1, tlp-above-agreement 4, redaction-invalid 1, relationship-end-withheld 1"
        ),
        "{out}"
    );
    // A STIX bundle any STIX tool reads: no error (the transfer header is one warning).
    let validated = run(&["validate", &first], &[], b"");
    assert!(validated.status.success(), "{validated:?}");
    let in_file: BTreeSet<String> = objects_of(&first).iter().map(|o| id_of(o)).collect();
    // Rabat's data, and what Paris needs to read its signatures.
    let goes: BTreeSet<String> = GOES_TO_PARIS
        .iter()
        .map(|s| s.to_string())
        .chain(published(&rabat))
        .collect();
    assert_eq!(in_file, goes);
    assert!(!std::fs::exists(format!("{first}.partial")).unwrap());

    let out = paris.ok(&["import", "--from", "rabat", &first]);
    assert!(
        out.contains(&format!("{first}: file 1 from rabat (written "))
            && out.contains("8 objects), signed by rabat for this node"),
        "{out}"
    );
    assert!(
        out.ends_with(
            "imported 1 file from rabat into collection default: 8 added, 0 already present, 0 rejected\n"
        ),
        "{out}"
    );

    // The right objects arrived, exactly as sent, with file provenance and Rabat's
    // signature verified; nothing withheld did.
    let arrived = paris.objects();
    assert_eq!(ids(&arrived), in_file);
    for id in WITHHELD_FROM_PARIS {
        assert!(!ids(&arrived).contains(id), "{id} reached Paris");
    }
    let rabat_key = PublicKey::parse(&rabat.public_key).unwrap();
    let keys = |identity: &str| (identity == rabat.identity).then_some(rabat_key);
    let sent = objects_of(&first);
    for record in &arrived {
        // The definition and the project identity travel unsigned, as every node
        // publishes them; the rest is signed by Rabat.
        let check = if travels_unsigned(&record.id) {
            SignatureCheck::Unsigned
        } else {
            SignatureCheck::Verified {
                signer: rabat.identity.clone(),
            }
        };
        assert_eq!(
            record.provenance,
            Some(Provenance::Partner {
                partner: "rabat".into(),
                channel: Channel::File,
                signature: check.clone(),
            }),
            "{}",
            record.id
        );
        assert!(sent.contains(&record.bytes), "{} stored as sent", record.id);
        assert_eq!(signature::verify(&record.bytes, &keys), check);
    }
    // The report went redacted: its AMBER description did not.
    let report = arrived
        .iter()
        .find(|r| r.id.starts_with("report--"))
        .unwrap();
    let report: serde_json::Value = serde_json::from_slice(&report.bytes).unwrap();
    assert!(report.get("description").is_none(), "{report}");

    // Both ledgers: disclosed by file on Rabat, received by file on Paris, one per object.
    let rabat_ledger = rabat.ledger();
    store::ledger::verify(&rabat_ledger).unwrap();
    let disclosed = entries(&rabat_ledger, Direction::Disclosed);
    assert_eq!(disclosed.len(), 8);
    for entry in &disclosed {
        assert_eq!(entry.partner.as_deref(), Some("paris"));
        assert_eq!(entry.channel, Some(Channel::File));
        let rule = match entry.object_id.as_str() {
            signature::SIGNATURE_EXTENSION_ID => "extension-definition",
            id if published(&rabat).iter().any(|p| p == id) => "published-identity",
            _ => "own-data",
        };
        assert_eq!(entry.rule, rule, "{}", entry.object_id);
        assert!(in_file.contains(&entry.object_id));
    }
    let paris_ledger = paris.ledger();
    store::ledger::verify(&paris_ledger).unwrap();
    let received = entries(&paris_ledger, Direction::Received);
    assert_eq!(received.len(), 8);
    for entry in &received {
        assert_eq!(entry.partner.as_deref(), Some("rabat"));
        assert_eq!(entry.channel, Some(Channel::File));
        let from_rabat = disclosed
            .iter()
            .find(|d| d.object_id == entry.object_id)
            .unwrap();
        assert_eq!(
            entry.bytes_sha256, from_rabat.bytes_sha256,
            "the same bytes"
        );
    }

    // Importing the same file again changes nothing, and says so.
    let out = paris.ok(&["import", "--from", "rabat", &first]);
    assert!(
        out.contains("file 1 from rabat was imported before"),
        "{out}"
    );
    assert!(
        out.contains("0 added, 8 already present, 0 rejected"),
        "{out}"
    );
    assert_eq!(paris.objects().len(), 8);
    assert_eq!(paris.ledger().len(), paris_ledger.len());

    // Nothing new: the next file holds nothing and keeps the series going.
    let second = path(dir.path(), "rabat-paris-2.json");
    let out = rabat.ok(&["export", "--partner", "paris", "--out", &second]);
    assert_eq!(
        out,
        format!(
            "exported file 2 for paris to {second}: nothing new since file 1 (the file holds no object and keeps the series going)\n"
        )
    );
    assert!(objects_of(&second).is_empty());
    let out = paris.ok(&["import", "--from", "rabat", &second]);
    assert!(out.contains("file 2 from rabat (written"), "{out}");
    assert!(out.contains("0 added, 0 already present"), "{out}");

    // A new version on Rabat: the next file holds that version only.
    let sample: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(RABAT).unwrap()).unwrap();
    let mut indicator = sample["objects"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["id"] == GOES_TO_PARIS[0])
        .unwrap()
        .clone();
    indicator["modified"] = "2026-11-28T08:00:00.000Z".into();
    let newer = serde_json::json!({
        "type": "bundle",
        "id": "bundle--5d0092c5-5f74-4287-9642-33f4c354e56d",
        "objects": [indicator],
    })
    .to_string();
    let newer_file = common::write(dir.path(), "newer.json", &newer);
    rabat.ok(&["import", &newer_file, "--collection", "default"]);
    let third = path(dir.path(), "rabat-paris-3.json");
    let out = rabat.ok(&["export", "--partner", "paris", "--out", &third]);
    assert!(
        out.starts_with(&format!(
            "exported file 3 for paris to {third}: 1 object written, 0 withheld"
        )),
        "{out}"
    );
    let only = objects_of(&third);
    assert_eq!(only.len(), 1);
    assert_eq!(id_of(&only[0]), GOES_TO_PARIS[0]);
    assert!(String::from_utf8_lossy(&only[0]).contains("2026-11-28T08:00:00.000Z"));

    // A file changed after it was signed is refused, naming the changed object.
    let tampered = path(dir.path(), "tampered.json");
    let text = std::fs::read_to_string(&third).unwrap();
    std::fs::write(&tampered, text.replacen("\"name\":\"", "\"name\":\"X", 1)).unwrap();
    let refused = paris.run(&["import", "--from", "rabat", &tampered]);
    assert_eq!(refused.status.code(), Some(2), "{refused:?}");
    let message = stderr(&refused);
    assert!(
        message.contains("the file signature of partner rabat"),
        "{message}"
    );
    assert!(message.contains("does not verify"), "{message}");
    assert!(
        message.contains(&format!("{} (objects[0])", GOES_TO_PARIS[0])),
        "{message}"
    );
    // So is a truncated one.
    let truncated = path(dir.path(), "truncated.json");
    std::fs::write(&truncated, &text.as_bytes()[..text.len() / 2]).unwrap();
    let refused = paris.run(&["import", "--from", "rabat", &truncated]);
    assert_eq!(refused.status.code(), Some(2), "{refused:?}");
    assert!(
        stderr(&refused).contains("truncated"),
        "{}",
        stderr(&refused)
    );
    assert_eq!(
        paris.objects().len(),
        8,
        "nothing stored from refused files"
    );

    // The real one arrives; a file skipped in the series is named.
    paris.ok(&["import", "--from", "rabat", &third]);
    assert_eq!(paris.objects().len(), 9);
    let fourth = path(dir.path(), "rabat-paris-4.json");
    let fifth = path(dir.path(), "rabat-paris-5.json");
    rabat.ok(&["export", "--partner", "paris", "--out", &fourth]);
    rabat.ok(&["export", "--partner", "paris", "--out", &fifth]);
    let out = paris.ok(&["import", "--from", "rabat", &fifth]);
    assert!(
        out.contains("note: file(s) 4 from rabat have not been imported"),
        "{out}"
    );

    // Where each side stands, for operators.
    let outbound = rabat
        .sync_states()
        .into_iter()
        .find(|s| s.partner == "paris" && s.direction == Channel::File)
        .unwrap();
    assert_eq!(outbound.collection, "outbound");
    assert!(outbound.cursor.unwrap().starts_with("5 "));
    assert_eq!(outbound.objects, 9);
    assert_eq!(outbound.last_error, None);
    let inbound = paris
        .sync_states()
        .into_iter()
        .find(|s| s.partner == "rabat" && s.direction == Channel::File)
        .unwrap();
    assert_eq!(inbound.collection, "inbound");
    assert_eq!(inbound.cursor.as_deref(), Some("1-3,5"));
    assert_eq!(
        inbound.last_error, None,
        "the refusals were followed by successes"
    );
    assert_eq!(inbound.objects, 9);
}

#[test]
fn files_for_another_node_from_another_sender_or_left_behind_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (rabat, paris) = rabat_and_paris(dir.path());
    let madrid = Node::init(dir.path(), "madrid", "Madrid");
    rabat.add_partner(
        "madrid",
        &madrid,
        "[partners.outbound]\ncollections = [\"default\"]\nmax_tlp = \"clear\"",
    );
    madrid.add_partner(
        "paris",
        &paris,
        "[partners.outbound]\ncollections = [\"default\"]\nmax_tlp = \"clear\"",
    );
    paris.add_partner("madrid", &madrid, "");
    madrid.ok(&["import", RABAT, "--collection", "default"]);

    // Rabat's file for Madrid, imported at Paris.
    let for_madrid = path(dir.path(), "rabat-madrid-1.json");
    rabat.ok(&["export", "--partner", "madrid", "--out", &for_madrid]);
    let refused = paris.run(&["import", "--from", "rabat", &for_madrid]);
    assert_eq!(refused.status.code(), Some(2), "{refused:?}");
    assert!(
        stderr(&refused).contains(&format!(
            "the file is for {}, not for this node ({})",
            madrid.identity, paris.identity
        )),
        "{}",
        stderr(&refused)
    );
    // Madrid's file for Paris, said to be from Rabat.
    let from_madrid = path(dir.path(), "madrid-paris-1.json");
    madrid.ok(&["export", "--partner", "paris", "--out", &from_madrid]);
    let refused = paris.run(&["import", "--from", "rabat", &from_madrid]);
    assert_eq!(refused.status.code(), Some(2), "{refused:?}");
    assert!(
        stderr(&refused).contains(&format!(
            "the file comes from partner madrid ({}), not from partner rabat",
            madrid.identity
        )),
        "{}",
        stderr(&refused)
    );
    // From a node Paris has no key for.
    let paris_only = Node::init(dir.path(), "lisbon", "Lisbon");
    paris_only.add_partner("rabat", &rabat, "");
    let refused = paris_only.run(&["import", "--from", "rabat", &from_madrid]);
    assert_eq!(refused.status.code(), Some(2), "{refused:?}");
    assert!(
        stderr(&refused).contains(&format!(
            "the file is signed by {}, which is not a partner of this node",
            madrid.identity
        )),
        "{}",
        stderr(&refused)
    );
    // A plain bundle is not a transfer file.
    let refused = paris.run(&["import", "--from", "rabat", RABAT]);
    assert_eq!(refused.status.code(), Some(2));
    assert!(stderr(&refused).contains("not a Passerelle transfer file"));
    assert!(paris.objects().is_empty());
    assert!(entries(&paris.ledger(), Direction::Received).is_empty());

    // Export never overwrites a file that may not have been carried yet…
    let refused = rabat.run(&["export", "--partner", "madrid", "--out", &for_madrid]);
    assert_eq!(refused.status.code(), Some(2));
    assert!(
        stderr(&refused).contains("already exists"),
        "{}",
        stderr(&refused)
    );
    // … and stops at what an interrupted export left, saying what it is.
    let next = path(dir.path(), "rabat-madrid-2.json");
    std::fs::write(format!("{next}.partial"), "{\"type\":\"bundle\"").unwrap();
    let refused = rabat.run(&["export", "--partner", "madrid", "--out", &next]);
    assert_eq!(refused.status.code(), Some(2));
    assert!(
        stderr(&refused).contains("nothing in it was recorded as sent: delete it"),
        "{}",
        stderr(&refused)
    );
    std::fs::rename(&for_madrid, format!("{next}.partial")).unwrap();
    let refused = rabat.run(&["export", "--partner", "madrid", "--out", &next]);
    assert!(
        stderr(&refused).contains("it is file 1 for madrid, complete and recorded as sent"),
        "{}",
        stderr(&refused)
    );
    assert!(!Path::new(&next).exists());

    // The command line says what it needs.
    let refused = run(
        &["export", "--partner", "paris", "--data", &rabat.data],
        &[],
        b"",
    );
    assert_eq!(refused.status.code(), Some(2));
    assert!(stderr(&refused).contains("--out"), "{}", stderr(&refused));
    let refused = run(
        &["import", "--from", "rabat", "-", "--data", &paris.data],
        &[],
        b"",
    );
    assert!(stderr(&refused).contains("cannot come from standard input"));
    let refused = run(
        &[
            "import",
            "--from",
            "rabat",
            RABAT,
            "--collection",
            "default",
        ],
        &[],
        b"",
    );
    assert!(
        stderr(&refused).contains("cannot be used with"),
        "{}",
        stderr(&refused)
    );
    let unknown = paris.run(&["import", "--from", "oslo", RABAT]);
    assert!(stderr(&unknown).contains("\"oslo\" is not a configured partner"));
}

#[test]
fn files_go_to_the_inbound_collection_the_config_names() {
    let dir = tempfile::tempdir().unwrap();
    let (rabat, paris) = rabat_and_paris(dir.path());
    let config = PathBuf::from(&paris.data).join("passerelle.toml");
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(
        &config,
        format!("{text}[partners.inbound]\ncollection = \"from-rabat\"\n"),
    )
    .unwrap();
    let file = path(dir.path(), "rabat-paris-1.json");
    rabat.ok(&["export", "--partner", "paris", "--out", &file]);
    let missing = paris.run(&["import", "--from", "rabat", &file]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(
        stderr(&missing)
            .contains("inbound.collection: \"from-rabat\" is not a collection of this node"),
        "{}",
        stderr(&missing)
    );
    paris.ok(&["collection", "add", "From Rabat", "--alias", "from-rabat"]);
    let out = paris.ok(&["import", "--from", "rabat", &file]);
    // Rabat's 5 objects and the 3 it publishes for its signatures.
    assert!(out.contains("into collection from-rabat: 8 added"), "{out}");
    assert!(paris.objects().is_empty(), "nothing in default");
}
