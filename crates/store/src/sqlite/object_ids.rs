//! How an object's versions are found by id: a two-level index kept in two tables,
//! `object_ids` and `recent_object_ids`, of (collection, hash of the id, row).
//!
//! Why not one index: ids are random UUIDs, so a batch of new objects lands on pages
//! all over an id index, and a commit writes every page it changed. With 64 KiB pages
//! and a million objects, a batch of 1,000 rewrote nearly the whole index: 14 KB
//! written per object of 700 bytes, growing with the collection. New entries go to
//! the small `recent_object_ids` instead (a few pages, all of them changed by any
//! batch anyway); when it holds [`recent_limit`] entries they move to `object_ids` in
//! one sorted pass, which changes each of its pages once for tens of thousands of
//! objects. Measured in `BENCHMARKS.md` ("two-level id index").
//!
//! Every version has exactly one entry, in one of the two tables; a lookup reads both
//! ([`one_id!`]). Entries go with their version ([`remove`]) and with their collection
//! ([`remove_collection`]); no foreign key, which every insert would pay to check. The hash only narrows: statements also compare the
//! text id, so a collision costs a row read, never a wrong answer.

use rusqlite::{Connection, params};

use crate::error::Result;

/// The condition, on `objects`, that picks the rows of one object (for updates and
/// deletes; reads use [`one_id_rows!`]): `?1` the
/// collection's row number, `?2` the id's hash ([`super::objects::id_hash`]), `?3` the
/// id. `NOT INDEXED` before it keeps SQLite on these rows (`seq` is the row id, so
/// the lookup needs no index) instead of walking a collection's index for one id.
macro_rules! one_id {
    () => {
        "seq IN (SELECT seq FROM object_ids WHERE collection = ?1 AND id_hash = ?2 \
         UNION ALL SELECT seq FROM recent_object_ids WHERE collection = ?1 AND id_hash = ?2) \
         AND collection = ?1 AND id = ?3"
    };
}
pub(super) use one_id;

/// The rows of one object, for reading: [`one_id!`] as a join, which SQLite runs as
/// two lookups, one per level, each followed by the row; `IN (subquery)` would build
/// a temporary list (an allocated b-tree) at every execution, and the insert path reads
/// an id's versions once per object. Select `objects`' columns by name, then add
/// conditions with `AND`. Same parameters as [`one_id!`].
macro_rules! one_id_rows {
    () => {
        "(SELECT seq FROM object_ids WHERE collection = ?1 AND id_hash = ?2 \
         UNION ALL SELECT seq FROM recent_object_ids WHERE collection = ?1 AND id_hash = ?2) \
         AS ids CROSS JOIN objects NOT INDEXED ON objects.seq = ids.seq \
         WHERE objects.collection = ?1 AND objects.id = ?3"
    };
}
pub(super) use one_id_rows;

/// The condition for rows of any of several ids, with `n` placeholders for hashes,
/// repeated for each table, then `n` for the ids; `collection` is written in, like
/// the page queries' (the planner reads it).
pub(super) fn any_of(collection: i64, n: usize) -> String {
    let hashes = super::objects::placeholders(n);
    format!(
        "seq IN (SELECT seq FROM object_ids WHERE collection = {collection} \
         AND id_hash IN ({hashes}) UNION ALL SELECT seq FROM recent_object_ids \
         WHERE collection = {collection} AND id_hash IN ({hashes})) AND id IN ({hashes})"
    )
}

/// Lists a new version: ?1 its collection's row number, ?2 its id's hash, ?3 its row.
pub(super) const ADD: &str =
    "INSERT INTO recent_object_ids (collection, id_hash, seq) VALUES (?1, ?2, ?3)";

/// Lists the version stored as row `row` of collection `collection` ([`ADD`]); the
/// insert path holds the statement itself.
#[cfg(test)]
pub(super) fn add(tx: &Connection, collection: i64, hash: i64, row: i64) -> Result<()> {
    tx.prepare_cached(ADD)?
        .execute(params![collection, hash, row])?;
    Ok(())
}

/// Forgets the version that was row `row`.
pub(super) fn remove(tx: &Connection, collection: i64, hash: i64, row: i64) -> Result<()> {
    for sql in [
        "DELETE FROM recent_object_ids WHERE collection = ?1 AND id_hash = ?2 AND seq = ?3",
        "DELETE FROM object_ids WHERE collection = ?1 AND id_hash = ?2 AND seq = ?3",
    ] {
        tx.prepare_cached(sql)?
            .execute(params![collection, hash, row])?;
    }
    Ok(())
}

