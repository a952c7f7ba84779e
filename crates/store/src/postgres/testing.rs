//! (feature `testsuite`) [`TempDatabase`]: a PostgreSQL database of its own for one
//! test, created on a server given by `PASSERELLE_TEST_POSTGRES` and dropped after.
// Test support compiled into the library behind a feature: a failed setup stops the
// test with its message.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::str::FromStr;

use tokio_postgres::NoTls;

/// The environment variable naming the server tests use, as a `postgres://` URL of a
/// database the user may connect to and a user who may create databases.
pub const SERVER_ENV: &str = "PASSERELLE_TEST_POSTGRES";

/// The server when [`SERVER_ENV`] is not set.
pub const DEFAULT_SERVER: &str = "postgres://postgres@127.0.0.1:5432/test";

/// A fresh, empty database named `passerelle_test_<random>`, dropped (with any
/// connection still open to it) when this is dropped.
///
/// Creating one panics when the server cannot be reached: the tests that use it need
/// PostgreSQL, and are never skipped silently.
#[derive(Debug)]
pub struct TempDatabase {
    server: String,
    name: String,
    url: String,
}

impl TempDatabase {
    /// Creates the database. Blocks (on a thread of its own, so it may be called from
    /// async tests too).
    pub fn new() -> TempDatabase {
        let server = std::env::var(SERVER_ENV).unwrap_or_else(|_| DEFAULT_SERVER.to_owned());
        let name = format!("passerelle_test_{}", uuid::Uuid::new_v4().simple());
        let url = with_database(&server, &name);
        let sql = format!("CREATE DATABASE {name}");
        if let Err(error) = on_server(&server, sql) {
            panic!(
                "cannot create a test database on the PostgreSQL server {} ({error}): \
                 these tests need PostgreSQL; start one or point {SERVER_ENV} at one \
                 (a postgres:// URL whose user may create databases)",
                super::redacted_url(&server)
            );
        }
        TempDatabase { server, name, url }
    }

    /// The database's URL, for [`PostgresStore::connect`](super::PostgresStore::connect)
    /// or a node's `[store] url`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The database's name.
    pub fn name(&self) -> &str {
        &self.name
    }
}

impl Default for TempDatabase {
    fn default() -> TempDatabase {
        TempDatabase::new()
    }
}

impl Drop for TempDatabase {
    fn drop(&mut self) {
        // FORCE ends connections a store or a child process still holds.
        let sql = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name);
        if let Err(error) = on_server(&self.server, sql) {
            eprintln!("could not drop the test database {}: {error}", self.name);
        }
    }
}

/// Runs one statement on the server's own database, on a thread with its own runtime:
/// callable from `Drop` and from inside another runtime alike. Never panics.
fn on_server(server: &str, sql: String) -> Result<(), String> {
    let server = server.to_owned();
    let work = std::thread::spawn(move || -> Result<(), String> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| e.to_string())?;
        runtime.block_on(async move {
            let mut config =
                tokio_postgres::Config::from_str(&server).map_err(|e| e.to_string())?;
            if config.get_connect_timeout().is_none() {
                config.connect_timeout(std::time::Duration::from_secs(10));
            }
            let (client, connection) = config.connect(NoTls).await.map_err(|e| e.to_string())?;
            let connection = tokio::spawn(connection);
            let result = client
                .batch_execute(&sql)
                .await
                .map_err(|e| match e.as_db_error() {
                    Some(db) => db.message().to_owned(),
                    None => e.to_string(),
                });
            drop(client);
            let _ = connection.await;
            result
        })
    });
    work.join()
        .unwrap_or_else(|_| Err("the database thread stopped".into()))
}

/// `url` with its database name replaced by `name`.
fn with_database(url: &str, name: &str) -> String {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_database_name_is_replaced() {
        assert_eq!(
            with_database("postgres://postgres@127.0.0.1:5432/test", "x"),
            "postgres://postgres@127.0.0.1:5432/x"
        );
        assert_eq!(
            with_database("postgresql://u:p@h/db?sslmode=disable", "x"),
            "postgresql://u:p@h/x?sslmode=disable"
        );
        assert_eq!(with_database("postgres://h", "x"), "postgres://h/x");
        assert_eq!(with_database("postgres://h?a=b", "x"), "postgres://h/x?a=b");
    }
}
