//! Second factors: TOTP credentials and recovery codes.

use crate::domain::UserId;

use super::{Db, StorageError, Tx, on_pool, on_tx};

/// A stored TOTP credential.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TotpCredential {
    /// The seed, sealed (JWE under the key-encryption key); see `authn::totp`.
    pub secret: String,
    pub confirmed: bool,
    /// The last time step accepted; codes of this step or earlier are refused.
    pub last_step: i64,
    pub created_at: i64,
}

/// A pending secret replaces a pending one, never a confirmed one.
const PUT_PENDING: &str = "INSERT INTO totp_credentials (user_id, secret, confirmed, last_step, created_at) \
     VALUES ($1, $2, FALSE, 0, $3) ON CONFLICT (user_id) DO UPDATE SET secret = $2, created_at = $3 \
     WHERE totp_credentials.confirmed = FALSE";
const FIND: &str = "SELECT secret, confirmed, last_step, created_at FROM totp_credentials WHERE user_id = $1";
const CONFIRM: &str = "UPDATE totp_credentials SET confirmed = TRUE, last_step = $2 \
     WHERE user_id = $1 AND confirmed = FALSE AND secret = $3";
/// Accepts a step once: only when it is later than the last accepted one.
const USE_STEP: &str = "UPDATE totp_credentials SET last_step = $2 \
     WHERE user_id = $1 AND confirmed = TRUE AND last_step < $2";
const DELETE_TOTP: &str = "DELETE FROM totp_credentials WHERE user_id = $1";
const DELETE_CODES: &str = "DELETE FROM recovery_codes WHERE user_id = $1";
const INSERT_CODE: &str = "INSERT INTO recovery_codes (code_hash, user_id, created_at) VALUES ($1, $2, $3)";
const USE_CODE: &str =
    "UPDATE recovery_codes SET used_at = $3 WHERE code_hash = $1 AND user_id = $2 AND used_at IS NULL";
const CODES_LEFT: &str = "SELECT COUNT(*) FROM recovery_codes WHERE user_id = $1 AND used_at IS NULL";

pub struct Factors<'a> {
    db: &'a Db,
}

impl<'a> Factors<'a> {
    pub(super) fn new(db: &'a Db) -> Self {
        Self { db }
    }

    /// Stores a new pending secret unless a confirmed credential exists; `false` then.
    pub async fn put_pending_totp(&self, user: &UserId, secret: &str, now: i64) -> Result<bool, StorageError> {
        let n = on_pool!(self.db, |pool| sqlx::query(PUT_PENDING)
            .bind(user.as_str())
            .bind(secret)
            .bind(now)
            .execute(pool)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(n == 1)
    }

    pub async fn find_totp(&self, user: &UserId) -> Result<Option<TotpCredential>, StorageError> {
        let row: Option<(String, bool, i64, i64)> =
            on_pool!(self.db, |pool| sqlx::query_as(FIND).bind(user.as_str()).fetch_optional(pool).await)?;
        Ok(row.map(|(secret, confirmed, last_step, created_at)| TotpCredential {
            secret,
            confirmed,
            last_step,
            created_at,
        }))
    }

    /// Confirms the pending credential whose secret is `secret`, consuming `step`, and stores
    /// the hashes of fresh recovery codes, in one transaction. `false` if nothing was pending.
    pub async fn confirm_totp_in(
        &self,
        tx: &mut Tx,
        user: &UserId,
        secret: &str,
        step: i64,
        code_hashes: &[String],
        now: i64,
    ) -> Result<bool, StorageError> {
        let n = on_tx!(tx, |conn| sqlx::query(CONFIRM)
            .bind(user.as_str())
            .bind(step)
            .bind(secret)
            .execute(conn)
            .await
            .map(|r| r.rows_affected()))?;
        if n != 1 {
            return Ok(false);
        }
        on_tx!(tx, |conn| sqlx::query(DELETE_CODES)
            .bind(user.as_str())
            .execute(conn)
            .await
            .map(|r| r.rows_affected()))?;
        for hash in code_hashes {
            on_tx!(tx, |conn| sqlx::query(INSERT_CODE)
                .bind(hash)
                .bind(user.as_str())
                .bind(now)
                .execute(conn)
                .await
                .map(|r| r.rows_affected()))?;
        }
        Ok(true)
    }

    /// Accepts TOTP `step` for `user` once. `false` for a replayed or older step.
    pub async fn use_totp_step(&self, user: &UserId, step: i64) -> Result<bool, StorageError> {
        let n = on_pool!(self.db, |pool| sqlx::query(USE_STEP)
            .bind(user.as_str())
            .bind(step)
            .execute(pool)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(n == 1)
    }

    /// Spends a recovery code. `false` if unknown or already used.
    pub async fn use_recovery_code(&self, user: &UserId, code_hash: &str, now: i64) -> Result<bool, StorageError> {
        let n = on_pool!(self.db, |pool| sqlx::query(USE_CODE)
            .bind(code_hash)
            .bind(user.as_str())
            .bind(now)
            .execute(pool)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(n == 1)
    }

    pub async fn recovery_codes_left(&self, user: &UserId) -> Result<i64, StorageError> {
        let (n,): (i64,) =
            on_pool!(self.db, |pool| sqlx::query_as(CODES_LEFT).bind(user.as_str()).fetch_one(pool).await)?;
        Ok(n)
    }

    /// Removes every second factor of a person (an administrator's reset).
    pub async fn reset_in(&self, tx: &mut Tx, user: &UserId) -> Result<u64, StorageError> {
        let mut removed = 0;
        for sql in [DELETE_TOTP, DELETE_CODES] {
            removed +=
                on_tx!(tx, |conn| sqlx::query(sql).bind(user.as_str()).execute(conn).await.map(|r| r.rows_affected()))?;
        }
        Ok(removed)
    }
}
