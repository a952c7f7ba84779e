//! Credentials and permissions: no credentials, bad token, Basic, read-only,
//! read-write, write-only, no rights, admin.

use reqwest::{Method, StatusCode};

use crate::common::*;

const CHALLENGE: &str = r#"Bearer realm="passerelle", Basic realm="passerelle""#;

async fn assert_401(r: reqwest::Response) {
    assert_eq!(r.headers()["www-authenticate"], CHALLENGE);
    assert_error(r, 401).await;
}

#[tokio::test]
async fn every_endpoint_needs_credentials() {
    let node = Node::start().await;
    let obj = format!("{}{}/", node.objects_path(node.c1), indicator_id(1));
    for path in [
        "/taxii2/".to_owned(),
        "/api/".to_owned(),
        "/api/collections/".to_owned(),
        format!("/api/collections/{}/", node.c1),
        format!("/api/collections/{}/manifest/", node.c1),
        node.objects_path(node.c1),
        obj.clone(),
        format!("{obj}versions/"),
        format!("/api/status/{}/", uuid::Uuid::new_v4()),
    ] {
        let r = node.request(Method::GET, &path, None).send().await.unwrap();
        assert_401(r).await;
        let r = node
            .request(Method::GET, &path, Some("psl_not-a-real-token"))
            .send()
            .await
            .unwrap();
        assert_401(r).await;
    }
    let r = node
        .request(Method::POST, &node.objects_path(node.c1), None)
        .header("Content-Type", TAXII)
        .body(envelope(&[indicator(1, "2020-01-01T00:00:00Z")]))
        .send()
        .await
        .unwrap();
    assert_401(r).await;
    let r = node
        .request(Method::DELETE, &obj, None)
        .send()
        .await
        .unwrap();
    assert_401(r).await;
    assert_eq!(node.stored_versions(node.c1).await, 0);
}

#[tokio::test]
async fn malformed_authorization_is_401() {
    let node = Node::start().await;
    for value in ["", "Bearer", "Token abc", "Basic !!!", "Basic YWxpY2U="] {
        let r = node
            .request(Method::GET, "/taxii2/", None)
            .header("Authorization", value)
            .send()
            .await
            .unwrap();
        assert_401(r).await;
    }
}

#[tokio::test]
async fn basic_authentication_with_argon2_passwords() {
    let node = Node::start().await;
    let basic = |user: &str, password: &str| {
        node.request(Method::GET, "/api/collections/", None)
            .basic_auth(user, Some(password))
            .send()
    };
    let r = basic("alice", "wonderland").await.unwrap();
    assert_eq!(r.status(), 200);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["collections"][0]["can_write"], true);
    assert_401(basic("alice", "Wonderland").await.unwrap()).await;
    assert_401(basic("nobody-at-all", "wonderland").await.unwrap()).await;
    // An account without a password cannot use Basic.
    assert_401(basic("reader", "").await.unwrap()).await;
    // Posting with Basic records the account as provenance and owner of the status.
    let r = node
        .request(Method::POST, &node.objects_path(node.c1), None)
        .basic_auth("alice", Some("wonderland"))
        .header("Content-Type", TAXII)
        .body(envelope(&[indicator(1, "2020-01-01T00:00:00.000Z")]))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 202);
}

/// A user name holding a NUL (U+0000), which no PostgreSQL store can hold, is an unknown
/// user (401) on every backend, never a failure; so is a password holding one.
#[tokio::test]
async fn basic_credentials_with_a_nul_are_401() {
    let node = Node::start().await;
    let basic = |user: &str, password: &str| {
        node.request(Method::GET, "/api/collections/", None)
            .basic_auth(user, Some(password))
            .send()
    };
    for (user, password) in [
        ("alice\0", "wonderland"),
        ("\0alice", "wonderland"),
        ("\0", "wonderland"),
        ("al\0ice", ""),
        ("alice", "wonder\0land"),
    ] {
        assert_401(basic(user, password).await.unwrap()).await;
    }
    // Written out, so nothing in the client can alter the header.
    let r = node
        .request(Method::GET, "/api/collections/", None)
        .header("Authorization", "Basic YWxpY2UAOndvbmRlcmxhbmQ=")
        .send()
        .await
        .unwrap();
    assert_401(r).await;
    assert_eq!(basic("alice", "wonderland").await.unwrap().status(), 200);
}

