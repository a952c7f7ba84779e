//! The broken-object corpus: every file under `testdata/broken/` holds one
//! object and the diagnostics it must produce, with their exact messages.

use std::path::{Path, PathBuf};

use stix::json::{self, Value};
use stix::validate_object;

fn corpus_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            corpus_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "json") {
            out.push(path);
        }
    }
}

#[test]
fn every_broken_object_produces_its_expected_diagnostics() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/broken");
    let mut files = Vec::new();
    corpus_files(&root, &mut files);
    files.sort();
    let mut failures = Vec::new();
    for file in &files {
        let bytes = std::fs::read(file).unwrap();
        let case = json::parse(&bytes).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        let object = case
            .get("object")
            .unwrap_or_else(|| panic!("{}: no 'object'", file.display()));
        let expected = case
            .get("expect")
            .and_then(Value::as_array)
            .unwrap_or_else(|| panic!("{}: no 'expect' list", file.display()));
        assert!(
            !expected.is_empty(),
            "{}: 'expect' is empty",
            file.display()
        );
        let found = validate_object(object);
        for want in expected {
            let field = |k: &str| {
                want.get(k)
                    .and_then(Value::as_str)
                    .unwrap_or_else(|| panic!("{}: expectation without '{k}'", file.display()))
            };
            let (severity, property, rule, message) = (
                field("severity"),
                field("property"),
                field("rule"),
                field("message"),
            );
            let hit = found.iter().any(|d| {
                d.severity.as_str() == severity
                    && d.property == property
                    && d.rule == rule
                    && d.message == message
            });
            if !hit {
                failures.push(format!(
                    "{}: expected {severity} {property:?} [{rule}] {message:?}\n    found: {:#?}",
                    file.strip_prefix(&root).unwrap_or(file).display(),
                    found
                        .iter()
                        .map(|d| format!(
                            "{} {:?} [{}] {:?}",
                            d.severity, d.property, d.rule, d.message
                        ))
                        .collect::<Vec<_>>()
                ));
            }
        }
    }
    assert!(
        files.len() >= 3,
        "the corpus has only {} files",
        files.len()
    );
    assert!(
        failures.is_empty(),
        "{} expectation(s) not met:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
