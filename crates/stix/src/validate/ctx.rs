//! The validation context: where diagnostics go, which object they are about,
//! and property paths that are only formatted when something is reported.

use std::fmt;

use crate::diagnostic::{Diagnostic, Severity};

/// A property path such as `external_references[0].url`, built on the stack
/// as validation descends and formatted only when a problem is reported.
#[derive(Debug, Clone, Copy)]
pub enum Path<'p> {
    /// The object itself.
    Root,
    /// A property of the parent.
    Prop(&'p Path<'p>, &'p str),
    /// An element of the parent list.
    Index(&'p Path<'p>, usize),
}

impl<'p> Path<'p> {
    /// The property `name` below this path.
    pub fn prop(&'p self, name: &'p str) -> Path<'p> {
        Path::Prop(self, name)
    }

    /// The element `index` of this list path.
    pub fn index(&'p self, index: usize) -> Path<'p> {
        Path::Index(self, index)
    }
}

impl fmt::Display for Path<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Path::Root => Ok(()),
            Path::Prop(Path::Root, name) => f.write_str(name),
            Path::Prop(parent, name) => write!(f, "{parent}.{name}"),
            Path::Index(parent, i) => write!(f, "{parent}[{i}]"),
        }
    }
}

/// Collects the diagnostics for one object.
pub struct Ctx<'a> {
    object_id: Option<&'a str>,
    out: &'a mut Vec<Diagnostic>,
}

impl<'a> Ctx<'a> {
    /// A context reporting into `out` about the object with this id.
    pub fn new(object_id: Option<&'a str>, out: &'a mut Vec<Diagnostic>) -> Self {
        Ctx { object_id, out }
    }

    /// The id of the object being validated, if it has one.
    pub fn object_id(&self) -> Option<&'a str> {
        self.object_id
    }

    /// Reports a problem.
    pub fn report(
        &mut self,
        severity: Severity,
        path: impl fmt::Display,
        rule: &'static str,
        message: impl Into<String>,
    ) {
        self.out.push(Diagnostic {
            severity,
            object_id: self.object_id.map(str::to_owned),
            property: path.to_string(),
            rule,
            message: message.into(),
        });
    }

    /// Reports a MUST violation.
    pub fn error(
        &mut self,
        path: impl fmt::Display,
        rule: &'static str,
        message: impl Into<String>,
    ) {
        self.report(Severity::Error, path, rule, message);
    }

    /// Reports a SHOULD violation or other advice.
    pub fn warning(
        &mut self,
        path: impl fmt::Display,
        rule: &'static str,
        message: impl Into<String>,
    ) {
        self.report(Severity::Warning, path, rule, message);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_format_like_property_accessors() {
        let root = Path::Root;
        let refs = root.prop("external_references");
        let first = refs.index(0);
        let url = first.prop("url");
        assert_eq!(url.to_string(), "external_references[0].url");
        assert_eq!(root.to_string(), "");
    }
}
