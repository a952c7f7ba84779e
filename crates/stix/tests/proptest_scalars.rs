//! Round-trip properties of the scalar parsers: timestamps and identifiers.

use proptest::prelude::*;
use stix::Identifier;
use stix::timestamp::Timestamp;

fn days_in_month(year: u32, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400) => {
            29
        }
        _ => 28,
    }
}

/// A valid STIX timestamp string, with 0 to 12 fractional digits and leap
/// seconds where RFC 3339 allows them (23:59:60, never after 9999-12-31).
fn timestamp_text() -> impl Strategy<Value = String> {
    (
        0u32..=9999,
        1u32..=12,
        1u32..=31,
        prop_oneof![0u32..=23, Just(23)],
        prop_oneof![0u32..=59, Just(59)],
        prop_oneof![0u32..=60, Just(60)],
        "([.][0-9]{1,12})?",
    )
        .prop_map(|(y, mo, d, h, mi, s, frac)| {
            let d = d.min(days_in_month(y, mo));
            let leap_allowed = h == 23 && mi == 59 && (y, mo, d) != (9999, 12, 31);
            let s = if s == 60 && !leap_allowed { 59 } else { s };
            format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}{frac}Z")
        })
}

/// A syntactically valid object type: lowercase words joined by single hyphens.
fn object_type() -> impl Strategy<Value = String> {
    "[a-z][a-z0-9]{0,10}(-[a-z0-9]{1,8}){0,2}"
}

/// An RFC 4122 (variant 1) UUID of any version.
fn rfc4122_uuid() -> impl Strategy<Value = uuid::Uuid> {
    any::<u128>().prop_map(|n| {
        let n = (n & !(0b11 << 62)) | (0b10 << 62);
        uuid::Uuid::from_u128(n)
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn timestamp_display_then_parse_is_the_same_instant(text in timestamp_text()) {
        let t = Timestamp::parse(&text).map_err(|e| TestCaseError::fail(format!("{text}: {e}")))?;
        let shown = t.to_string();
        let back = Timestamp::parse(&shown)
            .map_err(|e| TestCaseError::fail(format!("{text} displays as {shown}, which does not parse: {e}")))?;
        prop_assert_eq!((back.seconds, back.nanos), (t.seconds, t.nanos), "{} → {}", text, shown);
        // Between millisecond and nanosecond precision, outside leap seconds, the text comes back as written.
        if (3..=9).contains(&t.fraction_digits) && &text[17..19] != "60" {
            prop_assert_eq!(shown, text);
        }
    }

    #[test]
    fn timestamp_parse_never_panics(s in "\\PC{0,30}|[0-9T:.Z+-]{18,26}") {
        if let Ok(t) = Timestamp::parse(&s) {
            prop_assert_eq!(Timestamp::parse(&t.to_string()).map(|b| (b.seconds, b.nanos)), Ok((t.seconds, t.nanos)));
        }
    }

    #[test]
    fn identifier_display_then_parse_round_trips(ty in object_type(), uuid in rfc4122_uuid(), upper in any::<bool>()) {
        let hex = uuid.hyphenated().to_string();
        let text = format!("{ty}--{}", if upper { hex.to_uppercase() } else { hex.clone() });
        let id = Identifier::parse(&text).map_err(|e| TestCaseError::fail(format!("{text}: {e}")))?;
        prop_assert_eq!(id.object_type, ty.as_str());
        prop_assert_eq!(id.uuid, uuid);
        let shown = id.to_string();
        prop_assert_eq!(&shown, &format!("{ty}--{hex}"));
        prop_assert_eq!(Identifier::parse(&shown), Ok(id));
    }

    #[test]
    fn identifier_parse_never_panics(s in "\\PC{0,50}|[a-z-]{1,12}--[0-9a-fA-F-]{30,40}") {
        if let Ok(id) = Identifier::parse(&s) {
            let shown = id.to_string();
            prop_assert_eq!(Identifier::parse(&shown), Ok(id));
        }
    }
}
