-- Brute-force protection shared by every node: failures per login name (hashed) and per
-- source address within a window, and the time until which each is locked.
CREATE TABLE login_throttle (
    key           TEXT PRIMARY KEY,
    failures      INTEGER NOT NULL,
    window_start  INTEGER NOT NULL,
    locked_until  INTEGER NOT NULL DEFAULT 0
);
