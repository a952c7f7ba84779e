//! Sync workers: the exchanges with partners over TAXII that `passerelle serve`
//! runs on an interval and `passerelle sync` runs on demand.
//!
//! - **Pull** ([`pull`]): for each `[[partners]] pull` entry, Get Objects from the
//!   partner's collection from the saved position, page by page; each object is
//!   validated and judged by the partner's inbound rules ([`intake`]); each page is
//!   stored with its position in one transaction, so a node killed mid-pull resumes
//!   exactly where the last committed page ended.
//! - **Push** ([`push`]): for each `push` entry, every version added to the local
//!   collection since the saved position goes through the one egress path
//!   ([`Federation::disclose`], which writes the ledger before any byte leaves), is
//!   posted in envelopes and followed to a complete status; the position moves only
//!   then.
//! - **Scheduling** ([`Syncer::start`]): one task per partner, each on the interval
//!   while the partner answers and on an exponential back-off with jitter
//!   ([`backoff`]) while it is down; one partner never holds up another.
//! - **Exclusivity** ([`lease`], [`Syncer::with_exclusive`]): a cycle holds the
//!   partner's lease in the store, so of all the processes sharing the store one
//!   at a time syncs with a partner, and another takes over once a dead holder's
//!   lease expires.
//!
//! Every attempt at an exchange is recorded with `Store::record_sync_attempt`,
//! which is what `passerelle sync --status` shows. The objects a page moves count
//! towards the exchange's total in the transaction that saves the page's position
//! (`Store::add_objects_in_sync` for pull, `Store::set_sync_cursor` for push), so
//! the total stays exact whenever a node is stopped.

pub mod backoff;
pub mod credentials;
pub mod intake;
pub mod lease;
mod pull;
mod push;
mod schedule;

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use store::{Channel, StoreError};
use taxii::client::ClientError;
use tokio::sync::watch;
use uuid::Uuid;

use crate::agreement::PartnerConfig;
use crate::egress::Rule;
use crate::node::{Federation, FederationError};

pub use backoff::Backoff;
pub use credentials::CredentialError;
pub use lease::{LEASE_PREFIX, lease_name};
pub use schedule::Workers;

/// How the workers behave; `[sync]` in the node's configuration.
#[derive(Debug, Clone)]
pub struct SyncSettings {
    /// Time between two cycles of a partner that answers.
    pub interval: Duration,
    /// The longest wait between cycles while a partner is down.
    pub max_backoff: Duration,
    /// Objects asked for per page (pull) and read per page (push).
    pub page_size: usize,
    /// How long one request to a partner may take, connecting included.
    pub request_timeout: Duration,
    /// How long a pending status of a push is followed before the attempt fails.
    pub status_timeout: Duration,
    /// How many times an object a partner's status lists as failed is posted
    /// before it is reported as refused and left behind.
    pub post_attempts: u32,
    /// How long a partner's sync lease lasts unless renewed (a cycle renews it every
    /// third of this): how soon another process takes over from one that died.
    pub lease_ttl: Duration,
}

impl Default for SyncSettings {
    fn default() -> Self {
        SyncSettings {
            interval: Duration::from_secs(30),
            max_backoff: Duration::from_secs(300),
            page_size: 1000,
            request_timeout: Duration::from_secs(60),
            status_timeout: Duration::from_secs(60),
            post_attempts: 3,
            lease_ttl: Duration::from_secs(15),
        }
    }
}

