//! The sync_state table in PostgreSQL: per partner, collection and channel, the cursor
//! an exchange resumes from and how its attempts went.

use deadpool_postgres::GenericClient;

use super::{nul, to_i64, to_u64};
use crate::error::{Result, StoreError};
use crate::partner::{Channel, SyncState, SyncStep};
use crate::time::Micros;

/// The saved cursor of one exchange, if any.
pub async fn cursor(
    client: &impl GenericClient,
    partner: &str,
    collection: &str,
    direction: Channel,
) -> Result<Option<String>> {
    let stmt = client
        .prepare_cached(
            "SELECT cursor FROM sync_state \
             WHERE partner = $1 AND collection = $2 AND direction = $3",
        )
        .await?;
    match client
        .query_opt(
            &stmt,
            &[
                &nul::key(partner),
                &nul::key(collection),
                &direction.as_str(),
            ],
        )
        .await?
    {
        Some(row) => Ok(row.try_get(0)?),
        None => Ok(None),
    }
}

/// Saves a cursor, inside whatever transaction the connection is in.
async fn save_cursor(
    client: &impl GenericClient,
    partner: &str,
    collection: &str,
    direction: Channel,
    cursor: &str,
) -> Result<()> {
    let stmt = client
        .prepare_cached(
            "INSERT INTO sync_state (partner, collection, direction, cursor) \
             VALUES ($1, $2, $3, $4) \
             ON CONFLICT (partner, collection, direction) DO UPDATE SET cursor = excluded.cursor",
        )
        .await?;
    client
        .execute(
            &stmt,
            &[
                &nul::stored("sync partner", partner)?,
                &nul::stored("sync collection", collection)?,
                &direction.as_str(),
                &nul::stored("sync cursor", cursor)?,
            ],
        )
        .await?;
    Ok(())
}

/// Moves an exchange by one step inside whatever transaction `client` is in: saves
/// the step's cursor if it has one, and records `moved` objects as a success at `now`
/// if there are any.
pub async fn advance(
    client: &impl GenericClient,
    now: Micros,
    step: &SyncStep,
    moved: u64,
) -> Result<()> {
    if let Some(cursor) = &step.cursor {
        save_cursor(
            client,
            &step.partner,
            &step.collection,
            step.direction,
            cursor,
        )
        .await?;
    }
    if moved > 0 {
        record_attempt(
            client,
            now,
            &step.partner,
            &step.collection,
            step.direction,
            &Ok(moved),
        )
        .await?;
    }
    Ok(())
}

/// Records an attempt at `now`: a success sets `last_success`, clears the error and adds
/// its objects to the total; a failure keeps the error and leaves the rest.
pub async fn record_attempt(
    client: &impl GenericClient,
    now: Micros,
    partner: &str,
    collection: &str,
    direction: Channel,
    outcome: &std::result::Result<u64, String>,
) -> Result<()> {
    let (success, error, objects) = match outcome {
        Ok(objects) => {
            if i64::try_from(*objects).is_err() {
                return Err(StoreError::Invalid(format!(
                    "object count {objects} is too large"
                )));
            }
            (Some(now.0), None, to_i64(*objects))
        }
        // A message for people, which may quote a partner's answer: recorded even
        // with a NUL in it.
        Err(error) => (None, Some(nul::message(error)), 0),
    };
    let stmt = client
        .prepare_cached(
            "INSERT INTO sync_state AS s \
               (partner, collection, direction, last_attempt, last_success, last_error, objects) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) \
             ON CONFLICT (partner, collection, direction) DO UPDATE SET \
               last_attempt = excluded.last_attempt, \
               last_success = COALESCE(excluded.last_success, s.last_success), \
               last_error = excluded.last_error, \
               objects = s.objects + excluded.objects",
        )
        .await?;
    client
        .execute(
            &stmt,
            &[
                &nul::stored("sync partner", partner)?,
                &nul::stored("sync collection", collection)?,
                &direction.as_str(),
                &now.0,
                &success,
                &error,
                &objects,
            ],
        )
        .await?;
    Ok(())
}

/// Every exchange's state, by partner, collection and channel.
pub async fn list(client: &impl GenericClient) -> Result<Vec<SyncState>> {
    let stmt = client
        .prepare_cached(
            "SELECT partner, collection, direction, cursor, last_success, last_attempt, \
               last_error, objects \
             FROM sync_state ORDER BY partner, collection, direction",
        )
        .await?;
    client
        .query(&stmt, &[])
        .await?
        .iter()
        .map(|row| {
            let partner: String = row.try_get(0)?;
            let direction: String = row.try_get(2)?;
            Ok(SyncState {
                direction: direction.parse().map_err(|_| {
                    StoreError::backend(format!(
                        "sync state of {partner:?} has an unknown direction {direction:?}"
                    ))
                })?,
                partner,
                collection: row.try_get(1)?,
                cursor: row.try_get(3)?,
                last_success: row.try_get::<_, Option<i64>>(4)?.map(Micros),
                last_attempt: row.try_get::<_, Option<i64>>(5)?.map(Micros),
                last_error: row.try_get(6)?,
                objects: to_u64(row.try_get(7)?),
            })
        })
        .collect()
}
