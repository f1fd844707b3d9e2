-- Administrators can require a security level of everyone in an org unit (and the units
-- below it) or of everyone holding a role: the level a person's login must reach is the
-- highest of their units', their roles' and the application's.
ALTER TABLE org_units ADD COLUMN min_level BIGINT NOT NULL DEFAULT 1;
ALTER TABLE roles ADD COLUMN min_level BIGINT NOT NULL DEFAULT 1;
