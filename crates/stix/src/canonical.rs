//! Canonical JSON (RFC 8785, the JSON Canonicalization Scheme).
