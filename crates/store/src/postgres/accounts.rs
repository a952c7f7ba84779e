//! Accounts, tokens and rights in PostgreSQL.

use deadpool_postgres::GenericClient;
use tokio_postgres::Row;
use uuid::Uuid;

use super::{collections, is_unique_violation, nul};
use crate::account::{Account, Grant, NewAccount, NewToken, Rights, TokenHash, TokenInfo};
use crate::error::{Result, StoreError};
use crate::time::{Clock, Micros};

const COLUMNS: &str = "a.name, a.admin, a.password_hash IS NOT NULL, a.created, a.partner";

fn account_row(row: &Row) -> Result<Account> {
    Ok(Account {
        name: row.try_get(0)?,
        admin: row.try_get(1)?,
        has_password: row.try_get(2)?,
        created: Micros(row.try_get(3)?),
        partner: row.try_get(4)?,
    })
}

/// The row number of an account, which tokens and rights refer to.
async fn seq(client: &impl GenericClient, name: &str) -> Result<i64> {
    let stmt = client
        .prepare_cached("SELECT seq FROM accounts WHERE name = $1")
        .await?;
    match client.query_opt(&stmt, &[&nul::key(name)]).await? {
        Some(row) => Ok(row.try_get(0)?),
        None => Err(StoreError::not_found("account", name)),
    }
}

pub async fn create(
    client: &impl GenericClient,
    clock: &dyn Clock,
    new: NewAccount,
) -> Result<Account> {
    let created = clock.now();
    let inserted = client
        .execute(
            "INSERT INTO accounts (name, admin, created) VALUES ($1, $2, $3)",
            &[
                &nul::stored("account name", &new.name)?,
                &new.admin,
                &created.0,
            ],
        )
        .await;
    match inserted {
        Err(e) if is_unique_violation(&e) => Err(StoreError::Conflict(format!(
            "account {:?} exists",
            new.name
        ))),
        Err(e) => Err(e.into()),
        Ok(_) => Ok(Account {
            name: new.name,
            admin: new.admin,
            has_password: false,
            created,
            partner: None,
        }),
    }
}

pub async fn list(client: &impl GenericClient) -> Result<Vec<Account>> {
    let stmt = client
        .prepare_cached(&format!("SELECT {COLUMNS} FROM accounts a ORDER BY a.name"))
        .await?;
    client
        .query(&stmt, &[])
        .await?
        .iter()
        .map(account_row)
        .collect()
}

pub async fn get(client: &impl GenericClient, name: &str) -> Result<Account> {
    let stmt = client
        .prepare_cached(&format!(
            "SELECT {COLUMNS} FROM accounts a WHERE a.name = $1"
        ))
        .await?;
    match client.query_opt(&stmt, &[&nul::key(name)]).await? {
        Some(row) => account_row(&row),
        None => Err(StoreError::not_found("account", name)),
    }
}

fn expect_one(n: u64, what: &'static str, key: &str) -> Result<()> {
    if n == 0 {
        return Err(StoreError::not_found(what, key));
    }
    Ok(())
}

pub async fn delete(client: &impl GenericClient, name: &str) -> Result<()> {
    let n = client
        .execute("DELETE FROM accounts WHERE name = $1", &[&nul::key(name)])
        .await?;
    expect_one(n, "account", name)
}

pub async fn set_admin(client: &impl GenericClient, name: &str, admin: bool) -> Result<()> {
    let n = client
        .execute(
            "UPDATE accounts SET admin = $2 WHERE name = $1",
            &[&nul::key(name), &admin],
        )
        .await?;
    expect_one(n, "account", name)
}

pub async fn set_password_hash(
    client: &impl GenericClient,
    name: &str,
    hash: Option<String>,
) -> Result<()> {
    let n = client
        .execute(
            "UPDATE accounts SET password_hash = $2 WHERE name = $1",
            &[
                &nul::key(name),
                &nul::stored_opt("password hash", hash.as_deref())?,
            ],
        )
        .await?;
    expect_one(n, "account", name)
}

pub async fn set_partner(
    client: &impl GenericClient,
    name: &str,
    partner: Option<String>,
) -> Result<()> {
    let n = client
        .execute(
            "UPDATE accounts SET partner = $2 WHERE name = $1",
            &[
                &nul::key(name),
                &nul::stored_opt("account partner", partner.as_deref())?,
            ],
        )
        .await?;
    expect_one(n, "account", name)
}

pub async fn password_hash(client: &impl GenericClient, name: &str) -> Result<Option<String>> {
    let stmt = client
        .prepare_cached("SELECT password_hash FROM accounts WHERE name = $1")
        .await?;
    match client.query_opt(&stmt, &[&nul::key(name)]).await? {
        Some(row) => Ok(row.try_get(0)?),
        None => Err(StoreError::not_found("account", name)),
    }
}

