//! The append-only, hash-chained audit log, and the reports derived from it. The chain hash
//! is computed by the caller (`audit`); storage only keeps the order: each batch reads the
//! head and appends after it inside one transaction, so no two writers fork the chain.

use serde::Serialize;

use crate::domain::OrgUnitId;

use super::{Db, StorageError, Tx, on_pool, on_tx, row_struct};

/// An event to append. `detail` is JSON text without secrets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NewAuditRow {
    pub at: i64,
    pub action: String,
    pub outcome: String,
    pub actor: Option<String>,
    pub target: Option<String>,
    pub org_unit_id: Option<String>,
    pub client_id: Option<String>,
    pub source_ip: Option<String>,
    pub level: Option<i64>,
    pub detail: String,
}

row_struct!(StoredRow {
    seq: i64,
    at: i64,
    action: String,
    outcome: String,
    actor: Option<String>,
    target: Option<String>,
    org_unit_id: Option<String>,
    client_id: Option<String>,
    source_ip: Option<String>,
    level: Option<i64>,
    detail: String,
    prev_hash: String,
    hash: String,
});

/// A stored event with its place in the chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditRow {
    pub seq: i64,
    #[serde(flatten)]
    pub event: NewAuditRow,
    pub prev_hash: String,
    pub hash: String,
}

impl From<StoredRow> for AuditRow {
    fn from(r: StoredRow) -> Self {
        AuditRow {
            seq: r.seq,
            event: NewAuditRow {
                at: r.at,
                action: r.action,
                outcome: r.outcome,
                actor: r.actor,
                target: r.target,
                org_unit_id: r.org_unit_id,
                client_id: r.client_id,
                source_ip: r.source_ip,
                level: r.level,
                detail: r.detail,
            },
            prev_hash: r.prev_hash,
            hash: r.hash,
        }
    }
}

/// Counts for one org unit or application over a period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReportRow {
    /// Org unit id or client id (presented by the directory as a code or name).
    #[serde(skip_serializing)]
    pub key: String,
    pub active_users: i64,
    pub logins: i64,
    pub failures: i64,
    pub level_1: i64,
    pub level_2: i64,
    pub level_3: i64,
    pub level_4: i64,
}

/// key, active users, logins, failures, levels 1-4.
type ReportTuple = (String, i64, i64, i64, i64, i64, i64, i64);

/// The hash of the (empty) chain's start.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

const COLUMNS: &str =
    "seq, at, action, outcome, actor, target, org_unit_id, client_id, source_ip, level, detail, prev_hash, hash";
const HEAD: &str = "SELECT seq, hash FROM audit_events ORDER BY seq DESC LIMIT 1";
const INSERT_MANY: &str = "INSERT INTO audit_events (seq, at, action, outcome, actor, target, org_unit_id, client_id, \
     source_ip, level, detail, prev_hash, hash) ";
/// Events per INSERT statement: 13 parameters each, far below SQLite's 32,766 and
/// PostgreSQL's 65,535 bound parameters.
const ROWS_PER_INSERT: usize = 256;
pub(super) const SUBTREE_CTE: &str = "WITH RECURSIVE down(id, depth) AS (SELECT id, 0 FROM org_units WHERE id = $3 \
     UNION ALL SELECT o.id, down.depth + 1 FROM org_units o JOIN down ON o.parent_id = down.id WHERE down.depth < 64) ";
/// Reports count `login` and `token.issued` events: the stored names of
/// `AuditAction::Login` and `AuditAction::TokenIssued` (pinned by `audit/action.rs`'s tests).
const REPORT_SUMS: &str = "COUNT(DISTINCT CASE WHEN outcome = 'success' THEN target END) AS active_users, \
     SUM(CASE WHEN action = 'login' AND outcome = 'success' THEN 1 ELSE 0 END) AS logins, \
     SUM(CASE WHEN action = 'login' AND outcome = 'failure' THEN 1 ELSE 0 END) AS failures, \
     SUM(CASE WHEN action = 'login' AND outcome = 'success' AND level = 1 THEN 1 ELSE 0 END) AS level_1, \
     SUM(CASE WHEN action = 'login' AND outcome = 'success' AND level = 2 THEN 1 ELSE 0 END) AS level_2, \
     SUM(CASE WHEN action = 'login' AND outcome = 'success' AND level = 3 THEN 1 ELSE 0 END) AS level_3, \
     SUM(CASE WHEN action = 'login' AND outcome = 'success' AND level = 4 THEN 1 ELSE 0 END) AS level_4";

/// What a report groups by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportBy {
    OrgUnit,
    Client,
}

pub struct AuditLog<'a> {
    db: &'a Db,
}

impl<'a> AuditLog<'a> {
    pub(super) fn new(db: &'a Db) -> Self {
        Self { db }
    }

