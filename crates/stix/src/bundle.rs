//! Streaming reading of STIX content of any size: a bundle, a TAXII envelope,
//! a JSON array of objects or a single object.
//!
//! [`ObjectReader`] finds the boundaries of each object in the `objects` list
//! without parsing it, and hands out its exact bytes. Memory therefore stays at
//! the size of the largest object, whatever the size of the file, and each
//! object can be parsed, validated and stored on its own: one malformed object
//! never stops the others.

use std::io::{self, Read};
use std::ops::ControlFlow;

use crate::diagnostic::Diagnostic;
use crate::json::{self, Map, Value};
use crate::validate::{Ctx, Path};

/// Bounds on what the reader accepts.
#[derive(Debug, Clone, Copy)]
pub struct ReaderLimits {
    /// The largest single object, in bytes; a larger one is skipped and reported.
    pub max_object_bytes: usize,
}

impl Default for ReaderLimits {
    fn default() -> Self {
        ReaderLimits {
            max_object_bytes: 64 << 20,
        }
    }
}

/// What kind of document is being read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// A top-level object with an `objects` list (a bundle or a TAXII envelope).
    Container,
    /// A top-level JSON array of objects.
    Array,
    /// A single top-level object.
    Single,
}

/// One object's bytes as they appear in the input.
#[derive(Debug)]
pub struct RawObject<'r> {
    /// The exact bytes of the object.
    pub bytes: &'r [u8],
    /// Its position in the `objects` list (0 for a single object).
    pub index: usize,
    /// Byte offset of its first byte in the input.
    pub offset: u64,
}

/// Why reading stopped or an object was skipped.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// The underlying reader failed.
    #[error("cannot read input: {0}")]
    Io(#[from] io::Error),
    /// The document structure around the objects is not valid JSON; reading stops.
    #[error("invalid JSON at byte {offset}: {message}")]
    Syntax {
        /// Byte offset of the problem.
        offset: u64,
        /// What is wrong.
        message: String,
    },
    /// The input ended before the document did; reading stops.
    #[error("input ends at byte {offset} in the middle of {context} (truncated file?)")]
    Truncated {
        /// Where the input ended.
        offset: u64,
        /// What was being read.
        context: &'static str,
    },
    /// One object contains bytes that are not UTF-8; it was skipped and reading goes on.
    #[error("object #{index} is not valid UTF-8 (at byte {offset}) and was skipped")]
    InvalidUtf8 {
        /// Its position in the list.
        index: usize,
        /// Byte offset of the first invalid byte.
        offset: u64,
    },
    /// One object is larger than the limit; it was skipped and reading goes on.
    #[error(
        "object #{index} at byte {offset} is larger than the limit of {limit} bytes and was skipped"
    )]
    TooLarge {
        /// Its position in the list.
        index: usize,
        /// Byte offset of its start.
        offset: u64,
        /// The limit.
        limit: usize,
    },
}

impl ReadError {
    /// The list position of the object a recoverable error is about.
    pub fn object_index(&self) -> Option<usize> {
        match self {
            ReadError::TooLarge { index, .. } | ReadError::InvalidUtf8 { index, .. } => {
                Some(*index)
            }
            _ => None,
        }
    }

    /// Whether reading can go on after this error.
    pub fn is_recoverable(&self) -> bool {
        matches!(
            self,
            ReadError::TooLarge { .. } | ReadError::InvalidUtf8 { .. }
        )
    }
}

/// One object parsed where it lay in the reader's buffer.
#[derive(Debug)]
pub struct ParsedObject<'r> {
    /// Its exact bytes, position and offset.
    pub raw: RawObject<'r>,
    /// The parsed value, or why it is not acceptable JSON (offsets relative to `raw`).
    pub value: Result<Value<'r>, json::ParseError>,
}

/// Where [`ObjectReader::advance`] stopped.
enum Next {
    /// An object's span in `text`, and its index.
    Span(usize, usize, usize),
    /// The first byte of list element `index` is at `pos`; its end is not known yet.
    Element(usize),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Start,
    /// Inside the top-level object, before a key or (unless just after a comma) the closing brace.
    TopLevelKeys {
        after_comma: bool,
    },
    /// Inside a list of objects, before an element or the closing bracket.
    ListElements {
        first: bool,
        top_level_array: bool,
    },
    /// After the `objects` list, back among the top-level keys.
    Done,
}

const CHUNK: usize = 256 << 10;

