//! `passerelle sync`: one cycle of pulls and pushes with the partners now, in
//! this process, or (`--status`) where each exchange stands. Also starts the
//! workers of `passerelle serve` ([`start`]).

use std::collections::HashMap;
use std::io::{self, Write};
use std::process::ExitCode;
use std::sync::Arc;

use federation::Federation;
use federation::sync::{LEASE_PREFIX, Syncer, WhenBusy, Workers};
use serde_json::json;
use store::{Channel, Lease, Micros, SyncState};
use tokio::sync::watch;

use super::output::{self, Format};
use crate::config::Config;
use crate::logging;
use crate::node::{self, NodeArgs};
use crate::partners;

const EXAMPLES: &str = "\
Examples:
  passerelle sync                           one cycle with every partner now, then a summary
  passerelle sync paris                     only with partner paris
  passerelle sync paris --from-start        read everything again (after an agreement was widened)
  passerelle sync --status                  per partner, collection and direction: last success, last attempt, last error, totals
  passerelle sync --status --format json    the same, one JSON object per line

A cycle prints one line per exchange: <partner> <pull|push> <from> -> <to>: what moved,
then the error if it failed. Rejected and refused objects are logged on stderr with their id
and the reason. A running `passerelle serve` syncs on its own every [sync] interval_seconds;
this command runs a cycle now against the node's database (the node may be running: a
partner it is syncing with at that moment is synced once the node's cycle is done).
`--status` also names the process syncing with each partner at that moment, if any.
The exit code is 0 when every exchange worked, 1 when one failed, 2 when the command itself
failed.";

/// Pull from and push to partners now, or show where each exchange stands.
#[derive(Debug, clap::Args)]
#[command(after_help = EXAMPLES)]
pub struct Args {
    #[command(flatten)]
    node: NodeArgs,
    /// Only this partner (its `name` in `[[partners]]`).
    partner: Option<String>,
    /// Print the state of each exchange instead of syncing.
    #[arg(long)]
    status: bool,
    /// Forget the saved positions first, so this cycle reads everything again: after an
    /// agreement was widened, what it now allows travels too. Nothing is stored twice
    /// (versions are idempotent); what is pushed again is recorded again.
    #[arg(long, conflicts_with = "status")]
    from_start: bool,
    /// Output format: `text` for people, `json` (one JSON object per line) for machines.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
}

/// Starts the sync workers of `serve` (one per partner with something to pull or
/// push), unless `[sync] enabled = false`. They stop when `stop` turns true.
pub fn start(
    config: &Config,
    federation: Arc<Federation>,
    stop: watch::Receiver<bool>,
) -> Option<Workers> {
    if !config.sync.enabled {
        tracing::info!("sync workers disabled ([sync] enabled = false)");
        return None;
    }
    let syncer = Arc::new(syncer(config, federation, WhenBusy::Skip));
    let workers = syncer.start(stop);
    if !workers.partners().is_empty() {
        tracing::info!(partners = ?workers.partners(), "sync workers started");
    }
    Some(workers)
}

/// The node's workers; a lease per partner in the store keeps the processes that
/// share it (the running node, `passerelle sync`, nodes on one database) from
/// syncing with the same partner at once (the node's worker skips a cycle; the
/// command waits for the other's to finish).
fn syncer(config: &Config, federation: Arc<Federation>, when_busy: WhenBusy) -> Syncer {
    Syncer::new(federation, config.sync.settings()).with_exclusive(when_busy)
}

/// Runs `passerelle sync`.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let node = args.node.load()?;
    let config = node.config.clone();
    if let Some(name) = &args.partner
        && config.agreement().partner(name).is_none()
    {
        let names: Vec<&str> = config.partners.iter().map(|p| p.name.as_str()).collect();
        anyhow::bail!(
            "no partner {name:?} in the configuration; the partners are: {}",
            if names.is_empty() {
                "none (add a [[partners]] table)".to_owned()
            } else {
                names.join(", ")
            }
        );
    }
    if !args.status {
        logging::init(&config.log);
    }
    node::runtime()?.block_on(async move {
        let store = node.open_existing_store().await?;
        let federation = Arc::new(partners::federation(&config, store).await?);
        if args.status {
            status(&federation, args.partner.as_deref(), args.format).await
        } else {
            if args.from_start {
                forget_positions(&federation, args.partner.as_deref()).await?;
            }
            partners::publish(&federation).await?;
            cycle(&config, federation, args.partner.as_deref(), args.format).await
        }
    })
}

