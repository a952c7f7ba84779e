//! [`Store`] for [`SqliteStore`]: each method hands one closure to the writer or a reader.

use uuid::Uuid;

use rusqlite::{OptionalExtension, Row, params};

use super::{SqliteStore, is_constraint};
use crate::account::{Account, Grant, NewAccount, NewToken, Rights, TokenHash, TokenInfo};
use crate::collection::{Collection, CollectionCount, NewCollection};
use crate::error::StoreError;
use crate::health::IntegrityReport;
use crate::object::{AddOutcome, ManifestRecord, NewObject, ObjectRecord, Provenance, Version};
use crate::query::{DeleteFilter, ObjectQuery, Page};
use crate::status::Status;
use crate::time::Micros;
use crate::{Store, StoreFuture};

const COLLECTION_COLUMNS: &str = "id, title, description, alias, created";

fn collection_row(row: &Row<'_>) -> rusqlite::Result<Result<Collection, StoreError>> {
    let id: String = row.get(0)?;
    let collection = |id| Collection {
        id,
        title: row.get(1).unwrap_or_default(),
        description: row.get(2).unwrap_or_default(),
        alias: row.get(3).unwrap_or_default(),
        created: Micros(row.get(4).unwrap_or_default()),
    };
    Ok(parse_uuid(&id).map(collection))
}

fn parse_uuid(text: &str) -> Result<Uuid, StoreError> {
    Uuid::parse_str(text).map_err(|e| StoreError::Backend(Box::new(e)))
}

fn pending<'a, T: Send + 'a>() -> StoreFuture<'a, T> {
    Box::pin(async { Err(StoreError::backend("not implemented yet")) })
}

