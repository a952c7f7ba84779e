-- Schema version 7: the id index's recent level leaves the file. Versions stored after
-- the watermark `merged_through` are found through a map each process keeps in memory
-- and rebuilds from those rows (sqlite/object_ids.rs says why); `object_ids` lists
-- every version up to the watermark. `version` counts the writes that stored objects,
-- so a process sees when another one stored some since it last looked.
INSERT INTO object_ids (collection, id_hash, seq)
    SELECT collection, id_hash, seq FROM recent_object_ids ORDER BY collection, id_hash, seq;

DROP TABLE recent_object_ids;

CREATE TABLE id_index (
    one INTEGER PRIMARY KEY CHECK (one = 1),
    merged_through INTEGER NOT NULL,
    version INTEGER NOT NULL
);

INSERT INTO id_index (one, merged_through, version)
    SELECT 1, coalesce(max(seq), 0), 0 FROM objects;
