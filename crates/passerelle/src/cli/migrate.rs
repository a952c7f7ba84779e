//! `passerelle migrate --from URL --to URL`: copies a whole node from one store to an
//! empty one (SQLite or PostgreSQL, either way) with [`store::copy_node`], a page at a
//! time, then prints what was copied and how it was verified.

use std::collections::HashMap;
use std::io::{self, IsTerminal, Write};
use std::process::ExitCode;

use anyhow::Context;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use store::{CopyError, CopyProgress, CopyReport, CopyStep};
use uuid::Uuid;

use super::output;
use crate::node;
use crate::store_url::{self, Access, StoreUrl};

const EXAMPLES: &str = "\
Examples:
  passerelle migrate --from ./passerelle-data --to postgres://passerelle@db.internal/passerelle
  passerelle migrate --from postgres://passerelle@db.internal/passerelle --to ./restored/passerelle.db
  passerelle migrate --from sqlite:/var/lib/passerelle/passerelle.db --to /srv/new-node

A URL is sqlite:PATH, a path to a .db file, a data folder (its passerelle.db, created
if absent), or postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE (a database that exists
on the server; as a target it gets the schema, as a source it must hold a node).

Stop the node first: the copy reads the source while it runs. The target must be empty:
a store that holds anything (a collection, an account, a ledger entry…) is refused and
named. Everything in the store is copied as it is: collections, every object version
with its date_added and provenance, statuses, accounts with their password hashes,
tokens and rights, sync states, and the ledger entry for entry, so tokens keep working,
TAXII cursors stay valid and `audit verify` anchors still hold. At the end the counts
per collection are compared on both sides and the copy's ledger is verified.

Not in the store, so not copied: the data folder's identity.json and node.key (the
node's identity and signing key; without them partners do not recognise the node) and
passerelle.toml. Copy them to the new node's data folder yourself, node.key readable by
its owner only.";

/// Copy a whole node to another store (SQLite or PostgreSQL), then verify the copy.
#[derive(Debug, clap::Args)]
#[command(after_help = EXAMPLES)]
pub struct Args {
    /// The store to copy: sqlite:PATH, a .db file, a data folder, or postgres://….
    #[arg(long, value_name = "URL")]
    from: String,
    /// The empty store to copy into (an absent SQLite file or folder is created; an
    /// empty PostgreSQL database gets the schema).
    #[arg(long, value_name = "URL")]
    to: String,
}

/// Files of a data folder that a node needs and the store does not hold.
const FOLDER_FILES: [&str; 3] = [
    federation::identity::IDENTITY_FILE,
    federation::identity::KEY_FILE,
    crate::config::FILE_NAME,
];

/// Runs `passerelle migrate`.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let from = StoreUrl::parse(&args.from).context("--from")?;
    let to = StoreUrl::parse(&args.to).context("--to")?;
    if from.same_store(&to) {
        anyhow::bail!("--from and --to are the same store ({from})");
    }
    let report = node::runtime()?.block_on(async {
        let source = store_url::open(&from, Access::Existing)
            .await
            .with_context(|| format!("cannot open the source {from}"))?;
        let target = store_url::open(&to, Access::CreateIfAbsent)
            .await
            .with_context(|| format!("cannot open the target {to}"))?;
        let names: HashMap<Uuid, String> = source
            .list_collections()
            .await
            .with_context(|| format!("cannot read the collections of {from}"))?
            .into_iter()
            .map(|c| (c.id, c.alias.unwrap_or_else(|| c.id.to_string())))
            .collect();
        let bar = progress_bar();
        let copied = store::copy_node(source.as_ref(), target.as_ref(), &|progress| {
            show(&bar, &names, &progress)
        })
        .await;
        bar.finish_and_clear();
        match copied {
            Ok(report) => Ok((report, names)),
            Err(error @ CopyError::TargetNotEmpty { .. }) => {
                Err(error).with_context(|| format!("cannot migrate into {to}"))
            }
            Err(error) => Err(error).with_context(|| {
                format!(
                    "the copy from {from} to {to} stopped, and {to} holds part of the node: \
                     empty it (SQLite: delete the file with its -wal and -shm files) before \
                     trying again"
                )
            }),
        }
    })?;
    let (report, names) = report;
    let mut out = io::stdout().lock();
    for line in summary(&from, &to, &report, &names) {
        output::line(&mut out, &line)?;
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

/// What the command prints once the copy is verified.
fn summary(
    from: &StoreUrl,
    to: &StoreUrl,
    report: &CopyReport,
    names: &HashMap<Uuid, String>,
) -> Vec<String> {
    let mut lines = vec![format!("migrated {from} to {to}")];
    lines.push(format!("  collections   {}", report.collections.len()));
    for count in &report.collections {
        let name = names
            .get(&count.collection)
            .cloned()
            .unwrap_or_else(|| count.collection.to_string());
        lines.push(format!(
            "    {name}: {} versions of {} objects",
            count.versions, count.objects
        ));
    }
    lines.push(format!("  versions      {}", report.versions));
    lines.push(format!(
        "  accounts      {} ({} tokens, {} rights)",
        report.accounts, report.tokens, report.grants
    ));
    lines.push(format!("  statuses      {}", report.statuses));
    lines.push(format!("  sync states   {}", report.sync_states));
    lines.push(match &report.ledger_head {
        Some(head) => format!(
            "  ledger        {} entries, head entry {} at {}, hash {}",
            report.ledger_entries, head.seq, head.time, head.hash
        ),
        None => "  ledger        0 entries".to_owned(),
    });
    lines.push(
        "verified: versions and objects per collection, accounts and sync states are equal \
         on both sides; the copy's ledger verifies from entry 1 to the source's head"
            .to_owned(),
    );
    let found: Vec<&str> = from
        .sqlite_folder()
        .map(|folder| {
            FOLDER_FILES
                .into_iter()
                .filter(|file| folder.join(file).is_file())
                .collect()
        })
        .unwrap_or_default();
    let files = if found.is_empty() {
        FOLDER_FILES.join(", ")
    } else {
        found.join(", ")
    };
    lines.push(match (from.sqlite_folder(), to.sqlite_folder()) {
        (Some(source), Some(target)) => format!(
            "not copied (not in the store): {files} of {}; copy them to {} \
             (node.key readable by its owner only) before serving the copy",
            source.display(),
            target.display()
        ),
        _ => format!(
            "not copied (not in the store): the data folder's {files}; copy them to the new \
             node's data folder (node.key readable by its owner only) before serving the copy"
        ),
    });
    lines
}

/// A bar on a terminal (what is being copied, how far); nothing otherwise.
fn progress_bar() -> ProgressBar {
    if !io::stderr().is_terminal() {
        return ProgressBar::with_draw_target(None, ProgressDrawTarget::hidden());
    }
    let bar = ProgressBar::new(0);
    bar.set_style(
        ProgressStyle::with_template("{msg:32} [{bar:40}] {human_pos}/{human_len} ({per_sec})")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    bar.enable_steady_tick(std::time::Duration::from_millis(200));
    bar
}

fn show(bar: &ProgressBar, names: &HashMap<Uuid, String>, progress: &CopyProgress) {
    let message = match &progress.step {
        CopyStep::Objects { collection } => format!(
            "objects ({})",
            names
                .get(collection)
                .cloned()
                .unwrap_or_else(|| collection.to_string())
        ),
        step => step.to_string(),
    };
    bar.set_message(message);
    bar.set_length(progress.total.unwrap_or(progress.done));
    bar.set_position(progress.done);
}
