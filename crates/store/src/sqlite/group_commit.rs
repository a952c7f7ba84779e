//! Group commit: writes that arrive while another is committing share the next
//! transaction. N clients posting at once then pay for one WAL sync instead of N, and
//! the random id-index pages their objects touch are written to the WAL once for all of
//! them instead of once per client (on this store that write, not SQLite's CPU work, is
//! what an insert into a large collection costs: `BENCHMARKS.md`, "group commit").
//!
//! Nothing waits for a timer. A write queues its job, then competes for the writer
//! connection; whoever gets it runs every job queued by then in one transaction, commits
//! once, and hands each job its result. A caller whose job an earlier leader took finds
//! the queue empty and waits for its result. Results are sent after the commit: nothing
//! is acknowledged before it is durable.
//!
//! A job that fails must not take the others down, nor leave half its writes in theirs.
//! Savepoints would isolate jobs, but SQLite copies every page a savepoint first touches
//! into a sub-journal, which for a batch of objects is the whole random id-index
//! footprint again (measured: 70 % more bytes written per object). Failures are rare
//! (an unknown collection, a taken status id, an I/O error), so instead the leader rolls
//! the transaction back, gives the failed job its error, and runs the others again in a
//! new transaction: jobs are re-runnable, and nothing of a rolled-back attempt counts.
//!
//! The writer is the one thread every write waits for, so it does nothing a caller can
//! do: a job's work goes back to its caller with the result, and what the work owns (a
//! batch of 1,000 objects, some 10,000 allocations) is freed there.

use std::sync::{Mutex, PoisonError};

use rusqlite::{Connection, TransactionBehavior};
use tokio::sync::oneshot;

use crate::error::{Result, StoreError};
use crate::time::Clock;

/// One queued write.
pub(super) trait Job: Send {
    /// Runs the write inside the shared transaction (again, if an earlier attempt was
    /// rolled back) and says whether it succeeded.
    fn run(&mut self, conn: &Connection, clock: &dyn Clock) -> bool;

    /// Delivers the result: the last run's when `failure` is `None` (the transaction
    /// committed, or this job failed and was taken out), else why it was not kept.
    fn deliver(self: Box<Self>, failure: Option<&StoreError>);
}

struct Write<T, F> {
    work: F,
    result: Option<Result<T>>,
    sender: oneshot::Sender<Done<T, F>>,
}

/// A job's result, and its work given back to the caller to drop.
pub(super) type Done<T, F> = (Result<T>, F);

impl<T, F> Job for Write<T, F>
where
    T: Send + 'static,
    F: FnMut(&Connection, &dyn Clock) -> Result<T> + Send + 'static,
{
    fn run(&mut self, conn: &Connection, clock: &dyn Clock) -> bool {
        let result = (self.work)(conn, clock);
        let ok = result.is_ok();
        self.result = Some(result);
        ok
    }

    fn deliver(self: Box<Self>, failure: Option<&StoreError>) {
        let Write {
            work,
            result,
            sender,
        } = *self;
        let delivered = match (result, failure) {
            (Some(Err(e)), _) => Err(e),
            (Some(Ok(value)), None) => Ok(value),
            (Some(Ok(_)), Some(e)) => Err(StoreError::backend(format!(
                "the transaction shared with concurrent writes was not committed: {e}"
            ))),
            (None, e) => Err(StoreError::backend(format!(
                "the write could not start: {}",
                e.map_or_else(|| "no reason given".to_owned(), ToString::to_string)
            ))),
        };
        // The caller may have gone (its request was cancelled): nothing to tell, and
        // the work comes back to be dropped here after all.
        let _ = sender.send((delivered, work));
    }
}

/// The jobs waiting for the writer.
#[derive(Default)]
pub(super) struct Queue {
    jobs: Mutex<Vec<Box<dyn Job>>>,
}

