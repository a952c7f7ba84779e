//! What the node does with an object a partner sends (by push, by pull, or in a
//! file): check its signature against the keys we know and apply the partner's
//! `[partners.inbound]` rules. Accepted objects are stored with
//! `Provenance::Partner`, which makes the store append the `received` ledger entry.

use store::{Channel, Provenance};

use crate::agreement::OnInvalidSignature;
use crate::node::{Federation, FederationError};
use crate::origin::SignatureCheck;
use crate::parallel;
use crate::publish::is_project_identity;
use crate::signature;

/// What to do with one incoming object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Store it where the partner's data goes.
    Accept(SignatureCheck),
    /// Store it in the partner's quarantine collection (its signature does not verify).
    Quarantine(SignatureCheck),
    /// Refuse it; `reason` names the rule.
    Reject {
        /// What the signature check found.
        check: SignatureCheck,
        /// Why, naming the inbound setting that refuses it.
        reason: String,
    },
}

/// Marking and extension definitions travel unsigned (egress lets them go as they
/// are, and the standard ones may not be changed); they define how to read data,
/// they are not data, so they need no signature to be accepted. Nor does the
/// Passerelle project identity, the creator of the signature extension-definition,
/// which every node publishes unchanged ([`crate::publish`]): it is accepted
/// unsigned only exactly as published.
fn travels_unsigned(bytes: &[u8]) -> bool {
    stix::json::parse(bytes).is_ok_and(|value| {
        let object_type = value
            .as_object()
            .and_then(|obj| obj.get("type"))
            .and_then(stix::json::Value::as_str);
        match object_type {
            Some("marking-definition" | "extension-definition") => true,
            Some("identity") => is_project_identity(&value),
            _ => false,
        }
    })
}

impl Federation {
    /// Checks an object's signature against every key we know.
    pub fn check_signature(&self, bytes: &[u8]) -> SignatureCheck {
        signature::verify(bytes, &|identity: &str| self.key_of(identity))
    }

    /// Decides what to do with `bytes` received from `partner`.
    pub fn verdict(&self, partner: &str, bytes: &[u8]) -> Result<Verdict, FederationError> {
        let check = self.check_signature(bytes);
        self.judge(partner, bytes, check)
    }

    /// [`Federation::verdict`] of each of `objects`, in order, their signatures
    /// checked together ([`signature::verify_many`]) on as many cores as the machine
    /// has ([`crate::parallel`]). CPU work: call it off the async threads.
    pub fn verdicts(
        &self,
        partner: &str,
        objects: &[&[u8]],
    ) -> Result<Vec<Verdict>, FederationError> {
        self.partner(partner)?;
        let chunks = parallel::map_chunks(objects, |_, chunk| self.verdicts_here(partner, chunk));
        let mut verdicts = Vec::with_capacity(objects.len());
        for chunk in chunks {
            verdicts.extend(chunk?);
        }
        Ok(verdicts)
    }

    /// [`Federation::verdicts`] on the calling thread only: for callers that already
    /// spread their work over the cores.
    pub fn verdicts_here(
        &self,
        partner: &str,
        objects: &[&[u8]],
    ) -> Result<Vec<Verdict>, FederationError> {
        let checks = signature::verify_many(objects, &|identity: &str| self.key_of(identity));
        objects
            .iter()
            .zip(checks)
            .map(|(bytes, check)| self.judge(partner, bytes, check))
            .collect()
    }

    /// What `partner`'s inbound rules make of an object whose signature check is `check`.
    fn judge(
        &self,
        partner: &str,
        bytes: &[u8],
        check: SignatureCheck,
    ) -> Result<Verdict, FederationError> {
        let inbound = &self.partner(partner)?.inbound;
        Ok(match &check {
            SignatureCheck::Verified { .. } => Verdict::Accept(check),
            SignatureCheck::Unsigned if inbound.accept_unsigned || travels_unsigned(bytes) => {
                Verdict::Accept(check)
            }
            SignatureCheck::Unsigned => Verdict::Reject {
                check,
                reason: format!(
                    "unsigned object refused (partner {partner}: inbound.accept_unsigned is false)"
                ),
            },
            SignatureCheck::UnknownSigner { .. } if inbound.accept_unknown_signer => {
                Verdict::Accept(check)
            }
            SignatureCheck::UnknownSigner { signer } => Verdict::Reject {
                reason: format!(
                    "signed by {signer}, whose key this node does not hold (partner {partner}: \
                     inbound.accept_unknown_signer is false)"
                ),
                check,
            },
            SignatureCheck::Invalid { signer } => match inbound.on_invalid() {
                OnInvalidSignature::Quarantine => Verdict::Quarantine(check),
                OnInvalidSignature::Reject => Verdict::Reject {
                    reason: format!(
                        "signature{} does not verify: the object was changed after signing",
                        if signer.is_empty() {
                            String::new()
                        } else {
                            format!(" of {signer}")
                        }
                    ),
                    check,
                },
            },
        })
    }

    /// The provenance of an object accepted from `partner` over `channel`.
    pub fn provenance(partner: &str, channel: Channel, check: SignatureCheck) -> Provenance {
        Provenance::Partner {
            partner: partner.to_owned(),
            channel,
            signature: check,
        }
    }
}
