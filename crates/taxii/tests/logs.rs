//! What the server logs: one span per request with its id, method, path,
//! status and latency, and never a token, a password or a body.

// Test and measurement code: a failed step should stop with its message.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "http/common.rs"]
mod common;

use std::io::Write;
use std::sync::{Arc, Mutex};

use common::*;
use reqwest::Method;

#[derive(Clone, Default)]
struct Buffer(Arc<Mutex<Vec<u8>>>);

impl Write for Buffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn requests_are_logged_without_secrets() {
    let buffer = Buffer::default();
    let writer = buffer.clone();
    tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .init();

    let node = Node::start().await;
    let r = node.get("/taxii2/", &node.reader).await;
    assert_eq!(r.status(), 200);
    let request_id = r.headers()["x-request-id"].to_str().unwrap().to_owned();
    let marker = "SECRET-BODY-MARKER-7f3a";
    let body = indicator(1, "2020-01-01T00:00:00.000Z").replace("indicator 1", marker);
    node.post_ok(node.c1, &node.writer, envelope(&[body])).await;
    let r = node
        .request(Method::GET, "/api/collections/", None)
        .basic_auth("alice", Some("wonderland"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = node
        .request(Method::GET, "/api/collections/", None)
        .basic_auth("alice", Some("not-her-password"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let r = node
        .request(Method::GET, "/api/", Some("psl_forged-token-value"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);

    let logs = String::from_utf8(buffer.0.lock().unwrap().clone()).unwrap();
    for secret in [
        node.reader.as_str(),
        node.writer.as_str(),
        "psl_forged-token-value",
        "wonderland",
        "not-her-password",
        // base64 of "alice:wonderland", as sent in the header
        "YWxpY2U6d29uZGVybGFuZA",
        marker,
    ] {
        assert!(!logs.contains(secret), "the logs hold a secret: {secret}");
    }
    assert!(
        !logs.to_ascii_lowercase().contains("authorization: "),
        "{logs}"
    );
    assert!(logs.contains(&request_id), "{logs}");
    assert!(logs.contains("path=/taxii2/"), "{logs}");
    assert!(logs.contains("method=GET"), "{logs}");
    assert!(logs.contains("status=202"), "{logs}");
    assert!(logs.contains("latency="), "{logs}");
}
