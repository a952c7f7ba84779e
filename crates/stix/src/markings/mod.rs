//! TLP and marking helpers for the whole node: TLP 2.0 levels, the standard
//! TLP marking-definition objects (1.0 and 2.0), an object's TLP level, and
//! granular-marking selectors with the removal of marked content.
//!
//! The validation of markings lives in [`crate::validate`]; this module only
//! reads and rewrites objects.

mod selector;
mod tlp;

pub use selector::{
    GranularMarking, Marking, Removal, Segment, SelectorError, SelectorPath, granular_markings,
    parse_selector, properties_marked_by, redact_above, remove_selected, resolve_path,
    resolve_selector,
};
pub use tlp::{
    ParseTlpError, TLP_1_0_MARKINGS, TLP_2_0_EXTENSION_ID, TLP_2_0_MARKINGS, TLP_AMBER,
    TLP_AMBER_STRICT, TLP_CLEAR, TLP_GREEN, TLP_RED, TLP1_AMBER, TLP1_GREEN, TLP1_RED, TLP1_WHITE,
    Tlp, TlpMarking, TlpVersion, object_tlp, standard_marking, tlp_of_marking_id,
};
