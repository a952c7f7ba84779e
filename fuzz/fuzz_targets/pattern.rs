//! The STIX patterning language on arbitrary UTF-8: checking must never panic.
//!
//! `stix::pattern::parse` is being written on another branch; add
//! `let _ = stix::pattern::parse(text);` here once it is on main.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        for problem in stix::pattern::check(text) {
            assert!(
                problem.offset <= text.chars().count(),
                "problem offset {} is past the end of the pattern",
                problem.offset
            );
        }
    }
});
