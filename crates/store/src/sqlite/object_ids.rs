//! How an object's versions are found by id: `object_ids`, a table of (collection,
//! hash of the id, row) that lists every version up to a watermark, and [`RecentIds`],
//! a map each process keeps in memory of the versions stored after it.
//!
//! Why not one index: ids are random UUIDs, so a batch of new objects lands on pages
//! all over an id index, and a commit writes every page it changed. With 64 KiB pages
//! and a million objects, a batch of 1,000 rewrote nearly the whole index: 14 KB
//! written per object of 700 bytes, growing with the collection. So new versions are
//! not listed one by one: once [`recent_limit`] of them are past the watermark, they
//! are listed in `object_ids` in one sorted pass (which changes each of its pages once
//! for tens of thousands of objects) and the watermark moves.
//!
//! Why the recent versions are in memory and not in a second table (as schema 5 had
//! them): a row already holds its collection and id hash, and the versions after the
//! watermark are a range of row numbers, so the map is rebuilt from the rows whenever
//! it may be stale and nothing is written per version to keep it. The table cost an
//! insert per version and rewrote its pages at every batch: up to 40 % of ingest's
//! rate at a million objects (`BENCHMARKS.md`).
//!
//! When the map is stale: `id_index.version` counts the writes that stored objects or
//! moved the watermark, in this process or another (CLI commands write beside a
//! running node). The writer makes the map true for its transaction and counts its
//! write before it stores anything ([`RecentIds::writing`]); a reader uses the map when
//! it reflects the reader's snapshot or a later one (a later map only holds more rows,
//! and rows a snapshot cannot see are never found) and rebuilds it when another process
//! wrote since ([`RecentIds::rows`]). A rolled-back write leaves entries for rows that
//! do not exist, and whose numbers the next rows may take: the map is dropped before
//! the rollback ([`RecentIds::invalidate`]). Entries for deleted versions stay until
//! the next merge: a lookup confirms every row by collection and id, so a stale entry
//! costs a row read, never a wrong answer (the hash, likewise, only narrows).

use std::collections::hash_map::Entry;
use std::rc::Rc;
use std::sync::{Mutex, MutexGuard, PoisonError};

use rusqlite::types::Value;
use rusqlite::vtab::array::Array;
use rusqlite::{Connection, params};
use rustc_hash::FxHashMap;

use crate::error::Result;

/// The condition, on `objects`, that picks the rows of one object (for updates and
/// deletes; reads use [`one_id_rows!`]): `?1` the collection's row number, `?2` the
/// id's hash ([`super::objects::id_hash`]), `?3` the id, `?4` the recent rows of that
/// hash ([`RecentIds`], an `rarray`). `NOT INDEXED` before it keeps SQLite on these rows
/// (`seq` is the row id, so the lookup needs no index) instead of walking a
/// collection's index for one id.
macro_rules! one_id {
    () => {
        "seq IN (SELECT seq FROM object_ids WHERE collection = ?1 AND id_hash = ?2 \
         UNION ALL SELECT value FROM rarray(?4)) AND collection = ?1 AND id = ?3"
    };
}
pub(super) use one_id;

/// The rows of one object, for reading: [`one_id!`] as a join, which SQLite runs as
/// one lookup in `object_ids` and one pass over the recent rows, each followed by the
/// row; `IN (subquery)` would build a temporary list (an allocated b-tree) at every
/// execution, and the insert path reads an id's versions once per object. Select
/// `objects`' columns by name, then add conditions with `AND`. Same parameters as
/// [`one_id!`].
macro_rules! one_id_rows {
    () => {
        "(SELECT seq FROM object_ids WHERE collection = ?1 AND id_hash = ?2 \
         UNION ALL SELECT value FROM rarray(?4)) \
         AS ids CROSS JOIN objects NOT INDEXED ON objects.seq = ids.seq \
         WHERE objects.collection = ?1 AND objects.id = ?3"
    };
}
pub(super) use one_id_rows;

/// The condition for rows of any of several ids, with `n` placeholders for hashes,
/// then one for their recent rows (an `rarray`), then `n` for the ids; `collection`
/// is written in, like the page queries' (the planner reads it).
pub(super) fn any_of(collection: i64, n: usize) -> String {
    let hashes = super::objects::placeholders(n);
    format!(
        "seq IN (SELECT seq FROM object_ids WHERE collection = {collection} \
         AND id_hash IN ({hashes}) UNION ALL SELECT value FROM rarray(?)) \
         AND id IN ({hashes})"
    )
}

/// Makes `rarray`, which the statements above read the recent rows through, known to
/// `conn`.
pub(super) fn prepare_connection(conn: &Connection) -> Result<()> {
    rusqlite::vtab::array::load_module(conn)?;
    Ok(())
}

