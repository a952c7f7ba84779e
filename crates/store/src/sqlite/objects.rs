//! Object versions in SQLite: batch insert with the first/last flags kept right,
//! paged queries that return stored bytes untouched, and deletes.

use std::rc::Rc;

use rusqlite::types::Value;
use rusqlite::vtab::array::Array;
use rusqlite::{
    CachedStatement, Connection, OptionalExtension, ToSql, TransactionBehavior, params,
    params_from_iter,
};
use rustc_hash::FxHashMap;
use stix::markings::Tlp;
use uuid::Uuid;

use super::object_ids::{self, RecentIds, Writing, one_id, one_id_rows};
use super::{collections, ledger};
use crate::dump::tlp_text;
use crate::error::{Result, StoreError};
use crate::ledger::{Direction, NewLedgerEntry, RULE_LOCAL_DELETE, RULE_RECEIVED, sha256_hex};
use crate::object::{AddOutcome, ManifestRecord, NewObject, ObjectRecord, Provenance, Version};
use crate::query::{Cursor, DeleteFilter, JoinedPage, ObjectQuery, Page, VersionMatch};
use crate::time::{Clock, Micros};

/// A stored version of the object being added, as the insert logic needs it.
pub(super) struct Existing {
    /// Its row (`objects.seq`), for clearing its flags by row.
    pub row: i64,
    pub version: String,
    pub date_added: i64,
    pub spec_version: String,
    pub is_latest: bool,
    pub is_first: bool,
    pub is_latest_spec: bool,
}

// Statements on one object reach its rows through the id index ([`object_ids`]).
// Parameters: ?1 collection, ?2 id hash, ?3 id, ?4 the id's recent rows.
/// The versions among rows `?1` (an `rarray`, the rows an id's hash names) that are of
/// object `?3` in collection `?2`: the insert path finds the rows first, for a whole
/// batch at once ([`LISTED`]) and in the recent map, and most new objects have none.
const VERSIONS_AT: &str = "SELECT objects.seq, version, date_added, spec_version, is_latest, \
     is_first, is_latest_spec FROM rarray(?1) AS rows \
     CROSS JOIN objects NOT INDEXED ON objects.seq = rows.value \
     WHERE objects.collection = ?2 AND objects.id = ?3";
/// The listed rows of a batch's id hashes (`?2`, an `rarray`) in collection `?1`: one
/// statement that seeks `object_ids` once per hash.
const LISTED: &str = "SELECT object_ids.id_hash, object_ids.seq FROM rarray(?2) AS hashes \
     CROSS JOIN object_ids ON object_ids.collection = ?1 AND object_ids.id_hash = hashes.value";
const LATEST_OF: &str = concat!(
    "SELECT version, version_text, date_added, bytes FROM ",
    one_id_rows!(),
    " AND is_latest = 1"
);
// A new version clears the flags it takes over on the rows that hold them, known from
// reading the id's versions just before (?1 the row).
const CLEAR_LATEST: &str = "UPDATE objects SET is_latest = 0 WHERE seq = ?1";
const CLEAR_FIRST: &str = "UPDATE objects SET is_first = 0 WHERE seq = ?1";
const CLEAR_LATEST_SPEC: &str = "UPDATE objects SET is_latest_spec = 0 WHERE seq = ?1";
const RECOMPUTE_FLAGS: &str = concat!(
    "UPDATE objects NOT INDEXED SET \
     is_latest = (version = (SELECT MAX(version) FROM objects NOT INDEXED WHERE ",
    one_id!(),
    ")), is_first = (version = (SELECT MIN(version) FROM objects NOT INDEXED WHERE ",
    one_id!(),
    ")), is_latest_spec = (spec_version = \
       (SELECT MAX(spec_version) FROM objects NOT INDEXED WHERE ",
    one_id!(),
    ")) WHERE ",
    one_id!()
);
const PROVENANCE_OF: &str = concat!(
    "SELECT provenance_kind, provenance_name, provenance_detail FROM ",
    one_id_rows!(),
    " AND version = ?5"
);
/// Deleting versions of one object; version conditions follow.
const DELETE_OF: &str = concat!("DELETE FROM objects NOT INDEXED WHERE ", one_id!());
#[cfg(test)]
const PER_OBJECT_STATEMENTS: &[&str] = &[
    VERSIONS_AT,
    LISTED,
    LATEST_OF,
    RECOMPUTE_FLAGS,
    PROVENANCE_OF,
    concat!(
        "DELETE FROM objects NOT INDEXED WHERE ",
        one_id!(),
        " AND is_latest = 1 AND is_latest_spec = 1"
    ),
];

