//! The PostgreSQL integrity check. PostgreSQL looks after its own pages and foreign keys,
//! so this checks the bookkeeping Passerelle keeps on top of them: the schema version,
//! each object's first/last/latest-spec flags, each collection's `last_date_added`, and
//! the ledger's `seq` (no gaps) and links.

use deadpool_postgres::GenericClient;

use super::migrate::SCHEMA_VERSION;
use crate::error::Result;
use crate::health::IntegrityReport;

/// The most problems of one kind listed; the count says how many more there are.
const MAX_LISTED: i64 = 20;

pub async fn check(client: &impl GenericClient) -> Result<IntegrityReport> {
    let mut problems = Vec::new();

    let version: i64 = client
        .query_one(
            "SELECT COALESCE(max(version), 0)::bigint FROM schema_migrations",
            &[],
        )
        .await?
        .try_get(0)?;
    if version != SCHEMA_VERSION {
        problems.push(format!(
            "schema version {version}, this program writes {SCHEMA_VERSION}"
        ));
    }

    // A version's flags must say what its object's versions say: latest and first
    // are the newest and oldest version, latest-spec the newest spec version.
    let rows = client
        .query(
            "WITH flagged AS ( \
               SELECT collection, id, version, is_latest, is_first, is_latest_spec, \
                 version = max(version) OVER w AS newest, \
                 version = min(version) OVER w AS oldest, \
                 spec_version = max(spec_version) OVER w AS newest_spec \
               FROM objects WINDOW w AS (PARTITION BY collection, id)) \
             SELECT c.id::text, f.id, f.version, \
               f.is_latest <> f.newest, f.is_first <> f.oldest, \
               f.is_latest_spec <> f.newest_spec, count(*) OVER () \
             FROM flagged f JOIN collections c ON c.seq = f.collection \
             WHERE f.is_latest <> f.newest OR f.is_first <> f.oldest \
               OR f.is_latest_spec <> f.newest_spec \
             ORDER BY c.id, f.id, f.version LIMIT $1",
            &[&MAX_LISTED],
        )
        .await?;
    for row in &rows {
        let (collection, id, version): (String, String, String) =
            (row.try_get(0)?, row.try_get(1)?, row.try_get(2)?);
        let wrong: Vec<&str> = [(3, "is_latest"), (4, "is_first"), (5, "is_latest_spec")]
            .into_iter()
            .filter_map(|(i, flag)| match row.try_get::<_, bool>(i) {
                Ok(true) => Some(flag),
                _ => None,
            })
            .collect();
        problems.push(format!(
            "collection {collection}: {id} version {version} has a wrong {}",
            wrong.join(" and ")
        ));
    }
    if let Some(row) = rows.first() {
        let total: i64 = row.try_get(6)?;
        if total > MAX_LISTED {
            problems.push(format!(
                "{} more object versions with wrong flags",
                total - MAX_LISTED
            ));
        }
    }

    // A date_added above the collection's last one would be given again.
    let rows = client
        .query(
            "SELECT c.id::text, c.last_date_added, o.newest \
             FROM collections c JOIN (SELECT collection, max(date_added) AS newest \
               FROM objects GROUP BY collection) o ON o.collection = c.seq \
             WHERE o.newest > c.last_date_added ORDER BY c.id LIMIT $1",
            &[&MAX_LISTED],
        )
        .await?;
    for row in &rows {
        let (collection, last, newest): (String, i64, i64) =
            (row.try_get(0)?, row.try_get(1)?, row.try_get(2)?);
        problems.push(format!(
            "collection {collection}: last_date_added {last} is below a stored date_added {newest}"
        ));
    }

    // The ledger runs from 1 with no gaps, each entry linked to the one before.
    let row = client
        .query_one(
            "SELECT count(*), COALESCE(min(seq), 1), COALESCE(max(seq), 0) FROM ledger",
            &[],
        )
        .await?;
    let (count, first, last): (i64, i64, i64) = (row.try_get(0)?, row.try_get(1)?, row.try_get(2)?);
    if first != 1 || last != count {
        problems.push(format!(
            "the ledger holds {count} entries numbered {first} to {last}: entries are missing"
        ));
    }
    let rows = client
        .query(
            "SELECT l.seq FROM ledger l JOIN ledger p ON p.seq = l.seq - 1 \
             WHERE l.prev_hash <> p.hash ORDER BY l.seq LIMIT $1",
            &[&MAX_LISTED],
        )
        .await?;
    for row in &rows {
        let seq: i64 = row.try_get(0)?;
        problems.push(format!(
            "ledger entry {seq}: its prev_hash is not entry {}'s hash",
            seq - 1
        ));
    }
    Ok(IntegrityReport { problems })
}
