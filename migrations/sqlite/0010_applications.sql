-- Applications are protocol-neutral (issue 11): one `applications` row holds what the directory
-- knows of an application (name, category umum/khusus, owning OPD, minimum level, access
-- policy, released claims, admin API reach, pre-approval, disabled) and one registration row
-- per protocol holds how it speaks that protocol. `oidc_clients` (the former `clients`) is the
-- OpenID Connect registration: client_id, secret hash, RFC 7591 metadata, registration access
-- token hash. A SAML service provider will get its own registration table beside it, referencing
-- `applications` the same way; the profile does not change.
--
-- Existing clients move over and keep working: each becomes an application whose id is its
-- client_id (so grants, consents, roles and audit events that name the client_id still name
-- it), with the same secret hash, metadata and registration access token hash. Grants,
-- consents and per-application roles keep referencing the OIDC registration's client_id.
--
-- SQLite cannot drop a column that carries a foreign key (owner_unit_id), so the registration
-- table is rebuilt. Dropping a table that other tables reference would fail their foreign keys
-- at once; `defer_foreign_keys` moves the check to COMMIT, by which time every client row is
-- back under the same name (the pragma works inside the migration's transaction and switches
-- itself off at COMMIT).
PRAGMA defer_foreign_keys = ON;

CREATE TABLE applications (
    id              TEXT PRIMARY KEY,
    protocol        TEXT NOT NULL CHECK (protocol IN ('oidc', 'saml')),
    name            TEXT NOT NULL,
    category        TEXT NOT NULL DEFAULT 'khusus',
    owner_unit_id   TEXT REFERENCES org_units (id),
    min_level       INTEGER NOT NULL DEFAULT 1,
    access_policy   TEXT NOT NULL DEFAULT '{}',
    released_claims TEXT NOT NULL DEFAULT '[]',
    admin_scope     TEXT,
    pre_approved    BOOLEAN NOT NULL DEFAULT FALSE,
    disabled        BOOLEAN NOT NULL DEFAULT FALSE,
    version         INTEGER NOT NULL DEFAULT 1,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
);
CREATE INDEX applications_owner_idx ON applications (owner_unit_id);

INSERT INTO applications (id, protocol, name, category, owner_unit_id, min_level, access_policy,
                          released_claims, admin_scope, pre_approved, disabled, version, created_at, updated_at)
SELECT client_id, 'oidc', COALESCE(json_extract(metadata, '$.client_name'), client_id), category, owner_unit_id,
       min_level, access_policy, released_claims, admin_scope, pre_approved, disabled, version, created_at,
       updated_at
FROM clients;

-- Renaming first makes grants, consents and roles reference `oidc_clients`.
ALTER TABLE clients RENAME TO oidc_clients;
CREATE TABLE oidc_clients_0010 AS
SELECT client_id, secret_hash, metadata, registration_token_hash, created_at, updated_at FROM oidc_clients;
DROP TABLE oidc_clients;
CREATE TABLE oidc_clients (
    client_id               TEXT PRIMARY KEY,
    application_id          TEXT NOT NULL UNIQUE REFERENCES applications (id),
    secret_hash             TEXT,
    metadata                TEXT NOT NULL,
    registration_token_hash TEXT UNIQUE,
    created_at              INTEGER NOT NULL,
    updated_at              INTEGER NOT NULL
);
INSERT INTO oidc_clients (client_id, application_id, secret_hash, metadata, registration_token_hash, created_at,
                          updated_at)
SELECT client_id, client_id, secret_hash, metadata, registration_token_hash, created_at, updated_at
FROM oidc_clients_0010;
DROP TABLE oidc_clients_0010;