    /// Appends `events` after the current head inside `tx`; `chain(prev_hash, seq, event)`
    /// gives each event's hash. Returns the new head (seq, hash).
    pub async fn append_in(
        &self,
        tx: &mut Tx,
        events: &[NewAuditRow],
        chain: impl Fn(&str, i64, &NewAuditRow) -> String,
    ) -> Result<(i64, String), StorageError> {
        self.append_after(tx, events, chain, None).await
    }

    /// As `append_in`, trusting `known_head` (the head this process wrote last) instead of
    /// reading it first: the first INSERT then also checks, in the same statement, that
    /// `known_head` is still the head, and writes nothing if not; only then is the head read.
    /// This saves a round trip per batch for the single writer of protocol events.
    pub async fn append_after(
        &self,
        tx: &mut Tx,
        events: &[NewAuditRow],
        chain: impl Fn(&str, i64, &NewAuditRow) -> String,
        known_head: Option<&(i64, String)>,
    ) -> Result<(i64, String), StorageError> {
        if let Tx::Postgres(t) = tx {
            // PostgreSQL: serialise appenders for the rest of this transaction (SQLite's
            // BEGIN IMMEDIATE already did). The key is an arbitrary constant naming this lock.
            sqlx::query("SELECT pg_advisory_xact_lock(7420001)").execute(&mut **t).await?;
        }
        if events.is_empty() {
            return Ok(match known_head {
                Some(head) => head.clone(),
                None => self.head_in(tx).await?,
            });
        }
        if let Some(head) = known_head {
            let (rows, next) = linked(head.clone(), events, &chain);
            let first = &rows[..rows.len().min(ROWS_PER_INSERT)];
            if insert_rows(tx, first, Some(head)).await? == first.len() as u64 {
                for chunk in rows[first.len()..].chunks(ROWS_PER_INSERT) {
                    insert_rows(tx, chunk, None).await?;
                }
                return Ok(next);
            }
        }
        let (rows, next) = linked(self.head_in(tx).await?, events, &chain);
        // A batch is a few multi-row INSERTs, not one statement per event: each statement is a
        // round trip to the database (for SQLite, to its connection's thread and back).
        for chunk in rows.chunks(ROWS_PER_INSERT) {
            insert_rows(tx, chunk, None).await?;
        }
        Ok(next)
    }

    async fn head_in(&self, tx: &mut Tx) -> Result<(i64, String), StorageError> {
        let head: Option<(i64, String)> = on_tx!(tx, |conn| sqlx::query_as(HEAD).fetch_optional(conn).await)?;
        Ok(head.unwrap_or((0, GENESIS.to_owned())))
    }

    /// Up to `limit` events after `after_seq`, in chain order.
    pub async fn page(&self, after_seq: i64, limit: i64) -> Result<Vec<AuditRow>, StorageError> {
        let sql = format!("SELECT {COLUMNS} FROM audit_events WHERE seq > $1 ORDER BY seq LIMIT $2");
        let rows: Vec<StoredRow> = on_pool!(self.db, |pool| sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
            .bind(after_seq)
            .bind(limit)
            .fetch_all(pool)
            .await)?;
        Ok(rows.into_iter().map(AuditRow::from).collect())
    }

    /// When the newest event named `action` happened, and its outcome.
    pub async fn latest(&self, action: &str) -> Result<Option<(i64, String)>, StorageError> {
        let sql = "SELECT at, outcome FROM audit_events WHERE action = $1 ORDER BY seq DESC LIMIT 1";
        let row: Option<(i64, String)> =
            on_pool!(self.db, |pool| sqlx::query_as(sql).bind(action).fetch_optional(pool).await)?;
        Ok(row)
    }

    /// The newest `limit` events whose target is `target` (a person's id: their sign-ins,
    /// the changes made to them), newest first.
    pub async fn about(&self, target: &str, limit: i64) -> Result<Vec<AuditRow>, StorageError> {
        let sql = format!("SELECT {COLUMNS} FROM audit_events WHERE target = $1 ORDER BY seq DESC LIMIT $2");
        let rows: Vec<StoredRow> = on_pool!(self.db, |pool| sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
            .bind(target)
            .bind(limit)
            .fetch_all(pool)
            .await)?;
        Ok(rows.into_iter().map(AuditRow::from).collect())
    }

