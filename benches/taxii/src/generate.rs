//! The benchmark's objects: valid STIX 2.1 indicators, malware and relationships,
//! about 700 bytes each, a pure function of (seed, n) so that every tool (the TAXII
//! load, the bundle for `passerelle import`, the raw SQLite loop, medallion) works on
//! the same objects and can recompute any object's id without storing it.

use std::fmt::Write;

/// The TLP:GREEN marking definition (TLP 2.0), which every object carries.
const TLP_GREEN: &str = "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb";
/// The identity every object is created by.
const CREATOR: &str = "identity--5b6e5a0c-9b0d-4f7a-8a53-3c4e2d1f0a9b";

/// splitmix64: a good 64-bit mix, enough for ids and sampling.
pub fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// What object `n` is: indicators mostly, a malware every 4th, a relationship every 8th.
fn kind(n: u64) -> &'static str {
    match n % 8 {
        3 => "malware",
        7 => "relationship",
        _ => "indicator",
    }
}

/// A version-4 UUID, a function of (seed, n).
fn uuid(seed: u64, n: u64) -> String {
    let hi = mix(seed ^ mix(n.wrapping_mul(2)));
    let lo = mix(seed ^ mix(n.wrapping_mul(2) + 1));
    let hi = (hi & 0xffff_ffff_ffff_0fff) | 0x0000_0000_0000_4000;
    let lo = (lo & 0x3fff_ffff_ffff_ffff) | 0x8000_0000_0000_0000;
    format!(
        "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
        hi >> 32,
        (hi >> 16) & 0xffff,
        hi & 0xffff,
        lo >> 48,
        lo & 0xffff_ffff_ffff
    )
}

/// The id of object `n`.
pub fn id(seed: u64, n: u64) -> String {
    format!("{}--{}", kind(n), uuid(seed, n))
}

/// RFC 3339 UTC text, millisecond precision, for `seconds` after 2024-01-01.
fn timestamp(seconds: u64, millis: u64) -> String {
    // Days to civil date (Howard Hinnant's algorithm), from 2024-01-01 = day 19723.
    let days = 19_723 + (seconds / 86_400) as i64;
    let secs = seconds % 86_400;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{millis:03}Z",
        secs / 3600,
        (secs / 60) % 60,
        secs % 60
    )
}

/// Appends object `n` as compact JSON to `out`.
pub fn write_object(out: &mut String, seed: u64, n: u64) {
    let r = mix(seed ^ mix(n ^ 0x5555));
    let created = timestamp(n % (3 * 365 * 86_400), r % 1000);
    let id = id(seed, n);
    let common = format!(
        "\"spec_version\":\"2.1\",\"id\":\"{id}\",\"created\":\"{created}\",\"modified\":\"{created}\",\
         \"created_by_ref\":\"{CREATOR}\",\"object_marking_refs\":[\"{TLP_GREEN}\"]"
    );
    // `write!` to a String cannot fail.
    let _ = match kind(n) {
        "malware" => write!(
            out,
            "{{\"type\":\"malware\",{common},\"name\":\"Benchmark family {n}\",\"is_family\":true,\
             \"malware_types\":[\"trojan\",\"remote-access-trojan\"],\
             \"description\":\"Generated for the TAXII benchmark: a remote access trojan family seen in {} samples, \
             delivered by phishing attachments and persisting through scheduled tasks.\",\
             \"labels\":[\"benchmark\",\"rat\"]}}",
            r % 5000
        ),
        "relationship" => write!(
            out,
            "{{\"type\":\"relationship\",{common},\"relationship_type\":\"indicates\",\
             \"source_ref\":\"{}\",\"target_ref\":\"{}\",\
             \"description\":\"The indicator was seen in the infrastructure of this malware family during campaign {}.\"}}",
            self::id(seed, n - 1),
            self::id(seed, n - 4),
            r % 97
        ),
        _ => write!(
            out,
            "{{\"type\":\"indicator\",{common},\"name\":\"Command and control address {}.{}.{}.{}\",\
             \"description\":\"Generated for the TAXII benchmark: an address contacted by implants of a remote access \
             trojan for tasking and exfiltration; block and alert on any connection.\",\
             \"indicator_types\":[\"malicious-activity\",\"attribution\"],\
             \"pattern\":\"[ipv4-addr:value = '{}.{}.{}.{}']\",\"pattern_type\":\"stix\",\
             \"valid_from\":\"{created}\",\"labels\":[\"benchmark\",\"c2\"],\"confidence\":{}}}",
            10 + r % 200,
            (r >> 8) % 256,
            (r >> 16) % 256,
            (r >> 24) % 256,
            10 + r % 200,
            (r >> 8) % 256,
            (r >> 16) % 256,
            (r >> 24) % 256,
            (r >> 32) % 101
        ),
    };
}

/// Object `n` as compact JSON.
#[cfg(test)]
pub fn object(seed: u64, n: u64) -> String {
    let mut out = String::with_capacity(800);
    write_object(&mut out, seed, n);
    out
}

/// A TAXII envelope (`{"objects":[...]}`) of objects `range`.
pub fn envelope(seed: u64, range: std::ops::Range<u64>) -> String {
    let mut out = String::with_capacity(800 * (range.end - range.start) as usize + 16);
    out.push_str("{\"objects\":[");
    for (i, n) in range.enumerate() {
        if i > 0 {
            out.push(',');
        }
        write_object(&mut out, seed, n);
    }
    out.push_str("]}");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_objects_are_valid_stix() {
        for n in 0..64 {
            let text = object(7, n);
            let value =
                stix::json::parse(text.as_bytes()).unwrap_or_else(|e| panic!("{e:?}: {text}"));
            let errors: Vec<_> = stix::validate_object(&value)
                .into_iter()
                .filter(|d| d.severity == stix::Severity::Error)
                .collect();
            assert!(errors.is_empty(), "object {n}: {errors:?}\n{text}");
        }
    }

    #[test]
    fn ids_are_unique_and_recomputable() {
        let ids: std::collections::HashSet<_> = (0..10_000).map(|n| id(1, n)).collect();
        assert_eq!(ids.len(), 10_000);
        assert!(object(1, 42).contains(&id(1, 42)));
        assert_ne!(id(1, 42), id(2, 42));
    }

    #[test]
    fn timestamps_are_calendar_dates() {
        assert_eq!(timestamp(0, 0), "2024-01-01T00:00:00.000Z");
        assert_eq!(timestamp(59 * 86_400 + 3661, 7), "2024-02-29T01:01:01.007Z");
        assert_eq!(timestamp(366 * 86_400, 999), "2025-01-01T00:00:00.999Z");
    }

    #[test]
    fn envelope_is_json_with_every_object() {
        let text = envelope(3, 10..20);
        let value: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(value["objects"].as_array().unwrap().len(), 10);
        assert_eq!(value["objects"][0]["id"], id(3, 10));
    }
}
