//! A strict, bounded, zero-copy JSON parser into [`Value`].
//!
//! Why not serde_json: STIX needs things it does not give together. Duplicate keys
//! must be an error (I-JSON, which RFC 8785 canonicalisation and our signatures
//! rely on), numbers must keep their exact text, errors must name a byte offset,
//! and nesting depth and the number of values must be bounded so that hostile
//! input cannot exhaust the stack or memory.

use std::borrow::Cow;
use std::collections::HashSet;
use std::fmt;

use super::value::{Map, Number, Value};

/// Bounds on what one document may contain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// The deepest nesting of arrays and objects accepted.
    pub max_depth: usize,
    /// The most values (of any kind, at any depth) in one document.
    pub max_values: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_depth: 64,
            max_values: 2_000_000,
        }
    }
}

/// Why a document is not acceptable JSON, and where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{kind} at byte {offset}")]
pub struct ParseError {
    /// Byte offset in the input where the problem was found.
    pub offset: usize,
    /// What the problem is.
    pub kind: ParseErrorKind,
}

/// The kinds of JSON syntax problem.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParseErrorKind {
    /// The input ended inside a value.
    UnexpectedEnd,
    /// A byte that cannot start or continue a value here.
    Unexpected {
        /// The byte found, as a printable description.
        found: String,
        /// What the grammar expected.
        expected: &'static str,
    },
    /// The input is not valid UTF-8.
    InvalidUtf8,
    /// A backslash escape that JSON does not define.
    InvalidEscape,
    /// A `\u` escape naming a lone UTF-16 surrogate.
    LoneSurrogate,
    /// A raw control character inside a string.
    ControlCharacter,
    /// A malformed number.
    InvalidNumber,
    /// A key that appears twice in one object.
    DuplicateKey(String),
    /// Nesting deeper than the limit.
    TooDeep(usize),
    /// More values than the limit.
    TooManyValues(usize),
    /// Something other than whitespace after the document.
    TrailingCharacters,
}

impl fmt::Display for ParseErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParseErrorKind::UnexpectedEnd => f.write_str("unexpected end of input (truncated?)"),
            ParseErrorKind::Unexpected { found, expected } => {
                write!(f, "expected {expected}, found {found}")
            }
            ParseErrorKind::InvalidUtf8 => f.write_str("invalid UTF-8"),
            ParseErrorKind::InvalidEscape => f.write_str("invalid escape sequence in string"),
            ParseErrorKind::LoneSurrogate => {
                f.write_str("\\u escape is a lone UTF-16 surrogate, which I-JSON forbids")
            }
            ParseErrorKind::ControlCharacter => {
                f.write_str("unescaped control character in string")
            }
            ParseErrorKind::InvalidNumber => f.write_str("invalid number"),
            ParseErrorKind::DuplicateKey(k) => write!(f, "duplicate key {k:?} in one object"),
            ParseErrorKind::TooDeep(n) => write!(f, "nesting deeper than {n} levels"),
            ParseErrorKind::TooManyValues(n) => write!(f, "more than {n} values in one document"),
            ParseErrorKind::TrailingCharacters => {
                f.write_str("trailing characters after the JSON value")
            }
        }
    }
}

impl ParseError {
    /// 1-based line and column of the error in `source`.
    pub fn line_column(&self, source: &[u8]) -> (usize, usize) {
        let before = &source[..self.offset.min(source.len())];
        let line = memchr::memchr_iter(b'\n', before).count() + 1;
        let column = before.len() - memchr::memrchr(b'\n', before).map_or(0, |i| i + 1) + 1;
        (line, column)
    }
}

/// Parses one JSON document with the default [`Limits`].
pub fn parse(input: &[u8]) -> Result<Value<'_>, ParseError> {
    parse_with(input, Limits::default())
}

