//! What the store keeps about partners (issue 4, federation): the [`Channel`] an exchange
//! used, the [`SignatureCheck`] of a received object (both part of
//! [`Provenance::Partner`](crate::Provenance::Partner)), and where each exchange stands
//! ([`SyncCursor`], [`SyncState`]).
//!
//! The text forms here are stored; changing one needs a migration.

use std::fmt;
use std::str::FromStr;

use crate::error::{Result, StoreError};
use crate::time::Micros;

/// How objects travel between this node and a partner.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Channel {
    /// The partner reads from us (or we from them) over TAXII.
    Pull,
    /// We POST to the partner's TAXII server (or they to ours).
    Push,
    /// A signed file carried across an air gap.
    File,
}

impl Channel {
    /// Every channel.
    pub const ALL: [Channel; 3] = [Channel::Pull, Channel::Push, Channel::File];

    /// The stored and configured word: `pull`, `push` or `file`.
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Pull => "pull",
            Channel::Push => "push",
            Channel::File => "file",
        }
    }
}

impl fmt::Display for Channel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Channel {
    type Err = StoreError;

    /// Parses exactly `pull`, `push` or `file`.
    fn from_str(text: &str) -> Result<Channel> {
        match text {
            "pull" => Ok(Channel::Pull),
            "push" => Ok(Channel::Push),
            "file" => Ok(Channel::File),
            other => Err(StoreError::Invalid(format!(
                "channel {other:?} is not pull, push or file"
            ))),
        }
    }
}

/// What checking a received object's signature found. `signer` is the STIX identity id
/// the signature names (`identity--…`), as written in the object.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum SignatureCheck {
    /// Signed by a known partner identity, and the signature holds.
    Verified {
        /// The identity that signed.
        signer: String,
    },
    /// No signature.
    Unsigned,
    /// Signed by an identity no agreement gives a key for; not checked.
    UnknownSigner {
        /// The identity the signature names.
        signer: String,
    },
    /// Signed by a known identity, and the signature does not hold.
    Invalid {
        /// The identity the signature names.
        signer: String,
    },
}

impl SignatureCheck {
    /// The identity the signature names, verified or not (`None` when there is no
    /// signature or it names no one).
    pub fn signer(&self) -> Option<&str> {
        match self {
            SignatureCheck::Verified { signer }
            | SignatureCheck::UnknownSigner { signer }
            | SignatureCheck::Invalid { signer } => Some(signer.as_str()).filter(|s| !s.is_empty()),
            SignatureCheck::Unsigned => None,
        }
    }

    /// The signer, only when the signature verified.
    pub fn verified_signer(&self) -> Option<&str> {
        match self {
            SignatureCheck::Verified { signer } => Some(signer),
            _ => None,
        }
    }

    /// The word naming the outcome: `verified`, `unsigned`, `unknown-signer`, `invalid`.
    pub fn word(&self) -> &'static str {
        match self {
            SignatureCheck::Verified { .. } => "verified",
            SignatureCheck::Unsigned => "unsigned",
            SignatureCheck::UnknownSigner { .. } => "unknown-signer",
            SignatureCheck::Invalid { .. } => "invalid",
        }
    }
}

impl fmt::Display for SignatureCheck {
    /// The stored text form: the [`word`](Self::word), then a space and the signer when
    /// there is one (`verified identity--…`, `unsigned`). [`FromStr`] reads it back
    /// exactly, whatever the signer holds (it is the rest of the text).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.word())?;
        match self {
            SignatureCheck::Verified { signer }
            | SignatureCheck::UnknownSigner { signer }
            | SignatureCheck::Invalid { signer } => write!(f, " {signer}"),
            SignatureCheck::Unsigned => Ok(()),
        }
    }
}

impl FromStr for SignatureCheck {
    type Err = StoreError;

    fn from_str(text: &str) -> Result<SignatureCheck> {
        let (word, signer) = match text.split_once(' ') {
            Some((word, signer)) => (word, Some(signer.to_owned())),
            None => (text, None),
        };
        match (word, signer) {
            ("verified", Some(signer)) => Ok(SignatureCheck::Verified { signer }),
            ("unsigned", None) => Ok(SignatureCheck::Unsigned),
            ("unknown-signer", Some(signer)) => Ok(SignatureCheck::UnknownSigner { signer }),
            ("invalid", Some(signer)) => Ok(SignatureCheck::Invalid { signer }),
            _ => Err(StoreError::Invalid(format!(
                "signature check {text:?} is not \"verified <signer>\", \"unsigned\", \
                 \"unknown-signer <signer>\" or \"invalid <signer>\""
            ))),
        }
    }
}

