//! `passerelle identity show`: what a partner needs to know about this node (its
//! STIX identity, public key and TAXII address) and the `[[partners]]` entry that
//! describes this node in the partner's own `passerelle.toml`.

use std::io::{self, Write};
use std::process::ExitCode;

use anyhow::Context;
use federation::NodeIdentity;
use federation::agreement::is_valid_name;
use serde::Serialize;

use super::output;
use super::output::Format;
use crate::config::Config;
use crate::node::{self, NodeArgs};
use crate::partners;

const EXAMPLES: &str = "\
Examples:
  passerelle identity show --data ./node
  passerelle identity show --url https://rabat.example:8443/      the address partners reach (behind a proxy)
  passerelle identity show --partner paris                         the entry for paris, with the collections it may pull
  passerelle identity show --format json | jq -r .public_key

Give a partner the identity and public key over a channel you both trust, and
compare the key with them another way (phone, in person) before they add it.";

/// Show this node's identity and what partners need to add it.
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
    /// Print the identity id, name, public key, TAXII address, and a `[[partners]]`
    /// entry for a partner's config file.
    Show {
        /// The base URL partners reach this node at (default: from `[server]`:
        /// https when TLS is configured, the listen address).
        #[arg(long, value_name = "URL")]
        url: Option<String>,
        /// Fill the entry for this partner of our configuration: the collections it
        /// may pull and the account its token belongs to.
        #[arg(long, value_name = "PARTNER")]
        partner: Option<String>,
        /// `text` for people, `json` for machines.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
}

/// What `identity show --format json` prints.
#[derive(Debug, Serialize)]
struct Shown {
    identity: String,
    name: String,
    created: String,
    public_key: String,
    /// The server's base URL, as partners write it in `url`.
    url: String,
    api_root: String,
    /// The API root's URL.
    api_root_url: String,
    /// The TAXII discovery URL.
    discovery_url: String,
    /// Why the URL may not be what partners can reach, if it may not.
    url_warnings: Vec<String>,
    /// The `[[partners]]` entry for a partner's `passerelle.toml`.
    partner_config: String,
}

/// One of our collections a partner may pull, for its `pull` entry.
struct Pullable {
    id: String,
    label: String,
}

/// Runs `passerelle identity`.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let node = args.node.load()?;
    let Command::Show {
        url,
        partner,
        format,
    } = args.command;
    let identity = partners::identity(&node.config)?;
    let (pullable, account) = match &partner {
        Some(name) => pullable_by(&node, name)?,
        None => (Vec::new(), None),
    };
    let (base_url, url_warnings) = match url {
        Some(url) => (with_slash(&url), Vec::new()),
        None => url_from_config(&node.config),
    };
    let api_root = node.config.server.api_root.trim_matches('/').to_owned();
    let shown = Shown {
        identity: identity.identity.clone(),
        name: identity.name.clone(),
        created: identity.created.to_string(),
        public_key: identity.public_key().to_string(),
        api_root_url: format!("{base_url}{api_root}/"),
        discovery_url: format!("{base_url}taxii2/"),
        partner_config: partner_entry(
            &identity,
            &node.config,
            &base_url,
            &api_root,
            &pullable,
            account.as_deref(),
        ),
        url: base_url,
        api_root,
        url_warnings,
    };
    let mut out = io::stdout().lock();
    match format {
        Format::Json => {
            let text = serde_json::to_string_pretty(&shown).context("cannot write JSON")?;
            output::line(&mut out, &text)?;
        }
        Format::Text => {
            for line in text_lines(&shown) {
                output::line(&mut out, &line)?;
            }
        }
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

fn text_lines(shown: &Shown) -> Vec<String> {
    let mut lines = vec![
        format!("identity    {}", shown.identity),
        format!("name        {}", shown.name),
        format!("public key  {}", shown.public_key),
        format!(
            "TAXII       {} (API root; discovery {})",
            shown.api_root_url, shown.discovery_url
        ),
    ];
    for warning in &shown.url_warnings {
        lines.push(format!("warning     {warning}"));
    }
    lines.push(String::new());
    lines.push(
        "Give partners the identity and public key over a channel you both trust, and check".into(),
    );
    lines.push(
        "the key with them another way. Each adds this entry to its passerelle.toml, replacing"
            .into(),
    );
    lines.push("the <...> values with what only it knows:".into());
    lines.push(String::new());
    lines.extend(shown.partner_config.lines().map(str::to_owned));
    lines
}

/// `url` with exactly one trailing slash, so paths can be appended.
fn with_slash(url: &str) -> String {
    format!("{}/", url.trim_end_matches('/'))
}

/// The base URL from `[server]`, and why partners may not reach it as printed.
fn url_from_config(config: &Config) -> (String, Vec<String>) {
    let server = &config.server;
    let scheme = if server.tls_files().is_some() {
        "https"
    } else {
        "http"
    };
    let listen = server.listen;
    let mut warnings = Vec::new();
    if listen.ip().is_unspecified() {
        warnings.push(format!(
            "the node listens on every address ({}): give partners its host name instead (--url)",
            listen.ip()
        ));
    }
    if listen.port() == 0 {
        warnings.push(
            "[server] listen has port 0 (a free port picked at each start): give partners the \
             real port (--url)"
                .to_owned(),
        );
    }
    if scheme == "http" && listen.ip().is_loopback() {
        warnings.push(
            "plain http on a loopback address: only a partner on this machine can reach it; \
             partners elsewhere need https (a certificate in [server], or a TLS proxy and --url)"
                .to_owned(),
        );
    }
    (format!("{scheme}://{listen}/"), warnings)
}

/// The collections our agreement lets `partner` receive, which it can pull, and the
/// account it reads with.
fn pullable_by(
    node: &node::Node,
    partner: &str,
) -> anyhow::Result<(Vec<Pullable>, Option<String>)> {
    let agreement = node.config.agreement();
    let Some(config) = agreement.partner(partner) else {
        anyhow::bail!("{}", super::agreement::unknown_partner(&agreement, partner));
    };
    let names = config.outbound.collections.clone();
    let account = config.account.clone();
    let collections = node::runtime()?.block_on(async {
        let store = node.open_existing_store().await?;
        let mut found = Vec::new();
        for name in &names {
            let collection = node::find_collection(store.as_ref(), name)
                .await
                .with_context(|| format!("partner {partner}, outbound.collections"))?;
            found.push(Pullable {
                id: collection.id.to_string(),
                label: collection.alias.unwrap_or(collection.title),
            });
        }
        anyhow::Ok(found)
    })?;
    Ok((collections, account))
}

/// A short partner name for this node, from its name (`DGSN Rabat` → `dgsn-rabat`).
fn suggested_name(name: &str) -> Option<String> {
    let mut slug = String::new();
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            slug.push(c.to_ascii_lowercase());
        } else if !slug.ends_with('-') && !slug.is_empty() {
            slug.push('-');
        }
    }
    let slug: String = slug.trim_end_matches('-').chars().take(64).collect();
    let slug = slug.trim_end_matches('-').to_owned();
    is_valid_name(&slug).then_some(slug)
}

