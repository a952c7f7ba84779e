//! Properties of the streaming object reader on generated documents: it hands
//! out exactly the elements of the `objects` list (or of a top-level array),
//! keeps the other top-level properties as the header, and skips exactly the
//! elements larger than its limit, however the input arrives.

// Test support: a failed setup step should stop the test with its message.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod proptest_support;

use std::io::{self, Read};

use proptest::prelude::*;
use proptest_support::{Style, json_object, json_string, json_value, style, styled};
use stix::bundle::{ObjectReader, ReadError, ReaderLimits, Shape};
use stix::json::{self, Map, Value};

/// Hands out at most `step` bytes per read.
struct Trickle<'a> {
    data: &'a [u8],
    step: usize,
}

impl Read for Trickle<'_> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let n = self.step.min(out.len()).min(self.data.len());
        out[..n].copy_from_slice(&self.data[..n]);
        self.data = &self.data[n..];
        Ok(n)
    }
}

/// Top-level properties, in order.
type Entries = Vec<(String, Value<'static>)>;

#[derive(Debug, Clone)]
struct Document {
    elements: Vec<Value<'static>>,
    /// Top-level properties before and after the list; `None` for a top-level array.
    header: Option<(Entries, Entries)>,
    style: Style,
}

fn header_entries() -> impl Strategy<Value = Entries> {
    prop::collection::vec((json_string(), json_value()), 0..3)
}

fn element() -> impl Strategy<Value = Value<'static>> {
    prop_oneof![4 => json_object(), 1 => json_value()]
}

fn document() -> impl Strategy<Value = Document> {
    (
        prop::collection::vec(element(), 0..8),
        prop::option::weighted(0.8, (header_entries(), header_entries())),
        style(),
    )
        .prop_map(|(elements, header, style)| {
            // Header keys are unique and never "objects", as in a valid document.
            let header = header.map(|(before, after)| {
                let mut seen = vec!["objects".to_owned()];
                let mut keep = |entries: Entries| {
                    entries
                        .into_iter()
                        .filter(|(k, _)| {
                            let new = !seen.contains(k);
                            seen.push(k.clone());
                            new
                        })
                        .collect::<Vec<_>>()
                };
                let before = keep(before);
                (before, keep(after))
            });
            Document {
                elements,
                header,
                style,
            }
        })
}

impl Document {
    /// The document's text and the exact text of each element in it.
    fn render(&self) -> (String, Vec<String>) {
        let sp = self.style.space.as_str();
        let mut out = String::from(sp);
        let elements: Vec<String> = self
            .elements
            .iter()
            .map(|e| styled(e, &self.style))
            .collect();
        let list = format!("[{sp}{}{sp}]", elements.join(&format!("{sp},{sp}")));
        match &self.header {
            None => out.push_str(&list),
            Some((before, after)) => {
                let prop = |(k, v): &(String, Value<'static>)| {
                    format!(
                        "{}{sp}:{sp}{}",
                        styled(&Value::from(k.as_str()), &self.style),
                        styled(v, &self.style)
                    )
                };
                let mut props: Vec<String> = before.iter().map(prop).collect();
                props.push(format!("\"objects\"{sp}:{sp}{list}"));
                props.extend(after.iter().map(prop));
                out.push('{');
                out.push_str(sp);
                out.push_str(&props.join(&format!("{sp},{sp}")));
                out.push_str(sp);
                out.push('}');
            }
        }
        out.push_str(sp);
        (out, elements)
    }

    fn expected_header(&self) -> Map<'static> {
        let mut map = Map::new();
        if let Some((before, after)) = &self.header {
            for (k, v) in before.iter().chain(after) {
                map.insert(k.clone(), v.clone());
            }
        }
        map
    }
}

