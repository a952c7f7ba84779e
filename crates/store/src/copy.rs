//! Copying a whole node from one [`Store`] to another, whatever their backends
//! ([`copy_node`]), then checking the copy.
//!
//! The copy keeps everything a store assigns itself: collections' creation times and
//! last `date_added`, every object version's `date_added`, accounts' and tokens'
//! creation times, token and password hashes, and the ledger entry for entry (same
//! `seq`, times and hashes), so TAXII cursors, tokens, `audit verify` and anchors taken
//! on the source all hold on the copy. Nothing is decided again: no `received` entry is
//! written for copied versions, no time is taken from the target's clock.
//!
//! It streams: objects, statuses and ledger entries move a page at a time, so memory
//! holds one page, never the node. Accounts, collections and sync states are read
//! whole (a node has few). The source must not change while it is copied (stop the
//! node): the checks at the end would name what moved.

use std::collections::BTreeMap;
use std::fmt;

use uuid::Uuid;

use crate::Store;
use crate::collection::CollectionCount;
use crate::error::StoreError;
use crate::ledger::{LedgerEntry, LedgerQuery, LedgerVerifier};

/// How many items a copy moves per store call.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PageSizes {
    /// Object versions per page read and written (one transaction on the target each).
    pub objects: usize,
    /// Statuses per page read.
    pub statuses: usize,
    /// Ledger entries per page read and written (one transaction each).
    pub ledger: usize,
}

impl Default for PageSizes {
    fn default() -> PageSizes {
        PageSizes {
            objects: 500,
            statuses: 1000,
            ledger: 5000,
        }
    }
}

/// What a copy is doing, for a progress display.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CopyStep {
    /// Creating the collections.
    Collections,
    /// Copying the object versions of this collection.
    Objects {
        /// The collection being copied.
        collection: Uuid,
    },
    /// Copying accounts with their tokens and rights.
    Accounts,
    /// Copying status resources.
    Statuses,
    /// Copying sync states.
    SyncStates,
    /// Copying the ledger.
    Ledger,
    /// Checking the copy against the source.
    Verify,
}

impl fmt::Display for CopyStep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CopyStep::Collections => f.write_str("collections"),
            CopyStep::Objects { collection } => write!(f, "objects of collection {collection}"),
            CopyStep::Accounts => f.write_str("accounts"),
            CopyStep::Statuses => f.write_str("statuses"),
            CopyStep::SyncStates => f.write_str("sync states"),
            CopyStep::Ledger => f.write_str("ledger"),
            CopyStep::Verify => f.write_str("verifying"),
        }
    }
}

/// Where a copy stands, reported after each page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CopyProgress {
    /// What it is doing.
    pub step: CopyStep,
    /// How many items of this kind are copied so far. For objects, the versions of
    /// every collection so far, so a display need not restart per collection.
    pub done: u64,
    /// How many there are, when known before copying (versions, ledger entries).
    pub total: Option<u64>,
}

/// What a finished, verified copy holds (the same on both sides).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CopyReport {
    /// Versions and objects per collection, by collection id.
    pub collections: Vec<CollectionCount>,
    /// Object versions, in every collection.
    pub versions: u64,
    /// Accounts.
    pub accounts: u64,
    /// API tokens.
    pub tokens: u64,
    /// Rights grants.
    pub grants: u64,
    /// Status resources.
    pub statuses: u64,
    /// Sync states.
    pub sync_states: u64,
    /// Ledger entries; the chain verified on the target.
    pub ledger_entries: u64,
    /// The last ledger entry, the same on both sides.
    pub ledger_head: Option<LedgerEntry>,
}

/// Why a copy stopped.
#[derive(Debug, thiserror::Error)]
pub enum CopyError {
    /// The target is not empty; nothing was written.
    #[error("the target already holds a node ({found}): copy into an empty store")]
    TargetNotEmpty {
        /// What it holds, named.
        found: String,
    },
    /// The source failed.
    #[error("source: cannot {action}")]
    Source {
        /// What was being done, such as `read the ledger`.
        action: String,
        /// The store's error.
        #[source]
        source: StoreError,
    },
    /// The target failed.
    #[error("target: cannot {action}")]
    Target {
        /// What was being done, such as `write collection …`.
        action: String,
        /// The store's error.
        #[source]
        source: StoreError,
    },
    /// The copy does not match the source.
    #[error("the copy does not match the source: {0}")]
    Mismatch(String),
}

/// Attaches what was being read or written to a store error.
trait Context<T> {
    fn source(self, action: impl FnOnce() -> String) -> Result<T, CopyError>;
    fn target(self, action: impl FnOnce() -> String) -> Result<T, CopyError>;
}

