//! Object signatures: an Ed25519 signature carried in a STIX property
//! extension, defined by the extension-definition every node publishes.
//!
//! In a signed object:
//!
//! ```json
//! "extensions": {"extension-definition--9cc6bb48-…": {"extension_type": "property-extension",
//!     "signer": "identity--…", "algorithm": "ed25519", "signature": "<base64>"}}
//! ```
//!
//! The signed message is the RFC 8785 canonical JSON ([`stix::canonical`]) of
//! the object without that extension entry (and without `extensions` when it
//! is then empty), so property order and whitespace do not matter, and every
//! other extension is covered.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use std::sync::OnceLock;

use curve25519_dalek::constants::EIGHT_TORSION;
use ed25519_dalek::{Signature, Signer as _, VerifyingKey};
use stix::canonical::{CanonicalError, to_canonical_vec};
use stix::json::{self, Map, Value};
use stix::markings::TLP_CLEAR;

use crate::identity::{NodeIdentity, PublicKey};
use crate::origin::SignatureCheck;

/// The id of the extension-definition of Passerelle signatures.
pub const SIGNATURE_EXTENSION_ID: &str =
    "extension-definition--9cc6bb48-5200-4bec-9a92-d28f7db4a557";

/// The Passerelle project's identity, creator of its extension-definitions.
pub const PROJECT_IDENTITY_ID: &str = "identity--b118d360-f8ba-4cf4-8066-899354de7c24";

/// The version of the signature extension.
pub const SIGNATURE_EXTENSION_VERSION: &str = "1.0";

/// The only signature algorithm.
pub const ALGORITHM: &str = "ed25519";

/// The extension-definition's `schema`: STIX allows the normative definition
/// as plain text, and this one is short enough to be self-contained.
pub const SIGNATURE_SCHEMA: &str = "Passerelle object signature 1.0. A property-extension with three properties: \
signer (string, required): the id of the STIX identity that signed; \
algorithm (string, required): \"ed25519\"; \
signature (string, required): the standard base64 (RFC 4648 section 4, padded) of the 64-byte Ed25519 signature (RFC 8032) \
over the RFC 8785 canonical JSON of the object without this extension's entry in extensions, \
and without extensions at all if no other entry remains.";

const CREATED: &str = "2026-11-29T00:00:00.000Z";

/// The Passerelle project's STIX identity object (TLP:CLEAR).
pub fn project_identity() -> Value<'static> {
    let mut obj = Map::with_capacity(10);
    obj.insert("type", Value::from("identity"));
    obj.insert("spec_version", Value::from("2.1"));
    obj.insert("id", Value::from(PROJECT_IDENTITY_ID));
    obj.insert("created", Value::from(CREATED));
    obj.insert("modified", Value::from(CREATED));
    obj.insert("name", Value::from("Passerelle"));
    obj.insert(
        "description",
        Value::from(
            "The Passerelle project, which defines the STIX extensions Passerelle nodes use.",
        ),
    );
    obj.insert("identity_class", Value::from("organization"));
    obj.insert(
        "object_marking_refs",
        Value::Array(vec![Value::from(TLP_CLEAR.id)]),
    );
    Value::Object(obj)
}

/// The extension-definition of Passerelle signatures (TLP:CLEAR), created by
/// [`project_identity`].
pub fn signature_extension_definition() -> Value<'static> {
    let mut obj = Map::with_capacity(13);
    obj.insert("type", Value::from("extension-definition"));
    obj.insert("spec_version", Value::from("2.1"));
    obj.insert("id", Value::from(SIGNATURE_EXTENSION_ID));
    obj.insert("created_by_ref", Value::from(PROJECT_IDENTITY_ID));
    obj.insert("created", Value::from(CREATED));
    obj.insert("modified", Value::from(CREATED));
    obj.insert("name", Value::from("Passerelle object signature"));
    obj.insert(
        "description",
        Value::from("An Ed25519 signature of the object by the organisation that originated it, over its RFC 8785 canonical JSON."),
    );
    obj.insert("schema", Value::from(SIGNATURE_SCHEMA));
    obj.insert("version", Value::from(SIGNATURE_EXTENSION_VERSION));
    obj.insert(
        "extension_types",
        Value::Array(vec![Value::from("property-extension")]),
    );
    obj.insert(
        "object_marking_refs",
        Value::Array(vec![Value::from(TLP_CLEAR.id)]),
    );
    Value::Object(obj)
}

/// Why an object cannot be signed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignError {
    /// The bytes are not JSON.
    #[error("the object is not valid JSON: {0}")]
    Json(String),
    /// The JSON is not an object.
    #[error("a STIX object must be a JSON object")]
    NotAnObject,
    /// `extensions` is there but not a JSON object.
    #[error("the object's extensions property is not a JSON object")]
    Extensions,
    /// The object has no canonical form.
    #[error("the object has no canonical JSON: {0}")]
    Canonical(#[from] CanonicalError),
}

/// Returns the object's compact JSON with our signature extension added
/// (replacing any signature it had). Property order is kept; `extensions` is
/// added at the end when absent.
pub fn sign(bytes: &[u8], identity: &NodeIdentity) -> Result<Vec<u8>, SignError> {
    let mut value = json::parse(bytes).map_err(|e| SignError::Json(e.to_string()))?;
    let obj = value.as_object_mut().ok_or(SignError::NotAnObject)?;
    sign_map(obj, identity)?;
    let mut out = Vec::with_capacity(bytes.len() + 256);
    json::write_compact(&value, &mut out);
    Ok(out)
}

