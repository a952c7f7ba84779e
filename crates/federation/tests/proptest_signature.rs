//! Sign then verify on generated objects: any object we sign verifies with our
//! key, whatever order its properties are then written in, and stops verifying
//! when one of its values changes.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use federation::identity::{NodeIdentity, PublicKey};
use federation::origin::SignatureCheck;
use federation::signature::{SIGNATURE_EXTENSION_ID, sign, verify};
use proptest::prelude::*;
use stix::Timestamp;
use stix::json::{self, Map, Value};

fn node() -> NodeIdentity {
    NodeIdentity::from_seed(
        "identity--7f4c4a4e-9a4b-4a4f-8d1e-2b4b8f0e6c11",
        "DGSN Rabat",
        Timestamp::parse("2026-11-02T09:00:00.000Z").unwrap(),
        &[7; 32],
    )
}

/// JSON leaves as STIX content has them, numbers written in several ways.
fn leaf() -> impl Strategy<Value = Value<'static>> {
    prop_oneof![
        any::<String>().prop_map(Value::from),
        "[a-z ]{0,12}".prop_map(Value::from),
        any::<bool>().prop_map(Value::from),
        any::<i32>().prop_map(|n| Value::from(i64::from(n))),
        (-1000i64..1000, 0u32..4).prop_map(|(n, scale)| {
            let text = format!("{n}.{:0>width$}", 5, width = scale as usize + 1);
            json::parse(text.as_bytes()).unwrap().into_owned()
        }),
    ]
}

fn property_value() -> impl Strategy<Value = Value<'static>> {
    leaf().prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 1..4).prop_map(Value::Array),
            prop::collection::btree_map("[a-z_]{3,8}", inner, 1..4).prop_map(|m| {
                let mut map = Map::new();
                for (k, v) in m {
                    map.insert(k, v);
                }
                Value::Object(map)
            }),
        ]
    })
}

/// An object with the usual head and generated custom properties.
fn object() -> impl Strategy<Value = Value<'static>> {
    (
        any::<String>(),
        prop::collection::btree_map("x_[a-z_]{1,10}", property_value(), 0..6),
        any::<bool>(),
    )
        .prop_map(|(name, custom, other_extension)| {
            let mut obj = Map::new();
            obj.insert("type", Value::from("report"));
            obj.insert("spec_version", Value::from("2.1"));
            obj.insert(
                "id",
                Value::from("report--5a1b0c2d-3e4f-4a5b-8c6d-7e8f9a0b1c2d"),
            );
            obj.insert("created", Value::from("2026-11-02T10:00:00.000Z"));
            obj.insert("name", Value::from(name));
            for (k, v) in custom {
                obj.insert(k, v);
            }
            if other_extension {
                let mut ext = Map::new();
                ext.insert("extension_type", Value::from("property-extension"));
                ext.insert("rank", Value::from(3));
                let mut exts = Map::new();
                exts.insert(
                    "extension-definition--d83fce45-ef58-4c6c-a3f4-1fbc32e98c6e",
                    Value::Object(ext),
                );
                obj.insert("extensions", Value::Object(exts));
            }
            Value::Object(obj)
        })
}

/// The same value with the keys of every object in reverse order.
fn reversed(value: &Value<'static>) -> Value<'static> {
    match value {
        Value::Object(map) => {
            let entries: Vec<_> = map
                .iter()
                .map(|(k, v)| (k.to_owned(), reversed(v)))
                .collect();
            let mut out = Map::new();
            for (k, v) in entries.into_iter().rev() {
                out.insert(k, v);
            }
            Value::Object(out)
        }
        Value::Array(items) => Value::Array(items.iter().map(reversed).collect()),
        other => other.clone(),
    }
}

/// The value written with newlines and indentation.
fn pretty(value: &Value<'_>) -> String {
    fn write(value: &Value<'_>, depth: usize, out: &mut String) {
        let indent = "  ".repeat(depth + 1);
        match value {
            Value::Object(map) => {
                out.push('{');
                for (i, (k, v)) in map.iter().enumerate() {
                    out.push_str(if i > 0 { ",\n" } else { "\n" });
                    out.push_str(&indent);
                    out.push_str(&json::to_string(&Value::from(k)));
                    out.push_str(" : ");
                    write(v, depth + 1, out);
                }
                out.push_str(" }");
            }
            Value::Array(items) => {
                out.push_str("[ ");
                for (i, v) in items.iter().enumerate() {
                    if i > 0 {
                        out.push_str(" ,\t");
                    }
                    write(v, depth + 1, out);
                }
                out.push_str(" ]");
            }
            leaf => out.push_str(&json::to_string(leaf)),
        }
    }
    let mut out = String::new();
    write(value, 0, &mut out);
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn sign_then_verify(v in object(), new_name in any::<String>()) {
        let me = node();
        let key = me.public_key();
        let keys = move |id: &str| -> Option<PublicKey> {
            (id == "identity--7f4c4a4e-9a4b-4a4f-8d1e-2b4b8f0e6c11").then_some(key)
        };
        let bytes = json::to_string(&v);
        let signed = sign(bytes.as_bytes(), &me).unwrap();
        let verified = SignatureCheck::Verified { signer: me.identity.clone() };
        prop_assert_eq!(verify(&signed, &keys), verified.clone());

        // Written in another order, with other whitespace.
        let parsed = json::parse(&signed).unwrap().into_owned();
        let restyled = pretty(&reversed(&parsed));
        prop_assert_eq!(verify(restyled.as_bytes(), &keys), verified);

        // The signature entry is there, next to any other extension.
        let extensions = parsed.get("extensions").unwrap().as_object().unwrap();
        prop_assert!(extensions.contains_key(SIGNATURE_EXTENSION_ID));
        prop_assert_eq!(extensions.len(), 1 + usize::from(v.get("extensions").is_some()));

        // A changed value no longer verifies.
        let mut tampered = parsed.as_object().unwrap().clone();
        if v.get("name").unwrap().as_str() != Some(new_name.as_str()) {
            tampered.insert("name", Value::from(new_name));
            let tampered = json::to_string(&Value::Object(tampered));
            prop_assert!(
                matches!(verify(tampered.as_bytes(), &keys), SignatureCheck::Invalid { .. }),
                "tampered object verified"
            );
        }
    }
}