/// Reads the objects of a STIX document one at a time.
pub struct ObjectReader<R> {
    reader: R,
    /// The input read so far and not yet consumed, as text: bytes are checked as
    /// UTF-8 once, in bulk, when they arrive, so objects can be parsed where they
    /// lie. An invalid sequence becomes U+FFFD here and is recorded in
    /// `replacements`; an object containing one is reported, never accepted.
    text: String,
    /// The start of a UTF-8 sequence split across two reads.
    pending: Vec<u8>,
    /// (position in `text`, length of the invalid input it stands for) of each U+FFFD put in.
    replacements: Vec<(usize, usize)>,
    /// What the underlying reader writes into before its bytes join `buf`. It is
    /// zeroed once: zeroing a fresh CHUNK of the buffer for every `read` made a reader
    /// that returns a few bytes at a time (a pipe, a socket) cost CHUNK per call.
    scratch: Box<[u8]>,
    pos: usize,
    /// Input offset of `text[0]`.
    base: u64,
    eof: bool,
    state: State,
    shape: Option<Shape>,
    limits: ReaderLimits,
    header: Map<'static>,
    /// While reading top-level keys before any `objects` list, where the
    /// top-level object starts in `text`, so a single object can be handed out whole.
    single_start: Option<usize>,
    index: usize,
    failed: bool,
}

impl<R: Read> ObjectReader<R> {
    /// A reader with default limits.
    pub fn new(reader: R) -> Self {
        Self::with_limits(reader, ReaderLimits::default())
    }

    /// A reader with the given limits.
    pub fn with_limits(reader: R, limits: ReaderLimits) -> Self {
        ObjectReader {
            reader,
            text: String::with_capacity(CHUNK),
            pending: Vec::new(),
            replacements: Vec::new(),
            scratch: vec![0; CHUNK].into_boxed_slice(),
            pos: 0,
            base: 0,
            eof: false,
            state: State::Start,
            shape: None,
            limits,
            header: Map::new(),
            single_start: None,
            index: 0,
            failed: false,
        }
    }

    /// The kind of document, once its first byte has been read.
    pub fn shape(&self) -> Option<Shape> {
        self.shape
    }

