//! Importing a partner's transfer file (`passerelle import --from`).
//!
//! The file is read twice. The first pass checks it whole — structure, header,
//! sender, signature, recipient — and notes a SHA-512 of each batch of objects'
//! exact bytes; nothing is stored if any check fails. The second pass stores each
//! batch only once its bytes are found equal to what the first pass checked, so a
//! file changed in between is stopped at the first batch that differs. Memory stays
//! at one batch, whatever the size of the file.
//!
//! Each object goes through [`Federation::verdicts_here`] (its own signature, the
//! partner's `[partners.inbound]` rules) and the STIX validator, then is stored with
//! `Provenance::Partner { partner, channel: file, signature }` — which makes the store
//! append its `received` ledger entry — in the partner's `inbound.collection` (default
//! `default`), or in its quarantine collection. Versions already held are not added
//! again, so importing a file twice changes nothing. A batch is checked on every core,
//! its signatures together ([`crate::signature::verify_many`]). The sequence numbers
//! imported are kept (with the last batch, in its transaction) so the second time is reported.

use std::fs::File;
use std::io::BufReader;
use std::path::Path;

use ed25519_dalek::{Digest as _, Sha512};
use stix::bundle::ReaderLimits;
use stix::{Diagnostic, Severity};
use store::{AddOutcome, Channel, Collection, NewObject, Provenance, SyncCursor, SyncStep};
use uuid::Uuid;

use super::state::{INBOUND_STATE, InboundState};
use super::{ExchangeError, FileError, TransferHeader, TransferObject, TransferReader, Trust};
use crate::agreement::ConfigError;
use crate::node::{Federation, FederationError};
use crate::parallel;
use crate::receipt::Verdict;

/// How an import reads and stores.
#[derive(Debug, Clone, Copy)]
pub struct ImportOptions {
    /// Objects checked and stored together (one store transaction per batch and kind
    /// of provenance).
    pub batch_size: usize,
    /// The largest object accepted.
    pub limits: ReaderLimits,
}

impl Default for ImportOptions {
    fn default() -> Self {
        ImportOptions {
            batch_size: 1000,
            limits: ReaderLimits::default(),
        }
    }
}

/// An object of the file that was not stored, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejected {
    /// Its position in the file.
    pub index: usize,
    /// Its id, when it has one.
    pub id: Option<String>,
    /// Why, naming the rule or the first validation error.
    pub reason: String,
}

/// What importing one file did.
#[derive(Debug, Clone)]
pub struct ImportSummary {
    /// The partner it came from.
    pub partner: String,
    /// Its header (sequence, objects, what it covers).
    pub header: TransferHeader,
    /// Where accepted objects went.
    pub collection: Collection,
    /// Versions added (to the collection or to quarantine).
    pub added: u64,
    /// Versions that were already there.
    pub already_present: u64,
    /// Objects stored in quarantine (their signature does not verify).
    pub quarantined: u64,
    /// Objects not stored.
    pub rejected: Vec<Rejected>,
    /// Whether a file with this sequence number had been imported before.
    pub imported_before: bool,
    /// Earlier sequence numbers of this partner never imported, as inclusive ranges.
    pub missing_before: Vec<(u64, u64)>,
}

/// What becomes of one object of a file: where it goes, with which provenance,
/// whether that is quarantine, and the object; or why it is rejected.
type Receipt = Result<(Uuid, Provenance, bool, NewObject), Rejected>;

/// Counts the quarantined and sets aside the rejected of `received`, and adds the
/// rest to `pending`.
fn sort(received: Vec<Receipt>, pending: &mut Vec<Group>, summary: &mut ImportSummary) {
    for receipt in received {
        match receipt {
            Ok((collection, provenance, quarantined, new)) => {
                summary.quarantined += u64::from(quarantined);
                add_to(pending, collection, provenance, new);
            }
            Err(rejected) => summary.rejected.push(rejected),
        }
    }
}

/// Objects waiting to be stored together: same collection, same provenance.
struct Group {
    collection: Uuid,
    provenance: Provenance,
    objects: Vec<NewObject>,
}

impl Federation {
    /// Checks the transfer file at `path` from `partner` and imports it. See the
    /// module documentation.
    pub async fn import_file(
        &self,
        partner: &str,
        path: &Path,
        options: ImportOptions,
    ) -> Result<ImportSummary, ExchangeError> {
        self.partner(partner)?;
        let result = self.import_from(partner, path, options).await;
        // Its batches counted what they added, each in its own transaction.
        let outcome = match &result {
            Ok(_) => Ok(0),
            Err(error) => Err(error.to_string()),
        };
        if let Err(error) = self
            .store()
            .record_sync_attempt(partner, INBOUND_STATE, Channel::File, outcome)
            .await
        {
            tracing::warn!(partner, %error, "cannot record the import attempt");
        }
        result
    }

