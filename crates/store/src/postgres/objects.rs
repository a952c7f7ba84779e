//! Object versions in PostgreSQL: batch insert (one statement per batch, its columns as
//! arrays) with the first/last flags kept right, paged queries that return stored bytes
//! untouched, and deletes; for a whole-node copy, versions read with every column
//! (`dump`) and written back as they were (`restore`, through the same insert path).
//!
//! Every write locks the collection's row first (see the `postgres` module doc), so
//! what a batch reads of an object's versions cannot change before it commits, and
//! the unique index on (collection, id, version) is a last guard rather than the rule.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};

use deadpool_postgres::{GenericClient, Transaction};
use tokio_postgres::Row;
use tokio_postgres::types::ToSql;
use uuid::Uuid;

use super::{collections, ledger, nul};
use crate::dump::{StoredVersion, tlp_from_text};
use crate::error::{Result, StoreError};
use crate::ledger::{Direction, NewLedgerEntry, RULE_LOCAL_DELETE, RULE_RECEIVED, sha256_hex};
use crate::object::{AddOutcome, ManifestRecord, NewObject, ObjectRecord, Provenance, Version};
use crate::query::{DeleteFilter, ObjectQuery, Page, VersionMatch};
use crate::time::{Clock, Micros};

/// A version of an object as the insert logic needs it: stored before the batch, or
/// added by it.
struct Known {
    /// Normalised version text.
    version: String,
    /// The version as written.
    text: String,
    date_added: i64,
    spec_version: String,
}

/// What a batch knows of one object id: its versions, and what it held before the batch
/// (to tell which stored rows lose their first/last/latest-spec flag).
#[derive(Default)]
struct IdState {
    versions: Vec<Known>,
    stored_newest: Option<String>,
    stored_oldest: Option<String>,
    stored_newest_spec: Option<String>,
    /// The bytes of the newest version, kept only for ids the batch holds an object
    /// without a version for (those are the same version when their bytes are equal).
    newest_bytes: Option<Vec<u8>>,
}

impl IdState {
    fn newest(&self) -> Option<&Known> {
        self.versions
            .iter()
            .max_by(|a, b| a.version.cmp(&b.version))
    }
}

/// One row the batch inserts; its flags are set once the whole batch is known.
/// Added objects share their batch's provenance; restored versions bring their own.
struct NewRow<'p> {
    object: NewObject,
    version: Version,
    date_added: i64,
    provenance: Cow<'p, Provenance>,
}

/// Reads what is stored of the batch's `ids` (distinct), in two statements: every
/// version, and the newest bytes of the stored ones among `needs_bytes` (the ids the
/// batch holds an object without a version for).
async fn stored_state(
    tx: &Transaction<'_>,
    seq: i64,
    ids: &[&str],
    needs_bytes: &HashSet<&str>,
) -> Result<HashMap<String, IdState>> {
    let mut state: HashMap<String, IdState> = HashMap::with_capacity(ids.len());
    let stmt = tx
        .prepare_cached(
            "SELECT id, version, version_text, date_added, spec_version FROM objects \
             WHERE collection = $1 AND id = ANY($2::text[])",
        )
        .await?;
    for row in tx.query(&stmt, &[&seq, &nul::keys(ids)]).await? {
        let id: String = row.try_get(0)?;
        state.entry(id).or_default().versions.push(Known {
            version: row.try_get(1)?,
            text: row.try_get(2)?,
            date_added: row.try_get(3)?,
            spec_version: row.try_get(4)?,
        });
    }
    for held in state.values_mut() {
        held.stored_newest = held.versions.iter().map(|k| k.version.clone()).max();
        held.stored_oldest = held.versions.iter().map(|k| k.version.clone()).min();
        held.stored_newest_spec = held.versions.iter().map(|k| k.spec_version.clone()).max();
    }
    let unversioned: Vec<&str> = needs_bytes
        .iter()
        .copied()
        .filter(|id| state.contains_key(*id))
        .collect();
    if !unversioned.is_empty() {
        let stmt = tx
            .prepare_cached(
                "SELECT id, bytes FROM objects \
                 WHERE collection = $1 AND id = ANY($2::text[]) AND is_latest",
            )
            .await?;
        for row in tx.query(&stmt, &[&seq, &unversioned]).await? {
            let id: String = row.try_get(0)?;
            if let Some(held) = state.get_mut(&id) {
                held.newest_bytes = Some(row.try_get(1)?);
            }
        }
    }
    Ok(state)
}