/// Forgets every entry of the collection with row number `collection`.
pub(super) fn remove_collection(tx: &Connection, collection: i64) -> Result<()> {
    for sql in [
        "DELETE FROM recent_object_ids WHERE collection = ?1",
        "DELETE FROM object_ids WHERE collection = ?1",
    ] {
        tx.execute(sql, [collection])?;
    }
    Ok(())
}

/// How many entries `recent_object_ids` may hold before they move, for a store of
/// about `rows` versions. A batch of b objects writes all of the recent table (about
/// r entries) and a move writes all of the main one (about n) once per r objects, so
/// each object costs about r/b + n/r entries written: least at r = √(b·n), taken for
/// batches of 1,000 and kept between 8,192 and 262,144.
pub fn recent_limit(rows: i64) -> i64 {
    let r = (rows.max(0) as f64 * 1000.0).sqrt() as i64;
    r.clamp(8192, 262_144)
}

/// Moves the recent entries into `object_ids` if there are [`recent_limit`] of them;
/// inside the caller's write transaction. Returns how many moved.
pub(super) fn merge_if_due(tx: &Connection) -> Result<u64> {
    let recent: i64 = tx
        .prepare_cached("SELECT count(*) FROM recent_object_ids")?
        .query_row([], |row| row.get(0))?;
    let rows: i64 = tx
        .prepare_cached("SELECT coalesce(max(seq), 0) FROM objects")?
        .query_row([], |row| row.get(0))?;
    if recent < recent_limit(rows) {
        return Ok(0);
    }
    merge(tx)
}

/// Moves every recent entry into `object_ids`, in key order (one pass over its pages).
pub(super) fn merge(tx: &Connection) -> Result<u64> {
    let moved = tx.execute(
        "INSERT INTO object_ids (collection, id_hash, seq) \
         SELECT collection, id_hash, seq FROM recent_object_ids ORDER BY 1, 2, 3",
        [],
    )?;
    tx.execute("DELETE FROM recent_object_ids", [])?;
    tracing::debug!(moved, "moved recent id entries into the id index");
    Ok(moved as u64)
}

