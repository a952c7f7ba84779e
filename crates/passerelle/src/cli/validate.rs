//! `passerelle validate`: checks STIX 2.1 files object by object and prints
//! one line per problem, then a summary.

use std::io::{self, BufWriter, Write};
use std::process::ExitCode;

use std::ops::ControlFlow;

use stix::bundle::{ObjectReader, ReadError, ReaderLimits, Shape};
use stix::json;
use stix::{Diagnostic, Severity};

use super::output;
use super::output::Format;
use crate::input;

const EXAMPLES: &str = "\
Examples:
  passerelle validate report.json
  passerelle validate --strict ics-attack.json.gz mobile-attack.json
  curl -s https://example.org/feed.json | passerelle validate -
  passerelle validate --format json bundle.json | jq 'select(.severity == \"error\")'

Each problem is one line: <file>: <object id>: <property>: <severity>: <message> [<rule>].
Objects without a usable id are named by their place in the list, as objects[N].
The exit code is 0 when no errors were found, 1 when some were, 2 when the command itself failed.";

/// Check STIX 2.1 content against the specification.
///
/// Reads bundles, TAXII envelopes, JSON arrays of objects or single objects,
/// plain or gzip-compressed, streaming: files larger than memory are fine.
#[derive(Debug, clap::Args)]
#[command(after_help = EXAMPLES)]
pub struct Args {
    /// Files to check (`.json` or `.json.gz`); `-` reads standard input.
    #[arg(required = true, value_name = "FILE")]
    files: Vec<String>,
    /// Treat warnings as errors.
    #[arg(long)]
    strict: bool,
    /// Print only errors (warnings still count in the summary).
    #[arg(long)]
    errors_only: bool,
    /// Output format: `text` for people, `json` (one JSON object per line) for machines.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    /// Largest single object accepted, in bytes; larger ones are reported and skipped.
    #[arg(long, default_value_t = ReaderLimits::default().max_object_bytes, value_name = "BYTES")]
    max_object_size: usize,
}

#[derive(Debug, Default)]
struct Summary {
    files: usize,
    objects: usize,
    invalid_objects: usize,
    errors: usize,
    warnings: usize,
}

/// Where a problem was found, for the report line.
struct Location<'a> {
    file: &'a str,
    index: Option<usize>,
}

struct Report<W: Write> {
    out: W,
    format: Format,
    strict: bool,
    errors_only: bool,
    summary: Summary,
    /// Reused for each JSON record.
    record: Vec<u8>,
}

impl<W: Write> Report<W> {
    /// Records and prints the diagnostics of one object; returns whether it had errors.
    fn object(&mut self, at: &Location<'_>, diagnostics: &[Diagnostic]) -> io::Result<bool> {
        let mut invalid = false;
        for diagnostic in diagnostics {
            let severity = match diagnostic.severity {
                Severity::Warning if self.strict => Severity::Error,
                other => other,
            };
            match severity {
                Severity::Error => {
                    self.summary.errors += 1;
                    invalid = true;
                }
                Severity::Warning => self.summary.warnings += 1,
            }
            if self.errors_only && severity == Severity::Warning {
                continue;
            }
            self.print(at, diagnostic, severity)?;
        }
        Ok(invalid)
    }

    fn print(&mut self, at: &Location<'_>, d: &Diagnostic, severity: Severity) -> io::Result<()> {
        match self.format {
            Format::Text => {
                // Written straight into the buffered output: with thousands of
                // warnings per file, building each line as a String first shows up.
                write!(self.out, "{}: ", at.file)?;
                match (&d.object_id, at.index) {
                    (Some(id), _) => self.out.write_all(id.as_bytes())?,
                    (None, Some(i)) => write!(self.out, "objects[{i}]")?,
                    (None, None) => self.out.write_all(b"-")?,
                }
                let property = if d.property.is_empty() {
                    "-"
                } else {
                    &d.property
                };
                writeln!(
                    self.out,
                    ": {property}: {severity}: {} [{}]",
                    d.message, d.rule
                )
            }
            Format::Json => {
                // Built by hand rather than through serde_json::Value: one record
                // per warning, and ATT&CK has several warnings per object.
                let record = &mut self.record;
                record.clear();
                record.extend_from_slice(b"{\"file\":");
                json::write_string(at.file, record);
                record.extend_from_slice(b",\"object_index\":");
                match at.index {
                    Some(i) => {
                        let _ = write!(record, "{i}");
                    }
                    None => record.extend_from_slice(b"null"),
                }
                record.extend_from_slice(b",\"object_id\":");
                match &d.object_id {
                    Some(id) => json::write_string(id, record),
                    None => record.extend_from_slice(b"null"),
                }
                for (key, value) in [
                    ("property", d.property.as_str()),
                    ("severity", severity.as_str()),
                    ("rule", d.rule),
                    ("message", d.message.as_str()),
                ] {
                    record.extend_from_slice(b",\"");
                    record.extend_from_slice(key.as_bytes());
                    record.extend_from_slice(b"\":");
                    json::write_string(value, record);
                }
                record.extend_from_slice(b"}\n");
                self.out.write_all(record)
            }
        }
    }

