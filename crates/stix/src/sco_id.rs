//! Deterministic SCO identifiers (STIX 2.1 §2.9): UUIDv5 in the STIX namespace
//! over the canonical JSON of each SCO type's id-contributing properties.
//!
//! The name hashed is the RFC 8785 form of an object holding the type's
//! id-contributing properties that are present, with their values as written
//! (a `_ref` property contributes the identifier it holds). Of a `hashes`
//! dictionary only one hash contributes: MD5, else SHA-1, else SHA-256, else
//! SHA-512, else the first one written, as the OASIS `stix2` library chooses.
//! When none of the properties is present there is no deterministic id: the
//! object must use a UUIDv4 instead.

use std::borrow::Cow;

use uuid::Uuid;

use crate::canonical::{CanonicalError, to_canonical_vec};
use crate::identifier::Identifier;
use crate::json::{Map, Value};
use crate::types::{self, Category};
use crate::validate::{Ctx, Path};

/// The UUIDv5 namespace of SCO identifiers (§2.9).
pub const SCO_NAMESPACE: Uuid = uuid::uuid!("00abedb4-aa42-466c-9c01-fed23315a9b7");

/// The order in which a hash is chosen from `hashes` to contribute to an id.
const HASH_PREFERENCE: [&str; 4] = ["MD5", "SHA-1", "SHA-256", "SHA-512"];

/// Why a deterministic id cannot be computed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScoIdError {
    /// A contributing value has no canonical JSON form.
    #[error(transparent)]
    Canonical(#[from] CanonicalError),
    /// `hashes` is not a dictionary with at least one hash.
    #[error("hashes must be a dictionary with at least one hash to contribute to the id")]
    NoHash,
}

/// The deterministic id of an SCO of a type STIX defines, or `None` when
/// there is none to compute: not a known SCO type, a type without
/// id-contributing properties (`process`), or none of them present.
pub fn deterministic_id(obj: &Map<'_>) -> Option<Result<String, ScoIdError>> {
    let object_type = obj.get("type")?.as_str()?;
    let spec = types::lookup(object_type)?;
    if spec.category != Category::Sco {
        return None;
    }
    deterministic_id_with(object_type, spec.id_contributing, obj)
}

/// The deterministic id of an object of `object_type` whose id-contributing
/// properties are `contributing` (custom SCOs name theirs in their extension-definition).
pub fn deterministic_id_with(
    object_type: &str,
    contributing: &[&str],
    obj: &Map<'_>,
) -> Option<Result<String, ScoIdError>> {
    let mut name = Map::with_capacity(contributing.len());
    for &prop in contributing {
        let Some(value) = obj.get(prop) else { continue };
        let value = if prop == "hashes" {
            match one_hash(value) {
                Some(v) => v,
                None => return Some(Err(ScoIdError::NoHash)),
            }
        } else {
            value.clone()
        };
        name.insert(Cow::Borrowed(prop), value);
    }
    if name.is_empty() {
        return None;
    }
    Some(
        to_canonical_vec(&Value::Object(name))
            .map(|bytes| format!("{object_type}--{}", Uuid::new_v5(&SCO_NAMESPACE, &bytes)))
            .map_err(ScoIdError::from),
    )
}

/// The single-entry `hashes` dictionary that contributes to the id.
fn one_hash<'a>(hashes: &Value<'a>) -> Option<Value<'a>> {
    let map = hashes.as_object()?;
    let (algorithm, hash) = HASH_PREFERENCE
        .iter()
        .find_map(|&a| map.get(a).map(|h| (a, h)))
        .or_else(|| map.iter().next())?;
    let mut one = Map::with_capacity(1);
    one.insert(algorithm.to_owned(), hash.clone());
    Some(Value::Object(one))
}