/// Forgets the version that was row `row` (listed in `object_ids` if it is at or
/// before the watermark; a recent one's entry in memory is stale from now on).
pub(super) fn remove(tx: &Connection, collection: i64, hash: i64, row: i64) -> Result<()> {
    tx.prepare_cached(
        "DELETE FROM object_ids WHERE collection = ?1 AND id_hash = ?2 AND seq = ?3",
    )?
    .execute(params![collection, hash, row])?;
    Ok(())
}

/// Forgets every entry of the collection with row number `collection`.
pub(super) fn remove_collection(tx: &Connection, collection: i64) -> Result<()> {
    tx.execute("DELETE FROM object_ids WHERE collection = ?1", [collection])?;
    Ok(())
}

/// How many versions may be past the watermark before they are listed, for a store of
/// about `rows` versions. Listing them rewrites about all of `object_ids` (n entries)
/// once per r versions, so each version costs about n/r entries written; nothing is
/// written per version before, so r is bounded by what the map may hold in memory (and
/// by how long rebuilding it takes: a scan of r rows): a quarter of the store, between
/// 65,536 and 131,072 (two generations of entries, about 8 MB of map, and a merge's
/// sorted entries, 3 MB).
pub fn recent_limit(rows: i64) -> i64 {
    (rows.max(0) / 4).clamp(65_536, 131_072)
}

/// Where the durable index stands in one snapshot.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Mark {
    /// Every version whose row number is at most this is listed in `object_ids`.
    merged: i64,
    /// How many writes have stored objects or moved the watermark.
    version: i64,
}

/// The mark of `conn`'s snapshot (of its open transaction, if any).
fn mark(conn: &Connection) -> Result<Mark> {
    Ok(conn
        .prepare_cached("SELECT merged_through, version FROM id_index")?
        .query_row([], |row| {
            Ok(Mark {
                merged: row.get(0)?,
                version: row.get(1)?,
            })
        })?)
}

/// The versions stored after the watermark, by (collection, id hash): one process's
/// map, shared by its connections (module documentation).
#[derive(Default)]
pub struct RecentIds {
    map: Mutex<Option<Recent>>,
}

struct Recent {
    /// The snapshot the map is true for: the writer's open transaction, or the latest
    /// a lookup rebuilt it for.
    mark: Mark,
    /// The map holds every version after this row number: the watermark before the
    /// last merge, so a reader whose snapshot began before that merge still finds its
    /// versions here.
    floor: i64,
    /// How many entries are past `mark.merged`: what the next merge lists.
    pending: i64,
    rows: Listing,
}

/// (collection, id hash).
type Key = (i64, i64);

/// Rows by key, without an allocation per key: most objects have one recent version,
/// kept in `first`; the others go to `more`. (A `Vec` per key cost a quarter-million
/// small allocations per merge interval, and glibc's malloc then spent a tenth of the
/// writer's time sorting freed chunks.) The keys are hashes already: Fx mixes them in
/// two multiplications, where the default SipHash took longer than the lookup.
#[derive(Default)]
struct Listing {
    first: FxHashMap<Key, i64>,
    more: FxHashMap<Key, Vec<i64>>,
}

impl Listing {
    /// Adds `row` under `key`; false if it was there.
    fn add(&mut self, key: Key, row: i64) -> bool {
        match self.first.entry(key) {
            Entry::Vacant(slot) => {
                slot.insert(row);
                true
            }
            Entry::Occupied(slot) if *slot.get() == row => false,
            Entry::Occupied(_) => {
                let more = self.more.entry(key).or_default();
                if more.contains(&row) {
                    false
                } else {
                    more.push(row);
                    true
                }
            }
        }
    }

    fn rows(&self, key: &Key) -> impl Iterator<Item = i64> + '_ {
        let first = self.first.get(key).copied();
        let more = self.more.get(key).into_iter().flatten().copied();
        first.into_iter().chain(more)
    }

    /// Forgets every row numbered `floor` or less.
    fn prune(&mut self, floor: i64) {
        self.more.retain(|_, rows| {
            rows.retain(|&row| row > floor);
            !rows.is_empty()
        });
        let gone: Vec<Key> = self
            .first
            .iter()
            .filter(|&(_, &row)| row <= floor)
            .map(|(&key, _)| key)
            .collect();
        for key in gone {
            let next = self.more.get_mut(&key).and_then(Vec::pop);
            match next {
                Some(row) => {
                    self.first.insert(key, row);
                    if self.more.get(&key).is_some_and(Vec::is_empty) {
                        self.more.remove(&key);
                    }
                }
                None => {
                    self.first.remove(&key);
                }
            }
        }
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.first.len() + self.more.values().map(Vec::len).sum::<usize>()
    }
}

