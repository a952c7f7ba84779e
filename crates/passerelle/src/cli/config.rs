//! `passerelle config`: the commented example configuration, and the effective
//! configuration of a node after its file and environment are applied.

use std::io::{self, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;

use crate::config::{self, Config};

const EXAMPLES: &str = "\
Examples:
  passerelle config default > passerelle.toml       start a config file from the documented defaults
  passerelle config show --config passerelle.toml   check a config file and print what the node would use
  PASSERELLE__SERVER__LISTEN=127.0.0.1:9000 passerelle config show";

/// Print the example configuration, or check and print the effective one.
#[derive(Debug, clap::Args)]
#[command(after_help = EXAMPLES)]
pub struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, clap::Subcommand)]
enum Command {
    /// Print a commented config file with every setting and its default.
    Default,
    /// Validate the configuration (file, then `PASSERELLE__SECTION__KEY` variables) and print it.
    Show {
        /// The config file; without it, the defaults and the environment.
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
    },
}

/// Runs `passerelle config`.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let mut out = io::stdout().lock();
    match args.command {
        Command::Default => out.write_all(config::EXAMPLE.as_bytes())?,
        Command::Show { config } => {
            let mut config = Config::load(config.as_deref(), std::env::vars_os())?;
            // The database URL may hold a password: shown masked, like in logs.
            if let Some(url) = &mut config.store.url {
                *url = config::mask_password(url);
            }
            let text = toml::to_string(&config).context("cannot print the configuration")?;
            out.write_all(text.as_bytes())?;
        }
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}
