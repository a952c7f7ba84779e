//! Discovery, API root, collections and status: bodies, headers, media types.

use reqwest::Method;
use serde_json::json;

use crate::common::*;

#[tokio::test]
async fn discovery_lists_the_api_root() {
    let node = Node::start().await;
    let r = node.get("/taxii2/", &node.reader).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], TAXII);
    let id = r.headers()["x-request-id"].to_str().unwrap().to_owned();
    assert!(!id.is_empty());
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(
        body,
        json!({"title": "Passerelle", "default": "/api/", "api_roots": ["/api/"]})
    );
}

#[tokio::test]
async fn request_ids_are_echoed_or_made() {
    let node = Node::start().await;
    let r = node
        .request(Method::GET, "/taxii2/", Some(&node.reader))
        .header("X-Request-Id", "client-42")
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["x-request-id"], "client-42");
    // An unusable id is replaced by a fresh one.
    let r = node
        .request(Method::GET, "/taxii2/", Some(&node.reader))
        .header("X-Request-Id", "bad id with spaces")
        .send()
        .await
        .unwrap();
    let id = r.headers()["x-request-id"].to_str().unwrap();
    assert_ne!(id, "bad id with spaces");
    assert!(uuid::Uuid::parse_str(id).is_ok());
}

#[tokio::test]
async fn api_root_advertises_version_and_max_content_length() {
    let node = Node::start().await;
    let body = node.get_json("/api/", &node.reader).await;
    assert_eq!(
        body,
        json!({
            "title": "Passerelle",
            "versions": ["application/taxii+json;version=2.1"],
            "max_content_length": 16 << 20
        })
    );
}

#[tokio::test]
async fn collections_show_only_what_the_account_may_use() {
    let node = Node::start().await;
    let admin = node.get_json("/api/collections/", &node.admin).await;
    let list = admin["collections"].as_array().unwrap();
    assert_eq!(list.len(), 2);
    // Stable order: by title.
    assert_eq!(list[0]["title"], "Drop box");
    assert_eq!(list[1]["title"], "Intel");
    for c in list {
        assert_eq!(c["can_read"], true);
        assert_eq!(c["can_write"], true);
        assert_eq!(
            c["media_types"],
            json!(["application/stix+json;version=2.1"])
        );
    }

    let reader = node.get_json("/api/collections/", &node.reader).await;
    assert_eq!(
        reader,
        json!({"collections": [{
            "id": node.c1.to_string(),
            "title": "Intel",
            "description": "Intel collection",
            "alias": "intel",
            "can_read": true,
            "can_write": false,
            "media_types": ["application/stix+json;version=2.1"]
        }]})
    );
    let writer = node.get_json("/api/collections/", &node.writer).await;
    assert_eq!(writer["collections"][0]["can_write"], true);
    let write_only = node.get_json("/api/collections/", &node.write_only).await;
    assert_eq!(write_only["collections"][0]["id"], node.c2.to_string());
    assert_eq!(write_only["collections"][0]["can_read"], false);
    assert_eq!(write_only["collections"][0]["can_write"], true);
    // No collection: the key is omitted and the body is an empty object (§5.1.1).
    assert_eq!(
        node.get_json("/api/collections/", &node.nobody).await,
        json!({})
    );
}

#[tokio::test]
async fn one_collection_by_id_or_alias() {
    let node = Node::start().await;
    let by_id = node
        .get_json(&format!("/api/collections/{}/", node.c1), &node.reader)
        .await;
    assert_eq!(by_id["id"], node.c1.to_string());
    assert_eq!(by_id["can_read"], true);
    assert_eq!(by_id["can_write"], false);
    let by_alias = node.get_json("/api/collections/intel/", &node.reader).await;
    assert_eq!(by_alias, by_id);
    // Hidden from an account without rights, as if it did not exist.
    let hidden = node
        .get(&format!("/api/collections/{}/", node.c1), &node.nobody)
        .await;
    let body = assert_error(hidden, 404).await;
    let unknown = node
        .get(
            &format!("/api/collections/{}/", uuid::Uuid::new_v4()),
            &node.nobody,
        )
        .await;
    let unknown_body = assert_error(unknown, 404).await;
    assert_eq!(body["title"], unknown_body["title"]);
}

