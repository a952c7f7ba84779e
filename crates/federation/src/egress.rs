//! Egress: the one decision every object version goes through before it
//! leaves the node towards a partner — over TAXII when the partner reads, by
//! push, in an offline file, and in the preview.
//!
//! [`decide`] applies the sharing rules in a fixed order and returns either
//! the bytes to send (redacted and signed as needed) with the [`Rule`] that
//! allowed them, or the rule that stopped the object and why. The order:
//!
//! 1. the object's collection must be one the agreement names: nothing of a
//!    collection the agreement does not share goes, definitions included;
//! 2. marking-definitions and extension-definitions always go, untouched, and
//!    so do the identities the node publishes with its signature
//!    extension-definition ([`crate::publish`]): the Passerelle project's,
//!    untouched, and the node's own, signed;
//! 3. its type must be one the agreement names (none named: every type);
//! 4. its TLP (the most restrictive TLP of `object_marking_refs`, TLP 1.0 ids
//!    mapped; unmarked: the node's default) must not be RED,
//! 5. nor above the agreement's `max_tlp`;
//! 6. labels: every required label present, no excluded one;
//! 7. never back to the partner it came from, nor to its originator;
//! 8. the third-party rule for what partners gave us (CLEAR goes on; GREEN
//!    within a community of both; AMBER and AMBER+STRICT with the
//!    originator's consent), our own data goes;
//! 9. granular markings above what the partner may see are removed: above
//!    its `max_tlp`, and for a partner's data above what the third-party
//!    rule allows of it (withheld if the object is then invalid);
//! 10. a relationship or sighting goes only if each end it names may go;
//! 11. signature: ours on our data; a partner's data keeps its originator's
//!     signature, unless redaction changed it, then it is signed by us.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::fmt;
use std::str::FromStr;

use stix::json::{self, Map, Value};
use stix::markings::{Tlp, object_tlp, redact_above};
use stix::{Severity, validate_object};
use uuid::Uuid;

use crate::agreement::{Agreement, ConfigError, parse_tlp};
use crate::identity::NodeIdentity;
use crate::origin::Origin;
use crate::publish::{PublishedForms, PublishedIdentity};
use crate::signature::sign_map;

/// Why an object goes or does not go. The text form (kebab-case) is stable:
/// the preview, the ledger and tests use it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Rule {
    /// Allowed: a marking-definition, which always goes from a shared collection.
    MarkingDefinition,
    /// Allowed: an extension-definition, which always goes from a shared collection.
    ExtensionDefinition,
    /// Allowed: an identity the node publishes with its signatures (the Passerelle
    /// project's, creator of the signature extension-definition, and the node's
    /// own, which signatures name), exactly as published; it always goes from a
    /// shared collection.
    PublishedIdentity,
    /// Allowed: our own data, within the agreement.
    OwnData,
    /// Allowed: a partner's TLP:CLEAR data.
    ThirdPartyClear,
    /// Allowed: a partner's TLP:GREEN data, to a partner of a community of both.
    ThirdPartyGreenCommunity,
    /// Allowed: a partner's data, with its consent recorded in the recipient's agreement.
    ThirdPartyConsent,
    /// Withheld: the object's collection is not one the agreement names.
    CollectionNotShared,
    /// Withheld: the object's type is not one the agreement names.
    TypeNotShared,
    /// Withheld: TLP:RED never leaves automatically.
    TlpRed,
    /// Withheld: the object's TLP is above the agreement's `max_tlp`.
    TlpAboveAgreement,
    /// Withheld: a label the agreement requires is missing.
    LabelRequiredMissing,
    /// Withheld: the object has a label the agreement excludes.
    LabelExcluded,
    /// Withheld: the object came from this partner, or it originated it.
    EchoToSource,
    /// Withheld: a partner's TLP:GREEN data, and no community has both.
    ThirdPartyGreenNoCommunity,
    /// Withheld: a partner's AMBER or AMBER+STRICT data without its consent.
    ThirdPartyNoConsent,
    /// Withheld: removing what granular markings cover would leave it invalid.
    RedactionInvalid,
    /// Withheld: an end of the relationship or sighting may not go.
    RelationshipEndWithheld,
    /// Withheld: the stored bytes are not a JSON object with a type.
    Unparseable,
    /// Withheld: the partner is not in the configuration.
    UnknownPartner,
}

