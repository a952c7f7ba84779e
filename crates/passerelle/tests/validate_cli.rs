//! `passerelle validate` as a user runs it: real processes, real files,
//! exit codes, both output formats, stdin, gzip, and hostile input.

// Test support: a failed setup step should stop the test with its message.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

const IDENTITY: &str = r#"{"type": "identity", "spec_version": "2.1", "id": "identity--e5f1b90a-d9b6-40ab-81a9-8a29df4b6b65", "created": "2024-03-01T10:00:00.000Z", "modified": "2024-03-01T10:00:00.000Z", "name": "Direction générale — مديرية الأمن", "identity_class": "organization"}"#;

const BAD_CONFIDENCE: &str = r#"{"type": "identity", "spec_version": "2.1", "id": "identity--0b5f4d2e-4bc9-4a3f-9d4e-2f6b3c7a8e91", "created": "2024-03-01T10:00:00.000Z", "modified": "2024-03-01T10:00:00.000Z", "name": "x", "confidence": 101}"#;

fn passerelle(args: &[&str], stdin: Option<&[u8]>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_passerelle"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start passerelle");
    let mut input = child.stdin.take().expect("stdin");
    if let Some(bytes) = stdin {
        input.write_all(bytes).expect("write stdin");
    }
    drop(input);
    child.wait_with_output().expect("wait for passerelle")
}

fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).expect("stdout is UTF-8")
}

fn bundle(objects: &[&str]) -> String {
    format!(
        r#"{{"type": "bundle", "id": "bundle--5d0092c5-5f74-4287-9642-33f4c354e56d", "objects": [{}]}}"#,
        objects.join(",\n")
    )
}

fn write(dir: &Path, name: &str, content: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, content).expect("write test file");
    path
}

fn arg(path: &Path) -> &str {
    path.to_str().expect("utf-8 path")
}

#[test]
fn a_valid_bundle_exits_zero_with_a_summary() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "ok.json", bundle(&[IDENTITY]).as_bytes());
    let out = passerelle(&["validate", arg(&file)], None);
    assert_eq!(
        stdout(&out),
        "1 objects in 1 files: 0 invalid, 0 errors, 0 warnings\n"
    );
    assert_eq!(out.status.code(), Some(0));
}

#[test]
fn errors_are_one_line_each_and_exit_one() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(
        dir.path(),
        "bad.json",
        bundle(&[IDENTITY, BAD_CONFIDENCE]).as_bytes(),
    );
    let out = passerelle(&["validate", arg(&file)], None);
    let text = stdout(&out);
    let expected_line = format!(
        "{}: identity--0b5f4d2e-4bc9-4a3f-9d4e-2f6b3c7a8e91: confidence: error: 101 is out of range: must be from 0 to 100 [integer-range]",
        arg(&file)
    );
    assert!(text.lines().any(|l| l == expected_line), "{text}");
    assert!(
        text.ends_with("2 objects in 1 files: 1 invalid, 1 errors, 0 warnings\n"),
        "{text}"
    );
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn strict_turns_warnings_into_errors() {
    let custom = IDENTITY.replace(r#""name""#, r#""x_acme_note": "n", "name""#);
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "custom.json", custom.as_bytes());
    let lax = passerelle(&["validate", arg(&file)], None);
    assert_eq!(lax.status.code(), Some(0), "{}", stdout(&lax));
    assert!(stdout(&lax).contains(": x_acme_note: warning: "));
    let strict = passerelle(&["validate", "--strict", arg(&file)], None);
    assert_eq!(strict.status.code(), Some(1));
    assert!(stdout(&strict).contains(": x_acme_note: error: "));
}

#[test]
fn json_format_is_one_record_per_line_then_a_summary() {
    let out = passerelle(
        &["validate", "--format", "json", "-"],
        Some(BAD_CONFIDENCE.as_bytes()),
    );
    let records: Vec<serde_json::Value> = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).expect("each line is JSON"))
        .collect();
    let (summary, diagnostics) = records.split_last().expect("a summary line");
    assert_eq!(summary["summary"]["errors"], 1);
    assert_eq!(summary["summary"]["objects"], 1);
    assert_eq!(diagnostics.len(), 1);
    assert_eq!(diagnostics[0]["file"], "-");
    assert_eq!(
        diagnostics[0]["object_id"],
        "identity--0b5f4d2e-4bc9-4a3f-9d4e-2f6b3c7a8e91"
    );
    assert_eq!(diagnostics[0]["property"], "confidence");
    assert_eq!(diagnostics[0]["severity"], "error");
    assert_eq!(diagnostics[0]["rule"], "integer-range");
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn reads_gzip_whatever_the_name_and_stdin() {
    let dir = tempfile::tempdir().unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(bundle(&[IDENTITY, BAD_CONFIDENCE]).as_bytes())
        .unwrap();
    let compressed = gz.finish().unwrap();
    let file = write(dir.path(), "feed.bin", &compressed);
    let out = passerelle(&["validate", arg(&file)], None);
    assert!(stdout(&out).ends_with("2 objects in 1 files: 1 invalid, 1 errors, 0 warnings\n"));
    let out = passerelle(&["validate", "-"], Some(&compressed));
    assert!(stdout(&out).ends_with("2 objects in 1 files: 1 invalid, 1 errors, 0 warnings\n"));
}

