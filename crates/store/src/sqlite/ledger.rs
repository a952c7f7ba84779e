//! The ledger table in SQLite: appends chained under the writer's IMMEDIATE transaction,
//! and reads in `seq` order.

use rusqlite::types::Value;
use rusqlite::{Connection, OptionalExtension, Row, TransactionBehavior, params, params_from_iter};

use super::sync;
use crate::error::{Result, StoreError};
use crate::ledger::{LedgerEntry, LedgerQuery, NewLedgerEntry};
use crate::partner::{SyncCursor, SyncStep};
use crate::time::{Clock, Micros};

const COLUMNS: &str = "seq, time, direction, partner, channel, collection, object_id, version, \
     bytes_sha256, rule, prev_hash, hash";

/// A row as stored, before its words and UUID are parsed.
type LedgerRow = (
    i64,
    i64,
    String,
    Option<String>,
    Option<String>,
    String,
    String,
    String,
    String,
    String,
    String,
    String,
);

fn row(row: &Row<'_>) -> rusqlite::Result<LedgerRow> {
    Ok((
        row.get(0)?,
        row.get(1)?,
        row.get(2)?,
        row.get(3)?,
        row.get(4)?,
        row.get(5)?,
        row.get(6)?,
        row.get(7)?,
        row.get(8)?,
        row.get(9)?,
        row.get(10)?,
        row.get(11)?,
    ))
}

fn from_row(
    (
        seq,
        time,
        direction,
        partner,
        channel,
        collection,
        object_id,
        version,
        bytes_sha256,
        rule,
        prev_hash,
        hash,
    ): LedgerRow,
) -> Result<LedgerEntry> {
    // The schema's CHECKs keep words valid; a value that still does not parse was
    // written outside this program, and the message says which entry holds it.
    let unreadable = |column: &str, value: &str| {
        StoreError::backend(format!(
            "ledger entry {seq} has an unreadable {column} {value:?} (edited outside Passerelle?)"
        ))
    };
    Ok(LedgerEntry {
        seq: u64::try_from(seq).map_err(|_| unreadable("seq", &seq.to_string()))?,
        time: Micros(time),
        direction: direction
            .parse()
            .map_err(|_| unreadable("direction", &direction))?,
        channel: channel
            .as_deref()
            .map(|c| c.parse().map_err(|_| unreadable("channel", c)))
            .transpose()?,
        collection: uuid::Uuid::parse_str(&collection)
            .map_err(|_| unreadable("collection", &collection))?,
        partner,
        object_id,
        version,
        bytes_sha256,
        rule,
        prev_hash,
        hash,
    })
}

/// The last entry, the one the next append continues from.
pub fn head(conn: &Connection) -> Result<Option<LedgerEntry>> {
    conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM ledger ORDER BY seq DESC LIMIT 1"
    ))?
    .query_row([], row)
    .optional()?
    .map(from_row)
    .transpose()
}

/// Appends `entries` inside the caller's write transaction, continuing the chain from
/// the last entry, which the transaction's write lock keeps from moving.
pub fn append_in(
    tx: &Connection,
    now: Micros,
    entries: Vec<NewLedgerEntry>,
) -> Result<Vec<LedgerEntry>> {
    if entries.is_empty() {
        return Ok(Vec::new());
    }
    for entry in &entries {
        entry.check()?;
    }
    let mut prev = head(tx)?;
    let mut insert = tx.prepare_cached(INSERT)?;
    let mut appended = Vec::with_capacity(entries.len());
    for entry in entries {
        let entry = LedgerEntry::after(prev.as_ref(), now, entry);
        insert_entry(&mut insert, &entry)?;
        prev = Some(entry.clone());
        appended.push(entry);
    }
    Ok(appended)
}

const INSERT: &str = "INSERT INTO ledger (seq, time, direction, partner, channel, collection, \
     object_id, version, bytes_sha256, rule, prev_hash, hash) \
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)";

fn insert_entry(insert: &mut rusqlite::CachedStatement<'_>, entry: &LedgerEntry) -> Result<()> {
    insert.execute(params![
        i64::try_from(entry.seq)
            .map_err(|_| StoreError::backend("the ledger is full (seq overflows)"))?,
        entry.time.0,
        entry.direction.as_str(),
        entry.partner,
        entry.channel.map(|c| c.as_str()),
        entry.collection.to_string(),
        entry.object_id,
        entry.version,
        entry.bytes_sha256,
        entry.rule,
        entry.prev_hash,
        entry.hash,
    ])?;
    Ok(())
}

