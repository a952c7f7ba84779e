//! `taxii-bench`: the measuring tools `scripts/bench-taxii.sh` drives.
//!
//! - `bundle`: writes a bundle of generated objects (for `passerelle import`).
//! - `ingest`: posts generated objects to a TAXII 2.1 collection in envelopes.
//! - `page`: reads a whole collection page by page, following `next`.
//! - `by-id`: the latency of Get An Object for random stored ids.
//! - `raw-sqlite`: the machine's raw limit for the same work: a bare rusqlite insert
//!   loop, page-read loop and point read over the same objects.
//! - `federation-costs`: what each step of an exchange between two nodes costs per
//!   object, in process (`scripts/bench-federation.sh`).
//!
//! Results are `key value` lines on stdout, for the script to read. Credentials come
//! from the environment variable `TAXII_AUTHORIZATION` (the whole header value,
//! `Bearer …` or `Basic …`), never from the command line.

mod federation;
mod generate;
mod raw;

use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};
use serde::Deserialize;
use serde::de::IgnoredAny;

const TAXII: &str = "application/taxii+json;version=2.1";

#[derive(Debug, Parser)]
#[command(
    name = "taxii-bench",
    about = "Benchmark tools for scripts/bench-taxii.sh"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// Where the collection is: `ROOT/collections/COLLECTION/`.
#[derive(Debug, clap::Args)]
struct Target {
    /// The API root's URL, such as http://127.0.0.1:8080/api; several, comma-separated,
    /// for several processes serving one node: requests take them in turn.
    #[arg(long, value_delimiter = ',', required = true)]
    root: Vec<String>,
    /// The collection's id.
    #[arg(long)]
    collection: String,
}

impl Target {
    /// The objects URL on the `turn`-th root (round robin).
    fn objects_url(&self, turn: u64) -> String {
        format!(
            "{}/collections/{}/objects/",
            self.root[(turn % self.root.len() as u64) as usize],
            self.collection
        )
    }
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Write a bundle of generated objects to a file (`-`: stdout).
    Bundle {
        #[arg(long)]
        out: PathBuf,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// The first object's number.
        #[arg(long, default_value_t = 0)]
        start: u64,
        /// Stop after this many objects…
        #[arg(long, required_unless_present = "bytes")]
        count: Option<u64>,
        /// …or after the object that makes the file reach this many bytes.
        #[arg(long)]
        bytes: Option<u64>,
    },
    /// Post objects [0, N) of the seed in envelopes, from concurrent clients.
    Ingest {
        #[command(flatten)]
        target: Target,
        #[arg(long)]
        objects: u64,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        #[arg(long, default_value_t = 1000)]
        envelope: u64,
        #[arg(long, default_value_t = 2)]
        concurrency: usize,
    },
    /// Read every object (latest versions) page by page.
    Page {
        #[command(flatten)]
        target: Target,
        #[arg(long, default_value_t = 1000)]
        limit: u64,
        /// Walks of the whole collection at once, each following its own `next`
        /// (several consumers reading the node); the rate is their total.
        #[arg(long, default_value_t = 1)]
        readers: u64,
        /// Ask for the next page as soon as this one's `next` has arrived (the
        /// envelope's head), and read the rest of this page meanwhile: a consumer that
        /// overlaps its own reading with the server's.
        #[arg(long)]
        ahead: bool,
    },
    /// Get An Object latency over random ids among objects [0, N) of the seed.
    ById {
        #[command(flatten)]
        target: Target,
        #[arg(long)]
        objects: u64,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        #[arg(long, default_value_t = 2000)]
        samples: u64,
    },
    /// Per-object cost of each step of a federated exchange, objects [0, N) of the seed.
    FederationCosts {
        #[arg(long)]
        objects: u64,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Runs of each step; the median is reported.
        #[arg(long, default_value_t = 3)]
        repeat: usize,
    },
    /// The raw SQLite limit over objects [0, N) of the seed.
    RawSqlite {
        /// The database file to create (removed first).
        #[arg(long)]
        db: PathBuf,
        #[arg(long)]
        objects: u64,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        #[arg(long, default_value_t = 1000)]
        batch: u64,
        #[arg(long, default_value_t = 2000)]
        samples: u64,
    },
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Bundle {
            out,
            seed,
            start,
            count,
            bytes,
        } => bundle(&out, seed, start, count, bytes),
        Command::RawSqlite {
            db,
            objects,
            seed,
            batch,
            samples,
        } => raw::run(&db, objects, seed, batch, samples),
        Command::Ingest {
            target,
            objects,
            seed,
            envelope,
            concurrency,
        } => runtime()?.block_on(ingest(target, objects, seed, envelope, concurrency)),
        Command::Page {
            target,
            limit,
            readers,
            ahead,
        } => runtime()?.block_on(page(target, limit, readers, ahead)),
        Command::FederationCosts {
            objects,
            seed,
            repeat,
        } => runtime()?.block_on(federation::run(objects, seed, repeat)),
        Command::ById {
            target,
            objects,
            seed,
            samples,
        } => runtime()?.block_on(by_id(target, objects, seed, samples)),
    }
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?)
}