pub async fn add_token(
    client: &impl GenericClient,
    clock: &dyn Clock,
    account: &str,
    token: NewToken,
) -> Result<TokenInfo> {
    let account_seq = seq(client, account).await?;
    let created = clock.now();
    let hash: &[u8] = &token.hash.0;
    let inserted = client
        .execute(
            "INSERT INTO tokens (account, name, hash, created) VALUES ($1, $2, $3, $4)",
            &[
                &account_seq,
                &nul::stored("token name", &token.name)?,
                &hash,
                &created.0,
            ],
        )
        .await;
    match inserted {
        Err(e) if is_unique_violation(&e) => Err(StoreError::Conflict(format!(
            "account {account:?} already has a token named {:?}",
            token.name
        ))),
        Err(e) => Err(e.into()),
        Ok(_) => Ok(TokenInfo {
            account: account.to_owned(),
            name: token.name,
            created,
        }),
    }
}

pub async fn list_tokens(client: &impl GenericClient, account: &str) -> Result<Vec<TokenInfo>> {
    let account_seq = seq(client, account).await?;
    let stmt = client
        .prepare_cached("SELECT name, created FROM tokens WHERE account = $1 ORDER BY name")
        .await?;
    client
        .query(&stmt, &[&account_seq])
        .await?
        .iter()
        .map(|row| {
            Ok(TokenInfo {
                account: account.to_owned(),
                name: row.try_get(0)?,
                created: Micros(row.try_get(1)?),
            })
        })
        .collect()
}

pub async fn revoke_token(client: &impl GenericClient, account: &str, name: &str) -> Result<()> {
    let account_seq = seq(client, account).await?;
    let n = client
        .execute(
            "DELETE FROM tokens WHERE account = $1 AND name = $2",
            &[&account_seq, &nul::key(name)],
        )
        .await?;
    expect_one(n, "token", name)
}

pub async fn account_by_token(client: &impl GenericClient, hash: &TokenHash) -> Result<Account> {
    let stmt = client
        .prepare_cached(&format!(
            "SELECT {COLUMNS} FROM tokens t JOIN accounts a ON a.seq = t.account \
             WHERE t.hash = $1"
        ))
        .await?;
    let hash: &[u8] = &hash.0;
    match client.query_opt(&stmt, &[&hash]).await? {
        Some(row) => account_row(&row),
        // The key is never echoed: it is a secret's hash.
        None => Err(StoreError::not_found("token", "(hidden)")),
    }
}

pub async fn set_rights(
    client: &impl GenericClient,
    account: &str,
    collection: Uuid,
    rights: Rights,
) -> Result<()> {
    let account_seq = seq(client, account).await?;
    let collection_seq = collections::seq(client, collection).await?;
    let stmt = client
        .prepare_cached(
            "INSERT INTO rights (account, collection, can_read, can_write) \
             VALUES ($1, $2, $3, $4) \
             ON CONFLICT (account, collection) \
             DO UPDATE SET can_read = excluded.can_read, can_write = excluded.can_write",
        )
        .await?;
    client
        .execute(
            &stmt,
            &[&account_seq, &collection_seq, &rights.read, &rights.write],
        )
        .await?;
    Ok(())
}

pub async fn revoke_rights(
    client: &impl GenericClient,
    account: &str,
    collection: Uuid,
) -> Result<()> {
    let account_seq = seq(client, account).await?;
    let collection_seq = collections::seq(client, collection).await?;
    client
        .execute(
            "DELETE FROM rights WHERE account = $1 AND collection = $2",
            &[&account_seq, &collection_seq],
        )
        .await?;
    Ok(())
}

pub async fn rights(
    client: &impl GenericClient,
    account: &str,
    collection: Uuid,
) -> Result<Rights> {
    // Which of the two is missing, if one is; then no row means no rights.
    let account_seq = seq(client, account).await?;
    let collection_seq = collections::seq(client, collection).await?;
    let stmt = client
        .prepare_cached(
            "SELECT can_read, can_write FROM rights WHERE account = $1 AND collection = $2",
        )
        .await?;
    match client
        .query_opt(&stmt, &[&account_seq, &collection_seq])
        .await?
    {
        Some(row) => Ok(Rights {
            read: row.try_get(0)?,
            write: row.try_get(1)?,
        }),
        None => Ok(Rights::default()),
    }
}

async fn grants(
    client: &impl GenericClient,
    condition: &str,
    key: &(dyn tokio_postgres::types::ToSql + Sync),
) -> Result<Vec<Grant>> {
    let stmt = client
        .prepare_cached(&format!(
            "SELECT a.name, c.id, r.can_read, r.can_write FROM rights r \
             JOIN accounts a ON a.seq = r.account JOIN collections c ON c.seq = r.collection \
             WHERE {condition} ORDER BY a.name, c.id"
        ))
        .await?;
    client
        .query(&stmt, &[key])
        .await?
        .iter()
        .map(|row| {
            Ok(Grant {
                account: row.try_get(0)?,
                collection: row.try_get(1)?,
                rights: Rights {
                    read: row.try_get(2)?,
                    write: row.try_get(3)?,
                },
            })
        })
        .collect()
}

pub async fn grants_of_account(client: &impl GenericClient, account: &str) -> Result<Vec<Grant>> {
    seq(client, account).await?;
    grants(client, "a.name = $1", &nul::key(account)).await
}

pub async fn grants_on_collection(
    client: &impl GenericClient,
    collection: Uuid,
) -> Result<Vec<Grant>> {
    collections::seq(client, collection).await?;
    grants(client, "c.id = $1", &collection).await
}
