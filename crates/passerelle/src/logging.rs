//! Installs the process's `tracing` subscriber: logs to standard error, as
//! text or JSON lines, filtered by `RUST_LOG` or else the `[log] level` setting.

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

use crate::config::{LogConfig, LogFormat};

/// Installs the global subscriber; a second call (as in tests) leaves the first in place.
pub fn init(config: &LogConfig) {
    let filter = match std::env::var("RUST_LOG") {
        Ok(directives) if !directives.trim().is_empty() => {
            EnvFilter::try_new(&directives).unwrap_or_else(|_| EnvFilter::new(&config.level))
        }
        _ => EnvFilter::new(&config.level),
    };
    // Colour codes only for a person at a terminal, never into a file or a collector.
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr);
    // Only the first subscriber of a process counts; later attempts are harmless.
    let _ = match config.format {
        LogFormat::Text => builder.with_target(true).try_init(),
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .try_init(),
    };
}
