//! The valid corpus: every file under `testdata/valid/` is STIX 2.1 content
//! that stix2-validator 3.3.2 accepts, so every object in it must validate
//! with no errors (warnings are allowed).

use std::path::{Path, PathBuf};

use stix::json::{self, Value};
use stix::{Severity, validate_object};

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
fn every_object_of_the_valid_corpus_has_no_errors() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/valid");
    let mut files = Vec::new();
    corpus_files(&root, &mut files);
    files.sort();
    assert!(!files.is_empty(), "no files under {}", root.display());
    let mut failures = Vec::new();
    let mut objects = 0;
    for file in &files {
        let bytes = std::fs::read(file).unwrap();
        let doc = json::parse(&bytes).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        let items: Vec<&Value<'_>> = match doc.get("objects").and_then(Value::as_array) {
            Some(list) => list.iter().collect(),
            None => vec![&doc],
        };
        for object in items {
            objects += 1;
            for d in validate_object(object) {
                if d.severity == Severity::Error {
                    failures.push(format!("{}: {d}", file.display()));
                }
            }
        }
    }
    assert!(objects > 0);
    assert!(
        failures.is_empty(),
        "{} error(s) in valid content:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