/// Why an exchange stopped. Messages name the partner; none holds a token.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    /// The partner's credentials or URL cannot make a client.
    #[error(transparent)]
    Credentials(#[from] CredentialError),
    /// A request to the partner failed.
    #[error("partner {partner}: {source}")]
    Taxii {
        /// The partner.
        partner: String,
        /// The request and what went wrong.
        source: ClientError,
    },
    /// A local collection named in the partner's entry does not exist.
    #[error("partner {partner}: {field}: {reason}")]
    Collection {
        /// The partner.
        partner: String,
        /// The setting, such as `pull[0].into` or `inbound.quarantine`.
        field: String,
        /// What is wrong.
        reason: String,
    },
    /// The saved position of an exchange cannot be read.
    #[error(
        "partner {partner}: the saved {direction} position for collection {collection} is unreadable: {reason}"
    )]
    Cursor {
        /// The partner.
        partner: String,
        /// The exchange's collection.
        collection: String,
        /// Pull or push.
        direction: Channel,
        /// Why.
        reason: String,
    },
    /// A push's status stayed pending longer than the settings allow.
    #[error(
        "partner {partner}: status {status} of a push to collection {collection} was still pending after {waited:?}"
    )]
    StatusPending {
        /// The partner.
        partner: String,
        /// The remote collection.
        collection: String,
        /// The status id.
        status: String,
        /// How long it was followed.
        waited: Duration,
    },
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The federation state failed (an unknown partner, the store behind it).
    #[error(transparent)]
    Federation(#[from] FederationError),
    /// The partner's sync lease was lost mid-cycle (a renewal failed or found
    /// another holder): the exchange stopped between two pages, since another
    /// process may have taken over.
    #[error(
        "partner {partner}: the sync lease was lost ({reason}); stopped between two pages, \
         another process may be syncing with this partner"
    )]
    LeaseLost {
        /// The partner.
        partner: String,
        /// Why the lease counts as lost.
        reason: String,
    },
    /// A worker thread stopped before finishing a page.
    #[error("partner {partner}: {what} was interrupted")]
    Interrupted {
        /// The partner.
        partner: String,
        /// What was being done.
        what: String,
    },
}

impl SyncError {
    /// Whether the partner looks down or overloaded (so the worker backs off)
    /// rather than misconfigured or misbehaving.
    pub fn is_transient(&self) -> bool {
        match self {
            SyncError::Taxii { source, .. } => source.is_transient(),
            SyncError::StatusPending { .. } => true,
            _ => false,
        }
    }

    fn taxii(partner: &str, source: ClientError) -> SyncError {
        SyncError::Taxii {
            partner: partner.to_owned(),
            source,
        }
    }
}

/// What one exchange moved.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Counts {
    /// Pages read (pull) or posted (push).
    pub pages: u64,
    /// Pull: objects the partner sent.
    pub received: u64,
    /// Pull: versions stored that we did not have.
    pub added: u64,
    /// Pull: versions we already had.
    pub already_present: u64,
    /// Pull: versions stored in the quarantine collection.
    pub quarantined: u64,
    /// Pull: objects refused (invalid, or refused by the inbound rules).
    pub rejected: u64,
    /// Push: versions the partner acknowledged.
    pub sent: u64,
    /// Push: versions egress kept back, by rule.
    pub withheld: BTreeMap<Rule, u64>,
    /// Push: versions the partner refused every time they were posted.
    pub refused: u64,
}

impl Counts {
    /// The objects this exchange moved: stored (pull) or acknowledged (push).
    pub fn moved(&self) -> u64 {
        self.added + self.quarantined + self.sent
    }

    /// How many versions egress withheld, all rules together.
    pub fn withheld_total(&self) -> u64 {
        self.withheld.values().sum()
    }
}

/// One exchange of one cycle.
#[derive(Debug)]
pub struct ExchangeReport {
    /// The partner.
    pub partner: String,
    /// Pull or push.
    pub direction: Channel,
    /// The collection its state is kept under: the remote collection id for
    /// pull, the local collection id for push.
    pub collection: String,
    /// Where objects came from, as configured (remote id, or local id or alias).
    pub from: String,
    /// Where they went, as configured.
    pub to: String,
    /// What it moved (also when it then failed).
    pub counts: Counts,
    /// Why it stopped early, if it did.
    pub error: Option<SyncError>,
}

