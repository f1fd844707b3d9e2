-- Refresh tokens as families: one row per grant holding the current token's hash, its
-- generation (how many times the family has rotated) and what a refresh needs. Rotation is
-- one conditional UPDATE instead of consuming one row and inserting another. A token names its
-- family and generation and carries a MAC under a key derived from the key-encryption key, so
-- any genuine earlier token is recognised as a replay (RFC 9700 §4.14.2) without keeping its
-- hash, and a made-up one is not. Tokens issued before this migration stop working: their
-- applications sign in again.
CREATE TABLE refresh_families (
    grant_id    TEXT PRIMARY KEY REFERENCES grants (id),
    token_hash  TEXT NOT NULL,
    generation  INTEGER NOT NULL DEFAULT 0,
    payload     TEXT NOT NULL,
    expires_at  INTEGER NOT NULL
);
CREATE INDEX refresh_families_expiry_idx ON refresh_families (expires_at);

DROP TABLE refresh_tokens;
