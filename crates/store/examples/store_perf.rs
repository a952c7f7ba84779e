//! Engineers' measuring tool for the store's data path (not part of the test command).
//!
//! ```text
//! cargo run --release -p store --example store_perf -- raw   BUNDLE   # bare rusqlite limit
//! cargo run --release -p store --example store_perf -- store BUNDLE   # SqliteStore add + page
//! cargo run --release -p store --example store_perf -- fill  DIR N    # N synthetic objects into DIR
//! cargo run --release -p store --example store_perf -- scale DIR N TAIL # N random-id objects, TAIL timed
//! ```
//!
//! `raw` is the machine's limit the issue compares against: the same objects inserted
//! with a bare rusqlite loop (1,000 per transaction, WAL, synchronous=FULL) and read
//! back with a bare keyset page loop into one buffer.

use std::sync::Arc;
use std::time::Instant;

use rusqlite::{Connection, params};
use stix::bundle::ObjectReader;
use store::{NewCollection, NewObject, ObjectQuery, Provenance, SqliteStore, Store, SystemClock};
use uuid::Uuid;

const BATCH: usize = 1000;
const PAGE: usize = 1000;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        ["raw", bundle] => raw(bundle),
        ["store", bundle] => store_level(bundle),
        ["fill", dir, n] => fill(dir, n.parse()?),
        ["scale", dir, n, tail] => scale(dir, n.parse()?, tail.parse()?),
        ["sizes", dir] => sizes(dir),
        _ => Err(
            "usage: store_perf raw BUNDLE | store BUNDLE | fill DIR N | scale DIR N TAIL".into(),
        ),
    }
}

fn read_objects(path: &str) -> Result<Vec<Vec<u8>>, Box<dyn std::error::Error>> {
    let file = std::fs::File::open(path)?;
    let mut reader = ObjectReader::new(std::io::BufReader::new(file));
    let mut out = Vec::new();
    while let Some(raw) = reader.next_object()? {
        out.push(raw.bytes.to_vec());
    }
    Ok(out)
}

/// CPU seconds this process used so far (user + system, all threads), from /proc.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command name (which may hold spaces) start at `) `.
    let rest = stat.rsplit(") ").next().unwrap_or_default();
    let fields: Vec<&str> = rest.split(' ').collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    // utime and stime are fields 14 and 15 of the whole line, 11 and 12 here; 100 Hz.
    (ticks(11) + ticks(12)) / 100.0
}

struct Timer(Instant, f64);

fn timer() -> Timer {
    Timer(Instant::now(), cpu_seconds())
}

fn rate(n: usize, start: Timer) -> String {
    let s = start.0.elapsed().as_secs_f64();
    let cpu = cpu_seconds() - start.1;
    format!(
        "{n} objects in {s:.3} s ({cpu:.2} s CPU) = {:.0} objects/s, {:.0} per CPU second",
        n as f64 / s,
        n as f64 / cpu.max(0.01)
    )
}

/// The bare limit: one table, the bytes and the columns a lookup needs, WAL + FULL.
fn raw(bundle: &str) -> Result<(), Box<dyn std::error::Error>> {
    let objects = read_objects(bundle)?;
    let bytes: usize = objects.iter().map(Vec::len).sum();
    println!("{} objects, {} MB", objects.len(), bytes >> 20);
    let ids: Vec<String> = objects
        .iter()
        .map(|o| {
            let v = stix::json::parse(o).ok();
            v.and_then(|v| v.get("id").and_then(|i| i.as_str()).map(str::to_owned))
                .unwrap_or_default()
        })
        .collect();
    let dir = tempfile::tempdir()?;
    let mut conn = Connection::open(dir.path().join("raw.db"))?;
    // Knobs for trying settings: PRAGMA name=value pairs, `;`-separated.
    if let Ok(pragmas) = std::env::var("RAW_PRAGMAS") {
        conn.execute_batch(&pragmas)?;
    }
    conn.pragma_update_and_check(None, "journal_mode", "WAL", |_| Ok(()))?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.execute_batch(
        "CREATE TABLE t (seq INTEGER PRIMARY KEY, id TEXT NOT NULL, date_added INTEGER NOT NULL, bytes BLOB NOT NULL);
         CREATE UNIQUE INDEX t_id ON t(id, date_added);",
    )?;
    let start = timer();
    let mut added = 0i64;
    for (chunk, chunk_ids) in objects.chunks(BATCH).zip(ids.chunks(BATCH)) {
        let tx = conn.transaction()?;
        {
            let mut insert =
                tx.prepare_cached("INSERT INTO t (id, date_added, bytes) VALUES (?1, ?2, ?3)")?;
            for (object, id) in chunk.iter().zip(chunk_ids) {
                added += 1;
                insert.execute(params![id, added, object])?;
            }
        }
        tx.commit()?;
    }
    println!("raw insert: {}", rate(objects.len(), start));
    for _ in 0..3 {
        let start = timer();
        let mut n = 0;
        let mut after = 0i64;
        let mut out = Vec::with_capacity(4 << 20);
        loop {
            out.clear();
            let mut stmt = conn
                .prepare_cached("SELECT seq, bytes FROM t WHERE seq > ?1 ORDER BY seq LIMIT ?2")?;
            let mut rows = stmt.query(params![after, PAGE as i64])?;
            let mut got = 0;
            while let Some(row) = rows.next()? {
                after = row.get(0)?;
                let b = row.get_ref(1)?.as_blob()?;
                out.extend_from_slice(b);
                out.push(b',');
                got += 1;
            }
            n += got;
            if got < PAGE {
                break;
            }
        }
        println!("raw page read: {}", rate(n, start));
    }
    Ok(())
}

