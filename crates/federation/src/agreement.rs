//! Partners and sharing agreements as the operator writes them in
//! `passerelle.toml`: `[node] default_tlp` and `communities`, and one
//! `[[partners]]` table per partner with its `[partners.outbound]` agreement
//! and `[partners.inbound]` rules.
//!
//! The types keep what was written (TLP words are strings) so that
//! [`Agreement::validate`] can name the partner and the field of every mistake;
//! the typed forms ([`Agreement::default_tlp`], [`Inbound::on_invalid`],
//! [`crate::egress::EgressContext`]) are read after validation.

use std::collections::{BTreeSet, HashMap};
use std::path::PathBuf;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use stix::markings::Tlp;

use crate::identity::PublicKey;

/// The federation part of the node's configuration.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Agreement {
    /// `[node]`: the keys about sharing (other `[node]` keys are the node's own).
    #[serde(default)]
    pub node: NodeSharing,
    /// `[[partners]]`.
    #[serde(default)]
    pub partners: Vec<PartnerConfig>,
}

/// The sharing keys of `[node]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NodeSharing {
    /// The TLP of objects that carry no TLP marking: `clear`, `green`,
    /// `amber` (the default), `amber+strict` or `red`.
    #[serde(default = "default_tlp")]
    pub default_tlp: String,
    /// The communities this node belongs to.
    #[serde(default)]
    pub communities: Vec<String>,
}

fn default_tlp() -> String {
    "amber".to_owned()
}

impl Default for NodeSharing {
    fn default() -> Self {
        NodeSharing {
            default_tlp: default_tlp(),
            communities: Vec::new(),
        }
    }
}

/// One `[[partners]]` entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PartnerConfig {
    /// The short name used everywhere (`[a-z0-9-]{1,64}`).
    pub name: String,
    /// The partner's STIX identity id.
    pub identity: String,
    /// The partner's signing key, `ed25519:<base64>`.
    pub public_key: String,
    /// The partner's TAXII server base URL; absent for a partner reached by files only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// The partner's API root, below `url`.
    #[serde(default = "default_api_root")]
    pub api_root: String,
    /// The environment variable holding our token for the partner's server.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_env: Option<String>,
    /// The file holding our token for the partner's server.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_file: Option<PathBuf>,
    /// A PEM file of the certificate authority (or the self-signed certificate) of
    /// the partner's TLS server, trusted in addition to the public roots: services
    /// often run their own CA.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_file: Option<PathBuf>,
    /// The communities the partner belongs to.
    #[serde(default)]
    pub communities: Vec<String>,
    /// Our local TAXII account that this partner uses to read from us.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
    /// The partner's collections we pull from, and where their objects go.
    #[serde(default)]
    pub pull: Vec<PullConfig>,
    /// Our collections we push to the partner, and where.
    #[serde(default)]
    pub push: Vec<PushConfig>,
    /// What may go to the partner.
    #[serde(default)]
    pub outbound: Outbound,
    /// What we accept from the partner.
    #[serde(default)]
    pub inbound: Inbound,
}

fn default_api_root() -> String {
    "api".to_owned()
}

/// One `pull` entry: a remote collection and the local collection it fills.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PullConfig {
    /// The partner's collection id.
    pub remote: String,
    /// Our collection (id or alias).
    pub into: String,
}

/// One `push` entry: a local collection and the remote collection it goes to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PushConfig {
    /// Our collection (id or alias).
    pub local: String,
    /// The partner's collection id.
    pub remote: String,
}

/// `[partners.outbound]`: the agreement on what may go to the partner.
/// The default lets nothing go.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Outbound {
    /// Our collections (id or alias) it may receive from.
    #[serde(default)]
    pub collections: Vec<String>,
    /// The object types it may receive; empty means every type.
    #[serde(default)]
    pub types: Vec<String>,
    /// The highest TLP it may receive (never `red`); `clear` when absent.
    #[serde(default = "clear")]
    pub max_tlp: String,
    /// Labels an object must all carry to go.
    #[serde(default)]
    pub labels_required: Vec<String>,
    /// Labels that stop an object.
    #[serde(default)]
    pub labels_excluded: Vec<String>,
    /// Consents recorded from originators to pass their data on to this partner.
    #[serde(default)]
    pub consents: Vec<Consent>,
}

