//! The URL query parameters of TAXII 2.1 (§3.4): `added_after`, `limit`,
//! `next` and the `match[<field>]` filters, parsed and checked per endpoint.
//!
//! Malformed values are a 400 (§3.4: "If any of the URL query parameters are
//! malformed, the TAXII Server MUST return an HTTP 400"), and so is a parameter
//! given twice (each "MUST NOT occur more than once"), a parameter this
//! endpoint does not take, and any other unknown parameter except an unknown
//! `match[<field>]`, which §3.4 lets servers ignore.

use stix::{Identifier, Timestamp};

use crate::error::TaxiiError;

/// Which endpoint a query is for; each takes its own set of parameters (§5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    /// `GET .../objects/` (§5.4).
    Objects,
    /// `GET .../manifest/` (§5.3).
    Manifest,
    /// `GET .../objects/{object-id}/` (§5.6).
    Object,
    /// `DELETE .../objects/{object-id}/` (§5.7).
    DeleteObject,
    /// `GET .../objects/{object-id}/versions/` (§5.8).
    Versions,
    /// Every other endpoint: no parameters.
    Plain,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Param {
    AddedAfter,
    Limit,
    Next,
    Id,
    Type,
    Version,
    SpecVersion,
}

impl Param {
    fn name(self) -> &'static str {
        match self {
            Param::AddedAfter => "added_after",
            Param::Limit => "limit",
            Param::Next => "next",
            Param::Id => "match[id]",
            Param::Type => "match[type]",
            Param::Version => "match[version]",
            Param::SpecVersion => "match[spec_version]",
        }
    }

    fn from_name(name: &str) -> Option<Param> {
        Some(match name {
            "added_after" => Param::AddedAfter,
            "limit" => Param::Limit,
            "next" => Param::Next,
            "match[id]" => Param::Id,
            "match[type]" => Param::Type,
            "match[version]" => Param::Version,
            "match[spec_version]" => Param::SpecVersion,
            _ => return None,
        })
    }
}

impl Endpoint {
    fn accepts(self) -> &'static [Param] {
        use Param::*;
        match self {
            Endpoint::Objects | Endpoint::Manifest => {
                &[AddedAfter, Limit, Next, Id, Type, Version, SpecVersion]
            }
            Endpoint::Object => &[AddedAfter, Limit, Next, Version, SpecVersion],
            Endpoint::DeleteObject => &[Version, SpecVersion],
            Endpoint::Versions => &[AddedAfter, Limit, Next, SpecVersion],
            Endpoint::Plain => &[],
        }
    }
}

/// Which versions of each object to return (`match[version]`, §3.4.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VersionFilter {
    /// Every version (`all`).
    All,
    /// The union of the chosen versions.
    Select {
        /// The earliest version (`first`).
        first: bool,
        /// The latest version (`last`), the default.
        last: bool,
        /// Versions whose `modified` (else `created`) is exactly one of these instants.
        at: Vec<Timestamp>,
    },
}

impl Default for VersionFilter {
    fn default() -> Self {
        VersionFilter::Select {
            first: false,
            last: true,
            at: Vec::new(),
        }
    }
}

/// The parsed parameters of one request. Empty lists mean "no restriction".
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Filters {
    /// Only objects added strictly after this instant.
    pub added_after: Option<Timestamp>,
    /// The page size the client asked for (positive); the server caps it.
    pub limit: Option<u64>,
    /// The opaque position to continue from, as the client sent it.
    pub next: Option<String>,
    /// `match[id]`: object ids.
    pub ids: Vec<String>,
    /// `match[type]`: object types.
    pub types: Vec<String>,
    /// `match[version]`.
    pub versions: VersionFilter,
    /// `match[spec_version]`: STIX specification versions such as `2.1`;
    /// empty means the latest one available per object (§3.4.1).
    pub spec_versions: Vec<String>,
}

