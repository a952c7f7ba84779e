//! The TAXII server with `Federation` as its partner gate, over real HTTP on a
//! real SQLite store, with the sample intelligence of `testdata/federation/`:
//! our own data (`rabat.json`, imported, with two later versions), Paris's data
//! pulled from Paris and Madrid's pushed by Madrid (each signed by its
//! originator).
//!
//! For each partner account, what it reads over TAXII (objects, an object,
//! manifest, versions) is exactly what `Federation::decide` discloses; every
//! object served has its `disclosed` ledger entry (channel pull, the rule, the
//! hash of the exact bytes served) and nothing withheld has one; and objects
//! the partner posts are accepted, refused or quarantined by their signature
//! and its inbound rules, with their `received` entries.
//!
//! | partner | max_tlp | communities | other |
//! |---|---|---|---|
//! | paris | amber+strict | wc2030 | consent from madrid up to amber; inbound: defaults (reject unsigned, reject invalid) |
//! | madrid | amber | wc2030 | excludes label `internal`; inbound: accept unsigned, quarantine invalid |
//! | rabat | green | none | inbound: quarantine invalid, into a collection that does not exist |

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use federation::signature::sign;
use federation::{Agreement, Federation, NodeIdentity, SignatureCheck};
use serde_json::Value;
use stix::Timestamp;
use store::{
    Channel, Direction, LedgerQuery, NewAccount, NewCollection, NewObject, NewToken, ObjectQuery,
    ObjectRecord, Provenance, Rights, SqliteStore, Store, SystemClock, Version, VersionMatch,
    ledger::sha256_hex,
};
use tokio::sync::oneshot;
use uuid::Uuid;

const TAXII: &str = "application/taxii+json;version=2.1";
const PARTNERS: [&str; 3] = ["paris", "madrid", "rabat"];
const SHARED: Uuid = uid(0x5a5a_0001);
const INTERNAL: Uuid = uid(0x5a5a_0002);
const QUARANTINE: Uuid = uid(0x5a5a_0003);

const fn uid(n: u128) -> Uuid {
    Uuid::from_u128(0x0000_0000_0000_4000_8000_0000_0000_0000 | n)
}

fn node_identity(name: &str, seed: u8) -> NodeIdentity {
    NodeIdentity::from_seed(
        &format!("identity--{}", uid(u128::from(seed) + 0x1000)),
        name,
        Timestamp::parse("2026-11-02T09:00:00.000Z").unwrap(),
        &[seed; 32],
    )
}

fn us() -> NodeIdentity {
    node_identity("PJ Lisboa", 9)
}

fn partner_identity(name: &str) -> NodeIdentity {
    match name {
        "paris" => node_identity("paris", 1),
        "madrid" => node_identity("madrid", 2),
        "rabat" => node_identity("rabat", 3),
        other => panic!("no partner {other}"),
    }
}

fn agreement() -> Agreement {
    let p = |name: &str| {
        let n = partner_identity(name);
        format!(
            "identity = \"{}\"\npublic_key = \"{}\"\naccount = \"{name}-node\"",
            n.identity,
            n.public_key()
        )
    };
    let text = format!(
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
consents = [{{ originator = "madrid", tlp = "amber", reference = "letter 2026-11-02" }}]

[[partners]]
name = "madrid"
{madrid}
communities = ["wc2030"]
[partners.outbound]
collections = ["shared"]
max_tlp = "amber"
labels_excluded = ["internal"]
[partners.inbound]
accept_unsigned = true
on_invalid_signature = "quarantine"

[[partners]]
name = "rabat"
{rabat}
[partners.outbound]
collections = ["shared"]
max_tlp = "green"
[partners.inbound]
on_invalid_signature = "quarantine"
quarantine = "nowhere"
"#,
        paris = p("paris"),
        madrid = p("madrid"),
        rabat = p("rabat"),
    );
    Agreement::from_toml(&text).unwrap()
}

/// The exact bytes of each object of a sample bundle.
fn sample(name: &str) -> Vec<Vec<u8>> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../testdata/federation")
        .join(name);
    let text = std::fs::read(&path).unwrap();
    let mut reader = stix::bundle::ObjectReader::new(text.as_slice());
    let mut out = Vec::new();
    while let Some(raw) = reader.next_object().unwrap() {
        out.push(raw.bytes.to_vec());
    }
    out
}

