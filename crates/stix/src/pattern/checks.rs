//! The checks on a parsed pattern beyond its grammar: object type and property
//! names, object paths against the SCO tables, qualifiers, hash values and
//! whether each constant suits the property it is compared with.
//!
//! The errors here are the ones stix2-validator makes (so the verdicts agree):
//! malformed type and property names, a qualifier repeated on one observation,
//! and hash values that cannot be of their algorithm. The rest are warnings.

use std::collections::HashSet;

use crate::diagnostic::Severity;
use crate::types::{Category, PropKind};

use super::PatternProblem;
use super::ast::*;
use super::paths::{self, Lookup};

struct Checker<'a> {
    lookup: Lookup<'a>,
    out: Vec<PatternProblem>,
    types_seen: HashSet<String>,
}

impl Checker<'_> {
    fn error(&mut self, offset: usize, message: String) {
        self.out.push(PatternProblem {
            severity: Severity::Error,
            offset,
            message,
        });
    }

    fn warning(&mut self, offset: usize, message: String) {
        self.out.push(PatternProblem {
            severity: Severity::Warning,
            offset,
            message,
        });
    }
}

/// Every problem of a parsed pattern.
pub(crate) fn check(pattern: &Pattern, lookup: Lookup<'_>) -> Vec<PatternProblem> {
    let mut checker = Checker {
        lookup,
        out: Vec::new(),
        types_seen: HashSet::new(),
    };
    observation(&mut checker, &pattern.expr);
    checker.out
}

fn observation(c: &mut Checker<'_>, expr: &ObservationExpr) {
    match &expr.kind {
        ObservationKind::Observation(cmp) => {
            comparison_expr(c, cmp);
            // stix2-patterns refuses a second qualifier of one type on a bracketed
            // observation (though not on a parenthesised group).
            let mut seen = HashSet::new();
            for q in &expr.qualifiers {
                let keyword = q.kind.keyword();
                if !seen.insert(keyword) {
                    let name = if keyword == "START" {
                        "START/STOP"
                    } else {
                        keyword
                    };
                    c.error(
                        q.span.start,
                        format!(
                            "the observation expression already has a {name} qualifier; to apply another, put the qualified expression in parentheses first"
                        ),
                    );
                }
            }
        }
        ObservationKind::Group(inner) => observation(c, inner),
        ObservationKind::Binary { operands, .. } => {
            for o in operands {
                observation(c, o);
            }
        }
    }
    for q in &expr.qualifiers {
        if let QualifierKind::StartStop { start, stop } = &q.kind
            && let (Constant::Timestamp(_, a), Constant::Timestamp(_, b)) =
                (&start.value, &stop.value)
            && b <= a
        {
            c.warning(
                stop.span.start,
                format!(
                    "STOP {} is not later than START {}, so nothing can match in that window",
                    stop.value, start.value
                ),
            );
        }
    }
}

fn comparison_expr(c: &mut Checker<'_>, expr: &ComparisonExpr) {
    match &expr.kind {
        ComparisonKind::Test(t) => comparison(c, t),
        ComparisonKind::Group(inner) => comparison_expr(c, inner),
        ComparisonKind::Binary { operands, .. } => {
            for o in operands {
                comparison_expr(c, o);
            }
        }
    }
}

/// stix2-validator's `TYPE_FORMAT_RE` and length bounds.
fn is_type_name(name: &str) -> bool {
    let core = name.strip_prefix('-').unwrap_or(name);
    let core = core.strip_suffix('-').unwrap_or(core);
    (3..=250).contains(&name.len())
        && !core.is_empty()
        && core.split('-').all(|part| {
            !part.is_empty()
                && part
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        })
}

