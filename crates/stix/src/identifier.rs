//! STIX identifiers, `<object-type>--<UUID>`.

use std::fmt;

use uuid::Uuid;

const INVALID_HEX: u8 = 0xff;

/// The value of each hex digit, `INVALID_HEX` for other bytes.
static HEX_VALUES: [u8; 256] = {
    let mut table = [INVALID_HEX; 256];
    let mut i = 0;
    while i < 10 {
        table[b'0' as usize + i] = i as u8;
        i += 1;
    }
    let mut i = 0;
    while i < 6 {
        table[b'a' as usize + i] = 10 + i as u8;
        table[b'A' as usize + i] = 10 + i as u8;
        i += 1;
    }
    table
};

/// A syntactically valid STIX identifier, borrowed from its source.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Identifier<'a> {
    /// The object type before `--`.
    pub object_type: &'a str,
    /// The UUID after `--`.
    pub uuid: Uuid,
}

/// Why a string is not a STIX identifier.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdentifierError {
    /// No `--` separator.
    #[error("is not of the form <object-type>--<UUID>")]
    Form,
    /// The part after `--` is not a hyphenated lowercase UUID.
    #[error("the part after '--' is not a hyphenated UUID")]
    Uuid,
    /// The UUID is not an RFC 4122 (variant 1) UUID.
    #[error("the UUID is not an RFC 4122 UUID (wrong variant)")]
    Variant,
}

impl<'a> Identifier<'a> {
    /// Parses `<object-type>--<UUID>`.
    ///
    /// The type part is not checked here (see [`crate::validate`]); the UUID must be
    /// written hyphenated and be of the RFC 4122 variant. Upper-case hex digits are
    /// accepted, as RFC 4122 and the STIX JSON schemas accept them.
    pub fn parse(s: &'a str) -> Result<Identifier<'a>, IdentifierError> {
        // Types may not contain "--", so the first separator is the one.
        let split = s.find("--").ok_or(IdentifierError::Form)?;
        let (object_type, rest) = (&s[..split], &s[split + 2..]);
        if object_type.is_empty() {
            return Err(IdentifierError::Form);
        }
        let b = rest.as_bytes();
        if b.len() != 36 {
            return Err(IdentifierError::Uuid);
        }
        // One pass that checks the hyphenated form and decodes the bytes.
        let mut bytes = [0u8; 16];
        let mut nibble = 0usize;
        for (i, &c) in b.iter().enumerate() {
            if matches!(i, 8 | 13 | 18 | 23) {
                if c != b'-' {
                    return Err(IdentifierError::Uuid);
                }
                continue;
            }
            let value = HEX_VALUES[usize::from(c)];
            if value == INVALID_HEX {
                return Err(IdentifierError::Uuid);
            }
            bytes[nibble / 2] |= value << (4 * (1 - nibble % 2));
            nibble += 1;
        }
        let uuid = Uuid::from_bytes(bytes);
        if uuid.get_variant() != uuid::Variant::RFC4122 {
            return Err(IdentifierError::Variant);
        }
        Ok(Identifier { object_type, uuid })
    }

    /// The UUID version number (1–8), or 0 for the nil UUID.
    pub fn uuid_version(&self) -> usize {
        self.uuid.get_version_num()
    }
}

impl fmt::Display for Identifier<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}--{}", self.object_type, self.uuid.hyphenated())
    }
}

/// The object type of an identifier-shaped string, without checking the UUID.
pub fn type_of(id: &str) -> Option<&str> {
    id.find("--").map(|i| &id[..i])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_valid_ids() {
        let id = Identifier::parse("indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f").unwrap();
        assert_eq!(id.object_type, "indicator");
        assert_eq!(id.uuid_version(), 4);
        assert_eq!(
            id.to_string(),
            "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"
        );
    }

    #[test]
    fn rejects_bad_ids() {
        use IdentifierError::*;
        assert_eq!(
            Identifier::parse("indicator-8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"),
            Err(Form)
        );
        assert!(Identifier::parse("indicator--8E2E2D2B-17d4-4cbf-938f-98ee46b3cd3f").is_ok());
        assert_eq!(
            Identifier::parse("indicator--8e2e2d2g-17d4-4cbf-938f-98ee46b3cd3f"),
            Err(Uuid)
        );
        assert_eq!(
            Identifier::parse("indicator--8e2e2d2b17d44cbf938f98ee46b3cd3f"),
            Err(Uuid)
        );
        assert_eq!(
            Identifier::parse("indicator--8e2e2d2b-17d4-4cbf-c38f-98ee46b3cd3f"),
            Err(Variant)
        );
        assert_eq!(
            Identifier::parse("--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"),
            Err(Form)
        );
    }
}
