//! TLP levels (FIRST TLP 2.0) and the standard TLP marking-definition objects:
//! the TLP 2.0 ones of the OASIS extension-definition
//! `extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d` and the
//! TLP 1.0 ones of STIX 2.1 §7.2.1.4.

use std::fmt;
use std::str::FromStr;

use crate::json::{Map, Value};

/// A Traffic Light Protocol 2.0 level, ordered from least to most restrictive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Tlp {
    /// TLP:CLEAR, disclosure is not limited (TLP 1.0 WHITE).
    Clear,
    /// TLP:GREEN, limited to the community.
    Green,
    /// TLP:AMBER, limited to the recipient's organisation and its clients.
    Amber,
    /// TLP:AMBER+STRICT, limited to the recipient's organisation only.
    AmberStrict,
    /// TLP:RED, for the eyes and ears of individual recipients only.
    Red,
}

impl Tlp {
    /// Every level, least restrictive first.
    pub const ALL: [Tlp; 5] = [
        Tlp::Clear,
        Tlp::Green,
        Tlp::Amber,
        Tlp::AmberStrict,
        Tlp::Red,
    ];

    /// The name as FIRST writes it, such as `TLP:AMBER+STRICT`.
    pub fn name(self) -> &'static str {
        self.marking().name
    }

    /// The value of the `tlp_2_0` extension property, such as `amber+strict`.
    pub fn tlp_2_0_value(self) -> &'static str {
        self.marking().tlp_value
    }

    /// The standard TLP 2.0 marking-definition of this level.
    pub fn marking(self) -> &'static TlpMarking {
        match self {
            Tlp::Clear => &TLP_CLEAR,
            Tlp::Green => &TLP_GREEN,
            Tlp::Amber => &TLP_AMBER,
            Tlp::AmberStrict => &TLP_AMBER_STRICT,
            Tlp::Red => &TLP_RED,
        }
    }

    /// The id of the standard TLP 2.0 marking-definition of this level.
    pub fn marking_id(self) -> &'static str {
        self.marking().id
    }
}

impl fmt::Display for Tlp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A string that names no TLP level.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a TLP level (TLP:CLEAR, TLP:GREEN, TLP:AMBER, TLP:AMBER+STRICT or TLP:RED)")]
pub struct ParseTlpError(pub String);

impl FromStr for Tlp {
    type Err = ParseTlpError;

    /// Parses the FIRST names (`TLP:AMBER+STRICT`). Configuration files are
    /// written by people, so case is ignored, the `TLP:` prefix is optional
    /// and TLP 1.0's WHITE is read as CLEAR, its TLP 2.0 equivalent.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let trimmed = s.trim();
        let bare = match trimmed.get(..4) {
            Some(prefix) if prefix.eq_ignore_ascii_case("tlp:") => &trimmed[4..],
            _ => trimmed,
        };
        let level = [
            ("clear", Tlp::Clear),
            ("white", Tlp::Clear),
            ("green", Tlp::Green),
            ("amber", Tlp::Amber),
            ("amber+strict", Tlp::AmberStrict),
            ("red", Tlp::Red),
        ]
        .into_iter()
        .find(|(name, _)| bare.eq_ignore_ascii_case(name))
        .map(|(_, level)| level);
        level.ok_or_else(|| ParseTlpError(s.to_owned()))
    }
}

/// Which TLP version a standard marking-definition expresses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TlpVersion {
    /// TLP 1.0: `definition_type` `tlp`, STIX 2.1 §7.2.1.4.
    V1,
    /// TLP 2.0: the OASIS `tlp_2_0` property extension.
    V2,
}

