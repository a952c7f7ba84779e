//! Engineers' measuring tool for the TAXII data path over real HTTP (not part of
//! the test command; the official benchmark is `scripts/bench-taxii.sh`).
//!
//! ```text
//! cargo run --release -p taxii --example taxii_perf -- ingest BUNDLE [CLIENTS]
//! cargo run --release -p taxii --example taxii_perf -- page BUNDLE PASSES
//! cargo run --release -p taxii --example taxii_perf -- byid DIR N [REQUESTS]
//! ```
//!
//! `ingest` starts a node in-process on a fresh SQLite store, posts the bundle's
//! objects in envelopes of 1,000 from CLIENTS concurrent clients, then pages
//! through everything (limit 1,000) a few times. `page` fills the store directly
//! and only pages, PASSES times. `byid` serves the store that
//! `store_perf fill DIR N` made and fetches random objects one at a time.

use std::sync::Arc;
use std::time::{Duration, Instant};

use store::{NewAccount, NewCollection, NewToken, Rights, SqliteStore, Store, SystemClock};
use taxii::{AppState, Settings};
use uuid::Uuid;

const TAXII: &str = "application/taxii+json;version=2.1";
const ENVELOPE: usize = 1000;

type Error = Box<dyn std::error::Error + Send + Sync>;

fn main() -> Result<(), Error> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    match args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        ["ingest", bundle] => runtime.block_on(ingest(bundle, 2)),
        ["ingest", bundle, clients] => runtime.block_on(ingest(bundle, clients.parse()?)),
        ["page", bundle, passes] => runtime.block_on(page(bundle, passes.parse()?)),
        ["byid", dir, n] => runtime.block_on(by_id(dir, n.parse()?, 20_000)),
        ["byid", dir, n, requests] => runtime.block_on(by_id(dir, n.parse()?, requests.parse()?)),
        _ => Err(
            "usage: taxii_perf ingest BUNDLE [CLIENTS] | page BUNDLE PASSES | byid DIR N [REQUESTS]"
                .into(),
        ),
    }
}

struct Node {
    base: String,
    token: String,
    collection: Uuid,
}

/// Serves `store` on 127.0.0.1 with a read-write account on `collection`.
async fn start(store: Arc<dyn Store>, collection: Uuid) -> Result<Node, Error> {
    let _ = store
        .create_account(NewAccount {
            name: "perf".into(),
            admin: false,
        })
        .await;
    let token = taxii::auth::generate_token();
    store
        .add_token(
            "perf",
            NewToken {
                name: format!("t{}", Uuid::new_v4()),
                hash: taxii::auth::token_hash(&token),
            },
        )
        .await?;
    store
        .set_rights(
            "perf",
            collection,
            Rights {
                read: true,
                write: true,
            },
        )
        .await?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    let settings = Settings {
        max_content_length: 64 << 20,
        ..Settings::default()
    };
    let state = AppState::new(store, Arc::new(SystemClock), settings);
    tokio::spawn(async move { taxii::serve(listener, state, std::future::pending()).await });
    Ok(Node {
        base,
        token,
        collection,
    })
}

fn envelopes(bundle: &str) -> Result<(usize, Vec<Vec<u8>>), Error> {
    let file = std::fs::File::open(bundle)?;
    let mut reader = stix::bundle::ObjectReader::new(std::io::BufReader::new(file));
    let mut out = Vec::new();
    let mut current = Vec::new();
    let (mut n, mut in_current) = (0, 0);
    while let Some(raw) = reader.next_object()? {
        if in_current == 0 {
            current.extend_from_slice(b"{\"objects\":[");
        } else {
            current.push(b',');
        }
        current.extend_from_slice(raw.bytes);
        in_current += 1;
        n += 1;
        if in_current == ENVELOPE {
            current.extend_from_slice(b"]}");
            out.push(std::mem::take(&mut current));
            in_current = 0;
        }
    }
    if in_current > 0 {
        current.extend_from_slice(b"]}");
        out.push(current);
    }
    Ok((n, out))
}

