//! Transaction signing (`signing_transactions`, never deleted) and OpenID Connect CIBA
//! requests (`ciba_requests`, deleted once expired).

use super::{Db, StorageError, on_pool, row_struct};

/// One decision on a signing request, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransactionRow {
    pub id: String,
    pub client_id: String,
    pub user_id: String,
    pub unit_id: Option<String>,
    /// browser, ciba.
    pub channel: String,
    /// signed, declined, failed.
    pub status: String,
    pub level: Option<i64>,
    /// The authorization details as approved (JSON array).
    pub details: String,
    /// The details enriched with the signatures (JSON array), when signed.
    pub result: Option<String>,
    pub receipt: Option<String>,
    pub failure: Option<String>,
    pub created_at: i64,
}

row_struct!(TxRow {
    id: String,
    client_id: String,
    user_id: String,
    unit_id: Option<String>,
    channel: String,
    status: String,
    level: Option<i64>,
    details: String,
    result: Option<String>,
    receipt: Option<String>,
    failure: Option<String>,
    created_at: i64,
});

impl From<TxRow> for TransactionRow {
    fn from(r: TxRow) -> Self {
        Self {
            id: r.id,
            client_id: r.client_id,
            user_id: r.user_id,
            unit_id: r.unit_id,
            channel: r.channel,
            status: r.status,
            level: r.level,
            details: r.details,
            result: r.result,
            receipt: r.receipt,
            failure: r.failure,
            created_at: r.created_at,
        }
    }
}

/// A count of decisions for the report: per unit, application, status and level.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransactionCount {
    pub unit_id: Option<String>,
    pub client_id: String,
    pub status: String,
    pub level: Option<i64>,
    pub count: i64,
}

row_struct!(CountRow { unit_id: Option<String>, client_id: String, status: String, level: Option<i64>, count: i64 });

/// A CIBA request as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CibaRow {
    pub id: String,
    pub client_id: String,
    pub user_id: String,
    /// poll, ping.
    pub mode: String,
    pub scope: String,
    pub acr_values: Option<String>,
    pub binding_message: Option<String>,
    pub details: Option<String>,
    pub notification_token: Option<String>,
    /// pending, approved, denied, issued.
    pub status: String,
    pub session_id: Option<String>,
    /// The sign-in context at approval (JSON AuthnContext).
    pub authn: Option<String>,
    pub transaction_id: Option<String>,
    pub poll_interval: i64,
    pub last_poll_at: Option<i64>,
    pub created_at: i64,
    pub expires_at: i64,
}

row_struct!(CibaDbRow {
    id: String,
    client_id: String,
    user_id: String,
    mode: String,
    scope: String,
    acr_values: Option<String>,
    binding_message: Option<String>,
    details: Option<String>,
    notification_token: Option<String>,
    status: String,
    session_id: Option<String>,
    authn: Option<String>,
    transaction_id: Option<String>,
    poll_interval: i64,
    last_poll_at: Option<i64>,
    created_at: i64,
    expires_at: i64,
});

impl From<CibaDbRow> for CibaRow {
    fn from(r: CibaDbRow) -> Self {
        Self {
            id: r.id,
            client_id: r.client_id,
            user_id: r.user_id,
            mode: r.mode,
            scope: r.scope,
            acr_values: r.acr_values,
            binding_message: r.binding_message,
            details: r.details,
            notification_token: r.notification_token,
            status: r.status,
            session_id: r.session_id,
            authn: r.authn,
            transaction_id: r.transaction_id,
            poll_interval: r.poll_interval,
            last_poll_at: r.last_poll_at,
            created_at: r.created_at,
            expires_at: r.expires_at,
        }
    }
}

macro_rules! ciba_columns {
    () => {
        "id, client_id, user_id, mode, scope, acr_values, binding_message, details, notification_token, status, \
         session_id, authn, transaction_id, poll_interval, last_poll_at, created_at, expires_at"
    };
}

/// What a poll found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Poll {
    /// Unknown or another client's.
    Unknown,
    /// Its time ran out (CIBA §11 `expired_token`).
    Expired,
    /// Polled again sooner than the interval allows.
    TooFast,
    Found(Box<CibaRow>),
}

pub struct Signing<'a> {
    db: &'a Db,
}

impl<'a> Signing<'a> {
    pub(super) fn new(db: &'a Db) -> Self {
        Self { db }
    }