/// Where one exchange with a partner has got to, saved so it resumes exactly.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncCursor {
    /// The partner's name.
    pub partner: String,
    /// The remote collection id for pull; the local collection id for push and file.
    pub collection: String,
    /// Which exchange.
    pub direction: Channel,
    /// The position, in whatever form that exchange uses (a TAXII `next` or
    /// `added_after` for pull, a local `date_added` for push and file).
    pub cursor: String,
}

/// A batch of objects one exchange with a partner stores (a pulled page, or part of
/// one; a part of a transfer file), with what it moves in that exchange's state: see
/// [`Store::add_objects_in_sync`](crate::Store::add_objects_in_sync).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncStep {
    /// The partner's name.
    pub partner: String,
    /// The remote collection id for pull; the local collection id for push and file.
    pub collection: String,
    /// Which exchange.
    pub direction: Channel,
    /// The position after this batch, saved with it. `None` leaves the saved one: a
    /// page stored as several batches (one per destination and provenance) moves the
    /// cursor with its last batch only, so a node stopped between them pulls the page
    /// again.
    pub cursor: Option<String>,
}

impl SyncStep {
    /// The step that saves `cursor` (its exchange and position) with a batch.
    pub fn to(cursor: SyncCursor) -> SyncStep {
        SyncStep {
            partner: cursor.partner,
            collection: cursor.collection,
            direction: cursor.direction,
            cursor: Some(cursor.cursor),
        }
    }

    /// The step of `cursor`'s exchange that leaves its saved position.
    pub fn within(cursor: &SyncCursor) -> SyncStep {
        SyncStep {
            partner: cursor.partner.clone(),
            collection: cursor.collection.clone(),
            direction: cursor.direction,
            cursor: None,
        }
    }
}

/// The state of one exchange with a partner, as listed for operators.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncState {
    /// The partner's name.
    pub partner: String,
    /// The remote collection id for pull; the local collection id for push and file.
    pub collection: String,
    /// Which exchange.
    pub direction: Channel,
    /// Where it resumes; `None` until a cursor is saved.
    pub cursor: Option<String>,
    /// When an attempt last succeeded.
    pub last_success: Option<Micros>,
    /// When it was last attempted, successfully or not.
    pub last_attempt: Option<Micros>,
    /// The error of the last attempt, if it failed; cleared by a success.
    pub last_error: Option<String>,
    /// How many objects the successful attempts moved, in total.
    pub objects: u64,
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn channels_round_trip() {
        for channel in Channel::ALL {
            assert_eq!(channel.as_str().parse::<Channel>().unwrap(), channel);
            assert_eq!(channel.to_string(), channel.as_str());
        }
        for bad in ["", "Pull", "pull ", "email"] {
            assert!(bad.parse::<Channel>().is_err(), "{bad:?}");
        }
    }

    #[test]
    fn signature_checks_round_trip_exactly() {
        let checks = [
            SignatureCheck::Verified {
                signer: "identity--a".into(),
            },
            SignatureCheck::Unsigned,
            SignatureCheck::UnknownSigner {
                signer: "identity--b".into(),
            },
            SignatureCheck::Invalid {
                signer: "identity--c".into(),
            },
            // A signer comes from the partner's data: any text must come back as it went.
            SignatureCheck::Invalid {
                signer: "two words\nand a line".into(),
            },
            SignatureCheck::UnknownSigner {
                signer: String::new(),
            },
        ];
        for check in checks {
            let text = check.to_string();
            assert_eq!(text.parse::<SignatureCheck>().unwrap(), check, "{text:?}");
        }
        assert_eq!(
            SignatureCheck::Verified {
                signer: "identity--a".into()
            }
            .to_string(),
            "verified identity--a"
        );
        for bad in [
            "",
            "verified",
            "unsigned x",
            "unsigned ",
            "valid identity--a",
        ] {
            assert!(bad.parse::<SignatureCheck>().is_err(), "{bad:?}");
        }
    }
}
