//! A person's live sessions and the applications each one signed in to, for the account page.

use crate::domain::{ClientId, SessionId, UserId};

use super::{Db, StorageError, on_pool, on_tx};

/// One live session: when it started, its level (`acr`), and the applications it reached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionSummary {
    pub id: SessionId,
    pub created_at: i64,
    pub auth_time: i64,
    pub acr: String,
    pub clients: Vec<ClientId>,
}

const LIVE: &str = "SELECT id, created_at, auth_time, acr FROM sessions \
     WHERE user_id = $1 AND ended_at IS NULL AND expires_at > $2 ORDER BY created_at DESC";
const CLIENTS: &str = "SELECT DISTINCT g.session_id, g.client_id FROM grants g JOIN sessions s ON s.id = g.session_id \
     WHERE s.user_id = $1 AND s.ended_at IS NULL AND g.revoked_at IS NULL";
const END_OTHERS: &str = "UPDATE sessions SET ended_at = $3 WHERE user_id = $1 AND id <> $2 AND ended_at IS NULL";
const REVOKE_OTHERS: &str = "UPDATE grants SET revoked_at = $3 WHERE user_id = $1 \
     AND (session_id IS NULL OR session_id <> $2) AND revoked_at IS NULL";

pub struct SessionList<'a> {
    db: &'a Db,
}

impl<'a> SessionList<'a> {
    pub(super) fn new(db: &'a Db) -> Self {
        Self { db }
    }

    /// The live sessions of `user` at `now`, newest first.
    pub async fn live(&self, user: &UserId, now: i64) -> Result<Vec<SessionSummary>, StorageError> {
        let rows: Vec<(String, i64, i64, String)> =
            on_pool!(self.db, |pool| sqlx::query_as(LIVE).bind(user.as_str()).bind(now).fetch_all(pool).await)?;
        let pairs: Vec<(String, String)> =
            on_pool!(self.db, |pool| sqlx::query_as(CLIENTS).bind(user.as_str()).fetch_all(pool).await)?;
        Ok(rows
            .into_iter()
            .map(|(id, created_at, auth_time, acr)| {
                let clients = pairs.iter().filter(|(s, _)| *s == id).map(|(_, c)| ClientId::new(c.clone())).collect();
                SessionSummary { id: SessionId::new(id), created_at, auth_time, acr, clients }
            })
            .collect())
    }

    /// Sessions live at `now`, of people placed in `within`'s subtree (or everyone's).
    pub async fn count_live(&self, now: i64, within: Option<&crate::domain::OrgUnitId>) -> Result<i64, StorageError> {
        const LIVE: &str = "SELECT COUNT(*) FROM sessions s JOIN users u ON u.id = s.user_id \
             WHERE s.ended_at IS NULL AND s.expires_at > $1";
        let (n,): (i64,) = match within {
            None => on_pool!(self.db, |pool| sqlx::query_as(LIVE).bind(now).fetch_one(pool).await)?,
            Some(unit) => {
                // The audit log's subtree walk names its root `$3`.
                let sql = format!(
                    "{}{LIVE} AND $2 = $2 AND u.org_unit_id IN (SELECT id FROM down)",
                    super::audit::SUBTREE_CTE
                );
                on_pool!(self.db, |pool| sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
                    .bind(now)
                    .bind(0_i64)
                    .bind(unit.as_str())
                    .fetch_one(pool)
                    .await)?
            }
        };
        Ok(n)
    }

    /// Ends every session but `keep` and revokes every grant not bound to it (offline ones
    /// included): after a password change, only the browser that made it stays signed in.
    pub async fn end_others(&self, user: &UserId, keep: &SessionId, now: i64) -> Result<(), StorageError> {
        // One transaction: the notices are never lost to sessions that ended without them.
        let mut tx = self.db.begin().await?;
        for sql in [super::logout_deliveries::ENQUEUE_FOR_USER, END_OTHERS, REVOKE_OTHERS] {
            on_tx!(&mut tx, |conn| sqlx::query(sql)
                .bind(user.as_str())
                .bind(keep.as_str())
                .bind(now)
                .execute(conn)
                .await
                .map(|r| r.rows_affected()))?;
        }
        tx.commit().await
    }
}
