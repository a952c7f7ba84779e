//! The store test suite: backend-neutral behaviours every [`Store`] must show.
//!
//! Each function takes a fresh, empty store opened with the given [`ManualClock`] and
//! panics on the first divergence. A backend's integration tests call every function
//! (see [`ALL`] for their names); `crates/store/tests/sqlite.rs` does so for SQLite.
// This module is test code compiled into the library behind a feature: panicking on a
// failed expectation is its purpose.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use uuid::Uuid;

use crate::ledger;
use crate::{
    AddOutcome, Channel, Cursor, DeleteFilter, Direction, Lease, LedgerEntry, LedgerQuery, Micros,
    NewAccount, NewCollection, NewLedgerEntry, NewObject, NewToken, ObjectQuery, Provenance,
    Rights, SignatureCheck, Status, StatusDetail, Store, StoreError, SyncCursor, SyncState,
    TokenHash, Version, VersionMatch,
};
use crate::{Clock, ManualClock};

/// The names of every behaviour below, so a backend's tests can check none is forgotten.
pub const ALL: &[&str] = &[
    "collections",
    "add_and_read_back",
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
    "accounts",
    "tokens",
    "rights",
    "counts",
    "concurrent_writers",
    "first_and_last_match_a_model",
    "ledger_chain_is_verified",
    "ledger_concurrent_appends",
    "received_entries_from_add_objects",
    "deleted_entries_from_delete_object",
    "cursor_saved_with_ledger_append",
    "cursor_saved_with_objects",
    "sync_attempts_and_states",
    "leases_exclusive_and_expiring",
    "leases_concurrent",
    "provenance_round_trip",
    "account_partner_link",
    "integrity_check",
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

/// A cursor given with ledger entries is saved with them, or (when they are refused)
/// not at all.
pub async fn cursor_saved_with_ledger_append(store: &dyn Store, _clock: &ManualClock) {
    let c = Uuid::from_u128(0xc011);
    let saved = || async {
        store
            .sync_cursor("paris", "remote-collection", Channel::Pull)
            .await
            .unwrap()
    };
    assert_eq!(saved().await, None);
    store
        .append_ledger(vec![disclosed(c, "paris", 1)], Some(sync_cursor("one")))
        .await
        .unwrap();
    assert_eq!(saved().await.as_deref(), Some("one"));
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
    assert_eq!(whole_ledger(store).await.len(), 1);
    store
        .append_ledger(vec![], Some(sync_cursor("three")))
        .await
        .unwrap();
    assert_eq!(saved().await.as_deref(), Some("three"));
    // Another exchange of the same partner has its own cursor.
    assert_eq!(
        store
            .sync_cursor("paris", "remote-collection", Channel::Push)
            .await
            .unwrap(),
        None
    );
}

/// A pulled page and its cursor are stored together or not at all.
pub async fn cursor_saved_with_objects(store: &dyn Store, _clock: &ManualClock) {
    let c = new_collection(store, 1).await;
    let paris = from_partner("paris", Channel::Pull, verified("identity--p"));
    let saved = || async {
        store
            .sync_cursor("paris", "remote-collection", Channel::Pull)
            .await
            .unwrap()
    };
    let out = store
        .add_objects_with_cursor(
            c,
            &paris,
            (0..5).map(|n| indicator(n, &modified(0))).collect(),
            sync_cursor("page-1"),
        )
        .await
        .unwrap();
    assert!(out.iter().all(|o| matches!(o, AddOutcome::Added { .. })));
    assert_eq!(saved().await.as_deref(), Some("page-1"));
    assert_eq!(whole_ledger(store).await.len(), 5, "received entries too");
    // A page already held still moves the cursor on.
    let out = store
        .add_objects_with_cursor(
            c,
            &paris,
            vec![indicator(0, &modified(0))],
            sync_cursor("page-2"),
        )
        .await
        .unwrap();
    assert!(matches!(out[0], AddOutcome::AlreadyPresent { .. }));
    assert_eq!(saved().await.as_deref(), Some("page-2"));
    // A page that fails leaves the cursor where it was.
    assert!(matches!(
        store
            .add_objects_with_cursor(
                Uuid::from_u128(404),
                &paris,
                vec![indicator(9, &modified(0))],
                sync_cursor("page-3"),
            )
            .await,
        Err(StoreError::NotFound {
            what: "collection",
            ..
        })
    ));
    assert_eq!(saved().await.as_deref(), Some("page-2"));
    // Any provenance may come with a cursor.
    store
        .add_objects_with_cursor(
            c,
            &account(),
            vec![indicator(10, &modified(0))],
            sync_cursor("page-4"),
        )
        .await
        .unwrap();
    assert_eq!(saved().await.as_deref(), Some("page-4"));
    assert_eq!(
        store
            .manifest(c, &ObjectQuery::default())
            .await
            .unwrap()
            .records
            .len(),
        6
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
    let paris_pull = |states: &[SyncState]| {
        states
            .iter()
            .find(|s| s.partner == "paris" && s.direction == Channel::Pull)
            .unwrap()
            .clone()
    };
    let state = paris_pull(&store.sync_states().await.unwrap());
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
        .set_sync_cursor(SyncCursor {
            partner: "paris".into(),
            collection: "c1".into(),
            direction: Channel::Pull,
            cursor: "after-5".into(),
        })
        .await
        .unwrap();
    clock.advance(10);
    attempt("paris", Channel::Pull, Ok(3)).await;
    let t3 = clock.now();
    attempt("madrid", Channel::File, Err("bad signature".into())).await;
    attempt("paris", Channel::Push, Ok(0)).await;
    let states = store.sync_states().await.unwrap();
    let state = paris_pull(&states);
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
        .set_sync_cursor(SyncCursor {
            partner: "paris".into(),
            collection: "c1".into(),
            direction: Channel::Pull,
            cursor: "after-8".into(),
        })
        .await
        .unwrap();
    let state = paris_pull(&store.sync_states().await.unwrap());
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
        .add_objects_with_cursor(
            c,
            &from_partner("paris", Channel::Push, verified("identity--p")),
            vec![indicator(200, &modified(1))],
            sync_cursor("after-200"),
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
