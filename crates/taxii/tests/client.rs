//! The TAXII client over real HTTP: against this crate's server started
//! in-process (every method, paging, credentials, errors), against fake
//! servers that answer badly or not at all, and over HTTPS with a partner's
//! own CA.

// Test and measurement code: a failed step should stop with its message.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "http/common.rs"]
mod common;

use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::*;
use taxii::client::{
    ClientError, ClientOptions, Credentials, ErrorKind, Filters, Position, TaxiiClient,
};
use taxii::resources::StatusKind;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};

const V1: &str = "2020-01-01T00:00:00.000Z";
const V2: &str = "2021-06-01T12:00:00.000Z";

fn client(node: &Node, credentials: Credentials) -> TaxiiClient {
    TaxiiClient::new(ClientOptions::new(format!("{}/api/", node.base)).credentials(credentials))
        .unwrap()
}

fn bearer(token: &str) -> Credentials {
    Credentials::bearer(token)
}

#[track_caller]
fn assert_kind(e: &ClientError, expected: &str) {
    let kind = match &e.kind {
        ErrorKind::Connect(_) => "connect",
        ErrorKind::Timeout(_) => "timeout",
        ErrorKind::Transport(_) => "transport",
        ErrorKind::Http { .. } => "http",
        ErrorKind::MediaType { .. } => "media-type",
        ErrorKind::Malformed(_) => "malformed",
        ErrorKind::Argument(_) => "argument",
        ErrorKind::TooLarge { .. } => "too-large",
    };
    assert_eq!(kind, expected, "{e}");
}

#[tokio::test]
async fn every_method_against_the_node() {
    let node = Node::start().await;
    let c1 = node.c1.to_string();
    let writer = client(&node, bearer(&node.writer));

    let discovery = writer.discovery().await.unwrap();
    assert!(!discovery.title.is_empty());
    assert!(discovery.api_roots[0].ends_with("/api/"), "{discovery:?}");

    let api_root = writer.api_root().await.unwrap();
    assert!(
        api_root
            .versions
            .contains(&"application/taxii+json;version=2.1".to_owned())
    );
    assert_eq!(api_root.max_content_length, 16 << 20);

    let collections = writer.collections().await.unwrap();
    assert_eq!(collections.len(), 1);
    assert_eq!(collections[0].id, c1);
    assert!(collections[0].can_write);
    let by_alias = writer.collection("intel").await.unwrap();
    assert_eq!(by_alias, writer.collection(&c1).await.unwrap());
    assert_eq!(by_alias.title, "Intel");

    // Add: two versions of indicator 1, one of indicator 2, one refused object.
    let bad = indicator(3, V1).replace("\"pattern_type\":\"stix\",", "");
    let sent = [indicator(1, V1), indicator(2, V1), bad];
    let status = writer.add_objects(&c1, envelope(&sent)).await.unwrap();
    assert_eq!(status.status, StatusKind::Complete);
    assert_eq!(
        (
            status.total_count,
            status.success_count,
            status.failure_count
        ),
        (3, 2, 1)
    );
    assert_eq!(status.failures[0].id, indicator_id(3));
    assert_eq!(writer.status(&status.id).await.unwrap(), status);
    writer
        .add_objects(&c1, envelope(&[indicator(1, V2)]))
        .await
        .unwrap();

    let page = writer.get_objects(&c1, &Filters::default()).await.unwrap();
    assert_eq!(
        page.objects,
        [indicator(2, V1).into_bytes(), indicator(1, V2).into_bytes()]
    );
    assert!(!page.more);
    assert!(page.date_added_first.is_some() && page.date_added_last.is_some());
    let all = writer
        .get_objects(
            &c1,
            &Filters::default().versions(["all"]).types(["indicator"]),
        )
        .await
        .unwrap();
    assert_eq!(all.objects.len(), 3);
    let only_2 = writer
        .get_objects(&c1, &Filters::default().ids([indicator_id(2)]))
        .await
        .unwrap();
    assert_eq!(only_2.objects, [indicator(2, V1).into_bytes()]);

    let one = writer
        .get_object(&c1, &indicator_id(1), &Filters::default())
        .await
        .unwrap();
    assert_eq!(one.objects, [indicator(1, V2).into_bytes()]);
    let first = writer
        .get_object(
            &c1,
            &indicator_id(1),
            &Filters::default().versions(["first"]),
        )
        .await
        .unwrap();
    assert_eq!(first.objects, [indicator(1, V1).into_bytes()]);

    let manifest = writer
        .manifest(&c1, &Filters::default().versions(["all"]))
        .await
        .unwrap();
    let records: Vec<(&str, &str)> = manifest
        .objects
        .iter()
        .map(|r| (r.id.as_str(), r.version.as_str()))
        .collect();
    let (i1, i2) = (indicator_id(1), indicator_id(2));
    assert_eq!(
        records,
        [(i1.as_str(), V1), (i2.as_str(), V1), (i1.as_str(), V2)]
    );

    let versions = writer
        .versions(&c1, &indicator_id(1), &Filters::default())
        .await
        .unwrap();
    assert_eq!(versions.versions, [V1, V2]);
    let paged = writer
        .versions(&c1, &indicator_id(1), &Filters::default().limit(1))
        .await
        .unwrap();
    assert_eq!(paged.versions, [V1]);
    assert!(paged.more);

    writer
        .delete_object(&c1, &indicator_id(1), &Filters::default().versions(["all"]))
        .await
        .unwrap();
    let e = writer
        .get_object(&c1, &indicator_id(1), &Filters::default())
        .await
        .unwrap_err();
    assert_eq!(e.status(), Some(404), "{e}");
    assert_eq!(e.taxii_error().unwrap().title, "Not Found");
    let e = writer
        .delete_object(&c1, &indicator_id(1), &Filters::default())
        .await
        .unwrap_err();
    assert_eq!(e.status(), Some(404), "{e}");
}

