//! The node's identity: its STIX `identity` object and its Ed25519 signing
//! key, generated once by `passerelle init`, kept in the data folder as
//! `identity.json` and `node.key`, and the text form of public keys
//! (`ed25519:<base64>`) that partners exchange.

use std::fmt;
use std::fs::{self, File, OpenOptions};
use std::io::{ErrorKind, Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use ed25519_dalek::{SigningKey, VerifyingKey};
use rand::RngCore as _;
use stix::Timestamp;
use stix::json::{self, Map, Value};
use stix::markings::TLP_CLEAR;
use zeroize::Zeroizing;

/// The file holding the node's STIX identity object.
pub const IDENTITY_FILE: &str = "identity.json";

/// The file holding the node's private key: the standard base64 of the
/// 32-byte Ed25519 seed and a newline, readable by its owner only.
pub const KEY_FILE: &str = "node.key";

/// The prefix of a public key's text form.
pub const PUBLIC_KEY_PREFIX: &str = "ed25519:";

/// What went wrong saving or loading the node's identity. Each names the file.
#[derive(Debug, thiserror::Error)]
pub enum IdentityError {
    /// The file exists: an identity is never overwritten.
    #[error(
        "{} already exists: the node's identity is never overwritten (move it away to start a new one)",
        path.display()
    )]
    Exists {
        /// The file.
        path: PathBuf,
    },
    /// The file or folder could not be read or written.
    #[error("cannot {action} {}: {source}", path.display())]
    Io {
        /// What was being done: `read`, `write`, `create`.
        action: &'static str,
        /// The file or folder.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The private key file can be read by other users.
    #[error(
        "{} can be read by group or others (mode {mode:03o}): the private key must be readable by its owner only (chmod 600)",
        path.display()
    )]
    KeyPermissions {
        /// The key file.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
    },
    /// The file's content is not what it should be.
    #[error("{}: {message}", path.display())]
    Malformed {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
}

/// The organisation a node speaks for, and the key it signs with.
#[derive(Clone)]
pub struct NodeIdentity {
    /// The STIX identity id, `identity--<uuid>`.
    pub identity: String,
    /// The organisation's name.
    pub name: String,
    /// When the identity object was created.
    pub created: Timestamp,
    /// The private key.
    pub signing_key: SigningKey,
}

impl fmt::Debug for NodeIdentity {
    // Never print the private key.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NodeIdentity")
            .field("identity", &self.identity)
            .field("name", &self.name)
            .field("created", &self.created.to_string())
            .field("public_key", &self.public_key().to_string())
            .finish_non_exhaustive()
    }
}

impl NodeIdentity {
    /// A new identity for the organisation `name`: a random identity id and a
    /// random key, created now.
    pub fn generate(name: &str) -> NodeIdentity {
        let mut seed = Zeroizing::new([0u8; 32]);
        rand::rng().fill_bytes(seed.as_mut());
        NodeIdentity {
            identity: format!("identity--{}", uuid::Uuid::new_v4()),
            name: name.to_owned(),
            created: now(),
            signing_key: SigningKey::from_bytes(&seed),
        }
    }

    /// An identity from known parts (tests, and the demo's fixed nodes).
    pub fn from_seed(identity: &str, name: &str, created: Timestamp, seed: &[u8; 32]) -> Self {
        NodeIdentity {
            identity: identity.to_owned(),
            name: name.to_owned(),
            created,
            signing_key: SigningKey::from_bytes(seed),
        }
    }

    /// The public key partners verify our signatures with.
    pub fn public_key(&self) -> PublicKey {
        PublicKey(self.signing_key.verifying_key())
    }

