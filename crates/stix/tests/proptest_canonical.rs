//! Properties of RFC 8785 canonical JSON and deterministic SCO ids on generated
//! values: the canonical form is stable (canonicalising it again changes
//! nothing), does not depend on key order or whitespace, and SCO ids follow it.

mod proptest_support;

use proptest::prelude::*;
use proptest_support::{json_value, style, styled};
use stix::canonical::to_canonical_vec;
use stix::json::{self, Map, Value};

/// The same value with the keys of every object in reverse order.
fn reversed(value: &Value<'static>) -> Value<'static> {
    match value {
        Value::Object(map) => {
            let entries: Vec<_> = map
                .iter()
                .map(|(k, v)| (k.to_owned(), reversed(v)))
                .collect();
            let mut out = Map::new();
            for (k, v) in entries.into_iter().rev() {
                out.insert(k, v);
            }
            Value::Object(out)
        }
        Value::Array(items) => Value::Array(items.iter().map(reversed).collect()),
        other => other.clone(),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn the_canonical_form_is_stable(v in json_value()) {
        // Numbers too large for a double have no canonical form; that is an error, not a panic.
        let Ok(canonical) = to_canonical_vec(&v) else { return Ok(()) };
        let parsed = json::parse(&canonical).map_err(|e| TestCaseError::fail(format!("canonical output does not parse: {e}")))?;
        let again = to_canonical_vec(&parsed).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(again, canonical);
    }

    #[test]
    fn key_order_and_whitespace_do_not_matter(v in json_value(), s in style()) {
        let Ok(canonical) = to_canonical_vec(&v) else { return Ok(()) };
        prop_assert_eq!(to_canonical_vec(&reversed(&v)).ok(), Some(canonical.clone()));
        let restyled = styled(&v, &s);
        let reparsed = json::parse(restyled.as_bytes()).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(to_canonical_vec(&reparsed).ok(), Some(canonical));
    }

    #[test]
    fn sco_ids_do_not_depend_on_key_order(value in "[a-z0-9.-]{1,40}", extra in "[a-z]{3,10}") {
        let text = format!(r#"{{"type": "domain-name", "spec_version": "2.1", "id": "domain-name--00000000-0000-4000-8000-000000000000", "value": "{value}.example", "x_{extra}": 1}}"#);
        let object = json::parse(text.as_bytes()).map_err(|e| TestCaseError::fail(e.to_string()))?.into_owned();
        let map = object.as_object().cloned().unwrap_or_default();
        let flipped = reversed(&object);
        let flipped = flipped.as_object().cloned().unwrap_or_default();
        let a = stix::sco_id::deterministic_id(&map).and_then(Result::ok);
        let b = stix::sco_id::deterministic_id(&flipped).and_then(Result::ok);
        prop_assert!(a.is_some());
        prop_assert_eq!(a, b);
    }
}
