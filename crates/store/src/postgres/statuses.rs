//! Status resources in PostgreSQL: one row each, the detail lists as one JSON text
//! (written and read whole, never queried inside), as in SQLite.

use deadpool_postgres::GenericClient;
use uuid::Uuid;

use super::{is_unique_violation, to_i64, to_u64};
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
                &status.account,
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
                &status.account,
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

pub async fn get(client: &impl GenericClient, id: Uuid) -> Result<Status> {
    let stmt = client
        .prepare_cached(
            "SELECT account, request_timestamp, total_count, details FROM statuses WHERE id = $1",
        )
        .await?;
    let row = client
        .query_opt(&stmt, &[&id])
        .await?
        .ok_or_else(|| StoreError::not_found("status", id))?;
    let details: String = row.try_get(3)?;
    Ok(Status {
        id,
        account: row.try_get(0)?,
        request_timestamp: Micros(row.try_get(1)?),
        total_count: to_u64(row.try_get(2)?),
        successes: parse_details(&details, "successes")?,
        failures: parse_details(&details, "failures")?,
        pendings: parse_details(&details, "pendings")?,
    })
}
