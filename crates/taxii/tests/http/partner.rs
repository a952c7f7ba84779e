//! Accounts tied to a partner go through the server's `PartnerGate`: reads
//! serve only what it discloses (with its bytes), manifests and versions list
//! only what it keeps, withheld objects are 404s, paging stays exact, and
//! posted objects are stored, quarantined or refused as its receipts say.
//! Accounts without a partner never reach the gate. The gate here is a fake
//! that withholds by id or version and marks the bytes it serves.

// Test and measurement code: a failed step should stop with its message.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use reqwest::Method;
use serde_json::Value;
use store::{
    Channel, Direction, LedgerQuery, NewCollection, NewObject, ObjectRecord, Provenance, Rights,
    SignatureCheck, Version,
};
use taxii::partner::{GateError, GateFuture, PartnerGate, Receipt};
use uuid::Uuid;

use crate::common::*;

const V1: &str = "2020-01-01T00:00:00.000Z";
const V2: &str = "2021-01-01T00:00:00.000Z";
/// Where the fake gate quarantines.
const QUARANTINE: Uuid = Uuid::from_u128(0x0000_0000_0000_4000_8000_0000_0000_0e01);
const SIGNER: &str = "identity--00000000-0000-4000-8000-0000000000aa";

/// One version `disclose` let go: partner, id, version, bytes served.
type Disclosed = (String, String, String, Vec<u8>);

/// Withholds every version of `ids` and the `versions` listed; serves the rest
/// with `"x_served_to":"<partner>"` added. Receives by object id: `reject` and
/// `quarantine` as named, everything else accepted as verified.
#[derive(Default)]
struct FakeGate {
    ids: HashSet<String>,
    versions: HashSet<(String, String)>,
    reject: HashSet<String>,
    quarantine: HashSet<String>,
    /// (partner, id, version, bytes) of everything `disclose` let go.
    disclosed: Mutex<Vec<Disclosed>>,
    visible_calls: AtomicUsize,
    receive_calls: AtomicUsize,
}

impl FakeGate {
    fn keep(
        &self,
        partner: &str,
        records: Vec<ObjectRecord>,
    ) -> Result<Vec<ObjectRecord>, GateError> {
        if partner == "ghost" {
            return Err(GateError::UnknownPartner {
                partner: partner.to_owned(),
            });
        }
        let mut out = Vec::new();
        for mut record in records {
            if record.provenance.is_none() {
                return Err(GateError::Failed(format!(
                    "{} came without its provenance",
                    record.id
                )));
            }
            let version = record.version.as_str().to_owned();
            if self.ids.contains(&record.id)
                || self.versions.contains(&(record.id.clone(), version))
            {
                continue;
            }
            let mut bytes = format!("{{\"x_served_to\":\"{partner}\",").into_bytes();
            bytes.extend_from_slice(&record.bytes[1..]);
            record.bytes = bytes;
            out.push(record);
        }
        Ok(out)
    }

    fn disclosed(&self) -> Vec<Disclosed> {
        self.disclosed.lock().unwrap().clone()
    }
}