/// The stored 64-bit hash of an object id (FNV-1a): fixed here and in the schema's
/// data, so it must never change without a migration that recomputes `id_hash`.
pub fn id_hash(id: &str) -> i64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in id.bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    hash as i64
}

/// One version's columns as inserted: what intake derived from an object, or what a
/// dump carried ([`super::dump`]).
pub(super) struct Row<'a> {
    pub id: &'a str,
    pub object_type: &'a str,
    pub spec_version: &'a str,
    pub version: &'a Version,
    pub created: Option<&'a Version>,
    pub modified: Option<&'a Version>,
    pub revoked: bool,
    pub tlp: Option<Tlp>,
    pub created_by_ref: Option<&'a str>,
    pub media_type: &'a str,
    pub date_added: i64,
    pub provenance: &'a Provenance,
    pub detail: Option<&'a str>,
    pub bytes: &'a [u8],
}

/// The one insert path of object versions, used by [`add`] and by restoring a dump: the
/// caller reads an id's stored versions with [`Inserter::existing`] inside its
/// write-locked transaction, decides the version is new, and [`Inserter::insert`]
/// stores it with the first/latest/latest-spec flags of the id's versions kept right.
pub(super) struct Inserter<'c> {
    /// The collection the batch goes to (its row number).
    collection: i64,
    /// The rows `object_ids` lists for the batch's id hashes, read once.
    listed: FxHashMap<i64, Vec<i64>>,
    versions_at: CachedStatement<'c>,
    clear_latest: CachedStatement<'c>,
    clear_first: CachedStatement<'c>,
    clear_latest_spec: CachedStatement<'c>,
    insert: CachedStatement<'c>,
    /// Finds, numbers and lists versions for this transaction.
    pub(super) ids: Writing<'c>,
}

