//! The periodic (monthly) report the regulations ask each OPD to send to the Dinas and on to
//! the Bupati: usage per OPD and per application, and the regency's totals, for one calendar
//! month in the regency's time zone. Generated once per month (by the scheduler or on demand),
//! stored as it was, and kept for download (JSON, CSV, or a printable page rendered by `web`).

use serde::{Deserialize, Serialize};

use crate::domain::nip::Date;
use crate::storage::PeriodicReportRow;

use super::reports::{Period, ReportKind, ReportLine, quote};
use super::{Actor, DirectoryError, DirectoryService};

/// How long after a month's end its report may be made: events stamped before the end may
/// still be in another node's audit queue, and nodes' clocks differ a little.
pub const SETTLE_SECS: i64 = 30 * 60;

/// A calendar month, `YYYY-MM`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Month {
    pub year: u32,
    pub month: u32,
}

impl Month {
    pub fn parse(text: &str) -> Result<Self, DirectoryError> {
        let bad = || DirectoryError::invalid("month", "a month is YYYY-MM, e.g. 2026-11");
        let (y, m) = text.trim().split_once('-').ok_or_else(bad)?;
        if !(y.chars().chain(m.chars())).all(|c| c.is_ascii_digit()) {
            return Err(bad());
        }
        let (year, month) = (y.parse::<u32>().map_err(|_| bad())?, m.parse::<u32>().map_err(|_| bad())?);
        if y.len() != 4 || m.len() != 2 || !(1..=12).contains(&month) || year < 2000 {
            return Err(bad());
        }
        Ok(Self { year, month })
    }

    /// The month before the one `now` falls in, at `offset_hours` from UTC.
    pub fn last_complete(now: i64, offset_hours: i32) -> Self {
        let today = Date::from_unix(now + i64::from(offset_hours) * 3600);
        match today.month {
            1 => Self { year: today.year - 1, month: 12 },
            m => Self { year: today.year, month: m - 1 },
        }
    }

    /// `[first instant, first instant of the next month)` at `offset_hours` from UTC.
    pub fn bounds(self, offset_hours: i32) -> (i64, i64) {
        let next = if self.month == 12 { (self.year + 1, 1) } else { (self.year, self.month + 1) };
        let start = |year, month| Date { year, month, day: 1 }.to_unix() - i64::from(offset_hours) * 3600;
        (start(self.year, self.month), start(next.0, next.1))
    }

    pub fn label(self) -> String {
        format!("{:04}-{:02}", self.year, self.month)
    }
}

/// One row of a stored report: a unit (by code) or an application (by client_id).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PeriodicLine {
    pub key: String,
    pub name: String,
    pub active_users: i64,
    pub logins: i64,
    pub failures: i64,
    pub level_1: i64,
    pub level_2: i64,
    pub level_3: i64,
    pub level_4: i64,
}

impl From<&ReportLine> for PeriodicLine {
    fn from(l: &ReportLine) -> Self {
        let c = &l.counts;
        Self {
            key: l.key.clone(),
            name: l.name.clone(),
            active_users: c.active_users,
            logins: c.logins,
            failures: c.failures,
            level_1: c.level_1,
            level_2: c.level_2,
            level_3: c.level_3,
            level_4: c.level_4,
        }
    }
}

/// A month's report as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PeriodicReport {
    /// `YYYY-MM`.
    pub period: String,
    pub from: i64,
    pub to: i64,
    pub utc_offset_hours: i32,
    pub created_at: i64,
    /// Accounts in the directory when the report was made.
    pub accounts: i64,
    pub by_unit: Vec<PeriodicLine>,
    pub by_application: Vec<PeriodicLine>,
    /// The regency's totals (sums of `by_unit`; `active_users` counts each person once per
    /// unit they signed in from).
    pub totals: PeriodicLine,
}

/// A stored report, without its rows (the list).
#[derive(Debug, Clone, Serialize)]
pub struct PeriodicSummary {
    pub period: String,
    pub from: i64,
    pub to: i64,
    pub created_at: i64,
}

fn totals(lines: &[PeriodicLine]) -> PeriodicLine {
    let mut t = PeriodicLine { key: "TOTAL".into(), ..PeriodicLine::default() };
    for l in lines {
        t.active_users += l.active_users;
        t.logins += l.logins;
        t.failures += l.failures;
        t.level_1 += l.level_1;
        t.level_2 += l.level_2;
        t.level_3 += l.level_3;
        t.level_4 += l.level_4;
    }
    t
}

