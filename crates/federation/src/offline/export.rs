//! Writing the next transfer file for a partner (`passerelle export --partner`).
//!
//! For each local collection of the partner's outbound agreement, every version
//! added since the last file (all versions, in `date_added` order) goes through
//! [`Federation::decide`]; what is disclosed is written, with the bytes egress gives
//! (redacted and signed as needed). The file is written to `<FILE>.partial` and synced;
//! then its ledger entries and the new outbound state (sequence and positions) are
//! saved in **one** store transaction; only then is it renamed to `FILE`. So a file
//! exists under its name only once recorded, and a crash leaves either nothing
//! recorded (the `.partial` is refused and can be deleted) or a complete recorded file
//! (the `.partial` is named as such, to be carried).
//!
//! A file is written even when nothing is new: it holds no object, keeps the
//! partner's sequence going and moves the positions past withheld versions, so a
//! routine export always gives the operator a file to carry and the partner can see
//! that none is missing.

use std::collections::BTreeMap;
use std::fs::{self, File, OpenOptions};
use std::io::{BufReader, BufWriter};
use std::path::{Path, PathBuf};

use store::{Channel, Clock as _, Collection, ObjectQuery, SystemClock, VersionMatch};

use super::state::{OUTBOUND_STATE, OutboundState};
use super::{Coverage, ExchangeError, TransferHeader, TransferReader, TransferWriter, Trust};
use crate::disclosure::ledger_entries;
use crate::egress::{Decision, Rule};
use crate::node::Federation;

/// Object versions read from the store per query.
const PAGE: usize = 1000;

/// What an export wrote.
#[derive(Debug, Clone)]
pub struct ExportSummary {
    /// The partner.
    pub partner: String,
    /// The file.
    pub path: PathBuf,
    /// Its header: sequence, objects, what it covers.
    pub header: TransferHeader,
    /// Objects written, by the rule that let them go.
    pub disclosed: BTreeMap<Rule, u64>,
    /// How many of them were redacted (granular markings above what the partner may see).
    pub redacted: u64,
    /// Versions not written, by the rule that withheld them.
    pub withheld: BTreeMap<Rule, u64>,
}

impl ExportSummary {
    /// How many versions were withheld.
    pub fn withheld_total(&self) -> u64 {
        self.withheld.values().sum()
    }
}

impl Federation {
    /// Writes the next transfer file for `partner` to `path` (which must not exist),
    /// records it, and returns what it holds. See the module documentation.
    pub async fn export_file(
        &self,
        partner: &str,
        path: &Path,
    ) -> Result<ExportSummary, ExchangeError> {
        self.partner(partner)?;
        let result = self.export_to(partner, path).await;
        // The file's objects were counted with its state, in the ledger's transaction.
        let outcome = match &result {
            Ok(_) => Ok(0),
            Err(error) => Err(error.to_string()),
        };
        if let Err(error) = self
            .store()
            .record_sync_attempt(partner, OUTBOUND_STATE, Channel::File, outcome)
            .await
        {
            tracing::warn!(partner, %error, "cannot record the export attempt");
        }
        result
    }

