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
use ed25519_dalek::{Signature, Signer as _};
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

fn verify_owned(mut obj: Map<'_>, keys: &dyn Fn(&str) -> Option<PublicKey>) -> SignatureCheck {
    let Some(entry) = obj
        .get("extensions")
        .and_then(Value::as_object)
        .and_then(|e| e.get(SIGNATURE_EXTENSION_ID))
    else {
        return SignatureCheck::Unsigned;
    };
    let field = |name: &str| entry.get(name).and_then(Value::as_str);
    let Some(signer) = field("signer").filter(|s| !s.is_empty()) else {
        return SignatureCheck::Invalid {
            signer: String::new(),
        };
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
        return SignatureCheck::Invalid { signer };
    };
    let Some(key) = keys(&signer) else {
        return SignatureCheck::UnknownSigner { signer };
    };
    let Ok(message) = signed_message(&mut obj) else {
        return SignatureCheck::Invalid { signer };
    };
    match key.verifying_key().verify_strict(&message, &signature) {
        Ok(()) => SignatureCheck::Verified { signer },
        Err(_) => SignatureCheck::Invalid { signer },
    }
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
}
