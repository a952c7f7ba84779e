//! Sync between real nodes: `passerelle serve` processes on 127.0.0.1, each
//! with its own data folder, identity (from `passerelle init`) and config, and
//! `passerelle sync` run against them; fake TAXII servers (in this process) play
//! partners that sign badly, answer garbage, hang, or refuse pushed objects.
//!
//! Scenarios: pull with verified provenance (and a revoked version travelling);
//! signature and validity checks on pulled objects (reject, quarantine); push with
//! the ledger written before sending, withheld objects counted by rule, envelopes
//! within the partner's limit, pending statuses followed and refused objects
//! retried; partners down, hanging or answering garbage while another one syncs;
//! and a node killed with SIGKILL in the middle of pulling 100,000 objects.

// Test support: a failed setup step should stop the test with its message.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{Server, ok, run, token_in, wait_for};
use federation::NodeIdentity;
use federation::signature;
use serde_json::{Value, json};
use store::{Channel, Direction, LedgerQuery, Provenance, SignatureCheck, Store, Version};

const ANY_PORT: (&str, &str) = ("PASSERELLE__SERVER__LISTEN", "127.0.0.1:0");
const TAXII: &str = "application/taxii+json;version=2.1";
const CLEAR: &str = "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487";
/// A CLEAR indicator of `testdata/federation/rabat.json`.
const RABAT_CLEAR_INDICATOR: &str = "indicator--2a7beae1-5108-4bb8-b00d-114f199bce3b";
/// A CLEAR indicator of `testdata/federation/paris.json`.
const PARIS_CLEAR_INDICATOR: &str = "indicator--6f50124d-11c2-4777-ac37-d121004b3f22";

// ---------------------------------------------------------------------------
// Nodes

/// A node's data folder and identity, made by `passerelle init`.
struct Node {
    dir: PathBuf,
    identity: String,
    public_key: String,
    /// The admin account's token.
    admin: String,
}

impl Node {
    /// `passerelle init`; the identity and public key are read from its `identity` line.
    fn init(root: &Path, name: &str) -> Node {
        let dir = root.join(name.to_lowercase());
        let out = ok(&["init", "--data", dir.to_str().unwrap(), "--name", name]);
        // "  identity       identity--… (public key ed25519:…; partners need both: …)"
        let line = out
            .lines()
            .find(|l| l.trim_start().starts_with("identity "))
            .unwrap_or_else(|| panic!("no identity line in:\n{out}"));
        let identity = line.split_whitespace().nth(1).unwrap().to_owned();
        let public_key = line
            .split("public key ")
            .nth(1)
            .and_then(|rest| rest.split(';').next())
            .unwrap()
            .to_owned();
        assert!(identity.starts_with("identity--"), "{line}");
        assert!(public_key.starts_with("ed25519:"), "{line}");
        Node {
            dir,
            identity,
            public_key,
            admin: token_in(&out),
        }
    }

    fn data(&self) -> &str {
        self.dir.to_str().unwrap()
    }

    /// Runs a command on this node and returns its stdout.
    fn cli(&self, args: &[&str]) -> String {
        let mut full = args.to_vec();
        full.extend(["--data", self.data()]);
        ok(&full)
    }

    /// Runs a command on this node with `env`, whatever its exit code.
    fn run(&self, args: &[&str], env: &[(&str, &str)]) -> Output {
        let mut full = args.to_vec();
        full.extend(["--data", self.data()]);
        run(&full, env, b"")
    }

    /// Creates a collection; returns its id.
    fn collection(&self, title: &str, alias: &str) -> String {
        self.cli(&["collection", "add", title, "--alias", alias])
            .trim()
            .to_owned()
    }

    /// Creates an account with rights (`--read`, `--write`) on a collection; returns a token.
    fn account(&self, name: &str, collection: &str, rights: &[&str]) -> String {
        if !self.cli(&["account", "list"]).contains(name) {
            self.cli(&["account", "add", name]);
        }
        let mut grant = vec!["account", "grant", name, collection];
        grant.extend_from_slice(rights);
        self.cli(&grant);
        self.cli(&["token", "create", name]).trim().to_owned()
    }

    /// Appends TOML to the node's config file.
    fn configure(&self, text: &str) {
        let path = self.dir.join("passerelle.toml");
        let mut file = std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap();
        file.write_all(text.as_bytes()).unwrap();
    }

    fn import(&self, file: &Path, collection: &str) -> String {
        self.cli(&[
            "import",
            file.to_str().unwrap(),
            "--collection",
            collection,
            "--batch-size",
            "10000",
        ])
    }

    fn serve(&self, env: &[(&str, &str)]) -> Server {
        let mut env = env.to_vec();
        env.push(ANY_PORT);
        Server::start(&["--data", self.data()], &env)
    }

    /// `passerelle sync [ARGS]` with `env`; stdout, stderr and whether it succeeded.
    fn sync(&self, args: &[&str], env: &[(&str, &str)]) -> (String, String, i32) {
        let mut full = vec!["sync"];
        full.extend_from_slice(args);
        let output = self.run(&full, env);
        (
            String::from_utf8(output.stdout).unwrap(),
            String::from_utf8(output.stderr).unwrap(),
            output.status.code().unwrap_or(-1),
        )
    }

    /// `passerelle sync --status --format json`, by (partner, direction).
    fn status(&self) -> HashMap<(String, String), Value> {
        self.cli(&["sync", "--status", "--format", "json"])
            .lines()
            .map(|line| {
                let record: Value = serde_json::from_str(line).unwrap();
                (
                    (
                        record["partner"].as_str().unwrap().to_owned(),
                        record["direction"].as_str().unwrap().to_owned(),
                    ),
                    record,
                )
            })
            .collect()
    }

    /// Every version in a collection, by (id, version), from `passerelle export`.
    fn export(&self, collection: &str) -> BTreeMap<(String, String), Value> {
        let bundle: Value = serde_json::from_str(&self.cli(&[
            "export",
            "--collection",
            collection,
            "--all-versions",
        ]))
        .unwrap();
        let mut out = BTreeMap::new();
        for object in bundle["objects"].as_array().cloned().unwrap_or_default() {
            let key = version_key(&object);
            assert!(
                out.insert(key.clone(), object).is_none(),
                "{key:?} exported twice"
            );
        }
        out
    }

    /// The objects and versions a collection holds, from `passerelle collection list`.
    fn count(&self, alias: &str) -> (u64, u64) {
        let list = self.cli(&["collection", "list"]);
        let row = list
            .lines()
            .find(|l| l.split_whitespace().nth(1) == Some(alias))
            .unwrap_or_else(|| panic!("no collection {alias} in:\n{list}"));
        let cells: Vec<&str> = row.split_whitespace().collect();
        (cells[2].parse().unwrap(), cells[3].parse().unwrap())
    }

    fn signing_identity(&self) -> NodeIdentity {
        NodeIdentity::load(&self.dir).unwrap()
    }

    /// The node's store (opened in this process; the node may be running).
    async fn store(&self) -> Arc<dyn Store> {
        common::open_store(&self.dir).await
    }
}

fn version_key(object: &Value) -> (String, String) {
    let version = object["modified"]
        .as_str()
        .or_else(|| object["created"].as_str())
        .unwrap_or("");
    (
        object["id"].as_str().unwrap().to_owned(),
        version.to_owned(),
    )
}

/// A `[[partners]]` table.
struct Partner<'a> {
    name: &'a str,
    identity: &'a str,
    public_key: &'a str,
    url: Option<&'a str>,
    token_env: Option<&'a str>,
    account: Option<&'a str>,
    pull: Vec<(&'a str, &'a str)>,
    push: Vec<(&'a str, &'a str)>,
    /// Extra lines of `[partners.outbound]`.
    outbound: &'a str,
    /// Extra lines of `[partners.inbound]`.
    inbound: &'a str,
}

impl<'a> Partner<'a> {
    fn new(name: &'a str, identity: &'a str, public_key: &'a str) -> Partner<'a> {
        Partner {
            name,
            identity,
            public_key,
            url: None,
            token_env: None,
            account: None,
            pull: Vec::new(),
            push: Vec::new(),
            outbound: "",
            inbound: "",
        }
    }

    fn of(name: &'a str, node: &'a Node) -> Partner<'a> {
        Partner::new(name, &node.identity, &node.public_key)
    }

