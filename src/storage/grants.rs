//! Grants and what is issued under them: the authorization code and the refresh-token family
//! (both on the grant's row, addressed by the grant id the code or token names, checked by
//! their SHA-256), revoked access token ids and used client-assertion ids.

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::domain::grant::{CodeData, Consumable, Consumed, Grant, RefreshData};
use crate::domain::{ClientId, GrantId, Scope, SessionId, UserId};

use super::{Db, StorageError, Tx, corrupt, on_pool, on_tx};

type GrantRow = (String, String, Option<String>, Option<String>, String, Option<String>, bool, i64, Option<i64>);

const FIND_GRANT: &str = "SELECT id, client_id, user_id, session_id, scope, claims, offline, created_at, revoked_at \
     FROM grants WHERE id = $1";
const REVOKE_GRANT: &str = "UPDATE grants SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL";
pub(super) const REVOKE_SESSION_GRANTS: &str =
    "UPDATE grants SET revoked_at = $2 WHERE session_id = $1 AND offline = FALSE AND revoked_at IS NULL";
const REVOKE_CLIENT_GRANTS: &str = "UPDATE grants SET revoked_at = $2 WHERE client_id = $1 AND revoked_at IS NULL";
const REVOKE_USER_GRANTS: &str = "UPDATE grants SET revoked_at = $2 WHERE user_id = $1 AND revoked_at IS NULL";
/// A grant with its authorization code: one statement per login. `ON CONFLICT` makes issuance
/// exactly-once when the grant's id was fixed earlier (by the interaction that leads to it).
const INSERT_WITH_CODE: &str = "INSERT INTO grants \
     (id, client_id, user_id, session_id, scope, claims, offline, created_at, payload, code_hash, code_expires_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ON CONFLICT (id) DO NOTHING";
/// Consumes a code and, in the same statement, starts the grant's refresh-token family
/// (`$4` is NULL when the client gets no refresh token). The row's payload serves both. Only
/// an unexpired code of client `$6`, whose grant is not revoked and whose SSO session is still
/// active, is consumed: another client's attempt neither works nor burns the code, and a code
/// is worthless once its session has ended (logout, a transfer, a revoked session).
const CONSUME_CODE: &str = "UPDATE grants SET code_consumed_at = $3, refresh_hash = $4, refresh_expires_at = $5, \
     refresh_generation = 0 WHERE id = $1 AND code_hash = $2 AND code_consumed_at IS NULL \
     AND client_id = $6 AND code_expires_at > $3 AND revoked_at IS NULL \
     AND EXISTS (SELECT 1 FROM sessions s WHERE s.id = grants.session_id AND s.ended_at IS NULL AND s.expires_at > $3) \
     RETURNING payload, code_expires_at";
const CODE_USED: &str = "SELECT COUNT(*) FROM grants WHERE id = $1 AND code_hash = $2 AND code_consumed_at IS NOT NULL";
/// The session's and account's state as a refresh needs it, for the two statements below;
/// `$now` names the parameter holding the time.
macro_rules! refresh_state_columns {
    ($now:literal) => {
        concat!(
            "offline, (SELECT COUNT(*) FROM sessions s WHERE s.id = grants.session_id AND s.ended_at IS NULL \
             AND s.expires_at > ",
            $now,
            "), (SELECT u.disabled FROM users u WHERE u.id = grants.user_id)"
        )
    };
}
/// Rotates a family's refresh token in one statement: the presented token must be the current,
/// unexpired one of its generation, presented by the family's own client, under a grant that is
/// not revoked. Anything else leaves the family untouched (RFC 6749 §6: the client is checked
/// before anything is issued), so a failed refresh cannot burn the rightful client's token.
/// The state of the session and account comes back through scalar subqueries (SQLite ≥ 3.35
/// and PostgreSQL both allow them in RETURNING).
const ROTATE_REFRESH: &str = concat!(
    "UPDATE grants SET refresh_hash = $3, refresh_expires_at = $4, \
     refresh_generation = refresh_generation + 1, refresh_rotated_at = $5 \
     WHERE id = $1 AND refresh_hash = $2 AND refresh_generation = $6 AND refresh_expires_at > $5 \
     AND client_id = $7 AND revoked_at IS NULL RETURNING payload, ",
    refresh_state_columns!("$5")
);
/// The family as it stands, read only when a rotation did not happen (to tell why).
const FIND_FAMILY_STATE: &str = concat!(
    "SELECT refresh_hash, refresh_generation, payload, refresh_expires_at, client_id, revoked_at, \
     refresh_rotated_at, ",
    refresh_state_columns!("$2"),
    " FROM grants WHERE id = $1 AND refresh_hash IS NOT NULL"
);
const FIND_FAMILY: &str = "SELECT refresh_hash, refresh_generation, payload, refresh_expires_at FROM grants \
     WHERE id = $1 AND refresh_hash IS NOT NULL";