/// Sets the saved pull and push positions of one partner (or all) back to the start.
async fn forget_positions(federation: &Federation, only: Option<&str>) -> anyhow::Result<()> {
    let store = federation.store();
    for partner in &federation.agreement().partners {
        if only.is_some_and(|name| name != partner.name) {
            continue;
        }
        let mut cursors: Vec<(String, Channel)> = partner
            .pull
            .iter()
            .map(|pull| (pull.remote.clone(), Channel::Pull))
            .collect();
        for push in &partner.push {
            let local = store.find_collection(&push.local).await?;
            cursors.push((local.id.to_string(), Channel::Push));
        }
        for (collection, direction) in cursors {
            store
                .set_sync_cursor(
                    store::SyncCursor {
                        partner: partner.name.clone(),
                        collection,
                        direction,
                        cursor: String::new(),
                    },
                    0,
                )
                .await?;
        }
    }
    Ok(())
}

/// One cycle with one partner or all, then the summary.
async fn cycle(
    config: &Config,
    federation: Arc<Federation>,
    only: Option<&str>,
    format: Format,
) -> anyhow::Result<ExitCode> {
    let syncer = Arc::new(syncer(config, federation, WhenBusy::Wait));
    let reports = match only {
        Some(name) => vec![syncer.sync_partner(name).await?],
        None => syncer.sync_all().await,
    };
    let mut out = io::stdout().lock();
    let exchanges: Vec<_> = reports.iter().flat_map(|r| &r.exchanges).collect();
    let skipped: Vec<_> = reports
        .iter()
        .filter_map(|r| r.skipped.as_ref().map(|why| (&r.partner, why)))
        .collect();
    for (partner, why) in &skipped {
        match format {
            Format::Text => output::line(&mut out, &format!("{partner}: skipped: {why}"))?,
            Format::Json => output::line(
                &mut out,
                &json!({"partner": partner, "skipped": why}).to_string(),
            )?,
        }
    }
    if exchanges.is_empty() && skipped.is_empty() {
        let who = only.map_or_else(
            || "no partner has anything".to_owned(),
            |n| format!("partner {n} has nothing"),
        );
        output::line(
            &mut out,
            &format!("{who} to pull or push (set url, and pull or push, in [[partners]])"),
        )?;
        return Ok(ExitCode::SUCCESS);
    }
    for exchange in &exchanges {
        match format {
            Format::Text => output::line(&mut out, &exchange.to_string())?,
            Format::Json => {
                let c = &exchange.counts;
                let withheld: serde_json::Map<String, serde_json::Value> = c
                    .withheld
                    .iter()
                    .map(|(rule, n)| (rule.to_string(), json!(n)))
                    .collect();
                let record = json!({
                    "partner": exchange.partner,
                    "direction": exchange.direction.as_str(),
                    "collection": exchange.collection,
                    "from": exchange.from,
                    "to": exchange.to,
                    "received": c.received,
                    "added": c.added,
                    "already_present": c.already_present,
                    "quarantined": c.quarantined,
                    "rejected": c.rejected,
                    "sent": c.sent,
                    "withheld": withheld,
                    "refused": c.refused,
                    "error": exchange.error.as_ref().map(ToString::to_string),
                });
                output::line(&mut out, &record.to_string())?;
            }
        }
    }
    let failed = exchanges.iter().filter(|e| e.error.is_some()).count();
    let moved: u64 = exchanges.iter().map(|e| e.counts.moved()).sum();
    if format == Format::Text {
        output::line(
            &mut out,
            &format!(
                "synced with {} partner{}: {} exchange{}, {moved} object{} moved, {failed} failed",
                reports.len() - skipped.len(),
                plural(reports.len() - skipped.len()),
                exchanges.len(),
                plural(exchanges.len()),
                plural(usize::try_from(moved).unwrap_or(usize::MAX)),
            ),
        )?;
    }
    out.flush()?;
    Ok(if failed > 0 || !skipped.is_empty() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// One row of `--status`.
struct Row {
    partner: String,
    direction: Channel,
    collection: String,
    route: String,
    state: Option<SyncState>,
}

/// Every configured exchange (those never attempted too) and every exchange the
/// store has a state for, such as offline files.
async fn status(
    federation: &Federation,
    only: Option<&str>,
    format: Format,
) -> anyhow::Result<ExitCode> {
    let store = federation.store();
    let mut states: HashMap<(String, String, Channel), SyncState> = store
        .sync_states()
        .await?
        .into_iter()
        .map(|s| ((s.partner.clone(), s.collection.clone(), s.direction), s))
        .collect();
    let mut rows = Vec::new();
    for partner in &federation.agreement().partners {
        if only.is_some_and(|name| name != partner.name) {
            continue;
        }
        for entry in &partner.pull {
            let key = (partner.name.clone(), entry.remote.clone(), Channel::Pull);
            rows.push(Row {
                state: states.remove(&key),
                partner: partner.name.clone(),
                direction: Channel::Pull,
                collection: entry.remote.clone(),
                route: format!("{} -> {}", entry.remote, entry.into),
            });
        }
        for entry in &partner.push {
            let collection = match store.find_collection(&entry.local).await {
                Ok(c) => c.id.to_string(),
                Err(_) => entry.local.clone(),
            };
            let key = (partner.name.clone(), collection.clone(), Channel::Push);
            rows.push(Row {
                state: states.remove(&key),
                partner: partner.name.clone(),
                direction: Channel::Push,
                collection,
                route: format!("{} -> {}", entry.local, entry.remote),
            });
        }
    }
    let mut rest: Vec<SyncState> = states
        .into_values()
        .filter(|s| only.is_none_or(|name| name == s.partner))
        .collect();
    rest.sort_by(|a, b| {
        (&a.partner, &a.collection, a.direction).cmp(&(&b.partner, &b.collection, b.direction))
    });
    rows.extend(rest.into_iter().map(|s| Row {
        partner: s.partner.clone(),
        direction: s.direction,
        collection: s.collection.clone(),
        route: s.collection.clone(),
        state: Some(s),
    }));

    // Who is syncing with each partner now, by partner.
    let leases: HashMap<String, Lease> = store
        .leases()
        .await?
        .into_iter()
        .filter_map(|lease| {
            let partner = lease.name.strip_prefix(LEASE_PREFIX)?.to_owned();
            Some((partner, lease))
        })
        .collect();

    let mut out = io::stdout().lock();
    let time = |t: Option<Micros>| t.map_or_else(|| "never".to_owned(), |t| t.to_string());
    match format {
        Format::Json => {
            for row in &rows {
                let state = row.state.as_ref();
                let lease = leases.get(&row.partner).map(
                    |lease| json!({"holder": lease.holder, "expires": lease.expires.to_string()}),
                );
                let record = json!({
                    "partner": row.partner,
                    "direction": row.direction.as_str(),
                    "collection": row.collection,
                    "route": row.route,
                    "last_success": state.and_then(|s| s.last_success).map(|t| t.to_string()),
                    "last_attempt": state.and_then(|s| s.last_attempt).map(|t| t.to_string()),
                    "last_error": state.and_then(|s| s.last_error.clone()),
                    "objects": state.map_or(0, |s| s.objects),
                    "cursor": state.and_then(|s| s.cursor.clone()),
                    "sync_lease": lease,
                });
                output::line(&mut out, &record.to_string())?;
            }
        }
        Format::Text => {
            if rows.is_empty() {
                output::line(
                    &mut out,
                    "no exchange with any partner (set pull or push in [[partners]])",
                )?;
                return Ok(ExitCode::SUCCESS);
            }
            let mut table = vec![[
                "PARTNER".to_owned(),
                "DIRECTION".to_owned(),
                "EXCHANGE".to_owned(),
                "LAST SUCCESS".to_owned(),
                "LAST ATTEMPT".to_owned(),
                "OBJECTS".to_owned(),
                "LAST ERROR".to_owned(),
            ]];
            for row in &rows {
                let state = row.state.as_ref();
                table.push([
                    row.partner.clone(),
                    row.direction.to_string(),
                    row.route.clone(),
                    time(state.and_then(|s| s.last_success)),
                    time(state.and_then(|s| s.last_attempt)),
                    state.map_or(0, |s| s.objects).to_string(),
                    state
                        .and_then(|s| s.last_error.clone())
                        .unwrap_or_else(|| "-".to_owned()),
                ]);
            }
            let mut widths = [0usize; 7];
            for line in &table {
                for (width, cell) in widths.iter_mut().zip(line) {
                    *width = (*width).max(cell.chars().count());
                }
            }
            for line in &table {
                let mut text = String::new();
                for (i, cell) in line.iter().enumerate() {
                    if i + 1 == line.len() {
                        text.push_str(cell);
                    } else {
                        text.push_str(&format!("{cell:<width$}  ", width = widths[i]));
                    }
                }
                output::line(&mut out, text.trim_end())?;
            }
            let mut partners: Vec<&str> = rows.iter().map(|r| r.partner.as_str()).collect();
            partners.dedup();
            for partner in partners {
                if let Some(lease) = leases.get(partner) {
                    output::line(
                        &mut out,
                        &format!(
                            "{partner}: being synced by {} (lease until {})",
                            lease.holder, lease.expires
                        ),
                    )?;
                }
            }
        }
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}
