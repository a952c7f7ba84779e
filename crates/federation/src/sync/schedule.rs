//! The workers inside `passerelle serve`: one task per partner, each running a
//! cycle, then waiting the interval (or, while the partner is down, a growing
//! jittered delay from [`Backoff`]) until the node stops. Tasks share nothing but
//! the store, so a partner that hangs or answers garbage delays only its own task.

use std::sync::Arc;

use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::{Backoff, Syncer};

/// The running workers.
#[derive(Debug)]
pub struct Workers {
    tasks: Vec<(String, JoinHandle<()>)>,
}

impl Workers {
    /// The partners that have a worker.
    pub fn partners(&self) -> Vec<&str> {
        self.tasks.iter().map(|(name, _)| name.as_str()).collect()
    }

    /// Waits for every worker to end (they end once `stop` turns true).
    pub async fn join(self) {
        for (partner, task) in self.tasks {
            if let Err(error) = task.await {
                tracing::warn!(%partner, %error, "a sync worker stopped abnormally");
            }
        }
    }
}

impl Syncer {
    /// Starts one worker per partner with something to pull or push. Each runs a
    /// cycle at once, then on the interval, until `stop` holds `true`; a cycle in
    /// progress is abandoned at its next wait (what it committed stays committed).
    pub fn start(self: &Arc<Self>, stop: watch::Receiver<bool>) -> Workers {
        let tasks = self
            .partners()
            .into_iter()
            .map(|partner| {
                let syncer = Arc::clone(self);
                let stop = stop.clone();
                let name = partner.clone();
                (
                    partner,
                    tokio::spawn(async move { syncer.worker(name, stop).await }),
                )
            })
            .collect();
        Workers { tasks }
    }

    async fn worker(&self, partner: String, mut stop: watch::Receiver<bool>) {
        let settings = self.settings();
        let mut backoff = Backoff::new(settings.interval, settings.max_backoff);
        tracing::info!(%partner, interval = ?settings.interval, "sync worker started");
        loop {
            if *stop.borrow() {
                break;
            }
            let delay = match self.cycle(&partner, Some(stop.clone())).await {
                // Stopped half-way: what it committed stays, its lease is released.
                Ok(None) => break,
                Ok(Some(report)) if report.partner_down() => {
                    let delay = backoff.failed();
                    tracing::warn!(
                        %partner,
                        failures = backoff.failures(),
                        next_attempt_in = ?delay,
                        "partner unreachable; backing off"
                    );
                    delay
                }
                // Skipped (another process was syncing) or done: the usual interval.
                Ok(Some(_)) => backoff.succeeded(),
                Err(error) => {
                    tracing::warn!(%partner, %error, "sync cycle failed");
                    backoff.failed()
                }
            };
            tokio::select! {
                () = tokio::time::sleep(delay) => {}
                () = stopped(&mut stop) => break,
            }
        }
        tracing::info!(%partner, "sync worker stopped");
    }
}

/// Completes once `stop` holds `true` (or its sender is gone).
async fn stopped(stop: &mut watch::Receiver<bool>) {
    if stop.wait_for(|stop| *stop).await.is_err() {
        // The sender was dropped: nobody can ask to stop any more, so stop now.
    }
}

/// [`stopped`], or never without a signal.
pub(super) async fn stopped_opt(stop: &mut Option<watch::Receiver<bool>>) {
    match stop {
        Some(stop) => stopped(stop).await,
        None => std::future::pending().await,
    }
}
