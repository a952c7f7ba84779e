//! Add, read, list versions of, and delete objects; every filter.

// Test and measurement code: a failed step should stop with its message.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use reqwest::Method;
use serde_json::{Value, json};

use crate::common::*;

const V1: &str = "2020-01-01T00:00:00.000Z";
const V2: &str = "2021-06-01T12:00:00.000Z";
const V3: &str = "2022-12-31T23:59:59.999Z";

/// Three versions of indicator 1, one of indicator 2, one malware-less report of 3.
async fn three_versions(node: &Node) {
    for v in [V1, V2, V3] {
        let status = node
            .post_ok(node.c1, &node.writer, envelope(&[indicator(1, v)]))
            .await;
        assert_eq!(status["success_count"], 1);
    }
    node.post_ok(node.c1, &node.writer, envelope(&[indicator(2, V1)]))
        .await;
}

async fn list(node: &Node, q: String) -> Vec<(String, String)> {
    let path = format!("{}?{q}", node.objects_path(node.c1));
    ids(&node.get_json(&path, &node.reader).await)
}

fn ids(envelope: &Value) -> Vec<(String, String)> {
    envelope["objects"]
        .as_array()
        .map(|list| {
            list.iter()
                .map(|o| {
                    (
                        o["id"].as_str().unwrap().to_owned(),
                        o["modified"].as_str().unwrap().to_owned(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn post_answers_a_complete_status_with_each_object() {
    let node = Node::start().await;
    let bad = indicator(3, V1).replace("\"pattern_type\":\"stix\",", "");
    let status = node
        .post_ok(
            node.c1,
            &node.writer,
            envelope(&[indicator(1, V1), bad, indicator(2, V1)]),
        )
        .await;
    assert_eq!(status["status"], "complete");
    assert_eq!(status["total_count"], 3);
    assert_eq!(status["success_count"], 2);
    assert_eq!(status["failure_count"], 1);
    assert_eq!(status["pending_count"], 0);
    assert!(status.get("pendings").is_none());
    assert!(uuid::Uuid::parse_str(status["id"].as_str().unwrap()).is_ok());
    let ts = status["request_timestamp"].as_str().unwrap();
    assert_eq!(ts.len(), "2020-01-01T00:00:00.000000Z".len(), "{ts}");
    assert_eq!(
        status["successes"],
        json!([
            {"id": indicator_id(1), "version": V1},
            {"id": indicator_id(2), "version": V1}
        ])
    );
    let failure = &status["failures"][0];
    assert_eq!(failure["id"], indicator_id(3));
    assert_eq!(failure["version"], V1);
    let message = failure["message"].as_str().unwrap();
    // The validator's first error: object id, property and rule.
    assert!(message.contains(&indicator_id(3)), "{message}");
    assert!(message.contains("pattern_type"), "{message}");
    assert!(message.contains('['), "{message}");
    // Nothing of the rejected object was stored.
    assert_eq!(node.stored_versions(node.c1).await, 2);
    let r = node
        .get(
            &format!("{}{}/", node.objects_path(node.c1), indicator_id(3)),
            &node.writer,
        )
        .await;
    assert_error(r, 404).await;
}

#[tokio::test]
async fn reposting_a_stored_version_succeeds_and_stores_nothing() {
    let node = Node::start().await;
    node.post_ok(node.c1, &node.writer, envelope(&[indicator(1, V1)]))
        .await;
    let manifest_before = node
        .get_json(
            &format!("/api/collections/{}/manifest/", node.c1),
            &node.writer,
        )
        .await;
    let status = node
        .post_ok(node.c1, &node.writer, envelope(&[indicator(1, V1)]))
        .await;
    assert_eq!(status["success_count"], 1);
    assert_eq!(status["failure_count"], 0);
    assert_eq!(node.stored_versions(node.c1).await, 1);
    let manifest_after = node
        .get_json(
            &format!("/api/collections/{}/manifest/", node.c1),
            &node.writer,
        )
        .await;
    // The first copy's date_added stays.
    assert_eq!(manifest_before, manifest_after);
}

#[tokio::test]
async fn objects_are_served_byte_for_byte_with_date_headers() {
    let node = Node::start().await;
    // Unusual but valid formatting must survive: key order, spacing, number text.
    let odd = format!(
        "{{ \"modified\" : \"{V1}\", \"type\":\"indicator\",\"spec_version\":\"2.1\",\"id\":\"{}\",\"created\":\"{V1}\",\"confidence\":50,\"pattern\":\"[ipv4-addr:value = '10.0.0.9']\",\"pattern_type\":\"stix\",\"valid_from\":\"{V1}\",\"x_score\":1.50e0 }}",
        indicator_id(9)
    );
    let sent = vec![indicator(1, V1).into_bytes(), odd.into_bytes()];
    node.post_ok(node.c1, &node.writer, envelope_of_bytes(&sent))
        .await;
    let r = node.get(&node.objects_path(node.c1), &node.reader).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], TAXII);
    let first = r.headers()["x-taxii-date-added-first"]
        .to_str()
        .unwrap()
        .to_owned();
    let last = r.headers()["x-taxii-date-added-last"]
        .to_str()
        .unwrap()
        .to_owned();
    let body = r.bytes().await.unwrap();
    assert_eq!(objects_of(&body), sent);
    let parsed: Value = serde_json::from_slice(&body).unwrap();
    assert!(parsed.get("more").is_none());
    assert!(parsed.get("next").is_none());
    // The headers are the date_added of the first and last records, in microseconds.
    let manifest = node
        .get_json(
            &format!("/api/collections/{}/manifest/", node.c1),
            &node.reader,
        )
        .await;
    assert_eq!(manifest["objects"][0]["date_added"], first.as_str());
    assert_eq!(manifest["objects"][1]["date_added"], last.as_str());
    assert_eq!(first.len(), "2020-01-01T00:00:00.000000Z".len());
    assert!(first < last);
}

#[tokio::test]
async fn empty_collection_reads_as_empty_resources() {
    let node = Node::start().await;
    let r = node.get(&node.objects_path(node.c1), &node.reader).await;
    assert_eq!(r.status(), 200);
    assert!(!r.headers().contains_key("x-taxii-date-added-first"));
    assert_eq!(r.json::<Value>().await.unwrap(), json!({}));
    let manifest = node
        .get_json(
            &format!("/api/collections/{}/manifest/", node.c1),
            &node.reader,
        )
        .await;
    assert_eq!(manifest, json!({}));
}

#[tokio::test]
async fn match_version_first_last_all_and_timestamps() {
    let node = Node::start().await;
    three_versions(&node).await;
    let list = |q: &str| list(&node, q.to_owned());
    let i1 = indicator_id(1);
    let i2 = indicator_id(2);
    // Default: last version of each object, in date_added order.
    assert_eq!(
        list("").await,
        [(i1.clone(), V3.into()), (i2.clone(), V1.into())]
    );
    assert_eq!(list("match[version]=last").await, list("").await);
    assert_eq!(
        list("match[version]=first").await,
        [(i1.clone(), V1.into()), (i2.clone(), V1.into())]
    );
    assert_eq!(
        list("match[version]=all").await,
        [
            (i1.clone(), V1.into()),
            (i1.clone(), V2.into()),
            (i1.clone(), V3.into()),
            (i2.clone(), V1.into())
        ]
    );
    assert_eq!(
        list(&format!("match[version]={V2}")).await,
        [(i1.clone(), V2.into())]
    );
    // Precision does not matter: the same instant is the same version.
    assert_eq!(
        list("match[version]=2021-06-01T12:00:00Z").await,
        [(i1.clone(), V2.into())]
    );
    assert_eq!(
        list(&format!("match[version]=first,{V2}")).await,
        [
            (i1.clone(), V1.into()),
            (i1.clone(), V2.into()),
            (i2.clone(), V1.into())
        ]
    );
    assert_eq!(list("match[version]=1999-01-01T00:00:00Z").await, []);
}

#[tokio::test]
async fn match_id_type_and_spec_version() {
    let node = Node::start().await;
    three_versions(&node).await;
    let list = |q: String| list(&node, q);
    let i1 = indicator_id(1);
    let i2 = indicator_id(2);
    assert_eq!(
        list(format!("match[id]={i2}")).await,
        [(i2.clone(), V1.into())]
    );
    assert_eq!(list(format!("match[id]={i1},{i2}")).await.len(), 2);
    assert_eq!(list("match[type]=indicator".into()).await.len(), 2);
    assert_eq!(list("match[type]=malware,indicator".into()).await.len(), 2);
    assert_eq!(list("match[type]=malware".into()).await, []);
    assert_eq!(list("match[spec_version]=2.1".into()).await.len(), 2);
    assert_eq!(list("match[spec_version]=2.0".into()).await, []);
    // Unknown match fields are ignored (§3.4).
    assert_eq!(list("match[x_color]=red".into()).await.len(), 2);
    // Filters combine with AND.
    assert_eq!(
        list(format!(
            "match[id]={i1}&match[version]=all&match[type]=indicator"
        ))
        .await
        .len(),
        3
    );
}

#[tokio::test]
async fn added_after_is_exclusive_and_exact() {
    let node = Node::start().await;
    three_versions(&node).await;
    let manifest = node
        .get_json(
            &format!("/api/collections/{}/manifest/?match[version]=all", node.c1),
            &node.reader,
        )
        .await;
    let dates: Vec<String> = manifest["objects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["date_added"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(dates.len(), 4);
    let path = format!(
        "{}?match[version]=all&added_after={}",
        node.objects_path(node.c1),
        dates[1]
    );
    let after = node.get_json(&path, &node.reader).await;
    assert_eq!(ids(&after).len(), 2);
    let r = node.get(&path, &node.reader).await;
    assert_eq!(r.headers()["x-taxii-date-added-first"], dates[2].as_str());
    assert_eq!(r.headers()["x-taxii-date-added-last"], dates[3].as_str());
}

#[tokio::test]
async fn manifest_records_each_version() {
    let node = Node::start().await;
    three_versions(&node).await;
    let manifest = node
        .get_json(
            &format!(
                "/api/collections/{}/manifest/?match[version]=all&match[id]={}",
                node.c1,
                indicator_id(1)
            ),
            &node.reader,
        )
        .await;
    let records = manifest["objects"].as_array().unwrap();
    assert_eq!(records.len(), 3);
    for (record, v) in records.iter().zip([V1, V2, V3]) {
        assert_eq!(record["id"], indicator_id(1));
        assert_eq!(record["version"], v);
        assert_eq!(record["media_type"], "application/stix+json;version=2.1");
        assert!(record["date_added"].as_str().unwrap().ends_with('Z'));
    }
}

#[tokio::test]
async fn one_object_and_its_versions() {
    let node = Node::start().await;
    three_versions(&node).await;
    let base = format!("{}{}/", node.objects_path(node.c1), indicator_id(1));
    let latest = node.get_json(&base, &node.reader).await;
    assert_eq!(ids(&latest), [(indicator_id(1), V3.into())]);
    let all = node
        .get_json(&format!("{base}?match[version]=all"), &node.reader)
        .await;
    assert_eq!(ids(&all).len(), 3);
    let first = node
        .get_json(&format!("{base}?match[version]=first"), &node.reader)
        .await;
    assert_eq!(ids(&first), [(indicator_id(1), V1.into())]);
    // Only version and spec_version are match filters of this endpoint.
    assert_error(
        node.get(&format!("{base}?match[type]=indicator"), &node.reader)
            .await,
        400,
    )
    .await;

    let r = node.get(&format!("{base}versions/"), &node.reader).await;
    assert_eq!(r.status(), 200);
    assert!(r.headers().contains_key("x-taxii-date-added-first"));
    assert!(r.headers().contains_key("x-taxii-date-added-last"));
    let versions: Value = r.json().await.unwrap();
    assert_eq!(versions, json!({"versions": [V1, V2, V3]}));
    let page = node
        .get_json(&format!("{base}versions/?limit=2"), &node.reader)
        .await;
    assert_eq!(page["versions"], json!([V1, V2]));
    assert_eq!(page["more"], true);
    let next = page["next"].as_str().unwrap();
    let rest = node
        .get_json(
            &format!("{base}versions/?limit=2&next={next}"),
            &node.reader,
        )
        .await;
    assert_eq!(rest, json!({"versions": [V3]}));
    // An object that is not there.
    let missing = format!("{}{}/", node.objects_path(node.c1), indicator_id(77));
    assert_error(node.get(&missing, &node.reader).await, 404).await;
    assert_error(
        node.get(&format!("{missing}versions/"), &node.reader).await,
        404,
    )
    .await;
}

#[tokio::test]
async fn delete_removes_the_versions_asked_for() {
    let node = Node::start().await;
    three_versions(&node).await;
    let base = format!("{}{}/", node.objects_path(node.c1), indicator_id(1));
    let delete = |q: &str| {
        node.request(Method::DELETE, &format!("{base}{q}"), Some(&node.writer))
            .send()
    };
    // Without match[version], the latest version goes (§3.4.1 default).
    let r = delete("").await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], TAXII);
    let versions = node
        .get_json(&format!("{base}versions/"), &node.reader)
        .await;
    assert_eq!(versions, json!({"versions": [V1, V2]}));
    // The deleted version is a 404 afterwards (§5.7).
    assert_error(
        node.get(&format!("{base}?match[version]={V3}"), &node.reader)
            .await,
        404,
    )
    .await;
    let r = delete(&format!("?match[version]={V1}")).await.unwrap();
    assert_eq!(r.status(), 200);
    let versions = node
        .get_json(&format!("{base}versions/"), &node.reader)
        .await;
    assert_eq!(versions, json!({"versions": [V2]}));
    let r = delete("?match[version]=all").await.unwrap();
    assert_eq!(r.status(), 200);
    assert_error(node.get(&base, &node.reader).await, 404).await;
    assert_error(delete("").await.unwrap(), 404).await;
    // The other object is untouched.
    assert_eq!(node.stored_versions(node.c1).await, 1);
}

#[tokio::test]
async fn objects_without_versions_and_scos() {
    let node = Node::start().await;
    // An SCO has neither created nor modified: its version is its date_added.
    let sco = r#"{"type":"ipv4-addr","spec_version":"2.1","id":"ipv4-addr--ff26c055-6336-5bc5-b98d-13d6226742dd","value":"198.51.100.3"}"#;
    let status = node
        .post_ok(node.c1, &node.writer, envelope(&[sco.to_owned()]))
        .await;
    assert_eq!(status["success_count"], 1, "{status}");
    let version = status["successes"][0]["version"]
        .as_str()
        .unwrap()
        .to_owned();
    let manifest = node
        .get_json(
            &format!("/api/collections/{}/manifest/", node.c1),
            &node.reader,
        )
        .await;
    assert_eq!(manifest["objects"][0]["version"], version.as_str());
    assert_eq!(manifest["objects"][0]["date_added"], version.as_str());
    // Posting it again stores nothing new.
    node.post_ok(node.c1, &node.writer, envelope(&[sco.to_owned()]))
        .await;
    assert_eq!(node.stored_versions(node.c1).await, 1);
}
