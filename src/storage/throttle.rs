//! Login failure counters and lockouts (`login_throttle`), shared by every node.

use super::{Db, StorageError, on_pool};

const LOCKED_UNTIL: &str = "SELECT COALESCE(MAX(locked_until), 0), \
     COALESCE(SUM(CASE WHEN key = $1 THEN 1 ELSE 0 END), 0) FROM login_throttle WHERE key = $1 OR key = $2";
/// Counts a failure: a new window when the old one started before `$3`.
const FAIL: &str = "INSERT INTO login_throttle (key, failures, window_start, locked_until) VALUES ($1, 1, $2, 0) \
     ON CONFLICT (key) DO UPDATE SET \
     failures = CASE WHEN login_throttle.window_start < $3 THEN 1 ELSE login_throttle.failures + 1 END, \
     window_start = CASE WHEN login_throttle.window_start < $3 THEN $2 ELSE login_throttle.window_start END \
     RETURNING failures";
const LOCK: &str = "UPDATE login_throttle SET locked_until = $2 WHERE key = $1 AND locked_until < $2";
const CLEAR: &str = "DELETE FROM login_throttle WHERE key = $1";

pub struct Throttle<'a> {
    db: &'a Db,
}

impl<'a> Throttle<'a> {
    pub(super) fn new(db: &'a Db) -> Self {
        Self { db }
    }

    /// The later lock time of two keys (0 when neither is locked).
    /// How many counters (people, login names, addresses) are locked at `now`.
    pub async fn count_locked(&self, now: i64) -> Result<i64, StorageError> {
        let sql = "SELECT COUNT(*) FROM login_throttle WHERE locked_until > $1";
        let (n,): (i64,) = on_pool!(self.db, |pool| sqlx::query_as(sql).bind(now).fetch_one(pool).await)?;
        Ok(n)
    }

    pub async fn locked_until(&self, a: &str, b: &str) -> Result<i64, StorageError> {
        Ok(self.state(a, b).await?.0)
    }

    /// The later lock time of two keys, and whether `a` has a counter at all (so that a
    /// success need not write to clear one that is not there).
    pub async fn state(&self, a: &str, b: &str) -> Result<(i64, bool), StorageError> {
        let (until, counted): (i64, i64) =
            on_pool!(self.db, |pool| sqlx::query_as(LOCKED_UNTIL).bind(a).bind(b).fetch_one(pool).await)?;
        Ok((until, counted > 0))
    }

    /// Counts a failure for `key` in the window that started at or after `window_cutoff`;
    /// returns the failures in the current window.
    pub async fn record_failure(&self, key: &str, now: i64, window_cutoff: i64) -> Result<i64, StorageError> {
        let (n,): (i64,) = on_pool!(self.db, |pool| sqlx::query_as(FAIL)
            .bind(key)
            .bind(now)
            .bind(window_cutoff)
            .fetch_one(pool)
            .await)?;
        Ok(n)
    }

    pub async fn lock(&self, key: &str, until: i64) -> Result<(), StorageError> {
        on_pool!(self.db, |pool| sqlx::query(LOCK)
            .bind(key)
            .bind(until)
            .execute(pool)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(())
    }

    pub async fn clear(&self, key: &str) -> Result<(), StorageError> {
        on_pool!(self.db, |pool| sqlx::query(CLEAR).bind(key).execute(pool).await.map(|r| r.rows_affected()))?;
        Ok(())
    }
}
