-- Schema version 7: the two id tables keyed by (id_hash, collection, seq) instead of
-- (collection, id_hash, seq). Every key SQLite compares while it searches these tables
-- began with the same collection number, so no comparison was decided by the first
-- field and each went on through SQLite's general record comparison; with the hash
-- first, almost every comparison is decided by one integer (measured in BENCHMARKS.md).
-- Lookups give both the collection and the hash, so they use the key as before.
-- The columns keep their declared order; only the key changes.
CREATE TABLE object_ids_by_hash (
    collection INTEGER NOT NULL,
    id_hash INTEGER NOT NULL,
    seq INTEGER NOT NULL,
    PRIMARY KEY (id_hash, collection, seq)
) WITHOUT ROWID;
INSERT INTO object_ids_by_hash (collection, id_hash, seq)
    SELECT collection, id_hash, seq FROM object_ids ORDER BY id_hash, collection, seq;
DROP TABLE object_ids;
ALTER TABLE object_ids_by_hash RENAME TO object_ids;

CREATE TABLE recent_object_ids_by_hash (
    collection INTEGER NOT NULL,
    id_hash INTEGER NOT NULL,
    seq INTEGER NOT NULL,
    PRIMARY KEY (id_hash, collection, seq)
) WITHOUT ROWID;
INSERT INTO recent_object_ids_by_hash (collection, id_hash, seq)
    SELECT collection, id_hash, seq FROM recent_object_ids ORDER BY id_hash, collection, seq;
DROP TABLE recent_object_ids;
ALTER TABLE recent_object_ids_by_hash RENAME TO recent_object_ids;
