//! One process at a time per partner: a cycle holds the store lease
//! `sync:<partner>` ([`Store::try_lease`]) from before its first request to after
//! its last write, so processes sharing the store (the running node, `passerelle
//! sync`, several nodes on one database) never sync with the same partner at once,
//! and one that dies holding it is replaced once its lease expires.
//!
//! While the cycle runs, a background task renews the lease every third of its
//! time to live. When a renewal fails, finds another holder, or comes after the
//! lease could have expired, the lease counts as lost: the exchanges stop at their
//! next page boundary (`PartnerLease::check`). That is safe because every page
//! is complete on its own: a pulled page is stored with its position in one
//! transaction, and a pushed page is in the ledger before it is sent and moves the
//! position only once acknowledged, so whoever takes over resumes from the last
//! page that finished, and a page done twice is stored once (versions are
//! idempotent).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use store::{Store, StoreError};
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio::time::Instant;

use super::{SyncError, WhenBusy};

/// The name of a partner's sync lease.
pub fn lease_name(partner: &str) -> String {
    format!("{LEASE_PREFIX}{partner}")
}

/// What every sync lease's name starts with.
pub const LEASE_PREFIX: &str = "sync:";

/// A process's id in the leases it holds: `<host>:<pid>:<random>`, so an operator
/// can tell which process on which host is syncing, and two processes never share one.
pub fn process_holder() -> String {
    format!(
        "{}:{}:{:08x}",
        hostname(),
        std::process::id(),
        rand::random::<u32>()
    )
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| std::fs::read_to_string("/etc/hostname"))
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .or_else(|| std::env::var("COMPUTERNAME").ok())
        .map(|name| name.trim().to_owned())
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| "unknown-host".to_owned())
}

/// The holders of one process's cycles: the process's id and a number per cycle,
/// so two cycles of one process exclude each other too, and a late release by an
/// ended cycle never frees a later one's lease.
#[derive(Debug)]
pub(super) struct Holders {
    process: String,
    cycles: AtomicU64,
}

impl Holders {
    pub(super) fn new() -> Holders {
        Holders {
            process: process_holder(),
            cycles: AtomicU64::new(0),
        }
    }

    pub(super) fn process(&self) -> &str {
        &self.process
    }

    fn next(&self) -> String {
        let n = self.cycles.fetch_add(1, Ordering::Relaxed) + 1;
        format!("{}#{n}", self.process)
    }
}

/// The outcome of asking for a partner's lease.
pub(super) enum Acquired {
    /// Ours until released (or lost).
    Held(PartnerLease),
    /// Another process holds it and the cycle does not wait: why, for the report.
    Busy(String),
    /// The node is stopping.
    Stopped,
}

/// What the renewals found.
#[derive(Debug)]
struct Standing {
    /// Until when the lease is ours at least, by this process's clock: the start of
    /// the last request that took or renewed it, plus its time to live.
    valid_until: Instant,
    /// Why it counts as lost, once it does.
    lost: Option<String>,
}

/// A partner's sync lease, held by this cycle and renewed in the background until
/// [`PartnerLease::release`] (or the drop, which releases it as soon as it can).
pub(super) struct PartnerLease {
    store: Arc<dyn Store>,
    partner: String,
    name: String,
    holder: String,
    standing: Arc<Mutex<Standing>>,
    renewer: JoinHandle<()>,
    released: bool,
}

impl PartnerLease {
    /// Takes `partner`'s lease for a new cycle; busy, per `when_busy`: skips, or
    /// polls until it is free (or `stop` turns true).
    pub(super) async fn acquire(
        store: &Arc<dyn Store>,
        holders: &Holders,
        partner: &str,
        ttl: Duration,
        when_busy: WhenBusy,
        mut stop: Option<watch::Receiver<bool>>,
    ) -> Result<Acquired, StoreError> {
        let name = lease_name(partner);
        let holder = holders.next();
        let poll = (ttl / 30).clamp(Duration::from_millis(20), Duration::from_millis(500));
        let mut waiting = false;
        loop {
            let asked = Instant::now();
            if store.try_lease(&name, &holder, ttl).await? {
                if waiting {
                    tracing::info!(%partner, "the other process is done; syncing now");
                }
                return Ok(Acquired::Held(PartnerLease::start(
                    store, partner, name, holder, ttl, asked,
                )));
            }
            if when_busy == WhenBusy::Skip {
                let other = match holder_of(store.as_ref(), &name).await {
                    Some(lease) => format!(" ({}, lease until {})", lease.holder, lease.expires),
                    None => String::new(),
                };
                return Ok(Acquired::Busy(format!(
                    "another process (the running node, or `passerelle sync`) is syncing \
                     with partner {partner}{other}"
                )));
            }
            if !waiting {
                let other = holder_of(store.as_ref(), &name).await;
                tracing::info!(
                    %partner,
                    holder = other.as_ref().map_or("", |lease| lease.holder.as_str()),
                    "another process is syncing with this partner; waiting for it to finish"
                );
                waiting = true;
            }
            tokio::select! {
                () = tokio::time::sleep(poll) => {}
                () = super::schedule::stopped_opt(&mut stop) => return Ok(Acquired::Stopped),
            }
        }
    }

