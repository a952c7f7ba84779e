//! Reading objects: the [`ObjectQuery`] filters (TAXII §3.4), the stateless [`Cursor`]
//! behind `next`, and the [`Page`] a query returns.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::error::{Result, StoreError};
use crate::object::Version;
use crate::time::Micros;

/// One value of `match[version]`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum VersionMatch {
    /// The oldest version of each object.
    First,
    /// The newest version of each object (the TAXII default).
    Last,
    /// Every version.
    All,
    /// The version equal to this timestamp.
    At(Version),
}

impl VersionMatch {
    /// Parses one comma-separated item of `match[version]`: `first`, `last`, `all` or a timestamp.
    pub fn parse(text: &str) -> Result<VersionMatch> {
        match text {
            "first" => Ok(VersionMatch::First),
            "last" => Ok(VersionMatch::Last),
            "all" => Ok(VersionMatch::All),
            _ => Version::parse(text).map(VersionMatch::At),
        }
    }
}

/// The most values all list filters of one query may hold together, so that a query
/// stays one bounded statement.
pub const MAX_FILTER_VALUES: usize = 1000;

/// Which object versions of a collection to read, and which page of them.
///
/// Records come in `date_added` order. Filters combine with AND; the values of one
/// list combine with OR. An empty list means "no restriction", except where noted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectQuery {
    /// Only versions added strictly after this instant.
    pub added_after: Option<Micros>,
    /// Only these object ids.
    pub ids: Vec<String>,
    /// Only these object types.
    pub types: Vec<String>,
    /// Which versions of each object; **empty means `[Last]`**, the TAXII default.
    /// `First`/`Last` are computed over all versions of the object in the collection.
    pub versions: Vec<VersionMatch>,
    /// Only these `spec_version`s; **empty means the latest spec version of each object**,
    /// the TAXII default.
    pub spec_versions: Vec<String>,
    /// At most this many records (at least 1).
    pub limit: usize,
    /// Resume after this position (from a previous page's `next`).
    pub next: Option<Cursor>,
    /// Whether each [`ObjectRecord`](crate::ObjectRecord) carries its
    /// [`Provenance`](crate::Provenance) (egress decides a page from it). Off by default:
    /// reading it costs the plain paging path nothing when not asked. Manifests ignore it.
    pub with_provenance: bool,
}

impl ObjectQuery {
    /// The page size [`Default`] uses.
    pub const DEFAULT_LIMIT: usize = 1000;

    /// Checks the limits every backend enforces the same way.
    pub fn check(&self) -> Result<()> {
        if self.limit == 0 {
            return Err(StoreError::Invalid("limit must be at least 1".into()));
        }
        let n_values =
            self.ids.len() + self.types.len() + self.versions.len() + self.spec_versions.len();
        if n_values > MAX_FILTER_VALUES {
            return Err(StoreError::Invalid(format!(
                "too many filter values ({n_values}, at most {MAX_FILTER_VALUES})"
            )));
        }
        Ok(())
    }
}

impl Default for ObjectQuery {
    /// Every latest version, first page of [`ObjectQuery::DEFAULT_LIMIT`].
    fn default() -> ObjectQuery {
        ObjectQuery {
            added_after: None,
            ids: Vec::new(),
            types: Vec::new(),
            versions: Vec::new(),
            spec_versions: Vec::new(),
            limit: ObjectQuery::DEFAULT_LIMIT,
            next: None,
            with_provenance: false,
        }
    }
}

/// Which versions of one object to delete (TAXII §5.7 filters).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DeleteFilter {
    /// Which versions; **empty means `[Last]`** as for queries. Pass `[All]` to delete every version.
    pub versions: Vec<VersionMatch>,
    /// Which spec versions; **empty means the latest spec version of the object**.
    pub spec_versions: Vec<String>,
}