    pub async fn insert_transaction(&self, t: &TransactionRow) -> Result<(), StorageError> {
        let sql = "INSERT INTO signing_transactions (id, client_id, user_id, unit_id, channel, status, level, \
                   details, result, receipt, failure, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)";
        on_pool!(self.db, |pool| sqlx::query(sql)
            .bind(&t.id)
            .bind(&t.client_id)
            .bind(&t.user_id)
            .bind(&t.unit_id)
            .bind(&t.channel)
            .bind(&t.status)
            .bind(t.level)
            .bind(&t.details)
            .bind(&t.result)
            .bind(&t.receipt)
            .bind(&t.failure)
            .bind(t.created_at)
            .execute(pool)
            .await
            .map(|_| ()))?;
        Ok(())
    }

    pub async fn transaction(&self, id: &str) -> Result<Option<TransactionRow>, StorageError> {
        let sql = "SELECT id, client_id, user_id, unit_id, channel, status, level, details, result, receipt, \
                   failure, created_at FROM signing_transactions WHERE id = $1";
        let row: Option<TxRow> = on_pool!(self.db, |pool| sqlx::query_as(sql).bind(id).fetch_optional(pool).await)?;
        Ok(row.map(Into::into))
    }

    /// Decisions taken in `[from, to)`, counted per unit, application, status and level.
    pub async fn counts(&self, from: i64, to: i64) -> Result<Vec<TransactionCount>, StorageError> {
        let sql = "SELECT unit_id, client_id, status, level, COUNT(*) AS count FROM signing_transactions \
                   WHERE created_at >= $1 AND created_at < $2 GROUP BY unit_id, client_id, status, level \
                   ORDER BY unit_id, client_id, status, level";
        let rows: Vec<CountRow> =
            on_pool!(self.db, |pool| sqlx::query_as(sql).bind(from).bind(to).fetch_all(pool).await)?;
        Ok(rows
            .into_iter()
            .map(|r| TransactionCount {
                unit_id: r.unit_id,
                client_id: r.client_id,
                status: r.status,
                level: r.level,
                count: r.count,
            })
            .collect())
    }

    pub async fn insert_ciba(&self, r: &CibaRow, auth_req_hash: &str) -> Result<(), StorageError> {
        let sql = "INSERT INTO ciba_requests (id, auth_req_hash, client_id, user_id, mode, scope, acr_values, \
                   binding_message, details, notification_token, status, poll_interval, created_at, expires_at) \
                   VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)";
        on_pool!(self.db, |pool| sqlx::query(sql)
            .bind(&r.id)
            .bind(auth_req_hash)
            .bind(&r.client_id)
            .bind(&r.user_id)
            .bind(&r.mode)
            .bind(&r.scope)
            .bind(&r.acr_values)
            .bind(&r.binding_message)
            .bind(&r.details)
            .bind(&r.notification_token)
            .bind(&r.status)
            .bind(r.poll_interval)
            .bind(r.created_at)
            .bind(r.expires_at)
            .execute(pool)
            .await
            .map(|_| ()))?;
        Ok(())
    }

    /// `user_id`'s request `id`, whatever its state (expired ones included).
    pub async fn ciba_of_user(&self, id: &str, user_id: &str) -> Result<Option<CibaRow>, StorageError> {
        const SQL: &str = concat!("SELECT ", ciba_columns!(), " FROM ciba_requests WHERE id = $1 AND user_id = $2");
        let row: Option<CibaDbRow> =
            on_pool!(self.db, |pool| sqlx::query_as(SQL).bind(id).bind(user_id).fetch_optional(pool).await)?;
        Ok(row.map(Into::into))
    }