impl Store for SqliteStore {
    fn integrity_check(&self) -> StoreFuture<'_, IntegrityReport> {
        Box::pin(self.read(|conn| {
            let mut stmt = conn.prepare("PRAGMA integrity_check")?;
            let lines = stmt
                .query_map([], |row| row.get::<_, String>(0))?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            let mut problems: Vec<String> = lines.into_iter().filter(|l| l != "ok").collect();
            let mut stmt = conn.prepare("PRAGMA foreign_key_check")?;
            let orphans = stmt
                .query_map([], |row| row.get::<_, String>(0))?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            problems.extend(
                orphans
                    .into_iter()
                    .map(|t| format!("foreign key violation in {t}")),
            );
            Ok(IntegrityReport { problems })
        }))
    }

    fn counts(&self) -> StoreFuture<'_, Vec<CollectionCount>> {
        Box::pin(self.read(|conn| {
            let mut stmt = conn.prepare(
                "SELECT c.id, COUNT(o.seq), COUNT(DISTINCT o.id) \
                 FROM collections c LEFT JOIN objects o ON o.collection = c.seq \
                 GROUP BY c.seq ORDER BY c.id",
            )?;
            let rows = stmt.query_map([], |row| {
                Ok((
                    row.get::<_, String>(0)?,
                    row.get::<_, i64>(1)?,
                    row.get::<_, i64>(2)?,
                ))
            })?;
            let mut counts = Vec::new();
            for row in rows {
                let (id, versions, objects) = row?;
                counts.push(CollectionCount {
                    collection: parse_uuid(&id)?,
                    versions: versions as u64,
                    objects: objects as u64,
                });
            }
            Ok(counts)
        }))
    }

    fn create_collection(&self, new: NewCollection) -> StoreFuture<'_, Collection> {
        Box::pin(self.write(move |conn, clock| {
            let created = clock.now();
            let inserted = conn.execute(
                "INSERT INTO collections (id, title, description, alias, created) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![new.id.to_string(), new.title, new.description, new.alias, created.0],
            );
            match inserted {
                Err(e) if is_constraint(&e) => Err(StoreError::Conflict(format!(
                    "a collection with id {} or alias {:?} exists",
                    new.id,
                    new.alias.as_deref().unwrap_or("")
                ))),
                Err(e) => Err(e.into()),
                Ok(_) => Ok(Collection {
                    id: new.id,
                    title: new.title,
                    description: new.description,
                    alias: new.alias,
                    created,
                }),
            }
        }))
    }

    fn list_collections(&self) -> StoreFuture<'_, Vec<Collection>> {
        Box::pin(self.read(|conn| {
            let mut stmt = conn.prepare_cached(&format!(
                "SELECT {COLLECTION_COLUMNS} FROM collections ORDER BY title, id"
            ))?;
            let rows = stmt.query_map([], collection_row)?;
            rows.map(|r| r.map_err(StoreError::from).and_then(|c| c))
                .collect()
        }))
    }

    fn get_collection(&self, id: Uuid) -> StoreFuture<'_, Collection> {
        Box::pin(self.read(move |conn| {
            let mut stmt = conn.prepare_cached(&format!(
                "SELECT {COLLECTION_COLUMNS} FROM collections WHERE id = ?1"
            ))?;
            stmt.query_row([id.to_string()], collection_row)
                .optional()?
                .ok_or_else(|| StoreError::not_found("collection", id))?
        }))
    }

    fn find_collection<'a>(&'a self, id_or_alias: &'a str) -> StoreFuture<'a, Collection> {
        let key = id_or_alias.to_owned();
        Box::pin(self.read(move |conn| {
            // A UUID is looked up in its canonical lowercase form.
            let as_id = Uuid::parse_str(&key)
                .map(|u| u.to_string())
                .unwrap_or_default();
            let mut stmt = conn.prepare_cached(&format!(
                "SELECT {COLLECTION_COLUMNS} FROM collections WHERE id = ?1 OR alias = ?2 \
                 ORDER BY id = ?1 DESC LIMIT 1"
            ))?;
            stmt.query_row(params![as_id, key], collection_row)
                .optional()?
                .ok_or_else(|| StoreError::not_found("collection", &key))?
        }))
    }

    fn delete_collection(&self, id: Uuid) -> StoreFuture<'_, ()> {
        Box::pin(self.write(move |conn, _| {
            let n = conn.execute("DELETE FROM collections WHERE id = ?1", [id.to_string()])?;
            if n == 0 {
                return Err(StoreError::not_found("collection", id));
            }
            Ok(())
        }))
    }

    fn add_objects<'a>(
        &'a self,
        _collection: Uuid,
        _provenance: &'a Provenance,
        _objects: Vec<NewObject>,
    ) -> StoreFuture<'a, Vec<AddOutcome>> {
        pending()
    }
    fn objects<'a>(
        &'a self,
        _collection: Uuid,
        _query: &'a ObjectQuery,
    ) -> StoreFuture<'a, Page<ObjectRecord>> {
        pending()
    }
    fn manifest<'a>(
        &'a self,
        _collection: Uuid,
        _query: &'a ObjectQuery,
    ) -> StoreFuture<'a, Page<ManifestRecord>> {
        pending()
    }
    fn delete_object<'a>(
        &'a self,
        _collection: Uuid,
        _id: &'a str,
        _filter: &'a DeleteFilter,
    ) -> StoreFuture<'a, u64> {
        pending()
    }
    fn provenance<'a>(
        &'a self,
        _collection: Uuid,
        _id: &'a str,
        _version: &'a Version,
    ) -> StoreFuture<'a, Provenance> {
        pending()
    }
    fn create_status<'a>(&'a self, _status: &'a Status) -> StoreFuture<'a, ()> {
        pending()
    }
    fn update_status<'a>(&'a self, _status: &'a Status) -> StoreFuture<'a, ()> {
        pending()
    }
    fn get_status(&self, _id: Uuid) -> StoreFuture<'_, Status> {
        pending()
    }
    fn create_account(&self, _new: NewAccount) -> StoreFuture<'_, Account> {
        pending()
    }
    fn list_accounts(&self) -> StoreFuture<'_, Vec<Account>> {
        pending()
    }
    fn get_account<'a>(&'a self, _name: &'a str) -> StoreFuture<'a, Account> {
        pending()
    }
    fn delete_account<'a>(&'a self, _name: &'a str) -> StoreFuture<'a, ()> {
        pending()
    }
    fn set_admin<'a>(&'a self, _name: &'a str, _admin: bool) -> StoreFuture<'a, ()> {
        pending()
    }
    fn set_password_hash<'a>(
        &'a self,
        _name: &'a str,
        _hash: Option<String>,
    ) -> StoreFuture<'a, ()> {
        pending()
    }
    fn password_hash<'a>(&'a self, _name: &'a str) -> StoreFuture<'a, Option<String>> {
        pending()
    }
    fn add_token<'a>(&'a self, _account: &'a str, _token: NewToken) -> StoreFuture<'a, TokenInfo> {
        pending()
    }
    fn list_tokens<'a>(&'a self, _account: &'a str) -> StoreFuture<'a, Vec<TokenInfo>> {
        pending()
    }
    fn revoke_token<'a>(&'a self, _account: &'a str, _name: &'a str) -> StoreFuture<'a, ()> {
        pending()
    }
    fn account_by_token<'a>(&'a self, _hash: &'a TokenHash) -> StoreFuture<'a, Account> {
        pending()
    }
    fn set_rights<'a>(
        &'a self,
        _account: &'a str,
        _collection: Uuid,
        _rights: Rights,
    ) -> StoreFuture<'a, ()> {
        pending()
    }
    fn revoke_rights<'a>(&'a self, _account: &'a str, _collection: Uuid) -> StoreFuture<'a, ()> {
        pending()
    }
    fn rights<'a>(&'a self, _account: &'a str, _collection: Uuid) -> StoreFuture<'a, Rights> {
        pending()
    }
    fn grants_of_account<'a>(&'a self, _account: &'a str) -> StoreFuture<'a, Vec<Grant>> {
        pending()
    }
    fn grants_on_collection(&self, _collection: Uuid) -> StoreFuture<'_, Vec<Grant>> {
        pending()
    }
}