/// Verified Basic credentials are remembered for a while (argon2 is slow on
/// purpose), but a changed or removed password takes effect at once.
#[tokio::test]
async fn a_changed_password_ends_remembered_basic_credentials() {
    let node = Node::start().await;
    let basic = |user: &str, password: &str| {
        node.request(Method::GET, "/api/collections/", None)
            .basic_auth(user, Some(password))
            .send()
    };
    for _ in 0..3 {
        assert_eq!(basic("alice", "wonderland").await.unwrap().status(), 200);
    }
    let new_hash = taxii::auth::hash_password("looking-glass").unwrap();
    node.store
        .set_password_hash("alice", Some(new_hash))
        .await
        .unwrap();
    assert_401(basic("alice", "wonderland").await.unwrap()).await;
    assert_eq!(basic("alice", "looking-glass").await.unwrap().status(), 200);
    node.store.set_password_hash("alice", None).await.unwrap();
    assert_401(basic("alice", "looking-glass").await.unwrap()).await;
}

#[tokio::test]
async fn read_only_accounts_read_but_may_not_write_or_delete() {
    let node = Node::start().await;
    node.post_ok(
        node.c1,
        &node.writer,
        envelope(&[indicator(1, "2020-01-01T00:00:00.000Z")]),
    )
    .await;
    let r = node.get(&node.objects_path(node.c1), &node.reader).await;
    assert_eq!(r.status(), 200);
    let body = assert_error(
        node.post(
            node.c1,
            &node.reader,
            envelope(&[indicator(2, "2020-01-01T00:00:00.000Z")]),
        )
        .await,
        403,
    )
    .await;
    assert!(
        body["description"]
            .as_str()
            .unwrap()
            .contains("may not add")
    );
    let obj = format!("{}{}/", node.objects_path(node.c1), indicator_id(1));
    let r = node
        .request(Method::DELETE, &obj, Some(&node.reader))
        .send()
        .await
        .unwrap();
    assert_error(r, 403).await;
    assert_eq!(node.stored_versions(node.c1).await, 1);
}

#[tokio::test]
async fn write_only_accounts_write_but_may_not_read_or_delete() {
    let node = Node::start().await;
    node.post_ok(
        node.c2,
        &node.write_only,
        envelope(&[indicator(1, "2020-01-01T00:00:00.000Z")]),
    )
    .await;
    let obj = format!("{}{}/", node.objects_path(node.c2), indicator_id(1));
    for path in [
        node.objects_path(node.c2),
        format!("/api/collections/{}/manifest/", node.c2),
        obj.clone(),
        format!("{obj}versions/"),
    ] {
        assert_error(node.get(&path, &node.write_only).await, 403).await;
    }
    // It may see the collection resource itself.
    let c = node
        .get_json(&format!("/api/collections/{}/", node.c2), &node.write_only)
        .await;
    assert_eq!(c["can_read"], false);
    let r = node
        .request(Method::DELETE, &obj, Some(&node.write_only))
        .send()
        .await
        .unwrap();
    assert_error(r, 403).await;
}

#[tokio::test]
async fn collections_without_rights_do_not_exist() {
    let node = Node::start().await;
    node.post_ok(
        node.c1,
        &node.writer,
        envelope(&[indicator(1, "2020-01-01T00:00:00.000Z")]),
    )
    .await;
    let obj = format!("{}{}/", node.objects_path(node.c1), indicator_id(1));
    for path in [
        format!("/api/collections/{}/", node.c1),
        "/api/collections/intel/".to_owned(),
        node.objects_path(node.c1),
        format!("/api/collections/{}/manifest/", node.c1),
        obj.clone(),
        format!("{obj}versions/"),
    ] {
        assert_error(node.get(&path, &node.nobody).await, 404).await;
    }
    assert_error(
        node.post(
            node.c1,
            &node.nobody,
            envelope(&[indicator(2, "2020-01-01T00:00:00.000Z")]),
        )
        .await,
        404,
    )
    .await;
    let r = node
        .request(Method::DELETE, &obj, Some(&node.nobody))
        .send()
        .await
        .unwrap();
    assert_error(r, 404).await;
    // The reader has no right on c2.
    assert_error(
        node.get(&node.objects_path(node.c2), &node.reader).await,
        404,
    )
    .await;
}

#[tokio::test]
async fn read_write_accounts_and_admins_do_everything() {
    let node = Node::start().await;
    for token in [&node.writer, &node.admin] {
        let status = node
            .post_ok(
                node.c1,
                token,
                envelope(&[indicator(1, "2020-01-01T00:00:00.000Z")]),
            )
            .await;
        assert_eq!(status["success_count"], 1);
        let obj = format!("{}{}/", node.objects_path(node.c1), indicator_id(1));
        assert_eq!(node.get(&obj, token).await.status(), StatusCode::OK);
        let r = node
            .request(Method::DELETE, &obj, Some(token))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
    }
    // The admin writes where no grant exists.
    node.post_ok(
        node.c2,
        &node.admin,
        envelope(&[indicator(5, "2020-01-01T00:00:00.000Z")]),
    )
    .await;
    assert_eq!(node.stored_versions(node.c2).await, 1);
}