fn new_object(bytes: Vec<u8>) -> NewObject {
    let value = stix::json::parse(&bytes).unwrap();
    let diagnostics = stix::validate::validate_object(&value);
    assert!(
        diagnostics
            .iter()
            .all(|d| d.severity != stix::Severity::Error),
        "{diagnostics:?}"
    );
    NewObject::from_object(bytes.clone(), value.as_object().unwrap()).unwrap()
}

const CLEAR_INDICATOR: &str = "indicator--2a7beae1-5108-4bb8-b00d-114f199bce3b";
const AMBER_ACTOR: &str = "threat-actor--dad3c65b-9629-4c3a-8845-6ebf5e18eb2b";
const TLP_CLEAR: &str = "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487";
const TLP_AMBER: &str = "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421";
const TLP_RED: &str = "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1";

/// A later version of one of our objects, marked `to` instead.
fn later_version(own: &[Vec<u8>], id: &str, to: &str) -> Vec<u8> {
    let mut value: Value = own
        .iter()
        .map(|b| serde_json::from_slice::<Value>(b).unwrap())
        .find(|v| v["id"] == id)
        .unwrap();
    value["modified"] = "2026-11-21T08:00:00.000Z".into();
    value["object_marking_refs"] = serde_json::json!([to]);
    serde_json::to_vec(&value).unwrap()
}

struct Node {
    base: String,
    store: Arc<dyn Store>,
    federation: Arc<Federation>,
    http: reqwest::Client,
    tokens: BTreeMap<String, String>,
    shutdown: Option<oneshot::Sender<()>>,
    _dir: tempfile::TempDir,
}

impl Drop for Node {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

async fn account(store: &Arc<dyn Store>, name: &str, collections: &[Uuid]) -> String {
    store
        .create_account(NewAccount {
            name: name.into(),
            admin: false,
        })
        .await
        .unwrap();
    let token = taxii::auth::generate_token();
    store
        .add_token(
            name,
            NewToken {
                name: "test".into(),
                hash: taxii::auth::token_hash(&token),
            },
        )
        .await
        .unwrap();
    for collection in collections {
        store
            .set_rights(
                name,
                *collection,
                Rights {
                    read: true,
                    write: true,
                },
            )
            .await
            .unwrap();
    }
    token
}

impl Node {
    async fn start() -> Node {
        let dir = tempfile::tempdir().unwrap();
        let store: Arc<dyn Store> =
            Arc::new(SqliteStore::open(dir.path(), Arc::new(SystemClock)).unwrap());
        for (id, alias) in [
            (SHARED, "shared"),
            (INTERNAL, "internal"),
            (QUARANTINE, "quarantine"),
        ] {
            store
                .create_collection(NewCollection {
                    id,
                    title: alias.into(),
                    description: None,
                    alias: Some(alias.into()),
                })
                .await
                .unwrap();
        }

        // Our own data, imported, and two later versions of it: one re-marked RED
        // (so its earlier version alone may go), one re-marked CLEAR.
        let own = sample("rabat.json");
        let import = Provenance::Import {
            source: "rabat.json".into(),
        };
        let objects = own.iter().cloned().map(new_object).collect();
        store.add_objects(SHARED, &import, objects).await.unwrap();
        let later = vec![
            new_object(later_version(&own, CLEAR_INDICATOR, TLP_RED)),
            new_object(later_version(&own, AMBER_ACTOR, TLP_CLEAR)),
        ];
        store.add_objects(SHARED, &import, later).await.unwrap();
        // A copy of some in a collection no agreement shares.
        let internal = own[..4].iter().cloned().map(new_object).collect();
        store
            .add_objects(INTERNAL, &import, internal)
            .await
            .unwrap();
        // Third-party data, signed by its originator and verified on receipt.
        for (partner, file, channel) in [
            ("paris", "paris.json", Channel::Pull),
            ("madrid", "madrid.json", Channel::Push),
        ] {
            let signer = partner_identity(partner);
            let objects = sample(file)
                .iter()
                .map(|b| new_object(sign(b, &signer).unwrap()))
                .collect();
            let provenance = Provenance::Partner {
                partner: partner.into(),
                channel,
                signature: SignatureCheck::Verified {
                    signer: signer.identity.clone(),
                },
            };
            store
                .add_objects(SHARED, &provenance, objects)
                .await
                .unwrap();
        }

        let mut tokens = BTreeMap::new();
        for partner in PARTNERS {
            let name = format!("{partner}-node");
            // Rights on the internal collection too: the agreement, not the
            // rights, keeps it from the partner.
            let token = account(&store, &name, &[SHARED, INTERNAL]).await;
            tokens.insert(partner.to_owned(), token);
        }
        tokens.insert(
            "analyst".into(),
            account(&store, "analyst", &[SHARED]).await,
        );

        let federation = Arc::new(
            Federation::new(store.clone(), agreement(), us())
                .await
                .unwrap(),
        );
        assert!(federation.tie_accounts().await.unwrap().is_empty());
        assert_eq!(
            store.get_account("paris-node").await.unwrap().partner,
            Some("paris".into())
        );

        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let state = taxii::AppState::new(
            store.clone(),
            Arc::new(SystemClock),
            taxii::Settings::default(),
        )
        .with_partner_gate(federation.clone());
        let (tx, rx) = oneshot::channel::<()>();
        tokio::spawn(async move {
            taxii::serve(listener, state, async {
                let _ = rx.await;
            })
            .await
            .unwrap();
        });
        Node {
            base,
            store,
            federation,
            http: reqwest::Client::new(),
            tokens,
            shutdown: Some(tx),
            _dir: dir,
        }
    }