    fn start(
        store: &Arc<dyn Store>,
        partner: &str,
        name: String,
        holder: String,
        ttl: Duration,
        asked: Instant,
    ) -> PartnerLease {
        let standing = Arc::new(Mutex::new(Standing {
            valid_until: asked + ttl,
            lost: None,
        }));
        let renewer = tokio::spawn(renew(
            Arc::clone(store),
            partner.to_owned(),
            name.clone(),
            holder.clone(),
            ttl,
            Arc::clone(&standing),
        ));
        PartnerLease {
            store: Arc::clone(store),
            partner: partner.to_owned(),
            name,
            holder,
            standing,
            renewer,
            released: false,
        }
    }

    /// `Err` once the lease is lost or may have expired: the exchange stops here,
    /// between two pages.
    pub(super) fn check(&self) -> Result<(), SyncError> {
        let standing = self.standing.lock().unwrap_or_else(PoisonError::into_inner);
        let reason = match &standing.lost {
            Some(reason) => reason.clone(),
            None if Instant::now() >= standing.valid_until => {
                "it was not renewed in time".to_owned()
            }
            None => return Ok(()),
        };
        Err(SyncError::LeaseLost {
            partner: self.partner.clone(),
            reason,
        })
    }

    /// Stops renewing and frees the lease (if it is still ours) for the next cycle,
    /// whichever process runs it.
    pub(super) async fn release(mut self) {
        self.renewer.abort();
        self.released = true;
        if let Err(error) = self.store.release_lease(&self.name, &self.holder).await {
            // It expires on its own; until then other processes skip this partner.
            tracing::warn!(partner = %self.partner, %error, "cannot release the sync lease");
        }
    }
}

impl Drop for PartnerLease {
    /// A cycle dropped half-way (its task cancelled) still frees its lease when a
    /// runtime is there to do it; otherwise the lease expires on its own.
    fn drop(&mut self) {
        self.renewer.abort();
        if self.released {
            return;
        }
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            let store = Arc::clone(&self.store);
            let (name, holder) = (self.name.clone(), self.holder.clone());
            runtime.spawn(async move {
                let _ = store.release_lease(&name, &holder).await;
            });
        }
    }
}

/// Renews the lease every third of `ttl` until aborted; marks it lost, and stops,
/// when a renewal fails, finds another holder, or starts after the lease could
/// already have expired (another process may have synced in between).
async fn renew(
    store: Arc<dyn Store>,
    partner: String,
    name: String,
    holder: String,
    ttl: Duration,
    standing: Arc<Mutex<Standing>>,
) {
    let every = (ttl / 3).max(Duration::from_millis(10));
    loop {
        tokio::time::sleep(every).await;
        let asked = Instant::now();
        let result = store.try_lease(&name, &holder, ttl).await;
        let mut state = standing.lock().unwrap_or_else(PoisonError::into_inner);
        let lost = match result {
            Ok(true) if asked < state.valid_until => {
                state.valid_until = asked + ttl;
                continue;
            }
            Ok(true) => "it was renewed only after it could have expired".to_owned(),
            Ok(false) => "another process holds it now".to_owned(),
            Err(error) => format!("renewing it failed: {error}"),
        };
        tracing::warn!(
            %partner,
            %holder,
            reason = %lost,
            "sync lease lost; the cycle stops at the next page"
        );
        state.lost = Some(lost);
        return;
    }
}

/// The lease `name` if it is in force, for messages (`None` too when the leases
/// cannot be read: the message is only less precise).
async fn holder_of(store: &dyn Store, name: &str) -> Option<store::Lease> {
    store
        .leases()
        .await
        .ok()?
        .into_iter()
        .find(|lease| lease.name == name)
}
