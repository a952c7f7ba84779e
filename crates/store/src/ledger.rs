//! The disclosure ledger (issue 4): an append-only, hash-chained record of every object
//! version disclosed to a partner, received from one, or deleted here.
//!
//! Each entry's [`hash`](LedgerEntry::hash) is [`entry_hash`]: SHA-256 over the previous
//! entry's hash (hex), a newline, and the RFC 8785 canonical JSON of the entry's other
//! fields. Entry 1's previous hash is [`GENESIS_HASH`]. So editing an entry breaks its
//! hash, and deleting or reordering entries breaks a `seq` or a `prev_hash` link:
//! [`verify`] walks entries and names the first bad one.
//!
//! Backends assign `seq`, `time` and both hashes inside their write transaction, with
//! [`LedgerEntry::after`] on the last entry read under the write lock, so concurrent
//! appends always form one chain.

use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;

use sha2::{Digest, Sha256};
use stix::json::{Map, Number, Value};
use uuid::Uuid;

use crate::error::{Result, StoreError};
use crate::partner::Channel;
use crate::time::Micros;

/// The `prev_hash` of entry 1: 64 zeros.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The rule of a `received` entry.
pub const RULE_RECEIVED: &str = "received";

/// The rule of a `deleted` entry for a version deleted on this node.
pub const RULE_LOCAL_DELETE: &str = "local-delete";

/// Which way an entry's object version went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    /// Sent to a partner (pulled by them, pushed or written to a file by us).
    Disclosed,
    /// Received from a partner and stored.
    Received,
    /// Deleted from this node.
    Deleted,
}

impl Direction {
    /// The stored word: `disclosed`, `received` or `deleted`.
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Disclosed => "disclosed",
            Direction::Received => "received",
            Direction::Deleted => "deleted",
        }
    }
}

impl fmt::Display for Direction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Direction {
    type Err = StoreError;

    fn from_str(text: &str) -> Result<Direction> {
        match text {
            "disclosed" => Ok(Direction::Disclosed),
            "received" => Ok(Direction::Received),
            "deleted" => Ok(Direction::Deleted),
            other => Err(StoreError::Invalid(format!(
                "ledger direction {other:?} is not disclosed, received or deleted"
            ))),
        }
    }
}

/// An entry to append: what the caller knows. The store adds `seq`, `time` and the hashes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewLedgerEntry {
    /// Which way the version went.
    pub direction: Direction,
    /// The partner it went to or came from; required unless `deleted`.
    pub partner: Option<String>,
    /// How it went; required unless `deleted`.
    pub channel: Option<Channel>,
    /// The local collection.
    pub collection: Uuid,
    /// The STIX id.
    pub object_id: String,
    /// The version, as written in the object.
    pub version: String,
    /// Lowercase hex SHA-256 of the exact bytes sent or received (for `deleted`, of the
    /// stored bytes deleted); see [`sha256_hex`].
    pub bytes_sha256: String,
    /// The egress rule that allowed a disclosure, or [`RULE_RECEIVED`], or [`RULE_LOCAL_DELETE`].
    pub rule: String,
}

impl NewLedgerEntry {
    /// How many of `entries` record a disclosure: what an exchange that appends them
    /// with its cursor moved.
    pub fn count_disclosed(entries: &[NewLedgerEntry]) -> u64 {
        entries
            .iter()
            .filter(|e| e.direction == Direction::Disclosed)
            .count() as u64
    }

    /// Checks what every backend refuses the same way, with [`StoreError::Invalid`]
    /// naming the object and the field.
    pub fn check(&self) -> Result<()> {
        let invalid = |what: &str| {
            Err(StoreError::Invalid(format!(
                "ledger entry ({} {} of {}): {what}",
                self.direction, self.object_id, self.collection
            )))
        };
        if self.direction != Direction::Deleted {
            if self.partner.is_none() {
                return invalid("partner is required");
            }
            if self.channel.is_none() {
                return invalid("channel is required");
            }
        }
        if self.partner.as_deref() == Some("") {
            return invalid("partner is empty");
        }
        if self.object_id.is_empty() {
            return invalid("object_id is empty");
        }
        if self.version.is_empty() {
            return invalid("version is empty");
        }
        if self.rule.is_empty() {
            return invalid("rule is empty");
        }
        if !is_sha256_hex(&self.bytes_sha256) {
            return invalid("bytes_sha256 is not 64 lowercase hex digits");
        }
        Ok(())
    }
}