impl Queue {
    /// Queues `work` and returns where its result will arrive, with `work` itself. `work`
    /// may run more than once (each time in a new transaction, the earlier one rolled back).
    pub(super) fn push<T, F>(&self, work: F) -> oneshot::Receiver<Done<T, F>>
    where
        T: Send + 'static,
        F: FnMut(&Connection, &dyn Clock) -> Result<T> + Send + 'static,
    {
        let (sender, receiver) = oneshot::channel();
        let job = Box::new(Write {
            work,
            result: None,
            sender,
        });
        self.jobs
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(job);
        receiver
    }

    fn take(&self) -> Vec<Box<dyn Job>> {
        std::mem::take(&mut *self.jobs.lock().unwrap_or_else(PoisonError::into_inner))
    }

    /// Runs every queued job in one IMMEDIATE transaction on `conn` (the writer, which
    /// the caller holds) and delivers each result after the commit. Does nothing when
    /// the queue is empty (another leader took the jobs). `undone` is called when the
    /// transaction is not kept: before a rollback, and after a failed commit.
    pub(super) fn run(&self, conn: &mut Connection, clock: &dyn Clock, undone: &dyn Fn()) {
        let mut jobs = self.take();
        let mut attempts = 0usize;
        while !jobs.is_empty() {
            attempts += 1;
            let tx = match conn.transaction_with_behavior(TransactionBehavior::Immediate) {
                Ok(tx) => tx,
                Err(e) => return fail_all(jobs, &StoreError::from(e)),
            };
            let failed = jobs.iter_mut().position(|job| !job.run(&tx, clock));
            let Some(failed) = failed else {
                let error = tx.commit().map_err(StoreError::from).err();
                if error.is_some() {
                    undone();
                }
                if jobs.len() > 1 || attempts > 1 {
                    tracing::trace!(writes = jobs.len(), attempts, "group commit");
                }
                for job in jobs {
                    job.deliver(error.as_ref());
                }
                return;
            };
            undone();
            if let Err(e) = tx.rollback() {
                return fail_all(jobs, &StoreError::from(e));
            }
            jobs.remove(failed).deliver(None);
        }
    }
}

