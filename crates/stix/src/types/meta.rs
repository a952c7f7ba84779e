//! STIX 2.1 META types.

use super::spec::TypeSpec;

/// Every META type.
pub static TYPES: &[TypeSpec] = &[];
