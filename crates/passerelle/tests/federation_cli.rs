//! The federation commands as an operator, a liaison officer and an auditor run
//! them, with real processes on real nodes: `init` and `identity show`, the partner
//! entry it prints loaded by the partner's node, `agreement preview|show` on the
//! sample intelligence of `testdata/federation/`, and `audit verify|log` on ledgers
//! written by the federation library (as the sync workers and the TAXII gate write
//! them) and then tampered with through the database directly (SQLite or PostgreSQL,
//! the test backend).
//!
//! The node under test is Rabat. Its collections: `shared` (its own `rabat.json`),
//! `from-paris` and `from-madrid` (the partners' bundles, stored as their data), each
//! also holding what the node publishes as `serve` does when it starts (the signature
//! extension-definition, the project identity that created it, Rabat's identity).
//!
//! | partner | outbound collections | max_tlp | communities | else |
//! |---|---|---|---|---|
//! | paris | shared, from-madrid | green | wc2030 | label `internal` excluded; account `paris` |
//! | madrid | shared, from-paris, from-madrid | amber | wc2030 | consent from paris up to amber |

// Test support: a failed setup step should stop the test with its message.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![cfg(unix)]

mod common;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use common::{ok, run};
use federation::{Agreement, Federation, NodeIdentity, Outcome};
use store::{
    Channel, DeleteFilter, LedgerQuery, ManualClock, Micros, NewObject, ObjectQuery, Provenance,
    SignatureCheck,
};
use uuid::Uuid;

const SHARED: &str = "5a5a0001-0000-4000-8000-000000000001";
const FROM_PARIS: &str = "5a5a0001-0000-4000-8000-000000000002";
const FROM_MADRID: &str = "5a5a0001-0000-4000-8000-000000000003";

/// When the partners' data arrives, and when the disclosures happen.
const RECEIVED_AT: &str = "2026-11-20T08:00:00Z";
const TO_PARIS_AT: &str = "2026-11-21T08:00:00Z";
const TO_MADRID_AT: &str = "2026-11-22T08:00:00Z";
const DELETED_AT: &str = "2026-11-23T08:00:00Z";

fn sample(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("../../testdata/federation/{name}.json"))
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Runtime::new().unwrap()
}

fn json(text: &str) -> serde_json::Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("{e}: {text}"))
}

/// JSON lines.
fn lines(text: &str) -> Vec<serde_json::Value> {
    text.lines().map(json).collect()
}

/// `passerelle init` of a node named `name` in `<dir>/<folder>`; its data folder and
/// what init printed.
fn init(dir: &Path, folder: &str, name: &str) -> (String, String) {
    let data = dir.join(folder).to_str().unwrap().to_owned();
    let printed = ok(&["init", "--data", &data, "--name", name]);
    (data, printed)
}

/// `identity = …` and `public_key = …` of a node, from `identity show --format json`.
fn identity_lines(data: &str) -> String {
    let shown = json(&ok(&[
        "identity", "show", "--data", data, "--format", "json",
    ]));
    format!(
        "identity = {}\npublic_key = {}",
        shown["identity"], shown["public_key"]
    )
}

fn append(file: &Path, text: &str) {
    let mut current = std::fs::read_to_string(file).unwrap();
    current.push_str(text);
    std::fs::write(file, current).unwrap();
}

/// The objects of a sample bundle, ready to store.
fn objects(name: &str) -> Vec<NewObject> {
    let bundle = json(&std::fs::read_to_string(sample(name)).unwrap());
    bundle["objects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|object| {
            let bytes = serde_json::to_vec(object).unwrap();
            let value = stix::json::parse(&bytes).unwrap();
            NewObject::from_object(bytes.clone(), value.as_object().unwrap()).unwrap()
        })
        .collect()
}

fn partner_data(partner: &str) -> Provenance {
    Provenance::Partner {
        partner: partner.to_owned(),
        channel: Channel::Pull,
        signature: SignatureCheck::Unsigned,
    }
}

/// Rabat, with Paris and Madrid as partners (see the module doc), its own sample
/// imported by the CLI and the partners' stored as their data at [`RECEIVED_AT`].
struct Rabat {
    dir: tempfile::TempDir,
    data: String,
    init: String,
}

impl Rabat {
    fn new() -> Rabat {
        let dir = tempfile::tempdir().unwrap();
        let (data, init) = init(dir.path(), "rabat", "DGSN Rabat");
        let (paris, _) = self::init(dir.path(), "paris", "DGSI Paris");
        let (madrid, _) = self::init(dir.path(), "madrid", "CNI Madrid");
        append(
            &Path::new(&data).join("passerelle.toml"),
            &format!(
                r#"default_tlp = "amber"
communities = ["wc2030"]

[[partners]]
name = "paris"
{paris}
communities = ["wc2030"]
account = "paris"
[partners.outbound]
collections = ["shared", "from-madrid"]
max_tlp = "green"
labels_excluded = ["internal"]

[[partners]]
name = "madrid"
{madrid}
communities = ["wc2030"]
[partners.outbound]
collections = ["shared", "from-paris", "{FROM_MADRID}"]
max_tlp = "amber"
consents = [{{ originator = "paris", tlp = "amber", reference = "letter 2026-11-02" }}]
"#,
                paris = identity_lines(&paris),
                madrid = identity_lines(&madrid),
            ),
        );
        for (id, alias, title) in [
            (SHARED, "shared", "Rabat — shared"),
            (FROM_PARIS, "from-paris", "Paris"),
            (FROM_MADRID, "from-madrid", "Madrid"),
        ] {
            ok(&[
                "collection",
                "add",
                title,
                "--alias",
                alias,
                "--id",
                id,
                "--data",
                &data,
            ]);
        }
        let sample = sample("rabat");
        ok(&[
            "import",
            sample.to_str().unwrap(),
            "--collection",
            "shared",
            "--data",
            &data,
        ]);
        let rabat = Rabat { dir, data, init };
        rabat.with_federation(RECEIVED_AT, |federation| async move {
            let store = federation.store();
            for (partner, collection) in [("paris", FROM_PARIS), ("madrid", FROM_MADRID)] {
                let added = store
                    .add_objects(
                        Uuid::parse_str(collection).unwrap(),
                        &partner_data(partner),
                        objects(partner),
                    )
                    .await
                    .unwrap();
                assert_eq!(added.len(), 6);
            }
            // What `serve` publishes when it starts: the signature extension-definition,
            // the project identity that created it and ours, in each outbound collection.
            assert_eq!(federation.publish().await.unwrap().added, 9);
        });
        rabat
    }

