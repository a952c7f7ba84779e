//! Runs the store test suite against SQLite, each behaviour in a fresh temporary folder,
//! plus what only SQLite has: reopening the file, migrations, the schema version guard.

// Test and measurement code: a failed step should stop with its message.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;

use store::testsuite::{self, ALL};
use store::{ManualClock, SqliteStore, Store, StoreError};

fn open(dir: &std::path::Path, clock: &ManualClock) -> Arc<dyn Store> {
    Arc::new(SqliteStore::open(dir, Arc::new(clock.clone())).unwrap())
}

macro_rules! suite {
    ($($name:ident),* $(,)?; two stores: $($pair:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                let dir = tempfile::tempdir().unwrap();
                let clock = testsuite::clock();
                let store = open(dir.path(), &clock);
                testsuite::$name(store.as_ref(), &clock).await;
            }
        )*

        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $pair() {
                let (from_dir, to_dir) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
                let clock = testsuite::clock();
                let from = open(from_dir.path(), &clock);
                let to = open(to_dir.path(), &clock);
                testsuite::$pair(from.as_ref(), to.as_ref(), &clock).await;
            }
        )*

        #[test]
        fn every_behaviour_runs() {
            let here = [$(stringify!($name),)* $(stringify!($pair)),*];
            assert_eq!(here.as_slice(), ALL);
        }
    };
}

suite!(
    collections,
    add_and_read_back,
    objects_joined_matches_objects,
    idempotent_readd,
    versions_first_last_all_specific,
    added_after_is_exact,
    date_added_strictly_increasing_with_frozen_clock,
    paging_across_many_pages,
    paging_while_adding,
    cursor_and_query_garbage,
    spec_version_filter,
    id_and_type_filters,
    deletes_update_first_and_last,
    objects_without_version,
    unknown_collection,
    provenance_is_kept,
    statuses,
    status_saved_with_objects,
    accounts,
    tokens,
    rights,
    counts,
    concurrent_writers,
    concurrent_writers_fail_alone,
    first_and_last_match_a_model,
    ledger_chain_is_verified,
    ledger_concurrent_appends,
    received_entries_from_add_objects,
    deleted_entries_from_delete_object,
    cursor_saved_with_ledger_append,
    cursor_saved_with_objects,
    cursor_saved_with_moved_count,
    sync_attempts_and_states,
    leases_exclusive_and_expiring,
    leases_concurrent,
    provenance_round_trip,
    account_partner_link,
    keys_with_a_nul_find_nothing,
    text_with_a_nul_is_stored_or_refused,
    integrity_check,
    restore_objects_exactly,
    restore_ledger_follows_the_chain,
    restore_accounts_statuses_and_sync_states;
    two stores:
    copy_whole_node,
    copy_refuses_a_non_empty_target,
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn everything_survives_reopening() {
    let dir = tempfile::tempdir().unwrap();
    let clock = testsuite::clock();
    {
        let store = open(dir.path(), &clock);
        testsuite::persisted_write(store.as_ref(), &clock).await;
    }
    let store = testsuite::as_shared(open(dir.path(), &clock));
    testsuite::persisted_check(store.as_ref(), &clock).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fresh_database_is_migrated_to_the_current_version() {
    let dir = tempfile::tempdir().unwrap();
    let clock = testsuite::clock();
    let store = SqliteStore::open(dir.path(), Arc::new(clock.clone())).unwrap();
    assert_eq!(store.path(), dir.path().join("passerelle.db"));
    let conn = rusqlite::Connection::open(store.path()).unwrap();
    assert_eq!(
        store::sqlite::schema_version(&conn).unwrap(),
        store::sqlite::SCHEMA_VERSION
    );
    let mode: String = conn
        .pragma_query_value(None, "journal_mode", |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
    assert!(store.integrity_check().await.unwrap().is_ok());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_existing_database_is_opened_without_reapplying_migrations() {
    let dir = tempfile::tempdir().unwrap();
    let clock = testsuite::clock();
    {
        let store = open(dir.path(), &clock);
        testsuite::persisted_write(store.as_ref(), &clock).await;
    }
    // Opening twice more: a migration applied again would fail on CREATE TABLE.
    drop(open(dir.path(), &clock));
    let store = open(dir.path(), &clock);
    testsuite::persisted_check(store.as_ref(), &clock).await;
}

#[test]
fn a_database_from_a_newer_program_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("passerelle.db");
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.pragma_update(None, "user_version", store::sqlite::SCHEMA_VERSION + 1)
            .unwrap();
    }
    let err = SqliteStore::open(dir.path(), Arc::new(testsuite::clock())).unwrap_err();
    assert!(
        matches!(err, StoreError::SchemaTooNew { found, supported }
            if found == supported + 1),
        "{err:?}"
    );
}

#[test]
fn a_missing_folder_is_an_error_not_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let err = SqliteStore::open(
        &dir.path().join("no/such/folder"),
        Arc::new(testsuite::clock()),
    )
    .unwrap_err();
    assert!(matches!(err, StoreError::Backend(_)), "{err:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_handles_on_one_file_see_each_others_writes() {
    let dir = tempfile::tempdir().unwrap();
    let clock = testsuite::clock();
    let a = open(dir.path(), &clock);
    let b = open(dir.path(), &clock);
    let c = testsuite::new_collection(a.as_ref(), 1).await;
    let first = a
        .add_objects(
            c,
            &store::Provenance::Import { source: "-".into() },
            vec![testsuite::indicator(1, "2021-01-01T00:00:00.000Z")],
        )
        .await
        .unwrap();
    // The second handle (another process, in effect) continues the sequence.
    let second = b
        .add_objects(
            c,
            &store::Provenance::Import { source: "-".into() },
            vec![testsuite::indicator(2, "2021-01-01T00:00:00.000Z")],
        )
        .await
        .unwrap();
    assert!(second[0].date_added() > first[0].date_added());
    assert_eq!(a.counts().await.unwrap()[0].versions, 2);
}

/// Two handles on one file (two processes, in effect) appending at once, from several
/// tasks each, still form one chain: each append reads the last entry under SQLite's
/// write lock, not the handle's own.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_handles_appending_at_once_form_one_chain() {
    let dir = tempfile::tempdir().unwrap();
    let clock = testsuite::clock();
    let handles = [open(dir.path(), &clock), open(dir.path(), &clock)];
    let collection = uuid::Uuid::from_u128(1);
    let mut tasks = Vec::new();
    for task in 0..8u128 {
        let store = Arc::clone(&handles[(task % 2) as usize]);
        tasks.push(tokio::spawn(async move {
            for round in 0..5u128 {
                let entries = (0..4)
                    .map(|n| testsuite::disclosed(collection, "paris", task * 100 + round * 10 + n))
                    .collect();
                store.append_ledger(entries, None).await.unwrap();
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    let entries = handles[0]
        .ledger(&store::LedgerQuery::default())
        .await
        .unwrap();
    assert_eq!(entries.len(), 160);
    assert_eq!(store::ledger::verify(&entries), Ok(160));
    assert_eq!(
        handles[1].ledger_head().await.unwrap().as_ref(),
        entries.last()
    );
}
