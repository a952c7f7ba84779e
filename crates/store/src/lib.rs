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
//! - A whole-node copy ([`copy`]) keeps everything a store assigns itself: the restore
//!   methods write `date_added`, creation times, token hashes and ledger entries as given.
//! - A lease ([`lease`]) has at most one holder at a time, decided in one write
//!   transaction by the store's clock ([`Store::try_lease`]).
//! - A lookup by a key holding U+0000 (NUL) finds nothing: [`StoreError::NotFound`], an
//!   empty page, no match, no cursor; in a list of filter values (`ids`, `types`,
//!   `spec_versions`) only that value matches nothing.
//!
//! # Where the backends differ: text holding U+0000 (NUL)
//! PostgreSQL's `text` cannot hold NUL; SQLite stores it like any other character. So
//! a write of text holding one (an account, token, collection, lease or partner name,
//! a password hash, a sync cursor, a provenance name, a ledger entry's text, a status's
//! account) is stored exactly by SQLite and refused by PostgreSQL with
//! [`StoreError::Invalid`] naming the field (`account name contains a NUL character
//! …`), which writes nothing. Messages are recorded by both: a status's details exactly
//! (one JSON text, which escapes NUL), and the error of [`Store::record_sync_attempt`]
//! and a partner's signer in a [`Provenance::Partner`] (whatever a partner sends) with
//! each NUL as U+FFFD on PostgreSQL. What a TAXII request brings (a collection in the
//! path, `match[...]` values, an HTTP Basic user name) is only looked up, or validated
//! before it is written, so no request fails on a NUL on either backend.
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use uuid::Uuid;

pub mod account;
pub mod blocking;
pub mod collection;
pub mod copy;
pub mod dump;
pub mod error;
pub mod health;
pub mod lease;
pub mod ledger;
pub mod object;
pub mod partner;
pub mod postgres;
pub mod query;
pub mod sqlite;
pub mod status;
#[cfg(feature = "testsuite")]
pub mod test_backend;
#[cfg(feature = "testsuite")]
pub mod testsuite;
pub mod time;