fn fail_all(jobs: Vec<Box<dyn Job>>, error: &StoreError) {
    for job in jobs {
        job.deliver(Some(error));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::SystemClock;

    fn table() -> (tempfile::TempDir, Connection) {
        let dir = tempfile::tempdir().unwrap();
        let conn = Connection::open(dir.path().join("t.db")).unwrap();
        conn.execute_batch(
            "PRAGMA journal_mode = WAL; PRAGMA foreign_keys = ON;
             CREATE TABLE parent (id INTEGER PRIMARY KEY);
             CREATE TABLE t (x INTEGER PRIMARY KEY,
                 parent INTEGER REFERENCES parent(id) DEFERRABLE INITIALLY DEFERRED);",
        )
        .unwrap();
        (dir, conn)
    }

    fn insert(
        x: i64,
        parent: Option<i64>,
        fail_after: bool,
    ) -> impl FnMut(&Connection, &dyn Clock) -> Result<i64> + Send + 'static {
        move |conn, _| {
            conn.execute(
                "INSERT INTO t (x, parent) VALUES (?1, ?2)",
                rusqlite::params![x, parent],
            )?;
            if fail_after {
                return Err(StoreError::Invalid(format!("job {x} gave up")));
            }
            Ok(x)
        }
    }

    fn rows(conn: &Connection) -> Vec<i64> {
        conn.prepare("SELECT x FROM t ORDER BY x")
            .unwrap()
            .query_map([], |row| row.get(0))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap()
    }

    /// Jobs queued together are run by one leader; a failed job's writes are rolled
    /// back and it gets its error, while the others run again and are committed.
    #[tokio::test]
    async fn a_failed_job_is_rolled_back_alone() {
        use std::sync::Arc;
        use std::sync::atomic::{AtomicUsize, Ordering};
        let (_dir, mut conn) = table();
        let queue = Queue::default();
        let runs = Arc::new(AtomicUsize::new(0));
        let mut counted = insert(1, None, false);
        let first = queue.push({
            let runs = Arc::clone(&runs);
            move |conn: &Connection, clock: &dyn Clock| {
                runs.fetch_add(1, Ordering::SeqCst);
                counted(conn, clock)
            }
        });
        let second = queue.push(insert(2, None, true));
        let third = queue.push(insert(3, None, false));
        let undone = AtomicUsize::new(0);
        let count_undone = || {
            undone.fetch_add(1, Ordering::SeqCst);
        };
        queue.run(&mut conn, &SystemClock, &count_undone);
        assert_eq!(first.await.unwrap().0.unwrap(), 1);
        assert!(
            matches!(second.await.unwrap().0, Err(StoreError::Invalid(m)) if m == "job 2 gave up")
        );
        assert_eq!(third.await.unwrap().0.unwrap(), 3);
        assert_eq!(rows(&conn), vec![1, 3], "job 2's row went with its failure");
        assert_eq!(
            runs.load(Ordering::SeqCst),
            2,
            "job 1 ran again after the rollback"
        );
        assert_eq!(undone.load(Ordering::SeqCst), 1, "told of the one rollback");
        assert!(conn.is_autocommit(), "the shared transaction is closed");
        // The queue is empty now: another leader finds nothing to do.
        queue.run(&mut conn, &SystemClock, &count_undone);
        assert_eq!(rows(&conn), vec![1, 3]);
    }

    /// The writer hands each job's work back with its result: what the work owns is
    /// still alive after the run, until the caller drops it.
    #[tokio::test]
    async fn the_work_goes_back_to_its_caller() {
        use std::sync::Arc;
        let (_dir, mut conn) = table();
        let queue = Queue::default();
        let owned = Arc::new(vec![0u8; 1024]);
        let job = queue.push({
            let owned = Arc::clone(&owned);
            let mut write = insert(1, None, false);
            move |conn: &Connection, clock: &dyn Clock| {
                let _ = owned.len();
                write(conn, clock)
            }
        });
        queue.run(&mut conn, &SystemClock, &|| panic!("nothing was undone"));
        assert_eq!(Arc::strong_count(&owned), 2, "the writer dropped the work");
        let (result, work) = job.await.unwrap();
        assert_eq!(result.unwrap(), 1);
        drop(work);
        assert_eq!(Arc::strong_count(&owned), 1);
    }

    /// When the shared commit fails, no job is told it succeeded and nothing is kept.
    #[tokio::test]
    async fn a_failed_commit_fails_every_job() {
        let (_dir, mut conn) = table();
        let queue = Queue::default();
        let good = queue.push(insert(1, None, false));
        // A deferred foreign key: the job's statements pass, the commit does not.
        let dangling = queue.push(insert(2, Some(99), false));
        let undone = std::sync::atomic::AtomicUsize::new(0);
        queue.run(&mut conn, &SystemClock, &|| {
            undone.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        });
        assert_eq!(undone.into_inner(), 1, "told the commit was not kept");
        let good = good.await.unwrap().0;
        assert!(
            matches!(&good, Err(StoreError::Backend(e)) if e.to_string().contains("not committed")),
            "{good:?}"
        );
        assert!(dangling.await.unwrap().0.is_err());
        assert!(conn.is_autocommit());
        assert_eq!(rows(&conn), Vec::<i64>::new());
    }

    /// A batch that cannot begin (the database is locked by another connection) tells
    /// every job why, and runs none of them.
    #[tokio::test]
    async fn a_batch_that_cannot_start_fails_every_job() {
        let (dir, mut conn) = table();
        conn.busy_timeout(std::time::Duration::ZERO).unwrap();
        let other = Connection::open(dir.path().join("t.db")).unwrap();
        other.execute_batch("BEGIN IMMEDIATE").unwrap();
        let queue = Queue::default();
        let job = queue.push(insert(1, None, false));
        queue.run(&mut conn, &SystemClock, &|| panic!("nothing began"));
        let result = job.await.unwrap().0;
        assert!(
            matches!(&result, Err(StoreError::Backend(e)) if e.to_string().contains("could not start")),
            "{result:?}"
        );
        other.execute_batch("ROLLBACK").unwrap();
        assert_eq!(rows(&conn), Vec::<i64>::new());
    }
}