    fn path(&self) -> &Path {
        Path::new(&self.data)
    }

    /// Runs `body` with the node's federation over its database, the store's clock at `at`.
    fn with_federation<F, Fut, T>(&self, at: &str, body: F) -> T
    where
        F: FnOnce(Arc<Federation>) -> Fut,
        Fut: std::future::Future<Output = T>,
    {
        let clock = Arc::new(ManualClock::new(Micros::parse(at).unwrap()));
        let config = std::fs::read_to_string(self.path().join("passerelle.toml")).unwrap();
        let agreement = Agreement::from_toml(&config).unwrap();
        let identity = NodeIdentity::load(self.path()).unwrap();
        runtime().block_on(async {
            let store = common::open_store_with_clock(self.path(), clock).await;
            let federation = Federation::new(store, agreement, identity).await.unwrap();
            body(Arc::new(federation)).await
        })
    }

    /// Discloses every latest version of `collections` to `partner` at `at`, as a
    /// pull would; returns what went.
    fn disclose(&self, partner: &str, collections: &[&str], at: &str) -> Vec<Outcome> {
        let partner = partner.to_owned();
        let collections: Vec<Uuid> = collections
            .iter()
            .map(|c| Uuid::parse_str(c).unwrap())
            .collect();
        self.with_federation(at, |federation| async move {
            let mut disclosed = Vec::new();
            for collection in collections {
                let query = ObjectQuery {
                    with_provenance: true,
                    ..ObjectQuery::default()
                };
                let records = federation
                    .store()
                    .objects(collection, &query)
                    .await
                    .unwrap()
                    .records;
                let outcomes = federation
                    .disclose(&partner, Channel::Pull, collection, records, None)
                    .await
                    .unwrap();
                disclosed.extend(outcomes.into_iter().filter(|o| o.bytes().is_some()));
            }
            disclosed
        })
    }

    fn run(&self, args: &[&str]) -> std::process::Output {
        let mut args = args.to_vec();
        args.extend(["--data", &self.data]);
        run(&args, &[], b"")
    }

    fn ok(&self, args: &[&str]) -> String {
        let mut args = args.to_vec();
        args.extend(["--data", &self.data]);
        ok(&args)
    }

    /// A copy of the node (its folder, with the database), to tamper with.
    fn copy(&self, name: &str) -> Rabat {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join(name);
        common::copy_node(self.path(), &data);
        Rabat {
            dir,
            data: data.to_str().unwrap().to_owned(),
            init: self.init.clone(),
        }
    }

    /// Runs `sql` (the same on SQLite and PostgreSQL) on the node's database, behind
    /// Passerelle's back.
    fn execute(&self, sql: &str) {
        common::execute_sql(self.path(), sql, sql);
    }
}

fn stdout(output: &std::process::Output) -> String {
    String::from_utf8(output.stdout.clone()).unwrap()
}

fn stderr(output: &std::process::Output) -> String {
    String::from_utf8(output.stderr.clone()).unwrap()
}

// ---- identity ----

#[test]
fn init_prints_the_identity_that_identity_show_reports() {
    let rabat = Rabat::new();
    let saved = json(&std::fs::read_to_string(rabat.path().join("identity.json")).unwrap());
    let id = saved["id"].as_str().unwrap();
    assert!(id.starts_with("identity--"), "{saved}");
    let key = NodeIdentity::load(rabat.path())
        .unwrap()
        .public_key()
        .to_string();
    assert!(key.starts_with("ed25519:"), "{key}");
    let init_line = rabat
        .init
        .lines()
        .find(|l| l.trim_start().starts_with("identity"))
        .unwrap_or_else(|| panic!("no identity line in:\n{}", rabat.init));
    assert!(
        init_line.contains(id) && init_line.contains(&key),
        "{init_line}"
    );

    let text = rabat.ok(&["identity", "show"]);
    assert!(text.contains(&format!("identity    {id}")), "{text}");
    assert!(text.contains("name        DGSN Rabat"), "{text}");
    assert!(text.contains(&format!("public key  {key}")), "{text}");
    assert!(
        text.contains("TAXII       http://127.0.0.1:8080/api/ (API root; discovery http://127.0.0.1:8080/taxii2/)"),
        "{text}"
    );
    assert!(text.contains("[[partners]]"), "{text}");

    let shown = json(&rabat.ok(&["identity", "show", "--format", "json"]));
    assert_eq!(shown["identity"], saved["id"]);
    assert_eq!(shown["name"], saved["name"]);
    assert_eq!(shown["created"], saved["created"]);
    assert_eq!(shown["public_key"], key.as_str());
    assert_eq!(shown["url"], "http://127.0.0.1:8080/");
    assert_eq!(shown["api_root_url"], "http://127.0.0.1:8080/api/");
    assert_eq!(shown["discovery_url"], "http://127.0.0.1:8080/taxii2/");
    // Plain http on loopback: partners elsewhere cannot reach it, and it says so.
    assert!(
        shown["url_warnings"][0]
            .as_str()
            .unwrap()
            .contains("loopback"),
        "{shown}"
    );
    // The text form prints the same entry.
    let entry = shown["partner_config"].as_str().unwrap();
    assert!(text.contains(entry), "{text}\n---\n{entry}");
}