    fn toml(&self) -> String {
        let mut text = format!(
            "\n[[partners]]\nname = \"{}\"\nidentity = \"{}\"\npublic_key = \"{}\"\n",
            self.name, self.identity, self.public_key
        );
        if let Some(url) = self.url {
            text.push_str(&format!("url = \"{url}\"\n"));
        }
        if let Some(var) = self.token_env {
            text.push_str(&format!("token_env = \"{var}\"\n"));
        }
        if let Some(account) = self.account {
            text.push_str(&format!("account = \"{account}\"\n"));
        }
        let entries = |list: &[(&str, &str)], a: &str, b: &str| {
            list.iter()
                .map(|(x, y)| format!("{{ {a} = \"{x}\", {b} = \"{y}\" }}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        text.push_str(&format!(
            "pull = [{}]\n",
            entries(&self.pull, "remote", "into")
        ));
        text.push_str(&format!(
            "push = [{}]\n",
            entries(&self.push, "local", "remote")
        ));
        text.push_str(&format!("[partners.outbound]\n{}\n", self.outbound));
        text.push_str(&format!("[partners.inbound]\n{}\n", self.inbound));
        text
    }
}

/// The objects of a sample bundle of `testdata/federation/`.
fn sample(name: &str) -> Vec<Value> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../testdata/federation")
        .join(format!("{name}.json"));
    let bundle: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    bundle["objects"].as_array().unwrap().clone()
}

/// Writes `objects` as a bundle, each signed by `signer` when given; returns the file.
fn bundle_file(
    dir: &Path,
    name: &str,
    objects: &[Value],
    signer: Option<&NodeIdentity>,
) -> PathBuf {
    let texts: Vec<String> = objects
        .iter()
        .map(|o| match signer {
            Some(identity) => {
                String::from_utf8(signature::sign(o.to_string().as_bytes(), identity).unwrap())
                    .unwrap()
            }
            None => o.to_string(),
        })
        .collect();
    let path = dir.join(name);
    std::fs::write(
        &path,
        format!(
            "{{\"type\":\"bundle\",\"id\":\"bundle--{}\",\"objects\":[{}]}}",
            uuid::Uuid::new_v4(),
            texts.join(",")
        ),
    )
    .unwrap();
    path
}

/// A new version of `object`: `modified` one day later, revoked.
fn revoked(object: &Value) -> Value {
    let mut next = object.clone();
    let modified = object["modified"].as_str().unwrap();
    let year: u32 = modified[..4].parse().unwrap();
    next["modified"] = json!(format!("{}{}", year + 1, &modified[4..]));
    next["revoked"] = json!(true);
    next
}

/// Every version a node serves to `token` in a collection (one page is enough here).
fn served(server: &Server, collection: &str, token: &str) -> BTreeMap<(String, String), Value> {
    let response = server.get(
        &format!("/api/collections/{collection}/objects/?match[version]=all&limit=10000"),
        Some(&format!("Bearer {token}")),
    );
    assert_eq!(
        response.status,
        200,
        "{}",
        String::from_utf8_lossy(&response.body)
    );
    let envelope = response.json();
    assert_ne!(envelope["more"], true);
    envelope["objects"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .map(|o| (version_key(&o), o))
        .collect()
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// Log text without terminal colour codes.
fn plain(logs: &str) -> String {
    let mut out = String::with_capacity(logs.len());
    let mut chars = logs.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            // ESC [ … final letter
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

// ---------------------------------------------------------------------------
// Fake TAXII servers

/// A request a fake server received.
#[derive(Debug, Clone)]
struct Request {
    method: String,
    path: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Request {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// What a fake server does with a request.
enum Reply {
    /// A TAXII answer: status, body and extra headers.
    Taxii(u16, Vec<u8>, Vec<(&'static str, String)>),
    /// These bytes, whatever they are, then close.
    Raw(Vec<u8>),
    /// Never answer.
    Hang,
}

type Handler = Arc<dyn Fn(&Request) -> Reply + Send + Sync>;

/// A TAXII server played by this process: one thread per connection, one
/// request per connection.
struct Fake {
    url: String,
    requests: Arc<Mutex<Vec<Request>>>,
}

impl Fake {
    fn start(handler: impl Fn(&Request) -> Reply + Send + Sync + 'static) -> Fake {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/", listener.local_addr().unwrap());
        let requests = Arc::new(Mutex::new(Vec::new()));
        let handler: Handler = Arc::new(handler);
        let log = Arc::clone(&requests);
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                let handler = Arc::clone(&handler);
                let log = Arc::clone(&log);
                std::thread::spawn(move || answer(stream, &handler, &log));
            }
        });
        Fake { url, requests }
    }

    fn requests(&self) -> Vec<Request> {
        self.requests.lock().unwrap().clone()
    }
}

fn answer(stream: TcpStream, handler: &Handler, log: &Mutex<Vec<Request>>) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut head = String::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        if line == "\r\n" {
            break;
        }
        head.push_str(&line);
    }
    let mut lines = head.lines();
    let mut first = lines.next().unwrap_or("").split(' ');
    let method = first.next().unwrap_or("").to_owned();
    let path = first.next().unwrap_or("").to_owned();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_owned(), v.trim().to_owned()))
        .collect();
    let length: usize = headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0; length];
    reader.read_exact(&mut body).unwrap();
    let request = Request {
        method,
        path,
        headers,
        body,
    };
    log.lock().unwrap().push(request.clone());
    let mut stream = stream;
    match handler(&request) {
        Reply::Taxii(status, body, headers) => {
            let mut head = format!(
                "HTTP/1.1 {status} X\r\nContent-Type: {TAXII}\r\nContent-Length: {}\r\nConnection: close\r\n",
                body.len()
            );
            for (name, value) in headers {
                head.push_str(&format!("{name}: {value}\r\n"));
            }
            head.push_str("\r\n");
            let _ = stream.write_all(head.as_bytes());
            let _ = stream.write_all(&body);
        }
        Reply::Raw(bytes) => {
            let _ = stream.write_all(&bytes);
        }
        Reply::Hang => std::thread::sleep(Duration::from_secs(600)),
    }
}

/// An envelope of these exact object texts, with the date-added headers.
fn envelope_reply(objects: &[String]) -> Reply {
    let date = "2024-01-01T00:00:00.000001Z".to_owned();
    Reply::Taxii(
        200,
        format!("{{\"objects\":[{}]}}", objects.join(",")).into_bytes(),
        vec![
            ("X-TAXII-Date-Added-First", date.clone()),
            ("X-TAXII-Date-Added-Last", date),
        ],
    )
}

/// A valid indicator (TLP:CLEAR) with a fresh id.
fn indicator(name: &str) -> Value {
    json!({
        "type": "indicator",
        "spec_version": "2.1",
        "id": format!("indicator--{}", uuid::Uuid::new_v4()),
        "created": "2024-05-01T10:00:00.000Z",
        "modified": "2024-05-01T10:00:00.000Z",
        "name": name,
        "pattern": "[ipv4-addr:value = '198.51.100.7']",
        "pattern_type": "stix",
        "valid_from": "2024-05-01T10:00:00Z",
        "object_marking_refs": [CLEAR],
    })
}

fn signed(object: &Value, identity: &NodeIdentity) -> String {
    String::from_utf8(signature::sign(object.to_string().as_bytes(), identity).unwrap()).unwrap()
}

/// What a node publishes where partners receive from it: the signature
/// extension-definition, the project identity that created it, the node's identity.
fn published(node: &Node) -> [String; 3] {
    [
        signature::SIGNATURE_EXTENSION_ID.to_owned(),
        signature::PROJECT_IDENTITY_ID.to_owned(),
        node.identity.clone(),
    ]
}

/// Whether a published object travels unsigned (the two every node publishes alike).
fn travels_unsigned(id: &str) -> bool {
    id == signature::SIGNATURE_EXTENSION_ID || id == signature::PROJECT_IDENTITY_ID
}