/// Signs a parsed object in place, as [`sign`] does.
pub fn sign_map(obj: &mut Map<'_>, identity: &NodeIdentity) -> Result<(), SignError> {
    let message = signed_message(obj)?;
    let signature = identity.signing_key.sign(&message);
    let mut entry = Map::with_capacity(4);
    entry.insert("extension_type", Value::from("property-extension"));
    entry.insert("signer", Value::from(identity.identity.clone()));
    entry.insert("algorithm", Value::from(ALGORITHM));
    entry.insert(
        "signature",
        Value::from(STANDARD.encode(signature.to_bytes())),
    );
    match obj.get_mut("extensions") {
        Some(Value::Object(extensions)) => {
            extensions.insert(SIGNATURE_EXTENSION_ID, Value::Object(entry));
        }
        Some(_) => return Err(SignError::Extensions),
        None => {
            let mut extensions = Map::with_capacity(1);
            extensions.insert(SIGNATURE_EXTENSION_ID, Value::Object(entry));
            obj.insert("extensions", Value::Object(extensions));
        }
    }
    Ok(())
}

/// The message a signature covers: the canonical JSON of `obj` without our
/// extension entry, and without `extensions` if that leaves it empty.
/// `obj` itself loses that entry (signing replaces it, verifying has read it).
fn signed_message(obj: &mut Map<'_>) -> Result<Vec<u8>, SignError> {
    match obj.get_mut("extensions") {
        Some(Value::Object(extensions)) => {
            extensions.remove(SIGNATURE_EXTENSION_ID);
            if extensions.is_empty() {
                obj.remove("extensions");
            }
        }
        Some(_) => return Err(SignError::Extensions),
        None => {}
    }
    // `to_canonical_vec` takes a `Value`: lend it the map without copying it.
    let value = Value::Object(std::mem::take(obj));
    let message = to_canonical_vec(&value);
    if let Value::Object(map) = value {
        *obj = map;
    }
    Ok(message?)
}

/// Checks the object's signature against the keys we hold (`keys` maps a
/// signer identity id to its key).
///
/// Bytes that are not a JSON object carry no readable signature: `Unsigned`.
/// A signature entry that is malformed (no signer, another algorithm, a value
/// that is not base64 of 64 bytes) or that does not verify is `Invalid`.
pub fn verify(bytes: &[u8], keys: &dyn Fn(&str) -> Option<PublicKey>) -> SignatureCheck {
    match json::parse(bytes) {
        Ok(Value::Object(obj)) => verify_owned(obj, keys),
        _ => SignatureCheck::Unsigned,
    }
}

/// Checks the signature of a parsed object, as [`verify`] does.
pub fn verify_value(value: &Value<'_>, keys: &dyn Fn(&str) -> Option<PublicKey>) -> SignatureCheck {
    match value {
        Value::Object(obj) => verify_owned(obj.clone(), keys),
        _ => SignatureCheck::Unsigned,
    }
}

fn verify_owned(obj: Map<'_>, keys: &dyn Fn(&str) -> Option<PublicKey>) -> SignatureCheck {
    match read(obj, keys) {
        Read::Done(check) => check,
        Read::Ready(ready) => ready.verify_strict(),
    }
}

/// What reading an object's signature gives before any curve arithmetic.
enum Read {
    /// The check is already decided (unsigned, malformed, unknown signer).
    Done(SignatureCheck),
    /// A signature to check against a key we hold.
    Ready(Box<Ready>),
}

/// A signature read from an object, with the key and the message it must verify.
struct Ready {
    signer: String,
    key: VerifyingKey,
    signature: Signature,
    message: Vec<u8>,
}

impl Ready {
    /// The one-signature check: RFC 8032 without the cofactor, plus dalek's strict
    /// rules (canonical `s`, `R` that decodes and is not of small order, key not of
    /// small order, `R` equal byte for byte to the one recomputed).
    fn verify_strict(self) -> SignatureCheck {
        match self.key.verify_strict(&self.message, &self.signature) {
            Ok(()) => SignatureCheck::Verified {
                signer: self.signer,
            },
            Err(_) => SignatureCheck::Invalid {
                signer: self.signer,
            },
        }
    }
}

fn read(mut obj: Map<'_>, keys: &dyn Fn(&str) -> Option<PublicKey>) -> Read {
    let Some(entry) = obj
        .get("extensions")
        .and_then(Value::as_object)
        .and_then(|e| e.get(SIGNATURE_EXTENSION_ID))
    else {
        return Read::Done(SignatureCheck::Unsigned);
    };
    let field = |name: &str| entry.get(name).and_then(Value::as_str);
    let Some(signer) = field("signer").filter(|s| !s.is_empty()) else {
        return Read::Done(SignatureCheck::Invalid {
            signer: String::new(),
        });
    };
    let signer = signer.to_owned();
    let signature = match (field("algorithm"), field("signature")) {
        (Some(ALGORITHM), Some(text)) => STANDARD
            .decode(text)
            .ok()
            .and_then(|bytes| <[u8; 64]>::try_from(bytes.as_slice()).ok())
            .map(|bytes| Signature::from_bytes(&bytes)),
        _ => None,
    };
    let Some(signature) = signature else {
        return Read::Done(SignatureCheck::Invalid { signer });
    };
    let Some(key) = keys(&signer) else {
        return Read::Done(SignatureCheck::UnknownSigner { signer });
    };
    let Ok(message) = signed_message(&mut obj) else {
        return Read::Done(SignatureCheck::Invalid { signer });
    };
    Read::Ready(Box::new(Ready {
        signer,
        key: *key.verifying_key(),
        signature,
        message,
    }))
}