#[test]
fn a_missing_file_is_an_error_and_the_others_are_still_checked() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "ok.json", IDENTITY.as_bytes());
    let missing = dir.path().join("missing.json");
    let out = passerelle(&["validate", arg(&missing), arg(&file)], None);
    let text = stdout(&out);
    assert!(
        text.contains(&format!(
            "{}: -: -: error: cannot read {}",
            arg(&missing),
            arg(&missing)
        )),
        "{text}"
    );
    assert!(
        text.ends_with("1 objects in 2 files: 0 invalid, 1 errors, 0 warnings\n"),
        "{text}"
    );
    assert_eq!(out.status.code(), Some(1));
}

/// Each hostile object is reported with a clear message naming its place,
/// and the valid object after it is still checked.
#[test]
fn hostile_objects_get_clear_errors_and_do_not_stop_the_others() {
    let deep = format!("{}1{}", "[".repeat(10_000), "]".repeat(10_000));
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "invalid UTF-8",
            b"{\"type\": \"identity\", \"name\": \"\xff\xfe\"}".to_vec(),
            "objects[0]: -: error: object #0 is not valid UTF-8 (at byte 115) and was skipped [json]",
        ),
        (
            "duplicate keys",
            br#"{"type": "identity", "type": "indicator"}"#.to_vec(),
            "invalid JSON: duplicate key \"type\" in one object",
        ),
        (
            "deep nesting",
            format!(r#"{{"type": "identity", "x_deep": {deep}}}"#).into_bytes(),
            "invalid JSON: nesting deeper than 64 levels",
        ),
        (
            "lone surrogate",
            br#"{"type": "identity", "name": "\ud800"}"#.to_vec(),
            "invalid JSON: \\u escape is a lone UTF-16 surrogate",
        ),
        (
            "number out of range",
            IDENTITY
                .replace(r#""name""#, r#""confidence": 1e400, "name""#)
                .into_bytes(),
            "confidence: error: 1e400 is out of range: must be from 0 to 100",
        ),
        (
            "huge integer",
            IDENTITY
                .replace(
                    r#""name""#,
                    r#""confidence": 123456789012345678901234567890, "name""#,
                )
                .into_bytes(),
            "confidence: error: 123456789012345678901234567890 is out of range: must be from 0 to 100",
        ),
    ];
    for (what, object, expected) in cases {
        let mut document = b"{\"type\": \"bundle\", \"id\": \"bundle--5d0092c5-5f74-4287-9642-33f4c354e56d\", \"objects\": [".to_vec();
        document.extend_from_slice(&object);
        document.extend_from_slice(b",\n");
        document.extend_from_slice(IDENTITY.as_bytes());
        document.extend_from_slice(b"]}");
        let out = passerelle(&["validate", "-"], Some(&document));
        let text = stdout(&out);
        assert!(text.contains(expected), "{what}: {text}");
        assert!(
            text.ends_with("2 objects in 1 files: 1 invalid, 1 errors, 0 warnings\n"),
            "{what}: {text}"
        );
        assert_eq!(out.status.code(), Some(1), "{what}");
        assert!(
            out.stderr.is_empty(),
            "{what}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
fn huge_strings_and_arrays_are_checked_not_refused() {
    let huge = IDENTITY.replace(
        r#""name": "Direction"#,
        &format!(
            r#""description": "{}", "labels": [{}], "name": "Direction"#,
            "é".repeat(5_000_000),
            vec!["\"l\""; 200_000].join(",")
        ),
    );
    let out = passerelle(&["validate", "-"], Some(huge.as_bytes()));
    assert_eq!(
        stdout(&out),
        "1 objects in 1 files: 0 invalid, 0 errors, 0 warnings\n"
    );
}

#[test]
fn oversized_objects_are_skipped_and_reported() {
    let big = IDENTITY.replace(
        r#""name": "Direction"#,
        &format!(
            r#""description": "{}", "name": "Direction"#,
            "x".repeat(10_000)
        ),
    );
    let document = bundle(&[&big, IDENTITY]);
    let out = passerelle(
        &["validate", "--max-object-size", "4096", "-"],
        Some(document.as_bytes()),
    );
    let text = stdout(&out);
    assert!(text.contains("-: objects[0]: -: error: object #0 at byte 85 is larger than the limit of 4096 bytes and was skipped [object-size]"), "{text}");
    assert!(
        text.ends_with("2 objects in 1 files: 1 invalid, 1 errors, 0 warnings\n"),
        "{text}"
    );
}

#[test]
fn truncated_files_report_where_they_end_after_checking_what_came_before() {
    let document = bundle(&[IDENTITY, BAD_CONFIDENCE]);
    let cut = &document.as_bytes()[..document.len() - 40];
    let out = passerelle(&["validate", "-"], Some(cut));
    let text = stdout(&out);
    assert!(
        text.contains("in the middle of an object (truncated file?) [input]"),
        "{text}"
    );
    assert!(
        text.ends_with("1 objects in 1 files: 0 invalid, 1 errors, 0 warnings\n"),
        "{text}"
    );
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn bundle_level_problems_are_reported() {
    let document = bundle(&[IDENTITY]).replace(
        r#""type": "bundle","#,
        r#""type": "bundle", "spec_version": "2.0","#,
    );
    let out = passerelle(&["validate", "-"], Some(document.as_bytes()));
    let text = stdout(&out);
    assert!(text.contains("-: bundle--5d0092c5-5f74-4287-9642-33f4c354e56d: spec_version: error: a STIX 2.1 bundle has no spec_version"), "{text}");
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn help_has_examples() {
    let out = passerelle(&["validate", "--help"], None);
    let text = stdout(&out);
    assert!(
        text.contains("Examples:") && text.contains("passerelle validate --strict"),
        "{text}"
    );
    assert_eq!(out.status.code(), Some(0));
}
