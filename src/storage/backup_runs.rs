//! The record of backups taken (`backup_runs`).

use super::{Db, StorageError, on_pool};

/// One backup, finished or failed.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct BackupRun {
    pub id: String,
    pub started_at: i64,
    pub finished_at: i64,
    /// `scheduled` or `command`.
    pub started_by: String,
    pub succeeded: bool,
    pub destination: String,
    pub bytes: i64,
    pub rows: i64,
    pub error: Option<String>,
}

const COLUMNS: &str = "id, started_at, finished_at, started_by, succeeded, destination, bytes, row_count, error";

type RunRow = (String, i64, i64, String, bool, String, i64, i64, Option<String>);

fn run(r: RunRow) -> BackupRun {
    BackupRun {
        id: r.0,
        started_at: r.1,
        finished_at: r.2,
        started_by: r.3,
        succeeded: r.4,
        destination: r.5,
        bytes: r.6,
        rows: r.7,
        error: r.8,
    }
}

pub struct BackupRuns<'a> {
    db: &'a Db,
}

impl<'a> BackupRuns<'a> {
    pub(super) fn new(db: &'a Db) -> Self {
        Self { db }
    }

    /// Records a run, and forgets runs that finished before `keep_after`.
    pub async fn record(&self, r: &BackupRun, keep_after: i64) -> Result<(), StorageError> {
        let insert = format!("INSERT INTO backup_runs ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)");
        let insert = sqlx::AssertSqlSafe(insert);
        on_pool!(self.db, |pool| sqlx::query(insert)
            .bind(&r.id)
            .bind(r.started_at)
            .bind(r.finished_at)
            .bind(&r.started_by)
            .bind(r.succeeded)
            .bind(&r.destination)
            .bind(r.bytes)
            .bind(r.rows)
            .bind(&r.error)
            .execute(pool)
            .await
            .map(|r| r.rows_affected()))?;
        let prune = "DELETE FROM backup_runs WHERE finished_at < $1";
        on_pool!(self.db, |pool| sqlx::query(prune).bind(keep_after).execute(pool).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// The latest run, and the latest that succeeded.
    pub async fn latest(&self) -> Result<(Option<BackupRun>, Option<BackupRun>), StorageError> {
        let any = format!("SELECT {COLUMNS} FROM backup_runs ORDER BY finished_at DESC, id DESC LIMIT 1");
        let ok = format!(
            "SELECT {COLUMNS} FROM backup_runs WHERE succeeded = TRUE ORDER BY finished_at DESC, id DESC LIMIT 1"
        );
        let (any, ok) = (sqlx::AssertSqlSafe(any), sqlx::AssertSqlSafe(ok));
        let last: Option<RunRow> = on_pool!(self.db, |pool| sqlx::query_as(any).fetch_optional(pool).await)?;
        let good: Option<RunRow> = on_pool!(self.db, |pool| sqlx::query_as(ok).fetch_optional(pool).await)?;
        Ok((last.map(run), good.map(run)))
    }
}
