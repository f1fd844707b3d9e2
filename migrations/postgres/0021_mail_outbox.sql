-- E-mail waiting to be sent, and what became of it: delivered in the background with retries,
-- the body (which may hold a one-time link) cleared once sent or given up.
CREATE TABLE mail_outbox (
    id            TEXT PRIMARY KEY,
    to_addr       TEXT NOT NULL,
    subject       TEXT NOT NULL,
    body          TEXT NOT NULL,
    status        TEXT NOT NULL,
    attempts      BIGINT NOT NULL,
    next_at       BIGINT NOT NULL,
    claimed_until BIGINT NOT NULL,
    last_error    TEXT,
    created_at    BIGINT NOT NULL,
    sent_at       BIGINT
);
CREATE INDEX mail_outbox_due_idx ON mail_outbox (status, next_at);