/// Stores a batch in `tx` (the caller commits, with what it writes beside the objects:
/// a sync cursor, a status): the collection's row locked first, what is stored of the
/// batch's ids read, the new versions inserted in one statement, the flags of stored
/// versions they supersede cleared, and a `received` ledger entry per version added
/// from a partner.
pub async fn add(
    tx: &Transaction<'_>,
    clock: &dyn Clock,
    collection: Uuid,
    provenance: &Provenance,
    objects: Vec<NewObject>,
) -> Result<Vec<AddOutcome>> {
    let (seq, mut last) = collections::lock(tx, collection).await?;
    let now = clock.now().0;
    let needs_bytes: HashSet<String> = objects
        .iter()
        .filter(|o| o.version.is_none())
        .map(|o| o.id.clone())
        .collect();
    let mut state = {
        let ids: Vec<&str> = objects
            .iter()
            .map(|o| o.id.as_str())
            .collect::<HashSet<_>>()
            .into_iter()
            .collect();
        let needs_bytes: HashSet<&str> = needs_bytes.iter().map(String::as_str).collect();
        stored_state(tx, seq, &ids, &needs_bytes).await?
    };
    let mut outcomes = Vec::with_capacity(objects.len());
    let mut rows: Vec<NewRow> = Vec::new();
    for object in objects {
        let held = state.entry(object.id.clone()).or_default();
        match &object.version {
            Some(version) => {
                if let Some(found) = held
                    .versions
                    .iter()
                    .find(|k| k.version == version.normalised())
                {
                    outcomes.push(AddOutcome::AlreadyPresent {
                        version: version.clone(),
                        date_added: Micros(found.date_added),
                    });
                    continue;
                }
            }
            None => {
                // Without modified or created, identical bytes are the same version.
                if let (Some(newest), Some(bytes)) = (held.newest(), &held.newest_bytes)
                    && *bytes == object.bytes
                {
                    outcomes.push(AddOutcome::AlreadyPresent {
                        version: Version::from_stored(newest.version.clone(), newest.text.clone()),
                        date_added: Micros(newest.date_added),
                    });
                    continue;
                }
            }
        }
        let date_added = now.max(last.saturating_add(1));
        last = date_added;
        let version = object
            .version
            .clone()
            .unwrap_or_else(|| Version::from_date_added(Micros(date_added)));
        let becomes_newest = held
            .newest()
            .is_none_or(|newest| version.normalised() > newest.version.as_str());
        if becomes_newest && needs_bytes.contains(&object.id) {
            held.newest_bytes = Some(object.bytes.clone());
        }
        held.versions.push(Known {
            version: version.normalised().to_owned(),
            text: version.as_str().to_owned(),
            date_added,
            spec_version: object.spec_version.clone(),
        });
        outcomes.push(AddOutcome::Added {
            version: version.clone(),
            date_added: Micros(date_added),
        });
        rows.push(NewRow {
            object,
            version,
            date_added,
            provenance: Cow::Borrowed(provenance),
        });
    }
    insert_rows(tx, seq, &rows, &state).await?;
    tx.execute(
        "UPDATE collections SET last_date_added = $1 WHERE seq = $2",
        &[&last, &seq],
    )
    .await?;
    if let Provenance::Partner {
        partner, channel, ..
    } = provenance
    {
        let received = rows
            .iter()
            .map(|row| NewLedgerEntry {
                direction: Direction::Received,
                partner: Some(partner.clone()),
                channel: Some(*channel),
                collection,
                object_id: row.object.id.clone(),
                version: row.version.as_str().to_owned(),
                bytes_sha256: sha256_hex(&row.object.bytes),
                rule: RULE_RECEIVED.to_owned(),
            })
            .collect();
        ledger::append_in(tx, Micros(now), received).await?;
    }
    tracing::debug!(
        %collection,
        added = rows.len(),
        already_present = outcomes.len() - rows.len(),
        "stored object batch"
    );
    Ok(outcomes)
}

