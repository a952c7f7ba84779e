//! Status resources (TAXII §4.3): the outcome of one POST, kept readable afterwards.

use uuid::Uuid;

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