/// One of the standard TLP marking-definition objects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TlpMarking {
    /// The marking-definition id.
    pub id: &'static str,
    /// Its `name`, such as `TLP:WHITE` or `TLP:AMBER+STRICT`.
    pub name: &'static str,
    /// Its `created` timestamp.
    pub created: &'static str,
    /// The TLP version it belongs to.
    pub version: TlpVersion,
    /// The value of `definition.tlp` (1.0) or of the `tlp_2_0` extension property (2.0).
    pub tlp_value: &'static str,
    /// The TLP 2.0 level it stands for (TLP 1.0 WHITE maps to CLEAR).
    pub level: Tlp,
}

/// The extension-definition that the TLP 2.0 marking-definitions use.
pub const TLP_2_0_EXTENSION_ID: &str = "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d";

const fn v2(
    id: &'static str,
    name: &'static str,
    tlp_value: &'static str,
    level: Tlp,
) -> TlpMarking {
    TlpMarking {
        id,
        name,
        created: "2022-10-01T00:00:00.000Z",
        version: TlpVersion::V2,
        tlp_value,
        level,
    }
}

const fn v1(
    id: &'static str,
    name: &'static str,
    tlp_value: &'static str,
    level: Tlp,
) -> TlpMarking {
    TlpMarking {
        id,
        name,
        created: "2017-01-20T00:00:00.000Z",
        version: TlpVersion::V1,
        tlp_value,
        level,
    }
}

/// TLP 2.0 CLEAR.
pub const TLP_CLEAR: TlpMarking = v2(
    "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
    "TLP:CLEAR",
    "clear",
    Tlp::Clear,
);
/// TLP 2.0 GREEN.
pub const TLP_GREEN: TlpMarking = v2(
    "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
    "TLP:GREEN",
    "green",
    Tlp::Green,
);
/// TLP 2.0 AMBER.
pub const TLP_AMBER: TlpMarking = v2(
    "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
    "TLP:AMBER",
    "amber",
    Tlp::Amber,
);
/// TLP 2.0 AMBER+STRICT.
pub const TLP_AMBER_STRICT: TlpMarking = v2(
    "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
    "TLP:AMBER+STRICT",
    "amber+strict",
    Tlp::AmberStrict,
);
/// TLP 2.0 RED.
pub const TLP_RED: TlpMarking = v2(
    "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
    "TLP:RED",
    "red",
    Tlp::Red,
);

/// TLP 1.0 WHITE (STIX 2.1 §7.2.1.4), TLP 2.0 CLEAR.
pub const TLP1_WHITE: TlpMarking = v1(
    "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9",
    "TLP:WHITE",
    "white",
    Tlp::Clear,
);
/// TLP 1.0 GREEN (STIX 2.1 §7.2.1.4).
pub const TLP1_GREEN: TlpMarking = v1(
    "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da",
    "TLP:GREEN",
    "green",
    Tlp::Green,
);
/// TLP 1.0 AMBER (STIX 2.1 §7.2.1.4).
pub const TLP1_AMBER: TlpMarking = v1(
    "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82",
    "TLP:AMBER",
    "amber",
    Tlp::Amber,
);
/// TLP 1.0 RED (STIX 2.1 §7.2.1.4).
pub const TLP1_RED: TlpMarking = v1(
    "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed",
    "TLP:RED",
    "red",
    Tlp::Red,
);

/// The five TLP 2.0 marking-definitions, least restrictive first.
pub const TLP_2_0_MARKINGS: [TlpMarking; 5] =
    [TLP_CLEAR, TLP_GREEN, TLP_AMBER, TLP_AMBER_STRICT, TLP_RED];

/// The four TLP 1.0 marking-definitions, least restrictive first.
pub const TLP_1_0_MARKINGS: [TlpMarking; 4] = [TLP1_WHITE, TLP1_GREEN, TLP1_AMBER, TLP1_RED];

