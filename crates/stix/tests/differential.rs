//! The differential test: every STIX object of the real data under `testdata/`
//! (ATT&CK, CAPEC, MISP-converted events, the OASIS examples) must get the same
//! verdict from [`stix::validate_object`] as from the OASIS stix2-validator 3.3.2,
//! object by object. "Invalid" means at least one error-severity diagnostic on our
//! side, and at least one error on the reference side.
//!
//! The reference verdicts come from `scripts/reference_verdicts.py`, run with the
//! Python of `PASSERELLE_PYTHON`, else `<repo>/.venv/bin/python` (made by
//! `scripts/python-env.sh`). Without either the test fails: it never skips.
//!
//! Where stix2-validator is wrong by the specification we keep our verdict and
//! list the object in [`KNOWN`], with the spec section and the reason. A
//! disagreement missing from the table fails the test, and so does a table entry
//! that no longer matches a disagreement, so the table stays true.
//!
//! Set `PASSERELLE_DIFFERENTIAL_REPORT=<path>` to write every disagreement, in
//! full, to a file; the test output shows them grouped, with examples.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt::Write as _;
use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use stix::json::{self, Value};
use stix::{Diagnostic, Severity, validate_object};

/// A disagreement with stix2-validator that we keep on purpose.
struct Known {
    /// The object's `id`.
    id: &'static str,
    /// Our rule behind the disagreement. When we say invalid, one of our errors
    /// must have this rule. When we say valid, one of our warnings must have it,
    /// or it is `"-"` and we report nothing about the object at all.
    rule: &'static str,
    /// The section of the STIX 2.1 specification that decides the case.
    section: &'static str,
    /// Why stix2-validator is wrong there.
    why: &'static str,
}

/// Objects on which we deliberately differ from stix2-validator 3.3.2.
const KNOWN: &[Known] = &[];

/// Every table entry names an object, a rule, a spec section and a reason, once.
fn check_table() {
    let mut seen = HashSet::new();
    for k in KNOWN {
        assert!(
            k.id.contains("--") && !k.rule.is_empty(),
            "bad table entry {}",
            k.id
        );
        assert!(
            k.section.starts_with('§')
                || k.section.chars().next().is_some_and(|c| c.is_ascii_digit()),
            "{}: section {:?} should name a spec section, such as 3.2",
            k.id,
            k.section
        );
        assert!(
            k.why.len() > 20,
            "{}: say why stix2-validator is wrong",
            k.id
        );
        assert!(
            seen.insert((k.id, k.rule)),
            "{} [{}] is listed twice",
            k.id,
            k.rule
        );
    }
}

/// How many disagreements the test output shows in full.
const SHOWN: usize = 40;

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("the repository root exists")
}

fn reference_python(root: &Path) -> PathBuf {
    const HINT: &str = "run `bash scripts/python-env.sh` (it creates .venv with stix2-validator 3.3.2) \
                        or set PASSERELLE_PYTHON to a python that has it";
    if let Some(python) = std::env::var_os("PASSERELLE_PYTHON").filter(|p| !p.is_empty()) {
        let python = PathBuf::from(python);
        assert!(
            python.exists(),
            "PASSERELLE_PYTHON={} does not exist: {HINT}",
            python.display()
        );
        return python;
    }
    let python = root.join(".venv/bin/python");
    assert!(
        python.exists(),
        "no reference python: PASSERELLE_PYTHON is not set and {} does not exist; {HINT}",
        python.display()
    );
    python
}

/// The STIX files of `testdata/`, except the hand-written `broken/` corpus.
fn testdata_files(root: &Path) -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        let entries = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
        for entry in entries {
            let path = entry.unwrap().path();
            if path.is_dir() {
                if path.file_name().is_some_and(|n| n != "broken") {
                    walk(&path, out);
                }
            } else {
                let name = path.to_string_lossy();
                if name.ends_with(".json") || name.ends_with(".json.gz") {
                    out.push(path);
                }
            }
        }
    }
    let mut files = Vec::new();
    walk(&root.join("testdata"), &mut files);
    files.sort();
    files
}

fn read_file(path: &Path) -> Vec<u8> {
    let raw = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    if path.extension().is_some_and(|e| e == "gz") {
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(raw.as_slice())
            .read_to_end(&mut out)
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        out
    } else {
        raw
    }
}

/// One line of `reference_verdicts.py`.
struct Reference {
    id: Option<String>,
    valid: bool,
    errors: Vec<String>,
}

