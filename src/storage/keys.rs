//! Signing keys, sealed with the key-encryption key before they reach the database.

use crate::domain::KeyState;

use super::db::on_tx;
use super::{Db, StorageError, corrupt, on_pool};

/// A stored signing key. `sealed_private` is a JWE the keys module opens.
#[derive(Debug, Clone)]
pub struct SigningKeyRow {
    pub kid: String,
    pub alg: String,
    pub state: KeyState,
    pub sealed_private: String,
    pub public_jwk: String,
    pub created_at: i64,
    pub retired_at: Option<i64>,
}

type Row = (String, String, String, String, String, i64, Option<i64>);

const LIST: &str = "SELECT kid, alg, state, sealed_private, public_jwk, created_at, retired_at FROM signing_keys \
     ORDER BY created_at";
const INSERT: &str = "INSERT INTO signing_keys (kid, alg, state, sealed_private, public_jwk, created_at, retired_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7)";

const RETIRE_ACTIVE: &str =
    "UPDATE signing_keys SET state = 'retired', retired_at = $2 WHERE alg = $1 AND state = 'active'";
const ACTIVATE_NEXT: &str = "UPDATE signing_keys SET state = 'active' WHERE kid = $1 AND state = 'next'";
const DELETE_RETIRED: &str = "DELETE FROM signing_keys WHERE state = 'retired' AND retired_at < $1";
/// A key that is not the active one (a compromised key is promoted away from first).
const DELETE_INACTIVE: &str = "DELETE FROM signing_keys WHERE kid = $1 AND state <> 'active'";

pub struct SigningKeys<'a> {
    db: &'a Db,
}

impl<'a> SigningKeys<'a> {
    pub(super) fn new(db: &'a Db) -> Self {
        Self { db }
    }

    pub async fn list(&self) -> Result<Vec<SigningKeyRow>, StorageError> {
        let rows: Vec<Row> = on_pool!(self.db, |pool| sqlx::query_as(LIST).fetch_all(pool).await)?;
        rows.into_iter()
            .map(|r| {
                let state = KeyState::parse(&r.2)
                    .ok_or_else(|| corrupt("signing_keys", format!("key {} has unknown state {:?}", r.0, r.2)))?;
                Ok(SigningKeyRow {
                    kid: r.0,
                    alg: r.1,
                    state,
                    sealed_private: r.3,
                    public_jwk: r.4,
                    created_at: r.5,
                    retired_at: r.6,
                })
            })
            .collect()
    }

    pub async fn insert(&self, k: &SigningKeyRow) -> Result<(), StorageError> {
        on_pool!(self.db, |pool| {
            sqlx::query(INSERT)
                .bind(&k.kid)
                .bind(&k.alg)
                .bind(k.state.as_str())
                .bind(&k.sealed_private)
                .bind(&k.public_jwk)
                .bind(k.created_at)
                .bind(k.retired_at)
                .execute(pool)
                .await
                .map(|r| r.rows_affected())
        })?;
        Ok(())
    }

    /// Makes the next key `kid` of `alg` the active one and retires the key it replaces, in one
    /// transaction; `false` (and nothing changed) when `kid` is no longer a next key (another
    /// node promoted it first).
    pub async fn promote(&self, alg: &str, kid: &str, now: i64) -> Result<bool, StorageError> {
        let mut tx = self.db.begin().await?;
        on_tx!(&mut tx, |conn| sqlx::query(RETIRE_ACTIVE)
            .bind(alg)
            .bind(now)
            .execute(conn)
            .await
            .map(|r| r.rows_affected()))?;
        let promoted = on_tx!(&mut tx, |conn| sqlx::query(ACTIVATE_NEXT)
            .bind(kid)
            .execute(conn)
            .await
            .map(|r| r.rows_affected()))?;
        if promoted != 1 {
            return Ok(false);
        }
        tx.commit().await?;
        Ok(true)
    }

    /// Deletes retired keys retired before `before`: no token they signed is still valid.
    /// Deletes key `kid` unless it is the active one; `false` when nothing was deleted.
    pub async fn delete_inactive(&self, kid: &str) -> Result<bool, StorageError> {
        let n = on_pool!(self.db, |pool| sqlx::query(DELETE_INACTIVE)
            .bind(kid)
            .execute(pool)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(n == 1)
    }

    pub async fn delete_retired_before(&self, before: i64) -> Result<u64, StorageError> {
        Ok(on_pool!(self.db, |pool| sqlx::query(DELETE_RETIRED)
            .bind(before)
            .execute(pool)
            .await
            .map(|r| r.rows_affected()))?)
    }
}
