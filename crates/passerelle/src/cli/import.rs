//! `passerelle import`: reads STIX files as a stream, validates each object,
//! and stores the valid ones in batches; a bad object is reported and skipped,
//! never stopping the others. With `--from`, the files are a partner's signed
//! transfer files ([`federation::offline`]), checked whole before anything is stored.

use std::io::{self, IsTerminal, Write};
use std::ops::ControlFlow;
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use federation::offline::{ImportOptions, ImportSummary, ranges_text};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use stix::bundle::{ObjectReader, ParsedObject, ReaderLimits};
use stix::{Diagnostic, Severity, json};
use store::{AddOutcome, NewObject, Provenance, Store};
use tokio::sync::mpsc;
use uuid::Uuid;

use super::output;
use crate::input;
use crate::node::{self, NodeArgs};
use crate::partners;

const EXAMPLES: &str = "\
Examples:
  passerelle import enterprise-attack.json --collection default
  passerelle import feeds/*.json.gz --collection incidents
  curl -s https://example.org/bundle.json | passerelle import - --collection default
  passerelle import --from rabat rabat-for-paris-0007.json

Each rejected object is one line on stdout: <file>: <object id or objects[N]>: <reason>.
The last line is the summary: added, already present (the same version was stored before), rejected.
The exit code is 0 when nothing was rejected, 1 when something was, 2 when the command itself failed.

With --from, each file must be a transfer file that partner wrote for this node
(`passerelle export --partner`): it is refused whole (exit code 2, saying why) if it is
truncated, changed after it was signed, signed by another node or meant for another one.
Its objects are then checked one by one like everything a partner sends (their own
signatures, [partners.inbound]) and stored with the partner as their provenance in the
collection its inbound.collection names (default: \"default\"). Importing a file twice
adds nothing the second time and says so; files of the series not imported yet are named.";

/// Import STIX 2.1 bundles into a collection, or a partner's signed transfer files.
///
/// Reads bundles, TAXII envelopes, JSON arrays or single objects, plain or
/// gzip-compressed, as a stream; validates every object and stores the valid
/// ones. Importing the same file twice stores nothing new.
#[derive(Debug, clap::Args)]
#[command(after_help = EXAMPLES)]
pub struct Args {
    #[command(flatten)]
    node: NodeArgs,
    /// Files to import (`.json` or `.json.gz`); `-` reads standard input.
    #[arg(required = true, value_name = "FILE")]
    files: Vec<String>,
    /// The collection to import into: its id or alias.
    #[arg(long, short, required_unless_present = "from", conflicts_with = "from")]
    collection: Option<String>,
    /// The files are transfer files from this partner (its name in the config), written
    /// for this node by its `passerelle export --partner`.
    #[arg(long, value_name = "PARTNER")]
    from: Option<String>,
    /// Objects stored per database transaction. Larger batches write each index
    /// page fewer times; each batch in flight holds its objects in memory.
    #[arg(long, default_value_t = 5000, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=100_000))]
    batch_size: u32,
    /// Largest single object accepted, in bytes; larger ones are rejected.
    #[arg(long, default_value_t = ReaderLimits::default().max_object_bytes, value_name = "BYTES")]
    max_object_size: usize,
}

/// An object that was not stored, and why.
#[derive(Debug)]
struct Rejection {
    file: Arc<str>,
    /// Its id, else `objects[N]`, else `-` for the file itself.
    object: String,
    reason: String,
}

/// What the reading thread hands to the storing task.
enum Message {
    Batch {
        source: Arc<str>,
        objects: Vec<NewObject>,
    },
    Rejected(Rejection),
}

#[derive(Debug, Default)]
struct Summary {
    added: u64,
    already_present: u64,
    rejected: u64,
}

/// Runs `passerelle import`.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    if let Some(partner) = &args.from {
        return import_from_partner(&args, partner);
    }
    let Some(collection) = &args.collection else {
        anyhow::bail!("--collection or --from is needed");
    };
    let node = args.node.load()?;
    let runtime = node::runtime()?;
    let bar = progress_bar();
    let summary = runtime.block_on(async {
        let store = node.open_existing_store().await?;
        let collection = node::find_collection(store.as_ref(), collection).await?;
        // A small queue: the reader stays a batch or two ahead of the database, no
        // more, so memory is a few batches whatever the size of the input.
        let (sender, receiver) = mpsc::channel(2);
        let reader_bar = bar.clone();
        let files = args.files.clone();
        let limits = ReaderLimits {
            max_object_bytes: args.max_object_size,
        };
        let batch_size = args.batch_size as usize;
        let reader = tokio::task::spawn_blocking(move || {
            read_files(&files, limits, batch_size, &sender, &reader_bar);
        });
        let stored = store_batches(store.as_ref(), collection.id, receiver, &bar).await;
        reader.await.context("the reading thread failed")?;
        let summary = stored?;
        bar.finish_and_clear();
        let name = collection
            .alias
            .clone()
            .unwrap_or_else(|| collection.id.to_string());
        Ok::<_, anyhow::Error>((summary, name, args.files.len()))
    })?;
    let (summary, collection, n_files) = summary;
    let mut out = io::stdout().lock();
    output::line(
        &mut out,
        &format!(
            "imported {} file{} into collection {collection}: {} added, {} already present, {} rejected",
            n_files,
            if n_files == 1 { "" } else { "s" },
            summary.added,
            summary.already_present,
            summary.rejected
        ),
    )?;
    out.flush()?;
    Ok(if summary.rejected > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// `--from P FILE…`: each file checked whole, then imported, in the order given.
fn import_from_partner(args: &Args, partner: &str) -> anyhow::Result<ExitCode> {
    if let Some(dash) = args.files.iter().find(|f| f.as_str() == "-") {
        anyhow::bail!(
            "{dash}: a transfer file is read twice (checked whole, then imported), so it \
             cannot come from standard input: save it to a file first"
        );
    }
    let node = args.node.load()?;
    let options = ImportOptions {
        batch_size: args.batch_size as usize,
        limits: ReaderLimits {
            max_object_bytes: args.max_object_size,
        },
    };
    let mut out = io::stdout().lock();
    let mut total = Summary::default();
    let mut collection = String::new();
    node::runtime()?.block_on(async {
        let store = node.open_existing_store().await?;
        let federation = partners::federation(&node.config, store).await?;
        for file in &args.files {
            let summary = federation
                .import_file(partner, Path::new(file), options)
                .await?;
            for line in describe(file, &summary) {
                output::line(&mut out, &line)?;
            }
            total.added += summary.added;
            total.already_present += summary.already_present;
            total.rejected += summary.rejected.len() as u64;
            collection = summary
                .collection
                .alias
                .clone()
                .unwrap_or_else(|| summary.collection.id.to_string());
        }
        Ok::<_, anyhow::Error>(())
    })?;
    let n_files = args.files.len();
    output::line(
        &mut out,
        &format!(
            "imported {n_files} file{} from {partner} into collection {collection}: {} added, {} already present, {} rejected",
            if n_files == 1 { "" } else { "s" },
            total.added,
            total.already_present,
            total.rejected
        ),
    )?;
    out.flush()?;
    Ok(if total.rejected > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// What importing one transfer file did, one line per fact.
fn describe(file: &str, summary: &ImportSummary) -> Vec<String> {
    let header = &summary.header;
    let partner = &summary.partner;
    let mut lines = vec![format!(
        "{file}: file {} from {partner} (written {}, {} object{}), signed by {partner} for this node",
        header.sequence,
        header.created,
        header.objects,
        if header.objects == 1 { "" } else { "s" }
    )];
    if summary.imported_before {
        lines.push(format!(
            "{file}: file {} from {partner} was imported before: only what is missing here is added again",
            header.sequence
        ));
    }
    if !summary.missing_before.is_empty() {
        lines.push(format!(
            "{file}: note: file(s) {} from {partner} have not been imported: what they hold is missing until they are",
            ranges_text(&summary.missing_before)
        ));
    }
    if summary.quarantined > 0 {
        lines.push(format!(
            "{file}: {} object(s) whose signature does not verify were put in quarantine",
            summary.quarantined
        ));
    }
    for rejected in &summary.rejected {
        lines.push(format!(
            "{file}: {}: {}",
            rejected
                .id
                .clone()
                .unwrap_or_else(|| format!("objects[{}]", rejected.index)),
            rejected.reason
        ));
    }
    lines
}

/// A bar on a terminal (objects read, rate, current file); nothing otherwise.
fn progress_bar() -> ProgressBar {
    if !io::stderr().is_terminal() {
        return ProgressBar::with_draw_target(None, ProgressDrawTarget::hidden());
    }
    let bar = ProgressBar::new_spinner();
    bar.set_style(
        ProgressStyle::with_template("{spinner} {human_pos} objects read ({per_sec}) {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    bar.enable_steady_tick(std::time::Duration::from_millis(200));
    bar
}

/// Reads every file, validates each object and sends full batches and rejections.
/// Runs on a blocking thread; stops early only if the storing side has gone.
fn read_files(
    files: &[String],
    limits: ReaderLimits,
    batch_size: usize,
    sender: &mpsc::Sender<Message>,
    bar: &ProgressBar,
) {
    for file in files {
        let source: Arc<str> = Arc::from(file.as_str());
        bar.set_message(file.clone());
        let reject = |object: String, reason: String| {
            sender.blocking_send(Message::Rejected(Rejection {
                file: source.clone(),
                object,
                reason,
            }))
        };
        let reader = match input::open(file) {
            Ok(reader) => reader,
            Err(error) => {
                if reject("-".to_owned(), format!("cannot read {file}: {error}")).is_err() {
                    return;
                }
                continue;
            }
        };
        let mut objects = ObjectReader::with_limits(reader, limits);
        let mut batch = Vec::with_capacity(batch_size);
        let mut diagnostics = Vec::new();
        let mut gone = false;
        // One pass per object: parsed where it lies in the reader's buffer, validated,
        // its columns derived; only its bytes are copied, once, to cross to the store.
        let end = objects.for_each_parsed(json::Limits::default(), |item| {
            bar.inc(1);
            let sent = match item {
                Ok(parsed) => match intake(&parsed, &mut diagnostics) {
                    Ok(object) => {
                        batch.push(object);
                        if batch.len() < batch_size {
                            return ControlFlow::Continue(());
                        }
                        sender.blocking_send(Message::Batch {
                            source: source.clone(),
                            objects: std::mem::replace(&mut batch, Vec::with_capacity(batch_size)),
                        })
                    }
                    Err((id, reason)) => reject(
                        id.unwrap_or_else(|| format!("objects[{}]", parsed.raw.index)),
                        reason,
                    ),
                },
                // Skipped objects (too large, not UTF-8): only that object fails.
                Err(error) => reject(
                    error
                        .object_index()
                        .map_or_else(|| "-".to_owned(), |i| format!("objects[{i}]")),
                    error.to_string(),
                ),
            };
            if sent.is_err() {
                gone = true;
                return ControlFlow::Break(());
            }
            ControlFlow::Continue(())
        });
        if gone {
            return;
        }
        if let Err(error) = end
            && reject(
                "-".to_owned(),
                format!("{error}; the rest of the file was not read"),
            )
            .is_err()
        {
            return;
        }
        if !batch.is_empty()
            && sender
                .blocking_send(Message::Batch {
                    source,
                    objects: batch,
                })
                .is_err()
        {
            return;
        }
    }
}

/// Validates one parsed object and derives its columns; on rejection, its id (if it
/// has one) and the reason. `diagnostics` is scratch space reused between objects.
fn intake(
    parsed: &ParsedObject<'_>,
    diagnostics: &mut Vec<Diagnostic>,
) -> Result<NewObject, (Option<String>, String)> {
    let value = match &parsed.value {
        Ok(value) => value,
        Err(e) => return Err((None, format!("invalid JSON: {}", e.kind))),
    };
    let Some(map) = value.as_object() else {
        return Err((None, "not a JSON object".to_owned()));
    };
    let id = || map.get("id").and_then(|v| v.as_str()).map(str::to_owned);
    diagnostics.clear();
    stix::validate::validate_object_into(value, diagnostics);
    let mut errors = diagnostics.iter().filter(|d| d.severity == Severity::Error);
    if let Some(first) = errors.next() {
        let more = errors.count();
        let property = if first.property.is_empty() {
            String::new()
        } else {
            format!("{}: ", first.property)
        };
        let also = if more > 0 {
            format!(
                " (and {more} more error{})",
                if more == 1 { "" } else { "s" }
            )
        } else {
            String::new()
        };
        return Err((
            id(),
            format!("{property}{} [{}]{also}", first.message, first.rule),
        ));
    }
    NewObject::from_object(parsed.raw.bytes.to_vec(), map).map_err(|e| (id(), e.to_string()))
}

/// Stores batches as they come and prints rejections.
async fn store_batches(
    store: &dyn Store,
    collection: Uuid,
    mut receiver: mpsc::Receiver<Message>,
    bar: &ProgressBar,
) -> anyhow::Result<Summary> {
    let mut summary = Summary::default();
    let mut out = io::stdout().lock();
    let mut report = |summary: &mut Summary, rejection: Rejection| -> io::Result<()> {
        summary.rejected += 1;
        let line = format!(
            "{}: {}: {}",
            rejection.file, rejection.object, rejection.reason
        );
        bar.suspend(|| output::line(&mut out, &line))
    };
    while let Some(message) = receiver.recv().await {
        let (source, objects) = match message {
            Message::Rejected(rejection) => {
                report(&mut summary, rejection)?;
                continue;
            }
            Message::Batch { source, objects } => (source, objects),
        };
        let provenance = Provenance::Import {
            source: source.to_string(),
        };
        // Objects are validated before they get here, so a failure is the store's
        // (disk full, database gone), not an object's: it ends the import.
        let outcomes = store
            .add_objects(collection, &provenance, objects)
            .await
            .with_context(|| format!("cannot store objects from {source}"))?;
        count(&mut summary, &outcomes);
    }
    Ok(summary)
}

fn count(summary: &mut Summary, outcomes: &[AddOutcome]) {
    for outcome in outcomes {
        match outcome {
            AddOutcome::Added { .. } => summary.added += 1,
            AddOutcome::AlreadyPresent { .. } => summary.already_present += 1,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use stix::bundle::RawObject;

    /// `intake` on `bytes` as the reader would hand them over.
    fn intake(bytes: &[u8]) -> Result<NewObject, (Option<String>, String)> {
        let parsed = ParsedObject {
            raw: RawObject {
                bytes,
                index: 0,
                offset: 0,
            },
            value: json::parse(bytes),
        };
        super::intake(&parsed, &mut Vec::new())
    }

    #[test]
    fn intake_names_the_object_and_the_first_error() {
        let good = br#"{"type":"identity","spec_version":"2.1","id":"identity--f431f809-377b-45e0-aa1c-6a4751cae5ff","created":"2016-04-06T20:03:00.000Z","modified":"2016-04-06T20:03:00.000Z","name":"ACME"}"#;
        let object = intake(good).unwrap();
        assert_eq!(object.id, "identity--f431f809-377b-45e0-aa1c-6a4751cae5ff");
        assert_eq!(object.bytes, good.to_vec());

        let bad = br#"{"type":"identity","spec_version":"2.1","id":"identity--f431f809-377b-45e0-aa1c-6a4751cae5ff","created":"2016-04-06T20:03:00.000Z","modified":"2015-04-06T20:03:00.000Z"}"#;
        let (id, reason) = intake(bad).unwrap_err();
        assert_eq!(
            id.as_deref(),
            Some("identity--f431f809-377b-45e0-aa1c-6a4751cae5ff")
        );
        assert!(reason.contains('['), "{reason}");

        let (id, reason) = intake(b"{\"type\": ").unwrap_err();
        assert_eq!(id, None);
        assert!(reason.starts_with("invalid JSON"), "{reason}");

        let (_, reason) = intake(b"[1]").unwrap_err();
        assert_eq!(reason, "not a JSON object");
    }
}
