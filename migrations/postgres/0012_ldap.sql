-- LDAP federation. An account that comes from a directory is linked to its entry by the
-- directory's stable id (entryUUID, objectGUID), so a rename in LDAP is a rename here, and
-- keeps the entry's DN for the bind that checks its password.
CREATE TABLE external_accounts (
    user_id     TEXT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    source      TEXT NOT NULL,
    external_id TEXT NOT NULL,
    dn          TEXT NOT NULL,
    synced_at   BIGINT NOT NULL
);
CREATE UNIQUE INDEX external_accounts_entry ON external_accounts (source, external_id);

-- Every sync run, dry or applied, with its counts and problems (the admin view).
CREATE TABLE sync_runs (
    id          TEXT PRIMARY KEY,
    source      TEXT NOT NULL,
    started_at  BIGINT NOT NULL,
    finished_at BIGINT NOT NULL,
    outcome     TEXT NOT NULL,
    report      TEXT NOT NULL
);
CREATE INDEX sync_runs_latest ON sync_runs (source, started_at);

-- Background work that exactly one node may do at a time (a periodic sync): a node holds the
-- lease until `expires_at` and renews it while it works.
CREATE TABLE job_leases (
    name       TEXT PRIMARY KEY,
    holder     TEXT NOT NULL,
    expires_at BIGINT NOT NULL
);
