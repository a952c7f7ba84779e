//! Leases: named rights that processes sharing one store take turns on, such as
//! `sync:<partner>`, so that exactly one process syncs with a partner at a time and
//! another takes over soon after the holder dies. See [`Store::try_lease`] for the
//! semantics every backend keeps, and [`expiry`] / [`check_names`] for the requests
//! every backend refuses alike.
//!
//! [`Store::try_lease`]: crate::Store::try_lease

use std::time::Duration;

use crate::error::{Result, StoreError};
use crate::time::Micros;

/// A lease in force: who holds it, and until when (by the store's clock) unless renewed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    /// What the lease is for, such as `sync:paris`.
    pub name: String,
    /// Who holds it: an id its holder chose, unique per process (and per use).
    pub holder: String,
    /// When it ends unless renewed.
    pub expires: Micros,
}

/// When a lease taken at `now` for `ttl` ends: `now + ttl` (saturating). Refuses, as
/// [`StoreError::Invalid`], an empty `name` or `holder` and a zero `ttl`.
pub fn expiry(name: &str, holder: &str, now: Micros, ttl: Duration) -> Result<Micros> {
    check_names(name, holder)?;
    if ttl.is_zero() {
        return Err(StoreError::Invalid(format!(
            "lease {name:?}: the time to live must be more than zero"
        )));
    }
    let ttl = i64::try_from(ttl.as_micros()).unwrap_or(i64::MAX);
    Ok(Micros(now.0.saturating_add(ttl)))
}

/// Refuses, as [`StoreError::Invalid`], an empty lease `name` or `holder`.
pub fn check_names(name: &str, holder: &str) -> Result<()> {
    if name.is_empty() || holder.is_empty() {
        return Err(StoreError::Invalid(format!(
            "a lease needs a name and a holder (name {name:?}, holder {holder:?})"
        )));
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn expiry_adds_the_ttl_and_refuses_nonsense() {
        let ttl = Duration::from_secs(15);
        assert_eq!(
            expiry("sync:paris", "a", Micros(10), ttl).unwrap(),
            Micros(15_000_010)
        );
        assert_eq!(
            expiry("x", "a", Micros(i64::MAX - 1), ttl).unwrap(),
            Micros(i64::MAX)
        );
        for (name, holder, ttl) in [("", "a", ttl), ("x", "", ttl), ("x", "a", Duration::ZERO)] {
            assert!(
                matches!(
                    expiry(name, holder, Micros(0), ttl),
                    Err(StoreError::Invalid(_))
                ),
                "{name:?} {holder:?} {ttl:?}"
            );
        }
    }
}
