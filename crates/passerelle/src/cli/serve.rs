//! `passerelle serve`: runs the node's TAXII 2.1 server until SIGTERM or
//! Ctrl-C. On first run (no database yet) it initialises the node as `init`
//! does and prints the admin token once. With partners to pull from or push to,
//! it also runs the sync workers (`[sync]`).

use std::io::{self, Write};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use store::SystemClock;

use super::{init, output, sync};
use crate::bootstrap;
use crate::config::{Config, Database};
use crate::node::{self, NodeArgs};
use crate::partners;
use crate::{logging, server, shutdown};

const EXAMPLES: &str = "\
Examples:
  passerelle serve --data ./passerelle-data          creates the node on first run, prints its URL and token
  passerelle serve --config /etc/passerelle.toml
  PASSERELLE__SERVER__LISTEN=127.0.0.1:9000 passerelle serve

The URL is printed on stdout once the node accepts connections; logs go to stderr.
Partners with pull or push entries are synced every [sync] interval_seconds (see `passerelle sync`).
SIGTERM or Ctrl-C stops it gracefully: no new connections, requests in flight finish, exit code 0.";

/// Run the node's TAXII 2.1 server.
#[derive(Debug, clap::Args)]
#[command(after_help = EXAMPLES)]
pub struct Args {
    #[command(flatten)]
    node: NodeArgs,
}

/// Runs `passerelle serve`.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let node = args.node.load()?;
    logging::init(&node.config.log);
    let mut config_file = node.config_file.clone();
    let database = node.config.database();
    let runtime = node::runtime()?;
    if config_file.is_none()
        && args.node.config.is_none()
        && !runtime.block_on(node::database_exists(&database))?
    {
        config_file = Some(bootstrap::write_config_file(
            &node.config.node.data,
            &node.config.node.name,
        )?);
    }
    if let Database::Sqlite(path) = &database
        && let Some(parent) = path.parent()
    {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("cannot create the folder {}", parent.display()))?;
    }
    let config = node.config;
    runtime.block_on(async move {
        let store = node::open_store(&database).await?;
        let created = if bootstrap::needs_bootstrap(store.as_ref()).await? {
            Some(bootstrap::bootstrap(store.as_ref()).await?)
        } else {
            None
        };
        let (identity, identity_created) = partners::identity_or_create(&config)?;
        // The agreements are checked against the store before anything listens.
        let federation = Arc::new(partners::federation(&config, store.clone()).await?);
        for problem in federation.tie_accounts().await? {
            tracing::warn!("{problem}");
        }
        partners::publish(&federation).await?;
        tracing::info!(
            identity = %identity.identity,
            partners = federation.agreement().partners.len(),
            "federation ready"
        );
        let bound = server::Bound::bind(&config.server).await?;
        let base_url = bound.base_url();
        {
            let mut out = io::stdout().lock();
            if let Some(created) = &created {
                for line in bootstrap::describe(created, &config, config_file.as_deref()) {
                    output::line(&mut out, &line)?;
                }
            }
            if identity_created {
                output::line(&mut out, &init::identity_line(&identity))?;
            }
            if let Some(created) = &created {
                output::line(
                    &mut out,
                    &format!(
                        "Try:  {}",
                        bootstrap::example_curl(&base_url, &created.token)
                    ),
                )?;
            }
            // Last, and only once listening: scripts and tests wait for this line.
            output::line(
                &mut out,
                &format!("Passerelle is serving TAXII 2.1 at {base_url}/taxii2/"),
            )?;
            out.flush()?;
        }
        tracing::info!(url = %base_url, api_root = %config.server.api_root, "serving");
        // One signal stops both the server and the sync workers.
        let (stop, stopping) = tokio::sync::watch::channel(false);
        tokio::spawn(async move {
            shutdown::signal().await;
            let _ = stop.send(true);
        });
        let workers = sync::start(&config, federation.clone(), stopping.clone());
        // Partner accounts read and post through the agreements.
        let state = taxii::AppState::new(store, Arc::new(SystemClock), settings(&config))
            .with_partner_gate(federation);
        let mut server_stop = stopping;
        bound
            .serve(taxii::router(state), async move {
                let _ = server_stop.wait_for(|stop| *stop).await;
            })
            .await?;
        if let Some(workers) = workers {
            workers.join().await;
        }
        tracing::info!("stopped");
        Ok(ExitCode::SUCCESS)
    })
}

/// The TAXII server's settings from the node's configuration.
fn settings(config: &Config) -> taxii::Settings {
    taxii::Settings {
        title: config.node.name.clone(),
        api_root: config.server.api_root.clone(),
        api_root_title: config.node.name.clone(),
        max_content_length: config.server.max_content_length,
        page_size_default: config.server.page_size_default,
        page_size_max: config.server.page_size_max,
        ..taxii::Settings::default()
    }
}