impl Rule {
    /// Every rule, allowing ones first.
    pub const ALL: [Rule; 20] = [
        Rule::MarkingDefinition,
        Rule::ExtensionDefinition,
        Rule::PublishedIdentity,
        Rule::OwnData,
        Rule::ThirdPartyClear,
        Rule::ThirdPartyGreenCommunity,
        Rule::ThirdPartyConsent,
        Rule::CollectionNotShared,
        Rule::TypeNotShared,
        Rule::TlpRed,
        Rule::TlpAboveAgreement,
        Rule::LabelRequiredMissing,
        Rule::LabelExcluded,
        Rule::EchoToSource,
        Rule::ThirdPartyGreenNoCommunity,
        Rule::ThirdPartyNoConsent,
        Rule::RedactionInvalid,
        Rule::RelationshipEndWithheld,
        Rule::Unparseable,
        Rule::UnknownPartner,
    ];

    /// The stable text form, such as `third-party-green-community`.
    pub fn as_str(self) -> &'static str {
        match self {
            Rule::MarkingDefinition => "marking-definition",
            Rule::ExtensionDefinition => "extension-definition",
            Rule::PublishedIdentity => "published-identity",
            Rule::OwnData => "own-data",
            Rule::ThirdPartyClear => "third-party-clear",
            Rule::ThirdPartyGreenCommunity => "third-party-green-community",
            Rule::ThirdPartyConsent => "third-party-consent",
            Rule::CollectionNotShared => "collection-not-shared",
            Rule::TypeNotShared => "type-not-shared",
            Rule::TlpRed => "tlp-red",
            Rule::TlpAboveAgreement => "tlp-above-agreement",
            Rule::LabelRequiredMissing => "label-required-missing",
            Rule::LabelExcluded => "label-excluded",
            Rule::EchoToSource => "echo-to-source",
            Rule::ThirdPartyGreenNoCommunity => "third-party-green-no-community",
            Rule::ThirdPartyNoConsent => "third-party-no-consent",
            Rule::RedactionInvalid => "redaction-invalid",
            Rule::RelationshipEndWithheld => "relationship-end-withheld",
            Rule::Unparseable => "unparseable",
            Rule::UnknownPartner => "unknown-partner",
        }
    }

    /// Whether the rule lets the object go.
    pub fn allows(self) -> bool {
        matches!(
            self,
            Rule::MarkingDefinition
                | Rule::ExtensionDefinition
                | Rule::PublishedIdentity
                | Rule::OwnData
                | Rule::ThirdPartyClear
                | Rule::ThirdPartyGreenCommunity
                | Rule::ThirdPartyConsent
        )
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A text that names no rule.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not an egress rule")]
pub struct ParseRuleError(pub String);

impl FromStr for Rule {
    type Err = ParseRuleError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Rule::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| ParseRuleError(s.to_owned()))
    }
}

/// What egress decided for one object version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Send these bytes.
    Disclose {
        /// The object to send: redacted if needed, and signed.
        bytes: Vec<u8>,
        /// The rule that allowed it.
        rule: Rule,
        /// Whether granular markings removed content.
        redacted: bool,
    },
    /// Do not send it.
    Withhold {
        /// The rule that stopped it.
        rule: Rule,
        /// What exactly, for the preview and logs (never secret: object ids,
        /// levels, labels, partner names).
        detail: String,
    },
}

impl Decision {
    /// The rule that allowed or stopped the object.
    pub fn rule(&self) -> Rule {
        match self {
            Decision::Disclose { rule, .. } | Decision::Withhold { rule, .. } => *rule,
        }
    }

    /// Whether the object goes.
    pub fn is_disclosed(&self) -> bool {
        matches!(self, Decision::Disclose { .. })
    }
}

/// One object version that might leave: its local collection, its stored
/// bytes and whose data it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EgressItem {
    /// The local collection it is stored in.
    pub collection: Uuid,
    /// The bytes as stored.
    pub bytes: Vec<u8>,
    /// Ours, or a partner's.
    pub origin: Origin,
}

/// Finds the objects a relationship or sighting refers to.
pub trait EndsLookup {
    /// The latest version of the object `id` held locally, in any collection,
    /// or `None` when we do not hold it.
    fn end(&self, id: &str) -> Option<EgressItem>;
}

