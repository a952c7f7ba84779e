//! `passerelle account add|list|remove|set-password|grant|revoke`: who may use
//! the node, and their read and write rights per collection.

use std::io::{self, BufRead, Write};
use std::process::ExitCode;

use anyhow::Context;
use store::{NewAccount, Rights, Store};

use super::output;
use crate::node::{self, NodeArgs};

const EXAMPLES: &str = "\
Examples:
  passerelle account add siem
  passerelle account grant siem default --read
  passerelle account grant analyst default --read --write
  printf '%s\\n' \"$PASSWORD\" | passerelle account set-password analyst
  passerelle token create siem                       then give the token to the SIEM
  passerelle account list
  passerelle account revoke siem default
  passerelle account remove siem

An account sees only the collections it has a right on; an admin account sees and
may do everything.";

/// Manage accounts and their rights on collections.
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
    /// Create an account (with no rights: grant them, then create a token).
    Add {
        /// Its unique name.
        name: String,
        /// Make it an admin: every collection, every action.
        #[arg(long)]
        admin: bool,
    },
    /// List the accounts with their tokens and rights.
    List,
    /// Delete an account with its tokens and rights.
    Remove {
        /// The account.
        name: String,
    },
    /// Set the password used with HTTP Basic, read as one line from standard input.
    SetPassword {
        /// The account.
        name: String,
        /// Remove the password instead (the account then uses tokens only).
        #[arg(long)]
        clear: bool,
    },
    /// Give an account rights on a collection (replacing the ones it had there).
    Grant {
        /// The account.
        name: String,
        /// The collection: its id or alias.
        collection: String,
        /// It may see the collection and read its objects (the default when no right is named).
        #[arg(long)]
        read: bool,
        /// It may add objects to the collection.
        #[arg(long)]
        write: bool,
    },
    /// Remove every right of an account on a collection.
    Revoke {
        /// The account.
        name: String,
        /// The collection: its id or alias.
        collection: String,
    },
}

/// Runs `passerelle account`.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let node = args.node.load()?;
    // Read before starting the runtime: standard input is not async here.
    let password = match &args.command {
        Command::SetPassword { clear: false, .. } => Some(read_password()?),
        _ => None,
    };
    node::runtime()?.block_on(async {
        let store = node.open_existing_store().await?;
        let mut out = io::stdout().lock();
        match args.command {
            Command::Add { name, admin } => {
                check_name(&name)?;
                store
                    .create_account(NewAccount {
                        name: name.clone(),
                        admin,
                    })
                    .await
                    .with_context(|| format!("cannot create account {name:?}"))?;
                output::line(
                    &mut out,
                    &format!(
                        "created {}account {name}",
                        if admin { "admin " } else { "" }
                    ),
                )?;
            }
            Command::List => list(store.as_ref(), &mut out).await?,
            Command::Remove { name } => {
                store
                    .delete_account(&name)
                    .await
                    .with_context(|| format!("cannot remove account {name:?}"))?;
                output::line(&mut out, &format!("removed account {name}"))?;
            }
            Command::SetPassword { name, clear } => {
                let hash = match password {
                    Some(password) if !clear => Some(
                        tokio::task::spawn_blocking(move || taxii::auth::hash_password(&password))
                            .await
                            .context("the password hasher stopped")??,
                    ),
                    _ => None,
                };
                store
                    .set_password_hash(&name, hash)
                    .await
                    .with_context(|| format!("cannot set the password of {name:?}"))?;
                let done = if clear { "removed" } else { "set" };
                output::line(&mut out, &format!("{done} the password of {name}"))?;
            }
            Command::Grant {
                name,
                collection,
                read,
                write,
            } => {
                let found = node::find_collection(store.as_ref(), &collection).await?;
                let rights = Rights {
                    read: read || !write,
                    write,
                };
                store
                    .set_rights(&name, found.id, rights)
                    .await
                    .with_context(|| format!("cannot grant rights to {name:?}"))?;
                output::line(
                    &mut out,
                    &format!(
                        "{name} may now {} collection {}",
                        describe_rights(rights),
                        found.alias.as_deref().unwrap_or(&found.id.to_string())
                    ),
                )?;
            }
            Command::Revoke { name, collection } => {
                let found = node::find_collection(store.as_ref(), &collection).await?;
                store
                    .revoke_rights(&name, found.id)
                    .await
                    .with_context(|| format!("cannot revoke the rights of {name:?}"))?;
                output::line(
                    &mut out,
                    &format!(
                        "{name} has no right left on collection {}",
                        found.alias.as_deref().unwrap_or(&found.id.to_string())
                    ),
                )?;
            }
        }
        out.flush()?;
        Ok(ExitCode::SUCCESS)
    })
}

fn describe_rights(rights: Rights) -> &'static str {
    match (rights.read, rights.write) {
        (true, true) => "read and write",
        (true, false) => "read",
        (false, true) => "write to",
        (false, false) => "do nothing in",
    }
}

/// Account names appear in URLs' logs, HTTP Basic and provenance: keep them plain.
fn check_name(name: &str) -> anyhow::Result<()> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'@'));
    if !ok {
        anyhow::bail!(
            "account name {name:?}: use 1 to 64 letters, digits, '-', '_', '.' or '@' (no ':', which HTTP Basic reserves)"
        );
    }
    Ok(())
}

/// One line from standard input, without its line ending.
fn read_password() -> anyhow::Result<String> {
    let mut line = String::new();
    io::stdin()
        .lock()
        .read_line(&mut line)
        .context("cannot read the password from standard input")?;
    let password = line.trim_end_matches(['\n', '\r']).to_owned();
    if password.is_empty() {
        anyhow::bail!("no password on standard input (use --clear to remove one)");
    }
    Ok(password)
}

async fn list(store: &dyn Store, out: &mut impl Write) -> anyhow::Result<()> {
    let collections = store.list_collections().await?;
    let collection_name = |id: uuid::Uuid| {
        collections
            .iter()
            .find(|c| c.id == id)
            .map(|c| c.alias.clone().unwrap_or_else(|| c.id.to_string()))
            .unwrap_or_else(|| id.to_string())
    };
    output::line(
        out,
        &format!(
            "{:<24}  {:<5}  {:<8}  {:>6}  RIGHTS",
            "NAME", "ADMIN", "PASSWORD", "TOKENS"
        ),
    )?;
    for account in store.list_accounts().await? {
        let tokens = store.list_tokens(&account.name).await?;
        let grants = store.grants_of_account(&account.name).await?;
        let rights: Vec<String> = grants
            .iter()
            .map(|g| {
                let letters = match (g.rights.read, g.rights.write) {
                    (true, true) => "rw",
                    (true, false) => "r",
                    (false, true) => "w",
                    (false, false) => "-",
                };
                format!("{}:{letters}", collection_name(g.collection))
            })
            .collect();
        output::line(
            out,
            &format!(
                "{:<24}  {:<5}  {:<8}  {:>6}  {}",
                account.name,
                if account.admin { "yes" } else { "no" },
                if account.has_password { "set" } else { "-" },
                tokens.len(),
                if account.admin {
                    "all".to_owned()
                } else if rights.is_empty() {
                    "-".to_owned()
                } else {
                    rights.join(" ")
                }
            ),
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn account_names_are_plain() {
        for good in ["admin", "siem-01", "alice@cert.example", "a_b.c"] {
            assert!(check_name(good).is_ok(), "{good}");
        }
        for bad in ["", "a:b", "a b", "é", &"x".repeat(65)] {
            assert!(check_name(bad).is_err(), "{bad}");
        }
    }
}
