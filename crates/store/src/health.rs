//! [`IntegrityReport`]: what a backend's own consistency check found.

/// The result of [`Store::integrity_check`](crate::Store::integrity_check).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct IntegrityReport {
    /// One line per problem found; empty when the database is sound.
    pub problems: Vec<String>,
}

impl IntegrityReport {
    /// Whether no problem was found.
    pub fn is_ok(&self) -> bool {
        self.problems.is_empty()
    }
}