impl<F: Fn(&str) -> Option<EgressItem>> EndsLookup for F {
    fn end(&self, id: &str) -> Option<EgressItem> {
        self(id)
    }
}

/// A partner's outbound agreement, resolved and typed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartnerPolicy {
    /// The partner's config name.
    pub name: String,
    /// Its STIX identity id.
    pub identity: String,
    /// The local collections it may receive from.
    pub collections: HashSet<Uuid>,
    /// The types it may receive; empty: every type.
    pub types: BTreeSet<String>,
    /// The highest TLP it may receive (never RED).
    pub max_tlp: Tlp,
    /// Labels an object must all carry.
    pub labels_required: Vec<String>,
    /// Labels that stop an object.
    pub labels_excluded: Vec<String>,
    /// The communities it belongs to.
    pub communities: BTreeSet<String>,
    /// Per originator (partner name), the highest TLP of its data the partner may receive.
    pub consents: BTreeMap<String, Tlp>,
}

/// Everything [`decide`] needs, built once from the configuration.
#[derive(Debug, Clone)]
pub struct EgressContext {
    /// The TLP of objects that carry no TLP marking.
    pub default_tlp: Tlp,
    /// Who we are, and the key we sign with.
    pub identity: NodeIdentity,
    /// The communities this node belongs to.
    pub communities: BTreeSet<String>,
    partners: BTreeMap<String, PartnerPolicy>,
    /// Partner name by STIX identity id, to find an originator from a signature.
    by_identity: HashMap<String, String>,
    /// The identities the node publishes, to recognise them exactly.
    published: PublishedForms,
}

impl EgressContext {
    /// Builds the context from a configuration, validating it.
    /// `resolve_collection` maps a local collection id or alias, as the
    /// agreement writes it, to the collection's id.
    pub fn new(
        agreement: &Agreement,
        identity: NodeIdentity,
        resolve_collection: &dyn Fn(&str) -> Option<Uuid>,
    ) -> Result<EgressContext, ConfigError> {
        agreement.validate()?;
        let mut partners = BTreeMap::new();
        let mut by_identity = HashMap::new();
        for partner in &agreement.partners {
            let out = &partner.outbound;
            let error = |field: String, message: String| ConfigError::Partner {
                partner: partner.name.clone(),
                field,
                message,
            };
            let mut collections = HashSet::new();
            for (i, name) in out.collections.iter().enumerate() {
                let id = resolve_collection(name).ok_or_else(|| {
                    error(
                        format!("outbound.collections[{i}]"),
                        format!("{name:?} is not a collection of this node (id or alias)"),
                    )
                })?;
                collections.insert(id);
            }
            let max_tlp =
                parse_tlp(&out.max_tlp).map_err(|m| error("outbound.max_tlp".to_owned(), m))?;
            let mut consents = BTreeMap::new();
            for (i, consent) in out.consents.iter().enumerate() {
                let tlp = parse_tlp(&consent.tlp)
                    .map_err(|m| error(format!("outbound.consents[{i}].tlp"), m))?;
                let entry = consents.entry(consent.originator.clone()).or_insert(tlp);
                *entry = (*entry).max(tlp);
            }
            by_identity.insert(partner.identity.clone(), partner.name.clone());
            partners.insert(
                partner.name.clone(),
                PartnerPolicy {
                    name: partner.name.clone(),
                    identity: partner.identity.clone(),
                    collections,
                    types: out.types.iter().cloned().collect(),
                    max_tlp,
                    labels_required: out.labels_required.clone(),
                    labels_excluded: out.labels_excluded.clone(),
                    communities: partner.communities.iter().cloned().collect(),
                    consents,
                },
            );
        }
        Ok(EgressContext {
            default_tlp: agreement.default_tlp()?,
            published: PublishedForms::new(&identity),
            identity,
            communities: agreement.node.communities.iter().cloned().collect(),
            partners,
            by_identity,
        })
    }

    /// The policy of the partner with this name.
    pub fn partner(&self, name: &str) -> Option<&PartnerPolicy> {
        self.partners.get(name)
    }

    /// Every partner's policy, by name.
    pub fn partners(&self) -> impl Iterator<Item = &PartnerPolicy> {
        self.partners.values()
    }

    /// The partner whose STIX identity this is.
    pub fn partner_by_identity(&self, identity: &str) -> Option<&str> {
        self.by_identity.get(identity).map(String::as_str)
    }
}

