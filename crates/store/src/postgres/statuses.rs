//! Status resources in PostgreSQL: one row each, the detail lists as one JSON text
//! (written and read whole, never queried inside), as in SQLite; listed in id order
//! for a copy. The JSON text escapes a NUL in a message as `\u0000`, so `text` holds any
//! message (`jsonb` would refuse that escape).

use deadpool_postgres::GenericClient;
use tokio_postgres::Row;
use uuid::Uuid;

use super::{is_unique_violation, nul, to_i64, to_u64};
use crate::error::{Result, StoreError};
use crate::status::{Status, details_json, parse_details};
use crate::time::Micros;

pub async fn create(client: &impl GenericClient, status: &Status) -> Result<()> {
    let stmt = client
        .prepare_cached(
            "INSERT INTO statuses (id, account, request_timestamp, total_count, details) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .await?;
    let inserted = client
        .execute(
            &stmt,
            &[
                &status.id,
                &nul::stored("status account", &status.account)?,
                &status.request_timestamp.0,
                &to_i64(status.total_count),
                &details_json(status),
            ],
        )
        .await;
    match inserted {
        Err(e) if is_unique_violation(&e) => {
            Err(StoreError::Conflict(format!("status {} exists", status.id)))
        }
        Err(e) => Err(e.into()),
        Ok(_) => Ok(()),
    }
}

pub async fn update(client: &impl GenericClient, status: &Status) -> Result<()> {
    let stmt = client
        .prepare_cached(
            "UPDATE statuses SET account = $2, request_timestamp = $3, total_count = $4, \
             details = $5 WHERE id = $1",
        )
        .await?;
    let n = client
        .execute(
            &stmt,
            &[
                &status.id,
                &nul::stored("status account", &status.account)?,
                &status.request_timestamp.0,
                &to_i64(status.total_count),
                &details_json(status),
            ],
        )
        .await?;
    if n == 0 {
        return Err(StoreError::not_found("status", status.id));
    }
    Ok(())
}

const COLUMNS: &str = "id, account, request_timestamp, total_count, details";

fn from_row(row: &Row) -> Result<Status> {
    let details: String = row.try_get(4)?;
    Ok(Status {
        id: row.try_get(0)?,
        account: row.try_get(1)?,
        request_timestamp: Micros(row.try_get(2)?),
        total_count: to_u64(row.try_get(3)?),
        successes: parse_details(&details, "successes")?,
        failures: parse_details(&details, "failures")?,
        pendings: parse_details(&details, "pendings")?,
    })
}

pub async fn get(client: &impl GenericClient, id: Uuid) -> Result<Status> {
    let stmt = client
        .prepare_cached(&format!("SELECT {COLUMNS} FROM statuses WHERE id = $1"))
        .await?;
    let row = client
        .query_opt(&stmt, &[&id])
        .await?
        .ok_or_else(|| StoreError::not_found("status", id))?;
    from_row(&row)
}

/// Up to `limit` statuses with an id greater than `after` (`None`: from the first), in
/// id order (PostgreSQL orders `uuid`s by their bytes, which is the order of their text,
/// as SQLite lists them).
pub async fn list(
    client: &impl GenericClient,
    after: Option<Uuid>,
    limit: usize,
) -> Result<Vec<Status>> {
    if limit == 0 {
        return Err(StoreError::Invalid("limit must be at least 1".into()));
    }
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let rows = match after {
        Some(after) => {
            let stmt = client
                .prepare_cached(&format!(
                    "SELECT {COLUMNS} FROM statuses WHERE id > $1 ORDER BY id LIMIT $2"
                ))
                .await?;
            client.query(&stmt, &[&after, &limit]).await?
        }
        None => {
            let stmt = client
                .prepare_cached(&format!(
                    "SELECT {COLUMNS} FROM statuses ORDER BY id LIMIT $1"
                ))
                .await?;
            client.query(&stmt, &[&limit]).await?
        }
    };
    rows.iter().map(from_row).collect()
}
