-- Transaction signing (RFC 9396 authorization_details approved at level 4): one row per
-- decision a person took on a request (signed, declined, failed), for the receipt, the audit
-- trail and the per-OPD report. Rows are never deleted.
CREATE TABLE signing_transactions (
    id          TEXT PRIMARY KEY,
    client_id   TEXT NOT NULL,
    user_id     TEXT NOT NULL,
    unit_id     TEXT,
    channel     TEXT NOT NULL,
    status      TEXT NOT NULL,
    level       BIGINT,
    details     TEXT NOT NULL,
    result      TEXT,
    receipt     TEXT,
    failure     TEXT,
    created_at  BIGINT NOT NULL
);
CREATE INDEX signing_transactions_created_idx ON signing_transactions (created_at);

-- OpenID Connect CIBA: authentication requests an application started for a person, kept
-- under the SHA-256 of auth_req_id until their tokens are issued or they expire.
CREATE TABLE ciba_requests (
    id                 TEXT PRIMARY KEY,
    auth_req_hash      TEXT NOT NULL UNIQUE,
    client_id          TEXT NOT NULL,
    user_id            TEXT NOT NULL,
    mode               TEXT NOT NULL,
    scope              TEXT NOT NULL,
    acr_values         TEXT,
    binding_message    TEXT,
    details            TEXT,
    notification_token TEXT,
    status             TEXT NOT NULL,
    session_id         TEXT,
    authn              TEXT,
    transaction_id     TEXT,
    poll_interval      BIGINT NOT NULL,
    last_poll_at       BIGINT,
    created_at         BIGINT NOT NULL,
    expires_at         BIGINT NOT NULL
);
CREATE INDEX ciba_requests_user_idx ON ciba_requests (user_id, status);
CREATE INDEX ciba_requests_expires_idx ON ciba_requests (expires_at);
