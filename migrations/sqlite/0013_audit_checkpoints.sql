-- Signed checkpoints of the audit chain's head: a JWS by Pintu's signing key over (seq, hash).
-- Whoever can write the database can recompute every hash after an edit, but cannot sign: a
-- rewritten chain no longer matches an earlier checkpoint (kept here and exported elsewhere).
CREATE TABLE audit_checkpoints (
    seq        INTEGER PRIMARY KEY,
    hash       TEXT NOT NULL,
    jws        TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
