//! The objects endpoints: Get Objects and Add Objects (`.../objects/`, §5.4,
//! §5.5), Get an Object and Delete an Object (`.../objects/{object-id}/`, §5.6,
//! §5.7).
//!
//! Add Objects reads the envelope with `stix::bundle::ObjectReader`, validates
//! each object on its own, stores the valid ones in one batch and answers 202
//! with a complete status that lists every object. Reading serves the stored
//! bytes spliced into the envelope.
//!
//! For an account tied to a partner, reads serve what its agreement discloses
//! and posted objects are stored as their signature check says
//! ([`crate::partner`]); such an account may not delete.

use std::ops::ControlFlow;

use axum::body::Body;
use axum::extract::{Path, Request, State};
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::Response;
use bytes::Bytes;
use stix::bundle::{ObjectReader, ParsedObject, ReadError, ReaderLimits, Shape};
use stix::json::{self, Value};
use stix::{Diagnostic, Severity};
use store::{AddOutcome, DeleteFilter, JoinedPage, NewObject, Provenance, StatusDetail};

use crate::auth::{self, Need};
use crate::error::TaxiiError;
use crate::filters::{self, Endpoint};
use crate::media::{self, Accepts};
use crate::pages;
use crate::partner::{self, Reach, Refusal, Use};
use crate::resources::joined_envelope;
use crate::state::AppState;
use crate::status;

