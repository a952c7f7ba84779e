//! Real data: MITRE ATT&CK for ICS, release 17.1 then 18.1 (new versions of
//! the same objects), posted in envelopes and read back exactly.

use serde_json::Value;

use crate::common::*;

#[tokio::test]
async fn attack_ics_releases_as_versions() {
    let node = Node::start().await;
    let old = testdata_objects("attack/ics-attack-17.1.json.gz");
    let new = testdata_objects("attack/ics-attack-18.1.json.gz");
    let status = node
        .post_ok(node.c1, &node.writer, envelope_of_bytes(&old))
        .await;
    assert_eq!(status["total_count"], old.len());
    assert_eq!(status["failure_count"], 0, "{}", status["failures"]);
    let status = node
        .post_ok(node.c1, &node.writer, envelope_of_bytes(&new))
        .await;
    assert_eq!(status["failure_count"], 0, "{}", status["failures"]);
    // Re-posting a release stores nothing new.
    let before = node.stored_versions(node.c1).await;
    node.post_ok(node.c1, &node.writer, envelope_of_bytes(&new))
        .await;
    assert_eq!(node.stored_versions(node.c1).await, before);

    // Paging through the latest versions gives exactly the 18.1 objects, byte for byte,
    // except objects that 18.1 dropped, whose 17.1 version is still their latest.
    let mut served = Vec::new();
    let mut next: Option<String> = None;
    loop {
        let mut path = format!("{}?limit=500", node.objects_path(node.c1));
        if let Some(n) = &next {
            path.push_str(&format!("&next={n}"));
        }
        let r = node.get(&path, &node.reader).await;
        assert_eq!(r.status(), 200);
        let body = r.bytes().await.unwrap();
        served.extend(objects_of(&body));
        let page: Value = serde_json::from_slice(&body).unwrap();
        match page["next"].as_str() {
            Some(n) => next = Some(n.to_owned()),
            None => break,
        }
    }
    // Every object is served exactly as one release sent it. An 18.1 object
    // whose (id, modified) was already in 17.1 is the same version: the first
    // copy stays.
    for object in &served {
        assert!(
            new.contains(object) || old.contains(object),
            "an object was not served as sent"
        );
    }
    let key = |bytes: &Vec<u8>| {
        let v: Value = serde_json::from_slice(bytes).unwrap();
        (
            v["id"].as_str().unwrap().to_owned(),
            v["modified"].as_str().map(str::to_owned),
        )
    };
    let served_keys: Vec<_> = served.iter().map(key).collect();
    for object in &new {
        assert!(
            served_keys.contains(&key(object)),
            "an 18.1 version is not the latest"
        );
    }
    let id_of = |bytes: &Vec<u8>| {
        serde_json::from_slice::<Value>(bytes).unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let mut served_ids: Vec<String> = served.iter().map(id_of).collect();
    served_ids.sort();
    served_ids.dedup();
    assert_eq!(
        served_ids.len(),
        served.len(),
        "one latest version per object"
    );

    // An object whose modified changed between the releases has two versions.
    let changed = new
        .iter()
        .map(|o| serde_json::from_slice::<Value>(o).unwrap())
        .find(|o| {
            old.iter().any(|p| {
                let p: Value = serde_json::from_slice(p).unwrap();
                p["id"] == o["id"] && p["modified"] != o["modified"]
            })
        })
        .expect("ATT&CK 18.1 changes some 17.1 objects");
    let id = changed["id"].as_str().unwrap();
    let versions = node
        .get_json(
            &format!("{}{id}/versions/", node.objects_path(node.c1)),
            &node.reader,
        )
        .await;
    let list = versions["versions"].as_array().unwrap();
    assert_eq!(list.len(), 2, "{versions}");
    assert_eq!(list[1], changed["modified"]);
    let first = node
        .get_json(
            &format!("{}{id}/?match[version]=first", node.objects_path(node.c1)),
            &node.reader,
        )
        .await;
    assert_eq!(first["objects"][0]["modified"], list[0]);
}