    /// The STIX 2.1 identity object (`identity_class` `organization`, marked
    /// TLP:CLEAR so every partner may receive it).
    pub fn stix_object(&self) -> Value<'static> {
        let created = self.created.to_string();
        let mut obj = Map::with_capacity(9);
        obj.insert("type", Value::from("identity"));
        obj.insert("spec_version", Value::from("2.1"));
        obj.insert("id", Value::from(self.identity.clone()));
        obj.insert("created", Value::from(created.clone()));
        obj.insert("modified", Value::from(created));
        obj.insert("name", Value::from(self.name.clone()));
        obj.insert("identity_class", Value::from("organization"));
        obj.insert(
            "object_marking_refs",
            Value::Array(vec![Value::from(TLP_CLEAR.id)]),
        );
        Value::Object(obj)
    }

    /// Writes `identity.json` and `node.key` (mode 0600) into `dir`, creating
    /// `dir` if needed. Refuses to overwrite either file.
    pub fn save(&self, dir: &Path) -> Result<(), IdentityError> {
        fs::create_dir_all(dir).map_err(|source| IdentityError::Io {
            action: "create",
            path: dir.to_owned(),
            source,
        })?;
        let identity_path = dir.join(IDENTITY_FILE);
        let key_path = dir.join(KEY_FILE);
        for path in [&identity_path, &key_path] {
            if fs::symlink_metadata(path).is_ok() {
                return Err(IdentityError::Exists { path: path.clone() });
            }
        }
        let mut key_text = Zeroizing::new(STANDARD.encode(self.signing_key.to_bytes()));
        key_text.push('\n');
        write_new(&key_path, key_text.as_bytes(), 0o600)?;
        let mut identity_text = json::to_string(&self.stix_object());
        identity_text.push('\n');
        if let Err(e) = write_new(&identity_path, identity_text.as_bytes(), 0o644) {
            // Leave no key without its identity, so a second attempt can start clean.
            let _ = fs::remove_file(&key_path);
            return Err(e);
        }
        tracing::info!(
            identity = %self.identity,
            public_key = %self.public_key(),
            dir = %dir.display(),
            "node identity saved"
        );
        Ok(())
    }

    /// Reads the identity saved in `dir`. Refuses a key file that group or
    /// others can read.
    pub fn load(dir: &Path) -> Result<NodeIdentity, IdentityError> {
        let identity_path = dir.join(IDENTITY_FILE);
        let key_path = dir.join(KEY_FILE);
        let signing_key = read_key(&key_path)?;
        let text = fs::read(&identity_path).map_err(|source| IdentityError::Io {
            action: "read",
            path: identity_path.clone(),
            source,
        })?;
        let malformed = |message: String| IdentityError::Malformed {
            path: identity_path.clone(),
            message,
        };
        let value = json::parse(&text).map_err(|e| malformed(format!("is not valid JSON: {e}")))?;
        let obj = value
            .as_object()
            .ok_or_else(|| malformed("is not a JSON object".to_owned()))?;
        let field = |name: &str| {
            obj.get(name)
                .and_then(Value::as_str)
                .ok_or_else(|| malformed(format!("has no string property {name:?}")))
        };
        if field("type")? != "identity" {
            return Err(malformed("is not a STIX identity object".to_owned()));
        }
        let identity = field("id")?;
        match stix::Identifier::parse(identity) {
            Ok(id) if id.object_type == "identity" => {}
            _ => {
                return Err(malformed(format!(
                    "id {identity:?} is not an identity id (identity--<UUID>)"
                )));
            }
        }
        let created = field("created")?;
        let created =
            Timestamp::parse(created).map_err(|e| malformed(format!("created {created:?} {e}")))?;
        Ok(NodeIdentity {
            identity: identity.to_owned(),
            name: field("name")?.to_owned(),
            created,
            signing_key,
        })
    }
}

/// Now, to the millisecond, as STIX timestamps are usually written.
fn now() -> Timestamp {
    let since = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    Timestamp {
        seconds: i64::try_from(since.as_secs()).unwrap_or(i64::MAX),
        nanos: since.subsec_millis() * 1_000_000,
        fraction_digits: 3,
    }
}

/// Creates `path` (never overwriting) with `mode`, writes `bytes` and syncs.
fn write_new(path: &Path, bytes: &[u8], mode: u32) -> Result<(), IdentityError> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(mode);
    }
    #[cfg(not(unix))]
    let _ = mode;
    let mut file = options.open(path).map_err(|source| {
        if source.kind() == ErrorKind::AlreadyExists {
            IdentityError::Exists {
                path: path.to_owned(),
            }
        } else {
            IdentityError::Io {
                action: "create",
                path: path.to_owned(),
                source,
            }
        }
    })?;
    file.write_all(bytes)
        .and_then(|()| file.sync_all())
        .map_err(|source| IdentityError::Io {
            action: "write",
            path: path.to_owned(),
            source,
        })
}

