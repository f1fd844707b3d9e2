//! Activation codes (`activation_codes`): one per person at a time, stored as a hash, deleted
//! when used.

use super::{Db, StorageError, Tx, on_pool, on_tx};

pub struct ActivationCodes<'a> {
    db: &'a Db,
}

impl<'a> ActivationCodes<'a> {
    pub(super) fn new(db: &'a Db) -> Self {
        Self { db }
    }

    /// Gives `user_id` the code whose hash is `code_hash`, replacing any earlier one.
    pub async fn replace_in(
        &self,
        tx: &mut Tx,
        user_id: &str,
        code_hash: &str,
        issued_by: &str,
        now: i64,
        expires_at: i64,
    ) -> Result<(), StorageError> {
        let sql = "INSERT INTO activation_codes (user_id, code_hash, issued_by, created_at, expires_at) \
                   VALUES ($1, $2, $3, $4, $5) ON CONFLICT (user_id) DO UPDATE SET code_hash = $2, issued_by = $3, \
                   created_at = $4, expires_at = $5";
        on_tx!(tx, |conn| sqlx::query(sql)
            .bind(user_id)
            .bind(code_hash)
            .bind(issued_by)
            .bind(now)
            .bind(expires_at)
            .execute(conn)
            .await
            .map(|_| ()))?;
        Ok(())
    }

    /// The hash of `user_id`'s code if it is unexpired at `now`.
    pub async fn live_hash(&self, user_id: &str, now: i64) -> Result<Option<String>, StorageError> {
        let sql = "SELECT code_hash FROM activation_codes WHERE user_id = $1 AND expires_at > $2";
        let row: Option<(String,)> =
            on_pool!(self.db, |pool| sqlx::query_as(sql).bind(user_id).bind(now).fetch_optional(pool).await)?;
        Ok(row.map(|(h,)| h))
    }

    /// Uses the code (deleting it): false when it was used or replaced meanwhile, or expired.
    pub async fn take(&self, user_id: &str, code_hash: &str, now: i64) -> Result<bool, StorageError> {
        let sql = "DELETE FROM activation_codes WHERE user_id = $1 AND code_hash = $2 AND expires_at > $3";
        let n = on_pool!(self.db, |pool| sqlx::query(sql)
            .bind(user_id)
            .bind(code_hash)
            .bind(now)
            .execute(pool)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(n == 1)
    }
}