fn runtime() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
}

fn new_objects(objects: &[Vec<u8>]) -> Vec<NewObject> {
    objects
        .iter()
        .filter_map(|o| {
            let v = stix::json::parse(o).ok()?;
            NewObject::from_object(o.clone(), v.as_object()?).ok()
        })
        .collect()
}

/// The store alone: batches of already-built `NewObject`s, then default paging.
fn store_level(bundle: &str) -> Result<(), Box<dyn std::error::Error>> {
    let objects = read_objects(bundle)?;
    let start = timer();
    let news = new_objects(&objects);
    println!("parse + from_object: {}", rate(news.len(), start));
    let dir = tempfile::tempdir()?;
    runtime()?.block_on(async {
        let store = SqliteStore::open(dir.path(), Arc::new(SystemClock))?;
        let collection = Uuid::new_v4();
        store
            .create_collection(NewCollection {
                id: collection,
                title: "perf".into(),
                description: None,
                alias: None,
            })
            .await?;
        let provenance = Provenance::Import {
            source: "perf".into(),
        };
        let n = news.len();
        let batches: Vec<Vec<NewObject>> = news.chunks(BATCH).map(<[_]>::to_vec).collect();
        let start = timer();
        for batch in batches {
            store.add_objects(collection, &provenance, batch).await?;
        }
        println!("store add_objects: {}", rate(n, start));
        let passes: usize = std::env::var("PASSES")
            .ok()
            .and_then(|p| p.parse().ok())
            .unwrap_or(3);
        for _ in 0..passes {
            let start = timer();
            let mut query = ObjectQuery {
                limit: PAGE,
                ..ObjectQuery::default()
            };
            let mut n = 0;
            loop {
                let page = store.objects(collection, &query).await?;
                n += page.records.len();
                match page.next {
                    Some(next) => query.next = Some(next),
                    None => break,
                }
            }
            println!("store paging: {}", rate(n, start));
        }
        Ok::<_, Box<dyn std::error::Error>>(())
    })
}

/// `n` synthetic indicators (about 600 bytes each) into the store in `dir`, for the
/// by-id latency measurement; prints the collection id.
fn fill(dir: &str, n: usize) -> Result<(), Box<dyn std::error::Error>> {
    runtime()?.block_on(async {
        let store = SqliteStore::open(std::path::Path::new(dir), Arc::new(SystemClock))?;
        let collection = Uuid::new_v4();
        store
            .create_collection(NewCollection {
                id: collection,
                title: "perf".into(),
                description: None,
                alias: Some("perf".into()),
            })
            .await?;
        let provenance = Provenance::Import {
            source: "fill".into(),
        };
        let start = timer();
        let mut done = 0;
        while done < n {
            let batch: Vec<NewObject> = (done..n.min(done + 10_000))
                .map(synthetic)
                .collect::<Result<_, _>>()?;
            done += batch.len();
            store.add_objects(collection, &provenance, batch).await?;
        }
        println!("filled: {}", rate(n, start));
        println!("collection {collection}");
        Ok(())
    })
}