async fn ingest(bundle: &str, clients: usize) -> Result<(), Error> {
    let (n, envelopes) = envelopes(bundle)?;
    let dir = tempfile::tempdir()?;
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(dir.path(), Arc::new(SystemClock))?);
    let collection = Uuid::new_v4();
    store
        .create_collection(NewCollection {
            id: collection,
            title: "perf".into(),
            description: None,
            alias: None,
        })
        .await?;
    let node = Arc::new(start(store.clone(), collection).await?);
    let http = reqwest::Client::new();
    let url = format!("{}/api/collections/{}/objects/", node.base, node.collection);
    let queue = Arc::new(std::sync::Mutex::new(envelopes));
    let start = Instant::now();
    let cpu = cpu_seconds();
    let mut tasks = Vec::new();
    for _ in 0..clients {
        let (queue, http, url, node) = (queue.clone(), http.clone(), url.clone(), node.clone());
        tasks.push(tokio::spawn(async move {
            loop {
                let Some(body) = queue.lock().map_err(|e| e.to_string())?.pop() else {
                    return Ok::<_, Error>(());
                };
                let r = http
                    .post(&url)
                    .bearer_auth(&node.token)
                    .header("Accept", TAXII)
                    .header("Content-Type", TAXII)
                    .body(body)
                    .send()
                    .await?;
                if r.status() != 202 {
                    return Err(format!("POST answered {}", r.status()).into());
                }
                let text = r.text().await?;
                if text.contains("\"failures\"") {
                    return Err(format!("failures: {}", &text[..text.len().min(500)]).into());
                }
            }
        }));
    }
    for t in tasks {
        t.await??;
    }
    let s = start.elapsed().as_secs_f64();
    println!(
        "ingest ({clients} clients): {n} objects in {s:.3} s = {:.0} objects/s; {:.2} CPU s, client included",
        n as f64 / s,
        cpu_seconds() - cpu
    );
    let got = page_all(&http, &node, &url, true).await?;
    if got != n {
        return Err(format!("paging returned {got} objects, {n} were posted").into());
    }
    for _ in 0..3 {
        let start = Instant::now();
        page_all(&http, &node, &url, false).await?;
        let s = start.elapsed().as_secs_f64();
        println!(
            "paging (limit {ENVELOPE}): {got} objects in {s:.3} s = {:.0} objects/s",
            got as f64 / s
        );
    }
    Ok(())
}

async fn page(bundle: &str, passes: usize) -> Result<(), Error> {
    let file = std::fs::File::open(bundle)?;
    let mut reader = stix::bundle::ObjectReader::new(std::io::BufReader::new(file));
    let mut objects = Vec::new();
    while let Some(raw) = reader.next_object()? {
        let value = stix::json::parse(raw.bytes)?;
        let map = value.as_object().ok_or("not an object")?;
        objects.push(store::NewObject::from_object(raw.bytes.to_vec(), map)?);
    }
    let n = objects.len();
    let dir = tempfile::tempdir()?;
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(dir.path(), Arc::new(SystemClock))?);
    let collection = Uuid::new_v4();
    store
        .create_collection(NewCollection {
            id: collection,
            title: "perf".into(),
            description: None,
            alias: None,
        })
        .await?;
    let provenance = store::Provenance::Import {
        source: "perf".into(),
    };
    while !objects.is_empty() {
        let rest = objects.split_off(objects.len().min(ENVELOPE));
        store
            .add_objects(
                collection,
                &provenance,
                std::mem::replace(&mut objects, rest),
            )
            .await?;
    }
    let node = start(store, collection).await?;
    let http = reqwest::Client::new();
    let url = format!("{}/api/collections/{}/objects/", node.base, node.collection);
    let got = page_all(&http, &node, &url, true).await?;
    if got != n {
        return Err(format!("paging returned {got} objects, {n} were stored").into());
    }
    let mut times = Vec::new();
    let cpu = cpu_seconds();
    for _ in 0..passes {
        let start = Instant::now();
        page_all(&http, &node, &url, false).await?;
        times.push(start.elapsed().as_secs_f64());
    }
    let cpu = (cpu_seconds() - cpu) / passes as f64;
    times.sort_by(f64::total_cmp);
    let median = times[times.len() / 2];
    println!(
        "paging (limit {ENVELOPE}), {passes} passes: median {n} objects in {median:.3} s = {:.0} objects/s (best {:.0}); {cpu:.3} CPU s per pass, client included",
        n as f64 / median,
        n as f64 / times[0]
    );
    Ok(())
}