/// Reference verdicts by file, then by object index; bundle wrappers by file.
#[derive(Default)]
struct References {
    objects: HashMap<String, BTreeMap<usize, Reference>>,
    bundles: HashMap<String, Reference>,
}

fn reference_verdicts(root: &Path, files: &[PathBuf]) -> References {
    let python = reference_python(root);
    let script = root.join("scripts/reference_verdicts.py");
    let output = Command::new(&python)
        .arg(&script)
        .args(files)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", python.display()));
    assert!(
        output.status.success(),
        "{} {} failed ({}); if stix2-validator is missing, run `bash scripts/python-env.sh`:\n{}",
        python.display(),
        script.display(),
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    let mut refs = References::default();
    for line in String::from_utf8(output.stdout).unwrap().lines() {
        let v: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("bad reference line {line}: {e}"));
        let file = v["file"].as_str().unwrap().to_owned();
        let reference = Reference {
            id: v["id"].as_str().map(str::to_owned),
            valid: v["valid"].as_bool().unwrap(),
            errors: v["errors"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e.as_str().unwrap().to_owned())
                .collect(),
        };
        match v["kind"].as_str().unwrap() {
            "bundle" => {
                refs.bundles.insert(file, reference);
            }
            "object" => {
                let index = v["index"].as_u64().unwrap() as usize;
                refs.objects
                    .entry(file)
                    .or_default()
                    .insert(index, reference);
            }
            other => panic!("unknown reference line kind {other}"),
        }
    }
    refs
}

/// One object on which the two validators disagree.
struct Disagreement {
    file: String,
    index: Option<usize>,
    id: String,
    ours: Vec<Diagnostic>,
    /// Whether we say invalid (and the reference valid), or the reverse.
    we_reject: bool,
    reference_errors: Vec<String>,
}

impl Disagreement {
    fn our_errors(&self) -> impl Iterator<Item = &Diagnostic> {
        self.ours.iter().filter(|d| d.severity == Severity::Error)
    }

    /// What groups alike disagreements: the object type, then our error rules
    /// and properties, or the reference's messages with the object id and quoted
    /// values taken out.
    fn group(&self) -> String {
        let object_type = self.id.split("--").next().unwrap_or("");
        if self.we_reject {
            let mut rules: Vec<String> = self
                .our_errors()
                .map(|d| format!("{}({})", d.rule, path_shape(&d.property)))
                .collect();
            rules.sort_unstable();
            rules.dedup();
            format!("only we reject {object_type}: {}", rules.join(", "))
        } else {
            let mut shapes: Vec<String> = self
                .reference_errors
                .iter()
                .map(|m| message_shape(m, &self.id))
                .collect();
            shapes.sort();
            shapes.dedup();
            format!(
                "only stix2-validator rejects {object_type}: {}",
                shapes.join(" | ")
            )
        }
    }

    fn is_explained_by(&self, known: &Known) -> bool {
        if known.id != self.id {
            return false;
        }
        if self.we_reject {
            self.our_errors().any(|d| d.rule == known.rule)
        } else if known.rule == "-" {
            self.ours.is_empty()
        } else {
            self.ours
                .iter()
                .any(|d| d.severity == Severity::Warning && d.rule == known.rule)
        }
    }

    fn describe(&self, out: &mut String) {
        let at = self
            .index
            .map_or("bundle".to_owned(), |i| format!("objects[{i}]"));
        let _ = writeln!(out, "  {} {at} {}", self.file, self.id);
        if self.we_reject {
            let _ = writeln!(out, "    stix2-validator: valid");
        } else {
            for e in &self.reference_errors {
                let _ = writeln!(out, "    stix2-validator: {e}");
            }
        }
        if self.ours.is_empty() {
            let _ = writeln!(out, "    passerelle:      valid, no diagnostics");
        }
        for d in &self.ours {
            let _ = writeln!(
                out,
                "    passerelle:      {}: {}: {} [{}]",
                if d.property.is_empty() {
                    "-"
                } else {
                    &d.property
                },
                d.severity,
                d.message,
                d.rule
            );
        }
    }
}

/// A property path with its list indices taken out.
fn path_shape(path: &str) -> String {
    let mut shape = String::new();
    let mut in_index = false;
    for c in path.chars() {
        match c {
            '[' => {
                in_index = true;
                shape.push_str("[]");
            }
            ']' => in_index = false,
            _ if in_index => {}
            c => shape.push(c),
        }
    }
    shape
}

