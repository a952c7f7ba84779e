//! Blocking work run from async code: a SQLite call, or CPU work on a page of
//! objects. On a multi-threaded Tokio runtime the worker thread hands its other
//! tasks to another thread first (`block_in_place`) and then runs the work itself, so
//! nothing waits behind it and no thread switch is paid; elsewhere (a current-thread
//! runtime, tests, no runtime) the work just runs.
//!
//! Why not `spawn_blocking`: a request reads the store several times (its token, its
//! collection, then the page), and each trip to the blocking pool is two thread
//! wake-ups. Reading in place made one paging walk 25 % faster (`BENCHMARKS.md`).
//! A lookup by key takes about as long as the handover itself, so the SQLite store
//! runs those on the calling thread without one (`SqliteStore::read_point`).

/// Runs `f` where the caller is, as the module says.
pub fn in_place<R>(f: impl FnOnce() -> R) -> R {
    let multi_thread = tokio::runtime::Handle::try_current()
        .is_ok_and(|h| h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread);
    if multi_thread {
        tokio::task::block_in_place(f)
    } else {
        f()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_without_a_runtime() {
        assert_eq!(in_place(|| 2 + 2), 4);
    }

    #[tokio::test]
    async fn runs_on_a_current_thread_runtime() {
        assert_eq!(in_place(|| "here"), "here");
    }

    /// On a multi-threaded runtime the work runs on the calling worker thread, and the
    /// runtime's other tasks still run meanwhile: with one worker, a worker that simply
    /// blocked would never run the task the work waits for.
    #[tokio::test(flavor = "multi_thread", worker_threads = 1)]
    async fn others_go_on_meanwhile_on_a_multi_threaded_runtime() {
        let (sender, receiver) = std::sync::mpsc::channel();
        let blocked = tokio::spawn(async move {
            let worker = std::thread::current().id();
            let ran_on = in_place(|| {
                receiver
                    .recv_timeout(std::time::Duration::from_secs(10))
                    .ok()
                    .map(|()| std::thread::current().id())
            });
            (worker, ran_on)
        });
        tokio::spawn(async move { sender.send(()).unwrap() });
        let (worker, ran_on) = blocked.await.unwrap();
        assert_eq!(ran_on, Some(worker), "the other task never ran");
    }
}