fn is_sha256_hex(text: &str) -> bool {
    text.len() == 64 && text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// A stored ledger entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LedgerEntry {
    /// Its position: 1, 2, 3, … with no gaps.
    pub seq: u64,
    /// When it was appended; never earlier than the entry before it.
    pub time: Micros,
    /// Which way the version went.
    pub direction: Direction,
    /// The partner; `None` only for `deleted`.
    pub partner: Option<String>,
    /// The channel; `None` only for `deleted`.
    pub channel: Option<Channel>,
    /// The local collection.
    pub collection: Uuid,
    /// The STIX id.
    pub object_id: String,
    /// The version, as written in the object.
    pub version: String,
    /// Lowercase hex SHA-256 of the bytes.
    pub bytes_sha256: String,
    /// The rule.
    pub rule: String,
    /// The previous entry's `hash` ([`GENESIS_HASH`] for entry 1).
    pub prev_hash: String,
    /// [`entry_hash`] of this entry.
    pub hash: String,
}

impl LedgerEntry {
    /// The entry that follows `prev` (`None`: the ledger is empty), appended at `time`
    /// (raised to `prev`'s time if the clock went back), with its hash computed.
    /// Backends call this on the last entry read under their write lock.
    pub fn after(prev: Option<&LedgerEntry>, time: Micros, entry: NewLedgerEntry) -> LedgerEntry {
        let (seq, time, prev_hash) = match prev {
            Some(prev) => (prev.seq + 1, time.max(prev.time), prev.hash.clone()),
            None => (1, time, GENESIS_HASH.to_owned()),
        };
        let mut next = LedgerEntry {
            seq,
            time,
            direction: entry.direction,
            partner: entry.partner,
            channel: entry.channel,
            collection: entry.collection,
            object_id: entry.object_id,
            version: entry.version,
            bytes_sha256: entry.bytes_sha256,
            rule: entry.rule,
            prev_hash,
            hash: String::new(),
        };
        next.hash = entry_hash(&next);
        next
    }

    /// Checks that this entry, copied as it is from another store, may be appended after
    /// `prev` (`None`: the ledger is empty): its `seq` is the next one, its `prev_hash`
    /// is `prev`'s hash ([`GENESIS_HASH`] for entry 1), its `time` is not before
    /// `prev`'s, its hash is [`entry_hash`] of its fields, and its fields pass
    /// [`NewLedgerEntry::check`]. Every backend's
    /// [`Store::restore_ledger`](crate::Store::restore_ledger) refuses an entry that
    /// fails this with the [`StoreError::Invalid`] it returns, naming the entry.
    pub fn check_follows(&self, prev: Option<&LedgerEntry>) -> Result<()> {
        let refuse = |why: String| {
            Err(StoreError::Invalid(format!(
                "ledger entry {} cannot be restored: {why}",
                self.seq
            )))
        };
        let (seq, prev_hash) = match prev {
            Some(prev) => (prev.seq + 1, prev.hash.as_str()),
            None => (1, GENESIS_HASH),
        };
        if self.seq != seq {
            return refuse(format!("the ledger's next entry is {seq}"));
        }
        if self.prev_hash != prev_hash {
            return refuse(format!(
                "its prev_hash is not the hash of the ledger's last entry ({prev_hash})"
            ));
        }
        if let Some(prev) = prev
            && self.time < prev.time
        {
            return refuse(format!(
                "its time {} is before the last entry's ({})",
                self.time, prev.time
            ));
        }
        if self.hash != entry_hash(self) {
            return refuse("its hash does not match its fields".to_owned());
        }
        NewLedgerEntry {
            direction: self.direction,
            partner: self.partner.clone(),
            channel: self.channel,
            collection: self.collection,
            object_id: self.object_id.clone(),
            version: self.version.clone(),
            bytes_sha256: self.bytes_sha256.clone(),
            rule: self.rule.clone(),
        }
        .check()
        .or_else(|error| match error {
            StoreError::Invalid(why) => refuse(why),
            other => Err(other),
        })
    }
}

/// Lowercase hex of the SHA-256 of `bytes`: the form of `bytes_sha256` and of the hashes.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0xf)]));
    }
    out
}

