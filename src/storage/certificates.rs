//! Certificates bound to people (`certificates`): one row per certificate, never deleted; the
//! status keeps its history.

use super::{Db, StorageError, on_pool, row_struct, touched};

/// A certificate as stored. `der` and `chain` are base64 DER (the chain space-separated).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct CertificateRow {
    pub thumbprint: String,
    pub user_id: String,
    pub subject: String,
    pub issuer: String,
    pub serial: String,
    pub not_before: i64,
    pub not_after: i64,
    #[serde(skip)]
    pub der: String,
    #[serde(skip)]
    pub chain: String,
    /// pending, bound, replaced, revoked, expired, removed.
    pub status: String,
    pub identified_by: String,
    pub approved_by: Option<String>,
    /// tls, forwarded, remote: how possession was proven.
    pub proof: Option<String>,
    pub created_at: i64,
    pub bound_at: Option<i64>,
    pub ended_at: Option<i64>,
    pub end_reason: Option<String>,
    pub checked_at: Option<i64>,
    /// good, revoked, unknown, unavailable.
    pub check_result: Option<String>,
}

row_struct!(Row {
    thumbprint: String,
    user_id: String,
    subject: String,
    issuer: String,
    serial: String,
    not_before: i64,
    not_after: i64,
    der: String,
    chain: String,
    status: String,
    identified_by: String,
    approved_by: Option<String>,
    proof: Option<String>,
    created_at: i64,
    bound_at: Option<i64>,
    ended_at: Option<i64>,
    end_reason: Option<String>,
    checked_at: Option<i64>,
    check_result: Option<String>,
});

impl From<Row> for CertificateRow {
    fn from(r: Row) -> Self {
        Self {
            thumbprint: r.thumbprint,
            user_id: r.user_id,
            subject: r.subject,
            issuer: r.issuer,
            serial: r.serial,
            not_before: r.not_before,
            not_after: r.not_after,
            der: r.der,
            chain: r.chain,
            status: r.status,
            identified_by: r.identified_by,
            approved_by: r.approved_by,
            proof: r.proof,
            created_at: r.created_at,
            bound_at: r.bound_at,
            ended_at: r.ended_at,
            end_reason: r.end_reason,
            checked_at: r.checked_at,
            check_result: r.check_result,
        }
    }
}

const COLUMNS: &str = "thumbprint, user_id, subject, issuer, serial, not_before, not_after, der, chain, status, \
     identified_by, approved_by, proof, created_at, bound_at, ended_at, end_reason, checked_at, check_result";

/// One row of the per-OPD monitoring report: certificates of one status in one unit.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct CertificateCount {
    pub org_unit_id: Option<String>,
    pub status: String,
    /// Bound certificates whose validity ends within the window asked for.
    pub expiring: i64,
    pub count: i64,
}

/// People of each unit whose unit (or an ancestor) or a role demands level 4 and who hold no
/// usable certificate. The levels are those of `directory::person_required_level`.
const WITHOUT_CERTIFICATE: &str = "WITH RECURSIVE chain(unit_id, ancestor_id, depth) AS ( \
     SELECT id, id, 0 FROM org_units \
     UNION ALL SELECT chain.unit_id, o.parent_id, chain.depth + 1 FROM chain \
     JOIN org_units o ON o.id = chain.ancestor_id WHERE o.parent_id IS NOT NULL AND chain.depth < 64), \
     unit_level(unit_id, level) AS (SELECT c.unit_id, MAX(o.min_level) FROM chain c \
     JOIN org_units o ON o.id = c.ancestor_id GROUP BY c.unit_id) \
     SELECT u.org_unit_id, COUNT(*) FROM users u LEFT JOIN unit_level ul ON ul.unit_id = u.org_unit_id \
     WHERE u.disabled = FALSE AND (COALESCE(ul.level, 1) >= 4 OR EXISTS (SELECT 1 FROM role_grants g \
     JOIN roles r ON r.id = g.role_id WHERE g.user_id = u.id AND r.min_level >= 4 \
     AND (g.valid_from IS NULL OR g.valid_from <= $1) AND (g.valid_until IS NULL OR g.valid_until > $1))) \
     AND NOT EXISTS (SELECT 1 FROM certificates c WHERE c.user_id = u.id AND c.status = 'bound' \
     AND c.not_before <= $1 AND c.not_after > $1) \
     GROUP BY u.org_unit_id";

