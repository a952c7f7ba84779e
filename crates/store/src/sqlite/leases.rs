//! The leases table in SQLite: each lease taken, renewed or freed by one statement
//! in an IMMEDIATE transaction, so processes sharing the file decide one at a time.

use std::time::Duration;

use rusqlite::{Connection, TransactionBehavior, params};

use crate::error::Result;
use crate::lease::{self, Lease};
use crate::time::Micros;

/// Takes or renews `name` for `holder` until `now + ttl` if it is free, expired at
/// `now`, or already `holder`'s; whether `holder` holds it afterwards.
pub fn try_take(
    conn: &mut Connection,
    now: Micros,
    name: &str,
    holder: &str,
    ttl: Duration,
) -> Result<bool> {
    let expires = lease::expiry(name, holder, now, ttl)?;
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    // The upsert's WHERE leaves a lease held by another, unexpired holder as it is,
    // and then nothing changes: the row count says who won.
    let changed = tx
        .prepare_cached(
            "INSERT INTO leases (name, holder, expires) VALUES (?1, ?2, ?3) \
             ON CONFLICT (name) DO UPDATE SET \
               holder = excluded.holder, expires = excluded.expires \
             WHERE leases.holder = excluded.holder OR leases.expires <= ?4",
        )?
        .execute(params![name, holder, expires.0, now.0])?;
    tx.commit()?;
    Ok(changed == 1)
}

/// Frees `name` if `holder` holds it.
pub fn release(conn: &mut Connection, name: &str, holder: &str) -> Result<()> {
    lease::check_names(name, holder)?;
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    tx.prepare_cached("DELETE FROM leases WHERE name = ?1 AND holder = ?2")?
        .execute(params![name, holder])?;
    tx.commit()?;
    Ok(())
}

/// The leases that have not expired at `now`, by name.
pub fn in_force(conn: &Connection, now: Micros) -> Result<Vec<Lease>> {
    let mut stmt = conn.prepare_cached(
        "SELECT name, holder, expires FROM leases WHERE expires > ?1 ORDER BY name",
    )?;
    let leases = stmt
        .query_map([now.0], |row| {
            Ok(Lease {
                name: row.get(0)?,
                holder: row.get(1)?,
                expires: Micros(row.get(2)?),
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(leases)
}