// ---------------------------------------------------------------------------
// Scenarios

#[test]
fn pull_stores_partner_objects_with_verified_provenance_and_revocations_travel() {
    let root = tempfile::tempdir().unwrap();
    let rabat = Node::init(root.path(), "Rabat");
    let paris = Node::init(root.path(), "Paris");

    // Rabat: a shared collection, signed sample intelligence, an account for Paris.
    let shared = rabat.collection("Shared", "shared");
    let token = rabat.account("paris", "shared", &["--read"]);
    let rabat_key = rabat.signing_identity();
    let objects = sample("rabat");
    let file = bundle_file(root.path(), "rabat.json", &objects, Some(&rabat_key));
    rabat.import(&file, "shared");
    let mut paris_on_rabat = Partner::of("paris", &paris);
    paris_on_rabat.account = Some("paris");
    paris_on_rabat.outbound = "collections = [\"shared\"]\nmax_tlp = \"amber+strict\"";
    rabat.configure(&paris_on_rabat.toml());
    let rabat_server = rabat.serve(&[]);

    // Paris pulls Rabat's shared collection.
    paris.collection("From Rabat", "from-rabat");
    let url = rabat_server.base_url.clone() + "/";
    let mut rabat_on_paris = Partner::of("rabat", &rabat);
    rabat_on_paris.url = Some(&url);
    rabat_on_paris.token_env = Some("PASSERELLE_TOKEN_RABAT");
    rabat_on_paris.pull = vec![(&shared, "from-rabat")];
    paris.configure(&rabat_on_paris.toml());
    let env = [("PASSERELLE_TOKEN_RABAT", token.as_str())];

    let (out, err, code) = paris.sync(&[], &env);
    assert_eq!(code, 0, "{out}\n{err}");
    let expected = served(&rabat_server, &shared, &token);
    assert!(
        expected.len() >= 5,
        "Rabat serves Paris {} objects",
        expected.len()
    );
    assert!(expected.keys().any(|(id, _)| id == RABAT_CLEAR_INDICATOR));
    // With Rabat's data comes what Paris needs to read its signatures: the signature
    // extension-definition, the project identity that created it, Rabat's identity.
    for id in published(&rabat) {
        assert!(expected.keys().any(|(held, _)| *held == id), "{id}");
    }
    assert!(
        out.contains(&format!(
            "rabat pull {shared} -> from-rabat: {n} received, {n} added, 0 already present, 0 quarantined, 0 rejected",
            n = expected.len()
        )),
        "{out}"
    );
    assert!(out.ends_with("0 failed\n"), "{out}");
    assert!(
        !err.contains(&token) && !out.contains(&token),
        "the token was printed"
    );
    // Paris holds exactly what Rabat serves it.
    assert_eq!(paris.export("from-rabat"), expected);

    // Each version is stored as Rabat's, by pull, with a verified signature, and
    // its receipt is in Paris's ledger, which verifies.
    let rt = runtime();
    rt.block_on(async {
        let store = paris.store().await;
        let collection = store.find_collection("from-rabat").await.unwrap().id;
        for (id, version) in expected.keys() {
            let provenance = store
                .provenance(collection, id, &Version::parse(version).unwrap())
                .await
                .unwrap();
            // The definition and the project identity travel unsigned, as every node
            // publishes them; everything else is signed by Rabat.
            let signature = if travels_unsigned(id) {
                SignatureCheck::Unsigned
            } else {
                SignatureCheck::Verified {
                    signer: rabat.identity.clone(),
                }
            };
            assert_eq!(
                provenance,
                Provenance::Partner {
                    partner: "rabat".into(),
                    channel: Channel::Pull,
                    signature,
                },
                "{id}"
            );
        }
        let received = store
            .ledger(&LedgerQuery {
                partner: Some("rabat".into()),
                direction: Some(Direction::Received),
                ..LedgerQuery::default()
            })
            .await
            .unwrap();
        assert_eq!(received.len(), expected.len());
        let all = store.ledger(&LedgerQuery::default()).await.unwrap();
        store::ledger::verify(&all).unwrap();
    });

    // A revocation is a new version: it travels like any other.
    let original = objects
        .iter()
        .find(|o| o["id"] == RABAT_CLEAR_INDICATOR)
        .unwrap();
    let revocation = revoked(original);
    let file = bundle_file(
        root.path(),
        "revoked.json",
        std::slice::from_ref(&revocation),
        Some(&rabat_key),
    );
    rabat.import(&file, "shared");
    let (out, err, code) = paris.sync(&["rabat"], &env);
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(out.contains(": 1 received, 1 added,"), "{out}");
    let held = paris.export("from-rabat");
    let versions: Vec<&Value> = held
        .iter()
        .filter(|((id, _), _)| id == RABAT_CLEAR_INDICATOR)
        .map(|(_, o)| o)
        .collect();
    assert_eq!(versions.len(), 2, "both versions are held");
    assert_eq!(versions[1]["revoked"], true);
    assert_eq!(versions[1]["modified"], revocation["modified"]);

    // Nothing new: the saved position means nothing is read again.
    let (out, _, code) = paris.sync(&[], &env);
    assert_eq!(code, 0);
    assert!(out.contains(": 0 received, 0 added,"), "{out}");
    let status = paris.status();
    let pull = &status[&("rabat".to_owned(), "pull".to_owned())];
    assert_eq!(pull["objects"], expected.len() as u64 + 1);
    assert_eq!(pull["last_error"], Value::Null);
    assert!(pull["last_success"].is_string());
    let table = paris.cli(&["sync", "--status"]);
    assert!(table.starts_with("PARTNER"), "{table}");
    assert!(
        table.contains(&format!("{shared} -> from-rabat")),
        "{table}"
    );
    let (_, stderr) = rabat_server.terminate();
    assert!(!stderr.contains(&token));
}

