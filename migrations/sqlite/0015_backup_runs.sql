-- Every backup taken (scheduled or from the command line), so health and metrics can say when
-- the last one succeeded and whether the last one failed, on every node.
CREATE TABLE backup_runs (
    id          TEXT PRIMARY KEY,
    started_at  INTEGER NOT NULL,
    finished_at INTEGER NOT NULL,
    started_by  TEXT NOT NULL,
    succeeded   BOOLEAN NOT NULL,
    destination TEXT NOT NULL,
    bytes       INTEGER NOT NULL,
    row_count   INTEGER NOT NULL,
    error       TEXT
);
CREATE INDEX backup_runs_finished_idx ON backup_runs (finished_at);
