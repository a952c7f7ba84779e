//! Pages of objects: [`ObjectsPage`] (each object's exact bytes, split out of
//! the envelope with `stix::bundle::ObjectReader`, never re-serialised), and
//! [`ObjectPages`], which walks a collection page by page from a saved
//! [`Position`] so a caller can store each page before asking for the next.

use std::ops::ControlFlow;

use serde::{Deserialize, Serialize};
use stix::bundle::{ObjectReader, ReaderLimits, Shape};
use stix::json::{self, Map, Value};

use super::TaxiiClient;
use super::error::{ClientError, ConfigError, ErrorKind};
use super::query::Filters;

/// One page of Get Objects or Get an Object.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ObjectsPage {
    /// Each object's exact bytes as the server sent them, in envelope order,
    /// so a signature can be checked on them.
    pub objects: Vec<Vec<u8>>,
    /// Whether the server has more objects for this request.
    pub more: bool,
    /// Where the next page starts, if the server gave it.
    pub next: Option<String>,
    /// `X-TAXII-Date-Added-First`: when the first object of the page was added.
    pub date_added_first: Option<String>,
    /// `X-TAXII-Date-Added-Last`: when the last object of the page was added.
    pub date_added_last: Option<String>,
}

/// The objects, `more` and `next` of an envelope (§3.7), or what is wrong
/// with it. The date-added fields are left empty: they come from headers.
pub(crate) fn split_envelope(body: &[u8]) -> Result<ObjectsPage, String> {
    let limits = ReaderLimits {
        max_object_bytes: body.len().max(1),
    };
    let mut reader = ObjectReader::with_limits(body, limits);
    let mut objects = Vec::new();
    let mut problem = None;
    let end = reader.for_each_parsed(json::Limits::default(), |item| {
        let outcome = match item {
            Ok(parsed) => {
                let index = parsed.raw.index;
                match &parsed.value {
                    Ok(Value::Object(_)) => Ok(parsed.raw.bytes.to_vec()),
                    Ok(other) => Err(format!(
                        "objects[{index}] is not a JSON object (it is {})",
                        other.kind()
                    )),
                    Err(e) => Err(format!("objects[{index}] is not valid JSON: {e}")),
                }
            }
            Err(e) => Err(match e.object_index() {
                Some(index) => format!("objects[{index}]: {e}"),
                None => e.to_string(),
            }),
        };
        match outcome {
            Ok(bytes) => {
                objects.push(bytes);
                ControlFlow::Continue(())
            }
            Err(message) => {
                problem = Some(message);
                ControlFlow::Break(())
            }
        }
    });
    if let Err(e) = end {
        return Err(format!("the envelope is not valid JSON: {e}"));
    }
    if let Some(problem) = problem {
        return Err(problem);
    }
    match reader.shape() {
        Some(Shape::Container) => {
            let (more, next) = paging_properties(reader.header())?;
            Ok(ObjectsPage {
                objects,
                more,
                next,
                ..ObjectsPage::default()
            })
        }
        // `{}` or `{"more": false}`: the reader handed the whole object out as one.
        Some(Shape::Single) => {
            let value =
                json::parse(body).map_err(|e| format!("the envelope is not valid JSON: {e}"))?;
            let map = value
                .as_object()
                .ok_or_else(|| "the envelope is not a JSON object".to_owned())?;
            if let Some(objects) = map.get("objects") {
                return Err(format!(
                    "objects is {}, not a list of objects",
                    objects.kind()
                ));
            }
            if map.contains_key("type") || map.contains_key("id") {
                return Err("the answer is a single STIX object, not an envelope".into());
            }
            let (more, next) = paging_properties(map)?;
            Ok(ObjectsPage {
                more,
                next,
                ..ObjectsPage::default()
            })
        }
        Some(Shape::Array) => Err("the answer is a JSON array, not an envelope".into()),
        None => Err("the answer is empty, not an envelope".into()),
    }
}

fn paging_properties(map: &Map<'_>) -> Result<(bool, Option<String>), String> {
    let more = match map.get("more") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(other) => return Err(format!("more is {}, not true or false", other.kind())),
    };
    let next = match map.get("next") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.to_string()),
        Some(other) => return Err(format!("next is {}, not a string", other.kind())),
    };
    Ok((more, next))
}

/// Where a walk through a collection stands: what to send to continue after
/// the last page a caller stored. Save it with the page ([`Position::encode`])
/// and start again from it ([`TaxiiClient::object_pages`]) after a restart.
///
/// It is `added_after` = the page's `X-TAXII-Date-Added-Last` when the server
/// gives that header (durable on any server, since pages are in date-added
/// order), else the server's `next`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Position {
    /// Continue with objects added after this TAXII timestamp.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub added_after: Option<String>,
    /// Continue with this `next` value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
}

impl Position {
    /// The start of the collection.
    pub fn start() -> Position {
        Position::default()
    }

    /// A stable text form (a small JSON object), for a sync cursor.
    pub fn encode(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|_| "{}".to_owned())
    }

    /// Reads [`Position::encode`]'s text; the empty text is the start.
    pub fn decode(text: &str) -> Result<Position, ConfigError> {
        if text.trim().is_empty() {
            return Ok(Position::start());
        }
        serde_json::from_str(text).map_err(|e| ConfigError::Position(e.to_string()))
    }
}

