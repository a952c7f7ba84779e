//! Accounts, tokens and rights in SQLite.

use rusqlite::{Connection, OptionalExtension, Row, params};
use uuid::Uuid;

use super::collections::{self, parse_uuid};
use super::is_constraint;
use crate::account::{Account, Grant, NewAccount, NewToken, Rights, TokenHash, TokenInfo};
use crate::error::{Result, StoreError};
use crate::time::{Clock, Micros};

const COLUMNS: &str = "a.name, a.admin, a.password_hash IS NOT NULL, a.created, a.partner";

fn account_row(row: &Row<'_>) -> rusqlite::Result<Account> {
    Ok(Account {
        name: row.get(0)?,
        admin: row.get(1)?,
        has_password: row.get(2)?,
        created: Micros(row.get(3)?),
        partner: row.get(4)?,
    })
}

/// The row number of an account, which tokens and rights refer to.
fn seq(conn: &Connection, name: &str) -> Result<i64> {
    conn.prepare_cached("SELECT seq FROM accounts WHERE name = ?1")?
        .query_row([name], |row| row.get(0))
        .optional()?
        .ok_or_else(|| StoreError::not_found("account", name))
}

pub fn create(conn: &Connection, clock: &dyn Clock, new: NewAccount) -> Result<Account> {
    let created = clock.now();
    let inserted = conn.execute(
        "INSERT INTO accounts (name, admin, created) VALUES (?1, ?2, ?3)",
        params![new.name, new.admin, created.0],
    );
    match inserted {
        Err(e) if is_constraint(&e) => Err(StoreError::Conflict(format!(
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

pub fn list(conn: &Connection) -> Result<Vec<Account>> {
    let mut stmt =
        conn.prepare_cached(&format!("SELECT {COLUMNS} FROM accounts a ORDER BY a.name"))?;
    let rows = stmt.query_map([], account_row)?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}

pub fn get(conn: &Connection, name: &str) -> Result<Account> {
    conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM accounts a WHERE a.name = ?1"
    ))?
    .query_row([name], account_row)
    .optional()?
    .ok_or_else(|| StoreError::not_found("account", name))
}

fn expect_one(n: usize, what: &'static str, key: &str) -> Result<()> {
    if n == 0 {
        return Err(StoreError::not_found(what, key));
    }
    Ok(())
}

pub fn delete(conn: &Connection, name: &str) -> Result<()> {
    let n = conn.execute("DELETE FROM accounts WHERE name = ?1", [name])?;
    expect_one(n, "account", name)
}

pub fn set_admin(conn: &Connection, name: &str, admin: bool) -> Result<()> {
    let n = conn.execute(
        "UPDATE accounts SET admin = ?2 WHERE name = ?1",
        params![name, admin],
    )?;
    expect_one(n, "account", name)
}

pub fn set_password_hash(conn: &Connection, name: &str, hash: Option<String>) -> Result<()> {
    let n = conn.execute(
        "UPDATE accounts SET password_hash = ?2 WHERE name = ?1",
        params![name, hash],
    )?;
    expect_one(n, "account", name)
}

pub fn set_partner(conn: &Connection, name: &str, partner: Option<String>) -> Result<()> {
    let n = conn.execute(
        "UPDATE accounts SET partner = ?2 WHERE name = ?1",
        params![name, partner],
    )?;
    expect_one(n, "account", name)
}

pub fn password_hash(conn: &Connection, name: &str) -> Result<Option<String>> {
    conn.prepare_cached("SELECT password_hash FROM accounts WHERE name = ?1")?
        .query_row([name], |row| row.get(0))
        .optional()?
        .ok_or_else(|| StoreError::not_found("account", name))
}

pub fn add_token(
    conn: &Connection,
    clock: &dyn Clock,
    account: &str,
    token: NewToken,
) -> Result<TokenInfo> {
    let account_seq = seq(conn, account)?;
    let created = clock.now();
    let inserted = conn.execute(
        "INSERT INTO tokens (account, name, hash, created) VALUES (?1, ?2, ?3, ?4)",
        params![account_seq, token.name, &token.hash.0[..], created.0],
    );
    match inserted {
        Err(e) if is_constraint(&e) => Err(StoreError::Conflict(format!(
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

pub fn list_tokens(conn: &Connection, account: &str) -> Result<Vec<TokenInfo>> {
    let account_seq = seq(conn, account)?;
    let mut stmt =
        conn.prepare_cached("SELECT name, created FROM tokens WHERE account = ?1 ORDER BY name")?;
    let rows = stmt.query_map([account_seq], |row| {
        Ok(TokenInfo {
            account: account.to_owned(),
            name: row.get(0)?,
            created: Micros(row.get(1)?),
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}

pub fn revoke_token(conn: &Connection, account: &str, name: &str) -> Result<()> {
    let account_seq = seq(conn, account)?;
    let n = conn.execute(
        "DELETE FROM tokens WHERE account = ?1 AND name = ?2",
        params![account_seq, name],
    )?;
    expect_one(n, "token", name)
}

/// The token lookup every request makes. A subquery, not a join: SQLite prepared
/// the join again on every call (the planner reads its bound value).
const ACCOUNT_BY_TOKEN: &str = "SELECT a.name, a.admin, a.password_hash IS NOT NULL, a.created, \
     a.partner FROM accounts a WHERE a.seq = (SELECT account FROM tokens WHERE hash = ?1)";

/// The rights lookup every collection request makes, by row numbers (see [`ACCOUNT_BY_TOKEN`]).
const RIGHTS_OF: &str =
    "SELECT can_read, can_write FROM rights WHERE account = ?1 AND collection = ?2";

pub fn account_by_token(conn: &Connection, hash: &TokenHash) -> Result<Account> {
    conn.prepare_cached(ACCOUNT_BY_TOKEN)?
        .query_row([&hash.0[..]], account_row)
        .optional()?
        // The key is never echoed: it is a secret's hash.
        .ok_or_else(|| StoreError::not_found("token", "(hidden)"))
}

pub fn set_rights(
    conn: &Connection,
    account: &str,
    collection: Uuid,
    rights: Rights,
) -> Result<()> {
    let account_seq = seq(conn, account)?;
    let collection_seq = collections::seq(conn, collection)?;
    conn.prepare_cached(
        "INSERT INTO rights (account, collection, can_read, can_write) VALUES (?1, ?2, ?3, ?4) \
         ON CONFLICT (account, collection) DO UPDATE SET can_read = ?3, can_write = ?4",
    )?
    .execute(params![
        account_seq,
        collection_seq,
        rights.read,
        rights.write
    ])?;
    Ok(())
}

pub fn revoke_rights(conn: &Connection, account: &str, collection: Uuid) -> Result<()> {
    let account_seq = seq(conn, account)?;
    let collection_seq = collections::seq(conn, collection)?;
    conn.execute(
        "DELETE FROM rights WHERE account = ?1 AND collection = ?2",
        params![account_seq, collection_seq],
    )?;
    Ok(())
}

pub fn rights(conn: &Connection, account: &str, collection: Uuid) -> Result<Rights> {
    // Which of the two is missing, if one is; then no row means no rights.
    let account_seq = seq(conn, account)?;
    let collection_seq = collections::seq(conn, collection)?;
    let found = conn
        .prepare_cached(RIGHTS_OF)?
        .query_row(params![account_seq, collection_seq], |row| {
            Ok(Rights {
                read: row.get(0)?,
                write: row.get(1)?,
            })
        })
        .optional()?;
    Ok(found.unwrap_or_default())
}

fn grants(conn: &Connection, condition: &str, key: &str) -> Result<Vec<Grant>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT a.name, c.id, r.can_read, r.can_write FROM rights r \
         JOIN accounts a ON a.seq = r.account JOIN collections c ON c.seq = r.collection \
         WHERE {condition} ORDER BY a.name, c.id"
    ))?;
    let rows = stmt.query_map([key], |row| {
        Ok((
            row.get::<_, String>(0)?,
            row.get::<_, String>(1)?,
            row.get::<_, bool>(2)?,
            row.get::<_, bool>(3)?,
        ))
    })?;
    rows.map(|r| {
        let (account, collection, read, write) = r?;
        Ok(Grant {
            account,
            collection: parse_uuid(&collection)?,
            rights: Rights { read, write },
        })
    })
    .collect()
}

pub fn grants_of_account(conn: &Connection, account: &str) -> Result<Vec<Grant>> {
    seq(conn, account)?;
    grants(conn, "a.name = ?1", account)
}

pub fn grants_on_collection(conn: &Connection, collection: Uuid) -> Result<Vec<Grant>> {
    collections::seq(conn, collection)?;
    grants(conn, "c.id = ?1", &collection.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::account::NewAccount;
    use crate::collection::NewCollection;
    use crate::time::ManualClock;

    /// The lookups every request makes are prepared once per connection.
    #[test]
    fn request_lookups_reuse_their_statements() {
        let mut conn = Connection::open_in_memory().unwrap();
        super::super::migrate::migrate(&mut conn).unwrap();
        let clock = ManualClock::new(Micros(1));
        let collection = Uuid::new_v4();
        collections::create(
            &conn,
            &clock,
            NewCollection {
                id: collection,
                title: "t".into(),
                description: None,
                alias: None,
            },
        )
        .unwrap();
        for name in ["a", "b"] {
            create(
                &conn,
                &clock,
                NewAccount {
                    name: name.into(),
                    admin: false,
                },
            )
            .unwrap();
        }
        let rw = Rights {
            read: true,
            write: true,
        };
        set_rights(&conn, "a", collection, rw).unwrap();
        for (name, byte) in [("a", 1), ("b", 2), ("a", 3)] {
            assert!(account_by_token(&conn, &TokenHash([byte; 32])).is_err());
            let expected = if name == "a" { rw } else { Rights::default() };
            assert_eq!(rights(&conn, name, collection).unwrap(), expected);
        }
        for sql in [ACCOUNT_BY_TOKEN, RIGHTS_OF] {
            let stmt = conn.prepare_cached(sql).unwrap();
            assert_eq!(stmt.get_status(rusqlite::StatementStatus::Run), 3, "{sql}");
            assert_eq!(
                stmt.get_status(rusqlite::StatementStatus::RePrepare),
                0,
                "{sql}"
            );
        }
    }
}
