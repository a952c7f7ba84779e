//! `passerelle token create|list|revoke`: API tokens, shown once at creation and
//! stored only as their SHA-256.

use std::io::{self, Write};
use std::process::ExitCode;

use anyhow::Context;
use store::NewToken;

use super::output;
use crate::node::{self, NodeArgs};

const EXAMPLES: &str = "\
Examples:
  passerelle token create siem --name splunk
  TOKEN=$(passerelle token create siem)              the token alone is printed on stdout
  curl -H \"Authorization: Bearer $TOKEN\" -H 'Accept: application/taxii+json;version=2.1' http://127.0.0.1:8080/taxii2/
  passerelle token list
  passerelle token revoke siem splunk

A token is shown only when it is created; the node keeps only its hash.";

/// Create, list and revoke API tokens.
#[derive(Debug, clap::Args)]
#[command(after_help = EXAMPLES)]
pub struct Args {
    #[command(flatten)]
    node: NodeArgs,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, clap::Subcommand)]
enum Command {
    /// Create a token for an account and print it (once).
    Create {
        /// The account.
        account: String,
        /// A label to list and revoke it by (default: token-N).
        #[arg(long)]
        name: Option<String>,
    },
    /// List tokens (labels and creation times, never the tokens).
    List {
        /// Only this account's tokens.
        account: Option<String>,
    },
    /// Revoke a token: it stops working at once.
    Revoke {
        /// The account.
        account: String,
        /// The token's label.
        name: String,
    },
}

/// Runs `passerelle token`.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let node = args.node.load()?;
    node::runtime()?.block_on(async {
        let store = node.open_existing_store().await?;
        let mut out = io::stdout().lock();
        match args.command {
            Command::Create { account, name } => {
                let existing = store
                    .list_tokens(&account)
                    .await
                    .with_context(|| format!("cannot read the tokens of {account:?}"))?;
                let name = name.unwrap_or_else(|| {
                    (existing.len() + 1..)
                        .map(|n| format!("token-{n}"))
                        .find(|candidate| existing.iter().all(|t| &t.name != candidate))
                        .unwrap_or_default()
                });
                let token = taxii::auth::generate_token();
                store
                    .add_token(
                        &account,
                        NewToken {
                            name: name.clone(),
                            hash: taxii::auth::token_hash(&token),
                        },
                    )
                    .await
                    .with_context(|| format!("cannot create a token for {account:?}"))?;
                output::line(&mut out, &token)?;
                let mut err = io::stderr().lock();
                output::line(
                    &mut err,
                    &format!("created token {name:?} for {account}: it is shown only this once"),
                )?;
            }
            Command::List { account } => {
                let accounts = match account {
                    Some(name) => vec![name],
                    None => store
                        .list_accounts()
                        .await?
                        .into_iter()
                        .map(|a| a.name)
                        .collect(),
                };
                output::line(
                    &mut out,
                    &format!("{:<24}  {:<24}  CREATED", "ACCOUNT", "NAME"),
                )?;
                for account in accounts {
                    for token in store.list_tokens(&account).await? {
                        output::line(
                            &mut out,
                            &format!(
                                "{:<24}  {:<24}  {}",
                                token.account, token.name, token.created
                            ),
                        )?;
                    }
                }
            }
            Command::Revoke { account, name } => {
                store
                    .revoke_token(&account, &name)
                    .await
                    .with_context(|| format!("cannot revoke token {name:?} of {account:?}"))?;
                output::line(&mut out, &format!("revoked token {name:?} of {account}"))?;
            }
        }
        out.flush()?;
        Ok(ExitCode::SUCCESS)
    })
}
