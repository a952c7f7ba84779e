//! Keeping the planner's statistics of `objects` fresh while a node fills it fast.
//!
//! Why: PostgreSQL plans with the statistics `ANALYZE` gathers, and autovacuum only
//! gathers them a minute or more after a bulk load. Until then it guesses a few hundred
//! rows per collection, and a page of Get Objects was planned as a bitmap scan of the
//! whole collection and a sort (180 ms for a page of 1,000 over 200,000 objects,
//! against 0.8 ms with statistics). So this process runs `ANALYZE objects` itself,
//! in the background, after the first [`FIRST_AFTER`] versions it adds and then every
//! [`EVERY`]: one sample of at most 30,000 rows, which blocks neither readers nor writers.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use deadpool_postgres::Pool;

/// Versions added before the first `ANALYZE`: a new collection has no statistics at all.
const FIRST_AFTER: u64 = 5_000;

/// Versions added between two `ANALYZE`s after that.
const EVERY: u64 = 200_000;

/// How many versions this process added since its last `ANALYZE`, shared by a
/// store's clones.
#[derive(Debug, Default)]
pub struct Statistics {
    added: AtomicU64,
    analyzed_once: AtomicBool,
    running: AtomicBool,
}

impl Statistics {
    /// Counts `added` new versions and, past the threshold, starts one `ANALYZE` on a
    /// connection of `pool` (never two at once; a failure is logged, not returned:
    /// the write it follows has committed).
    pub fn added(self: &Arc<Self>, pool: &Pool, added: u64) {
        if added == 0 {
            return;
        }
        let total = self.added.fetch_add(added, Ordering::Relaxed) + added;
        let threshold = if self.analyzed_once.load(Ordering::Relaxed) {
            EVERY
        } else {
            FIRST_AFTER
        };
        if total < threshold || self.running.swap(true, Ordering::AcqRel) {
            return;
        }
        self.added.store(0, Ordering::Relaxed);
        let (me, pool) = (Arc::clone(self), pool.clone());
        tokio::spawn(async move {
            let result = match pool.get().await {
                Ok(client) => client
                    .batch_execute("ANALYZE objects")
                    .await
                    .map_err(|e| e.to_string()),
                Err(e) => Err(e.to_string()),
            };
            match result {
                Ok(()) => {
                    me.analyzed_once.store(true, Ordering::Relaxed);
                    tracing::debug!("analyzed objects for the planner");
                }
                Err(error) => tracing::warn!(%error, "cannot analyze objects for the planner"),
            }
            me.running.store(false, Ordering::Release);
        });
    }
}
