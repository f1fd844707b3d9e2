//! Back-channel logout notices waiting to be delivered (`logout_deliveries`): queued when a
//! session ends, claimed one at a time so several nodes never post one twice.

use super::{Db, StorageError, on_pool, row_struct};

/// A notice to deliver: the session that ended, the client to tell, whose session it was.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogoutNotice {
    pub id: String,
    pub session_id: String,
    pub client_id: String,
    pub user_id: String,
    pub attempts: i64,
}

row_struct!(NoticeRow { id: String, session_id: String, client_id: String, user_id: String, attempts: i64 });

/// Queues notices for the live sessions of user `$1` other than `$2` (`''` for all of them),
/// as of `$3`: run before those sessions are ended in bulk. One per OpenID Connect client a
/// session reached (a grant) and per SAML SP it signed in to (a participant).
pub(super) const ENQUEUE_FOR_USER: &str = "INSERT INTO logout_deliveries (id, session_id, client_id, user_id, \
     status, attempts, next_at, claimed_until, created_at) \
     SELECT g.session_id || ' ' || g.client_id, g.session_id, g.client_id, g.user_id, 'pending', 0, \
     CAST($3 AS BIGINT), 0, CAST($3 AS BIGINT) \
     FROM grants g JOIN sessions s ON s.id = g.session_id \
     WHERE s.user_id = $1 AND s.id <> $2 AND s.ended_at IS NULL AND g.user_id IS NOT NULL \
     UNION SELECT p.session_id || ' ' || p.application_id, p.session_id, p.application_id, s.user_id, 'pending', 0, \
     CAST($3 AS BIGINT), 0, CAST($3 AS BIGINT) \
     FROM saml_session_participants p JOIN sessions s ON s.id = p.session_id \
     WHERE s.user_id = $1 AND s.id <> $2 AND s.ended_at IS NULL \
     ON CONFLICT (id) DO NOTHING";

/// Pauses before the second, third, … attempt of a notice (seconds); then it is given up.
pub const RETRY_AFTER: [i64; 4] = [30, 120, 600, 3600];
/// How long one node holds a notice while it delivers it.
const HOLD_SECS: i64 = 60;
/// Most notices one run delivers (the rest wait for the next run).
const BATCH: usize = 100;

impl LogoutNotice {
    /// When to try again after this attempt failed, as of `now`; `None`: it is given up.
    pub fn retry_at(&self, now: i64) -> Option<i64> {
        usize::try_from(self.attempts).ok().and_then(|n| RETRY_AFTER.get(n)).map(|pause| now + pause)
    }
}

/// Queues a notice for every client session `$1` reached (any grant under it) and every SAML
/// SP it signed in to, as of `$2`: run in the transaction that ends the session.
pub(super) const ENQUEUE_FOR_SESSION: &str = "INSERT INTO logout_deliveries (id, session_id, client_id, user_id, \
     status, attempts, next_at, claimed_until, created_at) \
     SELECT session_id || ' ' || client_id, session_id, client_id, user_id, 'pending', 0, \
     CAST($2 AS BIGINT), 0, CAST($2 AS BIGINT) \
     FROM grants WHERE session_id = $1 AND user_id IS NOT NULL \
     UNION SELECT p.session_id || ' ' || p.application_id, p.session_id, p.application_id, s.user_id, \
     'pending', 0, CAST($2 AS BIGINT), 0, CAST($2 AS BIGINT) \
     FROM saml_session_participants p JOIN sessions s ON s.id = p.session_id WHERE p.session_id = $1 \
     ON CONFLICT (id) DO NOTHING";

pub struct LogoutDeliveries<'a> {
    db: &'a Db,
}

impl<'a> LogoutDeliveries<'a> {
    pub(super) fn new(db: &'a Db) -> Self {
        Self { db }
    }

