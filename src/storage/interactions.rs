//! Pending browser interactions (login, consent, logout confirmation). The payload is opaque
//! JSON owned by the protocol core; only the CSRF token's hash is stored.

use crate::domain::{GrantId, SessionId};

use super::{Db, StorageError, on_pool};

/// A pending interaction.
#[derive(Debug, Clone)]
pub struct Interaction {
    pub id: String,
    pub kind: String,
    pub csrf_hash: String,
    pub payload: String,
    /// Set once the person has logged in during this interaction.
    pub session_id: Option<SessionId>,
    pub created_at: i64,
    pub expires_at: i64,
}

type Row = (String, String, String, String, Option<String>, i64, i64);

const INSERT: &str = "INSERT INTO interactions (id, kind, csrf_hash, payload, session_id, created_at, expires_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7)";
/// `$3` names the grant that finishes the interaction ('' for none): once that grant exists the
/// interaction is over, in the same statement that loads it.
const FIND: &str = "SELECT id, kind, csrf_hash, payload, session_id, created_at, expires_at FROM interactions \
     WHERE id = $1 AND expires_at > $2 AND NOT EXISTS (SELECT 1 FROM grants WHERE grants.id = $3)";
const ATTACH_SESSION: &str = "UPDATE interactions SET session_id = $2, kind = $3 WHERE id = $1";
const DELETE: &str = "DELETE FROM interactions WHERE id = $1";

pub struct Interactions<'a> {
    db: &'a Db,
}

impl<'a> Interactions<'a> {
    pub(super) fn new(db: &'a Db) -> Self {
        Self { db }
    }

    pub async fn insert(&self, i: &Interaction) -> Result<(), StorageError> {
        on_pool!(self.db, |pool| {
            sqlx::query(INSERT)
                .bind(&i.id)
                .bind(&i.kind)
                .bind(&i.csrf_hash)
                .bind(&i.payload)
                .bind(i.session_id.as_ref().map(SessionId::as_str))
                .bind(i.created_at)
                .bind(i.expires_at)
                .execute(pool)
                .await
                .map(|r| r.rows_affected())
        })?;
        Ok(())
    }

    /// An unexpired interaction by id, unless grant `finished_by` exists (an authorization
    /// interaction is finished by writing its grant, not by a deletion).
    pub async fn find(
        &self,
        id: &str,
        now: i64,
        finished_by: Option<&GrantId>,
    ) -> Result<Option<Interaction>, StorageError> {
        let grant = finished_by.map_or("", GrantId::as_str);
        let row: Option<Row> =
            on_pool!(self.db, |pool| sqlx::query_as(FIND).bind(id).bind(now).bind(grant).fetch_optional(pool).await)?;
        Ok(row.map(|r| Interaction {
            id: r.0,
            kind: r.1,
            csrf_hash: r.2,
            payload: r.3,
            session_id: r.4.map(SessionId::new),
            created_at: r.5,
            expires_at: r.6,
        }))
    }

    /// Moves an interaction to its next step (`kind`), bound to `session`.
    pub async fn attach_session(&self, id: &str, session: &SessionId, kind: &str) -> Result<(), StorageError> {
        on_pool!(self.db, |pool| sqlx::query(ATTACH_SESSION)
            .bind(id)
            .bind(session.as_str())
            .bind(kind)
            .execute(pool)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Removes an interaction; `false` when it was already gone (used to finish it exactly once).
    pub async fn delete(&self, id: &str) -> Result<bool, StorageError> {
        let n = on_pool!(self.db, |pool| sqlx::query(DELETE).bind(id).execute(pool).await.map(|r| r.rows_affected()))?;
        Ok(n == 1)
    }
}
