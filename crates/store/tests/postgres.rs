//! Runs the store test suite against PostgreSQL, each behaviour in a database of its own
//! ([`TempDatabase`]; the copy behaviours in two), plus a whole node copied SQLite →
//! PostgreSQL and PostgreSQL → SQLite, and what only PostgreSQL has: reconnecting,
//! migrations and the schema version guard, the integrity check on tampered rows, and
//! two stores (two processes, in effect) writing into one collection and one ledger at
//! once, or racing for one lease.
//!
//! Needs a PostgreSQL server: `PASSERELLE_TEST_POSTGRES`, by default
//! `postgres://postgres@127.0.0.1:5432/test`.

// Test and measurement code: a failed step should stop with its message.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use store::postgres::testing::TempDatabase;
use store::testsuite::{self, ALL};
use store::{
    Channel, Cursor, LedgerQuery, ManualClock, NewCollection, ObjectQuery, PostgresStore,
    Provenance, SignatureCheck, SqliteStore, Store, StoreError, SyncCursor, SyncStep, VersionMatch,
};

async fn connect(db: &TempDatabase, clock: &ManualClock) -> Arc<dyn Store> {
    Arc::new(
        PostgresStore::connect(db.url(), Arc::new(clock.clone()))
            .await
            .unwrap(),
    )
}

fn sqlite(dir: &std::path::Path, clock: &ManualClock) -> Arc<dyn Store> {
    Arc::new(SqliteStore::open(dir, Arc::new(clock.clone())).unwrap())
}

