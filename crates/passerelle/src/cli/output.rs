//! The only place that writes to the terminal, so that stdout stays the
//! command's product and messages go to stderr.

#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::io::{self, Write};

/// Writes a line of the command's output to stdout; a closed pipe ends quietly.
pub fn line(out: &mut impl Write, text: &str) -> io::Result<()> {
    out.write_all(text.as_bytes())?;
    out.write_all(b"\n")
}

/// Reports a failure of the command itself on stderr.
pub fn error(message: &str) {
    eprintln!("passerelle: error: {message}");
}

/// How a command prints its results: lines for people, or JSON for scripts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Lines for people.
    Text,
    /// JSON for scripts.
    Json,
}
