//! Time as the store sees it: [`Micros`] (microseconds since the Unix epoch, the unit
//! of `date_added`) and the [`Clock`] that supplies it, injected so tests can freeze it.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use stix::Timestamp;

use crate::error::{Result, StoreError};

/// An instant in microseconds since 1970-01-01T00:00:00Z.
///
/// `date_added`, status request timestamps and token creation times are `Micros`.
/// It displays as RFC 3339 with six fractional digits, such as `2024-05-01T12:00:00.000001Z`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Micros(pub i64);

impl Micros {
    /// The instant of a STIX timestamp, rounded down to the microsecond.
    ///
    /// Rounding down keeps `added_after` exact: a `date_added` is strictly after a
    /// nanosecond-precise timestamp exactly when it is strictly after its floor.
    pub fn from_timestamp(ts: &Timestamp) -> Micros {
        Micros(
            ts.seconds
                .saturating_mul(1_000_000)
                .saturating_add(i64::from(ts.nanos / 1000)),
        )
    }

    /// Parses a STIX/TAXII timestamp such as `2024-05-01T12:00:00.5Z`.
    pub fn parse(text: &str) -> Result<Micros> {
        Timestamp::parse(text)
            .map(|ts| Micros::from_timestamp(&ts))
            .map_err(|e| StoreError::Invalid(format!("timestamp {text:?} {e}")))
    }

    /// This instant as a STIX timestamp with microsecond precision.
    pub fn to_timestamp(self) -> Timestamp {
        Timestamp {
            seconds: self.0.div_euclid(1_000_000),
            nanos: (self.0.rem_euclid(1_000_000) * 1000) as u32,
            fraction_digits: 6,
        }
    }
}

impl fmt::Display for Micros {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.to_timestamp().fmt(f)
    }
}

/// The source of "now" for a store: the system clock in production, a [`ManualClock`] in tests.
pub trait Clock: Send + Sync + fmt::Debug {
    /// The current instant.
    fn now(&self) -> Micros;
}

/// The system's wall clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Micros {
        // The only place the store reads the wall clock; a clock before 1970 reads as 0.
        let since_epoch = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        Micros(i64::try_from(since_epoch.as_micros()).unwrap_or(i64::MAX))
    }
}

/// A clock that only moves when told to; clones share the same time.
#[derive(Debug, Clone)]
pub struct ManualClock(Arc<AtomicI64>);

impl ManualClock {
    /// A clock frozen at `at`.
    pub fn new(at: Micros) -> ManualClock {
        ManualClock(Arc::new(AtomicI64::new(at.0)))
    }

    /// Sets the time (it may go backwards, as a real clock can).
    pub fn set(&self, at: Micros) {
        self.0.store(at.0, Ordering::SeqCst);
    }

    /// Moves the time forward by `micros`.
    pub fn advance(&self, micros: i64) {
        self.0.fetch_add(micros, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Micros {
        Micros(self.0.load(Ordering::SeqCst))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn micros_round_trip_and_floor() {
        let m = Micros::parse("2024-05-01T12:00:00.123456789Z").unwrap();
        assert_eq!(m.to_string(), "2024-05-01T12:00:00.123456Z");
        assert_eq!(Micros::parse(&m.to_string()).unwrap(), m);
        assert_eq!(
            Micros::parse("1970-01-01T00:00:01Z").unwrap(),
            Micros(1_000_000)
        );
        assert_eq!(Micros(-1).to_string(), "1969-12-31T23:59:59.999999Z");
        assert!(matches!(
            Micros::parse("yesterday"),
            Err(StoreError::Invalid(_))
        ));
    }

    #[test]
    fn manual_clock_is_shared() {
        let clock = ManualClock::new(Micros(5));
        let other = clock.clone();
        other.advance(10);
        assert_eq!(clock.now(), Micros(15));
        clock.set(Micros(1));
        assert_eq!(other.now(), Micros(1));
    }
}
