//! Status resources (TAXII §4.3): the outcome of one POST, kept readable afterwards.

use serde_json::Value;
use uuid::Uuid;

use crate::error::{Result, StoreError};
use crate::object::AddOutcome;
use crate::time::Micros;

/// One object's line in a status: its id, version and an optional message (TAXII status-details).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusDetail {
    /// The object id.
    pub id: String,
    /// The object version, as written.
    pub version: String,
    /// Why it failed, or a note.
    pub message: Option<String>,
}

/// A status resource as stored.
///
/// `status`, `success_count`, `failure_count` and `pending_count` of the TAXII resource
/// derive from these lists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status {
    /// The status id.
    pub id: Uuid,
    /// The account that posted; only it (or an admin) may read the status.
    pub account: String,
    /// When the request was received.
    pub request_timestamp: Micros,
    /// How many objects the request held.
    pub total_count: u64,
    /// Objects stored (or already present).
    pub successes: Vec<StatusDetail>,
    /// Objects rejected, each with its reason.
    pub failures: Vec<StatusDetail>,
    /// Objects not yet processed.
    pub pendings: Vec<StatusDetail>,
}

impl Status {
    /// Whether processing is finished (TAXII `status` is `complete`, else `pending`).
    pub fn is_complete(&self) -> bool {
        self.pendings.is_empty()
    }
}

/// Makes the status of an Add Objects request from the outcomes of the objects it
/// stored (in the order given to the store), for [`Store::add_objects_with_status`]
/// (crate::Store::add_objects_with_status). It may be called more than once (a backend
/// may retry its transaction), so it must give the same status for the same outcomes.
pub type StatusOf = Box<dyn Fn(&[AddOutcome]) -> Status + Send + Sync>;

/// The stored form of a status's detail lists, one JSON text every backend keeps whole:
/// `{"successes":[[id,version,message|null],...],"failures":[...],"pendings":[...]}`.
pub(crate) fn details_json(status: &Status) -> String {
    // Serialised from borrowed tuples (a JSON array each), not through a `Value` tree:
    // this runs in the write transaction of every posted envelope, and building the
    // tree cost an allocation per string.
    type Line<'a> = (&'a str, &'a str, Option<&'a str>);
    fn list(details: &[StatusDetail]) -> Vec<Line<'_>> {
        details
            .iter()
            .map(|d| (d.id.as_str(), d.version.as_str(), d.message.as_deref()))
            .collect()
    }
    let lists: [(&str, Vec<Line<'_>>); 3] = [
        ("successes", list(&status.successes)),
        ("failures", list(&status.failures)),
        ("pendings", list(&status.pendings)),
    ];
    let map: std::collections::BTreeMap<&str, Vec<Line<'_>>> = lists.into_iter().collect();
    // Strings and tuples of strings always serialise.
    serde_json::to_string(&map).unwrap_or_default()
}

/// One list (`key`) of [`details_json`]'s text; malformed text is a [`StoreError::Backend`].
pub(crate) fn parse_details(text: &str, key: &str) -> Result<Vec<StatusDetail>> {
    let corrupt = || StoreError::backend(format!("stored status details ({key}) are malformed"));
    let value: Value = serde_json::from_str(text).map_err(|e| StoreError::Backend(Box::new(e)))?;
    let Some(items) = value.get(key).and_then(Value::as_array) else {
        return Err(corrupt());
    };
    items
        .iter()
        .map(|item| match item.as_array().map(Vec::as_slice) {
            Some([Value::String(id), Value::String(version), message]) => Ok(StatusDetail {
                id: id.clone(),
                version: version.clone(),
                message: message.as_str().map(str::to_owned),
            }),
            _ => Err(corrupt()),
        })
        .collect()
}
