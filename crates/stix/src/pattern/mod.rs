//! The STIX patterning language (STIX 2.1 §9): grammar, AST with positions,
//! and checks of object paths against the SCO type tables.
//!
//! [`parse`] turns pattern text into a [`Pattern`] or the first syntax error;
//! [`check`] reports every problem (syntax, names, qualifiers, hash values,
//! object paths, operand types) with its character offset, for the indicator
//! validation to report on the `pattern` property.

mod ast;
mod checks;
mod lexer;
mod parser;
mod paths;

pub use ast::{
    BoolOp, Comparison, ComparisonExpr, ComparisonKind, Constant, Literal, ObjectPath,
    ObservationExpr, ObservationKind, ObservationOp, Operand, Operator, PathStep, Pattern,
    Qualifier, QualifierKind, Span, StepKind, is_keyword,
};
pub use parser::PatternError;

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

/// Parses a pattern whose `pattern_type` is `stix` into its syntax tree.
pub fn parse(pattern: &str) -> Result<Pattern, PatternError> {
    parser::parse_with_notes(pattern).map(|(p, _)| p)
}

/// Checks a pattern whose `pattern_type` is `stix`.
pub fn check(pattern: &str) -> Vec<PatternProblem> {
    check_with(pattern, &crate::types::lookup)
}

/// [`check`] against a given set of type tables.
fn check_with(pattern: &str, lookup: paths::Lookup<'_>) -> Vec<PatternProblem> {
    let (ast, notes) = match parser::parse_with_notes(pattern) {
        Ok(parsed) => parsed,
        Err(e) => {
            return vec![PatternProblem {
                severity: Severity::Error,
                offset: e.offset,
                message: e.message,
            }];
        }
    };
    let mut out: Vec<PatternProblem> = notes
        .into_iter()
        .map(|n| PatternProblem {
            severity: Severity::Warning,
            offset: n.offset,
            message: n.message,
        })
        .collect();
    out.extend(checks::check(&ast, lookup));
    // An error at a position says more than a warning there.
    let error_at: std::collections::HashSet<usize> = out
        .iter()
        .filter(|p| p.severity == Severity::Error)
        .map(|p| p.offset)
        .collect();
    out.retain(|p| p.severity == Severity::Error || !error_at.contains(&p.offset));
    out.sort_by_key(|p| p.offset);
    out
}

#[cfg(test)]
mod tests;