/// Checks the signatures of many objects at once: the same answer as [`verify`]
/// on each, in order, for less CPU when most signatures are good.
///
/// The signatures that can be judged exactly by a batch are checked together with
/// `ed25519_dalek::verify_batch` (one multi-scalar multiplication for all of them,
/// about half the cost of checking each); if the batch fails, each is checked again
/// alone with `verify_strict`, so a bad signature is named and the good ones still
/// pass. The rest go one by one with `verify_strict` straight away.
///
/// # Why this accepts what `verify_strict` accepts, and nothing more
///
/// A batch checks `Σ zᵢ·([sᵢ]B − [kᵢ]Aᵢ − Rᵢ) = 0`, without the cofactor, for
/// 128-bit `zᵢ` drawn from a transcript of every input (so no one can choose them
/// without changing the inputs). `verify_strict` checks each `Rᵢ = [sᵢ]B − [kᵢ]Aᵢ`
/// byte for byte, after refusing a non-canonical `s`, an `R` that does not decode,
/// and an `R` or key of small order. The batch refuses a non-canonical `s` itself;
/// before a signature joins a batch we also refuse, or leave to `verify_strict`:
///
/// - an `R` whose encoding is not canonical (`y ≥ p`; `verify_strict` refuses it
///   because the recomputed `R` is canonical and differs) or of small order (an `R`
///   that does not decode makes the batch fail, and `verify_strict` names it);
/// - a key of small order ([`PublicKey::parse`] already refuses those) or with a
///   small-order component at all (not torsion-free): checked once per key per batch.
///
/// With the key torsion-free, the batch equation holding means each signature's
/// prime-order part is right, except with probability about 2⁻¹²⁸: no one without the
/// private key gets a signature through the batch that `verify_strict` refuses, so
/// this is no weaker against forgery. The one difference left: an `R` that is a
/// valid point of large order plus a small-order component (`R + T`, `T` of order 2,
/// 4 or 8) is refused by `verify_strict` but passes the batch when every `zᵢ` of
/// the batch is a multiple of the order of `T` (one chance in 2 to 8, and the
/// signer can try again). Only the holder of the private key can make such a
/// signature (its `s` must be `r + k·a` for `k` computed over `R + T`), and the
/// message is exactly the one that key signed: a malleable encoding of a genuine
/// signature, not a forgery. Telling it apart needs a multiplication by the group
/// order per signature, which costs more than the batch saves; we accept that
/// difference and note it in ARCHITECTURE.md ("Signatures").
pub fn verify_many(
    objects: &[&[u8]],
    keys: &dyn Fn(&str) -> Option<PublicKey>,
) -> Vec<SignatureCheck> {
    let mut checks: Vec<Option<SignatureCheck>> = Vec::with_capacity(objects.len());
    let mut batch: Vec<(usize, Box<Ready>)> = Vec::new();
    // Keys already looked at in this batch, and whether they are torsion-free.
    let mut torsion_free: Vec<([u8; 32], bool)> = Vec::new();
    for (index, bytes) in objects.iter().enumerate() {
        let read = match json::parse(bytes) {
            Ok(Value::Object(obj)) => read(obj, keys),
            _ => Read::Done(SignatureCheck::Unsigned),
        };
        match read {
            Read::Done(check) => checks.push(Some(check)),
            Read::Ready(ready) => {
                let key = ready.key.to_bytes();
                let free = match torsion_free.iter().find(|(k, _)| *k == key) {
                    Some((_, free)) => *free,
                    None => {
                        let free = ready.key.to_edwards().is_torsion_free();
                        torsion_free.push((key, free));
                        free
                    }
                };
                if free && batchable_r(&ready.signature) {
                    checks.push(None);
                    batch.push((index, ready));
                } else {
                    checks.push(Some(ready.verify_strict()));
                }
            }
        }
    }
    if batch.len() == 1 {
        for (index, ready) in batch.drain(..) {
            checks[index] = Some(ready.verify_strict());
        }
    }
    if !batch.is_empty() {
        let messages: Vec<&[u8]> = batch.iter().map(|(_, r)| r.message.as_slice()).collect();
        let signatures: Vec<Signature> = batch.iter().map(|(_, r)| r.signature).collect();
        let keys: Vec<VerifyingKey> = batch.iter().map(|(_, r)| r.key).collect();
        let all_good = ed25519_dalek::verify_batch(&messages, &signatures, &keys).is_ok();
        for (index, ready) in batch {
            checks[index] = Some(if all_good {
                SignatureCheck::Verified {
                    signer: ready.signer,
                }
            } else {
                ready.verify_strict()
            });
        }
    }
    checks
        .into_iter()
        .map(|check| {
            check.unwrap_or(SignatureCheck::Invalid {
                signer: String::new(),
            })
        })
        .collect()
}

