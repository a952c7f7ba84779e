-- Schema version 6: `objects` rebuilt with its columns in the order pages read them.
-- SQLite finds a column by walking the record's header up to it; `bytes` was the last
-- of 22 columns, so every row a page served paid for decoding the 21 before it (about
-- a tenth of the server's instructions per page, measured in BENCHMARKS.md). Now what a
-- page reads comes first: date_added, the flags the default filters test (latest
-- version, latest spec version), then bytes.
-- The same rows, the same row numbers (seq) and the same indexes.
CREATE TABLE objects_by_read_order (
    seq INTEGER PRIMARY KEY,
    collection INTEGER NOT NULL REFERENCES collections(seq) ON DELETE CASCADE,
    date_added INTEGER NOT NULL,
    -- Maintained on every insert and delete so first/last/latest-spec are index lookups.
    is_latest INTEGER NOT NULL,
    is_latest_spec INTEGER NOT NULL,
    is_first INTEGER NOT NULL,
    bytes BLOB NOT NULL,
    id TEXT NOT NULL,
    id_hash INTEGER NOT NULL DEFAULT 0,
    type TEXT NOT NULL,
    spec_version TEXT NOT NULL,
    -- Fixed-width normalised timestamp (text order is time order) and the text as written.
    version TEXT NOT NULL,
    version_text TEXT NOT NULL,
    created TEXT,
    modified TEXT,
    revoked INTEGER NOT NULL,
    tlp TEXT,
    created_by_ref TEXT,
    media_type TEXT NOT NULL,
    provenance_kind TEXT NOT NULL,
    provenance_name TEXT NOT NULL,
    provenance_detail TEXT
);

INSERT INTO objects_by_read_order (seq, collection, date_added, is_latest, is_latest_spec,
    is_first, bytes, id, id_hash, type, spec_version, version, version_text, created,
    modified, revoked, tlp, created_by_ref, media_type, provenance_kind, provenance_name,
    provenance_detail)
SELECT seq, collection, date_added, is_latest, is_latest_spec, is_first, bytes, id, id_hash,
    type, spec_version, version, version_text, created, modified, revoked, tlp,
    created_by_ref, media_type, provenance_kind, provenance_name, provenance_detail
FROM objects ORDER BY seq;

DROP TABLE objects;
ALTER TABLE objects_by_read_order RENAME TO objects;

-- Paging: date_added is unique per collection.
CREATE UNIQUE INDEX objects_by_date_added ON objects(collection, date_added);
-- Paging over the latest versions only (match[version]=last, the default).
CREATE INDEX objects_latest_by_date_added ON objects(collection, date_added) WHERE is_latest = 1;
