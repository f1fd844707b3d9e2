-- Pintu directory (PostgreSQL): org units (OPD) with placement history, pegawai attributes, roles
-- and time-boxed grants, application profiles, and the hash-chained audit log.

CREATE TABLE org_units (
    id          TEXT PRIMARY KEY,
    code        TEXT NOT NULL UNIQUE,
    name        TEXT NOT NULL,
    kind        TEXT NOT NULL,
    parent_id   TEXT REFERENCES org_units (id),
    version     BIGINT NOT NULL DEFAULT 1,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);
CREATE INDEX org_units_parent_idx ON org_units (parent_id);

-- Every move of a unit (new parent) or a person (new home unit), oldest first.
CREATE TABLE placement_history (
    id            TEXT PRIMARY KEY,
    subject_kind  TEXT NOT NULL,
    subject_id    TEXT NOT NULL,
    from_unit_id  TEXT,
    to_unit_id    TEXT,
    changed_at    BIGINT NOT NULL,
    actor         TEXT NOT NULL
);
CREATE INDEX placement_history_subject_idx ON placement_history (subject_id);

ALTER TABLE users ADD COLUMN nip TEXT;
ALTER TABLE users ADD COLUMN nik TEXT;
ALTER TABLE users ADD COLUMN front_title TEXT;
ALTER TABLE users ADD COLUMN back_title TEXT;
ALTER TABLE users ADD COLUMN employment_type TEXT;
ALTER TABLE users ADD COLUMN job_title TEXT;
ALTER TABLE users ADD COLUMN rank_grade TEXT;
ALTER TABLE users ADD COLUMN org_unit_id TEXT REFERENCES org_units (id);
ALTER TABLE users ADD COLUMN status TEXT NOT NULL DEFAULT 'active';
ALTER TABLE users ADD COLUMN level_ceiling BIGINT NOT NULL DEFAULT 4;
ALTER TABLE users ADD COLUMN source TEXT NOT NULL DEFAULT 'local';
ALTER TABLE users ADD COLUMN version BIGINT NOT NULL DEFAULT 1;
CREATE UNIQUE INDEX users_nip_key ON users (nip);
CREATE INDEX users_org_unit_idx ON users (org_unit_id);

ALTER TABLE clients ADD COLUMN category TEXT NOT NULL DEFAULT 'khusus';
ALTER TABLE clients ADD COLUMN owner_unit_id TEXT REFERENCES org_units (id);
ALTER TABLE clients ADD COLUMN min_level BIGINT NOT NULL DEFAULT 1;
ALTER TABLE clients ADD COLUMN access_policy TEXT NOT NULL DEFAULT '{}';
ALTER TABLE clients ADD COLUMN released_claims TEXT NOT NULL DEFAULT '[]';
ALTER TABLE clients ADD COLUMN admin_scope TEXT;
ALTER TABLE clients ADD COLUMN version BIGINT NOT NULL DEFAULT 1;

CREATE TABLE roles (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    client_id   TEXT REFERENCES clients (client_id),
    description TEXT NOT NULL DEFAULT '',
    created_at  BIGINT NOT NULL
);
CREATE UNIQUE INDEX roles_name_key ON roles ((COALESCE(client_id, '')), name);

-- The roles that administer Pintu itself: the office (everything) and an OPD (its subtree).
INSERT INTO roles (id, name, client_id, description, created_at)
VALUES ('pintu.admin', 'pintu.admin', NULL, 'Administrator Dinas Kominfo (seluruh direktori)', 0),
       ('pintu.opd_admin', 'pintu.opd_admin', NULL, 'Administrator OPD (subpohon unitnya)', 0);

CREATE TABLE role_grants (
    id          TEXT PRIMARY KEY,
    role_id     TEXT NOT NULL REFERENCES roles (id),
    user_id     TEXT NOT NULL REFERENCES users (id),
    org_unit_id TEXT REFERENCES org_units (id),
    valid_from  BIGINT,
    valid_until BIGINT,
    created_at  BIGINT NOT NULL,
    created_by  TEXT NOT NULL
);
CREATE INDEX role_grants_user_idx ON role_grants (user_id);
CREATE INDEX role_grants_role_idx ON role_grants (role_id);

-- Append-only: each row commits to the previous one through prev_hash/hash; the triggers
-- stop ordinary edits, the chain detects the rest (`pintu audit verify`).
CREATE TABLE audit_events (
    seq         BIGINT PRIMARY KEY,
    at          BIGINT NOT NULL,
    action      TEXT NOT NULL,
    outcome     TEXT NOT NULL,
    actor       TEXT,
    target      TEXT,
    org_unit_id TEXT,
    client_id   TEXT,
    source_ip   TEXT,
    level       BIGINT,
    detail      TEXT NOT NULL,
    prev_hash   TEXT NOT NULL,
    hash        TEXT NOT NULL
);
CREATE INDEX audit_events_at_idx ON audit_events (at);
CREATE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_events is append-only';
END;
$$;
CREATE TRIGGER audit_events_no_change BEFORE UPDATE OR DELETE ON audit_events
FOR EACH ROW EXECUTE FUNCTION audit_events_append_only();