fn clear() -> String {
    "clear".to_owned()
}

impl Default for Outbound {
    fn default() -> Self {
        Outbound {
            collections: Vec::new(),
            types: Vec::new(),
            max_tlp: clear(),
            labels_required: Vec::new(),
            labels_excluded: Vec::new(),
            consents: Vec::new(),
        }
    }
}

/// A consent from an originator to pass its data on to this partner, up to a TLP.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Consent {
    /// The partner (config name) whose data this is.
    pub originator: String,
    /// The highest TLP the consent covers.
    pub tlp: String,
    /// Where the consent is recorded (a letter, a memorandum), for the audit.
    pub reference: String,
}

/// `[partners.inbound]`: what we accept from the partner.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Inbound {
    /// Accept objects that carry no signature.
    #[serde(default)]
    pub accept_unsigned: bool,
    /// Accept objects signed by an identity whose key we do not hold.
    #[serde(default)]
    pub accept_unknown_signer: bool,
    /// `reject` (the default) or `quarantine` an object whose signature does not verify.
    #[serde(default = "reject")]
    pub on_invalid_signature: String,
    /// The local collection (id or alias) quarantined objects go to.
    #[serde(default = "quarantine")]
    pub quarantine: String,
    /// The local collection (id or alias) that the objects of this partner's
    /// offline files go to; absent: the node's `default` collection.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub collection: Option<String>,
}

fn reject() -> String {
    "reject".to_owned()
}

fn quarantine() -> String {
    "quarantine".to_owned()
}

impl Default for Inbound {
    fn default() -> Self {
        Inbound {
            accept_unsigned: false,
            accept_unknown_signer: false,
            on_invalid_signature: reject(),
            quarantine: quarantine(),
            collection: None,
        }
    }
}

/// The collection a partner's offline files go to when `inbound.collection` is absent.
pub const DEFAULT_INBOUND_COLLECTION: &str = "default";

impl Inbound {
    /// The local collection (id or alias) this partner's offline files go to.
    pub fn collection(&self) -> &str {
        self.collection
            .as_deref()
            .unwrap_or(DEFAULT_INBOUND_COLLECTION)
    }
}

/// What to do with an object whose signature does not verify.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnInvalidSignature {
    /// Refuse it (and report it).
    Reject,
    /// Keep it in the quarantine collection.
    Quarantine,
}

impl Inbound {
    /// `on_invalid_signature` as a value; anything but `quarantine` rejects
    /// (validation refuses other words first).
    pub fn on_invalid(&self) -> OnInvalidSignature {
        if self.on_invalid_signature == "quarantine" {
            OnInvalidSignature::Quarantine
        } else {
            OnInvalidSignature::Reject
        }
    }
}

/// A federation setting that cannot be used. The message names the partner
/// (or `[node]`), the field and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// The text is not TOML of the expected shape.
    #[error("the federation settings cannot be read: {0}")]
    Toml(String),
    /// A `[node]` setting.
    #[error("config [node] {field}: {message}")]
    Node {
        /// The field, such as `default_tlp`.
        field: String,
        /// What is wrong.
        message: String,
    },
    /// A `[[partners]]` setting.
    #[error("config partner {partner:?}, {field}: {message}")]
    Partner {
        /// The partner's name as written (`partners[N]` when it has none).
        partner: String,
        /// The field, such as `outbound.max_tlp` or `pull[1].into`.
        field: String,
        /// What is wrong.
        message: String,
    },
}

/// Parses a TLP word: `clear`, `green`, `amber`, `amber+strict`, `red`, and
/// `white` (TLP 1.0) for `clear`; case and a `TLP:` prefix are ignored.
pub fn parse_tlp(word: &str) -> Result<Tlp, String> {
    Tlp::from_str(word).map_err(|_| {
        format!("{word:?} is not a TLP level (clear, green, amber, amber+strict or red)")
    })
}

