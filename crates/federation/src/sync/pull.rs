//! Pulling one partner collection into a local one: pages of Get Objects
//! (`match[version]=all`, so every version travels, revocations included) from
//! the saved position; each page through [`intake::receive_page`] (on every core,
//! signatures checked together); each page stored
//! with its position in the same transaction.
//!
//! The next page is fetched while the current one is checked and stored
//! ([`Prefetch`]); positions still go with their own pages.
//!
//! A page's objects can land in two collections (the `into` collection and the
//! quarantine) and carry different signature checks, so they are stored in groups
//! of one collection and one provenance; the position goes with the last group.
//! Each group adds the versions it stored to the exchange's total in its own
//! transaction (`Store::add_objects_in_sync`). If the node stops between two groups,
//! the page is read again on restart and the groups already stored are "already
//! present": nothing is lost, stored twice or counted twice.
//! The same holds when the cycle's lease is lost: the pull stops before storing
//! the next page, and whoever takes over reads it again.

use std::sync::Arc;

use store::{AddOutcome, Channel, NewObject, Provenance, SyncCursor, SyncStep};
use taxii::client::{ClientError, Filters, ObjectPages, ObjectsPage, Position, TaxiiClient};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use uuid::Uuid;

use super::intake::{self, Received, Rejection};
use super::lease::PartnerLease;
use super::{Counts, SyncError, Syncer};
use crate::agreement::{PartnerConfig, PullConfig};
use crate::node::{Federation, FederationError};
use crate::receipt::Verdict;

/// Where kept objects of one page go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Target {
    Into,
    Quarantine,
}

/// Objects of one page with the same destination and provenance.
struct Group {
    target: Target,
    provenance: Provenance,
    objects: Vec<NewObject>,
}

/// Pulls everything new from `entry.remote` into `entry.into`.
pub(super) async fn pull(
    syncer: &Syncer,
    partner: &PartnerConfig,
    index: usize,
    entry: &PullConfig,
    client: &TaxiiClient,
    lease: Option<&PartnerLease>,
    counts: &mut Counts,
) -> Result<(), SyncError> {
    let federation = syncer.federation();
    let store = federation.store();
    let name = partner.name.as_str();
    let into = federation
        .collection(&entry.into)
        .await
        .map_err(|e| SyncError::Collection {
            partner: name.to_owned(),
            field: format!("pull[{index}].into"),
            reason: e.to_string(),
        })?
        .id;
    let mut quarantine: Option<Uuid> = None;
    let saved = store
        .sync_cursor(name, &entry.remote, Channel::Pull)
        .await?;
    let start =
        Position::decode(saved.as_deref().unwrap_or("")).map_err(|e| SyncError::Cursor {
            partner: name.to_owned(),
            collection: entry.remote.clone(),
            direction: Channel::Pull,
            reason: e.to_string(),
        })?;
    let filters = Filters::default()
        .limit(syncer.settings().page_size as u64)
        .versions(["all"]);
    let mut pages = Prefetch::start(client.object_pages(&entry.remote, filters, start.clone()));
    let mut saved_position = start;
    while let Some(next) = pages.receiver.recv().await {
        let (page, position) = next.map_err(|e| SyncError::taxii(name, e))?;
        // A page is stored whole or not at all: between two is where to stop.
        lease.map_or(Ok(()), PartnerLease::check)?;
        counts.pages += 1;
        counts.received += page.objects.len() as u64;
        let (groups, rejections) = check_page(federation, name, page.objects).await?;
        for rejection in rejections {
            counts.rejected += 1;
            tracing::warn!(
                partner = %name,
                collection = %entry.remote,
                object = %rejection.object,
                reason = %rejection.reason,
                "object from partner rejected"
            );
        }
        let cursor = SyncCursor {
            partner: name.to_owned(),
            collection: entry.remote.clone(),
            direction: Channel::Pull,
            cursor: position.encode(),
        };
        let n_groups = groups.len();
        for (i, group) in groups.into_iter().enumerate() {
            let collection = match group.target {
                Target::Into => into,
                Target::Quarantine => match quarantine {
                    Some(id) => id,
                    None => {
                        let id = quarantine_collection(federation, partner).await?;
                        quarantine = Some(id);
                        id
                    }
                },
            };
            // The cursor moves with the page's last batch; each batch counts what it
            // adds towards the exchange's total in its own transaction.
            let step = if i + 1 == n_groups {
                SyncStep::to(cursor.clone())
            } else {
                SyncStep::within(&cursor)
            };
            let outcomes = store
                .add_objects_in_sync(collection, &group.provenance, group.objects, step)
                .await?;
            for outcome in outcomes {
                match (outcome, group.target) {
                    (AddOutcome::Added { .. }, Target::Into) => counts.added += 1,
                    (AddOutcome::Added { .. }, Target::Quarantine) => counts.quarantined += 1,
                    (AddOutcome::AlreadyPresent { .. }, _) => counts.already_present += 1,
                }
            }
        }
        if n_groups == 0 && position != saved_position {
            store.set_sync_cursor(cursor, 0).await?;
        }
        saved_position = position;
    }
    Ok(())
}

