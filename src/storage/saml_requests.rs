//! AuthnRequests received (`saml_requests`): one row per (SP, request ID), so a replayed
//! request is refused, holding what waits while the person signs in.

use super::{Db, StorageError, on_pool};

pub struct SamlRequests<'a> {
    db: &'a Db,
}

impl<'a> SamlRequests<'a> {
    pub(super) fn new(db: &'a Db) -> Self {
        Self { db }
    }

    /// Records a request; `false` when the SP sent this request ID before (a replay).
    pub async fn insert(
        &self,
        id: &str,
        application_id: &str,
        request_id: &str,
        pending: &str,
        now: i64,
        expires_at: i64,
    ) -> Result<bool, StorageError> {
        let sql = "INSERT INTO saml_requests (id, application_id, request_id, pending, created_at, expires_at) \
                   VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING";
        let n = on_pool!(self.db, |pool| sqlx::query(sql)
            .bind(id)
            .bind(application_id)
            .bind(request_id)
            .bind(pending)
            .bind(now)
            .bind(expires_at)
            .execute(pool)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(n == 1)
    }

    /// What waits under `id`, unexpired at `now`: (application id, pending JSON).
    pub async fn pending(&self, id: &str, now: i64) -> Result<Option<(String, String)>, StorageError> {
        let sql = "SELECT application_id, pending FROM saml_requests WHERE id = $1 AND expires_at > $2";
        let row: Option<(String, String)> =
            on_pool!(self.db, |pool| sqlx::query_as(sql).bind(id).bind(now).fetch_optional(pool).await)?;
        Ok(row)
    }

    /// What waits under `id`, changed (the level the sign-in was asked for).
    pub async fn replace_pending(&self, id: &str, pending: &str) -> Result<(), StorageError> {
        let sql = "UPDATE saml_requests SET pending = $2 WHERE id = $1 AND pending <> ''";
        on_pool!(self.db, |pool| sqlx::query(sql).bind(id).bind(pending).execute(pool).await.map(|_| ()))?;
        Ok(())
    }

    /// Answered: nothing waits any more (the row stays until it expires, against replay).
    pub async fn answered(&self, id: &str) -> Result<(), StorageError> {
        let sql = "UPDATE saml_requests SET pending = '' WHERE id = $1";
        on_pool!(self.db, |pool| sqlx::query(sql).bind(id).execute(pool).await.map(|_| ()))?;
        Ok(())
    }
}