/// `GET {api-root}/collections/{id}/objects/`.
pub async fn list(
    State(state): State<AppState>,
    Path(collection): Path<String>,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Response, TaxiiError> {
    media::check_accept_headers(&headers, Accepts::TaxiiOrStix)?;
    let who = auth::authenticate(&state, &headers).await?;
    let filters = filters::parse(uri.query(), Endpoint::Objects)?;
    let (collection, _) = auth::collection_for(&state, &who, &collection, Need::Read).await?;
    let query = pages::object_query(&state, &filters)?;
    let page = objects_page(&state, &who, collection.id, query, Reach::List).await?;
    Ok(envelope_response(page))
}

/// `GET {api-root}/collections/{id}/objects/{object-id}/`.
pub async fn get(
    State(state): State<AppState>,
    Path((collection, object_id)): Path<(String, String)>,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Response, TaxiiError> {
    media::check_accept_headers(&headers, Accepts::TaxiiOrStix)?;
    let who = auth::authenticate(&state, &headers).await?;
    let filters = filters::parse(uri.query(), Endpoint::Object)?;
    filters::check_object_id("object id", &object_id)?;
    let (collection, _) = auth::collection_for(&state, &who, &collection, Need::Read).await?;
    let mut query = pages::object_query(&state, &filters)?;
    query.ids = vec![object_id.clone()];
    let page = objects_page(&state, &who, collection.id, query, Reach::Object).await?;
    // §5.7: once deleted, fetching an object (or the version asked for) is a 404; for a
    // partner, so is an object none of whose versions asked for may go, as if unknown.
    if page.count == 0 {
        return Err(TaxiiError::NotFound(format!(
            "no object {} matching the request in this collection",
            filters::quoted(&object_id)
        )));
    }
    Ok(envelope_response(page))
}

/// The page of objects `query` selects, as `who` may be served it: as stored for
/// a local account (joined by the store as it reads them), through the partner gate
/// (ledger written) for a partner's.
async fn objects_page(
    state: &AppState,
    who: &auth::Principal,
    collection: uuid::Uuid,
    query: store::ObjectQuery,
    reach: Reach,
) -> Result<JoinedPage, TaxiiError> {
    Ok(match partner::view(state, who)? {
        None => state.store.objects_joined(collection, &query).await?,
        Some(view) => JoinedPage::from_page(
            view.page(state.store.as_ref(), collection, query, Use::Serve, reach)
                .await?,
        ),
    })
}

/// A page of objects as an envelope: stored bytes spliced in, `more`, `next`
/// and the `X-TAXII-Date-Added-*` headers.
fn envelope_response(page: JoinedPage) -> Response {
    let (first, last) = (page.first_added, page.last_added);
    pages::page_response(joined_envelope(page), first, last)
}

/// `DELETE {api-root}/collections/{id}/objects/{object-id}/`: removes the
/// versions `match[version]` selects (the latest by default, §3.4.1).
pub async fn delete(
    State(state): State<AppState>,
    Path((collection, object_id)): Path<(String, String)>,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Response, TaxiiError> {
    media::check_accept_headers(&headers, Accepts::Taxii)?;
    let who = auth::authenticate(&state, &headers).await?;
    let filters = filters::parse(uri.query(), Endpoint::DeleteObject)?;
    filters::check_object_id("object id", &object_id)?;
    let (collection, _) = auth::collection_for(&state, &who, &collection, Need::ReadWrite).await?;
    // A partner's node has no say over our copies, and a 200 or a 404 here would
    // tell it whether we hold objects its agreement withholds.
    if let Some(partner) = &who.account.partner {
        return Err(TaxiiError::Forbidden(format!(
            "account {} is the account of partner {}, which may not delete objects",
            filters::quoted(who.name()),
            filters::quoted(partner)
        )));
    }
    let filter = DeleteFilter {
        versions: pages::version_matches(&filters.versions),
        spec_versions: filters.spec_versions.clone(),
    };
    let deleted = state
        .store
        .delete_object(collection.id, &object_id, &filter)
        .await?;
    if deleted == 0 {
        return Err(TaxiiError::NotFound(format!(
            "no object {} matching the request in this collection",
            filters::quoted(&object_id)
        )));
    }
    tracing::info!(collection = %collection.id, object = %object_id, deleted, account = %who.name(), "deleted object versions");
    Ok(pages::taxii_body(StatusCode::OK, Vec::new()))
}

/// `POST {api-root}/collections/{id}/objects/`.
pub async fn add(
    State(state): State<AppState>,
    Path(collection): Path<String>,
    request: Request,
) -> Result<Response, TaxiiError> {
    let request_time = state.clock.now();
    let (parts, body) = request.into_parts();
    let headers = &parts.headers;
    media::check_accept_headers(headers, Accepts::Taxii)?;
    let who = auth::authenticate(&state, headers).await?;
    filters::parse(parts.uri.query(), Endpoint::Plain)?;
    let (collection, _) = auth::collection_for(&state, &who, &collection, Need::Write).await?;
    media::check_content_type(headers.get(header::CONTENT_TYPE).map(|v| v.as_bytes()))?;
    let limit = state.settings.max_content_length;
    let body = read_body(headers, body, limit).await?;

    let items = tokio::task::spawn_blocking(move || read_envelope(&body, limit))
        .await
        .map_err(|e| TaxiiError::Internal(format!("envelope reading failed: {e}")))??;

    // Valid objects go to the store in one batch; the order of the envelope is
    // kept in the draft so the status lists objects as they were sent.
    let mut draft = Draft {
        id: uuid::Uuid::new_v4(),
        account: who.name().to_owned(),
        request_timestamp: request_time,
        slots: Vec::with_capacity(items.len()),
    };
    let mut valid = Vec::new();
    for item in items {
        match item {
            Item::Valid(object) => {
                draft.slots.push(Ok(object.id.clone()));
                valid.push(*object);
            }
            Item::Invalid(detail) => draft.slots.push(Err(detail)),
        }
    }
    let record = match partner::view(&state, &who)? {
        // The objects and their status are stored in one transaction.
        None if !valid.is_empty() => {
            let provenance = Provenance::Account {
                name: who.name().to_owned(),
            };
            let status_of: store::StatusOf = Box::new(move |outcomes: &[AddOutcome]| {
                draft.status(outcomes.iter().map(|o| Ok(o.version().as_str().to_owned())))
            });
            let (_, record) = state
                .store
                .add_objects_with_status(collection.id, &provenance, valid, status_of)
                .await?;
            record
        }
        None => {
            let record = draft.status(std::iter::empty());
            state.store.create_status(&record).await?;
            record
        }
        Some(view) => {
            let outcomes = if valid.is_empty() {
                Vec::new()
            } else {
                view.receive(state.store.as_ref(), collection.id, valid)
                    .await?
            };
            let record = draft.status(
                outcomes
                    .into_iter()
                    .map(|outcome| outcome.map(|o| o.version().as_str().to_owned())),
            );
            state.store.create_status(&record).await?;
            record
        }
    };
    tracing::info!(
        collection = %collection.id,
        account = %who.name(),
        status = %record.id,
        total = record.total_count,
        succeeded = record.successes.len(),
        failed = record.failures.len(),
        "objects posted"
    );
    Ok(pages::taxii_json(
        StatusCode::ACCEPTED,
        &status::to_resource(&record),
    ))
}

/// The status of an Add Objects request before the store has answered: every object of
/// the envelope in order, by the id of one sent to the store or the failure of one
/// refused before it.
struct Draft {
    id: uuid::Uuid,
    account: String,
    request_timestamp: store::Micros,
    slots: Vec<Result<String, StatusDetail>>,
}

impl Draft {
    /// The complete status, given the outcome of each object sent to the store, in
    /// order: the version it is held at, or why it is a failure. An object the store
    /// gave no outcome for is a failure that says so (a store keeps one per object).
    fn status(&self, outcomes: impl IntoIterator<Item = Result<String, Refusal>>) -> store::Status {
        let mut outcomes = outcomes.into_iter();
        let mut successes = Vec::new();
        let mut failures = Vec::new();
        for slot in &self.slots {
            match slot {
                Ok(id) => match outcomes.next() {
                    Some(Ok(version)) => successes.push(StatusDetail {
                        id: id.clone(),
                        version,
                        message: None,
                    }),
                    Some(Err(refusal)) => failures.push(StatusDetail {
                        id: id.clone(),
                        version: refusal.version,
                        message: Some(refusal.message),
                    }),
                    None => failures.push(StatusDetail {
                        id: id.clone(),
                        version: String::new(),
                        message: Some("not stored: the store gave no outcome for it".into()),
                    }),
                },
                Err(detail) => failures.push(detail.clone()),
            }
        }
        store::Status {
            id: self.id,
            account: self.account.clone(),
            request_timestamp: self.request_timestamp,
            total_count: self.slots.len() as u64,
            successes,
            failures,
            pendings: Vec::new(),
        }
    }
}

/// Reads a request body, refusing with 413 one longer than `limit` bytes,
/// whether its length is announced or not.
async fn read_body(headers: &HeaderMap, body: Body, limit: u64) -> Result<Bytes, TaxiiError> {
    let announced = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if announced.is_some_and(|n| n > limit) {
        return Err(TaxiiError::PayloadTooLarge { limit });
    }
    let max = usize::try_from(limit).unwrap_or(usize::MAX);
    axum::body::to_bytes(body, max).await.map_err(|e| {
        let too_large = std::error::Error::source(&e)
            .is_some_and(|s| s.is::<http_body_util::LengthLimitError>())
            || e.to_string().contains("length limit");
        if too_large {
            TaxiiError::PayloadTooLarge { limit }
        } else {
            TaxiiError::BadRequest(format!("cannot read the request body: {e}"))
        }
    })
}

/// One object of a posted envelope, after reading and validation.
#[derive(Debug)]
enum Item {
    Valid(Box<NewObject>),
    Invalid(StatusDetail),
}

fn failure(id: String, version: String, message: String) -> Item {
    Item::Invalid(StatusDetail {
        id,
        version,
        message: Some(message),
    })
}

/// Reads every object of an envelope and validates each. A broken envelope
/// (not JSON, not an object with an `objects` list, truncated) is a 422 and
/// nothing of it is stored; a bad object is only that object's failure.
///
/// Each object is parsed once, where it lies in the body, and its bytes are
/// copied once, into the [`NewObject`] that goes to the store.
fn read_envelope(body: &[u8], max_object_bytes: u64) -> Result<Vec<Item>, TaxiiError> {
    // A list at the top is never an envelope: say so before reading any of it.
    if body.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'[') {
        return Err(not_an_envelope());
    }
    let limits = ReaderLimits {
        max_object_bytes: usize::try_from(max_object_bytes).unwrap_or(usize::MAX),
    };
    let mut reader = ObjectReader::with_limits(body, limits);
    let mut items = Vec::new();
    let mut diagnostics = Vec::new();
    // Whether the first value read had only envelope properties; it matters when the
    // body turns out to be a single top-level object rather than a list of objects.
    let mut first_is_empty_envelope = false;
    let end = reader.for_each_parsed(json::Limits::default(), |item| {
        let item = match item {
            Ok(parsed) => {
                if items.is_empty() {
                    first_is_empty_envelope = parsed.value.as_ref().is_ok_and(is_empty_envelope);
                }
                check_object(&parsed, &mut diagnostics)
            }
            Err(ReadError::TooLarge { index, limit, .. }) => failure(
                format!("objects[{index}]"),
                String::new(),
                format!("the object is larger than {limit} bytes"),
            ),
            // Skipped objects (not UTF-8): only that object fails.
            Err(e) => failure(
                format!("objects[{}]", e.object_index().unwrap_or_default()),
                String::new(),
                e.to_string(),
            ),
        };
        items.push(item);
        ControlFlow::Continue(())
    });
    if let Err(e) = end {
        return Err(TaxiiError::Unprocessable(format!(
            "the request body is not a readable TAXII envelope: {e}"
        )));
    }
    match reader.shape() {
        Some(Shape::Container) => Ok(items),
        // `{}` or `{"more": false}`: an envelope without objects (§3.7).
        Some(Shape::Single) if first_is_empty_envelope => Ok(Vec::new()),
        _ => Err(not_an_envelope()),
    }
}

/// A top-level object with only envelope properties and no `objects` list.
fn is_empty_envelope(value: &Value<'_>) -> bool {
    value.as_object().is_some_and(|map| {
        map.get("type").is_none() && map.get("id").is_none() && map.get("objects").is_none()
    })
}

fn not_an_envelope() -> TaxiiError {
    TaxiiError::Unprocessable(
        "the request body must be a TAXII envelope: a JSON object with an \"objects\" list (§3.7)"
            .into(),
    )
}

/// Validates one parsed object; the first error is its failure message.
/// `diagnostics` is scratch space reused between objects.
fn check_object(parsed: &ParsedObject<'_>, diagnostics: &mut Vec<Diagnostic>) -> Item {
    let fallback_id = || format!("objects[{}]", parsed.raw.index);
    let value = match &parsed.value {
        Ok(value) => value,
        Err(e) => {
            return failure(
                fallback_id(),
                String::new(),
                format!(
                    "not valid JSON at byte {} of the object: {}",
                    e.offset, e.kind
                ),
            );
        }
    };
    let text = |key: &str| value.get(key).and_then(|v| v.as_str()).map(str::to_owned);
    let Some(map) = value.as_object() else {
        return failure(
            fallback_id(),
            String::new(),
            "the object is not a JSON object".into(),
        );
    };
    diagnostics.clear();
    stix::validate::validate_object_into(value, diagnostics);
    let failed = |message: String| {
        let id = text("id").unwrap_or_else(fallback_id);
        let version = text("modified")
            .or_else(|| text("created"))
            .unwrap_or_default();
        failure(id, version, message)
    };
    if let Some(error) = diagnostics.iter().find(|d| d.severity == Severity::Error) {
        return failed(error.to_string());
    }
    match NewObject::from_object(parsed.raw.bytes.to_vec(), map) {
        Ok(object) => Item::Valid(Box::new(object)),
        Err(e) => failed(e.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"{"type":"indicator","spec_version":"2.1","id":"indicator--c410e480-e42b-47d1-9476-85307c12bcbf","created":"2018-05-27T12:02:41.312Z","modified":"2018-05-27T12:02:41.312Z","pattern":"[ipv4-addr:value = '1.2.3.4']","pattern_type":"stix","valid_from":"2018-05-27T12:02:41.312Z"}"#;

    fn read(body: &str) -> Result<Vec<Item>, TaxiiError> {
        read_envelope(body.as_bytes(), 1 << 20)
    }

    #[test]
    fn good_and_bad_objects_side_by_side() {
        let bad = GOOD.replace(
            "\"modified\":\"2018-05-27T12:02:41.312Z\"",
            "\"modified\":\"yesterday\"",
        );
        let items = read(&format!(
            r#"{{"objects":[{GOOD},{bad},[1],{{"a":1,"a":2}}]}}"#
        ))
        .unwrap();
        assert_eq!(items.len(), 4);
        assert!(matches!(&items[0], Item::Valid(o) if o.id.starts_with("indicator--")));
        let Item::Invalid(detail) = &items[1] else {
            panic!()
        };
        assert_eq!(detail.id, "indicator--c410e480-e42b-47d1-9476-85307c12bcbf");
        let message = detail.message.as_deref().unwrap();
        assert!(message.contains("modified"), "{message}");
        let Item::Invalid(detail) = &items[2] else {
            panic!()
        };
        assert_eq!(detail.id, "objects[2]");
        let Item::Invalid(detail) = &items[3] else {
            panic!()
        };
        assert!(detail.message.as_deref().unwrap().contains("duplicate key"));
    }

    #[test]
    fn a_status_lists_objects_as_sent() {
        let detail = |id: &str, message: Option<&str>| StatusDetail {
            id: id.into(),
            version: String::new(),
            message: message.map(str::to_owned),
        };
        let draft = Draft {
            id: uuid::Uuid::from_u128(1),
            account: "alice".into(),
            request_timestamp: store::Micros(5),
            slots: vec![
                Ok("a".into()),
                Err(detail("objects[1]", Some("not JSON"))),
                Ok("b".into()),
                Ok("c".into()),
            ],
        };
        let refused = Refusal {
            version: "v-b".into(),
            message: "quarantined".into(),
        };
        // The store answered for two of the three objects it was given.
        let status = draft.status([Ok("v-a".to_owned()), Err(refused)]);
        assert_eq!(status.total_count, 4);
        assert_eq!(status.successes.len(), 1);
        assert_eq!(
            (
                status.successes[0].id.as_str(),
                status.successes[0].version.as_str()
            ),
            ("a", "v-a")
        );
        let failed: Vec<_> = status
            .failures
            .iter()
            .map(|d| (d.id.as_str(), d.version.as_str()))
            .collect();
        assert_eq!(failed, [("objects[1]", ""), ("b", "v-b"), ("c", "")]);
        assert!(
            status.failures[2]
                .message
                .as_deref()
                .unwrap()
                .contains("no outcome")
        );
        assert!(status.is_complete());
    }

    #[test]
    fn broken_envelopes_are_422() {
        for body in [
            "",
            "not json",
            "[]",
            &format!("[{GOOD}]"),
            GOOD,
            &format!(r#"{{"objects":[{GOOD}"#),
            r#"{"objects":[{"a":1}] garbage"#,
        ] {
            let e = read(body).unwrap_err();
            assert_eq!(e.status(), StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        }
    }

    #[test]
    fn empty_envelopes_hold_nothing() {
        assert!(read("{}").unwrap().is_empty());
        assert!(read(r#"{"objects":[]}"#).unwrap().is_empty());
        assert!(read(r#"{"more":false,"objects":[]}"#).unwrap().is_empty());
    }

    #[test]
    fn deep_nesting_fails_one_object() {
        let deep = format!(
            r#"{{"type":"x-deep","id":"x-deep--c410e480-e42b-47d1-9476-85307c12bcbf","x":{}{}}}"#,
            "[".repeat(500),
            "]".repeat(500)
        );
        let items = read(&format!(r#"{{"objects":[{deep},{GOOD}]}}"#)).unwrap();
        assert!(
            matches!(&items[0], Item::Invalid(d) if d.message.as_deref().unwrap().contains("deeper"))
        );
        assert!(matches!(&items[1], Item::Valid(_)));
    }

    #[test]
    fn invalid_utf8_fails_one_object() {
        let mut body = br#"{"objects":[{"type":"x","name":""#.to_vec();
        body.extend_from_slice(b"\xff\xfe");
        body.extend_from_slice(br#""},"#);
        body.extend_from_slice(GOOD.as_bytes());
        body.extend_from_slice(b"]}");
        let items = read_envelope(&body, 1 << 20).unwrap();
        assert!(
            matches!(&items[0], Item::Invalid(d) if d.message.as_deref().unwrap().contains("UTF-8"))
        );
        assert!(matches!(&items[1], Item::Valid(_)));
    }
}
