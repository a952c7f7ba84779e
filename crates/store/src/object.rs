//! Objects as the store keeps them: [`Version`], [`NewObject`] (what intake hands in),
//! [`Provenance`], [`AddOutcome`], and the records a query returns.

use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};

use stix::Timestamp;
use stix::json::Map;
use stix::markings::Tlp;

use crate::error::{Result, StoreError};
use crate::partner::{Channel, SignatureCheck};
use crate::time::Micros;

/// One version of an object: its `modified`, else its `created`, else its `date_added`.
///
/// Two versions are equal when they are the same instant, whatever their precision
/// (`…00Z` and `…00.000Z` are one version); [`Version::as_str`] keeps the text as written.
#[derive(Debug, Clone)]
pub struct Version {
    normalised: String,
    text: String,
}

impl Version {
    /// Parses a STIX timestamp as a version.
    pub fn parse(text: &str) -> Result<Version> {
        let ts = Timestamp::parse(text)
            .map_err(|e| StoreError::Invalid(format!("version {text:?} {e}")))?;
        Ok(Version::from_timestamp(&ts, text))
    }

    /// The version of a parsed timestamp whose original text was `text`.
    pub fn from_timestamp(ts: &Timestamp, text: &str) -> Version {
        Version {
            normalised: normalise(ts),
            text: text.to_owned(),
        }
    }

    /// The version given by a `date_added`, for objects with neither `modified` nor `created`.
    pub fn from_date_added(date_added: Micros) -> Version {
        let ts = date_added.to_timestamp();
        Version {
            normalised: normalise(&ts),
            text: ts.to_string(),
        }
    }

    /// Rebuilds a version from the two texts a backend stored.
    pub fn from_stored(normalised: String, text: String) -> Version {
        Version { normalised, text }
    }

    /// The version as originally written, to return to clients.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// `YYYY-MM-DDTHH:MM:SS.nnnnnnnnnZ`: fixed width, so text order is time order.
    pub fn normalised(&self) -> &str {
        &self.normalised
    }
}

fn normalise(ts: &Timestamp) -> String {
    Timestamp {
        fraction_digits: 9,
        ..*ts
    }
    .to_string()
}

impl PartialEq for Version {
    fn eq(&self, other: &Version) -> bool {
        self.normalised == other.normalised
    }
}

impl Eq for Version {}

impl Hash for Version {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.normalised.hash(state);
    }
}

