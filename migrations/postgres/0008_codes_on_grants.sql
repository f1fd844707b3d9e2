-- A grant's authorization code and refresh-token family live on the grant's own row, so a
-- login writes the grant and its code in one statement and the code exchange consumes the
-- code and starts the family in another (issue 5: fewer writes per login).
--
-- payload is what the code stood for (redirect_uri, nonce, PKCE challenge, authentication
-- context, ...); a refresh reads the part it needs. A code is <grant>.<random> and names its
-- row, as a refresh token <grant>.<generation>.<random>.<tag> already does. Families issued
-- before this migration move over and keep working; codes in flight (at most code_ttl_secs
-- old) do not.
ALTER TABLE grants ADD COLUMN payload TEXT;
ALTER TABLE grants ADD COLUMN code_hash TEXT;
ALTER TABLE grants ADD COLUMN code_expires_at BIGINT;
ALTER TABLE grants ADD COLUMN code_consumed_at BIGINT;
ALTER TABLE grants ADD COLUMN refresh_hash TEXT;
ALTER TABLE grants ADD COLUMN refresh_generation BIGINT NOT NULL DEFAULT 0;
ALTER TABLE grants ADD COLUMN refresh_expires_at BIGINT;

UPDATE grants SET
    payload = (SELECT f.payload FROM refresh_families f WHERE f.grant_id = grants.id),
    refresh_hash = (SELECT f.token_hash FROM refresh_families f WHERE f.grant_id = grants.id),
    refresh_generation = (SELECT f.generation FROM refresh_families f WHERE f.grant_id = grants.id),
    refresh_expires_at = (SELECT f.expires_at FROM refresh_families f WHERE f.grant_id = grants.id),
    code_expires_at = 0
WHERE id IN (SELECT grant_id FROM refresh_families);

-- The cleanup job finds grants whose code and refresh tokens have all expired through this
-- index: only grants still holding a payload are in it, so it does not grow with history.
CREATE INDEX grants_live_idx ON grants (code_expires_at) WHERE payload IS NOT NULL;

DROP TABLE refresh_families;
DROP TABLE authorization_codes;
