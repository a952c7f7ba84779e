//! Sync exclusivity through the store's leases: several `Syncer`s on one store
//! play the processes that share a database (the node, `passerelle sync`, nodes
//! on other hosts), against a fake partner whose answers the test holds back.
//!
//! - Two syncers: while one is in a cycle with a partner, the other skips it (or,
//!   waiting, runs after it); never two requests to the partner at once.
//! - Takeover: a holder that died (a lease taken and never renewed) makes others
//!   skip until it expires by the store's clock, then the next cycle runs.
//! - A cycle whose lease another process took stops at the next page boundary; a
//!   push does not post the page it decided ahead while the page before was posted.
//!
//! The store runs on a `ManualClock`, so leases expire when the test says so.
//! Each test uses its own partner name, so log lines are told apart.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::Write;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use federation::sync::{SyncError, SyncSettings, Syncer, WhenBusy, lease_name};
use federation::{Agreement, Federation, NodeIdentity};
use store::{
    Channel, Direction, LedgerQuery, ManualClock, Micros, NewCollection, SqliteStore, Store,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::watch;

// ---------------------------------------------------------------------------
// Logs

/// Everything logged by this test process (the subscriber is global).
#[derive(Clone, Default)]
struct Logs(Arc<Mutex<Vec<u8>>>);

impl Write for Logs {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Logs {
    type Writer = Logs;

    fn make_writer(&'a self) -> Logs {
        self.clone()
    }
}

fn logs() -> &'static Logs {
    static LOGS: OnceLock<Logs> = OnceLock::new();
    LOGS.get_or_init(|| {
        let logs = Logs::default();
        let _ = tracing_subscriber::fmt()
            .with_writer(logs.clone())
            .with_ansi(false)
            .with_max_level(tracing::Level::INFO)
            .try_init();
        logs
    })
}

/// Whether a line logged about `partner` contains `message`.
fn logged(partner: &str, message: &str) -> bool {
    let text = String::from_utf8_lossy(&logs().0.lock().unwrap()).into_owned();
    let tag = format!("partner={partner}");
    text.lines()
        .any(|line| line.contains(message) && line.contains(&tag))
}

/// Polls `check` every 20 ms until it holds, for at most 20 s.
async fn wait_until(what: &str, mut check: impl AsyncFnMut() -> bool) {
    let started = Instant::now();
    while !check().await {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "gave up waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

// ---------------------------------------------------------------------------
// The partner

/// A TAXII server that answers every Get Objects with an empty page, once the
/// test opens its gate; it counts requests arrived and the most in flight at once.
struct Fake {
    url: String,
    arrived: Arc<AtomicUsize>,
    most_at_once: Arc<AtomicUsize>,
    gate: watch::Sender<bool>,
}

impl Fake {
    async fn start() -> Fake {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/", listener.local_addr().unwrap());
        let arrived = Arc::new(AtomicUsize::new(0));
        let in_flight = Arc::new(AtomicUsize::new(0));
        let most_at_once = Arc::new(AtomicUsize::new(0));
        let (gate, open) = watch::channel(false);
        let (a, f, m) = (arrived.clone(), in_flight, most_at_once.clone());
        tokio::spawn(async move {
            loop {
                let (mut stream, _) = listener.accept().await.unwrap();
                let (arrived, in_flight, most) = (a.clone(), f.clone(), m.clone());
                let mut open = open.clone();
                tokio::spawn(async move {
                    let mut head = Vec::new();
                    let mut buf = [0u8; 1024];
                    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                        match stream.read(&mut buf).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => head.extend_from_slice(&buf[..n]),
                        }
                    }
                    arrived.fetch_add(1, Ordering::SeqCst);
                    let now = in_flight.fetch_add(1, Ordering::SeqCst) + 1;
                    most.fetch_max(now, Ordering::SeqCst);
                    let _ = open.wait_for(|open| *open).await;
                    // Out of flight before the answer leaves, so the client's next
                    // request can never be counted with this one.
                    in_flight.fetch_sub(1, Ordering::SeqCst);
                    let body = b"{}";
                    let response = format!(
                        "HTTP/1.1 200 OK\r\nContent-Type: application/taxii+json;version=2.1\r\n\
                         Content-Length: {}\r\nConnection: close\r\n\r\n",
                        body.len()
                    );
                    let _ = stream.write_all(response.as_bytes()).await;
                    let _ = stream.write_all(body).await;
                });
            }
        });
        Fake {
            url,
            arrived,
            most_at_once,
            gate,
        }
    }

    fn arrived(&self) -> usize {
        self.arrived.load(Ordering::SeqCst)
    }

    fn open(&self, open: bool) {
        self.gate.send_replace(open);
    }
}

// ---------------------------------------------------------------------------
// The node

/// A SQLite store in a new temporary folder on a manual clock, holding one collection.
async fn store_with_collection(
    title: &str,
    alias: &str,
) -> (tempfile::TempDir, ManualClock, Arc<dyn Store>, uuid::Uuid) {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(Micros::parse("2026-11-20T08:00:00Z").unwrap());
    let store: Arc<dyn Store> =
        Arc::new(SqliteStore::open(dir.path(), Arc::new(clock.clone())).unwrap());
    let id = uuid::Uuid::new_v4();
    store
        .create_collection(NewCollection {
            id,
            title: title.into(),
            description: None,
            alias: Some(alias.into()),
        })
        .await
        .unwrap();
    (dir, clock, store, id)
}

/// Our federation on `store`, with one partner at `url` (token in `TOKEN`) whose
/// entry ends with `lines` (its pull or push, its agreement).
async fn federation_with(
    store: &Arc<dyn Store>,
    partner: &str,
    url: &str,
    lines: &str,
) -> Arc<Federation> {
    let them = NodeIdentity::generate("Them");
    let agreement = Agreement::from_toml(&format!(
        "[[partners]]\nname = \"{partner}\"\nidentity = \"{}\"\npublic_key = \"{}\"\n\
         url = \"{url}\"\ntoken_env = \"TOKEN\"\n{lines}\n",
        them.identity,
        them.public_key(),
    ))
    .unwrap();
    Arc::new(
        Federation::new(store.clone(), agreement, NodeIdentity::generate("Us"))
            .await
            .unwrap(),
    )
}

/// One database (several syncers on it are several processes), its clock, and a
/// partner served by a [`Fake`].
struct Node {
    store: Arc<dyn Store>,
    clock: ManualClock,
    federation: Arc<Federation>,
    partner: String,
    fake: Fake,
    _dir: tempfile::TempDir,
}

impl Node {
    async fn start(partner: &str) -> Node {
        logs();
        let (dir, clock, store, _) = store_with_collection("From the partner", "inbox").await;
        let fake = Fake::start().await;
        let federation = federation_with(
            &store,
            partner,
            &fake.url,
            r#"pull = [{ remote = "c", into = "inbox" }]"#,
        )
        .await;
        Node {
            store,
            clock,
            federation,
            partner: partner.to_owned(),
            fake,
            _dir: dir,
        }
    }

    /// Another process's syncer on this database.
    fn syncer(&self, when_busy: WhenBusy, lease_ttl: Duration) -> Arc<Syncer> {
        let settings = SyncSettings {
            lease_ttl,
            request_timeout: Duration::from_secs(30),
            ..SyncSettings::default()
        };
        Arc::new(
            Syncer::with_env(
                self.federation.clone(),
                settings,
                Arc::new(|_: &str| Some("psl_x".to_owned())),
            )
            .with_exclusive(when_busy),
        )
    }

    /// The holder of the partner's sync lease, if it is in force.
    async fn holder(&self) -> Option<String> {
        let name = lease_name(&self.partner);
        self.store
            .leases()
            .await
            .unwrap()
            .into_iter()
            .find(|lease| lease.name == name)
            .map(|lease| lease.holder)
    }
}

const TTL: Duration = Duration::from_secs(15);

fn assert_ran(report: &federation::sync::PartnerReport) {
    assert_eq!(report.skipped, None);
    assert_eq!(report.exchanges.len(), 1);
    assert!(
        report.exchanges[0].error.is_none(),
        "{}",
        report.exchanges[0]
    );
}

// ---------------------------------------------------------------------------
// Tests

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_syncers_on_one_store_never_sync_one_partner_at_once() {
    let node = Node::start("lyon-two").await;
    let partner = node.partner.clone();
    let first = node.syncer(WhenBusy::Skip, TTL);
    let second = node.syncer(WhenBusy::Skip, TTL);
    assert_ne!(first.holder(), second.holder());

    // The first is in a cycle (its request held by the partner): the second skips.
    let cycle = tokio::spawn({
        let (first, partner) = (first.clone(), partner.clone());
        async move { first.sync_partner(&partner).await.unwrap() }
    });
    wait_until("the first syncer's request", async || {
        node.fake.arrived() == 1
    })
    .await;
    let holder = node.holder().await.expect("the first holds the lease");
    assert!(holder.starts_with(first.holder()), "{holder}");
    let skipped = second.sync_partner(&partner).await.unwrap();
    let reason = skipped.skipped.expect("skipped");
    assert!(
        reason.contains("another process") && reason.contains(&partner),
        "{reason}"
    );
    assert!(reason.contains(&holder), "names the holder: {reason}");
    assert!(skipped.exchanges.is_empty());
    assert_eq!(node.fake.arrived(), 1, "the second made no request");

    // Once the first is done, the lease is free and the second runs.
    node.fake.open(true);
    assert_ran(&cycle.await.unwrap());
    assert_eq!(
        node.holder().await,
        None,
        "released at the end of the cycle"
    );
    assert_ran(&second.sync_partner(&partner).await.unwrap());
    assert_eq!(node.fake.arrived(), 2);

    // A waiting syncer (`passerelle sync`) runs after the other's cycle, not beside it.
    node.fake.open(false);
    let waiting = node.syncer(WhenBusy::Wait, TTL);
    let cycle = tokio::spawn({
        let (first, partner) = (first.clone(), partner.clone());
        async move { first.sync_partner(&partner).await.unwrap() }
    });
    wait_until("the first syncer's request", async || {
        node.fake.arrived() == 3
    })
    .await;
    let after = tokio::spawn({
        let (waiting, partner) = (waiting.clone(), partner.clone());
        async move { waiting.sync_partner(&partner).await.unwrap() }
    });
    wait_until("the waiting syncer to find the lease taken", async || {
        logged(&partner, "waiting for it to finish")
    })
    .await;
    assert_eq!(
        node.fake.arrived(),
        3,
        "it waits without calling the partner"
    );
    node.fake.open(true);
    assert_ran(&cycle.await.unwrap());
    assert_ran(&after.await.unwrap());
    assert_eq!(node.fake.arrived(), 4);
    assert_eq!(
        node.fake.most_at_once.load(Ordering::SeqCst),
        1,
        "never two requests to the partner at once"
    );
    assert_eq!(node.holder().await, None);

    // Two cycles of one syncer exclude each other too.
    node.fake.open(false);
    let cycle = tokio::spawn({
        let (first, partner) = (first.clone(), partner.clone());
        async move { first.sync_partner(&partner).await.unwrap() }
    });
    wait_until("the first syncer's request", async || {
        node.fake.arrived() == 5
    })
    .await;
    assert!(
        first
            .sync_partner(&partner)
            .await
            .unwrap()
            .skipped
            .is_some()
    );
    node.fake.open(true);
    assert_ran(&cycle.await.unwrap());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_holders_lease_is_taken_over_once_it_expires() {
    let node = Node::start("lyon-dead").await;
    let partner = node.partner.clone();
    node.fake.open(true);
    // A process took the lease and died: it never renews or releases it.
    assert!(
        node.store
            .try_lease(&lease_name(&partner), "dead-host:4242:0badf00d#1", TTL)
            .await
            .unwrap()
    );
    let syncer = node.syncer(WhenBusy::Skip, TTL);
    node.clock.advance(14_000_000);
    let report = syncer.sync_partner(&partner).await.unwrap();
    let reason = report.skipped.expect("skipped while the lease is in force");
    assert!(reason.contains("dead-host:4242:0badf00d#1"), "{reason}");
    assert_eq!(node.fake.arrived(), 0);

    // A waiting syncer waits for it to expire, by the store's clock.
    let waiting = node.syncer(WhenBusy::Wait, TTL);
    let after = tokio::spawn({
        let (waiting, partner) = (waiting.clone(), partner.clone());
        async move { waiting.sync_partner(&partner).await.unwrap() }
    });
    wait_until("the waiting syncer to find the lease taken", async || {
        logged(&partner, "waiting for it to finish")
    })
    .await;
    assert_eq!(node.fake.arrived(), 0);
    node.clock.advance(1_000_000);
    assert_ran(&after.await.unwrap());
    assert_eq!(node.fake.arrived(), 1);
    assert_eq!(node.holder().await, None);

    // Expired, it no longer keeps the skipping syncer out either.
    assert!(
        node.store
            .try_lease(&lease_name(&partner), "dead-host:4242:0badf00d#2", TTL)
            .await
            .unwrap()
    );
    assert!(
        syncer
            .sync_partner(&partner)
            .await
            .unwrap()
            .skipped
            .is_some()
    );
    node.clock.advance(15_000_000);
    assert_ran(&syncer.sync_partner(&partner).await.unwrap());
    assert_eq!(node.fake.arrived(), 2);
    assert_eq!(node.holder().await, None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cycle_whose_lease_was_taken_stops_at_the_next_page() {
    let node = Node::start("lyon-lost").await;
    let partner = node.partner.clone();
    // Short, so the renewal comes soon (every 500 ms).
    let syncer = node.syncer(WhenBusy::Skip, Duration::from_millis(1500));
    let cycle = tokio::spawn({
        let (syncer, partner) = (syncer.clone(), partner.clone());
        async move { syncer.sync_partner(&partner).await.unwrap() }
    });
    wait_until("the request", async || node.fake.arrived() == 1).await;
    // Another process takes the lease once it has expired by the store's clock (a
    // renewal may come in between and make it ours again for the next 1.5 s: then
    // the clock moves on again).
    let mut tries = 0;
    loop {
        node.clock.advance(2_000_000);
        let name = lease_name(&partner);
        if node
            .store
            .try_lease(&name, "other-host:1:00000001#1", TTL)
            .await
            .unwrap()
        {
            break;
        }
        tries += 1;
        assert!(tries < 100, "the lease could not be taken");
    }
    wait_until("the renewal to find the lease lost", async || {
        logged(&partner, "sync lease lost")
    })
    .await;
    // The page arrives: it is not stored, and the cycle stops.
    node.fake.open(true);
    let report = cycle.await.unwrap();
    assert_eq!(report.exchanges.len(), 1);
    let error = report.exchanges[0].error.as_ref().expect("stopped");
    assert!(
        matches!(error, SyncError::LeaseLost { reason, .. } if reason.contains("another process")),
        "{error}"
    );
    assert_eq!(
        report.exchanges[0].counts.pages, 0,
        "the page was not taken in"
    );
    let states = node.store.sync_states().await.unwrap();
    assert_eq!(states.len(), 1);
    assert_eq!(states[0].cursor, None, "the page's position was not saved");
    assert!(
        states[0]
            .last_error
            .as_deref()
            .is_some_and(|e| e.contains("sync lease was lost")),
        "{:?}",
        states[0]
    );
    // Its release did not free the other's lease.
    assert_eq!(
        node.holder().await.as_deref(),
        Some("other-host:1:00000001#1")
    );
}

// ---------------------------------------------------------------------------
// Push

/// A TAXII server for pushes: its API root, and a complete status for every POST,
/// the first one held back until the test opens its gate; it counts POSTs arrived.
struct PushFake {
    url: String,
    posts: Arc<AtomicUsize>,
    gate: watch::Sender<bool>,
}

impl PushFake {
    async fn start() -> PushFake {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/", listener.local_addr().unwrap());
        let posts = Arc::new(AtomicUsize::new(0));
        let (gate, open) = watch::channel(false);
        let counter = posts.clone();
        tokio::spawn(async move {
            loop {
                let (mut stream, _) = listener.accept().await.unwrap();
                let (posts, mut open) = (counter.clone(), open.clone());
                tokio::spawn(async move {
                    let mut data = Vec::new();
                    let mut buf = [0u8; 4096];
                    let head_end = loop {
                        if let Some(i) = data.windows(4).position(|w| w == b"\r\n\r\n") {
                            break i + 4;
                        }
                        match stream.read(&mut buf).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => data.extend_from_slice(&buf[..n]),
                        }
                    };
                    let head = String::from_utf8_lossy(&data[..head_end]).to_lowercase();
                    let length: usize = head
                        .lines()
                        .find_map(|l| l.strip_prefix("content-length:"))
                        .map_or(0, |v| v.trim().parse().unwrap());
                    // The whole body is read, so closing never resets the connection.
                    while data.len() < head_end + length {
                        match stream.read(&mut buf).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => data.extend_from_slice(&buf[..n]),
                        }
                    }
                    let (code, body) = if head.starts_with("post") {
                        if posts.fetch_add(1, Ordering::SeqCst) == 0 {
                            let _ = open.wait_for(|open| *open).await;
                        }
                        let status = format!(
                            r#"{{"id":"{}","status":"complete","total_count":0,"success_count":0,"failure_count":0,"pending_count":0}}"#,
                            uuid::Uuid::new_v4()
                        );
                        ("202 Accepted", status)
                    } else {
                        (
                            "200 OK",
                            r#"{"title":"fake","versions":["application/taxii+json;version=2.1"],"max_content_length":10000000}"#
                                .to_owned(),
                        )
                    };
                    let response = format!(
                        "HTTP/1.1 {code}\r\nContent-Type: application/taxii+json;version=2.1\r\n\
                         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
                        body.len()
                    );
                    let _ = stream.write_all(response.as_bytes()).await;
                });
            }
        });
        PushFake { url, posts, gate }
    }

    fn posts(&self) -> usize {
        self.posts.load(Ordering::SeqCst)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_push_whose_lease_was_taken_does_not_post_the_page_decided_ahead() {
    logs();
    let partner = "nantes-lost";
    let (_dir, clock, store, outbox) = store_with_collection("Outbox", "outbox").await;
    let fake = PushFake::start().await;
    let federation = federation_with(
        &store,
        partner,
        &fake.url,
        "push = [{ local = \"outbox\", remote = \"c\" }]\n[partners.outbound]\ncollections = [\"outbox\"]",
    )
    .await;
    // The three objects every node publishes: three pages of one.
    federation.publish().await.unwrap();
    let settings = SyncSettings {
        page_size: 1,
        lease_ttl: Duration::from_millis(1500),
        request_timeout: Duration::from_secs(30),
        ..SyncSettings::default()
    };
    let syncer = Arc::new(
        Syncer::with_env(
            federation.clone(),
            settings,
            Arc::new(|_: &str| Some("psl_x".to_owned())),
        )
        .with_exclusive(WhenBusy::Skip),
    );
    let cycle = tokio::spawn({
        let syncer = syncer.clone();
        async move { syncer.sync_partner(partner).await.unwrap() }
    });
    let disclosed = || async {
        store
            .ledger(&LedgerQuery {
                direction: Some(Direction::Disclosed),
                ..LedgerQuery::default()
            })
            .await
            .unwrap()
            .len()
    };
    // Page 1 is held at the partner; page 2 is decided (and in the ledger) meanwhile.
    wait_until("the first POST", async || fake.posts() == 1).await;
    wait_until("page 2 to be decided ahead", async || {
        disclosed().await >= 2
    })
    .await;
    // Another process takes the lease (as in the pull test above).
    let mut tries = 0;
    loop {
        clock.advance(2_000_000);
        if store
            .try_lease(&lease_name(partner), "other-host:1:00000001#1", TTL)
            .await
            .unwrap()
        {
            break;
        }
        tries += 1;
        assert!(tries < 100, "the lease could not be taken");
    }
    wait_until("the renewal to find the lease lost", async || {
        logged(partner, "sync lease lost")
    })
    .await;
    fake.gate.send_replace(true);
    let report = cycle.await.unwrap();
    assert_eq!(report.exchanges.len(), 1);
    let exchange = &report.exchanges[0];
    let error = exchange.error.as_ref().expect("stopped");
    assert!(matches!(error, SyncError::LeaseLost { .. }), "{error}");
    assert_eq!(exchange.counts.pages, 1, "page 1 was acknowledged");
    assert_eq!(fake.posts(), 1, "page 2, decided ahead, was not posted");
    assert_eq!(disclosed().await, 2, "page 3 was not decided");
    let cursor = store
        .sync_cursor(partner, &outbox.to_string(), Channel::Push)
        .await
        .unwrap();
    assert!(
        cursor.is_some_and(|c| !c.is_empty()),
        "page 1's position was saved"
    );
}