/// The largest integer TAXII can carry (§2: signed 54-bit).
const MAX_TAXII_INTEGER: u64 = (1 << 53) - 1;
/// `next` values are short; anything longer is not one of ours.
const MAX_NEXT_LEN: usize = 512;
/// Bounds the work one query can ask for.
const MAX_LIST_ITEMS: usize = 1000;

fn bad(message: String) -> TaxiiError {
    TaxiiError::BadRequest(message)
}

/// Quotes client text for an error message: bounded and with controls escaped.
pub fn quoted(s: &str) -> String {
    let mut out: String = s.chars().take(80).flat_map(char::escape_debug).collect();
    if s.chars().count() > 80 {
        out.push('…');
    }
    format!("'{out}'")
}

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Decodes one `application/x-www-form-urlencoded` component.
fn percent_decode(s: &str) -> Result<String, TaxiiError> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let value = b
                    .get(i + 1)
                    .and_then(|&h| hex(h))
                    .zip(b.get(i + 2).and_then(|&l| hex(l)))
                    .map(|(h, l)| h * 16 + l)
                    .ok_or_else(|| {
                        bad(format!(
                            "the query string has a malformed percent-escape near {}",
                            quoted(&s[i..])
                        ))
                    })?;
                out.push(value);
                i += 2;
            }
            other => out.push(other),
        }
        i += 1;
    }
    String::from_utf8(out).map_err(|_| bad("the query string is not UTF-8 once decoded".into()))
}

/// A comma-separated list (§3.4: "separated by a comma without any spaces").
fn list(param: Param, value: &str) -> Result<Vec<&str>, TaxiiError> {
    let items: Vec<&str> = value.split(',').collect();
    if items.len() > MAX_LIST_ITEMS {
        return Err(bad(format!(
            "{} has {} values; at most {MAX_LIST_ITEMS} are accepted",
            param.name(),
            items.len()
        )));
    }
    if items.iter().any(|item| item.is_empty()) {
        return Err(bad(format!(
            "{} has an empty value; separate values with single commas and no spaces",
            param.name()
        )));
    }
    Ok(items)
}

fn timestamp(param: Param, value: &str) -> Result<Timestamp, TaxiiError> {
    Timestamp::parse(value).map_err(|e| {
        bad(format!(
            "{} value {} {e}, as in 2016-01-01T01:01:01.000000Z",
            param.name(),
            quoted(value)
        ))
    })
}

/// An object type: lowercase ASCII letters, digits and hyphens, 3 to 250
/// characters (STIX 2.1 §3.1).
pub fn is_valid_type(s: &str) -> bool {
    (3..=250).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// Checks a STIX identifier from a URL (a path segment or `match[id]`); ids
/// with path characters, spaces or anything else outside the form are refused.
pub fn check_object_id(what: &str, id: &str) -> Result<(), TaxiiError> {
    let valid = Identifier::parse(id).is_ok_and(|parsed| is_valid_type(parsed.object_type));
    if valid {
        Ok(())
    } else {
        Err(bad(format!(
            "{what} {} is not a STIX identifier (<type>--<UUID>)",
            quoted(id)
        )))
    }
}

fn spec_version(value: &str) -> bool {
    let mut parts = value.split('.');
    let numeric = |p: Option<&str>| {
        p.is_some_and(|p| !p.is_empty() && p.len() <= 4 && p.bytes().all(|b| b.is_ascii_digit()))
    };
    numeric(parts.next()) && numeric(parts.next()) && parts.next().is_none()
}

fn parse_limit(value: &str) -> Result<u64, TaxiiError> {
    let message = || {
        bad(format!(
            "limit {} is not a positive integer; give a number of records from 1 to {MAX_TAXII_INTEGER}",
            quoted(value)
        ))
    };
    if value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit()) {
        return Err(message());
    }
    match value.parse::<u64>() {
        Ok(0) => Err(bad("limit must be greater than zero".into())),
        Ok(n) if n <= MAX_TAXII_INTEGER => Ok(n),
        _ => Err(message()),
    }
}