#[test]
fn identity_show_takes_the_url_from_the_server_settings() {
    let dir = tempfile::tempdir().unwrap();
    let (data, _) = init(dir.path(), "node", "CERT Example");
    let env = [
        ("PASSERELLE__SERVER__LISTEN", "192.0.2.10:8443"),
        ("PASSERELLE__SERVER__TLS_CERT", "/etc/passerelle/cert.pem"),
        ("PASSERELLE__SERVER__TLS_KEY", "/etc/passerelle/key.pem"),
        ("PASSERELLE__SERVER__API_ROOT", "intel"),
    ];
    let output = run(
        &["identity", "show", "--data", &data, "--format", "json"],
        &env,
        b"",
    );
    assert!(output.status.success(), "{}", stderr(&output));
    let shown = json(&stdout(&output));
    assert_eq!(shown["url"], "https://192.0.2.10:8443/");
    assert_eq!(shown["api_root_url"], "https://192.0.2.10:8443/intel/");
    assert_eq!(shown["url_warnings"], serde_json::json!([]));
    let entry = shown["partner_config"].as_str().unwrap();
    assert!(
        entry.contains("url = \"https://192.0.2.10:8443/\""),
        "{entry}"
    );
    assert!(entry.contains("api_root = \"intel\""), "{entry}");
    assert!(entry.contains("name = \"cert-example\""), "{entry}");

    // Behind a proxy: the address partners reach.
    let shown = json(&ok(&[
        "identity",
        "show",
        "--data",
        &data,
        "--format",
        "json",
        "--url",
        "https://cert.example",
    ]));
    assert_eq!(shown["api_root_url"], "https://cert.example/api/");

    // Listening everywhere: the address is not one partners can use, and it says so.
    let output = run(
        &["identity", "show", "--data", &data],
        &[
            ("PASSERELLE__SERVER__LISTEN", "0.0.0.0:0"),
            ("PASSERELLE__SERVER__TLS_CERT", "/etc/passerelle/cert.pem"),
            ("PASSERELLE__SERVER__TLS_KEY", "/etc/passerelle/key.pem"),
        ],
        b"",
    );
    let text = stdout(&output);
    assert!(
        text.contains("warning     the node listens on every address"),
        "{text}"
    );
    assert!(text.contains("port 0"), "{text}");
}

#[test]
fn identity_show_without_an_identity_says_how_to_make_one() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("none");
    let output = run(
        &["identity", "show", "--data", data.to_str().unwrap()],
        &[],
        b"",
    );
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("passerelle init"),
        "{}",
        stderr(&output)
    );
}

/// The entry `identity show` prints, pasted into the partner's config, is a
/// working partner there: its node loads it and shows our identity and key.
#[test]
fn the_printed_entry_works_in_the_partners_config() {
    let rabat = Rabat::new();
    let shown = json(&rabat.ok(&["identity", "show", "--format", "json"]));
    let paris = rabat.dir.path().join("paris");
    append(
        &paris.join("passerelle.toml"),
        &format!("\n{}", shown["partner_config"].as_str().unwrap()),
    );
    let paris = paris.to_str().unwrap();
    let text = ok(&["agreement", "show", "dgsn-rabat", "--data", paris]);
    assert!(text.starts_with("partner dgsn-rabat\n"), "{text}");
    for expected in [
        format!("identity        {}", shown["identity"].as_str().unwrap()),
        format!("public key      {}", shown["public_key"].as_str().unwrap()),
        "TAXII           http://127.0.0.1:8080/api/".to_owned(),
        "credentials     token from $PASSERELLE_TOKEN_DGSN_RABAT".to_owned(),
        "communities     wc2030".to_owned(),
        "max TLP       TLP:CLEAR".to_owned(),
    ] {
        assert!(text.contains(&expected), "{expected:?} in:\n{text}");
    }

    // For a partner of ours: the collections it may pull, and its account's token.
    let entry = json(&rabat.ok(&["identity", "show", "--partner", "paris", "--format", "json"]))
        ["partner_config"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        entry.contains(&format!(
            "{{ remote = \"{SHARED}\", into = \"<your collection>\" }},  # shared"
        )),
        "{entry}"
    );
    assert!(
        entry.contains(&format!("remote = \"{FROM_MADRID}\"")),
        "{entry}"
    );
    assert!(!entry.contains(FROM_PARIS), "{entry}");
    assert!(entry.contains("token of account \"paris\""), "{entry}");
    let unknown = rabat.run(&["identity", "show", "--partner", "lyon"]);
    assert_eq!(unknown.status.code(), Some(2));
    assert!(
        stderr(&unknown)
            .contains("no partner \"lyon\" in the configuration; the partners are: paris, madrid"),
        "{}",
        stderr(&unknown)
    );
}

