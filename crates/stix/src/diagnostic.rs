//! What validation reports: one [`Diagnostic`] per problem, naming the object,
//! the property path and the rule, with a severity.

use std::fmt;

/// How serious a problem is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// A SHOULD of the specification, an open-vocabulary miss, or custom content.
    Warning,
    /// A MUST of the specification: a conformant consumer may reject the object.
    Error,
}

impl Severity {
    /// `"error"` or `"warning"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One problem found in one object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// Error or warning.
    pub severity: Severity,
    /// The object's `id`, when it has a usable one.
    pub object_id: Option<String>,
    /// The property path, such as `external_references[0].url`; empty for the object itself.
    pub property: String,
    /// A stable rule code, such as `timestamp-format`, for machines and tests.
    pub rule: &'static str,
    /// A sentence for people saying what is wrong and, where useful, what is expected.
    pub message: String,
}

impl fmt::Display for Diagnostic {
    /// `<object id>: <property>: <message> [<rule>]`, the form `passerelle validate` prints.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let id = self.object_id.as_deref().unwrap_or("(no id)");
        let property = if self.property.is_empty() {
            "-"
        } else {
            &self.property
        };
        write!(
            f,
            "{id}: {property}: {}: {} [{}]",
            self.severity, self.message, self.rule
        )
    }
}
