//! `passerelle serve` enforces the agreements for a partner's account: the real
//! binary, a node with `[[partners]]` in its configuration, our sample data
//! imported, and the partner's account reading over HTTP.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use federation::NodeIdentity;
use federation::signature::{PROJECT_IDENTITY_ID, SIGNATURE_EXTENSION_ID};

const LOOPBACK_ANY_PORT: (&str, &str) = ("PASSERELLE__SERVER__LISTEN", "127.0.0.1:0");
const TLP_CLEAR: &str = "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487";
const TLP_GREEN: &str = "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb";
const RED_INDICATOR: &str = "indicator--38bec5f5-2095-4b52-9088-980a7d1145bd";

fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

#[test]
fn a_partner_account_reads_only_what_its_agreement_discloses_signed_by_us() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("node").to_str().unwrap().to_owned();
    let d = ["--data", data.as_str()];
    let with = |args: &[&str]| -> String {
        let mut all = args.to_vec();
        all.extend_from_slice(&d);
        ok(&all)
    };
    let admin = token_in(&ok(&["init", "--data", &data, "--name", "PJ Lisboa"]));
    with(&["collection", "add", "Shared", "--alias", "shared"]);
    let sample = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../testdata/federation/rabat.json"
    );
    with(&["import", sample, "--collection", "shared"]);
    with(&["account", "add", "paris-node"]);
    with(&["account", "grant", "paris-node", "shared"]);
    let paris_token = with(&["token", "create", "paris-node", "--name", "pull"])
        .trim()
        .to_owned();

    let paris = NodeIdentity::generate("Paris");
    let config = std::path::Path::new(&data).join("passerelle.toml");
    let mut text = std::fs::read_to_string(&config).unwrap();
    text.push_str(&format!(
        r#"
[[partners]]
name = "paris"
identity = "{}"
public_key = "{}"
account = "paris-node"
[partners.outbound]
collections = ["shared"]
max_tlp = "green"
"#,
        paris.identity,
        paris.public_key()
    ));
    std::fs::write(&config, text).unwrap();
    let ours: serde_json::Value = serde_json::from_slice(
        &std::fs::read(std::path::Path::new(&data).join(federation::identity::IDENTITY_FILE))
            .unwrap(),
    )
    .unwrap();
    let our_identity = ours["id"].as_str().unwrap().to_owned();

    let server = Server::start(&d, &[LOOPBACK_ANY_PORT]);
    let all = "/api/collections/shared/objects/?match[version]=all";

    // The admin reads the twelve objects as imported, and the three the node
    // published when it started: the signature extension-definition, the project
    // identity that created it, and the node's identity.
    let everything = server.get(all, Some(&bearer(&admin)));
    assert_eq!(everything.status, 200, "{everything:?}");
    let held = everything.json()["objects"].as_array().unwrap().clone();
    assert_eq!(held.len(), 15);
    let published = [SIGNATURE_EXTENSION_ID, PROJECT_IDENTITY_ID, &our_identity];
    for id in published {
        assert!(held.iter().any(|o| o["id"] == id), "{id} is not published");
    }

    // Paris reads only CLEAR and GREEN objects, each signed by this node, and the
    // published ones: the definition and the project identity as every node
    // publishes them, the node's identity signed.
    let page = server.get(all, Some(&bearer(&paris_token)));
    assert_eq!(page.status, 200, "{page:?}");
    let objects = page.json()["objects"].as_array().unwrap().clone();
    assert!(
        objects.len() > published.len() && objects.len() < 15,
        "{objects:?}"
    );
    for id in published {
        assert!(objects.iter().any(|o| o["id"] == id), "{id} is not served");
    }
    for object in &objects {
        let marking = object["object_marking_refs"][0].as_str().unwrap_or("");
        assert!(marking == TLP_CLEAR || marking == TLP_GREEN, "{object}");
        let signer = &object["extensions"][SIGNATURE_EXTENSION_ID]["signer"];
        if object["id"] == SIGNATURE_EXTENSION_ID || object["id"] == PROJECT_IDENTITY_ID {
            assert!(signer.is_null(), "{object}");
        } else {
            assert_eq!(signer, &our_identity, "{object}");
        }
    }
    // What Paris needs to resolve the extension its objects carry is there.
    let definition = server.get(
        &format!("/api/collections/shared/objects/{SIGNATURE_EXTENSION_ID}/"),
        Some(&bearer(&paris_token)),
    );
    assert_eq!(definition.status, 200);
    let definition = &definition.json()["objects"][0];
    assert_eq!(definition["created_by_ref"], PROJECT_IDENTITY_ID);
    assert_eq!(
        definition["extension_types"],
        serde_json::json!(["property-extension"])
    );
    // A RED object is not there, as if it did not exist.
    let red = format!("/api/collections/shared/objects/{RED_INDICATOR}/");
    assert_eq!(server.get(&red, Some(&bearer(&paris_token))).status, 404);
    assert_eq!(server.get(&red, Some(&bearer(&admin))).status, 200);

    let (status, stderr) = server.terminate();
    assert!(status.success(), "exit {status}; stderr:\n{stderr}");
    assert!(!stderr.contains(&paris_token), "{stderr}");
}