impl ExchangeReport {
    fn new(partner: &str, direction: Channel, collection: String, from: &str, to: &str) -> Self {
        ExchangeReport {
            partner: partner.to_owned(),
            direction,
            collection,
            from: from.to_owned(),
            to: to.to_owned(),
            counts: Counts::default(),
            error: None,
        }
    }
}

impl fmt::Display for ExchangeReport {
    /// One line: `paris pull <remote> -> shared: 10 received, …`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let c = &self.counts;
        write!(
            f,
            "{} {} {} -> {}: ",
            self.partner, self.direction, self.from, self.to
        )?;
        match self.direction {
            Channel::Push => {
                write!(f, "{} sent, {} withheld", c.sent, c.withheld_total())?;
                if !c.withheld.is_empty() {
                    let rules: Vec<String> = c
                        .withheld
                        .iter()
                        .map(|(rule, n)| format!("{rule} {n}"))
                        .collect();
                    write!(f, " ({})", rules.join(", "))?;
                }
                write!(f, ", {} refused by the partner", c.refused)?;
            }
            _ => write!(
                f,
                "{} received, {} added, {} already present, {} quarantined, {} rejected",
                c.received, c.added, c.already_present, c.quarantined, c.rejected
            )?,
        }
        if let Some(error) = &self.error {
            write!(f, "; failed: {error}")?;
        }
        Ok(())
    }
}

/// One cycle with one partner.
#[derive(Debug)]
pub struct PartnerReport {
    /// The partner.
    pub partner: String,
    /// Its exchanges, pulls first, in configuration order.
    pub exchanges: Vec<ExchangeReport>,
    /// Why the cycle did not run, when another process was syncing with the
    /// partner (the running node, or another `passerelle sync`).
    pub skipped: Option<String>,
}

impl PartnerReport {
    /// Whether some exchange failed.
    pub fn failed(&self) -> bool {
        self.exchanges.iter().any(|e| e.error.is_some())
    }

    /// Whether some exchange failed because the partner looks down.
    pub fn partner_down(&self) -> bool {
        self.exchanges
            .iter()
            .any(|e| e.error.as_ref().is_some_and(SyncError::is_transient))
    }
}

/// What a cycle does when another process sharing the store is syncing with the
/// same partner ([`Syncer::with_exclusive`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WhenBusy {
    /// Skip this cycle (the node's workers: the next one comes soon).
    Skip,
    /// Wait for the other to finish (polling the lease), then run (`passerelle
    /// sync`: "now" means after it).
    Wait,
}

/// How tokens named by `token_env` are read (the process environment in the node).
pub type EnvLookup = dyn Fn(&str) -> Option<String> + Send + Sync;

/// Runs the exchanges of a node with its partners.
pub struct Syncer {
    federation: Arc<Federation>,
    settings: SyncSettings,
    env: Arc<EnvLookup>,
    /// Whether cycles hold the partner's lease, and what they do when it is taken
    /// (`None`: no exclusivity).
    exclusive: Option<WhenBusy>,
    /// This process's id in the leases, and its cycles' numbers.
    holders: lease::Holders,
    /// Push pages disclosed (and in the ledger) but not yet acknowledged, by partner
    /// and local collection, in order (the page being sent and the one disclosed
    /// ahead of it): sent again as they are rather than disclosed twice.
    pending: Mutex<HashMap<(String, Uuid), Vec<push::PendingPage>>>,
}

impl fmt::Debug for Syncer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Syncer")
            .field("federation", &self.federation)
            .field("settings", &self.settings)
            .field("exclusive", &self.exclusive)
            .field("holder", &self.holders.process())
            .finish_non_exhaustive()
    }
}

impl Syncer {
    /// Workers for `federation`'s partners, reading tokens from the process environment.
    pub fn new(federation: Arc<Federation>, settings: SyncSettings) -> Syncer {
        Syncer::with_env(
            federation,
            settings,
            Arc::new(|name: &str| std::env::var(name).ok()),
        )
    }