impl<T> Context<T> for Result<T, StoreError> {
    fn source(self, action: impl FnOnce() -> String) -> Result<T, CopyError> {
        self.map_err(|source| CopyError::Source {
            action: action(),
            source,
        })
    }

    fn target(self, action: impl FnOnce() -> String) -> Result<T, CopyError> {
        self.map_err(|source| CopyError::Target {
            action: action(),
            source,
        })
    }
}

/// Copies everything `from` holds into `to`, which must be empty, then verifies the
/// copy: the collections (with their last `date_added`), the counts per collection, the
/// accounts and sync states are equal on both sides, and the target's ledger verifies
/// from entry 1 to the same head as the source's. `progress` is called after each page.
///
/// Order: collections, object versions (collection by collection, in `date_added`
/// order), accounts with tokens and rights, statuses, sync states, ledger.
/// A failure leaves a partial target: empty it (delete the file, drop the database)
/// before trying again.
pub async fn copy_node(
    from: &dyn Store,
    to: &dyn Store,
    progress: &(dyn Fn(CopyProgress) + Sync),
) -> Result<CopyReport, CopyError> {
    copy_in_pages(from, to, progress, PageSizes::default()).await
}

/// [`copy_node`] with the given page sizes (the test suite crosses page boundaries
/// with small ones).
pub(crate) async fn copy_in_pages(
    from: &dyn Store,
    to: &dyn Store,
    progress: &(dyn Fn(CopyProgress) + Sync),
    pages: PageSizes,
) -> Result<CopyReport, CopyError> {
    refuse_non_empty(to).await?;
    let report = |step, done, total| progress(CopyProgress { step, done, total });

    report(CopyStep::Collections, 0, None);
    let collections = from
        .dump_collections()
        .await
        .source(|| "read the collections".into())?;
    for record in &collections {
        to.restore_collection(record.collection.clone())
            .await
            .target(|| format!("write collection {}", record.collection.id))?;
    }
    report(
        CopyStep::Collections,
        collections.len() as u64,
        Some(collections.len() as u64),
    );

    let counts = from.counts().await.source(|| "read the counts".into())?;
    let total_versions = counts.iter().map(|c| c.versions).sum();
    let mut versions = 0;
    for record in &collections {
        let collection = record.collection.id;
        let step = || CopyStep::Objects { collection };
        report(step(), versions, Some(total_versions));
        let mut after = None;
        loop {
            let page = from
                .dump_objects(collection, after, pages.objects)
                .await
                .source(|| format!("read the objects of collection {collection}"))?;
            let Some(last) = page.last() else {
                break;
            };
            after = Some(last.date_added);
            let n = page.len();
            to.restore_objects(collection, page, None)
                .await
                .target(|| format!("write the objects of collection {collection}"))?;
            versions += n as u64;
            report(step(), versions, Some(total_versions));
            if n < pages.objects {
                break;
            }
        }
        to.restore_objects(collection, Vec::new(), Some(record.last_date_added))
            .await
            .target(|| format!("write the last date_added of collection {collection}"))?;
    }

    report(CopyStep::Accounts, 0, None);
    let accounts = from
        .dump_accounts()
        .await
        .source(|| "read the accounts".into())?;
    let (mut tokens, mut grants) = (0, 0);
    for (n, account) in accounts.iter().enumerate() {
        let name = account.name.clone();
        let rights = from
            .grants_of_account(&name)
            .await
            .source(|| format!("read the rights of account {name:?}"))?;
        tokens += account.tokens.len() as u64;
        to.restore_account(account.clone())
            .await
            .target(|| format!("write account {name:?}"))?;
        for grant in rights {
            to.set_rights(&name, grant.collection, grant.rights)
                .await
                .target(|| {
                    format!(
                        "write the rights of account {name:?} on collection {}",
                        grant.collection
                    )
                })?;
            grants += 1;
        }
        report(
            CopyStep::Accounts,
            n as u64 + 1,
            Some(accounts.len() as u64),
        );
    }

    report(CopyStep::Statuses, 0, None);
    let mut statuses = 0;
    let mut after = None;
    loop {
        let page = from
            .statuses(after, pages.statuses)
            .await
            .source(|| "read the statuses".into())?;
        let n = page.len();
        for status in &page {
            to.create_status(status)
                .await
                .target(|| format!("write status {}", status.id))?;
        }
        statuses += n as u64;
        report(CopyStep::Statuses, statuses, None);
        match page.last() {
            Some(last) if n == pages.statuses => after = Some(last.id),
            _ => break,
        }
    }

    let states = from
        .sync_states()
        .await
        .source(|| "read the sync states".into())?;
    for state in &states {
        to.restore_sync_state(state.clone()).await.target(|| {
            format!(
                "write the sync state of {} {} {}",
                state.partner, state.direction, state.collection
            )
        })?;
    }
    report(
        CopyStep::SyncStates,
        states.len() as u64,
        Some(states.len() as u64),
    );

    let source_head = from
        .ledger_head()
        .await
        .source(|| "read the ledger's head".into())?;
    let total_entries = source_head.as_ref().map_or(0, |h| h.seq);
    let mut entries = 0;
    report(CopyStep::Ledger, 0, Some(total_entries));
    let mut after_seq = None;
    loop {
        let query = LedgerQuery {
            after_seq,
            limit: Some(pages.ledger),
            ..LedgerQuery::default()
        };
        let page = from
            .ledger(&query)
            .await
            .source(|| "read the ledger".into())?;
        let n = page.len();
        let Some(last) = page.last() else {
            break;
        };
        after_seq = Some(last.seq);
        let first = page.first().map_or(0, |e| e.seq);
        to.restore_ledger(page)
            .await
            .target(|| format!("write ledger entries {first} to {}", after_seq.unwrap_or(0)))?;
        entries += n as u64;
        report(CopyStep::Ledger, entries, Some(total_entries));
        if n < pages.ledger {
            break;
        }
    }

    report(CopyStep::Verify, 0, None);
    let counts = verify(from, to, source_head.as_ref(), pages.ledger).await?;
    Ok(CopyReport {
        versions: counts.iter().map(|c| c.versions).sum(),
        collections: counts,
        accounts: accounts.len() as u64,
        tokens,
        grants,
        statuses,
        sync_states: states.len() as u64,
        ledger_entries: entries,
        ledger_head: source_head,
    })
}