/// Stores versions read from another store exactly as they are, in one transaction
/// that locks the collection's row first (as adds do): each after the collection's
/// last `date_added` ([`StoredVersion::check_after`]), none already stored, through the
/// one insert path ([`insert_rows`]); the collection's last `date_added` then follows
/// them, raised to `last_date_added` when given and later. No ledger entry is written.
pub async fn restore(
    client: &mut deadpool_postgres::Object,
    collection: Uuid,
    versions: Vec<StoredVersion>,
    last_date_added: Option<Micros>,
) -> Result<()> {
    let tx = client.transaction().await?;
    let (seq, mut last) = collections::lock(&tx, collection).await?;
    let mut state = {
        let ids: Vec<&str> = versions
            .iter()
            .map(|v| v.id.as_str())
            .collect::<HashSet<_>>()
            .into_iter()
            .collect();
        stored_state(&tx, seq, &ids, &HashSet::new()).await?
    };
    let mut rows = Vec::with_capacity(versions.len());
    for stored in versions {
        stored.check_after(collection, Micros(last))?;
        let held = state.entry(stored.id.clone()).or_default();
        if held
            .versions
            .iter()
            .any(|k| k.version == stored.version.normalised())
        {
            return Err(stored.already_stored(collection));
        }
        held.versions.push(Known {
            version: stored.version.normalised().to_owned(),
            text: stored.version.as_str().to_owned(),
            date_added: stored.date_added.0,
            spec_version: stored.spec_version.clone(),
        });
        last = stored.date_added.0;
        rows.push(NewRow {
            object: NewObject {
                id: stored.id,
                object_type: stored.object_type,
                spec_version: stored.spec_version,
                version: Some(stored.version.clone()),
                created: stored.created,
                modified: stored.modified,
                revoked: stored.revoked,
                tlp: stored.tlp,
                created_by_ref: stored.created_by_ref,
                media_type: stored.media_type,
                bytes: stored.bytes,
            },
            version: stored.version,
            date_added: stored.date_added.0,
            provenance: Cow::Owned(stored.provenance),
        });
    }
    insert_rows(&tx, seq, &rows, &state).await?;
    if let Some(mark) = last_date_added {
        last = last.max(mark.0);
    }
    let stmt = tx
        .prepare_cached("UPDATE collections SET last_date_added = $1 WHERE seq = $2")
        .await?;
    tx.execute(&stmt, &[&last, &seq]).await?;
    tx.commit().await?;
    Ok(())
}

/// Up to `limit` versions of a collection added after `after`, in `date_added` order,
/// with every column, through the (collection, date_added) index.
pub async fn dump(
    client: &impl GenericClient,
    collection: Uuid,
    after: Option<Micros>,
    limit: usize,
) -> Result<Vec<StoredVersion>> {
    if limit == 0 {
        return Err(StoreError::Invalid("limit must be at least 1".into()));
    }
    let seq = collections::seq(client, collection).await?;
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let stmt = client
        .prepare_cached(
            "SELECT id, type, spec_version, version, version_text, date_added, created, \
               modified, revoked, tlp, created_by_ref, media_type, provenance_kind, \
               provenance_name, provenance_detail, bytes \
             FROM objects WHERE collection = $1 AND date_added > $2 \
             ORDER BY date_added LIMIT $3",
        )
        .await?;
    let after = after.map_or(i64::MIN, |m| m.0);
    client
        .query(&stmt, &[&seq, &after, &limit])
        .await?
        .iter()
        .map(|row| {
            // `created` and `modified` are kept normalised only.
            let normalised = |text: String| Version::from_stored(text.clone(), text);
            let tlp: Option<String> = row.try_get(9)?;
            let kind: String = row.try_get(12)?;
            let detail: Option<String> = row.try_get(14)?;
            Ok(StoredVersion {
                id: row.try_get(0)?,
                object_type: row.try_get(1)?,
                spec_version: row.try_get(2)?,
                version: Version::from_stored(row.try_get(3)?, row.try_get(4)?),
                date_added: Micros(row.try_get(5)?),
                created: row.try_get::<_, Option<String>>(6)?.map(normalised),
                modified: row.try_get::<_, Option<String>>(7)?.map(normalised),
                revoked: row.try_get(8)?,
                tlp: tlp.as_deref().map(tlp_from_text).transpose()?,
                created_by_ref: row.try_get(10)?,
                media_type: row.try_get(11)?,
                provenance: Provenance::from_stored(&kind, row.try_get(13)?, detail.as_deref())?,
                bytes: row.try_get(15)?,
            })
        })
        .collect()
}

