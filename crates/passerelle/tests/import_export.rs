//! `passerelle import` and `export` as an operator runs them: a real ATT&CK
//! bundle round trip byte for byte, idempotent re-import, rejected objects
//! reported without stopping the others, gzip and standard input.

// Test support: a failed setup step should stop the test with its message.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![cfg(unix)]

mod common;

use std::path::Path;

use common::{ok, run, write};
use stix::bundle::ObjectReader;

const ICS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../testdata/attack/ics-attack-18.1.json.gz"
);

const IDENTITY: &str = r#"{"type": "identity", "spec_version": "2.1", "id": "identity--e5f1b90a-d9b6-40ab-81a9-8a29df4b6b65", "created": "2024-03-01T10:00:00.000Z", "modified": "2024-03-01T10:00:00.000Z", "name": "Direction générale — مديرية الأمن", "identity_class": "organization"}"#;
const IDENTITY_V2: &str = r#"{"type": "identity", "spec_version": "2.1", "id": "identity--e5f1b90a-d9b6-40ab-81a9-8a29df4b6b65", "created": "2024-03-01T10:00:00.000Z", "modified": "2024-04-01T10:00:00.000Z", "name": "Direction générale", "identity_class": "organization"}"#;
const MODIFIED_BEFORE_CREATED: &str = r#"{"type": "identity", "spec_version": "2.1", "id": "identity--0b5f4d2e-4bc9-4a3f-9d4e-2f6b3c7a8e91", "created": "2024-03-01T10:00:00.000Z", "modified": "2023-03-01T10:00:00.000Z", "name": "x"}"#;
const MALWARE: &str = r#"{"type": "malware", "spec_version": "2.1", "id": "malware--31b940d4-6f7f-459a-80ea-9c1f17b5891b", "created": "2024-03-01T10:00:00.000Z", "modified": "2024-03-01T10:00:00.000Z", "name": "Cryptolocker", "is_family": true}"#;

fn bundle(objects: &[&str]) -> String {
    format!(
        r#"{{"type": "bundle", "id": "bundle--5d0092c5-5f74-4287-9642-33f4c354e56d", "objects": [{}]}}"#,
        objects.join(",\n")
    )
}

/// The objects of a file, each as its exact bytes, in order.
fn objects_of(path: &Path) -> Vec<Vec<u8>> {
    let bytes = std::fs::read(path).unwrap();
    let text = if bytes.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::new();
        std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&bytes[..]), &mut out)
            .unwrap();
        out
    } else {
        bytes
    };
    let mut reader = ObjectReader::new(&text[..]);
    let mut objects = Vec::new();
    while let Some(raw) = reader.next_object().unwrap() {
        objects.push(raw.bytes.to_vec());
    }
    objects
}

fn id_of(object: &[u8]) -> String {
    let value: serde_json::Value = serde_json::from_slice(object).unwrap();
    value["id"].as_str().unwrap().to_owned()
}

fn init(dir: &Path) -> String {
    let data = dir.join("node").to_str().unwrap().to_owned();
    ok(&["init", "--data", &data]);
    data
}

#[test]
fn attack_ics_round_trips_byte_for_byte() {
    let dir = tempfile::tempdir().unwrap();
    let data = init(dir.path());
    let originals = objects_of(Path::new(ICS));
    assert!(originals.len() > 1000);

    let first = ok(&["import", ICS, "--collection", "default", "--data", &data]);
    let summary = first.lines().last().unwrap();
    assert_eq!(
        summary,
        format!(
            "imported 1 file into collection default: {} added, 0 already present, 0 rejected",
            originals.len()
        )
    );

    // Importing again stores nothing new.
    let again = ok(&["import", ICS, "--collection", "default", "--data", &data]);
    assert!(
        again.ends_with(&format!(
            ": 0 added, {} already present, 0 rejected\n",
            originals.len()
        )),
        "{again}"
    );

    let out = dir.path().join("export.json");
    let exported = run(
        &[
            "export",
            "--collection",
            "default",
            "--all-versions",
            "--out",
            out.to_str().unwrap(),
            "--data",
            &data,
        ],
        &[],
        b"",
    );
    assert!(
        exported.status.success(),
        "{}",
        String::from_utf8_lossy(&exported.stderr)
    );
    assert!(!dir.path().join("export.json.partial").exists());
    let round_trip = objects_of(&out);
    assert_eq!(round_trip.len(), originals.len());
    for (got, want) in round_trip.iter().zip(&originals) {
        assert_eq!(id_of(got), id_of(want));
        assert_eq!(got, want, "bytes differ for {}", id_of(want));
    }
    // The export is itself a valid bundle.
    let check = run(
        &["validate", "--errors-only", out.to_str().unwrap()],
        &[],
        b"",
    );
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stdout)
    );
}