/// An opaque, stateless position in a collection: "after the record added at this instant".
///
/// `date_added` is strictly increasing per collection, so it alone identifies a record.
/// It encodes to a URL-safe string (base64url of `v1:<micros>`) that works across
/// restarts and processes; [`Cursor::decode`] rejects anything else with
/// [`StoreError::Invalid`], never a panic.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Cursor {
    /// The `date_added` of the last record already returned.
    pub after: Micros,
}

impl Cursor {
    /// The URL-safe text form.
    pub fn encode(&self) -> String {
        URL_SAFE_NO_PAD.encode(format!("v1:{}", self.after.0))
    }

    /// Parses the text form.
    pub fn decode(text: &str) -> Result<Cursor> {
        let invalid = || StoreError::Invalid("malformed next cursor".into());
        if text.len() > 64 {
            return Err(invalid());
        }
        let bytes = URL_SAFE_NO_PAD.decode(text).map_err(|_| invalid())?;
        let text = std::str::from_utf8(&bytes).map_err(|_| invalid())?;
        let micros = text.strip_prefix("v1:").ok_or_else(invalid)?;
        // Canonical decimal only, so each position has exactly one encoding.
        if micros.is_empty()
            || !micros.bytes().all(|b| b.is_ascii_digit())
            || (micros.len() > 1 && micros.starts_with('0'))
        {
            return Err(invalid());
        }
        let after = micros.parse::<i64>().map_err(|_| invalid())?;
        Ok(Cursor {
            after: Micros(after),
        })
    }
}

/// One page of a query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T> {
    /// The records, in `date_added` order.
    pub records: Vec<T>,
    /// Whether more records match after this page.
    pub more: bool,
    /// Where the next page starts; `Some` exactly when `more`.
    pub next: Option<Cursor>,
    /// The `date_added` of the first record (`X-TAXII-Date-Added-First`).
    pub first_added: Option<Micros>,
    /// The `date_added` of the last record (`X-TAXII-Date-Added-Last`).
    pub last_added: Option<Micros>,
}

impl<T> Page<T> {
    /// The page a backend makes of `records` fetched in `date_added` order with one
    /// more than `limit` asked for: that extra record only says there are more.
    pub fn from_fetched(
        mut records: Vec<T>,
        limit: usize,
        date_added: impl Fn(&T) -> Micros,
    ) -> Page<T> {
        let more = records.len() > limit;
        records.truncate(limit);
        let first_added = records.first().map(&date_added);
        let last_added = records.last().map(&date_added);
        Page {
            next: if more {
                last_added.map(|after| Cursor { after })
            } else {
                None
            },
            more,
            first_added,
            last_added,
            records,
        }
    }
}

/// A page of objects as the inside of an envelope's `objects` array: their stored
/// bytes in `date_added` order, separated by commas. What TAXII Get Objects serves an
/// account that sees a collection whole; a backend can write it as it reads rows,
/// without a record per object ([`Store::objects_joined`](crate::Store::objects_joined)).
///
/// The buffer keeps [`JoinedPage::HEAD_ROOM`] bytes free before the objects, so the
/// server writes the envelope around them ([`JoinedPage::wrap`]) without copying the
/// page, the largest thing it sends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JoinedPage {
    /// `HEAD_ROOM` bytes kept free, then the objects' bytes joined by `,`.
    buffer: Vec<u8>,
    /// How many objects the page holds.
    pub count: usize,
    /// Whether more records match after this page.
    pub more: bool,
    /// Where the next page starts; `Some` exactly when `more`.
    pub next: Option<Cursor>,
    /// The `date_added` of the first object.
    pub first_added: Option<Micros>,
    /// The `date_added` of the last object.
    pub last_added: Option<Micros>,
}

impl Default for JoinedPage {
    fn default() -> Self {
        JoinedPage {
            buffer: vec![0; Self::HEAD_ROOM],
            count: 0,
            more: false,
            next: None,
            first_added: None,
            last_added: None,
        }
    }
}

impl JoinedPage {
    /// Bytes kept free before the objects: room for an envelope's head
    /// (`{"more":true,"next":"…","objects":[`, with a `next` of a few dozen bytes).
    pub const HEAD_ROOM: usize = 96;

