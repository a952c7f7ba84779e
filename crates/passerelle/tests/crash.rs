//! Crash test: a real `passerelle serve` killed with SIGKILL while clients post
//! envelopes. After a restart, every object whose POST was acknowledged (202 with a
//! complete status listing it as a success) is served with the bytes that were sent,
//! its status is still readable, nothing served is partial or foreign, and the
//! database passes SQLite's integrity check (`Store::integrity_check`).

// Test support: a failed setup step should stop the test with its message.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use common::{Server, ok, token_in};
use serde_json::Value;
use store::{SqliteStore, Store, SystemClock};
use tokio::sync::Notify;

const LOOPBACK_ANY_PORT: (&str, &str) = ("PASSERELLE__SERVER__LISTEN", "127.0.0.1:0");
const CLIENTS: usize = 3;
const OBJECTS_PER_ENVELOPE: usize = 100;
/// The server is killed once this many envelopes have been acknowledged in all.
const ACKNOWLEDGED_BEFORE_KILL: usize = 24;
const ACCEPT: &str = "application/taxii+json;version=2.1";

/// One envelope a client sent: its objects by id, and its status id if acknowledged.
struct Sent {
    objects: Vec<(String, Value)>,
    acknowledged: Option<String>,
}

/// A valid STIX 2.1 identity with a fresh id, unique per client and sequence number.
fn identity(client: usize, n: usize) -> (String, Value) {
    let id = format!("identity--{}", uuid::Uuid::new_v4());
    let object = serde_json::json!({
        "type": "identity",
        "spec_version": "2.1",
        "id": id,
        "created": "2024-05-01T10:00:00.000Z",
        "modified": "2024-05-01T10:00:00.000Z",
        "name": format!("crash test client {client} object {n}"),
        "identity_class": "organization",
    });
    (id, object)
}

/// Whether a POST answer acknowledges every object of the envelope.
fn acknowledges(status: &Value, objects: &[(String, Value)]) -> bool {
    let successes: HashSet<&str> = status["successes"]
        .as_array()
        .map(|list| list.iter().filter_map(|s| s["id"].as_str()).collect())
        .unwrap_or_default();
    status["status"] == "complete"
        && status["success_count"].as_u64() == Some(objects.len() as u64)
        && objects
            .iter()
            .all(|(id, _)| successes.contains(id.as_str()))
}

/// Wakes the test when a client ends, even by panicking, so it never waits forever.
struct WakeOnDrop(Arc<Notify>);

impl Drop for WakeOnDrop {
    fn drop(&mut self) {
        self.0.notify_one();
    }
}

/// Posts envelopes until the server goes away; returns everything it sent.
async fn client(
    number: usize,
    url: String,
    token: String,
    acknowledged: Arc<AtomicUsize>,
    enough: Arc<Notify>,
) -> Vec<Sent> {
    let _wake = WakeOnDrop(Arc::clone(&enough));
    let http = reqwest::Client::new();
    let mut sent = Vec::new();
    for envelope in 0.. {
        let objects: Vec<(String, Value)> = (0..OBJECTS_PER_ENVELOPE)
            .map(|i| identity(number, envelope * OBJECTS_PER_ENVELOPE + i))
            .collect();
        let body =
            serde_json::json!({ "objects": objects.iter().map(|(_, o)| o).collect::<Vec<_>>() });
        let answer = http
            .post(&url)
            .header("Accept", ACCEPT)
            .header("Content-Type", ACCEPT)
            .bearer_auth(&token)
            .body(body.to_string())
            .send()
            .await;
        let mut record = Sent {
            objects,
            acknowledged: None,
        };
        let status = match answer {
            Ok(response) if response.status() == 202 => response.json::<Value>().await.ok(),
            Ok(response) => panic!(
                "client {number}: POST answered {} before the kill: {}",
                response.status(),
                response.text().await.unwrap_or_default()
            ),
            // The server was killed: this envelope's fate is unknown.
            Err(_) => None,
        };
        match status {
            Some(status) => {
                assert!(
                    acknowledges(&status, &record.objects),
                    "client {number}: a 202 that does not list every object as a success: {status}"
                );
                record.acknowledged = status["id"].as_str().map(str::to_owned);
                sent.push(record);
                if acknowledged.fetch_add(1, Ordering::SeqCst) + 1 == ACKNOWLEDGED_BEFORE_KILL {
                    enough.notify_one();
                }
            }
            None => {
                sent.push(record);
                return sent;
            }
        }
    }
    sent
}

