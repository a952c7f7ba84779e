//! The PostgreSQL backend: a `deadpool-postgres` pool of `tokio-postgres` connections
//! (no TLS to the database), built for several Passerelle processes on one database.
//!
//! What keeps several writers right (each is a lock taken inside the write transaction,
//! always in this order, so two transactions never wait on each other in a cycle):
//! 1. the collection's row (`SELECT … FOR NO KEY UPDATE`) before any `date_added` is
//!    given or an object's first/last flags change, so within a collection commit
//!    order is `date_added` order and a reader paging by `added_after` never misses a
//!    row committed later with a smaller `date_added`;
//! 2. the ledger's advisory lock ([`LEDGER_LOCK`], `pg_advisory_xact_lock`) before the
//!    last entry is read and the next ones chained after it.
//!
//! Restoring a copy takes the same locks as the writes it stands in for: restored
//! object versions the collection's row, a restored ledger the advisory lock. Leases
//! take no lock of ours: each is one upsert on its own row (`leases.rs`).
//!
//! Text holding U+0000, which PostgreSQL cannot hold, is dealt with in one place
//! (`nul.rs`): keys looked up with one find nothing, text to store with one is refused.
//!
//! Bulk loads keep the planner's statistics fresh (`statistics.rs`): this process runs
//! `ANALYZE objects` in the background as it adds versions, rather than waiting for
//! autovacuum.
//!
//! Durability is PostgreSQL's: a commit returns once its WAL is flushed
//! (`synchronous_commit`, `on` by default; never turned off here).

mod accounts;
mod collections;
mod dump;
mod integrity;
mod leases;
mod ledger;
mod migrate;
mod nul;
mod objects;
pub mod server;
mod statistics;
mod statuses;
mod store_impl;
mod sync;
#[cfg(feature = "testsuite")]
pub mod testing;

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod, Runtime};
use tokio_postgres::NoTls;
use tokio_postgres::config::Host;
use tokio_postgres::error::SqlState;

use crate::error::{Result, StoreError};
use crate::time::Clock;

pub use migrate::{SCHEMA_VERSION, schema_version};

/// The advisory lock every ledger append takes (`pg_advisory_xact_lock`): the ledger is
/// one chain across every process on the database. The bytes spell `PASSLEDG`.
pub const LEDGER_LOCK: i64 = 0x5041_5353_4c45_4447;

/// The advisory lock held while migrations run (`pg_advisory_lock`), so two processes
/// starting at once do not both migrate. The bytes spell `PASSMIGR`.
pub const MIGRATION_LOCK: i64 = 0x5041_5353_4d49_4752;

/// Connections one store keeps at most; two or three nodes and a few CLI commands
/// stay well under PostgreSQL's default of 100.
const POOL_SIZE: usize = 16;

/// How long connecting to the server may take when the URL does not say.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// How long a call waits for a free connection before failing.
const WAIT_TIMEOUT: Duration = Duration::from_secs(30);

/// The PostgreSQL [`Store`](crate::Store). Cheap to clone; clones share the pool.
#[derive(Clone)]
pub struct PostgresStore {
    pool: Pool,
    clock: Arc<dyn Clock>,
    /// The database as [`redacted_url`] shows it: never the password.
    target: Arc<str>,
    /// Versions added since the planner's statistics were last refreshed.
    statistics: Arc<statistics::Statistics>,
}

impl std::fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresStore")
            .field("database", &self.target)
            .finish_non_exhaustive()
    }
}

impl PostgresStore {
    /// Connects to the database at `url` (`postgres://` or `postgresql://`) and brings its
    /// schema to [`SCHEMA_VERSION`], creating it in an empty database.
    ///
    /// Fails with [`StoreError::SchemaTooNew`] if a newer program wrote the schema.
    pub async fn connect(url: &str, clock: Arc<dyn Clock>) -> Result<PostgresStore> {
        PostgresStore::open(url, clock, true).await
    }

    /// As [`PostgresStore::connect`], for a database that already holds a Passerelle
    /// schema (older ones are migrated): one without any is
    /// [`StoreError::NotFound`] (`what` = `"schema"`), and nothing is created in it.
    pub async fn connect_existing(url: &str, clock: Arc<dyn Clock>) -> Result<PostgresStore> {
        PostgresStore::open(url, clock, false).await
    }