/// Checks an SCO's id against §2.9: `process` and SCOs without any
/// id-contributing property must use UUIDv4 (errors, as stix2-validator
/// reports them); others should use the deterministic UUIDv5 (a warning).
pub fn check(ctx: &mut Ctx<'_>, obj: &Map<'_>) {
    let Some(object_type) = obj.get("type").and_then(Value::as_str) else {
        return;
    };
    let Some(spec) = types::lookup(object_type) else {
        return;
    };
    let Some(id_text) = obj.get("id").and_then(Value::as_str) else {
        return;
    };
    // A malformed id is reported by the identity checks.
    let Ok(id) = Identifier::parse(id_text) else {
        return;
    };
    let version = id.uuid_version();
    let at = Path::Root.prop("id");
    if spec.id_contributing.is_empty() {
        if version != 4 {
            ctx.error(
                at,
                "sco-uuid-v4",
                format!(
                    "{object_type} ids must use UUIDv4 (it has no id-contributing properties), not v{version}"
                ),
            );
        }
        return;
    }
    match deterministic_id_with(object_type, spec.id_contributing, obj) {
        None if version != 4 => ctx.error(
            at,
            "sco-uuid-v4",
            format!(
                "none of the id-contributing properties ({}) is present, so the id must use UUIDv4, not v{version}",
                spec.id_contributing.join(", ")
            ),
        ),
        None => {}
        Some(Err(e)) => ctx.warning(
            at,
            "sco-id",
            format!("the deterministic id cannot be computed: {e}"),
        ),
        Some(Ok(expected)) if !expected.eq_ignore_ascii_case(id_text) => {
            let present: Vec<&str> = spec
                .id_contributing
                .iter()
                .copied()
                .filter(|p| obj.contains_key(p))
                .collect();
            ctx.warning(
                at,
                "sco-id",
                format!(
                    "should be {expected}, the deterministic id computed from {}",
                    present.join(", ")
                ),
            );
        }
        Some(Ok(_)) => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json::parse;

    fn id_of(src: &str) -> Option<Result<String, ScoIdError>> {
        let v = parse(src.as_bytes()).unwrap();
        deterministic_id(v.as_object().unwrap())
    }

    fn ok(src: &str) -> String {
        id_of(src).unwrap().unwrap()
    }

    #[test]
    fn oasis_example_file_prefers_md5() {
        // cti-documentation, sighting-of-observed-data.json
        assert_eq!(
            ok(
                r#"{"type": "file", "id": "file--364fe3e5-b1f4-5ba3-b951-ee5983b3538d", "spec_version": "2.1", "hashes": {"SHA-1": "c79a326f8411e9488bdc3779753e1e3489aaedea", "MD5": "1717b7fff97d37a1e1a0029d83492de1"}, "size": 83968, "name": "resume.pdf"}"#
            ),
            "file--364fe3e5-b1f4-5ba3-b951-ee5983b3538d"
        );
    }

    #[test]
    fn oasis_example_registry_key() {
        assert_eq!(
            ok(
                r#"{"type": "windows-registry-key", "id": "windows-registry-key--16b80d14-d574-5620-abad-10ff304b1c26", "spec_version": "2.1", "key": "HKEY_LOCAL_MACHINE\\SYSTEM\\ControlSet001\\Services\\WSALG2"}"#
            ),
            "windows-registry-key--16b80d14-d574-5620-abad-10ff304b1c26"
        );
    }

    #[test]
    fn single_value_scos() {
        // Cross-checked with Python's uuid.uuid5 over json.dumps(sort_keys=True, separators=(',', ':')).
        assert_eq!(
            ok(r#"{"type":"email-addr","value":"john@example.com"}"#),
            "email-addr--7165e2a9-671f-585d-b1e1-ca59c671d934"
        );
        assert_eq!(
            ok(r#"{"type":"ipv4-addr","value":"198.51.100.3"}"#),
            "ipv4-addr--28bb3599-77cd-5a82-a950-b5bc3caf07c4"
        );
        assert_eq!(
            ok(
                r#"{"type":"domain-name","value":"example.com","resolves_to_refs":["ipv4-addr--28bb3599-77cd-5a82-a950-b5bc3caf07c4"]}"#
            ),
            "domain-name--bedb4899-d24b-5401-bc86-8f6b4cc18ec7"
        );
    }

    #[test]
    fn hash_choice_falls_back_to_the_first_written() {
        let a = ok(r#"{"type":"file","hashes":{"SHA3-256":"aa","TLSH":"bb"}}"#);
        let b = ok(r#"{"type":"file","hashes":{"SHA3-256":"aa"}}"#);
        assert_eq!(a, b);
        let c = ok(r#"{"type":"file","hashes":{"SHA-512":"cc","SHA-256":"dd"}}"#);
        let d = ok(r#"{"type":"file","hashes":{"SHA-256":"dd"}}"#);
        assert_eq!(c, d);
        assert_eq!(
            id_of(r#"{"type":"file","hashes":{}}"#),
            Some(Err(ScoIdError::NoHash))
        );
    }

    #[test]
    fn no_contributing_property_means_no_deterministic_id() {
        assert_eq!(
            id_of(r#"{"type":"artifact","url":"https://example.com/a"}"#),
            None
        );
        assert_eq!(id_of(r#"{"type":"process","pid":4}"#), None);
        assert_eq!(id_of(r#"{"type":"x-custom","value":"a"}"#), None);
        assert_eq!(id_of(r#"{"type":"indicator","name":"a"}"#), None);
    }

    #[test]
    fn refs_and_nested_values_contribute_as_written() {
        let a = ok(
            r#"{"type":"network-traffic","src_ref":"ipv4-addr--28bb3599-77cd-5a82-a950-b5bc3caf07c4","protocols":["tcp"],"dst_port":443,"src_packets":10}"#,
        );
        let b = ok(
            r#"{"dst_port":443.0,"protocols":["tcp"],"type":"network-traffic","src_ref":"ipv4-addr--28bb3599-77cd-5a82-a950-b5bc3caf07c4"}"#,
        );
        assert_eq!(
            a, b,
            "order, number spelling and non-contributing properties don't matter"
        );
        assert!(matches!(
            id_of(
                r#"{"type":"network-traffic","protocols":["tcp"],"extensions":{"x":{"n":1e999}}}"#
            ),
            Some(Err(ScoIdError::Canonical(_)))
        ));
    }

    #[test]
    fn user_account_matches_python() {
        // uuid5(ns, '{"account_login":"jdoe","account_type":"unix","user_id":"1001"}')
        assert_eq!(
            ok(
                r#"{"type":"user-account","user_id":"1001","account_login":"jdoe","account_type":"unix","display_name":"J"}"#
            ),
            "user-account--".to_owned()
                + &Uuid::new_v5(
                    &SCO_NAMESPACE,
                    br#"{"account_login":"jdoe","account_type":"unix","user_id":"1001"}"#
                )
                .to_string()
        );
    }
}
