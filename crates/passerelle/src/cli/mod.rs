//! Command-line arguments and dispatch to one module per command.

mod collection;
mod config;
mod export;
mod import;
pub mod output;
mod validate;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

const EXAMPLES: &str = "\
Examples:
  passerelle validate feed.json            check a STIX 2.1 bundle, one line per problem
  passerelle config default                print a commented config file with every setting
  passerelle validate --help               options and output format of a command";

/// Passerelle: a STIX 2.1 / TAXII 2.1 node that partner security services run
/// themselves to exchange threat intelligence under enforced sharing agreements.
#[derive(Debug, Parser)]
#[command(name = "passerelle", version, after_help = EXAMPLES)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    Validate(validate::Args),
    Config(config::Args),
    Collection(collection::Args),
    Import(import::Args),
    Export(export::Args),
}

/// Runs the chosen command and returns the process exit code.
pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Validate(args) => validate::run(args),
        Command::Config(args) => config::run(args),
        Command::Collection(args) => collection::run(args),
        Command::Import(args) => import::run(args),
        Command::Export(args) => export::run(args),
    }
}
