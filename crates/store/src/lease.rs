//! Leases: named rights that processes sharing one store take turns on, such as
//! `sync:<partner>`, so that exactly one process syncs with a partner at a time and
//! another takes over soon after the holder dies. See [`Store::try_lease`] for the
//! semantics every backend keeps.
//!
//! [`Store::try_lease`]: crate::Store::try_lease

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