const REVOKE_JTI: &str =
    "INSERT INTO revoked_access_tokens (jti, expires_at) VALUES ($1, $2) ON CONFLICT (jti) DO NOTHING";
const ACCESS_TOKEN_REVOKED: &str = "SELECT (SELECT COUNT(*) FROM revoked_access_tokens WHERE jti = $1) \
     + (SELECT COUNT(*) FROM grants WHERE id = $2 AND revoked_at IS NOT NULL)";
const RECORD_ASSERTION: &str =
    "INSERT INTO client_assertion_jtis (id, expires_at) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING";

/// What a refresh needs to know about its grant, session and account.
#[derive(Debug, Clone, Copy)]
pub struct RefreshState {
    pub offline: bool,
    pub session_active: bool,
    pub user_active: bool,
}

/// A refresh token as presented: its family, generation and hash, and the client presenting it.
#[derive(Debug, Clone, Copy)]
pub struct PresentedRefresh<'a> {
    pub grant: &'a GrantId,
    pub generation: i64,
    pub hash: &'a str,
    pub client: &'a ClientId,
}

/// A refresh family as stored, read when a presented token did not rotate it.
#[derive(Debug, Clone)]
pub struct RefreshFamily {
    pub current_hash: String,
    pub generation: i64,
    pub data: RefreshData,
    pub expires_at: i64,
    pub client_id: ClientId,
    pub revoked: bool,
    /// When the current generation was issued by a rotation (`None` for generation 0, and for
    /// families that have not rotated since migration 0009).
    pub rotated_at: Option<i64>,
    pub state: RefreshState,
}

/// The outcome of presenting a refresh token.
#[derive(Debug, Clone)]
pub enum Rotation {
    /// The token was the current one: the family moved on to the next generation.
    Rotated(Consumable<(RefreshData, RefreshState)>),
    /// Nothing changed; the family as it stands, for the caller to tell why.
    Refused(Box<RefreshFamily>),
    /// No refresh family under that grant.
    Unknown,
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

    /// Stores a grant with its authorization code (`hash`, what it stands for, expiry).
    /// `false` when a grant with this id exists already: the interaction was finished before.
    pub async fn insert_with_code(
        &self,
        g: &Grant,
        hash: &str,
        data: &CodeData,
        expires_at: i64,
    ) -> Result<bool, StorageError> {
        let payload = to_json("grants", data)?;
        let n = on_pool!(self.db, |pool| {
            sqlx::query(INSERT_WITH_CODE)
                .bind(g.id.as_str())
                .bind(g.client_id.as_str())
                .bind(g.user_id.as_ref().map(UserId::as_str))
                .bind(g.session_id.as_ref().map(SessionId::as_str))
                .bind(g.scope.to_string())
                .bind(&g.claims)
                .bind(g.offline)
                .bind(g.created_at)
                .bind(&payload)
                .bind(hash)
                .bind(expires_at)
                .execute(pool)
                .await
                .map(|r| r.rows_affected())
        })?;
        Ok(n == 1)
    }

    pub async fn find(&self, id: &GrantId) -> Result<Option<Grant>, StorageError> {
        let row: Option<GrantRow> =
            on_pool!(self.db, |pool| sqlx::query_as(FIND_GRANT).bind(id.as_str()).fetch_optional(pool).await)?;
        row.map(|r| {
            Ok(Grant {
                id: GrantId::new(r.0),
                client_id: ClientId::new(r.1),
                user_id: r.2.map(UserId::new),
                session_id: r.3.map(SessionId::new),
                scope: Scope::parse(&r.4).map_err(|e| corrupt("grants", e))?,
                claims: r.5,
                offline: r.6,
                created_at: r.7,
                revoked_at: r.8,
            })
        })
        .transpose()
    }

    /// Revokes a grant: its refresh tokens and access tokens stop working. Idempotent.
    pub async fn revoke(&self, id: &GrantId, now: i64) -> Result<(), StorageError> {
        self.exec(REVOKE_GRANT, id.as_str(), now).await
    }