/// A walk through a collection's objects, one page per [`ObjectPages::next_page`].
///
/// Within a walk it follows `next` (falling back to `added_after` with the
/// last date added when the server gives no `next`). A failed request leaves
/// the walk where it was, so `next_page` can simply be called again.
#[derive(Debug, Clone)]
pub struct ObjectPages {
    client: TaxiiClient,
    collection: String,
    request: Filters,
    position: Position,
    finished: bool,
}

impl ObjectPages {
    pub(crate) fn new(
        client: TaxiiClient,
        collection: &str,
        mut filters: Filters,
        from: Position,
    ) -> ObjectPages {
        if from.added_after.is_some() {
            filters.added_after = from.added_after;
        }
        if from.next.is_some() {
            filters.next = from.next;
        }
        let position = Position {
            added_after: filters.added_after.clone(),
            next: filters.next.clone(),
        };
        ObjectPages {
            client,
            collection: collection.to_owned(),
            request: filters,
            position,
            finished: false,
        }
    }

    /// The next page, or `None` once a page said there were no more.
    pub async fn next_page(&mut self) -> Result<Option<ObjectsPage>, ClientError> {
        if self.finished {
            return Ok(None);
        }
        let page = self
            .client
            .get_objects(&self.collection, &self.request)
            .await?;
        let mut position = self.position.clone();
        if let Some(last) = &page.date_added_last {
            position = Position {
                added_after: Some(last.clone()),
                next: None,
            };
        } else if !page.objects.is_empty()
            && let Some(next) = &page.next
        {
            position.next = Some(next.clone());
        }
        let mut request = self.request.clone();
        if page.more {
            match (&page.next, &page.date_added_last) {
                (Some(next), _) => request.next = Some(next.clone()),
                (None, Some(last)) => {
                    request.added_after = Some(last.clone());
                    request.next = None;
                }
                (None, None) => {
                    return Err(self.stuck(
                        "the page says more but has neither next nor X-TAXII-Date-Added-Last",
                    ));
                }
            }
            if page.objects.is_empty() && request == self.request {
                return Err(self
                    .stuck("the page says more but is empty and leads to the same request again"));
            }
        } else {
            self.finished = true;
        }
        self.request = request;
        self.position = position;
        Ok(Some(page))
    }

    /// Where to start again after the pages returned so far.
    pub fn position(&self) -> &Position {
        &self.position
    }

    /// Whether the last page said there were no more.
    pub fn is_finished(&self) -> bool {
        self.finished
    }

    fn stuck(&self, why: &str) -> ClientError {
        let url = self
            .client
            .objects_url(&self.collection, &self.request)
            .map_or_else(|e| e.request, |u| format!("GET {u}"));
        ClientError::new(
            &url,
            ErrorKind::Malformed(format!("{why}, so there is no way to the next page")),
        )
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    fn split(body: &str) -> Result<(Vec<String>, bool, Option<String>), String> {
        split_envelope(body.as_bytes()).map(|page| {
            (
                page.objects
                    .into_iter()
                    .map(|o| String::from_utf8(o).unwrap())
                    .collect(),
                page.more,
                page.next,
            )
        })
    }

    #[test]
    fn objects_keep_their_exact_bytes() {
        let (objects, more, next) =
            split(r#"{"more":true,"objects":[ {"a" : 1.50,"b":"\u00e9"} ,{}],"next":"n1"}"#)
                .unwrap();
        assert_eq!(objects, [r#"{"a" : 1.50,"b":"\u00e9"}"#, "{}"]);
        assert!(more);
        assert_eq!(next.as_deref(), Some("n1"));
    }

    #[test]
    fn empty_envelopes() {
        assert_eq!(split("{}").unwrap(), (vec![], false, None));
        assert_eq!(split(r#"{"more":false}"#).unwrap(), (vec![], false, None));
        assert_eq!(split(r#"{"objects":[]}"#).unwrap(), (vec![], false, None));
    }

    #[test]
    fn malformed_envelopes_say_what_is_wrong() {
        let cases = [
            (
                r#"{"objects":[{},{},{},5]}"#,
                "objects[3] is not a JSON object (it is a number)",
            ),
            (
                r#"{"objects":[{"a":1,"a":2}]}"#,
                "objects[0] is not valid JSON",
            ),
            (r#"{"objects":[{}"#, "the envelope is not valid JSON"),
            ("[{}]", "a JSON array, not an envelope"),
            (r#"{"objects":5}"#, "objects is a number, not a list"),
            (
                r#"{"type":"indicator","id":"indicator--x"}"#,
                "single STIX object",
            ),
            (r#"{"more":"yes","objects":[]}"#, "more is a string"),
            (r#"{"next":5,"objects":[]}"#, "next is a number"),
            ("", "not valid JSON"),
            ("null", "not valid JSON"),
            ("{} x", "trailing characters"),
        ];
        for (body, expected) in cases {
            let e = split(body).unwrap_err();
            assert!(e.contains(expected), "{body}: {e}");
        }
        let e = split_envelope(b"{\"objects\":[{\"a\":\"\xff\"}]}").unwrap_err();
        assert!(e.contains("objects[0]") && e.contains("UTF-8"), "{e}");
    }

    #[test]
    fn positions_round_trip_as_text() {
        assert_eq!(Position::start().encode(), "{}");
        assert_eq!(Position::decode("").unwrap(), Position::start());
        let p = Position {
            added_after: Some("2020-01-01T00:00:00.000001Z".into()),
            next: Some("a\"b".into()),
        };
        assert_eq!(Position::decode(&p.encode()).unwrap(), p);
        let e = Position::decode(r#"{"after":"x"}"#)
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("saved paging position: "), "{e}");
        assert!(Position::decode("garbage").is_err());
    }
}