/// Indicators with formatting a re-serialiser would not keep.
fn odd_indicator(n: u32) -> Vec<u8> {
    indicator(n, V1)
        .replacen(',', " ,\n  ", 1)
        .replace(&format!("indicator {n}"), &format!("indicator \\u00e9 {n}"))
        .into_bytes()
}

#[tokio::test]
async fn paging_2500_objects_gives_each_once_byte_for_byte() {
    let node = Node::start().await;
    let c1 = node.c1.to_string();
    let sent: Vec<Vec<u8>> = (0..2500).map(odd_indicator).collect();
    let writer = client(&node, bearer(&node.writer));
    let status = writer
        .add_objects(&c1, envelope_of_bytes(&sent))
        .await
        .unwrap();
    assert_eq!(status.success_count, 2500);

    let reader = client(&node, bearer(&node.reader));
    let filters = Filters::default().limit(1000);
    let mut pages = reader.object_pages(&c1, filters.clone(), Position::start());
    let mut received = Vec::new();
    let mut sizes = Vec::new();
    let mut after_first = None;
    while let Some(page) = pages.next_page().await.unwrap() {
        sizes.push(page.objects.len());
        assert_eq!(
            pages.position().added_after,
            page.date_added_last,
            "the position after a page is its last date added"
        );
        received.extend(page.objects);
        after_first.get_or_insert_with(|| pages.position().clone());
    }
    assert!(pages.is_finished());
    assert!(pages.next_page().await.unwrap().is_none());
    assert_eq!(sizes, [1000, 1000, 500]);
    assert_eq!(received, sent);
    let unique: HashSet<&Vec<u8>> = received.iter().collect();
    assert_eq!(unique.len(), 2500);

    // A walk resumed from the text of a saved position gives exactly the rest.
    let saved = after_first.unwrap().encode();
    let mut resumed = reader.object_pages(&c1, filters.clone(), Position::decode(&saved).unwrap());
    let mut rest = Vec::new();
    while let Some(page) = resumed.next_page().await.unwrap() {
        rest.extend(page.objects);
    }
    assert_eq!(rest, sent[1000..]);

    // From the end position, only objects added since come.
    let end = pages.position().clone();
    writer
        .add_objects(&c1, envelope(&[indicator(9999, V1)]))
        .await
        .unwrap();
    let mut later = reader.object_pages(&c1, filters, end.clone());
    let page = later.next_page().await.unwrap().unwrap();
    assert_eq!(page.objects, [indicator(9999, V1).into_bytes()]);
    assert!(later.next_page().await.unwrap().is_none());
    assert_ne!(later.position(), &end);
}

