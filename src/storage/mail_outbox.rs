//! E-mail waiting to be sent (`mail_outbox`), claimed one message at a time so several nodes
//! never send one twice.

use super::{Db, StorageError, on_pool, row_struct};

/// A message to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutgoingMail {
    pub id: String,
    pub to_addr: String,
    pub subject: String,
    pub body: String,
    /// The same message as HTML (sent as a multipart/alternative); empty for text only.
    pub body_html: String,
    pub attempts: i64,
}

row_struct!(MailRow { id: String, to_addr: String, subject: String, body: String, body_html: String, attempts: i64 });

pub struct MailOutbox<'a> {
    db: &'a Db,
}

impl<'a> MailOutbox<'a> {
    pub(super) fn new(db: &'a Db) -> Self {
        Self { db }
    }

    pub async fn insert(&self, m: &OutgoingMail, now: i64) -> Result<(), StorageError> {
        let sql = "INSERT INTO mail_outbox (id, to_addr, subject, body, body_html, status, attempts, next_at, \
                   claimed_until, created_at) VALUES ($1, $2, $3, $4, $6, 'pending', 0, $5, 0, $5)";
        on_pool!(self.db, |pool| sqlx::query(sql)
            .bind(&m.id)
            .bind(&m.to_addr)
            .bind(&m.subject)
            .bind(&m.body)
            .bind(now)
            .bind(&m.body_html)
            .execute(pool)
            .await
            .map(|_| ()))?;
        Ok(())
    }

    /// Claims the oldest message due at `now` for `hold` seconds (nobody else sends it then).
    pub async fn claim(&self, now: i64, hold: i64) -> Result<Option<OutgoingMail>, StorageError> {
        let sql = "UPDATE mail_outbox SET claimed_until = $2 WHERE id = (SELECT id FROM mail_outbox \
                   WHERE status = 'pending' AND next_at <= $1 AND claimed_until <= $1 ORDER BY created_at LIMIT 1) \
                   AND claimed_until <= $1 RETURNING id, to_addr, subject, body, body_html, attempts";
        let row: Option<MailRow> =
            on_pool!(self.db, |pool| sqlx::query_as(sql).bind(now).bind(now + hold).fetch_optional(pool).await)?;
        Ok(row.map(|r| OutgoingMail {
            id: r.id,
            to_addr: r.to_addr,
            subject: r.subject,
            body: r.body,
            body_html: r.body_html,
            attempts: r.attempts,
        }))
    }

    /// Sent: the bodies (they may hold a one-time link) are cleared.
    pub async fn sent(&self, id: &str, now: i64) -> Result<(), StorageError> {
        let sql = "UPDATE mail_outbox SET status = 'sent', sent_at = $2, body = '', body_html = '', attempts = attempts + 1, \
                   last_error = NULL WHERE id = $1";
        on_pool!(self.db, |pool| sqlx::query(sql).bind(id).bind(now).execute(pool).await.map(|_| ()))?;
        Ok(())
    }

    /// Not sent: tried again at `next_at`, or given up (`next_at` `None`: the body cleared).
    pub async fn failed(&self, id: &str, error: &str, next_at: Option<i64>) -> Result<(), StorageError> {
        let sql = "UPDATE mail_outbox SET attempts = attempts + 1, last_error = $2, claimed_until = 0, \
                   next_at = COALESCE($3, next_at), status = CASE WHEN $3 IS NULL THEN 'failed' ELSE status END, \
                   body = CASE WHEN $3 IS NULL THEN '' ELSE body END, \
                   body_html = CASE WHEN $3 IS NULL THEN '' ELSE body_html END WHERE id = $1";
        on_pool!(self.db, |pool| sqlx::query(sql).bind(id).bind(error).bind(next_at).execute(pool).await.map(|_| ()))?;
        Ok(())
    }
}
