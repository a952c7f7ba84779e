//! [`Store`] for [`SqliteStore`]: each method hands one closure to the writer or a reader
//! connection; the SQL lives in the table modules.

use std::time::Duration;

use uuid::Uuid;

use super::{SqliteStore, accounts, collections, dump, leases, ledger, objects, statuses, sync};
use crate::account::{Account, Grant, NewAccount, NewToken, Rights, TokenHash, TokenInfo};
use crate::collection::{Collection, CollectionCount, NewCollection};
use crate::dump::{AccountRecord, CollectionRecord, StoredVersion};
use crate::health::IntegrityReport;
use crate::lease::Lease;
use crate::ledger::{LedgerEntry, LedgerQuery, NewLedgerEntry};
use crate::object::{AddOutcome, ManifestRecord, NewObject, ObjectRecord, Provenance, Version};
use crate::partner::{Channel, SyncCursor, SyncState, SyncStep};
use crate::query::{DeleteFilter, JoinedPage, ObjectQuery, Page};
use crate::status::{Status, StatusOf};
use crate::time::Micros;
use crate::{Store, StoreFuture};

impl Store for SqliteStore {
    fn integrity_check(&self) -> StoreFuture<'_, IntegrityReport> {
        Box::pin(self.read(|conn| {
            let mut stmt = conn.prepare("PRAGMA integrity_check")?;
            let lines = stmt
                .query_map([], |row| row.get::<_, String>(0))?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            let mut problems: Vec<String> = lines.into_iter().filter(|l| l != "ok").collect();
            let mut stmt = conn.prepare("PRAGMA foreign_key_check")?;
            let orphans = stmt
                .query_map([], |row| row.get::<_, String>(0))?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            problems.extend(
                orphans
                    .into_iter()
                    .map(|table| format!("foreign key violation in {table}")),
            );
            problems.extend(super::object_ids::problems(conn)?);
            Ok(IntegrityReport { problems })
        }))
    }

    fn counts(&self) -> StoreFuture<'_, Vec<CollectionCount>> {
        Box::pin(self.read(collections::counts))
    }

    fn create_collection(&self, new: NewCollection) -> StoreFuture<'_, Collection> {
        Box::pin(self.write(move |conn, clock| collections::create(conn, clock, new)))
    }

    fn list_collections(&self) -> StoreFuture<'_, Vec<Collection>> {
        Box::pin(self.read(collections::list))
    }

    fn get_collection(&self, id: Uuid) -> StoreFuture<'_, Collection> {
        Box::pin(self.read_point(move |conn| collections::get(conn, id)))
    }

    fn find_collection<'a>(&'a self, id_or_alias: &'a str) -> StoreFuture<'a, Collection> {
        Box::pin(self.read_point(move |conn| collections::find(conn, id_or_alias)))
    }

    fn delete_collection(&self, id: Uuid) -> StoreFuture<'_, ()> {
        Box::pin(self.write(move |conn, _| collections::delete(conn, id)))
    }

    fn add_objects<'a>(
        &'a self,
        collection: Uuid,
        provenance: &'a Provenance,
        objects: Vec<NewObject>,
    ) -> StoreFuture<'a, Vec<AddOutcome>> {
        let provenance = provenance.clone();
        let recent = self.recent();
        Box::pin(self.write_grouped(move |tx, clock| {
            objects::add(tx, &recent, clock, collection, &provenance, &objects)
        }))
    }

    fn add_objects_in_sync<'a>(
        &'a self,
        collection: Uuid,
        provenance: &'a Provenance,
        objects: Vec<NewObject>,
        step: SyncStep,
    ) -> StoreFuture<'a, Vec<AddOutcome>> {
        let provenance = provenance.clone();
        let recent = self.recent();
        Box::pin(self.write_grouped(move |tx, clock| {
            let outcomes = objects::add(tx, &recent, clock, collection, &provenance, &objects)?;
            sync::advance(tx, clock.now(), &step, AddOutcome::count_added(&outcomes))?;
            Ok(outcomes)
        }))
    }

    fn add_objects_with_status<'a>(
        &'a self,
        collection: Uuid,
        provenance: &'a Provenance,
        objects: Vec<NewObject>,
        status_of: StatusOf,
    ) -> StoreFuture<'a, (Vec<AddOutcome>, Status)> {
        let provenance = provenance.clone();
        let recent = self.recent();
        Box::pin(self.write_grouped(move |tx, clock| {
            let outcomes = objects::add(tx, &recent, clock, collection, &provenance, &objects)?;
            let status = status_of(&outcomes);
            statuses::create(tx, &status)?;
            Ok((outcomes, status))
        }))
    }

    fn objects<'a>(
        &'a self,
        collection: Uuid,
        query: &'a ObjectQuery,
    ) -> StoreFuture<'a, Page<ObjectRecord>> {
        Box::pin(
            self.read(move |conn| objects::objects(conn, self.recent_ids(), collection, query)),
        )
    }

    fn objects_joined<'a>(
        &'a self,
        collection: Uuid,
        query: &'a ObjectQuery,
    ) -> StoreFuture<'a, JoinedPage> {
        Box::pin(
            self.read(move |conn| {
                objects::objects_joined(conn, self.recent_ids(), collection, query)
            }),
        )
    }

    fn manifest<'a>(
        &'a self,
        collection: Uuid,
        query: &'a ObjectQuery,
    ) -> StoreFuture<'a, Page<ManifestRecord>> {
        Box::pin(
            self.read(move |conn| objects::manifest(conn, self.recent_ids(), collection, query)),
        )
    }

    fn delete_object<'a>(
        &'a self,
        collection: Uuid,
        id: &'a str,
        filter: &'a DeleteFilter,
    ) -> StoreFuture<'a, u64> {
        let (id, filter) = (id.to_owned(), filter.clone());
        let recent = self.recent();
        Box::pin(self.write(move |conn, clock| {
            objects::delete(conn, &recent, clock, collection, &id, &filter)
        }))
    }

    fn provenance<'a>(
        &'a self,
        collection: Uuid,
        id: &'a str,
        version: &'a Version,
    ) -> StoreFuture<'a, Provenance> {
        Box::pin(self.read(move |conn| {
            objects::provenance(conn, self.recent_ids(), collection, id, version)
        }))
    }

    fn append_ledger(
        &self,
        entries: Vec<NewLedgerEntry>,
        cursor: Option<SyncCursor>,
    ) -> StoreFuture<'_, Vec<LedgerEntry>> {
        Box::pin(
            self.write(move |conn, clock| ledger::append(conn, clock, entries, cursor.as_ref())),
        )
    }

    fn ledger<'a>(&'a self, query: &'a LedgerQuery) -> StoreFuture<'a, Vec<LedgerEntry>> {
        Box::pin(self.read(move |conn| ledger::list(conn, query)))
    }

    fn ledger_head(&self) -> StoreFuture<'_, Option<LedgerEntry>> {
        Box::pin(self.read(ledger::head))
    }

    fn sync_cursor<'a>(
        &'a self,
        partner: &'a str,
        collection: &'a str,
        direction: Channel,
    ) -> StoreFuture<'a, Option<String>> {
        Box::pin(self.read_point(move |conn| sync::cursor(conn, partner, collection, direction)))
    }

    fn set_sync_cursor(&self, cursor: SyncCursor, moved: u64) -> StoreFuture<'_, ()> {
        Box::pin(self.write(move |conn, clock| {
            let tx = conn.transaction()?;
            sync::advance(&tx, clock.now(), &SyncStep::to(cursor), moved)?;
            tx.commit()?;
            Ok(())
        }))
    }

    fn record_sync_attempt<'a>(
        &'a self,
        partner: &'a str,
        collection: &'a str,
        direction: Channel,
        outcome: std::result::Result<u64, String>,
    ) -> StoreFuture<'a, ()> {
        let (partner, collection) = (partner.to_owned(), collection.to_owned());
        Box::pin(self.write(move |conn, clock| {
            sync::record_attempt(
                conn,
                clock.now(),
                &partner,
                &collection,
                direction,
                &outcome,
            )
        }))
    }

    fn sync_states(&self) -> StoreFuture<'_, Vec<SyncState>> {
        Box::pin(self.read(sync::list))
    }

    fn try_lease<'a>(
        &'a self,
        name: &'a str,
        holder: &'a str,
        ttl: Duration,
    ) -> StoreFuture<'a, bool> {
        let (name, holder) = (name.to_owned(), holder.to_owned());
        Box::pin(
            self.write(move |conn, clock| leases::try_take(conn, clock.now(), &name, &holder, ttl)),
        )
    }

    fn release_lease<'a>(&'a self, name: &'a str, holder: &'a str) -> StoreFuture<'a, ()> {
        let (name, holder) = (name.to_owned(), holder.to_owned());
        Box::pin(self.write(move |conn, _| leases::release(conn, &name, &holder)))
    }

    fn leases(&self) -> StoreFuture<'_, Vec<Lease>> {
        let clock = self.clock();
        Box::pin(self.read(move |conn| leases::in_force(conn, clock.now())))
    }

    fn create_status<'a>(&'a self, status: &'a Status) -> StoreFuture<'a, ()> {
        let status = status.clone();
        Box::pin(self.write_grouped(move |tx, _| statuses::create(tx, &status)))
    }

    fn update_status<'a>(&'a self, status: &'a Status) -> StoreFuture<'a, ()> {
        let status = status.clone();
        Box::pin(self.write(move |conn, _| statuses::update(conn, &status)))
    }

    fn get_status(&self, id: Uuid) -> StoreFuture<'_, Status> {
        Box::pin(self.read_point(move |conn| statuses::get(conn, id)))
    }

    fn create_account(&self, new: NewAccount) -> StoreFuture<'_, Account> {
        Box::pin(self.write(move |conn, clock| accounts::create(conn, clock, new)))
    }

    fn list_accounts(&self) -> StoreFuture<'_, Vec<Account>> {
        Box::pin(self.read(accounts::list))
    }

    fn get_account<'a>(&'a self, name: &'a str) -> StoreFuture<'a, Account> {
        Box::pin(self.read_point(move |conn| accounts::get(conn, name)))
    }

    fn delete_account<'a>(&'a self, name: &'a str) -> StoreFuture<'a, ()> {
        let name = name.to_owned();
        Box::pin(self.write(move |conn, _| accounts::delete(conn, &name)))
    }

    fn set_admin<'a>(&'a self, name: &'a str, admin: bool) -> StoreFuture<'a, ()> {
        let name = name.to_owned();
        Box::pin(self.write(move |conn, _| accounts::set_admin(conn, &name, admin)))
    }

    fn set_password_hash<'a>(&'a self, name: &'a str, hash: Option<String>) -> StoreFuture<'a, ()> {
        let name = name.to_owned();
        Box::pin(self.write(move |conn, _| accounts::set_password_hash(conn, &name, hash)))
    }

    fn set_account_partner<'a>(
        &'a self,
        name: &'a str,
        partner: Option<String>,
    ) -> StoreFuture<'a, ()> {
        let name = name.to_owned();
        Box::pin(self.write(move |conn, _| accounts::set_partner(conn, &name, partner)))
    }

    fn password_hash<'a>(&'a self, name: &'a str) -> StoreFuture<'a, Option<String>> {
        Box::pin(self.read_point(move |conn| accounts::password_hash(conn, name)))
    }

    fn add_token<'a>(&'a self, account: &'a str, token: NewToken) -> StoreFuture<'a, TokenInfo> {
        let account = account.to_owned();
        Box::pin(self.write(move |conn, clock| accounts::add_token(conn, clock, &account, token)))
    }

    fn list_tokens<'a>(&'a self, account: &'a str) -> StoreFuture<'a, Vec<TokenInfo>> {
        Box::pin(self.read(move |conn| accounts::list_tokens(conn, account)))
    }

    fn revoke_token<'a>(&'a self, account: &'a str, name: &'a str) -> StoreFuture<'a, ()> {
        let (account, name) = (account.to_owned(), name.to_owned());
        Box::pin(self.write(move |conn, _| accounts::revoke_token(conn, &account, &name)))
    }

    fn account_by_token<'a>(&'a self, hash: &'a TokenHash) -> StoreFuture<'a, Account> {
        Box::pin(self.read_point(move |conn| accounts::account_by_token(conn, hash)))
    }

    fn set_rights<'a>(
        &'a self,
        account: &'a str,
        collection: Uuid,
        rights: Rights,
    ) -> StoreFuture<'a, ()> {
        let account = account.to_owned();
        Box::pin(
            self.write(move |conn, _| accounts::set_rights(conn, &account, collection, rights)),
        )
    }

    fn revoke_rights<'a>(&'a self, account: &'a str, collection: Uuid) -> StoreFuture<'a, ()> {
        let account = account.to_owned();
        Box::pin(self.write(move |conn, _| accounts::revoke_rights(conn, &account, collection)))
    }

    fn rights<'a>(&'a self, account: &'a str, collection: Uuid) -> StoreFuture<'a, Rights> {
        Box::pin(self.read_point(move |conn| accounts::rights(conn, account, collection)))
    }

    fn grants_of_account<'a>(&'a self, account: &'a str) -> StoreFuture<'a, Vec<Grant>> {
        Box::pin(self.read(move |conn| accounts::grants_of_account(conn, account)))
    }

    fn grants_on_collection(&self, collection: Uuid) -> StoreFuture<'_, Vec<Grant>> {
        Box::pin(self.read(move |conn| accounts::grants_on_collection(conn, collection)))
    }

    fn dump_collections(&self) -> StoreFuture<'_, Vec<CollectionRecord>> {
        Box::pin(self.read(dump::collections))
    }

    fn restore_collection(&self, collection: Collection) -> StoreFuture<'_, ()> {
        Box::pin(self.write(move |conn, _| dump::restore_collection(conn, &collection)))
    }

    fn dump_objects(
        &self,
        collection: Uuid,
        after: Option<Micros>,
        limit: usize,
    ) -> StoreFuture<'_, Vec<StoredVersion>> {
        Box::pin(self.read(move |conn| dump::objects(conn, collection, after, limit)))
    }

    fn restore_objects(
        &self,
        collection: Uuid,
        versions: Vec<StoredVersion>,
        last_date_added: Option<Micros>,
    ) -> StoreFuture<'_, ()> {
        let recent = self.recent();
        Box::pin(self.write(move |conn, _| {
            dump::restore_objects(conn, &recent, collection, versions, last_date_added)
        }))
    }

    fn statuses(&self, after: Option<Uuid>, limit: usize) -> StoreFuture<'_, Vec<Status>> {
        Box::pin(self.read(move |conn| statuses::list(conn, after, limit)))
    }

    fn dump_accounts(&self) -> StoreFuture<'_, Vec<AccountRecord>> {
        Box::pin(self.read(dump::accounts))
    }

    fn restore_account(&self, account: AccountRecord) -> StoreFuture<'_, ()> {
        Box::pin(self.write(move |conn, _| dump::restore_account(conn, &account)))
    }

    fn restore_sync_state(&self, state: SyncState) -> StoreFuture<'_, ()> {
        Box::pin(self.write(move |conn, _| dump::restore_sync_state(conn, &state)))
    }

    fn restore_ledger(&self, entries: Vec<LedgerEntry>) -> StoreFuture<'_, ()> {
        Box::pin(self.write(move |conn, _| ledger::restore(conn, entries)))
    }
}
