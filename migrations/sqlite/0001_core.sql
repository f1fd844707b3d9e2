-- Pintu core schema (SQLite). Portable conventions: TEXT ids (UUIDv7), INTEGER unix seconds,
-- JSON as TEXT. Secrets, codes and tokens are stored only as SHA-256 / argon2id hashes.

CREATE TABLE users (
    id                    TEXT PRIMARY KEY,
    username              TEXT NOT NULL UNIQUE,
    password_hash         TEXT,
    name                  TEXT,
    given_name            TEXT,
    family_name           TEXT,
    email                 TEXT,
    email_verified        BOOLEAN NOT NULL DEFAULT FALSE,
    phone_number          TEXT,
    phone_number_verified BOOLEAN NOT NULL DEFAULT FALSE,
    locale                TEXT,
    is_admin              BOOLEAN NOT NULL DEFAULT FALSE,
    disabled              BOOLEAN NOT NULL DEFAULT FALSE,
    created_at            INTEGER NOT NULL,
    updated_at            INTEGER NOT NULL
);
CREATE UNIQUE INDEX users_email_key ON users (email);

CREATE TABLE clients (
    client_id               TEXT PRIMARY KEY,
    secret_hash             TEXT,
    metadata                TEXT NOT NULL,
    pre_approved            BOOLEAN NOT NULL DEFAULT FALSE,
    disabled                BOOLEAN NOT NULL DEFAULT FALSE,
    registration_token_hash TEXT UNIQUE,
    created_at              INTEGER NOT NULL,
    updated_at              INTEGER NOT NULL
);

CREATE TABLE initial_access_tokens (
    token_hash  TEXT PRIMARY KEY,
    description TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    used_at     INTEGER
);

CREATE TABLE sessions (
    id          TEXT PRIMARY KEY,
    token_hash  TEXT NOT NULL UNIQUE,
    user_id     TEXT NOT NULL REFERENCES users (id),
    auth_time   INTEGER NOT NULL,
    acr         TEXT NOT NULL,
    amr         TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    ended_at    INTEGER
);
CREATE INDEX sessions_user_idx ON sessions (user_id);

CREATE TABLE interactions (
    id          TEXT PRIMARY KEY,
    kind        TEXT NOT NULL,
    csrf_hash   TEXT NOT NULL,
    payload     TEXT NOT NULL,
    session_id  TEXT,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL
);

CREATE TABLE consents (
    user_id     TEXT NOT NULL REFERENCES users (id),
    client_id   TEXT NOT NULL REFERENCES clients (client_id),
    scope       TEXT NOT NULL,
    updated_at  INTEGER NOT NULL,
    PRIMARY KEY (user_id, client_id)
);

CREATE TABLE grants (
    id          TEXT PRIMARY KEY,
    client_id   TEXT NOT NULL REFERENCES clients (client_id),
    user_id     TEXT REFERENCES users (id),
    session_id  TEXT,
    scope       TEXT NOT NULL,
    claims      TEXT,
    offline     BOOLEAN NOT NULL DEFAULT FALSE,
    created_at  INTEGER NOT NULL,
    revoked_at  INTEGER
);
CREATE INDEX grants_session_idx ON grants (session_id);

CREATE TABLE authorization_codes (
    code_hash       TEXT PRIMARY KEY,
    grant_id        TEXT NOT NULL REFERENCES grants (id),
    payload         TEXT NOT NULL,
    expires_at      INTEGER NOT NULL,
    consumed_at     INTEGER
);

CREATE TABLE refresh_tokens (
    token_hash      TEXT PRIMARY KEY,
    grant_id        TEXT NOT NULL REFERENCES grants (id),
    payload         TEXT NOT NULL,
    expires_at      INTEGER NOT NULL,
    consumed_at     INTEGER
);
CREATE INDEX refresh_tokens_grant_idx ON refresh_tokens (grant_id);

CREATE TABLE revoked_access_tokens (
    jti         TEXT PRIMARY KEY,
    expires_at  INTEGER NOT NULL
);

CREATE TABLE client_assertion_jtis (
    id          TEXT PRIMARY KEY,
    expires_at  INTEGER NOT NULL
);

CREATE TABLE signing_keys (
    kid             TEXT PRIMARY KEY,
    alg             TEXT NOT NULL,
    state           TEXT NOT NULL,
    sealed_private  TEXT NOT NULL,
    public_jwk      TEXT NOT NULL,
    created_at      INTEGER NOT NULL,
    retired_at      INTEGER
);
