use super::*;

use proptest::prelude::*;
use stix::Timestamp;

use crate::signature::sign;

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

fn madrid() -> NodeIdentity {
    node(3, "1c8f2e4d-6a8b-4d3f-8e2c-7b9a1d5f3c24")
}

const COLLECTION: &str = "3f1e6a2b-8c4d-4e5f-9a0b-1c2d3e4f5a6b";

/// The Rabat sample objects, signed by Rabat as egress would send them.
fn objects(n: usize) -> Vec<Vec<u8>> {
    let text = include_bytes!("../../../../testdata/federation/rabat.json");
    let mut reader = ObjectReader::new(&text[..]);
    let mut out = Vec::new();
    while let Some(raw) = reader.next_object().unwrap() {
        out.push(sign(raw.bytes, &rabat()).unwrap());
    }
    out.truncate(n);
    out
}

fn header(n: u64) -> TransferHeader {
    TransferHeader {
        sender: String::new(),
        recipient: paris().identity,
        sequence: 3,
        created: Micros::parse("2026-11-30T10:00:00.123456Z").unwrap(),
        objects: 0,
        collections: vec![Coverage {
            collection: Uuid::parse_str(COLLECTION).unwrap(),
            after: Some(Micros::parse("2026-11-29T10:00:00Z").unwrap()),
            through: (n > 0).then(|| Micros::parse("2026-11-30T09:00:00Z").unwrap()),
            objects: n,
        }],
    }
}

/// A file from Rabat for Paris holding `objects`.
fn file(objects: &[Vec<u8>]) -> Vec<u8> {
    let mut writer = TransferWriter::new(Vec::new()).unwrap();
    for object in objects {
        writer.write_object(object).unwrap();
    }
    let (bytes, written) = writer
        .finish(header(objects.len() as u64), &rabat())
        .unwrap();
    assert_eq!(written.sender, rabat().identity);
    assert_eq!(written.objects, objects.len() as u64);
    bytes
}

fn keys_of(known: &[&NodeIdentity]) -> impl Fn(&str) -> Option<PublicKey> + use<> {
    let known: Vec<(String, PublicKey)> = known
        .iter()
        .map(|n| (n.identity.clone(), n.public_key()))
        .collect();
    move |id: &str| known.iter().find(|(i, _)| i == id).map(|(_, k)| *k)
}

/// Reads `bytes` as Paris, knowing Rabat's and Madrid's keys.
fn read(bytes: &[u8]) -> Result<(TransferHeader, Vec<Vec<u8>>), FileError> {
    read_as(bytes, &paris().identity, &keys_of(&[&rabat(), &madrid()]))
}

fn read_as(
    bytes: &[u8],
    recipient: &str,
    keys: &dyn Fn(&str) -> Option<PublicKey>,
) -> Result<(TransferHeader, Vec<Vec<u8>>), FileError> {
    let mut reader = TransferReader::new(bytes);
    let mut objects = Vec::new();
    while let Some(object) = reader.next_object()? {
        assert_eq!(object.value, json::parse(object.bytes).unwrap());
        objects.push(object.bytes.to_vec());
    }
    let header = reader.finish(&Trust { recipient, keys })?;
    Ok((header, objects))
}

fn replace_once(bytes: &[u8], from: &str, to: &str) -> Vec<u8> {
    let text = std::str::from_utf8(bytes).unwrap();
    assert!(text.contains(from), "{from:?} not in the file");
    text.replacen(from, to, 1).into_bytes()
}

/// Replaces the last occurrence: the header comes after the objects.
fn replace_last(bytes: &[u8], from: &str, to: &str) -> Vec<u8> {
    let text = std::str::from_utf8(bytes).unwrap();
    let at = text
        .rfind(from)
        .unwrap_or_else(|| panic!("{from:?} not in the file"));
    format!("{}{to}{}", &text[..at], &text[at + from.len()..]).into_bytes()
}

#[test]
fn a_file_round_trips_with_its_objects_exact_and_its_header() {
    let objects = objects(12);
    assert_eq!(objects.len(), 12);
    let bytes = file(&objects);
    let (header, read) = read(&bytes).unwrap();
    assert_eq!(read, objects);
    let mut expected = self::header(12);
    expected.sender = rabat().identity;
    expected.objects = 12;
    assert_eq!(header, expected);
}

#[test]
fn a_file_is_a_valid_stix_bundle() {
    let bytes = file(&objects(12));
    let value = json::parse(&bytes).unwrap();
    let top = value.as_object().unwrap();
    assert_eq!(
        top.keys().collect::<Vec<_>>(),
        ["type", "id", "objects", TRANSFER_PROPERTY]
    );
    assert!(
        stix::bundle::validate_header(top)
            .iter()
            .all(|d| d.severity != stix::Severity::Error),
        "{:?}",
        stix::bundle::validate_header(top)
    );
    for object in top.get("objects").unwrap().as_array().unwrap() {
        let errors: Vec<_> = stix::validate_object(object)
            .into_iter()
            .filter(|d| d.severity == stix::Severity::Error)
            .collect();
        assert!(errors.is_empty(), "{errors:?}");
    }
}

