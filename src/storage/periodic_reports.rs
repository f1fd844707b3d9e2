//! The stored monthly reports (`periodic_reports`): written once per month, read for download.

use super::{Db, StorageError, on_pool};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeriodicReportRow {
    /// `YYYY-MM`.
    pub period: String,
    pub from: i64,
    pub to: i64,
    pub created_at: i64,
    /// The report as JSON (the directory's `PeriodicReport`).
    pub content: String,
}

type Row = (String, i64, i64, i64, String);

const INSERT: &str = "INSERT INTO periodic_reports (period, period_from, period_to, created_at, content) \
     VALUES ($1, $2, $3, $4, $5) ON CONFLICT (period) DO NOTHING";
const GET: &str = "SELECT period, period_from, period_to, created_at, content FROM periodic_reports WHERE period = $1";
const LIST: &str = "SELECT period, period_from, period_to, created_at, '' FROM periodic_reports ORDER BY period DESC";

pub struct PeriodicReports<'a> {
    db: &'a Db,
}

impl<'a> PeriodicReports<'a> {
    pub(super) fn new(db: &'a Db) -> Self {
        Self { db }
    }

    /// Stores a month's report; `false` when that month has one already (kept as it was).
    pub async fn insert(&self, r: &PeriodicReportRow) -> Result<bool, StorageError> {
        let n = on_pool!(self.db, |pool| sqlx::query(INSERT)
            .bind(&r.period)
            .bind(r.from)
            .bind(r.to)
            .bind(r.created_at)
            .bind(&r.content)
            .execute(pool)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(n == 1)
    }

    pub async fn get(&self, period: &str) -> Result<Option<PeriodicReportRow>, StorageError> {
        let row: Option<Row> = on_pool!(self.db, |pool| sqlx::query_as(GET).bind(period).fetch_optional(pool).await)?;
        Ok(row.map(into))
    }

    /// Every stored report, newest month first, without its content.
    pub async fn list(&self) -> Result<Vec<PeriodicReportRow>, StorageError> {
        let rows: Vec<Row> = on_pool!(self.db, |pool| sqlx::query_as(LIST).fetch_all(pool).await)?;
        Ok(rows.into_iter().map(into).collect())
    }
}

fn into(r: Row) -> PeriodicReportRow {
    PeriodicReportRow { period: r.0, from: r.1, to: r.2, created_at: r.3, content: r.4 }
}