/// `init` with a configuration that already has partners publishes what they need to
/// read its signatures into the collections its agreements share.
#[test]
fn init_publishes_the_signature_definition_where_partners_receive() {
    let dir = tempfile::tempdir().unwrap();
    let (paris, _) = init(dir.path(), "paris", "DGSI Paris");
    let data = dir.path().join("rabat");
    std::fs::create_dir_all(&data).unwrap();
    let config = data.join("rabat.toml");
    std::fs::write(
        &config,
        format!(
            "[node]\ndata = \".\"\nname = \"DGSN Rabat\"\n\n[[partners]]\nname = \"paris\"\n{}\n\
             [partners.outbound]\ncollections = [\"default\"]\n",
            identity_lines(&paris)
        ),
    )
    .unwrap();
    let config = config.to_str().unwrap();
    ok(&["init", "--config", config]);
    let ours = NodeIdentity::load(&data).unwrap().identity;
    let bundle = json(&ok(&[
        "export",
        "--collection",
        "default",
        "--config",
        config,
    ]));
    let held: Vec<&str> = bundle["objects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        held,
        [
            federation::signature::SIGNATURE_EXTENSION_ID,
            federation::signature::PROJECT_IDENTITY_ID,
            ours.as_str()
        ]
    );
}

// ---- agreement ----

#[test]
fn preview_lists_every_object_with_its_rule() {
    let rabat = Rabat::new();
    // Our identity (published with the signature extension-definition) is made at
    // random by init: the snapshot names it by a placeholder of the same length.
    let ours = NodeIdentity::load(rabat.path()).unwrap().identity;
    let placeholder = "identity--rabat000-0000-4000-8000-000000000000";
    assert_eq!(ours.len(), placeholder.len());
    for partner in ["paris", "madrid"] {
        let text = rabat.ok(&["agreement", "preview", partner]);
        assert!(text.contains(&ours), "{text}");
        insta::assert_snapshot!(
            format!("preview_{partner}"),
            text.replace(&ours, placeholder)
        );
    }
}

#[test]
fn preview_in_json_names_each_object_rule_and_detail() {
    let rabat = Rabat::new();
    let records = lines(&rabat.ok(&["agreement", "preview", "paris", "--format", "json"]));
    let (summary, objects) = records.split_last().unwrap();
    // Every latest version of every collection, once: the samples, and the three
    // published objects in each of the three collections.
    assert_eq!(objects.len(), 12 + 6 + 6 + 3 * 3);
    let rule_of = |id: &str| {
        let record = objects
            .iter()
            .find(|r| r["object_id"] == id)
            .unwrap_or_else(|| panic!("{id} not in the preview"));
        (
            record["decision"].as_str().unwrap().to_owned(),
            record["rule"].as_str().unwrap().to_owned(),
            record["redacted"].as_bool().unwrap(),
            record["detail"].as_str().unwrap_or("").to_owned(),
        )
    };
    let (decision, rule, _, detail) = rule_of("indicator--38bec5f5-2095-4b52-9088-980a7d1145bd");
    assert_eq!((decision.as_str(), rule.as_str()), ("withhold", "tlp-red"));
    assert!(detail.contains("TLP:RED"), "{detail}");
    let (decision, rule, redacted, _) = rule_of("report--47bd440c-7b13-47ee-8cc2-9231e36eafc6");
    assert_eq!(
        (decision.as_str(), rule.as_str(), redacted),
        ("disclose", "own-data", true)
    );
    let (_, rule, _, detail) = rule_of("relationship--c2b3b513-314c-4e02-9ba1-86a65835af52");
    assert_eq!(rule, "relationship-end-withheld");
    assert!(
        detail.contains("indicator--38bec5f5-2095-4b52-9088-980a7d1145bd"),
        "{detail}"
    );
    assert_eq!(
        rule_of("indicator--95ce68f7-e3b9-403c-b0a5-9a5861b66d33").1,
        "label-excluded"
    );
    assert_eq!(
        rule_of("campaign--a75826eb-b55e-40c3-9b9f-aff6821e2195").1,
        "third-party-green-community"
    );
    let (_, rule, _, detail) = rule_of("indicator--6f50124d-11c2-4777-ac37-d121004b3f22");
    assert_eq!(rule, "collection-not-shared");
    assert!(detail.contains(FROM_PARIS), "{detail}");
    let shared = objects
        .iter()
        .find(|r| r["collection_alias"] == "shared")
        .unwrap();
    assert_eq!(shared["collection"], SHARED);
    assert_eq!(shared["version"], "2026-11-20T08:00:00.000Z");

    let summary = &summary["summary"];
    assert_eq!(summary["partner"], "paris");
    assert_eq!(summary["objects"], 33);
    let counted: u64 = summary["rules"]
        .as_object()
        .unwrap()
        .values()
        .map(|n| n.as_u64().unwrap())
        .sum();
    assert_eq!(counted, 33);
    assert_eq!(
        summary["disclosed"].as_u64().unwrap() + summary["withheld"].as_u64().unwrap(),
        33
    );
    assert_eq!(summary["rules"]["tlp-red"], 1);
    // from-paris is not shared with Paris: its samples and its published objects.
    assert_eq!(summary["rules"]["collection-not-shared"], 6 + 3);
    assert_eq!(summary["rules"]["extension-definition"], 2);
    assert_eq!(summary["rules"]["published-identity"], 4);

    // --only and --collection narrow the list, not the decisions.
    let withheld = lines(&rabat.ok(&[
        "agreement",
        "preview",
        "paris",
        "--only",
        "withheld",
        "--collection",
        "shared",
        "--format",
        "json",
    ]));
    let (summary, objects) = withheld.split_last().unwrap();
    assert!(
        objects.iter().all(|r| r["decision"] == "withhold"),
        "{objects:?}"
    );
    assert_eq!(
        objects.len() as u64,
        summary["summary"]["withheld"].as_u64().unwrap()
    );
    assert_eq!(summary["summary"]["objects"], 12 + 3);
}

