-- Schema version 3: federation (issue 4). Provenance from partners, the disclosure
-- ledger, per-partner sync state, and accounts tied to partners.

-- `Provenance::Partner` keeps its channel and signature check here ("push verified
-- identity--…"); NULL for the other kinds. Kind and name stay in their columns.
ALTER TABLE objects ADD COLUMN provenance_detail TEXT;

-- The append-only, hash-chained record of what left and entered the node.
-- `seq` has no gaps: each append takes the last entry under the write lock and
-- continues from it, and computes `prev_hash`/`hash` (see store::ledger) there too.
CREATE TABLE ledger (
    seq INTEGER PRIMARY KEY,
    time INTEGER NOT NULL,
    direction TEXT NOT NULL CHECK (direction IN ('disclosed', 'received', 'deleted')),
    partner TEXT,
    channel TEXT CHECK (channel IN ('pull', 'push', 'file')),
    collection TEXT NOT NULL,
    object_id TEXT NOT NULL,
    version TEXT NOT NULL,
    bytes_sha256 TEXT NOT NULL,
    rule TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
CREATE INDEX ledger_by_partner ON ledger(partner, seq);
CREATE INDEX ledger_by_time ON ledger(time);

-- Where each partner's pull, push or file exchange stands, per collection
-- (the remote collection id for pull, the local collection id for push and file).
CREATE TABLE sync_state (
    partner TEXT NOT NULL,
    collection TEXT NOT NULL,
    direction TEXT NOT NULL CHECK (direction IN ('pull', 'push', 'file')),
    cursor TEXT,
    last_success INTEGER,
    last_attempt INTEGER,
    last_error TEXT,
    objects INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (partner, collection, direction)
) WITHOUT ROWID;

-- The partner whose node uses this account to pull from us, if any.
ALTER TABLE accounts ADD COLUMN partner TEXT;
