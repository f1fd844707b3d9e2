//! The SAML identity provider's signing keys (`saml_keys`): the private key sealed, the
//! certificate in the clear. At most one is current (a unique partial index), so nodes that
//! generate the first key at once keep one.

use super::{Db, StorageError, on_pool, on_tx};

/// A stored key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SamlKeyRow {
    pub id: String,
    /// `next`, `current` or `retired`.
    pub state: String,
    pub sealed_private: String,
    pub certificate_pem: String,
    pub not_after: i64,
    pub created_at: i64,
    pub retired_at: Option<i64>,
}

type Row = (String, String, String, String, i64, i64, Option<i64>);

const COLUMNS: &str = "id, state, sealed_private, certificate_pem, not_after, created_at, retired_at";

pub struct SamlKeys<'a> {
    db: &'a Db,
}

impl<'a> SamlKeys<'a> {
    pub(super) fn new(db: &'a Db) -> Self {
        Self { db }
    }

    /// Every key that is not retired, the current one first.
    pub async fn published(&self) -> Result<Vec<SamlKeyRow>, StorageError> {
        self.select("WHERE state <> 'retired'").await
    }

    /// Every key, retired ones included: current, next, then retired by age.
    pub async fn all(&self) -> Result<Vec<SamlKeyRow>, StorageError> {
        self.select("").await
    }

    async fn select(&self, filter: &str) -> Result<Vec<SamlKeyRow>, StorageError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM saml_keys {filter} \
             ORDER BY CASE state WHEN 'current' THEN 0 WHEN 'next' THEN 1 ELSE 2 END, created_at DESC"
        );
        let rows: Vec<Row> =
            on_pool!(self.db, |pool| sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())).fetch_all(pool).await)?;
        Ok(rows
            .into_iter()
            .map(|r| SamlKeyRow {
                id: r.0,
                state: r.1,
                sealed_private: r.2,
                certificate_pem: r.3,
                not_after: r.4,
                created_at: r.5,
                retired_at: r.6,
            })
            .collect())
    }

    /// The next key becomes current and the current one retired, in one transaction; `false`
    /// when there is no next key.
    pub async fn promote_next(&self, now: i64) -> Result<bool, StorageError> {
        let mut tx = self.db.begin().await?;
        let next: Option<(String,)> =
            on_tx!(&mut tx, |conn| sqlx::query_as("SELECT id FROM saml_keys WHERE state = 'next'")
                .fetch_optional(conn)
                .await)?;
        let Some((next,)) = next else { return Ok(false) };
        let retire = "UPDATE saml_keys SET state = 'retired', retired_at = $1 WHERE state = 'current'";
        on_tx!(&mut tx, |conn| sqlx::query(retire).bind(now).execute(conn).await.map(|_| ()))?;
        let promote = "UPDATE saml_keys SET state = 'current' WHERE id = $1";
        on_tx!(&mut tx, |conn| sqlx::query(promote).bind(&next).execute(conn).await.map(|_| ()))?;
        tx.commit().await?;
        Ok(true)
    }

    /// Stores `key`; a second `current` key (another node was first) is not stored, and
    /// `false` says so.
    pub async fn insert(&self, key: &SamlKeyRow) -> Result<bool, StorageError> {
        let sql =
            format!("INSERT INTO saml_keys ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING");
        let inserted = on_pool!(self.db, |pool| sqlx::query(sqlx::AssertSqlSafe(sql.as_str()))
            .bind(&key.id)
            .bind(&key.state)
            .bind(&key.sealed_private)
            .bind(&key.certificate_pem)
            .bind(key.not_after)
            .bind(key.created_at)
            .bind(key.retired_at)
            .execute(pool)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(inserted == 1)
    }
}
