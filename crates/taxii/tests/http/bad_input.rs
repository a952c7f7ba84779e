//! Hostile and broken input: each gets a clear TAXII error, nothing from a
//! rejected object is stored, nothing stored is lost, the server keeps serving.

use reqwest::Method;
use taxii::Settings;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

use crate::common::*;

const V: &str = "2020-01-01T00:00:00.000Z";

async fn with_one_stored() -> Node {
    let node = Node::start_with(Settings {
        max_content_length: 64 * 1024,
        ..Settings::default()
    })
    .await;
    node.post_ok(node.c1, &node.writer, envelope(&[indicator(1, V)]))
        .await;
    node
}

async fn assert_intact(node: &Node) {
    assert_eq!(node.stored_versions(node.c1).await, 1);
    let obj = format!("{}{}/", node.objects_path(node.c1), indicator_id(1));
    assert_eq!(node.get(&obj, &node.reader).await.status(), 200);
    node.assert_alive().await;
}

#[tokio::test]
async fn malformed_bodies_are_422_and_store_nothing() {
    let node = with_one_stored().await;
    let good = indicator(2, V);
    for body in [
        b"".to_vec(),
        b"{".to_vec(),
        b"not json at all".to_vec(),
        b"[]".to_vec(),
        format!("[{good}]").into_bytes(),
        good.clone().into_bytes(),
        format!(r#"{{"objects":[{good}"#).into_bytes(),
        format!(r#"{{"objects":[{good}]}} trailing"#).into_bytes(),
        b"\xff\xfe\x00{".to_vec(),
    ] {
        let r = node.post(node.c1, &node.writer, body.clone()).await;
        let error = assert_error(r, 422).await;
        assert!(
            error["description"].as_str().unwrap().contains("envelope"),
            "{error}"
        );
    }
    assert_intact(&node).await;
}

#[tokio::test]
async fn content_type_must_be_taxii() {
    let node = with_one_stored().await;
    let body = envelope(&[indicator(2, V)]);
    for content_type in [
        Some("application/json"),
        Some("application/stix+json;version=2.1"),
        Some("application/taxii+json;version=2.0"),
        Some("text/plain"),
        None,
    ] {
        let mut r = node
            .request(
                Method::POST,
                &node.objects_path(node.c1),
                Some(&node.writer),
            )
            .body(body.clone());
        if let Some(ct) = content_type {
            r = r.header("Content-Type", ct);
        }
        assert_error(r.send().await.unwrap(), 415).await;
    }
    // Without version: the latest, 2.1.
    let r = node
        .request(
            Method::POST,
            &node.objects_path(node.c1),
            Some(&node.writer),
        )
        .header("Content-Type", "application/taxii+json")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 202);
    assert_eq!(node.stored_versions(node.c1).await, 2);
}

#[tokio::test]
async fn oversized_bodies_are_413_announced_or_not() {
    let node = with_one_stored().await;
    let many: Vec<String> = (10..400).map(|i| indicator(i, V)).collect();
    let body = envelope(&many);
    assert!(body.len() > 64 * 1024);
    let error = assert_error(node.post(node.c1, &node.writer, body.clone()).await, 413).await;
    assert!(error["description"].as_str().unwrap().contains("65536"));

    // Chunked, with no Content-Length: cut off at the limit all the same.
    let address = node.base.trim_start_matches("http://").to_owned();
    let mut stream = tokio::net::TcpStream::connect(&address).await.unwrap();
    let head = format!(
        "POST {} HTTP/1.1\r\nHost: {address}\r\nAuthorization: Bearer {}\r\nAccept: {TAXII}\r\nContent-Type: {TAXII}\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n",
        node.objects_path(node.c1),
        node.writer
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    for chunk in body.chunks(8192) {
        let sent = async {
            stream
                .write_all(format!("{:x}\r\n", chunk.len()).as_bytes())
                .await?;
            stream.write_all(chunk).await?;
            stream.write_all(b"\r\n").await
        };
        if sent.await.is_err() {
            break; // the server may close once it has answered
        }
    }
    let _ = stream.write_all(b"0\r\n\r\n").await;
    let mut response = Vec::new();
    let _ = stream.read_to_end(&mut response).await;
    let text = String::from_utf8_lossy(&response);
    assert!(text.starts_with("HTTP/1.1 413"), "{text}");
    assert!(text.contains(TAXII), "{text}");
    assert_intact(&node).await;
}

#[tokio::test]
async fn bad_objects_fail_alone() {
    let node = with_one_stored().await;
    let deep = format!(
        r#"{{"type":"indicator","id":"{}","x":{}{}}}"#,
        indicator_id(3),
        "[".repeat(200),
        "]".repeat(200)
    );
    let mut utf8 =
        br#"{"type":"indicator","id":"indicator--00000004-0000-4000-8000-000000000000","name":""#
            .to_vec();
    utf8.extend_from_slice(b"\xc3\x28");
    utf8.extend_from_slice(br#""}"#);
    let huge_string = indicator(5, V).replace(
        "\"name\":\"indicator 5\"",
        &format!("\"name\":\"{}\"", "A".repeat(40_000)),
    );
    let duplicate_keys = indicator(6, V).replace("\"name\":", "\"type\":\"indicator\",\"name\":");
    let no_id = r#"{"type":"indicator","spec_version":"2.1"}"#.to_owned();
    let mut body = b"{\"objects\":[".to_vec();
    for (i, o) in [
        deep.into_bytes(),
        utf8,
        huge_string.into_bytes(),
        duplicate_keys.into_bytes(),
        no_id.into_bytes(),
        indicator(7, V).into_bytes(),
    ]
    .iter()
    .enumerate()
    {
        if i > 0 {
            body.push(b',');
        }
        body.extend_from_slice(o);
    }
    body.extend_from_slice(b"]}");
    let status = node.post_ok(node.c1, &node.writer, body).await;
    assert_eq!(status["total_count"], 6);
    assert_eq!(status["failure_count"], 4, "{status}");
    // A 40 kB name breaks no rule: that object is stored like the last one.
    assert_eq!(status["success_count"], 2);
    assert_eq!(status["successes"][0]["id"], indicator_id(5));
    assert_eq!(status["successes"][1]["id"], indicator_id(7));
    let failures = status["failures"].as_array().unwrap();
    let message = |i: usize| failures[i]["message"].as_str().unwrap().to_owned();
    assert_eq!(failures[0]["id"], "objects[0]");
    assert!(message(0).contains("deeper"), "{}", message(0));
    assert!(message(1).contains("UTF-8"), "{}", message(1));
    assert!(message(2).contains("duplicate key"), "{}", message(2));
    assert_eq!(failures[3]["id"], "objects[4]");
    assert_eq!(node.stored_versions(node.c1).await, 3);
    node.assert_alive().await;
}

#[tokio::test]
async fn ids_with_path_characters_are_refused() {
    let node = with_one_stored().await;
    let objects = node.objects_path(node.c1);
    for id in [
        "indicator--..%2F..%2Fetc%2Fpasswd",
        "..%2F..",
        "indicator%2F--00000001-0000-4000-8000-000000000000",
        "indicator--00000001-0000-4000-8000-000000000000%00",
        "indicator--00000001-0000-4000-8000-00000000000%5C",
    ] {
        let r = node.get(&format!("{objects}{id}/"), &node.reader).await;
        let body = assert_error(r, 400).await;
        assert!(
            body["description"]
                .as_str()
                .unwrap()
                .contains("not a STIX identifier"),
            "{body}"
        );
        let r = node
            .request(
                Method::DELETE,
                &format!("{objects}{id}/"),
                Some(&node.writer),
            )
            .send()
            .await
            .unwrap();
        assert_error(r, 400).await;
    }
    let r = node
        .get(&format!("{objects}?match[id]=..%2F..%2Fetc"), &node.reader)
        .await;
    assert_error(r, 400).await;
    // A collection path segment that is not a collection is just unknown.
    for c in [
        "..%2F..",
        "%2Fetc%2Fpasswd",
        "intel%00",
        "no-such-collection",
    ] {
        let r = node
            .get(&format!("/api/collections/{c}/objects/"), &node.admin)
            .await;
        assert_error(r, 404).await;
    }
    // Invalid UTF-8 in a path segment.
    let r = node.get("/api/collections/%FF%FE/", &node.admin).await;
    assert_error(r, 400).await;
    assert_intact(&node).await;
}

/// A NUL (U+0000) wherever a request names something, which a PostgreSQL store cannot
/// hold: refused or unknown exactly as on SQLite, never a 500, and nothing changes.
#[tokio::test]
async fn nul_characters_in_names_and_filters_are_refused_or_unknown() {
    let node = with_one_stored().await;
    let objects = node.objects_path(node.c1);
    let manifest = format!("/api/collections/{}/manifest/", node.c1);
    let id = indicator_id(1);
    for (url, status) in [
        (format!("{objects}?match[id]={id}%00"), 400),
        (format!("{objects}?match[id]=%00"), 400),
        (format!("{objects}?match[id]={id},{id}%00"), 400),
        (format!("{manifest}?match[id]={id}%00"), 400),
        (format!("{objects}?match[type]=indicator%00"), 400),
        (format!("{objects}?match[type]=indicator,%00"), 400),
        (format!("{manifest}?match[type]=%00"), 400),
        (format!("{objects}?match[spec_version]=2.1%00"), 400),
        (format!("{objects}?match[version]=last%00"), 400),
        (format!("{objects}{id}/?match[version]=%00"), 400),
        (format!("{objects}{id}%00/versions/"), 400),
        ("/api/collections/%00/".to_owned(), 404),
        ("/api/collections/intel%00/manifest/".to_owned(), 404),
        ("/api/collections/%00intel/objects/".to_owned(), 404),
        ("/api/status/%00/".to_owned(), 400),
    ] {
        let r = node.get(&url, &node.admin).await;
        assert_error(r, status).await;
    }
    // An unknown match field is ignored (§3.4), whatever its value.
    let r = node
        .get(&format!("{objects}?match[x_color]=%00"), &node.reader)
        .await;
    assert_eq!(r.status(), 200);
    let r = node
        .request(
            Method::DELETE,
            &format!("{objects}{id}/?match[spec_version]=%00"),
            Some(&node.admin),
        )
        .send()
        .await
        .unwrap();
    assert_error(r, 400).await;
    assert_intact(&node).await;
}

#[tokio::test]
async fn bad_filter_values_are_400() {
    let node = with_one_stored().await;
    let base = node.objects_path(node.c1);
    for q in [
        "match[version]=newest",
        "match[version]=all,last",
        "match[version]=first,first",
        "match[type]=Indicator",
        "match[type]=",
        "match[spec_version]=two",
        "match[id]=not-an-id",
        "added_after=2020-01-01T00:00:00Z&added_after=2021-01-01T00:00:00Z",
        "unknown=1",
        "limit=%ZZ",
    ] {
        assert_error(node.get(&format!("{base}?{q}"), &node.reader).await, 400).await;
    }
    assert_intact(&node).await;
}

#[tokio::test]
async fn unknown_collections_are_404_for_every_endpoint() {
    let node = with_one_stored().await;
    let unknown = uuid::Uuid::new_v4();
    for path in [
        format!("/api/collections/{unknown}/"),
        format!("/api/collections/{unknown}/objects/"),
        format!("/api/collections/{unknown}/manifest/"),
        format!("/api/collections/{unknown}/objects/{}/", indicator_id(1)),
        format!(
            "/api/collections/{unknown}/objects/{}/versions/",
            indicator_id(1)
        ),
    ] {
        assert_error(node.get(&path, &node.admin).await, 404).await;
    }
    assert_error(
        node.post(unknown, &node.admin, envelope(&[indicator(2, V)]))
            .await,
        404,
    )
    .await;
    assert_intact(&node).await;
}
