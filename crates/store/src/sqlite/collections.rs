//! Collections in SQLite, and the collection lookups the other tables share.

use rusqlite::{Connection, OptionalExtension, Row, TransactionBehavior, params};
use uuid::Uuid;

use super::is_constraint;
use crate::collection::{Collection, CollectionCount, NewCollection};
use crate::error::{Result, StoreError};
use crate::time::{Clock, Micros};

const COLUMNS: &str = "id, title, description, alias, created";

/// The row number of a collection, which the other tables refer to.
pub fn seq(conn: &Connection, id: Uuid) -> Result<i64> {
    conn.prepare_cached("SELECT seq FROM collections WHERE id = ?1")?
        .query_row([id.to_string()], |row| row.get(0))
        .optional()?
        .ok_or_else(|| StoreError::not_found("collection", id))
}

/// A stored UUID; one that does not parse means the file was tampered with.
pub fn parse_uuid(text: &str) -> Result<Uuid> {
    Uuid::parse_str(text).map_err(|e| StoreError::Backend(Box::new(e)))
}

type CollectionRow = (String, String, Option<String>, Option<String>, i64);

fn row(row: &Row<'_>) -> rusqlite::Result<CollectionRow> {
    Ok((
        row.get(0)?,
        row.get(1)?,
        row.get(2)?,
        row.get(3)?,
        row.get(4)?,
    ))
}

fn from_row((id, title, description, alias, created): CollectionRow) -> Result<Collection> {
    Ok(Collection {
        id: parse_uuid(&id)?,
        title,
        description,
        alias,
        created: Micros(created),
    })
}

pub fn create(conn: &Connection, clock: &dyn Clock, new: NewCollection) -> Result<Collection> {
    let created = clock.now();
    let inserted = conn.execute(
        "INSERT INTO collections (id, title, description, alias, created) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![new.id.to_string(), new.title, new.description, new.alias, created.0],
    );
    match inserted {
        Err(e) if is_constraint(&e) => Err(StoreError::Conflict(match &new.alias {
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

pub fn list(conn: &Connection) -> Result<Vec<Collection>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM collections ORDER BY title, id"
    ))?;
    let rows = stmt.query_map([], row)?;
    rows.map(|r| from_row(r?)).collect()
}

pub fn get(conn: &Connection, id: Uuid) -> Result<Collection> {
    let found = conn
        .prepare_cached(&format!("SELECT {COLUMNS} FROM collections WHERE id = ?1"))?
        .query_row([id.to_string()], row)
        .optional()?;
    from_row(found.ok_or_else(|| StoreError::not_found("collection", id))?)
}

pub fn find(conn: &Connection, key: &str) -> Result<Collection> {
    // A UUID is matched in its canonical lowercase form, and an id match wins over an
    // alias. Two plain lookups rather than one `id = ?1 OR alias = ?2` ordered
    // statement: SQLite prepared that one again on every call (every request).
    let by_id = match Uuid::parse_str(key) {
        Ok(id) => conn
            .prepare_cached(&format!("SELECT {COLUMNS} FROM collections WHERE id = ?1"))?
            .query_row([id.to_string()], row)
            .optional()?,
        Err(_) => None,
    };
    let found = match by_id {
        Some(found) => Some(found),
        None => conn
            .prepare_cached(&format!(
                "SELECT {COLUMNS} FROM collections WHERE alias = ?1"
            ))?
            .query_row([key], row)
            .optional()?,
    };
    from_row(found.ok_or_else(|| StoreError::not_found("collection", key))?)
}

/// Deletes a collection with its objects (foreign key cascade) and their id entries
/// (listed without a foreign key, which every insert would pay to check).
pub fn delete(conn: &mut Connection, id: Uuid) -> Result<()> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let seq = seq(&tx, id)?;
    super::object_ids::remove_collection(&tx, seq)?;
    tx.execute("DELETE FROM collections WHERE seq = ?1", [seq])?;
    tx.commit()?;
    Ok(())
}

pub fn counts(conn: &Connection) -> Result<Vec<CollectionCount>> {
    let mut stmt = conn.prepare(
        "SELECT c.id, \
           (SELECT COUNT(*) FROM objects o WHERE o.collection = c.seq), \
           (SELECT COUNT(*) FROM objects o WHERE o.collection = c.seq AND o.is_latest = 1) \
         FROM collections c ORDER BY c.id",
    )?;
    let rows = stmt.query_map([], |row| {
        Ok((
            row.get::<_, String>(0)?,
            row.get::<_, i64>(1)?,
            row.get::<_, i64>(2)?,
        ))
    })?;
    rows.map(|r| {
        let (id, versions, objects) = r?;
        Ok(CollectionCount {
            collection: parse_uuid(&id)?,
            versions: u64::try_from(versions).unwrap_or_default(),
            objects: u64::try_from(objects).unwrap_or_default(),
        })
    })
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::ManualClock;

    /// Every request looks its collection up: the statements must be prepared once.
    #[test]
    fn finding_a_collection_reuses_its_statements() {
        let mut conn = Connection::open_in_memory().unwrap();
        super::super::migrate::migrate(&mut conn).unwrap();
        let clock = ManualClock::new(Micros(1));
        let mut ids = Vec::new();
        for alias in ["a", "b", "c"] {
            let id = Uuid::new_v4();
            create(
                &conn,
                &clock,
                NewCollection {
                    id,
                    title: alias.into(),
                    description: None,
                    alias: Some(alias.into()),
                },
            )
            .unwrap();
            ids.push(id);
        }
        for (id, alias) in ids.iter().zip(["a", "b", "c"]) {
            assert_eq!(find(&conn, &id.to_string()).unwrap().id, *id);
            assert_eq!(find(&conn, alias).unwrap().id, *id);
        }
        for sql in [
            format!("SELECT {COLUMNS} FROM collections WHERE id = ?1"),
            format!("SELECT {COLUMNS} FROM collections WHERE alias = ?1"),
        ] {
            let stmt = conn.prepare_cached(&sql).unwrap();
            assert!(
                stmt.get_status(rusqlite::StatementStatus::Run) >= 3,
                "{sql}"
            );
            assert_eq!(
                stmt.get_status(rusqlite::StatementStatus::RePrepare),
                0,
                "{sql}"
            );
        }
    }
}
