-- When a refresh family last rotated, for the grace period in which the immediately previous
-- generation is still answered (issue 11: an answer lost on the way, or two requests of one
-- session refreshing in parallel, no longer revoke the family). NULL for families that have
-- not rotated since this migration: their previous generation is a replay, as before.
ALTER TABLE grants ADD COLUMN refresh_rotated_at INTEGER;