/// The one definition of an entry's hash: lowercase hex of
/// `SHA-256(prev_hash || "\n" || canonical_json)`, where `prev_hash` is
/// `entry.prev_hash` as stored (hex text) and `canonical_json` is the RFC 8785 form of
/// the object with these members (`entry.hash` is not read):
///
/// | key | value |
/// |---|---|
/// | `seq` | integer |
/// | `time` | integer, µs since the epoch |
/// | `direction` | `"disclosed"`, `"received"` or `"deleted"` |
/// | `partner` | string or `null` |
/// | `channel` | `"pull"`, `"push"`, `"file"` or `null` |
/// | `collection` | the collection UUID, lowercase hyphenated |
/// | `object_id`, `version`, `bytes_sha256`, `rule` | strings |
///
/// An auditor can recompute it with any RFC 8785 implementation (members sorted by key,
/// no whitespace).
pub fn entry_hash(entry: &LedgerEntry) -> String {
    fn text(s: &str) -> Value<'_> {
        Value::String(Cow::Borrowed(s))
    }
    fn integer<'a>(n: i64) -> Value<'a> {
        Value::Number(Number::from_i64(n))
    }
    let collection = entry.collection.to_string();
    let mut fields = Map::with_capacity(10);
    fields.insert("seq", integer(i64::try_from(entry.seq).unwrap_or(i64::MAX)));
    fields.insert("time", integer(entry.time.0));
    fields.insert("direction", text(entry.direction.as_str()));
    fields.insert(
        "partner",
        entry.partner.as_deref().map_or(Value::Null, text),
    );
    fields.insert(
        "channel",
        entry.channel.map_or(Value::Null, |c| text(c.as_str())),
    );
    fields.insert("collection", text(&collection));
    fields.insert("object_id", text(&entry.object_id));
    fields.insert("version", text(&entry.version));
    fields.insert("bytes_sha256", text(&entry.bytes_sha256));
    fields.insert("rule", text(&entry.rule));
    // Only non-finite numbers lack a canonical form, and every number here is an integer.
    let json = stix::canonical::to_canonical_vec(&Value::Object(fields)).unwrap_or_default();
    let mut hasher = Sha256::new();
    hasher.update(entry.prev_hash.as_bytes());
    hasher.update(b"\n");
    hasher.update(&json);
    hex(&hasher.finalize())
}

/// Where a ledger stops holding together, found by [`verify`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("ledger entry {seq}: {reason}")]
pub struct LedgerBreak {
    /// The first entry that does not follow from those before it.
    pub seq: u64,
    /// Why.
    pub reason: BreakReason,
}

/// Why a ledger entry does not follow from those before it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BreakReason {
    /// Its stored hash is not [`entry_hash`] of its fields: the entry was edited.
    HashMismatch,
    /// Its `prev_hash` is not the previous entry's hash: an entry before it was deleted,
    /// edited with its hash recomputed, or entries were reordered.
    BrokenLink,
    /// Its `seq` skips ahead: entries `expected..seq` are missing (deleted).
    Gap {
        /// The `seq` that should have come next.
        expected: u64,
    },
    /// Its `seq` is not after the previous one: entries are out of order or repeated.
    OutOfOrder {
        /// The `seq` that should have come next.
        expected: u64,
    },
}

impl fmt::Display for BreakReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BreakReason::HashMismatch => {
                f.write_str("its hash does not match its fields (the entry was edited)")
            }
            BreakReason::BrokenLink => f.write_str(
                "its prev_hash is not the previous entry's hash \
                 (an entry was deleted or edited, or entries were reordered)",
            ),
            BreakReason::Gap { expected } => {
                write!(f, "expected entry {expected} first (entries were deleted)")
            }
            BreakReason::OutOfOrder { expected } => write!(
                f,
                "expected entry {expected} (entries are out of order or repeated)"
            ),
        }
    }
}

/// Checks a ledger entry by entry, for callers that read it a page at a time.
/// [`verify`] is this over a slice.
#[derive(Debug, Clone)]
pub struct LedgerVerifier {
    next_seq: u64,
    prev_hash: String,
    count: u64,
}

impl Default for LedgerVerifier {
    fn default() -> LedgerVerifier {
        LedgerVerifier::new()
    }
}

impl LedgerVerifier {
    /// A verifier expecting entry 1.
    pub fn new() -> LedgerVerifier {
        LedgerVerifier {
            next_seq: 1,
            prev_hash: GENESIS_HASH.to_owned(),
            count: 0,
        }
    }

