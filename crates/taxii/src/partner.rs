//! Accounts tied to a partner node (`Account.partner`): what the server asks of
//! the sharing agreements before it answers them.
//!
//! The server does not know agreements; it calls a [`PartnerGate`] (the
//! `federation` crate implements it) for every page read by, and every object
//! posted by, a partner's account:
//! - Get Objects and Get An Object serve only what [`PartnerGate::disclose`]
//!   returns, with the bytes it returns (redacted, signed), after it has
//!   written the ledger;
//! - manifests and versions list only what [`PartnerGate::visible`] keeps
//!   (the same decision, nothing recorded), so a withheld version appears
//!   nowhere, and an object with no visible version is a 404 as if unknown;
//! - Add Objects stores each valid object as [`PartnerGate::receive`] says:
//!   accepted under the partner's provenance, quarantined, or refused.
//!
//! A page keeps the `more` and `next` of the store's page it was decided from,
//! so paging never loops or skips; it may hold fewer records than `limit`, and
//! its `X-TAXII-Date-Added-*` headers come from the records actually served.
//! Accounts without a partner never reach this module.

use std::future::Future;
use std::pin::Pin;

use store::{
    AddOutcome, ManifestRecord, NewObject, ObjectQuery, ObjectRecord, Page, Provenance, Store,
    StoreError,
};
use uuid::Uuid;

use crate::auth::Principal;
use crate::error::TaxiiError;
use crate::state::AppState;

/// The future every [`PartnerGate`] method returns.
pub type GateFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, GateError>> + Send + 'a>>;

/// Why a gate could not decide.
#[derive(Debug, thiserror::Error)]
pub enum GateError {
    /// The account is tied to a partner that has no agreement here: nothing is
    /// served to it and nothing it sends is taken (403).
    #[error(
        "this account is tied to partner {partner:?}, which has no agreement on this node; \
         nothing is exchanged with it"
    )]
    UnknownPartner {
        /// The partner name the account carries.
        partner: String,
    },
    /// The store failed while deciding.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Anything else (logged, a 500).
    #[error("{0}")]
    Failed(String),
}

impl From<GateError> for TaxiiError {
    fn from(e: GateError) -> TaxiiError {
        match e {
            GateError::UnknownPartner { .. } => TaxiiError::Forbidden(e.to_string()),
            GateError::Store(e) => e.into(),
            GateError::Failed(message) => {
                TaxiiError::Internal(format!("partner agreement check failed: {message}"))
            }
        }
    }
}

/// What to do with one object a partner's account posted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Receipt {
    /// Store it in the collection it was posted to, under this provenance.
    Accept {
        /// The partner provenance (channel, signature check) to store it under.
        provenance: Provenance,
    },
    /// Store it in `collection` (the partner's quarantine) instead; the status
    /// lists it as a failure with `reason`, since it is not in the collection
    /// it was posted to.
    Quarantine {
        /// The local collection quarantined objects go to.
        collection: Uuid,
        /// The partner provenance to store it under.
        provenance: Provenance,
        /// Why, for the status.
        reason: String,
    },
    /// Refuse it; the status lists it as a failure with `reason`.
    Reject {
        /// Why, naming the inbound setting that refuses it.
        reason: String,
    },
}

/// The sharing agreements, as the TAXII server needs them for partner accounts.
///
/// `partner` is the account's `partner` name. Methods that take records get
/// the records of one store page of `collection` (in `date_added` order, each
/// with its provenance) and return the ones that may go, in the same order,
/// each with its `bytes` replaced by the bytes to serve.
pub trait PartnerGate: Send + Sync {
    /// The records that may be served to `partner`, with the bytes to serve;
    /// every one returned is in the ledger (channel pull) before this returns.
    fn disclose<'a>(
        &'a self,
        partner: &'a str,
        collection: Uuid,
        records: Vec<ObjectRecord>,
    ) -> GateFuture<'a, Vec<ObjectRecord>>;

    /// The same decision as [`disclose`](Self::disclose), recording nothing:
    /// for manifests and versions, which list versions without serving them.
    fn visible<'a>(
        &'a self,
        partner: &'a str,
        collection: Uuid,
        records: Vec<ObjectRecord>,
    ) -> GateFuture<'a, Vec<ObjectRecord>>;

    /// One [`Receipt`] per object (in order) for valid objects `partner` pushed.
    fn receive<'a>(
        &'a self,
        partner: &'a str,
        objects: &'a [NewObject],
    ) -> GateFuture<'a, Vec<Receipt>>;
}