/// Follows `next` through the whole collection; with `count`, counts the objects
/// served (a byte scan as slow as the server, so left out of timed passes).
async fn page_all(
    http: &reqwest::Client,
    node: &Node,
    url: &str,
    count: bool,
) -> Result<usize, Error> {
    let mut next: Option<String> = None;
    let mut total = 0;
    loop {
        let mut request = http
            .get(url)
            .bearer_auth(&node.token)
            .header("Accept", TAXII)
            .query(&[("limit", ENVELOPE.to_string())]);
        if let Some(next) = &next {
            request = request.query(&[("next", next)]);
        }
        let r = request.send().await?;
        if r.status() != 200 {
            return Err(format!("GET answered {}", r.status()).into());
        }
        let body = r.bytes().await?;
        // write_envelope puts `more` and `next` first.
        let head = &body[..body.len().min(200)];
        let head = String::from_utf8_lossy(head);
        next = head.find("\"next\":\"").and_then(|at| {
            let rest = &head[at + 8..];
            rest.find('"').map(|end| rest[..end].to_owned())
        });
        total += if count { count_objects(&body) } else { 0 };
        if next.is_none() {
            return Ok(total);
        }
    }
}

/// Objects in an envelope body: depth-2 object openings (cheap enough, and exact for JSON).
fn count_objects(body: &[u8]) -> usize {
    let (mut depth, mut in_string, mut escaped, mut n) = (0usize, false, false, 0);
    for &b in body {
        if in_string {
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                in_string = false;
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'{' | b'[' => {
                if depth == 2 && b == b'{' {
                    n += 1;
                }
                depth += 1;
            }
            b'}' | b']' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    n
}

/// CPU seconds this process (server and client) used so far, from /proc; 100 Hz.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let rest = stat.rsplit(") ").next().unwrap_or_default();
    let fields: Vec<&str> = rest.split(' ').collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    (ticks(11) + ticks(12)) / 100.0
}

fn synthetic_id(i: usize) -> String {
    format!("indicator--{:08x}-0000-4000-8000-{:012x}", i >> 16, i)
}

async fn by_id(dir: &str, n: usize, requests: usize) -> Result<(), Error> {
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(
        std::path::Path::new(dir),
        Arc::new(SystemClock),
    )?);
    let collection = store.find_collection("perf").await?.id;
    let node = start(store, collection).await?;
    let http = reqwest::Client::new();
    let mut latencies = Vec::with_capacity(requests);
    // A cheap deterministic spread over the ids (an LCG), no extra dependency.
    let mut x: u64 = 0x2545_f491_4f6c_dd1d;
    for round in 0..requests + 200 {
        x = x
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        let i = (x >> 33) as usize % n;
        let url = format!(
            "{}/api/collections/{}/objects/{}/",
            node.base,
            node.collection,
            synthetic_id(i)
        );
        let start = Instant::now();
        let r = http
            .get(&url)
            .bearer_auth(&node.token)
            .header("Accept", TAXII)
            .send()
            .await?;
        let status = r.status();
        let _ = r.bytes().await?;
        let took = start.elapsed();
        if status != 200 {
            return Err(format!("GET {url} answered {status}").into());
        }
        // The first requests warm connections and caches.
        if round >= 200 {
            latencies.push(took);
        }
    }
    latencies.sort();
    let at = |q: f64| latencies[((latencies.len() as f64 * q) as usize).min(latencies.len() - 1)];
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "by id over {n} objects, {requests} requests: p50 {:.3} ms, p90 {:.3} ms, p99 {:.3} ms, max {:.3} ms",
        ms(at(0.5)),
        ms(at(0.9)),
        ms(at(0.99)),
        ms(at(1.0))
    );
    Ok(())
}
