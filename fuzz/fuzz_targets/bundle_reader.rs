//! `stix::bundle::ObjectReader` over arbitrary bytes, with a small object limit
//! and a reader that hands out a few bytes at a time: reading all objects must
//! terminate, never panic, and hand out only bytes that are in the input.
#![no_main]

use std::io::{self, Read};

use libfuzzer_sys::fuzz_target;
use stix::bundle::{ObjectReader, ReaderLimits, validate_header};

/// Returns at most `step` bytes per call, to exercise every refill path.
struct Trickle<'a> {
    data: &'a [u8],
    step: usize,
}

impl Read for Trickle<'_> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let n = self.step.min(out.len()).min(self.data.len());
        out[..n].copy_from_slice(&self.data[..n]);
        self.data = &self.data[n..];
        Ok(n)
    }
}

fuzz_target!(|data: &[u8]| {
    // The first byte chooses the limits; the rest is the document.
    let Some((&config, doc)) = data.split_first() else {
        return;
    };
    let limits = ReaderLimits {
        max_object_bytes: usize::from(config & 0x3f) + 1,
    };
    let step = usize::from(config >> 6) * 3 + 1;
    let mut reader = ObjectReader::with_limits(Trickle { data: doc, step }, limits);
    // Every object or recoverable error consumes at least one byte, and the
    // end of input or a fatal error ends with Ok(None) on the next call.
    let mut budget = doc.len() + 2;
    loop {
        assert!(budget > 0, "the reader does not terminate");
        budget -= 1;
        match reader.next_object() {
            Ok(Some(raw)) => {
                assert!(!raw.bytes.is_empty(), "empty object handed out");
                let start = usize::try_from(raw.offset).unwrap_or(usize::MAX);
                let end = start.checked_add(raw.bytes.len());
                assert_eq!(
                    end.and_then(|end| doc.get(start..end)),
                    Some(raw.bytes),
                    "object #{} is not the input's bytes at its offset",
                    raw.index
                );
                if let Ok(value) = stix::json::parse(raw.bytes) {
                    let _ = stix::validate_object(&value);
                }
            }
            Ok(None) => break,
            Err(e) => {
                let _ = e.to_string();
            }
        }
    }
    let _ = validate_header(reader.header());

    // The single-pass path must hand out the same kind of objects: the input's
    // bytes at their offset, parsed in place, and it must end.
    let mut reader = ObjectReader::with_limits(Trickle { data: doc, step }, limits);
    let mut visits = 0usize;
    let end = reader.for_each_parsed(stix::json::Limits::default(), |item| {
        visits += 1;
        assert!(visits <= doc.len() + 2, "for_each_parsed does not terminate");
        if let Ok(parsed) = item {
            let start = usize::try_from(parsed.raw.offset).unwrap_or(usize::MAX);
            let end = start.checked_add(parsed.raw.bytes.len());
            assert_eq!(
                end.and_then(|end| doc.get(start..end)),
                Some(parsed.raw.bytes),
                "parsed object #{} is not the input's bytes at its offset",
                parsed.raw.index
            );
            // In place or on its exact bytes, an object gets the same verdict.
            let exact = stix::json::parse(parsed.raw.bytes);
            match &parsed.value {
                Ok(value) => assert_eq!(exact.as_ref().ok(), Some(value)),
                Err(e) => assert!(exact.is_err(), "rejected in place ({e}) but its bytes parse"),
            }
        }
        std::ops::ControlFlow::Continue(())
    });
    let _ = end.map_err(|e| e.to_string());
});