impl PartnerGate for FakeGate {
    fn disclose<'a>(
        &'a self,
        partner: &'a str,
        _collection: Uuid,
        records: Vec<ObjectRecord>,
    ) -> GateFuture<'a, Vec<ObjectRecord>> {
        Box::pin(async move {
            let kept = self.keep(partner, records)?;
            self.disclosed.lock().unwrap().extend(kept.iter().map(|r| {
                (
                    partner.to_owned(),
                    r.id.clone(),
                    r.version.as_str().to_owned(),
                    r.bytes.clone(),
                )
            }));
            Ok(kept)
        })
    }

    fn visible<'a>(
        &'a self,
        partner: &'a str,
        _collection: Uuid,
        records: Vec<ObjectRecord>,
    ) -> GateFuture<'a, Vec<ObjectRecord>> {
        Box::pin(async move {
            self.visible_calls.fetch_add(1, Ordering::SeqCst);
            self.keep(partner, records)
        })
    }

    fn receive<'a>(
        &'a self,
        partner: &'a str,
        objects: &'a [NewObject],
    ) -> GateFuture<'a, Vec<Receipt>> {
        Box::pin(async move {
            self.receive_calls.fetch_add(1, Ordering::SeqCst);
            Ok(objects
                .iter()
                .map(|o| {
                    let provenance = |signature| Provenance::Partner {
                        partner: partner.to_owned(),
                        channel: Channel::Push,
                        signature,
                    };
                    if self.reject.contains(&o.id) {
                        Receipt::Reject {
                            reason: format!("{} refused by the test agreement", o.id),
                        }
                    } else if self.quarantine.contains(&o.id) {
                        Receipt::Quarantine {
                            collection: QUARANTINE,
                            provenance: provenance(SignatureCheck::Invalid {
                                signer: SIGNER.into(),
                            }),
                            reason: "its signature does not verify".into(),
                        }
                    } else {
                        Receipt::Accept {
                            provenance: provenance(SignatureCheck::Verified {
                                signer: SIGNER.into(),
                            }),
                        }
                    }
                })
                .collect())
        })
    }
}

/// An account tied to `partner`, with read and write rights on `c1`.
async fn partner_account(node: &Node, name: &str, partner: &str) -> String {
    let token = token_for(&node.store, name, false).await;
    node.store
        .set_account_partner(name, Some(partner.into()))
        .await
        .unwrap();
    node.store
        .set_rights(
            name,
            node.c1,
            Rights {
                read: true,
                write: true,
            },
        )
        .await
        .unwrap();
    token
}