/// stix2-validator's `PROPERTY_FORMAT_RE`.
fn is_property_name(name: &str) -> bool {
    (3..=250).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

fn comparison(c: &mut Checker<'_>, t: &Comparison) {
    let path = &t.path;
    let ty = path.object_type.as_str();
    let spec = (c.lookup)(ty);
    if spec.is_none() && !is_type_name(ty) {
        c.error(
            path.type_span.start,
            format!("'{ty}' is not a valid object type name: use 3 to 250 characters of a-z, 0-9 and '-'"),
        );
    }
    let first = path.steps.first();
    let first_ok = match (first.map(|s| &s.kind), spec) {
        (Some(StepKind::Key(k)), Some(s))
            if paths::find_property(&[s], k).is_some() || k == "extensions" =>
        {
            true
        }
        (Some(StepKind::Key(k)), _) if !is_property_name(k) => {
            c.error(
                first.map_or(path.span.start, |s| s.span.start),
                format!("'{k}' is not a valid property name: use 3 to 250 characters of a-z, 0-9 and '_'"),
            );
            false
        }
        _ => true,
    };
    let kind = match spec {
        Some(s) if s.category == Category::Sco => {
            if first_ok {
                paths::walk(path, s, c.lookup, &mut c.out)
            } else {
                None
            }
        }
        Some(_) => {
            if c.types_seen.insert(ty.to_string()) {
                c.warning(
                    path.type_span.start,
                    format!("'{ty}' is not a cyber-observable (SCO) type; patterns match SCOs"),
                );
            }
            None
        }
        None => {
            if is_type_name(ty) && c.types_seen.insert(ty.to_string()) {
                let message = if ty.starts_with("x-") {
                    format!("'{ty}' is a custom observable type, not one STIX 2.1 defines")
                } else {
                    format!(
                        "'{ty}' is not an observable type STIX 2.1 defines (custom types should start with 'x-')"
                    )
                };
                c.warning(path.type_span.start, message);
            }
            None
        }
    };
    hash_values(c, t);
    if let Some(kind) = kind {
        operand_types(c, t, &kind);
    }
}

fn constants(value: &Option<Operand>) -> Vec<&Literal> {
    match value {
        Some(Operand::Constant(l)) => vec![l],
        Some(Operand::Set { items, .. }) => items.iter().collect(),
        None => Vec::new(),
    }
}

/// What each hash algorithm's value looks like, keyed by the upper-case name
/// without hyphens, as stix2-patterns checks them.
/// What a hash value must look like, and the test.
type HashFormat = (&'static str, fn(&str) -> bool);

fn hash_format(algorithm: &str) -> Option<HashFormat> {
    fn hex(n: usize) -> impl Fn(&str) -> bool {
        move |s: &str| s.len() == n && s.bytes().all(|b| b.is_ascii_hexdigit())
    }
    let f: HashFormat = match algorithm {
        "MD5" => ("32 hexadecimal digits", |s| hex(32)(s)),
        // stix2-patterns' MD6 expression is unanchored at the end: 32 hex digits lead.
        "MD6" => ("at least 32 hexadecimal digits", |s| {
            s.len() >= 32 && s.bytes().take(32).all(|b| b.is_ascii_hexdigit())
        }),
        "RIPEMD160" => ("40 hexadecimal digits", |s| hex(40)(s)),
        "SHA1" => ("40 hexadecimal digits", |s| hex(40)(s)),
        "SHA224" | "SHA3224" => ("56 hexadecimal digits", |s| hex(56)(s)),
        "SHA256" | "SHA3256" => ("64 hexadecimal digits", |s| hex(64)(s)),
        "SHA384" | "SHA3384" => ("96 hexadecimal digits", |s| hex(96)(s)),
        "SHA512" | "SHA3512" | "WHIRLPOOL" => ("128 hexadecimal digits", |s| hex(128)(s)),
        "SSDEEP" => ("1 to 128 characters of A-Z a-z 0-9 / + : .", |s| {
            (1..=128).contains(&s.len())
                && s.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'/' | b'+' | b':' | b'.'))
        }),
        _ => return None,
    };
    Some(f)
}

