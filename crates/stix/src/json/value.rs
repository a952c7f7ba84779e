//! The lossless JSON value every STIX object is held in.
//!
//! Keys keep their order, numbers keep their exact source text, and strings
//! borrow from the input when they contain no escapes, so parse → write gives
//! back the same document (modulo insignificant whitespace) without copying.

use std::borrow::Cow;
use std::fmt;

/// A JSON value borrowing from its source where it can.
#[derive(Debug, Clone, PartialEq)]
pub enum Value<'a> {
    /// `null`
    Null,
    /// `true` or `false`
    Bool(bool),
    /// A number, kept as its source text.
    Number(Number<'a>),
    /// A string, unescaped.
    String(Cow<'a, str>),
    /// An array.
    Array(Vec<Value<'a>>),
    /// An object whose keys keep their order; keys are unique.
    Object(Map<'a>),
}

/// A JSON number kept as the exact text it was written with.
///
/// The text is always a valid JSON number (the parser or [`Number::from_i64`]
/// and friends guarantee it), so formatting it back is lossless.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Number<'a>(Cow<'a, str>);

/// An ordered JSON object with unique keys.
///
/// STIX objects have tens of properties at most, so a vector with linear
/// lookup beats a hash map here and keeps the source order for free.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Map<'a> {
    entries: Vec<(Cow<'a, str>, Value<'a>)>,
}

/// The kind of a JSON value, for messages such as "expected a string, found an array".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `null`
    Null,
    /// a boolean
    Bool,
    /// a number
    Number,
    /// a string
    String,
    /// an array
    Array,
    /// an object
    Object,
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Kind::Null => "null",
            Kind::Bool => "a boolean",
            Kind::Number => "a number",
            Kind::String => "a string",
            Kind::Array => "an array",
            Kind::Object => "an object",
        })
    }
}

impl<'a> Value<'a> {
    /// The kind of this value.
    pub fn kind(&self) -> Kind {
        match self {
            Value::Null => Kind::Null,
            Value::Bool(_) => Kind::Bool,
            Value::Number(_) => Kind::Number,
            Value::String(_) => Kind::String,
            Value::Array(_) => Kind::Array,
            Value::Object(_) => Kind::Object,
        }
    }

    /// The string, if this is one.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    /// The boolean, if this is one.
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// The number, if this is one.
    pub fn as_number(&self) -> Option<&Number<'a>> {
        match self {
            Value::Number(n) => Some(n),
            _ => None,
        }
    }

    /// The array, if this is one.
    pub fn as_array(&self) -> Option<&[Value<'a>]> {
        match self {
            Value::Array(a) => Some(a),
            _ => None,
        }
    }

    /// The object, if this is one.
    pub fn as_object(&self) -> Option<&Map<'a>> {
        match self {
            Value::Object(m) => Some(m),
            _ => None,
        }
    }

    /// The object, mutably, if this is one.
    pub fn as_object_mut(&mut self) -> Option<&mut Map<'a>> {
        match self {
            Value::Object(m) => Some(m),
            _ => None,
        }
    }

    /// `value["key"]` for objects, `None` otherwise.
    pub fn get(&self, key: &str) -> Option<&Value<'a>> {
        self.as_object().and_then(|m| m.get(key))
    }

    /// A copy that owns all its data, free of the source's lifetime.
    pub fn into_owned(self) -> Value<'static> {
        match self {
            Value::Null => Value::Null,
            Value::Bool(b) => Value::Bool(b),
            Value::Number(n) => Value::Number(n.into_owned()),
            Value::String(s) => Value::String(Cow::Owned(s.into_owned())),
            Value::Array(a) => Value::Array(a.into_iter().map(Value::into_owned).collect()),
            Value::Object(m) => Value::Object(m.into_owned()),
        }
    }
}

impl<'a> From<&'a str> for Value<'a> {
    fn from(s: &'a str) -> Self {
        Value::String(Cow::Borrowed(s))
    }
}

impl From<String> for Value<'static> {
    fn from(s: String) -> Self {
        Value::String(Cow::Owned(s))
    }
}

impl From<bool> for Value<'static> {
    fn from(b: bool) -> Self {
        Value::Bool(b)
    }
}

impl From<i64> for Value<'static> {
    fn from(n: i64) -> Self {
        Value::Number(Number::from_i64(n))
    }
}

impl<'a> From<Map<'a>> for Value<'a> {
    fn from(m: Map<'a>) -> Self {
        Value::Object(m)
    }
}

impl<'a> From<Vec<Value<'a>>> for Value<'a> {
    fn from(a: Vec<Value<'a>>) -> Self {
        Value::Array(a)
    }
}

impl<'a> Number<'a> {
    /// Wraps text the parser has already checked to be a JSON number.
    pub(crate) fn from_checked_text(text: Cow<'a, str>) -> Self {
        Number(text)
    }

    /// The number's source text, exactly as written.
    pub fn as_text(&self) -> &str {
        &self.0
    }

    /// Whether the text is an integer literal (no fraction, no exponent).
    pub fn is_integer_literal(&self) -> bool {
        !self.0.bytes().any(|b| matches!(b, b'.' | b'e' | b'E'))
    }

    /// The value as a signed 64-bit integer, if it is an integer literal in range.
    pub fn as_i64(&self) -> Option<i64> {
        if self.is_integer_literal() {
            self.0.parse().ok()
        } else {
            None
        }
    }