/// Calls `f` with (collection, id hash, row) of every version whose row number is
/// after `after`: a range of row ids, walked in order.
fn each_row_after(conn: &Connection, after: i64, mut f: impl FnMut(i64, i64, i64)) -> Result<()> {
    let mut stmt = conn.prepare_cached(
        "SELECT collection, id_hash, seq FROM objects NOT INDEXED WHERE seq > ?1",
    )?;
    let mut rows = stmt.query([after])?;
    while let Some(row) = rows.next()? {
        f(row.get(0)?, row.get(1)?, row.get(2)?);
    }
    Ok(())
}

impl Recent {
    /// The map of `conn`'s snapshot, whose mark is `mark`: its rows after the watermark.
    fn build(conn: &Connection, mark: Mark) -> Result<Recent> {
        let mut recent = Recent {
            mark,
            floor: mark.merged,
            pending: 0,
            rows: Listing::default(),
        };
        each_row_after(conn, mark.merged, |collection, hash, row| {
            recent.add(collection, hash, row)
        })?;
        tracing::debug!(versions = recent.pending, "rebuilt the recent id map");
        Ok(recent)
    }

    fn add(&mut self, collection: i64, hash: i64, row: i64) {
        if self.rows.add((collection, hash), row) {
            self.pending += 1;
        }
    }

    /// The rows listed for `keys` after row number `after`, appended to `out`.
    fn collect(&self, keys: &[(i64, i64)], after: i64, out: &mut Vec<Value>) {
        for key in keys {
            out.extend(
                self.rows
                    .rows(key)
                    .filter(|&row| row > after)
                    .map(Value::Integer),
            );
        }
    }
}

impl RecentIds {
    fn lock(&self) -> MutexGuard<'_, Option<Recent>> {
        self.map.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Drops the map; the next lookup rebuilds it. Called before a write transaction
    /// that may have added entries is rolled back, while it still holds the write lock
    /// (no other process can store rows until then).
    pub(super) fn invalidate(&self) {
        *self.lock() = None;
    }

    /// The recent rows of the objects `keys` (collection, id hash) as `conn`'s snapshot
    /// sees them, for a read: `conn` must be inside the transaction the query using
    /// them runs in, or a merge committed in between could list a row twice.
    pub(super) fn rows(&self, conn: &Connection, keys: &[(i64, i64)]) -> Result<Array> {
        let snapshot = mark(conn)?;
        let mut out = Vec::new();
        let mut map = self.lock();
        if map
            .as_ref()
            .is_none_or(|m| m.mark.version < snapshot.version)
        {
            *map = Some(Recent::build(conn, snapshot)?);
        }
        match map.as_ref() {
            Some(recent) if recent.floor <= snapshot.merged => {
                recent.collect(keys, snapshot.merged, &mut out);
            }
            _ => {
                // A snapshot older than two merges: its versions are read from the rows.
                drop(map);
                let mut stmt = conn.prepare_cached(
                    "SELECT seq FROM objects NOT INDEXED \
                     WHERE seq > ?1 AND collection = ?2 AND id_hash = ?3",
                )?;
                for &(collection, hash) in keys {
                    let rows = stmt
                        .query_map(params![snapshot.merged, collection, hash], |row| {
                            row.get::<_, i64>(0)
                        })?;
                    for row in rows {
                        out.push(Value::Integer(row?));
                    }
                }
            }
        }
        Ok(Rc::new(out))
    }

    /// Makes the map true for the writer's open transaction `tx` and counts this write
    /// in it; then the writer finds, lists and merges through the returned handle.
    pub(super) fn writing<'a>(&'a self, tx: &Connection) -> Result<Writing<'a>> {
        let snapshot = mark(tx)?;
        let mut map = self.lock();
        if map.as_ref().is_none_or(|m| m.mark != snapshot) {
            *map = Some(Recent::build(tx, snapshot)?);
        }
        tx.prepare_cached("UPDATE id_index SET version = version + 1")?
            .execute([])?;
        if let Some(recent) = map.as_mut() {
            recent.mark.version += 1;
        }
        // Rows are numbered past the watermark even when the last rows were deleted:
        // SQLite would number the next row after the last one left, at or before it.
        let next: i64 = tx
            .prepare_cached("SELECT max(coalesce((SELECT max(seq) FROM objects), 0), ?1) + 1")?
            .query_row([snapshot.merged], |row| row.get(0))?;
        Ok(Writing {
            ids: self,
            next: std::cell::Cell::new(next),
        })
    }
}

/// The writer's use of [`RecentIds`] inside one transaction ([`RecentIds::writing`]).
pub(super) struct Writing<'a> {
    ids: &'a RecentIds,
    /// The row number the next version stored takes.
    next: std::cell::Cell<i64>,
}

