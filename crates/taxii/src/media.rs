//! Content negotiation (TAXII 2.1 §1.6.8, §3.1): the `Accept` header of every
//! request and the `Content-Type` of a POST, parsed as RFC 7231 media types
//! (case-insensitive type, subtype and parameter names; quoted values; `q`).
//!
//! Every response is `application/taxii+json;version=2.1`. A request must send
//! an `Accept` header (§3.1: "All TAXII requests MUST include a media range in
//! the Accept header") under which that type is acceptable, else 406; a POST
//! body must be `application/taxii+json` of version 2.1, else 415.

use crate::error::TaxiiError;

/// What an endpoint lets a client name in `Accept`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Accepts {
    /// Only the TAXII media type (discovery, API root, status, collections, versions).
    Taxii,
    /// The TAXII media type or the STIX 2.1 one: the manifest endpoint lists
    /// both (§5.3), and the object endpoints, whose envelopes carry STIX
    /// content, take the STIX one too. The response is TAXII either way.
    TaxiiOrStix,
}

/// One media type or media range with its parameters, names lowercased.
#[derive(Debug, Clone, PartialEq, Eq)]
struct MediaRange {
    kind: String,
    subtype: String,
    params: Vec<(String, String)>,
    /// Quality in thousandths (RFC 7231 §5.3.1), 1000 when absent.
    quality: u16,
}

fn is_tchar(c: char) -> bool {
    c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c)
}

fn token(s: &str) -> Option<&str> {
    (!s.is_empty() && s.chars().all(is_tchar)).then_some(s)
}

/// A parameter value: a token or a quoted string with its escapes removed.
fn param_value(s: &str) -> Option<String> {
    if let Some(inner) = s.strip_prefix('"') {
        let inner = inner.strip_suffix('"')?;
        let mut out = String::with_capacity(inner.len());
        let mut chars = inner.chars();
        while let Some(c) = chars.next() {
            match c {
                '\\' => out.push(chars.next()?),
                '"' => return None,
                c if c == '\t' || (' '..='~').contains(&c) => out.push(c),
                _ => return None,
            }
        }
        Some(out)
    } else {
        token(s).map(str::to_owned)
    }
}

/// Splits on `sep` outside quoted strings.
fn split_outside_quotes(s: &str, sep: char) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut start = 0;
    let mut in_quotes = false;
    let mut escaped = false;
    for (i, c) in s.char_indices() {
        if escaped {
            escaped = false;
            continue;
        }
        match c {
            '\\' if in_quotes => escaped = true,
            '"' => in_quotes = !in_quotes,
            c if c == sep && !in_quotes => {
                parts.push(&s[start..i]);
                start = i + c.len_utf8();
            }
            _ => {}
        }
    }
    parts.push(&s[start..]);
    parts
}

/// Parses `type/subtype *( OWS ";" OWS name=value )`. With `allow_quality`,
/// a `q` parameter ends the media-type parameters and gives the weight; the
/// accept-extensions after it are ignored.
fn parse_range(s: &str, allow_quality: bool) -> Option<MediaRange> {
    let mut pieces = split_outside_quotes(s, ';').into_iter();
    let essence = pieces.next()?.trim_matches([' ', '\t']);
    let (kind, subtype) = essence.split_once('/')?;
    let kind = token(kind)?.to_ascii_lowercase();
    let subtype = token(subtype)?.to_ascii_lowercase();
    let mut params = Vec::new();
    let mut quality = 1000;
    for piece in pieces {
        let piece = piece.trim_matches([' ', '\t']);
        let (name, value) = piece.split_once('=')?;
        let name = token(name)?.to_ascii_lowercase();
        let value = param_value(value)?;
        if allow_quality && name == "q" {
            quality = parse_quality(&value)?;
            break;
        }
        params.push((name, value));
    }
    Some(MediaRange {
        kind,
        subtype,
        params,
        quality,
    })
}

/// `qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] )`.
fn parse_quality(s: &str) -> Option<u16> {
    let (whole, frac) = s.split_once('.').unwrap_or((s, ""));
    if frac.len() > 3 || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let thousandths = format!("{frac:0<3}").parse::<u16>().ok()?;
    match whole {
        "0" => Some(thousandths),
        "1" if thousandths == 0 => Some(1000),
        _ => None,
    }
}

