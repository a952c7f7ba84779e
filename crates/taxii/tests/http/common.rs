//! A TAXII node started in-process on a fresh store of the test backend (SQLite in a
//! temporary folder, or with `PASSERELLE_TEST_BACKEND=postgres` a PostgreSQL database
//! of its own), with accounts for every permission case, and a client for it.

// Test and measurement code: a failed step should stop with its message.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![allow(dead_code)]

use std::io::Read as _;
use std::sync::Arc;

use reqwest::{Method, RequestBuilder, Response};
use serde_json::Value;
use store::postgres::testing::TempDatabase;
use store::test_backend::fresh_store;
use store::{NewAccount, NewCollection, NewToken, Rights, Store, SystemClock};
use taxii::partner::PartnerGate;
use taxii::{AppState, Settings};
use tokio::sync::oneshot;
use uuid::Uuid;

pub const TAXII: &str = "application/taxii+json;version=2.1";

pub struct Node {
    pub base: String,
    pub store: Arc<dyn Store>,
    pub http: reqwest::Client,
    /// Collection everyone with rights uses; alias `intel`.
    pub c1: Uuid,
    /// A second collection: `write_only` may only write there.
    pub c2: Uuid,
    pub admin: String,
    pub reader: String,
    pub writer: String,
    pub write_only: String,
    pub nobody: String,
    shutdown: Option<oneshot::Sender<()>>,
    _dir: tempfile::TempDir,
    _database: Option<TempDatabase>,
}