impl TlpMarking {
    /// The marking-definition object, with its properties in the order OASIS publishes them.
    pub fn to_value(&self) -> Value<'static> {
        let mut obj = Map::with_capacity(7);
        obj.insert("type", Value::from("marking-definition"));
        obj.insert("spec_version", Value::from("2.1"));
        obj.insert("id", Value::from(self.id));
        obj.insert("created", Value::from(self.created));
        match self.version {
            TlpVersion::V1 => {
                obj.insert("definition_type", Value::from("tlp"));
                obj.insert("name", Value::from(self.name));
                let mut definition = Map::with_capacity(1);
                definition.insert("tlp", Value::from(self.tlp_value));
                obj.insert("definition", Value::Object(definition));
            }
            TlpVersion::V2 => {
                obj.insert("name", Value::from(self.name));
                let mut extension = Map::with_capacity(2);
                extension.insert("extension_type", Value::from("property-extension"));
                extension.insert("tlp_2_0", Value::from(self.tlp_value));
                let mut extensions = Map::with_capacity(1);
                extensions.insert(TLP_2_0_EXTENSION_ID, Value::Object(extension));
                obj.insert("extensions", Value::Object(extensions));
            }
        }
        Value::Object(obj)
    }

    /// The TLP 2.0 marking-definition equivalent to this one (itself for TLP 2.0).
    pub fn to_tlp_2_0(&self) -> &'static TlpMarking {
        self.level.marking()
    }
}

/// The standard TLP marking-definition (1.0 or 2.0) with this id.
///
/// The UUID is compared without regard to case, as RFC 4122 asks.
pub fn standard_marking(id: &str) -> Option<&'static TlpMarking> {
    TLP_2_0_MARKINGS
        .iter()
        .chain(TLP_1_0_MARKINGS.iter())
        .find(|m| m.id.eq_ignore_ascii_case(id))
}

/// The TLP 2.0 level of a standard TLP marking-definition id (TLP 1.0 ids map to
/// their TLP 2.0 equivalent), or `None` for any other marking.
pub fn tlp_of_marking_id(id: &str) -> Option<Tlp> {
    standard_marking(id).map(|m| m.level)
}