/// A media type we can produce or consume: `application/<subtype>;version=2.1`.
struct Offer {
    subtype: &'static str,
}

impl Offer {
    /// How specifically `range` names this offer (higher is more specific), or
    /// `None` if it does not match it.
    fn specificity(&self, range: &MediaRange) -> Option<usize> {
        if range.kind == "*" {
            return (range.subtype == "*" && range.params.is_empty()).then_some(0);
        }
        if range.kind != "application" {
            return None;
        }
        if range.subtype == "*" {
            return range.params.is_empty().then_some(1);
        }
        if range.subtype != self.subtype {
            return None;
        }
        for (name, value) in &range.params {
            let matches = match name.as_str() {
                "version" => value == "2.1",
                // JSON is UTF-8 (RFC 8259 §8.1).
                "charset" => value.eq_ignore_ascii_case("utf-8"),
                _ => false,
            };
            if !matches {
                return None;
            }
        }
        Some(2 + range.params.len())
    }
}

const TAXII: Offer = Offer {
    subtype: "taxii+json",
};
const STIX: Offer = Offer {
    subtype: "stix+json",
};

/// Checks a request's `Accept` header; `Ok` when a TAXII 2.1 response is acceptable.
pub fn check_accept(accept: Option<&[u8]>, endpoint: Accepts) -> Result<(), TaxiiError> {
    let Some(raw) = accept else {
        return Err(TaxiiError::NotAcceptable(format!(
            "the request has no Accept header; TAXII 2.1 requests must accept {}",
            crate::resources::TAXII_MEDIA_TYPE
        )));
    };
    let text = std::str::from_utf8(raw)
        .map_err(|_| TaxiiError::NotAcceptable("the Accept header is not text".into()))?;
    let mut ranges = Vec::new();
    for item in split_outside_quotes(text, ',') {
        if item.trim_matches([' ', '\t']).is_empty() {
            continue; // RFC 7230 §7: empty list elements are allowed
        }
        let range = parse_range(item, true).ok_or_else(|| {
            TaxiiError::NotAcceptable(format!(
                "the Accept header has a malformed media range: '{}'",
                item.trim()
            ))
        })?;
        ranges.push(range);
    }
    let offers: &[Offer] = match endpoint {
        Accepts::Taxii => &[TAXII],
        Accepts::TaxiiOrStix => &[TAXII, STIX],
    };
    // RFC 7231 §5.3.2: the most specific range that matches an offer gives its quality.
    let acceptable = offers.iter().any(|offer| {
        ranges
            .iter()
            .filter_map(|r| offer.specificity(r).map(|s| (s, r.quality)))
            .max_by_key(|&(s, _)| s)
            .is_some_and(|(_, q)| q > 0)
    });
    if acceptable {
        Ok(())
    } else {
        Err(TaxiiError::NotAcceptable(format!(
            "this server answers only with {}, which the Accept header '{}' does not allow",
            crate::resources::TAXII_MEDIA_TYPE,
            text
        )))
    }
}

/// Checks the `Accept` header fields of a request; several fields count as
/// one comma-separated list (RFC 7230 §3.2.2).
pub fn check_accept_headers(
    headers: &axum::http::HeaderMap,
    endpoint: Accepts,
) -> Result<(), TaxiiError> {
    let mut values = headers.get_all(axum::http::header::ACCEPT).iter();
    match (values.next(), values.next()) {
        (None, _) => check_accept(None, endpoint),
        (Some(only), None) => check_accept(Some(only.as_bytes()), endpoint),
        (Some(first), Some(second)) => {
            let mut joined = [first.as_bytes(), second.as_bytes()].join(&b","[..]);
            for more in values {
                joined.push(b',');
                joined.extend_from_slice(more.as_bytes());
            }
            check_accept(Some(&joined), endpoint)
        }
    }
}