    async fn get(&self, path: &str, who: &str) -> reqwest::Response {
        self.http
            .get(format!("{}{path}", self.base))
            .header("Accept", TAXII)
            .bearer_auth(&self.tokens[who])
            .send()
            .await
            .unwrap()
    }

    /// Every page of `path` (which has a query string), following `next`:
    /// the bodies.
    async fn walk(&self, path: &str, who: &str) -> Vec<Vec<u8>> {
        let mut bodies = Vec::new();
        let mut next: Option<String> = None;
        for _ in 0..100 {
            let url = match &next {
                Some(n) => format!("{path}&next={n}"),
                None => path.to_owned(),
            };
            let r = self.get(&url, who).await;
            assert_eq!(r.status(), 200, "GET {url}");
            let body = r.bytes().await.unwrap().to_vec();
            let page: Value = serde_json::from_slice(&body).unwrap();
            bodies.push(body);
            match page["next"].as_str() {
                Some(n) if page["more"] == true => next = Some(n.to_owned()),
                _ => {
                    assert!(page.get("more").is_none(), "more without next: {page}");
                    return bodies;
                }
            }
        }
        panic!("{path}: paging did not end");
    }

    async fn post(&self, collection: Uuid, who: &str, objects: &[Vec<u8>]) -> Value {
        let mut body = b"{\"objects\":[".to_vec();
        body.extend_from_slice(&objects.join(&b","[..]));
        body.extend_from_slice(b"]}");
        let r = self
            .http
            .post(format!(
                "{}/api/collections/{collection}/objects/",
                self.base
            ))
            .header("Accept", TAXII)
            .header("Content-Type", TAXII)
            .bearer_auth(&self.tokens[who])
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 202);
        r.json().await.unwrap()
    }

    async fn records(&self, collection: Uuid, versions: Vec<VersionMatch>) -> Vec<ObjectRecord> {
        let query = ObjectQuery {
            versions,
            limit: 10_000,
            with_provenance: true,
            ..ObjectQuery::default()
        };
        let page = self.store.objects(collection, &query).await.unwrap();
        assert!(!page.more);
        page.records
    }

    async fn disclosed_entries(&self, partner: &str) -> Vec<store::LedgerEntry> {
        self.store
            .ledger(&LedgerQuery {
                partner: Some(partner.into()),
                direction: Some(Direction::Disclosed),
                ..LedgerQuery::default()
            })
            .await
            .unwrap()
    }
}

/// The exact bytes of the objects of an envelope.
fn objects_of(body: &[u8]) -> Vec<Vec<u8>> {
    let parsed: Value = serde_json::from_slice(body).unwrap();
    if parsed.get("objects").is_none() {
        return Vec::new();
    }
    let mut reader = stix::bundle::ObjectReader::new(body);
    let mut out = Vec::new();
    while let Some(raw) = reader.next_object().unwrap() {
        out.push(raw.bytes.to_vec());
    }
    out
}

