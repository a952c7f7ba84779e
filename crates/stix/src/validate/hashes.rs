//! The `hashes` dictionary: algorithm names from the hash-algorithm vocabulary
//! and, for the algorithms STIX names, values of the right form and length.

use crate::json::Value;

use super::ctx::{Ctx, Path};
use super::props;

/// The expected form of a known algorithm's value, as a check and a description.
fn expected_form(algorithm: &str) -> Option<(fn(&str) -> bool, &'static str)> {
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
                let suggestion = [
                    "MD5", "SHA-1", "SHA-256", "SHA-512", "SHA3-256", "SHA3-512", "SSDEEP", "TLSH",
                ]
                .into_iter()
                .find(|known| {
                    known
                        .replace('-', "")
                        .eq_ignore_ascii_case(&algorithm.replace(['-', '_'], ""))
                });
                match suggestion {
                    Some(known) => ctx.warning(at, "hash-algorithm", format!("{algorithm:?} should be written {known:?}, as the hash-algorithm vocabulary names it")),
                    None => ctx.warning(at, "hash-algorithm", format!("{algorithm:?} is not in the hash-algorithm vocabulary")),
                }
            }
        }
    }
}