/// Checks the `Content-Type` of a POST: `application/taxii+json` with version
/// 2.1 (or no version, meaning the latest, §1.6.8.2), charset UTF-8 if given.
pub fn check_content_type(content_type: Option<&[u8]>) -> Result<(), TaxiiError> {
    let expected = crate::resources::TAXII_MEDIA_TYPE;
    let Some(raw) = content_type else {
        return Err(TaxiiError::UnsupportedMediaType(format!(
            "the request has no Content-Type header; send the envelope as {expected}"
        )));
    };
    let text = std::str::from_utf8(raw).unwrap_or("");
    let ok = parse_range(text, false).is_some_and(|range| {
        range.kind == "application"
            && range.subtype == TAXII.subtype
            && TAXII.specificity(&range).is_some()
    });
    if ok {
        Ok(())
    } else {
        Err(TaxiiError::UnsupportedMediaType(format!(
            "cannot accept a body of type '{}'; send the envelope as {expected}",
            text.trim()
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn accept(s: &str, e: Accepts) -> bool {
        check_accept(Some(s.as_bytes()), e).is_ok()
    }

    #[test]
    fn accepts_taxii_21_in_its_forms() {
        for s in [
            "application/taxii+json;version=2.1",
            "application/taxii+json",
            "Application/TAXII+JSON; Version=2.1",
            "application/taxii+json ; version=\"2.1\"",
            "application/taxii+json;version=2.1;charset=utf-8",
            "application/json, application/taxii+json;version=2.1;q=0.5",
            "*/*",
            "application/*",
            "text/html, */*;q=0.1",
            "application/taxii+json;version=2.1;q=1.000",
            "application/taxii+json;version=2.1,",
        ] {
            assert!(accept(s, Accepts::Taxii), "{s}");
        }
    }

    #[test]
    fn refuses_what_is_not_taxii_21() {
        for s in [
            "",
            "application/json",
            "application/taxii+json;version=2.0",
            "application/vnd.oasis.taxii+json; version=2.0",
            "application/taxii+json;version=2.1;q=0",
            "application/taxii+json;version=2.1;charset=latin1",
            "application/taxii+json;version=2.1;profile=x",
            "application/stix+json;version=2.1",
            "*/*;q=0",
            // the most specific range wins: taxii is explicitly refused
            "*/*, application/taxii+json;q=0",
            "text/*",
        ] {
            assert!(!accept(s, Accepts::Taxii), "{s}");
        }
        assert!(check_accept(None, Accepts::Taxii).is_err());
        assert!(check_accept(Some(b"\xff"), Accepts::Taxii).is_err());
    }

    #[test]
    fn malformed_accept_is_406() {
        for s in [
            "application",
            "application/taxii+json;version",
            "application/taxii+json;q=2",
            "application/taxii+json;q=0.1234",
            "application/taxii+json;version=\"2.1",
            "app lication/taxii+json",
        ] {
            let e = check_accept(Some(s.as_bytes()), Accepts::Taxii).unwrap_err();
            assert_eq!(e.status().as_u16(), 406, "{s}");
        }
    }

    #[test]
    fn stix_media_type_where_allowed() {
        assert!(accept(
            "application/stix+json;version=2.1",
            Accepts::TaxiiOrStix
        ));
        assert!(accept(
            "application/taxii+json;version=2.1,application/stix+json;version=2.1",
            Accepts::TaxiiOrStix
        ));
        assert!(!accept(
            "application/stix+json;version=2.0",
            Accepts::TaxiiOrStix
        ));
    }

    #[test]
    fn content_type_rules() {
        let ok = |s: &str| check_content_type(Some(s.as_bytes())).is_ok();
        assert!(ok("application/taxii+json;version=2.1"));
        assert!(ok("application/taxii+json"));
        assert!(ok("application/TAXII+json; version=2.1; charset=UTF-8"));
        assert!(!ok("application/json"));
        assert!(!ok("application/stix+json;version=2.1"));
        assert!(!ok("application/taxii+json;version=2.0"));
        assert!(!ok("application/taxii+json;version=2.1;charset=utf-16"));
        assert!(!ok("*/*"));
        assert!(!ok("application/*"));
        assert!(!ok("application/taxii+json, application/json"));
        assert!(!ok(""));
        let e = check_content_type(None).unwrap_err();
        assert_eq!(e.status().as_u16(), 415);
    }
}
