//! STIX 2.1 SRO types.

use super::spec::TypeSpec;

/// Every SRO type.
pub static TYPES: &[TypeSpec] = &[];
