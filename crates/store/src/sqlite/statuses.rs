//! Status resources in SQLite: one row each, the detail lists as one JSON text
//! (written and read whole, never queried inside).

use rusqlite::{Connection, OptionalExtension, params};
use uuid::Uuid;

use super::collections::parse_uuid;
use super::is_constraint;
use crate::error::{Result, StoreError};
use crate::status::{Status, details_json, parse_details};
use crate::time::Micros;

fn to_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

pub fn create(conn: &Connection, status: &Status) -> Result<()> {
    let inserted = conn
        .prepare_cached(
            "INSERT INTO statuses (id, account, request_timestamp, total_count, details) \
             VALUES (?1, ?2, ?3, ?4, ?5)",
        )?
        .execute(params![
            status.id.to_string(),
            status.account,
            status.request_timestamp.0,
            to_i64(status.total_count),
            details_json(status),
        ]);
    match inserted {
        Err(e) if is_constraint(&e) => {
            Err(StoreError::Conflict(format!("status {} exists", status.id)))
        }
        Err(e) => Err(e.into()),
        Ok(_) => Ok(()),
    }
}

pub fn update(conn: &Connection, status: &Status) -> Result<()> {
    let n = conn
        .prepare_cached(
            "UPDATE statuses SET account = ?2, request_timestamp = ?3, total_count = ?4, \
             details = ?5 WHERE id = ?1",
        )?
        .execute(params![
            status.id.to_string(),
            status.account,
            status.request_timestamp.0,
            to_i64(status.total_count),
            details_json(status),
        ])?;
    if n == 0 {
        return Err(StoreError::not_found("status", status.id));
    }
    Ok(())
}

/// Up to `limit` statuses after `after`, in id order (the text order of lowercase
/// hyphenated UUIDs is their byte order).
pub fn list(conn: &Connection, after: Option<Uuid>, limit: usize) -> Result<Vec<Status>> {
    if limit == 0 {
        return Err(StoreError::Invalid("limit must be at least 1".into()));
    }
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT id, account, request_timestamp, total_count, details FROM statuses \
         WHERE id > ?1 ORDER BY id LIMIT {limit}"
    ))?;
    let rows = stmt
        .query_map(
            [after.map(|id| id.to_string()).unwrap_or_default()],
            |row| {
                Ok((
                    row.get::<_, String>(0)?,
                    row.get::<_, String>(1)?,
                    row.get::<_, i64>(2)?,
                    row.get::<_, i64>(3)?,
                    row.get::<_, String>(4)?,
                ))
            },
        )?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    rows.into_iter()
        .map(|(id, account, request_timestamp, total_count, details)| {
            from_row(
                parse_uuid(&id)?,
                account,
                request_timestamp,
                total_count,
                &details,
            )
        })
        .collect()
}

fn from_row(
    id: Uuid,
    account: String,
    request_timestamp: i64,
    total_count: i64,
    details: &str,
) -> Result<Status> {
    Ok(Status {
        id,
        account,
        request_timestamp: Micros(request_timestamp),
        total_count: u64::try_from(total_count).unwrap_or_default(),
        successes: parse_details(details, "successes")?,
        failures: parse_details(details, "failures")?,
        pendings: parse_details(details, "pendings")?,
    })
}

pub fn get(conn: &Connection, id: Uuid) -> Result<Status> {
    let found = conn
        .prepare_cached(
            "SELECT account, request_timestamp, total_count, details FROM statuses WHERE id = ?1",
        )?
        .query_row([id.to_string()], |row| {
            Ok((
                row.get::<_, String>(0)?,
                row.get::<_, i64>(1)?,
                row.get::<_, i64>(2)?,
                row.get::<_, String>(3)?,
            ))
        })
        .optional()?;
    let (account, request_timestamp, total_count, details) =
        found.ok_or_else(|| StoreError::not_found("status", id))?;
    from_row(id, account, request_timestamp, total_count, &details)
}
