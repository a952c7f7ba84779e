-- Schema version 1: collections, object versions, statuses, accounts, tokens, rights.
-- Times are integers in microseconds since the Unix epoch.

CREATE TABLE collections (
    seq INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    title TEXT NOT NULL,
    description TEXT,
    alias TEXT UNIQUE,
    created INTEGER NOT NULL,
    -- The highest date_added ever given in this collection (deletions do not lower it),
    -- so date_added stays strictly increasing.
    last_date_added INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE objects (
    seq INTEGER PRIMARY KEY,
    collection INTEGER NOT NULL REFERENCES collections(seq) ON DELETE CASCADE,
    id TEXT NOT NULL,
    type TEXT NOT NULL,
    spec_version TEXT NOT NULL,
    -- Fixed-width normalised timestamp (text order is time order) and the text as written.
    version TEXT NOT NULL,
    version_text TEXT NOT NULL,
    date_added INTEGER NOT NULL,
    created TEXT,
    modified TEXT,
    revoked INTEGER NOT NULL,
    tlp TEXT,
    created_by_ref TEXT,
    media_type TEXT NOT NULL,
    -- Maintained on every insert and delete so first/last/latest-spec are index lookups.
    is_first INTEGER NOT NULL,
    is_latest INTEGER NOT NULL,
    is_latest_spec INTEGER NOT NULL,
    provenance_kind TEXT NOT NULL,
    provenance_name TEXT NOT NULL,
    bytes BLOB NOT NULL
);

-- Paging: date_added is unique per collection.
CREATE UNIQUE INDEX objects_by_date_added ON objects(collection, date_added);
-- One object's versions; idempotent adds.
CREATE UNIQUE INDEX objects_by_version ON objects(collection, id, version);
-- Paging over the latest versions only (match[version]=last, the default).
CREATE INDEX objects_latest_by_date_added ON objects(collection, date_added) WHERE is_latest = 1;

CREATE TABLE statuses (
    id TEXT PRIMARY KEY,
    account TEXT NOT NULL,
    request_timestamp INTEGER NOT NULL,
    total_count INTEGER NOT NULL,
    -- {"successes":[[id,version,message|null],...],"failures":[...],"pendings":[...]}
    details TEXT NOT NULL
);

CREATE TABLE accounts (
    seq INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    admin INTEGER NOT NULL,
    password_hash TEXT,
    created INTEGER NOT NULL
);

CREATE TABLE tokens (
    seq INTEGER PRIMARY KEY,
    account INTEGER NOT NULL REFERENCES accounts(seq) ON DELETE CASCADE,
    name TEXT NOT NULL,
    hash BLOB NOT NULL UNIQUE,
    created INTEGER NOT NULL,
    UNIQUE (account, name)
);

CREATE TABLE rights (
    account INTEGER NOT NULL REFERENCES accounts(seq) ON DELETE CASCADE,
    collection INTEGER NOT NULL REFERENCES collections(seq) ON DELETE CASCADE,
    can_read INTEGER NOT NULL,
    can_write INTEGER NOT NULL,
    PRIMARY KEY (account, collection)
) WITHOUT ROWID;

CREATE INDEX rights_by_collection ON rights(collection);