fn bundle(
    out: &std::path::Path,
    seed: u64,
    start: u64,
    count: Option<u64>,
    bytes: Option<u64>,
) -> anyhow::Result<()> {
    let file: Box<dyn Write> = if out == std::path::Path::new("-") {
        Box::new(std::io::stdout().lock())
    } else {
        Box::new(std::fs::File::create(out).with_context(|| format!("create {}", out.display()))?)
    };
    let mut w = BufWriter::with_capacity(1 << 20, file);
    let end = count.map_or(u64::MAX, |c| start.saturating_add(c));
    let bytes = bytes.unwrap_or(u64::MAX);
    let head = "{\"type\":\"bundle\",\"id\":\"bundle--0b6a1b34-5a2e-4c8f-9d1e-2f3a4b5c6d7e\",\"objects\":[\n";
    w.write_all(head.as_bytes())?;
    let mut written = head.len() as u64;
    let mut n = start;
    let mut line = String::with_capacity(1024);
    while written < bytes && n < end {
        line.clear();
        if n > start {
            line.push_str(",\n");
        }
        generate::write_object(&mut line, seed, n);
        w.write_all(line.as_bytes())?;
        written += line.len() as u64;
        n += 1;
    }
    w.write_all(b"\n]}\n")?;
    w.flush()?;
    // The counts go to stderr when the bundle itself is on stdout.
    let summary = format!("objects {}\nbytes {}\n", n - start, written + 4);
    if out == std::path::Path::new("-") {
        eprint!("{summary}");
    } else {
        print!("{summary}");
    }
    Ok(())
}

fn authorization() -> anyhow::Result<String> {
    std::env::var("TAXII_AUTHORIZATION")
        .context("set TAXII_AUTHORIZATION to the Authorization header value (Bearer … or Basic …)")
}

/// A keep-alive HTTP client and the Authorization header value.
fn client() -> anyhow::Result<(reqwest::Client, String)> {
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(64)
        .timeout(Duration::from_secs(3600))
        .build()?;
    Ok((http, authorization()?))
}

#[derive(Deserialize)]
struct StatusCounts {
    status: String,
    success_count: u64,
    failure_count: u64,
    pending_count: u64,
}

async fn ingest(
    target: Target,
    objects: u64,
    seed: u64,
    envelope: u64,
    concurrency: usize,
) -> anyhow::Result<()> {
    let (http, auth) = client()?;
    let next = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for client in 0..concurrency {
        let url = target.objects_url(client as u64);
        let (http, auth, next) = (http.clone(), auth.clone(), Arc::clone(&next));
        tasks.push(tokio::spawn(async move {
            let mut stored = 0u64;
            loop {
                let start = next.fetch_add(envelope, Ordering::SeqCst);
                if start >= objects {
                    return anyhow::Ok(stored);
                }
                let end = (start + envelope).min(objects);
                // Generating the body is the client's work, not timed separately: it is
                // a few percent of the server's.
                let body = generate::envelope(seed, start..end);
                let response = http
                    .post(&url)
                    .header("Accept", TAXII)
                    .header("Content-Type", TAXII)
                    .header("Authorization", &auth)
                    .body(body)
                    .send()
                    .await?;
                let code = response.status();
                let text = response.text().await?;
                if code != 202 {
                    bail!(
                        "POST {start}..{end}: HTTP {code}: {}",
                        &text[..text.len().min(500)]
                    );
                }
                let status: StatusCounts = serde_json::from_str(&text)
                    .with_context(|| format!("status of POST {start}..{end}"))?;
                if status.status != "complete"
                    || status.failure_count != 0
                    || status.pending_count != 0
                    || status.success_count != end - start
                {
                    bail!(
                        "POST {start}..{end}: status {}",
                        &text[..text.len().min(500)]
                    );
                }
                stored += end - start;
            }
        }));
    }
    let mut stored = 0;
    for task in tasks {
        stored += task.await??;
    }
    report_rate(stored, started.elapsed());
    Ok(())
}

