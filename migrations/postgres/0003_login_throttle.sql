-- Brute-force protection shared by every node: failures per login name (hashed) and per
-- source address within a window, and the time until which each is locked.
CREATE TABLE login_throttle (
    key           TEXT PRIMARY KEY,
    failures      BIGINT NOT NULL,
    window_start  BIGINT NOT NULL,
    locked_until  BIGINT NOT NULL DEFAULT 0
);