/// Whether `name` is a partner or community name: `[a-z0-9-]{1,64}`.
pub fn is_valid_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

impl Agreement {
    /// Reads the federation settings from the text of `passerelle.toml`
    /// (other sections and `[node]` keys are ignored here), then validates them.
    pub fn from_toml(text: &str) -> Result<Agreement, ConfigError> {
        let agreement: Agreement =
            toml::from_str(text).map_err(|e| ConfigError::Toml(e.to_string()))?;
        agreement.validate()?;
        Ok(agreement)
    }

    /// The TLP given to objects that carry no TLP marking.
    pub fn default_tlp(&self) -> Result<Tlp, ConfigError> {
        parse_tlp(&self.node.default_tlp).map_err(|message| ConfigError::Node {
            field: "default_tlp".to_owned(),
            message,
        })
    }

    /// The partner with this name.
    pub fn partner(&self, name: &str) -> Option<&PartnerConfig> {
        self.partners.iter().find(|p| p.name == name)
    }

    /// Checks every setting; the first mistake found is returned.
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.default_tlp()?;
        let mut communities = BTreeSet::new();
        for (i, community) in self.node.communities.iter().enumerate() {
            let node_error = |message: String| ConfigError::Node {
                field: format!("communities[{i}]"),
                message,
            };
            if !is_valid_name(community) {
                return Err(node_error(format!(
                    "{community:?} is not a community name (1 to 64 of a-z, 0-9, '-')"
                )));
            }
            if !communities.insert(community.as_str()) {
                return Err(node_error(format!("{community:?} is listed twice")));
            }
        }

        // Names first: the other checks refer to partners by name.
        let mut names = BTreeSet::new();
        for (index, partner) in self.partners.iter().enumerate() {
            let label = partner_label(index, partner);
            let check = PartnerCheck { label: &label };
            if !is_valid_name(&partner.name) {
                return Err(check.error(
                    "name",
                    format!(
                        "{:?} is not a partner name (1 to 64 of a-z, 0-9, '-')",
                        partner.name
                    ),
                ));
            }
            if !names.insert(partner.name.as_str()) {
                return Err(check.error("name", "another partner has the same name".to_owned()));
            }
        }
        let mut identities: HashMap<&str, &str> = HashMap::new();
        let mut keys: HashMap<String, &str> = HashMap::new();
        let mut accounts: HashMap<&str, &str> = HashMap::new();
        for (index, partner) in self.partners.iter().enumerate() {
            let label = partner_label(index, partner);
            let check = PartnerCheck { label: &label };
            match stix::Identifier::parse(&partner.identity) {
                Ok(id) if id.object_type == "identity" => {}
                _ => {
                    return Err(check.error(
                        "identity",
                        format!(
                            "{:?} is not a STIX identity id (identity--<UUID>)",
                            partner.identity
                        ),
                    ));
                }
            }
            if let Some(other) = identities.insert(&partner.identity, &partner.name) {
                return Err(check.error(
                    "identity",
                    format!("partner {other:?} has the same identity"),
                ));
            }
            let key = PublicKey::parse(&partner.public_key)
                .map_err(|e| check.error("public_key", format!("{e}")))?;
            if let Some(other) = keys.insert(key.to_string(), &partner.name) {
                return Err(
                    check.error("public_key", format!("partner {other:?} has the same key"))
                );
            }
            check.connection(partner)?;
            if let Some(account) = &partner.account {
                if !is_account_name(account) {
                    return Err(check.error(
                        "account",
                        format!("{account:?} is not an account name (1 to 64 letters, digits, '-', '_', '.' or '@')"),
                    ));
                }
                if let Some(other) = accounts.insert(account, &partner.name) {
                    return Err(check.error(
                        "account",
                        format!("account {account:?} is already tied to partner {other:?}"),
                    ));
                }
            }
            for (i, community) in partner.communities.iter().enumerate() {
                let field = format!("communities[{i}]");
                if !is_valid_name(community) {
                    return Err(check.error(
                        &field,
                        format!("{community:?} is not a community name (1 to 64 of a-z, 0-9, '-')"),
                    ));
                }
                if !communities.is_empty() && !communities.contains(community.as_str()) {
                    return Err(check.error(
                        &field,
                        format!(
                            "{community:?} is not one of this node's communities ([node] communities: {})",
                            self.node.communities.join(", ")
                        ),
                    ));
                }
            }
            check.outbound(partner, &names)?;
            check.inbound(&partner.inbound)?;
        }
        Ok(())
    }
}

