//! STIX 2.1 for Passerelle: the lossless JSON model, streaming bundle reading,
//! validation section by section of the specification, the patterning language,
//! canonical JSON (RFC 8785), deterministic SCO identifiers and TLP markings.
//!
//! This crate does no I/O of its own: readers are generic over [`std::io::Read`].

pub mod bundle;
pub mod canonical;
pub mod diagnostic;
pub mod identifier;
pub mod json;
pub mod markings;
pub mod pattern;
pub mod sco_id;
pub mod timestamp;
pub mod types;
pub mod validate;

pub use diagnostic::{Diagnostic, Severity};
pub use identifier::Identifier;
pub use timestamp::Timestamp;
pub use validate::validate_object;