fn parse_versions(value: &str) -> Result<VersionFilter, TaxiiError> {
    let items = list(Param::Version, value)?;
    let mut first = false;
    let mut last = false;
    let mut all = false;
    let mut at: Vec<Timestamp> = Vec::new();
    let duplicate = |item: &str| {
        bad(format!(
            "match[version] names {} more than once",
            quoted(item)
        ))
    };
    for item in items {
        let seen = match item {
            "first" => std::mem::replace(&mut first, true),
            "last" => std::mem::replace(&mut last, true),
            "all" => std::mem::replace(&mut all, true),
            _ => {
                let ts = timestamp(Param::Version, item)?;
                // Versions are instants: 01:01:01Z and 01:01:01.000Z are one version.
                let seen = at.iter().any(|t| t.cmp(&ts).is_eq());
                at.push(ts);
                seen
            }
        };
        if seen {
            return Err(duplicate(item));
        }
    }
    if all {
        if first || last || !at.is_empty() {
            return Err(bad(
                "match[version]=all cannot be combined with other versions".into(),
            ));
        }
        return Ok(VersionFilter::All);
    }
    Ok(VersionFilter::Select { first, last, at })
}

/// Parses the query string of a request to `endpoint`.
pub fn parse(query: Option<&str>, endpoint: Endpoint) -> Result<Filters, TaxiiError> {
    let mut filters = Filters::default();
    let mut seen: Vec<Param> = Vec::new();
    let accepted = endpoint.accepts();
    for pair in query.unwrap_or("").split('&') {
        if pair.is_empty() {
            continue;
        }
        let (raw_name, raw_value) = pair.split_once('=').unwrap_or((pair, ""));
        let name = percent_decode(raw_name)?;
        let value = percent_decode(raw_value)?;
        let Some(param) = Param::from_name(&name) else {
            if name.starts_with("match[") && name.ends_with(']') {
                continue; // §3.4: servers MAY ignore fields they do not understand
            }
            return Err(bad(format!(
                "unknown query parameter {}{}",
                quoted(&name),
                allowed_list(accepted)
            )));
        };
        if !accepted.contains(&param) {
            return Err(bad(format!(
                "this endpoint does not take the {} parameter{}",
                param.name(),
                allowed_list(accepted)
            )));
        }
        if seen.contains(&param) {
            return Err(bad(format!(
                "{} is given more than once; give it once (with a comma-separated list where it takes several values)",
                param.name()
            )));
        }
        seen.push(param);
        if value.is_empty() {
            return Err(bad(format!("{} has no value", param.name())));
        }
        match param {
            Param::AddedAfter => filters.added_after = Some(timestamp(param, &value)?),
            Param::Limit => filters.limit = Some(parse_limit(&value)?),
            Param::Next => {
                if value.len() > MAX_NEXT_LEN || !value.bytes().all(|b| b.is_ascii_graphic()) {
                    return Err(bad(format!(
                        "next {} is not a value this server gave",
                        quoted(&value)
                    )));
                }
                filters.next = Some(value);
            }
            Param::Id => {
                for id in list(param, &value)? {
                    check_object_id("match[id]", id)?;
                    filters.ids.push(id.to_owned());
                }
            }
            Param::Type => {
                for t in list(param, &value)? {
                    if !is_valid_type(t) {
                        return Err(bad(format!(
                            "match[type] {} is not an object type (3 to 250 lowercase letters, digits and hyphens)",
                            quoted(t)
                        )));
                    }
                    filters.types.push(t.to_owned());
                }
            }
            Param::Version => filters.versions = parse_versions(&value)?,
            Param::SpecVersion => {
                for v in list(param, &value)? {
                    if !spec_version(v) {
                        return Err(bad(format!(
                            "match[spec_version] {} is not a specification version such as 2.1",
                            quoted(v)
                        )));
                    }
                    if !filters.spec_versions.iter().any(|s| s == v) {
                        filters.spec_versions.push(v.to_owned());
                    }
                }
            }
        }
    }
    Ok(filters)
}