fn quoted(text: &str) -> String {
    toml::Value::String(text.to_owned()).to_string()
}

/// The `[[partners]]` entry that describes this node in a partner's config: what we
/// know filled in, what only the partner knows as `<...>` (active lines that would
/// stop its node until filled in are left as comments).
fn partner_entry(
    identity: &NodeIdentity,
    config: &Config,
    base_url: &str,
    api_root: &str,
    pullable: &[Pullable],
    account: Option<&str>,
) -> String {
    let name = suggested_name(&identity.name).unwrap_or_else(|| "<a name for this node>".into());
    let env = format!(
        "PASSERELLE_TOKEN_{}",
        name.to_ascii_uppercase()
            .replace(|c: char| !c.is_ascii_alphanumeric(), "_")
    );
    let token_hint = match account {
        Some(account) => format!(
            "  # the API token of account {} on {}",
            quoted(account),
            identity.name
        ),
        None => format!("  # the API token {} gives you", identity.name),
    };
    let communities: Vec<String> = config.node.communities.iter().map(|c| quoted(c)).collect();
    let mut lines = vec![
        format!("# {} (passerelle identity show)", identity.name),
        "[[partners]]".to_owned(),
        format!("name = {}", quoted(&name)),
        format!("identity = {}", quoted(&identity.identity)),
        format!(
            "public_key = {}",
            quoted(&identity.public_key().to_string())
        ),
        format!("url = {}", quoted(base_url)),
        format!("api_root = {}", quoted(api_root)),
        format!("token_env = {}{token_hint}", quoted(&env)),
        format!(
            "communities = [{}]  # {}'s communities: keep those your node is in too",
            communities.join(", "),
            identity.name
        ),
        "# account = \"<the account on your node this one reads with>\"".to_owned(),
    ];
    if pullable.is_empty() {
        lines.push(
            "# pull = [{ remote = \"<a collection id it shares with you>\", into = \"<your collection>\" }]"
                .to_owned(),
        );
    } else {
        lines.push("pull = [".to_owned());
        for collection in pullable {
            lines.push(format!(
                "  {{ remote = {}, into = \"<your collection>\" }},  # {}",
                quoted(&collection.id),
                collection.label
            ));
        }
        lines.push("]".to_owned());
    }
    lines.extend([
        "[partners.outbound]  # what your node may send to this one".to_owned(),
        "collections = []  # <your collections, by id or alias>".to_owned(),
        "max_tlp = \"clear\"".to_owned(),
        "[partners.inbound]".to_owned(),
        "accept_unsigned = false".to_owned(),
        "accept_unknown_signer = false".to_owned(),
        "on_invalid_signature = \"reject\"".to_owned(),
    ]);
    let mut text = lines.join("\n");
    text.push('\n');
    text
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn names_are_suggested_from_the_node_name() {
        assert_eq!(suggested_name("DGSN Rabat").as_deref(), Some("dgsn-rabat"));
        assert_eq!(
            suggested_name("  CERT -- Example!").as_deref(),
            Some("cert-example")
        );
        assert_eq!(suggested_name("المديرية العامة"), None);
        assert_eq!(suggested_name(&"a".repeat(80)).unwrap().len(), 64);
    }

    #[test]
    fn the_url_follows_the_server_settings() {
        let mut config = Config::default();
        let (url, warnings) = url_from_config(&config);
        assert_eq!(url, "http://127.0.0.1:8080/");
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        config.server.listen = "0.0.0.0:0".parse().unwrap();
        config.server.tls_cert = Some("cert.pem".into());
        config.server.tls_key = Some("key.pem".into());
        let (url, warnings) = url_from_config(&config);
        assert_eq!(url, "https://0.0.0.0:0/");
        assert!(warnings[0].contains("every address"), "{warnings:?}");
        assert!(warnings[1].contains("port 0"), "{warnings:?}");
        assert_eq!(
            with_slash("https://x.example:8443"),
            "https://x.example:8443/"
        );
        assert_eq!(with_slash("https://x.example//"), "https://x.example/");
    }
}
