//! Strategies and writers shared by the proptest suites: arbitrary JSON values
//! (unicode, control characters, nesting, unique keys, exact number text) and a
//! writer that spaces and escapes them differently from `stix::json::to_string`,
//! so the parser sees more than one spelling of each value.

// Test support: a failed setup step should stop the test with its message.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![allow(dead_code)]

use std::borrow::Cow;

use proptest::prelude::*;
use stix::json::{self, Map, Value};

/// French, Arabic and emoji text, as found in real intelligence from partners.
const WORDS: &[&str] = &[
    "déjà vu",
    "Œuvre à côté, naïve façade",
    "l'été où ça s'écroula",
    "مرحبا بالعالم",
    "برمجية خبيثة",
    "\u{200f}RTL mark",
    "🦀",
    "👩‍💻 phishing 🎣",
    "🇫🇷🇸🇦",
    "\u{feff}BOM",
    "\u{2028}\u{2029}",
];

/// One character, weighted towards what a JSON string writer must get right.
fn json_char() -> impl Strategy<Value = char> {
    prop_oneof![
        4 => proptest::char::range(' ', '~'),
        2 => proptest::char::range('\u{0}', '\u{1f}'),
        1 => Just('\u{7f}'),
        2 => prop::sample::select(vec!['"', '\\', '/']),
        2 => proptest::char::range('\u{600}', '\u{6ff}'),
        2 => prop::sample::select(vec!['é', 'è', 'ê', 'à', 'ç', 'ô', 'ù', 'œ', 'É', '«', '»', '\u{a0}']),
        2 => proptest::char::range('\u{1f300}', '\u{1f64f}'),
        1 => proptest::char::range('\u{e000}', '\u{ffff}'),
        1 => any::<char>(),
    ]
}

/// Arbitrary strings: random characters, or words glued with random characters.
pub fn json_string() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => prop::collection::vec(json_char(), 0..12).prop_map(|cs| cs.into_iter().collect()),
        1 => (prop::sample::select(WORDS), prop::collection::vec(json_char(), 0..3))
            .prop_map(|(w, cs)| {
                let mut s: String = cs.into_iter().collect();
                s.push_str(w);
                s
            }),
    ]
}

/// Valid JSON number text (RFC 8259 §6), including forms that do not fit a double.
pub fn number_text() -> impl Strategy<Value = String> {
    prop_oneof![
        "-?(0|[1-9][0-9]{0,18})",
        "-?(0|[1-9][0-9]{0,6})\\.[0-9]{1,8}",
        "-?(0|[1-9][0-9]{0,3})(\\.[0-9]{1,4})?[eE][+-]?[0-9]{1,3}",
        Just("1e400".to_owned()),
        Just("-0".to_owned()),
        Just("123456789012345678901234567890".to_owned()),
    ]
}

/// A number value carrying exactly `text`.
pub fn number(text: &str) -> Value<'static> {
    // `Number` can only be made from text by the parser, which checks it.
    match json::parse(text.as_bytes()) {
        Ok(v @ Value::Number(_)) => v.into_owned(),
        other => panic!("{text:?} is not a JSON number: {other:?}"),
    }
}

fn leaf() -> impl Strategy<Value = Value<'static>> {
    prop_oneof![
        1 => Just(Value::Null),
        1 => any::<bool>().prop_map(Value::Bool),
        2 => number_text().prop_map(|t| number(&t)),
        4 => json_string().prop_map(Value::from),
    ]
}

/// An object from entries, keeping the first of any repeated key (JSON objects
/// here have unique keys) and the generated order.
fn object(entries: Vec<(String, Value<'static>)>) -> Value<'static> {
    let mut map = Map::new();
    for (k, v) in entries {
        if !map.contains_key(&k) {
            map.insert(Cow::Owned(k), v);
        }
    }
    Value::Object(map)
}

/// Arbitrary JSON values, nested up to a few levels.
pub fn json_value() -> impl Strategy<Value = Value<'static>> {
    leaf().prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((json_string(), inner), 0..6).prop_map(object),
        ]
    })
}

/// Arbitrary JSON objects (what a STIX object list mostly holds).
pub fn json_object() -> impl Strategy<Value = Value<'static>> {
    prop::collection::vec((json_string(), json_value()), 0..6).prop_map(object)
}

/// How [`write_styled`] spells a value.
#[derive(Debug, Clone)]
pub struct Style {
    /// Whitespace written around every token.
    pub space: String,
    /// Write every non-ASCII character as `\u` escapes (surrogate pairs above U+FFFF).
    pub escape_non_ascii: bool,
    /// Write `/` as `\/`.
    pub escape_solidus: bool,
}

pub fn style() -> impl Strategy<Value = Style> {
    ("[ \t\r\n]{0,3}", any::<bool>(), any::<bool>()).prop_map(
        |(space, escape_non_ascii, escape_solidus)| Style {
            space,
            escape_non_ascii,
            escape_solidus,
        },
    )
}

fn write_styled_string(s: &str, style: &Style, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '/' if style.escape_solidus => out.push_str("\\/"),
            '\u{0}'..='\u{1f}' => out.push_str(&format!("\\u{:04X}", c as u32)),
            c if style.escape_non_ascii && !c.is_ascii() => {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    out.push_str(&format!("\\u{unit:04x}"));
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Writes `value` with another spelling than [`json::to_string`]: whitespace
/// around every token and optional escapes.
pub fn write_styled(value: &Value<'_>, style: &Style, out: &mut String) {
    let sp = style.space.as_str();
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(n.as_text()),
        Value::String(s) => write_styled_string(s, style, out),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(sp);
                write_styled(item, style, out);
                out.push_str(sp);
            }
            out.push(']');
        }
        Value::Object(map) => {
            out.push('{');
            for (i, (k, v)) in map.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(sp);
                write_styled_string(k, style, out);
                out.push_str(sp);
                out.push(':');
                out.push_str(sp);
                write_styled(v, style, out);
                out.push_str(sp);
            }
            out.push('}');
        }
    }
}

pub fn styled(value: &Value<'_>, style: &Style) -> String {
    let mut out = String::new();
    write_styled(value, style, &mut out);
    out
}
