//! The TAXII 2.1 resources as serde types (§3.6.1, §3.7, §4, §5), the
//! envelope writer that splices stored object bytes, and TAXII timestamps.
//!
//! Optional properties are left out when absent and empty lists are never
//! written (§2: "empty lists are prohibited"); `more` is written only when true,
//! so an empty result is the empty object the specification asks for.

use bytes::Bytes;
use serde::{Deserialize, Serialize};
use stix::Timestamp;
use store::JoinedPage;

/// The TAXII 2.1 media type, with its version parameter, sent on every response.
pub const TAXII_MEDIA_TYPE: &str = "application/taxii+json;version=2.1";
/// The STIX 2.1 media type of the objects our collections hold.
pub const STIX_MEDIA_TYPE: &str = "application/stix+json;version=2.1";

fn is_false(b: &bool) -> bool {
    !*b
}

/// The discovery resource (§4.1.1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Discovery {
    /// Name of the server.
    pub title: String,
    /// What the server holds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Who runs it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact: Option<String>,
    /// The default API root; one of `api_roots`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<String>,
    /// The advertised API roots (absolute HTTPS URLs or paths starting with one `/`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub api_roots: Vec<String>,
}

/// The API root resource (§4.2.1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiRoot {
    /// Name of the API root.
    pub title: String,
    /// What it is for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The TAXII media types it speaks, with their version parameter.
    pub versions: Vec<String>,
    /// The largest request body accepted, in bytes.
    pub max_content_length: u64,
}

/// The collections resource (§5.1.1).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Collections {
    /// The collections the requester may use; absent when there are none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub collections: Vec<Collection>,
}

/// The collection resource (§5.2.1), as seen by one requester.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Collection {
    /// The collection's identifier (a UUID).
    pub id: String,
    /// Its name.
    pub title: String,
    /// What it holds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// A name unique within the API root that may stand for the id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alias: Option<String>,
    /// Whether the requester may read objects.
    pub can_read: bool,
    /// Whether the requester may add objects.
    pub can_write: bool,
    /// The media types of the objects it holds.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub media_types: Vec<String>,
}

/// The envelope (§3.7), for reading one back (tests, clients). The server
/// writes envelopes with [`write_envelope`] so stored bytes are not re-serialised.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Envelope {
    /// Whether more results are available.
    #[serde(default, skip_serializing_if = "is_false")]
    pub more: bool,
    /// Where the next page starts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
    /// The objects.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub objects: Vec<serde_json::Value>,
}

/// The manifest resource (§5.3.1). `next` is not in the specification's table
/// for this resource, but clients page manifests the way they page envelopes
/// (taxii2-client's `as_pages` sends the `next` it finds), so it is given too.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Manifest {
    /// Whether more results are available.
    #[serde(default, skip_serializing_if = "is_false")]
    pub more: bool,
    /// Where the next page starts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
    /// One record per object version.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub objects: Vec<ManifestRecord>,
}

/// One version of one object in a manifest (§5.3.1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManifestRecord {
    /// The object's id.
    pub id: String,
    /// When this version was added to the collection (TAXII timestamp).
    pub date_added: String,
    /// The version: `modified`, else `created`, else the date added.
    pub version: String,
    /// The media type this version can be requested in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
}

/// The versions resource (§5.8.1); `next` as for [`Manifest`].
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Versions {
    /// Whether more results are available.
    #[serde(default, skip_serializing_if = "is_false")]
    pub more: bool,
    /// Where the next page starts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
    /// The versions, oldest added first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub versions: Vec<String>,
}

/// Whether a status may still change (§4.3.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StatusKind {
    /// Will not change any more.
    Complete,
    /// May still change.
    Pending,
}

/// The status resource (§4.3.1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Status {
    /// The status identifier (a UUID).
    pub id: String,
    /// Complete or pending.
    pub status: StatusKind,
    /// When the request was received (TAXII timestamp).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_timestamp: Option<String>,
    /// Objects in the request.
    pub total_count: u64,
    /// Objects added (or already present).
    pub success_count: u64,
    /// Those objects.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub successes: Vec<StatusDetails>,
    /// Objects refused.
    pub failure_count: u64,
    /// Those objects, each with the reason.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub failures: Vec<StatusDetails>,
    /// Objects not processed yet.
    pub pending_count: u64,
    /// Those objects.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pendings: Vec<StatusDetails>,
}

