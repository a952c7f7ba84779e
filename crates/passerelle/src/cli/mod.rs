//! Command-line arguments and dispatch to one module per command.

mod account;
mod agreement;
mod audit;
mod collection;
mod config;
mod demo;
mod export;
mod identity;
mod import;
mod init;
mod migrate;
pub mod output;
mod serve;
pub mod sync;
mod token;
mod validate;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

const EXAMPLES: &str = "\
Examples:
  passerelle demo                                           three partner nodes on this machine, synced, explained
  passerelle serve --data ./passerelle-data                 start a node (created on first run; prints its URL and token)
  passerelle import attack.json --collection default        add a bundle's objects to a collection
  passerelle export --collection default --out all.json     write a collection as one bundle
  passerelle account add siem && passerelle account grant siem default --read && passerelle token create siem
  passerelle identity show                                  what a partner needs to add this node
  passerelle agreement preview paris                        what would go to partner paris, and what would not and why
  passerelle export --partner paris --out paris-0001.json   a signed file for an air-gapped partner
  passerelle audit verify                                   check the disclosure ledger's hash chain
  passerelle validate feed.json                             check a STIX 2.1 bundle, one line per problem
  passerelle config default                                 print a commented config file with every setting
  passerelle sync --status                                  where pulls and pushes with each partner stand
  passerelle migrate --from passerelle-data --to new-node   copy a node to another store (SQLite, PostgreSQL)
  passerelle serve --help                                   options and examples of a command";

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
    Demo(demo::Args),
    Init(init::Args),
    Serve(serve::Args),
    Account(account::Args),
    Token(token::Args),
    Collection(collection::Args),
    Import(import::Args),
    Export(export::Args),
    Validate(validate::Args),
    Config(config::Args),
    Identity(identity::Args),
    Agreement(agreement::Args),
    Audit(audit::Args),
    Sync(sync::Args),
    Migrate(migrate::Args),
}

/// Runs the chosen command and returns the process exit code.
pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Demo(args) => demo::run(args),
        Command::Init(args) => init::run(args),
        Command::Serve(args) => serve::run(args),
        Command::Account(args) => account::run(args),
        Command::Token(args) => token::run(args),
        Command::Collection(args) => collection::run(args),
        Command::Import(args) => import::run(args),
        Command::Export(args) => export::run(args),
        Command::Validate(args) => validate::run(args),
        Command::Config(args) => config::run(args),
        Command::Identity(args) => identity::run(args),
        Command::Agreement(args) => agreement::run(args),
        Command::Audit(args) => audit::run(args),
        Command::Sync(args) => sync::run(args),
        Command::Migrate(args) => migrate::run(args),
    }
}
