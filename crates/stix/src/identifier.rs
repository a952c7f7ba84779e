//! STIX identifiers, `<object-type>--<UUID>`.

use std::fmt;

use uuid::Uuid;

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
        let (object_type, rest) = split(s).ok_or(IdentifierError::Form)?;
        if object_type.is_empty() {
            return Err(IdentifierError::Form);
        }
        // 36 bytes is the hyphenated form only (the uuid crate also reads the simple,
        // braced and URN forms, which have other lengths).
        if rest.len() != 36 {
            return Err(IdentifierError::Uuid);
        }
        let uuid = Uuid::try_parse_ascii(rest.as_bytes()).map_err(|_| IdentifierError::Uuid)?;
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
    split(id).map(|(object_type, _)| object_type)
}

/// The parts before and after the first `--`. Types may not contain "--", so the first
/// separator is the one. A byte scan: ids are short, and `str::find` sets up a
/// substring searcher per call, which cost more than the rest of the parse.
fn split(id: &str) -> Option<(&str, &str)> {
    let at = id.as_bytes().windows(2).position(|pair| pair == b"--")?;
    // `-` is ASCII, so both sides of it are on character boundaries.
    Some((id.get(..at)?, id.get(at + 2..)?))
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
