//! `passerelle init`: creates a node (data folder, config file, database,
//! default collection, admin account) and prints its first API token once.

use std::io::{self, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use super::output;
use crate::bootstrap;
use crate::config::{self, Database};
use crate::node::{self, NodeArgs};
use crate::partners;

const EXAMPLES: &str = "\
Examples:
  passerelle init --data /var/lib/passerelle
  passerelle init --data ./node --name \"CERT-Example\"
  passerelle init --config /etc/passerelle.toml     the config file exists; create the rest

Creates the data folder with passerelle.toml and passerelle.db in it, a collection
\"default\", and an account \"admin\" whose first API token is printed once.
A node that is already initialised is left untouched: the command fails and says so.";

/// Create a node: data folder, config file, database, admin account and token.
#[derive(Debug, clap::Args)]
#[command(after_help = EXAMPLES)]
pub struct Args {
    #[command(flatten)]
    node: NodeArgs,
    /// The node's name, shown to TAXII clients (written to the new config file).
    #[arg(long)]
    name: Option<String>,
}

/// Runs `passerelle init`.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let mut node = args.node.load()?;
    if let Some(name) = &args.name {
        node.config.node.name.clone_from(name);
        node.config.validate()?;
    }
    let data = node.config.node.data.clone();
    let database = node.config.database();
    let planned_file = data.join(config::FILE_NAME);
    let writes_config = args.node.config.is_none();
    let runtime = node::runtime()?;
    let already = |what: String, start_over: String| {
        anyhow::anyhow!(
            "already initialised: {what}; start the node with `passerelle serve {}`, \
             or {start_over} to start over",
            serve_args(&args.node, &data),
        )
    };
    let remove_data = format!("remove {}", data.display());
    if runtime.block_on(node::database_exists(&database))? {
        return Err(match &database {
            Database::Sqlite(path) => already(format!("{} exists", path.display()), remove_data),
            Database::Postgres(_) => already(
                format!("the database {database} holds a node"),
                "point [store] url at an empty database".to_owned(),
            ),
        });
    }
    if writes_config && planned_file.exists() {
        return Err(already(
            format!("{} exists", planned_file.display()),
            remove_data,
        ));
    }
    let config_file: Option<PathBuf> = if writes_config {
        Some(bootstrap::write_config_file(&data, &node.config.node.name)?)
    } else {
        std::fs::create_dir_all(&data)?;
        node.config_file.clone()
    };
    if let Database::Sqlite(path) = &database
        && let Some(parent) = path.parent()
    {
        std::fs::create_dir_all(parent)?;
    }
    let created = runtime.block_on(async {
        let store = node::open_store(&database).await?;
        bootstrap::bootstrap(store.as_ref()).await
    })?;
    let (identity, _) = partners::identity_or_create(&node.config)?;
    if !node.config.partners.is_empty() {
        node::runtime()?.block_on(async {
            let store = node::open_store(&database).await?;
            // An agreement may name collections made after init: the first serve
            // publishes then.
            match partners::federation(&node.config, store).await {
                Ok(federation) => partners::publish(&federation).await,
                Err(e) => {
                    tracing::debug!("not publishing at init: {e:#}");
                    Ok(())
                }
            }
        })?;
    }
    let mut out = io::stdout().lock();
    for line in bootstrap::describe(&created, &node.config, config_file.as_deref()) {
        output::line(&mut out, &line)?;
    }
    output::line(&mut out, &identity_line(&identity))?;
    let scheme = if node.config.server.tls_files().is_some() {
        "https"
    } else {
        "http"
    };
    let base_url = format!("{scheme}://{}", node.config.server.listen);
    output::line(&mut out, "")?;
    output::line(
        &mut out,
        &format!(
            "Start it:  passerelle serve {}",
            serve_args(&args.node, &data)
        ),
    )?;
    output::line(
        &mut out,
        &format!(
            "Then try:  {}",
            bootstrap::example_curl(&base_url, &created.token)
        ),
    )?;
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

/// How `init` and a first `serve` name the identity they created.
pub fn identity_line(identity: &federation::NodeIdentity) -> String {
    format!(
        "  identity       {} (public key {}; partners need both: `passerelle identity show`)",
        identity.identity,
        identity.public_key()
    )
}

fn serve_args(args: &NodeArgs, data: &std::path::Path) -> String {
    match &args.config {
        Some(file) => format!("--config {}", file.display()),
        None => format!("--data {}", data.display()),
    }
}