#[derive(Deserialize)]
struct Envelope {
    #[serde(default)]
    more: bool,
    next: Option<String>,
    #[serde(default)]
    objects: Vec<IgnoredAny>,
}

async fn page(target: Target, limit: u64, readers: u64, ahead: bool) -> anyhow::Result<()> {
    let target = std::sync::Arc::new(target);
    let started = Instant::now();
    let walks: Vec<_> = (0..readers.max(1))
        .map(|_| {
            let target = std::sync::Arc::clone(&target);
            tokio::spawn(async move {
                if ahead {
                    walk_ahead(target, limit).await
                } else {
                    walk(target, limit).await
                }
            })
        })
        .collect();
    let (mut objects, mut pages, mut latencies) = (0u64, 0u64, Vec::new());
    for walk in walks {
        let (o, p, l) = walk.await??;
        objects += o;
        pages += p;
        latencies.extend(l);
    }
    println!("readers {}", readers.max(1));
    println!("pages {pages}");
    report_rate(objects, started.elapsed());
    report_latencies(&mut latencies, "page_");
    Ok(())
}

/// One walk through every page, following `next`: objects, pages, each page's latency.
async fn walk(
    target: std::sync::Arc<Target>,
    limit: u64,
) -> anyhow::Result<(u64, u64, Vec<Duration>)> {
    let (http, auth) = client()?;
    let (mut objects, mut pages) = (0u64, 0u64);
    let mut latencies = Vec::new();
    let mut next: Option<String> = None;
    loop {
        let page_started = Instant::now();
        let response = request_page(&http, &auth, &target, limit, pages, next.as_deref()).await?;
        let code = response.status();
        let bytes = response.bytes().await?;
        latencies.push(page_started.elapsed());
        let envelope = envelope_of(code, &bytes, pages + 1)?;
        objects += envelope.objects.len() as u64;
        pages += 1;
        match (envelope.more, envelope.next) {
            (true, Some(n)) => next = Some(n),
            (true, None) => bail!("page {pages} says more but has no next"),
            (false, _) => break,
        }
    }
    Ok((objects, pages, latencies))
}

/// Sends the GET of one page (`pages` pages read before it, after `next`).
async fn request_page(
    http: &reqwest::Client,
    auth: &str,
    target: &Target,
    limit: u64,
    pages: u64,
    next: Option<&str>,
) -> anyhow::Result<reqwest::Response> {
    let mut request = http
        .get(target.objects_url(pages))
        .header("Accept", TAXII)
        .header("Authorization", auth)
        .query(&[("limit", limit.to_string())]);
    if let Some(next) = next {
        request = request.query(&[("next", next)]);
    }
    Ok(request.send().await?)
}

/// The envelope of page number `page`, whose response had status `code` and body `body`.
fn envelope_of(code: reqwest::StatusCode, body: &[u8], page: u64) -> anyhow::Result<Envelope> {
    if code != 200 {
        bail!(
            "GET page {page}: HTTP {code}: {}",
            String::from_utf8_lossy(&body[..body.len().min(500)])
        );
    }
    Ok(serde_json::from_slice(body)?)
}

/// `more` and `next` from an envelope's head, if the body read so far holds everything
/// before its `objects` (Passerelle writes them first; otherwise the whole page is read
/// before the next is asked for).
fn head_of(body: &[u8]) -> Option<(bool, Option<String>)> {
    let key = b"\"objects\":[";
    let at = body.windows(key.len()).position(|w| w == key)?;
    let mut head = body[..at + key.len()].to_vec();
    head.extend_from_slice(b"]}");
    let envelope: Envelope = serde_json::from_slice(&head).ok()?;
    Some((envelope.more, envelope.next))
}

