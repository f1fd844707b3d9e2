-- Electronic certificates bound to people (sertifikat elektronik). The x5t#S256 thumbprint is
-- the binding's id; a binding is never deleted, its status records its history: pending (no
-- proof of possession yet), bound, replaced, revoked, expired, removed.
CREATE TABLE certificates (
    thumbprint    TEXT PRIMARY KEY,
    user_id       TEXT NOT NULL REFERENCES users (id),
    subject       TEXT NOT NULL,
    issuer        TEXT NOT NULL,
    serial        TEXT NOT NULL,
    not_before    BIGINT NOT NULL,
    not_after     BIGINT NOT NULL,
    der           TEXT NOT NULL,
    chain         TEXT NOT NULL,
    status        TEXT NOT NULL,
    identified_by TEXT NOT NULL,
    approved_by   TEXT,
    proof         TEXT,
    created_at    BIGINT NOT NULL,
    bound_at      BIGINT,
    ended_at      BIGINT,
    end_reason    TEXT,
    checked_at    BIGINT,
    check_result  TEXT
);
CREATE INDEX certificates_user_idx ON certificates (user_id);
CREATE INDEX certificates_status_idx ON certificates (status, not_after);

-- The certificate that raised a session to level 4: its revocation ends the session.
ALTER TABLE sessions ADD COLUMN certificate TEXT;
CREATE INDEX sessions_certificate_idx ON sessions (certificate);
