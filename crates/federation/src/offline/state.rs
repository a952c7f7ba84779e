//! Where the file exchanges with each partner stand, kept in the store's sync state
//! (direction `file`) under two fixed keys instead of a collection id:
//!
//! - [`OUTBOUND_STATE`]: the last file written for the partner and, per local
//!   collection, the `date_added` it covered up to. One row, so that a file's ledger
//!   entries and everything it moves on are saved in one transaction
//!   (`Store::append_ledger` takes one cursor).
//! - [`INBOUND_STATE`]: the sequence numbers of the partner's files imported here.
//!
//! Text forms (stored; changing one needs a migration of the rows):
//! outbound `3 <collection uuid>=<µs> <collection uuid>=<µs>`, inbound `1-3,5`.

use std::collections::BTreeMap;
use std::fmt;

use store::{Channel, Micros, SyncCursor};
use uuid::Uuid;

/// The sync-state key of a partner's outbound file exchange.
pub const OUTBOUND_STATE: &str = "outbound";

/// The sync-state key of a partner's inbound file exchange.
pub const INBOUND_STATE: &str = "inbound";

/// What has been written for one partner.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OutboundState {
    /// The sequence number of the last file written (0: none yet).
    pub sequence: u64,
    /// Per local collection, the `date_added` of the last version the files covered.
    pub positions: BTreeMap<Uuid, Micros>,
}

impl OutboundState {
    /// Reads the stored text form.
    pub fn parse(text: &str) -> Result<OutboundState, String> {
        let mut parts = text.split(' ');
        let sequence = parts
            .next()
            .and_then(|s| s.parse::<u64>().ok())
            .ok_or_else(|| "it does not start with a sequence number".to_owned())?;
        let mut positions = BTreeMap::new();
        for part in parts {
            let position = part.split_once('=').and_then(|(collection, micros)| {
                Some((
                    Uuid::parse_str(collection).ok()?,
                    Micros(micros.parse::<i64>().ok()?),
                ))
            });
            let (collection, micros) =
                position.ok_or_else(|| format!("{part:?} is not <collection>=<µs>"))?;
            positions.insert(collection, micros);
        }
        Ok(OutboundState {
            sequence,
            positions,
        })
    }

    /// The cursor saving this state for `partner`.
    pub fn cursor(&self, partner: &str) -> SyncCursor {
        SyncCursor {
            partner: partner.to_owned(),
            collection: OUTBOUND_STATE.to_owned(),
            direction: Channel::File,
            cursor: self.to_string(),
        }
    }
}

impl fmt::Display for OutboundState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.sequence)?;
        for (collection, micros) in &self.positions {
            write!(f, " {collection}={}", micros.0)?;
        }
        Ok(())
    }
}

/// Which files of one partner have been imported.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InboundState {
    /// Imported sequence numbers as inclusive ranges, in order, not touching.
    ranges: Vec<(u64, u64)>,
}

impl InboundState {
    /// Reads the stored text form.
    pub fn parse(text: &str) -> Result<InboundState, String> {
        let mut state = InboundState::default();
        if text.is_empty() {
            return Ok(state);
        }
        for part in text.split(',') {
            let range = match part.split_once('-') {
                Some((a, b)) => a.parse::<u64>().ok().zip(b.parse::<u64>().ok()),
                None => part.parse::<u64>().ok().map(|n| (n, n)),
            };
            let (first, last) = range
                .filter(|(a, b)| a <= b)
                .ok_or_else(|| format!("{part:?} is not a sequence number or range"))?;
            state.insert_range(first, last);
        }
        Ok(state)
    }

    /// Whether file `sequence` has been imported.
    pub fn contains(&self, sequence: u64) -> bool {
        self.ranges
            .iter()
            .any(|&(first, last)| (first..=last).contains(&sequence))
    }

    /// Records file `sequence` as imported.
    pub fn insert(&mut self, sequence: u64) {
        self.insert_range(sequence, sequence);
    }

