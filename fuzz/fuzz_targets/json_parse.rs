//! `stix::json::parse` on arbitrary bytes: it must never panic, and whatever it
//! accepts must survive write → parse unchanged, with a stable written form.
#![no_main]

use libfuzzer_sys::fuzz_target;
use stix::json;

fuzz_target!(|data: &[u8]| {
    let Ok(value) = json::parse(data) else {
        return;
    };
    let written = json::to_string(&value);
    let reparsed = match json::parse(written.as_bytes()) {
        Ok(v) => v,
        Err(e) => panic!("written form does not parse ({e}): {written}"),
    };
    assert_eq!(value, reparsed, "write then parse changed the value");
    assert_eq!(
        written,
        json::to_string(&reparsed),
        "the written form is not stable"
    );
});
