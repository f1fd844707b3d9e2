-- Telling applications that a session ended. One row per (session, OpenID Connect client the
-- session reached), queued in the same call that ends the session, whatever ended it; the
-- back-channel logout token is posted from there, with retries (OpenID Connect Back-Channel
-- Logout 1.0). Clients that registered no back-channel URI are dropped when their turn comes.
CREATE TABLE logout_deliveries (
    id            TEXT PRIMARY KEY,
    session_id    TEXT NOT NULL,
    client_id     TEXT NOT NULL,
    user_id       TEXT NOT NULL,
    status        TEXT NOT NULL,
    attempts      INTEGER NOT NULL,
    next_at       INTEGER NOT NULL,
    claimed_until INTEGER NOT NULL,
    last_error    TEXT,
    created_at    INTEGER NOT NULL
);
CREATE INDEX logout_deliveries_due_idx ON logout_deliveries (status, next_at);

-- The SAML service providers a session signed in to, with the NameID each was given: who
-- single logout must reach, and how each knows the person.
CREATE TABLE saml_session_participants (
    session_id     TEXT NOT NULL,
    application_id TEXT NOT NULL REFERENCES applications (id),
    name_id        TEXT NOT NULL,
    name_id_format TEXT NOT NULL,
    created_at     INTEGER NOT NULL,
    PRIMARY KEY (session_id, application_id)
);