    /// The clients a session reached, as queued when it ended.
    pub async fn clients_of(&self, session: &str) -> Result<Vec<String>, StorageError> {
        let sql = "SELECT client_id FROM logout_deliveries WHERE session_id = $1 ORDER BY client_id";
        let rows: Vec<(String,)> = on_pool!(self.db, |pool| sqlx::query_as(sql).bind(session).fetch_all(pool).await)?;
        Ok(rows.into_iter().map(|(c,)| c).collect())
    }

    /// Claims the oldest notice due at `now` for `hold` seconds among those for applications
    /// of `protocol` (`oidc`, where a notice whose application is gone goes too, or `saml`).
    async fn claim(&self, protocol: &str, now: i64, hold: i64) -> Result<Option<LogoutNotice>, StorageError> {
        let sql = "UPDATE logout_deliveries SET claimed_until = $2 WHERE id = (SELECT d.id FROM logout_deliveries d \
                   LEFT JOIN applications a ON a.id = d.client_id \
                   WHERE d.status = 'pending' AND d.next_at <= $1 AND d.claimed_until <= $1 \
                   AND COALESCE(a.protocol, 'oidc') = $3 ORDER BY d.created_at LIMIT 1) \
                   AND claimed_until <= $1 RETURNING id, session_id, client_id, user_id, attempts";
        let row: Option<NoticeRow> = on_pool!(self.db, |pool| sqlx::query_as(sql)
            .bind(now)
            .bind(now + hold)
            .bind(protocol)
            .fetch_optional(pool)
            .await)?;
        Ok(row.map(|r| LogoutNotice {
            id: r.id,
            session_id: r.session_id,
            client_id: r.client_id,
            user_id: r.user_id,
            attempts: r.attempts,
        }))
    }

    /// Claims the notices of `protocol` due now, one at a time (at most `BATCH` a run), and
    /// hands each to `deliver`; how many it reported delivered. A notice `deliver` cannot
    /// settle is logged and left to its hold's end.
    pub async fn drain<Delivered>(
        &self,
        protocol: &str,
        now: impl Fn() -> i64,
        mut deliver: impl FnMut(LogoutNotice) -> Delivered,
    ) -> usize
    where
        Delivered: std::future::Future<Output = Result<bool, StorageError>>,
    {
        let mut delivered = 0;
        for _ in 0..BATCH {
            let notice = match self.claim(protocol, now(), HOLD_SECS).await {
                Ok(Some(notice)) => notice,
                Ok(None) => break,
                Err(e) => {
                    tracing::error!(error = %e, protocol, "logout notices cannot be read");
                    break;
                }
            };
            match deliver(notice).await {
                Ok(true) => delivered += 1,
                Ok(false) => {}
                Err(e) => tracing::error!(error = %e, protocol, "a logout notice cannot be settled"),
            }
        }
        delivered
    }

    /// Settled: `sent` (the client answered 200, the SP with Success), or `none` (it
    /// registered no back-channel URI, or is gone).
    pub async fn settle(&self, id: &str, status: &str) -> Result<(), StorageError> {
        let sql = "UPDATE logout_deliveries SET status = $2, attempts = attempts + 1, last_error = NULL, \
                   claimed_until = 0 WHERE id = $1";
        on_pool!(self.db, |pool| sqlx::query(sql).bind(id).bind(status).execute(pool).await.map(|_| ()))?;
        Ok(())
    }

    /// Not delivered: tried again at `next_at`, or given up (`None`).
    pub async fn failed(&self, id: &str, error: &str, next_at: Option<i64>) -> Result<(), StorageError> {
        let sql = "UPDATE logout_deliveries SET attempts = attempts + 1, last_error = $2, claimed_until = 0, \
                   next_at = COALESCE($3, next_at), status = CASE WHEN $3 IS NULL THEN 'failed' ELSE status END \
                   WHERE id = $1";
        on_pool!(self.db, |pool| sqlx::query(sql).bind(id).bind(error).bind(next_at).execute(pool).await.map(|_| ()))?;
        Ok(())
    }
}
