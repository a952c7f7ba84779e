//! The `passerelle` command line: a STIX 2.1 / TAXII 2.1 node for partner
//! security services. Commands live in [`cli`]; this file only dispatches.

mod bootstrap;
mod cli;
mod config;
mod input;
mod logging;
mod node;
mod partners;
mod server;
mod shutdown;
mod store_url;
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