/// Whether the signature's `R` may join a batch: canonically encoded and not of
/// small order (see [`verify_many`]). An `R` that does not decode fails the batch,
/// and `verify_strict` then refuses it by name.
fn batchable_r(signature: &Signature) -> bool {
    let r = signature.r_bytes();
    // y is the low 255 bits; p = 2^255 - 19, so y >= p only when bits 8..255 are all
    // ones and the low byte is at least 0xed.
    let y_not_canonical =
        r[31] & 0x7f == 0x7f && r[1..31].iter().all(|&b| b == 0xff) && r[0] >= 0xed;
    if y_not_canonical {
        return false;
    }
    // A point and its negation share y, and the small-order points are closed under
    // negation: with y canonical, R is of small order exactly when its y is one of
    // theirs. Comparing y saves decoding R (a square root), which the batch does again.
    let mut y = *r;
    y[31] &= 0x7f;
    !small_order_ys().contains(&y)
}

/// The y coordinates (canonical, sign bit clear) of the eight points of small order.
fn small_order_ys() -> &'static [[u8; 32]] {
    static YS: OnceLock<Vec<[u8; 32]>> = OnceLock::new();
    YS.get_or_init(|| {
        let mut ys: Vec<[u8; 32]> = EIGHT_TORSION
            .iter()
            .map(|point| {
                let mut y = point.compress().to_bytes();
                y[31] &= 0x7f;
                y
            })
            .collect();
        ys.sort_unstable();
        ys.dedup();
        ys
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use stix::{Severity, Timestamp};

    fn node(seed: u8, uuid: &str) -> NodeIdentity {
        NodeIdentity::from_seed(
            &format!("identity--{uuid}"),
            "node",
            Timestamp::parse("2026-11-02T09:00:00.000Z").unwrap(),
            &[seed; 32],
        )
    }

    fn rabat() -> NodeIdentity {
        node(1, "7f4c4a4e-9a4b-4a4f-8d1e-2b4b8f0e6c11")
    }

    fn paris() -> NodeIdentity {
        node(2, "0b7e1d3c-5f7a-4c2e-9d1b-6a8f0c4e2b13")
    }

    fn keys_of(known: &[&NodeIdentity]) -> impl Fn(&str) -> Option<PublicKey> + use<> {
        let known: Vec<(String, PublicKey)> = known
            .iter()
            .map(|n| (n.identity.clone(), n.public_key()))
            .collect();
        move |id: &str| known.iter().find(|(i, _)| i == id).map(|(_, k)| *k)
    }

    const INDICATOR: &str = r#"{"type": "indicator", "spec_version": "2.1",
        "id": "indicator--1ed8caa7-a708-4706-b651-f1186ede6ca1",
        "created": "2026-11-02T10:00:00.000Z", "modified": "2026-11-02T10:00:00.000Z",
        "name": "Serveur de commande", "description": "مؤشر",
        "pattern": "[ipv4-addr:value = '198.51.100.7']", "pattern_type": "stix",
        "valid_from": "2026-11-02T10:00:00Z", "confidence": 85,
        "x_score": 1.50,
        "object_marking_refs": ["marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421"]}"#;

    fn errors(value: &Value<'_>) -> Vec<stix::Diagnostic> {
        stix::validate_object(value)
            .into_iter()
            .filter(|d| d.severity == Severity::Error)
            .collect()
    }

    #[test]
    fn extension_definition_and_project_identity_are_valid_stix() {
        for value in [signature_extension_definition(), project_identity()] {
            let diagnostics = stix::validate_object(&value);
            assert!(diagnostics.is_empty(), "{diagnostics:?}");
        }
        let def = signature_extension_definition();
        assert_eq!(
            def.get("id").unwrap().as_str(),
            Some(SIGNATURE_EXTENSION_ID)
        );
        assert_eq!(
            def.get("created_by_ref").unwrap().as_str(),
            project_identity().get("id").unwrap().as_str()
        );
        assert_eq!(def.get("version").unwrap().as_str(), Some("1.0"));
    }

    #[test]
    fn signed_object_verifies_and_is_still_valid_stix() {
        let me = rabat();
        let signed = sign(INDICATOR.as_bytes(), &me).unwrap();
        assert_eq!(
            verify(&signed, &keys_of(&[&me])),
            SignatureCheck::Verified {
                signer: me.identity.clone()
            }
        );
        let value = json::parse(&signed).unwrap();
        // No error, and the signature adds no diagnostic at all (the input's
        // own warning about x_score stays).
        let diagnostics = stix::validate_object(&value);
        assert!(errors(&value).is_empty(), "{diagnostics:?}");
        assert_eq!(
            diagnostics,
            stix::validate_object(&json::parse(INDICATOR.as_bytes()).unwrap())
        );
        assert!(
            diagnostics
                .iter()
                .all(|d| !d.property.starts_with("extensions"))
        );
        // Compact, properties in their order, extensions last.
        let keys: Vec<&str> = value.as_object().unwrap().keys().collect();
        assert_eq!(keys.first(), Some(&"type"));
        assert_eq!(keys.last(), Some(&"extensions"));
        assert!(!signed.contains(&b'\n'));
        let text = std::str::from_utf8(&signed).unwrap();
        assert!(
            text.contains(r#""x_score":1.50"#),
            "numbers keep their text: {text}"
        );
        let entry = value
            .get("extensions")
            .unwrap()
            .get(SIGNATURE_EXTENSION_ID)
            .unwrap();
        assert_eq!(entry.get("algorithm").unwrap().as_str(), Some("ed25519"));
        assert_eq!(
            entry.get("signer").unwrap().as_str(),
            Some(me.identity.as_str())
        );
        assert_eq!(
            STANDARD
                .decode(entry.get("signature").unwrap().as_str().unwrap())
                .unwrap()
                .len(),
            64
        );
    }

    #[test]
    fn the_message_is_the_canonical_json_without_the_signature() {
        let me = rabat();
        let signed = sign(INDICATOR.as_bytes(), &me).unwrap();
        let expected = to_canonical_vec(&json::parse(INDICATOR.as_bytes()).unwrap()).unwrap();
        let mut obj = json::parse(&signed).unwrap().as_object().unwrap().clone();
        assert_eq!(signed_message(&mut obj).unwrap(), expected);
        let signature = json::parse(&signed).unwrap();
        let text = signature
            .get("extensions")
            .unwrap()
            .get(SIGNATURE_EXTENSION_ID)
            .unwrap()
            .get("signature")
            .unwrap()
            .as_str()
            .unwrap()
            .to_owned();
        let bytes: [u8; 64] = STANDARD.decode(text).unwrap().try_into().unwrap();
        me.public_key()
            .verifying_key()
            .verify_strict(&expected, &Signature::from_bytes(&bytes))
            .unwrap();
    }

    #[test]
    fn other_extensions_are_kept_and_covered() {
        let with_ext = r#"{"type": "indicator", "spec_version": "2.1",
            "id": "indicator--1ed8caa7-a708-4706-b651-f1186ede6ca1",
            "created": "2026-11-02T10:00:00.000Z", "modified": "2026-11-02T10:00:00.000Z",
            "pattern": "[ipv4-addr:value = '198.51.100.7']", "pattern_type": "stix",
            "valid_from": "2026-11-02T10:00:00Z",
            "extensions": {"extension-definition--d83fce45-ef58-4c6c-a3f4-1fbc32e98c6e":
                {"extension_type": "property-extension", "rank": 5}}}"#;
        let me = rabat();
        let signed = sign(with_ext.as_bytes(), &me).unwrap();
        let value = json::parse(&signed).unwrap();
        let extensions = value.get("extensions").unwrap().as_object().unwrap();
        assert_eq!(extensions.len(), 2);
        assert!(errors(&value).is_empty(), "{:?}", errors(&value));
        let keys = keys_of(&[&me]);
        assert!(matches!(
            verify(&signed, &keys),
            SignatureCheck::Verified { .. }
        ));
        let tampered = std::str::from_utf8(&signed)
            .unwrap()
            .replace(r#""rank":5"#, r#""rank":6"#);
        assert!(matches!(
            verify(tampered.as_bytes(), &keys),
            SignatureCheck::Invalid { .. }
        ));
    }

    #[test]
    fn signing_again_replaces_the_signature() {
        let (me, them) = (rabat(), paris());
        let once = sign(INDICATOR.as_bytes(), &them).unwrap();
        let twice = sign(&once, &me).unwrap();
        let value = json::parse(&twice).unwrap();
        let extensions = value.get("extensions").unwrap().as_object().unwrap();
        assert_eq!(extensions.len(), 1);
        assert_eq!(
            verify(&twice, &keys_of(&[&me, &them])),
            SignatureCheck::Verified {
                signer: me.identity.clone()
            }
        );
        // Signing is deterministic (Ed25519), so re-signing by the same key changes nothing.
        assert_eq!(sign(&twice, &me).unwrap(), twice);
    }

    #[test]
    fn order_and_whitespace_do_not_matter() {
        let me = rabat();
        let signed = sign(INDICATOR.as_bytes(), &me).unwrap();
        let value = json::parse(&signed).unwrap();
        // Reverse the properties and write them with other spacing and escapes.
        let obj = value.as_object().unwrap();
        let mut parts: Vec<String> = obj
            .iter()
            .map(|(k, v)| format!("\n  \"{k}\" :  {}", json::to_string(v)))
            .collect();
        parts.reverse();
        let rewritten = format!("{{{}\n}}", parts.join(" ,"))
            .replace("Serveur", "\\u0053erveur")
            .replace(r#""confidence" :  85"#, r#""confidence" :  8.5e1"#);
        assert!(rewritten.contains("8.5e1"));
        assert_ne!(rewritten.as_bytes(), signed.as_slice());
        assert_eq!(
            verify(rewritten.as_bytes(), &keys_of(&[&me])),
            SignatureCheck::Verified {
                signer: me.identity.clone()
            }
        );
    }

    #[test]
    fn tampering_wrong_keys_and_malformed_signatures() {
        let (me, them) = (rabat(), paris());
        let signed = String::from_utf8(sign(INDICATOR.as_bytes(), &me).unwrap()).unwrap();
        let keys = keys_of(&[&me, &them]);
        let invalid = SignatureCheck::Invalid {
            signer: me.identity.clone(),
        };

        // A property changed, added or removed.
        for tampered in [
            signed.replace("198.51.100.7", "198.51.100.8"),
            signed.replace(r#""confidence":85"#, r#""confidence":86"#),
            signed.replace(r#""confidence":85,"#, ""),
            signed.replace(r#""name":"#, r#""labels":["x"],"name":"#),
        ] {
            assert_ne!(tampered, signed);
            assert_eq!(verify(tampered.as_bytes(), &keys), invalid, "{tampered}");
        }

        // The key we hold for the signer is not the one that signed.
        let wrong = |id: &str| (id == me.identity).then(|| them.public_key());
        assert_eq!(verify(signed.as_bytes(), &wrong), invalid);

        // The signer claims to be someone else.
        let claimed = signed.replace(&me.identity, &them.identity);
        assert_eq!(
            verify(claimed.as_bytes(), &keys),
            SignatureCheck::Invalid {
                signer: them.identity.clone()
            }
        );

        // A key we do not hold.
        assert_eq!(
            verify(signed.as_bytes(), &keys_of(&[&them])),
            SignatureCheck::UnknownSigner {
                signer: me.identity.clone()
            }
        );

        // Malformed signature values and entries.
        let value = json::parse(signed.as_bytes()).unwrap();
        let good = value
            .get("extensions")
            .unwrap()
            .get(SIGNATURE_EXTENSION_ID)
            .unwrap()
            .get("signature")
            .unwrap()
            .as_str()
            .unwrap()
            .to_owned();
        let short = STANDARD.encode([0u8; 63]);
        let zero = STANDARD.encode([0u8; 64]);
        for bad in ["not base64!", &good[..good.len() - 4], &short, &zero, ""] {
            let malformed = signed.replace(&good, bad);
            assert_eq!(verify(malformed.as_bytes(), &keys), invalid, "{bad}");
        }
        let other_algorithm = signed.replace(r#""algorithm":"ed25519""#, r#""algorithm":"rsa""#);
        assert_eq!(verify(other_algorithm.as_bytes(), &keys), invalid);
        let no_signer = signed.replace(&format!(r#""signer":"{}","#, me.identity), "");
        assert_eq!(
            verify(no_signer.as_bytes(), &keys),
            SignatureCheck::Invalid {
                signer: String::new()
            }
        );
    }

    #[test]
    fn missing_extension_or_unreadable_bytes_are_unsigned() {
        let keys = keys_of(&[]);
        assert_eq!(
            verify(INDICATOR.as_bytes(), &keys),
            SignatureCheck::Unsigned
        );
        assert_eq!(verify(b"{not json", &keys), SignatureCheck::Unsigned);
        assert_eq!(verify(b"[1, 2]", &keys), SignatureCheck::Unsigned);
        let other_ext = r#"{"type": "x-thing", "extensions": {"extension-definition--d83fce45-ef58-4c6c-a3f4-1fbc32e98c6e": {"extension_type": "new-sdo"}}}"#;
        assert_eq!(
            verify(other_ext.as_bytes(), &keys),
            SignatureCheck::Unsigned
        );
        let value = json::parse(INDICATOR.as_bytes()).unwrap();
        assert_eq!(verify_value(&value, &keys), SignatureCheck::Unsigned);
    }

    #[test]
    fn verify_value_agrees_with_verify() {
        let me = rabat();
        let signed = sign(INDICATOR.as_bytes(), &me).unwrap();
        let value = json::parse(&signed).unwrap();
        let keys = keys_of(&[&me]);
        assert_eq!(verify_value(&value, &keys), verify(&signed, &keys));
        // The value is untouched.
        assert_eq!(json::to_string(&value).as_bytes(), signed.as_slice());
    }

    #[test]
    fn what_cannot_be_signed_is_an_error() {
        let me = rabat();
        assert!(matches!(sign(b"{", &me), Err(SignError::Json(_))));
        assert_eq!(sign(b"[]", &me), Err(SignError::NotAnObject));
        assert_eq!(
            sign(br#"{"type": "x", "extensions": [1]}"#, &me),
            Err(SignError::Extensions)
        );
        assert!(matches!(
            sign(br#"{"type": "x", "x_big": 1e400}"#, &me),
            Err(SignError::Canonical(_))
        ));
    }

    /// `n` distinct indicators signed by `me`.
    fn signed_page(me: &NodeIdentity, n: usize) -> Vec<Vec<u8>> {
        (0..n)
            .map(|i| {
                let text =
                    INDICATOR.replace("198.51.100.7", &format!("198.51.{}.{}", i / 250, i % 250));
                sign(text.as_bytes(), me).unwrap()
            })
            .collect()
    }

    fn one_by_one(
        objects: &[&[u8]],
        keys: &dyn Fn(&str) -> Option<PublicKey>,
    ) -> Vec<SignatureCheck> {
        objects.iter().map(|o| verify(o, keys)).collect()
    }

    /// The signature value of a signed object, as bytes.
    fn signature_of(signed: &[u8]) -> [u8; 64] {
        let value = json::parse(signed).unwrap();
        let text = value
            .get("extensions")
            .unwrap()
            .get(SIGNATURE_EXTENSION_ID)
            .unwrap()
            .get("signature")
            .unwrap()
            .as_str()
            .unwrap();
        STANDARD.decode(text).unwrap().try_into().unwrap()
    }

    /// `signed` with its signature value replaced by `signature`.
    fn with_signature(signed: &[u8], signature: &[u8; 64]) -> Vec<u8> {
        let old = STANDARD.encode(signature_of(signed));
        String::from_utf8(signed.to_vec())
            .unwrap()
            .replace(&old, &STANDARD.encode(signature))
            .into_bytes()
    }

    /// k = SHA-512(R || A || M) mod l, as RFC 8032 computes it.
    fn challenge(r: &[u8; 32], key: &[u8; 32], message: &[u8]) -> curve25519_dalek::Scalar {
        use ed25519_dalek::{Digest as _, Sha512};
        let mut h = Sha512::new();
        h.update(r);
        h.update(key);
        h.update(message);
        curve25519_dalek::Scalar::from_bytes_mod_order_wide(&h.finalize().into())
    }

    #[test]
    fn a_page_of_good_signatures_verifies_together() {
        let (me, them) = (rabat(), paris());
        let mut page = signed_page(&me, 40);
        page.extend(signed_page(&them, 40));
        let refs: Vec<&[u8]> = page.iter().map(Vec::as_slice).collect();
        let keys = keys_of(&[&me, &them]);
        let checks = verify_many(&refs, &keys);
        assert_eq!(checks, one_by_one(&refs, &keys));
        assert!(
            checks
                .iter()
                .all(|c| matches!(c, SignatureCheck::Verified { .. }))
        );
        assert!(verify_many(&[], &keys).is_empty());
    }

    #[test]
    fn one_tampered_object_among_many_is_the_only_one_refused() {
        let me = rabat();
        let mut page = signed_page(&me, 50);
        page[17] = String::from_utf8(page[17].clone())
            .unwrap()
            .replace(r#""confidence":85"#, r#""confidence":86"#)
            .into_bytes();
        let refs: Vec<&[u8]> = page.iter().map(Vec::as_slice).collect();
        let keys = keys_of(&[&me]);
        let checks = verify_many(&refs, &keys);
        for (i, check) in checks.iter().enumerate() {
            if i == 17 {
                assert_eq!(
                    check,
                    &SignatureCheck::Invalid {
                        signer: me.identity.clone()
                    }
                );
            } else {
                assert!(
                    matches!(check, SignatureCheck::Verified { .. }),
                    "{i}: {check:?}"
                );
            }
        }
    }

    #[test]
    fn every_kind_of_check_comes_out_as_alone() {
        let (me, them) = (rabat(), paris());
        let page = signed_page(&me, 6);
        let unknown = signed_page(&them, 1).remove(0);
        let bad_base64 = String::from_utf8(page[1].clone())
            .unwrap()
            .replace(&STANDARD.encode(signature_of(&page[1])), "not base64!")
            .into_bytes();
        let objects: Vec<&[u8]> = vec![
            &page[0],
            INDICATOR.as_bytes(),
            b"{not json",
            &unknown,
            &bad_base64,
            &page[2],
            b"[1]",
            &page[3],
        ];
        let keys = keys_of(&[&me]);
        assert_eq!(verify_many(&objects, &keys), one_by_one(&objects, &keys));
    }

    /// A signature `verify` accepts and `verify_strict` refuses: `R` the identity
    /// (small order) and `s = k·a`, which satisfies `[s]B = R + [k]A`. A plain
    /// `verify_batch` lets it through with good company; ours does not. (A key of
    /// small order cannot be held at all: `PublicKey::parse` refuses it.)
    #[test]
    fn a_small_order_r_is_refused_as_verify_strict_refuses_it() {
        use ed25519_dalek::Verifier as _;
        let me = rabat();
        let mut page = signed_page(&me, 8);
        let message = to_canonical_vec(&json::parse(INDICATOR.as_bytes()).unwrap()).unwrap();
        let indicator = sign(INDICATOR.as_bytes(), &me).unwrap();
        let identity_r: [u8; 32] = curve25519_dalek::EdwardsPoint::default()
            .compress()
            .to_bytes();
        let key = me.public_key().verifying_key().to_bytes();
        let s = challenge(&identity_r, &key, &message) * me.signing_key.to_scalar();
        let mut bytes = [0u8; 64];
        bytes[..32].copy_from_slice(&identity_r);
        bytes[32..].copy_from_slice(s.as_bytes());
        let weak = Signature::from_bytes(&bytes);
        let verifying = me.public_key().verifying_key().to_owned();
        assert!(
            verifying.verify(&message, &weak).is_ok(),
            "verify accepts it"
        );
        assert!(
            verifying.verify_strict(&message, &weak).is_err(),
            "verify_strict does not"
        );
        let good = Signature::from_bytes(&signature_of(&indicator));
        assert!(
            ed25519_dalek::verify_batch(
                &[&message, &message],
                &[good, weak],
                &[verifying, verifying]
            )
            .is_ok(),
            "a plain batch accepts it"
        );
        page.insert(3, with_signature(&indicator, &bytes));
        let refs: Vec<&[u8]> = page.iter().map(Vec::as_slice).collect();
        let keys = keys_of(&[&me]);
        let checks = verify_many(&refs, &keys);
        assert_eq!(
            checks[3],
            SignatureCheck::Invalid {
                signer: me.identity.clone()
            }
        );
        assert_eq!(checks, one_by_one(&refs, &keys));
    }

    /// A key with a small-order component (`A + T`, `T` of order 2) is not of small
    /// order, so it can be configured; whether `verify_strict` accepts a signature
    /// by it depends on `k`. Such keys never join a batch: the answer is
    /// `verify_strict`'s either way.
    #[test]
    fn a_key_with_torsion_gets_verify_strict_answers() {
        use curve25519_dalek::constants::{ED25519_BASEPOINT_POINT, EIGHT_TORSION};
        use curve25519_dalek::traits::IsIdentity as _;
        let me = rabat();
        let order_two = EIGHT_TORSION
            .iter()
            .find(|t| !t.is_identity() && (*t + *t).is_identity())
            .copied()
            .unwrap();
        let mixed = me.public_key().verifying_key().to_edwards() + order_two;
        let mixed_bytes = mixed.compress().to_bytes();
        let key = PublicKey::parse(&format!("ed25519:{}", STANDARD.encode(mixed_bytes))).unwrap();
        let verifying = *key.verifying_key();
        let message = to_canonical_vec(&json::parse(INDICATOR.as_bytes()).unwrap()).unwrap();
        let indicator = sign(INDICATOR.as_bytes(), &me).unwrap();
        // s = r + k·a with R = [r]B: [s]B − [k](A + T) = R − [k]T, so verify_strict
        // accepts exactly when k is even. Try nonces until both cases are found.
        let (mut accepted, mut refused) = (None, None);
        for n in 1u64..200 {
            let r = curve25519_dalek::Scalar::from(n * 7919);
            let big_r = (r * ED25519_BASEPOINT_POINT).compress().to_bytes();
            let s = r + challenge(&big_r, &mixed_bytes, &message) * me.signing_key.to_scalar();
            let mut bytes = [0u8; 64];
            bytes[..32].copy_from_slice(&big_r);
            bytes[32..].copy_from_slice(s.as_bytes());
            let ok = verifying
                .verify_strict(&message, &Signature::from_bytes(&bytes))
                .is_ok();
            let slot = if ok { &mut accepted } else { &mut refused };
            slot.get_or_insert(with_signature(&indicator, &bytes));
            if accepted.is_some() && refused.is_some() {
                break;
            }
        }
        let (accepted, refused) = (accepted.unwrap(), refused.unwrap());
        let them = paris();
        let mut page = signed_page(&them, 10);
        page.insert(2, accepted);
        page.insert(7, refused);
        let refs: Vec<&[u8]> = page.iter().map(Vec::as_slice).collect();
        let (me_id, them_id, them_key) = (
            me.identity.clone(),
            them.identity.clone(),
            them.public_key(),
        );
        let keys = move |id: &str| {
            if id == me_id {
                Some(key)
            } else {
                (id == them_id).then_some(them_key)
            }
        };
        let checks = verify_many(&refs, &keys);
        assert_eq!(checks, one_by_one(&refs, &keys));
        assert!(matches!(checks[2], SignatureCheck::Verified { .. }));
        assert!(matches!(checks[7], SignatureCheck::Invalid { .. }));
    }

    #[test]
    fn small_order_r_is_told_by_its_y_alone() {
        use curve25519_dalek::edwards::CompressedEdwardsY;
        // The identity (y = 1), the point of order 2 (y = -1), those of order 4 (y = 0)
        // and of order 8 (two values of y).
        assert_eq!(small_order_ys().len(), 5);
        let mut bytes = [0u8; 64];
        for point in EIGHT_TORSION {
            bytes[..32].copy_from_slice(&point.compress().to_bytes());
            assert!(!batchable_r(&Signature::from_bytes(&bytes)));
            // The same y with the other sign bit: the negation, or for x = 0 a
            // non-canonical encoding of the same point. Small order either way.
            bytes[31] ^= 0x80;
            assert!(!batchable_r(&Signature::from_bytes(&bytes)));
            let decoded = CompressedEdwardsY(bytes[..32].try_into().unwrap()).decompress();
            assert!(decoded.is_none_or(|p| p.is_small_order()));
        }
        // y = p (non-canonical 0) and y = 2^255 - 1.
        let mut p = [0xffu8; 32];
        p[0] = 0xed;
        p[31] = 0x7f;
        bytes[..32].copy_from_slice(&p);
        assert!(!batchable_r(&Signature::from_bytes(&bytes)));
        bytes[..32].copy_from_slice(&[0xff; 32]);
        assert!(!batchable_r(&Signature::from_bytes(&bytes)));
        // An honest R.
        let signed = sign(INDICATOR.as_bytes(), &rabat()).unwrap();
        assert!(batchable_r(&Signature::from_bytes(&signature_of(&signed))));
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(24))]
        /// Whatever objects of a page are tampered with, the batch says what each
        /// check alone says.
        #[test]
        fn verify_many_agrees_with_verify(
            tampered in proptest::collection::vec(proptest::prelude::any::<bool>(), 0..24)
        ) {
            let me = rabat();
            let page: Vec<Vec<u8>> = signed_page(&me, tampered.len())
                .into_iter()
                .zip(&tampered)
                .map(|(signed, &bad)| if bad {
                    String::from_utf8(signed).unwrap().replace("Serveur", "Servir").into_bytes()
                } else {
                    signed
                })
                .collect();
            let refs: Vec<&[u8]> = page.iter().map(Vec::as_slice).collect();
            let keys = keys_of(&[&me]);
            let checks = verify_many(&refs, &keys);
            proptest::prop_assert_eq!(&checks, &one_by_one(&refs, &keys));
            for (check, bad) in checks.iter().zip(&tampered) {
                proptest::prop_assert_eq!(matches!(check, SignatureCheck::Verified { .. }), !bad);
            }
        }
    }
}