impl Writing<'_> {
    /// The row number for the next version stored; each call takes a new one.
    pub(super) fn next_row(&self) -> i64 {
        let row = self.next.get();
        self.next.set(row + 1);
        row
    }

    /// The recent rows of object (`collection`, `hash`), appended to `out` (no
    /// allocation when there are none, as for nearly every new object).
    pub(super) fn rows_into(&self, collection: i64, hash: i64, out: &mut Vec<Value>) {
        if let Some(recent) = self.ids.lock().as_ref() {
            recent.collect(&[(collection, hash)], recent.mark.merged, out);
        }
    }

    /// Lists the version just stored as row `row`.
    pub(super) fn add(&self, collection: i64, hash: i64, row: i64) {
        if let Some(recent) = self.ids.lock().as_mut() {
            recent.add(collection, hash, row);
        }
    }

    /// Lists the versions past the watermark in `object_ids` if there are
    /// [`recent_limit`] of them. Returns how many were listed.
    pub(super) fn merge_if_due(&self, tx: &Connection) -> Result<u64> {
        let pending = self.ids.lock().as_ref().map_or(0, |r| r.pending);
        // The store's size, as `recent_limit` wants it: the rows numbered so far.
        if pending < recent_limit(self.next.get() - 1) {
            return Ok(0);
        }
        self.merge(tx)
    }

    /// Lists every version past the watermark in `object_ids`, in key order (one pass
    /// over its pages), and moves the watermark to the last row.
    pub(super) fn merge(&self, tx: &Connection) -> Result<u64> {
        let mut map = self.ids.lock();
        let Some(recent) = map.as_mut() else {
            return Ok(0);
        };
        let before = recent.mark.merged;
        // Read from the rows, which are the truth (the map may hold stale entries of
        // deleted versions), and sorted here: SQLite's sorter may take as much memory
        // as the page cache (64 MiB) for a merge, and compares encoded records.
        let mut entries: Vec<(i64, i64, i64)> = Vec::with_capacity(recent.pending.max(0) as usize);
        each_row_after(tx, before, |collection, hash, row| {
            entries.push((collection, hash, row))
        })?;
        entries.sort_unstable();
        let mut list = tx.prepare_cached(
            "INSERT INTO object_ids (collection, id_hash, seq) VALUES (?1, ?2, ?3)",
        )?;
        for &(collection, hash, row) in &entries {
            list.execute(params![collection, hash, row])?;
        }
        let listed = entries.len();
        let merged: i64 = tx.query_row(
            "UPDATE id_index SET version = version + 1, merged_through = \
               max(?1, coalesce((SELECT max(seq) FROM objects), ?1)) \
             RETURNING merged_through",
            [before],
            |row| row.get(0),
        )?;
        // One generation is kept: readers whose snapshot began before this merge
        // commits still look for these versions in the map.
        recent.rows.prune(recent.floor);
        recent.floor = before;
        recent.mark = Mark {
            merged,
            version: recent.mark.version + 1,
        };
        recent.pending = 0;
        tracing::debug!(listed, merged, "listed recent versions in the id index");
        Ok(listed as u64)
    }
}

/// What breaks the invariant (every version up to the watermark listed exactly once,
/// none after it, every entry naming a stored version by its collection and hash), for
/// the integrity check.
pub(super) fn problems(conn: &Connection) -> Result<Vec<String>> {
    let checks = [
        (
            "versions missing from the id index",
            "SELECT count(*) FROM objects o WHERE o.seq <= (SELECT merged_through FROM id_index) \
             AND NOT EXISTS (SELECT 1 FROM object_ids i \
             WHERE i.collection = o.collection AND i.id_hash = o.id_hash AND i.seq = o.seq)",
        ),
        (
            "id index entries naming no stored version",
            "SELECT count(*) FROM object_ids i \
             WHERE NOT EXISTS (SELECT 1 FROM objects o WHERE o.seq = i.seq \
             AND o.collection = i.collection AND o.id_hash = i.id_hash)",
        ),
        (
            "id index entries past its watermark",
            "SELECT count(*) FROM object_ids WHERE seq > (SELECT merged_through FROM id_index)",
        ),
    ];
    let mut problems = Vec::new();
    for (what, sql) in checks {
        let n: i64 = conn.query_row(sql, [], |row| row.get(0))?;
        if n > 0 {
            problems.push(format!("{n} {what}"));
        }
    }
    Ok(problems)
}

#[cfg(test)]
mod tests {
    use super::*;

    use std::sync::Arc;

    use uuid::Uuid;