/// Decides whether `item` may go to `partner`, and in what form.
pub fn decide(
    ctx: &EgressContext,
    partner: &str,
    item: &EgressItem,
    ends: &dyn EndsLookup,
) -> Decision {
    decide_at(ctx, partner, item, Some(ends))
}

fn withhold(rule: Rule, detail: impl Into<String>) -> Decision {
    Decision::Withhold {
        rule,
        detail: detail.into(),
    }
}

/// Whose data a partner's object is, as the third-party rule sees it.
struct ThirdParty<'a> {
    /// The partner that gave it to us.
    source: &'a str,
    /// The partner that signed it (verified), else the source.
    originator: &'a str,
    /// The partner the signature names, verified or not (echo is avoided to it too).
    claimed: Option<&'a str>,
}

/// The decision; `ends` is `None` when deciding an end of a relationship
/// (depth 1: an end's own ends are not followed), and then only whether it goes
/// counts: a disclosed end's bytes are as stored, never signed.
fn decide_at(
    ctx: &EgressContext,
    partner_name: &str,
    item: &EgressItem,
    ends: Option<&dyn EndsLookup>,
) -> Decision {
    let Some(partner) = ctx.partners.get(partner_name) else {
        return withhold(
            Rule::UnknownPartner,
            format!("{partner_name:?} is not a configured partner"),
        );
    };
    let mut value = match json::parse(&item.bytes) {
        Ok(value) => value,
        Err(e) => return withhold(Rule::Unparseable, format!("not JSON: {e}")),
    };
    let Some(obj) = value.as_object_mut() else {
        return withhold(Rule::Unparseable, "not a JSON object");
    };
    let id = obj
        .get("id")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_owned();
    let Some(object_type) = obj.get("type").and_then(Value::as_str).map(str::to_owned) else {
        return withhold(Rule::Unparseable, format!("{id}: no type"));
    };

    // 1. Collection: the agreement's scope, for every object.
    if !partner.collections.contains(&item.collection) {
        return withhold(
            Rule::CollectionNotShared,
            format!(
                "collection {} is not shared with {partner_name}",
                item.collection
            ),
        );
    }

    // 2. Definitions always go, as stored: the standard TLP ones must not change.
    // So do the identities published with the signature extension-definition, which
    // a partner needs to resolve it and the signatures that name us.
    match object_type.as_str() {
        "marking-definition" => return disclose_untouched(item, Rule::MarkingDefinition),
        "extension-definition" => return disclose_untouched(item, Rule::ExtensionDefinition),
        "identity" => match ctx.published.identity(&id, &value) {
            Some(PublishedIdentity::Project) => {
                return disclose_untouched(item, Rule::PublishedIdentity);
            }
            Some(PublishedIdentity::Node) if ends.is_some() => {
                return signed(ctx, &id, value, Rule::PublishedIdentity, item.bytes.len());
            }
            Some(PublishedIdentity::Node) => {
                return disclose_untouched(item, Rule::PublishedIdentity);
            }
            None => {}
        },
        _ => {}
    }
    let Some(obj) = value.as_object_mut() else {
        return withhold(Rule::Unparseable, "not a JSON object");
    };

    // 3. Type.
    if !partner.types.is_empty() && !partner.types.contains(&object_type) {
        return withhold(
            Rule::TypeNotShared,
            format!("type {object_type} is not shared with {partner_name}"),
        );
    }

    // 4, 5. TLP.
    let marked = object_tlp(obj);
    let tlp = marked.unwrap_or(ctx.default_tlp);
    let tlp_text = match marked {
        Some(level) => level.to_string(),
        None => format!("{tlp} (unmarked, the node default)"),
    };
    if tlp == Tlp::Red {
        return withhold(
            Rule::TlpRed,
            format!("{tlp_text} never leaves automatically"),
        );
    }
    if tlp > partner.max_tlp {
        return withhold(
            Rule::TlpAboveAgreement,
            format!(
                "{tlp_text} is above {partner_name}'s max_tlp {}",
                partner.max_tlp
            ),
        );
    }

    // 6. Labels.
    let labels: Vec<&str> = obj
        .get("labels")
        .and_then(Value::as_array)
        .unwrap_or_default()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    if let Some(missing) = partner
        .labels_required
        .iter()
        .find(|l| !labels.contains(&l.as_str()))
    {
        return withhold(
            Rule::LabelRequiredMissing,
            format!("label {missing:?} is required for {partner_name}"),
        );
    }
    if let Some(excluded) = partner
        .labels_excluded
        .iter()
        .find(|l| labels.contains(&l.as_str()))
    {
        return withhold(
            Rule::LabelExcluded,
            format!("label {excluded:?} is excluded for {partner_name}"),
        );
    }

    // 7. Echo, 8. the third-party rule.
    let third_party = match &item.origin {
        Origin::Own => None,
        Origin::Partner { source, signature } => {
            let by = |s: Option<&str>| s.and_then(|id| ctx.partner_by_identity(id));
            let originator = by(signature.verified_signer()).unwrap_or(source);
            Some(ThirdParty {
                source,
                originator,
                claimed: by(signature.signer()),
            })
        }
    };
    let (rule, ceiling) = match &third_party {
        None => (Rule::OwnData, partner.max_tlp),
        Some(tp) => {
            if tp.source == partner_name {
                return withhold(Rule::EchoToSource, format!("{partner_name} gave it to us"));
            }
            if tp.originator == partner_name || tp.claimed == Some(partner_name) {
                return withhold(
                    Rule::EchoToSource,
                    format!("{partner_name} originated it (its signature)"),
                );
            }
            match third_party_rule(ctx, partner, tp.originator, tlp) {
                Ok(allowed) => allowed,
                Err(withheld) => return withheld,
            }
        }
    };

    // 9. Granular markings above what this partner may see of this data.
    let redacted = match redact_above(obj, ceiling) {
        Ok(removal) => !removal.removed.is_empty(),
        Err(e) => {
            return withhold(
                Rule::RedactionInvalid,
                format!("a granular marking cannot be applied: {e}"),
            );
        }
    };
    if redacted {
        let problems: Vec<String> = validate_object(&value)
            .into_iter()
            .filter(|d| d.severity == Severity::Error)
            .map(|d| format!("{}: {}", d.property, d.message))
            .collect();
        if !problems.is_empty() {
            return withhold(
                Rule::RedactionInvalid,
                format!(
                    "removing what is marked above {ceiling} leaves it invalid ({})",
                    problems.join("; ")
                ),
            );
        }
    }
    let Some(obj) = value.as_object_mut() else {
        return withhold(Rule::Unparseable, "not a JSON object");
    };

    // 10. The ends of relationships and sightings.
    if let Some(ends) = ends {
        for end_id in end_refs(&object_type, obj) {
            if let Some(why) = end_withheld(ctx, partner_name, end_id, ends) {
                return withhold(Rule::RelationshipEndWithheld, why);
            }
        }
    }

    // 11. Signature. An end of a relationship is decided only to know whether it
    // may go: it is not sent, so it is not signed (signing is most of the cost).
    let must_sign = third_party.is_none() || redacted;
    if !must_sign || ends.is_none() {
        return Decision::Disclose {
            bytes: item.bytes.clone(),
            rule,
            redacted,
        };
    }
    match signed(ctx, &id, value, rule, item.bytes.len()) {
        Decision::Disclose { bytes, rule, .. } => Decision::Disclose {
            bytes,
            rule,
            redacted,
        },
        withheld => withheld,
    }
}