fn allowed_list(accepted: &[Param]) -> String {
    if accepted.is_empty() {
        "; this endpoint takes no query parameters".to_owned()
    } else {
        let names: Vec<&str> = accepted.iter().map(|p| p.name()).collect();
        format!("; this endpoint takes {}", names.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(q: &str, e: Endpoint) -> Filters {
        parse(Some(q), e).unwrap_or_else(|err| panic!("{q}: {err}"))
    }

    fn err(q: &str, e: Endpoint) -> String {
        match parse(Some(q), e) {
            Ok(f) => panic!("{q} was accepted: {f:?}"),
            Err(TaxiiError::BadRequest(m)) => m,
            Err(other) => panic!("{q}: not a 400: {other:?}"),
        }
    }

    const ID: &str = "indicator--c410e480-e42b-47d1-9476-85307c12bcbf";

    #[test]
    fn defaults() {
        let f = ok("", Endpoint::Objects);
        assert_eq!(f, Filters::default());
        assert_eq!(f.versions, VersionFilter::default());
        assert_eq!(parse(None, Endpoint::Plain).unwrap(), Filters::default());
    }

    #[test]
    fn every_filter() {
        let f = ok(
            &format!(
                "added_after=2016-01-01T01:01:01.123456Z&limit=10&next=abc_-&match%5Bid%5D={ID}&match[type]=indicator,malware&match[version]=first,2018-03-02T01:01:01.123Z,last&match[spec_version]=2.0,2.1"
            ),
            Endpoint::Objects,
        );
        assert_eq!(
            f.added_after,
            Some(Timestamp::parse("2016-01-01T01:01:01.123456Z").unwrap())
        );
        assert_eq!(f.limit, Some(10));
        assert_eq!(f.next.as_deref(), Some("abc_-"));
        assert_eq!(f.ids, [ID]);
        assert_eq!(f.types, ["indicator", "malware"]);
        assert_eq!(
            f.versions,
            VersionFilter::Select {
                first: true,
                last: true,
                at: vec![Timestamp::parse("2018-03-02T01:01:01.123Z").unwrap()]
            }
        );
        assert_eq!(f.spec_versions, ["2.0", "2.1"]);
        assert_eq!(
            ok("match[version]=all", Endpoint::Objects).versions,
            VersionFilter::All
        );
        assert_eq!(
            ok("match[version]=first", Endpoint::Object).versions,
            VersionFilter::Select {
                first: true,
                last: false,
                at: vec![]
            }
        );
    }

    #[test]
    fn limits() {
        assert!(err("limit=0", Endpoint::Objects).contains("greater than zero"));
        assert!(err("limit=-1", Endpoint::Objects).contains("positive integer"));
        assert!(err("limit=%2B5", Endpoint::Objects).contains("positive integer"));
        assert!(err("limit=ten", Endpoint::Objects).contains("positive integer"));
        assert!(err("limit=1.5", Endpoint::Objects).contains("positive integer"));
        assert!(
            err("limit=99999999999999999999999", Endpoint::Objects).contains("positive integer")
        );
        assert!(err("limit=9007199254740992", Endpoint::Objects).contains("positive integer"));
        let f = ok("limit=9007199254740991", Endpoint::Objects);
        assert_eq!(f.limit, Some(9_007_199_254_740_991));
        assert!(err("limit=", Endpoint::Objects).contains("no value"));
    }

    #[test]
    fn timestamps() {
        for bad in [
            "2016-01-01",
            "2016-01-01T01:01:01+01:00",
            "2016-13-01T01:01:01Z",
            "yesterday",
            "2016-01-01T01:01:01.Z",
        ] {
            assert!(err(&format!("added_after={bad}"), Endpoint::Objects).contains("added_after"));
            assert!(
                err(&format!("match[version]={bad}"), Endpoint::Objects).contains("match[version]")
            );
        }
        // Precision is the client's choice.
        ok("added_after=2016-01-01T01:01:01Z", Endpoint::Objects);
    }

    #[test]
    fn repeated_and_unknown_parameters() {
        assert!(err("limit=1&limit=2", Endpoint::Objects).contains("more than once"));
        assert!(
            err(
                "match[type]=indicator&match%5Btype%5D=malware",
                Endpoint::Objects
            )
            .contains("more than once")
        );
        assert!(err("added-after=2016-01-01T01:01:01Z", Endpoint::Objects).contains("unknown"));
        assert!(err("foo", Endpoint::Plain).contains("takes no query parameters"));
        // Unknown match fields are ignored (§3.4).
        assert_eq!(
            ok("match[x_color]=blue", Endpoint::Objects),
            Filters::default()
        );
        // Parameters an endpoint does not take.
        assert!(err("match[type]=indicator", Endpoint::Object).contains("does not take"));
        assert!(err("match[id]=x", Endpoint::Versions).contains("does not take"));
        assert!(err("limit=1", Endpoint::DeleteObject).contains("does not take"));
        assert!(err("match[version]=all", Endpoint::Versions).contains("does not take"));
        ok(
            "match[version]=all&match[spec_version]=2.1",
            Endpoint::DeleteObject,
        );
    }

    #[test]
    fn version_lists() {
        assert!(err("match[version]=last,last", Endpoint::Objects).contains("more than once"));
        assert!(
            err(
                "match[version]=2016-01-01T01:01:01Z,2016-01-01T01:01:01.000Z",
                Endpoint::Objects
            )
            .contains("more than once")
        );
        assert!(err("match[version]=all,first", Endpoint::Objects).contains("cannot be combined"));
        assert!(err("match[version]=first,,last", Endpoint::Objects).contains("empty value"));
        assert!(err("match[version]=first,%20last", Endpoint::Objects).contains("match[version]"));
        assert!(err("match[version]=newest", Endpoint::Objects).contains("match[version]"));
    }

    #[test]
    fn ids_and_types() {
        for bad in [
            "../../etc/passwd",
            "indicator--c410e480-e42b-47d1-9476-85307c12bcbf/..",
            "indicator%2F--c410e480-e42b-47d1-9476-85307c12bcbf",
            "Indicator--c410e480-e42b-47d1-9476-85307c12bcbf",
            "indicator--not-a-uuid",
            "indicator",
        ] {
            assert!(
                err(&format!("match[id]={bad}"), Endpoint::Objects)
                    .contains("not a STIX identifier"),
                "{bad}"
            );
        }
        for bad in ["Indicator", "x/y", "a", "in dicator", "indicator%00"] {
            assert!(
                err(&format!("match[type]={bad}"), Endpoint::Objects)
                    .contains("not an object type"),
                "{bad}"
            );
        }
        assert!(err("match[spec_version]=2", Endpoint::Objects).contains("spec_version"));
        assert!(err("match[spec_version]=v2.1", Endpoint::Objects).contains("spec_version"));
        assert!(check_object_id("object id", ID).is_ok());
        assert!(check_object_id("object id", "x--c410e480-e42b-47d1-9476-85307c12bcbf").is_err());
    }

    #[test]
    fn encodings() {
        assert!(err("limit=%G1", Endpoint::Objects).contains("percent-escape"));
        assert!(err("limit=%1", Endpoint::Objects).contains("percent-escape"));
        assert!(err("match[type]=%FF%FE", Endpoint::Objects).contains("UTF-8"));
        assert!(err("next=a%0Ab", Endpoint::Objects).contains("not a value this server gave"));
        let long = "a".repeat(600);
        assert!(err(&format!("next={long}"), Endpoint::Objects).contains("not a value"));
        let many = vec!["indicator"; 1001].join(",");
        assert!(err(&format!("match[type]={many}"), Endpoint::Objects).contains("at most"));
    }

    #[test]
    fn quoting_is_bounded_and_escaped() {
        assert_eq!(quoted("a\nb"), "'a\\nb'");
        assert!(quoted(&"x".repeat(500)).chars().count() < 90);
    }
}
