//! Accounts, API tokens (stored as SHA-256 hashes only) and per-collection [`Rights`].

use std::fmt;

use uuid::Uuid;

use crate::time::Micros;

/// What an admin gives to create an account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAccount {
    /// Its unique name.
    pub name: String,
    /// Whether it may administer the node (every collection, accounts, tokens).
    pub admin: bool,
}

/// A stored account. The password hash is not part of it: see
/// [`Store::password_hash`](crate::Store::password_hash).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    /// Its unique name.
    pub name: String,
    /// Whether it is an admin.
    pub admin: bool,
    /// Whether a password is set (HTTP Basic is possible).
    pub has_password: bool,
    /// When it was created.
    pub created: Micros,
    /// The partner whose node uses this account (to pull from us over TAXII), if any:
    /// what it reads goes through that partner's agreement.
    pub partner: Option<String>,
}

/// The SHA-256 hash of an API token's secret; the secret itself is never stored.
///
/// `Debug` does not print the bytes, so a hash never reaches a log.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct TokenHash(pub [u8; 32]);

impl fmt::Debug for TokenHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TokenHash(..)")
    }
}

/// A new API token for an account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewToken {
    /// A label, unique per account (`laptop`, `siem`), used to list and revoke it.
    pub name: String,
    /// The hash of its secret.
    pub hash: TokenHash,
}

/// A stored token, as listed (never with its hash).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenInfo {
    /// The owning account.
    pub account: String,
    /// Its label.
    pub name: String,
    /// When it was added.
    pub created: Micros,
}

/// What an account may do in one collection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Rights {
    /// It may see the collection and read its objects.
    pub read: bool,
    /// It may add objects to the collection.
    pub write: bool,
}

/// One account's rights on one collection, as listed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    /// The account.
    pub account: String,
    /// The collection.
    pub collection: Uuid,
    /// The rights.
    pub rights: Rights,
}
