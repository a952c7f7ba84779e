//! `stix::canonical::to_canonical_vec` (RFC 8785) on whatever the parser accepts:
//! it must never panic, its output must parse back to a value with the same
//! canonical form (canonicalization is idempotent), and it must be stable under
//! write → parse of the input.
#![no_main]

use libfuzzer_sys::fuzz_target;
use stix::{canonical, json};

fuzz_target!(|data: &[u8]| {
    let Ok(value) = json::parse(data) else {
        return;
    };
    let Ok(canonical) = canonical::to_canonical_vec(&value) else {
        return;
    };
    let reparsed = match json::parse(&canonical) {
        Ok(v) => v,
        Err(e) => panic!(
            "canonical form does not parse ({e}): {}",
            String::from_utf8_lossy(&canonical)
        ),
    };
    assert_eq!(
        canonical::to_canonical_vec(&reparsed).ok().as_deref(),
        Some(canonical.as_slice()),
        "canonicalization is not idempotent"
    );
    let written = json::to_string(&value);
    let rewritten = json::parse(written.as_bytes()).expect("written form parses");
    assert_eq!(
        canonical::to_canonical_vec(&rewritten).ok().as_deref(),
        Some(canonical.as_slice()),
        "canonical form changed after write then parse"
    );
});
