//! Applications' icons for the portal (`application_icons`): one image per application, kept
//! as base64 text with its media type and a digest that names the version served.

use super::{Db, StorageError, Tx, on_pool, on_tx};

/// An icon as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredIcon {
    pub content_type: String,
    pub data_base64: String,
    /// base64url SHA-256 of the image: the `ETag`, and the version in the portal's URL.
    pub digest: String,
    pub updated_at: i64,
}

pub struct ApplicationIcons<'a> {
    db: &'a Db,
}

impl<'a> ApplicationIcons<'a> {
    pub(super) fn new(db: &'a Db) -> Self {
        Self { db }
    }

    /// Sets `application_id`'s icon, replacing any earlier one.
    pub async fn set_in(&self, tx: &mut Tx, application_id: &str, icon: &StoredIcon) -> Result<(), StorageError> {
        let sql = "INSERT INTO application_icons (application_id, content_type, data_base64, digest, updated_at) \
                   VALUES ($1, $2, $3, $4, $5) ON CONFLICT (application_id) DO UPDATE SET \
                   content_type = excluded.content_type, data_base64 = excluded.data_base64, \
                   digest = excluded.digest, updated_at = excluded.updated_at";
        on_tx!(tx, |conn| sqlx::query(sql)
            .bind(application_id)
            .bind(&icon.content_type)
            .bind(&icon.data_base64)
            .bind(&icon.digest)
            .bind(icon.updated_at)
            .execute(conn)
            .await
            .map(|_| ()))?;
        Ok(())
    }

    /// Removes the icon; whether there was one.
    pub async fn remove_in(&self, tx: &mut Tx, application_id: &str) -> Result<bool, StorageError> {
        let sql = "DELETE FROM application_icons WHERE application_id = $1";
        let done =
            on_tx!(tx, |conn| sqlx::query(sql).bind(application_id).execute(conn).await.map(|r| r.rows_affected()))?;
        Ok(done > 0)
    }

    pub async fn find(&self, application_id: &str) -> Result<Option<StoredIcon>, StorageError> {
        let sql =
            "SELECT content_type, data_base64, digest, updated_at FROM application_icons WHERE application_id = $1";
        let row: Option<(String, String, String, i64)> =
            on_pool!(self.db, |pool| sqlx::query_as(sql).bind(application_id).fetch_optional(pool).await)?;
        Ok(row.map(|r| StoredIcon { content_type: r.0, data_base64: r.1, digest: r.2, updated_at: r.3 }))
    }

    /// The digest of every application's icon, by application id (for the portal's links).
    pub async fn digests(&self) -> Result<Vec<(String, String)>, StorageError> {
        let sql = "SELECT application_id, digest FROM application_icons";
        let rows: Vec<(String, String)> = on_pool!(self.db, |pool| sqlx::query_as(sql).fetch_all(pool).await)?;
        Ok(rows)
    }
}