    /// Workers reading `token_env` variables through `env`.
    pub fn with_env(
        federation: Arc<Federation>,
        settings: SyncSettings,
        env: Arc<EnvLookup>,
    ) -> Syncer {
        Syncer {
            federation,
            settings,
            env,
            exclusive: None,
            holders: lease::Holders::new(),
            pending: Mutex::new(HashMap::new()),
        }
    }

    /// Holds the partner's lease in the store ([`lease_name`]) for the length of
    /// each cycle, renewed every third of [`SyncSettings::lease_ttl`], so processes
    /// sharing the store (the running node, `passerelle sync`, nodes on one
    /// database) never sync with the same partner at once; `when_busy` says what a
    /// cycle does while another process holds it.
    pub fn with_exclusive(mut self, when_busy: WhenBusy) -> Syncer {
        self.exclusive = Some(when_busy);
        self
    }

    /// This process's id in the leases it holds (`<host>:<pid>:<random>`; each
    /// cycle adds `#<number>`).
    pub fn holder(&self) -> &str {
        self.holders.process()
    }

    /// The federation it works for.
    pub fn federation(&self) -> &Arc<Federation> {
        &self.federation
    }

    /// Its settings.
    pub fn settings(&self) -> &SyncSettings {
        &self.settings
    }

    /// The partners with something to pull or push, in configuration order.
    pub fn partners(&self) -> Vec<String> {
        self.federation
            .agreement()
            .partners
            .iter()
            .filter(|p| p.url.is_some() && !(p.pull.is_empty() && p.push.is_empty()))
            .map(|p| p.name.clone())
            .collect()
    }

    /// One cycle with every partner, all at once; reports in configuration order.
    pub async fn sync_all(self: &Arc<Self>) -> Vec<PartnerReport> {
        let tasks: Vec<_> = self
            .partners()
            .into_iter()
            .map(|name| {
                let syncer = Arc::clone(self);
                tokio::spawn(async move { syncer.sync_partner(&name).await })
            })
            .collect();
        let mut reports = Vec::with_capacity(tasks.len());
        for task in tasks {
            match task.await {
                Ok(Ok(report)) => reports.push(report),
                Ok(Err(error)) => tracing::warn!(%error, "sync cycle failed"),
                Err(error) => tracing::warn!(%error, "a sync task stopped"),
            }
        }
        reports
    }

    /// One cycle with one partner: each pull, then each push. A failed exchange is
    /// reported and recorded; the others still run.
    pub async fn sync_partner(&self, name: &str) -> Result<PartnerReport, FederationError> {
        let report = self.cycle(name, None).await?;
        // Without a stop signal a cycle always ends with a report.
        Ok(report.unwrap_or_else(|| PartnerReport {
            partner: name.to_owned(),
            exchanges: Vec::new(),
            skipped: Some("stopped".to_owned()),
        }))
    }

    /// A cycle that ends early once `stop` holds `true` (`None`: what it committed
    /// stays committed, and its lease is released). `Ok(None)` when stopped.
    async fn cycle(
        &self,
        name: &str,
        mut stop: Option<watch::Receiver<bool>>,
    ) -> Result<Option<PartnerReport>, FederationError> {
        let partner = self.federation.partner(name)?.clone();
        let lease = match self.exclusive {
            None => None,
            Some(when_busy) => match lease::PartnerLease::acquire(
                self.federation.store(),
                &self.holders,
                name,
                self.settings.lease_ttl,
                when_busy,
                stop.clone(),
            )
            .await?
            {
                lease::Acquired::Held(lease) => Some(lease),
                lease::Acquired::Stopped => return Ok(None),
                lease::Acquired::Busy(reason) => {
                    tracing::info!(partner = %name, %reason, "sync cycle skipped");
                    return Ok(Some(PartnerReport {
                        partner: name.to_owned(),
                        exchanges: Vec::new(),
                        skipped: Some(reason),
                    }));
                }
            },
        };
        let exchanges = tokio::select! {
            exchanges = self.exchanges(&partner, lease.as_ref()) => Some(exchanges),
            () = schedule::stopped_opt(&mut stop) => None,
        };
        if let Some(lease) = lease {
            lease.release().await;
        }
        Ok(exchanges.map(|exchanges| PartnerReport {
            partner: name.to_owned(),
            exchanges,
            skipped: None,
        }))
    }