pub async fn token_for(store: &Arc<dyn Store>, name: &str, admin: bool) -> String {
    store
        .create_account(NewAccount {
            name: name.into(),
            admin,
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
    token
}

impl Node {
    pub async fn start() -> Node {
        Node::start_with(Settings {
            max_content_length: 16 << 20,
            ..Settings::default()
        })
        .await
    }

    pub async fn start_with(settings: Settings) -> Node {
        Node::start_full(settings, None).await
    }

    /// A node whose partner accounts go through `gate`.
    pub async fn start_with_gate(gate: Arc<dyn PartnerGate>) -> Node {
        Node::start_full(
            Settings {
                max_content_length: 16 << 20,
                ..Settings::default()
            },
            Some(gate),
        )
        .await
    }

    pub async fn start_full(settings: Settings, gate: Option<Arc<dyn PartnerGate>>) -> Node {
        let dir = tempfile::tempdir().unwrap();
        let clock = Arc::new(SystemClock);
        let (store, database) = fresh_store(dir.path(), clock.clone()).await;
        let c1 = Uuid::new_v4();
        let c2 = Uuid::new_v4();
        for (id, title, alias) in [(c1, "Intel", Some("intel")), (c2, "Drop box", None)] {
            store
                .create_collection(NewCollection {
                    id,
                    title: title.into(),
                    description: Some(format!("{title} collection")),
                    alias: alias.map(str::to_owned),
                })
                .await
                .unwrap();
        }
        let admin = token_for(&store, "admin", true).await;
        let reader = token_for(&store, "reader", false).await;
        let writer = token_for(&store, "writer", false).await;
        let write_only = token_for(&store, "write-only", false).await;
        let nobody = token_for(&store, "nobody", false).await;
        let rw = Rights {
            read: true,
            write: true,
        };
        store
            .set_rights(
                "reader",
                c1,
                Rights {
                    read: true,
                    write: false,
                },
            )
            .await
            .unwrap();
        store.set_rights("writer", c1, rw).await.unwrap();
        store
            .set_rights(
                "write-only",
                c2,
                Rights {
                    read: false,
                    write: true,
                },
            )
            .await
            .unwrap();
        store
            .create_account(NewAccount {
                name: "alice".into(),
                admin: false,
            })
            .await
            .unwrap();
        store
            .set_password_hash(
                "alice",
                Some(taxii::auth::hash_password("wonderland").unwrap()),
            )
            .await
            .unwrap();
        store.set_rights("alice", c1, rw).await.unwrap();

        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let (tx, rx) = oneshot::channel::<()>();
        let mut state = AppState::new(store.clone(), clock, settings);
        if let Some(gate) = gate {
            state = state.with_partner_gate(gate);
        }
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
            http: reqwest::Client::new(),
            c1,
            c2,
            admin,
            reader,
            writer,
            write_only,
            nobody,
            shutdown: Some(tx),
            _dir: dir,
            _database: database,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub fn objects_path(&self, collection: Uuid) -> String {
        format!("/api/collections/{collection}/objects/")
    }

    /// A request with the TAXII Accept header and, if given, a Bearer token.
    pub fn request(&self, method: Method, path: &str, token: Option<&str>) -> RequestBuilder {
        let mut r = self
            .http
            .request(method, self.url(path))
            .header("Accept", TAXII);
        if let Some(token) = token {
            r = r.bearer_auth(token);
        }
        r
    }

    pub async fn get(&self, path: &str, token: &str) -> Response {
        self.request(Method::GET, path, Some(token))
            .send()
            .await
            .unwrap()
    }

    pub async fn get_json(&self, path: &str, token: &str) -> Value {
        let r = self.get(path, token).await;
        assert_eq!(r.status(), 200, "GET {path}");
        assert_eq!(r.headers()["content-type"], TAXII);
        r.json().await.unwrap()
    }

    pub async fn post(&self, collection: Uuid, token: &str, body: Vec<u8>) -> Response {
        self.request(Method::POST, &self.objects_path(collection), Some(token))
            .header("Content-Type", TAXII)
            .body(body)
            .send()
            .await
            .unwrap()
    }

    /// Posts and expects a 202 status; returns it.
    pub async fn post_ok(&self, collection: Uuid, token: &str, body: Vec<u8>) -> Value {
        let r = self.post(collection, token, body).await;
        assert_eq!(r.status(), 202);
        assert_eq!(r.headers()["content-type"], TAXII);
        r.json().await.unwrap()
    }

    /// The number of object versions in a collection, read from the store.
    pub async fn stored_versions(&self, collection: Uuid) -> u64 {
        self.store
            .counts()
            .await
            .unwrap()
            .into_iter()
            .find(|c| c.collection == collection)
            .map_or(0, |c| c.versions)
    }

    /// The server still answers.
    pub async fn assert_alive(&self) {
        let r = self.get("/taxii2/", &self.admin).await;
        assert_eq!(r.status(), 200);
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// Checks an error response is a TAXII error message with this status.
pub async fn assert_error(r: Response, status: u16) -> Value {
    assert_eq!(r.status(), status, "status of {}", r.url());
    assert_eq!(r.headers()["content-type"], TAXII);
    assert!(r.headers().contains_key("x-request-id"));
    let request_id = r.headers()["x-request-id"].to_str().unwrap().to_owned();
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["http_status"], status.to_string(), "{body}");
    assert!(body["title"].is_string(), "{body}");
    assert!(
        body["description"].as_str().is_some_and(|d| !d.is_empty()),
        "{body}"
    );
    assert_eq!(body["error_id"], request_id.as_str(), "{body}");
    body
}

pub fn uuid(n: u32) -> String {
    format!("{n:08x}-0000-4000-8000-000000000000")
}

/// A valid STIX 2.1 indicator.
pub fn indicator(n: u32, modified: &str) -> String {
    format!(
        r#"{{"type":"indicator","spec_version":"2.1","id":"indicator--{}","created":"2020-01-01T00:00:00.000Z","modified":"{modified}","name":"indicator {n}","pattern":"[ipv4-addr:value = '10.0.0.{}']","pattern_type":"stix","valid_from":"2020-01-01T00:00:00Z"}}"#,
        uuid(n),
        n % 250
    )
}

pub fn indicator_id(n: u32) -> String {
    format!("indicator--{}", uuid(n))
}

pub fn envelope(objects: &[String]) -> Vec<u8> {
    format!(r#"{{"objects":[{}]}}"#, objects.join(",")).into_bytes()
}

/// The exact bytes of every object of a gzip-compressed bundle in testdata/.
pub fn testdata_objects(name: &str) -> Vec<Vec<u8>> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../testdata")
        .join(name);
    let mut text = Vec::new();
    flate2::read::GzDecoder::new(std::fs::File::open(&path).unwrap())
        .read_to_end(&mut text)
        .unwrap();
    let mut reader = stix::bundle::ObjectReader::new(text.as_slice());
    let mut out = Vec::new();
    while let Some(raw) = reader.next_object().unwrap() {
        out.push(raw.bytes.to_vec());
    }
    out
}

pub fn envelope_of_bytes(objects: &[Vec<u8>]) -> Vec<u8> {
    let mut body = b"{\"objects\":[".to_vec();
    for (i, o) in objects.iter().enumerate() {
        if i > 0 {
            body.push(b',');
        }
        body.extend_from_slice(o);
    }
    body.extend_from_slice(b"]}");
    body
}

/// The exact bytes of the objects of an envelope.
pub fn objects_of(body: &[u8]) -> Vec<Vec<u8>> {
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

/// Sends a raw HTTP/1.1 request (for what reqwest will not send, such as no
/// Accept header) and returns the whole response text.
pub async fn raw(node: &Node, request: &str) -> String {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let address = node.base.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await.unwrap();
    String::from_utf8_lossy(&response).into_owned()
}