/// Clears the flags stored versions lost to the batch, then inserts the batch's rows in
/// one statement with their flags from the final state of each id: the one insert
/// path, for added objects and restored versions alike.
async fn insert_rows(
    tx: &Transaction<'_>,
    seq: i64,
    rows: &[NewRow<'_>],
    state: &HashMap<String, IdState>,
) -> Result<()> {
    if rows.is_empty() {
        return Ok(());
    }
    // Per id: the newest, oldest and newest spec version once the batch is in.
    struct Final<'a> {
        newest: &'a str,
        oldest: &'a str,
        newest_spec: &'a str,
    }
    let mut finals: HashMap<&str, Final<'_>> = HashMap::new();
    let (mut clear_latest, mut clear_first, mut clear_spec) = (Vec::new(), Vec::new(), Vec::new());
    for row in rows {
        let id = row.object.id.as_str();
        if finals.contains_key(id) {
            continue;
        }
        let Some(held) = state.get(id) else {
            return Err(StoreError::backend(format!(
                "lost track of {id} in a batch"
            )));
        };
        let max = |f: fn(&Known) -> &str| held.versions.iter().map(f).max().unwrap_or("");
        let newest = max(|k| k.version.as_str());
        let newest_spec = max(|k| k.spec_version.as_str());
        let oldest = held
            .versions
            .iter()
            .map(|k| k.version.as_str())
            .min()
            .unwrap_or("");
        if held.stored_newest.as_deref().is_some_and(|v| v != newest) {
            clear_latest.push(id);
        }
        if held.stored_oldest.as_deref().is_some_and(|v| v != oldest) {
            clear_first.push(id);
        }
        if held
            .stored_newest_spec
            .as_deref()
            .is_some_and(|s| s != newest_spec)
        {
            clear_spec.push(id);
        }
        finals.insert(
            id,
            Final {
                newest,
                oldest,
                newest_spec,
            },
        );
    }
    let n = rows.len();
    let mut ids = Vec::with_capacity(n);
    let mut types = Vec::with_capacity(n);
    let mut spec_versions = Vec::with_capacity(n);
    let mut versions = Vec::with_capacity(n);
    let mut version_texts = Vec::with_capacity(n);
    let mut dates = Vec::with_capacity(n);
    let mut created = Vec::with_capacity(n);
    let mut modified = Vec::with_capacity(n);
    let mut revoked = Vec::with_capacity(n);
    let mut tlps = Vec::with_capacity(n);
    let mut created_by = Vec::with_capacity(n);
    let mut media_types = Vec::with_capacity(n);
    let mut firsts = Vec::with_capacity(n);
    let mut latests = Vec::with_capacity(n);
    let mut latest_specs = Vec::with_capacity(n);
    let mut bytes: Vec<&[u8]> = Vec::with_capacity(n);
    let mut kinds = Vec::with_capacity(n);
    let mut names = Vec::with_capacity(n);
    let mut details = Vec::with_capacity(n);
    for row in rows {
        let object = &row.object;
        let Some(fin) = finals.get(object.id.as_str()) else {
            return Err(StoreError::backend(format!(
                "lost track of {} in a batch",
                object.id
            )));
        };
        ids.push(nul::stored("object id", &object.id)?);
        types.push(nul::stored("object type", &object.object_type)?);
        spec_versions.push(nul::stored("object spec_version", &object.spec_version)?);
        versions.push(nul::stored("object version", row.version.normalised())?);
        version_texts.push(nul::stored("object version", row.version.as_str())?);
        dates.push(row.date_added);
        created.push(nul::stored_opt(
            "object created",
            object.created.as_ref().map(Version::normalised),
        )?);
        modified.push(nul::stored_opt(
            "object modified",
            object.modified.as_ref().map(Version::normalised),
        )?);
        revoked.push(object.revoked);
        tlps.push(object.tlp.map(|t| t.tlp_2_0_value()));
        created_by.push(nul::stored_opt(
            "object created_by_ref",
            object.created_by_ref.as_deref(),
        )?);
        media_types.push(nul::stored("object media type", &object.media_type)?);
        firsts.push(row.version.normalised() == fin.oldest);
        latests.push(row.version.normalised() == fin.newest);
        latest_specs.push(object.spec_version == fin.newest_spec);
        bytes.push(&object.bytes);
        kinds.push(row.provenance.kind());
        names.push(nul::stored("provenance name", row.provenance.name())?);
        // The signer in it is whatever a partner's object claims: a NUL there is
        // stored as U+FFFD rather than refusing the partner's whole page.
        details.push(
            row.provenance
                .detail()
                .map(|d| nul::message(&d).into_owned()),
        );
    }
    // Only once every row is known to be storable: a refused batch changes no row.
    for (flag, ids) in [
        ("is_latest", &clear_latest),
        ("is_first", &clear_first),
        ("is_latest_spec", &clear_spec),
    ] {
        if ids.is_empty() {
            continue;
        }
        let stmt = tx
            .prepare_cached(&format!(
                "UPDATE objects SET {flag} = false \
                 WHERE collection = $1 AND id = ANY($2::text[]) AND {flag}"
            ))
            .await?;
        tx.execute(&stmt, &[&seq, ids]).await?;
    }
    let stmt = tx
        .prepare_cached(
            "INSERT INTO objects (collection, id, type, spec_version, version, version_text, \
               date_added, created, modified, revoked, tlp, created_by_ref, media_type, \
               is_first, is_latest, is_latest_spec, provenance_kind, provenance_name, \
               provenance_detail, bytes) \
             SELECT $1, u.id, u.type, u.spec_version, u.version, u.version_text, \
               u.date_added, u.created, u.modified, u.revoked, u.tlp, u.created_by_ref, \
               u.media_type, u.is_first, u.is_latest, u.is_latest_spec, u.kind, u.name, \
               u.detail, u.b \
             FROM UNNEST($2::text[], $3::text[], $4::text[], $5::text[], \
               $6::text[], $7::text[], $8::text[], $9::text[], $10::bigint[], $11::text[], \
               $12::text[], $13::boolean[], $14::text[], $15::text[], $16::text[], \
               $17::boolean[], $18::boolean[], $19::boolean[], $20::bytea[]) \
               AS u(kind, name, detail, id, type, spec_version, version, version_text, \
                 date_added, created, modified, revoked, tlp, created_by_ref, media_type, \
                 is_first, is_latest, is_latest_spec, b)",
        )
        .await?;
    let params: [&(dyn ToSql + Sync); 20] = [
        &seq,
        &kinds,
        &names,
        &details,
        &ids,
        &types,
        &spec_versions,
        &versions,
        &version_texts,
        &dates,
        &created,
        &modified,
        &revoked,
        &tlps,
        &created_by,
        &media_types,
        &firsts,
        &latests,
        &latest_specs,
        &bytes,
    ];
    tx.execute(&stmt, &params).await?;
    Ok(())
}