/// (id, version) of each object of an envelope.
fn listed(envelope: &Value) -> Vec<(String, String)> {
    envelope["objects"]
        .as_array()
        .map(|l| {
            l.iter()
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

/// (id, version) of each record of a manifest.
fn manifest_listed(manifest: &Value) -> Vec<(String, String)> {
    manifest["objects"]
        .as_array()
        .map(|l| {
            l.iter()
                .map(|o| {
                    (
                        o["id"].as_str().unwrap().to_owned(),
                        o["version"].as_str().unwrap().to_owned(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

fn iv(n: u32, version: &str) -> (String, String) {
    (indicator_id(n), version.to_owned())
}

/// date_added of every version, as the admin's manifest gives it.
async fn dates_added(node: &Node) -> HashMap<(String, String), String> {
    let manifest = node
        .get_json(
            &format!("/api/collections/{}/manifest/?match[version]=all", node.c1),
            &node.admin,
        )
        .await;
    manifest["objects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| {
            (
                (
                    o["id"].as_str().unwrap().to_owned(),
                    o["version"].as_str().unwrap().to_owned(),
                ),
                o["date_added"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// indicator 0 (withheld), 1 (first version only), 2 (both), 3 (one version).
fn gate_for_four() -> FakeGate {
    FakeGate {
        ids: HashSet::from([indicator_id(0)]),
        versions: HashSet::from([iv(1, V2)]),
        ..FakeGate::default()
    }
}

async fn four_indicators(node: &Node) {
    let first: Vec<String> = (0..4).map(|n| indicator(n, V1)).collect();
    node.post_ok(node.c1, &node.writer, envelope(&first)).await;
    let second: Vec<String> = (0..3).map(|n| indicator(n, V2)).collect();
    node.post_ok(node.c1, &node.writer, envelope(&second)).await;
}

#[tokio::test]
async fn a_partner_reads_only_what_the_gate_discloses_with_its_bytes() {
    let gate = Arc::new(gate_for_four());
    let node = Node::start_with_gate(gate.clone()).await;
    four_indicators(&node).await;
    let paris = partner_account(&node, "paris-node", "paris").await;
    let objects = node.objects_path(node.c1);

    // The latest versions: 0 is withheld, and so is 1's latest.
    let latest = node.get_json(&objects, &paris).await;
    assert_eq!(listed(&latest), [iv(3, V1), iv(2, V2)]);
    let all = node
        .get_json(&format!("{objects}?match[version]=all"), &paris)
        .await;
    assert_eq!(listed(&all), [iv(1, V1), iv(2, V1), iv(3, V1), iv(2, V2)]);
    // The bytes served are the gate's, and the gate saw each one it served.
    let r = node
        .get(&format!("{objects}?match[version]=all"), &paris)
        .await;
    let body = r.bytes().await.unwrap();
    let served = objects_of(&body);
    assert_eq!(served.len(), 4);
    for bytes in &served {
        assert!(bytes.starts_with(br#"{"x_served_to":"paris","#));
    }
    let disclosed = gate.disclosed();
    let last_four: Vec<&Vec<u8>> = disclosed[disclosed.len() - 4..]
        .iter()
        .map(|(p, _, _, b)| {
            assert_eq!(p, "paris");
            b
        })
        .collect();
    assert_eq!(last_four, served.iter().collect::<Vec<_>>());

    // The reader, not a partner, sees every version as stored.
    let everything = node
        .get_json(&format!("{objects}?match[version]=all"), &node.reader)
        .await;
    assert_eq!(listed(&everything).len(), 7);
    assert!(everything["objects"][0].get("x_served_to").is_none());
}

#[tokio::test]
async fn a_withheld_object_is_404_exactly_as_an_unknown_one() {
    let gate = Arc::new(gate_for_four());
    let node = Node::start_with_gate(gate.clone()).await;
    four_indicators(&node).await;
    let paris = partner_account(&node, "paris-node", "paris").await;
    let object = |n: u32| format!("{}{}/", node.objects_path(node.c1), indicator_id(n));

    let unknown = assert_error(node.get(&object(99), &paris).await, 404).await;
    let withheld = assert_error(node.get(&object(0), &paris).await, 404).await;
    assert_eq!(
        withheld["description"].as_str().unwrap(),
        unknown["description"]
            .as_str()
            .unwrap()
            .replace(&indicator_id(99), &indicator_id(0))
    );
    // 1's latest version is withheld, its first is not.
    assert_error(node.get(&object(1), &paris).await, 404).await;
    let first = node
        .get_json(&format!("{}?match[version]=first", object(1)), &paris)
        .await;
    assert_eq!(listed(&first), [iv(1, V1)]);
    let all = node
        .get_json(&format!("{}?match[version]=all", object(1)), &paris)
        .await;
    assert_eq!(listed(&all), [iv(1, V1)]);
    let two = node
        .get_json(&format!("{}?match[version]=all", object(2)), &paris)
        .await;
    assert_eq!(listed(&two), [iv(2, V1), iv(2, V2)]);
    // The admin still reads 0.
    let zero = node.get_json(&object(0), &node.admin).await;
    assert_eq!(listed(&zero), [iv(0, V2)]);
    assert!(
        gate.disclosed()
            .iter()
            .all(|(_, id, _, _)| *id != indicator_id(0))
    );
}

#[tokio::test]
async fn manifests_and_versions_list_only_visible_versions_and_record_nothing() {
    let gate = Arc::new(gate_for_four());
    let node = Node::start_with_gate(gate.clone()).await;
    four_indicators(&node).await;
    let paris = partner_account(&node, "paris-node", "paris").await;
    let dates = dates_added(&node).await;
    let manifest_path = format!("/api/collections/{}/manifest/", node.c1);

    let r = node
        .get(&format!("{manifest_path}?match[version]=all"), &paris)
        .await;
    assert_eq!(r.status(), 200);
    let first_header = r.headers()["x-taxii-date-added-first"]
        .to_str()
        .unwrap()
        .to_owned();
    let last_header = r.headers()["x-taxii-date-added-last"]
        .to_str()
        .unwrap()
        .to_owned();
    let manifest: Value = r.json().await.unwrap();
    let expected = [iv(1, V1), iv(2, V1), iv(3, V1), iv(2, V2)];
    assert_eq!(manifest_listed(&manifest), expected);
    for record in manifest["objects"].as_array().unwrap() {
        let key = (
            record["id"].as_str().unwrap().to_owned(),
            record["version"].as_str().unwrap().to_owned(),
        );
        assert_eq!(record["date_added"].as_str().unwrap(), dates[&key]);
        assert_eq!(record["media_type"], "application/stix+json;version=2.1");
    }
    assert_eq!(first_header, dates[&expected[0]]);
    assert_eq!(last_header, dates[&expected[3]]);
    let latest = node.get_json(&manifest_path, &paris).await;
    assert_eq!(manifest_listed(&latest), [iv(3, V1), iv(2, V2)]);

    let versions = |n: u32| {
        format!(
            "{}{}/versions/",
            node.objects_path(node.c1),
            indicator_id(n)
        )
    };
    let one = node.get_json(&versions(1), &paris).await;
    assert_eq!(one["versions"], serde_json::json!([V1]));
    let two = node.get_json(&versions(2), &paris).await;
    assert_eq!(two["versions"], serde_json::json!([V1, V2]));
    assert_error(node.get(&versions(0), &paris).await, 404).await;
    assert_error(node.get(&versions(99), &paris).await, 404).await;
    // Visible, but nothing added after: an empty list, not a 404; withheld: 404.
    let later = "added_after=2100-01-01T00:00:00Z";
    let empty = node
        .get_json(&format!("{}?{later}", versions(3)), &paris)
        .await;
    assert!(empty.get("versions").is_none(), "{empty}");
    assert_error(
        node.get(&format!("{}?{later}", versions(0)), &paris).await,
        404,
    )
    .await;
    // The admin sees every version of 0.
    let zero = node.get_json(&versions(0), &node.admin).await;
    assert_eq!(zero["versions"], serde_json::json!([V1, V2]));

    // Listing served nothing: the gate was asked, nothing was disclosed.
    assert!(gate.visible_calls.load(Ordering::SeqCst) > 0);
    assert!(gate.disclosed().is_empty());
}

#[tokio::test]
async fn pages_with_withheld_records_still_walk_every_visible_object_once() {
    // 30 objects, 2 per page; 2..=21 withheld: more store pages in a row than
    // one request decides, so one answer is an empty page that says more.
    let gate = Arc::new(FakeGate {
        ids: (2..=21).map(indicator_id).collect(),
        ..FakeGate::default()
    });
    let node = Node::start_with_gate(gate.clone()).await;
    let objects: Vec<String> = (0..30).map(|n| indicator(n, V1)).collect();
    node.post_ok(node.c1, &node.writer, envelope(&objects))
        .await;
    let paris = partner_account(&node, "paris-node", "paris").await;
    let dates = dates_added(&node).await;
    let expected: Vec<String> = (0..2).chain(22..30).map(indicator_id).collect();

    for endpoint in ["objects", "manifest"] {
        let mut seen = Vec::new();
        let mut next: Option<String> = None;
        let mut empty_pages = 0;
        for _ in 0..20 {
            let mut path = format!("/api/collections/{}/{endpoint}/?limit=2", node.c1);
            if let Some(n) = &next {
                path.push_str(&format!("&next={n}"));
            }
            let r = node.get(&path, &paris).await;
            assert_eq!(r.status(), 200);
            let header = |name: &str| {
                r.headers()
                    .get(name)
                    .map(|v| v.to_str().unwrap().to_owned())
            };
            let (first, last) = (
                header("x-taxii-date-added-first"),
                header("x-taxii-date-added-last"),
            );
            let page: Value = r.json().await.unwrap();
            let got = if endpoint == "objects" {
                listed(&page)
            } else {
                manifest_listed(&page)
            };
            assert!(got.len() <= 2);
            // The headers are those of the records served.
            if got.is_empty() {
                empty_pages += 1;
                assert_eq!((first, last), (None, None));
            } else {
                assert_eq!(first.as_deref(), Some(dates[&got[0]].as_str()));
                assert_eq!(last.as_deref(), Some(dates[&got[got.len() - 1]].as_str()));
            }
            seen.extend(got.into_iter().map(|(id, _)| id));
            if page["more"] == true {
                next = Some(page["next"].as_str().unwrap().to_owned());
            } else {
                assert!(page.get("next").is_none());
                next = None;
                break;
            }
        }
        assert!(next.is_none(), "{endpoint}: paging did not end");
        assert_eq!(seen, expected, "{endpoint}");
        assert_eq!(empty_pages, 1, "{endpoint}");
    }
    // What was disclosed is what was served, once each.
    let disclosed: Vec<String> = gate
        .disclosed()
        .into_iter()
        .map(|(_, id, _, _)| id)
        .collect();
    assert_eq!(disclosed, expected);
}

#[tokio::test]
async fn posts_by_a_partner_are_accepted_quarantined_or_refused_per_receipt() {
    let gate = Arc::new(FakeGate {
        reject: HashSet::from([indicator_id(42)]),
        quarantine: HashSet::from([indicator_id(41)]),
        ..FakeGate::default()
    });
    let node = Node::start_with_gate(gate.clone()).await;
    node.store
        .create_collection(NewCollection {
            id: QUARANTINE,
            title: "Quarantine".into(),
            description: None,
            alias: Some("quarantine".into()),
        })
        .await
        .unwrap();
    let paris = partner_account(&node, "paris-node", "paris").await;
    let bad = indicator(43, "yesterday");
    let body = envelope(&[indicator(40, V1), indicator(41, V1), indicator(42, V1), bad]);
    let status = node.post_ok(node.c1, &paris, body).await;
    assert_eq!(status["total_count"], 4, "{status}");
    assert_eq!(status["success_count"], 1, "{status}");
    assert_eq!(status["successes"][0]["id"], indicator_id(40));
    assert_eq!(status["successes"][0]["version"], V1);
    assert_eq!(status["failure_count"], 3, "{status}");
    let failures = status["failures"].as_array().unwrap();
    assert_eq!(failures[0]["id"], indicator_id(41));
    assert_eq!(failures[0]["version"], V1);
    let quarantined = failures[0]["message"].as_str().unwrap();
    assert!(
        quarantined.contains("quarantine") && quarantined.contains("does not verify"),
        "{quarantined}"
    );
    assert_eq!(failures[1]["id"], indicator_id(42));
    assert_eq!(failures[1]["version"], V1);
    assert_eq!(
        failures[1]["message"],
        format!("{} refused by the test agreement", indicator_id(42))
    );
    assert_eq!(failures[2]["id"], indicator_id(43));
    assert_eq!(gate.receive_calls.load(Ordering::SeqCst), 1);

    // 40 in the collection as the partner's, verified; 41 only in quarantine.
    let v1 = Version::parse(V1).unwrap();
    assert_eq!(
        node.store
            .provenance(node.c1, &indicator_id(40), &v1)
            .await
            .unwrap(),
        Provenance::Partner {
            partner: "paris".into(),
            channel: Channel::Push,
            signature: SignatureCheck::Verified {
                signer: SIGNER.into()
            },
        }
    );
    assert_eq!(node.stored_versions(node.c1).await, 1);
    assert_eq!(node.stored_versions(QUARANTINE).await, 1);
    assert!(matches!(
        node.store
            .provenance(QUARANTINE, &indicator_id(41), &v1)
            .await
            .unwrap(),
        Provenance::Partner {
            signature: SignatureCheck::Invalid { .. },
            ..
        }
    ));
    // The store wrote one `received` entry per object it stored.
    let received = node
        .store
        .ledger(&LedgerQuery {
            partner: Some("paris".into()),
            direction: Some(Direction::Received),
            ..LedgerQuery::default()
        })
        .await
        .unwrap();
    let entries: Vec<(Uuid, String, Option<Channel>, String)> = received
        .iter()
        .map(|e| {
            (
                e.collection,
                e.object_id.clone(),
                e.channel,
                e.bytes_sha256.clone(),
            )
        })
        .collect();
    assert_eq!(
        entries,
        [
            (
                node.c1,
                indicator_id(40),
                Some(Channel::Push),
                store::ledger::sha256_hex(indicator(40, V1).as_bytes())
            ),
            (
                QUARANTINE,
                indicator_id(41),
                Some(Channel::Push),
                store::ledger::sha256_hex(indicator(41, V1).as_bytes())
            ),
        ]
    );
}

#[tokio::test]
async fn accounts_without_a_partner_never_reach_the_gate() {
    let gate = Arc::new(gate_for_four());
    let node = Node::start_with_gate(gate.clone()).await;
    four_indicators(&node).await;
    let objects = node.objects_path(node.c1);
    let all = node
        .get_json(&format!("{objects}?match[version]=all"), &node.reader)
        .await;
    assert_eq!(listed(&all).len(), 7);
    let zero = node
        .get_json(&format!("{objects}{}/", indicator_id(0)), &node.reader)
        .await;
    assert_eq!(listed(&zero), [iv(0, V2)]);
    let manifest = node
        .get_json(
            &format!("/api/collections/{}/manifest/?match[version]=all", node.c1),
            &node.reader,
        )
        .await;
    assert_eq!(manifest_listed(&manifest).len(), 7);
    let versions = node
        .get_json(
            &format!("{objects}{}/versions/", indicator_id(1)),
            &node.reader,
        )
        .await;
    assert_eq!(versions["versions"], serde_json::json!([V1, V2]));
    node.post_ok(node.c1, &node.writer, envelope(&[indicator(7, V1)]))
        .await;
    assert!(gate.disclosed().is_empty());
    assert_eq!(gate.visible_calls.load(Ordering::SeqCst), 0);
    assert_eq!(gate.receive_calls.load(Ordering::SeqCst), 0);
    assert_eq!(
        node.store
            .provenance(node.c1, &indicator_id(7), &Version::parse(V1).unwrap())
            .await
            .unwrap(),
        Provenance::Account {
            name: "writer".into()
        }
    );
}

#[tokio::test]
async fn a_partner_account_may_not_delete() {
    let node = Node::start_with_gate(Arc::new(gate_for_four())).await;
    four_indicators(&node).await;
    let paris = partner_account(&node, "paris-node", "paris").await;
    for n in [0, 3, 99] {
        let path = format!("{}{}/", node.objects_path(node.c1), indicator_id(n));
        let r = node
            .request(Method::DELETE, &path, Some(&paris))
            .send()
            .await
            .unwrap();
        let body = assert_error(r, 403).await;
        assert!(
            body["description"].as_str().unwrap().contains("paris"),
            "{body}"
        );
    }
    assert_eq!(node.stored_versions(node.c1).await, 7);
}

#[tokio::test]
async fn partner_accounts_are_refused_without_a_gate_or_an_agreement() {
    // A partner the gate does not know: 403, nothing served.
    let node = Node::start_with_gate(Arc::new(gate_for_four())).await;
    four_indicators(&node).await;
    let ghost = partner_account(&node, "ghost-node", "ghost").await;
    let body = assert_error(node.get(&node.objects_path(node.c1), &ghost).await, 403).await;
    assert!(
        body["description"].as_str().unwrap().contains("ghost"),
        "{body}"
    );
    assert_error(
        node.get(&format!("/api/collections/{}/manifest/", node.c1), &ghost)
            .await,
        403,
    )
    .await;

    // A server with no gate serves a partner's account nothing.
    let bare = Node::start().await;
    four_indicators(&bare).await;
    let paris = partner_account(&bare, "paris-node", "paris").await;
    for path in [
        bare.objects_path(bare.c1),
        format!("{}{}/", bare.objects_path(bare.c1), indicator_id(3)),
        format!("/api/collections/{}/manifest/", bare.c1),
        format!(
            "{}{}/versions/",
            bare.objects_path(bare.c1),
            indicator_id(3)
        ),
    ] {
        assert_error(bare.get(&path, &paris).await, 500).await;
    }
    let r = bare
        .post(bare.c1, &paris, envelope(&[indicator(9, V1)]))
        .await;
    assert_error(r, 500).await;
    assert_eq!(bare.stored_versions(bare.c1).await, 7);
}