/// [`walk`], asking for page N+1 as soon as page N's `next` has arrived.
async fn walk_ahead(
    target: std::sync::Arc<Target>,
    limit: u64,
) -> anyhow::Result<(u64, u64, Vec<Duration>)> {
    let (http, auth) = client()?;
    let (mut objects, mut pages) = (0u64, 0u64);
    let mut latencies = Vec::new();
    let mut started = Instant::now();
    let mut response = request_page(&http, &auth, &target, limit, 0, None).await?;
    loop {
        let code = response.status();
        let mut body = Vec::new();
        let mut following = None;
        while let Some(chunk) = response.chunk().await? {
            body.extend_from_slice(&chunk);
            if following.is_none()
                && code == 200
                && let Some((true, Some(next))) = head_of(&body)
            {
                let (http, auth, target) = (http.clone(), auth.clone(), target.clone());
                following = Some(tokio::spawn(async move {
                    let started = Instant::now();
                    let response =
                        request_page(&http, &auth, &target, limit, pages + 1, Some(&next)).await;
                    (started, response)
                }));
            }
        }
        latencies.push(started.elapsed());
        let envelope = envelope_of(code, &body, pages + 1)?;
        objects += envelope.objects.len() as u64;
        pages += 1;
        match (envelope.more, envelope.next, following) {
            (true, Some(_), Some(task)) => {
                let (at, next_response) = task.await?;
                started = at;
                response = next_response?;
            }
            (true, Some(next), None) => {
                started = Instant::now();
                response = request_page(&http, &auth, &target, limit, pages, Some(&next)).await?;
            }
            (true, None, _) => bail!("page {pages} says more but has no next"),
            (false, _, _) => break,
        }
    }
    Ok((objects, pages, latencies))
}

async fn by_id(target: Target, objects: u64, seed: u64, samples: u64) -> anyhow::Result<()> {
    let (http, auth) = client()?;
    if objects == 0 {
        bail!("no objects to read");
    }
    let mut latencies = Vec::with_capacity(samples as usize);
    // The first requests open the connection and warm caches: not measured.
    let warmup = (samples / 20).max(10);
    for i in 0..warmup + samples {
        let n = generate::mix(seed ^ 0xb1d ^ i.wrapping_mul(0x9e37)) % objects;
        let url = format!("{}{}/", target.objects_url(i), generate::id(seed, n));
        let started = Instant::now();
        let response = http
            .get(&url)
            .header("Accept", TAXII)
            .header("Authorization", &auth)
            .send()
            .await?;
        let code = response.status();
        let body = response.bytes().await?;
        let elapsed = started.elapsed();
        if code != 200 {
            bail!(
                "GET {url}: HTTP {code}: {}",
                String::from_utf8_lossy(&body[..body.len().min(300)])
            );
        }
        if i >= warmup {
            latencies.push(elapsed);
        }
    }
    report_latencies(&mut latencies, "");
    Ok(())
}

/// Prints `objects`, `seconds` and `per_second`.
fn report_rate(objects: u64, elapsed: Duration) {
    println!("objects {objects}");
    println!("seconds {:.3}", elapsed.as_secs_f64());
    println!("per_second {:.0}", objects as f64 / elapsed.as_secs_f64());
}

/// Prints `samples`, `p50_ms`, `p99_ms` and `max_ms`, each name after `prefix`.
fn report_latencies(latencies: &mut [Duration], prefix: &str) {
    if latencies.is_empty() {
        return;
    }
    latencies.sort();
    let at = |q: f64| {
        let i = ((latencies.len() as f64 * q).ceil() as usize).clamp(1, latencies.len()) - 1;
        latencies[i].as_secs_f64() * 1000.0
    };
    println!("{prefix}samples {}", latencies.len());
    println!("{prefix}p50_ms {:.3}", at(0.50));
    println!("{prefix}p99_ms {:.3}", at(0.99));
    println!("{prefix}max_ms {:.3}", at(1.0));
}