    /// The top-level properties other than `objects` seen so far (all of them
    /// once [`ObjectReader::next_object`] has returned `Ok(None)`).
    pub fn header(&self) -> &Map<'static> {
        &self.header
    }

    /// Bytes consumed so far.
    pub fn position(&self) -> u64 {
        self.offset_of(self.pos)
    }

    /// The input offset of a position in `text`, allowing for replaced invalid UTF-8.
    fn offset_of(&self, text_pos: usize) -> u64 {
        let skew: usize = self
            .replacements
            .iter()
            .filter(|(at, _)| *at < text_pos)
            .map(|(_, len)| '\u{FFFD}'.len_utf8() - len)
            .sum();
        self.base + (text_pos - skew) as u64
    }

    /// The error for object `index` if `text[start..end]` stands for input that
    /// was not valid UTF-8 (a U+FFFD the reader put in).
    fn invalid_utf8(&self, start: usize, end: usize, index: usize) -> Option<ReadError> {
        self.replacements
            .iter()
            .find(|(at, _)| (start..end).contains(at))
            .map(|(at, _)| ReadError::InvalidUtf8 {
                index,
                offset: self.offset_of(*at),
            })
    }

    /// The next object, `Ok(None)` at the end. After an error that is not
    /// [recoverable](ReadError::is_recoverable), it returns `Ok(None)`.
    pub fn next_object(&mut self) -> Result<Option<RawObject<'_>>, ReadError> {
        if self.failed {
            return Ok(None);
        }
        match self.advance(true) {
            Ok(Some(Next::Span(start, end, index))) => {
                if let Some(e) = self.invalid_utf8(start, end, index) {
                    return Err(e);
                }
                Ok(Some(RawObject {
                    bytes: &self.text.as_bytes()[start..end],
                    index,
                    offset: self.offset_of(start),
                }))
            }
            Ok(Some(Next::Element(_)) | None) => Ok(None),
            Err(e) => {
                if !e.is_recoverable() {
                    self.failed = true;
                }
                Err(e)
            }
        }
    }

    /// Reads every remaining object, parsing each where it lies in the buffer,
    /// and hands it to `visit`, which may stop the reading early.
    ///
    /// This is the fast path: one pass over each object instead of finding its
    /// end first and parsing it second. Objects that are skipped (too large, not
    /// UTF-8) reach `visit` as errors; an error that ends the reading (I/O,
    /// broken document structure, truncation) is returned after everything
    /// before it was visited.
    pub fn for_each_parsed(
        &mut self,
        limits: json::Limits,
        mut visit: impl FnMut(Result<ParsedObject<'_>, ReadError>) -> ControlFlow<()>,
    ) -> Result<(), ReadError> {
        loop {
            if self.failed {
                return Ok(());
            }
            let next = match self.advance(false) {
                Ok(next) => next,
                Err(e) if e.is_recoverable() => {
                    if visit(Err(e)).is_break() {
                        return Ok(());
                    }
                    continue;
                }
                Err(e) => {
                    self.failed = true;
                    return Err(e);
                }
            };
            let flow = match next {
                None => return Ok(()),
                Some(Next::Span(start, end, index)) => {
                    self.visit_span(start, end, index, limits, &mut visit)
                }
                Some(Next::Element(index)) => match self.parse_element(index, limits, &mut visit) {
                    Ok(flow) => flow,
                    Err(e) => {
                        self.failed = true;
                        return Err(e);
                    }
                },
            };
            if flow.is_break() {
                return Ok(());
            }
        }
    }

    /// Parses a delimited object (a single top-level object) and visits it.
    fn visit_span(
        &self,
        start: usize,
        end: usize,
        index: usize,
        limits: json::Limits,
        visit: &mut impl FnMut(Result<ParsedObject<'_>, ReadError>) -> ControlFlow<()>,
    ) -> ControlFlow<()> {
        if let Some(e) = self.invalid_utf8(start, end, index) {
            return visit(Err(e));
        }
        let text = &self.text[start..end];
        visit(Ok(ParsedObject {
            raw: RawObject {
                bytes: text.as_bytes(),
                index,
                offset: self.offset_of(start),
            },
            value: json::parse_with(text.as_bytes(), limits),
        }))
    }

    /// Parses list element `index`, which starts at `pos`, reading more input
    /// while it is incomplete, and visits it.
    fn parse_element(
        &mut self,
        index: usize,
        limits: json::Limits,
        visit: &mut impl FnMut(Result<ParsedObject<'_>, ReadError>) -> ControlFlow<()>,
    ) -> Result<ControlFlow<()>, ReadError> {
        let start = self.pos;
        loop {
            let attempt = json::parse_prefix(&self.text[start..], limits);
            match attempt {
                Ok((value, len)) => {
                    let end = start + len;
                    self.pos = end;
                    if len > self.limits.max_object_bytes {
                        return Ok(visit(Err(ReadError::TooLarge {
                            index,
                            offset: self.offset_of(start),
                            limit: self.limits.max_object_bytes,
                        })));
                    }
                    if let Some(e) = self.invalid_utf8(start, end, index) {
                        return Ok(visit(Err(e)));
                    }
                    return Ok(visit(Ok(ParsedObject {
                        raw: RawObject {
                            bytes: &self.text.as_bytes()[start..end],
                            index,
                            offset: self.offset_of(start),
                        },
                        value: Ok(value),
                    })));
                }
                Err(e)
                    if e.kind == json::ParseErrorKind::UnexpectedEnd
                        && !self.eof
                        && self.text.len() - start <= self.limits.max_object_bytes =>
                {
                    // The object goes on past what has been read: read more and
                    // parse it again from its start (at most once per buffer refill).
                    self.fill()?;
                }
                Err(_) => {
                    // Malformed, too large or at the very end of the input: find
                    // its end without parsing, then give the verdict on exactly its
                    // bytes (rare, so the second parse costs nothing overall).
                    return match self.scan_value("an object", Some(index)) {
                        Ok((start, end)) => {
                            if let Some(e) = self.invalid_utf8(start, end, index) {
                                return Ok(visit(Err(e)));
                            }
                            let bytes = &self.text.as_bytes()[start..end];
                            Ok(visit(Ok(ParsedObject {
                                raw: RawObject {
                                    bytes,
                                    index,
                                    offset: self.offset_of(start),
                                },
                                value: json::parse_with(bytes, limits),
                            })))
                        }
                        Err(e) if e.is_recoverable() => Ok(visit(Err(e))),
                        Err(e) => Err(e),
                    };
                }
            }
        }
    }

    /// Moves to the next object. With `delimit`, finds where it ends and returns
    /// its span; without, stops at its first byte (for parsing in place).
    fn advance(&mut self, delimit: bool) -> Result<Option<Next>, ReadError> {
        self.compact();
        loop {
            match self.state {
                State::Start => {
                    self.skip_whitespace()?;
                    match self.peek()? {
                        None => {
                            return Err(ReadError::Truncated {
                                offset: self.position(),
                                context: "an empty document",
                            });
                        }
                        Some(b'[') => {
                            self.pos += 1;
                            self.shape = Some(Shape::Array);
                            self.state = State::ListElements {
                                first: true,
                                top_level_array: true,
                            };
                        }
                        Some(b'{') => {
                            self.single_start = Some(self.pos);
                            self.pos += 1;
                            self.state = State::TopLevelKeys { after_comma: false };
                        }
                        Some(other) => {
                            return Err(self.syntax(format!(
                                "a STIX document must be a JSON object or array, found {}",
                                describe(other)
                            )));
                        }
                    }
                }
                State::TopLevelKeys { after_comma } => {
                    self.skip_whitespace()?;
                    if !after_comma && self.peek()? == Some(b'}') {
                        self.pos += 1;
                        return self.end_of_top_level();
                    }
                    let key = self.key()?;
                    self.skip_whitespace()?;
                    if key == "objects"
                        && self.peek()? == Some(b'[')
                        && self.shape != Some(Shape::Container)
                    {
                        self.pos += 1;
                        self.shape = Some(Shape::Container);
                        // The whole top-level object is no longer needed: it is a container.
                        self.single_start = None;
                        self.state = State::ListElements {
                            first: true,
                            top_level_array: false,
                        };
                        self.compact();
                    } else {
                        let (start, end) = self.scan_value("a top-level property", None)?;
                        let value =
                            json::parse(&self.text.as_bytes()[start..end]).map_err(|e| {
                                ReadError::Syntax {
                                    offset: self.offset_of(start + e.offset),
                                    message: e.kind.to_string(),
                                }
                            })?;
                        if self
                            .header
                            .insert(key.clone(), value.into_owned())
                            .is_some()
                        {
                            return Err(self.syntax(format!("duplicate top-level key {key:?}")));
                        }
                        if let Some(single_start) = self.single_start
                            && self.pos - single_start > self.limits.max_object_bytes
                        {
                            return Err(self.syntax(format!(
                                "the top-level object is larger than the limit of {} bytes",
                                self.limits.max_object_bytes
                            )));
                        }
                        self.skip_whitespace()?;
                        match self.peek()? {
                            Some(b',') => {
                                self.pos += 1;
                                self.state = State::TopLevelKeys { after_comma: true };
                            }
                            Some(b'}') => self.state = State::TopLevelKeys { after_comma: false },
                            Some(other) => {
                                return Err(self.syntax(format!(
                                    "expected ',' or '}}' after a top-level property, found {}",
                                    describe(other)
                                )));
                            }
                            None => {
                                return Err(ReadError::Truncated {
                                    offset: self.position(),
                                    context: "the top-level object",
                                });
                            }
                        }
                    }
                }
                State::ListElements {
                    first,
                    top_level_array,
                } => {
                    self.skip_whitespace()?;
                    match self.peek()? {
                        Some(b']') => {
                            self.pos += 1;
                            if top_level_array {
                                self.state = State::Done;
                                return self.finish();
                            }
                            self.skip_whitespace()?;
                            let after_comma = match self.peek()? {
                                Some(b',') => {
                                    self.pos += 1;
                                    true
                                }
                                Some(b'}') => false,
                                Some(other) => {
                                    return Err(self.syntax(format!(
                                        "expected ',' or '}}' after the objects list, found {}",
                                        describe(other)
                                    )));
                                }
                                None => {
                                    return Err(ReadError::Truncated {
                                        offset: self.position(),
                                        context: "the top-level object",
                                    });
                                }
                            };
                            self.state = State::TopLevelKeys { after_comma };
                            continue;
                        }
                        Some(b',') if !first => {
                            self.pos += 1;
                            self.skip_whitespace()?;
                        }
                        Some(other) if !first => {
                            return Err(self.syntax(format!(
                                "expected ',' or ']' between objects, found {}",
                                describe(other)
                            )));
                        }
                        None => {
                            return Err(ReadError::Truncated {
                                offset: self.position(),
                                context: "the objects list",
                            });
                        }
                        _ => {}
                    }
                    self.state = State::ListElements {
                        first: false,
                        top_level_array,
                    };
                    let index = self.index;
                    self.index += 1;
                    if !delimit {
                        return Ok(Some(Next::Element(index)));
                    }
                    let (start, end) = self.scan_value("an object", Some(index))?;
                    return Ok(Some(Next::Span(start, end, index)));
                }
                State::Done => return Ok(None),
            }
        }
    }

    /// The top-level object closed: either the end of a container or a single object.
    fn end_of_top_level(&mut self) -> Result<Option<Next>, ReadError> {
        self.state = State::Done;
        if self.shape == Some(Shape::Container) {
            return self.finish();
        }
        self.shape = Some(Shape::Single);
        let start = self.single_start.take().unwrap_or(0);
        let end = self.pos;
        self.finish()?;
        self.header = Map::new();
        self.index = 1;
        Ok(Some(Next::Span(start, end, 0)))
    }

    /// Checks that nothing but whitespace follows the document.
    fn finish(&mut self) -> Result<Option<Next>, ReadError> {
        self.skip_whitespace()?;
        match self.peek()? {
            None => Ok(None),
            Some(_) => Err(self.syntax("trailing characters after the document".into())),
        }
    }

    fn syntax(&self, message: String) -> ReadError {
        ReadError::Syntax {
            offset: self.position(),
            message,
        }
    }

    /// Drops consumed text from the front of the buffer.
    fn compact(&mut self) {
        let keep_from = self.single_start.unwrap_or(self.pos);
        if keep_from > 0 && keep_from >= self.text.len() / 2 {
            self.drop_front(keep_from);
        }
    }

    /// Removes `text[..n]` (n at most the position being read), keeping offsets right.
    fn drop_front(&mut self, n: usize) {
        // Structural positions are ASCII, but a skipped oversized object may be
        // cut anywhere: back off to a character boundary.
        let mut n = n.min(self.text.len());
        while !self.text.is_char_boundary(n) {
            n -= 1;
        }
        self.base = self.offset_of(n);
        self.text.drain(..n);
        self.replacements.retain(|(at, _)| *at >= n);
        for (at, _) in &mut self.replacements {
            *at -= n;
        }
        self.pos -= n;
        if let Some(s) = self.single_start.as_mut() {
            *s = s.saturating_sub(n);
        }
    }

    /// Reads more input; returns how many bytes arrived (0 at the end).
    fn fill(&mut self) -> Result<usize, ReadError> {
        if self.eof {
            return Ok(0);
        }
        let n = loop {
            match self.reader.read(&mut self.scratch) {
                Ok(n) => break n.min(self.scratch.len()),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e.into()),
            }
        };
        if n == 0 {
            self.eof = true;
        }
        let joined;
        let mut bytes: &[u8] = &self.scratch[..n];
        if !self.pending.is_empty() {
            let mut both = std::mem::take(&mut self.pending);
            both.extend_from_slice(bytes);
            joined = both;
            bytes = &joined;
        }
        let (text, replacements) = (&mut self.text, &mut self.replacements);
        loop {
            match std::str::from_utf8(bytes) {
                Ok(valid) => {
                    text.push_str(valid);
                    break;
                }
                Err(e) => {
                    let (valid, rest) = bytes.split_at(e.valid_up_to());
                    if let Ok(valid) = std::str::from_utf8(valid) {
                        text.push_str(valid);
                    }
                    match e.error_len() {
                        // A sequence cut by the end of this read: wait for the rest.
                        None if n > 0 => {
                            self.pending = rest.to_vec();
                            break;
                        }
                        None => {
                            replacements.push((text.len(), rest.len()));
                            text.push('\u{FFFD}');
                            break;
                        }
                        Some(len) => {
                            replacements.push((text.len(), len));
                            text.push('\u{FFFD}');
                            bytes = &rest[len..];
                        }
                    }
                }
            }
        }
        Ok(n)
    }

    fn peek(&mut self) -> Result<Option<u8>, ReadError> {
        if self.pos >= self.text.len() && self.fill()? == 0 {
            return Ok(None);
        }
        Ok(self.text.as_bytes().get(self.pos).copied())
    }

    fn skip_whitespace(&mut self) -> Result<(), ReadError> {
        loop {
            while let Some(b' ' | b'\n' | b'\r' | b'\t') = self.text.as_bytes().get(self.pos) {
                self.pos += 1;
            }
            if self.pos < self.text.len() || self.fill()? == 0 {
                return Ok(());
            }
        }
    }

    /// Reads a top-level key and the colon after it.
    fn key(&mut self) -> Result<String, ReadError> {
        match self.peek()? {
            Some(b'"') => {}
            Some(other) => {
                return Err(self.syntax(format!("expected a key, found {}", describe(other))));
            }
            None => {
                return Err(ReadError::Truncated {
                    offset: self.position(),
                    context: "the top-level object",
                });
            }
        }
        let (start, end) = self.scan_value("a key", None)?;
        let key = json::parse(&self.text.as_bytes()[start..end])
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .ok_or_else(|| ReadError::Syntax {
                offset: self.offset_of(start),
                message: "invalid key".into(),
            })?;
        self.skip_whitespace()?;
        match self.peek()? {
            Some(b':') => {
                self.pos += 1;
                Ok(key)
            }
            Some(other) => Err(self.syntax(format!(
                "expected ':' after key {key:?}, found {}",
                describe(other)
            ))),
            None => Err(ReadError::Truncated {
                offset: self.position(),
                context: "the top-level object",
            }),
        }
    }

    /// Finds the end of the JSON value starting at `pos`, without parsing it.
    /// An object in a list (`index` given) larger than the limit is skipped.
    fn scan_value(
        &mut self,
        context: &'static str,
        index: Option<usize>,
    ) -> Result<(usize, usize), ReadError> {
        let mut start = self.pos;
        let start_offset = self.position();
        let mut i = self.pos;
        let mut depth = 0usize;
        let mut in_string = false;
        let mut escaped = false;
        let mut discarding = false;
        let mut scalar = false;
        loop {
            while i < self.text.len() {
                let b = self.text.as_bytes()[i];
                if in_string {
                    if escaped {
                        escaped = false;
                        i += 1;
                        continue;
                    }
                    match memchr::memchr2(b'"', b'\\', &self.text.as_bytes()[i..]) {
                        Some(j) => {
                            i += j;
                            if self.text.as_bytes()[i] == b'\\' {
                                escaped = true;
                            } else {
                                in_string = false;
                                if depth == 0 {
                                    return self.end_scan(
                                        start,
                                        i + 1,
                                        discarding,
                                        index,
                                        start_offset,
                                    );
                                }
                            }
                            i += 1;
                        }
                        None => i = self.text.len(),
                    }
                    continue;
                }
                if scalar {
                    if matches!(b, b',' | b']' | b'}' | b' ' | b'\n' | b'\r' | b'\t') {
                        return self.end_scan(start, i, discarding, index, start_offset);
                    }
                    i += 1;
                    continue;
                }
                match b {
                    b'"' => in_string = true,
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        if depth == 0 {
                            return Err(ReadError::Syntax {
                                offset: self.offset_of(i),
                                message: format!("expected {context}, found '{}'", b as char),
                            });
                        }
                        depth -= 1;
                        if depth == 0 {
                            return self.end_scan(start, i + 1, discarding, index, start_offset);
                        }
                    }
                    b' ' | b'\n' | b'\r' | b'\t' | b',' | b':' if depth > 0 => {}
                    _ if depth == 0 => scalar = true,
                    _ => {}
                }
                i += 1;
            }
            if index.is_some() && !discarding && i - start > self.limits.max_object_bytes {
                discarding = true;
            }
            if discarding {
                // The object is too large to keep: drop what was scanned so far.
                self.pos = i;
                let before = self.text.len();
                self.drop_front(i);
                i -= before - self.text.len();
                start = 0;
            }
            if self.fill()? == 0 {
                if scalar && !discarding {
                    return self.end_scan(start, i, discarding, index, start_offset);
                }
                return Err(ReadError::Truncated {
                    offset: self.offset_of(i),
                    context,
                });
            }
        }
    }

    fn end_scan(
        &mut self,
        start: usize,
        end: usize,
        discarding: bool,
        index: Option<usize>,
        start_offset: u64,
    ) -> Result<(usize, usize), ReadError> {
        self.pos = end;
        if discarding || (index.is_some() && end - start > self.limits.max_object_bytes) {
            return Err(ReadError::TooLarge {
                index: index.unwrap_or(0),
                offset: start_offset,
                limit: self.limits.max_object_bytes,
            });
        }
        Ok((start, end))
    }
}