/// `value` signed by us, to go by `rule`.
fn signed(
    ctx: &EgressContext,
    id: &str,
    mut value: Value<'_>,
    rule: Rule,
    size: usize,
) -> Decision {
    let Some(obj) = value.as_object_mut() else {
        return withhold(Rule::Unparseable, "not a JSON object");
    };
    if let Err(e) = sign_map(obj, &ctx.identity) {
        return withhold(Rule::Unparseable, format!("{id}: cannot be signed: {e}"));
    }
    let mut bytes = Vec::with_capacity(size + 256);
    json::write_compact(&value, &mut bytes);
    Decision::Disclose {
        bytes,
        rule,
        redacted: false,
    }
}

fn disclose_untouched(item: &EgressItem, rule: Rule) -> Decision {
    Decision::Disclose {
        bytes: item.bytes.clone(),
        rule,
        redacted: false,
    }
}

/// How far `originator`'s data may go on to a recipient under the third-party rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThirdPartyReach {
    /// A community both belong to (and this node too, when it lists any).
    pub community: Option<String>,
    /// The level up to which the originator consented, as recorded in the
    /// recipient's agreement.
    pub consent: Option<Tlp>,
    /// The highest TLP that may go: CLEAR always, GREEN within a community, up to a
    /// consent's level with it; never above the recipient's `max_tlp`.
    pub ceiling: Tlp,
}