/// One object in a status resource (§4.3.1, `status-details`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusDetails {
    /// The object's id.
    pub id: String,
    /// The object's version.
    pub version: String,
    /// Why it failed, or other detail.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// The error message (§3.6.1).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ErrorMessage {
    /// Short human-readable title.
    pub title: String,
    /// What went wrong and what to do.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// This occurrence: the request id, so a report can be matched with the logs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_id: Option<String>,
    /// A stable code for the kind of error.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_code: Option<String>,
    /// The HTTP status, as a string, equal to the response's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http_status: Option<String>,
    /// A URL with more about the error.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_details: Option<String>,
    /// Structured detail.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub details: Option<serde_json::Map<String, serde_json::Value>>,
}

/// Writes an envelope around objects given as their exact JSON bytes, so that
/// what was stored is served byte for byte.
pub fn write_envelope<'a>(
    more: bool,
    next: Option<&str>,
    objects: impl IntoIterator<Item = &'a [u8]>,
) -> Vec<u8> {
    let mut objects = objects.into_iter().peekable();
    let has_objects = objects.peek().is_some();
    envelope(more, next, has_objects, 256, |out| {
        for (i, bytes) in objects.enumerate() {
            if i > 0 {
                out.push(b',');
            }
            out.extend_from_slice(bytes);
        }
    })
}

/// [`write_envelope`] around a page of objects already joined by commas, written
/// around them where they lie ([`JoinedPage::wrap`]): the page is not copied.
pub fn joined_envelope(page: JoinedPage) -> Bytes {
    let next = page.next.as_ref().map(|c| c.encode());
    let has_objects = page.count > 0;
    let head = envelope_head(
        page.more,
        next.as_deref(),
        has_objects,
        JoinedPage::HEAD_ROOM,
    );
    let (buffer, start) = page.wrap(&head, envelope_tail(has_objects));
    Bytes::from(buffer).slice(start..)
}

/// An envelope: `more`, `next` and, when there are objects, the array
/// `write_objects` fills.
fn envelope(
    more: bool,
    next: Option<&str>,
    has_objects: bool,
    capacity: usize,
    write_objects: impl FnOnce(&mut Vec<u8>),
) -> Vec<u8> {
    let mut out = envelope_head(more, next, has_objects, capacity);
    if has_objects {
        write_objects(&mut out);
    }
    out.extend_from_slice(envelope_tail(has_objects));
    out
}

/// An envelope up to its first object: `{`, `more`, `next` and, when there are
/// objects, the opening of their array.
fn envelope_head(more: bool, next: Option<&str>, has_objects: bool, capacity: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(capacity);
    out.push(b'{');
    let mut first_key = true;
    if more {
        out.extend_from_slice(b"\"more\":true");
        first_key = false;
    }
    if let Some(next) = next {
        if !first_key {
            out.push(b',');
        }
        out.extend_from_slice(b"\"next\":");
        // A string is always serialisable; the fallback keeps this total.
        let quoted = serde_json::to_string(next).unwrap_or_else(|_| String::from("\"\""));
        out.extend_from_slice(quoted.as_bytes());
        first_key = false;
    }
    if has_objects {
        if !first_key {
            out.push(b',');
        }
        out.extend_from_slice(b"\"objects\":[");
    }
    out
}

/// What closes an envelope [`envelope_head`] opened.
fn envelope_tail(has_objects: bool) -> &'static [u8] {
    if has_objects { b"]}" } else { b"}" }
}

/// A TAXII timestamp (§2): UTC with exactly microsecond precision, from
/// microseconds since the Unix epoch.
pub fn taxii_timestamp(micros: i64) -> String {
    let ts = Timestamp {
        seconds: micros.div_euclid(1_000_000),
        // rem_euclid keeps this in 0..1_000_000, so the product fits.
        nanos: u32::try_from(micros.rem_euclid(1_000_000)).unwrap_or(0) * 1000,
        fraction_digits: 6,
    };
    ts.to_string()
}