    /// Most the page reserves ahead from an estimate ([`JoinedPage::reserve_objects`]); past
    /// that it grows as objects come.
    const MAX_RESERVE: usize = 32 << 20;

    /// The joined form of a page of records.
    pub fn from_page(page: Page<crate::ObjectRecord>) -> JoinedPage {
        let mut joined = JoinedPage {
            more: page.more,
            next: page.next,
            first_added: page.first_added,
            last_added: page.last_added,
            ..JoinedPage::default()
        };
        joined
            .buffer
            .reserve(page.records.iter().map(|r| r.bytes.len() + 1).sum());
        for record in &page.records {
            joined.push(&record.bytes);
        }
        joined
    }

    /// The objects' bytes joined by `,`.
    pub fn objects(&self) -> &[u8] {
        &self.buffer[Self::HEAD_ROOM..]
    }

    /// Reserves room for `count` more objects of about `size` bytes each (at most
    /// `MAX_RESERVE` bytes), so a page read row by row is not copied each time its
    /// buffer grows. Nothing happens if that much memory cannot be had.
    pub fn reserve_objects(&mut self, count: usize, size: usize) {
        let bytes = count
            .saturating_mul(size.saturating_add(1))
            .min(Self::MAX_RESERVE);
        let _ = self.buffer.try_reserve(bytes);
    }

    /// Appends one object's bytes.
    pub fn push(&mut self, bytes: &[u8]) {
        if self.count > 0 {
            self.buffer.push(b',');
        }
        self.buffer.extend_from_slice(bytes);
        self.count += 1;
    }

    /// The objects between `head` and `tail`, as a buffer and the offset in it where
    /// they start: `head` is written into the room kept before the objects, so the
    /// page is not copied (unless `head` is longer than [`JoinedPage::HEAD_ROOM`]).
    pub fn wrap(self, head: &[u8], tail: &[u8]) -> (Vec<u8>, usize) {
        let mut buffer = self.buffer;
        let start = match Self::HEAD_ROOM.checked_sub(head.len()) {
            Some(start) => {
                buffer[start..Self::HEAD_ROOM].copy_from_slice(head);
                start
            }
            None => {
                buffer.splice(..Self::HEAD_ROOM, head.iter().copied());
                0
            }
        };
        buffer.extend_from_slice(tail);
        (buffer, start)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_wrapped_page_is_head_objects_tail() {
        let mut page = JoinedPage::default();
        page.reserve_objects(2, 3);
        page.push(b"{1}");
        page.push(b"{22}");
        assert_eq!(page.objects(), b"{1},{22}");
        let (buffer, start) = page.clone().wrap(b"[", b"]");
        assert_eq!(&buffer[start..], b"[{1},{22}]");
        assert_eq!(start, JoinedPage::HEAD_ROOM - 1, "written in the room kept");
        // A head longer than the room still wraps the page, by copying it.
        let long = vec![b'h'; JoinedPage::HEAD_ROOM + 5];
        let (buffer, start) = page.wrap(&long, b"t");
        assert_eq!(start, 0);
        assert_eq!(buffer, [long, b"{1},{22}t".to_vec()].concat());
        let (buffer, start) = JoinedPage::default().wrap(b"{", b"}");
        assert_eq!(&buffer[start..], b"{}");
    }

    #[test]
    fn cursor_round_trip() {
        for after in [0, 1, 1_714_564_800_000_000, i64::MAX] {
            let c = Cursor {
                after: Micros(after),
            };
            assert_eq!(Cursor::decode(&c.encode()).unwrap(), c);
        }
    }

    #[test]
    fn version_match_parse() {
        assert_eq!(VersionMatch::parse("first").unwrap(), VersionMatch::First);
        assert!(matches!(
            VersionMatch::parse("2020-01-01T00:00:00Z").unwrap(),
            VersionMatch::At(_)
        ));
        assert!(VersionMatch::parse("latest").is_err());
    }
}