    async fn import_from(
        &self,
        partner: &str,
        path: &Path,
        options: ImportOptions,
    ) -> Result<ImportSummary, ExchangeError> {
        let config = self.partner(partner)?;
        let batch_size = options.batch_size.max(1);
        let collection = self
            .inbound_collection(partner, config.inbound.collection(), "inbound.collection")
            .await?;
        let quarantine = self
            .inbound_collection(partner, &config.inbound.quarantine, "inbound.quarantine")
            .await
            .ok();

        let (header, digests) = self.check_file(partner, path, options)?;
        let mut state = self.inbound_state(partner).await?;
        let imported_before = state.contains(header.sequence);
        let missing_before = state.missing_before(header.sequence);
        let mut summary = ImportSummary {
            partner: partner.to_owned(),
            header,
            collection,
            added: 0,
            already_present: 0,
            quarantined: 0,
            rejected: Vec::new(),
            imported_before,
            missing_before,
        };

        let mut reader = TransferReader::with_limits(open(path)?, options.limits);
        let mut pending: Vec<Group> = Vec::new();
        let mut batch = Sha512::new();
        let mut in_batch = 0usize;
        let mut batches = 0usize;
        // The current batch's objects, checked together once the batch is read.
        let mut objects: Vec<(usize, Vec<u8>)> = Vec::with_capacity(batch_size);
        let quarantine_id = quarantine.as_ref().map(|c| c.id);
        let changed = |index: u64| ExchangeError::Changed {
            path: path.to_owned(),
            index,
        };
        loop {
            {
                let object = reader.next_object().map_err(|source| ExchangeError::File {
                    path: path.to_owned(),
                    source,
                })?;
                let Some(object) = object else { break };
                batch.update((object.bytes.len() as u64).to_le_bytes());
                batch.update(object.bytes);
                in_batch += 1;
                objects.push((object.index, object.bytes.to_vec()));
            }
            if in_batch == batch_size {
                let first = (batches * batch_size) as u64;
                if digests.get(batches) != Some(&batch.finalize_reset().into()) {
                    return Err(changed(first));
                }
                batches += 1;
                in_batch = 0;
                let received =
                    self.receive_batch(partner, &objects, summary.collection.id, quarantine_id)?;
                objects.clear();
                sort(received, &mut pending, &mut summary);
                self.store_groups(&mut pending, &state.cursor(partner), false, &mut summary)
                    .await?;
            }
        }
        if in_batch > 0 {
            if digests.get(batches) != Some(&batch.finalize_reset().into()) {
                return Err(changed((batches * batch_size) as u64));
            }
            batches += 1;
        }
        if batches != digests.len() {
            return Err(changed((batches * batch_size) as u64));
        }
        let received =
            self.receive_batch(partner, &objects, summary.collection.id, quarantine_id)?;
        sort(received, &mut pending, &mut summary);
        state.insert(summary.header.sequence);
        self.store_groups(&mut pending, &state.cursor(partner), true, &mut summary)
            .await?;
        tracing::info!(
            partner,
            sequence = summary.header.sequence,
            added = summary.added,
            already_present = summary.already_present,
            quarantined = summary.quarantined,
            rejected = summary.rejected.len(),
            "transfer file imported"
        );
        Ok(summary)
    }

    /// The first pass: the whole file checked, and the digest of each batch.
    fn check_file(
        &self,
        partner: &str,
        path: &Path,
        options: ImportOptions,
    ) -> Result<(TransferHeader, Vec<[u8; 64]>), ExchangeError> {
        let batch_size = options.batch_size.max(1);
        let file_error = |source| ExchangeError::File {
            path: path.to_owned(),
            source,
        };
        let mut reader = TransferReader::with_limits(open(path)?, options.limits);
        let mut digests = Vec::new();
        let mut batch = Sha512::new();
        let mut in_batch = 0usize;
        while let Some(object) = reader.next_object().map_err(file_error)? {
            batch.update((object.bytes.len() as u64).to_le_bytes());
            batch.update(object.bytes);
            in_batch += 1;
            if in_batch == batch_size {
                digests.push(batch.finalize_reset().into());
                in_batch = 0;
            }
        }
        if in_batch > 0 {
            digests.push(batch.finalize_reset().into());
        }
        let recipient = self.identity().identity.clone();
        let keys = |identity: &str| self.key_of(identity);
        let trust = Trust {
            recipient: &recipient,
            keys: &keys,
        };
        let header = match reader.finish(&trust) {
            Ok(header) => header,
            Err(FileError::BadSignature { sender }) => {
                return Err(ExchangeError::Tampered {
                    path: path.to_owned(),
                    partner: self.name_of_identity(&sender),
                    changed: self.changed_objects(path, options),
                });
            }
            Err(source) => return Err(file_error(source)),
        };
        let expected = &self.partner(partner)?.identity;
        if &header.sender != expected {
            return Err(ExchangeError::WrongSender {
                path: path.to_owned(),
                partner: partner.to_owned(),
                expected: expected.clone(),
                found: self.name_of_identity(&header.sender),
            });
        }
        Ok((header, digests))
    }