/// A reference message with what varies from object to object removed.
fn message_shape(message: &str, id: &str) -> String {
    let message = message
        .strip_prefix(id)
        .and_then(|m| m.strip_prefix(": "))
        .unwrap_or(message);
    let mut shape = String::new();
    let mut quoted = false;
    for c in message.chars() {
        match (c, quoted) {
            ('\'', false) => {
                quoted = true;
                shape.push_str("'…");
            }
            ('\'', true) => {
                quoted = false;
                shape.push('\'');
            }
            (_, true) => {}
            (c, false) if c.is_ascii_digit() => {
                if !shape.ends_with('#') {
                    shape.push('#');
                }
            }
            (c, false) => shape.push(c),
        }
    }
    shape
}

/// Per-file counts for the summary.
#[derive(Default)]
struct FileCounts {
    objects: usize,
    reference_invalid: usize,
    our_invalid: usize,
    disagreements: usize,
}

#[test]
fn every_testdata_object_gets_the_reference_verdict() {
    check_table();
    let started = std::time::Instant::now();
    let root = repo_root();
    let files = testdata_files(&root);
    assert!(
        files.len() >= 20,
        "expected the real STIX files under testdata/, found {}",
        files.len()
    );
    let refs = reference_verdicts(&root, &files);
    let reference_time = started.elapsed();

    let mut problems = Vec::new();
    let mut disagreements = Vec::new();
    let mut counts: BTreeMap<String, FileCounts> = BTreeMap::new();
    for path in &files {
        let key = path.to_string_lossy().into_owned();
        let short = path
            .strip_prefix(root.join("testdata"))
            .unwrap_or(path)
            .to_string_lossy()
            .into_owned();
        let bytes = read_file(path);
        let document = match json::parse(&bytes) {
            Ok(document) => document,
            Err(e) => {
                problems.push(format!("{short}: our JSON parser rejects the file: {e}"));
                continue;
            }
        };
        let count = counts.entry(short.clone()).or_default();
        let objects: Vec<&Value<'_>> = match &document {
            Value::Object(map) if map.get("type").and_then(Value::as_str) == Some("bundle") => {
                if let Some(bundle) = refs.bundles.get(&key).filter(|b| !b.valid) {
                    // The bundle wrapper is not checked on our side yet.
                    disagreements.push(Disagreement {
                        file: short.clone(),
                        index: None,
                        id: bundle.id.clone().unwrap_or_default(),
                        ours: Vec::new(),
                        we_reject: false,
                        reference_errors: bundle.errors.clone(),
                    });
                    count.disagreements += 1;
                }
                map.get("objects")
                    .and_then(Value::as_array)
                    .map(|a| a.iter().collect())
                    .unwrap_or_default()
            }
            Value::Array(items) => items.iter().collect(),
            other => vec![other],
        };
        let empty = BTreeMap::new();
        let file_refs = refs.objects.get(&key).unwrap_or(&empty);
        if file_refs.len() != objects.len() {
            problems.push(format!(
                "{short}: stix2-validator saw {} objects, we see {}",
                file_refs.len(),
                objects.len()
            ));
            continue;
        }
        for (index, object) in objects.into_iter().enumerate() {
            let id = object
                .get("id")
                .and_then(Value::as_str)
                .unwrap_or("(no id)")
                .to_owned();
            let Some(reference) = file_refs.get(&index) else {
                problems.push(format!(
                    "{short}: objects[{index}] {id}: no reference verdict"
                ));
                continue;
            };
            if reference.id.as_deref().unwrap_or("(no id)") != id {
                problems.push(format!(
                    "{short}: objects[{index}]: reference verdict is for {:?}, we read {id}",
                    reference.id
                ));
                continue;
            }
            let ours = validate_object(object);
            let we_reject = ours.iter().any(|d| d.severity == Severity::Error);
            count.objects += 1;
            count.our_invalid += usize::from(we_reject);
            count.reference_invalid += usize::from(!reference.valid);
            if we_reject == reference.valid {
                count.disagreements += 1;
                disagreements.push(Disagreement {
                    file: short.clone(),
                    index: Some(index),
                    id,
                    ours,
                    we_reject,
                    reference_errors: reference.errors.clone(),
                });
            }
        }
    }

    // Match the disagreements against the table, both ways.
    let mut used = HashSet::new();
    let mut unexplained = Vec::new();
    for d in &disagreements {
        match KNOWN.iter().position(|k| d.is_explained_by(k)) {
            Some(i) => {
                used.insert(i);
            }
            None => unexplained.push(d),
        }
    }
    let stale: Vec<&Known> = KNOWN
        .iter()
        .enumerate()
        .filter(|(i, _)| !used.contains(i))
        .map(|(_, k)| k)
        .collect();

    let mut summary = String::new();
    let _ = writeln!(
        summary,
        "differential test against stix2-validator 3.3.2 ({} files, reference in {:.1?}, total {:.1?})",
        files.len(),
        reference_time,
        started.elapsed()
    );
    let _ = writeln!(
        summary,
        "{:>8} {:>10} {:>10} {:>10}  file",
        "objects", "ref-inval", "our-inval", "disagree"
    );
    let mut total = FileCounts::default();
    for (file, c) in &counts {
        let _ = writeln!(
            summary,
            "{:>8} {:>10} {:>10} {:>10}  {file}",
            c.objects, c.reference_invalid, c.our_invalid, c.disagreements
        );
        total.objects += c.objects;
        total.reference_invalid += c.reference_invalid;
        total.our_invalid += c.our_invalid;
        total.disagreements += c.disagreements;
    }
    let _ = writeln!(
        summary,
        "{:>8} {:>10} {:>10} {:>10}  total ({} known, {} unexplained)",
        total.objects,
        total.reference_invalid,
        total.our_invalid,
        total.disagreements,
        disagreements.len() - unexplained.len(),
        unexplained.len()
    );

    if !unexplained.is_empty() {
        let mut groups: BTreeMap<String, Vec<&Disagreement>> = BTreeMap::new();
        for d in &unexplained {
            groups.entry(d.group()).or_default().push(d);
        }
        let mut groups: Vec<_> = groups.into_iter().collect();
        groups.sort_by(|a, b| b.1.len().cmp(&a.1.len()).then_with(|| a.0.cmp(&b.0)));
        let _ = writeln!(summary, "\nunexplained disagreements by kind:");
        for (group, members) in &groups {
            let _ = writeln!(summary, "{:>6} × {group}", members.len());
        }
        let _ = writeln!(
            summary,
            "\nthe first of each kind, then others, {SHOWN} at most \
             (PASSERELLE_DIFFERENTIAL_REPORT=<path> writes them all):"
        );
        let firsts: Vec<&Disagreement> = groups.iter().map(|(_, m)| m[0]).collect();
        let others = unexplained
            .iter()
            .copied()
            .filter(|d| !firsts.iter().any(|f| std::ptr::eq(*f, *d)));
        let shown: Vec<&Disagreement> = firsts.iter().copied().chain(others).collect();
        for d in shown.into_iter().take(SHOWN) {
            d.describe(&mut summary);
        }
    }
    if let Some(path) = std::env::var_os("PASSERELLE_DIFFERENTIAL_REPORT") {
        let mut full = summary.clone();
        let _ = writeln!(full, "\nall disagreements:");
        for d in &disagreements {
            d.describe(&mut full);
        }
        std::fs::write(&path, full).unwrap();
    }
    if !stale.is_empty() {
        let _ = writeln!(
            summary,
            "\ntable entries that no longer match a disagreement (remove them or fix the rule):"
        );
        for k in &stale {
            let _ = writeln!(summary, "  {} [{}] {}: {}", k.id, k.rule, k.section, k.why);
        }
    }
    for p in &problems {
        let _ = writeln!(summary, "problem: {p}");
    }
    assert!(
        total.objects > 10_000,
        "only {} objects compared",
        total.objects
    );
    assert!(
        problems.is_empty() && unexplained.is_empty() && stale.is_empty(),
        "{} unexplained disagreement(s), {} stale table entr(ies), {} problem(s):\n{summary}",
        unexplained.len(),
        stale.len(),
        problems.len()
    );
    eprintln!("{summary}");
}

#[test]
fn message_shapes_group_alike_messages() {
    let id = "url--571620b0-5e38-4e8c-9c29-416d950d210f";
    let a = format!("{id}: value: '107.183.86' is not a 'uri'");
    let b = "url--x: value: 'igfxtray.exe' is not a 'uri'";
    assert_eq!(message_shape(&a, id), "value: '…' is not a '…'");
    assert_eq!(message_shape(b, "url--x"), message_shape(&a, id));
    assert_eq!(
        message_shape("external_references[3].url: x", "y"),
        "external_references[#].url: x"
    );
    assert_eq!(path_shape("hashes[12].x_sha256"), "hashes[].x_sha256");
}