    use super::super::SqliteStore;
    use super::super::testing::{indicator, store_with_collection};
    use crate::Store;
    use crate::object::{AddOutcome, Provenance, Version};
    use crate::query::{DeleteFilter, ObjectQuery, VersionMatch};
    use crate::time::SystemClock;

    const ID: &str = "indicator--00000001-0000-4000-8000-000000000000";

    fn import() -> Provenance {
        Provenance::Import {
            source: "test".into(),
        }
    }

    /// Posts version `old` of [`ID`] again with a newer one: the first must be
    /// recognised as stored, the second added.
    async fn posts_again_then_newer(store: &SqliteStore, collection: Uuid, old: &str, new: &str) {
        let outcomes = store
            .add_objects(
                collection,
                &import(),
                vec![indicator(ID, old), indicator(ID, new)],
            )
            .await
            .unwrap();
        assert!(matches!(outcomes[0], AddOutcome::AlreadyPresent { .. }));
        assert!(matches!(outcomes[1], AddOutcome::Added { .. }));
    }

    /// The versions of object `id` that `store` finds by id (a manifest with `match[id]`).
    async fn versions_of(
        store: &SqliteStore,
        collection: Uuid,
        id: &str,
        versions: Vec<VersionMatch>,
    ) -> Vec<String> {
        let query = ObjectQuery {
            ids: vec![id.to_owned()],
            versions,
            ..ObjectQuery::default()
        };
        store
            .manifest(collection, &query)
            .await
            .unwrap()
            .records
            .into_iter()
            .map(|r| r.version.as_str().to_owned())
            .collect()
    }

    /// (entries in `object_ids`, the watermark, the write count).
    fn state(conn: &Connection) -> (i64, i64, i64) {
        conn.query_row(
            "SELECT (SELECT count(*) FROM object_ids), merged_through, version FROM id_index",
            [],
            |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
        )
        .unwrap()
    }

    fn open(path: &std::path::Path) -> Connection {
        let conn = Connection::open(path).unwrap();
        prepare_connection(&conn).unwrap();
        conn
    }

    /// A new database in memory with collection 1.
    fn memory_db() -> Connection {
        let mut conn = Connection::open_in_memory().unwrap();
        prepare_connection(&conn).unwrap();
        super::super::migrate::migrate(&mut conn).unwrap();
        conn.execute(
            "INSERT INTO collections (seq, id, title, created) VALUES (1, 'c', 't', 0)",
            [],
        )
        .unwrap();
        conn
    }

    /// Stores a bare row numbered as the writer numbers them, listed in the map.
    fn store_row(conn: &Connection, ids: &Writing<'_>, hash: i64) -> i64 {
        let row = ids.next_row();
        conn.execute(
            "INSERT INTO objects (seq, collection, id, id_hash, type, spec_version, version, \
               version_text, date_added, revoked, media_type, is_first, is_latest, \
               is_latest_spec, provenance_kind, provenance_name, bytes) \
             VALUES (?1, 1, 'x', ?2, 'indicator', '2.1', 'v', 'v', ?1, 0, 'm', 1, 1, 1, \
               'import', 'x', x'00')",
            params![row, hash],
        )
        .unwrap();
        ids.add(1, hash, row);
        row
    }

    /// What the writer finds in the map for object (`collection`, `hash`).
    fn recent_rows(ids: &Writing<'_>, collection: i64, hash: i64) -> Vec<i64> {
        let mut out = Vec::new();
        ids.rows_into(collection, hash, &mut out);
        rows_of(&out)
    }

    fn rows_of(array: &[Value]) -> Vec<i64> {
        array
            .iter()
            .map(|v| match v {
                Value::Integer(i) => *i,
                other => panic!("{other:?}"),
            })
            .collect()
    }