/// The TLP level an object is marked with through `object_marking_refs`: the
/// most restrictive of its TLP markings, or `None` when it has none (the caller
/// then applies its default).
pub fn object_tlp(obj: &Map<'_>) -> Option<Tlp> {
    obj.get("object_marking_refs")
        .and_then(Value::as_array)?
        .iter()
        .filter_map(|r| r.as_str().and_then(tlp_of_marking_id))
        .max()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json;

    #[test]
    fn levels_are_ordered_by_restriction() {
        assert!(Tlp::Clear < Tlp::Green);
        assert!(Tlp::Green < Tlp::Amber);
        assert!(Tlp::Amber < Tlp::AmberStrict);
        assert!(Tlp::AmberStrict < Tlp::Red);
        let mut sorted = Tlp::ALL;
        sorted.sort();
        assert_eq!(sorted, Tlp::ALL);
    }

    #[test]
    fn names_round_trip() {
        for level in Tlp::ALL {
            assert_eq!(level.to_string().parse::<Tlp>(), Ok(level));
        }
        assert_eq!(Tlp::AmberStrict.to_string(), "TLP:AMBER+STRICT");
        assert_eq!("tlp:amber+strict".parse::<Tlp>(), Ok(Tlp::AmberStrict));
        assert_eq!("RED".parse::<Tlp>(), Ok(Tlp::Red));
        assert_eq!("TLP:WHITE".parse::<Tlp>(), Ok(Tlp::Clear));
        assert!("TLP:PURPLE".parse::<Tlp>().is_err());
        assert!("amber strict".parse::<Tlp>().is_err());
        assert!("".parse::<Tlp>().is_err());
    }

    fn same_json(built: &Value<'_>, published: &str) {
        let parsed = json::parse(published.as_bytes()).unwrap();
        assert_eq!(json::to_string(built), json::to_string(&parsed));
    }

    #[test]
    fn tlp_2_0_objects_match_the_oasis_examples() {
        // cti-stix-common-objects, extension-definition-specifications/tlp-2.0/examples/tlp-amber+strict.json
        same_json(
            &TLP_AMBER_STRICT.to_value(),
            r#"{"type": "marking-definition", "spec_version": "2.1",
                "id": "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
                "created": "2022-10-01T00:00:00.000Z", "name": "TLP:AMBER+STRICT",
                "extensions": {"extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d":
                    {"extension_type": "property-extension", "tlp_2_0": "amber+strict"}}}"#,
        );
        same_json(
            &TLP_CLEAR.to_value(),
            r#"{"type": "marking-definition", "spec_version": "2.1",
                "id": "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
                "created": "2022-10-01T00:00:00.000Z", "name": "TLP:CLEAR",
                "extensions": {"extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d":
                    {"extension_type": "property-extension", "tlp_2_0": "clear"}}}"#,
        );
    }

    #[test]
    fn tlp_1_0_objects_match_the_specification() {
        // STIX 2.1 §7.2.1.4, and oasis-examples/cti-documentation/using-marking-definitions.json
        same_json(
            &TLP1_AMBER.to_value(),
            r#"{"type": "marking-definition", "spec_version": "2.1",
                "id": "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82",
                "created": "2017-01-20T00:00:00.000Z", "definition_type": "tlp",
                "name": "TLP:AMBER", "definition": {"tlp": "amber"}}"#,
        );
    }

    #[test]
    fn standard_markings_have_valid_extensions() {
        // The marking-definition type's own checks belong to its module; here,
        // the extensions the TLP 2.0 objects carry must pass ours.
        for marking in TLP_2_0_MARKINGS.iter().chain(TLP_1_0_MARKINGS.iter()) {
            let errors: Vec<_> = crate::validate_object(&marking.to_value())
                .into_iter()
                .filter(|d| d.severity == crate::Severity::Error)
                .filter(|d| d.property.starts_with("extensions"))
                .collect();
            assert!(errors.is_empty(), "{}: {errors:?}", marking.name);
        }
    }

    #[test]
    fn ids_map_to_levels() {
        assert_eq!(tlp_of_marking_id(TLP1_WHITE.id), Some(Tlp::Clear));
        assert_eq!(TLP1_WHITE.to_tlp_2_0(), &TLP_CLEAR);
        assert_eq!(tlp_of_marking_id(TLP1_AMBER.id), Some(Tlp::Amber));
        assert_eq!(
            tlp_of_marking_id(TLP_AMBER_STRICT.id),
            Some(Tlp::AmberStrict)
        );
        assert_eq!(
            tlp_of_marking_id("marking-definition--E828B379-4E03-4974-9AC4-E53A884C97C1"),
            Some(Tlp::Red)
        );
        assert_eq!(
            tlp_of_marking_id("marking-definition--d81f86b9-975b-4c0b-875e-810c5ad45a4f"),
            None
        );
        for level in Tlp::ALL {
            assert_eq!(tlp_of_marking_id(level.marking_id()), Some(level));
            assert_eq!(level.marking().level, level);
        }
    }

    #[test]
    fn object_tlp_takes_the_most_restrictive() {
        let doc = format!(
            r#"{{"object_marking_refs": ["{}", "marking-definition--d81f86b9-975b-4c0b-875e-810c5ad45a4f", "{}", "{}"]}}"#,
            TLP1_GREEN.id, TLP_AMBER_STRICT.id, TLP_CLEAR.id
        );
        let v = json::parse(doc.as_bytes()).unwrap();
        assert_eq!(object_tlp(v.as_object().unwrap()), Some(Tlp::AmberStrict));
        let v = json::parse(br#"{"object_marking_refs": ["marking-definition--d81f86b9-975b-4c0b-875e-810c5ad45a4f"]}"#).unwrap();
        assert_eq!(object_tlp(v.as_object().unwrap()), None);
        let v = json::parse(br#"{"name": "unmarked"}"#).unwrap();
        assert_eq!(object_tlp(v.as_object().unwrap()), None);
    }
}
