//! STIX 2.1 SCO types.

use super::spec::TypeSpec;

/// Every SCO type.
pub static TYPES: &[TypeSpec] = &[];