#[test]
fn preview_writes_nothing_to_the_ledger() {
    let rabat = Rabat::new();
    let before = rabat.ok(&["audit", "verify"]);
    rabat.ok(&["agreement", "preview", "madrid"]);
    assert_eq!(rabat.ok(&["audit", "verify"]), before);
}

#[test]
fn preview_of_an_unknown_partner_fails_with_code_2() {
    let rabat = Rabat::new();
    let output = rabat.run(&["agreement", "preview", "lyon"]);
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(stdout(&output), "");
    assert_eq!(
        stderr(&output),
        "passerelle: error: no partner \"lyon\" in the configuration; the partners are: paris, madrid\n"
    );
    let output = rabat.run(&["agreement", "show", "lyon"]);
    assert_eq!(output.status.code(), Some(2));
}

#[test]
fn agreement_show_resolves_collections_accounts_and_third_party_levels() {
    let rabat = Rabat::new();
    let text = rabat.ok(&["agreement", "show"]);
    for expected in [
        "partner paris\n".to_owned(),
        format!("    collections   shared ({SHARED}), from-madrid ({FROM_MADRID})"),
        "    max TLP       TLP:GREEN".to_owned(),
        "    labels        required: none; excluded: internal".to_owned(),
        "    madrid's data up to TLP:GREEN (community wc2030); never back to madrid".to_owned(),
        "  account         paris (does not exist here".to_owned(),
        "partner madrid\n".to_owned(),
        format!("    collections   shared ({SHARED}), from-paris ({FROM_PARIS}), {FROM_MADRID}"),
        "    consent       from paris up to amber (letter 2026-11-02)".to_owned(),
        "    paris's data up to TLP:AMBER (community wc2030, consent up to TLP:AMBER); never back to paris"
            .to_owned(),
        "    unsigned objects          refused".to_owned(),
    ] {
        assert!(text.contains(&expected), "{expected:?} in:\n{text}");
    }
    rabat.ok(&["account", "add", "paris"]);
    let text = rabat.ok(&["agreement", "show", "paris"]);
    assert!(
        text.contains("  account         paris (reads from us"),
        "{text}"
    );
    assert!(!text.contains("partner madrid"), "{text}");

    let shown = json(&rabat.ok(&["agreement", "show", "madrid", "--format", "json"]));
    let madrid = &shown[0];
    assert_eq!(madrid["partner"]["name"], "madrid");
    assert_eq!(madrid["resolved"]["max_tlp"], "TLP:AMBER");
    assert_eq!(
        madrid["resolved"]["outbound_collections"][1],
        serde_json::json!({"name": "from-paris", "id": FROM_PARIS})
    );
    assert_eq!(madrid["resolved"]["third_party"][0]["originator"], "paris");
    assert_eq!(madrid["resolved"]["third_party"][0]["max_tlp"], "TLP:AMBER");
}

#[test]
fn an_agreement_naming_a_missing_collection_is_refused_with_its_field() {
    let rabat = Rabat::new();
    ok(&[
        "collection",
        "remove",
        "from-madrid",
        "--yes",
        "--data",
        &rabat.data,
    ]);
    for args in [
        &["agreement", "show"][..],
        &["agreement", "preview", "paris"],
    ] {
        let output = rabat.run(args);
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        let message = stderr(&output);
        assert!(
            message.contains("\"paris\"")
                && message.contains("outbound.collections[1]")
                && message.contains("from-madrid"),
            "{message}"
        );
    }
}

// ---- audit ----

#[test]
fn audit_verify_passes_on_a_fresh_node_and_after_disclosures() {
    let dir = tempfile::tempdir().unwrap();
    let (data, _) = init(dir.path(), "fresh", "Fresh");
    assert_eq!(
        ok(&["audit", "verify", "--data", &data]),
        "ledger OK: 0 entries\n"
    );
    let fresh = json(&ok(&[
        "audit", "verify", "--data", &data, "--format", "json",
    ]));
    assert_eq!(fresh["valid"], true);
    assert_eq!(fresh["entries"], 0);

    let rabat = Rabat::new();
    // 12 received entries from storing the partners' data.
    let received = rabat.ok(&["audit", "verify"]);
    assert!(
        received.starts_with(
            "ledger OK: 12 entries; head entry 12 at 2026-11-20T08:00:00.000000Z, hash "
        ),
        "{received}"
    );
    let to_paris = rabat.disclose("paris", &[SHARED, FROM_MADRID], TO_PARIS_AT);
    let to_madrid = rabat.disclose("madrid", &[SHARED, FROM_PARIS, FROM_MADRID], TO_MADRID_AT);
    let total = 12 + to_paris.len() + to_madrid.len();
    let head = rabat.with_federation(TO_MADRID_AT, |f| async move {
        f.store().ledger_head().await.unwrap().unwrap()
    });
    assert_eq!(head.seq as usize, total);
    let text = rabat.ok(&["audit", "verify"]);
    assert_eq!(
        text,
        format!(
            "ledger OK: {total} entries; head entry {total} at 2026-11-22T08:00:00.000000Z, hash {}\n",
            head.hash
        )
    );
    let verified = json(&rabat.ok(&["audit", "verify", "--format", "json"]));
    assert_eq!(verified["valid"], true);
    assert_eq!(verified["entries"], total);
    assert_eq!(verified["head_seq"], total);
    assert_eq!(verified["head_hash"], head.hash.as_str());
    // An anchor from earlier is found.
    let anchored = rabat.ok(&["audit", "verify", "--anchor", &head.hash]);
    assert!(anchored.ends_with("; anchor found\n"), "{anchored}");
}

