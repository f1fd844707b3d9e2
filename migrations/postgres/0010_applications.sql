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
-- consents and per-application roles keep referencing the OIDC registration's client_id
-- (foreign keys follow a renamed table).

CREATE TABLE applications (
    id              TEXT PRIMARY KEY,
    protocol        TEXT NOT NULL CHECK (protocol IN ('oidc', 'saml')),
    name            TEXT NOT NULL,
    category        TEXT NOT NULL DEFAULT 'khusus',
    owner_unit_id   TEXT REFERENCES org_units (id),
    min_level       BIGINT NOT NULL DEFAULT 1,
    access_policy   TEXT NOT NULL DEFAULT '{}',
    released_claims TEXT NOT NULL DEFAULT '[]',
    admin_scope     TEXT,
    pre_approved    BOOLEAN NOT NULL DEFAULT FALSE,
    disabled        BOOLEAN NOT NULL DEFAULT FALSE,
    version         BIGINT NOT NULL DEFAULT 1,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL
);
CREATE INDEX applications_owner_idx ON applications (owner_unit_id);

INSERT INTO applications (id, protocol, name, category, owner_unit_id, min_level, access_policy,
                          released_claims, admin_scope, pre_approved, disabled, version, created_at, updated_at)
SELECT client_id, 'oidc', COALESCE(metadata::jsonb ->> 'client_name', client_id), category, owner_unit_id,
       min_level, access_policy, released_claims, admin_scope, pre_approved, disabled, version, created_at,
       updated_at
FROM clients;

ALTER TABLE clients RENAME TO oidc_clients;
ALTER TABLE oidc_clients RENAME CONSTRAINT clients_pkey TO oidc_clients_pkey;
ALTER TABLE oidc_clients RENAME CONSTRAINT clients_registration_token_hash_key
    TO oidc_clients_registration_token_hash_key;
ALTER TABLE oidc_clients ADD COLUMN application_id TEXT REFERENCES applications (id);
UPDATE oidc_clients SET application_id = client_id;
ALTER TABLE oidc_clients ALTER COLUMN application_id SET NOT NULL;
ALTER TABLE oidc_clients ADD CONSTRAINT oidc_clients_application_id_key UNIQUE (application_id);
ALTER TABLE oidc_clients
    DROP COLUMN pre_approved,
    DROP COLUMN disabled,
    DROP COLUMN category,
    DROP COLUMN owner_unit_id,
    DROP COLUMN min_level,
    DROP COLUMN access_policy,
    DROP COLUMN released_claims,
    DROP COLUMN admin_scope,
    DROP COLUMN version;