/// The walk through the partner's pages, one page ahead of the one being checked
/// and stored: the partner prepares the next page while this node works on the
/// current one. Dropping it stops the walk.
struct Prefetch {
    receiver: mpsc::Receiver<Result<(ObjectsPage, Position), ClientError>>,
    task: JoinHandle<()>,
}

impl Prefetch {
    fn start(mut pages: ObjectPages) -> Prefetch {
        let (sender, receiver) = mpsc::channel(1);
        let task = tokio::spawn(async move {
            loop {
                let next = match pages.next_page().await {
                    Ok(Some(page)) => Ok((page, pages.position().clone())),
                    Ok(None) => return,
                    Err(e) => Err(e),
                };
                let failed = next.is_err();
                if sender.send(next).await.is_err() || failed {
                    return;
                }
            }
        });
        Prefetch { receiver, task }
    }
}

impl Drop for Prefetch {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Checks every object of a page (validation and signatures are CPU work: off the
/// async threads, on every core) and groups the kept ones in page order.
async fn check_page(
    federation: &Arc<Federation>,
    partner: &str,
    objects: Vec<Vec<u8>>,
) -> Result<(Vec<Group>, Vec<Rejection>), SyncError> {
    let federation = Arc::clone(federation);
    let name = partner.to_owned();
    tokio::task::spawn_blocking(move || {
        let mut groups: Vec<Group> = Vec::new();
        let mut rejections = Vec::new();
        for received in intake::receive_page(&federation, &name, &objects)? {
            let (object, verdict) = match received {
                Received::Keep { object, verdict } => (object, verdict),
                Received::Rejected(rejection) => {
                    rejections.push(rejection);
                    continue;
                }
            };
            let (target, check) = match verdict {
                Verdict::Accept(check) => (Target::Into, check),
                Verdict::Quarantine(check) => (Target::Quarantine, check),
                // `receive_page` turns rejections into `Received::Rejected`.
                Verdict::Reject { .. } => continue,
            };
            let provenance = Federation::provenance(&name, Channel::Pull, check);
            match groups
                .iter_mut()
                .find(|g| g.target == target && g.provenance == provenance)
            {
                Some(group) => group.objects.push(*object),
                None => groups.push(Group {
                    target,
                    provenance,
                    objects: vec![*object],
                }),
            }
        }
        Ok::<_, FederationError>((groups, rejections))
    })
    .await
    .map_err(|_| SyncError::Interrupted {
        partner: partner.to_owned(),
        what: "checking a pulled page".to_owned(),
    })?
    .map_err(SyncError::from)
}

/// The partner's quarantine collection, which must exist.
async fn quarantine_collection(
    federation: &Federation,
    partner: &PartnerConfig,
) -> Result<Uuid, SyncError> {
    let name = &partner.inbound.quarantine;
    federation
        .collection(name)
        .await
        .map(|c| c.id)
        .map_err(|e| SyncError::Collection {
            partner: partner.name.clone(),
            field: "inbound.quarantine".to_owned(),
            reason: format!(
                "{e}; create it (`passerelle collection add Quarantine --alias {name}`) or \
                 set on_invalid_signature = \"reject\""
            ),
        })
}