/// Objects as text, so a failed comparison reads.
fn texts(objects: &[Vec<u8>]) -> Vec<String> {
    objects
        .iter()
        .map(|b| String::from_utf8_lossy(b).into_owned())
        .collect()
}

fn id_and_version(bytes: &[u8]) -> (String, String) {
    let value: Value = serde_json::from_slice(bytes).unwrap();
    (
        value["id"].as_str().unwrap().to_owned(),
        value["modified"].as_str().unwrap().to_owned(),
    )
}

/// One version as a partner sees it: id, version, date added, bytes, rule.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Seen {
    id: String,
    version: String,
    date_added: String,
    bytes: Vec<u8>,
    rule: String,
}

/// What `Federation::decide` discloses of `records` to `partner`, in order.
async fn preview(
    node: &Node,
    partner: &str,
    collection: Uuid,
    records: Vec<ObjectRecord>,
) -> Vec<Seen> {
    node.federation
        .decide(partner, collection, records)
        .await
        .unwrap()
        .into_iter()
        .filter_map(|o| {
            let rule = o.decision.rule().as_str().to_owned();
            o.bytes().map(|bytes| Seen {
                id: o.record.id.clone(),
                version: o.record.version.as_str().to_owned(),
                date_added: o.record.date_added.to_string(),
                bytes: bytes.to_vec(),
                rule,
            })
        })
        .collect()
}

fn versions_of(seen: &[Seen], id: &str) -> Vec<String> {
    seen.iter()
        .filter(|s| s.id == id)
        .map(|s| s.version.clone())
        .collect()
}

