//! Canonical JSON (RFC 8785, the JSON Canonicalization Scheme) of a
//! [`Value`]: object keys sorted by their UTF-16 code units, numbers in their
//! ECMAScript form, strings with the minimal escaping of RFC 8785 §3.2.2.2 and
//! no whitespace. Deterministic SCO identifiers (§2.9 of STIX 2.1) hash this form.

use std::cmp::Ordering;

use crate::json::{Number, Value, write_string};

/// Why a value has no canonical form.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CanonicalError {
    /// A number whose value is not a finite IEEE 754 double (RFC 8785 §3.2.2.3).
    #[error("the number {0} is out of the range of IEEE 754 doubles and has no canonical form")]
    NonFiniteNumber(String),
}

/// The canonical (RFC 8785) serialization of `value`, as UTF-8 bytes.
pub fn to_canonical_vec(value: &Value<'_>) -> Result<Vec<u8>, CanonicalError> {
    let mut out = Vec::new();
    write_canonical(value, &mut out)?;
    Ok(out)
}

/// The canonical serialization of `value` as a string.
pub fn to_canonical_string(value: &Value<'_>) -> Result<String, CanonicalError> {
    let bytes = to_canonical_vec(value)?;
    // Strings come from `str` and everything else written is ASCII.
    Ok(String::from_utf8(bytes).unwrap_or_default())
}

/// Appends the canonical serialization of `value` to `out`.
///
/// On error, `out` may hold part of the output.
pub fn write_canonical(value: &Value<'_>, out: &mut Vec<u8>) -> Result<(), CanonicalError> {
    match value {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Bool(true) => out.extend_from_slice(b"true"),
        Value::Bool(false) => out.extend_from_slice(b"false"),
        Value::Number(n) => write_number(n, out)?,
        Value::String(s) => write_string(s, out),
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_canonical(item, out)?;
            }
            out.push(b']');
        }
        Value::Object(map) => {
            let mut entries: Vec<(&str, &Value<'_>)> = map.iter().collect();
            entries.sort_by(|(a, _), (b, _)| utf16_cmp(a, b));
            out.push(b'{');
            for (i, (k, v)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_string(k, out);
                out.push(b':');
                write_canonical(v, out)?;
            }
            out.push(b'}');
        }
    }
    Ok(())
}

/// Orders strings by their UTF-16 code units, as RFC 8785 §3.2.3 requires.
///
/// This differs from byte (and code point) order only when a character above
/// U+FFFF (a surrogate pair) meets one in U+E000..=U+FFFF.
fn utf16_cmp(a: &str, b: &str) -> Ordering {
    if a.is_ascii() && b.is_ascii() {
        return a.cmp(b);
    }
    a.encode_utf16().cmp(b.encode_utf16())
}

