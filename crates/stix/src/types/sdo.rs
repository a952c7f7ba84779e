//! STIX 2.1 SDO types.

use super::spec::TypeSpec;

/// Every SDO type.
pub static TYPES: &[TypeSpec] = &[];