/// A copy of a node with received and disclosed entries, `sql` run on its database,
/// and what `audit verify` said of it.
fn tampered(name: &str, sql: &str) -> (Rabat, std::process::Output) {
    let rabat = base_ledger();
    let copy = rabat.copy(name);
    copy.execute(sql);
    let output = copy.run(&["audit", "verify"]);
    (copy, output)
}

fn base_ledger() -> Rabat {
    let rabat = Rabat::new();
    rabat.disclose("paris", &[SHARED, FROM_MADRID], TO_PARIS_AT);
    rabat
}

#[test]
fn audit_verify_names_an_edited_entry() {
    let (_node, output) = tampered(
        "edited",
        "UPDATE ledger SET rule = 'third-party-clear' WHERE seq = 14",
    );
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert_eq!(
        stdout(&output),
        "ledger BROKEN at entry 14: its hash does not match its fields (the entry was edited)\n"
    );
}

#[test]
fn audit_verify_names_the_entry_after_a_deleted_one() {
    let (node, output) = tampered("deleted", "DELETE FROM ledger WHERE seq = 5");
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(
        stdout(&output),
        "ledger BROKEN at entry 6: expected entry 5 first (entries were deleted)\n"
    );
    let json = json(&stdout(&node.run(&["audit", "verify", "--format", "json"])));
    assert_eq!(json["valid"], false);
    assert_eq!(json["seq"], 6);
    assert!(
        json["reason"].as_str().unwrap().contains("deleted"),
        "{json}"
    );
}

#[test]
fn audit_verify_names_swapped_entries() {
    let (_node, output) = tampered(
        "swapped",
        "UPDATE ledger SET seq = 0 WHERE seq = 3;
         UPDATE ledger SET seq = 3 WHERE seq = 9;
         UPDATE ledger SET seq = 9 WHERE seq = 0;",
    );
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stdout(&output).starts_with(
            "ledger BROKEN at entry 3: its prev_hash is not the previous entry's hash"
        ),
        "{}",
        stdout(&output)
    );
}