/// Refuses a target holding anything, naming what it holds.
async fn refuse_non_empty(to: &dyn Store) -> Result<(), CopyError> {
    fn some(names: Vec<String>, one: &str, many: &str) -> Option<String> {
        const SHOWN: usize = 3;
        let (n, kind) = match names.len() {
            0 => return None,
            1 => (1, one),
            n => (n, many),
        };
        let mut shown = names.into_iter().take(SHOWN).collect::<Vec<_>>().join(", ");
        if n > SHOWN {
            shown.push_str(", …");
        }
        Some(format!("{n} {kind}: {shown}"))
    }
    let collections = to
        .list_collections()
        .await
        .target(|| "read the collections".into())?;
    let accounts = to
        .list_accounts()
        .await
        .target(|| "read the accounts".into())?;
    let statuses = to
        .statuses(None, 1)
        .await
        .target(|| "read the statuses".into())?;
    let states = to
        .sync_states()
        .await
        .target(|| "read the sync states".into())?;
    let head = to.ledger_head().await.target(|| "read the ledger".into())?;
    let found: Vec<String> = [
        some(
            collections
                .iter()
                .map(|c| c.alias.clone().unwrap_or_else(|| c.id.to_string()))
                .collect(),
            "collection",
            "collections",
        ),
        some(
            accounts.into_iter().map(|a| a.name).collect(),
            "account",
            "accounts",
        ),
        (!statuses.is_empty()).then(|| "statuses".to_owned()),
        some(
            states
                .into_iter()
                .map(|s| format!("{} {} {}", s.partner, s.direction, s.collection))
                .collect(),
            "sync state",
            "sync states",
        ),
        head.map(|h| match h.seq {
            1 => "1 ledger entry".to_owned(),
            n => format!("{n} ledger entries"),
        }),
    ]
    .into_iter()
    .flatten()
    .collect();
    if found.is_empty() {
        Ok(())
    } else {
        Err(CopyError::TargetNotEmpty {
            found: found.join("; "),
        })
    }
}