/// The parameters of a query or delete, in the order their `$n` were written.
struct Args<'a> {
    params: Vec<&'a (dyn ToSql + Sync)>,
}

impl<'a> Args<'a> {
    /// Adds `value` and returns its placeholder.
    fn bind(&mut self, value: &'a (dyn ToSql + Sync)) -> String {
        self.params.push(value);
        format!("${}", self.params.len())
    }
}

/// The values a version filter binds (as lookup keys), held by the caller so they
/// outlive the query.
struct VersionValues<'q> {
    at: Vec<Option<&'q str>>,
    spec_versions: Vec<Option<&'q str>>,
}

impl<'q> VersionValues<'q> {
    fn new(versions: &'q [VersionMatch], spec_versions: &'q [String]) -> VersionValues<'q> {
        VersionValues {
            at: versions
                .iter()
                .filter_map(|v| match v {
                    VersionMatch::At(version) => Some(nul::key(version.normalised())),
                    _ => None,
                })
                .collect(),
            spec_versions: nul::keys(spec_versions),
        }
    }
}

/// Appends the version and spec-version conditions shared by queries and deletes.
fn version_conditions<'a>(
    sql: &mut String,
    args: &mut Args<'a>,
    versions: &[VersionMatch],
    values: &'a VersionValues<'_>,
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
            alternatives.push("is_first".to_owned());
        }
        if versions.contains(&VersionMatch::Last) {
            alternatives.push("is_latest".to_owned());
        }
        if !values.at.is_empty() {
            alternatives.push(format!("version = ANY({}::text[])", args.bind(&values.at)));
        }
        // A lone `is_latest` stays a top-level term, so the partial index applies.
        if alternatives.len() == 1 {
            sql.push_str(&format!(" AND {}", alternatives[0]));
        } else {
            sql.push_str(&format!(" AND ({})", alternatives.join(" OR ")));
        }
    }
    if values.spec_versions.is_empty() {
        sql.push_str(" AND is_latest_spec");
    } else {
        sql.push_str(&format!(
            " AND spec_version = ANY({}::text[])",
            args.bind(&values.spec_versions)
        ));
    }
}

