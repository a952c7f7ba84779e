//! Pagination (§3.5): limit, more, next, and added_after with the
//! X-TAXII-Date-Added-Last header; the server's cap on page size.

// Test and measurement code: a failed step should stop with its message.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use serde_json::Value;
use taxii::Settings;

use crate::common::*;

async fn post_many(node: &Node, n: u32) {
    let objects: Vec<String> = (0..n)
        .map(|i| indicator(i, "2020-01-01T00:00:00.000Z"))
        .collect();
    let status = node
        .post_ok(node.c1, &node.writer, envelope(&objects))
        .await;
    assert_eq!(status["success_count"], n);
}

fn names(page: &Value) -> Vec<String> {
    page["objects"]
        .as_array()
        .map(|l| {
            l.iter()
                .map(|o| o["id"].as_str().unwrap().to_owned())
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn next_walks_every_object_once_in_order() {
    let node = Node::start().await;
    post_many(&node, 25).await;
    let mut seen = Vec::new();
    let mut next: Option<String> = None;
    let mut pages = 0;
    loop {
        let mut path = format!("{}?limit=10", node.objects_path(node.c1));
        if let Some(n) = &next {
            path.push_str(&format!("&next={n}"));
        }
        let page = node.get_json(&path, &node.reader).await;
        pages += 1;
        let got = names(&page);
        assert!(got.len() <= 10);
        seen.extend(got);
        if page["more"] == true {
            next = Some(page["next"].as_str().unwrap().to_owned());
        } else {
            assert!(page.get("next").is_none());
            break;
        }
    }
    assert_eq!(pages, 3);
    let expected: Vec<String> = (0..25).map(indicator_id).collect();
    assert_eq!(seen, expected);
}

#[tokio::test]
async fn added_after_with_the_last_header_also_pages() {
    let node = Node::start().await;
    post_many(&node, 7).await;
    let mut seen = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let mut path = format!("{}?limit=3", node.objects_path(node.c1));
        if let Some(a) = &after {
            path.push_str(&format!("&added_after={a}"));
        }
        let r = node.get(&path, &node.reader).await;
        assert_eq!(r.status(), 200);
        let last = r
            .headers()
            .get("x-taxii-date-added-last")
            .map(|v| v.to_str().unwrap().to_owned());
        let page: Value = r.json().await.unwrap();
        seen.extend(names(&page));
        if page["more"] != true {
            break;
        }
        after = last;
    }
    assert_eq!(seen, (0..7).map(indicator_id).collect::<Vec<_>>());
}

#[tokio::test]
async fn manifest_pages_with_next_too() {
    let node = Node::start().await;
    post_many(&node, 5).await;
    let path = format!("/api/collections/{}/manifest/?limit=2", node.c1);
    let page = node.get_json(&path, &node.reader).await;
    assert_eq!(page["objects"].as_array().unwrap().len(), 2);
    assert_eq!(page["more"], true);
    let next = page["next"].as_str().unwrap();
    let page2 = node
        .get_json(&format!("{path}&next={next}"), &node.reader)
        .await;
    assert_eq!(page2["objects"][0]["id"], indicator_id(2));
}

#[tokio::test]
async fn the_server_caps_the_page_size() {
    let node = Node::start_with(Settings {
        page_size_default: 3,
        page_size_max: 4,
        ..Settings::default()
    })
    .await;
    post_many(&node, 6).await;
    let default = node
        .get_json(&node.objects_path(node.c1), &node.reader)
        .await;
    assert_eq!(names(&default).len(), 3);
    assert_eq!(default["more"], true);
    let huge = node
        .get_json(
            &format!("{}?limit=1000000", node.objects_path(node.c1)),
            &node.reader,
        )
        .await;
    assert_eq!(names(&huge).len(), 4);
    assert_eq!(huge["more"], true);
}

#[tokio::test]
async fn bad_paging_values_are_400() {
    let node = Node::start().await;
    post_many(&node, 2).await;
    let base = node.objects_path(node.c1);
    for (q, needle) in [
        ("limit=0", "greater than zero"),
        ("limit=-5", "positive integer"),
        ("limit=abc", "positive integer"),
        ("limit=99999999999999999999999999", "positive integer"),
        ("limit=1&limit=2", "more than once"),
        ("next=garbage", "not a value this server gave"),
        // base64url of "v1:-1" and of "v2:5": well-formed, forged.
        ("next=djE6LTE", "not a value this server gave"),
        ("next=djI6NQ", "not a value this server gave"),
        ("added_after=yesterday", "added_after"),
        ("added_after=2020-01-01T00:00:00%2B01:00", "added_after"),
        ("added_after=2020-02-30T00:00:00Z", "added_after"),
    ] {
        let r = node.get(&format!("{base}?{q}"), &node.reader).await;
        let body = assert_error(r, 400).await;
        let description = body["description"].as_str().unwrap();
        assert!(description.contains(needle), "{q}: {description}");
    }
    node.assert_alive().await;
}