/// Checks the target against the source; returns the counts both sides agree on.
async fn verify(
    from: &dyn Store,
    to: &dyn Store,
    source_head: Option<&LedgerEntry>,
    ledger_page: usize,
) -> Result<Vec<CollectionCount>, CopyError> {
    let mismatch = |what: String| Err(CopyError::Mismatch(what));

    let source = from
        .dump_collections()
        .await
        .source(|| "read the collections".into())?;
    let target = to
        .dump_collections()
        .await
        .target(|| "read the collections".into())?;
    let target_by_id: BTreeMap<Uuid, _> = target.iter().map(|r| (r.collection.id, r)).collect();
    for record in &source {
        let id = record.collection.id;
        match target_by_id.get(&id) {
            None => return mismatch(format!("collection {id} is missing")),
            Some(copy) if *copy != record => {
                return mismatch(format!(
                    "collection {id} differs: {record:?} in the source, {copy:?} in the copy"
                ));
            }
            Some(_) => {}
        }
    }
    if target.len() != source.len() {
        return mismatch(format!(
            "{} collections in the source, {} in the copy",
            source.len(),
            target.len()
        ));
    }

    let source_counts = by_collection(from.counts().await.source(|| "read the counts".into())?);
    let target_counts = by_collection(to.counts().await.target(|| "read the counts".into())?);
    for (id, count) in &source_counts {
        let copied = target_counts.get(id);
        if copied != Some(count) {
            let (versions, objects) = copied.map_or((0, 0), |c| (c.versions, c.objects));
            return mismatch(format!(
                "collection {id} holds {} versions of {} objects in the source, \
                 {versions} versions of {objects} objects in the copy",
                count.versions, count.objects
            ));
        }
    }

    let accounts = from
        .dump_accounts()
        .await
        .source(|| "read the accounts".into())?;
    let copied = to
        .dump_accounts()
        .await
        .target(|| "read the accounts".into())?;
    if accounts != copied {
        let names =
            |a: &[crate::AccountRecord]| a.iter().map(|a| a.name.clone()).collect::<Vec<_>>();
        let differs = accounts
            .iter()
            .zip(&copied)
            .find(|(a, b)| a != b)
            .map(|(a, _)| a.name.clone());
        return mismatch(match differs {
            Some(name) => format!("account {name:?} differs"),
            None => format!(
                "the accounts are {:?} in the source, {:?} in the copy",
                names(&accounts),
                names(&copied)
            ),
        });
    }

    let states = from
        .sync_states()
        .await
        .source(|| "read the sync states".into())?;
    let copied = to
        .sync_states()
        .await
        .target(|| "read the sync states".into())?;
    if states != copied {
        return mismatch(format!(
            "the sync states differ: {} in the source, {} in the copy",
            states.len(),
            copied.len()
        ));
    }

    let head = verify_ledger(to, ledger_page).await?;
    if head.as_ref() != source_head {
        let describe = |h: Option<&LedgerEntry>| match h {
            Some(h) => format!("entry {} with hash {}", h.seq, h.hash),
            None => "empty".to_owned(),
        };
        return mismatch(format!(
            "the ledger's head is {} in the source, {} in the copy",
            describe(source_head),
            describe(head.as_ref())
        ));
    }
    Ok(source_counts.into_values().collect())
}

fn by_collection(counts: Vec<CollectionCount>) -> BTreeMap<Uuid, CollectionCount> {
    counts.into_iter().map(|c| (c.collection, c)).collect()
}

/// Walks the target's whole ledger with [`LedgerVerifier`]; returns its head.
async fn verify_ledger(to: &dyn Store, page_size: usize) -> Result<Option<LedgerEntry>, CopyError> {
    let mut verifier = LedgerVerifier::new();
    let mut head = None;
    loop {
        let query = LedgerQuery {
            after_seq: head.as_ref().map(|h: &LedgerEntry| h.seq),
            limit: Some(page_size),
            ..LedgerQuery::default()
        };
        let page = to
            .ledger(&query)
            .await
            .target(|| "read the ledger".into())?;
        let n = page.len();
        for entry in &page {
            verifier.check(entry).map_err(|broken| {
                CopyError::Mismatch(format!("the copy's ledger does not verify: {broken}"))
            })?;
        }
        match page.into_iter().last() {
            Some(last) => head = Some(last),
            None => break,
        }
        if n < page_size {
            break;
        }
    }
    Ok(head)
}