/// Parses one JSON document.
pub fn parse_with(input: &[u8], limits: Limits) -> Result<Value<'_>, ParseError> {
    let text = std::str::from_utf8(input).map_err(|e| ParseError {
        offset: e.valid_up_to(),
        kind: ParseErrorKind::InvalidUtf8,
    })?;
    let mut parser = Parser::new(text, limits, false);
    parser.skip_whitespace();
    let value = parser.value(0).map_err(|e| *e)?;
    parser.skip_whitespace();
    if parser.pos != parser.bytes.len() {
        return Err(*parser.error(ParseErrorKind::TrailingCharacters));
    }
    Ok(value)
}

/// Parses the JSON value at the start of `text` (after any whitespace) and
/// returns it with the offset just past it; what follows is not looked at.
///
/// This lets a stream reader parse an object where it lies in its buffer
/// without first finding where it ends. An error of kind
/// [`ParseErrorKind::UnexpectedEnd`] means the value continues beyond `text`.
pub fn parse_prefix(text: &str, limits: Limits) -> Result<(Value<'_>, usize), ParseError> {
    let mut parser = Parser::new(text, limits, true);
    parser.skip_whitespace();
    let value = parser.value(0).map_err(|e| *e)?;
    // `12` at the very end may be the start of `123`: only a following byte ends a number.
    if matches!(value, Value::Number(_)) && parser.pos == text.len() {
        return Err(*parser.error(ParseErrorKind::UnexpectedEnd));
    }
    Ok((value, parser.pos))
}

/// The parser's own result: the error is boxed so that the success path, taken
/// for every value, moves 32 bytes instead of the error's size.
type Parsed<T> = Result<T, Box<ParseError>>;

/// Objects with more keys than this switch from a linear duplicate check to a set.
const LINEAR_KEY_CHECK: usize = 24;

/// The bytes that end a run of plain string content: the closing quote, an escape, and
/// the control characters JSON forbids unescaped (U+0000 to U+001F).
static STRING_SPECIAL: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 0x20 {
        table[b] = true;
        b += 1;
    }
    table[b'"' as usize] = true;
    table[b'\\' as usize] = true;
    table
};

/// Where the run of plain string content from `from` ends: its first quote, backslash
/// or control character. One pass with a table: most strings of an object are keys and
/// short values, for which a SIMD search's set-up cost more than the scan, and the
/// control characters needed a second pass over the run anyway.
fn plain_run(bytes: &[u8], from: usize) -> Option<usize> {
    bytes
        .get(from..)?
        .iter()
        .position(|&b| STRING_SPECIAL[usize::from(b)])
        .map(|i| from + i)
}

struct Parser<'a> {
    /// Parsing the start of a stream: a value cut by the end of the input is
    /// "incomplete" (read more), not a syntax error.
    prefix: bool,
    text: &'a str,
    bytes: &'a [u8],
    pos: usize,
    limits: Limits,
    values: usize,
    /// Entries of the objects being parsed, innermost last; each object moves
    /// its own off the top into an exactly sized vector when it closes, so an
    /// object costs one allocation instead of a series of regrowths.
    entries: Vec<(Cow<'a, str>, Value<'a>)>,
    /// The same for array items.
    items: Vec<Value<'a>>,
}

/// A one-word summary of a key for the duplicate check: keys whose bits differ
/// cannot be equal, so most keys skip the comparison with earlier ones.
fn key_bit(key: &str) -> u64 {
    let b = key.as_bytes();
    let mix = b.len().wrapping_mul(31)
        + b.first().map_or(0, |&c| usize::from(c)) * 7
        + b.last().map_or(0, |&c| usize::from(c));
    1u64 << (mix % 64)
}

fn describe(byte: Option<u8>) -> String {
    match byte {
        None => "end of input".into(),
        Some(b) if b.is_ascii_graphic() => format!("'{}'", b as char),
        Some(b) => format!("byte 0x{b:02x}"),
    }
}

