//! Where an object came from, as egress needs to know it: our own data or a
//! partner's, and what its signature check said on receipt.
//!
//! `Channel` and `SignatureCheck` mirror the ones the `store` crate gains with
//! `Provenance::Partner { partner, channel, signature }` (design note of issue 4).
//! They live here only until that work is merged: the lead switches this crate
//! to the store's types then, and `Origin` becomes a view of `store::Provenance`.

use std::fmt;
use std::str::FromStr;

/// How objects travel between two nodes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Channel {
    /// The partner reads our collections over TAXII.
    Pull,
    /// We POST to the partner's collections.
    Push,
    /// An air-gapped signed file.
    File,
}

impl Channel {
    /// The text form: exactly `pull`, `push` or `file`.
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

/// A string that is not `pull`, `push` or `file`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a channel (pull, push or file)")]
pub struct ParseChannelError(pub String);

impl FromStr for Channel {
    type Err = ParseChannelError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "pull" => Ok(Channel::Pull),
            "push" => Ok(Channel::Push),
            "file" => Ok(Channel::File),
            other => Err(ParseChannelError(other.to_owned())),
        }
    }
}

/// What checking an object's signature found. `signer` is the STIX identity id
/// the signature names.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum SignatureCheck {
    /// The signature verified with the key we hold for `signer`.
    Verified {
        /// The identity that signed.
        signer: String,
    },
    /// The object carries no signature.
    Unsigned,
    /// The object is signed by an identity whose key we do not hold.
    UnknownSigner {
        /// The identity the signature names.
        signer: String,
    },
    /// The signature is malformed or does not verify (the object or the
    /// signature was changed, or another key signed). `signer` is what the
    /// signature claims, empty when it names none.
    Invalid {
        /// The identity the signature claims.
        signer: String,
    },
}

impl SignatureCheck {
    /// The identity the signature names, verified or not.
    pub fn signer(&self) -> Option<&str> {
        match self {
            SignatureCheck::Verified { signer }
            | SignatureCheck::UnknownSigner { signer }
            | SignatureCheck::Invalid { signer } => Some(signer).filter(|s| !s.is_empty()),
            SignatureCheck::Unsigned => None,
        }
        .map(String::as_str)
    }

    /// The signer, only when the signature verified.
    pub fn verified_signer(&self) -> Option<&str> {
        match self {
            SignatureCheck::Verified { signer } => Some(signer),
            _ => None,
        }
    }
}

/// Whose data an object is, for egress.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// Ours: posted by a local account or imported by an operator.
    Own,
    /// Given to us by a partner (third-party data).
    Partner {
        /// The partner (config name) that gave it to us.
        source: String,
        /// What its signature check said when we received it.
        signature: SignatureCheck,
    },
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn channel_text_round_trips() {
        for c in [Channel::Pull, Channel::Push, Channel::File] {
            assert_eq!(c.to_string().parse::<Channel>().unwrap(), c);
        }
        assert_eq!(
            "Pull".parse::<Channel>(),
            Err(ParseChannelError("Pull".into()))
        );
    }

    #[test]
    fn signer_of_each_check() {
        let v = SignatureCheck::Verified {
            signer: "identity--a".into(),
        };
        assert_eq!(v.signer(), Some("identity--a"));
        assert_eq!(v.verified_signer(), Some("identity--a"));
        let u = SignatureCheck::UnknownSigner {
            signer: "identity--b".into(),
        };
        assert_eq!(u.signer(), Some("identity--b"));
        assert_eq!(u.verified_signer(), None);
        assert_eq!(SignatureCheck::Unsigned.signer(), None);
        let i = SignatureCheck::Invalid {
            signer: String::new(),
        };
        assert_eq!(i.signer(), None);
    }
}