fn read_key(path: &Path) -> Result<SigningKey, IdentityError> {
    let io = |action, source| IdentityError::Io {
        action,
        path: path.to_owned(),
        source,
    };
    let mut file = File::open(path).map_err(|e| io("read", e))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = file
            .metadata()
            .map_err(|e| io("read", e))?
            .permissions()
            .mode()
            & 0o777;
        if mode & 0o077 != 0 {
            return Err(IdentityError::KeyPermissions {
                path: path.to_owned(),
                mode,
            });
        }
    }
    let mut text = Zeroizing::new(String::new());
    file.read_to_string(&mut text).map_err(|e| io("read", e))?;
    let malformed = |message: String| IdentityError::Malformed {
        path: path.to_owned(),
        message,
    };
    let seed = Zeroizing::new(
        STANDARD
            .decode(text.trim_end_matches(['\n', '\r']))
            .map_err(|_| malformed("is not standard base64 of an Ed25519 seed".to_owned()))?,
    );
    let seed: &[u8; 32] = seed.as_slice().try_into().map_err(|_| {
        malformed(format!(
            "holds {} bytes, expected the 32 bytes of an Ed25519 seed",
            seed.len()
        ))
    })?;
    Ok(SigningKey::from_bytes(seed))
}

/// An Ed25519 public key, written `ed25519:<standard base64 of the 32 bytes>`.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct PublicKey(VerifyingKey);

/// Why a text is not a public key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PublicKeyError {
    /// The text does not start with `ed25519:`.
    #[error("must start with \"ed25519:\" (the only algorithm), found {0:?}")]
    Prefix(String),
    /// The part after the prefix is not standard base64.
    #[error("the part after \"ed25519:\" is not standard base64 (RFC 4648 §4, with padding)")]
    Base64,
    /// The key is not 32 bytes.
    #[error("holds {0} bytes, an Ed25519 public key has 32")]
    Length(usize),
    /// The 32 bytes are not a usable Ed25519 point.
    #[error("is not a valid Ed25519 public key ({0})")]
    Point(&'static str),
}

impl PublicKey {
    /// Parses the text form `ed25519:<base64>`.
    pub fn parse(text: &str) -> Result<PublicKey, PublicKeyError> {
        let encoded = text
            .strip_prefix(PUBLIC_KEY_PREFIX)
            .ok_or_else(|| PublicKeyError::Prefix(text.chars().take(16).collect()))?;
        let bytes = STANDARD
            .decode(encoded)
            .map_err(|_| PublicKeyError::Base64)?;
        let bytes: [u8; 32] = bytes
            .as_slice()
            .try_into()
            .map_err(|_| PublicKeyError::Length(bytes.len()))?;
        let key = VerifyingKey::from_bytes(&bytes)
            .map_err(|_| PublicKeyError::Point("not a point of the curve"))?;
        if key.is_weak() {
            return Err(PublicKeyError::Point(
                "a small-order point, which anyone can sign for",
            ));
        }
        Ok(PublicKey(key))
    }

    /// The key, to verify with.
    pub fn verifying_key(&self) -> &VerifyingKey {
        &self.0
    }
}

impl From<VerifyingKey> for PublicKey {
    fn from(key: VerifyingKey) -> Self {
        PublicKey(key)
    }
}

impl fmt::Display for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{PUBLIC_KEY_PREFIX}{}",
            STANDARD.encode(self.0.as_bytes())
        )
    }
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicKey({self})")
    }
}

impl FromStr for PublicKey {
    type Err = PublicKeyError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        PublicKey::parse(s)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use stix::Severity;

    fn fixed() -> NodeIdentity {
        NodeIdentity::from_seed(
            "identity--7f4c4a4e-9a4b-4a4f-8d1e-2b4b8f0e6c11",
            "DGSN Rabat",
            Timestamp::parse("2026-11-02T09:00:00.000Z").unwrap(),
            &[7; 32],
        )
    }

