//! `passerelle agreement preview|show`: what the sharing agreement with a partner
//! means on this node's data. `preview` runs every latest object version through
//! the egress decision ([`federation::Federation::decide`], which writes nothing)
//! and says which rule lets it go or stops it; `show` prints the agreement resolved
//! against the store (collections, account, keys, what third-party data may go).

use std::collections::BTreeMap;
use std::io::{self, Write};
use std::process::ExitCode;

use anyhow::Context;
use federation::agreement::PartnerConfig;
use federation::egress::PartnerPolicy;
use federation::{Agreement, Decision, Federation, Outcome, Rule};
use serde_json::json;
use stix::markings::Tlp;
use store::{Collection, ObjectQuery, Store};

use super::output;
use super::output::Format;
use crate::node::{self, NodeArgs};
use crate::partners;

const EXAMPLES: &str = "\
Examples:
  passerelle agreement preview paris                        every object, whether it would go to paris and why
  passerelle agreement preview paris --only withheld        what paris would not receive, and the rule
  passerelle agreement preview paris --collection shared --format json | jq -c 'select(.rule == \"tlp-above-agreement\")'
  passerelle agreement show paris                           the agreement with paris, resolved on this node
  passerelle agreement show                                 every partner (also checks the agreements)

The preview sends nothing and records nothing: it applies the same decision as
TAXII reads, pushes and offline files, to the latest version of every object.";

/// See what the sharing agreements let go to each partner.
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
    /// For every latest object version, whether it would go to PARTNER and by which
    /// rule, or the rule that stops it; then a count per rule.
    Preview {
        /// The partner's name in `[[partners]]`.
        partner: String,
        /// Only these collections (id or alias; repeatable). Default: every collection.
        #[arg(long, value_name = "COLLECTION")]
        collection: Vec<String>,
        /// Only list objects that would be disclosed, or withheld (the summary counts all).
        #[arg(long, value_enum)]
        only: Option<Only>,
        /// `text` for people, `json` (one JSON object per line, then a summary) for machines.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Print the agreement with PARTNER (every partner without one), resolved on this
    /// node: collections, account, credentials, and whose data may go at which TLP.
    Show {
        /// The partner's name in `[[partners]]`.
        partner: Option<String>,
        /// `text` for people, `json` for machines.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Only {
    Disclosed,
    Withheld,
}

/// Object versions decided per store page.
const PAGE: usize = 500;

/// Runs `passerelle agreement`.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let node = args.node.load()?;
    let agreement = node.config.agreement();
    match &args.command {
        Command::Preview { partner, .. }
        | Command::Show {
            partner: Some(partner),
            ..
        } if agreement.partner(partner).is_none() => {
            anyhow::bail!("{}", unknown_partner(&agreement, partner));
        }
        _ => {}
    }
    node::runtime()?.block_on(async {
        let store = node.open_existing_store().await?;
        let federation = partners::federation(&node.config, store.clone())
            .await
            .context("the agreements cannot be used")?;
        let mut out = io::stdout().lock();
        match args.command {
            Command::Preview {
                partner,
                collection,
                only,
                format,
            } => {
                let mut collections = Vec::new();
                if collection.is_empty() {
                    collections = store.list_collections().await?;
                } else {
                    for name in &collection {
                        collections.push(node::find_collection(store.as_ref(), name).await?);
                    }
                }
                let mut preview = Preview {
                    out: &mut out,
                    format,
                    only,
                    width: collections
                        .iter()
                        .map(|c| label(c).len())
                        .max()
                        .unwrap_or(0),
                    counts: BTreeMap::new(),
                    redacted: 0,
                };
                preview.header(&partner)?;
                for collection in &collections {
                    preview
                        .collection(&federation, &partner, collection)
                        .await?;
                }
                preview.summary(&partner)?;
            }
            Command::Show { partner, format } => {
                let names: Vec<String> = match partner {
                    Some(name) => vec![name],
                    None => agreement.partners.iter().map(|p| p.name.clone()).collect(),
                };
                let collections = store.list_collections().await?;
                let accounts = store.list_accounts().await?;
                let mut shown = Vec::new();
                for name in &names {
                    let config = federation.partner(name)?;
                    shown.push(Resolved::of(&federation, config, &collections, &accounts));
                }
                match format {
                    Format::Json => {
                        let value: Vec<_> = shown.iter().map(Resolved::json).collect();
                        output::line(&mut out, &serde_json::to_string_pretty(&value)?)?;
                    }
                    Format::Text => {
                        if shown.is_empty() {
                            output::line(
                                &mut out,
                                "no partners: add [[partners]] entries to the configuration \
                                 (`passerelle identity show` prints one for a partner's node)",
                            )?;
                        }
                        for (i, resolved) in shown.iter().enumerate() {
                            if i > 0 {
                                output::line(&mut out, "")?;
                            }
                            for line in resolved.text() {
                                output::line(&mut out, &line)?;
                            }
                        }
                    }
                }
            }
        }
        out.flush()?;
        Ok(ExitCode::SUCCESS)
    })
}

