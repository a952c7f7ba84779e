-- PostgreSQL schema version 1: the meaning of SQLite's schema version 3 in one step
-- (collections, object versions with provenance, statuses, accounts, tokens, rights,
-- the disclosure ledger and sync state).
-- Times are bigint microseconds since the Unix epoch; bytes are bytea.
-- Text that is ordered or compared (names, titles, versions, spec versions) is
-- COLLATE "C": byte order, as SQLite compares, whatever the database's locale.

CREATE TABLE collections (
    seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id uuid NOT NULL UNIQUE,
    title text COLLATE "C" NOT NULL,
    description text,
    alias text COLLATE "C" UNIQUE,
    created bigint NOT NULL,
    -- The highest date_added ever given in this collection (deletions do not lower it).
    -- Writers lock this row (SELECT ... FOR NO KEY UPDATE) before giving date_added,
    -- so within a collection commit order is date_added order.
    last_date_added bigint NOT NULL DEFAULT 0
);

CREATE TABLE objects (
    seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    collection bigint NOT NULL REFERENCES collections(seq) ON DELETE CASCADE,
    id text COLLATE "C" NOT NULL,
    type text COLLATE "C" NOT NULL,
    spec_version text COLLATE "C" NOT NULL,
    -- Fixed-width normalised timestamp (text order is time order) and the text as written.
    version text COLLATE "C" NOT NULL,
    version_text text NOT NULL,
    date_added bigint NOT NULL,
    created text COLLATE "C",
    modified text COLLATE "C",
    revoked boolean NOT NULL,
    tlp text,
    created_by_ref text,
    media_type text NOT NULL,
    -- Maintained on every insert and delete so first/last/latest-spec are index lookups.
    is_first boolean NOT NULL,
    is_latest boolean NOT NULL,
    is_latest_spec boolean NOT NULL,
    provenance_kind text NOT NULL,
    provenance_name text NOT NULL,
    -- `Provenance::Partner`'s channel and signature check ("push verified identity--…").
    provenance_detail text,
    bytes bytea NOT NULL
);

-- Paging: date_added is unique per collection.
CREATE UNIQUE INDEX objects_by_date_added ON objects(collection, date_added);
-- One object's versions; a version is stored once even with several writers.
CREATE UNIQUE INDEX objects_by_version ON objects(collection, id, version);
-- Paging over the latest versions only (match[version]=last, the default).
CREATE INDEX objects_latest_by_date_added ON objects(collection, date_added) WHERE is_latest;

CREATE TABLE statuses (
    id uuid PRIMARY KEY,
    account text NOT NULL,
    request_timestamp bigint NOT NULL,
    total_count bigint NOT NULL,
    -- {"successes":[[id,version,message|null],...],"failures":[...],"pendings":[...]}
    details text NOT NULL
);

CREATE TABLE accounts (
    seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name text COLLATE "C" NOT NULL UNIQUE,
    admin boolean NOT NULL,
    password_hash text,
    created bigint NOT NULL,
    -- The partner whose node uses this account to pull from us, if any.
    partner text
);

CREATE TABLE tokens (
    seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account bigint NOT NULL REFERENCES accounts(seq) ON DELETE CASCADE,
    name text COLLATE "C" NOT NULL,
    hash bytea NOT NULL UNIQUE,
    created bigint NOT NULL,
    UNIQUE (account, name)
);

CREATE TABLE rights (
    account bigint NOT NULL REFERENCES accounts(seq) ON DELETE CASCADE,
    collection bigint NOT NULL REFERENCES collections(seq) ON DELETE CASCADE,
    can_read boolean NOT NULL,
    can_write boolean NOT NULL,
    PRIMARY KEY (account, collection)
);

CREATE INDEX rights_by_collection ON rights(collection);

-- The append-only, hash-chained record of what left and entered the node.
-- `seq` has no gaps: each append takes the ledger's advisory lock
-- (pg_advisory_xact_lock), reads the last entry and continues from it, computing
-- `prev_hash`/`hash` (see store::ledger) in the same transaction.
CREATE TABLE ledger (
    seq bigint PRIMARY KEY,
    time bigint NOT NULL,
    direction text NOT NULL CHECK (direction IN ('disclosed', 'received', 'deleted')),
    partner text COLLATE "C",
    channel text CHECK (channel IN ('pull', 'push', 'file')),
    collection uuid NOT NULL,
    object_id text NOT NULL,
    version text NOT NULL,
    bytes_sha256 text NOT NULL,
    rule text NOT NULL,
    prev_hash text NOT NULL,
    hash text NOT NULL
);
CREATE INDEX ledger_by_partner ON ledger(partner, seq);
CREATE INDEX ledger_by_time ON ledger(time);

-- Where each partner's pull, push or file exchange stands, per collection
-- (the remote collection id for pull, the local collection id for push and file).
CREATE TABLE sync_state (
    partner text COLLATE "C" NOT NULL,
    collection text COLLATE "C" NOT NULL,
    direction text COLLATE "C" NOT NULL CHECK (direction IN ('pull', 'push', 'file')),
    cursor text,
    last_success bigint,
    last_attempt bigint,
    last_error text,
    objects bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (partner, collection, direction)
);
