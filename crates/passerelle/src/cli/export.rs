//! `passerelle export`: writes a collection's objects as one STIX bundle, page by
//! page from the store, to stdout or a file, with the bytes exactly as stored; or,
//! with `--partner`, the next signed transfer file for an air-gapped partner
//! ([`federation::offline`]).

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use federation::Rule;
use federation::offline::ExportSummary;
use store::{Micros, ObjectQuery, Store, VersionMatch};
use uuid::Uuid;

use super::output;
use crate::node::{self, NodeArgs};
use crate::partners;

const EXAMPLES: &str = "\
Examples:
  passerelle export --collection default > default.json
  passerelle export --collection incidents --type indicator --type malware --out iocs.json
  passerelle export --collection default --added-after 2025-01-01T00:00:00Z --all-versions | gzip > new.json.gz
  passerelle export --partner paris --out rabat-for-paris-0007.json

Objects come in the order they were added, each exactly as it was imported or posted.
Without --all-versions, only the latest version of each object is exported.

With --partner, the file is the next one of a series for that partner, to carry across
an air gap and import there with `passerelle import --from <this node>`: every version
added since the previous file to the collections its [partners.outbound] agreement names,
as the agreement lets it go (withheld, redacted and signed exactly as over the network),
in a STIX bundle signed by this node for that partner only. What goes is recorded in the
ledger. A file is written even when nothing is new: it keeps the partner's series going.
The file must not exist yet (an earlier file may not have been carried across).";

/// Export a collection's objects as a STIX 2.1 bundle, or the next signed file for a partner.
#[derive(Debug, clap::Args)]
#[command(after_help = EXAMPLES)]
pub struct Args {
    #[command(flatten)]
    node: NodeArgs,
    /// The collection: its id or alias.
    #[arg(
        long,
        short,
        required_unless_present = "partner",
        conflicts_with = "partner"
    )]
    collection: Option<String>,
    /// Only objects of this type (repeat for several).
    #[arg(long = "type", value_name = "TYPE", conflicts_with = "partner")]
    types: Vec<String>,
    /// Only versions the node added after this instant (RFC 3339, such as 2025-01-01T00:00:00Z).
    #[arg(long, value_name = "TIMESTAMP", value_parser = parse_micros, conflicts_with = "partner")]
    added_after: Option<Micros>,
    /// Every version of each object, not only the latest.
    #[arg(long, conflicts_with = "partner")]
    all_versions: bool,
    /// Write the next signed transfer file for this partner (its name in the config): what
    /// its agreement lets go of everything added since its previous file. Needs --out.
    #[arg(long, value_name = "PARTNER", requires = "out")]
    partner: Option<String>,
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
    if let (Some(partner), Some(out)) = (&args.partner, &args.out) {
        return export_for_partner(&args.node, partner, out);
    }
    let Some(collection) = &args.collection else {
        anyhow::bail!("--collection or --partner is needed");
    };
    let node = args.node.load()?;
    node::runtime()?.block_on(async {
        let store = node.open_existing_store().await?;
        let collection = node::find_collection(store.as_ref(), collection).await?;
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

/// `--partner P --out FILE`: the next transfer file for P.
fn export_for_partner(args: &NodeArgs, partner: &str, out: &Path) -> anyhow::Result<ExitCode> {
    let node = args.load()?;
    let summary = node::runtime()?.block_on(async {
        let store = node.open_existing_store().await?;
        let federation = partners::federation(&node.config, store).await?;
        federation.partner(partner)?;
        partners::publish(&federation).await?;
        let summary = federation.export_file(partner, out).await?;
        Ok::<_, anyhow::Error>(summary)
    })?;
    let mut stdout = io::stdout().lock();
    for line in describe(&summary) {
        output::line(&mut stdout, &line)?;
    }
    stdout.flush()?;
    Ok(ExitCode::SUCCESS)
}

/// The summary of a partner export, one line per fact.
fn describe(summary: &ExportSummary) -> Vec<String> {
    let header = &summary.header;
    let withheld = summary.withheld_total();
    let mut lines = Vec::new();
    if header.objects == 0 && withheld == 0 {
        lines.push(format!(
            "exported file {} for {} to {}: nothing new since {} (the file holds no object and keeps the series going)",
            header.sequence,
            summary.partner,
            summary.path.display(),
            if header.sequence > 1 {
                format!("file {}", header.sequence - 1)
            } else {
                "the start".to_owned()
            }
        ));
        return lines;
    }
    lines.push(format!(
        "exported file {} for {} to {}: {} object{} written, {} withheld",
        header.sequence,
        summary.partner,
        summary.path.display(),
        header.objects,
        if header.objects == 1 { "" } else { "s" },
        withheld
    ));
    if header.objects > 0 {
        lines.push(format!(
            "  written by rule:  {}",
            by_rule(&summary.disclosed)
        ));
    }
    if summary.redacted > 0 {
        lines.push(format!(
            "  redacted:         {} (content marked above what {} may see was removed)",
            summary.redacted, summary.partner
        ));
    }
    if withheld > 0 {
        lines.push(format!(
            "  withheld by rule: {}",
            by_rule(&summary.withheld)
        ));
    }
    lines
}

fn by_rule(counts: &std::collections::BTreeMap<Rule, u64>) -> String {
    counts
        .iter()
        .map(|(rule, n)| format!("{rule} {n}"))
        .collect::<Vec<_>>()
        .join(", ")
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