pub struct Certificates<'a> {
    db: &'a Db,
}

impl<'a> Certificates<'a> {
    pub(super) fn new(db: &'a Db) -> Self {
        Self { db }
    }

    /// Adds a certificate, or (the same certificate again, after it was removed or left
    /// pending) starts its binding over.
    pub async fn upsert_pending(&self, c: &CertificateRow) -> Result<(), StorageError> {
        let sql = format!(
            "INSERT INTO certificates ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, \
             $14, $15, $16, $17, $18, $19) ON CONFLICT (thumbprint) DO UPDATE SET status = excluded.status, \
             identified_by = excluded.identified_by, approved_by = excluded.approved_by, proof = NULL, \
             bound_at = NULL, ended_at = NULL, end_reason = NULL, chain = excluded.chain \
             WHERE certificates.user_id = excluded.user_id AND certificates.status IN ('pending', 'removed')"
        );
        let sql = sqlx::AssertSqlSafe(sql);
        let n = on_pool!(self.db, |pool| sqlx::query(sql)
            .bind(&c.thumbprint)
            .bind(&c.user_id)
            .bind(&c.subject)
            .bind(&c.issuer)
            .bind(&c.serial)
            .bind(c.not_before)
            .bind(c.not_after)
            .bind(&c.der)
            .bind(&c.chain)
            .bind(&c.status)
            .bind(&c.identified_by)
            .bind(&c.approved_by)
            .bind(&c.proof)
            .bind(c.created_at)
            .bind(c.bound_at)
            .bind(c.ended_at)
            .bind(&c.end_reason)
            .bind(c.checked_at)
            .bind(&c.check_result)
            .execute(pool)
            .await
            .map(|r| r.rows_affected()))?;
        if n == 0 {
            return Err(StorageError::Conflict { constraint: "certificates_pkey".into() });
        }
        Ok(())
    }

    pub async fn find(&self, thumbprint: &str) -> Result<Option<CertificateRow>, StorageError> {
        let sql = sqlx::AssertSqlSafe(format!("SELECT {COLUMNS} FROM certificates WHERE thumbprint = $1"));
        let row: Option<Row> =
            on_pool!(self.db, |pool| sqlx::query_as(sql).bind(thumbprint).fetch_optional(pool).await)?;
        Ok(row.map(Into::into))
    }

