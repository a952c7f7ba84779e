//! Parse then `stix::validate_object` on arbitrary bytes: validation of any
//! well-formed JSON must never panic, whatever it contains.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(value) = stix::json::parse(data) {
        for diagnostic in stix::validate_object(&value) {
            // Formatting is part of what reaches the user: it must not panic either.
            let _ = diagnostic.to_string();
        }
    }
});
