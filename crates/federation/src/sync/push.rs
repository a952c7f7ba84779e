//! Pushing one local collection to a partner collection: every version added
//! since the saved position (local `date_added`, in µs), page by page, through
//! [`Federation::disclose`] (egress, then the ledger, before any byte leaves);
//! what may go is posted in envelopes within the partner's `max_content_length`,
//! each status followed until complete; objects the status lists as failed are
//! posted again; the position moves only once the whole page is acknowledged.
//!
//! Like the pull's prefetch, the push works one page ahead: page N+1 is decided and
//! recorded in the ledger while page N is posted and the partner checks and stores
//! it; N+1 is posted only once N is acknowledged and its position saved.
//!
//! Pages disclosed but not acknowledged (the partner went down mid-push: the page
//! being sent and the one disclosed ahead of it) are kept in memory and sent again
//! as they are on the next attempt, so a partner that is down for a day does not get
//! the same page written to the ledger every cycle. When the cycle's lease is lost
//! the push stops before deciding the next page, and before posting one decided
//! ahead (the lease is checked before each disclosure and each page posted; a page
//! decided ahead is then kept as above); whoever takes over starts after the last
//! acknowledged one.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use store::{Channel, Collection, Micros, ObjectQuery, VersionMatch};
use taxii::client::TaxiiClient;
use taxii::resources::{Status, StatusKind, write_envelope};
use uuid::Uuid;

use super::lease::PartnerLease;
use super::{Counts, SyncError, Syncer};
use crate::agreement::{PartnerConfig, PushConfig};
use crate::disclosure::Outcome;
use crate::egress::{Decision, Rule};

/// `{"objects":[` and `]}` around the objects of an envelope.
const ENVELOPE_OVERHEAD: u64 = 14;

/// A page decided and recorded in the ledger, not yet acknowledged by the partner.
#[derive(Debug, Clone)]
pub(super) struct PendingPage {
    /// The position it was read from.
    after: Option<Micros>,
    /// The `date_added` of its last version: the position once it is acknowledged.
    last: Micros,
    /// Whether the collection had more after it.
    more: bool,
    /// What goes.
    objects: Vec<Outgoing>,
    /// What does not, by rule.
    withheld: BTreeMap<Rule, u64>,
}

/// One version to post.
#[derive(Debug, Clone)]
struct Outgoing {
    id: String,
    version: String,
    bytes: Vec<u8>,
}

/// Pushes everything new in `local` to `entry.remote`.
pub(super) async fn push(
    syncer: &Syncer,
    partner: &PartnerConfig,
    entry: &PushConfig,
    local: &Collection,
    client: &TaxiiClient,
    lease: Option<&PartnerLease>,
    counts: &mut Counts,
) -> Result<(), SyncError> {
    let name = partner.name.as_str();
    let store = syncer.federation().store();
    let key = local.id.to_string();
    let saved = store.sync_cursor(name, &key, Channel::Push).await?;
    // No position, or an emptied one (`passerelle sync --from-start`): from the start.
    let mut after = match saved.as_deref().filter(|text| !text.trim().is_empty()) {
        None => None,
        Some(text) => {
            Some(
                text.trim()
                    .parse::<i64>()
                    .map(Micros)
                    .map_err(|e| SyncError::Cursor {
                        partner: name.to_owned(),
                        collection: key.clone(),
                        direction: Channel::Push,
                        reason: format!("{text:?} is not a date_added in microseconds: {e}"),
                    })?,
            )
        }
    };
    // Asked once per exchange: it also tells whether the partner is up before
    // anything is disclosed.
    let max_content_length = client
        .api_root()
        .await
        .map_err(|e| SyncError::taxii(name, e))?
        .max_content_length;
    let pending_key = (name.to_owned(), local.id);
    // Pages disclosed but not acknowledged in an earlier attempt, in order.
    let mut kept: Vec<PendingPage> = syncer
        .pending
        .lock()
        .ok()
        .and_then(|mut pending| pending.remove(&pending_key))
        .unwrap_or_default();
    // Between two pages: nothing of the next one is in the ledger yet.
    lease.map_or(Ok(()), PartnerLease::check)?;
    let mut page = match take_or_disclose(syncer, name, local, after, &mut kept).await? {
        Some(page) => page,
        None => return Ok(()),
    };
    loop {
        // A page decided ahead is posted only while the lease holds; else it is kept
        // (it is in the ledger already) like a page the partner did not acknowledge.
        if let Err(error) = lease.map_or(Ok(()), PartnerLease::check) {
            let mut unacknowledged = vec![page];
            unacknowledged.append(&mut kept);
            keep(syncer, &pending_key, unacknowledged);
            return Err(error);
        }
        for (rule, n) in &page.withheld {
            *counts.withheld.entry(*rule).or_default() += n;
        }
        let moved_before = counts.moved();
        // The next page is disclosed while this one is posted and the partner checks
        // and stores it; it is sent only once this one is acknowledged.
        let ahead = async {
            if !page.more {
                return Ok(None);
            }
            lease.map_or(Ok(()), PartnerLease::check)?;
            take_or_disclose(syncer, name, local, Some(page.last), &mut kept).await
        };
        let (sent, next) = tokio::join!(
            send(
                syncer,
                name,
                entry,
                client,
                &page.objects,
                max_content_length,
                counts,
            ),
            ahead
        );
        if let Err(error) = sent {
            let mut unacknowledged = vec![page];
            unacknowledged.extend(next.ok().flatten());
            unacknowledged.append(&mut kept);
            keep(syncer, &pending_key, unacknowledged);
            return Err(error);
        }
        counts.pages += 1;
        // The position and the page's count towards the total, in one transaction.
        store
            .set_sync_cursor(
                store::SyncCursor {
                    partner: name.to_owned(),
                    collection: key.clone(),
                    direction: Channel::Push,
                    cursor: page.last.0.to_string(),
                },
                counts.moved() - moved_before,
            )
            .await?;
        after = Some(page.last);
        page = match next? {
            Some(next) => next,
            None => return Ok(()),
        };
        debug_assert_eq!(page.after, after);
    }
}

