-- SPEC §10.4: a credential's token epoch (X-Tokens are bound to it).
ALTER TABLE credentials ADD COLUMN secret_epoch BIGINT NOT NULL DEFAULT 0;
-- SPEC §10.2: password checks reserved but not yet settled, and their lease.
ALTER TABLE credentials ADD COLUMN pending_attempts BIGINT NOT NULL DEFAULT 0;
ALTER TABLE credentials ADD COLUMN pending_until TIMESTAMP NULL;

-- SPEC §13: the history, an append-only hash chain. `seq` is assigned by the writer under the
-- lock of `history_head`, so it is gapless and ordered across every instance.
CREATE TABLE history_events (
    seq               BIGINT NOT NULL PRIMARY KEY,
    time              TIMESTAMP NOT NULL,
    request_id        TEXT NULL,
    action            TEXT NOT NULL,
    outcome           TEXT NOT NULL,
    actor             TEXT NOT NULL,
    actor_client      TEXT NULL,
    actor_user        TEXT NULL,
    client_ext_id     TEXT NULL,
    user_ext_id       TEXT NULL,
    credential_ext_id TEXT NULL,
    policy_ext_id     TEXT NULL,
    changes           TEXT NOT NULL,
    detail            TEXT NULL,
    prev_hash         TEXT NOT NULL,
    hash              TEXT NOT NULL
);
CREATE INDEX ix_history_client ON history_events (client_ext_id, seq);
CREATE INDEX ix_history_user ON history_events (client_ext_id, user_ext_id, seq);
CREATE INDEX ix_history_actor ON history_events (actor_client, actor_user, seq);

CREATE TABLE history_head (
    id   INTEGER NOT NULL PRIMARY KEY,
    seq  BIGINT NOT NULL,
    hash TEXT NOT NULL,
    -- A keyed MAC over (seq, hash): rewinding the head to hide deleted newest events breaks it.
    mac  TEXT NOT NULL
);
INSERT INTO history_head (id, seq, hash, mac) VALUES (1, 0, '', '');

-- SPEC §12: the user list's filters and paging.
CREATE INDEX ix_users_page ON users (client_id, created, ext_id);
CREATE INDEX ix_users_email ON users (client_id, email);
CREATE INDEX ix_role_grants_role ON role_grants (role);
-- SPEC §12: the case-insensitive filters of the user list (`email`, the prefix `q`) compare
-- `lower(column)`, so each is an index range. `text_pattern_ops` orders by bytes whatever the
-- database collation: a prefix is the range `~>=~ p AND ~<~ p || U+10FFFF`, exact and usable
-- with bound parameters. (SQLite: the same indexes, in its BINARY order.)
CREATE INDEX ix_users_login_lower ON users (client_id, lower(login_id) text_pattern_ops);
CREATE INDEX ix_users_family_lower ON users (client_id, lower(family_name) text_pattern_ops);
CREATE INDEX ix_users_email_lower ON users (client_id, lower(email) text_pattern_ops);
-- SPEC §12: the user list filtered by state, in its order.
CREATE INDEX ix_users_state_page ON users (client_id, user_state, created, ext_id);
-- SPEC §12: the client list's order.
CREATE INDEX ix_clients_page ON clients (created, ext_id);

-- SPEC §14: SCIM's `externalId`, the provisioning IdP's key (not unique), and the indexes of
-- the SCIM filters that the indexes above do not serve: `externalId` (case-sensitive) and
-- `name.givenName` (case-insensitive, like the other `lower()` indexes).
-- (PostgreSQL: `text_pattern_ops`, so the byte-order ranges of `sw` use them; `=` does too.)
ALTER TABLE users ADD COLUMN external_id TEXT NULL;
CREATE INDEX ix_users_external_id ON users (client_id, external_id text_pattern_ops);
CREATE INDEX ix_users_given_lower ON users (client_id, lower(first_name) text_pattern_ops);
