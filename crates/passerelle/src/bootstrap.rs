//! A node's first run: the data folder, its config file, and in the database a
//! default collection and an admin account with a first API token, shown once.

use std::path::{Path, PathBuf};

use anyhow::Context;
use store::{NewAccount, NewCollection, NewToken, Store};
use uuid::Uuid;

use crate::config::{self, Config};

/// The admin account `init` creates.
pub const ADMIN: &str = "admin";

/// The alias of the collection `init` creates.
pub const DEFAULT_COLLECTION: &str = "default";

/// What a first run created in the database, to tell the operator once.
pub struct Created {
    /// The admin account's name.
    pub admin: String,
    /// Its first API token, in clear: printed once, stored only as a hash.
    pub token: String,
    /// The default collection, if one was created.
    pub collection: Option<store::Collection>,
}

impl std::fmt::Debug for Created {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The token is a secret: it is printed once on purpose, never through Debug.
        f.debug_struct("Created")
            .field("admin", &self.admin)
            .field("token", &"<redacted>")
            .field("collection", &self.collection)
            .finish()
    }
}

/// Creates the data folder (if needed) and writes a minimal config file in it;
/// refuses if the file exists. Returns the file's path.
pub fn write_config_file(data: &Path, name: &str) -> anyhow::Result<PathBuf> {
    std::fs::create_dir_all(data)
        .with_context(|| format!("cannot create the data folder {}", data.display()))?;
    let path = data.join(config::FILE_NAME);
    let text = format!(
        "# Passerelle node configuration, written by `passerelle init`.\n\
         # Every setting, its default and its meaning: `passerelle config default`.\n\
         # Relative paths are taken from this file's folder.\n\
         \n\
         [node]\n\
         data = \".\"\n\
         name = {}\n",
        toml::Value::String(name.to_owned())
    );
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&path)
        .with_context(|| format!("cannot create {}", path.display()))?;
    std::io::Write::write_all(&mut file, text.as_bytes())
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(path)
}

/// Whether the store has no account yet, so nobody could administer it.
pub async fn needs_bootstrap(store: &dyn Store) -> anyhow::Result<bool> {
    Ok(store
        .list_accounts()
        .await
        .context("cannot read the accounts")?
        .is_empty())
}

/// Creates the admin account with a first token and, if the node has no
/// collection, a default one.
pub async fn bootstrap(store: &dyn Store) -> anyhow::Result<Created> {
    let collection = if store.list_collections().await?.is_empty() {
        Some(
            store
                .create_collection(NewCollection {
                    id: Uuid::new_v4(),
                    title: "Default".to_owned(),
                    description: Some("Created by passerelle init".to_owned()),
                    alias: Some(DEFAULT_COLLECTION.to_owned()),
                })
                .await
                .context("cannot create the default collection")?,
        )
    } else {
        None
    };
    store
        .create_account(NewAccount {
            name: ADMIN.to_owned(),
            admin: true,
        })
        .await
        .context("cannot create the admin account")?;
    let token = taxii::auth::generate_token();
    store
        .add_token(
            ADMIN,
            NewToken {
                name: "init".to_owned(),
                hash: taxii::auth::token_hash(&token),
            },
        )
        .await
        .context("cannot store the admin token")?;
    tracing::info!(
        account = ADMIN,
        "created the admin account and its first token"
    );
    Ok(Created {
        admin: ADMIN.to_owned(),
        token,
        collection,
    })
}

/// The lines that tell the operator what a first run created, with the token.
pub fn describe(created: &Created, config: &Config, config_file: Option<&Path>) -> Vec<String> {
    let mut lines = vec![format!(
        "Initialised the Passerelle node in {}",
        config.node.data.display()
    )];
    if let Some(file) = config_file {
        lines.push(format!("  config file    {}", file.display()));
    }
    lines.push(format!("  database       {}", config.database()));
    if let Some(collection) = &created.collection {
        lines.push(format!(
            "  collection     {} (\"{}\", id {})",
            collection.alias.as_deref().unwrap_or("-"),
            collection.title,
            collection.id
        ));
    }
    lines.push(format!("  admin account  {}", created.admin));
    lines.push(format!("  API token      {}", created.token));
    lines.push(
        "  The token is shown only this once: keep it now (more with `passerelle token create`)."
            .to_owned(),
    );
    lines
}

/// A ready-to-paste request for the discovery endpoint.
pub fn example_curl(base_url: &str, token: &str) -> String {
    format!(
        "curl -H 'Authorization: Bearer {token}' -H 'Accept: application/taxii+json;version=2.1' {base_url}/taxii2/"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_token() {
        let created = Created {
            admin: ADMIN.to_owned(),
            token: "psl_secret".to_owned(),
            collection: None,
        };
        let shown = format!("{created:?}");
        assert!(
            !shown.contains("psl_secret") && shown.contains("redacted"),
            "{shown}"
        );
    }
}