/// The message for a partner name the configuration does not define.
pub(super) fn unknown_partner(agreement: &Agreement, name: &str) -> String {
    if agreement.partners.is_empty() {
        format!("no partner {name:?}: the configuration has no [[partners]]")
    } else {
        let known: Vec<&str> = agreement.partners.iter().map(|p| p.name.as_str()).collect();
        format!(
            "no partner {name:?} in the configuration; the partners are: {}",
            known.join(", ")
        )
    }
}

/// How a collection is named in output: its alias, else its id.
fn label(collection: &Collection) -> String {
    collection
        .alias
        .clone()
        .unwrap_or_else(|| collection.id.to_string())
}

/// The preview being written, and its counts.
struct Preview<'a, W: Write> {
    out: &'a mut W,
    format: Format,
    only: Option<Only>,
    width: usize,
    counts: BTreeMap<Rule, u64>,
    redacted: u64,
}

impl<W: Write> Preview<'_, W> {
    fn header(&mut self, partner: &str) -> anyhow::Result<()> {
        if self.format == Format::Text {
            output::line(
                self.out,
                &format!(
                    "Preview for partner {partner} (latest versions; nothing is sent or recorded)"
                ),
            )?;
            output::line(
                self.out,
                &format!(
                    "{:<8}  {:<30}  {:<w$}  {:<60}  DETAIL",
                    "DECISION",
                    "RULE",
                    "COLLECTION",
                    "OBJECT",
                    w = self.width.max(10)
                ),
            )?;
        }
        Ok(())
    }

    /// Decides every latest version of `collection`, a store page at a time.
    async fn collection(
        &mut self,
        federation: &Federation,
        partner: &str,
        collection: &Collection,
    ) -> anyhow::Result<()> {
        let store: &dyn Store = federation.store().as_ref();
        let mut next = None;
        loop {
            let query = ObjectQuery {
                limit: PAGE,
                next,
                with_provenance: true,
                ..ObjectQuery::default()
            };
            let page = store
                .objects(collection.id, &query)
                .await
                .with_context(|| format!("cannot read collection {}", label(collection)))?;
            let outcomes = federation
                .decide(partner, collection.id, page.records)
                .await?;
            for outcome in &outcomes {
                self.object(collection, outcome)?;
            }
            if !page.more {
                return Ok(());
            }
            next = page.next;
        }
    }

    fn object(&mut self, collection: &Collection, outcome: &Outcome) -> anyhow::Result<()> {
        let rule = outcome.decision.rule();
        *self.counts.entry(rule).or_default() += 1;
        let (decision, redacted, detail) = match &outcome.decision {
            Decision::Disclose { redacted, .. } => {
                if *redacted {
                    self.redacted += 1;
                }
                ("disclose", *redacted, None)
            }
            Decision::Withhold { detail, .. } => ("withhold", false, Some(detail.as_str())),
        };
        let shown = match self.only {
            None => true,
            Some(Only::Disclosed) => outcome.decision.is_disclosed(),
            Some(Only::Withheld) => !outcome.decision.is_disclosed(),
        };
        if !shown {
            return Ok(());
        }
        let line = match self.format {
            Format::Json => json!({
                "collection": collection.id.to_string(),
                "collection_alias": collection.alias,
                "object_id": outcome.record.id,
                "version": outcome.record.version.as_str(),
                "decision": decision,
                "rule": rule.as_str(),
                "redacted": redacted,
                "detail": detail,
            })
            .to_string(),
            Format::Text => {
                let detail = match detail {
                    Some(detail) => detail,
                    None if redacted => {
                        "redacted: content under granular markings above what the partner \
                         may receive is removed"
                    }
                    None => "",
                };
                format!(
                    "{decision:<8}  {:<30}  {:<w$}  {:<60}  {detail}",
                    rule.as_str(),
                    label(collection),
                    outcome.record.id,
                    w = self.width.max(10)
                )
                .trim_end()
                .to_owned()
            }
        };
        output::line(self.out, &line)?;
        Ok(())
    }

    fn summary(&mut self, partner: &str) -> anyhow::Result<()> {
        let total: u64 = self.counts.values().sum();
        let disclosed: u64 = self
            .counts
            .iter()
            .filter(|(rule, _)| rule.allows())
            .map(|(_, n)| n)
            .sum();
        let withheld = total - disclosed;
        match self.format {
            Format::Json => {
                let rules: serde_json::Map<String, serde_json::Value> = self
                    .counts
                    .iter()
                    .map(|(rule, n)| (rule.as_str().to_owned(), json!(n)))
                    .collect();
                let line = json!({"summary": {
                    "partner": partner,
                    "objects": total,
                    "disclosed": disclosed,
                    "redacted": self.redacted,
                    "withheld": withheld,
                    "rules": rules,
                }});
                output::line(self.out, &line.to_string())?;
            }
            Format::Text => {
                output::line(self.out, "")?;
                output::line(
                    self.out,
                    &format!(
                        "{total} objects for {partner}: {disclosed} disclosed ({} redacted), \
                         {withheld} withheld",
                        self.redacted
                    ),
                )?;
                for (rule, n) in &self.counts {
                    let verdict = if rule.allows() {
                        "disclose"
                    } else {
                        "withhold"
                    };
                    output::line(
                        self.out,
                        &format!("  {verdict:<8}  {:<30}  {n:>7}", rule.as_str()),
                    )?;
                }
            }
        }
        Ok(())
    }
}