    /// Checks the next entry: its `seq` follows, its `prev_hash` links to the previous
    /// entry's hash, and its hash is [`entry_hash`] of its fields, in that order.
    pub fn check(&mut self, entry: &LedgerEntry) -> Result<(), LedgerBreak> {
        let broken = |reason| {
            Err(LedgerBreak {
                seq: entry.seq,
                reason,
            })
        };
        let expected = self.next_seq;
        if entry.seq > expected {
            return broken(BreakReason::Gap { expected });
        }
        if entry.seq < expected {
            return broken(BreakReason::OutOfOrder { expected });
        }
        if entry.prev_hash != self.prev_hash {
            return broken(BreakReason::BrokenLink);
        }
        if entry.hash != entry_hash(entry) {
            return broken(BreakReason::HashMismatch);
        }
        self.next_seq = entry.seq + 1;
        self.prev_hash.clone_from(&entry.hash);
        self.count += 1;
        Ok(())
    }

    /// How many entries have been checked and found good.
    pub fn count(&self) -> u64 {
        self.count
    }
}

/// Walks a whole ledger from entry 1 in the order given (read it in `seq` order) and
/// returns how many entries it holds, or the first entry that breaks the chain and why.
pub fn verify(entries: &[LedgerEntry]) -> Result<u64, LedgerBreak> {
    let mut verifier = LedgerVerifier::new();
    for entry in entries {
        verifier.check(entry)?;
    }
    Ok(verifier.count())
}

/// Which ledger entries to read, always in `seq` order. Filters combine with AND.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LedgerQuery {
    /// Only entries about this partner.
    pub partner: Option<String>,
    /// Only entries going this way.
    pub direction: Option<Direction>,
    /// Only entries appended at or after this instant.
    pub since: Option<Micros>,
    /// Only entries after this `seq` (to page: the last `seq` read).
    pub after_seq: Option<u64>,
    /// At most this many entries (at least 1); `None`: all.
    pub limit: Option<usize>,
}