    /// An object whose versions sit on both sides of the watermark is found whole: a
    /// version listed in `object_ids` is still recognised when posted again, the flags
    /// span both, and deleting a version or the collection leaves no entry behind. The
    /// merge here is made by another connection, as another process would: the store
    /// sees the count move and rebuilds its map.
    #[tokio::test]
    async fn versions_are_found_on_either_side_of_the_watermark() {
        let dir = tempfile::tempdir().unwrap();
        let collection = Uuid::new_v4();
        let store = store_with_collection(dir.path(), Arc::new(SystemClock), collection).await;
        let import = import();
        let old = "2020-01-01T00:00:00.000Z";
        let new = "2021-01-01T00:00:00.000Z";
        let other = "indicator--00000002-0000-4000-8000-000000000000";
        store
            .add_objects(
                collection,
                &import,
                vec![indicator(ID, old), indicator(other, old)],
            )
            .await
            .unwrap();
        let mut raw = open(store.path());
        assert_eq!(state(&raw), (0, 0, 1));
        {
            let tx = raw.transaction().unwrap();
            let outside = RecentIds::default();
            assert_eq!(outside.writing(&tx).unwrap().merge(&tx).unwrap(), 2);
            tx.commit().unwrap();
        }
        assert_eq!(state(&raw), (2, 2, 3));

        posts_again_then_newer(&store, collection, old, new).await;
        assert_eq!(state(&raw).0, 2, "the new version is only in the map");
        let versions = |versions| versions_of(&store, collection, ID, versions);
        assert_eq!(versions(vec![VersionMatch::All]).await, [old, new]);
        assert_eq!(versions(vec![VersionMatch::Last]).await, [new]);
        assert_eq!(versions(vec![VersionMatch::First]).await, [old]);

        let filter = DeleteFilter {
            versions: vec![VersionMatch::At(Version::parse(old).unwrap())],
            spec_versions: vec![],
        };
        assert_eq!(
            store.delete_object(collection, ID, &filter).await.unwrap(),
            1
        );
        assert_eq!(state(&raw).0, 1);
        assert_eq!(versions(vec![VersionMatch::First]).await, [new]);
        assert!(problems(&raw).unwrap().is_empty());
        assert!(store.integrity_check().await.unwrap().problems.is_empty());

        store.delete_collection(collection).await.unwrap();
        assert_eq!(state(&raw).0, 0);
        assert!(problems(&raw).unwrap().is_empty());
    }

    /// Two stores on one file, as a running node and `passerelle import` are: what one
    /// stores, the other finds by id (its map rebuilt when the write count moved) and
    /// recognises when it is posted again, and its own next version is numbered and
    /// listed after the other's.
    #[tokio::test]
    async fn what_another_process_stores_is_found_and_recognised() {
        let dir = tempfile::tempdir().unwrap();
        let collection = Uuid::new_v4();
        let node = store_with_collection(dir.path(), Arc::new(SystemClock), collection).await;
        let import = import();
        let old = "2020-01-01T00:00:00.000Z";
        let new = "2021-01-01T00:00:00.000Z";
        let other = "indicator--00000002-0000-4000-8000-000000000000";
        node.add_objects(collection, &import, vec![indicator(other, old)])
            .await
            .unwrap();
        let by_id = |store, id| versions_of(store, collection, id, vec![VersionMatch::All]);
        // The node has read by id, so its map is built before the other process writes.
        assert_eq!(by_id(&node, ID).await, Vec::<String>::new());

        let cli = SqliteStore::open(dir.path(), Arc::new(SystemClock)).unwrap();
        cli.add_objects(collection, &import, vec![indicator(ID, old)])
            .await
            .unwrap();
        assert_eq!(by_id(&node, ID).await, [old]);
        posts_again_then_newer(&node, collection, old, new).await;
        assert_eq!(by_id(&cli, ID).await, [old, new]);
        assert_eq!(by_id(&node, other).await, [old]);
        assert!(node.integrity_check().await.unwrap().problems.is_empty());
    }

    /// A write whose transaction is rolled back (its status id was taken, after its
    /// objects were stored) leaves no entry for the row numbers it gave back: another
    /// process stores a different object under those numbers, and this store finds it.
    #[tokio::test]
    async fn a_rolled_back_batch_leaves_nothing_in_the_map() {
        use crate::status::{Status, StatusOf};
        let dir = tempfile::tempdir().unwrap();
        let collection = Uuid::new_v4();
        let node = store_with_collection(dir.path(), Arc::new(SystemClock), collection).await;
        let import = import();
        let at = "2020-01-01T00:00:00.000Z";
        let status = Status {
            id: Uuid::from_u128(7),
            account: "alice".into(),
            request_timestamp: crate::time::Micros(0),
            total_count: 0,
            successes: Vec::new(),
            failures: Vec::new(),
            pendings: Vec::new(),
        };
        node.create_status(&status).await.unwrap();
        let taken: StatusOf = Box::new(move |_| status.clone());
        let lost = "indicator--00000003-0000-4000-8000-000000000000";
        assert!(
            node.add_objects_with_status(collection, &import, vec![indicator(lost, at)], taken)
                .await
                .is_err()
        );
        let cli = SqliteStore::open(dir.path(), Arc::new(SystemClock)).unwrap();
        cli.add_objects(collection, &import, vec![indicator(ID, at)])
            .await
            .unwrap();
        assert_eq!(versions_of(&node, collection, ID, vec![]).await.len(), 1);
        assert_eq!(versions_of(&node, collection, lost, vec![]).await.len(), 0);
    }

