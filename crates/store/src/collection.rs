//! Collections: [`Collection`], [`NewCollection`] and per-collection [`CollectionCount`]s.

use uuid::Uuid;

use crate::time::Micros;

/// What an admin gives to create a collection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewCollection {
    /// Its TAXII id (a UUID, chosen by the caller).
    pub id: Uuid,
    /// Its human-readable title.
    pub title: String,
    /// An optional longer description.
    pub description: Option<String>,
    /// An optional short name, unique among collections (TAXII `alias`).
    pub alias: Option<String>,
}

/// A stored collection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Collection {
    /// Its TAXII id.
    pub id: Uuid,
    /// Its title.
    pub title: String,
    /// Its description.
    pub description: Option<String>,
    /// Its alias.
    pub alias: Option<String>,
    /// When it was created.
    pub created: Micros,
}

/// How many object versions one collection holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CollectionCount {
    /// The collection.
    pub collection: Uuid,
    /// Its number of stored object versions (every version counts).
    pub versions: u64,
    /// Its number of distinct object ids.
    pub objects: u64,
}
