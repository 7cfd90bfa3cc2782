-- Facts about the database itself, e.g. a check value that proves the configured encryption
-- key is the one existing secrets were sealed with.
CREATE TABLE server_meta (
    name  TEXT NOT NULL PRIMARY KEY,
    value TEXT NOT NULL
);