#[tokio::test]
async fn bearer_and_basic_credentials() {
    let node = Node::start().await;
    let c1 = node.c1.to_string();
    let bearer = client(&node, bearer(&node.reader));
    assert_eq!(bearer.collections().await.unwrap()[0].id, c1);
    let basic = client(&node, Credentials::basic("alice", "wonderland"));
    assert_eq!(basic.collections().await.unwrap()[0].id, c1);
    let status = basic
        .add_objects(&c1, envelope(&[indicator(1, V1)]))
        .await
        .unwrap();
    assert_eq!(status.success_count, 1);
    // Neither the client nor its options print the secrets.
    let shown = format!("{bearer:?} {basic:?}");
    assert!(
        !shown.contains(&node.reader) && !shown.contains("wonderland"),
        "{shown}"
    );
}

#[tokio::test]
async fn refusals_carry_the_taxii_error() {
    let node = Node::start().await;
    let c1 = node.c1.to_string();

    let forged = client(&node, bearer("psl_forged"));
    let e = forged.collections().await.unwrap_err();
    assert_kind(&e, "http");
    assert_eq!(e.status(), Some(401));
    assert_eq!(e.taxii_error().unwrap().title, "Unauthorized");
    assert!(!e.is_transient());
    assert!(
        e.to_string()
            .contains("HTTP 401 Unauthorized: Unauthorized: "),
        "{e}"
    );
    let wrong_password = client(&node, Credentials::basic("alice", "not-hers"));
    assert_eq!(
        wrong_password.api_root().await.unwrap_err().status(),
        Some(401)
    );
    let none = TaxiiClient::new(ClientOptions::new(format!("{}/api/", node.base))).unwrap();
    assert_eq!(none.discovery().await.unwrap_err().status(), Some(401));

    let reader = client(&node, bearer(&node.reader));
    let e = reader
        .add_objects(&c1, envelope(&[indicator(1, V1)]))
        .await
        .unwrap_err();
    assert_eq!(e.status(), Some(403), "{e}");
    assert_eq!(e.taxii_error().unwrap().title, "Forbidden");
    assert!(e.request.starts_with("POST http://"), "{}", e.request);

    let e = reader.collection(&node.c2.to_string()).await.unwrap_err();
    assert_eq!(e.status(), Some(404), "{e}");
    assert_eq!(e.taxii_error().unwrap().title, "Not Found");
    let e = reader
        .status("2d086da7-4bdc-4f91-900e-d77486753710")
        .await
        .unwrap_err();
    assert_eq!(e.status(), Some(404), "{e}");
    let e = reader
        .get_objects(&c1, &Filters::default().next("forged"))
        .await
        .unwrap_err();
    assert_eq!(e.status(), Some(400), "{e}");
    assert!(
        e.taxii_error()
            .unwrap()
            .description
            .as_deref()
            .unwrap()
            .contains("next")
    );

    // An id that would change the URL's meaning is refused before sending.
    let e = reader
        .get_object(&c1, "..", &Filters::default())
        .await
        .unwrap_err();
    assert_kind(&e, "argument");
    // Characters that mean something in a path are escaped, not interpreted.
    let e = reader
        .get_object(&c1, "indicator--x/../../status", &Filters::default())
        .await
        .unwrap_err();
    assert_eq!(e.status(), Some(400), "{e}");
}

