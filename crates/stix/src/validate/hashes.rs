//! The `hashes` dictionary (STIX 2.1 §2.7, §10.6): algorithm names from the
//! hash-algorithm vocabulary and, for the algorithms STIX names, values of
//! the right form and length (the patterns of the hashes-type JSON schema).

use crate::json::Value;
use crate::types::sco_vocab::HASH_ALGORITHM;

use super::ctx::{Ctx, Path};
use super::props;

/// A check of a hash value and the description of the form it checks.
type Form = (fn(&str) -> bool, &'static str);

/// The expected form of a known algorithm's value.
fn expected_form(algorithm: &str) -> Option<Form> {
    fn hex_of(len: usize) -> impl Fn(&str) -> bool {
        move |s: &str| s.len() == len && s.bytes().all(|c| c.is_ascii_hexdigit())
    }
    Some(match algorithm {
        "MD5" => (|s| hex_of(32)(s), "32 hexadecimal digits"),
        "SHA-1" => (|s| hex_of(40)(s), "40 hexadecimal digits"),
        "SHA-256" | "SHA3-256" => (|s| hex_of(64)(s), "64 hexadecimal digits"),
        "SHA-512" | "SHA3-512" => (|s| hex_of(128)(s), "128 hexadecimal digits"),
        "SSDEEP" => (
            |s| {
                (1..=128).contains(&s.len())
                    && s.bytes().all(|c| {
                        c.is_ascii_alphanumeric() || matches!(c, b'/' | b'+' | b':' | b'.')
                    })
            },
            "an ssdeep digest (1 to 128 characters of A-Z a-z 0-9 / + : .)",
        ),
        "TLSH" => (
            |s| s.len() == 70 && s.bytes().all(|c| c.is_ascii_alphanumeric()),
            "70 alphanumeric characters",
        ),
        _ => return None,
    })
}

/// Checks a hashes dictionary.
pub fn check(ctx: &mut Ctx<'_>, path: Path<'_>, value: &Value<'_>) {
    let Some(map) = props::object(ctx, path, value) else {
        return;
    };
    if map.is_empty() {
        ctx.error(path, "empty-dictionary", "must have at least one hash");
    }
    for (algorithm, hash) in map.iter() {
        let at = path.prop(algorithm);
        let valid_name = (3..=250).contains(&algorithm.len())
            && algorithm
                .bytes()
                .all(|c| c.is_ascii_alphanumeric() || c == b'_' || c == b'-');
        if !valid_name {
            ctx.error(at, "hash-algorithm", format!("{algorithm:?} is not a valid hash algorithm name (3 to 250 characters of a-z A-Z 0-9 _ -)"));
            continue;
        }
        let Some(hash) = props::string(ctx, at, hash) else {
            continue;
        };
        match expected_form(algorithm) {
            Some((is_valid, form)) => {
                if !is_valid(hash) {
                    ctx.error(
                        at,
                        "hash-value",
                        format!("{hash:?} is not a valid {algorithm} hash: expected {form}"),
                    );
                }
            }
            None => {
                let normalised = algorithm.replace(['-', '_'], "");
                let suggestion = HASH_ALGORITHM
                    .iter()
                    .find(|known| known.replace('-', "").eq_ignore_ascii_case(&normalised));
                match suggestion {
                    Some(known) => ctx.warning(at, "hash-algorithm", format!("{algorithm:?} should be written {known:?}, as the hash-algorithm vocabulary names it")),
                    // Custom algorithm names start with x_ (stix2-validator's convention).
                    None if algorithm.starts_with("x_") => {}
                    None => ctx.warning(at, "hash-algorithm", format!("{algorithm:?} is not in the hash-algorithm vocabulary ({}); a custom algorithm name should start with x_", HASH_ALGORITHM.join(", "))),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostic::Diagnostic;
    use crate::json::parse;

    fn diags(src: &str) -> Vec<Diagnostic> {
        let v = parse(src.as_bytes()).unwrap();
        let mut out = Vec::new();
        let root = Path::Root;
        check(&mut Ctx::new(None, &mut out), root.prop("hashes"), &v);
        out
    }

    fn rules(src: &str) -> Vec<(String, &'static str, &'static str)> {
        diags(src)
            .into_iter()
            .map(|d| (d.property, d.rule, d.severity.as_str()))
            .collect()
    }

    #[test]
    fn known_algorithms_have_their_forms() {
        assert!(diags(r#"{"MD5":"1717B7FFF97D37A1E1A0029D83492DE1","SHA-1":"c79a326f8411e9488bdc3779753e1e3489aaedea","SSDEEP":"3:AXGBicFlgVNhBGcL6wCrFQEv:AXGHsNhxLsr2C","x_custom":"abc"}"#).is_empty());
        assert_eq!(
            rules(r#"{"MD5":"1717b7fff97d37a1e1a0029d83492de","SHA-256":"zz","TLSH":"T1abc"}"#),
            [
                ("hashes.MD5".into(), "hash-value", "error"),
                ("hashes.SHA-256".into(), "hash-value", "error"),
                ("hashes.TLSH".into(), "hash-value", "error"),
            ]
        );
    }

    #[test]
    fn names_outside_the_vocabulary_are_warnings_and_bad_names_errors() {
        assert_eq!(
            rules(r#"{"sha256":"ab","SHA1":"ab","foo":"x","a b":"x","md":"x"}"#),
            [
                ("hashes.sha256".into(), "hash-algorithm", "warning"),
                ("hashes.SHA1".into(), "hash-algorithm", "warning"),
                ("hashes.foo".into(), "hash-algorithm", "warning"),
                ("hashes.a b".into(), "hash-algorithm", "error"),
                ("hashes.md".into(), "hash-algorithm", "error"),
            ]
        );
        let d = diags(r#"{"sha256":"ab"}"#);
        assert_eq!(
            d[0].message,
            r#""sha256" should be written "SHA-256", as the hash-algorithm vocabulary names it"#
        );
    }

    #[test]
    fn values_must_be_strings_and_the_dictionary_not_empty() {
        assert_eq!(
            rules("{}"),
            [("hashes".into(), "empty-dictionary", "error")]
        );
        assert_eq!(
            rules(r#"{"MD5":5}"#),
            [("hashes.MD5".into(), "json-type", "error")]
        );
        assert_eq!(rules("[]"), [("hashes".into(), "json-type", "error")]);
    }
}