/// Keeps `pages` (disclosed, not acknowledged, in order) for the next attempt.
fn keep(syncer: &Syncer, key: &(String, Uuid), pages: Vec<PendingPage>) {
    if let Ok(mut pending) = syncer.pending.lock() {
        pending.insert(key.clone(), pages);
    }
}

/// The page after `after`: the one kept from an earlier attempt if it starts there,
/// else read, decided and recorded in the ledger ([`next_page`]). `None` at the end.
async fn take_or_disclose(
    syncer: &Syncer,
    partner: &str,
    local: &Collection,
    after: Option<Micros>,
    kept: &mut Vec<PendingPage>,
) -> Result<Option<PendingPage>, SyncError> {
    if let Some(i) = kept.iter().position(|page| page.after == after) {
        return Ok(Some(kept.remove(i)));
    }
    next_page(syncer, partner, local, after).await
}

/// Reads the next page after `after`, decides it and records what goes in the ledger.
async fn next_page(
    syncer: &Syncer,
    partner: &str,
    local: &Collection,
    after: Option<Micros>,
) -> Result<Option<PendingPage>, SyncError> {
    let federation = syncer.federation();
    let query = ObjectQuery {
        added_after: after,
        versions: vec![VersionMatch::All],
        limit: syncer.settings().page_size.max(1),
        with_provenance: true,
        ..ObjectQuery::default()
    };
    let page = federation.store().objects(local.id, &query).await?;
    let Some(last) = page.records.last().map(|r| r.date_added) else {
        return Ok(None);
    };
    let outcomes = federation
        .disclose(partner, Channel::Push, local.id, page.records, None)
        .await?;
    let mut objects = Vec::new();
    let mut withheld: BTreeMap<Rule, u64> = BTreeMap::new();
    for Outcome { record, decision } in outcomes {
        match decision {
            Decision::Disclose { bytes, .. } => objects.push(Outgoing {
                id: record.id,
                version: record.version.as_str().to_owned(),
                bytes,
            }),
            Decision::Withhold { rule, detail } => {
                tracing::debug!(%partner, object = %record.id, %rule, %detail, "withheld from push");
                *withheld.entry(rule).or_default() += 1;
            }
        }
    }
    Ok(Some(PendingPage {
        after,
        last,
        more: page.more,
        objects,
        withheld,
    }))
}

