//! The ledger table in PostgreSQL: appends chained under the ledger's advisory lock
//! ([`LEDGER_LOCK`]) inside the caller's transaction, restores of a copied chain under
//! the same lock, and reads in `seq` order.

use deadpool_postgres::{GenericClient, Transaction};
use tokio_postgres::Row;
use tokio_postgres::types::ToSql;

use super::{LEDGER_LOCK, nul, sync};
use crate::error::{Result, StoreError};
use crate::ledger::{LedgerEntry, LedgerQuery, NewLedgerEntry};
use crate::partner::{SyncCursor, SyncStep};
use crate::time::{Clock, Micros};

const COLUMNS: &str = "seq, time, direction, partner, channel, collection, object_id, version, \
     bytes_sha256, rule, prev_hash, hash";

fn from_row(row: &Row) -> Result<LedgerEntry> {
    let seq: i64 = row.try_get(0)?;
    // The schema's CHECKs keep words valid; a value that still does not parse was
    // written outside this program, and the message says which entry holds it.
    let unreadable = |column: &str, value: &str| {
        StoreError::backend(format!(
            "ledger entry {seq} has an unreadable {column} {value:?} (edited outside Passerelle?)"
        ))
    };
    let direction: String = row.try_get(2)?;
    let channel: Option<String> = row.try_get(4)?;
    Ok(LedgerEntry {
        seq: u64::try_from(seq).map_err(|_| unreadable("seq", &seq.to_string()))?,
        time: Micros(row.try_get(1)?),
        direction: direction
            .parse()
            .map_err(|_| unreadable("direction", &direction))?,
        partner: row.try_get(3)?,
        channel: channel
            .as_deref()
            .map(|c| c.parse().map_err(|_| unreadable("channel", c)))
            .transpose()?,
        collection: row.try_get(5)?,
        object_id: row.try_get(6)?,
        version: row.try_get(7)?,
        bytes_sha256: row.try_get(8)?,
        rule: row.try_get(9)?,
        prev_hash: row.try_get(10)?,
        hash: row.try_get(11)?,
    })
}

/// The last entry, the one the next append continues from.
pub async fn head(client: &impl GenericClient) -> Result<Option<LedgerEntry>> {
    let stmt = client
        .prepare_cached(&format!(
            "SELECT {COLUMNS} FROM ledger ORDER BY seq DESC LIMIT 1"
        ))
        .await?;
    client
        .query_opt(&stmt, &[])
        .await?
        .as_ref()
        .map(from_row)
        .transpose()
}

/// Appends `entries` inside the caller's transaction: takes the ledger's advisory lock
/// (held until that transaction ends, so no other process appends in between), reads
/// the last entry and chains after it with [`LedgerEntry::after`], in one INSERT.
///
/// A caller that also writes objects takes its collection's row lock before calling
/// this, never after: locks are always taken collection first, then ledger.
pub async fn append_in(
    tx: &Transaction<'_>,
    now: Micros,
    entries: Vec<NewLedgerEntry>,
) -> Result<Vec<LedgerEntry>> {
    if entries.is_empty() {
        return Ok(Vec::new());
    }
    for entry in &entries {
        entry.check()?;
    }
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&LEDGER_LOCK])
        .await?;
    let mut prev = head(tx).await?;
    let mut appended = Vec::with_capacity(entries.len());
    for entry in entries {
        let entry = LedgerEntry::after(prev.as_ref(), now, entry);
        prev = Some(entry.clone());
        appended.push(entry);
    }
    insert(tx, &appended).await?;
    Ok(appended)
}

/// Inserts chained entries in one statement, a column per array.
async fn insert(tx: &Transaction<'_>, entries: &[LedgerEntry]) -> Result<()> {
    let mut seqs = Vec::with_capacity(entries.len());
    for entry in entries {
        seqs.push(
            i64::try_from(entry.seq)
                .map_err(|_| StoreError::backend("the ledger is full (seq overflows)"))?,
        );
    }
    let times: Vec<i64> = entries.iter().map(|e| e.time.0).collect();
    let directions: Vec<&str> = entries.iter().map(|e| e.direction.as_str()).collect();
    let partners = entries
        .iter()
        .map(|e| nul::stored_opt("ledger partner", e.partner.as_deref()))
        .collect::<Result<Vec<_>>>()?;
    let channels: Vec<Option<&str>> = entries
        .iter()
        .map(|e| e.channel.map(|c| c.as_str()))
        .collect();
    let collections: Vec<uuid::Uuid> = entries.iter().map(|e| e.collection).collect();
    let text = |field: &str, f: fn(&LedgerEntry) -> &str| -> Result<Vec<&str>> {
        entries.iter().map(|e| nul::stored(field, f(e))).collect()
    };
    let object_ids = text("ledger object id", |e| &e.object_id)?;
    let versions = text("ledger version", |e| &e.version)?;
    let sha256s = text("ledger bytes SHA-256", |e| &e.bytes_sha256)?;
    let rules = text("ledger rule", |e| &e.rule)?;
    let prev_hashes = text("ledger previous hash", |e| &e.prev_hash)?;
    let hashes = text("ledger hash", |e| &e.hash)?;
    let stmt = tx
        .prepare_cached(&format!(
            "INSERT INTO ledger ({COLUMNS}) \
             SELECT * FROM UNNEST($1::bigint[], $2::bigint[], $3::text[], $4::text[], \
               $5::text[], $6::uuid[], $7::text[], $8::text[], $9::text[], $10::text[], \
               $11::text[], $12::text[])"
        ))
        .await?;
    let params: [&(dyn ToSql + Sync); 12] = [
        &seqs,
        &times,
        &directions,
        &partners,
        &channels,
        &collections,
        &object_ids,
        &versions,
        &sha256s,
        &rules,
        &prev_hashes,
        &hashes,
    ];
    tx.execute(&stmt, &params).await?;
    Ok(())
}

