-- Refresh tokens as families: one row per grant holding the current token's hash, the hashes
-- of the last tokens rotated out (newest first, space-separated, at most 16: reuse detection,
-- RFC 9700 §4.14.2) and what a refresh needs. Rotation is one conditional UPDATE instead of
-- consuming one row and inserting another. Tokens now name their family (`<grant>.<secret>`),
-- so tokens issued before this migration stop working: their applications sign in again.
CREATE TABLE refresh_families (
    grant_id    TEXT PRIMARY KEY REFERENCES grants (id),
    token_hash  TEXT NOT NULL,
    rotated     TEXT NOT NULL DEFAULT '',
    payload     TEXT NOT NULL,
    expires_at  BIGINT NOT NULL
);
CREATE INDEX refresh_families_expiry_idx ON refresh_families (expires_at);

DROP TABLE refresh_tokens;