    async fn open(url: &str, clock: Arc<dyn Clock>, create: bool) -> Result<PostgresStore> {
        let config = parse_url(url)?;
        let target: Arc<str> = redacted(&config).into();
        migrate::migrate(&config, clock.as_ref(), create, &target).await?;
        let manager = Manager::from_config(
            config,
            NoTls,
            ManagerConfig {
                // A connection the server closed is noticed and replaced; anything
                // else a call left behind (an open transaction) is rolled back by
                // tokio-postgres when the call's future is dropped.
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(POOL_SIZE)
            .runtime(Runtime::Tokio1)
            .wait_timeout(Some(WAIT_TIMEOUT))
            .build()
            .map_err(|e| StoreError::Backend(Box::new(e)))?;
        let store = PostgresStore {
            pool,
            clock,
            target,
            statistics: Arc::default(),
        };
        store.warn_if_not_durable().await?;
        tracing::debug!(database = %store.target, "opened postgres store");
        Ok(store)
    }

    /// The database, as `postgres://user@host:port/name`: never the password.
    pub fn target(&self) -> &str {
        &self.target
    }

    /// A pooled connection.
    async fn client(&self) -> Result<deadpool_postgres::Object> {
        self.pool
            .get()
            .await
            .map_err(|e| StoreError::Backend(Box::new(e)))
    }

    /// A write is acknowledged only once durable; say so loudly if the server was
    /// configured to acknowledge commits before their WAL is flushed.
    async fn warn_if_not_durable(&self) -> Result<()> {
        let client = self.client().await?;
        let row = client.query_one("SHOW synchronous_commit", &[]).await?;
        let setting: String = row.try_get(0)?;
        if setting == "off" {
            tracing::warn!(
                database = %self.target,
                "synchronous_commit is off on this PostgreSQL server: \
                 acknowledged writes can be lost in a crash"
            );
        }
        Ok(())
    }
}

/// Parses a `postgres://` or `postgresql://` URL; [`StoreError::Invalid`] otherwise.
/// The message never repeats the URL (it may hold a password).
pub fn parse_url(url: &str) -> Result<tokio_postgres::Config> {
    if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
        return Err(StoreError::Invalid(
            "a PostgreSQL URL starts with postgres:// or postgresql://".into(),
        ));
    }
    let mut config = tokio_postgres::Config::from_str(url)
        .map_err(|e| StoreError::Invalid(format!("not a PostgreSQL URL: {e}")))?;
    if config.get_dbname().is_none() {
        return Err(StoreError::Invalid(
            "the PostgreSQL URL names no database (postgres://user@host/DATABASE)".into(),
        ));
    }
    if config.get_connect_timeout().is_none() {
        config.connect_timeout(CONNECT_TIMEOUT);
    }
    Ok(config)
}

/// `url` as `postgres://user@host:port/name`, without its password or options, for logs
/// and messages; a URL that does not parse gives a placeholder, never its text.
pub fn redacted_url(url: &str) -> String {
    match tokio_postgres::Config::from_str(url) {
        Ok(config) => redacted(&config),
        Err(_) => "(a PostgreSQL URL that does not parse)".to_owned(),
    }
}

fn redacted(config: &tokio_postgres::Config) -> String {
    let hosts: Vec<String> = config
        .get_hosts()
        .iter()
        .enumerate()
        .map(|(i, host)| {
            let name = match host {
                Host::Tcp(name) => name.clone(),
                #[cfg(unix)]
                Host::Unix(path) => path.display().to_string(),
            };
            match config.get_ports().get(i).or(config.get_ports().first()) {
                Some(port) => format!("{name}:{port}"),
                None => name,
            }
        })
        .collect();
    let user = config
        .get_user()
        .map(|u| format!("{u}@"))
        .unwrap_or_default();
    format!(
        "postgres://{user}{}/{}",
        hosts.join(","),
        config.get_dbname().unwrap_or("")
    )
}

impl From<tokio_postgres::Error> for StoreError {
    fn from(e: tokio_postgres::Error) -> StoreError {
        if nul::is_refusal(&e) {
            // Text parameters go through `nul`; should one ever escape it, the request
            // is still refused as the caller's, not reported as a failed backend.
            return StoreError::Invalid(format!("PostgreSQL cannot store this text: {e}"));
        }
        StoreError::Backend(Box::new(e))
    }
}

/// Whether `e` is a unique violation: what SQLite's code maps to
/// [`StoreError::Conflict`] (there, any constraint failure).
fn is_unique_violation(e: &tokio_postgres::Error) -> bool {
    e.code() == Some(&SqlState::UNIQUE_VIOLATION)
}

/// A count or number read from the database as the unsigned value it stands for.
fn to_u64(n: i64) -> u64 {
    u64::try_from(n).unwrap_or_default()
}

/// A count or number written to the database.
fn to_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_shown_without_their_password() {
        let shown =
            redacted_url("postgres://alice:s3cret@db.example:6432/passerelle?sslmode=disable");
        assert_eq!(shown, "postgres://alice@db.example:6432/passerelle");
        assert_eq!(
            redacted_url("postgresql://127.0.0.1/node"),
            "postgres://127.0.0.1:5432/node"
        );
        let garbage = redacted_url("postgres://alice:s3cret@host:notaport/db");
        assert!(!garbage.contains("s3cret"), "{garbage}");
    }

    #[test]
    fn only_postgres_urls_naming_a_database_are_taken() {
        for bad in [
            "host=localhost dbname=x",
            "mysql://localhost/x",
            "postgres://localhost",
            "postgres://alice:s3cret@host:notaport/db",
        ] {
            let err = parse_url(bad).unwrap_err();
            assert!(matches!(err, StoreError::Invalid(_)), "{bad}: {err:?}");
            assert!(!err.to_string().contains("s3cret"), "{err}");
        }
        assert!(parse_url("postgresql://alice@localhost/passerelle").is_ok());
    }
}
