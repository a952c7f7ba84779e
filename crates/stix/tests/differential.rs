//! The differential test: every STIX object under `testdata/` (the real data:
//! ATT&CK, CAPEC, MISP-converted events, the OASIS examples; and the hand-made
//! `spec-differences/` corpus) must get the same verdict from
//! [`stix::validate_object`] as from the OASIS stix2-validator 3.3.2, object by
//! object, and every bundle wrapper the same verdict from
//! [`stix::bundle::validate_header`]. "Invalid" means at least one error-severity
//! diagnostic on our side, and at least one error on the reference side. Files are
//! read with [`stix::bundle::ObjectReader`], the streaming reader of
//! `passerelle validate`, so the test goes the CLI's way through a file.
//!
//! The reference verdicts come from `scripts/reference_verdicts.py`, run with the
//! Python of `PASSERELLE_PYTHON`, else `<repo>/.venv/bin/python` (made by
//! `scripts/python-env.sh`). Without either the test fails: it never skips.
//!
//! Where stix2-validator is wrong by the specification we keep our verdict and
//! list the object in [`KNOWN`], with the spec section and the reason. Each such
//! difference has one object in `testdata/spec-differences/`, so the table shows
//! what we deliberately do differently even where the real data never hits it. A
//! disagreement missing from the table fails the test, and so does a table entry
//! that no longer matches a disagreement, so the table stays true.
//!
//! Set `PASSERELLE_DIFFERENTIAL_REPORT=<path>` to write every disagreement, in
//! full, to a file; the test output shows them grouped, with examples.

// Test and measurement code: a failed step should stop with its message.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt::Write as _;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;

use stix::bundle::{ObjectReader, Shape, validate_header};
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

/// Objects on which we deliberately differ from stix2-validator 3.3.2, all from
/// the hand-made corpus `testdata/spec-differences/`, one object per difference.
/// Sections are those of STIX 2.1 Errata 01 (the OASIS Markdown text).
const KNOWN: &[Known] = &[
    Known {
        id: "extension-definition--d9dfa16a-add0-4acf-9bc8-e108cba92ed7",
        rule: "required",
        section: "§7.3.1",
        why: "created_by_ref is a required common property of an extension-definition; the 2.1 schema stix2-validator uses leaves it optional",
    },
    Known {
        id: "malware--18e6ca4f-a0b4-40a9-9a8f-0c8a36193bf5",
        rule: "reference-type",
        section: "§4.11",
        why: "sample_refs lists identifiers of type file or artifact; the schema asks only for strings, so a url passes",
    },
    Known {
        id: "observed-data--01eb07dd-3f7a-4976-8fda-8a1ba57358f7",
        rule: "reference-type",
        section: "§4.14",
        why: "object_refs is a list of SCOs and SROs; stix2-validator accepts a marking-definition there",
    },
    Known {
        id: "campaign--2811bd54-06b1-4045-9684-2da0c2fbd48b",
        rule: "reference-type",
        section: "§3.2",
        why: "created_by_ref is the id of an identity object; stix2-validator checks only the identifier syntax, so a threat-actor passes",
    },
    Known {
        id: "identity--be253563-5fb6-4f89-88a5-e68592225fc4",
        rule: "property-name",
        section: "§7.3.2.1",
        why: "extension property names MUST only contain a-z, 0-9 and _ (and §3.1: property names MUST be lowercase); stix2-validator does not check the names inside an extension, so abcDef passes",
    },
    Known {
        id: "relationship--5badd56a-41f7-4d0e-bd20-3ef3101c7ba5",
        rule: "reference-type",
        section: "§5.1.2",
        why: "source_ref MUST be an ID reference to an SDO or SCO; an extension-definition is a meta object (SMO), which stix2-validator does not exclude",
    },
    Known {
        id: "sighting--4a51f7da-075f-498a-94aa-2b9f569de3c7",
        rule: "reference-type",
        section: "§5.2.1",
        why: "sighting_of_ref MUST reference only an SDO; stix2-validator accepts a reference to a file SCO",
    },
    Known {
        id: "domain-name--feedcda9-e3bf-56e6-898d-e96c7f0f33f6",
        rule: "reference-type",
        section: "§6.4",
        why: "resolves_to_refs MUST be of type ipv4-addr, ipv6-addr or domain-name; stix2-validator checks SCO reference types only inside observed-data objects, not on top-level SCOs",
    },
    Known {
        id: "process--8a2acad7-adc3-4ac3-ba47-cb075f96af8e",
        rule: "-",
        section: "§6.13.2",
        why: "the windows-process-ext needs at least one of its properties and integrity_level is one; the schema's anyOf list leaves integrity_level out (and misspells windows_title)",
    },
    Known {
        id: "ipv6-addr--3cbdde9e-d72f-52ab-9a38-fc8b2fd4714d",
        rule: "-",
        section: "§6.9",
        why: "::ffff:192.0.2.1 is an IPv6 address in the RFC 4291 §2.2 text form with an embedded IPv4 part; the schema's regex lost its backslashes (\\d became d), so no such address matches",
    },
    Known {
        id: "network-traffic--c56060af-14c3-55b3-a09d-d97c81044378",
        rule: "integer-range",
        section: "§6.12.1",
        why: "src_byte_count is the number of bytes sent, 'as a positive integer'; the schema has no lower bound, so stix2-validator accepts -1",
    },
    Known {
        id: "campaign--2873b19e-1fbb-4751-8ccf-57a462fd2d7d",
        rule: "-",
        section: "§7.2.3",
        why: "a granular marking has exactly one of marking_ref and lang, and the spec's own example marks a description with lang alone; the schema requires marking_ref",
    },
    Known {
        id: "campaign--c903e8b5-037f-4c8c-bffb-acb15f8ee17b",
        rule: "granular-marking",
        section: "§7.2.3",
        why: "if marking_ref is present, lang MUST NOT be present (and the reverse); the schema allows both at once",
    },
    Known {
        id: "campaign--ec5f1306-9f46-42eb-a8a7-959d6bf7d064",
        rule: "selector",
        section: "§7.2.3.1",
        why: "the spec lists description.[0] as an invalid selector because description is a string, not a list; stix2-validator checks only the selector's syntax",
    },
    Known {
        id: "file--64b99eee-afcc-5863-8b17-aacc0d4b20dd",
        rule: "-",
        section: "§7.2.3.1",
        why: "a selector component is a property name or a dictionary key, and dictionary and hash keys may have capitals and hyphens (§2.3, §2.7): hashes.SHA-256 is valid; the schema's selector regex allows only lowercase",
    },
    Known {
        id: "indicator--bf2b27dd-29a2-4f8b-88d7-6ab9fee33423",
        rule: "pattern",
        section: "§9.2",
        why: "a timestamp constant encodes a STIX timestamp (§2.16, RFC 3339), and 2021-02-29 is no date; stix2-patterns checks only the digit ranges",
    },
    Known {
        id: "indicator--fb24d568-d43b-4d48-8733-661b3d221bcd",
        rule: "pattern",
        section: "§9.5.1",
        why: "in WITHIN x SECONDS, x MUST be a positive floating-point or integer value; stix2-patterns accepts 0",
    },
    Known {
        id: "indicator--75cce341-a6bd-4eeb-9566-dee89002d45b",
        rule: "pattern",
        section: "§9.5.1",
        why: "in REPEATS x TIMES, x MUST be a positive integer; stix2-patterns accepts 0",
    },
    Known {
        id: "indicator--a3916b41-0de9-4753-bdd5-29fc613f552a",
        rule: "-",
        section: "§9.6.1",
        why: "IN takes a set of constants, each compared on its own; stix2-validator checks the whole set, parentheses and commas included, as one SHA-256 value",
    },
    Known {
        id: "indicator--db8ea645-c049-4e60-9ea6-287b9105cff6",
        rule: "pattern",
        section: "§9.6.1",
        why: "EXISTS takes an object path, whose object type and property name follow the naming rules (§9.7, §3.1: 3 to 250 characters); stix2-validator checks names only in the pattern's comparisons, which leave EXISTS out, so fi:x passes",
    },
];

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

