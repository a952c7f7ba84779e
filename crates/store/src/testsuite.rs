//! The store test suite: backend-neutral behaviours every [`Store`] must show.
//!
//! Each function takes a fresh, empty store opened with the given [`ManualClock`] and
//! panics on the first divergence; those that copy a node ([`copy_whole_node`],
//! [`copy_refuses_a_non_empty_target`]) take two, `from` and `to`, which may be of
//! different backends (SQLite to PostgreSQL). A backend's integration tests call every
//! function (see [`ALL`] for their names); `crates/store/tests/sqlite.rs` does so for SQLite.
// This module is test code compiled into the library behind a feature: panicking on a
// failed expectation is its purpose.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use uuid::Uuid;

use crate::ledger;
use crate::{
    AddOutcome, Channel, Collection, Cursor, DeleteFilter, Direction, Lease, LedgerEntry,
    LedgerQuery, Micros, NewAccount, NewCollection, NewLedgerEntry, NewObject, NewToken,
    ObjectQuery, Provenance, Rights, SignatureCheck, Status, StatusDetail, StatusOf, Store,
    StoreError, SyncCursor, SyncState, SyncStep, TokenHash, Version, VersionMatch,
};
use crate::{Clock, ManualClock};

/// The names of every behaviour below, so a backend's tests can check none is forgotten.
pub const ALL: &[&str] = &[
    "collections",
    "add_and_read_back",
    "objects_joined_matches_objects",
    "idempotent_readd",
    "versions_first_last_all_specific",
    "added_after_is_exact",
    "date_added_strictly_increasing_with_frozen_clock",
    "paging_across_many_pages",
    "paging_while_adding",
    "cursor_and_query_garbage",
    "spec_version_filter",
    "id_and_type_filters",
    "deletes_update_first_and_last",
    "objects_without_version",
    "unknown_collection",
    "provenance_is_kept",
    "statuses",
    "status_saved_with_objects",
    "accounts",
    "tokens",
    "rights",
    "counts",
    "concurrent_writers",
    "concurrent_writers_fail_alone",
    "first_and_last_match_a_model",
    "ledger_chain_is_verified",
    "ledger_concurrent_appends",
    "received_entries_from_add_objects",
    "deleted_entries_from_delete_object",
    "cursor_saved_with_ledger_append",
    "cursor_saved_with_objects",
    "cursor_saved_with_moved_count",
    "sync_attempts_and_states",
    "leases_exclusive_and_expiring",
    "leases_concurrent",
    "provenance_round_trip",
    "account_partner_link",
    "keys_with_a_nul_find_nothing",
    "text_with_a_nul_is_stored_or_refused",
    "integrity_check",
    "restore_objects_exactly",
    "restore_ledger_follows_the_chain",
    "restore_accounts_statuses_and_sync_states",
    "copy_whole_node",
    "copy_refuses_a_non_empty_target",
];

/// The clock's start: 2024-01-01T00:00:00Z.
pub const START: Micros = Micros(1_704_067_200_000_000);

/// A clock at [`START`] for a new store under test.
pub fn clock() -> ManualClock {
    ManualClock::new(START)
}

/// The id of test object number `n`.
pub fn object_id(n: u128) -> String {
    format!(
        "indicator--{}",
        Uuid::from_u128(0x1000_0000_0000_4000_8000_0000_0000_0000 + n)
    )
}

/// Test indicator `n` with the given `modified` and `spec_version`, built the way intake
/// builds objects ([`NewObject::from_object`]).
pub fn indicator_spec(n: u128, modified: &str, spec_version: &str) -> NewObject {
    let bytes = format!(
        r#"{{"type":"indicator","spec_version":"{spec_version}","id":"{}","created":"2020-01-01T00:00:00.000Z","modified":"{modified}","name":"indicator {n}","pattern":"[ipv4-addr:value = '10.0.0.1']","pattern_type":"stix","valid_from":"2020-01-01T00:00:00Z"}}"#,
        object_id(n)
    );
    let value = stix::json::parse(bytes.as_bytes()).unwrap();
    NewObject::from_object(bytes.clone().into_bytes(), value.as_object().unwrap()).unwrap()
}

/// Test indicator `n`, STIX 2.1, with the given `modified`.
pub fn indicator(n: u128, modified: &str) -> NewObject {
    indicator_spec(n, modified, "2.1")
}

/// A `modified` timestamp `i` seconds after 2021-01-01.
pub fn modified(i: u32) -> String {
    let ts = stix::Timestamp {
        seconds: 1_609_459_200 + i64::from(i),
        nanos: 0,
        fraction_digits: 3,
    };
    ts.to_string()
}

fn account() -> Provenance {
    Provenance::Account {
        name: "alice".into(),
    }
}

/// Creates a collection with a fixed id derived from `n`.
pub async fn new_collection(store: &dyn Store, n: u128) -> Uuid {
    let id = Uuid::from_u128(0xc011_0000_0000_4000_8000_0000_0000_0000 + n);
    store
        .create_collection(NewCollection {
            id,
            title: format!("collection {n}"),
            description: None,
            alias: None,
        })
        .await
        .unwrap();
    id
}

fn all_versions() -> ObjectQuery {
    ObjectQuery {
        versions: vec![VersionMatch::All],
        ..ObjectQuery::default()
    }
}

async fn versions_of(store: &dyn Store, c: Uuid, query: ObjectQuery) -> Vec<(String, String)> {
    let page = store.manifest(c, &query).await.unwrap();
    page.records
        .into_iter()
        .map(|r| (r.id, r.version.as_str().to_owned()))
        .collect()
}

/// Collections: create, get, find by id or alias, list in title order, conflicts, delete.
pub async fn collections(store: &dyn Store, _clock: &ManualClock) {
    let b = Uuid::from_u128(2);
    let a = Uuid::from_u128(1);
    let created = store
        .create_collection(NewCollection {
            id: b,
            title: "Beta".into(),
            description: Some("second".into()),
            alias: Some("beta".into()),
        })
        .await
        .unwrap();
    assert_eq!(created.created, START);
    store
        .create_collection(NewCollection {
            id: a,
            title: "Alpha".into(),
            description: None,
            alias: None,
        })
        .await
        .unwrap();
    assert_eq!(store.get_collection(b).await.unwrap(), created);
    assert_eq!(store.find_collection("beta").await.unwrap(), created);
    assert_eq!(
        store.find_collection(&b.to_string()).await.unwrap(),
        created
    );
    assert_eq!(
        store
            .find_collection(&b.to_string().to_uppercase())
            .await
            .unwrap()
            .id,
        b
    );
    let titles: Vec<String> = store
        .list_collections()
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.title)
        .collect();
    assert_eq!(titles, ["Alpha", "Beta"]);

    let same_id = NewCollection {
        id: b,
        title: "again".into(),
        description: None,
        alias: None,
    };
    assert!(matches!(
        store.create_collection(same_id).await,
        Err(StoreError::Conflict(_))
    ));
    let same_alias = NewCollection {
        id: Uuid::from_u128(3),
        title: "again".into(),
        description: None,
        alias: Some("beta".into()),
    };
    assert!(matches!(
        store.create_collection(same_alias).await,
        Err(StoreError::Conflict(_))
    ));

    store
        .add_objects(b, &account(), vec![indicator(1, &modified(0))])
        .await
        .unwrap();
    store.delete_collection(b).await.unwrap();
    assert!(matches!(
        store.get_collection(b).await,
        Err(StoreError::NotFound { .. })
    ));
    assert!(matches!(
        store.find_collection("beta").await,
        Err(StoreError::NotFound { .. })
    ));
    assert!(matches!(
        store.delete_collection(b).await,
        Err(StoreError::NotFound { .. })
    ));
    assert!(matches!(
        store.find_collection("no-such-alias").await,
        Err(StoreError::NotFound { .. })
    ));
    let counts = store.counts().await.unwrap();
    assert_eq!(
        counts.len(),
        1,
        "the deleted collection's objects went with it"
    );
    assert_eq!(counts[0].collection, a);
}

/// Objects come back with their exact bytes, in `date_added` order, with their columns.
pub async fn add_and_read_back(store: &dyn Store, clock: &ManualClock) {
    let c = new_collection(store, 1).await;
    let objects: Vec<NewObject> = (0..3).map(|n| indicator(n, &modified(n as u32))).collect();
    let outcomes = store
        .add_objects(c, &account(), objects.clone())
        .await
        .unwrap();
    assert_eq!(outcomes.len(), 3);
    for (outcome, object) in outcomes.iter().zip(&objects) {
        assert!(matches!(outcome, AddOutcome::Added { .. }));
        assert_eq!(outcome.version(), object.version.as_ref().unwrap());
        assert!(outcome.date_added() >= START);
    }
    clock.advance(1_000_000);
    let page = store.objects(c, &ObjectQuery::default()).await.unwrap();
    assert!(!page.more);
    assert_eq!(page.next, None);
    assert_eq!(page.records.len(), 3);
    for ((record, object), outcome) in page.records.iter().zip(&objects).zip(&outcomes) {
        assert_eq!(record.bytes, object.bytes);
        assert_eq!(record.id, object.id);
        assert_eq!(
            record.version.as_str(),
            object.version.as_ref().unwrap().as_str()
        );
        assert_eq!(record.date_added, outcome.date_added());
        assert_eq!(record.media_type, "application/stix+json;version=2.1");
        assert_eq!(record.spec_version, "2.1");
    }
    assert_eq!(page.first_added, Some(outcomes[0].date_added()));
    assert_eq!(page.last_added, Some(outcomes[2].date_added()));

    let manifest = store.manifest(c, &ObjectQuery::default()).await.unwrap();
    assert_eq!(manifest.records.len(), 3);
    assert_eq!(manifest.records[1].id, objects[1].id);
    assert_eq!(manifest.records[1].date_added, outcomes[1].date_added());

    let empty = new_collection(store, 2).await;
    let page = store.objects(empty, &ObjectQuery::default()).await.unwrap();
    assert!(page.records.is_empty() && !page.more);
    assert_eq!(
        (page.first_added, page.last_added, page.next),
        (None, None, None)
    );
}

/// Adding a version already stored succeeds, stores nothing, and keeps the first `date_added`.
pub async fn idempotent_readd(store: &dyn Store, clock: &ManualClock) {
    let c = new_collection(store, 1).await;
    let batch: Vec<NewObject> = (0..5).map(|n| indicator(n, &modified(1))).collect();
    let first = store
        .add_objects(c, &account(), batch.clone())
        .await
        .unwrap();
    clock.advance(60_000_000);
    let second = store
        .add_objects(c, &account(), batch.clone())
        .await
        .unwrap();
    for (a, b) in first.iter().zip(&second) {
        assert!(matches!(b, AddOutcome::AlreadyPresent { .. }));
        assert_eq!(a.date_added(), b.date_added());
        assert_eq!(a.version(), b.version());
    }
    // The same version written with another precision is the same version.
    let mut other_precision = indicator(0, "2021-01-01T00:00:01Z");
    other_precision.bytes = b"{\"different\":\"bytes\"}".to_vec();
    let third = store
        .add_objects(c, &account(), vec![other_precision])
        .await
        .unwrap();
    assert!(matches!(third[0], AddOutcome::AlreadyPresent { .. }));
    // A duplicate inside one batch: the second copy is already present.
    let dup = indicator(9, &modified(1));
    let outcomes = store
        .add_objects(c, &account(), vec![dup.clone(), dup])
        .await
        .unwrap();
    assert!(matches!(outcomes[0], AddOutcome::Added { .. }));
    assert_eq!(
        outcomes[1],
        AddOutcome::AlreadyPresent {
            version: outcomes[0].version().clone(),
            date_added: outcomes[0].date_added(),
        }
    );
    let counts = store.counts().await.unwrap();
    assert_eq!((counts[0].versions, counts[0].objects), (6, 6));
    let page = store.objects(c, &all_versions()).await.unwrap();
    assert_eq!(
        page.records[0].bytes, batch[0].bytes,
        "the first copy's bytes are kept"
    );
}

/// `match[version]`: first, last (the default), all, specific timestamps, and combinations.
pub async fn versions_first_last_all_specific(store: &dyn Store, _clock: &ManualClock) {
    let c = new_collection(store, 1).await;
    // Added out of time order: object 7's middle version, its newest, object 8, then 7's oldest.
    for (n, m) in [(7, 2), (7, 3), (8, 5), (7, 1)] {
        store
            .add_objects(c, &account(), vec![indicator(n, &modified(m))])
            .await
            .unwrap();
    }
    let id7 = object_id(7);
    let id8 = object_id(8);
    let query = |versions: Vec<VersionMatch>| ObjectQuery {
        versions,
        ..ObjectQuery::default()
    };
    let at = |m: u32| VersionMatch::At(Version::parse(&modified(m)).unwrap());

    let last = vec![(id7.clone(), modified(3)), (id8.clone(), modified(5))];
    assert_eq!(versions_of(store, c, query(vec![])).await, last);
    assert_eq!(
        versions_of(store, c, query(vec![VersionMatch::Last])).await,
        last
    );
    assert_eq!(
        versions_of(store, c, query(vec![VersionMatch::First])).await,
        vec![(id8.clone(), modified(5)), (id7.clone(), modified(1))]
    );
    // All versions come in date_added order.
    assert_eq!(
        versions_of(store, c, query(vec![VersionMatch::All])).await,
        vec![
            (id7.clone(), modified(2)),
            (id7.clone(), modified(3)),
            (id8.clone(), modified(5)),
            (id7.clone(), modified(1)),
        ]
    );
    assert_eq!(
        versions_of(store, c, query(vec![at(2)])).await,
        vec![(id7.clone(), modified(2))]
    );
    assert_eq!(versions_of(store, c, query(vec![at(4)])).await, vec![]);
    assert_eq!(
        versions_of(
            store,
            c,
            query(vec![VersionMatch::First, VersionMatch::Last])
        )
        .await,
        vec![
            (id7.clone(), modified(3)),
            (id8.clone(), modified(5)),
            (id7.clone(), modified(1)),
        ]
    );
    assert_eq!(
        versions_of(store, c, query(vec![at(2), VersionMatch::Last])).await,
        vec![
            (id7.clone(), modified(2)),
            (id7.clone(), modified(3)),
            (id8.clone(), modified(5)),
        ]
    );
    assert_eq!(
        versions_of(store, c, query(vec![VersionMatch::All, at(2)]))
            .await
            .len(),
        4,
        "all includes everything"
    );
    // A timestamp with another precision matches the same instant.
    let same = VersionMatch::At(Version::parse("2021-01-01T00:00:02.000000Z").unwrap());
    assert_eq!(versions_of(store, c, query(vec![same])).await.len(), 1);

    let versions = store
        .object_versions(c, &id7, &ObjectQuery::default())
        .await
        .unwrap();
    let listed: Vec<&str> = versions
        .records
        .iter()
        .map(|r| r.version.as_str())
        .collect();
    assert_eq!(listed, [modified(2), modified(3), modified(1)]);
}

