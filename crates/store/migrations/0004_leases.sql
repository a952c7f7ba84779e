-- Schema version 4: leases (issue 5). A lease is a named right, held by one
-- process at a time until it expires, that processes sharing the database take
-- turns on (such as `sync:<partner>`, so one process syncs with a partner at a time).
-- `expires` is in µs since the epoch by the store's clock; a row whose `expires`
-- has passed is free, whoever it names.
CREATE TABLE leases (
    name TEXT PRIMARY KEY,
    holder TEXT NOT NULL,
    expires INTEGER NOT NULL
) WITHOUT ROWID;
