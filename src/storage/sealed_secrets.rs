//! Secrets Pintu keeps for itself, sealed under the key-encryption key (`sealed_secrets`), and
//! re-sealing every sealed value in the database at once (a KEK rotation).

use super::{Db, StorageError, on_pool, on_tx};

/// Every sealed column: (table, key column, sealed column).
const SEALED_COLUMNS: &[(&str, &str, &str)] = &[
    ("signing_keys", "kid", "sealed_private"),
    ("totp_credentials", "user_id", "secret"),
    ("sealed_secrets", "name", "sealed"),
    ("saml_keys", "id", "sealed_private"),
];

pub struct SealedSecrets<'a> {
    db: &'a Db,
}

impl<'a> SealedSecrets<'a> {
    pub(super) fn new(db: &'a Db) -> Self {
        Self { db }
    }

    pub async fn get(&self, name: &str) -> Result<Option<String>, StorageError> {
        let sql = "SELECT sealed FROM sealed_secrets WHERE name = $1";
        Ok(on_pool!(self.db, |pool| sqlx::query_scalar(sql).bind(name).fetch_optional(pool).await)?)
    }

    /// Stores `sealed` as `name` unless a value is there already (another node's): the
    /// stored value wins, so read it back.
    pub async fn insert_if_absent(&self, name: &str, sealed: &str, now: i64) -> Result<(), StorageError> {
        let sql = "INSERT INTO sealed_secrets (name, sealed, created_at) VALUES ($1, $2, $3) \
                   ON CONFLICT (name) DO NOTHING";
        on_pool!(self.db, |pool| sqlx::query(sql)
            .bind(name)
            .bind(sealed)
            .bind(now)
            .execute(pool)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(())
    }
}

/// Opens and seals again every sealed value through `reseal`, in one transaction: all of them
/// or none. Returns how many were re-sealed.
pub(super) async fn reseal_all(
    db: &Db,
    reseal: impl Fn(&str) -> Result<String, String>,
) -> Result<usize, StorageError> {
    let mut tx = db.begin().await?;
    let mut count = 0;
    for (table, key, column) in SEALED_COLUMNS {
        let select = sqlx::AssertSqlSafe(format!("SELECT {key}, {column} FROM {table}"));
        let rows: Vec<(String, String)> = on_tx!(&mut tx, |conn| sqlx::query_as(select).fetch_all(conn).await)?;
        for (id, sealed) in rows {
            let fresh = reseal(&sealed).map_err(|reason| StorageError::Corrupt { table, reason })?;
            let update = sqlx::AssertSqlSafe(format!("UPDATE {table} SET {column} = $1 WHERE {key} = $2"));
            on_tx!(&mut tx, |conn| sqlx::query(update)
                .bind(&fresh)
                .bind(&id)
                .execute(conn)
                .await
                .map(|r| r.rows_affected()))?;
            count += 1;
        }
    }
    tx.commit().await?;
    Ok(count)
}