impl<'a> Parser<'a> {
    fn new(text: &'a str, limits: Limits, prefix: bool) -> Self {
        Parser {
            prefix,
            text,
            bytes: text.as_bytes(),
            pos: 0,
            limits,
            values: 0,
            // Enough for a typical STIX object's nesting without regrowing.
            entries: Vec::with_capacity(32),
            items: Vec::with_capacity(16),
        }
    }

    fn error(&self, kind: ParseErrorKind) -> Box<ParseError> {
        Box::new(ParseError {
            offset: self.pos,
            kind,
        })
    }

    fn unexpected(&self, expected: &'static str) -> Box<ParseError> {
        let found = self.bytes.get(self.pos).copied();
        if found.is_none() {
            return self.error(ParseErrorKind::UnexpectedEnd);
        }
        self.error(ParseErrorKind::Unexpected {
            found: describe(found),
            expected,
        })
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn skip_whitespace(&mut self) {
        while let Some(b' ' | b'\n' | b'\r' | b'\t') = self.peek() {
            self.pos += 1;
        }
    }

    fn count_value(&mut self) -> Parsed<()> {
        self.values += 1;
        if self.values > self.limits.max_values {
            return Err(self.error(ParseErrorKind::TooManyValues(self.limits.max_values)));
        }
        Ok(())
    }

    fn value(&mut self, depth: usize) -> Parsed<Value<'a>> {
        self.count_value()?;
        match self.peek() {
            Some(b'{') => self.object(depth + 1),
            Some(b'[') => self.array(depth + 1),
            Some(b'"') => Ok(Value::String(self.string()?)),
            Some(b't') => self.literal("true", Value::Bool(true)),
            Some(b'f') => self.literal("false", Value::Bool(false)),
            Some(b'n') => self.literal("null", Value::Null),
            Some(b'-' | b'0'..=b'9') => self.number(),
            _ => Err(self.unexpected("a JSON value")),
        }
    }