/// What breaks the invariant (every version listed exactly once, every entry naming
/// a stored version by its collection and hash), for the integrity check.
pub(super) fn problems(conn: &Connection) -> Result<Vec<String>> {
    let checks = [
        (
            "versions missing from the id index",
            "SELECT count(*) FROM objects o WHERE NOT EXISTS (SELECT 1 FROM object_ids i \
             WHERE i.collection = o.collection AND i.id_hash = o.id_hash AND i.seq = o.seq) \
             AND NOT EXISTS (SELECT 1 FROM recent_object_ids i WHERE i.collection = o.collection \
             AND i.id_hash = o.id_hash AND i.seq = o.seq)",
        ),
        (
            "id index entries naming no stored version",
            "SELECT count(*) FROM (SELECT collection, id_hash, seq FROM object_ids \
             UNION ALL SELECT collection, id_hash, seq FROM recent_object_ids) i \
             WHERE NOT EXISTS (SELECT 1 FROM objects o WHERE o.seq = i.seq \
             AND o.collection = i.collection AND o.id_hash = i.id_hash)",
        ),
        (
            "versions listed in both levels of the id index",
            "SELECT count(*) FROM recent_object_ids JOIN object_ids USING (collection, id_hash, seq)",
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

    use super::super::testing::{indicator, store_with_collection};
    use crate::Store;
    use crate::object::{AddOutcome, Provenance, Version};
    use crate::query::{DeleteFilter, ObjectQuery, VersionMatch};
    use crate::time::SystemClock;

    const ID: &str = "indicator--00000001-0000-4000-8000-000000000000";

    fn entries(conn: &Connection) -> (i64, i64) {
        let count = |table: &str| -> i64 {
            conn.query_row(&format!("SELECT count(*) FROM {table}"), [], |row| {
                row.get(0)
            })
            .unwrap()
        };
        (count("object_ids"), count("recent_object_ids"))
    }

    /// An object whose versions sit in both levels is found whole: a version moved to
    /// the main level is still recognised when posted again, the flags span both
    /// levels, and deleting a version or the collection leaves no entry behind.
    #[tokio::test]
    async fn versions_are_found_in_either_level_and_leave_no_entry_behind() {
        let dir = tempfile::tempdir().unwrap();
        let collection = Uuid::new_v4();
        let store = store_with_collection(dir.path(), Arc::new(SystemClock), collection).await;
        let import = Provenance::Import {
            source: "test".into(),
        };
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
        let raw = Connection::open(store.path()).unwrap();
        assert_eq!(entries(&raw), (0, 2));
        assert_eq!(merge(&raw).unwrap(), 2);
        assert_eq!(entries(&raw), (2, 0));

        let outcomes = store
            .add_objects(
                collection,
                &import,
                vec![indicator(ID, old), indicator(ID, new)],
            )
            .await
            .unwrap();
        assert!(matches!(outcomes[0], AddOutcome::AlreadyPresent { .. }));
        assert!(matches!(outcomes[1], AddOutcome::Added { .. }));
        assert_eq!(entries(&raw), (2, 1));
        let versions = |versions: Vec<VersionMatch>| {
            let store = store.clone();
            async move {
                let query = ObjectQuery {
                    ids: vec![ID.to_owned()],
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
                    .collect::<Vec<_>>()
            }
        };
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
        assert_eq!(entries(&raw), (1, 1));
        assert_eq!(versions(vec![VersionMatch::First]).await, [new]);
        assert!(problems(&raw).unwrap().is_empty());
        assert!(store.integrity_check().await.unwrap().problems.is_empty());

        store.delete_collection(collection).await.unwrap();
        assert_eq!(entries(&raw), (0, 0));
        assert!(problems(&raw).unwrap().is_empty());
    }

    /// Entries move only when the recent level is full, and then all of them.
    #[test]
    fn entries_move_when_the_recent_level_is_full() {
        let mut conn = Connection::open_in_memory().unwrap();
        super::super::migrate::migrate(&mut conn).unwrap();
        conn.execute(
            "INSERT INTO collections (seq, id, title, created) VALUES (1, 'c', 't', 0)",
            [],
        )
        .unwrap();
        let limit = recent_limit(0);
        for row in 1..limit {
            add(&conn, 1, row * 7919, row).unwrap();
        }
        assert_eq!(merge_if_due(&conn).unwrap(), 0);
        add(&conn, 1, -1, limit).unwrap();
        assert_eq!(merge_if_due(&conn).unwrap(), limit as u64);
        assert_eq!(entries(&conn), (limit, 0));
    }

    /// The integrity check names each way the index can disagree with the rows.
    #[test]
    fn the_integrity_check_finds_missing_dangling_and_doubled_entries() {
        let mut conn = Connection::open_in_memory().unwrap();
        super::super::migrate::migrate(&mut conn).unwrap();
        conn.execute_batch(
            "INSERT INTO collections (seq, id, title, created) VALUES (1, 'c', 't', 0);
             INSERT INTO objects (seq, collection, id, id_hash, type, spec_version, version,
               version_text, date_added, revoked, media_type, is_first, is_latest,
               is_latest_spec, provenance_kind, provenance_name, bytes)
             VALUES (5, 1, 'indicator--a', 9, 'indicator', '2.1', 'v', 'v', 1, 0, 'm', 1, 1, 1,
               'import', 'x', x'00');",
        )
        .unwrap();
        let found = problems(&conn).unwrap();
        assert_eq!(found, ["1 versions missing from the id index"]);
        add(&conn, 1, 9, 5).unwrap();
        assert!(problems(&conn).unwrap().is_empty());
        conn.execute("INSERT INTO object_ids VALUES (1, 9, 5), (1, 8, 6)", [])
            .unwrap();
        let found = problems(&conn).unwrap();
        assert_eq!(
            found,
            [
                "1 id index entries naming no stored version",
                "1 versions listed in both levels of the id index"
            ]
        );
    }

    #[test]
    fn the_recent_limit_grows_with_the_store_within_bounds() {
        assert_eq!(recent_limit(0), 8192);
        assert_eq!(recent_limit(1_000_000), 31_622);
        assert_eq!(recent_limit(10_000_000), 100_000);
        assert_eq!(recent_limit(i64::MAX), 262_144);
        assert!(recent_limit(2_000_000) > recent_limit(1_000_000));
    }
}