#[tokio::test]
async fn secrets_stay_out_of_the_client_logs() {
    use tracing_subscriber::fmt::MakeWriter;
    #[derive(Clone, Default)]
    struct Buffer(Arc<Mutex<Vec<u8>>>);
    impl std::io::Write for Buffer {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    impl<'a> MakeWriter<'a> for Buffer {
        type Writer = Buffer;
        fn make_writer(&'a self) -> Buffer {
            self.clone()
        }
    }
    let buffer = Buffer::default();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(buffer.clone())
        .finish();
    // The test runtime has one thread: the server and the client log here.
    let _guard = tracing::subscriber::set_default(subscriber);
    let node = Node::start().await;
    client(&node, bearer(&node.reader))
        .collections()
        .await
        .unwrap();
    client(&node, Credentials::basic("alice", "wonderland"))
        .collections()
        .await
        .unwrap();
    let logs = String::from_utf8(buffer.0.lock().unwrap().clone()).unwrap();
    assert!(logs.contains("TAXII answer"), "{logs}");
    for secret in [node.reader.as_str(), "wonderland", "YWxpY2U6d29uZGVybGFuZA"] {
        assert!(!logs.contains(secret), "the logs hold a secret: {logs}");
    }
}

/// What a fake server does with one connection.
#[derive(Clone)]
enum Answer {
    /// Writes these bytes and closes.
    Raw(Vec<u8>),
    /// Writes these bytes (headers, say) and then keeps the connection silent.
    Stall(Vec<u8>),
}

fn http_answer(status: &str, headers: &[(&str, &str)], body: &[u8]) -> Answer {
    let mut out = format!("HTTP/1.1 {status}\r\nConnection: close\r\n");
    for (name, value) in headers {
        out.push_str(&format!("{name}: {value}\r\n"));
    }
    out.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
    let mut out = out.into_bytes();
    out.extend_from_slice(body);
    Answer::Raw(out)
}

fn taxii_answer(headers: &[(&str, &str)], body: &str) -> Answer {
    let mut all = vec![("Content-Type", TAXII)];
    all.extend_from_slice(headers);
    http_answer("200 OK", &all, body.as_bytes())
}

/// A server on 127.0.0.1 that gives its answers in order, one per connection
/// (the last one again once they run out), and records each request line.
struct FakeServer {
    addr: SocketAddr,
    requests: Arc<Mutex<Vec<String>>>,
}

impl FakeServer {
    async fn start(answers: Vec<Answer>) -> FakeServer {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let seen = requests.clone();
        tokio::spawn(async move {
            let mut n = 0;
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                let answer = answers[n.min(answers.len() - 1)].clone();
                n += 1;
                let seen = seen.clone();
                tokio::spawn(async move { serve_one(stream, answer, seen).await });
            }
        });
        FakeServer { addr, requests }
    }

    fn client(&self, timeout: Duration, max_response_bytes: u64) -> TaxiiClient {
        TaxiiClient::new(
            ClientOptions::new(format!("http://{}/api/", self.addr))
                .credentials(Credentials::bearer("psl_fake"))
                .timeout(timeout)
                .max_response_bytes(max_response_bytes),
        )
        .unwrap()
    }

    fn requests(&self) -> Vec<String> {
        self.requests.lock().unwrap().clone()
    }
}

async fn serve_one(mut stream: TcpStream, answer: Answer, seen: Arc<Mutex<Vec<String>>>) {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        match stream.read(&mut byte).await {
            Ok(1) => head.push(byte[0]),
            _ => return,
        }
    }
    let text = String::from_utf8_lossy(&head);
    seen.lock()
        .unwrap()
        .push(text.lines().next().unwrap_or("").to_owned());
    match answer {
        Answer::Raw(bytes) => {
            let _ = stream.write_all(&bytes).await;
            let _ = stream.shutdown().await;
        }
        Answer::Stall(bytes) => {
            let _ = stream.write_all(&bytes).await;
            tokio::time::sleep(Duration::from_secs(3600)).await;
        }
    }
}