/// Appends entries read from another store exactly as they are, in one transaction
/// under the ledger's advisory lock (as appends take it), each checked against the
/// entry before it with [`LedgerEntry::check_follows`]; the first that does not follow
/// refuses the whole batch.
pub async fn restore(
    client: &mut deadpool_postgres::Object,
    entries: Vec<LedgerEntry>,
) -> Result<()> {
    if entries.is_empty() {
        return Ok(());
    }
    let tx = client.transaction().await?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&LEDGER_LOCK])
        .await?;
    let head = head(&tx).await?;
    let mut prev = head.as_ref();
    for entry in &entries {
        entry.check_follows(prev)?;
        prev = Some(entry);
    }
    insert(&tx, &entries).await?;
    tx.commit().await?;
    Ok(())
}

/// Appends `entries` and saves `cursor`, counting the disclosures towards its
/// exchange, in one transaction.
pub async fn append(
    client: &mut deadpool_postgres::Object,
    clock: &dyn Clock,
    entries: Vec<NewLedgerEntry>,
    cursor: Option<&SyncCursor>,
) -> Result<Vec<LedgerEntry>> {
    // Refused before taking any lock.
    for entry in &entries {
        entry.check()?;
    }
    let tx = client.transaction().await?;
    let now = clock.now();
    let disclosed = NewLedgerEntry::count_disclosed(&entries);
    let appended = append_in(&tx, now, entries).await?;
    if let Some(cursor) = cursor {
        sync::advance(&tx, now, &SyncStep::to(cursor.clone()), disclosed).await?;
    }
    tx.commit().await?;
    Ok(appended)
}

/// The entries `query` selects, in `seq` order.
pub async fn list(client: &impl GenericClient, query: &LedgerQuery) -> Result<Vec<LedgerEntry>> {
    query.check()?;
    let partner = query.partner.as_deref().map(nul::key);
    let direction = query.direction.map(|d| d.as_str());
    let since = query.since.map(|m| m.0);
    let after = query
        .after_seq
        .map(|seq| i64::try_from(seq).unwrap_or(i64::MAX));
    let limit = query.limit.map(|n| i64::try_from(n).unwrap_or(i64::MAX));
    let mut sql = format!("SELECT {COLUMNS} FROM ledger");
    let mut params: Vec<&(dyn ToSql + Sync)> = Vec::new();
    if let Some(partner) = &partner {
        condition(&mut sql, &mut params, "partner =", partner);
    }
    if let Some(direction) = &direction {
        condition(&mut sql, &mut params, "direction =", direction);
    }
    if let Some(since) = &since {
        condition(&mut sql, &mut params, "time >=", since);
    }
    if let Some(after) = &after {
        condition(&mut sql, &mut params, "seq >", after);
    }
    sql.push_str(" ORDER BY seq");
    if let Some(limit) = &limit {
        params.push(limit);
        sql.push_str(&format!(" LIMIT ${}", params.len()));
    }
    let stmt = client.prepare_cached(&sql).await?;
    client
        .query(&stmt, &params)
        .await?
        .iter()
        .map(from_row)
        .collect()
}

/// Adds `WHERE`/`AND` `<column_op> $n` to `sql`, `value` being parameter `n`.
fn condition<'a>(
    sql: &mut String,
    params: &mut Vec<&'a (dyn ToSql + Sync)>,
    column_op: &str,
    value: &'a (dyn ToSql + Sync),
) {
    params.push(value);
    let joiner = if params.len() == 1 {
        " WHERE "
    } else {
        " AND "
    };
    sql.push_str(&format!("{joiner}{column_op} ${}", params.len()));
}
