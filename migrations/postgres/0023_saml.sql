-- The SAML identity provider's signing keys: RSA (PKCS#8, sealed under the KEK) with a
-- self-signed certificate. `next` is published before it signs, `current` signs, `retired`
-- is kept for the record. At most one key is current and one next.
CREATE TABLE saml_keys (
    id              TEXT PRIMARY KEY,
    state           TEXT NOT NULL CHECK (state IN ('next', 'current', 'retired')),
    sealed_private  TEXT NOT NULL,
    certificate_pem TEXT NOT NULL,
    not_after       BIGINT NOT NULL,
    created_at      BIGINT NOT NULL,
    retired_at      BIGINT
);
CREATE UNIQUE INDEX saml_keys_one_current ON saml_keys (state) WHERE state = 'current';
CREATE UNIQUE INDEX saml_keys_one_next ON saml_keys (state) WHERE state = 'next';