    /// The exchanges of one cycle; none starts once the lease is lost.
    async fn exchanges(
        &self,
        partner: &PartnerConfig,
        lease: Option<&lease::PartnerLease>,
    ) -> Vec<ExchangeReport> {
        let name = partner.name.as_str();
        let held = || lease.is_none_or(|lease| lease.check().is_ok());
        let client = credentials::client(partner, &*self.env, self.settings.request_timeout);
        let mut exchanges = Vec::new();
        for (index, entry) in partner.pull.iter().enumerate() {
            if !held() {
                return exchanges;
            }
            let mut report = ExchangeReport::new(
                name,
                Channel::Pull,
                entry.remote.clone(),
                &entry.remote,
                &entry.into,
            );
            let result = match &client {
                Ok(client) => {
                    pull::pull(
                        self,
                        partner,
                        index,
                        entry,
                        client,
                        lease,
                        &mut report.counts,
                    )
                    .await
                }
                Err(e) => Err(e.clone().into()),
            };
            self.finish(&mut report, result).await;
            exchanges.push(report);
        }
        for (index, entry) in partner.push.iter().enumerate() {
            if !held() {
                return exchanges;
            }
            let local = self.federation.collection(&entry.local).await;
            let key = local
                .as_ref()
                .map_or_else(|_| entry.local.clone(), |c| c.id.to_string());
            let mut report =
                ExchangeReport::new(name, Channel::Push, key, &entry.local, &entry.remote);
            let result = match (&client, local) {
                (Err(e), _) => Err(e.clone().into()),
                (Ok(_), Err(e)) => Err(SyncError::Collection {
                    partner: name.to_owned(),
                    field: format!("push[{index}].local"),
                    reason: e.to_string(),
                }),
                (Ok(client), Ok(local)) => {
                    push::push(
                        self,
                        partner,
                        entry,
                        &local,
                        client,
                        lease,
                        &mut report.counts,
                    )
                    .await
                }
            };
            self.finish(&mut report, result).await;
            exchanges.push(report);
        }
        exchanges
    }

    /// Records the end of the attempt (its pages counted their objects with their
    /// positions) and logs it.
    async fn finish(&self, report: &mut ExchangeReport, result: Result<(), SyncError>) {
        report.error = result.err();
        let moved = report.counts.moved();
        let outcome = match &report.error {
            Some(error) => Err(error.to_string()),
            None => Ok(0),
        };
        if let Err(error) = self
            .federation
            .store()
            .record_sync_attempt(
                &report.partner,
                &report.collection,
                report.direction,
                outcome,
            )
            .await
        {
            tracing::warn!(partner = %report.partner, %error, "cannot record the sync attempt");
        }
        let c = &report.counts;
        match &report.error {
            Some(error) => tracing::warn!(
                partner = %report.partner,
                direction = %report.direction,
                from = %report.from,
                to = %report.to,
                moved,
                transient = error.is_transient(),
                error = %error,
                "sync failed"
            ),
            None if moved > 0 || c.rejected > 0 || c.refused > 0 || c.withheld_total() > 0 => {
                tracing::info!(
                    partner = %report.partner,
                    direction = %report.direction,
                    from = %report.from,
                    to = %report.to,
                    received = c.received,
                    added = c.added,
                    quarantined = c.quarantined,
                    rejected = c.rejected,
                    sent = c.sent,
                    withheld = c.withheld_total(),
                    refused = c.refused,
                    "synced"
                );
            }
            None => tracing::debug!(
                partner = %report.partner,
                direction = %report.direction,
                from = %report.from,
                to = %report.to,
                "nothing new"
            ),
        }
    }
}