#[test]
fn the_signature_is_ed25519ph_over_the_canonical_json_of_the_file_without_it() {
    for n in [0, 1, 5] {
        let bytes = file(&objects(n));
        let mut value = json::parse(&bytes).unwrap();
        let transfer = value
            .as_object_mut()
            .unwrap()
            .get_mut(TRANSFER_PROPERTY)
            .unwrap()
            .as_object_mut()
            .unwrap();
        let signature = transfer.remove("signature").unwrap();
        let signature = STANDARD.decode(signature.as_str().unwrap()).unwrap();
        let signature = Signature::from_bytes(&signature.try_into().unwrap());
        let message = stix::canonical::to_canonical_vec(&value).unwrap();
        rabat()
            .public_key()
            .verifying_key()
            .verify_prehashed_strict(
                Sha512::new_with_prefix(&message),
                Some(SIGNATURE_CONTEXT),
                &signature,
            )
            .unwrap_or_else(|e| panic!("{n} objects: {e}"));
        // Plain Ed25519 over the same message, or another context, does not verify.
        assert!(
            rabat()
                .public_key()
                .verifying_key()
                .verify_strict(&message, &signature)
                .is_err()
        );
        assert!(
            rabat()
                .public_key()
                .verifying_key()
                .verify_prehashed_strict(
                    Sha512::new_with_prefix(&message),
                    Some(b"passerelle-object"),
                    &signature
                )
                .is_err()
        );
    }
}

#[test]
fn whitespace_and_property_order_do_not_matter() {
    let objects = objects(3);
    let bytes = file(&objects);
    let text = String::from_utf8(bytes).unwrap();
    // Pretty-ish: more whitespace between the tokens of the document.
    let spaced = text
        .replace("{\"type\":\"bundle\",", "{\n  \"type\" : \"bundle\" ,\n  ")
        .replace(",\n{", " ,\n\n\t{");
    let (_, read_back) = read(spaced.as_bytes()).unwrap();
    assert_eq!(read_back, objects);
    // The header moved before the objects (after the id), and an object rewritten
    // with its properties in another order: the same document.
    let value = json::parse(text.as_bytes()).unwrap();
    let top = value.as_object().unwrap();
    let mut moved = Map::new();
    moved.insert("id", top.get("id").unwrap().clone());
    moved.insert(
        TRANSFER_PROPERTY,
        top.get(TRANSFER_PROPERTY).unwrap().clone(),
    );
    moved.insert("type", top.get("type").unwrap().clone());
    let mut list = top.get("objects").unwrap().as_array().unwrap().to_vec();
    if let Value::Object(first) = &mut list[0] {
        let mut reversed = Map::new();
        let entries: Vec<_> = first
            .iter()
            .map(|(k, v)| (k.to_owned(), v.clone()))
            .collect();
        for (k, v) in entries.into_iter().rev() {
            reversed.insert(k, v);
        }
        *first = reversed;
    }
    moved.insert("objects", Value::Array(list));
    let rewritten = json::to_string(&Value::Object(moved));
    let (header, read_back) = read(rewritten.as_bytes()).unwrap();
    assert_eq!(header.objects, 3);
    assert_eq!(read_back[1..], objects[1..]);
    assert_ne!(read_back[0], objects[0]);
}

#[test]
fn an_empty_file_has_no_objects_list_and_verifies() {
    let bytes = file(&[]);
    let text = std::str::from_utf8(&bytes).unwrap();
    assert!(!text.contains("\"objects\":["), "{text}");
    let (header, objects) = read(&bytes).unwrap();
    assert!(objects.is_empty());
    assert_eq!(header.objects, 0);
    assert_eq!(header.sequence, 3);
    assert_eq!(header.collections[0].through, None);
    // An empty list is another document: its signature does not cover it.
    let listed = replace_once(&bytes, ",\"x_passerelle", ",\"objects\":[],\"x_passerelle");
    assert!(matches!(read(&listed), Err(FileError::BadSignature { .. })));
}

