//! Pushed authorization requests (RFC 9126), each used at most once.

use super::{Db, StorageError, on_pool};

pub struct PushedRequests<'a> {
    db: &'a Db,
}

impl<'a> PushedRequests<'a> {
    pub(super) fn new(db: &'a Db) -> Self {
        Self { db }
    }

    pub async fn insert(
        &self,
        reference_hash: &str,
        client_id: &str,
        params: &str,
        now: i64,
        expires_at: i64,
    ) -> Result<(), StorageError> {
        let sql = "INSERT INTO pushed_requests (reference_hash, client_id, params, created_at, expires_at) \
                   VALUES ($1, $2, $3, $4, $5)";
        on_pool!(self.db, |pool| sqlx::query(sql)
            .bind(reference_hash)
            .bind(client_id)
            .bind(params)
            .bind(now)
            .bind(expires_at)
            .execute(pool)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Takes the request (deleting it, so it serves once) if it is `client_id`'s and unexpired
    /// at `now`; an expired or foreign one is left to expire.
    pub async fn take(&self, reference_hash: &str, client_id: &str, now: i64) -> Result<Option<String>, StorageError> {
        let sql = "DELETE FROM pushed_requests WHERE reference_hash = $1 AND client_id = $2 AND expires_at > $3 \
                   RETURNING params";
        let row: Option<(String,)> = on_pool!(self.db, |pool| sqlx::query_as(sql)
            .bind(reference_hash)
            .bind(client_id)
            .bind(now)
            .fetch_optional(pool)
            .await)?;
        Ok(row.map(|(params,)| params))
    }
}
