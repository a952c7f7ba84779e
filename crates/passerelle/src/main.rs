//! The `passerelle` command line: a STIX 2.1 / TAXII 2.1 node for partner
//! security services. Commands live in [`cli`]; this file only dispatches.

mod cli;
#[allow(dead_code)]
mod config;
mod input;
#[allow(dead_code)]
mod node;
// Wired into `passerelle serve` once the store and taxii crates land.
#[allow(dead_code)]
mod logging;
#[allow(dead_code)]
mod server;
#[allow(dead_code)]
mod shutdown;
#[allow(dead_code)]
mod tls;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let args = cli::Cli::parse();
    match cli::run(args) {
        Ok(code) => code,
        Err(error) => {
            cli::output::error(&format!("{error:#}"));
            ExitCode::from(2)
        }
    }
}
