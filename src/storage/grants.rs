//! Grants and what is issued under them: authorization codes, refresh tokens, revoked access
//! token ids and used client-assertion ids. Codes and tokens are addressed by their SHA-256.

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::domain::grant::{CodeData, Consumable, Consumed, Grant, RefreshData};
use crate::domain::{ClientId, GrantId, SessionId, UserId};

use super::{Db, StorageError, corrupt, on_pool};

type GrantRow = (String, String, Option<String>, Option<String>, String, Option<String>, bool, i64, Option<i64>);

const INSERT_GRANT: &str = "INSERT INTO grants (id, client_id, user_id, session_id, scope, claims, offline, created_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";
const FIND_GRANT: &str = "SELECT id, client_id, user_id, session_id, scope, claims, offline, created_at, revoked_at \
     FROM grants WHERE id = $1";
const REVOKE_GRANT: &str = "UPDATE grants SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL";
const REVOKE_SESSION_GRANTS: &str =
    "UPDATE grants SET revoked_at = $2 WHERE session_id = $1 AND offline = FALSE AND revoked_at IS NULL";
const REVOKE_CLIENT_GRANTS: &str = "UPDATE grants SET revoked_at = $2 WHERE client_id = $1 AND revoked_at IS NULL";
const REVOKE_USER_GRANTS: &str = "UPDATE grants SET revoked_at = $2 WHERE user_id = $1 AND revoked_at IS NULL";
const INSERT_CODE: &str =
    "INSERT INTO authorization_codes (code_hash, grant_id, payload, expires_at) VALUES ($1, $2, $3, $4)";
const CONSUME_CODE: &str = "UPDATE authorization_codes SET consumed_at = $2 \
     WHERE code_hash = $1 AND consumed_at IS NULL RETURNING grant_id, payload, expires_at";
const FIND_CODE_GRANT: &str = "SELECT grant_id FROM authorization_codes WHERE code_hash = $1";
const INSERT_REFRESH: &str =
    "INSERT INTO refresh_families (token_hash, grant_id, payload, expires_at) VALUES ($1, $2, $3, $4)";
/// Rotates a family's refresh token in one statement: the presented token must be the current,
/// unexpired one of its generation; the state of the grant, session and account comes back
/// through scalar subqueries (SQLite ≥ 3.35 and PostgreSQL both allow them in RETURNING).
const ROTATE_REFRESH: &str = "UPDATE refresh_families SET token_hash = $3, expires_at = $4, \
     generation = generation + 1 \
     WHERE grant_id = $1 AND token_hash = $2 AND generation = $6 AND expires_at > $5 RETURNING payload, \
     (SELECT g.revoked_at FROM grants g WHERE g.id = refresh_families.grant_id), \
     (SELECT g.offline FROM grants g WHERE g.id = refresh_families.grant_id), \
     (SELECT COUNT(*) FROM grants g JOIN sessions s ON s.id = g.session_id \
      WHERE g.id = refresh_families.grant_id AND s.ended_at IS NULL AND s.expires_at > $5), \
     (SELECT u.disabled FROM grants g JOIN users u ON u.id = g.user_id WHERE g.id = refresh_families.grant_id)";
const FIND_FAMILY: &str =
    "SELECT token_hash, generation, payload, expires_at FROM refresh_families WHERE grant_id = $1";
const REVOKE_JTI: &str =
    "INSERT INTO revoked_access_tokens (jti, expires_at) VALUES ($1, $2) ON CONFLICT (jti) DO NOTHING";
const ACCESS_TOKEN_REVOKED: &str = "SELECT (SELECT COUNT(*) FROM revoked_access_tokens WHERE jti = $1) \
     + (SELECT COUNT(*) FROM grants WHERE id = $2 AND revoked_at IS NOT NULL)";
const RECORD_ASSERTION: &str =
    "INSERT INTO client_assertion_jtis (id, expires_at) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING";

/// What a refresh needs to know about its grant, session and account.
#[derive(Debug, Clone, Copy)]
pub struct RefreshState {
    pub grant_revoked: bool,
    pub offline: bool,
    pub session_active: bool,
    pub user_active: bool,
}

pub struct Grants<'a> {
    db: &'a Db,
}

fn to_json<T: Serialize>(table: &'static str, value: &T) -> Result<String, StorageError> {
    serde_json::to_string(value).map_err(|e| corrupt(table, e))
}

