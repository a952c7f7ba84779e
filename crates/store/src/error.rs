//! [`StoreError`]: what can go wrong in a store, in variants a caller can act on.

/// An error from a [`Store`](crate::Store) method.
///
/// The TAXII layer maps these to HTTP statuses in one place:
/// `NotFound` → 404, `Conflict` → 409, `Invalid` → 400, the rest → 500.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The named thing (a collection, object, status, account, token) does not exist.
    #[error("{what} not found: {key}")]
    NotFound {
        /// What kind of thing was looked up, such as `collection` or `account`.
        what: &'static str,
        /// The key it was looked up by.
        key: String,
    },
    /// The thing to create already exists (an account name, a collection id or alias, a token name).
    #[error("conflict: {0}")]
    Conflict(String),
    /// The request is malformed: a garbage cursor, a zero limit, too many filter values;
    /// on PostgreSQL, text to store holding a NUL (U+0000), naming the field.
    #[error("invalid: {0}")]
    Invalid(String),
    /// The database file was written by a newer Passerelle; this one refuses to touch it.
    #[error("database schema version {found} is newer than this program supports ({supported})")]
    SchemaTooNew {
        /// The schema version recorded in the database.
        found: i64,
        /// The newest schema version this program knows.
        supported: i64,
    },
    /// The backend failed (I/O, corruption, a lost worker thread).
    #[error("storage backend failed")]
    Backend(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl StoreError {
    /// A [`StoreError::NotFound`] for `what` looked up by `key`.
    pub fn not_found(what: &'static str, key: impl std::fmt::Display) -> StoreError {
        StoreError::NotFound {
            what,
            key: key.to_string(),
        }
    }

    /// A [`StoreError::Backend`] carrying a plain message.
    pub fn backend(message: impl Into<String>) -> StoreError {
        StoreError::Backend(message.into().into())
    }
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> StoreError {
        StoreError::Backend(Box::new(e))
    }
}

/// The result of a store operation.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;