#[test]
fn audit_verify_names_an_edit_whose_hash_was_recomputed() {
    // The edited entry's own hash is made to match: the next entry's link breaks.
    let rabat = base_ledger();
    let copy = rabat.copy("forged");
    let mut entry = copy.with_federation(TO_PARIS_AT, |f| async move {
        let query = LedgerQuery {
            after_seq: Some(6),
            limit: Some(1),
            ..LedgerQuery::default()
        };
        f.store().ledger(&query).await.unwrap().remove(0)
    });
    assert_eq!(entry.seq, 7);
    entry.object_id = "indicator--00000000-0000-4000-8000-000000000000".into();
    entry.hash = store::ledger::entry_hash(&entry);
    copy.execute(&format!(
        "UPDATE ledger SET object_id = '{}', hash = '{}' WHERE seq = 7",
        entry.object_id, entry.hash
    ));
    let output = copy.run(&["audit", "verify"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stdout(&output).starts_with("ledger BROKEN at entry 8: its prev_hash"),
        "{}",
        stdout(&output)
    );
}

#[test]
fn audit_verify_names_an_unreadable_entry() {
    // A collection that is not a UUID can only be written where the column is text:
    // PostgreSQL's is of type uuid, so this edit cannot exist there (an unreadable
    // direction, below, is the case both backends share).
    if store::test_backend::test_backend() == store::test_backend::TestBackend::Postgres {
        return;
    }
    let (_node, output) = tampered(
        "unreadable",
        "UPDATE ledger SET collection = 'garbage' WHERE seq = 10",
    );
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let text = stdout(&output);
    assert!(
        text.starts_with("ledger BROKEN at entry 10: it cannot be read"),
        "{text}"
    );
    assert!(
        text.contains("ledger entry 10 has an unreadable collection"),
        "{text}"
    );
}

/// Gives entry `seq` of `node` a direction Passerelle never writes, past the check
/// constraint that keeps it out (what someone with the database's rights can do).
fn unreadable_direction(node: &Rabat, seq: u64) {
    let update = format!("UPDATE ledger SET direction = 'forwarded' WHERE seq = {seq};");
    common::execute_sql(
        node.path(),
        &format!("PRAGMA ignore_check_constraints = ON; {update}"),
        &format!("ALTER TABLE ledger DROP CONSTRAINT ledger_direction_check; {update}"),
    );
}

#[test]
fn audit_verify_names_an_entry_with_an_unreadable_direction() {
    let copy = base_ledger().copy("unreadable-direction");
    unreadable_direction(&copy, 10);
    let output = copy.run(&["audit", "verify"]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let text = stdout(&output);
    assert!(
        text.starts_with("ledger BROKEN at entry 10: it cannot be read"),
        "{text}"
    );
    assert!(
        text.contains(r#"ledger entry 10 has an unreadable direction "forwarded""#),
        "{text}"
    );
}

#[test]
fn audit_verify_with_an_anchor_shows_entries_cut_off_the_end() {
    let rabat = base_ledger();
    let head = json(&rabat.ok(&["audit", "verify", "--format", "json"]));
    let head_hash = head["head_hash"].as_str().unwrap().to_owned();
    let entries = head["entries"].as_u64().unwrap();
    let copy = rabat.copy("truncated");
    copy.execute(&format!("DELETE FROM ledger WHERE seq > {}", entries - 2));
    // The shorter chain holds by itself…
    assert!(copy.ok(&["audit", "verify"]).starts_with("ledger OK: "));
    // …but not against the head printed before.
    let output = copy.run(&["audit", "verify", "--anchor", &head_hash]);
    assert_eq!(output.status.code(), Some(1));
    let text = stdout(&output);
    assert!(
        text.starts_with("ledger BROKEN: the chain holds") && text.contains("cut off the end"),
        "{text}"
    );
}

#[test]
fn audit_log_lists_what_we_gave_and_received_by_partner_and_time() {
    let rabat = Rabat::new();
    let to_paris = rabat.disclose("paris", &[SHARED, FROM_MADRID], TO_PARIS_AT);
    let to_madrid = rabat.disclose("madrid", &[SHARED, FROM_PARIS, FROM_MADRID], TO_MADRID_AT);
    assert!(!to_paris.is_empty() && !to_madrid.is_empty());
    rabat.with_federation(DELETED_AT, |f| async move {
        let deleted = f
            .store()
            .delete_object(
                Uuid::parse_str(SHARED).unwrap(),
                "indicator--81971521-7dde-4084-8f40-dd8567a0962d",
                &DeleteFilter::default(),
            )
            .await
            .unwrap();
        assert_eq!(deleted, 1);
    });

    // What we gave paris: one entry per version disclosed, with the hash of the
    // exact bytes sent and the rule.
    let log = lines(&rabat.ok(&["audit", "log", "--partner", "paris", "--format", "json"]));
    assert_eq!(log.len(), to_paris.len());
    for (entry, outcome) in log.iter().zip(&to_paris) {
        assert_eq!(entry["direction"], "disclosed");
        assert_eq!(entry["partner"], "paris");
        assert_eq!(entry["channel"], "pull");
        assert_eq!(entry["time"], "2026-11-21T08:00:00.000000Z");
        assert_eq!(entry["object_id"], outcome.record.id.as_str());
        assert_eq!(entry["version"], outcome.record.version.as_str());
        assert_eq!(entry["rule"], outcome.decision.rule().as_str());
        assert_eq!(
            entry["bytes_sha256"],
            store::ledger::sha256_hex(outcome.bytes().unwrap()).as_str()
        );
    }
    assert_eq!(log[0]["collection"], SHARED);
    assert_eq!(log[0]["collection_alias"], "shared");
    let rules: Vec<&str> = log.iter().map(|e| e["rule"].as_str().unwrap()).collect();
    assert!(
        rules.contains(&"own-data") && rules.contains(&"third-party-green-community"),
        "{rules:?}"
    );

    // The text form has the columns, one line per entry.
    let text = rabat.ok(&["audit", "log", "--partner", "paris"]);
    let mut text_lines = text.lines();
    let header: Vec<&str> = text_lines.next().unwrap().split_whitespace().collect();
    assert_eq!(
        header,
        [
            "TIME",
            "DIRECTION",
            "PARTNER",
            "CHANNEL",
            "COLLECTION",
            "OBJECT",
            "VERSION",
            "RULE",
            "SHA-256"
        ]
    );
    let first: Vec<&str> = text_lines.next().unwrap().split_whitespace().collect();
    assert_eq!(
        first,
        [
            "2026-11-21T08:00:00.000000Z",
            "disclosed",
            "paris",
            "pull",
            "shared",
            log[0]["object_id"].as_str().unwrap(),
            log[0]["version"].as_str().unwrap(),
            log[0]["rule"].as_str().unwrap(),
            log[0]["bytes_sha256"].as_str().unwrap(),
        ]
    );
    assert_eq!(text.lines().count(), 1 + to_paris.len());

    // Since: an RFC 3339 time with an offset, or a date.
    let since = |partner: &str, at: &str| {
        lines(&rabat.ok(&[
            "audit",
            "log",
            "--partner",
            partner,
            "--since",
            at,
            "--format",
            "json",
        ]))
        .len()
    };
    assert_eq!(since("paris", "2026-11-21T09:00:00+01:00"), to_paris.len());
    assert_eq!(since("paris", "2026-11-21T08:00:00.000001Z"), 0);
    assert_eq!(since("madrid", "2026-11-22"), to_madrid.len());
    assert_eq!(since("madrid", "2026-11-23"), 0);
    let bad = rabat.run(&["audit", "log", "--since", "last week"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(stderr(&bad).contains("RFC 3339"), "{}", stderr(&bad));

    // What paris gave us.
    let received = lines(&rabat.ok(&[
        "audit",
        "log",
        "--partner",
        "paris",
        "--received",
        "--format",
        "json",
    ]));
    assert_eq!(received.len(), 6);
    for entry in &received {
        assert_eq!(entry["direction"], "received");
        assert_eq!(entry["partner"], "paris");
        assert_eq!(entry["rule"], "received");
        assert_eq!(entry["collection"], FROM_PARIS);
        assert_eq!(entry["time"], "2026-11-20T08:00:00.000000Z");
    }
    assert_eq!(
        received[0]["object_id"],
        "malware--199609df-0d3c-4cca-a18b-2980d0d32000"
    );

    // Everything, to anyone: disclosed, received and the local delete.
    let all = lines(&rabat.ok(&["audit", "log", "--all", "--format", "json"]));
    assert_eq!(all.len(), 12 + to_paris.len() + to_madrid.len() + 1);
    let last = all.last().unwrap();
    assert_eq!(last["direction"], "deleted");
    assert_eq!(last["partner"], serde_json::Value::Null);
    assert_eq!(last["rule"], "local-delete");
    let seqs: Vec<u64> = all.iter().map(|e| e["seq"].as_u64().unwrap()).collect();
    assert_eq!(seqs, (1..=all.len() as u64).collect::<Vec<_>>());
    // Without a partner: every disclosure.
    let disclosed = lines(&rabat.ok(&["audit", "log", "--format", "json"]));
    assert_eq!(disclosed.len(), to_paris.len() + to_madrid.len());

    // A name that is no partner: nothing, and a word on stderr.
    let output = rabat.run(&["audit", "log", "--partner", "lyon", "--format", "json"]);
    assert!(output.status.success());
    assert_eq!(stdout(&output), "");
    assert!(
        stderr(&output).contains("\"lyon\" is not a partner"),
        "{}",
        stderr(&output)
    );
}

// ---- large stores: the commands page ----

#[test]
fn preview_pages_through_a_large_collection() {
    let rabat = Rabat::new();
    let objects: Vec<String> = (0..1201)
        .map(|n| {
            format!(
                r#"{{"type":"indicator","spec_version":"2.1","id":"indicator--00000000-0000-4000-8000-{n:012}","created":"2026-11-20T08:00:00.000Z","modified":"2026-11-20T08:00:00.000Z","object_marking_refs":["marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487"],"pattern":"[ipv4-addr:value = '198.51.100.{}']","pattern_type":"stix","valid_from":"2026-11-20T08:00:00Z"}}"#,
                n % 256
            )
        })
        .collect();
    let bundle = rabat.path().join("many.json");
    std::fs::write(&bundle, format!("[{}]", objects.join(","))).unwrap();
    rabat.ok(&["import", bundle.to_str().unwrap(), "--collection", "shared"]);
    let records = lines(&rabat.ok(&[
        "agreement",
        "preview",
        "paris",
        "--collection",
        "shared",
        "--format",
        "json",
    ]));
    let (summary, objects) = records.split_last().unwrap();
    assert_eq!(objects.len(), 12 + 3 + 1201);
    let ids: std::collections::BTreeSet<&str> = objects
        .iter()
        .map(|r| r["object_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), objects.len(), "each object once");
    assert_eq!(summary["summary"]["rules"]["own-data"], 5 + 1201);
}

#[test]
fn audit_pages_through_a_large_ledger() {
    let rabat = Rabat::new();
    // 12 received entries, then 12,000 disclosures in batches, as a busy node writes them.
    rabat.with_federation(TO_PARIS_AT, |f| async move {
        for batch in 0..4 {
            let entries = (0..3000)
                .map(|n| store::NewLedgerEntry {
                    direction: store::Direction::Disclosed,
                    partner: Some(if n % 2 == 0 { "paris" } else { "madrid" }.into()),
                    channel: Some(Channel::Push),
                    collection: Uuid::parse_str(SHARED).unwrap(),
                    object_id: format!(
                        "indicator--00000000-0000-4000-8000-{:012}",
                        batch * 3000 + n
                    ),
                    version: "2026-11-20T08:00:00.000Z".into(),
                    bytes_sha256: store::ledger::sha256_hex(format!("{batch}-{n}").as_bytes()),
                    rule: "own-data".into(),
                })
                .collect();
            f.store().append_ledger(entries, None).await.unwrap();
        }
    });
    let total = 12 + 12_000;
    let verified = json(&rabat.ok(&["audit", "verify", "--format", "json"]));
    assert_eq!(verified["valid"], true);
    assert_eq!(verified["entries"], total);
    assert_eq!(verified["head_seq"], total);
    let to_paris = lines(&rabat.ok(&["audit", "log", "--partner", "paris", "--format", "json"]));
    assert_eq!(to_paris.len(), 6000);
    assert!(
        to_paris
            .windows(2)
            .all(|w| w[0]["seq"].as_u64() < w[1]["seq"].as_u64())
    );

    // A break beyond the first page is found and named.
    let copy = rabat.copy("late-edit");
    copy.execute("UPDATE ledger SET rule = 'third-party-clear' WHERE seq = 9001");
    let output = copy.run(&["audit", "verify"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stdout(&output).starts_with("ledger BROKEN at entry 9001: "),
        "{}",
        stdout(&output)
    );
    let copy = rabat.copy("late-unreadable");
    unreadable_direction(&copy, 7777);
    let output = copy.run(&["audit", "verify"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stdout(&output).starts_with("ledger BROKEN at entry 7777: it cannot be read"),
        "{}",
        stdout(&output)
    );
}