    #[test]
    fn generated_identities_differ_and_their_object_is_valid_stix() {
        let a = NodeIdentity::generate("DGSN Rabat");
        let b = NodeIdentity::generate("DGSN Rabat");
        assert_ne!(a.identity, b.identity);
        assert_ne!(a.public_key(), b.public_key());
        let obj = a.stix_object();
        let errors: Vec<_> = stix::validate_object(&obj)
            .into_iter()
            .filter(|d| d.severity == Severity::Error)
            .collect();
        assert!(errors.is_empty(), "{errors:?}");
        let diagnostics = stix::validate_object(&fixed().stix_object());
        assert!(diagnostics.is_empty(), "{diagnostics:?}");
        assert_eq!(
            obj.get("identity_class").unwrap().as_str(),
            Some("organization")
        );
        assert_eq!(obj.get("name").unwrap().as_str(), Some("DGSN Rabat"));
    }

    #[test]
    fn save_then_load_gives_the_same_identity() {
        let dir = tempfile::tempdir().unwrap();
        let node = NodeIdentity::generate("Policía Nacional");
        node.save(dir.path()).unwrap();
        let loaded = NodeIdentity::load(dir.path()).unwrap();
        assert_eq!(loaded.identity, node.identity);
        assert_eq!(loaded.name, "Policía Nacional");
        assert_eq!(loaded.created, node.created);
        assert_eq!(loaded.signing_key.to_bytes(), node.signing_key.to_bytes());
        let identity_text = fs::read_to_string(dir.path().join(IDENTITY_FILE)).unwrap();
        let value = json::parse(identity_text.as_bytes()).unwrap();
        assert_eq!(
            json::to_string(&value),
            json::to_string(&node.stix_object())
        );
        let key_text = fs::read_to_string(dir.path().join(KEY_FILE)).unwrap();
        assert!(key_text.ends_with('\n'));
        assert_eq!(
            STANDARD.decode(key_text.trim_end()).unwrap(),
            node.signing_key.to_bytes()
        );
    }

