//! How long a partner's worker waits before its next cycle: the configured
//! interval while the partner answers, and an exponential back-off with jitter
//! while it is down, so a node does not hammer a partner that is restarting and
//! many nodes do not come back at the same instant.

use std::time::Duration;

use rand::Rng as _;

/// The delay before the next cycle of one partner's worker.
///
/// After `n` consecutive failed cycles the ceiling is `interval · 2ⁿ`, capped at
/// `max`; the delay is drawn uniformly between half the ceiling and the ceiling
/// ("equal jitter"), and never below the interval. A success resets it.
#[derive(Debug, Clone)]
pub struct Backoff {
    interval: Duration,
    max: Duration,
    failures: u32,
}

impl Backoff {
    /// A back-off for cycles every `interval`, waiting at most `max` while failing
    /// (`max` below `interval` is taken as `interval`).
    pub fn new(interval: Duration, max: Duration) -> Backoff {
        Backoff {
            interval,
            max: max.max(interval),
            failures: 0,
        }
    }

    /// How many cycles in a row have failed.
    pub fn failures(&self) -> u32 {
        self.failures
    }

    /// The cycle worked: the next one comes after the interval.
    pub fn succeeded(&mut self) -> Duration {
        self.failures = 0;
        self.interval
    }

    /// The cycle failed: the next one comes after a longer, jittered delay.
    pub fn failed(&mut self) -> Duration {
        self.failures = self.failures.saturating_add(1);
        let (low, high) = self.bounds();
        if high <= low {
            return high;
        }
        let span = (high - low).as_millis();
        let offset = rand::rng().random_range(0..=u64::try_from(span).unwrap_or(u64::MAX));
        low.saturating_add(Duration::from_millis(offset)).min(high)
    }

    /// The range the delay after the current number of failures is drawn from.
    pub fn bounds(&self) -> (Duration, Duration) {
        if self.failures == 0 {
            return (self.interval, self.interval);
        }
        let factor = 2u32.saturating_pow(self.failures.min(31));
        let ceiling = self
            .interval
            .checked_mul(factor)
            .unwrap_or(self.max)
            .min(self.max);
        ((ceiling / 2).max(self.interval).min(ceiling), ceiling)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    const S: Duration = Duration::from_secs(1);

    #[test]
    fn ceilings_double_up_to_the_maximum() {
        let mut backoff = Backoff::new(30 * S, 300 * S);
        assert_eq!(backoff.bounds(), (30 * S, 30 * S));
        let mut ceilings = Vec::new();
        for _ in 0..8 {
            backoff.failed();
            ceilings.push(backoff.bounds().1.as_secs());
        }
        assert_eq!(ceilings, [60, 120, 240, 300, 300, 300, 300, 300]);
        assert_eq!(backoff.failures(), 8);
        assert_eq!(backoff.succeeded(), 30 * S);
        assert_eq!(backoff.failures(), 0);
        assert_eq!(backoff.bounds(), (30 * S, 30 * S));
    }

    #[test]
    fn delays_stay_within_bounds_and_are_jittered() {
        let mut backoff = Backoff::new(S, 8 * S);
        for round in 1..=6 {
            let mut seen = std::collections::BTreeSet::new();
            for _ in 0..200 {
                let mut b = backoff.clone();
                let delay = b.failed();
                let (low, high) = b.bounds();
                assert!(
                    delay >= low && delay <= high,
                    "{delay:?} not in {low:?}..={high:?}"
                );
                assert!(delay >= S, "never sooner than the interval");
                assert!(delay <= 8 * S, "never later than the maximum");
                seen.insert(delay);
            }
            let (low, high) = {
                let mut b = backoff.clone();
                b.failed();
                b.bounds()
            };
            if high > low {
                // 200 draws from hundreds of milliseconds of span: jitter is real.
                assert!(seen.len() > 20, "round {round}: only {} delays", seen.len());
                let spread = *seen.last().unwrap() - *seen.first().unwrap();
                assert!(
                    spread >= (high - low) / 2,
                    "round {round}: spread {spread:?}"
                );
            }
            backoff.failed();
        }
    }

    #[test]
    fn half_the_ceiling_is_the_floor() {
        let mut backoff = Backoff::new(S, 64 * S);
        for _ in 0..4 {
            backoff.failed();
        }
        assert_eq!(backoff.bounds(), (8 * S, 16 * S));
    }

    #[test]
    fn a_maximum_below_the_interval_is_the_interval() {
        let mut backoff = Backoff::new(10 * S, S);
        assert_eq!(backoff.failed(), 10 * S);
        assert_eq!(backoff.failed(), 10 * S);
    }

    #[test]
    fn huge_failure_counts_do_not_overflow() {
        let mut backoff = Backoff::new(Duration::from_secs(u64::MAX / 4), Duration::MAX);
        for _ in 0..100 {
            let delay = backoff.failed();
            assert!(delay >= Duration::from_secs(u64::MAX / 4));
        }
    }
}
