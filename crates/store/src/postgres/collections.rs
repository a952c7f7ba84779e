//! Collections in PostgreSQL, and the collection lookups the other tables share:
//! by row number for reads, and under the row lock writers take first.

use deadpool_postgres::GenericClient;
use tokio_postgres::Row;
use uuid::Uuid;

use super::{is_unique_violation, nul, to_u64};
use crate::collection::{Collection, CollectionCount, NewCollection};
use crate::error::{Result, StoreError};
use crate::time::{Clock, Micros};

const COLUMNS: &str = "id, title, description, alias, created";

/// The row number of a collection, which the other tables refer to.
pub async fn seq(client: &impl GenericClient, id: Uuid) -> Result<i64> {
    let stmt = client
        .prepare_cached("SELECT seq FROM collections WHERE id = $1")
        .await?;
    match client.query_opt(&stmt, &[&id]).await? {
        Some(row) => Ok(row.try_get(0)?),
        None => Err(StoreError::not_found("collection", id)),
    }
}

/// Locks a collection's row for the rest of the transaction and returns its row number
/// and `last_date_added`: the first lock every object write takes (see the module
/// doc of `postgres`). `FOR NO KEY UPDATE` serialises writers of the collection without
/// blocking the foreign-key checks of rights being granted on it.
pub async fn lock(client: &impl GenericClient, id: Uuid) -> Result<(i64, i64)> {
    let stmt = client
        .prepare_cached(
            "SELECT seq, last_date_added FROM collections WHERE id = $1 FOR NO KEY UPDATE",
        )
        .await?;
    match client.query_opt(&stmt, &[&id]).await? {
        Some(row) => Ok((row.try_get(0)?, row.try_get(1)?)),
        None => Err(StoreError::not_found("collection", id)),
    }
}

fn from_row(row: &Row) -> Result<Collection> {
    Ok(Collection {
        id: row.try_get(0)?,
        title: row.try_get(1)?,
        description: row.try_get(2)?,
        alias: row.try_get(3)?,
        created: Micros(row.try_get(4)?),
    })
}

pub async fn create(
    client: &impl GenericClient,
    clock: &dyn Clock,
    new: NewCollection,
) -> Result<Collection> {
    let created = clock.now();
    let inserted = client
        .execute(
            "INSERT INTO collections (id, title, description, alias, created) \
             VALUES ($1, $2, $3, $4, $5)",
            &[
                &new.id,
                &nul::stored("collection title", &new.title)?,
                &nul::stored_opt("collection description", new.description.as_deref())?,
                &nul::stored_opt("collection alias", new.alias.as_deref())?,
                &created.0,
            ],
        )
        .await;
    match inserted {
        Err(e) if is_unique_violation(&e) => Err(StoreError::Conflict(match &new.alias {
            Some(alias) => format!("a collection with id {} or alias {alias:?} exists", new.id),
            None => format!("a collection with id {} exists", new.id),
        })),
        Err(e) => Err(e.into()),
        Ok(_) => Ok(Collection {
            id: new.id,
            title: new.title,
            description: new.description,
            alias: new.alias,
            created,
        }),
    }
}

pub async fn list(client: &impl GenericClient) -> Result<Vec<Collection>> {
    let stmt = client
        .prepare_cached(&format!(
            "SELECT {COLUMNS} FROM collections ORDER BY title, id"
        ))
        .await?;
    client
        .query(&stmt, &[])
        .await?
        .iter()
        .map(from_row)
        .collect()
}

pub async fn get(client: &impl GenericClient, id: Uuid) -> Result<Collection> {
    let stmt = client
        .prepare_cached(&format!("SELECT {COLUMNS} FROM collections WHERE id = $1"))
        .await?;
    match client.query_opt(&stmt, &[&id]).await? {
        Some(row) => from_row(&row),
        None => Err(StoreError::not_found("collection", id)),
    }
}

pub async fn find(client: &impl GenericClient, key: &str) -> Result<Collection> {
    // A UUID is matched whatever its case, and an id match wins over an alias.
    if let Ok(id) = Uuid::parse_str(key) {
        match get(client, id).await {
            Err(StoreError::NotFound { .. }) => {}
            found => return found,
        }
    }
    let stmt = client
        .prepare_cached(&format!(
            "SELECT {COLUMNS} FROM collections WHERE alias = $1"
        ))
        .await?;
    match client.query_opt(&stmt, &[&nul::key(key)]).await? {
        Some(row) => from_row(&row),
        None => Err(StoreError::not_found("collection", key)),
    }
}

pub async fn delete(client: &impl GenericClient, id: Uuid) -> Result<()> {
    let n = client
        .execute("DELETE FROM collections WHERE id = $1", &[&id])
        .await?;
    if n == 0 {
        return Err(StoreError::not_found("collection", id));
    }
    Ok(())
}

pub async fn counts(client: &impl GenericClient) -> Result<Vec<CollectionCount>> {
    let rows = client
        .query(
            "SELECT c.id, \
               (SELECT count(*) FROM objects o WHERE o.collection = c.seq), \
               (SELECT count(*) FROM objects o WHERE o.collection = c.seq AND o.is_latest) \
             FROM collections c ORDER BY c.id",
            &[],
        )
        .await?;
    rows.iter()
        .map(|row| {
            Ok(CollectionCount {
                collection: row.try_get(0)?,
                versions: to_u64(row.try_get(1)?),
                objects: to_u64(row.try_get(2)?),
            })
        })
        .collect()
}
