//! Versioned schema migrations for SQLite: `migrations/NNNN_name.sql`, applied in order
//! at open, the applied version kept in `PRAGMA user_version`.

use rusqlite::Connection;

use crate::error::{Result, StoreError};

/// Every migration, in order; migration `i` brings the schema to version `i + 1`.
const MIGRATIONS: &[(&str, &str)] = &[
    (
        "0001_initial",
        include_str!("../../migrations/0001_initial.sql"),
    ),
    (
        "0002_id_hash_index",
        include_str!("../../migrations/0002_id_hash_index.sql"),
    ),
    (
        "0003_federation",
        include_str!("../../migrations/0003_federation.sql"),
    ),
    (
        "0004_leases",
        include_str!("../../migrations/0004_leases.sql"),
    ),
    (
        "0005_two_level_id_index",
        include_str!("../../migrations/0005_two_level_id_index.sql"),
    ),
    (
        "0006_bytes_first",
        include_str!("../../migrations/0006_bytes_first.sql"),
    ),
    (
        "0007_recent_ids_in_memory",
        include_str!("../../migrations/0007_recent_ids_in_memory.sql"),
    ),
];

/// Migrations that rebuild a table. The old table's pages are free afterwards but stay
/// in the file (doubling it), so a database that held data is compacted after them.
const REBUILDS: &[&str] = &["0006_bytes_first"];

/// The schema version this program writes.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// The schema version recorded in the database (0 for a new file).
pub fn schema_version(conn: &Connection) -> Result<i64> {
    Ok(conn.pragma_query_value(None, "user_version", |row| row.get(0))?)
}

/// Brings the database to [`SCHEMA_VERSION`], each migration in its own transaction with
/// the version bump, so a crash leaves either the old or the new version.
/// Refuses a database newer than this program.
pub fn migrate(conn: &mut Connection) -> Result<()> {
    let found = schema_version(conn)?;
    if found > SCHEMA_VERSION {
        return Err(StoreError::SchemaTooNew {
            found,
            supported: SCHEMA_VERSION,
        });
    }
    let mut rebuilt = false;
    for (index, (name, sql)) in MIGRATIONS.iter().enumerate().skip(found.max(0) as usize) {
        let version = index as i64 + 1;
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        if *name == "0002_id_hash_index" {
            fill_id_hashes(&tx)?;
        }
        tx.pragma_update(None, "user_version", version)?;
        tx.commit()?;
        tracing::info!(migration = name, version, "applied schema migration");
        rebuilt |= found > 0 && REBUILDS.contains(name);
    }
    if rebuilt && let Err(e) = compact(conn) {
        // The schema is migrated and the data sound; only the space is not given
        // back (VACUUM needs as much free disk as the database). The free pages are
        // reused as objects are added, so the node opens anyway.
        tracing::warn!(error = %e, "could not compact the database after a table rebuild; its free pages stay in the file and will be reused");
    }
    Ok(())
}

/// Rewrites the file without its free pages, then empties the WAL the rewrite went
/// through. Outside any transaction (VACUUM cannot run in one); it needs as much free
/// disk as the database takes, once.
fn compact(conn: &Connection) -> Result<()> {
    let free_pages: i64 = conn.pragma_query_value(None, "freelist_count", |row| row.get(0))?;
    tracing::info!(free_pages, "compacting the database after a table rebuild");
    conn.execute_batch("VACUUM")?;
    conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
    Ok(())
}

