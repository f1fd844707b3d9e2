//! Signed checkpoints of the audit chain (`audit_checkpoints`), and the chain's hash at a
//! given event, which a checkpoint is compared with.

use super::{Db, StorageError, on_pool};

/// One stored checkpoint: the chain's head when it was signed, and the JWS that signs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckpointRow {
    pub seq: i64,
    pub hash: String,
    pub jws: String,
    pub created_at: i64,
}

const INSERT: &str = "INSERT INTO audit_checkpoints (seq, hash, jws, created_at) VALUES ($1, $2, $3, $4) \
     ON CONFLICT (seq) DO NOTHING";
const LIST: &str = "SELECT seq, hash, jws, created_at FROM audit_checkpoints ORDER BY seq";
const LATEST: &str = "SELECT MAX(seq) FROM audit_checkpoints";
const HEAD: &str = "SELECT seq, hash FROM audit_events ORDER BY seq DESC LIMIT 1";
const HASH_AT: &str = "SELECT hash FROM audit_events WHERE seq = $1";

pub struct AuditCheckpoints<'a> {
    db: &'a Db,
}

impl<'a> AuditCheckpoints<'a> {
    pub(super) fn new(db: &'a Db) -> Self {
        Self { db }
    }

    /// Stores a checkpoint; `false` when one for that event exists already (another node).
    pub async fn insert(&self, c: &CheckpointRow) -> Result<bool, StorageError> {
        let n = on_pool!(self.db, |pool| sqlx::query(INSERT)
            .bind(c.seq)
            .bind(&c.hash)
            .bind(&c.jws)
            .bind(c.created_at)
            .execute(pool)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(n == 1)
    }

    pub async fn list(&self) -> Result<Vec<CheckpointRow>, StorageError> {
        let rows: Vec<(i64, String, String, i64)> =
            on_pool!(self.db, |pool| sqlx::query_as(LIST).fetch_all(pool).await)?;
        Ok(rows.into_iter().map(|r| CheckpointRow { seq: r.0, hash: r.1, jws: r.2, created_at: r.3 }).collect())
    }

    /// The event the newest checkpoint signs (0: none yet).
    pub async fn latest_seq(&self) -> Result<i64, StorageError> {
        let (seq,): (Option<i64>,) = on_pool!(self.db, |pool| sqlx::query_as(LATEST).fetch_one(pool).await)?;
        Ok(seq.unwrap_or(0))
    }

    /// The audit chain's last event and its hash (`None`: no event yet).
    pub async fn chain_head(&self) -> Result<Option<(i64, String)>, StorageError> {
        Ok(on_pool!(self.db, |pool| sqlx::query_as(HEAD).fetch_optional(pool).await)?)
    }

    /// The stored hash of event `seq` (`None`: no such event).
    pub async fn hash_at(&self, seq: i64) -> Result<Option<String>, StorageError> {
        let row: Option<(String,)> =
            on_pool!(self.db, |pool| sqlx::query_as(HASH_AT).bind(seq).fetch_optional(pool).await)?;
        Ok(row.map(|r| r.0))
    }
}
