//! Every STIX 2.1 type the specification defines, as [`TypeSpec`] tables,
//! and the lookup by name.

mod common;
mod meta;
mod sco;
pub mod sco_vocab;
mod sdo;
mod spec;
mod sro;
pub mod vocab;

pub use common::{common_properties, is_common_property};
pub use spec::{Category, ExtensionSpec, Prop, PropKind, Rules, Targets, TypeSpec, opt, req};

/// The spec of a type defined by STIX 2.1, or `None` for custom types.
pub fn lookup(name: &str) -> Option<&'static TypeSpec> {
    all().find(|t| t.name == name)
}

/// Every type STIX 2.1 defines.
pub fn all() -> impl Iterator<Item = &'static TypeSpec> {
    sdo::TYPES
        .iter()
        .chain(sro::TYPES)
        .chain(sco::TYPES)
        .chain(meta::TYPES)
}

/// The category of a known type.
pub fn category_of(name: &str) -> Option<Category> {
    lookup(name).map(|t| t.category)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn type_names_are_unique() {
        let mut names: Vec<_> = all().map(|t| t.name).collect();
        let n = names.len();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), n);
    }
}
