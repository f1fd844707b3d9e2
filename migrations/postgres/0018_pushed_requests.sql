-- Pushed authorization requests (RFC 9126): the parameters an application sent to the PAR
-- endpoint, kept under the SHA-256 of the request_uri's reference until used once or expired.
CREATE TABLE pushed_requests (
    reference_hash TEXT PRIMARY KEY,
    client_id      TEXT NOT NULL,
    params         TEXT NOT NULL,
    created_at     BIGINT NOT NULL,
    expires_at     BIGINT NOT NULL
);
CREATE INDEX pushed_requests_expires_idx ON pushed_requests (expires_at);