/// Posts `objects` in envelopes no larger than `max_content_length`, follows each
/// status, and posts what failed again up to the settings' number of attempts.
async fn send(
    syncer: &Syncer,
    partner: &str,
    entry: &PushConfig,
    client: &TaxiiClient,
    objects: &[Outgoing],
    max_content_length: u64,
    counts: &mut Counts,
) -> Result<(), SyncError> {
    let attempts = syncer.settings().post_attempts.max(1);
    let mut todo: Vec<&Outgoing> = Vec::with_capacity(objects.len());
    for object in objects {
        if object.bytes.len() as u64 + ENVELOPE_OVERHEAD > max_content_length {
            counts.refused += 1;
            tracing::warn!(
                %partner,
                object = %object.id,
                version = %object.version,
                size = object.bytes.len(),
                max_content_length,
                "object larger than the partner accepts; not pushed"
            );
        } else {
            todo.push(object);
        }
    }
    for attempt in 1..=attempts {
        let mut failed: Vec<(&Outgoing, String)> = Vec::new();
        for envelope in envelopes(&todo, max_content_length) {
            let body = write_envelope(false, None, envelope.iter().map(|o| o.bytes.as_slice()));
            let status = client
                .add_objects(&entry.remote, body)
                .await
                .map_err(|e| SyncError::taxii(partner, e))?;
            let status = follow(syncer, partner, entry, client, status).await?;
            counts.sent += status.success_count;
            for failure in status.failures {
                let object = envelope
                    .iter()
                    .find(|o| o.id == failure.id && o.version == failure.version)
                    .or_else(|| envelope.iter().find(|o| o.id == failure.id));
                if let Some(object) = object {
                    failed.push((object, failure.message.unwrap_or_default()));
                }
            }
        }
        if failed.is_empty() {
            return Ok(());
        }
        if attempt == attempts {
            for (object, message) in failed {
                counts.refused += 1;
                tracing::warn!(
                    %partner,
                    collection = %entry.remote,
                    object = %object.id,
                    version = %object.version,
                    reason = %message,
                    attempts,
                    "the partner refused a pushed object"
                );
            }
            return Ok(());
        }
        todo = failed.into_iter().map(|(object, _)| object).collect();
        tokio::time::sleep(Duration::from_millis(200 * u64::from(attempt))).await;
    }
    Ok(())
}

/// Splits `objects` into envelopes of at most `max` bytes each (every object
/// fits on its own: larger ones were set aside).
fn envelopes<'a>(objects: &[&'a Outgoing], max: u64) -> Vec<Vec<&'a Outgoing>> {
    let mut out = Vec::new();
    let mut current: Vec<&Outgoing> = Vec::new();
    let mut size = ENVELOPE_OVERHEAD;
    for object in objects {
        let len = object.bytes.len() as u64 + u64::from(!current.is_empty());
        if !current.is_empty() && size + len > max {
            out.push(std::mem::take(&mut current));
            size = ENVELOPE_OVERHEAD;
        }
        size += object.bytes.len() as u64 + u64::from(!current.is_empty());
        current.push(object);
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

/// Follows a status until it is complete, within the settings' status timeout.
async fn follow(
    syncer: &Syncer,
    partner: &str,
    entry: &PushConfig,
    client: &TaxiiClient,
    mut status: Status,
) -> Result<Status, SyncError> {
    let started = Instant::now();
    let limit = syncer.settings().status_timeout;
    let mut delay = Duration::from_millis(100);
    while status.status == StatusKind::Pending {
        if started.elapsed() >= limit {
            return Err(SyncError::StatusPending {
                partner: partner.to_owned(),
                collection: entry.remote.clone(),
                status: status.id,
                waited: started.elapsed(),
            });
        }
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(Duration::from_secs(2));
        status = client
            .status(&status.id)
            .await
            .map_err(|e| SyncError::taxii(partner, e))?;
    }
    Ok(status)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    fn object(n: usize) -> Outgoing {
        Outgoing {
            id: format!("x--{n}"),
            version: String::new(),
            bytes: vec![b'x'; n],
        }
    }

    #[test]
    fn envelopes_stay_within_the_limit() {
        let objects: Vec<Outgoing> = [10, 20, 30, 40, 50, 5, 86]
            .into_iter()
            .map(object)
            .collect();
        let refs: Vec<&Outgoing> = objects.iter().collect();
        let max = 100;
        let split = envelopes(&refs, max);
        let mut seen = 0;
        for envelope in &split {
            let body = write_envelope(false, None, envelope.iter().map(|o| o.bytes.as_slice()));
            assert!(body.len() as u64 <= max, "{} bytes", body.len());
            seen += envelope.len();
        }
        assert_eq!(seen, objects.len());
        // The 86-byte object fills an envelope alone (86 + 14 = 100).
        assert_eq!(split.last().unwrap().len(), 1);
        assert_eq!(
            write_envelope(false, None, [&b"x"[..], &b"y"[..]]).len() as u64,
            ENVELOPE_OVERHEAD + 3
        );
    }
}
