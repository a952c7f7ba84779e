//! `passerelle collection add|list|remove`: the node's TAXII collections.

use std::io::{self, Write};
use std::process::ExitCode;

use anyhow::Context;
use store::NewCollection;
use uuid::Uuid;

use super::output;
use crate::node::{self, NodeArgs};

const EXAMPLES: &str = "\
Examples:
  passerelle collection add \"Incidents 2025\" --alias incidents --description \"Shared with partners\"
  passerelle collection list
  passerelle collection remove incidents --yes

A collection is named by its id (a UUID) or its alias wherever a command takes one.";

/// Create, list and remove TAXII collections.
#[derive(Debug, clap::Args)]
#[command(after_help = EXAMPLES)]
pub struct Args {
    #[command(flatten)]
    node: NodeArgs,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, clap::Subcommand)]
enum Command {
    /// Create a collection and print its id.
    Add {
        /// Its title, shown to TAXII clients.
        title: String,
        /// A short unique name to use instead of the id.
        #[arg(long)]
        alias: Option<String>,
        /// A longer description, shown to TAXII clients.
        #[arg(long)]
        description: Option<String>,
        /// Its id (default: a new random UUID).
        #[arg(long)]
        id: Option<Uuid>,
    },
    /// List the collections with how many objects and versions each holds.
    List,
    /// Delete a collection with all its objects and the rights on it.
    Remove {
        /// Its id or alias.
        collection: String,
        /// Confirm: the collection's objects are deleted with it.
        #[arg(long)]
        yes: bool,
    },
}

/// Runs `passerelle collection`.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let node = args.node.load()?;
    node::runtime()?.block_on(async {
        let store = node.open_existing_store().await?;
        let mut out = io::stdout().lock();
        match args.command {
            Command::Add {
                title,
                alias,
                description,
                id,
            } => {
                let created = store
                    .create_collection(NewCollection {
                        id: id.unwrap_or_else(Uuid::new_v4),
                        title,
                        description,
                        alias,
                    })
                    .await
                    .context("cannot create the collection")?;
                output::line(&mut out, &created.id.to_string())?;
            }
            Command::List => {
                let collections = store.list_collections().await?;
                let counts = store.counts().await?;
                output::line(
                    &mut out,
                    &format!(
                        "{:<36}  {:<16}  {:>9}  {:>9}  TITLE",
                        "ID", "ALIAS", "OBJECTS", "VERSIONS"
                    ),
                )?;
                for collection in collections {
                    let count = counts.iter().find(|c| c.collection == collection.id);
                    output::line(
                        &mut out,
                        &format!(
                            "{:<36}  {:<16}  {:>9}  {:>9}  {}",
                            collection.id,
                            collection.alias.as_deref().unwrap_or("-"),
                            count.map_or(0, |c| c.objects),
                            count.map_or(0, |c| c.versions),
                            collection.title
                        ),
                    )?;
                }
            }
            Command::Remove { collection, yes } => {
                let found = node::find_collection(store.as_ref(), &collection).await?;
                if !yes {
                    anyhow::bail!(
                        "removing collection {} ({}) deletes its objects: add --yes to confirm",
                        found.id,
                        found.title
                    );
                }
                store.delete_collection(found.id).await?;
                output::line(&mut out, &format!("removed collection {}", found.id))?;
            }
        }
        out.flush()?;
        Ok(ExitCode::SUCCESS)
    })
}
