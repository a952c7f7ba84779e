//! Where an object came from, as egress needs to know it: our own data or a
//! partner's, and what its signature check said on receipt. A view of the store's
//! per-version [`Provenance`].

use store::Provenance;
pub use store::{Channel, SignatureCheck};

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

impl From<&Provenance> for Origin {
    fn from(provenance: &Provenance) -> Origin {
        match provenance {
            Provenance::Partner {
                partner, signature, ..
            } => Origin::Partner {
                source: partner.clone(),
                signature: signature.clone(),
            },
            // A local account, an operator's import, or anything a later version adds
            // that is not a partner: ours.
            _ => Origin::Own,
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn partner_provenance_is_third_party_and_the_rest_is_ours() {
        let partner = Provenance::Partner {
            partner: "paris".into(),
            channel: Channel::Push,
            signature: SignatureCheck::Verified {
                signer: "identity--a".into(),
            },
        };
        assert_eq!(
            Origin::from(&partner),
            Origin::Partner {
                source: "paris".into(),
                signature: SignatureCheck::Verified {
                    signer: "identity--a".into()
                }
            }
        );
        let account = Provenance::Account {
            name: "analyst".into(),
        };
        assert_eq!(Origin::from(&account), Origin::Own);
        let import = Provenance::Import {
            source: "file.json".into(),
        };
        assert_eq!(Origin::from(&import), Origin::Own);
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