/// `n` synthetic objects with random-looking ids (as real UUIDv4 ids are, so the id
/// index grows by random inserts), batches of 1,000; times the last `tail` objects.
fn scale(dir: &str, n: usize, tail: usize) -> Result<(), Box<dyn std::error::Error>> {
    runtime()?.block_on(async {
        let store = SqliteStore::open(std::path::Path::new(dir), Arc::new(SystemClock))?;
        let collection = Uuid::new_v4();
        store
            .create_collection(NewCollection {
                id: collection,
                title: "scale".into(),
                description: None,
                alias: None,
            })
            .await?;
        let provenance = Provenance::Import {
            source: "scale".into(),
        };
        let mut start = timer();
        let mut done = 0;
        while done < n {
            if done == n.saturating_sub(tail) {
                println!("stored before the timed tail: {}", rate(done, start));
                start = timer();
            }
            let batch: Vec<NewObject> = (done..n.min(done + 1_000))
                .map(|i| synthetic_with_id(i, &scattered_id(i)))
                .collect::<Result<_, _>>()?;
            done += batch.len();
            store.add_objects(collection, &provenance, batch).await?;
        }
        println!(
            "last {tail} of {n} (random ids, batches of 1,000): {}",
            rate(tail.min(n), start)
        );
        Ok(())
    })
}

/// Pages of each table and index of the store in `dir` (SQLite's dbstat).
fn sizes(dir: &str) -> Result<(), Box<dyn std::error::Error>> {
    let path = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| p.extension().is_some_and(|x| x == "sqlite" || x == "db"))
        .ok_or("no database file")?;
    let conn = rusqlite::Connection::open(path)?;
    let mut stmt = conn.prepare(
        "SELECT name, count(*), sum(pgsize), sum(payload) FROM dbstat GROUP BY name ORDER BY 3 DESC",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, i64>(1)?,
            r.get::<_, i64>(2)?,
            r.get::<_, i64>(3)?,
        ))
    })?;
    for row in rows {
        let (name, pages, bytes, payload) = row?;
        println!(
            "{name:32} {pages:>9} pages {:>8.1} MB  payload {:>8.1} MB",
            bytes as f64 / 1e6,
            payload as f64 / 1e6
        );
    }
    Ok(())
}

/// A random-looking but reproducible UUID-shaped id for object `i` (splitmix64).
fn scattered_id(i: usize) -> String {
    let mix = |mut z: u64| {
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    };
    let a = mix((i as u64).wrapping_add(0x9e37_79b9_7f4a_7c15));
    let b = mix(a);
    let mut bytes = [0u8; 16];
    bytes[..8].copy_from_slice(&a.to_be_bytes());
    bytes[8..].copy_from_slice(&b.to_be_bytes());
    let u = uuid::Builder::from_random_bytes(bytes).into_uuid();
    format!("indicator--{u}")
}

/// The id of synthetic object `i`, so a reader can pick ids at random.
pub fn synthetic_id(i: usize) -> String {
    format!("indicator--{:08x}-0000-4000-8000-{:012x}", i >> 16, i)
}

fn synthetic(i: usize) -> Result<NewObject, Box<dyn std::error::Error>> {
    synthetic_with_id(i, &synthetic_id(i))
}

fn synthetic_with_id(i: usize, id: &str) -> Result<NewObject, Box<dyn std::error::Error>> {
    let text = format!(
        r#"{{"type":"indicator","spec_version":"2.1","id":"{}","created":"2024-01-01T00:00:00.000Z","modified":"2024-01-01T00:00:00.000Z","name":"Synthetic indicator {i}","description":"A synthetic indicator made for the by-id latency measurement; its text is about as long as a typical ATT&CK object's description would be in a real feed.","indicator_types":["malicious-activity"],"pattern":"[ipv4-addr:value = '10.{}.{}.{}']","pattern_type":"stix","valid_from":"2024-01-01T00:00:00Z","labels":["perf"]}}"#,
        id,
        (i >> 16) & 255,
        (i >> 8) & 255,
        i & 255
    );
    let value = stix::json::parse(text.as_bytes())?;
    let map = value.as_object().ok_or("not an object")?;
    Ok(NewObject::from_object(text.as_bytes().to_vec(), map)?)
}
