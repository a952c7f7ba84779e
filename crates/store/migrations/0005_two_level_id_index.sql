-- Schema version 5: object versions are found through two id tables instead of one
-- index (sqlite/object_ids.rs says why). `object_ids` holds most entries and is
-- written in sorted runs; `recent_object_ids` takes each new version's entry and is
-- small, so the pages a batch dirties are few; its entries are moved into
-- `object_ids` every few tens of thousands of rows. A version is listed in exactly one
-- of the two. The hash only narrows: every lookup also compares the text id. No
-- foreign key (every insert would check it): deleting a collection deletes its entries.
CREATE TABLE object_ids (
    collection INTEGER NOT NULL,
    id_hash INTEGER NOT NULL,
    seq INTEGER NOT NULL,
    PRIMARY KEY (collection, id_hash, seq)
) WITHOUT ROWID;

CREATE TABLE recent_object_ids (
    collection INTEGER NOT NULL,
    id_hash INTEGER NOT NULL,
    seq INTEGER NOT NULL,
    PRIMARY KEY (collection, id_hash, seq)
) WITHOUT ROWID;

INSERT INTO object_ids (collection, id_hash, seq)
    SELECT collection, id_hash, seq FROM objects ORDER BY collection, id_hash, seq;

DROP INDEX objects_by_id_hash;
