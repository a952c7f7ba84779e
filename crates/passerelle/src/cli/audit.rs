//! `passerelle audit verify|log`: the disclosure ledger for auditors. `verify` walks
//! the whole hash chain a page at a time with [`store::LedgerVerifier`] and names the
//! first entry edited, missing or out of order; `log` answers "what did we give this
//! partner" (and with `--received`, "what did it give us").

use std::collections::HashMap;
use std::io::{self, Write};
use std::process::ExitCode;

use anyhow::Context;
use serde_json::json;
use store::{Direction, LedgerEntry, LedgerQuery, LedgerVerifier, Micros, Store};
use uuid::Uuid;

use super::output;
use super::output::Format;
use crate::node::{self, NodeArgs};

const EXAMPLES: &str = "\
Examples:
  passerelle audit verify                                   check the whole ledger; prints its head
  passerelle audit verify --anchor 3f2a…                    and that an entry printed earlier is still there
  passerelle audit log --partner paris                      every object version we gave paris
  passerelle audit log --partner paris --since 2026-11-01   since a date (or an RFC 3339 time)
  passerelle audit log --partner paris --received           every version paris gave us
  passerelle audit log --all --format json                  every entry, one JSON object per line

Exit codes of verify: 0 the chain holds, 1 it is broken (the entry is named), 2 it could not be read.
Cutting entries off the end leaves a shorter chain that holds: keep the printed head
hash somewhere else and check it later with --anchor.";

/// Check and read the disclosure ledger.
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
    /// Walk the whole ledger and check its hash chain; print how many entries it holds
    /// and its head, or the first bad entry and why (exit code 1).
    Verify {
        /// The hash of an entry printed by an earlier verify, which must still be in
        /// the chain (so entries cut off the end show).
        #[arg(long, value_name = "HASH")]
        anchor: Option<String>,
        /// `text` for people, `json` for machines.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// List ledger entries: by default what was disclosed (to PARTNER, or to anyone).
    Log {
        /// Only entries about this partner.
        #[arg(long)]
        partner: Option<String>,
        /// Only entries at or after this time: RFC 3339 (`2026-11-20T08:00:00Z`,
        /// `2026-11-20T09:00:00+01:00`) or a date (`2026-11-20`, midnight UTC).
        #[arg(long, value_name = "TIME", value_parser = parse_since)]
        since: Option<Micros>,
        /// What the partner gave us (`received` entries) instead of what we gave it.
        #[arg(long, conflicts_with = "all")]
        received: bool,
        /// Every entry: disclosed, received and deleted.
        #[arg(long)]
        all: bool,
        /// `text` for people, `json` (one JSON object per line) for machines.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
}

/// Entries read per store call.
const PAGE: usize = 5000;

/// Runs `passerelle audit`.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let node = args.node.load()?;
    node::runtime()?.block_on(async {
        let store = node.open_existing_store().await?;
        let mut out = io::stdout().lock();
        let code = match args.command {
            Command::Verify { anchor, format } => {
                verify(store.as_ref(), anchor.as_deref(), format, &mut out).await?
            }
            Command::Log {
                partner,
                since,
                received,
                all,
                format,
            } => {
                let direction = match (received, all) {
                    (_, true) => None,
                    (true, false) => Some(Direction::Received),
                    (false, false) => Some(Direction::Disclosed),
                };
                let query = LedgerQuery {
                    partner: partner.clone(),
                    direction,
                    since,
                    after_seq: None,
                    limit: Some(PAGE),
                };
                let shown = log(store.as_ref(), query, format, &mut out).await?;
                if shown == 0
                    && let Some(partner) = &partner
                    && node.config.agreement().partner(partner).is_none()
                {
                    output::error(&format!(
                        "no entries, and {partner:?} is not a partner in the configuration"
                    ));
                }
                ExitCode::SUCCESS
            }
        };
        out.flush()?;
        Ok(code)
    })
}

/// What walking the ledger found.
enum Verified {
    /// The chain holds: this many entries, ending with this one.
    Intact {
        count: u64,
        head: Option<LedgerEntry>,
        anchor_found: bool,
    },
    /// The first entry that does not follow, and why.
    Broken { seq: u64, reason: String },
}