fn from_json<T: DeserializeOwned>(table: &'static str, value: &str) -> Result<T, StorageError> {
    serde_json::from_str(value).map_err(|e| corrupt(table, e))
}

impl<'a> Grants<'a> {
    pub(super) fn new(db: &'a Db) -> Self {
        Self { db }
    }

    pub async fn insert(&self, g: &Grant) -> Result<(), StorageError> {
        on_pool!(self.db, |pool| {
            sqlx::query(INSERT_GRANT)
                .bind(g.id.as_str())
                .bind(g.client_id.as_str())
                .bind(g.user_id.as_ref().map(UserId::as_str))
                .bind(g.session_id.as_ref().map(SessionId::as_str))
                .bind(&g.scope)
                .bind(&g.claims)
                .bind(g.offline)
                .bind(g.created_at)
                .execute(pool)
                .await
                .map(|r| r.rows_affected())
        })?;
        Ok(())
    }

    pub async fn find(&self, id: &GrantId) -> Result<Option<Grant>, StorageError> {
        let row: Option<GrantRow> =
            on_pool!(self.db, |pool| sqlx::query_as(FIND_GRANT).bind(id.as_str()).fetch_optional(pool).await)?;
        Ok(row.map(|r| Grant {
            id: GrantId::new(r.0),
            client_id: ClientId::new(r.1),
            user_id: r.2.map(UserId::new),
            session_id: r.3.map(SessionId::new),
            scope: r.4,
            claims: r.5,
            offline: r.6,
            created_at: r.7,
            revoked_at: r.8,
        }))
    }

    /// Revokes a grant: its refresh tokens and access tokens stop working. Idempotent.
    pub async fn revoke(&self, id: &GrantId, now: i64) -> Result<(), StorageError> {
        self.exec(REVOKE_GRANT, id.as_str(), now).await
    }

    /// Revokes the grants tied to an SSO session, except `offline_access` ones (logout).
    pub async fn revoke_for_session(&self, session: &SessionId, now: i64) -> Result<(), StorageError> {
        self.exec(REVOKE_SESSION_GRANTS, session.as_str(), now).await
    }

    pub async fn revoke_for_client(&self, client: &ClientId, now: i64) -> Result<(), StorageError> {
        self.exec(REVOKE_CLIENT_GRANTS, client.as_str(), now).await
    }

    pub async fn revoke_for_user(&self, user: &UserId, now: i64) -> Result<(), StorageError> {
        self.exec(REVOKE_USER_GRANTS, user.as_str(), now).await
    }

