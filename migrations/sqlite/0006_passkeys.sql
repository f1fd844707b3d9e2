-- WebAuthn credentials (passkeys and security keys), several per person, each named by its
-- owner; `passkey` is the verified public key and signature counter as webauthn-rs keeps it
-- (JSON). Ceremony state (the challenge and what it was issued for) lives here too, never in
-- the browser: one pending ceremony per purpose and binding (an interaction), consumed by the
-- first answer, right or wrong, so a challenge can never be answered twice.
CREATE TABLE webauthn_credentials (
    id              TEXT PRIMARY KEY,
    user_id         TEXT NOT NULL REFERENCES users (id),
    credential_id   TEXT NOT NULL UNIQUE,
    name            TEXT NOT NULL,
    passkey         TEXT NOT NULL,
    created_at      INTEGER NOT NULL,
    last_used_at    INTEGER
);
CREATE INDEX webauthn_credentials_user_idx ON webauthn_credentials (user_id);

CREATE TABLE webauthn_ceremonies (
    purpose     TEXT NOT NULL,
    binding     TEXT NOT NULL,
    user_id     TEXT,
    state       TEXT NOT NULL,
    expires_at  INTEGER NOT NULL,
    PRIMARY KEY (purpose, binding)
);
CREATE INDEX webauthn_ceremonies_expiry_idx ON webauthn_ceremonies (expires_at);