impl<'c> Inserter<'c> {
    /// An inserter for a batch into the collection with row number `collection`, whose
    /// objects' id hashes are `hashes`.
    pub(super) fn new(
        tx: &'c Connection,
        recent: &'c RecentIds,
        collection: i64,
        hashes: impl IntoIterator<Item = i64>,
    ) -> Result<Inserter<'c>> {
        let mut unique: Vec<i64> = hashes.into_iter().collect();
        unique.sort_unstable();
        unique.dedup();
        let hashes: Array = Rc::new(unique.into_iter().map(Value::Integer).collect());
        let mut listed: FxHashMap<i64, Vec<i64>> = FxHashMap::default();
        {
            let mut stmt = tx.prepare_cached(LISTED)?;
            let mut rows = stmt.query(params![collection, hashes])?;
            while let Some(row) = rows.next()? {
                listed.entry(row.get(0)?).or_default().push(row.get(1)?);
            }
        }
        Ok(Inserter {
            collection,
            listed,
            versions_at: tx.prepare_cached(VERSIONS_AT)?,
            clear_latest: tx.prepare_cached(CLEAR_LATEST)?,
            clear_first: tx.prepare_cached(CLEAR_FIRST)?,
            clear_latest_spec: tx.prepare_cached(CLEAR_LATEST_SPEC)?,
            insert: tx.prepare_cached(
                "INSERT INTO objects (collection, id, id_hash, type, spec_version, version, \
                   version_text, date_added, created, modified, revoked, tlp, created_by_ref, \
                   media_type, is_first, is_latest, is_latest_spec, provenance_kind, \
                   provenance_name, provenance_detail, bytes, seq) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, \
                   ?17, ?18, ?19, ?20, ?21, ?22)",
            )?,
            ids: recent.writing(tx)?,
        })
    }

    /// The stored versions of object `id` (whose [`id_hash`] is `hash`) in the batch's
    /// collection: none, without a statement, when no row has its hash.
    pub(super) fn existing(&mut self, hash: i64, id: &str) -> Result<Vec<Existing>> {
        let mut rows: Vec<Value> = Vec::new();
        self.ids.rows_into(self.collection, hash, &mut rows);
        if let Some(listed) = self.listed.get(&hash) {
            rows.extend(listed.iter().map(|&row| Value::Integer(row)));
        }
        if rows.is_empty() {
            return Ok(Vec::new());
        }
        let rows: Array = Rc::new(rows);
        Ok(self
            .versions_at
            .query_map(params![rows, self.collection, id], |row| {
                Ok(Existing {
                    row: row.get(0)?,
                    version: row.get(1)?,
                    date_added: row.get(2)?,
                    spec_version: row.get(3)?,
                    is_latest: row.get(4)?,
                    is_first: row.get(5)?,
                    is_latest_spec: row.get(6)?,
                })
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?)
    }

    /// Inserts a version that `existing` (the id's stored versions) does not hold.
    pub(super) fn insert(
        &mut self,
        seq: i64,
        hash: i64,
        existing: &[Existing],
        row: &Row<'_>,
    ) -> Result<()> {
        let version = row.version.normalised();
        let newest = existing.iter().map(|e| e.version.as_str()).max();
        let oldest = existing.iter().map(|e| e.version.as_str()).min();
        let newest_spec = existing.iter().map(|e| e.spec_version.as_str()).max();
        let is_latest = newest.is_none_or(|v| version > v);
        let is_first = oldest.is_none_or(|v| version < v);
        // Spec versions compare as text, which orders 2.0 < 2.1 (all STIX has).
        let is_latest_spec = newest_spec.is_none_or(|s| row.spec_version >= s);
        let takes_latest_spec = newest_spec.is_some_and(|s| row.spec_version > s);
        for e in existing {
            if is_latest && e.is_latest {
                self.clear_latest.execute([e.row])?;
            }
            if is_first && e.is_first {
                self.clear_first.execute([e.row])?;
            }
            if takes_latest_spec && e.is_latest_spec {
                self.clear_latest_spec.execute([e.row])?;
            }
        }
        let stored = self.ids.next_row();
        self.insert.execute(params![
            seq,
            row.id,
            hash,
            row.object_type,
            row.spec_version,
            version,
            row.version.as_str(),
            row.date_added,
            row.created.map(Version::normalised),
            row.modified.map(Version::normalised),
            row.revoked,
            row.tlp.map(tlp_text),
            row.created_by_ref,
            row.media_type,
            is_first,
            is_latest,
            is_latest_spec,
            row.provenance.kind(),
            row.provenance.name(),
            row.detail,
            row.bytes,
            stored,
        ])?;
        self.ids.add(seq, hash, stored);
        Ok(())
    }
}

/// Stores a batch inside the caller's IMMEDIATE transaction `tx` (the group commit's,
/// which takes the write lock up front, so two processes never deadlock upgrading a
/// read lock), with a `received` ledger entry per version added from a partner. The
/// caller writes what goes with the batch (a sync cursor, a status) in `tx` too.
pub fn add(
    tx: &Connection,
    recent: &RecentIds,
    clock: &dyn Clock,
    collection: Uuid,
    provenance: &Provenance,
    objects: &[NewObject],
) -> Result<Vec<AddOutcome>> {
    let detail = provenance.detail();
    let mut received = Vec::new();
    let (seq, mut last): (i64, i64) = tx
        .prepare_cached("SELECT seq, last_date_added FROM collections WHERE id = ?1")?
        .query_row([collection.to_string()], |row| {
            Ok((row.get(0)?, row.get(1)?))
        })
        .optional()?
        .ok_or_else(|| StoreError::not_found("collection", collection))?;
    let now = clock.now().0;
    let mut outcomes = Vec::with_capacity(objects.len());
    {
        let hashes: Vec<i64> = objects.iter().map(|o| id_hash(&o.id)).collect();
        let mut inserter = Inserter::new(tx, recent, seq, hashes.iter().copied())?;
        let mut latest_of = tx.prepare_cached(LATEST_OF)?;
        for (object, &hash) in objects.iter().zip(&hashes) {
            let existing = inserter.existing(hash, &object.id)?;
            match &object.version {
                Some(version) => {
                    if let Some(found) = existing.iter().find(|e| e.version == version.normalised())
                    {
                        outcomes.push(AddOutcome::AlreadyPresent {
                            version: version.clone(),
                            date_added: Micros(found.date_added),
                        });
                        continue;
                    }
                }
                None if !existing.is_empty() => {
                    // Without modified or created, identical bytes are the same version.
                    let mut recent_rows = Vec::new();
                    inserter.ids.rows_into(seq, hash, &mut recent_rows);
                    let recent_rows: Array = Rc::new(recent_rows);
                    let latest = latest_of
                        .query_row(params![seq, hash, object.id, recent_rows], |row| {
                            Ok((
                                row.get::<_, String>(0)?,
                                row.get::<_, String>(1)?,
                                row.get::<_, i64>(2)?,
                                row.get::<_, Vec<u8>>(3)?,
                            ))
                        })
                        .optional()?;
                    if let Some((normalised, text, date_added, bytes)) = latest
                        && bytes == object.bytes
                    {
                        outcomes.push(AddOutcome::AlreadyPresent {
                            version: Version::from_stored(normalised, text),
                            date_added: Micros(date_added),
                        });
                        continue;
                    }
                }
                None => {}
            }

            let date_added = now.max(last.saturating_add(1));
            last = date_added;
            let version = object
                .version
                .clone()
                .unwrap_or_else(|| Version::from_date_added(Micros(date_added)));
            inserter.insert(
                seq,
                hash,
                &existing,
                &Row {
                    id: &object.id,
                    object_type: &object.object_type,
                    spec_version: &object.spec_version,
                    version: &version,
                    created: object.created.as_ref(),
                    modified: object.modified.as_ref(),
                    revoked: object.revoked,
                    tlp: object.tlp,
                    created_by_ref: object.created_by_ref.as_deref(),
                    media_type: &object.media_type,
                    date_added,
                    provenance,
                    detail: detail.as_deref(),
                    bytes: &object.bytes,
                },
            )?;
            if let Provenance::Partner {
                partner, channel, ..
            } = provenance
            {
                received.push(NewLedgerEntry {
                    direction: Direction::Received,
                    partner: Some(partner.clone()),
                    channel: Some(*channel),
                    collection,
                    object_id: object.id.clone(),
                    version: version.as_str().to_owned(),
                    bytes_sha256: sha256_hex(&object.bytes),
                    rule: RULE_RECEIVED.to_owned(),
                });
            }
            outcomes.push(AddOutcome::Added {
                version,
                date_added: Micros(date_added),
            });
        }
        inserter.ids.merge_if_due(tx)?;
    }
    tx.execute(
        "UPDATE collections SET last_date_added = ?1 WHERE seq = ?2",
        params![last, seq],
    )?;
    ledger::append_in(tx, Micros(now), received)?;
    let added = AddOutcome::count_added(&outcomes);
    tracing::debug!(
        %collection,
        added,
        already_present = outcomes.len() as u64 - added,
        "stored object batch"
    );
    Ok(outcomes)
}

/// Appends the version and spec-version conditions shared by queries and deletes.
/// A statement's arguments, of the several types they come in (an `rarray` among them).
type Args = Vec<Box<dyn ToSql>>;

fn version_conditions(
    sql: &mut String,
    args: &mut Args,
    versions: &[VersionMatch],
    spec_versions: &[String],
) {
    let default = [VersionMatch::Last];
    let versions = if versions.is_empty() {
        &default[..]
    } else {
        versions
    };
    if !versions.contains(&VersionMatch::All) {
        let mut alternatives = Vec::new();
        if versions.contains(&VersionMatch::First) {
            alternatives.push("is_first = 1".to_owned());
        }
        if versions.contains(&VersionMatch::Last) {
            alternatives.push("is_latest = 1".to_owned());
        }
        let at: Vec<&Version> = versions
            .iter()
            .filter_map(|v| match v {
                VersionMatch::At(version) => Some(version),
                _ => None,
            })
            .collect();
        if !at.is_empty() {
            alternatives.push(format!("version IN ({})", placeholders(at.len())));
            for v in at {
                args.push(Box::new(v.normalised().to_owned()));
            }
        }
        // A lone `is_latest = 1` stays a top-level term, so the partial index applies.
        if alternatives.len() == 1 {
            sql.push_str(&format!(" AND {}", alternatives[0]));
        } else {
            sql.push_str(&format!(" AND ({})", alternatives.join(" OR ")));
        }
    }
    if spec_versions.is_empty() {
        sql.push_str(" AND is_latest_spec = 1");
    } else {
        sql.push_str(&format!(
            " AND spec_version IN ({})",
            placeholders(spec_versions.len())
        ));
        for spec_version in spec_versions {
            args.push(Box::new(spec_version.clone()));
        }
    }
}

/// `n` comma-separated `?` parameters.
pub(super) fn placeholders(n: usize) -> String {
    vec!["?"; n].join(", ")
}

/// The columns every query reads, in order; objects pages add `bytes`.
const RECORD_COLUMNS: &str = "id, version, version_text, date_added, media_type, spec_version";

/// The provenance columns objects pages add when asked, after `bytes`.
const PROVENANCE_COLUMNS: &str = "provenance_kind, provenance_name, provenance_detail";

/// Whether a query reads the provenance columns: objects pages that ask for them.
fn reads_provenance(query: &ObjectQuery, with_bytes: bool) -> bool {
    with_bytes && query.with_provenance
}

/// The columns of an objects or manifest page read as records.
fn record_columns(query: &ObjectQuery, with_bytes: bool) -> String {
    format!(
        "{RECORD_COLUMNS}{}{}",
        if with_bytes { ", bytes" } else { "" },
        if reads_provenance(query, with_bytes) {
            format!(", {PROVENANCE_COLUMNS}")
        } else {
            String::new()
        },
    )
}

/// The columns of an objects page read joined: only what the page needs.
const JOINED_COLUMNS: &str = "date_added, bytes";

/// The SQL and arguments of a query on the collection with row number `seq`, reading
/// `columns`; `recent` holds the recent rows of the query's ids, if it names any.
fn query_sql(
    seq: i64,
    query: &ObjectQuery,
    columns: &str,
    recent: Option<Array>,
) -> (String, Args) {
    let after = query
        .added_after
        .into_iter()
        .chain(query.next.map(|c| c.after))
        .max()
        .map_or(i64::MIN, |m| m.0);
    // Without statistics SQLite prefers walking the date_added index to avoid a sort,
    // even for one id in a million rows; an id lookup must go through its own index.
    //
    // The collection and the limit are integers written into the text, not bound:
    // SQLite's planner reads their values (to match the partial index, to cost the
    // LIMIT), and a statement whose plan read a bound value is prepared again every
    // time that parameter is bound. Bound, every page cost a fresh prepare.
    // Without provenance the text is exactly what it was before provenance could be
    // asked for: the hot paging statement is unchanged.
    let mut sql = format!(
        "SELECT {columns} FROM objects{} WHERE collection = {seq} AND date_added > ?",
        if query.ids.is_empty() {
            ""
        } else {
            " NOT INDEXED"
        }
    );
    let mut args: Args = vec![Box::new(after)];
    if !query.ids.is_empty() {
        // The hashes find the listed rows, the recent ones come from memory; the ids
        // confirm them.
        sql.push_str(" AND ");
        sql.push_str(&object_ids::any_of(seq, query.ids.len()));
        for id in &query.ids {
            args.push(Box::new(id_hash(id)));
        }
        args.push(Box::new(recent.unwrap_or_default()));
        for id in &query.ids {
            args.push(Box::new(id.clone()));
        }
    }
    if !query.types.is_empty() {
        sql.push_str(&format!(
            " AND type IN ({})",
            placeholders(query.types.len())
        ));
        for object_type in &query.types {
            args.push(Box::new(object_type.clone()));
        }
    }
    version_conditions(&mut sql, &mut args, &query.versions, &query.spec_versions);
    // One more than asked, to learn whether there are more.
    let fetch = i64::try_from(query.limit).unwrap_or(i64::MAX - 1) + 1;
    sql.push_str(&format!(" ORDER BY date_added LIMIT {fetch}"));
    (sql, args)
}

/// Runs `read` with the recent rows of `query`'s ids ([`RecentIds::rows`]) when it
/// names any, inside one read transaction with them: the rows and the query must see
/// the same snapshot.
fn with_recent<T>(
    conn: &Connection,
    recent: &RecentIds,
    seq: i64,
    query: &ObjectQuery,
    read: impl FnOnce(Option<Array>) -> Result<T>,
) -> Result<T> {
    if query.ids.is_empty() {
        return read(None);
    }
    let tx = conn.unchecked_transaction()?;
    let keys: Vec<(i64, i64)> = query.ids.iter().map(|id| (seq, id_hash(id))).collect();
    let rows = recent.rows(&tx, &keys)?;
    let result = read(Some(rows))?;
    tx.commit()?;
    Ok(result)
}

fn select(
    conn: &Connection,
    recent: &RecentIds,
    collection: Uuid,
    query: &ObjectQuery,
    with_bytes: bool,
) -> Result<Vec<ObjectRecord>> {
    query.check()?;
    let seq = collections::seq(conn, collection)?;
    with_recent(conn, recent, seq, query, |rows| {
        select_rows(conn, seq, query, with_bytes, rows)
    })
}

fn select_rows(
    conn: &Connection,
    seq: i64,
    query: &ObjectQuery,
    with_bytes: bool,
    recent: Option<Array>,
) -> Result<Vec<ObjectRecord>> {
    let (sql, args) = query_sql(seq, query, &record_columns(query, with_bytes), recent);
    let with_provenance = reads_provenance(query, with_bytes);
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map(params_from_iter(args), |row| {
        let record = ObjectRecord {
            id: row.get(0)?,
            version: Version::from_stored(row.get(1)?, row.get(2)?),
            date_added: Micros(row.get(3)?),
            media_type: row.get(4)?,
            spec_version: row.get(5)?,
            bytes: if with_bytes { row.get(6)? } else { Vec::new() },
            provenance: None,
        };
        let provenance = if with_provenance {
            Some((
                row.get::<_, String>(7)?,
                row.get::<_, String>(8)?,
                row.get::<_, Option<String>>(9)?,
            ))
        } else {
            None
        };
        Ok((record, provenance))
    })?;
    rows.map(|row| {
        let (mut record, provenance) = row?;
        if let Some((kind, name, detail)) = provenance {
            record.provenance = Some(Provenance::from_stored(&kind, name, detail.as_deref())?);
        }
        Ok(record)
    })
    .collect()
}

pub fn objects(
    conn: &Connection,
    recent: &RecentIds,
    collection: Uuid,
    query: &ObjectQuery,
) -> Result<Page<ObjectRecord>> {
    let records = select(conn, recent, collection, query, true)?;
    Ok(Page::from_fetched(records, query.limit, |r| r.date_added))
}

/// [`objects`], joined ([`JoinedPage`]): each row's bytes appended where it lies in
/// SQLite's row, with no record per object (a third of a page's CPU time went to
/// making and freeing them).
pub fn objects_joined(
    conn: &Connection,
    recent: &RecentIds,
    collection: Uuid,
    query: &ObjectQuery,
) -> Result<JoinedPage> {
    query.check()?;
    let seq = collections::seq(conn, collection)?;
    with_recent(conn, recent, seq, query, |rows| {
        joined_rows(conn, seq, query, rows)
    })
}

fn joined_rows(
    conn: &Connection,
    seq: i64,
    query: &ObjectQuery,
    recent: Option<Array>,
) -> Result<JoinedPage> {
    let (sql, args) = query_sql(seq, query, JOINED_COLUMNS, recent);
    let mut stmt = conn.prepare_cached(&sql)?;
    let mut rows = stmt.query(params_from_iter(args))?;
    let mut page = JoinedPage::default();
    while let Some(row) = rows.next()? {
        let date_added = Micros(row.get(0)?);
        if page.count == query.limit {
            page.more = true;
            page.next = page.last_added.map(|after| Cursor { after });
            break;
        }
        let bytes = row.get_ref(1)?.as_blob().map_err(rusqlite::Error::from)?;
        if page.count == 0 {
            page.reserve_objects(query.limit, bytes.len() + bytes.len() / 4);
        }
        page.push(bytes);
        page.first_added.get_or_insert(date_added);
        page.last_added = Some(date_added);
    }
    Ok(page)
}

pub fn manifest(
    conn: &Connection,
    recent: &RecentIds,
    collection: Uuid,
    query: &ObjectQuery,
) -> Result<Page<ManifestRecord>> {
    let records = select(conn, recent, collection, query, false)?
        .into_iter()
        .map(|r| ManifestRecord {
            id: r.id,
            version: r.version,
            date_added: r.date_added,
            media_type: r.media_type,
            spec_version: r.spec_version,
        })
        .collect();
    Ok(Page::from_fetched(records, query.limit, |r| r.date_added))
}

/// Deletes versions in one IMMEDIATE transaction that also appends a `deleted` ledger
/// entry per version deleted (in version order).
pub fn delete(
    conn: &mut Connection,
    recent: &RecentIds,
    clock: &dyn Clock,
    collection: Uuid,
    id: &str,
    filter: &DeleteFilter,
) -> Result<u64> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let seq = collections::seq(&tx, collection)?;
    let mut sql = DELETE_OF.to_owned();
    let hash = id_hash(id);
    // Found as a read finds them, before anything changes: a delete adds no row, so it
    // leaves the map as true as it found it (entries of deleted rows are stale, which
    // lookups tolerate) and nothing needs undoing if it rolls back.
    let recent_rows = recent.rows(&tx, &[(seq, hash)])?;
    let mut args: Args = vec![
        Box::new(seq),
        Box::new(hash),
        Box::new(id.to_owned()),
        Box::new(Rc::clone(&recent_rows)),
    ];
    version_conditions(&mut sql, &mut args, &filter.versions, &filter.spec_versions);
    sql.push_str(" RETURNING version, version_text, bytes, seq");
    let mut deleted = tx
        .prepare(&sql)?
        .query_map(params_from_iter(args), |row| {
            Ok((
                row.get::<_, String>(0)?,
                row.get::<_, String>(1)?,
                row.get::<_, Vec<u8>>(2)?,
                row.get::<_, i64>(3)?,
            ))
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    for (.., row) in &deleted {
        object_ids::remove(&tx, seq, hash, *row)?;
    }
    if !deleted.is_empty() {
        // What remains gets its first/last/latest-spec flags recomputed.
        tx.prepare_cached(RECOMPUTE_FLAGS)?
            .execute(params![seq, hash, id, recent_rows])?;
    }
    deleted.sort_by(|a, b| a.0.cmp(&b.0));
    let count = deleted.len() as u64;
    let entries = deleted
        .into_iter()
        .map(|(_, version_text, bytes, _)| NewLedgerEntry {
            direction: Direction::Deleted,
            partner: None,
            channel: None,
            collection,
            object_id: id.to_owned(),
            version: version_text,
            bytes_sha256: sha256_hex(&bytes),
            rule: RULE_LOCAL_DELETE.to_owned(),
        })
        .collect();
    ledger::append_in(&tx, clock.now(), entries)?;
    tx.commit()?;
    Ok(count)
}

pub fn provenance(
    conn: &Connection,
    recent: &RecentIds,
    collection: Uuid,
    id: &str,
    version: &Version,
) -> Result<Provenance> {
    let seq = collections::seq(conn, collection)?;
    let hash = id_hash(id);
    let tx = conn.unchecked_transaction()?;
    let recent_rows = recent.rows(&tx, &[(seq, hash)])?;
    let found = tx
        .prepare_cached(PROVENANCE_OF)?
        .query_row(
            params![seq, hash, id, recent_rows, version.normalised()],
            |row| {
                Ok((
                    row.get::<_, String>(0)?,
                    row.get::<_, String>(1)?,
                    row.get::<_, Option<String>>(2)?,
                ))
            },
        )
        .optional()?;
    tx.commit()?;
    let (kind, name, detail) =
        found.ok_or_else(|| StoreError::not_found("object version", format!("{id} {version}")))?;
    Provenance::from_stored(&kind, name, detail.as_deref())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A new database in memory, ready for the statements above.
    fn memory_db() -> Connection {
        let mut conn = Connection::open_in_memory().unwrap();
        object_ids::prepare_connection(&conn).unwrap();
        super::super::migrate::migrate(&mut conn).unwrap();
        conn
    }

    /// The plan SQLite chooses for a query, as one line per step.
    fn plan(query: &ObjectQuery) -> String {
        let conn = memory_db();
        let (sql, args) = query_sql(
            1,
            query,
            &record_columns(query, true),
            Some(Array::default()),
        );
        let mut stmt = conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).unwrap();
        let rows = stmt
            .query_map(params_from_iter(args), |row| row.get::<_, String>(3))
            .unwrap();
        rows.map(Result::unwrap).collect::<Vec<_>>().join("\n")
    }

    /// Every statement that names one object must reach it through the id index, never by
    /// walking the collection.
    #[test]
    fn per_object_statements_use_the_id_index() {
        let conn = memory_db();
        for sql in PER_OBJECT_STATEMENTS {
            let mut stmt = conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).unwrap();
            let n = stmt.parameter_count();
            // The plan does not depend on the values: every parameter may be an array.
            let args: Vec<Array> = (0..n).map(|_| Array::default()).collect();
            let plan = stmt
                .query_map(params_from_iter(args), |row| row.get::<_, String>(3))
                .unwrap()
                .map(Result::unwrap)
                .collect::<Vec<_>>()
                .join("\n");
            if *sql != VERSIONS_AT {
                assert!(plan.contains("object_ids"), "{sql}\n{plan}");
            }
            assert!(!plan.contains("SCAN objects"), "{sql}\n{plan}");
            // Reads are joins: no temporary list built per lookup.
            if sql.starts_with("SELECT") {
                assert!(!plan.contains("LIST SUBQUERY"), "{sql}\n{plan}");
                assert!(!plan.contains("MATERIALIZE"), "{sql}\n{plan}");
            }
        }
    }

    /// A page query is prepared once per connection, not again for every page: a
    /// value the planner reads must not be a bound parameter.
    #[test]
    fn paging_reuses_its_prepared_statement() {
        let conn = memory_db();
        let collection = Uuid::new_v4();
        conn.execute(
            "INSERT INTO collections (seq, id, title, created) VALUES (7, ?1, 't', 0)",
            [collection.to_string()],
        )
        .unwrap();
        for after in [1, 2, 3] {
            let query = ObjectQuery {
                next: Some(Cursor {
                    after: Micros(after),
                }),
                limit: 10,
                ..ObjectQuery::default()
            };
            objects(&conn, &RecentIds::default(), collection, &query).unwrap();
        }
        let query = ObjectQuery {
            limit: 10,
            ..ObjectQuery::default()
        };
        let (sql, _) = query_sql(7, &query, &record_columns(&query, true), None);
        let stmt = conn.prepare_cached(&sql).unwrap();
        assert_eq!(stmt.get_status(rusqlite::StatementStatus::Run), 3);
        assert_eq!(stmt.get_status(rusqlite::StatementStatus::RePrepare), 0);
    }

    #[test]
    fn default_paging_walks_the_latest_index_without_sorting() {
        let p = plan(&ObjectQuery::default());
        assert!(p.contains("objects_latest_by_date_added"), "{p}");
        assert!(!p.contains("TEMP B-TREE"), "{p}");
    }

    /// Asking for provenance adds columns and nothing else: the same plan, and without
    /// it the statement is the one paging always ran.
    #[test]
    fn provenance_is_read_only_when_asked() {
        let plain = ObjectQuery::default();
        let (sql, _) = query_sql(1, &plain, &record_columns(&plain, true), None);
        assert_eq!(
            sql,
            "SELECT id, version, version_text, date_added, media_type, spec_version, bytes \
             FROM objects WHERE collection = 1 AND date_added > ? AND is_latest = 1 \
             AND is_latest_spec = 1 ORDER BY date_added LIMIT 1001"
        );
        let with = ObjectQuery {
            with_provenance: true,
            ..ObjectQuery::default()
        };
        let (sql, _) = query_sql(1, &with, &record_columns(&with, true), None);
        assert!(sql.contains(PROVENANCE_COLUMNS), "{sql}");
        assert_eq!(plan(&with), plan(&plain));
        let (manifest_sql, _) = query_sql(1, &with, &record_columns(&with, false), None);
        assert!(!manifest_sql.contains("provenance"), "{manifest_sql}");
    }

    #[test]
    fn all_versions_page_by_date_added_without_sorting() {
        let p = plan(&ObjectQuery {
            versions: vec![VersionMatch::All],
            ..ObjectQuery::default()
        });
        assert!(p.contains("objects_by_date_added"), "{p}");
        assert!(!p.contains("TEMP B-TREE"), "{p}");
    }

    #[test]
    fn one_object_is_found_by_its_id_index() {
        for ids in [vec!["indicator--1"], vec!["indicator--1", "indicator--2"]] {
            for versions in [vec![], vec![VersionMatch::All]] {
                let p = plan(&ObjectQuery {
                    ids: ids.iter().map(|&id| id.into()).collect(),
                    versions,
                    ..ObjectQuery::default()
                });
                assert!(p.contains("SEARCH object_ids USING PRIMARY KEY"), "{p}");
                assert!(p.contains("rarray"), "{p}");
                assert!(
                    p.contains("SEARCH objects USING INTEGER PRIMARY KEY"),
                    "{p}"
                );
                assert!(!p.contains("SCAN objects"), "{p}");
            }
        }
    }

    /// Two ids with the same hash stay apart: the hash narrows, the text id decides.
    #[test]
    fn an_id_hash_collision_never_mixes_objects() {
        let conn = memory_db();
        conn.execute_batch(
            "INSERT INTO collections (seq, id, title, created) VALUES (1, 'c', 't', 0);",
        )
        .unwrap();
        let shared = id_hash("indicator--a");
        conn.execute(
            "INSERT INTO objects (collection, id, id_hash, type, spec_version, version, \
               version_text, date_added, revoked, media_type, is_first, is_latest, \
               is_latest_spec, provenance_kind, provenance_name, bytes) \
             VALUES (1, 'indicator--a', ?1, 'indicator', '2.1', 'v', 'v', 1, 0, 'm', 1, 1, 1, \
               'import', 'x', x'00')",
            [shared],
        )
        .unwrap();
        // A recent row: found through the rows handed to the statement.
        let recent: Array = Rc::new(vec![conn.last_insert_rowid().into()]);
        let count = |id: &str| -> usize {
            conn.prepare(VERSIONS_AT)
                .unwrap()
                .query_map(params![recent, 1, id], |_| Ok(()))
                .unwrap()
                .count()
        };
        assert_eq!(count("indicator--a"), 1);
        assert_eq!(count("indicator--b"), 0);
    }

    #[test]
    fn the_id_hash_is_fixed() {
        // Stored in every row: a change here needs a migration that rehashes.
        assert_eq!(id_hash(""), 0xcbf2_9ce4_8422_2325_u64 as i64);
        assert_eq!(id_hash("a"), 0xaf63_dc4c_8601_ec8c_u64 as i64);
    }
}
