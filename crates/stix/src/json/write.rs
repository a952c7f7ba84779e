//! Writing a [`Value`] back as compact JSON.
//!
//! Numbers are written with their source text and keys in their order, so a
//! parsed object is written back unchanged apart from whitespace.

use super::value::Value;

/// Appends `value` as compact JSON to `out`.
pub fn write_compact(value: &Value<'_>, out: &mut Vec<u8>) {
    match value {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Bool(true) => out.extend_from_slice(b"true"),
        Value::Bool(false) => out.extend_from_slice(b"false"),
        Value::Number(n) => out.extend_from_slice(n.as_text().as_bytes()),
        Value::String(s) => write_string(s, out),
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_compact(item, out);
            }
            out.push(b']');
        }
        Value::Object(map) => {
            out.push(b'{');
            for (i, (k, v)) in map.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_string(k, out);
                out.push(b':');
                write_compact(v, out);
            }
            out.push(b'}');
        }
    }
}

/// `value` as a compact JSON string.
pub fn to_string(value: &Value<'_>) -> String {
    let mut out = Vec::new();
    write_compact(value, &mut out);
    // Only valid UTF-8 is ever written: input strings are `str` and the rest is ASCII.
    String::from_utf8(out).unwrap_or_default()
}

/// Appends `s` as a JSON string literal, escaping only what JSON requires
/// (the quote, the backslash and control characters), as RFC 8785 does.
pub fn write_string(s: &str, out: &mut Vec<u8>) {
    out.push(b'"');
    let bytes = s.as_bytes();
    // Most strings need no escape; this check vectorises, the loop below does not.
    if !bytes.iter().fold(false, |any, &b| {
        any | (b < 0x20) | (b == b'"') | (b == b'\\')
    }) {
        out.extend_from_slice(bytes);
        out.push(b'"');
        return;
    }
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let escape: &[u8] = match b {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0x08 => b"\\b",
            0x0c => b"\\f",
            0x00..=0x1f => {
                out.extend_from_slice(&bytes[start..i]);
                out.extend_from_slice(format!("\\u{b:04x}").as_bytes());
                start = i + 1;
                continue;
            }
            _ => continue,
        };
        out.extend_from_slice(&bytes[start..i]);
        out.extend_from_slice(escape);
        start = i + 1;
    }
    out.extend_from_slice(&bytes[start..]);
    out.push(b'"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json::parse;

    #[test]
    fn round_trips_text_exactly_when_compact() {
        let src = r#"{"b":1.50,"a":[1e3,-0,"\"\\\n\u0001é"],"c":{"z":null,"y":false}}"#;
        let v = parse(src.as_bytes()).unwrap();
        assert_eq!(to_string(&v), src);
    }
}