    /// The value as a double; `None` if it overflows to infinity.
    pub fn as_f64(&self) -> Option<f64> {
        self.0.parse::<f64>().ok().filter(|f| f.is_finite())
    }

    /// A copy that owns its text.
    pub fn into_owned(self) -> Number<'static> {
        Number(Cow::Owned(self.0.into_owned()))
    }
}

impl Number<'static> {
    /// A number from an integer.
    pub fn from_i64(n: i64) -> Self {
        Number(Cow::Owned(n.to_string()))
    }

    /// A number from a finite double, in its shortest round-trip form; `None` for NaN or infinity.
    pub fn from_f64(f: f64) -> Option<Self> {
        f.is_finite().then(|| {
            Number(Cow::Owned(
                ryu_js::Buffer::new().format_finite(f).to_owned(),
            ))
        })
    }
}

impl fmt::Display for Number<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<'a> Map<'a> {
    /// An empty object.
    pub fn new() -> Self {
        Map {
            entries: Vec::new(),
        }
    }

    /// An empty object with room for `n` entries.
    pub fn with_capacity(n: usize) -> Self {
        Map {
            entries: Vec::with_capacity(n),
        }
    }

    /// Builds a map from entries the caller guarantees have unique keys.
    pub(crate) fn from_unique_entries(entries: Vec<(Cow<'a, str>, Value<'a>)>) -> Self {
        Map { entries }
    }

    /// The value under `key`.
    pub fn get(&self, key: &str) -> Option<&Value<'a>> {
        self.entries
            .iter()
            .find(|(k, _)| k.as_ref() == key)
            .map(|(_, v)| v)
    }

    /// The value under `key`, mutably.
    pub fn get_mut(&mut self, key: &str) -> Option<&mut Value<'a>> {
        self.entries
            .iter_mut()
            .find(|(k, _)| k.as_ref() == key)
            .map(|(_, v)| v)
    }

    /// Whether `key` is present.
    pub fn contains_key(&self, key: &str) -> bool {
        self.get(key).is_some()
    }

    /// Sets `key` to `value`, keeping its position if it was present
    /// (appending otherwise); returns the old value.
    pub fn insert(&mut self, key: impl Into<Cow<'a, str>>, value: Value<'a>) -> Option<Value<'a>> {
        let key = key.into();
        match self.entries.iter_mut().find(|(k, _)| *k == key) {
            Some((_, slot)) => Some(std::mem::replace(slot, value)),
            None => {
                self.entries.push((key, value));
                None
            }
        }
    }

    /// Removes `key`, keeping the order of the others; returns its value.
    pub fn remove(&mut self, key: &str) -> Option<Value<'a>> {
        let index = self.entries.iter().position(|(k, _)| k.as_ref() == key)?;
        Some(self.entries.remove(index).1)
    }

    /// The entries in order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = (&str, &Value<'a>)> {
        self.entries.iter().map(|(k, v)| (k.as_ref(), v))
    }

    /// The entries in order, values mutable.
    pub fn iter_mut(&mut self) -> impl ExactSizeIterator<Item = (&str, &mut Value<'a>)> {
        self.entries.iter_mut().map(|(k, v)| (&**k, v))
    }

    /// The keys in order.
    pub fn keys(&self) -> impl ExactSizeIterator<Item = &str> {
        self.entries.iter().map(|(k, _)| k.as_ref())
    }

    /// How many entries there are.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// A copy that owns all its data.
    pub fn into_owned(self) -> Map<'static> {
        Map {
            entries: self
                .entries
                .into_iter()
                .map(|(k, v)| (Cow::Owned(k.into_owned()), v.into_owned()))
                .collect(),
        }
    }
}

impl<'a> FromIterator<(Cow<'a, str>, Value<'a>)> for Map<'a> {
    /// Collects entries; a later duplicate key replaces the earlier value in place.
    fn from_iter<I: IntoIterator<Item = (Cow<'a, str>, Value<'a>)>>(iter: I) -> Self {
        let mut map = Map::new();
        for (k, v) in iter {
            map.insert(k, v);
        }
        map
    }
}

impl fmt::Display for Value<'_> {
    /// Compact JSON.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = Vec::new();
        super::write::write_compact(self, &mut out);
        // The writer only emits UTF-8: it copies valid strings and ASCII punctuation.
        f.write_str(&String::from_utf8_lossy(&out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn insert_keeps_position_and_remove_keeps_order() {
        let mut m = Map::new();
        m.insert("a", Value::from(1));
        m.insert("b", Value::from(2));
        m.insert("c", Value::from(3));
        assert_eq!(m.insert("a", Value::from(9)), Some(Value::from(1)));
        assert_eq!(m.keys().collect::<Vec<_>>(), ["a", "b", "c"]);
        assert_eq!(m.remove("b"), Some(Value::from(2)));
        assert_eq!(m.keys().collect::<Vec<_>>(), ["a", "c"]);
        assert_eq!(m.get("a").and_then(|v| v.as_number()?.as_i64()), Some(9));
    }

    #[test]
    fn number_accessors() {
        let n = Number::from_checked_text(Cow::Borrowed("1e400"));
        assert_eq!(n.as_f64(), None, "overflow is not a finite number");
        assert_eq!(n.as_i64(), None);
        let n = Number::from_checked_text(Cow::Borrowed("-42"));
        assert_eq!(n.as_i64(), Some(-42));
        assert_eq!(
            Number::from_f64(0.1).map(|n| n.as_text().to_owned()),
            Some("0.1".into())
        );
        assert_eq!(Number::from_f64(f64::NAN), None);
    }
}