/// The file's bytes, unpacked on the fly when it ends in `.gz`.
fn open_file(path: &Path) -> Box<dyn Read> {
    let file = std::fs::File::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let file = std::io::BufReader::with_capacity(256 << 10, file);
    if path.extension().is_some_and(|e| e == "gz") {
        Box::new(flate2::read::GzDecoder::new(file))
    } else {
        Box::new(file)
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
        let count = counts.entry(short.clone()).or_default();
        let empty = BTreeMap::new();
        let file_refs = refs.objects.get(&key).unwrap_or(&empty);
        // The streaming reader `passerelle validate` uses, so the reader is
        // compared as well as the rules.
        let mut objects = ObjectReader::new(open_file(path));
        let mut seen = 0;
        loop {
            let raw = match objects.next_object() {
                Ok(Some(raw)) => raw,
                Ok(None) => break,
                Err(e) => {
                    problems.push(format!("{short}: our reader: {e}"));
                    if e.is_recoverable() {
                        continue;
                    }
                    break;
                }
            };
            seen += 1;
            let index = raw.index;
            let object = match json::parse(raw.bytes) {
                Ok(object) => object,
                Err(e) => {
                    problems.push(format!(
                        "{short}: objects[{index}]: our JSON parser rejects it: {e}"
                    ));
                    continue;
                }
            };
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
            let ours = validate_object(&object);
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
        if seen != file_refs.len() {
            problems.push(format!(
                "{short}: stix2-validator saw {} objects, we read {seen}",
                file_refs.len()
            ));
        }
        // The bundle wrapper, checked as the CLI checks it once the objects are read.
        match (objects.shape(), refs.bundles.get(&key)) {
            (Some(Shape::Container), Some(bundle)) => {
                let ours = validate_header(objects.header());
                let we_reject = ours.iter().any(|d| d.severity == Severity::Error);
                if we_reject == bundle.valid {
                    count.disagreements += 1;
                    disagreements.push(Disagreement {
                        file: short.clone(),
                        index: None,
                        id: bundle.id.clone().unwrap_or_default(),
                        ours,
                        we_reject,
                        reference_errors: bundle.errors.clone(),
                    });
                }
            }
            (Some(Shape::Container), None)
            | (Some(Shape::Array | Shape::Single) | None, Some(_)) => {
                problems.push(format!(
                    "{short}: we read it as {:?}, stix2-validator {} a bundle",
                    objects.shape(),
                    if refs.bundles.contains_key(&key) {
                        "as"
                    } else {
                        "not as"
                    }
                ));
            }
            _ => {}
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
