-- Second factors: one TOTP credential per person (pending until a first code confirms it;
-- `last_step` refuses a code's replay, RFC 6238 §5.2) and single-use recovery codes, kept as
-- SHA-256 hashes.
CREATE TABLE totp_credentials (
    user_id     TEXT PRIMARY KEY REFERENCES users (id),
    secret      TEXT NOT NULL,
    confirmed   BOOLEAN NOT NULL DEFAULT FALSE,
    last_step   INTEGER NOT NULL DEFAULT 0,
    created_at  INTEGER NOT NULL
);

CREATE TABLE recovery_codes (
    code_hash   TEXT PRIMARY KEY,
    user_id     TEXT NOT NULL REFERENCES users (id),
    created_at  INTEGER NOT NULL,
    used_at     INTEGER
);
CREATE INDEX recovery_codes_user_idx ON recovery_codes (user_id);