    /// Revokes a client's grants inside the caller's transaction (disabling its application).
    pub async fn revoke_for_client_in(&self, tx: &mut Tx, client: &ClientId, now: i64) -> Result<(), StorageError> {
        on_tx!(tx, |conn| sqlx::query(REVOKE_CLIENT_GRANTS)
            .bind(client.as_str())
            .bind(now)
            .execute(conn)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(())
    }

    pub async fn revoke_for_user(&self, user: &UserId, now: i64) -> Result<(), StorageError> {
        self.exec(REVOKE_USER_GRANTS, user.as_str(), now).await
    }

    async fn exec(&self, sql: &'static str, id: &str, now: i64) -> Result<(), StorageError> {
        on_pool!(self.db, |pool| sqlx::query(sql).bind(id).bind(now).execute(pool).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Consumes the authorization code `hash` of `grant`, presented by `client`, atomically
    /// (RFC 6749 §4.1.2: single use) and starts the grant's refresh-token family with `refresh`
    /// (hash, expiry), if any. A code that is expired, another client's, or under a revoked
    /// grant or ended session is `Unknown` and stays unconsumed.
    pub async fn consume_code(
        &self,
        (grant, hash, client): (&GrantId, &str, &ClientId),
        refresh: Option<(&str, i64)>,
        now: i64,
    ) -> Result<Consumed<CodeData>, StorageError> {
        let row: Option<(Option<String>, Option<i64>)> = on_pool!(self.db, |pool| sqlx::query_as(CONSUME_CODE)
            .bind(grant.as_str())
            .bind(hash)
            .bind(now)
            .bind(refresh.map(|r| r.0))
            .bind(refresh.map(|r| r.1))
            .bind(client.as_str())
            .fetch_optional(pool)
            .await)?;
        if let Some((payload, expires_at)) = row {
            let payload = payload.ok_or_else(|| corrupt("grants", "a code without payload"))?;
            let data = from_json("grants", &payload)?;
            let expires_at = expires_at.unwrap_or(now);
            return Ok(Consumed::Fresh(Consumable { grant_id: grant.clone(), data, expires_at }));
        }
        let (used,): (i64,) = on_pool!(self.db, |pool| {
            sqlx::query_as(CODE_USED).bind(grant.as_str()).bind(hash).fetch_one(pool).await
        })?;
        Ok(if used > 0 { Consumed::Replayed(grant.clone()) } else { Consumed::Unknown })
    }

    /// Rotates the presented refresh token to `next_hash` (valid until `next_expires_at`) if it
    /// is the family's current, unexpired token and its own client presents it under an
    /// unrevoked grant. Otherwise nothing is written and the family comes back as it stands.
    pub async fn rotate_refresh(
        &self,
        presented: PresentedRefresh<'_>,
        next_hash: &str,
        next_expires_at: i64,
        now: i64,
    ) -> Result<Rotation, StorageError> {
        type Row = (Option<String>, bool, i64, Option<bool>);
        let row: Option<Row> = on_pool!(self.db, |pool| sqlx::query_as(ROTATE_REFRESH)
            .bind(presented.grant.as_str())
            .bind(presented.hash)
            .bind(next_hash)
            .bind(next_expires_at)
            .bind(now)
            .bind(presented.generation)
            .bind(presented.client.as_str())
            .fetch_optional(pool)
            .await)?;
        if let Some((payload, offline, sessions, disabled)) = row {
            let payload = payload.ok_or_else(|| corrupt("grants", "a refresh family without payload"))?;
            let state = RefreshState { offline, session_active: sessions > 0, user_active: disabled == Some(false) };
            let data = (from_json("grants", &payload)?, state);
            let grant_id = presented.grant.clone();
            return Ok(Rotation::Rotated(Consumable { grant_id, data, expires_at: next_expires_at }));
        }
        Ok(match self.family_state(presented.grant, now).await? {
            Some(family) => Rotation::Refused(Box::new(family)),
            None => Rotation::Unknown,
        })
    }

    async fn family_state(&self, grant: &GrantId, now: i64) -> Result<Option<RefreshFamily>, StorageError> {
        type Row = (String, i64, Option<String>, i64, String, Option<i64>, Option<i64>, bool, i64, Option<bool>);
        let row: Option<Row> = on_pool!(self.db, |pool| sqlx::query_as(FIND_FAMILY_STATE)
            .bind(grant.as_str())
            .bind(now)
            .fetch_optional(pool)
            .await)?;
        let Some((hash, generation, payload, expires_at, client, revoked, rotated_at, offline, sessions, disabled)) =
            row
        else {
            return Ok(None);
        };
        let payload = payload.ok_or_else(|| corrupt("grants", "a refresh family without payload"))?;
        Ok(Some(RefreshFamily {
            current_hash: hash,
            generation,
            data: from_json("grants", &payload)?,
            expires_at,
            client_id: ClientId::new(client),
            revoked: revoked.is_some(),
            rotated_at,
            state: RefreshState { offline, session_active: sessions > 0, user_active: disabled == Some(false) },
        }))
    }

    async fn family(&self, grant: &GrantId) -> Result<Option<(String, i64, Option<String>, i64)>, StorageError> {
        Ok(on_pool!(self.db, |pool| sqlx::query_as(FIND_FAMILY).bind(grant.as_str()).fetch_optional(pool).await)?)
    }

    /// The family's current refresh token, if `hash` is it, for introspection and revocation.
    pub async fn find_refresh(
        &self,
        grant: &GrantId,
        hash: &str,
    ) -> Result<Option<Consumable<RefreshData>>, StorageError> {
        match self.family(grant).await? {
            Some((current, _, Some(payload), expires_at)) if current == hash => {
                Ok(Some(Consumable { grant_id: grant.clone(), data: from_json("grants", &payload)?, expires_at }))
            }
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