/// The columns every query reads, in order; objects pages add `bytes`.
const RECORD_COLUMNS: &str = "id, version, version_text, date_added, media_type, spec_version";

/// The provenance columns objects pages add when asked, after `bytes`.
const PROVENANCE_COLUMNS: &str = "provenance_kind, provenance_name, provenance_detail";

/// Reads one query's records: a single statement that finds the collection by id in a
/// subquery; only an empty answer costs a second look, to tell an unknown collection.
async fn select(
    client: &impl GenericClient,
    collection: Uuid,
    query: &ObjectQuery,
    with_bytes: bool,
) -> Result<Vec<ObjectRecord>> {
    query.check()?;
    let with_provenance = with_bytes && query.with_provenance;
    let after = query
        .added_after
        .into_iter()
        .chain(query.next.map(|c| c.after))
        .max()
        .map_or(i64::MIN, |m| m.0);
    // One more than asked, to learn whether there are more.
    let fetch = i64::try_from(query.limit)
        .unwrap_or(i64::MAX - 1)
        .saturating_add(1);
    let values = VersionValues::new(&query.versions, &query.spec_versions);
    let (ids, types) = (nul::keys(&query.ids), nul::keys(&query.types));
    let mut args = Args { params: Vec::new() };
    let mut sql = format!(
        "SELECT {RECORD_COLUMNS}{}{} FROM objects \
         WHERE collection = (SELECT seq FROM collections WHERE id = {}) AND date_added > {}",
        if with_bytes { ", bytes" } else { "" },
        if with_provenance {
            format!(", {PROVENANCE_COLUMNS}")
        } else {
            String::new()
        },
        args.bind(&collection),
        args.bind(&after),
    );
    if !ids.is_empty() {
        sql.push_str(&format!(" AND id = ANY({}::text[])", args.bind(&ids)));
    }
    if !types.is_empty() {
        sql.push_str(&format!(" AND type = ANY({}::text[])", args.bind(&types)));
    }
    version_conditions(&mut sql, &mut args, &query.versions, &values);
    sql.push_str(&format!(" ORDER BY date_added LIMIT {}", args.bind(&fetch)));
    let stmt = client.prepare_cached(&sql).await?;
    let rows = client.query(&stmt, &args.params).await?;
    if rows.is_empty() {
        collections::seq(client, collection).await?;
    }
    rows.iter()
        .map(|row| record(row, with_bytes, with_provenance))
        .collect()
}

fn record(row: &Row, with_bytes: bool, with_provenance: bool) -> Result<ObjectRecord> {
    let mut record = ObjectRecord {
        id: row.try_get(0)?,
        version: Version::from_stored(row.try_get(1)?, row.try_get(2)?),
        date_added: Micros(row.try_get(3)?),
        media_type: row.try_get(4)?,
        spec_version: row.try_get(5)?,
        bytes: if with_bytes {
            row.try_get(6)?
        } else {
            Vec::new()
        },
        provenance: None,
    };
    if with_provenance {
        let kind: String = row.try_get(7)?;
        let detail: Option<String> = row.try_get(9)?;
        record.provenance = Some(Provenance::from_stored(
            &kind,
            row.try_get(8)?,
            detail.as_deref(),
        )?);
    }
    Ok(record)
}