    /// For a file whose signature fails: the objects whose own signature fails too,
    /// which were changed after their signer signed them.
    fn changed_objects(&self, path: &Path, options: ImportOptions) -> Vec<String> {
        let mut changed = Vec::new();
        let Ok(file) = open(path) else {
            return changed;
        };
        let mut reader = TransferReader::with_limits(file, options.limits);
        while let Ok(Some(object)) = reader.next_object() {
            if let crate::SignatureCheck::Invalid { .. } = self.check_signature(object.bytes) {
                changed.push(format!(
                    "{} (objects[{}])",
                    id_of(&object).unwrap_or("no id"),
                    object.index
                ));
            }
        }
        changed
    }

    /// A partner's name for a STIX identity, `this node` for ours, else the identity.
    fn name_of_identity(&self, identity: &str) -> String {
        if identity == self.identity().identity {
            return format!("this node ({identity})");
        }
        self.agreement()
            .partners
            .iter()
            .find(|p| p.identity == identity)
            .map_or_else(
                || identity.to_owned(),
                |p| format!("partner {} ({identity})", p.name),
            )
    }

    /// What becomes of each object of a batch (`(index, bytes)`, in file order): the
    /// batch is split over the cores ([`crate::parallel`]), each part's signatures
    /// checked together ([`Federation::verdicts_here`]), then each object as
    /// [`Federation::receive`] says. CPU work, done where the import runs.
    fn receive_batch(
        &self,
        partner: &str,
        objects: &[(usize, Vec<u8>)],
        collection: Uuid,
        quarantine: Option<Uuid>,
    ) -> Result<Vec<Receipt>, ExchangeError> {
        let parts = store::blocking::in_place(|| {
            parallel::map_chunks(objects, |_, part| {
                let bytes: Vec<&[u8]> = part.iter().map(|(_, b)| b.as_slice()).collect();
                let verdicts = self.verdicts_here(partner, &bytes)?;
                let mut diagnostics = Vec::new();
                part.iter()
                    .zip(verdicts)
                    .map(|((index, bytes), verdict)| {
                        // The reader parsed these bytes already: this cannot fail.
                        let Ok(value) = stix::json::parse(bytes) else {
                            return Ok(Err(Rejected {
                                index: *index,
                                id: None,
                                reason: "not JSON".to_owned(),
                            }));
                        };
                        let object = TransferObject {
                            index: *index,
                            bytes,
                            value,
                        };
                        self.receive(
                            partner,
                            &object,
                            verdict,
                            collection,
                            quarantine,
                            &mut diagnostics,
                        )
                    })
                    .collect::<Result<Vec<_>, ExchangeError>>()
            })
        });
        let mut received = Vec::with_capacity(objects.len());
        for part in parts {
            received.extend(part?);
        }
        Ok(received)
    }

