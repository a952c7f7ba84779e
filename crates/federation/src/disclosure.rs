//! The one path by which object versions leave the node towards a partner: TAXII
//! reads by a partner's account, the push worker, offline files and the preview all
//! call [`Federation::decide`] or [`Federation::disclose`]. Deciding a batch gathers
//! what [`crate::egress::decide`] needs (each version's provenance, the ends of its
//! relationships and sightings); disclosing also appends one ledger entry per version
//! that goes, in one store transaction with the caller's sync cursor, before any byte
//! is handed back to be sent. The decisions of a batch (rules and signatures) are
//! made on every core ([`crate::parallel`]).

use std::collections::{BTreeSet, HashMap};

use stix::json::{self, Value};
use store::{
    Channel, Direction, NewLedgerEntry, ObjectQuery, ObjectRecord, SyncCursor, VersionMatch,
    ledger::sha256_hex,
};
use uuid::Uuid;

use crate::egress::{self, Decision, EgressItem};
use crate::node::{Federation, FederationError};
use crate::origin::Origin;
use crate::parallel;

/// The `disclosed` ledger entries of the outcomes that go: one per version, with the
/// hash of the exact bytes and the rule that allowed it. [`Federation::record`] appends
/// them; a caller that gathers several batches (an offline file) appends them at once.
pub fn ledger_entries(
    partner: &str,
    channel: Channel,
    collection: Uuid,
    outcomes: &[Outcome],
) -> Vec<NewLedgerEntry> {
    outcomes
        .iter()
        .filter_map(|o| match &o.decision {
            Decision::Disclose { bytes, rule, .. } => Some(NewLedgerEntry {
                direction: Direction::Disclosed,
                partner: Some(partner.to_owned()),
                channel: Some(channel),
                collection,
                object_id: o.record.id.clone(),
                version: o.record.version.as_str().to_owned(),
                bytes_sha256: sha256_hex(bytes),
                rule: rule.as_str().to_owned(),
            }),
            Decision::Withhold { .. } => None,
        })
        .collect()
}

/// One object version and what egress decided for it.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// The version as stored.
    pub record: ObjectRecord,
    /// Whether it goes, in what form, and by which rule.
    pub decision: Decision,
}

impl Outcome {
    /// The bytes to send, if it goes.
    pub fn bytes(&self) -> Option<&[u8]> {
        match &self.decision {
            Decision::Disclose { bytes, .. } => Some(bytes),
            Decision::Withhold { .. } => None,
        }
    }
}

impl Federation {
    /// Decides each version of `records` (all from local `collection`) for `partner`,
    /// writing nothing. Records without provenance have it read from the store.
    pub async fn decide(
        &self,
        partner: &str,
        collection: Uuid,
        records: Vec<ObjectRecord>,
    ) -> Result<Vec<Outcome>, FederationError> {
        self.partner(partner)?;
        let mut items = Vec::with_capacity(records.len());
        for record in &records {
            let provenance = match &record.provenance {
                Some(p) => p.clone(),
                None => {
                    self.store()
                        .provenance(collection, &record.id, &record.version)
                        .await?
                }
            };
            items.push(EgressItem {
                collection,
                bytes: record.bytes.clone(),
                origin: Origin::from(&provenance),
            });
        }
        let ends = self.ends_of(partner, &items).await?;
        let lookup = |id: &str| ends.get(id).cloned();
        // The rules and the signature are CPU work (a signature per version that
        // goes): spread over the cores, off the async threads.
        let decisions = store::blocking::in_place(|| {
            parallel::map_chunks(&items, |_, part| {
                part.iter()
                    .map(|item| egress::decide(self.egress(), partner, item, &lookup))
                    .collect::<Vec<_>>()
            })
        });
        Ok(records
            .into_iter()
            .zip(decisions.into_iter().flatten())
            .map(|(record, decision)| Outcome { decision, record })
            .collect())
    }

    /// Decides `records` for `partner` and records every version that goes in the
    /// ledger (with `cursor`, if given, in the same transaction) before returning.
    /// Only what this returns as disclosed may be sent.
    pub async fn disclose(
        &self,
        partner: &str,
        channel: Channel,
        collection: Uuid,
        records: Vec<ObjectRecord>,
        cursor: Option<SyncCursor>,
    ) -> Result<Vec<Outcome>, FederationError> {
        let outcomes = self.decide(partner, collection, records).await?;
        self.record(partner, channel, collection, &outcomes, cursor)
            .await?;
        Ok(outcomes)
    }

    /// Appends one `disclosed` ledger entry per outcome that goes (hash of the exact
    /// bytes, the rule that allowed it), and `cursor` if given, in one transaction.
    /// For callers that must decide first and record once the bytes are ready to
    /// leave (offline files); everything else calls [`Federation::disclose`].
    pub async fn record(
        &self,
        partner: &str,
        channel: Channel,
        collection: Uuid,
        outcomes: &[Outcome],
        cursor: Option<SyncCursor>,
    ) -> Result<(), FederationError> {
        let entries = ledger_entries(partner, channel, collection, outcomes);
        if !entries.is_empty() || cursor.is_some() {
            self.store().append_ledger(entries, cursor).await?;
        }
        Ok(())
    }

    /// The latest version of every object a relationship or sighting among `items`
    /// names, from any local collection: a copy in a collection shared with the
    /// partner is preferred, so an end held in two places is judged where it may go.
    async fn ends_of(
        &self,
        partner: &str,
        items: &[EgressItem],
    ) -> Result<HashMap<String, EgressItem>, FederationError> {
        let mut wanted = BTreeSet::new();
        for item in items {
            let Ok(value) = json::parse(&item.bytes) else {
                continue;
            };
            let Some(obj) = value.as_object() else {
                continue;
            };
            let object_type = obj.get("type").and_then(Value::as_str).unwrap_or("");
            wanted.extend(
                egress::end_refs(object_type, obj)
                    .into_iter()
                    .map(str::to_owned),
            );
        }
        let mut found: HashMap<String, EgressItem> = HashMap::new();
        if wanted.is_empty() {
            return Ok(found);
        }
        let shared = self
            .egress()
            .partner(partner)
            .map(|p| p.collections.clone())
            .unwrap_or_default();
        let ids: Vec<String> = wanted.into_iter().collect();
        for collection in self.store().list_collections().await? {
            for chunk in ids.chunks(500) {
                let query = ObjectQuery {
                    ids: chunk.to_vec(),
                    versions: vec![VersionMatch::Last],
                    limit: chunk.len().max(1) * 4,
                    with_provenance: true,
                    ..ObjectQuery::default()
                };
                let page = self.store().objects(collection.id, &query).await?;
                for record in page.records {
                    // Asked for above; without it the end is treated as not held.
                    let Some(provenance) = record.provenance.clone() else {
                        continue;
                    };
                    let better = match found.get(&record.id) {
                        None => true,
                        Some(held) => {
                            !shared.contains(&held.collection) && shared.contains(&collection.id)
                        }
                    };
                    if better {
                        found.insert(
                            record.id.clone(),
                            EgressItem {
                                collection: collection.id,
                                bytes: record.bytes,
                                origin: Origin::from(&provenance),
                            },
                        );
                    }
                }
            }
        }
        Ok(found)
    }
}
