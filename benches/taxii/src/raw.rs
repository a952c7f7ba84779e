//! The raw limit of this machine for the node's storage work, measured with a bare
//! rusqlite loop over the same generated objects: the least any correct store must
//! do (one WAL file with `synchronous=FULL`, durable batches, the store's own table and
//! indexes: a unique date_added per collection to page by, the latest versions' paging
//! index, the id index with its recent versions found in memory), with no HTTP, no
//! validation, no version bookkeeping.

use std::collections::HashMap;
use std::path::Path;
use std::rc::Rc;
use std::time::{Duration, Instant};

use rusqlite::types::Value;
use rusqlite::{Connection, params};

use store::sqlite::{id_hash, recent_limit};

use crate::generate;

// The store's own object table and indexes (crates/store/migrations 0001, 0002, 0005,
// 0006, 0007): the limit is measured for the same rows, column order and index
// maintenance, or the ratios compare different work.
const SCHEMA: &str = "
CREATE TABLE objects (
    seq INTEGER PRIMARY KEY,
    collection INTEGER NOT NULL,
    date_added INTEGER NOT NULL,
    is_latest INTEGER NOT NULL,
    bytes BLOB NOT NULL,
    id TEXT NOT NULL,
    id_hash INTEGER NOT NULL,
    version TEXT NOT NULL
);
CREATE UNIQUE INDEX objects_by_date_added ON objects(collection, date_added);
CREATE INDEX objects_latest_by_date_added ON objects(collection, date_added) WHERE is_latest = 1;
CREATE TABLE object_ids (collection INTEGER NOT NULL, id_hash INTEGER NOT NULL,
    seq INTEGER NOT NULL, PRIMARY KEY (collection, id_hash, seq)) WITHOUT ROWID;
";