/// Appends entries copied from another store exactly as they are, in one IMMEDIATE
/// transaction; each must follow the last ([`LedgerEntry::check_follows`]), else
/// nothing is appended.
pub fn restore(conn: &mut Connection, entries: Vec<LedgerEntry>) -> Result<()> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    {
        let mut prev = head(&tx)?;
        let mut insert = tx.prepare_cached(INSERT)?;
        for entry in entries {
            entry.check_follows(prev.as_ref())?;
            insert_entry(&mut insert, &entry)?;
            prev = Some(entry);
        }
    }
    tx.commit()?;
    Ok(())
}

/// Appends `entries` and saves `cursor`, counting the disclosures towards its
/// exchange, in one IMMEDIATE transaction.
pub fn append(
    conn: &mut Connection,
    clock: &dyn Clock,
    entries: Vec<NewLedgerEntry>,
    cursor: Option<&SyncCursor>,
) -> Result<Vec<LedgerEntry>> {
    // Refused before taking the write lock.
    for entry in &entries {
        entry.check()?;
    }
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let now = clock.now();
    let disclosed = NewLedgerEntry::count_disclosed(&entries);
    let appended = append_in(&tx, now, entries)?;
    if let Some(cursor) = cursor {
        sync::advance(&tx, now, &SyncStep::to(cursor.clone()), disclosed)?;
    }
    tx.commit()?;
    Ok(appended)
}

/// The entries `query` selects, in `seq` order.
pub fn list(conn: &Connection, query: &LedgerQuery) -> Result<Vec<LedgerEntry>> {
    query.check()?;
    let mut conditions = Vec::new();
    let mut args = Vec::new();
    if let Some(partner) = &query.partner {
        conditions.push("partner = ?");
        args.push(Value::Text(partner.clone()));
    }
    if let Some(direction) = query.direction {
        conditions.push("direction = ?");
        args.push(Value::Text(direction.as_str().to_owned()));
    }
    if let Some(since) = query.since {
        conditions.push("time >= ?");
        args.push(Value::Integer(since.0));
    }
    if let Some(after) = query.after_seq {
        conditions.push("seq > ?");
        args.push(Value::Integer(i64::try_from(after).unwrap_or(i64::MAX)));
    }
    let mut sql = format!("SELECT {COLUMNS} FROM ledger");
    if !conditions.is_empty() {
        sql.push_str(" WHERE ");
        sql.push_str(&conditions.join(" AND "));
    }
    sql.push_str(" ORDER BY seq");
    // In the text, as for object pages: SQLite's planner reads a LIMIT's value.
    if let Some(limit) = query.limit {
        sql.push_str(&format!(
            " LIMIT {}",
            i64::try_from(limit).unwrap_or(i64::MAX)
        ));
    }
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt
        .query_map(params_from_iter(args), row)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    rows.into_iter().map(from_row).collect()
}