/// A partner's agreement resolved against the store.
struct Resolved<'a> {
    config: &'a PartnerConfig,
    policy: Option<&'a PartnerPolicy>,
    /// Each outbound collection as written, with what it names here.
    collections: Vec<(String, Option<&'a Collection>)>,
    account_exists: Option<bool>,
    quarantine: Option<&'a Collection>,
    /// Per other partner: the highest TLP of its data that may go, and why.
    third_party: Vec<(String, Tlp, String)>,
    our_communities: Vec<String>,
}

impl<'a> Resolved<'a> {
    fn of(
        federation: &'a Federation,
        config: &'a PartnerConfig,
        collections: &'a [Collection],
        accounts: &[store::Account],
    ) -> Resolved<'a> {
        let find = |name: &str| {
            collections
                .iter()
                .find(|c| c.id.to_string() == name || c.alias.as_deref() == Some(name))
        };
        let egress = federation.egress();
        let policy = egress.partner(&config.name);
        let third_party = policy
            .map(|policy| {
                egress
                    .partners()
                    .filter(|other| other.name != policy.name)
                    .map(|other| {
                        let (tlp, why) = third_party_ceiling(egress, policy, other);
                        (other.name.clone(), tlp, why)
                    })
                    .collect()
            })
            .unwrap_or_default();
        Resolved {
            config,
            policy,
            collections: config
                .outbound
                .collections
                .iter()
                .map(|name| (name.clone(), find(name)))
                .collect(),
            account_exists: config
                .account
                .as_ref()
                .map(|name| accounts.iter().any(|a| &a.name == name)),
            quarantine: find(&config.inbound.quarantine),
            third_party,
            our_communities: egress.communities.iter().cloned().collect(),
        }
    }

    fn text(&self) -> Vec<String> {
        let c = self.config;
        let none = || "none".to_owned();
        let list = |items: &[String]| {
            if items.is_empty() {
                none()
            } else {
                items.join(", ")
            }
        };
        let mut lines = vec![
            format!("partner {}", c.name),
            format!("  identity        {}", c.identity),
            format!("  public key      {}", c.public_key),
        ];
        match &c.url {
            Some(url) => lines.push(format!(
                "  TAXII           {}/{}/",
                url.trim_end_matches('/'),
                c.api_root.trim_matches('/')
            )),
            None => lines.push("  TAXII           none (files only)".to_owned()),
        }
        let credentials = match (&c.token_env, &c.token_file) {
            (Some(var), _) => format!(
                "token from ${var} ({})",
                if std::env::var_os(var).is_some() {
                    "set"
                } else {
                    "not set in this environment"
                }
            ),
            (None, Some(file)) => format!(
                "token in {} ({})",
                file.display(),
                if file.is_file() { "present" } else { "missing" }
            ),
            (None, None) => none(),
        };
        lines.push(format!("  credentials     {credentials}"));
        let account = match (&c.account, self.account_exists) {
            (Some(name), Some(true)) => format!("{name} (reads from us with this account)"),
            (Some(name), _) => format!(
                "{name} (does not exist here: `passerelle account add {name}`, then grant it \
                 read on the shared collections)"
            ),
            _ => "none (the partner does not read from us over TAXII)".to_owned(),
        };
        lines.push(format!("  account         {account}"));
        lines.push(format!("  communities     {}", list(&c.communities)));
        for pull in &c.pull {
            lines.push(format!(
                "  pull            their {} into our {}",
                pull.remote, pull.into
            ));
        }
        for push in &c.push {
            lines.push(format!(
                "  push            our {} to their {}",
                push.local, push.remote
            ));
        }
        lines.push("  outbound (what may go to it)".to_owned());
        let collections: Vec<String> = self
            .collections
            .iter()
            .map(|(name, found)| match found {
                Some(found) if found.alias.as_deref() == Some(name.as_str()) => {
                    format!("{name} ({})", found.id)
                }
                Some(_) => name.clone(),
                None => format!("{name} (not a collection here)"),
            })
            .collect();
        lines.push(format!("    collections   {}", list(&collections)));
        lines.push(format!(
            "    types         {}",
            if c.outbound.types.is_empty() {
                "every type".to_owned()
            } else {
                c.outbound.types.join(", ")
            }
        ));
        let max = self
            .policy
            .map_or_else(|| c.outbound.max_tlp.clone(), |p| p.max_tlp.to_string());
        lines.push(format!(
            "    max TLP       {max} (TLP:RED never goes; unmarked objects count as the node default)"
        ));
        lines.push(format!(
            "    labels        required: {}; excluded: {}",
            list(&c.outbound.labels_required),
            list(&c.outbound.labels_excluded)
        ));
        for consent in &c.outbound.consents {
            lines.push(format!(
                "    consent       from {} up to {} ({})",
                consent.originator, consent.tlp, consent.reference
            ));
        }
        lines.push("    our own data  up to max TLP, signed by us".to_owned());
        for (other, tlp, why) in &self.third_party {
            lines.push(format!(
                "    {other}'s data up to {tlp} ({why}); never back to {other}"
            ));
        }
        lines.push("  inbound (what we accept from it)".to_owned());
        let i = &c.inbound;
        let word = |accept: bool| if accept { "accepted" } else { "refused" };
        lines.push(format!(
            "    unsigned objects          {}",
            word(i.accept_unsigned)
        ));
        lines.push(format!(
            "    unknown signers           {}",
            word(i.accept_unknown_signer)
        ));
        let invalid = match (i.on_invalid_signature.as_str(), self.quarantine) {
            ("quarantine", Some(_)) => format!("quarantined in {}", i.quarantine),
            ("quarantine", None) => format!(
                "quarantined in {} (not a collection here yet: `passerelle collection add \
                 Quarantine --alias {}`)",
                i.quarantine, i.quarantine
            ),
            _ => "refused".to_owned(),
        };
        lines.push(format!("    invalid signatures        {invalid}"));
        lines
    }

    fn json(&self) -> serde_json::Value {
        let collections: Vec<_> = self
            .collections
            .iter()
            .map(|(name, found)| json!({"name": name, "id": found.map(|c| c.id.to_string())}))
            .collect();
        let third_party: Vec<_> = self
            .third_party
            .iter()
            .map(|(originator, tlp, why)| {
                json!({"originator": originator, "max_tlp": tlp.to_string(), "because": why})
            })
            .collect();
        json!({
            "partner": self.config,
            "resolved": {
                "outbound_collections": collections,
                "max_tlp": self.policy.map(|p| p.max_tlp.to_string()),
                "account_exists": self.account_exists,
                "quarantine_collection": self.quarantine.map(|c| c.id.to_string()),
                "node_communities": self.our_communities,
                "third_party": third_party,
            }
        })
    }
}

/// The highest TLP of `originator`'s data that may go to `recipient`, and why (the
/// third-party rule of `federation::egress`, capped by the recipient's `max_tlp`).
fn third_party_ceiling(
    egress: &federation::EgressContext,
    recipient: &PartnerPolicy,
    originator: &PartnerPolicy,
) -> (Tlp, String) {
    let reach = egress.third_party_reach(recipient, &originator.name);
    let mut why = Vec::new();
    if let Some(community) = &reach.community {
        why.push(format!("community {community}"));
    }
    if let Some(level) = reach.consent {
        why.push(format!("consent up to {level}"));
    }
    let uncapped = reach
        .consent
        .unwrap_or(Tlp::Clear)
        .max(if reach.community.is_some() {
            Tlp::Green
        } else {
            Tlp::Clear
        });
    if uncapped > recipient.max_tlp {
        why.push(format!("capped by max TLP {}", recipient.max_tlp));
    }
    if why.is_empty() {
        why.push("no shared community, no consent".to_owned());
    }
    (reach.ceiling, why.join(", "))
}
