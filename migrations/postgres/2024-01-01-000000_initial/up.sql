-- Initial schema of the identity service. Keep it identical to the SQLite migration:
-- TEXT ids (UUID strings), UTC TIMESTAMP columns (no time zone), JSON stored as TEXT.
-- Every unique constraint/index is named: the adapter maps the names to UniqueKey.

CREATE TABLE clients (
    id            TEXT NOT NULL PRIMARY KEY,
    ext_id        TEXT NOT NULL,
    name          TEXT NOT NULL,
    created       TIMESTAMP NOT NULL,
    last_modified TIMESTAMP NOT NULL,
    version       BIGINT NOT NULL,
    CONSTRAINT uq_clients_ext_id UNIQUE (ext_id),
    CONSTRAINT uq_clients_name UNIQUE (name)
);

CREATE TABLE users (
    id                 TEXT NOT NULL PRIMARY KEY,
    client_id          TEXT NOT NULL REFERENCES clients (id),
    ext_id             TEXT NOT NULL,
    login_id           TEXT NOT NULL,
    user_state         TEXT NOT NULL,
    language_code      TEXT NOT NULL,
    is_technical_user  BOOLEAN NOT NULL,
    title              TEXT NULL,
    first_name         TEXT NULL,
    family_name        TEXT NULL,
    email              TEXT NULL,
    mobile             TEXT NULL,
    last_login         TIMESTAMP NULL,
    last_login_failure TIMESTAMP NULL,
    created            TIMESTAMP NOT NULL,
    last_modified      TIMESTAMP NOT NULL,
    version            BIGINT NOT NULL,
    CONSTRAINT uq_users_ext_id UNIQUE (client_id, ext_id),
    CONSTRAINT uq_users_login_id UNIQUE (client_id, login_id)
);
CREATE INDEX ix_users_login_id ON users (login_id);

CREATE TABLE policies (
    id            TEXT NOT NULL PRIMARY KEY,
    client_id     TEXT NOT NULL REFERENCES clients (id),
    ext_id        TEXT NOT NULL,
    name          TEXT NOT NULL,
    description   TEXT NULL,
    policy_type   TEXT NOT NULL,
    is_default    BOOLEAN NOT NULL,
    parameters    TEXT NOT NULL,
    created       TIMESTAMP NOT NULL,
    last_modified TIMESTAMP NOT NULL,
    version       BIGINT NOT NULL,
    CONSTRAINT uq_policies_ext_id UNIQUE (client_id, ext_id)
);
CREATE UNIQUE INDEX uq_policies_default ON policies (client_id, policy_type) WHERE is_default;

CREATE TABLE credentials (
    id                     TEXT NOT NULL PRIMARY KEY,
    client_id              TEXT NOT NULL REFERENCES clients (id),
    user_id                TEXT NULL REFERENCES users (id),
    ext_id                 TEXT NOT NULL,
    credential_type        TEXT NOT NULL,
    policy_id              TEXT NOT NULL REFERENCES policies (id),
    state                  TEXT NOT NULL,
    state_change_reason    TEXT NOT NULL,
    state_change_detail    TEXT NULL,
    last_successful_login  TIMESTAMP NULL,
    successful_login_count BIGINT NOT NULL,
    last_failed_login      TIMESTAMP NULL,
    failed_login_count     BIGINT NOT NULL,
    modification_comment   TEXT NULL,
    validity_from          TIMESTAMP NOT NULL,
    validity_to            TIMESTAMP NOT NULL,
    locked_until           TIMESTAMP NULL,
    reset_count            BIGINT NOT NULL,
    password_hash          TEXT NULL,
    oath_issuer            TEXT NULL,
    oath_method            TEXT NULL,
    oath_algorithm         TEXT NULL,
    oath_digits            INTEGER NULL,
    oath_period            INTEGER NULL,
    oath_counter           BIGINT NULL,
    oath_secret            TEXT NULL,
    oath_label             TEXT NULL,
    created                TIMESTAMP NOT NULL,
    last_modified          TIMESTAMP NOT NULL,
    version                BIGINT NOT NULL,
    CONSTRAINT uq_credentials_ext_id UNIQUE (client_id, ext_id),
    CONSTRAINT ck_credentials_type CHECK (credential_type IN ('Password', 'Vasco', 'OATH'))
);
CREATE UNIQUE INDEX uq_credentials_user_password ON credentials (user_id) WHERE credential_type = 'Password';
CREATE INDEX ix_credentials_user_page ON credentials (user_id, created, ext_id);

CREATE TABLE vasco_tokens (
    credential_id TEXT NOT NULL REFERENCES credentials (id) ON DELETE CASCADE,
    position      INTEGER NOT NULL,
    auth_mode     TEXT NOT NULL,
    data          TEXT NOT NULL,
    PRIMARY KEY (credential_id, position),
    CONSTRAINT uq_vasco_tokens_auth_mode UNIQUE (credential_id, auth_mode)
);

CREATE TABLE role_grants (
    id             TEXT NOT NULL PRIMARY KEY,
    user_id        TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role           TEXT NOT NULL,
    client_ext_ids TEXT NULL,
    created        TIMESTAMP NOT NULL,
    CONSTRAINT uq_role_grants_user_role UNIQUE (user_id, role)
);

CREATE TABLE delivery_outbox (
    id            TEXT NOT NULL PRIMARY KEY,
    client_id     TEXT NOT NULL REFERENCES clients (id),
    user_id       TEXT NOT NULL REFERENCES users (id),
    credential_id TEXT NULL REFERENCES credentials (id) ON DELETE SET NULL,
    kind          TEXT NOT NULL,
    payload       TEXT NOT NULL,
    created       TIMESTAMP NOT NULL,
    delivered_at  TIMESTAMP NULL
);
CREATE INDEX ix_delivery_outbox_pending ON delivery_outbox (created) WHERE delivered_at IS NULL;
