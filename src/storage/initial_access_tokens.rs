//! RFC 7591 §3 initial access tokens: single-use permissions to register an application,
//! stored as SHA-256. A token is used up in the transaction that creates the application.

use super::{Db, StorageError, Tx, on_pool, on_tx};

const INSERT: &str =
    "INSERT INTO initial_access_tokens (token_hash, description, created_at, expires_at) VALUES ($1, $2, $3, $4)";
const USE: &str = "UPDATE initial_access_tokens SET used_at = $2 \
     WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2";
const COUNT_USABLE: &str = "SELECT COUNT(*) FROM initial_access_tokens \
     WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2";

pub struct InitialAccessTokens<'a> {
    db: &'a Db,
}

impl<'a> InitialAccessTokens<'a> {
    pub(super) fn new(db: &'a Db) -> Self {
        Self { db }
    }

    /// Stores a token inside the caller's transaction (with its audit event).
    pub async fn insert_in(
        &self,
        tx: &mut Tx,
        token_hash: &str,
        description: &str,
        (now, expires_at): (i64, i64),
    ) -> Result<(), StorageError> {
        on_tx!(tx, |conn| {
            sqlx::query(INSERT)
                .bind(token_hash)
                .bind(description)
                .bind(now)
                .bind(expires_at)
                .execute(conn)
                .await
                .map(|r| r.rows_affected())
        })?;
        Ok(())
    }

    /// Whether a token is known, unexpired and unused (nothing is written).
    pub async fn is_usable(&self, token_hash: &str, now: i64) -> Result<bool, StorageError> {
        let (n,): (i64,) =
            on_pool!(self.db, |pool| sqlx::query_as(COUNT_USABLE).bind(token_hash).bind(now).fetch_one(pool).await)?;
        Ok(n > 0)
    }

    /// Uses the token up; `false` when it is unknown, expired or already used. The caller
    /// rolls its transaction back then, so nothing it wrote stays.
    pub async fn use_in(&self, tx: &mut Tx, token_hash: &str, now: i64) -> Result<bool, StorageError> {
        let n = on_tx!(tx, |conn| sqlx::query(USE)
            .bind(token_hash)
            .bind(now)
            .execute(conn)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(n == 1)
    }
}