impl LedgerQuery {
    /// Checks the limits every backend enforces the same way.
    pub fn check(&self) -> Result<()> {
        if self.limit == Some(0) {
            return Err(StoreError::Invalid("limit must be at least 1".into()));
        }
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn new_entry(n: u32) -> NewLedgerEntry {
        NewLedgerEntry {
            direction: Direction::Disclosed,
            partner: Some("paris".into()),
            channel: Some(Channel::Push),
            collection: Uuid::from_u128(7),
            object_id: format!("indicator--{n}"),
            version: "2021-01-01T00:00:00.000Z".into(),
            bytes_sha256: sha256_hex(n.to_string().as_bytes()),
            rule: "own-data".into(),
        }
    }

    fn chain(n: u32) -> Vec<LedgerEntry> {
        let mut entries: Vec<LedgerEntry> = Vec::new();
        for i in 0..n {
            let entry = LedgerEntry::after(entries.last(), Micros(i64::from(i)), new_entry(i));
            entries.push(entry);
        }
        entries
    }

    /// The hash is pinned: it is stored, and auditors recompute it elsewhere.
    #[test]
    fn the_entry_hash_is_fixed() {
        let entry = LedgerEntry::after(None, Micros(1_704_067_200_000_000), new_entry(1));
        let json = r#"{"bytes_sha256":"6b86b273ff34fce19d6b804eff5a3f5747ada4eaa22f1d49c01e52ddb7875b4b","channel":"push","collection":"00000000-0000-0000-0000-000000000007","direction":"disclosed","object_id":"indicator--1","partner":"paris","rule":"own-data","seq":1,"time":1704067200000000,"version":"2021-01-01T00:00:00.000Z"}"#;
        let expected = sha256_hex(format!("{GENESIS_HASH}\n{json}").as_bytes());
        assert_eq!(entry.hash, expected);
        assert_eq!(entry.prev_hash, GENESIS_HASH);
        assert_eq!(
            sha256_hex(b""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        // Absent partner and channel are JSON nulls.
        let deleted = LedgerEntry::after(
            None,
            Micros(5),
            NewLedgerEntry {
                direction: Direction::Deleted,
                partner: None,
                channel: None,
                rule: RULE_LOCAL_DELETE.into(),
                ..new_entry(1)
            },
        );
        let json = r#"{"bytes_sha256":"6b86b273ff34fce19d6b804eff5a3f5747ada4eaa22f1d49c01e52ddb7875b4b","channel":null,"collection":"00000000-0000-0000-0000-000000000007","direction":"deleted","object_id":"indicator--1","partner":null,"rule":"local-delete","seq":1,"time":5,"version":"2021-01-01T00:00:00.000Z"}"#;
        assert_eq!(
            deleted.hash,
            sha256_hex(format!("{GENESIS_HASH}\n{json}").as_bytes())
        );
    }

    #[test]
    fn a_chain_verifies() {
        assert_eq!(verify(&[]), Ok(0));
        let entries = chain(20);
        assert_eq!(verify(&entries), Ok(20));
        assert!(entries.windows(2).all(|w| w[1].prev_hash == w[0].hash));
        assert_eq!(entries[19].seq, 20);
    }

    #[test]
    fn time_never_goes_back() {
        let first = LedgerEntry::after(None, Micros(100), new_entry(1));
        let second = LedgerEntry::after(Some(&first), Micros(50), new_entry(2));
        assert_eq!(second.time, Micros(100));
    }

    #[test]
    fn every_break_is_named() {
        let entries = chain(10);
        let mut edited = entries.clone();
        edited[4].rule = "third-party-clear".into();
        assert_eq!(
            verify(&edited),
            Err(LedgerBreak {
                seq: 5,
                reason: BreakReason::HashMismatch
            })
        );
        // Edited with its hash recomputed: the next link breaks.
        edited[4].hash = entry_hash(&edited[4]);
        assert_eq!(
            verify(&edited),
            Err(LedgerBreak {
                seq: 6,
                reason: BreakReason::BrokenLink
            })
        );
        let mut deleted = entries.clone();
        deleted.remove(3);
        assert_eq!(
            verify(&deleted),
            Err(LedgerBreak {
                seq: 5,
                reason: BreakReason::Gap { expected: 4 }
            })
        );
        assert_eq!(
            verify(&entries[1..]),
            Err(LedgerBreak {
                seq: 2,
                reason: BreakReason::Gap { expected: 1 }
            })
        );
        let mut reordered = entries.clone();
        reordered.swap(2, 6);
        assert_eq!(
            verify(&reordered),
            Err(LedgerBreak {
                seq: 7,
                reason: BreakReason::Gap { expected: 3 }
            })
        );
        let mut repeated = entries.clone();
        repeated.insert(5, entries[4].clone());
        assert_eq!(
            verify(&repeated),
            Err(LedgerBreak {
                seq: 5,
                reason: BreakReason::OutOfOrder { expected: 6 }
            })
        );
        let message = verify(&deleted).unwrap_err().to_string();
        assert!(
            message.contains("entry 5") && message.contains("deleted"),
            "{message}"
        );
    }

    #[test]
    fn a_verifier_resumes_page_by_page() {
        let entries = chain(10);
        let mut verifier = LedgerVerifier::new();
        for page in entries.chunks(3) {
            for entry in page {
                verifier.check(entry).unwrap();
            }
        }
        assert_eq!(verifier.count(), 10);
    }

    #[test]
    fn new_entries_are_checked() {
        assert!(new_entry(1).check().is_ok());
        let bad = [
            NewLedgerEntry {
                partner: None,
                ..new_entry(1)
            },
            NewLedgerEntry {
                channel: None,
                ..new_entry(1)
            },
            NewLedgerEntry {
                partner: Some(String::new()),
                ..new_entry(1)
            },
            NewLedgerEntry {
                bytes_sha256: "ABC".into(),
                ..new_entry(1)
            },
            NewLedgerEntry {
                bytes_sha256: sha256_hex(b"x").to_uppercase(),
                ..new_entry(1)
            },
            NewLedgerEntry {
                rule: String::new(),
                ..new_entry(1)
            },
            NewLedgerEntry {
                object_id: String::new(),
                ..new_entry(1)
            },
            NewLedgerEntry {
                version: String::new(),
                ..new_entry(1)
            },
        ];
        for entry in bad {
            assert!(
                matches!(entry.check(), Err(StoreError::Invalid(_))),
                "{entry:?}"
            );
        }
        let deleted = NewLedgerEntry {
            direction: Direction::Deleted,
            partner: None,
            channel: None,
            ..new_entry(1)
        };
        assert!(deleted.check().is_ok());
        for direction in [
            Direction::Disclosed,
            Direction::Received,
            Direction::Deleted,
        ] {
            assert_eq!(direction.as_str().parse::<Direction>().unwrap(), direction);
        }
        assert!("sent".parse::<Direction>().is_err());
    }
}