#[tokio::test]
async fn status_is_readable_by_its_poster_and_admins_only() {
    let node = Node::start().await;
    let status = node
        .post_ok(
            node.c1,
            &node.writer,
            envelope(&[indicator(1, "2020-01-01T00:00:00.000Z")]),
        )
        .await;
    let id = status["id"].as_str().unwrap();
    let path = format!("/api/status/{id}/");
    let again = node.get_json(&path, &node.writer).await;
    assert_eq!(again, status);
    assert_eq!(node.get_json(&path, &node.admin).await, status);
    assert_error(node.get(&path, &node.reader).await, 404).await;
    assert_error(
        node.get(
            &format!("/api/status/{}/", uuid::Uuid::new_v4()),
            &node.writer,
        )
        .await,
        404,
    )
    .await;
    assert_error(node.get("/api/status/not-a-uuid/", &node.writer).await, 400).await;
}

#[tokio::test]
async fn accept_negotiation() {
    let node = Node::start().await;
    let send = |accept: Option<&'static str>, path: &'static str| {
        let mut r = node.http.get(node.url(path)).bearer_auth(&node.admin);
        if let Some(a) = accept {
            r = r.header("Accept", a);
        }
        r.send()
    };
    for ok in [
        "application/taxii+json;version=2.1",
        "application/taxii+json",
        "APPLICATION/TAXII+JSON; VERSION=2.1",
        "text/html, application/taxii+json;version=2.1;q=0.9",
        "*/*",
    ] {
        let r = send(Some(ok), "/taxii2/").await.unwrap();
        assert_eq!(r.status(), 200, "{ok}");
        assert_eq!(r.headers()["content-type"], TAXII);
    }
    // reqwest always sends an Accept header; without one, a TAXII request is refused.
    let text = raw(
        &node,
        &format!(
            "GET /taxii2/ HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\nConnection: close\r\n\r\n",
            node.admin
        ),
    )
    .await;
    assert!(text.starts_with("HTTP/1.1 406"), "{text}");
    assert!(text.contains("no Accept header"), "{text}");
    for bad in [
        Some("application/json"),
        Some("application/taxii+json;version=2.0"),
        Some("application/taxii+json;q=0"),
        Some("application/stix+json;version=2.1"),
        Some("garbage"),
    ] {
        let r = send(bad, "/taxii2/").await.unwrap();
        assert_error(r, 406).await;
    }
    // The manifest and object endpoints also take the STIX media type.
    let path = format!("/api/collections/{}/manifest/", node.c1);
    let r = node
        .http
        .get(node.url(&path))
        .bearer_auth(&node.admin)
        .header(
            "Accept",
            "application/taxii+json;version=2.1,application/stix+json;version=2.1",
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], TAXII);
    let r = node
        .http
        .get(node.url(&node.objects_path(node.c1)))
        .bearer_auth(&node.admin)
        .header("Accept", "application/stix+json;version=2.1")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}

#[tokio::test]
async fn unknown_paths_and_methods_are_taxii_errors() {
    let node = Node::start().await;
    let body = assert_error(node.get("/api/collections", &node.admin).await, 404).await;
    assert!(
        body["description"]
            .as_str()
            .unwrap()
            .contains("end with '/'")
    );
    assert_error(node.get("/other-root/", &node.admin).await, 404).await;
    assert_error(node.get("/", &node.admin).await, 404).await;
    let r = node
        .request(Method::PUT, "/api/collections/", Some(&node.admin))
        .send()
        .await
        .unwrap();
    assert!(r.headers().contains_key("allow"));
    assert_error(r, 405).await;
    let r = node
        .request(
            Method::DELETE,
            &node.objects_path(node.c1),
            Some(&node.admin),
        )
        .send()
        .await
        .unwrap();
    assert_error(r, 405).await;
    node.assert_alive().await;
}

#[tokio::test]
async fn endpoints_without_filters_refuse_parameters() {
    let node = Node::start().await;
    let body = assert_error(
        node.get("/api/collections/?limit=1", &node.admin).await,
        400,
    )
    .await;
    assert!(body["description"].as_str().unwrap().contains("limit"));
}