pub use account::{Account, Grant, NewAccount, NewToken, Rights, TokenHash, TokenInfo};
pub use collection::{Collection, CollectionCount, NewCollection};
pub use copy::{CopyError, CopyProgress, CopyReport, CopyStep, copy_node};
pub use dump::{AccountRecord, CollectionRecord, StoredVersion, TokenRecord};
pub use error::{Result, StoreError};
pub use health::IntegrityReport;
pub use lease::Lease;
pub use ledger::{
    BreakReason, Direction, LedgerBreak, LedgerEntry, LedgerQuery, LedgerVerifier, NewLedgerEntry,
};
pub use object::{AddOutcome, ManifestRecord, NewObject, ObjectRecord, Provenance, Version};
pub use partner::{Channel, SignatureCheck, SyncCursor, SyncState, SyncStep};
pub use postgres::PostgresStore;
pub use query::{Cursor, DeleteFilter, JoinedPage, ObjectQuery, Page, VersionMatch};
pub use sqlite::SqliteStore;
pub use status::{Status, StatusDetail, StatusOf};
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

    /// [`Store::add_objects`] for an exchange with a partner, with that exchange's state
    /// moved in the same transaction: the versions the batch adds count towards the
    /// exchange's total of objects (and, when there are any, make now its last success
    /// and clear its error, as [`Store::record_sync_attempt`] with `Ok` does), and
    /// `step.cursor`, if given, is saved.
    ///
    /// A pulled page and the position after it are stored together or not at all, and
    /// the total counts exactly the versions stored, whenever the node is stopped: a
    /// page pulled again after a stop finds its versions already present and counts
    /// nothing twice.
    fn add_objects_in_sync<'a>(
        &'a self,
        collection: Uuid,
        provenance: &'a Provenance,
        objects: Vec<NewObject>,
        step: SyncStep,
    ) -> StoreFuture<'a, Vec<AddOutcome>>;

    /// [`Store::add_objects`], and the status of the request that posted them, made from
    /// their outcomes by `status_of` and created in the same transaction: the objects
    /// and their status are durable together, with one commit (the status of a TAXII
    /// Add Objects request). Returns the outcomes and the status stored.
    /// [`StoreError::Conflict`], with nothing stored, if the status's id exists.
    fn add_objects_with_status<'a>(
        &'a self,
        collection: Uuid,
        provenance: &'a Provenance,
        objects: Vec<NewObject>,
        status_of: StatusOf,
    ) -> StoreFuture<'a, (Vec<AddOutcome>, Status)>;

    /// A page of object versions with their bytes (TAXII Get Objects and Get An Object).
    fn objects<'a>(
        &'a self,
        collection: Uuid,
        query: &'a ObjectQuery,
    ) -> StoreFuture<'a, Page<ObjectRecord>>;

    /// The page [`Store::objects`] gives, as the objects' bytes joined by commas
    /// ([`JoinedPage`]): the hot path of TAXII Get Objects, which only splices them into
    /// an envelope. A backend may write it straight from its rows; by default it joins
    /// the records.
    fn objects_joined<'a>(
        &'a self,
        collection: Uuid,
        query: &'a ObjectQuery,
    ) -> StoreFuture<'a, JoinedPage> {
        Box::pin(async move {
            let page = self.objects(collection, query).await?;
            Ok(JoinedPage::from_page(page))
        })
    }

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
    /// given, and counts the `disclosed` entries towards that exchange's total (what it
    /// moved: a transfer file's objects, recorded with the file's state), as
    /// [`Store::set_sync_cursor`] does. Returns the entries as stored.
    /// [`StoreError::Invalid`] if an entry fails [`NewLedgerEntry::check`] (nothing is
    /// appended then).
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

    /// Saves one exchange's cursor, replacing the one it had, and adds `moved` (the
    /// objects the page it follows moved, such as a pushed page the partner
    /// acknowledged) to the exchange's total in the same transaction; a `moved` above
    /// zero makes now its last success and clears its error, as
    /// [`Store::record_sync_attempt`] with `Ok` does.
    fn set_sync_cursor(&self, cursor: SyncCursor, moved: u64) -> StoreFuture<'_, ()>;

    /// Records an attempt at one exchange, now: `Ok(objects moved)` sets `last_success`,
    /// clears `last_error` and adds to `objects`; `Err(message)` sets `last_error`
    /// (PostgreSQL stores each NUL in it as U+FFFD, see the crate doc).
    fn record_sync_attempt<'a>(
        &'a self,
        partner: &'a str,
        collection: &'a str,
        direction: Channel,
        outcome: std::result::Result<u64, String>,
    ) -> StoreFuture<'a, ()>;

    /// Every exchange's state, by partner, collection and channel.
    fn sync_states(&self) -> StoreFuture<'_, Vec<SyncState>>;

    // ---- leases ----

    /// Takes the lease `name` for `holder` until now + `ttl`, and says whether
    /// `holder` holds it now.
    ///
    /// It is taken when nobody holds it, when its holder's time is up (`expires` ≤
    /// now), or when `holder` already holds it (then this renews it: `expires`
    /// becomes now + `ttl`). Held by another holder and not expired: nothing changes,
    /// `false`.
    ///
    /// - **Atomic**: the check and the write are one write transaction, so of any
    ///   number of callers racing for a free lease, from any number of processes
    ///   sharing the store, exactly one gets `true`.
    /// - **The store's clock decides**: "now" is the store's [`Clock`], the one that
    ///   gives `date_added`, never a time the caller passes. SQLite's processes share
    ///   one host and so one clock; PostgreSQL's may run on several hosts, each
    ///   deciding by its own clock, so those hosts keep their clocks synchronised
    ///   (NTP): a skew well under `ttl` only moves the moment a lease counts as
    ///   expired by that much.
    /// - A lease only says who may act; it fences nothing. A holder renews well
    ///   before `ttl` runs out and stops acting once a renewal says `false` (another
    ///   process may have taken over).
    ///
    /// [`StoreError::Invalid`] for an empty `name` or `holder` or a zero `ttl`.
    fn try_lease<'a>(
        &'a self,
        name: &'a str,
        holder: &'a str,
        ttl: Duration,
    ) -> StoreFuture<'a, bool>;

    /// Frees the lease `name` if `holder` holds it (expired or not); otherwise,
    /// whoever holds it, changes nothing. Not an error when nobody holds it.
    fn release_lease<'a>(&'a self, name: &'a str, holder: &'a str) -> StoreFuture<'a, ()>;

    /// The leases in force (not expired by the backend's clock), by name.
    fn leases(&self) -> StoreFuture<'_, Vec<Lease>>;

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

    // ---- reading and writing a node exactly (a whole-node copy, see [`copy`]) ----
    //
    // Reads return what the store assigned itself (times, `date_added`, hashes); restores
    // write it back as given instead of assigning anew. Rights and statuses need nothing
    // more than `grants_of_account`/`set_rights` and `statuses`/`create_status`.

    /// Every collection with its last `date_added`, by id.
    fn dump_collections(&self) -> StoreFuture<'_, Vec<CollectionRecord>>;

    /// Creates a collection exactly as given (id, title, description, alias and creation
    /// time), holding nothing and with no `date_added` given yet;
    /// [`StoreError::Conflict`] if its id or alias is taken.
    fn restore_collection(&self, collection: Collection) -> StoreFuture<'_, ()>;

    /// Up to `limit` (at least 1) versions of a collection added strictly after `after`
    /// (`None`: from the first), in `date_added` order: every version, whatever its
    /// spec version, with its query columns, provenance and exact bytes. Paging by the
    /// last `date_added` read walks the collection once.
    fn dump_objects(
        &self,
        collection: Uuid,
        after: Option<Micros>,
        limit: usize,
    ) -> StoreFuture<'_, Vec<StoredVersion>>;

    /// Stores versions read by [`Store::dump_objects`] exactly as they are, in one
    /// durable transaction: each keeps its `date_added`, version, columns, provenance and
    /// bytes, and the first/latest/latest-spec bookkeeping of its object is recomputed.
    /// `date_added` stays strictly increasing: each version must be added after the
    /// collection's last `date_added` ([`StoreError::Invalid`] otherwise, naming the
    /// version), which then becomes the version's. A version the collection holds is a
    /// [`StoreError::Conflict`]. Either refusal stores nothing of the batch.
    ///
    /// With `last_date_added`, the collection's last `date_added` is raised to it
    /// afterwards if later (the source's [`CollectionRecord::last_date_added`], passed
    /// once all versions are in; with no versions, only that happens).
    ///
    /// No ledger entry is written, `received` or other: a copy restores the ledger as it
    /// is with [`Store::restore_ledger`].
    fn restore_objects(
        &self,
        collection: Uuid,
        versions: Vec<StoredVersion>,
        last_date_added: Option<Micros>,
    ) -> StoreFuture<'_, ()>;

    /// Up to `limit` (at least 1) statuses with an id greater than `after` (`None`: from
    /// the first), in id order.
    fn statuses(&self, after: Option<Uuid>, limit: usize) -> StoreFuture<'_, Vec<Status>>;

    /// Every account with its password hash and tokens (their hashes and creation
    /// times), by name.
    fn dump_accounts(&self) -> StoreFuture<'_, Vec<AccountRecord>>;

    /// Creates an account with its tokens exactly as given (creation times, admin flag,
    /// password hash, partner, token hashes), in one transaction;
    /// [`StoreError::Conflict`] if its name, or a token's hash, is taken.
    fn restore_account(&self, account: AccountRecord) -> StoreFuture<'_, ()>;

    /// Saves one exchange's state exactly as given (cursor, last success and attempt,
    /// last error, object count), replacing any it had.
    fn restore_sync_state(&self, state: SyncState) -> StoreFuture<'_, ()>;

    /// Appends ledger entries read from another store exactly as they are (same `seq`,
    /// time and hashes), in one transaction; each must follow the ledger's last entry
    /// ([`LedgerEntry::check_follows`]: next `seq`, linked `prev_hash`, its own hash
    /// right), else [`StoreError::Invalid`] naming it and nothing is appended.
    fn restore_ledger(&self, entries: Vec<LedgerEntry>) -> StoreFuture<'_, ()>;
}