/// Computes `id_hash` for the rows stored before schema version 2.
fn fill_id_hashes(tx: &Connection) -> Result<()> {
    let rows = tx
        .prepare("SELECT seq, id FROM objects")?
        .query_map([], |row| {
            Ok((row.get::<_, i64>(0)?, row.get::<_, String>(1)?))
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let mut update = tx.prepare("UPDATE objects SET id_hash = ?1 WHERE seq = ?2")?;
    for (seq, id) in rows {
        update.execute(rusqlite::params![super::objects::id_hash(&id), seq])?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Brings `conn` to schema `version` with the first migrations only, as an older
    /// program left it.
    fn at_version(conn: &Connection, version: usize) {
        for (_, sql) in &MIGRATIONS[..version] {
            conn.execute_batch(sql).unwrap();
        }
        conn.pragma_update(None, "user_version", version as i64)
            .unwrap();
    }

    /// The id index's entries (collection, id hash, row), in key order.
    fn id_entries(conn: &Connection) -> Vec<(i64, i64, i64)> {
        conn.prepare("SELECT collection, id_hash, seq FROM object_ids")
            .unwrap()
            .query_map([], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    }

    /// A version-1 database keeps its objects findable: the migration hashes stored ids.
    #[test]
    fn version_two_hashes_the_ids_already_stored() {
        let mut conn = Connection::open_in_memory().unwrap();
        at_version(&conn, 1);
        conn.execute_batch(
            "INSERT INTO collections (seq, id, title, created) VALUES (1, 'c', 't', 0);
             INSERT INTO objects (collection, id, type, spec_version, version, version_text,
               date_added, revoked, media_type, is_first, is_latest, is_latest_spec,
               provenance_kind, provenance_name, bytes)
             VALUES (1, 'indicator--a', 'indicator', '2.1', 'v', 'v', 1, 0, 'm', 1, 1, 1,
               'import', 'x', x'00');",
        )
        .unwrap();
        migrate(&mut conn).unwrap();
        assert_eq!(schema_version(&conn).unwrap(), SCHEMA_VERSION);
        let hash: i64 = conn
            .query_row(
                "SELECT id_hash FROM objects WHERE id = 'indicator--a'",
                [],
                |row| row.get(0),
            )
            .unwrap();
        assert_eq!(hash, super::super::objects::id_hash("indicator--a"));
    }

    /// A version-2 database keeps its objects, provenance and accounts, and gains an
    /// empty ledger and sync state.
    #[test]
    fn version_three_keeps_what_version_two_held() {
        let mut conn = Connection::open_in_memory().unwrap();
        at_version(&conn, 2);
        conn.execute_batch(
            "INSERT INTO collections (seq, id, title, created)
               VALUES (1, '00000000-0000-0000-0000-000000000001', 't', 0);
             INSERT INTO objects (collection, id, id_hash, type, spec_version, version,
               version_text, date_added, revoked, media_type, is_first, is_latest,
               is_latest_spec, provenance_kind, provenance_name, bytes)
             VALUES (1, 'indicator--a', 0, 'indicator', '2.1', 'v', 'v', 1, 0, 'm', 1, 1, 1,
               'account', 'alice', x'7b7d');
             INSERT INTO accounts (name, admin, password_hash, created)
               VALUES ('alice', 1, 'phc', 5);",
        )
        .unwrap();
        conn.execute(
            "UPDATE objects SET id_hash = ?1",
            [super::super::objects::id_hash("indicator--a")],
        )
        .unwrap();
        migrate(&mut conn).unwrap();
        assert_eq!(schema_version(&conn).unwrap(), SCHEMA_VERSION);
        let (kind, name, detail, bytes): (String, String, Option<String>, Vec<u8>) = conn
            .query_row(
                "SELECT provenance_kind, provenance_name, provenance_detail, bytes FROM objects",
                [],
                |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?)),
            )
            .unwrap();
        assert_eq!(
            crate::Provenance::from_stored(&kind, name, detail.as_deref()).unwrap(),
            crate::Provenance::Account {
                name: "alice".into()
            }
        );
        assert_eq!(bytes, b"{}");
        let account = super::super::accounts::get(&conn, "alice").unwrap();
        assert!(account.admin && account.has_password);
        assert_eq!(account.partner, None);
        assert_eq!(super::super::ledger::head(&conn).unwrap(), None);
        assert!(super::super::sync::list(&conn).unwrap().is_empty());
    }

    /// A version-3 database keeps its sync state and gains an empty lease table.
    #[test]
    fn version_four_adds_leases() {
        let mut conn = Connection::open_in_memory().unwrap();
        at_version(&conn, 3);
        conn.execute_batch(
            "INSERT INTO sync_state (partner, collection, direction, cursor)
               VALUES ('paris', 'c', 'pull', 'here');",
        )
        .unwrap();
        migrate(&mut conn).unwrap();
        assert_eq!(schema_version(&conn).unwrap(), SCHEMA_VERSION);
        assert_eq!(super::super::sync::list(&conn).unwrap().len(), 1);
        let now = crate::Micros(0);
        assert!(
            super::super::leases::in_force(&conn, now)
                .unwrap()
                .is_empty()
        );
        let ttl = std::time::Duration::from_secs(1);
        assert!(super::super::leases::try_take(&mut conn, now, "sync:paris", "a", ttl).unwrap());
        assert_eq!(
            super::super::leases::in_force(&conn, now).unwrap()[0].holder,
            "a"
        );
    }

    /// A version-5 database keeps every row and value through the rebuild of `objects`,
    /// now with what a page reads first, and the file gives the old table's pages back.
    #[test]
    fn version_six_puts_what_pages_read_first_and_keeps_every_row() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v5.db");
        let mut conn = Connection::open(&path).unwrap();
        conn.pragma_update(None, "journal_mode", "WAL").unwrap();
        at_version(&conn, 5);
        conn.execute_batch(
            "INSERT INTO collections (seq, id, title, created) VALUES (1, 'c', 't', 0);",
        )
        .unwrap();
        let columns = "collection, id, id_hash, type, spec_version, version, version_text, \
            date_added, created, modified, revoked, tlp, created_by_ref, media_type, is_first, \
            is_latest, is_latest_spec, provenance_kind, provenance_name, provenance_detail, bytes";
        {
            let tx = conn.transaction().unwrap();
            let mut insert = tx
                .prepare(&format!(
                    "INSERT INTO objects ({columns}) VALUES (1, ?1, ?2, 'indicator', '2.1', ?3, \
                     ?3, ?4, 'c', ?3, ?5, 'amber', 'identity--x', 'm', ?6, ?7, 1, 'partner', \
                     'p', 'd', zeroblob(2000))"
                ))
                .unwrap();
            for n in 0..2000i64 {
                insert
                    .execute(rusqlite::params![
                        format!("indicator--{}", n / 2),
                        n / 2,
                        format!("v{}", n % 2),
                        n,
                        n % 3 == 0,
                        n % 2 == 0,
                        n % 2 == 1,
                    ])
                    .unwrap();
            }
            drop(insert);
            tx.commit().unwrap();
        }
        let all = format!("SELECT seq, {columns} FROM objects ORDER BY seq");
        let dump = |conn: &Connection| -> Vec<Vec<rusqlite::types::Value>> {
            let mut stmt = conn.prepare(&all).unwrap();
            let n = stmt.column_count();
            stmt.query_map([], |row| (0..n).map(|i| row.get(i)).collect())
                .unwrap()
                .map(Result::unwrap)
                .collect()
        };
        let before = dump(&conn);
        let pages = |conn: &Connection| -> i64 {
            conn.pragma_query_value(None, "page_count", |row| row.get(0))
                .unwrap()
        };
        let pages_before = pages(&conn);

        migrate(&mut conn).unwrap();
        assert_eq!(schema_version(&conn).unwrap(), SCHEMA_VERSION);
        assert_eq!(dump(&conn), before, "every row and value kept");
        let names = |sql: &str| -> Vec<String> {
            conn.prepare(sql)
                .unwrap()
                .query_map([], |row| row.get(0))
                .unwrap()
                .map(Result::unwrap)
                .collect()
        };
        let order = names("SELECT name FROM pragma_table_info('objects') ORDER BY cid LIMIT 7");
        assert_eq!(
            order,
            [
                "seq",
                "collection",
                "date_added",
                "is_latest",
                "is_latest_spec",
                "is_first",
                "bytes"
            ]
        );
        let indexes = names(
            "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'objects' \
             ORDER BY name",
        );
        assert_eq!(
            indexes,
            ["objects_by_date_added", "objects_latest_by_date_added"]
        );
        let free: i64 = conn
            .pragma_query_value(None, "freelist_count", |row| row.get(0))
            .unwrap();
        assert_eq!(free, 0, "the old table's pages are given back");
        assert!(
            pages(&conn) <= pages_before,
            "{} pages after, {pages_before} before",
            pages(&conn)
        );
        let check: String = conn
            .query_row("PRAGMA integrity_check", [], |row| row.get(0))
            .unwrap();
        assert_eq!(check, "ok");
    }

    /// A version-6 database keeps its objects findable by id: the recent level's
    /// entries join `object_ids`, the watermark is put after the last row, and the
    /// recent table is gone.
    #[test]
    fn version_seven_lists_the_recent_entries_and_sets_the_watermark() {
        let mut conn = Connection::open_in_memory().unwrap();
        at_version(&conn, 6);
        conn.execute_batch(
            "INSERT INTO collections (seq, id, title, created) VALUES (1, 'c', 't', 0);
             INSERT INTO objects (seq, collection, id, id_hash, type, spec_version, version,
               version_text, date_added, revoked, media_type, is_first, is_latest,
               is_latest_spec, provenance_kind, provenance_name, bytes)
             VALUES (3, 1, 'indicator--a', 11, 'indicator', '2.1', 'v1', 'v1', 1, 0, 'm', 1, 0,
               1, 'import', 'x', x'00'),
               (8, 1, 'indicator--a', 11, 'indicator', '2.1', 'v2', 'v2', 2, 0, 'm', 0, 1, 1,
               'import', 'x', x'00');
             INSERT INTO object_ids VALUES (1, 11, 3);
             INSERT INTO recent_object_ids VALUES (1, 11, 8);",
        )
        .unwrap();
        migrate(&mut conn).unwrap();
        assert_eq!(schema_version(&conn).unwrap(), SCHEMA_VERSION);
        let listed = id_entries(&conn);
        assert_eq!(listed, [(1, 11, 3), (1, 11, 8)]);
        let mark: (i64, i64) = conn
            .query_row("SELECT merged_through, version FROM id_index", [], |row| {
                Ok((row.get(0)?, row.get(1)?))
            })
            .unwrap();
        assert_eq!(mark, (8, 0));
        let recent_table: i64 = conn
            .query_row(
                "SELECT count(*) FROM sqlite_master WHERE name = 'recent_object_ids'",
                [],
                |row| row.get(0),
            )
            .unwrap();
        assert_eq!(recent_table, 0);
        assert!(
            super::super::object_ids::problems(&conn)
                .unwrap()
                .is_empty()
        );
    }

    /// A version-4 database keeps its objects findable by id: the migration lists every
    /// stored version in the two-level id index and drops the old index.
    #[test]
    fn version_five_lists_the_versions_already_stored() {
        let mut conn = Connection::open_in_memory().unwrap();
        at_version(&conn, 4);
        conn.execute_batch(
            "INSERT INTO collections (seq, id, title, created) VALUES (1, 'c', 't', 0);
             INSERT INTO objects (collection, id, id_hash, type, spec_version, version,
               version_text, date_added, revoked, media_type, is_first, is_latest,
               is_latest_spec, provenance_kind, provenance_name, bytes)
             VALUES (1, 'indicator--a', 11, 'indicator', '2.1', 'v1', 'v1', 1, 0, 'm', 1, 0, 1,
               'import', 'x', x'00'),
               (1, 'indicator--a', 11, 'indicator', '2.1', 'v2', 'v2', 2, 0, 'm', 0, 1, 1,
               'import', 'x', x'00');",
        )
        .unwrap();
        migrate(&mut conn).unwrap();
        assert_eq!(schema_version(&conn).unwrap(), SCHEMA_VERSION);
        let listed = id_entries(&conn);
        assert_eq!(listed, [(1, 11, 1), (1, 11, 2)]);
        assert!(
            super::super::object_ids::problems(&conn)
                .unwrap()
                .is_empty()
        );
        let old_index: i64 = conn
            .query_row(
                "SELECT count(*) FROM sqlite_master WHERE name = 'objects_by_id_hash'",
                [],
                |row| row.get(0),
            )
            .unwrap();
        assert_eq!(old_index, 0);
    }
}