/// A plain connection to the test database, for what the store never does.
async fn raw(db: &TempDatabase) -> tokio_postgres::Client {
    let (client, connection) = tokio_postgres::connect(db.url(), tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(connection);
    client
}

macro_rules! suite {
    ($($name:ident),* $(,)?; two stores: $($pair:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                let db = TempDatabase::new();
                let clock = testsuite::clock();
                let store = connect(&db, &clock).await;
                testsuite::$name(store.as_ref(), &clock).await;
            }
        )*

        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $pair() {
                let (from_db, to_db) = (TempDatabase::new(), TempDatabase::new());
                let clock = testsuite::clock();
                let from = connect(&from_db, &clock).await;
                let to = connect(&to_db, &clock).await;
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

/// `passerelle migrate` goes both ways: a SQLite node copied into PostgreSQL reads back
/// the same through every path, with nothing assigned anew.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn copy_whole_node_from_sqlite_to_postgres() {
    let dir = tempfile::tempdir().unwrap();
    let db = TempDatabase::new();
    let clock = testsuite::clock();
    let from = sqlite(dir.path(), &clock);
    let to = connect(&db, &clock).await;
    testsuite::copy_whole_node(from.as_ref(), to.as_ref(), &clock).await;
}

/// … and a PostgreSQL node copied into SQLite too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn copy_whole_node_from_postgres_to_sqlite() {
    let db = TempDatabase::new();
    let dir = tempfile::tempdir().unwrap();
    let clock = testsuite::clock();
    let from = connect(&db, &clock).await;
    let to = sqlite(dir.path(), &clock);
    testsuite::copy_whole_node(from.as_ref(), to.as_ref(), &clock).await;
}

/// Two stores on one database (two processes, in effect: separate pools) race for one
/// lease: exactly one wins, and the other sees it held until it expires.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_stores_racing_for_a_lease_agree_on_one_holder() {
    let db = TempDatabase::new();
    let clock = testsuite::clock();
    let stores = [connect(&db, &clock).await, connect(&db, &clock).await];
    let ttl = std::time::Duration::from_secs(15);
    let mut racers = Vec::new();
    for n in 0..16 {
        let store = Arc::clone(&stores[n % 2]);
        racers.push(tokio::spawn(async move {
            let holder = format!("process-{n}");
            let won = store.try_lease("sync:paris", &holder, ttl).await.unwrap();
            (holder, won)
        }));
    }
    let mut winners = Vec::new();
    for racer in racers {
        let (holder, won) = racer.await.unwrap();
        if won {
            winners.push(holder);
        }
    }
    assert_eq!(winners.len(), 1, "{winners:?}");
    for store in &stores {
        let held = store.leases().await.unwrap();
        assert_eq!(held.len(), 1);
        assert_eq!(held[0].holder, winners[0]);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn everything_survives_reconnecting() {
    let db = TempDatabase::new();
    let clock = testsuite::clock();
    {
        let store = connect(&db, &clock).await;
        testsuite::persisted_write(store.as_ref(), &clock).await;
    }
    let store = testsuite::as_shared(connect(&db, &clock).await);
    testsuite::persisted_check(store.as_ref(), &clock).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fresh_database_is_migrated_once_and_only_by_connect() {
    let db = TempDatabase::new();
    let clock = testsuite::clock();
    assert_eq!(store::postgres::schema_version(db.url()).await.unwrap(), 0);
    // A database without a schema is refused by connect_existing, which creates nothing.
    let err = PostgresStore::connect_existing(db.url(), Arc::new(clock.clone()))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, StoreError::NotFound { what: "schema", key } if key.ends_with(db.name())),
        "{err:?}"
    );
    assert_eq!(store::postgres::schema_version(db.url()).await.unwrap(), 0);
    // Two processes starting at once: one migrates, the other waits and finds it done.
    let (a, b) = tokio::join!(
        PostgresStore::connect(db.url(), Arc::new(clock.clone())),
        PostgresStore::connect(db.url(), Arc::new(clock.clone())),
    );
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(
        store::postgres::schema_version(db.url()).await.unwrap(),
        store::postgres::SCHEMA_VERSION
    );
    let applied: i64 = raw(&db)
        .await
        .query_one("SELECT count(*) FROM schema_migrations", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(applied, store::postgres::SCHEMA_VERSION);
    testsuite::persisted_write(&a, &clock).await;
    drop((a, b));
    // Connecting again applies nothing (a migration applied twice would fail).
    let existing = PostgresStore::connect_existing(db.url(), Arc::new(clock.clone()))
        .await
        .unwrap();
    testsuite::persisted_check(&existing, &clock).await;
    // The target names the database, never a password.
    assert!(
        existing.target().ends_with(db.name()),
        "{}",
        existing.target()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_from_a_newer_program_is_refused() {
    let db = TempDatabase::new();
    let clock = testsuite::clock();
    drop(connect(&db, &clock).await);
    raw(&db)
        .await
        .execute(
            "INSERT INTO schema_migrations (version, name, applied) VALUES ($1, 'future', 0)",
            &[&(store::postgres::SCHEMA_VERSION + 1)],
        )
        .await
        .unwrap();
    for existing in [false, true] {
        let result = if existing {
            PostgresStore::connect_existing(db.url(), Arc::new(clock.clone())).await
        } else {
            PostgresStore::connect(db.url(), Arc::new(clock.clone())).await
        };
        let err = result.unwrap_err();
        assert!(
            matches!(err, StoreError::SchemaTooNew { found, supported }
                if found == supported + 1 && supported == store::postgres::SCHEMA_VERSION),
            "{err:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_server_is_an_error_not_a_panic() {
    let clock = testsuite::clock();
    // Port 1 on loopback: nothing listens there.
    let err = PostgresStore::connect(
        "postgres://nobody:s3cret@127.0.0.1:1/none",
        Arc::new(clock.clone()),
    )
    .await
    .unwrap_err();
    assert!(matches!(err, StoreError::Backend(_)), "{err:?}");
    let err = PostgresStore::connect("sqlite:///tmp/x.db", Arc::new(clock))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Invalid(_)), "{err:?}");
}

/// The integrity check finds what it exists for: flags, `last_date_added` and ledger
/// rows edited behind the store's back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_integrity_check_names_broken_bookkeeping() {
    let db = TempDatabase::new();
    let clock = testsuite::clock();
    let store = connect(&db, &clock).await;
    testsuite::persisted_write(store.as_ref(), &clock).await;
    store
        .append_ledger(
            (0..4)
                .map(|n| testsuite::disclosed(uuid::Uuid::from_u128(1), "paris", n))
                .collect(),
            None,
        )
        .await
        .unwrap();
    assert!(store.integrity_check().await.unwrap().is_ok());
    let raw = raw(&db).await;
    let problems = |store: Arc<dyn Store>| async move {
        store.integrity_check().await.unwrap().problems.join("\n")
    };

    raw.execute(
        "UPDATE objects SET is_latest = NOT is_latest WHERE id = $1",
        &[&testsuite::object_id(0)],
    )
    .await
    .unwrap();
    let found = problems(store.clone()).await;
    assert!(
        found.contains(&testsuite::object_id(0)) && found.contains("is_latest"),
        "{found}"
    );
    raw.execute(
        "UPDATE objects SET is_latest = NOT is_latest WHERE id = $1",
        &[&testsuite::object_id(0)],
    )
    .await
    .unwrap();

    raw.execute("UPDATE collections SET last_date_added = 0", &[])
        .await
        .unwrap();
    let found = problems(store.clone()).await;
    assert!(found.contains("last_date_added"), "{found}");
    raw.execute(
        "UPDATE collections SET last_date_added = (SELECT max(date_added) FROM objects)",
        &[],
    )
    .await
    .unwrap();
    assert!(store.integrity_check().await.unwrap().is_ok());

    raw.execute("DELETE FROM ledger WHERE seq = 3", &[])
        .await
        .unwrap();
    let found = problems(store.clone()).await;
    assert!(found.contains("entries are missing"), "{found}");
    raw.execute("UPDATE ledger SET seq = seq - 1 WHERE seq > 3", &[])
        .await
        .unwrap();
    let found = problems(store.clone()).await;
    assert!(found.contains("ledger entry 3"), "{found}");
}

/// A failure anywhere in the transaction that stores objects, their received entries
/// and the cursor leaves none of them; so does one in a delete and its entries.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn objects_entries_and_cursor_are_one_transaction() {
    let db = TempDatabase::new();
    let clock = testsuite::clock();
    let store = connect(&db, &clock).await;
    let c = testsuite::new_collection(store.as_ref(), 1).await;
    let raw = raw(&db).await;
    raw.batch_execute(
        "CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS \
         $$ BEGIN RAISE EXCEPTION 'refused'; END $$;",
    )
    .await
    .unwrap();
    let paris = Provenance::Partner {
        partner: "paris".into(),
        channel: Channel::Pull,
        signature: SignatureCheck::Unsigned,
    };
    let cursor = |text: &str| SyncCursor {
        partner: "paris".into(),
        collection: "remote".into(),
        direction: Channel::Pull,
        cursor: text.into(),
    };
    let state = || async {
        let objects = store
            .manifest(c, &ObjectQuery::default())
            .await
            .unwrap()
            .records
            .len();
        let entries = store.ledger(&LedgerQuery::default()).await.unwrap().len();
        let cursor = store
            .sync_cursor("paris", "remote", Channel::Pull)
            .await
            .unwrap();
        (objects, entries, cursor)
    };
    let object = testsuite::indicator(1, &testsuite::modified(0));
    for table in ["sync_state", "ledger", "objects"] {
        raw.batch_execute(&format!(
            "CREATE TRIGGER refuse BEFORE INSERT ON {table} \
             FOR EACH ROW EXECUTE FUNCTION refuse()"
        ))
        .await
        .unwrap();
        let result = store
            .add_objects_in_sync(c, &paris, vec![object.clone()], SyncStep::to(cursor("one")))
            .await;
        assert!(matches!(result, Err(StoreError::Backend(_))), "{table}");
        assert_eq!(state().await, (0, 0, None), "{table}");
        raw.batch_execute(&format!("DROP TRIGGER refuse ON {table}"))
            .await
            .unwrap();
    }
    store
        .add_objects_in_sync(c, &paris, vec![object.clone()], SyncStep::to(cursor("one")))
        .await
        .unwrap();
    assert_eq!(state().await, (1, 1, Some("one".into())));
    raw.batch_execute(
        "CREATE TRIGGER refuse BEFORE INSERT ON ledger FOR EACH ROW EXECUTE FUNCTION refuse()",
    )
    .await
    .unwrap();
    assert!(
        store
            .delete_object(c, &object.id, &store::DeleteFilter::default())
            .await
            .is_err()
    );
    assert_eq!(state().await, (1, 1, Some("one".into())));
}

/// Two stores on one database (two processes, in effect: separate pools) write into one
/// collection and append to the ledger at once, while a third pages the collection by
/// `next` as a TAXII client would. The ledger is one chain with no gap, and the reader
/// saw every version exactly once, in `date_added` order: nothing was committed behind
/// a position it had already passed.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_stores_writing_at_once_keep_paging_and_the_ledger_exact() {
    const TASKS: u128 = 8;
    const ROUNDS: u128 = 6;
    const BATCH: u128 = 15;
    let db = TempDatabase::new();
    let clock = testsuite::clock();
    let stores = [connect(&db, &clock).await, connect(&db, &clock).await];
    let reader = connect(&db, &clock).await;
    let c = testsuite::new_collection(stores[0].as_ref(), 1).await;
    let done = Arc::new(AtomicBool::new(false));

    let reading = {
        let done = Arc::clone(&done);
        tokio::spawn(async move {
            let mut seen = Vec::new();
            let mut query = ObjectQuery {
                versions: vec![VersionMatch::All],
                limit: 7,
                ..ObjectQuery::default()
            };
            loop {
                // Read after the writers finished: the last pass sees everything left.
                let finished = done.load(Ordering::SeqCst);
                let page = reader.objects(c, &query).await.unwrap();
                seen.extend(page.records.iter().map(|r| (r.id.clone(), r.date_added)));
                if let Some(last) = page.last_added {
                    query.next = Some(Cursor { after: last });
                }
                if finished && page.records.is_empty() {
                    break seen;
                }
                tokio::task::yield_now().await;
            }
        })
    };

    let mut writers = Vec::new();
    for task in 0..TASKS {
        let store = Arc::clone(&stores[(task % 2) as usize]);
        writers.push(tokio::spawn(async move {
            for round in 0..ROUNDS {
                let n = |i: u128| task * 10_000 + round * 100 + i;
                match (task + round) % 3 {
                    0 => {
                        let entries = (0..BATCH)
                            .map(|i| testsuite::disclosed(c, "paris", n(i)))
                            .collect();
                        store.append_ledger(entries, None).await.unwrap();
                    }
                    1 => {
                        // From a partner: objects and received entries in one transaction.
                        let provenance = Provenance::Partner {
                            partner: format!("partner-{task}"),
                            channel: Channel::Push,
                            signature: SignatureCheck::Unsigned,
                        };
                        let objects = (0..BATCH)
                            .map(|i| testsuite::indicator(n(i), &testsuite::modified(0)))
                            .collect();
                        store.add_objects(c, &provenance, objects).await.unwrap();
                    }
                    _ => {
                        let objects = (0..BATCH)
                            .map(|i| testsuite::indicator(n(i), &testsuite::modified(0)))
                            .collect();
                        let provenance = Provenance::Import { source: "-".into() };
                        store.add_objects(c, &provenance, objects).await.unwrap();
                    }
                }
            }
        }));
    }
    for writer in writers {
        writer.await.unwrap();
    }
    done.store(true, Ordering::SeqCst);
    let seen = reading.await.unwrap();

    let stored = stores[1]
        .manifest(
            c,
            &ObjectQuery {
                versions: vec![VersionMatch::All],
                limit: 100_000,
                ..ObjectQuery::default()
            },
        )
        .await
        .unwrap()
        .records;
    let batches = |kinds: &[u128]| {
        (0..TASKS)
            .flat_map(|t| (0..ROUNDS).map(move |r| (t + r) % 3))
            .filter(|kind| kinds.contains(kind))
            .count() as u128
            * BATCH
    };
    assert_eq!(stored.len() as u128, batches(&[1, 2]));
    let ids: HashSet<&str> = seen.iter().map(|(id, _)| id.as_str()).collect();
    assert_eq!(ids.len(), seen.len(), "a version was read twice");
    assert_eq!(seen.len(), stored.len(), "the reader missed versions");
    assert!(
        seen.windows(2).all(|w| w[0].1 < w[1].1),
        "read out of date_added order"
    );

    let entries = stores[0].ledger(&LedgerQuery::default()).await.unwrap();
    // Disclosed entries appended, and received entries written with partners' objects.
    let expected = batches(&[0, 1]);
    assert_eq!(entries.len() as u128, expected);
    assert_eq!(store::ledger::verify(&entries), Ok(expected as u64));
    assert_eq!(
        stores[1].ledger_head().await.unwrap().as_ref(),
        entries.last()
    );
    assert!(stores[0].integrity_check().await.unwrap().is_ok());
}

/// A bulk load gives the planner statistics at once, without waiting for autovacuum:
/// before them a page of Get Objects was planned as a scan and sort of the whole
/// collection (`postgres/statistics.rs`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bulk_load_refreshes_the_planners_statistics() {
    let db = TempDatabase::new();
    let clock = testsuite::clock();
    let store = connect(&db, &clock).await;
    let collection = uuid::Uuid::new_v4();
    store
        .create_collection(NewCollection {
            id: collection,
            title: "bulk".into(),
            description: None,
            alias: None,
        })
        .await
        .unwrap();
    let import = Provenance::Import {
        source: "bulk.json".into(),
    };
    let raw = raw(&db).await;
    let analyzed = || async {
        raw.query_one(
            "SELECT last_analyze IS NOT NULL FROM pg_stat_user_tables WHERE relname = 'objects'",
            &[],
        )
        .await
        .unwrap()
        .get::<_, bool>(0)
    };
    let batch = |from: u128| {
        (from..from + 1_000)
            .map(|n| testsuite::indicator(n, "2024-01-01T00:00:00.000Z"))
            .collect::<Vec<_>>()
    };
    store
        .add_objects(collection, &import, batch(0))
        .await
        .unwrap();
    assert!(!analyzed().await, "no ANALYZE after 1,000 versions");
    for from in (1_000..6_000).step_by(1_000) {
        store
            .add_objects(collection, &import, batch(from))
            .await
            .unwrap();
    }
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while !analyzed().await {
        assert!(
            std::time::Instant::now() < deadline,
            "objects was not analyzed after 6,000 versions"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}
