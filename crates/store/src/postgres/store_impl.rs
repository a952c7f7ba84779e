//! [`Store`] for [`PostgresStore`]: each method takes a pooled connection and calls the
//! table module that holds the SQL; writes that must be atomic are one transaction there.

use std::time::Duration;

use deadpool_postgres::Transaction;
use uuid::Uuid;

use super::{
    PostgresStore, accounts, collections, dump, integrity, leases, ledger, objects, statuses, sync,
};
use crate::account::{Account, Grant, NewAccount, NewToken, Rights, TokenHash, TokenInfo};
use crate::collection::{Collection, CollectionCount, NewCollection};
use crate::dump::{AccountRecord, CollectionRecord, StoredVersion};
use crate::health::IntegrityReport;
use crate::lease::Lease;
use crate::ledger::{LedgerEntry, LedgerQuery, NewLedgerEntry};
use crate::object::{AddOutcome, ManifestRecord, NewObject, ObjectRecord, Provenance, Version};
use crate::partner::{Channel, SyncCursor, SyncState, SyncStep};
use crate::query::{DeleteFilter, ObjectQuery, Page};
use crate::status::{Status, StatusOf};
use crate::time::Micros;
use crate::{Store, StoreFuture};

impl Store for PostgresStore {
    fn integrity_check(&self) -> StoreFuture<'_, IntegrityReport> {
        Box::pin(async move { integrity::check(&self.client().await?).await })
    }

    fn counts(&self) -> StoreFuture<'_, Vec<CollectionCount>> {
        Box::pin(async move { collections::counts(&self.client().await?).await })
    }

    fn create_collection(&self, new: NewCollection) -> StoreFuture<'_, Collection> {
        Box::pin(async move {
            collections::create(&self.client().await?, self.clock.as_ref(), new).await
        })
    }

    fn list_collections(&self) -> StoreFuture<'_, Vec<Collection>> {
        Box::pin(async move { collections::list(&self.client().await?).await })
    }

    fn get_collection(&self, id: Uuid) -> StoreFuture<'_, Collection> {
        Box::pin(async move { collections::get(&self.client().await?, id).await })
    }

    fn find_collection<'a>(&'a self, id_or_alias: &'a str) -> StoreFuture<'a, Collection> {
        Box::pin(async move { collections::find(&self.client().await?, id_or_alias).await })
    }

    fn delete_collection(&self, id: Uuid) -> StoreFuture<'_, ()> {
        Box::pin(async move { collections::delete(&self.client().await?, id).await })
    }

    fn add_objects<'a>(
        &'a self,
        collection: Uuid,
        provenance: &'a Provenance,
        objects: Vec<NewObject>,
    ) -> StoreFuture<'a, Vec<AddOutcome>> {
        Box::pin(async move {
            let (outcomes, ()) = self
                .add_batch(collection, provenance, objects, async |_, _| Ok(()))
                .await?;
            Ok(outcomes)
        })
    }

    fn add_objects_in_sync<'a>(
        &'a self,
        collection: Uuid,
        provenance: &'a Provenance,
        objects: Vec<NewObject>,
        step: SyncStep,
    ) -> StoreFuture<'a, Vec<AddOutcome>> {
        Box::pin(async move {
            let (outcomes, ()) = self
                .add_batch(collection, provenance, objects, async |tx, outcomes| {
                    let added = AddOutcome::count_added(outcomes);
                    sync::advance(tx, self.clock.now(), &step, added).await
                })
                .await?;
            Ok(outcomes)
        })
    }

    fn add_objects_with_status<'a>(
        &'a self,
        collection: Uuid,
        provenance: &'a Provenance,
        objects: Vec<NewObject>,
        status_of: StatusOf,
    ) -> StoreFuture<'a, (Vec<AddOutcome>, Status)> {
        Box::pin(self.add_batch(
            collection,
            provenance,
            objects,
            async move |tx, outcomes| {
                let status = status_of(outcomes);
                statuses::create(tx, &status).await?;
                Ok(status)
            },
        ))
    }

    fn objects<'a>(
        &'a self,
        collection: Uuid,
        query: &'a ObjectQuery,
    ) -> StoreFuture<'a, Page<ObjectRecord>> {
        Box::pin(async move { objects::objects(&self.client().await?, collection, query).await })
    }

    fn manifest<'a>(
        &'a self,
        collection: Uuid,
        query: &'a ObjectQuery,
    ) -> StoreFuture<'a, Page<ManifestRecord>> {
        Box::pin(async move { objects::manifest(&self.client().await?, collection, query).await })
    }

    fn delete_object<'a>(
        &'a self,
        collection: Uuid,
        id: &'a str,
        filter: &'a DeleteFilter,
    ) -> StoreFuture<'a, u64> {
        Box::pin(async move {
            let mut client = self.client().await?;
            objects::delete(&mut client, self.clock.as_ref(), collection, id, filter).await
        })
    }

    fn provenance<'a>(
        &'a self,
        collection: Uuid,
        id: &'a str,
        version: &'a Version,
    ) -> StoreFuture<'a, Provenance> {
        Box::pin(async move {
            objects::provenance(&self.client().await?, collection, id, version).await
        })
    }

    fn append_ledger(
        &self,
        entries: Vec<NewLedgerEntry>,
        cursor: Option<SyncCursor>,
    ) -> StoreFuture<'_, Vec<LedgerEntry>> {
        Box::pin(async move {
            let mut client = self.client().await?;
            ledger::append(&mut client, self.clock.as_ref(), entries, cursor.as_ref()).await
        })
    }

    fn ledger<'a>(&'a self, query: &'a LedgerQuery) -> StoreFuture<'a, Vec<LedgerEntry>> {
        Box::pin(async move { ledger::list(&self.client().await?, query).await })
    }

    fn ledger_head(&self) -> StoreFuture<'_, Option<LedgerEntry>> {
        Box::pin(async move { ledger::head(&self.client().await?).await })
    }

    fn sync_cursor<'a>(
        &'a self,
        partner: &'a str,
        collection: &'a str,
        direction: Channel,
    ) -> StoreFuture<'a, Option<String>> {
        Box::pin(async move {
            sync::cursor(&self.client().await?, partner, collection, direction).await
        })
    }

    fn set_sync_cursor(&self, cursor: SyncCursor, moved: u64) -> StoreFuture<'_, ()> {
        Box::pin(async move {
            let mut client = self.client().await?;
            let tx = client.transaction().await?;
            sync::advance(&tx, self.clock.now(), &SyncStep::to(cursor), moved).await?;
            tx.commit().await?;
            Ok(())
        })
    }

    fn record_sync_attempt<'a>(
        &'a self,
        partner: &'a str,
        collection: &'a str,
        direction: Channel,
        outcome: std::result::Result<u64, String>,
    ) -> StoreFuture<'a, ()> {
        Box::pin(async move {
            sync::record_attempt(
                &self.client().await?,
                self.clock.now(),
                partner,
                collection,
                direction,
                &outcome,
            )
            .await
        })
    }

    fn sync_states(&self) -> StoreFuture<'_, Vec<SyncState>> {
        Box::pin(async move { sync::list(&self.client().await?).await })
    }

    fn try_lease<'a>(
        &'a self,
        name: &'a str,
        holder: &'a str,
        ttl: Duration,
    ) -> StoreFuture<'a, bool> {
        Box::pin(async move {
            leases::try_take(&self.client().await?, self.clock.now(), name, holder, ttl).await
        })
    }

    fn release_lease<'a>(&'a self, name: &'a str, holder: &'a str) -> StoreFuture<'a, ()> {
        Box::pin(async move { leases::release(&self.client().await?, name, holder).await })
    }

    fn leases(&self) -> StoreFuture<'_, Vec<Lease>> {
        Box::pin(async move { leases::in_force(&self.client().await?, self.clock.now()).await })
    }

    fn create_status<'a>(&'a self, status: &'a Status) -> StoreFuture<'a, ()> {
        Box::pin(async move { statuses::create(&self.client().await?, status).await })
    }

    fn update_status<'a>(&'a self, status: &'a Status) -> StoreFuture<'a, ()> {
        Box::pin(async move { statuses::update(&self.client().await?, status).await })
    }

    fn get_status(&self, id: Uuid) -> StoreFuture<'_, Status> {
        Box::pin(async move { statuses::get(&self.client().await?, id).await })
    }

    fn create_account(&self, new: NewAccount) -> StoreFuture<'_, Account> {
        Box::pin(
            async move { accounts::create(&self.client().await?, self.clock.as_ref(), new).await },
        )
    }

    fn list_accounts(&self) -> StoreFuture<'_, Vec<Account>> {
        Box::pin(async move { accounts::list(&self.client().await?).await })
    }

    fn get_account<'a>(&'a self, name: &'a str) -> StoreFuture<'a, Account> {
        Box::pin(async move { accounts::get(&self.client().await?, name).await })
    }

    fn delete_account<'a>(&'a self, name: &'a str) -> StoreFuture<'a, ()> {
        Box::pin(async move { accounts::delete(&self.client().await?, name).await })
    }

    fn set_admin<'a>(&'a self, name: &'a str, admin: bool) -> StoreFuture<'a, ()> {
        Box::pin(async move { accounts::set_admin(&self.client().await?, name, admin).await })
    }

    fn set_password_hash<'a>(&'a self, name: &'a str, hash: Option<String>) -> StoreFuture<'a, ()> {
        Box::pin(
            async move { accounts::set_password_hash(&self.client().await?, name, hash).await },
        )
    }

    fn set_account_partner<'a>(
        &'a self,
        name: &'a str,
        partner: Option<String>,
    ) -> StoreFuture<'a, ()> {
        Box::pin(async move { accounts::set_partner(&self.client().await?, name, partner).await })
    }

    fn password_hash<'a>(&'a self, name: &'a str) -> StoreFuture<'a, Option<String>> {
        Box::pin(async move { accounts::password_hash(&self.client().await?, name).await })
    }

    fn add_token<'a>(&'a self, account: &'a str, token: NewToken) -> StoreFuture<'a, TokenInfo> {
        Box::pin(async move {
            accounts::add_token(&self.client().await?, self.clock.as_ref(), account, token).await
        })
    }

    fn list_tokens<'a>(&'a self, account: &'a str) -> StoreFuture<'a, Vec<TokenInfo>> {
        Box::pin(async move { accounts::list_tokens(&self.client().await?, account).await })
    }

    fn revoke_token<'a>(&'a self, account: &'a str, name: &'a str) -> StoreFuture<'a, ()> {
        Box::pin(async move { accounts::revoke_token(&self.client().await?, account, name).await })
    }

    fn account_by_token<'a>(&'a self, hash: &'a TokenHash) -> StoreFuture<'a, Account> {
        Box::pin(async move { accounts::account_by_token(&self.client().await?, hash).await })
    }

    fn set_rights<'a>(
        &'a self,
        account: &'a str,
        collection: Uuid,
        rights: Rights,
    ) -> StoreFuture<'a, ()> {
        Box::pin(async move {
            accounts::set_rights(&self.client().await?, account, collection, rights).await
        })
    }

    fn revoke_rights<'a>(&'a self, account: &'a str, collection: Uuid) -> StoreFuture<'a, ()> {
        Box::pin(async move {
            accounts::revoke_rights(&self.client().await?, account, collection).await
        })
    }

    fn rights<'a>(&'a self, account: &'a str, collection: Uuid) -> StoreFuture<'a, Rights> {
        Box::pin(async move { accounts::rights(&self.client().await?, account, collection).await })
    }

    fn grants_of_account<'a>(&'a self, account: &'a str) -> StoreFuture<'a, Vec<Grant>> {
        Box::pin(async move { accounts::grants_of_account(&self.client().await?, account).await })
    }

    fn grants_on_collection(&self, collection: Uuid) -> StoreFuture<'_, Vec<Grant>> {
        Box::pin(
            async move { accounts::grants_on_collection(&self.client().await?, collection).await },
        )
    }

    fn dump_collections(&self) -> StoreFuture<'_, Vec<CollectionRecord>> {
        Box::pin(async move { dump::collections(&self.client().await?).await })
    }

    fn restore_collection(&self, collection: Collection) -> StoreFuture<'_, ()> {
        Box::pin(async move { dump::restore_collection(&self.client().await?, &collection).await })
    }

    fn dump_objects(
        &self,
        collection: Uuid,
        after: Option<Micros>,
        limit: usize,
    ) -> StoreFuture<'_, Vec<StoredVersion>> {
        Box::pin(
            async move { objects::dump(&self.client().await?, collection, after, limit).await },
        )
    }

    fn restore_objects(
        &self,
        collection: Uuid,
        versions: Vec<StoredVersion>,
        last_date_added: Option<Micros>,
    ) -> StoreFuture<'_, ()> {
        Box::pin(async move {
            let mut client = self.client().await?;
            let added = versions.len() as u64;
            objects::restore(&mut client, collection, versions, last_date_added).await?;
            self.statistics.added(&self.pool, added);
            Ok(())
        })
    }

    fn statuses(&self, after: Option<Uuid>, limit: usize) -> StoreFuture<'_, Vec<Status>> {
        Box::pin(async move { statuses::list(&self.client().await?, after, limit).await })
    }

    fn dump_accounts(&self) -> StoreFuture<'_, Vec<AccountRecord>> {
        Box::pin(async move { dump::accounts(&self.client().await?).await })
    }

    fn restore_account(&self, account: AccountRecord) -> StoreFuture<'_, ()> {
        Box::pin(async move {
            let mut client = self.client().await?;
            dump::restore_account(&mut client, &account).await
        })
    }

    fn restore_sync_state(&self, state: SyncState) -> StoreFuture<'_, ()> {
        Box::pin(async move { dump::restore_sync_state(&self.client().await?, &state).await })
    }

    fn restore_ledger(&self, entries: Vec<LedgerEntry>) -> StoreFuture<'_, ()> {
        Box::pin(async move {
            let mut client = self.client().await?;
            ledger::restore(&mut client, entries).await
        })
    }
}

impl PostgresStore {
    /// Stores a batch of objects and, in the same transaction, what `with` writes
    /// beside them once their outcomes are known (a sync cursor, a status).
    async fn add_batch<T>(
        &self,
        collection: Uuid,
        provenance: &Provenance,
        objects: Vec<NewObject>,
        with: impl AsyncFnOnce(&Transaction<'_>, &[AddOutcome]) -> crate::Result<T>,
    ) -> crate::Result<(Vec<AddOutcome>, T)> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let outcomes =
            objects::add(&tx, self.clock.as_ref(), collection, provenance, objects).await?;
        let written = with(&tx, &outcomes).await?;
        tx.commit().await?;
        self.note_added(&outcomes);
        Ok((outcomes, written))
    }

    /// Counts the versions a batch added towards the next refresh of the planner's
    /// statistics.
    fn note_added(&self, outcomes: &[AddOutcome]) {
        self.statistics
            .added(&self.pool, AddOutcome::count_added(outcomes));
    }
}
