//! The node's federation, wired from its data folder and configuration: the node
//! identity and signing key (created on a node's first run) and the agreements with
//! its partners, resolved against the store into a [`Federation`]; and publishing
//! what partners need to read our signatures before anything goes to them.

use std::path::Path;
use std::sync::Arc;

use anyhow::Context;
use federation::identity::{IDENTITY_FILE, KEY_FILE};
use federation::{Federation, NodeIdentity};
use store::Store;

use crate::config::Config;

/// The node's identity, created (and saved in the data folder) if the folder has
/// none yet: by `init`, and by the first `serve` of a node made before identities
/// existed. Returns it and whether it was created.
pub fn identity_or_create(config: &Config) -> anyhow::Result<(NodeIdentity, bool)> {
    let data = &config.node.data;
    if has_identity(data) {
        return Ok((identity(config)?, false));
    }
    let identity = NodeIdentity::generate(&config.node.name);
    identity
        .save(data)
        .with_context(|| format!("cannot create the node identity in {}", data.display()))?;
    tracing::info!(identity = %identity.identity, "created the node identity and signing key");
    Ok((identity, true))
}

/// The node's identity, from its data folder.
pub fn identity(config: &Config) -> anyhow::Result<NodeIdentity> {
    let data = &config.node.data;
    NodeIdentity::load(data).with_context(|| {
        format!(
            "cannot load the node identity from {} (a node gets one from `passerelle init`)",
            data.display()
        )
    })
}

fn has_identity(data: &Path) -> bool {
    data.join(IDENTITY_FILE).exists() || data.join(KEY_FILE).exists()
}

/// The node's federation over `store`.
pub async fn federation(config: &Config, store: Arc<dyn Store>) -> anyhow::Result<Federation> {
    let identity = identity(config)?;
    Ok(Federation::new(store, config.agreement(), identity).await?)
}

/// Stores the signature extension-definition and the identities it needs into every
/// collection partners receive from ([`Federation::publish`]): run by `serve` before it
/// listens, and by `sync` and `export --partner` before they send anything.
pub async fn publish(federation: &Federation) -> anyhow::Result<()> {
    federation
        .publish()
        .await
        .context("cannot publish the signature extension-definition and the node identity")?;
    Ok(())
}