/// Microseconds since the Unix epoch of a timestamp, rounded down: a
/// `date_added` (whole microseconds) is after `ts` exactly when it is after this.
pub fn timestamp_micros(ts: &Timestamp) -> i64 {
    ts.seconds
        .saturating_mul(1_000_000)
        .saturating_add(i64::from(ts.nanos / 1000))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn empty_resources_are_empty_objects() {
        assert_eq!(
            serde_json::to_value(Manifest::default()).unwrap(),
            json!({})
        );
        assert_eq!(
            serde_json::to_value(Versions::default()).unwrap(),
            json!({})
        );
        assert_eq!(
            serde_json::to_value(Collections::default()).unwrap(),
            json!({})
        );
        assert_eq!(write_envelope(false, None, []), b"{}");
    }

    #[test]
    fn joined_envelope_is_the_envelope_of_the_objects() {
        let (a, b) = (&br#"{"id":"a"}"#[..], &br#"{"id":"b"}"#[..]);
        let cursor = store::Cursor {
            after: store::Micros(1_714_564_800_123_456),
        };
        for (more, next) in [(false, None), (true, Some(cursor))] {
            for objects in [vec![], vec![a], vec![a, b]] {
                let mut page = JoinedPage::default();
                (page.more, page.next) = (more, next);
                for object in &objects {
                    page.push(object);
                }
                let encoded = next.map(|c| c.encode());
                assert_eq!(
                    joined_envelope(page),
                    write_envelope(more, encoded.as_deref(), objects.iter().copied()),
                );
            }
        }
    }

    #[test]
    fn envelope_splices_bytes() {
        let a: &[u8] = br#"{"type":"x","n":1.50}"#;
        let b: &[u8] = br#"{"type":"y"}"#;
        let out = write_envelope(true, Some("abc\"d"), [a, b]);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            r#"{"more":true,"next":"abc\"d","objects":[{"type":"x","n":1.50},{"type":"y"}]}"#
        );
        let out = write_envelope(false, None, [a]);
        assert_eq!(out, br#"{"objects":[{"type":"x","n":1.50}]}"#);
    }

    #[test]
    fn status_serialises_as_the_spec() {
        let status = Status {
            id: "2d086da7-4bdc-4f91-900e-d77486753710".into(),
            status: StatusKind::Complete,
            request_timestamp: Some(taxii_timestamp(0)),
            total_count: 1,
            success_count: 0,
            successes: vec![],
            failure_count: 1,
            failures: vec![StatusDetails {
                id: "indicator--c410e480-e42b-47d1-9476-85307c12bcbf".into(),
                version: "2018-05-27T12:02:41.312Z".into(),
                message: Some("bad".into()),
            }],
            pending_count: 0,
            pendings: vec![],
        };
        assert_eq!(
            serde_json::to_value(&status).unwrap(),
            json!({
                "id": "2d086da7-4bdc-4f91-900e-d77486753710",
                "status": "complete",
                "request_timestamp": "1970-01-01T00:00:00.000000Z",
                "total_count": 1,
                "success_count": 0,
                "failure_count": 1,
                "failures": [{
                    "id": "indicator--c410e480-e42b-47d1-9476-85307c12bcbf",
                    "version": "2018-05-27T12:02:41.312Z",
                    "message": "bad"
                }],
                "pending_count": 0
            })
        );
    }

    #[test]
    fn taxii_timestamps_have_microseconds() {
        assert_eq!(
            taxii_timestamp(1_500_000_000_123_456),
            "2017-07-14T02:40:00.123456Z"
        );
        assert_eq!(taxii_timestamp(-1), "1969-12-31T23:59:59.999999Z");
        let ts = Timestamp::parse("2017-07-14T02:40:00.1234569Z").unwrap();
        assert_eq!(timestamp_micros(&ts), 1_500_000_000_123_456);
    }

    #[test]
    fn error_message_has_string_status() {
        let e = ErrorMessage {
            title: "Not found".into(),
            http_status: Some("404".into()),
            ..Default::default()
        };
        assert_eq!(
            serde_json::to_value(e).unwrap(),
            json!({"title": "Not found", "http_status": "404"})
        );
    }
}