#[tokio::test]
async fn bad_answers_give_the_right_error_kind() {
    let envelope_with_a_number = r#"{"objects":[{"type":"a"},{"type":"b"},{"type":"c"},42]}"#;
    let big = format!(r#"{{"objects":[{{"x":"{}"}}]}}"#, "a".repeat(5000));
    let big_unannounced = {
        // No Content-Length: the body runs to the end of the connection.
        let mut raw =
            format!("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Type: {TAXII}\r\n\r\n")
                .into_bytes();
        raw.extend_from_slice(big.as_bytes());
        Answer::Raw(raw)
    };
    let cases: Vec<(Answer, &str, &str)> = vec![
        (
            taxii_answer(&[], "{\"objects\":[{nope"),
            "malformed",
            "not valid JSON",
        ),
        (taxii_answer(&[], "garbage"), "malformed", "not valid JSON"),
        (
            taxii_answer(&[], envelope_with_a_number),
            "malformed",
            "objects[3] is not a JSON object",
        ),
        (
            taxii_answer(&[], "[]"),
            "malformed",
            "a JSON array, not an envelope",
        ),
        (
            taxii_answer(&[], r#"{"more":1}"#),
            "malformed",
            "more is a number",
        ),
        (
            taxii_answer(&[("X-TAXII-Date-Added-Last", "yesterday")], "{}"),
            "malformed",
            "X-TAXII-Date-Added-Last header 'yesterday' is not",
        ),
        (
            http_answer("200 OK", &[("Content-Type", "text/html")], b"<html></html>"),
            "media-type",
            "the answer is 'text/html'",
        ),
        (
            http_answer("200 OK", &[], b"{}"),
            "media-type",
            "the answer has no Content-Type",
        ),
        (
            http_answer(
                "200 OK",
                &[("Content-Type", "application/taxii+json;version=2.0")],
                b"{}",
            ),
            "media-type",
            "version=2.0",
        ),
        (
            taxii_answer(&[], &big),
            "too-large",
            "larger than the limit of 1024 bytes",
        ),
        (
            big_unannounced,
            "too-large",
            "larger than the limit of 1024 bytes",
        ),
        (
            http_answer(
                "502 Bad Gateway",
                &[("Content-Type", "text/html")],
                b"<h1>upstream down</h1>",
            ),
            "http",
            "HTTP 502 Bad Gateway: <h1>upstream down</h1>",
        ),
        (
            http_answer(
                "302 Found",
                &[("Location", "http://elsewhere.example/")],
                b"",
            ),
            "http",
            "HTTP 302 Found",
        ),
        (
            http_answer("200 OK", &[("Content-Type", TAXII)], b"\xff\xfe"),
            "malformed",
            "not valid JSON",
        ),
    ];
    for (answer, kind, message) in cases {
        let server = FakeServer::start(vec![answer]).await;
        let client = server.client(Duration::from_secs(10), 1024);
        let e = client
            .get_objects("c", &Filters::default())
            .await
            .unwrap_err();
        assert_kind(&e, kind);
        let text = e.to_string();
        assert!(text.contains(message), "expected '{message}' in: {text}");
        assert!(
            text.starts_with(&format!(
                "GET http://{}/api/collections/c/objects/",
                server.addr
            )),
            "{text}"
        );
    }

    // A resource that is JSON but not the resource asked for.
    let server = FakeServer::start(vec![taxii_answer(&[], r#"{"title": 5}"#)]).await;
    let e = server
        .client(Duration::from_secs(10), 1024)
        .api_root()
        .await
        .unwrap_err();
    assert_kind(&e, "malformed");
    assert!(
        e.to_string().contains("not a TAXII api-root resource"),
        "{e}"
    );
}

#[tokio::test]
async fn silence_past_the_timeout_is_a_timeout() {
    for answer in [
        Answer::Stall(Vec::new()),
        // Headers arrive, the body never does.
        Answer::Stall(
            format!("HTTP/1.1 200 OK\r\nContent-Type: {TAXII}\r\nContent-Length: 100\r\n\r\n{{")
                .into_bytes(),
        ),
    ] {
        let server = FakeServer::start(vec![answer]).await;
        let started = std::time::Instant::now();
        let e = server
            .client(Duration::from_millis(300), 1 << 20)
            .get_objects("c", &Filters::default())
            .await
            .unwrap_err();
        assert_kind(&e, "timeout");
        assert!(e.is_transient());
        assert!(started.elapsed() < Duration::from_secs(5));
    }
}

#[tokio::test]
async fn connection_refused_is_a_transport_error() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let client = TaxiiClient::new(ClientOptions::new(format!("http://{addr}/api/"))).unwrap();
    let e = client.discovery().await.unwrap_err();
    assert_kind(&e, "connect");
    assert!(e.is_transient());
    assert!(e.to_string().to_lowercase().contains("refused"), "{e}");
}

#[tokio::test]
async fn the_walk_survives_errors_and_pages_without_next() {
    let t1 = "2024-01-01T00:00:00.000001Z";
    let t2 = "2024-01-01T00:00:00.000002Z";
    let server = FakeServer::start(vec![
        // more, no next: the walk goes on with added_after.
        taxii_answer(
            &[
                ("X-TAXII-Date-Added-First", t1),
                ("X-TAXII-Date-Added-Last", t1),
            ],
            r#"{"more":true,"objects":[{"id":"a"}]}"#,
        ),
        http_answer("503 Service Unavailable", &[], b""),
        taxii_answer(
            &[
                ("X-TAXII-Date-Added-First", t2),
                ("X-TAXII-Date-Added-Last", t2),
            ],
            r#"{"more":true,"next":"n2","objects":[{"id":"b"}]}"#,
        ),
        taxii_answer(&[], r#"{"more":false}"#),
    ])
    .await;
    let client = server.client(Duration::from_secs(10), 1 << 20);
    let mut pages = client.object_pages("c", Filters::default().limit(1), Position::start());
    let page = pages.next_page().await.unwrap().unwrap();
    assert_eq!(page.objects, [br#"{"id":"a"}"#.to_vec()]);
    assert_eq!(pages.position().added_after.as_deref(), Some(t1));
    let e = pages.next_page().await.unwrap_err();
    assert_eq!(e.status(), Some(503));
    assert!(e.is_transient());
    // The failure changed nothing: the same request goes again.
    assert_eq!(pages.position().added_after.as_deref(), Some(t1));
    let page = pages.next_page().await.unwrap().unwrap();
    assert_eq!(page.objects, [br#"{"id":"b"}"#.to_vec()]);
    assert_eq!(pages.position().added_after.as_deref(), Some(t2));
    let page = pages.next_page().await.unwrap().unwrap();
    assert!(page.objects.is_empty());
    assert!(pages.is_finished());
    // An empty last page leaves the position where it was.
    assert_eq!(pages.position().added_after.as_deref(), Some(t2));
    let requests = server.requests();
    let t1_encoded = t1.replace(':', "%3A");
    assert_eq!(
        requests,
        [
            "GET /api/collections/c/objects/?limit=1 HTTP/1.1".to_owned(),
            format!("GET /api/collections/c/objects/?added_after={t1_encoded}&limit=1 HTTP/1.1"),
            format!("GET /api/collections/c/objects/?added_after={t1_encoded}&limit=1 HTTP/1.1"),
            format!(
                "GET /api/collections/c/objects/?added_after={t1_encoded}&limit=1&next=n2 HTTP/1.1"
            ),
        ]
    );

    // A server that says more but gives no way on stops the walk with an error.
    let server =
        FakeServer::start(vec![taxii_answer(&[], r#"{"more":true,"objects":[{}]}"#)]).await;
    let client = server.client(Duration::from_secs(10), 1 << 20);
    let mut pages = client.object_pages("c", Filters::default(), Position::start());
    let e = pages.next_page().await.unwrap_err();
    assert_kind(&e, "malformed");
    assert!(
        e.to_string()
            .contains("neither next nor X-TAXII-Date-Added-Last"),
        "{e}"
    );
    // One that says more, with the same next, and nothing in the page, too.
    let server = FakeServer::start(vec![taxii_answer(&[], r#"{"more":true,"next":"same"}"#)]).await;
    let client = server.client(Duration::from_secs(10), 1 << 20);
    let mut pages = client.object_pages("c", Filters::default().next("same"), Position::start());
    let e = pages.next_page().await.unwrap_err();
    assert!(e.to_string().contains("same request again"), "{e}");
}

/// A TLS listener for `axum::serve` (handshakes one after the other: enough
/// for a test).
struct TlsListener {
    tcp: TcpListener,
    acceptor: tokio_rustls::TlsAcceptor,
}

impl axum::serve::Listener for TlsListener {
    type Io = tokio_rustls::server::TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            let Ok((tcp, addr)) = self.tcp.accept().await else {
                continue;
            };
            if let Ok(tls) = self.acceptor.accept(tcp).await {
                return (tls, addr);
            }
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        self.tcp.local_addr()
    }
}

#[tokio::test]
async fn https_with_the_partners_own_certificate() {
    use store::{NewAccount, NewToken, SqliteStore, Store, SystemClock};

    let certified = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(
        vec![certified.cert.der().clone()],
        rustls::pki_types::PrivateKeyDer::Pkcs8(certified.signing_key.serialize_der().into()),
    )
    .unwrap();

    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(SystemClock);
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(dir.path(), clock.clone()).unwrap());
    store
        .create_account(NewAccount {
            name: "paris".into(),
            admin: true,
        })
        .await
        .unwrap();
    let token = taxii::auth::generate_token();
    store
        .add_token(
            "paris",
            NewToken {
                name: "t".into(),
                hash: taxii::auth::token_hash(&token),
            },
        )
        .await
        .unwrap();
    let listener = TlsListener {
        tcp: TcpListener::bind("127.0.0.1:0").await.unwrap(),
        acceptor: tokio_rustls::TlsAcceptor::from(Arc::new(config)),
    };
    let port = listener.tcp.local_addr().unwrap().port();
    let state = taxii::AppState::new(store, clock, taxii::Settings::default());
    tokio::spawn(async move { axum::serve(listener, taxii::router(state)).await });

    let api_root = format!("https://localhost:{port}/api/");
    let trusting = TaxiiClient::new(
        ClientOptions::new(&api_root)
            .credentials(Credentials::bearer(&token))
            .trust_ca_pem(certified.cert.pem()),
    )
    .unwrap();
    let discovery = trusting.discovery().await.unwrap();
    assert!(discovery.api_roots[0].ends_with("/api/"), "{discovery:?}");
    assert!(trusting.collections().await.unwrap().is_empty());
    // Only that CA, without the built-in roots, works as well.
    let pinned = TaxiiClient::new(
        ClientOptions::new(&api_root)
            .credentials(Credentials::bearer(&token))
            .trust_ca_pem(certified.cert.pem())
            .builtin_roots(false),
    )
    .unwrap();
    pinned.api_root().await.unwrap();

    // Without it the certificate is refused at connection time.
    let plain =
        TaxiiClient::new(ClientOptions::new(&api_root).credentials(Credentials::bearer(&token)))
            .unwrap();
    let e = plain.discovery().await.unwrap_err();
    assert_kind(&e, "connect");
    assert!(e.to_string().to_lowercase().contains("certificate"), "{e}");

    // A CA option that holds no certificate is refused when the client is made.
    let e = TaxiiClient::new(ClientOptions::new(&api_root).trust_ca_pem("not a PEM")).unwrap_err();
    assert!(e.to_string().starts_with("trusted CA certificate: "), "{e}");
}

#[tokio::test]
async fn options_are_checked_when_the_client_is_made() {
    let e = TaxiiClient::new(ClientOptions::new("http://partner.example/api/")).unwrap_err();
    assert!(e.to_string().contains("in clear"), "{e}");
    TaxiiClient::new(ClientOptions::new("http://partner.example/api/").allow_plain_http(true))
        .unwrap();
    let e = TaxiiClient::new(
        ClientOptions::new("https://partner.example/api/")
            .credentials(Credentials::bearer("a\r\nb")),
    )
    .unwrap_err();
    assert!(e.to_string().starts_with("credentials: "), "{e}");
    let client = TaxiiClient::new(ClientOptions::new("https://partner.example/api")).unwrap();
    assert_eq!(
        client.api_root_url().as_str(),
        "https://partner.example/api/"
    );
}