    fn insert_range(&mut self, first: u64, last: u64) {
        self.ranges.push((first, last));
        self.ranges.sort_unstable();
        let mut merged: Vec<(u64, u64)> = Vec::with_capacity(self.ranges.len());
        for &(a, b) in &self.ranges {
            match merged.last_mut() {
                Some(prev) if a <= prev.1.saturating_add(1) => prev.1 = prev.1.max(b),
                _ => merged.push((a, b)),
            }
        }
        self.ranges = merged;
    }

    /// The sequence numbers before `sequence` not imported, as inclusive ranges.
    pub fn missing_before(&self, sequence: u64) -> Vec<(u64, u64)> {
        let mut missing = Vec::new();
        let mut next = 1;
        for &(first, last) in &self.ranges {
            if first >= sequence {
                break;
            }
            if first > next {
                missing.push((next, first - 1));
            }
            next = last.saturating_add(1);
        }
        if next < sequence {
            missing.push((next, sequence - 1));
        }
        missing
    }

    /// The cursor saving this state for `partner`.
    pub fn cursor(&self, partner: &str) -> SyncCursor {
        SyncCursor {
            partner: partner.to_owned(),
            collection: INBOUND_STATE.to_owned(),
            direction: Channel::File,
            cursor: self.to_string(),
        }
    }
}

impl fmt::Display for InboundState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, &(first, last)) in self.ranges.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            if first == last {
                write!(f, "{first}")?;
            } else {
                write!(f, "{first}-{last}")?;
            }
        }
        Ok(())
    }
}

/// Ranges as operators read them: `2`, `2-4`, joined by commas.
pub fn ranges_text(ranges: &[(u64, u64)]) -> String {
    ranges
        .iter()
        .map(|&(a, b)| {
            if a == b {
                a.to_string()
            } else {
                format!("{a}-{b}")
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn outbound_state_round_trips() {
        assert_eq!(OutboundState::parse("0").unwrap(), OutboundState::default());
        let mut state = OutboundState {
            sequence: 3,
            ..OutboundState::default()
        };
        state.positions.insert(
            Uuid::parse_str("1b2c3d4e-0000-4000-8000-000000000001").unwrap(),
            Micros(1_714_564_800_000_001),
        );
        state.positions.insert(
            Uuid::parse_str("1b2c3d4e-0000-4000-8000-000000000002").unwrap(),
            Micros(5),
        );
        let text = state.to_string();
        assert_eq!(
            text,
            "3 1b2c3d4e-0000-4000-8000-000000000001=1714564800000001 \
             1b2c3d4e-0000-4000-8000-000000000002=5"
        );
        assert_eq!(OutboundState::parse(&text).unwrap(), state);
        let cursor = state.cursor("paris");
        assert_eq!(
            (cursor.collection.as_str(), cursor.direction),
            (OUTBOUND_STATE, Channel::File)
        );
        for bad in [
            "",
            "x",
            "3 nope",
            "3 1b2c3d4e-0000-4000-8000-000000000001=x",
        ] {
            assert!(OutboundState::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn inbound_state_keeps_ranges_and_finds_gaps() {
        let mut state = InboundState::default();
        assert_eq!(state.to_string(), "");
        assert_eq!(state.missing_before(3), vec![(1, 2)]);
        for n in [1, 2, 5, 3, 9, 8] {
            state.insert(n);
        }
        assert_eq!(state.to_string(), "1-3,5,8-9");
        assert!(state.contains(2) && state.contains(5) && state.contains(9));
        assert!(!state.contains(4) && !state.contains(6) && !state.contains(10));
        assert_eq!(state.missing_before(10), vec![(4, 4), (6, 7)]);
        assert_eq!(state.missing_before(4), vec![]);
        assert_eq!(state.missing_before(1), vec![]);
        assert_eq!(ranges_text(&state.missing_before(10)), "4, 6-7");
        let parsed = InboundState::parse(&state.to_string()).unwrap();
        assert_eq!(parsed, state);
        assert_eq!(
            InboundState::parse("1-1000000000").unwrap().to_string(),
            "1-1000000000"
        );
        assert_eq!(state.cursor("paris").collection, INBOUND_STATE);
        for bad in ["x", "3-1", "1,,2", "-1"] {
            assert!(InboundState::parse(bad).is_err(), "{bad:?}");
        }
    }
}