impl DirectoryService {
    /// Makes (once) and stores the report of `month`; the stored one when it exists. Office
    /// only; a month that has not ended yet is refused.
    pub async fn periodic_report_for(
        &self,
        actor: &Actor,
        month: Month,
        offset_hours: i32,
    ) -> Result<(PeriodicReport, bool), DirectoryError> {
        self.reach(actor).await?.require_office("make the periodic report")?;
        if let Some(row) = self.store.periodic_reports().get(&month.label()).await? {
            return Ok((decode(&row)?, false));
        }
        let (from, to) = month.bounds(offset_hours);
        if to + SETTLE_SECS > self.now() {
            let why = format!(
                "{} has not ended yet (a month is reported {} minutes after its end)",
                month.label(),
                SETTLE_SECS / 60
            );
            return Err(DirectoryError::invalid("month", why));
        }
        let period = Period { from, to };
        let by_unit: Vec<PeriodicLine> =
            self.report(actor, ReportKind::OrgUnit, period).await?.iter().map(PeriodicLine::from).collect();
        let by_application =
            self.report(actor, ReportKind::Application, period).await?.iter().map(PeriodicLine::from).collect();
        let report = PeriodicReport {
            period: month.label(),
            from,
            to,
            utc_offset_hours: offset_hours,
            created_at: self.now(),
            accounts: self.store.users().count().await?,
            totals: totals(&by_unit),
            by_unit,
            by_application,
        };
        let content = serde_json::to_string(&report).map_err(|e| DirectoryError::Unavailable(e.to_string()))?;
        let row = PeriodicReportRow { period: report.period.clone(), from, to, created_at: report.created_at, content };
        if !self.store.periodic_reports().insert(&row).await? {
            // Another node stored it meanwhile: theirs is the report.
            let stored = self.store.periodic_reports().get(&row.period).await?;
            return Ok((decode(&stored.ok_or(DirectoryError::NotFound("periodic report"))?)?, false));
        }
        Ok((report, true))
    }

    /// The stored reports, newest first. Office only.
    pub async fn periodic_reports(&self, actor: &Actor) -> Result<Vec<PeriodicSummary>, DirectoryError> {
        self.reach(actor).await?.require_office("read the periodic reports")?;
        let rows = self.store.periodic_reports().list().await?;
        Ok(rows
            .into_iter()
            .map(|r| PeriodicSummary { period: r.period, from: r.from, to: r.to, created_at: r.created_at })
            .collect())
    }

    /// One stored report. Office only.
    pub async fn periodic_report(&self, actor: &Actor, period: &str) -> Result<PeriodicReport, DirectoryError> {
        self.reach(actor).await?.require_office("read the periodic reports")?;
        let month = Month::parse(period)?;
        let row = self.store.periodic_reports().get(&month.label()).await?;
        decode(&row.ok_or(DirectoryError::NotFound("periodic report"))?)
    }
}

fn decode(row: &PeriodicReportRow) -> Result<PeriodicReport, DirectoryError> {
    serde_json::from_str(&row.content)
        .map_err(|e| DirectoryError::Storage(crate::storage::corrupt("periodic_reports", e)))
}

/// The report as CSV: the units, a blank line, the applications, then the totals.
pub fn periodic_csv(report: &PeriodicReport) -> String {
    let header = "section,key,name,active_users,logins,failures,level_1,level_2,level_3,level_4\r\n";
    let mut out = String::from(header);
    let sections = [("opd", &report.by_unit), ("application", &report.by_application)];
    for (section, lines) in sections {
        for l in lines.iter() {
            out.push_str(&line(section, l));
        }
    }
    out.push_str(&line("total", &report.totals));
    out
}

fn line(section: &str, l: &PeriodicLine) -> String {
    format!("{section},{}\r\n", csv_fields(l))
}

/// One row's fields (key, name, the counts), quoted for CSV: the same in every report.
pub(super) fn csv_fields(l: &PeriodicLine) -> String {
    let counts = [l.active_users, l.logins, l.failures, l.level_1, l.level_2, l.level_3, l.level_4];
    let counts: Vec<String> = counts.iter().map(i64::to_string).collect();
    format!("{},{},{}", quote(&l.key), quote(&l.name), counts.join(","))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn months_are_bounded_in_the_regencys_time_zone() {
        let nov = Month::parse("2026-11").unwrap();
        // 1 November 2026 00:00 WIB is 31 October 17:00 UTC.
        assert_eq!(nov.bounds(7), (1_793_466_000, 1_796_058_000));
        assert_eq!(Month::parse("2026-12").unwrap().bounds(0).1, Date { year: 2027, month: 1, day: 1 }.to_unix());
        assert_eq!(Month::last_complete(1_796_058_000, 7), nov, "the first instant of December (WIB)");
        assert_eq!(Month::last_complete(1_796_058_000 - 1, 7), Month { year: 2026, month: 10 });
        assert_eq!(Month::last_complete(Date { year: 2027, month: 1, day: 15 }.to_unix(), 7).label(), "2026-12");
        for bad in ["2026-13", "2026-1", "26-11", "2026/11", "1999-01", "", "2026-+1", "+026-11"] {
            assert!(Month::parse(bad).is_err(), "{bad}");
        }
    }
}
