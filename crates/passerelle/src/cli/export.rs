//! `passerelle export`: writes a collection's objects as one STIX bundle, page by
//! page from the store, to stdout or a file, with the bytes exactly as stored.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use store::{Micros, ObjectQuery, Store, VersionMatch};
use uuid::Uuid;

use super::output;
use crate::node::{self, NodeArgs};

const EXAMPLES: &str = "\
Examples:
  passerelle export --collection default > default.json
  passerelle export --collection incidents --type indicator --type malware --out iocs.json
  passerelle export --collection default --added-after 2025-01-01T00:00:00Z --all-versions | gzip > new.json.gz

Objects come in the order they were added, each exactly as it was imported or posted.
Without --all-versions, only the latest version of each object is exported.";

/// Export a collection's objects as a STIX 2.1 bundle.
#[derive(Debug, clap::Args)]
#[command(after_help = EXAMPLES)]
pub struct Args {
    #[command(flatten)]
    node: NodeArgs,
    /// The collection: its id or alias.
    #[arg(long, short)]
    collection: String,
    /// Only objects of this type (repeat for several).
    #[arg(long = "type", value_name = "TYPE")]
    types: Vec<String>,
    /// Only versions the node added after this instant (RFC 3339, such as 2025-01-01T00:00:00Z).
    #[arg(long, value_name = "TIMESTAMP", value_parser = parse_micros)]
    added_after: Option<Micros>,
    /// Every version of each object, not only the latest.
    #[arg(long)]
    all_versions: bool,
    /// Write the bundle to this file instead of stdout (replaced only once complete).
    #[arg(long, short, value_name = "FILE")]
    out: Option<PathBuf>,
}

fn parse_micros(text: &str) -> Result<Micros, String> {
    Micros::parse(text).map_err(|e| e.to_string())
}

/// Objects read from the store per query.
const PAGE: usize = 1000;

/// Runs `passerelle export`.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let node = args.node.load()?;
    node::runtime()?.block_on(async {
        let store = node.open_existing_store().await?;
        let collection = node::find_collection(store.as_ref(), &args.collection).await?;
        let query = ObjectQuery {
            added_after: args.added_after,
            types: args.types.clone(),
            versions: if args.all_versions {
                vec![VersionMatch::All]
            } else {
                Vec::new()
            },
            limit: PAGE,
            ..ObjectQuery::default()
        };
        let n_objects = match &args.out {
            None => {
                let mut out = BufWriter::with_capacity(256 << 10, io::stdout().lock());
                match write_bundle(store.as_ref(), collection.id, query, &mut out).await {
                    Ok(n) => n,
                    // `passerelle export … | head` is normal use.
                    Err(e) if is_broken_pipe(&e) => return Ok(ExitCode::SUCCESS),
                    Err(e) => return Err(e),
                }
            }
            Some(path) => write_file(store.as_ref(), collection.id, query, path).await?,
        };
        if let Some(path) = &args.out {
            let mut err = io::stderr().lock();
            output::line(
                &mut err,
                &format!("exported {n_objects} objects to {}", path.display()),
            )?;
        }
        Ok(ExitCode::SUCCESS)
    })
}

fn is_broken_pipe(error: &anyhow::Error) -> bool {
    error
        .downcast_ref::<io::Error>()
        .is_some_and(|e| e.kind() == io::ErrorKind::BrokenPipe)
}

/// Writes to `<path>.partial`, then renames, so a failed export leaves no truncated bundle.
async fn write_file(
    store: &dyn Store,
    collection: Uuid,
    query: ObjectQuery,
    path: &Path,
) -> anyhow::Result<u64> {
    let mut partial = path.as_os_str().to_owned();
    partial.push(".partial");
    let partial = PathBuf::from(partial);
    let file =
        File::create(&partial).with_context(|| format!("cannot create {}", partial.display()))?;
    let mut out = BufWriter::with_capacity(256 << 10, file);
    let written = write_bundle(store, collection, query, &mut out).await;
    let finished = written.and_then(|n| {
        let file = out.into_inner().map_err(|e| e.into_error())?;
        file.sync_all()?;
        std::fs::rename(&partial, path).with_context(|| {
            format!("cannot rename {} to {}", partial.display(), path.display())
        })?;
        Ok(n)
    });
    if finished.is_err() {
        let _ = std::fs::remove_file(&partial);
    }
    finished
}

/// Streams the bundle: the wrapper, then each page's stored bytes, spliced unchanged.
async fn write_bundle(
    store: &dyn Store,
    collection: Uuid,
    mut query: ObjectQuery,
    out: &mut impl Write,
) -> anyhow::Result<u64> {
    write!(
        out,
        "{{\"type\":\"bundle\",\"id\":\"bundle--{}\",\"objects\":[",
        Uuid::new_v4()
    )?;
    let mut n_objects: u64 = 0;
    loop {
        let page = store
            .objects(collection, &query)
            .await
            .context("cannot read objects")?;
        for record in &page.records {
            if n_objects > 0 {
                out.write_all(b",\n")?;
            } else {
                out.write_all(b"\n")?;
            }
            out.write_all(&record.bytes)?;
            n_objects += 1;
        }
        match page.next {
            Some(next) if page.more => query.next = Some(next),
            _ => break,
        }
    }
    out.write_all(b"\n]}\n")?;
    out.flush()?;
    Ok(n_objects)
}