impl PartialOrd for Version {
    fn partial_cmp(&self, other: &Version) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Version {
    fn cmp(&self, other: &Version) -> Ordering {
        self.normalised.cmp(&other.normalised)
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// Who gave the node an object version. Kept per version.
///
/// More kinds may come; match with a wildcard arm.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Provenance {
    /// Posted over TAXII by a local account.
    Account {
        /// The account's name.
        name: String,
    },
    /// Imported by an operator with `passerelle import`.
    Import {
        /// Where the objects came from: a file name, or `-` for standard input.
        source: String,
    },
    /// Received from a partner node (third-party data for egress).
    Partner {
        /// The partner's configured name (`paris`).
        partner: String,
        /// How it came: pulled from them, pushed by them, or in a file.
        channel: Channel,
        /// What checking its signature found.
        signature: SignatureCheck,
    },
}

impl Provenance {
    /// The kind, as a short stable word a backend stores (`account`, `import`, `partner`).
    pub fn kind(&self) -> &'static str {
        match self {
            Provenance::Account { .. } => "account",
            Provenance::Import { .. } => "import",
            Provenance::Partner { .. } => "partner",
        }
    }

    /// The account name, source or partner name.
    pub fn name(&self) -> &str {
        match self {
            Provenance::Account { name } => name,
            Provenance::Import { source } => source,
            Provenance::Partner { partner, .. } => partner,
        }
    }

    /// What else a backend stores beside [`kind`](Self::kind) and [`name`](Self::name):
    /// for a partner, the channel and the [`SignatureCheck`] text form separated by a
    /// space (`push verified identity--…`, `file unsigned`); `None` for the other kinds.
    pub fn detail(&self) -> Option<String> {
        match self {
            Provenance::Partner {
                channel, signature, ..
            } => Some(format!("{channel} {signature}")),
            Provenance::Account { .. } | Provenance::Import { .. } => None,
        }
    }

    /// Rebuilds a provenance from what [`kind`](Self::kind), [`name`](Self::name) and
    /// [`detail`](Self::detail) gave. Anything else means the stored row was not
    /// written by this program: a [`StoreError::Backend`].
    pub fn from_stored(kind: &str, name: String, detail: Option<&str>) -> Result<Provenance> {
        match (kind, detail) {
            ("account", None) => Ok(Provenance::Account { name }),
            ("import", None) => Ok(Provenance::Import { source: name }),
            ("partner", Some(detail)) => {
                let parsed = detail.split_once(' ').and_then(|(channel, signature)| {
                    Some((channel.parse().ok()?, signature.parse().ok()?))
                });
                let (channel, signature) = parsed.ok_or_else(|| {
                    StoreError::backend(format!(
                        "stored provenance detail {detail:?} of partner {name:?} \
                         is not \"<channel> <signature check>\""
                    ))
                })?;
                Ok(Provenance::Partner {
                    partner: name,
                    channel,
                    signature,
                })
            }
            (kind, detail) => Err(StoreError::backend(format!(
                "unknown stored provenance kind {kind:?} with detail {detail:?}"
            ))),
        }
    }
}

/// An already-validated object ready to be stored: its exact bytes and the columns queries use.
///
/// Build it with [`NewObject::from_object`] from the parsed object, so every caller
/// (TAXII POST, `passerelle import`, sync) derives the columns the same way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewObject {
    /// The STIX id, `type--uuid`.
    pub id: String,
    /// The STIX type.
    pub object_type: String,
    /// `spec_version` (`2.1` when the object omits it, as SCOs may).
    pub spec_version: String,
    /// `modified`, else `created`; `None` means the version will be the `date_added`.
    pub version: Option<Version>,
    /// `created`, if present.
    pub created: Option<Version>,
    /// `modified`, if present.
    pub modified: Option<Version>,
    /// `revoked`.
    pub revoked: bool,
    /// The object's TLP level from `object_marking_refs`, if any.
    pub tlp: Option<Tlp>,
    /// `created_by_ref`, if present.
    pub created_by_ref: Option<String>,
    /// The media type it is served with, such as `application/stix+json;version=2.1`.
    pub media_type: String,
    /// The exact JSON bytes accepted; served back unchanged.
    pub bytes: Vec<u8>,
}

impl NewObject {
    /// Derives the columns from the parsed object `obj` whose exact text is `bytes`.
    ///
    /// Fails with [`StoreError::Invalid`] when `id` or `type` is missing or a timestamp
    /// does not parse; objects are validated before this, so that means a caller bug.
    pub fn from_object(bytes: Vec<u8>, obj: &Map<'_>) -> Result<NewObject> {
        let text = |key: &str| obj.get(key).and_then(|v| v.as_str());
        let required = |key: &'static str| {
            text(key)
                .map(str::to_owned)
                .ok_or_else(|| StoreError::Invalid(format!("object has no string {key:?}")))
        };
        let timestamp = |key: &str| text(key).map(Version::parse).transpose();
        let id = required("id")?;
        let object_type = required("type")?;
        let spec_version = text("spec_version").unwrap_or("2.1").to_owned();
        let created = timestamp("created")?;
        let modified = timestamp("modified")?;
        Ok(NewObject {
            media_type: format!("application/stix+json;version={spec_version}"),
            version: modified.clone().or_else(|| created.clone()),
            revoked: obj
                .get("revoked")
                .and_then(|v| v.as_bool())
                .unwrap_or(false),
            tlp: stix::markings::object_tlp(obj),
            created_by_ref: text("created_by_ref").map(str::to_owned),
            id,
            object_type,
            spec_version,
            created,
            modified,
            bytes,
        })
    }
}

/// What happened to one object of a batch handed to [`Store::add_objects`](crate::Store::add_objects).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AddOutcome {
    /// Stored as a new version.
    Added {
        /// The version stored.
        version: Version,
        /// Its `date_added`.
        date_added: Micros,
    },
    /// This (id, version) was already in the collection; nothing was stored.
    AlreadyPresent {
        /// The version.
        version: Version,
        /// The `date_added` of the copy already stored.
        date_added: Micros,
    },
}

impl AddOutcome {
    /// The version, added or already present.
    pub fn version(&self) -> &Version {
        match self {
            AddOutcome::Added { version, .. } | AddOutcome::AlreadyPresent { version, .. } => {
                version
            }
        }
    }

    /// The `date_added` of the stored copy.
    pub fn date_added(&self) -> Micros {
        match self {
            AddOutcome::Added { date_added, .. }
            | AddOutcome::AlreadyPresent { date_added, .. } => *date_added,
        }
    }