async fn verify(
    store: &dyn Store,
    anchor: Option<&str>,
    format: Format,
    out: &mut impl Write,
) -> anyhow::Result<ExitCode> {
    let anchor = anchor.map(|a| a.trim().to_ascii_lowercase());
    let found = walk(store, anchor.as_deref()).await?;
    let (line, code) = match found {
        Verified::Broken { seq, reason } => (
            match format {
                Format::Json => json!({"valid": false, "seq": seq, "reason": reason}).to_string(),
                Format::Text => format!("ledger BROKEN at entry {seq}: {reason}"),
            },
            ExitCode::from(1),
        ),
        Verified::Intact {
            count,
            head,
            anchor_found,
        } => {
            if let Some(anchor) = &anchor
                && !anchor_found
            {
                let reason = format!(
                    "the chain holds ({count} entries) but no entry has the anchor hash {anchor}: \
                     entries were cut off the end, or the anchor is from another node"
                );
                let line = match format {
                    Format::Json => json!({"valid": false, "seq": null, "entries": count,
                        "reason": reason})
                    .to_string(),
                    Format::Text => format!("ledger BROKEN: {reason}"),
                };
                output::line(out, &line)?;
                return Ok(ExitCode::from(1));
            }
            let line = match (format, &head) {
                (Format::Json, _) => json!({
                    "valid": true,
                    "entries": count,
                    "head_seq": head.as_ref().map(|h| h.seq),
                    "head_hash": head.as_ref().map(|h| h.hash.clone()),
                    "head_time": head.as_ref().map(|h| h.time.to_string()),
                    "anchor_found": anchor.as_ref().map(|_| anchor_found),
                })
                .to_string(),
                (Format::Text, None) => "ledger OK: 0 entries".to_owned(),
                (Format::Text, Some(head)) => format!(
                    "ledger OK: {count} entries; head entry {} at {}, hash {}{}",
                    head.seq,
                    head.time,
                    head.hash,
                    if anchor.is_some() {
                        "; anchor found"
                    } else {
                        ""
                    }
                ),
            };
            (line, ExitCode::SUCCESS)
        }
    };
    output::line(out, &line)?;
    Ok(code)
}

/// Checks the ledger from entry 1 to its head, a page at a time.
async fn walk(store: &dyn Store, anchor: Option<&str>) -> anyhow::Result<Verified> {
    let mut verifier = LedgerVerifier::new();
    let mut after = None;
    let mut head = None;
    let mut anchor_found = false;
    let mut limit = PAGE;
    loop {
        let query = LedgerQuery {
            after_seq: after,
            limit: Some(limit),
            ..LedgerQuery::default()
        };
        let page = match store.ledger(&query).await {
            Ok(page) => page,
            // A row the store cannot read was written outside Passerelle: read on one
            // entry at a time, so the entries before it are checked, then report it.
            Err(store::StoreError::Backend(_)) if limit > 1 => {
                limit = 1;
                continue;
            }
            Err(error @ store::StoreError::Backend(_)) => {
                let reason = match std::error::Error::source(&error) {
                    Some(source) => format!("{error}: {source}"),
                    None => error.to_string(),
                };
                return Ok(Verified::Broken {
                    seq: after.map_or(1, |a| a + 1),
                    reason: format!("it cannot be read ({reason})"),
                });
            }
            Err(error) => return Err(error).context("cannot read the ledger"),
        };
        let Some(last) = page.last() else {
            break;
        };
        after = Some(last.seq);
        for entry in &page {
            if let Err(broken) = verifier.check(entry) {
                return Ok(Verified::Broken {
                    seq: broken.seq,
                    reason: broken.reason.to_string(),
                });
            }
            if anchor == Some(entry.hash.as_str()) {
                anchor_found = true;
            }
        }
        let full = page.len() == limit;
        head = page.into_iter().last();
        if !full {
            break;
        }
    }
    Ok(Verified::Intact {
        count: verifier.count(),
        head,
        anchor_found,
    })
}