fn describe(b: u8) -> String {
    if b.is_ascii_graphic() {
        format!("'{}'", b as char)
    } else {
        format!("byte 0x{b:02x}")
    }
}

/// Checks the top-level properties of a bundle (STIX 2.1 §8): `type` is
/// `bundle`, `id` is a bundle identifier, and no STIX 2.0 `spec_version`.
/// A TAXII envelope (no `type`) is accepted as it is.
pub fn validate_header(header: &Map<'_>) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    let id = header.get("id").and_then(Value::as_str);
    let mut ctx = Ctx::new(id, &mut out);
    let root = Path::Root;
    match header.get("type") {
        None => {
            // A TAXII envelope: objects with `more` and `next`, no bundle properties.
        }
        Some(Value::String(t)) if t == "bundle" => {
            match header.get("id") {
                None => ctx.error(root.prop("id"), "required", "is required but missing"),
                Some(v) => {
                    if let Some(s) = crate::validate::check::string(&mut ctx, root.prop("id"), v)
                        && let Some(parsed) =
                            crate::validate::check::identifier(&mut ctx, root.prop("id"), s)
                        && parsed.object_type != "bundle"
                    {
                        ctx.error(
                            root.prop("id"),
                            "id-type",
                            format!(
                                "the id's type '{}' does not match the object's type 'bundle'",
                                parsed.object_type
                            ),
                        );
                    }
                }
            }
            if let Some(v) = header.get("spec_version") {
                ctx.error(
                    root.prop("spec_version"),
                    "bundle-spec-version",
                    format!("a STIX 2.1 bundle has no spec_version ({v} is the STIX 2.0 form); each object carries its own"),
                );
            }
            for key in header.keys() {
                if !matches!(key, "type" | "id" | "spec_version") {
                    crate::validate::check::custom_property(&mut ctx, root.prop(key), key);
                }
            }
        }
        Some(other) => ctx.error(
            root.prop("type"),
            "bundle-type",
            format!(
                "a document with an objects list must be a bundle (type \"bundle\"), found {other}"
            ),
        ),
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A reader that hands out one byte at a time, to exercise every refill path.
    struct Trickle<'a>(&'a [u8]);

    impl Read for Trickle<'_> {
        fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
            match (self.0.split_first(), out.first_mut()) {
                (Some((b, rest)), Some(slot)) => {
                    *slot = *b;
                    self.0 = rest;
                    Ok(1)
                }
                _ => Ok(0),
            }
        }
    }

    fn read_all<R: Read>(
        mut reader: ObjectReader<R>,
    ) -> (Vec<String>, Vec<String>, ObjectReader<R>) {
        let mut objects = Vec::new();
        let mut errors = Vec::new();
        loop {
            match reader.next_object() {
                Ok(Some(raw)) => objects.push(String::from_utf8_lossy(raw.bytes).into_owned()),
                Ok(None) => break,
                Err(e) => errors.push(e.to_string()),
            }
        }
        (objects, errors, reader)
    }

    const BUNDLE: &str = r#" {"type": "bundle", "id": "bundle--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
        "objects": [ {"a": "x]}\"{"} , {"b": [1, {"c": 2}]}, 3, "s" ], "x_after": true } "#;

    #[test]
    fn streams_bundle_objects_with_exact_bytes() {
        for trickle in [false, true] {
            let source: Box<dyn Read> = if trickle {
                Box::new(Trickle(BUNDLE.as_bytes()))
            } else {
                Box::new(BUNDLE.as_bytes())
            };
            let (objects, errors, reader) = read_all(ObjectReader::new(source));
            assert_eq!(
                objects,
                [
                    r#"{"a": "x]}\"{"}"#,
                    r#"{"b": [1, {"c": 2}]}"#,
                    "3",
                    r#""s""#
                ]
            );
            assert!(errors.is_empty(), "{errors:?}");
            assert_eq!(reader.shape(), Some(Shape::Container));
            assert_eq!(
                reader.header().keys().collect::<Vec<_>>(),
                ["type", "id", "x_after"]
            );
        }
    }

    #[test]
    fn reads_single_objects_and_arrays() {
        let single = r#"{"type": "indicator", "objects": {"0": {}}, "id": "x"}"#;
        let (objects, errors, reader) = read_all(ObjectReader::new(Trickle(single.as_bytes())));
        assert_eq!(objects, [single]);
        assert!(errors.is_empty());
        assert_eq!(reader.shape(), Some(Shape::Single));
        let (objects, _, reader) = read_all(ObjectReader::new("[{}, {\"a\":1}]".as_bytes()));
        assert_eq!(objects, ["{}", "{\"a\":1}"]);
        assert_eq!(reader.shape(), Some(Shape::Array));
    }

    #[test]
    fn too_large_objects_are_skipped_and_reading_goes_on() {
        let big = format!(
            r#"{{"objects": [{{"a": "{}"}}, {{"b": 1}}]}}"#,
            "x".repeat(1000)
        );
        let reader = ObjectReader::with_limits(
            Trickle(big.as_bytes()),
            ReaderLimits {
                max_object_bytes: 100,
            },
        );
        let (objects, errors, _) = read_all(reader);
        assert_eq!(objects, [r#"{"b": 1}"#]);
        assert_eq!(
            errors,
            ["object #0 at byte 13 is larger than the limit of 100 bytes and was skipped"]
        );
    }

    #[test]
    fn truncation_and_structure_errors_stop_reading() {
        let (objects, errors, _) = read_all(ObjectReader::new(
            r#"{"objects": [{"a": 1}, {"b": "#.as_bytes(),
        ));
        assert_eq!(objects, [r#"{"a": 1}"#]);
        assert_eq!(
            errors,
            ["input ends at byte 29 in the middle of an object (truncated file?)"]
        );
        let (_, errors, _) = read_all(ObjectReader::new(
            r#"{"objects": [{"a": 1} {"b": 2}]}"#.as_bytes(),
        ));
        assert_eq!(
            errors,
            ["invalid JSON at byte 22: expected ',' or ']' between objects, found '{'"]
        );
        let (_, errors, _) = read_all(ObjectReader::new(r#"{"objects": []} x"#.as_bytes()));
        assert_eq!(
            errors,
            ["invalid JSON at byte 16: trailing characters after the document"]
        );
        let (_, errors, _) = read_all(ObjectReader::new("".as_bytes()));
        assert_eq!(
            errors,
            ["input ends at byte 0 in the middle of an empty document (truncated file?)"]
        );
    }

    #[test]
    fn byte_at_a_time_readers_get_every_object() {
        // Pipes and sockets hand out a few bytes per read. Each read used to zero
        // a fresh 256 KiB of buffer, which made this test take about a minute; its
        // speed is watched by the suite's running time, not asserted here.
        let doc = format!(r#"{{"objects": [{}{{}}]}}"#, r#"{"a": 1}, "#.repeat(6_500));
        let (objects, errors, _) = read_all(ObjectReader::new(Trickle(doc.as_bytes())));
        assert_eq!(objects.len(), 6_501);
        assert!(errors.is_empty(), "{errors:?}");
    }

    /// Everything `for_each_parsed` hands out: parsed objects as compact JSON
    /// (or the parse error), and skipped ones and the final error as messages.
    fn parse_all<R: Read>(mut reader: ObjectReader<R>) -> (Vec<String>, Vec<String>) {
        let mut objects = Vec::new();
        let mut errors = Vec::new();
        let end = reader.for_each_parsed(json::Limits::default(), |item| {
            match item {
                Ok(parsed) => {
                    let reparsed = json::parse(parsed.raw.bytes).map(|v| json::to_string(&v));
                    match parsed.value {
                        Ok(value) => {
                            assert_eq!(reparsed.as_ref().ok(), Some(&json::to_string(&value)));
                            objects.push(json::to_string(&value));
                        }
                        Err(e) => errors.push(format!("#{}: {e}", parsed.raw.index)),
                    }
                }
                Err(e) => errors.push(e.to_string()),
            }
            ControlFlow::Continue(())
        });
        if let Err(e) = end {
            errors.push(e.to_string());
        }
        (objects, errors)
    }

    #[test]
    fn parsing_in_place_gives_the_same_objects_as_delimiting() {
        for trickle in [false, true] {
            let source: Box<dyn Read> = if trickle {
                Box::new(Trickle(BUNDLE.as_bytes()))
            } else {
                Box::new(BUNDLE.as_bytes())
            };
            let (objects, errors) = parse_all(ObjectReader::new(source));
            assert_eq!(
                objects,
                [r#"{"a":"x]}\"{"}"#, r#"{"b":[1,{"c":2}]}"#, "3", r#""s""#]
            );
            assert!(errors.is_empty(), "{errors:?}");
        }
        let single = r#"{"type": "indicator", "name": "é"}"#;
        let (objects, errors) = parse_all(ObjectReader::new(Trickle(single.as_bytes())));
        assert_eq!(objects, [r#"{"type":"indicator","name":"é"}"#]);
        assert!(errors.is_empty());
    }

    #[test]
    fn characters_split_across_reads_are_kept_whole() {
        let doc = r#"{"objects": [{"name": "مديرية الأمن — Sécurité 🛡"}]}"#;
        let (objects, errors) = parse_all(ObjectReader::new(Trickle(doc.as_bytes())));
        assert_eq!(objects, [r#"{"name":"مديرية الأمن — Sécurité 🛡"}"#]);
        assert!(errors.is_empty());
    }

    #[test]
    fn invalid_utf8_skips_only_its_object() {
        let mut doc = br#"{"objects": [{"a": 1}, {"b": "x"#.to_vec();
        doc.extend_from_slice(b"\xff\xfe");
        doc.extend_from_slice(br#""}, {"c": 3}]}"#);
        for trickle in [false, true] {
            let source: Box<dyn Read> = if trickle {
                Box::new(Trickle(&doc))
            } else {
                Box::new(&doc[..])
            };
            let (objects, errors) = parse_all(ObjectReader::new(source));
            assert_eq!(objects, [r#"{"a":1}"#, r#"{"c":3}"#]);
            assert_eq!(
                errors,
                ["object #1 is not valid UTF-8 (at byte 31) and was skipped"]
            );
            let source: Box<dyn Read> = if trickle {
                Box::new(Trickle(&doc))
            } else {
                Box::new(&doc[..])
            };
            let (raw, errors, _) = read_all(ObjectReader::new(source));
            assert_eq!(raw, [r#"{"a": 1}"#, r#"{"c": 3}"#]);
            assert_eq!(
                errors,
                ["object #1 is not valid UTF-8 (at byte 31) and was skipped"]
            );
        }
    }

    #[test]
    fn malformed_oversized_and_truncated_objects_in_place() {
        let doc = r#"{"objects": [{"a": tru}, {"b": "0123456789012345678901234567890123456789"}, {"c": 1}, {"d": "#;
        let reader = ObjectReader::with_limits(
            Trickle(doc.as_bytes()),
            ReaderLimits {
                max_object_bytes: 40,
            },
        );
        let (objects, errors) = parse_all(reader);
        assert_eq!(objects, [r#"{"c":1}"#]);
        assert_eq!(
            errors,
            [
                "#0: expected a JSON value, found 't' at byte 6",
                "object #1 at byte 25 is larger than the limit of 40 bytes and was skipped",
                "input ends at byte 92 in the middle of an object (truncated file?)",
            ]
        );
    }

    #[test]
    fn bundle_header_rules() {
        let header = json::parse(br#"{"type": "bundle", "id": "bundle--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f", "spec_version": "2.0"}"#).unwrap();
        let found = validate_header(header.as_object().unwrap());
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].rule, "bundle-spec-version");
        let header = json::parse(
            br#"{"type": "bundle", "id": "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"}"#,
        )
        .unwrap();
        assert_eq!(
            validate_header(header.as_object().unwrap())[0].rule,
            "id-type"
        );
        let envelope = json::parse(br#"{"more": false}"#).unwrap();
        assert!(validate_header(envelope.as_object().unwrap()).is_empty());
    }
}
