-- Electronic certificates bound to people (sertifikat elektronik). The x5t#S256 thumbprint is
-- the binding's id; a binding is never deleted, its status records its history: pending (no
-- proof of possession yet), bound, replaced, revoked, expired, removed.
CREATE TABLE certificates (
    thumbprint    TEXT PRIMARY KEY,
    user_id       TEXT NOT NULL REFERENCES users (id),
    subject       TEXT NOT NULL,
    issuer        TEXT NOT NULL,
    serial        TEXT NOT NULL,
    not_before    INTEGER NOT NULL,
    not_after     INTEGER NOT NULL,
    der           TEXT NOT NULL,
    chain         TEXT NOT NULL,
    status        TEXT NOT NULL,
    identified_by TEXT NOT NULL,
    approved_by   TEXT,
    proof         TEXT,
    created_at    INTEGER NOT NULL,
    bound_at      INTEGER,
    ended_at      INTEGER,
    end_reason    TEXT,
    checked_at    INTEGER,
    check_result  TEXT
);
CREATE INDEX certificates_user_idx ON certificates (user_id);
CREATE INDEX certificates_status_idx ON certificates (status, not_after);

-- The certificate that raised a session to level 4: its revocation ends the session.
ALTER TABLE sessions ADD COLUMN certificate TEXT;
CREATE INDEX sessions_certificate_idx ON sessions (certificate);
