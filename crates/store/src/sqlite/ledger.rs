//! The ledger table in SQLite: appends chained under the writer's IMMEDIATE transaction,
//! and reads in `seq` order.

use rusqlite::types::Value;
use rusqlite::{Connection, OptionalExtension, Row, TransactionBehavior, params, params_from_iter};

use super::sync;
use crate::error::{Result, StoreError};
use crate::ledger::{LedgerEntry, LedgerQuery, NewLedgerEntry};
use crate::partner::SyncCursor;
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
    let mut insert = tx.prepare_cached(&format!(
        "INSERT INTO ledger ({COLUMNS}) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)"
    ))?;
    let mut appended = Vec::with_capacity(entries.len());
    for entry in entries {
        let entry = LedgerEntry::after(prev.as_ref(), now, entry);
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
        prev = Some(entry.clone());
        appended.push(entry);
    }
    Ok(appended)
}

/// Appends `entries` and saves `cursor` in one IMMEDIATE transaction.
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
    let appended = append_in(&tx, clock.now(), entries)?;
    if let Some(cursor) = cursor {
        sync::set_cursor(&tx, cursor)?;
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
