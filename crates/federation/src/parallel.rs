//! CPU work on a slice spread over the machine's cores, results in slice order:
//! what checks a page of received objects (signatures above all) on every core
//! instead of one. Plain scoped threads: the work is short (a page is tens of
//! milliseconds); callers in async code go through [`store::blocking::in_place`].

use std::sync::OnceLock;

/// Fewer items than this per thread are not worth a thread.
pub const MIN_CHUNK: usize = 32;

/// The cores this process may use (1 if unknown).
pub fn cores() -> usize {
    static CORES: OnceLock<usize> = OnceLock::new();
    *CORES.get_or_init(|| std::thread::available_parallelism().map_or(1, usize::from))
}

/// Splits `items` into one contiguous chunk per core (none smaller than
/// [`MIN_CHUNK`], except the only one), runs `work(offset, chunk)` on each, the first
/// on the calling thread, and returns the results in chunk order. `offset` is the
/// chunk's first index in `items`.
pub fn map_chunks<T, R, F>(items: &[T], work: F) -> Vec<R>
where
    T: Sync,
    R: Send,
    F: Fn(usize, &[T]) -> R + Sync,
{
    let threads = cores().min(items.len() / MIN_CHUNK).max(1);
    if threads == 1 {
        return vec![work(0, items)];
    }
    let size = items.len().div_ceil(threads);
    let work = &work;
    std::thread::scope(|scope| {
        let mut chunks = items.chunks(size).enumerate();
        let first = chunks.next();
        let handles: Vec<_> = chunks
            .map(|(i, chunk)| scope.spawn(move || work(i * size, chunk)))
            .collect();
        let mut results = Vec::with_capacity(threads);
        if let Some((_, chunk)) = first {
            results.push(work(0, chunk));
        }
        for handle in handles {
            match handle.join() {
                Ok(result) => results.push(result),
                // A panic in `work` is a bug: let it go on as it would have alone.
                Err(panic) => std::panic::resume_unwind(panic),
            }
        }
        results
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn every_item_once_in_order(n in 0usize..500) {
            let items: Vec<usize> = (0..n).collect();
            let chunks = map_chunks(&items, |offset, chunk| {
                // The offset names the chunk's place in the slice.
                assert!(chunk.is_empty() || chunk[0] == offset);
                chunk.iter().map(|i| i * 2).collect::<Vec<_>>()
            });
            let flat: Vec<usize> = chunks.into_iter().flatten().collect();
            prop_assert_eq!(flat, items.iter().map(|i| i * 2).collect::<Vec<_>>());
        }
    }

    #[test]
    fn small_slices_stay_on_the_calling_thread() {
        let caller = std::thread::current().id();
        let items = vec![0u8; MIN_CHUNK];
        let threads = map_chunks(&items, |_, _| std::thread::current().id());
        assert_eq!(threads, vec![caller]);
    }
}
