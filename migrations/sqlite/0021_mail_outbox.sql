-- E-mail waiting to be sent, and what became of it: delivered in the background with retries,
-- the body (which may hold a one-time link) cleared once sent or given up.
CREATE TABLE mail_outbox (
    id            TEXT PRIMARY KEY,
    to_addr       TEXT NOT NULL,
    subject       TEXT NOT NULL,
    body          TEXT NOT NULL,
    status        TEXT NOT NULL,
    attempts      INTEGER NOT NULL,
    next_at       INTEGER NOT NULL,
    claimed_until INTEGER NOT NULL,
    last_error    TEXT,
    created_at    INTEGER NOT NULL,
    sent_at       INTEGER
);
CREATE INDEX mail_outbox_due_idx ON mail_outbox (status, next_at);