/// How many store pages one list request may decide before answering with an
/// empty page (and `more`): enough to skip most runs of withheld records,
/// few enough that one request stays bounded.
const LIST_ROUNDS: usize = 8;

/// How far a read looks for something the partner may see.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Reach {
    /// A list (objects, manifest): at most [`LIST_ROUNDS`] store pages.
    List,
    /// One object's versions: until one is visible or none is left, so that an
    /// empty answer means "nothing of this object may be seen" (a 404).
    Object,
}

/// Whether the records read are served (ledger written) or only listed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Use {
    Serve,
    List,
}

/// A partner account's view of the node: its gate and partner name.
pub(crate) struct PartnerView<'s> {
    gate: &'s dyn PartnerGate,
    partner: &'s str,
}

/// The partner view of a request's account, or `None` for an account not tied
/// to a partner. An account tied to a partner on a server without a gate is
/// served nothing: that is a server set up wrongly, a 500.
pub(crate) fn view<'s>(
    state: &'s AppState,
    who: &'s Principal,
) -> Result<Option<PartnerView<'s>>, TaxiiError> {
    let Some(partner) = who.account.partner.as_deref() else {
        return Ok(None);
    };
    match state.partner_gate.as_deref() {
        Some(gate) => Ok(Some(PartnerView { gate, partner })),
        None => Err(TaxiiError::Internal(format!(
            "account {:?} is tied to partner {partner:?} but this server enforces no \
             agreements (no partner gate); refusing to serve it",
            who.name()
        ))),
    }
}

