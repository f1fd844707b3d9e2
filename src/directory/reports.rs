//! Usage reports per OPD and per application over a period, derived from the audit log:
//! active users, logins, failures and the security levels reached. An OPD administrator sees
//! their subtree only. `report_csv` renders the same rows for the periodic reports the
//! regulations require.

use serde::{Deserialize, Serialize};

use crate::audit::VerifyReport;
use crate::storage::{AuditRow, ReportBy, ReportRow};

use super::{Actor, DirectoryError, DirectoryService, Page};

/// `[from, to)` in unix seconds.
#[derive(Debug, Clone, Copy, Deserialize)]
pub struct Period {
    pub from: i64,
    pub to: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportKind {
    OrgUnit,
    Application,
}

#[derive(Debug, Clone, Serialize)]
pub struct ReportLine {
    /// Unit code or `client_id`; `-` for events without one.
    pub key: String,
    pub name: String,
    #[serde(flatten)]
    pub counts: ReportRow,
}

impl DirectoryService {
    pub async fn report(
        &self,
        actor: &Actor,
        kind: ReportKind,
        period: Period,
    ) -> Result<Vec<ReportLine>, DirectoryError> {
        if period.to <= period.from {
            return Err(DirectoryError::invalid("to", "the period must end after it starts"));
        }
        let reach = self.reach(actor).await?;
        let by = match kind {
            ReportKind::OrgUnit => ReportBy::OrgUnit,
            ReportKind::Application => ReportBy::Client,
        };
        let rows = self.store.audit().report((period.from, period.to), by, reach.root()).await?;
        let units = self.store.org_units().list().await?;
        let apps = match kind {
            ReportKind::Application => self.store.applications().list().await?,
            ReportKind::OrgUnit => Vec::new(),
        };
        Ok(rows
            .into_iter()
            .map(|counts| {
                let (key, name) = match kind {
                    ReportKind::OrgUnit => units
                        .iter()
                        .find(|u| u.id.as_str() == counts.key)
                        .map(|u| (u.code.clone(), u.name.clone()))
                        .unwrap_or_else(|| (counts.key.clone(), String::new())),
                    ReportKind::Application => {
                        // Audit events name an application by its OIDC client_id.
                        let app = apps.iter().find(|a| a.oidc().is_some_and(|o| o.client_id.as_str() == counts.key));
                        (counts.key.clone(), app.map(|a| a.name.clone()).unwrap_or_default())
                    }
                };
                let key = if key.is_empty() { "-".into() } else { key };
                ReportLine { key: key.clone(), name, counts: ReportRow { key, ..counts } }
            })
            .collect())
    }
}

impl DirectoryService {
    /// Audit events in `[from, to)`, newest first, within the actor's reach.
    pub async fn audit_events(
        &self,
        actor: &Actor,
        period: (i64, i64),
        cursor: Option<i64>,
        limit: Option<i64>,
    ) -> Result<Page<AuditRow>, DirectoryError> {
        let reach = self.reach(actor).await?;
        let limit = limit.unwrap_or(100);
        if !(1..=1000).contains(&limit) {
            return Err(DirectoryError::invalid("limit", "limit must be 1-1000"));
        }
        let before = cursor.unwrap_or(i64::MAX);
        let mut items = self.store.audit().search(period, reach.root(), before, limit + 1).await?;
        let next_cursor = if items.len() as i64 > limit {
            items.truncate(limit as usize);
            items.last().map(|e| e.seq.to_string())
        } else {
            None
        };
        Ok(Page { items, next_cursor })
    }

    /// The newest `limit` audit events about a person within reach: sign-ins, and every
    /// change made to them (roles granted and revoked, transfers, factors, status).
    pub async fn person_events(&self, actor: &Actor, id: &str, limit: i64) -> Result<Vec<AuditRow>, DirectoryError> {
        let reach = self.reach(actor).await?;
        let person = self.user_in_reach(&reach, id).await?;
        Ok(self.store.audit().about(person.id.as_str(), limit.clamp(1, 1000)).await?)
    }

    /// Walks the whole chain. Office only.
    pub async fn verify_audit(&self, actor: &Actor) -> Result<VerifyReport, DirectoryError> {
        self.reach(actor).await?.require_office("verify the audit log")?;
        Ok(self.audit.verify().await?)
    }
}

/// RFC 4180 CSV of a report, with a header line.
pub fn report_csv(lines: &[ReportLine]) -> String {
    let mut out = String::from("key,name,active_users,logins,failures,level_1,level_2,level_3,level_4\r\n");
    for l in lines {
        out.push_str(&super::periodic::csv_fields(&super::PeriodicLine::from(l)));
        out.push_str("\r\n");
    }
    out
}

/// One CSV field, safe for spreadsheets (`domain::text::csv_field`).
pub(super) fn quote(field: &str) -> String {
    crate::domain::text::csv_field(field)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_fields_are_quoted_and_formulas_defused() {
        assert_eq!(quote("a,b"), "\"a,b\"");
        assert_eq!(quote("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(quote("=SUM(A1)"), "'=SUM(A1)");
        assert_eq!(quote("-"), "-");
    }

    #[test]
    fn every_owasp_formula_start_is_neutralised() {
        for (field, neutral) in [
            ("=1+2", "'=1+2"),
            ("+1+2", "'+1+2"),
            ("-1+2", "'-1+2"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("\t=1+2", "'\t=1+2"),
            ("\r=1+2", "\"'\r=1+2\""),
            ("=HYPERLINK(\"http://x\",\"y\")", "\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\""),
        ] {
            assert_eq!(quote(field), neutral, "{field:?}");
        }
        assert_eq!(quote("Dinas -1"), "Dinas -1", "only the start matters");
    }
}
