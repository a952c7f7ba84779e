//! JSON as STIX needs it: a lossless, ordered value type, a strict bounded
//! parser, and a writer. Canonical (RFC 8785) output lives in [`crate::canonical`].

mod parse;
mod value;
mod write;

pub use parse::{Limits, ParseError, ParseErrorKind, parse, parse_prefix, parse_with};
pub use value::{Kind, Map, Number, Value};
pub use write::{to_string, write_compact, write_string};