    fn literal(&mut self, word: &'static str, value: Value<'a>) -> Parsed<Value<'a>> {
        let rest = &self.bytes[self.pos..];
        if rest.starts_with(word.as_bytes()) {
            self.pos += word.len();
            Ok(value)
        } else if self.prefix && word.as_bytes().starts_with(rest) {
            // `fa` at the end of the input: the rest may be still to come.
            self.pos = self.bytes.len();
            Err(self.error(ParseErrorKind::UnexpectedEnd))
        } else {
            Err(self.unexpected("a JSON value"))
        }
    }

    fn enter(&self, depth: usize) -> Parsed<()> {
        if depth > self.limits.max_depth {
            Err(self.error(ParseErrorKind::TooDeep(self.limits.max_depth)))
        } else {
            Ok(())
        }
    }

    fn object(&mut self, depth: usize) -> Parsed<Value<'a>> {
        self.enter(depth)?;
        self.pos += 1;
        self.skip_whitespace();
        if self.peek() == Some(b'}') {
            self.pos += 1;
            return Ok(Value::Object(Map::new()));
        }
        let first = self.entries.len();
        let mut seen_bits = 0u64;
        let mut seen: Option<HashSet<Cow<'a, str>>> = None;
        loop {
            self.skip_whitespace();
            if self.peek() != Some(b'"') {
                return Err(self.unexpected("a string key"));
            }
            let key_start = self.pos;
            let key = self.string()?;
            let count = self.entries.len() - first;
            let duplicate = match &mut seen {
                Some(set) => !set.insert(key.clone()),
                None => {
                    let bit = key_bit(&key);
                    let dup = seen_bits & bit != 0
                        && self.entries[first..].iter().any(|(k, _)| *k == key);
                    seen_bits |= bit;
                    if count >= LINEAR_KEY_CHECK {
                        seen = Some(
                            self.entries[first..]
                                .iter()
                                .map(|(k, _)| k.clone())
                                .chain([key.clone()])
                                .collect(),
                        );
                    }
                    dup
                }
            };
            if duplicate {
                return Err(Box::new(ParseError {
                    offset: key_start,
                    kind: ParseErrorKind::DuplicateKey(key.into_owned()),
                }));
            }
            self.skip_whitespace();
            if self.peek() != Some(b':') {
                return Err(self.unexpected("':' after the key"));
            }
            self.pos += 1;
            self.skip_whitespace();
            let value = self.value(depth)?;
            self.entries.push((key, value));
            self.skip_whitespace();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b'}') => {
                    self.pos += 1;
                    let entries: Vec<_> = self.entries.drain(first..).collect();
                    return Ok(Value::Object(Map::from_unique_entries(entries)));
                }
                _ => return Err(self.unexpected("',' or '}'")),
            }
        }
    }

    fn array(&mut self, depth: usize) -> Parsed<Value<'a>> {
        self.enter(depth)?;
        self.pos += 1;
        self.skip_whitespace();
        if self.peek() == Some(b']') {
            self.pos += 1;
            return Ok(Value::Array(Vec::new()));
        }
        let first = self.items.len();
        loop {
            self.skip_whitespace();
            let item = self.value(depth)?;
            self.items.push(item);
            self.skip_whitespace();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b']') => {
                    self.pos += 1;
                    return Ok(Value::Array(self.items.drain(first..).collect()));
                }
                _ => return Err(self.unexpected("',' or ']'")),
            }
        }
    }

    /// Parses a string starting at the opening quote.
    fn string(&mut self) -> Parsed<Cow<'a, str>> {
        self.pos += 1;
        let start = self.pos;
        let Some(stop) = plain_run(self.bytes, start) else {
            self.pos = self.bytes.len();
            return Err(self.error(ParseErrorKind::UnexpectedEnd));
        };
        match self.bytes[stop] {
            // Fast path: no escapes, borrow straight from the input.
            b'"' => {
                self.pos = stop + 1;
                return Ok(Cow::Borrowed(&self.text[start..stop]));
            }
            b'\\' => {}
            _ => {
                self.pos = stop;
                return Err(self.error(ParseErrorKind::ControlCharacter));
            }
        }
        // Slow path: unescape into an owned string.
        let mut out = String::with_capacity(stop - start + 16);
        out.push_str(&self.text[start..stop]);
        self.pos = stop;
        loop {
            match self.peek() {
                None => return Err(self.error(ParseErrorKind::UnexpectedEnd)),
                Some(b'"') => {
                    self.pos += 1;
                    return Ok(Cow::Owned(out));
                }
                Some(b'\\') => {
                    self.pos += 1;
                    self.escape(&mut out)?;
                }
                Some(b) if b < 0x20 => return Err(self.error(ParseErrorKind::ControlCharacter)),
                Some(_) => {
                    let from = self.pos;
                    let end = plain_run(self.bytes, from).unwrap_or(self.bytes.len());
                    out.push_str(&self.text[from..end]);
                    self.pos = end;
                }
            }
        }
    }

    fn escape(&mut self, out: &mut String) -> Parsed<()> {
        let Some(b) = self.peek() else {
            return Err(self.error(ParseErrorKind::UnexpectedEnd));
        };
        self.pos += 1;
        let c = match b {
            b'"' => '"',
            b'\\' => '\\',
            b'/' => '/',
            b'b' => '\u{8}',
            b'f' => '\u{c}',
            b'n' => '\n',
            b'r' => '\r',
            b't' => '\t',
            b'u' => return self.unicode_escape(out),
            _ => {
                self.pos -= 1;
                return Err(self.error(ParseErrorKind::InvalidEscape));
            }
        };
        out.push(c);
        Ok(())
    }

    fn hex4(&mut self) -> Parsed<u32> {
        let Some(digits) = self.bytes.get(self.pos..self.pos + 4) else {
            self.pos = self.bytes.len();
            return Err(self.error(ParseErrorKind::UnexpectedEnd));
        };
        let mut n = 0u32;
        for &d in digits {
            let v = (d as char)
                .to_digit(16)
                .ok_or_else(|| self.error(ParseErrorKind::InvalidEscape))?;
            n = n * 16 + v;
        }
        self.pos += 4;
        Ok(n)
    }

    fn unicode_escape(&mut self, out: &mut String) -> Parsed<()> {
        let escape_start = self.pos - 2;
        let first = self.hex4()?;
        let code = match first {
            0xD800..=0xDBFF => {
                // Only the end of the input between the two halves is "incomplete".
                if self.prefix && b"\\u".starts_with(&self.bytes[self.pos..]) {
                    self.pos = self.bytes.len();
                    return Err(self.error(ParseErrorKind::UnexpectedEnd));
                }
                if self.bytes.get(self.pos..self.pos + 2) != Some(b"\\u") {
                    self.pos = escape_start;
                    return Err(self.error(ParseErrorKind::LoneSurrogate));
                }
                self.pos += 2;
                let second = self.hex4()?;
                if !(0xDC00..=0xDFFF).contains(&second) {
                    self.pos = escape_start;
                    return Err(self.error(ParseErrorKind::LoneSurrogate));
                }
                0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00)
            }
            0xDC00..=0xDFFF => {
                self.pos = escape_start;
                return Err(self.error(ParseErrorKind::LoneSurrogate));
            }
            other => other,
        };
        match char::from_u32(code) {
            Some(c) => {
                out.push(c);
                Ok(())
            }
            None => {
                self.pos = escape_start;
                Err(self.error(ParseErrorKind::InvalidEscape))
            }
        }
    }

    fn digits(&mut self) -> usize {
        let start = self.pos;
        while let Some(b'0'..=b'9') = self.peek() {
            self.pos += 1;
        }
        self.pos - start
    }

    fn number(&mut self) -> Parsed<Value<'a>> {
        let start = self.pos;
        let result = self.number_text();
        // A number cut by the end of the input (`-`, `1.`, `1e+`) may go on in
        // input not read yet: say so, as for any other value.
        if self.prefix && result.is_err() && self.pos >= self.bytes.len() {
            return Err(self.error(ParseErrorKind::UnexpectedEnd));
        }
        result?;
        Ok(Value::Number(Number::from_checked_text(Cow::Borrowed(
            &self.text[start..self.pos],
        ))))
    }

    fn number_text(&mut self) -> Parsed<()> {
        if self.peek() == Some(b'-') {
            self.pos += 1;
        }
        match self.peek() {
            Some(b'0') => self.pos += 1,
            Some(b'1'..=b'9') => {
                self.digits();
            }
            _ => return Err(self.error(ParseErrorKind::InvalidNumber)),
        }
        if self.peek() == Some(b'.') {
            self.pos += 1;
            if self.digits() == 0 {
                return Err(self.error(ParseErrorKind::InvalidNumber));
            }
        }
        if let Some(b'e' | b'E') = self.peek() {
            self.pos += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.pos += 1;
            }
            if self.digits() == 0 {
                return Err(self.error(ParseErrorKind::InvalidNumber));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind_of(input: &str) -> ParseErrorKind {
        parse(input.as_bytes()).unwrap_err().kind
    }

    #[test]
    fn parses_and_borrows() {
        let v = parse(br#"{"a": [1, -2.5e3, true, null, "x\u00e9\n"], "b": {}}"#).unwrap();
        let a = v.get("a").unwrap().as_array().unwrap();
        assert_eq!(a[0].as_number().unwrap().as_i64(), Some(1));
        assert_eq!(a[1].as_number().unwrap().as_text(), "-2.5e3");
        assert_eq!(a[4].as_str(), Some("x\u{e9}\n"));
        assert!(matches!(v.get("b"), Some(Value::Object(m)) if m.is_empty()));
    }

    #[test]
    fn surrogate_pairs_decode() {
        let v = parse(br#""\ud83d\ude00""#).unwrap();
        assert_eq!(v.as_str(), Some("\u{1F600}"));
    }

    #[test]
    fn rejects_what_json_and_i_json_forbid() {
        assert_eq!(
            kind_of(r#"{"a":1,"a":2}"#),
            ParseErrorKind::DuplicateKey("a".into())
        );
        assert_eq!(kind_of(r#""\ud800""#), ParseErrorKind::LoneSurrogate);
        assert_eq!(kind_of(r#""\x""#), ParseErrorKind::InvalidEscape);
        assert_eq!(kind_of("\"a\u{1}\""), ParseErrorKind::ControlCharacter);
        // After an escape too, and where the string never closes: the raw newline is
        // the first thing wrong, and the error points at it.
        assert_eq!(kind_of("\"a\\n\u{1f}\""), ParseErrorKind::ControlCharacter);
        let unclosed = parse(b"{\"a\": \"bc\n").unwrap_err();
        assert_eq!(
            (unclosed.kind, unclosed.offset),
            (ParseErrorKind::ControlCharacter, 9)
        );
        assert_eq!(kind_of("\"abc"), ParseErrorKind::UnexpectedEnd);
        assert_eq!(kind_of("\"a\\tbc"), ParseErrorKind::UnexpectedEnd);
        assert_eq!(kind_of("01"), ParseErrorKind::TrailingCharacters);
        assert_eq!(kind_of("1."), ParseErrorKind::InvalidNumber);
        assert_eq!(kind_of("{\"a\":1"), ParseErrorKind::UnexpectedEnd);
        assert_eq!(
            kind_of("[1,]"),
            ParseErrorKind::Unexpected {
                found: "']'".into(),
                expected: "a JSON value"
            }
        );
        assert_eq!(kind_of("{} x"), ParseErrorKind::TrailingCharacters);
        assert_eq!(
            parse(b"\"\xff\"").unwrap_err().kind,
            ParseErrorKind::InvalidUtf8
        );
    }

    #[test]
    fn duplicate_keys_found_in_large_objects_too() {
        let mut s = String::from("{");
        for i in 0..100 {
            s.push_str(&format!("\"k{i}\":{i},"));
        }
        s.push_str("\"k7\":0}");
        assert_eq!(kind_of(&s), ParseErrorKind::DuplicateKey("k7".into()));
    }

    #[test]
    fn depth_and_size_are_bounded() {
        let deep = "[".repeat(100_000);
        assert_eq!(kind_of(&deep), ParseErrorKind::TooDeep(64));
        let many = format!("[{}0]", "0,".repeat(10));
        let limits = Limits {
            max_depth: 64,
            max_values: 5,
        };
        assert_eq!(
            parse_with(many.as_bytes(), limits).unwrap_err().kind,
            ParseErrorKind::TooManyValues(5)
        );
    }

    #[test]
    fn prefixes_parse_up_to_the_end_of_the_value() {
        let (value, end) = parse_prefix(" {\"a\": [1]} , {\"b\"", Limits::default()).unwrap();
        assert_eq!(end, 11);
        assert!(value.get("a").is_some());
        // Every proper prefix of a value is "incomplete", never a syntax error:
        // a stream reader reads more and tries again.
        let whole = r#"{"a": [false, true, null, -12.5e+3, "\ud83d\ude00", {"b": 0}]}"#;
        for cut in 1..whole.len() {
            let err = parse_prefix(&whole[..cut], Limits::default()).unwrap_err();
            assert_eq!(err.kind, ParseErrorKind::UnexpectedEnd, "{}", &whole[..cut]);
        }
        assert!(parse_prefix(whole, Limits::default()).is_ok());
        assert_eq!(
            parse_prefix("12", Limits::default()).unwrap_err().kind,
            ParseErrorKind::UnexpectedEnd
        );
        assert_eq!(parse_prefix("12,", Limits::default()).unwrap().1, 2);
    }

    #[test]
    fn error_positions_are_line_and_column() {
        let src = b"{\n  \"a\": tru\n}";
        let err = parse(src).unwrap_err();
        assert_eq!(err.line_column(src), (2, 8));
    }
}
