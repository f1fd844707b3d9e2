//! Accounts that come from an external directory (`external_accounts`), the record of every
//! sync run (`sync_runs`), and the leases that keep a periodic job on one node (`job_leases`).

use crate::domain::UserId;

use super::db::on_tx;
use super::{Db, StorageError, Tx, on_pool};

/// The link between a Pintu account and the directory entry it comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExternalLink {
    pub user_id: UserId,
    /// `ldap:<directory name>`.
    pub source: String,
    /// The entry's stable id (entryUUID, objectGUID): a rename in the directory keeps it.
    pub external_id: String,
    /// The entry's distinguished name, as of the last sync (the bind that checks a password).
    pub dn: String,
    pub synced_at: i64,
}

type LinkRow = (String, String, String, String, i64);

const LINKS: &str = "SELECT user_id, source, external_id, dn, synced_at FROM external_accounts WHERE source = $1";
const COUNT_LINKS: &str = "SELECT COUNT(*) FROM external_accounts WHERE source = $1";
const LINK_OF: &str = "SELECT user_id, source, external_id, dn, synced_at FROM external_accounts WHERE user_id = $1";
const UPSERT: &str = "INSERT INTO external_accounts (user_id, source, external_id, dn, synced_at) \
     VALUES ($1, $2, $3, $4, $5) ON CONFLICT (user_id) DO UPDATE SET \
     source = excluded.source, external_id = excluded.external_id, dn = excluded.dn, synced_at = excluded.synced_at";

const RECORD_RUN: &str =
    "INSERT INTO sync_runs (id, source, started_at, finished_at, outcome, report) VALUES ($1, $2, $3, $4, $5, $6)";
const LATEST_RUN: &str = "SELECT id, source, started_at, finished_at, outcome, report FROM sync_runs \
     WHERE source = $1 ORDER BY started_at DESC, id DESC LIMIT 1";
const PRUNE_RUNS: &str = "DELETE FROM sync_runs WHERE source = $1 AND started_at < $2";

/// Takes the lease when it is free or has expired (whoever held it).
const TAKE_LEASE: &str = "INSERT INTO job_leases (name, holder, expires_at) VALUES ($1, $2, $3) \
     ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at \
     WHERE job_leases.expires_at <= $4";

/// One sync run as recorded: `report` is the run's JSON report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncRun {
    pub id: String,
    pub source: String,
    pub started_at: i64,
    pub finished_at: i64,
    /// `applied`, `dry-run`, `failed`.
    pub outcome: String,
    pub report: String,
}

type RunRow = (String, String, i64, i64, String, String);

pub struct ExternalAccounts<'a> {
    db: &'a Db,
}

impl<'a> ExternalAccounts<'a> {
    pub(super) fn new(db: &'a Db) -> Self {
        Self { db }
    }

    /// Every account linked to `source`.
    pub async fn links(&self, source: &str) -> Result<Vec<ExternalLink>, StorageError> {
        let rows: Vec<LinkRow> = on_pool!(self.db, |pool| sqlx::query_as(LINKS).bind(source).fetch_all(pool).await)?;
        Ok(rows.into_iter().map(link).collect())
    }

    /// How many accounts are linked to `source`.
    pub async fn count_links(&self, source: &str) -> Result<i64, StorageError> {
        let (n,): (i64,) = on_pool!(self.db, |pool| sqlx::query_as(COUNT_LINKS).bind(source).fetch_one(pool).await)?;
        Ok(n)
    }

    /// The directory entry `user` comes from, if any.
    pub async fn link_of(&self, user: &UserId) -> Result<Option<ExternalLink>, StorageError> {
        let row: Option<LinkRow> =
            on_pool!(self.db, |pool| sqlx::query_as(LINK_OF).bind(user.as_str()).fetch_optional(pool).await)?;
        Ok(row.map(link))
    }

    /// Links (or re-links) an account to its entry, inside the sync's transaction.
    pub async fn upsert_in(&self, tx: &mut Tx, l: &ExternalLink) -> Result<(), StorageError> {
        on_tx!(tx, |conn| sqlx::query(UPSERT)
            .bind(l.user_id.as_str())
            .bind(&l.source)
            .bind(&l.external_id)
            .bind(&l.dn)
            .bind(l.synced_at)
            .execute(conn)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Records a run, and forgets runs of the same source that started before `keep_after`.
    pub async fn record_run(&self, run: &SyncRun, keep_after: i64) -> Result<(), StorageError> {
        on_pool!(self.db, |pool| sqlx::query(RECORD_RUN)
            .bind(&run.id)
            .bind(&run.source)
            .bind(run.started_at)
            .bind(run.finished_at)
            .bind(&run.outcome)
            .bind(&run.report)
            .execute(pool)
            .await
            .map(|r| r.rows_affected()))?;
        on_pool!(self.db, |pool| sqlx::query(PRUNE_RUNS)
            .bind(&run.source)
            .bind(keep_after)
            .execute(pool)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// The latest run of `source`.
    pub async fn latest_run(&self, source: &str) -> Result<Option<SyncRun>, StorageError> {
        let row: Option<RunRow> =
            on_pool!(self.db, |pool| sqlx::query_as(LATEST_RUN).bind(source).fetch_optional(pool).await)?;
        Ok(row.map(|r| SyncRun { id: r.0, source: r.1, started_at: r.2, finished_at: r.3, outcome: r.4, report: r.5 }))
    }

    /// Takes the lease `name` for `holder` until `until`; `false` while any lease of that name
    /// (this holder's too) is unexpired at `now`.
    pub async fn take_lease(&self, name: &str, holder: &str, now: i64, until: i64) -> Result<bool, StorageError> {
        let taken = on_pool!(self.db, |pool| sqlx::query(TAKE_LEASE)
            .bind(name)
            .bind(holder)
            .bind(until)
            .bind(now)
            .execute(pool)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(taken == 1)
    }
}

fn link(r: LinkRow) -> ExternalLink {
    ExternalLink { user_id: UserId::new(r.0), source: r.1, external_id: r.2, dn: r.3, synced_at: r.4 }
}