    /// A person's certificates, newest first.
    pub async fn for_user(&self, user_id: &str) -> Result<Vec<CertificateRow>, StorageError> {
        let sql = format!("SELECT {COLUMNS} FROM certificates WHERE user_id = $1 ORDER BY created_at DESC, thumbprint");
        let sql = sqlx::AssertSqlSafe(sql);
        let rows: Vec<Row> = on_pool!(self.db, |pool| sqlx::query_as(sql).bind(user_id).fetch_all(pool).await)?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    /// Every certificate with `status`, oldest check first (the revocation job), at most `limit`.
    pub async fn with_status(&self, status: &str, limit: i64) -> Result<Vec<CertificateRow>, StorageError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM certificates WHERE status = $1 \
             ORDER BY COALESCE(checked_at, 0), thumbprint LIMIT $2"
        );
        let sql = sqlx::AssertSqlSafe(sql);
        let rows: Vec<Row> =
            on_pool!(self.db, |pool| sqlx::query_as(sql).bind(status).bind(limit).fetch_all(pool).await)?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    /// Marks a pending certificate bound (possession proven) and, in the same statement order,
    /// nothing else; `Ok(false)` when it was not pending.
    pub async fn mark_bound(&self, thumbprint: &str, proof: &str, now: i64) -> Result<bool, StorageError> {
        let sql = "UPDATE certificates SET status = 'bound', proof = $2, bound_at = $3 \
                   WHERE thumbprint = $1 AND status = 'pending'";
        let n = on_pool!(self.db, |pool| sqlx::query(sql)
            .bind(thumbprint)
            .bind(proof)
            .bind(now)
            .execute(pool)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(n == 1)
    }

    /// Marks the person's other bound certificates with the same subject and issuer `replaced`
    /// (a renewed certificate took their place); returns how many.
    pub async fn replace_others(&self, kept: &CertificateRow, now: i64) -> Result<u64, StorageError> {
        let sql = "UPDATE certificates SET status = 'replaced', end_reason = $5, ended_at = $6 \
                   WHERE user_id = $1 AND subject = $2 AND issuer = $3 AND status = 'bound' AND thumbprint <> $4";
        let reason = format!("replaced by {}", kept.thumbprint);
        Ok(on_pool!(self.db, |pool| sqlx::query(sql)
            .bind(&kept.user_id)
            .bind(&kept.subject)
            .bind(&kept.issuer)
            .bind(&kept.thumbprint)
            .bind(&reason)
            .bind(now)
            .execute(pool)
            .await
            .map(|r| r.rows_affected()))?)
    }

    /// Ends a binding (`status`: replaced, revoked, expired, removed) with a reason.
    pub async fn end(&self, thumbprint: &str, status: &str, reason: &str, now: i64) -> Result<(), StorageError> {
        let sql = "UPDATE certificates SET status = $2, end_reason = $3, ended_at = $4 \
                   WHERE thumbprint = $1 AND status IN ('pending', 'bound')";
        let n = on_pool!(self.db, |pool| sqlx::query(sql)
            .bind(thumbprint)
            .bind(status)
            .bind(reason)
            .bind(now)
            .execute(pool)
            .await
            .map(|r| r.rows_affected()))?;
        touched(n)
    }

    /// Records a revocation check's result.
    pub async fn checked(&self, thumbprint: &str, result: &str, now: i64) -> Result<(), StorageError> {
        let sql = "UPDATE certificates SET checked_at = $2, check_result = $3 WHERE thumbprint = $1";
        on_pool!(self.db, |pool| sqlx::query(sql)
            .bind(thumbprint)
            .bind(now)
            .bind(result)
            .execute(pool)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Per unit, the people who must sign in at level 4 and hold no usable certificate.
    pub async fn people_without(&self, now: i64) -> Result<Vec<(Option<String>, i64)>, StorageError> {
        Ok(on_pool!(self.db, |pool| sqlx::query_as(WITHOUT_CERTIFICATE).bind(now).fetch_all(pool).await)?)
    }

    /// Bound certificates whose validity ended before `now` (the background check), at most `limit`.
    pub async fn bound_and_expired(&self, now: i64, limit: i64) -> Result<Vec<CertificateRow>, StorageError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM certificates WHERE status IN ('bound', 'pending') AND not_after <= $1 \
             ORDER BY not_after, thumbprint LIMIT $2"
        );
        let sql = sqlx::AssertSqlSafe(sql);
        let rows: Vec<Row> = on_pool!(self.db, |pool| sqlx::query_as(sql).bind(now).bind(limit).fetch_all(pool).await)?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    /// Counts per unit and status; `expiring` counts bound certificates whose validity ends
    /// before `expiring_before` (and after `now`).
    pub async fn counts_by_unit(&self, now: i64, expiring_before: i64) -> Result<Vec<CertificateCount>, StorageError> {
        let sql = "SELECT u.org_unit_id, c.status, \
                   SUM(CASE WHEN c.status = 'bound' AND c.not_after > $1 AND c.not_after <= $2 THEN 1 ELSE 0 END), \
                   COUNT(*) FROM certificates c JOIN users u ON u.id = c.user_id \
                   GROUP BY u.org_unit_id, c.status ORDER BY u.org_unit_id, c.status";
        let rows: Vec<(Option<String>, String, Option<i64>, i64)> =
            on_pool!(self.db, |pool| sqlx::query_as(sql).bind(now).bind(expiring_before).fetch_all(pool).await)?;
        Ok(rows
            .into_iter()
            .map(|(org_unit_id, status, expiring, count)| CertificateCount {
                org_unit_id,
                status,
                expiring: expiring.unwrap_or(0),
                count,
            })
            .collect())
    }
}
