//! Intake of one object a partner sent: the same steps as TAXII POST and
//! `passerelle import` (parse strictly, validate with `stix::validate`, derive
//! the query columns with `store::NewObject::from_object`), then the partner's
//! inbound rules on its signature ([`Federation::verdict`]). An object that fails
//! any step is rejected with its id and the reason, and never stored.

use stix::json;
use stix::{Diagnostic, Severity};
use store::NewObject;

use crate::node::{Federation, FederationError};
use crate::receipt::Verdict;

/// What becomes of one received object.
#[derive(Debug)]
pub enum Received {
    /// Store it with this verdict (accept or quarantine).
    Keep {
        /// The object, ready for the store.
        object: Box<NewObject>,
        /// [`Verdict::Accept`] or [`Verdict::Quarantine`].
        verdict: Verdict,
    },
    /// Refuse it.
    Rejected(Rejection),
}

/// An object refused at intake.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    /// Its id, or `objects[N]` (its place in the page) when it has none.
    pub object: String,
    /// Why, naming the rule or the first validation error.
    pub reason: String,
}

/// Checks one object received from `partner`; `index` is its place in the page,
/// to name an object without a usable id. `diagnostics` is scratch space.
pub fn receive(
    federation: &Federation,
    partner: &str,
    bytes: Vec<u8>,
    index: usize,
    diagnostics: &mut Vec<Diagnostic>,
) -> Result<Received, FederationError> {
    let rejected = |object: Option<&str>, reason: String| {
        Received::Rejected(Rejection {
            object: object.map_or_else(|| format!("objects[{index}]"), str::to_owned),
            reason,
        })
    };
    let value = match json::parse(&bytes) {
        Ok(value) => value,
        Err(e) => return Ok(rejected(None, format!("invalid JSON: {e}"))),
    };
    let Some(map) = value.as_object() else {
        return Ok(rejected(None, "not a JSON object".to_owned()));
    };
    let id = map.get("id").and_then(|v| v.as_str());
    diagnostics.clear();
    stix::validate::validate_object_into(&value, diagnostics);
    if let Some(first) = diagnostics.iter().find(|d| d.severity == Severity::Error) {
        let property = if first.property.is_empty() {
            String::new()
        } else {
            format!("{}: ", first.property)
        };
        return Ok(rejected(
            id,
            format!("invalid STIX: {property}{} [{}]", first.message, first.rule),
        ));
    }
    let verdict = federation.verdict(partner, &bytes)?;
    if let Verdict::Reject { reason, .. } = verdict {
        return Ok(rejected(id, reason));
    }
    match NewObject::from_object(bytes.clone(), map) {
        Ok(object) => Ok(Received::Keep {
            object: Box::new(object),
            verdict,
        }),
        Err(e) => Ok(rejected(id, e.to_string())),
    }
}
