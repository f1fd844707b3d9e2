//! The SAML service providers a session signed in to (`saml_session_participants`), with the
//! NameID each was given: whom single logout must reach, and how each knows the person.

use super::{Db, StorageError, on_pool, row_struct};

/// One SP of a session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SamlParticipant {
    pub application_id: String,
    pub name_id: String,
    pub name_id_format: String,
}

row_struct!(ParticipantRow { application_id: String, name_id: String, name_id_format: String });

pub struct SamlParticipants<'a> {
    db: &'a Db,
}

impl<'a> SamlParticipants<'a> {
    pub(super) fn new(db: &'a Db) -> Self {
        Self { db }
    }

    /// Records (or updates: a transient NameID changes each time) what the SP was given.
    pub async fn record(&self, session: &str, p: &SamlParticipant, now: i64) -> Result<(), StorageError> {
        let sql = "INSERT INTO saml_session_participants (session_id, application_id, name_id, name_id_format, \
                   created_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (session_id, application_id) \
                   DO UPDATE SET name_id = excluded.name_id, name_id_format = excluded.name_id_format";
        on_pool!(self.db, |pool| sqlx::query(sql)
            .bind(session)
            .bind(&p.application_id)
            .bind(&p.name_id)
            .bind(&p.name_id_format)
            .bind(now)
            .execute(pool)
            .await
            .map(|_| ()))?;
        Ok(())
    }

    /// Forgets that `session` reached `application` (the SP logged out of it itself).
    pub async fn forget(&self, session: &str, application: &str) -> Result<(), StorageError> {
        let sql = "DELETE FROM saml_session_participants WHERE session_id = $1 AND application_id = $2";
        on_pool!(self.db, |pool| sqlx::query(sql).bind(session).bind(application).execute(pool).await.map(|_| ()))?;
        Ok(())
    }

    /// The SPs of `session`, oldest first.
    pub async fn of_session(&self, session: &str) -> Result<Vec<SamlParticipant>, StorageError> {
        let sql = "SELECT application_id, name_id, name_id_format FROM saml_session_participants \
                   WHERE session_id = $1 ORDER BY created_at, application_id";
        let rows: Vec<ParticipantRow> =
            on_pool!(self.db, |pool| sqlx::query_as(sql).bind(session).fetch_all(pool).await)?;
        Ok(rows
            .into_iter()
            .map(|r| SamlParticipant {
                application_id: r.application_id,
                name_id: r.name_id,
                name_id_format: r.name_id_format,
            })
            .collect())
    }
}