impl EgressContext {
    /// The third-party rule between one originator and one recipient.
    pub fn third_party_reach(
        &self,
        recipient: &PartnerPolicy,
        originator: &str,
    ) -> ThirdPartyReach {
        let community = self
            .partners
            .get(originator)
            .and_then(|o| {
                o.communities
                    .intersection(&recipient.communities)
                    .find(|c| self.communities.is_empty() || self.communities.contains(*c))
            })
            .cloned();
        let consent = recipient.consents.get(originator).copied();
        let mut ceiling = Tlp::Clear;
        if community.is_some() {
            ceiling = Tlp::Green;
        }
        if let Some(level) = consent {
            ceiling = ceiling.max(level);
        }
        ThirdPartyReach {
            community,
            consent,
            ceiling: ceiling.min(recipient.max_tlp),
        }
    }
}

/// The third-party rule for a partner's data at `tlp` going to `partner`:
/// the allowing rule and the highest level of that originator's content the
/// recipient may see (granular markings above it are removed), or the
/// withholding decision.
///
/// A consent covers every level up to its own; so a consent at AMBER also
/// lets GREEN data go to a partner outside the originator's communities.
fn third_party_rule(
    ctx: &EgressContext,
    partner: &PartnerPolicy,
    originator: &str,
    tlp: Tlp,
) -> Result<(Rule, Tlp), Decision> {
    let ThirdPartyReach {
        community,
        consent,
        ceiling,
    } = ctx.third_party_reach(partner, originator);
    let recipient = &partner.name;
    let rule = match tlp {
        Tlp::Clear => Rule::ThirdPartyClear,
        Tlp::Green if community.is_some() => Rule::ThirdPartyGreenCommunity,
        _ if consent.is_some_and(|c| c >= tlp) => Rule::ThirdPartyConsent,
        Tlp::Green => {
            return Err(withhold(
                Rule::ThirdPartyGreenNoCommunity,
                format!(
                    "{originator}'s TLP:GREEN data, and no community has both {originator} and {recipient}"
                ),
            ));
        }
        _ => {
            let recorded = consent.map_or_else(
                || "none is recorded".to_owned(),
                |c| format!("the one recorded covers up to {c}"),
            );
            return Err(withhold(
                Rule::ThirdPartyNoConsent,
                format!(
                    "{originator}'s {tlp} data needs {originator}'s consent for {recipient} ({recorded})"
                ),
            ));
        }
    };
    Ok((rule, ceiling))
}

/// The ids a relationship or sighting names as its ends (none for other types).
pub fn end_refs<'v>(object_type: &str, obj: &'v Map<'_>) -> Vec<&'v str> {
    let (single, lists): (&[&str], &[&str]) = match object_type {
        "relationship" => (&["source_ref", "target_ref"], &[]),
        "sighting" => (
            &["sighting_of_ref"],
            &["where_sighted_refs", "observed_data_refs"],
        ),
        _ => return Vec::new(),
    };
    let mut ids: Vec<&str> = single
        .iter()
        .filter_map(|name| obj.get(name).and_then(Value::as_str))
        .collect();
    for name in lists {
        ids.extend(
            obj.get(name)
                .and_then(Value::as_array)
                .unwrap_or_default()
                .iter()
                .filter_map(Value::as_str),
        );
    }
    ids
}

/// Why the end `id` may not go to the partner, or `None` when it may.
///
/// An end we do not hold is withheld (share less). An end withheld only
/// because the partner gave it to us (or originated it) does not stop the
/// relationship: the partner holds it already, so naming it discloses nothing.
fn end_withheld(
    ctx: &EgressContext,
    partner: &str,
    id: &str,
    ends: &dyn EndsLookup,
) -> Option<String> {
    let Some(end) = ends.end(id) else {
        return Some(format!("end {id} is not held here"));
    };
    match decide_at(ctx, partner, &end, None) {
        Decision::Disclose { .. } => None,
        Decision::Withhold {
            rule: Rule::EchoToSource,
            ..
        } => None,
        Decision::Withhold { rule, detail } => {
            Some(format!("end {id} is withheld by {rule}: {detail}"))
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests;