#[test]
fn rejected_objects_are_reported_and_the_others_stored() {
    let dir = tempfile::tempdir().unwrap();
    let data = init(dir.path());
    let file = write(
        dir.path(),
        "mixed.json",
        &bundle(&[IDENTITY, MODIFIED_BEFORE_CREATED, "{\"type\": 42}", MALWARE]),
    );
    let output = run(
        &["import", &file, "--collection", "default", "--data", &data],
        &[],
        b"",
    );
    assert_eq!(output.status.code(), Some(1));
    let stdout = String::from_utf8(output.stdout).unwrap();
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 3, "{stdout}");
    assert!(
        lines[0].starts_with(&format!(
            "{file}: identity--0b5f4d2e-4bc9-4a3f-9d4e-2f6b3c7a8e91: modified: "
        )),
        "{stdout}"
    );
    assert!(
        lines[1].starts_with(&format!("{file}: objects[2]: ")),
        "{stdout}"
    );
    assert!(
        lines[2].ends_with(": 2 added, 0 already present, 2 rejected"),
        "{stdout}"
    );

    let exported = ok(&["export", "--collection", "default", "--data", &data]);
    let ids: Vec<String> = {
        let mut reader = ObjectReader::new(exported.as_bytes());
        let mut ids = Vec::new();
        while let Some(raw) = reader.next_object().unwrap() {
            ids.push(id_of(raw.bytes));
        }
        ids
    };
    assert_eq!(
        ids,
        [
            "identity--e5f1b90a-d9b6-40ab-81a9-8a29df4b6b65",
            "malware--31b940d4-6f7f-459a-80ea-9c1f17b5891b"
        ]
    );
}

#[test]
fn gzip_stdin_versions_and_filters() {
    let dir = tempfile::tempdir().unwrap();
    let data = init(dir.path());
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    std::io::Write::write_all(&mut gz, bundle(&[IDENTITY, MALWARE]).as_bytes()).unwrap();
    let gz = gz.finish().unwrap();
    let output = run(
        &["import", "-", "--collection", "default", "--data", &data],
        &[],
        &gz,
    );
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        String::from_utf8_lossy(&output.stdout)
            .ends_with(": 2 added, 0 already present, 0 rejected\n")
    );

    // A newer version of the identity: the default export has the latest only.
    let v2 = write(dir.path(), "v2.json", &bundle(&[IDENTITY_V2]));
    ok(&["import", &v2, "--collection", "default", "--data", &data]);
    let latest = ok(&["export", "--collection", "default", "--data", &data]);
    assert!(
        latest.contains("2024-04-01T10:00:00.000Z") && !latest.contains("مديرية"),
        "{latest}"
    );
    assert_eq!(latest.matches("\"type\": \"identity\"").count(), 1);
    let all = ok(&[
        "export",
        "--collection",
        "default",
        "--all-versions",
        "--data",
        &data,
    ]);
    assert_eq!(all.matches("\"type\": \"identity\"").count(), 2);

    let malware_only = ok(&[
        "export",
        "--collection",
        "default",
        "--type",
        "malware",
        "--data",
        &data,
    ]);
    assert!(
        malware_only.contains("Cryptolocker") && !malware_only.contains("identity--"),
        "{malware_only}"
    );
    let none = ok(&[
        "export",
        "--collection",
        "default",
        "--added-after",
        "2999-01-01T00:00:00Z",
        "--data",
        &data,
    ]);
    assert!(
        none.starts_with("{\"type\":\"bundle\",\"id\":\"bundle--"),
        "{none}"
    );
    assert!(
        ObjectReader::new(none.as_bytes())
            .next_object()
            .unwrap()
            .is_none()
    );
}

#[test]
fn unknown_collection_and_unreadable_file() {
    let dir = tempfile::tempdir().unwrap();
    let data = init(dir.path());
    let output = run(
        &["import", ICS, "--collection", "nope", "--data", &data],
        &[],
        b"",
    );
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("no collection \"nope\""));

    let good = write(dir.path(), "good.json", &bundle(&[MALWARE]));
    let missing = dir.path().join("missing.json");
    let output = run(
        &[
            "import",
            missing.to_str().unwrap(),
            &good,
            "--collection",
            "default",
            "--data",
            &data,
        ],
        &[],
        b"",
    );
    assert_eq!(output.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("missing.json: -: cannot read"), "{stdout}");
    assert!(
        stdout
            .ends_with("2 files into collection default: 1 added, 0 already present, 1 rejected\n"),
        "{stdout}"
    );

    let uninitialised = dir.path().join("empty");
    let output = run(
        &[
            "export",
            "--collection",
            "default",
            "--data",
            uninitialised.to_str().unwrap(),
        ],
        &[],
        b"",
    );
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("passerelle init"));
}
