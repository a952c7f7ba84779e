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

use std::collections::HashMap;
use std::sync::OnceLock;

pub use common::{IDENTITY_PROPERTIES, common_properties, is_common_property};
pub use spec::{Category, ExtensionSpec, Prop, PropKind, Rules, Targets, TypeSpec, opt, req};

/// The spec of a type defined by STIX 2.1, or `None` for custom types.
pub fn lookup(name: &str) -> Option<&'static TypeSpec> {
    registry().get(name).map(|(spec, _)| *spec)
}

/// The spec of a type and the index of all its properties (common and its own).
pub fn lookup_indexed(name: &str) -> Option<(&'static TypeSpec, &'static PropertyIndex)> {
    registry().get(name).map(|(spec, index)| (*spec, index))
}

/// Every property of a type, common ones included, sorted by name.
///
/// Validation looks up each property of every object here, so it is a binary
/// search over a prepared list rather than a scan of the tables.
#[derive(Debug)]
pub struct PropertyIndex {
    props: Vec<&'static Prop>,
}

impl PropertyIndex {
    fn new(spec: &'static TypeSpec) -> Self {
        let mut props: Vec<&'static Prop> = common_properties(spec)
            .iter()
            .chain(spec.properties)
            .collect();
        props.sort_by_key(|p| p.name);
        props.dedup_by_key(|p| p.name);
        PropertyIndex { props }
    }

    /// The position and spec of the property called `name`.
    pub fn get(&self, name: &str) -> Option<(usize, &'static Prop)> {
        self.props
            .binary_search_by(|p| p.name.cmp(name))
            .ok()
            .map(|i| (i, self.props[i]))
    }

    /// All properties, in the order of their positions.
    pub fn iter(&self) -> impl Iterator<Item = &'static Prop> + '_ {
        self.props.iter().copied()
    }

    /// How many there are.
    pub fn len(&self) -> usize {
        self.props.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.props.is_empty()
    }
}

type Registry = HashMap<&'static str, (&'static TypeSpec, PropertyIndex)>;

fn registry() -> &'static Registry {
    static REGISTRY: OnceLock<Registry> = OnceLock::new();
    REGISTRY.get_or_init(|| {
        all()
            .map(|spec| (spec.name, (spec, PropertyIndex::new(spec))))
            .collect()
    })
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
    fn property_indexes_fit_the_validators_bitset() {
        for spec in all() {
            let (_, index) = lookup_indexed(spec.name).unwrap();
            assert!(
                index.len() <= 128,
                "{} has {} properties",
                spec.name,
                index.len()
            );
            for prop in spec.properties {
                assert_eq!(index.get(prop.name).map(|(_, p)| p.name), Some(prop.name));
            }
        }
    }

    #[test]
    fn type_names_are_unique() {
        let mut names: Vec<_> = all().map(|t| t.name).collect();
        let n = names.len();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), n);
    }
}