/// The checks at the end of a copy, against stores that differ (the suite's
/// `copy_whole_node` shows they pass when nothing does).
#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::ledger::{Direction, NewLedgerEntry, sha256_hex};
    use crate::{Channel, ManualClock, Micros, NewCollection, NewObject, Provenance, SqliteStore};

    const C: Uuid = Uuid::from_u128(0xc);

    fn open(dir: &tempfile::TempDir) -> SqliteStore {
        let clock = Arc::new(ManualClock::new(Micros(1_000_000)));
        SqliteStore::open(dir.path(), clock).unwrap()
    }

    fn indicator(n: u32) -> NewObject {
        let bytes = format!(
            r#"{{"type":"indicator","spec_version":"2.1","id":"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd{n:02}","created":"2020-01-01T00:00:00.000Z","modified":"2020-01-01T00:00:00.000Z","pattern":"[ipv4-addr:value = '10.0.0.1']","pattern_type":"stix","valid_from":"2020-01-01T00:00:00Z"}}"#
        );
        let value = stix::json::parse(bytes.as_bytes()).unwrap();
        NewObject::from_object(bytes.clone().into_bytes(), value.as_object().unwrap()).unwrap()
    }

    fn entry(n: u32) -> NewLedgerEntry {
        NewLedgerEntry {
            direction: Direction::Disclosed,
            partner: Some("paris".into()),
            channel: Some(Channel::Push),
            collection: C,
            object_id: format!("indicator--{n}"),
            version: "2020-01-01T00:00:00.000Z".into(),
            bytes_sha256: sha256_hex(&n.to_be_bytes()),
            rule: "own-data".into(),
        }
    }

    /// A source with one collection of two objects and a two-entry ledger; a target
    /// holding the same collection, its first object and ledger entry only; the
    /// source's last `date_added`.
    async fn half_copied() -> (
        tempfile::TempDir,
        tempfile::TempDir,
        SqliteStore,
        SqliteStore,
        Micros,
    ) {
        let (from_dir, to_dir) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let (from, to) = (open(&from_dir), open(&to_dir));
        from.create_collection(NewCollection {
            id: C,
            title: "c".into(),
            description: None,
            alias: None,
        })
        .await
        .unwrap();
        let import = Provenance::Import { source: "-".into() };
        from.add_objects(C, &import, vec![indicator(1), indicator(2)])
            .await
            .unwrap();
        from.append_ledger(vec![entry(1), entry(2)], None)
            .await
            .unwrap();
        let record = from.dump_collections().await.unwrap().remove(0);
        to.restore_collection(record.collection).await.unwrap();
        let first = from.dump_objects(C, None, 1).await.unwrap();
        to.restore_objects(C, first, None).await.unwrap();
        let ledger = from.ledger(&LedgerQuery::default()).await.unwrap();
        to.restore_ledger(ledger[..1].to_vec()).await.unwrap();
        (from_dir, to_dir, from, to, record.last_date_added)
    }

    fn mismatch(result: Result<Vec<CollectionCount>, CopyError>) -> String {
        match result {
            Err(CopyError::Mismatch(message)) => message,
            other => panic!("no mismatch found: {other:?}"),
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_missing_version_is_named_with_both_counts() {
        let (_a, _b, from, to, mark) = half_copied().await;
        to.restore_objects(C, vec![], Some(mark)).await.unwrap();
        let head = from.ledger_head().await.unwrap();
        let message = mismatch(verify(&from, &to, head.as_ref(), 10).await);
        assert_eq!(
            message,
            format!(
                "collection {C} holds 2 versions of 2 objects in the source, \
                 1 versions of 1 objects in the copy"
            )
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_shorter_ledger_is_named_by_its_heads() {
        let (_a, _b, from, to, mark) = half_copied().await;
        let rest = from.dump_objects(C, None, 10).await.unwrap().split_off(1);
        to.restore_objects(C, rest, Some(mark)).await.unwrap();
        let ledger = from.ledger(&LedgerQuery::default()).await.unwrap();
        let message = mismatch(verify(&from, &to, ledger.last(), 10).await);
        assert_eq!(
            message,
            format!(
                "the ledger's head is entry 2 with hash {} in the source, \
                 entry 1 with hash {} in the copy",
                ledger[1].hash, ledger[0].hash
            )
        );
        // Copied whole, it verifies.
        to.restore_ledger(ledger[1..].to_vec()).await.unwrap();
        let counts = verify(&from, &to, ledger.last(), 1).await.unwrap();
        assert_eq!(counts[0].versions, 2);

        // An entry edited in the copy's file breaks its chain, and says where.
        let raw = rusqlite::Connection::open(to.path()).unwrap();
        raw.execute("UPDATE ledger SET rule = 'edited' WHERE seq = 2", [])
            .unwrap();
        let message = mismatch(verify(&from, &to, ledger.last(), 1).await);
        assert!(
            message.starts_with("the copy's ledger does not verify: ledger entry 2:"),
            "{message}"
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_collection_with_another_mark_is_named() {
        let (_a, _b, from, to, _mark) = half_copied().await;
        let late = Micros(i64::MAX / 2);
        to.restore_objects(C, vec![], Some(late)).await.unwrap();
        let head = from.ledger_head().await.unwrap();
        let message = mismatch(verify(&from, &to, head.as_ref(), 10).await);
        assert!(
            message.starts_with(&format!("collection {C} differs")),
            "{message}"
        );
    }
}
