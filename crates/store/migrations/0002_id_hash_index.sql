-- Schema version 2: object versions are found by a 64-bit hash of the id.
-- The text-id index (collection, id, version) made every insert of a random UUID id
-- rewrite a page of a large index; entries of (collection, id_hash) are a quarter the
-- size. The hash only narrows: every lookup also compares the text id. Uniqueness of
-- (collection, id, version) is kept by the insert path, which reads an id's versions
-- inside its IMMEDIATE transaction before adding one.
-- `id_hash` of rows already stored is filled in by the program (migrate.rs) after this
-- script, in the same transaction: SQLite has no 64-bit hash function of its own.
ALTER TABLE objects ADD COLUMN id_hash INTEGER NOT NULL DEFAULT 0;
DROP INDEX objects_by_version;
CREATE INDEX objects_by_id_hash ON objects(collection, id_hash);