/// Tampering is backend-specific, so these tests edit the SQLite file directly, as
/// someone with access to it could, and check that [`crate::ledger::verify`] names
/// the entry where the chain breaks.
#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use std::sync::Arc;

    use uuid::Uuid;

    use crate::ledger::{BreakReason, LedgerBreak, NewLedgerEntry, sha256_hex, verify};
    use crate::{
        Channel, Direction, LedgerQuery, ManualClock, Micros, Provenance, SignatureCheck,
        SqliteStore, Store, StoreError, SyncCursor, SyncStep,
    };

    fn entry(n: u32) -> NewLedgerEntry {
        NewLedgerEntry {
            direction: Direction::Disclosed,
            partner: Some("paris".into()),
            channel: Some(Channel::Pull),
            collection: Uuid::from_u128(1),
            object_id: format!("indicator--{n}"),
            version: "2021-01-01T00:00:00.000Z".into(),
            bytes_sha256: sha256_hex(&n.to_be_bytes()),
            rule: "own-data".into(),
        }
    }

    /// A store on a temporary file holding a ten-entry ledger, and a raw connection on it.
    async fn ledger_of_ten() -> (tempfile::TempDir, SqliteStore, rusqlite::Connection) {
        let dir = tempfile::tempdir().unwrap();
        let clock = Arc::new(ManualClock::new(Micros(1_000)));
        let store = SqliteStore::open(dir.path(), clock.clone()).unwrap();
        for batch in 0..5 {
            store
                .append_ledger(vec![entry(batch * 2), entry(batch * 2 + 1)], None)
                .await
                .unwrap();
            clock.advance(1);
        }
        let raw = rusqlite::Connection::open(store.path()).unwrap();
        (dir, store, raw)
    }

    async fn verified(store: &SqliteStore) -> Result<u64, LedgerBreak> {
        verify(&store.ledger(&LedgerQuery::default()).await.unwrap())
    }

    fn broken(seq: u64, reason: BreakReason) -> Result<u64, LedgerBreak> {
        Err(LedgerBreak { seq, reason })
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn an_intact_ledger_verifies() {
        let (_dir, store, _raw) = ledger_of_ten().await;
        assert_eq!(verified(&store).await, Ok(10));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn an_edited_field_is_named() {
        for (column, value) in [
            ("rule", "'third-party-clear'"),
            ("partner", "'madrid'"),
            ("channel", "'file'"),
            ("direction", "'received'"),
            ("object_id", "'indicator--99'"),
            ("version", "'2021-01-01T00:00:00Z'"),
            ("bytes_sha256", &format!("'{}'", sha256_hex(b"other"))),
            ("time", "999999"),
            ("collection", &format!("'{}'", Uuid::from_u128(2))),
            ("hash", &format!("'{}'", sha256_hex(b"forged"))),
        ] {
            let (_dir, store, raw) = ledger_of_ten().await;
            raw.execute(
                &format!("UPDATE ledger SET {column} = {value} WHERE seq = 5"),
                [],
            )
            .unwrap();
            assert_eq!(
                verified(&store).await,
                broken(5, BreakReason::HashMismatch),
                "{column}"
            );
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn an_edit_with_its_hash_recomputed_breaks_the_next_link() {
        let (_dir, store, raw) = ledger_of_ten().await;
        let mut entries = store.ledger(&LedgerQuery::default()).await.unwrap();
        let forged = &mut entries[5];
        forged.rule = "third-party-clear".into();
        forged.hash = crate::ledger::entry_hash(forged);
        raw.execute(
            "UPDATE ledger SET rule = ?1, hash = ?2 WHERE seq = 6",
            [&forged.rule, &forged.hash],
        )
        .unwrap();
        assert_eq!(verified(&store).await, broken(7, BreakReason::BrokenLink));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_deleted_row_is_named() {
        let (_dir, store, raw) = ledger_of_ten().await;
        raw.execute("DELETE FROM ledger WHERE seq = 4", []).unwrap();
        assert_eq!(
            verified(&store).await,
            broken(5, BreakReason::Gap { expected: 4 })
        );
        // Renumbering the rows after it to close the gap breaks the link instead.
        raw.execute_batch(
            "UPDATE ledger SET seq = -seq WHERE seq > 4; UPDATE ledger SET seq = -seq - 1 WHERE seq < 0;",
        )
        .unwrap();
        assert_eq!(verified(&store).await, broken(4, BreakReason::BrokenLink));
        // The first row deleted.
        let (_dir, store, raw) = ledger_of_ten().await;
        raw.execute("DELETE FROM ledger WHERE seq = 1", []).unwrap();
        assert_eq!(
            verified(&store).await,
            broken(2, BreakReason::Gap { expected: 1 })
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn swapped_rows_are_named() {
        // Contents swapped, each row keeping its seq.
        let (_dir, store, raw) = ledger_of_ten().await;
        raw.execute_batch(
            "UPDATE ledger SET seq = 0 WHERE seq = 3;
             UPDATE ledger SET seq = 3 WHERE seq = 7;
             UPDATE ledger SET seq = 7 WHERE seq = 0;",
        )
        .unwrap();
        assert_eq!(verified(&store).await, broken(3, BreakReason::BrokenLink));
        // Neighbours swapped.
        let (_dir, store, raw) = ledger_of_ten().await;
        raw.execute_batch(
            "UPDATE ledger SET seq = 0 WHERE seq = 8;
             UPDATE ledger SET seq = 8 WHERE seq = 9;
             UPDATE ledger SET seq = 9 WHERE seq = 0;",
        )
        .unwrap();
        assert_eq!(verified(&store).await, broken(8, BreakReason::BrokenLink));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn an_unreadable_row_is_named() {
        let (_dir, store, raw) = ledger_of_ten().await;
        raw.execute("UPDATE ledger SET collection = 'garbage' WHERE seq = 6", [])
            .unwrap();
        let err = store.ledger(&LedgerQuery::default()).await.unwrap_err();
        let message = format!("{err}: {}", std::error::Error::source(&err).unwrap());
        assert!(message.contains("ledger entry 6"), "{message}");
        // The schema refuses words the program does not write.
        assert!(
            raw.execute("UPDATE ledger SET direction = 'sent' WHERE seq = 6", [])
                .is_err()
        );
    }

    /// The chain continues from whatever is last: appends after a tampered tail link to it,
    /// so the break stays visible.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn appends_after_a_truncation_stay_detectable_only_by_an_anchor() {
        let (_dir, store, raw) = ledger_of_ten().await;
        let head = store.ledger_head().await.unwrap().unwrap();
        raw.execute("DELETE FROM ledger WHERE seq > 8", []).unwrap();
        let appended = store.append_ledger(vec![entry(10)], None).await.unwrap();
        assert_eq!(appended[0].seq, 9);
        // The chain itself holds; a head remembered elsewhere shows the loss.
        assert_eq!(verified(&store).await, Ok(9));
        assert_ne!(appended[0].hash, head.hash);
    }

    /// A failure anywhere in the transaction that stores objects, their received entries
    /// and the cursor leaves none of them.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn objects_entries_and_cursor_are_one_transaction() {
        let dir = tempfile::tempdir().unwrap();
        let collection = Uuid::from_u128(9);
        let store = super::super::testing::store_with_collection(
            dir.path(),
            Arc::new(ManualClock::new(Micros(1))),
            collection,
        )
        .await;
        let object = |n: u32| {
            super::super::testing::indicator(
                &format!("indicator--{n:08x}-0000-4000-8000-000000000000"),
                "2020-01-01T00:00:00.000Z",
            )
        };
        let paris = Provenance::Partner {
            partner: "paris".into(),
            channel: Channel::Pull,
            signature: SignatureCheck::Unsigned,
        };
        let cursor = |text: &str| SyncCursor {
            partner: "paris".into(),
            collection: "remote".into(),
            direction: Channel::Pull,
            cursor: text.into(),
        };
        let raw = rusqlite::Connection::open(store.path()).unwrap();
        let state = |store: SqliteStore| async move {
            let objects = store
                .manifest(collection, &crate::ObjectQuery::default())
                .await
                .unwrap()
                .records
                .len();
            let entries = store.ledger(&LedgerQuery::default()).await.unwrap().len();
            let cursor = store
                .sync_cursor("paris", "remote", Channel::Pull)
                .await
                .unwrap();
            (objects, entries, cursor)
        };
        for table in ["sync_state", "ledger", "objects"] {
            raw.execute_batch(&format!(
                "CREATE TRIGGER refuse BEFORE INSERT ON {table} \
                 BEGIN SELECT RAISE(ABORT, 'refused'); END;"
            ))
            .unwrap();
            let result = store
                .add_objects_in_sync(
                    collection,
                    &paris,
                    vec![object(1)],
                    SyncStep::to(cursor("one")),
                )
                .await;
            assert!(matches!(result, Err(StoreError::Backend(_))), "{table}");
            assert_eq!(state(store.clone()).await, (0, 0, None), "{table}");
            raw.execute_batch("DROP TRIGGER refuse;").unwrap();
        }
        store
            .add_objects_in_sync(
                collection,
                &paris,
                vec![object(1)],
                SyncStep::to(cursor("one")),
            )
            .await
            .unwrap();
        assert_eq!(state(store.clone()).await, (1, 1, Some("one".into())));

        // A delete whose ledger entry cannot be written deletes nothing.
        raw.execute_batch(
            "CREATE TRIGGER refuse BEFORE INSERT ON ledger \
             BEGIN SELECT RAISE(ABORT, 'refused'); END;",
        )
        .unwrap();
        let id = object(1).id;
        assert!(
            store
                .delete_object(collection, &id, &crate::DeleteFilter::default())
                .await
                .is_err()
        );
        assert_eq!(state(store.clone()).await, (1, 1, Some("one".into())));
        // Entries appended with a cursor: neither without the other.
        assert!(
            store
                .append_ledger(vec![entry(1)], Some(cursor("two")))
                .await
                .is_err()
        );
        assert_eq!(state(store.clone()).await, (1, 1, Some("one".into())));
        raw.execute_batch(
            "DROP TRIGGER refuse; CREATE TRIGGER refuse BEFORE INSERT ON sync_state \
             BEGIN SELECT RAISE(ABORT, 'refused'); END;",
        )
        .unwrap();
        assert!(
            store
                .append_ledger(vec![entry(1)], Some(cursor("two")))
                .await
                .is_err()
        );
        assert_eq!(state(store.clone()).await, (1, 1, Some("one".into())));
    }
}
