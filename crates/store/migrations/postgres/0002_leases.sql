-- PostgreSQL schema version 2 (SQLite's 4): leases (issue 5). A lease is a named
-- right, held by one process at a time until it expires, that the processes sharing
-- the database take turns on (such as `sync:<partner>`, so one process syncs with a
-- partner at a time). `expires` is in µs since the epoch by the store's clock; a row
-- whose `expires` has passed is free, whoever it names. Each lease is taken, renewed
-- or freed by one statement (an upsert whose WHERE decides), never read then written.
CREATE TABLE leases (
    name text COLLATE "C" PRIMARY KEY,
    holder text NOT NULL,
    expires bigint NOT NULL
);
