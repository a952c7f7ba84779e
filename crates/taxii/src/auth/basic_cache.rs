//! A short memory of HTTP Basic credentials already verified, so that a client
//! sending Basic on every request (taxii2-client paging does) pays argon2 once
//! per few minutes instead of on every page.
//!
//! Entries are keyed by a keyed hash of user and password (the key is random
//! per process), so the cache never holds a password, and they remember the
//! stored hash they were verified against: a password change or removal in the
//! store invalidates them at the next request.

use std::collections::HashMap;
use std::sync::Mutex;

use rand::RngCore as _;
use sha2::{Digest, Sha256};
use store::Micros;

/// How long a verified credential is trusted without argon2.
const TTL_MICROS: i64 = 5 * 60 * 1_000_000;
/// Entries kept at most; the cache is emptied when full (it only saves work).
const CAPACITY: usize = 4096;

/// Verified Basic credentials.
#[derive(Debug)]
pub struct BasicCache {
    key: [u8; 32],
    entries: Mutex<HashMap<[u8; 32], (String, Micros)>>,
}

impl Default for BasicCache {
    fn default() -> Self {
        let mut key = [0u8; 32];
        rand::rng().fill_bytes(&mut key);
        BasicCache {
            key,
            entries: Mutex::new(HashMap::new()),
        }
    }
}

impl BasicCache {
    fn fingerprint(&self, user: &str, password: &str) -> [u8; 32] {
        let mut h = Sha256::new();
        h.update(self.key);
        h.update((user.len() as u64).to_le_bytes());
        h.update(user.as_bytes());
        h.update(password.as_bytes());
        h.finalize().into()
    }

    /// Whether these credentials were verified against this stored hash recently.
    pub fn is_verified(&self, user: &str, password: &str, stored_hash: &str, now: Micros) -> bool {
        let fingerprint = self.fingerprint(user, password);
        let Ok(entries) = self.entries.lock() else {
            return false;
        };
        entries.get(&fingerprint).is_some_and(|(hash, at)| {
            hash == stored_hash && now.0 - at.0 < TTL_MICROS && now.0 >= at.0
        })
    }

    /// Remembers credentials argon2 has just verified against `stored_hash`.
    pub fn remember(&self, user: &str, password: &str, stored_hash: &str, now: Micros) {
        let fingerprint = self.fingerprint(user, password);
        if let Ok(mut entries) = self.entries.lock() {
            if entries.len() >= CAPACITY {
                entries.clear();
            }
            entries.insert(fingerprint, (stored_hash.to_owned(), now));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remembers_only_the_same_credentials_and_hash_for_a_while() {
        let cache = BasicCache::default();
        let t0 = Micros(1_000_000);
        assert!(!cache.is_verified("ana", "pw", "$argon2id$a", t0));
        cache.remember("ana", "pw", "$argon2id$a", t0);
        assert!(cache.is_verified("ana", "pw", "$argon2id$a", Micros(t0.0 + 1)));
        assert!(
            !cache.is_verified("ana", "other", "$argon2id$a", t0),
            "another password"
        );
        assert!(
            !cache.is_verified("bob", "pw", "$argon2id$a", t0),
            "another user"
        );
        assert!(
            !cache.is_verified("ana", "pw", "$argon2id$b", t0),
            "the password was changed"
        );
        assert!(
            !cache.is_verified("ana", "pw", "$argon2id$a", Micros(t0.0 + TTL_MICROS)),
            "expired"
        );
    }
}
