//! The sync_state table in SQLite: per partner, collection and channel, the cursor an
//! exchange resumes from and how its attempts went.

use rusqlite::{Connection, OptionalExtension, params};

use crate::error::{Result, StoreError};
use crate::partner::{Channel, SyncState, SyncStep};
use crate::time::Micros;

/// The saved cursor of one exchange, if any.
pub fn cursor(
    conn: &Connection,
    partner: &str,
    collection: &str,
    direction: Channel,
) -> Result<Option<String>> {
    Ok(conn
        .prepare_cached(
            "SELECT cursor FROM sync_state \
             WHERE partner = ?1 AND collection = ?2 AND direction = ?3",
        )?
        .query_row(params![partner, collection, direction.as_str()], |row| {
            row.get::<_, Option<String>>(0)
        })
        .optional()?
        .flatten())
}

/// Saves a cursor, inside whatever transaction the connection is in.
fn save_cursor(
    conn: &Connection,
    partner: &str,
    collection: &str,
    direction: Channel,
    cursor: &str,
) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO sync_state (partner, collection, direction, cursor) \
         VALUES (?1, ?2, ?3, ?4) \
         ON CONFLICT (partner, collection, direction) DO UPDATE SET cursor = excluded.cursor",
    )?
    .execute(params![partner, collection, direction.as_str(), cursor])?;
    Ok(())
}

/// Moves an exchange by one step inside whatever transaction `conn` is in: saves the
/// step's cursor if it has one, and records `moved` objects as a success at `now` if
/// there are any.
pub fn advance(conn: &Connection, now: Micros, step: &SyncStep, moved: u64) -> Result<()> {
    if let Some(cursor) = &step.cursor {
        save_cursor(
            conn,
            &step.partner,
            &step.collection,
            step.direction,
            cursor,
        )?;
    }
    if moved > 0 {
        record_attempt(
            conn,
            now,
            &step.partner,
            &step.collection,
            step.direction,
            &Ok(moved),
        )?;
    }
    Ok(())
}

/// Records an attempt at `now`: a success sets `last_success`, clears the error and adds
/// its objects to the total; a failure keeps the error and leaves the rest.
pub fn record_attempt(
    conn: &Connection,
    now: Micros,
    partner: &str,
    collection: &str,
    direction: Channel,
    outcome: &std::result::Result<u64, String>,
) -> Result<()> {
    let (success, error, objects) = match outcome {
        Ok(objects) => (
            Some(now.0),
            None,
            i64::try_from(*objects)
                .map_err(|_| StoreError::Invalid(format!("object count {objects} is too large")))?,
        ),
        Err(error) => (None, Some(error.as_str()), 0),
    };
    conn.prepare_cached(
        "INSERT INTO sync_state \
           (partner, collection, direction, last_attempt, last_success, last_error, objects) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) \
         ON CONFLICT (partner, collection, direction) DO UPDATE SET \
           last_attempt = excluded.last_attempt, \
           last_success = COALESCE(excluded.last_success, last_success), \
           last_error = excluded.last_error, \
           objects = objects + excluded.objects",
    )?
    .execute(params![
        partner,
        collection,
        direction.as_str(),
        now.0,
        success,
        error,
        objects
    ])?;
    Ok(())
}

/// Every exchange's state, by partner, collection and channel.
pub fn list(conn: &Connection) -> Result<Vec<SyncState>> {
    let mut stmt = conn.prepare_cached(
        "SELECT partner, collection, direction, cursor, last_success, last_attempt, \
           last_error, objects \
         FROM sync_state ORDER BY partner, collection, direction",
    )?;
    let rows = stmt
        .query_map([], |row| {
            Ok((
                row.get::<_, String>(0)?,
                row.get::<_, String>(1)?,
                row.get::<_, String>(2)?,
                row.get::<_, Option<String>>(3)?,
                row.get::<_, Option<i64>>(4)?,
                row.get::<_, Option<i64>>(5)?,
                row.get::<_, Option<String>>(6)?,
                row.get::<_, i64>(7)?,
            ))
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    rows.into_iter()
        .map(
            |(partner, collection, direction, cursor, success, attempt, error, objects)| {
                Ok(SyncState {
                    direction: direction.parse().map_err(|_| {
                        StoreError::backend(format!(
                            "sync state of {partner:?} has an unknown direction {direction:?}"
                        ))
                    })?,
                    partner,
                    collection,
                    cursor,
                    last_success: success.map(Micros),
                    last_attempt: attempt.map(Micros),
                    last_error: error,
                    objects: u64::try_from(objects).unwrap_or(0),
                })
            },
        )
        .collect()
}