    /// Events in `[from, to)` concerning `within`'s subtree (or all), newest first, before
    /// `before_seq`.
    pub async fn search(
        &self,
        period: (i64, i64),
        within: Option<&OrgUnitId>,
        before_seq: i64,
        limit: i64,
    ) -> Result<Vec<AuditRow>, StorageError> {
        let (cte, unit_filter) = match within {
            Some(_) => (SUBTREE_CTE, "AND org_unit_id IN (SELECT id FROM down)"),
            None => ("", "AND ($3 = '' OR TRUE)"),
        };
        let sql = format!(
            "{cte}SELECT {COLUMNS} FROM audit_events WHERE at >= $1 AND at < $2 {unit_filter} AND seq < $4 \
             ORDER BY seq DESC LIMIT $5"
        );
        let unit = within.map(OrgUnitId::as_str).unwrap_or("");
        let rows: Vec<StoredRow> = on_pool!(self.db, |pool| sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
            .bind(period.0)
            .bind(period.1)
            .bind(unit)
            .bind(before_seq)
            .bind(limit)
            .fetch_all(pool)
            .await)?;
        Ok(rows.into_iter().map(AuditRow::from).collect())
    }

    /// Logins, failures and levels per org unit or per application in `[from, to)`, limited to
    /// `within`'s subtree when given.
    pub async fn report(
        &self,
        period: (i64, i64),
        by: ReportBy,
        within: Option<&OrgUnitId>,
    ) -> Result<Vec<ReportRow>, StorageError> {
        let key = match by {
            ReportBy::OrgUnit => "org_unit_id",
            ReportBy::Client => "client_id",
        };
        let (cte, unit_filter) = match within {
            Some(_) => (SUBTREE_CTE, "AND org_unit_id IN (SELECT id FROM down)"),
            None => ("", "AND ($3 = '' OR TRUE)"),
        };
        let sql = format!(
            "{cte}SELECT COALESCE({key}, '') AS key, {REPORT_SUMS} FROM audit_events \
             WHERE at >= $1 AND at < $2 AND action IN ('login', 'token.issued') {unit_filter} \
             GROUP BY COALESCE({key}, '') ORDER BY 1"
        );
        let unit = within.map(OrgUnitId::as_str).unwrap_or("");
        let rows: Vec<ReportTuple> = on_pool!(self.db, |pool| sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
            .bind(period.0)
            .bind(period.1)
            .bind(unit)
            .fetch_all(pool)
            .await)?;
        Ok(rows
            .into_iter()
            .map(|r| ReportRow {
                key: r.0,
                active_users: r.1,
                logins: r.2,
                failures: r.3,
                level_1: r.4,
                level_2: r.5,
                level_3: r.6,
                level_4: r.7,
            })
            .collect())
    }
}

/// An event with its place in the chain: (seq, event, prev_hash, hash).
type Linked<'e> = (i64, &'e NewAuditRow, String, String);

/// Chains `events` after `head`; returns them with the new head.
fn linked<'e>(
    head: (i64, String),
    events: &'e [NewAuditRow],
    chain: &impl Fn(&str, i64, &NewAuditRow) -> String,
) -> (Vec<Linked<'e>>, (i64, String)) {
    let (mut seq, mut prev) = head;
    let mut rows = Vec::with_capacity(events.len());
    for e in events {
        seq += 1;
        let hash = chain(&prev, seq, e);
        rows.push((seq, e, std::mem::replace(&mut prev, hash.clone()), hash));
    }
    (rows, (seq, prev))
}

/// One multi-row INSERT. With `guard` (seq, hash), the rows are written only if that event is
/// still the newest (`INSERT … SELECT … WHERE`, all or nothing); returns the rows written.
async fn insert_rows(tx: &mut Tx, rows: &[Linked<'_>], guard: Option<&(i64, String)>) -> Result<u64, StorageError> {
    Ok(on_tx!(tx, |conn| {
        let mut insert = sqlx::QueryBuilder::new(INSERT_MANY);
        if guard.is_some() {
            insert.push("SELECT * FROM (");
        }
        insert.push_values(rows, |mut b, (seq, e, prev, hash)| {
            b.push_bind(*seq)
                .push_bind(e.at)
                .push_bind(e.action.as_str())
                .push_bind(e.outcome.as_str())
                .push_bind(e.actor.as_deref())
                .push_bind(e.target.as_deref())
                .push_bind(e.org_unit_id.as_deref())
                .push_bind(e.client_id.as_deref())
                .push_bind(e.source_ip.as_deref())
                .push_bind(e.level)
                .push_bind(e.detail.as_str())
                .push_bind(prev.as_str())
                .push_bind(hash.as_str());
        });
        if let Some((seq, hash)) = guard {
            // MAX(seq), not NOT EXISTS (… seq > $k): PostgreSQL's generic plan for a prepared
            // `seq > $k` is a sequential scan of the whole log (measured: client_credentials
            // on PostgreSQL halved); MAX reads the primary key's last entry in any plan.
            insert.push(") AS v WHERE (SELECT MAX(seq) FROM audit_events) = ").push_bind(*seq);
            insert.push(" AND (SELECT hash FROM audit_events WHERE seq = ").push_bind(*seq);
            insert.push(") = ").push_bind(hash.as_str());
        }
        insert.build().execute(conn).await.map(|r| r.rows_affected())
    })?)
}
