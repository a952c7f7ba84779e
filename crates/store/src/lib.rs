//! The node's storage: the [`Store`] trait every backend implements, its domain types,
//! the SQLite backend ([`SqliteStore`]) and the PostgreSQL one ([`PostgresStore`]), their
//! migrations, and (behind the `testsuite` feature) the test suite every backend must
//! pass.
//!
//! # Why boxed futures
//! The server holds the store as `Arc<dyn Store>`, and native `async fn` in traits is
//! not object-safe. Every method returns a [`StoreFuture`], a
//! `Pin<Box<dyn Future + Send>>`: the same thing the `async-trait` macro would generate,
//! written out so the signatures read plainly in rustdoc and no proc-macro dependency
//! is needed. One allocation per call is noise next to a database round trip.
//!
//! # Semantics every backend keeps
//! - An object version is (collection, id, version). Adding one already stored is a
//!   success that stores nothing ([`AddOutcome::AlreadyPresent`], with the first copy's
//!   `date_added`).
//! - `date_added` is strictly increasing per collection: each new version gets
//!   `max(now, last + 1µs)` inside the write transaction, so `added_after` and cursors are exact.
//! - A batch given to [`Store::add_objects`] is stored in one transaction, durably, before
//!   the call returns.
//! - Records are returned as the exact bytes accepted, in `date_added` order.
//! - The ledger ([`ledger`]) is one hash chain with no gaps in `seq`: a backend reads the
//!   last entry and appends after it inside one write transaction, so appends never
//!   interleave. Received and deleted entries are written in the transaction that stores
//!   or deletes the objects; a sync cursor given with objects or entries is saved in it too.
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::future::Future;
use std::pin::Pin;

use uuid::Uuid;

pub mod account;
pub mod collection;
pub mod error;
pub mod health;
pub mod ledger;
pub mod object;
pub mod partner;
pub mod postgres;
pub mod query;
pub mod sqlite;
pub mod status;
#[cfg(feature = "testsuite")]
pub mod testsuite;
pub mod time;

pub use account::{Account, Grant, NewAccount, NewToken, Rights, TokenHash, TokenInfo};
pub use collection::{Collection, CollectionCount, NewCollection};
pub use error::{Result, StoreError};
pub use health::IntegrityReport;
pub use ledger::{
    BreakReason, Direction, LedgerBreak, LedgerEntry, LedgerQuery, LedgerVerifier, NewLedgerEntry,
};
pub use object::{AddOutcome, ManifestRecord, NewObject, ObjectRecord, Provenance, Version};
pub use partner::{Channel, SignatureCheck, SyncCursor, SyncState};
pub use postgres::PostgresStore;
pub use query::{Cursor, DeleteFilter, ObjectQuery, Page, VersionMatch};
pub use sqlite::SqliteStore;
pub use status::{Status, StatusDetail};
pub use time::{Clock, ManualClock, Micros, SystemClock};

/// The future every [`Store`] method returns.
pub type StoreFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T>> + Send + 'a>>;

/// Everything the node keeps: collections, object versions, statuses, accounts, tokens, rights.
///
/// Usable as `Arc<dyn Store>`. Methods that name a collection, account or status that
/// does not exist fail with [`StoreError::NotFound`].
pub trait Store: Send + Sync {
    // ---- health ----

    /// Runs the backend's consistency check (SQLite: `PRAGMA integrity_check`; PostgreSQL:
    /// the flags, `last_date_added` and ledger bookkeeping, see `postgres::integrity`).
    fn integrity_check(&self) -> StoreFuture<'_, IntegrityReport>;

    /// The number of object versions and distinct objects in each collection, by collection id.
    fn counts(&self) -> StoreFuture<'_, Vec<CollectionCount>>;

    // ---- collections ----

    /// Creates a collection; [`StoreError::Conflict`] if its id or alias is taken.
    fn create_collection(&self, new: NewCollection) -> StoreFuture<'_, Collection>;

    /// Every collection, ordered by title then id.
    fn list_collections(&self) -> StoreFuture<'_, Vec<Collection>>;

    /// One collection by id.
    fn get_collection(&self, id: Uuid) -> StoreFuture<'_, Collection>;

    /// One collection by id (in text) or alias, for the CLI.
    fn find_collection<'a>(&'a self, id_or_alias: &'a str) -> StoreFuture<'a, Collection>;

