//! Databases on a PostgreSQL server: creating and dropping one by name, and the URL
//! of a database next to the one a server URL names. For a program that gives each
//! of its nodes a database of its own (`passerelle demo --postgres`, the tests).

use tokio_postgres::NoTls;

use super::parse_url;
use crate::error::{Result, StoreError};

/// `url` with its database name replaced by `name` (user, password, hosts and options
/// kept).
pub fn database_url(url: &str, name: &str) -> String {
    let authority_start = url.find("://").map_or(0, |i| i + 3);
    let rest = &url[authority_start..];
    let query_at = rest.find('?').unwrap_or(rest.len());
    let path_at = rest[..query_at].find('/').unwrap_or(query_at);
    format!(
        "{}{}/{name}{}",
        &url[..authority_start],
        &rest[..path_at],
        &rest[query_at..]
    )
}

/// Creates the empty database `name` on the server of `server_url` (a URL of a
/// database its user may connect to; the user must be allowed to create databases).
pub async fn create_database(server_url: &str, name: &str) -> Result<()> {
    check_name(name)?;
    execute(server_url, &format!("CREATE DATABASE {name}")).await
}

/// Drops the database `name` on the server of `server_url` if it exists, ending the
/// connections still open to it (`WITH (FORCE)`, PostgreSQL 13 and later).
pub async fn drop_database(server_url: &str, name: &str) -> Result<()> {
    check_name(name)?;
    execute(
        server_url,
        &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
    )
    .await
}

/// Names are written into the statement (identifiers cannot be bound), so only plain
/// lower-case ones are taken: nothing to quote, nothing to inject.
fn check_name(name: &str) -> Result<()> {
    let plain = !name.is_empty()
        && name.len() <= 63
        && name.starts_with(|c: char| c.is_ascii_lowercase() || c == '_')
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if plain {
        Ok(())
    } else {
        Err(StoreError::Invalid(format!(
            "{name:?} is not a database name this program creates or drops \
             (lower-case letters, digits and _, at most 63)"
        )))
    }
}

/// Runs one statement on a connection of its own to `server_url`'s database.
async fn execute(server_url: &str, sql: &str) -> Result<()> {
    let config = parse_url(server_url)?;
    let (client, connection) = config.connect(NoTls).await?;
    let connection = tokio::spawn(connection);
    let result = client.batch_execute(sql).await;
    drop(client);
    let _ = connection.await;
    Ok(result?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_database_name_is_replaced() {
        assert_eq!(
            database_url("postgres://postgres@127.0.0.1:5432/test", "x"),
            "postgres://postgres@127.0.0.1:5432/x"
        );
        assert_eq!(
            database_url("postgresql://u:p@h/db?sslmode=disable", "x"),
            "postgresql://u:p@h/x?sslmode=disable"
        );
        assert_eq!(database_url("postgres://h", "x"), "postgres://h/x");
        assert_eq!(database_url("postgres://h?a=b", "x"), "postgres://h/x?a=b");
    }

    #[test]
    fn only_plain_names_are_taken() {
        assert!(check_name("passerelle_demo_rabat_1f2e").is_ok());
        for bad in ["", "Test", "a;drop", "a b", "1abc", &"a".repeat(64)] {
            assert!(check_name(bad).is_err(), "{bad:?}");
        }
    }
}
