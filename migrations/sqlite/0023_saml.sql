-- The SAML identity provider's signing keys: RSA (PKCS#8, sealed under the KEK) with a
-- self-signed certificate. `next` is published before it signs, `current` signs, `retired`
-- is kept for the record. At most one key is current and one next.
CREATE TABLE saml_keys (
    id              TEXT PRIMARY KEY,
    state           TEXT NOT NULL CHECK (state IN ('next', 'current', 'retired')),
    sealed_private  TEXT NOT NULL,
    certificate_pem TEXT NOT NULL,
    not_after       INTEGER NOT NULL,
    created_at      INTEGER NOT NULL,
    retired_at      INTEGER
);
CREATE UNIQUE INDEX saml_keys_one_current ON saml_keys (state) WHERE state = 'current';
CREATE UNIQUE INDEX saml_keys_one_next ON saml_keys (state) WHERE state = 'next';

-- A SAML service provider's registration beside its application (ADR 0002): the entity ID
-- (unique: it names the SP in every request) and the rest as JSON (ACS endpoints, SLO URL,
-- certificates, what it asked for).
CREATE TABLE saml_service_providers (
    application_id TEXT PRIMARY KEY REFERENCES applications (id),
    entity_id      TEXT NOT NULL UNIQUE,
    registration   TEXT NOT NULL,
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL
);

-- AuthnRequests received: each ID once per SP (no replay) until it expires, and what waits
-- while the person signs in (the request as Pintu read it, as JSON).
CREATE TABLE saml_requests (
    id             TEXT PRIMARY KEY,
    application_id TEXT NOT NULL REFERENCES applications (id),
    request_id     TEXT NOT NULL,
    pending        TEXT NOT NULL,
    created_at     INTEGER NOT NULL,
    expires_at     INTEGER NOT NULL,
    UNIQUE (application_id, request_id)
);
CREATE INDEX saml_requests_expiry_idx ON saml_requests (expires_at);
