//! The TAXII server's [`PartnerGate`] for a node with partners: what a
//! partner's account reads over TAXII goes through the one disclosure path
//! ([`Federation::disclose`], channel `pull`, ledger written before the answer;
//! [`Federation::decide`] for manifests and versions, which record nothing),
//! and what it posts is checked as every receipt is ([`Federation::verdicts`]:
//! the envelope's signatures together, on every core; channel `push`).

use store::{Channel, NewObject, ObjectRecord, StoreError};
use taxii::partner::{GateError, GateFuture, PartnerGate, Receipt};
use uuid::Uuid;

use crate::disclosure::Outcome;
use crate::egress::Decision;
use crate::node::{Federation, FederationError};
use crate::origin::SignatureCheck;
use crate::receipt::Verdict;

impl PartnerGate for Federation {
    fn disclose<'a>(
        &'a self,
        partner: &'a str,
        collection: Uuid,
        records: Vec<ObjectRecord>,
    ) -> GateFuture<'a, Vec<ObjectRecord>> {
        Box::pin(async move {
            let outcomes =
                Federation::disclose(self, partner, Channel::Pull, collection, records, None)
                    .await
                    .map_err(gate_error)?;
            Ok(served(outcomes))
        })
    }

    fn visible<'a>(
        &'a self,
        partner: &'a str,
        collection: Uuid,
        records: Vec<ObjectRecord>,
    ) -> GateFuture<'a, Vec<ObjectRecord>> {
        Box::pin(async move {
            let outcomes = self
                .decide(partner, collection, records)
                .await
                .map_err(gate_error)?;
            Ok(served(outcomes))
        })
    }

    fn receive<'a>(
        &'a self,
        partner: &'a str,
        objects: &'a [NewObject],
    ) -> GateFuture<'a, Vec<Receipt>> {
        Box::pin(async move {
            let quarantine_name = &self
                .partner(partner)
                .map_err(gate_error)?
                .inbound
                .quarantine;
            // Looked up once, and only when an object needs it.
            let mut quarantine: Option<Option<Uuid>> = None;
            let mut receipts = Vec::with_capacity(objects.len());
            let bytes: Vec<&[u8]> = objects.iter().map(|o| o.bytes.as_slice()).collect();
            let verdicts =
                store::blocking::in_place(|| self.verdicts(partner, &bytes)).map_err(gate_error)?;
            for (object, verdict) in objects.iter().zip(verdicts) {
                let receipt = match verdict {
                    Verdict::Accept(check) => Receipt::Accept {
                        provenance: Federation::provenance(partner, Channel::Push, check),
                    },
                    Verdict::Reject { reason, .. } => Receipt::Reject { reason },
                    Verdict::Quarantine(check) => {
                        let collection = match quarantine {
                            Some(known) => known,
                            None => {
                                let found =
                                    match self.store().find_collection(quarantine_name).await {
                                        Ok(c) => Some(c.id),
                                        Err(StoreError::NotFound { .. }) => None,
                                        Err(e) => return Err(GateError::Store(e)),
                                    };
                                quarantine = Some(found);
                                found
                            }
                        };
                        let why = invalid_reason(&check);
                        match collection {
                            Some(collection) => Receipt::Quarantine {
                                collection,
                                provenance: Federation::provenance(partner, Channel::Push, check),
                                reason: format!(
                                    "{why} (partner {partner}: inbound.on_invalid_signature \
                                     is quarantine)"
                                ),
                            },
                            // Taking in less is the safe side of a missing collection.
                            None => {
                                tracing::warn!(
                                    partner,
                                    collection = %quarantine_name,
                                    object = %object.id,
                                    "the quarantine collection does not exist; object refused"
                                );
                                Receipt::Reject {
                                    reason: format!(
                                        "{why}, and the quarantine collection {quarantine_name:?} \
                                         of partner {partner} does not exist on this node"
                                    ),
                                }
                            }
                        }
                    }
                };
                receipts.push(receipt);
            }
            Ok(receipts)
        })
    }
}

/// What may be served of `outcomes`: the disclosed records, each with the
/// bytes egress gave (redacted, signed), in order.
fn served(outcomes: Vec<Outcome>) -> Vec<ObjectRecord> {
    outcomes
        .into_iter()
        .filter_map(|o| match o.decision {
            Decision::Disclose { bytes, .. } => Some(ObjectRecord { bytes, ..o.record }),
            Decision::Withhold { .. } => None,
        })
        .collect()
}

fn invalid_reason(check: &SignatureCheck) -> String {
    match check.signer() {
        Some(signer) => format!("the signature of {signer} does not verify"),
        None => "the signature does not verify".to_owned(),
    }
}

fn gate_error(e: FederationError) -> GateError {
    match e {
        FederationError::UnknownPartner(partner) => GateError::UnknownPartner { partner },
        FederationError::Store(e) => GateError::Store(e),
        other => GateError::Failed(other.to_string()),
    }
}
