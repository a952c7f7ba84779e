//! Intake of one object a partner sent: the same steps as TAXII POST and
//! `passerelle import` (parse strictly, validate with `stix::validate`, derive
//! the query columns with `store::NewObject::from_object`), then the partner's
//! inbound rules on its signature ([`Federation::verdict`]). An object that fails
//! any step is rejected with its id and the reason, and never stored.

use stix::json::{self, Value};
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

/// Checks the objects of a page received from `partner`, in order: the page is
/// split over the cores ([`crate::parallel`]) and each part's signatures are
/// checked together ([`crate::signature::verify_many`]). CPU work: call it off the
/// async threads.
pub fn receive_page(
    federation: &Federation,
    partner: &str,
    objects: &[Vec<u8>],
) -> Result<Vec<Received>, FederationError> {
    federation.partner(partner)?;
    let parts = crate::parallel::map_chunks(objects, |offset, part| {
        receive_part(federation, partner, offset, part)
    });
    let mut received = Vec::with_capacity(objects.len());
    for part in parts {
        received.extend(part?);
    }
    Ok(received)
}

/// [`receive_page`] for a part of a page starting at index `offset`, on this thread.
fn receive_part(
    federation: &Federation,
    partner: &str,
    offset: usize,
    objects: &[Vec<u8>],
) -> Result<Vec<Received>, FederationError> {
    let mut diagnostics = Vec::new();
    let mut out: Vec<Option<Received>> = Vec::with_capacity(objects.len());
    // The objects that pass parsing and validation, whose signatures are checked together.
    let mut valid: Vec<(usize, Value<'_>)> = Vec::new();
    for (i, bytes) in objects.iter().enumerate() {
        match parse_and_validate(bytes, offset + i, &mut diagnostics) {
            Ok(value) => {
                valid.push((i, value));
                out.push(None);
            }
            Err(rejection) => out.push(Some(Received::Rejected(rejection))),
        }
    }
    let bytes: Vec<&[u8]> = valid.iter().map(|(i, _)| objects[*i].as_slice()).collect();
    let verdicts = federation.verdicts_here(partner, &bytes)?;
    for ((i, value), verdict) in valid.into_iter().zip(verdicts) {
        out[i] = Some(keep(&objects[i], &value, offset + i, verdict));
    }
    Ok(out.into_iter().flatten().collect())
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
    let value = match parse_and_validate(&bytes, index, diagnostics) {
        Ok(value) => value,
        Err(rejection) => return Ok(Received::Rejected(rejection)),
    };
    let verdict = federation.verdict(partner, &bytes)?;
    Ok(keep(&bytes, &value, index, verdict))
}

/// The rejection naming the object `id`, or its place when it has none.
fn rejection(id: Option<&str>, index: usize, reason: String) -> Rejection {
    Rejection {
        object: id.map_or_else(|| format!("objects[{index}]"), str::to_owned),
        reason,
    }
}

/// Parses strictly and validates: the object, or why it is refused.
fn parse_and_validate<'b>(
    bytes: &'b [u8],
    index: usize,
    diagnostics: &mut Vec<Diagnostic>,
) -> Result<Value<'b>, Rejection> {
    let value = match json::parse(bytes) {
        Ok(value) => value,
        Err(e) => return Err(rejection(None, index, format!("invalid JSON: {e}"))),
    };
    let Some(map) = value.as_object() else {
        return Err(rejection(None, index, "not a JSON object".to_owned()));
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
        return Err(rejection(
            id,
            index,
            format!("invalid STIX: {property}{} [{}]", first.message, first.rule),
        ));
    }
    Ok(value)
}

/// A valid object with its verdict: kept with its query columns, or refused.
fn keep(bytes: &[u8], value: &Value<'_>, index: usize, verdict: Verdict) -> Received {
    let map = value.as_object();
    let id = map.and_then(|m| m.get("id")).and_then(|v| v.as_str());
    if let Verdict::Reject { reason, .. } = verdict {
        return Received::Rejected(rejection(id, index, reason));
    }
    let Some(map) = map else {
        return Received::Rejected(rejection(None, index, "not a JSON object".to_owned()));
    };
    match NewObject::from_object(bytes.to_vec(), map) {
        Ok(object) => Received::Keep {
            object: Box::new(object),
            verdict,
        },
        Err(e) => Received::Rejected(rejection(id, index, e.to_string())),
    }
}
