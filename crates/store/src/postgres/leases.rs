//! The leases table in PostgreSQL: each lease taken, renewed or freed by one
//! statement, so processes sharing the database decide one at a time.
//!
//! Taking is an upsert whose `ON CONFLICT … DO UPDATE … WHERE` decides: PostgreSQL
//! locks the conflicting row and evaluates the `WHERE` on its latest committed
//! version, so of callers racing for one lease exactly one changes the row (an
//! insert or an update: one row affected); the others affect none and learn so from
//! the count. "Now" is the store's [`Clock`](crate::Clock), as for `date_added`.

use std::time::Duration;

use deadpool_postgres::GenericClient;

use super::nul;
use crate::error::Result;
use crate::lease::{self, Lease};
use crate::time::Micros;

/// Takes or renews `name` for `holder` until `now + ttl` if it is free, expired at
/// `now`, or already `holder`'s; whether `holder` holds it afterwards.
pub async fn try_take(
    client: &impl GenericClient,
    now: Micros,
    name: &str,
    holder: &str,
    ttl: Duration,
) -> Result<bool> {
    let expires = lease::expiry(name, holder, now, ttl)?;
    let stmt = client
        .prepare_cached(
            "INSERT INTO leases (name, holder, expires) VALUES ($1, $2, $3) \
             ON CONFLICT (name) DO UPDATE SET \
               holder = excluded.holder, expires = excluded.expires \
             WHERE leases.holder = excluded.holder OR leases.expires <= $4",
        )
        .await?;
    let changed = client
        .execute(
            &stmt,
            &[
                &nul::stored("lease name", name)?,
                &nul::stored("lease holder", holder)?,
                &expires.0,
                &now.0,
            ],
        )
        .await?;
    Ok(changed == 1)
}

/// Frees `name` if `holder` holds it.
pub async fn release(client: &impl GenericClient, name: &str, holder: &str) -> Result<()> {
    lease::check_names(name, holder)?;
    let stmt = client
        .prepare_cached("DELETE FROM leases WHERE name = $1 AND holder = $2")
        .await?;
    client
        .execute(&stmt, &[&nul::key(name), &nul::key(holder)])
        .await?;
    Ok(())
}

/// The leases that have not expired at `now`, by name.
pub async fn in_force(client: &impl GenericClient, now: Micros) -> Result<Vec<Lease>> {
    let stmt = client
        .prepare_cached("SELECT name, holder, expires FROM leases WHERE expires > $1 ORDER BY name")
        .await?;
    client
        .query(&stmt, &[&now.0])
        .await?
        .iter()
        .map(|row| {
            Ok(Lease {
                name: row.try_get(0)?,
                holder: row.try_get(1)?,
                expires: Micros(row.try_get(2)?),
            })
        })
        .collect()
}
