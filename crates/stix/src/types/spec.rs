//! The shape of a STIX type, as data: its properties, their kinds, which are
//! required, what a reference may point to, and the type's own rules.
//!
//! One table serves validation, the patterning language's object-path checks
//! and deterministic SCO identifiers, so a property is described once.

use crate::json::Map;
use crate::validate::Ctx;

/// The family a STIX type belongs to; it decides the common properties.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Category {
    /// STIX Domain Object.
    Sdo,
    /// STIX Relationship Object.
    Sro,
    /// STIX Cyber-observable Object.
    Sco,
    /// Meta object: marking-definition, language-content, extension-definition.
    Meta,
}

impl Category {
    /// The bit for this category in [`Targets::classes`].
    pub const fn bit(self) -> u8 {
        match self {
            Category::Sdo => Targets::SDO,
            Category::Sro => Targets::SRO,
            Category::Sco => Targets::SCO,
            Category::Meta => Targets::META,
        }
    }
}

/// What an identifier property may point to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Targets {
    /// These exact object types.
    pub types: &'static [&'static str],
    /// Or any type of these categories (bits [`Targets::SDO`] …, [`Targets::CUSTOM`]).
    pub classes: u8,
}

impl Targets {
    /// Any SDO.
    pub const SDO: u8 = 1;
    /// Any SRO.
    pub const SRO: u8 = 2;
    /// Any SCO.
    pub const SCO: u8 = 4;
    /// Any meta object.
    pub const META: u8 = 8;
    /// Any type this crate does not know (custom objects).
    pub const CUSTOM: u8 = 16;
    /// Anything at all.
    pub const ANY: Targets = Targets {
        types: &[],
        classes: 0xff,
    };

    /// Exactly these types.
    pub const fn only(types: &'static [&'static str]) -> Targets {
        Targets { types, classes: 0 }
    }

    /// Any type of these categories.
    pub const fn classes(classes: u8) -> Targets {
        Targets {
            types: &[],
            classes,
        }
    }
}

/// The kind of value a property holds.
#[derive(Debug, Clone, Copy)]
pub enum PropKind {
    /// A string.
    String,
    /// A boolean.
    Boolean,
    /// An integer in `min..=max`.
    Integer {
        /// Smallest allowed value.
        min: i64,
        /// Largest allowed value.
        max: i64,
    },
    /// A finite number in `min..=max`.
    Float {
        /// Smallest allowed value.
        min: f64,
        /// Largest allowed value.
        max: f64,
    },
    /// A STIX timestamp.
    Timestamp,
    /// Base64-encoded binary.
    Binary,
    /// Hexadecimal-encoded binary.
    Hex,
    /// A URL (RFC 3986).
    Url,
    /// An identifier of an object of the given types.
    Ref(Targets),
    /// A non-empty list of identifiers of objects of the given types.
    RefList(Targets),
    /// A non-empty list of strings.
    StringList,
    /// One value of a closed enumeration (an error otherwise).
    Enum(&'static [&'static str]),
    /// A non-empty list of values of a closed enumeration.
    EnumList(&'static [&'static str]),
    /// A value that should come from an open vocabulary (a warning otherwise).
    OpenVocab(&'static [&'static str]),
    /// A non-empty list of values that should come from an open vocabulary.
    OpenVocabList(&'static [&'static str]),
    /// A hashes dictionary (algorithm name → value).
    Hashes,
    /// A dictionary with keys of any name.
    Dictionary,
    /// A dictionary whose values are all lists of strings (HTTP headers, §6.12.2).
    StringListDictionary,
    /// A non-empty list of kill-chain phases.
    KillChainPhases,
    /// A non-empty list of external references.
    ExternalReferences,
    /// A nested object with these properties.
    Object(&'static [Prop]),
    /// A non-empty list of nested objects with these properties.
    ObjectList(&'static [Prop]),
    /// A non-empty list of integers in `min..=max`.
    IntegerList {
        /// Smallest allowed value.
        min: i64,
        /// Largest allowed value.
        max: i64,
    },
    /// Anything (checked by the type's own rules, if at all).
    Any,
}

/// One property of a type.
#[derive(Debug, Clone, Copy)]
pub struct Prop {
    /// The property name.
    pub name: &'static str,
    /// What it holds.
    pub kind: PropKind,
    /// Whether it must be present.
    pub required: bool,
}

/// A required property.
pub const fn req(name: &'static str, kind: PropKind) -> Prop {
    Prop {
        name,
        kind,
        required: true,
    }
}

/// An optional property.
pub const fn opt(name: &'static str, kind: PropKind) -> Prop {
    Prop {
        name,
        kind,
        required: false,
    }
}

/// Rules of a type that span properties (`valid_until` after `valid_from`…).
pub type Rules = fn(&mut Ctx<'_>, &Map<'_>);

/// A predefined extension of a type (an SCO's `ntfs-ext`, say).
#[derive(Debug, Clone, Copy)]
pub struct ExtensionSpec {
    /// The key under `extensions`.
    pub name: &'static str,
    /// Its properties.
    pub properties: &'static [Prop],
    /// Its own cross-property rules.
    pub rules: Option<Rules>,
}

/// A STIX type.
#[derive(Debug, Clone, Copy)]
pub struct TypeSpec {
    /// The `type` value.
    pub name: &'static str,
    /// SDO, SRO, SCO or meta.
    pub category: Category,
    /// The type's own properties (the common ones come from the category).
    pub properties: &'static [Prop],
    /// For SCOs: the properties whose values make the deterministic id, in spec order.
    pub id_contributing: &'static [&'static str],
    /// Predefined extensions (SCOs).
    pub extensions: &'static [ExtensionSpec],
    /// Cross-property rules, run after every property has been checked.
    pub rules: Option<Rules>,
}

impl TypeSpec {
    /// The type's own property of that name.
    pub fn property(&self, name: &str) -> Option<&'static Prop> {
        self.properties.iter().find(|p| p.name == name)
    }

    /// The predefined extension of that name.
    pub fn extension(&self, name: &str) -> Option<&'static ExtensionSpec> {
        self.extensions.iter().find(|e| e.name == name)
    }
}