    /// A restore that fails after storing part of its batch leaves no entry for the
    /// row numbers the rollback gives back.
    #[tokio::test]
    async fn a_failed_restore_leaves_nothing_in_the_map() {
        let (source_dir, dir) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let collection = Uuid::new_v4();
        let clock = Arc::new(SystemClock);
        let source = store_with_collection(source_dir.path(), clock.clone(), collection).await;
        let node = store_with_collection(dir.path(), clock.clone(), collection).await;
        let import = import();
        let at = "2020-01-01T00:00:00.000Z";
        let lost = "indicator--00000003-0000-4000-8000-000000000000";
        node.add_objects(collection, &import, vec![indicator(ID, at)])
            .await
            .unwrap();
        source
            .add_objects(collection, &import, vec![indicator(lost, at)])
            .await
            .unwrap();
        let held = node.dump_objects(collection, None, 10).await.unwrap();
        let mut batch = source.dump_objects(collection, None, 10).await.unwrap();
        batch.extend(held);
        assert!(node.restore_objects(collection, batch, None).await.is_err());

        let other = "indicator--00000004-0000-4000-8000-000000000000";
        let cli = SqliteStore::open(dir.path(), clock).unwrap();
        cli.add_objects(collection, &import, vec![indicator(other, at)])
            .await
            .unwrap();
        assert_eq!(versions_of(&node, collection, other, vec![]).await.len(), 1);
        assert_eq!(versions_of(&node, collection, lost, vec![]).await.len(), 0);
    }

    /// Versions are listed only when enough are past the watermark, and then all of
    /// them; the map keeps the listed ones one merge longer, for older snapshots.
    #[test]
    fn versions_are_listed_when_enough_are_past_the_watermark() {
        let mut conn = memory_db();
        let recent = RecentIds::default();
        let limit = recent_limit(0);
        let tx = conn.transaction().unwrap();
        let ids = recent.writing(&tx).unwrap();
        for hash in 1..limit {
            store_row(&tx, &ids, hash * 7919);
        }
        assert_eq!(ids.merge_if_due(&tx).unwrap(), 0);
        let last = store_row(&tx, &ids, -1);
        assert_eq!(ids.merge_if_due(&tx).unwrap(), limit as u64);
        assert_eq!(state(&tx), (limit, last, 2));
        assert_eq!(recent_rows(&ids, 1, -1), Vec::<i64>::new(), "listed now");
        let kept = recent.lock().as_ref().map(|r| r.rows.len()).unwrap();
        assert_eq!(
            kept as i64, limit,
            "kept for snapshots older than the merge"
        );
        assert!(problems(&tx).unwrap().is_empty());
        tx.commit().unwrap();
    }