/// How errors name a partner: its name, or its place when it has none.
fn partner_label(index: usize, partner: &PartnerConfig) -> String {
    if partner.name.is_empty() {
        format!("partners[{index}]")
    } else {
        partner.name.clone()
    }
}

fn is_account_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '@'))
}

/// The checks of one partner entry, with its label for errors.
struct PartnerCheck<'a> {
    label: &'a str,
}

impl PartnerCheck<'_> {
    fn error(&self, field: &str, message: String) -> ConfigError {
        ConfigError::Partner {
            partner: self.label.to_owned(),
            field: field.to_owned(),
            message,
        }
    }

    fn not_empty(&self, field: &str, value: &str) -> Result<(), ConfigError> {
        if value.trim().is_empty() {
            return Err(self.error(field, "must not be empty".to_owned()));
        }
        Ok(())
    }

    /// URL, API root, credentials, pull and push.
    fn connection(&self, partner: &PartnerConfig) -> Result<(), ConfigError> {
        if let Some(url) = &partner.url {
            check_url(url).map_err(|message| self.error("url", message))?;
        }
        self.not_empty("api_root", &partner.api_root)?;
        if partner
            .api_root
            .trim_matches('/')
            .contains(['/', '?', '#', ' '])
        {
            return Err(self.error(
                "api_root",
                format!(
                    "{:?} must be one path segment, such as \"api\"",
                    partner.api_root
                ),
            ));
        }
        match (&partner.token_env, &partner.token_file, &partner.url) {
            (Some(_), Some(_), _) => {
                return Err(self.error(
                    "token_env",
                    "token_env and token_file are both set: give the token one way only".to_owned(),
                ));
            }
            (None, None, Some(_)) => {
                return Err(self.error(
                    "token_env",
                    "the partner has a url but no credentials: set token_env or token_file"
                        .to_owned(),
                ));
            }
            (Some(var), None, _) => {
                let valid = !var.is_empty()
                    && !var.starts_with(|c: char| c.is_ascii_digit())
                    && var.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
                if !valid {
                    return Err(self.error(
                        "token_env",
                        format!(
                            "{var:?} is not an environment variable name (letters, digits, '_')"
                        ),
                    ));
                }
            }
            (None, Some(path), _) => {
                if path.as_os_str().is_empty() {
                    return Err(self.error("token_file", "must not be empty".to_owned()));
                }
            }
            (None, None, None) => {}
        }
        for (i, pull) in partner.pull.iter().enumerate() {
            self.not_empty(&format!("pull[{i}].remote"), &pull.remote)?;
            self.not_empty(&format!("pull[{i}].into"), &pull.into)?;
        }
        for (i, push) in partner.push.iter().enumerate() {
            self.not_empty(&format!("push[{i}].local"), &push.local)?;
            self.not_empty(&format!("push[{i}].remote"), &push.remote)?;
        }
        if partner.url.is_none() && !(partner.pull.is_empty() && partner.push.is_empty()) {
            let field = if partner.pull.is_empty() {
                "push"
            } else {
                "pull"
            };
            return Err(self.error(
                field,
                "pulling and pushing need the partner's url".to_owned(),
            ));
        }
        Ok(())
    }

    fn outbound(
        &self,
        partner: &PartnerConfig,
        partners: &BTreeSet<&str>,
    ) -> Result<(), ConfigError> {
        let out = &partner.outbound;
        for (i, collection) in out.collections.iter().enumerate() {
            self.not_empty(&format!("outbound.collections[{i}]"), collection)?;
        }
        for (i, object_type) in out.types.iter().enumerate() {
            if !stix::validate::is_valid_type_name(object_type) {
                return Err(self.error(
                    &format!("outbound.types[{i}]"),
                    format!("{object_type:?} is not a STIX object type name"),
                ));
            }
        }
        let max = parse_tlp(&out.max_tlp).map_err(|m| self.error("outbound.max_tlp", m))?;
        if max == Tlp::Red {
            return Err(self.error(
                "outbound.max_tlp",
                "red is refused: TLP:RED never leaves the node automatically (amber+strict is the highest)".to_owned(),
            ));
        }
        for (field, labels) in [
            ("outbound.labels_required", &out.labels_required),
            ("outbound.labels_excluded", &out.labels_excluded),
        ] {
            for (i, label) in labels.iter().enumerate() {
                self.not_empty(&format!("{field}[{i}]"), label)?;
            }
        }
        if let Some(label) = out
            .labels_required
            .iter()
            .find(|l| out.labels_excluded.contains(l))
        {
            return Err(self.error(
                "outbound.labels_excluded",
                format!("{label:?} is both required and excluded, so nothing could go"),
            ));
        }
        for (i, consent) in out.consents.iter().enumerate() {
            let field = |name: &str| format!("outbound.consents[{i}].{name}");
            if !partners.contains(consent.originator.as_str()) {
                return Err(self.error(
                    &field("originator"),
                    format!("{:?} is not a configured partner", consent.originator),
                ));
            }
            if consent.originator == partner.name {
                return Err(self.error(
                    &field("originator"),
                    "a partner's own data never goes back to it: a consent from itself means nothing".to_owned(),
                ));
            }
            let tlp = parse_tlp(&consent.tlp).map_err(|m| self.error(&field("tlp"), m))?;
            if tlp == Tlp::Red {
                return Err(self.error(
                    &field("tlp"),
                    "red is refused: TLP:RED never leaves the node automatically".to_owned(),
                ));
            }
            self.not_empty(&field("reference"), &consent.reference)?;
        }
        Ok(())
    }

    fn inbound(&self, inbound: &Inbound) -> Result<(), ConfigError> {
        if !matches!(
            inbound.on_invalid_signature.as_str(),
            "reject" | "quarantine"
        ) {
            return Err(self.error(
                "inbound.on_invalid_signature",
                format!(
                    "{:?} is not one of: reject, quarantine",
                    inbound.on_invalid_signature
                ),
            ));
        }
        self.not_empty("inbound.quarantine", &inbound.quarantine)?;
        if let Some(collection) = &inbound.collection {
            self.not_empty("inbound.collection", collection)?;
            if collection == &inbound.quarantine {
                return Err(self.error(
                    "inbound.collection",
                    format!(
                        "{collection:?} is also inbound.quarantine: accepted and quarantined objects must not mix"
                    ),
                ));
            }
        }
        Ok(())
    }
}

/// An http(s) URL with a host. Plain http only to a loopback host, since our
/// token travels with every request.
fn check_url(url: &str) -> Result<(), String> {
    let (scheme, rest) = url
        .split_once("://")
        .ok_or_else(|| format!("{url:?} is not a URL (https://host[:port]/)"))?;
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host = match authority.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or_default(),
        None => authority.rsplit_once(':').map_or(authority, |(h, _)| h),
    };
    if host.is_empty() || authority.contains('@') {
        return Err(format!(
            "{url:?} has no host (or has credentials in it, which belong in token_env or token_file)"
        ));
    }
    match scheme {
        "https" => Ok(()),
        "http" if matches!(host, "localhost" | "::1") || host.starts_with("127.") => Ok(()),
        "http" => Err(format!(
            "{url:?} is plain http to a host that is not loopback: use https, our token goes with every request"
        )),
        other => Err(format!(
            "{url:?}: the scheme {other:?} is not http or https"
        )),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests;
