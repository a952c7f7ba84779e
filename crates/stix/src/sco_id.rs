//! Deterministic SCO identifiers (STIX 2.1 §2.9): UUIDv5 in the STIX namespace
//! over the canonical JSON of each SCO type's id-contributing properties.
