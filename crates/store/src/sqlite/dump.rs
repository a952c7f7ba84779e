//! Reading and writing a node exactly, for a whole-node copy ([`crate::copy`]):
//! collections with their last `date_added`, object versions with theirs, accounts with
//! their password hash and tokens, sync states. Nothing here assigns a time or an id;
//! restores keep what the dump read. (Statuses are listed by `statuses.rs`, the ledger
//! is restored by `ledger.rs`.)

use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use uuid::Uuid;

use super::collections::{self, parse_uuid};
use super::is_constraint;
use super::object_ids::RecentIds;
use super::objects::{Inserter, Row, id_hash};
use crate::account::TokenHash;
use crate::collection::Collection;
use crate::dump::{AccountRecord, CollectionRecord, StoredVersion, TokenRecord, tlp_from_text};
use crate::error::{Result, StoreError};
use crate::object::{Provenance, Version};
use crate::partner::SyncState;
use crate::time::Micros;

pub fn collections(conn: &Connection) -> Result<Vec<CollectionRecord>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, title, description, alias, created, last_date_added FROM collections \
         ORDER BY id",
    )?;
    let rows = stmt
        .query_map([], |row| {
            Ok((
                row.get::<_, String>(0)?,
                row.get::<_, String>(1)?,
                row.get::<_, Option<String>>(2)?,
                row.get::<_, Option<String>>(3)?,
                row.get::<_, i64>(4)?,
                row.get::<_, i64>(5)?,
            ))
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    rows.into_iter()
        .map(
            |(id, title, description, alias, created, last_date_added)| {
                Ok(CollectionRecord {
                    collection: Collection {
                        id: parse_uuid(&id)?,
                        title,
                        description,
                        alias,
                        created: Micros(created),
                    },
                    last_date_added: Micros(last_date_added),
                })
            },
        )
        .collect()
}

pub fn restore_collection(conn: &Connection, collection: &Collection) -> Result<()> {
    let inserted = conn.execute(
        "INSERT INTO collections (id, title, description, alias, created) \
         VALUES (?1, ?2, ?3, ?4, ?5)",
        params![
            collection.id.to_string(),
            collection.title,
            collection.description,
            collection.alias,
            collection.created.0
        ],
    );
    match inserted {
        Err(e) if is_constraint(&e) => Err(StoreError::Conflict(format!(
            "a collection with id {} or alias {:?} exists",
            collection.id, collection.alias
        ))),
        Err(e) => Err(e.into()),
        Ok(_) => Ok(()),
    }
}

/// A dumped row before its words are parsed.
type ObjectRow = (
    (String, String, String, String, String, i64),
    (
        Option<String>,
        Option<String>,
        bool,
        Option<String>,
        Option<String>,
    ),
    (String, String, String, Option<String>, Vec<u8>),
);

/// Up to `limit` versions after `after`, in `date_added` order, through the
/// (collection, date_added) index.
pub fn objects(
    conn: &Connection,
    collection: Uuid,
    after: Option<Micros>,
    limit: usize,
) -> Result<Vec<StoredVersion>> {
    if limit == 0 {
        return Err(StoreError::Invalid("limit must be at least 1".into()));
    }
    let seq = collections::seq(conn, collection)?;
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    // The collection and limit are in the text, as for object pages (the planner reads them).
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT id, type, spec_version, version, version_text, date_added, created, modified, \
           revoked, tlp, created_by_ref, media_type, provenance_kind, provenance_name, \
           provenance_detail, bytes \
         FROM objects WHERE collection = {seq} AND date_added > ?1 \
         ORDER BY date_added LIMIT {limit}"
    ))?;
    let rows: Vec<ObjectRow> = stmt
        .query_map([after.map_or(i64::MIN, |m| m.0)], |row| {
            Ok((
                (
                    row.get(0)?,
                    row.get(1)?,
                    row.get(2)?,
                    row.get(3)?,
                    row.get(4)?,
                    row.get(5)?,
                ),
                (
                    row.get(6)?,
                    row.get(7)?,
                    row.get(8)?,
                    row.get(9)?,
                    row.get(10)?,
                ),
                (
                    row.get(11)?,
                    row.get(12)?,
                    row.get(13)?,
                    row.get(14)?,
                    row.get(15)?,
                ),
            ))
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    rows.into_iter()
        .map(
            |(
                (id, object_type, spec_version, version, version_text, date_added),
                (created, modified, revoked, tlp, created_by_ref),
                (media_type, kind, name, detail, bytes),
            )| {
                // `created` and `modified` are kept normalised only.
                let normalised = |text: String| Version::from_stored(text.clone(), text);
                Ok(StoredVersion {
                    id,
                    object_type,
                    spec_version,
                    version: Version::from_stored(version, version_text),
                    created: created.map(normalised),
                    modified: modified.map(normalised),
                    revoked,
                    tlp: tlp.as_deref().map(tlp_from_text).transpose()?,
                    created_by_ref,
                    media_type,
                    date_added: Micros(date_added),
                    provenance: Provenance::from_stored(&kind, name, detail.as_deref())?,
                    bytes,
                })
            },
        )
        .collect()
}

/// Inserts dumped versions in one IMMEDIATE transaction through the one insert path
/// ([`Inserter`]), each after the collection's last `date_added`, which follows them
/// (and is raised to `last_date_added` when given and later).
pub fn restore_objects(
    conn: &mut Connection,
    recent: &RecentIds,
    collection: Uuid,
    versions: Vec<StoredVersion>,
    last_date_added: Option<Micros>,
) -> Result<()> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    // The map has entries for rows a rollback takes back: dropped first, while this
    // transaction still holds the write lock.
    let restored = insert_restored(&tx, recent, collection, versions, last_date_added);
    if restored.is_err() {
        recent.invalidate();
    }
    restored?;
    tx.commit().inspect_err(|_| recent.invalidate())?;
    Ok(())
}

