-- Secrets Pintu keeps for itself, sealed under the key-encryption key: the secret refresh
-- tokens are authenticated with. Kept sealed (not derived from the KEK), so a KEK rotation
-- re-seals it and refresh tokens keep working.
CREATE TABLE sealed_secrets (
    name       TEXT PRIMARY KEY,
    sealed     TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
