//! `federation::offline`: the reader of air-gapped transfer files, over arbitrary
//! bytes, and the writer and reader together over arbitrary objects.
//!
//! The first byte chooses. Even: the rest is a file, read with the default or a small
//! object limit and 1 or 7 bytes per `read`; reading must terminate (a call budget of input length
//! + 2) and never panic, whatever it decides. Odd: the rest, split at 0xff bytes, is
//! a list of candidate objects; those that are JSON objects are written into a file
//! signed by a fixed key, which must read back verified with exactly those objects.
#![no_main]

use std::io::{self, Read};

use federation::identity::{NodeIdentity, PublicKey};
use federation::offline::{Coverage, TransferHeader, TransferReader, TransferWriter, Trust};
use libfuzzer_sys::fuzz_target;
use stix::Timestamp;
use stix::bundle::ReaderLimits;
use store::Micros;

const SENDER: &str = "identity--7f4c4a4e-9a4b-4a4f-8d1e-2b4b8f0e6c11";
const RECIPIENT: &str = "identity--0b7e1d3c-5f7a-4c2e-9d1b-6a8f0c4e2b13";

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

fn sender() -> NodeIdentity {
    NodeIdentity::from_seed(
        SENDER,
        "fuzz",
        Timestamp::parse("2026-11-02T09:00:00.000Z").unwrap(),
        &[7; 32],
    )
}

fuzz_target!(|data: &[u8]| {
    let Some((&config, rest)) = data.split_first() else {
        return;
    };
    let me = sender();
    let key = me.public_key();
    let keys = move |identity: &str| -> Option<PublicKey> { (identity == SENDER).then_some(key) };
    let trust = Trust {
        recipient: RECIPIENT,
        keys: &keys,
    };
    if config & 1 == 0 {
        // Bits 2–7: 0 for the default object limit (real files), else a small one.
        let limits = match usize::from(config >> 2) {
            0 => ReaderLimits::default(),
            n => ReaderLimits {
                max_object_bytes: n * 4,
            },
        };
        let step = usize::from((config >> 1) & 1) * 6 + 1;
        let mut reader = TransferReader::with_limits(Trickle { data: rest, step }, limits);
        let mut budget = rest.len() + 2;
        loop {
            assert!(budget > 0, "the reader does not terminate");
            budget -= 1;
            match reader.next_object() {
                Ok(Some(object)) => assert!(!object.bytes.is_empty()),
                Ok(None) => break,
                Err(e) => {
                    let _ = e.to_string();
                    return;
                }
            }
        }
        let _ = reader.finish(&trust).map_err(|e| e.to_string());
        return;
    }

    let objects: Vec<&[u8]> = rest
        .split(|&b| b == 0xff)
        .map(|candidate| candidate.trim_ascii())
        .filter(|candidate| {
            stix::json::parse(candidate).is_ok_and(|v| v.as_object().is_some())
                && stix::canonical::to_canonical_vec(&stix::json::parse(candidate).unwrap()).is_ok()
        })
        .collect();
    let mut writer = TransferWriter::new(Vec::new()).unwrap();
    for object in &objects {
        writer.write_object(object).unwrap();
    }
    let header = TransferHeader {
        sender: String::new(),
        recipient: RECIPIENT.to_owned(),
        sequence: 1,
        created: Micros(1_800_000_000_000_000),
        objects: 0,
        collections: vec![Coverage {
            collection: uuid_of(config),
            after: None,
            through: Some(Micros(1_800_000_000_000_000)),
            objects: objects.len() as u64,
        }],
    };
    let (file, written) = writer.finish(header, &me).unwrap();
    let mut reader = TransferReader::new(&file[..]);
    let mut read = Vec::new();
    while let Some(object) = reader.next_object().unwrap() {
        read.push(object.bytes.to_vec());
    }
    assert_eq!(
        read, objects,
        "the objects read back are not the ones written"
    );
    let header = reader
        .finish(&trust)
        .unwrap_or_else(|e| panic!("a file just written is refused: {e}"));
    assert_eq!(header, written);
});

fn uuid_of(seed: u8) -> uuid::Uuid {
    uuid::Uuid::from_bytes([seed; 16])
}