fn insert_restored(
    tx: &Connection,
    recent: &RecentIds,
    collection: Uuid,
    versions: Vec<StoredVersion>,
    last_date_added: Option<Micros>,
) -> Result<()> {
    let (seq, mut last): (i64, i64) = tx
        .prepare_cached("SELECT seq, last_date_added FROM collections WHERE id = ?1")?
        .query_row([collection.to_string()], |row| {
            Ok((row.get(0)?, row.get(1)?))
        })
        .optional()?
        .ok_or_else(|| StoreError::not_found("collection", collection))?;
    {
        let hashes = versions.iter().map(|v| id_hash(&v.id));
        let mut inserter = Inserter::new(tx, recent, seq, hashes)?;
        for stored in &versions {
            stored.check_after(collection, Micros(last))?;
            let hash = id_hash(&stored.id);
            let existing = inserter.existing(hash, &stored.id)?;
            if existing
                .iter()
                .any(|e| e.version == stored.version.normalised())
            {
                return Err(stored.already_stored(collection));
            }
            let detail = stored.provenance.detail();
            inserter.insert(
                seq,
                hash,
                &existing,
                &Row {
                    id: &stored.id,
                    object_type: &stored.object_type,
                    spec_version: &stored.spec_version,
                    version: &stored.version,
                    created: stored.created.as_ref(),
                    modified: stored.modified.as_ref(),
                    revoked: stored.revoked,
                    tlp: stored.tlp,
                    created_by_ref: stored.created_by_ref.as_deref(),
                    media_type: &stored.media_type,
                    date_added: stored.date_added.0,
                    provenance: &stored.provenance,
                    detail: detail.as_deref(),
                    bytes: &stored.bytes,
                },
            )?;
            last = stored.date_added.0;
        }
        inserter.ids.merge_if_due(tx)?;
    }
    if let Some(mark) = last_date_added {
        last = last.max(mark.0);
    }
    tx.execute(
        "UPDATE collections SET last_date_added = ?1 WHERE seq = ?2",
        params![last, seq],
    )?;
    Ok(())
}