    /// What becomes of one object whose verdict is `verdict`: where it goes with which
    /// provenance (and whether that is quarantine), or why it is rejected.
    fn receive(
        &self,
        partner: &str,
        object: &TransferObject<'_>,
        verdict: Verdict,
        collection: Uuid,
        quarantine: Option<Uuid>,
        diagnostics: &mut Vec<Diagnostic>,
    ) -> Result<Receipt, ExchangeError> {
        let reject = |reason: String| Rejected {
            index: object.index,
            id: id_of(object).map(str::to_owned),
            reason,
        };
        let (check, target, quarantined) = match verdict {
            Verdict::Accept(check) => (check, collection, false),
            Verdict::Quarantine(check) => match quarantine {
                Some(id) => (check, id, true),
                None => {
                    let name = &self.partner(partner)?.inbound.quarantine;
                    return Ok(Err(reject(format!(
                        "its signature does not verify and the quarantine collection {name:?} \
                         does not exist (partner {partner}: inbound.quarantine)"
                    ))));
                }
            },
            Verdict::Reject { reason, .. } => return Ok(Err(reject(reason))),
        };
        diagnostics.clear();
        stix::validate::validate_object_into(&object.value, diagnostics);
        let mut errors = diagnostics.iter().filter(|d| d.severity == Severity::Error);
        if let Some(first) = errors.next() {
            let more = errors.count();
            let property = if first.property.is_empty() {
                String::new()
            } else {
                format!("{}: ", first.property)
            };
            let also = match more {
                0 => String::new(),
                1 => " (and 1 more error)".to_owned(),
                n => format!(" (and {n} more errors)"),
            };
            return Ok(Err(reject(format!(
                "{property}{} [{}]{also}",
                first.message, first.rule
            ))));
        }
        let Some(map) = object.value.as_object() else {
            return Ok(Err(reject("not a JSON object".to_owned())));
        };
        match NewObject::from_object(object.bytes.to_vec(), map) {
            Ok(new) => Ok(Ok((
                target,
                Federation::provenance(partner, Channel::File, check),
                quarantined,
                new,
            ))),
            Err(error) => Ok(Err(reject(error.to_string()))),
        }
    }

    /// Stores what is pending, one call per group, each adding what it stores to the
    /// total of `cursor`'s exchange in its own transaction; with `save_cursor`, the
    /// cursor is saved in the last call's transaction (or alone when nothing is
    /// pending).
    async fn store_groups(
        &self,
        pending: &mut Vec<Group>,
        cursor: &SyncCursor,
        save_cursor: bool,
        summary: &mut ImportSummary,
    ) -> Result<(), ExchangeError> {
        let groups = std::mem::take(pending);
        let last = groups.len().saturating_sub(1);
        let stored_any = !groups.is_empty();
        for (i, group) in groups.into_iter().enumerate() {
            let step = if save_cursor && i == last {
                SyncStep::to(cursor.clone())
            } else {
                SyncStep::within(cursor)
            };
            let outcomes = self
                .store()
                .add_objects_in_sync(group.collection, &group.provenance, group.objects, step)
                .await?;
            for outcome in outcomes {
                match outcome {
                    AddOutcome::Added { .. } => summary.added += 1,
                    AddOutcome::AlreadyPresent { .. } => summary.already_present += 1,
                }
            }
        }
        if save_cursor && !stored_any {
            self.store().set_sync_cursor(cursor.clone(), 0).await?;
        }
        Ok(())
    }

    /// A local collection named in a partner's `[partners.inbound]`.
    async fn inbound_collection(
        &self,
        partner: &str,
        name: &str,
        field: &str,
    ) -> Result<Collection, ExchangeError> {
        match self.store().find_collection(name).await {
            Ok(collection) => Ok(collection),
            Err(store::StoreError::NotFound { .. }) => Err(ExchangeError::Federation(
                FederationError::Config(ConfigError::Partner {
                    partner: partner.to_owned(),
                    field: field.to_owned(),
                    message: format!(
                        "{name:?} is not a collection of this node (create it with \
                             `passerelle collection add`, or name another)"
                    ),
                }),
            )),
            Err(error) => Err(error.into()),
        }
    }

    /// Which files of `partner` have been imported.
    pub async fn inbound_state(&self, partner: &str) -> Result<InboundState, ExchangeError> {
        let text = self
            .store()
            .sync_cursor(partner, INBOUND_STATE, Channel::File)
            .await?;
        match text {
            None => Ok(InboundState::default()),
            Some(text) => InboundState::parse(&text).map_err(|message| ExchangeError::State {
                partner: partner.to_owned(),
                state: INBOUND_STATE,
                text,
                message,
            }),
        }
    }
}

fn add_to(pending: &mut Vec<Group>, collection: Uuid, provenance: Provenance, object: NewObject) {
    match pending
        .iter_mut()
        .find(|g| g.collection == collection && g.provenance == provenance)
    {
        Some(group) => group.objects.push(object),
        None => pending.push(Group {
            collection,
            provenance,
            objects: vec![object],
        }),
    }
}

fn id_of<'a>(object: &'a TransferObject<'_>) -> Option<&'a str> {
    object.value.get("id").and_then(|v| v.as_str())
}

fn open(path: &Path) -> Result<BufReader<File>, ExchangeError> {
    File::open(path)
        .map(|file| BufReader::with_capacity(256 << 10, file))
        .map_err(|source| ExchangeError::Io {
            action: "open",
            path: path.to_owned(),
            source,
        })
}
