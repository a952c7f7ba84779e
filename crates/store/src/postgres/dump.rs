//! Reading and writing a node exactly, for a whole-node copy ([`crate::copy`]):
//! collections with their last `date_added`, accounts with their password hash and
//! tokens, sync states. Nothing here assigns a time or an id; restores keep what the
//! dump read. (Object versions are dumped and restored by `objects.rs`, through its one
//! insert path; statuses are listed by `statuses.rs`; the ledger is restored by
//! `ledger.rs`.)

use std::collections::HashMap;

use deadpool_postgres::GenericClient;

use super::{is_unique_violation, nul, to_i64};
use crate::account::TokenHash;
use crate::collection::Collection;
use crate::dump::{AccountRecord, CollectionRecord, TokenRecord};
use crate::error::{Result, StoreError};
use crate::partner::SyncState;
use crate::time::Micros;

pub async fn collections(client: &impl GenericClient) -> Result<Vec<CollectionRecord>> {
    let stmt = client
        .prepare_cached(
            "SELECT id, title, description, alias, created, last_date_added FROM collections \
             ORDER BY id",
        )
        .await?;
    client
        .query(&stmt, &[])
        .await?
        .iter()
        .map(|row| {
            Ok(CollectionRecord {
                collection: Collection {
                    id: row.try_get(0)?,
                    title: row.try_get(1)?,
                    description: row.try_get(2)?,
                    alias: row.try_get(3)?,
                    created: Micros(row.try_get(4)?),
                },
                last_date_added: Micros(row.try_get(5)?),
            })
        })
        .collect()
}

pub async fn restore_collection(
    client: &impl GenericClient,
    collection: &Collection,
) -> Result<()> {
    let inserted = client
        .execute(
            "INSERT INTO collections (id, title, description, alias, created) \
             VALUES ($1, $2, $3, $4, $5)",
            &[
                &collection.id,
                &nul::stored("collection title", &collection.title)?,
                &nul::stored_opt("collection description", collection.description.as_deref())?,
                &nul::stored_opt("collection alias", collection.alias.as_deref())?,
                &collection.created.0,
            ],
        )
        .await;
    match inserted {
        Err(e) if is_unique_violation(&e) => Err(StoreError::Conflict(format!(
            "a collection with id {} or alias {:?} exists",
            collection.id, collection.alias
        ))),
        Err(e) => Err(e.into()),
        Ok(_) => Ok(()),
    }
}

/// Every account with its password hash and tokens, by name, in two statements.
pub async fn accounts(client: &impl GenericClient) -> Result<Vec<AccountRecord>> {
    let stmt = client
        .prepare_cached(
            "SELECT seq, name, admin, password_hash, created, partner FROM accounts \
             ORDER BY name",
        )
        .await?;
    let mut records = Vec::new();
    let mut by_seq = HashMap::new();
    for row in client.query(&stmt, &[]).await? {
        by_seq.insert(row.try_get::<_, i64>(0)?, records.len());
        records.push(AccountRecord {
            name: row.try_get(1)?,
            admin: row.try_get(2)?,
            password_hash: row.try_get(3)?,
            created: Micros(row.try_get(4)?),
            partner: row.try_get(5)?,
            tokens: Vec::new(),
        });
    }
    let stmt = client
        .prepare_cached("SELECT account, name, hash, created FROM tokens ORDER BY account, name")
        .await?;
    for row in client.query(&stmt, &[]).await? {
        let account: i64 = row.try_get(0)?;
        let name: String = row.try_get(1)?;
        let Some(record) = by_seq.get(&account).and_then(|&i| records.get_mut(i)) else {
            return Err(StoreError::backend(format!(
                "token {name:?} belongs to no account (account row {account})"
            )));
        };
        let hash: Vec<u8> = row.try_get(2)?;
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
            created: Micros(row.try_get(3)?),
        });
    }
    Ok(records)
}

/// Creates an account with its tokens as given, in one transaction.
pub async fn restore_account(
    client: &mut deadpool_postgres::Object,
    account: &AccountRecord,
) -> Result<()> {
    let tx = client.transaction().await?;
    let inserted = tx
        .query_one(
            "INSERT INTO accounts (name, admin, password_hash, created, partner) \
             VALUES ($1, $2, $3, $4, $5) RETURNING seq",
            &[
                &nul::stored("account name", &account.name)?,
                &account.admin,
                &nul::stored_opt("password hash", account.password_hash.as_deref())?,
                &account.created.0,
                &nul::stored_opt("account partner", account.partner.as_deref())?,
            ],
        )
        .await;
    let seq: i64 = match inserted {
        Err(e) if is_unique_violation(&e) => {
            return Err(StoreError::Conflict(format!(
                "account {:?} exists",
                account.name
            )));
        }
        Err(e) => return Err(e.into()),
        Ok(row) => row.try_get(0)?,
    };
    let stmt = tx
        .prepare_cached("INSERT INTO tokens (account, name, hash, created) VALUES ($1, $2, $3, $4)")
        .await?;
    for token in &account.tokens {
        let hash: &[u8] = &token.hash.0;
        let name = nul::stored("token name", &token.name)?;
        match tx
            .execute(&stmt, &[&seq, &name, &hash, &token.created.0])
            .await
        {
            Err(e) if is_unique_violation(&e) => {
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
    tx.commit().await?;
    Ok(())
}

/// Saves one exchange's state as given, replacing any it had.
pub async fn restore_sync_state(client: &impl GenericClient, state: &SyncState) -> Result<()> {
    if i64::try_from(state.objects).is_err() {
        return Err(StoreError::Invalid(format!(
            "object count {} is too large",
            state.objects
        )));
    }
    let stmt = client
        .prepare_cached(
            "INSERT INTO sync_state \
               (partner, collection, direction, cursor, last_success, last_attempt, \
                last_error, objects) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
             ON CONFLICT (partner, collection, direction) DO UPDATE SET \
               cursor = excluded.cursor, last_success = excluded.last_success, \
               last_attempt = excluded.last_attempt, last_error = excluded.last_error, \
               objects = excluded.objects",
        )
        .await?;
    client
        .execute(
            &stmt,
            &[
                &nul::stored("sync partner", &state.partner)?,
                &nul::stored("sync collection", &state.collection)?,
                &state.direction.as_str(),
                &nul::stored_opt("sync cursor", state.cursor.as_deref())?,
                &state.last_success.map(|m| m.0),
                &state.last_attempt.map(|m| m.0),
                &nul::stored_opt("sync last error", state.last_error.as_deref())?,
                &to_i64(state.objects),
            ],
        )
        .await?;
    Ok(())
}