pub fn accounts(conn: &Connection) -> Result<Vec<AccountRecord>> {
    let mut stmt = conn.prepare_cached(
        "SELECT seq, name, admin, password_hash, created, partner FROM accounts ORDER BY name",
    )?;
    let rows = stmt
        .query_map([], |row| {
            Ok((
                row.get::<_, i64>(0)?,
                AccountRecord {
                    name: row.get(1)?,
                    admin: row.get(2)?,
                    password_hash: row.get(3)?,
                    created: Micros(row.get(4)?),
                    partner: row.get(5)?,
                    tokens: Vec::new(),
                },
            ))
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let mut tokens = conn.prepare_cached(
        "SELECT name, hash, created FROM tokens WHERE account = ?1 ORDER BY name",
    )?;
    let mut records = Vec::with_capacity(rows.len());
    for (seq, mut record) in rows {
        let found = tokens
            .query_map([seq], |row| {
                Ok((
                    row.get::<_, String>(0)?,
                    row.get::<_, Vec<u8>>(1)?,
                    row.get::<_, i64>(2)?,
                ))
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        for (name, hash, created) in found {
            let hash = <[u8; 32]>::try_from(hash.as_slice()).map_err(|_| {
                StoreError::backend(format!(
                    "token {name:?} of account {:?} has a stored hash of {} bytes, not 32",
                    record.name,
                    hash.len()
                ))
            })?;
            record.tokens.push(TokenRecord {
                name,
                hash: TokenHash(hash),
                created: Micros(created),
            });
        }
        records.push(record);
    }
    Ok(records)
}

pub fn restore_account(conn: &mut Connection, account: &AccountRecord) -> Result<()> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let inserted = tx.execute(
        "INSERT INTO accounts (name, admin, password_hash, created, partner) \
         VALUES (?1, ?2, ?3, ?4, ?5)",
        params![
            account.name,
            account.admin,
            account.password_hash,
            account.created.0,
            account.partner
        ],
    );
    match inserted {
        Err(e) if is_constraint(&e) => {
            return Err(StoreError::Conflict(format!(
                "account {:?} exists",
                account.name
            )));
        }
        Err(e) => return Err(e.into()),
        Ok(_) => {}
    }
    let seq = tx.last_insert_rowid();
    {
        let mut insert = tx.prepare_cached(
            "INSERT INTO tokens (account, name, hash, created) VALUES (?1, ?2, ?3, ?4)",
        )?;
        for token in &account.tokens {
            match insert.execute(params![seq, token.name, &token.hash.0[..], token.created.0]) {
                Err(e) if is_constraint(&e) => {
                    return Err(StoreError::Conflict(format!(
                        "token {:?} of account {:?}: the account has another token of that \
                         name, or a token with the same hash exists",
                        token.name, account.name
                    )));
                }
                Err(e) => return Err(e.into()),
                Ok(_) => {}
            }
        }
    }
    tx.commit()?;
    Ok(())
}

pub fn restore_sync_state(conn: &Connection, state: &SyncState) -> Result<()> {
    let objects = i64::try_from(state.objects)
        .map_err(|_| StoreError::Invalid(format!("object count {} is too large", state.objects)))?;
    conn.prepare_cached(
        "INSERT INTO sync_state \
           (partner, collection, direction, cursor, last_success, last_attempt, last_error, \
            objects) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) \
         ON CONFLICT (partner, collection, direction) DO UPDATE SET \
           cursor = excluded.cursor, last_success = excluded.last_success, \
           last_attempt = excluded.last_attempt, last_error = excluded.last_error, \
           objects = excluded.objects",
    )?
    .execute(params![
        state.partner,
        state.collection,
        state.direction.as_str(),
        state.cursor,
        state.last_success.map(|m| m.0),
        state.last_attempt.map(|m| m.0),
        state.last_error,
        objects
    ])?;
    Ok(())
}