#[tokio::test]
async fn each_partner_reads_over_taxii_exactly_what_the_preview_discloses() {
    let node = Node::start().await;
    let all_records = node.records(SHARED, vec![VersionMatch::All]).await;
    let latest_records = node.records(SHARED, Vec::new()).await;
    let ids: BTreeSet<String> = all_records.iter().map(|r| r.id.clone()).collect();
    let stored: BTreeMap<(String, String), Vec<u8>> = all_records
        .iter()
        .map(|r| {
            (
                (r.id.clone(), r.version.as_str().to_owned()),
                r.bytes.clone(),
            )
        })
        .collect();
    let objects = format!("/api/collections/{SHARED}/objects/");
    let mut disclosed_counts = BTreeMap::new();

    for partner in PARTNERS {
        let expected_all = preview(&node, partner, SHARED, all_records.clone()).await;
        let expected_latest = preview(&node, partner, SHARED, latest_records.clone()).await;
        // The data makes each partner's view a real selection.
        assert!(!expected_all.is_empty(), "{partner} sees nothing");
        assert!(
            expected_all.len() < all_records.len(),
            "{partner} sees everything"
        );
        disclosed_counts.insert(partner, expected_all.len());
        let mut served: Vec<(String, String, Vec<u8>)> = Vec::new();

        // Get Objects, every version, three per page.
        let mut got = Vec::new();
        for body in node
            .walk(&format!("{objects}?match[version]=all&limit=3"), partner)
            .await
        {
            got.extend(objects_of(&body));
        }
        let want: Vec<Vec<u8>> = expected_all.iter().map(|s| s.bytes.clone()).collect();
        assert_eq!(texts(&got), texts(&want), "{partner}: every version");
        served.extend(got.iter().map(|b| {
            let (id, version) = id_and_version(b);
            (id, version, b.clone())
        }));

        // Get Objects, latest versions.
        let mut got = Vec::new();
        for body in node.walk(&format!("{objects}?limit=4"), partner).await {
            got.extend(objects_of(&body));
        }
        let want: Vec<Vec<u8>> = expected_latest.iter().map(|s| s.bytes.clone()).collect();
        assert_eq!(texts(&got), texts(&want), "{partner}: latest versions");
        served.extend(got.iter().map(|b| {
            let (id, version) = id_and_version(b);
            (id, version, b.clone())
        }));

        // Get An Object: each version disclosed, or a 404.
        for id in &ids {
            let r = node
                .get(&format!("{objects}{id}/?match[version]=all"), partner)
                .await;
            let want: Vec<Vec<u8>> = expected_all
                .iter()
                .filter(|s| &s.id == id)
                .map(|s| s.bytes.clone())
                .collect();
            if want.is_empty() {
                assert_eq!(r.status(), 404, "{partner}: {id} is withheld");
            } else {
                assert_eq!(r.status(), 200, "{partner}: {id}");
                let got = objects_of(&r.bytes().await.unwrap());
                assert_eq!(texts(&got), texts(&want), "{partner}: {id}");
                served.extend(got.iter().map(|b| {
                    let (id, version) = id_and_version(b);
                    (id, version, b.clone())
                }));
            }
        }

        // Manifests and versions list the same versions, and record nothing.
        let before = node.disclosed_entries(partner).await.len();
        let mut manifest = Vec::new();
        for body in node
            .walk(
                &format!("/api/collections/{SHARED}/manifest/?match[version]=all&limit=3"),
                partner,
            )
            .await
        {
            let page: Value = serde_json::from_slice(&body).unwrap();
            for record in page["objects"].as_array().into_iter().flatten() {
                manifest.push((
                    record["id"].as_str().unwrap().to_owned(),
                    record["version"].as_str().unwrap().to_owned(),
                    record["date_added"].as_str().unwrap().to_owned(),
                ));
            }
        }
        let want: Vec<(String, String, String)> = expected_all
            .iter()
            .map(|s| (s.id.clone(), s.version.clone(), s.date_added.clone()))
            .collect();
        assert_eq!(manifest, want, "{partner}: manifest");
        for id in &ids {
            let r = node.get(&format!("{objects}{id}/versions/"), partner).await;
            let want = versions_of(&expected_all, id);
            if want.is_empty() {
                assert_eq!(r.status(), 404, "{partner}: versions of withheld {id}");
            } else {
                assert_eq!(r.status(), 200);
                let body: Value = r.json().await.unwrap();
                let got: Vec<String> = body["versions"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|v| v.as_str().unwrap().to_owned())
                    .collect();
                assert_eq!(got, want, "{partner}: versions of {id}");
            }
        }
        assert_eq!(node.disclosed_entries(partner).await.len(), before);

        // A collection no agreement shares: nothing, and 404 for its objects.
        let internal = node.records(INTERNAL, vec![VersionMatch::All]).await;
        assert!(
            preview(&node, partner, INTERNAL, internal.clone())
                .await
                .is_empty()
        );
        let page: Value = node
            .get(
                &format!("/api/collections/{INTERNAL}/objects/?match[version]=all"),
                partner,
            )
            .await
            .json()
            .await
            .unwrap();
        assert!(page.get("objects").is_none(), "{partner}: {page}");
        let r = node
            .get(
                &format!("/api/collections/{INTERNAL}/objects/{}/", internal[0].id),
                partner,
            )
            .await;
        assert_eq!(r.status(), 404);
        let page: Value = node
            .get(&format!("/api/collections/{INTERNAL}/manifest/"), partner)
            .await
            .json()
            .await
            .unwrap();
        assert!(page.get("objects").is_none(), "{partner}: {page}");

        // The ledger: one `disclosed` entry per object served, over pull, with the
        // rule that let it go and the hash of the exact bytes; none for the rest.
        let entries = node.disclosed_entries(partner).await;
        assert_eq!(
            entries.len(),
            served.len(),
            "{partner}: one entry per serve"
        );
        let mut logged: Vec<(String, String, String)> = entries
            .iter()
            .map(|e| {
                assert_eq!(e.channel, Some(Channel::Pull));
                assert_eq!(e.collection, SHARED);
                let seen = expected_all
                    .iter()
                    .find(|s| s.id == e.object_id && s.version == e.version)
                    .unwrap_or_else(|| {
                        panic!("{partner}: {} {} is in the ledger", e.object_id, e.version)
                    });
                assert_eq!(e.rule, seen.rule);
                (
                    e.object_id.clone(),
                    e.version.clone(),
                    e.bytes_sha256.clone(),
                )
            })
            .collect();
        let mut expected_log: Vec<(String, String, String)> = served
            .iter()
            .map(|(id, version, bytes)| (id.clone(), version.clone(), sha256_hex(bytes)))
            .collect();
        logged.sort();
        expected_log.sort();
        assert_eq!(logged, expected_log, "{partner}: ledger");
        for (id, version) in stored.keys() {
            if versions_of(&expected_all, id).contains(version) {
                continue;
            }
            assert!(
                !entries
                    .iter()
                    .any(|e| &e.object_id == id && &e.version == version),
                "{partner}: withheld {id} {version} is in the ledger"
            );
        }

        // Our own data leaves signed by us.
        for seen in &expected_all {
            if !matches!(
                all_records
                    .iter()
                    .find(|r| r.id == seen.id)
                    .and_then(|r| r.provenance.as_ref()),
                Some(Provenance::Import { .. })
            ) {
                continue;
            }
            assert_eq!(
                node.federation.check_signature(&seen.bytes),
                SignatureCheck::Verified {
                    signer: us().identity
                },
                "{partner}: {}",
                seen.id
            );
        }
    }

    // Partners see different things; rabat (GREEN) gets the report redacted.
    assert!(disclosed_counts["paris"] > disclosed_counts["rabat"]);
    let rabat = preview(&node, "rabat", SHARED, all_records.clone()).await;
    let report = rabat.iter().find(|s| s.id.starts_with("report--")).unwrap();
    let original: Value =
        serde_json::from_slice(&stored[&(report.id.clone(), report.version.clone())]).unwrap();
    let redacted: Value = serde_json::from_slice(&report.bytes).unwrap();
    assert!(original.get("description").is_some());
    assert!(redacted.get("description").is_none(), "{redacted}");
    assert_eq!(report.rule, "own-data");
    // The RED version of the CLEAR indicator is withheld, its first version is not.
    let paris = preview(&node, "paris", SHARED, all_records.clone()).await;
    assert_eq!(
        versions_of(&paris, CLEAR_INDICATOR),
        ["2026-11-20T08:00:00.000Z"]
    );
    assert!(versions_of(&paris, AMBER_ACTOR).len() == 2);

    // The whole ledger is one chain.
    let all = node.store.ledger(&LedgerQuery::default()).await.unwrap();
    assert_eq!(store::ledger::verify(&all).unwrap(), all.len() as u64);

    // An account that is not a partner's reads everything as stored.
    let mut got = Vec::new();
    for body in node
        .walk(&format!("{objects}?match[version]=all&limit=7"), "analyst")
        .await
    {
        got.extend(objects_of(&body));
    }
    let want: Vec<Vec<u8>> = all_records.iter().map(|r| r.bytes.clone()).collect();
    assert_eq!(texts(&got), texts(&want));
}