/// Runs the three loops and prints their figures with `raw_` prefixes.
pub fn run(db: &Path, objects: u64, seed: u64, batch: u64, samples: u64) -> anyhow::Result<()> {
    for suffix in ["", "-wal", "-shm"] {
        let mut name = db.as_os_str().to_owned();
        name.push(suffix);
        let _ = std::fs::remove_file(&name);
    }
    let mut conn = Connection::open(db)?;
    // The store's own settings (crates/store/src/sqlite/mod.rs): the limit must be
    // measured with the same page size and caches, or the ratios flatter the store.
    conn.pragma_update(None, "page_size", 65536)?;
    conn.pragma_update(None, "cache_size", -(64 * 1024))?;
    conn.pragma_update(None, "mmap_size", 1i64 << 31)?;
    conn.pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get::<_, String>(0))?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.execute_batch(SCHEMA)?;
    rusqlite::vtab::array::load_module(&conn)?;

    // Insert: transactions of `batch` objects, like envelopes of that size; each new
    // version kept in a map in memory until enough are past the watermark, then listed
    // in the id index in one sorted pass, as the store does
    // (crates/store/src/sqlite/object_ids.rs).
    let started = Instant::now();
    let mut recent: HashMap<i64, Vec<i64>> = HashMap::new();
    let mut pending = 0;
    let mut merged = 0i64;
    let mut text = String::with_capacity(1024);
    let mut n = 0;
    while n < objects {
        let end = (n + batch).min(objects);
        let tx = conn.transaction()?;
        {
            let mut insert = tx.prepare_cached(
                "INSERT INTO objects (collection, id, id_hash, version, date_added, is_latest, bytes) \
                 VALUES (1, ?1, ?2, ?3, ?4, 1, ?5)",
            )?;
            for i in n..end {
                text.clear();
                generate::write_object(&mut text, seed, i);
                // The version is the object's `modified`, which the generator puts at a
                // fixed place; finding it is part of the work.
                let version = text
                    .split_once("\"modified\":\"")
                    .and_then(|(_, rest)| rest.split_once('"'))
                    .map_or("", |(v, _)| v);
                let id = generate::id(seed, i);
                let hash = id_hash(&id);
                insert.execute(params![id, hash, version, i as i64, text.as_bytes()])?;
                recent.entry(hash).or_default().push(tx.last_insert_rowid());
            }
        }
        pending += (end - n) as i64;
        if pending >= recent_limit(end as i64) {
            tx.execute(
                "INSERT INTO object_ids SELECT collection, id_hash, seq FROM objects NOT INDEXED \
                 WHERE seq > ?1 ORDER BY 1, 2, 3",
                [merged],
            )?;
            merged = tx.query_row("SELECT max(seq) FROM objects", [], |row| row.get(0))?;
            recent.clear();
            pending = 0;
        }
        tx.commit()?;
        n = end;
    }
    rate("raw_insert", objects, started.elapsed());

    // Page reads: keyset pages of `batch` objects, spliced into one envelope buffer each.
    let started = Instant::now();
    let mut read = 0u64;
    let mut last = -1i64;
    let mut page = Vec::with_capacity(1 << 20);
    {
        let mut select = conn.prepare(
            "SELECT date_added, bytes FROM objects WHERE collection = 1 AND date_added > ?1 ORDER BY date_added LIMIT ?2",
        )?;
        loop {
            page.clear();
            page.extend_from_slice(b"{\"more\":true,\"objects\":[");
            let mut rows = select.query(params![last, batch as i64])?;
            let mut count = 0;
            while let Some(row) = rows.next()? {
                if count > 0 {
                    page.push(b',');
                }
                last = row.get(0)?;
                page.extend_from_slice(row.get_ref(1)?.as_blob()?);
                count += 1;
            }
            page.extend_from_slice(b"]}");
            read += count;
            if count < batch {
                break;
            }
        }
    }
    rate("raw_page", read, started.elapsed());

    // Point reads: the latest version of a random id.
    let mut latencies = Vec::with_capacity(samples as usize);
    {
        let mut select = conn.prepare(
            "SELECT bytes FROM (SELECT seq FROM object_ids WHERE collection = 1 AND id_hash = ?1 \
             UNION ALL SELECT value FROM rarray(?3)) \
             AS ids CROSS JOIN objects NOT INDEXED ON objects.seq = ids.seq \
             WHERE objects.collection = 1 AND objects.id = ?2 AND is_latest = 1",
        )?;
        for i in 0..samples {
            let n = generate::mix(seed ^ 0xb1d ^ i.wrapping_mul(0x9e37)) % objects.max(1);
            let id = generate::id(seed, n);
            let started = Instant::now();
            let hash = id_hash(&id);
            let rows: Rc<Vec<Value>> = Rc::new(
                recent
                    .get(&hash)
                    .map(|rows| rows.iter().map(|&row| Value::Integer(row)).collect())
                    .unwrap_or_default(),
            );
            let bytes: Vec<u8> = select.query_row(params![hash, id, rows], |row| row.get(0))?;
            latencies.push(started.elapsed());
            anyhow::ensure!(!bytes.is_empty(), "no bytes for {id}");
        }
    }
    latencies.sort();
    let at = |q: f64| -> Duration {
        let i = ((latencies.len() as f64 * q).ceil() as usize).clamp(1, latencies.len().max(1)) - 1;
        latencies.get(i).copied().unwrap_or_default()
    };
    println!("raw_by_id_p50_ms {:.4}", at(0.50).as_secs_f64() * 1000.0);
    println!("raw_by_id_p99_ms {:.4}", at(0.99).as_secs_f64() * 1000.0);
    Ok(())
}

fn rate(name: &str, objects: u64, elapsed: Duration) {
    println!("{name}_objects {objects}");
    println!("{name}_seconds {:.3}", elapsed.as_secs_f64());
    println!(
        "{name}_per_second {:.0}",
        objects as f64 / elapsed.as_secs_f64()
    );
}
