//! Interoperability with the OASIS TAXII 2.1 tools: a real `passerelle serve` process
//! driven by `scripts/interop/taxii_client_check.py`, which uses the OASIS client
//! (taxii2-client) to add the ATT&CK and MISP-converted bundles of `testdata/`, read
//! everything back every way TAXII allows, and validate what is served with
//! stix2-validator. The Python comes from `PASSERELLE_PYTHON` (set by `scripts/test.sh`);
//! without it the test fails: it is never skipped.

// Test support: a failed setup step should stop the test with its message.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::{Server, ok, run};

const LOOPBACK_ANY_PORT: (&str, &str) = ("PASSERELLE__SERVER__LISTEN", "127.0.0.1:0");
const PASSWORD: &str = "interop-password-7f3a";

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The Python of the test venv, checked to have the OASIS packages.
fn python() -> PathBuf {
    let Some(python) = std::env::var_os("PASSERELLE_PYTHON") else {
        panic!(
            "PASSERELLE_PYTHON is not set. The interoperability test needs the Python venv with \
             taxii2-client and stix2-validator: run the test command `scripts/test.sh`, or \
             `export PASSERELLE_PYTHON=$(bash scripts/python-env.sh)` first."
        );
    };
    let probe = Command::new(&python)
        .args(["-c", "import taxii2client.v21, stix2validator"])
        .output()
        .unwrap_or_else(|e| panic!("PASSERELLE_PYTHON={python:?} cannot be run: {e}"));
    assert!(
        probe.status.success(),
        "PASSERELLE_PYTHON={python:?} lacks taxii2-client or stix2-validator \
         (scripts/python-env.sh installs scripts/requirements.txt):\n{}",
        String::from_utf8_lossy(&probe.stderr)
    );
    PathBuf::from(python)
}

/// Runs the check script with `credential` passed through the environment.
fn check(python: &Path, server: &Server, credential: &str, extra: &[&str]) -> Output {
    Command::new(python)
        .arg(repo().join("scripts/interop/taxii_client_check.py"))
        .arg(&server.base_url)
        .arg("-")
        .args(["--collection", "Interop"])
        .args(extra)
        .env("TAXII_CREDENTIAL", credential)
        .output()
        .unwrap_or_else(|e| panic!("cannot run the check script with {python:?}: {e}"))
}

fn text(output: &Output) -> String {
    format!(
        "exit {}\n--- stdout\n{}\n--- stderr\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

#[test]
fn oasis_client_adds_pages_and_reads_back_attack_and_misp_bundles() {
    let python = python();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("node");
    let data = data.to_str().unwrap();

    // A node with an ordinary (not admin) account that may read and write one collection.
    ok(&["init", "--data", data]);
    ok(&["account", "add", "interop", "--data", data]);
    let collection = ok(&[
        "collection",
        "add",
        "Interop",
        "--alias",
        "interop",
        "--data",
        data,
    ]);
    let collection = collection.trim().to_owned();
    ok(&[
        "account", "grant", "interop", "interop", "--read", "--write", "--data", data,
    ]);
    let token = ok(&[
        "token", "create", "interop", "--name", "check", "--data", data,
    ]);
    let token = token.trim().to_owned();
    assert!(token.starts_with("psl_"), "{token}");
    let set = run(
        &["account", "set-password", "interop", "--data", data],
        &[],
        format!("{PASSWORD}\n").as_bytes(),
    );
    assert!(set.status.success(), "{set:?}");

    let server = Server::start(&["--data", data], &[LOOPBACK_ANY_PORT]);

    // The full check, with a Bearer token. Reading one by one is sampled (every object
    // with several versions, then a spread of the others): the endpoints themselves are
    // tested exhaustively in the taxii crate; this is about the client.
    let output = check(&python, &server, &token, &["--per-object", "1000"]);
    let report = text(&output);
    assert!(output.status.success(), "{report}");
    assert!(
        report.contains("OK: everything served matches what was sent"),
        "{report}"
    );
    // The invalid MISP objects were sent and had to be rejected, each with its reason.
    assert!(report.contains("11 invalid objects sent"), "{report}");

    // HTTP Basic works with the client too. Only discovery and the collection lists:
    // every Basic request costs an argon2 verification, which a debug build makes slow.
    let output = check(
        &python,
        &server,
        &format!("interop:{PASSWORD}"),
        &["--discover-only"],
    );
    let report = text(&output);
    assert!(output.status.success(), "{report}");
    assert!(report.contains(&collection), "{report}");

    // The check must notice a difference: delete one object, then verify that the
    // collection no longer holds what was sent.
    let bearer = format!("Bearer {token}");
    let manifest = server.get(
        &format!("/api/collections/{collection}/manifest/?limit=1"),
        Some(&bearer),
    );
    assert_eq!(manifest.status, 200, "{manifest:?}");
    let victim = manifest.json()["objects"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let deleted = common::request(
        std::net::TcpStream::connect(&server.addr).unwrap(),
        "DELETE",
        &format!("/api/collections/{collection}/objects/{victim}/"),
        &[
            ("Accept", common::TAXII.to_owned()),
            ("Authorization", bearer.clone()),
        ],
        b"",
    );
    assert_eq!(deleted.status, 200, "{deleted:?}");
    let output = check(
        &python,
        &server,
        &token,
        &["--verify-only", "--per-object", "50"],
    );
    let report = text(&output);
    assert_eq!(output.status.code(), Some(1), "{report}");
    assert!(
        report.contains(&format!("{victim} was sent but not served")),
        "{report}"
    );

    let (status, stderr) = server.terminate();
    assert!(status.success(), "exit {status}; stderr:\n{stderr}");
    assert!(!stderr.contains(&token), "the token reached the logs");
    assert!(!stderr.contains(PASSWORD), "the password reached the logs");
}