fn hash_values(c: &mut Checker<'_>, t: &Comparison) {
    let steps = &t.path.steps;
    if t.op == Operator::Exists
        || !steps
            .iter()
            .any(|s| s.kind == StepKind::Key("hashes".into()))
    {
        return;
    }
    // §9.5: [n] indexes lists; stix2-patterns fails on it after 'hashes', so it is an error here.
    if let Some(
        last @ PathStep {
            kind: StepKind::Index(n),
            ..
        },
    ) = steps.last()
    {
        c.error(
            last.span.start,
            format!("hashes are keyed by algorithm name, so [{n}] selects nothing: write hashes.'SHA-256' or hashes[*]"),
        );
        return;
    }
    // LIKE and MATCHES take patterns, not hash values (stix2-patterns checks them too).
    if matches!(t.op, Operator::Like | Operator::Matches) {
        return;
    }
    let Some(StepKind::Key(algorithm)) = steps.last().map(|s| &s.kind) else {
        return;
    };
    let Some((expected, valid)) = hash_format(&algorithm.to_ascii_uppercase().replace('-', ""))
    else {
        return;
    };
    for l in constants(&t.value) {
        match &l.value {
            Constant::String(s) if valid(s) => {}
            Constant::String(s) => c.error(
                l.span.start,
                format!("'{s}' is not a valid {algorithm} hash: expected {expected}"),
            ),
            other => c.error(
                l.span.start,
                format!(
                    "{algorithm} hash values are strings, not {}",
                    other.describe()
                ),
            ),
        }
    }
}

/// Whether a constant can equal a value of `kind`; `None` when the tables do not say.
fn suits(kind: &PropKind, value: &Constant) -> Option<bool> {
    let ok = match kind {
        PropKind::String
        | PropKind::Url
        | PropKind::Enum(_)
        | PropKind::OpenVocab(_)
        | PropKind::Ref(_) => matches!(value, Constant::String(_)),
        PropKind::Boolean => matches!(value, Constant::Boolean(_)),
        PropKind::Integer { .. } => matches!(value, Constant::Integer(_)),
        PropKind::Float { .. } => matches!(value, Constant::Integer(_) | Constant::Float(_)),
        PropKind::Timestamp => matches!(value, Constant::Timestamp(..)),
        PropKind::Binary => matches!(value, Constant::Binary(_)),
        PropKind::Hex => matches!(value, Constant::Hex(_)),
        _ => return None,
    };
    Some(ok)
}

fn operand_types(c: &mut Checker<'_>, t: &Comparison, kind: &PropKind) {
    let what = paths::describe_kind(kind);
    match t.op {
        Operator::Exists | Operator::IsSubset | Operator::IsSuperset => {}
        Operator::Like | Operator::Matches => {
            let string_like = matches!(
                kind,
                PropKind::String
                    | PropKind::Url
                    | PropKind::Enum(_)
                    | PropKind::OpenVocab(_)
                    | PropKind::Ref(_)
            );
            // §9.6: MATCHES may also test binary data.
            let binary =
                t.op == Operator::Matches && matches!(kind, PropKind::Binary | PropKind::Hex);
            if !string_like && !binary && suits(kind, &Constant::Boolean(true)).is_some() {
                c.warning(
                    t.op_span.start,
                    format!(
                        "{} applies to strings, but {} holds {what}",
                        t.op.as_str(),
                        t.path
                    ),
                );
            }
        }
        _ => {
            for l in constants(&t.value) {
                if suits(kind, &l.value) == Some(false) {
                    let hint = match (kind, &l.value) {
                        (PropKind::Timestamp, Constant::String(s)) => format!(" (write t'{s}')"),
                        _ => String::new(),
                    };
                    c.warning(
                        l.span.start,
                        format!(
                            "{} holds {what} but is compared with {}{hint}",
                            t.path,
                            l.value.describe()
                        ),
                    );
                }
            }
        }
    }
}