    /// A reader whose snapshot began before a merge still finds the versions it moved
    /// (the map keeps them one merge longer); one that began before two merges reads
    /// them from the rows.
    #[test]
    fn a_snapshot_older_than_a_merge_finds_its_versions() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let mut writer = open(&path);
        super::super::migrate::migrate(&mut writer).unwrap();
        writer
            .execute_batch("PRAGMA journal_mode = WAL; INSERT INTO collections (seq, id, title, created) VALUES (1, 'c', 't', 0);")
            .unwrap();
        let recent = RecentIds::default();
        let write = |writer: &mut Connection, hash: i64, merge: bool| -> i64 {
            let tx = writer.transaction().unwrap();
            let ids = recent.writing(&tx).unwrap();
            let row = store_row(&tx, &ids, hash);
            if merge {
                ids.merge(&tx).unwrap();
            }
            tx.commit().unwrap();
            row
        };
        let first = write(&mut writer, 11, false);
        let reader = open(&path);
        let snapshot = reader.unchecked_transaction().unwrap();
        assert_eq!(
            rows_of(&recent.rows(&snapshot, &[(1, 11)]).unwrap()),
            [first]
        );
        write(&mut writer, 12, true);
        assert_eq!(
            rows_of(&recent.rows(&snapshot, &[(1, 11)]).unwrap()),
            [first],
            "one merge later, from the map"
        );
        write(&mut writer, 13, true);
        assert_eq!(
            rows_of(&recent.rows(&snapshot, &[(1, 11)]).unwrap()),
            [first],
            "two merges later, from the rows"
        );
        snapshot.commit().unwrap();
        let now = reader.unchecked_transaction().unwrap();
        assert!(
            rows_of(&recent.rows(&now, &[(1, 11)]).unwrap()).is_empty(),
            "listed"
        );
    }

    /// A rolled-back write leaves no entry behind: the rows it numbered are numbered
    /// again by the next write (here another process's), and found.
    #[test]
    fn a_rolled_back_write_leaves_the_map_to_be_rebuilt() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let mut writer = open(&path);
        super::super::migrate::migrate(&mut writer).unwrap();
        writer
            .execute(
                "INSERT INTO collections (seq, id, title, created) VALUES (1, 'c', 't', 0)",
                [],
            )
            .unwrap();
        let recent = RecentIds::default();
        {
            let tx = writer.transaction().unwrap();
            let ids = recent.writing(&tx).unwrap();
            assert_eq!(store_row(&tx, &ids, 21), 1);
            recent.invalidate();
            tx.rollback().unwrap();
        }
        let mut other = open(&path);
        let other_ids = RecentIds::default();
        let tx = other.transaction().unwrap();
        let row = store_row(&tx, &other_ids.writing(&tx).unwrap(), 22);
        tx.commit().unwrap();
        assert_eq!(row, 1, "the number the rollback gave back");
        let reader = open(&path);
        assert!(rows_of(&recent.rows(&reader, &[(1, 21)]).unwrap()).is_empty());
        assert_eq!(rows_of(&recent.rows(&reader, &[(1, 22)]).unwrap()), [1]);
    }

    /// Rows are numbered past the watermark even when the last ones were deleted, so a
    /// new version is never taken for a listed one.
    #[test]
    fn rows_are_numbered_past_the_watermark() {
        let mut conn = memory_db();
        let recent = RecentIds::default();
        let tx = conn.transaction().unwrap();
        let ids = recent.writing(&tx).unwrap();
        store_row(&tx, &ids, 1);
        let top = store_row(&tx, &ids, 2);
        ids.merge(&tx).unwrap();
        tx.execute("DELETE FROM objects WHERE seq = ?1", [top])
            .unwrap();
        remove(&tx, 1, 2, top).unwrap();
        tx.commit().unwrap();
        let tx = conn.transaction().unwrap();
        let ids = recent.writing(&tx).unwrap();
        let next = store_row(&tx, &ids, 3);
        assert_eq!(next, top + 1);
        assert_eq!(recent_rows(&ids, 1, 3), [next]);
        assert!(problems(&tx).unwrap().is_empty());
    }

    /// The integrity check names each way the index can disagree with the rows.
    #[test]
    fn the_integrity_check_finds_missing_dangling_and_misplaced_entries() {
        let conn = memory_db();
        conn.execute_batch(
            "INSERT INTO objects (seq, collection, id, id_hash, type, spec_version, version,
               version_text, date_added, revoked, media_type, is_first, is_latest,
               is_latest_spec, provenance_kind, provenance_name, bytes)
             VALUES (5, 1, 'indicator--a', 9, 'indicator', '2.1', 'v', 'v', 1, 0, 'm', 1, 1, 1,
               'import', 'x', x'00');",
        )
        .unwrap();
        assert!(problems(&conn).unwrap().is_empty(), "past the watermark");
        conn.execute("UPDATE id_index SET merged_through = 5", [])
            .unwrap();
        let found = problems(&conn).unwrap();
        assert_eq!(found, ["1 versions missing from the id index"]);
        conn.execute("INSERT INTO object_ids VALUES (1, 9, 5)", [])
            .unwrap();
        assert!(problems(&conn).unwrap().is_empty());
        conn.execute("INSERT INTO object_ids VALUES (1, 8, 4), (1, 7, 6)", [])
            .unwrap();
        let found = problems(&conn).unwrap();
        assert_eq!(
            found,
            [
                "2 id index entries naming no stored version",
                "1 id index entries past its watermark"
            ]
        );
    }

    /// An object with several recent versions keeps all of them, each once, and
    /// pruning keeps exactly those past the floor.
    #[test]
    fn the_listing_keeps_every_version_once_and_prunes_by_row() {
        let mut listing = Listing::default();
        let key = (1, 7);
        for row in [3, 9, 5] {
            assert!(listing.add(key, row));
        }
        assert!(!listing.add(key, 9), "already there");
        assert!(listing.add((1, 8), 4));
        let mut rows: Vec<i64> = listing.rows(&key).collect();
        rows.sort();
        assert_eq!(rows, [3, 5, 9]);
        listing.prune(4);
        let mut rows: Vec<i64> = listing.rows(&key).collect();
        rows.sort();
        assert_eq!(rows, [5, 9]);
        assert_eq!(listing.rows(&(1, 8)).count(), 0);
        listing.prune(9);
        assert_eq!(listing.len(), 0);
        assert!(listing.first.is_empty() && listing.more.is_empty());
    }

    #[test]
    fn the_recent_limit_grows_with_the_store_within_bounds() {
        assert_eq!(recent_limit(0), 65_536);
        assert_eq!(recent_limit(400_000), 100_000);
        assert_eq!(recent_limit(1_000_000), 131_072);
        assert_eq!(recent_limit(i64::MAX), 131_072);
        assert!(recent_limit(500_000) > recent_limit(400_000));
    }
}