/// Writes a number as ECMAScript's `Number.prototype.toString` would (RFC 8785 §3.2.2.3).
fn write_number(n: &Number<'_>, out: &mut Vec<u8>) -> Result<(), CanonicalError> {
    let text = n.as_text();
    // Small integer literals are their own canonical form: skip the float round trip.
    if let Some(i) = n.as_i64()
        && i.unsigned_abs() <= (1 << 53)
    {
        out.extend_from_slice(i.to_string().as_bytes());
        return Ok(());
    }
    let f: f64 = text
        .parse()
        .map_err(|_| CanonicalError::NonFiniteNumber(text.to_owned()))?;
    if !f.is_finite() {
        return Err(CanonicalError::NonFiniteNumber(text.to_owned()));
    }
    // ECMAScript writes negative zero as "0".
    let f = if f == 0.0 { 0.0 } else { f };
    out.extend_from_slice(ryu_js::Buffer::new().format_finite(f).as_bytes());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json::parse;

    fn canon(src: &str) -> String {
        to_canonical_string(&parse(src.as_bytes()).unwrap()).unwrap()
    }

    /// RFC 8785 Appendix B: IEEE 754 bit patterns and their canonical text.
    #[test]
    fn rfc8785_appendix_b_numbers() {
        let table: &[(u64, &str)] = &[
            (0x0000000000000000, "0"),
            (0x8000000000000000, "0"),
            (0x0000000000000001, "5e-324"),
            (0x8000000000000001, "-5e-324"),
            (0x7fefffffffffffff, "1.7976931348623157e+308"),
            (0xffefffffffffffff, "-1.7976931348623157e+308"),
            (0x4340000000000000, "9007199254740992"),
            (0xc340000000000000, "-9007199254740992"),
            (0x4430000000000000, "295147905179352830000"),
            (0x44b52d02c7e14af5, "9.999999999999997e+22"),
            (0x44b52d02c7e14af6, "1e+23"),
            (0x44b52d02c7e14af7, "1.0000000000000001e+23"),
            (0x444b1ae4d6e2ef4e, "999999999999999700000"),
            (0x444b1ae4d6e2ef4f, "999999999999999900000"),
            (0x444b1ae4d6e2ef50, "1e+21"),
            (0x3eb0c6f7a0b5ed8c, "9.999999999999997e-7"),
            (0x3eb0c6f7a0b5ed8d, "0.000001"),
            (0x41b3de4355555553, "333333333.3333332"),
            (0x41b3de4355555554, "333333333.33333325"),
            (0x41b3de4355555555, "333333333.3333333"),
            (0x41b3de4355555556, "333333333.3333334"),
            (0x41b3de4355555557, "333333333.33333343"),
            (0xbecbf647612f3696, "-0.0000033333333333333333"),
            (0x43143ff3c1cb0959, "1424953923781206.2"),
        ];
        for &(bits, expected) in table {
            let f = f64::from_bits(bits);
            // Feed the shortest round-trip text through the parser, as a document would.
            let text = format!("{f:e}");
            let v = parse(text.as_bytes()).unwrap();
            assert_eq!(
                to_canonical_string(&v).unwrap(),
                expected,
                "bits {bits:016x}"
            );
            // The expected text is itself canonical.
            assert_eq!(canon(expected), expected);
        }
    }

    #[test]
    fn integers_and_other_spellings_are_normalised() {
        assert_eq!(
            canon("[1.0, 100, 1E2, -0, 0.0, 1e1, 12345678901234567890]"),
            "[1,100,100,0,0,10,12345678901234567000]"
        );
        assert_eq!(
            canon("[9007199254740993, 0.1, 1e-7, 123e20]"),
            "[9007199254740992,0.1,1e-7,1.23e+22]"
        );
    }

    #[test]
    fn numbers_out_of_range_are_errors() {
        let v = parse(b"{\"a\":[1e400]}").unwrap();
        assert_eq!(
            to_canonical_vec(&v),
            Err(CanonicalError::NonFiniteNumber("1e400".into()))
        );
        assert!(to_canonical_vec(&parse(b"-1e309").unwrap()).is_err());
    }

    /// RFC 8785 §3.2.3: sorting by UTF-16 code units.
    #[test]
    fn rfc8785_sorting_example() {
        let src = "{\"\\u20ac\":\"Euro Sign\",\"\\r\":\"Carriage Return\",\"\\ufb33\":\"Hebrew Letter Dalet With Dagesh\",\"1\":\"One\",\"\\ud83d\\ude00\":\"Emoji: Grinning Face\",\"\\u0080\":\"Control\",\"\\u00f6\":\"Latin Small Letter O With Diaeresis\"}";
        let v = parse(src.as_bytes()).unwrap();
        let out = to_canonical_string(&v).unwrap();
        let parsed = parse(out.as_bytes()).unwrap();
        let values: Vec<&str> = parsed
            .as_object()
            .unwrap()
            .iter()
            .map(|(_, v)| v.as_str().unwrap())
            .collect();
        assert_eq!(
            values,
            [
                "Carriage Return",
                "One",
                "Control",
                "Latin Small Letter O With Diaeresis",
                "Euro Sign",
                "Emoji: Grinning Face",
                "Hebrew Letter Dalet With Dagesh",
            ]
        );
    }

    /// RFC 8785 §3.2.2: the example with literals, numbers and escapes.
    #[test]
    fn rfc8785_serialization_example() {
        let src = r#"{
          "numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],
          "string": "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/",
          "literals": [null, true, false]
        }"#;
        let expected = "{\"literals\":[null,true,false],\"numbers\":[333333333.3333333,1e+30,4.5,0.002,1e-27],\"string\":\"€$\\u000f\\nA'B\\\"\\\\\\\\\\\"/\"}";
        assert_eq!(canon(src), expected);
    }

    #[test]
    fn nested_objects_are_sorted_and_compact() {
        assert_eq!(
            canon(r#"{ "b" : { "z": 1, "a": [ {"y":2,"x":1} ] }, "a": "\t" }"#),
            r#"{"a":"\t","b":{"a":[{"x":1,"y":2}],"z":1}}"#
        );
    }
}
