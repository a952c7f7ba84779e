//! From parsed [`Filters`] to a store query, and from a store page to a TAXII
//! response: the `next` cursor, the `X-TAXII-Date-Added-First/-Last` headers
//! (§3.2) and the TAXII media type on every body.

use axum::body::Body;
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use store::{Cursor, Micros, ObjectQuery, Version, VersionMatch};

use crate::error::TaxiiError;
use crate::filters::{Filters, VersionFilter, quoted};
use crate::resources::TAXII_MEDIA_TYPE;
use crate::state::AppState;

/// `X-TAXII-Date-Added-First`.
pub const DATE_ADDED_FIRST: HeaderName = HeaderName::from_static("x-taxii-date-added-first");
/// `X-TAXII-Date-Added-Last`.
pub const DATE_ADDED_LAST: HeaderName = HeaderName::from_static("x-taxii-date-added-last");

/// The store's version filter for `match[version]`.
pub fn version_matches(filter: &VersionFilter) -> Vec<VersionMatch> {
    match filter {
        VersionFilter::All => vec![VersionMatch::All],
        VersionFilter::Select { first, last, at } => {
            let mut out = Vec::with_capacity(at.len() + 2);
            if *first {
                out.push(VersionMatch::First);
            }
            if *last {
                out.push(VersionMatch::Last);
            }
            out.extend(
                at.iter()
                    .map(|ts| VersionMatch::At(Version::from_timestamp(ts, &ts.to_string()))),
            );
            out
        }
    }
}

/// The decoded `next` parameter; one this server did not give is a 400.
pub fn cursor(next: Option<&str>) -> Result<Option<Cursor>, TaxiiError> {
    next.map(|text| {
        Cursor::decode(text).map_err(|_| {
            TaxiiError::BadRequest(format!(
                "next {} is not a value this server gave; use the next of the previous page, or added_after",
                quoted(text)
            ))
        })
    })
    .transpose()
}

/// The store query for a request's filters.
pub fn object_query(state: &AppState, filters: &Filters) -> Result<ObjectQuery, TaxiiError> {
    Ok(ObjectQuery {
        added_after: filters.added_after.as_ref().map(Micros::from_timestamp),
        ids: filters.ids.clone(),
        types: filters.types.clone(),
        versions: version_matches(&filters.versions),
        spec_versions: filters.spec_versions.clone(),
        limit: state.page_size(filters.limit),
        next: cursor(filters.next.as_deref())?,
        with_provenance: false,
    })
}

fn timestamp_header(micros: Micros) -> HeaderValue {
    // A timestamp is plain ASCII; the fallback cannot happen.
    HeaderValue::from_str(&micros.to_string()).unwrap_or(HeaderValue::from_static(""))
}

/// A 200 response with a TAXII body and, when the page has records, the
/// date-added headers.
pub fn page_response(
    body: impl Into<Body>,
    first: Option<Micros>,
    last: Option<Micros>,
) -> Response {
    let mut response = taxii_body(StatusCode::OK, body);
    let headers = response.headers_mut();
    if let Some(first) = first {
        headers.insert(DATE_ADDED_FIRST, timestamp_header(first));
    }
    if let Some(last) = last {
        headers.insert(DATE_ADDED_LAST, timestamp_header(last));
    }
    response
}

/// A response whose body is already TAXII JSON.
pub fn taxii_body(status: StatusCode, body: impl Into<Body>) -> Response {
    let mut response = (status, body.into()).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(TAXII_MEDIA_TYPE),
    );
    response
}

/// A response with a TAXII resource serialised as its body.
pub fn taxii_json(status: StatusCode, resource: &impl Serialize) -> Response {
    match serde_json::to_vec(resource) {
        Ok(body) => taxii_body(status, body),
        Err(e) => TaxiiError::Internal(format!("cannot serialise a response: {e}")).into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use stix::Timestamp;

    #[test]
    fn versions_map_to_the_store() {
        assert_eq!(version_matches(&VersionFilter::All), [VersionMatch::All]);
        assert_eq!(
            version_matches(&VersionFilter::default()),
            [VersionMatch::Last]
        );
        let ts = Timestamp::parse("2016-01-01T01:01:01Z").unwrap();
        let got = version_matches(&VersionFilter::Select {
            first: true,
            last: false,
            at: vec![ts],
        });
        assert_eq!(
            got,
            [
                VersionMatch::First,
                VersionMatch::At(Version::parse("2016-01-01T01:01:01.000Z").unwrap())
            ]
        );
    }

    #[test]
    fn forged_cursors_are_400() {
        for forged in ["abc", "djE6LTE", "djE6MDAx", "%%%"] {
            let e = cursor(Some(forged)).unwrap_err();
            assert_eq!(e.status(), StatusCode::BAD_REQUEST, "{forged}");
        }
        let good = Cursor { after: Micros(42) }.encode();
        assert_eq!(
            cursor(Some(&good)).unwrap(),
            Some(Cursor { after: Micros(42) })
        );
        assert_eq!(cursor(None).unwrap(), None);
    }
}
