//! The STIX patterning language on arbitrary UTF-8: parsing and checking must
//! never panic, offsets must stay inside the pattern, and a pattern that does
//! not parse must be reported as an error by `check`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use stix::Severity;
use stix::pattern;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let chars = text.chars().count();
    let parsed = pattern::parse(text);
    if let Err(e) = &parsed {
        assert!(
            e.offset <= chars,
            "syntax error offset {} is past the end of the pattern",
            e.offset
        );
        let _ = e.to_string();
    }
    let problems = pattern::check(text);
    for problem in &problems {
        assert!(
            problem.offset <= chars,
            "problem offset {} is past the end of the pattern",
            problem.offset
        );
    }
    if parsed.is_err() {
        assert!(
            problems.iter().any(|p| p.severity == Severity::Error),
            "parse fails but check reports no error"
        );
    }
});
