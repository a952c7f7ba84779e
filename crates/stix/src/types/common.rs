//! The common properties of each category (STIX 2.1 §3.2) and the shared
//! nested structures: external references, kill-chain phases, granular markings.

use super::spec::{Category, Prop, PropKind, Targets, TypeSpec, opt};

const MARKINGS: Targets = Targets::only(&["marking-definition"]);
const IDENTITY: Targets = Targets::only(&["identity"]);

/// Common properties of SDOs, SROs, language-content and extension-definition,
/// apart from `type`, `id` and `spec_version`, which the validator checks itself.
pub const SDO_COMMON: &[Prop] = &[
    opt("created_by_ref", PropKind::Ref(IDENTITY)),
    // Checked with their precision and order by validate::common::created_modified.
    opt("created", PropKind::Any),
    opt("modified", PropKind::Any),
    opt("revoked", PropKind::Boolean),
    opt("labels", PropKind::StringList),
    opt("confidence", PropKind::Integer { min: 0, max: 100 }),
    opt("lang", PropKind::String),
    opt("external_references", PropKind::ExternalReferences),
    opt("object_marking_refs", PropKind::RefList(MARKINGS)),
    opt("granular_markings", PropKind::Any),
    opt("extensions", PropKind::Any),
];

/// Common properties of SCOs (§3.2, §6.1), apart from `type`, `id` and `spec_version`.
pub const SCO_COMMON: &[Prop] = &[
    opt("object_marking_refs", PropKind::RefList(MARKINGS)),
    opt("granular_markings", PropKind::Any),
    opt("defanged", PropKind::Boolean),
    opt("extensions", PropKind::Any),
];

/// Common properties of marking-definition (§7.2.1), apart from `type`, `id` and `spec_version`.
pub const MARKING_COMMON: &[Prop] = &[
    opt("created_by_ref", PropKind::Ref(IDENTITY)),
    opt("created", PropKind::Any),
    opt("external_references", PropKind::ExternalReferences),
    opt("object_marking_refs", PropKind::RefList(MARKINGS)),
    opt("granular_markings", PropKind::Any),
    opt("extensions", PropKind::Any),
];

/// Properties the validator handles itself for every object.
pub const IDENTITY_PROPERTIES: &[&str] = &["type", "id", "spec_version"];

/// The common properties that apply to objects of this spec.
pub fn common_properties(spec: &TypeSpec) -> &'static [Prop] {
    match spec.category {
        Category::Sco => SCO_COMMON,
        _ if spec.name == "marking-definition" => MARKING_COMMON,
        _ => SDO_COMMON,
    }
}

/// Whether `name` is a common property (or one of type/id/spec_version) for this spec.
pub fn is_common_property(spec: &TypeSpec, name: &str) -> bool {
    IDENTITY_PROPERTIES.contains(&name) || common_properties(spec).iter().any(|p| p.name == name)
}