impl PartnerView<'_> {
    /// A page of `query` over `collection` as the partner may see it.
    ///
    /// When nothing of a store page may be seen and the store has more, the
    /// next store page is decided too (as far as `reach` allows), so a run of
    /// withheld records does not make empty pages. The page returned has the
    /// `more`/`next` of the last store page read, and its first and last
    /// `date_added` from the records kept.
    pub(crate) async fn page(
        &self,
        store: &dyn Store,
        collection: Uuid,
        mut query: ObjectQuery,
        usage: Use,
        reach: Reach,
    ) -> Result<Page<ObjectRecord>, TaxiiError> {
        query.with_provenance = true;
        let mut rounds = 0;
        loop {
            let page = store.objects(collection, &query).await?;
            rounds += 1;
            let read = page.records.len();
            let records = if page.records.is_empty() {
                Vec::new()
            } else {
                match usage {
                    Use::Serve => {
                        self.gate
                            .disclose(self.partner, collection, page.records)
                            .await?
                    }
                    Use::List => {
                        self.gate
                            .visible(self.partner, collection, page.records)
                            .await?
                    }
                }
            };
            tracing::debug!(
                partner = %self.partner,
                collection = %collection,
                read,
                kept = records.len(),
                "partner page decided"
            );
            let last_round = reach == Reach::List && rounds >= LIST_ROUNDS;
            match page.next {
                Some(next) if page.more && records.is_empty() && !last_round => {
                    query.next = Some(next);
                }
                next => {
                    return Ok(Page {
                        first_added: records.iter().map(|r| r.date_added).min(),
                        last_added: records.iter().map(|r| r.date_added).max(),
                        records,
                        more: page.more,
                        next,
                    });
                }
            }
        }
    }

    /// Whether the partner may see any version of object `id` (whatever the
    /// request's `added_after` or `next`): what tells an empty versions list
    /// from a 404.
    pub(crate) async fn sees_object(
        &self,
        store: &dyn Store,
        collection: Uuid,
        id: &str,
        limit: usize,
    ) -> Result<bool, TaxiiError> {
        let probe = ObjectQuery {
            ids: vec![id.to_owned()],
            versions: vec![store::VersionMatch::All],
            limit,
            ..ObjectQuery::default()
        };
        let page = self
            .page(store, collection, probe, Use::List, Reach::Object)
            .await?;
        Ok(!page.records.is_empty())
    }

    /// Stores the valid objects a partner posted to `collection` as the gate
    /// says: per object (in order), the store's outcome, or why it is a failure
    /// in the status.
    pub(crate) async fn receive(
        &self,
        store: &dyn Store,
        collection: Uuid,
        objects: Vec<NewObject>,
    ) -> Result<Vec<Result<AddOutcome, Refusal>>, TaxiiError> {
        let receipts = self.gate.receive(self.partner, &objects).await?;
        if receipts.len() != objects.len() {
            return Err(TaxiiError::Internal(format!(
                "the partner gate gave {} receipts for {} objects",
                receipts.len(),
                objects.len()
            )));
        }
        let mut results: Vec<Option<Result<AddOutcome, Refusal>>> = vec![None; objects.len()];
        // Objects going to the same collection under the same provenance are
        // stored in one transaction: usually one batch for the whole envelope.
        let mut batches: Vec<Batch> = Vec::new();
        let (mut accepted, mut quarantined, mut rejected) = (0usize, 0usize, 0usize);
        for (index, (object, receipt)) in objects.into_iter().zip(receipts).enumerate() {
            let (target, provenance, note) = match receipt {
                Receipt::Accept { provenance } => {
                    accepted += 1;
                    (collection, provenance, None)
                }
                Receipt::Quarantine {
                    collection,
                    provenance,
                    reason,
                } => {
                    quarantined += 1;
                    (
                        collection,
                        provenance,
                        Some(format!("held in quarantine for review: {reason}")),
                    )
                }
                Receipt::Reject { reason } => {
                    rejected += 1;
                    results[index] = Some(Err(Refusal {
                        version: object
                            .version
                            .as_ref()
                            .map(|v| v.as_str().to_owned())
                            .unwrap_or_default(),
                        message: reason,
                    }));
                    continue;
                }
            };
            let batch = match batches
                .iter_mut()
                .position(|b| b.collection == target && b.provenance == provenance)
            {
                Some(i) => &mut batches[i],
                None => {
                    batches.push(Batch {
                        collection: target,
                        provenance,
                        slots: Vec::new(),
                        objects: Vec::new(),
                    });
                    let last = batches.len() - 1;
                    &mut batches[last]
                }
            };
            batch.slots.push((index, note));
            batch.objects.push(object);
        }
        for batch in batches {
            let n = batch.objects.len();
            let outcomes = store
                .add_objects(batch.collection, &batch.provenance, batch.objects)
                .await?;
            if outcomes.len() != n {
                return Err(TaxiiError::Internal(format!(
                    "the store reported {} outcomes for {n} objects",
                    outcomes.len()
                )));
            }
            for ((index, note), outcome) in batch.slots.into_iter().zip(outcomes) {
                results[index] = Some(match note {
                    None => Ok(outcome),
                    Some(message) => Err(Refusal {
                        version: outcome.version().as_str().to_owned(),
                        message,
                    }),
                });
            }
        }
        tracing::info!(
            partner = %self.partner,
            collection = %collection,
            accepted,
            quarantined,
            rejected,
            "objects received from a partner"
        );
        results
            .into_iter()
            .map(|r| r.ok_or_else(|| TaxiiError::Internal("an object received no outcome".into())))
            .collect()
    }
}

/// A page of records read for a partner as manifest records (manifests and
/// versions list what remains once the withheld versions are taken out).
pub(crate) fn manifest_page(page: Page<ObjectRecord>) -> Page<ManifestRecord> {
    Page {
        records: page
            .records
            .into_iter()
            .map(|r| ManifestRecord {
                id: r.id,
                version: r.version,
                date_added: r.date_added,
                media_type: r.media_type,
                spec_version: r.spec_version,
            })
            .collect(),
        more: page.more,
        next: page.next,
        first_added: page.first_added,
        last_added: page.last_added,
    }
}

/// Why a posted object is a failure in the status: refused, or stored
/// elsewhere (quarantine).
#[derive(Debug, Clone)]
pub(crate) struct Refusal {
    /// Its version, as the status lists it.
    pub(crate) version: String,
    /// Why.
    pub(crate) message: String,
}

/// Objects stored together: one collection, one provenance.
struct Batch {
    collection: Uuid,
    provenance: Provenance,
    /// Per object: its index in the envelope's valid objects and, when it is
    /// not stored where it was posted, the failure message for the status.
    slots: Vec<(usize, Option<String>)>,
    objects: Vec<NewObject>,
}
