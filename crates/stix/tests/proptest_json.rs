//! Properties of the JSON parser and writer on generated values: what is
//! written parses back to the same value, the written form is stable, and other
//! spellings of the same value (whitespace, `\u` escapes) parse to it too.

mod proptest_support;

use proptest::prelude::*;
use proptest_support::{json_value, number_text, style, styled};
use stix::json::{self, Value};

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn parse_of_write_is_identity(v in json_value()) {
        let written = json::to_string(&v);
        let parsed = json::parse(written.as_bytes());
        prop_assert_eq!(parsed.as_ref(), Ok(&v), "written: {}", written);
    }

    #[test]
    fn written_form_is_stable(v in json_value()) {
        let written = json::to_string(&v);
        let parsed = json::parse(written.as_bytes()).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(json::to_string(&parsed), written);
    }

    #[test]
    fn other_spellings_parse_to_the_same_value(v in json_value(), s in style()) {
        let text = styled(&v, &s);
        let parsed = json::parse(text.as_bytes());
        prop_assert_eq!(parsed.as_ref(), Ok(&v), "text: {}", text);
    }

    #[test]
    fn number_text_is_kept_exactly(text in number_text()) {
        let v = json::parse(text.as_bytes()).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(v.as_number().map(|n| n.as_text()), Some(text.as_str()));
        prop_assert_eq!(json::to_string(&v), text);
    }

    #[test]
    fn truncated_documents_are_errors_not_panics(v in json_value(), cut in any::<prop::sample::Index>()) {
        let written = json::to_string(&v);
        let cut = cut.index(written.len() + 1);
        let prefix = &written.as_bytes()[..cut];
        // A strict prefix of a JSON document is only a document itself when the
        // document is a number ("12" → "1").
        if let Ok(parsed) = json::parse(prefix) {
            prop_assert!(
                cut == written.len() || matches!(parsed, Value::Number(_)),
                "prefix {:?} of {} parsed", String::from_utf8_lossy(prefix), written
            );
        }
    }
}
