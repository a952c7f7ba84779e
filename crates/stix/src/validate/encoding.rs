//! Syntax of encoded strings: base64, hex and RFC 3986 URIs.

/// Whether `s` is padded base64 (RFC 4648 §4), as the STIX `binary` type requires.
pub fn is_base64(s: &str) -> bool {
    let b = s.as_bytes();
    if b.is_empty() || !b.len().is_multiple_of(4) {
        return false;
    }
    let padding = b.iter().rev().take_while(|&&c| c == b'=').count();
    if padding > 2 {
        return false;
    }
    b[..b.len() - padding]
        .iter()
        .all(|&c| c.is_ascii_alphanumeric() || c == b'+' || c == b'/')
}

/// Whether `s` is hexadecimal with an even number of digits.
pub fn is_hex(s: &str) -> bool {
    !s.is_empty() && s.len().is_multiple_of(2) && s.bytes().all(|c| c.is_ascii_hexdigit())
}

/// Byte classes of RFC 3986, as a table: most URIs in STIX are checked once
/// per external reference, so this is on the validation hot path.
const UNRESERVED: u8 = 1;
const SUB_DELIM: u8 = 2;

const fn uri_classes() -> [u8; 256] {
    let mut table = [0u8; 256];
    let mut c = 0;
    while c < 256 {
        let b = c as u8;
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            table[c] = UNRESERVED;
        } else if matches!(
            b,
            b'!' | b'$' | b'&' | b'\'' | b'(' | b')' | b'*' | b'+' | b',' | b';' | b'='
        ) {
            table[c] = SUB_DELIM;
        }
        c += 1;
    }
    table
}

static URI_CLASSES: [u8; 256] = uri_classes();

fn is_unreserved(c: u8) -> bool {
    URI_CLASSES[usize::from(c)] == UNRESERVED
}

fn is_sub_delim(c: u8) -> bool {
    URI_CLASSES[usize::from(c)] == SUB_DELIM
}

/// Whether every byte is allowed by `extra` or is unreserved, a sub-delimiter
/// or part of a valid percent-encoding.
fn all_pchars(s: &[u8], extra: &[u8]) -> bool {
    let mut i = 0;
    while i < s.len() {
        let c = s[i];
        if c == b'%' {
            if !(i + 2 < s.len() && s[i + 1].is_ascii_hexdigit() && s[i + 2].is_ascii_hexdigit()) {
                return false;
            }
            i += 3;
            continue;
        }
        if URI_CLASSES[usize::from(c)] == 0 && !extra.contains(&c) {
            return false;
        }
        i += 1;
    }
    true
}

fn is_valid_authority(a: &[u8]) -> bool {
    let (userinfo, hostport) = match a.iter().rposition(|&c| c == b'@') {
        Some(at) => (&a[..at], &a[at + 1..]),
        None => (&a[..0], a),
    };
    if !all_pchars(userinfo, b":") {
        return false;
    }
    let (host, port) = if hostport.first() == Some(&b'[') {
        let Some(close) = hostport.iter().position(|&c| c == b']') else {
            return false;
        };
        let literal = &hostport[1..close];
        if literal.is_empty()
            || !literal.iter().all(|&c| {
                c.is_ascii_hexdigit()
                    || matches!(c, b':' | b'.')
                    || is_unreserved(c)
                    || is_sub_delim(c)
            })
        {
            return false;
        }
        match &hostport[close + 1..] {
            [] => (&hostport[..0], &hostport[..0]),
            [b':', port @ ..] => (&hostport[..0], port),
            _ => return false,
        }
    } else {
        match hostport.iter().rposition(|&c| c == b':') {
            Some(colon) => (&hostport[..colon], &hostport[colon + 1..]),
            None => (hostport, &hostport[..0]),
        }
    };
    all_pchars(host, b"") && port.iter().all(u8::is_ascii_digit)
}

/// Whether `s` is a URI by RFC 3986 §3: `scheme ":" hier-part [ "?" query ] [ "#" fragment ]`.
pub fn is_uri(s: &str) -> bool {
    let b = s.as_bytes();
    let Some(colon) = b.iter().position(|&c| c == b':') else {
        return false;
    };
    let scheme = &b[..colon];
    let scheme_ok = scheme.first().is_some_and(u8::is_ascii_alphabetic)
        && scheme
            .iter()
            .all(|&c| c.is_ascii_alphanumeric() || matches!(c, b'+' | b'-' | b'.'));
    if !scheme_ok {
        return false;
    }
    let rest = &b[colon + 1..];
    let (before_fragment, fragment) = match rest.iter().position(|&c| c == b'#') {
        Some(h) => (&rest[..h], &rest[h + 1..]),
        None => (rest, &rest[..0]),
    };
    let (hier, query) = match before_fragment.iter().position(|&c| c == b'?') {
        Some(q) => (&before_fragment[..q], &before_fragment[q + 1..]),
        None => (before_fragment, &before_fragment[..0]),
    };
    if !all_pchars(fragment, b":@/?") || !all_pchars(query, b":@/?") {
        return false;
    }
    let path = if let Some(after) = hier.strip_prefix(b"//") {
        let end = after.iter().position(|&c| c == b'/').unwrap_or(after.len());
        if !is_valid_authority(&after[..end]) {
            return false;
        }
        &after[end..]
    } else {
        hier
    };
    all_pchars(path, b":@/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_and_hex() {
        assert!(is_base64("aGVsbG8="));
        assert!(is_base64("aGVsbG8h"));
        assert!(!is_base64("aGVsbG8"));
        assert!(!is_base64("aGV=bG8="));
        assert!(!is_base64(""));
        assert!(is_hex("00ff"));
        assert!(!is_hex("0ff"));
        assert!(!is_hex("zz"));
    }

    #[test]
    fn uris() {
        for ok in [
            "https://attack.mitre.org/techniques/T0800",
            "http://[2001:db8::1]:8080/a?b=c#d",
            "mailto:someone@example.com",
            "urn:isbn:0451450523",
            "http://example.com/%C3%A9",
            "ftp://user:pw@example.com:21/",
        ] {
            assert!(is_uri(ok), "{ok}");
        }
        for bad in [
            " https://pentera.io/blog/dhcp-spoofing-101",
            "www.hotansft.top",
            "igfxtray.exe",
            "http://exa mple.com/",
            "http://example.com/%zz",
            "1http://example.com",
            "http://example.com:80a/",
        ] {
            assert!(!is_uri(bad), "{bad}");
        }
    }
}
