//! SSO sessions and consents. The session cookie's value is only stored as its SHA-256.

use crate::domain::{AuthnContext, ClientId, SecurityLevel, SessionId, SsoSession, UserId};

use super::{Db, StorageError, corrupt, on_pool, touched};

/// A session to create.
#[derive(Debug, Clone)]
pub struct NewSession {
    pub id: SessionId,
    pub token_hash: String,
    pub user_id: UserId,
    pub authn: AuthnContext,
    pub now: i64,
    pub expires_at: i64,
}

type SessionRow = (String, String, i64, String, String, i64, Option<i64>);

fn into_session(row: SessionRow) -> Result<SsoSession, StorageError> {
    let level = SecurityLevel::from_acr(&row.3).ok_or_else(|| corrupt("sessions", "unknown acr"))?;
    let amr: Vec<String> = serde_json::from_str(&row.4).map_err(|e| corrupt("sessions", e))?;
    Ok(SsoSession {
        id: SessionId::new(row.0),
        user_id: UserId::new(row.1),
        authn: AuthnContext { auth_time: row.2, level, amr },
        expires_at: row.5,
        ended_at: row.6,
    })
}

const INSERT: &str = "INSERT INTO sessions (id, token_hash, user_id, auth_time, acr, amr, created_at, expires_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";
const FIND_BY_TOKEN: &str =
    "SELECT id, user_id, auth_time, acr, amr, expires_at, ended_at FROM sessions WHERE token_hash = $1";
const SET_AUTHN: &str =
    "UPDATE sessions SET auth_time = $2, acr = $3, amr = $4, token_hash = $5 WHERE id = $1 AND ended_at IS NULL";
pub(super) const END: &str = "UPDATE sessions SET ended_at = $2 WHERE id = $1 AND ended_at IS NULL";
const END_FOR_USER: &str = "UPDATE sessions SET ended_at = $2 WHERE user_id = $1 AND ended_at IS NULL";
const FIND_CONSENT: &str = "SELECT scope FROM consents WHERE user_id = $1 AND client_id = $2";
const UPSERT_CONSENT: &str = "INSERT INTO consents (user_id, client_id, scope, updated_at) VALUES ($1, $2, $3, $4) \
     ON CONFLICT (user_id, client_id) DO UPDATE SET scope = excluded.scope, updated_at = excluded.updated_at";

pub struct Sessions<'a> {
    db: &'a Db,
}

impl<'a> Sessions<'a> {
    pub(super) fn new(db: &'a Db) -> Self {
        Self { db }
    }

    pub async fn insert(&self, s: &NewSession) -> Result<(), StorageError> {
        let amr = serde_json::to_string(&s.authn.amr).map_err(|e| corrupt("sessions", e))?;
        on_pool!(self.db, |pool| {
            sqlx::query(INSERT)
                .bind(s.id.as_str())
                .bind(&s.token_hash)
                .bind(s.user_id.as_str())
                .bind(s.authn.auth_time)
                .bind(s.authn.level.acr())
                .bind(&amr)
                .bind(s.now)
                .bind(s.expires_at)
                .execute(pool)
                .await
                .map(|r| r.rows_affected())
        })?;
        Ok(())
    }

    pub async fn find_by_token_hash(&self, token_hash: &str) -> Result<Option<SsoSession>, StorageError> {
        let row: Option<SessionRow> =
            on_pool!(self.db, |pool| sqlx::query_as(FIND_BY_TOKEN).bind(token_hash).fetch_optional(pool).await)?;
        row.map(into_session).transpose()
    }

    /// Ends a session (logout). Idempotent.
    pub async fn end(&self, id: &SessionId, now: i64) -> Result<(), StorageError> {
        on_pool!(self.db, |pool| sqlx::query(END)
            .bind(id.as_str())
            .bind(now)
            .execute(pool)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Records a step-up: the session's new level, methods and authentication time, under a
    /// new cookie token (the old cookie stops working: a session raised in privilege gets a
    /// fresh identifier, OWASP session management).
    pub async fn set_authn(&self, id: &SessionId, authn: &AuthnContext, token_hash: &str) -> Result<(), StorageError> {
        let amr = serde_json::to_string(&authn.amr).map_err(|e| corrupt("sessions", e))?;
        let n = on_pool!(self.db, |pool| sqlx::query(SET_AUTHN)
            .bind(id.as_str())
            .bind(authn.auth_time)
            .bind(authn.level.acr())
            .bind(&amr)
            .bind(token_hash)
            .execute(pool)
            .await
            .map(|r| r.rows_affected()))?;
        touched(n)
    }

    /// Records the certificate whose proof raised the session to level 4.
    pub async fn set_certificate(&self, id: &SessionId, thumbprint: &str) -> Result<(), StorageError> {
        let sql = "UPDATE sessions SET certificate = $2 WHERE id = $1";
        let n = on_pool!(self.db, |pool| sqlx::query(sql)
            .bind(id.as_str())
            .bind(thumbprint)
            .execute(pool)
            .await
            .map(|r| r.rows_affected()))?;
        touched(n)
    }

    /// The live sessions a certificate raised, at `now`.
    pub async fn raised_by_certificate(&self, thumbprint: &str, now: i64) -> Result<Vec<SessionId>, StorageError> {
        let sql = "SELECT id FROM sessions WHERE certificate = $1 AND ended_at IS NULL AND expires_at > $2";
        let ids: Vec<(String,)> =
            on_pool!(self.db, |pool| sqlx::query_as(sql).bind(thumbprint).bind(now).fetch_all(pool).await)?;
        Ok(ids.into_iter().map(|(id,)| SessionId::new(id)).collect())
    }

    /// Ends every session of a user (account disabled).
    pub async fn end_for_user(&self, user: &UserId, now: i64) -> Result<(), StorageError> {
        on_pool!(self.db, |pool| sqlx::query(END_FOR_USER)
            .bind(user.as_str())
            .bind(now)
            .execute(pool)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// The scope a user already consented to for a client, if any.
    pub async fn find_consent(&self, user: &UserId, client: &ClientId) -> Result<Option<String>, StorageError> {
        let row: Option<(String,)> = on_pool!(self.db, |pool| {
            sqlx::query_as(FIND_CONSENT).bind(user.as_str()).bind(client.as_str()).fetch_optional(pool).await
        })?;
        Ok(row.map(|r| r.0))
    }

    pub async fn save_consent(
        &self,
        user: &UserId,
        client: &ClientId,
        scope: &str,
        now: i64,
    ) -> Result<(), StorageError> {
        on_pool!(self.db, |pool| {
            sqlx::query(UPSERT_CONSENT)
                .bind(user.as_str())
                .bind(client.as_str())
                .bind(scope)
                .bind(now)
                .execute(pool)
                .await
                .map(|r| r.rows_affected())
        })?;
        Ok(())
    }
}