/// Every object the collection serves (all versions), by id, paging with `next`.
async fn served(base: &str, collection: &str, token: &str) -> HashMap<String, Value> {
    let http = reqwest::Client::new();
    let mut objects = HashMap::new();
    let mut next: Option<String> = None;
    loop {
        let mut request = http
            .get(format!("{base}/api/collections/{collection}/objects/"))
            .query(&[("match[version]", "all"), ("limit", "1000")])
            .header("Accept", ACCEPT)
            .bearer_auth(token);
        if let Some(next) = &next {
            request = request.query(&[("next", next)]);
        }
        let response = request.send().await.expect("GET objects after restart");
        assert_eq!(response.status(), 200);
        let page: Value = response.json().await.expect("an envelope");
        for object in page["objects"].as_array().into_iter().flatten() {
            let id = object["id"].as_str().expect("id").to_owned();
            assert!(
                objects.insert(id.clone(), object.clone()).is_none(),
                "{id} served twice"
            );
        }
        if page["more"] != true {
            return objects;
        }
        next = Some(page["next"].as_str().expect("next with more").to_owned());
    }
}

async fn integrity_check(database: &Path) {
    let path = database.to_owned();
    let store =
        tokio::task::spawn_blocking(move || SqliteStore::open_file(&path, Arc::new(SystemClock)))
            .await
            .unwrap()
            .expect("the database opens after the crash");
    let report = store.integrity_check().await.expect("integrity check runs");
    assert!(report.is_ok(), "integrity check: {:?}", report.problems);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn acknowledged_posts_survive_sigkill() {
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().join("node");
    let data = data_dir.to_str().unwrap().to_owned();
    let token = token_in(&ok(&["init", "--data", &data]));
    let collection = ok(&[
        "collection",
        "add",
        "Crash",
        "--alias",
        "crash",
        "--data",
        &data,
    ]);
    let collection = collection.trim().to_owned();

    let server = Server::start(&["--data", &data], &[LOOPBACK_ANY_PORT]);
    let url = format!("{}/api/collections/{collection}/objects/", server.base_url);
    let acknowledged = Arc::new(AtomicUsize::new(0));
    let enough = Arc::new(Notify::new());
    let clients: Vec<_> = (0..CLIENTS)
        .map(|n| {
            tokio::spawn(client(
                n,
                url.clone(),
                token.clone(),
                Arc::clone(&acknowledged),
                Arc::clone(&enough),
            ))
        })
        .collect();

    // Kill while every client is in the middle of posting (they never stop by themselves).
    enough.notified().await;
    // Dropping a `Server` kills its process with SIGKILL (`Child::kill`) and reaps it.
    tokio::task::spawn_blocking(move || drop(server))
        .await
        .unwrap();

    let mut sent = Vec::new();
    for client in clients {
        sent.extend(client.await.expect("client task"));
    }
    let acked: Vec<&Sent> = sent.iter().filter(|s| s.acknowledged.is_some()).collect();
    assert!(acked.len() >= ACKNOWLEDGED_BEFORE_KILL);
    let in_flight = sent.len() - acked.len();

    // The database is sound right after the crash, before anything else opens it.
    let database = data_dir.join("passerelle.db");
    integrity_check(&database).await;

    let server = Server::start(&["--data", &data], &[LOOPBACK_ANY_PORT]);
    let objects = served(&server.base_url, &collection, &token).await;
    let mut sent_by_id: HashMap<&str, &Value> = HashMap::new();
    for envelope in &sent {
        let present = envelope
            .objects
            .iter()
            .filter(|(id, _)| objects.contains_key(id))
            .count();
        if envelope.acknowledged.is_some() {
            assert_eq!(
                present,
                envelope.objects.len(),
                "an acknowledged envelope lost objects after SIGKILL"
            );
        } else {
            // A POST is one transaction: all of an unacknowledged envelope or none.
            assert!(
                present == 0 || present == envelope.objects.len(),
                "an envelope was half stored: {present} of {}",
                envelope.objects.len()
            );
        }
        for (id, object) in &envelope.objects {
            sent_by_id.insert(id, object);
        }
    }
    for (id, object) in &objects {
        let original = sent_by_id
            .get(id.as_str())
            .unwrap_or_else(|| panic!("{id} served but never sent"));
        assert_eq!(object, *original, "{id} changed");
    }

    // Each acknowledged status is still readable and still says what it said.
    let http = reqwest::Client::new();
    for envelope in &acked {
        let id = envelope.acknowledged.as_deref().unwrap();
        let response = http
            .get(format!("{}/api/status/{id}/", server.base_url))
            .header("Accept", ACCEPT)
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "status {id} after restart");
        let status: Value = response.json().await.unwrap();
        assert!(acknowledges(&status, &envelope.objects), "{status}");
    }

    let (exit, stderr) = tokio::task::spawn_blocking(move || server.terminate())
        .await
        .unwrap();
    assert!(exit.success(), "exit {exit}; stderr:\n{stderr}");
    integrity_check(&database).await;
    eprintln!(
        "{} envelopes acknowledged, {in_flight} in flight at the kill, {} objects served after restart",
        acked.len(),
        objects.len()
    );
}