/// Reads everything: the parsed objects with their indexes, and the errors.
fn read_all<R: Read>(
    reader: &mut ObjectReader<R>,
) -> (Vec<(usize, Value<'static>)>, Vec<ReadError>) {
    let mut objects = Vec::new();
    let mut errors = Vec::new();
    loop {
        match reader.next_object() {
            Ok(Some(raw)) => {
                let value = json::parse(raw.bytes).map(Value::into_owned);
                match value {
                    Ok(v) => objects.push((raw.index, v)),
                    Err(e) => panic!(
                        "object #{} does not parse ({e}): {:?}",
                        raw.index,
                        String::from_utf8_lossy(raw.bytes)
                    ),
                }
            }
            Ok(None) => break,
            Err(e) => {
                let fatal = !e.is_recoverable();
                errors.push(e);
                assert!(errors.len() <= 64, "the reader does not stop: {errors:?}");
                if fatal {
                    assert!(matches!(reader.next_object(), Ok(None)));
                    break;
                }
            }
        }
    }
    (objects, errors)
}

/// Reads everything with the single-pass path: values parsed in place (each
/// checked against a parse of its exact bytes), and what was reported.
fn parse_all<R: Read>(reader: &mut ObjectReader<R>) -> (Vec<(usize, Value<'static>)>, Vec<String>) {
    let mut objects = Vec::new();
    let mut errors = Vec::new();
    let end = reader.for_each_parsed(json::Limits::default(), |item| {
        match item {
            Ok(parsed) => {
                let exact = json::parse(parsed.raw.bytes).map(Value::into_owned);
                match parsed.value {
                    Ok(value) => {
                        assert_eq!(
                            exact.as_ref().ok(),
                            Some(&value),
                            "in-place and exact parses differ"
                        );
                        objects.push((parsed.raw.index, value.into_owned()));
                    }
                    Err(e) => {
                        assert!(
                            exact.is_err(),
                            "parsed in place as an error ({e}) but the exact bytes parse"
                        );
                        errors.push(format!("#{}: {e}", parsed.raw.index));
                    }
                }
            }
            Err(e) => errors.push(e.to_string()),
        }
        std::ops::ControlFlow::Continue(())
    });
    if let Err(e) = end {
        errors.push(e.to_string());
    }
    (objects, errors)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn parsing_in_place_hands_out_exactly_the_elements(doc in document(), step in 1usize..=7) {
        let (text, _) = doc.render();
        let expected: Vec<(usize, Value<'static>)> = doc.elements.iter().cloned().enumerate().collect();
        for trickle in [false, true] {
            let mut reader = if trickle {
                ObjectReader::new(Box::new(Trickle { data: text.as_bytes(), step }) as Box<dyn Read>)
            } else {
                ObjectReader::new(Box::new(text.as_bytes()) as Box<dyn Read>)
            };
            let (objects, errors) = parse_all(&mut reader);
            prop_assert!(errors.is_empty(), "errors {:?} reading {}", errors, text);
            prop_assert_eq!(&objects, &expected, "reading {}", text);
            prop_assert_eq!(reader.header(), &doc.expected_header());
        }
    }

    #[test]
    fn hands_out_exactly_the_elements(doc in document(), step in 1usize..=7) {
        let (text, _) = doc.render();
        let expected: Vec<(usize, Value<'static>)> = doc.elements.iter().cloned().enumerate().collect();
        for trickle in [false, true] {
            let mut reader = if trickle {
                ObjectReader::new(Box::new(Trickle { data: text.as_bytes(), step }) as Box<dyn Read>)
            } else {
                ObjectReader::new(Box::new(text.as_bytes()) as Box<dyn Read>)
            };
            let (objects, errors) = read_all(&mut reader);
            prop_assert!(errors.is_empty(), "errors {:?} reading {}", errors, text);
            prop_assert_eq!(&objects, &expected, "reading {}", text);
            prop_assert_eq!(
                reader.shape(),
                Some(if doc.header.is_some() { Shape::Container } else { Shape::Array })
            );
            prop_assert_eq!(reader.header(), &doc.expected_header());
            prop_assert_eq!(reader.position(), text.len() as u64);
        }
    }

    #[test]
    fn skips_exactly_the_elements_over_the_limit(doc in document(), step in 1usize..=7, limit in 1usize..64) {
        // Until it meets "objects", the reader cannot tell a container from a
        // single object and bounds the whole top-level object: keep the header after the list.
        let mut doc = doc;
        if let Some((before, _)) = doc.header.as_mut() {
            before.clear();
        }
        let (text, rendered) = doc.render();
        let mut reader = ObjectReader::with_limits(
            Trickle { data: text.as_bytes(), step },
            ReaderLimits { max_object_bytes: limit },
        );
        let (objects, errors) = read_all(&mut reader);
        let kept: Vec<(usize, Value<'static>)> = doc.elements.iter().cloned().enumerate()
            .filter(|(i, _)| rendered[*i].len() <= limit)
            .collect();
        let skipped: Vec<usize> = (0..rendered.len()).filter(|&i| rendered[i].len() > limit).collect();
        prop_assert_eq!(&objects, &kept, "reading {}", text);
        let reported: Vec<usize> = errors.iter().map(|e| match e {
            ReadError::TooLarge { index, limit: l, .. } if *l == limit => Ok(*index),
            other => Err(other.to_string()),
        }).collect::<Result<_, _>>().map_err(TestCaseError::fail)?;
        prop_assert_eq!(reported, skipped);
        prop_assert_eq!(reader.header(), &doc.expected_header());
    }

    #[test]
    fn single_objects_are_handed_out_whole(obj in json_object(), s in style(), step in 1usize..=7) {
        // A top-level object without an "objects" list is one object.
        let obj = match obj {
            Value::Object(mut m) => { m.remove("objects"); Value::Object(m) }
            other => other,
        };
        let text = styled(&obj, &s);
        let mut reader = ObjectReader::new(Trickle { data: text.as_bytes(), step });
        let (objects, errors) = read_all(&mut reader);
        prop_assert!(errors.is_empty(), "errors {:?} reading {}", errors, text);
        prop_assert_eq!(objects, vec![(0, obj)]);
        prop_assert_eq!(reader.shape(), Some(Shape::Single));
    }
}
