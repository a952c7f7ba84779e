//! Versioned schema migrations for PostgreSQL: `migrations/postgres/NNNN_name.sql`,
//! applied in order at connect, each in its own transaction with its row in
//! `schema_migrations`, all under the advisory lock [`MIGRATION_LOCK`] so that two
//! processes starting at once do not both migrate.

use tokio_postgres::{Client, NoTls};

use super::MIGRATION_LOCK;
use crate::error::{Result, StoreError};
use crate::time::Clock;

/// Every migration, in order; migration `i` brings the schema to version `i + 1`.
const MIGRATIONS: &[(&str, &str)] = &[
    (
        "0001_initial",
        include_str!("../../migrations/postgres/0001_initial.sql"),
    ),
    (
        "0002_leases",
        include_str!("../../migrations/postgres/0002_leases.sql"),
    ),
];

/// The schema version this program writes.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// One row per migration applied; the schema version is the highest.
const VERSION_TABLE: &str = "CREATE TABLE IF NOT EXISTS schema_migrations (\
     version bigint PRIMARY KEY, name text NOT NULL, applied bigint NOT NULL)";

/// The schema version recorded in the database at `url` (0 when it has no Passerelle
/// schema), without changing anything.
pub async fn schema_version(url: &str) -> Result<i64> {
    let config = super::parse_url(url)?;
    let client = connect(&config).await?;
    read_version(&client).await
}

/// A connection of its own, outside the pool: the session-level migration lock goes
/// with it when it closes, whatever happens.
async fn connect(config: &tokio_postgres::Config) -> Result<Client> {
    let (client, connection) = config.connect(NoTls).await?;
    tokio::spawn(async move {
        if let Err(error) = connection.await {
            tracing::debug!(%error, "postgres migration connection closed");
        }
    });
    Ok(client)
}

async fn read_version(client: &Client) -> Result<i64> {
    let exists: bool = client
        .query_one("SELECT to_regclass('schema_migrations') IS NOT NULL", &[])
        .await?
        .try_get(0)?;
    if !exists {
        return Ok(0);
    }
    Ok(client
        .query_one(
            "SELECT COALESCE(max(version), 0)::bigint FROM schema_migrations",
            &[],
        )
        .await?
        .try_get(0)?)
}

/// Brings the database to [`SCHEMA_VERSION`] under [`MIGRATION_LOCK`]. Refuses a
/// database newer than this program and, unless `create`, one with no schema at all.
pub(super) async fn migrate(
    config: &tokio_postgres::Config,
    clock: &dyn Clock,
    create: bool,
    target: &str,
) -> Result<()> {
    let mut client = connect(config).await?;
    client
        .execute("SELECT pg_advisory_lock($1)", &[&MIGRATION_LOCK])
        .await?;
    let result = apply(&mut client, clock, create, target).await;
    // Closing the connection releases the lock too; unlocking first lets a waiting
    // process go on without waiting for the close to reach the server.
    let unlocked = client
        .execute("SELECT pg_advisory_unlock($1)", &[&MIGRATION_LOCK])
        .await;
    result?;
    unlocked?;
    Ok(())
}

async fn apply(client: &mut Client, clock: &dyn Clock, create: bool, target: &str) -> Result<()> {
    let found = read_version(client).await?;
    if found > SCHEMA_VERSION {
        return Err(StoreError::SchemaTooNew {
            found,
            supported: SCHEMA_VERSION,
        });
    }
    if found == 0 && !create {
        return Err(StoreError::not_found("schema", target));
    }
    for (index, (name, sql)) in MIGRATIONS.iter().enumerate().skip(found.max(0) as usize) {
        let version = index as i64 + 1;
        let tx = client.transaction().await?;
        tx.batch_execute(VERSION_TABLE).await?;
        tx.batch_execute(sql).await?;
        tx.execute(
            "INSERT INTO schema_migrations (version, name, applied) VALUES ($1, $2, $3)",
            &[&version, name, &clock.now().0],
        )
        .await?;
        tx.commit().await?;
        tracing::info!(migration = name, version, database = %target, "applied schema migration");
    }
    Ok(())
}