/// A valid indicator for push tests.
fn indicator(n: u32, name: &str) -> Vec<u8> {
    format!(
        r#"{{"type":"indicator","spec_version":"2.1","id":"indicator--{}","created":"2026-11-25T10:00:00.000Z","modified":"2026-11-25T10:00:00.000Z","name":"{name}","pattern":"[domain-name:value = 'c2-{n}.example']","pattern_type":"stix","valid_from":"2026-11-25T10:00:00Z","object_marking_refs":["{TLP_AMBER}"]}}"#,
        uid(0xbeef_0000 + u128::from(n))
    )
    .into_bytes()
}

fn indicator_id(n: u32) -> String {
    format!("indicator--{}", uid(0xbeef_0000 + u128::from(n)))
}

/// Signed by `by`, then changed.
fn tampered(n: u32, by: &str) -> Vec<u8> {
    let signed = sign(&indicator(n, "before"), &partner_identity(by)).unwrap();
    String::from_utf8(signed)
        .unwrap()
        .replace("\"name\":\"before\"", "\"name\":\"after\"")
        .into_bytes()
}

fn version() -> Version {
    Version::parse("2026-11-25T10:00:00.000Z").unwrap()
}

#[tokio::test]
async fn pushes_by_partner_accounts_are_verified_by_their_inbound_rules() {
    let node = Node::start().await;
    let paris = partner_identity("paris");
    let madrid = partner_identity("madrid");
    let signed_by_paris = sign(&indicator(1, "signed"), &paris).unwrap();
    let unsigned = indicator(2, "unsigned");
    let tampered_paris = tampered(3, "paris");

    // Paris: default inbound rules. Signed: accepted; unsigned and tampered: refused.
    let status = node
        .post(
            SHARED,
            "paris",
            &[signed_by_paris.clone(), unsigned.clone(), tampered_paris],
        )
        .await;
    assert_eq!(status["success_count"], 1, "{status}");
    assert_eq!(status["successes"][0]["id"], indicator_id(1));
    assert_eq!(status["failure_count"], 2, "{status}");
    let failures = status["failures"].as_array().unwrap();
    assert_eq!(failures[0]["id"], indicator_id(2));
    assert!(
        failures[0]["message"]
            .as_str()
            .unwrap()
            .contains("accept_unsigned"),
        "{status}"
    );
    assert_eq!(failures[1]["id"], indicator_id(3));
    assert!(
        failures[1]["message"]
            .as_str()
            .unwrap()
            .contains("does not verify"),
        "{status}"
    );
    assert_eq!(
        node.store
            .provenance(SHARED, &indicator_id(1), &version())
            .await
            .unwrap(),
        Provenance::Partner {
            partner: "paris".into(),
            channel: Channel::Push,
            signature: SignatureCheck::Verified {
                signer: paris.identity.clone()
            },
        }
    );
    for n in [2, 3] {
        assert!(
            node.store
                .provenance(SHARED, &indicator_id(n), &version())
                .await
                .is_err()
        );
    }

    // Madrid accepts unsigned objects and quarantines tampered ones.
    let tampered_madrid = tampered(4, "madrid");
    let status = node
        .post(
            SHARED,
            "madrid",
            &[unsigned.clone(), tampered_madrid.clone()],
        )
        .await;
    assert_eq!(status["success_count"], 1, "{status}");
    assert_eq!(status["successes"][0]["id"], indicator_id(2));
    assert_eq!(status["failure_count"], 1, "{status}");
    let message = status["failures"][0]["message"].as_str().unwrap();
    assert!(
        message.contains("quarantine") && message.contains(&madrid.identity),
        "{message}"
    );
    assert_eq!(
        node.store
            .provenance(SHARED, &indicator_id(2), &version())
            .await
            .unwrap(),
        Provenance::Partner {
            partner: "madrid".into(),
            channel: Channel::Push,
            signature: SignatureCheck::Unsigned,
        }
    );
    assert!(
        node.store
            .provenance(SHARED, &indicator_id(4), &version())
            .await
            .is_err()
    );
    assert_eq!(
        node.store
            .provenance(QUARANTINE, &indicator_id(4), &version())
            .await
            .unwrap(),
        Provenance::Partner {
            partner: "madrid".into(),
            channel: Channel::Push,
            signature: SignatureCheck::Invalid {
                signer: madrid.identity.clone()
            },
        }
    );

    // Rabat would quarantine, but its quarantine collection does not exist: refused.
    let status = node.post(SHARED, "rabat", &[tampered(5, "rabat")]).await;
    assert_eq!(status["failure_count"], 1, "{status}");
    let message = status["failures"][0]["message"].as_str().unwrap();
    assert!(message.contains("\"nowhere\""), "{message}");
    assert!(
        node.store
            .provenance(QUARANTINE, &indicator_id(5), &version())
            .await
            .is_err()
    );

    // One `received` entry per object stored, over push, with the hash of its bytes.
    let received = node
        .store
        .ledger(&LedgerQuery {
            direction: Some(Direction::Received),
            ..LedgerQuery::default()
        })
        .await
        .unwrap();
    let pushed: Vec<(Option<String>, Uuid, String, String, String)> = received
        .iter()
        .filter(|e| e.channel == Some(Channel::Push) && e.object_id.starts_with("indicator--"))
        .filter(|e| e.object_id.contains("beef"))
        .map(|e| {
            (
                e.partner.clone(),
                e.collection,
                e.object_id.clone(),
                e.bytes_sha256.clone(),
                e.rule.clone(),
            )
        })
        .collect();
    assert_eq!(
        pushed,
        [
            (
                Some("paris".into()),
                SHARED,
                indicator_id(1),
                sha256_hex(&signed_by_paris),
                "received".into()
            ),
            (
                Some("madrid".into()),
                SHARED,
                indicator_id(2),
                sha256_hex(&unsigned),
                "received".into()
            ),
            (
                Some("madrid".into()),
                QUARANTINE,
                indicator_id(4),
                sha256_hex(&tampered_madrid),
                "received".into()
            ),
        ]
    );

    // What a partner pushed goes back to no one as an echo, and reads by the
    // pusher go through the gate like any other.
    let r = node
        .get(
            &format!("/api/collections/{SHARED}/objects/{}/", indicator_id(1)),
            "paris",
        )
        .await;
    assert_eq!(r.status(), 404);
}