pub async fn objects(
    client: &impl GenericClient,
    collection: Uuid,
    query: &ObjectQuery,
) -> Result<Page<ObjectRecord>> {
    let records = select(client, collection, query, true).await?;
    Ok(Page::from_fetched(records, query.limit, |r| r.date_added))
}

pub async fn manifest(
    client: &impl GenericClient,
    collection: Uuid,
    query: &ObjectQuery,
) -> Result<Page<ManifestRecord>> {
    let records = select(client, collection, query, false)
        .await?
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

/// Deletes versions in one transaction that locks the collection's row first (as adds
/// do, so flags never race), recomputes the remaining versions' flags, and appends a
/// `deleted` ledger entry per version deleted (in version order).
pub async fn delete(
    client: &mut deadpool_postgres::Object,
    clock: &dyn Clock,
    collection: Uuid,
    id: &str,
    filter: &DeleteFilter,
) -> Result<u64> {
    let tx = client.transaction().await?;
    let (seq, _) = collections::lock(&tx, collection).await?;
    let values = VersionValues::new(&filter.versions, &filter.spec_versions);
    let id_key = nul::key(id);
    let mut args = Args { params: Vec::new() };
    let mut sql = format!(
        "DELETE FROM objects WHERE collection = {} AND id = {}",
        args.bind(&seq),
        args.bind(&id_key)
    );
    version_conditions(&mut sql, &mut args, &filter.versions, &values);
    sql.push_str(" RETURNING version, version_text, bytes");
    let stmt = tx.prepare_cached(&sql).await?;
    let mut deleted = Vec::new();
    for row in tx.query(&stmt, &args.params).await? {
        deleted.push((
            row.try_get::<_, String>(0)?,
            row.try_get::<_, String>(1)?,
            row.try_get::<_, Vec<u8>>(2)?,
        ));
    }
    if !deleted.is_empty() {
        // What remains gets its first/last/latest-spec flags recomputed; rows whose
        // flags stay are not rewritten.
        let stmt = tx
            .prepare_cached(
                "UPDATE objects o SET is_latest = (o.version = m.newest), \
                   is_first = (o.version = m.oldest), \
                   is_latest_spec = (o.spec_version = m.newest_spec) \
                 FROM (SELECT max(version) AS newest, min(version) AS oldest, \
                         max(spec_version) AS newest_spec \
                       FROM objects WHERE collection = $1 AND id = $2) m \
                 WHERE o.collection = $1 AND o.id = $2 \
                   AND (o.is_latest <> (o.version = m.newest) \
                     OR o.is_first <> (o.version = m.oldest) \
                     OR o.is_latest_spec <> (o.spec_version = m.newest_spec))",
            )
            .await?;
        tx.execute(&stmt, &[&seq, &id_key]).await?;
    }
    deleted.sort_by(|a, b| a.0.cmp(&b.0));
    let count = deleted.len() as u64;
    let entries = deleted
        .into_iter()
        .map(|(_, version_text, bytes)| NewLedgerEntry {
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
    ledger::append_in(&tx, clock.now(), entries).await?;
    tx.commit().await?;
    Ok(count)
}

pub async fn provenance(
    client: &impl GenericClient,
    collection: Uuid,
    id: &str,
    version: &Version,
) -> Result<Provenance> {
    let seq = collections::seq(client, collection).await?;
    let stmt = client
        .prepare_cached(
            "SELECT provenance_kind, provenance_name, provenance_detail FROM objects \
             WHERE collection = $1 AND id = $2 AND version = $3",
        )
        .await?;
    let row = client
        .query_opt(
            &stmt,
            &[&seq, &nul::key(id), &nul::key(version.normalised())],
        )
        .await?
        .ok_or_else(|| StoreError::not_found("object version", format!("{id} {version}")))?;
    let kind: String = row.try_get(0)?;
    let detail: Option<String> = row.try_get(2)?;
    Provenance::from_stored(&kind, row.try_get(1)?, detail.as_deref())
}