    /// Reports a problem with the file itself (unreadable, truncated, not JSON).
    fn file_error(
        &mut self,
        file: &str,
        index: Option<usize>,
        rule: &'static str,
        message: String,
    ) -> io::Result<()> {
        let diagnostic = Diagnostic {
            severity: Severity::Error,
            object_id: None,
            property: String::new(),
            rule,
            message,
        };
        self.object(&Location { file, index }, std::slice::from_ref(&diagnostic))?;
        Ok(())
    }

    fn finish(&mut self) -> io::Result<()> {
        let s = &self.summary;
        let text = match self.format {
            Format::Text => format!(
                "{} objects in {} files: {} invalid, {} errors, {} warnings",
                s.objects, s.files, s.invalid_objects, s.errors, s.warnings
            ),
            Format::Json => serde_json::json!({
                "summary": {
                    "files": s.files,
                    "objects": s.objects,
                    "invalid_objects": s.invalid_objects,
                    "errors": s.errors,
                    "warnings": s.warnings,
                }
            })
            .to_string(),
        };
        output::line(&mut self.out, &text)?;
        self.out.flush()
    }
}

fn check_file<W: Write>(
    report: &mut Report<W>,
    file: &str,
    limits: ReaderLimits,
) -> io::Result<()> {
    report.summary.files += 1;
    let reader = match input::open(file) {
        Ok(r) => r,
        Err(e) => {
            return report.file_error(file, None, "input", format!("cannot read {file}: {e}"));
        }
    };
    let mut objects = ObjectReader::with_limits(reader, limits);
    let mut diagnostics = Vec::new();
    let mut written = Ok(());
    let end = objects.for_each_parsed(json::Limits::default(), |item| {
        let result = match item {
            Ok(parsed) => {
                report.summary.objects += 1;
                diagnostics.clear();
                match &parsed.value {
                    Ok(value) => stix::validate::validate_object_into(value, &mut diagnostics),
                    Err(e) => {
                        let (line, column) = e.line_column(parsed.raw.bytes);
                        diagnostics.push(Diagnostic {
                            severity: Severity::Error,
                            object_id: None,
                            property: String::new(),
                            rule: "json",
                            message: format!(
                                "invalid JSON: {} (byte {} of the file; line {line}, column {column} of the object)",
                                e.kind,
                                parsed.raw.offset + e.offset as u64
                            ),
                        });
                    }
                }
                let location = Location {
                    file,
                    index: Some(parsed.raw.index),
                };
                report.object(&location, &diagnostics).map(|invalid| {
                    if invalid {
                        report.summary.invalid_objects += 1;
                    }
                })
            }
            // A skipped object (too large, not UTF-8) still counts as an invalid object.
            Err(e) => {
                report.summary.objects += 1;
                report.summary.invalid_objects += 1;
                let (index, rule) = match e {
                    ReadError::TooLarge { index, .. } => (Some(index), "object-size"),
                    ReadError::InvalidUtf8 { index, .. } => (Some(index), "json"),
                    _ => (None, "input"),
                };
                report.file_error(file, index, rule, e.to_string())
            }
        };
        match result {
            Ok(()) => ControlFlow::Continue(()),
            Err(e) => {
                written = Err(e);
                ControlFlow::Break(())
            }
        }
    });
    written?;
    if let Err(e) = end {
        return report.file_error(file, None, "input", e.to_string());
    }
    if objects.shape() == Some(Shape::Container) {
        let header = stix::bundle::validate_header(objects.header());
        report.object(&Location { file, index: None }, &header)?;
    }
    Ok(())
}

/// Runs `passerelle validate`.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let stdout = io::stdout();
    let mut report = Report {
        out: BufWriter::with_capacity(64 << 10, stdout.lock()),
        format: args.format,
        strict: args.strict,
        errors_only: args.errors_only,
        summary: Summary::default(),
        record: Vec::with_capacity(512),
    };
    let limits = ReaderLimits {
        max_object_bytes: args.max_object_size,
    };
    let written = args
        .files
        .iter()
        .try_for_each(|file| check_file(&mut report, file, limits))
        .and_then(|()| report.finish());
    match written {
        Ok(()) => {}
        // `passerelle validate big.json | head` is normal use, not a failure.
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => {}
        Err(e) => return Err(e.into()),
    }
    Ok(if report.summary.errors > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
