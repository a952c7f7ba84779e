//! Text holding U+0000 (NUL), which PostgreSQL's `text` cannot hold: the server refuses
//! such a parameter with SQLSTATE 22021 (`character_not_in_repertoire`) and fails the
//! whole statement, where SQLite stores and compares it like any other character. Every
//! text parameter that does not come from this program goes through one of these, so a
//! NUL never reaches the server:
//!
//! - a **key looked up** ([`key`], [`keys`]) with a NUL is bound as SQL `NULL`, which
//!   equals nothing: the lookup finds nothing (not found, an empty page, no match), as
//!   no row here can hold such a key. In an `= ANY(array)` list only that element
//!   matches nothing; the others still match, and the list never becomes empty.
//! - **text to store** ([`stored`], [`stored_opt`]) with a NUL is refused with
//!   [`StoreError::Invalid`] naming the field, before the statement runs, so nothing
//!   of it is written (SQLite stores it; the crate doc says so).
//! - a **message** ([`message`]) that a partner may have written, a sync attempt's
//!   error or the signer in a provenance, has each NUL stored as U+FFFD: refusing it
//!   would let a partner keep an attempt from being recorded, or a page from being stored.
//!
//! [`is_refusal`] maps the server's refusal to [`StoreError::Invalid`] rather than a
//! backend failure, should a parameter ever escape these.

use std::borrow::Cow;

use tokio_postgres::error::SqlState;

use crate::error::{Result, StoreError};

const NUL: char = '\0';

/// `key` to bind in a lookup: `None` (SQL `NULL`, which matches no row) if it holds a NUL.
pub fn key(key: &str) -> Option<&str> {
    (!key.contains(NUL)).then_some(key)
}

/// [`key`] for each of `keys`, for an `= ANY($n::text[])` list: an element with a NUL
/// becomes `NULL` (matching nothing) rather than being dropped, so a list never turns
/// empty, which would mean "no restriction".
pub fn keys<S: AsRef<str>>(keys: &[S]) -> Vec<Option<&str>> {
    keys.iter().map(|k| key(k.as_ref())).collect()
}

/// `text` to store in `field`, or [`StoreError::Invalid`] naming the field if it holds a
/// NUL. The message never repeats the text (it may be a secret's hash).
pub fn stored<'a>(field: &str, text: &'a str) -> Result<&'a str> {
    if text.contains(NUL) {
        return Err(StoreError::Invalid(format!(
            "{field} contains a NUL character (U+0000), which PostgreSQL cannot store"
        )));
    }
    Ok(text)
}

/// [`stored`] for an optional field.
pub fn stored_opt<'a>(field: &str, text: Option<&'a str>) -> Result<Option<&'a str>> {
    text.map(|t| stored(field, t)).transpose()
}

/// A message meant for people, with each NUL replaced by U+FFFD.
pub fn message(text: &str) -> Cow<'_, str> {
    if text.contains(NUL) {
        Cow::Owned(text.replace(NUL, "\u{FFFD}"))
    } else {
        Cow::Borrowed(text)
    }
}

/// Whether `e` is the server refusing a character in a text parameter (SQLSTATE 22021).
pub fn is_refusal(e: &tokio_postgres::Error) -> bool {
    e.code() == Some(&SqlState::CHARACTER_NOT_IN_REPERTOIRE)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn keys_with_a_nul_match_nothing_and_text_with_one_is_refused_by_name() {
        assert_eq!(key("intel"), Some("intel"));
        assert_eq!(key("intel\0"), None);
        assert_eq!(keys(&["a", "b\0", "c"]), [Some("a"), None, Some("c")]);
        assert_eq!(stored("account name", "alice").unwrap(), "alice");
        let err = stored("account name", "al\0ice").unwrap_err();
        assert!(
            matches!(&err, StoreError::Invalid(m) if m.starts_with("account name contains a NUL")),
            "{err:?}"
        );
        assert_eq!(stored_opt("alias", None).unwrap(), None);
        assert!(stored_opt("alias", Some("\0")).is_err());
        assert_eq!(message("a\0b"), "a\u{FFFD}b");
        assert!(matches!(message("ab"), Cow::Borrowed("ab")));
    }
}
