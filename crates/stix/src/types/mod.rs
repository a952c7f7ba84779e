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

/// Every property of a type, common ones included, with a hash table to find them.
///
/// Validation looks up each property of every object here, so it is one hash
/// and usually one comparison, not a scan of the tables.
#[derive(Debug)]
pub struct PropertyIndex {
    props: Vec<&'static Prop>,
    /// Open addressing: 0 is empty, otherwise the position in `props` plus one.
    slots: Vec<u16>,
}

/// FNV-1a: short keys, no allocation, good enough spread for tens of names.
fn name_hash(name: &str) -> usize {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in name.as_bytes() {
        h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }
    h as usize
}

impl PropertyIndex {
    fn new(spec: &'static TypeSpec) -> Self {
        let mut props: Vec<&'static Prop> = Vec::new();
        for prop in common_properties(spec).iter().chain(spec.properties) {
            if !props.iter().any(|p| p.name == prop.name) {
                props.push(prop);
            }
        }
        let size = (props.len() * 2).next_power_of_two().max(8);
        let mut slots = vec![0u16; size];
        for (position, prop) in props.iter().enumerate() {
            let mut slot = name_hash(prop.name) & (size - 1);
            while slots[slot] != 0 {
                slot = (slot + 1) & (size - 1);
            }
            slots[slot] = u16::try_from(position + 1).unwrap_or(u16::MAX);
        }
        PropertyIndex { props, slots }
    }

    /// The position and spec of the property called `name`.
    pub fn get(&self, name: &str) -> Option<(usize, &'static Prop)> {
        let mask = self.slots.len() - 1;
        let mut slot = name_hash(name) & mask;
        loop {
            let entry = usize::from(self.slots[slot]);
            if entry == 0 {
                return None;
            }
            let prop = self.props[entry - 1];
            if prop.name == name {
                return Some((entry - 1, prop));
            }
            slot = (slot + 1) & mask;
        }
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
            for prop in spec.properties.iter().chain(common_properties(spec)) {
                assert_eq!(index.get(prop.name).map(|(_, p)| p.name), Some(prop.name));
            }
            assert!(index.get("x_not_a_property").is_none());
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