    #[cfg(unix)]
    #[test]
    fn key_file_is_created_owner_only() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().unwrap();
        fixed().save(dir.path()).unwrap();
        let mode = fs::metadata(dir.path().join(KEY_FILE))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    #[test]
    fn save_refuses_to_overwrite_either_file() {
        let dir = tempfile::tempdir().unwrap();
        let first = fixed();
        first.save(dir.path()).unwrap();
        let err = NodeIdentity::generate("other")
            .save(dir.path())
            .unwrap_err();
        assert!(
            matches!(&err, IdentityError::Exists { path } if path.ends_with(IDENTITY_FILE)),
            "{err}"
        );
        assert!(err.to_string().contains("never overwritten"));
        // The first identity is untouched.
        let loaded = NodeIdentity::load(dir.path()).unwrap();
        assert_eq!(loaded.signing_key.to_bytes(), first.signing_key.to_bytes());

        // A key file alone also stops it, and nothing is written.
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join(KEY_FILE), "x").unwrap();
        let err = fixed().save(dir.path()).unwrap_err();
        assert!(
            matches!(&err, IdentityError::Exists { path } if path.ends_with(KEY_FILE)),
            "{err}"
        );
        assert!(!dir.path().join(IDENTITY_FILE).exists());
    }

    #[cfg(unix)]
    #[test]
    fn load_refuses_a_key_readable_by_others_and_names_it() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().unwrap();
        fixed().save(dir.path()).unwrap();
        let key = dir.path().join(KEY_FILE);
        for mode in [0o640, 0o604, 0o644] {
            fs::set_permissions(&key, fs::Permissions::from_mode(mode)).unwrap();
            let err = NodeIdentity::load(dir.path()).unwrap_err();
            assert!(
                matches!(&err, IdentityError::KeyPermissions { path, mode: m } if *path == key && *m == mode),
                "{err}"
            );
            assert!(err.to_string().contains(&key.display().to_string()));
            assert!(err.to_string().contains("chmod 600"));
        }
        fs::set_permissions(&key, fs::Permissions::from_mode(0o400)).unwrap();
        NodeIdentity::load(dir.path()).unwrap();
    }

    #[test]
    fn load_names_the_file_that_is_missing_or_malformed() {
        let dir = tempfile::tempdir().unwrap();
        let err = NodeIdentity::load(dir.path()).unwrap_err();
        assert!(
            matches!(&err, IdentityError::Io { path, .. } if path.ends_with(KEY_FILE)),
            "{err}"
        );

        fixed().save(dir.path()).unwrap();
        let key = dir.path().join(KEY_FILE);
        let identity = dir.path().join(IDENTITY_FILE);
        let rewrite = |path: &Path, text: &str| {
            fs::remove_file(path).unwrap();
            write_new(path, text.as_bytes(), 0o600).unwrap();
        };

        rewrite(&key, "not base64!\n");
        let err = NodeIdentity::load(dir.path()).unwrap_err();
        assert!(
            matches!(&err, IdentityError::Malformed { path, .. } if *path == key),
            "{err}"
        );
        rewrite(&key, &format!("{}\n", STANDARD.encode([1u8; 31])));
        let err = NodeIdentity::load(dir.path()).unwrap_err();
        assert!(err.to_string().contains("holds 31 bytes"), "{err}");
        rewrite(&key, &STANDARD.encode([1u8; 32]));
        NodeIdentity::load(dir.path()).unwrap();

        for (text, expected) in [
            ("{", "not valid JSON"),
            ("[]", "not a JSON object"),
            (r#"{"type": "indicator"}"#, "not a STIX identity"),
            (
                r#"{"type": "identity", "id": "indicator--7f4c4a4e-9a4b-4a4f-8d1e-2b4b8f0e6c11"}"#,
                "is not an identity id",
            ),
            (
                r#"{"type": "identity", "id": "identity--7f4c4a4e-9a4b-4a4f-8d1e-2b4b8f0e6c11", "created": "yesterday"}"#,
                "created \"yesterday\"",
            ),
            (
                r#"{"type": "identity", "id": "identity--7f4c4a4e-9a4b-4a4f-8d1e-2b4b8f0e6c11", "created": "2026-11-02T09:00:00Z"}"#,
                "no string property \"name\"",
            ),
        ] {
            rewrite(&identity, text);
            let err = NodeIdentity::load(dir.path()).unwrap_err();
            assert!(
                matches!(&err, IdentityError::Malformed { path, .. } if *path == identity),
                "{err}"
            );
            assert!(err.to_string().contains(expected), "{err} / {expected}");
        }
    }

    #[test]
    fn debug_never_shows_the_private_key() {
        let node = fixed();
        let shown = format!("{node:?}");
        let seed = STANDARD.encode(node.signing_key.to_bytes());
        assert!(!shown.contains(&seed));
        assert!(shown.contains(&node.public_key().to_string()));
    }

    #[test]
    fn public_key_text_round_trips() {
        let key = fixed().public_key();
        let text = key.to_string();
        assert!(text.starts_with("ed25519:"));
        assert_eq!(text.len(), "ed25519:".len() + 44);
        assert_eq!(PublicKey::parse(&text), Ok(key));
        assert_eq!(text.parse::<PublicKey>(), Ok(key));
    }

    #[test]
    fn public_key_errors_say_what_is_wrong() {
        let good = STANDARD.encode(fixed().public_key().verifying_key().as_bytes());
        assert_eq!(
            PublicKey::parse(&format!("rsa:{good}")),
            Err(PublicKeyError::Prefix(
                format!("rsa:{good}").chars().take(16).collect()
            ))
        );
        assert_eq!(
            PublicKey::parse(&good),
            Err(PublicKeyError::Prefix(good[..16].to_owned()))
        );
        assert_eq!(
            PublicKey::parse("ed25519:@@@@"),
            Err(PublicKeyError::Base64)
        );
        // URL-safe alphabet or missing padding is not the standard form.
        let unpadded = good.trim_end_matches('=');
        assert_eq!(
            PublicKey::parse(&format!("ed25519:{unpadded}")),
            Err(PublicKeyError::Base64)
        );
        assert_eq!(
            PublicKey::parse(&format!("ed25519:{}", STANDARD.encode([9u8; 31]))),
            Err(PublicKeyError::Length(31))
        );
        // The identity point (a small-order point) is refused.
        let mut identity_point = [0u8; 32];
        identity_point[0] = 1;
        assert!(matches!(
            PublicKey::parse(&format!("ed25519:{}", STANDARD.encode(identity_point))),
            Err(PublicKeyError::Point(_))
        ));
        let message = PublicKey::parse("rsa:AAAA").unwrap_err().to_string();
        assert!(
            message.contains("must start with \"ed25519:\""),
            "{message}"
        );
    }
}
