-- Activation codes: how an imported or new person gets their first password. One code per
-- person at a time (a new one replaces it), kept as the SHA-256 of the code, deleted when used.
CREATE TABLE activation_codes (
    user_id    TEXT PRIMARY KEY,
    code_hash  TEXT NOT NULL UNIQUE,
    issued_by  TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE INDEX activation_codes_expires_idx ON activation_codes (expires_at);