#[test]
fn pulled_objects_are_checked_tampered_unsigned_invalid_and_unknown_signers_are_refused() {
    let root = tempfile::tempdir().unwrap();
    let paris = Node::init(root.path(), "Paris");
    paris.collection("From Lyon", "from-lyon");
    paris.collection("Quarantine", "quarantine");

    let lyon = NodeIdentity::generate("Lyon");
    let nice = NodeIdentity::generate("Nice");
    let stranger = NodeIdentity::generate("Stranger");
    let good = indicator("good");
    let tampered_source = indicator("tampered");
    let tampered = signed(&tampered_source, &lyon).replace("\"tampered\"", "\"changed\"");
    let unsigned = indicator("unsigned");
    let mut invalid = indicator("invalid");
    invalid.as_object_mut().unwrap().remove("pattern");
    let strangers = indicator("stranger");
    let lyon_page = vec![
        signed(&good, &lyon),
        tampered.clone(),
        unsigned.to_string(),
        signed(&invalid, &lyon),
        signed(&strangers, &stranger),
    ];
    let nice_good = indicator("nice");
    let nice_tampered = signed(&indicator("nice tampered"), &nice).replace("nice tampered", "x");
    let nice_page = vec![signed(&nice_good, &nice), nice_tampered.clone()];
    const TOKEN: &str = "psl_fake-partner-token";
    let fake = Fake::start(move |request| {
        if request.header("Authorization") != Some(&format!("Bearer {TOKEN}")) {
            return Reply::Taxii(401, b"{\"title\":\"who?\"}".to_vec(), Vec::new());
        }
        if request.path.starts_with("/api/collections/lyon-c/objects/") {
            envelope_reply(&lyon_page)
        } else if request.path.starts_with("/api/collections/nice-c/objects/") {
            envelope_reply(&nice_page)
        } else {
            Reply::Taxii(404, b"{\"title\":\"Not Found\"}".to_vec(), Vec::new())
        }
    });
    let lyon_key = lyon.public_key().to_string();
    let nice_key = nice.public_key().to_string();
    let mut partner = Partner::new("lyon", &lyon.identity, &lyon_key);
    partner.url = Some(&fake.url);
    partner.token_env = Some("TOKEN_FAKE");
    partner.pull = vec![("lyon-c", "from-lyon")];
    paris.configure(&partner.toml());
    let mut partner = Partner::new("nice", &nice.identity, &nice_key);
    partner.url = Some(&fake.url);
    partner.token_env = Some("TOKEN_FAKE");
    partner.pull = vec![("nice-c", "from-lyon")];
    partner.inbound = "on_invalid_signature = \"quarantine\"\nquarantine = \"quarantine\"";
    paris.configure(&partner.toml());

    let (out, err, code) = paris.sync(&[], &[("TOKEN_FAKE", TOKEN)]);
    assert_eq!(code, 0, "rejections are not failures\n{out}\n{err}");
    assert!(
        out.contains("lyon pull lyon-c -> from-lyon: 5 received, 1 added, 0 already present, 0 quarantined, 4 rejected"),
        "{out}"
    );
    assert!(
        out.contains("nice pull nice-c -> from-lyon: 2 received, 1 added, 0 already present, 1 quarantined, 0 rejected"),
        "{out}"
    );
    // Each rejection is logged with the object's id and the reason.
    for (object, reason) in [
        (&tampered_source, "does not verify"),
        (&unsigned, "unsigned object refused"),
        (&invalid, "invalid STIX"),
        (&strangers, "whose key this node does not hold"),
    ] {
        let id = object["id"].as_str().unwrap();
        let line = err
            .lines()
            .find(|l| l.contains(id))
            .unwrap_or_else(|| panic!("{id} is not in the logs:\n{err}"));
        assert!(line.contains("rejected") && line.contains(reason), "{line}");
    }
    assert!(!err.contains(TOKEN) && !out.contains(TOKEN));
    assert!(
        fake.requests()
            .iter()
            .all(|r| r.path.contains("match%5Bversion%5D=all")
                || r.path.contains("match[version]=all")),
        "every version is asked for: {:?}",
        fake.requests().iter().map(|r| &r.path).collect::<Vec<_>>()
    );

    // Only the good objects are kept; the tampered one of the partner that asked
    // for it is in quarantine, with the failed check as its provenance.
    let held: HashSet<String> = paris
        .export("from-lyon")
        .into_keys()
        .map(|(id, _)| id)
        .collect();
    let expected: HashSet<String> = [&good, &nice_good]
        .iter()
        .map(|o| o["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(held, expected);
    let quarantined = paris.export("quarantine");
    assert_eq!(quarantined.len(), 1);
    let ((id, version), _) = quarantined.into_iter().next().unwrap();
    runtime().block_on(async {
        let store = paris.store().await;
        let collection = store.find_collection("quarantine").await.unwrap().id;
        let provenance = store
            .provenance(collection, &id, &Version::parse(&version).unwrap())
            .await
            .unwrap();
        assert_eq!(
            provenance,
            Provenance::Partner {
                partner: "nice".into(),
                channel: Channel::Pull,
                signature: SignatureCheck::Invalid {
                    signer: nice.identity.clone()
                },
            }
        );
    });

    // Without the token, the error names the partner and the variable, and it shows.
    let (out, _, code) = paris.sync(&["lyon"], &[]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains(
            "failed: partner lyon: the environment variable TOKEN_FAKE (token_env) is not set"
        ),
        "{out}"
    );
    let status = paris.status();
    let lyon_status = &status[&("lyon".to_owned(), "pull".to_owned())];
    assert!(
        lyon_status["last_error"]
            .as_str()
            .unwrap()
            .contains("TOKEN_FAKE"),
        "{lyon_status}"
    );
    assert_eq!(lyon_status["objects"], 1);
}

#[test]
fn push_discloses_through_egress_writes_the_ledger_and_sends_revocations() {
    let root = tempfile::tempdir().unwrap();
    let rabat = Node::init(root.path(), "Rabat");
    let paris = Node::init(root.path(), "Paris");

    // Rabat takes pushes from Paris into its inbox.
    let inbox = rabat.collection("Inbox", "inbox");
    let token = rabat.account("paris", "inbox", &["--read", "--write"]);
    let mut paris_on_rabat = Partner::of("paris", &paris);
    paris_on_rabat.account = Some("paris");
    rabat.configure(&paris_on_rabat.toml());
    let rabat_server = rabat.serve(&[]);

    // Paris pushes its outbox, up to GREEN.
    paris.collection("Outbox", "outbox");
    let objects = sample("paris");
    paris.import(
        &bundle_file(root.path(), "paris.json", &objects, None),
        "outbox",
    );
    let url = rabat_server.base_url.clone() + "/";
    let mut rabat_on_paris = Partner::of("rabat", &rabat);
    rabat_on_paris.url = Some(&url);
    rabat_on_paris.token_env = Some("PASSERELLE_TOKEN_RABAT");
    rabat_on_paris.push = vec![("outbox", &inbox)];
    rabat_on_paris.outbound = "collections = [\"outbox\"]\nmax_tlp = \"green\"";
    paris.configure(&rabat_on_paris.toml());
    let env = [("PASSERELLE_TOKEN_RABAT", token.as_str())];

    let (out, err, code) = paris.sync(&[], &env);
    assert_eq!(code, 0, "{out}\n{err}");
    // CLEAR, GREEN and TLP 1.0 WHITE go; the malware, indicator and relationship at
    // AMBER do not; what Paris publishes for its signatures goes too.
    assert!(
        out.contains(&format!(
            "rabat push outbox -> {inbox}: 6 sent, 3 withheld (tlp-above-agreement 3), 0 refused by the partner"
        )),
        "{out}"
    );

    // What arrived is signed by Paris (but for the definition and the project identity,
    // the same on every node), byte for byte what the ledger recorded.
    let arrived = rabat.export("inbox");
    assert_eq!(arrived.len(), 6);
    for id in published(&paris) {
        assert!(arrived.keys().any(|(held, _)| *held == id), "{id}");
    }
    let key = federation::PublicKey::parse(&paris.public_key).unwrap();
    let paris_id = paris.identity.clone();
    let lookup = move |identity: &str| (identity == paris_id).then_some(key);
    for ((id, _), object) in &arrived {
        let check = signature::verify(object.to_string().as_bytes(), &lookup);
        let want = if travels_unsigned(id) {
            SignatureCheck::Unsigned
        } else {
            SignatureCheck::Verified {
                signer: paris.identity.clone(),
            }
        };
        assert_eq!(check, want, "{object}");
    }
    let arrived_ids: HashSet<(String, String)> = arrived.keys().cloned().collect();
    runtime().block_on(async {
        let store = paris.store().await;
        let disclosed = store
            .ledger(&LedgerQuery {
                partner: Some("rabat".into()),
                direction: Some(Direction::Disclosed),
                ..LedgerQuery::default()
            })
            .await
            .unwrap();
        let recorded: HashSet<(String, String)> = disclosed
            .iter()
            .map(|e| (e.object_id.clone(), e.version.clone()))
            .collect();
        assert_eq!(disclosed.len(), 6, "one entry per version sent");
        assert_eq!(recorded, arrived_ids);
        assert!(disclosed.iter().all(|e| e.channel == Some(Channel::Push)));
        for entry in &disclosed {
            let rule = match entry.object_id.as_str() {
                signature::SIGNATURE_EXTENSION_ID => "extension-definition",
                id if published(&paris).iter().any(|p| p == id) => "published-identity",
                _ => "own-data",
            };
            assert_eq!(entry.rule, rule, "{}", entry.object_id);
        }
        store::ledger::verify(&store.ledger(&LedgerQuery::default()).await.unwrap()).unwrap();
    });
    // The exact bytes Rabat stored (read by its admin) hash to what Paris's ledger recorded.
    let response = rabat_server.get(
        &format!("/api/collections/{inbox}/objects/?match[version]=all"),
        Some(&format!("Bearer {}", rabat.admin)),
    );
    assert_eq!(response.status, 200);
    let mut reader = stix::bundle::ObjectReader::new(&response.body[..]);
    let mut served_hashes = HashSet::new();
    while let Some(raw) = reader.next_object().unwrap() {
        served_hashes.insert(store::ledger::sha256_hex(raw.bytes));
    }
    assert_eq!(served_hashes.len(), 6);
    let recorded_hashes: HashSet<String> = runtime().block_on(async {
        paris
            .store()
            .await
            .ledger(&LedgerQuery {
                direction: Some(Direction::Disclosed),
                ..LedgerQuery::default()
            })
            .await
            .unwrap()
            .into_iter()
            .map(|e| e.bytes_sha256)
            .collect()
    });
    assert_eq!(served_hashes, recorded_hashes);

    // Nothing new: nothing is sent or recorded again.
    let (out, _, code) = paris.sync(&["--format", "json"], &env);
    assert_eq!(code, 0, "{out}");
    let record: Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(record["partner"], "rabat");
    assert_eq!(record["direction"], "push");
    assert_eq!(record["sent"], 0);
    assert_eq!(record["withheld"], json!({}));
    assert_eq!(record["error"], Value::Null);

    // A revocation of a shared indicator travels as a new version.
    let original = objects
        .iter()
        .find(|o| o["id"] == PARIS_CLEAR_INDICATOR)
        .unwrap();
    let revocation = revoked(original);
    paris.import(
        &bundle_file(
            root.path(),
            "revoked.json",
            std::slice::from_ref(&revocation),
            None,
        ),
        "outbox",
    );
    let (out, err, code) = paris.sync(&["rabat"], &env);
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(out.contains(": 1 sent, 0 withheld"), "{out}");
    let arrived = rabat.export("inbox");
    let versions: Vec<&Value> = arrived
        .iter()
        .filter(|((id, _), _)| id == PARIS_CLEAR_INDICATOR)
        .map(|(_, o)| o)
        .collect();
    assert_eq!(versions.len(), 2);
    assert_eq!(versions[1]["revoked"], true);
    let status = paris.status();
    let push = &status[&("rabat".to_owned(), "push".to_owned())];
    assert_eq!(push["objects"], 7);
    assert_eq!(push["last_error"], Value::Null);
    rabat_server.terminate();
}

#[test]
fn push_follows_pending_statuses_retries_failures_and_keeps_envelopes_small() {
    let root = tempfile::tempdir().unwrap();
    let paris = Node::init(root.path(), "Paris");
    paris.collection("Outbox", "outbox");
    let objects: Vec<Value> = (0..12).map(|i| indicator(&format!("push {i}"))).collect();
    paris.import(
        &bundle_file(root.path(), "outbox.json", &objects, None),
        "outbox",
    );
    let always = objects[0]["id"].as_str().unwrap().to_owned();
    let once = objects[1]["id"].as_str().unwrap().to_owned();

    // A partner whose statuses start pending, that refuses one object always and
    // another the first time, and takes at most 2,000 bytes per request.
    const MAX: u64 = 2000;
    let seen_once = Arc::new(Mutex::new(false));
    let statuses: Arc<Mutex<HashMap<String, Value>>> = Arc::default();
    let fake = {
        let (always, once) = (always.clone(), once.clone());
        let statuses = Arc::clone(&statuses);
        Fake::start(move |request| {
            if request.method == "GET" && request.path == "/api/" {
                let body = json!({"title": "fake", "versions": [TAXII], "max_content_length": MAX});
                return Reply::Taxii(200, body.to_string().into_bytes(), Vec::new());
            }
            if request.method == "GET" && request.path.starts_with("/api/status/") {
                let id = request
                    .path
                    .trim_start_matches("/api/status/")
                    .trim_end_matches('/');
                let status = statuses.lock().unwrap().get(id).cloned().unwrap();
                return Reply::Taxii(200, status.to_string().into_bytes(), Vec::new());
            }
            if request.method != "POST" {
                return Reply::Taxii(404, b"{\"title\":\"Not Found\"}".to_vec(), Vec::new());
            }
            let envelope: Value = serde_json::from_slice(&request.body).unwrap();
            let (mut successes, mut failures) = (Vec::new(), Vec::new());
            for object in envelope["objects"].as_array().unwrap() {
                let id = object["id"].as_str().unwrap();
                let detail = json!({"id": id, "version": object["modified"]});
                let mut first = seen_once.lock().unwrap();
                if id == always || (id == once && !*first) {
                    if id == once {
                        *first = true;
                    }
                    let mut detail = detail;
                    detail["message"] = json!("refused by the fake partner");
                    failures.push(detail);
                } else {
                    successes.push(detail);
                }
            }
            let id = uuid::Uuid::new_v4().to_string();
            let complete = json!({
                "id": id, "status": "complete",
                "total_count": successes.len() + failures.len(),
                "success_count": successes.len(), "successes": successes,
                "failure_count": failures.len(), "failures": failures,
                "pending_count": 0,
            });
            statuses
                .lock()
                .unwrap()
                .insert(id.clone(), complete.clone());
            let mut pending = complete;
            pending["status"] = json!("pending");
            Reply::Taxii(202, pending.to_string().into_bytes(), Vec::new())
        })
    };
    let fake_partner = NodeIdentity::generate("Fake");
    let fake_key = fake_partner.public_key().to_string();
    let mut partner = Partner::new("fake", &fake_partner.identity, &fake_key);
    partner.url = Some(&fake.url);
    partner.token_env = Some("TOKEN_FAKE");
    partner.push = vec![("outbox", "remote-c")];
    partner.outbound = "collections = [\"outbox\"]";
    paris.configure(&partner.toml());
    let env = [("TOKEN_FAKE", "psl_x")];

    let (out, err, code) = paris.sync(&[], &env);
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(
        // 11 indicators and the 3 objects Paris publishes for its signatures.
        out.contains("fake push outbox -> remote-c: 14 sent, 0 withheld, 1 refused by the partner"),
        "{out}"
    );
    assert!(
        err.lines()
            .any(|l| l.contains(&always) && l.contains("refused by the fake partner")),
        "{err}"
    );
    let posts: Vec<Request> = fake
        .requests()
        .into_iter()
        .filter(|r| r.method == "POST")
        .collect();
    assert!(
        posts.len() >= 3,
        "12 signed indicators do not fit in one 2,000-byte envelope"
    );
    for post in &posts {
        assert!(post.body.len() as u64 <= MAX, "{} bytes", post.body.len());
        assert_eq!(post.path, "/api/collections/remote-c/objects/");
    }
    let count = |id: &str| {
        posts
            .iter()
            .filter(|p| String::from_utf8_lossy(&p.body).contains(id))
            .count()
    };
    assert_eq!(
        count(&always),
        3,
        "posted three times, then reported refused"
    );
    assert_eq!(count(&once), 2, "posted again after its failure");
    assert!(
        fake.requests()
            .iter()
            .any(|r| r.method == "GET" && r.path.starts_with("/api/status/")),
        "pending statuses are followed"
    );

    // The page is done: the next cycle posts nothing.
    let before = fake.requests().len();
    let (out, _, code) = paris.sync(&[], &env);
    assert_eq!(code, 0);
    assert!(out.contains(": 0 sent, 0 withheld, 0 refused"), "{out}");
    assert!(
        fake.requests()[before..].iter().all(|r| r.method == "GET"),
        "nothing posted again"
    );
}

#[test]
fn partners_down_hanging_or_answering_garbage_do_not_stop_the_others() {
    let root = tempfile::tempdir().unwrap();
    let rabat = Node::init(root.path(), "Rabat");
    let paris = Node::init(root.path(), "Paris");

    let shared = rabat.collection("Shared", "shared");
    let token = rabat.account("paris", "shared", &["--read"]);
    let objects: Vec<Value> = (0..20).map(|i| indicator(&format!("ioc {i}"))).collect();
    rabat.import(
        &bundle_file(
            root.path(),
            "iocs.json",
            &objects,
            Some(&rabat.signing_identity()),
        ),
        "shared",
    );
    let mut paris_on_rabat = Partner::of("paris", &paris);
    paris_on_rabat.account = Some("paris");
    paris_on_rabat.outbound = "collections = [\"shared\"]";
    rabat.configure(&paris_on_rabat.toml());
    let rabat_server = rabat.serve(&[]);

    // Nothing listens on `down`'s port; `slow` never answers; `garbage` answers HTML.
    let down_url = {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}/", listener.local_addr().unwrap())
    };
    let slow = Fake::start(|_| Reply::Hang);
    let garbage = Fake::start(|_| {
        Reply::Raw(
            b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 17\r\nConnection: close\r\n\r\n<html>oops</html>"
                .to_vec(),
        )
    });

    paris.collection("From partners", "from-partners");
    let ids: Vec<NodeIdentity> = ["down", "slow", "garbage"]
        .iter()
        .map(|n| NodeIdentity::generate(n))
        .collect();
    let keys: Vec<String> = ids.iter().map(|i| i.public_key().to_string()).collect();
    let rabat_url = rabat_server.base_url.clone() + "/";
    let urls = [down_url.as_str(), slow.url.as_str(), garbage.url.as_str()];
    let mut config = String::from(
        "\n[sync]\ninterval_seconds = 1\nmax_backoff_seconds = 4\nrequest_timeout_seconds = 2\n",
    );
    for (i, name) in ["down", "slow", "garbage"].iter().enumerate() {
        let mut partner = Partner::new(name, &ids[i].identity, &keys[i]);
        partner.url = Some(urls[i]);
        partner.token_env = Some("TOKEN_OTHERS");
        partner.pull = vec![("c", "from-partners")];
        config.push_str(&partner.toml());
    }
    let mut partner = Partner::of("rabat", &rabat);
    partner.url = Some(&rabat_url);
    partner.token_env = Some("PASSERELLE_TOKEN_RABAT");
    partner.pull = vec![(&shared, "from-partners")];
    config.push_str(&partner.toml());
    paris.configure(&config);

    let env = [
        ("PASSERELLE_TOKEN_RABAT", token.as_str()),
        ("TOKEN_OTHERS", "psl_other"),
    ];
    // Rabat's 20 indicators and the 3 objects it publishes for its signatures.
    let from_rabat = (objects.len() + published(&rabat).len()) as u64;
    let serving = Instant::now();
    let paris_server = paris.serve(&env);
    // Rabat's objects arrive while the others fail; each failure shows in the status.
    let status = wait_for(Duration::from_secs(40), "every partner's state", || {
        let status = paris.status();
        let error =
            |name: &str| status[&(name.to_owned(), "pull".to_owned())]["last_error"].clone();
        let rabat_pull = &status[&("rabat".to_owned(), "pull".to_owned())];
        let ready = rabat_pull["objects"] == from_rabat
            && ["down", "slow", "garbage"]
                .iter()
                .all(|n| error(n).is_string());
        ready.then_some(status)
    });
    let error = |name: &str| {
        status[&(name.to_owned(), "pull".to_owned())]["last_error"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    assert!(
        error("down").contains("cannot connect"),
        "{}",
        error("down")
    );
    assert!(
        error("slow").contains("no complete answer within"),
        "{}",
        error("slow")
    );
    assert!(
        error("garbage").contains("text/html"),
        "{}",
        error("garbage")
    );
    for name in ["down", "slow", "garbage"] {
        assert!(
            error(name).starts_with(&format!("partner {name}: GET ")),
            "{}",
            error(name)
        );
    }
    assert_eq!(
        status[&("rabat".to_owned(), "pull".to_owned())]["last_error"],
        Value::Null
    );
    assert_eq!(paris.count("from-partners"), (from_rabat, from_rabat));
    let table = paris.cli(&["sync", "--status"]);
    assert!(table.contains("cannot connect"), "{table}");

    // Let the down partner fail again: it backs off rather than retrying every second.
    let first_attempt = status[&("down".to_owned(), "pull".to_owned())]["last_attempt"].clone();
    wait_for(
        Duration::from_secs(30),
        "a second attempt at the down partner",
        || {
            let now =
                paris.status()[&("down".to_owned(), "pull".to_owned())]["last_attempt"].clone();
            (now != first_attempt).then_some(())
        },
    );
    let started = Instant::now();
    let (exit, logs) = paris_server.terminate();
    let logs = plain(&logs);
    assert!(exit.success(), "{logs}");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "a hanging partner does not hold up shutdown"
    );
    for name in ["down", "slow", "garbage"] {
        assert!(
            logs.lines()
                .any(|l| l.contains("sync failed") && l.contains(&format!("partner={name}"))),
            "{name} is not in the logs:\n{logs}"
        );
    }
    assert!(logs.contains("backing off"), "{logs}");
    assert!(!logs.contains(&token) && !logs.contains("psl_other"));
    // The down partner was tried a few times in these seconds, not every second:
    // after the first failure the waits are 1–2 s, then 2–4 s.
    let down_failures = logs
        .lines()
        .filter(|l| l.contains("sync failed") && l.contains("partner=down"))
        .count() as u64;
    let seconds = serving.elapsed().as_secs();
    assert!(
        down_failures >= 2 && down_failures <= seconds.div_ceil(2) + 1,
        "{down_failures} attempts in {seconds} s"
    );
    rabat_server.terminate();
}

#[test]
fn a_node_killed_while_pulling_100000_objects_resumes_with_exactly_the_same_objects() {
    const N: usize = 100_000;
    let started = Instant::now();
    let root = tempfile::tempdir().unwrap();
    let rabat = Node::init(root.path(), "Rabat");
    let paris = Node::init(root.path(), "Paris");

    let shared = rabat.collection("Shared", "shared");
    let token = rabat.account("paris", "shared", &["--read"]);
    let file = root.path().join("big.json");
    {
        let mut out = std::io::BufWriter::new(std::fs::File::create(&file).unwrap());
        write!(
            out,
            "{{\"type\":\"bundle\",\"id\":\"bundle--{}\",\"objects\":[",
            uuid::Uuid::new_v4()
        )
        .unwrap();
        for i in 0..N {
            if i > 0 {
                out.write_all(b",").unwrap();
            }
            write!(
                out,
                "{{\"type\":\"indicator\",\"spec_version\":\"2.1\",\"id\":\"indicator--{}\",\
                 \"created\":\"2024-05-01T10:00:00.000Z\",\"modified\":\"2024-05-01T10:00:00.000Z\",\
                 \"pattern\":\"[ipv4-addr:value = '10.{}.{}.{}']\",\"pattern_type\":\"stix\",\
                 \"valid_from\":\"2024-05-01T10:00:00Z\",\"object_marking_refs\":[\"{CLEAR}\"]}}",
                uuid::Uuid::new_v4(),
                (i >> 16) & 255,
                (i >> 8) & 255,
                i & 255
            )
            .unwrap();
        }
        out.write_all(b"]}").unwrap();
    }
    let imported = rabat.import(&file, "shared");
    assert!(imported.contains(&format!("{N} added")), "{imported}");
    let mut paris_on_rabat = Partner::of("paris", &paris);
    paris_on_rabat.account = Some("paris");
    paris_on_rabat.outbound = "collections = [\"shared\"]";
    rabat.configure(&paris_on_rabat.toml());
    let rabat_server = rabat.serve(&[]);

    paris.collection("From Rabat", "from-rabat");
    let url = rabat_server.base_url.clone() + "/";
    let mut partner = Partner::of("rabat", &rabat);
    partner.url = Some(&url);
    partner.token_env = Some("PASSERELLE_TOKEN_RABAT");
    partner.pull = vec![(&shared, "from-rabat")];
    // Signed by Rabat when its egress signs; accepted unsigned otherwise.
    partner.inbound = "accept_unsigned = true";
    // The killed node's sync lease outlives it: the restarted one takes over once
    // it expires, so a short one keeps the test short.
    paris.configure(&format!(
        "\n[sync]\ninterval_seconds = 1\npage_size = 5000\nlease_seconds = 3\n{}",
        partner.toml()
    ));
    let env = [("PASSERELLE_TOKEN_RABAT", token.as_str())];
    // Rabat serves its N indicators, then the 3 objects it publishes when it starts.
    let total = (N + published(&rabat).len()) as u64;
    let setup = started.elapsed();

    // Killed with SIGKILL once some pages, but not all, are stored.
    let server = paris.serve(&env);
    let at_kill = wait_for(Duration::from_secs(60), "the pull to begin", || {
        let (objects, _) = paris.count("from-rabat");
        (objects >= 10_000).then_some(objects)
    });
    drop(server);
    let (after_kill, versions) = paris.count("from-rabat");
    assert!(
        after_kill < total,
        "killed before the end ({after_kill} objects)"
    );
    assert_eq!(after_kill, versions);
    // The sync total counts exactly what the killed node stored.
    let status = paris.status();
    let pull = &status[&("rabat".to_owned(), "pull".to_owned())];
    assert_eq!(pull["objects"].as_u64(), Some(after_kill), "{pull}");

    // Restarted, it resumes and ends with exactly Rabat's objects.
    let server = paris.serve(&env);
    wait_for(Duration::from_secs(120), "the pull to finish", || {
        (paris.count("from-rabat").0 >= total).then_some(())
    });
    // The total counts exactly the objects stored, whenever the node was killed:
    // each page's count is recorded in the transaction that stores it.
    wait_for(
        Duration::from_secs(10),
        "the attempt to be recorded",
        || {
            let status = paris.status();
            let pull = &status[&("rabat".to_owned(), "pull".to_owned())];
            let objects = pull["objects"].as_u64().unwrap_or(0);
            assert!(objects <= total, "{pull}");
            (objects == total).then(|| assert!(pull["last_error"].is_null(), "{pull}"))
        },
    );
    let (_, logs) = server.terminate();
    assert!(!plain(&logs).contains("sync failed"), "{logs}");
    let pulled = started.elapsed();
    assert_eq!(paris.count("from-rabat"), (total, total), "no duplicates");
    // The same objects in the same order: the same ids, and each the object Rabat
    // holds, signed by Rabat when its egress signs what it discloses.
    let objects = |node: &Node, collection: &str| {
        let text = node.cli(&["export", "--collection", collection, "--all-versions"]);
        let start = text.find("\"objects\":[").expect("a bundle");
        text[start..].to_owned()
    };
    let theirs = objects(&rabat, "shared");
    let ours = objects(&paris, "from-rabat");
    let ids = |text: &str| -> Vec<String> {
        text.split("\"id\":\"")
            .skip(1)
            .map(|rest| rest.split('"').next().unwrap().to_owned())
            .collect()
    };
    let our_ids = ids(&ours);
    assert_eq!(our_ids.len() as u64, total);
    assert_eq!(our_ids, ids(&theirs), "the same objects in the same order");
    let key = federation::PublicKey::parse(&rabat.public_key).unwrap();
    let rabat_id = rabat.identity.clone();
    let lookup = move |identity: &str| (identity == rabat_id).then_some(key);
    let our_lines: Vec<&str> = ours.lines().skip(1).collect();
    let their_lines: Vec<&str> = theirs.lines().skip(1).collect();
    for i in (0..N).step_by(997) {
        let bytes = our_lines[i].trim_end_matches(',');
        let mut ours: Value = serde_json::from_str(bytes).unwrap();
        let theirs: Value = serde_json::from_str(their_lines[i].trim_end_matches(',')).unwrap();
        if let Some(extensions) = ours.get_mut("extensions") {
            assert_eq!(
                signature::verify(bytes.as_bytes(), &lookup),
                SignatureCheck::Verified {
                    signer: rabat.identity.clone()
                }
            );
            let map = extensions.as_object_mut().unwrap();
            map.remove(signature::SIGNATURE_EXTENSION_ID);
            if map.is_empty() {
                ours.as_object_mut().unwrap().remove("extensions");
            }
        }
        assert_eq!(ours, theirs, "object {i}");
    }
    // One receipt per object, none twice: the ledger holds exactly one entry each.
    runtime().block_on(async {
        let store = paris.store().await;
        let head = store.ledger_head().await.unwrap().unwrap();
        assert_eq!(head.seq, total);
        assert_eq!(head.direction, Direction::Received);
        assert!(store.integrity_check().await.unwrap().is_ok());
    });
    rabat_server.terminate();
    eprintln!(
        "set up in {setup:?}, killed at {at_kill} objects, pulled in {pulled:?}, total {:?}",
        started.elapsed()
    );
}

/// Paris, with `n` indicators named `label 0`, `label 1`… imported into `outbox`.
fn paris_with_outbox(root: &Path, n: usize, label: &str) -> (Node, Vec<Value>) {
    let paris = Node::init(root, "Paris");
    paris.collection("Outbox", "outbox");
    let objects: Vec<Value> = (0..n).map(|i| indicator(&format!("{label} {i}"))).collect();
    paris.import(&bundle_file(root, "outbox.json", &objects, None), "outbox");
    (paris, objects)
}

/// A fake TAXII partner that accepts every POSTed envelope with a complete status,
/// except POST number `failing` (counted from 1), answered 503 as a busy server would.
fn partner_failing_post(failing: u32) -> Fake {
    let posts = Arc::new(Mutex::new(0u32));
    Fake::start(move |request| {
        if request.method == "GET" && request.path == "/api/" {
            let body =
                json!({"title": "fake", "versions": [TAXII], "max_content_length": 1_000_000});
            return Reply::Taxii(200, body.to_string().into_bytes(), Vec::new());
        }
        let mut n = posts.lock().unwrap();
        *n += 1;
        if *n == failing {
            return Reply::Taxii(503, b"{\"title\":\"busy\"}".to_vec(), Vec::new());
        }
        let envelope: Value = serde_json::from_slice(&request.body).unwrap();
        let successes: Vec<Value> = envelope["objects"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| json!({"id": o["id"], "version": o["modified"]}))
            .collect();
        let status = json!({
            "id": uuid::Uuid::new_v4().to_string(), "status": "complete",
            "total_count": successes.len(), "success_count": successes.len(),
            "successes": successes, "failure_count": 0, "pending_count": 0,
        });
        Reply::Taxii(202, status.to_string().into_bytes(), Vec::new())
    })
}

/// Configures `node` to push its `outbox` to `fake` (token in `TOKEN_FAKE`), syncing
/// every second with `sync` added to its `[sync]` section.
fn push_to(node: &Node, fake: &Fake, sync: &str) {
    let fake_partner = NodeIdentity::generate("Fake");
    let fake_key = fake_partner.public_key().to_string();
    let mut partner = Partner::new("fake", &fake_partner.identity, &fake_key);
    partner.url = Some(&fake.url);
    partner.token_env = Some("TOKEN_FAKE");
    partner.push = vec![("outbox", "remote-c")];
    partner.outbound = "collections = [\"outbox\"]";
    node.configure(&format!(
        "\n[sync]\ninterval_seconds = 1\nmax_backoff_seconds = 2\n{sync}{}",
        partner.toml()
    ));
}

#[test]
fn a_push_that_failed_is_sent_again_without_being_disclosed_twice() {
    let root = tempfile::tempdir().unwrap();
    let (paris, objects) = paris_with_outbox(root.path(), 3, "retry");
    // The partner's first POST fails as an overloaded server's would; later ones work.
    let fake = partner_failing_post(1);
    push_to(&paris, &fake, "");
    let env = [("TOKEN_FAKE", "psl_x")];

    // With the workers turned off, serve does not sync.
    let server = paris.serve(&[
        ("TOKEN_FAKE", "psl_x"),
        ("PASSERELLE__SYNC__ENABLED", "false"),
    ]);
    // No request may come: that can only be shown by letting more than one sync
    // interval (1 s) pass with the node up.
    std::thread::sleep(Duration::from_millis(1500));
    let (_, logs) = server.terminate();
    assert!(fake.requests().is_empty(), "{:?}", fake.requests());
    assert!(plain(&logs).contains("sync workers disabled"), "{logs}");

    // Its 3 indicators and the 3 objects it publishes for its signatures.
    let sent = (objects.len() + published(&paris).len()) as u64;
    let server = paris.serve(&env);
    let push = wait_for(Duration::from_secs(20), "the push to succeed", || {
        let status = paris.status();
        let push = status[&("fake".to_owned(), "push".to_owned())].clone();
        (push["objects"] == sent && push["last_error"].is_null()).then_some(push)
    });
    let (_, logs) = server.terminate();
    let logs = plain(&logs);
    assert!(logs.contains("HTTP 503"), "{logs}");
    assert!(logs.contains("backing off"), "{logs}");
    assert!(push["last_success"].is_string());
    let bodies: Vec<Vec<u8>> = fake
        .requests()
        .into_iter()
        .filter(|r| r.method == "POST")
        .map(|r| r.body)
        .collect();
    assert_eq!(bodies.len(), 2, "one failed POST, one that worked");
    assert_eq!(bodies[0], bodies[1], "the same page, the same bytes");
    runtime().block_on(async {
        let disclosed = paris
            .store()
            .await
            .ledger(&LedgerQuery {
                direction: Some(Direction::Disclosed),
                ..LedgerQuery::default()
            })
            .await
            .unwrap();
        assert_eq!(disclosed.len() as u64, sent, "disclosed once, sent twice");
    });
}

/// The push discloses page N+1 while page N is posted: when N fails, N+1 is in the
/// ledger already, so both are kept and sent again as they are, and nothing is
/// disclosed twice.
#[test]
fn a_push_keeps_the_page_disclosed_ahead_when_the_page_before_fails() {
    let root = tempfile::tempdir().unwrap();
    let (paris, objects) = paris_with_outbox(root.path(), 6, "ahead");
    // The partner's second POST fails; the others work.
    let fake = partner_failing_post(2);
    push_to(&paris, &fake, "page_size = 2\n");
    let env = [("TOKEN_FAKE", "psl_x")];

    // Its 6 indicators and the 3 objects it publishes: 5 pages of at most 2.
    let sent = (objects.len() + published(&paris).len()) as u64;
    let server = paris.serve(&env);
    wait_for(Duration::from_secs(20), "the push to succeed", || {
        let status = paris.status();
        let push = status[&("fake".to_owned(), "push".to_owned())].clone();
        (push["objects"] == sent && push["last_error"].is_null()).then_some(push)
    });
    let (_, logs) = server.terminate();
    assert!(plain(&logs).contains("HTTP 503"), "{logs}");
    let bodies: Vec<Vec<u8>> = fake
        .requests()
        .into_iter()
        .filter(|r| r.method == "POST")
        .map(|r| r.body)
        .collect();
    assert_eq!(bodies.len(), 6, "5 pages and the failed POST");
    assert_eq!(
        bodies[1], bodies[2],
        "the failed page again, the same bytes"
    );
    let ids = |body: &[u8]| -> Vec<String> {
        let envelope: Value = serde_json::from_slice(body).unwrap();
        envelope["objects"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| o["id"].as_str().unwrap().to_owned())
            .collect()
    };
    let mut all: Vec<String> = [0, 2, 3, 4, 5]
        .iter()
        .flat_map(|&i| ids(&bodies[i]))
        .collect();
    assert_eq!(
        all.len() as u64,
        sent,
        "every object sent once after the failure"
    );
    all.sort();
    all.dedup();
    assert_eq!(all.len() as u64, sent, "no object sent twice");
    runtime().block_on(async {
        let disclosed = paris
            .store()
            .await
            .ledger(&LedgerQuery {
                direction: Some(Direction::Disclosed),
                ..LedgerQuery::default()
            })
            .await
            .unwrap();
        assert_eq!(
            disclosed.len() as u64,
            sent,
            "each disclosed once, the page decided ahead included"
        );
    });
}

#[test]
fn sync_help_has_examples() {
    let help = ok(&["sync", "--help"]);
    assert!(help.contains("Examples:"), "{help}");
    assert!(help.contains("passerelle sync --status"), "{help}");
    assert!(help.contains("[PARTNER]"), "{help}");
    let top = ok(&["--help"]);
    assert!(top.contains("sync"), "{top}");
    // An unknown partner is named, with the ones that exist.
    let root = tempfile::tempdir().unwrap();
    let paris = Node::init(root.path(), "Paris");
    let output = paris.run(&["sync", "lyon"], &[]);
    assert_eq!(output.status.code(), Some(2));
    let err = String::from_utf8_lossy(&output.stderr);
    assert!(err.contains("no partner \"lyon\""), "{err}");
    let (out, _, code) = paris.sync(&[], &[]);
    assert_eq!(code, 0);
    assert!(
        out.contains("no partner has anything to pull or push"),
        "{out}"
    );
    assert!(paris.cli(&["sync", "--status"]).contains("no exchange"));
}

#[test]
fn the_node_and_the_cli_never_sync_with_one_partner_at_once() {
    let root = tempfile::tempdir().unwrap();
    let paris = Node::init(root.path(), "Paris");
    paris.collection("From Lyon", "from-lyon");
    // While `hang` is set, the next request hangs (and clears it); others get an
    // empty page. Each request's arrival is recorded by the fake.
    let hang = Arc::new(Mutex::new(true));
    let fake = {
        let hang = Arc::clone(&hang);
        Fake::start(move |_| {
            if std::mem::replace(&mut *hang.lock().unwrap(), false) {
                Reply::Hang
            } else {
                envelope_reply(&[])
            }
        })
    };
    let lyon = NodeIdentity::generate("Lyon");
    let key = lyon.public_key().to_string();
    let mut partner = Partner::new("lyon", &lyon.identity, &key);
    partner.url = Some(&fake.url);
    partner.token_env = Some("TOKEN_FAKE");
    partner.pull = vec![("c", "from-lyon")];
    paris.configure(&format!(
        "\n[sync]\ninterval_seconds = 1\nrequest_timeout_seconds = 5\n{}",
        partner.toml()
    ));
    let env = [("TOKEN_FAKE", "psl_x")];
    let background_sync = || {
        common::command(&["sync", "lyon", "--data", paris.data()])
            .envs(env)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    };

    // The command is stuck in a request: it holds the partner's sync lease, which
    // `--status` shows, and the node's worker skips its cycles.
    let cli = background_sync();
    wait_for(
        Duration::from_secs(10),
        "the command to call the partner",
        || (fake.requests().len() == 1).then_some(()),
    );
    let status = paris.status();
    let lease = &status[&("lyon".to_owned(), "pull".to_owned())]["sync_lease"];
    let holder = lease["holder"].as_str().unwrap().to_owned();
    assert!(holder.contains(&format!(":{}:", cli.id())), "{lease}");
    assert!(lease["expires"].is_string(), "{lease}");
    let text = paris.cli(&["sync", "--status"]);
    assert!(
        text.contains(&format!("lyon: being synced by {holder} (lease until ")),
        "{text}"
    );
    let server = paris.serve(&env);
    let output = cli.wait_with_output().unwrap();
    assert_eq!(
        output.status.code(),
        Some(1),
        "the command's request timed out"
    );
    assert_eq!(
        fake.requests().len(),
        1,
        "the node did not call the partner meanwhile"
    );
    wait_for(Duration::from_secs(10), "the node's own cycle", || {
        (fake.requests().len() >= 2).then_some(())
    });

    // The node's worker is stuck in a request: the command waits for it, then runs.
    *hang.lock().unwrap() = true;
    let hung_at = fake.requests().len() + 1;
    wait_for(
        Duration::from_secs(10),
        "the node to call the partner again",
        || (fake.requests().len() >= hung_at).then_some(()),
    );
    let started = Instant::now();
    let cli = background_sync();
    let output = cli.wait_with_output().unwrap();
    let out = String::from_utf8_lossy(&output.stdout);
    let err = plain(&String::from_utf8_lossy(&output.stderr));
    assert_eq!(output.status.code(), Some(0), "{out}\n{err}");
    assert!(
        out.contains("lyon pull c -> from-lyon: 0 received"),
        "{out}"
    );
    assert!(err.contains("waiting for it to finish"), "{err}");
    assert!(
        started.elapsed() >= Duration::from_millis(500),
        "it waited for the node's request to time out"
    );
    let (exit, logs) = server.terminate();
    assert!(exit.success());
    let logs = plain(&logs);
    assert!(logs.contains("sync cycle skipped"), "{logs}");
    assert!(logs.contains(&holder), "the skip names the holder: {logs}");
    // A node that stops frees its lease, whether or not it was in a cycle.
    let status = paris.status();
    assert!(
        status[&("lyon".to_owned(), "pull".to_owned())]["sync_lease"].is_null(),
        "{status:?}"
    );
}