#[test]
fn wrong_recipient_unknown_sender_and_another_key_are_refused_by_name() {
    let bytes = file(&objects(2));
    match read_as(&bytes, &madrid().identity, &keys_of(&[&rabat()])) {
        Err(FileError::WrongRecipient {
            recipient,
            expected,
        }) => {
            assert_eq!(recipient, paris().identity);
            assert_eq!(expected, madrid().identity);
        }
        other => panic!("{other:?}"),
    }
    match read_as(&bytes, &paris().identity, &keys_of(&[&madrid()])) {
        Err(error @ FileError::UnknownSender { .. }) => {
            assert!(error.to_string().contains(&rabat().identity), "{error}");
            assert!(error.to_string().contains("not a partner"), "{error}");
        }
        other => panic!("{other:?}"),
    }
    // Rabat's identity with Madrid's key: the signature does not hold.
    let wrong_key = {
        let rabat_id = rabat().identity;
        let key = madrid().public_key();
        move |id: &str| (id == rabat_id).then_some(key)
    };
    match read_as(&bytes, &paris().identity, &wrong_key) {
        Err(error @ FileError::BadSignature { .. }) => {
            assert!(error.to_string().contains(&rabat().identity), "{error}");
            assert!(error.to_string().contains("does not verify"), "{error}");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_changed_object_or_header_is_refused_naming_what() {
    let bytes = file(&objects(4));
    // A word inside an object: the file signature.
    let changed = replace_once(&bytes, "\"name\":\"", "\"name\":\"X");
    assert!(matches!(
        read(&changed),
        Err(FileError::BadSignature { sender }) if sender == rabat().identity
    ));
    // An object removed: the count first.
    let text = std::str::from_utf8(&bytes).unwrap();
    let second = text.find(",\n{").unwrap();
    let third = second + 3 + text[second + 3..].find(",\n{").unwrap();
    let removed = format!("{}{}", &text[..second], &text[third..]);
    match read(removed.as_bytes()) {
        Err(FileError::Header { field, message }) => {
            assert_eq!(field, "objects");
            assert!(
                message.contains("says 4 objects, the file holds 3"),
                "{message}"
            );
        }
        other => panic!("{other:?}"),
    }
    // Header fields: the signature covers each; a malformed one is named.
    let sequence = replace_last(&bytes, "\"sequence\":3", "\"sequence\":4");
    assert!(matches!(
        read(&sequence),
        Err(FileError::BadSignature { .. })
    ));
    let recipient = replace_last(&bytes, &paris().identity, &madrid().identity);
    assert!(matches!(
        read(&recipient),
        Err(FileError::BadSignature { .. })
    ));
    for (from, to, field) in [
        ("\"version\":\"1.0\"", "\"version\":\"2.0\"", "version"),
        ("\"sequence\":3", "\"sequence\":0", "sequence"),
        ("\"sequence\":3", "\"sequence\":\"3\"", "sequence"),
        (
            "\"algorithm\":\"ed25519ph\"",
            "\"algorithm\":\"ed25519\"",
            "algorithm",
        ),
        ("\"signature\":\"", "\"signature\":\"!", "signature"),
        ("\"created\":\"2026", "\"created\":\"x2026", "created"),
        ("\"objects\":4,", "\"objects\":4,\"extra\":1,", "extra"),
        ("\"objects\":4}]", "\"objects\":5}]", "collections"),
        (
            "\"after\":\"2026-11-29",
            "\"after\":\"2026-12-29",
            "collections[0].through",
        ),
    ] {
        match read(&replace_last(&bytes, from, to)) {
            Err(FileError::Header { field: named, .. }) => assert_eq!(named, field, "{to}"),
            other => panic!("{to}: {other:?}"),
        }
    }
}

#[test]
fn changing_any_byte_is_refused() {
    let bytes = file(&objects(2));
    let original = stix::canonical::to_canonical_vec(&json::parse(&bytes).unwrap()).unwrap();
    let mut refused = 0;
    for i in 0..bytes.len() {
        for replacement in [bytes[i] ^ 0x01, b' ', b'0'] {
            if replacement == bytes[i] {
                continue;
            }
            let mut changed = bytes.clone();
            changed[i] = replacement;
            match read(&changed) {
                Err(error) => {
                    assert!(!error.to_string().is_empty());
                    refused += 1;
                }
                // Accepted only if the change is insignificant (whitespace between
                // tokens): the same canonical document.
                Ok(_) => {
                    let value = json::parse(&changed).unwrap();
                    assert_eq!(
                        stix::canonical::to_canonical_vec(&value).unwrap(),
                        original,
                        "byte {i} changed to {replacement:#04x} and the file was accepted"
                    );
                }
            }
        }
    }
    assert!(refused > bytes.len() * 2, "{refused}");
}

#[test]
fn a_truncated_file_is_refused_as_truncated() {
    let bytes = file(&objects(3));
    let end = bytes.iter().rposition(|&b| b == b'}').unwrap();
    for cut in 0..=end {
        match read(&bytes[..cut]) {
            Err(FileError::Truncated { .. }) => {}
            // A cut inside a number or a literal at the very end reads as a syntax error.
            Err(FileError::Malformed(_) | FileError::Object { .. }) => {}
            other => panic!("cut at {cut}: {other:?}"),
        }
    }
    let in_object = bytes.len() / 2;
    match read(&bytes[..in_object]) {
        Err(error @ FileError::Truncated { .. }) => {
            assert!(error.to_string().contains("truncated"), "{error}");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn what_is_not_a_transfer_file_is_refused() {
    let plain = include_bytes!("../../../../testdata/federation/rabat.json");
    assert!(matches!(read(plain), Err(FileError::NotATransfer(_))));
    assert!(matches!(
        read(b"[{\"type\":\"x\"}]"),
        Err(FileError::NotATransfer(_))
    ));
    assert!(matches!(read(b""), Err(FileError::Truncated { .. })));
    assert!(matches!(
        read(b"{\"type\":\"bundle\"}"),
        Err(FileError::NotATransfer(_))
    ));
    let bytes = file(&objects(2));
    // Another top-level property.
    let extra = replace_once(
        &bytes,
        "{\"type\":\"bundle\",",
        "{\"type\":\"bundle\",\"spec_version\":\"2.0\",",
    );
    assert!(matches!(read(&extra), Err(FileError::Malformed(m)) if m.contains("spec_version")));
    // The id after the objects: the canonical form cannot be hashed as it streams.
    let text = std::str::from_utf8(&bytes).unwrap();
    let value = json::parse(&bytes).unwrap();
    let id = value.get("id").unwrap().as_str().unwrap();
    let moved = text.replacen(&format!(",\"id\":\"{id}\""), "", 1).replacen(
        ",\"x_passerelle",
        &format!(",\"id\":\"{id}\",\"x_passerelle"),
        1,
    );
    assert!(
        matches!(read(moved.as_bytes()), Err(FileError::Malformed(m)) if m.contains("id must come before"))
    );
    // An object that is not an object.
    let not_object = replace_once(&bytes, "\"objects\":[\n", "\"objects\":[\n1,");
    assert!(matches!(
        read(&not_object),
        Err(FileError::Object { index: 0, .. })
    ));
}

#[test]
fn the_writer_leaves_out_whitespace_around_an_object() {
    let mut writer = TransferWriter::new(Vec::new()).unwrap();
    writer.write_object(b" \n{\"a\": 1}\t ").unwrap();
    let (bytes, _) = writer.finish(header(1), &rabat()).unwrap();
    let (_, objects) = read(&bytes).unwrap();
    assert_eq!(objects, [b"{\"a\": 1}".to_vec()]);
}

#[test]
fn the_writer_refuses_what_is_not_a_json_object() {
    let mut writer = TransferWriter::new(Vec::new()).unwrap();
    assert!(matches!(
        writer.write_object(b"{\"a\":"),
        Err(FileError::Object { index: 0, .. })
    ));
    assert!(matches!(
        writer.write_object(b"[1]"),
        Err(FileError::Object { index: 0, .. })
    ));
    assert!(matches!(
        writer.write_object(b"{\"n\":1e400}"),
        Err(FileError::Object { index: 0, .. })
    ));
    assert_eq!(writer.objects(), 0);
}

/// Reads a file a few bytes at a time, as from a pipe.
struct Trickle<'a>(&'a [u8], usize);

impl Read for Trickle<'_> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let n = self.1.min(out.len()).min(self.0.len());
        out[..n].copy_from_slice(&self.0[..n]);
        self.0 = &self.0[n..];
        Ok(n)
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn reading_arbitrary_bytes_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        let _ = read(&bytes);
    }

    #[test]
    fn reading_a_mutated_file_never_panics_and_accepts_only_the_same_document(
        mutations in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..4),
        cut in any::<prop::sample::Index>(),
        truncate in any::<bool>(),
        step in 1usize..64,
    ) {
        let bytes = file(&objects(2));
        let original = stix::canonical::to_canonical_vec(&json::parse(&bytes).unwrap()).unwrap();
        let mut changed = bytes.clone();
        for (at, byte) in &mutations {
            let i = at.index(changed.len());
            changed[i] = *byte;
        }
        if truncate {
            changed.truncate(cut.index(changed.len()));
        }
        let mut reader = TransferReader::new(Trickle(&changed, step));
        let keys = keys_of(&[&rabat()]);
        let recipient = paris().identity;
        let outcome = (|| {
            while reader.next_object()?.is_some() {}
            reader.finish(&Trust { recipient: &recipient, keys: &keys })
        })();
        if outcome.is_ok() {
            let value = json::parse(&changed).unwrap();
            prop_assert_eq!(stix::canonical::to_canonical_vec(&value).unwrap(), original);
        }
    }
}
