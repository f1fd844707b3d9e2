-- Every backup taken (scheduled or from the command line), so health and metrics can say when
-- the last one succeeded and whether the last one failed, on every node.
CREATE TABLE backup_runs (
    id          TEXT PRIMARY KEY,
    started_at  BIGINT NOT NULL,
    finished_at BIGINT NOT NULL,
    started_by  TEXT NOT NULL,
    succeeded   BOOLEAN NOT NULL,
    destination TEXT NOT NULL,
    bytes       BIGINT NOT NULL,
    row_count   BIGINT NOT NULL,
    error       TEXT
);
CREATE INDEX backup_runs_finished_idx ON backup_runs (finished_at);