    /// How many of `outcomes` stored a new version.
    pub fn count_added(outcomes: &[AddOutcome]) -> u64 {
        outcomes
            .iter()
            .filter(|o| matches!(o, AddOutcome::Added { .. }))
            .count() as u64
    }
}

/// One version of an object as listed in a manifest or versions page (TAXII §5.6).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManifestRecord {
    /// The STIX id.
    pub id: String,
    /// The version.
    pub version: Version,
    /// When this node stored it.
    pub date_added: Micros,
    /// Its media type.
    pub media_type: String,
    /// Its `spec_version`.
    pub spec_version: String,
}

/// One stored object version with its exact bytes, as an objects page returns it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectRecord {
    /// The STIX id.
    pub id: String,
    /// The version.
    pub version: Version,
    /// When this node stored it.
    pub date_added: Micros,
    /// Its media type.
    pub media_type: String,
    /// Its `spec_version`.
    pub spec_version: String,
    /// The exact JSON bytes accepted, to splice into an envelope unchanged.
    pub bytes: Vec<u8>,
    /// Who gave us this version, when the query asked for it
    /// ([`ObjectQuery::with_provenance`](crate::ObjectQuery::with_provenance)); else `None`.
    pub provenance: Option<Provenance>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_compare_as_instants() {
        let a = Version::parse("2020-01-01T00:00:00Z").unwrap();
        let b = Version::parse("2020-01-01T00:00:00.000Z").unwrap();
        let c = Version::parse("2020-01-01T00:00:00.0000001Z").unwrap();
        assert_eq!(a, b);
        assert_eq!(a.as_str(), "2020-01-01T00:00:00Z");
        assert_eq!(a.normalised(), "2020-01-01T00:00:00.000000000Z");
        assert!(c > a);
        assert!(Version::parse("2020-13-01T00:00:00Z").is_err());
    }

    #[test]
    fn stored_provenance_that_does_not_parse_is_refused() {
        let partner = Provenance::Partner {
            partner: "paris".into(),
            channel: Channel::File,
            signature: SignatureCheck::Invalid {
                signer: "identity--x".into(),
            },
        };
        assert_eq!(
            partner.detail().as_deref(),
            Some("file invalid identity--x")
        );
        assert_eq!(
            Provenance::from_stored("partner", "paris".into(), partner.detail().as_deref())
                .unwrap(),
            partner
        );
        for (kind, detail) in [
            ("partner", None),
            ("partner", Some("file")),
            ("partner", Some("email unsigned")),
            ("partner", Some("pull signed")),
            ("account", Some("pull unsigned")),
            ("robot", None),
        ] {
            assert!(
                Provenance::from_stored(kind, "x".into(), detail).is_err(),
                "{kind} {detail:?}"
            );
        }
    }

    #[test]
    fn columns_from_object() {
        let bytes = br#"{"type":"indicator","spec_version":"2.1","id":"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f","created":"2016-04-06T20:03:48.000Z","modified":"2016-04-07T20:03:48.000Z","revoked":true,"created_by_ref":"identity--f431f809-377b-45e0-aa1c-6a4751cae5ff","object_marking_refs":["marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da"]}"#;
        let value = stix::json::parse(bytes).unwrap();
        let obj = NewObject::from_object(bytes.to_vec(), value.as_object().unwrap()).unwrap();
        assert_eq!(obj.object_type, "indicator");
        assert_eq!(
            obj.version.as_ref().unwrap().as_str(),
            "2016-04-07T20:03:48.000Z"
        );
        assert!(obj.revoked);
        assert_eq!(obj.tlp, Some(Tlp::Green));
        assert_eq!(obj.media_type, "application/stix+json;version=2.1");
        assert_eq!(obj.bytes, bytes.to_vec());

        let sco = br#"{"type":"ipv4-addr","id":"ipv4-addr--ff26c055-6336-5bc5-b98d-13d6226742dd","value":"198.51.100.3"}"#;
        let value = stix::json::parse(sco).unwrap();
        let obj = NewObject::from_object(sco.to_vec(), value.as_object().unwrap()).unwrap();
        assert_eq!(obj.version, None);
        assert_eq!(obj.spec_version, "2.1");

        let value = stix::json::parse(br#"{"type":"x"}"#).unwrap();
        assert!(NewObject::from_object(vec![], value.as_object().unwrap()).is_err());
    }
}