/// `added_after` returns exactly the records added strictly after the instant.
pub async fn added_after_is_exact(store: &dyn Store, clock: &ManualClock) {
    let c = new_collection(store, 1).await;
    let mut added = Vec::new();
    for n in 0..10 {
        clock.advance(if n % 3 == 0 { 0 } else { 1_500 });
        let out = store
            .add_objects(c, &account(), vec![indicator(n, &modified(0))])
            .await
            .unwrap();
        added.push(out[0].date_added());
    }
    for (k, after) in added.iter().enumerate() {
        let page = store
            .manifest(
                c,
                &ObjectQuery {
                    added_after: Some(*after),
                    ..ObjectQuery::default()
                },
            )
            .await
            .unwrap();
        let got: Vec<Micros> = page.records.iter().map(|r| r.date_added).collect();
        assert_eq!(got, added[k + 1..], "added_after = record {k}");
        // One microsecond earlier includes record k itself.
        let page = store
            .manifest(
                c,
                &ObjectQuery {
                    added_after: Some(Micros(after.0 - 1)),
                    ..ObjectQuery::default()
                },
            )
            .await
            .unwrap();
        assert_eq!(page.records.len(), added.len() - k);
    }
    // A nanosecond-precise added_after between two records.
    let text = format!("{}", added[4]);
    let between = format!("{}789Z", text.trim_end_matches('Z'));
    let page = store
        .manifest(
            c,
            &ObjectQuery {
                added_after: Some(Micros::parse(&between).unwrap()),
                ..ObjectQuery::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(page.records[0].date_added, added[5]);
}

/// `date_added` strictly increases per collection even when the clock stands still or goes back.
pub async fn date_added_strictly_increasing_with_frozen_clock(
    store: &dyn Store,
    clock: &ManualClock,
) {
    let c = new_collection(store, 1).await;
    let other = new_collection(store, 2).await;
    let mut all = Vec::new();
    for batch in 0..3u128 {
        let objects = (0..50)
            .map(|n| indicator(batch * 100 + n, &modified(0)))
            .collect();
        let out = store.add_objects(c, &account(), objects).await.unwrap();
        all.extend(out.iter().map(AddOutcome::date_added));
        if batch == 1 {
            clock.set(Micros(START.0 - 3_600_000_000));
        }
    }
    assert!(all.windows(2).all(|w| w[0] < w[1]), "strictly increasing");
    assert_eq!(all[0], START, "the first date is the clock's");
    // Another collection has its own sequence, starting from the clock.
    let out = store
        .add_objects(other, &account(), vec![indicator(1, &modified(0))])
        .await
        .unwrap();
    assert_eq!(out[0].date_added(), clock.now());
    // When the clock is ahead, it wins.
    clock.set(Micros(START.0 + 86_400_000_000));
    let out = store
        .add_objects(c, &account(), vec![indicator(999, &modified(0))])
        .await
        .unwrap();
    assert_eq!(out[0].date_added(), clock.now());
}

async fn page_through(store: &dyn Store, c: Uuid, base: ObjectQuery) -> Vec<String> {
    let mut ids = Vec::new();
    let mut query = base;
    let mut pages = 0;
    loop {
        let page = store.objects(c, &query).await.unwrap();
        pages += 1;
        assert!(page.records.len() <= query.limit);
        assert_eq!(page.more, page.next.is_some());
        if page.more {
            assert_eq!(
                page.records.len(),
                query.limit,
                "only the last page is short"
            );
            assert_eq!(page.next.map(|n| n.after), page.last_added);
        }
        ids.extend(page.records.iter().map(|r| r.id.clone()));
        match page.next {
            // Through its text form, as a client would.
            Some(next) => query.next = Some(Cursor::decode(&next.encode()).unwrap()),
            None => break,
        }
        assert!(pages < 10_000, "paging does not end");
    }
    ids
}

/// Paging with a small limit visits every record once, in order.
pub async fn paging_across_many_pages(store: &dyn Store, _clock: &ManualClock) {
    let c = new_collection(store, 1).await;
    let objects: Vec<NewObject> = (0..250).map(|n| indicator(n, &modified(0))).collect();
    let expected: Vec<String> = objects.iter().map(|o| o.id.clone()).collect();
    store.add_objects(c, &account(), objects).await.unwrap();
    for limit in [1, 7, 50, 249, 250, 251, 10_000] {
        let ids = page_through(
            store,
            c,
            ObjectQuery {
                limit,
                ..ObjectQuery::default()
            },
        )
        .await;
        assert_eq!(ids, expected, "limit {limit}");
    }
    // Paging through the manifest agrees.
    let page = store
        .manifest(
            c,
            &ObjectQuery {
                limit: 100,
                ..ObjectQuery::default()
            },
        )
        .await
        .unwrap();
    assert!(page.more);
    assert_eq!(page.records.len(), 100);
}

/// New versions added between pages neither make a reader skip nor see a record twice.
pub async fn paging_while_adding(store: &dyn Store, _clock: &ManualClock) {
    let c = new_collection(store, 1).await;
    let objects: Vec<NewObject> = (0..30).map(|n| indicator(n, &modified(0))).collect();
    store.add_objects(c, &account(), objects).await.unwrap();
    let mut query = ObjectQuery {
        limit: 10,
        ..ObjectQuery::default()
    };
    let mut seen = Vec::new();
    let mut round = 0;
    loop {
        let page = store.objects(c, &query).await.unwrap();
        seen.extend(
            page.records
                .iter()
                .map(|r| (r.id.clone(), r.version.clone())),
        );
        if round == 0 {
            // A new object and a new version of one already read.
            store
                .add_objects(
                    c,
                    &account(),
                    vec![indicator(100, &modified(0)), indicator(0, &modified(9))],
                )
                .await
                .unwrap();
        }
        round += 1;
        match page.next {
            Some(next) => query.next = Some(next),
            None => break,
        }
    }
    let unique: HashSet<_> = seen.iter().collect();
    assert_eq!(unique.len(), seen.len(), "no record twice");
    assert_eq!(seen.len(), 32);
    assert_eq!(
        seen.last().unwrap().1,
        Version::parse(&modified(9)).unwrap()
    );
}

/// Garbage cursors and bad query limits are [`StoreError::Invalid`], never a panic.
pub async fn cursor_and_query_garbage(store: &dyn Store, _clock: &ManualClock) {
    for garbage in [
        "",
        "x",
        "!!!!",
        "djE6",                                 // "v1:"
        "djE6LTE",                              // "v1:-1"
        "djE6YWJj",                             // "v1:abc"
        "djI6MTIz",                             // "v2:123"
        "djE6MDEyMw",                           // "v1:0123", not canonical
        "djE6OTk5OTk5OTk5OTk5OTk5OTk5OTk5OTk5", // overflows i64
        "dj\u{e9}E6MTIz",
        &"A".repeat(10_000),
    ] {
        assert!(
            matches!(Cursor::decode(garbage), Err(StoreError::Invalid(_))),
            "{garbage:?}"
        );
    }
    let c = new_collection(store, 1).await;
    let zero = ObjectQuery {
        limit: 0,
        ..ObjectQuery::default()
    };
    assert!(matches!(
        store.objects(c, &zero).await,
        Err(StoreError::Invalid(_))
    ));
    let huge_limit = ObjectQuery {
        limit: usize::MAX,
        ..ObjectQuery::default()
    };
    assert!(
        store
            .objects(c, &huge_limit)
            .await
            .unwrap()
            .records
            .is_empty()
    );
    let too_many = ObjectQuery {
        ids: (0..5000).map(object_id).collect(),
        ..ObjectQuery::default()
    };
    assert!(matches!(
        store.manifest(c, &too_many).await,
        Err(StoreError::Invalid(_))
    ));
    // A well-formed cursor from nowhere just positions the read.
    store
        .add_objects(c, &account(), vec![indicator(1, &modified(0))])
        .await
        .unwrap();
    let far = ObjectQuery {
        next: Some(Cursor {
            after: Micros(i64::MAX),
        }),
        ..ObjectQuery::default()
    };
    assert!(store.objects(c, &far).await.unwrap().records.is_empty());
}

/// `match[spec_version]`: by default the latest spec version of each object; explicit lists.
pub async fn spec_version_filter(store: &dyn Store, _clock: &ManualClock) {
    let c = new_collection(store, 1).await;
    // Object 1: a 2.0 version, then a newer 2.1 version. Object 2: only 2.0.
    store
        .add_objects(
            c,
            &account(),
            vec![
                indicator_spec(1, &modified(1), "2.0"),
                indicator_spec(2, &modified(1), "2.0"),
                indicator_spec(1, &modified(2), "2.1"),
            ],
        )
        .await
        .unwrap();
    let query = |versions: Vec<VersionMatch>, spec: &[&str]| ObjectQuery {
        versions,
        spec_versions: spec.iter().map(|s| s.to_string()).collect(),
        ..ObjectQuery::default()
    };
    let (id1, id2) = (object_id(1), object_id(2));
    assert_eq!(
        versions_of(store, c, query(vec![], &[])).await,
        vec![(id2.clone(), modified(1)), (id1.clone(), modified(2))]
    );
    assert_eq!(
        versions_of(store, c, query(vec![VersionMatch::All], &[])).await,
        vec![(id2.clone(), modified(1)), (id1.clone(), modified(2))],
        "the default keeps each object's latest spec version only"
    );
    assert_eq!(
        versions_of(store, c, query(vec![VersionMatch::All], &["2.0"])).await,
        vec![(id1.clone(), modified(1)), (id2.clone(), modified(1))]
    );
    assert_eq!(
        versions_of(store, c, query(vec![VersionMatch::All], &["2.0", "2.1"]))
            .await
            .len(),
        3
    );
    assert_eq!(
        versions_of(store, c, query(vec![], &["2.1"])).await,
        vec![(id1.clone(), modified(2))]
    );
    let page = store.manifest(c, &query(vec![], &["2.0"])).await.unwrap();
    assert_eq!(page.records.len(), 1, "object 1's last version is 2.1");
    assert_eq!(
        page.records[0].media_type,
        "application/stix+json;version=2.0"
    );
    assert_eq!(versions_of(store, c, query(vec![], &["3.0"])).await, vec![]);
}

/// `match[id]` and `match[type]`.
pub async fn id_and_type_filters(store: &dyn Store, _clock: &ManualClock) {
    let c = new_collection(store, 1).await;
    let sco = br#"{"type":"ipv4-addr","id":"ipv4-addr--ff26c055-6336-5bc5-b98d-13d6226742dd","value":"198.51.100.3"}"#;
    let value = stix::json::parse(sco).unwrap();
    let ip = NewObject::from_object(sco.to_vec(), value.as_object().unwrap()).unwrap();
    store
        .add_objects(
            c,
            &account(),
            vec![
                indicator(1, &modified(0)),
                ip.clone(),
                indicator(2, &modified(0)),
            ],
        )
        .await
        .unwrap();
    let ids = |query: ObjectQuery| async move {
        store
            .manifest(c, &query)
            .await
            .unwrap()
            .records
            .into_iter()
            .map(|r| r.id)
            .collect::<Vec<_>>()
    };
    assert_eq!(
        ids(ObjectQuery {
            types: vec!["ipv4-addr".into()],
            ..ObjectQuery::default()
        })
        .await,
        std::slice::from_ref(&ip.id)
    );
    assert_eq!(
        ids(ObjectQuery {
            types: vec!["indicator".into(), "ipv4-addr".into()],
            ..ObjectQuery::default()
        })
        .await
        .len(),
        3
    );
    assert_eq!(
        ids(ObjectQuery {
            ids: vec![object_id(2), object_id(1), object_id(99)],
            ..ObjectQuery::default()
        })
        .await,
        [object_id(1), object_id(2)]
    );
    assert_eq!(
        ids(ObjectQuery {
            ids: vec![object_id(2)],
            types: vec!["ipv4-addr".into()],
            ..ObjectQuery::default()
        })
        .await,
        Vec::<String>::new()
    );
}

/// Deleting versions keeps first/last right for the rest and never reuses a `date_added`.
pub async fn deletes_update_first_and_last(store: &dyn Store, _clock: &ManualClock) {
    let c = new_collection(store, 1).await;
    let id = object_id(1);
    let mut last_added = Micros(0);
    for m in 1..=4 {
        let out = store
            .add_objects(c, &account(), vec![indicator(1, &modified(m))])
            .await
            .unwrap();
        last_added = out[0].date_added();
    }
    let only = |versions: Vec<VersionMatch>| DeleteFilter {
        versions,
        spec_versions: vec![],
    };
    let first_last = ObjectQuery {
        versions: vec![VersionMatch::First, VersionMatch::Last],
        ..ObjectQuery::default()
    };
    assert_eq!(
        store
            .delete_object(c, &id, &only(vec![VersionMatch::Last]))
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        versions_of(store, c, first_last.clone()).await,
        vec![(id.clone(), modified(1)), (id.clone(), modified(3))]
    );
    assert_eq!(
        store
            .delete_object(c, &id, &only(vec![VersionMatch::First]))
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        versions_of(store, c, first_last.clone()).await,
        vec![(id.clone(), modified(2)), (id.clone(), modified(3))]
    );
    let at3 = VersionMatch::At(Version::parse(&modified(3)).unwrap());
    assert_eq!(
        store.delete_object(c, &id, &only(vec![at3])).await.unwrap(),
        1
    );
    assert_eq!(
        versions_of(store, c, first_last.clone()).await,
        vec![(id.clone(), modified(2))],
        "the one remaining version is both first and last"
    );
    assert_eq!(
        store
            .delete_object(c, &object_id(99), &only(vec![VersionMatch::All]))
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        store
            .delete_object(c, &id, &only(vec![VersionMatch::First]))
            .await
            .unwrap(),
        1
    );
    assert!(versions_of(store, c, all_versions()).await.is_empty());
    // Re-adding a deleted version stores it again, with a new date_added.
    let out = store
        .add_objects(
            c,
            &account(),
            vec![indicator(1, &modified(4)), indicator(1, &modified(5))],
        )
        .await
        .unwrap();
    assert!(matches!(out[0], AddOutcome::Added { .. }));
    assert!(out[0].date_added() > last_added);
    assert_eq!(
        store
            .delete_object(c, &id, &only(vec![VersionMatch::All]))
            .await
            .unwrap(),
        2
    );
    // The spec_version filter applies to deletes too.
    store
        .add_objects(
            c,
            &account(),
            vec![
                indicator_spec(2, &modified(1), "2.0"),
                indicator_spec(2, &modified(2), "2.1"),
            ],
        )
        .await
        .unwrap();
    let old_spec = DeleteFilter {
        versions: vec![VersionMatch::All],
        spec_versions: vec!["2.0".into()],
    };
    assert_eq!(
        store
            .delete_object(c, &object_id(2), &old_spec)
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        versions_of(store, c, first_last).await,
        vec![(object_id(2), modified(2))]
    );
    assert!(matches!(
        store
            .delete_object(Uuid::from_u128(77), &id, &only(vec![]))
            .await,
        Err(StoreError::NotFound { .. })
    ));
}

/// An object with neither `modified` nor `created` is versioned by its `date_added`;
/// the same bytes again are already present, changed bytes are a new version.
pub async fn objects_without_version(store: &dyn Store, clock: &ManualClock) {
    let c = new_collection(store, 1).await;
    let make = |value: &str| {
        let bytes = format!(
            r#"{{"type":"ipv4-addr","spec_version":"2.1","id":"ipv4-addr--ff26c055-6336-5bc5-b98d-13d6226742dd","value":"{value}"}}"#
        );
        let parsed = stix::json::parse(bytes.as_bytes()).unwrap();
        NewObject::from_object(bytes.clone().into_bytes(), parsed.as_object().unwrap()).unwrap()
    };
    let out = store
        .add_objects(c, &account(), vec![make("198.51.100.3")])
        .await
        .unwrap();
    assert_eq!(
        out[0].version(),
        &Version::from_date_added(out[0].date_added())
    );
    assert_eq!(out[0].version().as_str(), "2024-01-01T00:00:00.000000Z");
    clock.advance(5);
    let again = store
        .add_objects(c, &account(), vec![make("198.51.100.3")])
        .await
        .unwrap();
    assert_eq!(
        again[0],
        AddOutcome::AlreadyPresent {
            version: out[0].version().clone(),
            date_added: out[0].date_added(),
        }
    );
    let changed = store
        .add_objects(c, &account(), vec![make("198.51.100.4")])
        .await
        .unwrap();
    assert!(matches!(changed[0], AddOutcome::Added { .. }));
    assert!(changed[0].version() > out[0].version());
    let last = store.objects(c, &ObjectQuery::default()).await.unwrap();
    assert_eq!(last.records.len(), 1);
    assert!(String::from_utf8_lossy(&last.records[0].bytes).contains("198.51.100.4"));
}

/// Every object operation on a collection that does not exist is [`StoreError::NotFound`].
pub async fn unknown_collection(store: &dyn Store, _clock: &ManualClock) {
    let nowhere = Uuid::from_u128(404);
    let not_found = |r: Result<(), StoreError>| {
        assert!(
            matches!(
                r,
                Err(StoreError::NotFound {
                    what: "collection",
                    ..
                })
            ),
            "{r:?}"
        )
    };
    not_found(
        store
            .add_objects(nowhere, &account(), vec![indicator(1, &modified(0))])
            .await
            .map(drop),
    );
    not_found(
        store
            .objects(nowhere, &ObjectQuery::default())
            .await
            .map(drop),
    );
    not_found(
        store
            .manifest(nowhere, &ObjectQuery::default())
            .await
            .map(drop),
    );
    not_found(
        store
            .object_versions(nowhere, &object_id(1), &ObjectQuery::default())
            .await
            .map(drop),
    );
    not_found(store.get_collection(nowhere).await.map(drop));
}

/// Each version keeps who gave it to us.
pub async fn provenance_is_kept(store: &dyn Store, _clock: &ManualClock) {
    let c = new_collection(store, 1).await;
    let import = Provenance::Import {
        source: "bundle.json.gz".into(),
    };
    store
        .add_objects(c, &account(), vec![indicator(1, &modified(1))])
        .await
        .unwrap();
    store
        .add_objects(
            c,
            &import,
            vec![indicator(1, &modified(2)), indicator(1, &modified(1))],
        )
        .await
        .unwrap();
    let v1 = Version::parse(&modified(1)).unwrap();
    let v2 = Version::parse(&modified(2)).unwrap();
    assert_eq!(
        store.provenance(c, &object_id(1), &v1).await.unwrap(),
        account()
    );
    assert_eq!(
        store.provenance(c, &object_id(1), &v2).await.unwrap(),
        import
    );
    let v3 = Version::parse(&modified(3)).unwrap();
    assert!(matches!(
        store.provenance(c, &object_id(1), &v3).await,
        Err(StoreError::NotFound { .. })
    ));
}

/// Statuses are stored, updated and read back whole.
pub async fn statuses(store: &dyn Store, clock: &ManualClock) {
    let detail = |n: u128, message: Option<&str>| StatusDetail {
        id: object_id(n),
        version: modified(n as u32),
        message: message.map(str::to_owned),
    };
    let mut status = Status {
        id: Uuid::from_u128(42),
        account: "alice".into(),
        request_timestamp: clock.now(),
        total_count: 4,
        successes: vec![detail(1, None), detail(2, Some("already present"))],
        failures: vec![detail(3, Some("'pattern' is required \"quoted\" ünïcode"))],
        pendings: vec![detail(4, None)],
    };
    store.create_status(&status).await.unwrap();
    assert_eq!(store.get_status(status.id).await.unwrap(), status);
    assert!(!status.is_complete());
    assert!(matches!(
        store.create_status(&status).await,
        Err(StoreError::Conflict(_))
    ));
    status.successes.push(status.pendings.pop().unwrap());
    store.update_status(&status).await.unwrap();
    let read = store.get_status(status.id).await.unwrap();
    assert_eq!(read, status);
    assert!(read.is_complete());
    let empty = Status {
        id: Uuid::from_u128(43),
        account: "bob".into(),
        request_timestamp: clock.now(),
        total_count: 0,
        successes: vec![],
        failures: vec![],
        pendings: vec![],
    };
    assert!(matches!(
        store.update_status(&empty).await,
        Err(StoreError::NotFound { .. })
    ));
    store.create_status(&empty).await.unwrap();
    assert_eq!(store.get_status(empty.id).await.unwrap(), empty);
    assert!(matches!(
        store.get_status(Uuid::from_u128(44)).await,
        Err(StoreError::NotFound { what: "status", .. })
    ));
}

/// A status made from a batch's outcomes is stored in the batch's transaction: both
/// are there after a success; after a failure (a taken status id, an unknown
/// collection) neither is; several such writes at once succeed or fail each alone.
pub async fn status_saved_with_objects(store: &dyn Store, clock: &ManualClock) {
    // The status lists each object with the version the store gave it.
    let status_of = |id: u128, at: Micros| -> StatusOf {
        Box::new(move |outcomes: &[AddOutcome]| Status {
            id: Uuid::from_u128(id),
            account: "alice".into(),
            request_timestamp: at,
            total_count: outcomes.len() as u64 + 1,
            successes: outcomes
                .iter()
                .map(|o| StatusDetail {
                    id: format!("stored-{}", o.version().as_str()),
                    version: o.version().as_str().to_owned(),
                    message: matches!(o, AddOutcome::AlreadyPresent { .. })
                        .then(|| "already present".to_owned()),
                })
                .collect(),
            failures: vec![StatusDetail {
                id: "objects[9]".into(),
                version: String::new(),
                message: Some("refused before the store".into()),
            }],
            pendings: Vec::new(),
        })
    };
    let c = new_collection(store, 1).await;
    let batch = |from: u32| -> Vec<NewObject> {
        (from..from + 3)
            .map(|n| indicator(u128::from(n), &modified(n)))
            .collect()
    };
    let (outcomes, status) = store
        .add_objects_with_status(c, &account(), batch(0), status_of(1, clock.now()))
        .await
        .unwrap();
    assert_eq!(outcomes.len(), 3);
    assert!(
        outcomes
            .iter()
            .all(|o| matches!(o, AddOutcome::Added { .. }))
    );
    assert_eq!(status, status_of(1, clock.now())(&outcomes));
    assert_eq!(store.get_status(status.id).await.unwrap(), status);
    assert_eq!(status.successes[2].version, modified(2));
    assert_eq!(versions_of(store, c, ObjectQuery::default()).await.len(), 3);

    // Posted again: already present, and said so in a new status.
    let (again, status) = store
        .add_objects_with_status(c, &account(), batch(0), status_of(2, clock.now()))
        .await
        .unwrap();
    assert!(
        again
            .iter()
            .all(|o| matches!(o, AddOutcome::AlreadyPresent { .. }))
    );
    assert_eq!(
        store.get_status(status.id).await.unwrap().successes[0]
            .message
            .as_deref(),
        Some("already present")
    );

    // A taken status id: nothing of the batch is stored.
    let taken = store
        .add_objects_with_status(c, &account(), batch(10), status_of(1, clock.now()))
        .await;
    assert!(matches!(taken, Err(StoreError::Conflict(_))), "{taken:?}");
    assert_eq!(versions_of(store, c, ObjectQuery::default()).await.len(), 3);
    assert_eq!(
        store
            .get_status(Uuid::from_u128(1))
            .await
            .unwrap()
            .total_count,
        4
    );

    // An unknown collection: no status either.
    let missing = store
        .add_objects_with_status(
            Uuid::from_u128(404),
            &account(),
            batch(20),
            status_of(3, clock.now()),
        )
        .await;
    assert!(
        matches!(
            missing,
            Err(StoreError::NotFound {
                what: "collection",
                ..
            })
        ),
        "{missing:?}"
    );
    assert!(matches!(
        store.get_status(Uuid::from_u128(3)).await,
        Err(StoreError::NotFound { what: "status", .. })
    ));

    // At once (a backend may share one transaction among them): the write whose
    // status id is taken fails alone, the others are stored with their statuses.
    let writes = (0..4u32).map(|w| {
        let id = if w == 2 { 1 } else { 100 + u128::from(w) };
        let at = clock.now();
        async move {
            (
                w,
                store
                    .add_objects_with_status(c, &account(), batch(100 + 10 * w), status_of(id, at))
                    .await,
            )
        }
    });
    for (w, result) in join_all(writes).await {
        if w == 2 {
            assert!(matches!(result, Err(StoreError::Conflict(_))), "{result:?}");
        } else {
            let (outcomes, status) = result.unwrap();
            assert_eq!(outcomes.len(), 3);
            assert_eq!(store.get_status(status.id).await.unwrap(), status);
        }
    }
    assert_eq!(
        versions_of(store, c, ObjectQuery::default()).await.len(),
        3 + 3 * 3,
        "the three good writes, whole"
    );
}

/// Accounts: create, list, get, admin flag, password hash, delete.
pub async fn accounts(store: &dyn Store, _clock: &ManualClock) {
    let alice = store
        .create_account(NewAccount {
            name: "alice".into(),
            admin: true,
        })
        .await
        .unwrap();
    assert!(alice.admin && !alice.has_password);
    assert_eq!(alice.created, START);
    store
        .create_account(NewAccount {
            name: "bob".into(),
            admin: false,
        })
        .await
        .unwrap();
    assert!(matches!(
        store
            .create_account(NewAccount {
                name: "bob".into(),
                admin: true,
            })
            .await,
        Err(StoreError::Conflict(_))
    ));
    let names: Vec<String> = store
        .list_accounts()
        .await
        .unwrap()
        .into_iter()
        .map(|a| a.name)
        .collect();
    assert_eq!(names, ["alice", "bob"]);
    store.set_admin("bob", true).await.unwrap();
    assert!(store.get_account("bob").await.unwrap().admin);

    let hash = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA".to_owned();
    assert_eq!(store.password_hash("bob").await.unwrap(), None);
    store
        .set_password_hash("bob", Some(hash.clone()))
        .await
        .unwrap();
    assert_eq!(store.password_hash("bob").await.unwrap(), Some(hash));
    assert!(store.get_account("bob").await.unwrap().has_password);
    store.set_password_hash("bob", None).await.unwrap();
    assert!(!store.get_account("bob").await.unwrap().has_password);

    store.delete_account("bob").await.unwrap();
    for result in [
        store.get_account("bob").await.map(drop),
        store.delete_account("bob").await,
        store.set_admin("bob", false).await,
        store.set_password_hash("bob", None).await,
        store.password_hash("bob").await.map(drop),
    ] {
        assert!(
            matches!(
                result,
                Err(StoreError::NotFound {
                    what: "account",
                    ..
                })
            ),
            "{result:?}"
        );
    }
}

/// Tokens: stored by hash, found by hash, listed by name, revoked, gone with their account.
pub async fn tokens(store: &dyn Store, _clock: &ManualClock) {
    for name in ["alice", "bob"] {
        store
            .create_account(NewAccount {
                name: name.into(),
                admin: false,
            })
            .await
            .unwrap();
    }
    let hash = |b: u8| TokenHash([b; 32]);
    let info = store
        .add_token(
            "alice",
            NewToken {
                name: "laptop".into(),
                hash: hash(1),
            },
        )
        .await
        .unwrap();
    assert_eq!(
        (info.account.as_str(), info.name.as_str(), info.created),
        ("alice", "laptop", START)
    );
    store
        .add_token(
            "alice",
            NewToken {
                name: "siem".into(),
                hash: hash(2),
            },
        )
        .await
        .unwrap();
    store
        .add_token(
            "bob",
            NewToken {
                name: "laptop".into(),
                hash: hash(3),
            },
        )
        .await
        .unwrap();
    assert!(matches!(
        store
            .add_token(
                "alice",
                NewToken {
                    name: "laptop".into(),
                    hash: hash(4)
                }
            )
            .await,
        Err(StoreError::Conflict(_))
    ));
    assert!(matches!(
        store
            .add_token(
                "bob",
                NewToken {
                    name: "other".into(),
                    hash: hash(1)
                }
            )
            .await,
        Err(StoreError::Conflict(_))
    ));
    assert!(matches!(
        store
            .add_token(
                "carol",
                NewToken {
                    name: "x".into(),
                    hash: hash(5)
                }
            )
            .await,
        Err(StoreError::NotFound {
            what: "account",
            ..
        })
    ));
    assert_eq!(
        store.account_by_token(&hash(1)).await.unwrap().name,
        "alice"
    );
    assert_eq!(store.account_by_token(&hash(3)).await.unwrap().name, "bob");
    assert!(matches!(
        store.account_by_token(&hash(9)).await,
        Err(StoreError::NotFound { .. })
    ));
    let names: Vec<String> = store
        .list_tokens("alice")
        .await
        .unwrap()
        .into_iter()
        .map(|t| t.name)
        .collect();
    assert_eq!(names, ["laptop", "siem"]);
    store.revoke_token("alice", "laptop").await.unwrap();
    assert!(store.account_by_token(&hash(1)).await.is_err());
    assert_eq!(
        store.account_by_token(&hash(3)).await.unwrap().name,
        "bob",
        "bob's laptop stays"
    );
    assert!(matches!(
        store.revoke_token("alice", "laptop").await,
        Err(StoreError::NotFound { what: "token", .. })
    ));
    store.delete_account("alice").await.unwrap();
    assert!(
        store.account_by_token(&hash(2)).await.is_err(),
        "tokens go with the account"
    );
    // The hash never appears in an error message.
    let message = store
        .account_by_token(&hash(0xab))
        .await
        .unwrap_err()
        .to_string();
    assert!(
        !message.contains("ab") && !message.contains("171"),
        "{message}"
    );
}

/// Rights: per account and collection, replaced on set, listed both ways, removed with either side.
pub async fn rights(store: &dyn Store, _clock: &ManualClock) {
    let c1 = new_collection(store, 1).await;
    let c2 = new_collection(store, 2).await;
    for name in ["alice", "bob"] {
        store
            .create_account(NewAccount {
                name: name.into(),
                admin: false,
            })
            .await
            .unwrap();
    }
    let read = Rights {
        read: true,
        write: false,
    };
    let read_write = Rights {
        read: true,
        write: true,
    };
    assert_eq!(store.rights("alice", c1).await.unwrap(), Rights::default());
    store.set_rights("alice", c1, read).await.unwrap();
    store.set_rights("alice", c2, read_write).await.unwrap();
    store.set_rights("bob", c1, read_write).await.unwrap();
    assert_eq!(store.rights("alice", c1).await.unwrap(), read);
    store.set_rights("alice", c1, read_write).await.unwrap();
    assert_eq!(store.rights("alice", c1).await.unwrap(), read_write);
    let of_alice: Vec<(Uuid, Rights)> = store
        .grants_of_account("alice")
        .await
        .unwrap()
        .into_iter()
        .map(|g| (g.collection, g.rights))
        .collect();
    assert_eq!(of_alice, [(c1, read_write), (c2, read_write)]);
    let on_c1: Vec<String> = store
        .grants_on_collection(c1)
        .await
        .unwrap()
        .into_iter()
        .map(|g| g.account)
        .collect();
    assert_eq!(on_c1, ["alice", "bob"]);
    store.revoke_rights("alice", c1).await.unwrap();
    assert_eq!(store.rights("alice", c1).await.unwrap(), Rights::default());
    assert!(matches!(
        store.rights("alice", Uuid::from_u128(9)).await,
        Err(StoreError::NotFound {
            what: "collection",
            ..
        })
    ));
    assert!(matches!(
        store.rights("carol", c1).await,
        Err(StoreError::NotFound {
            what: "account",
            ..
        })
    ));
    assert!(matches!(
        store.set_rights("carol", c1, read).await,
        Err(StoreError::NotFound {
            what: "account",
            ..
        })
    ));
    store.delete_collection(c2).await.unwrap();
    assert!(store.grants_of_account("alice").await.unwrap().is_empty());
    store.delete_account("bob").await.unwrap();
    assert!(store.grants_on_collection(c1).await.unwrap().is_empty());
}

/// `counts` gives versions and distinct objects per collection.
pub async fn counts(store: &dyn Store, _clock: &ManualClock) {
    let c1 = new_collection(store, 1).await;
    let c2 = new_collection(store, 2).await;
    store
        .add_objects(
            c1,
            &account(),
            vec![
                indicator(1, &modified(1)),
                indicator(1, &modified(2)),
                indicator(2, &modified(1)),
            ],
        )
        .await
        .unwrap();
    let counts = store.counts().await.unwrap();
    let of = |c: Uuid| counts.iter().find(|n| n.collection == c).unwrap();
    assert_eq!((of(c1).versions, of(c1).objects), (3, 2));
    assert_eq!((of(c2).versions, of(c2).objects), (0, 0));
}

/// [`Store::objects_joined`] is [`Store::objects`] joined: the same bytes in the same
/// order, the same `more`, `next` and date-added bounds, for every kind of query,
/// page after page.
pub async fn objects_joined_matches_objects(store: &dyn Store, _clock: &ManualClock) {
    use crate::JoinedPage;
    let c = new_collection(store, 1).await;
    let mut objects: Vec<NewObject> = (0..7).map(|n| indicator(n, &modified(0))).collect();
    objects.extend((0..3).map(|n| indicator(n, &modified(1))));
    store.add_objects(c, &account(), objects).await.unwrap();
    let queries = [
        ObjectQuery::default(),
        ObjectQuery {
            versions: vec![VersionMatch::All],
            ..ObjectQuery::default()
        },
        ObjectQuery {
            versions: vec![VersionMatch::First],
            ..ObjectQuery::default()
        },
        ObjectQuery {
            ids: vec![object_id(1), object_id(5)],
            versions: vec![VersionMatch::All],
            ..ObjectQuery::default()
        },
        ObjectQuery {
            types: vec!["ipv4-addr".into()],
            ..ObjectQuery::default()
        },
    ];
    for base in queries {
        for limit in [1, 3, 1000] {
            let mut query = ObjectQuery {
                limit,
                ..base.clone()
            };
            let mut pages = 0;
            loop {
                let page = store.objects(c, &query).await.unwrap();
                let joined = store.objects_joined(c, &query).await.unwrap();
                assert_eq!(joined, JoinedPage::from_page(page.clone()), "{query:?}");
                let expected: Vec<&[u8]> = page.records.iter().map(|r| &r.bytes[..]).collect();
                assert_eq!(joined.objects(), expected.join(&b","[..]), "{query:?}");
                assert_eq!(joined.count, page.records.len());
                pages += 1;
                match joined.next {
                    Some(next) => query.next = Some(next),
                    None => break,
                }
            }
            assert!(pages >= 1);
        }
    }
    let missing = Uuid::from_u128(0xdead);
    assert!(matches!(
        store.objects_joined(missing, &ObjectQuery::default()).await,
        Err(StoreError::NotFound { .. })
    ));
    assert!(matches!(
        store
            .objects_joined(
                c,
                &ObjectQuery {
                    limit: 0,
                    ..ObjectQuery::default()
                }
            )
            .await,
        Err(StoreError::Invalid(_))
    ));
}

/// Concurrent batches all land, and `date_added` stays unique and increasing.
pub async fn concurrent_writers(store: &dyn Store, _clock: &ManualClock) {
    let c = new_collection(store, 1).await;
    let batches = (0..8u128).map(|b| {
        let objects: Vec<NewObject> = (0..25)
            .map(|n| indicator(b * 1000 + n, &modified(0)))
            .collect();
        async move { store.add_objects(c, &account(), objects).await.unwrap() }
    });
    let results = join_all(batches).await;
    let mut dates: Vec<Micros> = results
        .iter()
        .flatten()
        .map(AddOutcome::date_added)
        .collect();
    let n = dates.len();
    dates.sort();
    dates.dedup();
    assert_eq!(dates.len(), n, "no two versions share a date_added");
    assert_eq!(n, 200);
    let page = store
        .manifest(
            c,
            &ObjectQuery {
                limit: 1000,
                ..ObjectQuery::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(page.records.len(), 200);
}

/// Writes in flight together (which a backend may commit as one transaction) succeed
/// or fail each on its own: a batch for a collection that does not exist and a status
/// whose id is taken fail, and everything sent beside them is stored.
pub async fn concurrent_writers_fail_alone(store: &dyn Store, clock: &ManualClock) {
    use std::future::Future;
    use std::pin::Pin;
    enum Done {
        Added(u128, Result<Vec<AddOutcome>, StoreError>),
        Created(Uuid, Result<(), StoreError>),
    }
    let c = new_collection(store, 1).await;
    let status = |id: u128| Status {
        id: Uuid::from_u128(id),
        account: "alice".into(),
        request_timestamp: clock.now(),
        total_count: 0,
        successes: Vec::new(),
        failures: Vec::new(),
        pendings: Vec::new(),
    };
    store.create_status(&status(7)).await.unwrap();
    let missing = Uuid::from_u128(0xdead);
    let mut writes: Vec<Pin<Box<dyn Future<Output = Done> + Send + '_>>> = Vec::new();
    for b in 0..6u128 {
        let objects: Vec<NewObject> = (0..10)
            .map(|n| indicator(b * 1000 + n, &modified(0)))
            .collect();
        let target = if b == 2 { missing } else { c };
        writes.push(Box::pin(async move {
            Done::Added(b, store.add_objects(target, &account(), objects).await)
        }));
        if b == 1 || b == 4 {
            // Status 7 exists: the first of these fails, the second is new.
            let new = status(if b == 1 { 7 } else { 8 });
            writes.push(Box::pin(async move {
                Done::Created(new.id, store.create_status(&new).await)
            }));
        }
    }
    for done in join_all(writes).await {
        match done {
            Done::Added(b, Ok(outcomes)) => {
                assert_ne!(b, 2, "a batch for a missing collection was stored");
                assert_eq!(outcomes.len(), 10);
                assert!(
                    outcomes
                        .iter()
                        .all(|o| matches!(o, AddOutcome::Added { .. }))
                );
            }
            Done::Added(b, Err(e)) => {
                assert_eq!(b, 2, "batch {b} failed: {e}");
                assert!(matches!(e, StoreError::NotFound { .. }), "{e}");
            }
            Done::Created(id, result) if id == Uuid::from_u128(7) => {
                assert!(matches!(result, Err(StoreError::Conflict(_))), "{result:?}");
            }
            Done::Created(id, result) => {
                result.unwrap();
                assert_eq!(store.get_status(id).await.unwrap().id, id);
            }
        }
    }
    let page = store
        .manifest(
            c,
            &ObjectQuery {
                limit: 1000,
                ..ObjectQuery::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(page.records.len(), 50, "the five good batches, whole");
}

/// A long random sequence of adds and deletes on a few objects: after every step,
/// `first`, `last` and `all` agree with a model kept beside the store.
pub async fn first_and_last_match_a_model(store: &dyn Store, _clock: &ManualClock) {
    use std::collections::BTreeMap;
    let c = new_collection(store, 1).await;
    // A fixed linear congruential sequence: reproducible without a randomness dependency.
    let mut state: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = |bound: u64| {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (state >> 33) % bound
    };
    let mut model: BTreeMap<u128, Vec<u32>> = BTreeMap::new();
    for _ in 0..150 {
        let n = u128::from(next(4));
        let id = object_id(n);
        match next(5) {
            0 => {
                let versions = match next(3) {
                    0 => vec![VersionMatch::First],
                    1 => vec![VersionMatch::Last],
                    _ => vec![VersionMatch::At(
                        Version::parse(&modified(next(8) as u32)).unwrap(),
                    )],
                };
                let deleted = store
                    .delete_object(
                        c,
                        &id,
                        &DeleteFilter {
                            versions: versions.clone(),
                            spec_versions: vec![],
                        },
                    )
                    .await
                    .unwrap();
                let held = model.entry(n).or_default();
                let before = held.len();
                match &versions[0] {
                    VersionMatch::First => {
                        if let Some(min) = held.iter().min().copied() {
                            held.retain(|m| *m != min);
                        }
                    }
                    VersionMatch::Last => {
                        if let Some(max) = held.iter().max().copied() {
                            held.retain(|m| *m != max);
                        }
                    }
                    VersionMatch::At(v) => {
                        held.retain(|m| Version::parse(&modified(*m)).unwrap() != *v)
                    }
                    VersionMatch::All => held.clear(),
                }
                assert_eq!(deleted as usize, before - held.len());
            }
            _ => {
                let m = next(8) as u32;
                store
                    .add_objects(c, &account(), vec![indicator(n, &modified(m))])
                    .await
                    .unwrap();
                let held = model.entry(n).or_default();
                if !held.contains(&m) {
                    held.push(m);
                }
            }
        }
        let held = &model[&n];
        for (which, expected) in [
            (VersionMatch::First, held.iter().min()),
            (VersionMatch::Last, held.iter().max()),
        ] {
            let query = ObjectQuery {
                ids: vec![id.clone()],
                versions: vec![which.clone()],
                ..ObjectQuery::default()
            };
            let got: Vec<String> = versions_of(store, c, query)
                .await
                .into_iter()
                .map(|(_, v)| v)
                .collect();
            let expected: Vec<String> = expected.map(|m| modified(*m)).into_iter().collect();
            assert_eq!(got, expected, "{which:?} of object {n}");
        }
        let all = store
            .object_versions(c, &id, &ObjectQuery::default())
            .await
            .unwrap();
        assert_eq!(all.records.len(), model[&n].len());
    }
}

/// Polls futures together without a runtime-specific join (the suite stays runtime-neutral).
async fn join_all<F: std::future::Future>(futures: impl IntoIterator<Item = F>) -> Vec<F::Output> {
    use std::future::Future;
    use std::pin::Pin;
    use std::task::{Context, Poll};
    struct JoinAll<F: Future> {
        futures: Vec<Pin<Box<F>>>,
        outputs: Vec<Option<F::Output>>,
    }
    impl<F: Future> Future for JoinAll<F> {
        type Output = Vec<F::Output>;
        fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
            let this = &mut *self;
            let mut done = true;
            for (future, output) in this.futures.iter_mut().zip(this.outputs.iter_mut()) {
                if output.is_none() {
                    match future.as_mut().poll(cx) {
                        Poll::Ready(value) => *output = Some(value),
                        Poll::Pending => done = false,
                    }
                }
            }
            if done {
                Poll::Ready(this.outputs.iter_mut().map(|o| o.take().unwrap()).collect())
            } else {
                Poll::Pending
            }
        }
    }
    // `F` may not be `Unpin`: each future is boxed, which makes `JoinAll` `Unpin`.
    impl<F: Future> Unpin for JoinAll<F> {}
    let futures: Vec<Pin<Box<F>>> = futures.into_iter().map(Box::pin).collect();
    let outputs = futures.iter().map(|_| None).collect();
    JoinAll { futures, outputs }.await
}

// ---- federation: provenance from partners, the ledger, sync state, partner accounts ----

fn from_partner(partner: &str, channel: Channel, signature: SignatureCheck) -> Provenance {
    Provenance::Partner {
        partner: partner.into(),
        channel,
        signature,
    }
}

fn verified(signer: &str) -> SignatureCheck {
    SignatureCheck::Verified {
        signer: signer.into(),
    }
}

/// A `disclosed` ledger entry for test object `n`, to `partner`.
pub fn disclosed(collection: Uuid, partner: &str, n: u128) -> NewLedgerEntry {
    NewLedgerEntry {
        direction: Direction::Disclosed,
        partner: Some(partner.into()),
        channel: Some(Channel::Push),
        collection,
        object_id: object_id(n),
        version: modified(0),
        bytes_sha256: ledger::sha256_hex(&indicator(n, &modified(0)).bytes),
        rule: "own-data".into(),
    }
}

async fn whole_ledger(store: &dyn Store) -> Vec<LedgerEntry> {
    store.ledger(&LedgerQuery::default()).await.unwrap()
}

/// The state of one exchange with `partner` in `direction`, if it has one.
async fn exchange_state(store: &dyn Store, partner: &str, direction: Channel) -> Option<SyncState> {
    store
        .sync_states()
        .await
        .unwrap()
        .into_iter()
        .find(|s| s.partner == partner && s.direction == direction)
}

fn seqs(entries: &[LedgerEntry]) -> Vec<u64> {
    entries.iter().map(|e| e.seq).collect()
}

/// Appends form one chain from entry 1, with no gaps, that [`ledger::verify`] accepts;
/// the filters select in `seq` order; a bad entry appends nothing.
pub async fn ledger_chain_is_verified(store: &dyn Store, clock: &ManualClock) {
    let c = Uuid::from_u128(0xc011);
    assert_eq!(store.ledger_head().await.unwrap(), None);
    assert!(store.append_ledger(vec![], None).await.unwrap().is_empty());
    let mut returned = Vec::new();
    for (batch, size) in [(0u128, 60u128), (1, 1), (2, 139)] {
        let partner = if batch == 1 { "madrid" } else { "paris" };
        let entries = (0..size)
            .map(|n| disclosed(c, partner, batch * 1000 + n))
            .collect();
        returned.extend(store.append_ledger(entries, None).await.unwrap());
        clock.advance(1_000_000);
    }
    let all = whole_ledger(store).await;
    assert_eq!(all, returned, "append returns the entries as stored");
    assert_eq!(seqs(&all), (1..=200).collect::<Vec<_>>());
    assert_eq!(ledger::verify(&all), Ok(200));
    assert_eq!(all[0].prev_hash, ledger::GENESIS_HASH);
    assert_eq!(all[0].time, START);
    assert_eq!(all[60].partner.as_deref(), Some("madrid"));
    assert_eq!(all[60].object_id, object_id(1000));
    assert_eq!(store.ledger_head().await.unwrap().as_ref(), all.last());

    let query = |q: LedgerQuery| async move { store.ledger(&q).await.unwrap() };
    let madrid = query(LedgerQuery {
        partner: Some("madrid".into()),
        ..LedgerQuery::default()
    })
    .await;
    assert_eq!(seqs(&madrid), [61]);
    let page = query(LedgerQuery {
        partner: Some("paris".into()),
        after_seq: Some(55),
        limit: Some(10),
        ..LedgerQuery::default()
    })
    .await;
    assert_eq!(seqs(&page), [56, 57, 58, 59, 60, 62, 63, 64, 65, 66]);
    let since = query(LedgerQuery {
        since: Some(Micros(START.0 + 2_000_000)),
        ..LedgerQuery::default()
    })
    .await;
    assert_eq!(seqs(&since), (62..=200).collect::<Vec<_>>());
    assert!(
        query(LedgerQuery {
            direction: Some(Direction::Received),
            ..LedgerQuery::default()
        })
        .await
        .is_empty()
    );
    assert_eq!(
        query(LedgerQuery {
            direction: Some(Direction::Disclosed),
            after_seq: Some(198),
            ..LedgerQuery::default()
        })
        .await,
        all[198..].to_vec()
    );
    assert!(matches!(
        store
            .ledger(&LedgerQuery {
                limit: Some(0),
                ..LedgerQuery::default()
            })
            .await,
        Err(StoreError::Invalid(_))
    ));

    // One bad entry in a batch: nothing of the batch is appended.
    let bad = NewLedgerEntry {
        partner: None,
        ..disclosed(c, "paris", 1)
    };
    let err = store
        .append_ledger(vec![disclosed(c, "paris", 1), bad], None)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, StoreError::Invalid(m) if m.contains(&object_id(1)) && m.contains("partner")),
        "{err:?}"
    );
    assert_eq!(whole_ledger(store).await.len(), 200);
    // The chain continues after a refused batch.
    let next = store
        .append_ledger(vec![disclosed(c, "paris", 7)], None)
        .await
        .unwrap();
    assert_eq!(next[0].seq, 201);
    assert_eq!(next[0].prev_hash, all[199].hash);
    assert_eq!(ledger::verify(&whole_ledger(store).await), Ok(201));
}

/// Appends made at the same time (and object adds from partners among them) still form
/// one chain, each call's entries contiguous.
pub async fn ledger_concurrent_appends(store: &dyn Store, _clock: &ManualClock) {
    let c = new_collection(store, 1).await;
    let appends = (0..8u128).map(|task| {
        let entries: Vec<NewLedgerEntry> = (0..20)
            .map(|n| disclosed(c, &format!("partner-{task}"), task * 100 + n))
            .collect();
        async move {
            if task % 4 == 3 {
                // Received entries come from the object-adding transaction.
                let objects = (0..20)
                    .map(|n| indicator(task * 100 + n, &modified(0)))
                    .collect();
                let provenance =
                    from_partner(&format!("partner-{task}"), Channel::Pull, verified("x"));
                store.add_objects(c, &provenance, objects).await.unwrap();
            } else {
                store.append_ledger(entries, None).await.unwrap();
            }
        }
    });
    join_all(appends).await;
    let all = whole_ledger(store).await;
    assert_eq!(all.len(), 160);
    assert_eq!(ledger::verify(&all), Ok(160));
    for task in 0..8 {
        let partner = format!("partner-{task}");
        let of_task: Vec<u64> = all
            .iter()
            .filter(|e| e.partner.as_deref() == Some(partner.as_str()))
            .map(|e| e.seq)
            .collect();
        assert_eq!(of_task.len(), 20);
        assert!(
            of_task.windows(2).all(|w| w[1] == w[0] + 1),
            "{partner}'s entries are one run: {of_task:?}"
        );
    }
}

/// Adding objects from a partner writes one `received` entry per version added, none for
/// versions already present; other provenances write none.
pub async fn received_entries_from_add_objects(store: &dyn Store, _clock: &ManualClock) {
    let c = new_collection(store, 1).await;
    let paris = from_partner("paris", Channel::Pull, verified("identity--p"));
    store
        .add_objects(c, &account(), vec![indicator(1, &modified(0))])
        .await
        .unwrap();
    assert!(
        whole_ledger(store).await.is_empty(),
        "own data is not received"
    );
    let sco = br#"{"type":"ipv4-addr","spec_version":"2.1","id":"ipv4-addr--ff26c055-6336-5bc5-b98d-13d6226742dd","value":"198.51.100.3"}"#;
    let value = stix::json::parse(sco).unwrap();
    let ip = NewObject::from_object(sco.to_vec(), value.as_object().unwrap()).unwrap();
    let first = vec![
        indicator(1, &modified(0)), // already present, from alice
        indicator(2, &modified(0)),
        ip.clone(),
        indicator(2, &modified(0)), // twice in one batch
    ];
    let out = store.add_objects(c, &paris, first.clone()).await.unwrap();
    let entries = whole_ledger(store).await;
    assert_eq!(seqs(&entries), [1, 2]);
    for (entry, (object, outcome)) in entries.iter().zip([(&first[1], &out[1]), (&ip, &out[2])]) {
        assert_eq!(entry.direction, Direction::Received);
        assert_eq!(entry.partner.as_deref(), Some("paris"));
        assert_eq!(entry.channel, Some(Channel::Pull));
        assert_eq!(entry.collection, c);
        assert_eq!(entry.object_id, object.id);
        assert_eq!(entry.version, outcome.version().as_str());
        assert_eq!(entry.bytes_sha256, ledger::sha256_hex(&object.bytes));
        assert_eq!(entry.rule, ledger::RULE_RECEIVED);
    }
    assert_eq!(entries[0].version, modified(0), "the version as written");
    // Again from another partner and channel: only the new version is received.
    let madrid = from_partner("madrid", Channel::File, SignatureCheck::Unsigned);
    store
        .add_objects(
            c,
            &madrid,
            vec![indicator(2, &modified(0)), indicator(2, &modified(1))],
        )
        .await
        .unwrap();
    let entries = whole_ledger(store).await;
    assert_eq!(entries.len(), 3);
    assert_eq!(entries[2].partner.as_deref(), Some("madrid"));
    assert_eq!(entries[2].channel, Some(Channel::File));
    assert_eq!(entries[2].version, modified(1));
    assert_eq!(ledger::verify(&entries), Ok(3));
    // A batch that fails stores neither objects nor entries.
    assert!(
        store
            .add_objects(
                Uuid::from_u128(404),
                &paris,
                vec![indicator(9, &modified(0))]
            )
            .await
            .is_err()
    );
    assert_eq!(whole_ledger(store).await.len(), 3);
}

/// Deleting writes one `deleted` entry per version deleted, in version order.
pub async fn deleted_entries_from_delete_object(store: &dyn Store, _clock: &ManualClock) {
    let c = new_collection(store, 1).await;
    let versions: Vec<NewObject> = (1..=3).map(|m| indicator(1, &modified(m))).collect();
    store
        .add_objects(c, &account(), versions.clone())
        .await
        .unwrap();
    let paris = from_partner("paris", Channel::Push, verified("identity--p"));
    store
        .add_objects(c, &paris, vec![indicator(2, &modified(0))])
        .await
        .unwrap();
    assert_eq!(
        store
            .delete_object(c, &object_id(1), &DeleteFilter::default())
            .await
            .unwrap(),
        1
    );
    let all = DeleteFilter {
        versions: vec![VersionMatch::All],
        spec_versions: vec![],
    };
    assert_eq!(
        store.delete_object(c, &object_id(1), &all).await.unwrap(),
        2
    );
    assert_eq!(
        store.delete_object(c, &object_id(99), &all).await.unwrap(),
        0
    );
    let entries = whole_ledger(store).await;
    assert_eq!(seqs(&entries), [1, 2, 3, 4]);
    assert_eq!(entries[0].direction, Direction::Received);
    let deleted: Vec<(&str, &str)> = entries[1..]
        .iter()
        .map(|e| (e.version.as_str(), e.bytes_sha256.as_str()))
        .collect();
    let hashes: Vec<String> = versions
        .iter()
        .map(|v| ledger::sha256_hex(&v.bytes))
        .collect();
    assert_eq!(
        deleted,
        [
            (modified(3).as_str(), hashes[2].as_str()),
            (modified(1).as_str(), hashes[0].as_str()),
            (modified(2).as_str(), hashes[1].as_str()),
        ]
    );
    for entry in &entries[1..] {
        assert_eq!(entry.direction, Direction::Deleted);
        assert_eq!((entry.partner.as_deref(), entry.channel), (None, None));
        assert_eq!(entry.collection, c);
        assert_eq!(entry.object_id, object_id(1));
        assert_eq!(entry.rule, ledger::RULE_LOCAL_DELETE);
    }
    assert_eq!(ledger::verify(&entries), Ok(4));
}

fn sync_cursor(cursor: &str) -> SyncCursor {
    SyncCursor {
        partner: "paris".into(),
        collection: "remote-collection".into(),
        direction: Channel::Pull,
        cursor: cursor.into(),
    }
}

/// A cursor given with ledger entries is saved with them, and the disclosures counted
/// towards its exchange's total, or (when they are refused) neither.
pub async fn cursor_saved_with_ledger_append(store: &dyn Store, _clock: &ManualClock) {
    let c = Uuid::from_u128(0xc011);
    let saved = || async {
        store
            .sync_cursor("paris", "remote-collection", Channel::Pull)
            .await
            .unwrap()
    };
    let total = || async {
        exchange_state(store, "paris", Channel::Pull)
            .await
            .map_or(0, |s| s.objects)
    };
    assert_eq!(saved().await, None);
    store
        .append_ledger(
            vec![disclosed(c, "paris", 1), disclosed(c, "paris", 3)],
            Some(sync_cursor("one")),
        )
        .await
        .unwrap();
    assert_eq!(saved().await.as_deref(), Some("one"));
    assert_eq!(total().await, 2, "the disclosures count");
    let bad = NewLedgerEntry {
        bytes_sha256: "not a hash".into(),
        ..disclosed(c, "paris", 2)
    };
    assert!(
        store
            .append_ledger(
                vec![disclosed(c, "paris", 2), bad],
                Some(sync_cursor("two"))
            )
            .await
            .is_err()
    );
    assert_eq!(
        saved().await.as_deref(),
        Some("one"),
        "refused with its entries"
    );
    assert_eq!(whole_ledger(store).await.len(), 2);
    assert_eq!(total().await, 2, "nothing counted for entries refused");
    store
        .append_ledger(vec![], Some(sync_cursor("three")))
        .await
        .unwrap();
    assert_eq!(saved().await.as_deref(), Some("three"));
    assert_eq!(total().await, 2);
    // Without a cursor, entries count towards no exchange.
    store
        .append_ledger(vec![disclosed(c, "paris", 4)], None)
        .await
        .unwrap();
    assert_eq!(total().await, 2);
    // Another exchange of the same partner has its own cursor.
    assert_eq!(
        store
            .sync_cursor("paris", "remote-collection", Channel::Push)
            .await
            .unwrap(),
        None
    );
}

/// A pulled page, its cursor and its count towards the exchange's total are stored
/// together or not at all; a page stored as several batches moves the cursor with
/// the last, and a page stored again counts nothing twice.
pub async fn cursor_saved_with_objects(store: &dyn Store, clock: &ManualClock) {
    let c = new_collection(store, 1).await;
    let q = new_collection(store, 2).await;
    let paris = from_partner("paris", Channel::Pull, verified("identity--p"));
    let state = || exchange_state(store, "paris", Channel::Pull);
    let saved = || async { state().await.and_then(|s| s.cursor) };
    let total = || async { state().await.map_or(0, |s| s.objects) };
    let out = store
        .add_objects_in_sync(
            c,
            &paris,
            (0..5).map(|n| indicator(n, &modified(0))).collect(),
            SyncStep::to(sync_cursor("page-1")),
        )
        .await
        .unwrap();
    assert!(out.iter().all(|o| matches!(o, AddOutcome::Added { .. })));
    assert_eq!(saved().await.as_deref(), Some("page-1"));
    assert_eq!(total().await, 5);
    let t1 = clock.now();
    assert_eq!(state().await.unwrap().last_success, Some(t1));
    assert_eq!(whole_ledger(store).await.len(), 5, "received entries too");
    // A page already held still moves the cursor on, and counts nothing: neither
    // its total nor its last success moves.
    clock.advance(10);
    let out = store
        .add_objects_in_sync(
            c,
            &paris,
            vec![indicator(0, &modified(0))],
            SyncStep::to(sync_cursor("page-2")),
        )
        .await
        .unwrap();
    assert!(matches!(out[0], AddOutcome::AlreadyPresent { .. }));
    assert_eq!(saved().await.as_deref(), Some("page-2"));
    assert_eq!(total().await, 5);
    assert_eq!(state().await.unwrap().last_success, Some(t1));
    // A page that fails leaves the cursor and the total where they were.
    assert!(matches!(
        store
            .add_objects_in_sync(
                Uuid::from_u128(404),
                &paris,
                vec![indicator(9, &modified(0))],
                SyncStep::to(sync_cursor("page-3")),
            )
            .await,
        Err(StoreError::NotFound {
            what: "collection",
            ..
        })
    ));
    assert_eq!(saved().await.as_deref(), Some("page-2"));
    assert_eq!(total().await, 5);
    // A page in two batches (its quarantined objects, then the rest): the first
    // counts what it adds and leaves the cursor; the second moves it. A node stopped
    // between them pulls the page again: the first batch is already present and
    // counts nothing, so the total is exact.
    let first_batch = || async {
        store
            .add_objects_in_sync(
                q,
                &paris,
                vec![indicator(20, &modified(0)), indicator(21, &modified(0))],
                SyncStep::within(&sync_cursor("page-4")),
            )
            .await
            .unwrap()
    };
    first_batch().await;
    assert_eq!(saved().await.as_deref(), Some("page-2"));
    assert_eq!(total().await, 7);
    for _again in 0..2 {
        first_batch().await;
        store
            .add_objects_in_sync(
                c,
                &paris,
                vec![indicator(22, &modified(0))],
                SyncStep::to(sync_cursor("page-4")),
            )
            .await
            .unwrap();
    }
    assert_eq!(saved().await.as_deref(), Some("page-4"));
    assert_eq!(total().await, 8);
    // Any provenance may come with a cursor.
    store
        .add_objects_in_sync(
            c,
            &account(),
            vec![indicator(10, &modified(0))],
            SyncStep::to(sync_cursor("page-5")),
        )
        .await
        .unwrap();
    assert_eq!(saved().await.as_deref(), Some("page-5"));
    assert_eq!(total().await, 9);
    assert_eq!(
        store
            .manifest(c, &ObjectQuery::default())
            .await
            .unwrap()
            .records
            .len(),
        7
    );
    // Only this exchange moved.
    assert_eq!(store.sync_states().await.unwrap().len(), 1);
}

/// A cursor saved with the objects an acknowledged page moved counts them in the same
/// transaction; a cursor saved with none leaves the total and the last success.
pub async fn cursor_saved_with_moved_count(store: &dyn Store, clock: &ManualClock) {
    let push = |cursor: &str| SyncCursor {
        direction: Channel::Push,
        ..sync_cursor(cursor)
    };
    let state = || async { exchange_state(store, "paris", Channel::Push).await.unwrap() };
    store
        .record_sync_attempt(
            "paris",
            "remote-collection",
            Channel::Push,
            Err("down".into()),
        )
        .await
        .unwrap();
    store.set_sync_cursor(push("10"), 0).await.unwrap();
    let s = state().await;
    assert_eq!(s.cursor.as_deref(), Some("10"));
    assert_eq!((s.objects, s.last_success), (0, None));
    assert_eq!(s.last_error.as_deref(), Some("down"), "no success yet");
    clock.advance(10);
    store.set_sync_cursor(push("20"), 1000).await.unwrap();
    let t = clock.now();
    let s = state().await;
    assert_eq!(s.cursor.as_deref(), Some("20"));
    assert_eq!(
        (s.objects, s.last_success, s.last_attempt),
        (1000, Some(t), Some(t))
    );
    assert_eq!(s.last_error, None);
    clock.advance(10);
    store.set_sync_cursor(push("30"), 250).await.unwrap();
    assert_eq!(state().await.objects, 1250);
    assert_eq!(state().await.cursor.as_deref(), Some("30"));
    // The pull exchange of the same partner is another state.
    assert_eq!(
        store
            .sync_cursor("paris", "remote-collection", Channel::Pull)
            .await
            .unwrap(),
        None
    );
}

/// Attempts are recorded per exchange: successes add up their objects and clear the
/// error; failures keep the last success.
pub async fn sync_attempts_and_states(store: &dyn Store, clock: &ManualClock) {
    assert!(store.sync_states().await.unwrap().is_empty());
    let attempt = |partner: &'static str, channel: Channel, outcome: Result<u64, String>| async move {
        store
            .record_sync_attempt(partner, "c1", channel, outcome)
            .await
            .unwrap()
    };
    attempt("paris", Channel::Pull, Ok(5)).await;
    let t1 = clock.now();
    clock.advance(10);
    attempt("paris", Channel::Pull, Err("connection refused".into())).await;
    let t2 = clock.now();
    let state = exchange_state(store, "paris", Channel::Pull).await.unwrap();
    assert_eq!(
        state,
        SyncState {
            partner: "paris".into(),
            collection: "c1".into(),
            direction: Channel::Pull,
            cursor: None,
            last_success: Some(t1),
            last_attempt: Some(t2),
            last_error: Some("connection refused".into()),
            objects: 5,
        }
    );
    store
        .set_sync_cursor(
            SyncCursor {
                partner: "paris".into(),
                collection: "c1".into(),
                direction: Channel::Pull,
                cursor: "after-5".into(),
            },
            0,
        )
        .await
        .unwrap();
    clock.advance(10);
    attempt("paris", Channel::Pull, Ok(3)).await;
    let t3 = clock.now();
    attempt("madrid", Channel::File, Err("bad signature".into())).await;
    attempt("paris", Channel::Push, Ok(0)).await;
    let states = store.sync_states().await.unwrap();
    let state = exchange_state(store, "paris", Channel::Pull).await.unwrap();
    assert_eq!(
        state.cursor.as_deref(),
        Some("after-5"),
        "attempts keep the cursor"
    );
    assert_eq!(state.last_success, Some(t3));
    assert_eq!(state.last_error, None);
    assert_eq!(state.objects, 8);
    let keys: Vec<(&str, Channel)> = states
        .iter()
        .map(|s| (s.partner.as_str(), s.direction))
        .collect();
    assert_eq!(keys.len(), 3);
    assert_eq!(keys[0], ("madrid", Channel::File));
    assert!(keys[1..].iter().all(|(p, _)| *p == "paris"));
    let madrid = &states[0];
    assert_eq!((madrid.last_success, madrid.objects), (None, 0));
    assert_eq!(madrid.last_attempt, Some(t3));
    // Setting a cursor replaces it, and leaves the attempt record.
    store
        .set_sync_cursor(
            SyncCursor {
                partner: "paris".into(),
                collection: "c1".into(),
                direction: Channel::Pull,
                cursor: "after-8".into(),
            },
            0,
        )
        .await
        .unwrap();
    let state = exchange_state(store, "paris", Channel::Pull).await.unwrap();
    assert_eq!(state.cursor.as_deref(), Some("after-8"));
    assert_eq!(state.objects, 8);
}

/// A lease has one holder at a time: another holder gets it only once it is released
/// or expired by the store's clock; the holder renews it; a release by anyone else
/// changes nothing.
pub async fn leases_exclusive_and_expiring(store: &dyn Store, clock: &ManualClock) {
    const NAME: &str = "sync:paris";
    let ttl = Duration::from_secs(15);
    let ttl_micros = 15_000_000;
    let take = |holder: &'static str| store.try_lease(NAME, holder, ttl);
    assert!(store.leases().await.unwrap().is_empty());
    assert!(take("a").await.unwrap(), "a free lease is taken");
    let t0 = clock.now();
    assert!(!take("b").await.unwrap(), "held by a");
    assert_eq!(
        store.leases().await.unwrap(),
        [Lease {
            name: NAME.into(),
            holder: "a".into(),
            expires: Micros(t0.0 + ttl_micros),
        }]
    );
    // Other leases are independent.
    assert!(store.try_lease("sync:madrid", "b", ttl).await.unwrap());
    // Renewed by its holder: it lasts from the renewal.
    clock.advance(10_000_000);
    assert!(take("a").await.unwrap(), "the holder renews");
    clock.advance(10_000_000);
    assert!(!take("b").await.unwrap(), "still a's: renewed 10 s ago");
    assert_eq!(
        store.leases().await.unwrap(),
        [Lease {
            name: NAME.into(),
            holder: "a".into(),
            expires: Micros(t0.0 + 10_000_000 + ttl_micros),
        }],
        "madrid's, never renewed, expired at t0 + 15 s"
    );
    // Released by someone else: nothing changes.
    store.release_lease(NAME, "b").await.unwrap();
    assert!(!take("b").await.unwrap());
    // Expired (exactly at `expires`): anyone may take it, and then it is theirs.
    clock.set(Micros(t0.0 + 10_000_000 + ttl_micros));
    let in_force: Vec<String> = store
        .leases()
        .await
        .unwrap()
        .into_iter()
        .map(|l| l.name)
        .collect();
    assert!(in_force.is_empty(), "expired: {in_force:?}");
    assert!(take("b").await.unwrap(), "an expired lease is taken");
    assert!(!take("a").await.unwrap(), "the old holder lost it");
    store.release_lease(NAME, "a").await.unwrap();
    assert_eq!(store.leases().await.unwrap()[0].holder, "b");
    // Released by its holder: free at once.
    store.release_lease(NAME, "b").await.unwrap();
    assert!(store.leases().await.unwrap().is_empty());
    store.release_lease(NAME, "b").await.unwrap();
    assert!(take("a").await.unwrap(), "a released lease is taken");
    // A short lease, by the store's clock.
    assert!(
        store
            .try_lease("short", "c", Duration::from_micros(5))
            .await
            .unwrap()
    );
    clock.advance(4);
    assert!(!store.try_lease("short", "d", ttl).await.unwrap());
    clock.advance(1);
    assert!(store.try_lease("short", "d", ttl).await.unwrap());
    // Nonsense is refused, not stored.
    for (name, holder, ttl) in [("", "a", ttl), ("x", "", ttl), ("x", "a", Duration::ZERO)] {
        assert!(
            matches!(
                store.try_lease(name, holder, ttl).await,
                Err(StoreError::Invalid(_))
            ),
            "{name:?} {holder:?} {ttl:?}"
        );
    }
    assert!(store.leases().await.unwrap().iter().all(|l| l.name != "x"));
}

/// Many holders racing for one free lease: exactly one gets it, and it is the holder
/// the store then shows; racing again while it is held, none does.
pub async fn leases_concurrent(store: &dyn Store, clock: &ManualClock) {
    let ttl = Duration::from_secs(15);
    let holders: Vec<String> = (0..32).map(|n| format!("process-{n}")).collect();
    let race = || {
        join_all(holders.iter().map(|holder| async move {
            (
                holder,
                store.try_lease("sync:paris", holder, ttl).await.unwrap(),
            )
        }))
    };
    let winners: Vec<&String> = race()
        .await
        .into_iter()
        .filter_map(|(holder, won)| won.then_some(holder))
        .collect();
    assert_eq!(winners.len(), 1, "{winners:?}");
    let held = store.leases().await.unwrap();
    assert_eq!(held.len(), 1);
    assert_eq!(&held[0].holder, winners[0]);
    // Everyone again (the holder renewing among them): only the holder.
    let again: Vec<&String> = race()
        .await
        .into_iter()
        .filter_map(|(holder, won)| won.then_some(holder))
        .collect();
    assert_eq!(again, winners);
    // Expired: one new winner, whoever it is.
    clock.advance(15_000_000);
    let after: Vec<&String> = race()
        .await
        .into_iter()
        .filter_map(|(holder, won)| won.then_some(holder))
        .collect();
    assert_eq!(after.len(), 1, "{after:?}");
    assert_eq!(&store.leases().await.unwrap()[0].holder, after[0]);
}

/// Every provenance, partners with every channel and signature check, comes back exactly,
/// through [`Store::provenance`] and through object pages that ask for it.
pub async fn provenance_round_trip(store: &dyn Store, _clock: &ManualClock) {
    let c = new_collection(store, 1).await;
    let mut provenances = vec![
        account(),
        Provenance::Import {
            source: "bundle.json.gz".into(),
        },
    ];
    for channel in Channel::ALL {
        for signature in [
            verified("identity--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"),
            SignatureCheck::Unsigned,
            SignatureCheck::UnknownSigner {
                signer: "identity--0000".into(),
            },
            SignatureCheck::Invalid {
                signer: "identity--with spaces\nand a newline".into(),
            },
        ] {
            provenances.push(from_partner("paris", channel, signature));
        }
    }
    for (n, provenance) in provenances.iter().enumerate() {
        store
            .add_objects(c, provenance, vec![indicator(n as u128, &modified(0))])
            .await
            .unwrap();
    }
    let version = Version::parse(&modified(0)).unwrap();
    for (n, provenance) in provenances.iter().enumerate() {
        assert_eq!(
            &store
                .provenance(c, &object_id(n as u128), &version)
                .await
                .unwrap(),
            provenance
        );
    }
    let with = store
        .objects(
            c,
            &ObjectQuery {
                with_provenance: true,
                ..ObjectQuery::default()
            },
        )
        .await
        .unwrap();
    let read: Vec<Provenance> = with
        .records
        .iter()
        .map(|r| r.provenance.clone().unwrap())
        .collect();
    assert_eq!(read, provenances);
    let without = store.objects(c, &ObjectQuery::default()).await.unwrap();
    assert!(without.records.iter().all(|r| r.provenance.is_none()));
    // Apart from the provenance, the pages are the same.
    let strip = |mut records: Vec<crate::ObjectRecord>| {
        for r in &mut records {
            r.provenance = None;
        }
        records
    };
    assert_eq!(strip(with.records), without.records);
    // Paging and filters behave the same with it.
    let page = store
        .objects(
            c,
            &ObjectQuery {
                with_provenance: true,
                ids: vec![object_id(3)],
                ..ObjectQuery::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(page.records.len(), 1);
    assert_eq!(page.records[0].provenance.as_ref(), Some(&provenances[3]));
    let page = store
        .objects(
            c,
            &ObjectQuery {
                with_provenance: true,
                limit: 5,
                ..ObjectQuery::default()
            },
        )
        .await
        .unwrap();
    assert!(page.more);
    assert_eq!(page.records[4].provenance.as_ref(), Some(&provenances[4]));
}

/// An account can be tied to a partner and untied; every way of reading it says so.
pub async fn account_partner_link(store: &dyn Store, _clock: &ManualClock) {
    let created = store
        .create_account(NewAccount {
            name: "paris-node".into(),
            admin: false,
        })
        .await
        .unwrap();
    assert_eq!(created.partner, None);
    store
        .create_account(NewAccount {
            name: "alice".into(),
            admin: false,
        })
        .await
        .unwrap();
    store
        .add_token(
            "paris-node",
            NewToken {
                name: "sync".into(),
                hash: TokenHash([3; 32]),
            },
        )
        .await
        .unwrap();
    store
        .set_account_partner("paris-node", Some("paris".into()))
        .await
        .unwrap();
    assert_eq!(
        store
            .get_account("paris-node")
            .await
            .unwrap()
            .partner
            .as_deref(),
        Some("paris")
    );
    let listed: Vec<(String, Option<String>)> = store
        .list_accounts()
        .await
        .unwrap()
        .into_iter()
        .map(|a| (a.name, a.partner))
        .collect();
    assert_eq!(
        listed,
        [
            ("alice".to_owned(), None),
            ("paris-node".to_owned(), Some("paris".to_owned()))
        ]
    );
    assert_eq!(
        store
            .account_by_token(&TokenHash([3; 32]))
            .await
            .unwrap()
            .partner
            .as_deref(),
        Some("paris"),
        "a request's account carries its partner"
    );
    store.set_account_partner("paris-node", None).await.unwrap();
    assert_eq!(store.get_account("paris-node").await.unwrap().partner, None);
    assert!(matches!(
        store
            .set_account_partner("nobody", Some("paris".into()))
            .await,
        Err(StoreError::NotFound {
            what: "account",
            ..
        })
    ));
}

/// The integrity check passes after a mix of writes and deletes.
pub async fn integrity_check(store: &dyn Store, clock: &ManualClock) {
    rights(store, clock).await;
    let c = new_collection(store, 3).await;
    store
        .add_objects(
            c,
            &account(),
            (0..20).map(|n| indicator(n, &modified(0))).collect(),
        )
        .await
        .unwrap();
    store
        .delete_object(c, &object_id(3), &DeleteFilter::default())
        .await
        .unwrap();
    let report = store.integrity_check().await.unwrap();
    assert!(report.is_ok(), "{:?}", report.problems);
}

/// Writes a known set of data for [`persisted_check`], to be read after reopening the store.
pub async fn persisted_write(store: &dyn Store, _clock: &ManualClock) {
    let c = new_collection(store, 1).await;
    let objects: Vec<NewObject> = (0..100).map(|n| indicator(n, &modified(1))).collect();
    store.add_objects(c, &account(), objects).await.unwrap();
    store
        .add_objects(c, &account(), vec![indicator(0, &modified(2))])
        .await
        .unwrap();
    store
        .create_account(NewAccount {
            name: "alice".into(),
            admin: false,
        })
        .await
        .unwrap();
    store
        .add_token(
            "alice",
            NewToken {
                name: "t".into(),
                hash: TokenHash([7; 32]),
            },
        )
        .await
        .unwrap();
    store
        .set_rights(
            "alice",
            c,
            Rights {
                read: true,
                write: false,
            },
        )
        .await
        .unwrap();
    store
        .create_status(&Status {
            id: Uuid::from_u128(5),
            account: "alice".into(),
            request_timestamp: START,
            total_count: 1,
            successes: vec![],
            failures: vec![],
            pendings: vec![],
        })
        .await
        .unwrap();
    store
        .set_account_partner("alice", Some("paris".into()))
        .await
        .unwrap();
    store
        .add_objects_in_sync(
            c,
            &from_partner("paris", Channel::Push, verified("identity--p")),
            vec![indicator(200, &modified(1))],
            SyncStep::to(sync_cursor("after-200")),
        )
        .await
        .unwrap();
    store
        .append_ledger(vec![disclosed(c, "paris", 1)], None)
        .await
        .unwrap();
}

/// Checks that everything [`persisted_write`] wrote is there, and that `date_added`
/// keeps increasing after the reopen.
pub async fn persisted_check(store: &dyn Store, _clock: &ManualClock) {
    let c = Uuid::from_u128(0xc011_0000_0000_4000_8000_0000_0000_0000 + 1);
    let page = store
        .objects(
            c,
            &ObjectQuery {
                versions: vec![VersionMatch::All],
                ..ObjectQuery::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(page.records.len(), 102);
    assert_eq!(page.records[0].bytes, indicator(0, &modified(1)).bytes);
    let last = page.last_added.unwrap();
    let latest = store.objects(c, &ObjectQuery::default()).await.unwrap();
    assert_eq!(latest.records.len(), 101);
    assert_eq!(
        store
            .account_by_token(&TokenHash([7; 32]))
            .await
            .unwrap()
            .name,
        "alice"
    );
    assert!(store.rights("alice", c).await.unwrap().read);
    assert_eq!(
        store.get_account("alice").await.unwrap().partner.as_deref(),
        Some("paris")
    );
    assert_eq!(
        store
            .provenance(c, &object_id(200), &Version::parse(&modified(1)).unwrap())
            .await
            .unwrap(),
        from_partner("paris", Channel::Push, verified("identity--p"))
    );
    assert_eq!(
        store
            .sync_cursor("paris", "remote-collection", Channel::Pull)
            .await
            .unwrap()
            .as_deref(),
        Some("after-200")
    );
    let entries = whole_ledger(store).await;
    assert_eq!(ledger::verify(&entries), Ok(2));
    assert_eq!(
        store
            .get_status(Uuid::from_u128(5))
            .await
            .unwrap()
            .total_count,
        1
    );
    let out = store
        .add_objects(c, &account(), vec![indicator(500, &modified(0))])
        .await
        .unwrap();
    assert!(out[0].date_added() > last);
    assert!(store.integrity_check().await.unwrap().is_ok());
}

/// Holds a store as the server does, to prove the trait is object-safe and shareable.
pub fn as_shared(store: Arc<dyn Store>) -> Arc<dyn Store> {
    store
}

// ---- a whole node read and written exactly (dump and restore, `crate::copy_node`) ----

/// An SCO without `modified` or `created`: its version is its `date_added`.
fn ipv4(value: &str) -> NewObject {
    let bytes = format!(
        r#"{{"type":"ipv4-addr","spec_version":"2.1","id":"ipv4-addr--ff26c055-6336-5bc5-b98d-13d6226742dd","value":"{value}"}}"#
    );
    let parsed = stix::json::parse(bytes.as_bytes()).unwrap();
    NewObject::from_object(bytes.clone().into_bytes(), parsed.as_object().unwrap()).unwrap()
}

/// A revoked report with a creator and a TLP:AMBER marking: every query column set.
fn marked_report(n: u128) -> NewObject {
    let bytes = format!(
        r#"{{"type":"report","spec_version":"2.1","id":"report--{}","created":"2021-01-01T00:00:00.000Z","modified":"2021-03-01T00:00:00.000Z","created_by_ref":"identity--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f","revoked":true,"object_marking_refs":["{}"],"name":"Rapport — تقرير {n}","published":"2021-01-01T00:00:00Z","object_refs":["{}"]}}"#,
        Uuid::from_u128(0x2000_0000_0000_4000_8000_0000_0000_0000 + n),
        stix::markings::Tlp::Amber.marking_id(),
        object_id(n),
    );
    let parsed = stix::json::parse(bytes.as_bytes()).unwrap();
    NewObject::from_object(bytes.clone().into_bytes(), parsed.as_object().unwrap()).unwrap()
}

/// The collection [`fill_node`] puts most versions in (alias `intel`).
pub const INTEL: Uuid = Uuid::from_u128(0xc0de_0000_0000_4000_8000_0000_0000_0001);

/// What [`fill_node`] made that the checks look up.
#[derive(Debug, Clone)]
pub struct FilledNode {
    /// Every collection, by id.
    pub collections: Vec<Uuid>,
    /// Every token: its account and hash.
    pub tokens: Vec<(String, TokenHash)>,
}

/// Fills an empty store with every kind of state a node keeps: three collections (one
/// empty), many versions of many objects (older versions added after newer ones, a
/// STIX 2.0 one, versions without `modified`, every query column), partner provenance
/// with every channel and signature check, deleted versions (so one collection's last
/// `date_added` is past its newest version), statuses, accounts with passwords, tokens,
/// rights and a partner link, ledger entries of every direction, sync cursors and
/// states. The clock moves between steps, so every time differs.
pub async fn fill_node(store: &dyn Store, clock: &ManualClock) -> FilledNode {
    store
        .create_collection(NewCollection {
            id: INTEL,
            title: "Renseignement — استخبارات".into(),
            description: Some("shared with partners".into()),
            alias: Some("intel".into()),
        })
        .await
        .unwrap();
    clock.advance(1_000);
    let inbox = new_collection(store, 2).await;
    clock.advance(1_000);
    let empty = new_collection(store, 3).await;
    clock.advance(1_000);

    // 40 objects, then newer versions of ten, an older version of one, a STIX 2.0
    // version of another, an SCO twice, and a marked report.
    store
        .add_objects(
            INTEL,
            &account(),
            (0..40).map(|n| indicator(n, &modified(10))).collect(),
        )
        .await
        .unwrap();
    clock.advance(1_000);
    store
        .add_objects(
            INTEL,
            &Provenance::Import {
                source: "feed.json.gz".into(),
            },
            (0..10).map(|n| indicator(n, &modified(20))).collect(),
        )
        .await
        .unwrap();
    clock.advance(1_000);
    store
        .add_objects(
            INTEL,
            &account(),
            vec![
                indicator(20, &modified(5)),
                indicator_spec(30, &modified(30), "2.0"),
                ipv4("198.51.100.3"),
                marked_report(1),
            ],
        )
        .await
        .unwrap();
    clock.advance(1_000);
    store
        .add_objects(INTEL, &account(), vec![ipv4("198.51.100.4")])
        .await
        .unwrap();

    // From partners: every channel and signature check, some with a cursor.
    let checks = [
        verified("identity--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"),
        SignatureCheck::Unsigned,
        SignatureCheck::UnknownSigner {
            signer: "identity--0000".into(),
        },
        SignatureCheck::Invalid {
            signer: "identity--with spaces\nand a newline".into(),
        },
    ];
    let mut n = 100;
    for channel in Channel::ALL {
        for check in &checks {
            clock.advance(10);
            store
                .add_objects(
                    inbox,
                    &from_partner("paris", channel, check.clone()),
                    vec![indicator(n, &modified(1))],
                )
                .await
                .unwrap();
            n += 1;
        }
    }
    store
        .add_objects_in_sync(
            INTEL,
            &from_partner("madrid", Channel::Pull, verified("identity--m")),
            vec![indicator(200, &modified(1)), indicator(201, &modified(1))],
            SyncStep::to(SyncCursor {
                partner: "madrid".into(),
                collection: "remote-intel".into(),
                direction: Channel::Pull,
                cursor: "next-after-201".into(),
            }),
        )
        .await
        .unwrap();

    // Deletes: the newest version of object 0, and the last object added to INTEL,
    // so that collection's last date_added is past its newest version.
    clock.advance(1_000);
    store
        .add_objects(INTEL, &account(), vec![indicator(300, &modified(1))])
        .await
        .unwrap();
    store
        .delete_object(INTEL, &object_id(0), &DeleteFilter::default())
        .await
        .unwrap();
    store
        .delete_object(
            INTEL,
            &object_id(300),
            &DeleteFilter {
                versions: vec![VersionMatch::All],
                spec_versions: vec![],
            },
        )
        .await
        .unwrap();

    // Disclosures, over every channel, one with a push cursor.
    clock.advance(1_000);
    store
        .append_ledger(
            (1..13).map(|n| disclosed(INTEL, "paris", n)).collect(),
            None,
        )
        .await
        .unwrap();
    clock.advance(1_000);
    store
        .append_ledger(
            vec![
                NewLedgerEntry {
                    channel: Some(Channel::File),
                    rule: "third-party-clear".into(),
                    ..disclosed(inbox, "madrid", 101)
                },
                NewLedgerEntry {
                    channel: Some(Channel::Pull),
                    ..disclosed(INTEL, "madrid", 5)
                },
            ],
            Some(SyncCursor {
                partner: "paris".into(),
                collection: INTEL.to_string(),
                direction: Channel::Push,
                cursor: "1704067200001234".into(),
            }),
        )
        .await
        .unwrap();
    clock.advance(1_000);
    store
        .record_sync_attempt("paris", &INTEL.to_string(), Channel::Push, Ok(12))
        .await
        .unwrap();
    clock.advance(1_000);
    store
        .record_sync_attempt(
            "madrid",
            "remote-intel",
            Channel::Pull,
            Err("connection refused".into()),
        )
        .await
        .unwrap();
    store
        .record_sync_attempt("madrid", &inbox.to_string(), Channel::File, Ok(0))
        .await
        .unwrap();

    // Statuses, in an order that is not their id order.
    let detail = |n: u128, message: Option<&str>| StatusDetail {
        id: object_id(n),
        version: modified(10),
        message: message.map(str::to_owned),
    };
    for n in [7u128, 3, 9, 1, 5] {
        clock.advance(100);
        store
            .create_status(&Status {
                id: Uuid::from_u128(0x5000 + n),
                account: "alice".into(),
                request_timestamp: clock.now(),
                total_count: n as u64 + 2,
                successes: vec![detail(n, None)],
                failures: vec![detail(n + 1, Some("'pattern' is required — مطلوب"))],
                pendings: if n == 9 {
                    vec![detail(n + 2, None)]
                } else {
                    vec![]
                },
            })
            .await
            .unwrap();
    }

    // Accounts: an admin with a password and two tokens, a partner's account, and one
    // with nothing.
    let mut tokens = Vec::new();
    for (name, admin) in [("alice", true), ("paris-node", false), ("carol", false)] {
        clock.advance(1_000);
        store
            .create_account(NewAccount {
                name: name.into(),
                admin,
            })
            .await
            .unwrap();
    }
    store
        .set_password_hash(
            "alice",
            Some("$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA".into()),
        )
        .await
        .unwrap();
    store
        .set_account_partner("paris-node", Some("paris".into()))
        .await
        .unwrap();
    for (account, name, byte) in [
        ("alice", "laptop", 1u8),
        ("alice", "siem", 2),
        ("paris-node", "pull", 3),
    ] {
        clock.advance(1_000);
        let hash = TokenHash([byte; 32]);
        store
            .add_token(
                account,
                NewToken {
                    name: name.into(),
                    hash,
                },
            )
            .await
            .unwrap();
        tokens.push((account.to_owned(), hash));
    }
    let (read, write) = (true, true);
    store
        .set_rights("alice", INTEL, Rights { read, write })
        .await
        .unwrap();
    for c in [INTEL, inbox] {
        store
            .set_rights("paris-node", c, Rights { read, write: false })
            .await
            .unwrap();
    }
    FilledNode {
        collections: vec![INTEL, inbox, empty],
        tokens,
    }
}

/// Everything a client, an operator or an auditor can read of a node: checks `copy`
/// reads the same as `node` through every path.
pub async fn assert_same_node(node: &dyn Store, copy: &dyn Store, filled: &FilledNode) {
    assert_eq!(
        copy.dump_collections().await.unwrap(),
        node.dump_collections().await.unwrap()
    );
    assert_eq!(
        copy.list_collections().await.unwrap(),
        node.list_collections().await.unwrap()
    );
    assert_eq!(copy.counts().await.unwrap(), node.counts().await.unwrap());
    for &c in &filled.collections {
        assert_eq!(
            copy.dump_objects(c, None, 10_000).await.unwrap(),
            node.dump_objects(c, None, 10_000).await.unwrap(),
            "collection {c}"
        );
        let selections = [
            vec![],
            vec![VersionMatch::First],
            vec![VersionMatch::Last],
            vec![VersionMatch::All],
        ];
        for versions in selections {
            for spec_versions in [vec![], vec!["2.0".to_owned(), "2.1".to_owned()]] {
                for limit in [1000, 6] {
                    let query = ObjectQuery {
                        versions: versions.clone(),
                        spec_versions: spec_versions.clone(),
                        limit,
                        with_provenance: true,
                        ..ObjectQuery::default()
                    };
                    let page = node.objects(c, &query).await.unwrap();
                    assert_eq!(
                        copy.objects(c, &query).await.unwrap(),
                        page,
                        "objects of {c}, {query:?}"
                    );
                    assert_eq!(
                        copy.manifest(c, &query).await.unwrap(),
                        node.manifest(c, &query).await.unwrap(),
                        "manifest of {c}, {query:?}"
                    );
                    // The next page from the same cursor is the same too.
                    let next = ObjectQuery {
                        next: page.next,
                        ..query
                    };
                    assert_eq!(
                        copy.objects(c, &next).await.unwrap(),
                        node.objects(c, &next).await.unwrap()
                    );
                }
            }
        }
    }
    let mut after = None;
    loop {
        let page = node.statuses(after, 1000).await.unwrap();
        assert_eq!(copy.statuses(after, 1000).await.unwrap(), page);
        for status in &page {
            assert_eq!(&copy.get_status(status.id).await.unwrap(), status);
        }
        match page.last() {
            Some(last) => after = Some(last.id),
            None => break,
        }
    }
    assert_eq!(
        copy.dump_accounts().await.unwrap(),
        node.dump_accounts().await.unwrap()
    );
    for account in node.list_accounts().await.unwrap() {
        let name = account.name.as_str();
        assert_eq!(copy.get_account(name).await.unwrap(), account);
        assert_eq!(
            copy.list_tokens(name).await.unwrap(),
            node.list_tokens(name).await.unwrap()
        );
        assert_eq!(
            copy.password_hash(name).await.unwrap(),
            node.password_hash(name).await.unwrap()
        );
        assert_eq!(
            copy.grants_of_account(name).await.unwrap(),
            node.grants_of_account(name).await.unwrap()
        );
    }
    for (account, hash) in &filled.tokens {
        assert_eq!(&copy.account_by_token(hash).await.unwrap().name, account);
    }
    assert_eq!(
        copy.sync_states().await.unwrap(),
        node.sync_states().await.unwrap()
    );
    for state in node.sync_states().await.unwrap() {
        assert_eq!(
            copy.sync_cursor(&state.partner, &state.collection, state.direction)
                .await
                .unwrap(),
            state.cursor
        );
    }
    let ledger = whole_ledger(node).await;
    assert_eq!(whole_ledger(copy).await, ledger);
    assert_eq!(copy.ledger_head().await.unwrap().as_ref(), ledger.last());
}

/// A whole node copied to an empty store ([`crate::copy_node`], here in small pages so
/// every kind crosses page boundaries) reads back identical through every path: the
/// same `date_added`, bytes, provenance, times, token hashes, ledger entry for entry;
/// nothing was assigned anew (the clock moved a day before copying). The copy then
/// carries on from where the source was.
///
/// `from` and `to` are fresh, empty stores opened with `clock`, of any backends.
pub async fn copy_whole_node(from: &dyn Store, to: &dyn Store, clock: &ManualClock) {
    let filled = fill_node(from, clock).await;
    let ledger = whole_ledger(from).await;
    let directions: HashSet<&str> = ledger.iter().map(|e| e.direction.as_str()).collect();
    assert_eq!(
        directions.len(),
        3,
        "the node has entries of every direction"
    );
    let marks = from.dump_collections().await.unwrap();
    let intel_mark = marks
        .iter()
        .find(|r| r.collection.id == INTEL)
        .unwrap()
        .last_date_added;
    let newest = from
        .objects(INTEL, &all_versions())
        .await
        .unwrap()
        .last_added
        .unwrap();
    assert!(
        intel_mark > newest,
        "a deletion left the mark past the newest"
    );

    clock.advance(86_400_000_000);
    let seen = std::sync::Mutex::new(Vec::new());
    let pages = crate::copy::PageSizes {
        objects: 7,
        statuses: 2,
        ledger: 5,
    };
    let report = crate::copy::copy_in_pages(
        from,
        to,
        &|progress| seen.lock().unwrap().push(progress),
        pages,
    )
    .await
    .unwrap();
    assert_same_node(from, to, &filled).await;

    let counts = from.counts().await.unwrap();
    let versions: u64 = counts.iter().map(|c| c.versions).sum();
    assert_eq!(report.collections, counts);
    assert_eq!(report.versions, versions);
    assert_eq!((report.accounts, report.tokens, report.grants), (3, 3, 3));
    assert_eq!(report.statuses, 5);
    assert_eq!(report.sync_states, 3);
    assert_eq!(report.ledger_entries, ledger.len() as u64);
    assert_eq!(report.ledger_head.as_ref(), ledger.last());

    let seen = seen.into_inner().unwrap();
    let last_objects = seen
        .iter()
        .rev()
        .find(|p| matches!(p.step, crate::CopyStep::Objects { .. }))
        .unwrap();
    assert_eq!(last_objects.done, versions);
    assert_eq!(last_objects.total, Some(versions));
    let last_ledger = seen
        .iter()
        .rev()
        .find(|p| p.step == crate::CopyStep::Ledger)
        .unwrap();
    assert_eq!(last_ledger.done, ledger.len() as u64);
    assert_eq!(seen.last().unwrap().step, crate::CopyStep::Verify);

    // The copy carries on: a new version comes after the source's mark even with the
    // clock behind it, and a new ledger entry chains after the copied head.
    clock.set(START);
    let out = to
        .add_objects(INTEL, &account(), vec![indicator(400, &modified(1))])
        .await
        .unwrap();
    assert_eq!(out[0].date_added(), Micros(intel_mark.0 + 1));
    let appended = to
        .append_ledger(vec![disclosed(INTEL, "paris", 400)], None)
        .await
        .unwrap();
    let head = ledger.last().unwrap();
    assert_eq!(appended[0].seq, head.seq + 1);
    assert_eq!(appended[0].prev_hash, head.hash);
    assert_eq!(appended[0].time, head.time, "time never goes back");
    assert_eq!(
        ledger::verify(&whole_ledger(to).await),
        Ok(ledger.len() as u64 + 1)
    );
}

/// A copy goes only into an empty store: one holding anything is refused before
/// anything is written, with a message naming what it holds. An empty node copies
/// to an empty report.
///
/// `from` and `to` are fresh, empty stores opened with `clock`, of any backends.
pub async fn copy_refuses_a_non_empty_target(
    from: &dyn Store,
    to: &dyn Store,
    _clock: &ManualClock,
) {
    let report = crate::copy_node(from, to, &|_| {}).await.unwrap();
    assert_eq!(report.versions + report.accounts + report.ledger_entries, 0);
    assert!(report.collections.is_empty());
    assert_eq!(report.ledger_head, None);

    new_collection(from, 1).await;
    from.add_objects(
        new_collection(from, 2).await,
        &account(),
        vec![indicator(1, &modified(1))],
    )
    .await
    .unwrap();
    to.create_account(NewAccount {
        name: "admin".into(),
        admin: true,
    })
    .await
    .unwrap();
    let refused = |error: crate::CopyError| match error {
        crate::CopyError::TargetNotEmpty { found } => found,
        other => panic!("not refused for being non-empty: {other:?}"),
    };
    let error = crate::copy_node(from, to, &|_| {}).await.unwrap_err();
    assert!(
        error.to_string().contains("already holds a node"),
        "{error}"
    );
    assert_eq!(refused(error), "1 account: admin");
    assert!(
        to.list_collections().await.unwrap().is_empty(),
        "nothing written"
    );

    to.create_collection(NewCollection {
        id: INTEL,
        title: "t".into(),
        description: None,
        alias: Some("intel".into()),
    })
    .await
    .unwrap();
    to.append_ledger(vec![disclosed(INTEL, "paris", 1)], None)
        .await
        .unwrap();
    to.record_sync_attempt("paris", "c", Channel::Pull, Ok(1))
        .await
        .unwrap();
    to.create_status(&Status {
        id: Uuid::from_u128(1),
        account: "admin".into(),
        request_timestamp: START,
        total_count: 0,
        successes: vec![],
        failures: vec![],
        pendings: vec![],
    })
    .await
    .unwrap();
    let found = refused(crate::copy_node(from, to, &|_| {}).await.unwrap_err());
    assert_eq!(
        found,
        "1 collection: intel; 1 account: admin; statuses; 1 sync state: paris pull c; \
         1 ledger entry"
    );
    assert_eq!(to.counts().await.unwrap()[0].versions, 0, "nothing written");
}

/// Versions dumped from one collection and restored into another keep everything:
/// `date_added`, version texts, columns, provenance, bytes; the first/latest flags come
/// out as adding them did; no ledger entry is written. Restores that would break the
/// strictly increasing `date_added` or store a version twice are refused whole; the
/// collection's last `date_added` is raised to a given mark, never lowered.
pub async fn restore_objects_exactly(store: &dyn Store, clock: &ManualClock) {
    let a = new_collection(store, 1).await;
    store
        .add_objects(
            a,
            &account(),
            vec![
                indicator(1, &modified(5)),
                indicator(2, &modified(1)),
                ipv4("198.51.100.3"),
            ],
        )
        .await
        .unwrap();
    clock.advance(10);
    store
        .add_objects(
            a,
            &account(),
            vec![
                indicator(1, &modified(2)),
                indicator_spec(2, &modified(0), "2.0"),
            ],
        )
        .await
        .unwrap();
    store
        .add_objects(
            a,
            &from_partner("paris", Channel::Push, SignatureCheck::Unsigned),
            vec![indicator(3, &modified(1)), marked_report(4)],
        )
        .await
        .unwrap();
    let dumped = store.dump_objects(a, None, 100).await.unwrap();
    assert_eq!(dumped.len(), 7);
    assert!(dumped.windows(2).all(|w| w[0].date_added < w[1].date_added));
    assert_eq!(dumped[0].bytes, indicator(1, &modified(5)).bytes);
    assert_eq!(
        dumped[0].created.as_ref().unwrap().as_str(),
        "2020-01-01T00:00:00.000000000Z"
    );
    assert_eq!(
        dumped[2].version,
        Version::from_date_added(dumped[2].date_added)
    );
    assert_eq!(dumped[4].spec_version, "2.0");
    assert_eq!(
        dumped[5].provenance,
        from_partner("paris", Channel::Push, SignatureCheck::Unsigned)
    );
    let report = &dumped[6];
    assert_eq!(report.tlp, Some(stix::markings::Tlp::Amber));
    assert!(report.revoked);
    assert_eq!(report.object_type, "report");
    assert_eq!(
        report.created_by_ref.as_deref(),
        Some("identity--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f")
    );
    assert_eq!(
        report.modified.as_ref().unwrap(),
        &Version::parse("2021-03-01T00:00:00Z").unwrap()
    );
    // Pages by date_added.
    let first = store.dump_objects(a, None, 3).await.unwrap();
    assert_eq!(first, dumped[..3]);
    let rest = store
        .dump_objects(a, Some(first[2].date_added), 3)
        .await
        .unwrap();
    assert_eq!(rest, dumped[3..6]);
    let ledger_before = whole_ledger(store).await;

    let b = Collection {
        id: Uuid::from_u128(0xb),
        title: "copy".into(),
        description: Some("restored".into()),
        alias: Some("b".into()),
        created: Micros(42),
    };
    store.restore_collection(b.clone()).await.unwrap();
    assert_eq!(store.get_collection(b.id).await.unwrap(), b);
    assert!(matches!(
        store.restore_collection(b.clone()).await,
        Err(StoreError::Conflict(_))
    ));
    let b = b.id;

    // Out of date_added order: refused whole.
    let mut swapped = dumped.clone();
    swapped.swap(1, 2);
    let error = store.restore_objects(b, swapped, None).await.unwrap_err();
    assert!(
        matches!(&error, StoreError::Invalid(m) if m.contains(&dumped[1].id)),
        "{error:?}"
    );
    assert!(store.dump_objects(b, None, 100).await.unwrap().is_empty());

    store
        .restore_objects(b, dumped[..3].to_vec(), None)
        .await
        .unwrap();
    // Not after the collection's last date_added.
    assert!(matches!(
        store.restore_objects(b, dumped[2..3].to_vec(), None).await,
        Err(StoreError::Invalid(_))
    ));
    // A version the collection holds, even at a later date_added.
    let mut again = dumped[0].clone();
    again.date_added = Micros(dumped[6].date_added.0 + 1_000);
    assert!(matches!(
        store
            .restore_objects(b, vec![dumped[3].clone(), again], None)
            .await,
        Err(StoreError::Conflict(_))
    ));
    store
        .restore_objects(b, dumped[3..].to_vec(), None)
        .await
        .unwrap();
    assert_eq!(store.dump_objects(b, None, 100).await.unwrap(), dumped);
    for versions in [
        vec![],
        vec![VersionMatch::First],
        vec![VersionMatch::All],
        vec![VersionMatch::First, VersionMatch::Last],
    ] {
        for spec_versions in [vec![], vec!["2.0".to_owned()]] {
            let query = ObjectQuery {
                versions: versions.clone(),
                spec_versions,
                with_provenance: true,
                ..ObjectQuery::default()
            };
            assert_eq!(
                store.objects(b, &query).await.unwrap(),
                store.objects(a, &query).await.unwrap(),
                "{query:?}"
            );
        }
    }
    assert_eq!(whole_ledger(store).await, ledger_before, "no ledger entry");

    // The mark: raised when later, never lowered; new versions come after it.
    let mark_of = |records: Vec<crate::CollectionRecord>, id: Uuid| {
        records
            .into_iter()
            .find(|r| r.collection.id == id)
            .unwrap()
            .last_date_added
    };
    assert_eq!(
        mark_of(store.dump_collections().await.unwrap(), b),
        dumped[6].date_added
    );
    let mark = Micros(dumped[6].date_added.0 + 1_000);
    store.restore_objects(b, vec![], Some(mark)).await.unwrap();
    store
        .restore_objects(b, vec![], Some(Micros(0)))
        .await
        .unwrap();
    assert_eq!(mark_of(store.dump_collections().await.unwrap(), b), mark);
    clock.set(START);
    let out = store
        .add_objects(b, &account(), vec![indicator(9, &modified(1))])
        .await
        .unwrap();
    assert_eq!(out[0].date_added(), Micros(mark.0 + 1));

    let nowhere = Uuid::from_u128(404);
    assert!(matches!(
        store.dump_objects(nowhere, None, 10).await,
        Err(StoreError::NotFound { .. })
    ));
    assert!(matches!(
        store.restore_objects(nowhere, vec![], None).await,
        Err(StoreError::NotFound { .. })
    ));
    assert!(matches!(
        store.dump_objects(a, None, 0).await,
        Err(StoreError::Invalid(_))
    ));
}

/// Ledger entries restored as they are keep their `seq`, times and hashes; an entry
/// that does not follow the head (wrong `seq`, broken link, edited, time going back,
/// invalid fields) is refused with its batch; appends continue the restored chain.
pub async fn restore_ledger_follows_the_chain(store: &dyn Store, _clock: &ManualClock) {
    let c = Uuid::from_u128(0xc011);
    let mut chain: Vec<LedgerEntry> = Vec::new();
    let news = [
        disclosed(c, "paris", 1),
        NewLedgerEntry {
            direction: Direction::Received,
            rule: ledger::RULE_RECEIVED.into(),
            channel: Some(Channel::Pull),
            ..disclosed(c, "madrid", 2)
        },
        NewLedgerEntry {
            direction: Direction::Deleted,
            partner: None,
            channel: None,
            rule: ledger::RULE_LOCAL_DELETE.into(),
            ..disclosed(c, "x", 3)
        },
        disclosed(c, "paris", 4),
        disclosed(c, "paris", 5),
        disclosed(c, "madrid", 6),
    ];
    for (n, new) in news.into_iter().enumerate() {
        let entry = LedgerEntry::after(chain.last(), Micros(1_000 * n as i64), new);
        chain.push(entry);
    }
    let invalid = |result: Result<(), StoreError>, seq: u64| match result {
        Err(StoreError::Invalid(message)) => {
            assert!(
                message.contains(&format!("ledger entry {seq}")),
                "{message}"
            );
        }
        other => panic!("entry {seq} not refused: {other:?}"),
    };
    invalid(store.restore_ledger(chain[1..3].to_vec()).await, 2);
    assert_eq!(store.ledger_head().await.unwrap(), None);
    store.restore_ledger(chain[..3].to_vec()).await.unwrap();
    assert_eq!(store.ledger_head().await.unwrap().as_ref(), Some(&chain[2]));
    invalid(store.restore_ledger(chain[2..4].to_vec()).await, 3);

    let rehash = |mut entry: LedgerEntry| {
        entry.hash = ledger::entry_hash(&entry);
        entry
    };
    let edited = LedgerEntry {
        rule: "edited".into(),
        ..chain[3].clone()
    };
    let unlinked = rehash(LedgerEntry {
        prev_hash: ledger::sha256_hex(b"another chain"),
        ..chain[3].clone()
    });
    let earlier = rehash(LedgerEntry {
        time: Micros(chain[2].time.0 - 1),
        ..chain[3].clone()
    });
    let without_partner = rehash(LedgerEntry {
        partner: None,
        ..chain[3].clone()
    });
    for bad in [edited, unlinked, earlier, without_partner] {
        invalid(store.restore_ledger(vec![bad]).await, 4);
    }
    // A bad entry at the end of a batch refuses the whole batch.
    let mut batch = chain[3..5].to_vec();
    batch.push(LedgerEntry {
        bytes_sha256: ledger::sha256_hex(b"other bytes"),
        ..chain[5].clone()
    });
    invalid(store.restore_ledger(batch).await, 6);
    assert_eq!(store.ledger_head().await.unwrap().as_ref(), Some(&chain[2]));

    store.restore_ledger(chain[3..].to_vec()).await.unwrap();
    store.restore_ledger(vec![]).await.unwrap();
    assert_eq!(whole_ledger(store).await, chain);
    let appended = store
        .append_ledger(vec![disclosed(c, "paris", 7)], None)
        .await
        .unwrap();
    assert_eq!(appended[0].seq, 7);
    assert_eq!(appended[0].prev_hash, chain[5].hash);
    assert_eq!(ledger::verify(&whole_ledger(store).await), Ok(7));
}

/// Accounts restored with their tokens keep creation times, password hash, partner
/// and token hashes (tokens authenticate); a taken name or token hash is refused
/// whole. Statuses list in id order, a page at a time. Sync states are restored as
/// given, replacing what was there.
pub async fn restore_accounts_statuses_and_sync_states(store: &dyn Store, clock: &ManualClock) {
    // Statuses, created out of id order, listed in it.
    for n in [4u128, 2, 5, 1, 3] {
        store
            .create_status(&Status {
                id: Uuid::from_u128(n << 100),
                account: "alice".into(),
                request_timestamp: Micros(n as i64),
                total_count: 1,
                successes: vec![],
                failures: vec![StatusDetail {
                    id: object_id(n),
                    version: modified(1),
                    message: Some("bad".into()),
                }],
                pendings: vec![],
            })
            .await
            .unwrap();
    }
    let mut ids = Vec::new();
    let mut after = None;
    loop {
        let page = store.statuses(after, 2).await.unwrap();
        assert!(page.len() <= 2);
        for status in &page {
            assert_eq!(&store.get_status(status.id).await.unwrap(), status);
        }
        match page.last() {
            Some(last) => after = Some(last.id),
            None => break,
        }
        ids.extend(page.iter().map(|s| s.id));
    }
    assert_eq!(
        ids,
        (1..=5)
            .map(|n| Uuid::from_u128(n << 100))
            .collect::<Vec<_>>()
    );
    assert!(matches!(
        store.statuses(None, 0).await,
        Err(StoreError::Invalid(_))
    ));

    // Accounts.
    let hash = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA".to_owned();
    let alice = crate::AccountRecord {
        name: "alice".into(),
        admin: true,
        password_hash: Some(hash.clone()),
        created: Micros(77),
        partner: Some("paris".into()),
        tokens: vec![
            crate::TokenRecord {
                name: "a".into(),
                hash: TokenHash([1; 32]),
                created: Micros(78),
            },
            crate::TokenRecord {
                name: "b".into(),
                hash: TokenHash([2; 32]),
                created: Micros(79),
            },
        ],
    };
    store.restore_account(alice.clone()).await.unwrap();
    assert_eq!(store.dump_accounts().await.unwrap(), vec![alice.clone()]);
    assert_eq!(
        store.get_account("alice").await.unwrap(),
        crate::Account {
            name: "alice".into(),
            admin: true,
            has_password: true,
            created: Micros(77),
            partner: Some("paris".into()),
        }
    );
    assert_eq!(store.password_hash("alice").await.unwrap(), Some(hash));
    let created: Vec<Micros> = store
        .list_tokens("alice")
        .await
        .unwrap()
        .iter()
        .map(|t| t.created)
        .collect();
    assert_eq!(created, [Micros(78), Micros(79)]);
    assert_eq!(
        store
            .account_by_token(&TokenHash([2; 32]))
            .await
            .unwrap()
            .name,
        "alice"
    );
    assert!(matches!(
        store.restore_account(alice.clone()).await,
        Err(StoreError::Conflict(_))
    ));
    let bob = crate::AccountRecord {
        name: "bob".into(),
        admin: false,
        password_hash: None,
        created: Micros(80),
        partner: None,
        tokens: vec![crate::TokenRecord {
            name: "stolen".into(),
            hash: TokenHash([1; 32]),
            created: Micros(81),
        }],
    };
    assert!(matches!(
        store.restore_account(bob).await,
        Err(StoreError::Conflict(_))
    ));
    assert!(matches!(
        store.get_account("bob").await,
        Err(StoreError::NotFound { .. })
    ));
    // An account made the ordinary way dumps with the clock's time and nothing else.
    store
        .create_account(NewAccount {
            name: "carol".into(),
            admin: false,
        })
        .await
        .unwrap();
    let dumped = store.dump_accounts().await.unwrap();
    assert_eq!(dumped.len(), 2);
    assert_eq!(
        dumped[1],
        crate::AccountRecord {
            name: "carol".into(),
            admin: false,
            password_hash: None,
            created: clock.now(),
            partner: None,
            tokens: vec![],
        }
    );

    // Sync states.
    let state = SyncState {
        partner: "paris".into(),
        collection: "c1".into(),
        direction: Channel::Pull,
        cursor: Some("after-5".into()),
        last_success: Some(Micros(5)),
        last_attempt: Some(Micros(6)),
        last_error: Some("connection refused".into()),
        objects: 42,
    };
    store.restore_sync_state(state.clone()).await.unwrap();
    assert_eq!(store.sync_states().await.unwrap(), vec![state.clone()]);
    assert_eq!(
        store
            .sync_cursor("paris", "c1", Channel::Pull)
            .await
            .unwrap()
            .as_deref(),
        Some("after-5")
    );
    let replaced = SyncState {
        cursor: None,
        last_success: None,
        last_error: None,
        objects: 0,
        ..state
    };
    store.restore_sync_state(replaced.clone()).await.unwrap();
    assert_eq!(store.sync_states().await.unwrap(), vec![replaced]);
}

/// A lookup whose key holds a NUL (U+0000) finds nothing, whatever the backend can store
/// (PostgreSQL's `text` cannot hold one): not found, an empty page, no match; in a list
/// of filter values only that value matches nothing. Nothing else changes.
pub async fn keys_with_a_nul_find_nothing(store: &dyn Store, _clock: &ManualClock) {
    let c = Uuid::from_u128(0xc011);
    store
        .create_collection(NewCollection {
            id: c,
            title: "intel".into(),
            description: None,
            alias: Some("intel".into()),
        })
        .await
        .unwrap();
    let added = store
        .add_objects(
            c,
            &account(),
            vec![indicator(1, &modified(0)), indicator(2, &modified(0))],
        )
        .await
        .unwrap();
    let version = match &added[0] {
        AddOutcome::Added { version, .. } => version.clone(),
        other => panic!("{other:?}"),
    };
    store
        .create_account(NewAccount {
            name: "alice".into(),
            admin: false,
        })
        .await
        .unwrap();
    let hash = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA".to_owned();
    store
        .set_password_hash("alice", Some(hash.clone()))
        .await
        .unwrap();
    let token = |name: &str, byte: u8| NewToken {
        name: name.into(),
        hash: TokenHash([byte; 32]),
    };
    store.add_token("alice", token("t1", 1)).await.unwrap();
    let read = Rights {
        read: true,
        write: false,
    };
    store.set_rights("alice", c, read).await.unwrap();
    store
        .set_sync_cursor(
            SyncCursor {
                partner: "paris".into(),
                collection: "c1".into(),
                direction: Channel::Pull,
                cursor: "after-1".into(),
            },
            0,
        )
        .await
        .unwrap();
    let ttl = Duration::from_secs(15);
    assert!(store.try_lease("sync:paris", "h1", ttl).await.unwrap());
    store
        .append_ledger(vec![disclosed(c, "paris", 1)], None)
        .await
        .unwrap();

    // Collections, by alias or id.
    for key in ["intel\0", "\0", "in\0tel", &format!("{c}\0")] {
        let found = store.find_collection(key).await;
        assert!(
            matches!(
                found,
                Err(StoreError::NotFound {
                    what: "collection",
                    ..
                })
            ),
            "{key:?}: {found:?}"
        );
    }

    // Accounts, their tokens and rights.
    let no_account = |what: &str, result: crate::Result<()>| {
        assert!(
            matches!(
                result,
                Err(StoreError::NotFound {
                    what: "account",
                    ..
                })
            ),
            "{what}: {result:?}"
        );
    };
    for name in ["alice\0", "\0alice", "\0"] {
        no_account("get_account", store.get_account(name).await.map(drop));
        no_account("password_hash", store.password_hash(name).await.map(drop));
        no_account("set_admin", store.set_admin(name, true).await);
        no_account(
            "set_password_hash",
            store.set_password_hash(name, None).await,
        );
        no_account(
            "set_account_partner",
            store.set_account_partner(name, None).await,
        );
        no_account("list_tokens", store.list_tokens(name).await.map(drop));
        no_account(
            "add_token",
            store.add_token(name, token("t2", 2)).await.map(drop),
        );
        no_account("revoke_token", store.revoke_token(name, "t1").await);
        no_account("rights", store.rights(name, c).await.map(drop));
        no_account("set_rights", store.set_rights(name, c, read).await);
        no_account("revoke_rights", store.revoke_rights(name, c).await);
        no_account(
            "grants_of_account",
            store.grants_of_account(name).await.map(drop),
        );
        no_account("delete_account", store.delete_account(name).await);
    }
    let revoked = store.revoke_token("alice", "t1\0").await;
    assert!(
        matches!(revoked, Err(StoreError::NotFound { what: "token", .. })),
        "{revoked:?}"
    );
    let alice = store.get_account("alice").await.unwrap();
    assert!(!alice.admin && alice.has_password && alice.partner.is_none());
    assert_eq!(store.password_hash("alice").await.unwrap(), Some(hash));
    let tokens: Vec<String> = store
        .list_tokens("alice")
        .await
        .unwrap()
        .into_iter()
        .map(|t| t.name)
        .collect();
    assert_eq!(tokens, ["t1"]);
    assert_eq!(store.rights("alice", c).await.unwrap(), read);
    assert_eq!(store.list_accounts().await.unwrap().len(), 1);

    // Sync cursors, leases, the ledger by partner.
    for (partner, collection) in [("paris\0", "c1"), ("paris", "c1\0"), ("\0", "\0")] {
        assert_eq!(
            store
                .sync_cursor(partner, collection, Channel::Pull)
                .await
                .unwrap(),
            None,
            "{partner:?} {collection:?}"
        );
    }
    assert_eq!(
        store
            .sync_cursor("paris", "c1", Channel::Pull)
            .await
            .unwrap()
            .as_deref(),
        Some("after-1")
    );
    store.release_lease("sync:paris\0", "h1").await.unwrap();
    store.release_lease("sync:paris", "h1\0").await.unwrap();
    let leases: Vec<(String, String)> = store
        .leases()
        .await
        .unwrap()
        .into_iter()
        .map(|l| (l.name, l.holder))
        .collect();
    assert_eq!(leases, [("sync:paris".to_owned(), "h1".to_owned())]);
    let by_partner = |partner: &str| LedgerQuery {
        partner: Some(partner.into()),
        ..LedgerQuery::default()
    };
    assert!(
        store
            .ledger(&by_partner("paris\0"))
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(store.ledger(&by_partner("paris")).await.unwrap().len(), 1);

    // Objects: filters, one object's versions, deletes, provenance.
    let ids_of = |query: ObjectQuery| async move {
        let page = store.objects(c, &query).await.unwrap();
        let manifest = store.manifest(c, &query).await.unwrap();
        let ids: Vec<String> = page.records.into_iter().map(|r| r.id).collect();
        let manifest_ids: Vec<String> = manifest.records.into_iter().map(|r| r.id).collect();
        assert_eq!(ids, manifest_ids, "{query:?}");
        assert!(!page.more && page.next.is_none(), "{query:?}");
        ids
    };
    let (id1, id2) = (object_id(1), object_id(2));
    let strings = |items: &[&str]| items.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
    let nul_id = format!("{id1}\0");
    for (query, expected) in [
        (
            ObjectQuery {
                ids: strings(&[&nul_id]),
                ..ObjectQuery::default()
            },
            vec![],
        ),
        (
            ObjectQuery {
                ids: strings(&[&id1, &format!("{id2}\0")]),
                ..ObjectQuery::default()
            },
            vec![id1.clone()],
        ),
        (
            ObjectQuery {
                types: strings(&["indicator\0"]),
                ..ObjectQuery::default()
            },
            vec![],
        ),
        (
            ObjectQuery {
                types: strings(&["indicator", "x\0"]),
                ..ObjectQuery::default()
            },
            vec![id1.clone(), id2.clone()],
        ),
        (
            ObjectQuery {
                spec_versions: strings(&["2.1\0"]),
                ..ObjectQuery::default()
            },
            vec![],
        ),
        (
            ObjectQuery {
                spec_versions: strings(&["2.1\0", "2.1"]),
                ..ObjectQuery::default()
            },
            vec![id1.clone(), id2.clone()],
        ),
    ] {
        assert_eq!(ids_of(query.clone()).await, expected, "{query:?}");
    }
    let versions = store
        .object_versions(c, &nul_id, &ObjectQuery::default())
        .await
        .unwrap();
    assert!(versions.records.is_empty() && !versions.more);
    assert_eq!(
        store
            .delete_object(c, &nul_id, &DeleteFilter::default())
            .await
            .unwrap(),
        0
    );
    let all_of_spec = DeleteFilter {
        versions: vec![VersionMatch::All],
        spec_versions: strings(&["2.1\0"]),
    };
    assert_eq!(store.delete_object(c, &id1, &all_of_spec).await.unwrap(), 0);
    let found = store.provenance(c, &nul_id, &version).await;
    assert!(
        matches!(found, Err(StoreError::NotFound { .. })),
        "{found:?}"
    );
    assert_eq!(
        store.provenance(c, &id1, &version).await.unwrap(),
        account()
    );
    assert_eq!(store.counts().await.unwrap()[0].versions, 2);
    assert_eq!(whole_ledger(store).await.len(), 1, "no deleted entries");
}

/// What a write of text holding a NUL did: `true` if it stored it, `false` if it refused
/// it as [`StoreError::Invalid`] naming `field` (what PostgreSQL does); anything else
/// fails the test.
fn stored_or_refused<T: std::fmt::Debug>(result: crate::Result<T>, field: &str) -> bool {
    match result {
        Ok(_) => true,
        Err(StoreError::Invalid(message))
            if message.contains(field) && message.contains("NUL character") =>
        {
            false
        }
        other => panic!("writing a {field} holding a NUL: {other:?}"),
    }
}

/// Text holding a NUL (U+0000) is either stored exactly (SQLite) or refused as
/// [`StoreError::Invalid`] naming the field, with nothing written (PostgreSQL); never a
/// backend failure. Messages are always recorded: status details exactly (they are one
/// JSON text, which escapes a NUL), a sync attempt's error and a partner's signer with
/// each NUL possibly replaced by U+FFFD.
pub async fn text_with_a_nul_is_stored_or_refused(store: &dyn Store, clock: &ManualClock) {
    let c = new_collection(store, 1).await;
    let with_alias = NewCollection {
        id: Uuid::from_u128(0xa11a5),
        title: "intel".into(),
        description: None,
        alias: Some("in\0tel".into()),
    };
    let stored = stored_or_refused(
        store.create_collection(with_alias.clone()).await,
        "collection alias",
    );
    let found = store.find_collection("in\0tel").await;
    if stored {
        assert_eq!(found.unwrap().alias, with_alias.alias);
    } else {
        assert!(
            matches!(found, Err(StoreError::NotFound { .. })),
            "{found:?}"
        );
        assert_eq!(store.list_collections().await.unwrap().len(), 1);
    }
    let with_title = NewCollection {
        id: Uuid::from_u128(0x717e),
        title: "in\0tel".into(),
        description: Some("de\0scription".into()),
        alias: None,
    };
    let stored = stored_or_refused(
        store.create_collection(with_title.clone()).await,
        "collection title",
    );
    let found = store.get_collection(with_title.id).await;
    if stored {
        let found = found.unwrap();
        assert_eq!(
            (found.title, found.description),
            (with_title.title, with_title.description)
        );
    } else {
        assert!(
            matches!(found, Err(StoreError::NotFound { .. })),
            "{found:?}"
        );
    }

    // Accounts and tokens.
    let stored = stored_or_refused(
        store
            .create_account(NewAccount {
                name: "bob\0".into(),
                admin: false,
            })
            .await,
        "account name",
    );
    assert_eq!(store.get_account("bob\0").await.is_ok(), stored);
    store
        .create_account(NewAccount {
            name: "alice".into(),
            admin: false,
        })
        .await
        .unwrap();
    let stored = stored_or_refused(
        store
            .set_password_hash("alice", Some("$hash\0".into()))
            .await,
        "password hash",
    );
    let expected = stored.then(|| "$hash\0".to_owned());
    assert_eq!(store.password_hash("alice").await.unwrap(), expected);
    let stored = stored_or_refused(
        store
            .set_account_partner("alice", Some("paris\0".into()))
            .await,
        "account partner",
    );
    let expected = stored.then(|| "paris\0".to_owned());
    assert_eq!(store.get_account("alice").await.unwrap().partner, expected);
    let stored = stored_or_refused(
        store
            .add_token(
                "alice",
                NewToken {
                    name: "lap\0top".into(),
                    hash: TokenHash([7; 32]),
                },
            )
            .await,
        "token name",
    );
    let tokens = store.list_tokens("alice").await.unwrap();
    assert_eq!(tokens.len(), usize::from(stored));

    // Sync state and leases.
    let stored = stored_or_refused(
        store
            .set_sync_cursor(
                SyncCursor {
                    partner: "paris\0".into(),
                    collection: "c1".into(),
                    direction: Channel::Pull,
                    cursor: "after-1".into(),
                },
                0,
            )
            .await,
        "sync partner",
    );
    let saved = store
        .sync_cursor("paris\0", "c1", Channel::Pull)
        .await
        .unwrap();
    assert_eq!(saved.is_some(), stored);
    let stored = stored_or_refused(
        store
            .set_sync_cursor(
                SyncCursor {
                    partner: "madrid".into(),
                    collection: "c1".into(),
                    direction: Channel::Pull,
                    cursor: "after\0-1".into(),
                },
                0,
            )
            .await,
        "sync cursor",
    );
    let saved = store
        .sync_cursor("madrid", "c1", Channel::Pull)
        .await
        .unwrap();
    assert_eq!(saved, stored.then(|| "after\0-1".to_owned()));
    let stored = stored_or_refused(
        store
            .record_sync_attempt("rome\0", "c1", Channel::Push, Ok(1))
            .await,
        "sync partner",
    );
    let states = store.sync_states().await.unwrap();
    assert_eq!(states.iter().any(|s| s.partner == "rome\0"), stored);
    let ttl = Duration::from_secs(15);
    for (name, holder, field) in [
        ("sync:paris\0", "h1", "lease name"),
        ("sync:rome", "h\0-1", "lease holder"),
    ] {
        let stored = match store.try_lease(name, holder, ttl).await {
            Ok(taken) => {
                assert!(taken, "{name:?} {holder:?}");
                true
            }
            refused => stored_or_refused(refused, field),
        };
        let held = store
            .leases()
            .await
            .unwrap()
            .into_iter()
            .any(|l| l.name == name && l.holder == holder);
        assert_eq!(held, stored, "{name:?} {holder:?}");
    }

    // The ledger, statuses and objects.
    let stored = stored_or_refused(
        store
            .append_ledger(vec![disclosed(c, "paris\0", 1)], None)
            .await,
        "ledger partner",
    );
    assert_eq!(whole_ledger(store).await.len(), usize::from(stored));
    let status = |account: &str, message: &str| Status {
        id: Uuid::from_u128(42),
        account: account.into(),
        request_timestamp: clock.now(),
        total_count: 1,
        successes: vec![],
        failures: vec![StatusDetail {
            id: object_id(1),
            version: modified(0),
            message: Some(message.into()),
        }],
        pendings: vec![],
    };
    let stored = stored_or_refused(
        store.create_status(&status("al\0ice", "fine")).await,
        "status account",
    );
    assert_eq!(store.get_status(Uuid::from_u128(42)).await.is_ok(), stored);
    let with_nul = status("alice", "'name' holds \0, a NUL");
    if stored {
        store.update_status(&with_nul).await.unwrap();
    } else {
        store.create_status(&with_nul).await.unwrap();
    }
    assert_eq!(store.get_status(with_nul.id).await.unwrap(), with_nul);
    let by = Provenance::Account {
        name: "al\0ice".into(),
    };
    let stored = stored_or_refused(
        store
            .add_objects(c, &by, vec![indicator(1, &modified(0))])
            .await,
        "provenance name",
    );
    let versions = store
        .counts()
        .await
        .unwrap()
        .into_iter()
        .find(|n| n.collection == c)
        .unwrap()
        .versions;
    assert_eq!(
        versions,
        u64::from(stored),
        "a refused batch stores nothing"
    );

    // Messages: recorded, with a NUL kept or replaced by U+FFFD.
    let plain = |text: &str| text.replace('\0', "\u{FFFD}");
    store
        .record_sync_attempt(
            "paris",
            "c1",
            Channel::Pull,
            Err("the partner said \0 and stopped".into()),
        )
        .await
        .unwrap();
    let state = store
        .sync_states()
        .await
        .unwrap()
        .into_iter()
        .find(|s| s.partner == "paris")
        .unwrap();
    assert_eq!(state.last_attempt, Some(clock.now()));
    assert_eq!(
        state.last_error.as_deref().map(plain).as_deref(),
        Some("the partner said \u{FFFD} and stopped")
    );
    let signer = "identity--\0";
    let from_paris = from_partner(
        "paris",
        Channel::Push,
        SignatureCheck::UnknownSigner {
            signer: signer.into(),
        },
    );
    let added = store
        .add_objects(c, &from_paris, vec![indicator(2, &modified(0))])
        .await
        .unwrap();
    let AddOutcome::Added { version, .. } = &added[0] else {
        panic!("{added:?}");
    };
    match store.provenance(c, &object_id(2), version).await.unwrap() {
        Provenance::Partner {
            partner,
            channel: Channel::Push,
            signature: SignatureCheck::UnknownSigner { signer: read },
        } => {
            assert_eq!(partner, "paris");
            assert_eq!(plain(&read), plain(signer));
        }
        other => panic!("{other:?}"),
    }
}
