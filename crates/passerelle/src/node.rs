//! Finding and opening a node: which config applies (`--config FILE`, else the
//! data folder's `passerelle.toml`, else the defaults), and its store.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use store::{PostgresStore, SqliteStore, Store, StoreError, SystemClock};

use crate::config::{self, Config, Database};

/// Options every command that works on a node accepts.
#[derive(Debug, Clone, clap::Args)]
pub struct NodeArgs {
    /// The node's config file (default: `passerelle.toml` in the data folder, if there is one).
    #[arg(long, value_name = "FILE", global = true)]
    pub config: Option<PathBuf>,
    /// The node's data folder (default: `[node] data` of the config, `passerelle-data`).
    #[arg(long, value_name = "DIR", global = true)]
    pub data: Option<PathBuf>,
}

/// A node's configuration and where it came from.
#[derive(Debug)]
pub struct Node {
    /// The effective configuration.
    pub config: Config,
    /// The config file that was read, if any.
    pub config_file: Option<PathBuf>,
}

impl NodeArgs {
    /// Loads the configuration: `--config FILE`, else `<data>/passerelle.toml` when it
    /// exists, else the defaults; then the environment; then `--data`, which wins.
    pub fn load(&self) -> anyhow::Result<Node> {
        let env: Vec<_> = std::env::vars_os().collect();
        let config_file = match &self.config {
            Some(file) => Some(file.clone()),
            None => {
                let data = self.data.clone().unwrap_or_else(|| data_from_env(&env));
                let file = data.join(config::FILE_NAME);
                file.is_file().then_some(file)
            }
        };
        let mut config = Config::load(config_file.as_deref(), env)?;
        if let Some(data) = &self.data {
            config.node.data = data.clone();
        }
        Ok(Node {
            config,
            config_file,
        })
    }
}

/// The data folder named by `PASSERELLE__NODE__DATA`, else the default.
fn data_from_env(env: &[(std::ffi::OsString, std::ffi::OsString)]) -> PathBuf {
    env.iter()
        .find(|(name, _)| name == "PASSERELLE__NODE__DATA")
        .map(|(_, value)| PathBuf::from(value))
        .unwrap_or_else(|| config::NodeConfig::default().data)
}

impl Node {
    /// Opens the store of an initialised node, migrating an older schema; an absent
    /// database (no SQLite file, or a PostgreSQL database without a Passerelle schema)
    /// is an error that says how to create one.
    pub async fn open_existing_store(&self) -> anyhow::Result<Arc<dyn Store>> {
        let database = self.config.database();
        let create = || {
            format!(
                "create the node with `passerelle init --data {}` \
                 (or point --config/--data at an existing one)",
                self.config.node.data.display()
            )
        };
        match open_existing(&database).await? {
            Some(store) => Ok(store),
            None => match &database {
                Database::Sqlite(path) => {
                    anyhow::bail!("no database at {}: {}", path.display(), create())
                }
                Database::Postgres(_) => anyhow::bail!(
                    "the PostgreSQL database {database} holds no Passerelle node yet: {}",
                    create()
                ),
            },
        }
    }
}

/// Opens an existing store, migrating an older schema; `None` when there is none
/// (no SQLite file, or a PostgreSQL database without a Passerelle schema), in which
/// case nothing was created. With [`open_store`], the one way a store is opened.
pub async fn open_existing(database: &Database) -> anyhow::Result<Option<Arc<dyn Store>>> {
    match database {
        Database::Sqlite(path) => {
            if !path.exists() {
                return Ok(None);
            }
            open_store(database).await.map(Some)
        }
        Database::Postgres(url) => {
            match PostgresStore::connect_existing(url, Arc::new(SystemClock)).await {
                Ok(store) => {
                    tracing::debug!(database = %database, "opened the store");
                    Ok(Some(Arc::new(store)))
                }
                Err(StoreError::NotFound { .. }) => Ok(None),
                Err(error) => {
                    Err(error).with_context(|| format!("cannot open the database {database}"))
                }
            }
        }
    }
}

/// Opens the store (creating the SQLite file or the PostgreSQL schema if needed),
/// applying migrations. Every command opens its store here or through
/// [`open_existing`] (by way of [`Node::open_existing_store`], or `store_url::open`
/// for `migrate`).
pub async fn open_store(database: &Database) -> anyhow::Result<Arc<dyn Store>> {
    let store: Arc<dyn Store> = match database {
        Database::Sqlite(path) => {
            let owned = path.clone();
            Arc::new(
                tokio::task::spawn_blocking(move || {
                    SqliteStore::open_file(&owned, Arc::new(SystemClock))
                })
                .await
                .context("the database opener stopped")?
                .with_context(|| format!("cannot open the database {database}"))?,
            )
        }
        Database::Postgres(url) => Arc::new(
            PostgresStore::connect(url, Arc::new(SystemClock))
                .await
                .with_context(|| format!("cannot open the database {database}"))?,
        ),
    };
    tracing::debug!(database = %database, "opened the store");
    Ok(store)
}

/// Whether the node's database exists: the SQLite file, or a Passerelle schema in the
/// PostgreSQL database (which must be reachable to tell).
pub async fn database_exists(database: &Database) -> anyhow::Result<bool> {
    match database {
        Database::Sqlite(path) => Ok(path.exists()),
        Database::Postgres(url) => Ok(store::postgres::schema_version(url)
            .await
            .with_context(|| format!("cannot reach the database {database}"))?
            > 0),
    }
}

/// The runtime for commands that talk to the store or serve.
pub fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}

/// Finds a collection by id or alias, with an error that lists what exists.
pub async fn find_collection(
    store: &dyn Store,
    id_or_alias: &str,
) -> anyhow::Result<store::Collection> {
    match store.find_collection(id_or_alias).await {
        Ok(collection) => Ok(collection),
        Err(store::StoreError::NotFound { .. }) => {
            let known = store.list_collections().await.unwrap_or_default();
            let names: Vec<String> = known
                .iter()
                .map(|c| match &c.alias {
                    Some(alias) => format!("{alias} ({})", c.id),
                    None => c.id.to_string(),
                })
                .collect();
            anyhow::bail!(
                "no collection {id_or_alias:?}; the collections are: {}",
                if names.is_empty() {
                    "none (create one with `passerelle collection add`)".to_owned()
                } else {
                    names.join(", ")
                }
            )
        }
        Err(error) => Err(error).context("cannot read the collections"),
    }
}