    async fn export_to(&self, partner: &str, path: &Path) -> Result<ExportSummary, ExchangeError> {
        let config = self.partner(partner)?;
        let recipient = config.identity.clone();
        let mut collections: Vec<Collection> = Vec::new();
        for name in &config.outbound.collections {
            let collection = self.collection(name).await?;
            if !collections.iter().any(|c| c.id == collection.id) {
                collections.push(collection);
            }
        }
        let state = self.outbound_state(partner).await?;
        if fs::symlink_metadata(path).is_ok() {
            return Err(ExchangeError::Exists {
                path: path.to_owned(),
            });
        }
        let partial = partial_path(path);
        if fs::symlink_metadata(&partial).is_ok() {
            return Err(self.leftover(partner, &recipient, &partial, &state));
        }
        let file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&partial)
            .map_err(|source| ExchangeError::Io {
                action: "create",
                path: partial.clone(),
                source,
            })?;
        let written = self
            .write_transfer(partner, &recipient, &collections, &state, file, &partial)
            .await;
        let (summary, next_state, entries) = match written {
            Ok(done) => done,
            Err(error) => {
                let _ = fs::remove_file(&partial);
                return Err(error);
            }
        };
        // The file is complete and on disk: record it (ledger and state, one transaction).
        if let Err(error) = self
            .store()
            .append_ledger(entries, Some(next_state.cursor(partner)))
            .await
        {
            let _ = fs::remove_file(&partial);
            return Err(error.into());
        }
        let renamed = if fs::symlink_metadata(path).is_ok() {
            Err(std::io::Error::new(
                std::io::ErrorKind::AlreadyExists,
                "the name was taken while the file was written",
            ))
        } else {
            fs::rename(&partial, path)
        };
        renamed.map_err(|source| ExchangeError::Rename {
            partner: partner.to_owned(),
            partial: partial.clone(),
            path: path.to_owned(),
            source,
        })?;
        sync_parent(path);
        tracing::info!(
            partner,
            sequence = summary.header.sequence,
            objects = summary.header.objects,
            withheld = summary.withheld_total(),
            file = %path.display(),
            "transfer file written"
        );
        Ok(ExportSummary {
            path: path.to_owned(),
            ..summary
        })
    }

    /// Decides and writes every version added since `state` to `file`, synced.
    /// Returns the summary, the state after this file and its ledger entries.
    async fn write_transfer(
        &self,
        partner: &str,
        recipient: &str,
        collections: &[Collection],
        state: &OutboundState,
        file: File,
        partial: &Path,
    ) -> Result<(ExportSummary, OutboundState, Vec<store::NewLedgerEntry>), ExchangeError> {
        let file_error = |source| ExchangeError::File {
            path: partial.to_owned(),
            source,
        };
        let mut writer =
            TransferWriter::new(BufWriter::with_capacity(256 << 10, file)).map_err(file_error)?;
        let mut next_state = OutboundState {
            sequence: state.sequence + 1,
            positions: state.positions.clone(),
        };
        let mut coverage = Vec::with_capacity(collections.len());
        let mut entries = Vec::new();
        let mut disclosed = BTreeMap::new();
        let mut withheld = BTreeMap::new();
        let mut redacted = 0;
        for collection in collections {
            let after = state.positions.get(&collection.id).copied();
            let mut through = after;
            let mut objects = 0;
            let mut query = ObjectQuery {
                added_after: after,
                versions: vec![VersionMatch::All],
                limit: PAGE,
                with_provenance: true,
                ..ObjectQuery::default()
            };
            loop {
                let page = self.store().objects(collection.id, &query).await?;
                through = page.last_added.or(through);
                let (more, next) = (page.more, page.next);
                let outcomes = self.decide(partner, collection.id, page.records).await?;
                for outcome in &outcomes {
                    match &outcome.decision {
                        Decision::Disclose {
                            bytes,
                            rule,
                            redacted: was_redacted,
                        } => {
                            writer.write_object(bytes).map_err(file_error)?;
                            objects += 1;
                            *disclosed.entry(*rule).or_insert(0) += 1;
                            redacted += u64::from(*was_redacted);
                        }
                        Decision::Withhold { rule, .. } => {
                            *withheld.entry(*rule).or_insert(0) += 1;
                        }
                    }
                }
                entries.extend(ledger_entries(
                    partner,
                    Channel::File,
                    collection.id,
                    &outcomes,
                ));
                match next {
                    Some(next) if more => query.next = Some(next),
                    _ => break,
                }
            }
            if let Some(through) = through {
                next_state.positions.insert(collection.id, through);
            }
            coverage.push(Coverage {
                collection: collection.id,
                after,
                through,
                objects,
            });
        }
        let header = TransferHeader {
            sender: String::new(),
            recipient: recipient.to_owned(),
            sequence: next_state.sequence,
            created: SystemClock.now(),
            objects: 0,
            collections: coverage,
        };
        let (out, header) = writer.finish(header, self.identity()).map_err(file_error)?;
        let file = out.into_inner().map_err(|e| ExchangeError::Io {
            action: "write",
            path: partial.to_owned(),
            source: e.into_error(),
        })?;
        file.sync_all().map_err(|source| ExchangeError::Io {
            action: "sync",
            path: partial.to_owned(),
            source,
        })?;
        let summary = ExportSummary {
            partner: partner.to_owned(),
            path: partial.to_owned(),
            header,
            disclosed,
            redacted,
            withheld,
        };
        Ok((summary, next_state, entries))
    }

    /// The saved outbound state for `partner` (nothing written yet: sequence 0).
    pub async fn outbound_state(&self, partner: &str) -> Result<OutboundState, ExchangeError> {
        let text = self
            .store()
            .sync_cursor(partner, OUTBOUND_STATE, Channel::File)
            .await?;
        match text {
            None => Ok(OutboundState::default()),
            Some(text) => OutboundState::parse(&text).map_err(|message| ExchangeError::State {
                partner: partner.to_owned(),
                state: OUTBOUND_STATE,
                text,
                message,
            }),
        }
    }

    /// What to tell about a `.partial` file an earlier export left: a complete file
    /// signed by us for this partner with the last recorded sequence was recorded as
    /// sent and must be carried; anything else was never recorded.
    fn leftover(
        &self,
        partner: &str,
        recipient: &str,
        partial: &Path,
        state: &OutboundState,
    ) -> ExchangeError {
        let ours = self.identity().identity.clone();
        let key = self.identity().public_key();
        let keys = move |identity: &str| (identity == ours).then_some(key);
        let trust = Trust {
            recipient,
            keys: &keys,
        };
        let recorded = File::open(partial)
            .ok()
            .and_then(|file| {
                TransferReader::new(BufReader::new(file))
                    .finish(&trust)
                    .ok()
            })
            .filter(|header| state.sequence > 0 && header.sequence == state.sequence);
        let message = match recorded {
            Some(header) => format!(
                "an earlier export stopped before renaming this file; it is file {} for {partner}, \
                 complete and recorded as sent: rename it, carry it, then export again",
                header.sequence
            ),
            None => "an earlier export stopped before recording this file, so nothing in it \
                     was recorded as sent: delete it, then export again"
                .to_owned(),
        };
        ExchangeError::Leftover {
            path: partial.to_owned(),
            message,
        }
    }
}

/// `<FILE>.partial`, where a file is written before it is recorded.
pub fn partial_path(path: &Path) -> PathBuf {
    let mut partial = path.as_os_str().to_owned();
    partial.push(".partial");
    PathBuf::from(partial)
}

/// Makes a rename durable: syncs the folder holding `path` (best effort: some
/// file systems cannot sync a folder, and the file itself is already synced).
fn sync_parent(path: &Path) {
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    if let Err(error) = File::open(parent).and_then(|dir| dir.sync_all()) {
        tracing::debug!(folder = %parent.display(), %error, "cannot sync the folder after renaming");
    }
}
