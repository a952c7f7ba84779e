//! Walks an object path through the SCO type tables (`types::spec`): follows
//! `_ref`/`_refs` into the referenced types, nested objects and lists, the
//! predefined extensions under `extensions`, and dictionary keys.
//!
//! Everything found here is a warning: STIX 2.1 lets a pattern name custom
//! properties, and stix2-validator accepts unknown ones (the specification's
//! own examples use `file:created`), so an unknown name is worth telling but
//! never makes the pattern invalid.

use crate::diagnostic::Severity;
use crate::types::{Prop, PropKind, TypeSpec, common_properties};

use super::PatternProblem;
use super::ast::{ObjectPath, StepKind};

/// Finds the spec of a type by name (the real tables, or a test table).
pub(crate) type Lookup<'a> = &'a dyn Fn(&str) -> Option<&'static TypeSpec>;

/// Properties every object has, which the tables leave to the validator.
const IDENTITY: &[&str] = &["type", "id", "spec_version"];

/// Where the walk stands before the next step.
enum State {
    /// A property of one of these object types comes next.
    Objects(Vec<&'static TypeSpec>),
    /// A property of a nested structure comes next.
    Props {
        props: &'static [Prop],
        owner: String,
    },
    /// An extension name comes next.
    Extensions(Vec<&'static TypeSpec>),
    /// A value of this kind.
    Value(PropKind),
    /// Beyond what the tables describe: nothing more is checked.
    Unknown,
}

/// The property `name` of one of `specs`, common properties included.
pub(crate) fn find_property(specs: &[&'static TypeSpec], name: &str) -> Option<PropKind> {
    if IDENTITY.contains(&name) {
        return Some(PropKind::String);
    }
    specs.iter().find_map(|spec| {
        spec.property(name)
            .or_else(|| common_properties(spec).iter().find(|p| p.name == name))
            .map(|p| p.kind)
    })
}

fn owner_of(specs: &[&'static TypeSpec]) -> String {
    let names: Vec<String> = specs.iter().map(|s| format!("'{}'", s.name)).collect();
    match names.split_last() {
        Some((last, rest)) if !rest.is_empty() => {
            format!("{} or {last} objects", rest.join(", "))
        }
        _ => format!("{} objects", names.concat()),
    }
}

/// What a kind holds, for messages.
pub(crate) fn describe_kind(kind: &PropKind) -> &'static str {
    match kind {
        PropKind::String
        | PropKind::Url
        | PropKind::Enum(_)
        | PropKind::OpenVocab(_)
        | PropKind::Ref(_) => "a string",
        PropKind::Boolean => "a boolean",
        PropKind::Integer { .. } => "an integer",
        PropKind::Float { .. } => "a number",
        PropKind::Timestamp => "a timestamp",
        PropKind::Binary => "binary data",
        PropKind::Hex => "hex data",
        PropKind::RefList(_)
        | PropKind::StringList
        | PropKind::EnumList(_)
        | PropKind::OpenVocabList(_)
        | PropKind::IntegerList { .. }
        | PropKind::KillChainPhases
        | PropKind::ExternalReferences
        | PropKind::ObjectList(_) => "a list",
        PropKind::Hashes | PropKind::Dictionary => "a dictionary",
        PropKind::Object(_) => "an object",
        PropKind::Any => "a value",
    }
}

/// Walks `path` from `spec`; returns the kind of value it ends at, if the
/// tables describe it, and pushes a warning for each step that selects nothing.
pub(crate) fn walk(
    path: &ObjectPath,
    spec: &'static TypeSpec,
    lookup: Lookup<'_>,
    out: &mut Vec<PatternProblem>,
) -> Option<PropKind> {
    let mut state = State::Objects(vec![spec]);
    for (i, step) in path.steps.iter().enumerate() {
        let mut warn = |message: String| {
            out.push(PatternProblem {
                severity: Severity::Warning,
                offset: step.span.start,
                message,
            });
        };
        let here = || {
            if i == 0 {
                String::new()
            } else {
                path.prefix(i - 1)
            }
        };
        state = match (state, &step.kind) {
            (State::Unknown, _) => State::Unknown,
            (State::Value(kind), step_kind) => {
                match into_value(kind, step_kind, lookup, &here, &mut warn) {
                    Some(next) => next,
                    None => State::Unknown,
                }
            }
            (State::Objects(specs), StepKind::Key(k)) => object_property(&specs, k, &mut warn),
            (State::Props { props, owner }, StepKind::Key(k)) => {
                match props.iter().find(|p| p.name == *k) {
                    Some(p) => State::Value(p.kind),
                    None => {
                        warn(unknown_property(k, &owner));
                        State::Unknown
                    }
                }
            }
            (State::Extensions(specs), StepKind::Key(name)) => {
                match specs.iter().find_map(|s| s.extension(name)) {
                    Some(ext) => State::Props {
                        props: ext.properties,
                        owner: format!("the '{name}' extension"),
                    },
                    None if name.starts_with("extension-definition--") => State::Unknown,
                    None if name.starts_with("x-") => {
                        warn(format!(
                            "'{name}' is a custom extension, not one STIX 2.1 defines for {}",
                            owner_of(&specs)
                        ));
                        State::Unknown
                    }
                    None => {
                        warn(format!(
                            "'{name}' is not an extension STIX 2.1 defines for {}",
                            owner_of(&specs)
                        ));
                        State::Unknown
                    }
                }
            }
            (State::Objects(_) | State::Props { .. } | State::Extensions(_), _) => {
                warn(format!(
                    "{} is not a list, so an index selects nothing",
                    here()
                ));
                State::Unknown
            }
        };
    }
    match state {
        State::Value(kind) => Some(kind),
        _ => None,
    }
}

fn unknown_property(name: &str, owner: &str) -> String {
    if name.starts_with("x_") {
        format!("'{name}' is a custom property, not one STIX 2.1 defines for {owner}")
    } else {
        format!("'{name}' is not a property of {owner}")
    }
}

fn object_property(specs: &[&'static TypeSpec], key: &str, warn: &mut dyn FnMut(String)) -> State {
    if key == "extensions" {
        return State::Extensions(specs.to_vec());
    }
    match find_property(specs, key) {
        Some(kind) => State::Value(kind),
        None => {
            warn(unknown_property(key, &owner_of(specs)));
            State::Unknown
        }
    }
}

/// One step into a value of `kind`; `None` once the tables say no more.
fn into_value(
    kind: PropKind,
    step: &StepKind,
    lookup: Lookup<'_>,
    here: &dyn Fn() -> String,
    warn: &mut dyn FnMut(String),
) -> Option<State> {
    let element = match kind {
        PropKind::RefList(t) => Some(PropKind::Ref(t)),
        PropKind::ObjectList(p) => Some(PropKind::Object(p)),
        PropKind::StringList => Some(PropKind::String),
        PropKind::EnumList(v) => Some(PropKind::Enum(v)),
        PropKind::OpenVocabList(v) => Some(PropKind::OpenVocab(v)),
        PropKind::IntegerList { min, max } => Some(PropKind::Integer { min, max }),
        _ => None,
    };
    match (kind, step) {
        (PropKind::Any | PropKind::KillChainPhases | PropKind::ExternalReferences, _) => None,
        (_, StepKind::Index(_) | StepKind::AnyIndex) if element.is_some() => {
            element.map(State::Value)
        }
        (PropKind::Hashes, StepKind::Key(_) | StepKind::AnyIndex) => {
            Some(State::Value(PropKind::String))
        }
        (PropKind::Dictionary, StepKind::Key(_) | StepKind::AnyIndex) => None,
        (_, StepKind::Key(k)) if element.is_some() => {
            warn(format!(
                "{} is a list: index it with [*] or [n] before '.{k}'",
                here()
            ));
            let element = element?;
            into_value(element, step, lookup, here, warn)
        }
        (PropKind::Ref(targets), StepKind::Key(k)) => {
            let specs: Vec<_> = targets.types.iter().filter_map(|t| lookup(t)).collect();
            if specs.is_empty() {
                return None;
            }
            Some(object_property(&specs, k, warn))
        }
        (PropKind::Object(props), StepKind::Key(k)) => match props.iter().find(|p| p.name == *k) {
            Some(p) => Some(State::Value(p.kind)),
            None => {
                warn(unknown_property(k, &here()));
                None
            }
        },
        (kind, StepKind::Key(k)) => {
            warn(format!(
                "{} holds {}, so '.{k}' selects nothing",
                here(),
                describe_kind(&kind)
            ));
            None
        }
        (kind, _) => {
            warn(format!(
                "{} holds {}, not a list, so an index selects nothing",
                here(),
                describe_kind(&kind)
            ));
            None
        }
    }
}