    /// Deletes a collection with all its objects and the rights on it.
    fn delete_collection(&self, id: Uuid) -> StoreFuture<'_, ()>;

    // ---- objects ----

    /// Stores a batch of validated objects in one durable transaction, all with the same
    /// provenance, and says per object (in order) whether it was added or already present.
    ///
    /// An object without `modified` or `created` has its `date_added` as version; it is
    /// already present when its newest stored version has the same bytes.
    ///
    /// With [`Provenance::Partner`], the same transaction appends one `received` ledger
    /// entry per version added (none for those already present), with the SHA-256 of its
    /// bytes, the provenance's partner and channel, and rule `received`.
    fn add_objects<'a>(
        &'a self,
        collection: Uuid,
        provenance: &'a Provenance,
        objects: Vec<NewObject>,
    ) -> StoreFuture<'a, Vec<AddOutcome>>;

    /// [`Store::add_objects`], and `cursor` saved in the same transaction: a pulled page
    /// and the position after it are stored together or not at all.
    fn add_objects_with_cursor<'a>(
        &'a self,
        collection: Uuid,
        provenance: &'a Provenance,
        objects: Vec<NewObject>,
        cursor: SyncCursor,
    ) -> StoreFuture<'a, Vec<AddOutcome>>;

    /// A page of object versions with their bytes (TAXII Get Objects and Get An Object).
    fn objects<'a>(
        &'a self,
        collection: Uuid,
        query: &'a ObjectQuery,
    ) -> StoreFuture<'a, Page<ObjectRecord>>;

    /// A page of manifest records (TAXII Get Object Manifests): the same selection as
    /// [`Store::objects`] without the bytes.
    fn manifest<'a>(
        &'a self,
        collection: Uuid,
        query: &'a ObjectQuery,
    ) -> StoreFuture<'a, Page<ManifestRecord>>;

    /// A page of one object's versions (TAXII Get Object Versions): `query` with `ids`
    /// set to `[id]` and `versions` to `[All]`; its `added_after`, `spec_versions`,
    /// `limit` and `next` apply.
    fn object_versions<'a>(
        &'a self,
        collection: Uuid,
        id: &'a str,
        query: &'a ObjectQuery,
    ) -> StoreFuture<'a, Page<ManifestRecord>> {
        Box::pin(async move {
            let query = ObjectQuery {
                ids: vec![id.to_owned()],
                versions: vec![VersionMatch::All],
                ..query.clone()
            };
            self.manifest(collection, &query).await
        })
    }

    /// Deletes the versions of object `id` that `filter` selects, keeping the
    /// first/last bookkeeping of the remaining versions right; returns how many were deleted.
    ///
    /// The same transaction appends one `deleted` ledger entry per version deleted
    /// (no partner or channel, the SHA-256 of the stored bytes, rule `local-delete`).
    fn delete_object<'a>(
        &'a self,
        collection: Uuid,
        id: &'a str,
        filter: &'a DeleteFilter,
    ) -> StoreFuture<'a, u64>;

    /// Who gave us one object version.
    fn provenance<'a>(
        &'a self,
        collection: Uuid,
        id: &'a str,
        version: &'a Version,
    ) -> StoreFuture<'a, Provenance>;

    // ---- ledger ----

    /// Appends entries to the ledger in one transaction, in order, chained after the
    /// last entry read under the write lock; saves `cursor` in the same transaction if
    /// given. Returns the entries as stored. [`StoreError::Invalid`] if an entry fails
    /// [`NewLedgerEntry::check`] (nothing is appended then).
    fn append_ledger(
        &self,
        entries: Vec<NewLedgerEntry>,
        cursor: Option<SyncCursor>,
    ) -> StoreFuture<'_, Vec<LedgerEntry>>;

    /// The ledger entries `query` selects, in `seq` order.
    fn ledger<'a>(&'a self, query: &'a LedgerQuery) -> StoreFuture<'a, Vec<LedgerEntry>>;

    /// The last ledger entry, if any.
    fn ledger_head(&self) -> StoreFuture<'_, Option<LedgerEntry>>;

    // ---- sync state ----

    /// The saved cursor of one exchange (`collection`: the remote collection id for pull,
    /// the local one for push and file), if any.
    fn sync_cursor<'a>(
        &'a self,
        partner: &'a str,
        collection: &'a str,
        direction: Channel,
    ) -> StoreFuture<'a, Option<String>>;

    /// Saves one exchange's cursor, replacing the one it had.
    fn set_sync_cursor(&self, cursor: SyncCursor) -> StoreFuture<'_, ()>;

    /// Records an attempt at one exchange, now: `Ok(objects moved)` sets `last_success`,
    /// clears `last_error` and adds to `objects`; `Err(message)` sets `last_error`.
    fn record_sync_attempt<'a>(
        &'a self,
        partner: &'a str,
        collection: &'a str,
        direction: Channel,
        outcome: std::result::Result<u64, String>,
    ) -> StoreFuture<'a, ()>;

    /// Every exchange's state, by partner, collection and channel.
    fn sync_states(&self) -> StoreFuture<'_, Vec<SyncState>>;

    // ---- statuses ----

    /// Stores a new status; [`StoreError::Conflict`] if its id exists.
    fn create_status<'a>(&'a self, status: &'a Status) -> StoreFuture<'a, ()>;

    /// Replaces a stored status (same id) with `status`.
    fn update_status<'a>(&'a self, status: &'a Status) -> StoreFuture<'a, ()>;

    /// One status by id.
    fn get_status(&self, id: Uuid) -> StoreFuture<'_, Status>;

    // ---- accounts ----

    /// Creates an account; [`StoreError::Conflict`] if the name is taken.
    fn create_account(&self, new: NewAccount) -> StoreFuture<'_, Account>;

    /// Every account, by name.
    fn list_accounts(&self) -> StoreFuture<'_, Vec<Account>>;

    /// One account by name.
    fn get_account<'a>(&'a self, name: &'a str) -> StoreFuture<'a, Account>;

    /// Deletes an account with its tokens and rights.
    fn delete_account<'a>(&'a self, name: &'a str) -> StoreFuture<'a, ()>;

    /// Makes an account an admin or not.
    fn set_admin<'a>(&'a self, name: &'a str, admin: bool) -> StoreFuture<'a, ()>;

    /// Sets (or with `None` removes) an account's password hash: an argon2 PHC string,
    /// made by the caller. The store never sees a password.
    fn set_password_hash<'a>(&'a self, name: &'a str, hash: Option<String>) -> StoreFuture<'a, ()>;

    /// Ties an account to a partner (what it reads then goes through that partner's
    /// agreement), or with `None` unties it.
    fn set_account_partner<'a>(
        &'a self,
        name: &'a str,
        partner: Option<String>,
    ) -> StoreFuture<'a, ()>;

    /// An account's password hash, if one is set.
    fn password_hash<'a>(&'a self, name: &'a str) -> StoreFuture<'a, Option<String>>;

    // ---- tokens ----

    /// Adds an API token to an account; [`StoreError::Conflict`] if the account already
    /// has a token of that name (or, astronomically unlikely, the same hash exists).
    fn add_token<'a>(&'a self, account: &'a str, token: NewToken) -> StoreFuture<'a, TokenInfo>;

    /// An account's tokens, by name.
    fn list_tokens<'a>(&'a self, account: &'a str) -> StoreFuture<'a, Vec<TokenInfo>>;

    /// Removes an account's token by name.
    fn revoke_token<'a>(&'a self, account: &'a str, name: &'a str) -> StoreFuture<'a, ()>;

    /// The account a token hash belongs to; [`StoreError::NotFound`] if none.
    fn account_by_token<'a>(&'a self, hash: &'a TokenHash) -> StoreFuture<'a, Account>;

    // ---- rights ----

    /// Sets an account's rights on a collection (replacing what it had).
    fn set_rights<'a>(
        &'a self,
        account: &'a str,
        collection: Uuid,
        rights: Rights,
    ) -> StoreFuture<'a, ()>;

    /// Removes every right of an account on a collection.
    fn revoke_rights<'a>(&'a self, account: &'a str, collection: Uuid) -> StoreFuture<'a, ()>;

    /// An account's rights on a collection; no grant means [`Rights::default`] (nothing).
    /// Admin accounts are not special here: the caller decides what admin implies.
    fn rights<'a>(&'a self, account: &'a str, collection: Uuid) -> StoreFuture<'a, Rights>;

    /// Every grant an account holds, by collection id.
    fn grants_of_account<'a>(&'a self, account: &'a str) -> StoreFuture<'a, Vec<Grant>>;

    /// Every grant on a collection, by account name.
    fn grants_on_collection(&self, collection: Uuid) -> StoreFuture<'_, Vec<Grant>>;
}
