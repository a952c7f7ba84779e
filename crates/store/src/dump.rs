//! The exact records a whole-node copy ([`crate::copy`]) reads from one store and writes
//! into another: [`StoredVersion`], [`CollectionRecord`], [`AccountRecord`] and
//! [`TokenRecord`]. Unlike the types the server uses, they carry what a store assigns
//! itself (`date_added`, creation times, token hashes, the password hash), so a copy
//! keeps them instead of assigning new ones.

use std::fmt;

use stix::markings::Tlp;
use uuid::Uuid;

use crate::account::TokenHash;
use crate::collection::Collection;
use crate::error::{Result, StoreError};
use crate::object::{Provenance, Version};
use crate::time::Micros;

/// One stored object version with everything a backend keeps about it, as
/// [`Store::dump_objects`](crate::Store::dump_objects) reads it and
/// [`Store::restore_objects`](crate::Store::restore_objects) writes it back.
///
/// The query columns are those [`NewObject::from_object`](crate::NewObject::from_object)
/// derived when the version was first stored; they are copied, not derived again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredVersion {
    /// The STIX id.
    pub id: String,
    /// The STIX type.
    pub object_type: String,
    /// Its `spec_version`.
    pub spec_version: String,
    /// The version (`modified`, else `created`, else the `date_added` it was first given).
    pub version: Version,
    /// `created`, if present (in its normalised form: backends keep only that).
    pub created: Option<Version>,
    /// `modified`, if present (normalised, as `created`).
    pub modified: Option<Version>,
    /// `revoked`.
    pub revoked: bool,
    /// Its TLP level, if any.
    pub tlp: Option<Tlp>,
    /// `created_by_ref`, if present.
    pub created_by_ref: Option<String>,
    /// Its media type.
    pub media_type: String,
    /// When this node stored it.
    pub date_added: Micros,
    /// Who gave it to the node.
    pub provenance: Provenance,
    /// The exact bytes accepted.
    pub bytes: Vec<u8>,
}

impl StoredVersion {
    /// Refuses, as [`StoreError::Invalid`] naming the version, one whose `date_added`
    /// is not after `last`: the collection's last `date_added`, or the previous
    /// version's of the batch being restored. What every backend's
    /// [`Store::restore_objects`](crate::Store::restore_objects) checks, in order.
    pub fn check_after(&self, collection: Uuid, last: Micros) -> Result<()> {
        if self.date_added <= last {
            return Err(StoreError::Invalid(format!(
                "object version {}: its date_added {} is not after the collection's last \
                 one ({last})",
                self.named(collection),
                self.date_added
            )));
        }
        Ok(())
    }

    /// The [`StoreError::Conflict`] a restore returns for a version the collection
    /// already holds.
    pub fn already_stored(&self, collection: Uuid) -> StoreError {
        StoreError::Conflict(format!(
            "object version {} is already stored",
            self.named(collection)
        ))
    }

    fn named(&self, collection: Uuid) -> String {
        format!("{} {} of collection {collection}", self.id, self.version)
    }
}

/// The text a backend stores for a TLP level (the TLP 2.0 value, `amber+strict`).
pub fn tlp_text(tlp: Tlp) -> &'static str {
    tlp.tlp_2_0_value()
}

/// The TLP level of a stored text written by [`tlp_text`]; anything else means the row
/// was not written by this program: a [`StoreError::Backend`].
pub fn tlp_from_text(text: &str) -> Result<Tlp> {
    Tlp::ALL
        .into_iter()
        .find(|tlp| tlp.tlp_2_0_value() == text)
        .ok_or_else(|| StoreError::backend(format!("stored TLP {text:?} names no TLP level")))
}

/// A collection with what a copy needs beyond [`Collection`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CollectionRecord {
    /// The collection, with its creation time.
    pub collection: Collection,
    /// The highest `date_added` the collection ever gave. Deleting versions never lowers
    /// it, so it may be later than its newest stored version's; a copy keeps it, so the
    /// copy never gives out a `date_added` a client may already have read past.
    pub last_date_added: Micros,
}

/// An API token as stored: its hash and creation time, never its secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRecord {
    /// Its label, unique per account.
    pub name: String,
    /// The SHA-256 of its secret (`Debug` does not print it).
    pub hash: TokenHash,
    /// When it was added.
    pub created: Micros,
}

/// An account with everything a backend keeps about it except its rights (read those
/// with [`Store::grants_of_account`](crate::Store::grants_of_account)).
#[derive(Clone, PartialEq, Eq)]
pub struct AccountRecord {
    /// Its unique name.
    pub name: String,
    /// Whether it is an admin.
    pub admin: bool,
    /// Its argon2 PHC password hash, if one is set.
    pub password_hash: Option<String>,
    /// When it was created.
    pub created: Micros,
    /// The partner whose node uses it, if any.
    pub partner: Option<String>,
    /// Its API tokens, by name.
    pub tokens: Vec<TokenRecord>,
}

impl fmt::Debug for AccountRecord {
    /// Says whether a password hash is set, never the hash.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AccountRecord")
            .field("name", &self.name)
            .field("admin", &self.admin)
            .field(
                "password_hash",
                &self.password_hash.as_ref().map(|_| "(hidden)"),
            )
            .field("created", &self.created)
            .field("partner", &self.partner)
            .field("tokens", &self.tokens)
            .finish()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn tlp_texts_round_trip() {
        for tlp in Tlp::ALL {
            assert_eq!(tlp_from_text(tlp_text(tlp)).unwrap(), tlp);
        }
        assert!(tlp_from_text("TLP:AMBER").is_err());
    }

    #[test]
    fn an_account_record_never_prints_its_secrets() {
        let record = AccountRecord {
            name: "alice".into(),
            admin: false,
            password_hash: Some("$argon2id$v=19$secret-hash".into()),
            created: Micros(1),
            partner: None,
            tokens: vec![TokenRecord {
                name: "t".into(),
                hash: TokenHash([0xab; 32]),
                created: Micros(2),
            }],
        };
        let text = format!("{record:?}");
        assert!(!text.contains("secret-hash"), "{text}");
        assert!(
            !text.contains("171, 171") && !text.contains("abab"),
            "{text}"
        );
    }
}