/// Prints the entries `query` selects, a page at a time; returns how many.
async fn log(
    store: &dyn Store,
    mut query: LedgerQuery,
    format: Format,
    out: &mut impl Write,
) -> anyhow::Result<u64> {
    let aliases: HashMap<Uuid, String> = store
        .list_collections()
        .await?
        .into_iter()
        .filter_map(|c| c.alias.map(|alias| (c.id, alias)))
        .collect();
    if format == Format::Text {
        output::line(
            out,
            &format!(
                "{:<27}  {:<9}  {:<8}  {:<7}  {:<36}  {:<60}  {:<24}  {:<30}  SHA-256",
                "TIME",
                "DIRECTION",
                "PARTNER",
                "CHANNEL",
                "COLLECTION",
                "OBJECT",
                "VERSION",
                "RULE"
            ),
        )?;
    }
    let mut shown = 0;
    loop {
        let page = store
            .ledger(&query)
            .await
            .context("cannot read the ledger")?;
        let full = Some(page.len()) == query.limit;
        for entry in &page {
            let alias = aliases.get(&entry.collection);
            let line = match format {
                Format::Json => json!({
                    "seq": entry.seq,
                    "time": entry.time.to_string(),
                    "direction": entry.direction.as_str(),
                    "partner": entry.partner,
                    "channel": entry.channel.map(|c| c.as_str()),
                    "collection": entry.collection.to_string(),
                    "collection_alias": alias,
                    "object_id": entry.object_id,
                    "version": entry.version,
                    "rule": entry.rule,
                    "bytes_sha256": entry.bytes_sha256,
                    "hash": entry.hash,
                })
                .to_string(),
                Format::Text => format!(
                    "{:<27}  {:<9}  {:<8}  {:<7}  {:<36}  {:<60}  {:<24}  {:<30}  {}",
                    entry.time.to_string(),
                    entry.direction.as_str(),
                    entry.partner.as_deref().unwrap_or("-"),
                    entry.channel.map_or("-", |c| c.as_str()),
                    alias
                        .cloned()
                        .unwrap_or_else(|| entry.collection.to_string()),
                    entry.object_id,
                    entry.version,
                    entry.rule,
                    entry.bytes_sha256
                ),
            };
            output::line(out, &line)?;
            shown += 1;
        }
        match page.last() {
            Some(last) if full => query.after_seq = Some(last.seq),
            _ => break,
        }
    }
    Ok(shown)
}

/// `--since`: an RFC 3339 time with any offset, or a date (midnight UTC).
fn parse_since(text: &str) -> Result<Micros, String> {
    let invalid = || {
        format!(
            "{text:?} is not an RFC 3339 time (2026-11-20T08:00:00Z, 2026-11-20T09:00:00+01:00) \
             or a date (2026-11-20)"
        )
    };
    let text = text.trim();
    if !text.is_ascii() {
        return Err(invalid());
    }
    if text.len() == 10 {
        return Micros::parse(&format!("{text}T00:00:00Z")).map_err(|_| invalid());
    }
    let upper = text.replacen(['t', ' '], "T", 1).to_ascii_uppercase();
    if upper.ends_with('Z') {
        return Micros::parse(&upper).map_err(|_| invalid());
    }
    // ±HH:MM at the end: parse the local time as UTC, then move it by the offset.
    let split = upper.len().checked_sub(6).ok_or_else(invalid)?;
    let (local, offset) = upper.split_at(split);
    let sign = match offset.as_bytes().first() {
        Some(b'+') => 1,
        Some(b'-') => -1,
        _ => return Err(invalid()),
    };
    let (hours, minutes) = offset[1..].split_once(':').ok_or_else(invalid)?;
    let digits = |s: &str| {
        (s.len() == 2 && s.bytes().all(|b| b.is_ascii_digit()))
            .then(|| s.parse::<i64>().ok())
            .flatten()
    };
    let (Some(hours), Some(minutes)) = (digits(hours), digits(minutes)) else {
        return Err(invalid());
    };
    if hours > 23 || minutes > 59 {
        return Err(invalid());
    }
    let at = Micros::parse(&format!("{local}Z")).map_err(|_| invalid())?;
    Ok(Micros(
        at.0 - sign * (hours * 3600 + minutes * 60) * 1_000_000,
    ))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn since_takes_rfc_3339_with_any_offset_and_dates() {
        let utc = Micros::parse("2026-11-20T08:00:00Z").unwrap();
        assert_eq!(parse_since("2026-11-20T08:00:00Z").unwrap(), utc);
        assert_eq!(parse_since("2026-11-20t08:00:00z").unwrap(), utc);
        assert_eq!(parse_since("2026-11-20 08:00:00Z").unwrap(), utc);
        assert_eq!(parse_since("2026-11-20T09:00:00+01:00").unwrap(), utc);
        assert_eq!(parse_since("2026-11-20T03:30:00-04:30").unwrap(), utc);
        assert_eq!(
            parse_since("2026-11-20T08:00:00.250+00:00").unwrap(),
            Micros(utc.0 + 250_000)
        );
        assert_eq!(
            parse_since("2026-11-20").unwrap(),
            Micros::parse("2026-11-20T00:00:00Z").unwrap()
        );
        for bad in [
            "yesterday",
            "2026-11-20T08:00:00",
            "2026-11-20T08:00:00+1:00",
            "2026-11-20T08:00:00+24:00",
            "2026-13-20",
            "",
        ] {
            let error = parse_since(bad).unwrap_err();
            assert!(error.contains("RFC 3339"), "{bad}: {error}");
        }
    }
}
