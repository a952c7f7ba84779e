//! Checks STIX patterns read from standard input, one per line (a JSON string,
//! or raw text when the line does not start with `"`), and prints one JSON
//! line per pattern: `{"valid": bool, "problems": [[severity, offset, message]…]}`.
//!
//! `pattern_diff.py` beside this file runs it against stix2-patterns.

use std::io::{BufRead, Write};

fn main() {
    let stdin = std::io::stdin();
    let mut out = std::io::stdout().lock();
    for line in stdin.lock().lines().map_while(Result::ok) {
        if line.is_empty() {
            continue;
        }
        let pattern = if line.starts_with('"') {
            serde_json::from_str::<String>(&line).unwrap_or(line)
        } else {
            line
        };
        let problems = stix::pattern::check(&pattern);
        let valid = !problems.iter().any(|p| p.severity == stix::Severity::Error);
        let list: Vec<_> = problems
            .iter()
            .map(|p| serde_json::json!([p.severity.as_str(), p.offset, p.message]))
            .collect();
        let _ = writeln!(
            out,
            "{}",
            serde_json::json!({"valid": valid, "problems": list})
        );
    }
}
