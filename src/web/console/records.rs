//! The console's read-only pages: the audit log (filters, each event's detail, verifying the
//! chain) and the usage reports per OPD and per application (a chart, a table, CSV).

use super::{ConsoleGet, ConsolePost};
use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use crate::directory::{Period, ReportKind, report_csv};
use crate::storage::AuditRow;

use super::{Console, render};
use crate::web::account::format_time;
use crate::web::state::AppState;

#[derive(Debug, Default, Deserialize)]
pub(super) struct AuditQuery {
    #[serde(default)]
    days: Option<i64>,
    /// Only actions starting with this (`login`, `admin.user`, `signing`).
    #[serde(default)]
    action: Option<String>,
    #[serde(default)]
    outcome: Option<String>,
}

#[derive(Serialize)]
struct EventView {
    seq: i64,
    at: String,
    action: String,
    outcome: String,
    actor: String,
    target: String,
    client: String,
    level: Option<i64>,
    detail: String,
}

#[derive(Serialize)]
struct AuditView {
    events: Vec<EventView>,
    days: i64,
    action: String,
    outcome: String,
    notice: Option<&'static str>,
    error: Option<String>,
    verified: Option<String>,
}

fn days_of(days: Option<i64>) -> i64 {
    days.unwrap_or(7).clamp(1, 366)
}

pub(super) async fn audit(
    State(state): State<AppState>,
    ConsoleGet { c, lang }: ConsoleGet,
    Query(q): Query<AuditQuery>,
) -> Response {
    audit_page(&state, lang, &c, q, None).await
}

async fn audit_page(state: &AppState, lang: &str, c: &Console, q: AuditQuery, verified: Option<String>) -> Response {
    let now = state.oidc.now();
    let days = days_of(q.days);
    let action = q.action.unwrap_or_default().trim().to_owned();
    let outcome = q.outcome.unwrap_or_default().trim().to_owned();
    let (events, error) =
        match state.directory.audit_events(&c.actor, (now - days * 86_400, now + 1), None, Some(500)).await {
            Ok(page) => (page.items, None),
            Err(e) => (Vec::new(), Some(e.to_string())),
        };
    let wanted =
        |e: &AuditRow| e.event.action.starts_with(&action) && (outcome.is_empty() || e.event.outcome == outcome);
    let events = events
        .into_iter()
        .filter(wanted)
        .map(|e| EventView {
            seq: e.seq,
            at: format_time(e.event.at),
            action: e.event.action,
            outcome: e.event.outcome,
            actor: e.event.actor.unwrap_or_default(),
            target: e.event.target.unwrap_or_default(),
            client: e.event.client_id.unwrap_or_default(),
            level: e.event.level,
            detail: e.event.detail,
        })
        .collect();
    let view = AuditView { events, days, action, outcome, notice: None, error, verified };
    render(state, lang, c, StatusCode::OK, "console_audit.html", &view)
}

/// Walks the whole hash chain (the office only) and says what it found.
pub(super) async fn verify(State(state): State<AppState>, ConsolePost { c, f }: ConsolePost) -> Response {
    let lang = f.lang;
    let verified = match state.directory.verify_audit(&c.actor).await {
        Ok(report) if report.is_intact() => {
            format!("{}: {} (#{} {})", "OK", report.events, report.head_seq, report.head_hash)
        }
        Ok(report) => {
            let problems: Vec<String> = report.problems.iter().map(|p| format!("#{} {}", p.seq, p.reason)).collect();
            format!("BROKEN: {}", problems.join("; "))
        }
        Err(e) => e.to_string(),
    };
    audit_page(&state, lang, &c, AuditQuery::default(), Some(verified)).await
}

#[derive(Debug, Default, Deserialize)]
pub(super) struct ReportQuery {
    /// opd (default) or apps.
    #[serde(default)]
    kind: Option<String>,
    #[serde(default)]
    days: Option<i64>,
}

#[derive(Serialize)]
struct ReportBar {
    key: String,
    name: String,
    active_users: i64,
    logins: i64,
    failures: i64,
    width: i64,
    y: usize,
}

#[derive(Serialize)]
struct ReportView {
    kind: &'static str,
    days: i64,
    bars: Vec<ReportBar>,
    chart_height: usize,
    csv: String,
    notice: Option<&'static str>,
    error: Option<String>,
}

fn report_of(q: &ReportQuery) -> (&'static str, ReportKind, i64) {
    let days = q.days.unwrap_or(30).clamp(1, 366);
    match q.kind.as_deref() {
        Some("apps") => ("apps", ReportKind::Application, days),
        _ => ("opd", ReportKind::OrgUnit, days),
    }
}

pub(super) async fn reports(
    State(state): State<AppState>,
    ConsoleGet { c, lang }: ConsoleGet,
    Query(q): Query<ReportQuery>,
) -> Response {
    let (kind_name, kind, days) = report_of(&q);
    let now = state.oidc.now();
    let (lines, error) =
        match state.directory.report(&c.actor, kind, Period { from: now - days * 86_400, to: now + 1 }).await {
            Ok(lines) => (lines, None),
            Err(e) => (Vec::new(), Some(e.to_string())),
        };
    let most = lines.iter().map(|l| l.counts.logins).max().unwrap_or(0).max(1);
    let bars: Vec<ReportBar> = lines
        .into_iter()
        .enumerate()
        .map(|(i, l)| ReportBar {
            width: l.counts.logins * 300 / most,
            y: i * 24,
            key: l.key,
            name: l.name,
            active_users: l.counts.active_users,
            logins: l.counts.logins,
            failures: l.counts.failures,
        })
        .collect();
    let csv = format!("/admin/reports.csv?kind={kind_name}&days={days}");
    let view = ReportView { kind: kind_name, days, chart_height: bars.len() * 24 + 4, bars, csv, notice: None, error };
    render(&state, lang, &c, StatusCode::OK, "console_reports.html", &view)
}

/// The report as CSV, for the same administrator and period.
pub(super) async fn reports_csv(
    State(state): State<AppState>,
    ConsoleGet { c, .. }: ConsoleGet,
    Query(q): Query<ReportQuery>,
) -> Response {
    let (kind_name, kind, days) = report_of(&q);
    let now = state.oidc.now();
    match state.directory.report(&c.actor, kind, Period { from: now - days * 86_400, to: now + 1 }).await {
        Ok(lines) => {
            let disposition = format!("attachment; filename=\"pintu-{kind_name}-{days}d.csv\"");
            let headers = [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
                (header::CONTENT_DISPOSITION, disposition),
            ];
            (headers, report_csv(&lines)).into_response()
        }
        Err(e) => (StatusCode::UNPROCESSABLE_ENTITY, e.to_string()).into_response(),
    }
}