    /// `user_id`'s requests still waiting for a decision at `now`, oldest first.
    pub async fn pending_ciba(&self, user_id: &str, now: i64) -> Result<Vec<CibaRow>, StorageError> {
        const SQL: &str = concat!(
            "SELECT ",
            ciba_columns!(),
            " FROM ciba_requests WHERE user_id = $1 AND status = 'pending' AND expires_at > $2 ORDER BY created_at"
        );
        let rows: Vec<CibaDbRow> =
            on_pool!(self.db, |pool| sqlx::query_as(SQL).bind(user_id).bind(now).fetch_all(pool).await)?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    /// Claims `user_id`'s pending, unexpired request `id` while the person's approval is being
    /// carried out (a step-up, a signature), so no second decision can run beside it. False
    /// when it was decided, claimed or expired.
    pub async fn claim_ciba(&self, id: &str, user_id: &str, now: i64) -> Result<bool, StorageError> {
        let sql = "UPDATE ciba_requests SET status = 'deciding' \
                   WHERE id = $1 AND user_id = $2 AND status = 'pending' AND expires_at > $3";
        let n = on_pool!(self.db, |pool| sqlx::query(sql)
            .bind(id)
            .bind(user_id)
            .bind(now)
            .execute(pool)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(n == 1)
    }

    /// Gives a claimed request back (the approval was refused: the person may try again).
    pub async fn release_ciba(&self, id: &str) -> Result<(), StorageError> {
        let sql = "UPDATE ciba_requests SET status = 'pending' WHERE id = $1 AND status = 'deciding'";
        on_pool!(self.db, |pool| sqlx::query(sql).bind(id).execute(pool).await.map(|_| ()))?;
        Ok(())
    }

    /// Records the person's decision on a request they claimed: `approved` with the session's
    /// sign-in context (and the signing transaction), or `denied`. The client gets at least a
    /// minute to collect it, however long the approval took. False when it was not claimed.
    pub async fn decide_ciba(
        &self,
        id: &str,
        status: &str,
        approval: Option<(&str, &str)>,
        transaction_id: Option<&str>,
        now: i64,
    ) -> Result<bool, StorageError> {
        let sql = "UPDATE ciba_requests SET status = $1, session_id = $2, authn = $3, transaction_id = $4, \
                   expires_at = CASE WHEN expires_at < $5 THEN $5 ELSE expires_at END \
                   WHERE id = $6 AND status = 'deciding'";
        let (session, authn) = approval.map_or((None, None), |(s, a)| (Some(s), Some(a)));
        let done = on_pool!(self.db, |pool| sqlx::query(sql)
            .bind(status)
            .bind(session)
            .bind(authn)
            .bind(transaction_id)
            .bind(now + 60)
            .bind(id)
            .execute(pool)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(done == 1)
    }

    /// CIBA §7.3, §11: a poll by `client_id`. A poll sooner than the interval after the last
    /// one is `TooFast` (and does not count as a poll); otherwise the poll time is recorded.
    pub async fn poll_ciba(&self, auth_req_hash: &str, client_id: &str, now: i64) -> Result<Poll, StorageError> {
        // One statement decides and records, so two concurrent polls cannot both pass.
        const SQL: &str = concat!(
            "UPDATE ciba_requests SET last_poll_at = $1 WHERE auth_req_hash = $2 AND client_id = $3 \
             AND expires_at > $1 AND (last_poll_at IS NULL OR last_poll_at + poll_interval <= $1) RETURNING ",
            ciba_columns!()
        );
        let row: Option<CibaDbRow> = on_pool!(self.db, |pool| sqlx::query_as(SQL)
            .bind(now)
            .bind(auth_req_hash)
            .bind(client_id)
            .fetch_optional(pool)
            .await)?;
        if let Some(row) = row {
            return Ok(Poll::Found(Box::new(row.into())));
        }
        let sql = "SELECT expires_at FROM ciba_requests WHERE auth_req_hash = $1 AND client_id = $2";
        let found: Option<(i64,)> = on_pool!(self.db, |pool| sqlx::query_as(sql)
            .bind(auth_req_hash)
            .bind(client_id)
            .fetch_optional(pool)
            .await)?;
        Ok(match found {
            None => Poll::Unknown,
            Some((expires_at,)) if expires_at <= now => Poll::Expired,
            Some(_) => Poll::TooFast,
        })
    }

    /// Marks an approved request's tokens as issued (once): false when they were already.
    pub async fn issue_ciba(&self, id: &str) -> Result<bool, StorageError> {
        let sql = "UPDATE ciba_requests SET status = 'issued' WHERE id = $1 AND status = 'approved'";
        let done = on_pool!(self.db, |pool| sqlx::query(sql).bind(id).execute(pool).await.map(|r| r.rows_affected()))?;
        Ok(done == 1)
    }

    /// Slows a client down: CIBA §11 `slow_down` raises the interval for that request.
    pub async fn slow_ciba(&self, auth_req_hash: &str, by: i64) -> Result<(), StorageError> {
        let sql = "UPDATE ciba_requests SET poll_interval = poll_interval + $1 WHERE auth_req_hash = $2";
        on_pool!(self.db, |pool| sqlx::query(sql).bind(by).bind(auth_req_hash).execute(pool).await.map(|_| ()))?;
        Ok(())
    }
}