    async fn exec(&self, sql: &'static str, id: &str, now: i64) -> Result<(), StorageError> {
        on_pool!(self.db, |pool| sqlx::query(sql).bind(id).bind(now).execute(pool).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    pub async fn insert_code(
        &self,
        hash: &str,
        grant: &GrantId,
        data: &CodeData,
        expires_at: i64,
    ) -> Result<(), StorageError> {
        self.insert_artefact(INSERT_CODE, hash, grant, &to_json("authorization_codes", data)?, expires_at).await
    }

    pub async fn insert_refresh(
        &self,
        hash: &str,
        grant: &GrantId,
        data: &RefreshData,
        expires_at: i64,
    ) -> Result<(), StorageError> {
        self.insert_artefact(INSERT_REFRESH, hash, grant, &to_json("refresh_families", data)?, expires_at).await
    }

    async fn insert_artefact(
        &self,
        sql: &'static str,
        hash: &str,
        grant: &GrantId,
        payload: &str,
        expires_at: i64,
    ) -> Result<(), StorageError> {
        on_pool!(self.db, |pool| {
            sqlx::query(sql)
                .bind(hash)
                .bind(grant.as_str())
                .bind(payload)
                .bind(expires_at)
                .execute(pool)
                .await
                .map(|r| r.rows_affected())
        })?;
        Ok(())
    }

    /// Consumes an authorization code atomically (RFC 6749 §4.1.2: single use).
    pub async fn consume_code(&self, hash: &str, now: i64) -> Result<Consumed<CodeData>, StorageError> {
        let row: Option<(String, String, i64)> =
            on_pool!(self.db, |pool| sqlx::query_as(CONSUME_CODE).bind(hash).bind(now).fetch_optional(pool).await)?;
        match row {
            Some((grant, payload, expires_at)) => {
                let data = from_json("authorization_codes", &payload)?;
                Ok(Consumed::Fresh(Consumable { grant_id: GrantId::new(grant), data, expires_at }))
            }
            None => self.replayed_or_unknown(FIND_CODE_GRANT, hash).await,
        }
    }

    /// Consumes a refresh token atomically (RFC 9700 §4.14.2: rotation), returning with it the
    /// state of its grant, session and account, all in one statement.
    /// Rotates the refresh token `hash` of generation `generation` of family `grant` to
    /// `next_hash` (valid until `next_expires_at`). The caller has authenticated the token's
    /// family and generation, so an earlier generation than the family's is a replay.
    pub async fn rotate_refresh(
        &self,
        (grant, generation, hash): (&GrantId, i64, &str),
        next_hash: &str,
        next_expires_at: i64,
        now: i64,
    ) -> Result<Consumed<(RefreshData, RefreshState)>, StorageError> {
        type Row = (String, Option<i64>, Option<bool>, i64, Option<bool>);
        let row: Option<Row> = on_pool!(self.db, |pool| sqlx::query_as(ROTATE_REFRESH)
            .bind(grant.as_str())
            .bind(hash)
            .bind(next_hash)
            .bind(next_expires_at)
            .bind(now)
            .bind(generation)
            .fetch_optional(pool)
            .await)?;
        if let Some((payload, revoked, offline, sessions, disabled)) = row {
            let state = RefreshState {
                grant_revoked: revoked.is_some() || offline.is_none(),
                offline: offline.unwrap_or(false),
                session_active: sessions > 0,
                user_active: disabled == Some(false),
            };
            let data = (from_json("refresh_families", &payload)?, state);
            return Ok(Consumed::Fresh(Consumable { grant_id: grant.clone(), data, expires_at: next_expires_at }));
        }
        Ok(match self.family(grant).await? {
            Some((_, current, _, _)) if generation < current => Consumed::Replayed(grant.clone()),
            _ => Consumed::Unknown,
        })
    }

    async fn family(&self, grant: &GrantId) -> Result<Option<(String, i64, String, i64)>, StorageError> {
        Ok(on_pool!(self.db, |pool| sqlx::query_as(FIND_FAMILY).bind(grant.as_str()).fetch_optional(pool).await)?)
    }

    /// After a failed consume: was the artefact used before (a replay) or never issued?
    async fn replayed_or_unknown<T>(&self, find_sql: &'static str, hash: &str) -> Result<Consumed<T>, StorageError> {
        let used: Option<(String,)> =
            on_pool!(self.db, |pool| sqlx::query_as(find_sql).bind(hash).fetch_optional(pool).await)?;
        Ok(match used {
            Some((grant,)) => Consumed::Replayed(GrantId::new(grant)),
            None => Consumed::Unknown,
        })
    }

    /// The family's current refresh token, if `hash` is it, for introspection and revocation.
    pub async fn find_refresh(
        &self,
        grant: &GrantId,
        hash: &str,
    ) -> Result<Option<Consumable<RefreshData>>, StorageError> {
        match self.family(grant).await? {
            Some((current, _, payload, expires_at)) if current == hash => Ok(Some(Consumable {
                grant_id: grant.clone(),
                data: from_json("refresh_families", &payload)?,
                expires_at,
            })),
            _ => Ok(None),
        }
    }

    /// Records a revoked JWT access token until it would have expired anyway (RFC 7009).
    pub async fn revoke_access_token(&self, jti: &str, expires_at: i64) -> Result<(), StorageError> {
        on_pool!(self.db, |pool| sqlx::query(REVOKE_JTI)
            .bind(jti)
            .bind(expires_at)
            .execute(pool)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Whether an access token was revoked, directly or through its grant.
    pub async fn is_access_token_revoked(&self, jti: &str, grant: Option<&str>) -> Result<bool, StorageError> {
        let (n,): (i64,) = on_pool!(self.db, |pool| {
            sqlx::query_as(ACCESS_TOKEN_REVOKED).bind(jti).bind(grant.unwrap_or("")).fetch_one(pool).await
        })?;
        Ok(n > 0)
    }

    /// Remembers a client assertion id (RFC 7523 §3 `jti`). `false` if it was seen before.
    pub async fn record_assertion(&self, id: &str, expires_at: i64) -> Result<bool, StorageError> {
        let n = on_pool!(self.db, |pool| {
            sqlx::query(RECORD_ASSERTION).bind(id).bind(expires_at).execute(pool).await.map(|r| r.rows_affected())
        })?;
        Ok(n == 1)
    }
}
